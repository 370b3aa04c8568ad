/* Putting a derivation into a store: compute or check its outputs, print its
 * ATerm, write the .drv atomically (temporary name, 0444, mtime 1, rename) into
 * the physical store directory, and hand it to the store database through a
 * registration hook. */
#pragma once

#include "base/base-error.h"
#include "store/store-drv.h"
#include "store/store-hash.h"

#include <stddef.h>

/* What the database needs to register a new .drv (Nix's ValidPaths row with
 * ca "text:sha256:<nix32 of content_sha256>", no deriver, the references, and a
 * DerivationOutputs row per output of drv). The NAR hash is the NAR of the
 * regular file `base` in store_fd. */
struct drv_registration {
        const char *root;      /* physical root */
        const char *store_dir; /* logical store directory */
        int store_fd;          /* the physical store directory */
        const char *path;      /* the .drv's store path */
        const char *base;      /* its file name in store_fd */
        const struct hash *content_sha256;
        const char *const *refs; /* full store paths, sorted */
        size_t n_refs;
        const struct derivation *drv;
};

typedef int (*drv_register_fn)(void *userdata, const struct drv_registration *reg,
                               struct cl_error *err);

struct drv_add_options {
        const char *root;      /* physical root, e.g. "/" or ~/.local/share/cloister */
        const char *store_dir; /* logical, e.g. STORE_DIR_DEFAULT */
        /* HOOK for the store database (store-db): called after the file is in
         * place, also when it was already there. NULL: the file is the only
         * record. */
        drv_register_fn register_drv;
        void *register_userdata;
        /* When set: the .drv store path the caller expects (e.g. the key of a
         * show-derivation document); another one is refused before writing. */
        const char *expect_path;
};

/* Open (creating missing directories 0755) the physical store directory
 * root + store_dir, every step through directory fds with O_NOFOLLOW. */
int store_open_dir(const char *root, const char *store_dir, int *ret_fd, struct cl_error *err);

/* Add d (named drv_name) to the store: fills empty output paths (or checks
 * given ones), requires its input derivations and sources to be present, and
 * writes the .drv. An existing file with the same bytes is kept; one with
 * other bytes is an error. Returns the .drv's store path in *ret_path. */
int drv_add(const struct drv_add_options *opts, struct derivation *d, const char *drv_name,
            char **ret_path, struct cl_error *err);

/* Write data as file `base` in dir_fd atomically: a temporary name, mode 0444,
 * mtime 1, fsync, rename without replacing. -EEXIST when base exists. Nothing
 * is left behind on failure. */
int store_write_file_atomic(int dir_fd, const char *base, const void *data, size_t len,
                            struct cl_error *err);
