"""opengauss_failover.yml's message after a failed gs_ctl failover, in each of its branches.

The opengauss scenario reaches one of them (a failover that timed out and was cancelled); the others (nothing was
requested, the node became the primary meanwhile, the cancel did not work) are rendered here from the playbook's own
templates, with Ansible's `is failed`/`is skipped`/`is succeeded` tests and `bool` filter stood in for.
"""
import os

import jinja2
import pytest
import yaml

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


REPORT = find(load('playbooks/opengauss_failover.yml')[0]['tasks'], 'Report the failed failover')['ansible.builtin.fail']['msg']
WHY = find(load('playbooks/tasks/opengauss_cancel_failover.yml'),
           'Say whether the failover request was cancelled')['ansible.builtin.set_fact']['__og_cancel_why']

ENV = jinja2.Environment(undefined=jinja2.ChainableUndefined)
ENV.filters['bool'] = lambda v: v if isinstance(v, bool) else str(v).lower() in ('true', 'yes', '1')
ENV.tests['failed'] = lambda r: bool(r.get('failed'))
ENV.tests['skipped'] = lambda r: bool(r.get('skipped'))
ENV.tests['succeeded'] = lambda r: not r.get('failed')

TIMEOUT = 'gs_ctl failover failed (rc=1, failover_timeout): ... failover failed (/data)'
KILL_FAILED = {'failed': True, 'rc': 1, 'stdout_lines': ['waiting for server to shut down........', ' server does not shut down (/data)']}


def render(template, **variables):
    variables.setdefault('inventory_hostname', 'pg1')
    variables.setdefault('__og_data_dir', '/data')
    return ' '.join(ENV.from_string(template).render(**variables).split())


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
    assert msg.endswith('. pg1 has become the primary since: run opengauss_failover.yml again to check that the other '
                        'standbys follow it.')


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
