# shellcheck shell=bash
# bench/repmgr.sh - the repmgr rig (sourced by bench/run.sh): three containers bench-rep1..3 set up as
# repmgr's documentation describes (repmgr.conf per node, primary register, standby clone, standby
# register, SSH keys for postgres), without repmgrd: every switchover/failover step is run by hand.
REP_NODES=(bench-rep1 bench-rep2 bench-rep3)
declare -A REP_IP=([bench-rep1]=$SUBNET_PREFIX.21 [bench-rep2]=$SUBNET_PREFIX.22 [bench-rep3]=$SUBNET_PREFIX.23)
declare -A REP_ID=([bench-rep1]=1 [bench-rep2]=2 [bench-rep3]=3)
REP_PGDATA=/var/lib/postgresql/$PGV/main
REP_CONF=/etc/postgresql/$PGV/main

rep_probe_hosts() {
    local n out=""
    for n in "${REP_NODES[@]}"; do out+="${out:+,}$n=${REP_IP[$n]}"; done
    echo "$out"
}

rep_exec() {  # rep_exec NODE CMD...: as postgres
    podman exec -u postgres "$@"
}

rep_repmgr() {  # rep_repmgr NODE ARGS...: repmgr as postgres with the node's config
    local n=$1; shift
    podman exec -u postgres "$n" repmgr -f /etc/repmgr.conf "$@"
}

rep_start_sshd() {
    podman exec "$1" sh -c 'mkdir -p /run/sshd && (pgrep -x sshd >/dev/null || /usr/sbin/sshd)'
}

rep_primary() {  # the node that runs as a primary now (first found)
    local n
    for n in "${REP_NODES[@]}"; do
        is_primary "$n" && { echo "$n"; return 0; }
    done
    return 1
}

rep_setup() {
    local n pw p=bench-rep1
    pw=$(head -n1 "$RES/repmgr.pw")
    remove_containers "${REP_NODES[@]}"
    for n in "${REP_NODES[@]}"; do start_container "$n" "${REP_IP[$n]}"; done

    # SSH between the nodes as postgres (repmgr runs its remote steps through ssh): one key pair.
    podman exec -u postgres "$p" sh -c 'mkdir -p -m 700 ~/.ssh && rm -f ~/.ssh/id_ed25519* && ssh-keygen -q -t ed25519 -N "" -f ~/.ssh/id_ed25519'
    local key pub
    key=$(podman exec -u postgres "$p" cat /var/lib/postgresql/.ssh/id_ed25519)
    pub=$(podman exec -u postgres "$p" cat /var/lib/postgresql/.ssh/id_ed25519.pub)
    for n in "${REP_NODES[@]}"; do
        podman exec "$n" ssh-keygen -A >/dev/null
        rep_start_sshd "$n"
        printf '%s\n' "$key" | podman exec -i -u postgres "$n" sh -c 'umask 077; mkdir -p ~/.ssh; cat > ~/.ssh/id_ed25519'
        printf '%s\n' "$pub" | podman exec -i -u postgres "$n" sh -c 'umask 077; cat > ~/.ssh/authorized_keys; cp ~/.ssh/authorized_keys ~/.ssh/id_ed25519.pub'
        printf 'Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n' \
            | podman exec -i -u postgres "$n" sh -c 'umask 077; cat > ~/.ssh/config'
        # repmgr's password, for libpq (normal and replication connections)
        printf '*:*:*:repmgr:%s\n' "$pw" | podman exec -i -u postgres "$n" sh -c 'umask 077; cat > ~/.pgpass'
        # a cluster in Debian's layout: configuration in /etc, data in /var/lib
        podman exec "$n" pg_createcluster "$PGV" main >/dev/null
        podman exec -i "$n" sh -c "cat > $REP_CONF/conf.d/bench-repmgr.conf" <<EOF
listen_addresses = '*'
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = ${WAL_KEEP_MB}MB
wal_log_hints = on
hot_standby = on
EOF
        podman exec -i "$n" sh -c "cat >> $REP_CONF/pg_hba.conf" <<EOF
host    replication    repmgr    $SUBNET_PREFIX.0/24    scram-sha-256
host    repmgr         repmgr    $SUBNET_PREFIX.0/24    scram-sha-256
EOF
        podman exec -i "$n" sh -c 'cat > /etc/repmgr.conf && chown postgres: /etc/repmgr.conf' <<EOF
node_id=${REP_ID[$n]}
node_name='$n'
conninfo='host=${REP_IP[$n]} user=repmgr dbname=repmgr connect_timeout=2'
data_directory='$REP_PGDATA'
config_directory='$REP_CONF'
pg_bindir='/usr/lib/postgresql/$PGV/bin'
use_replication_slots=yes
log_level=INFO
ssh_options='-q -o ConnectTimeout=10'
service_start_command='/usr/bin/pg_ctlcluster $PGV main start'
service_stop_command='/usr/bin/pg_ctlcluster $PGV main stop -m fast'
service_restart_command='/usr/bin/pg_ctlcluster $PGV main restart -m fast'
service_reload_command='/usr/bin/pg_ctlcluster $PGV main reload'
service_promote_command='/usr/bin/pg_ctlcluster $PGV main promote'
EOF
    done
    allow_probe_hba "${REP_NODES[@]}"

    # primary
    podman exec "$p" pg_ctlcluster "$PGV" main start
    psql_on "$p" <<SQL >/dev/null
CREATE ROLE repmgr LOGIN SUPERUSER PASSWORD '$pw';
CREATE DATABASE repmgr OWNER repmgr;
SQL
    create_probe_role "$p"
    rep_repmgr "$p" primary register >>"$RES/repmgr-setup.log" 2>&1

    # standbys: clone, start, register
    for n in bench-rep2 bench-rep3; do
        podman exec "$n" pg_ctlcluster "$PGV" main stop >/dev/null 2>&1 || true
        podman exec "$n" rm -rf "$REP_PGDATA"
        rep_repmgr "$n" -h "${REP_IP[$p]}" -U repmgr -d repmgr standby clone --fast-checkpoint >>"$RES/repmgr-setup.log" 2>&1
        podman exec "$n" pg_ctlcluster "$PGV" main start
        rep_repmgr "$n" standby register --wait-sync=60 >>"$RES/repmgr-setup.log" 2>&1
    done
    rep_repmgr "$p" cluster show >>"$RES/repmgr-setup.log" 2>&1
}

rep_switchover() {  # rep_switchover TARGET
    rep_repmgr "$1" standby switchover --siblings-follow --verbose
}

# Failover by hand (repmgr without repmgrd): promote one standby, make the other follow it.
rep_failover() {  # rep_failover NEW_PRIMARY SIBLING
    rep_repmgr "$1" standby promote --verbose && rep_repmgr "$2" standby follow --upstream-node-id="${REP_ID[$1]}" --verbose
}

rep_rejoin() {  # rep_rejoin NODE PRIMARY: pg_rewind through repmgr node rejoin (the node is stopped)
    rep_repmgr "$1" node rejoin -d "host=${REP_IP[$2]} user=repmgr dbname=repmgr connect_timeout=2" \
        --force-rewind --verbose
}

rep_reclone() {  # rep_reclone NODE PRIMARY: a full re-clone with repmgr standby clone --force
    podman exec "$1" pg_ctlcluster "$PGV" main stop -m fast >/dev/null 2>&1 || true
    rep_repmgr "$1" -h "${REP_IP[$2]}" -U repmgr -d repmgr standby clone --force --fast-checkpoint --verbose \
        && podman exec "$1" pg_ctlcluster "$PGV" main start \
        && rep_repmgr "$1" standby register --force --wait-sync=120
}
