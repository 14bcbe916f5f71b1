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
    dict(name='archive_mode', setting='on'),
    dict(name='synchronous_commit', setting='local', source='client', boot_val='on'),
    dict(name='max_wal_senders', setting='10'),
    dict(name='max_replication_slots', setting='8'),
    dict(name='max_slot_wal_keep_size', setting='-1'),
]
REPLICA = dict(application_name='pg2', client_addr='10.0.0.2', state='streaming', sync_state='quorum', sync_priority=1,
               sent_lsn='0/3000148', write_lsn='0/3000148', flush_lsn='0/3000100', replay_lsn='0/3000000',
               sent_lag_bytes=0, write_lag_bytes=0, flush_lag_bytes=72, replay_lag_bytes=328,
               write_lag=0.001, flush_lag=0.002, replay_lag=None)
SLOT = dict(slot_name='pg2', slot_type='physical', active=True, restart_lsn='0/3000148', wal_status='reserved')


ACTIVITY = dict(hidden=0, pid=4242, seconds=42.5)


HISTORY_4 = ('1\t0/3000148\tno recovery target specified\n\n'
             '2\t0/5000000\tno recovery target specified\n\n'
             '3\t0/70000A0\tno recovery target specified\n')


def server_for(num=150004, in_recovery=False, settings=None, replicas=None, receiver=None, slots=None, extra=None,
               activity=None, ready=3, backup=False, file_settings=None, timeline=4, history=HISTORY_4, wal_timelines=(2, 3)):
    version = '%d.%d' % (num // 10000, num % 100)
    rules = list(extra or []) + [
        ('FROM pg_stat_activity', [ACTIVITY if activity is None else activity]),
        ('AS ready FROM pg_ls_', [dict(ready=ready)]),
        ('AS backup_in_progress', [dict(backup_in_progress=backup)]),
        ('FROM pg_file_settings', [dict(setting='remote_apply')] if file_settings is None else file_settings),
        ('SELECT current_setting', [dict(server_version=version, server_version_num=num, in_recovery=in_recovery)]),
        ('FROM pg_control_system()', [dict(system_identifier='7441234567890123456')]),
        ('FROM pg_control_checkpoint()', [dict(timeline_id=3)]),
        ('SELECT pg_current_wal_lsn()', [dict(current_lsn='0/3000148', timeline=timeline)]),
        ('SELECT pg_read_file(', history if isinstance(history, BaseException) else [dict(history=history)]),
        ('FROM pg_ls_waldir()', wal_timelines if isinstance(wal_timelines, BaseException)
         else [dict(timeline=t) for t in wal_timelines]),
        ('SELECT pg_last_wal_receive_lsn()', [dict(receive_lsn='0/5000000', replay_lsn='0/4000000', replay_paused=False,
                                                   last_replay_seconds=1.5)]),
        ('FROM pg_settings', [dict(dict(source='default', boot_val=None), **row)
                              for row in (SETTINGS if settings is None else settings)]),
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
    # read-only: every statement is a plain SELECT of no function that changes anything
    assert all(s.startswith('SELECT ') for s in server.statements), server.statements
    assert not any(word in s for s in server.statements
                   for word in ('pg_create', 'pg_drop', 'pg_terminate', 'pg_start_backup', 'pg_backup_start',
                                'pg_switch_wal', 'pg_reload'))
    return result


@pytest.mark.parametrize('check_mode', [False, True])
def test_primary(monkeypatch, check_mode):
    server = server_for()
    result = run(monkeypatch, server, check_mode=check_mode, login_password=LOGIN_PASSWORD)
    r = result.result
    assert not result.failed
    assert (r['reachable'], r['role'], r['in_recovery']) == (True, 'primary', False)
    assert (r['server_version'], r['server_version_num']) == ('15.4', 150004)
    # the timeline the primary writes (4), not its last checkpoint's (3), and where that timeline began
    assert (r['system_identifier'], r['timeline'], r['received_tli']) == ('7441234567890123456', 4, None)
    assert (r['current_lsn'], r['timeline_start_lsn'], r['wal_timelines']) == ('0/3000148', '0/70000A0', None)
    assert not any('pg_ls_waldir' in s for s in server.statements)
    assert [s for s in server.statements if 'pg_read_file' in s] == ["SELECT pg_read_file('pg_wal/00000004.history') AS history"]
    assert (r['receive_lsn'], r['replay_lsn'], r['replay_paused']) == (None, None, None)
    assert r['settings'] == dict(wal_log_hints=True, data_checksums=False, full_page_writes=True, wal_level='replica',
                                 synchronous_standby_names='ANY 1 (pg2, pg3)', primary_conninfo='',
                                 archive_mode='on', synchronous_commit='remote_apply', max_wal_senders=10,
                                 max_replication_slots=8, max_slot_wal_keep_size=-1)
    assert (r['longest_transaction_seconds'], r['longest_transaction_pid']) == (42.5, 4242)
    assert (r['archive_ready_count'], r['backup_in_progress']) == (3, False)
    assert (r['wal_senders_used'], r['replication_slots_used']) == (1, 1)
    assert r['last_replay_seconds'] is None
    activity_sql = [s for s in server.statements if 'FROM pg_stat_activity' in s][0]
    assert 'pid <> pg_backend_pid()' in activity_sql and "backend_type = 'client backend'" in activity_sql
    assert 'min(xact_start)' in activity_sql
    assert [s for s in server.statements if 'pg_file_settings' in s] == [
        "SELECT setting FROM pg_file_settings WHERE name = 'synchronous_commit' AND applied AND error IS NULL "
        "ORDER BY seqno DESC LIMIT 1"]
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
    [s for s in settings if s['name'] == 'primary_conninfo'][0]['setting'] = "host=pg1 user=replicator password='%s' application_name=pg2" % CONNINFO_PASSWORD
    server = server_for(in_recovery=True, settings=settings, replicas=[], receiver=receiver, slots=[])
    r = run(monkeypatch, server).result
    assert (r['role'], r['in_recovery'], r['current_lsn']) == ('standby', True, None)
    assert (r['receive_lsn'], r['replay_lsn'], r['replay_paused']) == ('0/5000000', '0/4000000', False)
    assert (r['timeline'], r['received_tli'], r['timeline_start_lsn']) == (3, 3, None)
    assert not any('pg_read_file' in s for s in server.statements)
    assert r['wal_timelines'] == [2, 3]
    waldir_sql = [s for s in server.statements if 'pg_ls_waldir()' in s][0]
    assert "substr(name, 1, 8)" in waldir_sql and "name ~ '^[0-9A-F]{24}$'" in waldir_sql
    assert r['wal_receiver']['conninfo'] == 'user=replicator password=******** host=pg1 port=5432'
    assert r['wal_receiver']['sender_host'] == 'pg1' and r['wal_receiver']['flushed_lsn'] == '0/5000000'
    assert r['settings']['primary_conninfo'] == 'host=pg1 user=replicator password=******** application_name=pg2'
    assert r['replicas'] == [] and r['replication_slots'] == []
    assert (r['wal_senders_used'], r['replication_slots_used']) == (0, 0)
    assert r['last_replay_seconds'] == 1.5
    standby_sql = [s for s in server.statements if s.startswith('SELECT pg_last_wal_receive_lsn()')][0]
    assert 'now() - pg_last_xact_replay_timestamp()' in standby_sql
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
    assert r['settings']['max_wal_senders'] is None and r['settings']['archive_mode'] is None


@pytest.mark.parametrize('num, archive_fn, backup_parts, absent', [
    (100023, "pg_ls_dir('pg_wal/archive_status', true, false)", ['pg_is_in_backup()'], ['pg_stat_progress_basebackup']),
    (110022, "pg_ls_dir('pg_wal/archive_status', true, false)", ['pg_is_in_backup()'], ['pg_stat_progress_basebackup']),
    (120022, 'pg_ls_archive_statusdir()', ['pg_is_in_backup()'], ['pg_stat_progress_basebackup', 'pg_ls_dir']),
    (130018, 'pg_ls_archive_statusdir()', ['pg_stat_progress_basebackup', 'pg_is_in_backup()'], ['pg_ls_dir']),
    (140015, 'pg_ls_archive_statusdir()', ['pg_stat_progress_basebackup', 'pg_is_in_backup()'], ['pg_ls_dir']),
    (150010, 'pg_ls_archive_statusdir()', ['pg_stat_progress_basebackup'], ['pg_is_in_backup()', 'pg_ls_dir']),
    (180001, 'pg_ls_archive_statusdir()', ['pg_stat_progress_basebackup'], ['pg_is_in_backup()', 'pg_ls_dir']),
])
def test_activity_version_guards(monkeypatch, num, archive_fn, backup_parts, absent):
    server = server_for(num=num, backup=True)
    r = run(monkeypatch, server).result
    archive_sql = [s for s in server.statements if 'AS ready' in s][0]
    backup_sql = [s for s in server.statements if 'AS backup_in_progress' in s][0]
    assert archive_fn in archive_sql and "name LIKE '%.ready'" in archive_sql
    for part in backup_parts:
        assert part in backup_sql
    for word in absent:
        assert word not in archive_sql + backup_sql
    assert r['backup_in_progress'] is True and r['archive_ready_count'] == 3


@pytest.mark.parametrize('activity, expected', [
    (dict(hidden=0, pid=None, seconds=None), (0.0, None)),        # nobody in a transaction
    (dict(hidden=0, pid=77, seconds=-0.001), (0.0, 77)),          # clock rounding: never negative
    (dict(hidden=0, pid=77, seconds=600.25), (600.25, 77)),
    (dict(hidden=2, pid=77, seconds=1.0), (None, None)),          # others' sessions hidden: unknown
])
def test_longest_transaction(monkeypatch, activity, expected):
    result = run(monkeypatch, server_for(activity=activity))
    r = result.result
    assert (r['longest_transaction_seconds'], r['longest_transaction_pid']) == expected
    assert any('2 session(s) of other roles are hidden' in w for w in result.warnings) == (activity['hidden'] == 2)


@pytest.mark.parametrize('section, key', [
    ('AS ready FROM pg_ls_', 'archive_ready_count'),
    ('FROM pg_stat_activity', 'longest_transaction_seconds'),
    ('AS backup_in_progress', 'backup_in_progress'),
    ('FROM pg_stat_replication', 'wal_senders_used'),
    ('FROM pg_replication_slots', 'replication_slots_used'),
])
def test_activity_without_privilege_is_null(monkeypatch, section, key):
    server = server_for(extra=[(section, FakePgError('permission denied for function', pgcode='42501'))])
    result = run(monkeypatch, server)
    assert not result.failed and result.result[key] is None
    assert any('not gathered: permission denied' in w for w in result.warnings)


@pytest.mark.parametrize('row, file_settings, expected', [
    (dict(name='synchronous_commit', setting='local', source='client', boot_val='on'), [], 'on'),
    (dict(name='synchronous_commit', setting='local', source='client', boot_val='on'), [dict(setting='off')], 'off'),
    (dict(name='synchronous_commit', setting='remote_write', source='configuration file', boot_val='on'), None,
     'remote_write'),
])
def test_synchronous_commit_is_the_server_value(monkeypatch, row, file_settings, expected):
    server = server_for(settings=[row], file_settings=file_settings)
    r = run(monkeypatch, server).result
    assert r['settings']['synchronous_commit'] == expected
    assert any('pg_file_settings' in s for s in server.statements) == (row['source'] == 'client')


def test_synchronous_commit_hidden_without_superuser(monkeypatch):
    row = dict(name='synchronous_commit', setting='local', source='client', boot_val='on')
    server = server_for(settings=[row], extra=[('FROM pg_file_settings', FakePgError('permission denied', pgcode='42501'))])
    result = run(monkeypatch, server)
    assert result.result['settings']['synchronous_commit'] is None
    assert any('server value of synchronous_commit not gathered' in w for w in result.warnings)


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
    (tmp_path / 'global').mkdir()
    (tmp_path / 'global' / 'pg_control').write_bytes(b'\0' * 8192)
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
    for key in ('longest_transaction_seconds', 'archive_ready_count', 'backup_in_progress', 'wal_senders_used',
                'replication_slots_used', 'last_replay_seconds'):
        assert r[key] is None
    assert r['settings']['max_wal_senders'] is None
    assert controldata['calls'] == [(controldata['data_dir'], '/usr/lib/postgresql/15/bin')]


def test_use_controldata_when_reachable(monkeypatch, controldata):
    result = run(monkeypatch, server_for(), data_dir=controldata['data_dir'], bindir='/opt/pg/bin', use_controldata=True)
    r = result.result
    assert r['reachable'] is True and r['role'] == 'primary'
    assert r['controldata']['cluster_state'] == 'shut down in recovery'
    assert controldata['calls'] == [(controldata['data_dir'], '/opt/pg/bin')]


@pytest.mark.parametrize('layout, reason', [
    ('missing', 'does not exist or is not a directory'),
    ('file', 'does not exist or is not a directory'),
    ('empty', 'no global/pg_control'),
    ('no pg_control', 'no global/pg_control'),
])
def test_unreachable_with_unusable_data_dir_is_reported(monkeypatch, tmp_path, controldata, layout, reason):
    """A stopped server whose data directory is lost or empty is a state to report (rejoin re-clones it), not a failure."""
    data_dir = tmp_path / 'data'
    if layout == 'file':
        data_dir.write_text('')
    elif layout == 'empty':
        data_dir.mkdir()
    elif layout == 'no pg_control':
        (data_dir / 'global').mkdir(parents=True)
        (data_dir / 'PG_VERSION').write_text('15\n')
    server = FakeServer(connect_error=FakePgError('could not connect to server'))
    result = run(monkeypatch, server, data_dir=str(data_dir))
    r = result.result
    assert not result.failed and not r['changed']
    assert r['reachable'] is False and 'could not connect' in r['connection_error']
    assert str(data_dir) in r['data_dir_error'] and reason in r['data_dir_error']
    assert r['role'] is None and r['in_recovery'] is None and r['timeline'] is None
    assert r['controldata'] is None
    assert controldata['calls'] == [], 'pg_controldata was run on an unusable data directory'


def test_data_dir_with_unreadable_control_file_fails(monkeypatch, controldata):
    controldata['state']['present'] = False
    server = FakeServer(connect_error=FakePgError('no server'))
    result = run(monkeypatch, server, data_dir=controldata['data_dir'])
    assert result.failed and 'no global/pg_control' in result.result['msg']


def test_use_controldata_with_missing_data_dir_fails(monkeypatch, tmp_path):
    result = run(monkeypatch, server_for(), data_dir=str(tmp_path / 'nope'), use_controldata=True)
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


@pytest.mark.parametrize('timeline, history, start, warning', [
    (1, AssertionError('no history file on timeline 1'), None, None),
    (2, '1\t0/5000148\tno recovery target specified\n', '0/5000148', None),
    (0x1A, '# comment\n1\t0/5000148\tx\n\n25\t1/A0\ty\n', '1/A0', None),
    # no pg_read_server_files; the file removed; a file that is not a history file: the rest is still read
    (2, FakePgError('permission denied for function pg_read_file', pgcode='42501'), None,
     'the start of timeline 2 not gathered from pg_wal/00000002.history: permission denied for function pg_read_file'),
    (3, FakePgError('could not open file "pg_wal/00000003.history" for reading: No such file or directory',
                    pgcode='58P01'), None, 'No such file or directory'),
    (2, 'garbage\n', None, "not a timeline history line: 'garbage'"),
])
def test_timeline_start_of_a_primary(monkeypatch, timeline, history, start, warning):
    server = server_for(timeline=timeline, history=history)
    result = run(monkeypatch, server)
    assert not result.failed
    assert (result.result['timeline'], result.result['timeline_start_lsn']) == (timeline, start)
    warnings = [w for w in result.warnings if 'start of timeline' in w]
    if warning is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and warning in warnings[0]
    # a failed read of the history file does not lose what comes after it
    assert result.result['replication_slots'] == [SLOT]


def test_wal_timelines_of_a_standby_without_pg_monitor(monkeypatch):
    server = server_for(in_recovery=True, replicas=[], slots=[],
                        wal_timelines=FakePgError('permission denied for function pg_ls_waldir', pgcode='42501'))
    result = run(monkeypatch, server)
    assert not result.failed
    assert result.result['wal_timelines'] is None
    assert any('WAL timelines not gathered: permission denied' in w for w in result.warnings)
    assert result.result['replication_slots'] == []
