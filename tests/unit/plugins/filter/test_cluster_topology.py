# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from collections.abc import Mapping

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.pgstream.replication.plugins.filter.cluster_topology import (
    FilterModule, TopologyError, build_topology, quote_standby_name, slot_name_for)

P = {'pgstream_node_role': 'primary'}
S = {'pgstream_node_role': 'standby'}


def node(base, **kw):
    d = dict(base)
    d.update(kw)
    return d


def topo(hostvars, hosts=None):
    return build_topology(list(hostvars) if hosts is None else hosts, hostvars)


class StrictVars(Mapping):
    """Like Ansible's HostVars/HostVarsVars: a Mapping whose [] raises KeyError for missing keys, no dict methods."""

    def __init__(self, data):
        self._data = data

    def __getitem__(self, key):
        value = self._data[key]
        return StrictVars(value) if isinstance(value, dict) else value

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


# --- valid topologies ---------------------------------------------------------------------------------------------

CASCADE = {
    'db1': node(P, ansible_host='10.0.0.1'),
    'db2': node(S),
    'db3': node(S),
    'db4': node(S, pgstream_upstream='db3'),
    'db5': node(S, pgstream_upstream='db2'),
    'db0': node(S, pgstream_upstream='db4'),
}


def test_cascading_clone_order_depth_and_slots():
    t = topo(CASCADE)['main']
    assert t['primary'] == 'db1'
    # breadth-first from the primary, ties by name: db0 (depth 3) comes last despite its name
    assert t['members'] == ['db1', 'db2', 'db3', 'db5', 'db4', 'db0']
    assert t['standbys'] == t['members'][1:]
    assert t['upstream'] == {'db1': None, 'db2': 'db1', 'db3': 'db1', 'db4': 'db3', 'db5': 'db2', 'db0': 'db4'}
    assert t['depth'] == {'db1': 0, 'db2': 1, 'db3': 1, 'db4': 2, 'db5': 2, 'db0': 3}
    assert t['children'] == {'db1': ['db2', 'db3'], 'db2': ['db5'], 'db3': ['db4'], 'db4': ['db0'],
                             'db5': [], 'db0': []}
    assert t['slot_name'] == {'db1': 'pgstream_db1', 'db2': 'pgstream_db2', 'db3': 'pgstream_db3', 'db4': 'pgstream_db4',
                              'db5': 'pgstream_db5', 'db0': 'pgstream_db0'}
    assert t['slots_on'] == {'db1': ['pgstream_db2', 'pgstream_db3'], 'db2': ['pgstream_db5'],
                             'db3': ['pgstream_db4'], 'db4': ['pgstream_db0'], 'db5': [], 'db0': []}
    assert t['synchronous_standby_names'] == ''
    assert (t['sync_mode'], t['sync_count'], t['sync_candidates'], t['pg_major']) == ('off', 1, [], 15)


def test_result_is_plain_json():
    result = topo(CASCADE)
    assert json.loads(json.dumps(result)) == result


def test_input_order_and_duplicates_do_not_matter():
    hosts = ['db0', 'db5', 'db4', 'db3', 'db2', 'db1', 'db2']
    assert topo(CASCADE, hosts) == topo(CASCADE)


def test_several_clusters_in_one_inventory():
    hv = {
        'a1': node(P, pgstream_cluster='alpha', pgstream_pg_major=16),
        'a2': node(S, pgstream_cluster='alpha', pgstream_pg_major=16),
        'm1': node(P),
        'm2': node(S),
        'm3': node(S, pgstream_upstream='m2'),
        'b1': node(P, pgstream_cluster='beta', pgstream_pg_major=12, pgstream_sync_mode='any'),
        'b2': node(S, pgstream_cluster='beta', pgstream_pg_major=12, pgstream_sync_candidate=True),
    }
    result = topo(hv)
    assert sorted(result) == ['alpha', 'beta', 'main']
    assert result['alpha']['members'] == ['a1', 'a2'] and result['alpha']['pg_major'] == 16
    assert result['beta']['synchronous_standby_names'] == 'ANY 1 (b2)' and result['beta']['pg_major'] == 12
    assert result['main']['members'] == ['m1', 'm2', 'm3'] and result['main']['pg_major'] == 15


def test_same_hostname_pattern_in_two_clusters_checked_separately():
    # each cluster has exactly one primary, application names may repeat across clusters
    hv = {
        'x1': node(P, pgstream_cluster='x', pgstream_application_name='node1'),
        'y1': node(P, pgstream_cluster='y', pgstream_application_name='node1'),
    }
    assert topo(hv)['x']['application_name'] == {'x1': 'node1'}


@pytest.mark.parametrize('mode, count, candidates, expected, order', [
    # priority first (lower preferred), then hostname; hosts without priority after those with one
    ('first', 1, {'db2': {}, 'db3': {}}, 'FIRST 1 (db2, db3)', ['db2', 'db3']),
    ('first', 2, {'db2': {'pgstream_sync_priority': 2}, 'db3': {'pgstream_sync_priority': 1}},
     'FIRST 2 (db3, db2)', ['db3', 'db2']),
    ('first', 1, {'db2': {}, 'db3': {'pgstream_sync_priority': 5}, 'db4': {'pgstream_sync_priority': 5}},
     'FIRST 1 (db3, db4, db2)', ['db3', 'db4', 'db2']),
    ('any', 2, {'db2': {}, 'db3': {}, 'db4': {'pgstream_sync_priority': '1'}},
     'ANY 2 (db4, db2, db3)', ['db4', 'db2', 'db3']),
    ('FIRST'.lower(), '2', {'db2': {}, 'db3': {}}, 'FIRST 2 (db2, db3)', ['db2', 'db3']),
    ('off', 1, {'db2': {}, 'db3': {}}, '', ['db2', 'db3']),
    (False, 1, {'db2': {}}, '', ['db2']),  # unquoted YAML "off"
])
def test_synchronous_standby_names(mode, count, candidates, expected, order):
    hv = {'db1': node(P, pgstream_sync_mode=mode, pgstream_sync_count=count), 'db9': node(S)}
    for host, extra in candidates.items():
        hv[host] = node(S, pgstream_sync_candidate=True, **extra)
    t = topo(hv)['main']
    assert t['synchronous_standby_names'] == expected
    assert t['sync_candidates'] == order
    assert t['sync_mode'] == (mode or 'off')


def test_sync_candidate_accepts_ansible_booleans():
    hv = {'db1': node(P, pgstream_sync_mode='first'), 'db2': node(S, pgstream_sync_candidate='yes'),
          'db3': node(S, pgstream_sync_candidate='false')}
    assert topo(hv)['main']['sync_candidates'] == ['db2']


@pytest.mark.parametrize('name, quoted', [
    ('db2', 'db2'),
    ('_db_2', '_db_2'),
    ('DB2', '"DB2"'),
    ('2db', '"2db"'),
    ('db-2', '"db-2"'),
    ('first', '"first"'),
    ('any', '"any"'),
    ('firstone', 'firstone'),
    ('a"b', '"a""b"'),
    ('*', '"*"'),
])
def test_quote_standby_name(name, quoted):
    assert quote_standby_name(name) == quoted


def test_explicit_application_names_are_quoted_in_sync_names():
    hv = {'db1': node(P, pgstream_sync_mode='any', pgstream_sync_count=2),
          'db2': node(S, pgstream_sync_candidate=True, pgstream_application_name='Standby-A'),
          'db3': node(S, pgstream_sync_candidate=True, pgstream_application_name='first')}
    t = topo(hv)['main']
    assert t['synchronous_standby_names'] == 'ANY 2 ("Standby-A", "first")'
    assert t['slot_name'] == {'db1': 'pgstream_db1', 'db2': 'pgstream_standby_a', 'db3': 'pgstream_first'}


def test_default_application_names_and_slots():
    hv = {'pg-1.example.com': node(P), 'PG_2': node(S), 'pg3@dc': node(S)}
    t = topo(hv)['main']
    assert t['application_name'] == {'pg-1.example.com': 'pg_1_example_com', 'PG_2': 'PG_2', 'pg3@dc': 'pg3_dc'}
    assert t['slot_name'] == {'pg-1.example.com': 'pgstream_pg_1_example_com', 'PG_2': 'pgstream_pg_2',
                              'pg3@dc': 'pgstream_pg3_dc'}
    assert t['slots_on']['pg-1.example.com'] == ['pgstream_pg3_dc', 'pgstream_pg_2']


def test_slot_name_is_cut_to_63_chars():
    assert slot_name_for('x' * 80) == 'pgstream_' + 'x' * 54
    assert len(slot_name_for('x' * 80)) == 63


@pytest.mark.parametrize('extra, expected', [
    ({}, 'db2'),
    ({'ansible_host': '192.0.2.2'}, '192.0.2.2'),
    ({'pgstream_host': 'db2.repl.internal'}, 'db2.repl.internal'),
    ({'ansible_host': '192.0.2.2', 'pgstream_host': '10.1.0.2'}, '10.1.0.2'),
    ({'pgstream_host': None, 'ansible_host': '192.0.2.2'}, '192.0.2.2'),
])
def test_host_address(extra, expected):
    hv = {'db1': node(P), 'db2': node(S, **extra)}
    t = topo(hv)['main']
    assert t['host']['db2'] == expected
    assert t['host']['db1'] == 'db1'


def test_strict_mapping_like_hostvars():
    hv = StrictVars({'db1': node(P, ansible_host='h1', pgstream_sync_mode='first'),
                     'db2': node(S, pgstream_sync_candidate=True), 'db3': node(S, pgstream_upstream='db2')})
    t = topo(hv, ['db1', 'db2', 'db3'])['main']
    assert t['members'] == ['db1', 'db2', 'db3']
    assert t['host'] == {'db1': 'h1', 'db2': 'db2', 'db3': 'db3'}
    assert t['synchronous_standby_names'] == 'FIRST 1 (db2)'


def test_string_majors_accepted():
    hv = {'db1': node(P, pgstream_pg_major='17'), 'db2': node(S, pgstream_pg_major=17)}
    assert topo(hv)['main']['pg_major'] == 17


def test_filter_module_exposes_the_filter():
    f = FilterModule().filters()['cluster_topology']
    assert f(list(CASCADE), CASCADE) == topo(CASCADE)


# --- errors -------------------------------------------------------------------------------------------------------

ERRORS = [
    ('no primary', {'db1': node(S), 'db2': node(S)},
     ["cluster 'main': no primary among db1, db2"]),
    ('two primaries', {'db1': node(P), 'db2': node(P), 'db3': node(S)},
     ["cluster 'main': 2 primaries (db1, db2)"]),
    ('unknown role', {'db1': node(P), 'db2': node(S, pgstream_node_role='replica')},
     ["cluster 'main', host db2: unknown pgstream_node_role 'replica'"]),
    ('missing role', {'db1': node(P), 'db2': {}},
     ["cluster 'main', host db2: pgstream_node_role is not set"]),
    ('upstream in another cluster', {'db1': node(P), 'db2': node(S, pgstream_upstream='x1'),
                                     'x1': node(P, pgstream_cluster='x')},
     ["cluster 'main': standby db2 has pgstream_upstream x1, which is in cluster 'x'"]),
    ('upstream unknown host', {'db1': node(P), 'db2': node(S, pgstream_upstream='db9')},
     ["cluster 'main': standby db2 has pgstream_upstream db9, which is not in the host list"]),
    ('upstream is itself', {'db1': node(P), 'db2': node(S, pgstream_upstream='db2')},
     ["cluster 'main': standby db2 has itself as pgstream_upstream"]),
    ('cycle', {'db1': node(P), 'db2': node(S, pgstream_upstream='db3'), 'db3': node(S, pgstream_upstream='db2'),
               'db4': node(S, pgstream_upstream='db3')},
     ["cluster 'main': pgstream_upstream cycle db2 -> db3 -> db2 (db4 stream from it)"]),
    ('three-node cycle, printed from its smallest name',
     {'db1': node(P), 'db4': node(S, pgstream_upstream='db2'), 'db2': node(S, pgstream_upstream='db3'),
      'db3': node(S, pgstream_upstream='db4')},
     ['cycle db2 -> db3 -> db4 -> db2;']),
    ('primary with upstream', {'db1': node(P, pgstream_upstream='db2'), 'db2': node(S)},
     ["cluster 'main': primary db1 has pgstream_upstream db2; a primary has no upstream"]),
    ('major 9', {'db1': node(P, pgstream_pg_major=9)},
     ["cluster 'main', host db1: unsupported PostgreSQL major version pgstream_pg_major=9 (supported: 10 to 18)"]),
    ('major 19', {'db1': node(P, pgstream_pg_major=19)}, ['pgstream_pg_major=19']),
    ('major abc', {'db1': node(P, pgstream_pg_major='abc')}, ["pgstream_pg_major='abc'"]),
    ('major bool', {'db1': node(P, pgstream_pg_major=True)}, ['pgstream_pg_major=True']),
    ('mixed majors', {'db1': node(P, pgstream_pg_major=16), 'db2': node(S), 'db3': node(S, pgstream_pg_major=16)},
     ["cluster 'main': mixed PostgreSQL majors (15: db2; 16: db1, db3)"]),
    ('bad sync mode', {'db1': node(P, pgstream_sync_mode='quorum')},
     ["cluster 'main': primary db1 has pgstream_sync_mode 'quorum'; expected off, first or any"]),
    ('sync mode on (YAML true)', {'db1': node(P, pgstream_sync_mode=True)}, ['pgstream_sync_mode True']),
    ('sync count 0', {'db1': node(P, pgstream_sync_mode='first', pgstream_sync_count=0),
                      'db2': node(S, pgstream_sync_candidate=True)},
     ["primary db1 has pgstream_sync_count 0; expected an integer >= 1"]),
    ('sync count above candidates', {'db1': node(P, pgstream_sync_mode='any', pgstream_sync_count=3),
                                     'db2': node(S, pgstream_sync_candidate=True),
                                     'db3': node(S, pgstream_sync_candidate=True), 'db4': node(S)},
     ["cluster 'main': pgstream_sync_count is 3 but there are only 2 synchronous candidate(s) (db2, db3)"]),
    ('sync on without candidates', {'db1': node(P, pgstream_sync_mode='first'), 'db2': node(S)},
     ['pgstream_sync_count is 1 but there are only 0 synchronous candidate(s) (none)']),
    ('cascading candidate', {'db1': node(P, pgstream_sync_mode='first'), 'db2': node(S, pgstream_sync_candidate=True),
                             'db3': node(S, pgstream_upstream='db2', pgstream_sync_candidate=True)},
     ["cluster 'main': standby db3 is a pgstream_sync_candidate but streams from standby db2 (cascading)"]),
    ('bad priority', {'db1': node(P), 'db2': node(S, pgstream_sync_candidate=True, pgstream_sync_priority=0)},
     ["host db2: pgstream_sync_priority must be an integer >= 1, got 0"]),
    ('bad candidate flag', {'db1': node(P), 'db2': node(S, pgstream_sync_candidate='maybe')},
     ["host db2: pgstream_sync_candidate must be a boolean, got 'maybe'"]),
    ('duplicate default application names', {'db-1': node(P), 'db_1': node(S), 'db.1': node(S)},
     ["cluster 'main': hosts db-1, db.1, db_1 share the application_name (compared case-insensitively) 'db_1'"]),
    ('duplicate application names by case', {'db1': node(P), 'db2': node(S, pgstream_application_name='DB1')},
     ["hosts db1, db2 share the application_name"]),
    ('slot name clash', {'db1': node(P), 'db2': node(S, pgstream_application_name='a-b'),
                         'db3': node(S, pgstream_application_name='a.b')},
     ["cluster 'main': hosts db2, db3 share the replication slot name 'pgstream_a_b'"]),
    ('bad cluster name', {'db1': node(P, pgstream_cluster='')}, ['host db1: pgstream_cluster must be a non-empty']),
    ('host missing from hostvars', {'db1': node(P)}, ['host db7: not in hostvars']),
]


@pytest.mark.parametrize('hostvars, expected', [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(hostvars, expected):
    hosts = list(hostvars) + (['db7'] if 'not in hostvars' in expected[0] else [])
    with pytest.raises(AnsibleFilterError) as err:
        build_topology(hosts, hostvars)
    message = str(err.value)
    assert message.startswith('pgstream.replication.cluster_topology: ')
    for text in expected:
        assert text in message


def test_all_problems_in_one_message_across_clusters():
    hv = {
        'db1': node(P, pgstream_upstream='db2', pgstream_pg_major=16),
        'db2': node(S, pgstream_upstream='db3'),
        'db3': node(S, pgstream_upstream='db2'),
        'db4': node(S, pgstream_node_role='witness'),
        'x1': node(P, pgstream_cluster='x'),
        'x2': node(P, pgstream_cluster='x', pgstream_sync_mode='sometimes'),
        'y1': node(P, pgstream_cluster='y'),  # a valid cluster does not hide the others' problems
    }
    with pytest.raises(TopologyError) as err:
        topo(hv)
    problems = err.value.problems
    assert len(problems) == 5, problems
    text = str(err.value)
    assert '5 inventory problem(s)' in text
    for part in ("host db4: unknown pgstream_node_role 'witness'",
                 "cluster 'main': primary db1 has pgstream_upstream db2",
                 'cycle db2 -> db3 -> db2',
                 "cluster 'main': mixed PostgreSQL majors (15: db2, db3, db4; 16: db1)",
                 "cluster 'x': 2 primaries (x1, x2)"):
        assert part in text
    # one problem per line, for the reader
    assert text.count('\n  - ') == 5


@pytest.mark.parametrize('hosts', ['db1', None, 42])
def test_input_must_be_a_list(hosts):
    with pytest.raises(AnsibleFilterError, match='must be a list of inventory hostnames'):
        build_topology(hosts, {'db1': node(P)})
