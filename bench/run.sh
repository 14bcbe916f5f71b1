#!/usr/bin/env bash
# pgstream vs repmgr, side by side in one run (see bench/README.md). Not part of `make test`.
#   bench/run.sh            build/reuse the bench image, build both rigs, run every phase, print the table
#   bench/run.sh destroy    remove the bench containers and network
# Environment:
#   BENCH_SUITE=bookworm   Debian suite of the image (bookworm: PostgreSQL 15, trixie: 17, forky: 18)
#   BENCH_RIGS="pgstream repmgr"                 rigs to run
#   BENCH_PHASES="switchover failover rejoin"    phases to run (in this order; failover follows switchover's
#                                                result, rejoin rejoins the node failover killed)
#   BENCH_SCALE=70       pgbench scale of the database (70 = about 1 GB); 0 = no data
#   BENCH_WAL_KEEP_MB=1024   wal_keep_size of both rigs in MB (the collection's default, pgstream_wal_keep_size_mb);
#                            pg_rewind copies every WAL segment the source keeps, so it sets the rewind's cost
#   BENCH_KEEP=0         1 = keep the containers at the end
#   BENCH_SUBNET=10.89.213   /24 prefix of the bench network (containers get fixed addresses in it)
#   BENCH_PGS_CONNECTION=ssh   Ansible's transport for the pgstream rig: ssh (pipelining) or podman
#   BENCH_SSH_TIMEOUT=2  the ssh transport's connect timeout (s), as the repmgr rig's connect_timeout
#   BENCH_PROBE_INTERVAL=0.01  pause between the probe's commits (s); BENCH_SETTLE=3 probe lead-in/out (s)
# Results: bench/results/<timestamp>/ (results.jsonl, table.txt, every command's log, probe files).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
NET=bench-net
SUBNET_PREFIX=${BENCH_SUBNET:-10.89.213}
RIGS=${BENCH_RIGS:-pgstream repmgr}
PHASES=${BENCH_PHASES:-switchover failover rejoin}
SCALE=${BENCH_SCALE:-70}
WAL_KEEP_MB=${BENCH_WAL_KEEP_MB:-1024}
case $WAL_KEEP_MB in '' | *[!0-9]*) echo "bench: BENCH_WAL_KEEP_MB must be a number of MB" >&2; exit 1 ;; esac
PY="$root/.venv/bin/python"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/build/collections"

if [ "${1:-}" = destroy ]; then
    for c in bench-pgs1 bench-pgs2 bench-pgs3 bench-rep1 bench-rep2 bench-rep3; do
        podman rm -f -t 2 "$c" >/dev/null 2>&1 || true
    done
    podman network rm "$NET" >/dev/null 2>&1 || true
    echo "bench: removed the bench containers and network $NET"
    exit 0
fi

[ -x "$PY" ] || { echo "bench: no venv at $root/.venv (make venv)" >&2; exit 1; }
RES="$root/bench/results/$(date +%Y%m%dT%H%M%S)"
mkdir -p "$RES"; chmod 0700 "$RES"
: >"$RES/results.jsonl"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
has_rig() { [[ " $RIGS " == *" $1 "* ]]; }
has_phase() { [[ " $PHASES " == *" $1 "* ]]; }
log "results in $RES"
scripts/collection-path.sh >/dev/null
IMAGE=$(bench/build-image.sh 2>>"$RES/bench.log")
# The PostgreSQL major of the image (its only one).
PGV=$(podman run --rm "$IMAGE" ls /usr/lib/postgresql)
log "image $IMAGE (PostgreSQL $PGV)"
if has_rig repmgr && ! podman run --rm "$IMAGE" test -x "/usr/lib/postgresql/$PGV/bin/repmgr"; then
    echo "bench: the image has no repmgr for PostgreSQL $PGV (no package in its suite); run BENCH_RIGS=pgstream" >&2
    exit 2
fi
# shellcheck source=bench/pgstream.sh
. "$root/bench/pgstream.sh"
# shellcheck source=bench/repmgr.sh
. "$root/bench/repmgr.sh"


# Secrets for this run, in 0600 files (never on a command line).
(
    umask 077
    rnd() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }
    rnd >"$RES/probe.pw"
    rnd >"$RES/repmgr.pw"
    printf 'pgstream_replication_password: "%s"\n' "$(rnd)" >"$RES/pgstream-secret.yml"
)
PROBE_PW_FILE="$RES/probe.pw"

ensure_network
{
    echo "image: $IMAGE (PostgreSQL $PGV)"
    echo "rigs: $RIGS"
    echo "phases: $PHASES"
    echo "scale: $SCALE"
    echo "wal_keep_size: ${WAL_KEEP_MB} MB (both rigs)"
    echo "pgstream Ansible connection: $PGS_CONNECTION$([ "$PGS_CONNECTION" = ssh ] && echo " (pipelining, connect timeout ${PGS_SSH_TIMEOUT}s)")"
    echo "git: $(git rev-parse --short HEAD)"
    echo "host: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB"
} >"$RES/conditions.txt"

finish() {
    local rc=$?
    if [ -s "$RES/results.jsonl" ]; then
        "$PY" "$root/bench/table.py" "$RES/results.jsonl" >"$RES/table.txt" || true
        echo
        cat "$RES/table.txt"
        echo
        echo "bench: raw results in $RES"
    fi
    if [ "${BENCH_KEEP:-0}" != 1 ]; then
        remove_containers "${PGS_NODES[@]}" "${REP_NODES[@]}"
        podman network rm "$NET" >/dev/null 2>&1 || true
    fi
    exit $rc
}
trap finish EXIT

PGS_OK=0
if has_rig pgstream; then
    if have_playbook site.yml; then
        pgs_setup
        PGS_OK=1
    else
        log "pgstream rig skipped: no playbooks/site.yml"
    fi
fi
if has_rig repmgr; then
    run_logged repmgr-setup-all rep_setup
    [ "$LAST_RC" = 0 ] || die "repmgr setup failed (see $RES/repmgr-setup.log, $RES/repmgr-setup-all.log)"
    record repmgr build_cluster wall_time_s "$LAST_S" "primary register, 2x standby clone + register, empty database"
fi

# Load the same database on both primaries (pgbench -i), then let every standby catch up.
load() {  # load RIG PRIMARY
    [ "$SCALE" -gt 0 ] || return 0
    local t0 t1
    t0=$(now)
    podman exec -u postgres "$2" pgbench -i -q -s "$SCALE" postgres >"$RES/$1-load.log" 2>&1 || die "$1: pgbench -i failed"
    wait_caught_up "$2" 2 900 || die "$1: the standbys did not catch up after the load"
    t1=$(now)
    record "$1" load wall_time_s "$(elapsed "$t0" "$t1")" "pgbench -i -s $SCALE, $(psql_on "$2" <<<"SELECT pg_size_pretty(pg_database_size('postgres'))")"
}
[ "$PGS_OK" = 1 ] && load pgstream bench-pgs1
has_rig repmgr && load repmgr bench-rep1

# ---------------------------------------------------------------------------------------------
# Switchover: the writer probe runs; the primary hands over to the standby node 2.
# ---------------------------------------------------------------------------------------------
switchover_pgstream() {
    have_playbook switchover.yml || { log "pgstream switchover skipped: no playbooks/switchover.yml"; return 0; }
    local p target=bench-pgs2
    p=$(pgs_primary) || die "pgstream: no primary"
    pgs_inventory "$p"
    checkpoint_all "${PGS_NODES[@]}"
    probe_start pgstream-switchover "$(pgs_probe_hosts)" probe_switchover
    run_logged pgstream-switchover pgs_playbook switchover.yml -e "target=$target"
    probe_stop
    record pgstream switchover wall_time_s "$LAST_S" "ansible-playbook switchover.yml -e target=$target, rc=$LAST_RC"
    probe_report pgstream switchover "$LAST_T0" "$LAST_T1"
    [ "$LAST_RC" = 0 ] || { log "pgstream switchover failed"; return 0; }
    is_primary "$target" || log "pgstream: $target is not the primary after switchover.yml"
    wait_caught_up "$target" 2 120 || true
}

switchover_repmgr() {
    local target=bench-rep2
    checkpoint_all "${REP_NODES[@]}"
    probe_start repmgr-switchover "$(rep_probe_hosts)" probe_switchover
    run_logged repmgr-switchover rep_switchover "$target"
    probe_stop
    record repmgr switchover wall_time_s "$LAST_S" "repmgr standby switchover --siblings-follow on $target, rc=$LAST_RC"
    probe_report repmgr switchover "$LAST_T0" "$LAST_T1"
    [ "$LAST_RC" = 0 ] || { log "repmgr switchover failed"; return 0; }
    wait_caught_up "$target" 2 120 || true
}

if has_phase switchover; then
    [ "$PGS_OK" = 1 ] && switchover_pgstream
    has_rig repmgr && switchover_repmgr
fi

# ---------------------------------------------------------------------------------------------
# Failover: the probe runs, the primary's container is killed, a standby is promoted and the other
# follows it. Measured from the kill.
# ---------------------------------------------------------------------------------------------
FO_PGS_DEAD="" FO_REP_DEAD=""
failover_pgstream() {
    have_playbook failover.yml || { log "pgstream failover skipped: no playbooks/failover.yml"; return 0; }
    local p t_kill
    p=$(pgs_primary) || die "pgstream: no primary"
    pgs_inventory "$p"
    checkpoint_all "${PGS_NODES[@]}"
    probe_start pgstream-failover "$(pgs_probe_hosts)" probe_failover
    t_kill=$(now)
    podman kill "$p" >/dev/null
    FO_PGS_DEAD=$p
    # The dead node cannot be reached: -e fenced=<it> is the operator's statement that it is down.
    # failover.yml picks the standby with the most WAL and repoints the other one.
    run_logged pgstream-failover pgs_playbook failover.yml -e "fenced=$p"
    probe_stop
    record pgstream failover wall_time_s "$LAST_S" "ansible-playbook failover.yml -e fenced=$p after podman kill $p, rc=$LAST_RC"
    probe_report pgstream failover "$t_kill" "$LAST_T1"
    FO_PGS_NEW=$(pgs_primary) || { log "pgstream: no primary after failover.yml"; FO_PGS_DEAD=""; return 0; }
    log "pgstream: $FO_PGS_NEW is the primary after failover.yml"
}

failover_repmgr() {
    local p new sibling t_kill
    p=$(rep_primary) || die "repmgr: no primary"
    for new in "${REP_NODES[@]}"; do [ "$new" != "$p" ] && break; done
    for sibling in "${REP_NODES[@]}"; do [ "$sibling" != "$p" ] && [ "$sibling" != "$new" ] && break; done
    checkpoint_all "${REP_NODES[@]}"
    probe_start repmgr-failover "$(rep_probe_hosts)" probe_failover
    t_kill=$(now)
    podman kill "$p" >/dev/null
    FO_REP_DEAD=$p
    run_logged repmgr-failover rep_failover "$new" "$sibling"
    probe_stop
    record repmgr failover wall_time_s "$LAST_S" "repmgr standby promote on $new + standby follow on $sibling after podman kill $p, rc=$LAST_RC"
    probe_report repmgr failover "$t_kill" "$LAST_T1"
    FO_REP_NEW=$new
}

if has_phase failover; then
    [ "$PGS_OK" = 1 ] && failover_pgstream
    has_rig repmgr && failover_repmgr
fi

# ---------------------------------------------------------------------------------------------
# Rejoin: the killed old primary comes back as a primary (split brain), takes a few writes, is stopped
# cleanly; then it is rejoined with pg_rewind, and re-cloned for comparison.
# ---------------------------------------------------------------------------------------------
diverge_writes() {  # diverge_writes NODE: 300 pgbench transactions (with BENCH_SCALE=0, 300 one-row commits)
    if [ "$SCALE" -gt 0 ]; then
        podman exec -u postgres "$1" pgbench -n -t 300 -c 1 postgres >>"$RES/diverge.log" 2>&1
    else
        printf 'INSERT INTO bench_diverge_writes VALUES (1);\n' >"$RES/diverge.sql"
        psql_on "$1" <<<'CREATE TABLE IF NOT EXISTS bench_diverge_writes (i int)' >/dev/null
        podman exec -i -u postgres "$1" sh -c 'cat > /tmp/diverge.sql' <"$RES/diverge.sql"
        podman exec -u postgres "$1" pgbench -n -t 300 -c 1 -f /tmp/diverge.sql postgres >>"$RES/diverge.log" 2>&1
    fi
}

diverge() {  # diverge OLD NEW: a few writes on both sides of the split, then OLD stopped cleanly
    podman start "$1" >/dev/null
    podman exec "$1" pg_ctlcluster "$PGV" main start >/dev/null 2>&1 || true
    is_primary "$1" || die "$1 did not come back as a primary"
    diverge_writes "$1"
    psql_on "$1" <<<'CREATE TABLE bench_diverged AS SELECT generate_series(1, 1000) AS i' >/dev/null
    diverge_writes "$2"
    podman exec "$1" pg_ctlcluster "$PGV" main stop -m fast
    log "$1 diverged from $2 (300 pgbench transactions and a table on each side of the split)"
}

rejoin_pgstream() {
    have_playbook rejoin.yml || { log "pgstream rejoin skipped: no playbooks/rejoin.yml"; return 0; }
    [ -n "$FO_PGS_DEAD" ] || { log "pgstream rejoin skipped: no failover ran"; return 0; }
    local old=$FO_PGS_DEAD new=$FO_PGS_NEW
    diverge "$old" "$new"
    pgs_start_sshd "$old"
    pgs_inventory "$new"
    checkpoint_all "$new"
    run_logged pgstream-rejoin-rewind pgs_playbook rejoin.yml -e "node=$old"
    record pgstream rejoin_rewind wall_time_s "$LAST_S" "ansible-playbook rejoin.yml -e node=$old, rc=$LAST_RC"
    [ "$LAST_RC" = 0 ] || return 0
    wait_caught_up "$new" 2 300 || true
    # rejoin.yml re-clones only when a rewind is impossible: bench/reclone.yml runs that same path
    # (tasks/follow.yml's basebackup with force) on the node just rejoined.
    checkpoint_all "$new"
    run_logged pgstream-rejoin-reclone pgs_playbook "$root/bench/reclone.yml" -e "node=$old"
    record pgstream rejoin_reclone wall_time_s "$LAST_S" "bench/reclone.yml -e node=$old (discover, stop, basebackup force, start, streaming), rc=$LAST_RC"
}

rejoin_repmgr() {
    [ -n "$FO_REP_DEAD" ] || { log "repmgr rejoin skipped: no failover ran"; return 0; }
    local old=$FO_REP_DEAD new=$FO_REP_NEW
    diverge "$old" "$new"
    rep_start_sshd "$old"
    checkpoint_all "$new"
    run_logged repmgr-rejoin-rewind rep_rejoin "$old" "$new"
    record repmgr rejoin_rewind wall_time_s "$LAST_S" "repmgr node rejoin --force-rewind on $old, rc=$LAST_RC"
    [ "$LAST_RC" = 0 ] || return 0
    wait_caught_up "$new" 2 300 || true
    checkpoint_all "$new"
    run_logged repmgr-rejoin-reclone rep_reclone "$old" "$new"
    record repmgr rejoin_reclone wall_time_s "$LAST_S" "repmgr standby clone --force + start + standby register on $old, rc=$LAST_RC"
}

if has_phase rejoin; then
    [ "$PGS_OK" = 1 ] && rejoin_pgstream
    has_rig repmgr && rejoin_repmgr
fi
log "done"
