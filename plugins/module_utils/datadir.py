# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data-directory housekeeping for the basebackup and recovery_config modules: what is at the target, moving it
aside, the running-postmaster guard, the standby configuration, the password file of a standby and atomic writes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import tempfile
import time

from ansible_collections.pgstream.replication.plugins.module_utils.commands import pgpass_merge
from ansible_collections.pgstream.replication.plugins.module_utils.recovery import (
    merge_settings, render_settings, standby_files)
from ansible_collections.pgstream.replication.plugins.module_utils.version import data_dir_major

MODES = (0o700, 0o750)


def parse_mode(value):
    """'0700', '700', 0o700 (448) -> 0o700; None for anything PostgreSQL would refuse."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        mode = value
    else:
        try:
            mode = int(str(value).strip(), 8)
        except ValueError:
            return None
    return mode if mode in MODES else None


def postmaster_pid(data_dir):
    """PID of a live postmaster on data_dir (from postmaster.pid), else None."""
    try:
        with open(os.path.join(data_dir, 'postmaster.pid')) as f:
            pid = int(f.readline().strip())
    except (IOError, OSError, ValueError):
        return None
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def check_no_postmaster(module, data_dir):
    pid = postmaster_pid(data_dir)
    if pid:
        module.fail_json(msg='a postmaster (pid %d) is running on %s; stop it first (refused even with force)' % (pid, data_dir))


def inspect_target(module, data_dir):
    """'absent', 'empty', 'cluster' (has global/pg_control) or 'other' (non-empty); fails for non-directories."""
    if os.path.islink(data_dir):
        module.fail_json(msg='%s is a symbolic link; give the real path of the data directory' % data_dir)
    if not os.path.lexists(data_dir):
        return 'absent'
    if not os.path.isdir(data_dir):
        module.fail_json(msg='%s exists and is not a directory' % data_dir)
    if os.path.isfile(os.path.join(data_dir, 'global', 'pg_control')):
        return 'cluster'
    try:
        return 'other' if os.listdir(data_dir) else 'empty'
    except OSError as e:
        module.fail_json(msg='cannot read %s: %s' % (data_dir, e))


def moved_aside_path(data_dir, now=None):
    """<data_dir>.moved-YYYYmmddTHHMMSS, with -1, -2... appended when that already exists."""
    base = '%s.moved-%s' % (data_dir, time.strftime('%Y%m%dT%H%M%S', time.localtime(now)))
    path, n = base, 0
    while os.path.lexists(path):
        n += 1
        path = '%s-%d' % (base, n)
    return path


def ensure_parent(module, data_dir, owner):
    """Create missing parent directories of data_dir (0755, owned by owner when running as root)."""
    missing = []
    parent = os.path.dirname(data_dir)
    while parent and not os.path.isdir(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o755)
            if os.geteuid() == 0:
                os.chown(path, owner.pw_uid, owner.pw_gid)
        except OSError as e:
            module.fail_json(msg='cannot create the parent directory %s of %s: %s' % (path, data_dir, e))
    return missing


def chown_tree(path, owner):
    """chown -R path to owner (no-op unless running as root)."""
    if os.geteuid() != 0:
        return
    os.lchown(path, owner.pw_uid, owner.pw_gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), owner.pw_uid, owner.pw_gid)


def dir_size(path):
    """Total size in bytes of the files under path (symlinks not followed)."""
    total = 0
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_recovery(module, data_dir, conninfo, slot_name=None):
    """Make data_dir a standby (standby.signal + postgresql.auto.conf, or recovery.conf). Returns the files written."""
    major = data_dir_major(data_dir)
    if major is None:
        module.fail_json(msg='%s has no PG_VERSION after the clone' % data_dir)
    files = standby_files(major, conninfo, slot_name=slot_name)
    written = []
    if files['signal']:
        open(os.path.join(data_dir, files['signal']), 'a').close()
        written.append(files['signal'])
    conf = os.path.join(data_dir, files['conf'])
    if files['conf'] == 'postgresql.auto.conf':
        existing = ''
        if os.path.exists(conf):
            with open(conf) as f:
                existing = f.read()
        content = merge_settings(existing, files['settings'])
    else:
        content = render_settings(files['settings'])
    with open(conf, 'w') as f:
        f.write(content)
    written.append(files['conf'])
    return written


def read_text(module, path, what):
    """Content of path, or None when it does not exist; fails clearly when it cannot be read."""
    if not os.path.lexists(path):
        return None
    try:
        with open(path) as f:
            return f.read()
    except (IOError, OSError) as e:
        module.fail_json(msg='cannot read the %s %s: %s' % (what, path, e))


def write_file_atomic(path, content, owner, mode=0o600):
    """Replace path with content atomically: a temporary file in the same directory (mode, owned by owner when
    running as root), fsynced, renamed over path, directory fsynced. Raises OSError (the temporary file is removed)."""
    directory = os.path.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, 'w') as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        if os.geteuid() == 0:
            os.chown(tmp, owner.pw_uid, owner.pw_gid)
        os.rename(tmp, path)
    except (IOError, OSError):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(directory)


def ensure_passfile_entry(module, path, owner, host, port, user, password, check_mode=False):
    """Ensure the password file path holds the entry host:port:*:user:password (other entries kept), mode 0600,
    owned by owner. Returns changed; writes nothing in check mode."""
    existing = read_text(module, path, 'password file')
    content = pgpass_merge(existing or '', host, port, user, password)
    changed = existing != content
    if existing is not None and not changed:
        st = os.stat(path)
        changed = (st.st_mode & 0o777) != 0o600 or (os.geteuid() == 0 and (st.st_uid, st.st_gid) != (owner.pw_uid, owner.pw_gid))
    if not changed or check_mode:
        return changed
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        module.fail_json(msg='cannot write the password file %s: directory %s does not exist' % (path, directory))
    try:
        write_file_atomic(path, content, owner, 0o600)
    except (IOError, OSError) as e:
        module.fail_json(msg='cannot write the password file %s: %s' % (path, e))
    return True


def write_passfile(module, path, owner, check_mode=False):
    """basebackup: ensure path holds the replication entry of primary_host/primary_port/replication_user
    (other entries kept), mode 0600, owned by owner. Returns changed."""
    p = module.params
    return ensure_passfile_entry(module, path, owner, p['primary_host'], p['primary_port'], p['replication_user'],
                                 p['replication_password'], check_mode=check_mode)


def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)
