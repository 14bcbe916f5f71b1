# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running openGauss's ``gs_ctl``: argv lists, the database OS user (``runuser`` when the module
runs as root), finding the binary ($GAUSSHOME/bin, the module's PATH, the owner's login
environment), the environment of the run, and what gs_ctl's exit code and messages mean.

Facts about gs_ctl used here come from openGauss-server ``src/bin/pg_ctl/pg_ctl.cpp`` (commit
7e1fc94a27e6be1b887285f08b633568f0bd477a), summarised in docs/opengauss-gs_ctl.md:

- everything goes to stdout; exit 0 / 1 (``PG_FATAL`` of an incremental build: 2);
- ``query`` without a server exits 1 after `` PID file "..." does not exist`` + ``Is server running?``,
  or `` could not connect to the local server, the postmaster process N is not running``, or
  `` The process recorded in PID file "..." is not current server``;
- ``status`` without a server prints ``no server running`` and exits 3;
- ``switchover`` that times out exits **0** (``switchover timeout after N seconds``); ``failover`` that
  times out exits 1; ``start`` on a running server exits 0 (``another server might be running``);
- a held ``pg_ctl.lock``: ``Another gs_ctl command is still running,<cmd> failed !`` (exit 1, or 0 for
  start/restart); as root: `` cannot be run as root`` (exit 1).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import pwd
import re
import shlex

from ansible_collections.pgstream.replication.plugins.module_utils.commands import run
from ansible_collections.pgstream.replication.plugins.module_utils.gs_ctl_query import parse_query, summary

DEFAULT_OWNER = 'omm'
DEFAULT_PROGRAM = 'gs_ctl'
# gs_ctl's messages are translated (src/bin/pg_ctl/po/zh_CN.po); the checks below read the English ones.
C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C', 'LANGUAGE': ''}
LOOKUP_MARKER = '__pgstream_gs_ctl_lookup__'

NOT_RUNNING_PATTERNS = (
    ('no_pid_file', re.compile(r'PID file "[^"]*" does not exist')),
    ('postmaster_gone', re.compile(r'could not connect to the local server, the postmaster process -?\d+ is not running')),
    ('foreign_pid', re.compile(r'The process recorded in PID file "[^"]*" is not current server')),
    ('no_server_running', re.compile(r'^no server running\s*$', re.MULTILINE)),
)
OUTCOME_PATTERNS = (
    ('root', re.compile(r'cannot be run as root')),
    ('locked', re.compile(r'Another gs_ctl command is still running')),
    ('switchover_timeout', re.compile(r'switchover timeout after \d+ seconds')),
    ('failover_timeout', re.compile(r'failover timeout after \d+ seconds')),
    ('already_running', re.compile(r'another server might be running')),
    ('still_starting', re.compile(r'server is still starting up')),
    ('no_state_file', re.compile(r' file "[^"]*" is not exist')),
)


def gs_ctl_argument_spec():
    """Options shared by the gs_ctl modules."""
    return dict(
        data_dir=dict(type='path', required=True),
        gs_ctl_path=dict(type='str', default=DEFAULT_PROGRAM),
        owner=dict(type='str', default=DEFAULT_OWNER),
        gauss_home=dict(type='path'),
    )


def output_lines(text):
    """gs_ctl's output as a list of lines, as printed (padding kept)."""
    return (text or '').splitlines()


def last_lines(text, count=8):
    """The last ``count`` non-blank lines, stripped (for failure messages)."""
    return [line.strip() for line in output_lines(text) if line.strip()][-count:]


def not_running_reason(rc, out):
    """Why gs_ctl says no server runs on the data directory (None when it does not say so)."""
    if rc == 0:
        return None
    for name, pattern in NOT_RUNNING_PATTERNS:
        if pattern.search(out or ''):
            return name
    return None


def outcome(command, rc, out):
    """Classify a gs_ctl run: ``ok``, ``not_running``, ``root``, ``locked``, ``switchover_timeout``,
    ``failover_timeout``, ``already_running``, ``still_starting``, ``no_state_file`` or ``failed``.

    rc 0 is not always success: a switchover that times out, a start on a running server and a start
    whose server keeps rejecting connections all exit 0 (pg_ctl.cpp do_switchover(), do_start()).
    """
    text = out or ''
    for name, pattern in OUTCOME_PATTERNS:
        if pattern.search(text):
            if name == 'switchover_timeout' and command != 'switchover':
                continue
            return name
    if not_running_reason(rc, text):
        return 'not_running'
    if rc == 0:
        return 'ok'
    return 'failed'


def _split_lookup(out):
    lines = (out or '').split('\n')
    if LOOKUP_MARKER not in lines:
        return None
    tail = lines[lines.index(LOOKUP_MARKER) + 1:] + ['', '', '']
    return {'path': tail[0].strip(), 'gauss_home': tail[1].strip(), 'ld_library_path': tail[2].strip()}


class GsCtl(object):
    """One gs_ctl binary run as one OS user on one data directory.

    ``GsCtl(module)`` reads the options of ``gs_ctl_argument_spec()`` from ``module.params``;
    ``resolve()`` finds the binary (fails the module with a clear message when it cannot);
    ``run(args)`` runs ``gs_ctl <args>`` and returns a dict (``rc``, ``stdout``, ``stderr``,
    ``stdout_lines``, ``cmd``, ``argv``, ``outcome``); ``query()`` runs ``gs_ctl query -D data_dir``
    and parses it.
    """

    def __init__(self, module, data_dir=None, gs_ctl_path=None, owner=None, gauss_home=None):
        params = module.params
        self.module = module
        self.data_dir = data_dir or params.get('data_dir')
        self.gs_ctl_path = gs_ctl_path or params.get('gs_ctl_path') or DEFAULT_PROGRAM
        self.owner = owner or params.get('owner') or DEFAULT_OWNER
        self.gauss_home = gauss_home or params.get('gauss_home')
        self.path = None
        self.extra_env = {}

    # -- who runs it ---------------------------------------------------------------------------
    def _as_root(self):
        return os.geteuid() == 0

    def check_owner(self):
        """Fail when the owner does not exist; returns its pwd entry."""
        try:
            return pwd.getpwnam(self.owner)
        except KeyError:
            self.module.fail_json(msg='owner %s does not exist on this host' % self.owner)

    def _wrap(self, argv):
        if not self._as_root():
            return list(argv)
        runuser = self.module.get_bin_path('runuser')
        if not runuser:
            self.module.fail_json(msg='gs_ctl cannot run as root and runuser was not found; run the task as %s '
                                  '(become_user)' % self.owner)
        return [runuser, '-u', self.owner, '--'] + list(argv)

    # -- where it is ---------------------------------------------------------------------------
    def _owner_login_lookup(self, name):
        """``command -v name``, $GAUSSHOME and $LD_LIBRARY_PATH in the owner's login shell."""
        shell = self.module.get_bin_path('bash') or '/bin/sh'
        script = ('printf "%%s\\n" %s "$(command -v %s 2>/dev/null)" "$GAUSSHOME" "$LD_LIBRARY_PATH"'
                  % (LOOKUP_MARKER, shlex.quote(name)))
        if self._as_root():
            argv = self._wrap([shell, '-lc', script])
        else:
            argv = [shell, '-lc', script]
        try:
            rc, out, dummy = run(self.module, argv, env=dict(C_LOCALE))
        except (OSError, IOError):
            return None
        found = _split_lookup(out) if rc == 0 else None
        if found and found['path'].startswith('/'):
            return found
        return None

    def resolve(self):
        """Absolute path of gs_ctl; sets the environment of the runs. Fails the module when not found."""
        if self.path:
            return self.path
        name = self.gs_ctl_path
        tried = []
        home = self.gauss_home or None
        if '/' in name:
            candidates = [name]
        else:
            candidates = []
            if home:
                candidates.append(os.path.join(home, 'bin', name))
            elif os.environ.get('GAUSSHOME'):
                candidates.append(os.path.join(os.environ['GAUSSHOME'], 'bin', name))
        for candidate in candidates:
            tried.append(candidate)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                self.path = candidate
                break
        if self.path is None and '/' not in name:
            found = self.module.get_bin_path(name)
            tried.append('PATH of the module (%s)' % name)
            if found:
                self.path = found
            else:
                login = self._owner_login_lookup(name)
                tried.append("login environment of %s" % self.owner)
                if login:
                    self.path = login['path']
                    if not home and login['gauss_home']:
                        home = login['gauss_home']
                    if login['ld_library_path']:
                        self.extra_env['LD_LIBRARY_PATH'] = login['ld_library_path']
        if self.path is None:
            self.module.fail_json(msg='gs_ctl not found (tried: %s); set gs_ctl_path or gauss_home' % ', '.join(tried))
        if home is None:
            home = self._home_of(self.path)
        self._set_home(home)
        return self.path

    @staticmethod
    def _home_of(path):
        """GAUSSHOME of an openGauss installation (<home>/bin/gs_ctl next to <home>/bin/gaussdb and <home>/lib)."""
        bindir = os.path.dirname(os.path.realpath(path))
        home = os.path.dirname(bindir)
        if os.path.isfile(os.path.join(bindir, 'gaussdb')) and os.path.isdir(os.path.join(home, 'lib')):
            return home
        return None

    def _set_home(self, home):
        if not home:
            return
        self.gauss_home = home
        path = os.environ.get('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
        ld_path = self.extra_env.get('LD_LIBRARY_PATH', os.environ.get('LD_LIBRARY_PATH', ''))
        libdir = os.path.join(home, 'lib')
        self.extra_env['GAUSSHOME'] = home
        self.extra_env['PATH'] = os.path.join(home, 'bin') + ':' + path
        if libdir not in ld_path.split(':'):
            ld_path = libdir + (':' + ld_path if ld_path else '')
        self.extra_env['LD_LIBRARY_PATH'] = ld_path

    def env(self):
        env = dict(C_LOCALE)
        env.update(self.extra_env)
        return env

    # -- running it ----------------------------------------------------------------------------
    def argv(self, args):
        return self._wrap([self.resolve()] + [str(a) for a in args])

    def cmd(self, args):
        """The command line ``run(args)`` would run, quoted for display."""
        return ' '.join(shlex.quote(a) for a in self.argv(args))

    def run(self, args):
        argv = self.argv(args)
        rc, out, err = run(self.module, argv, env=self.env())
        command = str(args[0]) if args else ''
        return {
            'rc': rc,
            'stdout': out or '',
            'stderr': err or '',
            'stdout_lines': output_lines(out),
            'argv': argv,
            'cmd': ' '.join(shlex.quote(a) for a in argv),
            'outcome': outcome(command, rc, (out or '') + '\n' + (err or '')),
        }

    def query(self):
        """Run ``gs_ctl query -D data_dir``; returns a dict:

        ``running`` (bool; False when gs_ctl says no server runs), ``not_running_reason``,
        ``parsed`` (parse_query()), ``summary`` (summary(); None when not running), ``rc``,
        ``raw_lines``, ``cmd``, ``error`` (text when gs_ctl failed for another reason, else None).
        """
        res = self.run(['query', '-D', self.data_dir])
        text = res['stdout']
        reason = not_running_reason(res['rc'], text)
        info = {
            'rc': res['rc'],
            'cmd': res['cmd'],
            'raw_lines': res['stdout_lines'],
            'stderr': res['stderr'],
            'running': reason is None and res['rc'] == 0,
            'not_running_reason': reason,
            'parsed': None,
            'summary': None,
            'error': None,
        }
        if reason is not None:
            return info
        if res['rc'] != 0:
            last = last_lines(text + '\n' + res['stderr'], 5)
            info['error'] = 'gs_ctl query failed (rc=%d): %s' % (res['rc'], ' | '.join(last) or 'no output')
            return info
        info['parsed'] = parse_query(text)
        info['summary'] = summary(info['parsed'])
        return info

    def fail_query(self, info, **extra):
        """fail_json for a query that neither worked nor said 'not running'."""
        extra.setdefault('rc', info['rc'])
        extra.setdefault('raw_lines', info['raw_lines'])
        self.module.fail_json(msg=info['error'], cmd=info['cmd'], **extra)


def query_result(gs, info):
    """The return values of gs_ctl_info from GsCtl.query()'s dict (the other gs_ctl modules use parts of it)."""
    parsed = info['parsed'] or {}
    ha_state = parsed.get('ha_state') or {}
    summ = info['summary']
    warnings = list(parsed.get('warnings') or [])
    warnings += ['unparsed line: %s' % line for line in (parsed.get('unparsed') or [])]
    return dict(
        running=info['running'],
        not_running_reason=info['not_running_reason'],
        local_role=ha_state.get('local_role'),
        role=summ['role'] if summ else 'unknown',
        db_state=ha_state.get('db_state'),
        detail_information=ha_state.get('detail_information'),
        static_connections=summ['static_connections'] if summ else None,
        ha_state=parsed.get('ha_state'),
        senders=parsed.get('senders') or [],
        receiver=parsed.get('receiver'),
        summary=summ,
        query_warnings=warnings,
        raw_lines=info['raw_lines'],
        rc=info['rc'],
        cmd=info['cmd'],
        gs_ctl=gs.path,
    )


def exit_ok(module, query_warnings=(), **result):
    """exit_json with ``failed=False`` set explicitly: the results carry gs_ctl's ``rc``, which Ansible
    would otherwise take as a failure when it is not 0 (for example ``gs_ctl query`` on a stopped server).
    Parser warnings are raised as Ansible warnings and returned under ``query_warnings``."""
    for warning in query_warnings or ():
        module.warn('gs_ctl query: %s' % warning)
    module.exit_json(failed=False, query_warnings=list(query_warnings or ()), **result)
