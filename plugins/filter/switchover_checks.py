# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks before a planned switchover and the choice of a failover candidate, on replication_info results.

Pure functions, no I/O: the playbook gathers pgstream.replication.replication_info on every node and passes
``{inventory_hostname: result}``. Documented in switchover_preflight.yml, failover_candidate.yml and failover_plan.yml.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six import string_types

from ansible_collections.pgstream.replication.plugins.filter.cluster_state import holds_timeline
from ansible_collections.pgstream.replication.plugins.filter.cluster_topology import (
    default_application_name, quote_standby_name)
from ansible_collections.pgstream.replication.plugins.module_utils.lsn import format_lsn, parse_lsn

DEFAULT_BOUNDS = {
    'max_lag_bytes': 16777216,
    'max_lag_seconds': 60,
    'max_transaction_seconds': 15,
    'archive_ready_warn': 16,
    'archive_ready_fail': 128,
    'require_rewind': True,
}
INT_BOUNDS = ('max_lag_bytes', 'archive_ready_warn', 'archive_ready_fail')
FLOAT_BOUNDS = ('max_lag_seconds', 'max_transaction_seconds')
SYNC_STATES = ('sync', 'quorum', 'potential')
PASS = 'pass'
WARN = 'warn'
FAIL = 'fail'
SKIP = 'skip'

_CONNINFO_RE = re.compile(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']+)")
_URI_APPNAME_RE = re.compile(r'[?&]application_name=([^&#]+)')
_SSN_RE = re.compile(r'^\s*(?:(FIRST|ANY)\s+)?(\d+)\s*\((.*)\)\s*$', re.IGNORECASE | re.DOTALL)


# ---------------------------------------------------------------- helpers

def _reachable(info):
    return isinstance(info, dict) and info.get('reachable') is True and not info.get('failed')


def _is_primary(info):
    return _reachable(info) and info.get('in_recovery') is False


def _is_standby(info):
    return _reachable(info) and info.get('in_recovery') is True


def _why_unreachable(host, info):
    if not isinstance(info, dict) or not info:
        return '%s has no replication_info result' % host
    if info.get('failed'):
        return '%s: replication_info failed (%s)' % (host, info.get('msg', 'no message'))
    reasons = [info[k] for k in ('connection_error', 'data_dir_error') if info.get(k)]
    return '%s is not reachable%s' % (host, ' (%s)' % '; '.join(reasons) if reasons else '')


def _fmt(number):
    """42.0 -> '42', 42.25 -> '42.25'."""
    if isinstance(number, float):
        return ('%.2f' % number).rstrip('0').rstrip('.')
    return str(number)


def _plural(count, word):
    return '%d %s%s' % (count, word, '' if count == 1 else 's')


def _conninfo_names(conninfo):
    """application_name (else fallback_application_name) of a key=value or URI conninfo, as a list."""
    if not conninfo:
        return []
    if '://' in conninfo:
        match = _URI_APPNAME_RE.search(conninfo)
        return [match.group(1)] if match else []
    pairs = {}
    for key, value in _CONNINFO_RE.findall(conninfo):
        if value.startswith("'"):
            value = re.sub(r'\\(.)', r'\1', value[1:-1])
        pairs[key] = value
    for key in ('application_name', 'fallback_application_name'):
        if pairs.get(key):
            return [pairs[key]]
    return []


def _client_addr(value):
    """'10.0.0.2/32' (inet::text) -> '10.0.0.2'."""
    if not value:
        return value
    return re.sub(r'/(32|128)$', '', str(value))


class _Identities:
    """How each host shows up in its upstream's pg_stat_replication: application names and addresses."""

    def __init__(self, infos, application_names, addresses):
        self.infos = infos
        self.application_names = application_names
        self.addresses = addresses

    def names(self, host):
        if self.application_names.get(host):
            return [str(self.application_names[host])]
        info = self.infos.get(host) or {}
        names = _conninfo_names(((info.get('wal_receiver') or {}).get('conninfo')))
        names += _conninfo_names((info.get('settings') or {}).get('primary_conninfo'))
        unique = []
        for name in names:
            if name not in unique:
                unique.append(name)
        return unique or [default_application_name(host)]

    def primary_name(self, host):
        return self.names(host)[0]

    def rows_for(self, host, rows):
        """The rows of a pg_stat_replication list that belong to host, application name matches first."""
        names = [n.lower() for n in self.names(host)]
        addresses = [_client_addr(a) for a in self.addresses.get(host) or []]
        by_name = [r for r in rows if (r.get('application_name') or '').lower() in names]
        by_addr = [r for r in rows if addresses and _client_addr(r.get('client_addr')) in addresses]
        return by_name + [r for r in by_addr if r not in by_name]

    def streaming_row(self, host, rows):
        rows = self.rows_for(host, rows)
        streaming = [r for r in rows if r.get('state') == 'streaming']
        return (streaming or rows or [None])[0]


def parse_synchronous_standby_names(value):
    """'ANY 2 (a, "B")' -> ('any', 2, ['a', 'B']); 'a, b' -> ('first', 1, ['a', 'b']); '' -> None."""
    value = (value or '').strip()
    if not value:
        return None
    match = _SSN_RE.match(value)
    if match:
        method, num, body = (match.group(1) or 'first').lower(), int(match.group(2)), match.group(3)
    else:
        method, num, body = 'first', 1, value
    names = []
    for part in re.findall(r'"(?:[^"]|"")*"|[^,]+', body):
        part = part.strip()
        if part.startswith('"') and part.endswith('"') and len(part) >= 2:
            part = part[1:-1].replace('""', '"')
        if part:
            names.append(part)
    if not names:
        raise ValueError('no standby names in %r' % value)
    return method, num, names


def sync_names_after_switchover(value, old_primary_name, new_primary_name):
    """synchronous_standby_names for the new primary: the old primary's value with the new primary's own name
    replaced by the old primary's (it becomes a standby and a candidate); '' stays ''."""
    try:
        parsed = parse_synchronous_standby_names(value)
    except ValueError as e:
        raise AnsibleFilterError('sync_names_after_switchover: %s' % e)
    if parsed is None:
        return ''
    method, num, names = parsed
    renamed = []
    for name in names:
        if name != '*' and name.lower() == str(new_primary_name).lower():
            name = old_primary_name
        if name.lower() not in [n.lower() for n in renamed]:
            renamed.append(name)
    return '%s %d (%s)' % (method.upper(), num, ', '.join(n if n == '*' else quote_standby_name(n) for n in renamed))


def _sync_listed(name, listed):
    return '*' in listed or name.lower() in [n.lower() for n in listed]


def _bounds(bounds):
    if bounds is None:
        bounds = {}
    if not isinstance(bounds, dict):
        raise AnsibleFilterError('switchover_preflight: bounds must be a dict, got %r' % (bounds,))
    unknown = sorted(set(bounds) - set(DEFAULT_BOUNDS))
    if unknown:
        raise AnsibleFilterError('switchover_preflight: unknown bounds %s (known: %s; application names and addresses '
                                 'are the 5th and 6th arguments)' % (', '.join(unknown), ', '.join(sorted(DEFAULT_BOUNDS))))
    result = dict(DEFAULT_BOUNDS)
    for key, value in bounds.items():
        try:
            if key == 'require_rewind':
                result[key] = boolean(value, strict=True)
                continue
            if isinstance(value, bool):
                raise ValueError(value)
            number = int(value) if key in INT_BOUNDS else float(value)
            if key in INT_BOUNDS and float(value) != number:
                raise ValueError(value)
        except (TypeError, ValueError):
            raise AnsibleFilterError('switchover_preflight: bound %s must be a %s, got %r'
                                     % (key, 'boolean' if key == 'require_rewind' else 'number', value))
        if number < 0:
            raise AnsibleFilterError('switchover_preflight: bound %s must be >= 0, got %r' % (key, value))
        result[key] = number
    if result['archive_ready_warn'] > result['archive_ready_fail']:
        raise AnsibleFilterError('switchover_preflight: archive_ready_warn (%d) is above archive_ready_fail (%d)'
                                 % (result['archive_ready_warn'], result['archive_ready_fail']))
    return result


def _mapping(name, value, function):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AnsibleFilterError('%s: %s must be a dict, got %r' % (function, name, value))
    return value


def _addresses(value):
    value = _mapping('addresses', value, 'switchover_preflight')
    result = {}
    for host, addrs in value.items():
        if isinstance(addrs, string_types):
            addrs = [addrs]
        elif not is_sequence(addrs):
            raise AnsibleFilterError('switchover_preflight: addresses[%s] must be a list of addresses, got %r'
                                     % (host, addrs))
        result[host] = list(addrs)
    return result


def _infos(infos, function):
    if not isinstance(infos, dict):
        raise AnsibleFilterError('%s: the input must be a dict of inventory hostname -> replication_info result, got %r'
                                 % (function, type(infos).__name__))
    return infos


# ---------------------------------------------------------------- switchover_preflight

class _Preflight:

    def __init__(self, infos, primary, target, bounds, identities):
        self.infos = infos
        self.primary = primary
        self.target = target
        self.bounds = bounds
        self.ids = identities
        self.checks = []
        self.p = infos.get(primary) if _is_primary(infos.get(primary)) else None
        self.t = infos.get(target) if _is_standby(infos.get(target)) else None
        self.row = None         # the primary's pg_stat_replication row for the target
        self.siblings = []      # other standbys streaming from the primary: they will stream from the target

    def add(self, check, status, message, value=None, bound=None):
        self.checks.append(dict(check=check, status=status, message='%s: %s' % (check, message),
                                value=value, bound=bound))

    def skip(self, check, why):
        self.add(check, SKIP, 'not checked, %s' % why)

    # -- topology
    def check_primary(self):
        primaries = sorted(h for h, info in self.infos.items() if _is_primary(info))
        info = self.infos.get(self.primary)
        if self.primary == self.target:
            self.add('primary', FAIL, 'the target %s is the primary itself' % self.target, primaries)
        elif not _reachable(info):
            others = ' (running as primary: %s)' % ', '.join(primaries) if primaries else ''
            self.add('primary', FAIL, '%s%s' % (_why_unreachable(self.primary, info), others), primaries)
        elif info.get('in_recovery') is not False:
            self.add('primary', FAIL, '%s is not a primary, it runs in recovery%s' % (
                self.primary, '; running as primary: %s' % ', '.join(primaries) if primaries else
                '; no reachable node runs as a primary'), primaries)
        elif primaries != [self.primary]:
            self.add('primary', FAIL, '%d nodes run as a primary: %s, not only %s (split brain?)'
                     % (len(primaries), ', '.join(primaries), self.primary), primaries)
        else:
            self.add('primary', PASS, '%s is the only primary' % self.primary, primaries)
        unreachable = sorted(h for h, info in self.infos.items()
                             if h not in (self.primary, self.target) and not _reachable(info))
        if unreachable:
            self.add('reachable', WARN, 'not reachable, their role is unknown: %s' % ', '.join(unreachable), unreachable)
        else:
            self.add('reachable', PASS, 'every node answered', [])

    def check_target(self):
        info = self.infos.get(self.target)
        if self.target == self.primary:
            self.add('target', FAIL, 'the target %s is the primary itself' % self.target)
        elif not _reachable(info):
            self.add('target', FAIL, _why_unreachable(self.target, info))
        elif info.get('in_recovery') is not True:
            self.add('target', FAIL, '%s is not in recovery (it runs as a primary)' % self.target)
        else:
            self.add('target', PASS, '%s is a reachable standby' % self.target)

    def check_streaming(self):
        if self.t is None:
            return self.skip('streaming', 'the target is not a reachable standby')
        receiver = self.t.get('wal_receiver') or {}
        status = receiver.get('status')
        if status != 'streaming':
            return self.add('streaming', FAIL, "%s's WAL receiver is %s, not streaming"
                            % (self.target, status or 'not running'), status)
        if self.p is None:
            return self.add('streaming', PASS, '%s streams from %s (timeline not compared: no primary)'
                            % (self.target, receiver.get('sender_host')), status)
        tli, primary_tli = receiver.get('received_tli'), self.p.get('timeline')
        if tli != primary_tli:
            return self.add('streaming', FAIL, '%s streams timeline %s but %s is on timeline %s'
                            % (self.target, tli, self.primary, primary_tli), tli, primary_tli)
        self.add('streaming', PASS, '%s streams timeline %s from %s' % (self.target, tli, receiver.get('sender_host')),
                 tli, primary_tli)

    def check_attached(self):
        if self.p is None or self.t is None:
            return self.skip('attached', 'the primary or the target is not usable')
        rows = self.p.get('replicas') or []
        self.row = self.ids.streaming_row(self.target, rows)
        names = ', '.join(self.ids.names(self.target))
        if self.row is None:
            seen = ', '.join('%s (%s, %s)' % (r.get('application_name'), _client_addr(r.get('client_addr')), r.get('state'))
                             for r in rows) or 'none'
            self.add('attached', FAIL, '%s has no pg_stat_replication row for %s (application_name %s); rows: %s'
                     % (self.primary, self.target, names, seen))
        elif self.row.get('state') != 'streaming':
            self.add('attached', FAIL, "%s's row for %s is in state %s, not streaming"
                     % (self.primary, self.target, self.row.get('state')), self.row.get('state'))
        else:
            self.add('attached', PASS, '%s streams from %s as %s'
                     % (self.target, self.primary, self.row.get('application_name')), 'streaming')
        self.siblings = []
        for host in sorted(self.infos):
            if host in (self.primary, self.target) or not _is_standby(self.infos[host]):
                continue
            row = self.ids.streaming_row(host, rows)
            if row is not None and row is not self.row:
                self.siblings.append((host, row))

    # -- lag
    def check_lag(self):
        if self.row is None:
            self.skip('lag', 'no pg_stat_replication row for the target')
            return self.skip('lag_seconds', 'no pg_stat_replication row for the target')
        known = [v for v in (self.row.get('flush_lag_bytes'), self.row.get('replay_lag_bytes')) if v is not None]
        bound = self.bounds['max_lag_bytes']
        if not known:
            self.add('lag', FAIL, '%s lag behind %s is unknown (no flush/replay position yet)'
                     % (self.target, self.primary), None, bound)
        else:
            lag = max(known)
            self.add('lag', FAIL if lag > bound else PASS, '%s is %d bytes behind %s (bound %d)'
                     % (self.target, lag, self.primary, bound), lag, bound)
        seconds = self.row.get('replay_lag') or 0
        bound = self.bounds['max_lag_seconds']
        self.add('lag_seconds', FAIL if seconds > bound else PASS, '%s replays %s s behind %s (bound %s s)'
                 % (self.target, _fmt(seconds), self.primary, _fmt(bound)), seconds, bound)

    # -- synchronous replication
    def check_synchronous(self):
        if self.p is None:
            return self.skip('synchronous', 'no usable primary')
        ssn = (self.p.get('settings') or {}).get('synchronous_standby_names')
        if ssn is None:
            return self.add('synchronous', WARN, 'synchronous_standby_names of %s is not visible' % self.primary)
        try:
            parsed = parse_synchronous_standby_names(ssn)
        except ValueError as e:
            return self.add('synchronous', WARN, 'cannot read synchronous_standby_names %r: %s' % (ssn, e), ssn)
        if parsed is None:
            return self.add('synchronous', PASS, 'synchronous replication is off on %s' % self.primary, ssn)
        method, num, listed = parsed
        rows = self.p.get('replicas') or []
        states = ', '.join('%s=%s' % (r.get('application_name'), r.get('sync_state')) for r in rows) or 'no standby'
        if not [r for r in rows if r.get('sync_state') in SYNC_STATES]:
            return self.add('synchronous', FAIL, "synchronous replication is on but no standby of %s is a synchronous "
                            "candidate (synchronous_standby_names '%s'; %s)" % (self.primary, ssn, states), ssn)
        if self.t is None:
            return self.add('synchronous', PASS, "%s has a synchronous candidate (%s)" % (self.primary, states), ssn)
        future = [(self.primary, self.ids.primary_name(self.primary))]
        future += [(h, row.get('application_name') or self.ids.primary_name(h)) for h, row in self.siblings
                   if row.get('state') == 'streaming']
        candidates = ['%s (%s)' % (h, name) for h, name in future if _sync_listed(name, listed)]
        left_out = ['%s (%s)' % (h, name) for h, name in future if not _sync_listed(name, listed)]
        if len(candidates) < num:
            return self.add('synchronous', FAIL, "synchronous replication is on but after the switchover %s would "
                            "stream from %s where '%s' needs %d (candidates: %s; not listed: %s); commits would wait"
                            % (_plural(len(candidates), 'listed standby'), self.target, ssn, num,
                               ', '.join(candidates) or 'none', ', '.join(left_out) or 'none'), len(candidates), num)
        self.add('synchronous', PASS, "%s; after the switchover %s of the %d needed by '%s' stream from %s (%s)"
                 % (states, len(candidates), num, ssn, self.target, ', '.join(candidates)), len(candidates), num)

    # -- activity on the primary and the target
    def check_transaction(self):
        if self.p is None:
            return self.skip('long_transaction', 'no usable primary')
        seconds, pid = self.p.get('longest_transaction_seconds'), self.p.get('longest_transaction_pid')
        bound = self.bounds['max_transaction_seconds']
        if seconds is None:
            return self.add('long_transaction', WARN, 'the open transactions of %s are not visible (superuser or '
                            'pg_read_all_stats needed)' % self.primary, None, bound)
        if pid is None:
            return self.add('long_transaction', PASS, 'no open transaction on %s (bound %s s)'
                            % (self.primary, _fmt(bound)), seconds, bound)
        self.add('long_transaction', FAIL if seconds > bound else PASS,
                 'pid %s on %s has had a transaction open for %s s (bound %s s)'
                 % (pid, self.primary, _fmt(seconds), _fmt(bound)), seconds, bound)

    def check_archive(self):
        if self.p is None:
            return self.skip('archive_backlog', 'no usable primary')
        count = self.p.get('archive_ready_count')
        mode = (self.p.get('settings') or {}).get('archive_mode')
        warn, fail = self.bounds['archive_ready_warn'], self.bounds['archive_ready_fail']
        if mode == 'off':
            return self.add('archive_backlog', PASS, 'archive_mode is off on %s' % self.primary, count)
        if count is None:
            return self.add('archive_backlog', WARN, 'archive_status of %s is not readable (superuser or pg_monitor '
                            'needed)' % self.primary, None, warn)
        text = '%s wait for archive_command on %s (warn above %d, fail above %d)' % (
            _plural(count, 'WAL segment'), self.primary, warn, fail)
        if count > fail:
            return self.add('archive_backlog', FAIL, text, count, fail)
        self.add('archive_backlog', WARN if count > warn else PASS, text, count, warn)

    def check_backup(self):
        if self.p is None:
            return self.skip('backup', 'no usable primary')
        running = self.p.get('backup_in_progress')
        if running is None:
            return self.add('backup', WARN, 'cannot tell whether a backup runs on %s' % self.primary)
        if running:
            return self.add('backup', FAIL, 'a base backup is running on %s' % self.primary, True)
        self.add('backup', PASS, 'no base backup running on %s' % self.primary, False)

    def check_replay_paused(self):
        if self.t is None:
            return self.skip('replay_paused', 'the target is not a reachable standby')
        paused = self.t.get('replay_paused')
        if paused:
            return self.add('replay_paused', FAIL, 'WAL replay is paused on %s (SELECT pg_wal_replay_resume())'
                            % self.target, True)
        if paused is None:
            return self.add('replay_paused', WARN, 'cannot tell whether WAL replay is paused on %s' % self.target)
        self.add('replay_paused', PASS, 'WAL replay runs on %s' % self.target, False)

    # -- capacity of the target
    def _capacity(self, check, maximum_name, used_name, what):
        needed_hosts = [self.primary] + [h for h, row in self.siblings]
        needed = len(needed_hosts)
        settings = self.t.get('settings') or {}
        maximum, used = settings.get(maximum_name), self.t.get(used_name)
        if maximum is None or used is None:
            return self.add(check, WARN, 'cannot tell how many %s %s has free (%s %s, %s in use)'
                            % (what, self.target, maximum_name, maximum, used), None, needed)
        free = maximum - used
        message = '%s has %s free (%s %d, %d in use) for %s that will stream from it (%s)' % (
            self.target, _plural(free, what[:-1]), maximum_name, maximum, used, _plural(needed, 'node'),
            ', '.join(needed_hosts))
        self.add(check, FAIL if free < needed else PASS, message, free, needed)

    def check_capacity(self):
        if self.t is None or self.p is None:
            self.skip('walsenders', 'the primary or the target is not usable')
            return self.skip('slots', 'the primary or the target is not usable')
        self._capacity('walsenders', 'max_wal_senders', 'wal_senders_used', 'WAL senders')
        slots_in_use = any(s.get('slot_type') == 'physical' for s in self.p.get('replication_slots') or []) or \
            bool((self.t.get('wal_receiver') or {}).get('slot_name'))
        if not slots_in_use:
            return self.add('slots', PASS, 'no physical replication slot in use, none needed on %s' % self.target)
        self._capacity('slots', 'max_replication_slots', 'replication_slots_used', 'replication slots')

    # -- after the switchover
    def check_rewind(self):
        info = self.infos.get(self.primary)
        if not isinstance(info, dict) or not info:
            return self.skip('rewind', 'no result for %s' % self.primary)
        can = info.get('can_rewind')
        required = self.bounds['require_rewind']
        settings = info.get('settings') or {}
        detail = 'wal_log_hints %s, data_checksums %s, full_page_writes %s' % tuple(
            {True: 'on', False: 'off', None: 'unknown'}[settings.get(k)]
            for k in ('wal_log_hints', 'data_checksums', 'full_page_writes'))
        if can is True:
            return self.add('rewind', PASS, 'pg_rewind can be used on %s (%s)' % (self.primary, detail), True, required)
        what = 'cannot be used' if can is False else 'may not be usable'
        self.add('rewind', FAIL if required else WARN, 'pg_rewind %s on %s if it must rejoin after diverging (%s); '
                 'it would need a new base backup' % (what, self.primary, detail), can, required)

    def check_same_cluster(self):
        majors = dict((h, info['server_version_num'] // 10000) for h, info in self.infos.items()
                      if _reachable(info) and isinstance(info.get('server_version_num'), int))
        if len(set(majors.values())) > 1:
            self.add('version', FAIL, 'major versions differ: %s' % ', '.join(
                '%s %d' % (h, majors[h]) for h in sorted(majors)), majors)
        else:
            self.add('version', PASS, 'every reachable node runs major %s' % (
                list(majors.values())[0] if majors else 'unknown'), majors)
        ids = dict((h, str(info['system_identifier'])) for h, info in self.infos.items()
                   if isinstance(info, dict) and info.get('system_identifier'))
        if len(set(ids.values())) > 1:
            self.add('system_identifier', FAIL, 'the nodes are not one cluster: %s' % ', '.join(
                '%s %s' % (h, ids[h]) for h in sorted(ids)), ids)
        else:
            self.add('system_identifier', PASS, 'every node reports system identifier %s' % (
                list(ids.values())[0] if ids else 'unknown'), ids)

    def run(self):
        self.check_primary()
        self.check_target()
        self.check_streaming()
        self.check_attached()
        self.check_lag()
        self.check_synchronous()
        self.check_transaction()
        self.check_archive()
        self.check_backup()
        self.check_replay_paused()
        self.check_capacity()
        self.check_rewind()
        self.check_same_cluster()
        strip = ('check', 'message', 'value', 'bound')
        failures = [dict((k, c[k]) for k in strip) for c in self.checks if c['status'] == FAIL]
        warnings = [dict((k, c[k]) for k in strip) for c in self.checks if c['status'] == WARN]
        return dict(ok=not failures, failures=failures, warnings=warnings, checks=self.checks,
                    primary=self.primary, target=self.target, bounds=self.bounds,
                    siblings=[h for h, row in self.siblings])


def switchover_preflight(infos, primary, target, bounds=None, application_names=None, addresses=None):
    """Checks before promoting ``target`` and demoting ``primary``; see switchover_preflight.yml."""
    infos = _infos(infos, 'switchover_preflight')
    for name, value in (('primary', primary), ('target', target)):
        if not isinstance(value, string_types) or not value:
            raise AnsibleFilterError('switchover_preflight: %s must be an inventory hostname, got %r' % (name, value))
    identities = _Identities(infos, _mapping('application_names', application_names, 'switchover_preflight'),
                             _addresses(addresses))
    return _Preflight(infos, primary, target, _bounds(bounds), identities).run()


# ---------------------------------------------------------------- failover_candidate

def _position(info):
    values = []
    for key in ('receive_lsn', 'replay_lsn'):
        if info.get(key) is not None:
            try:
                values.append(parse_lsn(info[key]))
            except ValueError:
                raise AnsibleFilterError('failover_candidate: invalid %s %r' % (key, info[key]))
    return max(values) if values else None


def failover_candidate(infos, primary, candidates, named=None, force=False, priorities=None):
    """The standby to promote when ``primary`` is dead; see failover_candidate.yml."""
    infos = _infos(infos, 'failover_candidate')
    if isinstance(candidates, string_types) or not is_sequence(candidates):
        raise AnsibleFilterError('failover_candidate: candidates must be a list of inventory hostnames, got %r'
                                 % (candidates,))
    priorities = _mapping('priorities', priorities, 'failover_candidate')
    for host, value in priorities.items():
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                priorities[host] = int(value)
            except (TypeError, ValueError):
                raise AnsibleFilterError('failover_candidate: priorities[%s] must be an integer, got %r' % (host, value))
    try:
        force = boolean(force, strict=True)
    except TypeError:
        raise AnsibleFilterError('failover_candidate: force must be a boolean, got %r' % (force,))
    if named is not None and not isinstance(named, string_types):
        raise AnsibleFilterError('failover_candidate: named must be an inventory hostname, got %r' % (named,))
    named = named or None

    result = dict(candidate=None, ranking=[], skipped=[], refused=None, ok=False, warnings=[], primary=primary)
    # A reachable node that is not in recovery: the primary is alive, or a node was promoted already.
    running = sorted(h for h, info in infos.items() if _is_primary(info))
    if running:
        which = ' and '.join(running)
        what = 'the primary is alive' if running == [primary] else 'a node was promoted already'
        result['refused'] = '%s %s running as a primary (%s): not failing over' % (
            which, 'is' if len(running) == 1 else 'are', what)
        return result
    if _is_standby(infos.get(primary)):
        result['warnings'].append('%s (the primary) is reachable but in recovery' % primary)

    ranking = []
    for host in candidates:
        info = infos.get(host)
        if host == primary:
            result['skipped'].append(dict(host=host, reason='%s is the failed primary' % host))
        elif not _reachable(info):
            result['skipped'].append(dict(host=host, reason=_why_unreachable(host, info)))
        elif _position(info) is None:
            result['skipped'].append(dict(host=host, reason='%s reports no received or replayed WAL position' % host))
        else:
            lsn = _position(info)
            ranking.append(dict(host=host, lsn=lsn, position=format_lsn(lsn), priority=priorities.get(host),
                                timeline=info.get('received_tli') or info.get('timeline')))
    ranking.sort(key=lambda r: (-r['lsn'], r['priority'] if r['priority'] is not None else float('inf'), r['host']))
    result['ranking'] = ranking
    if not ranking:
        result['refused'] = 'no reachable standby among the candidates %s' % (', '.join(candidates) or '(none)')
        return result
    timelines = sorted(set(r['timeline'] for r in ranking if r['timeline'] is not None))
    if len(timelines) > 1:
        result['warnings'].append('the candidates are on different timelines (%s): positions compare only within one'
                                  % ', '.join(str(t) for t in timelines))
    best = ranking[0]
    if named is None:
        result.update(candidate=best['host'], ok=True)
        return result
    mine = [r for r in ranking if r['host'] == named]
    if named not in candidates:
        result['refused'] = '%s is not one of the candidates (%s)' % (named, ', '.join(candidates))
    elif not mine:
        reason = [s['reason'] for s in result['skipped'] if s['host'] == named]
        result['refused'] = 'cannot promote %s: %s' % (named, reason[0] if reason else 'not a usable standby')
    elif mine[0]['lsn'] < best['lsn']:
        ahead = [r for r in ranking if r['lsn'] > mine[0]['lsn']]
        message = '%s is %d bytes behind %s (%s at %s, %s at %s)' % (
            named, best['lsn'] - mine[0]['lsn'], best['host'], named, mine[0]['position'], best['host'],
            best['position'])
        if len(ahead) > 1:
            message += '; also ahead: %s' % ', '.join(r['host'] for r in ahead[1:])
        if force:
            result['warnings'].append('forced: %s; the WAL only they received is lost' % message)
            result.update(candidate=named, ok=True)
        else:
            result['refused'] = '%s: promote %s instead, or force' % (message, best['host'])
    else:
        result.update(candidate=named, ok=True)
    return result


# ---------------------------------------------------------------- failover_plan

def _members(topology):
    try:
        return list(topology['members']), topology.get('primary')
    except (KeyError, TypeError, AttributeError):
        raise AnsibleFilterError('failover_plan: topology must be one cluster of cluster_topology (members, primary)')


def _old_primary_slot(old, new, infos, topology, keep):
    """The slot the new primary keeps for the old one until it rejoins, and a line saying so (or why there is none).

    Without a slot only wal_keep_size keeps the WAL of the fork on the new primary, and the old primary can no longer
    be rewound once more WAL than that was written. A slot holds it until max_slot_wal_keep_size, and only where that
    bound exists (13+) and is set: a slot without it would hold WAL for a dead server until the disk is full."""
    name = (topology.get('slot_name') or {}).get(old)
    if not name:
        return None, None
    if not keep:
        return None, ('no slot is kept for %s on %s (pgstream_failover_old_primary_slot=false); only wal_keep_size keeps '
                      'the WAL %s needs for a rewind' % (old, new, old))
    limit = ((infos.get(new) or {}).get('settings') or {}).get('max_slot_wal_keep_size')
    if limit is None or limit < 0:
        return None, ('no slot is kept for %s on %s: max_slot_wal_keep_size is %s there, and a slot would hold WAL '
                      'without limit; only wal_keep_size keeps the WAL %s needs for a rewind'
                      % (old, new, 'not known (PostgreSQL before 13, or not read)' if limit is None else 'unlimited (-1)', old))
    return name, ('%s keeps slot %s for %s until it rejoins (at most %d MB of WAL, max_slot_wal_keep_size), so that it '
                  'can be rewound; if %s will not come back, drop it (pgstream.replication.replication_slots, or '
                  "SELECT pg_drop_replication_slot('%s'))" % (new, name, old, limit, old, name))


def _unfinished_failover(nodes, members, primaries):
    """The old primary and the standbys left behind when an earlier failover promoted the one running primary and its
    standbys did not follow (they could not connect, or the run was interrupted), else None.

    Seen as: a running standby that streams from nobody and is still configured for another member, which does not
    run. Its old upstream is the old primary. A cut-off primary's standbys are configured for that primary itself."""
    if len(primaries) != 1:
        return None
    new = primaries[0]
    behind = [m for m in members if m != new and nodes[m]['state'] == 'standby' and not nodes[m].get('streaming_from')
              and nodes[m].get('configured_upstream') not in (None, new)
              and (nodes.get(nodes[m]['configured_upstream']) or {}).get('state') not in ('primary', 'standby')]
    if not behind:
        return None
    old = nodes[behind[0]]['configured_upstream']
    return dict(old=old, behind=behind,
                why='%s %s still configured for %s (%s) and %s from nobody'
                    % (', '.join(behind), 'is' if len(behind) == 1 else 'are', old, nodes[old]['state'] if old in nodes
                       else 'unknown', 'streams' if len(behind) == 1 else 'stream'))


def _newer_primary(nodes, infos, topology, members, primaries, inventory_primary):
    """The old primary and the standbys left behind when the one running primary, with no standby streaming from it,
    is on a timeline no running standby holds anything of, else None.

    An earlier failover promoted it and its followers were repointed at it but never streamed (the run was
    interrupted, or they could not stream): they are configured for it, as a cut-off primary's standbys are, but a
    cut-off primary's standbys hold its timeline. Promoting one of them would lose every commit of that timeline.
    The old primary is the member that does not run (the inventory's primary first); None when every member runs."""
    if len(primaries) != 1:
        return None
    new = primaries[0]
    start = nodes[new].get('timeline_start_lsn')
    if start is None or nodes[new].get('replicas'):
        return None
    standbys = [m for m in members if m != new and nodes[m]['state'] == 'standby']
    if not standbys or any(holds_timeline(nodes, infos, topology, m, new) for m in standbys):
        return None
    down = [m for m in members if m != new and nodes[m]['state'] not in ('primary', 'standby')]
    old = inventory_primary if inventory_primary in down else (down[0] if down else None)
    return dict(old=old, behind=standbys, timeline=nodes[new].get('timeline'), start=format_lsn(start),
                why='%s %s nothing of its timeline %s, which began at %s'
                    % (', '.join(standbys), 'holds' if len(standbys) == 1 else 'hold', nodes[new].get('timeline'),
                       format_lsn(start)))


def _members_to_ask(nodes, members, old, new):
    """The members the candidate asks whether they run as a primary just before it promotes (the promote module's
    split-brain guard): those Ansible could not reach or read, other than the candidate, and other than the old primary
    (stopped by the run, or acknowledged as fenced) unless a standby streamed from it at the read (it was alive then).
    A reachable member was read: the plan saw its role. An old primary acknowledged as fenced was not contacted (state
    fenced), and is asked on the same terms."""
    old_streams = any(n.get('streaming_from') == old for n in nodes.values())
    return [m for m in members if m != new and nodes[m]['state'] in ('unreachable', 'unknown', 'fenced')
            and (m != old or old_streams)]


def failover_plan(state, infos, topology, named=None, force=False, fenced=None, priorities=None, old_primary_slot=True):
    """Every decision of failover.yml in one pass (the old primary, the refusals, the candidate, the followers, the
    slot kept for the old primary); see failover_plan.yml."""
    try:
        nodes, primaries = state['nodes'], list(state['primaries'])
    except (KeyError, TypeError):
        raise AnsibleFilterError('failover_plan: the input must be the result of cluster_state (nodes, primaries)')
    members, inventory_primary = _members(topology)
    try:
        force = boolean(force, strict=True)
    except TypeError:
        raise AnsibleFilterError('failover_plan: force must be a boolean, got %r' % (force,))
    try:
        old_primary_slot = boolean(old_primary_slot, strict=True)
    except TypeError:
        raise AnsibleFilterError('failover_plan: old_primary_slot must be a boolean, got %r' % (old_primary_slot,))
    for host in members:
        if host not in nodes:
            raise AnsibleFilterError('failover_plan: %s has no entry in the cluster state' % host)
    # The old primary: the member running as a primary, else the upstream the standbys are configured for (leaving
    # out running standbys: a cascading standby's upstream is not the primary), else the inventory's primary.
    running_standbys = [m for m in members if nodes[m]['state'] == 'standby']
    configured = []
    for m in members:
        upstream = nodes[m].get('configured_upstream')
        if upstream and upstream not in running_standbys and upstream not in configured:
            configured.append(upstream)
    candidates_old = primaries + configured + ([inventory_primary] if inventory_primary else [])
    if not candidates_old:
        raise AnsibleFilterError('failover_plan: cannot tell the old primary (no primary running, configured or in the inventory)')
    old = candidates_old[0]
    unfinished = (_unfinished_failover(nodes, members, primaries)
                  or _newer_primary(nodes, infos, topology, members, primaries, inventory_primary))
    if unfinished and unfinished['old'] is None:
        return dict(old_primary=None, old_state='unknown', new_primary=None, followers=[], choice=None, ok=False,
                    old_primary_slot=None, old_primary_slot_note=None, finishing=None, rewind_first=[], ask=[],
                    refused=('failover refused, nothing was changed: %s runs as the primary and %s: promoting a standby '
                             'would lose every commit of that timeline, and every member runs, so there is no old '
                             'primary to replace. Point the standbys at %s with rejoin.yml -e node=<standby>.'
                             % (primaries[0], unfinished['why'], primaries[0])))
    if unfinished:
        old = unfinished['old']
    old_node = nodes.get(old) or {}
    plan = dict(old_primary=old, old_state=old_node.get('state', 'unknown'), new_primary=None, followers=[],
                choice=None, refused=None, ok=False, old_primary_slot=None, old_primary_slot_note=None, finishing=None,
                rewind_first=[], ask=[])
    # failover.yml does not contact the member -e fenced names (state fenced): only the old primary may be spared the
    # read, whose place the candidate's question (ask) and the check after the promotion take.
    wrongly_fenced = [m for m in members if nodes[m]['state'] == 'fenced' and m != old]
    if wrongly_fenced:
        plan['refused'] = ('failover refused, nothing was changed: -e fenced=%s names a member that is not the old '
                           'primary, which is %s (%s). This run did not contact %s. Run again with -e fenced=%s if %s is '
                           'powered off or fenced, or without fenced if it answers.'
                           % (wrongly_fenced[0], old, plan['old_state'], wrongly_fenced[0], old, old))
        return plan
    replicas = old_node.get('replicas') or []
    if old_node.get('state') == 'primary' and replicas and not force:
        plan['refused'] = ('%s is running as the primary and %s stream from it: this is not a failover. Use '
                           'switchover.yml, or -e force=true to fail over anyway (it will be stopped and unreplicated '
                           'commits on it are lost).' % (old, ', '.join(replicas)))
        return plan
    if len(primaries) > 1:
        plan['refused'] = ('more than one member runs as a primary: %s; rejoin the stale one with rejoin.yml first'
                           % ', '.join(primaries))
        return plan
    if plan['old_state'] in ('unreachable', 'unknown', 'fenced') and (fenced or '') != old:
        plan['refused'] = ('%s cannot be reached, so this run cannot make sure it is not running. Make sure it is '
                           'powered off or fenced (it must not come back as a primary), then run again with -e fenced=%s.'
                           % (old, old))
        return plan
    others = [m for m in members if m != old]
    if unfinished:
        # Finished, not redone: the running primary may have taken commits since its promotion, so it is neither
        # stopped nor demoted, and no other standby is promoted. The promote step leaves a primary alone.
        new = primaries[0]
        if named and named != new:
            plan['refused'] = ('failover refused, nothing was changed: %s already runs as the primary (promoted by an '
                               'earlier failover?) and %s; run without target to point the standbys at %s, then '
                               'switchover.yml -e target=%s' % (new, unfinished['why'], new, named))
            return plan
        slot, note = _old_primary_slot(old, new, infos or {}, topology, old_primary_slot)
        plan.update(new_primary=new, ok=True, old_primary_slot=slot, old_primary_slot_note=note,
                    followers=[m for m in members if m not in (old, new) and nodes[m]['state'] == 'standby'
                               and nodes[m].get('streaming_from') not in others],
                    finishing=('%s already runs as the primary (promoted by an earlier failover?), and %s: this run '
                               'points the standbys at %s, and stops or promotes nobody'
                               % (new, unfinished['why'], new)))
        return plan
    # The old primary is stopped before the promotion when it still runs (cut off, or forced).
    choice = failover_candidate(dict(infos or {}, **{old: {}}), old, [m for m in members if m != old],
                                named=named, force=force, priorities=priorities)
    plan['choice'] = choice
    if not choice['ok']:
        plan['refused'] = 'failover refused, nothing was changed: %s' % (choice['refused'] or 'no candidate')
        return plan
    new = choice['candidate']
    # The old primary's other standbys: streaming from it, configured for it, or not streaming at all.
    slot, note = _old_primary_slot(old, new, infos or {}, topology, old_primary_slot)
    followers = [m for m in members if m not in (old, new) and nodes[m]['state'] == 'standby'
                 and nodes[m].get('streaming_from') not in others]
    # A follower with more WAL than the candidate (a named target behind it, forced) holds WAL of the old timeline
    # past where the candidate's timeline will begin: it cannot stream from it until it is rewound.
    position = nodes[new].get('lsn')
    plan.update(new_primary=new, ok=True, old_primary_slot=slot, old_primary_slot_note=note, followers=followers,
                rewind_first=[m for m in followers if position is not None and (nodes[m].get('lsn') or 0) > position],
                ask=_members_to_ask(nodes, members, old, new))
    return plan


class FilterModule(object):
    """pgstream.replication switchover/failover filters."""

    def filters(self):
        return {'switchover_preflight': switchover_preflight, 'failover_candidate': failover_candidate,
                'failover_plan': failover_plan, 'sync_names_after_switchover': sync_names_after_switchover}
