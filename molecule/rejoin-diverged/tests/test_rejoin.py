"""Rejoin of a diverged old primary (file order matters)."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'tests', 'tools'))
import scenario as sc  # noqa: E402  pylint: disable=wrong-import-position

PG1, PG2 = 'pgs-rj-pg1', 'pgs-rj-pg2'
NETWORK = 'pgstream-rj'
APP = dict((n, n.replace('-', '_')) for n in (PG1, PG2))
DATA = '/var/lib/postgresql/%s/main' % sc.PG_MAJOR
SLOT = 'pgstream_' + APP[PG1]
testinfra_hosts = [PG1]


def test_diverged_old_primary_is_rewound_keeping_its_config():
    """pg1 is cut off and takes writes pg2 never sees; failover stops the still running pg1 (forced while its
    walsender still lists pg2) and promotes pg2; rejoin rewinds pg1, keeping its ALTER SYSTEM setting."""
    sc.psql(PG1, "ALTER SYSTEM SET work_mem = '7MB'")
    ip = sc.address(PG1, NETWORK)
    sc.podman('network', 'disconnect', NETWORK, PG1)
    sc.psql(PG1, 'SET synchronous_commit = local; CREATE TABLE only_on_old AS SELECT g FROM generate_series(1, 1000) g')
    try:
        proc, _recap = sc.playbook('failover')
        if proc.returncode != 0:
            # pg1's walsender still lists pg2 (it has not noticed the cut yet): refused unless forced.
            assert 'this is not a failover' in proc.stdout
            proc, _recap = sc.playbook('failover', '-e', 'force=true')
        # else pg1 already had no standby: failover.yml stopped it as a cut-off primary.
    finally:
        sc.podman('network', 'connect', '--ip', ip, NETWORK, PG1)
    assert proc.returncode == 0
    status = sc.subprocess.run(['podman', 'exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'status'],
                               stdout=sc.subprocess.PIPE, stderr=sc.subprocess.STDOUT, check=False)
    assert status.returncode == 3, 'the forced failover left the old primary running'
    sc.psql(PG2, 'CREATE TABLE after_failover AS SELECT 1 AS one')
    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1, '-v')
    assert proc.returncode == 0
    assert '"forked": true' in proc.stdout and '"rewound": true' in proc.stdout
    assert '"source_wal_checked": true' in proc.stdout, 'the source\'s WAL of the fork was not checked'
    copied = re.search(r'pg_rewind copied (\d+) MB of the (\d+) MB', proc.stdout)
    assert copied and 0 < int(copied.group(1)) <= int(copied.group(2)), 'no "pg_rewind copied" line'
    sc.wait_for(lambda: sc.streaming_from(PG2) == [APP[PG1]], 60, 'pg1 streaming from pg2')
    assert sc.psql(PG1, "SELECT to_regclass('only_on_old') IS NULL") == 't'
    sc.wait_for(lambda: sc.psql(PG1, "SELECT to_regclass('after_failover') IS NOT NULL") == 't', 30, 'pg2 rows on pg1')
    assert "work_mem = '7MB'" in sc.podman('exec', PG1, 'cat', DATA + '/postgresql.auto.conf')


def test_rewind_impossible_is_refused_then_recloned_when_allowed():
    """pg1 runs without wal_log_hints and without data checksums, is promoted on its own side and diverges:
    pg_rewind cannot work. rejoin fails with the reason and leaves the data directory; with allow_reclone=true pg1
    is re-cloned and its old data directory is moved aside."""
    sc.psql(PG1, 'ALTER SYSTEM SET wal_log_hints = off')
    checksums = sc.psql(PG1, 'SHOW data_checksums') == 'on'
    sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'stop', '-m', 'fast')
    if checksums:
        # initdb enables them by default from PostgreSQL 18 on, and pg_rewind works with them (as with
        # wal_log_hints): switched off here, which only rewrites the control file of the stopped cluster.
        sc.podman('exec', '-u', 'postgres', PG1, '/usr/lib/postgresql/%s/bin/pg_checksums' % sc.PG_MAJOR,
                  '--disable', '-D', DATA)
    sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'start')
    assert sc.psql(PG1, 'SHOW data_checksums') == 'off' and sc.psql(PG1, 'SHOW wal_log_hints') == 'off'
    ip = sc.address(PG1, NETWORK)
    sc.podman('network', 'disconnect', NETWORK, PG1)
    sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'promote')
    sc.wait_for(lambda: not sc.in_recovery(PG1), 30, 'pg1 promoted')
    sc.psql(PG1, 'CREATE TABLE only_on_old2 AS SELECT 1 AS one')
    sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'stop', '-m', 'fast')
    sc.podman('network', 'connect', '--ip', ip, NETWORK, PG1)
    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1)
    assert proc.returncode != 0
    assert 'cannot be rewound' in proc.stdout and 'allow_reclone=true' in proc.stdout
    assert 'wal_log_hints' in proc.stdout
    assert sc.podman('exec', PG1, 'ls', DATA + '/PG_VERSION') == DATA + '/PG_VERSION'
    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1, '-e', 'allow_reclone=true')
    assert proc.returncode == 0
    sc.wait_for(lambda: sc.streaming_from(PG2) == [APP[PG1]], 60, 'pg1 streaming from pg2 after the re-clone')
    moved = sc.podman('exec', PG1, 'sh', '-c', 'ls -d %s.moved-*' % DATA)
    assert moved.startswith(DATA + '.moved-')
    assert sc.podman('exec', PG1, 'ls', moved + '/PG_VERSION')


def ls(container, pattern):
    """The paths matching a shell pattern in the container (sorted), [] when none."""
    out = sc.podman('exec', container, 'sh', '-c', 'ls -d %s 2>/dev/null || true' % pattern)
    return sorted(out.split())


def reset_wal_keep_size():
    """pg2 back to the role's wal_keep_size (the WAL it removed meanwhile stays removed)."""
    sc.reset_wal_keep_size(PG2)


def test_rewind_refused_when_the_new_primary_removed_the_wal_of_the_fork():
    """pg1 (a standby of pg2) is cut off, promoted and diverges. pg2 loses pg1's slot and, with wal_keep_size=0, removes
    the WAL where the timelines forked: a rewound pg1 could never catch up. rejoin refuses before changing anything;
    with allow_reclone=true pg1 is re-cloned and its diverged data directory moved aside as it was."""
    moved_before = ls(PG1, DATA + '.moved-*')
    sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'stop', '-m', 'fast')
    ip = sc.address(PG1, NETWORK)
    sc.podman('network', 'disconnect', NETWORK, PG1)
    try:
        sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'start')
        sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'promote')
        sc.wait_for(lambda: not sc.in_recovery(PG1), 30, 'pg1 promoted')
        sc.psql(PG1, 'CREATE TABLE only_on_old3 AS SELECT 1 AS one')
        sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'stop', '-m', 'fast')
        sc.psql(PG2, "SELECT pg_drop_replication_slot('%s')" % SLOT)
        sc.remove_old_wal(PG2, 'after_fork')
    finally:
        sc.podman('network', 'connect', '--ip', ip, NETWORK, PG1)
    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1)
    assert proc.returncode != 0
    assert 'cannot be rewound' in proc.stdout and 'allow_reclone=true' in proc.stdout
    fork = re.search(r'rewind impossible: \S+ no longer has the WAL where the timelines diverged \(\S+, timeline \d+; '
                     r'segment ([0-9A-F]{24})\)', proc.stdout)
    assert fork, 'no "rewind impossible" reason'
    assert not ls(PG2, '%s/pg_wal/%s' % (DATA, fork.group(1))), 'pg2 still has the segment of the fork'
    assert ls(PG1, DATA + '/backup_label') == [], 'pg1 was rewound although it was refused'

    reset_wal_keep_size()  # before the re-clone, which copies pg2's postgresql.auto.conf
    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1, '-e', 'allow_reclone=true')
    assert proc.returncode == 0
    sc.wait_for(lambda: sc.streaming_from(PG2) == [APP[PG1]], 60, 'pg1 streaming from pg2 after the re-clone')
    assert sc.psql(PG1, "SELECT to_regclass('only_on_old3') IS NULL") == 't'
    moved = [m for m in ls(PG1, DATA + '.moved-*') if m not in moved_before]
    assert len(moved) == 1 and ls(PG1, moved[0] + '/PG_VERSION')
    assert ls(PG1, moved[0] + '/backup_label') == [], 'the moved-aside data directory was rewound'


def test_node_stuck_waiting_for_removed_wal_is_stopped_then_recloned():
    """pg1 forks again while pg2 (no slot for pg1, wal_keep_size=0) removes the WAL of the fork, and is
    rewound by force (require_source_wal=false) and started as a standby: it waits for WAL nobody has and never
    accepts connections. rejoin stops that postmaster and refuses; with allow_reclone=true it re-clones pg1."""
    moved_before = ls(PG1, DATA + '.moved-*')
    sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'stop', '-m', 'fast')
    ip = sc.address(PG1, NETWORK)
    sc.podman('network', 'disconnect', NETWORK, PG1)
    try:
        sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'start')
        sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'promote')
        sc.wait_for(lambda: not sc.in_recovery(PG1), 30, 'pg1 promoted')
        sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'stop', '-m', 'fast')
        sc.psql(PG2, "SELECT pg_drop_replication_slot('%s')" % SLOT)
        sc.remove_old_wal(PG2, 'after_fork')
    finally:
        sc.podman('network', 'connect', '--ip', ip, NETWORK, PG1)
    forced = sc.subprocess.run(
        ['ansible', '-i', sc.inventory(), PG1, '-b', '-m', 'pgstream.replication.rewind', '-a',
         'data_dir=%s config_file=/etc/postgresql/%s/main/postgresql.conf source_host=%s require_source_wal=false '
         'source_password={{ pgstream_replication_password }}' % (DATA, sc.PG_MAJOR, sc.address(PG2, NETWORK))],
        stdout=sc.subprocess.PIPE, stderr=sc.subprocess.STDOUT, universal_newlines=True, check=False)
    print(forced.stdout[-3000:])
    assert forced.returncode == 0 and '"rewound": true' in forced.stdout
    sc.podman('exec', PG1, 'runuser', '-u', 'postgres', '--', 'touch', DATA + '/standby.signal')
    sc.podman('exec', PG1, 'timeout', '10', 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'start', check=False)
    # PostgreSQL 14 and later say "not yet accepting connections" before a standby is consistent; 13 says "starting up"
    sc.wait_for(lambda: re.search('not yet accepting connections|the database system is starting up',
                                  sc.psql(PG1, 'SELECT 1', check=False)), 30, 'pg1 running and waiting for WAL')

    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1)
    assert proc.returncode != 0
    # refused by the catch-up check, or by pg_rewind's dry run on a data directory it left unfinished
    assert 'cannot be rewound' in proc.stdout and 'allow_reclone=true' in proc.stdout
    status = sc.subprocess.run(['podman', 'exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'status'],
                               stdout=sc.subprocess.PIPE, stderr=sc.subprocess.STDOUT, check=False)
    assert status.returncode == 3, 'the stuck postmaster still runs'
    reset_wal_keep_size()
    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1, '-e', 'allow_reclone=true')
    assert proc.returncode == 0
    sc.wait_for(lambda: sc.streaming_from(PG2) == [APP[PG1]], 60, 'pg1 streaming from pg2 after the re-clone')
    moved = [m for m in ls(PG1, DATA + '.moved-*') if m not in moved_before]
    assert len(moved) == 1


def test_standby_that_stayed_away_too_long_is_refused_then_recloned():
    """pg1, a standby that did not fork, is stopped; pg2 drops its slot and, with wal_keep_size=0, removes the WAL pg1
    would stream next. rejoin needs no rewind but refuses before starting pg1 (it could never catch up); with
    allow_reclone=true pg1 is re-cloned."""
    moved_before = ls(PG1, DATA + '.moved-*')
    sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'stop', '-m', 'fast')
    sc.psql(PG2, "SELECT pg_drop_replication_slot('%s')" % SLOT)
    sc.remove_old_wal(PG2, 'while_away')
    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1)
    assert proc.returncode != 0
    needed = re.search(r'no rewind is needed, but \S+ cannot catch up: its own WAL ends in segment ([0-9A-F]{24}), and '
                       r'\S+ no longer has the WAL from there on', proc.stdout)
    assert needed, 'no "cannot catch up" reason'
    assert 'allow_reclone=true' in proc.stdout
    assert not ls(PG2, '%s/pg_wal/%s' % (DATA, needed.group(1))), 'pg2 still has the segment pg1 needs'
    status = sc.subprocess.run(['podman', 'exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'status'],
                               stdout=sc.subprocess.PIPE, stderr=sc.subprocess.STDOUT, check=False)
    assert status.returncode == 3, 'pg1 was started although it cannot catch up'

    reset_wal_keep_size()
    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1, '-e', 'allow_reclone=true')
    assert proc.returncode == 0
    sc.wait_for(lambda: sc.streaming_from(PG2) == [APP[PG1]], 60, 'pg1 streaming from pg2 after the re-clone')
    sc.wait_for(lambda: sc.psql(PG1, "SELECT to_regclass('while_away') IS NOT NULL") == 't', 30, 'pg2 rows on pg1')
    moved = [m for m in ls(PG1, DATA + '.moved-*') if m not in moved_before]
    assert len(moved) == 1


def slot_wal_status():
    return sc.psql(PG2, "SELECT wal_status FROM pg_replication_slots WHERE slot_name = '%s'" % SLOT)


def test_standby_whose_slot_was_invalidated_gets_a_new_slot_and_is_recloned():
    """pg1, a standby, is stopped and keeps its slot on pg2, but pg2 (max_slot_wal_keep_size=1MB, wal_keep_size=0
    here) invalidates the slot once it holds back more WAL than that (wal_status lost) and removes the WAL. Such a
    slot can never serve again, and a pg_basebackup through it fails. rejoin refuses (pg1 cannot catch up) and
    creates the slot again; with allow_reclone=true pg1 is re-cloned through it and streams."""
    moved_before = ls(PG1, DATA + '.moved-*')
    sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'stop', '-m', 'fast')
    assert slot_wal_status() == 'reserved'
    sc.psql(PG2, 'ALTER SYSTEM SET wal_keep_size = 0')
    sc.psql(PG2, "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
    sc.psql(PG2, 'SELECT pg_reload_conf()')

    def invalidated():
        sc.psql(PG2, 'CREATE TABLE IF NOT EXISTS slot_lost (i int); INSERT INTO slot_lost VALUES (1); '
                     'SELECT pg_switch_wal()')
        sc.psql(PG2, 'CHECKPOINT')
        return slot_wal_status() == 'lost'
    sc.wait_for(invalidated, 30, "pg2 invalidating pg1's slot")
    for dummy in range(3):  # and removing the WAL pg1 would stream next, as in the test above
        sc.psql(PG2, 'INSERT INTO slot_lost VALUES (2); SELECT pg_switch_wal()')
    sc.psql(PG2, 'CHECKPOINT')
    sc.psql(PG2, 'CHECKPOINT')
    sc.psql(PG2, 'ALTER SYSTEM RESET max_slot_wal_keep_size')
    reset_wal_keep_size()  # also reloads; an invalidated slot stays invalidated

    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1)
    assert proc.returncode != 0
    # the cluster table, printed before anything is done, names the lost slot and its standby
    assert 'slot %s on %s was invalidated (wal_status lost): %s cannot catch up through it' % (SLOT, PG2, PG1) \
        in proc.stdout
    assert 'cannot catch up' in proc.stdout and 'allow_reclone=true' in proc.stdout
    assert slot_wal_status() == 'reserved', 'the invalidated slot was not created again'
    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1, '-e', 'allow_reclone=true')
    assert proc.returncode == 0
    sc.wait_for(lambda: sc.streaming_from(PG2) == [APP[PG1]], 60, 'pg1 streaming from pg2 after the re-clone')
    sc.wait_for(lambda: sc.psql(PG1, "SELECT to_regclass('slot_lost') IS NOT NULL") == 't', 30, 'pg2 rows on pg1')
    assert sc.psql(PG2, "SELECT active FROM pg_replication_slots WHERE slot_name = '%s'" % SLOT) == 't'
    moved = [m for m in ls(PG1, DATA + '.moved-*') if m not in moved_before]
    assert len(moved) == 1


def test_node_with_a_lost_data_directory_is_refused_then_cloned():
    """pg1's disk is lost: its server stops and its data directory is gone. rejoin shows it as stopped with no data
    directory and refuses, changing nothing; with allow_reclone=true pg1 is cloned from pg2 (nothing to move aside)."""
    moved_before = ls(PG1, DATA + '.moved-*')
    sc.podman('exec', PG1, 'pg_ctlcluster', sc.PG_MAJOR, 'main', 'stop', '-m', 'immediate')
    sc.podman('exec', PG1, 'rm', '-rf', DATA)
    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1)
    assert proc.returncode != 0
    assert 'stopped (no data directory)' in proc.stdout, 'the cluster table does not show the lost data directory'
    assert re.search(r'cannot be rewound from \S+: data_dir %s does not exist' % re.escape(DATA), proc.stdout)
    assert 'No data directory was created' in proc.stdout and 'allow_reclone=true' in proc.stdout
    assert not ls(PG1, DATA), 'the refused rejoin created the data directory'

    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1, '-e', 'allow_reclone=true')
    assert proc.returncode == 0
    sc.wait_for(lambda: sc.streaming_from(PG2) == [APP[PG1]], 60, 'pg1 streaming from pg2 after the clone')
    sc.wait_for(lambda: sc.psql(PG1, "SELECT to_regclass('while_away') IS NOT NULL") == 't', 30, 'pg2 rows on pg1')
    assert sc.podman('exec', PG1, 'stat', '-c', '%a %U', DATA) == '700 postgres'
    assert ls(PG1, DATA + '.moved-*') == moved_before, 'something was moved aside although nothing was there'
    proc, _recap = sc.playbook('rejoin', '-e', 'node=%s' % PG1)
    assert proc.returncode == 0 and 'already streams from a running member: nothing to do' in proc.stdout
