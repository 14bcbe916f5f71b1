# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a data directory's pg_control through pg_controldata."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.pgstream.replication.plugins.module_utils.commands import run

# pg_controldata's messages are translated: always run it in the C locale.
C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C', 'LC_MESSAGES': 'C'}

_KEYS = {
    'system_identifier': 'Database system identifier',
    'cluster_state': 'Database cluster state',
    'timeline': "Latest checkpoint's TimeLineID",
    'checkpoint_lsn': 'Latest checkpoint location',
    'redo_lsn': "Latest checkpoint's REDO location",
    'min_recovery_end_lsn': 'Minimum recovery ending location',
}


def _on(value):
    return str(value).strip().lower() in ('on', 'true', 'yes', '1')


def parse(text):
    """Parse pg_controldata output (C locale) into a dict; see the module_utils contract for the keys."""
    raw = {}
    for line in (text or '').splitlines():
        if ':' not in line:
            continue
        key, value = line.split(':', 1)
        raw[key.strip()] = value.strip()
    if _KEYS['system_identifier'] not in raw:
        raise ValueError('not pg_controldata output: no "%s" line' % _KEYS['system_identifier'])
    result = dict((name, raw.get(key)) for name, key in _KEYS.items())
    try:
        result['timeline'] = int(result['timeline']) if result['timeline'] is not None else None
    except ValueError:
        raise ValueError('invalid TimeLineID: %r' % result['timeline'])
    result['wal_log_hints'] = _on(raw.get('wal_log_hints setting', 'off'))
    checksum = raw.get('Data page checksum version', '0')
    result['data_checksums'] = checksum.isdigit() and int(checksum) > 0
    result['full_page_writes'] = _on(raw.get("Latest checkpoint's full_page_writes", 'on'))
    result['raw'] = raw
    return result


def read(module, data_dir, bindir):
    """pg_controldata of data_dir as a dict (see parse), or None when data_dir has no global/pg_control."""
    if not os.path.isfile(os.path.join(data_dir, 'global', 'pg_control')):
        return None
    argv = [os.path.join(bindir, 'pg_controldata'), '-D', data_dir]
    rc, out, err = run(module, argv, env=C_LOCALE)
    if rc != 0:
        module.fail_json(msg='pg_controldata failed on %s (rc=%d): %s' % (data_dir, rc, (err or out).strip()),
                         cmd=' '.join(argv), rc=rc)
    try:
        return parse(out)
    except ValueError as e:
        module.fail_json(msg='cannot parse pg_controldata output for %s: %s' % (data_dir, e), cmd=' '.join(argv))
