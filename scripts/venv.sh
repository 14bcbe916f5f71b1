#!/usr/bin/env bash
# Create/refresh the project venv (.venv) from requirements.txt, the one file that pins
# every Python dependency. Re-runs are no-ops unless requirements.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
stamp="$VENV/.requirements.sha256"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/ansible" ]; then
    echo "venv: $VENV is up to date with requirements.txt"
    exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    echo "venv: installing python3-venv"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements.txt
echo "$want" > "$stamp"
# sed reads to the end: `head -n1` closed the pipe early, and ansible then failed with a BrokenPipeError
echo "venv: $VENV ready ($("$VENV/bin/ansible" --version | sed -n 1p))"
