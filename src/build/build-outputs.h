/* After the builder: the outputs in the scratch store directory are checked
 * (present, owned by the builder, not group/world-writable, only regular
 * files, directories and symlinks, no hard links to outside), canonicalised,
 * NAR-hashed and scanned for references in one pass, checked against the
 * derivation's reference rules and fixed hash, then installed and registered
 * in one transaction (or, with --check, compared with the valid ones). */
#pragma once

#include "base/base-error.h"
#include "build/build-run.h"
#include "store/store-db.h"
#include "store/store-drv-hash.h"
#include "store/store-drv.h"

#include <stdbool.h>
#include <sys/types.h>

struct build_outputs_params {
        struct store_db *db;
        const char *drv_path;
        const struct derivation *drv;
        const struct drv_fixed *fixed; /* NULL: input-addressed */
        char *const *closure;          /* the input closure */
        size_t n_closure;
        int scratch_fd;    /* the directory the builder saw as the store */
        uid_t builder_uid; /* who must own the outputs (host view) */
        bool check;        /* compare with the valid outputs, keep ".check" */
};

/* The checks on outputs names[i] (at paths[i]; their base names in
 * scratch_fd) before anything else, as Nix 2.8's registerOutputs and
 * canonicalisePathMetaData make them: each exists, is owned by uid and is not
 * group- or world-writable (a symlink may be); everything in them is a
 * regular file, directory or symlink owned by uid; no file has a hard link
 * outside them. A refusal is BUILD_FAILED in *ret_status, not being able to
 * look BUILD_SYSTEM_ERROR. */
int build_outputs_check_tree(int scratch_fd, const char *drv_path, const char *const *names,
                             const char *const *paths, size_t n, uid_t uid,
                             enum build_status *ret_status, struct cl_error *err);

/* On failure *ret_status says which class (BUILD_FAILED, BUILD_HASH_MISMATCH,
 * BUILD_NOT_DETERMINISTIC, BUILD_MISUSE, BUILD_SYSTEM_ERROR). */
int build_outputs_finish(const struct build_outputs_params *p, enum build_status *ret_status,
                         struct cl_error *err);
