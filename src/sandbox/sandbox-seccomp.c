/* The seccomp allowlist: which system calls a sandboxed build may make, on
 * which conditions, and what the others return, for every ABI of the host
 * architecture. Compiled here with libseccomp, one ABI at a time, into BPF
 * programs linked into one (at build time, see sandbox-seccomp.h); the child
 * only loads it.
 * Unlike Nix's short blocklist, anything not named below fails with ENOSYS,
 * so system calls added to later kernels are closed until someone opens them. */
#include "sandbox/sandbox-seccomp.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Allowed unconditionally. Names a libseccomp version or an ABI does not know
 * are skipped (they stay ENOSYS there), so one list serves every ABI: the
 * i386 and arm names (socketcall, stat64, *_time64, ...) simply do not exist
 * on x86-64. Deliberately absent, hence ENOSYS:
 *   io_uring_*            a second system-call interface seccomp cannot see into
 *   userfaultfd           a tool for widening kernel race windows
 *   bpf, perf_event_open  large kernel attack surface, no use in a build
 *   add_key, request_key, keyctl   the keyring is not namespaced
 *   kexec_load, kexec_file_load, init_module, finit_module, delete_module,
 *   reboot, swapon, swapoff, acct, quotactl*, syslog, *settimeofday,
 *   clock_settime*, clock_adjtime*, adjtimex, stime, iopl, ioperm, vm86*,
 *   modify_ldt, lookup_dcookie, nfsservctl, vhangup, uselib, ustat, sysfs,
 *   _sysctl, fanotify_init, open_by_handle_at (reads any inode of a mounted
 *   filesystem by handle: the "shocker" escape), kcmp, mseal-era calls
 *   libseccomp does not know yet.
 * ptrace is allowed: the PID namespace means only processes of the same
 * sandbox can be found, and those run under the same filter and ids; a
 * process outside has no PID in here to name. Test suites (gdb, strace, and
 * ptrace-based sandboxes inside the build) need it. */
static const char *const allowed[] = {
        /* process and threads */
        "clone", "clone3", "fork", "vfork", "execve", "execveat", "exit", "exit_group",
        "wait4", "waitid", "waitpid", "kill", "tkill", "tgkill", "getpid", "getppid", "gettid",
        "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "futex",
        "futex_time64", "futex_waitv", "futex_wake", "futex_wait", "futex_requeue",
        "arch_prctl", "set_thread_area", "get_thread_area", "prctl", "personality",
        "seccomp", "capget", "capset", "ptrace", "process_vm_readv", "process_vm_writev",
        "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "process_madvise",
        "process_mrelease", "membarrier", "restart_syscall", "pause",
        /* namespaces and mounts, for nested sandboxes inside a build */
        "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot",
        "mount_setattr", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
        "sethostname", "setdomainname", "landlock_create_ruleset", "landlock_add_rule",
        "landlock_restrict_self",
        /* ids */
        "getuid", "geteuid", "getgid", "getegid", "getuid32", "geteuid32", "getgid32",
        "getegid32", "getresuid", "getresgid", "getresuid32", "getresgid32", "setuid",
        "setgid", "setuid32", "setgid32", "setreuid", "setregid", "setreuid32", "setregid32",
        "setresuid", "setresgid", "setresuid32", "setresgid32", "setfsuid", "setfsgid",
        "setfsuid32", "setfsgid32", "getgroups", "setgroups", "getgroups32", "setgroups32",
        "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
        /* signals */
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending",
        "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
        "sigaction", "sigprocmask", "sigreturn", "sigsuspend", "sigpending", "signal",
        "sigaltstack", "sgetmask", "ssetmask", "signalfd", "signalfd4",
        /* memory */
        "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mlock", "mlock2",
        "munlock", "mlockall", "munlockall", "mincore", "msync", "remap_file_pages",
        "mbind", "get_mempolicy", "set_mempolicy", "set_mempolicy_home_node", "migrate_pages",
        "move_pages", "memfd_create", "pkey_alloc", "pkey_free", "pkey_mprotect",
        "map_shadow_stack", "cachestat",
        /* files */
        "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
        "preadv2", "pwritev2", "close", "close_range", "dup", "dup2", "dup3", "lseek",
        "_llseek", "fcntl", "fcntl64", "flock", "fsync", "fdatasync", "sync", "syncfs",
        "sync_file_range", "sync_file_range2", "arm_sync_file_range", "fadvise64",
        "fadvise64_64", "arm_fadvise64_64", "readahead", "fallocate", "truncate",
        "truncate64", "ftruncate", "ftruncate64", "sendfile", "sendfile64", "splice", "tee",
        "vmsplice", "copy_file_range", "stat", "lstat", "fstat", "stat64", "lstat64",
        "fstat64", "fstatat64", "newfstatat", "statx", "statfs", "fstatfs", "statfs64",
        "fstatfs64", "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getcwd",
        "chdir", "fchdir", "rename", "renameat", "renameat2", "link", "linkat", "symlink",
        "symlinkat", "unlink", "unlinkat", "rmdir", "chown", "fchown", "lchown", "chown32",
        "fchown32", "lchown32", "fchownat", "utime", "utimes", "futimesat", "utimensat",
        "utimensat_time64", "getdents", "getdents64", "readdir", "umask", "name_to_handle_at",
        "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
        "ioprio_get", "ioprio_set", "memfd_secret", "statmount", "listmount",
        /* io multiplexing, pipes, events */
        "pipe", "pipe2", "select", "_newselect", "pselect6", "pselect6_time64", "poll",
        "ppoll", "ppoll_time64", "epoll_create", "epoll_create1", "epoll_ctl",
        "epoll_ctl_old", "epoll_wait", "epoll_wait_old", "epoll_pwait", "epoll_pwait2",
        "eventfd", "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
        "timerfd_settime64", "timerfd_gettime64", "io_setup", "io_destroy", "io_submit",
        "io_cancel", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
        /* time */
        "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
        "clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "gettimeofday", "time",
        "times", "alarm", "getitimer", "setitimer", "timer_create", "timer_settime",
        "timer_settime64", "timer_gettime", "timer_gettime64", "timer_getoverrun",
        "timer_delete",
        /* scheduling and resources */
        "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
        "sched_setparam", "sched_getscheduler", "sched_setscheduler",
        "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
        "sched_rr_get_interval_time64", "sched_getattr", "sched_setattr", "getpriority",
        "setpriority", "nice", "getrlimit", "ugetrlimit", "setrlimit", "prlimit64",
        "getrusage", "getcpu", "sysinfo", "uname", "olduname", "oldolduname",
        "getrandom", "get_robust_list",
        /* sockets (network isolation comes from the network namespace) */
        "socket", "socketpair", "socketcall", "bind", "connect", "listen", "accept",
        "accept4", "getsockname", "getpeername", "sendto", "recvfrom", "sendmsg", "recvmsg",
        "sendmmsg", "recvmmsg", "recvmmsg_time64", "send", "recv", "shutdown", "setsockopt",
        "getsockopt",
        /* SysV and POSIX IPC (the IPC namespace makes them private) */
        "ipc", "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop",
        "semtimedop_time64", "semctl", "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open",
        "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_timedsend_time64",
        "mq_timedreceive_time64", "mq_notify", "mq_getsetattr",
        /* arm's private calls */
        "cacheflush", "set_tls", "breakpoint", "usr26", "usr32",
};

/* Calls whose mode argument (argument number mode_arg) must not carry
 * S_ISUID or S_ISGID: no setuid or setgid file may come out of a build (the
 * reason Nix has a filter at all). open and openat only use the mode with
 * O_CREAT/O_TMPFILE, and the C libraries pass 0 otherwise, so the check
 * ignores the flags. Every mode is an int-sized argument: the rules mask
 * with values below 2^32, so they read only the low half of the register,
 * as the kernel does (and as a 32-bit ABI passes it). */
static const struct {
        const char *name;
        unsigned mode_arg;
} mode_checked[] = {
        {"chmod", 1}, {"fchmod", 1}, {"fchmodat", 2}, {"fchmodat2", 2},
        {"open", 2},  {"openat", 3}, {"creat", 1},    {"mkdir", 1},
        {"mkdirat", 2}, {"mknod", 1}, {"mknodat", 2},
};
/* openat2 takes its mode inside a struct (open_how) that seccomp cannot read,
 * so it is not on the list: ENOSYS makes libcs and programs fall back to
 * openat, which is checked. */

/* Extended attributes: a build can neither store nor learn any (Nix's
 * reason: no setting of security.capability or ACLs that would grant
 * rights outside). ENOTSUP is what a filesystem without xattrs answers,
 * which cp, tar and rsync treat as "nothing to copy". The *xattrat family
 * (Linux 6.13) is added by number where libseccomp does not know it. */
static const char *const xattr_calls[] = {
        "setxattr",    "lsetxattr",    "fsetxattr",    "getxattr",    "lgetxattr",
        "fgetxattr",   "listxattr",    "llistxattr",   "flistxattr",  "removexattr",
        "lremovexattr", "fremovexattr", "setxattrat",  "getxattrat",  "listxattrat",
        "removexattrat",
};

#ifndef TIOCSTI
#define TIOCSTI 0x5412
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

#define X32_BIT 0x40000000u

const struct sandbox_seccomp_abi sandbox_seccomp_abis[SANDBOX_SECCOMP_N_ABIS] = {
#if defined(__x86_64__)
        {"x86-64", SCMP_ARCH_X86_64, AUDIT_ARCH_X86_64, -1},
        {"x32", SCMP_ARCH_X32, AUDIT_ARCH_X86_64, 1},
        {"i386", SCMP_ARCH_X86, AUDIT_ARCH_I386, 0},
#elif defined(__aarch64__)
        {"aarch64", SCMP_ARCH_AARCH64, AUDIT_ARCH_AARCH64, 0},
        {"arm", SCMP_ARCH_ARM, AUDIT_ARCH_ARM, 0},
#endif
};

/* Calls that libseccomp 2.5.4 may not know by name, with their numbers from
 * the kernel's tables (arch/x86/entry/syscalls/syscall_64.tbl, whose
 * "common" entries x32 shares with __X32_SYSCALL_BIT set, and syscall_32.tbl;
 * include/uapi/asm-generic/unistd.h and arch/arm/tools/syscall.tbl), one
 * column per entry of sandbox_seccomp_abis. Used only when libseccomp cannot
 * resolve the name for that ABI. */
static const struct {
        const char *name;
        int nr[SANDBOX_SECCOMP_N_ABIS];
} by_number[] = {
#if defined(__x86_64__)
        {"fchmodat2", {452, X32_BIT | 452, 452}},
        {"setxattrat", {463, X32_BIT | 463, 463}},
        {"getxattrat", {464, X32_BIT | 464, 464}},
        {"listxattrat", {465, X32_BIT | 465, 465}},
        {"removexattrat", {466, X32_BIT | 466, 466}},
#elif defined(__aarch64__)
        {"fchmodat2", {452, 452}},
        {"setxattrat", {463, 463}},
        {"getxattrat", {464, 464}},
        {"listxattrat", {465, 465}},
        {"removexattrat", {466, 466}},
#endif
};

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

static void fprog_freep(struct sock_fprog *p)
{
        free(p->filter);
        p->filter = NULL;
}

/* i386 reaches the socket and SysV IPC calls both through a multiplexer
 * (socketcall, ipc: allowed as a whole) and, since Linux 4.3, directly.
 * libseccomp names them by "pseudo" numbers from -100 to -9999 that its
 * multi-architecture compiler rewrites; its table still maps the direct
 * numbers back to the names, so look the number up that way. */
static int direct_nr(uint32_t arch, const char *name)
{
        for (int nr = 0; nr < 1024; nr++) {
                char *n = seccomp_syscall_resolve_num_arch(arch, nr);
                int same = n && strcmp(n, name) == 0;
                free(n);
                if (same)
                        return nr;
        }
        return -1;
}

/* The number of name on ABI a, or -1 when the ABI has no such call. Other
 * negative answers from libseccomp are "pseudo" numbers for calls the ABI
 * lacks (socketcall on x86-64, ...): nothing to add. */
static int abi_nr(unsigned a, const char *name)
{
        uint32_t arch = sandbox_seccomp_abis[a].scmp_arch;
        int nr = seccomp_syscall_resolve_name_arch(arch, name);
        if (nr >= 0)
                return nr;
        if (nr <= -100 && nr > -10000)
                return direct_nr(arch, name);
        for (size_t i = 0; i < ELEMENTSOF(by_number); i++)
                if (strcmp(by_number[i].name, name) == 0)
                        return by_number[i].nr[a];
        return -1;
}

/* ioctl: TIOCSTI pushes input into the terminal the sandbox was started from
 * (typing commands into the caller's shell), TIOCLINUX can read the console;
 * both fail with EPERM, every other request is allowed. The request is an
 * unsigned int, so only the low 32 bits of the register count: every rule
 * masks with 0xffffffff, which stops TIOCSTI | 1 << 32 slipping by.
 * libseccomp lets an unconditional "allow ioctl" override conditional
 * "deny ioctl(TIOCSTI)" rules, so "allowed" is spelled out as conditional
 * rules that together match every other 32-bit value: walking the bits from
 * the top, one rule per bit where a value leaves the denied values' common
 * prefix (the complement of a set of points as prefix classes). */
static const uint32_t tty_denied[] = {TIOCSTI, TIOCLINUX};

static int add_ioctl_complement(scmp_filter_ctx ctx, int nr, uint32_t prefix, int bit,
                                struct cl_error *err)
{
        /* the denied values that share prefix above bit */
        uint32_t above = bit == 31 ? 0 : ~((2u << bit) - 1);
        int with0 = 0, with1 = 0;
        for (size_t i = 0; i < ELEMENTSOF(tty_denied); i++) {
                if ((tty_denied[i] & above) != (prefix & above))
                        continue;
                if (tty_denied[i] & (1u << bit))
                        with1 = 1;
                else
                        with0 = 1;
        }
        for (int v = 0; v <= 1; v++) {
                uint32_t next = (prefix & above) | ((uint32_t)v << bit);
                int denied_below = v ? with1 : with0;
                if (!denied_below) {
                        /* nothing denied under this prefix: allow all of it */
                        uint32_t mask = above | (1u << bit);
                        int r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, nr, 1,
                                                       SCMP_A1(SCMP_CMP_MASKED_EQ, mask, next));
                        if (r < 0)
                                return cl_err(err, -r, "seccomp: ioctl rule 0x%x/0x%x", next,
                                              mask);
                } else if (bit > 0) {
                        int r = add_ioctl_complement(ctx, nr, next, bit - 1, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int add_ioctl_rules(scmp_filter_ctx ctx, int nr, struct cl_error *err)
{
        for (size_t i = 0; i < ELEMENTSOF(tty_denied); i++) {
                int r = seccomp_rule_add_exact(
                        ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                        SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, tty_denied[i]));
                if (r < 0)
                        return cl_err(err, -r, "seccomp: deny ioctl 0x%x", tty_denied[i]);
        }
        return add_ioctl_complement(ctx, nr, 0, 31, err);
}

/* The rules of ABI a, in a context of libseccomp's native architecture given
 * that ABI's own numbers. libseccomp 2.5.4 translates every number added to a
 * non-native architecture through its native table of names, so a call it
 * cannot name (the *xattrat family) could not be added there at all; numbers
 * given to the native architecture are taken as they are. The native
 * program's architecture check is then adjusted to the ABI (make_section).
 * With full == 0 the ABI gets no rules: every call fails with ENOSYS. */
static int abi_ctx(unsigned a, int full, scmp_filter_ctx *ret, struct cl_error *err)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
        if (!ctx)
                return cl_errx(err, ENOMEM, "seccomp: cannot create filter");
        int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r < 0)
                return cl_err(err, -r, "seccomp: set bad-architecture action");
        /* a binary tree of system-call numbers instead of a list of ~350
         * comparisons: builds make millions of calls */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r < 0)
                return cl_err(err, -r, "seccomp: set optimisation level");
        /* the filter is loaded by the child itself: libseccomp must not set
         * no_new_privs or synchronise threads on our behalf */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return cl_err(err, -r, "seccomp: clear no_new_privs attribute");
        if (!full) {
                *ret = TAKE_PTR(ctx);
                return 0;
        }
        const char *abi = sandbox_seccomp_abis[a].name;

        for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                int nr = abi_nr(a, allowed[i]);
                if (nr < 0)
                        continue;
                r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, nr, 0);
                if (r < 0 && r != -EEXIST)
                        return cl_err(err, -r, "seccomp: allow '%s' (%s)", allowed[i], abi);
        }

        for (size_t i = 0; i < ELEMENTSOF(mode_checked); i++) {
                int nr = abi_nr(a, mode_checked[i].name);
                if (nr < 0)
                        continue;
                unsigned m = mode_checked[i].mode_arg;
                const scmp_datum_t bad = S_ISUID | S_ISGID;
                r = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, nr, 1,
                                           SCMP_CMP(m, SCMP_CMP_MASKED_EQ, bad, 0));
                if (r >= 0)
                        r = seccomp_rule_add_exact(
                                ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                                SCMP_CMP(m, SCMP_CMP_MASKED_EQ, S_ISUID, S_ISUID));
                if (r >= 0)
                        r = seccomp_rule_add_exact(
                                ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                                SCMP_CMP(m, SCMP_CMP_MASKED_EQ, S_ISGID, S_ISGID));
                if (r < 0)
                        return cl_err(err, -r, "seccomp: mode rule for '%s' (%s)",
                                      mode_checked[i].name, abi);
        }

        for (size_t i = 0; i < ELEMENTSOF(xattr_calls); i++) {
                int nr = abi_nr(a, xattr_calls[i]);
                if (nr < 0)
                        continue;
                r = seccomp_rule_add_exact(ctx, SCMP_ACT_ERRNO(ENOTSUP), nr, 0);
                if (r < 0 && r != -EEXIST)
                        return cl_err(err, -r, "seccomp: deny '%s' (%s)", xattr_calls[i], abi);
        }

        int nr = abi_nr(a, "ioctl");
        if (nr >= 0) {
                r = add_ioctl_rules(ctx, nr, err);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(ctx);
        return 0;
}

static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *ret, struct cl_error *err)
{
        /* libseccomp 2.5.4 can only export to a file descriptor: a memfd keeps
         * it in memory */
        _cleanup_close_ int fd = memfd_create("cloister-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return cl_err(err, errno, "seccomp: memfd_create");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return cl_err(err, -r, "seccomp: export filter");
        if (lseek(fd, 0, SEEK_SET) < 0)
                return cl_err(err, errno, "seccomp: rewind exported filter");
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        r = fd_read_all(fd, 4u << 20, &data, &len);
        if (r < 0)
                return cl_err(err, -r, "seccomp: read exported filter");
        size_t n = len / sizeof(struct sock_filter);
        if (len == 0 || len % sizeof(struct sock_filter) != 0 || n > BPF_MAXINSNS)
                return cl_errx(err, EINVAL, "seccomp: exported filter has a bad size (%zu)", len);
        ret->len = (unsigned short)n;
        ret->filter = (struct sock_filter *)TAKE_PTR(data);
        return 0;
}

static int export_abi(unsigned a, int full, struct sock_fprog *ret, struct cl_error *err)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r = abi_ctx(a, full, &ctx, err);
        if (r < 0)
                return r;
        return export_prog(ctx, ret, err);
}

/* libseccomp's program for one architecture starts: load the architecture,
 * compare it with the native one (else the bad-architecture action), load
 * the number, and on x86-64 send numbers from __X32_SYSCALL_BIT on (other
 * than -1) to the bad-architecture action too. The rules follow, and every
 * way out that is not a rule's action or the default is a "return
 * SECCOMP_RET_KILL_PROCESS" (our rules never kill). An ABI's program,
 * compiled as native with that ABI's numbers, becomes a section of the linked
 * filter by three edits that keep every offset:
 *   the architecture compared is the ABI's;
 *   the bad-architecture returns jump to the next section instead;
 *   for x32, the range test is turned round (only numbers with the x32 bit).
 * Anything else in those places means libseccomp lays programs out
 * differently than this code knows: the build fails rather than produce a
 * wrong filter. (i386 numbers from the x32 bit on, which the kernel does not
 * have, thus end at the final "kill" instead of ENOSYS.) */
static int make_section(const struct sock_fprog *p, unsigned a, struct sock_filter *out,
                        struct cl_error *err)
{
        const struct sandbox_seccomp_abi *abi = &sandbox_seccomp_abis[a];
        const struct sock_filter *f = p->filter;
        const uint16_t ld = BPF_LD | BPF_W | BPF_ABS;
        if (p->len < 4 || f[0].code != ld || f[0].k != offsetof(struct seccomp_data, arch) ||
            f[1].code != (BPF_JMP | BPF_JEQ | BPF_K) || f[1].k != sandbox_seccomp_abis[0].audit_arch ||
            f[2].code != ld || f[2].k != offsetof(struct seccomp_data, nr))
                return cl_errx(err, EPROTO, "seccomp: unexpected architecture check (%s)",
                               abi->name);
        int x86 = sandbox_seccomp_abis[0].x32_range != 0;
        if (x86 && (f[3].code != (BPF_JMP | BPF_JGE | BPF_K) || f[3].k != X32_BIT))
                return cl_errx(err, EPROTO, "seccomp: unexpected x32 range check (%s)",
                               abi->name);
        memcpy(out, f, p->len * sizeof(*out));
        out[1].k = abi->audit_arch;
        if (abi->x32_range > 0) {
                uint8_t t = out[3].jt;
                out[3].jt = out[3].jf;
                out[3].jf = t;
        }
        unsigned kills = 0;
        for (unsigned i = 0; i < p->len; i++)
                if (out[i].code == (BPF_RET | BPF_K) && out[i].k == SECCOMP_RET_KILL_PROCESS) {
                        out[i] = (struct sock_filter){BPF_JMP | BPF_JA, 0, 0, p->len - i - 1};
                        kills++;
                }
        if (kills == 0 || out[p->len - 1].code != (BPF_JMP | BPF_JA))
                return cl_errx(err, EPROTO, "seccomp: no bad-architecture action (%s)",
                               abi->name);
        return 0;
}

/* One program out of the ABIs' sections, the native ABI first (its calls
 * take the fewest steps); after the last, a foreign architecture kills the
 * process. */
static int link_abis(const struct sock_fprog *sec, struct sock_fprog *ret, struct cl_error *err)
{
        unsigned total = 1;
        for (unsigned a = 0; a < SANDBOX_SECCOMP_N_ABIS; a++)
                total += sec[a].len;
        if (total > BPF_MAXINSNS)
                return cl_errx(err, E2BIG, "seccomp: filter too long (%u instructions)", total);
        struct sock_filter *out = calloc(total, sizeof(*out));
        if (!out)
                return cl_errx(err, ENOMEM, "seccomp: out of memory");
        unsigned pos = 0;
        for (unsigned a = 0; a < SANDBOX_SECCOMP_N_ABIS; a++) {
                int r = make_section(&sec[a], a, &out[pos], err);
                if (r < 0) {
                        free(out);
                        return r;
                }
                pos += sec[a].len;
        }
        out[pos++] = (struct sock_filter){BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS};
        ret->filter = out;
        ret->len = (unsigned short)pos;
        return 0;
}

int sandbox_seccomp_compile(unsigned abis, struct sandbox_seccomp *ret, struct cl_error *err)
{
        if (!(abis & 1u) || abis >= (1u << SANDBOX_SECCOMP_N_ABIS))
                return cl_errx(err, EINVAL, "seccomp: invalid ABI set 0x%x", abis);
        struct sock_fprog sec[SANDBOX_SECCOMP_N_ABIS] = {{0, NULL}};
        int r = 0;
        for (unsigned a = 0; a < SANDBOX_SECCOMP_N_ABIS && r >= 0; a++)
                r = export_abi(a, !!(abis & (1u << a)), &sec[a], err);
        if (r >= 0)
                r = link_abis(sec, &ret->prog, err);
        for (unsigned a = 0; a < SANDBOX_SECCOMP_N_ABIS; a++)
                fprog_freep(&sec[a]);
        return r;
}

void sandbox_seccomp_free(struct sandbox_seccomp *s)
{
        free(s->prog.filter);
        s->prog.filter = NULL;
        s->prog.len = 0;
}

int sandbox_seccomp_export_pfc(int fd, struct cl_error *err)
{
        for (unsigned a = 0; a < SANDBOX_SECCOMP_N_ABIS; a++) {
                _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
                int r = abi_ctx(a, 1, &ctx, err);
                if (r < 0)
                        return r;
                if (dprintf(fd,
                            "# ABI %s: its own numbers, compiled as if native (the names and the "
                            "architecture check below are the native ones)\n",
                            sandbox_seccomp_abis[a].name) < 0)
                        return cl_err(err, errno, "seccomp: write readable filter");
                r = seccomp_export_pfc(ctx, fd);
                if (r < 0)
                        return cl_err(err, -r, "seccomp: export readable filter");
        }
        return 0;
}

#if defined(__x86_64__)
/* i386 code runs where int 0x80 from a 64-bit process reaches the i386
 * table: a kernel without IA32 emulation, or with it turned off at boot
 * (ia32_emulation=off; TDX, SEV and PVM guests), has no gate for the vector
 * and the instruction faults. The probe makes an i386 getpid with a SIGSEGV
 * handler in place for that moment (a CLONE_VM child instead costs 2-9 ms
 * of scheduling in a fresh process on the development VM, this 10-90 us).
 * Another thread's fault in that window gets its own action back and faults
 * again. A filter above us that denies the call makes it return an error:
 * "cannot run" too, which only closes that ABI. */
static pid_t probe_tid;
static sigjmp_buf probe_jmp;
static struct sigaction probe_saved;

static void probe_segv(int sig)
{
        (void)sig;
        if ((pid_t)syscall(SYS_gettid) == probe_tid)
                siglongjmp(probe_jmp, 1);
        sigaction(SIGSEGV, &probe_saved, NULL);
}

static int host_runs_ia32(void)
{
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = probe_segv;
        sigemptyset(&sa.sa_mask);
        probe_tid = (pid_t)syscall(SYS_gettid);
        if (sigaction(SIGSEGV, &sa, &probe_saved) < 0)
                return 1; /* cannot tell: keep the ABI's rules */
        volatile int runs = 0;
        if (sigsetjmp(probe_jmp, 1) == 0) {
                long nr = 20; /* i386 getpid */
                __asm__ volatile("int $0x80"
                                 : "+a"(nr)
                                 :
                                 : "memory", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
                                   "r15");
                runs = nr == getpid();
        }
        sigaction(SIGSEGV, &probe_saved, NULL);
        return runs;
}

/* An x32 getpid answers with our pid only where the kernel runs x32 code
 * (CONFIG_X86_X32_ABI, and not turned off by syscall.x32=n). */
static int host_runs_x32(void)
{
        return syscall(X32_BIT | SYS_getpid) == getpid();
}
#endif

static unsigned host_abis;

static void probe_host_abis(void)
{
#if defined(__x86_64__)
        /* Already under a filter (a service manager's, a container's, an
         * outer sandbox's), a foreign ABI's call might be answered by killing
         * us: keep every ABI's rules rather than ask. */
        if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0) {
                host_abis = (1u << SANDBOX_SECCOMP_N_ABIS) - 1;
                return;
        }
        host_abis = 1u | (host_runs_x32() ? 2u : 0u) | (host_runs_ia32() ? 4u : 0u);
#else
        /* arm code on an aarch64 host: not probed, always filtered */
        host_abis = (1u << SANDBOX_SECCOMP_N_ABIS) - 1;
#endif
}

unsigned sandbox_seccomp_host_abis(void)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, probe_host_abis);
        return host_abis;
}
