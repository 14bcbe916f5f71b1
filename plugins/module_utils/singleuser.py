# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Working on a stopped data directory as its owner: running server programs as the owner (runuser when
root), a password file the owner can read, finding the server's postgresql.conf (also Debian's
/etc/postgresql layout), and single-user crash recovery (postgres --single) with the standby/recovery
signal files moved aside for that step."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import glob
import os
import pwd
import re
import tempfile

from ansible_collections.pgstream.replication.plugins.module_utils.commands import pgpass_line, run
from ansible_collections.pgstream.replication.plugins.module_utils.version import data_dir_major

# Files that put a server into standby/archive recovery; single-user mode refuses standby mode.
SIGNAL_FILES = ('standby.signal', 'recovery.signal', 'recovery.conf')
# Suffix of a signal file while it is moved aside.
ASIDE_SUFFIX = '.pgstream-aside'
DEBIAN_CONFIGS = '/etc/postgresql/*/*/postgresql.conf'
CLEAN_STATES = ('shut down', 'shut down in recovery')
C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C', 'LC_MESSAGES': 'C'}
# WAL segments (of 16 MB) kept by the checkpoint that ends a crash recovery.
KEEP_WAL_SEGMENTS = 65536

_DATA_DIRECTORY = re.compile(r"""^\s*data_directory(?:\s*=\s*|\s+)(?:'((?:[^'\\]|''|\\.)*)'|([^\s#']+))""")


def owner_entry(module, owner):
    """pwd entry of owner; fails when the user does not exist or the module runs as someone else than root/owner."""
    try:
        entry = pwd.getpwnam(owner)
    except KeyError:
        module.fail_json(msg='owner %s does not exist on this host' % owner)
    if os.geteuid() not in (0, entry.pw_uid):
        module.fail_json(msg='the module must run as root or as the owner %s (it runs as uid %d)' % (owner, os.geteuid()))
    return entry


def as_owner(module, owner, argv):
    """argv run as owner: prefixed with `runuser -u owner --` when the module runs as root (server programs refuse root)."""
    if os.geteuid() != 0:
        return list(argv)
    runuser = module.get_bin_path('runuser')
    if not runuser:
        module.fail_json(msg='%s cannot run as root and runuser was not found; run the task as %s (become_user)'
                         % (os.path.basename(argv[0]), owner))
    return [runuser, '-u', owner, '--'] + list(argv)


@contextlib.contextmanager
def owner_passfile(owner, host, port, user, password, database='*'):
    """Yield the path of a 0600 temporary password file readable by owner (chowned when root); removed on exit.

    It lives in the system temporary directory because the module's own temporary directory is usually
    not reachable for another user.
    """
    fd, path = tempfile.mkstemp(prefix='pgstream-pgpass-')
    try:
        os.fchmod(fd, 0o600)
        if os.geteuid() == 0:
            os.fchown(fd, owner.pw_uid, owner.pw_gid)
        with os.fdopen(fd, 'w') as f:
            f.write(pgpass_line(host, port, user, password, database))
        yield path
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def parse_data_directory(text):
    """The data_directory set in postgresql.conf text (last setting wins), or None."""
    value = None
    for line in (text or '').splitlines():
        m = _DATA_DIRECTORY.match(line)
        if not m:
            continue
        if m.group(1) is not None:
            value = re.sub(r"\\(.)", r'\1', m.group(1).replace("''", "'"))
        else:
            value = m.group(2)
    return value


def _same_path(a, b):
    return os.path.realpath(a) == os.path.realpath(b)


def find_config_file(data_dir, pattern=DEBIAN_CONFIGS):
    """data_dir/postgresql.conf when it exists, else the postgresql.conf matching pattern (Debian's
    /etc/postgresql/<major>/<cluster>/postgresql.conf) whose data_directory is data_dir; None when not found."""
    own = os.path.join(data_dir, 'postgresql.conf')
    if os.path.isfile(own):
        return own
    for path in sorted(glob.glob(pattern)):
        try:
            with open(path) as f:
                value = parse_data_directory(f.read())
        except (IOError, OSError):
            continue
        if value and _same_path(value, data_dir):
            return path
    return None


def signal_files(data_dir):
    """The signal files (standby.signal, recovery.signal, recovery.conf) present in data_dir."""
    return [name for name in SIGNAL_FILES if os.path.lexists(os.path.join(data_dir, name))]


@contextlib.contextmanager
def signals_aside(module, data_dir, temp=None, owner=None):
    """Move the signal files to <name>.pgstream-aside for the block and put them back afterwards.

    temp: {name: content} of files written for the block only (owned by owner when root) and removed afterwards.
    Yields the names moved. A leftover <name>.pgstream-aside from an interrupted run is put back first.
    """
    for name in SIGNAL_FILES:
        aside = os.path.join(data_dir, name + ASIDE_SUFFIX)
        if os.path.lexists(aside) and not os.path.lexists(os.path.join(data_dir, name)):
            os.rename(aside, os.path.join(data_dir, name))
    moved, written = [], []
    try:
        for name in signal_files(data_dir):
            os.rename(os.path.join(data_dir, name), os.path.join(data_dir, name + ASIDE_SUFFIX))
            moved.append(name)
        for name, content in (temp or {}).items():
            path = os.path.join(data_dir, name)
            with open(path, 'w') as f:
                f.write(content)
            written.append(path)
            os.chmod(path, 0o600)
            if owner is not None and os.geteuid() == 0:
                os.chown(path, owner.pw_uid, owner.pw_gid)
        yield list(moved)
    finally:
        errors = []
        for path in written:
            try:
                os.unlink(path)
            except OSError as e:
                errors.append('%s: %s' % (os.path.basename(path), e))
        for name in moved:
            try:
                os.rename(os.path.join(data_dir, name + ASIDE_SUFFIX), os.path.join(data_dir, name))
            except OSError as e:
                errors.append('%s: %s' % (name, e))
        if errors:
            module.fail_json(msg='could not restore the signal files of %s (%s); before starting the server remove the '
                             'temporary %s and rename %s back by hand'
                             % (data_dir, '; '.join(errors), ', '.join(os.path.basename(w) for w in written) or '-',
                                ', '.join(n + ASIDE_SUFFIX for n in moved) or '-'))


def keep_wal_setting(major):
    """A setting that keeps the checkpoint of the recovery from removing or recycling old WAL segments, which
    pg_rewind needs from the last common checkpoint on: wal_keep_size (13+) or wal_keep_segments (10-12), about 1 TB."""
    if major is not None and int(str(major).split('.', maxsplit=1)[0]) < 13:
        return 'wal_keep_segments=%d' % KEEP_WAL_SEGMENTS
    return 'wal_keep_size=%d' % (KEEP_WAL_SEGMENTS * 16)


def crash_recover(module, bindir, data_dir, config_file, owner):
    """Bring a crashed primary's data directory to a clean shutdown by starting and stopping it once in single-user
    mode: `postgres --single -D data_dir -c config_file=... template1` with an empty stdin, run as owner, the signal
    files moved aside meanwhile (single-user mode refuses standby mode).

    Crash recovery ends with a checkpoint record written at the end of the local WAL; use standby_recover() for a
    standby, whose WAL must stay a prefix of its upstream's. Returns (rc, out, err, argv, moved signal files)."""
    argv = as_owner(module, owner, [os.path.join(bindir, 'postgres'), '--single', '-D', data_dir,
                                    '-c', 'config_file=%s' % config_file, '-c', keep_wal_setting(data_dir_major(data_dir)),
                                    'template1'])
    with signals_aside(module, data_dir) as moved:
        # A blank line as stdin: the backend reads it, then end of input, and shuts down with a checkpoint.
        rc, out, err = run(module, argv, env=C_LOCALE, cwd='/', data='\n')
    return rc, out, err, argv, moved


def _sh_quote(value):
    """Quote for the shell command line pg_ctl builds from its -o options."""
    return "'%s'" % str(value).replace("'", "'\\''")


_RESTORE_COMMAND = re.compile(r'^\s*restore_command\s*=', re.M)


def temp_standby_config(data_dir, major):
    """{file: content} that makes data_dir start as a standby without an upstream: standby.signal (12+), or a
    recovery.conf with standby_mode on and the restore_command of the existing recovery.conf (10, 11)."""
    if int(str(major).split('.', maxsplit=1)[0]) >= 12:
        return {'standby.signal': ''}
    content = "standby_mode = 'on'\n"
    try:
        with open(os.path.join(data_dir, 'recovery.conf')) as f:
            content += ''.join(line if line.endswith('\n') else line + '\n' for line in f.read().splitlines(True)
                               if _RESTORE_COMMAND.match(line))
    except (IOError, OSError):
        pass
    return {'recovery.conf': content}


def standby_recover(module, bindir, data_dir, config_file, owner, major, timeout, logfile):
    """Bring a crashed standby (or a rewound, never started) data directory to `shut down in recovery` without writing
    WAL: start it once as a standby without an upstream (`pg_ctl start -w` with hot_standby=on returns once recovery
    is consistent; no primary_conninfo, listen_addresses empty), then `pg_ctl stop -m fast`.

    The signal files are moved aside and a temporary standby configuration (temp_standby_config) is used meanwhile.
    The server log goes to logfile (created by the caller, writable by owner).
    owner is the pwd entry of the data directory's owner. Returns dict(ok, steps=[(argv, rc, out, err)], moved)."""
    name = owner.pw_name
    pg_ctl = os.path.join(bindir, 'pg_ctl')
    opts = ['-c config_file=%s' % _sh_quote(config_file), "-c listen_addresses=''", '-c hot_standby=on',
            '-c %s' % keep_wal_setting(major)]
    if int(str(major).split('.', maxsplit=1)[0]) >= 12:
        opts += ["-c primary_conninfo=''", "-c primary_slot_name=''"]
    start = as_owner(module, name,
                     [pg_ctl, 'start', '-D', data_dir, '-w', '-t', str(timeout), '-l', logfile, '-o', ' '.join(opts)])
    steps = []
    ok = False
    with signals_aside(module, data_dir, temp=temp_standby_config(data_dir, major), owner=owner) as moved:
        rc, out, err = run(module, start, env=C_LOCALE, cwd='/')
        steps.append((start, rc, out, err))
        started = rc == 0
        # pg_ctl start -w may time out while the server keeps recovering: stop it in any case
        for mode in ('fast', 'immediate'):
            stop = as_owner(module, name, [pg_ctl, 'stop', '-D', data_dir, '-m', mode, '-w', '-t', str(timeout)])
            rc, out, err = run(module, stop, env=C_LOCALE, cwd='/')
            steps.append((stop, rc, out, err))
            if rc == 0 or 'Is server running?' in (out or '') + (err or ''):
                ok = started and rc == 0 and mode == 'fast'
                break
    return dict(ok=ok, steps=steps, moved=moved)
