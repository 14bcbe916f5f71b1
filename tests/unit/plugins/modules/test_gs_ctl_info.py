# -*- coding: utf-8 -*-
"""gs_ctl_info on every real `gs_ctl query` output in tests/unit/fixtures/gs_ctl/ (SOURCES.md) and on the
'no server' messages of pg_ctl.cpp do_query()."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils.gs_ctl_query import parse_query, summary
from ansible_collections.pgstream.replication.plugins.modules import gs_ctl_info
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.fake_cmd import FakeRunner, run_module
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.gs_ctl_fake import (
    FIXTURES, LOG, NO_PID_FILE, GsCtlScript, fixture, ok, run)

# Outputs of other gs_ctl commands (build/switchover/failover) live in commands/.
QUERY_FIXTURES = sorted(n for n in os.listdir(FIXTURES) if n.endswith('.txt'))


def test_every_query_fixture_is_covered():
    assert len(QUERY_FIXTURES) >= 15


@pytest.mark.parametrize('name', QUERY_FIXTURES)
@pytest.mark.parametrize('check_mode', [False, True])
def test_fixture(monkeypatch, tmp_path, name, check_mode):
    script = GsCtlScript(query=[ok(name)])
    result, runner = run(gs_ctl_info, monkeypatch, tmp_path, {}, script, check_mode=check_mode)
    parsed = parse_query(fixture(name))
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is False
    assert script.calls == [[str(tmp_path / 'gs_ctl'), 'query', '-D', '/data']]
    assert result['running'] is True and result['not_running_reason'] is None and result['rc'] == 0
    assert result['local_role'] == parsed['ha_state']['local_role']
    assert result['db_state'] == parsed['ha_state']['db_state']
    assert result['detail_information'] == parsed['ha_state'].get('detail_information')
    assert result['senders'] == parsed['senders'] and result['receiver'] == parsed['receiver']
    assert result['summary'] == summary(parsed)
    assert result['role'] == summary(parsed)['role'] != 'unknown'
    expected_warnings = parsed['warnings'] + ['unparsed line: %s' % u for u in parsed['unparsed']]
    assert result['query_warnings'] == expected_warnings
    assert result['_warnings'] == ['gs_ctl query: %s' % w for w in expected_warnings]
    assert result['raw_lines'] == fixture(name).splitlines()
    env = runner.calls[0][1]['environ_update']
    assert env['LC_ALL'] == 'C'


def test_sender_and_receiver_details(monkeypatch, tmp_path):
    script = GsCtlScript(query=[ok('mogdb_standby_cascade_sender_and_receiver.txt')])
    result, dummy = run(gs_ctl_info, monkeypatch, tmp_path, {}, script)
    assert result['local_role'] == 'Standby'
    assert [s['peer_role'] for s in result['senders']] == ['Cascade Standby']
    assert result['receiver']['peer_role'] == 'Primary'
    assert result['summary']['upstream']['host'] and result['summary']['sender_count'] == 1


def test_unknown_state_reported_not_guessed(monkeypatch, tmp_path):
    """A real fixture with one value changed to something gs_ctl's source does not print."""
    text = fixture('og3.0_standby_receiver.txt').replace('Need repair', 'X').replace(
        'db_state                       : Normal', 'db_state                       : Rebuilding', 1)
    script = GsCtlScript(query=[(0, text, '')])
    result, dummy = run(gs_ctl_info, monkeypatch, tmp_path, {}, script)
    assert result['db_state'] == 'Rebuilding'
    assert any("unknown ha_state.db_state value 'Rebuilding'" in w for w in result['query_warnings'])
    assert result['_warnings']


@pytest.mark.parametrize('answer, reason', [
    (NO_PID_FILE, 'no_pid_file'),
    ((1, LOG + ' could not connect to the local server, the postmaster process 4711 is not running', ''), 'postmaster_gone'),
    ((1, LOG + ' The process recorded in PID file "/data/postmaster.pid" is not current server\n'
      + LOG + 'Is server running?\n', ''), 'foreign_pid'),
])
def test_not_running(monkeypatch, tmp_path, answer, reason):
    result, dummy = run(gs_ctl_info, monkeypatch, tmp_path, {}, GsCtlScript(query=[answer]))
    assert result['failed'] is False and result['changed'] is False
    assert (result['running'], result['not_running_reason'], result['rc']) == (False, reason, 1)
    assert result['role'] == 'unknown' and result['local_role'] is None and result['summary'] is None
    assert result['senders'] == [] and result['receiver'] is None
    assert 'no server running' in result['msg']


@pytest.mark.parametrize('answer, message', [
    ((1, LOG + ' cannot be run as root\nPlease log in (using, e.g., "su") as the (unprivileged) user that will\n', ''),
     'cannot be run as root'),
    ((1, LOG + ' file "/data/gaussdb.state" is not exist\n', ''), 'is not exist'),
    ((127, '', 'gs_ctl: error while loading shared libraries: libcjson.so.1'), 'libcjson'),
])
def test_query_failure(monkeypatch, tmp_path, answer, message):
    result, dummy = run(gs_ctl_info, monkeypatch, tmp_path, {}, GsCtlScript(query=[answer]))
    assert result['failed'] and message in result['msg'] and result['rc'] == answer[0]


def test_runs_as_owner_when_root(monkeypatch, tmp_path):
    monkeypatch.setattr(gs_ctl_info.AnsibleModule, 'get_bin_path',
                        lambda self, name, required=False, opt_dirs=None: '/usr/sbin/runuser' if name == 'runuser' else None)
    script = GsCtlScript(query=[ok('og3.0_primary_one_sender.txt')])
    result, runner = run(gs_ctl_info, monkeypatch, tmp_path, {'owner': 'gauss'}, script, euid=0)
    assert runner.calls[0][0][:4] == ['/usr/sbin/runuser', '-u', 'gauss', '--']
    assert result['cmd'].startswith('/usr/sbin/runuser -u gauss -- ')


def test_gauss_home_environment(monkeypatch, tmp_path):
    home = tmp_path / 'og'
    (home / 'bin').mkdir(parents=True)
    (home / 'lib').mkdir()
    gs = home / 'bin' / 'gs_ctl'
    gs.write_text(u'#!/bin/sh\n')
    gs.chmod(0o755)
    script = GsCtlScript(query=[ok('og3.0_primary_one_sender.txt')])
    result, runner = run(gs_ctl_info, monkeypatch, tmp_path, {'gs_ctl_path': 'gs_ctl', 'gauss_home': str(home)}, script)
    env = runner.calls[0][1]['environ_update']
    assert env['GAUSSHOME'] == str(home) and env['LD_LIBRARY_PATH'].startswith(str(home / 'lib'))
    assert result['gs_ctl'] == str(gs)


def test_missing_owner(monkeypatch, tmp_path):
    from ansible_collections.pgstream.replication.plugins.module_utils import gs_ctl as utils

    def getpwnam(name):
        raise KeyError(name)
    script = GsCtlScript(query=[ok('og3.0_primary_one_sender.txt')])
    monkeypatch.setattr(utils.pwd, 'getpwnam', getpwnam)
    result = run_module(gs_ctl_info, dict(data_dir='/data', gs_ctl_path=str(tmp_path / 'gs_ctl'), owner='nobody-h4'),
                        runner=FakeRunner({'gs_ctl': script}), monkeypatch=monkeypatch)
    assert result['failed'] and 'owner nobody-h4 does not exist' in result['msg'] and script.calls == []
