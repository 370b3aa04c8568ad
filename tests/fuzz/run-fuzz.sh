#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/fuzz-*.c (or the ones named) against
# a clang build of libcloister instrumented for coverage, ASan and UBSan, and
# runs each for SECONDS. Fails (exit 1) when a target crashes, leaks, trips a
# sanitizer or times out; exit 2 for a usage or build error.
#   tests/fuzz/run-fuzz.sh SECONDS [TARGET.c...]
# Environment:
#   FUZZ_BUILD  build directory (default: build-fuzz in the source tree); it
#               keeps the corpus each target grows (NAME.work/) and, after a
#               failure, the input that caused it (NAME-crash-*, -leak-*, ...)
#   FUZZ_JOBS   ninja jobs for the library (default 2)
# A seed corpus tests/fuzz/NAME.corpus/ and a dictionary tests/fuzz/NAME.dict
# are used when present. Longer runs by hand: tests/fuzz/run-fuzz.sh 3600.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
fuzzdir=$src/tests/fuzz

usage() {
        echo "usage: tests/fuzz/run-fuzz.sh SECONDS [TARGET.c...]" >&2
        exit 2
}
[ $# -ge 1 ] || usage
secs=$1
shift
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -ge 1 ] || usage

if [ $# -gt 0 ]; then
        targets=("$@")
else
        targets=("$fuzzdir"/fuzz-*.c)
fi
[ -e "${targets[0]}" ] || {
        echo "run-fuzz: no fuzz targets in $fuzzdir" >&2
        exit 2
}
for t in "${targets[@]}"; do
        [ -f "$t" ] || {
                echo "run-fuzz: no target '$t'" >&2
                exit 2
        }
done
command -v clang >/dev/null || {
        echo "run-fuzz: clang is not installed (scripts/install-deps --test)" >&2
        exit 2
}

build=${FUZZ_BUILD:-$src/build-fuzz}
jobs=${FUZZ_JOBS:-2}
mkdir -p "$build"
# one builder at a time per build directory
exec 9>"$build/.lock"
flock 9

# The library, compiled by clang with coverage instrumentation for libFuzzer
# and both sanitizers; werror off because clang warns about things gcc does not.
if [ ! -f "$build/lib/build.ninja" ]; then
        rm -rf "$build/lib"
        CC=clang meson setup "$build/lib" "$src" --buildtype=debugoptimized -Dwerror=false \
                -Db_sanitize=address,undefined -Db_lundef=false \
                -Dc_args=-fsanitize=fuzzer-no-link >"$build/setup.log" 2>&1 || {
                cat "$build/setup.log" >&2
                echo "run-fuzz: meson setup failed" >&2
                exit 2
        }
fi
ninja -C "$build/lib" -j"$jobs" src/libcloister.a >"$build/ninja.log" 2>&1 || {
        tail -40 "$build/ninja.log" >&2
        echo "run-fuzz: building libcloister failed" >&2
        exit 2
}

# shellcheck disable=SC2207
libs=($(pkg-config --libs libseccomp sqlite3 libcrypto jansson) -lbz2 -lpthread)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=0
for t in "${targets[@]}"; do
        name=$(basename "$t" .c)
        bin=$build/$name
        if ! clang -g -O1 -D_GNU_SOURCE -std=gnu11 -Wall -Wextra \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -I"$src/include" -I"$src/src" -I"$build/lib" \
                -o "$bin" "$t" "$build/lib/src/libcloister.a" "${libs[@]}" \
                >"$build/$name.cc.log" 2>&1; then
                cat "$build/$name.cc.log" >&2
                echo "run-fuzz: $name: does not build" >&2
                exit 2
        fi
        work=$build/$name.work
        mkdir -p "$work"
        args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536
                -print_final_stats=1 -artifact_prefix="$build/$name-")
        [ -f "$fuzzdir/$name.dict" ] && args+=(-dict="$fuzzdir/$name.dict")
        corpora=("$work")
        [ -d "$fuzzdir/$name.corpus" ] && corpora+=("$fuzzdir/$name.corpus")
        log=$build/$name.log
        # a hard limit above libFuzzer's own, in case the target hangs in a way
        # that its -timeout does not catch
        rc=0
        timeout --kill-after=10 $((secs + 120)) "$bin" "${args[@]}" "${corpora[@]}" \
                >"$log" 2>&1 || rc=$?
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        if [ "$rc" -eq 0 ]; then
                echo "run-fuzz: $name: ok, ${runs:-?} runs in ${secs}s"
        else
                failed=1
                echo "run-fuzz: $name: FAILED (exit $rc), log $log" >&2
                grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' \
                        "$log" | head -20 >&2 || true
        fi
done
exit $failed
