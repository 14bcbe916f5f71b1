# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running PostgreSQL client programs safely: argv lists only, secrets redacted from every
output, passwords handed over through a private 0600 password file (never argv)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import os
import signal
import subprocess
import tempfile

REDACTED = '********'


def redact(text, secrets):
    """Return text with every non-empty secret replaced by ``********`` (longest first)."""
    if text is None:
        return text
    if not isinstance(text, str):
        text = str(text)
    for secret in sorted((s for s in (secrets or ()) if s), key=len, reverse=True):
        text = text.replace(str(secret), REDACTED)
    return text


def run(module, argv, secrets=(), env=None, cwd=None, data=None):
    """Run argv (a list, never a shell string) with module.run_command.

    Returns (rc, out, err) with every secret redacted from out and err.
    """
    if not isinstance(argv, (list, tuple)):
        raise TypeError('argv must be a list')
    argv = [str(a) for a in argv]
    rc, out, err = module.run_command(argv, check_rc=False, environ_update=env or {}, cwd=cwd, data=data)
    return rc, redact(out, secrets), redact(err, secrets)


def run_until(module, argv, stop_at, secrets=(), env=None, cwd=None):
    """Run argv (a list, never a shell string) with stderr merged into stdout, read its output line by line, and
    stop it at the first line that matches the compiled regex stop_at.

    For a program that says what it will do and then does a long job nobody needs (pg_rewind --dry-run fetches every
    file it would copy, the source's whole pg_wal included, and throws it away): module.run_command can only wait for
    the end. The program runs in its own session, and its whole process group gets SIGTERM, then SIGKILL after 10 s,
    so wrappers (timeout, runuser) and their child all stop.

    Returns (rc, output, stopped) with every secret redacted from output; rc is None when stopped.
    """
    if not isinstance(argv, (list, tuple)):
        raise TypeError('argv must be a list')
    argv = [str(a) for a in argv]
    environ = dict(os.environ)
    environ.update(env or {})
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=cwd, env=environ, start_new_session=True)
    lines, stopped = [], False
    try:
        for raw in iter(proc.stdout.readline, b''):
            line = raw.decode('utf-8', 'replace')
            lines.append(line)
            if stop_at.search(line):
                stopped = True
                _stop_group(proc)
                break
    except Exception:
        _stop_group(proc)
        raise
    finally:
        proc.stdout.close()
        rc = proc.wait()
    return (None if stopped else rc), redact(''.join(lines), secrets), stopped


def _stop_group(proc):
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def pgpass_escape(value):
    """Escape a value for a .pgpass field (backslash and colon are special)."""
    return str(value).replace('\\', '\\\\').replace(':', '\\:')


def pgpass_line(host, port, user, password, database='*'):
    """One .pgpass line (with trailing newline); an empty host becomes ``*``."""
    fields = [host or '*', port or '*', database or '*', user or '*', '' if password is None else password]
    return ':'.join(pgpass_escape(f) for f in fields) + '\n'


@contextlib.contextmanager
def pgpass_file(module, host, port, user, password, database='*'):
    """Yield the path of a 0600 temporary password file holding one entry; removed on exit.

    Put the path in the ``PGPASSFILE`` environment variable of the client program.
    """
    tmpdir = getattr(module, 'tmpdir', None)
    fd, path = tempfile.mkstemp(prefix='pgstream-pgpass-', dir=tmpdir if tmpdir and os.path.isdir(tmpdir) else None)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(pgpass_line(host, port, user, password, database))
        yield path
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def _pgpass_fields(line):
    """Split a .pgpass line on unescaped colons, unescaping fields."""
    fields, cur, escaped = [], [], False
    for ch in line:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == '\\':
            escaped = True
        elif ch == ':':
            fields.append(''.join(cur))
            cur = []
        else:
            cur.append(ch)
    fields.append(''.join(cur))
    return fields


def pgpass_merge(text, host, port, user, password, database='*'):
    """Return .pgpass content with the entry for (host, port, database, user) set to password.

    Other entries and comments are kept in order; an existing entry for the same four fields is replaced in place.
    """
    new = pgpass_line(host, port, user, password, database)
    key = _pgpass_fields(new.rstrip('\n'))[:4]
    lines, done = [], False
    for line in (text or '').splitlines(True):
        stripped = line.rstrip('\r\n')
        if stripped and not stripped.lstrip().startswith('#') and _pgpass_fields(stripped)[:4] == key:
            if not done:
                lines.append(new)
                done = True
            continue
        lines.append(line if line.endswith('\n') else line + '\n')
    if not done:
        lines.append(new)
    return ''.join(lines)
