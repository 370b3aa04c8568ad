/* Metadata canonicalisation of store objects and removal of store trees. Both
 * walk with openat(O_NOFOLLOW) from a directory fd, so a symlink inside an
 * object is never followed out of it. */
#include "store/store-canon.h"

#include "base/base-cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* deeper than any NAR a store accepts */
#define CANON_MAX_DEPTH 300

/* The ones Nix's ignored-acls keeps by default. */
static bool xattr_kept(const char *name)
{
        return strcmp(name, "security.selinux") == 0 || strcmp(name, "system.nfs4_acl") == 0 ||
               strcmp(name, "security.csm") == 0;
}

/* Remove every extended attribute of dirfd/name (not following a symlink):
 * through /proc/self/fd so that the directory part is the fd we hold. Removing
 * a user.* attribute needs write permission, which a read-only file's owner
 * lacks: the owner's write bit is added for the moment, as Nix does. */
static int strip_xattrs(int dirfd, const char *name, const struct stat *st, struct cl_error *err)
{
        char path[64 + 256];
        if (snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name) >= (int)sizeof(path))
                return cl_errx(err, ENAMETOOLONG, "'%s': name too long", name);
        ssize_t size = llistxattr(path, NULL, 0);
        if (size < 0 && (errno == ENOTSUP || errno == ENODATA))
                return 0;
        if (size < 0)
                return cl_err(err, errno, "list extended attributes of '%s'", name);
        if (size == 0)
                return 0;
        _cleanup_free_ char *list = malloc((size_t)size);
        if (!list)
                return -ENOMEM;
        ssize_t n = llistxattr(path, list, (size_t)size);
        if (n < 0)
                /* ERANGE: one was added meanwhile; the object is not ours to race */
                return cl_err(err, errno, "list extended attributes of '%s'", name);
        bool writable = false;
        int r = 0;
        for (ssize_t i = 0; i < n && r == 0; i += (ssize_t)strlen(list + i) + 1) {
                if (xattr_kept(list + i))
                        continue;
                if (lremovexattr(path, list + i) == 0 || errno == ENODATA || errno == ENOTSUP)
                        continue;
                if ((errno == EACCES || errno == EPERM) && !writable && !S_ISLNK(st->st_mode) &&
                    !(st->st_mode & S_IWUSR) &&
                    fchmodat(dirfd, name, (st->st_mode & 07777) | S_IWUSR, 0) == 0) {
                        writable = true;
                        if (lremovexattr(path, list + i) == 0 || errno == ENODATA)
                                continue;
                }
                r = cl_err(err, errno, "remove extended attribute '%s' of '%s'", list + i, name);
        }
        if (writable && fchmodat(dirfd, name, st->st_mode & 07777, 0) < 0 && r == 0)
                r = cl_err(err, errno, "restore the mode of '%s'", name);
        return r;
}

/* A directory stream on dirfd/name, never through a symlink, and its fd. */
static int open_dir_stream(int dirfd, const char *name, DIR **ret, int *ret_fd,
                           struct cl_error *err)
{
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return cl_err(err, errno, "open directory '%s'", name);
        DIR *dir = fdopendir(fd);
        if (!dir) {
                int e = errno;
                close(fd);
                return cl_err(err, e, "open directory '%s'", name);
        }
        *ret = dir;
        *ret_fd = fd;
        return 0;
}

static int canon_one(int dirfd, const char *name, unsigned depth, bool recurse,
                     struct cl_error *err)
{
        if (depth > CANON_MAX_DEPTH)
                return cl_errx(err, ELOOP, "'%s': directories nested too deeply", name);
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return cl_err(err, errno, "stat '%s'", name);
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
                return cl_errx(err, EINVAL, "'%s' is not a regular file, directory or symlink",
                               name);
        int r = strip_xattrs(dirfd, name, &st, err);
        if (r < 0)
                return r;
        if (recurse && S_ISDIR(st.st_mode)) {
                _cleanup_closedir_ DIR *dir = NULL;
                int fd = -1;
                r = open_dir_stream(dirfd, name, &dir, &fd, err);
                if (r < 0)
                        return r;
                struct dirent *e;
                while ((errno = 0, e = readdir(dir))) {
                        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                                continue;
                        r = canon_one(fd, e->d_name, depth + 1, true, err);
                        if (r < 0)
                                return cl_err_prefix(err, "'%s'", name);
                }
                if (errno)
                        return cl_err(err, errno, "read directory '%s'", name);
        }
        /* Nix lchowns what is not ours to its effective uid and gid: root:root
         * after a build as root, so no build user or group keeps a hold */
        if (st.st_uid != geteuid() &&
            fchownat(dirfd, name, geteuid(), getegid(), AT_SYMLINK_NOFOLLOW) < 0)
                return cl_err(err, errno, "change owner of '%s' to %u:%u", name,
                              (unsigned)geteuid(), (unsigned)getegid());
        if (!S_ISLNK(st.st_mode)) {
                mode_t perm = st.st_mode & 07777;
                if (perm != 0444 && perm != 0555) {
                        mode_t m = 0444 | (st.st_mode & S_IXUSR ? 0111 : 0);
                        if (fchmodat(dirfd, name, m, 0) < 0)
                                return cl_err(err, errno, "change mode of '%s'", name);
                }
        }
        /* mtime 1 (the epoch plus one second); atime left alone */
        struct timespec ts[2] = {{0, UTIME_OMIT}, {1, 0}};
        if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return cl_err(err, errno, "set modification time of '%s'", name);
        return 0;
}

int store_canonicalise_at(int dirfd, const char *name, struct cl_error *err)
{
        return canon_one(dirfd, name, 0, true, err);
}

int store_canonicalise_top_at(int dirfd, const char *name, struct cl_error *err)
{
        return canon_one(dirfd, name, 0, false, err);
}

int store_move_at(int from_fd, const char *from, int to_fd, const char *to, struct cl_error *err)
{
        struct stat st;
        if (fstatat(from_fd, from, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        /* moving a directory to another parent rewrites its "..": without
         * privilege that needs its write bit, which a store object lacks */
        bool opened = S_ISDIR(st.st_mode) && (st.st_mode & 0200) == 0;
        if (opened && fchmodat(from_fd, from, (st.st_mode & 07777) | 0200, 0) < 0)
                return cl_err(err, errno, "make '%s' writable", from);
        int r = renameat2(from_fd, from, to_fd, to, RENAME_NOREPLACE) < 0 ? -errno : 0;
        if (r == -EINVAL) {
                /* a file system without RENAME_NOREPLACE: check, then rename */
                struct stat st2;
                if (fstatat(to_fd, to, &st2, AT_SYMLINK_NOFOLLOW) == 0)
                        r = -EEXIST;
                else
                        r = renameat(from_fd, from, to_fd, to) < 0 ? -errno : 0;
        }
        if (opened &&
            fchmodat(r == 0 ? to_fd : from_fd, r == 0 ? to : from, st.st_mode & 07777, 0) < 0 &&
            r == 0)
                return cl_err(err, errno, "restore the mode of '%s'", to);
        return r;
}

static int remove_one(int dirfd, const char *name, unsigned depth, struct cl_error *err)
{
        if (depth > CANON_MAX_DEPTH)
                return cl_errx(err, ELOOP, "'%s': directories nested too deeply", name);
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : cl_err(err, errno, "stat '%s'", name);
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                        return cl_err(err, errno, "remove '%s'", name);
                return 0;
        }
        /* a read-only directory needs its write bit before entries can go */
        if ((st.st_mode & 0700) != 0700 && fchmodat(dirfd, name, 0700, 0) < 0)
                return cl_err(err, errno, "make '%s' writable", name);
        _cleanup_closedir_ DIR *dir = NULL;
        int fd = -1;
        int r0 = open_dir_stream(dirfd, name, &dir, &fd, err);
        if (r0 < 0)
                return r0;
        struct dirent *e;
        while ((errno = 0, e = readdir(dir))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                int r = remove_one(fd, e->d_name, depth + 1, err);
                if (r < 0)
                        return cl_err_prefix(err, "'%s'", name);
        }
        if (errno)
                return cl_err(err, errno, "read directory '%s'", name);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return cl_err(err, errno, "remove directory '%s'", name);
        return 0;
}

int store_remove_tree_at(int dirfd, const char *name, struct cl_error *err)
{
        return remove_one(dirfd, name, 0, err);
}
