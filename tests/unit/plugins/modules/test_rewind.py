# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import pwd

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils import commands, singleuser
from ansible_collections.pgstream.replication.plugins.modules import rewind
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.fake_cmd import FakeRunner, run_module

PASSWORD = 'S0urce-Secret'
OWNER_UID = 1000
CONNINFO = 'host=pg2 port=5432 user=replicator dbname=postgres application_name=pgstream.replication connect_timeout=10'

# What pg_rewind prints (C locale). PostgreSQL 12+ logs to stderr with a "pg_rewind: " prefix; 10 and 11 printf
# the progress lines to stdout and the errors to stderr.
DIVERGED_15 = ('pg_rewind: servers diverged at WAL location 0/3050A58 on timeline 1\n'
               'pg_rewind: rewinding from last common checkpoint at 0/30509E0 on timeline 1\n'
               'pg_rewind: Done!\n')
# pg_rewind --progress of PostgreSQL 15 (a small cluster: the 35 MB are two WAL segments and the rest)
PROGRESS_15 = ('pg_rewind: connected to server\n'
               'pg_rewind: servers diverged at WAL location 0/3000000 on timeline 1\n'
               'pg_rewind: rewinding from last common checkpoint at 0/2000098 on timeline 1\n'
               'pg_rewind: reading source file list\npg_rewind: reading target file list\npg_rewind: reading WAL in target\n'
               'pg_rewind: need to copy 35 MB (total source directory size is 57 MB)\n'
               '    0/36530 kB (0%) copied\n36530/36530 kB (100%) copied\n'
               'pg_rewind: creating backup label and updating control file\npg_rewind: syncing target data directory\n'
               'pg_rewind: Done!\n')
NO_REWIND_15 = 'pg_rewind: servers diverged at WAL location 0/3050A58 on timeline 1\npg_rewind: no rewind required\n'
SAME_TIMELINE_15 = 'pg_rewind: source and target cluster are on the same timeline\npg_rewind: no rewind required\n'
DIVERGED_11 = ('servers diverged at WAL location 0/5000000 on timeline 2\n'
               'rewinding from last common checkpoint at 0/4000060 on timeline 2\nDone!\n')
NO_REWIND_11 = 'servers diverged at WAL location 0/5000000 on timeline 2\nno rewind required\n'
# pg_waldump --stats from the target's last checkpoint (0/30509E0 in controldata_text) to the end of its WAL, and the
# source's pg_wal as psql lists it (SOURCE_WAL_SQL): it still has segment 3, where that WAL ends
WAL_END_15 = 'pg_waldump: error: error in WAL record at 0/30509E0: invalid record length at 0/3050A58: wanted 24, got 0\n'
SOURCE_WAL_15 = '000000010000000000000003\n000000010000000000000004\narchive_status\n'


def controldata_text(state, timeline=1):
    return ('pg_control version number:            1300\n'
            'Database system identifier:           7711330958549827612\n'
            'Database cluster state:               %s\n'
            'Latest checkpoint location:           0/30509E0\n'
            "Latest checkpoint's REDO location:    0/30509E0\n"
            "Latest checkpoint's TimeLineID:       %d\n"
            'wal_log_hints setting:                on\n'
            'Data page checksum version:           0\n' % (state, timeline))


class Target:
    """The target data directory and the programs that act on it."""

    def __init__(self, path, state='shut down', dry=(0, '', NO_REWIND_15), real=(0, '', DIVERGED_15),
                 waldump=(1, '', WAL_END_15), source_wal=(0, SOURCE_WAL_15, ''),
                 single=(0, 'PostgreSQL stand-alone backend 15.8\nbackend> ', ''), single_state='shut down',
                 pg_ctl_start=(0, 'waiting for server to start.... done\nserver started\n', ''), start_leaves_running=True,
                 standby_state='shut down in recovery'):
        self.path = path
        self.state = state
        self.dry = dry
        self.waldump = waldump
        self.source_wal = source_wal
        self.real = real
        self.single = single
        self.single_state = single_state
        self.signals_during_single = None
        self.files_during_rewind = None
        self.pg_ctl_calls = []
        self.pg_ctl_start = pg_ctl_start
        self.start_leaves_running = start_leaves_running
        self.standby_state = standby_state
        self.running = False

    def pg_ctl(self, argv, kw):
        self.pg_ctl_calls.append((list(argv), sorted(os.listdir(self.path))))
        if argv[1] == 'start':
            if self.pg_ctl_start[0] == 0 or self.start_leaves_running:
                self.running = True
            return self.pg_ctl_start
        if not self.running:
            return 1, '', 'pg_ctl: PID file "%s/postmaster.pid" does not exist\nIs server running?\n' % self.path
        self.running = False
        if argv[argv.index('-m') + 1] == 'fast':
            self.state = self.standby_state
        return 0, 'waiting for server to shut down.... done\nserver stopped\n', ''

    def pg_controldata(self, argv, kw):
        return 0, controldata_text(self.state), ''

    def postgres(self, argv, kw):
        self.signals_during_single = singleuser.signal_files(self.path)
        if self.single[0] == 0:
            self.state = self.single_state
        return self.single

    def pg_rewind(self, argv, kw):
        if '--dry-run' in argv:
            return self.dry
        # pg_rewind copies the source's configuration files over the target's
        self.files_during_rewind = sorted(os.listdir(self.path))
        for name in ('postgresql.auto.conf', 'pg_hba.conf'):
            with open(os.path.join(self.path, name), 'w') as f:
                f.write('# from the source\nprimary_conninfo = \'host=old\'\n')
        if self.real[0] == 0:
            self.state = 'in archive recovery'
        return self.real


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / 'main'
    (d / 'global').mkdir(parents=True)
    (d / 'global' / 'pg_control').write_bytes(b'\0' * 8192)
    (d / 'PG_VERSION').write_text(u'15\n')
    (d / 'postgresql.auto.conf').write_text(u"work_mem = '7MB'\n")
    return str(d)


def fake_run_until(module, argv, stop_at, secrets=(), env=None, cwd=None):
    """commands.run_until through module.run_command (the FakeRunner): the output up to the first line matching stop_at."""
    rc, out, err = module.run_command(argv, check_rc=False, environ_update=env or {}, cwd=cwd)
    lines = ('%s%s' % (out or '', err or '')).splitlines(True)
    for i, line in enumerate(lines):
        if stop_at.search(line):
            return None, commands.redact(''.join(lines[:i + 1]), secrets), True
    return rc, commands.redact(''.join(lines), secrets), False


def setup(monkeypatch, euid=OWNER_UID, pid=None):
    monkeypatch.setattr(rewind, 'run_until', fake_run_until)
    monkeypatch.setattr(singleuser.os, 'geteuid', lambda: euid)
    monkeypatch.setattr(singleuser.pwd, 'getpwnam',
                        lambda name: pwd.struct_passwd((name, 'x', OWNER_UID, OWNER_UID, '', '/var/lib/postgresql', '/bin/sh')))
    monkeypatch.setattr(rewind.AnsibleModule, 'get_bin_path',
                        lambda self, name, required=False, opt_dirs=None: '/usr/bin/%s' % name)
    monkeypatch.setattr(rewind, 'find_bindir', lambda module, major=None, bindir=None: bindir or '/usr/lib/postgresql/%s/bin' % major)
    monkeypatch.setattr(rewind, 'postmaster_pid', lambda path: pid)
    monkeypatch.setattr(rewind, 'executable', lambda path: True)
    # os.fchown to the fake owner needs root; the passfile's owner is checked separately
    monkeypatch.setattr(singleuser.os, 'fchown', lambda fd, uid, gid: None)


def go(monkeypatch, data_dir, args=None, target=None, check_mode=False, euid=OWNER_UID, pid=None):
    setup(monkeypatch, euid=euid, pid=pid)
    target = target or Target(data_dir)
    runner = FakeRunner({'pg_controldata': target.pg_controldata, 'postgres': target.postgres,
                         'pg_rewind': target.pg_rewind, 'pg_ctl': target.pg_ctl,
                         'pg_waldump': lambda argv, kw: target.waldump, 'psql': lambda argv, kw: target.source_wal})
    all_args = dict(data_dir=data_dir, source_host='pg2', source_password=PASSWORD)
    all_args.update(args or {})
    if all_args.get('source_password') is None:
        all_args.pop('source_password')
    result = run_module(rewind, all_args, check_mode=check_mode, runner=runner, monkeypatch=monkeypatch)
    assert PASSWORD not in result.text
    for argv in runner.argvs():
        assert PASSWORD not in ' '.join(argv)
    return result, runner, target


def rewind_argv(data_dir, dry_run, extra=('--no-ensure-shutdown',), conninfo=CONNINFO):
    return ['/usr/lib/postgresql/15/bin/pg_rewind'] + (['--dry-run', '--debug'] if dry_run else []) + \
        ['--progress', '--target-pgdata', data_dir, '--source-server', conninfo] + list(extra)


RETURN_KEYS = ('changed', 'forked', 'diverged_lsn', 'diverged_timeline', 'crash_recovered', 'rewound', 'preserved',
               'cluster_state_before', 'timeline_before', 'cmd', 'stdout_lines', 'stderr_lines')


# ---- argument validation -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('args, message', [
    ({'source_host': None}, 'source_host'),
    ({'source_host': '  '}, 'source_host must not be empty'),
    ({'source_passfile': '/etc/hostname'}, 'mutually exclusive'),
    ({'bindir': '/x', 'pg_major': '15'}, 'mutually exclusive'),
    ({'source_port': 0}, 'source_port must be between 1 and 65535'),
    ({'connect_timeout': 0}, 'connect_timeout must be at least 1'),
    ({'timeout': -1}, 'timeout must be 0'),
    ({'recovery_timeout': 0}, 'recovery_timeout must be at least 1'),
    ({'preserve': ['../pg_hba.conf']}, 'preserve entries must be paths relative'),
    ({'preserve': ['/etc/passwd']}, 'preserve entries must be paths relative'),
    ({'source_password': None, 'source_passfile': '/nonexistent/pgpass'}, 'source_passfile /nonexistent/pgpass does not exist'),
    ({'config_file': '/nonexistent/postgresql.conf'}, 'config_file /nonexistent/postgresql.conf does not exist'),
    ({'data_dir': 'relative'}, 'data_dir must be an absolute path'),
    ({'data_dir': '/'}, 'data_dir must be an absolute path other than /'),
    ({'data_dir': '/nonexistent/pgstream/main'}, 'does not exist'),
])
def test_arguments(monkeypatch, data_dir, args, message):
    result, runner, target = go(monkeypatch, data_dir, args)
    assert result['failed'] and message in result['msg']
    assert runner.calls == []


def test_refuses_a_running_postmaster(monkeypatch, data_dir):
    result, runner, target = go(monkeypatch, data_dir, pid=4242)
    assert result['failed'] and 'a postmaster (pid 4242) is running' in result['msg']
    assert runner.calls == []


def test_not_a_cluster(monkeypatch, tmp_path):
    result, runner, target = go(monkeypatch, str(tmp_path))
    assert result['failed'] and 'no global/pg_control' in result['msg']


@pytest.mark.parametrize('major, message', [
    ('9.6', 'PostgreSQL 9.6 is not supported'),
    ('12', 'restore_target_wal needs PostgreSQL 13'),
])
def test_versions(monkeypatch, data_dir, major, message):
    with open(os.path.join(data_dir, 'PG_VERSION'), 'w') as f:
        f.write(major + '\n')
    result, runner, target = go(monkeypatch, data_dir, {'restore_target_wal': True})
    assert result['failed'] and message in result['msg']
    assert runner.argvs('pg_rewind') == []


# ---- the dry run decides -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('dry, lsn, tli', [
    ((0, '', NO_REWIND_15), '0/3050A58', 1),
    ((0, '', SAME_TIMELINE_15), None, None),
    ((0, NO_REWIND_11, ''), '0/5000000', 2),
])
@pytest.mark.parametrize('check_mode', [False, True])
def test_no_rewind_required(monkeypatch, data_dir, dry, lsn, tli, check_mode):
    target = Target(data_dir, dry=dry)
    result, runner, target = go(monkeypatch, data_dir, target=target, check_mode=check_mode)
    assert not result.get('failed')
    assert result['changed'] is False and result['forked'] is False and result['rewound'] is False
    assert result['diverged_lsn'] == lsn and result['diverged_timeline'] == tli
    assert result['crash_recovered'] is False and result['preserved'] == []
    assert result['cluster_state_before'] == 'shut down' and result['timeline_before'] == 1
    assert runner.argvs('pg_rewind') == [rewind_argv(data_dir, True)]
    assert result['cmd'] == rewind_argv(data_dir, True)
    assert 'no rewind required' in result['msg']
    assert all(k in result for k in RETURN_KEYS)
    if check_mode:
        assert result['would_rewind'] is False and result['would_crash_recover'] is False
    else:
        assert 'would_rewind' not in result


def last_call(runner, name):
    return [c for c in runner.calls if FakeRunner.program(c[0])[0] == name][-1]


def test_dry_run_environment_and_passfile(monkeypatch, data_dir):
    result, runner, target = go(monkeypatch, data_dir)
    argv, kw, snapshot = last_call(runner, 'pg_rewind')
    env = kw['environ_update']
    assert env['LC_ALL'] == 'C' and kw['cwd'] == '/'
    assert snapshot == {'passfile_mode': 0o600, 'passfile_content': 'pg2:5432:*:replicator:%s\n' % PASSWORD}
    assert not os.path.exists(env['PGPASSFILE'])
    assert result['stderr_lines'] == NO_REWIND_15.splitlines() and result['stdout_lines'] == []


def test_source_passfile(monkeypatch, data_dir, tmp_path):
    passfile = tmp_path / 'pgpass'
    passfile.write_text(u'*:*:*:replicator:x\n')
    result, runner, target = go(monkeypatch, data_dir, {'source_password': None, 'source_passfile': str(passfile)})
    env = last_call(runner, 'pg_rewind')[1]['environ_update']
    assert env['PGPASSFILE'] == str(passfile) and passfile.exists()


def test_no_password_no_passfile(monkeypatch, data_dir):
    result, runner, target = go(monkeypatch, data_dir, {'source_password': None})
    assert 'PGPASSFILE' not in last_call(runner, 'pg_rewind')[1]['environ_update']


def test_connection_options(monkeypatch, data_dir):
    result, runner, target = go(monkeypatch, data_dir, {'source_host': 'pg 2', 'source_port': 5433, 'source_user': 'rewinder',
                                                        'source_dbname': 'db', 'connect_timeout': 3})
    conninfo = ("host='pg 2' port=5433 user=rewinder dbname=db application_name=pgstream.replication connect_timeout=3")
    assert runner.argvs('pg_rewind') == [rewind_argv(data_dir, True, conninfo=conninfo)]


@pytest.mark.parametrize('major, extra', [
    ('12', []),
    ('13', ['--no-ensure-shutdown']),
    ('18', ['--no-ensure-shutdown']),
])
def test_no_ensure_shutdown_from_13(monkeypatch, data_dir, major, extra):
    with open(os.path.join(data_dir, 'PG_VERSION'), 'w') as f:
        f.write(major + '\n')
    result, runner, target = go(monkeypatch, data_dir)
    argv = runner.argvs('pg_rewind')[0]
    assert argv[0] == '/usr/lib/postgresql/%s/bin/pg_rewind' % major
    assert argv[argv.index('--source-server') + 2:] == extra


def test_restore_target_wal_and_timeout(monkeypatch, data_dir):
    result, runner, target = go(monkeypatch, data_dir, {'restore_target_wal': True, 'timeout': 600})
    argv = runner.argvs('pg_rewind')[0]
    assert argv[:4] == ['/usr/bin/timeout', '-k', '10', '600']
    assert argv[-2:] == ['--no-ensure-shutdown', '--restore-target-wal']


def test_as_root_through_runuser(monkeypatch, data_dir):
    result, runner, target = go(monkeypatch, data_dir, euid=0)
    assert runner.argvs('pg_rewind') == [['/usr/bin/runuser', '-u', 'postgres', '--'] + rewind_argv(data_dir, True)]


def test_dry_run_says_nothing_useful(monkeypatch, data_dir):
    result, runner, target = go(monkeypatch, data_dir, target=Target(data_dir, dry=(0, '', 'pg_rewind: Done!\n')))
    assert result['failed'] and 'cannot tell whether' in result['msg'] and result['forked'] is None


# ---- rewinding -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('dry, real, lsn, tli, sizes', [
    ((0, '', DIVERGED_15), (0, '', DIVERGED_15), '0/3050A58', 1, (None, None)),
    ((0, DIVERGED_11, ''), (0, DIVERGED_11, ''), '0/5000000', 2, (None, None)),
    ((0, '', PROGRESS_15), (0, '', PROGRESS_15), '0/3000000', 1, (35, 57)),
])
def test_rewind_when_forked(monkeypatch, data_dir, dry, real, lsn, tli, sizes):
    with open(os.path.join(data_dir, 'pg_ident.conf'), 'w') as f:
        f.write('# mine\n')
    target = Target(data_dir, dry=dry, real=real)
    result, runner, target = go(monkeypatch, data_dir, target=target)
    assert not result.get('failed'), result['msg']
    assert result['changed'] is True and result['forked'] is True and result['rewound'] is True
    assert result['diverged_lsn'] == lsn and result['diverged_timeline'] == tli
    assert (result['copy_mb'], result['source_mb']) == sizes
    assert runner.argvs('pg_rewind') == [rewind_argv(data_dir, True), rewind_argv(data_dir, False)]
    assert result['cmd'] == rewind_argv(data_dir, False)
    assert '-R' not in result['cmd'] and '--write-recovery-conf' not in result['cmd']
    # the existing preserve files came back; pg_hba.conf did not exist before, so the source's copy stays
    assert result['preserved'] == ['postgresql.auto.conf', 'pg_ident.conf']
    with open(os.path.join(data_dir, 'postgresql.auto.conf')) as f:
        assert f.read() == "work_mem = '7MB'\n"
    with open(os.path.join(data_dir, 'pg_ident.conf')) as f:
        assert f.read() == '# mine\n'
    # no saved copies or temporary files left behind
    assert [n for n in os.listdir(os.path.dirname(data_dir)) if n != 'main'] == []
    assert not [n for n in os.listdir(data_dir) if 'pgstream' in n]
    assert 'rewound %s' % data_dir in result['msg'] and 'restored postgresql.auto.conf, pg_ident.conf' in result['msg']


@pytest.mark.parametrize('check_mode', [True, False])
def test_the_dry_run_is_stopped_once_it_says_what_it_would_copy(monkeypatch, data_dir, check_mode):
    # after "need to copy" a dry run would fetch all of it from the source and throw it away
    result, runner, target = go(monkeypatch, data_dir, target=Target(data_dir, dry=(0, '', PROGRESS_15),
                                                                     real=(0, '', PROGRESS_15)), check_mode=check_mode)
    assert not result.get('failed'), result['msg']
    assert result['dry_run_stopped'] is True and result['forked'] is True and (result['copy_mb'], result['source_mb']) == (35, 57)
    assert result['rewound'] is not check_mode
    if check_mode:
        assert result['stderr_lines'][-1] == 'pg_rewind: need to copy 35 MB (total source directory size is 57 MB)'
        assert not [line for line in result['stderr_lines'] if 'copied' in line]


@pytest.mark.parametrize('dry', [(0, '', NO_REWIND_15), (0, '', DIVERGED_15), (1, '', 'pg_rewind: error: could not connect\n')])
def test_a_dry_run_without_the_copy_line_runs_to_its_end(monkeypatch, data_dir, dry):
    result, runner, target = go(monkeypatch, data_dir, target=Target(data_dir, dry=dry), check_mode=True)
    assert result['dry_run_stopped'] is False


def test_check_mode_only_dry_runs(monkeypatch, data_dir):
    target = Target(data_dir, dry=(0, '', DIVERGED_15))
    result, runner, target = go(monkeypatch, data_dir, target=target, check_mode=True)
    assert result['changed'] is True and result['would_rewind'] is True and result['forked'] is True
    assert result['rewound'] is False and result['preserved'] == []
    assert runner.argvs('pg_rewind') == [rewind_argv(data_dir, True)]
    assert target.files_during_rewind is None
    assert 'would rewind' in result['msg']


def test_preserve_option(monkeypatch, data_dir):
    os.mkdir(os.path.join(data_dir, 'conf.d'))
    with open(os.path.join(data_dir, 'conf.d', 'local.conf'), 'w') as f:
        f.write('x = 1\n')
    result, runner, target = go(monkeypatch, data_dir, {'preserve': ['conf.d/local.conf', 'missing.conf']},
                                target=Target(data_dir, dry=(0, '', DIVERGED_15)))
    assert result['preserved'] == ['conf.d/local.conf']
    with open(os.path.join(data_dir, 'postgresql.auto.conf')) as f:
        assert 'from the source' in f.read()  # not preserved this time


def test_rewind_as_root_chowns_restored_files(monkeypatch, data_dir):
    chowned = []
    monkeypatch.setattr(rewind.os, 'chown', lambda path, uid, gid: chowned.append((os.path.basename(path), uid, gid)))
    result, runner, target = go(monkeypatch, data_dir, euid=0, target=Target(data_dir, dry=(0, '', DIVERGED_15)))
    assert result['rewound'] is True
    assert chowned == [('postgresql.auto.conf.pgstream-restore', OWNER_UID, OWNER_UID)]


def test_rewind_failure_midway(monkeypatch, data_dir):
    real = (1, '', 'pg_rewind: servers diverged at WAL location 0/3050A58 on timeline 1\n'
                   'pg_rewind: error: could not fetch remote file "base/5/1259": server closed the connection unexpectedly\n')
    target = Target(data_dir, dry=(0, '', DIVERGED_15), real=real)
    result, runner, target = go(monkeypatch, data_dir, target=target)
    assert result['failed'] and result['rc'] == 1 and result['rewound'] is False and result['forked'] is True
    assert 'could not fetch remote file "base/5/1259"' in result['msg']
    assert 'may be unusable' in result['msg'] and 'nothing was deleted' in result['msg']
    assert 'basebackup force=true' in result['hint']
    with open(os.path.join(data_dir, 'postgresql.auto.conf')) as f:
        assert f.read() == "work_mem = '7MB'\n"  # restored anyway


def test_timeout(monkeypatch, data_dir):
    target = Target(data_dir, dry=(124, '', ''))
    result, runner, target = go(monkeypatch, data_dir, {'timeout': 5}, target=target)
    assert result['failed'] and 'did not finish within timeout=5 seconds' in result['msg']


# ---- failures of the dry run ---------------------------------------------------------------------------------------

FAILURES = [
    ('pg_rewind: error: target server needs to use either data checksums or "wal_log_hints = on"\n',
     'target server needs to use either data checksums', 'rewind impossible'),
    ('pg_rewind: error: source and target clusters are from different systems\n',
     'different systems', 'different system identifiers'),
    ('pg_rewind: error: could not fetch remote file "global/pg_control": ERROR:  permission denied for function '
     'pg_read_binary_file\n', 'permission denied for function pg_read_binary_file',
     'pg_read_binary_file(text, bigint, bigint, boolean)'),
    ('pg_rewind: error: connection to server at "pg2" (10.0.0.2), port 5432 failed: Connection refused\n'
     '\tIs the server running on that host and accepting TCP/IP connections?\n',
     'Connection refused; Is the server running', 'source is unreachable'),
    ('pg_rewind: fatal: could not connect to server: could not translate host name "pg2" to address: Name or service '
     'not known\n', 'could not translate host name', 'source is unreachable'),
    ('pg_rewind: error: connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  password authentication '
     'failed for user "replicator"\n', 'password authentication failed', 'source refused the connection'),
    ('pg_rewind: fatal: source server must not be in recovery mode\n', 'must not be in recovery mode',
     'the source is a standby'),
    ("pg_rewind: error: could not find common ancestor of the source and target cluster's timelines\n",
     'common ancestor', 'share no history'),
    ('pg_rewind: error: could not open file "/d/pg_wal/000000010000000000000002": No such file or directory\n'
     'pg_rewind: error: could not find previous WAL record at 0/2000060\n',
     'could not find previous WAL record at 0/2000060', 'restore_target_wal=true'),
    ('pg_rewind: error: full_page_writes must be enabled in the source server\n', 'full_page_writes', 'full_page_writes=on'),
    ('something odd\n', 'something odd', 'see stdout_lines'),
    ('source and target clusters are from different systems\nFailure, exiting\n', 'different systems; Failure, exiting',
     'different system identifiers'),
]


@pytest.mark.parametrize('err, reason, hint', FAILURES)
def test_dry_run_failures(monkeypatch, data_dir, err, reason, hint):
    target = Target(data_dir, dry=(1, '', err))
    result, runner, target = go(monkeypatch, data_dir, target=target)
    assert result['failed'] and result['rc'] == 1
    assert reason in result['msg'] and hint in result['hint']
    assert result['forked'] is None and result['rewound'] is False and result['changed'] is False
    assert runner.argvs('pg_rewind') == [rewind_argv(data_dir, True)]
    assert result['stderr_lines'] == err.splitlines()
    assert 'may be unusable' not in result['msg']
    with open(os.path.join(data_dir, 'postgresql.auto.conf')) as f:
        assert f.read() == "work_mem = '7MB'\n"


def test_secret_in_output_is_redacted(monkeypatch, data_dir):
    err = 'pg_rewind: error: connection to server failed: FATAL:  password "%s" rejected\n' % PASSWORD
    result, runner, target = go(monkeypatch, data_dir, target=Target(data_dir, dry=(1, err, err)))
    assert result['failed'] and '********' in result['msg']
    # the dry run's stdout and stderr come as one stream (stderr_lines)
    assert '********' in result['stderr_lines'][0] and '********' in result['stderr_lines'][1]


# ---- crash recovery ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('state', ['in production', 'shutting down', 'in crash recovery'])
def test_crash_recovery_then_no_rewind(monkeypatch, data_dir, state):
    with open(os.path.join(data_dir, 'postgresql.conf'), 'w') as f:
        f.write("port = 5432\n")
    open(os.path.join(data_dir, 'standby.signal'), 'w').close()
    target = Target(data_dir, state=state)
    result, runner, target = go(monkeypatch, data_dir, target=target)
    assert not result.get('failed'), result['msg']
    assert result['crash_recovered'] is True and result['changed'] is True and result['forked'] is False
    assert result['cluster_state_before'] == state
    assert result['config_file'] == os.path.join(data_dir, 'postgresql.conf')
    assert runner.argvs('postgres') == [['/usr/lib/postgresql/15/bin/postgres', '--single', '-D', data_dir, '-c',
                                         'config_file=%s/postgresql.conf' % data_dir, '-c', 'wal_keep_size=1048576',
                                         'template1']]
    assert target.signals_during_single == []
    assert singleuser.signal_files(data_dir) == ['standby.signal']
    names = [FakeRunner.program(a)[0] for a in runner.argvs()]
    assert names == ['pg_controldata', 'postgres', 'pg_controldata', 'pg_rewind', 'pg_controldata', 'pg_waldump', 'psql']
    assert 'after single-user crash recovery' in result['msg']


def test_crash_recovery_then_rewind_on_debian_layout(monkeypatch, data_dir, tmp_path):
    etc = tmp_path / 'etc' / '15' / 'main'
    etc.mkdir(parents=True)
    (etc / 'postgresql.conf').write_text(u"data_directory = '%s'\t\t# use data in another directory\n" % data_dir)
    pattern = str(tmp_path / 'etc' / '*' / '*' / 'postgresql.conf')
    monkeypatch.setattr(rewind, 'find_config_file', lambda d: singleuser.find_config_file(d, pattern))
    target = Target(data_dir, state='in production', dry=(0, '', DIVERGED_15))
    result, runner, target = go(monkeypatch, data_dir, target=target, euid=0)
    assert result['crash_recovered'] is True and result['rewound'] is True and result['forked'] is True
    assert result['config_file'] == str(etc / 'postgresql.conf')
    assert runner.argvs('postgres')[0][:4] == ['/usr/bin/runuser', '-u', 'postgres', '--']
    assert runner.argvs('postgres')[0][-4] == 'config_file=%s' % (etc / 'postgresql.conf')


def test_crash_recovery_with_explicit_config_file(monkeypatch, data_dir, tmp_path):
    conf = tmp_path / 'my.conf'
    conf.write_text(u'')
    result, runner, target = go(monkeypatch, data_dir, {'config_file': str(conf)},
                                target=Target(data_dir, state='in production'))
    assert result['config_file'] == str(conf) and result['crash_recovered'] is True


def test_crash_recovery_without_config(monkeypatch, data_dir, tmp_path):
    monkeypatch.setattr(rewind, 'find_config_file', lambda d: singleuser.find_config_file(d, str(tmp_path / 'none' / '*')))
    result, runner, target = go(monkeypatch, data_dir, target=Target(data_dir, state='in production'))
    assert result['failed'] and 'set config_file' in result['msg'] and '"in production"' in result['msg']
    assert runner.argvs('postgres') == [] and runner.argvs('pg_rewind') == []


@pytest.mark.parametrize('single, single_state', [
    ((1, '', 'FATAL:  could not access file "pg_stat_statements": No such file or directory\n'), 'in production'),
    ((0, '', ''), 'in production'),
])
def test_crash_recovery_failure(monkeypatch, data_dir, single, single_state):
    with open(os.path.join(data_dir, 'postgresql.conf'), 'w') as f:
        f.write("port = 5432\n")
    open(os.path.join(data_dir, 'recovery.signal'), 'w').close()
    target = Target(data_dir, state='in production', single=single, single_state=single_state)
    result, runner, target = go(monkeypatch, data_dir, target=target)
    assert result['failed'] and 'single-user crash recovery' in result['msg'] and 'cluster state now "in production"' in result['msg']
    assert runner.argvs('pg_rewind') == [] and result['crash_recovered'] is False
    assert singleuser.signal_files(data_dir) == ['recovery.signal']
    if single[0]:
        assert 'pg_stat_statements' in result['msg']


def test_check_mode_does_not_recover(monkeypatch, data_dir):
    with open(os.path.join(data_dir, 'postgresql.conf'), 'w') as f:
        f.write("port = 5432\n")
    target = Target(data_dir, state='in production')
    result, runner, target = go(monkeypatch, data_dir, target=target, check_mode=True)
    assert result['changed'] is True and result['would_crash_recover'] is True and result['would_rewind'] is None
    assert result['forked'] is None and result['crash_recovered'] is False
    assert runner.argvs('postgres') == [] and runner.argvs('pg_rewind') == []
    assert target.state == 'in production'


# ---- crashed standby: started as a standby without upstream, then stopped ------------------------------------------

def standby_target(data_dir, **kw):
    with open(os.path.join(data_dir, 'postgresql.conf'), 'w') as f:
        f.write("port = 5432\n")
    return Target(data_dir, state='in archive recovery', dry=kw.pop('dry', (0, '', SAME_TIMELINE_15)), **kw)


@pytest.mark.parametrize('signals', [['standby.signal'], ['recovery.signal'], []])
def test_crashed_standby_is_started_and_stopped(monkeypatch, data_dir, signals):
    for name in signals:
        open(os.path.join(data_dir, name), 'w').close()
    target = standby_target(data_dir)
    result, runner, target = go(monkeypatch, data_dir, target=target)
    assert not result.get('failed'), result['msg']
    assert result['crash_recovered'] is True and result['crash_recovery_method'] == 'standby'
    assert result['changed'] is True and result['forked'] is False
    assert runner.argvs('postgres') == []
    (start, during_start), (stop, during_stop) = target.pg_ctl_calls
    pg_ctl = '/usr/lib/postgresql/15/bin/pg_ctl'
    assert start[:7] == [pg_ctl, 'start', '-D', data_dir, '-w', '-t', '300'] and start[7] == '-l'
    assert start[9:] == ['-o', "-c config_file='%s/postgresql.conf' -c listen_addresses='' -c hot_standby=on "
                               "-c wal_keep_size=1048576 -c primary_conninfo='' -c primary_slot_name=''" % data_dir]
    assert stop == [pg_ctl, 'stop', '-D', data_dir, '-m', 'fast', '-w', '-t', '300']
    # a temporary standby.signal only, the originals aside
    assert 'standby.signal' in during_start and 'recovery.signal' not in during_start
    assert [n for n in during_start if n.endswith('.pgstream-aside')] == [n + '.pgstream-aside' for n in signals]
    assert singleuser.signal_files(data_dir) == signals
    assert not os.path.exists(start[8])  # the temporary server log is removed
    assert 'after standby crash recovery' in result['msg']


def test_crashed_standby_pg11_gets_a_temporary_recovery_conf(monkeypatch, data_dir):
    with open(os.path.join(data_dir, 'PG_VERSION'), 'w') as f:
        f.write('11\n')
    with open(os.path.join(data_dir, 'recovery.conf'), 'w') as f:
        f.write("standby_mode = 'on'\nprimary_conninfo = 'host=pg1 password=x'\nrestore_command = 'cp /a/%f %p'\n")
    seen = []
    target = standby_target(data_dir)
    orig = target.pg_ctl

    def pg_ctl(argv, kw):
        if argv[1] == 'start':
            with open(os.path.join(data_dir, 'recovery.conf')) as f:
                seen.append(f.read())
        return orig(argv, kw)
    target.pg_ctl = pg_ctl
    setup(monkeypatch)
    runner = FakeRunner({'pg_controldata': target.pg_controldata, 'pg_rewind': target.pg_rewind, 'pg_ctl': pg_ctl})
    result = run_module(rewind, dict(data_dir=data_dir, source_host='pg2'), runner=runner, monkeypatch=monkeypatch)
    assert result['crash_recovered'] is True, result['msg']
    assert seen == ["standby_mode = 'on'\nrestore_command = 'cp /a/%f %p'\n"]
    start = runner.argvs('pg_ctl')[0]
    assert 'primary_conninfo' not in start[-1]
    with open(os.path.join(data_dir, 'recovery.conf')) as f:
        assert 'host=pg1' in f.read()


def test_crashed_standby_as_root(monkeypatch, data_dir):
    chowned = []
    monkeypatch.setattr(singleuser.os, 'chown', lambda path, uid, gid: chowned.append(os.path.basename(path)))
    result, runner, target = go(monkeypatch, data_dir, euid=0, target=standby_target(data_dir))
    assert result['crash_recovered'] is True
    assert all(a[:4] == ['/usr/bin/runuser', '-u', 'postgres', '--'] for a in runner.argvs('pg_ctl'))
    assert chowned == ['standby.signal']


@pytest.mark.parametrize('start, leaves_running, stop_modes', [
    ((1, 'waiting for server to start........ stopped waiting\n', 'pg_ctl: server did not start in time\n'), True,
     ['fast']),
    ((1, '', 'pg_ctl: could not start server\nExamine the log output.\n'), False, ['fast']),
])
def test_crashed_standby_that_does_not_start(monkeypatch, data_dir, start, leaves_running, stop_modes):
    open(os.path.join(data_dir, 'standby.signal'), 'w').close()
    target = standby_target(data_dir, pg_ctl_start=start, start_leaves_running=leaves_running)
    result, runner, target = go(monkeypatch, data_dir, {'recovery_timeout': 30}, target=target)
    assert result['failed'] and 'recovery of the crashed standby' in result['msg']
    assert 'pg_ctl start (rc=1)' in result['msg'] and 're-clone' in result['msg']
    modes = [a[a.index('-m') + 1] for a, dummy in target.pg_ctl_calls if a[1] == 'stop']
    assert modes == stop_modes
    assert runner.argvs('pg_rewind') == [] and singleuser.signal_files(data_dir) == ['standby.signal']
    assert 'server_log_lines' in result


def test_crashed_standby_check_mode(monkeypatch, data_dir):
    result, runner, target = go(monkeypatch, data_dir, target=standby_target(data_dir), check_mode=True)
    assert result['would_crash_recover'] is True and result['crash_recovery_method'] == 'standby'
    assert runner.argvs('pg_ctl') == [] and runner.argvs('pg_rewind') == []


# ---- WAL segments pg_rewind deleted but the rewound server starts from ---------------------------------------------

def wal_target(data_dir, label_file, source_has=()):
    """A target whose pg_rewind deletes the target segments the source lacks and writes a backup_label."""
    wal = os.path.join(data_dir, 'pg_wal')
    os.mkdir(wal)
    for name in ('000000010000000000000002', '000000010000000000000003'):
        with open(os.path.join(wal, name), 'w') as f:
            f.write('target ' + name)
    target = Target(data_dir, dry=(0, '', DIVERGED_15))
    orig = target.pg_rewind

    def pg_rewind(argv, kw):
        if '--dry-run' not in argv:
            for name in os.listdir(wal):
                if name not in source_has:
                    os.unlink(os.path.join(wal, name))
            for name in source_has:
                with open(os.path.join(wal, name), 'w') as f:
                    f.write('source ' + name)
            with open(os.path.join(data_dir, 'backup_label'), 'w') as f:
                f.write('START WAL LOCATION: 0/2000028 (file %s)\nCHECKPOINT LOCATION: 0/2000060\n'
                        'BACKUP METHOD: pg_rewind\n' % label_file)
        return orig(argv, kw)
    target.pg_rewind = pg_rewind
    return target


def test_deleted_start_segment_is_put_back(monkeypatch, data_dir):
    target = wal_target(data_dir, '000000010000000000000002', source_has=('000000010000000000000003',
                                                                          '000000020000000000000003'))
    result, runner, target = go(monkeypatch, data_dir, target=target)
    assert result['rewound'] is True and not result.get('failed'), result['msg']
    assert result['wal_restored'] == ['000000010000000000000002']
    wal = os.path.join(data_dir, 'pg_wal')
    with open(os.path.join(wal, '000000010000000000000002')) as f:
        assert f.read() == 'target 000000010000000000000002'
    with open(os.path.join(wal, '000000010000000000000003')) as f:
        assert f.read() == 'source 000000010000000000000003'  # the source's copy wins where it has one
    assert [n for n in os.listdir(os.path.dirname(data_dir)) if n != 'main'] == []


def test_start_segment_nobody_has(monkeypatch, data_dir):
    target = wal_target(data_dir, '000000010000000000000001', source_has=('000000020000000000000003',))
    result, runner, target = go(monkeypatch, data_dir, target=target)
    assert result['failed'] and result['rewound'] is True
    assert '000000010000000000000001' in result['msg'] and 'restore_command' in result['hint']


# ---- the source's WAL from the divergence on (require_source_wal) ---------------------------------------------------

def rewind_fixture(name):
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'fixtures',
                        'pg_rewind', name)
    with open(path) as f:
        return f.read()


SOURCE_HAS_WAL = 'pg15_dry_run_debug_source_has_wal.txt'
SOURCE_REMOVED_WAL = 'pg15_dry_run_debug_source_removed_wal.txt'
TARGET_PROMOTED = 'pg15_dry_run_debug_target_promoted.txt'
DEBUG_WORDS = ('received chunk', '(COPY)', '(REMOVE)', '(NONE)', 'block 17', 'fetched file', 'excluded from source',
               'Not removing', 'file chunks')


@pytest.mark.parametrize('names, lsn, tli, size, source_tli, missing', [
    # the source was promoted (the real fixture's case: diverged at 0/3000000 on timeline 1, source on timeline 2)
    (['00000002.history', '000000020000000000000003', '000000020000000000000004'], '0/3000000', 1, 16 << 20, 2, None),
    (['000000030000000000000003'], '0/3000000', 1, 16 << 20, 3, None),
    # the target is the one that was promoted: the source went on on the common timeline
    (['000000010000000000000003', '000000010000000000000004'], '0/3050A58', 1, 16 << 20, 1, None),
    # removed there: only later segments, or the fork's segment number only on an earlier timeline
    (['000000020000000000000007', 'archive_status'], '0/3000000', 1, 16 << 20, 2, '000000020000000000000003'),
    (['000000020000000000000007'], '0/5000700', 2, 16 << 20, 2, '000000020000000000000005'),
    (['000000010000000000000003'], '0/3050A58', 2, 16 << 20, None, '000000020000000000000003'),
    ([], '0/3FFFFFF', 4, 16 << 20, 5, '000000050000000000000003'),
    # a log id above 0, and other segment sizes (initdb --wal-segsize)
    (['0000000300000001000000FF'], '1/FF000028', 2, 16 << 20, 3, None),
    (['000000030000000100000000'], '1/FF000028', 2, 16 << 20, 3, '0000000300000001000000FF'),
    (['000000020000000000000000'], '0/3000000', 1, 64 << 20, 2, None),
    (['000000020000000100000001'], '1/40000000', 1, 1 << 30, 2, None),
    (['000000020000000100000000'], '1/40000000', 1, 1 << 30, 2, '000000020000000100000001'),
])
def test_missing_fork_wal(names, lsn, tli, size, source_tli, missing):
    assert rewind.missing_fork_wal(names, lsn, tli, size, source_tli) == missing


@pytest.mark.parametrize('lsn, tli', [('0/3000000', 2), ('0/2FFFFFF', 1), ('0/0', 1), ('5/0', 2)])
def test_source_timeline_at(lsn, tli):
    """Source timeline history: 1: 0/0 - 0/3000000, 2: 0/3000000 - 0/0 (the fixture's)."""
    assert rewind.source_timeline_at(rewind_fixture(SOURCE_HAS_WAL), lsn) == tli


def test_source_timeline_at_without_history():
    assert rewind.source_timeline_at(DIVERGED_15, '0/3000000') is None
    # PostgreSQL 10 and 11 printf it without the prefix
    assert rewind.source_timeline_at('Source timeline history:\n1: 0/0 - 0/0\nTarget timeline history:\n', '0/5') == 1


def test_source_wal_from_the_file_map():
    assert rewind.source_wal(rewind_fixture(SOURCE_HAS_WAL)) == set(['000000020000000000000003', '000000020000000000000004'])
    assert rewind.source_wal(rewind_fixture(SOURCE_REMOVED_WAL)) == set(
        '0000000200000000000000%s' % n for n in ('07', '08', '09', '0A', '0B'))
    # PostgreSQL 10 and 11 printf the file map without the prefix; no file map at all is None
    assert rewind.source_wal('pg_wal/000000020000000000000005 (COPY)\npg_wal/000000010000000000000001 (REMOVE)\n') == \
        set(['000000020000000000000005'])
    assert rewind.source_wal(DIVERGED_15) is None


@pytest.mark.parametrize('fixture', [SOURCE_HAS_WAL, TARGET_PROMOTED])
def test_rewinds_when_the_source_has_the_wal_of_the_fork(monkeypatch, data_dir, fixture):
    """The source was promoted (its new timeline 2 has the fork's segment), or the target was and the source went
    on on the common timeline 1 (which has it)."""
    target = Target(data_dir, dry=(0, '', rewind_fixture(fixture)), real=(0, '', PROGRESS_15))
    result, runner, target = go(monkeypatch, data_dir, target=target)
    assert not result.get('failed'), result['msg']
    assert result['rewound'] is True and result['source_wal_checked'] is True
    assert (result['diverged_lsn'], result['diverged_timeline']) == ('0/3000000', 1)
    assert not [w for w in result['_warnings'] if 'file map' in w]


@pytest.mark.parametrize('check_mode', [False, True])
def test_refuses_when_the_source_removed_the_wal_of_the_fork(monkeypatch, data_dir, check_mode):
    """The source wrote more WAL than it keeps since the fork: a rewound target could never catch up, so nothing is
    changed and the reason is given (a re-clone then moves the diverged data directory aside, intact)."""
    target = Target(data_dir, dry=(0, '', rewind_fixture(SOURCE_REMOVED_WAL)))
    result, runner, target = go(monkeypatch, data_dir, target=target, check_mode=check_mode)
    assert result['failed'] and result['rewound'] is False and result['source_wal_checked'] is False
    assert runner.argvs('pg_rewind') == [rewind_argv(data_dir, True)]
    assert target.files_during_rewind is None
    assert result['missing_wal_segment'] == '000000020000000000000003'
    msg = result['msg']
    assert msg.startswith('rewind impossible: pg2:5432 no longer has the WAL where the timelines diverged (0/3000000, '
                          'timeline 1; segment 000000020000000000000003)')
    assert 'oldest segment from that timeline on is 000000020000000000000007' in msg
    assert 'The data directory was not changed' in msg
    assert 'require_source_wal=false' in result['hint'] and 'basebackup force=true' in result['hint']
    # the file map, chunk and block lines of --debug are not in the returned tail; pg_rewind's own lines are
    assert 'pg_rewind: need to copy 83 MB (total source directory size is 102 MB)' in result['stderr_lines']
    assert 'pg_rewind: servers diverged at WAL location 0/3000000 on timeline 1' in result['stderr_lines']
    assert not [line for line in result['stderr_lines'] if any(w in line for w in DEBUG_WORDS)]


def test_require_source_wal_false_rewinds_anyway(monkeypatch, data_dir):
    target = Target(data_dir, dry=(0, '', rewind_fixture(SOURCE_REMOVED_WAL)), real=(0, '', PROGRESS_15))
    result, runner, target = go(monkeypatch, data_dir, target=target, args=dict(require_source_wal=False))
    assert not result.get('failed'), result['msg']
    assert result['rewound'] is True and result['source_wal_checked'] is False


def test_no_file_map_is_a_warning(monkeypatch, data_dir):
    result, runner, target = go(monkeypatch, data_dir, target=Target(data_dir, dry=(0, '', DIVERGED_15)))
    assert not result.get('failed') and result['rewound'] is True and result['source_wal_checked'] is False
    assert [w for w in result['_warnings'] if 'printed no file map' in w and '0/3050A58' in w]


# ---- no rewind needed: can the target catch up? (require_source_wal) ------------------------------------------------

# What pg_waldump --stats --path pg_wal --timeline 1 --start <last checkpoint> printed on stderr (rc=1) when it ran
# out of WAL, in the test images (bullseye/13, bookworm/15, trixie/17, forky/18) on 2026-11-24, after a fast stop;
# the last one with the start segment removed.
@pytest.mark.parametrize('text, segno', [
    ('pg_waldump: fatal: error in WAL record at 0/1C008D8: invalid record length at 0/1C00950: wanted 24, got 0\n', 1),
    ('pg_waldump: error: error in WAL record at 0/1B36938: invalid record length at 0/1B369B0: wanted 24, got 0\n', 1),
    ('pg_waldump: error: error in WAL record at 0/3000050: invalid record length at 0/30000C8: wanted 24, got 0\n', 3),
    ('pg_waldump: error: error in WAL record at 0/1B3FC68: invalid record length at 0/1B3FCE0: expected at least 24, '
     'got 0\n', 1),
    ('pg_waldump: error: error in WAL record at 0/1DA6AB0: invalid record length at 0/1DA6B28: expected at least 24, '
     'got 0\n', 1),
    ('pg_waldump: error: could not find file "000000010000000000000001": No such file or directory\n', 1),
    # the format of xlogreader.c for a recycled segment after the end (not captured)
    ('pg_waldump: error: error in WAL record at 0/3FFFF28: unexpected pageaddr 0/1000000 in log segment '
     '000000010000000000000004, offset 0\n', 4),
    ('pg_waldump: error: error in WAL record at 1/FFFFFF28: out of memory\n', 0x1FF),
    ('', None),
    ('pg_waldump: error: could not open directory "/nonexistent": No such file or directory\n', None),
])
def test_local_wal_end_segment(text, segno):
    assert rewind.local_wal_end_segment(text, 16 << 20) == segno


@pytest.mark.parametrize('check_mode', [False, True])
def test_no_rewind_needed_but_the_source_removed_the_wal_it_needs_next(monkeypatch, data_dir, check_mode):
    """A node that did not fork but stayed away long: its WAL ends in segment 3, the source keeps 9 and later."""
    target = Target(data_dir, source_wal=(0, '000000010000000000000009\n00000001000000000000000A\narchive_status\n', ''))
    result, runner, target = go(monkeypatch, data_dir, target=target, check_mode=check_mode)
    assert result['failed'] and result['forked'] is False and result['rewound'] is False
    assert result['missing_wal_segment'] == '000000010000000000000003'
    assert result['msg'].startswith('no rewind is needed, but %s cannot catch up: its own WAL ends in segment '
                                    '000000010000000000000003, and pg2:5432 no longer has the WAL from there on' % data_dir)
    assert 'oldest segment from timeline 1 on is 000000010000000000000009' in result['msg']
    assert 'The data directory was not changed' in result['msg'] and 'require_source_wal=false' in result['hint']
    assert runner.argvs('pg_waldump') == [['/usr/lib/postgresql/15/bin/pg_waldump', '--stats', '--path',
                                           os.path.join(data_dir, 'pg_wal'), '--timeline', '1', '--start', '0/30509E0']]
    psql, kw, snapshot = last_call(runner, 'psql')
    assert psql == ['/usr/lib/postgresql/15/bin/psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', CONNINFO, '-c',
                    rewind.SOURCE_WAL_SQL]
    assert snapshot['passfile_content'] == 'pg2:5432:*:replicator:%s\n' % PASSWORD
    assert target.files_during_rewind is None


def test_no_rewind_needed_and_the_source_has_the_wal(monkeypatch, data_dir):
    result, runner, target = go(monkeypatch, data_dir)
    assert not result.get('failed'), result['msg']
    assert result['changed'] is False and result['forked'] is False and result['source_wal_checked'] is True
    assert result['_warnings'] == []


@pytest.mark.parametrize('waldump, source_wal, warning', [
    ((1, '', 'pg_waldump: error: could not open directory "x": Permission denied\n'), (0, SOURCE_WAL_15, ''),
     'could not tell where the WAL of'),
    ((1, '', WAL_END_15), (2, '', 'psql: error: permission denied for function pg_ls_dir\n'),
     'could not list the pg_wal of pg2:5432 (psql: error: permission denied for function pg_ls_dir)'),
])
def test_catch_up_unknown_is_a_warning(monkeypatch, data_dir, waldump, source_wal, warning):
    result, runner, target = go(monkeypatch, data_dir, target=Target(data_dir, waldump=waldump, source_wal=source_wal))
    assert not result.get('failed'), result['msg']
    assert result['source_wal_checked'] is False
    assert [w for w in result['_warnings'] if warning in w and 'was not checked' in w], result['_warnings']


def test_require_source_wal_false_skips_the_catch_up_check(monkeypatch, data_dir):
    target = Target(data_dir, source_wal=(0, '000000010000000000000009\n', ''))
    result, runner, target = go(monkeypatch, data_dir, target=target, args=dict(require_source_wal=False))
    assert not result.get('failed') and result['source_wal_checked'] is False
    assert runner.argvs('pg_waldump') == [] and runner.argvs('psql') == []


@pytest.mark.parametrize('program', ['pg_waldump', 'psql'])
def test_catch_up_check_without_the_program_is_a_warning(monkeypatch, data_dir, program):
    setup(monkeypatch)
    monkeypatch.setattr(rewind, 'executable', lambda path: not path.endswith('/' + program))
    target = Target(data_dir, source_wal=(0, '000000010000000000000009\n', ''))
    runner = FakeRunner({'pg_controldata': target.pg_controldata, 'pg_rewind': target.pg_rewind,
                         'pg_waldump': lambda argv, kw: target.waldump, 'psql': lambda argv, kw: target.source_wal})
    result = run_module(rewind, dict(data_dir=data_dir, source_host='pg2'), runner=runner, monkeypatch=monkeypatch)
    assert not result.get('failed'), result['msg']
    assert result['source_wal_checked'] is False and runner.argvs(program) == []
    assert [w for w in result['_warnings'] if '/usr/lib/postgresql/15/bin/%s not found' % program in w]
