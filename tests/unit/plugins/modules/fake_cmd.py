# -*- coding: utf-8 -*-
"""Fakes for the command-running modules (owner B): a scripted run_command, a fake PostgreSQL server
speaking just enough SQL and replication protocol for basebackup/promote, and a module runner."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import psycopg2
import psycopg2.extensions
import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


class FakeDbError(psycopg2.OperationalError):
    pass


class Result(dict):
    """The module's result plus what the run left behind."""

    @property
    def text(self):
        """Everything the module returned or logged, as one string (for secret checks)."""
        return json.dumps(self, default=str)


class FakeRunner:
    """Stands in for AnsibleModule.run_command.

    handlers: {program basename: callable(argv, kw) -> (rc, out, err) or a (rc, out, err) tuple}.
    Wrappers (timeout, runuser) are skipped to find the program. Every call is recorded as (argv, kw, env snapshot).
    """

    def __init__(self, handlers=None):
        self.handlers = dict(handlers or {})
        self.calls = []

    @staticmethod
    def program(argv):
        argv = list(argv)
        while argv and os.path.basename(argv[0]) in ('timeout', 'runuser'):
            argv = argv[argv.index('--') + 1:] if '--' in argv else argv[4:]
        return os.path.basename(argv[0]), argv

    def __call__(self, args, **kw):
        name, inner = self.program(args)
        snapshot = {}
        passfile = (kw.get('environ_update') or {}).get('PGPASSFILE')
        if passfile:
            st = os.stat(passfile)
            with open(passfile) as f:
                snapshot = {'passfile_mode': st.st_mode & 0o777, 'passfile_content': f.read()}
        self.calls.append((list(args), kw, snapshot))
        handler = self.handlers.get(name, (0, '', ''))
        return handler(inner, kw) if callable(handler) else handler

    def argvs(self, name=None):
        return [a for a, dummy, dummy2 in self.calls if name is None or self.program(a)[0] == name]


class FakeServer:
    """State of one fake PostgreSQL server."""

    def __init__(self, system_identifier='7711330958549827612', timeline=1, version_num=150004, in_recovery=False,
                 xlogpos='0/3000148', slots=(), receive_lsn='0/3000148', replay_lsns=('0/3000148',), paused=False,
                 promote_works=True, checkpoint_error=None, data_directory='/var/lib/postgresql/15/main',
                 fail_on=None, connect_error=None):
        self.system_identifier = system_identifier
        self.timeline = timeline
        self.version_num = version_num
        self.in_recovery = in_recovery
        self.xlogpos = xlogpos
        self.slots = set(slots)
        self.receive_lsn = receive_lsn
        self.replay_lsns = list(replay_lsns)
        self.paused = paused
        self.promote_works = promote_works
        self.checkpoint_error = checkpoint_error
        self.data_directory = data_directory
        self.fail_on = fail_on
        self.connect_error = connect_error
        self.statements = []
        self.connects = []

    def replay_lsn(self):
        return self.replay_lsns.pop(0) if len(self.replay_lsns) > 1 else self.replay_lsns[0]

    def promote(self):
        if self.promote_works:
            self.in_recovery = False
            self.timeline += 1
            self.receive_lsn = None

    def answer(self, text, replication):
        """(column names, rows) for a statement."""
        self.statements.append(text)
        if self.fail_on and self.fail_on in text:
            raise FakeDbError('ERROR:  fake failure of %s' % self.fail_on)
        if replication:
            if text == 'IDENTIFY_SYSTEM':
                return ['systemid', 'timeline', 'xlogpos', 'dbname'], [(self.system_identifier, self.timeline, self.xlogpos, None)]
            if text == 'SHOW in_hot_standby':
                if self.version_num < 140000:
                    raise FakeDbError('ERROR:  unrecognized configuration parameter "in_hot_standby"')
                return ['in_hot_standby'], [('on' if self.in_recovery else 'off',)]
            if text.startswith('READ_REPLICATION_SLOT'):
                name = text.split(None, 1)[1].strip('"')
                row = ('physical', '0/3000000', 1) if name in self.slots else (None, None, None)
                return ['slot_type', 'restart_lsn', 'restart_tli'], [row]
            raise FakeDbError('ERROR:  syntax error (replication connection): %s' % text)
        if text.startswith('SELECT pg_is_in_recovery() AS in_recovery, current_setting'):
            return ['in_recovery', 'version_num'], [(self.in_recovery, self.version_num)]
        if text == 'SELECT pg_is_in_recovery() AS in_recovery':
            return ['in_recovery'], [(self.in_recovery,)]
        if text == 'SELECT pg_is_in_recovery()':
            return ['pg_is_in_recovery'], [(self.in_recovery,)]
        if text == 'SELECT timeline_id FROM pg_control_checkpoint()':
            return ['timeline_id'], [(self.timeline,)]
        if text.startswith('SELECT pg_last_wal_receive_lsn()') and 'received_tli' in text:
            return ['receive_lsn', 'received_tli'], [(self.receive_lsn, self.timeline if self.in_recovery else None)]
        if text.startswith("SELECT current_setting('data_directory') AS data_directory, pg_size_bytes"):
            return ['data_directory', 'segment_size', 'timeline'], [(self.data_directory, 16777216, self.timeline)]
        if text.startswith('SELECT pg_last_wal_receive_lsn()'):
            return ['receive_lsn', 'replay_lsn', 'paused'], [(self.receive_lsn, self.replay_lsn(), self.paused)]
        if text == 'SELECT pg_last_wal_replay_lsn()::text AS lsn':
            return ['lsn'], [(self.replay_lsns[0],)]
        if text == 'SELECT pg_current_wal_lsn()::text AS lsn':
            return ['lsn'], [('0/3000228',)]
        if text == 'SELECT pg_walfile_name(pg_current_wal_lsn()) AS walfile':
            return ['walfile'], [('%08X0000000000000003' % self.timeline,)]
        if text == 'SHOW data_directory':
            return ['data_directory'], [(self.data_directory,)]
        if text.startswith('SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = '):
            return ['n'], [(1 if text.rsplit('=', 1)[1].strip().strip("'") in self.slots else 0,)]
        if text.startswith('SELECT pg_create_physical_replication_slot('):
            self.slots.add(text.split("'")[1])
            return ['pg_create_physical_replication_slot'], [(None,)]
        if text.startswith('SELECT pg_promote('):
            self.promote()
            return ['pg_promote'], [(self.promote_works,)]
        if text == 'CHECKPOINT':
            if self.checkpoint_error:
                raise FakeDbError(self.checkpoint_error)
            return None, []
        raise AssertionError('unexpected statement: %s' % text)


def _quote(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    return "'%s'" % str(value).replace("'", "''")


def mogrify(sql, params=None):
    if params is None:
        return sql
    if isinstance(params, dict):
        return sql % dict((k, _quote(v)) for k, v in params.items())
    return sql % tuple(_quote(v) for v in params)


class FakeCursor:
    def __init__(self, conn):
        self.conn = conn
        self.description = None
        self.rows = []

    def mogrify(self, sql, params=None):
        return mogrify(sql, params).encode('utf-8')

    def execute(self, sql, params=None):
        if self.conn.closed:
            raise psycopg2.InterfaceError('connection already closed')
        names, rows = self.conn.server.answer(mogrify(sql, params), self.conn.replication)
        self.description = [(n,) for n in names] if names else None
        self.rows = list(rows)

    def fetchone(self):
        return self.rows.pop(0) if self.rows else None

    def fetchall(self):
        rows, self.rows = self.rows, []
        return rows


class FakeConnection:
    def __init__(self, server, replication, kwargs):
        self.server = server
        self.replication = replication
        self.kwargs = kwargs
        self.server_version = server.version_num
        self.autocommit = False
        self.closed = False

    def cursor(self):
        return FakeCursor(self)

    def close(self):
        self.closed = True


class FakeConnect:
    """Replaces psycopg2.connect: servers by host ('' for the local socket); records every call's kwargs."""

    def __init__(self, servers):
        self.servers = servers
        self.calls = []

    def __call__(self, dsn=None, connection_factory=None, **kwargs):
        if dsn:
            kwargs.update(psycopg2.extensions.parse_dsn(dsn))
        self.calls.append(dict(kwargs, connection_factory=connection_factory))
        host = kwargs.get('host') or ''
        server = self.servers.get(host)
        if server is None:
            raise FakeDbError('could not translate host name "%s" to address: Name or service not known' % host)
        error = server.connect_error
        if isinstance(error, list):  # one per attempt, then none
            error = error.pop(0) if error else None
        if callable(error):  # a hook run at each attempt; what it returns is raised unless None
            error = error()
        if error:
            raise FakeDbError(error)
        server.connects.append(kwargs)
        replication = connection_factory is not None or str(kwargs.get('replication', '')).lower() == 'true'
        return FakeConnection(server, replication, kwargs)


def run_module(module, args, check_mode=False, runner=None, monkeypatch=None, servers=None):
    """Run module.main() with args; returns a Result (with 'failed' set on fail_json) and records logs/warnings."""
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    logs, warnings = [], []

    def exit_json(self, **kw):
        raise ExitJson(kw)

    def fail_json(self, msg, **kw):
        kw['failed'] = True
        kw['msg'] = msg
        raise FailJson(kw)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'log', lambda self, msg, log_args=None: logs.append((msg, log_args)))
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg, *a, **k: warnings.append(msg))
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda self, a, **kw: (runner or FakeRunner())(a, **kw))
    if servers is not None:
        connect = FakeConnect(servers)
        monkeypatch.setattr(psycopg2, 'connect', connect)
    with patch_module_args(args):
        with pytest.raises((ExitJson, FailJson)) as e:
            module.main()
    result = Result(e.value.args[0])
    result['_logs'] = logs
    result['_warnings'] = warnings
    return result
