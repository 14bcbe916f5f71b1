# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the modules and a psycopg2 connect() that fails cleanly."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import traceback

from ansible.module_utils.basic import missing_required_lib

PSYCOPG2_IMPORT_ERROR = None
try:
    import psycopg2
    HAS_PSYCOPG2 = True
except ImportError:  # pragma: no cover - depends on the managed host
    psycopg2 = None
    HAS_PSYCOPG2 = False
    PSYCOPG2_IMPORT_ERROR = traceback.format_exc()

# The exception class to catch around queries (psycopg2.Error when available).
DatabaseError = psycopg2.Error if HAS_PSYCOPG2 else Exception

SSL_MODES = ['allow', 'disable', 'prefer', 'require', 'verify-ca', 'verify-full']
MASK = '********'


# What a server says when it refuses these credentials or this client (so it runs and answered): trying again does
# not help. Matched in lower case against libpq's message (the server's FATAL, or libpq's own for a missing password
# or SSL).
REFUSALS = ('authentication failed', 'no password supplied', 'no pg_hba.conf entry', 'pg_hba.conf rejects',
            'does not exist', 'is not permitted to log in', 'permission denied', 'must be superuser or replication role',
            'replication attribute', 'but ssl was required')


def server_refused(error):
    """Whether a failed connection's message is a refusal by a server that answered (see REFUSALS)."""
    text = (error or '').lower()
    return any(r in text for r in REFUSALS)


# libpq reports each connection attempt on a line of its own that starts "connection to server at/on ...". With
# sslmode=prefer (and gssencmode=prefer) the server refuses the same client twice, and its message ends in the
# encryption tried: ", SSL encryption", then ", no encryption".
_ATTEMPT_RE = re.compile(r'\n(?=connection to server )')
_ENCRYPTION_RE = re.compile(r',\s*((?:SSL|GSS|no) encryption)$')


def libpq_message(error):
    """A libpq error message on one line, each attempt once: an attempt repeated word for word, or differing only in
    the encryption its message ends with, is written once, naming the encryptions tried ('..., SSL encryption or no
    encryption')."""
    kept = []  # [text without the encryption, [encryptions]] in libpq's order
    for attempt in _ATTEMPT_RE.split(str(error).strip()):
        text = ' '.join(attempt.split())
        match = _ENCRYPTION_RE.search(text)
        base = text[:match.start()] if match else text
        for item in kept:
            if item[0] == base:  # the same attempt again (sslmode=prefer), maybe with another encryption
                if match and match.group(1) not in item[1]:
                    item[1].append(match.group(1))
                break
        else:
            kept.append([base, [match.group(1)] if match else []])
    return ' '.join('%s, %s' % (base, ' or '.join(tried)) if tried else base for base, tried in kept)


def connection_argument_spec():
    """The connection options of every module (documented by the pgstream.replication.connection fragment)."""
    return dict(
        login_user=dict(type='str', default='postgres'),
        login_password=dict(type='str', no_log=True),
        login_host=dict(type='str', default=''),
        login_port=dict(type='int', default=5432),
        login_unix_socket=dict(type='str', default=''),
        login_db=dict(type='str', default='postgres'),
        connect_timeout=dict(type='int', default=10),
        ssl_mode=dict(type='str', default='prefer', choices=SSL_MODES),
    )


def params_to_conninfo(module):
    """Keyword arguments for psycopg2.connect() built from the module's connection options.

    A unix socket directory wins over login_host when login_host is empty or localhost
    (as in community.postgresql); an empty host means libpq's default socket.
    The password is only included when login_password is set.
    The session commits with synchronous_commit=local: what the modules write (roles, slots,
    CHECKPOINT) must never wait for synchronous standbys that may be down or not yet cloned.
    """
    params = module.params
    kw = dict(
        user=params['login_user'],
        dbname=params['login_db'],
        port=params['login_port'],
        connect_timeout=params['connect_timeout'],
        sslmode=params['ssl_mode'],
        application_name='pgstream.replication',
        options='-c synchronous_commit=local',
    )
    host = params['login_host'] or ''
    socket = params['login_unix_socket'] or ''
    if socket and host in ('', 'localhost'):
        host = socket
    if host:
        kw['host'] = host
    if params.get('login_password'):
        kw['password'] = params['login_password']
    return kw


def describe_target(module):
    """'user@host:port/db' for messages (never the password)."""
    kw = params_to_conninfo(module)
    return '%s@%s:%s/%s' % (kw['user'], kw.get('host') or '(default socket)', kw['port'], kw['dbname'])


def _clean_error(module, error):
    text = libpq_message(error)
    password = module.params.get('login_password')
    if password:
        text = text.replace(password, MASK)
    return text


def try_connect(module, autocommit=True):
    """(connection, None) on success, (None, message) when the server cannot be reached.

    Fails the module when psycopg2 is missing. The message never contains the password.
    """
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)
    try:
        conn = psycopg2.connect(**params_to_conninfo(module))
        conn.autocommit = autocommit
    except Exception as e:  # psycopg2.Error and libpq option errors alike
        return None, 'unable to connect to PostgreSQL as %s: %s' % (describe_target(module), _clean_error(module, e))
    return conn, None


def connect(module, autocommit=True):
    """A psycopg2 connection, or fail_json naming host/port/user (never the password)."""
    conn, error = try_connect(module, autocommit=autocommit)
    if conn is None:
        module.fail_json(msg=error)
    return conn


# libpq conninfo: key = value; value is bare or single-quoted, backslash escapes (\\ \' \<space>) in both.
_KV_RE = re.compile(r"""(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>'(?:[^'\\]|\\.)*'|(?:\\.|[^\s'\\])*)""")
_URI_RE = re.compile(r'^(?P<scheme>postgres(?:ql)?://)(?P<user>[^:@/]*):(?P<password>[^@/]*)@')
_URI_QUERY_RE = re.compile(r'([?&]password=)[^&]*', re.IGNORECASE)


def mask_conninfo(conninfo):
    """Replace the password of a libpq conninfo string (key=value or URI form) by ********."""
    if not conninfo:
        return conninfo
    if re.match(r'^postgres(?:ql)?://', conninfo):
        masked = _URI_RE.sub(lambda m: '%s%s:%s@' % (m.group('scheme'), m.group('user'), MASK), conninfo)
        return _URI_QUERY_RE.sub(lambda m: m.group(1) + MASK, masked)

    def repl(match):
        if match.group('key').lower() == 'password':
            return '%s=%s' % (match.group('key'), MASK)
        return match.group(0)
    return _KV_RE.sub(repl, conninfo)
