# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.pgstream.replication.plugins.modules import replication_slots
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.fake_pg import (
    FakePgError, FakeServer, SlotServer, run_module)

LOGIN_PASSWORD = 'L0gin-Secret'
slot = SlotServer.slot


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    sleeps = []
    monkeypatch.setattr(replication_slots.time, 'sleep', sleeps.append)
    return sleeps


def run(monkeypatch, server, check_mode=False, diff=False, **args):
    args.setdefault('slots', [])
    result = run_module(monkeypatch, replication_slots.main, server, args, check_mode=check_mode, diff=diff)
    assert LOGIN_PASSWORD not in result.everything()
    return result


def names(server):
    return sorted(server.slots)


# ---------------------------------------------------------------- argument validation

@pytest.mark.parametrize('args, messages', [
    (dict(slots=None), ['missing required arguments: slots']),
    (dict(drop_active='maybe'), ['drop_active']),
    (dict(immediately_reserve='often'), ['immediately_reserve']),
    (dict(ssl_mode='maybe'), ['value of ssl_mode must be one of']),
    (dict(prefix=''), ['prefix must be 1 to 63']),
    (dict(prefix='PgStream_'), ['prefix must be 1 to 63', "'PgStream_'"]),
    (dict(prefix='pg-stream'), ['prefix must be 1 to 63']),
    (dict(prefix='p' * 64), ['prefix must be 1 to 63']),
    (dict(slots=['pgstream_Pg2']), ["invalid slot names", "'pgstream_Pg2'"]),
    (dict(slots=['pgstream_pg-2', 'pgstream_ok', 'pgstream_a b']), ["invalid slot names", "'pgstream_pg-2', 'pgstream_a b'"]),
    (dict(slots=['pgstream_' + 'x' * 55]), ['invalid slot names', '1 to 63 characters']),
    (dict(slots=['']), ["invalid slot names", "''"]),
    (dict(slots=['pgstream_pg2', 'pgstream_pg3', 'pgstream_pg2', 'pgstream_pg2']), ["duplicate slot names: 'pgstream_pg2'"]),
    (dict(slots=['pg2', 'pgstream_pg3', 'other_pg4']),
     ["slot names without the prefix 'pgstream_'", "'pg2', 'other_pg4'"]),
    (dict(slots=['pgstream_pg2'], prefix='cascade_'), ["without the prefix 'cascade_'", "'pgstream_pg2'"]),
    # every problem in one message
    (dict(slots=['Bad', 'pgstream_x', 'pgstream_x']),
     ["invalid slot names", "'Bad'", "duplicate slot names: 'pgstream_x'", "without the prefix"]),
])
def test_bad_arguments_fail_without_touching_the_server(monkeypatch, args, messages):
    server = SlotServer()
    full = dict(slots=[])
    full.update(args)
    if full['slots'] is None:
        del full['slots']
    result = run_module(monkeypatch, replication_slots.main, server, full)
    assert result.failed
    for message in messages:
        assert message in result.result['msg']
    assert server.statements == [] and server.connect_kwargs == []


def test_63_character_name_is_valid(monkeypatch):
    name = 'pgstream_' + 'x' * 54
    server = SlotServer()
    result = run(monkeypatch, server, slots=[name])
    assert not result.failed and names(server) == [name]


def test_argument_spec_options():
    spec = replication_slots.argument_spec()
    assert spec['slots'] == dict(type='list', elements='str', required=True)
    assert spec['prefix']['default'] == 'pgstream_'
    assert spec['immediately_reserve']['default'] is True
    assert spec['drop_active']['default'] is False
    assert spec['login_password']['no_log'] is True


# ---------------------------------------------------------------- create / drop

def test_create_missing_then_unchanged(monkeypatch):
    server = SlotServer([slot('pgstream_pg2')])
    first = run(monkeypatch, server, slots=['pgstream_pg3', 'pgstream_pg2', 'pgstream_pg4'])
    assert not first.failed and first.result['changed']
    assert first.result['created'] == ['pgstream_pg3', 'pgstream_pg4']
    assert first.result['dropped'] == [] and first.result['kept_active'] == []
    assert first.result['queries'] == [
        "SELECT pg_create_physical_replication_slot('pgstream_pg3', true)",
        "SELECT pg_create_physical_replication_slot('pgstream_pg4', true)",
    ]
    assert server.mutations == first.result['queries']
    assert names(server) == ['pgstream_pg2', 'pgstream_pg3', 'pgstream_pg4']
    assert first.result['slots'] == [
        dict(slot_name=n, active=False, restart_lsn='0/3000148', wal_status='reserved')
        for n in ('pgstream_pg2', 'pgstream_pg3', 'pgstream_pg4')]
    assert first.warnings == []

    mutations = list(server.mutations)
    second = run(monkeypatch, server, slots=['pgstream_pg3', 'pgstream_pg2', 'pgstream_pg4'])
    assert not second.result['changed']
    assert second.result['queries'] == [] and second.result['created'] == [] and second.result['dropped'] == []
    assert server.mutations == mutations
    assert second.result['slots'] == first.result['slots']


def test_immediately_reserve_false(monkeypatch):
    server = SlotServer()
    result = run(monkeypatch, server, slots=['pgstream_pg2'], immediately_reserve=False)
    assert result.result['queries'] == ["SELECT pg_create_physical_replication_slot('pgstream_pg2', false)"]
    assert result.result['slots'] == [dict(slot_name='pgstream_pg2', active=False, restart_lsn=None, wal_status=None)]


def test_drop_stale_then_unchanged(monkeypatch):
    server = SlotServer([slot('pgstream_pg2'), slot('pgstream_pg3'), slot('pgstream_pg4')])
    result = run(monkeypatch, server, slots=['pgstream_pg3'])
    assert result.result['changed']
    assert result.result['dropped'] == ['pgstream_pg2', 'pgstream_pg4'] and result.result['created'] == []
    assert result.result['queries'] == ["SELECT pg_drop_replication_slot('pgstream_pg2')",
                                        "SELECT pg_drop_replication_slot('pgstream_pg4')"]
    assert names(server) == ['pgstream_pg3']
    assert [s['slot_name'] for s in result.result['slots']] == ['pgstream_pg3']
    assert not run(monkeypatch, server, slots=['pgstream_pg3']).result['changed']


def test_drops_before_creating(monkeypatch):
    """Dropping first frees max_replication_slots for the new ones."""
    server = SlotServer([slot('pgstream_old')])
    result = run(monkeypatch, server, slots=['pgstream_new'])
    assert result.result['queries'] == ["SELECT pg_drop_replication_slot('pgstream_old')",
                                        "SELECT pg_create_physical_replication_slot('pgstream_new', true)"]
    assert names(server) == ['pgstream_new']


def test_empty_list_drops_every_managed_physical_slot(monkeypatch):
    server = SlotServer([slot('pgstream_pg2'), slot('pgstream_pg3'), slot('manual'), slot('pgstream_cdc', slot_type='logical')])
    result = run(monkeypatch, server, slots=[])
    assert result.result['dropped'] == ['pgstream_pg2', 'pgstream_pg3']
    assert names(server) == ['manual', 'pgstream_cdc']
    assert result.result['slots'] == []


@pytest.mark.parametrize('existing', [
    slot('pg2'),                                  # no prefix, physical
    slot('pgstreampg2'),                          # almost the prefix
    slot('other_pgstream_pg2'),                   # prefix not at the start
    slot('pg_basebackup_1234', active_pid=77),    # someone else's, active
    slot('debezium', slot_type='logical'),        # no prefix, logical
])
def test_unprefixed_slots_are_never_touched(monkeypatch, existing):
    server = SlotServer([existing])
    result = run(monkeypatch, server, slots=['pgstream_pg2'], drop_active=True)
    assert result.result['created'] == ['pgstream_pg2'] and result.result['dropped'] == []
    assert server.slots[existing['slot_name']] == existing
    assert not any('pg_drop_replication_slot' in s or 'pg_terminate_backend' in s for s in server.statements)
    assert [s['slot_name'] for s in result.result['slots']] == ['pgstream_pg2']
    assert result.warnings == []


def test_prefixed_logical_slot_is_kept_with_warning(monkeypatch):
    server = SlotServer([slot('pgstream_cdc', slot_type='logical', active_pid=55), slot('pgstream_pg2')])
    result = run(monkeypatch, server, slots=['pgstream_pg2'], drop_active=True, diff=True)
    assert not result.result['changed'] and server.mutations == []
    assert 'pgstream_cdc' in server.slots
    assert len(result.warnings) == 1
    assert 'pgstream_cdc' in result.warnings[0] and 'logical slots are never dropped' in result.warnings[0]
    assert [s['slot_name'] for s in result.result['slots']] == ['pgstream_pg2']
    assert result.result['diff'] == dict(before=dict(slots=['pgstream_pg2'], lost=[]), after=dict(slots=['pgstream_pg2'], lost=[]))


def test_wanted_name_taken_by_a_logical_slot_fails(monkeypatch):
    server = SlotServer([slot('pgstream_pg2', slot_type='logical')])
    result = run(monkeypatch, server, slots=['pgstream_pg2', 'pgstream_pg3'])
    assert result.failed
    assert "'pgstream_pg2' exist as logical slots" in result.result['msg']
    assert server.mutations == [] and names(server) == ['pgstream_pg2']


def test_custom_prefix(monkeypatch):
    server = SlotServer([slot('pgstream_pg2'), slot('cascade_pg9')])
    result = run(monkeypatch, server, slots=['cascade_pg4'], prefix='cascade_')
    assert result.result['created'] == ['cascade_pg4'] and result.result['dropped'] == ['cascade_pg9']
    assert names(server) == ['cascade_pg4', 'pgstream_pg2']


# ---------------------------------------------------------------- active slots

def test_active_stale_slot_is_kept_with_warning(monkeypatch):
    server = SlotServer([slot('pgstream_pg2', active_pid=4242), slot('pgstream_pg3')])
    result = run(monkeypatch, server, slots=[])
    assert result.result['changed']  # pgstream_pg3 was dropped
    assert result.result['kept_active'] == ['pgstream_pg2'] and result.result['dropped'] == ['pgstream_pg3']
    assert names(server) == ['pgstream_pg2']
    assert server.slots['pgstream_pg2']['active_pid'] == 4242
    assert not any('pg_terminate_backend' in s for s in server.statements)
    assert len(result.warnings) == 1
    assert 'pgstream_pg2' in result.warnings[0] and 'pid 4242' in result.warnings[0]
    assert 'drop_active=true' in result.warnings[0]
    assert result.result['slots'] == [dict(slot_name='pgstream_pg2', active=True, restart_lsn='0/3000148',
                                           wal_status='reserved')]


def test_only_an_active_stale_slot_is_unchanged(monkeypatch):
    server = SlotServer([slot('pgstream_pg2', active_pid=4242)])
    result = run(monkeypatch, server, slots=[], diff=True)
    assert not result.result['changed'] and result.result['queries'] == []
    assert result.result['kept_active'] == ['pgstream_pg2']
    assert result.result['diff'] == dict(before=dict(slots=['pgstream_pg2'], lost=[]), after=dict(slots=['pgstream_pg2'], lost=[]))


@pytest.mark.parametrize('release_after', [0, 3])
def test_drop_active_terminates_then_drops(monkeypatch, no_sleep, release_after):
    server = SlotServer([slot('pgstream_pg2', active_pid=4242)], release_after=release_after)
    result = run(monkeypatch, server, slots=[], drop_active=True)
    assert not result.failed and result.result['changed']
    assert result.result['dropped'] == ['pgstream_pg2'] and result.result['kept_active'] == []
    assert result.result['queries'] == ['SELECT pg_terminate_backend(4242)',
                                        "SELECT pg_drop_replication_slot('pgstream_pg2')"]
    assert server.slots == {} and result.warnings == []
    assert len(no_sleep) == release_after + 1


def test_drop_active_terminates_a_reconnecting_walsender(monkeypatch):
    server = SlotServer([slot('pgstream_pg2', active_pid=4242)], reconnects=[4343])
    result = run(monkeypatch, server, slots=[], drop_active=True)
    assert result.result['queries'] == ['SELECT pg_terminate_backend(4242)', 'SELECT pg_terminate_backend(4343)',
                                        "SELECT pg_drop_replication_slot('pgstream_pg2')"]
    assert server.slots == {}


def test_drop_active_retries_when_the_standby_wins_the_race(monkeypatch):
    server = SlotServer([slot('pgstream_pg2', active_pid=4242)], drop_races=[4444])
    result = run(monkeypatch, server, slots=[], drop_active=True)
    assert not result.failed
    assert result.result['queries'] == ['SELECT pg_terminate_backend(4242)',
                                        "SELECT pg_drop_replication_slot('pgstream_pg2')",
                                        'SELECT pg_terminate_backend(4444)',
                                        "SELECT pg_drop_replication_slot('pgstream_pg2')"]
    assert server.slots == {}


def test_drop_active_gives_up_when_the_slot_stays_in_use(monkeypatch):
    server = SlotServer([slot('pgstream_pg2', active_pid=4242)], release_after=10 ** 6)
    result = run(monkeypatch, server, slots=[], drop_active=True)
    assert result.failed
    assert 'slot pgstream_pg2 is still in use' in result.result['msg']
    assert result.result['queries'] == ['SELECT pg_terminate_backend(4242)']
    assert 'pgstream_pg2' in server.slots


def test_drop_active_gives_up_after_repeated_races(monkeypatch):
    server = SlotServer([slot('pgstream_pg2', active_pid=1)], drop_races=[2, 3, 4])
    result = run(monkeypatch, server, slots=[], drop_active=True)
    assert result.failed and 'still in use' in result.result['msg']
    assert 'pgstream_pg2' in server.slots


# ---------------------------------------------------------------- invalidated slots (wal_status lost)

def lost(name, active_pid=None):
    """A slot the server invalidated: PostgreSQL 14 and later show no restart_lsn for it."""
    return slot(name, active_pid=active_pid, restart_lsn=None, wal_status='lost')


def test_lost_slot_is_recreated_then_unchanged(monkeypatch):
    server = SlotServer([lost('pgstream_pg2'), slot('pgstream_pg3')])
    first = run(monkeypatch, server, slots=['pgstream_pg2', 'pgstream_pg3', 'pgstream_pg4'])
    assert not first.failed and first.result['changed']
    assert first.result['recreated'] == ['pgstream_pg2'] and first.result['created'] == ['pgstream_pg4']
    assert first.result['dropped'] == []
    assert first.result['queries'] == [
        "SELECT pg_drop_replication_slot('pgstream_pg2')",
        "SELECT pg_create_physical_replication_slot('pgstream_pg2', true)",
        "SELECT pg_create_physical_replication_slot('pgstream_pg4', true)",
    ]
    assert server.slots['pgstream_pg2']['wal_status'] == 'reserved'
    assert [s['wal_status'] for s in first.result['slots']] == ['reserved'] * 3
    second = run(monkeypatch, server, slots=['pgstream_pg2', 'pgstream_pg3', 'pgstream_pg4'])
    assert not second.result['changed'] and second.result['recreated'] == [] and second.result['queries'] == []


def test_recreated_slot_keeps_immediately_reserve(monkeypatch):
    server = SlotServer([lost('pgstream_pg2')])
    result = run(monkeypatch, server, slots=['pgstream_pg2'], immediately_reserve=False)
    assert result.result['queries'][-1] == "SELECT pg_create_physical_replication_slot('pgstream_pg2', false)"


def test_active_lost_slot_is_kept_with_a_warning(monkeypatch):
    server = SlotServer([lost('pgstream_pg2', active_pid=4242)])
    result = run(monkeypatch, server, slots=['pgstream_pg2'])
    assert not result.failed and not result.result['changed']
    assert result.result['recreated'] == [] and server.mutations == []
    assert any('pgstream_pg2' in w and 'lost' in w and '4242' in w for w in result.warnings)


def test_lost_slot_that_is_not_listed_is_dropped_not_recreated(monkeypatch):
    server = SlotServer([lost('pgstream_pg2'), lost('manual')])
    result = run(monkeypatch, server, slots=[])
    assert result.result['dropped'] == ['pgstream_pg2'] and result.result['recreated'] == []
    assert names(server) == ['manual']


def test_lost_slot_in_check_and_diff_mode(monkeypatch):
    existing = [lost('pgstream_pg2'), slot('pgstream_pg3')]
    server = SlotServer(existing)
    result = run(monkeypatch, server, check_mode=True, diff=True, slots=['pgstream_pg2', 'pgstream_pg3'])
    assert result.result['changed'] and result.result['recreated'] == ['pgstream_pg2']
    assert server.mutations == [] and server.slots == dict((s['slot_name'], s) for s in existing)
    assert result.result['queries'] == ["SELECT pg_drop_replication_slot('pgstream_pg2')",
                                        "SELECT pg_create_physical_replication_slot('pgstream_pg2', true)"]
    assert result.result['slots'][0] == dict(slot_name='pgstream_pg2', active=False, restart_lsn=None, wal_status=None)
    assert result.result['diff'] == dict(before=dict(slots=['pgstream_pg2', 'pgstream_pg3'], lost=['pgstream_pg2']),
                                         after=dict(slots=['pgstream_pg2', 'pgstream_pg3'], lost=[]))


# ---------------------------------------------------------------- check and diff mode

@pytest.mark.parametrize('drop_active', [False, True])
def test_check_mode_runs_no_mutating_sql(monkeypatch, drop_active):
    existing = [slot('pgstream_pg2', active_pid=4242), slot('pgstream_pg3'), slot('pgstream_keep'), slot('manual')]
    server = SlotServer(existing)
    result = run(monkeypatch, server, check_mode=True, diff=True, slots=['pgstream_keep', 'pgstream_new'],
                 drop_active=drop_active)
    assert result.result['changed']
    assert server.mutations == []
    assert server.slots == dict((s['slot_name'], s) for s in existing)
    assert result.result['created'] == ['pgstream_new']
    expected = ["SELECT pg_drop_replication_slot('pgstream_pg3')",
                "SELECT pg_create_physical_replication_slot('pgstream_new', true)"]
    if drop_active:
        expected[:0] = ['SELECT pg_terminate_backend(4242)', "SELECT pg_drop_replication_slot('pgstream_pg2')"]
        assert result.result['dropped'] == ['pgstream_pg2', 'pgstream_pg3'] and result.result['kept_active'] == []
        after = ['pgstream_keep', 'pgstream_new']
    else:
        assert result.result['dropped'] == ['pgstream_pg3'] and result.result['kept_active'] == ['pgstream_pg2']
        assert any('pgstream_pg2' in w for w in result.warnings)
        after = ['pgstream_keep', 'pgstream_new', 'pgstream_pg2']
    assert result.result['queries'] == expected
    assert [s['slot_name'] for s in result.result['slots']] == after
    predicted = [s for s in result.result['slots'] if s['slot_name'] == 'pgstream_new'][0]
    assert predicted == dict(slot_name='pgstream_new', active=False, restart_lsn=None, wal_status=None)
    assert result.result['diff'] == dict(before=dict(slots=['pgstream_keep', 'pgstream_pg2', 'pgstream_pg3'], lost=[]),
                                         after=dict(slots=after, lost=[]))


def test_check_mode_unchanged(monkeypatch):
    server = SlotServer([slot('pgstream_pg2')])
    result = run(monkeypatch, server, check_mode=True, slots=['pgstream_pg2'])
    assert not result.result['changed'] and result.result['queries'] == []


def test_diff(monkeypatch):
    server = SlotServer([slot('pgstream_pg2'), slot('pgstream_pg3'), slot('manual')])
    result = run(monkeypatch, server, diff=True, slots=['pgstream_pg4', 'pgstream_pg2'])
    assert result.result['diff'] == dict(before=dict(slots=['pgstream_pg2', 'pgstream_pg3'], lost=[]),
                                         after=dict(slots=['pgstream_pg2', 'pgstream_pg4'], lost=[]))


def test_no_diff_key_without_diff_mode(monkeypatch):
    result = run(monkeypatch, SlotServer(), slots=['pgstream_pg2'])
    assert 'diff' not in result.result


# ---------------------------------------------------------------- versions

@pytest.mark.parametrize('version_num, has_wal_status', [(100023, False), (120017, False), (130013, True), (170002, True)])
def test_wal_status_only_where_the_server_has_it(monkeypatch, version_num, has_wal_status):
    server = SlotServer([slot('pgstream_pg2')], version_num=version_num)
    result = run(monkeypatch, server, slots=['pgstream_pg2', 'pgstream_pg3'])
    assert not result.failed, result.result.get('msg')
    for row in result.result['slots']:
        assert ('wal_status' in row) is has_wal_status
    assert names(server) == ['pgstream_pg2', 'pgstream_pg3']


def test_old_server_is_refused(monkeypatch):
    server = SlotServer(version_num=90624)
    result = run(monkeypatch, server, slots=['pgstream_pg2'])
    assert result.failed and result.result['msg'] == 'PostgreSQL 10 or later is required, the server is 9.6.24'
    assert server.mutations == []


# ---------------------------------------------------------------- errors

def test_connection_failure(monkeypatch):
    server = FakeServer(connect_error=FakePgError('connection refused, password %s rejected' % LOGIN_PASSWORD))
    result = run(monkeypatch, server, slots=['pgstream_pg2'], login_host='db1', login_port=5433,
                 login_password=LOGIN_PASSWORD)
    assert result.failed
    assert result.result['msg'].startswith('unable to connect to PostgreSQL as postgres@db1:5433/postgres')
    assert '********' in result.result['msg']


def test_create_error_is_reported_with_queries(monkeypatch):
    server = SlotServer(create_error=FakePgError('all replication slots are in use\nHINT:  Free one or increase '
                                                 'max_replication_slots.', pgcode='53400'))
    result = run(monkeypatch, server, slots=['pgstream_pg2'], login_password=LOGIN_PASSWORD)
    assert result.failed
    assert result.result['msg'].startswith('query failed: all replication slots are in use')
    assert 'max_replication_slots' in result.result['msg']
    assert result.result['queries'] == ["SELECT pg_create_physical_replication_slot('pgstream_pg2', true)"]


def test_insufficient_privilege_fails(monkeypatch):
    server = SlotServer([slot('pgstream_pg2')])
    server.add('pg_drop_replication_slot', FakePgError('must be superuser or replication role to use replication slots',
                                                       pgcode='42501'))
    result = run(monkeypatch, server, slots=[])
    assert result.failed and 'must be superuser or replication role' in result.result['msg']
    assert names(server) == ['pgstream_pg2']


def test_connection_is_closed_and_autocommit(monkeypatch):
    server = SlotServer()
    run(monkeypatch, server, slots=['pgstream_pg2'])
    assert server.connections and all(c.closed and c.autocommit for c in server.connections)
    assert server.connect_kwargs[0]['application_name'] == 'pgstream.replication'


def test_login_password_never_in_logs(monkeypatch):
    server = SlotServer([slot('pgstream_pg2', active_pid=1)])
    result = run(monkeypatch, server, slots=['pgstream_pg3'], drop_active=True, login_password=LOGIN_PASSWORD)
    assert not result.failed
    assert result.logs and 'NOT_LOGGING_PARAMETER' in result.logs[0]
    assert LOGIN_PASSWORD not in result.everything()
