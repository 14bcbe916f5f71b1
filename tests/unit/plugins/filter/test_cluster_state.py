# -*- coding: utf-8 -*-
"""cluster_state, follow_plan and slots_to_keep filters: live state from replication_info results."""
from __future__ import absolute_import, division, print_function

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.pgstream.replication.plugins.filter.cluster_state import cluster_state, follow_plan, slots_to_keep

__metaclass__ = type

TOPO = {'members': ['pg1', 'pg2', 'pg3', 'pg4'],
        'host': {'pg1': '10.0.0.1', 'pg2': '10.0.0.2', 'pg3': 'pg3.example', 'pg4': '10.0.0.4'}}


def primary(lsn='0/5000000', replicas=()):
    return {'reachable': True, 'in_recovery': False, 'timeline': 1, 'current_lsn': lsn,
            'replicas': [{'application_name': a, 'state': 'streaming'} for a in replicas],
            'settings': {'primary_conninfo': None}}


def standby(sender, lsn='0/5000000', status='streaming', conninfo_host=None, timeline=1):
    return {'reachable': True, 'in_recovery': True, 'timeline': timeline, 'receive_lsn': lsn, 'replay_lsn': lsn,
            'wal_receiver': {'status': status, 'sender_host': sender} if status else None,
            'settings': {'primary_conninfo': 'user=replicator passfile=/x host=%s port=5432' % (conninfo_host or sender)},
            'replicas': []}


def stopped(role='primary'):
    return {'reachable': False, 'role': role, 'in_recovery': None, 'timeline': 1}


HEALTHY = {'pg1': primary(replicas=['pg2', 'pg3']), 'pg2': standby('10.0.0.1'), 'pg3': standby('10.0.0.1'),
           'pg4': standby('pg3.example')}


@pytest.mark.parametrize('infos, expected', [
    (HEALTHY, {'pg1': ('primary', None), 'pg2': ('standby', 'pg1'), 'pg3': ('standby', 'pg1'), 'pg4': ('standby', 'pg3')}),
    ({'pg1': {'unreachable': True, 'msg': 'x'}, 'pg2': standby('10.0.0.1', status=None), 'pg3': stopped('standby'),
      'pg4': {'skipped': True}},
     {'pg1': ('unreachable', None), 'pg2': ('standby', None), 'pg3': ('stopped', None), 'pg4': ('unknown', None)}),
    # not contacted (failover.yml, -e fenced): whatever else the result holds
    ({'pg1': {'pgstream_fenced': True, 'unreachable': True}, 'pg2': standby('10.0.0.1', status=None),
      'pg3': standby('10.0.0.1', status=None), 'pg4': standby('pg3.example')},
     {'pg1': ('fenced', None), 'pg2': ('standby', None), 'pg3': ('standby', None), 'pg4': ('standby', 'pg3')}),
    ({'pg1': primary(), 'pg2': standby('10.9.9.9'), 'pg3': standby('pg1', status='stopping'), 'pg4': None},
     {'pg1': ('primary', None), 'pg2': ('standby', None), 'pg3': ('standby', None), 'pg4': ('unknown', None)}),
])
def test_states_and_upstreams(infos, expected):
    nodes = cluster_state(infos, TOPO)['nodes']
    assert dict((h, (n['state'], n['streaming_from'])) for h, n in nodes.items()) == expected


def test_configured_upstream_from_primary_conninfo_and_quoted_host():
    infos = dict(HEALTHY, pg2=standby(None, status=None, conninfo_host="'10.0.0.1'"))
    nodes = cluster_state(infos, TOPO)['nodes']
    assert nodes['pg2']['configured_upstream'] == 'pg1'
    assert nodes['pg4']['configured_upstream'] == 'pg3'


def test_primaries_table_and_lsn():
    state = cluster_state(dict(HEALTHY, pg3=primary('1/A0')), TOPO)
    assert state['primaries'] == ['pg1', 'pg3']
    assert state['table'][0].startswith('node | state')
    assert 'pg3 | primary | - | 1 | 1/A0' in state['table']
    assert state['nodes']['pg1']['replicas'] == ['pg2', 'pg3']
    assert 'pg3 | stopped (standby) | - | 1 | -' in cluster_state(dict(HEALTHY, pg3=stopped('standby')), TOPO)['table']
    fenced = cluster_state(dict(HEALTHY, pg1={'pgstream_fenced': True}), TOPO)
    assert 'pg1 | fenced (not contacted) | - | - | -' in fenced['table'] and fenced['primaries'] == []


def test_a_streaming_standby_shows_the_timeline_it_receives():
    # pg2's last restartpoint was on timeline 2, the primary is on 5 and pg2 streams it: the table said 2
    infos = dict(HEALTHY, pg1=dict(primary(replicas=['pg2', 'pg3']), timeline=5),
                 pg2=standby('10.0.0.1', timeline=2), pg3=standby(None, status=None, conninfo_host='10.0.0.1', timeline=2))
    infos['pg2']['wal_receiver']['received_tli'] = 5
    table = cluster_state(infos, TOPO)['table']
    assert 'pg2 | standby | pg1 | 5 | 0/5000000' in table
    # not streaming: its restartpoint's timeline is all there is
    assert 'pg3 | standby | - | 2 | 0/5000000' in table


def test_lost_slots_are_listed_and_named_in_the_table():
    topo = dict(TOPO, slot_name={'pg1': 'pgstream_pg1', 'pg2': 'pgstream_pg2', 'pg3': 'pgstream_pg3', 'pg4': 'pgstream_pg4'})
    slots = [{'slot_name': 'pgstream_pg2', 'wal_status': 'lost'}, {'slot_name': 'pgstream_pg3', 'wal_status': 'reserved'},
             {'slot_name': 'pgstream_gone', 'wal_status': 'lost'}, {'slot_name': 'pgstream_old', 'wal_status': None}]
    infos = dict(HEALTHY, pg1=dict(primary(replicas=['pg3']), replication_slots=slots),
                 pg2=standby('10.0.0.1', status=None))
    state = cluster_state(infos, topo)
    assert state['lost_slots'] == [{'on': 'pg1', 'slot_name': 'pgstream_pg2', 'member': 'pg2'},
                                   {'on': 'pg1', 'slot_name': 'pgstream_gone', 'member': None}]
    assert state['table'][-2:] == [
        'slot pgstream_pg2 on pg1 was invalidated (wal_status lost): pg2 cannot catch up through it; re-clone it '
        'with rejoin.yml -e node=pg2 -e allow_reclone=true',
        'slot pgstream_gone on pg1 was invalidated (wal_status lost)']
    healthy = cluster_state(HEALTHY, topo)
    assert healthy['lost_slots'] == [] and len(healthy['table']) == 5


def test_idle_slots_are_listed_with_the_wal_they_hold():
    topo = dict(TOPO, slot_name={'pg1': 'pgstream_pg1', 'pg2': 'pgstream_pg2', 'pg3': 'pgstream_pg3', 'pg4': 'pgstream_pg4'})
    slots = [{'slot_name': 'pgstream_pg2', 'active': False, 'restart_lsn': '0/2000000', 'wal_status': 'reserved'},
             {'slot_name': 'pgstream_pg3', 'active': True, 'restart_lsn': '0/5000000', 'wal_status': 'reserved'},
             {'slot_name': 'pgstream_pg4', 'active': False, 'restart_lsn': '0/1000000', 'wal_status': 'lost'},
             {'slot_name': 'cdc', 'active': False, 'restart_lsn': None, 'wal_status': None},
             {'slot_name': 'pgstream_pg1', 'active': None, 'restart_lsn': '0/1000000', 'wal_status': None}]
    pg1 = dict(primary('0/5000000', replicas=['pg3']), replication_slots=slots)
    pg1['settings'] = dict(pg1['settings'], max_slot_wal_keep_size=10240)
    state = cluster_state(dict(HEALTHY, pg1=pg1, pg2=standby('10.0.0.1', status=None)), topo)
    assert state['idle_slots'] == [{'on': 'pg1', 'slot_name': 'pgstream_pg2', 'member': 'pg2', 'held_mb': 48},
                                   {'on': 'pg1', 'slot_name': 'cdc', 'member': None, 'held_mb': None}]
    assert state['table'][-3:] == [
        'slot pgstream_pg4 on pg1 was invalidated (wal_status lost): pg4 cannot catch up through it; re-clone it '
        'with rejoin.yml -e node=pg4 -e allow_reclone=true',
        'slot pgstream_pg2 on pg1 is not in use (pg2 does not stream through it): it holds 48 MB of WAL; past '
        'max_slot_wal_keep_size (10240 MB) the server invalidates it',
        'slot cdc on pg1 is not in use: it holds no WAL']
    pg1['settings']['max_slot_wal_keep_size'] = -1
    assert cluster_state(dict(HEALTHY, pg1=pg1), topo)['table'][-2] == (
        'slot pgstream_pg2 on pg1 is not in use (pg2 does not stream through it): it holds 48 MB of WAL; nothing bounds '
        'it (max_slot_wal_keep_size -1)')
    # no setting in the result (before 13), or a stopped server: no limit named; nothing from a server that is down
    del pg1['settings']['max_slot_wal_keep_size']
    assert cluster_state(dict(HEALTHY, pg1=pg1), topo)['table'][-2].endswith('it holds 48 MB of WAL')
    assert cluster_state(dict(HEALTHY, pg1=dict(stopped(), replication_slots=slots)), topo)['idle_slots'] == []


def test_lost_data_directory():
    lost = dict(stopped(None), timeline=None, data_dir_error='data_dir /d does not exist or is not a directory')
    state = cluster_state(dict(HEALTHY, pg3=lost), TOPO)
    assert state['nodes']['pg3']['state'] == 'stopped'
    assert state['nodes']['pg3']['data_dir_error'] == lost['data_dir_error']
    assert 'pg3 | stopped (no data directory) | - | - | -' in state['table']
    assert state['nodes']['pg2']['data_dir_error'] is None


@pytest.mark.parametrize('info, expected', [
    (dict(stopped('standby'), controldata={'cluster_state': 'shut down in recovery'}), 'shut down in recovery'),
    (dict(stopped(), controldata={'cluster_state': 'in production'}), 'in production'),
    (dict(stopped(), controldata=None), None),
    (stopped(), None),
    # a server that answers is not described by its control file, even when replication_info read it
    (dict(primary(), controldata={'cluster_state': 'in production'}), None),
])
def test_cluster_state_of_a_stopped_server(info, expected):
    assert cluster_state(dict(HEALTHY, pg3=info), TOPO)['nodes']['pg3']['cluster_state'] == expected


@pytest.mark.parametrize('bad_infos, bad_topo', [([], TOPO), ({}, {'host': {}}), ({}, None)])
def test_bad_input(bad_infos, bad_topo):
    with pytest.raises(AnsibleFilterError):
        cluster_state(bad_infos, bad_topo)


@pytest.mark.parametrize('infos, target, expected', [
    # before a switchover: the old primary and its direct standbys; pg4 (cascading from pg3) stays
    (HEALTHY, 'pg2', {'old_primary': 'pg1', 'followers': ['pg1', 'pg3'], 'nothing_to_do': False}),
    # done: pg2 primary, everyone attached to a running member
    ({'pg1': standby('10.0.0.2'), 'pg2': primary(), 'pg3': standby('10.0.0.2'), 'pg4': standby('pg3.example')}, 'pg2',
     {'old_primary': '', 'followers': [], 'nothing_to_do': True}),
    # interrupted: pg2 promoted, pg1 stopped, pg3 lost its upstream
    ({'pg1': stopped(), 'pg2': primary(), 'pg3': standby('10.0.0.1', status=None), 'pg4': standby('pg3.example')}, 'pg2',
     {'old_primary': '', 'followers': ['pg1', 'pg3'], 'nothing_to_do': False}),
    # target still a standby and no running primary: everything not attached
    ({'pg1': stopped(), 'pg2': standby('10.0.0.1', status=None), 'pg3': standby('10.0.0.1', status=None),
      'pg4': standby('pg3.example')}, 'pg2',
     {'old_primary': '', 'followers': ['pg1', 'pg3'], 'nothing_to_do': False}),
])
def test_follow_plan(infos, target, expected):
    assert follow_plan(cluster_state(infos, TOPO), target) == expected


def test_follow_plan_unknown_member():
    with pytest.raises(AnsibleFilterError):
        follow_plan(cluster_state(HEALTHY, TOPO), 'pg9')


@pytest.mark.parametrize('value, expected', [
    ('ANY 1 (pg2, pg3)', 'ANY 1 (pg1, pg3)'),
    ('FIRST 2 (pg3, "PG2")', 'FIRST 2 (pg3, pg1)'),
    ('pg2, pg3', 'FIRST 1 (pg1, pg3)'),
    ('ANY 1 (pg1, pg2)', 'ANY 1 (pg1)'),
    ('*', 'FIRST 1 (*)'),
    ('', ''),
])
def test_sync_names_after_switchover(value, expected):
    from ansible_collections.pgstream.replication.plugins.filter.switchover_checks import sync_names_after_switchover
    assert sync_names_after_switchover(value, 'pg1', 'pg2') == expected


SLOT = dict((m, 'pgstream_' + m) for m in TOPO['members'])


def with_slots(info, *names):
    info = dict(info)
    info['replication_slots'] = [{'slot_name': n, 'slot_type': 'physical', 'active': False} for n in names]
    return info


@pytest.mark.parametrize('infos, host, leaving, expected', [
    # switchover pg1 -> pg2 with pg3 down: pg1 keeps pg3's slot (pg3 still points at pg1), not pg2's; a slot without the
    # prefix is not its business
    ({'pg1': with_slots(primary(replicas=['pg2']), 'pgstream_pg2', 'pgstream_pg3', 'other'), 'pg2': standby('10.0.0.1'),
      'pg3': stopped('standby'), 'pg4': standby('pg3.example', status=None)},
     'pg1', ['pg1', 'pg2'], ['pgstream_pg3']),
    # pg3 cut off (unreachable): the same
    ({'pg1': with_slots(primary(replicas=['pg2']), 'pgstream_pg2', 'pgstream_pg3'), 'pg2': standby('10.0.0.1'),
      'pg3': {'unreachable': True, 'msg': 'x'}, 'pg4': {'unreachable': True, 'msg': 'x'}},
     'pg1', ['pg1', 'pg2'], ['pgstream_pg3']),
    # switchover pg1 -> pg2 with pg3 following: every slot moves
    ({'pg1': with_slots(primary(replicas=['pg2', 'pg3']), 'pgstream_pg2', 'pgstream_pg3'), 'pg2': standby('10.0.0.1'),
      'pg3': standby('10.0.0.1'), 'pg4': standby('pg3.example')},
     'pg1', ['pg1', 'pg2', 'pg3'], []),
    # pg3 already streams from the target: its slot on the old primary (left by an earlier run) is stale
    ({'pg1': with_slots(primary(replicas=['pg2']), 'pgstream_pg2', 'pgstream_pg3'), 'pg2': standby('10.0.0.1'),
      'pg3': standby('10.0.0.2'), 'pg4': standby('pg3.example')},
     'pg1', ['pg1', 'pg2'], []),
    # a sibling keeps the slot of its cascading standby, drops its own stale slot of the old primary
    ({'pg1': primary(replicas=['pg2', 'pg3']), 'pg2': standby('10.0.0.1'),
      'pg3': with_slots(standby('10.0.0.1'), 'pgstream_pg4', 'pgstream_pg1'), 'pg4': standby('pg3.example')},
     'pg3', ['pg1', 'pg2', 'pg3'], ['pgstream_pg4']),
    # the slot of a member no longer in the inventory stays (a person may want it)
    ({'pg1': with_slots(primary(replicas=['pg2']), 'pgstream_gone'), 'pg2': standby('10.0.0.1'),
      'pg3': standby('10.0.0.1'), 'pg4': standby('pg3.example')},
     'pg1', ['pg1', 'pg2', 'pg3'], ['pgstream_gone']),
    # no result for the host: nothing
    ({'pg1': {'unreachable': True, 'msg': 'x'}, 'pg2': standby('10.0.0.1'), 'pg3': standby('10.0.0.1'),
      'pg4': standby('pg3.example')},
     'pg1', ['pg1', 'pg2'], []),
])
def test_slots_to_keep(infos, host, leaving, expected):
    assert slots_to_keep(cluster_state(infos, TOPO), infos, host, leaving, SLOT) == expected


@pytest.mark.parametrize('state, infos, slot_names', [
    ({}, {}, SLOT),
    ({'nodes': {}}, [], SLOT),
    ({'nodes': {}}, {}, None),
])
def test_slots_to_keep_bad_input(state, infos, slot_names):
    with pytest.raises(AnsibleFilterError):
        slots_to_keep(state, infos, 'pg1', [], slot_names)
