/* The new root: a tmpfs mounted (inside the sandbox's private mount namespace)
 * over a host directory that no bind source lives under, filled by the plan's
 * operations, then entered with pivot_root(".", ".") and the old root detached,
 * so nothing of the host remains reachable, not even through chroot tricks.
 * Every path is resolved with RESOLVE_IN_ROOT, so a symlink made by the plan
 * can never point a mount or a mkdir outside the new root. */
#include "sandbox/sandbox-mount.h"

#include "sandbox/sandbox-sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef MS_REC
#define MS_REC 16384
#endif
#ifndef MS_PRIVATE
#define MS_PRIVATE (1 << 18)
#endif
#ifndef MS_NOSUID
#define MS_NOSUID 2
#define MS_NODEV 4
#define MS_NOEXEC 8
#endif
#ifndef MNT_DETACH
#define MNT_DETACH 2
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* Async-signal-safe: open path (absolute, inside the root) resolved in rootfd. */
static int open_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = {
            .flags = (unsigned long long)(flags | O_CLOEXEC),
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        return (int)sys4(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* Async-signal-safe: make every directory of path (inside the root) and
 * return an O_PATH fd of its parent directory, with *ret_last pointing into
 * buf at the last component. buf holds a copy of path. */
static int open_parent(int rootfd, const char *path, char *buf, size_t size, const char **ret_last)
{
        size_t len = sys_strlen(path);
        if (len + 1 > size)
                return -ENAMETOOLONG;
        for (size_t i = 0; i <= len; i++)
                buf[i] = path[i];
        size_t slash = len;
        while (slash > 0 && buf[slash] != '/')
                slash--;
        *ret_last = buf + slash + 1;
        if (slash == 0)
                return open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);

        /* walk the components: open each prefix, creating it when missing */
        int parent = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
        if (parent < 0)
                return parent;
        size_t start = 1;
        while (start <= slash) {
                size_t end = start;
                while (end < slash && buf[end] != '/')
                        end++;
                buf[end] = '\0';
                int fd = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
                if (fd == -ENOENT) {
                        long r = sys3(SYS_mkdirat, parent, buf + start, 0755);
                        if (r < 0 && r != -EEXIST) {
                                sys_close(parent);
                                buf[end] = '/';
                                return (int)r;
                        }
                        fd = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
                }
                buf[end] = '/';
                sys_close(parent);
                if (fd < 0)
                        return fd;
                parent = fd;
                start = end + 1;
        }
        return parent;
}

/* Async-signal-safe: create (if needed) and open the mount point of an op. */
static int open_target(int rootfd, const char *dst, int want_dir, int *ret_fd)
{
        char buf[PATH_MAX];
        const char *last;
        int parent = open_parent(rootfd, dst, buf, sizeof(buf), &last);
        if (parent < 0)
                return parent;
        int r = 0;
        if (*last) {
                if (want_dir)
                        r = (int)sys3(SYS_mkdirat, parent, last, 0755);
                else
                        r = (int)sys4(SYS_mknodat, parent, last, S_IFREG | 0444, 0);
                if (r == -EEXIST)
                        r = 0;
        }
        sys_close(parent);
        if (r < 0)
                return r;
        int fd = open_in_root(rootfd, dst, O_PATH | (want_dir ? O_DIRECTORY : 0));
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

/* Async-signal-safe: clone the source tree, set its flags while it is still
 * detached, attach it on target. *ret_step says which part failed. */
/* Async-signal-safe: a detached clone of a bind source. */
static int clone_source(const char *src)
{
        return (int)sys3(SYS_open_tree, AT_FDCWD, src,
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
}

/* Async-signal-safe: clone every bind source now, before the ids switch. */
int sandbox_mount_open_sources(const struct sandbox_exec *x)
{
        for (size_t i = 0; i < x->n_ops; i++) {
                if (x->ops[i].kind != SANDBOX_OP_BIND || (x->ops[i].flags & SANDBOX_OP_SKIP))
                        continue;
                int tree = clone_source(x->ops[i].src);
                if (tree < 0) {
                        sandbox_child_fail(x, SANDBOX_STEP_BIND, -tree, (int)i);
                        return tree;
                }
                x->bind_trees[i] = tree;
        }
        return 0;
}

/* Async-signal-safe: attach the source of op (its clone tree when already
 * open, which this consumes) on target, its flags set while still detached. */
static int do_bind(const struct sandbox_op *op, int tree, int target,
                   enum sandbox_step *ret_step)
{
        *ret_step = SANDBOX_STEP_BIND;
        if (tree < 0)
                tree = clone_source(op->src);
        if (tree < 0)
                return tree;
        struct mount_attr attr = {0};
        if (op->flags & SANDBOX_BIND_RO)
                attr.attr_set |= MOUNT_ATTR_RDONLY;
        if (!(op->flags & SANDBOX_BIND_DEV))
                attr.attr_set |= MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        if (attr.attr_set) {
                long r = sys5(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                              sizeof(attr));
                if (r < 0) {
                        sys_close(tree);
                        *ret_step = SANDBOX_STEP_BIND_FLAGS;
                        return (int)r;
                }
        }
        long r = sys5(SYS_move_mount, tree, "", target, "",
                      MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        sys_close(tree);
        return (int)r;
}

/* Async-signal-safe: mount a filesystem of type on the directory fd target. */
static int do_fs_mount(const char *type, int target, unsigned long flags, const char *data)
{
        char path[32];
        sys_fd_path(path, target);
        return (int)sys5(SYS_mount, type, path, type, flags, data);
}

/* Async-signal-safe: a private devpts instance, with gid=5 only when the
 * sandbox's one mapped group is 5 (the kernel refuses an unmapped gid, and a
 * refused mount costs a superblock made and destroyed), and the host's
 * /dev/pts where instances are not supported. */
static int do_devpts(int target, gid_t gid)
{
        static const char *const options[] = {
            "newinstance,ptmxmode=0666,mode=0620,gid=5",
            "newinstance,ptmxmode=0666,mode=0620",
        };
        int r = -EINVAL;
        for (size_t i = gid == 5 ? 0 : 1; i < sizeof(options) / sizeof(options[0]); i++) {
                r = do_fs_mount("devpts", target, MS_NOSUID | MS_NOEXEC, options[i]);
                if (r != -EINVAL)
                        break;
        }
        if (r >= 0)
                return r;
        struct sandbox_op host = {
            .kind = SANDBOX_OP_BIND, .flags = SANDBOX_BIND_DEV, .src = (char *)"/dev/pts"};
        enum sandbox_step step;
        return do_bind(&host, -1, target, &step) < 0 ? r : 0;
}

/* Async-signal-safe: a symlink; an existing identical one is fine. */
static int do_symlink(int rootfd, const struct sandbox_op *op)
{
        char buf[PATH_MAX];
        const char *last;
        int parent = open_parent(rootfd, op->dst, buf, sizeof(buf), &last);
        if (parent < 0)
                return parent;
        int r = (int)sys3(SYS_symlinkat, op->src, parent, last);
        if (r == -EEXIST) {
                char have[PATH_MAX];
                long n = sys4(SYS_readlinkat, parent, last, have, sizeof(have) - 1);
                if (n >= 0) {
                        have[n] = '\0';
                        if (sys_streq(have, op->src))
                                r = 0;
                }
        }
        sys_close(parent);
        return r;
}

/* Async-signal-safe: a file with the op's data. */
static int do_file(int rootfd, const struct sandbox_op *op)
{
        char buf[PATH_MAX];
        const char *last;
        int parent = open_parent(rootfd, op->dst, buf, sizeof(buf), &last);
        if (parent < 0)
                return parent;
        int fd = (int)sys4(SYS_openat, parent, last,
                           O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, op->mode);
        sys_close(parent);
        if (fd < 0)
                return fd;
        int r = sys_write_all(fd, op->data, op->data_len);
        sys_close(fd);
        return r;
}

/* Async-signal-safe: apply one op; on failure report it and return < 0. */
static int apply_op(const struct sandbox_exec *x, int rootfd, size_t i)
{
        const struct sandbox_op *op = &x->ops[i];
        int target = -1, r;

        switch (op->kind) {
        case SANDBOX_OP_SYMLINK:
                r = do_symlink(rootfd, op);
                if (r < 0)
                        goto fail_symlink;
                return 0;
        case SANDBOX_OP_FILE:
                r = do_file(rootfd, op);
                if (r < 0) {
                        sandbox_child_fail(x, SANDBOX_STEP_FILE, -r, (int)i);
                        return r;
                }
                return 0;
        default:
                break;
        }

        int want_dir = op->kind != SANDBOX_OP_BIND || (op->flags & SANDBOX_OP_SRCDIR);
        r = open_target(rootfd, op->dst, want_dir, &target);
        if (r < 0) {
                sandbox_child_fail(
                    x, op->kind == SANDBOX_OP_DIR ? SANDBOX_STEP_DIR : SANDBOX_STEP_MKPATH, -r,
                    (int)i);
                return r;
        }
        enum sandbox_step step = SANDBOX_STEP_NONE;
        switch (op->kind) {
        case SANDBOX_OP_BIND:
                r = do_bind(op, x->bind_trees[i], target, &step);
                x->bind_trees[i] = -1;
                break;
        case SANDBOX_OP_TMPFS:
                r = do_fs_mount("tmpfs", target, MS_NOSUID | MS_NODEV, op->data);
                step = SANDBOX_STEP_TMPFS;
                break;
        case SANDBOX_OP_DIR:
                /* directories are made 0755; set the asked mode through the fd */
                r = 0;
                if (op->mode != 0755) {
                        char path[32];
                        sys_fd_path(path, target);
                        r = (int)sys4(SYS_fchmodat, AT_FDCWD, path, op->mode, 0);
                }
                step = SANDBOX_STEP_DIR;
                break;
        case SANDBOX_OP_PROC:
                r = do_fs_mount("proc", target, MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
                step = SANDBOX_STEP_PROC;
                break;
        case SANDBOX_OP_DEVPTS:
                r = do_devpts(target, x->gid);
                step = SANDBOX_STEP_DEVPTS;
                break;
        default:
                r = -EINVAL;
                break;
        }
        sys_close(target);
        if (r < 0) {
                sandbox_child_fail(x, step, -r, (int)i);
                return r;
        }
        return 0;

fail_symlink:
        sandbox_child_fail(x, SANDBOX_STEP_SYMLINK, -r, (int)i);
        return r;
}

/* Async-signal-safe. */
int sandbox_mount_root(const struct sandbox_exec *x)
{
        /* nothing done here may propagate back to the host */
        long r = sys5(SYS_mount, "none", "/", NULL, MS_REC | MS_PRIVATE, NULL);
        if (r < 0)
                goto fail_private;
        r = sys5(SYS_mount, "tmpfs", x->root_mount, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
        if (r < 0) {
                sandbox_child_fail(x, SANDBOX_STEP_MOUNT_ROOT, (int)-r, -1);
                return (int)r;
        }
        int rootfd = (int)sys4(SYS_openat, AT_FDCWD, x->root_mount, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (rootfd < 0) {
                sandbox_child_fail(x, SANDBOX_STEP_MOUNT_ROOT, -rootfd, -1);
                return rootfd;
        }
        for (size_t i = 0; i < x->n_ops; i++) {
                const struct sandbox_op *op = &x->ops[i];
                if (op->flags & SANDBOX_OP_SKIP)
                        continue;
                r = apply_op(x, rootfd, i);
                if (r < 0) {
                        sys_close(rootfd);
                        return (int)r;
                }
                if (op->dst[1] == '\0') {
                        /* something was mounted on the root itself: use the top one */
                        sys_close(rootfd);
                        rootfd =
                            (int)sys4(SYS_openat, AT_FDCWD, x->root_mount, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
                        if (rootfd < 0) {
                                sandbox_child_fail(x, SANDBOX_STEP_MOUNT_ROOT, -rootfd, -1);
                                return rootfd;
                        }
                }
        }

        /* pivot_root(".", ".") stacks the old root on the new one; detaching
         * the top of "." then leaves only the new root */
        r = sys1(SYS_fchdir, rootfd);
        sys_close(rootfd);
        if (r >= 0)
                r = sys2(SYS_pivot_root, ".", ".");
        if (r < 0) {
                sandbox_child_fail(x, SANDBOX_STEP_PIVOT, (int)-r, -1);
                return (int)r;
        }
        r = sys2(SYS_umount2, ".", MNT_DETACH);
        if (r >= 0)
                r = sys1(SYS_chdir, "/");
        if (r < 0) {
                sandbox_child_fail(x, SANDBOX_STEP_OLDROOT, (int)-r, -1);
                return (int)r;
        }
        return 0;

fail_private:
        sandbox_child_fail(x, SANDBOX_STEP_MOUNT_PRIVATE, (int)-r, -1);
        return (int)r;
}
