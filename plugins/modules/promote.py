#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: promote
short_description: Promote a PostgreSQL standby to primary, with split-brain and replay-lag guards
version_added: 0.1.0
description:
  - Promotes the standby the module connects to with C(SELECT pg_promote(wait => true, wait_seconds => N)) (PostgreSQL 12+)
    or C(pg_ctl promote -D data_dir) (PostgreSQL 10 and 11, or O(method=pg_ctl)), then waits until
    C(pg_is_in_recovery()) is false.
  - A server that is already a primary is left alone (C(changed=false)).
  - B(Split-brain guard.) Unless O(force=true), every server in O(peers) is tried first; when one is reachable and is
    a primary (not in recovery) the promotion is refused and the message names it.
  - B(Replay guard.) Unless O(force=true), when replay is behind the received WAL by more than O(max_replay_lag_bytes),
    the module waits up to O(replay_wait_timeout) seconds for replay to catch up, then refuses with the byte figure.
  - After the promotion a C(CHECKPOINT) is run (O(checkpoint)) so that C(pg_control) - which C(pg_rewind) reads - shows the
    new timeline; RV(timeline_after) comes from C(pg_control_checkpoint()).
  - With O(reserve_slots), physical replication slots are created on the standby just before the promotion (see there).
  - B(A request that does not finish stands.) When the server is still in recovery O(timeout) seconds after the
    promotion was requested, the module fails with RV(promote_requested=true), but PostgreSQL keeps the request, and the
    server may still finish the promotion later (for example once a WAL receiver blocked in a host name lookup ends).
    Only a stop of the server cancels it (the postmaster removes the signal file when it starts). Before another node
    is run as the primary, stop this one or make sure it cannot be reached by clients.
author:
  - pgstream.replication developers (@pgstream)
options:
  method:
    description:
      - V(auto) uses C(pg_promote()) on PostgreSQL 12 and later and C(pg_ctl promote) before.
      - V(sql) forces C(pg_promote()) (PostgreSQL 12+ only); V(pg_ctl) forces C(pg_ctl promote).
    type: str
    choices: [auto, sql, pg_ctl]
    default: auto
  data_dir:
    description:
      - Data directory, for C(pg_ctl promote). Read from the server (C(SHOW data_directory)) when omitted.
    type: path
  bindir:
    description:
      - Directory of C(pg_ctl). Searched for the server's major version (or O(pg_major)) when omitted.
    type: path
  pg_major:
    description:
      - PostgreSQL major version whose C(pg_ctl) to use when O(bindir) is omitted. Defaults to the server's.
    type: str
  owner:
    description:
      - Operating-system user C(pg_ctl) runs as (through C(runuser)) when the module runs as root; C(pg_ctl) refuses to run as root.
    type: str
    default: postgres
  timeout:
    description:
      - Seconds to wait for the promotion to complete, from the request (C(pg_promote)'s C(wait_seconds) or C(pg_ctl -t),
        then the wait for C(pg_is_in_recovery()) to turn false).
    type: int
    default: 60
  peers:
    description:
      - libpq connection strings (for example V(host=pg1 port=5432 user=postgres dbname=postgres)) of the other nodes of
        the cluster, checked for a running primary before promoting (split-brain guard). Unreachable peers are skipped.
      - A peer that only accepts replication connections (a C(replication) line in C(pg_hba.conf), as for the
        replication user) can be given with V(replication=true) in its string, for example
        V(host=pg1 user=replicator replication=true); it is then asked C(SHOW in_hot_standby), which needs
        PostgreSQL 14 or later on the peer.
      - A peer that is reachable but whose role cannot be told (for example a failing query, or a server that refuses
        the connection - authentication, C(pg_hba.conf), the role - and so runs) also stops the promotion.
      - Treated as secrets (they may contain passwords); messages name peers as C(host:port) only. Prefer a password
        file (C(passfile=) or the C(~/.pgpass) of the user the module runs as) to a C(password=) in the string.
    type: list
    elements: str
    default: []
  peer_connect_timeout:
    description:
      - Seconds to wait for each peer connection. The peers are asked at the same time, so peers that do not answer
        delay the promotion by this long, not this long each.
      - The module looks each peer's host name up itself (libpq's C(connect_timeout) does not cover the lookup) and
        connects to the addresses found (C(hostaddr); the name is still used for the password file). While a lookup
        has no answer another is started every second; one that fails is tried again every half second.
      - An answer that the name does not exist counts only when it came within 2 s (a slower one came from the
        resolver's next name server after the first did not answer, and in a podman container that one does not know
        the containers' names); such a peer is looked up again until this time has passed, then taken for one that
        does not answer. Without an answer that counts (a slower "does not exist", another failure, no answer),
        lookups go on 15 s longer, and a peer whose name is found then is asked; one whose name is not is taken for
        one that does not answer.
    type: int
    default: 5
  peer_password:
    description:
      - Password for the O(peers) whose string has no C(password=), for example the replication user's (it is then used
        instead of a password file). Never logged.
    type: str
  max_replay_lag_bytes:
    description:
      - Largest acceptable gap, in bytes, between the received (C(pg_last_wal_receive_lsn())) and the replayed
        (C(pg_last_wal_replay_lsn())) WAL when promoting.
    type: int
    default: 0
  replay_wait_timeout:
    description:
      - Seconds to wait for replay to get within O(max_replay_lag_bytes) before refusing.
    type: int
    default: 60
  after_lsn:
    description:
      - Before anything else, wait (up to O(replay_wait_timeout) seconds) until this standby has received and flushed WAL
        past this LSN (C(pg_last_wal_receive_lsn()) greater than it), then promote; refuse, with both positions, if it
        does not get there. The switchover passes the old primary's shutdown checkpoint location, so that the standby
        is known to hold every commit the old primary acknowledged, and the wait and the promotion cost one task.
      - Not skipped by O(force).
    type: str
  after_upstream_shutdown:
    description:
      - Before anything else, wait (up to O(replay_wait_timeout) seconds) until the last WAL record this standby has
        received and flushed is its upstream's shutdown checkpoint (C(CHECKPOINT_SHUTDOWN), read with C(pg_waldump) from
        the standby's C(pg_wal)), then promote at once; refuse if that does not happen in time.
      - A clean (fast or smart) shutdown writes that record last, and the upstream's walsenders send it before they exit,
        so once it is here this standby holds every commit the upstream acknowledged, and the upstream has stopped.
      - The switchover starts this module on the target asynchronously before it stops the old primary, so that the
        promotion follows the old primary's stop within a fraction of a second instead of one Ansible task later.
      - The received position is read every 50 ms; C(pg_waldump) runs only when it has moved. Only a shutdown checkpoint
        that starts at or after the position received when the wait began counts; an older one (an upstream restarted
        cleanly and idle since) is ignored.
      - Not skipped by O(force).
    type: bool
    default: false
  checkpoint:
    description:
      - Run C(CHECKPOINT) after the promotion (needs superuser or C(pg_checkpoint)). Without it RV(timeline_after) is
        derived from the current WAL file name.
    type: bool
    default: true
  force:
    description:
      - Skip the split-brain and replay guards.
    type: bool
    default: false
  reserve_slots:
    description:
      - Physical replication slots to create on the standby, with WAL reserved
        (C(pg_create_physical_replication_slot(name, true))), right before the promotion, unless they exist.
      - On a standby a new physical slot starts at the standby's last restartpoint, which is before the point where the
        new timeline begins, and the slot stays through the promotion. A slot created after the promotion would start
        at the promotion's checkpoint, after it. So these slots keep, from the restartpoint on, the WAL that the nodes
        which will stream from the new primary still need. That is the WAL of the fork for the old primary, and the
        WAL a standby that lagged behind this one has not received yet, even when it is more than C(wal_keep_size).
        C(failover.yml) and C(switchover.yml) pass the slots of every node that will follow the new primary.
      - A slot that cannot be created (for example C(max_replication_slots) reached) does not stop the promotion; the
        module warns.
      - Only lower case letters, digits and underscores, at most 63 characters each.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - pgstream.replication.connection
  - pgstream.replication.attributes
attributes:
  check_mode:
    support: full
    details:
      - Runs the read-only checks (including the peer checks and the wait for replay) and reports RV(would); does not promote.
  diff_mode:
    support: none
  platform:
    platforms: posix
'''

EXAMPLES = r'''
- name: Promote pg2, refusing if pg1 is still a running primary
  pgstream.replication.promote:
    peers:
      - "host=pg1.example.com port=5432 user=postgres dbname=postgres"
    max_replay_lag_bytes: 0
    replay_wait_timeout: 120
  become: true
  become_user: postgres
  register: promoted

- name: Show the new timeline
  ansible.builtin.debug:
    msg: "timeline {{ promoted.timeline_before }} -> {{ promoted.timeline_after }} at {{ promoted.promote_lsn }}"

- name: Promote a PostgreSQL 11 standby with pg_ctl
  pgstream.replication.promote:
    method: pg_ctl
    data_dir: /var/lib/postgresql/11/main
  become: true
'''

RETURN = r'''
receive_lsn:
  description: With O(after_lsn) or O(after_upstream_shutdown), the received WAL position the wait ended at (null otherwise).
  returned: always
  type: str
  sample: 0/3000148
shutdown_checkpoint_lsn:
  description: With O(after_upstream_shutdown), where the upstream's shutdown checkpoint record starts (null otherwise).
  returned: always
  type: str
  sample: 0/15262A0
would:
  description: In check mode, V(promote) or V(none).
  returned: check mode
  type: str
  sample: promote
method:
  description: How the server was (or would be) promoted - V(sql) or V(pg_ctl); null when it already was a primary.
  returned: always
  type: str
  sample: sql
cmd:
  description: The C(pg_ctl) command line, when O(method) resolves to V(pg_ctl).
  returned: when pg_ctl is used
  type: str
  sample: /usr/lib/postgresql/11/bin/pg_ctl promote -D /var/lib/postgresql/11/main -w -t 60
queries:
  description: The state-changing SQL statements run (or that would run).
  returned: always
  type: list
  elements: str
  sample: ["SELECT pg_promote(wait => true, wait_seconds => 60)", "CHECKPOINT"]
timeline_before:
  description: Timeline before the promotion (C(pg_control_checkpoint())).
  returned: always
  type: int
  sample: 1
timeline_after:
  description: Timeline after the promotion; equal to RV(timeline_before) when nothing was done; null in check mode.
  returned: always
  type: int
  sample: 2
promote_lsn:
  description: C(pg_last_wal_replay_lsn()) just before the promotion (null when the server was already a primary).
  returned: always
  type: str
  sample: 0/3000148
current_lsn:
  description: C(pg_current_wal_lsn()) after the promotion (or of the primary, when it already was one); null in check mode.
  returned: always
  type: str
  sample: 0/30001C0
replay_lag_bytes:
  description: Received-but-not-replayed WAL in bytes when the checks ran (null on a primary).
  returned: always
  type: int
  sample: 0
peers:
  description: What the split-brain guard saw, one item per peer.
  returned: always
  type: list
  elements: dict
  sample: [{"peer": "pg1:5432", "reachable": false, "in_recovery": null, "error": "connection refused"}]
  contains:
    peer:
      description: The peer as C(host:port), never its password.
      type: str
      returned: always
    reachable:
      description: True when the peer answered (also when it refused the connection), false when it did not answer or
        its name could not be looked up.
      type: bool
      returned: always
    in_recovery:
      description: Whether the peer runs as a standby; null when it could not be asked.
      type: bool
      returned: always
    error:
      description: Why the peer could not be asked, or null.
      type: str
      returned: always
reserved_slots:
  description: The O(reserve_slots) created by this run (or, in check mode, that would be); not those that existed or could
    not be created.
  returned: always
  type: list
  elements: str
  sample: [pgstream_pg1, pgstream_pg3]
promote_requested:
  description:
    - Whether the promotion was requested (C(pg_promote()) or C(pg_ctl promote) ran; false in check mode).
    - When the module fails with this true, the server may still finish the promotion later; stopping it cancels the
      request.
  returned: always
  type: bool
  sample: false
msg:
  description: What was done.
  returned: always
  type: str
'''

import os
import pwd
import shlex
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pgstream.replication.plugins.module_utils.commands import redact, run
from ansible_collections.pgstream.replication.plugins.module_utils.connection import (
    DatabaseError, connect, connection_argument_spec, describe_target)
from ansible_collections.pgstream.replication.plugins.module_utils.lsn import lsn_diff, parse_lsn
from ansible_collections.pgstream.replication.plugins.module_utils.peers import check_peers
from ansible_collections.pgstream.replication.plugins.module_utils.queries import QueryLog
from ansible_collections.pgstream.replication.plugins.module_utils.slots import SLOT_NAME_RE
from ansible_collections.pgstream.replication.plugins.module_utils.version import find_bindir, major_from_num
from ansible_collections.pgstream.replication.plugins.module_utils.waldump import is_clean_shutdown_end, last_record

POLL = 0.1
SHUTDOWN_POLL = 0.05


def argument_spec():
    spec = connection_argument_spec()
    spec.update(
        method=dict(type='str', default='auto', choices=['auto', 'sql', 'pg_ctl']),
        data_dir=dict(type='path'),
        bindir=dict(type='path'),
        pg_major=dict(type='str'),
        owner=dict(type='str', default='postgres'),
        timeout=dict(type='int', default=60),
        peers=dict(type='list', elements='str', default=[], no_log=True),
        peer_connect_timeout=dict(type='int', default=5),
        peer_password=dict(type='str', no_log=True),
        max_replay_lag_bytes=dict(type='int', default=0),
        replay_wait_timeout=dict(type='int', default=60),
        checkpoint=dict(type='bool', default=True),
        force=dict(type='bool', default=False),
        after_lsn=dict(type='str'),
        after_upstream_shutdown=dict(type='bool', default=False),
        reserve_slots=dict(type='list', elements='str', default=[]),
    )
    return spec


def validate(module):
    p = module.params
    if p['after_lsn'] is not None:
        try:
            parse_lsn(p['after_lsn'])
        except ValueError:
            module.fail_json(msg="after_lsn must be an LSN such as 0/3000148, got %r" % p['after_lsn'])
    for name in p['reserve_slots']:
        if not SLOT_NAME_RE.match(name):
            module.fail_json(msg='reserve_slots must be slot names (lower case letters, digits and underscores, 1 to 63 '
                             'characters), got %r' % name)
    for name, low in (('timeout', 1), ('peer_connect_timeout', 1), ('max_replay_lag_bytes', 0), ('replay_wait_timeout', 0)):
        if p[name] < low:
            module.fail_json(msg='%s must be at least %d, got %d' % (name, low, p[name]))


def resolve_method(module, version_num):
    method = module.params['method']
    if version_num < 100000:
        module.fail_json(msg='PostgreSQL %s is not supported (10 or later is needed)' % major_from_num(version_num))
    if method == 'sql' and version_num < 120000:
        module.fail_json(msg='method=sql needs PostgreSQL 12 or later (pg_promote()); this server is %s; use method=pg_ctl'
                         % major_from_num(version_num))
    if method == 'auto':
        return 'sql' if version_num >= 120000 else 'pg_ctl'
    return method


def replay_state(q):
    row = q.fetch_one('SELECT pg_last_wal_receive_lsn()::text AS receive_lsn, pg_last_wal_replay_lsn()::text AS replay_lsn, '
                      'pg_is_wal_replay_paused() AS paused')
    lag = 0
    if row['receive_lsn'] and row['replay_lsn']:
        lag = max(0, lsn_diff(row['receive_lsn'], row['replay_lsn']))
    return lag, row


def wait_for_replay(module, q):
    """Wait (up to replay_wait_timeout) for replay to get within max_replay_lag_bytes; returns the lag in bytes."""
    p = module.params
    deadline = time.time() + p['replay_wait_timeout']
    lag, row = replay_state(q)
    while lag > p['max_replay_lag_bytes'] and time.time() < deadline:
        time.sleep(POLL)
        lag, row = replay_state(q)
    if lag > p['max_replay_lag_bytes'] and not p['force']:
        module.fail_json(msg='refusing to promote: replay is %d bytes behind the received WAL (received %s, replayed %s%s), '
                         'more than max_replay_lag_bytes=%d after waiting %d seconds; set force=true to promote anyway'
                         % (lag, row['receive_lsn'], row['replay_lsn'], ', replay is paused' if row['paused'] else '',
                            p['max_replay_lag_bytes'], p['replay_wait_timeout']),
                         replay_lag_bytes=lag)
    return lag


def wait_for_receive(module, q):
    """Wait (up to replay_wait_timeout) until the received WAL is past after_lsn; returns the received LSN."""
    p = module.params
    deadline = time.time() + p['replay_wait_timeout']
    received = replay_state(q)[1]['receive_lsn']
    while (received is None or lsn_diff(received, p['after_lsn']) <= 0) and time.time() < deadline:
        time.sleep(POLL)
        received = replay_state(q)[1]['receive_lsn']
    if received is None or lsn_diff(received, p['after_lsn']) <= 0:
        module.fail_json(msg='refusing to promote: %s has received WAL up to %s, not past %s, after waiting %d seconds'
                         % (describe_target(module), received or 'nothing', p['after_lsn'], p['replay_wait_timeout']),
                         receive_lsn=received, queries=q.queries)
    return received


def wait_for_upstream_shutdown(module, q, version_num):
    """Wait (up to replay_wait_timeout) until the last record received is the upstream's shutdown checkpoint.
    Returns (received LSN, checkpoint LSN)."""
    p = module.params
    deadline = time.time() + p['replay_wait_timeout']
    bindir = find_bindir(module, major=p['pg_major'] or major_from_num(version_num), bindir=p['bindir'])
    row = q.fetch_one("SELECT current_setting('data_directory') AS data_directory, "
                      "pg_size_bytes(current_setting('wal_segment_size')) AS segment_size, "
                      "(SELECT timeline_id FROM pg_control_checkpoint()) AS timeline")
    wal_dir = os.path.join(p['data_dir'] or row['data_directory'], 'pg_wal')
    segment_size, timeline = int(row['segment_size']), row['timeline']
    looked_at, record, start = None, None, None
    while True:
        state = q.fetch_one('SELECT pg_last_wal_receive_lsn()::text AS receive_lsn, '
                            '(SELECT received_tli FROM pg_stat_wal_receiver) AS received_tli')
        timeline = state['received_tli'] or timeline
        received = state['receive_lsn']
        if start is None:
            # Only a shutdown checkpoint that starts at or after what was received when the wait began counts:
            # an older one (an upstream restarted cleanly and idle since) is not the stop being waited for.
            start = parse_lsn(received) if received else 0
        if received and received != looked_at:
            looked_at = received
            record = last_record(module, bindir, wal_dir, timeline, received, segment_size)
            if is_clean_shutdown_end(record) and parse_lsn(record['lsn']) >= start:
                return received, record['lsn']
        if time.time() >= deadline:
            break
        time.sleep(SHUTDOWN_POLL)
    if record and record.get('error'):
        last = 'pg_waldump: %s' % record['error']
    else:
        last = 'the last record is %s' % ('%s at %s' % (record['type'], record['lsn']) if record else 'not readable')
    module.fail_json(msg='refusing to promote: %s has not received a shutdown checkpoint from its upstream after waiting '
                     '%d seconds (received up to %s; %s)'
                     % (describe_target(module), p['replay_wait_timeout'], looked_at or 'nothing', last),
                     receive_lsn=looked_at, queries=q.queries)


def pg_ctl_argv(module, q, version_num):
    p = module.params
    data_dir = p['data_dir'] or q.fetch_one('SHOW data_directory')['data_directory']
    bindir = find_bindir(module, major=p['pg_major'] or major_from_num(version_num), bindir=p['bindir'])
    argv = [os.path.join(bindir, 'pg_ctl'), 'promote', '-D', data_dir, '-w', '-t', str(p['timeout'])]
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(p['owner'])
        except KeyError:
            module.fail_json(msg='owner %s does not exist on this host' % p['owner'])
        runuser = module.get_bin_path('runuser')
        if not runuser:
            module.fail_json(msg='pg_ctl cannot run as root and runuser was not found; run the task as %s (become_user)'
                             % p['owner'])
        argv = [runuser, '-u', p['owner'], '--'] + argv
    return argv


def reserve_slots(module, q):
    """Create the reserve_slots that do not exist on the standby; returns those created (or that would be in check mode)."""
    created = []
    for name in module.params['reserve_slots']:
        if name in created or q.fetch_one('SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = %(name)s',
                                          {'name': name})['n']:
            continue
        try:
            q.execute('SELECT pg_create_physical_replication_slot(%(name)s, true)', {'name': name})
        except DatabaseError as e:
            module.warn('slot %s was not created before the promotion (%s); promoting without it' % (name, str(e).strip()))
            continue
        created.append(name)
    return created


def promote(module, q, method, argv, secrets, result):
    """Request the promotion and wait (timeout seconds from the request) until the server is out of recovery.
    From here on, result['promote_requested'] is true, in the failures too: the request cannot be taken back."""
    p = module.params
    deadline = time.time() + p['timeout']
    result['promote_requested'] = True
    if method == 'sql':
        q.execute('SELECT pg_promote(wait => true, wait_seconds => %(wait)s)', {'wait': p['timeout']})
    else:
        rc, out, err = run(module, argv, secrets=secrets)
        if rc != 0:
            module.fail_json(msg='pg_ctl promote failed (rc=%d): %s; a request it made stands and the server may still '
                             'finish it: stop the server to cancel it' % (rc, (err or out).strip()), rc=rc,
                             stdout=out, stderr=err, queries=q.queries, **result)
    while q.fetch_one('SELECT pg_is_in_recovery() AS in_recovery')['in_recovery']:
        if time.time() >= deadline:
            module.fail_json(msg='%s is still in recovery %d seconds after the promotion was requested; the request '
                             'stands and the server may still finish it: stop the server to cancel it'
                             % (describe_target(module), p['timeout']), queries=q.queries, **result)
        time.sleep(POLL)


def timeline_after(module, q):
    if module.params['checkpoint']:
        try:
            q.execute('CHECKPOINT')
            return q.fetch_one('SELECT timeline_id FROM pg_control_checkpoint()')['timeline_id']
        except DatabaseError as e:
            module.warn('CHECKPOINT after the promotion failed (%s); timeline_after is taken from the current WAL file name'
                        % str(e).strip())
    name = q.fetch_one('SELECT pg_walfile_name(pg_current_wal_lsn()) AS walfile')['walfile']
    return int(name[:8], 16)


def main():
    module = AnsibleModule(argument_spec=argument_spec(),
                           mutually_exclusive=[('bindir', 'pg_major'), ('after_lsn', 'after_upstream_shutdown')],
                           supports_check_mode=True)
    validate(module)
    p = module.params
    secrets = [p['login_password']]
    conn = connect(module, autocommit=True)
    q = QueryLog(conn.cursor(), secrets=secrets, check_mode=module.check_mode)
    result = dict(changed=False, method=None, timeline_before=None, timeline_after=None, promote_lsn=None,
                  current_lsn=None, replay_lag_bytes=None, peers=[], receive_lsn=None,
                  shutdown_checkpoint_lsn=None, reserved_slots=[], promote_requested=False)
    try:
        row = q.fetch_one("SELECT pg_is_in_recovery() AS in_recovery, current_setting('server_version_num')::int AS version_num")
        version_num = row['version_num']
        result['timeline_before'] = q.fetch_one('SELECT timeline_id FROM pg_control_checkpoint()')['timeline_id']
        if not row['in_recovery']:
            result['timeline_after'] = result['timeline_before']
            result['current_lsn'] = q.fetch_one('SELECT pg_current_wal_lsn()::text AS lsn')['lsn']
            if module.check_mode:
                result['would'] = 'none'
            module.exit_json(msg='%s is already a primary' % describe_target(module), queries=q.queries, **result)
        method = result['method'] = resolve_method(module, version_num)
        argv = pg_ctl_argv(module, q, version_num) if method == 'pg_ctl' else None
        if argv:
            result['cmd'] = redact(' '.join(shlex.quote(a) for a in argv), secrets)
        if p['after_lsn']:
            result['receive_lsn'] = wait_for_receive(module, q)
        elif p['after_upstream_shutdown']:
            result['receive_lsn'], result['shutdown_checkpoint_lsn'] = wait_for_upstream_shutdown(module, q, version_num)
        result['peers'] = check_peers(module, p['peers'], p['peer_connect_timeout'], p['force'], p['peer_password'])
        result['replay_lag_bytes'] = wait_for_replay(module, q)
        result['promote_lsn'] = q.fetch_one('SELECT pg_last_wal_replay_lsn()::text AS lsn')['lsn']
        result['changed'] = True
        result['reserved_slots'] = reserve_slots(module, q)
        if module.check_mode:
            if method == 'sql':
                q.execute('SELECT pg_promote(wait => true, wait_seconds => %(wait)s)', {'wait': p['timeout']})
            result['would'] = 'promote'
            module.exit_json(msg='would promote %s with %s' % (describe_target(module), method), queries=q.queries, **result)
        promote(module, q, method, argv, secrets, result)
        result['timeline_after'] = timeline_after(module, q)
        result['current_lsn'] = q.fetch_one('SELECT pg_current_wal_lsn()::text AS lsn')['lsn']
    except DatabaseError as e:
        module.fail_json(msg='query on %s failed: %s' % (describe_target(module), redact(str(e).strip(), secrets)),
                         queries=q.queries, **result)
    finally:
        conn.close()
    msg = 'promoted %s with %s: timeline %s -> %s' % (describe_target(module), method, result['timeline_before'],
                                                      result['timeline_after'])
    module.exit_json(msg=msg, queries=q.queries, **result)


if __name__ == '__main__':
    main()
