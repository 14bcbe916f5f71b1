# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import socket
import threading
import time as real_time

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils import peers as peers_utils
from ansible_collections.pgstream.replication.plugins.modules import promote
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.fake_cmd import (
    FakeRunner, FakeServer, run_module)

LOGIN_PASSWORD = 'L0gin-Secret'
PEER_PASSWORD = 'P33r-Secret'
PROMOTE_SQL = 'SELECT pg_promote(wait => true, wait_seconds => 60)'


class FakeClock:
    """time.time/time.sleep without waiting."""

    def __init__(self):
        self.now = 1000.0
        self.slept = 0.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += max(seconds, 0.1)
        self.slept += seconds


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(promote, 'time', fake)
    monkeypatch.setattr(peers_utils, 'time', fake)
    return fake


class FakeResolver:
    """Replaces socket.getaddrinfo: the servers' names resolve (pg1 to 10.0.0.1, ...), others do not exist. script maps a
    name to its answers, one per lookup, then the normal one: 'again' (the name service failed), 'hang' (it does not
    answer until release()), 'slow-nx' ("does not exist" after 0.6 s)."""

    def __init__(self, names):
        self.names = [n for n in names if n]
        self.script = {}
        self.lookups = []
        self.released = threading.Event()

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        self.lookups.append(host)
        step = self.script.get(host, [])
        step = step.pop(0) if step else None
        if step == 'again':
            raise socket.gaierror(socket.EAI_AGAIN, 'Temporary failure in name resolution')
        if step == 'hang':
            self.released.wait(30)
        if step == 'slow-nx':
            real_time.sleep(0.6)
            raise socket.gaierror(socket.EAI_NONAME, 'Name or service not known')
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, 'Name or service not known')
        literal = host.replace('.', '').isdigit()
        address = host if literal else '10.0.0.%d' % (sorted(self.names).index(host) + 1)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, '', (address, int(port)))] * 2

    def release(self):
        self.released.set()


@pytest.fixture
def resolver(monkeypatch):
    fake = FakeResolver([])
    monkeypatch.setattr(peers_utils.socket, 'getaddrinfo', fake)
    yield fake
    fake.release()


def standby(**kw):
    kw.setdefault('in_recovery', True)
    kw.setdefault('data_directory', '/var/lib/postgresql/15/standby')
    return FakeServer(**kw)


def go(monkeypatch, args=None, local=None, peers=None, check_mode=False, run=None, euid=1000, resolver=None):
    servers = {'': local or standby()}
    servers.update(peers or {})
    resolver = resolver or FakeResolver([])
    resolver.names = [name for name in servers if name]
    monkeypatch.setattr(peers_utils.socket, 'getaddrinfo', resolver)
    monkeypatch.setattr(promote.os, 'geteuid', lambda: euid)
    monkeypatch.setattr(promote.AnsibleModule, 'get_bin_path',
                        lambda self, name, required=False, opt_dirs=None: '/usr/sbin/runuser' if name == 'runuser' else None)
    monkeypatch.setattr(promote, 'find_bindir', lambda module, major=None, bindir=None: bindir or '/usr/lib/postgresql/%s/bin' % major)
    args = dict(args or {}, login_password=LOGIN_PASSWORD)
    run = run or FakeRunner()
    result = run_module(promote, args, check_mode=check_mode, runner=run, monkeypatch=monkeypatch, servers=servers)
    for secret in (LOGIN_PASSWORD, PEER_PASSWORD):
        assert secret not in result.text
    return result, servers, run


# ---- argument validation -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('args, message', [
    ({'timeout': 0}, 'timeout must be at least 1'),
    ({'peer_connect_timeout': 0}, 'peer_connect_timeout must be at least 1'),
    ({'max_replay_lag_bytes': -1}, 'max_replay_lag_bytes must be at least 0'),
    ({'replay_wait_timeout': -5}, 'replay_wait_timeout must be at least 0'),
    ({'method': 'signal'}, 'method'),
    ({'bindir': '/x', 'pg_major': '15'}, 'mutually exclusive'),
    ({'peers': 'host=pg1'}, None),
])
def test_arguments(monkeypatch, args, message):
    result, servers, run = go(monkeypatch, args)
    if message is None:  # a single string is accepted as a one-item list
        assert result['peers'][0]['peer'] == 'pg1:5432'
        return
    assert result['failed'] and message in result['msg']
    assert servers[''].statements == []


# ---- already a primary ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('check_mode', [False, True])
def test_primary_is_a_noop(monkeypatch, check_mode):
    result, servers, run = go(monkeypatch, local=FakeServer(in_recovery=False, timeline=3), check_mode=check_mode)
    assert result['changed'] is False and 'already a primary' in result['msg']
    assert result['timeline_before'] == result['timeline_after'] == 3
    assert result['promote_lsn'] is None and result['queries'] == []
    assert not any('pg_promote' in s for s in servers[''].statements)
    assert result.get('would') == ('none' if check_mode else None)


# ---- promotion -----------------------------------------------------------------------------------------------------

def test_promote_with_pg_promote(monkeypatch):
    result, servers, run = go(monkeypatch)
    assert result['changed'] is True and result['method'] == 'sql'
    assert result['queries'] == [PROMOTE_SQL, 'CHECKPOINT']
    assert result['timeline_before'] == 1 and result['timeline_after'] == 2
    assert result['promote_lsn'] == '0/3000148' and result['current_lsn'] == '0/3000228'
    assert result['replay_lag_bytes'] == 0
    assert servers[''].in_recovery is False
    assert run.calls == []
    assert 'timeline 1 -> 2' in result['msg']
    assert result['promote_requested'] is True


def test_connects_with_login_options(monkeypatch):
    result, servers, run = go(monkeypatch, {'login_user': 'admin', 'login_port': 5433})
    kw = servers[''].connects[0]
    assert kw['user'] == 'admin' and kw['port'] == 5433 and kw['password'] == LOGIN_PASSWORD


@pytest.mark.parametrize('version_num, method, euid, data_dir, argv', [
    (110022, 'auto', 1000, None,
     ['/usr/lib/postgresql/11/bin/pg_ctl', 'promote', '-D', '/var/lib/postgresql/15/standby', '-w', '-t', '60']),
    (100023, 'auto', 1000, '/srv/pg10',
     ['/usr/lib/postgresql/10/bin/pg_ctl', 'promote', '-D', '/srv/pg10', '-w', '-t', '60']),
    (150004, 'pg_ctl', 0, '/srv/pg15',
     ['/usr/sbin/runuser', '-u', 'postgres', '--', '/usr/lib/postgresql/15/bin/pg_ctl', 'promote', '-D', '/srv/pg15',
      '-w', '-t', '60']),
])
def test_promote_with_pg_ctl(monkeypatch, version_num, method, euid, data_dir, argv):
    local = standby(version_num=version_num)

    def pg_ctl(inner, kw):
        local.promote()
        return 0, 'waiting for server to promote.... done\nserver promoted\n', ''
    run = FakeRunner({'pg_ctl': pg_ctl})
    args = {'method': method}
    if data_dir:
        args['data_dir'] = data_dir
    monkeypatch.setattr(promote.pwd, 'getpwnam', lambda name: object())
    result, servers, run = go(monkeypatch, args, local=local, run=run, euid=euid)
    assert result['changed'] and result['method'] == 'pg_ctl'
    assert run.argvs() == [argv]
    assert result['cmd'] == ' '.join(argv)
    assert result['queries'] == ['CHECKPOINT'] and result['timeline_after'] == 2
    assert ('SHOW data_directory' in local.statements) is (data_dir is None)


def test_pg_ctl_failure(monkeypatch):
    run = FakeRunner({'pg_ctl': (1, '', 'pg_ctl: could not send promote signal: %s' % LOGIN_PASSWORD)})
    result, servers, run = go(monkeypatch, {'method': 'pg_ctl', 'data_dir': '/d'}, run=run)
    assert result['failed'] and result['rc'] == 1 and 'pg_ctl promote failed (rc=1)' in result['msg']
    assert 'could not send promote signal: ********' in result['msg']
    # pg_ctl may have written the signal file before it failed: the caller must treat the request as made
    assert result['promote_requested'] is True and 'stop the server to cancel it' in result['msg']


def test_pg_ctl_as_root_needs_runuser(monkeypatch):
    monkeypatch.setattr(promote.pwd, 'getpwnam', lambda name: object())
    servers = {'': standby()}
    monkeypatch.setattr(promote.os, 'geteuid', lambda: 0)
    monkeypatch.setattr(promote.AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: None)
    monkeypatch.setattr(promote, 'find_bindir', lambda module, major=None, bindir=None: '/b')
    result = run_module(promote, {'method': 'pg_ctl', 'data_dir': '/d'}, runner=FakeRunner(), monkeypatch=monkeypatch,
                        servers=servers)
    assert result['failed'] and 'runuser was not found' in result['msg']


def test_pg_ctl_as_root_unknown_owner(monkeypatch):
    def nobody(name):
        raise KeyError(name)
    monkeypatch.setattr(promote.pwd, 'getpwnam', nobody)
    result, servers, run = go(monkeypatch, {'method': 'pg_ctl', 'data_dir': '/d', 'owner': 'ghost'}, euid=0)
    assert result['failed'] and 'owner ghost does not exist' in result['msg']


@pytest.mark.parametrize('version_num, method, message', [
    (110022, 'sql', 'method=sql needs PostgreSQL 12 or later'),
    (90624, 'auto', 'PostgreSQL 9.6 is not supported'),
])
def test_unsupported_versions(monkeypatch, version_num, method, message):
    result, servers, run = go(monkeypatch, {'method': method}, local=standby(version_num=version_num))
    assert result['failed'] and message in result['msg']
    assert servers[''].in_recovery is True


def test_promotion_that_never_finishes(monkeypatch, clock):
    result, servers, run = go(monkeypatch, {'timeout': 5}, local=standby(promote_works=False))
    assert result['failed'] and 'still in recovery 5 seconds after the promotion' in result['msg']
    assert 'the request stands' in result['msg'] and 'stop the server to cancel it' in result['msg']
    assert result['queries'] == ['SELECT pg_promote(wait => true, wait_seconds => 5)']
    assert result['promote_requested'] is True and result['changed'] is True
    assert clock.slept >= 5 - 1e-6


def test_timeout_counts_from_the_request(monkeypatch, clock):
    """pg_promote() itself waits wait_seconds; the module must not wait that long again afterwards."""
    local = standby(promote_works=False)
    started = clock.now
    original = local.promote

    def slow_pg_promote():
        clock.now += 5
        return original()
    monkeypatch.setattr(local, 'promote', slow_pg_promote)
    result, servers, run = go(monkeypatch, {'timeout': 5}, local=local)
    assert result['failed'] and result['promote_requested'] is True
    assert clock.now - started <= 5 + 1, 'waited %.1f s for a 5 s timeout' % (clock.now - started)


def test_checkpoint_failure_falls_back_to_wal_file_timeline(monkeypatch):
    local = standby(checkpoint_error='ERROR:  permission denied to execute CHECKPOINT')
    result, servers, run = go(monkeypatch, local=local)
    assert result['changed'] and result['timeline_after'] == 2
    assert any('CHECKPOINT after the promotion failed' in w for w in result['_warnings'])


def test_without_checkpoint(monkeypatch):
    result, servers, run = go(monkeypatch, {'checkpoint': False})
    assert result['queries'] == [PROMOTE_SQL] and result['timeline_after'] == 2
    assert 'CHECKPOINT' not in servers[''].statements


def test_query_error_is_reported(monkeypatch):
    result, servers, run = go(monkeypatch, local=standby(fail_on='pg_control_checkpoint'))
    assert result['failed'] and 'query on postgres@(default socket):5432/postgres failed' in result['msg']
    assert 'fake failure' in result['msg']


def test_connection_failure(monkeypatch):
    local = standby(connect_error='FATAL:  password authentication failed for user "postgres" (%s)' % LOGIN_PASSWORD)
    result, servers, run = go(monkeypatch, local=local)
    assert result['failed'] and 'password authentication failed' in result['msg']


# ---- split-brain guard ---------------------------------------------------------------------------------------------

PEER = 'host=pg1 port=5432 user=postgres dbname=postgres password=%s' % PEER_PASSWORD


def test_refuses_when_a_peer_is_a_primary(monkeypatch):
    peers = {'pg1': FakeServer(in_recovery=False), 'pg3': standby()}
    result, servers, run = go(monkeypatch, {'peers': [PEER, 'host=pg3', 'host=gone port=5439']}, peers=peers)
    assert result['failed']
    assert 'peer pg1:5432 is reachable and is a primary' in result['msg'] and 'split brain' in result['msg']
    assert result['peers'] == [
        {'peer': 'pg1:5432', 'reachable': True, 'in_recovery': False, 'error': None},
        {'peer': 'pg3:5432', 'reachable': True, 'in_recovery': True, 'error': None},
        {'peer': 'gone:5439', 'reachable': False, 'in_recovery': None,
         'error': 'could not translate host name "gone" to address: Name or service not known'},
    ]
    assert servers[''].in_recovery is True
    assert not any('pg_promote' in s for s in servers[''].statements)
    assert servers['pg1'].connects[0]['connect_timeout'] == '5'


def test_peer_checks_pass_when_others_are_standbys_or_down(monkeypatch):
    peers = {'pg3': standby(), 'pg1': FakeServer(connect_error='connection refused (password=%s)' % PEER_PASSWORD)}
    result, servers, run = go(monkeypatch, {'peers': ['host=pg3', PEER]}, peers=peers)
    assert result['changed'] and [p['reachable'] for p in result['peers']] == [True, False]
    assert result['peers'][1]['error'] == 'connection refused (password=********)'


def test_force_skips_the_split_brain_guard(monkeypatch):
    result, servers, run = go(monkeypatch, {'peers': [PEER], 'force': True}, peers={'pg1': FakeServer(in_recovery=False)})
    assert result['changed'] and servers[''].in_recovery is False


@pytest.mark.parametrize('peer_server, refused', [
    (FakeServer(in_recovery=False), 'is reachable and is a primary'),
    (FakeServer(in_recovery=True), None),
    (FakeServer(in_recovery=True, version_num=130010), 'whether it is a primary cannot be told'),
])
def test_peer_over_a_replication_connection(monkeypatch, peer_server, refused):
    peer = 'host=pg1 user=replicator replication=true passfile=/var/lib/postgresql/.pgpass'
    result, servers, run = go(monkeypatch, {'peers': [peer]}, peers={'pg1': peer_server})
    assert peer_server.statements == ['SHOW in_hot_standby']
    if refused:
        assert result['failed'] and refused in result['msg'] and 'pg1:5432' in result['msg']
        assert servers[''].in_recovery is True
    else:
        assert result['changed'] and result['peers'][0]['in_recovery'] is True
    result, servers, run = go(monkeypatch, {'peers': [peer], 'force': True}, peers={'pg1': peer_server})
    assert result['changed']


@pytest.mark.parametrize('peer, used', [
    ('host=pg1 user=replicator replication=true', PEER_PASSWORD),
    ('host=pg1 user=replicator replication=true passfile=/var/lib/postgresql/.pgpass', PEER_PASSWORD),
    ('host=pg1 user=replicator replication=true password=own-%s' % PEER_PASSWORD, 'own-%s' % PEER_PASSWORD),
])
def test_peer_password_is_used_for_a_peer_string_without_one(monkeypatch, peer, used):
    server = FakeServer(in_recovery=False)
    result, servers, run = go(monkeypatch, {'peers': [peer], 'peer_password': PEER_PASSWORD}, peers={'pg1': server})
    assert server.connects[0]['password'] == used
    assert result['failed'] and 'peer pg1:5432 is reachable and is a primary' in result['msg']


@pytest.mark.parametrize('error, refused', [
    ('FATAL:  password authentication failed for user "replicator" (%s)' % PEER_PASSWORD, True),
    ('fe_sendauth: no password supplied', True),
    ('FATAL:  no pg_hba.conf entry for replication connection from host "10.0.0.3", user "replicator"', True),
    ('FATAL:  role "replicator" does not exist', True),
    ('connection to server at "pg1" (10.0.0.1), port 5432 failed: timeout expired', False),
    ('connection to server at "pg1" (10.0.0.1), port 5432 failed: Connection refused', False),
    ('could not translate host name "pg1" to address: Name or service not known', False),
])
def test_a_peer_that_refuses_the_connection_runs_and_stops_the_promotion(monkeypatch, error, refused):
    """A refusal comes from a running server, which may be a primary: its role cannot be told, so the promotion is
    refused; a peer that does not answer is skipped."""
    peers = {'pg1': FakeServer(connect_error=error)}
    result, servers, run = go(monkeypatch, {'peers': ['host=pg1 user=replicator replication=true'],
                                            'peer_password': PEER_PASSWORD}, peers=peers)
    assert result['peers'][0]['reachable'] is refused and result['peers'][0]['in_recovery'] is None
    if refused:
        assert result['failed'] and 'peer pg1:5432 is reachable but whether it is a primary cannot be told' in result['msg']
        assert servers[''].in_recovery is True
    else:
        assert result['changed'] and servers[''].in_recovery is False


def test_a_peer_whose_name_resolves_after_a_moment_is_asked(monkeypatch, clock, resolver):
    """A name lookup that fails for a moment (podman's DNS reloading as a container stops) is tried again within
    peer_connect_timeout: the peer is a primary, and the promotion is refused. Before, it was skipped as gone."""
    resolver.script['pg1'] = ['again', 'again']
    peer = FakeServer(in_recovery=False)
    result, servers, run = go(monkeypatch, {'peers': [PEER]}, peers={'pg1': peer}, resolver=resolver)
    assert result['failed'] and 'peer pg1:5432 is reachable and is a primary' in result['msg']
    assert not any('pg_promote' in s for s in servers[''].statements)
    assert clock.slept == 2 * peers_utils.RESOLVE_RETRY_DELAY and resolver.lookups == ['pg1'] * 3


def test_a_peer_is_connected_to_at_the_addresses_looked_up(monkeypatch, resolver):
    """libpq gets the addresses (hostaddr), so it does not look the name up again, and the name (host) for the password
    file; connect_timeout is what is left of peer_connect_timeout, at least libpq's 2 s."""
    result, servers, run = go(monkeypatch, {'peers': [PEER, 'host=10.0.0.9 port=5433'], 'peer_connect_timeout': 7},
                              peers={'pg1': standby(), '10.0.0.9': standby()}, resolver=resolver)
    assert result['changed'] and [p['in_recovery'] for p in result['peers']] == [True, True]
    used = servers['pg1'].connects[0]
    assert (used['host'], used['hostaddr'], used['connect_timeout']) == ('pg1', '10.0.0.2', '7')
    assert servers['10.0.0.9'].connects[0]['hostaddr'] == '10.0.0.9'
    result, servers, run = go(monkeypatch, {'peers': [PEER + ' connect_timeout=3']}, peers={'pg1': standby()})
    assert servers['pg1'].connects[0]['connect_timeout'] == '3'


def test_a_peer_name_that_does_not_exist_is_tried_until_the_timeout_and_skipped(monkeypatch, clock, resolver):
    result, servers, run = go(monkeypatch, {'peers': ['host=gone'], 'peer_connect_timeout': 3}, resolver=resolver)
    assert result['changed'] and result['peers'][0]['reachable'] is False
    assert result['peers'][0]['error'] == 'could not translate host name "gone" to address: Name or service not known'
    assert 3 - peers_utils.RESOLVE_RETRY_DELAY <= clock.slept <= 3


def test_a_peer_whose_name_service_keeps_failing_is_looked_up_then_skipped(monkeypatch, clock, resolver):
    """"Temporary failure in name resolution" does not count: lookups go on RESOLVE_PATIENCE past the timeout, then
    the peer is taken for one that does not answer."""
    resolver.script['pg1'] = ['again'] * 1000
    result, servers, run = go(monkeypatch, {'peers': [PEER], 'peer_connect_timeout': 2},
                              peers={'pg1': FakeServer(in_recovery=False)}, resolver=resolver)
    assert result['changed'] and result['peers'][0]['reachable'] is False
    assert result['peers'][0]['error'] == ('could not translate host name "pg1" to address: Temporary failure in name '
                                           'resolution')
    assert 2 + peers_utils.RESOLVE_PATIENCE - 1 <= clock.slept <= 2 + peers_utils.RESOLVE_PATIENCE
    assert servers['pg1'].connects == []


def test_a_peer_whose_name_lookup_does_not_finish_is_not_waited_for(monkeypatch, resolver):
    """getaddrinfo() that does not return (a DNS server dropping the queries: 5 s per try) is not waited for past
    peer_connect_timeout + RESOLVE_PATIENCE (libpq's connect_timeout does not cover the lookup); another lookup is
    started every RESOLVE_HEDGE_DELAY meanwhile. Then the peer is one that did not answer."""
    resolver.script['pg1'] = ['hang'] * 10
    # The real clock: the fixture's does not move while the lookup threads are waited for (here 2 s).
    monkeypatch.setattr(peers_utils, 'time', real_time)
    monkeypatch.setattr(peers_utils, 'RESOLVE_PATIENCE', 1)
    started = real_time.time()
    result, servers, run = go(monkeypatch, {'peers': [PEER], 'peer_connect_timeout': 1},
                              peers={'pg1': FakeServer(in_recovery=False)}, resolver=resolver)
    assert result['changed'] and result['peers'][0]['reachable'] is False
    assert result['peers'][0]['error'] == 'the name lookup of "pg1" had no answer within 2 s'
    assert resolver.lookups == ['pg1', 'pg1']
    assert 2 <= real_time.time() - started < 3


@pytest.fixture
def slow_answers(monkeypatch):
    """The real clock, RESOLVE_TRUSTED 0.3 s (a 'slow-nx' answer takes 0.6 s) and RESOLVE_PATIENCE 1 s."""
    monkeypatch.setattr(peers_utils, 'time', real_time)
    monkeypatch.setattr(peers_utils, 'RESOLVE_TRUSTED', 0.3)
    monkeypatch.setattr(peers_utils, 'RESOLVE_PATIENCE', 1)


def test_a_slow_does_not_exist_is_not_trusted_and_a_fast_one_is(monkeypatch, resolver, slow_answers):
    """A "does not exist" that came after a name server did not answer (from the next one, which in a podman container is
    the host's resolver and does not know the containers' names) is looked up again; a fast one makes a gone peer."""
    resolver.script['gone'] = ['slow-nx']
    result, servers, run = go(monkeypatch, {'peers': ['host=gone'], 'peer_connect_timeout': 1}, resolver=resolver)
    assert result['changed'] and result['peers'][0]['reachable'] is False
    assert result['peers'][0]['error'] == 'could not translate host name "gone" to address: Name or service not known'
    assert resolver.lookups == ['gone', 'gone']


def test_a_running_peer_said_slowly_not_to_exist_is_found_and_asked(monkeypatch, resolver, slow_answers):
    """The failure seen once in the failover scenario, as far as it can be told: the name of a running primary not found
    while podman's DNS did not answer. Before, it was skipped as gone and the standby promoted beside it."""
    resolver.script['pg1'] = ['slow-nx']
    result, servers, run = go(monkeypatch, {'peers': [PEER], 'peer_connect_timeout': 1},
                              peers={'pg1': FakeServer(in_recovery=False)}, resolver=resolver)
    assert result['failed'] and 'peer pg1:5432 is reachable and is a primary' in result['msg']
    assert servers[''].in_recovery is True


def test_only_slow_does_not_exist_answers_are_looked_up_until_the_patience_ends(monkeypatch, resolver, slow_answers):
    resolver.script['gone'] = ['slow-nx'] * 20
    started = real_time.time()
    result, servers, run = go(monkeypatch, {'peers': ['host=gone'], 'peer_connect_timeout': 1}, resolver=resolver)
    assert result['changed'] and result['peers'][0]['reachable'] is False
    assert re.match(r'could not translate host name "gone" to address: Name or service not known, after 0\.\d s '
                    r'\(when a name server did not answer\)$', result['peers'][0]['error'])
    assert 2 - peers_utils.RESOLVE_RETRY_DELAY <= real_time.time() - started < 3 and len(resolver.lookups) >= 2


def test_a_lookup_that_does_not_finish_is_not_waited_for_by_the_next(monkeypatch, resolver):
    """One query lost (the lookup holds for the resolver's 5 s timeout): another lookup, started beside it after
    RESOLVE_HEDGE_DELAY, finds the peer, which is a primary."""
    resolver.script['pg1'] = ['hang']
    monkeypatch.setattr(peers_utils, 'time', real_time)
    started = real_time.time()
    result, servers, run = go(monkeypatch, {'peers': [PEER]}, peers={'pg1': FakeServer(in_recovery=False)},
                              resolver=resolver)
    assert result['failed'] and 'peer pg1:5432 is reachable and is a primary' in result['msg']
    assert resolver.lookups == ['pg1', 'pg1']
    assert peers_utils.RESOLVE_HEDGE_DELAY <= real_time.time() - started < 3


def test_a_peer_that_refuses_at_once_is_not_tried_again(monkeypatch, clock):
    peer = FakeServer(connect_error='connection to server at "pg1" (10.0.0.1), port 5432 failed: Connection refused')
    result, servers, run = go(monkeypatch, {'peers': [PEER]}, peers={'pg1': peer})
    assert result['changed'] and result['peers'][0]['reachable'] is False and clock.slept == 0


def test_peers_are_asked_at_the_same_time(monkeypatch):
    """Two peers that each wait for the other to be connecting: asked one after the other, the first would wait out the
    barrier's timeout and break it. Peers that do not answer cost one peer_connect_timeout, not one each."""
    barrier = threading.Barrier(2, timeout=10)

    def meet():
        barrier.wait()
    peers = {'pg1': standby(connect_error=meet), 'pg3': standby(connect_error=meet)}
    result, servers, run = go(monkeypatch, {'peers': [PEER, 'host=pg3']}, peers=peers)
    assert result['changed'] and [p['peer'] for p in result['peers']] == ['pg1:5432', 'pg3:5432']
    assert [p['in_recovery'] for p in result['peers']] == [True, True]


def test_invalid_peer_string(monkeypatch):
    result, servers, run = go(monkeypatch, {'peers': ["host='unterminated password=%s" % PEER_PASSWORD]})
    assert result['failed'] and 'peer #1 in peers is not a valid libpq connection string' in result['msg']


def test_peer_without_host_is_named_by_socket(monkeypatch):
    result, servers, run = go(monkeypatch, {'peers': ['port=5433']})
    assert result['peers'][0]['peer'] == 'peer #1 (local socket):5433'


# ---- replay guard --------------------------------------------------------------------------------------------------

def test_waits_for_replay_to_catch_up(monkeypatch, clock):
    local = standby(receive_lsn='0/3000148', replay_lsns=('0/3000000', '0/3000100', '0/3000148'))
    result, servers, run = go(monkeypatch, local=local)
    assert result['changed'] and result['replay_lag_bytes'] == 0
    assert clock.slept > 0


def test_refuses_when_replay_stays_behind(monkeypatch):
    local = standby(receive_lsn='0/3000148', replay_lsns=('0/3000000',), paused=True)
    result, servers, run = go(monkeypatch, {'replay_wait_timeout': 3, 'max_replay_lag_bytes': 100}, local=local)
    assert result['failed'] and result['replay_lag_bytes'] == 0x148
    assert 'replay is 328 bytes behind' in result['msg'] and 'replay is paused' in result['msg']
    assert 'max_replay_lag_bytes=100 after waiting 3 seconds' in result['msg']
    assert servers[''].in_recovery is True


def test_lag_within_limit_does_not_wait(monkeypatch, clock):
    local = standby(receive_lsn='0/3000148', replay_lsns=('0/3000000',))
    result, servers, run = go(monkeypatch, {'max_replay_lag_bytes': 1024}, local=local)
    assert result['changed'] and result['replay_lag_bytes'] == 0x148
    assert clock.slept < 1


def test_force_skips_the_replay_guard(monkeypatch):
    local = standby(receive_lsn='0/3000148', replay_lsns=('0/3000000',))
    result, servers, run = go(monkeypatch, {'force': True, 'replay_wait_timeout': 0}, local=local)
    assert result['changed'] and result['replay_lag_bytes'] == 0x148


def test_no_wal_receiver_means_no_lag(monkeypatch):
    result, servers, run = go(monkeypatch, local=standby(receive_lsn=None))
    assert result['changed'] and result['replay_lag_bytes'] == 0


# ---- reserve_slots: the slots of the nodes that will follow, created on the standby before the promotion -------------

SLOT_SQL = "SELECT pg_create_physical_replication_slot('pgstream_pg1', true)"
SLOT3_SQL = "SELECT pg_create_physical_replication_slot('pgstream_pg3', true)"


def test_reserve_slots_are_created_before_the_promotion(monkeypatch):
    result, servers, run = go(monkeypatch, {'reserve_slots': ['pgstream_pg1', 'pgstream_pg3']})
    assert result['changed'] and result['reserved_slots'] == ['pgstream_pg1', 'pgstream_pg3']
    assert result['queries'] == [SLOT_SQL, SLOT3_SQL, PROMOTE_SQL, 'CHECKPOINT']
    statements = servers[''].statements
    assert statements.index(SLOT3_SQL) < statements.index(PROMOTE_SQL)
    assert servers[''].slots == set(['pgstream_pg1', 'pgstream_pg3']) and servers[''].in_recovery is False


def test_reserve_slots_that_exist_are_left_alone(monkeypatch):
    result, servers, run = go(monkeypatch, {'reserve_slots': ['pgstream_pg1', 'pgstream_pg3', 'pgstream_pg1']},
                              local=standby(slots=['pgstream_pg1']))
    assert result['changed'] and result['reserved_slots'] == ['pgstream_pg3']
    assert result['queries'] == [SLOT3_SQL, PROMOTE_SQL, 'CHECKPOINT']


def test_reserve_slot_that_cannot_be_created_does_not_stop_the_promotion(monkeypatch):
    local = standby(fail_on="pg_create_physical_replication_slot('pgstream_pg1'")
    result, servers, run = go(monkeypatch, {'reserve_slots': ['pgstream_pg1', 'pgstream_pg3']}, local=local)
    assert result['changed'] and result['reserved_slots'] == ['pgstream_pg3'] and local.in_recovery is False
    assert any('slot pgstream_pg1 was not created before the promotion' in w for w in result['_warnings'])


def test_reserve_slots_in_check_mode_and_on_a_primary(monkeypatch):
    result, servers, run = go(monkeypatch, {'reserve_slots': ['pgstream_pg1']}, check_mode=True)
    assert result['reserved_slots'] == ['pgstream_pg1'] and result['queries'] == [SLOT_SQL, PROMOTE_SQL]
    assert servers[''].slots == set() and servers[''].in_recovery is True
    result, servers, run = go(monkeypatch, {'reserve_slots': ['pgstream_pg1']}, local=FakeServer(in_recovery=False))
    assert result['changed'] is False and result['reserved_slots'] == [] and servers[''].slots == set()


def test_no_reserve_slots_creates_none(monkeypatch):
    result, servers, run = go(monkeypatch)
    assert result['reserved_slots'] == [] and result['queries'] == [PROMOTE_SQL, 'CHECKPOINT']
    assert servers[''].slots == set()


@pytest.mark.parametrize('name', ['PgStream', 'pgstream-pg1', '', 'x' * 64])
def test_reserve_slots_must_be_slot_names(monkeypatch, name):
    result, servers, run = go(monkeypatch, {'reserve_slots': ['pgstream_pg1', name]})
    assert result['failed'] and 'reserve_slots must be slot names' in result['msg'] and repr(name) in result['msg']
    assert servers[''].statements == []


# ---- check mode ----------------------------------------------------------------------------------------------------

def test_check_mode_promotes_nothing(monkeypatch):
    result, servers, run = go(monkeypatch, check_mode=True)
    assert result['changed'] is True and result['would'] == 'promote'
    assert result['queries'] == [PROMOTE_SQL]
    assert servers[''].in_recovery is True
    assert not any(s.startswith('SELECT pg_promote') or s == 'CHECKPOINT' for s in servers[''].statements)
    assert result['timeline_after'] is None and result['current_lsn'] is None
    assert result['promote_requested'] is False


def test_check_mode_pg_ctl_runs_nothing(monkeypatch):
    result, servers, run = go(monkeypatch, {'method': 'pg_ctl', 'data_dir': '/d'}, check_mode=True)
    assert result['would'] == 'promote' and result['cmd'].endswith('pg_ctl promote -D /d -w -t 60')
    assert run.calls == [] and result['queries'] == []


def test_check_mode_still_refuses_split_brain(monkeypatch):
    result, servers, run = go(monkeypatch, {'peers': [PEER]}, peers={'pg1': FakeServer(in_recovery=False)}, check_mode=True)
    assert result['failed'] and 'split brain' in result['msg']


def test_nothing_secret_is_logged(monkeypatch):
    result, servers, run = go(monkeypatch, {'peers': [PEER]}, peers={'pg1': standby()})
    assert result['_logs']


# ---- after_lsn: wait for the received WAL, then promote ------------------------------------------------------------

class ReceivingStandby(type(standby())):
    """A standby whose received position advances one step per query."""

    def __init__(self, receive_lsns, **kw):
        kw.setdefault('in_recovery', True)
        super(ReceivingStandby, self).__init__(receive_lsn=receive_lsns[0], **kw)
        self.receive_lsns = list(receive_lsns)

    def answer(self, text, replication):
        if text.startswith('SELECT pg_last_wal_receive_lsn()') and self.in_recovery:
            self.receive_lsn = self.receive_lsns.pop(0) if len(self.receive_lsns) > 1 else self.receive_lsns[0]
        return super(ReceivingStandby, self).answer(text, replication)


def test_after_lsn_waits_for_the_received_wal_then_promotes(monkeypatch, clock):
    local = ReceivingStandby(('0/3000000', '0/3000100', '0/30001A0'), replay_lsns=('0/30001A0',))
    result, servers, run = go(monkeypatch, {'after_lsn': '0/3000148'}, local=local)
    assert not result.get('failed'), result['msg']
    assert result['changed'] and result['receive_lsn'] == '0/30001A0'
    assert servers[''].in_recovery is False
    assert clock.slept > 0


@pytest.mark.parametrize('received', [None, '0/3000148'])
def test_after_lsn_not_reached_refuses(monkeypatch, received):
    local = standby(receive_lsn=received)
    result, servers, run = go(monkeypatch, {'after_lsn': '0/3000148', 'replay_wait_timeout': 2, 'force': True}, local=local)
    assert result['failed']
    assert 'not past 0/3000148, after waiting 2 seconds' in result['msg']
    assert servers[''].in_recovery is True


def test_after_lsn_must_be_an_lsn(monkeypatch):
    result, servers, run = go(monkeypatch, {'after_lsn': 'yesterday'})
    assert result['failed'] and 'after_lsn must be an LSN' in result['msg']


# ---- after_upstream_shutdown: promote once the upstream's shutdown checkpoint is here ------------------------------

def waldump_fixture(name):
    import os
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'fixtures',
                        'pg_waldump', name)
    with open(path) as f:
        return f.read()


def waldump_runner(outputs):
    """pg_waldump answers: output per --end position (the commit tail for any other position)."""
    def handler(argv, kw):
        end = argv[argv.index('--end') + 1]
        return 0, outputs.get(end, waldump_fixture('commit-tail-pg15.txt')), ''
    return FakeRunner({'pg_waldump': handler})


def test_after_upstream_shutdown_promotes_once_the_shutdown_checkpoint_is_received(monkeypatch, clock):
    # received: a commit, the same position again (no second pg_waldump), then the shutdown checkpoint's end
    local = ReceivingStandby(('0/15270C0', '0/15270C0', '0/1527138'), replay_lsns=('0/1527138',))
    run = waldump_runner({'0/1527138': waldump_fixture('shutdown-tail-pg15.txt')})
    result, servers, run = go(monkeypatch, {'after_upstream_shutdown': True}, local=local, run=run)
    assert not result.get('failed'), result['msg']
    assert result['changed'] and servers[''].in_recovery is False
    assert result['receive_lsn'] == '0/1527138' and result['shutdown_checkpoint_lsn'] == '0/15270C0'
    ends = [argv[argv.index('--end') + 1] for argv in run.argvs('pg_waldump')]
    assert ends == ['0/15270C0', '0/1527138']
    argv = run.argvs('pg_waldump')[0]
    assert argv[argv.index('--path') + 1] == '/var/lib/postgresql/15/main/pg_wal'
    assert argv[argv.index('--timeline') + 1] == '1'


@pytest.mark.parametrize('received, output, last', [
    ('0/15270C0', 'commit-tail-pg15.txt', 'the last record is COMMIT at 0/1527098'),
    (None, None, 'received up to nothing'),
])
def test_after_upstream_shutdown_without_the_checkpoint_refuses(monkeypatch, received, output, last):
    run = waldump_runner({received: waldump_fixture(output)} if output else {})
    result, servers, run = go(monkeypatch, {'after_upstream_shutdown': True, 'replay_wait_timeout': 2, 'force': True},
                              local=standby(receive_lsn=received), run=run)
    assert result['failed'] and servers[''].in_recovery is True
    assert 'has not received a shutdown checkpoint from its upstream after waiting 2 seconds' in result['msg']
    assert last in result['msg']
    assert len(run.argvs('pg_waldump')) == (1 if received else 0)


def test_after_upstream_shutdown_reports_a_pg_waldump_error(monkeypatch):
    run = FakeRunner({'pg_waldump': (1, '', 'pg_waldump: error: could not open directory "/x/pg_wal"')})
    result, servers, run = go(monkeypatch, {'after_upstream_shutdown': True, 'replay_wait_timeout': 1}, run=run)
    assert result['failed'] and 'pg_waldump: pg_waldump: error: could not open directory' in result['msg']


def test_after_upstream_shutdown_excludes_after_lsn(monkeypatch):
    result, servers, run = go(monkeypatch, {'after_upstream_shutdown': True, 'after_lsn': '0/1'})
    assert result['failed'] and 'mutually exclusive' in result['msg']


def test_after_upstream_shutdown_ignores_a_shutdown_checkpoint_already_there(monkeypatch):
    # the upstream was restarted cleanly and has written nothing since: the last record received is an old
    # shutdown checkpoint, which must not promote this standby before the stop being waited for
    run = waldump_runner({'0/1527138': waldump_fixture('shutdown-tail-pg15.txt')})
    result, servers, run = go(monkeypatch, {'after_upstream_shutdown': True, 'replay_wait_timeout': 2},
                              local=standby(receive_lsn='0/1527138'), run=run)
    assert result['failed'] and servers[''].in_recovery is True
    assert 'the last record is CHECKPOINT_SHUTDOWN at 0/15270C0' in result['msg']
