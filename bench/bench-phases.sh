#!/usr/bin/env bash
# Where one `cloister run -- /bin/true` spends its time. Applies
# bench/phase-marks.patch (a timestamp on stderr at each phase boundary of
# cloister, its helper, PID 1 and the command) to a temporary checkout of
# HEAD, builds it (release), runs it ROUNDS times from a small launcher and
# prints each mark's median in milliseconds since the launcher's fork.
#   bench/bench-phases.sh [ROUNDS] [-- EXTRA cloister run OPTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-200}
shift || true
[ "${1:-}" = "--" ] && shift
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/src" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git worktree add --detach "$tmp/src" HEAD >/dev/null 2>&1
git -C "$tmp/src" apply "$PWD/bench/phase-marks.patch"
meson setup "$tmp/build" "$tmp/src" -Dbuildtype=release >/dev/null
ninja -C "$tmp/build" src/cloister >/dev/null
cc -O2 -o "$tmp/launch" bench/bench-phases.c

root="--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(uname -r), $(nproc) cores, uid $(id -u), $rounds rounds, HEAD $(git rev-parse --short HEAD)"
# shellcheck disable=SC2086
"$tmp/launch" "$rounds" "$tmp/build/src/cloister" run "$@" $root -- /bin/true > "$tmp/marks"
# the median of each mark, in the order of the medians
sort -k1,1 -k2,2n "$tmp/marks" | awk '
        function flush() { if (n) printf "%s %.3f\n", key, v[int((n + 1) / 2)] }
        $1 != key { flush(); key = $1; n = 0 }
        { v[++n] = $2 }
        END { flush() }' | sort -k2,2n | awk '
        BEGIN { printf "%-22s %9s %9s\n", "mark", "median ms", "step ms" }
        { printf "%-22s %9.3f %9.3f\n", $1, $2, $2 - prev; prev = $2 }'
