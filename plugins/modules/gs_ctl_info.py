#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: gs_ctl_info
short_description: Read the replication state of an openGauss instance with gs_ctl query
version_added: 0.1.0
description:
  - Read-only. Runs C(gs_ctl query -D data_dir) as O(owner) and returns its C(HA state), C(Senders info) and
    C(Receiver info) blocks parsed into data, plus a summary (role, streaming peers, upstream) for decisions.
  - A stopped instance is not an error - RV(running) is false. C(gs_ctl query) says so with exit code 1 and
    C(PID file ... does not exist), C(the postmaster process N is not running) or
    C(The process recorded in PID file ... is not current server) (openGauss-server C(src/bin/pg_ctl/pg_ctl.cpp) C(do_query())).
  - Values gs_ctl prints that the parser does not know are returned as they are and listed in RV(query_warnings) (and raised as Ansible warnings); they
    are never mapped onto a known state.
author:
  - pgstream.replication developers (@pgstream)
options: {}
extends_documentation_fragment:
  - pgstream.replication.gs_ctl
  - pgstream.replication.attributes
attributes:
  check_mode:
    support: full
    details:
      - Runs C(gs_ctl query), which changes nothing, also in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: pgstream.replication.gs_ctl_build
  - module: pgstream.replication.gs_ctl_promote
'''

EXAMPLES = r'''
- name: Read the openGauss replication state
  pgstream.replication.gs_ctl_info:
    data_dir: /opt/opengauss/data
    gauss_home: /opt/opengauss
  become: true
  register: og

- name: Wait until the standby streams
  pgstream.replication.gs_ctl_info:
    data_dir: /opt/opengauss/data
  become: true
  become_user: omm
  register: og
  until: og.running and og.local_role == 'Standby' and og.db_state == 'Normal' and og.receiver is not none
  retries: 30
  delay: 2
'''

RETURN = r'''
running:
  description: Whether a server runs on O(data_dir) (false when C(gs_ctl query) says there is none).
  returned: always
  type: bool
  sample: true
not_running_reason:
  description:
    - Why RV(running) is false - V(no_pid_file), V(postmaster_gone) or V(foreign_pid); null when running.
  returned: always
  type: str
local_role:
  description: C(local_role) of the C(HA state) block as printed (C(Primary), C(Standby), C(Cascade Standby), C(Normal), C(Pending), ...).
  returned: always
  type: str
  sample: Standby
role:
  description: RV(local_role) condensed - V(primary), V(standby), V(cascade_standby), V(pending) or V(unknown) (also when not running).
  returned: always
  type: str
  sample: standby
db_state:
  description: C(db_state) of the C(HA state) block (C(Normal), C(Need repair), C(Catchup), C(Building), ...).
  returned: always
  type: str
  sample: Normal
detail_information:
  description: C(detail_information) of the C(HA state) block (C(Normal), C(Connecting...), C(Disconnected), a rebuild reason).
  returned: always
  type: str
  sample: Normal
static_connections:
  description: Number of configured C(replconninfoN) channels (C(static_connections)); null when not running.
  returned: always
  type: int
  sample: 2
ha_state:
  description: The whole C(HA state) block (keys as gs_ctl prints them); null when not running.
  returned: always
  type: dict
senders:
  description: One dict per C(Senders info) row (C(sender_pid), C(peer_role), C(state), C(sync_state), C(channel), the locations...).
  returned: always
  type: list
  elements: dict
receiver:
  description: The C(Receiver info) row (C(receiver_pid), C(state), C(peer_role), C(channel), ...), null when gs_ctl printed C(No information).
  returned: always
  type: dict
summary:
  description:
    - C(gs_ctl_query.summary()) - C(role), C(local_role), C(db_state), C(detail_information), C(static_connections),
      C(streaming_peers) (the streaming senders, with C(peer_host)/C(peer_port) from the channel), C(sender_count),
      C(upstream) (the receiver's C(state), C(channel), C(host), C(port)) and C(warnings). Null when not running.
  returned: always
  type: dict
query_warnings:
  description:
    - What the parser did not recognise (unknown state values, missing blocks, unparsed lines); each is also raised as an
      Ansible warning (the task result's C(warnings)).
  returned: always
  type: list
  elements: str
raw_lines:
  description: C(gs_ctl query)'s output, one item per line, as printed.
  returned: always
  type: list
  elements: str
rc:
  description: Exit code of C(gs_ctl query) (1 when no server runs; the task does not fail for that).
  returned: always
  type: int
  sample: 0
cmd:
  description: The command that was run.
  returned: always
  type: str
  sample: gs_ctl query -D /opt/opengauss/data
gs_ctl:
  description: Path of the C(gs_ctl) that was run.
  returned: always
  type: str
  sample: /opt/opengauss/bin/gs_ctl
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pgstream.replication.plugins.module_utils.gs_ctl import GsCtl, exit_ok, gs_ctl_argument_spec, query_result


def main():
    module = AnsibleModule(argument_spec=gs_ctl_argument_spec(), supports_check_mode=True)
    gs = GsCtl(module)
    gs.check_owner()
    info = gs.query()
    if info['error']:
        gs.fail_query(info, running=None, gs_ctl=gs.path)
    result = query_result(gs, info)
    if result['running']:
        msg = '%s: %s, %s (%s)' % (module.params['data_dir'], result['local_role'], result['db_state'],
                                   result['detail_information'])
    else:
        msg = '%s: no server running (%s)' % (module.params['data_dir'], result['not_running_reason'])
    exit_ok(module, changed=False, msg=msg, **result)


if __name__ == '__main__':
    main()
