# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running PostgreSQL client programs safely: argv lists only, secrets redacted from every
output, passwords handed over through a private 0600 password file (never argv)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import os
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
