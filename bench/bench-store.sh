#!/usr/bin/env bash
# Store benchmark (not run by CI): NAR dump + sha256 of a 1 GiB tree and
# reference scanning of the same bytes against 10,000 candidates, next to
# nix-hash, nix-store --dump and openssl dgst -sha256 of the same bytes, in
# one run. Prints a table of best-of-N wall times, throughput and ratios.
#   bench/bench-store.sh [BUILD_DIR]   (default: build; needs nix-bin, openssl)
# Uses a scratch directory in /tmp and removes it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cloister=$build/src/cloister
bench=$build/bench/bench-nar
runs=${BENCH_RUNS:-3}
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

# best wall time of $runs runs of a command, in seconds
best() {
        local b="" s e t
        for _ in $(seq 1 "$runs"); do
                s=$(date +%s.%N)
                "$@" > /dev/null
                e=$(date +%s.%N)
                t=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f", e - s }')
                if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
        done
        echo "$b"
}
# the scanner alone: best of the in-process times (the bytes already in memory)
best_inner() {
        local b="" t
        for _ in $(seq 1 "$runs"); do
                t=$("$@" | awk '{ print $1 }')
                if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
        done
        echo "$b"
}

declare -a names times
run() {
        local name=$1
        shift
        names+=("$name")
        times+=("$(best "$@")")
        echo "  $name: ${times[-1]} s" >&2
}
run "openssl dgst -sha256 (of the NAR file)" openssl dgst -sha256 "$tmp/tree.nar"
run "nix-hash --type sha256" nix-hash --type sha256 "$tree"
run "nix-store --dump > /dev/null" sh -c 'nix-store --dump "$1" > /dev/null' sh "$tree"
run "cloister store dump > /dev/null" sh -c '"$1" store dump "$2" > /dev/null' sh "$cloister" "$tree"
run "cloister store hash --type sha256" "$cloister" store hash --type sha256 "$tree"
run "NAR dump + sha256 (bench-nar hash)" "$bench" hash "$tree"
run "NAR dump + sha256 + scan, one pass" "$bench" hash-scan "$tree" "$tmp/cands"
names+=("scanner alone (in memory, AVX2)")
times+=("$(best_inner "$bench" scan "$tmp/tree.nar" "$tmp/cands")")
names+=("scanner alone (in memory, portable)")
times+=("$(best_inner "$bench" scan "$tmp/tree.nar" "$tmp/cands" scalar)")

echo
echo "NAR of $bytes bytes; 10,000 candidates, $refs found; best of $runs runs"
printf '%-42s %9s %9s %9s\n' "command" "seconds" "GB/s" "vs openssl"
ossl=${times[0]}
for i in "${!names[@]}"; do
        awk -v n="${names[$i]}" -v t="${times[$i]}" -v b="$bytes" -v o="$ossl" \
                'BEGIN { printf "%-42s %9.3f %9.2f %9.2fx\n", n, t, b / t / 1e9, t / o }'
done
