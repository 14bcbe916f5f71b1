"""Each role's meta/argument_specs.yml documents exactly its defaults/main.yml (names and defaults)."""
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(d for d in os.listdir(os.path.join(ROOT, "roles")) if os.path.isdir(os.path.join(ROOT, "roles", d)))


def load(role, *path):
    with open(os.path.join(ROOT, "roles", role, *path)) as f:
        return yaml.safe_load(f) or {}


@pytest.mark.parametrize("role", ROLES)
def test_specs_match_defaults(role):
    defaults = load(role, "defaults", "main.yml")
    options = load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(options) == sorted(defaults), "documented vs defined variables differ"
    for name, spec in options.items():
        assert spec.get("default") == defaults[name], name
        assert spec.get("description"), "%s has no description" % name


@pytest.mark.parametrize("role", ROLES)
def test_defaults_are_commented(role):
    with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml")) as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        if line and not line.startswith(("#", " ", "-", "---")):
            assert i > 0 and lines[i - 1].startswith("#") or lines[i - 1].startswith(role), \
                "%s: variable without a comment: %s" % (role, line)


def test_role_readmes_are_generated_from_the_specs():
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "role-readme.py"), "--check"],
                          stdout=subprocess.PIPE, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout
