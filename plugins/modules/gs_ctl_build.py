#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: gs_ctl_build
short_description: Build (or rebuild) an openGauss standby with gs_ctl build, idempotently
version_added: 0.1.0
description:
  - Runs C(gs_ctl query) first. A node that runs as a standby (O(server_mode)), whose C(db_state) is C(Normal) and whose
    C(Receiver info) shows it streaming (C(state) C(Normal)) from O(expected_primary) - or from any primary when
    O(expected_primary) is omitted - is left alone (C(changed=false)) unless O(force=true).
  - Otherwise runs C(gs_ctl build -D data_dir -b build_mode -M server_mode -w -t timeout) as O(owner), then waits
    (O(wait_streaming)) until the node streams, and reports RV(state_before), RV(state_after) and RV(reason).
  - Refuses to build a node that runs as a primary (C(Primary) or C(Normal)) or as C(Pending); C(gs_ctl build) refuses
    that too (C(The local server run as Primary,build cannot be executed.)).
  - B(What a build does to the data directory) (openGauss-server C(src/bin/pg_ctl/), C(do_build()), C(delete_datadir())
    in C(pg_build.cpp)) - a C(full) or C(standby_full) build, and the full build that C(auto) falls back to when its
    incremental build fails, B(deletes the data directory's contents) (keeping C(postgresql.conf), C(gaussdb.state), SSL
    and a few other files) and the targets of its symbolic links (C(pg_xlog), tablespaces) once it has reached the
    source, then copies everything from the source. gs_ctl keeps no copy. An C(incremental) build rewrites the data
    directory in place from the primary (like C(pg_rewind)).
  - With O(keep_old_data=true) (the default) the module keeps the old data for every build that would delete it - the
    server is stopped (C(gs_ctl stop -m fast)), the data directory is renamed to C(<data_dir>.moved-<timestamp>), a new
    data directory with the same owner and mode is created and the old one's top-level files (C(postgresql.conf),
    C(pg_hba.conf), C(PG_VERSION), SSL files, ... - not C(postmaster.pid)) are copied into it, because gs_ctl reads its
    configuration (C(replconninfoN)) from there; then C(gs_ctl build -b full) runs. For O(build_mode=auto) the module
    does what C(gs_ctl build -b auto) does in two steps - C(-b incremental) first, then, only if that failed while the
    primary was reachable, the steps above and C(-b full). The renamed directory is never removed by this module.
  - O(keep_old_data=true) refuses (before changing anything) when the data directory contains symbolic links (an
    external C(pg_xlog) or C(pg_tblspc) tablespaces), because a renamed directory would not protect their targets, or when
    the parent directory is not writable; set O(keep_old_data=false) to let gs_ctl delete the old data.
  - B(Where idempotence is partial.) The decision reads only C(gs_ctl query). A standby that is C(Normal) and streaming
    but whose data diverged from the primary (for example an old primary that was restarted as a standby and happens
    to stream) cannot be told from a healthy one without a build - use O(force=true) when you know it diverged. A standby
    in C(Catchup) from the expected primary is left alone (it is catching up, not broken); a standby in C(Need repair)
    is rebuilt whatever the reason C(detail_information) gives. O(expected_primary) is compared with the address in
    the receiver's C(channel) (C(local<--remote)); a host name is resolved on the managed node first.
author:
  - pgstream.replication developers (@pgstream)
options:
  build_mode:
    description:
      - C(gs_ctl build -b). V(auto) is incremental, falling back to full (see above); V(standby_full) copies from a
        standby instead of the primary.
    type: str
    choices: [full, incremental, auto, standby_full]
    default: auto
  server_mode:
    description:
      - C(gs_ctl build -M) - the mode the node starts in after the build, and the C(local_role) the idempotence check
        expects (C(Standby) or C(Cascade Standby)).
    type: str
    choices: [standby, cascade_standby]
    default: standby
  expected_primary:
    description:
      - Host name or IP address the standby must stream from for the node to count as fine (compared with the remote
        end of the receiver's C(channel)). Omitted - any streaming receiver will do.
    type: str
  force:
    description:
      - Build even when the node already streams fine.
    type: bool
    default: false
  keep_old_data:
    description:
      - Keep the old data of builds that would delete it by renaming the data directory to C(<data_dir>.moved-<timestamp>)
        first (see above). Only for full builds (and the full step of V(auto)).
    type: bool
    default: true
  timeout:
    description:
      - Seconds for C(gs_ctl -t) (the wait for the server to stop before and to start after the build) and for the wait
        for streaming after the build (O(wait_streaming)). The copy itself is not bounded.
    type: int
    default: 600
  recv_timeout:
    description:
      - C(gs_ctl build -r) (C(--recvtimeout)) - seconds the build's replication connection waits for the source; gs_ctl's
        default (120) when omitted.
    type: int
  wait_streaming:
    description:
      - After a build, wait up to O(timeout) seconds for C(gs_ctl query) to show the node as it should be (role,
        C(Normal), receiver from O(expected_primary)); fail if it does not get there.
    type: bool
    default: true
extends_documentation_fragment:
  - pgstream.replication.gs_ctl
  - pgstream.replication.attributes
attributes:
  check_mode:
    support: full
    details:
      - Runs C(gs_ctl query) only and returns RV(would_build) and RV(reason).
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: pgstream.replication.gs_ctl_info
  - module: pgstream.replication.gs_ctl_promote
'''

EXAMPLES = r'''
- name: First setup of a standby (full build; an existing data directory is kept aside)
  pgstream.replication.gs_ctl_build:
    data_dir: /opt/opengauss/data
    gauss_home: /opt/opengauss
    build_mode: full
    expected_primary: 10.0.0.11
  become: true

- name: Rejoin an old primary after a failover (incremental, falling back to full)
  pgstream.replication.gs_ctl_build:
    data_dir: /opt/opengauss/data
    build_mode: auto
    expected_primary: "{{ new_primary_ip }}"
  become: true
  become_user: omm
  register: rejoin
'''

RETURN = r'''
reason:
  description: Why a build was or was not run.
  returned: always
  type: str
  sample: "Standby, Need repair (Connecting...), no receiver"
would_build:
  description: Whether a build is (or, in check mode, would be) needed.
  returned: always
  type: bool
state_before:
  description: C(gs_ctl_query.summary()) of the node before (with C(running)); see P(pgstream.replication.gs_ctl_info#module).
  returned: always
  type: dict
state_after:
  description: The same after the build (equal to RV(state_before) when nothing was done, null in check mode).
  returned: always
  type: dict
build_mode:
  description: The C(-b) mode(s) actually run, in order (for example V([incremental, full]) for V(auto) with O(keep_old_data)).
  returned: always
  type: list
  elements: str
old_data_dir:
  description: Where the previous data directory was moved to (null when nothing was moved).
  returned: always
  type: str
  sample: /opt/opengauss/data.moved-20250101T120000
cmd:
  description: The last C(gs_ctl build) command run (null when none).
  returned: always
  type: str
  sample: gs_ctl build -D /opt/opengauss/data -b full -M standby -w -t 600
commands:
  description: Every state-changing command run, with its exit code.
  returned: always
  type: list
  elements: dict
  sample: [{"cmd": "gs_ctl build -D /data -b incremental -M standby -w -t 600", "rc": 0}]
stdout_lines:
  description: The output of the build command(s).
  returned: always
  type: list
  elements: str
rc:
  description: Exit code of the last build command (null when none ran).
  returned: always
  type: int
query_warnings:
  description: Parser warnings of the queries before and after (also raised as Ansible warnings).
  returned: always
  type: list
  elements: str
'''

import os
import shutil
import socket
import stat
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pgstream.replication.plugins.module_utils.datadir import moved_aside_path
from ansible_collections.pgstream.replication.plugins.module_utils.flavour import get_flavour
from ansible_collections.pgstream.replication.plugins.module_utils.gs_ctl import GsCtl, exit_ok, gs_ctl_argument_spec, last_lines

POLL = 2
EXPECTED_ROLE = {'standby': 'Standby', 'cascade_standby': 'Cascade Standby'}
FULL_MODES = ('full', 'standby_full')
# Top-level files not carried into the new data directory when the old one is kept aside.
NOT_COPIED = frozenset(['postmaster.pid', 'postmaster.pid.lock'])


def argument_spec():
    spec = gs_ctl_argument_spec()
    spec.update(
        build_mode=dict(type='str', default='auto', choices=['full', 'incremental', 'auto', 'standby_full']),
        server_mode=dict(type='str', default='standby', choices=['standby', 'cascade_standby']),
        expected_primary=dict(type='str'),
        force=dict(type='bool', default=False),
        keep_old_data=dict(type='bool', default=True),
        timeout=dict(type='int', default=600),
        recv_timeout=dict(type='int'),
        wait_streaming=dict(type='bool', default=True),
    )
    return spec


def addresses(host):
    """The host itself plus every address it resolves to (empty resolution is not an error)."""
    found = set([host])
    try:
        for info in socket.getaddrinfo(host, None):
            found.add(info[4][0])
    except (socket.error, UnicodeError):
        pass
    return found


def state_of(info):
    """summary() of a query (plus running); a stub when the server is not running."""
    if info['summary'] is None:
        return dict(running=False, not_running_reason=info['not_running_reason'], role='unknown', local_role=None,
                    db_state=None, detail_information=None, upstream=None, streaming_peers=[], sender_count=0,
                    static_connections=None, warnings=[])
    state = dict(info['summary'])
    state['running'] = True
    state['not_running_reason'] = None
    return state


def assess(state, server_mode, expected):
    """(fine, reason): whether the node already is a standby streaming from the expected primary."""
    if not state['running']:
        return False, 'no server running (%s)' % state['not_running_reason']
    role, db_state, detail = state['local_role'], state['db_state'], state['detail_information']
    want = EXPECTED_ROLE[server_mode]
    upstream = state['upstream']
    where = '%s, %s (%s)' % (role, db_state, detail)
    if role != want:
        return False, '%s, not %s' % (where, want)
    if upstream is None:
        return False, '%s, no receiver' % where
    host = upstream.get('host')
    if expected and host not in expected:
        return False, '%s, streaming from %s, not from %s' % (where, host, sorted(expected)[0])
    if db_state == 'Catchup' or (db_state == 'Normal' and upstream.get('state') == 'Catchup'):
        return True, '%s, catching up from %s; a catching-up standby is not rebuilt' % (where, host)
    if db_state != 'Normal' or upstream.get('state') != 'Normal':
        return False, '%s, receiver state %s' % (where, upstream.get('state'))
    return True, '%s, streaming from %s' % (where, host)


def refuse_if_not_standby(module, state):
    if not state['running']:
        return
    if state['role'] in ('primary', 'pending') or state['local_role'] in ('Primary', 'Normal', 'Pending'):
        module.fail_json(msg='refusing to build %s: the server runs as %s (gs_ctl build only rebuilds a standby; demote '
                         'it or stop it first)' % (module.params['data_dir'], state['local_role']), state_before=state)


def check_keep_aside(module, data_dir):
    """Fail (before anything changed) when the old data cannot be kept by renaming the data directory."""
    problems = []
    for name in sorted(os.listdir(data_dir)):
        if os.path.islink(os.path.join(data_dir, name)):
            problems.append('%s is a symbolic link' % name)
    tblspc = os.path.join(data_dir, 'pg_tblspc')
    if os.path.isdir(tblspc) and os.listdir(tblspc):
        problems.append('pg_tblspc holds tablespaces (%s)' % ', '.join(sorted(os.listdir(tblspc))))
    parent = os.path.dirname(data_dir.rstrip('/')) or '/'
    if not os.access(parent, os.W_OK | os.X_OK):
        problems.append('the parent directory %s is not writable by this user' % parent)
    if problems:
        module.fail_json(msg='keep_old_data=true cannot keep the old data of %s aside: %s. Move them yourself, or set '
                         'keep_old_data=false to let gs_ctl delete the old data' % (data_dir, '; '.join(problems)))


def move_aside(module, data_dir):
    """Rename data_dir, recreate it (same owner and mode) with the old top-level files. Returns the new path."""
    st = os.stat(data_dir)
    aside = moved_aside_path(data_dir)
    os.rename(data_dir, aside)
    try:
        os.mkdir(data_dir, stat.S_IMODE(st.st_mode))
        os.chmod(data_dir, stat.S_IMODE(st.st_mode))
        if os.geteuid() == 0:
            os.chown(data_dir, st.st_uid, st.st_gid)
        for name in sorted(os.listdir(aside)):
            src = os.path.join(aside, name)
            if name in NOT_COPIED or os.path.islink(src) or not os.path.isfile(src):
                continue
            dst = os.path.join(data_dir, name)
            shutil.copy2(src, dst)
            if os.geteuid() == 0:
                fst = os.stat(src)
                os.chown(dst, fst.st_uid, fst.st_gid)
    except (IOError, OSError) as e:
        module.fail_json(msg='moved %s to %s but could not prepare the new data directory: %s; the old data is in %s'
                         % (data_dir, aside, e, aside), old_data_dir=aside, changed=True)
    return aside


class Builder(object):
    def __init__(self, module, gs):
        self.module = module
        self.gs = gs
        self.flavour = get_flavour('opengauss')
        self.commands = []
        self.lines = []
        self.modes = []
        self.old_data_dir = None
        self.last = None

    def fail(self, msg, **extra):
        extra.setdefault('changed', bool(self.commands))
        if self.old_data_dir:
            msg += ('; the previous data directory is kept in %s (to go back: stop the server, move %s away and rename %s '
                    'to it)' % (self.old_data_dir, self.module.params['data_dir'], self.old_data_dir))
        self.module.fail_json(msg=msg, commands=self.commands, stdout_lines=self.lines, build_mode=self.modes,
                              old_data_dir=self.old_data_dir, cmd=self.last and self.last['cmd'],
                              rc=self.last and self.last['rc'], **extra)

    def command(self, argv_tail):
        res = self.gs.run(argv_tail)
        self.commands.append({'cmd': res['cmd'], 'rc': res['rc']})
        self.lines.extend(res['stdout_lines'])
        return res

    def build(self, mode):
        p = self.module.params
        argv = self.flavour.build_argv('gs_ctl', p['data_dir'], mode, server_mode=p['server_mode'], timeout=p['timeout'],
                                       recv_timeout=p['recv_timeout'])[1:]
        self.modes.append(mode)
        self.last = self.command(argv)
        return self.last

    def stop_if_running(self):
        p = self.module.params
        info = self.gs.query()
        if not info['running']:
            return
        res = self.command(self.flavour.stop_argv('gs_ctl', p['data_dir'], mode='fast', timeout=p['timeout'])[1:])
        if res['rc'] != 0:
            self.last = res
            self.fail('gs_ctl stop failed (rc=%d): %s' % (res['rc'], ' | '.join(last_lines(res['stdout'] + res['stderr']))))

    def full_with_old_data_kept(self, mode):
        p = self.module.params
        if p['keep_old_data'] and os.path.isdir(p['data_dir']):
            check_keep_aside(self.module, p['data_dir'])
            self.stop_if_running()
            self.old_data_dir = move_aside(self.module, p['data_dir'])
        return self.build(mode)

    def run(self):
        p = self.module.params
        mode = p['build_mode']
        if mode in FULL_MODES:
            res = self.full_with_old_data_kept(mode)
        elif mode == 'auto' and p['keep_old_data']:
            # gs_ctl's DoAutoBuild(): incremental; full only when the primary was reachable.
            res = self.build('incremental')
            if res['outcome'] != 'ok':
                if 'could not connect to server' in res['stdout']:
                    self.fail('incremental build failed and the primary could not be reached, so no full build was tried '
                              '(as gs_ctl -b auto does) (rc=%d): %s' % (res['rc'], ' | '.join(last_lines(res['stdout']))))
                res = self.full_with_old_data_kept('full')
        else:
            res = self.build(mode)
        if res['outcome'] != 'ok':
            self.fail('gs_ctl build -b %s failed (rc=%d, %s): %s' % (self.modes[-1], res['rc'], res['outcome'],
                                                                     ' | '.join(last_lines(res['stdout'] + '\n' + res['stderr']))))
        return res


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    for name in ('timeout', 'recv_timeout'):
        if p[name] is not None and p[name] < 1:
            module.fail_json(msg='%s must be at least 1, got %d' % (name, p[name]))
    gs = GsCtl(module)
    gs.check_owner()
    info = gs.query()
    if info['error']:
        gs.fail_query(info)
    before = state_of(info)
    warnings = list(before['warnings'])
    expected = addresses(p['expected_primary']) if p['expected_primary'] else None
    fine, reason = assess(before, p['server_mode'], expected)
    result = dict(changed=False, state_before=before, state_after=before, build_mode=[], old_data_dir=None, cmd=None,
                  commands=[], stdout_lines=[], rc=None, query_warnings=warnings)
    if fine and not p['force']:
        exit_ok(module, msg='no build needed: %s' % reason, reason=reason, would_build=False, **result)
    if fine:
        reason = 'force=true (%s)' % reason
    refuse_if_not_standby(module, before)
    result.update(changed=True, reason=reason, would_build=True)
    if module.check_mode:
        result['state_after'] = None
        exit_ok(module, msg='would build (%s): %s' % (p['build_mode'], reason), **result)
    builder = Builder(module, gs)
    res = builder.run()
    result.update(build_mode=builder.modes, old_data_dir=builder.old_data_dir, cmd=res['cmd'], rc=res['rc'],
                  commands=builder.commands, stdout_lines=builder.lines)
    deadline = time.time() + (p['timeout'] if p['wait_streaming'] else 0)
    while True:
        info = gs.query()
        after = state_of(info) if not info['error'] else dict(state_of(info), error=info['error'])
        ok, why = assess(after, p['server_mode'], expected)
        if ok or time.time() >= deadline:
            break
        time.sleep(POLL)
    result['state_after'] = after
    result['query_warnings'] = warnings + [w for w in after['warnings'] if w not in warnings]
    if p['wait_streaming'] and not ok:
        module.fail_json(msg='gs_ctl build -b %s finished (rc=%d) but %s is not streaming after %d seconds: %s'
                         % ('/'.join(builder.modes), res['rc'], p['data_dir'], p['timeout'], why), **result)
    msg = 'built %s with -b %s (%s); now: %s' % (p['data_dir'], '/'.join(builder.modes), reason, why)
    exit_ok(module, msg=msg, **result)


if __name__ == '__main__':
    main()
