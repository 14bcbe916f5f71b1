#!/usr/bin/env bash
# Put this checkout on an ansible_collections/pgstream/replication path so FQCNs resolve:
#   build/collections/ansible_collections/pgstream/replication -> the checkout (symlink, for ansible/molecule)
# Prints the directory to use as ANSIBLE_COLLECTIONS_PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/build/collections/ansible_collections/pgstream"
mkdir -p "$dir"
ln -sfn "$root" "$dir/replication"
echo "$root/build/collections"
