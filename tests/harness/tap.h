/* The in-tree test harness: each TEST runs in its own forked process group with
 * a timeout, results are printed as TAP for prove. A test may SKIP with a
 * reason; CLOISTER_TEST_MUST_WORK=1 turns every skip into a failure. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

typedef void (*tap_fn)(void);

void tap_register(const char *name, tap_fn fn, unsigned timeout_sec);

#define TEST_TIMEOUT(name, secs)                                                                   \
        static void test_##name(void);                                                             \
        __attribute__((constructor)) static void tap_reg_##name(void)                              \
        {                                                                                          \
                tap_register(#name, test_##name, secs);                                            \
        }                                                                                          \
        static void test_##name(void)

#define TEST(name) TEST_TIMEOUT(name, 60)

/* Inside a test: end it. */
__attribute__((noreturn)) void tap_fail_at(const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
__attribute__((noreturn)) void tap_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define FAIL(...) tap_fail_at(__FILE__, __LINE__, __VA_ARGS__)
#define CHECK(cond)                                                                                \
        do {                                                                                       \
                if (!(cond))                                                                       \
                        FAIL("check failed: %s", #cond);                                           \
        } while (0)
#define CHECK_INT(a, op, b)                                                                        \
        do {                                                                                       \
                long long _a = (long long)(a), _b = (long long)(b);                                \
                if (!(_a op _b))                                                                   \
                        FAIL("check failed: %s %s %s (%lld vs %lld)", #a, #op, #b, _a, _b);        \
        } while (0)
#define CHECK_STR(a, b)                                                                            \
        do {                                                                                       \
                const char *_a = (a), *_b = (b);                                                   \
                if (!_a || !_b || strcmp(_a, _b) != 0)                                             \
                        FAIL("check failed: %s == %s ('%s' vs '%s')", #a, #b, _a ? _a : "(null)",   \
                             _b ? _b : "(null)");                                                  \
        } while (0)
/* a call returning >= 0 on success, -errno on failure */
#define CHECK_OK(call)                                                                             \
        do {                                                                                       \
                long long _r = (long long)(call);                                                  \
                if (_r < 0)                                                                        \
                        FAIL("%s failed: %s", #call, strerror((int)-_r));                          \
        } while (0)

/* Environment of the run. */
int tap_must_work(void);
/* The build directory's absolute path (where cloister and the probes are). */
const char *tap_build_dir(void);
/* The source directory's absolute path. */
const char *tap_source_dir(void);
/* malloc'd "<build>/<rel>" */
char *tap_build_path(const char *rel);

/* Run argv (argv[0] a path), feed stdin_data (may be NULL), capture stdout and
 * stderr. Returns the wait status, or -errno. Kills the child after timeout_sec. */
struct tap_run_result {
        int status;
        char *out;
        size_t out_len;
        char *err;
        size_t err_len;
};
int tap_run(char *const argv[], const char *stdin_data, unsigned timeout_sec,
            struct tap_run_result *res);
void tap_run_result_free(struct tap_run_result *res);
/* exit code, or 128+signal */
int tap_exit_code(int status);

/* A fresh directory under $TMPDIR (or /tmp), removed recursively by the caller
 * with tap_rm_rf. */
char *tap_mkdtemp(void);
int tap_rm_rf(const char *path);
/* Write a whole file. */
void tap_write_file(const char *path, const char *data, mode_t mode);
/* Read a whole file (malloc'd) or NULL */
char *tap_read_file(const char *path);
/* A process's command line, its arguments separated by spaces (malloc'd), or
 * NULL when the process is gone. */
char *tap_proc_cmdline(pid_t pid);
