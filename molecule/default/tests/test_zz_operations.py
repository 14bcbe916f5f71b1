"""Playbook-level behaviour on the converged cluster, run from the controller.

Runs after test_replication.py (file order): a --check run of site.yml changes nothing; a
reload-only setting is applied without a restart and a restart-only one with a restart; then a
switchover done by hand (pg2 promoted) makes the next site.yml run fail fast, name both nodes and
change nothing. The second test leaves the cluster diverged: it must stay the last one.
"""
import os
import re
import subprocess
import time

PRIMARY = "pgs-default-pg1"
PROMOTED = "pgs-default-pg2"
testinfra_hosts = [PRIMARY]


def run_site(*extra):
    scenario = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
    inventory = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "inventory")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="default")
    proc = subprocess.run(["ansible-playbook", "-i", inventory, os.path.join(scenario, "converge.yml")] + list(extra),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False, env=env)
    recap = dict(re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", proc.stdout, re.M))
    # site.yml on an inventory without openGauss hosts and without cascading standbys: no play may warn about
    # a host pattern that matches nothing (the group opengauss, pgstream_standby_level2, ...).
    warned = sorted(set(re.findall(r"Could not match supplied host pattern, ignoring: (\S+)", proc.stdout)))
    assert not warned, "site.yml warned about host patterns that match nothing: %s" % ", ".join(warned)
    return proc, recap


def test_check_mode_on_converged_cluster_changes_nothing():
    proc, recap = run_site("--check")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert recap and all(int(n) == 0 for n in recap.values()), recap


def _start_time(host):
    return host.check_output("su postgres -c 'psql -XAtqc \"SELECT pg_postmaster_start_time()\"'")


def test_reload_only_setting_is_applied_without_restart(host):
    before = _start_time(host)
    proc, _recap = run_site("-e", "pgstream_wal_keep_size_mb=2048", "-e", "pgstream_max_slot_wal_keep_size_mb=-1")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host.check_output("su postgres -c 'psql -XAtqc \"SHOW wal_keep_size\"'") == "2GB"
    assert host.check_output("su postgres -c 'psql -XAtqc \"SHOW max_slot_wal_keep_size\"'") == "-1"
    assert _start_time(host) == before


def test_restart_setting_restarts_the_server(host):
    before = _start_time(host)
    proc, _recap = run_site("-e", "pgstream_wal_keep_size_mb=2048", "-e", "pgstream_max_replication_slots=12")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host.check_output("su postgres -c 'psql -XAtqc \"SHOW max_replication_slots\"'") == "12"
    assert _start_time(host) != before


def test_manual_switchover_is_discovered_and_refused(host):
    import testinfra
    promoted = testinfra.get_host("ansible://%s" % PROMOTED, ansible_inventory=host.backend.ansible_inventory)
    promoted.check_output("pg_ctlcluster %s main promote", os.environ.get("PGSTREAM_PG_MAJOR", "15"))
    for _attempt in range(30):
        if promoted.check_output("su postgres -c 'psql -XAtqc \"SELECT pg_is_in_recovery()\"'") == "f":
            break
        time.sleep(1)
    proc, recap = run_site()
    assert proc.returncode != 0
    assert "names %s as primary, but %s is running as a primary" % (PRIMARY, PROMOTED) in proc.stdout, proc.stdout[-3000:]
    assert "Nothing was changed" in proc.stdout
    assert recap and all(int(n) == 0 for n in recap.values()), recap
    # Nothing was demoted or re-cloned: both still run as primaries.
    assert host.check_output("su postgres -c 'psql -XAtqc \"SELECT pg_is_in_recovery()\"'") == "f"
