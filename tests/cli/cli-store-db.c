/* `cloister store add/query/verify/import/export/delete` from the outside, as
 * any user: help and usage, a round trip, and bad input (a path outside the
 * store, a bad name, a broken or unreferenced import stream, a locked store, a
 * newer schema, a referenced delete): a message naming the thing and the
 * reason, exit 1, nothing registered and nothing left in the store. */
#include "tap.h"

#include "base/base-cleanup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char prelude[] =
    "set -eu\n"
    "cl() { \"$C\" store \"$@\"; }\n"
    "fail() { echo \"$*\" >&2; exit 1; }\n"
    "R=$D/r; mkdir -p $R\n"
    /* run a command that must fail with exit 1 and a message matching $1 */
    "bad() { m=$1; shift; c=0; \"$@\" > $D/out 2> $D/err || c=$?\n"
    "  [ $c -ne 0 ] || fail \"succeeded: $*\"\n"
    "  [ $c -eq 1 ] || fail \"exit $c, not 1: $*: $(cat $D/err)\"\n"
    "  grep -q -- \"$m\" $D/err || fail \"message for $*: $(cat $D/err)\"; }\n"
    /* the store directory holds nothing but valid paths (no stage, no lock) */
    "clean() { for e in $(ls -A $R/nix/store); do [ $e = .links ] && continue\n"
    "  cl query --store $R --hash /nix/store/$e > /dev/null 2>&1 || fail \"left: $e\"; done; }\n"
    /* wait (bounded) until process $1 waits for an answer on a unix socket */
    "waits_on_socket() { i=0\n"
    "  until grep -qs unix_stream /proc/$1/wchan /proc/$1/task/*/wchan; do\n"
    "    kill -0 $1 2>/dev/null || fail \"process $1 ended instead of waiting: $(cat $D/*.err)\"\n"
    "    i=$((i + 1)); [ $i -lt 400 ] || fail \"process $1 never waited on a socket\"; sleep 0.05\n"
    "  done; }\n"
    "stream() {\n"
    "  perl -e '\n"
    "    sub u { pack(\"Q<\", $_[0]) }\n"
    "    sub str { my $s = shift; u(length $s) . $s . (\"\\0\" x ((8 - length($s) % 8) % 8)) }\n"
    "    sub f { local $/; open(my $h, \"<\", $_[0]) or die; binmode $h; <$h> }\n"
    "    my ($nar, $path, @refs) = @ARGV;\n"
    "    print u(1), f($nar), u(0x4558494e), str($path), u(scalar @refs);\n"
    "    print str($_) for @refs;\n"
    "    print str(\"\"), u(0), u(0);' \"$@\"\n"
    "}\n";

static void script(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void script(const char *fmt, ...)
{
        _cleanup_free_ char *body = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&body, fmt, ap) < 0)
                abort();
        va_end(ap);
        _cleanup_free_ char *full = NULL;
        if (asprintf(&full, "%s%s", prelude, body) < 0)
                abort();
        char *argv[] = {"/bin/sh", "-c", full, NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 120, &res));
        int code = tap_exit_code(res.status);
        if (code != 0)
                FAIL("script exited %d: %s", code, res.err ? res.err : "");
        tap_run_result_free(&res);
}

static char *dir;

static void setup(void)
{
        dir = tap_mkdtemp();
        _cleanup_free_ char *bin = tap_build_path("src/cloister");
        setenv("C", bin, 1);
        setenv("D", dir, 1);
}

static void teardown(void)
{
        tap_rm_rf(dir);
        free(dir);
}

TEST(help_and_usage)
{
        setup();
        script("for c in add query verify import export delete; do\n"
               "  cl $c --help | grep -q \"usage: cloister store $c\" || fail \"help of $c\"\n"
               "  if cl $c --bogus > /dev/null 2>&1; then fail \"$c --bogus\"; fi\n"
               "  cl $c --bogus > /dev/null 2>&1 || [ $? -eq 2 ] || fail \"$c --bogus exit\"\n"
               "done\n"
               "cl --help | grep -q import || fail 'store --help'\n"
               "cl query --store $R /nix/store/x > /dev/null 2>&1 || [ $? -eq 2 ] ||"
               " fail 'query without a question'\n"
               "cl add --recursive x > /dev/null 2>&1 || [ $? -eq 2 ] || fail '--recursive alone'\n"
               "cl add --fixed sha3 x 2> $D/err || [ $? -eq 2 ] || fail 'sha3'\n"
               "grep -q \"unknown hash algorithm 'sha3'\" $D/err || fail \"$(cat $D/err)\"\n");
        teardown();
}

TEST(round_trip)
{
        setup();
        script(
            "mkdir $D/src; printf 'hi\\n' > $D/src/f; ln -s f $D/src/l\n"
            "p=$(cl add --store $R $D/src)\n"
            "case $p in /nix/store/*-src) ;; *) fail \"path $p\";; esac\n"
            "[ \"$(cl add --store $R $D/src)\" = $p ] || fail 'second add'\n"
            "printf 'hi\\n' > $D/hi.txt\n"
            "[ \"$(cl add --store $R $D/hi.txt)\" ="
            " /nix/store/qs2vcw1sd6lzsvgvq6gggnw1v31qrm28-hi.txt ] || fail 'hi.txt vector'\n"
            "[ \"$(cl query --store $R --hash /nix/store/qs2vcw1sd6lzsvgvq6gggnw1v31qrm28-hi.txt)\""
            " = sha256:1xmr8jicvzszfzpz46g37mlpvbzjl2wpwvl2b05psipssyp1sm8h ] || fail hash\n"
            "[ \"$(cl query --store $R --size $p/f)\" = \"$(cl dump $R$p | wc -c)\" ] || fail "
            "size\n"
            "[ \"$(cl query --store $R --deriver $p)\" = unknown-deriver ] || fail deriver\n"
            "[ \"$(cl query --store $R -R $p)\" = $p ] || fail requisites\n"
            "cl verify --store $R --check-contents\n"
            "cl export --store $R $p > $D/e\n"
            "R2=$D/r2; [ \"$(cl import --store $R2 < $D/e)\" = $p ] || fail import\n"
            "cl verify --store $R2 --check-contents\n"
            "cl delete --store $R2 $p; [ ! -e $R2$p ] || fail 'not deleted'\n"
            "bad 'is not valid' cl query --store $R2 --hash $p\n"
            /* the default root of an ordinary user, created on first use */
            "if [ $(id -u) -ne 0 ]; then HOME=$D/home XDG_DATA_HOME= cl add $D/hi.txt > /dev/null\n"
            "  [ -e $D/home/.local/share/cloister/nix/var/nix/db/db.sqlite ] || fail 'default'\n"
            "fi\n");
        teardown();
}

TEST(bad_paths_and_names)
{
        setup();
        script("printf x > \"$D/a b\"\n"
               "bad \"'a b' is not a valid store path name\" cl add --store $R \"$D/a b\"\n"
               "bad \"No such file or directory\" cl add --store $R $D/missing\n"
               "ln -s x $D/sym; bad 'symbolic link' cl add --store $R --fixed sha256 $D/sym\n"
               "bad \"path '/tmp/x' is not in the store '/nix/store'\" cl query --store $R"
               " --references /tmp/x\n"
               "bad \"is not valid\" cl query --store $R --references"
               " /nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-none\n"
               "bad \"not a valid store path\" cl query --store $R --hash /nix/store/tooshort\n"
               "bad \"is not valid\" cl export --store $R "
               "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x"
               " > /dev/null\n"
               "bad \"invalid store directory 'rel'\" cl verify --store $R --store-dir rel\n"
               "clean\n");
        teardown();
}

TEST(bad_import_streams_register_nothing)
{
        setup();
        script(
            "printf 'one\\n' > $D/one; cl dump $D/one > $D/one.nar\n"
            "A=/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-one\n"
            "B=/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-two\n"
            "Z=/nix/store/zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz-gone\n"
            "{ stream $D/one.nar $A | head -c -8; stream $D/one.nar $B $A $Z; printf "
            "'\\0\\0\\0\\0\\0\\0\\0\\0'; } > $D/badref\n"
            "bad \"refers to '$Z', which is not valid\" cl import --store $R < $D/badref\n"
            "bad 'is not valid' cl query --store $R --hash $A\n"
            "{ stream $D/one.nar $A | head -c -8; printf '\\0\\0\\0\\0\\0\\0\\0\\0'; } > $D/good\n"
            "head -c 100 $D/good > $D/trunc\n"
            "bad 'NAR at byte' cl import --store $R < $D/trunc\n"
            "head -c -12 $D/good > $D/trunc2\n"
            "bad 'ends in the middle' cl import --store $R < $D/trunc2\n"
            "printf 'garbage!' > $D/garbage\n"
            "bad \"doesn't look like something created by 'nix-store --export'\" cl import"
            " --store $R < $D/garbage\n"
            "{ stream $D/one.nar /tmp/outside | head -c -8; printf '\\0\\0\\0\\0\\0\\0\\0\\0'; } > "
            "$D/outside\n"
            "bad \"path '/tmp/outside' is not in the store\" cl import --store $R < $D/outside\n"
            "bad 'is not valid' cl query --store $R --hash $A\n"
            "clean\n"
            /* the good stream still works afterwards */
            "[ \"$(cl import --store $R < $D/good)\" = $A ] || fail 'good import'\n"
            "cl verify --store $R --check-contents\n"
            "clean\n");
        teardown();
}

TEST(locked_store_and_schema)
{
        setup();
        script(
            "printf x > $D/f; p=$(cl add --store $R $D/f)\n"
            "(exec 9>> $R/nix/var/nix/db/big-lock; flock -x 9; touch $D/held; exec sleep 20) &\n"
            "holder=$!\n"
            "while [ ! -e $D/held ]; do sleep 0.05; done\n"
            "bad \"store database '$R/nix/var/nix/db' is locked\" cl query --store $R --timeout 0.3"
            " --hash $p\n"
            "kill $holder; wait $holder 2>/dev/null || true\n"
            "cl query --store $R --hash $p > /dev/null\n"
            /* a path lock held by someone else (Nix adding the same path) */
            "(exec 9>> $R$p.lock; flock -x 9; touch $D/held2; exec sleep 20) &\n"
            "holder=$!\n"
            "while [ ! -e $D/held2 ]; do sleep 0.05; done\n"
            "bad \"lock file '$(basename $p).lock' is held by another process\" cl delete --store"
            " $R --timeout 0.3 $p\n"
            "kill $holder; wait $holder 2>/dev/null || true\n"
            "[ -e $R$p ] || fail 'deleted while locked'\n"
            "printf 11 > $R/nix/var/nix/db/schema\n"
            "bad 'has schema version 11, newer than the version 10' cl verify --store $R\n"
            "printf 9 > $R/nix/var/nix/db/schema\n"
            "bad 'old schema version 9' cl verify --store $R\n"
            "printf 10 > $R/nix/var/nix/db/schema\n"
            "cl verify --store $R --check-contents\n");
        teardown();
}

TEST(delete_refuses_referenced_paths)
{
        setup();
        script("printf 'one\\n' > $D/one; cl dump $D/one > $D/one.nar\n"
               "A=/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-one\n"
               "B=/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-two\n"
               "{ stream $D/one.nar $A $A | head -c -8; stream $D/one.nar $B $A; } > $D/s\n"
               "cl import --store $R < $D/s > /dev/null\n"
               "[ \"$(cl query --store $R --referrers $A)\" = \"$A\n$B\" ] || fail referrers\n"
               "bad \"cannot delete path '$A': it is still referenced by '$B'\" cl delete --store "
               "$R $A\n"
               "[ -e $R$A ] || fail 'refused delete removed the file'\n"
               "cl query --store $R --hash $A > /dev/null\n"
               /* together, and with its self-reference, it goes */
               "cl delete --store $R $A $B\n"
               "[ ! -e $R$A ] && [ ! -e $R$B ] || fail 'not deleted'\n"
               "clean\n");
        teardown();
}

/* As Nix's collector, delete refuses a path that is alive: a GC root, direct
 * or through a build's "result" link (a stale one in gcroots/auto goes), a
 * path a GC root needs, a temporary root of a live process (a dead one's
 * file goes), and a path a running process has in its environment. */
TEST(delete_refuses_live_paths)
{
        setup();
        script(
            "printf 'one\\n' > $D/one; cl dump $D/one > $D/one.nar\n"
            "A=/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-one\n"
            "B=/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-two\n"
            "{ stream $D/one.nar $A | head -c -8; stream $D/one.nar $B $A; } > $D/s\n"
            "cl import --store $R < $D/s > /dev/null\n"
            "G=$R/nix/var/nix/gcroots; T=$R/nix/var/nix/temproots\n"
            /* a direct root */
            "ln -s $A $G/r\n"
            "bad \"cannot delete path '$A': it is a GC root ('$G/r')\" cl delete --store $R $A\n"
            "rm $G/r\n"
            /* an indirect root, and a root that needs the path */
            "mkdir -p $G/auto; ln -s $D/result $G/auto/x; ln -s $B $D/result\n"
            "bad \"cannot delete path '$A': '$B', which needs it, is a GC root ('$D/result', "
            "through '$G/auto/x')\" cl delete --store $R $A $B\n"
            "[ -e $R$A ] && [ -e $R$B ] || fail 'refused delete removed a file'\n"
            "ln -s $B $G/r2\n"
            "bad \"cannot delete path '$A': '$B', which needs it, is a GC root ('$G/r2')\""
            " cl delete --store $R $A\n"
            "rm $G/r2 $D/result\n"
            /* a temporary root of a live process */
            "(exec 9> $T/4242; flock -x 9; printf '%%s\\0' $B >&9; touch $D/held; exec sleep 30)"
            " &\n"
            "holder=$!\n"
            "while [ ! -e $D/held ]; do sleep 0.05; done\n"
            "bad \"cannot delete path '$B': it is a temporary root of process 4242\""
            " cl delete --store $R $B\n"
            "bad \"cannot delete path '$A': '$B', which needs it, is a temporary root of process "
            "4242\" cl delete --store $R $B $A\n"
            "kill $holder; wait $holder 2>/dev/null || true\n"
            /* a path in a running process's environment */
            "FOO=$A/bin sh -c 'touch $D/ready; exec sleep 30' &\n"
            "user=$!\n"
            "while [ ! -e $D/ready ]; do sleep 0.05; done\n"
            "bad \"cannot delete path '$A': it is in use by process $user (its environment)\""
            " cl delete --store $R $B $A\n"
            "kill $user; wait $user 2>/dev/null || true\n"
            "cl delete --store $R $B $A\n"
            "[ ! -e $R$A ] && [ ! -e $R$B ] || fail 'not deleted'\n"
            "[ ! -e $G/auto/x ] || fail 'stale auto root kept'\n"
            "[ ! -e $T/4242 ] || fail 'stale temporary roots file kept'\n"
            "clean\n");
        teardown();
}

/* While a delete holds gc.lock, a process adding a path hands its temporary
 * root over the collector's socket and goes on once the delete is done; a
 * root sent while the delete runs protects its path from then on. */
TEST(delete_takes_roots_over_the_socket)
{
        setup();
        script(
            "printf 'one\\n' > $D/one; cl dump $D/one > $D/one.nar; printf b > $D/b\n"
            "A=/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-one\n"
            "B=/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-two\n"
            "{ stream $D/one.nar $A | head -c -8; stream $D/one.nar $B $A; } > $D/s\n"
            "cl import --store $R < $D/s > /dev/null\n"
            /* B goes first; the delete waits for its lock holding gc.lock */
            "(exec 9>> $R$B.lock; flock -x 9; touch $D/held; exec sleep 30) &\n"
            "holder=$!\n"
            "while [ ! -e $D/held ]; do sleep 0.05; done\n"
            "cl delete --store $R --timeout 20 $A $B 2> $D/del.err &\n"
            "del=$!\n"
            "while flock -n -s $R/nix/var/nix/gc.lock true; do\n"
            "  kill -0 $del 2>/dev/null || fail \"delete ended: $(cat $D/del.err)\"; sleep 0.05\n"
            "done\n"
            /* an adder waits for the delete; a root for A arrives meanwhile */
            /* "$C", not cl: $! must be cloister itself for waits_on_socket */
            "\"$C\" store add --store $R $D/b > $D/b.out 2> $D/add.err &\n"
            "add=$!\n"
            "perl -MIO::Socket::UNIX -e '\n"
            "  my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die \"connect: $!\";\n"
            "  print $s \"$ARGV[1]\\n\"; $s->flush; open(my $t, \">\", $ARGV[3]);\n"
            "  read($s, my $c, 1) == 1 or die \"no ack\";\n"
            "  $c eq \"1\" or die \"ack $c\"; open(my $f, \">\", $ARGV[2]); sleep 30'"
            " $R/nix/var/nix/gc-socket/socket $A $D/acked $D/sent &\n"
            "sender=$!\n"
            /* both are waiting for their answer before B's lock goes */
            "waits_on_socket $add\n"
            "i=0; while [ ! -e $D/sent ]; do\n"
            "  i=$((i + 1)); [ $i -lt 400 ] || fail 'the root was never sent'; sleep 0.05\n"
            "done\n"
            "[ ! -e $D/acked ] || fail 'root acknowledged while B was being deleted'\n"
            "kill $holder; wait $holder 2>/dev/null || true\n"
            "if wait $del; then fail 'A deleted although a root for it arrived'; fi\n"
            "grep -q \"cannot delete path '$A': it is a temporary root of process $sender\""
            " $D/del.err || fail \"delete: $(cat $D/del.err)\"\n"
            "wait $add || fail \"add: $(cat $D/add.err)\"\n"
            "[ -e $D/acked ] || fail 'root not acknowledged'\n"
            "kill $sender; wait $sender 2>/dev/null || true\n"
            "[ ! -e $R$B ] && [ -e $R$A ] || fail 'wrong paths deleted'\n"
            "cl query --store $R --hash $A $(cat $D/b.out) > /dev/null\n"
            "clean\n");
        teardown();
}

/* The roots socket is open to every user: a client that sends root after
 * root without reading its answers is dropped, and the delete ends. */
TEST(delete_survives_a_flooding_client)
{
        setup();
        script(
            "printf a > $D/a; A=$(cl add --store $R $D/a)\n"
            "(exec 9>> $R$A.lock; flock -x 9; touch $D/held; exec sleep 30) &\n"
            "holder=$!\n"
            "while [ ! -e $D/held ]; do sleep 0.05; done\n"
            "timeout 20 \"$C\" store delete --store $R --timeout 15 $A 2> $D/del.err &\n"
            "del=$!\n"
            "while flock -n -s $R/nix/var/nix/gc.lock true; do\n"
            "  kill -0 $del 2>/dev/null || fail \"delete ended: $(cat $D/del.err)\"; sleep 0.05\n"
            "done\n"
            "perl -MIO::Socket::UNIX -e '\n"
            "  my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die \"connect: $!\";\n"
            "  print $s join(\"\", map { \"/nix/store/\" . (\"x\" x 32) . \"-flood\\n\" } 1 .. "
            "2000);\n"
            "  open(my $t, \">\", $ARGV[1]); sleep 30' $R/nix/var/nix/gc-socket/socket"
            " $D/flooded &\n"
            "flooder=$!\n"
            "i=0; while [ ! -e $D/flooded ]; do\n"
            "  i=$((i + 1)); [ $i -lt 400 ] || fail 'the flood was never sent'; sleep 0.05\n"
            "done\n"
            "kill $holder; wait $holder 2>/dev/null || true\n"
            "wait $del || fail \"delete: exit $?: $(cat $D/del.err)\"\n"
            "kill $flooder; wait $flooder 2>/dev/null || true\n"
            "[ ! -e $R$A ] || fail 'not deleted'\n"
            "clean\n");
        teardown();
}
