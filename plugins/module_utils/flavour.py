# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL / openGauss differences behind one small interface (as community.mysql does for
MySQL and MariaDB): ``get_flavour('postgresql' | 'opengauss')`` returns an object with the same
attributes and methods for both. Methods a flavour has no single command for raise
``NotImplementedError`` with the reason (PostgreSQL: no build/switchover command; the collection's
basebackup and promote modules do that work).

Argument vectors are lists (never shell strings) and start with the control program given by the
caller (``pg_ctl`` or ``gs_ctl``, a name or a path); running them (owner, environment) is the caller's
job (module_utils/commands.py, module_utils/gs_ctl.py).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.pgstream.replication.plugins.module_utils.gs_ctl_query import summary as gs_summary

ROLES = ('primary', 'standby', 'cascade_standby', 'pending', 'unknown')


def _check_int(name, value, low):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError('%s must be an integer >= %d, got %r' % (name, low, value))
    return value


def _wait(timeout):
    timeout = _check_int('timeout', timeout, 1)
    return ['-w'] + (['-t', str(timeout)] if timeout is not None else [])


class Flavour(object):
    """The interface; see the two subclasses for the values."""

    name = None
    display_name = None
    ctl_program = None
    default_owner = None
    default_port = None
    password_methods = ()
    start_modes = ()
    build_modes = ()
    switchover_modes = ()

    def role_from_status(self, status):
        """'primary', 'standby', 'cascade_standby', 'pending' or 'unknown' from a status dict."""
        raise NotImplementedError

    def stop_argv(self, ctl, data_dir, mode='fast', timeout=None):
        if mode not in ('fast', 'immediate'):
            raise ValueError('stop mode must be fast or immediate, got %r' % (mode,))
        return [ctl, 'stop', '-D', data_dir, '-m', mode] + _wait(timeout)

    def start_argv(self, ctl, data_dir, mode=None, timeout=None):
        raise NotImplementedError

    def promote_argv(self, ctl, data_dir, timeout=None):
        raise NotImplementedError

    def switchover_argv(self, ctl, data_dir, mode='fast', timeout=None):
        raise NotImplementedError

    def build_argv(self, ctl, data_dir, mode, server_mode='standby', timeout=None, recv_timeout=None):
        raise NotImplementedError

    def query_argv(self, ctl, data_dir):
        raise NotImplementedError

    def __repr__(self):
        return 'Flavour(%r)' % self.name


class PostgreSQL(Flavour):
    name = 'postgresql'
    display_name = 'PostgreSQL'
    ctl_program = 'pg_ctl'
    default_owner = 'postgres'
    default_port = 5432
    password_methods = ('scram-sha-256', 'md5')
    # PostgreSQL decides primary/standby from standby.signal (12+), not from a start option.
    start_modes = (None, 'primary', 'standby')

    def role_from_status(self, status):
        """From a replication_info-like dict: ``role`` if it is a known role, else ``in_recovery``."""
        if not isinstance(status, dict):
            return 'unknown'
        role = status.get('role')
        if role in ROLES:
            return role
        in_recovery = status.get('in_recovery')
        if in_recovery is True:
            return 'standby'
        if in_recovery is False:
            return 'primary'
        return 'unknown'

    def start_argv(self, ctl, data_dir, mode=None, timeout=None):
        """``pg_ctl start``; ``mode`` is only checked: the role comes from standby.signal, which the
        caller writes (module_utils/datadir.py write_recovery())."""
        if mode not in self.start_modes:
            raise ValueError('PostgreSQL start mode must be primary or standby, got %r' % (mode,))
        return [ctl, 'start', '-D', data_dir] + _wait(timeout)

    def promote_argv(self, ctl, data_dir, timeout=None):
        return [ctl, 'promote', '-D', data_dir] + _wait(timeout)

    def switchover_argv(self, ctl, data_dir, mode='fast', timeout=None):
        raise NotImplementedError('PostgreSQL has no switchover command: stop the primary cleanly, promote the '
                                  'standby (pgstream.replication.promote), restart the old primary as a standby')

    def build_argv(self, ctl, data_dir, mode, server_mode='standby', timeout=None, recv_timeout=None):
        raise NotImplementedError('PostgreSQL has no build command: use pgstream.replication.basebackup '
                                  '(pg_basebackup) or pg_rewind')

    def query_argv(self, ctl, data_dir):
        return [ctl, 'status', '-D', data_dir]


class OpenGauss(Flavour):
    name = 'opengauss'
    display_name = 'openGauss'
    ctl_program = 'gs_ctl'
    default_owner = 'omm'
    # The default of gs_initdb/the docker images; the HA (replication) port is port + 1.
    default_port = 5432
    password_methods = ('sha256', 'md5')
    # gaussdb -M (PostmasterMain() case 'M'); gs_ctl passes it through.
    start_modes = ('primary', 'standby', 'cascade_standby', 'pending', 'normal', 'hadr_main_standby')
    # gs_ctl build -b (main() case 'b'); 'auto' is the default branch (no -b or any other value).
    build_modes = ('full', 'incremental', 'auto', 'standby_full')
    build_server_modes = ('standby', 'cascade_standby', 'hadr_main_standby')
    # set_mode(): smart was removed in v1.0.1 ("unrecognized shutdown mode"), immediate is refused
    # for a switchover; both are passed through so that gs_ctl's own message reaches the user.
    switchover_modes = ('fast', 'smart')

    def role_from_status(self, status):
        """From ``gs_ctl_query.summary()`` (key ``role``), ``parse_query()`` (key ``ha_state``), a dict with
        ``local_role``, or a bare ``local_role`` string as gs_ctl prints it."""
        if isinstance(status, str):
            return gs_summary({'ha_state': {'local_role': status.strip()}})['role']
        if not isinstance(status, dict):
            return 'unknown'
        if 'ha_state' in status:
            return gs_summary(status)['role']
        role = status.get('role')
        if role in ROLES:
            return role
        if isinstance(status.get('local_role'), str):
            return self.role_from_status(status['local_role'])
        return 'unknown'

    def start_argv(self, ctl, data_dir, mode=None, timeout=None):
        if mode is not None and mode not in self.start_modes:
            raise ValueError('openGauss start mode (-M) must be one of %s, got %r' % (', '.join(self.start_modes), mode))
        return [ctl, 'start', '-D', data_dir] + (['-M', mode] if mode else []) + _wait(timeout)

    def promote_argv(self, ctl, data_dir, timeout=None):
        """``gs_ctl failover``: run on a standby whose primary is gone (do_failover())."""
        return [ctl, 'failover', '-D', data_dir] + _wait(timeout)

    def switchover_argv(self, ctl, data_dir, mode='fast', timeout=None):
        """``gs_ctl switchover``: run on the standby that is to become primary (do_switchover())."""
        if mode not in self.switchover_modes:
            raise ValueError('switchover mode must be fast or smart, got %r' % (mode,))
        return [ctl, 'switchover', '-D', data_dir, '-m', mode] + _wait(timeout)

    def build_argv(self, ctl, data_dir, mode, server_mode='standby', timeout=None, recv_timeout=None):
        """``gs_ctl build -b <mode> -M <server_mode>``; ``timeout`` is ``-t`` (wait for the start after the
        build), ``recv_timeout`` is ``-r``/``--recvtimeout`` (replication connection timeout, gs_ctl's default 120)."""
        if mode not in self.build_modes:
            raise ValueError('build mode must be one of %s, got %r' % (', '.join(self.build_modes), mode))
        if server_mode not in self.build_server_modes:
            raise ValueError('build server mode (-M) must be one of %s, got %r'
                             % (', '.join(self.build_server_modes), server_mode))
        argv = [ctl, 'build', '-D', data_dir, '-b', mode, '-M', server_mode]
        if _check_int('recv_timeout', recv_timeout, 1) is not None:
            argv += ['-r', str(recv_timeout)]
        return argv + _wait(timeout)

    def query_argv(self, ctl, data_dir):
        return [ctl, 'query', '-D', data_dir]


_FLAVOURS = {'postgresql': PostgreSQL, 'opengauss': OpenGauss}
ALIASES = {'postgres': 'postgresql', 'pg': 'postgresql', 'gauss': 'opengauss', 'open_gauss': 'opengauss'}
FLAVOURS = tuple(sorted(_FLAVOURS))


def get_flavour(name):
    """The flavour object for ``name`` (case-insensitive; 'postgres'/'pg' and 'gauss' are aliases).

    Raises ValueError for anything else.
    """
    key = str(name or '').strip().lower()
    key = ALIASES.get(key, key)
    if key not in _FLAVOURS:
        raise ValueError('unknown database flavour %r (known: %s)' % (name, ', '.join(FLAVOURS)))
    return _FLAVOURS[key]()
