#!/usr/bin/env bash
# Build a fake "openGauss binary tarball" for tests: the same flat layout as openGauss's
# openGauss-<version>-<os>-64bit.tar.bz2 (bin/, lib/, share/, version.cfg), but
#   bin/gs_ctl     = tests/gs_ctl_double/gs_ctl (the gs_ctl test double over real PostgreSQL)
#   bin/gs_initdb  = tests/opengauss/bin/gs_initdb (PostgreSQL initdb, gs_initdb's options)
#   bin/gsql       = tests/opengauss/bin/gsql (psql)
#   bin/gs_double.conf = the double's own settings (which users it connects to peers as)
# The pgstream.replication.opengauss role installs it like a real tarball; nothing in the role
# knows it is a double.
#   usage: build-fake-tarball.sh [OUTPUT.tar.gz]   (default build/opengauss/openGauss-double.tar.gz)
#   DOUBLE_REPL_USER (replicator) / DOUBLE_ADMIN_USER (postgres): written to bin/gs_double.conf
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/opengauss/openGauss-double.tar.gz}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
mkdir -p "$stage/bin" "$stage/lib" "$stage/share" "$(dirname "$out")"
install -m 0755 "$root/tests/gs_ctl_double/gs_ctl" "$stage/bin/gs_ctl"
install -m 0755 "$here/bin/gs_initdb" "$stage/bin/gs_initdb"
install -m 0755 "$here/bin/gsql" "$stage/bin/gsql"
cat >"$stage/bin/gs_double.conf" <<CONF
# gs_ctl test double settings (tests/gs_ctl_double/README.md)
double_repl_user = '${DOUBLE_REPL_USER:-replicator}'
double_admin_user = '${DOUBLE_ADMIN_USER:-postgres}'
CONF
echo "pgstream.replication gs_ctl test double (PostgreSQL underneath), not openGauss" >"$stage/share/README.double"
printf 'openGauss-double\n0\n' >"$stage/version.cfg"
tar -C "$stage" -czf "$out.tmp" --owner=0 --group=0 .
mv "$out.tmp" "$out"
echo "$out"
