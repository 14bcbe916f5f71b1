# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest
from psycopg2 import sql

from ansible_collections.pgstream.replication.plugins.module_utils.queries import QueryLog
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.fake_pg import FakeServer, FakeCursor


def make(rules=None, secrets=(), check_mode=False):
    server = FakeServer(rules or [('', [])])
    return server, QueryLog(FakeCursor(server), secrets=secrets, check_mode=check_mode)


def test_execute_runs_and_records_redacted():
    server, ql = make(secrets=['s3cret'])
    ql.execute(sql.SQL('ALTER ROLE {} WITH PASSWORD %s').format(sql.Identifier('r')), ['s3cret'])
    assert server.statements == ['ALTER ROLE "r" WITH PASSWORD \'s3cret\'']
    assert ql.queries == ['ALTER ROLE "r" WITH PASSWORD \'********\'']


def test_check_mode_records_but_does_not_run():
    server, ql = make(check_mode=True)
    ql.execute('DROP ROLE "x"')
    assert server.statements == []
    assert ql.queries == ['DROP ROLE "x"']


def test_fetch_returns_dicts_and_is_not_recorded():
    server, ql = make([('SELECT', [dict(a=1, b='x'), dict(a=2, b='y')])])
    assert ql.fetch('SELECT a, b FROM t WHERE c = %s', (3,)) == [dict(a=1, b='x'), dict(a=2, b='y')]
    assert ql.fetch_one('SELECT a, b FROM t') == dict(a=1, b='x')
    assert ql.queries == []
    assert server.statements[0] == 'SELECT a, b FROM t WHERE c = 3'


def test_fetch_empty_and_no_description():
    server, ql = make([('SELECT', [])])
    assert ql.fetch('SELECT 1 WHERE false') == []
    assert ql.fetch_one('SELECT 1 WHERE false') is None

    class NoResult(FakeCursor):
        def execute(self, query, params=None):
            self.description = None
    assert QueryLog(NoResult(server)).fetch('SET x = 1') == []


def test_fetch_accepts_dict_rows():
    class DictCursor(FakeCursor):
        def fetchall(self):
            return [dict(row) for row in self._rows]
    server = FakeServer([('SELECT', [dict(a=1)])])
    assert QueryLog(DictCursor(server)).fetch('SELECT a') == [dict(a=1)]


@pytest.mark.parametrize('secrets, text, expected', [
    ([], 'nothing secret', 'nothing secret'),
    ([None, ''], 'empty secrets ignored', 'empty secrets ignored'),
    (['ab', 'abcd'], 'x abcd y ab', 'x ******** y ********'),  # longest first
    ([b'bytes'], b'some bytes here', 'some ******** here'),
    (['pw'], None, None),
])
def test_redact(secrets, text, expected):
    dummy, ql = make(secrets=secrets)
    assert ql.redact(text) == expected


def test_add_secrets_later_and_queries_is_a_copy():
    dummy, ql = make()
    ql.add_secrets(['SCRAM-SHA-256$4096:abc'])
    ql.execute('ALTER ROLE r PASSWORD %s', ['SCRAM-SHA-256$4096:abc'])
    queries = ql.queries
    queries.append('x')
    assert ql.queries == ["ALTER ROLE r PASSWORD '********'"]


def test_execute_error_propagates_after_recording():
    server, ql = make([('BOOM', RuntimeError('boom'))])
    with pytest.raises(RuntimeError):
        ql.execute('BOOM')
    assert ql.queries == ['BOOM']
