#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: replication_info
short_description: Gather the streaming-replication state of a PostgreSQL server
version_added: 0.1.0
description:
  - Read-only. Returns in one call whether the server is a primary or a standby, its version, system identifier,
    timeline, WAL positions, the settings that matter for replication and C(pg_rewind), the standbys streaming
    from it (with byte and time lags), its WAL receiver and its replication slots.
  - Works with PostgreSQL 10 and later; columns that appeared in later versions are returned as null on older ones.
  - When O(data_dir) is given and the server cannot be reached (or O(use_controldata=true)), the fields of
    C(pg_controldata) are returned as well, so a stopped cluster can still be inspected.
  - A server that cannot be reached and whose O(data_dir) is missing or holds no control file (a lost disk, a new
    empty volume) is reported in RV(data_dir_error), not as a failure, so that a rejoin can re-clone it.
  - Passwords in C(primary_conninfo) and in the WAL receiver's C(conninfo) are shown as C(********).
  - Also returns what a planned switchover has to check (see the P(pgstream.replication.switchover_preflight#filter) filter)
    - the longest open transaction, the archiver backlog, whether a base backup runs, how many WAL senders
    and replication slots are in use and how long ago the last transaction was replayed on a standby.
author:
  - pgstream.replication developers (@pgstream)
options:
  data_dir:
    description:
      - Data directory of the cluster, read with C(pg_controldata) when the server is not reachable
        or when O(use_controldata=true).
      - Without it an unreachable server is an error.
    type: path
  bindir:
    description:
      - Directory of the PostgreSQL binaries (C(pg_controldata)). Found from C(PG_VERSION) of O(data_dir) when omitted.
    type: path
  use_controldata:
    description:
      - Also read C(pg_controldata) when the server is reachable (returned in RV(controldata)).
    type: bool
    default: false
extends_documentation_fragment:
  - pgstream.replication.connection
  - pgstream.replication.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Some values (for example C(primary_conninfo), the WAL receiver's C(conninfo), the lags of other roles' connections)
    are only visible to superusers or members of C(pg_read_all_settings)/C(pg_read_all_stats); they are null otherwise.
  - RV(archive_ready_count) needs a superuser (PostgreSQL 10 and 11, C(pg_ls_dir())) or a member of C(pg_monitor)
    (12 and later, C(pg_ls_archive_statusdir())); RV(longest_transaction_seconds) is null when other roles'
    sessions are hidden (no C(pg_read_all_stats)). A section that cannot be read is null, with a warning.
'''

EXAMPLES = r'''
- name: Gather the replication state
  pgstream.replication.replication_info:
  become: true
  become_user: postgres
  register: repl

- name: Show the standbys of the primary
  ansible.builtin.debug:
    msg: "{{ item.application_name }} {{ item.state }} {{ item.sync_state }} lag {{ item.replay_lag_bytes }} bytes"
  loop: "{{ repl.replicas }}"
  when: repl.role == 'primary'

- name: Inspect a stopped cluster from its control file
  pgstream.replication.replication_info:
    data_dir: /var/lib/postgresql/15/main
    bindir: /usr/lib/postgresql/15/bin
  become: true
  become_user: postgres
  register: repl
'''

RETURN = r'''
reachable:
  description: Whether the server could be queried.
  returned: always
  type: bool
  sample: true
connection_error:
  description: Why the server could not be reached (only when O(data_dir) is given and it could not).
  returned: when not reachable
  type: str
data_dir_error:
  description:
    - Why O(data_dir) could not be read, when the server could not be reached either (the directory is missing or
      is not a PostgreSQL data directory). RV(role) and the control file's fields are null then.
  returned: when not reachable and O(data_dir) cannot be read
  type: str
  sample: data_dir /var/lib/postgresql/15/main does not exist or is not a directory
role:
  description: V(primary) or V(standby); from the control file's cluster state when not reachable (null if it does not tell).
  returned: always
  type: str
  sample: primary
in_recovery:
  description: C(pg_is_in_recovery()).
  returned: always
  type: bool
  sample: false
server_version:
  description: C(server_version) setting.
  returned: when reachable
  type: str
  sample: "15.18 (Debian 15.18-0+deb12u1)"
server_version_num:
  description: C(server_version_num) setting.
  returned: when reachable
  type: int
  sample: 150018
system_identifier:
  description: Database system identifier (C(pg_control_system()) or C(pg_controldata)).
  returned: always
  type: str
  sample: "7441234567890123456"
timeline:
  description:
    - On a primary, the timeline it writes (from C(pg_walfile_name(pg_current_wal_lsn()))).
    - On a standby, and from C(pg_controldata), the TimeLineID of the latest checkpoint or restartpoint (C(pg_control_checkpoint())),
      which can be behind the timeline the standby replays; see RV(received_tli).
  returned: always
  type: int
  sample: 1
timeline_start_lsn:
  description:
    - On a primary on a timeline above 1, the WAL position where its timeline began (the switch point of the last
      entry of its timeline history file, C(pg_wal/0000000N.history), read with C(pg_read_file())). A standby that
      holds nothing past it has nothing of that timeline.
    - Null on a standby, on timeline 1, and when the history file cannot be read (a login role without
      C(pg_read_server_files) or superuser, with a warning).
  returned: always
  type: str
  sample: 0/5000148
received_tli:
  description: Timeline the WAL receiver streams (standby only, null otherwise).
  returned: always
  type: int
  sample: 1
current_lsn:
  description: C(pg_current_wal_lsn()) on a primary, null on a standby.
  returned: always
  type: str
  sample: 0/3000148
wal_timelines:
  description:
    - On a standby, the timelines of the WAL segment files in its C(pg_wal) (C(pg_ls_waldir())), in order. A standby
      that received or replayed WAL of a timeline has a segment of it (the WAL receiver names the files it writes
      after the timeline it streams).
    - Null on a primary, and when C(pg_ls_waldir()) cannot be run (it needs a superuser or C(pg_monitor)), with a warning.
  returned: always
  type: list
  elements: int
  sample: [1, 2]
receive_lsn:
  description: C(pg_last_wal_receive_lsn()) on a standby, null on a primary.
  returned: always
  type: str
replay_lsn:
  description: C(pg_last_wal_replay_lsn()) on a standby, null on a primary.
  returned: always
  type: str
replay_paused:
  description: C(pg_is_wal_replay_paused()) on a standby, null on a primary.
  returned: always
  type: bool
last_replay_seconds:
  description:
    - On a standby, seconds since the commit time of the last transaction replayed
      (C(now() - pg_last_xact_replay_timestamp())); null on a primary or when nothing was replayed since the start.
    - It grows while the primary is idle, so it is a lag only when the primary is writing.
  returned: always
  type: float
  sample: 0.42
longest_transaction_seconds:
  description:
    - Age in seconds of the oldest open transaction (C(now() - xact_start)) among the client backends other than
      this module's session; WAL senders and backends outside a transaction are ignored. V(0) when there is none.
    - Null when not reachable or when other roles' sessions are hidden from the login role.
  returned: always
  type: float
  sample: 42.5
longest_transaction_pid:
  description: Process id of the backend holding that transaction (null when there is none).
  returned: always
  type: int
  sample: 4242
archive_ready_count:
  description:
    - Number of C(*.ready) files in C(pg_wal/archive_status) (WAL segments waiting for C(archive_command)).
    - Null when not reachable or without the privilege to list the directory.
  returned: always
  type: int
  sample: 0
backup_in_progress:
  description:
    - Whether a base backup runs - a row in C(pg_stat_progress_basebackup) (PostgreSQL 13 and later)
      or an exclusive backup (C(pg_is_in_backup()), before PostgreSQL 15).
    - Null when not reachable. Non-exclusive backups taken with C(pg_backup_start())/C(pg_start_backup()) are not seen.
  returned: always
  type: bool
  sample: false
wal_senders_used:
  description: Number of WAL senders running (rows of C(pg_stat_replication), base backups included); null when not reachable.
  returned: always
  type: int
  sample: 2
replication_slots_used:
  description: Number of replication slots (rows of C(pg_replication_slots), logical included); null when not reachable.
  returned: always
  type: int
  sample: 2
settings:
  description:
    - Replication-related settings; C(primary_conninfo) has its password masked (null before PostgreSQL 12 or when not visible).
    - C(wal_log_hints), C(data_checksums), C(full_page_writes) are booleans, C(max_wal_senders),
      C(max_replication_slots) and C(max_slot_wal_keep_size) integers (the last in MB, V(-1) for unlimited, null before
      PostgreSQL 13), the others strings as C(SHOW) prints them.
    - C(synchronous_commit) is the server-wide value (configuration files, else the built-in default), not the
      module session's own C(local); per-role or per-database overrides are not applied. Reading the files
      (C(pg_file_settings)) needs a superuser; it is null otherwise.
  returned: always
  type: dict
  sample: {"wal_log_hints": true, "data_checksums": false, "full_page_writes": true, "wal_level": "replica",
           "synchronous_standby_names": "", "primary_conninfo": null, "archive_mode": "on",
           "max_wal_senders": 10, "max_replication_slots": 10, "max_slot_wal_keep_size": 10240,
           "synchronous_commit": "on"}
can_rewind:
  description: Whether C(pg_rewind) can be used on this cluster (C(wal_log_hints) or data checksums, and C(full_page_writes)).
  returned: always
  type: bool
  sample: true
replicas:
  description:
    - Rows of C(pg_stat_replication) (standbys streaming from this server).
    - C(*_lag_bytes) are C(pg_wal_lsn_diff) between this server's current position and the standby's LSN;
      C(write_lag), C(flush_lag), C(replay_lag) are seconds (null when idle).
  returned: always
  type: list
  elements: dict
  sample: [{"application_name": "pg2", "client_addr": "10.89.0.3", "state": "streaming", "sync_state": "async",
            "sync_priority": 0, "sent_lsn": "0/3000148", "write_lsn": "0/3000148", "flush_lsn": "0/3000148",
            "replay_lsn": "0/3000148", "sent_lag_bytes": 0, "write_lag_bytes": 0, "flush_lag_bytes": 0,
            "replay_lag_bytes": 0, "write_lag": null, "flush_lag": null, "replay_lag": null}]
wal_receiver:
  description: The row of C(pg_stat_wal_receiver) (conninfo masked), null when no WAL receiver runs.
  returned: always
  type: dict
  sample: {"status": "streaming", "sender_host": "pg1", "sender_port": 5432, "slot_name": "pg2",
           "received_tli": 1, "flushed_lsn": "0/3000148", "latest_end_lsn": "0/3000148",
           "conninfo": "user=replicator password=******** host=pg1 port=5432"}
replication_slots:
  description: Rows of C(pg_replication_slots); C(wal_status) is null before PostgreSQL 13.
  returned: always
  type: list
  elements: dict
  sample: [{"slot_name": "pg2", "slot_type": "physical", "active": true, "restart_lsn": "0/3000148", "wal_status": "reserved"}]
controldata:
  description: Output of C(pg_controldata) as parsed by the collection (keys such as C(cluster_state), C(timeline),
    C(checkpoint_lsn), C(system_identifier), C(raw)); null when not read.
  returned: always
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pgstream.replication.plugins.module_utils.connection import (
    DatabaseError, connection_argument_spec, mask_conninfo, try_connect)
from ansible_collections.pgstream.replication.plugins.module_utils.queries import QueryLog
from ansible_collections.pgstream.replication.plugins.module_utils import controldata, version
from ansible_collections.pgstream.replication.plugins.module_utils.history import history_file_name, timeline_start

INSUFFICIENT_PRIVILEGE = '42501'
MIN_VERSION_NUM = 100000
BOOL_SETTINGS = ('wal_log_hints', 'data_checksums', 'full_page_writes')
TEXT_SETTINGS = ('wal_level', 'synchronous_standby_names', 'primary_conninfo', 'archive_mode', 'synchronous_commit')
INT_SETTINGS = ('max_wal_senders', 'max_replication_slots', 'max_slot_wal_keep_size')
ALL_SETTINGS = BOOL_SETTINGS + TEXT_SETTINGS + INT_SETTINGS
# Set by connection.py for the module's own session (options=-c ...): reported with the server-wide value.
SESSION_SETTINGS = ('synchronous_commit',)
FILE_SETTING_SQL = ('SELECT setting FROM pg_file_settings WHERE name = %s AND applied AND error IS NULL '
                    'ORDER BY seqno DESC LIMIT 1')
STANDBY_STATES = ('in archive recovery', 'shut down in recovery')
PRIMARY_STATES = ('in production', 'shut down', 'shutting down')

BASE_SQL = ("SELECT current_setting('server_version') AS server_version, "
            "current_setting('server_version_num')::int AS server_version_num, pg_is_in_recovery() AS in_recovery")
REPLICAS_SQL = ("SELECT application_name, client_addr::text AS client_addr, state, sync_state, sync_priority, "
                "sent_lsn::text AS sent_lsn, write_lsn::text AS write_lsn, flush_lsn::text AS flush_lsn, "
                "replay_lsn::text AS replay_lsn, "
                "pg_wal_lsn_diff({base}, sent_lsn)::bigint AS sent_lag_bytes, "
                "pg_wal_lsn_diff({base}, write_lsn)::bigint AS write_lag_bytes, "
                "pg_wal_lsn_diff({base}, flush_lsn)::bigint AS flush_lag_bytes, "
                "pg_wal_lsn_diff({base}, replay_lsn)::bigint AS replay_lag_bytes, "
                "EXTRACT(EPOCH FROM write_lag)::float8 AS write_lag, "
                "EXTRACT(EPOCH FROM flush_lag)::float8 AS flush_lag, "
                "EXTRACT(EPOCH FROM replay_lag)::float8 AS replay_lag "
                "FROM pg_stat_replication ORDER BY application_name, pid")
PRIMARY_BASE_LSN = 'pg_current_wal_lsn()'
# The checkpoint's timeline lags on a primary promoted since its last checkpoint; the WAL it writes does not.
PRIMARY_SQL = ("SELECT pg_current_wal_lsn()::text AS current_lsn, "
               "('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint AS timeline")
HISTORY_SQL = 'SELECT pg_read_file(%s) AS history'
WAL_TIMELINES_SQL = ("SELECT DISTINCT ('x' || substr(name, 1, 8))::bit(32)::bigint AS timeline FROM pg_ls_waldir() "
                     "WHERE name ~ '^[0-9A-F]{24}$' ORDER BY 1")
STANDBY_BASE_LSN = 'COALESCE(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())'


def empty_result():
    return dict(changed=False, reachable=False, role=None, in_recovery=None, server_version=None,
                server_version_num=None, system_identifier=None, timeline=None, timeline_start_lsn=None, received_tli=None,
                wal_timelines=None,
                current_lsn=None, receive_lsn=None, replay_lsn=None, replay_paused=None, last_replay_seconds=None,
                settings=dict((name, None) for name in ALL_SETTINGS),
                can_rewind=None, replicas=[], wal_receiver=None, replication_slots=[], controldata=None,
                longest_transaction_seconds=None, longest_transaction_pid=None, archive_ready_count=None,
                backup_in_progress=None, wal_senders_used=None, replication_slots_used=None)


def can_rewind(wal_log_hints, data_checksums, full_page_writes):
    if full_page_writes is None or (wal_log_hints is None and data_checksums is None):
        return None
    return bool((wal_log_hints or data_checksums) and full_page_writes)


def wal_receiver_sql(num):
    cols = ['status', 'slot_name', 'received_tli', 'latest_end_lsn::text AS latest_end_lsn', 'conninfo']
    if num >= 110000:
        cols += ['sender_host', 'sender_port']
    else:
        cols += ['NULL::text AS sender_host', 'NULL::int AS sender_port']
    cols.append('flushed_lsn::text AS flushed_lsn' if num >= 130000 else 'received_lsn::text AS flushed_lsn')
    return 'SELECT %s FROM pg_stat_wal_receiver' % ', '.join(cols)


# Client backends in a transaction, other than this session (walsenders have their own backend_type).
# Without pg_read_all_stats the sessions of other roles are hidden (query '<insufficient privilege>'): counted apart.
LONGEST_TRANSACTION_SQL = (
    "SELECT count(*) FILTER (WHERE query = '<insufficient privilege>')::int AS hidden, "
    "(array_agg(pid ORDER BY xact_start) FILTER (WHERE xact_start IS NOT NULL))[1] AS pid, "
    "EXTRACT(EPOCH FROM (now() - min(xact_start)))::float8 AS seconds "
    "FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
    "AND (backend_type = 'client backend' OR (backend_type IS NULL AND query = '<insufficient privilege>'))")


def archive_ready_sql(num):
    if num >= 120000:
        return "SELECT count(*)::int AS ready FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'"
    return ("SELECT count(*)::int AS ready FROM pg_ls_dir('pg_wal/archive_status', true, false) AS name "
            "WHERE name LIKE '%.ready'")


def backup_sql(num):
    parts = []
    if num >= 130000:
        parts.append('EXISTS (SELECT 1 FROM pg_stat_progress_basebackup)')
    if num < 150000:
        parts.append('pg_is_in_backup()')
    return 'SELECT (%s) AS backup_in_progress' % ' OR '.join(parts)


def slots_sql(num):
    wal_status = 'wal_status' if num >= 130000 else 'NULL::text AS wal_status'
    return ('SELECT slot_name, slot_type, active, restart_lsn::text AS restart_lsn, %s '
            'FROM pg_replication_slots ORDER BY slot_name' % wal_status)


class Gatherer:
    """Runs the read-only queries; a section hidden by missing privileges becomes null with a warning."""

    def __init__(self, module, ql):
        self.module = module
        self.ql = ql

    def optional(self, what, query, params=None):
        try:
            return self.ql.fetch(query, params)
        except DatabaseError as e:
            if getattr(e, 'pgcode', None) != INSUFFICIENT_PRIVILEGE:
                raise
            self.module.warn('%s not gathered: %s' % (what, str(e).strip()))
            return None

    def settings(self):
        rows = self.optional('settings', 'SELECT name, setting, source, boot_val FROM pg_settings WHERE name = ANY(%s)',
                             (list(ALL_SETTINGS),)) or []
        found = dict((row['name'], row['setting']) for row in rows)
        for row in rows:
            if row['name'] in SESSION_SETTINGS and row.get('source') == 'client':
                found[row['name']] = self.server_setting(row['name'], row.get('boot_val'))
        settings = {}
        for name in BOOL_SETTINGS:
            settings[name] = found[name] == 'on' if name in found else None
        for name in TEXT_SETTINGS:
            settings[name] = found.get(name)
        for name in INT_SETTINGS:
            settings[name] = int(found[name]) if found.get(name) not in (None, '') else None
        settings['primary_conninfo'] = mask_conninfo(settings['primary_conninfo'])
        return settings

    def server_setting(self, name, boot_val):
        """The server-wide value of a setting this module's session overrides (configuration files, else the default)."""
        rows = self.optional('server value of %s' % name, FILE_SETTING_SQL, (name,))
        if rows is None:
            return None
        return rows[0]['setting'] if rows else boot_val

    def timeline_start(self, timeline):
        """Where the primary's timeline began, from its history file; None on timeline 1 or when it cannot be read."""
        if not timeline or timeline <= 1:
            return None
        name = history_file_name(timeline)
        try:
            row = self.ql.fetch_one(HISTORY_SQL, (name,))
            return timeline_start(row['history'])
        except (DatabaseError, ValueError) as e:
            self.module.warn('the start of timeline %d not gathered from %s: %s' % (timeline, name, str(e).strip()))
            return None

    def longest_transaction(self):
        """(seconds, pid): (0.0, None) when no transaction is open, (None, None) when sessions are hidden."""
        row = (self.optional('longest transaction', LONGEST_TRANSACTION_SQL) or [None])[0]
        if row is None:
            return None, None
        if row['hidden']:
            self.module.warn('longest transaction not gathered: %d session(s) of other roles are hidden '
                             '(grant pg_read_all_stats to the login role)' % row['hidden'])
            return None, None
        if row['seconds'] is None:
            return 0.0, None
        return max(0.0, float(row['seconds'])), row['pid']

    def activity(self, num, result):
        """The facts a switchover checks: open transactions, archiver backlog, backups, senders and slots in use."""
        result['longest_transaction_seconds'], result['longest_transaction_pid'] = self.longest_transaction()
        row = (self.optional('archive status', archive_ready_sql(num)) or [{}])[0]
        result['archive_ready_count'] = row.get('ready')
        row = (self.optional('backup in progress', backup_sql(num)) or [{}])[0]
        result['backup_in_progress'] = row.get('backup_in_progress')

    def gather(self):
        result = empty_result()
        base = self.ql.fetch_one(BASE_SQL)
        num = int(base['server_version_num'])
        if num < MIN_VERSION_NUM:
            self.module.fail_json(msg='PostgreSQL 10 or later is required, the server is %s' % base['server_version'])
        standby = bool(base['in_recovery'])
        result.update(reachable=True, role='standby' if standby else 'primary', in_recovery=standby,
                      server_version=base['server_version'], server_version_num=num)
        row = (self.optional('system identifier', 'SELECT system_identifier::text AS system_identifier FROM pg_control_system()') or [{}])[0]
        result['system_identifier'] = row.get('system_identifier')
        row = (self.optional('timeline', 'SELECT timeline_id FROM pg_control_checkpoint()') or [{}])[0]
        result['timeline'] = row.get('timeline_id')
        if standby:
            row = self.ql.fetch_one('SELECT pg_last_wal_receive_lsn()::text AS receive_lsn, pg_last_wal_replay_lsn()::text AS replay_lsn, '
                                    'pg_is_wal_replay_paused() AS replay_paused, '
                                    'EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))::float8 AS last_replay_seconds')
            result.update(row)
            rows = self.optional('WAL timelines', WAL_TIMELINES_SQL)
            result['wal_timelines'] = None if rows is None else [int(r['timeline']) for r in rows]
        else:
            row = self.ql.fetch_one(PRIMARY_SQL)
            result['current_lsn'] = row['current_lsn']
            result['timeline'] = row['timeline'] or result['timeline']
            result['timeline_start_lsn'] = self.timeline_start(result['timeline'])
        settings = self.settings()
        result['settings'] = settings
        result['can_rewind'] = can_rewind(settings['wal_log_hints'], settings['data_checksums'], settings['full_page_writes'])
        query = REPLICAS_SQL.format(base=STANDBY_BASE_LSN if standby else PRIMARY_BASE_LSN)
        replicas = self.optional('replicas', query)
        result['replicas'] = replicas or []
        result['wal_senders_used'] = None if replicas is None else len(replicas)
        receivers = self.optional('wal receiver', wal_receiver_sql(num)) or []
        if receivers:
            receiver = receivers[0]
            receiver['conninfo'] = mask_conninfo(receiver['conninfo'])
            result['wal_receiver'] = receiver
            result['received_tli'] = receiver['received_tli']
        slots = self.optional('replication slots', slots_sql(num))
        result['replication_slots'] = slots or []
        result['replication_slots_used'] = None if slots is None else len(slots)
        self.activity(num, result)
        return result


def role_from_controldata(data_dir, cluster_state):
    if cluster_state in STANDBY_STATES:
        return 'standby'
    if cluster_state in PRIMARY_STATES:
        for name in ('standby.signal', 'recovery.conf'):
            if os.path.exists(os.path.join(data_dir, name)):
                return 'standby'
        return 'primary'
    return None


def data_dir_error(data_dir):
    """Why data_dir cannot be read with pg_controldata, or None."""
    if not os.path.isdir(data_dir):
        return 'data_dir %s does not exist or is not a directory' % data_dir
    if not os.path.isfile(os.path.join(data_dir, 'global', 'pg_control')):
        return '%s has no global/pg_control: not a PostgreSQL data directory' % data_dir
    return None


def read_controldata(module):
    data_dir = module.params['data_dir']
    error = data_dir_error(data_dir)
    if error:
        module.fail_json(msg=error)
    bindir = version.find_bindir(module, major=version.data_dir_major(data_dir), bindir=module.params['bindir'])
    data = controldata.read(module, data_dir, bindir)
    if data is None:
        module.fail_json(msg='%s has no global/pg_control: not a PostgreSQL data directory' % data_dir)
    return data


def from_controldata(module, result, data):
    """Fill the result of an unreachable server from pg_controldata."""
    role = role_from_controldata(module.params['data_dir'], data['cluster_state'])
    result.update(role=role, in_recovery=None if role is None else role == 'standby',
                  system_identifier=data['system_identifier'], timeline=data['timeline'],
                  can_rewind=can_rewind(data['wal_log_hints'], data['data_checksums'], data['full_page_writes']))
    for name in BOOL_SETTINGS:
        result['settings'][name] = data[name]
    return result


def main():
    spec = connection_argument_spec()
    spec.update(
        data_dir=dict(type='path'),
        bindir=dict(type='path'),
        use_controldata=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_if=[('use_controldata', True, ['data_dir'])],
                           required_by={'bindir': 'data_dir'})
    conn, error = try_connect(module, autocommit=True)
    if conn is None:
        if not module.params['data_dir']:
            module.fail_json(msg=error)
        result = empty_result()
        missing = data_dir_error(module.params['data_dir'])
        if missing:
            result.update(connection_error=error, data_dir_error=missing)
            module.exit_json(**result)
        data = read_controldata(module)
        result = from_controldata(module, result, data)
        result.update(connection_error=error, controldata=data)
        module.exit_json(**result)
    ql = QueryLog(conn.cursor(), secrets=[module.params['login_password']])
    try:
        result = Gatherer(module, ql).gather()
    except DatabaseError as e:
        module.fail_json(msg='query failed: %s' % ql.redact(str(e)).strip())
    finally:
        conn.close()
    if module.params['use_controldata']:
        result['controldata'] = read_controldata(module)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
