# -*- coding: utf-8 -*-
# Copyright: pgstream.replication contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: cluster_topology
short_description: Validate the pgstream inventory and compute each cluster's replication topology
version_added: 0.1.0
author:
  - pgstream.replication developers (@pgstream)
description:
  - Reads the C(pgstream_*) variables of the given hosts, groups the hosts into clusters (C(pgstream_cluster)),
    checks each cluster and returns its topology - primary, standbys in clone order, upstreams, replication slots,
    application names and C(synchronous_standby_names).
  - "Every problem found is reported in one error: missing or duplicate primary, unknown or missing role,
    an upstream outside the cluster or the host itself, upstream cycles, a primary with an upstream,
    unsupported or mixed PostgreSQL majors, bad synchronous replication settings, a cascading standby marked
    as synchronous candidate, duplicate application names."
  - "Host variables read: C(pgstream_cluster) (default V(main)), C(pgstream_node_role) (V(primary) or V(standby), required),
    C(pgstream_upstream) (standbys only, default the primary), C(pgstream_sync_candidate) (default V(false)),
    C(pgstream_sync_priority) (integer >= 1, lower is preferred, ties broken by hostname), C(pgstream_pg_major)
    (10 to 18, default V(15)), C(pgstream_application_name) (default the hostname with every character outside
    C([A-Za-z0-9_]) replaced by C(_)), C(pgstream_host) (default C(ansible_host), else the hostname)."
  - "Read from the primary only (cluster level): C(pgstream_sync_mode) (V(off), V(first) or V(any); default V(off);
    an unquoted YAML C(off) is accepted) and C(pgstream_sync_count) (integer >= 1, default V(1))."
  - See C(docs/inventory.md) in the collection for the full inventory contract.
positional: _input, hostvars
options:
  _input:
    description:
      - Inventory hostnames to include, usually C(ansible_play_hosts_all) or C(groups['all']).
      - Every member of a cluster must be in the list, or its standbys' upstreams are reported as missing.
    type: list
    elements: str
    required: true
  hostvars:
    description:
      - The C(hostvars) magic variable, or any mapping of hostname to that host's variables.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Compute the replication topology once, on the controller
  ansible.builtin.set_fact:
    pgstream_topology: "{{ ansible_play_hosts_all | pgstream.replication.cluster_topology(hostvars) }}"
  run_once: true

# With db1 (primary), db2 and db3 (standbys of db1, sync candidates), db4 (standby of db3),
# and pgstream_sync_mode=first, pgstream_sync_count=1 on db1, pgstream_topology['main'] is:
#   primary: db1
#   standbys: [db2, db3, db4]
#   members: [db1, db2, db3, db4]
#   upstream: {db1: null, db2: db1, db3: db1, db4: db3}
#   children: {db1: [db2, db3], db2: [], db3: [db4], db4: []}
#   depth: {db1: 0, db2: 1, db3: 1, db4: 2}
#   slot_name: {db1: pgstream_db1, db2: pgstream_db2, db3: pgstream_db3, db4: pgstream_db4}
#   slots_on: {db1: [pgstream_db2, pgstream_db3], db2: [], db3: [pgstream_db4], db4: []}
#   synchronous_standby_names: FIRST 1 (db2, db3)

- name: Configure this host's upstream connection
  ansible.builtin.debug:
    msg: >-
      primary_conninfo = 'host={{ topo.host[topo.upstream[inventory_hostname]] }}
      application_name={{ topo.application_name[inventory_hostname] }}'
      primary_slot_name = '{{ topo.slot_name[inventory_hostname] }}'
  vars:
    topo: "{{ pgstream_topology[pgstream_cluster | default('main')] }}"
  when: topo.upstream[inventory_hostname] is not none
'''

RETURN = r'''
_value:
  description:
    - One entry per cluster name. Every value is a plain string, integer, list or dictionary (JSON-serialisable).
  type: dict
  contains:
    primary:
      description: Hostname of the primary.
      type: str
    standbys:
      description: Hostnames of the standbys, in clone order.
      type: list
      elements: str
    members:
      description: The primary, then the standbys in clone order (breadth-first from the primary, ties by hostname).
      type: list
      elements: str
    upstream:
      description: Hostname each member streams from; V(null) for the primary.
      type: dict
    children:
      description: Direct downstream hostnames of each member, sorted.
      type: dict
    depth:
      description: Distance of each member from the primary (the primary is 0, its direct standbys 1, cascaded ones 2 or more).
      type: dict
    application_name:
      description: The C(application_name) each member uses when it streams.
      type: dict
    host:
      description: The address other members use to reach each member (C(pgstream_host), C(ansible_host) or the hostname).
      type: dict
    slot_name:
      description:
        - Physical replication slot of each member on its upstream - C(pgstream_) and the lowercased application name,
          every character outside C([a-z0-9_]) replaced by C(_), cut to 63 characters. The primary has one too, used
          when it becomes a standby (switchover, rejoin).
      type: dict
    slots_on:
      description: The sorted slot names that must exist on each member, one per direct child.
      type: dict
    synchronous_standby_names:
      description:
        - The primary's C(synchronous_standby_names) - an empty string when the sync mode is V(off), else
          C(FIRST n (a, b\)) or C(ANY n (a, b\)) with the candidates' application names ordered by priority, then hostname.
        - A name is double-quoted only when PostgreSQL would not read it unquoted as the same name.
      type: str
    sync_candidates:
      description: Hostnames of the synchronous candidates (direct standbys of the primary), by priority then hostname.
      type: list
      elements: str
    sync_mode:
      description: The primary's C(pgstream_sync_mode) - V(off), V(first) or V(any).
      type: str
    sync_count:
      description: The primary's C(pgstream_sync_count).
      type: int
    pg_major:
      description: The PostgreSQL major version of the cluster.
      type: int
'''

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.parsing.convert_bool import boolean

DEFAULT_CLUSTER = 'main'
DEFAULT_PG_MAJOR = 15
SUPPORTED_PG_MAJORS = range(10, 19)
ROLES = ('primary', 'standby')
SYNC_MODES = ('off', 'first', 'any')
SLOT_PREFIX = 'pgstream_'
MAX_NAME_LEN = 63  # NAMEDATALEN - 1
# Words the synchronous_standby_names parser reads as keywords, whatever their case.
SYNC_KEYWORDS = ('any', 'first')


class TopologyError(AnsibleFilterError):
    """All the problems found in the inventory; ``problems`` is the list of messages."""

    def __init__(self, problems):
        self.problems = list(problems)
        lines = ['pgstream.replication.cluster_topology: %d inventory problem(s):' % len(self.problems)]
        lines.extend('  - ' + p for p in self.problems)
        super(TopologyError, self).__init__('\n'.join(lines))


def _var(hostvars, host, name, default=None):
    """hostvars[host][name], or default when it is missing or null (works with Ansible's HostVars)."""
    try:
        value = hostvars[host][name]
    except KeyError:
        return default
    return default if value is None else value


def _as_int(value):
    """An int from an int or a decimal string; None for anything else (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.match(r'^\s*[+-]?[0-9]+\s*$', value):
        return int(value)
    return None


def _as_bool(value):
    try:
        return boolean(value, strict=True)
    except TypeError:
        return None


def default_application_name(host):
    return re.sub(r'[^A-Za-z0-9_]', '_', host)


def slot_name_for(application_name):
    return (SLOT_PREFIX + re.sub(r'[^a-z0-9_]', '_', application_name.lower()))[:MAX_NAME_LEN]


def quote_standby_name(name):
    """A name for synchronous_standby_names, double-quoted only when it is not a plain lowercase identifier."""
    if re.match(r'^[a-z_][a-z0-9_]*$', name) and name not in SYNC_KEYWORDS:
        return name
    return '"%s"' % name.replace('"', '""')


def _read_node(host, hostvars, problems):
    """This host's pgstream settings; per-host problems are appended to problems. None if it has no usable cluster."""
    cluster = _var(hostvars, host, 'pgstream_cluster', DEFAULT_CLUSTER)
    if not isinstance(cluster, str) or not cluster:
        problems.append('host %s: pgstream_cluster must be a non-empty string, got %r' % (host, cluster))
        return None
    where = "cluster '%s', host %s" % (cluster, host)
    node = {'cluster': cluster}

    role = _var(hostvars, host, 'pgstream_node_role')
    if role is None:
        problems.append('%s: pgstream_node_role is not set (primary or standby)' % where)
    elif role not in ROLES:
        problems.append('%s: unknown pgstream_node_role %r (primary or standby)' % (where, role))
        role = None
    node['role'] = role

    upstream = _var(hostvars, host, 'pgstream_upstream')
    if upstream == '':
        upstream = None
    if upstream is not None and not isinstance(upstream, str):
        problems.append('%s: pgstream_upstream must be an inventory hostname, got %r' % (where, upstream))
        upstream = None
    node['upstream'] = upstream

    raw = _var(hostvars, host, 'pgstream_sync_candidate', False)
    node['sync_candidate'] = _as_bool(raw)
    if node['sync_candidate'] is None:
        problems.append('%s: pgstream_sync_candidate must be a boolean, got %r' % (where, raw))

    raw = _var(hostvars, host, 'pgstream_sync_priority')
    node['sync_priority'] = None if raw is None else _as_int(raw)
    if raw is not None and (node['sync_priority'] is None or node['sync_priority'] < 1):
        problems.append('%s: pgstream_sync_priority must be an integer >= 1, got %r' % (where, raw))

    raw = _var(hostvars, host, 'pgstream_pg_major', DEFAULT_PG_MAJOR)
    node['pg_major'] = _as_int(raw)
    if node['pg_major'] not in SUPPORTED_PG_MAJORS:
        problems.append('%s: unsupported PostgreSQL major version pgstream_pg_major=%r (supported: %d to %d)'
                        % (where, raw, SUPPORTED_PG_MAJORS[0], SUPPORTED_PG_MAJORS[-1]))
        node['pg_major'] = None

    name = _var(hostvars, host, 'pgstream_application_name', None)
    if name is None:
        name = default_application_name(host)
    elif not isinstance(name, str) or not name:
        problems.append('%s: pgstream_application_name must be a non-empty string, got %r' % (where, name))
        name = default_application_name(host)
    node['application_name'] = str(name)

    address = _var(hostvars, host, 'pgstream_host', None)
    if address is None:
        address = _var(hostvars, host, 'ansible_host', host)
    if not isinstance(address, str) or not address:
        problems.append('%s: pgstream_host / ansible_host must be a non-empty string, got %r' % (where, address))
    node['host'] = str(address)

    # Cluster-level settings: only the primary's values count (standbys may inherit them from group_vars).
    node['sync_mode'] = _var(hostvars, host, 'pgstream_sync_mode', 'off')
    node['sync_count'] = _var(hostvars, host, 'pgstream_sync_count', 1)
    return node


def _find_cycles(upstream):
    """Cycles in the standby -> upstream map, each as a list starting at its smallest hostname."""
    cycles, visited = [], set()
    for start in sorted(upstream):
        path, index = [], {}
        host = start
        while host in upstream and host not in visited and host not in index:
            index[host] = len(path)
            path.append(host)
            host = upstream[host]
        if host in index:
            cycle = path[index[host]:]
            first = cycle.index(min(cycle))
            cycles.append(cycle[first:] + cycle[:first])
        visited.update(path)
    return cycles


def _leads_to(upstream, host, target):
    """Whether following upstreams from host reaches target."""
    seen = set()
    while host in upstream and host not in seen:
        seen.add(host)
        host = upstream[host]
        if host == target:
            return True
    return False


def _sync_settings(label, primary, node, candidates, problems):
    """(mode, count) from the primary's variables, checked against the candidates."""
    mode, raw_count = node['sync_mode'], node['sync_count']
    if mode is False:  # an unquoted YAML "off"
        mode = 'off'
    if mode not in SYNC_MODES:
        problems.append('%s: primary %s has pgstream_sync_mode %r; expected off, first or any' % (label, primary, mode))
        mode = None
    count = _as_int(raw_count)
    if count is None or count < 1:
        problems.append('%s: primary %s has pgstream_sync_count %r; expected an integer >= 1'
                        % (label, primary, raw_count))
        count = None
    elif mode in ('first', 'any') and count > len(candidates):
        problems.append('%s: pgstream_sync_count is %d but there are only %d synchronous candidate(s) (%s); '
                        'mark direct standbys of %s with pgstream_sync_candidate: true'
                        % (label, count, len(candidates), ', '.join(candidates) or 'none', primary))
    return mode, count


def _check_cluster(name, hosts, nodes, problems):
    """Check one cluster and return its topology dict, or None when it has problems (appended to problems)."""
    label = "cluster '%s'" % name
    found = len(problems)
    members = set(hosts)
    primaries = [h for h in hosts if nodes[h]['role'] == 'primary']
    standbys = [h for h in hosts if nodes[h]['role'] == 'standby']
    primary = primaries[0] if len(primaries) == 1 else None
    if not primaries:
        problems.append('%s: no primary among %s; exactly one host needs pgstream_node_role: primary'
                        % (label, ', '.join(hosts)))
    elif len(primaries) > 1:
        problems.append('%s: %d primaries (%s); exactly one is allowed' % (label, len(primaries), ', '.join(primaries)))

    for host in primaries:
        if nodes[host]['upstream'] is not None:
            problems.append('%s: primary %s has pgstream_upstream %s; a primary has no upstream'
                            % (label, host, nodes[host]['upstream']))

    upstream = {}
    for host in standbys:
        up = nodes[host]['upstream'] or primary
        if up is None:
            continue
        if up == host:
            problems.append('%s: standby %s has itself as pgstream_upstream' % (label, host))
        elif up not in members:
            where = ("which is in cluster '%s'" % nodes[up]['cluster']) if up in nodes else 'which is not in the host list'
            problems.append('%s: standby %s has pgstream_upstream %s, %s; the upstream must be a member of %s'
                            % (label, host, up, where, label))
        elif nodes[up]['role'] is not None:
            upstream[host] = up

    children = dict((h, sorted(s for s in upstream if upstream[s] == h)) for h in hosts)
    depth, order = {}, []
    if primary is not None:
        depth[primary], queue = 0, [primary]
        while queue:
            host = queue.pop(0)
            order.append(host)
            for child in children[host]:
                depth[child] = depth[host] + 1
                queue.append(child)

    for cycle in _find_cycles(upstream):
        cut_off = [h for h in sorted(upstream) if h not in cycle and _leads_to(upstream, h, cycle[0])]
        problems.append('%s: pgstream_upstream cycle %s%s; these standbys never reach the primary'
                        % (label, ' -> '.join(cycle + cycle[:1]),
                           ' (%s stream from it)' % ', '.join(cut_off) if cut_off else ''))

    majors = {}
    for host in hosts:
        if nodes[host]['pg_major'] is not None:
            majors.setdefault(nodes[host]['pg_major'], []).append(host)
    if len(majors) > 1:
        problems.append('%s: mixed PostgreSQL majors (%s); all members need the same pgstream_pg_major' % (
            label, '; '.join('%d: %s' % (m, ', '.join(majors[m])) for m in sorted(majors))))

    candidates = []
    for host in standbys:
        if not nodes[host]['sync_candidate']:
            continue
        if host in upstream and upstream[host] != primary and nodes[upstream[host]]['role'] == 'standby':
            problems.append('%s: standby %s is a pgstream_sync_candidate but streams from standby %s (cascading); '
                            'only direct standbys of the primary can be synchronous' % (label, host, upstream[host]))
        elif upstream.get(host) == primary and primary is not None:
            candidates.append(host)
    candidates.sort(key=lambda h: (nodes[h]['sync_priority'] is None, nodes[h]['sync_priority'] or 0, h))
    mode, count = 'off', 1
    if primary is not None:
        mode, count = _sync_settings(label, primary, nodes[primary], candidates, problems)

    app_names = dict((h, nodes[h]['application_name']) for h in hosts)
    slot_names = dict((h, slot_name_for(app_names[h])) for h in hosts)
    for what, values in (('application_name (compared case-insensitively)', app_names),
                         ('replication slot name', slot_names)):
        users = {}
        for host in sorted(values):
            users.setdefault(values[host].lower(), []).append(host)
        clashes = [(value, hs) for value, hs in sorted(users.items()) if len(hs) > 1]
        for value, hs in clashes:
            problems.append("%s: hosts %s share the %s '%s'; set distinct pgstream_application_name values"
                            % (label, ', '.join(hs), what, value))
        if clashes:
            break  # slot names are derived from application names: one report is enough

    if len(problems) > found:
        return None
    return {
        'primary': primary,
        'standbys': order[1:],
        'members': order,
        'upstream': dict((h, upstream.get(h)) for h in order),
        'children': dict((h, children[h]) for h in order),
        'depth': depth,
        'application_name': dict((h, app_names[h]) for h in order),
        'host': dict((h, nodes[h]['host']) for h in order),
        'slot_name': dict((h, slot_names[h]) for h in order),
        'slots_on': dict((h, sorted(slot_names[c] for c in children[h])) for h in order),
        'synchronous_standby_names': '' if mode == 'off' else '%s %d (%s)' % (
            mode.upper(), count, ', '.join(quote_standby_name(app_names[h]) for h in candidates)),
        'sync_candidates': candidates,
        'sync_mode': mode,
        'sync_count': count,
        'pg_major': nodes[primary]['pg_major'],
    }


def build_topology(hosts, hostvars):
    """Validate the inventory and return {cluster: topology}; raises TopologyError listing every problem."""
    if not is_sequence(hosts):
        raise TopologyError(['the input must be a list of inventory hostnames, got %r' % (hosts,)])
    problems, nodes, clusters = [], {}, {}
    for host in hosts:
        host = str(host)
        if host in nodes:
            continue
        if host not in hostvars:
            problems.append('host %s: not in hostvars' % host)
            continue
        node = _read_node(host, hostvars, problems)
        if node is not None:
            nodes[host] = node
            clusters.setdefault(node['cluster'], []).append(host)
    result = {}
    for name in sorted(clusters):
        topology = _check_cluster(name, sorted(clusters[name]), nodes, problems)
        if topology is not None:
            result[name] = topology
    if problems:
        raise TopologyError(problems)
    return result


def cluster_topology(hosts, hostvars):
    return build_topology(hosts, hostvars)


class FilterModule(object):

    def filters(self):
        return {'cluster_topology': cluster_topology}
