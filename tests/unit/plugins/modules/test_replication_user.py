# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

import pytest

from ansible_collections.pgstream.replication.plugins.modules import replication_user
from ansible_collections.pgstream.replication.plugins.module_utils import scram
from ansible_collections.pgstream.replication.tests.unit.plugins.modules.fake_pg import (
    FakePgError, FakeServer, RoleServer, run_module)

PASSWORD = 'Pl41n-T3xt-Secret'
LOGIN_PASSWORD = 'L0gin-Secret'
# verifiers produced by PostgreSQL 15 (see test_scram.py)
PG_SCRAM = ('SCRAM-SHA-256$4096:9tEXhLp1tYb78n8DJ/VFtw==$D3syyAcjN6czY6bRrWwOi+cYX97Oflstz+yEriYgHTU=:'
            'M5uk3n8Xm76cZQs7hBBV/tfvLzepba1vcBfoHA2Zq9g=')
PG_SCRAM_PASSWORD = 'correct horse battery staple'
PG_MD5 = 'md58693ef798d4a04abd7b165a1c338b0a4'  # 'S3cret!' for role v_md5


def run(monkeypatch, server, check_mode=False, diff=False, **args):
    args.setdefault('name', 'replicator')
    result = run_module(monkeypatch, replication_user.main, server, args, check_mode=check_mode, diff=diff)
    secrets = [s for s in (args.get('password'), args.get('login_password')) if s]
    for secret in secrets:
        assert secret not in result.everything(), 'secret leaked in result/warnings/logs'
        for statement in server.statements:
            assert secret not in statement, 'plaintext sent to the server'
    # the verifier sent instead of the password is not returned either
    for row in getattr(server, 'roles', {}).values():
        if row.get('rolpassword'):
            assert row['rolpassword'] not in result.everything()
    return result


# ---------------------------------------------------------------- argument validation

@pytest.mark.parametrize('args, message', [
    (dict(name=None), 'missing required arguments: name'),
    (dict(state='gone'), 'value of state must be one of'),
    (dict(password_encryption='plain'), 'value of password_encryption must be one of'),
    (dict(update_password='never'), 'value of update_password must be one of'),
    (dict(conn_limit='many'), "conn_limit"),
    (dict(ssl_mode='maybe'), 'value of ssl_mode must be one of'),
    (dict(conn_limit=-2), 'conn_limit must be -1'),
    (dict(name='  '), 'name must not be empty'),
    (dict(password=''), 'password must not be empty'),
])
def test_bad_arguments_fail_without_touching_the_server(monkeypatch, args, message):
    server = RoleServer()
    full = dict(name='replicator')
    full.update(args)
    if full['name'] is None:
        del full['name']
    result = run_module(monkeypatch, replication_user.main, server, full)
    assert result.failed
    assert message in result.result['msg']
    assert server.statements == []


def test_argument_spec_options():
    spec = replication_user.argument_spec()
    assert spec['password']['no_log'] is True
    assert spec['login_password']['no_log'] is True
    assert spec['password_encryption']['default'] == 'scram-sha-256'
    assert spec['update_password']['default'] == 'always'
    assert spec['conn_limit']['default'] == -1
    assert spec['force']['default'] is False


# ---------------------------------------------------------------- present

@pytest.mark.parametrize('encryption', ['scram-sha-256', 'md5'])
def test_create_then_unchanged(monkeypatch, encryption):
    server = RoleServer()
    first = run(monkeypatch, server, password=PASSWORD, password_encryption=encryption, login_password=LOGIN_PASSWORD)
    assert not first.failed and first.result['changed']
    assert first.result['queries'] == [
        'CREATE ROLE "replicator" WITH LOGIN REPLICATION NOSUPERUSER CONNECTION LIMIT  -1 PASSWORD \'********\'']
    stored = server.roles['replicator']['rolpassword']
    assert scram.secret_method(stored) == encryption
    assert scram.verify_password(PASSWORD, stored, 'replicator')
    assert first.result['role'] == dict(name='replicator', exists=True, login=True, replication=True,
                                        superuser=False, conn_limit=-1, password_encryption=encryption)
    mutations = list(server.mutations)

    second = run(monkeypatch, server, password=PASSWORD, password_encryption=encryption)
    assert not second.result['changed']
    assert second.result['queries'] == []
    assert server.mutations == mutations
    assert server.roles['replicator']['rolpassword'] == stored


def test_check_mode_creates_nothing(monkeypatch):
    server = RoleServer()
    result = run(monkeypatch, server, check_mode=True, diff=True, password=PASSWORD)
    assert result.result['changed']
    assert len(result.result['queries']) == 1 and "PASSWORD '********'" in result.result['queries'][0]
    assert server.mutations == []
    assert server.roles == {}
    assert result.result['role']['exists'] is True  # predicted
    assert result.result['diff']['after']['password_changed'] is True


def test_diff(monkeypatch):
    server = RoleServer([RoleServer.role('replicator', password=PG_SCRAM, login=False, conn_limit=2)])
    result = run(monkeypatch, server, diff=True, password=PASSWORD, conn_limit=3)
    assert result.result['diff'] == dict(
        before=dict(exists=True, login=False, replication=True, superuser=False, conn_limit=2, password_changed=False),
        after=dict(exists=True, login=True, replication=True, superuser=False, conn_limit=3, password_changed=True))


def test_no_diff_key_without_diff_mode(monkeypatch):
    result = run(monkeypatch, RoleServer(), password=PASSWORD)
    assert 'diff' not in result.result


@pytest.mark.parametrize('stored, password, encryption, changed', [
    (PG_SCRAM, PG_SCRAM_PASSWORD, 'scram-sha-256', False),    # PostgreSQL-made verifier verifies
    (PG_SCRAM, 'other password', 'scram-sha-256', True),      # password change detected
    (PG_SCRAM, PG_SCRAM_PASSWORD, 'md5', True),               # method differs
    (PG_MD5, 'S3cret!', 'md5', False),
    (PG_MD5, 'S3cret!', 'scram-sha-256', True),
    (PG_MD5, 'wrong', 'md5', True),
    (None, PASSWORD, 'scram-sha-256', True),                  # role had no password
])
def test_password_idempotence(monkeypatch, stored, password, encryption, changed):
    name = 'v_md5' if stored == PG_MD5 else 'v_ascii'
    server = RoleServer([RoleServer.role(name, password=stored)])
    result = run(monkeypatch, server, name=name, password=password, password_encryption=encryption)
    assert result.result['changed'] is changed
    if changed:
        assert result.result['queries'] == ['ALTER ROLE "%s" WITH PASSWORD \'********\'' % name]
        assert scram.verify_password(password, server.roles[name]['rolpassword'], name)
        assert scram.secret_method(server.roles[name]['rolpassword']) == encryption
        again = run(monkeypatch, server, name=name, password=password, password_encryption=encryption)
        assert not again.result['changed']
    else:
        assert server.mutations == []


def test_update_password_on_create_leaves_existing_password(monkeypatch):
    server = RoleServer([RoleServer.role('replicator', password=PG_SCRAM)])
    result = run(monkeypatch, server, password='a new one', update_password='on_create')
    assert not result.result['changed']
    assert server.roles['replicator']['rolpassword'] == PG_SCRAM


def test_update_password_on_create_sets_it_on_create(monkeypatch):
    server = RoleServer()
    result = run(monkeypatch, server, password=PASSWORD, update_password='on_create')
    assert result.result['changed']
    assert scram.verify_password(PASSWORD, server.roles['replicator']['rolpassword'], 'replicator')


def test_attributes_are_fixed_without_password(monkeypatch):
    server = RoleServer([RoleServer.role('replicator', password=PG_SCRAM, login=False, replication=False, conn_limit=5)])
    result = run(monkeypatch, server, conn_limit=-1)
    assert result.result['queries'] == ['ALTER ROLE "replicator" WITH LOGIN REPLICATION CONNECTION LIMIT  -1']
    assert server.roles['replicator']['rolpassword'] == PG_SCRAM
    assert result.result['role']['login'] and result.result['role']['replication']
    assert not run(monkeypatch, server, conn_limit=-1).result['changed']


def test_create_without_password_warns(monkeypatch):
    server = RoleServer()
    result = run(monkeypatch, server, conn_limit=4)
    assert result.result['changed']
    assert result.result['queries'] == ['CREATE ROLE "replicator" WITH LOGIN REPLICATION NOSUPERUSER CONNECTION LIMIT 4']
    assert any('without a password' in w for w in result.warnings)


def test_identifier_is_quoted(monkeypatch):
    name = 'repl"; DROP TABLE x; --'
    server = RoleServer()
    result = run(monkeypatch, server, name=name, password=PASSWORD, password_encryption='md5')
    assert result.result['queries'][0].startswith('CREATE ROLE "repl""; DROP TABLE x; --" WITH')
    assert scram.verify_password(PASSWORD, server.roles[name]['rolpassword'], name)


def test_superuser_is_refused(monkeypatch):
    server = RoleServer([RoleServer.role('postgres', superuser=True, password=PG_SCRAM)])
    result = run(monkeypatch, server, name='postgres', password=PASSWORD)
    assert result.failed
    assert 'is a superuser' in result.result['msg'] and 'least privilege' in result.result['msg']
    assert server.mutations == []
    assert server.roles['postgres']['rolsuper'] is True


def test_unreadable_pg_authid_sets_password_and_warns(monkeypatch):
    server = RoleServer([RoleServer.role('replicator', password=PG_SCRAM)], authid_readable=False)
    result = run(monkeypatch, server, password=PASSWORD, login_user='admin', login_password=LOGIN_PASSWORD)
    assert result.result['changed']
    assert result.result['queries'] == ['ALTER ROLE "replicator" WITH PASSWORD \'********\'']
    assert any('cannot read pg_authid as admin' in w for w in result.warnings)


def test_unreadable_pg_authid_without_password_is_unchanged(monkeypatch):
    server = RoleServer([RoleServer.role('replicator', password=PG_SCRAM)], authid_readable=False)
    result = run(monkeypatch, server)
    assert not result.result['changed'] and result.warnings == []


# ---------------------------------------------------------------- absent

def test_absent_when_missing_is_unchanged(monkeypatch):
    server = RoleServer()
    result = run(monkeypatch, server, state='absent')
    assert not result.result['changed'] and server.mutations == []
    assert result.result['role']['exists'] is False


def test_absent_drops(monkeypatch):
    server = RoleServer([RoleServer.role('replicator', password=PG_SCRAM)])
    result = run(monkeypatch, server, state='absent', diff=True)
    assert result.result['changed']
    assert result.result['queries'] == ['DROP ROLE "replicator"']
    assert server.roles == {}
    assert result.result['diff']['after']['exists'] is False
    assert not run(monkeypatch, server, state='absent').result['changed']


def test_absent_check_mode(monkeypatch):
    server = RoleServer([RoleServer.role('replicator')])
    result = run(monkeypatch, server, state='absent', check_mode=True)
    assert result.result['changed'] and result.result['queries'] == ['DROP ROLE "replicator"']
    assert server.mutations == [] and 'replicator' in server.roles


ACTIVITY = [
    dict(usename='replicator', pid=4242, application_name='pg2', client_addr='10.0.0.2', backend_type='walsender'),
    dict(usename='replicator', pid=4243, application_name='psql', client_addr=None, backend_type='client backend'),
]


def test_absent_with_connections_needs_force(monkeypatch):
    server = RoleServer([RoleServer.role('replicator')], activity=ACTIVITY)
    result = run(monkeypatch, server, state='absent')
    assert result.failed
    assert 'force=true' in result.result['msg']
    assert 'pid 4242 (walsender, application_name=pg2, from 10.0.0.2)' in result.result['msg']
    assert [c['pid'] for c in result.result['connections']] == [4242, 4243]
    assert server.mutations == []


@pytest.mark.parametrize('check_mode', [False, True])
def test_absent_force_terminates_first(monkeypatch, check_mode):
    server = RoleServer([RoleServer.role('replicator')], activity=ACTIVITY)
    result = run(monkeypatch, server, state='absent', force=True, check_mode=check_mode)
    assert result.result['changed']
    assert result.result['queries'] == [
        'ALTER ROLE "replicator" WITH NOLOGIN',
        'SELECT pg_terminate_backend(4242)',
        'SELECT pg_terminate_backend(4243)',
        'DROP ROLE "replicator"',
    ]
    if check_mode:
        assert server.mutations == [] and 'replicator' in server.roles and len(server.activity) == 2
    else:
        assert server.mutations == result.result['queries'] and server.roles == {} and server.activity == []


def test_absent_refuses_superuser(monkeypatch):
    server = RoleServer([RoleServer.role('postgres', superuser=True)])
    result = run(monkeypatch, server, name='postgres', state='absent', force=True)
    assert result.failed and 'superuser' in result.result['msg']
    assert server.mutations == []


def test_absent_dependent_objects(monkeypatch):
    server = RoleServer([RoleServer.role('replicator')],
                        drop_error=FakePgError('role "replicator" cannot be dropped because some objects depend on it',
                                               pgcode='2BP01'))
    result = run(monkeypatch, server, state='absent')
    assert result.failed
    assert 'REASSIGN OWNED' in result.result['msg'] and 'some objects depend on it' in result.result['msg']
    assert result.result['queries'] == ['DROP ROLE "replicator"']


# ---------------------------------------------------------------- errors

def test_connection_failure(monkeypatch):
    server = FakeServer(connect_error=FakePgError('connection refused, password %s rejected' % LOGIN_PASSWORD))
    result = run(monkeypatch, server, password=PASSWORD, login_host='db1', login_password=LOGIN_PASSWORD)
    assert result.failed and 'postgres@db1:5432/postgres' in result.result['msg']


def test_query_error_is_redacted(monkeypatch):
    server = RoleServer()

    def boom(text, params):
        raise FakePgError('syntax error near %s' % text)
    server.add('CREATE ROLE', boom)
    result = run(monkeypatch, server, password=PASSWORD, password_encryption='md5')
    assert result.failed and result.result['msg'].startswith('query failed: syntax error near')
    secret = scram.md5_secret(PASSWORD, 'replicator')
    assert secret not in json.dumps(result.result) and '********' in result.result['msg']


def test_other_authid_error_fails(monkeypatch):
    server = FakeServer([('pg_authid', FakePgError('relation does not exist', pgcode='42P01'))])
    result = run(monkeypatch, server)
    assert result.failed and 'relation does not exist' in result.result['msg']


def test_other_drop_error_fails(monkeypatch):
    server = RoleServer([RoleServer.role('replicator')], drop_error=FakePgError('current user cannot be dropped', pgcode='55006'))
    result = run(monkeypatch, server, state='absent')
    assert result.failed and result.result['msg'] == 'query failed: current user cannot be dropped'


def test_connection_is_closed(monkeypatch):
    server = RoleServer()
    run(monkeypatch, server, password=PASSWORD)
    assert server.connections and all(c.closed and c.autocommit for c in server.connections)


@pytest.mark.parametrize('args', [
    dict(password=PASSWORD),
    dict(password=PASSWORD, password_encryption='md5', check_mode=True),
    dict(password=PASSWORD, state='absent', force=True),
])
def test_password_never_in_logs(monkeypatch, args):
    server = RoleServer([RoleServer.role('replicator', password=PG_SCRAM)], activity=ACTIVITY[:1])
    result = run(monkeypatch, server, login_password=LOGIN_PASSWORD, **args)
    assert not result.failed
    assert result.logs and 'NOT_LOGGING_PARAMETER' in result.logs[0]  # the invocation log was captured
    text = result.everything()
    assert PASSWORD not in text and LOGIN_PASSWORD not in text


# ---------------------------------------------------------------- rewind_grants

REWIND = replication_user.REWIND_FUNCTIONS


class GrantServer(RoleServer):
    """A RoleServer that also keeps EXECUTE grants on functions (role -> set of signatures) and answers the
    has_function_privilege query like PostgreSQL (missing functions not present; PUBLIC grants count)."""

    def __init__(self, roles=None, grants=None, version_num=150004, functions=REWIND, public=(), **kw):
        super(GrantServer, self).__init__(roles, **kw)
        self.grants = dict((k, set(v)) for k, v in (grants or {}).items())
        self.version_num = version_num
        self.functions = set(functions)
        self.public = set(public)
        self.rules[:0] = [
            ("SELECT current_setting('server_version_num')", lambda t, p: [dict(server_version_num=self.version_num)]),
            ('has_function_privilege', self._privileges),
            (re.compile(r'^GRANT EXECUTE ON FUNCTION '), self._grant),
        ]

    def _privileges(self, text, params):
        name, signatures = params
        assert name in self.roles, 'has_function_privilege on a missing role fails in PostgreSQL'
        return [dict(signature=sig, present=sig in self.functions,
                     granted=sig in self.functions and (sig in self.grants.get(name, ()) or sig in self.public))
                for sig in signatures]

    def _grant(self, text, params):
        m = re.match(r'^GRANT EXECUTE ON FUNCTION (pg_catalog\.\w+\([a-z, ]*\)) TO "((?:[^"]|"")+)"$', text)
        assert m, text
        self.grants.setdefault(m.group(2).replace('""', '"'), set()).add(m.group(1))
        return []

    @property
    def mutations(self):
        return [s for s in self.statements if s.startswith(('CREATE', 'ALTER', 'DROP', 'GRANT', 'REVOKE'))]


def grant_sql(sig, name='replicator'):
    return 'GRANT EXECUTE ON FUNCTION %s TO "%s"' % (sig, name.replace('"', '""'))


def test_rewind_signatures_are_the_documented_ones():
    assert REWIND == (
        'pg_catalog.pg_ls_dir(text, boolean, boolean)',
        'pg_catalog.pg_stat_file(text, boolean)',
        'pg_catalog.pg_read_binary_file(text)',
        'pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)',
    )
    assert replication_user.argument_spec()['rewind_grants']['default'] is False


@pytest.mark.parametrize('held, expected', [
    ((), list(REWIND)),                                      # missing all
    ((REWIND[0], REWIND[3]), [REWIND[1], REWIND[2]]),       # missing some
    (REWIND, []),                                            # missing none
])
def test_rewind_grants_missing_some_all_none(monkeypatch, held, expected):
    server = GrantServer([RoleServer.role('replicator', password=PG_SCRAM)], grants={'replicator': held})
    result = run(monkeypatch, server, rewind_grants=True, password=PG_SCRAM_PASSWORD)
    assert not result.failed
    assert result.result['changed'] is bool(expected)
    assert result.result['rewind_grants_added'] == expected
    assert result.result['queries'] == [grant_sql(sig) for sig in expected]
    assert server.grants['replicator'] == set(REWIND)
    assert result.result['role']['superuser'] is False
    again = run(monkeypatch, server, rewind_grants=True, password=PG_SCRAM_PASSWORD)
    assert again.result['changed'] is False and again.result['rewind_grants_added'] == [] and again.result['queries'] == []


def test_rewind_grants_on_a_new_role(monkeypatch):
    server = GrantServer()
    result = run(monkeypatch, server, rewind_grants=True, password=PASSWORD)
    assert result.result['changed'] and result.result['rewind_grants_added'] == list(REWIND)
    assert result.result['queries'][0].startswith('CREATE ROLE "replicator" WITH LOGIN REPLICATION NOSUPERUSER')
    assert result.result['queries'][1:] == [grant_sql(sig) for sig in REWIND]
    assert server.grants['replicator'] == set(REWIND)
    assert server.roles['replicator']['rolsuper'] is False


@pytest.mark.parametrize('exists', [True, False])
def test_rewind_grants_check_mode_grants_nothing(monkeypatch, exists):
    roles = [RoleServer.role('replicator', password=PG_SCRAM)] if exists else []
    server = GrantServer(roles, grants={'replicator': [REWIND[2]]})
    result = run(monkeypatch, server, check_mode=True, diff=True, rewind_grants=True)
    assert result.result['changed'] is True
    expected = [s for s in REWIND if s != REWIND[2]] if exists else list(REWIND)
    assert result.result['rewind_grants_added'] == expected
    assert [q for q in result.result['queries'] if q.startswith('GRANT')] == [grant_sql(sig) for sig in expected]
    assert server.mutations == []
    assert server.grants == {'replicator': {REWIND[2]}}
    assert result.result['diff']['after']['rewind_grants'] == list(REWIND)
    assert result.result['diff']['before']['rewind_grants'] == ([REWIND[2]] if exists else [])


def test_rewind_grants_counts_public_and_inherited(monkeypatch):
    server = GrantServer([RoleServer.role('replicator')], public=REWIND)
    result = run(monkeypatch, server, rewind_grants=True)
    assert result.result['changed'] is False and result.result['rewind_grants_added'] == []


def test_rewind_grants_false_never_revokes(monkeypatch):
    server = GrantServer([RoleServer.role('replicator')], grants={'replicator': REWIND})
    result = run(monkeypatch, server)
    assert result.result['changed'] is False and result.result['rewind_grants_added'] == []
    assert not any('has_function_privilege' in s for s in server.statements)
    assert server.grants['replicator'] == set(REWIND) and server.mutations == []


def test_rewind_grants_identifier_is_quoted(monkeypatch):
    name = 'rep"; DROP TABLE x; --'
    server = GrantServer([RoleServer.role(name)])
    result = run(monkeypatch, server, name=name, rewind_grants=True)
    assert result.result['queries'] == [grant_sql(sig, name) for sig in REWIND]
    assert result.result['queries'][0] == 'GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) ' \
        'TO "rep""; DROP TABLE x; --"'
    # the role name reaches has_function_privilege as a bound parameter, not as SQL text
    check = [s for s in server.statements if 'has_function_privilege' in s][0]
    assert "has_function_privilege('rep\"; DROP TABLE x; --'" in check
    assert server.grants[name] == set(REWIND)


def test_rewind_grants_needs_state_present(monkeypatch):
    server = GrantServer([RoleServer.role('replicator')])
    result = run(monkeypatch, server, state='absent', rewind_grants=True)
    assert result.failed and 'rewind_grants=true needs state=present' in result.result['msg']
    assert server.statements == []


def test_rewind_grants_refused_before_11(monkeypatch):
    server = GrantServer([RoleServer.role('replicator')], version_num=100023)
    result = run(monkeypatch, server, rewind_grants=True)
    assert result.failed and 'PostgreSQL 11 or later' in result.result['msg'] and '100023' in result.result['msg']
    assert server.mutations == []


def test_rewind_grants_missing_function_fails(monkeypatch):
    server = GrantServer([RoleServer.role('replicator')], functions=REWIND[:3])
    result = run(monkeypatch, server, rewind_grants=True)
    assert result.failed and REWIND[3] in result.result['msg'] and 'not found' in result.result['msg']
    assert server.mutations == []


def test_rewind_grants_superuser_still_refused(monkeypatch):
    server = GrantServer([RoleServer.role('postgres', superuser=True)])
    result = run(monkeypatch, server, name='postgres', rewind_grants=True)
    assert result.failed and 'is a superuser' in result.result['msg']
    assert server.mutations == []


def test_rewind_grants_added_returned_without_option(monkeypatch):
    result = run(monkeypatch, RoleServer([RoleServer.role('replicator')]))
    assert result.result['rewind_grants_added'] == []
