# -*- coding: utf-8 -*-
"""failover_plan: every decision of failover.yml, on cluster_state of replication_info results."""
from __future__ import absolute_import, division, print_function

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.pgstream.replication.plugins.filter.cluster_state import cluster_state, standby_forked
from ansible_collections.pgstream.replication.plugins.filter.switchover_checks import failover_plan

__metaclass__ = type

# pg1 the primary, pg2 and pg3 its standbys, pg4 cascading from pg3
TOPO = {'members': ['pg1', 'pg2', 'pg3', 'pg4'], 'primary': 'pg1',
        'host': {'pg1': '10.0.0.1', 'pg2': '10.0.0.2', 'pg3': '10.0.0.3', 'pg4': '10.0.0.4'},
        'slot_name': {'pg1': 'pgstream_pg1', 'pg2': 'pgstream_pg2', 'pg3': 'pgstream_pg3', 'pg4': 'pgstream_pg4'}}
PRIORITIES = {'pg1': 100, 'pg2': 100, 'pg3': 100, 'pg4': 100}


def primary(replicas=()):
    return {'reachable': True, 'in_recovery': False, 'timeline': 1, 'current_lsn': '0/5000000',
            'replicas': [{'application_name': a, 'state': 'streaming'} for a in replicas],
            'settings': {'primary_conninfo': None}}


def standby(upstream, lsn='0/5000000', streaming=False, slot_limit=10240, timeline=1, received_tli=None,
            wal_timelines=None):
    """A standby configured for upstream; its WAL receiver streams only when streaming (the upstream is dead).
    timeline: its last restartpoint's; received_tli: that of a WAL receiver that runs without streaming;
    wal_timelines: those of its WAL segment files (1 up to timeline by default, False for not known)."""
    receiver = None
    if streaming:
        receiver = {'status': 'streaming', 'sender_host': TOPO['host'][upstream], 'received_tli': timeline}
    elif received_tli is not None:
        receiver = {'status': 'waiting', 'sender_host': TOPO['host'][upstream], 'received_tli': received_tli}
    return {'reachable': True, 'in_recovery': True, 'timeline': timeline, 'receive_lsn': lsn, 'replay_lsn': lsn,
            'received_tli': receiver['received_tli'] if receiver else None, 'wal_receiver': receiver,
            'wal_timelines': (list(range(1, timeline + 1)) if wal_timelines is None
                              else None if wal_timelines is False else wal_timelines),
            'settings': {'primary_conninfo': 'user=replicator host=%s port=5432' % TOPO['host'][upstream],
                         'max_slot_wal_keep_size': slot_limit},
            'replicas': []}


UNREACHABLE = {'unreachable': True, 'msg': 'ssh: connect to host 10.0.0.1 port 22: Connection timed out'}
STOPPED = {'reachable': False, 'role': 'primary', 'in_recovery': None, 'timeline': 1}


def plan(infos, **kw):
    kw.setdefault('priorities', PRIORITIES)
    return failover_plan(cluster_state(infos, TOPO), infos, TOPO, **kw)


def dead(pg1=None, pg2='0/5000000', pg3='0/5000100'):
    return {'pg1': pg1 or UNREACHABLE, 'pg2': standby('pg1', pg2), 'pg3': standby('pg1', pg3), 'pg4': standby('pg3', streaming=True)}


@pytest.mark.parametrize('infos, kw, old, new, followers', [
    # the dead primary declared fenced: the standby with the most WAL; pg4 keeps streaming from pg3
    (dead(), {'fenced': 'pg1'}, 'pg1', 'pg3', ['pg2']),
    (dead(pg2='0/6000000'), {'fenced': 'pg1'}, 'pg1', 'pg2', ['pg3']),
    # a primary whose host answers but whose server is down needs no acknowledgement
    (dead(pg1=STOPPED), {}, 'pg1', 'pg3', ['pg2']),
    # a primary cut off from its standbys (no replicas) is stopped by the playbook, no acknowledgement either
    (dead(pg1=primary()), {}, 'pg1', 'pg3', ['pg2']),
    # alive and serving standbys, but forced
    ({'pg1': primary(['pg2', 'pg3']), 'pg2': standby('pg1', streaming=True), 'pg3': standby('pg1', streaming=True),
      'pg4': standby('pg3', streaming=True)}, {'force': True}, 'pg1', 'pg2', ['pg3']),
    # a named target that has all the WAL
    (dead(pg3='0/5000000'), {'fenced': 'pg1', 'named': 'pg2'}, 'pg1', 'pg2', ['pg3']),
])
def test_plans(infos, kw, old, new, followers):
    result = plan(infos, **kw)
    assert result['refused'] is None and result['ok'] is True
    assert (result['old_primary'], result['new_primary'], result['followers']) == (old, new, followers)
    assert result['choice']['candidate'] == new


@pytest.mark.parametrize('slot_limit, kw, slot, note', [
    # the new primary bounds what a slot holds: it keeps one for the old primary until it rejoins
    (10240, {}, 'pgstream_pg1', 'pg3 keeps slot pgstream_pg1 for pg1 until it rejoins (at most 10240 MB of WAL, '
                                'max_slot_wal_keep_size), so that it can be rewound; if pg1 will not come back, drop it '
                                "(pgstream.replication.replication_slots, or SELECT pg_drop_replication_slot('pgstream_pg1'))"),
    (0, {}, 'pgstream_pg1', 'at most 0 MB of WAL'),
    # unlimited, or no such setting (before 13, or not visible): a slot for a dead server could fill the disk
    (-1, {}, None, 'no slot is kept for pg1 on pg3: max_slot_wal_keep_size is unlimited (-1) there, and a slot would '
                   'hold WAL without limit; only wal_keep_size keeps the WAL pg1 needs for a rewind'),
    (None, {}, None, 'max_slot_wal_keep_size is not known (PostgreSQL before 13, or not read) there'),
    # not asked for
    (10240, {'old_primary_slot': False}, None, 'no slot is kept for pg1 on pg3 (pgstream_failover_old_primary_slot=false); '
                                               'only wal_keep_size keeps the WAL pg1 needs for a rewind'),
    (10240, {'old_primary_slot': 'false'}, None, '(pgstream_failover_old_primary_slot=false)'),
])
def test_slot_kept_for_the_old_primary(slot_limit, kw, slot, note):
    infos = dead()
    infos['pg3']['settings']['max_slot_wal_keep_size'] = slot_limit
    result = plan(infos, fenced='pg1', **kw)
    assert result['ok'] and result['new_primary'] == 'pg3'
    assert result['old_primary_slot'] == slot
    if note is None:
        assert result['old_primary_slot_note'] is None
    else:
        assert note in result['old_primary_slot_note']


def test_no_slot_when_the_topology_names_none_or_the_failover_is_refused():
    topo = dict(TOPO, slot_name={})
    infos = dead()
    result = failover_plan(cluster_state(infos, topo), infos, topo, fenced='pg1', priorities=PRIORITIES)
    assert result['ok'] and (result['old_primary_slot'], result['old_primary_slot_note']) == (None, None)
    result = plan(dead())
    assert not result['ok'] and (result['old_primary_slot'], result['old_primary_slot_note']) == (None, None)


@pytest.mark.parametrize('infos, kw, message', [
    (dead(), {}, 'pg1 cannot be reached, so this run cannot make sure it is not running. Make sure it is powered off or '
                 'fenced (it must not come back as a primary), then run again with -e fenced=pg1.'),
    (dead(), {'fenced': 'pg2'}, 'run again with -e fenced=pg1.'),
    ({'pg1': primary(['pg2', 'pg3']), 'pg2': standby('pg1', streaming=True), 'pg3': standby('pg1', streaming=True),
      'pg4': standby('pg3', streaming=True)}, {},
     'pg1 is running as the primary and pg2, pg3 stream from it: this is not a failover. Use switchover.yml, or -e '
     'force=true to fail over anyway (it will be stopped and unreplicated commits on it are lost).'),
    (dict(dead(), pg1=primary(), pg2=primary()), {'force': True},
     'more than one member runs as a primary: pg1, pg2; rejoin the stale one with rejoin.yml first'),
    (dead(), {'fenced': 'pg1', 'named': 'pg2'},
     'failover refused, nothing was changed: pg2 is 256 bytes behind pg3'),
    ({'pg1': UNREACHABLE, 'pg2': UNREACHABLE, 'pg3': UNREACHABLE, 'pg4': UNREACHABLE}, {'fenced': 'pg1'},
     'failover refused, nothing was changed: no reachable standby among the candidates pg2, pg3, pg4'),
])
def test_refusals(infos, kw, message):
    result = plan(infos, **kw)
    assert result['ok'] is False and message in result['refused']
    assert (result['new_primary'], result['followers']) == (None, [])


def test_old_primary_from_the_standbys_configuration_before_the_inventory():
    # pg2 ran a switchover earlier: the standbys are configured for pg2 while the inventory still says pg1
    topo = dict(TOPO, primary='pg1')
    infos = {'pg1': standby('pg2'), 'pg2': UNREACHABLE, 'pg3': standby('pg2'), 'pg4': standby('pg3', streaming=True)}
    infos['pg1']['receive_lsn'] = infos['pg1']['replay_lsn'] = '0/6000000'
    result = failover_plan(cluster_state(infos, topo), infos, topo, fenced='pg2', priorities=PRIORITIES)
    assert (result['old_primary'], result['old_state'], result['new_primary'], result['followers']) == \
        ('pg2', 'unreachable', 'pg1', ['pg3'])


def promoted(replicas=()):
    """pg2 after an earlier failover promoted it: a primary on timeline 2."""
    return dict(primary(replicas), timeline=2, settings={'primary_conninfo': None, 'max_slot_wal_keep_size': 10240})


@pytest.mark.parametrize('infos, kw, old, old_state, followers, finishing', [
    # the earlier run promoted pg2, then pg3 could not follow: pg3 is still configured for the dead pg1
    ({'pg1': UNREACHABLE, 'pg2': promoted(), 'pg3': standby('pg1'), 'pg4': standby('pg3', streaming=True)},
     {'fenced': 'pg1'}, 'pg1', 'unreachable', ['pg3'],
     'pg2 already runs as the primary (promoted by an earlier failover?), and pg3 is still configured for pg1 '
     '(unreachable) and streams from nobody: this run points the standbys at pg2, and stops or promotes nobody'),
    # pg1 stopped cleanly since (its host answers), pg3 and pg4 both left behind, pg4 configured for pg1 too
    ({'pg1': STOPPED, 'pg2': promoted(), 'pg3': standby('pg1'), 'pg4': standby('pg1')}, {}, 'pg1', 'stopped',
     ['pg3', 'pg4'], 'pg3, pg4 are still configured for pg1 (stopped) and stream from nobody'),
    # pg3 followed, pg4 (configured for pg1 directly) did not: pg2 has a standby, and this is still not a failover
    # to refuse; pg3 streams from pg2 and is left alone
    ({'pg1': UNREACHABLE, 'pg2': promoted(['pg3']), 'pg3': standby('pg2', streaming=True), 'pg4': standby('pg1')},
     {'fenced': 'pg1', 'force': False}, 'pg1', 'unreachable', ['pg4'], 'and pg4 is still configured for pg1'),
    # the same target named again is fine
    ({'pg1': UNREACHABLE, 'pg2': promoted(), 'pg3': standby('pg1'), 'pg4': standby('pg3', streaming=True)},
     {'fenced': 'pg1', 'named': 'pg2'}, 'pg1', 'unreachable', ['pg3'], 'points the standbys at pg2'),
])
def test_an_unfinished_failover_is_finished_not_redone(infos, kw, old, old_state, followers, finishing):
    """Without this, the running pg2 was taken for a cut-off old primary: stopped, and pg3 promoted in its place."""
    result = plan(infos, **kw)
    assert result['ok'] is True and result['refused'] is None
    assert (result['old_primary'], result['old_state'], result['new_primary'], result['followers']) == \
        (old, old_state, 'pg2', followers)
    assert finishing in result['finishing']
    assert result['choice'] is None
    assert result['old_primary_slot'] == 'pgstream_pg1'


@pytest.mark.parametrize('infos, kw, message', [
    # the old primary still needs the acknowledgement when it cannot be reached
    ({'pg1': UNREACHABLE, 'pg2': promoted(), 'pg3': standby('pg1'), 'pg4': standby('pg3', streaming=True)}, {},
     'pg1 cannot be reached, so this run cannot make sure it is not running'),
    # another target named: not a second promotion
    ({'pg1': UNREACHABLE, 'pg2': promoted(), 'pg3': standby('pg1'), 'pg4': standby('pg3', streaming=True)},
     {'fenced': 'pg1', 'named': 'pg3'},
     'failover refused, nothing was changed: pg2 already runs as the primary (promoted by an earlier failover?) and '
     'pg3 is still configured for pg1 (unreachable) and streams from nobody; run without target to point the standbys '
     'at pg2, then switchover.yml -e target=pg3'),
])
def test_an_unfinished_failover_refused(infos, kw, message):
    result = plan(infos, **kw)
    assert result['ok'] is False and message in result['refused']
    assert (result['new_primary'], result['followers']) == (None, [])


@pytest.mark.parametrize('infos', [
    # a cut-off primary: its standbys stream from nobody but are configured for it
    {'pg1': primary(), 'pg2': standby('pg1'), 'pg3': standby('pg1'), 'pg4': standby('pg3', streaming=True)},
    # a standby configured for a member that runs (a cascading standby whose upstream is a running standby)
    {'pg1': primary(), 'pg2': standby('pg1'), 'pg3': standby('pg1'), 'pg4': standby('pg3')},
    # no primary runs: the usual failover
    dead(),
])
def test_not_an_unfinished_failover(infos):
    assert plan(infos, fenced='pg1')['finishing'] is None


def newer(replicas=(), slots=(), start='0/5000000'):
    """pg2 promoted by an earlier failover at 0/5000000 (timeline 2), with the slots it made for its followers before
    pg_promote(): their restart_lsn is its last restartpoint, before the switch, until a follower streams through it."""
    return dict(promoted(replicas), timeline_start_lsn=start,
                replication_slots=[{'slot_name': 'pgstream_' + m, 'restart_lsn': lsn, 'active': False}
                                   for m, lsn in slots])


@pytest.mark.parametrize('infos, kw, old, old_state, followers, finishing', [
    # pg3 was repointed at pg2 and the run stopped before it streamed: its slot on pg2 never moved past the switch
    ({'pg1': UNREACHABLE, 'pg2': newer(slots=[('pg3', '0/4F00000')]), 'pg3': standby('pg2'),
      'pg4': standby('pg3', streaming=True)}, {'fenced': 'pg1'}, 'pg1', 'unreachable', ['pg3'],
     'pg2 already runs as the primary (promoted by an earlier failover?), and pg3, pg4 hold nothing of its timeline 2, '
     'which began at 0/5000000: this run points the standbys at pg2, and stops or promotes nobody'),
    # pg3 is ahead of pg2 on the old timeline (a forced, lagging target): by its position alone it might hold pg2's
    # timeline, but pg2's slot for it says it never streamed from pg2
    ({'pg1': STOPPED, 'pg2': newer(slots=[('pg3', '0/4F00000'), ('pg4', '0/4F00000')]), 'pg3': standby('pg2', '0/5800000'),
      'pg4': standby('pg2', '0/5800000')}, {}, 'pg1', 'stopped', ['pg3', 'pg4'], 'pg3, pg4 hold nothing of its timeline 2'),
    # pg3 ahead on the old timeline and its slot moved to its own position by its confirmations (as seen on the demo):
    # its restartpoint and WAL receiver on timeline 1 show it has nothing of timeline 2
    ({'pg1': UNREACHABLE, 'pg2': newer(slots=[('pg3', '0/5800000')]), 'pg3': standby('pg2', '0/5800000', received_tli=1),
      'pg4': standby('pg3', streaming=True)}, {'fenced': 'pg1'}, 'pg1', 'unreachable', ['pg3'],
     'pg3, pg4 hold nothing of its timeline 2'),
    # no slot on pg2 for them: their positions, at or before the switch
    ({'pg1': UNREACHABLE, 'pg2': newer(), 'pg3': standby('pg2', '0/5000000'), 'pg4': standby('pg2', '0/4000000')},
     {'fenced': 'pg1', 'named': 'pg2'}, 'pg1', 'unreachable', ['pg3', 'pg4'], 'pg3, pg4 hold nothing of its timeline 2'),
    # the inventory's primary is the old one when more than one member is down
    ({'pg1': STOPPED, 'pg2': newer(), 'pg3': standby('pg2', '0/5000000'), 'pg4': UNREACHABLE}, {}, 'pg1', 'stopped',
     ['pg3'], 'pg3 holds nothing of its timeline 2'),
])
def test_a_failover_whose_followers_never_streamed_is_finished_not_redone(infos, kw, old, old_state, followers, finishing):
    """Without this, the running pg2 was taken for a cut-off old primary: stopped, and pg3 promoted in its place,
    losing every commit of pg2's timeline."""
    result = plan(infos, **kw)
    assert result['ok'] is True and result['refused'] is None, result['refused']
    assert (result['old_primary'], result['old_state'], result['new_primary'], result['followers']) == \
        (old, old_state, 'pg2', followers)
    assert finishing in result['finishing']
    assert result['choice'] is None


def on2(lsn='0/5000000', **kw):
    """A standby of pg2 that replayed a checkpoint of pg2's timeline 2 (its last restartpoint is on it)."""
    return standby('pg2', lsn, timeline=2, **kw)


@pytest.mark.parametrize('infos', [
    # a cut-off primary whose standbys streamed from it on its timeline: its slots for them moved past the switch,
    # and their last restartpoints are on timeline 2
    {'pg1': UNREACHABLE, 'pg2': newer(slots=[('pg3', '0/5000100'), ('pg4', '0/5000100')]), 'pg3': on2('0/5000100'),
     'pg4': on2('0/5000100')},
    # without slots, a standby on timeline 2 past the switch holds the timeline
    {'pg1': UNREACHABLE, 'pg2': newer(), 'pg3': on2('0/5000001'), 'pg4': on2('0/4000000')},
    # a slot without restart_lsn (never used) says nothing: the standby's own timeline and position decide
    {'pg1': UNREACHABLE, 'pg2': newer(slots=[('pg3', None), ('pg4', None)]), 'pg3': on2('0/5000001'),
     'pg4': on2('0/4000000')},
    # a restartpoint still on timeline 1, but a WAL receiver on timeline 2 (it lost its connection since)
    {'pg1': UNREACHABLE, 'pg2': newer(), 'pg3': standby('pg2', '0/5000001', received_tli=2), 'pg4': on2('0/4000000')},
    # a restartpoint still on timeline 1 and no WAL receiver, but segments of timeline 2 (seen in the failover
    # scenario: a standby that streamed from the new primary for seconds, then was pointed elsewhere)
    {'pg1': UNREACHABLE, 'pg2': newer(slots=[('pg3', '0/5000100')]),
     'pg3': standby('pg2', '0/5000100', wal_timelines=[1, 2]), 'pg4': on2('0/4000000')},
    # its WAL timelines not known (no pg_monitor): its position decides
    {'pg1': UNREACHABLE, 'pg2': newer(), 'pg3': standby('pg2', '0/5000100', wal_timelines=False), 'pg4': on2('0/4000000')},
    # a standby whose position is not known
    {'pg1': UNREACHABLE, 'pg2': newer(), 'pg3': dict(on2(), receive_lsn=None, replay_lsn=None), 'pg4': on2('0/4000000')},
    # where the timeline began is not known (timeline 1, or the history file could not be read)
    {'pg1': UNREACHABLE, 'pg2': newer(start=None), 'pg3': standby('pg2'), 'pg4': standby('pg2')},
])
def test_a_cut_off_primary_on_a_later_timeline_is_failed_over(infos):
    result = plan(infos, fenced='pg1')
    assert result['ok'] is True and result['finishing'] is None
    assert result['old_primary'] == 'pg2' and result['new_primary'] in ('pg3', 'pg4')


@pytest.mark.parametrize('infos, kw, message', [
    # every member runs: no old primary to replace, and failing over would lose pg2's timeline
    ({'pg1': standby('pg2', '0/5000000'), 'pg2': newer(), 'pg3': standby('pg2'), 'pg4': standby('pg2')}, {},
     'failover refused, nothing was changed: pg2 runs as the primary and pg1, pg3, pg4 hold nothing of its timeline 2, '
     'which began at 0/5000000: promoting a standby would lose every commit of that timeline, and every member runs, '
     'so there is no old primary to replace. Point the standbys at pg2 with rejoin.yml -e node=<standby>.'),
    # another target named
    ({'pg1': UNREACHABLE, 'pg2': newer(), 'pg3': standby('pg2'), 'pg4': standby('pg2')}, {'fenced': 'pg1', 'named': 'pg3'},
     'pg2 already runs as the primary (promoted by an earlier failover?) and pg3, pg4 hold nothing of its timeline 2, '
     'which began at 0/5000000; run without target to point the standbys at pg2, then switchover.yml -e target=pg3'),
    # forced: still no
    ({'pg1': UNREACHABLE, 'pg2': newer(), 'pg3': standby('pg2'), 'pg4': standby('pg2')},
     {'fenced': 'pg1', 'named': 'pg3', 'force': True}, 'run without target to point the standbys at pg2'),
    # the old primary still needs the acknowledgement when it cannot be reached
    ({'pg1': UNREACHABLE, 'pg2': newer(), 'pg3': standby('pg2'), 'pg4': standby('pg2')}, {},
     'pg1 cannot be reached, so this run cannot make sure it is not running'),
])
def test_a_failover_whose_followers_never_streamed_refused(infos, kw, message):
    result = plan(infos, **kw)
    assert result['ok'] is False and message in result['refused'], result['refused']
    assert (result['new_primary'], result['followers']) == (None, [])


@pytest.mark.parametrize('state, infos, topo, kw, message', [
    ({'nodes': {}}, {}, TOPO, {}, 'the input must be the result of cluster_state'),
    ({'nodes': {}, 'primaries': []}, {}, TOPO, {}, 'pg1 has no entry in the cluster state'),
    (None, {}, TOPO, {}, 'the input must be the result of cluster_state'),
    ({'nodes': {}, 'primaries': []}, {}, {'host': {}}, {}, 'topology must be one cluster'),
    ({'nodes': {}, 'primaries': []}, {}, TOPO, {'force': 'maybe'}, 'force must be a boolean'),
    ({'nodes': {}, 'primaries': []}, {}, TOPO, {'old_primary_slot': 'maybe'}, 'old_primary_slot must be a boolean'),
])
def test_bad_input(state, infos, topo, kw, message):
    with pytest.raises(AnsibleFilterError, match=message):
        failover_plan(state, infos, topo, **kw)


def forked_infos(pg3_lsn='0/5800000', restart='0/4F00000', start='0/5000000', pg3_streaming=False, **pg3):
    """pg2 promoted at 0/5000000 while pg3, ahead of it on the old timeline, was repointed at it and never streamed."""
    pg2 = newer(slots=[('pg3', restart)] if restart is not False else [], start=start)
    return {'pg1': UNREACHABLE, 'pg2': pg2, 'pg3': standby('pg2', pg3_lsn, streaming=pg3_streaming, **pg3),
            'pg4': standby('pg3', streaming=True)}


@pytest.mark.parametrize('infos, member, upstream, forked', [
    # its slot on pg2 never moved past the switch
    (forked_infos(), 'pg3', 'pg2', True),
    # seen on the demo after a forced failover: pg3's WAL receiver got timeline 1 from pg2 up to the switch and waits;
    # its confirmations moved the slot to its own (forked) position, past the switch. Its restartpoint is on timeline 1.
    (forked_infos(restart='0/5800000', received_tli=1), 'pg3', 'pg2', True),
    # no slot, no segment of timeline 2
    (forked_infos(restart=False), 'pg3', 'pg2', True),
    # a restartpoint still on timeline 1 but segments of timeline 2: it replayed some of it (seen in the failover
    # scenario); its WAL timelines not known
    (forked_infos(restart='0/5800000', wal_timelines=[1, 2]), 'pg3', 'pg2', False),
    (forked_infos(restart='0/5800000', wal_timelines=False), 'pg3', 'pg2', False),
    # at or before the switch: it can stream from pg2 as it is
    (forked_infos(pg3_lsn='0/5000000'), 'pg3', 'pg2', False),
    # on timeline 2 (its restartpoint, or its WAL receiver), with its slot past the switch or no slot
    (forked_infos(restart='0/5000100', timeline=2), 'pg3', 'pg2', False),
    (forked_infos(restart=False, timeline=2), 'pg3', 'pg2', False),
    (forked_infos(restart=None, received_tli=2), 'pg3', 'pg2', False),
    # no history read
    (forked_infos(start=None), 'pg3', 'pg2', False),
    # it streams from pg2
    (forked_infos(pg3_streaming=True, timeline=2), 'pg3', 'pg2', False),
    # not a running standby, not a primary
    (forked_infos(), 'pg1', 'pg2', False),
    (forked_infos(), 'pg4', 'pg3', False),
    (forked_infos(), 'pg3', 'pg9', False),
])
def test_standby_forked(infos, member, upstream, forked):
    assert standby_forked(cluster_state(infos, TOPO), infos, TOPO, member, upstream) is forked


def test_standby_forked_bad_input():
    with pytest.raises(AnsibleFilterError, match='the input must be the output of cluster_state'):
        standby_forked(None, {}, TOPO, 'pg3', 'pg2')


@pytest.mark.parametrize('infos, kw, new, rewind_first', [
    # the standby with the most WAL is promoted: nobody is ahead of it
    (dead(pg2='0/6000000'), {'fenced': 'pg1'}, 'pg2', []),
    (dead(pg3='0/5000000'), {'fenced': 'pg1', 'named': 'pg2'}, 'pg2', []),
    # a named target behind pg2, forced: pg2 has WAL of the old timeline past where pg3's will begin
    (dead(pg2='0/6000000'), {'fenced': 'pg1', 'named': 'pg3', 'force': True}, 'pg3', ['pg2']),
])
def test_followers_ahead_of_the_candidate_are_rewound_first(infos, kw, new, rewind_first):
    result = plan(infos, **kw)
    assert result['ok'] is True and result['new_primary'] == new
    assert result['rewind_first'] == rewind_first


@pytest.mark.parametrize('infos, kw, new, ask', [
    # the usual failover: only the old primary is unreachable, acknowledged as fenced: nobody is asked
    (dead(), {'fenced': 'pg1'}, 'pg3', []),
    # a standby Ansible cannot reach may run as a primary (promoted by an earlier run that lost it): asked
    (dict(dead(), pg2=UNREACHABLE), {'fenced': 'pg1'}, 'pg3', ['pg2']),
    (dict(dead(), pg2={'skipped': True}), {'fenced': 'pg1'}, 'pg3', ['pg2']),
    # one whose host answers and whose server does not is not a running primary
    (dict(dead(), pg2=STOPPED), {'fenced': 'pg1'}, 'pg3', []),
    # the old primary, fenced, but a standby streams from it: it was alive when the members were read
    (dict(dead(), pg2=standby('pg1', streaming=True)), {'fenced': 'pg1'}, 'pg3', ['pg1']),
    (dict(dead(pg2='0/6000000'), pg3=standby('pg1', '0/5000100', streaming=True), pg2=UNREACHABLE), {'fenced': 'pg1'},
     'pg3', ['pg1', 'pg2']),
    # stopped by the run (reachable, cut off) or down: not asked
    (dead(pg1=primary()), {}, 'pg3', []),
    (dead(pg1=STOPPED), {}, 'pg3', []),
])
def test_members_the_candidate_asks_before_it_promotes(infos, kw, new, ask):
    result = plan(infos, **kw)
    assert result['ok'] is True and result['new_primary'] == new
    assert result['ask'] == ask


def test_nobody_is_asked_when_an_earlier_failover_is_finished_or_the_failover_refused():
    finishing = plan({'pg1': UNREACHABLE, 'pg2': promoted(), 'pg3': standby('pg1'), 'pg4': UNREACHABLE},
                     fenced='pg1')
    assert finishing['finishing'] and finishing['ask'] == []
    refused = plan(dead(), fenced='pg2')
    assert refused['ok'] is False and refused['ask'] == []


# failover.yml does not contact the member -e fenced names: live_state.yml gives it this result (state fenced)
FENCED = {'pgstream_fenced': True}


@pytest.mark.parametrize('infos, kw, new, followers, ask', [
    # the dead primary, not contacted: the same plan as when it could not be reached
    (dead(pg1=FENCED), {'fenced': 'pg1'}, 'pg3', ['pg2'], []),
    (dead(pg1=FENCED, pg2='0/6000000'), {'fenced': 'pg1'}, 'pg2', ['pg3'], []),
    # a standby streamed from it: it was alive, the candidate asks it first
    (dict(dead(pg1=FENCED), pg2=standby('pg1', streaming=True)), {'fenced': 'pg1'}, 'pg3', ['pg2'], ['pg1']),
    # another member Ansible could not reach is asked as before
    (dict(dead(pg1=FENCED), pg2=UNREACHABLE), {'fenced': 'pg1'}, 'pg3', [], ['pg2']),
])
def test_an_old_primary_not_contacted(infos, kw, new, followers, ask):
    result = plan(infos, **kw)
    assert result['ok'] is True, result['refused']
    assert (result['old_primary'], result['old_state'], result['new_primary']) == ('pg1', 'fenced', new)
    assert (result['followers'], result['ask']) == (followers, ask)


@pytest.mark.parametrize('infos, kw, message', [
    # -e fenced names a standby: it was not contacted, and it is not the old primary (dead, or cut off and running)
    (dict(dead(), pg2=FENCED), {'fenced': 'pg2'},
     'failover refused, nothing was changed: -e fenced=pg2 names a member that is not the old primary, which is pg1 '
     '(unreachable). This run did not contact pg2. Run again with -e fenced=pg1 if pg1 is powered off or fenced, or '
     'without fenced if it answers.'),
    (dict(dead(pg1=primary()), pg2=FENCED), {'fenced': 'pg2'}, 'names a member that is not the old primary, which is pg1 (primary)'),
    # the running primary of an unfinished failover named as fenced: the standbys are still configured for pg1
    ({'pg1': UNREACHABLE, 'pg2': FENCED, 'pg3': standby('pg1'), 'pg4': standby('pg3', streaming=True)}, {'fenced': 'pg2'},
     'names a member that is not the old primary, which is pg1'),
    # fenced not given for a member in state fenced (a caller's mistake): refused, not planned around
    (dead(pg1=FENCED), {}, 'run again with -e fenced=pg1.'),
])
def test_a_member_not_contacted_that_is_not_the_old_primary_is_refused(infos, kw, message):
    result = plan(infos, **kw)
    assert result['ok'] is False and message in result['refused']
    assert (result['new_primary'], result['followers'], result['ask']) == (None, [], [])
