# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pwd

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils import singleuser
from ansible_collections.pgstream.replication.plugins.modules import shutdown
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.fake_cmd import (
    FakeRunner, FakeServer, run_module)

LOGIN_PASSWORD = 'L0gin-Secret'
OWNER_UID = 1000  # the module runs as the owner unless a test says euid=0
BIN = '/usr/lib/postgresql/15/bin'


def controldata_text(state, checkpoint='0/5000028', redo='0/5000028', timeline=1):
    return ('pg_control version number:            1300\n'
            'Database system identifier:           7711330958549827612\n'
            'Database cluster state:               %s\n'
            'Latest checkpoint location:           %s\n'
            "Latest checkpoint's REDO location:    %s\n"
            "Latest checkpoint's TimeLineID:       %d\n"
            'wal_log_hints setting:                on\n'
            'Data page checksum version:           0\n' % (state, checkpoint, redo, timeline))


class Cluster:
    """A data directory with a postmaster that pg_ctl stop can stop."""

    def __init__(self, running=True, state_after='shut down', stop_rc=0, stop_err='', stops=True):
        self.pid = 4242 if running else None
        self.state = 'in production' if running else 'shut down'
        self.checkpoint = '0/3000060'
        self.state_after = state_after
        self.stop_rc = stop_rc
        self.stop_err = stop_err
        self.stops = stops

    def pg_ctl(self, argv, kw):
        if self.stops:
            self.pid = None
            self.state = self.state_after
            self.checkpoint = '0/5000028' if self.state_after.startswith('shut down') else self.checkpoint
        return self.stop_rc, 'waiting for server to shut down.... done\nserver stopped\n' if not self.stop_rc else '', \
            self.stop_err

    def pg_controldata(self, argv, kw):
        assert kw['environ_update']['LC_ALL'] == 'C'
        return 0, controldata_text(self.state, checkpoint=self.checkpoint, redo=self.checkpoint), ''


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / 'main'
    (d / 'global').mkdir(parents=True)
    (d / 'global' / 'pg_control').write_bytes(b'\0' * 8192)
    (d / 'PG_VERSION').write_text(u'15\n')
    return str(d)


def go(monkeypatch, data_dir, args=None, cluster=None, server=None, check_mode=False, euid=None, runner=None):
    cluster = cluster or Cluster()
    euid = OWNER_UID if euid is None else euid
    monkeypatch.setattr(singleuser.os, 'geteuid', lambda: euid)
    monkeypatch.setattr(singleuser.pwd, 'getpwnam',
                        lambda name: pwd.struct_passwd((name, 'x', OWNER_UID, OWNER_UID, '', '/var/lib/postgresql', '/bin/sh')))
    monkeypatch.setattr(shutdown.AnsibleModule, 'get_bin_path',
                        lambda self, name, required=False, opt_dirs=None: '/usr/sbin/runuser' if name == 'runuser' else None)
    found = []

    def find_bindir(module, major=None, bindir=None):
        found.append((major, bindir))
        return bindir or '/usr/lib/postgresql/%s/bin' % major
    monkeypatch.setattr(shutdown, 'find_bindir', find_bindir)
    monkeypatch.setattr(shutdown, 'postmaster_pid', lambda path: cluster.pid if path == data_dir else None)
    runner = runner or FakeRunner({'pg_ctl': cluster.pg_ctl, 'pg_controldata': cluster.pg_controldata})
    server = server or FakeServer()
    all_args = dict(data_dir=data_dir, login_password=LOGIN_PASSWORD)
    all_args.update(args or {})
    result = run_module(shutdown, all_args, check_mode=check_mode, runner=runner, monkeypatch=monkeypatch,
                        servers={'': server})
    assert LOGIN_PASSWORD not in result.text
    result['_found'] = found
    return result, runner, server


def stop_argv(data_dir, mode='fast', timeout='60'):
    return [BIN + '/pg_ctl', 'stop', '-D', data_dir, '-m', mode, '-w', '-t', timeout]


RETURN_KEYS = ('changed', 'was_running', 'clean', 'cluster_state', 'checkpoint_lsn', 'redo_lsn', 'timeline', 'queries', 'cmd')


# ---- argument validation -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('args, message', [
    ({'timeout': 0}, 'timeout must be at least 1'),
    ({'mode': 'abort'}, 'mode'),
    ({'data_dir': 'relative/main'}, 'data_dir must be an absolute path'),
    ({'data_dir': '/nonexistent/pgstream/main'}, 'does not exist'),
    ({'bindir': '/x', 'pg_major': '15'}, 'mutually exclusive'),
    ({'login_port': 'x'}, 'login_port'),
])
def test_arguments(monkeypatch, data_dir, args, message):
    result, runner, server = go(monkeypatch, data_dir, args)
    assert result['failed'] and message in result['msg']
    assert runner.calls == [] and server.statements == []


def test_not_a_cluster(monkeypatch, tmp_path):
    result, runner, server = go(monkeypatch, str(tmp_path))
    assert result['failed'] and 'no global/pg_control' in result['msg']


def test_unknown_owner(monkeypatch, data_dir):
    def getpwnam(name):
        raise KeyError(name)
    monkeypatch.setattr(singleuser.os, 'geteuid', lambda: 0)
    monkeypatch.setattr(singleuser.pwd, 'getpwnam', getpwnam)
    result = run_module(shutdown, dict(data_dir=data_dir, owner='nobody-here'), runner=FakeRunner(), monkeypatch=monkeypatch,
                        servers={'': FakeServer()})
    assert result['failed'] and 'owner nobody-here does not exist' in result['msg']


# ---- nothing running -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize('check_mode', [False, True])
def test_not_running_is_a_noop(monkeypatch, data_dir, check_mode):
    result, runner, server = go(monkeypatch, data_dir, cluster=Cluster(running=False), check_mode=check_mode)
    assert result['changed'] is False and result['was_running'] is False
    assert result['clean'] is True and result['cluster_state'] == 'shut down'
    assert result['checkpoint_lsn'] == '0/3000060' and result['timeline'] == 1
    assert result['queries'] == [] and result['cmd'] == []
    assert runner.argvs('pg_ctl') == [] and server.statements == []
    assert result.get('would_stop') is (False if check_mode else None)
    assert 'no postmaster is running' in result['msg']
    assert all(k in result for k in RETURN_KEYS)


def test_not_running_after_a_crash_reports_unclean(monkeypatch, data_dir):
    cluster = Cluster(running=False)
    cluster.state = 'in production'
    result, runner, server = go(monkeypatch, data_dir, cluster=cluster)
    assert result['changed'] is False and result['clean'] is False and result['cluster_state'] == 'in production'


# ---- stopping ------------------------------------------------------------------------------------------------------

def test_stop_fast_with_checkpoint(monkeypatch, data_dir):
    result, runner, server = go(monkeypatch, data_dir)
    assert result['changed'] is True and result['was_running'] is True and result['clean'] is True
    assert result['cluster_state'] == 'shut down'
    assert result['checkpoint_lsn'] == '0/5000028' and result['redo_lsn'] == '0/5000028' and result['timeline'] == 1
    assert result['queries'] == ['CHECKPOINT'] and server.statements == ['CHECKPOINT']
    assert runner.argvs('pg_ctl') == [stop_argv(data_dir)]
    assert result['cmd'] == stop_argv(data_dir)
    assert result['_found'] == [('15', None)]
    assert all(k in result for k in RETURN_KEYS)
    assert 'would_stop' not in result
    # CHECKPOINT runs before pg_ctl stop; pg_controldata after it
    names = [FakeRunner.program(a)[0] for a in runner.argvs()]
    assert names == ['pg_ctl', 'pg_controldata']


def test_connection_options_are_used(monkeypatch, data_dir):
    result, runner, server = go(monkeypatch, data_dir, {'login_user': 'admin', 'login_host': '127.0.0.1',
                                                        'login_port': 5433})
    # FakeConnect looks servers up by host: 127.0.0.1 is unknown, so the module fails without stopping anything
    assert result['failed'] and 'admin@127.0.0.1:5433' in result['msg'] and 'checkpoint=false' in result['msg']
    assert runner.argvs('pg_ctl') == []


def test_connects_with_login_password(monkeypatch, data_dir):
    result, runner, server = go(monkeypatch, data_dir, {'login_user': 'admin'})
    assert server.connects[0]['user'] == 'admin' and server.connects[0]['password'] == LOGIN_PASSWORD


@pytest.mark.parametrize('mode, timeout', [('smart', 5), ('immediate', 120)])
def test_mode_and_timeout(monkeypatch, data_dir, mode, timeout):
    cluster = Cluster(state_after='in production' if mode == 'immediate' else 'shut down')
    result, runner, server = go(monkeypatch, data_dir, {'mode': mode, 'timeout': timeout}, cluster=cluster)
    assert runner.argvs('pg_ctl') == [stop_argv(data_dir, mode, str(timeout))]
    assert result['changed'] is True and not result.get('failed')
    assert result['clean'] is (mode != 'immediate')


def test_standby_shut_down_in_recovery_is_clean(monkeypatch, data_dir):
    result, runner, server = go(monkeypatch, data_dir, cluster=Cluster(state_after='shut down in recovery'))
    assert result['clean'] is True and result['cluster_state'] == 'shut down in recovery'


def test_as_root_through_runuser(monkeypatch, data_dir):
    result, runner, server = go(monkeypatch, data_dir, {'owner': 'pgowner'}, euid=0)
    argv = ['/usr/sbin/runuser', '-u', 'pgowner', '--'] + stop_argv(data_dir)
    assert runner.argvs('pg_ctl') == [argv] and result['cmd'] == argv
    assert runner.calls[0][1]['cwd'] == '/'


def test_as_root_without_runuser(monkeypatch, data_dir):
    monkeypatch.setattr(shutdown.AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: None)
    cluster = Cluster()
    monkeypatch.setattr(singleuser.os, 'geteuid', lambda: 0)
    monkeypatch.setattr(singleuser.pwd, 'getpwnam',
                        lambda name: pwd.struct_passwd((name, 'x', 70, 70, '', '/var/lib/postgresql', '/bin/sh')))
    monkeypatch.setattr(shutdown, 'find_bindir', lambda module, major=None, bindir=None: BIN)
    monkeypatch.setattr(shutdown, 'postmaster_pid', lambda path: cluster.pid)
    result = run_module(shutdown, dict(data_dir=data_dir), runner=FakeRunner(), monkeypatch=monkeypatch,
                        servers={'': FakeServer()})
    assert result['failed'] and 'runuser was not found' in result['msg']


def test_bindir_and_pg_major(monkeypatch, data_dir):
    result, runner, server = go(monkeypatch, data_dir, {'bindir': '/opt/pg/bin'})
    assert runner.argvs('pg_ctl')[0][0] == '/opt/pg/bin/pg_ctl'
    result, runner, server = go(monkeypatch, data_dir, {'pg_major': '16'})
    assert result['_found'] == [('16', None)]


def test_check_mode_stops_nothing(monkeypatch, data_dir):
    cluster = Cluster()
    result, runner, server = go(monkeypatch, data_dir, cluster=cluster, check_mode=True)
    assert result['changed'] is True and result['would_stop'] is True and result['was_running'] is True
    assert result['queries'] == ['CHECKPOINT'] and server.statements == []
    assert runner.argvs('pg_ctl') == [] and cluster.pid == 4242
    assert result['cmd'] == stop_argv(data_dir)
    assert result['cluster_state'] == 'in production' and result['clean'] is False
    assert 'would stop' in result['msg']


def test_without_checkpoint_needs_no_connection(monkeypatch, data_dir):
    server = FakeServer(connect_error='could not connect to server: Connection refused')
    result, runner, server = go(monkeypatch, data_dir, {'checkpoint': False}, server=server)
    assert result['changed'] is True and result['queries'] == [] and server.connects == []
    assert runner.argvs('pg_ctl') == [stop_argv(data_dir)]


@pytest.mark.parametrize('check_mode', [False, True])
def test_unreachable_with_checkpoint_fails(monkeypatch, data_dir, check_mode):
    server = FakeServer(connect_error='connection refused for %s' % LOGIN_PASSWORD)
    cluster = Cluster()
    result, runner, server = go(monkeypatch, data_dir, server=server, cluster=cluster, check_mode=check_mode)
    assert result['failed'] and 'unable to connect' in result['msg'] and 'checkpoint=false' in result['msg']
    assert runner.argvs('pg_ctl') == [] and cluster.pid == 4242


def test_checkpoint_error_fails_before_stopping(monkeypatch, data_dir):
    server = FakeServer(checkpoint_error='ERROR:  permission denied to execute CHECKPOINT')
    result, runner, server = go(monkeypatch, data_dir, server=server)
    assert result['failed'] and 'CHECKPOINT on' in result['msg'] and 'permission denied' in result['msg']
    assert result['queries'] == ['CHECKPOINT'] and runner.argvs('pg_ctl') == []


def test_pg_ctl_timeout(monkeypatch, data_dir):
    cluster = Cluster(stop_rc=1, stop_err='pg_ctl: server does not shut down\n', stops=False)
    result, runner, server = go(monkeypatch, data_dir, {'timeout': 5}, cluster=cluster)
    assert result['failed'] and result['changed'] is True and result['rc'] == 1
    assert 'within timeout=5 seconds' in result['msg'] and 'may still be stopping' in result['msg']
    assert 'pid 4242' in result['msg']


def test_pg_ctl_other_failure(monkeypatch, data_dir):
    cluster = Cluster(stop_rc=1, stop_err='pg_ctl: could not send stop signal (PID: 4242): Operation not permitted\n',
                      stops=False)
    result, runner, server = go(monkeypatch, data_dir, cluster=cluster)
    assert result['failed'] and 'pg_ctl stop failed' in result['msg'] and 'Operation not permitted' in result['msg']


def test_pg_ctl_error_but_server_gone_warns(monkeypatch, data_dir):
    cluster = Cluster(stop_rc=1, stop_err='pg_ctl: PID file "x/postmaster.pid" does not exist\n')
    result, runner, server = go(monkeypatch, data_dir, cluster=cluster)
    assert not result.get('failed') and result['clean'] is True
    assert any('no postmaster runs' in w for w in result['_warnings'])


@pytest.mark.parametrize('mode', ['fast', 'smart'])
def test_unclean_state_after_stop_fails(monkeypatch, data_dir, mode):
    cluster = Cluster(state_after='shutting down')
    result, runner, server = go(monkeypatch, data_dir, {'mode': mode}, cluster=cluster)
    assert result['failed'] and '"shutting down"' in result['msg'] and 'not a clean shutdown' in result['msg']
    assert result['cluster_state'] == 'shutting down' and result['clean'] is False
