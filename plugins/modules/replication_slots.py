#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: replication_slots
short_description: Ensure the set of physical replication slots managed by the collection on one server
version_added: 0.1.0
description:
  - Ensures that exactly the physical replication slots listed in O(slots) exist among the slots whose
    name starts with O(prefix) on one server, a primary or a standby that feeds cascading standbys.
  - Missing slots are created with C(pg_create_physical_replication_slot); physical slots with the prefix
    that are not listed (a standby that left the cluster) are dropped with C(pg_drop_replication_slot).
  - Slots whose name does not start with O(prefix) are never touched. Logical slots are never dropped;
    a logical slot with the prefix only causes a warning.
  - An active slot (a walsender is connected to it) that should be dropped is kept with a warning and
    reported in RV(kept_active), unless O(drop_active=true).
  - A listed slot that the server invalidated (C(wal_status) V(lost), PostgreSQL 13 and later; it held back more WAL
    than C(max_slot_wal_keep_size) allows, and that WAL was removed) can never serve its standby again, and a
    C(pg_basebackup) through it fails. It is dropped and created again (RV(recreated)). An active one is kept with a
    warning.
author:
  - pgstream.replication developers (@pgstream)
options:
  slots:
    description:
      - Names of the physical slots that must exist. May be empty (then every physical slot with the
        prefix is dropped).
      - Each name must start with O(prefix) and follow PostgreSQL's rule for slot names (lower case
        letters, digits and underscores, at most 63 characters). Duplicates are an error.
    type: list
    elements: str
    required: true
  prefix:
    description:
      - The namespace managed by the module. Physical slots with this prefix that are not in O(slots)
        are dropped; slots without it are left alone.
      - Must be a non-empty valid slot name prefix (V([a-z0-9_])).
    type: str
    default: pgstream_
  immediately_reserve:
    description:
      - Reserve WAL for a new slot right away (second argument of C(pg_create_physical_replication_slot)),
        so no WAL a standby still needs is removed before the standby first connects.
      - Only applies to slots created by this run.
    type: bool
    default: true
  drop_active:
    description:
      - Also drop stale slots that are active. Their walsender is ended with C(pg_terminate_backend) first,
        then the slot is dropped once it is released.
      - Without it an active stale slot is left in place with a warning and listed in RV(kept_active).
    type: bool
    default: false
extends_documentation_fragment:
  - pgstream.replication.connection
  - pgstream.replication.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - Needs PostgreSQL 10 or later, and O(login_user) with C(REPLICATION) or superuser. Ending the walsender
    of an active slot (O(drop_active=true)) needs a superuser or a member of C(pg_signal_backend).
  - On a standby, physical slots can be created for cascading standbys. Run the module on every server
    whose slots the collection manages.
  - The server needs C(max_replication_slots) large enough for all slots, and C(wal_level) of at least C(replica).
'''

EXAMPLES = r'''
- name: Ensure one slot per standby on the primary
  pgstream.replication.replication_slots:
    slots:
      - pgstream_pg2
      - pgstream_pg3
  become: true
  become_user: postgres

- name: Remove the slot of a standby that left, even if it is still connected
  pgstream.replication.replication_slots:
    slots: [pgstream_pg2]
    drop_active: true
  become: true
  become_user: postgres

- name: Slots of cascading standbys on a standby, in their own namespace
  pgstream.replication.replication_slots:
    slots: [cascade_pg4]
    prefix: cascade_
    login_unix_socket: /var/run/postgresql
    login_port: 5433
  become: true
  become_user: postgres
'''

RETURN = r'''
created:
  description: Slots created (or, in check mode, that would be created), in the order of O(slots).
  returned: always
  type: list
  elements: str
  sample: [pgstream_pg3]
dropped:
  description: Slots dropped (or, in check mode, that would be dropped), sorted by name.
  returned: always
  type: list
  elements: str
  sample: [pgstream_pg4]
recreated:
  description:
    - Listed slots that were invalidated (C(wal_status) V(lost)) and were dropped and created again (or, in check mode,
      would be), sorted by name. The standby that used such a slot lost the WAL it needed; it has to be cloned again.
  returned: always
  type: list
  elements: str
  sample: [pgstream_pg2]
kept_active:
  description: Stale slots that were active and therefore kept (O(drop_active=false)), sorted by name.
  returned: always
  type: list
  elements: str
  sample: []
slots:
  description:
    - The physical slots with the prefix after the run (predicted in check mode), sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    slot_name:
      description: Name of the slot.
      type: str
      returned: always
      sample: pgstream_pg2
    active:
      description: Whether a walsender is connected to the slot.
      type: bool
      returned: always
      sample: true
    restart_lsn:
      description: Oldest WAL position the slot keeps; null when no WAL is reserved yet.
      type: str
      returned: always
      sample: 0/3000148
    wal_status:
      description: C(wal_status) of C(pg_replication_slots) (V(reserved), V(extended), V(unreserved), V(lost));
        null for a slot that does not reserve WAL yet, or predicted in check mode.
      type: str
      returned: on PostgreSQL 13 and later
      sample: reserved
queries:
  description: The statements that changed something (or, in check mode, that would be executed).
  returned: always
  type: list
  elements: str
  sample:
    - "SELECT pg_drop_replication_slot('pgstream_pg4')"
    - "SELECT pg_create_physical_replication_slot('pgstream_pg3', true)"
'''

import re
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pgstream.replication.plugins.module_utils.connection import (
    DatabaseError, connect, connection_argument_spec)
from ansible_collections.pgstream.replication.plugins.module_utils.queries import QueryLog
from ansible_collections.pgstream.replication.plugins.module_utils.slots import SLOT_NAME_RE

MIN_VERSION_NUM = 100000
WAL_STATUS_VERSION_NUM = 130000
PREFIX_RE = re.compile(r'^[a-z0-9_]+$')
OBJECT_IN_USE = '55006'
# How long drop_active waits for a terminated walsender to release its slot.
RELEASE_TIMEOUT = 15.0
RELEASE_INTERVAL = 0.2

VERSION_SQL = ("SELECT current_setting('server_version') AS server_version, "
               "current_setting('server_version_num')::int AS server_version_num")
CREATE_SQL = 'SELECT pg_create_physical_replication_slot(%s, %s)'
DROP_SQL = 'SELECT pg_drop_replication_slot(%s)'
TERMINATE_SQL = 'SELECT pg_terminate_backend(%s)'
ACTIVE_PID_SQL = 'SELECT slot_name, active_pid FROM pg_replication_slots WHERE slot_name = %s'


def slots_sql(num):
    wal_status = 'wal_status' if num >= WAL_STATUS_VERSION_NUM else 'NULL::text AS wal_status'
    return ('SELECT slot_name, slot_type, active, active_pid, restart_lsn::text AS restart_lsn, %s '
            'FROM pg_replication_slots ORDER BY slot_name' % wal_status)


def argument_spec():
    spec = connection_argument_spec()
    spec.update(
        slots=dict(type='list', elements='str', required=True),
        prefix=dict(type='str', default='pgstream_'),
        immediately_reserve=dict(type='bool', default=True),
        drop_active=dict(type='bool', default=False),
    )
    return spec


def _names(names):
    return ', '.join(repr(str(n)) for n in names)


def validate(module):
    """Fail before connecting when prefix or slots are unusable; every problem in one message."""
    prefix, slots = module.params['prefix'], module.params['slots']
    if not prefix or not PREFIX_RE.match(prefix) or len(prefix) > 63:
        module.fail_json(msg='prefix must be 1 to 63 lower case letters, digits or underscores (it is part of every '
                             'managed slot name), got %r' % (prefix,))
    problems = []
    invalid = [n for n in slots if not SLOT_NAME_RE.match(n or '')]
    if invalid:
        problems.append('invalid slot names (only lower case letters, digits and underscores, 1 to 63 characters): %s'
                        % _names(invalid))
    seen, duplicates = set(), []
    for name in slots:
        if name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
    if duplicates:
        problems.append('duplicate slot names: %s' % _names(duplicates))
    outside = [n for n in slots if n and not n.startswith(prefix)]
    if outside:
        problems.append('slot names without the prefix %r (the module only manages that namespace): %s'
                        % (prefix, _names(outside)))
    if problems:
        module.fail_json(msg='; '.join(problems))


def public(row, num):
    slot = dict(slot_name=row['slot_name'], active=bool(row['active']), restart_lsn=row['restart_lsn'])
    if num >= WAL_STATUS_VERSION_NUM:
        slot['wal_status'] = row['wal_status']
    return slot


class SlotManager:
    def __init__(self, module, ql):
        self.module = module
        self.ql = ql
        self.params = module.params
        self.num = None

    def server_version(self):
        row = self.ql.fetch_one(VERSION_SQL)
        num = int(row['server_version_num'])
        if num < MIN_VERSION_NUM:
            self.module.fail_json(msg='PostgreSQL 10 or later is required, the server is %s' % row['server_version'],
                                  queries=self.ql.queries)
        self.num = num

    def managed(self):
        """(physical slots with the prefix by name, logical slot names with the prefix)."""
        prefix = self.params['prefix']
        physical, logical = {}, []
        for row in self.ql.fetch(slots_sql(self.num)):
            if not row['slot_name'].startswith(prefix):
                continue
            if row['slot_type'] == 'physical':
                physical[row['slot_name']] = row
            else:
                logical.append(row['slot_name'])
        return physical, logical

    def wait_released(self, name, terminated):
        """Terminate the slot's walsender (each pid once) until the slot is inactive; True when released."""
        for dummy in range(int(RELEASE_TIMEOUT / RELEASE_INTERVAL) + 1):
            row = self.ql.fetch_one(ACTIVE_PID_SQL, (name,))
            if row is None or row['active_pid'] is None:
                return True
            if row['active_pid'] not in terminated:
                terminated.add(row['active_pid'])
                self.ql.execute(TERMINATE_SQL, (row['active_pid'],))
            time.sleep(RELEASE_INTERVAL)
        return False

    def drop_active_slot(self, name, pid):
        if self.module.check_mode:
            self.ql.execute(TERMINATE_SQL, (pid,))
            self.ql.execute(DROP_SQL, (name,))
            return
        terminated = set()
        for dummy in range(3):  # a standby may reconnect between the release and the drop
            if not self.wait_released(name, terminated):
                break
            try:
                self.ql.execute(DROP_SQL, (name,))
                return
            except DatabaseError as e:
                if getattr(e, 'pgcode', None) != OBJECT_IN_USE:
                    raise
        self.module.fail_json(msg='slot %s is still in use %.0f seconds after its walsender was terminated; '
                                  'stop the standby that streams from it and run again' % (name, RELEASE_TIMEOUT),
                              queries=self.ql.queries)

    def run(self):
        params = self.params
        wanted = params['slots']
        self.server_version()
        before, logical = self.managed()
        for name in sorted(logical):
            if name not in wanted:
                self.module.warn('slot %s has the prefix %s but is a logical slot; logical slots are never dropped'
                                 % (name, params['prefix']))
        clash = [n for n in wanted if n in logical]
        if clash:
            self.module.fail_json(msg='slots %s exist as logical slots; a physical slot cannot be created with the same '
                                      'name. Drop them yourself or choose other names.' % _names(clash),
                                  queries=self.ql.queries)

        dropped, kept_active = [], []
        for name in sorted(set(before) - set(wanted)):
            row = before[name]
            if row['active_pid'] is not None or row['active']:
                if not params['drop_active']:
                    kept_active.append(name)
                    self.module.warn('slot %s is not in slots but is active (walsender pid %s), so it was kept; set '
                                     'drop_active=true to terminate the walsender and drop it' % (name, row['active_pid']))
                    continue
                self.drop_active_slot(name, row['active_pid'])
            else:
                self.ql.execute(DROP_SQL, (name,))
            dropped.append(name)

        recreated = []
        for name in sorted(n for n in wanted if n in before and before[n]['wal_status'] == 'lost'):
            if before[name]['active_pid'] is not None or before[name]['active']:
                self.module.warn('slot %s was invalidated (wal_status lost) but is still active (walsender pid %s), so '
                                 'it was kept' % (name, before[name]['active_pid']))
                continue
            self.ql.execute(DROP_SQL, (name,))
            self.ql.execute(CREATE_SQL, (name, params['immediately_reserve']))
            recreated.append(name)

        created = [n for n in wanted if n not in before]
        for name in created:
            self.ql.execute(CREATE_SQL, (name, params['immediately_reserve']))

        changed = bool(created or dropped or recreated)
        if changed and not self.module.check_mode:
            after_rows = self.managed()[0]
        else:
            after_rows = dict((n, r) for n, r in before.items() if n not in dropped)
            for name in created + recreated:
                after_rows[name] = dict(slot_name=name, active=False, restart_lsn=None, wal_status=None)
        result = dict(changed=changed, created=created, dropped=dropped, recreated=recreated, kept_active=kept_active,
                      slots=[public(after_rows[n], self.num) for n in sorted(after_rows)], queries=self.ql.queries)
        if self.module._diff:
            result['diff'] = dict(before=dict(slots=sorted(before), lost=sorted(n for n, r in before.items()
                                                                                if r['wal_status'] == 'lost')),
                                  after=dict(slots=sorted(after_rows), lost=sorted(n for n, r in after_rows.items()
                                                                                   if r['wal_status'] == 'lost')))
        return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    validate(module)
    conn = connect(module, autocommit=True)
    ql = QueryLog(conn.cursor(), secrets=[module.params['login_password']], check_mode=module.check_mode)
    try:
        result = SlotManager(module, ql).run()
    except DatabaseError as e:
        module.fail_json(msg='query failed: %s' % ql.redact(str(e)).strip(), queries=ql.queries)
    finally:
        conn.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
