# -*- coding: utf-8 -*-
"""gs_ctl_promote: switchover/failover outputs are real (fixtures, SOURCES.md)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.pgstream.replication.plugins.modules import gs_ctl_promote
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.gs_ctl_fake import (
    LOG, NO_PID_FILE, FakeClock, GsCtlScript, ok, run)

STANDBY = ok('og3.0_standby_receiver.txt')
PRIMARY = ok('og3.0_primary_one_sender.txt')
LOST = ok('og1.0_standby_need_repair_connecting_oldlog.txt')
FAILED_OVER = ok('og1.0_primary_one_sender_after_failover_oldlog.txt')


def go(monkeypatch, tmp_path, args, script, check_mode=False):
    return run(gs_ctl_promote, monkeypatch, tmp_path, args, script, check_mode=check_mode, clock=FakeClock())


@pytest.mark.parametrize('operation', ['switchover', 'failover'])
@pytest.mark.parametrize('check_mode', [False, True])
def test_already_primary(monkeypatch, tmp_path, operation, check_mode):
    script = GsCtlScript(query=[PRIMARY])
    result, dummy = go(monkeypatch, tmp_path, {'operation': operation}, script, check_mode=check_mode)
    assert result['changed'] is False and result['failed'] is False
    assert (result['role_before'], result['role_after'], result['cmd']) == ('Primary', 'Primary', None)
    assert script.commands() == ['query']


def test_switchover(monkeypatch, tmp_path):
    script = GsCtlScript(query=[STANDBY, STANDBY, PRIMARY], switchover=[ok('commands/switchover_og1.1.txt')])
    result, dummy = go(monkeypatch, tmp_path, {}, script)
    assert not result['failed'], result['msg']
    assert result['changed'] and (result['role_before'], result['role_after']) == ('Standby', 'Primary')
    assert script.without_queries() == [['switchover', '-D', '/data', '-m', 'fast', '-w', '-t', '120']]
    assert result['outcome'] == 'ok' and result['rc'] == 0
    assert result['stdout_lines'][-1].endswith('switchover completed (/gauss/data/db1)')
    assert result['state_after']['role'] == 'primary'


def test_switchover_check_mode(monkeypatch, tmp_path):
    script = GsCtlScript(query=[STANDBY])
    result, dummy = go(monkeypatch, tmp_path, {'switchover_mode': 'smart', 'timeout': 30}, script, check_mode=True)
    assert result['changed'] and result['would'] == 'switchover' and script.commands() == ['query']
    assert result['cmd'].endswith('switchover -D /data -m smart -w -t 30') and result['state_after'] is None


def test_switchover_timeout_exit_0_then_role_changes(monkeypatch, tmp_path):
    """gs_ctl switchover exits 0 on timeout (real MogDB output); the role change is checked, not the exit code."""
    script = GsCtlScript(query=[STANDBY, STANDBY, STANDBY, PRIMARY], switchover=[ok('commands/switchover_timeout_mogdb.txt')])
    result, dummy = go(monkeypatch, tmp_path, {}, script)
    assert not result['failed'] and result['outcome'] == 'switchover_timeout' and result['role_after'] == 'Primary'


def test_switchover_timeout_role_unchanged(monkeypatch, tmp_path):
    script = GsCtlScript(query=[STANDBY], switchover=[ok('commands/switchover_timeout_mogdb.txt')])
    result, dummy = go(monkeypatch, tmp_path, {'timeout': 20}, script)
    assert result['failed'] and result['changed'] and result['rc'] == 0
    assert 'is Standby, not Primary, 20 seconds later' in result['msg']


def test_switchover_without_receiver_refused(monkeypatch, tmp_path):
    script = GsCtlScript(query=[LOST])
    result, dummy = go(monkeypatch, tmp_path, {}, script)
    assert result['failed'] and 'use operation=failover' in result['msg'] and script.commands() == ['query']


def test_switchover_smart_rejected_by_gs_ctl(monkeypatch, tmp_path):
    script = GsCtlScript(query=[STANDBY], switchover=[(1, LOG + ' unrecognized shutdown mode "smart"\n', '')])
    result, dummy = go(monkeypatch, tmp_path, {'switchover_mode': 'smart'}, script)
    assert result['failed'] and 'unrecognized shutdown mode' in result['msg'] and result['rc'] == 1


def test_failover(monkeypatch, tmp_path):
    script = GsCtlScript(query=[LOST, FAILED_OVER], failover=[ok('commands/failover_og1.0_oldlog.txt')])
    result, dummy = go(monkeypatch, tmp_path, {'operation': 'failover', 'timeout': 60}, script)
    assert not result['failed'], result['msg']
    assert script.without_queries() == [['failover', '-D', '/data', '-w', '-t', '60']]
    assert (result['role_before'], result['role_after']) == ('Standby', 'Primary')
    assert result['state_before']['db_state'] == 'Need repair'


def test_failover_refused_while_primary_connected(monkeypatch, tmp_path):
    script = GsCtlScript(query=[STANDBY])
    result, dummy = go(monkeypatch, tmp_path, {'operation': 'failover', 'disconnect_wait': 5}, script)
    assert result['failed'] and 'still shows the primary 10.0.0.100 connected' in result['msg']
    assert 'failover' not in script.commands() and script.commands().count('query') > 2  # waited, re-reading


def test_failover_waits_for_receiver_to_drop(monkeypatch, tmp_path):
    script = GsCtlScript(query=[STANDBY, STANDBY, LOST, FAILED_OVER], failover=[ok('commands/failover_og1.0_oldlog.txt')])
    result, dummy = go(monkeypatch, tmp_path, {'operation': 'failover'}, script)
    assert not result['failed'] and result['role_after'] == 'Primary'
    assert result['state_before']['upstream'] is None


def test_failover_force(monkeypatch, tmp_path):
    script = GsCtlScript(query=[STANDBY, FAILED_OVER], failover=[ok('commands/failover_og1.0_oldlog.txt')])
    result, dummy = go(monkeypatch, tmp_path, {'operation': 'failover', 'force': True}, script)
    assert not result['failed'] and result['changed']


def test_cascade_failover_becomes_standby(monkeypatch, tmp_path):
    script = GsCtlScript(query=[ok('mogdb_cascade_standby.txt'), STANDBY], failover=[ok('commands/failover_cascade_og1.1.txt')])
    result, dummy = go(monkeypatch, tmp_path, {'operation': 'failover', 'force': True}, script)
    assert not result['failed'], result['msg']
    assert (result['role_before'], result['role_after']) == ('Cascade Standby', 'Standby')


def test_failover_timeout(monkeypatch, tmp_path):
    out = (LOG + ' failover timeout after 60 seconds. please manually check the cluster status or backtrack log.\n'
           + LOG + ' failover failed (/data)\n')
    script = GsCtlScript(query=[LOST], failover=[(1, out, '')])
    result, dummy = go(monkeypatch, tmp_path, {'operation': 'failover'}, script)
    assert result['failed'] and result['outcome'] == 'failover_timeout' and 'failover failed' in result['msg']
    assert result['promote_requested'] is True
    assert 'the request stands, and the server of /data may still become the primary later' in result['msg']


@pytest.mark.parametrize('operation, rc, out, expected', [
    # do_failover()/do_switchover() print the wait line just before they write the signal file and send SIGUSR1
    ('failover', 1, LOG + ' waiting for server to failover...\n' + LOG + ' could not send failover signal (PID: 7): '
     'No such process\n', True),
    ('failover', 1, LOG + ' cannot failover server; server is not in standby or cascade standby mode\n', False),
    ('failover', 1, LOG + ' Another gs_ctl command is still running,failover failed !\n', False),
    ('switchover', 1, LOG + ' unrecognized shutdown mode "smart"\n', False),
])
def test_promote_requested_only_once_gs_ctl_signalled(monkeypatch, tmp_path, operation, rc, out, expected):
    """A failed gs_ctl says whether its request may stand (opengauss_failover.yml cancels one that does)."""
    script = GsCtlScript(query=[LOST if operation == 'failover' else STANDBY], **{operation: [(rc, out, '')]})
    result, dummy = go(monkeypatch, tmp_path, {'operation': operation}, script)
    assert result['failed'] and result['promote_requested'] is expected
    assert ('may still become the primary later' in result['msg']) is expected


def test_promote_requested_false_when_nothing_ran(monkeypatch, tmp_path):
    result, dummy = go(monkeypatch, tmp_path, {'operation': 'failover'}, GsCtlScript(query=[PRIMARY]))
    assert result['promote_requested'] is False and result['cmd'] is None


def test_not_running(monkeypatch, tmp_path):
    result, dummy = go(monkeypatch, tmp_path, {}, GsCtlScript(query=[NO_PID_FILE]))
    assert result['failed'] and 'no server running' in result['msg']


def test_pending_refused(monkeypatch, tmp_path):
    """local_role Pending (format of pg_ctl.cpp; no published capture): not a standby."""
    text = ' HA state:           \n\tlocal_role                     : Pending\n\tstatic_connections             : 1\n' \
           '\tdb_state                       : Normal\n\tdetail_information             : Normal\n\n Senders info:       \n' \
           'No information \n Receiver info:      \nNo information \n'
    result, dummy = go(monkeypatch, tmp_path, {}, GsCtlScript(query=[(0, text, '')]))
    assert result['failed'] and 'runs as Pending' in result['msg']


@pytest.mark.parametrize('args, message', [
    ({'timeout': 0}, 'timeout must be at least 1'),
    ({'disconnect_wait': -1}, 'disconnect_wait must be at least 0'),
    ({'operation': 'promote'}, 'operation'),
    ({'switchover_mode': 'immediate'}, 'switchover_mode'),
])
def test_bad_arguments(monkeypatch, tmp_path, args, message):
    script = GsCtlScript(query=[STANDBY])
    result, dummy = go(monkeypatch, tmp_path, args, script)
    assert result['failed'] and message in result['msg'] and script.calls == []
