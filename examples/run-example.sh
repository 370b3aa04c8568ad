#!/usr/bin/env bash
# The bundled example (README's first command): installs the build
# dependencies (Debian 12, as root), builds cloister, and runs the static
# probe in a fresh sandbox whose root holds nothing but the probe itself
# (plus what every sandbox has: /dev, /proc, /tmp, /etc/passwd, /etc/group).
# The probe prints what the sandbox looks like from inside.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

scripts/install-deps
[ -d build ] || meson setup build
ninja -C build

echo "== cloister run --ro-bind build/tests/probe/probe /probe -- /probe show"
exec "$src/build/src/cloister" run \
        --ro-bind "$src/build/tests/probe/probe" /probe \
        -- /probe show
