#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: recovery_config
short_description: Point a PostgreSQL data directory at an upstream as a streaming standby
version_added: 0.1.0
description:
  - Writes the recovery configuration that makes the cluster in O(data_dir) a streaming standby of
    O(upstream_host), and tells in RV(action) what the caller must do for it to take effect.
  - Works on files only (no SQL), so the server may be running or stopped. A running server is never
    reloaded, restarted or signalled by this module.
  - PostgreSQL 12 and later get C(standby.signal) plus C(primary_conninfo) and C(primary_slot_name) in
    C(postgresql.auto.conf); every other line of that file is kept as it is. PostgreSQL 10 and 11 get
    C(recovery.conf) with C(standby_mode = 'on'), C(primary_conninfo), C(primary_slot_name) and
    C(recovery_target_timeline); other lines of an existing C(recovery.conf) (for example C(restore_command))
    are kept.
  - B(Idempotent.) The settings on disk are compared with the wanted ones (by value, as PostgreSQL reads them,
    later lines winning); a file is rewritten only when a value differs. Files are written atomically
    (temporary file in the same directory, then renamed) with mode 0600, owned by O(owner).
  - The password is never written into C(primary_conninfo). With O(replication_password) it is stored in the
    password file O(passfile_path) (mode 0600, owned by O(owner), other entries kept) and C(primary_conninfo)
    names that file with the C(passfile) keyword.
  - With O(state=absent) the standby configuration is taken away again - C(standby.signal) and the
    C(primary_conninfo)/C(primary_slot_name) lines of C(postgresql.auto.conf) on 12+, C(recovery.conf) on 10/11.
    Nothing else is deleted; a C(recovery.conf) that also holds settings this module does not manage is moved
    aside to C(recovery.conf.moved-YYYYmmddTHHMMSS) instead of being deleted.
author:
  - pgstream.replication developers (@pgstream)
options:
  data_dir:
    description:
      - Absolute path of the data directory (the one holding C(PG_VERSION)).
    type: path
    required: true
  state:
    description:
      - V(standby) writes the standby configuration, V(absent) removes it (see the description).
    type: str
    choices: [standby, absent]
    default: standby
  upstream_host:
    description:
      - Host name or address of the server to stream from (the primary, or another standby for cascading).
      - Required with O(state=standby).
    type: str
  upstream_port:
    description:
      - Port of the upstream server.
    type: int
    default: 5432
  replication_user:
    description:
      - Role with the C(REPLICATION) attribute written as C(user) into C(primary_conninfo).
    type: str
    default: replicator
  replication_password:
    description:
      - Password of O(replication_user), stored in O(passfile_path) (never in C(primary_conninfo)).
      - Omit it when authentication needs no password (trust, cert) or the password file already holds it.
    type: str
  passfile_path:
    description:
      - Password file for the WAL receiver, named by the C(passfile) keyword of C(primary_conninfo).
      - Defaults to C(.pgpass) in the home directory of O(owner).
      - C(passfile) is written into C(primary_conninfo) when O(replication_password) or O(passfile_path) is given;
        otherwise libpq's default (C(~/.pgpass) of the server's operating-system user) applies.
    type: path
  application_name:
    description:
      - C(application_name) written into C(primary_conninfo) (the standby's name in C(pg_stat_replication)
        and C(synchronous_standby_names)).
    type: str
  slot_name:
    description:
      - Physical replication slot on the upstream, written as C(primary_slot_name).
      - Omitted or empty means no slot - an existing C(primary_slot_name) is removed.
    type: str
  extra_conninfo:
    description:
      - Further libpq keywords for C(primary_conninfo), for example C(connect_timeout), C(sslmode), C(keepalives_idle).
      - C(password) is refused (use O(replication_password)), and so are the keywords that have their own option
        (C(host), C(port), C(user), C(passfile), C(application_name)).
    type: dict
  recovery_target_timeline:
    description:
      - Timeline to follow - V(latest), V(current) or a timeline number.
      - Written into C(recovery.conf) on PostgreSQL 10 and 11. On 12 and later it is written into
        C(postgresql.auto.conf) only when not V(latest), since V(latest) is the default there; a different
        value found there is removed when V(latest) is asked for.
    type: str
    default: latest
  pg_major:
    description:
      - PostgreSQL major version of the data directory (for example V('15')). Defaults to the content of
        C(PG_VERSION); when given it must agree with that file.
    type: str
  owner:
    description:
      - Operating-system user that owns the data directory and the password file (written files are chowned to it
        and its primary group). The module must run as root or as this user.
    type: str
    default: postgres
extends_documentation_fragment:
  - pgstream.replication.attributes
attributes:
  check_mode:
    support: full
    details:
      - Computes the changes and RV(action) but writes nothing.
  diff_mode:
    support: full
    details:
      - Shows the settings file before and after, and the signal file when it is created or removed.
        The password file is never shown.
  platform:
    platforms: posix
notes:
  - Run as root (C(become=true)) or as O(owner).
  - Only PostgreSQL 10 and later are supported (C(passfile) in C(primary_conninfo) needs libpq 10).
  - C(primary_conninfo) and C(primary_slot_name) are reloadable from PostgreSQL 13 on; before 13, and whenever
    the signal file or C(recovery.conf) is created or removed, a running server must be restarted. A change of
    the password file alone needs nothing - libpq reads it at every connection attempt of the WAL receiver.
  - Settings in C(postgresql.conf) or included files are not changed; C(postgresql.auto.conf) is read after them
    and wins.
  - Do not run C(ALTER SYSTEM) on the same server at the same moment; the last writer of C(postgresql.auto.conf) wins.
seealso:
  - name: Log-shipping standby servers
    description: Setting up a standby server.
    link: https://www.postgresql.org/docs/current/warm-standby.html#STANDBY-SERVER-SETUP
  - module: pgstream.replication.basebackup
'''

EXAMPLES = r'''
- name: Point pg2 at the new primary pg3, with its own slot
  pgstream.replication.recovery_config:
    data_dir: /var/lib/postgresql/15/main
    upstream_host: pg3.example.com
    replication_password: "{{ repl_password }}"
    application_name: pg2
    slot_name: pg2
    extra_conninfo:
      connect_timeout: 5
  become: true
  register: recovery

- name: Reload when that is enough (PostgreSQL 13+, only the connection changed)
  ansible.builtin.command: psql -XAtc 'SELECT pg_reload_conf()'
  become: true
  become_user: postgres
  when: recovery.action == 'reload'
  changed_when: true

- name: Restart when the node has to become a standby or runs PostgreSQL 12 or older
  ansible.builtin.service:
    name: postgresql@15-main
    state: restarted
  become: true
  when: recovery.action == 'restart'

- name: Undo it (the node will start as a primary)
  pgstream.replication.recovery_config:
    data_dir: /var/lib/postgresql/15/main
    state: absent
  become: true
'''

RETURN = r'''
pg_major:
  description: PostgreSQL major version of O(data_dir).
  returned: always
  type: int
  sample: 15
running:
  description: Whether a postmaster is running on O(data_dir) (C(postmaster.pid) with a live process).
  returned: always
  type: bool
  sample: true
pid:
  description: PID of that postmaster, otherwise null.
  returned: always
  type: int
  sample: 4242
action:
  description:
    - What the caller must do for the configuration to take effect.
    - V(none) - nothing in the recovery configuration changed (a changed password file alone needs nothing).
    - V(start) - it changed and the server is not running; starting it is enough.
    - V(reload) - the server runs PostgreSQL 13 or later and only C(primary_conninfo)/C(primary_slot_name) changed.
    - V(restart) - the server is running and runs PostgreSQL 12 or older, or the signal file/C(recovery.conf) was
      created or removed (a running primary does not become a standby without a restart), or another setting
      changed.
    - Read it from the registered result (C(result.action)); the C(json) stdout callback prints the module name
      under the same key in its own output.
  returned: always
  type: str
  sample: reload
signal_created:
  description: Whether C(standby.signal) (12+) or C(recovery.conf) (10/11) was (or in check mode would be) created.
  returned: always
  type: bool
  sample: false
signal_removed:
  description: Whether C(standby.signal) or C(recovery.conf) was (or would be) removed (O(state=absent)).
  returned: always
  type: bool
  sample: false
settings_changed:
  description: Names of the settings whose value was (or would be) changed or removed.
  returned: always
  type: list
  elements: str
  sample: [primary_conninfo]
primary_conninfo:
  description: The C(primary_conninfo) written (it never contains a password); null with O(state=absent).
  returned: always
  type: str
  sample: host=pg1 port=5432 user=replicator passfile=/var/lib/postgresql/.pgpass application_name=pg2
primary_slot_name:
  description: The C(primary_slot_name) written, null when none.
  returned: always
  type: str
  sample: pg2
conf_file:
  description: The settings file managed (C(postgresql.auto.conf) or C(recovery.conf)).
  returned: always
  type: str
  sample: /var/lib/postgresql/15/main/postgresql.auto.conf
passfile:
  description: The password file named in C(primary_conninfo), null when none.
  returned: always
  type: str
  sample: /var/lib/postgresql/.pgpass
passfile_changed:
  description: Whether the password file was (or would be) changed.
  returned: always
  type: bool
  sample: false
moved_aside:
  description: Where a C(recovery.conf) with settings of its own was moved by O(state=absent), otherwise null.
  returned: always
  type: str
msg:
  description: What was done.
  returned: always
  type: str
'''

import os
import pwd
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pgstream.replication.plugins.module_utils.datadir import (
    ensure_passfile_entry, moved_aside_path, postmaster_pid, read_text, write_file_atomic)
from ansible_collections.pgstream.replication.plugins.module_utils.recovery import (
    build_conninfo, parse_settings, plan_settings, standby_files)
from ansible_collections.pgstream.replication.plugins.module_utils.version import data_dir_major

MANAGED_CONNECTION = ('primary_conninfo', 'primary_slot_name')
RELOADABLE_FROM = 13
OWN_OPTIONS = dict(host='upstream_host', port='upstream_port', user='replication_user', passfile='passfile_path',
                   application_name='application_name', password='replication_password')
SLOT_NAME = re.compile(r'^[a-z0-9_]{1,63}$')
TIMELINE = re.compile(r'^(latest|current|[1-9][0-9]*)$')
CONNINFO_KEY = re.compile(r'^[a-z_]+$')


def argument_spec():
    return dict(
        data_dir=dict(type='path', required=True),
        state=dict(type='str', default='standby', choices=['standby', 'absent']),
        upstream_host=dict(type='str'),
        upstream_port=dict(type='int', default=5432),
        replication_user=dict(type='str', default='replicator'),
        replication_password=dict(type='str', no_log=True),
        passfile_path=dict(type='path', no_log=False),
        application_name=dict(type='str'),
        slot_name=dict(type='str'),
        extra_conninfo=dict(type='dict'),
        recovery_target_timeline=dict(type='str', default='latest'),
        pg_major=dict(type='str'),
        owner=dict(type='str', default='postgres'),
    )


def validate(module):
    """Checks every input; returns (owner pwd entry, major as int)."""
    p = module.params
    data_dir = p['data_dir']
    if not os.path.isabs(data_dir):
        module.fail_json(msg='data_dir must be an absolute path, got %s' % data_dir)
    if not os.path.isdir(data_dir):
        module.fail_json(msg='data_dir %s does not exist or is not a directory' % data_dir)
    if p['state'] == 'standby':
        if not p['upstream_host'] or not p['upstream_host'].strip():
            module.fail_json(msg='upstream_host must not be empty')
        if not 1 <= p['upstream_port'] <= 65535:
            module.fail_json(msg='upstream_port must be between 1 and 65535, got %d' % p['upstream_port'])
        if not p['replication_user'] or not p['replication_user'].strip():
            module.fail_json(msg='replication_user must not be empty')
        if p['replication_password'] == '':
            module.fail_json(msg='replication_password must not be empty; omit it when no password is needed')
        if p['slot_name'] and not SLOT_NAME.match(p['slot_name']):
            module.fail_json(msg='slot_name %s is not a valid replication slot name (lower-case letters, digits and '
                                 'underscores, at most 63 characters)' % p['slot_name'])
        if not TIMELINE.match(p['recovery_target_timeline'] or ''):
            module.fail_json(msg="recovery_target_timeline must be 'latest', 'current' or a timeline number, got %s"
                             % p['recovery_target_timeline'])
        for key in sorted(p['extra_conninfo'] or {}):
            if key in OWN_OPTIONS:
                module.fail_json(msg='extra_conninfo must not contain %s; use the option %s' % (key, OWN_OPTIONS[key]))
            if not CONNINFO_KEY.match(key):
                module.fail_json(msg='extra_conninfo key %r is not a libpq connection keyword' % key)
            if p['extra_conninfo'][key] is None or isinstance(p['extra_conninfo'][key], (dict, list)):
                module.fail_json(msg='extra_conninfo value of %s must be a string or number' % key)
    try:
        owner = pwd.getpwnam(p['owner'])
    except KeyError:
        module.fail_json(msg='owner %s does not exist on this host' % p['owner'])
    if os.geteuid() not in (0, owner.pw_uid):
        module.fail_json(msg='the module must run as root or as the owner %s (it runs as uid %d)' % (p['owner'], os.geteuid()))
    on_disk = data_dir_major(data_dir)
    major = p['pg_major'] or on_disk
    if major is None:
        module.fail_json(msg='%s has no PG_VERSION: not a PostgreSQL data directory (set pg_major if it really is one)'
                         % data_dir)
    if p['pg_major'] and on_disk and str(p['pg_major']).strip() != on_disk:
        module.fail_json(msg='pg_major %s does not match PG_VERSION %s of %s' % (p['pg_major'], on_disk, data_dir))
    try:
        major_num = int(str(major).strip())
    except ValueError:
        module.fail_json(msg='PostgreSQL %s is not supported: recovery_config needs PostgreSQL 10 or later' % major)
    if major_num < 10:
        module.fail_json(msg='PostgreSQL %s is not supported: recovery_config needs PostgreSQL 10 or later' % major)
    return owner, major_num


def passfile_location(params, owner):
    if params['passfile_path']:
        return params['passfile_path']
    if params['replication_password']:
        return os.path.join(owner.pw_dir, '.pgpass')
    return None


def conninfo_value(value):
    if isinstance(value, bool):
        return '1' if value else '0'
    return str(value)


def wanted_conninfo(params, passfile):
    kw = dict((k, conninfo_value(v)) for k, v in (params['extra_conninfo'] or {}).items())
    kw.update(host=params['upstream_host'], port=params['upstream_port'], user=params['replication_user'],
              passfile=passfile, application_name=params['application_name'])
    return build_conninfo(**kw)


def wanted_settings(major, conninfo, slot_name, timeline):
    """{name: value or None (= remove)} for state=standby."""
    if major >= 12:
        extra = {'recovery_target_timeline': timeline} if timeline != 'latest' else None
    else:
        extra = {'recovery_target_timeline': timeline}
    files = standby_files(major, conninfo, slot_name=slot_name or None, extra=extra)
    wanted = dict(files['settings'])
    if not slot_name:
        wanted['primary_slot_name'] = None
    return files, wanted


def decide_action(changed_config, running, major, signal_changed, settings_changed):
    if not changed_config:
        return 'none'
    if not running:
        return 'start'
    if signal_changed or major < RELOADABLE_FROM or any(n not in MANAGED_CONNECTION for n in settings_changed):
        return 'restart'
    return 'reload'


def plan_standby(module, data_dir, major, conninfo):
    """What state=standby changes: dict with conf path, old/new text, signal path and whether to create it."""
    p = module.params
    timeline = p['recovery_target_timeline']
    files, wanted = wanted_settings(major, conninfo, p['slot_name'], timeline)
    conf = os.path.join(data_dir, files['conf'])
    old = read_text(module, conf, 'settings file')
    if major >= 12 and timeline == 'latest':
        current = parse_settings(old).get('recovery_target_timeline')
        if current is not None and current != 'latest':
            wanted['recovery_target_timeline'] = None
    new, changed = plan_settings(old or '', wanted)
    if major >= 12:
        signal = os.path.join(data_dir, files['signal'])
        create_signal = not os.path.exists(signal)
        if os.path.exists(os.path.join(data_dir, 'recovery.conf')):
            module.warn('%s/recovery.conf exists: PostgreSQL %d refuses to start with it; move it away'
                        % (data_dir, major))
    else:
        signal = conf
        create_signal = old is None
    return dict(conf=conf, old=old, new=new if (changed or old is None) else old, changed=changed,
                signal=signal, signal_change=create_signal, remove=False)


def plan_absent(module, data_dir, major):
    if major >= 12:
        conf = os.path.join(data_dir, 'postgresql.auto.conf')
        old = read_text(module, conf, 'settings file')
        new, changed = plan_settings(old or '', dict((n, None) for n in MANAGED_CONNECTION))
        signal = os.path.join(data_dir, 'standby.signal')
        return dict(conf=conf, old=old, new=new if changed else old, changed=changed, signal=signal,
                    signal_change=os.path.exists(signal), remove=True, move_aside=False)
    conf = os.path.join(data_dir, 'recovery.conf')
    old = read_text(module, conf, 'settings file')
    if old is None:
        return dict(conf=conf, old=None, new=None, changed=[], signal=conf, signal_change=False, remove=True,
                    move_aside=False)
    current = parse_settings(old)
    own = ('standby_mode', 'primary_conninfo', 'primary_slot_name', 'recovery_target_timeline')
    return dict(conf=conf, old=old, new=None, changed=sorted(current), signal=conf, signal_change=True, remove=True,
                move_aside=any(n not in own for n in current))


def file_diff(path, before, after):
    return dict(before_header=path if before is not None else '%s (absent)' % path,
                after_header=path if after is not None else '%s (absent)' % path,
                before=before or '', after=after or '')


def apply(module, plan, owner, major):
    """Write plan (not in check mode). Returns the moved-aside path or None."""
    moved = None
    try:
        if plan['remove']:
            if plan['signal_change'] and plan.get('move_aside'):
                moved = moved_aside_path(plan['signal'])
                os.rename(plan['signal'], moved)
            elif plan['signal_change']:
                os.unlink(plan['signal'])
            if major >= 12 and plan['changed']:
                write_file_atomic(plan['conf'], plan['new'], owner, 0o600)
        else:
            if plan['changed'] or plan['old'] is None:
                write_file_atomic(plan['conf'], plan['new'], owner, 0o600)
            if plan['signal_change'] and plan['signal'] != plan['conf']:
                write_file_atomic(plan['signal'], '', owner, 0o600)
    except (IOError, OSError) as e:
        module.fail_json(msg='cannot write the recovery configuration in %s: %s' % (module.params['data_dir'], e))
    return moved


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[('state', 'standby', ['upstream_host'])],
        supports_check_mode=True,
    )
    p = module.params
    owner, major = validate(module)
    data_dir = os.path.normpath(p['data_dir'])
    pid = postmaster_pid(data_dir)
    result = dict(changed=False, pg_major=major, running=pid is not None, pid=pid, signal_created=False,
                  signal_removed=False, settings_changed=[], primary_conninfo=None, primary_slot_name=None,
                  passfile=None, passfile_changed=False, moved_aside=None)

    if p['state'] == 'standby':
        passfile = passfile_location(p, owner)
        conninfo = wanted_conninfo(p, passfile)
        plan = plan_standby(module, data_dir, major, conninfo)
        result.update(primary_conninfo=conninfo, primary_slot_name=p['slot_name'] or None, passfile=passfile,
                      signal_created=plan['signal_change'])
        if p['replication_password']:
            result['passfile_changed'] = ensure_passfile_entry(
                module, passfile, owner, p['upstream_host'], p['upstream_port'], p['replication_user'],
                p['replication_password'], check_mode=module.check_mode)
    else:
        plan = plan_absent(module, data_dir, major)
        result['signal_removed'] = plan['signal_change']
    result['conf_file'] = plan['conf']
    result['settings_changed'] = list(plan['changed'])
    changed_config = bool(plan['changed'] or plan['signal_change'])
    result['action'] = decide_action(changed_config, pid is not None, major, plan['signal_change'], plan['changed'])
    result['changed'] = changed_config or result['passfile_changed']

    if module._diff:
        after_conf = plan['new'] if not (plan['remove'] and major < 12) else None
        diffs = [file_diff(plan['conf'], plan['old'], after_conf)]
        if plan['signal'] != plan['conf'] and plan['signal_change']:
            exists = plan['remove']
            diffs.append(file_diff(plan['signal'], '' if exists else None, None if exists else ''))
        result['diff'] = diffs

    if changed_config and not module.check_mode:
        result['moved_aside'] = apply(module, plan, owner, major)
    elif plan.get('move_aside') and plan['signal_change']:
        result['moved_aside'] = moved_aside_path(plan['signal'])
    result['msg'] = describe(result, data_dir, p, module.check_mode)
    module.exit_json(**result)


def describe(result, data_dir, p, check_mode):
    if not result['changed']:
        what = 'is a standby of %s' % p['upstream_host'] if p['state'] == 'standby' else 'has no standby configuration'
        return '%s already %s' % (data_dir, what)
    verb = 'would be' if check_mode else 'was'
    parts = []
    if result['settings_changed'] or result['signal_created'] or result['signal_removed']:
        parts.append('the recovery configuration of %s %s %s' % (
            data_dir, verb, 'pointed at %s:%s' % (p['upstream_host'], p['upstream_port']) if p['state'] == 'standby'
            else 'removed'))
    if result['passfile_changed']:
        parts.append('the password file %s %s updated' % (result['passfile'], verb))
    return '; '.join(parts) + '; action: %s' % result['action']


if __name__ == '__main__':
    main()
