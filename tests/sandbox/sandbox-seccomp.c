/* The seccomp filter from inside a sandbox: probe-harden (64-bit, and -m32
 * where the host runs 32-bit code) makes each denied call raw under
 * `cloister run` and reports the errno it got; --seccomp=off shows each check
 * can fail; a shell script of what builds really do keeps working. */
#include "probe-run.h"
#include "tap.h"

#include "base/base-cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* cloister run --ro-bind PROBE /p [extra...] -- /p ARGS...; returns stdout */
static char *run_probe(const char *probe_rel, const char *const *extra, const char *const *args,
                       int *ret_code, char **ret_err)
{
        const char *cmd[64] = {"/p"};
        size_t n = 1;
        for (; *args && n < 63; args++)
                cmd[n++] = *args;
        struct tap_run_result res;
        pr_run_probe(probe_rel, extra, cmd, &res);
        *ret_code = tap_exit_code(res.status);
        if (ret_err)
                *ret_err = res.err;
        else
                free(res.err);
        return res.out;
}

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
        int want; /* errno inside the sandbox */
        int alt;  /* also accepted: a call libseccomp 2.5.4 cannot name stays ENOSYS */
};

static const struct expectation expected[] = {
        {"chmod_suid", EPERM, -2},        {"chmod_plain", 0, -2},
        {"fchmod_sgid", EPERM, -2},       {"fchmodat_suid", EPERM, -2},
        {"fchmodat_plain", 0, -2},        {"fchmodat2_suid", EPERM, -2},
        {"fchmodat2_sgid", EPERM, -2},    {"fchmodat2_plain", 0, -2},
        {"open_sgid", EPERM, -2},         {"openat_suid", EPERM, -2},
        {"openat_plain", 0, -2},          {"creat_suid", EPERM, -2},
        {"mkdir_sgid", EPERM, -2},        {"mkdirat_sgid", EPERM, -2},
        {"mkdirat_plain", 0, -2},         {"mknod_suid", EPERM, -2},
        {"mknodat_sgid", EPERM, -2},      {"mknodat_plain", 0, -2},
        {"openat2", ENOSYS, -2},          {"setxattr", ENOTSUP, -2},
        {"lsetxattr", ENOTSUP, -2},       {"fsetxattr", ENOTSUP, -2},
        {"getxattr", ENOTSUP, -2},        {"listxattr", ENOTSUP, -2},
        {"llistxattr", ENOTSUP, -2},      {"flistxattr", ENOTSUP, -2},
        {"removexattr", ENOTSUP, -2},     {"lremovexattr", ENOTSUP, -2},
        {"fremovexattr", ENOTSUP, -2},    {"setxattrat", ENOTSUP, -2},
        {"getxattrat", ENOTSUP, -2},      {"listxattrat", ENOTSUP, -2},
        {"removexattrat", ENOTSUP, -2},   {"tiocsti", EPERM, -2},
        {"tioclinux", EPERM, -2},         {"tiocsti_high", EPERM, -2},
        {"ioctl_fionread", 0, -2},        {"io_uring_setup", ENOSYS, -2},
        {"io_uring_enter", ENOSYS, -2},   {"io_uring_register", ENOSYS, -2},
        {"userfaultfd", ENOSYS, -2},      {"bpf", ENOSYS, -2},
        {"perf_event_open", ENOSYS, -2},  {"add_key", ENOSYS, -2},
        {"request_key", ENOSYS, -2},      {"keyctl", ENOSYS, -2},
        {"kexec_load", ENOSYS, -2},       {"kexec_file_load", ENOSYS, -2},
        {"init_module", ENOSYS, -2},      {"finit_module", ENOSYS, -2},
        {"delete_module", ENOSYS, -2},    {"open_by_handle_at", ENOSYS, -2},
        {"mseal_new", ENOSYS, -2},        {"unknown_1000", ENOSYS, -2},
        {"getpid", 0, -2},
};

static void check_classes(const char *probe_rel, const char *abi)
{
        static const char *const args[] = {"seccomp", "/tmp", NULL};
        int code = 0;
        _cleanup_free_ char *out = run_probe(probe_rel, NULL, args, &code, NULL);
        CHECK_INT(code, ==, 0);
        int n = 0;
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                int got = reported(out, expected[i].cls);
                if (got < 0)
                        continue; /* the ABI has no such call (chmod on aarch64, ...) */
                n++;
                if (got != expected[i].want && got != expected[i].alt)
                        FAIL("%s (%s): errno %d (%s), expected %d (%s)", expected[i].cls, abi,
                             got, strerror(got), expected[i].want, strerror(expected[i].want));
        }
        CHECK_INT(n, >, 40);
}

TEST(denied_classes_64bit)
{
        check_classes("tests/probe/probe-harden", "64-bit");
}

/* The host runs 32-bit code if the -m32 probe executes at all; else
 * exec_errno says why execve refused it. */
static int exec_errno;

static int host_runs_i386(const char *probe)
{
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                dup2(null, 1);
                dup2(null, 2);
                execl(probe, probe, "uname", (char *)NULL);
                _exit(errno < 100 ? 100 + errno : 127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        exec_errno = code >= 100 && code < 127 ? code - 100 : 0;
        return code == 0;
}

TEST(denied_classes_32bit)
{
        _cleanup_free_ char *probe = tap_build_path("tests/probe/probe-harden-32");
        if (access(probe, X_OK) < 0)
                tap_skip("no -m32 probe (gcc-multilib cannot link static 32-bit programs)");
        if (!host_runs_i386(probe)) {
                /* This machine's kernel has CONFIG_IA32_EMULATION=y but IA32
                 * emulation is off at run time (a PVM guest; nothing on the
                 * command line): execve of an ELF32 fails with ENOEXEC and
                 * int 0x80 faults. The i386 part of the filter is checked by
                 * unit-seccomp's BPF interpreter instead, and int 0x80 by
                 * int80_from_a_64bit_process_does_not_bypass_the_filter. Not a
                 * skip: nothing here can run it. */
                tap_diag("this kernel runs no i386 code (execve of the -m32 probe: %s; "
                         "int 0x80: SIGSEGV, see int80_from_a_64bit_process_...): i386 rules "
                         "checked by unit-seccomp's interpreter only",
                         exec_errno ? strerror(exec_errno) : "did not run");
                return;
        }
        check_classes("tests/probe/probe-harden-32", "i386");
}

TEST(each_check_fails_with_seccomp_off)
{
        /* the same probe with --seccomp=off: each class must look different,
         * or the test above could not catch a filter that lets it through */
        static const char *const args[] = {"seccomp", "/tmp", NULL};
        static const char *const off[] = {"--seccomp=off", NULL};
        int code = 0;
        _cleanup_free_ char *out = run_probe("tests/probe/probe-harden", off, args, &code, NULL);
        CHECK_INT(code, ==, 0);
        static const char *const differ[] = {"chmod_suid", "openat_suid", "mkdirat_plain",
                                             "tiocsti", "tiocsti_high", "tioclinux",
                                             "mseal_new", "fchmod_sgid", "fchmodat2_suid",
                                             "fchmodat2_sgid"};
        for (size_t i = 0; i < ELEMENTSOF(differ); i++) {
                int got = reported(out, differ[i]);
                if (got == EPERM || got == ENOSYS)
                        FAIL("%s gives errno %d without the filter too", differ[i], got);
        }
        /* the *xattrat calls exist here (Linux 6.13): without the filter a
         * file on the sandbox's tmpfs answers ENODATA or 0, not ENOTSUP */
        static const char *const xattrat[] = {"getxattrat", "listxattrat", "removexattrat"};
        for (size_t i = 0; i < ELEMENTSOF(xattrat); i++) {
                int got = reported(out, xattrat[i]);
                if (got == ENOTSUP || got == ENOSYS)
                        FAIL("%s gives errno %d without the filter too", xattrat[i], got);
        }
        /* and int 0x80 where the kernel has the gate */
        _cleanup_free_ char *probe32 = tap_build_path("tests/probe/probe-harden-32");
        if (access(probe32, X_OK) == 0 && host_runs_i386(probe32))
                CHECK_INT(reported(out, "int80_chmod_suid"), ==, 0);
}

TEST(int80_from_a_64bit_process_does_not_bypass_the_filter)
{
        /* int 0x80 from a 64-bit program enters the kernel's i386 table with
         * seccomp_data.arch = i386: the filter's i386 rules must hold there
         * (or, where the kernel has no IA32 emulation, there is no gate) */
        static const char *const args[] = {"seccomp", "/tmp", NULL};
        int code = 0;
        _cleanup_free_ char *out = run_probe("tests/probe/probe-harden", NULL, args, &code, NULL);
        CHECK_INT(code, ==, 0);
        CHECK_INT(reported(out, "int80_suid_bit"), ==, 0);
        _cleanup_free_ char *probe32 = tap_build_path("tests/probe/probe-harden-32");
        if (access(probe32, X_OK) == 0 && host_runs_i386(probe32)) {
                CHECK_INT(reported(out, "int80_getpid"), ==, 0);
                CHECK_INT(reported(out, "int80_chmod_suid"), ==, EPERM);
                CHECK_INT(reported(out, "int80_setxattr"), ==, ENOTSUP);
                CHECK_INT(reported(out, "int80_userfaultfd"), ==, ENOSYS);
                return;
        }
        /* This kernel has CONFIG_IA32_EMULATION=y but runs no i386 code: it
         * is a PVM guest, and ia32_enabled() is false at run time (execve of
         * an ELF32 fails with ENOEXEC, and there is no int 0x80 gate, so the
         * call faults before any system-call table or filter sees it). */
        static const char *const cls[] = {"int80_getpid", "int80_chmod_suid", "int80_setxattr",
                                          "int80_userfaultfd"};
        for (size_t i = 0; i < ELEMENTSOF(cls); i++)
                CHECK_INT(reported(out, cls[i]), ==, 1000 + SIGSEGV);
        tap_diag("IA32 emulation is off at run time here: int 0x80 faults (SIGSEGV) before the "
                 "i386 table; the filter's i386 rules are checked by unit-seccomp");
}

TEST(seccomp_option_is_checked)
{
        static const char *const args[] = {"uname", NULL};
        static const char *const bad[] = {"--seccomp=maybe", NULL};
        int code = 0;
        char *err = NULL;
        _cleanup_free_ char *out = run_probe("tests/probe/probe-harden", bad, args, &code, &err);
        CHECK_INT(code, ==, 2);
        CHECK(strstr(err, "option '--seccomp': invalid value 'maybe' (on or off)") != NULL);
        free(err);
}

TEST_TIMEOUT(builds_keep_working, 120)
{
        if (access("/bin/busybox", X_OK) < 0)
                FAIL("/bin/busybox (busybox-static) is not installed");
        _cleanup_free_ char *script = NULL;
        if (asprintf(&script, "%s/tests/sandbox/data/builds-keep-working.sh", tap_source_dir()) <
            0)
                FAIL("out of memory");
        _cleanup_free_ char *cloister = tap_build_path("src/cloister");
        _cleanup_free_ char *probe = tap_build_path("tests/probe/probe-harden");
        char *argv[] = {cloister,          (char *)"run", (char *)"--ro-bind", (char *)"/bin/busybox",
                        (char *)"/bin/busybox", (char *)"--ro-bind", probe, (char *)"/p",
                        (char *)"--ro-bind", script, (char *)"/s.sh", (char *)"--",
                        (char *)"/bin/busybox", (char *)"sh", (char *)"/s.sh", NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 100, &res));
        tap_diag("%s%s", res.out, res.err);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK(strstr(res.out, "all ok") != NULL);
        tap_run_result_free(&res);
}
