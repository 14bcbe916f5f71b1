"""opengauss_failover_choice: the standby opengauss_failover.yml promotes, from the gsql reads of WAL positions."""
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.pgstream.replication.plugins.filter.opengauss_failover import FilterModule, opengauss_failover_choice


def read(stdout='', rc=0, stderr='', **extra):
    return dict(rc=rc, stdout=stdout, stderr=stderr, **extra)


EVEN = read('0/5000000|0/5000000')


@pytest.mark.parametrize('order, reads, kwargs, candidate, positions', [
    # ties: the order given (synchronous candidates first, then by name)
    (['pg3', 'pg2'], {'pg2': EVEN, 'pg3': EVEN}, {}, 'pg3', {'pg2': '0/5000000', 'pg3': '0/5000000'}),
    # the most WAL wins whatever the order
    (['pg2', 'pg3'], {'pg2': EVEN, 'pg3': read('0/5000001|0/5000000')}, {}, 'pg3', {'pg2': '0/5000000', 'pg3': '0/5000001'}),
    # received or replayed, whichever is greater; NULL (empty) is skipped
    (['pg2', 'pg3'], {'pg2': read('|0/6000000'), 'pg3': read('0/5FFFFFF|')}, {}, 'pg2', {'pg2': '0/6000000', 'pg3': '0/5FFFFFF'}),
    # numbers, not text: 0/A000000 is after 0/9000000
    (['pg2', 'pg3'], {'pg2': read('0/9000000|0/9000000'), 'pg3': read('0/A000000|0/A000000')}, {}, 'pg3',
     {'pg2': '0/9000000', 'pg3': '0/A000000'}),
    (['pg2', 'pg3'], {'pg2': read('1/0|1/0'), 'pg3': read('0/FFFFFFFF|0/FFFFFFFF')}, {}, 'pg2',
     {'pg2': '1/0', 'pg3': '0/FFFFFFFF'}),
    # a named standby level with the best is taken
    (['pg2', 'pg3'], {'pg2': EVEN, 'pg3': EVEN}, {'named': 'pg3'}, 'pg3', {'pg2': '0/5000000', 'pg3': '0/5000000'}),
    # forced: unknown positions come after the known ones
    (['pg2', 'pg3'], {'pg2': read(rc=2, stderr='no'), 'pg3': EVEN}, {'force': True}, 'pg3', {'pg2': None, 'pg3': '0/5000000'}),
    (['pg2', 'pg3'], {}, {'force': 'yes'}, 'pg2', {'pg2': None, 'pg3': None}),
    # a named standby that is not in the list is returned as named (the playbook refuses it: not a running standby)
    (['pg2'], {'pg2': EVEN}, {'named': 'pg9'}, 'pg9', {'pg2': '0/5000000'}),
    ([], {}, {}, None, {}),
])
def test_choice(order, reads, kwargs, candidate, positions):
    result = opengauss_failover_choice(order, reads, **kwargs)
    assert (result['candidate'], result['refused'], result['positions']) == (candidate, None, positions)


@pytest.mark.parametrize('order, reads, kwargs, refused', [
    (['pg2', 'pg3'], {'pg2': EVEN, 'pg3': read('0/5000100|0/5000000')}, {'named': 'pg2'},
     'pg2 has less WAL than pg3 (0/5000000 against 0/5000100, 256 bytes behind): promoting it would lose what only pg3 '
     'holds. Name pg3, or run again with -e force=true to fail over to pg2 anyway'),
    (['pg2', 'pg3'], {'pg2': EVEN, 'pg3': read(rc=2, stderr='psql: error: connection refused\n')}, {},
     'the WAL position of pg3 could not be read (pg3: gsql failed: psql: error: connection refused), so this run cannot '
     'tell which standby has the most WAL. Run again with -e force=true to fail over without it (with '
     '-e target=<standby> to choose)'),
    (['pg2', 'pg3'], {'pg2': read('garbage'), 'pg3': {'skipped': True}}, {'named': 'pg2'},
     "the WAL position of pg2, pg3 could not be read (pg2: gsql printed 'garbage', not WAL positions; pg3: not read), so "
     'this run cannot tell which standby has the most WAL. Run again with -e force=true to fail over without them '
     '(with -e target=<standby> to choose)'),
    (['pg2'], {'pg2': read('|')}, {},
     'the WAL position of pg2 could not be read (pg2: gsql printed no WAL position), so this run cannot tell which '
     'standby has the most WAL. Run again with -e force=true to fail over without it (with -e target=<standby> to choose)'),
    (['pg2'], {'pg2': read(failed=True, rc=None, msg='[Errno 2] No such file or directory: b\'gsql\'')}, {},
     "the WAL position of pg2 could not be read (pg2: gsql failed: [Errno 2] No such file or directory: b'gsql'), so "
     'this run cannot tell which standby has the most WAL. Run again with -e force=true to fail over without it (with '
     '-e target=<standby> to choose)'),
])
def test_refused(order, reads, kwargs, refused):
    assert opengauss_failover_choice(order, reads, **kwargs)['refused'] == refused


@pytest.mark.parametrize('args, kwargs, message', [
    (('pg2', {}), {}, 'the input must be the list of standby names'),
    ((['pg2'], []), {}, 'reads must map each standby'),
    ((['pg2'], {}), {'force': 'maybe'}, 'force must be a boolean'),
])
def test_bad_input(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        opengauss_failover_choice(*args, **kwargs)


def test_registered():
    assert FilterModule().filters()['opengauss_failover_choice'] is opengauss_failover_choice
