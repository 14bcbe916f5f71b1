#!/usr/bin/env bash
# Build (or reuse) the bench image: localhost/pgstream-pg:$BENCH_SUITE (scripts/build-image.sh; bookworm by
# default) plus postgresql-<major>-repmgr and OpenSSH (images/Containerfile.bench). Tagged by a hash of the recipe
# and of the base image's id, reused when present; the alias localhost/pgstream-bench:<suite> points at it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
SUITE=${BENCH_SUITE:-bookworm}
SUITE=$SUITE "$root/scripts/build-image.sh" >&2
base="localhost/pgstream-pg:$SUITE"
base_id=$(podman image inspect -f '{{.Id}}' "$base")
PG_MAJOR=$(podman run --rm "$base_id" ls /usr/lib/postgresql)
# As in scripts/build-image.sh: testing's Release files expire after a week, and a lagging mirror serves
# expired ones.
APT_OPTS=""
[ "$SUITE" = forky ] && APT_OPTS="-o Acquire::Check-Valid-Until=false"
hash=$(cat "$root/images/Containerfile.bench" <(echo "$base_id" "$PG_MAJOR" "$APT_OPTS") | sha256sum | cut -c1-12)
img="localhost/pgstream-bench:$SUITE-pg$PG_MAJOR-$hash"
alias="localhost/pgstream-bench:$SUITE"
if podman image exists "$img"; then
    echo "bench-image: reusing $img" >&2
else
    echo "bench-image: building $img (repmgr, openssh)" >&2
    podman build -q --build-arg BASE="$base_id" --build-arg PG_MAJOR="$PG_MAJOR" --build-arg APT_OPTS="$APT_OPTS" \
        -t "$img" -f "$root/images/Containerfile.bench" "$root/images" >/dev/null
fi
podman tag "$img" "$alias"
echo "$img"
