/* Unit tests for src/build/build-log: the nesting-escape filter (seed 000,
 * NIX-FORMATS.md 8.2), the terminal filter, and stored bzip2 logs at Nix's path. */
#include "tap.h"

#include "base/base-cleanup.h"
#include "build/build-log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char *filter_all(enum log_filter_mode mode, const char *in, size_t in_len, size_t chunk)
{
        struct log_filter f;
        log_filter_init(&f, mode);
        char *out = malloc(in_len * 2 + 2 * LOG_FILTER_HELD_MAX + 1);
        size_t o = 0;
        for (size_t i = 0; i < in_len; i += chunk) {
                size_t n = in_len - i < chunk ? in_len - i : chunk;
                o += log_filter_feed(&f, in + i, n, out + o);
        }
        o += log_filter_finish(&f, out + o);
        out[o] = '\0';
        return out;
}

static void check_filter(enum log_filter_mode mode, const char *in, const char *want)
{
        /* every chunking must give the same answer: sequences split over reads */
        for (size_t chunk = 1; chunk <= strlen(in) + 1; chunk++) {
                _cleanup_free_ char *got = filter_all(mode, in, strlen(in), chunk);
                if (strcmp(got, want) != 0)
                        FAIL("filter(%d) of '%s' in chunks of %zu gave '%s', want '%s'", mode, in,
                             chunk, got, want);
        }
}

TEST(nesting_codes_dropped)
{
        check_filter(LOG_FILTER_NESTING, "a\033[3pheader\n\033[qb", "aheader\nb");
        check_filter(LOG_FILTER_NESTING, "\033[p\033[2s\033[a\033[bx", "x");
        check_filter(LOG_FILTER_NESTING, "\033[12;3~p", "");
}

TEST(nesting_filter_keeps_everything_else)
{
        check_filter(LOG_FILTER_NESTING, "\033[31;1mred\033[0m", "\033[31;1mred\033[0m");
        check_filter(LOG_FILTER_NESTING, "\033[2J\033[H", "\033[2J\033[H");
        check_filter(LOG_FILTER_NESTING, "lone \033x esc", "lone \033x esc");
        check_filter(LOG_FILTER_NESTING, "\033[e\033[w", "\033[e\033[w");
        /* an unfinished sequence at the end is passed through */
        check_filter(LOG_FILTER_NESTING, "end\033[12", "end\033[12");
}

TEST(terminal_filter_keeps_only_sgr)
{
        check_filter(LOG_FILTER_TERMINAL, "\033[31mred\033[0m", "\033[31mred\033[0m");
        check_filter(LOG_FILTER_TERMINAL, "a\033[2Jb\033[10;10Hc", "abc");
        check_filter(LOG_FILTER_TERMINAL, "a\033]0;title\007b", "a0;title\007b");
        check_filter(LOG_FILTER_TERMINAL, "x\033cy", "xy");
        check_filter(LOG_FILTER_TERMINAL, "\033[3pnest\033[q", "nest");
}

TEST(log_path_is_nix_layout)
{
        _cleanup_free_ char *p = NULL;
        CHECK_OK(log_relative_path("/nix/store/76w21n1f03fs5kw8fnffphx7qrqffw6r-hello.drv", 1, &p,
                                   NULL));
        CHECK_STR(p, "drvs/76/w21n1f03fs5kw8fnffphx7qrqffw6r-hello.drv.bz2");
}

static void roundtrip(int compressed)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        const char *drv = "/nix/store/76w21n1f03fs5kw8fnffphx7qrqffw6r-hello.drv";
        struct log_writer *w = NULL;
        struct cl_error err;
        if (log_writer_open(dir, drv, compressed, &w, &err) < 0)
                FAIL("%s", err.msg);
        /* raw bytes, escapes included: the stored log is never filtered */
        const char *chunk = "line \033[3pnested\033[q\n";
        for (int i = 0; i < 20000; i++)
                if (log_writer_write(w, chunk, strlen(chunk), &err) < 0)
                        FAIL("%s", err.msg);
        if (log_writer_close(w, &err) < 0)
                FAIL("%s", err.msg);
        _cleanup_free_ char *stored = NULL;
        if (asprintf(&stored, "%s/drvs/76/w21n1f03fs5kw8fnffphx7qrqffw6r-hello.drv%s", dir,
                     compressed ? ".bz2" : "") < 0)
                abort();
        CHECK(access(stored, R_OK) == 0);

        _cleanup_free_ char *outp = NULL;
        if (asprintf(&outp, "%s/out", dir) < 0)
                abort();
        int fd = open(outp, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        if (log_read(dir, drv, fd, &err) < 0)
                FAIL("%s", err.msg);
        close(fd);
        _cleanup_free_ char *back = tap_read_file(outp);
        CHECK(back != NULL);
        CHECK_INT(strlen(back), ==, 20000 * strlen(chunk));
        CHECK(strncmp(back, chunk, strlen(chunk)) == 0);
        tap_rm_rf(dir);
}

TEST(stored_log_roundtrip_bzip2)
{
        roundtrip(1);
}

TEST(stored_log_roundtrip_plain)
{
        roundtrip(0);
}

TEST(stored_log_is_real_bzip2)
{
        /* bzip2(1) must read what we write: Nix's `nix log` does the same */
        _cleanup_free_ char *dir = tap_mkdtemp();
        const char *drv = "/nix/store/00000000000000000000000000000000-x.drv";
        struct log_writer *w = NULL;
        struct cl_error err;
        if (log_writer_open(dir, drv, 1, &w, &err) < 0 ||
            log_writer_write(w, "hello\n", 6, &err) < 0 || log_writer_close(w, &err) < 0)
                FAIL("%s", err.msg);
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/drvs/00/000000000000000000000000000000-x.drv.bz2", dir) < 0)
                abort();
        char *argv[] = {"/bin/bzip2", "-dc", path, NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 30, &res));
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK_STR(res.out, "hello\n");
        tap_run_result_free(&res);
        tap_rm_rf(dir);
}

TEST(missing_log_names_the_derivation)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        struct cl_error err;
        int r = log_read(dir, "/nix/store/00000000000000000000000000000000-x.drv", 1, &err);
        CHECK_INT(r, ==, -ENOENT);
        CHECK(strstr(err.msg, "00000000000000000000000000000000-x.drv") != NULL);
        tap_rm_rf(dir);
}
