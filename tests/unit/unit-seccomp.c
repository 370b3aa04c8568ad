/* Unit tests for the compiled seccomp program: a small classic-BPF interpreter
 * runs it on synthetic seccomp_data for every ABI the filter covers (x86-64,
 * x32, i386 here; aarch64 and arm there), so the compat ABIs are checked even
 * on a host that cannot execute 32-bit code. */
#include "tap.h"

#include "base/base-cleanup.h"
#include "sandbox/sandbox-seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Classic BPF as the kernel's seccomp runs it (the subset libseccomp emits,
 * and a little more). */
static uint32_t bpf_run(const struct sock_fprog *p, const struct seccomp_data *d)
{
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
        const unsigned char *data = (const unsigned char *)d;
        for (unsigned pc = 0; pc < p->len; pc++) {
                const struct sock_filter *f = &p->filter[pc];
                uint32_t k = f->k;
                switch (f->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                        if (k + 4 > sizeof(*d) || k % 4)
                                FAIL("bad load offset %u", k);
                        memcpy(&a, data + k, 4);
                        break;
                case BPF_LD | BPF_IMM:
                        a = k;
                        break;
                case BPF_LDX | BPF_IMM:
                        x = k;
                        break;
                case BPF_LD | BPF_MEM:
                        a = mem[k];
                        break;
                case BPF_LDX | BPF_MEM:
                        x = mem[k];
                        break;
                case BPF_ST:
                        mem[k] = a;
                        break;
                case BPF_STX:
                        mem[k] = x;
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        a &= k;
                        break;
                case BPF_ALU | BPF_OR | BPF_K:
                        a |= k;
                        break;
                case BPF_ALU | BPF_ADD | BPF_K:
                        a += k;
                        break;
                case BPF_ALU | BPF_SUB | BPF_K:
                        a -= k;
                        break;
                case BPF_ALU | BPF_RSH | BPF_K:
                        a >>= k;
                        break;
                case BPF_ALU | BPF_LSH | BPF_K:
                        a <<= k;
                        break;
                case BPF_MISC | BPF_TAX:
                        x = a;
                        break;
                case BPF_MISC | BPF_TXA:
                        a = x;
                        break;
                case BPF_JMP | BPF_JA:
                        pc += k;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        pc += a == k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JGT | BPF_K:
                        pc += a > k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JGE | BPF_K:
                        pc += a >= k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JSET | BPF_K:
                        pc += (a & k) ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_X:
                        pc += a == x ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JGT | BPF_X:
                        pc += a > x ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JGE | BPF_X:
                        pc += a >= x ? f->jt : f->jf;
                        break;
                case BPF_RET | BPF_K:
                        return k;
                case BPF_RET | BPF_A:
                        return a;
                default:
                        FAIL("unknown BPF opcode 0x%x at %u", f->code, pc);
                }
        }
        FAIL("program ran off its end");
}

#define ALL_ABIS ((1u << SANDBOX_SECCOMP_N_ABIS) - 1)

/* the program with every ABI's rules, whatever this host runs */
static const struct sandbox_seccomp *filters(void)
{
        return sandbox_seccomp_builtin_for(ALL_ABIS);
}

static uint32_t run_all(const struct seccomp_data *d)
{
        return bpf_run(&filters()->prog, d);
}

struct abi {
        uint32_t scmp_arch;
        uint32_t audit_arch;
        const char *name;
};

static const struct abi abis[] = {
#if defined(__x86_64__)
        {SCMP_ARCH_X86_64, AUDIT_ARCH_X86_64, "x86-64"},
        {SCMP_ARCH_X32, AUDIT_ARCH_X86_64, "x32"},
        {SCMP_ARCH_X86, AUDIT_ARCH_I386, "i386"},
#elif defined(__aarch64__)
        {SCMP_ARCH_AARCH64, AUDIT_ARCH_AARCH64, "aarch64"},
        {SCMP_ARCH_ARM, AUDIT_ARCH_ARM, "arm"},
#endif
};

/* Evaluate name(args) on abi; returns the filter's action. -1: the ABI does
 * not have the call (skipped). */
static int64_t eval(const struct abi *abi, const char *name, uint64_t a0, uint64_t a1, uint64_t a2,
                    uint64_t a3)
{
        int nr = seccomp_syscall_resolve_name_arch(abi->scmp_arch, name);
        if (nr == __NR_SCMP_ERROR || nr < 0)
                return -1;
        struct seccomp_data d = {.nr = nr, .arch = abi->audit_arch, .instruction_pointer = 0};
        d.args[0] = a0;
        d.args[1] = a1;
        d.args[2] = a2;
        d.args[3] = a3;
        return run_all(&d);
}

#define ALLOW SECCOMP_RET_ALLOW
#define ERRNO(e) (SECCOMP_RET_ERRNO | (uint32_t)(e))

static void expect(const char *name, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                   uint32_t want)
{
        int checked = 0;
        for (size_t i = 0; i < ELEMENTSOF(abis); i++) {
                int64_t got = eval(&abis[i], name, a0, a1, a2, a3);
                if (got < 0)
                        continue;
                checked++;
                if ((uint32_t)got != want)
                        FAIL("%s on %s: action 0x%x, expected 0x%x", name, abis[i].name,
                             (unsigned)got, (unsigned)want);
        }
        if (checked == 0)
                tap_diag("%s: no ABI has it", name);
}

static int same_prog(const struct sock_fprog *a, const struct sock_fprog *b)
{
        return a->len == b->len &&
               memcmp(a->filter, b->filter, a->len * sizeof(struct sock_filter)) == 0;
}

TEST(builtin_matches_a_fresh_compile)
{
        /* the build-time programs must be what these sources compile to now */
        for (unsigned set = 1; set <= ALL_ABIS; set += 2) {
                struct sandbox_seccomp fresh;
                struct cl_error err;
                if (sandbox_seccomp_compile(set, &fresh, &err) < 0)
                        FAIL("compile 0x%x: %s", set, err.msg);
                const struct sandbox_seccomp *b = sandbox_seccomp_builtin_for(set);
                CHECK(b->prog.len > 10);
                int same = same_prog(&fresh.prog, &b->prog);
                tap_diag("ABIs 0x%x: %u instructions", set, (unsigned)b->prog.len);
                sandbox_seccomp_free(&fresh);
                CHECK(same);
        }
        struct sandbox_seccomp bad;
        CHECK_INT(sandbox_seccomp_compile(2, &bad, NULL), ==, -EINVAL);
}

TEST(every_abi_is_covered)
{
        /* a foreign architecture kills the process, so no ABI is unfiltered */
        struct seccomp_data d = {.nr = 0, .arch = AUDIT_ARCH_PPC64LE};
        CHECK_INT(run_all(&d), ==, SECCOMP_RET_KILL_PROCESS);
        for (size_t i = 0; i < ELEMENTSOF(abis); i++)
                CHECK_INT(eval(&abis[i], "getpid", 0, 0, 0, 0), ==, ALLOW);
}

TEST(setuid_and_setgid_modes_are_eperm_on_every_abi)
{
        expect("chmod", 0, 04755, 0, 0, ERRNO(EPERM));
        expect("chmod", 0, 02755, 0, 0, ERRNO(EPERM));
        expect("chmod", 0, 0755, 0, 0, ALLOW);
        expect("fchmod", 3, 06755, 0, 0, ERRNO(EPERM));
        expect("fchmod", 3, 01777, 0, 0, ALLOW);
        expect("fchmodat", 3, 0, 04755, 0, ERRNO(EPERM));
        expect("fchmodat", 3, 0, 0644, 0, ALLOW);
        expect("open", 0, O_CREAT, 02755, 0, ERRNO(EPERM));
        expect("open", 0, O_CREAT, 0644, 0, ALLOW);
        expect("openat", 3, 0, O_CREAT, 04755, ERRNO(EPERM));
        expect("openat", 3, 0, O_CREAT, 0644, ALLOW);
        expect("creat", 0, 04700, 0, 0, ERRNO(EPERM));
        expect("mkdir", 0, 02755, 0, 0, ERRNO(EPERM));
        expect("mkdir", 0, 0755, 0, 0, ALLOW);
        expect("mkdirat", 3, 0, 02755, 0, ERRNO(EPERM));
        expect("mknod", 0, S_IFIFO | 04644, 0, 0, ERRNO(EPERM));
        expect("mknodat", 3, 0, S_IFIFO | 02644, 0, ERRNO(EPERM));
        expect("mknodat", 3, 0, S_IFIFO | 0644, 0, ALLOW);
        /* openat2's mode is behind a pointer: not allowed at all */
        expect("openat2", 3, 0, 0, 0, ERRNO(ENOSYS));
}

TEST(xattrs_are_enotsup)
{
        static const char *const calls[] = {"setxattr",    "lsetxattr",   "fsetxattr",
                                            "getxattr",    "lgetxattr",   "fgetxattr",
                                            "listxattr",   "llistxattr",  "flistxattr",
                                            "removexattr", "lremovexattr", "fremovexattr"};
        for (size_t i = 0; i < ELEMENTSOF(calls); i++)
                expect(calls[i], 0, 0, 0, 0, ERRNO(ENOTSUP));
}

TEST(terminal_injection_ioctls_are_eperm)
{
        expect("ioctl", 0, TIOCSTI, 0, 0, ERRNO(EPERM));
        expect("ioctl", 0, TIOCLINUX, 0, 0, ERRNO(EPERM));
        expect("ioctl", 0, FIONREAD, 0, 0, ALLOW);
        expect("ioctl", 0, TCGETS, 0, 0, ALLOW);
        /* the kernel reads the request as 32 bits: high garbage must not help */
        int nr = seccomp_syscall_resolve_name_arch(abis[0].scmp_arch, "ioctl");
        struct seccomp_data d = {.nr = nr, .arch = abis[0].audit_arch};
        d.args[1] = (1ull << 32) | TIOCSTI;
        CHECK_INT(run_all(&d), ==, ERRNO(EPERM));
        d.args[1] = (1ull << 32) | TIOCLINUX;
        CHECK_INT(run_all(&d), ==, ERRNO(EPERM));
        /* every neighbour of the denied values, on every bit, is allowed */
        for (int bit = 0; bit < 32; bit++) {
                d.args[1] = TIOCSTI ^ (1u << bit);
                if (d.args[1] != TIOCLINUX)
                        CHECK_INT(run_all(&d), ==, ALLOW);
                d.args[1] = TIOCLINUX ^ (1u << bit);
                if (d.args[1] != TIOCSTI)
                        CHECK_INT(run_all(&d), ==, ALLOW);
        }
        /* and a sample of the whole 32-bit space */
        for (uint64_t v = 0; v < (1ull << 32); v += 65521) {
                d.args[1] = v | (v << 32);
                uint32_t want = ((uint32_t)v == TIOCSTI || (uint32_t)v == TIOCLINUX)
                                        ? ERRNO(EPERM)
                                        : ALLOW;
                CHECK_INT(run_all(&d), ==, want);
        }
}

TEST(dangerous_calls_are_enosys)
{
        static const char *const calls[] = {
                "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd",
                "bpf", "perf_event_open", "add_key", "request_key", "keyctl", "kexec_load",
                "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
                "swapon", "open_by_handle_at", "syslog", "acct", "settimeofday",
        };
        for (size_t i = 0; i < ELEMENTSOF(calls); i++)
                expect(calls[i], 0, 0, 0, 0, ERRNO(ENOSYS));
}

TEST(unknown_numbers_are_enosys)
{
        for (size_t i = 0; i < ELEMENTSOF(abis); i++) {
                int x32 = abis[i].scmp_arch == SCMP_ARCH_X32;
                struct seccomp_data d = {.nr = (x32 ? 0x40000000 : 0) + 1000,
                                         .arch = abis[i].audit_arch};
                CHECK_INT(run_all(&d), ==, ERRNO(ENOSYS));
                d.nr = (x32 ? 0x40000000 : 0) + 462; /* mseal, Linux 6.10 */
                CHECK_INT(run_all(&d), ==, ERRNO(ENOSYS));
        }
}

TEST(what_builds_use_is_allowed)
{
        static const char *const calls[] = {
                "clone", "execve", "wait4", "futex", "mmap", "read", "write", "unshare",
                "mount", "pivot_root", "setns", "socket", "pipe2", "ptrace", "getdents64",
                "statx", "rt_sigaction", "prctl", "seccomp", "clock_gettime", "fcntl",
        };
        for (size_t i = 0; i < ELEMENTSOF(calls); i++)
                expect(calls[i], 0, 0, 0, 0, ALLOW);
}

TEST(known_numbers_cross_check)
{
#if defined(__x86_64__)
        /* the interpreter is fed numbers from libseccomp; check a few against
         * the kernel's tables so the two cannot be wrong together */
        struct seccomp_data d = {.nr = 15, .arch = AUDIT_ARCH_I386}; /* i386 chmod */
        d.args[1] = 04755;
        CHECK_INT(run_all(&d), ==, ERRNO(EPERM));
        d.nr = 90; /* x86-64 chmod */
        d.arch = AUDIT_ARCH_X86_64;
        CHECK_INT(run_all(&d), ==, ERRNO(EPERM));
        d.nr = 0x40000000 + 90; /* x32 chmod */
        CHECK_INT(run_all(&d), ==, ERRNO(EPERM));
        d.nr = 0x40000000 + 514; /* x32 ioctl */
        d.args[1] = TIOCSTI;
        CHECK_INT(run_all(&d), ==, ERRNO(EPERM));
        d.nr = 54; /* i386 ioctl */
        d.arch = AUDIT_ARCH_I386;
        CHECK_INT(run_all(&d), ==, ERRNO(EPERM));
        d.nr = 374; /* i386 userfaultfd */
        CHECK_INT(run_all(&d), ==, ERRNO(ENOSYS));
        /* i386 reaches sockets and SysV IPC directly too (Linux 4.3) */
        d.nr = 359; /* socket */
        CHECK_INT(run_all(&d), ==, ALLOW);
        d.nr = 102; /* socketcall */
        CHECK_INT(run_all(&d), ==, ALLOW);
        d.nr = 393; /* semget */
        CHECK_INT(run_all(&d), ==, ALLOW);
#else
        tap_diag("x86 numbers only");
#endif
}

TEST(pfc_export_names_the_rules)
{
        char path[] = "/tmp/cloister-pfc-XXXXXX";
        _cleanup_close_ int fd = mkstemp(path);
        CHECK(fd >= 0);
        unlink(path);
        CHECK_OK(sandbox_seccomp_export_pfc(fd, NULL));
        CHECK(lseek(fd, 0, SEEK_SET) == 0);
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        CHECK(n > 0);
        buf[n] = '\0';
        CHECK(strstr(buf, "filter for arch") != NULL);
}

#if defined(__x86_64__)
#define X32 0x40000000u
/* the calls libseccomp 2.5.4 may not name, by their numbers in the kernel's
 * syscall_64.tbl (x32: the common entries with __X32_SYSCALL_BIT) and
 * syscall_32.tbl */
static const struct {
        const char *abi;
        uint32_t arch, fchmodat2, xattrat[4];
} numbered[] = {
        {"x86-64", AUDIT_ARCH_X86_64, 452, {463, 464, 465, 466}},
        {"x32", AUDIT_ARCH_X86_64, X32 | 452, {X32 | 463, X32 | 464, X32 | 465, X32 | 466}},
        {"i386", AUDIT_ARCH_I386, 452, {463, 464, 465, 466}},
};

TEST(fchmodat2_and_xattrat_by_number_on_every_abi)
{
        for (size_t i = 0; i < ELEMENTSOF(numbered); i++) {
                struct seccomp_data d = {.nr = numbered[i].fchmodat2, .arch = numbered[i].arch};
                /* fchmodat2(dirfd, path, mode, flags) */
                d.args[2] = 04755;
                CHECK_INT(run_all(&d), ==, ERRNO(EPERM));
                d.args[2] = 02755;
                CHECK_INT(run_all(&d), ==, ERRNO(EPERM));
                d.args[2] = 0755;
                CHECK_INT(run_all(&d), ==, ALLOW);
                d.args[2] = 0755 | (1ull << 40); /* the high half is not the mode */
                CHECK_INT(run_all(&d), ==, ALLOW);
                for (int j = 0; j < 4; j++) {
                        d.nr = (int)numbered[i].xattrat[j];
                        d.args[2] = 0;
                        if (run_all(&d) != ERRNO(ENOTSUP))
                                FAIL("%s: xattrat call %u: 0x%x", numbered[i].abi,
                                     numbered[i].xattrat[j], (unsigned)run_all(&d));
                }
        }
}

TEST(abis_the_host_cannot_run_get_enosys_only)
{
        /* the x86-64-only program: x32 and i386 calls all fail, none is
         * allowed, none kills; x86-64 is filtered as in the full one */
        const struct sock_fprog *p = &sandbox_seccomp_builtin_for(1)->prog;
        CHECK(p->len < filters()->prog.len / 2);
        for (uint32_t nr = 0; nr < 1100; nr++) {
                struct seccomp_data d = {.nr = (int)nr, .arch = AUDIT_ARCH_I386};
                d.args[1] = 04755;
                CHECK_INT(bpf_run(p, &d), ==, ERRNO(ENOSYS));
                d.arch = AUDIT_ARCH_X86_64;
                d.nr = (int)(X32 | nr);
                CHECK_INT(bpf_run(p, &d), ==, ERRNO(ENOSYS));
                d.nr = (int)nr;
                CHECK_INT(bpf_run(p, &d), ==, bpf_run(&filters()->prog, &d));
        }
        struct seccomp_data d = {.nr = -1, .arch = AUDIT_ARCH_X86_64};
        CHECK_INT(bpf_run(p, &d), ==, ERRNO(ENOSYS));
        d.arch = AUDIT_ARCH_PPC64LE;
        CHECK_INT(bpf_run(p, &d), ==, SECCOMP_RET_KILL_PROCESS);
        /* and each ABI alone carries its own rules */
        for (unsigned set = 1; set <= ALL_ABIS; set += 2) {
                const struct sock_fprog *q = &sandbox_seccomp_builtin_for(set)->prog;
                struct seccomp_data c = {.nr = 15, .arch = AUDIT_ARCH_I386}; /* chmod */
                c.args[1] = 0644;
                CHECK_INT(bpf_run(q, &c), ==, (set & 4) ? ALLOW : ERRNO(ENOSYS));
                c.nr = (int)(X32 | 90);
                c.arch = AUDIT_ARCH_X86_64;
                CHECK_INT(bpf_run(q, &c), ==, (set & 2) ? ALLOW : ERRNO(ENOSYS));
                c.nr = 90;
                CHECK_INT(bpf_run(q, &c), ==, ALLOW);
        }
}

/* The host runs i386 code if a static -m32 program executes. */
static int exec_runs(const char *path)
{
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                dup2(null, 1);
                dup2(null, 2);
                execl(path, path, "uname", (char *)NULL);
                _exit(127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(host_abis_are_what_the_host_runs)
{
        unsigned host = sandbox_seccomp_host_abis();
        CHECK(host & 1u);
        CHECK_INT(sandbox_seccomp_host_abis(), ==, host);
        CHECK(sandbox_seccomp_builtin() == sandbox_seccomp_builtin_for(host));
        tap_diag("host ABIs: x86-64%s%s", (host & 2) ? " x32" : "", (host & 4) ? " i386" : "");
        if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0) {
                /* run under a filter (a container's): no probe was made */
                CHECK_INT(host, ==, ALL_ABIS);
                return;
        }
        _cleanup_free_ char *probe32 = tap_build_path("tests/probe/probe-harden-32");
        if (access(probe32, X_OK) == 0)
                CHECK_INT(!!(host & 4), ==, exec_runs(probe32));
        /* x32: a getpid with the x32 bit answers only where x32 runs */
        long x = syscall(X32 | SYS_getpid);
        CHECK_INT(!!(host & 2), ==, x == getpid());
}
#endif

TEST(a_filtered_process_does_not_probe)
{
        /* under someone else's filter a foreign ABI's call could kill us:
         * every ABI's rules are kept instead */
        struct sock_filter allow[] = {{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}};
        struct sock_fprog p = {1, allow};
        CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        CHECK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) == 0);
        CHECK_INT(sandbox_seccomp_host_abis(), ==, ALL_ABIS);
        CHECK(sandbox_seccomp_builtin() == sandbox_seccomp_builtin_for(ALL_ABIS));
}
