# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.pgstream.replication.plugins.modules import upstream_check
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.fake_cmd import (
    FakeServer, run_module)

PASSWORD = 'Repl-S3cret'
BASE = dict(upstream_host='pg2')


def run(monkeypatch, args, servers=None, check_mode=False):
    return run_module(upstream_check, dict(BASE, **args), check_mode=check_mode, monkeypatch=monkeypatch,
                      servers={'pg2': FakeServer()} if servers is None else servers)


def test_a_connection_that_opens_reports_the_upstream(monkeypatch):
    server = FakeServer()
    server.system_identifier, server.timeline = '7715046103878955212', 2
    r = run(monkeypatch, dict(replication_password=PASSWORD), servers={'pg2': server})
    assert not r.get('failed') and r['changed'] is False
    assert (r['ok'], r['error'], r['system_identifier'], r['timeline']) == (True, None, '7715046103878955212', 2)
    assert r['target'] == 'replicator@pg2:5432' and r['password_source'] == 'parameter'
    assert r['queries'] == ['IDENTIFY_SYSTEM'] and server.statements == ['IDENTIFY_SYSTEM']
    call = server.connects[0]
    assert (call['host'], call['port'], call['user'], call['password'], call['connect_timeout']) == \
        ('pg2', 5432, 'replicator', PASSWORD, 5)
    assert 'passfile' not in call


def test_the_connection_is_a_physical_replication_one(monkeypatch):
    r = run(monkeypatch, {})
    assert r['ok']
    calls = upstream_check.psycopg2.connect.calls  # the FakeConnect that run_module put in place
    assert [c['connection_factory'] for c in calls] == [upstream_check.psycopg2.extras.PhysicalReplicationConnection]


@pytest.mark.parametrize('args, expect_passfile, source', [
    ({}, None, 'passfile'),
    ({'passfile_path': '/etc/pgstream/pgpass'}, '/etc/pgstream/pgpass', 'passfile'),
    ({'passfile_path': '/etc/pgstream/pgpass', 'replication_password': PASSWORD}, None, 'parameter'),
], ids=['libpq default password file', 'named password file', 'a password wins over the file'])
def test_without_a_password_libpq_reads_the_password_file(monkeypatch, args, expect_passfile, source):
    server = FakeServer()
    r = run(monkeypatch, args, servers={'pg2': server})
    assert r['ok'] and r['password_source'] == source
    call = server.connects[0]
    assert call.get('passfile') == expect_passfile
    assert ('password' in call) == ('replication_password' in args)


@pytest.mark.parametrize('error', [
    'connection to server at "pg2" (10.0.0.2), port 5432 failed: fe_sendauth: no password supplied',
    'connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  password authentication failed for user '
    '"replicator"',
    'connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  no pg_hba.conf entry for replication '
    'connection from host "10.0.0.3", user "replicator", no encryption',
    'connection to server at "pg2" (10.0.0.2), port 5432 failed: timeout expired',
], ids=['no password', 'wrong password', 'no pg_hba line', 'timeout'])
def test_a_connection_that_fails_is_a_result_not_a_failure(monkeypatch, error):
    server = FakeServer()
    server.connect_error = error + '\n'
    r = run(monkeypatch, {}, servers={'pg2': server})
    assert not r.get('failed') and r['changed'] is False
    assert r['ok'] is False and r['error'] == ' '.join(error.split())
    assert (r['system_identifier'], r['timeline'], r['queries']) == (None, None, [])


def test_the_same_refusal_with_and_without_ssl_is_written_once(monkeypatch):
    refusal = ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  no pg_hba.conf entry for replication '
               'connection from host "10.0.0.3", user "replicator", %s')
    server = FakeServer()
    server.connect_error = '%s\n%s\n' % (refusal % 'SSL encryption', refusal % 'no encryption')
    r = run(monkeypatch, {}, servers={'pg2': server})
    assert r['ok'] is False and r['retryable'] is False
    assert r['error'] == ' '.join((refusal % 'SSL encryption or no encryption').split())


@pytest.mark.parametrize('error, retry', [
    # refused by the server, or by libpq for want of a password: the same again next time
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: fe_sendauth: no password supplied', False),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  password authentication failed for user '
     '"replicator"', False),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  no pg_hba.conf entry for replication '
     'connection from host "10.0.0.3", user "replicator", SSL encryption', False),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  pg_hba.conf rejects replication connection '
     'for host "10.0.0.3", user "replicator", no encryption', False),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  role "replicator" does not exist', False),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  role "replicator" is not permitted to log in',
     False),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  must be superuser or replication role to start '
     'walsender', False),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  permission denied to start WAL sender '
     'DETAIL:  Only roles with the REPLICATION attribute may start a WAL sender process.', False),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: server does not support SSL, but SSL was required',
     False),
    # may pass: podman's DNS reloading after a container stopped, a server starting or stopping, a busy one
    ('could not translate host name "pg2" to address: Name or service not known', True),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: timeout expired', True),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: Connection refused Is the server running on that '
     'host and accepting TCP/IP connections?', True),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  the database system is starting up', True),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  the database system is shutting down', True),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  sorry, too many clients already', True),
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  number of requested standby connections '
     'exceeds max_wal_senders (currently 2)', True),
])
def test_retryable_tells_a_refusal_from_a_failure_that_may_pass(monkeypatch, error, retry):
    server = FakeServer()
    server.connect_error = error
    r = run(monkeypatch, {}, servers={'pg2': server})
    assert r['ok'] is False and r['retryable'] is retry


def test_retryable_is_null_when_the_check_passed_and_true_for_a_failing_identify_system(monkeypatch):
    assert run(monkeypatch, {})['retryable'] is None
    server = FakeServer()
    server.fail_on = 'IDENTIFY_SYSTEM'
    assert run(monkeypatch, {}, servers={'pg2': server})['retryable'] is True


def test_an_unknown_host_is_reported(monkeypatch):
    r = run(monkeypatch, {}, servers={})
    assert r['ok'] is False and 'could not translate host name "pg2"' in r['error']


def test_a_failing_identify_system_is_reported_and_the_connection_closed(monkeypatch):
    server = FakeServer()
    server.fail_on = 'IDENTIFY_SYSTEM'
    r = run(monkeypatch, {}, servers={'pg2': server})
    assert r['ok'] is False and r['error'].startswith('IDENTIFY_SYSTEM failed: ERROR: fake failure')
    assert r['queries'] == ['IDENTIFY_SYSTEM']


def test_the_password_never_appears_in_the_result(monkeypatch):
    server = FakeServer()
    server.connect_error = 'connection failed: password "%s" rejected' % PASSWORD
    r = run(monkeypatch, dict(replication_password=PASSWORD), servers={'pg2': server})
    assert r['ok'] is False and PASSWORD not in json.dumps(dict((k, v) for k, v in r.items() if k != '_logs'))
    assert '********' in r['error']


def test_check_mode_runs_the_same_read_only_check(monkeypatch):
    server = FakeServer()
    r = run(monkeypatch, {}, servers={'pg2': server}, check_mode=True)
    assert r['ok'] and r['changed'] is False and server.statements == ['IDENTIFY_SYSTEM']


@pytest.mark.parametrize('args, message', [
    (dict(upstream_host=' '), 'upstream_host must not be empty'),
    (dict(upstream_port=0), 'upstream_port must be between 1 and 65535, got 0'),
    (dict(upstream_port=70000), 'upstream_port must be between 1 and 65535, got 70000'),
    (dict(replication_user=''), 'replication_user must not be empty'),
    (dict(replication_password=''), 'replication_password must not be empty; omit it to use the password file'),
    (dict(connect_timeout=0), 'connect_timeout must be at least 1 second, got 0'),
], ids=['empty host', 'port 0', 'port too high', 'empty user', 'empty password', 'no timeout'])
def test_bad_input_fails_with_a_clear_message(monkeypatch, args, message):
    server = FakeServer()
    r = run(monkeypatch, args, servers={'pg2': server})
    assert r['failed'] and r['msg'] == message
    assert server.connects == []


def test_argument_spec_hides_the_password():
    spec = upstream_check.argument_spec()
    assert spec['replication_password']['no_log'] is True
    assert spec['upstream_host']['required'] is True
