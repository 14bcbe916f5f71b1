"""switchover_preflight and failover_candidate filters, on replication_info-shaped results."""
import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.pgstream.replication.plugins.filter.switchover_checks import (
    FilterModule, failover_candidate, parse_synchronous_standby_names, switchover_preflight)

SYSID = '7441234567890123456'


def settings(**overrides):
    base = dict(wal_log_hints=True, data_checksums=False, full_page_writes=True, wal_level='replica',
                synchronous_standby_names='', primary_conninfo='', archive_mode='on', synchronous_commit='on',
                max_wal_senders=10, max_replication_slots=10)
    base.update(overrides)
    return base


def replica_row(app, addr, state='streaming', sync_state='async', flush=0, replay=0, replay_lag=None):
    return dict(application_name=app, client_addr='%s/32' % addr, state=state, sync_state=sync_state, sync_priority=0,
                sent_lsn='0/3000148', write_lsn='0/3000148', flush_lsn='0/3000148', replay_lsn='0/3000148',
                sent_lag_bytes=0, write_lag_bytes=0, flush_lag_bytes=flush, replay_lag_bytes=replay,
                write_lag=None, flush_lag=None, replay_lag=replay_lag)


def primary_info(replicas):
    return dict(changed=False, reachable=True, role='primary', in_recovery=False, server_version='15.18',
                server_version_num=150018, system_identifier=SYSID, timeline=1, received_tli=None,
                current_lsn='0/3000148', receive_lsn=None, replay_lsn=None, replay_paused=None,
                last_replay_seconds=None, settings=settings(), can_rewind=True, replicas=replicas, wal_receiver=None,
                replication_slots=[dict(slot_name='pgstream_pg2', slot_type='physical', active=True,
                                        restart_lsn='0/3000148', wal_status='reserved')],
                controldata=None, longest_transaction_seconds=0.0, longest_transaction_pid=None,
                archive_ready_count=0, backup_in_progress=False, wal_senders_used=len(replicas),
                replication_slots_used=1)


def standby_info(app, sender='pg1', lsn='0/3000148', tli=1):
    conninfo = ('user=replicator password=******** host=%s port=5432 application_name=%s '
                'fallback_application_name=15/main' % (sender, app))
    return dict(changed=False, reachable=True, role='standby', in_recovery=True, server_version='15.18',
                server_version_num=150018, system_identifier=SYSID, timeline=tli, received_tli=tli,
                current_lsn=None, receive_lsn=lsn, replay_lsn=lsn, replay_paused=False, last_replay_seconds=0.5,
                settings=settings(primary_conninfo="host=%s user=replicator password=******** application_name=%s"
                                  % (sender, app)),
                can_rewind=True, replicas=[], replication_slots=[],
                wal_receiver=dict(status='streaming', slot_name='pgstream_%s' % app, received_tli=tli,
                                  sender_host=sender, sender_port=5432, conninfo=conninfo,
                                  flushed_lsn=lsn, latest_end_lsn=lsn),
                controldata=None, longest_transaction_seconds=0.0, longest_transaction_pid=None,
                archive_ready_count=0, backup_in_progress=False, wal_senders_used=0, replication_slots_used=0)


def cluster():
    """pg1 primary; pg2 and pg3 stream from it."""
    return {
        'pg1': primary_info([replica_row('pg2', '10.0.0.2'), replica_row('pg3', '10.0.0.3')]),
        'pg2': standby_info('pg2'),
        'pg3': standby_info('pg3'),
    }


def by_check(result, name):
    return [c for c in result['checks'] if c['check'] == name][0]


ALL_CHECKS = ['primary', 'reachable', 'target', 'streaming', 'attached', 'lag', 'lag_seconds', 'synchronous',
              'long_transaction', 'archive_backlog', 'backup', 'replay_paused', 'walsenders', 'slots', 'rewind',
              'version', 'system_identifier']


def test_healthy_cluster_passes_every_check():
    result = switchover_preflight(cluster(), 'pg1', 'pg2')
    assert result['ok'] is True and result['failures'] == [] and result['warnings'] == []
    assert [c['check'] for c in result['checks']] == ALL_CHECKS
    assert all(c['status'] == 'pass' for c in result['checks'])
    assert result['siblings'] == ['pg3']
    assert by_check(result, 'lag')['message'] == 'lag: pg2 is 0 bytes behind pg1 (bound 16777216)'
    assert by_check(result, 'walsenders')['message'] == (
        'walsenders: pg2 has 10 WAL senders free (max_wal_senders 10, 0 in use) for 2 nodes that will stream '
        'from it (pg1, pg3)')


def _set(path, value):
    def change(infos):
        node = infos
        keys = path.split('.')
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[keys[-1]] = value
    return change


def _row(host, **values):
    def change(infos):
        row = [r for r in infos['pg1']['replicas'] if r['application_name'] == host][0]
        row.update(values)
    return change


def _many(*changes):
    def change(infos):
        for c in changes:
            c(infos)
    return change


# (id, change, bounds, check, status, message fragments)
CASES = [
    ('pg1 down', _set('pg1', dict(reachable=False, role='primary', in_recovery=None,
                                  connection_error='could not connect', system_identifier=SYSID, can_rewind=True)),
     {}, 'primary', 'fail', ['pg1 is not reachable (could not connect)']),
    ('pg1 no result', _set('pg1', None), {}, 'primary', 'fail', ['pg1 has no replication_info result']),
    ('pg1 is a standby, pg3 primary', _many(_set('pg1.in_recovery', True), _set('pg3.in_recovery', False)),
     {}, 'primary', 'fail', ['pg1 is not a primary', 'running as primary: pg3']),
    ('split brain', _set('pg3.in_recovery', False), {}, 'primary', 'fail',
     ['2 nodes run as a primary: pg1, pg3, not only pg1']),
    ('sibling unreachable', _set('pg3', dict(reachable=False, failed=True, msg='timeout')), {}, 'reachable', 'warn',
     ['not reachable, their role is unknown: pg3']),
    ('target down', _set('pg2.reachable', False), {}, 'target', 'fail', ['pg2 is not reachable']),
    ('target is a primary', _set('pg2.in_recovery', False), {}, 'target', 'fail', ['pg2 is not in recovery']),
    ('receiver stopped', _set('pg2.wal_receiver', None), {}, 'streaming', 'fail',
     ["pg2's WAL receiver is not running"]),
    ('receiver catchup', _set('pg2.wal_receiver.status', 'catchup'), {}, 'streaming', 'fail',
     ["pg2's WAL receiver is catchup, not streaming"]),
    ('timeline mismatch', _set('pg2.wal_receiver.received_tli', 2), {}, 'streaming', 'fail',
     ['pg2 streams timeline 2 but pg1 is on timeline 1']),
    ('no row', _set('pg1.replicas', [replica_row('pg3', '10.0.0.3')]), {}, 'attached', 'fail',
     ['pg1 has no pg_stat_replication row for pg2 (application_name pg2); rows: pg3 (10.0.0.3, streaming)']),
    ('row catchup', _row('pg2', state='catchup'), {}, 'attached', 'fail',
     ["pg1's row for pg2 is in state catchup, not streaming"]),
    ('lag bytes flush', _row('pg2', flush_lag_bytes=25165824, replay_lag_bytes=100), {}, 'lag', 'fail',
     ['lag: pg2 is 25165824 bytes behind pg1 (bound 16777216)']),
    ('lag bytes replay', _row('pg2', flush_lag_bytes=10, replay_lag_bytes=2048), {'max_lag_bytes': 1024}, 'lag',
     'fail', ['pg2 is 2048 bytes behind pg1 (bound 1024)']),
    ('lag bytes at bound', _row('pg2', replay_lag_bytes=1024), {'max_lag_bytes': 1024}, 'lag', 'pass',
     ['pg2 is 1024 bytes behind pg1 (bound 1024)']),
    ('lag bytes unknown', _row('pg2', flush_lag_bytes=None, replay_lag_bytes=None), {}, 'lag', 'fail',
     ['lag behind pg1 is unknown']),
    ('lag seconds', _row('pg2', replay_lag=75.5), {}, 'lag_seconds', 'fail',
     ['pg2 replays 75.5 s behind pg1 (bound 60 s)']),
    ('lag seconds bound', _row('pg2', replay_lag=75.5), {'max_lag_seconds': 600}, 'lag_seconds', 'pass',
     ['(bound 600 s)']),
    ('long transaction', _many(_set('pg1.longest_transaction_seconds', 42.5), _set('pg1.longest_transaction_pid', 4242)),
     {}, 'long_transaction', 'fail', ['pid 4242 on pg1 has had a transaction open for 42.5 s (bound 15 s)']),
    ('long transaction bound', _many(_set('pg1.longest_transaction_seconds', 42.5),
                                     _set('pg1.longest_transaction_pid', 4242)),
     {'max_transaction_seconds': '60'}, 'long_transaction', 'pass', ['42.5 s (bound 60 s)']),
    ('transactions hidden', _set('pg1.longest_transaction_seconds', None), {}, 'long_transaction', 'warn',
     ['open transactions of pg1 are not visible']),
    ('archive warn', _set('pg1.archive_ready_count', 17), {}, 'archive_backlog', 'warn',
     ['17 WAL segments wait for archive_command on pg1 (warn above 16, fail above 128)']),
    ('archive fail', _set('pg1.archive_ready_count', 129), {}, 'archive_backlog', 'fail', ['129 WAL segments']),
    ('archive custom', _set('pg1.archive_ready_count', 5), {'archive_ready_warn': 1, 'archive_ready_fail': 4},
     'archive_backlog', 'fail', ['5 WAL segments', 'fail above 4']),
    ('archive at warn', _set('pg1.archive_ready_count', 16), {}, 'archive_backlog', 'pass', ['16 WAL segments']),
    ('archive off', _many(_set('pg1.settings.archive_mode', 'off'), _set('pg1.archive_ready_count', 500)), {},
     'archive_backlog', 'pass', ['archive_mode is off on pg1']),
    ('archive hidden', _set('pg1.archive_ready_count', None), {}, 'archive_backlog', 'warn',
     ['archive_status of pg1 is not readable']),
    ('backup', _set('pg1.backup_in_progress', True), {}, 'backup', 'fail', ['a base backup is running on pg1']),
    ('backup unknown', _set('pg1.backup_in_progress', None), {}, 'backup', 'warn', ['cannot tell']),
    ('replay paused', _set('pg2.replay_paused', True), {}, 'replay_paused', 'fail', ['WAL replay is paused on pg2']),
    ('walsenders', _many(_set('pg2.settings.max_wal_senders', 3), _set('pg2.wal_senders_used', 2)), {}, 'walsenders',
     'fail', ['pg2 has 1 WAL sender free (max_wal_senders 3, 2 in use) for 2 nodes that will stream from it (pg1, pg3)']),
    ('walsenders unknown', _set('pg2.settings.max_wal_senders', None), {}, 'walsenders', 'warn', ['cannot tell']),
    ('slots', _many(_set('pg2.settings.max_replication_slots', 1)), {}, 'slots', 'fail',
     ['pg2 has 1 replication slot free (max_replication_slots 1, 0 in use) for 2 nodes']),
    ('slots not in use', _many(_set('pg2.settings.max_replication_slots', 0), _set('pg1.replication_slots', []),
                               _set('pg2.wal_receiver.slot_name', None)), {}, 'slots', 'pass',
     ['no physical replication slot in use']),
    ('rewind', _set('pg1.can_rewind', False), {}, 'rewind', 'fail', ['pg_rewind cannot be used on pg1']),
    ('rewind not required', _set('pg1.can_rewind', False), {'require_rewind': 'no'}, 'rewind', 'warn',
     ['pg_rewind cannot be used on pg1', 'wal_log_hints on, data_checksums off, full_page_writes on']),
    ('rewind unknown', _set('pg1.can_rewind', None), {}, 'rewind', 'fail', ['pg_rewind may not be usable on pg1']),
    ('version', _set('pg3.server_version_num', 130018), {}, 'version', 'fail',
     ['major versions differ: pg1 15, pg2 15, pg3 13']),
    ('sysid', _set('pg3.system_identifier', '1'), {}, 'system_identifier', 'fail',
     ['not one cluster: pg1 %s, pg2 %s, pg3 1' % (SYSID, SYSID)]),
]


@pytest.mark.parametrize('change, bounds, check, status, fragments', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_check(change, bounds, check, status, fragments):
    infos = cluster()
    change(infos)
    before = copy.deepcopy(infos)
    result = switchover_preflight(infos, 'pg1', 'pg2', bounds)
    assert infos == before                                           # pure: the input is not changed
    entry = by_check(result, check)
    assert entry['status'] == status, entry
    for fragment in fragments:
        assert fragment in entry['message']
    assert entry['message'].startswith(check + ': ')
    failed = [c['check'] for c in result['checks'] if c['status'] == 'fail']
    assert result['ok'] is (failed == [])
    assert [f['check'] for f in result['failures']] == failed
    assert [w['check'] for w in result['warnings']] == [c['check'] for c in result['checks'] if c['status'] == 'warn']
    if status in ('fail', 'warn'):
        listed = result['failures'] if status == 'fail' else result['warnings']
        item = [x for x in listed if x['check'] == check][0]
        assert set(item) == {'check', 'message', 'value', 'bound'} and item['message'] == entry['message']
    if status == 'fail':
        # only the check under test (and the ones that depend on the same fact) fail
        assert check in failed


def test_lag_failure_figures_in_failures():
    infos = cluster()
    _row('pg2', flush_lag_bytes=25165824)(infos)
    result = switchover_preflight(infos, 'pg1', 'pg2')
    assert result['ok'] is False
    assert result['failures'] == [dict(check='lag', message='lag: pg2 is 25165824 bytes behind pg1 (bound 16777216)',
                                       value=25165824, bound=16777216)]


def test_primary_down_skips_what_depends_on_it():
    infos = cluster()
    infos['pg1'] = dict(reachable=False, role=None, connection_error='refused')
    result = switchover_preflight(infos, 'pg1', 'pg2')
    assert result['ok'] is False
    statuses = dict((c['check'], c['status']) for c in result['checks'])
    for check in ('attached', 'lag', 'lag_seconds', 'synchronous', 'long_transaction', 'archive_backlog', 'backup',
                  'walsenders', 'slots'):
        assert statuses[check] == 'skip'
    assert statuses['primary'] == 'fail' and statuses['target'] == 'pass'


def test_target_with_a_lost_data_directory_says_so():
    infos = cluster()
    infos['pg2'] = dict(reachable=False, role=None, connection_error='refused',
                        data_dir_error='data_dir /d does not exist or is not a directory')
    result = switchover_preflight(infos, 'pg1', 'pg2')
    target = [c for c in result['checks'] if c['check'] == 'target'][0]
    assert target['status'] == 'fail'
    assert target['message'] == 'target: pg2 is not reachable (refused; data_dir /d does not exist or is not a directory)'


def test_target_is_primary():
    result = switchover_preflight(cluster(), 'pg1', 'pg1')
    assert result['ok'] is False
    assert 'the target pg1 is the primary itself' in by_check(result, 'target')['message']


# ---- matching the target's row

def test_application_name_argument_wins():
    infos = cluster()
    infos['pg1']['replicas'][0]['application_name'] = 'custom_pg2'
    infos['pg2']['wal_receiver']['conninfo'] = 'host=pg1'
    infos['pg2']['settings']['primary_conninfo'] = None
    assert by_check(switchover_preflight(infos, 'pg1', 'pg2'), 'attached')['status'] == 'fail'
    result = switchover_preflight(infos, 'pg1', 'pg2', {}, {'pg2': 'custom_pg2'})
    assert by_check(result, 'attached')['status'] == 'pass'


@pytest.mark.parametrize('conninfo, primary_conninfo, row_name', [
    ("host=pg1 application_name='my app'", None, 'my app'),
    ('host=pg1 fallback_application_name=15/main', None, '15/main'),       # cluster_name, no application_name
    (None, 'postgresql://replicator@pg1:5432/?application_name=uri_app&sslmode=prefer', 'uri_app'),
    (None, None, 'db_2_example'),                                          # the cluster_topology default
])
def test_application_name_from_live_conninfo(conninfo, primary_conninfo, row_name):
    infos = cluster()
    infos['db-2.example'] = infos.pop('pg2')
    infos['db-2.example']['wal_receiver']['conninfo'] = conninfo
    infos['db-2.example']['settings']['primary_conninfo'] = primary_conninfo
    infos['pg1']['replicas'][0]['application_name'] = row_name
    result = switchover_preflight(infos, 'pg1', 'db-2.example')
    assert by_check(result, 'attached')['status'] == 'pass', by_check(result, 'attached')


def test_match_by_client_addr():
    infos = cluster()
    infos['pg1']['replicas'][0]['application_name'] = 'walreceiver'
    result = switchover_preflight(infos, 'pg1', 'pg2', None, None, {'pg2': '10.0.0.2'})
    assert by_check(result, 'attached')['status'] == 'pass'
    result = switchover_preflight(infos, 'pg1', 'pg2', None, None, {'pg2': ['10.9.9.9']})
    assert by_check(result, 'attached')['status'] == 'fail'


def test_streaming_row_preferred_over_a_backup_walsender():
    infos = cluster()
    infos['pg1']['replicas'].insert(0, replica_row('pg2', '10.0.0.2', state='backup', flush=None, replay=None))
    result = switchover_preflight(infos, 'pg1', 'pg2')
    assert by_check(result, 'attached')['status'] == 'pass' and by_check(result, 'lag')['status'] == 'pass'


# ---- synchronous replication

def sync_cluster(ssn, states=('quorum', 'quorum')):
    infos = cluster()
    infos['pg1']['settings']['synchronous_standby_names'] = ssn
    for row, state in zip(infos['pg1']['replicas'], states):
        row['sync_state'] = state
    return infos


@pytest.mark.parametrize('ssn, states, app_names, status, fragment', [
    ('ANY 1 (pg2, pg3)', ('quorum', 'quorum'), None, 'pass', "after the switchover 1 of the 1 needed by 'ANY 1 (pg2, pg3)'"),
    ('ANY 2 (pg2, pg3)', ('quorum', 'quorum'), None, 'fail',
     "synchronous replication is on but after the switchover 1 listed standby would stream from pg2 where "
     "'ANY 2 (pg2, pg3)' needs 2 (candidates: pg3 (pg3); not listed: pg1 (pg1))"),
    ('ANY 2 (pg1, pg2, pg3)', ('quorum', 'quorum'), None, 'pass', '2 of the 2 needed'),
    ('FIRST 1 (pg2)', ('sync', 'async'), None, 'fail',
     "after the switchover 0 listed standbys would stream from pg2 where 'FIRST 1 (pg2)' needs 1 (candidates: none"),
    ('FIRST 1 (pg2, "PG1")', ('sync', 'async'), {'pg1': 'pg1'}, 'pass', 'pg1 (pg1)'),
    ('*', ('sync', 'potential'), None, 'pass', '2 of the 1 needed'),
    ('pg2', ('async', 'async'), None, 'fail',
     "synchronous replication is on but no standby of pg1 is a synchronous candidate (synchronous_standby_names "
     "'pg2'; pg2=async, pg3=async)"),
    ('2 (pg2, pg3, pg1)', ('sync', 'sync'), None, 'pass', '2 of the 2 needed'),
    ('', ('async', 'async'), None, 'pass', 'synchronous replication is off on pg1'),
])
def test_synchronous(ssn, states, app_names, status, fragment):
    result = switchover_preflight(sync_cluster(ssn, states), 'pg1', 'pg2', {}, app_names)
    entry = by_check(result, 'synchronous')
    assert entry['status'] == status, entry
    assert fragment in entry['message'], entry['message']


def test_synchronous_sibling_not_streaming_is_no_candidate():
    infos = sync_cluster('ANY 1 (pg2, pg3)')
    infos['pg1']['replicas'][1]['state'] = 'catchup'
    entry = by_check(switchover_preflight(infos, 'pg1', 'pg2'), 'synchronous')
    assert entry['status'] == 'fail' and 'candidates: none' in entry['message']


def test_synchronous_hidden_setting_warns():
    infos = cluster()
    infos['pg1']['settings']['synchronous_standby_names'] = None
    assert by_check(switchover_preflight(infos, 'pg1', 'pg2'), 'synchronous')['status'] == 'warn'


@pytest.mark.parametrize('value, expected', [
    ('', None), ('  ', None),
    ('pg2', ('first', 1, ['pg2'])),
    ('pg2, pg3', ('first', 1, ['pg2', 'pg3'])),
    ('FIRST 2 (pg2, pg3)', ('first', 2, ['pg2', 'pg3'])),
    ('any 1 ("a,b", "c""d", e)', ('any', 1, ['a,b', 'c"d', 'e'])),
    ('3(a,b,c)', ('first', 3, ['a', 'b', 'c'])),
    ('*', ('first', 1, ['*'])),
])
def test_parse_synchronous_standby_names(value, expected):
    assert parse_synchronous_standby_names(value) == expected


# ---- bad input

@pytest.mark.parametrize('args, message', [
    (([], 'pg1', 'pg2'), 'the input must be a dict'),
    (({}, None, 'pg2'), 'primary must be an inventory hostname'),
    (({}, 'pg1', ''), 'target must be an inventory hostname'),
    (({}, 'pg1', 'pg2', {'max_lag': 1}), 'unknown bounds max_lag (known: archive_ready_fail'),
    (({}, 'pg1', 'pg2', {'application_names': {}}), '5th and 6th arguments'),
    (({}, 'pg1', 'pg2', {'max_lag_bytes': 'lots'}), 'bound max_lag_bytes must be a number'),
    (({}, 'pg1', 'pg2', {'max_lag_bytes': 1.5}), 'bound max_lag_bytes must be a number'),
    (({}, 'pg1', 'pg2', {'max_lag_seconds': True}), 'bound max_lag_seconds must be a number'),
    (({}, 'pg1', 'pg2', {'max_lag_seconds': -1}), 'must be >= 0'),
    (({}, 'pg1', 'pg2', {'require_rewind': 'maybe'}), 'bound require_rewind must be a boolean'),
    (({}, 'pg1', 'pg2', {'archive_ready_warn': 200}), 'archive_ready_warn (200) is above archive_ready_fail (128)'),
    (({}, 'pg1', 'pg2', []), 'bounds must be a dict'),
    (({}, 'pg1', 'pg2', {}, ['pg2']), 'application_names must be a dict'),
    (({}, 'pg1', 'pg2', {}, {}, {'pg2': 5}), 'addresses[pg2] must be a list'),
])
def test_preflight_bad_input(args, message):
    with pytest.raises(AnsibleFilterError) as e:
        switchover_preflight(*args)
    assert message in str(e.value)


def test_bounds_are_merged_and_returned():
    result = switchover_preflight(cluster(), 'pg1', 'pg2', {'max_lag_bytes': '1024', 'require_rewind': False})
    assert result['bounds'] == dict(max_lag_bytes=1024, max_lag_seconds=60, max_transaction_seconds=15,
                                    archive_ready_warn=16, archive_ready_fail=128, require_rewind=False)


# ---- failover_candidate

def dead_primary(**positions):
    """pg1 unreachable; standbys at the given (receive_lsn, replay_lsn)."""
    infos = {'pg1': dict(reachable=False, role=None, connection_error='no route to host')}
    for host, (receive, replay) in positions.items():
        info = standby_info(host)
        info['receive_lsn'], info['replay_lsn'] = receive, replay
        infos[host] = info
    return infos


def test_failover_highest_lsn_wins():
    infos = dead_primary(pg2=('0/5000000', '0/4000000'), pg3=('0/4800000', '0/5100000'), pg4=(None, '0/3000000'))
    result = failover_candidate(infos, 'pg1', ['pg2', 'pg3', 'pg4'])
    assert (result['ok'], result['candidate'], result['refused']) == (True, 'pg3', None)
    assert [(r['host'], r['lsn'], r['position']) for r in result['ranking']] == [
        ('pg3', 0x5100000, '0/5100000'), ('pg2', 0x5000000, '0/5000000'), ('pg4', 0x3000000, '0/3000000')]
    assert result['skipped'] == []


@pytest.mark.parametrize('priorities, expected', [
    (None, ['pg2', 'pg3', 'pg4']),                       # equal LSN: by host name
    ({'pg4': 1, 'pg3': 2}, ['pg4', 'pg3', 'pg2']),       # lower priority first, unprioritised last
    ({'pg2': '5', 'pg3': 5}, ['pg2', 'pg3', 'pg4']),     # equal priority: by host name; strings accepted
])
def test_failover_ties(priorities, expected):
    infos = dead_primary(pg2=('0/5000000', None), pg3=('0/5000000', None), pg4=('0/5000000', None))
    result = failover_candidate(infos, 'pg1', ['pg4', 'pg3', 'pg2'], priorities=priorities)
    assert [r['host'] for r in result['ranking']] == expected and result['candidate'] == expected[0]


def test_failover_priority_does_not_beat_position():
    infos = dead_primary(pg2=('0/5000000', None), pg3=('0/5000001', None))
    assert failover_candidate(infos, 'pg1', ['pg2', 'pg3'], priorities={'pg2': 1, 'pg3': 9})['candidate'] == 'pg3'


def test_failover_skips_unreachable_and_lists_them():
    infos = dead_primary(pg2=('0/5000000', None))
    infos['pg3'] = dict(reachable=False, connection_error='timeout')
    result = failover_candidate(infos, 'pg1', ['pg1', 'pg2', 'pg3', 'pg9'])
    assert result['candidate'] == 'pg2' and result['ok'] is True
    assert result['skipped'] == [
        dict(host='pg1', reason='pg1 is the failed primary'),
        dict(host='pg3', reason='pg3 is not reachable (timeout)'),
        dict(host='pg9', reason='pg9 has no replication_info result')]


def test_failover_no_reachable_candidate():
    infos = dead_primary()
    infos['pg2'] = dict(reachable=False)
    result = failover_candidate(infos, 'pg1', ['pg2'])
    assert (result['ok'], result['candidate']) == (False, None)
    assert result['refused'] == 'no reachable standby among the candidates pg2'


@pytest.mark.parametrize('named, force, ok, candidate, fragment', [
    ('pg3', False, True, 'pg3', None),                           # the best one, named
    ('pg2', False, False, None, 'pg2 is 1048576 bytes behind pg3 (pg2 at 0/5000000, pg3 at 0/5100000): '
                                'promote pg3 instead, or force'),
    ('pg2', True, True, 'pg2', 'forced: pg2 is 1048576 bytes behind pg3'),
    ('pg4', False, False, None, 'pg4 is not one of the candidates (pg2, pg3, pg5)'),
    ('pg5', True, False, None, 'cannot promote pg5: pg5 is not reachable'),
])
def test_failover_named(named, force, ok, candidate, fragment):
    infos = dead_primary(pg2=('0/5000000', None), pg3=('0/5100000', None))
    infos['pg5'] = dict(reachable=False)
    result = failover_candidate(infos, 'pg1', ['pg2', 'pg3', 'pg5'], named, force)
    assert (result['ok'], result['candidate']) == (ok, candidate)
    if fragment is None:
        assert result['refused'] is None and result['warnings'] == []
    elif ok:
        assert result['refused'] is None and any(fragment in w for w in result['warnings'])
    else:
        assert fragment in result['refused']


def test_failover_named_behind_several():
    infos = dead_primary(pg2=('0/5000000', None), pg3=('0/5100000', None), pg4=('0/5080000', None))
    result = failover_candidate(infos, 'pg1', ['pg2', 'pg3', 'pg4'], named='pg2')
    assert result['ok'] is False and 'also ahead: pg4' in result['refused']


@pytest.mark.parametrize('alive, fragment', [
    ('pg1', 'pg1 is running as a primary (the primary is alive): not failing over'),
    ('pg3', 'pg3 is running as a primary (a node was promoted already): not failing over'),
])
def test_failover_refused_when_a_primary_runs(alive, fragment):
    infos = dead_primary(pg2=('0/5000000', None), pg3=('0/5100000', None))
    if alive == 'pg1':
        infos['pg1'] = primary_info([])
    else:
        infos['pg3']['in_recovery'] = False
    result = failover_candidate(infos, 'pg1', ['pg2', 'pg3'], force=True)
    assert (result['ok'], result['candidate'], result['refused']) == (False, None, fragment)


def test_failover_warns_on_mixed_timelines_and_a_recovering_primary():
    infos = dead_primary(pg2=('0/5000000', None), pg3=('0/4000000', None))
    infos['pg3']['wal_receiver']['received_tli'] = infos['pg3']['received_tli'] = 2
    infos['pg1'] = standby_info('pg1')
    result = failover_candidate(infos, 'pg1', ['pg2', 'pg3'])
    assert result['ok'] is True
    assert any('different timelines (1, 2)' in w for w in result['warnings'])
    assert any('pg1 (the primary) is reachable but in recovery' in w for w in result['warnings'])


@pytest.mark.parametrize('args, kwargs, message', [
    (([], 'pg1', ['pg2']), {}, 'the input must be a dict'),
    (({}, 'pg1', 'pg2'), {}, 'candidates must be a list'),
    (({}, 'pg1', ['pg2']), {'priorities': {'pg2': 'high'}}, 'priorities[pg2] must be an integer'),
    (({}, 'pg1', ['pg2']), {'force': 'perhaps'}, 'force must be a boolean'),
    (({}, 'pg1', ['pg2']), {'named': ['pg2']}, 'named must be an inventory hostname'),
    (({'pg2': dict(reachable=True, in_recovery=True, receive_lsn='bad')}, 'pg1', ['pg2']), {}, "invalid receive_lsn 'bad'"),
])
def test_failover_bad_input(args, kwargs, message):
    with pytest.raises(AnsibleFilterError) as e:
        failover_candidate(*args, **kwargs)
    assert message in str(e.value)


def test_registered():
    assert set(FilterModule().filters()) == {'switchover_preflight', 'failover_candidate', 'failover_plan',
                                             'sync_names_after_switchover'}
