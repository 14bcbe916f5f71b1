#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: gs_ctl_promote
short_description: Make an openGauss standby the primary with gs_ctl switchover or gs_ctl failover
version_added: 0.1.0
description:
  - Runs on the standby that is to become primary. Reads C(gs_ctl query) first; a node that already runs as C(Primary)
    is left alone (C(changed=false)).
  - V(switchover) runs C(gs_ctl switchover -D data_dir -m switchover_mode -w -t timeout) - planned; the standby asks
    its primary to demote itself, and the old primary becomes a standby of this node. openGauss acts on the request
    only while the standby's WAL receiver is online (C(sigusr1_handler()) in C(postmaster.cpp)), so the module refuses
    a switchover when C(gs_ctl query) shows no receiver, and says to use V(failover) if the primary is gone.
  - V(failover) runs C(gs_ctl failover -D data_dir -w -t timeout) - the primary is gone; the standby promotes itself.
  - B(Split-brain guard.) Before a V(failover), a standby whose C(Receiver info) still shows a connected primary is
    refused unless O(force=true); the module first waits up to O(disconnect_wait) seconds for the receiver to notice
    a primary that was just lost (openGauss notices after C(wal_receiver_timeout)). The guard only sees what this node
    sees - a primary that is alive but cut off from this node is not detected; fence it first.
  - C(gs_ctl switchover) exits 0 also when it times out (C(switchover timeout after N seconds), the switchover may
    still complete later), so success is never taken from the exit code - the module polls C(gs_ctl query) until the
    node's C(local_role) is C(Primary) (C(Standby) for a cascade standby's switchover) for up to O(timeout) seconds after
    gs_ctl returned, and fails otherwise.
author:
  - pgstream.replication developers (@pgstream)
options:
  operation:
    description:
      - V(switchover) (planned, the current primary is demoted) or V(failover) (the primary is gone).
    type: str
    choices: [switchover, failover]
    default: switchover
  switchover_mode:
    description:
      - C(gs_ctl switchover -m). gs_ctl of openGauss 1.0.1 and later rejects V(smart) (C(unrecognized shutdown mode
        "smart"), exit 1); the value is passed through so that gs_ctl's own message is returned.
    type: str
    choices: [fast, smart]
    default: fast
  timeout:
    description:
      - C(gs_ctl -t) (gs_ctl's own wait) and, after gs_ctl returned, the module's wait for the new role.
    type: int
    default: 120
  force:
    description:
      - V(failover) even when the receiver shows a connected primary (split-brain guard off).
    type: bool
    default: false
  disconnect_wait:
    description:
      - Seconds a V(failover) waits for the receiver to drop a primary that is still shown as connected before it refuses.
    type: int
    default: 30
extends_documentation_fragment:
  - pgstream.replication.gs_ctl
  - pgstream.replication.attributes
attributes:
  check_mode:
    support: full
    details:
      - Runs C(gs_ctl query) and the checks only, returns RV(would).
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: pgstream.replication.gs_ctl_info
  - module: pgstream.replication.gs_ctl_build
'''

EXAMPLES = r'''
- name: Planned switchover to this standby
  pgstream.replication.gs_ctl_promote:
    data_dir: /opt/opengauss/data
    operation: switchover
  become: true
  become_user: omm

- name: Failover after the primary was lost
  pgstream.replication.gs_ctl_promote:
    data_dir: /opt/opengauss/data
    operation: failover
    timeout: 60
  become: true
  register: failover
'''

RETURN = r'''
would:
  description: In check mode, V(switchover), V(failover) or V(none).
  returned: check mode
  type: str
role_before:
  description: C(local_role) before (C(Standby), C(Primary), ...; null when not running).
  returned: always
  type: str
  sample: Standby
role_after:
  description: C(local_role) after (equal to RV(role_before) when nothing was done; null in check mode).
  returned: always
  type: str
  sample: Primary
state_before:
  description: C(gs_ctl_query.summary()) before (with C(running)); see P(pgstream.replication.gs_ctl_info#module).
  returned: always
  type: dict
state_after:
  description: The same after (null in check mode).
  returned: always
  type: dict
cmd:
  description: The gs_ctl command run (or that would run); null when nothing was to be done.
  returned: always
  type: str
  sample: gs_ctl switchover -D /opt/opengauss/data -m fast -w -t 120
rc:
  description: Exit code of that command (null when none ran).
  returned: always
  type: int
stdout_lines:
  description: Its output.
  returned: always
  type: list
  elements: str
outcome:
  description: What gs_ctl's output said - V(ok), V(switchover_timeout), V(failover_timeout), V(locked), V(failed), ... (null when none ran).
  returned: always
  type: str
elapsed:
  description: Seconds from running gs_ctl to seeing the new role.
  returned: always
  type: float
promote_requested:
  description:
    - Whether gs_ctl asked the server to switch over or fail over (it reached its signalling loop). A request that
      did not finish stands - openGauss may act on it later - and only a stop cancels it, as C(opengauss_failover.yml)
      does.
  returned: always
  type: bool
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pgstream.replication.plugins.module_utils.flavour import get_flavour
from ansible_collections.pgstream.replication.plugins.module_utils.gs_ctl import GsCtl, exit_ok, gs_ctl_argument_spec, last_lines

POLL = 1
STANDBY_ROLES = ('Standby', 'Cascade Standby', 'Main Standby')
# local_role after a successful switchover/failover (do_switchover()/do_failover(): a cascade standby becomes Standby).
TARGET_ROLE = {'Standby': 'Primary', 'Main Standby': 'Primary', 'Cascade Standby': 'Standby'}


def argument_spec():
    spec = gs_ctl_argument_spec()
    spec.update(
        operation=dict(type='str', default='switchover', choices=['switchover', 'failover']),
        switchover_mode=dict(type='str', default='fast', choices=['fast', 'smart']),
        timeout=dict(type='int', default=120),
        force=dict(type='bool', default=False),
        disconnect_wait=dict(type='int', default=30),
    )
    return spec


def state_of(info):
    if info['summary'] is None:
        return dict(running=False, not_running_reason=info['not_running_reason'], role='unknown', local_role=None,
                    db_state=None, detail_information=None, upstream=None, streaming_peers=[], sender_count=0,
                    static_connections=None, warnings=[])
    state = dict(info['summary'])
    state['running'] = True
    state['not_running_reason'] = None
    return state


def primary_connected(state):
    """The upstream this standby's receiver shows as connected (a dict), else None."""
    upstream = state.get('upstream')
    if upstream and upstream.get('state') not in (None, '', 'Unknown', 'Need repair'):
        return upstream
    return None


def requested(operation, res):
    """Whether gs_ctl got as far as asking the server (do_switchover()/do_failover() print their wait line, or
    `server starting ...` without -w, just before they write the signal file and send SIGUSR1)."""
    if res['outcome'] in ('ok', 'switchover_timeout', 'failover_timeout'):
        return True
    marks = ('waiting for server to %s' % operation, 'server starting %s' % operation)
    return any(mark in line for line in res['stdout_lines'] for mark in marks)


def query(module, gs):
    info = gs.query()
    if info['error']:
        gs.fail_query(info)
    return state_of(info)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    for name, low in (('timeout', 1), ('disconnect_wait', 0)):
        if p[name] < low:
            module.fail_json(msg='%s must be at least %d, got %d' % (name, low, p[name]))
    gs = GsCtl(module)
    gs.check_owner()
    flavour = get_flavour('opengauss')
    before = query(module, gs)
    result = dict(changed=False, role_before=before['local_role'], role_after=before['local_role'], state_before=before,
                  state_after=before, cmd=None, rc=None, stdout_lines=[], outcome=None, elapsed=0.0,
                  promote_requested=False)
    if not before['running']:
        module.fail_json(msg='no server running on %s (%s); start it as a standby first'
                         % (p['data_dir'], before['not_running_reason']), **result)
    role = before['local_role']
    if role == 'Primary':
        if module.check_mode:
            result['would'] = 'none'
        exit_ok(module, msg='%s already runs as Primary' % p['data_dir'], **result)
    if role not in STANDBY_ROLES:
        module.fail_json(msg='cannot %s %s: it runs as %s, not as a standby (gs_ctl: server is not in standby or cascade '
                         'standby mode)' % (p['operation'], p['data_dir'], role), **result)
    if p['operation'] == 'switchover':
        argv = flavour.switchover_argv('gs_ctl', p['data_dir'], mode=p['switchover_mode'], timeout=p['timeout'])[1:]
        if before['upstream'] is None:
            module.fail_json(msg='refusing to switch over to %s: its receiver is not connected to a primary (%s, %s), and '
                             'openGauss ignores a switchover request then; use operation=failover if the primary is gone'
                             % (p['data_dir'], before['db_state'], before['detail_information']), **result)
    else:
        argv = flavour.promote_argv('gs_ctl', p['data_dir'], timeout=p['timeout'])[1:]
        deadline = time.time() + p['disconnect_wait']
        while not p['force'] and primary_connected(before) and time.time() < deadline:
            time.sleep(POLL)
            before = query(module, gs)
            result.update(state_before=before, role_before=before['local_role'], role_after=before['local_role'],
                          state_after=before)
        upstream = primary_connected(before)
        if upstream and not p['force']:
            module.fail_json(msg='refusing to fail over to %s: its receiver still shows the primary %s connected (state %s) '
                             'after %d seconds; stop or fence that primary, use operation=switchover, or set force=true'
                             % (p['data_dir'], upstream.get('host') or upstream.get('channel'), upstream.get('state'),
                                p['disconnect_wait']), **result)
        if before['local_role'] == 'Primary':
            exit_ok(module, msg='%s already runs as Primary' % p['data_dir'], **result)
    target = TARGET_ROLE.get(before['local_role'], 'Primary')
    result['changed'] = True
    if module.check_mode:
        result.update(would=p['operation'], state_after=None, role_after=None, cmd=gs.cmd(argv))
        msg = 'would run gs_ctl %s on %s (%s -> %s)' % (p['operation'], p['data_dir'], role, target)
        exit_ok(module, msg=msg, **result)
    started = time.time()
    res = gs.run(argv)
    result.update(cmd=res['cmd'], rc=res['rc'], stdout_lines=res['stdout_lines'], outcome=res['outcome'],
                  promote_requested=requested(p['operation'], res))
    if res['outcome'] not in ('ok', 'switchover_timeout'):
        standing = ('; the request stands, and the server of %s may still become the primary later: stopping it '
                    'cancels the request' % p['data_dir']) if result['promote_requested'] else ''
        module.fail_json(msg='gs_ctl %s failed (rc=%d, %s): %s%s' % (p['operation'], res['rc'], res['outcome'],
                                                                     ' | '.join(last_lines(res['stdout'] + '\n' + res['stderr'])),
                                                                     standing),
                         **result)
    deadline = time.time() + p['timeout']
    while True:
        after = query(module, gs)
        if after['local_role'] == target or time.time() >= deadline:
            break
        time.sleep(POLL)
    result.update(state_after=after, role_after=after['local_role'], elapsed=round(time.time() - started, 1))
    if after['local_role'] != target:
        args = (p['operation'], res['rc'], res['outcome'], p['data_dir'], after['local_role'], target, p['timeout'])
        msg = ('gs_ctl %s returned (rc=%d, %s) but %s is %s, not %s, %d seconds later; check the cluster (a switchover '
               'that timed out may still complete)' % args)
        module.fail_json(msg=msg, **result)
    exit_ok(module, msg='%s: %s -> %s by gs_ctl %s in %.1f s' % (p['data_dir'], role, after['local_role'], p['operation'],
                                                                 result['elapsed']), **result)


if __name__ == '__main__':
    main()
