#!/usr/bin/env bash
# Store benchmark (not run by CI): NAR dump + sha256 of a 1 GiB tree and
# reference scanning of the same bytes against 10,000 candidates, next to
# nix-hash, nix-store --dump and openssl dgst -sha256 of the same bytes, in
# one run. Prints a table of best-of-N wall times, throughput and ratios.
#   bench/bench-store.sh [BUILD_DIR]   (default: build; needs nix-bin, openssl)
#   BENCH_RUNS=N (default 5) sets the number of rounds.
# Uses a scratch directory in /tmp and removes it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cloister=$build/src/cloister
bench=$build/bench/bench-nar
runs=${BENCH_RUNS:-5}
for x in "$cloister" "$bench"; do
        [ -x "$x" ] || { echo "bench-store: '$x' missing; run ninja -C $build" >&2; exit 2; }
done
for x in nix-hash nix-store openssl; do
        command -v "$x" >/dev/null || { echo "bench-store: '$x' missing" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/cloister-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/tree
mkdir -p "$tree/bin" "$tree/share/doc" "$tree/lib"

echo "generating a 1 GiB tree in $tmp ..." >&2
"$bench" cands 10000 "$tmp/cands"
# 640 MiB of binaries (random bytes), 384 MiB of text (base64 lines) in 6,000
# files, a few hundred of which mention store paths among the candidates
for i in $(seq 1 40); do head -c 16M /dev/urandom > "$tree/bin/prog$i"; done
chmod +x "$tree"/bin/*
head -c 288M /dev/urandom | base64 -w 76 | split -a 4 -b 64K - "$tree/share/doc/f"
n=0
for f in "$tree"/share/doc/f*; do
        n=$((n + 1))
        if [ $((n % 20)) -eq 0 ]; then
                h=$(sed -n "$((n / 20))p" "$tmp/cands")
                printf '\n/nix/store/%s-dep-%d/lib\n' "$h" "$n" >> "$f"
        fi
done
ln -s ../share/doc "$tree/lib/doc"
ln -s /nix/store/"$(sed -n 1p "$tmp/cands")"-glibc/lib/libc.so.6 "$tree/lib/libc.so.6"

nix-store --dump "$tree" > "$tmp/tree.nar"
bytes=$(stat -c %s "$tmp/tree.nar")
echo "NAR: $bytes bytes; warming the page cache ..." >&2
cat "$tmp/tree.nar" > /dev/null
find "$tree" -type f -exec cat {} + > /dev/null

# correctness first: the same hash as nix-hash, refs found as planted
want=$(nix-hash --type sha256 --base32 "$tree")
got=$("$bench" hash-scan "$tree" "$tmp/cands")
case "$got" in
*"sha256:$want "*) ;;
*) echo "bench-store: NAR hash differs from nix-hash: $got vs $want" >&2; exit 1 ;;
esac
refs=${got##*refs=}

# The commands compared, run in interleaved rounds (every command once per
# round, $runs rounds) so that a burst of load on the machine hits all of them
# alike; each one's best wall time counts.
names=(
        "openssl dgst -sha256 (of the NAR file)"
        "nix-hash --type sha256"
        "nix-store --dump > /dev/null"
        "cloister store dump > /dev/null"
        "cloister store hash --type sha256"
        "NAR dump + sha256 (bench-nar hash)"
        "NAR dump + sha256 + scan, one pass"
)
cmd() {
        case $1 in
        0) openssl dgst -sha256 "$tmp/tree.nar" ;;
        1) nix-hash --type sha256 "$tree" ;;
        2) nix-store --dump "$tree" ;;
        3) "$cloister" store dump "$tree" ;;
        4) "$cloister" store hash --type sha256 "$tree" ;;
        5) "$bench" hash "$tree" ;;
        6) "$bench" hash-scan "$tree" "$tmp/cands" ;;
        esac > /dev/null
}
# wall seconds and CPU seconds (user + system); on a shared machine the CPU
# time is the steadier measure, so both are reported
declare -a times cpus
TIMEFORMAT='%R %U %S'
for round in $(seq 1 "$runs"); do
        for i in "${!names[@]}"; do
                read -r wall user sys < <({ time cmd "$i"; } 2>&1)
                cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
                if [ -z "${times[$i]:-}" ] || awk -v t="$wall" -v b="${times[$i]}" 'BEGIN { exit !(t < b) }'; then
                        times[$i]=$wall
                fi
                if [ -z "${cpus[$i]:-}" ] || awk -v t="$cpu" -v b="${cpus[$i]}" 'BEGIN { exit !(t < b) }'; then
                        cpus[$i]=$cpu
                fi
                echo "  round $round: ${names[$i]}: $wall s wall, $cpu s CPU" >&2
        done
done
# the scanner alone: bench-nar times its best pass over bytes already in memory
names+=("scanner alone (in memory, AVX2)" "scanner alone (in memory, portable)")
for mode in "" scalar; do
        read -r t _ _ c < <("$bench" scan "$tmp/tree.nar" "$tmp/cands" $mode)
        times+=("$t")
        cpus+=("${c#cpu=}")
done

echo
echo "NAR of $bytes bytes; 10,000 candidates, $refs found; best of $runs interleaved rounds"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %8s %7s %10s %8s %7s %10s\n' "command" "wall s" "GB/s" "vs openssl" "CPU s" "GB/s" "vs openssl"
for i in "${!names[@]}"; do
        awk -v n="${names[$i]}" -v t="${times[$i]}" -v c="${cpus[$i]}" -v b="$bytes" \
                -v o="${times[0]}" -v oc="${cpus[0]}" \
                'BEGIN { printf "%-40s %8.3f %7.2f %9.2fx %8.3f %7.2f %9.2fx\n",
                         n, t, b / t / 1e9, t / o, c, b / c / 1e9, c / oc }'
done
