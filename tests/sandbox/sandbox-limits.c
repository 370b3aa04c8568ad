/* cloister run's time, silence and output limits, personality, ASLR, umask,
 * rlimits, the JSON status stream and bad input, each seen from inside the
 * sandbox (probe-harden, busybox) or from the exit status and message. */
#include "probe-run.h"
#include "tap.h"

#include "base/base-cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* cloister run --ro-bind probe /p --ro-bind busybox /bin/busybox OPTS -- ARGS */
static void run(const char *const *opts, const char *const *args, struct tap_run_result *res)
{
        const char *all[64] = {"--ro-bind", "/bin/busybox", "/bin/busybox"};
        size_t n = 3;
        for (; opts && *opts && n < 63; opts++)
                all[n++] = *opts;
        pr_run_probe("tests/probe/probe-harden", all, args, res);
}

#define OPTS(...) ((const char *const[]){__VA_ARGS__, NULL})

TEST(timeout_fires_with_124_and_says_so)
{
        struct tap_run_result res;
        run(OPTS("--timeout", "0.5"), OPTS("/p", "spinwall", "20000"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 124);
        CHECK(strstr(res.err, "cloister: the command ran longer than 0.5s and was killed "
                              "(--timeout)") != NULL);
        tap_run_result_free(&res);
}

TEST(timeout_not_reached_passes_the_status_through)
{
        struct tap_run_result res;
        run(OPTS("--timeout", "30"), OPTS("/bin/busybox", "sh", "-c", "exit 7"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 7);
        CHECK(strstr(res.err, "--timeout") == NULL);
        tap_run_result_free(&res);
}

TEST(max_silent_time_fires)
{
        struct tap_run_result res;
        run(OPTS("--max-silent-time", "0.5"),
            OPTS("/bin/busybox", "sh", "-c",
                 "echo a; /bin/busybox sleep 0.3; echo b >&2; /bin/busybox sleep 30"),
            &res);
        CHECK_INT(tap_exit_code(res.status), ==, 124);
        CHECK(strstr(res.err, "cloister: the command produced no output for 0.5s and was "
                              "killed (--max-silent-time)") != NULL);
        /* the output went through the relay unchanged */
        CHECK_STR(res.out, "a\n");
        CHECK(strncmp(res.err, "b\n", 2) == 0 || strstr(res.err, "\nb\n") != NULL);
        tap_run_result_free(&res);
}

TEST(max_silent_time_spares_a_chatty_command)
{
        struct tap_run_result res;
        run(OPTS("--max-silent-time", "0.6"),
            OPTS("/bin/busybox", "sh", "-c",
                 "for i in 1 2 3 4 5 6; do echo $i; /bin/busybox sleep 0.2; done"),
            &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK_STR(res.out, "1\n2\n3\n4\n5\n6\n");
        tap_run_result_free(&res);
}

TEST(max_output_fires)
{
        struct tap_run_result res;
        run(OPTS("--max-output", "1000"), OPTS("/bin/busybox", "yes"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 124);
        CHECK(strstr(res.err, "cloister: the command wrote more than 1000 bytes of output and "
                              "was killed (--max-output)") != NULL);
        /* no more than the limit is passed on */
        CHECK_INT(res.out_len, ==, 1000);
        tap_run_result_free(&res);
}

TEST(personality_linux32_and_uname26)
{
        struct tap_run_result res;
        run(OPTS("--personality", "linux32"), OPTS("/p", "uname"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
#if defined(__x86_64__)
        CHECK(strncmp(res.out, "i686 ", 5) == 0);
#endif
        tap_run_result_free(&res);
        run(OPTS("--uname26"), OPTS("/p", "uname"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK(strstr(res.out, " 2.6.") != NULL);
        tap_run_result_free(&res);
        run(NULL, OPTS("/p", "uname"), &res);
        CHECK(strstr(res.out, " 2.6.") == NULL);
        CHECK(strncmp(res.out, "i686 ", 5) != 0);
        tap_run_result_free(&res);
}

TEST(aslr_off_by_default_and_umask_022)
{
        struct tap_run_result a, b;
        run(NULL, OPTS("/p", "persona"), &a);
        run(NULL, OPTS("/p", "persona"), &b);
        CHECK_INT(tap_exit_code(a.status), ==, 0);
        tap_diag("%s", a.out);
        CHECK(strstr(a.out, "personality=0x40000 ") != NULL); /* ADDR_NO_RANDOMIZE */
        CHECK(strstr(a.out, "umask=022") != NULL);
        /* the same addresses twice */
        CHECK_STR(a.out, b.out);
        tap_run_result_free(&a);
        tap_run_result_free(&b);
        run(OPTS("--aslr"), OPTS("/p", "persona"), &a);
        CHECK(strstr(a.out, "personality=0x0 ") != NULL);
        tap_run_result_free(&a);
}

TEST(rlimits_core_zero_and_set)
{
        struct tap_run_result res;
        run(NULL, OPTS("/bin/busybox", "sh", "-c", "ulimit -c; ulimit -n"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK(strncmp(res.out, "0\n", 2) == 0);
        tap_run_result_free(&res);
        run(OPTS("--rlimit", "nofile=64", "--rlimit", "core=1M"),
            OPTS("/bin/busybox", "sh", "-c", "ulimit -c; ulimit -n"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK_STR(res.out, "2048\n64\n"); /* busybox ulimit -c counts 512-byte blocks */
        tap_run_result_free(&res);
}

TEST(json_status_stream)
{
        int p[2];
        CHECK(pipe(p) == 0);
        char fd[16];
        snprintf(fd, sizeof(fd), "%d", p[1]);
        struct tap_run_result res;
        run(OPTS("--json-status-fd", fd, "--timeout", "0.3"), OPTS("/p", "spinwall", "20000"),
            &res);
        close(p[1]);
        CHECK_INT(tap_exit_code(res.status), ==, 124);
        tap_run_result_free(&res);
        FILE *f = fdopen(p[0], "r");
        char line[4096];
        json_t *start = NULL, *end = NULL;
        json_error_t jerr;
        while (fgets(line, sizeof(line), f)) {
                json_t *o = json_loads(line, 0, &jerr);
                if (!o)
                        FAIL("not JSON: %s (%s)", line, jerr.text);
                if (!start)
                        start = o;
                else if (!end)
                        end = o;
                else
                        FAIL("more than two objects: %s", line);
        }
        fclose(f);
        CHECK(start && end);
        CHECK(json_integer_value(json_object_get(start, "child-pid")) > 0);
        /* the core reads the ids from /proc/PID/ns, which a plain user may
         * not stat for a process in another user namespace */
        if (getuid() == 0)
                CHECK(json_integer_value(json_object_get(start, "pid-namespace")) > 0);
        CHECK_STR(json_string_value(json_object_get(end, "limit")), "timeout");
        CHECK_INT(json_integer_value(json_object_get(end, "signal")), ==, 9);
        CHECK(json_is_real(json_object_get(end, "wall-time")));
        CHECK(json_integer_value(json_object_get(end, "memory-peak")) > 0);
        CHECK(json_is_string(json_object_get(end, "memory-peak-source")));
        CHECK(json_is_integer(json_object_get(end, "oom-kills")));
        json_decref(start);
        json_decref(end);
}

static void bad(const char *const *opts, int want_code, const char *want_msg)
{
        struct tap_run_result res;
        run(opts, OPTS("/p", "uname"), &res);
        if (tap_exit_code(res.status) != want_code || !strstr(res.err, want_msg))
                FAIL("exit %d, stderr '%s'; expected %d and '%s'", tap_exit_code(res.status),
                     res.err, want_code, want_msg);
        /* one line: the message */
        CHECK(strchr(res.err, '\n') == res.err + res.err_len - 1 ||
              strstr(res.err, "unavailable") != NULL);
        tap_run_result_free(&res);
}

TEST(bad_input_is_refused_clearly)
{
        bad(OPTS("--memory-max", "12Q"), 2, "cloister: option '--memory-max': invalid size '12Q'");
        bad(OPTS("--memory-max", "100"), 2, "cloister: option '--memory-max': memory limit '100' "
                                            "is below 1M");
        bad(OPTS("--pids-max", "lots"), 2, "cloister: option '--pids-max': invalid number 'lots'");
        bad(OPTS("--cpu-max", "0"), 2, "cloister: option '--cpu-max': CPU limit '0' is out of "
                                       "range");
        bad(OPTS("--timeout", "soon"), 2,
            "cloister: option '--timeout': invalid duration 'soon' (seconds)");
        bad(OPTS("--max-silent-time", "-1"), 2, "option '--max-silent-time': invalid duration");
        bad(OPTS("--max-output", "x"), 2, "cloister: option '--max-output': invalid size 'x'");
        bad(OPTS("--rlimit", "bogus=1"), 2, "cloister: option '--rlimit': unknown rlimit 'bogus'");
        bad(OPTS("--rlimit", "nofile"), 2, "option '--rlimit': invalid rlimit 'nofile'");
        bad(OPTS("--personality", "sparc"), 2,
            "cloister: option '--personality': unsupported personality 'sparc' (linux or linux32)");
        bad(OPTS("--cgroup-parent", "relative"), 125,
            "cloister: invalid cgroup parent 'relative' (an absolute cgroup path)");
}
