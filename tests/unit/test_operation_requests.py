"""switchover.yml, failover.yml and rejoin.yml refuse a bad request before any host is contacted.

Runs the real playbooks with ansible-playbook; the hosts use the podman connection to containers that do
not exist, so contacting one would show up as unreachable in the recap.
"""
import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
HOSTS = {"db1": {"pgstream_node_role": "primary"}, "db2": {"pgstream_node_role": "standby"},
         "db3": {"pgstream_node_role": "standby"}}

CASES = [
    ("switchover without a target", "switchover", [], "name the standby to promote with -e target="),
    ("switchover to an unknown host", "switchover", ["-e", "target=db9"], "no such host: 'db9'"),
    ("rejoin without a node", "rejoin", [], "name the node to rejoin with -e node="),
    ("rejoin of an unknown host", "rejoin", ["-e", "node=nope"], "no such host: 'nope'"),
    ("failover of an unknown cluster", "failover", ["-e", "cluster=reports"], "no cluster named 'reports'"),
    ("discover of an unknown cluster", "discover", ["-e", "cluster=reports"], "no cluster named 'reports'"),
]


@pytest.mark.parametrize("label, playbook, extra, message", CASES, ids=[c[0] for c in CASES])
def test_bad_request_fails_before_touching_hosts(tmp_path, label, playbook, extra, message):
    inventory = tmp_path / "inventory.yml"
    hosts = dict((h, dict(v, ansible_connection="containers.podman.podman")) for h, v in HOSTS.items())
    inventory.write_text(yaml.safe_dump({"pgcluster": {"hosts": hosts}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOCALHOST_WARNING="0")
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = subprocess.run([ansible_playbook, "-i", str(inventory), "pgstream.replication." + playbook] + extra,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                          check=False, timeout=120)
    out = proc.stdout
    assert proc.returncode != 0, out
    assert message in out, out[-3000:]
    # no group opengauss in this inventory: the plays must not name it (Ansible would warn on every run)
    assert "Could not match supplied host pattern" not in out, out[-3000:]
    recap = re.findall(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)", out, re.M)
    assert recap and all(changed == "0" and unreachable == "0" for _h, _ok, changed, unreachable in recap), out[-2000:]


def test_site_leaves_the_opengauss_group_to_opengauss_site(tmp_path):
    """An openGauss primary in the same (default) cluster name does not count as a second PostgreSQL primary."""
    inventory = tmp_path / "inventory.yml"
    pg = dict((h, dict(v, ansible_connection="containers.podman.podman")) for h, v in HOSTS.items())
    og = {"og1": {"pgstream_node_role": "primary", "ansible_connection": "containers.podman.podman"}}
    inventory.write_text(yaml.safe_dump({"pgcluster": {"hosts": pg}, "opengauss": {"hosts": og}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOCALHOST_WARNING="0")
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    base = [ansible_playbook, "-i", str(inventory), "pgstream.replication.site", "--check"]
    proc = subprocess.run(base, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                          check=False, timeout=180)
    assert "2 primaries" not in proc.stdout, proc.stdout[-3000:]
    assert "Compute the replication topology from the inventory" in proc.stdout
    # the same inventory with og1 in the PostgreSQL run is refused: the test above can fail
    proc = subprocess.run(base + ["-e", "pgstream_opengauss_target=nothing"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, env=env, check=False, timeout=180)
    assert "2 primaries" in proc.stdout, proc.stdout[-3000:]
