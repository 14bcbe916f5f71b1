"""Runs after test_sync.py (file order; pytest regroups tests by the parametrised host fixture inside one
file): a switchover keeps synchronous replication. It leaves the cluster switched over, so it must stay last."""
import os
import subprocess
import time

from sync_nodes import CANDIDATES, PRIMARY, psql

testinfra_hosts = [PRIMARY]


def test_switchover_keeps_synchronous_replication(hosts):
    """A switchover to pg2 carries ANY 1 over with pg2 replaced by pg1: pg1 and pg3 are quorum candidates of pg2,
    pg1's own setting is cleared, and pg4 still cascades from pg3. Runs last: the cluster is switched after it."""
    inventory = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "inventory")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="default")
    proc = subprocess.run(["ansible-playbook", "-i", inventory, "pgstream.replication.switchover", "-e",
                           "target=%s" % CANDIDATES[0]],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:]
    new = hosts[CANDIDATES[0]]
    assert psql(new, "SHOW synchronous_standby_names") == "ANY 1 (pgs_sync_pg1, pgs_sync_pg3)"
    for _attempt in range(60):
        rows = psql(new, "SELECT application_name || ':' || sync_state FROM pg_stat_replication ORDER BY 1")
        if rows.split() == ["pgs_sync_pg1:quorum", "pgs_sync_pg3:quorum"]:
            break
        time.sleep(1)
    assert rows.split() == ["pgs_sync_pg1:quorum", "pgs_sync_pg3:quorum"], rows
    assert psql(hosts[PRIMARY], "SHOW synchronous_standby_names") == ""
    assert psql(hosts[CANDIDATES[1]], "SELECT application_name FROM pg_stat_replication") == "pgs_sync_pg4"
