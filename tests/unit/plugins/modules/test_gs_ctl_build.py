# -*- coding: utf-8 -*-
"""gs_ctl_build: query outputs and build output are real (fixtures, SOURCES.md); failure lines are pg_ctl.cpp's."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.pgstream.replication.plugins.modules import gs_ctl_build
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.gs_ctl_fake import (
    LOG, NO_PID_FILE, FakeClock, GsCtlScript, ok, run)

STANDBY = ok('og3.0_standby_receiver.txt')          # Standby, Normal, receiver from 10.0.0.100
NEED_REPAIR = ok('og1.0_standby_need_repair_connecting_oldlog.txt')
PRIMARY = ok('og3.0_primary_one_sender.txt')
CATCHUP = ok('og1.0.1_standby_catchup.txt')
BUILT = ok('commands/build_full_og1.0.1.txt')
INC_FAILED = (1, LOG + 'build try host(10.0.0.100) port(26001) success\n' + LOG + 'inc build failed.\n' * 3, '')
NO_PRIMARY = (1, LOG + 'could not connect to server.\n' + LOG + 'inc build failed.\n', '')


def go(monkeypatch, tmp_path, args, script, check_mode=False):
    return run(gs_ctl_build, monkeypatch, tmp_path, args, script, check_mode=check_mode, clock=FakeClock())


def builds(script):
    return [c for c in script.without_queries() if c[0] == 'build']


@pytest.mark.parametrize('args', [{}, {'expected_primary': '10.0.0.100'}, {'expected_primary': '10.0.0.100', 'build_mode': 'full'}])
def test_streaming_standby_left_alone(monkeypatch, tmp_path, args):
    script = GsCtlScript(query=[STANDBY])
    result, dummy = go(monkeypatch, tmp_path, args, script)
    assert result['changed'] is False and result['failed'] is False and result['would_build'] is False
    assert 'streaming from 10.0.0.100' in result['reason']
    assert script.commands() == ['query'] and result['state_after'] == result['state_before']


def test_force_builds(monkeypatch, tmp_path):
    script = GsCtlScript(query=[STANDBY], build=[BUILT])
    result, dummy = go(monkeypatch, tmp_path, {'force': True, 'build_mode': 'incremental'}, script)
    assert result['changed'] and result['reason'].startswith('force=true')
    assert builds(script) == [['build', '-D', '/data', '-b', 'incremental', '-M', 'standby', '-w', '-t', '600']]


def test_other_primary_check_mode(monkeypatch, tmp_path):
    script = GsCtlScript(query=[STANDBY])
    result, dummy = go(monkeypatch, tmp_path, {'expected_primary': '10.0.0.7'}, script, check_mode=True)
    assert result['changed'] and result['would_build'] and 'not from 10.0.0.7' in result['reason']
    assert script.commands() == ['query'] and result['state_after'] is None


def test_catchup_left_alone(monkeypatch, tmp_path):
    script = GsCtlScript(query=[CATCHUP])
    result, dummy = go(monkeypatch, tmp_path, {}, script)
    assert result['changed'] is False and 'catching up' in result['reason']


@pytest.mark.parametrize('before', [PRIMARY, ok('og1.1_primary_no_standby.txt')])
def test_refuses_primary(monkeypatch, tmp_path, before):
    script = GsCtlScript(query=[before])
    result, dummy = go(monkeypatch, tmp_path, {}, script, check_mode=True)
    assert result['failed'] and 'runs as Primary' in result['msg'] and script.commands() == ['query']


def test_incremental_then_streaming(monkeypatch, tmp_path):
    script = GsCtlScript(query=[NEED_REPAIR, NEED_REPAIR, STANDBY], build=[(0, LOG + ' done\n' + LOG + 'server started (/data)\n', '')])
    result, dummy = go(monkeypatch, tmp_path, {'build_mode': 'incremental', 'recv_timeout': 300, 'timeout': 60,
                                               'expected_primary': '10.0.0.100'}, script)
    assert not result.get('failed'), result['msg']
    assert result['changed'] and result['build_mode'] == ['incremental'] and result['old_data_dir'] is None
    assert builds(script) == [['build', '-D', '/data', '-b', 'incremental', '-M', 'standby', '-r', '300', '-w', '-t', '60']]
    assert result['state_before']['db_state'] == 'Need repair' and result['state_after']['db_state'] == 'Normal'
    assert result['reason'] == 'Standby, Need repair (Connecting...), no receiver'
    assert script.commands().count('query') == 3  # before, after (still repairing), after (streaming)


def test_wait_streaming_times_out(monkeypatch, tmp_path):
    script = GsCtlScript(query=[NEED_REPAIR], build=[(0, LOG + 'server started (/data)\n', '')])
    result, dummy = go(monkeypatch, tmp_path, {'build_mode': 'incremental', 'timeout': 10}, script)
    assert result['failed'] and result['changed'] and 'not streaming after 10 seconds' in result['msg']


def test_no_wait(monkeypatch, tmp_path):
    script = GsCtlScript(query=[NEED_REPAIR], build=[(0, '', '')])
    result, dummy = go(monkeypatch, tmp_path, {'build_mode': 'incremental', 'wait_streaming': False}, script)
    assert not result['failed'] and result['changed'] and script.commands() == ['query', 'build', 'query']


def test_build_failure(monkeypatch, tmp_path):
    script = GsCtlScript(query=[NEED_REPAIR], build=[INC_FAILED])
    result, dummy = go(monkeypatch, tmp_path, {'build_mode': 'incremental'}, script)
    assert result['failed'] and result['rc'] == 1 and 'inc build failed.' in result['msg']
    assert result['stdout_lines'][-1].endswith('inc build failed.')


def make_data_dir(tmp_path):
    data = tmp_path / 'data'
    (data / 'base' / '1').mkdir(parents=True)
    (data / 'base' / '1' / '1259').write_text(u'old table data')
    (data / 'pg_tblspc').mkdir()
    for name, text in (('postgresql.conf', u"replconninfo1 = 'localhost=10.0.0.101'\n"), ('PG_VERSION', u'9.2\n'),
                       ('pg_hba.conf', u'host all all 10.0.0.0/24 sha256\n'), ('postmaster.pid', u'4711\n')):
        (data / name).write_text(text)
    data.chmod(0o700)
    return data


def full_build_checker(data):
    """gs_ctl build -b full as seen by gs_ctl: data dir with the old top-level files and no old data."""
    seen = {}

    def build(argv):
        seen['files'] = sorted(os.listdir(str(data)))
        seen['mode'] = oct(os.stat(str(data)).st_mode & 0o777)
        return BUILT
    return build, seen


@pytest.mark.parametrize('mode', ['full', 'standby_full'])
def test_full_keeps_old_data(monkeypatch, tmp_path, mode):
    data = make_data_dir(tmp_path)
    build, seen = full_build_checker(data)
    script = GsCtlScript(query=[NO_PID_FILE, NO_PID_FILE, STANDBY], build=[build])
    result, dummy = go(monkeypatch, tmp_path, {'data_dir': str(data), 'build_mode': mode}, script)
    assert not result['failed'], result['msg']
    old = result['old_data_dir']
    assert old.startswith(str(data) + '.moved-')
    assert seen['files'] == ['PG_VERSION', 'pg_hba.conf', 'postgresql.conf'] and seen['mode'] == '0o700'
    assert (tmp_path / old / 'base' / '1' / '1259').read_text() == u'old table data'
    assert os.path.exists(os.path.join(old, 'postmaster.pid'))
    assert result['build_mode'] == [mode]
    assert script.commands() == ['query', 'query', 'build', 'query']  # no stop: nothing was running


def test_full_stops_running_standby_first(monkeypatch, tmp_path):
    data = make_data_dir(tmp_path)
    build, seen = full_build_checker(data)
    script = GsCtlScript(query=[NEED_REPAIR, NEED_REPAIR, STANDBY], stop=[(0, 'waiting for server to shut down.... done\nserver stopped\n', '')],
                         build=[build])
    result, dummy = go(monkeypatch, tmp_path, {'data_dir': str(data), 'build_mode': 'full'}, script)
    assert not result['failed'], result['msg']
    assert script.without_queries()[0] == ['stop', '-D', str(data), '-m', 'fast', '-w', '-t', '600']
    assert [c['cmd'].split()[1] for c in result['commands']] == ['stop', 'build']


def test_full_stop_failure(monkeypatch, tmp_path):
    data = make_data_dir(tmp_path)
    script = GsCtlScript(query=[NEED_REPAIR], stop=[(1, LOG + ' failed\n' + LOG + ' server does not shut down\n', '')])
    result, dummy = go(monkeypatch, tmp_path, {'data_dir': str(data), 'build_mode': 'full'}, script)
    assert result['failed'] and 'gs_ctl stop failed' in result['msg'] and result['old_data_dir'] is None
    assert sorted(os.listdir(str(data)))[0] == 'PG_VERSION' and (data / 'base').is_dir()


def test_full_without_keeping(monkeypatch, tmp_path):
    data = make_data_dir(tmp_path)
    script = GsCtlScript(query=[NEED_REPAIR, STANDBY], build=[BUILT])
    result, dummy = go(monkeypatch, tmp_path, {'data_dir': str(data), 'build_mode': 'full', 'keep_old_data': False}, script)
    assert not result['failed'] and result['old_data_dir'] is None and (data / 'base').is_dir()
    assert script.commands() == ['query', 'build', 'query']


def test_keep_refused_with_symlink(monkeypatch, tmp_path):
    data = make_data_dir(tmp_path)
    (tmp_path / 'xlog').mkdir()
    os.symlink(str(tmp_path / 'xlog'), str(data / 'pg_xlog'))
    os.symlink(str(tmp_path / 'xlog'), str(data / 'pg_tblspc' / '16385'))
    script = GsCtlScript(query=[NEED_REPAIR])
    result, dummy = go(monkeypatch, tmp_path, {'data_dir': str(data), 'build_mode': 'full'}, script)
    assert result['failed'] and 'pg_xlog is a symbolic link' in result['msg'] and 'tablespaces (16385)' in result['msg']
    assert script.commands() == ['query'] and (data / 'base').is_dir()


def test_failed_full_build_says_where_old_data_is(monkeypatch, tmp_path):
    data = make_data_dir(tmp_path)
    script = GsCtlScript(query=[NO_PID_FILE], build=[(1, LOG + 'could not connect to server.\n' + LOG + 'full build failed(/data).\n', '')])
    result, dummy = go(monkeypatch, tmp_path, {'data_dir': str(data), 'build_mode': 'full'}, script)
    assert result['failed'] and result['changed'] and 'kept in %s' % result['old_data_dir'] in result['msg']


def test_auto_keeps_old_data_before_full(monkeypatch, tmp_path):
    data = make_data_dir(tmp_path)
    build, seen = full_build_checker(data)
    script = GsCtlScript(query=[NEED_REPAIR, NO_PID_FILE, STANDBY], build=[INC_FAILED, build])
    result, dummy = go(monkeypatch, tmp_path, {'data_dir': str(data)}, script)
    assert not result['failed'], result['msg']
    assert [b[4] for b in builds(script)] == ['incremental', 'full'] and result['build_mode'] == ['incremental', 'full']
    assert result['old_data_dir'] and seen['files'] == ['PG_VERSION', 'pg_hba.conf', 'postgresql.conf']


def test_auto_primary_unreachable_no_full(monkeypatch, tmp_path):
    data = make_data_dir(tmp_path)
    script = GsCtlScript(query=[NEED_REPAIR], build=[NO_PRIMARY])
    result, dummy = go(monkeypatch, tmp_path, {'data_dir': str(data)}, script)
    assert result['failed'] and 'primary could not be reached' in result['msg'] and result['old_data_dir'] is None
    assert [b[4] for b in builds(script)] == ['incremental'] and (data / 'base').is_dir()


def test_auto_without_keeping_is_gs_ctl_auto(monkeypatch, tmp_path):
    script = GsCtlScript(query=[NEED_REPAIR, STANDBY], build=[BUILT])
    result, dummy = go(monkeypatch, tmp_path, {'keep_old_data': False, 'server_mode': 'standby'}, script)
    assert builds(script) == [['build', '-D', '/data', '-b', 'auto', '-M', 'standby', '-w', '-t', '600']]


def test_cascade_standby(monkeypatch, tmp_path):
    script = GsCtlScript(query=[ok('mogdb_cascade_standby.txt')])
    result, dummy = go(monkeypatch, tmp_path, {'server_mode': 'cascade_standby'}, script)
    assert result['changed'] is False
    script = GsCtlScript(query=[ok('mogdb_cascade_standby.txt')])
    result, dummy = go(monkeypatch, tmp_path, {'server_mode': 'standby'}, script, check_mode=True)
    assert result['would_build'] and 'not Standby' in result['reason']


@pytest.mark.parametrize('args, message', [
    ({'timeout': 0}, 'timeout must be at least 1'),
    ({'recv_timeout': 0}, 'recv_timeout must be at least 1'),
    ({'build_mode': 'cross_cluster_full'}, 'build_mode'),
    ({'server_mode': 'primary'}, 'server_mode'),
])
def test_bad_arguments(monkeypatch, tmp_path, args, message):
    script = GsCtlScript(query=[NEED_REPAIR])
    result, dummy = go(monkeypatch, tmp_path, args, script)
    assert result['failed'] and message in result['msg'] and script.calls == []


def test_expected_primary_by_name(monkeypatch, tmp_path):
    monkeypatch.setattr(gs_ctl_build.socket, 'getaddrinfo', lambda host, port: [(2, 1, 6, '', ('10.0.0.100', 0))])
    script = GsCtlScript(query=[STANDBY])
    result, dummy = go(monkeypatch, tmp_path, {'expected_primary': 'og-primary.example.com'}, script)
    assert result['changed'] is False
