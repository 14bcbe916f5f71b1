"""site.yml refuses a bad inventory on the controller, before any host is contacted.

Runs the real playbook with ansible-playbook. The hosts use the podman connection to containers that
do not exist, so contacting any of them would show up as unreachable in the recap.
"""
import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(ROOT, "playbooks", "site.yml")
COLLECTIONS = os.path.join(ROOT, "build", "collections")


def host(role, **extra):
    return dict(pgstream_node_role=role, ansible_connection="containers.podman.podman", **extra)


CASES = [
    ("two primaries", {"db1": host("primary"), "db2": host("primary"), "db3": host("standby")},
     "2 primaries (db1, db2)"),
    ("upstream outside the group", {"db1": host("primary"), "db2": host("standby", pgstream_upstream="db9")},
     "db9"),
    ("cycle of upstreams", {"db1": host("primary"), "db2": host("standby", pgstream_upstream="db3"),
                            "db3": host("standby", pgstream_upstream="db2")},
     "cycle db2 -> db3 -> db2"),
    ("unknown major", {"db1": host("primary", pgstream_pg_major=9), "db2": host("standby", pgstream_pg_major=9)},
     "unsupported PostgreSQL major version"),
    ("sync count above the candidates", {
        "db1": host("primary", pgstream_sync_mode="any", pgstream_sync_count=3),
        "db2": host("standby", pgstream_sync_candidate=True),
        "db3": host("standby", pgstream_sync_candidate=True)},
     "pgstream_sync_count"),
    ("slot WAL limit below -1", {"db1": host("primary", pgstream_max_slot_wal_keep_size_mb=-2), "db2": host("standby")},
     "must be -1 (unlimited) or a size in MB of 0 or more, got -2"),
]


@pytest.mark.parametrize("label, hosts, message", CASES, ids=[c[0] for c in CASES])
def test_bad_inventory_fails_before_touching_hosts(tmp_path, label, hosts, message):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"pgcluster": {"hosts": hosts,
                                                       "vars": {"pgstream_replication_password": "unit-only"}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_HOST_KEY_CHECKING="0")
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = subprocess.run([ansible_playbook, "-i", str(inventory), "-e", "pgstream_target=pgcluster", PLAYBOOK],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                          check=False, timeout=120)
    out = proc.stdout
    assert proc.returncode != 0, out
    assert message in out, out[-3000:]
    assert "Gathering Facts" not in out, "a host was contacted"
    recap = re.findall(r"^\S+\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)", out, re.M)
    assert recap and all(changed == "0" and unreachable == "0" for _ok, changed, unreachable in recap), out[-2000:]
