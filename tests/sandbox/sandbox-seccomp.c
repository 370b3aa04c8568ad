/* The seccomp filter as the kernel applies it: probe-harden (64-bit, and the
 * -m32 build where the host runs 32-bit code) makes each denied call raw and
 * reports the errno it got, under the filter loaded the way the sandbox's
 * child loads it, and without it (to show each check can fail). */
#include "tap.h"

#include "base/base-cleanup.h"
#include "sandbox/sandbox-harden-child.h"
#include "sandbox/sandbox-seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run argv with (or without) the filter; returns its stdout (malloc'd). */
static char *run_probe(char *const argv[], int filtered, int *ret_status)
{
        int p[2];
        CHECK(pipe2(p, O_CLOEXEC) == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                dup2(p[1], 1);
                int step = 0;
                if (filtered && sandbox_harden_child_seccomp(sandbox_seccomp_builtin(), &step) < 0)
                        _exit(120 + step);
                execv(argv[0], argv);
                _exit(127);
        }
        close(p[1]);
        char *out = NULL;
        size_t len = 0;
        FILE *f = fdopen(p[0], "r");
        CHECK(f);
        char line[512];
        while (fgets(line, sizeof(line), f)) {
                out = realloc(out, len + strlen(line) + 1);
                CHECK(out);
                memcpy(out + len, line, strlen(line) + 1);
                len += strlen(line);
        }
        fclose(f);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        *ret_status = status;
        return out ? out : strdup("");
}

/* The errno the probe reported for cls, or -1 when it did not report it. */
static int reported(const char *out, const char *cls)
{
        size_t n = strlen(cls);
        for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, cls, n) == 0 && p[n] == ' ')
                        return atoi(p + n + 1);
        return -1;
}

struct expectation {
        const char *cls;
        int want;  /* errno under the filter */
        int alt;   /* also accepted (a call libseccomp cannot name stays ENOSYS) */
};

static const struct expectation expected[] = {
        {"chmod_suid", EPERM, -2},      {"chmod_plain", 0, -2},
        {"fchmod_sgid", EPERM, -2},     {"fchmodat_suid", EPERM, -2},
        {"fchmodat_plain", 0, -2},      {"fchmodat2_suid", EPERM, ENOSYS},
        {"open_sgid", EPERM, -2},       {"openat_suid", EPERM, -2},
        {"openat_plain", 0, -2},        {"creat_suid", EPERM, -2},
        {"mkdir_sgid", EPERM, -2},      {"mkdirat_sgid", EPERM, -2},
        {"mkdirat_plain", 0, -2},       {"mknod_suid", EPERM, -2},
        {"mknodat_sgid", EPERM, -2},    {"mknodat_plain", 0, -2},
        {"openat2", ENOSYS, -2},        {"setxattr", ENOTSUP, -2},
        {"lsetxattr", ENOTSUP, -2},     {"fsetxattr", ENOTSUP, -2},
        {"getxattr", ENOTSUP, -2},      {"listxattr", ENOTSUP, -2},
        {"llistxattr", ENOTSUP, -2},    {"flistxattr", ENOTSUP, -2},
        {"removexattr", ENOTSUP, -2},   {"lremovexattr", ENOTSUP, -2},
        {"fremovexattr", ENOTSUP, -2},  {"setxattrat", ENOTSUP, ENOSYS},
        {"listxattrat", ENOTSUP, ENOSYS}, {"removexattrat", ENOTSUP, ENOSYS},
        {"tiocsti", EPERM, -2},         {"tioclinux", EPERM, -2},
        {"tiocsti_high", EPERM, -2},    {"ioctl_fionread", 0, -2},
        {"io_uring_setup", ENOSYS, -2}, {"io_uring_enter", ENOSYS, -2},
        {"io_uring_register", ENOSYS, -2}, {"userfaultfd", ENOSYS, -2},
        {"bpf", ENOSYS, -2},            {"perf_event_open", ENOSYS, -2},
        {"add_key", ENOSYS, -2},        {"request_key", ENOSYS, -2},
        {"keyctl", ENOSYS, -2},         {"kexec_load", ENOSYS, -2},
        {"kexec_file_load", ENOSYS, -2}, {"init_module", ENOSYS, -2},
        {"finit_module", ENOSYS, -2},   {"delete_module", ENOSYS, -2},
        {"open_by_handle_at", ENOSYS, -2}, {"mseal_new", ENOSYS, -2},
        {"unknown_1000", ENOSYS, -2},   {"getpid", 0, -2},
};

static void check_probe(const char *probe_rel, int is32)
{
        _cleanup_free_ char *probe = tap_build_path(probe_rel);
        _cleanup_free_ char *dir = tap_mkdtemp();
        char *argv[] = {probe, (char *)"seccomp", dir, NULL};
        int status = 0;
        _cleanup_free_ char *out = run_probe(argv, 1, &status);
        tap_rm_rf(dir);
        CHECK_INT(tap_exit_code(status), ==, 0);
        int n = 0;
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                int got = reported(out, expected[i].cls);
                if (got < 0) {
                        /* a call the ABI does not have (chmod on aarch64,
                         * kexec_file_load on i386, the high-bit ioctl on 32 bits) */
                        continue;
                }
                n++;
                if (got != expected[i].want && got != expected[i].alt)
                        FAIL("%s%s: errno %d (%s), expected %d (%s)", expected[i].cls,
                             is32 ? " (i386)" : "", got, strerror(got), expected[i].want,
                             strerror(expected[i].want));
        }
        CHECK_INT(n, >, 40);
}

TEST(denied_classes_64bit)
{
        check_probe("tests/probe/probe-harden", 0);
}

/* The host runs 32-bit code if the -m32 probe executes at all. */
static int host_runs_i386(const char *probe)
{
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                dup2(null, 1);
                dup2(null, 2);
                execl(probe, probe, "uname", (char *)NULL);
                _exit(errno == ENOEXEC ? 126 : 127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(denied_classes_32bit)
{
        _cleanup_free_ char *probe = tap_build_path("tests/probe/probe-harden-32");
        if (access(probe, X_OK) < 0)
                tap_skip("no -m32 probe (gcc-multilib cannot link static 32-bit programs)");
        if (!host_runs_i386(probe)) {
                /* This machine's kernel has IA32 emulation compiled in but
                 * cannot execute 32-bit code (exec gives ENOEXEC, int 0x80
                 * faults): the i386 half of the filter is checked by
                 * unit-seccomp's BPF interpreter instead. */
                tap_diag("host cannot execute 32-bit programs: i386 rules checked by "
                         "unit-seccomp only");
                return;
        }
        check_probe("tests/probe/probe-harden-32", 1);
}

TEST(each_check_fails_without_the_filter)
{
        /* the same probe unfiltered: every class above must look different,
         * or the test could not catch a filter that lets it through */
        _cleanup_free_ char *probe = tap_build_path("tests/probe/probe-harden");
        _cleanup_free_ char *dir = tap_mkdtemp();
        char *argv[] = {probe, (char *)"seccomp", dir, NULL};
        int status = 0;
        _cleanup_free_ char *out = run_probe(argv, 0, &status);
        tap_rm_rf(dir);
        static const char *const differ[] = {"chmod_suid", "openat_suid", "mkdirat_sgid",
                                             "mknodat_sgid", "tiocsti", "tiocsti_high",
                                             "tioclinux", "mseal_new"};
        for (size_t i = 0; i < ELEMENTSOF(differ); i++) {
                int got = reported(out, differ[i]);
                if (got == EPERM || got == ENOSYS)
                        FAIL("%s gives errno %d without the filter too", differ[i], got);
        }
}
