/* Differential tests of NAR against Nix 2.8: on random trees (every node type,
 * odd names, sizes around the buffer sizes) `cloister store dump` is
 * byte-identical to `nix-store --dump`, `cloister store hash` prints what
 * `nix-hash` prints, and `cloister store restore` of Nix's NAR gives a tree
 * that Nix dumps to the same bytes. */
#include "tap.h"

#include "base/base-cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (128 * 1024) /* NAR_CHUNK: sizes around it cross output buffers */

static uint64_t rng;
static uint64_t rnd(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

/* Names that sort differently bytewise than in a locale, and every awkward
 * byte a file name may hold. */
static const char *const names[] = {
    "a",
    "B",
    "b",
    "Z",
    "_",
    "-",
    "a.b",
    "aa",
    "a-",
    "space name",
    " lead",
    "trail ",
    "new\nline",
    "tab\there",
    "\x01"
    "ctrl",
    "\xc3\xbc",
    "\xc3\x84",
    "\xc3\xa4",
    "e\xcc\x81",
    "\xf0\x9f\x98\x80",
    "\xff\xfe",
    "#hash",
    "~tilde",
    "...",
    ".hidden",
    "..x",
    "x..",
    "UPPER",
    "lower",
    "9",
    "10",
    "a\\b",
    "'q'",
    "\"dq\"",
    "*",
    "?",
    "[x]",
    "$v",
};

static void ensure_nix(void)
{
        if (getuid() != 0)
                tap_skip("differential tests run as root");
        if (access("/usr/bin/nix-store", X_OK) < 0 || access("/usr/bin/nix-hash", X_OK) < 0)
                FAIL("nix-store and nix-hash (Debian's nix-bin) are needed: "
                     "scripts/install-deps --test installs them");
}

static void write_random_file(int dirfd, const char *name, size_t size, mode_t mode)
{
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                FAIL("create '%s': %s", name, strerror(errno));
        char buf[8192];
        int text = (int)(rnd() % 2);
        for (size_t off = 0; off < size;) {
                size_t k = size - off < sizeof(buf) ? size - off : sizeof(buf);
                for (size_t i = 0; i < k; i++)
                        buf[i] = text ? (char)(' ' + rnd() % 95) : (char)rnd();
                if (write(fd, buf, k) != (ssize_t)k)
                        FAIL("write '%s': %s", name, strerror(errno));
                off += k;
        }
        if (fchmod(fd, mode) < 0)
                FAIL("chmod '%s': %s", name, strerror(errno));
        close(fd);
}

static size_t random_size(void)
{
        switch (rnd() % 10) {
        case 0:
                return 0;
        case 1:
                return CHUNK - 8 + rnd() % 16;
        case 2:
                return 2 * CHUNK + rnd() % 64;
        case 3:
                return rnd() % 300000;
        case 4:
                return 64 * 1024 - 4 + rnd() % 8; /* the fd reader's buffer */
        default:
                return rnd() % 100;
        }
}

static mode_t random_file_mode(void)
{
        static const mode_t modes[] = {0644, 0755, 0600, 0700, 0645, 0654, 0744, 0444, 0555, 0100};
        return modes[rnd() % ELEMENTSOF(modes)];
}

static void make_symlink(int dirfd, const char *name)
{
        char target[600];
        switch (rnd() % 5) {
        case 0:
                snprintf(target, sizeof(target), "/nix/store/%llx-dangling",
                         (unsigned long long)rnd());
                break;
        case 1:
                snprintf(target, sizeof(target), "../%s", names[rnd() % ELEMENTSOF(names)]);
                break;
        case 2:
                snprintf(target, sizeof(target), "/");
                break;
        case 3:
                memset(target, 'l', 500);
                target[500] = 0;
                break;
        default:
                snprintf(target, sizeof(target), "%s", names[rnd() % ELEMENTSOF(names)]);
        }
        if (symlinkat(target, dirfd, name) < 0)
                FAIL("symlink '%s': %s", name, strerror(errno));
}

static void fill_dir(int dirfd, int depth)
{
        int n = (int)(rnd() % (depth == 0 ? 12 : 6)) + (depth == 0 ? 4 : 0);
        for (int i = 0; i < n; i++) {
                const char *name = names[rnd() % ELEMENTSOF(names)];
                struct stat st;
                if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        continue;
                unsigned kind = (unsigned)(rnd() % 10);
                if (kind < 5) {
                        write_random_file(dirfd, name, random_size(), random_file_mode());
                } else if (kind < 7) {
                        make_symlink(dirfd, name);
                } else {
                        if (mkdirat(dirfd, name, 0755) < 0)
                                FAIL("mkdir '%s': %s", name, strerror(errno));
                        if (depth < 4) {
                                int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                                CHECK(fd >= 0);
                                fill_dir(fd, depth + 1);
                                close(fd);
                        }
                        if (rnd() % 4 == 0)
                                CHECK(fchmodat(dirfd, name, 0555, 0) == 0);
                }
        }
}

/* Run /bin/sh -c script with $1.. = args; returns the exit code, fails on a
 * signal. The output goes to err_out (may be NULL). */
static int sh(const char *script, const char *a1, const char *a2, const char *a3, char **err_out)
{
        char *argv[] = {"/bin/sh",  "-c",       (char *)script, "sh",
                        (char *)a1, (char *)a2, (char *)a3,     NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 120, &res));
        int code = tap_exit_code(res.status);
        if (err_out)
                *err_out = strdup(res.err ? res.err : "");
        if (code != 0)
                tap_diag("'%s' %s %s: exit %d: %s", script, a1 ? a1 : "", a2 ? a2 : "", code,
                         res.err ? res.err : "");
        tap_run_result_free(&res);
        return code;
}

static char *capture(const char *script, const char *a1, const char *a2, const char *a3)
{
        char *argv[] = {"/bin/sh",  "-c",       (char *)script, "sh",
                        (char *)a1, (char *)a2, (char *)a3,     NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 120, &res));
        if (tap_exit_code(res.status) != 0)
                FAIL("'%s' %s: exit %d: %s", script, a1, tap_exit_code(res.status), res.err);
        char *out = strdup(res.out ? res.out : "");
        tap_run_result_free(&res);
        return out;
}

static int same_file(const char *a, const char *b)
{
        char *argv[] = {"/usr/bin/cmp", "-s", (char *)a, (char *)b, NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 60, &res));
        int code = tap_exit_code(res.status);
        tap_run_result_free(&res);
        return code == 0;
}

/* The top object: a directory tree (mostly), a file or a symlink. */
static void make_top(const char *dir, const char *name)
{
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(dfd >= 0);
        switch (rnd() % 8) {
        case 0:
                write_random_file(dfd, name, random_size(), random_file_mode());
                break;
        case 1:
                make_symlink(dfd, name);
                break;
        default: {
                CHECK(mkdirat(dfd, name, 0755) == 0);
                int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                CHECK(fd >= 0);
                fill_dir(fd, 0);
                close(fd);
        }
        }
        close(dfd);
}

static char *cloister(void)
{
        return tap_build_path("src/cloister");
}

TEST_TIMEOUT(dump_and_restore_match_nix, 300)
{
        ensure_nix();
        _cleanup_free_ char *bin = cloister();
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        for (int iter = 0; iter < 25; iter++) {
                rng = 0x9e3779b97f4a7c15ull * (uint64_t)(iter + 1);
                char top[32], ours[32], theirs[32], back[32], back_nar[32];
                snprintf(top, sizeof(top), "t%d", iter);
                snprintf(ours, sizeof(ours), "ours%d.nar", iter);
                snprintf(theirs, sizeof(theirs), "nix%d.nar", iter);
                snprintf(back, sizeof(back), "r%d", iter);
                snprintf(back_nar, sizeof(back_nar), "r%d.nar", iter);
                make_top(dir, top);
                CHECK_INT(sh("exec \"$1\" store dump \"$2\" > \"$3\"", bin, top, ours, NULL), ==,
                          0);
                CHECK_INT(sh("exec nix-store --dump \"$1\" > \"$2\"", top, theirs, NULL, NULL), ==,
                          0);
                if (!same_file(ours, theirs))
                        FAIL("tree %d: cloister's NAR differs from nix-store --dump", iter);
                /* restore Nix's NAR, and let Nix dump what we restored */
                CHECK_INT(sh("exec \"$1\" store restore \"$2\" < \"$3\"", bin, back, theirs, NULL),
                          ==, 0);
                CHECK_INT(sh("exec nix-store --dump \"$1\" > \"$2\"", back, back_nar, NULL, NULL),
                          ==, 0);
                if (!same_file(back_nar, theirs))
                        FAIL("tree %d: restoring Nix's NAR gave a different tree", iter);
                struct stat st;
                CHECK(stat(theirs, &st) == 0);
                tap_diag("tree %d: %lld-byte NAR identical", iter, (long long)st.st_size);
        }
        CHECK_INT(tap_rm_rf(dir), ==, 0);
}

TEST_TIMEOUT(hashes_match_nix_hash, 300)
{
        ensure_nix();
        _cleanup_free_ char *bin = cloister();
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        static const char *const types[] = {"md5", "sha1", "sha256", "sha512"};
        for (int iter = 0; iter < 12; iter++) {
                rng = 0x2545f4914f6cdd1dull * (uint64_t)(iter + 7);
                char top[32];
                snprintf(top, sizeof(top), "h%d", iter);
                make_top(dir, top);
                for (size_t t = 0; t < ELEMENTSOF(types); t++)
                        for (int base32 = 0; base32 < 2; base32++) {
                                const char *flag = base32 ? "--base32" : "--type";
                                const char *script =
                                    base32 ? "exec \"$1\" store hash --type \"$2\" --base32 "
                                             "\"$3\""
                                           : "exec \"$1\" store hash --type \"$2\" \"$3\"";
                                const char *nix = base32 ? "exec nix-hash --type \"$1\" --base32 "
                                                           "\"$2\""
                                                         : "exec nix-hash --type \"$1\" \"$2\"";
                                _cleanup_free_ char *a = capture(script, bin, types[t], top);
                                _cleanup_free_ char *b = capture(nix, types[t], top, NULL);
                                if (strcmp(a, b) != 0)
                                        FAIL("tree %d %s %s: cloister '%s', nix-hash '%s'", iter,
                                             types[t], flag, a, b);
                        }
        }
        /* the defaults (md5, base16) and --flat on a regular file */
        write_random_file(AT_FDCWD, "flat", 3 * CHUNK + 5, 0755);
        _cleanup_free_ char *a = capture("exec \"$1\" store hash \"$2\"", bin, "h0", NULL);
        _cleanup_free_ char *b = capture("exec nix-hash \"$1\"", "h0", NULL, NULL);
        CHECK_STR(a, b);
        for (size_t t = 0; t < ELEMENTSOF(types); t++) {
                _cleanup_free_ char *fa = capture(
                    "exec \"$1\" store hash --flat --type \"$2\" flat", bin, types[t], NULL);
                _cleanup_free_ char *fb =
                    capture("exec nix-hash --flat --type \"$1\" flat", types[t], NULL, NULL);
                CHECK_STR(fa, fb);
        }
        CHECK_INT(tap_rm_rf(dir), ==, 0);
}

/* A NAR that Nix wrote is restored, and one cloister wrote is restored by Nix. */
TEST(nix_restores_cloister_nar)
{
        ensure_nix();
        _cleanup_free_ char *bin = cloister();
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        rng = 12345;
        make_top(dir, "x");
        CHECK_INT(sh("exec \"$1\" store dump \"$2\" > \"$3\"", bin, "x", "x.nar", NULL), ==, 0);
        CHECK_INT(sh("exec nix-store --restore \"$1\" < \"$2\"", "y", "x.nar", NULL, NULL), ==, 0);
        CHECK_INT(sh("exec nix-store --dump \"$1\" > \"$2\"", "y", "y.nar", NULL, NULL), ==, 0);
        CHECK(same_file("x.nar", "y.nar"));
        CHECK_INT(tap_rm_rf(dir), ==, 0);
}
