#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: replication_user
short_description: Ensure a least-privilege PostgreSQL replication role exists or is absent
version_added: 0.1.0
description:
  - Ensures a role with C(LOGIN REPLICATION) and never C(SUPERUSER) exists, or is absent.
  - The password is compared with the verifier stored in C(pg_authid.rolpassword) (SCRAM-SHA-256 with the
    same salt and iteration count, or md5), so the role is only altered when the password really differs.
  - The verifier is computed on the managed host and sent instead of the plaintext, so the password never
    appears in SQL text, server logs or the returned O(ignore:queries).
  - An existing superuser role is never used or altered; the module fails instead (least privilege).
author:
  - pgstream.replication developers (@pgstream)
options:
  name:
    description:
      - Name of the role.
    type: str
    required: true
  password:
    description:
      - Password of the role. When omitted, the password of an existing role is left as it is and a new
        role is created without a password.
    type: str
  password_encryption:
    description:
      - Verifier to store. A stored verifier of the other kind is replaced even if the password matches.
    type: str
    default: scram-sha-256
    choices: [scram-sha-256, md5]
  update_password:
    description:
      - V(always) sets the password when it does not verify against the stored one.
      - V(on_create) only sets it when the role is created.
    type: str
    default: always
    choices: [always, on_create]
  conn_limit:
    description:
      - C(CONNECTION LIMIT) of the role; V(-1) means no limit.
    type: int
    default: -1
  state:
    description:
      - V(present) creates or fixes the role, V(absent) drops it.
    type: str
    default: present
    choices: [present, absent]
  force:
    description:
      - With O(state=absent), drop the role even when it has active connections (for example a standby
        streaming with it). The role is first made C(NOLOGIN) so it cannot reconnect, then its
        backends are ended with C(pg_terminate_backend), then it is dropped.
      - Without it the module fails when the role has active connections.
    type: bool
    default: false
  rewind_grants:
    description:
      - With V(true), ensure the role may run C(pg_rewind --source-server) against this server without being a
        superuser, by granting C(EXECUTE) on the four functions C(pg_rewind) calls on its source (the list in
        the C(pg_rewind) documentation, section Notes) -
        C(pg_catalog.pg_ls_dir(text, boolean, boolean)), C(pg_catalog.pg_stat_file(text, boolean)),
        C(pg_catalog.pg_read_binary_file(text)) and C(pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)).
      - Each privilege is checked first with C(has_function_privilege) and granted only when missing, so a second run
        is unchanged. RV(rewind_grants_added) lists what this run granted.
      - With V(false) (the default) nothing is granted and B(nothing is revoked) - grants made by an earlier run stay.
        To take them away, run C(REVOKE EXECUTE ON FUNCTION ... FROM <role>) for the four functions by hand.
      - Needs O(state=present) and PostgreSQL 11 or later (before 11 these functions check for superuser themselves,
        so no grant lets a non-superuser run C(pg_rewind)).
      - Function privileges belong to one database (each has its own C(pg_catalog)); they are granted in the database
        the module connects to (O(login_db), default V(postgres)), which must be the one C(pg_rewind --source-server)
        connects to (C(dbname) in its connection string).
    type: bool
    default: false
extends_documentation_fragment:
  - pgstream.replication.connection
  - pgstream.replication.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - Reading C(pg_authid) needs a superuser O(login_user). Otherwise passwords cannot be compared; with
    O(update_password=always) the password is then set on every run and a warning says so.
  - The role is created with C(NOSUPERUSER) and no other privilege than C(LOGIN REPLICATION).
  - O(rewind_grants) keeps the role a non-superuser. The granted functions let it read files of the data directory
    (C(pg_read_binary_file) can read any file the server's operating-system user can read), but a C(REPLICATION) role
    can already copy the whole data directory with C(pg_basebackup) over a replication connection, so its reach over
    the cluster's data does not grow. It still cannot write anything, run other functions or change settings.
    C(pg_rewind) also needs a C(pg_hba.conf) line for a normal (not C(replication)) connection of the role to that
    database, for example C(host postgres replicator 10.0.0.0/24 scram-sha-256).
  - A role holding these grants cannot be dropped with O(state=absent) until they are revoked (or C(DROP OWNED BY)
    is run in that database); the module then fails and says so.
'''

EXAMPLES = r'''
- name: Ensure the replication role exists
  pgstream.replication.replication_user:
    name: replicator
    password: "{{ vault_replicator_password }}"
  become: true
  become_user: postgres

- name: Keep an md5 verifier and a connection limit, never rotate the password
  pgstream.replication.replication_user:
    name: replicator
    password: "{{ vault_replicator_password }}"
    password_encryption: md5
    update_password: on_create
    conn_limit: 5
    login_host: db1.example.com
    login_password: "{{ vault_postgres_password }}"

- name: Let the replication role run pg_rewind against this server (old primaries rejoin without a superuser)
  pgstream.replication.replication_user:
    name: replicator
    password: "{{ vault_replicator_password }}"
    rewind_grants: true
  become: true
  become_user: postgres

- name: Drop the role, ending the standbys that still stream with it
  pgstream.replication.replication_user:
    name: replicator
    state: absent
    force: true
  become: true
  become_user: postgres
'''

RETURN = r'''
queries:
  description: The statements executed (or, in check mode, that would be executed); passwords shown as C(********).
  returned: always
  type: list
  elements: str
  sample:
    - "CREATE ROLE \"replicator\" WITH LOGIN REPLICATION NOSUPERUSER CONNECTION LIMIT -1 PASSWORD '********'"
rewind_grants_added:
  description:
    - Signatures of the functions on which C(EXECUTE) was granted to the role in this run (in check mode, would be
      granted) because of O(rewind_grants); empty when nothing was missing or O(rewind_grants=false).
  returned: always
  type: list
  elements: str
  sample:
    - pg_catalog.pg_ls_dir(text, boolean, boolean)
    - pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)
role:
  description: Attributes of the role after the run (predicted in check mode).
  returned: always
  type: dict
  contains:
    name:
      description: Role name.
      type: str
      returned: always
      sample: replicator
    exists:
      description: Whether the role exists.
      type: bool
      returned: always
      sample: true
    login:
      description: C(rolcanlogin).
      type: bool
      returned: always
      sample: true
    replication:
      description: C(rolreplication).
      type: bool
      returned: always
      sample: true
    superuser:
      description: C(rolsuper); always false for a role managed by this module.
      type: bool
      returned: always
      sample: false
    conn_limit:
      description: C(rolconnlimit).
      type: int
      returned: always
      sample: -1
    password_encryption:
      description: Kind of the stored verifier (V(scram-sha-256), V(md5)), null without password or when unreadable.
      type: str
      returned: always
      sample: scram-sha-256
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pgstream.replication.plugins.module_utils.connection import (
    DatabaseError, connect, connection_argument_spec)
from ansible_collections.pgstream.replication.plugins.module_utils.queries import QueryLog
from ansible_collections.pgstream.replication.plugins.module_utils import scram

try:
    from psycopg2 import sql
except ImportError:  # connect() reports the missing library
    sql = None

INSUFFICIENT_PRIVILEGE = '42501'
DEPENDENT_OBJECTS = '2BP01'

ROLE_SQL = ('SELECT rolname, rolsuper, rolcanlogin, rolreplication, rolconnlimit, rolpassword '
            'FROM pg_authid WHERE rolname = %s')
ROLE_SQL_NO_PASSWORD = ('SELECT rolname, rolsuper, rolcanlogin, rolreplication, rolconnlimit, '
                        'NULL::text AS rolpassword FROM pg_roles WHERE rolname = %s')
CONNECTIONS_SQL = ('SELECT pid, application_name, client_addr::text AS client_addr, backend_type '
                   'FROM pg_stat_activity WHERE usename = %s AND pid <> pg_backend_pid() '
                   'UNION SELECT pid, application_name, client_addr::text, \'walsender\' '
                   'FROM pg_stat_replication WHERE usename = %s ORDER BY 1')

# The functions pg_rewind calls on its source server (PostgreSQL docs, pg_rewind, Notes; the same four from 11 to 18).
REWIND_FUNCTIONS = (
    'pg_catalog.pg_ls_dir(text, boolean, boolean)',
    'pg_catalog.pg_stat_file(text, boolean)',
    'pg_catalog.pg_read_binary_file(text)',
    'pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)',
)
REWIND_MIN_VERSION = 110000
VERSION_SQL = "SELECT current_setting('server_version_num')::int AS server_version_num"
# One row per signature: whether it exists (to_regprocedure) and whether the role may already execute it
# (has_function_privilege counts grants to PUBLIC and to roles it inherits from).
REWIND_PRIVILEGES_SQL = ('SELECT f.signature, to_regprocedure(f.signature) IS NOT NULL AS present, '
                         'CASE WHEN to_regprocedure(f.signature) IS NULL THEN false '
                         "ELSE has_function_privilege(%s, to_regprocedure(f.signature), 'EXECUTE') END AS granted "
                         'FROM unnest(%s::text[]) WITH ORDINALITY AS f(signature, n) ORDER BY f.n')


def argument_spec():
    spec = connection_argument_spec()
    spec.update(
        name=dict(type='str', required=True),
        password=dict(type='str', no_log=True),
        password_encryption=dict(type='str', default='scram-sha-256', choices=['scram-sha-256', 'md5'], no_log=False),
        update_password=dict(type='str', default='always', choices=['always', 'on_create'], no_log=False),
        conn_limit=dict(type='int', default=-1),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        force=dict(type='bool', default=False),
        rewind_grants=dict(type='bool', default=False),
    )
    return spec


def validate(module):
    params = module.params
    if not params['name'] or not params['name'].strip():
        module.fail_json(msg='name must not be empty')
    if params['conn_limit'] < -1:
        module.fail_json(msg='conn_limit must be -1 (no limit) or a non-negative number, got %d' % params['conn_limit'])
    if params['password'] is not None and params['password'] == '':
        module.fail_json(msg='password must not be empty; omit it to leave the password of the role unchanged')
    if params['rewind_grants'] and params['state'] != 'present':
        module.fail_json(msg='rewind_grants=true needs state=present (the grants belong to an existing role)')


def read_role(ql, name):
    """(attributes dict, stored verifier or None, verifier readable?)"""
    readable = True
    try:
        row = ql.fetch_one(ROLE_SQL, (name,))
    except DatabaseError as e:
        if getattr(e, 'pgcode', None) != INSUFFICIENT_PRIVILEGE:
            raise
        readable = False
        row = ql.fetch_one(ROLE_SQL_NO_PASSWORD, (name,))
    if row is None:
        return dict(name=name, exists=False, login=False, replication=False, superuser=False,
                    conn_limit=None, password_encryption=None), None, readable
    stored = row['rolpassword']
    attrs = dict(name=name, exists=True, login=bool(row['rolcanlogin']), replication=bool(row['rolreplication']),
                 superuser=bool(row['rolsuper']), conn_limit=int(row['rolconnlimit']),
                 password_encryption=scram.secret_method(stored) if readable else None)
    return attrs, stored, readable


def password_matches(password, stored, name, encryption):
    """True when the stored verifier is of the wanted kind and verifies password."""
    return scram.secret_method(stored) == encryption and scram.verify_password(password, stored, name)


def build_secret(password, name, encryption):
    if encryption == 'md5':
        return scram.md5_secret(password, name)
    return scram.scram_secret(password)


def ensure_present(module, ql, before, stored, readable):
    params = module.params
    name, password, encryption = params['name'], params['password'], params['password_encryption']
    if before['superuser']:
        module.fail_json(
            msg='role %s is a superuser; refusing to manage it as a replication role. A replication role only needs '
                'LOGIN REPLICATION (least privilege): use a dedicated role name, or run ALTER ROLE ... NOSUPERUSER '
                'yourself if this role really should lose superuser.' % name, queries=ql.queries)
    ident = sql.Identifier(name)
    after = dict(before, exists=True, login=True, replication=True, superuser=False, conn_limit=params['conn_limit'])
    set_password = False
    if not before['exists']:
        set_password = password is not None
        if password is None:
            module.warn('role %s is created without a password: it can only authenticate with trust, peer or certificates' % name)
    elif password is not None and params['update_password'] == 'always':
        if not readable:
            module.warn('cannot read pg_authid as %s: the password of %s cannot be compared and is set on every run'
                        % (params['login_user'], name))
            set_password = True
        else:
            set_password = not password_matches(password, stored, name, encryption)

    clauses, args = [], []
    if not before['exists']:
        clauses.append(sql.SQL('LOGIN REPLICATION NOSUPERUSER CONNECTION LIMIT %s'))
        args.append(params['conn_limit'])
    else:
        if not before['login']:
            clauses.append(sql.SQL('LOGIN'))
        if not before['replication']:
            clauses.append(sql.SQL('REPLICATION'))
        if before['conn_limit'] != params['conn_limit']:
            clauses.append(sql.SQL('CONNECTION LIMIT %s'))
            args.append(params['conn_limit'])
    if set_password:
        secret = build_secret(password, name, encryption)
        ql.add_secrets([secret])
        clauses.append(sql.SQL('PASSWORD %s'))
        args.append(secret)
        after['password_encryption'] = encryption
    if not clauses:
        return False, after, False
    verb = sql.SQL('ALTER ROLE') if before['exists'] else sql.SQL('CREATE ROLE')
    ql.execute(sql.SQL(' ').join([verb, ident, sql.SQL('WITH')] + clauses), args)
    return True, after, set_password


def describe_connections(rows):
    parts = []
    for row in rows:
        part = 'pid %s (%s' % (row['pid'], row.get('backend_type') or 'backend')
        if row.get('application_name'):
            part += ', application_name=%s' % row['application_name']
        if row.get('client_addr'):
            part += ', from %s' % row['client_addr']
        parts.append(part + ')')
    return ', '.join(parts)


def ensure_absent(module, ql, before):
    name = module.params['name']
    after = dict(name=name, exists=False, login=False, replication=False, superuser=False,
                 conn_limit=None, password_encryption=None)
    if not before['exists']:
        return False, after
    if before['superuser']:
        module.fail_json(msg='role %s is a superuser; refusing to drop it with a module that manages replication roles' % name,
                         queries=ql.queries)
    ident = sql.Identifier(name)
    rows, seen = [], set()
    for row in ql.fetch(CONNECTIONS_SQL, (name, name)):
        if row['pid'] not in seen:
            seen.add(row['pid'])
            rows.append(row)
    if rows and not module.params['force']:
        module.fail_json(msg='role %s has %d active connection(s): %s. Set force=true to terminate them and drop the role.'
                         % (name, len(rows), describe_connections(rows)),
                         connections=rows, queries=ql.queries)
    if rows:
        ql.execute(sql.SQL('ALTER ROLE {} WITH NOLOGIN').format(ident))
        for row in rows:
            ql.execute('SELECT pg_terminate_backend(%s)', (row['pid'],))
    try:
        ql.execute(sql.SQL('DROP ROLE {}').format(ident))
    except DatabaseError as e:
        if getattr(e, 'pgcode', None) == DEPENDENT_OBJECTS:
            module.fail_json(msg='cannot drop role %s: it owns objects or holds privileges (%s). Run REASSIGN OWNED BY / '
                                 'DROP OWNED BY in each database first.' % (name, ql.redact(str(e)).strip()),
                             queries=ql.queries)
        raise
    return True, after


def rewind_privileges(module, ql, name, role_exists):
    """[(signature, granted)] for REWIND_FUNCTIONS; fails on a server before 11 or when a function is missing."""
    version = ql.fetch_one(VERSION_SQL)['server_version_num']
    if int(version) < REWIND_MIN_VERSION:
        module.fail_json(msg='rewind_grants needs PostgreSQL 11 or later (the server runs %s): before 11 the file '
                             'functions pg_rewind uses check for superuser themselves, so no grant lets a '
                             'non-superuser role run pg_rewind' % version, queries=ql.queries)
    if not role_exists:  # check mode, role still to be created: nothing granted yet
        return [(sig, False) for sig in REWIND_FUNCTIONS]
    rows = ql.fetch(REWIND_PRIVILEGES_SQL, (name, list(REWIND_FUNCTIONS)))
    missing = [row['signature'] for row in rows if not row['present']]
    if missing:
        module.fail_json(msg='function(s) %s not found on the server; cannot grant what pg_rewind needs'
                         % ', '.join(missing), queries=ql.queries)
    return [(row['signature'], bool(row['granted'])) for row in rows]


def ensure_rewind_grants(module, ql, name, role_exists):
    """Grant EXECUTE on the pg_rewind functions the role lacks. Returns (signatures granted, signatures held before)."""
    privileges = rewind_privileges(module, ql, name, role_exists)
    added = [sig for sig, granted in privileges if not granted]
    for sig in added:
        # sig is one of the constant REWIND_FUNCTIONS, never user input; the role name is quoted as an identifier
        ql.execute(sql.SQL('GRANT EXECUTE ON FUNCTION {} TO {}').format(sql.SQL(sig), sql.Identifier(name)))
    return added, [sig for sig, granted in privileges if granted]


def run(module, ql):
    params = module.params
    before, stored, readable = read_role(ql, params['name'])
    password_changed = False
    if params['state'] == 'present':
        changed, after, password_changed = ensure_present(module, ql, before, stored, readable)
    else:
        changed, after = ensure_absent(module, ql, before)
    rewind_added, rewind_held = [], []
    if params['rewind_grants']:
        role_exists = before['exists'] or not module.check_mode
        rewind_added, rewind_held = ensure_rewind_grants(module, ql, params['name'], role_exists)
        changed = changed or bool(rewind_added)
    if changed and not module.check_mode and after['exists']:
        after = dict(read_role(ql, params['name'])[0])
    result = dict(changed=changed, queries=ql.queries, role=after, rewind_grants_added=rewind_added)
    if module._diff:
        keys = ('exists', 'login', 'replication', 'superuser', 'conn_limit')
        result['diff'] = dict(
            before=dict(dict((k, before[k]) for k in keys), password_changed=False),
            after=dict(dict((k, after[k]) for k in keys), password_changed=password_changed),
        )
        if params['rewind_grants']:
            result['diff']['before']['rewind_grants'] = list(rewind_held)
            result['diff']['after']['rewind_grants'] = [sig for sig in REWIND_FUNCTIONS
                                                        if sig in rewind_held or sig in rewind_added]
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    validate(module)
    conn = connect(module, autocommit=True)
    ql = QueryLog(conn.cursor(), secrets=[module.params['password'], module.params['login_password']],
                  check_mode=module.check_mode)
    try:
        result = run(module, ql)
    except DatabaseError as e:
        module.fail_json(msg='query failed: %s' % ql.redact(str(e)).strip(), queries=ql.queries)
    finally:
        conn.close()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
