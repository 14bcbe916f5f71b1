# -*- coding: utf-8 -*-
# Copyright: pgstream.replication developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a cluster's members are doing right now, from their replication_info results."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: cluster_state
short_description: The live state of one cluster's members (who is primary, who streams from whom)
version_added: 0.1.0
author: pgstream.replication developers (@pgstream)
description:
  - Summarises the registered results of M(pgstream.replication.replication_info) for the members of one
    cluster of P(pgstream.replication.cluster_topology#filter), ignoring what the inventory says about roles;
    the switchover, failover and rejoin playbooks act on the running cluster, which may differ from the
    inventory after an earlier switchover.
  - A member's C(state) is V(primary) (answering, not in recovery), V(standby) (answering, in recovery),
    V(stopped) (the host answers, the server does not), V(unreachable) (Ansible could not reach the host),
    V(fenced) (not contacted - failover.yml was told with C(-e fenced) that it is powered off or fenced, and its
    read was skipped; the result has C(pgstream_fenced) true) or V(unknown) (no result, for example a skipped task).
    A stopped member whose data directory is missing or empty has C(data_dir_error) set (the module's reason) and
    is shown as C(stopped (no data directory)).
  - C(streaming_from) is the member whose address the WAL receiver reports as C(sender_host) while
    C(streaming); C(configured_upstream) is the member named by C(host=) in C(primary_conninfo).
  - C(lost_slots) lists the replication slots that a member's server invalidated (C(wal_status) V(lost); they held
    back more WAL than C(max_slot_wal_keep_size) allows). The member whose slot it is (by the topology's
    C(slot_name)) can no longer catch up through it and has to be re-cloned; the table says so after the members.
  - C(idle_slots) lists the slots on a running member that no walsender uses (C(active) false, not lost), with the
    WAL each holds back on its server in MB (the server's position minus the slot's C(restart_lsn)), for example the
    slot of a standby that is down, or the one failover.yml keeps for the old primary. The table has a line for each,
    with C(max_slot_wal_keep_size) when the result has it; what such a slot holds is what fills a primary's disk.
  - The same file provides P(pgstream.replication.follow_plan#filter).
options:
  _input:
    description: Per inventory hostname, the registered result of M(pgstream.replication.replication_info).
    type: dict
    required: true
  topology:
    description: One cluster's entry of P(pgstream.replication.cluster_topology#filter) (members, host, slot_name).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Who is primary now
  ansible.builtin.debug:
    msg: "{{ (live_by_host | pgstream.replication.cluster_state(pgstream_topology.main)).primaries }}"
"""

RETURN = r"""
_value:
  description:
    - C(nodes) (per member - state, streaming_from, configured_upstream, timeline (the WAL receiver's C(received_tli)
      for a streaming standby, the timeline a primary writes, else the latest checkpoint's or restartpoint's), timeline_start_lsn (where
      a primary's timeline began, from its history file; null otherwise or when not known), lsn, replicas (application
      names streaming from it), in_recovery), C(primaries) (members in state primary), C(lost_slots) (list of
      C(on), C(slot_name), C(member); C(member) is null for a slot of no member), C(idle_slots) (the same keys and
      C(held_mb), null when not known), C(table) (one text line per member, with a header line, then one line per
      lost slot, then one per idle slot).
  type: dict
"""

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.pgstream.replication.plugins.module_utils.lsn import format_lsn, parse_lsn

_HOST = re.compile(r"(?:^|\s)host\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def _lsn_int(value):
    if not value:
        return None
    try:
        return parse_lsn(value)
    except ValueError:
        return None


def _conninfo_host(conninfo):
    match = _HOST.search(conninfo or '')
    if not match:
        return None
    value = match.group(1)
    if value.startswith("'"):
        value = value[1:-1].replace("\\'", "'").replace('\\\\', '\\')
    return value


def _state(result):
    if not isinstance(result, dict) or not result:
        return 'unknown'
    if result.get('pgstream_fenced'):
        return 'fenced'
    if result.get('unreachable'):
        return 'unreachable'
    if result.get('skipped') or result.get('failed'):
        return 'unknown'
    if not result.get('reachable'):
        return 'stopped'
    return 'standby' if result.get('in_recovery') else 'primary'


def _node(result, members_by_address):
    result = result if isinstance(result, dict) else {}
    state = _state(result)
    receiver = result.get('wal_receiver') or {}
    streaming = receiver.get('status') == 'streaming'
    settings = result.get('settings') or {}
    positions = [_lsn_int(result.get(key)) for key in ('current_lsn', 'receive_lsn', 'replay_lsn')]
    positions = [p for p in positions if p is not None]
    return {
        'state': state,
        'in_recovery': result.get('in_recovery'),
        'stopped_role': result.get('role') if state == 'stopped' else None,
        # pg_controldata's "Database cluster state" of a server that did not answer ('shut down' after a clean stop)
        'cluster_state': (result.get('controldata') or {}).get('cluster_state') if state == 'stopped' else None,
        'streaming_from': members_by_address.get(receiver.get('sender_host')) if streaming else None,
        'configured_upstream': members_by_address.get(_conninfo_host(settings.get('primary_conninfo'))),
        # A standby's checkpoint timeline is that of its last restartpoint, which can be several timelines behind
        # after failovers; while it streams, the timeline it receives is the one it is on.
        'timeline': (receiver.get('received_tli') if state == 'standby' and streaming else None) or result.get('timeline'),
        'lsn': max(positions) if positions else None,
        'timeline_start_lsn': _lsn_int(result.get('timeline_start_lsn')) if state == 'primary' else None,
        'replicas': sorted(r.get('application_name') for r in (result.get('replicas') or [])
                           if r.get('state') == 'streaming'),
        'can_rewind': result.get('can_rewind'),
        'data_dir_error': result.get('data_dir_error') if state == 'stopped' else None,
    }


def cluster_state(infos, topology):
    """Summarise replication_info results of one cluster's members."""
    if not isinstance(infos, dict):
        raise AnsibleFilterError('cluster_state: the input must be a mapping of hostname to replication_info result')
    try:
        members = list(topology['members'])
        hosts = dict(topology.get('host') or {})
    except (KeyError, TypeError):
        raise AnsibleFilterError('cluster_state: topology must be one cluster of cluster_topology (members, host)')
    by_address = {}
    for member in members:
        by_address[member] = member
        if hosts.get(member):
            by_address[str(hosts[member])] = member
    nodes = dict((m, _node(infos.get(m), by_address)) for m in members)
    primaries = [m for m in members if nodes[m]['state'] == 'primary']
    table = ['node | state | streams from | timeline | lsn']
    for member in members:
        node = nodes[member]
        state = node['state'] + (' (not contacted)' if node['state'] == 'fenced' else
                                 ' (no data directory)' if node['data_dir_error'] else
                                 ' (%s)' % node['stopped_role'] if node['stopped_role'] else '')
        table.append('%s | %s | %s | %s | %s' % (
            member, state, node['streaming_from'] or '-', node['timeline'] if node['timeline'] is not None else '-',
            format_lsn(node['lsn']) if node['lsn'] is not None else '-'))
    owners = dict((name, m) for m, name in (topology.get('slot_name') or {}).items())
    lost = [{'on': m, 'slot_name': slot.get('slot_name'), 'member': owners.get(slot.get('slot_name'))}
            for m in members if isinstance(infos.get(m), dict)
            for slot in infos[m].get('replication_slots') or [] if slot.get('wal_status') == 'lost']
    for slot in lost:
        table.append('slot %s on %s was invalidated (wal_status lost)%s' % (
            slot['slot_name'], slot['on'],
            ': %s cannot catch up through it; re-clone it with rejoin.yml -e node=%s -e allow_reclone=true'
            % (slot['member'], slot['member']) if slot['member'] else ''))
    idle = [_idle_slot(m, nodes[m], infos[m], slot, owners)
            for m in members if isinstance(infos.get(m), dict) and nodes[m]['state'] in ('primary', 'standby')
            for slot in infos[m].get('replication_slots') or []
            if slot.get('active') is False and slot.get('wal_status') != 'lost']
    for slot in idle:
        table.append(slot.pop('line'))
    return {'nodes': nodes, 'primaries': primaries, 'lost_slots': lost, 'idle_slots': idle, 'table': table}


def _idle_slot(on, node, info, slot, owners):
    """A slot no walsender uses: it holds WAL on its server until its member is back (or the server's limit)."""
    restart = _lsn_int(slot.get('restart_lsn'))
    held = max(0, node['lsn'] - restart) // (1024 * 1024) if restart is not None and node['lsn'] is not None else None
    member = owners.get(slot.get('slot_name'))
    limit = (info.get('settings') or {}).get('max_slot_wal_keep_size')
    line = 'slot %s on %s is not in use%s: %s' % (
        slot.get('slot_name'), on, ' (%s does not stream through it)' % member if member else '',
        'it holds no WAL' if restart is None else 'it holds %s MB of WAL' % (held if held is not None else '?'))
    if restart is not None and limit is not None:
        line += ('; nothing bounds it (max_slot_wal_keep_size -1)' if limit < 0 else
                 '; past max_slot_wal_keep_size (%d MB) the server invalidates it' % limit)
    return {'on': on, 'slot_name': slot.get('slot_name'), 'member': member, 'held_mb': held, 'line': line}


def attached(state):
    """Members streaming from a running member (the primary or a standby)."""
    nodes = state['nodes']
    running = set(m for m, n in nodes.items() if n['state'] in ('primary', 'standby'))
    return sorted(m for m, n in nodes.items() if n['streaming_from'] in running)


def follow_plan(state, new_primary):
    """Who must (re)point at new_primary.

    When another member runs as the primary (a switchover still to do): that old primary and the members
    streaming from it. Otherwise (new_primary already switched to, or a re-run): every other member that
    does not stream from a running member. Cascading standbys of other standbys are left alone.
    """
    nodes = state['nodes']
    if new_primary not in nodes:
        raise AnsibleFilterError('follow_plan: %s is not a member of the cluster' % new_primary)
    others = [m for m in state['primaries'] if m != new_primary]
    old = others[0] if others else None
    if old:
        followers = [old] + sorted(m for m, n in nodes.items() if n['streaming_from'] == old and m != new_primary)
    else:
        linked = set(attached(state))
        followers = sorted(m for m in nodes if m != new_primary and m not in linked)
    return {'old_primary': old or '', 'followers': followers,
            'nothing_to_do': not old and not followers and nodes[new_primary]['state'] == 'primary'}


def slot_restart(infos, host, slot):
    """The restart_lsn (int) of slot on host, from host's replication_info result; None when not there or not set."""
    for row in ((infos or {}).get(host) or {}).get('replication_slots') or []:
        if slot and isinstance(row, dict) and row.get('slot_name') == slot:
            return _lsn_int(row.get('restart_lsn'))
    return None


def _never_had_timeline(infos, topology, member, primary, timeline, start):
    """Whether member shows that it has nothing of primary's timeline (which began at start), by its slot or its own
    WAL. The primary's slot for it: a restart_lsn at or before the start (created before the promotion, and nothing
    confirmed since). Its own WAL: no WAL receiver on that timeline (or a later one), and no segment file of it (or of
    a later one) in its pg_wal (replication_info's wal_timelines; the WAL receiver names the files it writes after the
    timeline it streams). A forked standby's own confirmations move its slot past the start (it reports its flush
    position on the old timeline), so the slot alone does not show it; its last restartpoint's timeline lags behind
    for up to checkpoint_timeout on a standby that did replay the new timeline, so that does not either."""
    restart = slot_restart(infos, primary, (topology.get('slot_name') or {}).get(member))
    if restart is not None and restart <= start:
        return True
    info = (infos or {}).get(member) or {}
    received, timelines = info.get('received_tli'), info.get('wal_timelines')
    if timelines is None or (received is not None and received >= timeline):
        return False
    return all(t < timeline for t in timelines)


def holds_timeline(nodes, infos, topology, member, primary):
    """Whether member may hold WAL of primary's current timeline (it began at the primary's timeline_start_lsn).

    Not when it shows it never had any of it (_never_had_timeline); else by its position: past the start, it may hold
    the timeline (or be ahead on the old one), so it is taken to hold it. True when the start is not known."""
    start, timeline = nodes[primary].get('timeline_start_lsn'), nodes[primary].get('timeline')
    if start is None or timeline is None:
        return True
    if _never_had_timeline(infos, topology, member, primary, timeline, start):
        return False
    position = nodes[member].get('lsn')
    return position is None or position > start


def standby_forked(state, infos, topology, member, upstream):
    """Whether member, a running standby, forked from upstream, a running primary: it is past the position where
    upstream's timeline began and shows that it never had any of that timeline (_never_had_timeline), so its WAL past
    that position is of the old timeline. Such a standby cannot stream from upstream until it is rewound. False when
    that is not known (no history file, no position, neither a slot nor the standby's WAL timelines read)."""
    try:
        nodes = state['nodes']
    except (KeyError, TypeError):
        raise AnsibleFilterError('standby_forked: the input must be the output of cluster_state')
    node, up = nodes.get(member), nodes.get(upstream)
    if not node or not up or node['state'] != 'standby' or up['state'] != 'primary':
        return False
    start, timeline = up.get('timeline_start_lsn'), up.get('timeline')
    if start is None or timeline is None or node.get('lsn') is None or node['lsn'] <= start \
            or node.get('streaming_from') == upstream:
        return False
    return _never_had_timeline(infos, topology or {}, member, upstream, timeline, start)


def slots_to_keep(state, infos, host, leaving, slot_names, prefix='pgstream_'):
    """The prefix slots on host (from its replication_info result) to keep when host follows a new primary.

    Dropped: the slots of the members in leaving (the nodes that follow the new primary in this run, and the new
    primary: their slots are created there), and those of members streaming from another running member (their
    slot is on that member). Kept: those of host's cascading standbys, and those of members that do not stream now
    (down, or cut off): such a member still points at host and, once back, streams from it through its slot.
    """
    try:
        nodes = state['nodes']
        names = dict(slot_names)
    except (KeyError, TypeError, ValueError):
        raise AnsibleFilterError('slots_to_keep: the input must be the output of cluster_state, slot_names a mapping')
    if not isinstance(infos, dict):
        raise AnsibleFilterError('slots_to_keep: infos must be a mapping of hostname to replication_info result')
    running = set(m for m, n in nodes.items() if n['state'] in ('primary', 'standby'))
    drop = set(names.get(m) for m in leaving or [])
    drop |= set(names.get(m) for m, n in nodes.items() if n['streaming_from'] in running and n['streaming_from'] != host)
    slots = (infos.get(host) or {}).get('replication_slots') or []
    return [s['slot_name'] for s in slots
            if str(s.get('slot_name') or '').startswith(prefix) and s['slot_name'] not in drop]


class FilterModule(object):
    def filters(self):
        return {'cluster_state': cluster_state, 'follow_plan': follow_plan, 'slots_to_keep': slots_to_keep,
                'standby_forked': standby_forked}
