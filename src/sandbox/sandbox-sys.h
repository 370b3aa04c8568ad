/* Raw system calls and tiny string helpers for the child half of the sandbox.
 * Everything here is async-signal-safe and touches no thread-local state:
 * each wrapper is one system call instruction returning -errno, so the
 * child's objects need nothing from libc. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A system call, returning the result or -errno. Async-signal-safe. */
long sys_call(long nr, long a, long b, long c, long d, long e, long f);

/* struct clone_args of <linux/sched.h> (version 2), which clashes with <sched.h> */
struct sys_clone_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
                set_tid, set_tid_size, cgroup;
};
#define SYS_CLONE_INTO_CGROUP 0x200000000ULL

/* clone3(2) of a child that runs fn(arg) on ca->stack and exits with its
 * result (for CLONE_VM children); returns the child's pid or -errno.
 * Async-signal-safe. */
long sys_clone3(struct sys_clone_args *ca, int (*fn)(void *), void *arg);

#define sys0(nr) sys_call((nr), 0, 0, 0, 0, 0, 0)
#define sys1(nr, a) sys_call((nr), (long)(a), 0, 0, 0, 0, 0)
#define sys2(nr, a, b) sys_call((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(nr, a, b, c) sys_call((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(nr, a, b, c, d) sys_call((nr), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(nr, a, b, c, d, e)                                                                    \
        sys_call((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* Async-signal-safe: _exit without atexit handlers or stdio. */
__attribute__((noreturn)) void sys_exit(int code);
/* Async-signal-safe: close, ignoring errors. */
void sys_close(int fd);
/* Async-signal-safe: write all of buf, retrying on EINTR; 0 or -errno. */
int sys_write_all(int fd, const void *buf, size_t len);
/* Async-signal-safe: string length. */
size_t sys_strlen(const char *s);
/* Async-signal-safe: string equality. */
int sys_streq(const char *a, const char *b);
/* Async-signal-safe: "/proc/self/fd/N" into buf (at least 32 bytes). */
void sys_fd_path(char *buf, int fd);
