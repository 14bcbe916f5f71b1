"""Verify the default scenario: a real primary streams to two real standbys."""
import os
import time
import uuid

import pytest

PRIMARY = "pgs-default-pg1"
STANDBYS = ["pgs-default-pg2", "pgs-default-pg3"]
# Run each test once (from the primary's point of view); the fixture reaches the others.
testinfra_hosts = [PRIMARY]


def psql(host, sql):
    return host.check_output("su postgres -c %s", "psql -XAtq -v ON_ERROR_STOP=1 -c \"%s\"" % sql)


@pytest.fixture(scope="module")
def hosts(host):
    import testinfra
    backend = host.backend
    inv = backend.ansible_inventory_file if hasattr(backend, "ansible_inventory_file") else None
    return {name: testinfra.get_host("ansible://%s" % name, ansible_inventory=inv or backend.ansible_inventory)
            for name in [PRIMARY] + STANDBYS}


def test_roles(hosts):
    assert psql(hosts[PRIMARY], "SELECT pg_is_in_recovery()") == "f"
    for name in STANDBYS:
        assert psql(hosts[name], "SELECT pg_is_in_recovery()") == "t"


def test_primary_sees_two_streaming_standbys(hosts):
    rows = psql(hosts[PRIMARY], "SELECT application_name || ':' || state FROM pg_stat_replication ORDER BY 1")
    assert rows.splitlines() == ["pgs_default_pg2:streaming", "pgs_default_pg3:streaming"]


def test_write_on_primary_is_read_on_every_standby(hosts):
    token = uuid.uuid4().hex
    psql(hosts[PRIMARY], "CREATE TABLE IF NOT EXISTS verify_probe (token text); INSERT INTO verify_probe VALUES ('%s')" % token)
    for name in STANDBYS:
        seen = ""
        for _attempt in range(30):
            seen = psql(hosts[name], "SELECT count(*) FROM verify_probe WHERE token = '%s'" % token)
            if seen == "1":
                break
            time.sleep(1)
        assert seen == "1", "%s never saw the row written on %s" % (name, PRIMARY)


def test_standby_refuses_writes(hosts):
    out = hosts[STANDBYS[0]].run("su postgres -c %s", "psql -XAtq -c \"CREATE TABLE nope (x int)\"")
    assert out.rc != 0
    assert "read-only transaction" in out.stderr


def test_second_cluster_in_the_same_inventory(host):
    import testinfra
    inv = host.backend.ansible_inventory
    pg4, pg5 = [testinfra.get_host("ansible://pgs-default-pg%d" % n, ansible_inventory=inv) for n in (4, 5)]
    assert psql(pg4, "SELECT application_name || ':' || state FROM pg_stat_replication") == "pgs_default_pg5:streaming"
    assert psql(pg5, "SELECT sender_host FROM pg_stat_wal_receiver") == "pgs-default-pg4"
    assert psql(pg4, "SELECT string_agg(slot_name, ',') FROM pg_replication_slots") == "pgstream_pgs_default_pg5"


def test_one_active_slot_per_standby(hosts):
    assert psql(hosts[PRIMARY], "SELECT string_agg(slot_name || ':' || active, ',' ORDER BY slot_name) FROM pg_replication_slots") \
        == "pgstream_pgs_default_pg2:true,pgstream_pgs_default_pg3:true"


def test_a_slot_cannot_hold_back_unlimited_wal(hosts):
    """A standby that is down keeps its slot; max_slot_wal_keep_size bounds what it pins (the roles' 10 GB)."""
    for name in [PRIMARY] + STANDBYS:
        assert psql(hosts[name], "SHOW max_slot_wal_keep_size") == "10GB", name


def test_pg_hba_lists_only_the_cluster_members(hosts):
    """pg1's replication lines are for its own cluster's three members, not the other cluster's."""
    major = os.environ.get("PGSTREAM_PG_MAJOR", "15")
    hba = hosts[PRIMARY].file("/etc/postgresql/%s/main/pg_hba.conf" % major).content_string
    lines = [line.split() for line in hba.splitlines() if line.startswith("host") and line.split()[1:3] == ["replication", "replicator"]]
    assert len(lines) == 3 and all(f[3].endswith("/32") and f[4] == "scram-sha-256" for f in lines), lines


def test_replication_role_is_least_privilege(hosts):
    row = psql(hosts[PRIMARY], "SELECT rolreplication, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = 'replicator'")
    assert row == "t|f|t"


def test_pg_hba_has_no_remote_trust(hosts):
    hba = hosts[PRIMARY].file("/etc/postgresql/%s/main/pg_hba.conf" % os.environ.get("PGSTREAM_PG_MAJOR", "15")).content_string
    for line in hba.splitlines():
        fields = line.split()
        if fields and fields[0].startswith("host"):
            assert fields[-1] != "trust", line
