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

# Files that put a server into standby/archive recovery; single-user mode refuses standby mode.
SIGNAL_FILES = ('standby.signal', 'recovery.signal', 'recovery.conf')
# Suffix of a signal file while it is moved aside.
ASIDE_SUFFIX = '.pgstream-aside'
DEBIAN_CONFIGS = '/etc/postgresql/*/*/postgresql.conf'
CLEAN_STATES = ('shut down', 'shut down in recovery')
C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C', 'LC_MESSAGES': 'C'}

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
def signals_aside(module, data_dir):
    """Move the signal files to <name>.pgstream-aside for the block and put them back afterwards.

    Yields the names moved. A leftover <name>.pgstream-aside from an interrupted run is put back first.
    """
    for name in SIGNAL_FILES:
        aside = os.path.join(data_dir, name + ASIDE_SUFFIX)
        if os.path.lexists(aside) and not os.path.lexists(os.path.join(data_dir, name)):
            os.rename(aside, os.path.join(data_dir, name))
    moved = []
    try:
        for name in signal_files(data_dir):
            os.rename(os.path.join(data_dir, name), os.path.join(data_dir, name + ASIDE_SUFFIX))
            moved.append(name)
        yield list(moved)
    finally:
        errors = []
        for name in moved:
            try:
                os.rename(os.path.join(data_dir, name + ASIDE_SUFFIX), os.path.join(data_dir, name))
            except OSError as e:
                errors.append('%s: %s' % (name, e))
        if errors:
            module.fail_json(msg='could not put the signal files of %s back (%s); rename %s back by hand before starting '
                             'the server' % (data_dir, '; '.join(errors), ', '.join(n + ASIDE_SUFFIX for n in moved)))


def crash_recover(module, bindir, data_dir, config_file, owner):
    """Bring a crashed (not cleanly shut down) data directory to a clean shutdown by starting and stopping it once
    in single-user mode: `postgres --single -D data_dir -c config_file=... template1` with an empty stdin, run as
    owner, the signal files moved aside meanwhile. Returns (rc, out, err, argv, moved signal files)."""
    argv = as_owner(module, owner, [os.path.join(bindir, 'postgres'), '--single', '-D', data_dir,
                                    '-c', 'config_file=%s' % config_file, 'template1'])
    with signals_aside(module, data_dir) as moved:
        # A blank line as stdin: the backend reads it, then end of input, and shuts down with a checkpoint.
        rc, out, err = run(module, argv, env=C_LOCALE, cwd='/', data='\n')
    return rc, out, err, argv, moved
