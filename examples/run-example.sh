#!/usr/bin/env bash
# Builds cloister (installing its Debian build dependencies when run as root)
# and runs the bundled example in a sandbox: a script that prints what a
# command sees from inside (ids, root directory, /dev, processes, network,
# privileges, open files, mounts). Works as root and as an ordinary user.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then
        scripts/install-deps
fi
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

root=(--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib)
[ -d /usr/lib64 ] && root+=(--symlink usr/lib64 /lib64)
[ -d /usr/lib32 ] && root+=(--symlink usr/lib32 /lib32)
exec ./build/src/cloister run "${root[@]}" \
        --ro-bind examples/inside.sh /inside.sh \
        --setenv PATH /usr/bin:/bin --setenv HOME /tmp \
        -- /bin/sh /inside.sh
