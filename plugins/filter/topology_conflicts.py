# -*- coding: utf-8 -*-
# Copyright: pgstream.replication developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare the inventory's topology with what the running servers report."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: topology_conflicts
short_description: Where the running servers disagree with the inventory's replication topology
version_added: 0.1.0
author: pgstream.replication developers (@pgstream)
description:
  - Compares the topology computed by P(pgstream.replication.cluster_topology#filter) with what each
    member's server reports (the result of M(pgstream.replication.replication_info)), and returns one
    message per disagreement. An empty list means the inventory matches the running clusters.
  - A member with no data directory, or whose server does not answer and whose control file does not tell
    its role, is not compared (it is new, or down).
  - Disagreements found are a node that the inventory calls a standby running as a primary, the inventory's
    primary running as a standby, and a standby streaming from another node than its inventory upstream.
options:
  _input:
    description: The result of P(pgstream.replication.cluster_topology#filter), keyed by cluster name.
    type: dict
    required: true
  live:
    description:
      - Per inventory hostname, the registered result of M(pgstream.replication.replication_info), or
        null / an empty dict when the host has no cluster yet.
    type: dict
    required: true
  addresses:
    description:
      - Per inventory hostname, the addresses other nodes may know it by (compared with the
        C(sender_host) a standby's WAL receiver reports). The topology's C(host) value and the hostname
        are always included.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Refuse to run against a cluster that changed under the inventory
  ansible.builtin.assert:
    that: __conflicts | length == 0
    fail_msg: "{{ __conflicts | join('; ') }}"
  vars:
    __conflicts: "{{ pgstream_topology | pgstream.replication.topology_conflicts(live_by_host) }}"
"""

RETURN = r"""
_value:
  description: One message per disagreement, naming the cluster and the hosts; empty when none.
  type: list
  elements: str
"""


def _live_role(info):
    if not info:
        return None
    if info.get('reachable') is False and not info.get('role'):
        return None
    return info.get('role')


def _sender(info):
    receiver = (info or {}).get('wal_receiver') or {}
    return receiver.get('sender_host')


def topology_conflicts(topology, live, addresses=None):
    """Return the list of disagreements between ``topology`` and the ``live`` server facts."""
    addresses = addresses or {}
    problems = []
    for cluster in sorted(topology):
        topo = topology[cluster]
        primary = topo['primary']
        label = "cluster '%s'" % cluster
        live_primaries = [h for h in topo['members'] if _live_role(live.get(h)) == 'primary']
        for host in live_primaries:
            if host != primary:
                problems.append(
                    "%s: the inventory names %s as primary, but %s is running as a primary (%s is %s). "
                    "Update the inventory (pgstream_node_role: primary on %s, standby on the others) "
                    "instead of letting this run re-clone or demote anything."
                    % (label, primary, host, primary, _live_role(live.get(primary)) or 'not running', host))
        if _live_role(live.get(primary)) == 'standby':
            problems.append("%s: the inventory names %s as primary, but it is running as a standby."
                            % (label, primary))
        for host in topo['standbys']:
            sender = _sender(live.get(host))
            if not sender or _live_role(live.get(host)) != 'standby':
                continue
            upstream = topo['upstream'][host]
            known = {upstream, topo['host'].get(upstream)}
            known.update(addresses.get(upstream) or [])
            if sender not in known:
                problems.append("%s: %s streams from %s, but the inventory's upstream for it is %s (%s)."
                                % (label, host, sender, upstream, topo['host'].get(upstream)))
    return problems


class FilterModule(object):
    """pgstream.replication topology filters."""

    def filters(self):
        return {'topology_conflicts': topology_conflicts}
