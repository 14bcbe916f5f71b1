# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.pgstream.replication.plugins.modules import replication_info
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.fake_pg import (
    FakePgError, FakeServer, run_module)

LOGIN_PASSWORD = 'L0gin-Secret'
CONNINFO_PASSWORD = 'Str3am-Secret'

SETTINGS = [
    dict(name='wal_log_hints', setting='on'),
    dict(name='data_checksums', setting='off'),
    dict(name='full_page_writes', setting='on'),
    dict(name='wal_level', setting='replica'),
    dict(name='synchronous_standby_names', setting='ANY 1 (pg2, pg3)'),
    dict(name='primary_conninfo', setting=''),
]
REPLICA = dict(application_name='pg2', client_addr='10.0.0.2', state='streaming', sync_state='quorum', sync_priority=1,
               sent_lsn='0/3000148', write_lsn='0/3000148', flush_lsn='0/3000100', replay_lsn='0/3000000',
               sent_lag_bytes=0, write_lag_bytes=0, flush_lag_bytes=72, replay_lag_bytes=328,
               write_lag=0.001, flush_lag=0.002, replay_lag=None)
SLOT = dict(slot_name='pg2', slot_type='physical', active=True, restart_lsn='0/3000148', wal_status='reserved')


def server_for(num=150004, in_recovery=False, settings=None, replicas=None, receiver=None, slots=None, extra=None):
    version = '%d.%d' % (num // 10000, num % 100)
    rules = list(extra or []) + [
        ('SELECT current_setting', [dict(server_version=version, server_version_num=num, in_recovery=in_recovery)]),
        ('FROM pg_control_system()', [dict(system_identifier='7441234567890123456')]),
        ('FROM pg_control_checkpoint()', [dict(timeline_id=3)]),
        ('SELECT pg_current_wal_lsn()', [dict(current_lsn='0/3000148')]),
        ('SELECT pg_last_wal_receive_lsn()', [dict(receive_lsn='0/5000000', replay_lsn='0/4000000', replay_paused=False)]),
        ('FROM pg_settings', SETTINGS if settings is None else settings),
        ('FROM pg_stat_replication', [REPLICA] if replicas is None else replicas),
        ('FROM pg_stat_wal_receiver', receiver or []),
        ('FROM pg_replication_slots', [SLOT] if slots is None else slots),
    ]
    return FakeServer(rules)


def run(monkeypatch, server, check_mode=False, **args):
    result = run_module(monkeypatch, replication_info.main, server, args, check_mode=check_mode)
    text = result.everything()
    assert LOGIN_PASSWORD not in text and CONNINFO_PASSWORD not in text
    if not result.failed:
        assert result.result['changed'] is False
    assert server.mutations == []
    return result


@pytest.mark.parametrize('check_mode', [False, True])
def test_primary(monkeypatch, check_mode):
    server = server_for()
    result = run(monkeypatch, server, check_mode=check_mode, login_password=LOGIN_PASSWORD)
    r = result.result
    assert not result.failed
    assert (r['reachable'], r['role'], r['in_recovery']) == (True, 'primary', False)
    assert (r['server_version'], r['server_version_num']) == ('15.4', 150004)
    assert (r['system_identifier'], r['timeline'], r['received_tli']) == ('7441234567890123456', 3, None)
    assert r['current_lsn'] == '0/3000148'
    assert (r['receive_lsn'], r['replay_lsn'], r['replay_paused']) == (None, None, None)
    assert r['settings'] == dict(wal_log_hints=True, data_checksums=False, full_page_writes=True, wal_level='replica',
                                 synchronous_standby_names='ANY 1 (pg2, pg3)', primary_conninfo='')
    assert r['can_rewind'] is True
    assert r['replicas'] == [REPLICA]
    assert r['wal_receiver'] is None
    assert r['replication_slots'] == [SLOT]
    assert r['controldata'] is None
    assert 'queries' not in r
    replicas_sql = [s for s in server.statements if 'FROM pg_stat_replication' in s][0]
    assert 'pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)' in replicas_sql


def test_standby(monkeypatch):
    receiver = [dict(status='streaming', slot_name='pg2', received_tli=3, latest_end_lsn='0/5000000',
                     conninfo='user=replicator password=%s host=pg1 port=5432' % CONNINFO_PASSWORD,
                     sender_host='pg1', sender_port=5432, flushed_lsn='0/5000000')]
    settings = [dict(s) for s in SETTINGS]
    settings[-1]['setting'] = "host=pg1 user=replicator password='%s' application_name=pg2" % CONNINFO_PASSWORD
    server = server_for(in_recovery=True, settings=settings, replicas=[], receiver=receiver, slots=[])
    r = run(monkeypatch, server).result
    assert (r['role'], r['in_recovery'], r['current_lsn']) == ('standby', True, None)
    assert (r['receive_lsn'], r['replay_lsn'], r['replay_paused']) == ('0/5000000', '0/4000000', False)
    assert (r['timeline'], r['received_tli']) == (3, 3)
    assert r['wal_receiver']['conninfo'] == 'user=replicator password=******** host=pg1 port=5432'
    assert r['wal_receiver']['sender_host'] == 'pg1' and r['wal_receiver']['flushed_lsn'] == '0/5000000'
    assert r['settings']['primary_conninfo'] == 'host=pg1 user=replicator password=******** application_name=pg2'
    assert r['replicas'] == [] and r['replication_slots'] == []
    assert not any('pg_current_wal_lsn' in s for s in server.statements)
    replicas_sql = [s for s in server.statements if 'FROM pg_stat_replication' in s][0]
    assert 'COALESCE(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())' in replicas_sql


@pytest.mark.parametrize('num, receiver_cols, absent_cols, slot_col', [
    (100023, ['received_lsn::text AS flushed_lsn', 'NULL::text AS sender_host', 'NULL::int AS sender_port'],
     ['flushed_lsn::text AS flushed_lsn'], 'NULL::text AS wal_status'),
    (110022, ['received_lsn::text AS flushed_lsn', 'sender_host', 'sender_port'],
     ['NULL::text AS sender_host'], 'NULL::text AS wal_status'),
    (120022, ['received_lsn::text AS flushed_lsn'], ['NULL::text AS sender_host'], 'NULL::text AS wal_status'),
    (130018, ['flushed_lsn::text AS flushed_lsn', 'sender_host'], ['received_lsn'], ', wal_status FROM'),
    (170002, ['flushed_lsn::text AS flushed_lsn', 'sender_host'], ['received_lsn'], ', wal_status FROM'),
])
def test_version_guards(monkeypatch, num, receiver_cols, absent_cols, slot_col):
    server = server_for(num=num, in_recovery=True, replicas=[])
    r = run(monkeypatch, server).result
    assert r['server_version_num'] == num
    receiver_sql = [s for s in server.statements if 'pg_stat_wal_receiver' in s][0]
    slots_sql = [s for s in server.statements if 'pg_replication_slots' in s][0]
    for col in receiver_cols:
        assert col in receiver_sql
    for col in absent_cols:
        assert col not in receiver_sql
    assert slot_col in slots_sql


def test_pg10_without_primary_conninfo_setting(monkeypatch):
    server = server_for(num=100023, settings=SETTINGS[:5])
    r = run(monkeypatch, server).result
    assert r['settings']['primary_conninfo'] is None


def test_too_old(monkeypatch):
    server = server_for(num=90624)
    result = run(monkeypatch, server)
    assert result.failed and 'PostgreSQL 10 or later' in result.result['msg']


@pytest.mark.parametrize('hints, checksums, fpw, expected', [
    ('on', 'off', 'on', True), ('off', 'on', 'on', True), ('off', 'off', 'on', False), ('on', 'on', 'off', False),
])
def test_can_rewind(monkeypatch, hints, checksums, fpw, expected):
    settings = [dict(name='wal_log_hints', setting=hints), dict(name='data_checksums', setting=checksums),
                dict(name='full_page_writes', setting=fpw)]
    assert run(monkeypatch, server_for(settings=settings)).result['can_rewind'] is expected


def test_can_rewind_unknown_when_settings_hidden():
    assert replication_info.can_rewind(None, None, True) is None
    assert replication_info.can_rewind(True, None, None) is None


def test_insufficient_privilege_section_warns(monkeypatch):
    server = server_for(extra=[('FROM pg_replication_slots', FakePgError('permission denied', pgcode='42501'))])
    result = run(monkeypatch, server)
    assert not result.failed
    assert result.result['replication_slots'] == []
    assert any('replication slots not gathered' in w for w in result.warnings)


def test_query_error_fails(monkeypatch):
    server = server_for(extra=[('FROM pg_stat_replication', FakePgError('column "sent_lsn" does not exist', pgcode='42703'))])
    result = run(monkeypatch, server, login_password=LOGIN_PASSWORD)
    assert result.failed and result.result['msg'] == 'query failed: column "sent_lsn" does not exist'


def test_unreachable_without_data_dir_fails(monkeypatch):
    server = FakeServer(connect_error=FakePgError('could not connect to server'))
    result = run(monkeypatch, server, login_host='pg9', login_password=LOGIN_PASSWORD)
    assert result.failed and 'postgres@pg9:5432/postgres' in result.result['msg']


CONTROLDATA = dict(system_identifier='7441234567890123456', cluster_state='shut down in recovery', timeline=2,
                   checkpoint_lsn='0/2000060', redo_lsn='0/2000028', min_recovery_end_lsn='0/3000000',
                   wal_log_hints=False, data_checksums=True, full_page_writes=True, raw={})


@pytest.fixture
def controldata(monkeypatch, tmp_path):
    calls = []

    def read(module, data_dir, bindir):
        calls.append((data_dir, bindir))
        return dict(CONTROLDATA, **calls_state.get('override', {})) if calls_state.get('present', True) else None
    calls_state = {}
    monkeypatch.setattr(replication_info.controldata, 'read', read)
    monkeypatch.setattr(replication_info.version, 'find_bindir', lambda module, major=None, bindir=None: bindir or '/usr/lib/postgresql/%s/bin' % major)
    (tmp_path / 'PG_VERSION').write_text('15\n')
    return dict(calls=calls, state=calls_state, data_dir=str(tmp_path))


@pytest.mark.parametrize('state, marker, role', [
    ('shut down in recovery', None, 'standby'),
    ('in archive recovery', None, 'standby'),
    ('in production', None, 'primary'),
    ('shut down', None, 'primary'),
    ('shut down', 'standby.signal', 'standby'),
    ('in crash recovery', None, None),
])
def test_unreachable_reads_controldata(monkeypatch, controldata, state, marker, role):
    if marker:
        open('%s/%s' % (controldata['data_dir'], marker), 'w').close()
    controldata['state']['override'] = dict(cluster_state=state)
    server = FakeServer(connect_error=FakePgError('could not connect to server'))
    result = run(monkeypatch, server, data_dir=controldata['data_dir'])
    r = result.result
    assert not result.failed
    assert r['reachable'] is False and 'could not connect' in r['connection_error']
    assert r['role'] == role
    assert (r['system_identifier'], r['timeline']) == ('7441234567890123456', 2)
    assert r['controldata']['cluster_state'] == state and r['controldata']['checkpoint_lsn'] == '0/2000060'
    assert r['can_rewind'] is True and r['settings']['data_checksums'] is True
    assert controldata['calls'] == [(controldata['data_dir'], '/usr/lib/postgresql/15/bin')]


def test_use_controldata_when_reachable(monkeypatch, controldata):
    result = run(monkeypatch, server_for(), data_dir=controldata['data_dir'], bindir='/opt/pg/bin', use_controldata=True)
    r = result.result
    assert r['reachable'] is True and r['role'] == 'primary'
    assert r['controldata']['cluster_state'] == 'shut down in recovery'
    assert controldata['calls'] == [(controldata['data_dir'], '/opt/pg/bin')]


def test_data_dir_without_pg_control(monkeypatch, controldata):
    controldata['state']['present'] = False
    server = FakeServer(connect_error=FakePgError('no server'))
    result = run(monkeypatch, server, data_dir=controldata['data_dir'])
    assert result.failed and 'no global/pg_control' in result.result['msg']


def test_data_dir_missing(monkeypatch, tmp_path):
    server = FakeServer(connect_error=FakePgError('no server'))
    result = run(monkeypatch, server, data_dir=str(tmp_path / 'nope'))
    assert result.failed and 'does not exist' in result.result['msg']


@pytest.mark.parametrize('args, message', [
    (dict(use_controldata=True), 'use_controldata is True but all of the following are missing: data_dir'),
    (dict(bindir='/usr/lib/postgresql/15/bin'), 'missing parameter(s) required by \'bindir\': data_dir'),
    (dict(use_controldata='perhaps'), 'use_controldata'),
    (dict(login_port='x'), 'login_port'),
])
def test_bad_arguments(monkeypatch, args, message):
    server = server_for()
    result = run(monkeypatch, server, **args)
    assert result.failed and message in result.result['msg']
    assert server.statements == []
