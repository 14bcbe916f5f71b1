# shellcheck shell=bash disable=SC2154  # root, RES, PY ... are set by bench/run.sh
# bench/pgstream.sh - the pgstream rig (sourced by bench/run.sh): three containers bench-pgs1..3 built
# with the collection's playbooks/site.yml, operated with playbooks/switchover.yml, failover.yml and
# rejoin.yml.
PGS_NODES=(bench-pgs1 bench-pgs2 bench-pgs3)
declare -A PGS_IP=([bench-pgs1]=$SUBNET_PREFIX.11 [bench-pgs2]=$SUBNET_PREFIX.12 [bench-pgs3]=$SUBNET_PREFIX.13)
PGS_INV="$RES/pgstream-inventory.yml"

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
        echo '    ansible_connection: containers.podman.podman'
        echo '    ansible_python_interpreter: /usr/bin/python3'
        echo '    pgstream_pg_major: 15'
        echo '  hosts:'
        for n in "${PGS_NODES[@]}"; do
            echo "    $n:"
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

pgs_setup() {
    local n
    remove_containers "${PGS_NODES[@]}"
    for n in "${PGS_NODES[@]}"; do start_container "$n" "${PGS_IP[$n]}"; done
    pgs_inventory bench-pgs1
    run_logged pgstream-site pgs_playbook site.yml
    [ "$LAST_RC" = 0 ] || die "site.yml failed (see $RES/pgstream-site.log)"
    record pgstream build_cluster wall_time_s "$LAST_S" "site.yml, 3 nodes, empty database"
    allow_probe_hba "${PGS_NODES[@]}"
    create_probe_role bench-pgs1
}

have_playbook() { [ -f "$root/playbooks/$1" ]; }
