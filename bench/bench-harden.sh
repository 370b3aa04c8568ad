#!/bin/bash
# What the hardening costs in whole sandboxes, as root: `cloister run` with
# and without the seccomp filter (--seccomp=off), and with and without cgroups
# (run in a mount namespace where /sys/fs/cgroup is an empty tmpfs, so no
# hierarchy is found and no leaf is made; the other side runs in a private
# copy of the host's mounts, so both pay the same nsenter). Interleaved
# rounds, medians of wall clock and of the CPU time of the whole process tree.
# With a second build directory (another commit's tree), its cloister runs
# the same four ways in the same rounds ("before"). bench/floor-sandbox.c
# runs with and without its hardening in the same rounds.
#   bash bench/bench-harden.sh [ROUNDS] [BUILD-DIR] [BEFORE-BUILD-DIR]
set -euo pipefail
rounds=${1:-200}
build=${2:-build}
before=${3:-}
cloister=$(realpath "$build/src/cloister")
[ "$(id -u)" = 0 ] || { echo "bench-harden.sh: run as root (cgroups)" >&2; exit 2; }

sleepers=()
cleanup() {
        for p in "${sleepers[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
}
trap cleanup EXIT

# a process that holds a mount namespace; prints its pid once the namespace is ready
hold_ns() {
        local ready
        ready=$(mktemp -u)
        mkfifo "$ready"
        unshare -m --propagation private sh -c "$1; echo ready > $ready; exec sleep 3600" &
        sleepers+=($!)
        read -r _ < "$ready"
        rm -f "$ready"
}
hold_ns "true"
with_cg=${sleepers[0]}
hold_ns "mount -t tmpfs none /sys/fs/cgroup"
without_cg=${sleepers[1]}

on="run --ro-bind /bin/busybox /bin/busybox -- /bin/busybox true"
off="run --seccomp=off --ro-bind /bin/busybox /bin/busybox -- /bin/busybox true"
cmds=("seccomp+cgroup=nsenter -m -t $with_cg $cloister $on"
      "cgroup-only=nsenter -m -t $with_cg $cloister $off"
      "seccomp-only=nsenter -m -t $without_cg $cloister $on"
      "neither=nsenter -m -t $without_cg $cloister $off")
# the hardening's own floor (bench/floor-sandbox.c): the same bare system
# calls with and without the cgroup leaf and the one-instruction filter
floor=$(realpath "$build/bench/floor-sandbox")
cmds+=("floor=nsenter -m -t $with_cg $floor /bin/true"
       "floor-soft=nsenter -m -t $with_cg $floor --soft /bin/true")
if [ -n "$before" ]; then
        old=$(realpath "$before/src/cloister")
        cmds+=("before:seccomp+cgroup=nsenter -m -t $with_cg $old $on"
               "before:cgroup-only=nsenter -m -t $with_cg $old $off"
               "before:seccomp-only=nsenter -m -t $without_cg $old $on"
               "before:neither=nsenter -m -t $without_cg $old $off")
fi
"$build/bench/bench-harden" --e2e "$rounds" "${cmds[@]}"
