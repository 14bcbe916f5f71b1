# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils.lsn import format_lsn, lsn_diff, parse_lsn


@pytest.mark.parametrize('text, value', [
    ('0/0', 0),
    ('0/1', 1),
    ('0/FFFFFFFF', 0xFFFFFFFF),
    ('1/0', 1 << 32),
    ('16/B374D848', (0x16 << 32) | 0xB374D848),
    ('16/b374d848', (0x16 << 32) | 0xB374D848),
    (' 0/3000028 ', 0x3000028),
    ('FFFFFFFF/FFFFFFFF', (1 << 64) - 1),
])
def test_parse_lsn(text, value):
    assert parse_lsn(text) == value


@pytest.mark.parametrize('bad', ['', '0', '/', '0/', '/0', 'G/0', '0/G', '123456789/0', '0/123456789', '1/2/3',
                                 '-1/0', None, 1.5, True, -1, 1 << 64, [1]])
def test_parse_lsn_rejects(bad):
    with pytest.raises(ValueError):
        parse_lsn(bad)


@pytest.mark.parametrize('value, text', [
    (0, '0/0'),
    (0x3000028, '0/3000028'),
    ((0x16 << 32) | 0xB374D848, '16/B374D848'),
    ('16/b374d848', '16/B374D848'),
])
def test_format_lsn(value, text):
    assert format_lsn(value) == text


@pytest.mark.parametrize('a, b, diff', [
    ('0/3000028', '0/3000000', 0x28),
    ('1/0', '0/FFFFFFFF', 1),
    ('0/0', '1/0', -(1 << 32)),
    (100, '0/10', 84),
    ('16/B374D848', '16/B374D848', 0),
])
def test_lsn_diff(a, b, diff):
    assert lsn_diff(a, b) == diff


def test_roundtrip():
    for value in (0, 1, 0xDEADBEEF, 0x123456789ABC, (1 << 64) - 1):
        assert parse_lsn(format_lsn(value)) == value
