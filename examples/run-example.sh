#!/usr/bin/env bash
# The bundled example (README's first command), for a fresh Debian 12 as
# root: installs the build dependencies and a static busybox, builds
# cloister, then
#  1. runs the static probe in a fresh sandbox whose root holds nothing but
#     the probe itself (plus what every sandbox has: /dev, /proc, /tmp,
#     /etc/passwd, /etc/group); the probe prints what it sees from inside;
#  2. builds a small graph of derivations in the sandbox, in a fresh store
#     of its own (build/example-store, a store root as Nix's --store takes;
#     as root it creates the build users group 'nixbld' if it is missing):
#       busybox   the static busybox, added to the store (cloister store add)
#       hello     assembles examples/graph/hello.hex into a static x86-64
#                 executable with busybox (examples/graph/assemble.sh)
#       greeting  depends on hello: runs it and keeps what it printed
#     The derivations are written as JSON and added with `cloister drv add`,
#     so nothing but cloister is needed; it prints the result, the
#     references and where the build log is, and shows it (`cloister log`).
#   examples/run-example.sh [--no-probe]
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

scripts/install-deps --example
[ -d build ] || meson setup build
ninja -C build
cloister=$src/build/src/cloister

if [ "${1:-}" != --no-probe ]; then
        echo "== cloister run --ro-bind build/tests/probe/probe /probe -- /probe show"
        "$cloister" run --ro-bind "$src/build/tests/probe/probe" /probe -- /probe show
        echo
fi

# As root, builders run as leased build users: members of the group
# 'nixbld' (cloister's default build-users-group, as Nix's). Debian's nix-bin
# package creates them; without it, the example does, as Nix's installer does.
if ! getent group nixbld > /dev/null; then
        echo "== creating the build users group 'nixbld' and its members nixbld1..4"
        groupadd --system nixbld
        for i in 1 2 3 4; do
                useradd --system --no-create-home --home-dir /var/empty --shell /usr/sbin/nologin \
                        --gid nixbld --groups nixbld --comment "cloister build user $i" "nixbld$i"
        done
fi

root=$src/build/example-store
rm -rf "$root"          # a fresh store each time, so that everything is built
store=(--store "$root")
work=$(mktemp -d /tmp/cloister-example.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "== a graph of derivations built in the sandbox, in the store at $root"

# busybox as a directory, so that the builder's argv[0] is 'busybox' (a
# flat store file would be called by its store name, which is no applet)
mkdir -p "$work/busybox/bin"
cp /bin/busybox "$work/busybox/bin/busybox"
bb=$("$cloister" store add "${store[@]}" "$work/busybox")
assemble=$("$cloister" store add "${store[@]}" examples/graph/assemble.sh)
hex=$("$cloister" store add "${store[@]}" examples/graph/hello.hex)
greeting_sh=$("$cloister" store add "${store[@]}" examples/graph/greeting.sh)
echo "cloister store add: $bb"
echo "                    $assemble"
echo "                    $hex"
echo "                    $greeting_sh"

# out_path DRV: the store path of DRV's output 'out'
out_path() {
        "$cloister" drv show "${store[@]}" "$1" | sed -n 's/^ *"out": "\(.*\)",\{0,1\}$/\1/p'
}

# Output paths are left empty: `cloister drv add` computes them (and the
# matching environment variables) as Nix does.
cat > "$work/hello.json" <<JSON
{
  "outputs": { "out": { "path": "" } },
  "inputSrcs": [ "$bb", "$assemble", "$hex" ],
  "inputDrvs": {},
  "system": "x86_64-linux",
  "builder": "$bb/bin/busybox",
  "args": [ "sh", "-e", "$assemble" ],
  "env": {
    "name": "hello",
    "system": "x86_64-linux",
    "builder": "$bb/bin/busybox",
    "src": "$hex",
    "message": "Hello from a program assembled in cloister's sandbox\n"
  }
}
JSON
hello_drv=$("$cloister" drv add "${store[@]}" "$work/hello.json")
hello=$(out_path "$hello_drv")
echo "cloister drv add:   $hello_drv"

cat > "$work/greeting.json" <<JSON
{
  "outputs": { "out": { "path": "" } },
  "inputSrcs": [ "$bb", "$greeting_sh" ],
  "inputDrvs": { "$hello_drv": [ "out" ] },
  "system": "x86_64-linux",
  "builder": "$bb/bin/busybox",
  "args": [ "sh", "-e", "$greeting_sh" ],
  "env": {
    "name": "greeting",
    "system": "x86_64-linux",
    "builder": "$bb/bin/busybox",
    "busybox": "$bb",
    "hello": "$hello"
  }
}
JSON
greeting_drv=$("$cloister" drv add "${store[@]}" "$work/greeting.json")
echo "                    $greeting_drv"

# Building greeting builds hello first (its input).
echo "== cloister build ${store[*]} $greeting_drv"
greeting=$("$cloister" build "${store[@]}" "$greeting_drv")
echo
echo "result:     $greeting"
echo "it says:    $(cat "$root$greeting/greeting.txt")"
echo "references: $("$cloister" store query "${store[@]}" --references "$greeting" | tr '\n' ' ')"
echo "hello, run in a sandbox that holds nothing else (it needs nothing):"
"$cloister" run --ro-bind "$root$hello/bin/hello" /hello -- /hello
log=$root/nix/var/log/nix/drvs/${greeting_drv:11:2}/${greeting_drv:13}.bz2
echo "build log:  $log"
echo "== cloister log ${store[*]} $greeting_drv"
"$cloister" log "${store[@]}" "$greeting_drv"
