#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: basebackup
short_description: Clone a standby's data directory from an upstream server with pg_basebackup
version_added: 0.1.0
description:
  - Runs C(pg_basebackup) against O(primary_host) to create the data directory O(data_dir) of a standby,
    then (by default) makes it a standby of that upstream.
  - B(Idempotent.) The upstream's system identifier is read with the replication-protocol command C(IDENTIFY_SYSTEM)
    over a physical replication connection (psycopg2 C(PhysicalReplicationConnection)), so the replication user
    needs nothing but the C(REPLICATION) attribute and a C(replication) line in C(pg_hba.conf).
    When O(data_dir) already holds a cluster (C(global/pg_control)) with the same system identifier, nothing is done.
  - A non-empty O(data_dir) that holds another cluster, or no cluster at all, is refused (the message names the
    directory and both system identifiers). With O(force=true) it is moved aside to the sibling
    C(<data_dir>.moved-YYYYmmddTHHMMSS), never deleted, and the new path is returned in RV(moved_aside).
  - The clone is written to the sibling directory C(<data_dir>.partial) and renamed to O(data_dir) only when it is
    complete, so an interrupted clone never leaves a half-written O(data_dir). C(<data_dir>.partial) belongs to this
    module - it is removed when a clone fails and, if an earlier run was killed, at the start of the next clone, so
    a re-run succeeds. Do not keep anything of your own under that name. Anything to move aside is moved only after
    the new clone is complete.
  - Never replaces or moves a data directory a postmaster is running on (C(postmaster.pid) with a live process), even
    with O(force); a running clone of the upstream is still reported unchanged.
  - The password is never put on a command line. C(pg_basebackup) reads it from a private (0600) temporary password
    file passed in C(PGPASSFILE), removed afterwards. When O(write_recovery_conf=true) the password is stored in the
    password file O(passfile_path) (mode 0600, owned by O(owner); other entries are kept) and C(primary_conninfo)
    names that file with the C(passfile) keyword instead of containing the password.
  - The recovery configuration is written by this module rather than by C(pg_basebackup -R), because C(-R) copies the
    connection options of the clone itself into C(primary_conninfo), including the path of the temporary password file.
    PostgreSQL 12 and later get C(standby.signal) plus C(primary_conninfo)/C(primary_slot_name) in
    C(postgresql.auto.conf); PostgreSQL 10 and 11 get C(recovery.conf) with C(standby_mode = 'on') and
    C(recovery_target_timeline = 'latest').
author:
  - pgstream.replication developers (@pgstream)
options:
  data_dir:
    description:
      - Absolute path of the data directory to create. Missing parent directories are created (mode 0755, owned by O(owner)).
      - Must not be a mount point itself; use a subdirectory of the mount.
    type: path
    required: true
  primary_host:
    description:
      - Host name or address of the upstream server to clone (the primary, or another standby for cascading).
    type: str
    required: true
  primary_port:
    description:
      - Port of the upstream server.
    type: int
    default: 5432
  replication_user:
    description:
      - Role with the C(REPLICATION) attribute used for the clone and in C(primary_conninfo).
    type: str
    default: replicator
  replication_password:
    description:
      - Password of O(replication_user). Passed to C(pg_basebackup) only through a temporary 0600 password file,
        and stored in O(passfile_path) when O(write_recovery_conf=true).
      - Omit it when authentication does not need a password (trust, cert) or an existing password file is used.
    type: str
  application_name:
    description:
      - C(application_name) written into C(primary_conninfo) (the name the standby has in C(pg_stat_replication)
        and C(synchronous_standby_names)).
    type: str
  slot_name:
    description:
      - Physical replication slot on the upstream. Used by C(pg_basebackup) when O(wal_method=stream) and written as
        C(primary_slot_name).
    type: str
  create_slot:
    description:
      - Create O(slot_name) on the upstream during the clone (C(pg_basebackup -C)). Requires O(wal_method=stream).
      - Against PostgreSQL 15 and later an existing slot is detected with C(READ_REPLICATION_SLOT) and reused;
        against older upstreams C(pg_basebackup) fails when the slot already exists.
    type: bool
    default: false
  wal_method:
    description:
      - How the WAL needed to make the clone consistent is transferred (C(pg_basebackup -X)).
    type: str
    choices: [stream, fetch, none]
    default: stream
  write_recovery_conf:
    description:
      - Make the clone a standby of the upstream (see the description). With V(false) the clone is left as copied.
    type: bool
    default: true
  passfile_path:
    description:
      - Password file written for the standby's WAL receiver when O(replication_password) is set and
        O(write_recovery_conf=true); referenced by the C(passfile) key of C(primary_conninfo).
      - Defaults to C(.pgpass) in the home directory of O(owner) (C(~postgres/.pgpass)).
    type: path
  checkpoint:
    description:
      - The checkpoint the backup starts with (C(pg_basebackup -c)). V(fast) asks the upstream for an immediate
        checkpoint, V(spread) waits for a spread one.
    type: str
    choices: [fast, spread]
    default: fast
  max_rate:
    description:
      - Maximum transfer rate (C(pg_basebackup -r)), in kB/s or with a suffix, for example V(500k) or V(10M).
    type: str
  timeout:
    description:
      - Seconds after which C(pg_basebackup) is stopped (SIGTERM, then SIGKILL 10 seconds later) and the module fails.
        V(0) means no limit. Uses C(timeout) from GNU coreutils.
    type: int
    default: 0
  connect_timeout:
    description:
      - Seconds to wait for connections to the upstream (the C(IDENTIFY_SYSTEM) check and C(pg_basebackup)).
    type: int
    default: 10
  owner:
    description:
      - Operating-system user that owns the data directory (files are chowned to it and its primary group).
      - The module must run as root or as this user.
    type: str
    default: postgres
  mode:
    description:
      - Permissions of a new clone's O(data_dir); PostgreSQL accepts only V('0700') or V('0750'). Quote the value in YAML.
    type: raw
    default: '0700'
  bindir:
    description:
      - Directory of C(pg_basebackup) and C(pg_controldata).
      - When omitted it is searched for O(pg_major), or for the upstream's major version.
    type: path
  pg_major:
    description:
      - PostgreSQL major version whose binaries to use (for example V('15')). Defaults to the upstream's.
    type: str
  force:
    description:
      - Re-clone even when O(data_dir) already holds a clone of the upstream, and move a non-empty O(data_dir)
        that holds something else aside instead of refusing.
    type: bool
    default: false
extends_documentation_fragment:
  - pgstream.replication.attributes
attributes:
  check_mode:
    support: full
    details:
      - Connects to the upstream (read-only C(IDENTIFY_SYSTEM)) and reads C(pg_control), but writes nothing;
        RV(would) and RV(cmd) tell what would be done.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - psycopg2 on the managed host (Debian/Ubuntu package C(python3-psycopg2)).
  - C(pg_basebackup) and C(pg_controldata) of the upstream's major version; C(timeout) (coreutils) when O(timeout) is set.
notes:
  - Run as root (C(become=true)) so that parent directories can be created and the clone chowned to O(owner).
  - Tablespaces other than the default ones are not remapped; clone such clusters with your own C(pg_basebackup -T).
  - Debian-style clusters keep C(postgresql.conf) and C(pg_hba.conf) outside the data directory; they are not part of
    the clone and must be provided before the standby is started.
  - An existing clone is not reconfigured (only the password file is kept up to date); use O(force) to re-clone.
seealso:
  - name: pg_basebackup
    description: The pg_basebackup reference.
    link: https://www.postgresql.org/docs/current/app-pgbasebackup.html
'''

EXAMPLES = r'''
- name: Clone the standby from the primary
  pgstream.replication.basebackup:
    data_dir: /var/lib/postgresql/15/standby
    primary_host: pg1.example.com
    replication_user: replicator
    replication_password: "{{ repl_password }}"
    application_name: pg2
    slot_name: pg2
    create_slot: true
  become: true

- name: Re-clone, keeping the old data directory aside, at most 50 MB/s and 1 hour
  pgstream.replication.basebackup:
    data_dir: /var/lib/postgresql/15/main
    primary_host: 10.0.0.11
    replication_password: "{{ repl_password }}"
    max_rate: 50M
    timeout: 3600
    force: true
  become: true
  register: clone

- name: Show where the old data went
  ansible.builtin.debug:
    msg: "{{ clone.moved_aside }}"
  when: clone.moved_aside is not none
'''

RETURN = r'''
data_dir:
  description: The data directory.
  returned: always
  type: str
  sample: /var/lib/postgresql/15/standby
would:
  description:
    - In check mode, what a real run would do - V(none), V(clone), or V(move_aside_and_clone).
  returned: check mode
  type: str
  sample: clone
cmd:
  description: The C(pg_basebackup) command line (run, or that would run), shell-quoted, secrets redacted.
  returned: when a clone is (or would be) made
  type: str
  sample: /usr/lib/postgresql/15/bin/pg_basebackup -D /var/lib/postgresql/15/standby.partial -h pg1 -p 5432 -U replicator -w -X stream -c fast
duration:
  description: Seconds the clone took (C(pg_basebackup) run time), 0 when nothing was cloned.
  returned: always
  type: float
  sample: 12.3
bytes:
  description: Size in bytes of the cloned data directory, 0 when nothing was cloned.
  returned: always
  type: int
  sample: 23456789
system_identifier:
  description: Database system identifier of the upstream (and of the clone).
  returned: always
  type: str
  sample: "7711330958549827612"
timeline:
  description: Current timeline of the upstream, from C(IDENTIFY_SYSTEM).
  returned: always
  type: int
  sample: 1
moved_aside:
  description: Where the previous content of O(data_dir) was moved (or would be moved in check mode), otherwise null.
  returned: always
  type: str
  sample: /var/lib/postgresql/15/standby.moved-20260101T120000
removed_partial:
  description: Path of a stale C(<data_dir>.partial) left by an interrupted run that was removed, otherwise null.
  returned: always
  type: str
passfile:
  description: The password file referenced by C(primary_conninfo), when one is managed.
  returned: always
  type: str
  sample: /var/lib/postgresql/.pgpass
primary_conninfo:
  description:
    - The C(primary_conninfo) a clone gets (never contains the password); null when O(write_recovery_conf=false).
    - An existing clone is not rewritten, so this is what a new clone would get.
  returned: always
  type: str
  sample: host=pg1 port=5432 user=replicator passfile=/var/lib/postgresql/.pgpass application_name=pg2
msg:
  description: What was done.
  returned: always
  type: str
'''

import os
import pwd
import shlex
import shutil
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.pgstream.replication.plugins.module_utils import controldata
from ansible_collections.pgstream.replication.plugins.module_utils.commands import pgpass_file, redact, run
from ansible_collections.pgstream.replication.plugins.module_utils.connection import libpq_message
from ansible_collections.pgstream.replication.plugins.module_utils.datadir import (
    MODES, check_no_postmaster, chown_tree, dir_size, ensure_parent, fsync_dir, inspect_target, moved_aside_path,
    parse_mode, write_passfile, write_recovery)
from ansible_collections.pgstream.replication.plugins.module_utils.recovery import build_conninfo
from ansible_collections.pgstream.replication.plugins.module_utils.version import find_bindir, major_from_num

PSYCOPG2_IMPORT_ERROR = None
try:
    import psycopg2
    import psycopg2.extras
except ImportError:  # pragma: no cover - depends on the managed host
    psycopg2 = None
    PSYCOPG2_IMPORT_ERROR = traceback.format_exc()

KILL_AFTER = 10


def argument_spec():
    return dict(
        data_dir=dict(type='path', required=True),
        primary_host=dict(type='str', required=True),
        primary_port=dict(type='int', default=5432),
        replication_user=dict(type='str', default='replicator'),
        replication_password=dict(type='str', no_log=True),
        application_name=dict(type='str'),
        slot_name=dict(type='str'),
        create_slot=dict(type='bool', default=False),
        wal_method=dict(type='str', default='stream', choices=['stream', 'fetch', 'none']),
        write_recovery_conf=dict(type='bool', default=True),
        passfile_path=dict(type='path', no_log=False),
        checkpoint=dict(type='str', default='fast', choices=['fast', 'spread']),
        max_rate=dict(type='str'),
        timeout=dict(type='int', default=0),
        connect_timeout=dict(type='int', default=10),
        owner=dict(type='str', default='postgres'),
        mode=dict(type='raw', default='0700'),
        bindir=dict(type='path'),
        pg_major=dict(type='str'),
        force=dict(type='bool', default=False),
    )


def upstream_name(params):
    return '%s@%s:%s' % (params['replication_user'], params['primary_host'], params['primary_port'])


def identify_system(module):
    """IDENTIFY_SYSTEM over a physical replication connection: dict with system_identifier, timeline,
    xlogpos, server_version_num and slot (READ_REPLICATION_SLOT on 15+, when create_slot is set)."""
    if psycopg2 is None:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)
    p = module.params
    secrets = [p['replication_password']]
    kw = dict(host=p['primary_host'], port=p['primary_port'], user=p['replication_user'],
              connect_timeout=p['connect_timeout'], application_name='pgstream.replication')
    if p['replication_password']:
        kw['password'] = p['replication_password']
    conn = None
    try:
        conn = psycopg2.connect(connection_factory=psycopg2.extras.PhysicalReplicationConnection, **kw)
        cur = conn.cursor()
        cur.execute('IDENTIFY_SYSTEM')
        row = cur.fetchone()
        info = dict(system_identifier=str(row[0]), timeline=int(row[1]), xlogpos=row[2],
                    server_version_num=int(conn.server_version), slot_exists=None)
        if p['create_slot'] and info['server_version_num'] >= 150000:
            cur.execute('READ_REPLICATION_SLOT %s' % quote_ident(p['slot_name']))
            slot = cur.fetchone()
            info['slot_exists'] = bool(slot and slot[0] is not None)
        return info
    except Exception as e:  # psycopg2.Error, and anything odd from the server
        module.fail_json(msg='cannot run IDENTIFY_SYSTEM on the upstream %s over a replication connection: %s'
                         % (upstream_name(p), redact(libpq_message(e), secrets)))
    finally:
        if conn is not None:
            conn.close()


def quote_ident(name):
    return '"%s"' % name.replace('"', '""')


def build_argv(module, bindir, target, slot_exists):
    p = module.params
    argv = [os.path.join(bindir, 'pg_basebackup'), '-D', target, '-h', p['primary_host'], '-p', str(p['primary_port']),
            '-U', p['replication_user'], '-w', '-X', p['wal_method'], '-c', p['checkpoint']]
    if p['max_rate']:
        argv += ['-r', p['max_rate']]
    if p['slot_name'] and p['wal_method'] == 'stream':
        argv += ['-S', p['slot_name']]
        if p['create_slot'] and not slot_exists:
            argv.append('-C')
    return argv


def wrap_timeout(module, argv):
    seconds = module.params['timeout']
    if not seconds:
        return argv
    timeout_bin = module.get_bin_path('timeout')
    if not timeout_bin:
        module.fail_json(msg='timeout=%d needs the timeout command (GNU coreutils), not found on PATH' % seconds)
    return [timeout_bin, '-k', str(KILL_AFTER), str(seconds)] + argv


def validate(module):
    p = module.params
    if not os.path.isabs(p['data_dir']):
        module.fail_json(msg='data_dir must be an absolute path, got %s' % p['data_dir'])
    if os.path.normpath(p['data_dir']) == '/':
        module.fail_json(msg='data_dir must not be /')
    if not 1 <= p['primary_port'] <= 65535:
        module.fail_json(msg='primary_port must be between 1 and 65535, got %d' % p['primary_port'])
    if p['timeout'] < 0:
        module.fail_json(msg='timeout must be 0 (no limit) or a positive number of seconds, got %d' % p['timeout'])
    if p['connect_timeout'] < 1:
        module.fail_json(msg='connect_timeout must be at least 1 second, got %d' % p['connect_timeout'])
    if p['max_rate'] is not None and not _valid_rate(p['max_rate']):
        module.fail_json(msg='max_rate must be a number of kB/s, optionally with suffix k or M (for example 500k, 10M), got %s'
                         % p['max_rate'])
    if p['create_slot'] and p['wal_method'] != 'stream':
        module.fail_json(msg='create_slot needs wal_method=stream (pg_basebackup uses the slot only when streaming WAL)')
    if not p['primary_host'].strip():
        module.fail_json(msg='primary_host must not be empty')
    try:
        owner = pwd.getpwnam(p['owner'])
    except KeyError:
        module.fail_json(msg='owner %s does not exist on this host' % p['owner'])
    if os.geteuid() not in (0, owner.pw_uid):
        module.fail_json(msg='the module must run as root or as the owner %s (it runs as uid %d)' % (p['owner'], os.geteuid()))
    mode = parse_mode(p['mode'])
    if mode is None:
        module.fail_json(msg='mode must be one of %s (PostgreSQL refuses other permissions), got %s'
                         % (', '.join("'%04o'" % m for m in sorted(MODES)), p['mode']))
    return owner, mode


def _valid_rate(value):
    value = value.strip()
    if value[-1:] in ('k', 'K', 'm', 'M'):
        value = value[:-1]
    return value.isdigit() and int(value) > 0


def passfile_location(module, owner):
    p = module.params
    if not (p['write_recovery_conf'] and p['replication_password']):
        return None
    return p['passfile_path'] or os.path.join(owner.pw_dir, '.pgpass')


def conninfo(module, passfile):
    p = module.params
    return build_conninfo(host=p['primary_host'], port=p['primary_port'], user=p['replication_user'], passfile=passfile,
                          application_name=p['application_name'])


def clone(module, argv, partial, secrets):
    """Run pg_basebackup into partial; on failure remove partial and fail. Returns the duration."""
    p = module.params
    env = {'PGCONNECT_TIMEOUT': str(p['connect_timeout']), 'PGAPPNAME': 'pgstream.replication'}
    started = time.time()
    if p['replication_password']:
        with pgpass_file(module, p['primary_host'], p['primary_port'], p['replication_user'],
                         p['replication_password']) as path:
            env['PGPASSFILE'] = path
            rc, out, err = run(module, argv, secrets=secrets, env=env)
    else:
        rc, out, err = run(module, argv, secrets=secrets, env=env)
    duration = round(time.time() - started, 3)
    if rc != 0:
        shutil.rmtree(partial, ignore_errors=True)
        cmd = redact(' '.join(shlex.quote(a) for a in argv), secrets)
        if p['timeout'] and rc in (124, 137):
            msg = ('pg_basebackup from %s did not finish within timeout=%d seconds and was stopped; the partial clone %s '
                   'was removed and %s was not changed' % (upstream_name(p), p['timeout'], partial, p['data_dir']))
        else:
            msg = ('pg_basebackup from %s failed (rc=%d): %s; the partial clone %s was removed and %s was not changed'
                   % (upstream_name(p), rc, (err or out).strip(), partial, p['data_dir']))
        module.fail_json(msg=msg, rc=rc, cmd=cmd, stdout=out, stderr=err, duration=duration, data_dir=p['data_dir'])
    return duration


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[('create_slot', True, ['slot_name'])],
        mutually_exclusive=[('bindir', 'pg_major')],
        supports_check_mode=True,
    )
    p = module.params
    owner, mode = validate(module)
    secrets = [p['replication_password']]
    data_dir = os.path.normpath(p['data_dir'])
    partial = data_dir + '.partial'

    upstream = identify_system(module)
    major = p['pg_major'] or major_from_num(upstream['server_version_num'])
    bindir = find_bindir(module, major=major, bindir=p['bindir'])
    sysid = upstream['system_identifier']
    passfile = passfile_location(module, owner)
    primary_conninfo = conninfo(module, passfile) if p['write_recovery_conf'] else None

    local = None
    state = inspect_target(module, data_dir)
    if state == 'cluster':
        local = controldata.read(module, data_dir, bindir)
    action = decide(module, data_dir, state, local, sysid)
    if action != 'none':
        check_no_postmaster(module, data_dir)
    if action != 'none' and os.path.ismount(data_dir):
        module.fail_json(msg='%s is a mount point and cannot be replaced atomically; use a subdirectory of the mount as '
                         'data_dir' % data_dir)

    result = dict(changed=False, data_dir=data_dir, system_identifier=sysid, timeline=upstream['timeline'],
                  duration=0.0, bytes=0, moved_aside=None, removed_partial=None, passfile=passfile,
                  primary_conninfo=primary_conninfo)
    argv = wrap_timeout(module, build_argv(module, bindir, partial, upstream['slot_exists']))
    if action != 'none':
        result['cmd'] = redact(' '.join(shlex.quote(a) for a in argv), secrets)
        result['changed'] = True
    if action == 'move_aside_and_clone':
        result['moved_aside'] = moved_aside_path(data_dir)

    if module.check_mode:
        result['would'] = action
        if passfile and write_passfile(module, passfile, owner, check_mode=True):
            result['changed'] = True
        result['msg'] = describe(action, data_dir, result['moved_aside'], upstream_name(p))
        module.exit_json(**result)

    if action != 'none':
        ensure_parent(module, data_dir, owner)
        if os.path.lexists(partial):
            try:
                shutil.rmtree(partial)
            except OSError as e:
                module.fail_json(msg='cannot remove %s left by an interrupted clone: %s' % (partial, e))
            result['removed_partial'] = partial
        result['duration'] = clone(module, argv, partial, secrets)
        install(module, partial, data_dir, owner, mode, result)
    if passfile and write_passfile(module, passfile, owner):
        result['changed'] = True
    result['msg'] = describe(action, data_dir, result['moved_aside'], upstream_name(p), done=True)
    module.exit_json(**result)


def install(module, partial, data_dir, owner, mode, result):
    """Finish the clone in partial and put it in place of data_dir (moving the old content aside first).
    On any failure the partial clone is removed and data_dir is left as it was."""
    p = module.params
    step = 'writing the standby configuration'
    done = False
    try:
        if p['write_recovery_conf']:
            write_recovery(module, partial, result['primary_conninfo'], p['slot_name'])
        step = 'chown to %s' % owner.pw_name
        chown_tree(partial, owner)
        os.chmod(partial, mode)
        step = 'moving it into place'
        if result['moved_aside']:
            result['moved_aside'] = moved_aside_path(data_dir)
            os.rename(data_dir, result['moved_aside'])
        elif os.path.isdir(data_dir):
            os.rmdir(data_dir)  # empty, checked by inspect_target
        os.rename(partial, data_dir)
        done = True
    except (IOError, OSError) as e:
        moved = result['moved_aside'] if result['moved_aside'] and not os.path.exists(data_dir) else None
        module.fail_json(msg='%s failed for the clone %s: %s (the partial clone was removed; %s)'
                         % (step, partial, e, 'the previous content of %s is at %s' % (data_dir, moved) if moved
                            else '%s was not changed' % data_dir), moved_aside=moved)
    finally:
        if not done:
            shutil.rmtree(partial, ignore_errors=True)
    fsync_dir(os.path.dirname(data_dir))
    result['bytes'] = dir_size(data_dir)


def decide(module, data_dir, state, local, sysid):
    """'none', 'clone' or 'move_aside_and_clone' (or fail) for the target's state."""
    force = module.params['force']
    if state in ('absent', 'empty'):
        return 'clone'
    if state == 'cluster' and local is not None and local['system_identifier'] == sysid:
        return 'move_aside_and_clone' if force else 'none'
    if force:
        return 'move_aside_and_clone'
    if state == 'cluster' and local is not None:
        module.fail_json(msg='%s holds another cluster: its system identifier is %s, the upstream %s has %s; '
                         'refusing to overwrite it (set force=true to move it aside)'
                         % (data_dir, local['system_identifier'], upstream_name(module.params), sysid))
    module.fail_json(msg='%s is not empty and holds no cluster (no global/pg_control), so its system identifier is unknown '
                     '(the upstream %s has %s); refusing to overwrite it (set force=true to move it aside)'
                     % (data_dir, upstream_name(module.params), sysid))


def describe(action, data_dir, moved_aside, upstream, done=False):
    if action == 'none':
        return '%s already holds a clone of %s' % (data_dir, upstream)
    text = '%s %s from %s' % ('cloned' if done else 'would clone', data_dir, upstream)
    if moved_aside:
        text += '; previous content %s %s' % ('moved to' if done else 'would be moved to', moved_aside)
    return text


if __name__ == '__main__':
    main()
