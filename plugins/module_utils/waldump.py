# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the last WAL record a standby holds, with pg_waldump.

Used to tell, on a standby, that its upstream has shut down cleanly: the last record the standby received
is then the upstream's CHECKPOINT_SHUTDOWN (a fast or smart shutdown writes it last, and the walsenders send
it before they exit).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.pgstream.replication.plugins.module_utils.commands import run
from ansible_collections.pgstream.replication.plugins.module_utils.lsn import format_lsn, parse_lsn

PAGE = 8192
SEGMENT = 16 * 1024 * 1024
# pg_waldump's record lines (PostgreSQL 10-18):
# rmgr: XLOG len (rec/tot): 114/ 114, tx: 0, lsn: 0/015262A0, prev 0/01526228, desc: CHECKPOINT_SHUTDOWN redo ...
_RECORD_RE = re.compile(r'^rmgr:\s*(?P<rmgr>\S+)\s+len \(rec/tot\):\s*(?P<rec>\d+)/\s*(?P<tot>\d+), tx:\s*(?P<xid>\d+), '
                        r'lsn: (?P<lsn>[0-9A-Fa-f]+/[0-9A-Fa-f]+), prev (?P<prev>[0-9A-Fa-f]+/[0-9A-Fa-f]+), '
                        r'desc: (?P<type>\S*)')
# A record that crosses a page boundary ends a page header (at most 40 bytes) plus alignment later than lsn + tot.
END_SLACK = 64


def parse_records(text):
    """pg_waldump output -> list of dicts (rmgr, type, lsn, end, tot_len), in order."""
    records = []
    for line in (text or '').splitlines():
        match = _RECORD_RE.match(line.strip())
        if not match:
            continue
        start = parse_lsn(match.group('lsn'))
        tot = int(match.group('tot'))
        records.append(dict(rmgr=match.group('rmgr'), type=match.group('type'), lsn=format_lsn(start),
                            end=format_lsn(start + tot), tot_len=tot))
    return records


def tail_start(end_lsn, segment_size=SEGMENT):
    """Where to start reading so that the record ending at end_lsn is found: one page before the page holding
    end_lsn - 1, not before the start of its segment (the one before may already be recycled)."""
    last = parse_lsn(end_lsn) - 1
    return format_lsn(max(last - last % segment_size, last - last % PAGE - PAGE))


def tail_argv(bindir, wal_dir, timeline, end_lsn, segment_size=SEGMENT):
    return [os.path.join(bindir, 'pg_waldump'), '--path', wal_dir, '--timeline', str(int(timeline)),
            '--start', tail_start(end_lsn, segment_size), '--end', format_lsn(end_lsn)]


def last_record(module, bindir, wal_dir, timeline, end_lsn, segment_size=SEGMENT):
    """The last complete record before end_lsn (a dict as parse_records gives, plus ``ends_at_end``: whether
    nothing but padding follows it up to end_lsn), or None when pg_waldump finds none. Never fails the module:
    a pg_waldump error is returned as ``{'error': ...}``."""
    argv = tail_argv(bindir, wal_dir, timeline, end_lsn, segment_size)
    rc, out, err = run(module, argv, env={'LC_ALL': 'C', 'LANG': 'C'})
    records = parse_records(out)
    if rc != 0 and not records:
        return dict(error='%s (rc=%d)' % ((err or out).strip(), rc))
    if not records:
        return None
    record = records[-1]
    record['ends_at_end'] = 0 <= parse_lsn(end_lsn) - parse_lsn(record['end']) < END_SLACK
    return record


def is_clean_shutdown_end(record):
    """True when record (from last_record) is a CHECKPOINT_SHUTDOWN with nothing after it."""
    return bool(record) and record.get('type') == 'CHECKPOINT_SHUTDOWN' and record.get('ends_at_end', False)
