# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL WAL positions (LSN): ``'16/B374D848'`` <-> 64-bit int."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

_LSN_RE = re.compile(r'^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$')
MAX_LSN = (1 << 64) - 1


def parse_lsn(value):
    """'16/B374D848' -> int. Raises ValueError for anything else (ints are checked and returned)."""
    if isinstance(value, bool):
        raise ValueError('invalid LSN: %r' % (value,))
    if isinstance(value, int):
        if 0 <= value <= MAX_LSN:
            return value
        raise ValueError('LSN out of range: %r' % (value,))
    if not isinstance(value, str):
        raise ValueError('invalid LSN: %r' % (value,))
    match = _LSN_RE.match(value.strip())
    if not match:
        raise ValueError('invalid LSN: %r' % (value,))
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def format_lsn(value):
    """int -> 'X/X' as PostgreSQL prints it (upper-case hex, no padding)."""
    value = parse_lsn(value)
    return '%X/%X' % (value >> 32, value & 0xFFFFFFFF)


def lsn_diff(a, b):
    """a - b in bytes; both may be LSN strings or ints."""
    return parse_lsn(a) - parse_lsn(b)
