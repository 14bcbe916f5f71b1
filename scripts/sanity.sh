#!/usr/bin/env bash
# ansible-test sanity on a copy of the tracked (and untracked, not ignored) files, laid out under
# $SANITY_ROOT/ansible_collections/pgstream/replication as ansible-test requires. The copy lives
# outside this git checkout: inside it, ansible-test would list files through this repo's git and
# skip the copy as ignored. No ignore files are allowed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# One copy per checkout, so that two checkouts (a CI clone and a working tree) can run sanity at the same time: with one
# shared path, each run's rm -rf removed the other's files.
SANITY_ROOT=${SANITY_ROOT:-${TMPDIR:-/tmp}/pgstream-sanity-$(printf '%s' "$root" | md5sum | cut -c1-8)}
dest="$SANITY_ROOT/ansible_collections/pgstream/replication"
rm -rf "$dest"; mkdir -p "$dest"
(cd "$root" && git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) \
    | tar -C "$dest" -xf -
if ls "$dest"/tests/sanity/ignore-*.txt >/dev/null 2>&1; then
    echo "sanity: ignore files are not allowed" >&2; exit 1
fi

# ansible-test bootstraps pip into each of its venvs with a get-pip script downloaded from
# Ansible's CI file host, which is not reachable from every machine (ansible/ansible#77304 documents
# saving it by hand). Where no cached script exists, use one that installs pip with the Python's
# own ensurepip and then from the configured package index.
pip_version=$("$root/.venv/bin/python" - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -s "$cache" ]; then
    mkdir -p "$(dirname "$cache")"
    cp "$root/scripts/get-pip-offline.py" "$cache"
fi

cd "$dest"
PY=$("$root/.venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
exec "$root/.venv/bin/ansible-test" sanity --venv --python "$PY" --color no "$@"
