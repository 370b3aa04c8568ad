/* Whole-buffer reads and writes on file descriptors. The first two are used on
 * the child side of the sandbox too, so they stay async-signal-safe. */
#include "base/base-fd.h"

#include "base/base-cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

/* Async-signal-safe: all of buf through write(), or send() with flags. */
static int write_loop(int fd, const void *buf, size_t len, int use_send, int flags)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = use_send ? send(fd, p, len, flags) : write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Async-signal-safe. */
int fd_write_all(int fd, const void *buf, size_t len)
{
        return write_loop(fd, buf, len, 0, 0);
}

/* MSG_NOSIGNAL: a peer that went away gives EPIPE rather than a SIGPIPE that
 * kills the process. Async-signal-safe. */
int fd_send_all(int fd, const void *buf, size_t len)
{
        return write_loop(fd, buf, len, 1, MSG_NOSIGNAL);
}

/* Async-signal-safe. */
ssize_t fd_read_full(int fd, void *buf, size_t len)
{
        char *p = buf;
        size_t got = 0;
        while (got < len) {
                ssize_t n = read(fd, p + got, len - got);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        return (ssize_t)got;
}

int fd_read_all(int fd, size_t max, char **ret_data, size_t *ret_len)
{
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *data = malloc(cap);
        if (!data)
                return -ENOMEM;
        for (;;) {
                if (len + 1 >= cap) {
                        if (cap > max + 1)
                                return -EFBIG;
                        char *bigger = realloc(data, cap * 2);
                        if (!bigger)
                                return -ENOMEM;
                        data = bigger;
                        cap *= 2;
                }
                ssize_t n = read(fd, data + len, cap - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return -EFBIG;
        }
        data[len] = '\0';
        *ret_data = TAKE_PTR(data);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int fd_read_text_at(int dirfd, const char *path, int flags, char *buf, size_t size)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | flags);
        if (fd < 0)
                return -errno;
        ssize_t n = fd_read_full(fd, buf, size - 1);
        if (n < 0)
                return (int)n;
        buf[n] = '\0';
        return 0;
}

int fd_read_file_at(int dirfd, const char *path, size_t max, int nofollow, char **ret_data,
                    size_t *ret_len)
{
        _cleanup_close_ int fd =
                openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
        if (fd < 0)
                return -errno;
        return fd_read_all(fd, max, ret_data, ret_len);
}

int fs_mkdir_parents(const char *path, mode_t mode, const char *what, struct cl_error *err)
{
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return cl_errx(err, ENOMEM, "out of memory");
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return cl_err(err, errno, "create %s '%s'", what, p);
                *s = c;
                if (c == '\0' || s[1] == '\0')
                        return 0;
        }
}
