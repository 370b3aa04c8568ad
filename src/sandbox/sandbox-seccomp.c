/* The seccomp allowlist: which system calls a sandboxed build may make, on
 * which conditions, and what the others return. Compiled here with libseccomp
 * into a BPF program owned by the plan; the child only loads it.
 * Unlike Nix's short blocklist, anything not named below fails with ENOSYS,
 * so system calls added to later kernels are closed until someone opens them. */
#include "sandbox/sandbox-seccomp.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
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
 * ignores the flags. fchmodat2 is only known by name to libseccomp >= 2.5.5;
 * with older ones it stays ENOSYS, and libcs fall back to fchmodat. */
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
 * (Linux 6.13) is covered where libseccomp knows it, otherwise ENOSYS. */
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

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

/* A name this libseccomp does not know for any ABI is not an error: the call
 * simply stays at the default action. */
static int resolve(const char *name)
{
        return seccomp_syscall_resolve_name(name);
}

static int add_arches(scmp_filter_ctx ctx, struct cl_error *err)
{
        static const uint32_t compat[] = {
#if defined(__x86_64__)
                SCMP_ARCH_X32, SCMP_ARCH_X86,
#elif defined(__aarch64__)
                SCMP_ARCH_ARM,
#elif defined(__powerpc64__)
                SCMP_ARCH_PPC,
#elif defined(__s390x__)
                SCMP_ARCH_S390,
#endif
                0,
        };
        for (size_t i = 0; compat[i]; i++) {
                int r = seccomp_arch_add(ctx, compat[i]);
                if (r < 0 && r != -EEXIST)
                        return cl_err(err, -r, "seccomp: add compat architecture 0x%x", compat[i]);
        }
        return 0;
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
                        int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
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

static int add_ioctl_rules(scmp_filter_ctx ctx, struct cl_error *err)
{
        int nr = resolve("ioctl");
        for (size_t i = 0; i < ELEMENTSOF(tty_denied); i++) {
                int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                                         SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, tty_denied[i]));
                if (r < 0)
                        return cl_err(err, -r, "seccomp: deny ioctl 0x%x", tty_denied[i]);
        }
        return add_ioctl_complement(ctx, nr, 0, 31, err);
}

static int build_ctx(scmp_filter_ctx *ret, struct cl_error *err)
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
        r = add_arches(ctx, err);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                int nr = resolve(allowed[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue;
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
                if (r < 0 && r != -EEXIST)
                        return cl_err(err, -r, "seccomp: allow '%s'", allowed[i]);
        }

        for (size_t i = 0; i < ELEMENTSOF(mode_checked); i++) {
                int nr = resolve(mode_checked[i].name);
                if (nr == __NR_SCMP_ERROR)
                        continue;
                unsigned a = mode_checked[i].mode_arg;
                const scmp_datum_t bad = S_ISUID | S_ISGID;
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                     SCMP_CMP(a, SCMP_CMP_MASKED_EQ, bad, 0));
                if (r >= 0)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                                             SCMP_CMP(a, SCMP_CMP_MASKED_EQ, S_ISUID, S_ISUID));
                if (r >= 0)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                                             SCMP_CMP(a, SCMP_CMP_MASKED_EQ, S_ISGID, S_ISGID));
                if (r < 0)
                        return cl_err(err, -r, "seccomp: mode rule for '%s'",
                                      mode_checked[i].name);
        }

        for (size_t i = 0; i < ELEMENTSOF(xattr_calls); i++) {
                int nr = resolve(xattr_calls[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue;
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTSUP), nr, 0);
                if (r < 0 && r != -EEXIST)
                        return cl_err(err, -r, "seccomp: deny '%s'", xattr_calls[i]);
        }

        r = add_ioctl_rules(ctx, err);
        if (r < 0)
                return r;

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
        struct sock_filter *insns = malloc(len);
        if (!insns)
                return cl_errx(err, ENOMEM, "seccomp: out of memory");
        memcpy(insns, data, len);
        ret->len = (unsigned short)n;
        ret->filter = insns;
        return 0;
}

int sandbox_seccomp_compile(struct sandbox_seccomp *ret, struct cl_error *err)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r = build_ctx(&ctx, err);
        if (r < 0)
                return r;
        return export_prog(ctx, &ret->prog, err);
}

void sandbox_seccomp_free(struct sandbox_seccomp *s)
{
        free(s->prog.filter);
        s->prog.filter = NULL;
        s->prog.len = 0;
}

int sandbox_seccomp_export_pfc(int fd, struct cl_error *err)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r = build_ctx(&ctx, err);
        if (r < 0)
                return r;
        r = seccomp_export_pfc(ctx, fd);
        if (r < 0)
                return cl_err(err, -r, "seccomp: export readable filter");
        return 0;
}
