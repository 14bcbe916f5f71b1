# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for module_utils/gs_ctl.py. gs_ctl messages used here are the ones of openGauss-server
src/bin/pg_ctl/pg_ctl.cpp (format strings filled in) or real published outputs (fixtures, SOURCES.md)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils import gs_ctl
from ansible_collections.pgstream.replication.plugins.module_utils.gs_ctl import (
    LOOKUP_MARKER, GsCtl, gs_ctl_argument_spec, last_lines, not_running_reason, outcome, query_result)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'gs_ctl')
LOG = '[2025-01-01 10:00:00.000][4242][][gs_ctl]: '


def fixture(name):
    with open(os.path.join(FIXTURES, name), 'rb') as handle:
        return handle.read().decode('utf-8')


class Failed(Exception):
    pass


class FakeModule(object):
    def __init__(self, params=None, responses=None, bins=None):
        self.params = dict(data_dir='/data', gs_ctl_path='gs_ctl', owner='omm', gauss_home=None)
        self.params.update(params or {})
        self.responses = list(responses or [])
        self.bins = bins or {}
        self.calls = []
        self.warnings = []

    def run_command(self, argv, check_rc=False, environ_update=None, cwd=None, data=None):
        self.calls.append((list(argv), dict(environ_update or {})))
        return self.responses.pop(0) if self.responses else (0, '', '')

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return self.bins.get(name)

    def fail_json(self, msg, **kw):
        raise Failed(msg, kw)

    def warn(self, msg):
        self.warnings.append(msg)


@pytest.fixture
def user(monkeypatch):
    monkeypatch.setattr(gs_ctl.os, 'geteuid', lambda: 1000)
    monkeypatch.delenv('GAUSSHOME', raising=False)


@pytest.fixture
def root(monkeypatch):
    monkeypatch.setattr(gs_ctl.os, 'geteuid', lambda: 0)
    monkeypatch.delenv('GAUSSHOME', raising=False)


def install(tmp_path, home='og', gaussdb=True):
    """<tmp>/<home>/bin/gs_ctl (+ gaussdb, lib/) like an openGauss tarball."""
    bindir = tmp_path / home / 'bin'
    bindir.mkdir(parents=True)
    (tmp_path / home / 'lib').mkdir()
    for name in ('gs_ctl',) + (('gaussdb',) if gaussdb else ()):
        path = bindir / name
        path.write_text(u'#!/bin/sh\n')
        path.chmod(0o755)
    return str(tmp_path / home)


# ---- exit codes and messages ------------------------------------------------------------------------------------

@pytest.mark.parametrize('command, rc, out, expected', [
    ('query', 1, LOG + ' PID file "/data/postmaster.pid" does not exist\n' + LOG + 'Is server running?\n', 'not_running'),
    ('query', 1, LOG + ' could not connect to the local server, the postmaster process 4711 is not running', 'not_running'),
    ('query', 1, LOG + ' The process recorded in PID file "/data/postmaster.pid" is not current server\n', 'not_running'),
    ('status', 3, 'no server running\n', 'not_running'),
    ('query', 1, LOG + ' file "/data/gaussdb.state" is not exist\n', 'no_state_file'),
    ('query', 1, LOG + ' cannot be run as root\nPlease log in (using, e.g., "su") as the (unprivileged) user', 'root'),
    ('build', 1, LOG + 'Another gs_ctl command is still running,build failed !\n', 'locked'),
    ('switchover', 0, fixture('commands/switchover_timeout_mogdb.txt'), 'switchover_timeout'),
    ('switchover', 0, fixture('commands/switchover_og1.1.txt'), 'ok'),
    ('failover', 0, fixture('commands/failover_og1.0_oldlog.txt'), 'ok'),
    ('failover', 0, fixture('commands/failover_cascade_og1.1.txt'), 'ok'),
    ('failover', 1, LOG + ' failover timeout after 60 seconds. please manually check the cluster status or backtrack log.\n'
     + LOG + ' failover failed (/data)\n', 'failover_timeout'),
    ('build', 0, fixture('commands/build_full_og1.0.1.txt'), 'ok'),
    ('build', 1, LOG + 'inc build failed.\n', 'failed'),
    ('start', 0, LOG + ' another server might be running; Please use the restart command\n', 'already_running'),
    ('start', 0, LOG + 'stopped waiting\n' + LOG + 'server is still starting up\n', 'still_starting'),
    ('stop', 1, LOG + ' unrecognized shutdown mode "smart"\n', 'failed'),
])
def test_outcome(command, rc, out, expected):
    assert outcome(command, rc, out) == expected


def test_not_running_reason():
    assert not_running_reason(1, LOG + ' PID file "/d/postmaster.pid" does not exist\n') == 'no_pid_file'
    assert not_running_reason(1, LOG + ' could not connect to the local server, the postmaster process -12 is not running') \
        == 'postmaster_gone'
    assert not_running_reason(1, LOG + ' The process recorded in PID file "/d/postmaster.pid" is not current server') \
        == 'foreign_pid'
    assert not_running_reason(3, 'no server running\n') == 'no_server_running'
    assert not_running_reason(0, LOG + ' PID file "/d/postmaster.pid" does not exist') is None
    assert not_running_reason(1, 'something else') is None


def test_last_lines():
    assert last_lines('a\n\n  b  \n\nc\n', 2) == ['b', 'c']
    assert last_lines(None) == []


def test_argument_spec():
    spec = gs_ctl_argument_spec()
    assert spec['data_dir'] == dict(type='path', required=True)
    assert spec['owner']['default'] == 'omm' and spec['gs_ctl_path']['default'] == 'gs_ctl'
    assert spec['gauss_home'] == dict(type='path')


# ---- finding gs_ctl ----------------------------------------------------------------------------------------------

def test_resolve_gauss_home(tmp_path, user):
    home = install(tmp_path)
    module = FakeModule(dict(gauss_home=home), bins={'gs_ctl': '/usr/bin/gs_ctl'})
    gs = GsCtl(module)
    assert gs.resolve() == os.path.join(home, 'bin', 'gs_ctl')
    env = gs.env()
    assert env['GAUSSHOME'] == home
    assert env['PATH'].startswith(os.path.join(home, 'bin') + ':')
    assert env['LD_LIBRARY_PATH'].split(':')[0] == os.path.join(home, 'lib')
    assert env['LC_ALL'] == 'C'


def test_resolve_env_gausshome(tmp_path, user, monkeypatch):
    home = install(tmp_path)
    monkeypatch.setenv('GAUSSHOME', home)
    monkeypatch.setenv('LD_LIBRARY_PATH', '/other/lib')
    gs = GsCtl(FakeModule())
    assert gs.resolve() == os.path.join(home, 'bin', 'gs_ctl')
    assert gs.env()['LD_LIBRARY_PATH'] == os.path.join(home, 'lib') + ':/other/lib'


def test_resolve_module_path(tmp_path, user):
    home = install(tmp_path)
    module = FakeModule(bins={'gs_ctl': os.path.join(home, 'bin', 'gs_ctl')})
    gs = GsCtl(module)
    assert gs.resolve() == os.path.join(home, 'bin', 'gs_ctl')
    assert gs.env()['GAUSSHOME'] == home  # derived: bin/gaussdb and lib/ next to it
    assert module.calls == []


def test_resolve_path_without_installation_layout(tmp_path, user):
    """The test double in /usr/local/bin: no GAUSSHOME is made up."""
    install(tmp_path, gaussdb=False)
    module = FakeModule(bins={'gs_ctl': str(tmp_path / 'og' / 'bin' / 'gs_ctl')})
    gs = GsCtl(module)
    gs.resolve()
    assert 'GAUSSHOME' not in gs.env() and 'LD_LIBRARY_PATH' not in gs.env()


def test_resolve_owner_login_environment(tmp_path, root):
    home = install(tmp_path)
    out = 'Last login: today\n%s\n%s\n%s\n/opt/x/lib\n' % (LOOKUP_MARKER, os.path.join(home, 'bin', 'gs_ctl'), home)
    module = FakeModule(responses=[(0, out, '')], bins={'runuser': '/usr/sbin/runuser', 'bash': '/bin/bash'})
    gs = GsCtl(module)
    assert gs.resolve() == os.path.join(home, 'bin', 'gs_ctl')
    argv, env = module.calls[0]
    assert argv[:6] == ['/usr/sbin/runuser', '-u', 'omm', '--', '/bin/bash', '-lc']
    assert 'command -v gs_ctl' in argv[6]
    assert gs.env()['GAUSSHOME'] == home
    assert gs.env()['LD_LIBRARY_PATH'] == os.path.join(home, 'lib') + ':/opt/x/lib'
    assert gs.argv(['query', '-D', '/data'])[:4] == ['/usr/sbin/runuser', '-u', 'omm', '--']


def test_resolve_not_found(user):
    module = FakeModule(responses=[(0, '%s\n\n\n\n' % LOOKUP_MARKER, '')], bins={'bash': '/bin/bash'})
    with pytest.raises(Failed) as e:
        GsCtl(module).resolve()
    assert 'gs_ctl not found' in e.value.args[0] and 'login environment of omm' in e.value.args[0]


def test_resolve_explicit_path_missing(user):
    with pytest.raises(Failed) as e:
        GsCtl(FakeModule(dict(gs_ctl_path='/nowhere/gs_ctl'))).resolve()
    assert '/nowhere/gs_ctl' in e.value.args[0]


def test_root_needs_runuser(tmp_path, root):
    home = install(tmp_path)
    gs = GsCtl(FakeModule(dict(gauss_home=home)))
    with pytest.raises(Failed, match='runuser was not found'):
        gs.argv(['query'])


def test_check_owner(user):
    with pytest.raises(Failed, match='owner no-such-user-h4 does not exist'):
        GsCtl(FakeModule(dict(owner='no-such-user-h4'))).check_owner()


# ---- query -------------------------------------------------------------------------------------------------------

def test_query_running(tmp_path, user):
    home = install(tmp_path)
    module = FakeModule(dict(gauss_home=home), responses=[(0, fixture('og3.0_standby_receiver.txt'), '')])
    gs = GsCtl(module)
    info = gs.query()
    assert module.calls[0][0] == [os.path.join(home, 'bin', 'gs_ctl'), 'query', '-D', '/data']
    assert info['running'] and info['error'] is None and info['rc'] == 0
    assert info['summary']['upstream']['host'] == '10.0.0.100'
    result = query_result(gs, info)
    assert result['local_role'] == 'Standby' and result['role'] == 'standby' and result['receiver']['channel']
    assert result['query_warnings'] == [] and result['gs_ctl'] == os.path.join(home, 'bin', 'gs_ctl')


def test_query_not_running(tmp_path, user):
    home = install(tmp_path)
    out = LOG + ' PID file "/data/postmaster.pid" does not exist\n' + LOG + 'Is server running?\n'
    gs = GsCtl(FakeModule(dict(gauss_home=home), responses=[(1, out, '')]))
    info = gs.query()
    assert (info['running'], info['not_running_reason'], info['error'], info['summary']) == (False, 'no_pid_file', None, None)
    result = query_result(gs, info)
    assert result['role'] == 'unknown' and result['local_role'] is None and result['senders'] == []


def test_query_error(tmp_path, user):
    home = install(tmp_path)
    gs = GsCtl(FakeModule(dict(gauss_home=home), responses=[(1, LOG + ' cannot be run as root\n', '')]))
    info = gs.query()
    assert not info['running'] and 'rc=1' in info['error'] and 'cannot be run as root' in info['error']
    with pytest.raises(Failed) as e:
        gs.fail_query(info)
    assert e.value.args[1]['rc'] == 1


def test_cmd_is_quoted(tmp_path, user):
    home = install(tmp_path)
    gs = GsCtl(FakeModule(dict(gauss_home=home, data_dir='/data dir')))
    assert gs.cmd(['query', '-D', '/data dir']).endswith("query -D '/data dir'")
