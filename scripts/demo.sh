#!/usr/bin/env bash
# The demo cluster: a primary and two standbys in local podman containers (pgdemo1..3 on network
# pgstream-demo), built by the collection's own playbooks/site.yml, then its replication state.
#   scripts/demo.sh           build (or re-check) the cluster and print its state
#   scripts/demo.sh destroy   remove the containers and the network
# Run through `make demo`, which installs podman, the venv and the image first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
SUITE=${SUITE:-bookworm}
image="localhost/pgstream-pg:$SUITE"
net=pgstream-demo
nodes=(pgdemo1 pgdemo2 pgdemo3)
dir="$root/build/demo"

if [ "${1:-}" = destroy ]; then
    for n in "${nodes[@]}"; do podman rm -f -t 5 "$n" >/dev/null 2>&1 || true; done
    podman network rm "$net" >/dev/null 2>&1 || true
    echo "demo: removed ${nodes[*]} and network $net"
    exit 0
fi

# Each container has a fixed address (and a MAC address made from it), as a real host keeps its own across a
# reboot: pg_hba.conf names the members' addresses, so a node given a new one after `podman kill` + `podman start`
# could not replicate any more (rejoin.yml refused it: "no pg_hba.conf entry for replication connection").
subnet=${DEMO_SUBNET:-10.89.212}
if ! podman network exists "$net"; then
    podman network create --subnet "$subnet.0/24" "$net" >/dev/null
elif [ "$(podman network inspect "$net" --format '{{ range .Subnets }}{{ .Subnet }}{{ end }}')" != "$subnet.0/24" ]; then
    echo "demo: network $net exists with another subnet than $subnet.0/24 (an older demo): run ./run demo-destroy first" >&2
    exit 1
fi
i=11
for n in "${nodes[@]}"; do
    ip="$subnet.$i"; i=$((i + 1))
    if ! podman container exists "$n"; then
        IFS=. read -r -a o <<<"$ip"
        mac=$(printf '02:42:%02x:%02x:%02x:%02x' "${o[0]}" "${o[1]}" "${o[2]}" "${o[3]}")
        podman run -d --name "$n" --hostname "$n" --network "$net" --ip "$ip" --mac-address "$mac" --init "$image" \
            sleep infinity >/dev/null
        echo "demo: started container $n ($image, $ip)"
    elif [ "$(podman inspect -f '{{.State.Running}}' "$n")" != true ]; then
        podman start "$n" >/dev/null
    fi
done

mkdir -p "$dir"; chmod 0700 "$dir"
# The members reach each other by these addresses (pgstream_host), not by name: podman's DNS drops queries while it
# reloads, which it does whenever a container stops or starts (docs/operations.md, "A slow name lookup delays the
# promotion"). A failover after `podman kill` took 19.0 s with names (its follower check 6.5 s, probably a dropped
# query's 5 s resolver timeout) and 14.0 s with addresses (the check 1.5 s).
# A random replication password for this demo, kept in a 0600 file (never on a command line).
[ -s "$dir/secret.yml" ] || (umask 077; printf 'pgstream_replication_password: "%s"\n' "$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" > "$dir/secret.yml")
major=$(podman run --rm "$image" sh -c 'ls /usr/lib/postgresql' | sort -n | tail -n1)
cat > "$dir/inventory.yml" <<INV
---
demo:
  vars:
    ansible_connection: containers.podman.podman
    ansible_python_interpreter: /usr/bin/python3
    pgstream_pg_major: $major
  hosts:
    pgdemo1:
      pgstream_node_role: primary
      pgstream_host: $subnet.11
    pgdemo2:
      pgstream_node_role: standby
      pgstream_host: $subnet.12
    pgdemo3:
      pgstream_node_role: standby
      pgstream_host: $subnet.13
INV

echo "demo: ansible-playbook pgstream.replication.site (inventory $dir/inventory.yml)"
ansible-playbook -i "$dir/inventory.yml" -e "@$dir/secret.yml" -e pgstream_target=demo pgstream.replication.site

echo
echo "demo: replication state seen by the primary (pgdemo1, PostgreSQL $major):"
podman exec -u postgres pgdemo1 psql -X -c \
  "SELECT application_name AS standby, client_addr, state, sync_state, sent_lsn, replay_lsn,
          pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS lag_bytes
   FROM pg_stat_replication ORDER BY 1"
for n in pgdemo2 pgdemo3; do
    printf '%s: ' "$n"
    podman exec -u postgres "$n" psql -XAtq -c \
      "SELECT 'in_recovery=' || pg_is_in_recovery() || ' receiver=' || status || ' from ' || sender_host FROM pg_stat_wal_receiver"
done
echo "demo: connect with: podman exec -it -u postgres pgdemo1 psql    (remove with: make demo-destroy)"
