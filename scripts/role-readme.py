"""Write roles/<role>/README.md from the role's meta/argument_specs.yml.

  .venv/bin/python scripts/role-readme.py           rewrite every role's README
  .venv/bin/python scripts/role-readme.py --check   exit 1 when a README is not what the specs give
"""
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def render(role):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as f:
        spec = yaml.safe_load(f)["argument_specs"]["main"]
    lines = ["# pgstream.replication.%s" % role, "", spec["short_description"], ""]
    lines += [" ".join(spec.get("description", []))] if spec.get("description") else []
    lines += ["", "Generated from `meta/argument_specs.yml` by `scripts/role-readme.py`; do not edit by hand.", "",
              "## Variables", "", "| variable | type | default | description |", "|---|---|---|---|"]
    for name, opt in spec["options"].items():
        default = opt.get("default")
        shown = "`%s`" % (yaml.safe_dump(default, default_flow_style=True).strip().replace("\n...", "")
                          if not isinstance(default, str) else (default or "''"))
        kind = opt["type"] + ("/" + opt["elements"] if opt.get("elements") else "")
        desc = opt["description"] if isinstance(opt["description"], str) else " ".join(opt["description"])
        if opt.get("choices"):
            desc += " Choices: %s." % ", ".join("`%s`" % c for c in opt["choices"])
        lines.append("| `%s` | %s | %s | %s |" % (name, kind, shown.replace("|", "\\|"), desc.replace("|", "\\|")))
    lines += ["", "## Example", "", "```yaml", "- hosts: db", "  become: true", "  roles:",
              "    - role: pgstream.replication.%s" % role, "```", "",
              "`playbooks/site.yml` shows how the roles are combined from an inventory (docs/inventory.md).", ""]
    return "\n".join(lines)


def main():
    check = "--check" in sys.argv
    stale = []
    for role in sorted(os.listdir(os.path.join(ROOT, "roles"))):
        path = os.path.join(ROOT, "roles", role, "README.md")
        text = render(role)
        current = open(path).read() if os.path.exists(path) else None
        if current != text:
            stale.append(path)
            if not check:
                with open(path, "w") as f:
                    f.write(text)
    if check and stale:
        print("out of date (run scripts/role-readme.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
