/* File-descriptor helpers: whole reads and writes that survive EINTR and short
 * transfers, and small-file slurping through a directory fd. */
#pragma once

#include "base/base-error.h"

#include <stddef.h>
#include <sys/types.h>

/* Write all of buf; returns 0 or -errno. Async-signal-safe. */
int fd_write_all(int fd, const void *buf, size_t len);

/* The same on a socket, never raising SIGPIPE: a closed peer is -EPIPE. */
int fd_send_all(int fd, const void *buf, size_t len);

/* Read until len bytes or end of file; returns bytes read or -errno.
 * Async-signal-safe. */
ssize_t fd_read_full(int fd, void *buf, size_t len);

/* Read a small file relative to dirfd (open flags added to O_RDONLY |
 * O_CLOEXEC) into buf, at most size - 1 bytes, NUL-terminated. No allocation:
 * for /proc and cgroup files read on a hot path. 0 or -errno. */
int fd_read_text_at(int dirfd, const char *path, int flags, char *buf, size_t size);

/* Read a whole file (at most max bytes) relative to dirfd into a NUL-terminated
 * malloc'd buffer. Opens with O_NOFOLLOW when nofollow is set.
 * Returns 0 and sets *ret_data and *ret_len, or -errno (-EFBIG past max). */
int fd_read_file_at(int dirfd, const char *path, size_t max, int nofollow, char **ret_data,
                    size_t *ret_len);

/* mkdir -p: create path and its missing parents with mode (existing ones are
 * fine). On failure the message names what ("store root", ...), the component
 * that failed and the reason. */
int fs_mkdir_parents(const char *path, mode_t mode, const char *what, struct cl_error *err);

/* Read everything from fd (at most max bytes) into a NUL-terminated buffer. */
int fd_read_all(int fd, size_t max, char **ret_data, size_t *ret_len);
