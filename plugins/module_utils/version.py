# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL major versions and where their binaries live."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os


def major_from_num(num):
    """server_version_num -> major: 150004 -> 15 (int), 90624 -> '9.6' (str, before 10)."""
    try:
        num = int(num)
    except (TypeError, ValueError):
        raise ValueError('invalid server_version_num: %r' % (num,))
    if num < 10000:
        raise ValueError('invalid server_version_num: %r' % (num,))
    if num >= 100000:
        return num // 10000
    return '%d.%d' % (num // 10000, (num // 100) % 100)


def major_key(major):
    """Sortable/comparable form of a major ('9.6' -> (9, 6), 15 -> (15,))."""
    return tuple(int(p) for p in str(major).split('.'))


def data_dir_major(data_dir):
    """The major version in data_dir/PG_VERSION ('15', '9.6'), or None when absent or unreadable."""
    try:
        with open(os.path.join(data_dir, 'PG_VERSION')) as f:
            value = f.read().strip()
    except (IOError, OSError):
        return None
    return value or None


def _has_pg_ctl(path):
    return os.path.isfile(os.path.join(path, 'pg_ctl')) and os.access(os.path.join(path, 'pg_ctl'), os.X_OK)


def candidate_bindirs(major=None):
    """Directories searched, in order, for a given major (or every installed major, newest first)."""
    if major is not None:
        major = str(major)
        return ['/usr/lib/postgresql/%s/bin' % major, '/usr/pgsql-%s/bin' % major, '/usr/local/pgsql/bin']
    found = []
    for pattern in ('/usr/lib/postgresql/*/bin', '/usr/pgsql-*/bin'):
        for path in glob.glob(pattern):
            name = path.split('/')[-2].replace('pgsql-', '')
            try:
                found.append((major_key(name), path))
            except ValueError:
                continue
    return [p for dummy, p in sorted(found, reverse=True)] + ['/usr/local/pgsql/bin']


def find_bindir(module, major=None, bindir=None):
    """The directory holding pg_ctl & co.

    Order: explicit bindir; /usr/lib/postgresql/<major>/bin; /usr/pgsql-<major>/bin; /usr/local/pgsql/bin;
    then the directory of pg_ctl on PATH. Without major, installed majors are tried newest first.
    """
    if bindir:
        if not os.path.isdir(bindir):
            module.fail_json(msg='bindir %s does not exist or is not a directory' % bindir)
        return bindir
    candidates = candidate_bindirs(major)
    for path in candidates:
        if _has_pg_ctl(path):
            return path
    pg_ctl = module.get_bin_path('pg_ctl')
    if pg_ctl:
        return os.path.dirname(pg_ctl)
    module.fail_json(msg='cannot find the PostgreSQL %sbinaries (pg_ctl): searched %s and PATH; set bindir or pg_major'
                     % ('%s ' % major if major is not None else '', ', '.join(candidates)))
