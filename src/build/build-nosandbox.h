/* Builds without the sandbox (sandbox = false, and sandbox = relaxed for
 * fixed-output and __noChroot derivations), as Nix's non-chroot builds: the
 * builder sees the host, writes its outputs straight into the real store
 * directory, and works in TMPDIR/nix-build-NAME.drv-N/build. What protects the
 * host is the build user (as root), the store directory 1735
 * root:<build group> (a builder cannot list it, seed 000), seccomp,
 * no_new_privs and the end of the whole process tree. */
#pragma once

#include "base/base-error.h"
#include "build/build-config.h"
#include "build/build-env.h"
#include "sandbox/sandbox-plan.h"
#include "store/store-add.h"
#include "store/store-db.h"
#include "store/store-drv.h"
#include "store/store-lock.h"

#include <stdbool.h>
#include <sys/types.h>

/* Nix's useChroot: whether d builds without the sandbox under s. With
 * sandbox = true a derivation with __noChroot is refused as Nix refuses it. */
int build_nosandbox_wanted(const struct build_settings *s, const char *drv_path,
                           const struct derivation *d, bool fixed_output, bool *ret,
                           struct cl_error *err);

struct build_nosandbox {
        struct store_db *db;
        const struct derivation *drv;
        int tmp_fd;        /* TMPDIR */
        char top_name[96]; /* nix-build-NAME.drv-N in it: root-owned, the builder's parent */
        int top_fd;
        int build_fd;                  /* top/build: the builder's own 0700 directory */
        char *build_path;              /* its host path: NIX_BUILD_TOP and the cwd */
        struct store_path_lock *locks; /* one per output, held until collected */
        size_t n_locks;
        bool ran; /* the builder may have written outputs into the store */
};

void build_nosandbox_init(struct build_nosandbox *n);

/* Before the builder: the store must be reachable at its logical path,
 * no output may be valid (Nix would rewrite hashes; cloister refuses), the
 * outputs are locked and leftovers removed, the store directory is made
 * 1735 root:gid when uid is a build user, and the build directory is made
 * and handed to uid (-1: the caller). */
int build_nosandbox_prepare(struct build_nosandbox *n, struct store_db *db,
                            const struct derivation *d, const char *drv_path, const char *drv_name,
                            uid_t uid, gid_t gid, struct cl_error *err);

/* The plan: no namespaces, the build user's ids (as root), env and argv
 * from env, cwd the build directory. */
int build_nosandbox_plan(const struct build_nosandbox *n, const struct build_env *env, uid_t uid,
                         gid_t gid, struct sandbox_plan **ret, struct cl_error *err);

/* After the builder (every process of it gone): move the outputs out of the
 * store directory into scratch, a private stage, and let go of the locks;
 * build-outputs.c checks and installs them from there. */
int build_nosandbox_collect(struct build_nosandbox *n, struct store_stage *scratch,
                            struct cl_error *err);

/* Remove what the build left in the store (a failed build) and the build
 * directory, unless keep (then *ret_kept is its path); release everything. */
void build_nosandbox_finish(struct build_nosandbox *n, bool keep, char **ret_kept);
