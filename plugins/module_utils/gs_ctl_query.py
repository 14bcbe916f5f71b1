# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsing the output of openGauss ``gs_ctl query`` (and ``gs_ctl querybuild``).

Pure Python, no I/O. ``parse_query(text)`` never raises on text input: whatever it cannot
place is kept (``log_lines``, ``unparsed``) and anything unexpected is reported in ``warnings``.

What the output looks like (openGauss-server ``src/bin/pg_ctl/pg_ctl.cpp`` ``do_query()``, which
prints the section titles with ``" %-20s\\n"``, and ``src/bin/pg_ctl/streamutil.cpp`` ``exe_sql()``,
which prints one ``"\\t%-30s : %s\\n"`` line per column, a blank line after each row, and
``No information`` when a query returns no row)::

    [2022-06-28 12:42:24.316][8790][][gs_ctl]: gs_ctl query ,datadir is /data/og
     HA state:
    <TAB>local_role                     : Primary
    ...
     Senders info:
    <TAB>sender_pid                     : 8784
    ...
     Receiver info:
    No information

When gs_ctl cannot connect it prints ``display_query()``'s variant instead (eight spaces, no space
before the colon, an extra ``sync_mode`` line). Releases from 2020 prefixed log lines with
``2020-07-25 10:13:04  38232 gs_ctl:`` instead of ``[...][pid][node][gs_ctl]:``; both are handled.

All values are kept as the strings gs_ctl printed (LSNs such as ``0/1002E430`` too).
The known value sets below are copied from the openGauss source; a value outside them is kept
as printed and reported in ``warnings``, never guessed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

# ServerMode strings: pg_ctl.cpp serverModeMap / get_string_by_mode(), and
# walreceiverfuncs.cpp wal_get_role_string() (which adds "Main Standby").
SERVER_MODES = frozenset([
    'Normal', 'Primary', 'Standby', 'Cascade Standby', 'Main Standby', 'Pending', 'Unknown',
])
# DbState strings: pg_ctl.cpp dbStateMap / get_string_by_state(), postmaster.cpp wal_get_db_state_string().
DB_STATES = frozenset([
    'Normal', 'Unknown', 'Need repair', 'Starting', 'Wait promoting', 'Demoting', 'Promoting',
    'Building', 'Catchup', 'Coredump',
])
# db_state values printed only by display_build_query() (gs_ctl querybuild).
BUILD_QUERY_DB_STATES = frozenset(['Build failed', 'Building', 'Build completed'])
# HA rebuild reasons: walreceiverfuncs.cpp wal_get_rebuild_reason_string() and
# wal_get_ha_rebuild_reason_with_dummy()/_with_multi() (which add "Connecting..." and "Disconnected").
DETAIL_INFORMATION = frozenset([
    'Normal', 'WAL segment removed', 'Disconnected', 'Version not matched', 'Mode not matched',
    'System id not matched', 'Timeline not matched', 'DCF log loss', 'Unknown', 'Connecting...',
])
# WalSndState strings: walsender.cpp WalSndGetStateString().
WALSENDER_STATES = frozenset(['Startup', 'Backup', 'Catchup', 'Streaming', 'Unknown'])
# peer_role of a sender row: walsender.cpp pg_stat_get_wal_senders() literals.
SENDER_PEER_ROLES = frozenset(['Standby', 'Cascade Standby', 'Secondary', 'StandbyCluster_Standby'])
# sync_state of a sender row: pg_stat_get_wal_senders() literals.
SYNC_STATES = frozenset(['Sync', 'Async', 'Potential', 'Quorum'])
ON_OFF = frozenset(['On', 'Off'])
# sync_mode of display_query()/display_build_query(): pg_ctl.cpp get_string_by_sync_mode().
SYNC_MODES = frozenset(['Sync', 'Async'])

# Which field of which section is checked against which set.
_CHECKS = {
    'ha_state': {
        'local_role': SERVER_MODES,
        'db_state': DB_STATES | BUILD_QUERY_DB_STATES,
        'detail_information': DETAIL_INFORMATION,
        'sync_mode': SYNC_MODES,
    },
    'senders': {
        'local_role': SERVER_MODES,
        'peer_role': SERVER_MODES | SENDER_PEER_ROLES,
        'peer_state': DB_STATES,
        'state': WALSENDER_STATES,
        'sync_state': SYNC_STATES,
        'sync_most_available': ON_OFF,
    },
    'receiver': {
        'local_role': SERVER_MODES,
        'peer_role': SERVER_MODES,
        'peer_state': DB_STATES,
        'state': DB_STATES,
    },
}

# Section titles printed by do_query(), display_query(), display_build_query().
_SECTIONS = {
    'ha state': 'ha_state',
    'senders info': 'senders',
    'receiver info': 'receiver',
    'build state': 'build_state',
    'paxos replication info': 'paxos_replication_info',
}
# Rows start with this key; a repeated key also starts a new row.
_ROW_START = {'senders': 'sender_pid', 'receiver': 'receiver_pid'}

# "[2020-06-30 09:54:41.744][178541][node][gs_ctl]: msg" (pg_rewind/logging.cpp pg_log_v())
_LOG_NEW = re.compile(r'^\s*\[\d{4}-\d{2}-\d{2} [0-9:.]+[^\]]*\]\[\d+\]\[[^\]]*\]\[[^\]]*\]:\s?(.*)$')
# "2020-07-25 10:13:04  38232 gs_ctl:msg" (gs_ctl of 2020 builds, as in the field samples)
_LOG_OLD = re.compile(r'^\s*\.*\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s+\d+\s+[\w.-]+:\s?(.*)$')
_HEADER = re.compile(r'^([A-Za-z][A-Za-z]*(?: [A-Za-z]+)+)\s*:$')
_KEY_VALUE = re.compile(r'^([A-Za-z_][A-Za-z0-9_ -]*?)\s*:\s?(.*)$')
_NO_INFO = re.compile(r'^no information\s*$', re.IGNORECASE)
# main()'s first message when the log prefix was cut off, e.g. "gs_ctl query ,datadir is /data"
_BARE_LOG = re.compile(r'^gs_ctl [\w ]+,\s*datadir is ')


def _to_text(text):
    if text is None:
        return ''
    if isinstance(text, bytes):
        return text.decode('utf-8', 'replace')
    if not isinstance(text, str):
        return str(text)
    return text


def _snake(key):
    return re.sub(r'[\s-]+', '_', key.strip()).lower()


def _empty_result():
    return {
        'ha_state': None,
        'senders': [],
        'receiver': None,
        'build_state': None,
        'other_sections': {},
        'no_information': [],
        'log_lines': [],
        'unparsed': [],
        'warnings': [],
    }


class _State(object):
    """Mutable parse position: current section and current row."""

    def __init__(self):
        self.section = None
        self.row = None
        self.rows = {}
        self.seen = []


def _split_log_prefix(line):
    """Return (message, True) for a gs_ctl log line, else (line, False)."""
    for pattern in (_LOG_NEW, _LOG_OLD):
        match = pattern.match(line)
        if match:
            return match.group(1), True
    return line, bool(_BARE_LOG.match(line.strip()))


def _start_section(state, name, result):
    if name in state.seen:
        result['warnings'].append("section %r appears more than once; the first one is kept" % name)
        state.section = '_duplicate'
    else:
        state.seen.append(name)
        state.section = name
        state.rows[name] = []
    state.row = None


def _add_pair(state, key, value, result):
    if state.section is None:
        result['unparsed'].append('%s : %s' % (key, value))
        result['warnings'].append('key %r appears outside any section' % key)
        return
    if state.section == '_duplicate':
        return
    rows = state.rows[state.section]
    start = _ROW_START.get(state.section)
    if state.row is None or key in state.row or (start is not None and key == start and state.row):
        state.row = {}
        rows.append(state.row)
    state.row[key] = value


def _lines(text):
    return text.replace('\r\n', '\n').replace('\r', '\n').split('\n')


def _feed(text, result):
    state = _State()
    for raw in _lines(text):
        message, is_log = _split_log_prefix(raw)
        stripped = message.strip()
        if not stripped:
            state.row = None  # exe_sql() prints a blank line after every row
            continue
        if _NO_INFO.match(stripped):
            if state.section and state.section != '_duplicate':
                result['no_information'].append(state.section)
            else:
                result['warnings'].append("'No information' outside any section")
            continue
        if is_log:
            result['log_lines'].append(raw.strip())
            if 'exc_sql failed' in stripped:
                result['warnings'].append('gs_ctl reported: %s' % stripped)
            continue
        header = _HEADER.match(stripped)
        if header:
            title = header.group(1).lower()
            _start_section(state, _SECTIONS.get(title, _snake(title)), result)
            continue
        pair = _KEY_VALUE.match(stripped)
        if pair and ' ' not in pair.group(1).strip():
            _add_pair(state, _snake(pair.group(1)), pair.group(2).strip(), result)
            continue
        result['unparsed'].append(raw.strip())
    return state


def _store(state, result):
    for name in state.seen:
        rows = state.rows.get(name, [])
        if name in result['no_information'] and rows:
            result['warnings'].append("section %r says 'No information' but also has data" % name)
        if not rows and name not in result['no_information']:
            result['warnings'].append("section %r is empty (no rows and no 'No information')" % name)
        if name == 'senders':
            result['senders'] = rows
        elif name in ('ha_state', 'receiver', 'build_state'):
            if len(rows) > 1:
                result['warnings'].append('section %r has %d rows; only the first is kept' % (name, len(rows)))
            result[name] = rows[0] if rows else None
        else:
            result['other_sections'][name] = rows


def _check_values(result):
    warnings = result['warnings']
    ha_state = result['ha_state']
    targets = [('ha_state', ha_state)] if ha_state else []
    targets += [('senders', row) for row in result['senders']]
    if result['receiver']:
        targets.append(('receiver', result['receiver']))
    for section, row in targets:
        for key, allowed in _CHECKS[section].items():
            if key not in row:
                continue
            if key == 'detail_information' and 'sync_mode' in row:
                continue  # display_query() puts libpq's error text (or "Access denied") here
            if row[key] not in allowed:
                warnings.append('unknown %s.%s value %r' % (section, key, row[key]))
    if ha_state is None:
        warnings.append("no ' HA state:' block found")
    else:
        for key in ('local_role', 'db_state'):
            if key not in ha_state:
                warnings.append('HA state has no %s' % key)
    for index, row in enumerate(result['senders']):
        if 'sender_pid' not in row:
            warnings.append('sender #%d has no sender_pid' % (index + 1))


def parse_query(text):
    """Parse ``gs_ctl query`` output into a dict; never raises on text input.

    Returns a dict with:

    - ``ha_state``: dict of the ` HA state:` block (``local_role``, ``static_connections``,
      ``db_state``, ``detail_information``, any other key as printed) or None;
    - ``senders``: list of dicts, one per ` Senders info:` row (``sender_pid``, ``local_role``,
      ``peer_role``, ``peer_state``, ``state``, the eight ``*_location`` keys, ``sync_percent``,
      ``sync_state``, ``sync_priority``, ``sync_most_available``, ``channel``, ...);
    - ``receiver``: dict of the ` Receiver info:` row or None;
    - ``build_state``: dict of ``gs_ctl querybuild``'s ` Build state:` block or None;
    - ``other_sections``: {snake_case title: [rows]} for any other title (e.g. Paxos/DCF mode);
    - ``no_information``: section names for which gs_ctl printed ``No information``;
    - ``log_lines``: gs_ctl log lines (``[...][pid][][gs_ctl]: ...``), as printed;
    - ``unparsed``: other non-blank lines that are not part of the format;
    - ``warnings``: list of strings (unknown values, missing blocks, oddities).

    Keys are snake_case as gs_ctl prints them; values are the printed strings.
    """
    result = _empty_result()
    try:
        text = _to_text(text)
        if not text.strip():
            result['warnings'].append('empty gs_ctl query output')
            return result
        state = _feed(text, result)
        _store(state, result)
        _check_values(result)
    except Exception as exc:  # pylint: disable=broad-except
        # A parser bug must not take a module down: report it like any other oddity.
        result['warnings'].append('parser error: %s: %s' % (type(exc).__name__, exc))
    return result


def parse_channel(channel):
    """Split a channel such as ``10.0.0.1:26001-->10.0.0.2:51926`` (sender) or
    ``10.0.0.2:51926<--10.0.0.1:26001`` (receiver) into a dict, or None if it is not one.

    ``local`` is always this node's end; ``direction`` is ``out`` (sender) or ``in`` (receiver).
    """
    if not isinstance(channel, str):
        return None
    for arrow, direction in (('-->', 'out'), ('<--', 'in')):
        if arrow in channel:
            local, remote = channel.split(arrow, 1)
            ends = []
            for end in (local.strip(), remote.strip()):
                host, sep, port = end.rpartition(':')
                if not sep or not host or not port.isdigit():
                    return None
                ends.append((host, int(port)))
            return {
                'direction': direction,
                'local_host': ends[0][0], 'local_port': ends[0][1],
                'remote_host': ends[1][0], 'remote_port': ends[1][1],
            }
    return None


_ROLE_SUMMARY = {
    'Primary': 'primary',
    'Normal': 'primary',  # a node started without -M: read-write, no replication role
    'Standby': 'standby',
    'Main Standby': 'standby',  # first standby of a disaster-recovery cluster
    'Cascade Standby': 'cascade_standby',
    'Pending': 'pending',
}


def _dict_or_none(value):
    return value if isinstance(value, dict) else None


def _to_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def summary(parsed):
    """Condense ``parse_query()``'s result for decisions.

    Returns ``role`` (primary, standby, cascade_standby, pending or unknown; ``Normal`` counts as
    primary and ``Main Standby`` as standby, the raw value stays in ``local_role``), ``db_state``,
    ``detail_information``, ``static_connections`` (int or None), ``streaming_peers`` (the senders
    whose ``state`` is ``Streaming``: channel ends, peer_role, sync_state, sync_percent, receiver
    locations), ``sender_count``, ``upstream`` (the receiver's channel, state and peer_role, or None)
    and ``warnings``.
    """
    parsed = parsed if isinstance(parsed, dict) else {}
    ha_state = _dict_or_none(parsed.get('ha_state')) or {}
    local_role = ha_state.get('local_role')
    senders = [row for row in (parsed.get('senders') or []) if isinstance(row, dict)]
    peers = []
    for row in senders:
        if row.get('state') != 'Streaming':
            continue
        peer = {
            'sender_pid': _to_int(row.get('sender_pid')),
            'channel': row.get('channel'),
            'peer_role': row.get('peer_role'),
            'peer_state': row.get('peer_state'),
            'sync_state': row.get('sync_state'),
            'sync_priority': _to_int(row.get('sync_priority')),
            'sync_percent': row.get('sync_percent'),
            'sender_sent_location': row.get('sender_sent_location'),
            'receiver_flush_location': row.get('receiver_flush_location'),
            'receiver_replay_location': row.get('receiver_replay_location'),
        }
        ends = parse_channel(row.get('channel'))
        if ends:
            peer['peer_host'] = ends['remote_host']
            peer['peer_port'] = ends['remote_port']
        peers.append(peer)
    receiver = _dict_or_none(parsed.get('receiver'))
    upstream = None
    if receiver:
        upstream = {
            'state': receiver.get('state'),
            'peer_role': receiver.get('peer_role'),
            'peer_state': receiver.get('peer_state'),
            'channel': receiver.get('channel'),
            'sync_percent': receiver.get('sync_percent'),
            'receiver_received_location': receiver.get('receiver_received_location'),
            'receiver_replay_location': receiver.get('receiver_replay_location'),
        }
        ends = parse_channel(receiver.get('channel'))
        if ends:
            upstream['host'] = ends['remote_host']
            upstream['port'] = ends['remote_port']
    return {
        'role': _ROLE_SUMMARY.get(local_role, 'unknown'),
        'local_role': local_role,
        'db_state': ha_state.get('db_state'),
        'detail_information': ha_state.get('detail_information'),
        'static_connections': _to_int(ha_state.get('static_connections')),
        'streaming_peers': peers,
        'sender_count': len(senders),
        'upstream': upstream,
        'warnings': [str(w) for w in (parsed.get('warnings') or [])],
    }
