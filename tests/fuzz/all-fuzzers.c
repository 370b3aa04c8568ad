/* t-fuzz-all: every libFuzzer target tests/fuzz/fuzz-*.c runs for a bounded time (15 seconds
 * each, CLOISTER_FUZZ_SECONDS to change) through tests/fuzz/run-fuzz.sh, which
 * must report each of them clean; and the script itself must fail on a target
 * that crashes and on one that leaks. Root only (the tier list of run-all.sh);
 * built only in the non-sanitised build, since the fuzz build has its own. */
#include "tap.h"

#include "base/base-cleanup.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *script(void)
{
        char *s = NULL;
        if (asprintf(&s, "%s/tests/fuzz/run-fuzz.sh", tap_source_dir()) < 0)
                FAIL("asprintf");
        return s;
}

/* The fuzz build lives in the test build directory, shared by both tests. */
static void set_fuzz_build(void)
{
        _cleanup_free_ char *b = tap_build_path("fuzz-build");
        setenv("FUZZ_BUILD", b, 1);
}

TEST_TIMEOUT(every_fuzzer_runs_clean, 1200)
{
        const char *s = getenv("CLOISTER_FUZZ_SECONDS");
        char secs[16];
        snprintf(secs, sizeof(secs), "%d", s && atoi(s) > 0 ? atoi(s) : 15);
        set_fuzz_build();
        _cleanup_free_ char *sh = script();
        char *argv[] = {sh, secs, NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 1100, &res));
        if (tap_exit_code(res.status) != 0)
                FAIL("run-fuzz.sh exited %d:\n%s%s", tap_exit_code(res.status), res.out, res.err);

        /* one clean report per target in the directory, none left out */
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/tests/fuzz", tap_source_dir());
        DIR *d = opendir(dir);
        CHECK(d);
        unsigned n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t len = strlen(e->d_name);
                if (strncmp(e->d_name, "fuzz-", 5) != 0 || len < 3 ||
                    strcmp(e->d_name + len - 2, ".c") != 0)
                        continue;
                char want[512];
                snprintf(want, sizeof(want), "run-fuzz: %.*s: ok, ", (int)(len - 2), e->d_name);
                if (!strstr(res.out, want))
                        FAIL("no clean report for '%s' in:\n%s", e->d_name, res.out);
                n++;
        }
        closedir(d);
        CHECK_INT(n, >=, 3);
        tap_diag("%s", res.out);
        tap_run_result_free(&res);
}

TEST_TIMEOUT(a_crash_or_a_leak_fails_the_run, 900)
{
        set_fuzz_build();
        _cleanup_free_ char *tmp = tap_mkdtemp();
        char crash[512], leak[512];
        /* run-fuzz.sh must refuse both: the first non-empty input crashes or leaks */
        snprintf(crash, sizeof(crash), "%s/fuzz-selftest-crash.c", tmp);
        tap_write_file(crash,
                       "#include <stdint.h>\n#include <stdlib.h>\n"
                       "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\n"
                       "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)\n"
                       "{ (void)d; if (n > 0) abort(); return 0; }\n",
                       0644);
        snprintf(leak, sizeof(leak), "%s/fuzz-selftest-leak.c", tmp);
        tap_write_file(leak,
                       "#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\n"
                       "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\n"
                       "static void *volatile sink;\n"
                       "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)\n"
                       "{ if (n > 0) { char *p = malloc(n); memcpy(p, d, n); sink = p; "
                       "sink = 0; } return 0; }\n",
                       0644);
        _cleanup_free_ char *sh = script();
        struct tap_run_result res;
        char *argv_crash[] = {sh, "5", crash, NULL};
        CHECK_OK(tap_run(argv_crash, NULL, 600, &res));
        CHECK_INT(tap_exit_code(res.status), ==, 1);
        CHECK(strstr(res.err, "run-fuzz: fuzz-selftest-crash: FAILED"));
        tap_run_result_free(&res);
        char *argv_leak[] = {sh, "5", leak, NULL};
        CHECK_OK(tap_run(argv_leak, NULL, 600, &res));
        CHECK_INT(tap_exit_code(res.status), ==, 1);
        CHECK(strstr(res.err, "run-fuzz: fuzz-selftest-leak: FAILED"));
        CHECK(strstr(res.err, "LeakSanitizer"));
        tap_run_result_free(&res);
        tap_rm_rf(tmp);
        /* the self-test's binaries, logs and crash inputs */
        char *rm_argv[] = {"/bin/sh", "-c", "rm -rf \"$FUZZ_BUILD\"/fuzz-selftest-*", NULL};
        CHECK_OK(tap_run(rm_argv, NULL, 60, &res));
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        tap_run_result_free(&res);
}
