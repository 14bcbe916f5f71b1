"""topology_conflicts: inventory vs running servers."""
import pytest

from ansible_collections.pgstream.replication.plugins.filter.topology_conflicts import topology_conflicts

TOPO = {"main": {
    "primary": "pg1", "standbys": ["pg2", "pg3"], "members": ["pg1", "pg2", "pg3"],
    "upstream": {"pg1": None, "pg2": "pg1", "pg3": "pg2"},
    "host": {"pg1": "pg1", "pg2": "pg2", "pg3": "pg3"},
}}


def primary():
    return {"reachable": True, "role": "primary", "wal_receiver": None}


def standby(sender):
    return {"reachable": True, "role": "standby", "wal_receiver": {"status": "streaming", "sender_host": sender}}


@pytest.mark.parametrize("live, expected", [
    ({}, []),                                                        # a new cluster: nothing to compare
    ({"pg1": primary(), "pg2": standby("pg1"), "pg3": standby("pg2")}, []),
    ({"pg1": primary(), "pg2": standby("10.0.0.1"), "pg3": standby("pg2")}, []),   # known address
    ({"pg1": {"reachable": False, "role": None}, "pg2": standby("pg1")}, []),      # primary down, role unknown
])
def test_no_conflict(live, expected):
    assert topology_conflicts(TOPO, live, {"pg1": ["10.0.0.1"]}) == expected


def test_switchover_done_by_hand_names_both():
    live = {"pg1": standby("pg2"), "pg2": primary(), "pg3": standby("pg2")}
    problems = topology_conflicts(TOPO, live)
    assert any("names pg1 as primary, but pg2 is running as a primary (pg1 is standby)" in p for p in problems)
    assert any("pg1 as primary, but it is running as a standby" in p for p in problems)
    assert all(p.startswith("cluster 'main'") for p in problems)


def test_stopped_old_primary_read_from_control_file():
    live = {"pg1": {"reachable": False, "role": "primary"}, "pg2": primary()}
    problems = topology_conflicts(TOPO, live)
    assert len(problems) == 1 and "pg2 is running as a primary" in problems[0]


def test_standby_streaming_from_elsewhere():
    live = {"pg1": primary(), "pg2": standby("pg1"), "pg3": standby("pg1")}
    assert topology_conflicts(TOPO, live) == [
        "cluster 'main': pg3 streams from pg1, but the inventory's upstream for it is pg2 (pg2)."]
