# shellcheck shell=bash disable=SC2154  # root, RES, PY ... are set by bench/run.sh
# bench/lib.sh - helpers shared by bench/run.sh, bench/pgstream.sh and bench/repmgr.sh (sourced).
# Expects: root (repository), RES (results directory), IMAGE, NET, SUBNET_PREFIX (e.g. 10.89.213),
# PY (the venv's python), PROBE_PW_FILE.

log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$RES/bench.log" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# record RIG OP METRIC VALUE [NOTE]: one figure, one JSON line in results.jsonl.
record() {
    "$PY" - "$RES/results.jsonl" "$@" <<'PYEOF'
import json, sys
path, rig, op, metric, value = sys.argv[1:6]
note = sys.argv[6] if len(sys.argv) > 6 else None
try:
    value = float(value) if '.' in value or 'e' in value else int(value)
except ValueError:
    pass
rec = {'rig': rig, 'op': op, 'metric': metric, 'value': value}
if note:
    rec['note'] = note
with open(path, 'a') as f:
    f.write(json.dumps(rec, sort_keys=True) + '\n')
PYEOF
    log "figure: $1 $2 $3 = $4${5:+ ($5)}"
}

# run_logged NAME CMD...: run CMD, output to $RES/NAME.log; LAST_RC / LAST_S hold its exit code and wall time.
run_logged() {
    local name=$1; shift
    local t0 t1
    t0=$(now)
    set +e
    "$@" >"$RES/$name.log" 2>&1
    LAST_RC=$?
    set -e
    t1=$(now)
    LAST_S=$(elapsed "$t0" "$t1")
    # shellcheck disable=SC2034  # read by bench/run.sh
    LAST_T0=$t0 LAST_T1=$t1
    log "$name: rc=$LAST_RC in ${LAST_S}s (log $RES/$name.log)"
}

# Containers ------------------------------------------------------------------------------------

ensure_network() {
    if ! podman network exists "$NET"; then
        podman network create --subnet "$SUBNET_PREFIX.0/24" "$NET" >/dev/null
        log "network $NET ($SUBNET_PREFIX.0/24)"
    fi
}

# start_container NAME IP: a fresh container (an old one of the same name is removed). Its MAC address is
# fixed (made from IP) so that, like a real host, it keeps it across `podman kill` + `podman start`:
# otherwise the others' ARP caches hold a stale address for seconds after the restart.
start_container() {
    local mac o
    IFS=. read -r -a o <<<"$2"
    mac=$(printf '02:42:%02x:%02x:%02x:%02x' "${o[0]}" "${o[1]}" "${o[2]}" "${o[3]}")
    podman rm -f -t 2 "$1" >/dev/null 2>&1 || true
    podman run -d --name "$1" --hostname "$1" --network "$NET" --ip "$2" --mac-address "$mac" --init \
        --shm-size 256m "$IMAGE" sleep infinity >/dev/null
}

remove_containers() {
    local c
    for c in "$@"; do podman rm -f -t 2 "$c" >/dev/null 2>&1 || true; done
}

# SQL through psql on stdin (passwords never on a command line), as postgres.
psql_on() {  # psql_on CONTAINER [DB] <<< SQL  -> unaligned tuples
    podman exec -i -u postgres "$1" psql -XAtq -v ON_ERROR_STOP=1 -d "${2:-postgres}" -f -
}

is_primary() {  # is_primary CONTAINER: 0 when it runs and is not in recovery
    [ "$(psql_on "$1" <<<'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]
}

# wait_caught_up PRIMARY N [TIMEOUT]: N standbys have replayed the primary's current WAL position.
wait_caught_up() {
    local p=$1 n=$2 timeout=${3:-600} lsn got i
    lsn=$(psql_on "$p" <<<'SELECT pg_current_wal_lsn()')
    for ((i = 0; i < timeout * 2; i++)); do
        got=$(psql_on "$p" <<<"SELECT count(*) FROM pg_stat_replication WHERE replay_lsn >= '$lsn'") || got=0
        [ "$got" -ge "$n" ] && return 0
        sleep 0.5
    done
    log "WARNING: $p: only $got of $n standbys replayed $lsn after ${timeout}s"
    return 1
}

checkpoint_all() {  # CHECKPOINT on every running node (a restartpoint on standbys)
    local c
    for c in "$@"; do psql_on "$c" <<<'CHECKPOINT' >/dev/null 2>&1 || true; done
}

# The probe role: connects from the host (the network's gateway address) to the cluster.
create_probe_role() {  # create_probe_role PRIMARY
    local pw
    pw=$(head -n1 "$PROBE_PW_FILE")
    psql_on "$1" <<SQL >/dev/null
SET synchronous_commit = local;
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_probe') THEN
    CREATE ROLE bench_probe LOGIN;
  END IF;
END \$\$;
ALTER ROLE bench_probe PASSWORD '$pw';
GRANT CREATE ON SCHEMA public TO bench_probe;
SQL
}

allow_probe_hba() {  # allow_probe_hba CONTAINER...: a pg_hba line for the probe from the host, then reload
    local c line="host all bench_probe $SUBNET_PREFIX.1/32 scram-sha-256"
    for c in "$@"; do
        podman exec "$c" sh -c "grep -qxF '$line' /etc/postgresql/$PGV/main/pg_hba.conf || echo '$line' >> /etc/postgresql/$PGV/main/pg_hba.conf"
        podman exec -u postgres "$c" psql -XAtq -c 'SELECT pg_reload_conf()' >/dev/null 2>&1 || true
    done
}

# Probe ----------------------------------------------------------------------------------------

# probe_start NAME HOSTS TABLE: the writer probe in the background ($RES/NAME.probe.jsonl).
probe_start() {
    PROBE_NAME=$1 PROBE_HOSTS=$2 PROBE_TABLE=$3
    rm -f "$RES/$PROBE_NAME.stop"
    "$PY" "$root/tests/tools/writer_probe.py" run --hosts "$PROBE_HOSTS" --user bench_probe \
        --password-file "$PROBE_PW_FILE" --table "$PROBE_TABLE" --interval "${BENCH_PROBE_INTERVAL:-0.01}" \
        --out "$RES/$PROBE_NAME.probe.jsonl" --stop-file "$RES/$PROBE_NAME.stop" \
        >"$RES/$PROBE_NAME.probe.log" 2>&1 &
    PROBE_PID=$!
    # let it reach a steady state before the operation
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q '"t_ack"' "$RES/$PROBE_NAME.probe.jsonl" 2>/dev/null && break
        sleep 0.1
    done
    sleep "${BENCH_SETTLE:-3}"
}

probe_stop() {
    sleep "${BENCH_SETTLE:-3}"
    touch "$RES/$PROBE_NAME.stop"
    local i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$PROBE_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$PROBE_PID" 2>/dev/null; then
        log "probe $PROBE_NAME did not stop within 30 s; terminating it"
        kill -TERM "$PROBE_PID" 2>/dev/null || true
        sleep 5
        kill -KILL "$PROBE_PID" 2>/dev/null || true
    fi
    wait "$PROBE_PID" 2>/dev/null || true
}

# probe_report RIG OP FROM TO: report of the last probe run, figures recorded.
probe_report() {
    local rig=$1 op=$2 from=$3 to=$4 out
    out="$RES/$PROBE_NAME.report.json"
    if ! "$PY" "$root/tests/tools/writer_probe.py" report --hosts "$PROBE_HOSTS" --user bench_probe \
        --password-file "$PROBE_PW_FILE" --table "$PROBE_TABLE" --out "$RES/$PROBE_NAME.probe.jsonl" \
        --from "$from" --to "$to" --json >"$RES/$PROBE_NAME.report.txt" 2>&1; then
        log "probe report for $rig $op failed: $(tail -n1 "$RES/$PROBE_NAME.report.txt")"
        return 0
    fi
    head -n1 "$RES/$PROBE_NAME.report.txt" | tee -a "$RES/bench.log" >&2
    tail -n1 "$RES/$PROBE_NAME.report.txt" >"$out"
    local unavail lost servers
    unavail=$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); v=r["operation_unavailability_s"]; print("" if v is None else v)' "$out")
    lost=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["lost_acked"])' "$out")
    servers=$("$PY" -c 'import json,sys; print(" -> ".join(map(str, json.load(open(sys.argv[1]))["servers"])))' "$out")
    [ -n "$unavail" ] && record "$rig" "$op" write_unavailability_s "$unavail" "servers $servers"
    record "$rig" "$op" lost_acked "$lost"
}
