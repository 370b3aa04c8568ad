#!/usr/bin/env bash
# The start-up benchmark of cloister run (see bench/RESULTS.md): /bin/true
# with all namespaces and a root of read-only /usr (plus the usual /bin, /lib,
# /lib64 links), against bare fork+exec, unshare(1) with as many namespaces
# and nothing mounted, and bwrap(1) with an equivalent root; interleaved.
#   bench/run-bench.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-200}
root=(--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64)
exec "$build/bench/bench-run" -n "$rounds" \
        :: "cloister run" "$build/src/cloister" run "${root[@]}" -- /bin/true \
        :: "/bin/true" /bin/true \
        :: "unshare -mpf --net --ipc --uts" /usr/bin/unshare --mount --pid --fork --net --ipc --uts /bin/true \
        :: "bwrap --unshare-all" /usr/bin/bwrap --unshare-all "${root[@]}" --dev /dev --proc /proc /bin/true
