# -*- coding: utf-8 -*-
"""Fakes for psycopg2 connections and a runner for AnsibleModule-based modules (owner A).

FakeServer answers queries by substring rules and records every statement it receives
*unredacted*, so tests can check both what ran and that no plaintext secret was sent.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

import psycopg2
from psycopg2 import sql

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.pgstream.replication.plugins.module_utils import connection as connection_utils


class FakePgError(psycopg2.Error):
    """A psycopg2.Error with a settable SQLSTATE."""

    def __init__(self, message, pgcode=None):
        super(FakePgError, self).__init__(message)
        self._fake_pgcode = pgcode

    @property
    def pgcode(self):
        return self._fake_pgcode


def _quote(value):
    if value is None:
        return 'NULL'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return ' %d' % value if value < 0 else '%d' % value  # psycopg2 puts a space before negatives
    if isinstance(value, (list, tuple)):
        return 'ARRAY[%s]' % ','.join(_quote(v) for v in value)
    return "'%s'" % str(value).replace("'", "''")


def render(query):
    """psycopg2.sql composables to text without a live connection."""
    if isinstance(query, sql.Composed):
        return ''.join(render(part) for part in query.seq)
    if isinstance(query, sql.SQL):
        return query.string
    if isinstance(query, sql.Identifier):
        return '.'.join('"%s"' % s.replace('"', '""') for s in query.strings)
    if isinstance(query, sql.Literal):
        return _quote(query.wrapped)
    if isinstance(query, bytes):
        return query.decode('utf-8')
    return query


def mogrify(query, params=None):
    text = render(query)
    if params is None:
        return text
    if isinstance(params, dict):
        return text % dict((k, _quote(v)) for k, v in params.items())
    return text % tuple(_quote(p) for p in params)


class FakeCursor:
    def __init__(self, server):
        self.server = server
        self.description = None
        self._rows = []

    def mogrify(self, query, params=None):
        return mogrify(query, params).encode('utf-8')  # psycopg2 returns bytes

    def execute(self, query, params=None):
        text = mogrify(query, params)
        self.server.statements.append(text)
        rows = self.server.answer(text, params)
        self._rows = rows or []
        self.description = [(name,) for name in (self._rows[0].keys() if self._rows else [])]

    def fetchall(self):
        return [tuple(row.values()) for row in self._rows]


class FakeConnection:
    def __init__(self, server):
        self.server = server
        self.autocommit = False
        self.closed = False

    def cursor(self):
        return FakeCursor(self.server)

    def close(self):
        self.closed = True


class FakeServer:
    """rules: list of (substring or compiled regex, rows | exception | callable(text, params))."""

    READ_PREFIXES = ('SELECT current_setting', 'SELECT name, setting', 'SELECT rolname', 'SELECT pid,',
                     'SELECT system_identifier', 'SELECT timeline_id', 'SELECT pg_last_wal', 'SELECT pg_current_wal_lsn',
                     'SELECT application_name', 'SELECT status', 'SELECT slot_name')

    def __init__(self, rules=None, connect_error=None):
        self.rules = list(rules or [])
        self.connect_error = connect_error
        self.statements = []
        self.connect_kwargs = []
        self.connections = []

    def add(self, match, answer):
        self.rules.insert(0, (match, answer))

    def connect(self, **kwargs):
        self.connect_kwargs.append(kwargs)
        if self.connect_error is not None:
            raise self.connect_error
        conn = FakeConnection(self)
        self.connections.append(conn)
        return conn

    def answer(self, text, params):
        for match, answer in self.rules:
            hit = match.search(text) if hasattr(match, 'search') else match in text
            if not hit:
                continue
            if isinstance(answer, BaseException):
                raise answer
            if callable(answer):
                return answer(text, params)
            return [dict(row) for row in answer]
        raise AssertionError('FakeServer: unexpected statement: %s' % text)

    @property
    def mutations(self):
        return [s for s in self.statements if not s.startswith(self.READ_PREFIXES)]


class RoleServer(FakeServer):
    """A FakeServer that keeps pg_authid rows and applies CREATE/ALTER/DROP ROLE to them."""

    def __init__(self, roles=None, activity=None, authid_readable=True, drop_error=None):
        super(RoleServer, self).__init__()
        self.roles = dict((r['rolname'], dict(r)) for r in (roles or []))
        self.activity = list(activity or [])
        self.authid_readable = authid_readable
        self.drop_error = drop_error
        self.rules = [
            ('FROM pg_authid WHERE rolname', self._authid),
            ('FROM pg_roles WHERE rolname', self._roles),
            ('FROM pg_stat_activity', self._activity),
            ('SELECT pg_terminate_backend', self._terminate),
            (re.compile(r'^(CREATE|ALTER) ROLE '), self._create_alter),
            (re.compile(r'^DROP ROLE '), self._drop),
        ]

    @staticmethod
    def role(name, password=None, superuser=False, login=True, replication=True, conn_limit=-1):
        return dict(rolname=name, rolsuper=superuser, rolcanlogin=login, rolreplication=replication,
                    rolconnlimit=conn_limit, rolpassword=password)

    def _authid(self, text, params):
        if not self.authid_readable:
            raise FakePgError('permission denied for table pg_authid', pgcode='42501')
        row = self.roles.get(params[0])
        return [dict(row)] if row else []

    def _roles(self, text, params):
        row = self.roles.get(params[0])
        return [dict(row, rolpassword=None)] if row else []

    def _activity(self, text, params):
        rows = [dict(a) for a in self.activity if a.get('usename', params[0]) == params[0]]
        for row in rows:
            row.pop('usename', None)
        return rows

    def _terminate(self, text, params):
        self.activity = [a for a in self.activity if a['pid'] != params[0]]
        return [dict(pg_terminate_backend=True)]

    def _create_alter(self, text, params):
        m = re.match(r'^(CREATE|ALTER) ROLE "((?:[^"]|"")+)" WITH (.*)$', text, re.S)
        verb, name, clauses = m.group(1), m.group(2).replace('""', '"'), m.group(3)
        if verb == 'CREATE':
            assert name not in self.roles, 'role exists'
            self.roles[name] = self.role(name, login=False, replication=False)
        row = self.roles[name]
        pw = re.search(r"PASSWORD '((?:[^']|'')*)'", clauses)
        if pw:
            row['rolpassword'] = pw.group(1).replace("''", "'")
            clauses = clauses[:pw.start()] + clauses[pw.end():]
        limit = re.search(r'CONNECTION LIMIT\s+(-?\d+)', clauses)
        if limit:
            row['rolconnlimit'] = int(limit.group(1))
        words = clauses.split()
        for word, key, value in (('LOGIN', 'rolcanlogin', True), ('NOLOGIN', 'rolcanlogin', False),
                                 ('REPLICATION', 'rolreplication', True), ('SUPERUSER', 'rolsuper', True),
                                 ('NOSUPERUSER', 'rolsuper', False)):
            if word in words:
                row[key] = value
        return []

    def _drop(self, text, params):
        if self.drop_error is not None:
            raise self.drop_error
        name = re.match(r'^DROP ROLE "((?:[^"]|"")+)"$', text).group(1).replace('""', '"')
        del self.roles[name]
        return []


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result)
        self.result = result
        self.failed = failed


class Run:
    """Outcome of one module run: result dict, failed flag, warnings and log messages."""

    def __init__(self, result, failed, warnings, logs):
        self.result = result
        self.failed = failed
        self.warnings = warnings
        self.logs = logs

    def everything(self):
        """All text the module returned or logged, for redaction checks."""
        return json.dumps([self.result, self.warnings, self.logs], default=str)


def run_module(monkeypatch, main, server, args, check_mode=False, diff=False):
    """Run a module's main() against server; never touches a real database."""
    warnings, logs = [], []

    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs, False)

    def fail_json(self, msg, **kwargs):
        kwargs['msg'] = msg
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, w: warnings.append(w))
    monkeypatch.setattr(basic.AnsibleModule, 'log', lambda self, m, *a, **k: logs.append(m))
    monkeypatch.setattr(connection_utils.psycopg2, 'connect', server.connect)
    args = dict(args)
    args['_ansible_check_mode'] = check_mode
    args['_ansible_diff'] = diff
    with patch_module_args(args):
        try:
            main()
        except ModuleExit as e:
            return Run(e.result, e.failed, warnings, logs)
    raise AssertionError('module returned without exit_json/fail_json')


class SlotServer(FakeServer):
    """A FakeServer that keeps pg_replication_slots rows and applies the slot functions to them.

    release_after: how many active_pid polls a terminated walsender needs before it releases its slot.
    reconnects: pids that take the slot over, one after each release (a standby reconnecting).
    drop_races: pids that take the slot over just before a drop, which then fails as in use.
    Before PostgreSQL 13 (version_num < 130000) a query naming the wal_status column fails like the real server.
    """

    def __init__(self, slots=None, version_num=150004, release_after=0, reconnects=None, drop_races=None,
                 create_error=None):
        super(SlotServer, self).__init__()
        self.drop_races = list(drop_races or [])
        self.slots = dict((s['slot_name'], dict(s)) for s in (slots or []))
        self.version_num = version_num
        self.release_after = release_after
        self.reconnects = list(reconnects or [])
        self.create_error = create_error
        self.terminated = {}
        self.rules = [
            ('SELECT current_setting', self._version),
            ('FROM pg_replication_slots WHERE slot_name', self._one),
            ('FROM pg_replication_slots', self._all),
            ('SELECT pg_create_physical_replication_slot', self._create),
            ('SELECT pg_drop_replication_slot', self._drop),
            ('SELECT pg_terminate_backend', self._terminate),
        ]

    @staticmethod
    def slot(name, slot_type='physical', active_pid=None, restart_lsn='0/3000148', wal_status='reserved'):
        return dict(slot_name=name, slot_type=slot_type, active=active_pid is not None, active_pid=active_pid,
                    restart_lsn=restart_lsn, wal_status=wal_status)

    def _version(self, text, params):
        num = self.version_num
        return [dict(server_version='%d.%d' % (num // 10000, num % 10000) if num >= 100000 else
                     '%d.%d.%d' % (num // 10000, (num // 100) % 100, num % 100), server_version_num=num)]

    def _check_columns(self, text):
        if self.version_num < 130000 and re.search(r'(?<!AS )\bwal_status\b', text):
            raise FakePgError('column "wal_status" does not exist', pgcode='42703')

    def _release_tick(self):
        for name, polls in list(self.terminated.items()):
            if polls <= 0:
                del self.terminated[name]
                slot = self.slots.get(name)
                if slot is not None:
                    pid = self.reconnects.pop(0) if self.reconnects else None
                    slot.update(active=pid is not None, active_pid=pid)
            else:
                self.terminated[name] = polls - 1

    def _one(self, text, params):
        self._release_tick()
        slot = self.slots.get(params[0])
        return [dict(slot_name=slot['slot_name'], active_pid=slot['active_pid'])] if slot else []

    def _all(self, text, params):
        self._check_columns(text)
        rows = []
        for name in sorted(self.slots):
            row = dict(self.slots[name])
            if self.version_num < 130000:
                row['wal_status'] = None
            rows.append(row)
        return rows

    def _create(self, text, params):
        if self.create_error is not None:
            raise self.create_error
        name, reserve = params
        if name in self.slots:
            raise FakePgError('replication slot "%s" already exists' % name, pgcode='42710')
        self.slots[name] = self.slot(name, restart_lsn='0/3000148' if reserve else None,
                                     wal_status='reserved' if reserve else None)
        return [dict(pg_create_physical_replication_slot='(%s,)' % name)]

    def _drop(self, text, params):
        slot = self.slots.get(params[0])
        if slot is None:
            raise FakePgError('replication slot "%s" does not exist' % params[0], pgcode='42704')
        if self.drop_races:
            pid = self.drop_races.pop(0)
            slot.update(active=True, active_pid=pid)
        if slot['active_pid'] is not None:
            raise FakePgError('replication slot "%s" is active for PID %d' % (params[0], slot['active_pid']),
                              pgcode='55006')
        del self.slots[params[0]]
        return [dict(pg_drop_replication_slot='')]

    def _terminate(self, text, params):
        for name, slot in self.slots.items():
            if slot['active_pid'] == params[0]:
                self.terminated[name] = self.release_after
        return [dict(pg_terminate_backend=True)]
