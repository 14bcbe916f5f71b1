#!/usr/bin/env bash
# Run `molecule test -s SCENARIO` for each scenario given, MOLECULE_JOBS (default 1) at a time.
#   scripts/molecule.sh default modules ...        (make molecule [SCENARIOS=...] [MOLECULE_JOBS=2])
#   scripts/molecule.sh failover@forky:18           a scenario on another image: localhost/pgstream-pg:SUITE
#                                                   (built or reused first) with PostgreSQL MAJOR
# Each scenario has its own containers and podman network, so they can run side by side on a machine with
# cores to spare. On the 2-core machines here they cannot: `make test` used 41 min of CPU in 61 min with
# one scenario at a time, and with two each ran about 1.8x slower and the opengauss scenario timed out
# (its standby did not reconnect within the retries). Scenarios are taken from the list in its order by
# whichever lane is free (put the long ones first). Each one's output is kept in a file and printed whole
# when it ends, so outputs do not interleave. After a failure no new scenario is started; the run fails
# and names the failed scenarios. A scenario and its NAME@SUITE:MAJOR form use the same container names:
# with MOLECULE_JOBS=2 do not list both.
set -uo pipefail
jobs=${MOLECULE_JOBS:-1}
[ $# -gt 0 ] || { echo "molecule.sh: no scenario given" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "molecule.sh: MOLECULE_JOBS must be a positive number, not '$jobs'" >&2; exit 2; }
for s in "$@"; do
    [[ "$s" =~ ^[a-z0-9-]+(@[a-z]+:[0-9]+)?$ ]] ||
        { echo "molecule.sh: '$s' is not a scenario name or NAME@SUITE:MAJOR (for example failover@forky:18)" >&2; exit 2; }
    [ -d "molecule/${s%%@*}" ] || { echo "molecule.sh: no scenario molecule/${s%%@*}" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/pgstream-molecule.XXXXXX")
trap 'rm -rf "$work"' EXIT
printf '%s\n' "$@" >"$work/queue"
echo 0 >"$work/next"
: >"$work/failed"
started=$SECONDS

# The next scenario to run, or nothing when the queue is done or a scenario failed.
take() {
    (
        flock 9
        [ -s "$work/failed" ] && exit 0
        n=$(cat "$work/next")
        s=$(sed -n "$((n + 1))p" "$work/queue")
        [ -n "$s" ] && echo $((n + 1)) >"$work/next"
        echo "$s"
    ) 9>"$work/lock"
}

lane() {
    local s t rc
    while s=$(take) && [ -n "$s" ]; do
        t=$SECONDS
        log="$work/${s//[@:]/_}.log"
        if [[ "$s" == *@* ]]; then
            suite=${s#*@}; suite=${suite%%:*}
            ( SUITE=$suite scripts/build-image.sh &&
              PGSTREAM_IMAGE=localhost/pgstream-pg:$suite PGSTREAM_PG_MAJOR=${s##*:} molecule test -s "${s%%@*}" ) >"$log" 2>&1
        else
            molecule test -s "$s" >"$log" 2>&1
        fi
        rc=$?
        (
            flock 9
            echo "=== molecule test -s $s"
            cat "$log"
            echo "=== molecule test -s $s: rc=$rc in $((SECONDS - t)) s (lane $1, $((SECONDS - started)) s into the run)"
            [ "$rc" -eq 0 ] || echo "$s" >>"$work/failed"
        ) 9>"$work/lock"
    done
}

for i in $(seq 1 "$jobs"); do
    lane "$i" &
done
wait
# The failed tasks of a failed scenario, again at the very end: a CI page that shows only the head and the
# tail of a long log still shows what failed. Each with its play, its task and its next 6 lines (300
# characters each, and the "msg" of a longer one); failures that Ansible ignored (the next line is
# "...ignoring") are left out.
digest() {
    awk '
        function flush() { if (buf != "") print hdr "\n" buf; buf = ""; n = 0 }
        /^(fatal|failed): / || /FAILED!/ {
            flush(); hdr = "--- " play "\n--- " task; buf = substr($0, 1, 300); n = 6; first = 1
            if (length($0) > 300 && match($0, /"msg": "([^"\\]|\\.)*"/)) buf = buf "\n... " substr($0, RSTART, RLENGTH < 400 ? RLENGTH : 400)
            next
        }
        n > 0 && first && /^\.\.\.ignoring/ { buf = ""; n = 0; next }
        n > 0 { buf = buf "\n" substr($0, 1, 300); first = 0; if (--n == 0) flush() }
        /^PLAY \[/ { play = $0 }
        /^TASK \[/ { task = $0 }
        END { flush() }
    ' "$1" | tail -n 60
}
if [ -s "$work/failed" ]; then
    while read -r s; do
        echo "=== molecule.sh: failed tasks of $s"
        digest "$work/${s//[@:]/_}.log"
    done <"$work/failed"
    echo "molecule.sh: failed: $(tr '\n' ' ' <"$work/failed")(after $((SECONDS - started)) s)" >&2
    exit 1
fi
echo "molecule.sh: $# scenario(s) passed in $((SECONDS - started)) s, $jobs at a time"
