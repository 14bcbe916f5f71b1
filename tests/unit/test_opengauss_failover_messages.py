"""opengauss_failover.yml's choice of the new primary, and its message after a failed gs_ctl failover.

The play's filters (pgstream.replication.opengauss_failover_choice) come through the collection loader (conftest.py).

Rendered with Ansible's own templating from the playbook's own expressions. The opengauss scenario reaches one
choice (no synchronous candidates: by name) and one message (a failover that timed out and was cancelled); the rest
(candidates ranked by pgstream_sync_priority, nothing requested, the node became the primary meanwhile, the cancel
did not work) are shown here.
"""
import os

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find(tasks, name):
    for task in tasks:
        if task.get('name') == name:
            return task
        for key in ('block', 'rescue', 'always'):
            found = find(task.get(key, []), name)
            if found:
                return found
    return None


def load(relpath):
    with open(os.path.join(ROOT, relpath)) as f:
        return yaml.safe_load(f)


PLAY = load('playbooks/opengauss_failover.yml')[0]
REPORT = find(PLAY['tasks'], 'Report the failed failover')['ansible.builtin.fail']['msg']
WHY = find(load('playbooks/tasks/opengauss_cancel_failover.yml'),
           'Say whether the failover request was cancelled')['ansible.builtin.set_fact']['__og_cancel_why']


def render(template, **variables):
    """The template as Ansible renders it, with the play's vars (themselves templates) under the given ones."""
    scope = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in PLAY['vars'].items()}
    scope.update(inventory_hostname='pg1', __og_data_dir='/data')
    scope.update(variables)
    result = Templar(loader=DataLoader(), variables=scope).template(trust_as_template(template))
    return ' '.join(result.split()) if isinstance(result, str) else result


EVEN = '0/5000000|0/5000000'


def wal(stdout=EVEN, rc=0, stderr=''):
    """The registered result of the gsql read of a standby's WAL positions ('received|replayed')."""
    return {'rc': rc, 'stdout': stdout, 'stderr': stderr, 'changed': False}


def member(name, role='standby', position=EVEN, **hostvars):
    hostvars.update(inventory_hostname=name, __og_now={'running': True, 'role': role}, __og_wal=wal(position))
    return hostvars


def choose(*members, **extra):
    hostvars = {m['inventory_hostname']: m for m in members}
    return render('{{ __og_new_primary }}', hostvars=hostvars, ansible_play_hosts_all=sorted(hostvars), **extra)


LOST = {'inventory_hostname': 'pg0', '__og_now': {'unreachable': True}}
# A member named in -e fenced: the play's tasks skipped it, without connecting to it.
SKIPPED = {'inventory_hostname': 'pg0', '__og_setup': {'skipped': True, 'changed': False},
           '__og_now': {'skipped': True, 'changed': False}}


@pytest.mark.parametrize('members, chosen', [
    # no synchronous candidates: the first standby by name
    ([LOST, member('pg3'), member('pg2')], 'pg2'),
    # FIRST 1 (pg3, pg2): pg3 is the one the primary waited for, although pg2 sorts first by name
    ([LOST, member('pg2', pgstream_sync_candidate=True, pgstream_sync_priority=2),
      member('pg3', pgstream_sync_candidate=True, pgstream_sync_priority=1)], 'pg3'),
    # a candidate without a priority comes after those with one, then by name; a non-candidate after all of them
    ([LOST, member('pg1'), member('pg2', pgstream_sync_candidate=True),
      member('pg4', pgstream_sync_candidate=True, pgstream_sync_priority=3)], 'pg4'),
    ([LOST, member('pg1'), member('pg3', pgstream_sync_candidate=True), member('pg2', pgstream_sync_candidate=True)], 'pg2'),
    # priorities are compared as numbers, not as text
    ([LOST, member('pg2', pgstream_sync_candidate=True, pgstream_sync_priority='10'),
      member('pg3', pgstream_sync_candidate=True, pgstream_sync_priority='9')], 'pg3'),
    # a candidate that is not a running standby is not chosen
    ([LOST, member('pg2'), member('pg3', role='primary', pgstream_sync_candidate=True, pgstream_sync_priority=1)], 'pg2'),
])
def test_choice_of_the_new_primary(members, chosen):
    assert choose(*members) == chosen


def test_a_named_target_wins():
    assert choose(LOST, member('pg2'), member('pg3', pgstream_sync_candidate=True), target='pg2') == 'pg2'


TIMEOUT = 'gs_ctl failover failed (rc=1, failover_timeout): ... failover failed (/data)'
KILL_FAILED = {'failed': True, 'rc': 1, 'stdout_lines': ['waiting for server to shut down........', ' server does not shut down (/data)']}


def test_nothing_requested():
    msg = render(REPORT, __og_promote={'msg': 'refusing to fail over to /data: ...', 'promote_requested': False})
    assert msg == 'the failover to pg1 failed: refusing to fail over to /data: ...'


def test_cancelled():
    msg = render(REPORT, __og_promote={'msg': TIMEOUT, 'promote_requested': True},
                 __og_failed_state={'running': True, 'role': 'standby'}, __og_cancelled=True)
    assert msg.startswith('the failover to pg1 failed: ' + TIMEOUT + '. Its failover had been requested')
    assert 'so pg1 was restarted as a standby, which cancels it. Run opengauss_failover.yml again' in msg


def test_became_primary_meanwhile():
    msg = render(REPORT, __og_promote={'msg': TIMEOUT, 'promote_requested': True},
                 __og_failed_state={'running': True, 'role': 'primary'})
    assert msg.endswith('. pg1 has become the primary since, but this run did not check that the other standbys follow '
                        'it (a second opengauss_failover.yml refuses while a primary runs): read gs_ctl query on each, '
                        'and rejoin one that does not follow with pgstream.replication.opengauss_rejoin -e node=<it>.')


@pytest.mark.parametrize('results, why', [
    ({'__og_cancel_stop': KILL_FAILED, '__og_cancel_kill': KILL_FAILED},
     'it did not stop: server does not shut down (/data)'),
    ({'__og_cancel_stop': {'rc': 0}, '__og_cancel_kill': {'skipped': True}, '__og_cancel_file': {'changed': False},
      '__og_cancel_start': {'failed': True, 'stdout_lines': ['[...][gs_ctl]: could not start server']}},
     'gs_ctl start failed: [...][gs_ctl]: could not start server'),
    ({'__og_cancel_stop': {'rc': 0}, '__og_cancel_kill': {'skipped': True}, '__og_cancel_file': {'changed': True},
      '__og_cancel_start': {'rc': 0}, '__og_cancel_state': {'running': True, 'local_role': 'Primary', 'db_state': 'Normal'}},
     'gs_ctl query shows Primary / Normal after the restart'),
    ({'__og_cancel_stop': {'rc': 0}, '__og_cancel_kill': {'skipped': True}, '__og_cancel_file': {'changed': True},
      '__og_cancel_start': {'rc': 0}, '__og_cancel_state': {'running': False, 'not_running_reason': 'no PID file'}},
     'it does not run after the restart: no PID file'),
])
def test_cancel_failed(results, why):
    assert render(WHY, **results) == why
    msg = render(REPORT, __og_promote={'msg': TIMEOUT, 'promote_requested': True},
                 __og_failed_state={'running': True, 'role': 'standby'}, __og_cancelled=False, __og_cancel_why=why)
    assert msg.endswith('. Its failover had been requested and had not finished, and pg1 could not be restarted as a '
                        'standby to cancel it (' + why + '): it may still become the primary. Stop it (gs_ctl stop) '
                        'and remove /data/failover before running opengauss_failover.yml again.')


# ---------------------------------------------------------------- the refusals before the failover

CHECK = find(PLAY['tasks'], 'Check that no primary is left and choose the new one')['ansible.builtin.assert']
CHANNEL = '10.0.0.3:41000<--10.0.0.2:5433'


def receiving(name, role='standby'):
    """A running standby whose receiver row is there (it streams from the member at the channel's far end)."""
    return dict(inventory_hostname=name, __og_wal=wal(),
                __og_now={'running': True, 'role': role, 'summary': {'upstream': {'state': 'Normal', 'channel': CHANNEL}}})


def quiet(name):
    """A running standby without a receiver row (gs_ctl query: No information)."""
    return dict(inventory_hostname=name, __og_wal=wal(),
                __og_now={'running': True, 'role': 'standby', 'summary': {'upstream': None}})


def decide(members, group=None, **extra):
    """(every condition of the check holds, its message) for these members' reads; group: the inventory group when
    it has more hosts than the play (--limit)."""
    hostvars = {m['inventory_hostname']: m for m in members}
    scope = dict(hostvars=hostvars, ansible_play_hosts_all=sorted(hostvars),
                 groups={'all': sorted(group or hostvars), 'opengauss': sorted(group or hostvars)}, **extra)
    ok = all(render('{{ (%s) | bool }}' % cond, **scope) for cond in CHECK['that'])
    return ok, render(CHECK['fail_msg'], **scope)


REFUSED = 'Refusing the failover, nothing was changed: '


@pytest.mark.parametrize('members, extra, group, ok, text', [
    # the lost primary cannot be reached: the operator must say it is fenced
    ([LOST, quiet('pg2'), quiet('pg3')], {}, None, False,
     REFUSED + 'this run cannot reach or read pg0, so it cannot make sure that it is not running as a primary. Make '
     'sure it is powered off or fenced (must not come back as a primary), then run again with -e fenced=pg0.'),
    ([LOST, quiet('pg2'), quiet('pg3')], {'fenced': 'pg0'}, None, True, None),
    ([LOST, quiet('pg2'), quiet('pg3')], {'fenced': ' pg0 ,'}, None, True, None),
    ([LOST, quiet('pg2'), quiet('pg3')], {'fenced': ['pg0']}, None, True, None),
    # two members lost, one acknowledged: the message asks for both
    ([LOST, dict(LOST, inventory_hostname='pg4'), quiet('pg2')], {'fenced': 'pg0'}, None, False,
     REFUSED + 'this run cannot reach or read pg4, so it cannot make sure that it is not running as a primary. Make '
     'sure it is powered off or fenced (must not come back as a primary), then run again with -e fenced=pg0,pg4.'),
    ([LOST, dict(LOST, inventory_hostname='pg4'), quiet('pg2')], {}, None, False,
     REFUSED + 'this run cannot reach or read pg0, pg4, so it cannot make sure that they are not running as a primary. '
     'Make sure they are powered off or fenced (must not come back as a primary), then run again with -e fenced=pg0,pg4.'),
    # a member that answers and cannot be read counts as not reached
    ([dict(inventory_hostname='pg0', __og_now={'failed': True, 'msg': 'gs_ctl not found'}), quiet('pg2')], {}, None,
     False, None),
    # a member --limit leaves out of the play was not read either
    ([quiet('pg2'), quiet('pg3')], {}, ['pg0', 'pg2', 'pg3'], False, None),
    ([quiet('pg2'), quiet('pg3')], {'fenced': 'pg0'}, ['pg0', 'pg2', 'pg3'], True, None),
    # a standby still receives WAL: a primary runs that the run cannot see, fenced or not
    ([LOST, receiving('pg2'), quiet('pg3')], {'fenced': 'pg0'}, None, False,
     REFUSED + 'pg2 still received WAL 15 s after this run began to read the members (pgstream_opengauss_receiver_wait), '
     'on ' + CHANNEL + ': a primary runs at the other end, which this run cannot see, so this is not a failover. If the '
     'primary was lost just now, its standbys notice after wal_receiver_timeout; run again then.'),
    ([LOST, receiving('pg2'), receiving('pg3')], {'fenced': 'pg0', 'pgstream_opengauss_receiver_wait': 3}, None, False,
     REFUSED + 'pg2, pg3 still received WAL 3 s after'),
    # a cascading standby receives from a standby: that shows no primary
    ([LOST, quiet('pg2'), receiving('pg3', role='cascade_standby')], {'fenced': 'pg0'}, None, True, None),
    # a reachable primary: the existing refusal
    ([member('pg0', role='primary'), quiet('pg2')], {}, None, False,
     REFUSED + 'running primary: pg0 (use opengauss_switchover.yml).'),
    # a fenced member that answers and runs as a standby (or not at all) is no obstacle
    ([member('pg0', role='standby'), quiet('pg2')], {'fenced': 'pg0'}, None, True, None),
    # a member named in fenced is not contacted: its tasks were skipped, it counts as not read, and is acknowledged
    ([SKIPPED, quiet('pg2')], {'fenced': 'pg0'}, None, True, None),
    ([SKIPPED, dict(SKIPPED, inventory_hostname='pg2')], {'fenced': 'pg0,pg2'}, None, False,
     REFUSED + 'the new primary none must be a reachable running standby (reachable standbys: none).'),
    # a name in fenced that is not a member (a typing error) is refused, before anything else
    ([LOST, quiet('pg2')], {'fenced': 'pg0,pg9'}, None, False,
     REFUSED + '-e fenced names pg9, not a member of opengauss (members: pg0, pg2).'),
    ([LOST, quiet('pg2')], {'fenced': 'pg-0'}, None, False,
     REFUSED + '-e fenced names pg-0, not a member of opengauss (members: pg0, pg2).'),
    # no standby to promote
    ([LOST], {'fenced': 'pg0'}, None, False,
     REFUSED + 'the new primary none must be a reachable running standby (reachable standbys: none).'),
])
def test_refusals_before_the_failover(members, extra, group, ok, text):
    decided, msg = decide(members, group, **extra)
    assert decided is ok
    if text:
        assert msg.startswith(text)


@pytest.mark.parametrize('members, extra', [
    ([LOST, quiet('pg2')], {}),
    ([LOST, receiving('pg2')], {'fenced': 'pg0'}),
    ([member('pg0', role='primary'), quiet('pg2')], {}),
])
def test_refusal_messages_are_one_line(members, extra):
    """The folded YAML keeps the line breaks of more-indented lines: none may fall inside a quoted text."""
    hostvars = {m['inventory_hostname']: m for m in members}
    scope = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in PLAY['vars'].items()}
    scope.update(hostvars=hostvars, ansible_play_hosts_all=sorted(hostvars), groups={'opengauss': sorted(hostvars)}, **extra)
    raw = Templar(loader=DataLoader(), variables=scope).template(trust_as_template(CHECK['fail_msg']))
    assert '\n' not in raw and '  ' not in raw


# ---------------------------------------------------------------- the choice by WAL position

AHEAD = '0/5000100|0/5000000'


@pytest.mark.parametrize('members, extra, ok, chosen, text', [
    # the standby with the most WAL wins over name and over synchronous priority
    ([LOST, member('pg2'), member('pg3', position=AHEAD)], {'fenced': 'pg0'}, True, 'pg3', None),
    ([LOST, member('pg2', pgstream_sync_candidate=True, pgstream_sync_priority=1), member('pg3', position=AHEAD)],
     {'fenced': 'pg0'}, True, 'pg3', None),
    # what was received counts even when not yet replayed; a NULL receive location (nothing streamed) is no obstacle
    ([LOST, member('pg2', position='|0/5000200'), member('pg3', position=AHEAD)], {'fenced': 'pg0'}, True, 'pg2', None),
    # a named standby behind another is refused, unless forced
    ([LOST, member('pg2'), member('pg3', position=AHEAD)], {'fenced': 'pg0', 'target': 'pg2'}, False, 'pg2',
     REFUSED + 'pg2 has less WAL than pg3 (0/5000000 against 0/5000100, 256 bytes behind): promoting it would lose what '
     'only pg3 holds. Name pg3, or run again with -e force=true to fail over to pg2 anyway.'),
    ([LOST, member('pg2'), member('pg3', position=AHEAD)], {'fenced': 'pg0', 'target': 'pg2', 'force': 'true'}, True,
     'pg2', None),
    # a position that cannot be read refuses the run, unless forced
    ([LOST, member('pg2'), dict(member('pg3'), __og_wal=wal('', rc=2, stderr='gsql: could not connect to server'))],
     {'fenced': 'pg0'}, False, None,
     REFUSED + 'the WAL position of pg3 could not be read (pg3: gsql failed: gsql: could not connect to server), so '
     'this run cannot tell which standby has the most WAL. Run again with -e force=true to fail over without it '
     '(with -e target=<standby> to choose).'),
    ([LOST, member('pg2'), dict(member('pg3'), __og_wal=wal('', rc=2))], {'fenced': 'pg0', 'force': True}, True, 'pg2',
     None),
])
def test_choice_by_wal_position(members, extra, ok, chosen, text):
    decided, msg = decide(members, **extra)
    assert decided is ok
    if chosen:
        hostvars = {m['inventory_hostname']: m for m in members}
        assert render('{{ __og_new_primary }}', hostvars=hostvars, ansible_play_hosts_all=sorted(hostvars),
                      groups={'opengauss': sorted(hostvars)}, **extra) == chosen
    if text:
        assert msg == text


def test_the_report_gives_the_positions():
    report = find(PLAY['tasks'], 'Report the new primary')['ansible.builtin.debug']['msg']
    hostvars = {m['inventory_hostname']: m for m in [LOST, member('pg2'), member('pg3', position=AHEAD)]}
    assert render(report, hostvars=hostvars, ansible_play_hosts_all=sorted(hostvars), groups={'opengauss': sorted(hostvars)},
                  fenced='pg0') == ('pg3 is the primary now (WAL positions before the failover: pg2 0/5000000, pg3 '
                                    '0/5000100). Not read before the failover: pg0 - rejoin them with pgstream.replication.opengauss_rejoin '
                                    '-e node=<host>; then update pgstream_node_role.')


# ---------------------------------------------------------------- the read's wait for the standbys' receivers

READ = find(PLAY['tasks'], "Read each reachable member's state (gs_ctl query)")
SETUP = {'ansible_facts': {}}
FAR = 4102444800  # 2100-01-01: a deadline not reached


@pytest.mark.parametrize('now, members, extra, stop', [
    # a standby that still receives is read again while every member answered the setup task
    (receiving('pg2')['__og_now'], [dict(quiet('pg0'), __og_setup=SETUP), dict(receiving('pg2'), __og_setup=SETUP)], {}, False),
    # not when a member the setup task did not reach is not named in fenced: the run refuses anyway
    (receiving('pg2')['__og_now'], [LOST, dict(receiving('pg2'), __og_setup=SETUP)], {}, True),
    (receiving('pg2')['__og_now'], [dict(LOST, __og_setup={'unreachable': True}), dict(receiving('pg2'), __og_setup=SETUP)],
     {}, True),
    # named in fenced: the wait goes on
    (receiving('pg2')['__og_now'], [LOST, dict(receiving('pg2'), __og_setup=SETUP)], {'fenced': 'pg0'}, False),
    # no receiver, a cascading standby's receiver, a primary, a member not running: nothing to wait for
    (quiet('pg2')['__og_now'], [dict(quiet('pg2'), __og_setup=SETUP)], {}, True),
    (receiving('pg2', role='cascade_standby')['__og_now'], [dict(quiet('pg2'), __og_setup=SETUP)], {}, True),
    ({'running': True, 'role': 'primary', 'summary': {'upstream': None}}, [dict(quiet('pg2'), __og_setup=SETUP)], {}, True),
    ({'running': False, 'role': 'unknown', 'summary': None}, [dict(quiet('pg2'), __og_setup=SETUP)], {}, True),
    # the deadline has passed
    (receiving('pg2')['__og_now'], [dict(receiving('pg2'), __og_setup=SETUP)], {'__og_read_deadline': 1}, True),
])
def test_the_read_waits_for_receivers_only_when_it_matters(now, members, extra, stop):
    hostvars = {m['inventory_hostname']: m for m in members}
    scope = dict(hostvars=hostvars, ansible_play_hosts_all=sorted(hostvars), groups={'opengauss': sorted(hostvars)},
                 __og_now=now, __og_read_deadline=FAR)
    scope.update(extra)
    assert render('{{ (%s) | bool }}' % READ['until'], **scope) is stop


# ---------------------------------------------------------------- the members said to be fenced

def test_the_members_said_to_be_fenced_are_not_contacted_before_the_failover():
    """The play's first two tasks (the only ones that would connect to them before the failover) skip them."""
    for name in ('Gather the addresses of the reachable members', "Read each reachable member's state (gs_ctl query)"):
        task = find(PLAY['tasks'], name)
        for host, contacted in (('pg0', False), ('pg2', True)):
            assert render('{{ (%s) | bool }}' % task['when'], inventory_hostname=host, fenced='pg0') is contacted


CHECK_FENCED = find(PLAY['tasks'], 'Make sure the members said to be fenced, not contacted before the failover, are not primaries')
PROMOTED = {'changed': True, 'failed': False, 'promote_requested': True}


@pytest.mark.parametrize('host, new_primary, looked_at', [
    ('pg0', dict(__og_promote=PROMOTED), True),
    ('pg2', dict(__og_promote=PROMOTED), False),
    # the failover failed: nothing to look at (the cluster is as it was)
    ('pg0', dict(__og_promote={'failed': True, 'promote_requested': False, 'msg': 'refusing'}), False),
    ('pg0', dict(__og_promote={'failed': True, 'promote_requested': True}, __og_failed_state={'running': True, 'role': 'standby'}),
     False),
    # it timed out and became the primary meanwhile: the run fails, the members said to be fenced are looked at
    ('pg0', dict(__og_promote={'failed': True, 'promote_requested': True}, __og_failed_state={'running': True, 'role': 'primary'}),
     True),
    # the new primary never got to the failover task
    ('pg0', {}, False),
])
def test_the_members_said_to_be_fenced_are_looked_at_once_the_new_primary_runs(host, new_primary, looked_at):
    hostvars = {'pg1': dict(new_primary, inventory_hostname='pg1')}
    assert all(render('{{ (%s) | bool }}' % cond, inventory_hostname=host, fenced='pg0', hostvars=hostvars,
                      __og_new_primary='pg1') for cond in CHECK_FENCED['when']) is looked_at


FENCED_TASKS = load('playbooks/tasks/opengauss_fenced_check.yml')


def fenced_task(name):
    task = find(FENCED_TASKS, name)
    assert task, name
    return task


STOPPED_OK = {'changed': True, 'failed': False, 'rc': 0, 'stdout': 'server stopped', 'stderr': ''}
STOP_FAILED = {'changed': False, 'failed': True, 'rc': 1, 'stdout': 'waiting for server to shut down....',
               'stderr': '', 'stdout_lines': ['waiting for server to shut down....', ' server does not shut down']}
SKIP = {'skipped': True, 'changed': False}
AS_PRIMARY = {'running': True, 'role': 'primary'}
NOT_RUNNING = {'running': False, 'role': 'unknown', 'not_running_reason': 'no server running'}


def fenced_outcome(read, fast=None, immediate=None, reread=None):
    """(whether the stop tasks run, whether the run fails, the message said) for the results of the check's tasks;
    a task not given was skipped."""
    scope = dict(inventory_hostname='pg0', __og_new_primary='pg1', __og_fenced_read=read,
                 __og_fenced_fast_stop=fast or SKIP, __og_fenced_immediate_stop=immediate or SKIP,
                 __og_fenced_reread=reread or SKIP)
    stops = render('{{ (%s) | bool }}' % fenced_task(
        'Stop the member said to be fenced, which runs as a primary beside the new one (gs_ctl stop -m fast)')['when'], **scope)
    seen = fenced_task('Keep what the last read of the member said to be fenced saw')['ansible.builtin.set_fact']['__og_fenced_seen']
    scope['__og_fenced_seen'] = render(seen, **scope)
    fail = fenced_task('Fail when the member said to be fenced cannot be shown not to run as a primary')
    if render('{{ (%s) | bool }}' % fail['when'], **scope):
        return stops, True, render(fail['ansible.builtin.fail']['msg'], **scope)
    return stops, False, render(fenced_task('Say what the member said to be fenced was found doing')['ansible.builtin.debug']['msg'],
                                **scope)


REJOIN = ' Bring it back with pgstream.replication.opengauss_rejoin -e node=pg0.'
INTRO = 'pg0, said to be fenced, was not contacted before pg1 was promoted. '


@pytest.mark.parametrize('results, stops, fails, text', [
    # as stated: it cannot be reached
    (dict(read={'unreachable': True, 'msg': 'Failed to connect to the host via ssh: timed out\n'}), False, False,
     INTRO + 'It cannot be reached now either (Failed to connect to the host via ssh: timed out): as stated, it must stay '
     'powered off or fenced.' + REJOIN),
    # reachable: its server does not run, or runs as a standby
    (dict(read=NOT_RUNNING), False, False, INTRO + 'It answers, and its server does not run.' + REJOIN),
    (dict(read={'running': True, 'role': 'standby'}), False, False, INTRO + 'It runs as a standby.' + REJOIN),
    # a primary after all: stopped (fast, or immediate when the fast stop did not finish)
    (dict(read=AS_PRIMARY, fast=STOPPED_OK, reread=NOT_RUNNING), True, False,
     INTRO + 'It ran as a primary beside pg1, and was stopped now (fast shutdown). What it committed after its standbys '
     'lost it is not on pg1, and a rejoin with a build discards it.' + REJOIN),
    (dict(read=AS_PRIMARY, fast=STOP_FAILED, immediate=STOPPED_OK, reread=NOT_RUNNING), True, False,
     INTRO + 'It ran as a primary beside pg1, and was stopped now (immediate shutdown).'),
    # gone between the read and the stop
    (dict(read=AS_PRIMARY, fast=STOPPED_OK, reread={'unreachable': True, 'msg': 'gone'}), True, False,
     INTRO + 'It cannot be reached now either (gone)'),
    # it could not be stopped: the run fails
    (dict(read=AS_PRIMARY, fast=STOP_FAILED, immediate=STOP_FAILED, reread=AS_PRIMARY), True, True,
     'pg0, said to be fenced (-e fenced), was not contacted before pg1 was promoted, and runs as a primary beside it: '
     'the run could not stop it ( server does not shut down). Make sure it does not run as a primary (gs_ctl stop -m '
     'immediate, or fence it), then pgstream.replication.opengauss_rejoin -e node=pg0.'),
    # it answers and cannot be read: nothing shows it is not a primary
    (dict(read={'failed': True, 'msg': 'gs_ctl not found: /opt/opengauss/bin/gs_ctl'}), False, True,
     'pg0, said to be fenced (-e fenced), was not contacted before pg1 was promoted, and cannot be read now (gs_ctl not '
     'found: /opt/opengauss/bin/gs_ctl). Make sure it does not run as a primary'),
])
def test_what_the_check_of_a_member_said_to_be_fenced_does(results, stops, fails, text):
    stopped, failed, msg = fenced_outcome(**results)
    assert (stopped, failed) == (stops, fails)
    assert msg.startswith(text)
    assert '\n' not in msg and '  ' not in msg
