# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL timeline history files (``pg_wal/00000003.history``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

# As timeline.c's readTimeLineHistory() reads a line: "<parent TLI>\t<switch point>\t<reason>"; blank lines and lines
# starting with '#' are skipped.
_ENTRY_RE = re.compile(r'^\s*(\d+)\s+([0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8})')


def history_file_name(timeline):
    """'pg_wal/00000003.history' for timeline 3 (the path pg_read_file() takes, relative to the data directory)."""
    timeline = int(timeline)
    if timeline < 1 or timeline > 0xFFFFFFFF:
        raise ValueError('invalid timeline: %r' % (timeline,))
    return 'pg_wal/%08X.history' % timeline


def parse_history(text):
    """[(parent timeline, switch point 'X/X'), ...] in file order. Raises ValueError on a line it cannot read."""
    entries = []
    for line in (text or '').splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            continue
        match = _ENTRY_RE.match(stripped)
        if not match:
            raise ValueError('not a timeline history line: %r' % line)
        entries.append((int(match.group(1)), match.group(2).upper()))
    return entries


def timeline_start(text):
    """The LSN ('X/X') where the timeline of this history file began: the switch point of its last entry.
    None for a file without entries."""
    entries = parse_history(text)
    return entries[-1][1] if entries else None
