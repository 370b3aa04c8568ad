# What builds really do, run inside a sandbox under the seccomp filter with
# busybox at /bin/busybox and probe-harden at /p. Prints "all ok" at the end;
# `set -e` stops at the first thing the sandbox breaks.
set -e
bb=/bin/busybox
cd /tmp
$bb mkdir -p src/sub
echo hello >src/sub/f
$bb ln -s f src/sub/l
$bb chmod 0750 src/sub
$bb touch -d 2001-01-01 src/sub/f
$bb cp -a src dst
test "$($bb readlink dst/sub/l)" = f
$bb cmp src/sub/f dst/sub/f
test "$($bb stat -c %a dst/sub)" = 750
test "$($bb stat -c %Y dst/sub/f)" = "$($bb stat -c %Y src/sub/f)"
echo "cp -a ok"
$bb tar -cf a.tar src
$bb mkdir x
$bb tar -xf a.tar -C x
$bb cmp src/sub/f x/src/sub/f
echo "tar ok"
test "$($bb find src -type f | $bb wc -l)" = 1
test "$(printf 'b\na\nc\n' | $bb sort | $bb tr -d '\n')" = abc
echo "find sort ok"
$bb mkfifo ff
(echo through >ff) &
test "$($bb cat ff)" = through
wait
echo "fifo ok"
/p pty
/p threads 50
$bb sleep 0.1
rc=0
$bb timeout 1 $bb sleep 10 || rc=$?
test "$rc" -ne 0
echo "sleep timeout ok"
test "$($bb unshare -r -m $bb sh -c "$bb mount -t tmpfs none /tmp && $bb touch /tmp/n && $bb id -u")" = 0
test ! -e /tmp/n
echo "nested user namespace ok"
echo "all ok"
