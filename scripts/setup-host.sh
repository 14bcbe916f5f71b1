#!/usr/bin/env bash
# Host setup for the container test/demo hosts (idempotent, safe on a workstation):
#  - installs podman, runc, debootstrap (and friends) when missing (Debian/Ubuntu, as root), and iptables:
#    podman's network backend (netavark) runs it for every container on a network, `podman build` included,
#    and Debian's podman/netavark packages do not pull it in;
#  - checks that podman can run a container; only if it cannot, and only when there is no
#    /etc/containers/containers.conf yet, writes one with the settings that fix it here
#    (runc + cgroupfs, explicit ulimits), then checks again.
set -euo pipefail
need=()
for cmd in podman runc debootstrap tar sha256sum shellcheck iptables; do
    command -v "$cmd" >/dev/null 2>&1 || need+=("$cmd")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "setup-host: installing ${need[*]}"
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "setup-host: please install: ${need[*]} (needs root and apt)" >&2; exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap uidmap shellcheck iptables \
        slirp4netns fuse-overlayfs netavark aardvark-dns >/dev/null 2>&1 \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap shellcheck iptables >/dev/null
fi

# A tiny local image made from the host's own /usr/bin/true, so the check needs no registry.
probe_image=localhost/pgstream-probe:1
if ! podman image exists "$probe_image"; then
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/rootfs/usr/bin"
    cp /usr/bin/true "$tmp/rootfs/usr/bin/true"
    for lib in $(ldd /usr/bin/true | grep -o '/[^ ]*'); do
        mkdir -p "$tmp/rootfs$(dirname "$lib")"; cp -L "$lib" "$tmp/rootfs$lib"
    done
    tar -C "$tmp/rootfs" -c . | podman import -q - "$probe_image" >/dev/null
fi
probe() { podman run --rm --net none "$probe_image" /usr/bin/true >/tmp/pgstream-podman-probe.log 2>&1; }
# Then on podman's default network (what `podman build` and the scenarios use): netavark needs iptables.
ready() {
    if podman run --rm "$probe_image" /usr/bin/true >/tmp/pgstream-podman-net-probe.log 2>&1; then
        echo "setup-host: podman runs containers, on its default network too"
        exit 0
    fi
    echo "setup-host: podman runs containers but cannot attach them to a network: $(tail -n1 /tmp/pgstream-podman-net-probe.log)" >&2
    exit 1
}
if probe; then ready; fi
echo "setup-host: podman failed: $(tail -n1 /tmp/pgstream-podman-probe.log)"
conf=/etc/containers/containers.conf
if [ -e "$conf" ]; then
    echo "setup-host: $conf exists and podman still fails; it needs at least:" >&2
    echo '  [containers] default_ulimits = ["nofile=N:N", "nproc=N:N"]  [engine] runtime = "runc", cgroup_manager = "cgroupfs"' >&2
    exit 1
fi
hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=16384
n=$(( hard < 16384 ? hard : 16384 ))
mkdir -p /etc/containers
cat > "$conf" <<CONF
# Written by pgstream.replication scripts/setup-host.sh because podman could not run a
# container without it on this host. Delete it to go back to podman's defaults.
[containers]
default_ulimits = ["nofile=$n:$n", "nproc=$n:$n"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
echo "setup-host: wrote $conf"
if probe; then ready; fi
echo "setup-host: podman still fails: $(cat /tmp/pgstream-podman-probe.log)" >&2
exit 1
