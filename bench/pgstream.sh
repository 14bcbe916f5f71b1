# shellcheck shell=bash disable=SC2154  # root, RES, PY ... are set by bench/run.sh
# bench/pgstream.sh - the pgstream rig (sourced by bench/run.sh): three containers bench-pgs1..3 built
# with the collection's playbooks/site.yml, operated with playbooks/switchover.yml, failover.yml and
# rejoin.yml.
PGS_NODES=(bench-pgs1 bench-pgs2 bench-pgs3)
declare -A PGS_IP=([bench-pgs1]=$SUBNET_PREFIX.11 [bench-pgs2]=$SUBNET_PREFIX.12 [bench-pgs3]=$SUBNET_PREFIX.13)
PGS_INV="$RES/pgstream-inventory.yml"
# Ansible's transport to the nodes. ssh (the default) is what a production inventory uses: OpenSSH with
# pipelining and ControlPersist, as root with a key made for this run, and a connect timeout of
# BENCH_SSH_TIMEOUT seconds (2, the connect_timeout of the repmgr rig's conninfo: the time either tool
# gives a dead primary to answer). podman is the containers.podman.podman connection of the Molecule
# scenarios: no pipelining, so every task costs about 1 s more on this machine.
PGS_CONNECTION=${BENCH_PGS_CONNECTION:-ssh}
PGS_SSH_TIMEOUT=${BENCH_SSH_TIMEOUT:-2}
PGS_KEY="$RES/pgstream-ssh-key"
case $PGS_CONNECTION in ssh | podman) ;; *) echo "bench: BENCH_PGS_CONNECTION must be ssh or podman" >&2; exit 1 ;; esac

pgs_probe_hosts() {
    local n out=""
    for n in "${PGS_NODES[@]}"; do out+="${out:+,}$n=${PGS_IP[$n]}"; done
    echo "$out"
}

pgs_primary() {
    local n
    for n in "${PGS_NODES[@]}"; do
        is_primary "$n" && { echo "$n"; return 0; }
    done
    return 1
}

# pgs_inventory PRIMARY: the inventory with PRIMARY as the primary and the others as its standbys
# (docs/inventory.md: the inventory describes the cluster as it runs).
pgs_inventory() {
    local p=$1 n
    {
        echo '---'
        echo 'bench_pgstream:'
        echo '  vars:'
        if [ "$PGS_CONNECTION" = ssh ]; then
            echo '    ansible_connection: ssh'
            echo '    ansible_user: root'
            echo "    ansible_ssh_private_key_file: $PGS_KEY"
            echo "    ansible_ssh_timeout: $PGS_SSH_TIMEOUT"
            echo '    ansible_ssh_pipelining: true'
            echo '    ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'
        else
            echo '    ansible_connection: containers.podman.podman'
        fi
        echo '    ansible_python_interpreter: /usr/bin/python3'
        echo "    pgstream_pg_major: $PGV"
        echo "    pgstream_wal_keep_size_mb: $WAL_KEEP_MB"
        echo '  hosts:'
        for n in "${PGS_NODES[@]}"; do
            echo "    $n:"
            [ "$PGS_CONNECTION" = ssh ] && echo "      ansible_host: ${PGS_IP[$n]}"
            if [ "$n" = "$p" ]; then echo '      pgstream_node_role: primary'; else echo '      pgstream_node_role: standby'; fi
        done
    } >"$PGS_INV"
}

pgs_playbook() {  # pgs_playbook PLAYBOOK ARGS...: a playbook of playbooks/ (or an absolute path)
    local pb=$1
    [[ $pb == /* ]] || pb="$root/playbooks/$pb"
    # profile_tasks: per-task timings in the log, to see where the time goes
    ANSIBLE_FORCE_COLOR=0 ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks \
        ansible-playbook -i "$PGS_INV" -e "@$RES/pgstream-secret.yml" "$pb" "${@:2}"
}

# pgs_start_sshd NODE: with the ssh transport, sshd runs in NODE and root accepts the run's key (again
# after a `podman start` of a killed node).
pgs_start_sshd() {
    [ "$PGS_CONNECTION" = ssh ] || return 0
    podman exec -i "$1" sh -c 'umask 077; mkdir -p /run/sshd /root/.ssh && cat > /root/.ssh/authorized_keys
        test -f /etc/ssh/ssh_host_ed25519_key || ssh-keygen -A >/dev/null
        pgrep -x sshd >/dev/null || /usr/sbin/sshd' <"$PGS_KEY.pub"
}

pgs_setup() {
    local n
    remove_containers "${PGS_NODES[@]}"
    [ "$PGS_CONNECTION" = ssh ] && { rm -f "$PGS_KEY" "$PGS_KEY.pub"; ssh-keygen -q -t ed25519 -N '' -C bench -f "$PGS_KEY"; }
    for n in "${PGS_NODES[@]}"; do start_container "$n" "${PGS_IP[$n]}"; pgs_start_sshd "$n"; done
    log "pgstream: Ansible connects over $PGS_CONNECTION"
    pgs_inventory bench-pgs1
    run_logged pgstream-site pgs_playbook site.yml
    [ "$LAST_RC" = 0 ] || die "site.yml failed (see $RES/pgstream-site.log)"
    record pgstream build_cluster wall_time_s "$LAST_S" "site.yml, 3 nodes, empty database, Ansible over $PGS_CONNECTION"
    allow_probe_hba "${PGS_NODES[@]}"
    create_probe_role bench-pgs1
}

have_playbook() { [ -f "$root/playbooks/$1" ]; }
