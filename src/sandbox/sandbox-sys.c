/* Raw system calls and string helpers for the child half: the only libc entry
 * points used are syscall(2) and errno, both async-signal-safe. */
#include "sandbox/sandbox-sys.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Async-signal-safe. */
long sys_call(long nr, long a, long b, long c, long d, long e, long f)
{
        long r = syscall(nr, a, b, c, d, e, f);
        return r < 0 ? -errno : r;
}

/* Async-signal-safe. */
void sys_exit(int code)
{
        for (;;)
                syscall(SYS_exit_group, code);
}

/* Async-signal-safe. */
void sys_close(int fd)
{
        if (fd >= 0)
                syscall(SYS_close, fd);
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
