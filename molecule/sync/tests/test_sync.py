"""Verify the sync scenario: quorum-synchronous standbys and a cascading standby, all real servers."""
import os
import re
import subprocess
import time
import uuid

from sync_nodes import CANDIDATES, CASCADED, PRIMARY, psql

testinfra_hosts = [PRIMARY]


def test_quorum_synchronous_standby_names(hosts):
    assert psql(hosts[PRIMARY], "SHOW synchronous_standby_names") == "ANY 1 (pgs_sync_pg2, pgs_sync_pg3)"


def test_candidates_stream_as_quorum(hosts):
    rows = psql(hosts[PRIMARY], "SELECT application_name || ':' || state || ':' || sync_state FROM pg_stat_replication ORDER BY 1")
    assert rows.splitlines() == ["pgs_sync_pg2:streaming:quorum", "pgs_sync_pg3:streaming:quorum"]


def test_cascading_standby_streams_from_its_upstream_standby(hosts):
    rows = psql(hosts["pgs-sync-pg3"], "SELECT application_name || ':' || state FROM pg_stat_replication")
    assert rows == "pgs_sync_pg4:streaming"
    assert psql(hosts[CASCADED], "SELECT sender_host FROM pg_stat_wal_receiver") == "pgs-sync-pg3"


def test_one_slot_per_standby_on_its_upstream(hosts):
    assert psql(hosts[PRIMARY], "SELECT string_agg(slot_name || ':' || active, ',' ORDER BY slot_name) FROM pg_replication_slots") \
        == "pgstream_pgs_sync_pg2:true,pgstream_pgs_sync_pg3:true"
    assert psql(hosts["pgs-sync-pg3"], "SELECT string_agg(slot_name || ':' || active, ',') FROM pg_replication_slots") \
        == "pgstream_pgs_sync_pg4:true"


def test_write_reaches_the_cascaded_standby(hosts):
    token = uuid.uuid4().hex
    psql(hosts[PRIMARY], "CREATE TABLE IF NOT EXISTS verify_probe (token text); INSERT INTO verify_probe VALUES ('%s')" % token)
    seen = ""
    for _attempt in range(30):
        seen = psql(hosts[CASCADED], "SELECT count(*) FROM verify_probe WHERE token = '%s'" % token)
        if seen == "1":
            break
        time.sleep(1)
    assert seen == "1"


def test_commit_waits_for_a_quorum_member(hosts):
    """With both candidates down a commit does not return; with one back it does."""
    major = os.environ.get("PGSTREAM_PG_MAJOR", "15")
    for name in CANDIDATES:
        hosts[name].check_output("pg_ctlcluster %s main stop -m fast", major)
    try:
        blocked = hosts[PRIMARY].run("timeout 5 su postgres -c %s", "psql -XAtq -c \"INSERT INTO verify_probe VALUES ('blocked')\"")
        assert blocked.rc == 124, "a commit returned with no synchronous standby up: %r" % (blocked.stdout + blocked.stderr)
        hosts[CANDIDATES[1]].check_output("pg_ctlcluster %s main start", major)
        done = hosts[PRIMARY].run("timeout 60 su postgres -c %s", "psql -XAtq -c \"INSERT INTO verify_probe VALUES ('acked')\"")
        assert done.rc == 0, done.stderr
    finally:
        for name in CANDIDATES:
            hosts[name].run("pg_ctlcluster %s main start", major)
    for _attempt in range(60):
        if psql(hosts[PRIMARY], "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "2":
            break
        time.sleep(1)


def test_check_mode_on_converged_cluster_changes_nothing():
    scenario = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
    inventory = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "inventory")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="default")
    proc = subprocess.run(["ansible-playbook", "-i", inventory, "--check", os.path.join(scenario, "converge.yml")],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False, env=env)
    recap = dict(re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", proc.stdout, re.M))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert len(recap) == 4 and all(int(n) == 0 for n in recap.values()), recap
