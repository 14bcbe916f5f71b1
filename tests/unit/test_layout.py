"""The collection's own layout contract: what ansible-galaxy and users rely on."""
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_galaxy_identity():
    with open(os.path.join(ROOT, "galaxy.yml")) as f:
        galaxy = yaml.safe_load(f)
    assert (galaxy["namespace"], galaxy["name"]) == ("pgstream", "replication")
    assert galaxy["version"] == "0.1.0"
    for excluded in ("tests", "bench", ".ci"):
        assert excluded in galaxy["build_ignore"]


def test_requires_ansible_declared():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as f:
        runtime = yaml.safe_load(f)
    assert runtime["requires_ansible"].startswith(">=")


def test_one_pin_file():
    """Every Python dependency is pinned exactly, in requirements.txt only."""
    with open(os.path.join(ROOT, "requirements.txt")) as f:
        reqs = [line.split("#")[0].strip() for line in f]
    reqs = [r for r in reqs if r]
    assert reqs and all("==" in r for r in reqs), reqs
    names = {r.split("==")[0].split("[")[0].lower() for r in reqs}
    for name in ("ansible-core", "molecule", "molecule-plugins", "pytest", "pytest-testinfra",
                 "psycopg2-binary", "ansible-lint"):
        assert name in names
