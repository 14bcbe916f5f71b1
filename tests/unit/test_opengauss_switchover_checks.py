"""opengauss_switchover.yml's check of the target's replay lag, rendered with Ansible's own templating from the playbook's
own expressions, over real gs_ctl query outputs of primaries (tests/unit/fixtures/gs_ctl) parsed by the module's code.

The opengauss scenario reaches one refusal (the double's pg2 with its startup process stopped, a small bound) and the
switchovers that pass; the rest (no streaming row for the target, two senders, a bound given as text) are shown here.
"""
import os

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.pgstream.replication.plugins.module_utils.gs_ctl_query import parse_query, summary

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'gs_ctl')

with open(os.path.join(ROOT, 'playbooks', 'opengauss_switchover.yml')) as f:
    PLAY = yaml.safe_load(f)[0]
CHECK = next(t for t in PLAY['tasks'] if t.get('name') == "Check the target's replay lag behind the primary")


def fixture(name, replace=None):
    """A real gs_ctl query output as gs_ctl_info returns it (the summary); replace: (old, new) text swapped first."""
    with open(os.path.join(FIXTURES, name)) as f:
        text = f.read()
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    return {'running': True, 'role': 'primary', 'summary': summary(parse_query(text))}


def check(primary_read, target_ip, **extra):
    """(the check runs, its conditions hold, its message) with pg1 the primary and pg2 the target at target_ip."""
    scope = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in PLAY['vars'].items()}
    scope.update(target='pg2', __og_switchover_from='pg1', hostvars={
        'pg1': {'__og_before': primary_read, 'ansible_default_ipv4': {'address': '10.0.0.1'}},
        'pg2': {'__og_before': {'running': True, 'role': 'standby'}, 'ansible_default_ipv4': {'address': target_ip}}})
    scope.update(extra)

    def render(template):
        result = Templar(loader=DataLoader(), variables=scope).template(trust_as_template(template))
        return ' '.join(result.split()) if isinstance(result, str) else result

    runs = render('{{ (%s) | bool }}' % CHECK['when'])
    holds = all(render('{{ (%s) | bool }}' % cond) for cond in CHECK['ansible.builtin.assert']['that'])
    return runs, holds, render(CHECK['ansible.builtin.assert']['fail_msg'])


REFUSED = 'Refusing the switchover to pg2, nothing was changed: '
BEHIND = ('receiver_replay_location       : 0/4000148', 'receiver_replay_location       : 0/3000148')


@pytest.mark.parametrize('read, target_ip, extra, holds, text', [
    # openGauss 3.0, one standby caught up: lag 0
    (fixture('og3.0_primary_one_sender.txt'), '10.0.0.101', {}, True, None),
    # MogDB, two senders: the target's row is the one whose channel ends at the target's address
    (fixture('mogdb_primary_two_senders_sync_potential.txt'), '172.18.0.102', {}, True, None),
    # 16 MiB behind (0/4000148 sent, 0/3000148 replayed): the bound is 16 MiB, not more
    (fixture('og3.0_primary_one_sender.txt', BEHIND), '10.0.0.101', {}, True, None),
    (fixture('og3.0_primary_one_sender.txt', BEHIND), '10.0.0.101', {'pgstream_switchover_max_lag_bytes': '16777215'}, False,
     REFUSED + 'pg2 has replayed up to 0/3000148, 16777216 bytes behind what pg1 sent it (0/4000148), more than '
     'pgstream_switchover_max_lag_bytes (16777215). The old primary would be demoted first and pg2 promoted only once it '
     'has replayed that. Run again once it has caught up, or raise the bound.'),
    # the primary shows no streaming sender to the target (another standby's row only, or none at all)
    (fixture('og3.0_primary_one_sender.txt'), '10.0.0.102', {}, False,
     REFUSED + 'pg1 shows no streaming sender to pg2 (10.0.0.102) in gs_ctl query, so the lag of pg2 cannot be read. Run '
     'again once it streams.'),
    (fixture('og1.1_primary_no_standby.txt'), '10.0.0.101', {}, False, REFUSED + 'pg1 shows no streaming sender to pg2'),
])
def test_the_target_replay_lag(read, target_ip, extra, holds, text):
    runs, held, msg = check(read, target_ip, **extra)
    assert runs is True
    assert held is holds
    if text:
        assert msg.startswith(text)
        assert '\n' not in msg


def test_no_lag_check_when_the_target_is_the_primary_already():
    """Running the switchover again with the same target changes nothing and checks nothing."""
    runs, _held, _msg = check(fixture('og3.0_primary_one_sender.txt'), '10.0.0.101', __og_switchover_from='pg2')
    assert runs is False
