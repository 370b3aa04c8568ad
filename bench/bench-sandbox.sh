#!/usr/bin/env bash
# Sandbox start-up cost: `cloister run -- /bin/true` against bare fork+exec, the
# raw clone+exec floor with the same namespaces, `unshare` and `bwrap
# --unshare-all` with an equivalent root, interleaved in one run.
#   bench/bench-sandbox.sh [ROUNDS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-500}
build=${2:-build}
[ -d "$build" ] || meson setup "$build" -Dbuildtype=release >/dev/null
ninja -C "$build" >/dev/null
cl=$(realpath "$build/src/cloister")

# the same root for bwrap and cloister: /usr read-only, the merged-/usr links
root="--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64"

# the two floors (bench/floor-sandbox.c), both static executables as cloister
# is: --bare, the least any sandbox executable can be (the namespaces and the
# exec, nothing mounted); and, as root, the system calls the isolation of
# issues #2 and #4 needs and nothing else
floor=$(realpath "$build/bench/floor-sandbox")
cmds=(
        "fork+exec=@fork"
        "clone-floor=@clone"
        "bare-wrapper=$floor --bare /bin/true"
)
[ "$(id -u)" = 0 ] && cmds+=("floor-sandbox=$floor /bin/true")
cmds+=(
        "unshare=unshare --mount --pid --fork --net --ipc --uts /bin/true"
        "bwrap=bwrap --unshare-all --die-with-parent $root --proc /proc --dev /dev /bin/true"
        "cloister=$cl run $root -- /bin/true"
)
if "$cl" run --help 2>/dev/null | grep -q -- '--seccomp'; then
        cmds+=("cloister-noseccomp=$cl run --seccomp=off $root -- /bin/true")
fi

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(uname -r), $(nproc) cores, uid $(id -u), $rounds rounds"
"$build/bench/bench-spawn" "$rounds" "${cmds[@]}"
