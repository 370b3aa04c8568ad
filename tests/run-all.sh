#!/usr/bin/env bash
# Every test, as CI runs them: installs what the tests need (Debian 12, as
# root), builds cloister twice (normal, and ASan+UBSan), creates an
# unprivileged test user, and runs the test programs as root, as that user
# (through setpriv) and as that user inside `unshare -r`, in both builds.
#   tests/run-all.sh [--quick]   (--quick: the normal build only)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

if [ "$(id -u)" -ne 0 ]; then
        echo "run-all: run as root (it installs packages and creates a test user)" >&2
        exit 2
fi
scripts/install-deps --test

builds=(build)
[ "${1:-}" = "--quick" ] || builds+=(build-asan)

[ -d build ] || meson setup build >/dev/null
ninja -C build
if [[ " ${builds[*]} " == *" build-asan "* ]]; then
        [ -d build-asan ] || meson setup build-asan -Db_sanitize=address,undefined \
                -Db_lundef=false >/dev/null
        ninja -C build-asan
fi

user=cloister-test
id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"
# the unprivileged user must be able to reach the build trees
chmod o+rx "$src" 2>/dev/null || true
p=$src
while [ "$p" != / ]; do
        p=$(dirname "$p")
        [ -x "$p" ] || chmod o+x "$p"
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Which modes a test program runs in, from its tier (the name's prefix):
# unit and diff tests need no privilege games; the rest run three ways.
specs=()
for b in "${builds[@]}"; do
        for t in "$b"/tests/t-*; do
                [ -f "$t" ] && [ -x "$t" ] || continue
                name=$(basename "$t")
                case "$name" in
                t-unit-* | t-diff-* | t-fuzz-*) modes=(root) ;;
                *) modes=(root user userns) ;;
                esac
                for m in "${modes[@]}"; do specs+=("$m:$t"); done
        done
done
exec perl tests/tap-run.pl "${specs[@]}"
