#!/usr/bin/env bash
# ansible-test sanity on a copy of the tracked (and untracked, not ignored) files, laid out under
# build/sanity/ansible_collections/pgstream/replication as ansible-test requires. No ignore files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/build/sanity/ansible_collections/pgstream/replication"
rm -rf "$dest"; mkdir -p "$dest"
(cd "$root" && git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$dest" -xf -
if ls "$dest"/tests/sanity/ignore-*.txt >/dev/null 2>&1; then
    echo "sanity: ignore files are not allowed" >&2; exit 1
fi
cd "$dest"
PY=$("$root/.venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
exec "$root/.venv/bin/ansible-test" sanity --venv --python "$PY" --color no "$@"
