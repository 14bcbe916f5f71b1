#!/usr/bin/env bash
# End-to-end check of the gs_ctl test double against real PostgreSQL, the openGauss way:
# two podman containers (pgs-gsdouble-pg1, pgs-gsdouble-pg2) on their own network pgstream-gsdouble,
#   1. initdb on both, replconninfo1 (pg1: "#gs_double:" lines in postgresql.conf; pg2: gs_double.conf)
#   2. pg1: gs_ctl start -M primary; pg2: gs_ctl start -M standby (Need repair) + gs_ctl build -b full
#   3. gs_ctl switchover on pg2 (pg2 primary, pg1 its standby)
#   4. podman kill pg2; gs_ctl failover on pg1
#   5. pg2 back: gs_ctl start -M standby (forked: never Normal in 200 reads while its walreceiver
#      retries every 20 ms) + gs_ctl build -b incremental
# Every `gs_ctl query` is parsed with plugins/module_utils/gs_ctl_query.py parse_query() and
# asserted (role, db_state, detail, senders, receiver, no parser warnings). Exits non-zero on any
# unexpected state. Containers and network are removed on exit.
#   IMAGE=localhost/pgstream-pg:bookworm  SUBNET=10.89.77.0/24  KEEP=1 (keep containers)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
IMAGE=${IMAGE:-localhost/pgstream-pg:bookworm}
NET=pgstream-gsdouble
SUBNET=${SUBNET:-10.89.77.0/24}
prefix=${SUBNET%.*}
IP1=$prefix.11
IP2=$prefix.12
C1=pgs-gsdouble-pg1
C2=pgs-gsdouble-pg2
DATA=/var/lib/postgresql/og/data
GS=/usr/local/bin/gs_ctl
PY=${PYTHON:-python3}

cleanup() {
    local rc=$1
    if [ "${KEEP:-0}" != 1 ]; then
        podman rm -f -t 0 "$C1" "$C2" >/dev/null 2>&1 || true
        podman network rm -f "$NET" >/dev/null 2>&1 || true
    fi
    if [ "$rc" -eq 0 ]; then echo "smoke: PASS"; else echo "smoke: FAIL (rc=$rc)"; fi
}
trap 'cleanup $?' EXIT

step() { printf '\n=== %s\n' "$*"; }
fail() { echo "smoke: UNEXPECTED: $*" >&2; exit 1; }

# gs_ctl in container $1 as postgres; prints its output, stores rc in $RC and output in $OUT
gs() {
    local c=$1; shift
    echo "+ [$c] gs_ctl $*"
    set +e
    OUT=$(podman exec -u postgres "$c" "$GS" "$@" 2>"$tmp/stderr")
    RC=$?
    set -e
    printf '%s\n' "$OUT"
    echo "(rc=$RC)"
    if [ -s "$tmp/stderr" ]; then echo "stderr:"; cat "$tmp/stderr"; fail "gs_ctl wrote to stderr"; fi
}
expect_rc() { [ "$RC" -eq "$1" ] || fail "rc $RC, expected $1"; }
expect_out() { grep -qF -- "$1" <<<"$OUT" || fail "output lacks: $1"; }
sql() { podman exec -u postgres "$1" psql -XAtq -d postgres -c "$2"; }

# check_query CONTAINER ROLE DB_STATE DETAIL SENDERS RECEIVER(yes|no): parse with parse_query()
check_query() {
    gs "$1" query -D "$DATA"
    expect_rc 0
    printf '%s' "$OUT" | "$PY" "$tmp/check.py" "$2" "$3" "$4" "$5" "$6" || fail "query on $1"
}

# wait_query CONTAINER ROLE DB_STATE DETAIL SENDERS RECEIVER: poll (quietly) up to 60 s, then check
wait_query() {
    local _
    for _ in $(seq 1 60); do
        if podman exec -u postgres "$1" "$GS" query -D "$DATA" 2>/dev/null \
            | "$PY" "$tmp/check.py" "$2" "$3" "$4" "$5" "$6" >/dev/null 2>&1; then
            break
        fi
        sleep 1
    done
    check_query "$@"
}

tmp=$(mktemp -d)
trap 'rc=$?; rm -rf "$tmp"; cleanup $rc' EXIT
cat >"$tmp/check.py" <<PY
import importlib.util, sys
spec = importlib.util.spec_from_file_location("gs_ctl_query", "$root/plugins/module_utils/gs_ctl_query.py")
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
role, db_state, detail, senders, receiver = sys.argv[1:6]
parsed = mod.parse_query(sys.stdin.read())
ha = parsed["ha_state"] or {}
problems = list(parsed["warnings"]) + ["unparsed: %r" % u for u in parsed["unparsed"]]
got = (ha.get("local_role"), ha.get("db_state"), ha.get("detail_information"),
       str(len(parsed["senders"])), "yes" if parsed["receiver"] else "no")
want = (role, db_state, detail, senders, receiver)
if got != want:
    problems.append("got %s, want %s" % (got, want))
for row in parsed["senders"]:
    if mod.parse_channel(row.get("channel")) is None:
        problems.append("sender channel %r" % row.get("channel"))
if parsed["receiver"] and mod.parse_channel(parsed["receiver"].get("channel")) is None:
    problems.append("receiver channel %r" % parsed["receiver"].get("channel"))
print("check: role=%s db_state=%s detail=%s senders=%s receiver=%s -> %s" % (got + ("OK" if not problems else problems,)))
sys.exit(1 if problems else 0)
PY

step "containers $C1 ($IP1) and $C2 ($IP2) on $NET ($SUBNET)"
podman rm -f -t 0 "$C1" "$C2" >/dev/null 2>&1 || true
podman network rm -f "$NET" >/dev/null 2>&1 || true
podman network create --subnet "$SUBNET" "$NET" >/dev/null
podman run -d --name "$C1" --hostname "$C1" --network "$NET" --ip "$IP1" --init "$IMAGE" sleep infinity >/dev/null
podman run -d --name "$C2" --hostname "$C2" --network "$NET" --ip "$IP2" --init "$IMAGE" sleep infinity >/dev/null
for c in "$C1" "$C2"; do
    set -- "$c"
    podman cp "$here/gs_ctl" "$1:$GS"
    podman exec "$1" chmod 755 "$GS"
    podman exec -u postgres "$1" sh -c "mkdir -p $DATA && /usr/lib/postgresql/15/bin/initdb -D $DATA -A trust >/dev/null"
    podman exec -u postgres "$1" sh -c "cat >>$DATA/postgresql.conf <<EOF
listen_addresses = '*'
port = 5432
wal_level = replica
hot_standby = on
wal_log_hints = on
wal_keep_size = '256MB'
wal_receiver_timeout = '10s'
EOF
cat >>$DATA/pg_hba.conf <<EOF
host all all $SUBNET trust
host replication all $SUBNET trust
EOF"
done
# pg1: openGauss settings as marked comments in postgresql.conf; pg2: in gs_double.conf
podman exec -u postgres "$C1" sh -c "cat >>$DATA/postgresql.conf <<EOF
#gs_double: pgxc_node_name = 'dn_6001'
#gs_double: replconninfo1 = 'localhost=$IP1 localport=5433 localservice=5434 remotehost=$IP2 remoteport=5433 remoteservice=5434'
EOF"
podman exec -u postgres "$C2" sh -c "cat >$DATA/gs_double.conf <<EOF
pgxc_node_name = 'dn_6002'
replconninfo1 = 'localhost=$IP2 localport=5433 localservice=5434 remotehost=$IP1 remoteport=5433 remoteservice=5434'
EOF"

step "bad usage: stop -m smart, query without server, build on a primary"
gs "$C1" stop -D "$DATA" -m smart; expect_rc 1; expect_out 'unrecognized shutdown mode "smart"'
gs "$C1" query -D "$DATA"; expect_rc 1; expect_out 'Is server running?'

step "pg1: start -M primary"
gs "$C1" start -D "$DATA" -M primary; expect_rc 0; expect_out 'server started'
gs "$C1" start -D "$DATA" -M primary; expect_rc 0; expect_out 'another server might be running'
check_query "$C1" Primary Normal Normal 0 no
gs "$C1" build -D "$DATA" -b full; expect_rc 1; expect_out 'The local server run as Primary,build cannot be executed.'
sql "$C1" "CREATE TABLE smoke(id int); INSERT INTO smoke VALUES (1);"

step "pg2: start -M standby before any build (other system id)"
gs "$C2" start -D "$DATA" -M standby; expect_rc 0
check_query "$C2" Standby "Need repair" "Connecting..." 0 no

step "pg2: build -b full -M standby"
gs "$C2" build -D "$DATA" -b full -M standby; expect_rc 0
expect_out 'full build build completed'; expect_out 'server started'
podman exec -u postgres "$C2" grep -q "^replconninfo1" "$DATA/gs_double.conf" || fail "gs_double.conf lost by build"
podman exec -u postgres "$C2" test -f "$DATA/pg_hba.conf.old" || fail "no pg_hba.conf.old"
wait_query "$C2" Standby Normal Normal 0 yes
wait_query "$C1" Primary Normal Normal 1 no
[ "$(sql "$C2" 'SELECT count(*) FROM smoke')" = 1 ] || fail "table not replicated"

step "pg2: switchover (pg2 becomes primary, pg1 its standby)"
gs "$C2" switchover -D "$DATA"; expect_rc 0; expect_out 'switchover completed'
check_query "$C2" Primary Normal Normal "$(sql "$C2" 'SELECT count(*) FROM pg_stat_replication')" no
wait_query "$C1" Standby Normal Normal 0 yes
wait_query "$C2" Primary Normal Normal 1 no
sql "$C2" "INSERT INTO smoke VALUES (2);"
sleep 2
[ "$(sql "$C1" 'SELECT count(*) FROM smoke')" = 2 ] || fail "write on new primary not replicated"
gs "$C2" switchover -D "$DATA"; expect_rc 0; expect_out 'switchover completed'   # already primary

step "diverge: pause pg1's walreceiver, write on pg2, podman kill $C2 (the primary); failover on pg1"
rcv=$(sql "$C1" 'SELECT pid FROM pg_stat_wal_receiver')
[ -n "$rcv" ] || fail "no walreceiver on pg1"
podman exec -u postgres "$C1" kill -STOP "$rcv"
sql "$C2" "INSERT INTO smoke VALUES (99); SELECT pg_switch_wal();" >/dev/null
podman kill "$C2" >/dev/null
podman exec -u postgres "$C1" kill -CONT "$rcv"
gs "$C1" failover -D "$DATA"; expect_rc 0; expect_out 'failover completed'
check_query "$C1" Primary Normal Normal 0 no
sql "$C1" "INSERT INTO smoke VALUES (3); SELECT pg_switch_wal();" >/dev/null
gs "$C1" failover -D "$DATA"; expect_rc 0; expect_out 'failover completed'       # already primary

step "pg2 rejoins: start -M standby, build -b incremental"
podman start "$C2" >/dev/null
gs "$C2" start -D "$DATA" -M standby; expect_rc 0
sleep 3
check_query "$C2" Standby "Need repair" "Connecting..." 0 no
# Its walreceiver connects, is refused (forked timeline) and exits, again and again; with a 20 ms retry
# interval it does so many times a second. PostgreSQL calls it 'streaming' while it is connected; openGauss
# never calls such a standby Normal, and neither may the double, whenever it is asked.
sql "$C2" "ALTER SYSTEM SET wal_retrieve_retry_interval = '20ms'" >/dev/null
sql "$C2" "SELECT pg_reload_conf()" >/dev/null
sleep 1
states=$(podman exec -u postgres "$C2" sh -c "for i in \$(seq 1 200); do $GS query -D $DATA 2>/dev/null | sed -n 's/^[[:space:]]*db_state[[:space:]]*: //p'; done" | tr ' ' '_')
echo "db_state of the forked standby in 200 reads: $(sort <<<"$states" | uniq -c | tr -s ' \n' ' ')"
[ "$(grep -c . <<<"$states")" -eq 200 ] || fail "gs_ctl query printed no db_state in some of the 200 reads"
grep -q Normal <<<"$states" && fail "the forked standby was shown as Normal"
sql "$C2" "ALTER SYSTEM RESET wal_retrieve_retry_interval" >/dev/null
sql "$C2" "SELECT pg_reload_conf()" >/dev/null
gs "$C2" build -D "$DATA" -b incremental; expect_rc 0; expect_out 'server started'
expect_out '[gs_rewind]: '
wait_query "$C2" Standby Normal Normal 0 yes
wait_query "$C1" Primary Normal Normal 1 no
sleep 1
[ "$(sql "$C2" "SELECT string_agg(id::text, ',' ORDER BY id) FROM smoke")" = "1,2,3" ] || fail "pg2 not rewound to pg1's history"

step "stop both"
gs "$C2" stop -D "$DATA"; expect_rc 0; expect_out 'server stopped'
gs "$C1" stop -D "$DATA" -m immediate; expect_rc 0
gs "$C1" status -D "$DATA"; expect_rc 3; expect_out 'no server running'
