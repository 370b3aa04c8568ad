/* Unit tests for NAR: Nix's test vectors, dump/restore round trips, every class
 * of malformed NAR (each must name its byte offset and leave nothing behind),
 * truncation at every byte, the streaming parser, and hash + scan in one pass. */
#include "tap.h"

#include "base/base-buf.h"
#include "base/base-cleanup.h"
#include "store/store-nar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers */

static int buf_sink(void *userdata, const void *data, size_t len, struct cl_error *err)
{
        (void)err;
        return buf_append(userdata, data, len);
}

struct mem {
        const unsigned char *data;
        size_t len, pos;
        size_t step; /* at most this many bytes per read; 0: any */
};

static ssize_t mem_read(void *userdata, void *buf, size_t len, struct cl_error *err)
{
        struct mem *m = userdata;
        (void)err;
        size_t k = m->len - m->pos;
        if (k > len)
                k = len;
        if (m->step && k > m->step)
                k = m->step;
        memcpy(buf, m->data + m->pos, k);
        m->pos += k;
        return (ssize_t)k;
}

static void dump_to(const char *path, struct cl_buf *out)
{
        struct cl_error err = {0};
        if (nar_dump_path(path, buf_sink, out, &err) < 0)
                FAIL("dump '%s': %s", path, err.msg);
}

static int restore_mem(const char *dir, const char *name, const void *data, size_t len, bool whole,
                       struct cl_error *err)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0);
        struct mem m = {.data = data, .len = len};
        struct nar_source src = {.read = mem_read, .userdata = &m, .whole = whole};
        return nar_restore_at(fd, name, &src, NULL, err);
}

static int count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        CHECK(d != NULL);
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

/* NAR builder for hand-made (and malformed) archives */
static void put_u64(struct cl_buf *b, uint64_t v)
{
        unsigned char x[8];
        for (int i = 0; i < 8; i++)
                x[i] = (unsigned char)(v >> (8 * i));
        CHECK_OK(buf_append(b, x, 8));
}

static void put_bytes(struct cl_buf *b, const void *s, size_t n)
{
        static const unsigned char zero[8];
        put_u64(b, n);
        CHECK_OK(buf_append(b, s, n));
        CHECK_OK(buf_append(b, zero, (8 - n % 8) % 8));
}

static void put(struct cl_buf *b, const char *s)
{
        put_bytes(b, s, strlen(s));
}

static void put_file_entry(struct cl_buf *b, const void *name, size_t nlen, const char *contents)
{
        put(b, "entry");
        put(b, "(");
        put(b, "name");
        put_bytes(b, name, nlen);
        put(b, "node");
        put(b, "(");
        put(b, "type");
        put(b, "regular");
        put(b, "contents");
        put(b, contents);
        put(b, ")");
        put(b, ")");
}

static void put_dir_start(struct cl_buf *b)
{
        put(b, "nix-archive-1");
        put(b, "(");
        put(b, "type");
        put(b, "directory");
}

static char *hash_of(const char *path, enum hash_type type, enum hash_encoding enc)
{
        _cleanup_close_ int fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct hash h;
        struct cl_error err = {0};
        if (nar_hash_at(fd, path, type, NULL, &h, NULL, &err) < 0)
                FAIL("hash '%s': %s", path, err.msg);
        char buf[HASH_STR_MAX];
        return strdup(hash_print(&h, enc, false, buf));
}

/* ---- Nix's vectors (NIX-FORMATS.md 3.3) */

TEST(vector_file_hi)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        tap_write_file("f", "hi\n", 0644);
        static const unsigned char expect[120] = {
            0x0d, 0,   0,   0, 0,   0, 0,   0,   'n',  'i', 'x', '-', 'a', 'r', 'c', 'h', 'i', 'v',
            'e',  '-', '1', 0, 0,   0, 1,   0,   0,    0,   0,   0,   0,   0,   '(', 0,   0,   0,
            0,    0,   0,   0, 4,   0, 0,   0,   0,    0,   0,   0,   't', 'y', 'p', 'e', 0,   0,
            0,    0,   7,   0, 0,   0, 0,   0,   0,    0,   'r', 'e', 'g', 'u', 'l', 'a', 'r', 0,
            8,    0,   0,   0, 0,   0, 0,   0,   'c',  'o', 'n', 't', 'e', 'n', 't', 's', 3,   0,
            0,    0,   0,   0, 0,   0, 'h', 'i', '\n', 0,   0,   0,   0,   0,   1,   0,   0,   0,
            0,    0,   0,   0, ')', 0, 0,   0,   0,    0,   0,   0,
        };
        _cleanup_buf_ struct cl_buf nar = CL_BUF_INIT;
        dump_to("f", &nar);
        CHECK_INT(nar.len, ==, sizeof(expect));
        CHECK(memcmp(nar.data, expect, sizeof(expect)) == 0);
        _cleanup_free_ char *h = hash_of("f", HASH_SHA256, HASH_NIX32);
        CHECK_STR(h, "1xmr8jicvzszfzpz46g37mlpvbzjl2wpwvl2b05psipssyp1sm8h");
        CHECK(chmod("f", 0755) == 0);
        _cleanup_free_ char *hx = hash_of("f", HASH_SHA256, HASH_NIX32);
        CHECK_STR(hx, "19qdn6jdp9i45l6wvas7q9cljnjp1kgm84a9ci9pd247ncdcwnxm");
        /* only the owner's x bit counts */
        CHECK(chmod("f", 0655) == 0);
        _cleanup_free_ char *hy = hash_of("f", HASH_SHA256, HASH_NIX32);
        CHECK_STR(hy, "1xmr8jicvzszfzpz46g37mlpvbzjl2wpwvl2b05psipssyp1sm8h");
        CHECK(chmod("f", 0100) == 0);
        _cleanup_free_ char *hz = hash_of("f", HASH_SHA256, HASH_NIX32);
        CHECK_STR(hz, "19qdn6jdp9i45l6wvas7q9cljnjp1kgm84a9ci9pd247ncdcwnxm");
        tap_rm_rf(dir);
}

TEST(vector_directory_and_symlinks)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        CHECK(mkdir("d", 0755) == 0);
        tap_write_file("d/hello", "Hello World\n", 0644);
        _cleanup_free_ char *plain = hash_of("d", HASH_MD5, HASH_BASE16);
        CHECK_STR(plain, "ea9b55537dd4c7e104515b2ccfaf4100");
        CHECK(chmod("d/hello", 0755) == 0);
        _cleanup_free_ char *exec = hash_of("d", HASH_MD5, HASH_BASE16);
        CHECK_STR(exec, "20f3ffe011d4cfa7d72bfabef7882836");
        CHECK(unlink("d/hello") == 0);
        CHECK(symlink("x", "d/hello") == 0);
        _cleanup_free_ char *link = hash_of("d", HASH_MD5, HASH_BASE16);
        CHECK_STR(link, "f78b733a68f5edbdf9413899339eaa4a");
        CHECK(symlink("/non-existent-48cujwe8ndf4as0bne", "l1") == 0);
        _cleanup_free_ char *l1 = hash_of("l1", HASH_SHA256, HASH_NIX32);
        CHECK_STR(l1, "1bl5ry3x1fcbwgr5c2x50bn572iixh4j1p6ax5isxly2ddgn8pbp");
        CHECK(symlink("/bin", "l2") == 0);
        _cleanup_free_ char *l2 = hash_of("l2", HASH_SHA256, HASH_NIX32);
        CHECK_STR(l2, "0z2mdmkd43l0ijdxfbj1y8vzli15yh9b09n3a3rrygmjshbyypsw");
        tap_rm_rf(dir);
}

/* ---- round trip */

static void make_tree(const char *root)
{
        CHECK(mkdir(root, 0755) == 0);
        CHECK(chdir(root) == 0);
        tap_write_file("a", "a\n", 0644);
        tap_write_file("B", "", 0644);
        tap_write_file("exe", "#!/bin/sh\n", 0755);
        CHECK(mkdir("sub", 0755) == 0);
        CHECK(mkdir("sub/empty", 0755) == 0);
        CHECK(mkdir("sub/deeper", 0755) == 0);
        tap_write_file("sub/deeper/new\nline", "x", 0644);
        tap_write_file("sub/\xc3\xbc", "utf8", 0644);
        CHECK(symlink("../a", "sub/up") == 0);
        CHECK(symlink("/nonexistent/abs", "dangling") == 0);
        /* a file bigger than two output chunks, not a multiple of 8 */
        size_t big = 2 * NAR_CHUNK + 13;
        char *data = malloc(big + 1);
        CHECK(data);
        for (size_t i = 0; i < big; i++)
                data[i] = (char)('a' + i % 23);
        data[big] = 0;
        tap_write_file("big", data, 0644);
        free(data);
        CHECK(chdir("..") == 0);
}

TEST(dump_restore_round_trip)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        make_tree("t");
        _cleanup_buf_ struct cl_buf nar = CL_BUF_INIT;
        dump_to("t", &nar);
        struct cl_error err = {0};
        if (restore_mem(dir, "r", nar.data, nar.len, true, &err) < 0)
                FAIL("restore: %s", err.msg);
        _cleanup_buf_ struct cl_buf again = CL_BUF_INIT;
        dump_to("r", &again);
        CHECK_INT(again.len, ==, nar.len);
        CHECK(memcmp(again.data, nar.data, nar.len) == 0);
        struct stat st;
        CHECK(lstat("r/exe", &st) == 0 && (st.st_mode & 0111) == 0111);
        CHECK(lstat("r/a", &st) == 0 && (st.st_mode & 0111) == 0);
        CHECK(lstat("r/dangling", &st) == 0 && S_ISLNK(st.st_mode));
        /* nothing else in the parent: no temporary left */
        CHECK_INT(count_entries(dir), ==, 2);
        /* a NAR read one byte at a time restores the same */
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct mem m = {.data = (const unsigned char *)nar.data, .len = nar.len, .step = 1};
        struct nar_source src = {.read = mem_read, .userdata = &m};
        uint64_t size = 0;
        CHECK_OK(nar_restore_at(fd, "r1", &src, &size, &err));
        CHECK_INT(size, ==, nar.len);
        _cleanup_buf_ struct cl_buf third = CL_BUF_INIT;
        dump_to("r1", &third);
        CHECK(third.len == nar.len && memcmp(third.data, nar.data, nar.len) == 0);
        tap_rm_rf(dir);
}

TEST(restore_top_level_file_and_symlink)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        tap_write_file("f", "data", 0755);
        CHECK(symlink("f", "l") == 0);
        struct cl_error err = {0};
        _cleanup_buf_ struct cl_buf nf = CL_BUF_INIT, nl = CL_BUF_INIT;
        dump_to("f", &nf);
        dump_to("l", &nl);
        CHECK_OK(restore_mem(dir, "f2", nf.data, nf.len, true, &err));
        CHECK_OK(restore_mem(dir, "l2", nl.data, nl.len, true, &err));
        struct stat st;
        CHECK(lstat("f2", &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0100));
        CHECK(lstat("l2", &st) == 0 && S_ISLNK(st.st_mode));
        _cleanup_free_ char *t = tap_read_file("f2");
        CHECK_STR(t, "data");
        CHECK_INT(count_entries(dir), ==, 4);
        tap_rm_rf(dir);
}

TEST(restore_refuses_existing_target)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        tap_write_file("f", "data", 0644);
        CHECK(mkdir("existing", 0755) == 0);
        CHECK(symlink("/nonexistent-target", "dangling") == 0);
        _cleanup_buf_ struct cl_buf nar = CL_BUF_INIT;
        dump_to("f", &nar);
        struct cl_error err = {0};
        CHECK_INT(restore_mem(dir, "existing", nar.data, nar.len, true, &err), ==, -EEXIST);
        CHECK(strstr(err.msg, "already exists") != NULL);
        CHECK_INT(restore_mem(dir, "dangling", nar.data, nar.len, true, &err), ==, -EEXIST);
        CHECK(access("/nonexistent-target", F_OK) < 0);
        CHECK_INT(restore_mem(dir, "..", nar.data, nar.len, true, &err), ==, -EINVAL);
        CHECK_INT(restore_mem(dir, "a/b", nar.data, nar.len, true, &err), ==, -EINVAL);
        CHECK_INT(count_entries(dir), ==, 3);
        CHECK_INT(count_entries("existing"), ==, 0);
        tap_rm_rf(dir);
}

/* ---- dump refusals */

TEST(dump_refuses_special_files_and_depth)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        CHECK(mkdir("d", 0755) == 0);
        CHECK(mkfifo("d/fifo", 0644) == 0);
        _cleanup_buf_ struct cl_buf nar = CL_BUF_INIT;
        struct cl_error err = {0};
        CHECK_INT(nar_dump_path("d", buf_sink, &nar, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "'d/fifo' is not a regular file, directory or symlink") != NULL);
        CHECK(unlink("d/fifo") == 0);
        /* NAR_MAX_DEPTH directories below the top one */
        CHECK(chdir("d") == 0);
        for (int i = 0; i < NAR_MAX_DEPTH; i++)
                CHECK(mkdir("x", 0755) == 0 && chdir("x") == 0);
        CHECK(chdir(dir) == 0);
        CHECK_INT(nar_dump_path("d", buf_sink, &nar, &err), ==, -ELOOP);
        CHECK(strstr(err.msg, "nested deeper than") != NULL);
        tap_rm_rf(dir);
}

/* ---- malformed NARs */

typedef void (*build_fn)(struct cl_buf *b);

static void bad_unsorted(struct cl_buf *b)
{
        put_dir_start(b);
        put_file_entry(b, "b", 1, "");
        put_file_entry(b, "a", 1, "");
        put(b, ")");
}

static void bad_duplicate(struct cl_buf *b)
{
        put_dir_start(b);
        put_file_entry(b, "a", 1, "");
        put_file_entry(b, "a", 1, "");
        put(b, ")");
}

static void bad_prefix_order(struct cl_buf *b)
{
        /* "ab" then "a": a prefix sorts first */
        put_dir_start(b);
        put_file_entry(b, "ab", 2, "");
        put_file_entry(b, "a", 1, "");
        put(b, ")");
}

static void bad_dotdot(struct cl_buf *b)
{
        put_dir_start(b);
        put_file_entry(b, "..", 2, "");
        put(b, ")");
}

static void bad_dot(struct cl_buf *b)
{
        put_dir_start(b);
        put_file_entry(b, ".", 1, "");
        put(b, ")");
}

static void bad_slash(struct cl_buf *b)
{
        put_dir_start(b);
        put_file_entry(b, "a/b", 3, "");
        put(b, ")");
}

static void bad_nul(struct cl_buf *b)
{
        put_dir_start(b);
        put_file_entry(b, "a\0b", 3, "");
        put(b, ")");
}

static void bad_empty_name(struct cl_buf *b)
{
        put_dir_start(b);
        put_file_entry(b, "", 0, "");
        put(b, ")");
}

static void bad_long_name(struct cl_buf *b)
{
        char name[NAR_MAX_NAME + 1];
        memset(name, 'n', sizeof(name));
        put_dir_start(b);
        put_file_entry(b, name, sizeof(name), "");
        put(b, ")");
}

static void bad_huge_string(struct cl_buf *b)
{
        put_dir_start(b);
        put(b, "entry");
        put(b, "(");
        put(b, "name");
        put_u64(b, UINT64_C(1) << 62);
}

static void bad_huge_token(struct cl_buf *b)
{
        put(b, "nix-archive-1");
        put_u64(b, UINT64_C(0xffffffffffffffff));
}

static void bad_long_target(struct cl_buf *b)
{
        char t[NAR_MAX_TARGET + 1];
        memset(t, 't', sizeof(t));
        put(b, "nix-archive-1");
        put(b, "(");
        put(b, "type");
        put(b, "symlink");
        put(b, "target");
        put_bytes(b, t, sizeof(t));
        put(b, ")");
}

static void bad_empty_target(struct cl_buf *b)
{
        put(b, "nix-archive-1");
        put(b, "(");
        put(b, "type");
        put(b, "symlink");
        put(b, "target");
        put(b, "");
        put(b, ")");
}

static void bad_deep(struct cl_buf *b)
{
        put_dir_start(b);
        for (int i = 0; i < NAR_MAX_DEPTH + 1; i++) {
                put(b, "entry");
                put(b, "(");
                put(b, "name");
                put(b, "d");
                put(b, "node");
                put(b, "(");
                put(b, "type");
                put(b, "directory");
        }
        for (int i = 0; i < NAR_MAX_DEPTH + 1; i++) {
                put(b, ")");
                put(b, ")");
        }
        put(b, ")");
}

static void bad_padding(struct cl_buf *b)
{
        put_dir_start(b);
        put_file_entry(b, "a", 1, "xyz");
        put(b, ")");
        /* the second padding byte after "xyz" (which ends 5 bytes before the
         * three closing tokens) */
        b->data[b->len - 48 - 4] = 1;
}

static void bad_magic(struct cl_buf *b)
{
        put(b, "nix-archive-2");
}

static void bad_type(struct cl_buf *b)
{
        put(b, "nix-archive-1");
        put(b, "(");
        put(b, "type");
        put(b, "fifo");
        put(b, ")");
}

static void bad_executable(struct cl_buf *b)
{
        put(b, "nix-archive-1");
        put(b, "(");
        put(b, "type");
        put(b, "regular");
        put(b, "executable");
        put(b, "x");
        put(b, "contents");
        put(b, "");
        put(b, ")");
}

static void bad_trailing(struct cl_buf *b)
{
        put(b, "nix-archive-1");
        put(b, "(");
        put(b, "type");
        put(b, "regular");
        put(b, "contents");
        put(b, "");
        put(b, ")");
        put(b, "more");
}

static void bad_entry_token(struct cl_buf *b)
{
        put_dir_start(b);
        put(b, "entri");
        put(b, ")");
}

static const struct {
        const char *name;
        build_fn build;
        const char *reason;
        long long offset; /* expected byte offset, or -1 not checked */
} bad_cases[] = {
    {"unsorted", bad_unsorted, "entry 'a' comes after 'b': entries must be sorted", 312},
    {"duplicate", bad_duplicate, "entry 'a' repeats 'a'", 312},
    {"prefix order", bad_prefix_order, "entry 'a' comes after 'ab'", 312},
    {"dotdot", bad_dotdot, "entry name '..' is not allowed", 128},
    {"dot", bad_dot, "entry name '.' is not allowed", 128},
    {"slash", bad_slash, "entry name 'a/b' contains '/'", 128},
    {"nul", bad_nul, "contains a NUL byte", 128},
    {"empty name", bad_empty_name, "empty entry name", 128},
    {"long name", bad_long_name, "entry name is too long (256 bytes", 128},
    {"huge string", bad_huge_string, "entry name is too long", 128},
    {"huge token", bad_huge_token, "expected '(', found a string of", 24},
    {"long target", bad_long_target, "symlink target is too long", 88},
    {"empty target", bad_empty_target, "empty symlink target", 88},
    {"deep", bad_deep, "directories nested deeper than 256", -1},
    {"padding", bad_padding, "non-zero padding byte", 236},
    {"magic", bad_magic, "not a NAR", 0},
    {"type", bad_type, "unknown node type 'fifo'", 56},
    {"executable", bad_executable, "executable marker must be an empty string", 96},
    {"trailing", bad_trailing, "trailing data after the NAR", 112},
    {"entry token", bad_entry_token, "expected 'entry' or ')', found 'entri'", 80},
};

TEST(malformed_nars_are_refused_with_offset)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        CHECK(mkdir("parent", 0755) == 0);
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                _cleanup_buf_ struct cl_buf b = CL_BUF_INIT;
                bad_cases[i].build(&b);
                struct cl_error err = {0};
                int r = restore_mem("parent", "out", b.data, b.len, true, &err);
                tap_diag("%s: %s", bad_cases[i].name, err.msg);
                if (r != -EBADMSG)
                        FAIL("%s: restore returned %d (%s)", bad_cases[i].name, r, err.msg);
                if (!strstr(err.msg, bad_cases[i].reason))
                        FAIL("%s: message '%s' lacks '%s'", bad_cases[i].name, err.msg,
                             bad_cases[i].reason);
                if (bad_cases[i].offset >= 0) {
                        char at[64];
                        snprintf(at, sizeof(at), "NAR at byte %lld: ", bad_cases[i].offset);
                        if (!strstr(err.msg, at))
                                FAIL("%s: message '%s' lacks '%s'", bad_cases[i].name, err.msg, at);
                }
                if (count_entries("parent") != 0)
                        FAIL("%s: something was left in the parent", bad_cases[i].name);
                /* the bare parser says the same */
                struct mem m = {.data = (const unsigned char *)b.data, .len = b.len};
                struct nar_source src = {.read = mem_read, .userdata = &m, .whole = true};
                struct cl_error err2 = {0};
                CHECK_INT(nar_parse(&src, NULL, NULL, NULL, &err2), ==, -EBADMSG);
                CHECK_STR(err2.msg, err.msg);
        }
        tap_rm_rf(dir);
}

TEST(truncated_at_every_byte)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        CHECK(mkdir("t", 0755) == 0);
        tap_write_file("t/a", "abc", 0644);
        tap_write_file("t/x", "#!", 0755);
        CHECK(symlink("a", "t/l") == 0);
        CHECK(mkdir("t/s", 0755) == 0);
        tap_write_file("t/s/f", "0123456789", 0644);
        CHECK(mkdir("parent", 0755) == 0);
        _cleanup_buf_ struct cl_buf nar = CL_BUF_INIT;
        dump_to("t", &nar);
        for (size_t len = 0; len < nar.len; len++) {
                struct cl_error err = {0};
                int r = restore_mem("parent", "out", nar.data, len, false, &err);
                if (r != -EBADMSG || !strstr(err.msg, "truncated"))
                        FAIL("prefix of %zu bytes: %d '%s'", len, r, err.msg);
                char at[64];
                snprintf(at, sizeof(at), "NAR at byte %zu: truncated", len);
                if (!strstr(err.msg, at))
                        FAIL("prefix of %zu bytes: '%s' lacks '%s'", len, err.msg, at);
                if (count_entries("parent") != 0)
                        FAIL("prefix of %zu bytes left something behind", len);
        }
        struct cl_error err = {0};
        CHECK_OK(restore_mem("parent", "out", nar.data, nar.len, true, &err));
        CHECK_INT(count_entries("parent"), ==, 1);
        tap_rm_rf(dir);
}

/* ---- the parser as a stream */

struct events {
        struct cl_buf log;
};

static int ev_dir(void *u, struct cl_error *e)
{
        (void)e;
        return buf_append_str(&((struct events *)u)->log, "D");
}
static int ev_entry(void *u, const char *n, size_t l, struct cl_error *e)
{
        (void)e;
        return buf_printf(&((struct events *)u)->log, "<%.*s", (int)l, n);
}
static int ev_entry_end(void *u, struct cl_error *e)
{
        (void)e;
        return buf_append_str(&((struct events *)u)->log, ">");
}
static int ev_dir_end(void *u, struct cl_error *e)
{
        (void)e;
        return buf_append_str(&((struct events *)u)->log, "d");
}
static int ev_reg(void *u, bool x, uint64_t size, struct cl_error *e)
{
        (void)e;
        return buf_printf(&((struct events *)u)->log, "F%s%llu:", x ? "x" : "",
                          (unsigned long long)size);
}
static int ev_data(void *u, const void *d, size_t l, struct cl_error *e)
{
        (void)e;
        return buf_append(&((struct events *)u)->log, d, l);
}
static int ev_reg_end(void *u, struct cl_error *e)
{
        (void)e;
        return buf_append_str(&((struct events *)u)->log, "f");
}
static int ev_link(void *u, const char *t, size_t l, struct cl_error *e)
{
        (void)e;
        return buf_printf(&((struct events *)u)->log, "L%.*s", (int)l, t);
}

TEST(parser_streams_events_and_stops_at_the_end)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        CHECK(mkdir("t", 0755) == 0);
        tap_write_file("t/b", "bee", 0644);
        tap_write_file("t/a", "ay", 0700);
        CHECK(symlink("tgt", "t/c") == 0);
        CHECK(mkdir("t/d", 0755) == 0);
        _cleanup_buf_ struct cl_buf nar = CL_BUF_INIT;
        dump_to("t", &nar);
        size_t nar_len = nar.len;
        CHECK_OK(buf_append_str(&nar, "EXPORT TRAILER"));
        static const struct nar_parse_ops ops = {ev_dir, ev_entry, ev_entry_end, ev_dir_end,
                                                 ev_reg, ev_data,  ev_reg_end,   ev_link};
        struct events ev = {CL_BUF_INIT};
        _cleanup_buf_ struct cl_buf tee = CL_BUF_INIT;
        struct mem m = {.data = (const unsigned char *)nar.data, .len = nar.len};
        struct nar_source src = {
            .read = mem_read, .userdata = &m, .tee = buf_sink, .tee_userdata = &tee};
        uint64_t size = 0;
        struct cl_error err = {0};
        if (nar_parse(&src, &ops, &ev, &size, &err) < 0)
                FAIL("parse: %s", err.msg);
        CHECK_INT(size, ==, nar_len);
        CHECK_INT(m.pos, ==, nar_len); /* nothing read past the NAR */
        CHECK_INT(tee.len, ==, nar_len);
        CHECK(memcmp(tee.data, nar.data, nar_len) == 0);
        CHECK_STR(ev.log.data, "D<aFx2:ayf><bF3:beef><cLtgt><dDd>d");
        buf_free(&ev.log);
        tap_rm_rf(dir);
}

/* ---- hash and references in one pass */

TEST(hash_and_scan_in_one_pass)
{
        static const char h1[] = "0c0ygfb3y9fbmk2hbz1yn4m4d1ldqzyj"; /* in a file */
        static const char h2[] = "1b8m03r63zqhnjf7l5wnldhh7c134ap5"; /* in a symlink target */
        static const char h3[] = "2mj4ybl08wzz8y1f48l0g7y82lzk4yg2"; /* in a name */
        static const char h4[] = "3x9skrph4y6vf3rw6rp7c9k7lm5xgqz9"; /* absent */
        const char *cands[] = {h1, h2, h3, h4};
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        CHECK(mkdir("out", 0755) == 0);
        /* the first hash crosses the boundary between two output chunks */
        size_t big = NAR_CHUNK + 100;
        char *data = malloc(big + 1);
        CHECK(data);
        memset(data, '.', big);
        data[big] = 0;
        size_t at = NAR_CHUNK - 200 - 16; /* the NAR has some bytes before the contents */
        memcpy(data + at, "/nix/store/", 11);
        memcpy(data + at + 11, h1, 32);
        tap_write_file("out/bin", data, 0755);
        free(data);
        CHECK(symlink("/nix/store/1b8m03r63zqhnjf7l5wnldhh7c134ap5-x/lib", "out/link") == 0);
        tap_write_file("out/2mj4ybl08wzz8y1f48l0g7y82lzk4yg2-name", "", 0644);
        _cleanup_refscan_ struct refscan *scan = NULL;
        CHECK_OK(refscan_new(cands, 4, &scan, NULL));
        _cleanup_close_ int fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct hash h;
        uint64_t size = 0;
        struct cl_error err = {0};
        CHECK_OK(nar_hash_at(fd, "out", HASH_SHA256, scan, &h, &size, &err));
        CHECK(refscan_found(scan, 0));
        CHECK(refscan_found(scan, 1));
        CHECK(refscan_found(scan, 2));
        CHECK(!refscan_found(scan, 3));
        _cleanup_buf_ struct cl_buf nar = CL_BUF_INIT;
        dump_to("out", &nar);
        CHECK_INT(size, ==, nar.len);
        struct hash ref;
        CHECK_OK(hash_buffer(HASH_SHA256, nar.data, nar.len, &ref));
        CHECK(hash_equal(&h, &ref));
        tap_rm_rf(dir);
}
