# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.pgstream.replication.plugins.module_utils import connection
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.fake_pg import FakeServer, FakePgError


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, **params):
        self.params = dict((k, v.get('default')) for k, v in connection.connection_argument_spec().items())
        self.params.update(params)
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise Failed(kwargs)


def test_argument_spec_contract():
    spec = connection.connection_argument_spec()
    assert spec['login_user']['default'] == 'postgres'
    assert spec['login_password']['no_log'] is True
    assert spec['login_host']['default'] == ''
    assert (spec['login_port']['type'], spec['login_port']['default']) == ('int', 5432)
    assert spec['login_unix_socket']['default'] == ''
    assert spec['login_db']['default'] == 'postgres'
    assert (spec['connect_timeout']['type'], spec['connect_timeout']['default']) == ('int', 10)
    assert spec['ssl_mode']['default'] == 'prefer'
    assert sorted(spec['ssl_mode']['choices']) == sorted(['allow', 'disable', 'prefer', 'require', 'verify-ca', 'verify-full'])
    # a fresh dict each call, so modules may update() it
    assert connection.connection_argument_spec() is not spec


@pytest.mark.parametrize('params, expected', [
    ({}, dict(user='postgres', dbname='postgres', port=5432, connect_timeout=10, sslmode='prefer')),
    (dict(login_host='db1', login_password='pw'), dict(host='db1', password='pw')),
    (dict(login_unix_socket='/run/pg'), dict(host='/run/pg')),
    (dict(login_unix_socket='/run/pg', login_host='localhost'), dict(host='/run/pg')),
    (dict(login_unix_socket='/run/pg', login_host='db1'), dict(host='db1')),
    (dict(login_user='u', login_db='d', login_port=6432, ssl_mode='require'),
     dict(user='u', dbname='d', port=6432, sslmode='require')),
])
def test_params_to_conninfo(params, expected):
    kw = connection.params_to_conninfo(FakeModule(**params))
    for key, value in expected.items():
        assert kw[key] == value
    if 'host' not in expected:
        assert 'host' not in kw
    if not params.get('login_password'):
        assert 'password' not in kw


def test_connect_sets_autocommit(monkeypatch):
    server = FakeServer()
    monkeypatch.setattr(connection.psycopg2, 'connect', server.connect)
    conn = connection.connect(FakeModule(), autocommit=True)
    assert conn.autocommit is True
    assert connection.connect(FakeModule(), autocommit=False).autocommit is False


def test_connect_failure_names_target_not_password(monkeypatch):
    server = FakeServer(connect_error=FakePgError('FATAL: password authentication failed for user "admin" (tried hunter2)'))
    monkeypatch.setattr(connection.psycopg2, 'connect', server.connect)
    module = FakeModule(login_user='admin', login_host='db9', login_port=6543, login_password='hunter2')
    with pytest.raises(Failed):
        connection.connect(module)
    msg = module.failed['msg']
    assert 'admin@db9:6543/postgres' in msg
    assert 'hunter2' not in repr(module.failed)
    assert '********' in msg


def test_try_connect_returns_message(monkeypatch):
    server = FakeServer(connect_error=FakePgError('could not connect'))
    monkeypatch.setattr(connection.psycopg2, 'connect', server.connect)
    conn, error = connection.try_connect(FakeModule())
    assert conn is None and 'could not connect' in error and '(default socket)' in error


def test_missing_psycopg2(monkeypatch):
    monkeypatch.setattr(connection, 'HAS_PSYCOPG2', False)
    module = FakeModule()
    with pytest.raises(Failed):
        connection.connect(module)
    assert 'psycopg2' in module.failed['msg']


@pytest.mark.parametrize('conninfo, expected', [
    (None, None),
    ('', ''),
    ('host=pg1 user=rep', 'host=pg1 user=rep'),
    ('host=pg1 password=s3cret user=rep', 'host=pg1 password=******** user=rep'),
    ("host=pg1 password = 'it\\'s \\\\ x' port=5432", 'host=pg1 password=******** port=5432'),
    ('password=a\\ b\\\\c host=h', 'password=******** host=h'),
    ("password='a b c' host=pg1", 'password=******** host=pg1'),
    ('PASSWORD=x host=h', 'PASSWORD=******** host=h'),
    ('postgresql://rep:s3cret@pg1:5432/db', 'postgresql://rep:********@pg1:5432/db'),
    ('postgres://rep@pg1/db?password=s3cret&sslmode=require', 'postgres://rep@pg1/db?password=********&sslmode=require'),
    ('user=rep passfile=/var/lib/postgresql/.pgpass', 'user=rep passfile=/var/lib/postgresql/.pgpass'),
])
def test_mask_conninfo(conninfo, expected):
    assert connection.mask_conninfo(conninfo) == expected


def test_sessions_never_wait_for_synchronous_standbys():
    kw = connection.params_to_conninfo(FakeModule())
    assert kw['options'] == '-c synchronous_commit=local'


HBA = ('connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  no pg_hba.conf entry for replication '
       'connection from host "10.0.0.3", user "replicator", %s')
TIMEOUT = 'connection to server at "pg2" (%s), port 5432 failed: timeout expired'
PASSWORD_FAILED = 'connection to server at "pg2" (10.0.0.2), port 5432 failed: FATAL:  password authentication failed for user "replicator"'


@pytest.mark.parametrize('error, expected', [
    # sslmode=prefer: the same refusal with SSL, then without, is written once naming both.
    ('%s\n%s\n' % (HBA % 'SSL encryption', HBA % 'no encryption'),
     ' '.join((HBA % 'SSL encryption or no encryption').split())),
    (HBA % 'no encryption', ' '.join((HBA % 'no encryption').split())),
    # Attempts on different addresses are different attempts: both kept, on one line.
    ('%s\n%s\n' % (TIMEOUT % '10.0.0.2', TIMEOUT % '10.0.0.9'), '%s %s' % (TIMEOUT % '10.0.0.2', TIMEOUT % '10.0.0.9')),
    # Continuation lines (libpq's hints) join their attempt.
    ('connection to server at "pg2" (10.0.0.2), port 5432 failed: Connection refused\n'
     '\tIs the server running on that host and accepting TCP/IP connections?\n',
     'connection to server at "pg2" (10.0.0.2), port 5432 failed: Connection refused Is the server running on that '
     'host and accepting TCP/IP connections?'),
    ('could not translate host name "pg9" to address: Name or service not known\n',
     'could not translate host name "pg9" to address: Name or service not known'),
    # A refusal whose message names no encryption (password authentication), SSL then plain: word for word twice.
    ('%s\n%s\n' % (PASSWORD_FAILED, PASSWORD_FAILED), ' '.join(PASSWORD_FAILED.split())),
    ('', ''),
], ids=['ssl then plain', 'one attempt', 'two addresses', 'hint', 'no attempt prefix', 'the same twice', 'empty'])
def test_libpq_message(error, expected):
    assert connection.libpq_message(error) == expected


def test_try_connect_folds_the_repeated_attempt(monkeypatch):
    def refuse(**_kw):
        raise FakePgError('%s\n%s\n' % (HBA % 'SSL encryption', HBA % 'no encryption'))
    monkeypatch.setattr(connection.psycopg2, 'connect', refuse)
    conn, error = connection.try_connect(FakeModule(login_host='pg2'))
    assert conn is None
    assert error.count('no pg_hba.conf entry') == 1
    assert error.endswith('user "replicator", SSL encryption or no encryption')
