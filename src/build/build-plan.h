/* From a derivation to a sandbox plan: what the builder sees (the input
 * closure read-only at its logical store paths, a scratch store directory
 * where it creates its outputs, /build, /etc, /dev, /proc, /tmp, the
 * sandbox-paths), as whom it runs, and its environment and argv. */
#pragma once

#include "base/base-error.h"
#include "build/build-config.h"
#include "build/build-env.h"
#include "sandbox/sandbox-plan.h"

#include <stdbool.h>
#include <sys/types.h>

struct build_plan_params {
        const struct build_settings *settings;
        const char *store_dir;      /* logical, "/nix/store" */
        const char *real_store_dir; /* physical, ROOT/nix/store */
        char *const *closure;       /* the input closure, full logical paths */
        size_t n_closure;
        const char *host_build_dir; /* the host directory seen as /build */
        const char *host_scratch;   /* the host directory seen as the store directory */
        bool fixed_output;
        bool share_network;
        /* as real root: the leased build user; otherwise (uid_t)-1 */
        uid_t host_uid;
        gid_t host_gid;
        const struct build_env *env;
};

/* Nix's /etc/passwd and /etc/group for builds (NIX-FORMATS.md 6.1). */
int build_plan_passwd(const char *build_dir, char **ret_passwd, char **ret_group);

/* The builder's environment, argv (argv[0] its basename), the program
 * executed (its full path) and the working directory dir, into plan; shared
 * by the sandboxed plan and the one without namespaces. */
int build_plan_set_command(struct sandbox_plan *plan, const struct build_env *env, const char *dir,
                           struct cl_error *err);

int build_plan_make(const struct build_plan_params *p, struct sandbox_plan **ret,
                    struct cl_error *err);
