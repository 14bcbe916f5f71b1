"""lsn_int / lsn_diff filters."""
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.pgstream.replication.plugins.filter.lsn import FilterModule, lsn_diff, lsn_int


@pytest.mark.parametrize('value, expected', [
    ('0/3000148', 0x3000148),
    ('16/B374D848', (0x16 << 32) | 0xB374D848),
    ('FFFFFFFF/FFFFFFFF', (1 << 64) - 1),
    (' 0/0 ', 0),
    (50331976, 50331976),
    (None, None),
])
def test_lsn_int(value, expected):
    assert lsn_int(value) == expected


@pytest.mark.parametrize('a, b, expected', [
    ('0/4000000', '0/3000000', 16777216),
    ('0/3000000', '0/4000000', -16777216),
    ('1/0', '0/FFFFFFFF', 1),
    ('0/3000148', 50331976, 0),
    (None, '0/3000148', None),
    ('0/3000148', None, None),
    (None, None, None),
])
def test_lsn_diff(a, b, expected):
    assert lsn_diff(a, b) == expected


@pytest.mark.parametrize('call', [
    lambda: lsn_int('3000148'), lambda: lsn_int(''), lambda: lsn_int(True), lambda: lsn_int(-1),
    lambda: lsn_int('1/2/3'), lambda: lsn_diff('0/1', 'x'), lambda: lsn_int([1]),
])
def test_invalid(call):
    with pytest.raises(AnsibleFilterError) as e:
        call()
    assert 'invalid LSN' in str(e.value) or 'out of range' in str(e.value)


def test_registered():
    assert set(FilterModule().filters()) == {'lsn_int', 'lsn_diff'}
