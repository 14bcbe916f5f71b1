#!/usr/bin/env bash
# Build (or reuse) the local test/demo host image for one Debian suite:
#   1. debootstrap SUITE (minbase + python3, sudo, iproute2, procps) and `podman import` it;
#   2. `podman build` images/Containerfile on it, adding PostgreSQL and python3-psycopg2.
# Images are tagged by a hash of their recipe and reused when present; the stable alias
# localhost/pgstream-pg:SUITE always points at the image for the current recipe.
#   SUITE=bookworm (PostgreSQL 15, default) | bullseye (13) | trixie (17) | forky (18)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
SUITE=${SUITE:-bookworm}
case "$SUITE" in
    bullseye) PG_MAJOR=13 ;;
    bookworm) PG_MAJOR=15 ;;
    trixie)   PG_MAJOR=17 ;;
    forky)    PG_MAJOR=18
              # testing's Release files are valid for a week only; a frozen or lagging mirror
              # serves expired ones, which apt refuses by default.
              APT_OPTS="-o Acquire::Check-Valid-Until=false" ;;
    *) echo "build-image: unknown SUITE '$SUITE' (bullseye, bookworm, trixie, forky)" >&2; exit 2 ;;
esac
INCLUDE=python3,sudo,iproute2,procps
APT_OPTS=${APT_OPTS:-}

mirror() {
    # The Debian mirror this machine's own apt uses (deb822 or one-line sources).
    local m=""
    if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
        m=$(awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/*.sources | grep -v -- '-security' | grep '/debian/\?$' | head -n1 || true)
    fi
    if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
        m=$(awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list | grep -v -- '-security' | head -n1 || true)
    fi
    echo "${DEBIAN_MIRROR:-${m:-}}"
}

base_hash=$(printf '%s\n' "$SUITE" "$INCLUDE" "minbase" | sha256sum | cut -c1-12)
base="localhost/pgstream-base:$SUITE-$base_hash"
img_hash=$(cat "$root/images/Containerfile" <(echo "$base" "$PG_MAJOR" "$APT_OPTS") | sha256sum | cut -c1-12)
img="localhost/pgstream-pg:$SUITE-pg$PG_MAJOR-$img_hash"
alias="localhost/pgstream-pg:$SUITE"

if podman image exists "$img"; then
    podman tag "$img" "$alias"
    echo "build-image: reusing $img (recipe unchanged) as $alias"
    exit 0
fi

if podman image exists "$base"; then
    echo "build-image: reusing base $base"
else
    MIRROR=$(mirror)
    if [ -z "$MIRROR" ]; then
        echo "build-image: cannot find a Debian mirror in /etc/apt/sources*; set DEBIAN_MIRROR" >&2; exit 1
    fi
    script=""
    [ -e "/usr/share/debootstrap/scripts/$SUITE" ] || script=/usr/share/debootstrap/scripts/sid
    rootfs="$root/build/images/$SUITE-rootfs"
    rm -rf "$rootfs"; mkdir -p "$rootfs"
    echo "build-image: debootstrap $SUITE from $MIRROR (about a minute)"
    debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$rootfs" "$MIRROR" $script \
        > "$root/build/images/debootstrap-$SUITE.log" 2>&1 \
      || { tail -n 20 "$root/build/images/debootstrap-$SUITE.log" >&2; exit 1; }
    tar -C "$rootfs" -c . | podman import -q - "$base" >/dev/null
    rm -rf "$rootfs"
    echo "build-image: imported $base"
fi
echo "build-image: building $img (PostgreSQL $PG_MAJOR)"
podman build -q --build-arg BASE="$base" --build-arg PG_MAJOR="$PG_MAJOR" --build-arg APT_OPTS="$APT_OPTS" \
    -t "$img" -f "$root/images/Containerfile" "$root/images" >/dev/null
podman tag "$img" "$alias"
echo "build-image: built $img as $alias"
