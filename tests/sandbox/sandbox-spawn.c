/* Safe process creation: the code that runs between fork and exec (the
 * objects of libcloister-child.a) calls only async-signal-safe functions --
 * checked on its undefined symbols -- and many sandboxes started from a
 * process whose other threads hold malloc and stdio locks all complete. */
#include "probe-run.h"
#include "sandbox/sandbox-plan.h"
#include "sandbox/sandbox-run.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* POSIX's async-signal-safe functions (signal-safety(7)) that a child may
 * plausibly call, plus Linux system call wrappers that take no lock and
 * allocate nothing, plus what the compiler emits on its own. */
static const char *const allowlist[] = {
        /* POSIX.1-2017 async-signal-safe functions */
        "_Exit", "_exit", "abort", "accept", "access", "alarm", "bind", "cfgetispeed",
        "cfgetospeed", "cfsetispeed", "cfsetospeed", "chdir", "chmod", "chown", "clock_gettime",
        "close", "connect", "creat", "dup", "dup2", "execl", "execle", "execv", "execve",
        "faccessat", "fchdir", "fchmod", "fchmodat", "fchown", "fchownat", "fcntl", "fdatasync",
        "fexecve", "ffs", "fork", "fstat", "fstatat", "fsync", "ftruncate", "futimens", "getegid",
        "geteuid", "getgid", "getgroups", "getpeername", "getpgrp", "getpid", "getppid",
        "getsockname", "getsockopt", "getuid", "htonl", "htons", "kill", "link", "linkat",
        "listen", "lseek", "lstat", "memccpy", "memchr", "memcmp", "memcpy", "memmove", "memset",
        "mkdir", "mkdirat", "mkfifo", "mkfifoat", "mknod", "mknodat", "ntohl", "ntohs", "open",
        "openat", "pause", "pipe", "poll", "pselect", "pthread_kill", "pthread_self",
        "pthread_sigmask", "raise", "read", "readlink", "readlinkat", "recv", "recvfrom",
        "recvmsg", "rename", "renameat", "rmdir", "select", "send", "sendmsg", "sendto", "setgid",
        "setpgid", "setsid", "setsockopt", "setuid", "shutdown", "sigaction", "sigaddset",
        "sigdelset", "sigemptyset", "sigfillset", "sigismember", "signal", "sigpending",
        "sigprocmask", "sigqueue", "sigsuspend", "sleep", "socket", "socketpair", "stat", "stpcpy",
        "stpncpy", "strcat", "strchr", "strcmp", "strcpy", "strcspn", "strlen", "strncat",
        "strncmp", "strncpy", "strnlen", "strpbrk", "strrchr", "strspn", "strstr", "symlink",
        "symlinkat", "tcdrain", "tcflow", "tcflush", "tcgetattr", "tcgetpgrp", "tcsendbreak",
        "tcsetattr", "tcsetpgrp", "time", "times", "umask", "uname", "unlink", "unlinkat",
        "utimensat", "wait", "waitpid", "write",
        /* Linux system call wrappers (one system call, no lock, no allocation) */
        "syscall", "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot",
        "prctl", "sethostname", "setdomainname", "setgroups", "setresuid", "setresgid",
        "setreuid", "setregid", "getresuid", "getresgid", "capset", "capget", "close_range",
        "pipe2", "dup3", "accept4", "ioctl", "personality", "setrlimit", "setrlimit64",
        "prlimit", "prlimit64", "getrlimit", "nanosleep", "clock_nanosleep", "sched_yield",
        "wait4", "waitid", "_Fork", "vfork", "clone", "clone3", "gettid", "getpgid", "getsid",
        "execveat", "statfs", "fstatfs", "statx", "open64", "openat64", "lseek64", "stat64",
        "fstat64", "lstat64", "fstatat64", "readv", "writev", "pread", "pread64", "pwrite",
        "pwrite64", "eventfd", "mount_setattr", "open_tree", "move_mount", "fsopen", "fsmount",
        "fsconfig", "ppoll", "getdents64", "seccomp", "sigtimedwait", "sigwaitinfo",
        "__errno_location",
        /* fortified forms of allowed functions */
        "__memcpy_chk", "__memmove_chk", "__memset_chk", "__strcpy_chk", "__stpcpy_chk",
        "__strncpy_chk", "__read_chk", "__readlink_chk", "__readlinkat_chk", "__open_2",
        "__open64_2", "__openat_2", "__openat64_2", "__poll_chk", "__ppoll_chk",
        /* the compiler's own */
        "__stack_chk_fail", "_GLOBAL_OFFSET_TABLE_", NULL};

static const char *const allowed_prefixes[] = {"__asan_", "__ubsan_", "__sanitizer_", "__lsan_",
                                               NULL};

static bool allowed(const char *sym)
{
        /* versioned names: memcpy@GLIBC_2.14 */
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(sym, "@"), sym);
        for (int i = 0; allowlist[i]; i++)
                if (strcmp(name, allowlist[i]) == 0)
                        return true;
        for (int i = 0; allowed_prefixes[i]; i++)
                if (strncmp(name, allowed_prefixes[i], strlen(allowed_prefixes[i])) == 0)
                        return true;
        return false;
}

/* Symbols defined in the archive (one object may call another's), as
 * "\nname\n" entries. */
static char *defined_symbols(const char *archive)
{
        char *argv[] = {"/usr/bin/nm", "--defined-only", "--no-sort", (char *)archive, NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 30, &res));
        if (tap_exit_code(res.status) != 0)
                FAIL("nm --defined-only '%s' failed: %s", archive, res.err);
        char *out = calloc(1, res.out_len + 2);
        size_t len = 0;
        out[len++] = '\n';
        for (char *line = strtok(res.out, "\n"); line; line = strtok(NULL, "\n")) {
                /* "0000000000000000 T name" */
                char *sp = strrchr(line, ' ');
                if (!sp || sp - line < 2 || sp[-2] != ' ')
                        continue;
                len += (size_t)sprintf(out + len, "%s\n", sp + 1);
        }
        return out;
}

/* Undefined symbols of an archive, checked; returns the number that are not
 * allowed and puts them, one per line, in *bad. */
static int check_archive(const char *archive, char **bad, int *total)
{
        char *defined = defined_symbols(archive);
        char *argv[] = {"/usr/bin/nm", "-u", "--no-sort", (char *)archive, NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 30, &res));
        if (tap_exit_code(res.status) != 0)
                FAIL("nm -u '%s' failed: %s", archive, res.err);
        size_t cap = res.out_len + 1, len = 0;
        *bad = calloc(1, cap);
        int n = 0;
        *total = 0;
        for (char *line = strtok(res.out, "\n"); line; line = strtok(NULL, "\n")) {
                /* "                 U name", file headers "x.o:" and blanks */
                char *u = strstr(line, " U ");
                if (!u)
                        continue;
                const char *sym = u + 3;
                char key[300];
                snprintf(key, sizeof(key), "\n%.*s\n", (int)strcspn(sym, "@"), sym);
                if (strstr(defined, key))
                        continue;
                (*total)++;
                if (allowed(sym) || strstr(*bad, sym))
                        continue;
                len += (size_t)snprintf(*bad + len, cap - len, "%s\n", sym);
                n++;
        }
        return n;
}

TEST(child_objects_call_only_async_signal_safe_functions)
{
        char *archive = tap_build_path("src/libcloister-child.a");
        char *bad;
        int total;
        int n = check_archive(archive, &bad, &total);
        tap_diag("%d undefined symbol references in %s", total, archive);
        if (n)
                FAIL("the child side calls %d function(s) that are not async-signal-safe:\n%s",
                     n, bad);
        /* The helper runs in the parent's memory with one of its threads'
         * TLS: nothing there may touch thread-local state, which libc's
         * errno, syscall() and the stack protector do. */
        char *argv[] = {"/usr/bin/nm", "-u", "--no-sort", archive, NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 30, &res));
        static const char *const tls_users[] = {
            "__errno_location", "syscall", "__stack_chk_fail", "__tls_get_addr",
            /* what the compiler may call on its own, which a sanitizer build
             * would route through its runtime */
            "strlen", "memcpy", "memset", "memmove", "memcmp", NULL};
        for (int i = 0; tls_users[i]; i++) {
                char key[64];
                snprintf(key, sizeof(key), " U %s\n", tls_users[i]);
                if (strstr(res.out, key))
                        FAIL("the child side uses '%s', which touches thread-local state",
                             tls_users[i]);
        }
        /* the check can fail: the test harness uses stdio and malloc */
        char *tap = tap_build_path("tests/libtap.a");
        n = check_archive(tap, &bad, &total);
        CHECK(n > 0);
        CHECK(strstr(bad, "printf") != NULL || strstr(bad, "fprintf") != NULL);
        CHECK(strstr(bad, "malloc\n") != NULL || strstr(bad, "realloc\n") != NULL);
}

/* ---- 500 sandboxes from a busy multithreaded process ---- */

#define STRESS_SANDBOXES 500
#define STRESS_THREADS 8
/* threads that start the sandboxes, each its share of them, at once: a
 * sandbox mostly waits for the kernel (namespaces made and torn down), and
 * concurrent forks from several threads are the harder case anyway */
#define STRESS_LAUNCHERS 4

static atomic_int stop;
static atomic_int done;
static FILE *sink;

/* Keep malloc's arenas and a shared FILE's lock taken as much as possible,
 * so that a fork (or clone) lands while another thread holds them. */
static void *busy(void *arg)
{
        unsigned seed = (unsigned)(size_t)arg;
        /* idle priority: they run whenever the sandboxes leave a core free
         * and are preempted at any point, locks held, when one needs it;
         * at normal priority 8 spinning threads on a small machine make
         * each sandbox wait for its share of CPU for no gain */
        struct sched_param sp = {0};
        pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
        while (!atomic_load(&stop)) {
                size_t n = 16 + rand_r(&seed) % 4096;
                char *p = malloc(n);
                if (!p)
                        continue;
                memset(p, 'x', n);
                flockfile(sink);
                fprintf(sink, "%.*s %u\n", 32, p, seed);
                funlockfile(sink);
                char *q = realloc(p, n * 2);
                free(q ? q : p);
        }
        return NULL;
}

/* Fails the test when no sandbox has finished for 20 s: one is hanging. */
static void *watchdog(void *arg)
{
        (void)arg;
        int last = -1;
        time_t since = time(NULL);
        while (!atomic_load(&stop)) {
                int d = atomic_load(&done);
                if (d != last) {
                        last = d;
                        since = time(NULL);
                } else if (time(NULL) - since > 20) {
                        FAIL("sandbox %d of %d has not finished after 20 s: it hangs", d + 1,
                             STRESS_SANDBOXES);
                }
                usleep(100 * 1000);
        }
        return NULL;
}

static void one_sandbox(int i)
{
        struct cl_error err = {0};
        _cleanup_sandbox_plan_ struct sandbox_plan *plan = NULL;
        char code[16];
        snprintf(code, sizeof(code), "%d", i % 100);
        char *argv[] = {"/probe", "exit", code, NULL};
        if (sandbox_plan_new(&plan, &err) < 0 || sandbox_plan_add_defaults(plan, &err) < 0 ||
            sandbox_plan_add_bind(plan, pr_probe(), "/probe", SANDBOX_BIND_RO, &err) < 0 ||
            sandbox_plan_set_argv(plan, argv, &err) < 0)
                FAIL("plan: %s", err.msg);
        struct sandbox_result res;
        memset(&res, 0, sizeof(res));
        if (sandbox_run(plan, &res, &err) < 0)
                FAIL("sandbox %d: %s", i, err.msg);
        if (res.setup_failed)
                FAIL("sandbox %d could not be set up: %s", i, res.error.msg);
        if (res.exit_code != i % 100)
                FAIL("sandbox %d exited %d, want %d", i, res.exit_code, i % 100);
}

static void *launch(void *arg)
{
        for (int i = (int)(size_t)arg; i < STRESS_SANDBOXES; i += STRESS_LAUNCHERS) {
                one_sandbox(i);
                atomic_fetch_add(&done, 1);
        }
        return NULL;
}

static void stress(void)
{
        sink = fopen("/dev/null", "we");
        CHECK(sink != NULL);
        pthread_t threads[STRESS_THREADS], dog;
        for (size_t i = 0; i < STRESS_THREADS; i++)
                CHECK_INT(pthread_create(&threads[i], NULL, busy, (void *)(i + 1)), ==, 0);
        CHECK_INT(pthread_create(&dog, NULL, watchdog, NULL), ==, 0);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pthread_t launchers[STRESS_LAUNCHERS];
        for (size_t i = 0; i < STRESS_LAUNCHERS; i++)
                CHECK_INT(pthread_create(&launchers[i], NULL, launch, (void *)i), ==, 0);
        for (size_t i = 0; i < STRESS_LAUNCHERS; i++)
                pthread_join(launchers[i], NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        CHECK_INT(atomic_load(&done), ==, STRESS_SANDBOXES);
        atomic_store(&stop, 1);
        for (size_t i = 0; i < STRESS_THREADS; i++)
                pthread_join(threads[i], NULL);
        pthread_join(dog, NULL);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        tap_diag("%d sandboxes from %d threads beside %d busy ones: %.2f s", STRESS_SANDBOXES,
                 STRESS_LAUNCHERS, STRESS_THREADS, secs);
}

/* A hang is caught by the watchdog after 20 s; the total limit is for a
 * loaded machine. The process and its sandboxes get at most 64 tasks: its
 * 14 threads and four sandboxes (helper, PID 1, command) at a time. */
TEST_TIMEOUT(sandboxes_from_busy_threads, 600)
{
        pr_confined(64, stress);
}
