/* Writing a .drv into a store directory. Every step goes through directory
 * fds with O_NOFOLLOW so that a symlink planted in the store cannot redirect the
 * write, and the file appears only under its final name, complete and
 * read-only. */
#include "store/store-drv-add.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"
#include "store/store-drv-hash.h"
#include "store/store-path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int store_open_dir(const char *root, const char *store_dir, int *ret_fd, struct cl_error *err)
{
        int r = store_dir_check(store_dir, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                /* a new chroot store, as Nix's --store ROOT makes one */
                r = fs_mkdir_parents(root, 0755, "store root", err);
                if (r < 0)
                        return r;
                fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd < 0)
                return cl_err(err, errno, "open store root '%s'", root);
        _cleanup_free_ char *copy = strdup(store_dir);
        if (!copy)
                return cl_errx(err, ENOMEM, "out of memory");
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0)
                        return cl_errx(err, EINVAL, "store directory '%s' contains '%s'", store_dir,
                                       c);
                if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST)
                        return cl_err(err, errno, "create '%s' in store root '%s'", c, root);
                int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return cl_err(err, errno, "open '%s' in store root '%s'", c, root);
                close(fd);
                fd = next;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int store_write_file_atomic(int dir_fd, const char *base, const void *data, size_t len,
                            struct cl_error *err)
{
        unsigned char rnd[8];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                return cl_err(err, errno, "getrandom");
        char tmp[64];
        snprintf(tmp, sizeof(tmp), ".cloister-tmp-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
                 rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
        _cleanup_close_ int fd =
            openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return cl_err(err, errno, "create temporary file for '%s'", base);
        int r = fd_write_all(fd, data, len);
        if (r < 0) {
                r = cl_err(err, r, "write '%s'", base);
                goto fail;
        }
        const struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = 1}};
        if (fchmod(fd, 0444) < 0 || futimens(fd, times) < 0 || fsync(fd) < 0) {
                r = cl_err(err, errno, "finish '%s'", base);
                goto fail;
        }
        if (renameat2(dir_fd, tmp, dir_fd, base, RENAME_NOREPLACE) < 0) {
                int e = errno;
                if (e == EINVAL || e == ENOSYS) {
                        /* a file system without RENAME_NOREPLACE: link is atomic too */
                        if (linkat(dir_fd, tmp, dir_fd, base, 0) == 0) {
                                unlinkat(dir_fd, tmp, 0);
                                return 0;
                        }
                        e = errno;
                }
                r = e == EEXIST ? -EEXIST : cl_err(err, e, "rename into '%s'", base);
                goto fail;
        }
        return 0;
fail:
        unlinkat(dir_fd, tmp, 0);
        return r;
}

/* Input derivations and sources must already be in the store. */
static int check_inputs_present(int store_fd, const char *store_dir, const struct derivation *d,
                                struct cl_error *err)
{
        const char **refs = NULL;
        size_t n = 0;
        if (drv_references(d, &refs, &n) < 0)
                return cl_errx(err, ENOMEM, "out of memory");
        _cleanup_free_ const char **owned = refs;
        for (size_t i = 0; i < n; i++) {
                struct store_path sp;
                int r = store_path_parse(store_dir, refs[i], &sp, err);
                if (r < 0)
                        return r;
                struct stat st;
                if (fstatat(store_fd, sp.base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return cl_err(err, errno, "input '%s' is not in the store", refs[i]);
        }
        return 0;
}

int drv_add(const struct drv_add_options *opts, struct derivation *d, const char *drv_name,
            char **ret_path, struct cl_error *err)
{
        /* a bad derivation is refused before anything is created */
        int r = drv_check_paths(opts->store_dir, d, drv_name, err);
        if (r < 0)
                return r;
        _cleanup_close_ int store_fd = -1;
        r = store_open_dir(opts->root, opts->store_dir, &store_fd, err);
        if (r < 0)
                return r;
        r = check_inputs_present(store_fd, opts->store_dir, d, err);
        if (r < 0)
                return r;
        struct drv_loader l;
        drv_loader_init_dir(&l, opts->store_dir, store_fd);
        r = drv_resolve_outputs(&l, d, drv_name, err);
        drv_loader_done(&l);
        if (r < 0)
                return r;

        _cleanup_buf_ struct cl_buf aterm = CL_BUF_INIT;
        if (drv_print(d, &aterm) < 0)
                return cl_errx(err, ENOMEM, "out of memory");
        struct store_path sp;
        r = drv_store_path(opts->store_dir, d, drv_name, aterm.data, aterm.len, &sp, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = NULL;
        if (store_path_print(opts->store_dir, &sp, &path) < 0)
                return cl_errx(err, ENOMEM, "out of memory");
        if (opts->expect_path && strcmp(opts->expect_path, path) != 0)
                return cl_errx(err, EINVAL, "the derivation's store path is '%s'", path);

        r = store_write_file_atomic(store_fd, sp.base, aterm.data, aterm.len, err);
        if (r == -EEXIST) {
                /* content-addressed: the same name means the same bytes, unless
                 * the store is damaged */
                _cleanup_free_ char *old = NULL;
                size_t old_len = 0;
                r = fd_read_file_at(store_fd, sp.base, DRV_MAX_SIZE, 1, &old, &old_len);
                if (r < 0)
                        return cl_err(err, r, "read existing '%s'", path);
                if (old_len != aterm.len || memcmp(old, aterm.data, old_len) != 0)
                        return cl_errx(err, EEXIST, "'%s' exists with other contents", path);
        } else if (r < 0) {
                return r;
        }

        if (opts->register_drv) {
                struct hash h;
                const char **refs = NULL;
                size_t n_refs = 0;
                if (hash_buffer(HASH_SHA256, aterm.data, aterm.len, &h) < 0 ||
                    drv_references(d, &refs, &n_refs) < 0)
                        return cl_errx(err, ENOMEM, "out of memory");
                _cleanup_free_ const char **owned = refs;
                struct drv_registration reg = {
                    .root = opts->root,
                    .store_dir = opts->store_dir,
                    .store_fd = store_fd,
                    .path = path,
                    .base = sp.base,
                    .content_sha256 = &h,
                    .refs = refs,
                    .n_refs = n_refs,
                    .drv = d,
                };
                r = opts->register_drv(opts->register_userdata, &reg, err);
                if (r < 0)
                        return cl_err_prefix(err, "register '%s'", path);
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}
