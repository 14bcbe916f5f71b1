# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Split-brain guard: is any other node of the cluster a reachable primary?"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.pgstream.replication.plugins.module_utils.commands import redact
from ansible_collections.pgstream.replication.plugins.module_utils.connection import libpq_message, server_refused

try:
    import psycopg2
    import psycopg2.extensions
except ImportError:  # pragma: no cover - depends on the managed host
    psycopg2 = None


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
    conn = None
    try:
        conn = psycopg2.connect(**params)
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


def check_peers(module, peers, connect_timeout, force, password=None):
    """Probe every peer; fail naming the first reachable primary unless force. Returns the probe results."""
    results = [probe(conninfo, i, connect_timeout, password) for i, conninfo in enumerate(peers or [])]
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
