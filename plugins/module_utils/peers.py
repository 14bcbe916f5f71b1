# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Split-brain guard: is any other node of the cluster a reachable primary?"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.pgstream.replication.plugins.module_utils.commands import redact
from ansible_collections.pgstream.replication.plugins.module_utils.connection import libpq_message, server_refused

try:
    import psycopg2
    import psycopg2.extensions
except ImportError:  # pragma: no cover - depends on the managed host
    psycopg2 = None


# libpq's message when getaddrinfo() fails for the host name, and the pause between two lookups.
UNRESOLVED = 'could not translate host name'
RESOLVE_RETRY_DELAY = 0.5


def peer_name(params, index):
    """'host:port' of a parsed peer conninfo (never its password); '#n' when there is no host."""
    host = params.get('host') or params.get('hostaddr')
    if not host:
        return 'peer #%d (local socket):%s' % (index + 1, params.get('port') or 5432)
    return '%s:%s' % (host, params.get('port') or 5432)


def probe(conninfo, index, connect_timeout, password=None):
    """{'peer': 'host:port', 'reachable': bool, 'in_recovery': bool or None, 'error': str or None}.

    ``password`` is used when the string has none. A server that answers and refuses the connection (authentication,
    pg_hba.conf, the role: server_refused) is reachable, and whether it is a primary cannot be told."""
    try:
        params = psycopg2.extensions.parse_dsn(conninfo)
    except Exception:  # psycopg2.ProgrammingError for a malformed string
        return dict(peer='peer #%d' % (index + 1), reachable=False, in_recovery=None,
                    error='invalid connection string', invalid=True)
    if password and not params.get('password'):
        params['password'] = password
    secrets = [params.get('password')]
    params.setdefault('connect_timeout', str(connect_timeout))
    params.setdefault('application_name', 'pgstream.replication')
    item = dict(peer=peer_name(params, index), reachable=False, in_recovery=None, error=None)
    physical = str(params.get('replication', '')).lower() in ('true', 'on', 'yes', '1')
    try:
        conn = _connect(params, connect_timeout)
    except Exception as e:  # unreachable peers are expected during a failover
        item['error'] = redact(libpq_message(e), secrets)
        item['reachable'] = server_refused(item['error'])
        return item
    item['reachable'] = True
    try:
        conn.autocommit = True
        cur = conn.cursor()
        if physical:
            # A physical replication connection runs no SQL, but SHOW works (in_hot_standby: PostgreSQL 14+).
            cur.execute('SHOW in_hot_standby')
            item['in_recovery'] = str(cur.fetchone()[0]).lower() == 'on'
        else:
            cur.execute('SELECT pg_is_in_recovery()')
            item['in_recovery'] = bool(cur.fetchone()[0])
    except Exception as e:  # reachable, but its role cannot be told
        item['error'] = redact(str(e).strip(), secrets)
    finally:
        conn.close()
    return item


def _connect(params, connect_timeout):
    """psycopg2.connect(**params); a host name that does not resolve is tried again until connect_timeout seconds have
    passed, as a host that does not answer is waited for that long: a name lookup that fails for a moment (a DNS
    server reloading, as podman's does when a container stops or starts) is not taken for a peer that is gone."""
    deadline = time.time() + connect_timeout
    while True:
        try:
            return psycopg2.connect(**params)
        except Exception as e:
            if UNRESOLVED not in str(e) or time.time() + RESOLVE_RETRY_DELAY > deadline:
                raise
        time.sleep(RESOLVE_RETRY_DELAY)


def check_peers(module, peers, connect_timeout, force, password=None):
    """Probe every peer, all at once (one thread each, so that peers that do not answer cost one connect_timeout, not
    one each); fail naming the first reachable primary unless force. Returns the probe results, in the peers' order."""
    peers = list(peers or [])
    if peers:
        with ThreadPoolExecutor(max_workers=len(peers)) as pool:
            results = list(pool.map(lambda arg: probe(arg[1], arg[0], connect_timeout, password), enumerate(peers)))
    else:
        results = []
    for item in results:
        if item.pop('invalid', False):
            module.fail_json(msg='%s in peers is not a valid libpq connection string' % item['peer'])
    if force:
        return results
    primaries = [item['peer'] for item in results if item['reachable'] and item['in_recovery'] is False]
    if primaries:
        module.fail_json(msg='refusing to promote: peer %s is reachable and is a primary (not in recovery); promoting would '
                         'create a split brain. Stop or demote it first, or set force=true' % ', '.join(primaries),
                         peers=results)
    unknown = [item for item in results if item['reachable'] and item['in_recovery'] is None]
    if unknown:
        module.fail_json(msg='refusing to promote: peer %s is reachable but whether it is a primary cannot be told (%s); '
                         'set force=true to promote anyway' % (unknown[0]['peer'], unknown[0]['error']), peers=results)
    return results
