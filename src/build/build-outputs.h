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

/* On failure *ret_status says which class (BUILD_FAILED, BUILD_HASH_MISMATCH,
 * BUILD_NOT_DETERMINISTIC, BUILD_MISUSE, BUILD_SYSTEM_ERROR). */
int build_outputs_finish(const struct build_outputs_params *p, enum build_status *ret_status,
                         struct cl_error *err);
