#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: rewind
short_description: Make a stopped former primary follow a source server again with pg_rewind, only when its timeline forked
version_added: 0.1.0
description:
  - Runs C(pg_rewind) on the stopped data directory O(data_dir) (a former primary, or a standby that forked) so that it
    can follow the source server O(source_host) again. C(pg_rewind) runs only when its C(--dry-run) reports that the
    timelines diverged; C(no rewind required) leaves everything as it is (C(changed=false)). The dry run is stopped once it
    has said how much it would copy (RV(dry_run_stopped)), because a finished dry run would fetch all of that from the
    source for nothing.
  - The module refuses to work on a data directory a postmaster is running on (stop it first, for example with
    M(pgstream.replication.shutdown)).
  - B(Crash recovery.) C(pg_rewind) needs a cleanly shut down target. When C(pg_control) shows another state (the server
    crashed or was killed), the module first brings it to a clean shutdown and RV(crash_recovered) is true. This is done
    by the module on every major version; C(pg_rewind) 13 and later gets C(--no-ensure-shutdown), because its own
    single-user step cannot find the configuration in Debian's layout.
  - A crashed primary (C(in production), C(shutting down), C(in crash recovery), ...) is started and stopped once in
    single-user mode (C(postgres --single -D data_dir -c config_file=... template1) with an empty input, as O(owner));
    the signal files (C(standby.signal), C(recovery.signal), C(recovery.conf)) are moved aside for that step
    (single-user mode refuses standby mode) and put back afterwards.
  - A crashed standby (C(in archive recovery), also a data directory rewound earlier and not started since) is not
    recovered in single-user mode, because the checkpoint that crash recovery writes at the end of the local WAL would
    make its WAL differ from its upstream's on the same timeline, which C(pg_rewind) cannot detect. Instead it is
    started once as a standby without an upstream (C(pg_ctl start -w) with C(hot_standby=on), C(listen_addresses='')
    and, on PostgreSQL 12 and later, an empty C(primary_conninfo); a temporary C(standby.signal), or a C(recovery.conf)
    with C(standby_mode) on and the original C(restore_command), replaces the signal files meanwhile) and stopped with
    C(pg_ctl stop -m fast) once its recovery is consistent, which leaves it C(shut down in recovery).
  - B(Configuration files.) C(pg_rewind) copies the source's configuration files that live in the data directory over the
    target's. The files of O(preserve) that exist are saved before C(pg_rewind) runs and put back afterwards.
  - The recovery configuration is not written (C(pg_rewind -R) is never used); write C(standby.signal) and
    C(primary_conninfo) before starting the rewound server.
  - The password is never put on a command line or returned. C(pg_rewind) reads it from a private (0600) temporary
    password file owned by O(owner), passed in C(PGPASSFILE) and removed afterwards.
  - B(Source requirements.) C(pg_rewind) connects with an ordinary (not a replication) connection to O(source_dbname),
    so the source's C(pg_hba.conf) needs a C(host) line for that database and O(source_user). The user must be a
    superuser or have C(EXECUTE) on C(pg_ls_dir(text,boolean,boolean)), C(pg_stat_file(text,boolean)),
    C(pg_read_binary_file(text)) and C(pg_read_binary_file(text,bigint,bigint,boolean)) (see the C(rewind_grants) option
    of M(pgstream.replication.replication_user)). Before PostgreSQL 14 the source must be a primary.
  - B(Target requirements.) The target must have run with C(wal_log_hints=on) or data checksums, and still have its WAL
    from the last common checkpoint on (or get it with O(restore_target_wal)). Otherwise the rewind is impossible and the
    data directory must be cloned again, for example with M(pgstream.replication.basebackup) C(force=true) (the old data
    directory is moved aside).
  - B(Source WAL.) After a rewind the target replays WAL from the last common checkpoint up to where the source was
    when it was copied, through the source's WAL from the point of divergence on (on the source's new timeline when the
    source was promoted, on the common one when the target is the one that was). When the source has already removed
    the segment where the timelines diverged (more WAL was written there than C(wal_keep_size) keeps, and no replication
    slot held it), the rewound server could never become consistent; it
    would start, wait for WAL nobody has and never accept connections. The module reads the source's C(pg_wal) from the
    file map that C(pg_rewind --dry-run --debug) prints and then refuses to rewind, changing nothing (the diverged data
    directory stays as it was, to be moved aside by a re-clone); see O(require_source_wal). The check is made once,
    before the rewind.
  - When no rewind is needed, the target streams from where its own WAL ends (found with C(pg_waldump --stats) from its
    last checkpoint on), so the source must still have that segment; the module lists the source's C(pg_wal) with
    C(psql) (C(pg_ls_dir), one of the grants above) and otherwise refuses the same way - a node that stayed away too long
    must be cloned again. When either cannot be read, a warning says the check was not made.
  - When C(pg_rewind) fails after it has started to copy, the data directory may be unusable; the module says so and
    deletes nothing.
author:
  - pgstream.replication developers (@pgstream)
options:
  data_dir:
    description:
      - Data directory of the stopped server to rewind (the target).
    type: path
    required: true
  source_host:
    description:
      - Host name or address of the source server (the current primary the target must follow).
    type: str
    required: true
  source_port:
    description:
      - Port of the source server.
    type: int
    default: 5432
  source_user:
    description:
      - Role C(pg_rewind) connects to the source as (a superuser, or a role with the function grants listed above).
    type: str
    default: replicator
  source_password:
    description:
      - Password of O(source_user). Handed to C(pg_rewind) only through a temporary 0600 password file.
    type: str
  source_passfile:
    description:
      - An existing password file (readable by O(owner)) to use instead of O(source_password), passed in C(PGPASSFILE).
    type: path
  source_dbname:
    description:
      - Database C(pg_rewind) connects to on the source.
    type: str
    default: postgres
  connect_timeout:
    description:
      - Seconds to wait for the connection to the source.
    type: int
    default: 10
  bindir:
    description:
      - Directory of C(pg_rewind), C(pg_controldata) and C(postgres). Searched for the data directory's major version
        (C(PG_VERSION)) or O(pg_major) when omitted.
    type: path
  pg_major:
    description:
      - PostgreSQL major version whose binaries to use when O(bindir) is omitted. Defaults to the data directory's.
    type: str
  owner:
    description:
      - Operating-system user that owns O(data_dir); C(pg_rewind) and C(postgres --single) run as this user (through
        C(runuser) when the module runs as root). The module must run as root or as this user.
    type: str
    default: postgres
  config_file:
    description:
      - The server's C(postgresql.conf), used for the crash recovery.
      - Default - C(data_dir/postgresql.conf) when it exists, else the C(/etc/postgresql/*/*/postgresql.conf) whose
        C(data_directory) is O(data_dir) (Debian's layout). Only needed when crash recovery is.
    type: path
  preserve:
    description:
      - Files, relative to O(data_dir), saved before C(pg_rewind) and restored after it (those that exist).
      - C(pg_rewind) otherwise replaces them with the source's copies.
    type: list
    elements: str
    default: [postgresql.auto.conf, postgresql.conf, pg_hba.conf, pg_ident.conf]
  restore_target_wal:
    description:
      - Let C(pg_rewind) fetch missing target WAL with the target's C(restore_command) (C(--restore-target-wal)).
        PostgreSQL 13 and later.
    type: bool
    default: false
  require_source_wal:
    description:
      - Refuse to rewind when the source no longer has its WAL segment where the timelines diverged
        (see B(Source WAL) above), because the rewound server could not catch up by streaming; when no rewind is
        needed, fail when the source no longer has the segment where the target's own WAL ends.
      - Set V(false) only when a WAL archive that the target's C(restore_command) reads provides that WAL.
    type: bool
    default: true
  recovery_timeout:
    description:
      - Seconds the crashed-standby recovery may take to reach a consistent state (C(pg_ctl start -w -t)) and to stop.
    type: int
    default: 300
  timeout:
    description:
      - Seconds after which each C(pg_rewind) run is stopped (SIGTERM, then SIGKILL 10 seconds later) and the module
        fails. V(0) means no limit. Uses C(timeout) from GNU coreutils.
    type: int
    default: 0
extends_documentation_fragment:
  - pgstream.replication.attributes
attributes:
  check_mode:
    support: full
    details:
      - Runs C(pg_rewind --dry-run) (which changes nothing) when the target was shut down cleanly and reports
        RV(forked) and RV(would_rewind); fails, as a real run would, when the source no longer has the WAL the rewound
        server would need (O(require_source_wal)).
      - Does not run the crash recovery; RV(would_crash_recover) tells that it would be needed, and whether a fork exists
        is then unknown (RV(forked) is null).
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - C(pg_rewind), C(pg_controldata), C(pg_ctl), C(postgres), C(pg_waldump) and C(psql) of the data directory's major version;
    C(runuser) (util-linux) when run as root; C(timeout) (coreutils) when O(timeout) is set.
notes:
  - Run as root (C(become=true)) or as O(owner).
  - Only the source's major version is supported as the target's; C(pg_rewind) refuses other combinations.
seealso:
  - module: pgstream.replication.shutdown
  - module: pgstream.replication.basebackup
  - name: pg_rewind
    description: The pg_rewind reference.
    link: https://www.postgresql.org/docs/current/app-pgrewind.html
'''

EXAMPLES = r'''
- name: Rewind the old primary pg1 to follow the new primary pg2
  pgstream.replication.rewind:
    data_dir: /var/lib/postgresql/15/main
    source_host: pg2.example.com
    source_user: rewinder
    source_password: "{{ rewind_password }}"
  become: true
  register: rewound

- name: Re-clone when the rewind is impossible
  pgstream.replication.basebackup:
    data_dir: /var/lib/postgresql/15/main
    primary_host: pg2.example.com
    replication_password: "{{ repl_password }}"
    force: true
  become: true
  when: rewound is failed

- name: Only tell whether pg1 forked (changes nothing while pg1 was shut down cleanly)
  pgstream.replication.rewind:
    data_dir: /var/lib/postgresql/15/main
    source_host: pg2.example.com
    source_passfile: /var/lib/postgresql/.pgpass
  become: true
  check_mode: true
  register: fork
'''

RETURN = r'''
forked:
  description:
    - Whether the target's timeline forked from the source's (a rewind is or was needed), from C(pg_rewind --dry-run).
    - Null when it is unknown (the dry run failed, or check mode on a target that needs crash recovery first).
  returned: always
  type: bool
  sample: true
diverged_lsn:
  description:
    - WAL location where the timelines diverged (C(servers diverged at WAL location ...)); also set when no rewind was
      required because the target's WAL ends exactly there. Null when pg_rewind did not report it (same timeline).
  returned: always
  type: str
  sample: 0/5000000
diverged_timeline:
  description: Last common timeline reported with RV(diverged_lsn).
  returned: always
  type: int
  sample: 1
copy_mb:
  description:
    - What C(pg_rewind) said it needs to copy, in MB (C(need to copy N MB)); from the real run when it rewound, else from
      the dry run; null when no rewind was needed.
    - Up to PostgreSQL 18 at least, C(pg_rewind) copies every WAL segment of the source's C(pg_wal) in full, whatever the divergence,
      so this is at least the size of the source's C(pg_wal) (up to C(max_wal_size) after heavy writes).
  returned: always
  type: int
  sample: 35
source_mb:
  description: The size of the source's data directory as C(pg_rewind) counted it, in MB (null when no rewind was needed).
  returned: always
  type: int
  sample: 1101
crash_recovered:
  description: Whether the crash recovery (see RV(crash_recovery_method)) ran.
  returned: always
  type: bool
  sample: false
crash_recovery_method:
  description: How the crash recovery ran - V(single-user) (a crashed primary) or V(standby) (a crashed standby); null when none ran.
  returned: always
  type: str
  sample: single-user
would_crash_recover:
  description: In check mode, whether the crash recovery would run.
  returned: check mode
  type: bool
  sample: false
rewound:
  description: Whether C(pg_rewind) ran (not as a dry run) and succeeded.
  returned: always
  type: bool
  sample: true
would_rewind:
  description: In check mode, whether C(pg_rewind) would run (null when unknown).
  returned: check mode
  type: bool
  sample: true
source_wal_checked:
  description:
    - Whether the module saw in C(pg_rewind)'s file map that the source still has its WAL segment where the timelines
      diverged (O(require_source_wal)). False when no rewind was needed, the check was turned off or
      the file map could not be read (then a warning says so).
  returned: always
  type: bool
  sample: true
dry_run_stopped:
  description:
    - Whether the module stopped C(pg_rewind --dry-run) once it had printed how much it would copy (C(need to copy N MB)),
      the last line before the copy. A dry run fetches everything it would copy from the source (the source's whole
      C(pg_wal) included) and throws it away, so letting it finish doubles the data a rewind transfers. False when the dry
      run ended by itself (no rewind required, an error, or a pg_rewind that prints that line only at its end).
  returned: always
  type: bool
  sample: true
wal_restored:
  description:
    - WAL segments of the target that C(pg_rewind) deleted (the source no longer had them) and the module put back,
      because the rewound server starts its recovery in them (the last common checkpoint); seen with PostgreSQL 13.
  returned: when pg_rewind rewound
  type: list
  elements: str
  sample: ["000000010000000000000002"]
preserved:
  description: The files of O(preserve) that were saved and restored after C(pg_rewind).
  returned: always
  type: list
  elements: str
  sample: [postgresql.auto.conf]
cluster_state_before:
  description: C(Database cluster state) of the target's C(pg_control) when the module started.
  returned: always
  type: str
  sample: shut down
timeline_before:
  description: Target's latest checkpoint's TimeLineID when the module started.
  returned: always
  type: int
  sample: 1
config_file:
  description: The C(postgresql.conf) used for the crash recovery (null when none was needed).
  returned: always
  type: str
  sample: /etc/postgresql/15/main/postgresql.conf
cmd:
  description: The last C(pg_rewind) command (argv list), secrets redacted; empty when none ran.
  returned: always
  type: list
  elements: str
  sample: [/usr/lib/postgresql/15/bin/pg_rewind, --dry-run, --target-pgdata, /var/lib/postgresql/15/main, --source-server,
           host=pg2 port=5432 user=replicator dbname=postgres connect_timeout=10, --no-ensure-shutdown]
stdout_lines:
  description: Last 50 lines of the standard output of the last C(pg_rewind) run, secrets redacted.
  returned: always
  type: list
  elements: str
stderr_lines:
  description: Last 50 lines of the standard error of the last C(pg_rewind) run, secrets redacted.
  returned: always
  type: list
  elements: str
  sample: ["pg_rewind: servers diverged at WAL location 0/5000000 on timeline 1",
           "pg_rewind: rewinding from last common checkpoint at 0/4000060 on timeline 1", "pg_rewind: Done!"]
hint:
  description: On failure, what to do about it.
  returned: failure
  type: str
msg:
  description: What was done.
  returned: always
  type: str
'''

import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pgstream.replication.plugins.module_utils import controldata
from ansible_collections.pgstream.replication.plugins.module_utils.commands import redact, run, run_until
from ansible_collections.pgstream.replication.plugins.module_utils.datadir import postmaster_pid
from ansible_collections.pgstream.replication.plugins.module_utils.lsn import parse_lsn
from ansible_collections.pgstream.replication.plugins.module_utils.recovery import build_conninfo
from ansible_collections.pgstream.replication.plugins.module_utils.singleuser import (
    CLEAN_STATES, C_LOCALE, as_owner, crash_recover, find_config_file, owner_entry, owner_passfile, standby_recover)
from ansible_collections.pgstream.replication.plugins.module_utils.version import data_dir_major, find_bindir

KILL_AFTER = 10
TAIL = 50
RECLONE = 're-clone with pgstream.replication.basebackup force=true (the old data directory is moved aside)'
GRANTS = ('pg_ls_dir(text, boolean, boolean)', 'pg_stat_file(text, boolean)', 'pg_read_binary_file(text)',
          'pg_read_binary_file(text, bigint, bigint, boolean)')

# 'location' since PostgreSQL 10 ('position' before); stdout (printf) up to 11, stderr (pg_log_info) from 12.
DIVERGED = re.compile(r'servers diverged at WAL (?:location|position) ([0-9A-Fa-f]+/[0-9A-Fa-f]+) on timeline (\d+)')
NO_REWIND = 'no rewind required'
COPY_SIZE = re.compile(r'need to copy (\d+) MB \(total source directory size is (\d+) MB\)')
WAL_SEGMENT = re.compile(r'^[0-9A-F]{24}$')
START_WAL = re.compile(r'^START WAL LOCATION: \S+ \(file ([0-9A-F]{24})\)', re.M)
# pg_rewind --debug prints its file map, a line per file: "pg_wal/<segment> (ACTION)". Every action but REMOVE
# (a file only the target has) means the source has the file.
FILEMAP_WAL = re.compile(r'^(?:pg_rewind: )?pg_wal/([0-9A-F]{24}) \(([A-Z_]+)\)\s*$', re.M)
# --debug lines left out of stdout_lines/stderr_lines (a line per file, chunk and block)
DEBUG_NOISE = re.compile(r'^(?:pg_rewind: )?(?:received chunk for file |block \d+$|fetched file |entry "|Not removing file |'
                         r'getting \d+ file chunks$|\S+ \((?:COPY|COPY_TAIL|NONE|TRUNCATE|REMOVE|CREATE|UNDECIDED)\)$)')
DEFAULT_SEGMENT_SIZE = 16 * 1024 * 1024
SOURCE_HISTORY = re.compile(r'Source timeline history:\s*\n((?:(?:pg_rewind: )?\d+: [0-9A-F]+/[0-9A-F]+ - [0-9A-F]+/[0-9A-F]+\s*\n?)+)')
HISTORY_ENTRY = re.compile(r'(\d+): ([0-9A-F]+/[0-9A-F]+) - ([0-9A-F]+/[0-9A-F]+)')
# Where pg_waldump --stats, reading the target's own WAL from its last checkpoint on, stops (PostgreSQL 10-18):
#   error in WAL record at 0/1B36938: invalid record length at 0/1B369B0: wanted 24, got 0
#   error in WAL record at X: unexpected pageaddr 0/1000000 in log segment 000000010000000000000004, offset 0
#   could not find file "000000010000000000000001": No such file or directory
WAL_END_AT = re.compile(r'error in WAL record at ([0-9A-F]+/[0-9A-F]+): (.*)$', re.M)
WAL_END_LSN = re.compile(r'invalid record length at ([0-9A-F]+/[0-9A-F]+)')
WAL_END_SEGMENT = re.compile(r'(?:in (?:log|WAL) segment |could not (?:find|open) file "(?:[^"]*/)?)([0-9A-F]{24})')
SOURCE_WAL_SQL = "SELECT name FROM pg_ls_dir('pg_wal', true, false) AS name"
# pg_control states of a standby (or of a rewound data directory that was not started yet).
STANDBY_STATES = ('in archive recovery',)


def argument_spec():
    return dict(
        data_dir=dict(type='path', required=True),
        source_host=dict(type='str', required=True),
        source_port=dict(type='int', default=5432),
        source_user=dict(type='str', default='replicator'),
        source_password=dict(type='str', no_log=True),
        source_passfile=dict(type='path', no_log=False),
        source_dbname=dict(type='str', default='postgres'),
        connect_timeout=dict(type='int', default=10),
        bindir=dict(type='path'),
        pg_major=dict(type='str'),
        owner=dict(type='str', default='postgres'),
        config_file=dict(type='path'),
        preserve=dict(type='list', elements='str',
                      default=['postgresql.auto.conf', 'postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']),
        restore_target_wal=dict(type='bool', default=False),
        require_source_wal=dict(type='bool', default=True),
        timeout=dict(type='int', default=0),
        recovery_timeout=dict(type='int', default=300),
    )


def major_int(major):
    try:
        return int(str(major).split('.', maxsplit=1)[0])
    except ValueError:
        return 0


def validate(module):
    p = module.params
    data_dir = p['data_dir']
    if not os.path.isabs(data_dir) or os.path.normpath(data_dir) == '/':
        module.fail_json(msg='data_dir must be an absolute path other than /, got %s' % data_dir)
    if not p['source_host'].strip():
        module.fail_json(msg='source_host must not be empty')
    if not 1 <= p['source_port'] <= 65535:
        module.fail_json(msg='source_port must be between 1 and 65535, got %d' % p['source_port'])
    if p['connect_timeout'] < 1:
        module.fail_json(msg='connect_timeout must be at least 1 second, got %d' % p['connect_timeout'])
    if p['timeout'] < 0:
        module.fail_json(msg='timeout must be 0 (no limit) or a positive number of seconds, got %d' % p['timeout'])
    if p['recovery_timeout'] < 1:
        module.fail_json(msg='recovery_timeout must be at least 1 second, got %d' % p['recovery_timeout'])
    for name in p['preserve']:
        norm = os.path.normpath(name or '.')
        if os.path.isabs(name or '') or norm == '.' or norm.split(os.sep)[0] == '..':
            module.fail_json(msg='preserve entries must be paths relative to data_dir inside it, got %r' % name)
    if p['source_passfile'] and not os.path.isfile(p['source_passfile']):
        module.fail_json(msg='source_passfile %s does not exist' % p['source_passfile'])
    if p['config_file'] and not os.path.isfile(p['config_file']):
        module.fail_json(msg='config_file %s does not exist' % p['config_file'])
    owner = owner_entry(module, p['owner'])
    if not os.path.isdir(data_dir):
        module.fail_json(msg='data_dir %s does not exist or is not a directory' % data_dir)
    if not os.path.isfile(os.path.join(data_dir, 'global', 'pg_control')):
        module.fail_json(msg='%s holds no PostgreSQL cluster (no global/pg_control)' % data_dir)
    return owner


def source_conninfo(p):
    return build_conninfo(host=p['source_host'], port=p['source_port'], user=p['source_user'], dbname=p['source_dbname'],
                          connect_timeout=p['connect_timeout'], application_name='pgstream.replication')


def rewind_argv(module, bindir, data_dir, major, dry_run):
    p = module.params
    argv = [os.path.join(bindir, 'pg_rewind')]
    if dry_run:
        # --debug prints the file map, from which the module reads the source's pg_wal (check_source_wal)
        argv += ['--dry-run', '--debug']
    # --progress makes pg_rewind say how much it copies (copy_mb, source_mb)
    argv += ['--progress', '--target-pgdata', data_dir, '--source-server', source_conninfo(p)]
    if major >= 13:
        argv.append('--no-ensure-shutdown')
    if p['restore_target_wal']:
        argv.append('--restore-target-wal')
    if p['timeout']:
        timeout_bin = module.get_bin_path('timeout')
        if not timeout_bin:
            module.fail_json(msg='timeout=%d needs the timeout command (GNU coreutils), not found on PATH' % p['timeout'])
        argv = [timeout_bin, '-k', str(KILL_AFTER), str(p['timeout'])] + argv
    return as_owner(module, p['owner'], argv)


def step_name(argv):
    """'pg_ctl start', 'pg_ctl stop -m fast' for a (wrapped) pg_ctl argv."""
    for i, arg in enumerate(argv):
        if os.path.basename(arg) == 'pg_ctl':
            words = ['pg_ctl'] + argv[i + 1:i + 2]
            if '-m' in argv[i:]:
                words += ['-m', argv[argv.index('-m', i) + 1]]
            return ' '.join(words)
    return os.path.basename(argv[0]) if argv else ''


def tail(text):
    return (text or '').splitlines()[-TAIL:]


def executable(path):
    return os.access(path, os.X_OK)


def quiet_tail(text):
    """tail() without the --debug lines of the file map, the chunks and the blocks."""
    return [line for line in (text or '').splitlines() if not DEBUG_NOISE.match(line.strip())][-TAIL:]


def source_wal(text):
    """Names of the WAL segments the source has, from pg_rewind --debug's file map; None when it printed none."""
    found = FILEMAP_WAL.findall(text or '')
    if not found:
        return None
    return set(name for name, action in found if action != 'REMOVE')


def segment_name(timeline, segno, segment_size):
    per_id = 0x100000000 // segment_size
    return '%08X%08X%08X' % (timeline, segno // per_id, segno % per_id)


def source_timeline_at(text, lsn):
    """The source's timeline that holds `lsn`, from the "Source timeline history" pg_rewind --debug prints
    ("N: begin - end", end 0/0 for the current one); None when it printed none."""
    m = SOURCE_HISTORY.search(text or '')
    if not m:
        return None
    point = parse_lsn(lsn)
    for tli, begin, end in HISTORY_ENTRY.findall(m.group(1)):
        end = parse_lsn(end)
        if parse_lsn(begin) <= point and (end == 0 or point < end):
            return int(tli)
    return None


def missing_fork_wal(names, lsn, timeline, segment_size, source_timeline=None):
    """None when names hold a segment, of the common timeline `timeline` or a later one, where `lsn` (the divergence)
    lies: the source's WAL from the fork on (on the common timeline when the target is the one that forked, on the
    source's new timeline when the source was promoted). Else the name of the segment the rewound target needs
    (on `source_timeline`, the source's timeline at `lsn`, when known)."""
    per_id = 0x100000000 // segment_size
    segno = parse_lsn(lsn) // segment_size
    for name in names:
        if WAL_SEGMENT.match(name) and int(name[:8], 16) >= timeline and \
                int(name[8:16], 16) * per_id + int(name[16:], 16) == segno:
            return None
    return segment_name(source_timeline or timeline, segno, segment_size)


def local_wal_end_segment(text, segment_size):
    """The number of the segment in which the target's own WAL ends, from what pg_waldump said when it stopped reading
    it; None when that is not in text."""
    m = WAL_END_AT.search(text or '')
    detail = m.group(2) if m else (text or '')
    seg = WAL_END_SEGMENT.search(detail)
    if seg:
        name = seg.group(1)
        return int(name[8:16], 16) * (0x100000000 // segment_size) + int(name[16:], 16)
    if not m:
        return None
    end = WAL_END_LSN.search(detail)
    return parse_lsn(end.group(1) if end else m.group(1)) // segment_size


def oldest_segment(names, timeline):
    later = [n for n in names if WAL_SEGMENT.match(n) and int(n[:8], 16) >= timeline]
    return min(later, key=lambda n: n[8:]) if later else None


def parse_output(out, err):
    """What pg_rewind said: dict(forked=True/False/None, diverged_lsn, diverged_timeline, copy_mb, source_mb)."""
    text = '%s\n%s' % (out or '', err or '')
    m = DIVERGED.search(text)
    forked = None
    if NO_REWIND in text:
        forked = False
    elif m:
        forked = True
    size = COPY_SIZE.search(text)
    return dict(forked=forked, diverged_lsn=m.group(1) if m else None, diverged_timeline=int(m.group(2)) if m else None,
                copy_mb=int(size.group(1)) if size else None, source_mb=int(size.group(2)) if size else None)


_ERROR_LINE = re.compile(r'^(?:pg_rewind: )?(?:error|fatal|FATAL): *(.*)$')


def failure_reason(out, err):
    """pg_rewind's error lines (prefixes stripped), or its last output lines."""
    lines = [line.rstrip() for line in (err or '').splitlines() + (out or '').splitlines()]
    picked = []
    for i, line in enumerate(lines):
        m = _ERROR_LINE.match(line.strip())
        if m:
            picked.append(m.group(1).strip())
            # libpq messages continue on the next lines (DETAIL, the second half of a connection error)
            for extra in lines[i + 1:i + 3]:
                if extra.strip() and not extra.startswith('pg_rewind:'):
                    picked.append(extra.strip())
                else:
                    break
    if not picked:
        picked = [line.strip() for line in lines if line.strip()][-3:]
    reason = '; '.join(s for s in picked if s)
    return reason or 'no output'


def classify(text, major):
    """A hint for a pg_rewind failure output."""
    p = text or ''
    if 'wal_log_hints' in p or 'data checksums' in p:
        return ('rewind impossible: the target ran without wal_log_hints=on and without data checksums; %s' % RECLONE)
    if 'different systems' in p:
        return 'the source is not a clone of this cluster (different system identifiers); %s' % RECLONE
    if 'common ancestor' in p:
        return 'the timelines of source and target share no history; %s' % RECLONE
    if 'permission denied for function' in p or 'must be superuser' in p:
        return ('the source user needs to be a superuser or have EXECUTE on %s (option rewind_grants of '
                'pgstream.replication.replication_user)' % ', '.join(GRANTS))
    if 'must not be in recovery' in p:
        return ('the source is a standby; pg_rewind of PostgreSQL %s needs a primary as source (PostgreSQL 14 and later '
                'accept a standby): rewind against the primary' % major)
    if 'full_page_writes' in p:
        return 'the source must run with full_page_writes=on'
    if 'not compatible with this version' in p:
        return 'use the pg_rewind of the cluster\'s major version (bindir, pg_major)'
    if 'could not find previous WAL record' in p or ('could not open file' in p and 'pg_wal' in p) or \
            'could not read WAL record' in p or 'could not find WAL' in p:
        return ('WAL of the target needed for the rewind is missing; with a WAL archive set restore_target_wal=true '
                '(PostgreSQL 13+, uses the restore_command of the target\'s configuration), otherwise %s' % RECLONE)
    if any(s in p for s in ('password authentication failed', 'no password supplied', 'pg_hba.conf', 'no pg_hba.conf entry')):
        return ('the source refused the connection: check source_user, source_password/source_passfile and that the '
                'source\'s pg_hba.conf has a host line for the database (pg_rewind does not use a replication connection)')
    if any(s in p for s in ('could not connect', 'connection to server', 'Connection refused', 'timeout expired',
                            'could not translate host name', 'No route to host')):
        return 'the source is unreachable: check source_host/source_port, that the source runs and accepts connections'
    if 'shut down cleanly' in p:
        return 'the target was not shut down cleanly; run the module again (it recovers crashed targets first)'
    return 'see stdout_lines/stderr_lines'


class Rewinder:
    def __init__(self, module, owner):
        self.module = module
        self.p = module.params
        self.owner = owner
        self.data_dir = os.path.normpath(self.p['data_dir'])
        self.secrets = [self.p['source_password']]
        self.result = dict(changed=False, forked=None, diverged_lsn=None, diverged_timeline=None, copy_mb=None, source_mb=None,
                           crash_recovered=False, source_wal_checked=False, dry_run_stopped=False,
                           rewound=False, preserved=[], cluster_state_before=None, timeline_before=None,
                           config_file=None, crash_recovery_method=None, cmd=[], stdout_lines=[], stderr_lines=[])
        if module.check_mode:
            self.result.update(would_rewind=None, would_crash_recover=False)

    def fail(self, msg, **kw):
        self.module.fail_json(msg=redact(msg, self.secrets), **dict(self.result, **kw))

    def exit(self, msg):
        self.module.exit_json(msg=msg, **self.result)

    # ---- running pg_rewind ---------------------------------------------------------------------------------------

    def run_with_source_password(self, argv, until=None):
        """Run argv (a client of the source) with the password in PGPASSFILE, never on the command line; with until
        (a regex), stop it at the first line of its output that matches (rc 0, all output in err)."""
        p = self.p
        env = dict(C_LOCALE)
        if p['source_password']:
            with owner_passfile(self.owner, p['source_host'], p['source_port'], p['source_user'],
                                p['source_password']) as path:
                env['PGPASSFILE'] = path
                return self._run(argv, env, until)
        if p['source_passfile']:
            env['PGPASSFILE'] = p['source_passfile']
        return self._run(argv, env, until)

    def _run(self, argv, env, until):
        if until is None:
            return run(self.module, argv, secrets=self.secrets, env=env, cwd='/')
        rc, output, stopped = run_until(self.module, argv, until, secrets=self.secrets, env=env, cwd='/')
        self.result['dry_run_stopped'] = stopped
        return (0 if stopped else rc), '', output

    def pg_rewind(self, argv, until=None):
        self.result['cmd'] = [redact(a, self.secrets) for a in argv]
        rc, out, err = self.run_with_source_password(argv, until)
        self.result['stdout_lines'] = quiet_tail(out)
        self.result['stderr_lines'] = quiet_tail(err)
        return rc, out, err

    def failure(self, what, rc, out, err, major, midway=False):
        reason = failure_reason(out, err)
        if self.p['timeout'] and rc in (124, 137):
            reason = 'did not finish within timeout=%d seconds and was stopped' % self.p['timeout']
            hint = 'raise timeout' if not midway else RECLONE
        else:
            hint = classify('%s\n%s' % (out, err), major)
        msg = '%s failed (rc=%d): %s' % (what, rc, reason)
        if midway:
            msg += ('; pg_rewind may have stopped after it started to change %s, so the data directory may be unusable '
                    '(nothing was deleted): %s' % (self.data_dir, RECLONE))
            if hint != RECLONE and not hint.endswith(RECLONE):
                msg += '; cause: %s' % hint
            hint = RECLONE
        self.fail(msg, rc=rc, hint=hint)

    # ---- preserved files ---------------------------------------------------------------------------------------------

    def save(self):
        """Copy the existing preserve files to a private directory next to data_dir; returns (dir, names)."""
        names = [n for n in self.p['preserve'] if os.path.isfile(os.path.join(self.data_dir, n))]
        if not names:
            return None, []
        parent = os.path.dirname(self.data_dir)
        try:
            saved = tempfile.mkdtemp(prefix='.%s.rewind-preserve-' % os.path.basename(self.data_dir), dir=parent)
            for n in names:
                dest = os.path.join(saved, n)
                if not os.path.isdir(os.path.dirname(dest)):
                    os.makedirs(os.path.dirname(dest))
                shutil.copy2(os.path.join(self.data_dir, n), dest)
        except (IOError, OSError) as e:
            self.fail('cannot save the files to preserve (%s) before pg_rewind: %s; nothing was changed' % (', '.join(names), e))
        return saved, names

    def restore(self, saved, names):
        """Put the saved files back (atomic rename), owned by owner; removes the saved copies when all went back."""
        errors = []
        for n in names:
            target = os.path.join(self.data_dir, n)
            tmp = target + '.pgstream-restore'
            try:
                if not os.path.isdir(os.path.dirname(target)):
                    os.makedirs(os.path.dirname(target))
                shutil.copy2(os.path.join(saved, n), tmp)
                if os.geteuid() == 0:
                    os.chown(tmp, self.owner.pw_uid, self.owner.pw_gid)
                os.rename(tmp, target)
            except (IOError, OSError) as e:
                errors.append('%s: %s' % (n, e))
        if errors:
            return 'could not restore %s; the saved copies are in %s' % ('; '.join(errors), saved)
        shutil.rmtree(saved, ignore_errors=True)
        self.result['preserved'] = list(names)
        return None

    # ---- the target's WAL --------------------------------------------------------------------------------------------

    def save_wal(self):
        """Hard links (copies across file systems) of the target's WAL segments, in a private directory next to
        data_dir: pg_rewind deletes target segments the source no longer has, also the one the rewound server starts
        its recovery from (seen with PostgreSQL 13), which restore_wal() puts back."""
        wal = os.path.join(self.data_dir, 'pg_wal')
        try:
            segments = [n for n in os.listdir(wal) if WAL_SEGMENT.match(n)]
        except OSError:
            return None
        if not segments:
            return None
        try:
            saved = tempfile.mkdtemp(prefix='.%s.rewind-wal-' % os.path.basename(self.data_dir),
                                     dir=os.path.dirname(self.data_dir))
            for n in segments:
                try:
                    os.link(os.path.join(wal, n), os.path.join(saved, n))
                except OSError:
                    shutil.copy2(os.path.join(wal, n), os.path.join(saved, n))
        except (IOError, OSError) as e:
            self.module.warn('could not keep a copy of the WAL segments of %s before pg_rewind: %s' % (self.data_dir, e))
            return None
        return saved

    def start_segment(self):
        """(timeline, segment number, file name) of the WAL file named in the backup_label pg_rewind wrote, or None."""
        try:
            with open(os.path.join(self.data_dir, 'backup_label')) as f:
                m = START_WAL.search(f.read())
        except (IOError, OSError):
            return None
        if not m:
            return None
        name = m.group(1)
        return int(name[:8], 16), int(name[8:], 16), name

    def restore_wal(self, saved):
        """Put back the saved target segments, on the timeline of the recovery start, from the start segment up to
        the first one pg_wal has; returns their names. They hold the history both servers share."""
        start = self.start_segment()
        if not start:
            return []
        tli, segno, dummy = start
        wal = os.path.join(self.data_dir, 'pg_wal')
        restored = []
        for name in sorted(os.listdir(saved)):
            if int(name[:8], 16) != tli or int(name[8:], 16) < segno:
                continue
            target = os.path.join(wal, name)
            if os.path.exists(target):
                break
            try:
                shutil.copy2(os.path.join(saved, name), target + '.pgstream-restore')
                if os.geteuid() == 0:
                    os.chown(target + '.pgstream-restore', self.owner.pw_uid, self.owner.pw_gid)
                os.rename(target + '.pgstream-restore', target)
                restored.append(name)
            except (IOError, OSError) as e:
                self.module.warn('could not put the WAL segment %s back into %s: %s' % (name, wal, e))
                break
        return restored

    def missing_start_wal(self):
        start = self.start_segment()
        if not start:
            return None
        name = start[2]
        wal = os.path.join(self.data_dir, 'pg_wal')
        if os.path.exists(os.path.join(wal, name)):
            return None
        return name

    # ---- the source's WAL ----------------------------------------------------------------------------------------

    def segment_size(self, control):
        try:
            return int(control['raw'].get('Bytes per WAL segment') or DEFAULT_SEGMENT_SIZE)
        except (KeyError, TypeError, ValueError):
            return DEFAULT_SEGMENT_SIZE

    def check_source_wal(self, out, err, control):
        """Refuse (nothing changed) when the dry run's file map shows that the source removed its segment where the
        timelines diverged; warn when the file map cannot be read."""
        p, r = self.p, self.result
        text = '%s\n%s' % (out or '', err or '')
        names = source_wal(text)
        if names is None:
            self.module.warn('pg_rewind --dry-run --debug printed no file map, so whether %s:%s still has the WAL from %s '
                             'on was not checked' % (p['source_host'], p['source_port'], r['diverged_lsn']))
            return
        missing = missing_fork_wal(names, r['diverged_lsn'], r['diverged_timeline'], self.segment_size(control),
                                   source_timeline_at(text, r['diverged_lsn']))
        if missing:
            oldest = oldest_segment(names, r['diverged_timeline'])
            self.fail('rewind impossible: %s:%s no longer has the WAL where the timelines diverged (%s, timeline %s; '
                      'segment %s): it was removed there (more WAL was written than wal_keep_size keeps, and no '
                      'replication slot held it or its slot went past max_slot_wal_keep_size; its oldest segment from '
                      'that timeline on is %s), so a rewound %s could '
                      'never catch up by streaming. The data directory was not changed: %s'
                      % (p['source_host'], p['source_port'], r['diverged_lsn'], r['diverged_timeline'], missing,
                         oldest or 'none', self.data_dir, RECLONE),
                      hint='%s; or, when a WAL archive that the target\'s restore_command reads has %s, set '
                           'require_source_wal=false' % (RECLONE, missing), missing_wal_segment=missing)
        r['source_wal_checked'] = True

    def source_wal_files(self, bindir):
        """The file names in the source's pg_wal (psql, pg_ls_dir - one of the rewind grants), or None with a warning."""
        if not executable(os.path.join(bindir, 'psql')):
            self.module.warn('%s not found, so whether %s:%s still has the WAL %s needs next was not checked'
                             % (os.path.join(bindir, 'psql'), self.p['source_host'], self.p['source_port'], self.data_dir))
            return None
        argv = as_owner(self.module, self.p['owner'], [os.path.join(bindir, 'psql'), '-XAtq', '-v', 'ON_ERROR_STOP=1',
                                                       '-d', source_conninfo(self.p), '-c', SOURCE_WAL_SQL])
        rc, out, err = self.run_with_source_password(argv)
        if rc != 0:
            self.module.warn('could not list the pg_wal of %s:%s (%s), so whether it still has the WAL %s needs next was '
                             'not checked' % (self.p['source_host'], self.p['source_port'],
                                              ' '.join((err or out or 'rc=%d' % rc).split())[-300:], self.data_dir))
            return None
        return set(line.strip() for line in out.splitlines() if line.strip())

    def check_catch_up(self, bindir, control):
        """No rewind needed: refuse (nothing changed) when the source no longer has the segment in which the target's own
        WAL ends - from there on the target must stream it, and could not; warn when that cannot be told."""
        p, r = self.p, self.result
        size = self.segment_size(control)
        if not executable(os.path.join(bindir, 'pg_waldump')):
            self.module.warn('%s not found, so whether %s:%s still has the WAL %s needs next was not checked'
                             % (os.path.join(bindir, 'pg_waldump'), p['source_host'], p['source_port'], self.data_dir))
            return
        argv = as_owner(self.module, p['owner'], [os.path.join(bindir, 'pg_waldump'), '--stats', '--path',
                                                  os.path.join(self.data_dir, 'pg_wal'), '--timeline',
                                                  str(control['timeline']), '--start', control['checkpoint_lsn']])
        rc, out, err = run(self.module, argv, env=C_LOCALE)
        segno = local_wal_end_segment('%s\n%s' % (err or '', out or ''), size)
        if segno is None:
            said = ' '.join((err or out or '').split())[-300:]
            self.module.warn('could not tell where the WAL of %s ends (pg_waldump rc=%d: %s), so whether %s:%s still has '
                             'the WAL it needs next was not checked'
                             % (self.data_dir, rc, said, p['source_host'], p['source_port']))
            return
        names = self.source_wal_files(bindir)
        if names is None:
            return
        lsn = '%X/%X' % ((segno * size) >> 32, (segno * size) & 0xFFFFFFFF)
        missing = missing_fork_wal(names, lsn, control['timeline'], size)
        if missing:
            oldest = oldest_segment(names, control['timeline'])
            self.fail('no rewind is needed, but %s cannot catch up: its own WAL ends in segment %s, and %s:%s no longer '
                      'has the WAL from there on (more WAL was written there than wal_keep_size keeps, and no replication '
                      'slot held it or its slot went past max_slot_wal_keep_size; its oldest segment from timeline %s '
                      'on is %s). The data directory was not changed: %s'
                      % (self.data_dir, missing, p['source_host'], p['source_port'], control['timeline'], oldest or 'none',
                         RECLONE),
                      hint='%s; or, when a WAL archive that the target\'s restore_command reads has %s, set '
                           'require_source_wal=false' % (RECLONE, missing), missing_wal_segment=missing)
        r['source_wal_checked'] = True

    # ---- steps -------------------------------------------------------------------------------------------------------

    def recover(self, bindir, major):
        state = self.result['cluster_state_before']
        config = self.p['config_file'] or find_config_file(self.data_dir)
        if not config:
            self.fail('%s was not shut down cleanly (cluster state "%s") and needs crash recovery first, but its '
                      'postgresql.conf was not found (neither in the data directory nor an /etc/postgresql/*/*/'
                      'postgresql.conf with this data_directory); set config_file' % (self.data_dir, state))
        self.result['config_file'] = config
        if state in STANDBY_STATES:
            self.result['crash_recovery_method'] = 'standby'
            self.recover_standby(bindir, major, config)
        else:
            self.result['crash_recovery_method'] = 'single-user'
            rc, out, err, argv, moved = crash_recover(self.module, bindir, self.data_dir, config, self.p['owner'])
            state = self.state_now(bindir)
            if rc != 0 or state not in CLEAN_STATES:
                text = '\n'.join(s.strip() for s in (err, out) if s and s.strip())
                self.fail('single-user crash recovery of %s failed (rc=%d, cluster state now "%s"): %s'
                          % (self.data_dir, rc, state, '\n'.join(tail(text)[-10:])),
                          single_user_cmd=argv, single_user_stderr_lines=tail(err), signal_files_moved=moved)
        self.result['crash_recovered'] = True
        self.result['changed'] = True

    def state_now(self, bindir):
        after = controldata.read(self.module, self.data_dir, bindir)
        return after['cluster_state'] if after else None

    def recover_standby(self, bindir, major, config):
        """A standby must not get the end-of-recovery checkpoint of a single-user run (its WAL would no longer be a
        prefix of its upstream's): start it once as a standby without upstream and stop it."""
        fd, logfile = tempfile.mkstemp(prefix='pgstream-rewind-recovery-', suffix='.log')
        try:
            if os.geteuid() == 0:
                os.fchown(fd, self.owner.pw_uid, self.owner.pw_gid)
            os.close(fd)
            done = standby_recover(self.module, bindir, self.data_dir, config, self.owner, major,
                                   self.p['recovery_timeout'], logfile)
            try:
                with open(logfile) as f:
                    log = tail(f.read())
            except (IOError, OSError):
                log = []
        finally:
            try:
                os.unlink(logfile)
            except OSError:
                pass
        state = self.state_now(bindir)
        if not done['ok'] or state not in CLEAN_STATES:
            steps = '; '.join('%s (rc=%d): %s' % (step_name(argv), rc, ' '.join((err or out or '').split())[-300:])
                              for argv, rc, out, err in done['steps'])
            self.fail('recovery of the crashed standby %s (started as a standby without upstream, then stopped) did not '
                      'end in a clean shutdown (cluster state now "%s"); %s. Look at server_log_lines; a standby that '
                      'cannot reach a consistent state from its own WAL needs a re-clone (%s)'
                      % (self.data_dir, state, steps, RECLONE), server_log_lines=log,
                      recovery_cmds=[argv for argv, rc, out, err in done['steps']])

    def run(self):
        p, r = self.p, self.result
        pid = postmaster_pid(self.data_dir)
        if pid:
            self.fail('a postmaster (pid %d) is running on %s; stop it first (pgstream.replication.shutdown)'
                      % (pid, self.data_dir))
        version = data_dir_major(self.data_dir)
        if version is None:
            self.fail('%s has no PG_VERSION' % self.data_dir)
        major = major_int(p['pg_major'] or version)
        if major < 10:
            self.fail('PostgreSQL %s is not supported (10 or later is needed)' % (p['pg_major'] or version))
        if p['restore_target_wal'] and major < 13:
            self.fail('restore_target_wal needs PostgreSQL 13 or later (pg_rewind --restore-target-wal); this is %d' % major)
        bindir = find_bindir(self.module, major=p['pg_major'] or version, bindir=p['bindir'])
        before = controldata.read(self.module, self.data_dir, bindir)
        r['cluster_state_before'] = before['cluster_state']
        r['timeline_before'] = before['timeline']

        if before['cluster_state'] not in CLEAN_STATES:
            if self.module.check_mode:
                r.update(would_crash_recover=True, changed=True)
                r['crash_recovery_method'] = 'standby' if before['cluster_state'] in STANDBY_STATES else 'single-user'
                self.exit('%s was not shut down cleanly (cluster state "%s"): would run the %s crash recovery first; '
                          'whether its timeline forked is unknown until then'
                          % (self.data_dir, before['cluster_state'], r['crash_recovery_method']))
            self.recover(bindir, major)

        # Stopped once it has said how much it would copy: the rest of a dry run fetches all of that (the source's
        # whole pg_wal included) from the source and throws it away.
        rc, out, err = self.pg_rewind(rewind_argv(self.module, bindir, self.data_dir, major, dry_run=True), until=COPY_SIZE)
        if rc != 0:
            self.failure('pg_rewind --dry-run against %s:%s' % (p['source_host'], p['source_port']), rc, out, err, major)
        r.update(parse_output(out, err))
        if r['forked'] is None:
            self.fail('pg_rewind --dry-run succeeded but reported neither "%s" nor "servers diverged at WAL location"; '
                      'cannot tell whether %s forked' % (NO_REWIND, self.data_dir), hint='see stdout_lines/stderr_lines')
        recovered = ' after %s crash recovery' % r['crash_recovery_method'] if r['crash_recovered'] else ''
        if r['forked'] and p['require_source_wal']:
            self.check_source_wal(out, err, before)
        if not r['forked']:
            if p['require_source_wal']:
                self.check_catch_up(bindir, controldata.read(self.module, self.data_dir, bindir) if r['crash_recovered']
                                    else before)
            if self.module.check_mode:
                r['would_rewind'] = False
            self.exit('no rewind required: %s (timeline %s) can follow %s:%s%s'
                      % (self.data_dir, r['timeline_before'], p['source_host'], p['source_port'], recovered))
        r['changed'] = True
        if self.module.check_mode:
            r['would_rewind'] = True
            self.exit('would rewind %s: it diverged from %s:%s at %s on timeline %s'
                      % (self.data_dir, p['source_host'], p['source_port'], r['diverged_lsn'], r['diverged_timeline']))

        saved, names = self.save()
        wal_saved = self.save_wal()
        argv = rewind_argv(self.module, bindir, self.data_dir, major, dry_run=False)
        restore_error = None
        rc = None
        try:
            rc, out, err = self.pg_rewind(argv)
        finally:
            if saved:
                restore_error = self.restore(saved, names)
            if wal_saved and rc == 0:
                r['wal_restored'] = self.restore_wal(wal_saved)
            if wal_saved:
                shutil.rmtree(wal_saved, ignore_errors=True)
        if rc != 0:
            if restore_error:
                r['restore_error'] = restore_error
            self.failure('pg_rewind against %s:%s' % (p['source_host'], p['source_port']), rc, out, err, major, midway=True)
        if restore_error:
            self.fail('pg_rewind succeeded but %s' % restore_error, hint='copy the saved files back by hand')
        r['rewound'] = True
        size = parse_output(out, err)
        if size['copy_mb'] is not None:
            r.update(copy_mb=size['copy_mb'], source_mb=size['source_mb'])
        missing = self.missing_start_wal()
        if missing:
            self.fail('pg_rewind rewound %s, but the WAL segment %s holding the start of its recovery (the last common '
                      'checkpoint) is not in pg_wal: the source had already removed it and the target had no copy either. '
                      'The data directory starts only with a restore_command that provides it (a WAL archive)'
                      % (self.data_dir, missing),
                      hint='provide %s through restore_command, or %s' % (missing, RECLONE))
        self.exit('rewound %s%s: it diverged from %s:%s at %s on timeline %s%s; write the standby configuration before '
                  'starting it' % (self.data_dir, recovered, p['source_host'], p['source_port'], r['diverged_lsn'],
                                   r['diverged_timeline'],
                                   '; restored %s' % ', '.join(r['preserved']) if r['preserved'] else ''))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('bindir', 'pg_major'), ('source_password', 'source_passfile')],
        supports_check_mode=True,
    )
    owner = validate(module)
    Rewinder(module, owner).run()


if __name__ == '__main__':
    main()
