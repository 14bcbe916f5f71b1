#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: upstream_check
short_description: Check that this host can open a replication connection to an upstream server
version_added: 0.1.0
description:
  - Opens a physical replication connection from the managed host to O(upstream_host), as the WAL receiver of a
    standby pointed at it would (C(replication=true), the same user, the same password file), runs
    C(IDENTIFY_SYSTEM) and closes it. Nothing is changed anywhere.
  - Used before a switchover or a rejoin repoints a node, so that a node that could not authenticate to its new
    upstream (no line for it in the password file, a wrong password, no C(pg_hba.conf) line for its address, no
    free walsender) is found before anything is touched, instead of after, as a standby that never streams.
  - A connection that fails is a result (RV(ok) false, RV(error)), not a module failure; the module fails only on
    bad input or without psycopg2.
  - RV(retryable) tells a refusal by the server (authentication, C(pg_hba.conf), a missing role or C(REPLICATION)
    attribute), which trying again does not cure, from a failure that may pass (a name that does not resolve yet, no
    answer, a server starting up or shutting down, no free connection), so that a caller can retry only the latter.
author:
  - pgstream.replication developers (@pgstream)
options:
  upstream_host:
    description:
      - Host name or address of the server to connect to, as it would be written into C(primary_conninfo).
    type: str
    required: true
  upstream_port:
    description:
      - Port of the upstream server.
    type: int
    default: 5432
  replication_user:
    description:
      - Role with the C(REPLICATION) attribute to connect as.
    type: str
    default: replicator
  replication_password:
    description:
      - Password of O(replication_user) for this connection only (passed to libpq, never on a command line or in a
        log). Give the one that the repointing step will store in the password file.
      - When omitted, libpq's password file applies, as for the WAL receiver - O(passfile_path), or C(~/.pgpass) of
        the user the module runs as (run it as the server's operating-system user, C(postgres)).
    type: str
  passfile_path:
    description:
      - Password file to read when O(replication_password) is omitted.
    type: path
  connect_timeout:
    description:
      - Seconds to wait for the connection (libpq C(connect_timeout)).
    type: int
    default: 5
extends_documentation_fragment:
  - pgstream.replication.attributes
attributes:
  check_mode:
    support: full
    details:
      - Read-only; runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - PostgreSQL only. openGauss nodes connect through C(replconninfoN) channels (see the opengauss role).
requirements:
  - psycopg2 on the managed host.
'''

EXAMPLES = r'''
- name: Check that pg3 can stream from pg2 before pointing it there
  pgstream.replication.upstream_check:
    upstream_host: pg2
    replication_user: replicator
    replication_password: "{{ repl_password | default(omit) }}"
  become: true
  become_user: postgres
  register: check

- name: Stop when it cannot
  ansible.builtin.fail:
    msg: "{{ inventory_hostname }} cannot connect to pg2 for replication: {{ check.error }}"
  when: not check.ok
'''

RETURN = r'''
ok:
  description: Whether the replication connection was opened and C(IDENTIFY_SYSTEM) answered.
  returned: always
  type: bool
  sample: true
error:
  description: Why the connection failed (libpq's message, without the password); null when RV(ok).
  returned: always
  type: str
  sample: 'connection to server at "pg2" (10.0.0.2), port 5432 failed: fe_sendauth: no password supplied'
target:
  description: The connection tried, as C(user@host:port).
  returned: always
  type: str
  sample: replicator@pg2:5432
password_source:
  description: V(parameter) when O(replication_password) was given, else V(passfile) (libpq's password file rules).
  returned: always
  type: str
  sample: passfile
system_identifier:
  description: The upstream's database system identifier (C(IDENTIFY_SYSTEM)); null when not RV(ok).
  returned: always
  type: str
  sample: '7715046103878955212'
retryable:
  description:
    - V(false) when the server refused these credentials or this client (authentication failed, no password supplied,
      no C(pg_hba.conf) entry, a role that does not exist or may not log in or replicate, SSL required); V(true) for
      any other failure (for example a host name that does not resolve, a timeout, a refused TCP connection, a server
      starting up or shutting down, too many connections). Null when RV(ok).
  returned: always
  type: bool
  sample: false
timeline:
  description: The upstream's current timeline; null when not RV(ok).
  returned: always
  type: int
  sample: 2
queries:
  description: The commands sent over the connection.
  returned: always
  type: list
  elements: str
  sample: [IDENTIFY_SYSTEM]
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.pgstream.replication.plugins.module_utils.commands import redact
from ansible_collections.pgstream.replication.plugins.module_utils.connection import (
    HAS_PSYCOPG2, PSYCOPG2_IMPORT_ERROR, libpq_message, psycopg2, server_refused)

if HAS_PSYCOPG2:
    import psycopg2.extras  # noqa: F401  (PhysicalReplicationConnection)


def retryable(error):
    """Whether a failed check may pass when tried again: not after a refusal by the server (server_refused)."""
    return not server_refused(error)


def argument_spec():
    return dict(
        upstream_host=dict(type='str', required=True),
        upstream_port=dict(type='int', default=5432),
        replication_user=dict(type='str', default='replicator'),
        replication_password=dict(type='str', no_log=True),
        passfile_path=dict(type='path', no_log=False),
        connect_timeout=dict(type='int', default=5),
    )


def validate(module):
    p = module.params
    if not p['upstream_host'].strip():
        module.fail_json(msg='upstream_host must not be empty')
    if not 1 <= p['upstream_port'] <= 65535:
        module.fail_json(msg='upstream_port must be between 1 and 65535, got %d' % p['upstream_port'])
    if not p['replication_user'].strip():
        module.fail_json(msg='replication_user must not be empty')
    if p['replication_password'] == '':
        module.fail_json(msg='replication_password must not be empty; omit it to use the password file')
    if p['connect_timeout'] < 1:
        module.fail_json(msg='connect_timeout must be at least 1 second, got %d' % p['connect_timeout'])


def connect_kwargs(params):
    """psycopg2.connect() keywords for the check (the password only when given)."""
    kw = dict(host=params['upstream_host'], port=params['upstream_port'], user=params['replication_user'],
              connect_timeout=params['connect_timeout'], application_name='pgstream.replication upstream_check')
    if params['replication_password']:
        kw['password'] = params['replication_password']
    elif params['passfile_path']:
        kw['passfile'] = params['passfile_path']
    return kw


def check(params, connect):
    """The result of one replication connection made with connect(**kwargs)."""
    result = dict(changed=False, ok=False, error=None, retryable=None, system_identifier=None, timeline=None, queries=[],
                  target='%s@%s:%s' % (params['replication_user'], params['upstream_host'], params['upstream_port']),
                  password_source='parameter' if params['replication_password'] else 'passfile')
    try:
        conn = connect(**connect_kwargs(params))
    except Exception as e:  # psycopg2.Error and libpq option errors alike
        error = redact(libpq_message(e), [params['replication_password']])
        result.update(error=error, retryable=retryable(error))
        return result
    try:
        cur = conn.cursor()
        result['queries'].append('IDENTIFY_SYSTEM')
        cur.execute('IDENTIFY_SYSTEM')
        row = cur.fetchone()
        result.update(ok=True, system_identifier=str(row[0]), timeline=int(row[1]))
    except Exception as e:
        error = redact('IDENTIFY_SYSTEM failed: %s' % libpq_message(e), [params['replication_password']])
        result.update(error=error, retryable=retryable(error))
    finally:
        conn.close()
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    validate(module)
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)

    def connect(**kw):
        return psycopg2.connect(connection_factory=psycopg2.extras.PhysicalReplicationConnection, **kw)
    module.exit_json(**check(module.params, connect))


if __name__ == '__main__':
    main()
