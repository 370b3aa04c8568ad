/* Raw system calls and string helpers for the child half. The system call
 * instruction is issued here directly, not through libc: PID 1 runs in the
 * memory of the process that started the sandbox, with that thread's TLS,
 * so it must not write errno (or touch any thread-local state) there. */
#include "sandbox/sandbox-sys.h"

#include <errno.h>
#include <sys/syscall.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "the sandbox's raw system calls are written for x86-64 and aarch64"
#endif

/* Async-signal-safe. */
long sys_call(long nr, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
        register long r10 __asm__("r10") = d;
        register long r8 __asm__("r8") = e;
        register long r9 __asm__("r9") = f;
        long ret;
        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
        return ret;
#else
        register long x8 __asm__("x8") = nr;
        register long x0 __asm__("x0") = a;
        register long x1 __asm__("x1") = b;
        register long x2 __asm__("x2") = c;
        register long x3 __asm__("x3") = d;
        register long x4 __asm__("x4") = e;
        register long x5 __asm__("x5") = f;
        __asm__ volatile("svc #0"
                         : "+r"(x0)
                         : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                         : "memory");
        return x0;
#endif
}

/* Async-signal-safe. The child starts on ca->stack (or, without one, on its
 * copy of ours, wherever the compiler left the stack pointer) with nothing to
 * return to, so it must not come back from the system call into C: it aligns
 * the stack, calls fn(arg) and exits with its result. fn and arg ride in
 * callee-saved registers, which the child inherits. */
long sys_clone3(struct sys_clone_args *ca, int (*fn)(void *), void *arg)
{
#if defined(__x86_64__)
        register void *r12 __asm__("r12") = (void *)fn;
        register void *r13 __asm__("r13") = arg;
        long ret;
        __asm__ volatile("syscall\n\t"
                         "testq %%rax, %%rax\n\t"
                         "jnz 1f\n\t"
                         "xorl %%ebp, %%ebp\n\t"
                         "andq $-16, %%rsp\n\t"
                         "movq %%r13, %%rdi\n\t"
                         "callq *%%r12\n\t"
                         "movl %%eax, %%edi\n\t"
                         "movl %[nr_exit], %%eax\n\t"
                         "syscall\n\t"
                         "hlt\n"
                         "1:"
                         : "=a"(ret)
                         : "0"((long)SYS_clone3), "D"(ca), "S"(sizeof(*ca)), "r"(r12), "r"(r13),
                           [nr_exit] "i"(SYS_exit)
                         : "rcx", "r11", "memory");
        return ret;
#else
        register long x8 __asm__("x8") = SYS_clone3;
        register long x0 __asm__("x0") = (long)ca;
        register long x1 __asm__("x1") = (long)sizeof(*ca);
        register void *x19 __asm__("x19") = (void *)fn;
        register void *x20 __asm__("x20") = arg;
        __asm__ volatile("svc #0\n\t"
                         "cbnz x0, 1f\n\t"
                         "mov x29, #0\n\t"
                         "mov x0, x20\n\t"
                         "blr x19\n\t"
                         "mov x8, %[nr_exit]\n\t"
                         "svc #0\n\t"
                         "brk #0\n"
                         "1:"
                         : "+r"(x0)
                         : "r"(x8), "r"(x1), "r"(x19), "r"(x20), [nr_exit] "i"(SYS_exit)
                         : "x30", "memory");
        return x0;
#endif
}

/* Async-signal-safe. */
void sys_exit(int code)
{
        for (;;)
                sys1(SYS_exit_group, code);
}

/* Async-signal-safe. */
void sys_close(int fd)
{
        if (fd >= 0)
                sys1(SYS_close, fd);
}

/* Async-signal-safe. */
int sys_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                long n = sys3(SYS_write, fd, p, len);
                if (n == -EINTR)
                        continue;
                if (n < 0)
                        return (int)n;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Async-signal-safe. */
size_t sys_strlen(const char *s)
{
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

/* Async-signal-safe. */
int sys_streq(const char *a, const char *b)
{
        while (*a && *a == *b)
                a++, b++;
        return *a == *b;
}

/* Async-signal-safe. */
void sys_fd_path(char *buf, int fd)
{
        static const char prefix[] = "/proc/self/fd/";
        size_t i = 0;
        for (; prefix[i]; i++)
                buf[i] = prefix[i];
        char digits[12];
        int n = 0;
        unsigned v = (unsigned)fd;
        do {
                digits[n++] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        while (n)
                buf[i++] = digits[--n];
        buf[i] = '\0';
}
