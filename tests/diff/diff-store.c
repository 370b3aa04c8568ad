/* Differential tests of the store database against Nix 2.8, each in fresh
 * store roots: `cloister store add` gives Nix's paths, rows and files; Nix
 * reads a store cloister wrote (verify --check-contents, every query) and
 * cloister reads one Nix wrote; export streams are byte-identical and each
 * side imports the other's; delete leaves a store Nix still verifies. The
 * checks are shell scripts run with $C (cloister), $D (a fresh directory) and
 * helper functions set. */
#include "tap.h"

#include "base/base-cleanup.h"
#include "store/store-add.h"
#include "store/store-db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char prelude[] =
    "set -eu\n"
    "cl() { \"$C\" store \"$@\"; }\n"
    "fail() { echo \"$*\" >&2; exit 1; }\n"
    "chk() { [ \"$1\" = \"$2\" ] || fail \"$3: cloister '$1', nix '$2'\"; }\n"
    /* a tree with every kind of node and a few awkward names */
    "mktree() {\n"
    "  mkdir -p \"$1/sub/deeper\" \"$1/empty\"\n"
    "  printf 'hello\\n' > \"$1/a\"; chmod 600 \"$1/a\"\n"
    "  head -c 200000 /dev/urandom > \"$1/sub/big\"; : > \"$1/sub/zero\"\n"
    "  printf '#!/bin/sh\\necho hi\\n' > \"$1/sub/run\"; chmod 755 \"$1/sub/run\"\n"
    "  ln -s a \"$1/link\"; ln -s /nonexistent \"$1/sub/dangling\"\n"
    "  printf x > \"$1/sub/deeper/odd name+=?\"; printf y > \"$1/sub/deeper/.hidden\"\n"
    "  printf z > \"$1/sub/deeper/B\"; printf z > \"$1/sub/deeper/a\"\n"
    "}\n"
    /* derivations with input sources, input derivations, a fixed output and
     * two outputs, instantiated by Nix into store $1 */
    "instantiate() {\n"
    "  mkdir -p $D/expr; printf 'src\\n' > $D/expr/f.txt\n"
    "  cat > $D/expr/a.nix <<'EOF'\n"
    "let\n"
    "  dep = derivation { name = \"dep\"; system = \"x86_64-linux\"; builder = \"/bin/sh\";"
    " args = [ \"-c\" \"echo\" ]; src = ./f.txt; };\n"
    "  fod = derivation { name = \"fod\"; system = \"x86_64-linux\"; builder = \"/bin/sh\";"
    " outputHashMode = \"flat\"; outputHashAlgo = \"sha256\";"
    " outputHash = \"0000000000000000000000000000000000000000000000000000\"; };\n"
    "in derivation { name = \"top\"; system = \"x86_64-linux\"; builder = \"/bin/sh\";"
    " args = [ \"-c\" \"echo ${dep} ${fod}\" ]; outputs = [ \"out\" \"dev\" ];"
    " txt = builtins.toFile \"t\" \"hello\"; }\n"
    "EOF\n"
    "  nix-instantiate --store \"$1\" $D/expr/a.nix 2>/dev/null\n"
    "}\n"
    /* an export stream made by hand: a self-reference, a deriver, a chain */
    "handstream() {\n"
    "  printf 'self\\n' > $D/h1; printf 'user\\n' > $D/h2; mkdir -p $D/h3; printf q > $D/h3/q\n"
    "  cl dump $D/h1 > $D/h1.nar; cl dump $D/h2 > $D/h2.nar; cl dump $D/h3 > $D/h3.nar\n"
    "  perl -e '\n"
    "    sub u { pack(\"Q<\", $_[0]) }\n"
    "    sub str { my $s = shift; u(length $s) . $s . (\"\\0\" x ((8 - length($s) % 8) % 8)) }\n"
    "    sub f { local $/; open(my $h, \"<\", $_[0]) or die; binmode $h; <$h> }\n"
    "    my ($d) = @ARGV; my $p = \"/nix/store/\";\n"
    "    my $a = $p . \"a\" x 32 . \"-self\"; my $b = $p . \"b\" x 32 . \"-user\";\n"
    "    my $c = $p . \"c\" x 32 . \"-dir\"; my $drv = $p . \"d\" x 32 . \"-x.drv\";\n"
    "    print u(1), f(\"$d/h1.nar\"), u(0x4558494e), str($a), u(1), str($a), str($drv), u(0);\n"
    "    print u(1), f(\"$d/h2.nar\"), u(0x4558494e), str($b), u(2), str($a), str($b), str(\"\"), "
    "u(0);\n"
    "    print u(1), f(\"$d/h3.nar\"), u(0x4558494e), str($c), u(1), str($b), str(\"\"), u(0);\n"
    "    print u(0);' $D > $D/hand.exp\n"
    "}\n"
    "allpaths() { sqlite3 \"$1/nix/var/nix/db/db.sqlite\" 'select path from ValidPaths order by "
    "path'; }\n"
    /* every query on every path agrees between nix-store and cloister */
    "queries_agree() {\n"
    "  st=$1; shift; [ $# -gt 0 ] || set -- $(allpaths \"$st\")\n"
    /* the per-argument queries once with every path, the lists per path */
    "  for q in --hash --size --deriver --tree; do\n"
    "    n=$(nix-store --store \"$st\" -q $q \"$@\") || fail \"nix-store -q $q failed\"\n"
    "    c=$(cl query --store \"$st\" $q \"$@\") || fail \"cloister store query $q failed\"\n"
    "    chk \"$c\" \"$n\" \"query $q\"\n"
    "  done\n"
    "  for qp in \"$@\"; do\n"
    "    for q in --references --referrers --requisites; do\n"
    "      n=$(nix-store --store \"$st\" -q $q $qp) || fail \"nix-store -q $q $qp failed\"\n"
    "      c=$(cl query --store \"$st\" $q $qp) || fail \"cloister store query $q $qp failed\"\n"
    "      chk \"$c\" \"$n\" \"query $q $qp\"\n"
    "    done\n"
    "  done\n"
    "}\n"
    "nixverify() {\n"
    "  nix-store --store \"$1\" --verify --check-contents 2> $D/verify.err ||"
    " fail \"nix-store --verify failed: $(cat $D/verify.err)\"\n"
    "  ! grep -qiE 'error|modified|disappeared|warning' $D/verify.err ||"
    " fail \"nix-store --verify complained: $(cat $D/verify.err)\"\n"
    "}\n"
    "rows() { sqlite3 \"$1/nix/var/nix/db/db.sqlite\" \"select path, hash, ifnull(deriver,'-'),"
    " ifnull(narSize,'-'), ifnull(ultimate,'-'), ifnull(sigs,'-'), ifnull(ca,'-') from"
    " ValidPaths order by path\"; }\n"
    "drvouts() { sqlite3 \"$1/nix/var/nix/db/db.sqlite\" 'select v.path, d.id, d.path from"
    " DerivationOutputs d join ValidPaths v on v.id = d.drv order by 1, 2'; }\n"
    "refs() { sqlite3 \"$1/nix/var/nix/db/db.sqlite\" 'select a.path, b.path from Refs r join"
    " ValidPaths a on a.id = r.referrer join ValidPaths b on b.id = r.reference order by 1, 2'; "
    "}\n";

/* Run the prelude and the formatted script; FAIL with its stderr unless it
 * exits 0. */
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
        CHECK_OK(tap_run(argv, NULL, 600, &res));
        int code = tap_exit_code(res.status);
        if (code != 0) {
                if (res.out && *res.out)
                        tap_diag("stdout: %s", res.out);
                FAIL("script exited %d: %s", code, res.err ? res.err : "");
        }
        tap_run_result_free(&res);
}

static char *dir;

static void setup(void)
{
        if (getuid() != 0)
                tap_skip("differential tests run as root");
        if (access("/usr/bin/nix-store", X_OK) < 0 || access("/usr/bin/sqlite3", X_OK) < 0)
                FAIL("nix-store and sqlite3 are needed: scripts/install-deps --test installs them");
        dir = tap_mkdtemp();
        _cleanup_free_ char *bin = tap_build_path("src/cloister");
        setenv("C", bin, 1);
        setenv("D", dir, 1);
        /* Nix must not reach the network or the machine's own store settings */
        setenv("NIX_CONF_DIR", dir, 1);
        unsetenv("NIX_REMOTE");
}

static void teardown(void)
{
        tap_rm_rf(dir);
        free(dir);
}

TEST_TIMEOUT(add_matches_nix, 600)
{
        setup();
        script(
            "R=$D/r; X=$D/x; mkdir $R $X\n"
            "mktree $D/src; printf 'flat\\n' > $D/f.txt; printf 'e' > $D/exe; chmod 755 $D/exe\n"
            "ln -s f.txt $D/fl\n"
            /* Nix refuses a symlink for a flat add; so does cloister */
            "if cl add --store $R --fixed sha256 $D/fl 2>/dev/null; then fail 'flat symlink'; fi\n"
            "chk \"$(cl add --store $R $D/src)\" \"$(nix-store --store $X --add $D/src)\" 'add "
            "dir'\n"
            "chk \"$(cl add --store $R $D/src/)\" \"$(nix-store --store $X --add $D/src/)\" 'add "
            "dir/'\n"
            "chk \"$(cl add --store $R $D/f.txt)\" \"$(nix-store --store $X --add $D/f.txt)\" 'add "
            "file'\n"
            "chk \"$(cl add --store $R $D/fl)\" \"$(nix-store --store $X --add $D/fl)\" 'add "
            "symlink'\n"
            "chk \"$(cl add --store $R $D/exe)\" \"$(nix-store --store $X --add $D/exe)\" 'add "
            "exe'\n"
            "for a in md5 sha1 sha256 sha512; do\n"
            "  chk \"$(cl add --store $R --fixed $a $D/f.txt)\""
            " \"$(nix-store --store $X --add-fixed $a $D/f.txt)\" \"add-fixed $a\"\n"
            "  chk \"$(cl add --store $R --fixed $a $D/exe)\""
            " \"$(nix-store --store $X --add-fixed $a $D/exe)\" \"add-fixed $a exe\"\n"
            "  chk \"$(cl add --store $R --fixed $a --recursive $D/src)\""
            " \"$(nix-store --store $X --add-fixed --recursive $a $D/src)\" \"add-fixed -r $a\"\n"
            "  chk \"$(cl add --store $R --fixed $a --recursive $D/exe)\""
            " \"$(nix-store --store $X --add-fixed --recursive $a $D/exe)\" \"add-fixed -r $a "
            "exe\"\n"
            "done\n"
            /* adding again changes nothing */
            "chk \"$(cl add --store $R $D/src)\" \"$(nix-store --store $X --add $D/src)\" 'again'\n"
            "chk \"$(rows $R)\" \"$(rows $X)\" 'database rows'\n"
            "chk \"$(refs $R)\" \"$(refs $X)\" 'references'\n"
            /* the same files with the same metadata */
            "ls_store() { (cd $1/nix/store && find . -mindepth 1 -printf '%%y %%m %%u %%g %%T@ %%s "
            "%%p %%l\\n'"
            " | grep -v ' \\./\\.links' | sort); }\n"
            "chk \"$(ls_store $R)\" \"$(ls_store $X)\" 'store contents'\n"
            /* the same layout, schema DDL and schema version */
            "ls_state() { (cd $1 && find . -path ./nix/store -prune -o -path"
            " './nix/var/nix/temproots/*' -prune -o -printf '%%y %%m %%u %%g %%s %%p %%l\\n'"
            " | sed \"s|$1|ROOT|\" | grep -v 'db.sqlite' | sort); }\n"
            "chk \"$(ls_state $R)\" \"$(ls_state $X)\" 'layout'\n"
            "q='select type, name, tbl_name, sql from sqlite_master order by rowid'\n"
            "chk \"$(sqlite3 $R/nix/var/nix/db/db.sqlite \"$q\")\""
            " \"$(sqlite3 $X/nix/var/nix/db/db.sqlite \"$q\")\" 'schema'\n"
            "chk \"$(sqlite3 $R/nix/var/nix/db/db.sqlite 'pragma journal_mode')\" wal journal\n"
            "cmp $R/nix/var/nix/db/schema $X/nix/var/nix/db/schema || fail 'schema file'\n"
            "nixverify $R\n");
        teardown();
}

TEST_TIMEOUT(nix_reads_cloister_store, 600)
{
        setup();
        script(
            "X=$D/x; R=$D/r; mkdir $X $R\n"
            "top=$(instantiate $X)\n"
            "nix-store --store $X --export $(nix-store --store $X -qR $top) > $D/closure.exp\n"
            "handstream\n"
            "cl import --store $R < $D/closure.exp > $D/imported\n"
            "chk \"$(sort $D/imported)\" \"$(nix-store --store $X -qR $top | sort)\" 'imported'\n"
            "cl import --store $R < $D/hand.exp > /dev/null\n"
            "mktree $D/src; cl add --store $R $D/src > /dev/null\n"
            "cl add --store $R --fixed sha1 $D/src/sub/big > /dev/null\n"
            "nixverify $R\n"
            "queries_agree $R\n"
            "chk \"$(drvouts $R)\" \"$(drvouts $X)\" 'derivation outputs'\n"
            /* a .drv written by cloister drv add is registered as Nix would */
            "Y=$D/y; mkdir $Y\n"
            "nix-store --store $X --export $(nix-store --store $X -qR $top | grep -v top.drv)"
            " | cl import --store $Y > /dev/null\n"
            "\"$C\" drv show --store $X $top > $D/top.json\n"
            "chk \"$(\"$C\" drv add --store $Y $D/top.json)\" $top 'drv add'\n"
            "chk \"$(rows $Y | grep top.drv | cut -d'|' -f2-)\""
            " \"$(rows $X | grep top.drv | cut -d'|' -f2-)\" 'drv row'\n"
            "chk \"$(drvouts $Y)\" \"$(drvouts $X)\" 'drv add outputs'\n"
            "chk \"$(refs $Y)\" \"$(refs $X)\" 'drv add references'\n"
            "nixverify $Y\n"
            "queries_agree $Y $top\n");
        teardown();
}

TEST_TIMEOUT(cloister_reads_nix_store, 600)
{
        setup();
        script(
            "X=$D/x; mkdir $X\n"
            "top=$(instantiate $X)\n"
            "mktree $D/src; p=$(nix-store --store $X --add $D/src)\n"
            "nix-store --store $X --add-fixed sha512 $D/src/a > /dev/null\n"
            "handstream; nix-store --store $X --import < $D/hand.exp > /dev/null\n"
            "cl verify --store $X --check-contents\n"
            "queries_agree $X\n"
            /* a modified path is found, as Nix finds it */
            "chmod u+w $X$p/sub; printf changed > $X$p/sub/zero\n"
            "if cl verify --store $X --check-contents 2> $D/err; then fail 'modified not seen'; "
            "fi\n"
            "grep -q \"path '$p' was modified\" $D/err || fail \"message: $(cat $D/err)\"\n"
            "cl verify --store $X || fail 'existence check should pass'\n"
            "rm -rf $X$p\n"
            "if cl verify --store $X 2> $D/err; then fail 'missing path not seen'; fi\n"
            "grep -q \"path '$p' is valid but does not exist\" $D/err || fail \"$(cat $D/err)\"\n");
        teardown();
}

TEST_TIMEOUT(export_and_import_both_ways, 600)
{
        setup();
        script("X=$D/x; R=$D/r; X2=$D/x2; mkdir $X $R $X2\n"
               "top=$(instantiate $X)\n"
               "handstream; nix-store --store $X --import < $D/hand.exp > /dev/null\n"
               "paths=$(allpaths $X)\n"
               "nix-store --store $X --export $paths > $D/nix.exp\n"
               "cl import --store $R < $D/nix.exp > /dev/null\n"
               /* same paths, same metadata: byte-identical streams */
               "cl export --store $R $paths > $D/cl.exp\n"
               "cmp $D/nix.exp $D/cl.exp || fail 'export streams differ'\n"
               "nix-store --store $X2 --import < $D/cl.exp > /dev/null\n"
               "nixverify $X2\n"
               "chk \"$(refs $X2)\" \"$(refs $X)\" 'references after nix import'\n"
               "chk \"$(rows $R | cut -d'|' -f1,2,3,4)\" \"$(rows $X2 | cut -d'|' -f1,2,3,4)\""
               " 'rows after import'\n"
               "chk \"$(drvouts $R)\" \"$(drvouts $X2)\" 'derivation outputs after import'\n"
               /* a partial closure exports in dependency order as Nix does */
               "some=$(nix-store --store $X -qR $top | head -n 3)\n"
               "nix-store --store $X --export $some > $D/a; cl export --store $R $some > $D/b\n"
               "cmp $D/a $D/b || fail 'partial export differs'\n");
        teardown();
}

TEST_TIMEOUT(delete_keeps_store_valid_for_nix, 600)
{
        setup();
        script(
            "X=$D/x; R=$D/r; mkdir $X $R\n"
            "top=$(instantiate $X)\n"
            "nix-store --store $X --export $(nix-store --store $X -qR $top) |"
            " cl import --store $R > /dev/null\n"
            "src=$(nix-store --store $R -qR $top | grep f.txt)\n"
            "if cl delete --store $R $src 2> $D/err; then fail 'referenced path deleted'; fi\n"
            "grep -q \"cannot delete path '$src': it is still referenced by\" $D/err ||"
            " fail \"message: $(cat $D/err)\"\n"
            "[ -e $R$src ] || fail 'refused delete removed the file'\n"
            "cl delete --store $R $top\n"
            "[ ! -e $R$top ] || fail 'file still there'\n"
            "if nix-store --store $R -q --hash $top 2>/dev/null; then fail 'still valid'; fi\n"
            "dep=$(nix-store --store $R -q --referrers $src | grep dep.drv)\n"
            "cl delete --store $R $src $dep\n"
            "nixverify $R\n"
            "queries_agree $R\n"
            /* nothing but the store paths is left in the store directory */
            "left=$(ls -A $R/nix/store | grep -v '^\\.links$' | grep -vE '\\.drv$|-t$' || true)\n"
            "[ -z \"$left\" ] || fail \"left in the store: $left\"\n");
        teardown();
}

TEST_TIMEOUT(shares_a_store_with_nix_at_once, 600)
{
        setup();
        script("R=$D/r; mkdir $R; mktree $D/src\n"
               /* the same path added by both at the same time: one row, intact */
               "for i in 1 2 3 4; do\n"
               "  printf $i > $D/src/n\n"
               "  cl add --store $R $D/src > $D/c.$i & c=$!\n"
               "  nix-store --store $R --add $D/src > $D/n.$i 2> $D/n.err & n=$!\n"
               "  wait $c || fail \"cloister add $i failed\"\n"
               "  wait $n || fail \"nix add $i failed: $(cat $D/n.err)\"\n"
               "  chk \"$(cat $D/c.$i)\" \"$(cat $D/n.$i)\" \"concurrent add $i\"\n"
               "done\n"
               "nixverify $R\n"
               "[ $(allpaths $R | wc -l) -eq 4 ] || fail 'rows'\n"
               /* Nix's garbage collector running meanwhile takes nothing from
                * under an add (temporary roots, the staging directory) */
               "for i in 1 2 3 4 5 6; do\n"
               "  printf $i > $D/src/m\n"
               "  nix-store --store $R --gc > /dev/null 2>&1 & g=$!\n"
               "  cl add --store $R $D/src > /dev/null || fail \"add during gc $i\"\n"
               "  wait $g || fail 'gc failed'\n"
               "done\n"
               "nixverify $R\n"
               "cl verify --store $R --check-contents\n"
               "left=$(ls -A $R/nix/store | grep -e -cloister-stage -e '\\.lock$' || true)\n"
               "[ -z \"$left\" ] || fail \"left in the store: $left\"\n");
        teardown();
}

/* Nix and cloister agree on what is alive (a GC root, an indirect one, a
 * path a root needs, a temporary root), and a `nix-store --add` running
 * while cloister deletes hands its root to cloister's socket and succeeds. */
TEST_TIMEOUT(delete_agrees_with_nix_on_roots, 600)
{
        setup();
        script(
            "R=$D/r; mkdir $R; G=$R/nix/var/nix/gcroots\n"
            "top=$(instantiate $R)\n"
            "src=$(nix-store --store $R -qR $top | grep f.txt)\n"
            "dep=$(nix-store --store $R -q --referrers $src | grep dep.drv)\n"
            /* refused by both while rooted, directly or indirectly */
            "both_refuse() {\n"
            "  if nix-store --store $R --delete \"$@\" > /dev/null 2>&1; then fail \"nix deleted "
            "$*\"; fi\n"
            "  if cl delete --store $R \"$@\" 2> $D/err; then fail \"cloister deleted $*\"; fi\n"
            "  grep -q 'cannot delete path' $D/err || fail \"message: $(cat $D/err)\"\n"
            "  for p in \"$@\"; do [ -e $R$p ] || fail \"$p removed\"; done\n"
            "}\n"
            "ln -s $top $G/r; both_refuse $top; both_refuse $top $dep; rm $G/r\n"
            /* keep-derivations: a derivation lives while an output it built is valid */
            "out=$(nix-store --store $R -q --outputs $top | head -1)\n"
            "printf o > $D/o; cl dump $D/o > $D/o.nar\n"
            "perl -e '\n"
            "  sub u { pack(\"Q<\", $_[0]) }\n"
            "  sub str { my $s = shift; u(length $s) . $s . (\"\\0\" x ((8 - length($s) %% 8) %% "
            "8)) }\n"
            "  sub f { local $/; open(my $h, \"<\", $_[0]) or die; binmode $h; <$h> }\n"
            "  print u(1), f($ARGV[0]), u(0x4558494e), str($ARGV[1]), u(0), str($ARGV[2]),"
            " u(0), u(0);' $D/o.nar $out $top | cl import --store $R > /dev/null\n"
            "[ \"$(cl query --store $R --deriver $out)\" = $top ] || fail deriver\n"
            "both_refuse $top\n"
            "grep -q \"cannot delete path '$top': its output '$out' is still valid\" $D/err ||"
            " fail \"message: $(cat $D/err)\"\n"
            "nix-store --store $R --delete $out > /dev/null 2>&1\n"
            "mkdir -p $G/auto; ln -s $D/result $G/auto/x; ln -s $top $D/result\n"
            "both_refuse $top $dep $src; rm $D/result\n"
            "(exec 9> $R/nix/var/nix/temproots/4242; flock -x 9; printf '%%s\\0' $top >&9;"
            " touch $D/held; exec sleep 30) &\n"
            "h=$!; while [ ! -e $D/held ]; do sleep 0.05; done\n"
            "both_refuse $top\n"
            "kill $h; wait $h 2>/dev/null || true\n"
            /* a Nix adder while cloister holds gc.lock (waiting for top's lock) */
            "(exec 9>> $R$top.lock; flock -x 9; touch $D/held2; exec sleep 30) &\n"
            "h=$!; while [ ! -e $D/held2 ]; do sleep 0.05; done\n"
            "cl delete --store $R --timeout 60 $top $dep $src 2> $D/del.err & del=$!\n"
            "while flock -n -s $R/nix/var/nix/gc.lock true; do\n"
            "  kill -0 $del 2>/dev/null || fail \"delete ended: $(cat $D/del.err)\"; sleep 0.05\n"
            "done\n"
            "printf new > $D/new\n"
            "nix-store --store $R --add $D/new > $D/new.out 2> $D/new.err & n=$!\n"
            /* Nix's adder waits for cloister's answer on the socket */
            "i=0; until grep -qs unix_stream /proc/$n/wchan /proc/$n/task/*/wchan; do\n"
            "  kill -0 $n 2>/dev/null || fail \"nix add ended: $(cat $D/new.err)\"\n"
            "  i=$((i + 1)); [ $i -lt 400 ] || fail 'nix add never waited on the socket'\n"
            "  sleep 0.05\n"
            "done\n"
            "kill $h; wait $h 2>/dev/null || true\n"
            "wait $del || fail \"delete: $(cat $D/del.err)\"\n"
            "wait $n || fail \"nix add: $(cat $D/new.err)\"\n"
            "for p in $top $dep $src; do [ ! -e $R$p ] || fail \"$p not deleted\"; done\n"
            "cl query --store $R --hash $(cat $D/new.out) > /dev/null\n"
            "nixverify $R\n");
        teardown();
}

TEST_TIMEOUT(staging_survives_nix_gc, 600)
{
        setup();
        _cleanup_free_ char *root = NULL;
        if (asprintf(&root, "%s/r", dir) < 0)
                abort();
        CHECK(mkdir(root, 0755) == 0);
        struct store_db_options o = {.root = root};
        struct store_db *db = NULL;
        struct cl_error err = {0};
        if (store_db_open(&o, &db, &err) < 0)
                FAIL("open: %s", err.msg);
        struct store_stage stage = STORE_STAGE_INIT;
        if (store_stage_new(db, &stage, &err) < 0)
                FAIL("stage: %s", err.msg);
        CHECK(mkdirat(stage.fd, "x", 0755) == 0);
        _cleanup_free_ char *staged = NULL;
        if (asprintf(&staged, "%s/nix/store/%s/x", root, stage.base) < 0)
                abort();
        /* a collection while the stage is in use: the temporary root keeps it */
        script("nix-store --store $D/r --gc > /dev/null 2>&1\n");
        CHECK(access(staged, F_OK) == 0);
        store_stage_free(&stage);
        store_db_close(db);
        CHECK(access(staged, F_OK) < 0);
        teardown();
}
