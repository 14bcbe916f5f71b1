"""Switchover scenario (runs in file order on the cluster built by converge.yml: pg1 primary, pg2 and pg3
standbys). Each test leaves the cluster healthy for the next one; the primary at the end of each test is
noted in its docstring."""
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'tools'))
import scenario as sc  # noqa: E402  pylint: disable=wrong-import-position

PG1, PG2, PG3 = 'pgs-sw-pg1', 'pgs-sw-pg2', 'pgs-sw-pg3'
NODES = [PG1, PG2, PG3]
NETWORK = 'pgstream-sw'
APP = dict((n, n.replace('-', '_')) for n in NODES)
testinfra_hosts = [PG1]
PROBE = {}
SLOTS = "SELECT coalesce(string_agg(slot_name, ',' ORDER BY slot_name), '') FROM pg_replication_slots"


def probe():
    if 'probe' not in PROBE:
        PROBE['probe'] = sc.Probe(NODES, NETWORK, PG1)
    return PROBE['probe']


def assert_primary_with_standbys(primary, standbys):
    assert not sc.in_recovery(primary)
    sc.wait_for(lambda: sc.streaming_from(primary) == sorted(APP[s] for s in standbys), 60,
                '%s streaming from %s' % (standbys, primary))
    for standby in standbys:
        assert sc.in_recovery(standby)


def test_preflight_only_run_changes_nothing():
    """--check, and -e pgstream_preflight_only=true, run the pre-flight checks only. Primary after: pg1."""
    before = sc.postmaster_start(PG1)
    proc, recap = sc.playbook('switchover', '-e', 'target=%s' % PG2, '--check')
    assert proc.returncode == 0
    assert 'lag: ' in proc.stdout and 'rewind: ' in proc.stdout
    assert recap and all(int(n) == 0 for n in recap.values()), recap
    proc, recap = sc.playbook('switchover', '-e', 'target=%s' % PG2, '-e', 'pgstream_preflight_only=true')
    assert proc.returncode == 0
    assert 'lag: ' in proc.stdout and 'rewind: ' in proc.stdout
    assert recap and all(int(n) == 0 for n in recap.values()), recap
    assert sc.postmaster_start(PG1) == before
    assert_primary_with_standbys(PG1, [PG2, PG3])


def test_lagging_target_is_refused_and_nothing_changes():
    """Replay paused on pg2 and 4 MB written: a 1 MiB bound refuses, naming the check. Primary after: pg1."""
    before = sc.postmaster_start(PG1)
    sc.psql(PG2, 'SELECT pg_wal_replay_pause()')
    try:
        sc.psql(PG1, "SET synchronous_commit = local; CREATE TABLE IF NOT EXISTS lagfill AS "
                     "SELECT repeat('x', 1000) AS pad FROM generate_series(1, 4000)")
        proc, recap = sc.playbook('switchover', '-e', 'target=%s' % PG2,
                                  '-e', 'pgstream_switchover_max_lag_bytes=1048576')
    finally:
        sc.psql(PG2, 'SELECT pg_wal_replay_resume()')
    assert proc.returncode != 0
    assert 'refused, nothing was changed' in proc.stdout
    assert 'lag' in proc.stdout and '1048576' in proc.stdout
    assert recap and all(int(n) == 0 for n in recap.values()), recap
    assert sc.postmaster_start(PG1) == before
    assert_primary_with_standbys(PG1, [PG2, PG3])


def test_follower_without_a_password_for_the_target_is_refused_and_nothing_changes():
    """No password in the run and pg3's password file moved aside: pg3 could not authenticate to pg2 once repointed.
    The pre-flight's replication connection from pg3 to pg2 fails, so the run refuses before it stops anything (without
    that check it switched over and pg3 never streamed again). Primary after: pg1."""
    before = sc.postmaster_start(PG1)
    sc.podman('exec', PG3, 'mv', '/var/lib/postgresql/.pgpass', '/var/lib/postgresql/.pgpass.test-aside')
    try:
        proc, recap = sc.playbook('switchover', '-e', 'target=%s' % PG2, '-e', 'pgstream_replication_password=')
    finally:
        sc.podman('exec', PG3, 'mv', '/var/lib/postgresql/.pgpass.test-aside', '/var/lib/postgresql/.pgpass')
    assert proc.returncode != 0
    assert re.search(r'switchover to %s refused, nothing was changed: %s cannot open a replication connection to '
                     r'replicator@\S+:5432, which it would stream from: .*no password supplied' % (PG2, PG3),
                     proc.stdout), 'no refusal naming pg3 and its missing password'
    assert recap and all(int(n) == 0 for n in recap.values()), recap
    assert sc.postmaster_start(PG1) == before
    assert_primary_with_standbys(PG1, [PG2, PG3])


def test_switchover_to_pg2_loses_no_acknowledged_commit():
    """pg1 -> pg2 with the writer probe committing. Primary after: pg2."""
    p = probe()
    p.start()
    proc, _recap = sc.playbook('switchover', '-e', 'target=%s' % PG2)
    report = p.stop()
    assert proc.returncode == 0
    assert report['acked'] > 0
    assert report['lost_acked'] == 0, report
    assert report['servers'][-1].startswith(PG2), report
    print('SWITCHOVER pg1->pg2: wall %.1f s, write unavailability %s s, acked %s, lost %s'
          % (proc.elapsed, report['unavailability_s'], report['acked'], report['lost_acked']))
    assert_primary_with_standbys(PG2, [PG1, PG3])


def test_second_run_with_the_same_target_changes_nothing():
    """Primary after: pg2."""
    proc, recap = sc.playbook('switchover', '-e', 'target=%s' % PG2)
    assert proc.returncode == 0
    assert 'nothing to do' in proc.stdout
    assert recap and all(int(n) == 0 for n in recap.values()), recap
    assert_primary_with_standbys(PG2, [PG1, PG3])


def test_sibling_cut_off_during_switchover_then_rerun_finishes():
    """pg2 -> pg1 while pg3 loses the network before the promotion: the switchover itself completes
    (pg2 follows pg1, no acknowledged commit lost), the run fails naming pg3; once pg3 is back a second
    run finishes. Primary after: pg1."""
    pg3_ip = sc.address(PG3, NETWORK)
    p = probe()
    p.start()
    try:
        proc, _recap = sc.playbook('switchover', '-e', 'target=%s' % PG1, '-e', 'pgstream_switchover_timeout=60',
                                   '-e', 'pgstream_switchover_before_promote=%s' % sc.scenario_file('tasks/hook_disconnect_pg3.yml'))
        report = p.stop()
        # pg3's slot was created on pg1 before its promotion, so it starts before the switch and keeps the WAL pg3 has
        # not received while it is cut off (created after the promotion it started after the switch)
        before, restart, switch = sc.slot_starts_before_switch(PG1, 'pgstream_' + APP[PG3])
    finally:
        sc.podman('network', 'connect', '--ip', pg3_ip, NETWORK, PG3, check=False)
    assert proc.returncode != 0
    assert '%s does not stream from %s' % (PG3, PG1) in proc.stdout
    assert before, "pg3's slot on pg1 starts at %s, after the switch at %s" % (restart, switch)
    assert report['lost_acked'] == 0, report
    assert not sc.in_recovery(PG1)
    assert APP[PG2] in sc.streaming_from(PG1)
    proc, _recap = sc.playbook('switchover', '-e', 'target=%s' % PG1)
    assert proc.returncode == 0
    assert_primary_with_standbys(PG1, [PG2, PG3])


@pytest.mark.parametrize('hook', ['before_promote', 'before_stop'])
def test_target_killed_mid_switchover_restores_the_old_primary(hook):
    """pg1 -> pg2, pg2's container killed after pg1 stopped (before_promote: the promotion then waits for
    the hook) or before pg1 stops while pg2's early promotion waits for pg1's shutdown checkpoint
    (before_stop): pg1 runs as the primary again, pg3 streams from it, the run fails saying so; pg2,
    started again, is still a standby. Primary after: pg1."""
    proc, _recap = sc.playbook('switchover', '-e', 'target=%s' % PG2,
                               '-e', 'pgstream_switchover_%s=%s' % (hook, sc.scenario_file('tasks/hook_kill_target.yml')))
    assert proc.returncode != 0
    assert 'was started again as the primary' in proc.stdout
    assert 'failed at the promotion of %s (%s became unreachable' % (PG2, PG2) in proc.stdout
    assert not sc.in_recovery(PG1)
    table = 'after_kill_' + hook
    sc.psql(PG1, 'SET synchronous_commit = local; CREATE TABLE %s AS SELECT 1 AS one' % table)
    sc.wait_for(lambda: APP[PG3] in sc.streaming_from(PG1), 60, 'pg3 streaming from pg1')
    sc.start_killed(PG2, NETWORK, [PG1, PG3])
    sc.start_server(PG2)
    assert_primary_with_standbys(PG1, [PG2, PG3])
    assert sc.psql(PG2, 'SELECT one FROM %s' % table) == '1'


def test_stalled_promotion_cannot_finish_after_the_old_primary_is_back():
    """pg1 -> pg2 with pg2's startup process stopped (SIGSTOP): pg_promote() times out (5 s) and the old primary is
    started again. The promotion was requested, so pg2 would finish it as soon as its startup process runs again
    and the cluster would have two primaries: the switchover restarts pg2 as a standby first. The startup process is
    then let go (SIGCONT, a no-op once it was restarted) and pg2 must stay a standby of pg1, without the slots its
    promotion created. Primary after: pg1."""
    before = sc.psql(PG2, SLOTS)
    with sc.startup_process_stopped(PG2):
        proc, _recap = sc.playbook('switchover', '-e', 'target=%s' % PG2, '-e', 'pgstream_switchover_promote_timeout=5')
    assert proc.returncode != 0
    assert 'was started again as the primary' in proc.stdout
    assert not sc.in_recovery(PG1)
    assert sc.in_recovery(PG2), 'pg2 finished the promotion after pg1 was started again as the primary'
    assert '%s was restarted as a standby' % PG2 in proc.stdout
    # the slots the promotion created on pg2 for pg1 and pg3 are dropped: unused there, they would hold WAL
    assert 'the slots created on %s for its promotion were dropped' % PG2 in proc.stdout
    assert sc.psql(PG2, SLOTS) == before, 'pg2 kept the slots created for its promotion'
    # the message names the early promotion's timeout, which left the request, not only the later refusal
    assert re.search(r'before that, the early promotion: .+? is still in recovery 5 seconds after', proc.stdout)
    table = 'after_stalled_promotion'
    sc.psql(PG1, 'SET synchronous_commit = local; CREATE TABLE %s AS SELECT 1 AS one' % table)
    assert_primary_with_standbys(PG1, [PG2, PG3])
    sc.wait_for(lambda: sc.psql(PG2, 'SELECT count(*) FROM pg_class WHERE relname = %r' % table) == '1', 60,
                'pg2 replaying from pg1')


def test_stalled_promotion_on_a_target_that_cannot_be_seen_leaves_the_old_primary_stopped():
    """pg1 -> pg2 with pg2's startup process stopped, and its postmaster too once the early promotion was requested
    (15 s later, after its 5 s timeout): the rescue cannot look at pg2 over SQL, so it cannot tell whether the request
    will still finish. It tries to cancel it (a stop cannot end a stopped postmaster) and leaves pg1 stopped. Then
    pg2 is let go: the stops sent to it act, and it exits without finishing the promotion. Started again, pg2 is a
    standby (the slots its promotion created, which the message names, are dropped), then pg1 the primary. Primary
    after: pg1."""
    before = sc.psql(PG2, SLOTS)
    with sc.startup_process_stopped(PG2):
        with sc.postmaster_stopped_after_promote_request(PG2, settle=0) as held:
            # a stopped postmaster acts on no stop: short stop timeouts, as no wait would end differently
            proc, _recap = sc.playbook('switchover', '-e', 'target=%s' % PG2, '-e', 'pgstream_switchover_promote_timeout=5',
                                       '-e', 'pgstream_cancel_stop_timeout=3', '-e', 'pgstream_immediate_stop_timeout=3')
    assert held.get('stopped'), "pg2's postmaster was not stopped: no promotion was requested"
    primaries = [n for n in (PG1, PG2) if sc.psql(n, 'SELECT pg_is_in_recovery()', check=False) == 'f']
    assert primaries != [PG1, PG2], 'two primaries: pg1 was started again while the promotion of pg2 stood'
    assert proc.returncode != 0
    assert 'was left stopped so that the cluster cannot have two primaries' in proc.stdout
    assert 'no server running' in sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'status', check=False)
    assert 'The slots created on %s for its promotion are still there' % PG2 in proc.stdout
    sc.start_server(PG2)
    assert sc.in_recovery(PG2)
    # as the message says: pg2 stays a standby, so the slots its promotion created are dropped
    for name in set(sc.psql(PG2, SLOTS).split(',')) - set(before.split(',')):
        sc.psql(PG2, "SELECT pg_drop_replication_slot('%s')" % name)
    sc.start_server(PG1)
    assert_primary_with_standbys(PG1, [PG2, PG3])


def test_standby_down_during_switchover_streams_again_through_the_old_primary():
    """pg3's server is stopped while pg1 -> pg2 runs, with wal_keep_size = 0 on pg1 and pg2 and old WAL removed on
    both before and after the switch, so that only slots keep WAL. pg3 is not a follower of this run (it does not
    stream), so its recovery configuration still points at pg1: the slot pg1 held for it must still be on pg1, now a
    standby of pg2, holding the WAL pg3 has not received. Started again, pg3 streams from pg1 (cascading) and replays
    what pg2 wrote after the switch. Then pg2 -> pg1 makes it a standby of the primary again, and pg2 drops the slot
    for pg3 it had (pg3 streams from pg1). Primary after: pg1."""
    slot = 'pgstream_' + APP[PG3]
    sc.podman('exec', PG3, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'stop')
    try:
        sc.remove_old_wal(PG1, 'while_pg3_down')
        held = sc.psql(PG1, "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = '%s'" % slot)
        assert held, 'pg1 has no slot %s for pg3' % slot
        proc, _recap = sc.playbook('switchover', '-e', 'target=%s' % PG2)
        assert proc.returncode == 0
        assert_primary_with_standbys(PG2, [PG1])
        sc.remove_old_wal(PG2, 'after_switch_pg3_down')
        sc.psql(PG1, 'CHECKPOINT')  # a restartpoint: pg1 removes the WAL its slots do not hold
        kept = sc.psql(PG1, "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = '%s'" % slot)
    finally:
        sc.start_server(PG3)
        sc.reset_wal_keep_size(PG2)
        sc.reset_wal_keep_size(PG1)
    assert kept == held, 'the slot %s held at %s on pg1 before the switchover is %r after it' % (slot, held, kept)
    sc.wait_for(lambda: APP[PG3] in sc.streaming_from(PG1), 60, 'pg3 streaming from pg1 through the slot it kept')
    sc.wait_for(lambda: sc.psql(PG3, "SELECT count(*) FROM pg_class WHERE relname = 'after_switch_pg3_down'") == '1',
                60, 'pg3 replaying what pg2 wrote after the switch')
    # a slot for pg3 on pg2, as an earlier run could have left: pg3 streams from pg1, so pg2 drops it when it follows pg1
    sc.psql(PG2, "SELECT pg_create_physical_replication_slot('%s')" % slot)
    proc, _recap = sc.playbook('switchover', '-e', 'target=%s' % PG1)
    assert proc.returncode == 0
    assert_primary_with_standbys(PG1, [PG2, PG3])
    assert sc.psql(PG2, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '%s'" % slot) == '0', \
        'pg2 kept a slot for pg3, which streams from pg1'
