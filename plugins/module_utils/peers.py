# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Split-brain guard: is any other node of the cluster a reachable primary?"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
import queue
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.pgstream.replication.plugins.module_utils.commands import redact
from ansible_collections.pgstream.replication.plugins.module_utils.connection import libpq_message, server_refused

try:
    import psycopg2
    import psycopg2.extensions
except ImportError:  # pragma: no cover - depends on the managed host
    psycopg2 = None


# The pause after a failed name lookup of a peer before the next, the time after which another is started beside one
# that has not finished, and getaddrinfo()'s answers that say the name does not exist (any other failure says nothing
# about the peer: the name service failed or did not answer).
RESOLVE_RETRY_DELAY = 0.5
RESOLVE_HEDGE_DELAY = 1.0
# An answer "the name does not exist" slower than RESOLVE_TRUSTED came after a name server did not answer (lookup());
# without a trusted answer, lookups go on RESOLVE_PATIENCE seconds past the peer's connect timeout (lookups of a running
# container's name were seen taking 5-20 s while containers stopped and started; docs/operations.md).
RESOLVE_TRUSTED = 2.0
RESOLVE_PATIENCE = 15
NO_SUCH_NAME = tuple(getattr(socket, name) for name in ('EAI_NONAME', 'EAI_NODATA') if hasattr(socket, name))
NAME_UNKNOWN = 'Name or service not known'


def peer_name(params, index):
    """'host:port' of a parsed peer conninfo (never its password); '#n' when there is no host."""
    host = params.get('host') or params.get('hostaddr')
    if not host:
        return 'peer #%d (local socket):%s' % (index + 1, params.get('port') or 5432)
    return '%s:%s' % (host, params.get('port') or 5432)


def probe(conninfo, index, connect_timeout, password=None):
    """{'peer': 'host:port', 'reachable': bool, 'in_recovery': bool or None, 'error': str or None}.

    ``password`` is used when the string has none. A server that answers and refuses the connection (authentication,
    pg_hba.conf, the role: server_refused) is reachable, and whether it is a primary cannot be told.

    The host name is looked up here, not by libpq, so that the lookup is bounded by connect_timeout (libpq's
    connect_timeout does not cover it), and so that an answer that does not count (lookup()) is not taken for a peer
    that is gone while the name service may still answer."""
    try:
        params = psycopg2.extensions.parse_dsn(conninfo)
    except Exception:  # psycopg2.ProgrammingError for a malformed string
        return dict(peer='peer #%d' % (index + 1), reachable=False, in_recovery=None,
                    error='invalid connection string', invalid=True)
    if password and not params.get('password'):
        params['password'] = password
    secrets = [params.get('password')]
    own_timeout = 'connect_timeout' in params
    params.setdefault('connect_timeout', str(connect_timeout))
    params.setdefault('application_name', 'pgstream.replication')
    item = dict(peer=peer_name(params, index), reachable=False, in_recovery=None, error=None)
    physical = str(params.get('replication', '')).lower() in ('true', 'on', 'yes', '1')
    deadline = time.time() + connect_timeout
    host = params.get('host') or ''
    if host and not params.get('hostaddr') and ',' not in host and not host.startswith('/'):
        addresses, error = lookup(host, params.get('port') or '5432', deadline, grace=RESOLVE_PATIENCE)
        if addresses is None:
            # As a host that does not answer: a name that does not exist, or a name service that gave no answer that
            # counts (lookup()) within the time.
            item['error'] = error or ('the name lookup of "%s" had no answer within %s s'
                                      % (host, connect_timeout + RESOLVE_PATIENCE))
            return item
        # libpq connects to these addresses and still uses the name for the password file and TLS.
        params.update(hostaddr=','.join(addresses), host=','.join([host] * len(addresses)))
        if not own_timeout:
            params['connect_timeout'] = str(max(2, int(math.ceil(deadline - time.time()))))
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


def lookup(host, port, deadline, grace=0):
    """(addresses, None), or (None, message) when the name could not be looked up: message ends with NAME_UNKNOWN (as
    libpq words it, so that the peer reads as one that did not answer) when a trusted answer said that the name does not
    exist, and is None when no lookup answered at all.

    Each lookup runs in a daemon thread, not waited for past the end: a name service that drops a query (podman's DNS
    does while it reloads, as it does when a container stops or starts or a network is connected) holds getaddrinfo()
    for the resolver's timeout, 5 s per try. So while a lookup is unanswered another is started every
    RESOLVE_HEDGE_DELAY, and one that fails is followed by another RESOLVE_RETRY_DELAY later; the first that finds
    addresses wins. "Does not exist" is trusted only when it came within RESOLVE_TRUSTED: a slower one came from the
    resolver's next name server after the first did not answer, and that one may not know the cluster's names (in a
    podman container the host's resolver follows aardvark-dns, and says a running container's name does not exist).
    A trusted "does not exist" is checked again until the deadline (a name can be unknown for a moment while the DNS
    server reloads); without one, lookups go on for grace seconds more."""
    answers = queue.Queue()
    unknown = error = None
    pending, started = 0, None
    while True:
        now = time.time()
        end = deadline if unknown else deadline + grace
        if now >= end:
            return None, unknown or error
        if started is None or (pending and now >= started + RESOLVE_HEDGE_DELAY):
            worker = threading.Thread(target=_getaddrinfo, args=(host, port, answers))
            worker.daemon = True
            worker.start()
            pending, started = pending + 1, now
        try:
            found, began = answers.get(timeout=max(0.0, min(end, started + RESOLVE_HEDGE_DELAY) - now))
        except queue.Empty:
            continue
        pending -= 1
        if not isinstance(found, socket.gaierror):
            return found, None
        took = time.time() - began
        message = 'could not translate host name "%s" to address: %s' % (
            host, NAME_UNKNOWN if found.errno in NO_SUCH_NAME else found.strerror or found)
        if found.errno not in NO_SUCH_NAME:
            error = message
        elif took < RESOLVE_TRUSTED:
            unknown = message
        elif not unknown:
            error = '%s, after %.1f s (when a name server did not answer)' % (message, took)
        if not pending:
            if time.time() + RESOLVE_RETRY_DELAY >= (deadline if unknown else deadline + grace):
                return None, unknown or error
            time.sleep(RESOLVE_RETRY_DELAY)
            started = None


def _getaddrinfo(host, port, answers):
    """Put (the addresses of host, in getaddrinfo()'s order and each once, or its socket.gaierror; when it started) on
    answers."""
    began = time.time()
    try:
        found = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as e:
        answers.put((e, began))
        return
    addresses = []
    for _family, _type, _proto, _name, sockaddr in found:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    answers.put((addresses, began))


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
