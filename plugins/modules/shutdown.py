#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: shutdown
short_description: Stop a PostgreSQL server cleanly and report the LSN it stopped at
version_added: 0.1.0
description:
  - Stops the server running on O(data_dir) with C(pg_ctl stop -D data_dir -m MODE -w -t TIMEOUT) and reads
    C(pg_controldata) afterwards, so that the caller knows where the server stopped (RV(checkpoint_lsn)) - for a
    switchover, the point up to which the new primary must have received the WAL.
  - With O(checkpoint=true) a C(CHECKPOINT) is run over SQL first, so that the shutdown checkpoint has little to write
    and the stop is quick. The server must then be reachable with the connection options; the module fails when it is
    not (set O(checkpoint=false) to stop a server that does not accept connections).
  - When no postmaster runs on O(data_dir) (no C(postmaster.pid) with a live process) nothing is done
    (C(changed=false)) and the state of C(pg_control) is reported.
  - After a V(fast) or V(smart) stop the cluster state must be C(shut down) (or C(shut down in recovery) for a
    standby); otherwise the module fails with the state. After an V(immediate) stop the server needs crash recovery
    at the next start and RV(clean) is false.
  - Works with Debian's layout (configuration in C(/etc/postgresql/N/main)); C(pg_ctl stop) only needs the data
    directory. A server started by systemd (C(postgresql@N-main)) is stopped behind systemd's back; the unit is then
    reported as failed or inactive.
author:
  - pgstream.replication developers (@pgstream)
options:
  data_dir:
    description:
      - Data directory of the server to stop.
    type: path
    required: true
  checkpoint:
    description:
      - Run C(CHECKPOINT) over SQL before the stop (needs superuser or, on PostgreSQL 15 and later, C(pg_checkpoint)).
      - When V(true) and the server cannot be reached over SQL, the module fails.
    type: bool
    default: true
  mode:
    description:
      - Shutdown mode (C(pg_ctl stop -m)). V(smart) waits for clients to disconnect, V(fast) disconnects them,
        V(immediate) aborts without a shutdown checkpoint (the server recovers from a crash at the next start).
    type: str
    choices: [fast, smart, immediate]
    default: fast
  timeout:
    description:
      - Seconds C(pg_ctl) waits for the server to stop (C(pg_ctl stop -w -t)).
    type: int
    default: 60
  bindir:
    description:
      - Directory of C(pg_ctl) and C(pg_controldata). Searched for the data directory's major version (C(PG_VERSION)) or
        O(pg_major) when omitted.
    type: path
  pg_major:
    description:
      - PostgreSQL major version whose binaries to use when O(bindir) is omitted. Defaults to the data directory's.
    type: str
  owner:
    description:
      - Operating-system user C(pg_ctl) runs as (through C(runuser)) when the module runs as root.
    type: str
    default: postgres
extends_documentation_fragment:
  - pgstream.replication.connection
  - pgstream.replication.attributes
attributes:
  check_mode:
    support: full
    details:
      - Connects to the server (when O(checkpoint=true)) and reads C(pg_control), stops nothing and runs no
        C(CHECKPOINT); RV(would_stop) tells whether a real run would stop the server.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - C(pg_ctl) and C(pg_controldata) of the cluster's major version; C(runuser) (util-linux) when run as root.
notes:
  - Run as root (C(become=true)) or as O(owner). When the module runs as root, the SQL connection is still made with
    the connection options (for peer authentication over the unix socket use C(become_user=postgres), or a password).
seealso:
  - module: pgstream.replication.rewind
  - name: pg_ctl
    description: The pg_ctl reference.
    link: https://www.postgresql.org/docs/current/app-pg-ctl.html
'''

EXAMPLES = r'''
- name: Stop the old primary for a switchover
  pgstream.replication.shutdown:
    data_dir: /var/lib/postgresql/15/main
    mode: fast
    timeout: 120
  become: true
  become_user: postgres
  register: stopped

- name: Show where it stopped
  ansible.builtin.debug:
    msg: "stopped at {{ stopped.checkpoint_lsn }} on timeline {{ stopped.timeline }} (clean={{ stopped.clean }})"

- name: Stop a server that does not accept connections
  pgstream.replication.shutdown:
    data_dir: /var/lib/postgresql/15/main
    checkpoint: false
  become: true
'''

RETURN = r'''
was_running:
  description: Whether a postmaster was running on O(data_dir) when the module started.
  returned: always
  type: bool
  sample: true
would_stop:
  description: In check mode, whether a real run would stop the server.
  returned: check mode
  type: bool
  sample: true
clean:
  description:
    - Whether C(pg_control) shows a clean shutdown (C(shut down) or C(shut down in recovery)).
    - In check mode (and when the server was running and not stopped) this describes the running server, so it is false.
  returned: always
  type: bool
  sample: true
cluster_state:
  description: C(Database cluster state) of C(pg_controldata) after the stop (or now, when nothing was stopped).
  returned: always
  type: str
  sample: shut down
checkpoint_lsn:
  description: C(Latest checkpoint location) of C(pg_controldata) - after a clean stop, the shutdown checkpoint.
  returned: always
  type: str
  sample: 0/5000028
redo_lsn:
  description: C(Latest checkpoint's REDO location) of C(pg_controldata).
  returned: always
  type: str
  sample: 0/5000028
timeline:
  description: C(Latest checkpoint's TimeLineID) of C(pg_controldata).
  returned: always
  type: int
  sample: 1
queries:
  description: The SQL run (or that would run) before the stop.
  returned: always
  type: list
  elements: str
  sample: [CHECKPOINT]
cmd:
  description: The C(pg_ctl stop) command (argv list) that ran or would run; empty when nothing was running.
  returned: always
  type: list
  elements: str
  sample: [/usr/lib/postgresql/15/bin/pg_ctl, stop, -D, /var/lib/postgresql/15/main, -m, fast, -w, -t, '60']
msg:
  description: What was done.
  returned: always
  type: str
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pgstream.replication.plugins.module_utils import controldata
from ansible_collections.pgstream.replication.plugins.module_utils.commands import redact, run
from ansible_collections.pgstream.replication.plugins.module_utils.connection import (
    DatabaseError, connection_argument_spec, describe_target, try_connect)
from ansible_collections.pgstream.replication.plugins.module_utils.datadir import postmaster_pid
from ansible_collections.pgstream.replication.plugins.module_utils.queries import QueryLog
from ansible_collections.pgstream.replication.plugins.module_utils.singleuser import (
    CLEAN_STATES, C_LOCALE, as_owner, owner_entry)
from ansible_collections.pgstream.replication.plugins.module_utils.version import data_dir_major, find_bindir


def argument_spec():
    spec = connection_argument_spec()
    spec.update(
        data_dir=dict(type='path', required=True),
        checkpoint=dict(type='bool', default=True),
        mode=dict(type='str', default='fast', choices=['fast', 'smart', 'immediate']),
        timeout=dict(type='int', default=60),
        bindir=dict(type='path'),
        pg_major=dict(type='str'),
        owner=dict(type='str', default='postgres'),
    )
    return spec


def validate(module):
    p = module.params
    if not os.path.isabs(p['data_dir']):
        module.fail_json(msg='data_dir must be an absolute path, got %s' % p['data_dir'])
    if p['timeout'] < 1:
        module.fail_json(msg='timeout must be at least 1 second, got %d' % p['timeout'])
    if not os.path.isdir(p['data_dir']):
        module.fail_json(msg='data_dir %s does not exist or is not a directory' % p['data_dir'])
    if not os.path.isfile(os.path.join(p['data_dir'], 'global', 'pg_control')):
        module.fail_json(msg='%s holds no PostgreSQL cluster (no global/pg_control)' % p['data_dir'])
    owner_entry(module, p['owner'])


def state_of(module, data_dir, bindir, result):
    info = controldata.read(module, data_dir, bindir)
    if info is None:
        module.fail_json(msg='%s has no global/pg_control' % data_dir, **result)
    result.update(cluster_state=info['cluster_state'], checkpoint_lsn=info['checkpoint_lsn'], redo_lsn=info['redo_lsn'],
                  timeline=info['timeline'], clean=info['cluster_state'] in CLEAN_STATES)
    return info


def checkpoint(module, result):
    """CHECKPOINT over SQL (recorded in queries; only recorded in check mode). Fails when unreachable."""
    p = module.params
    conn, error = try_connect(module, autocommit=True)
    if conn is None:
        module.fail_json(msg='%s; the CHECKPOINT before the stop needs an SQL connection (set checkpoint=false to stop '
                         'without it)' % error, **result)
    q = QueryLog(conn.cursor(), secrets=[p['login_password']], check_mode=module.check_mode)
    try:
        q.execute('CHECKPOINT')
    except DatabaseError as e:
        result['queries'] = q.queries
        module.fail_json(msg='CHECKPOINT on %s failed: %s (set checkpoint=false to stop without it)'
                         % (describe_target(module), redact(str(e).strip(), [p['login_password']])), **result)
    finally:
        conn.close()
    result['queries'] = q.queries


def main():
    module = AnsibleModule(argument_spec=argument_spec(), mutually_exclusive=[('bindir', 'pg_major')],
                           supports_check_mode=True)
    validate(module)
    p = module.params
    data_dir = os.path.normpath(p['data_dir'])
    bindir = find_bindir(module, major=p['pg_major'] or data_dir_major(data_dir), bindir=p['bindir'])
    result = dict(changed=False, was_running=False, clean=False, cluster_state=None, checkpoint_lsn=None, redo_lsn=None,
                  timeline=None, queries=[], cmd=[])
    if module.check_mode:
        result['would_stop'] = False

    pid = postmaster_pid(data_dir)
    if not pid:
        state_of(module, data_dir, bindir, result)
        module.exit_json(msg='no postmaster is running on %s (cluster state: %s)' % (data_dir, result['cluster_state']),
                         **result)

    result['was_running'] = True
    argv = as_owner(module, p['owner'], [os.path.join(bindir, 'pg_ctl'), 'stop', '-D', data_dir, '-m', p['mode'],
                                         '-w', '-t', str(p['timeout'])])
    result['cmd'] = argv
    if p['checkpoint']:
        checkpoint(module, result)
    if module.check_mode:
        state_of(module, data_dir, bindir, result)
        result.update(changed=True, would_stop=True)
        module.exit_json(msg='would stop the postmaster (pid %d) on %s in %s mode' % (pid, data_dir, p['mode']), **result)

    rc, out, err = run(module, argv, env=C_LOCALE, cwd='/')
    result['changed'] = True
    text = '\n'.join(s.strip() for s in (out, err) if s and s.strip())
    if rc != 0:
        still = postmaster_pid(data_dir)
        if still and ('does not shut down' in text or 'timed out' in text or 'did not' in text):
            module.fail_json(msg='pg_ctl stop (%s mode) did not see the server on %s stop within timeout=%d seconds; the '
                             'server may still be stopping (postmaster pid %d): %s'
                             % (p['mode'], data_dir, p['timeout'], still, text), rc=rc, stdout=out, stderr=err, **result)
        if still:
            module.fail_json(msg='pg_ctl stop failed on %s (rc=%d): %s' % (data_dir, rc, text), rc=rc, stdout=out,
                             stderr=err, **result)
        module.warn('pg_ctl stop returned rc=%d (%s) but no postmaster runs on %s any more' % (rc, text, data_dir))
    state_of(module, data_dir, bindir, result)
    if p['mode'] != 'immediate' and not result['clean']:
        module.fail_json(msg='the server on %s was stopped in %s mode but pg_control shows the cluster state "%s", not '
                         'a clean shutdown' % (data_dir, p['mode'], result['cluster_state']), **result)
    module.exit_json(msg='stopped the postmaster (pid %d) on %s in %s mode: %s at %s on timeline %s'
                     % (pid, data_dir, p['mode'], result['cluster_state'], result['checkpoint_lsn'], result['timeline']),
                     **result)


if __name__ == '__main__':
    main()
