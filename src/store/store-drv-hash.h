/* What follows from a derivation's contents: its kind (input-addressed or
 * fixed-output), Nix's "hash modulo" (NIX-FORMATS.md 2.4), its output paths
 * (filled in as nix-instantiate does, or checked as Nix does when it registers
 * a .drv), and the .drv file's own store path (a text object, 2.5). */
#pragma once

#include "base/base-error.h"
#include "store/store-drv.h"
#include "store/store-hash.h"
#include "store/store-path.h"

#include <stdbool.h>

/* Input derivations are recursed into; this bounds the depth of the chain. */
#define DRV_MAX_DEPTH 4096

enum drv_kind {
        DRV_INPUT_ADDRESSED,
        DRV_FIXED_OUTPUT,
};

/* A fixed-output derivation's content address. */
struct drv_fixed {
        enum store_ca_method method;
        struct hash hash;
};

struct drv_memo_entry {
        char *path;
        struct hash hm; /* unmasked hash modulo; for a fixed-output drv the fixed hash */
};

/* Where input derivations come from: load() reads and parses the .drv with
 * store path drv_path. The loader memoises hash modulo per path. */
struct drv_loader {
        const char *store_dir;
        int (*load)(void *userdata, const char *drv_path, struct derivation *ret,
                    struct cl_error *err);
        void *userdata;
        struct drv_memo_entry *memo; /* sorted by path */
        size_t n_memo, cap_memo;
        unsigned depth;
};

/* A loader that reads input derivations from the directory store_fd, the
 * physical location of store_dir (e.g. ROOT/nix/store). store_fd stays owned by
 * the caller. */
void drv_loader_init_dir(struct drv_loader *l, const char *store_dir, int store_fd);
void drv_loader_done(struct drv_loader *l);

/* The kind of d; for fixed-output derivations also the content address.
 * Floating content-addressed, impure and deferred outputs (experimental in
 * Nix) and mixtures are refused. */
int drv_get_kind(const struct derivation *d, enum drv_kind *ret_kind, struct drv_fixed *ret_fixed,
                 struct cl_error *err);

/* The derivation name (without ".drv") of a .drv store path, into buf. */
int drv_name_from_path(const char *store_dir, const char *drv_path, char buf[STORE_NAME_MAX + 1],
                       struct cl_error *err);

/* Check that every path in d is a store path of store_dir (outputs may be
 * empty), input derivations end in ".drv", output names make valid path
 * names for drv_name, and the fields Nix writes unescaped (system, hash
 * algorithms, hashes, input output names) hold no '"' or '\'. */
int drv_check_paths(const char *store_dir, const struct derivation *d, const char *drv_name,
                    struct cl_error *err);

/* Nix's hashDerivationModulo. drv_name is needed for fixed-output drvs, whose
 * hash includes their computed output path. */
int drv_hash_modulo(struct drv_loader *l, const struct derivation *d, const char *drv_name,
                    bool mask, struct hash *ret, struct cl_error *err);

/* When every output path is empty, compute them and write them into the
 * outputs and the env (adding the env entries if missing), as nix-instantiate
 * does. A fixed output's hash is rewritten in base16, as Nix writes it. When every path is set, check them (and the env entries) as Nix does
 * before registering a .drv. Anything in between is refused. */
int drv_resolve_outputs(struct drv_loader *l, struct derivation *d, const char *drv_name,
                        struct cl_error *err);

/* The .drv's own store path: a text object named "<drv_name>.drv" with the
 * sha256 of aterm (the file's bytes) and references inputSrcs plus the input
 * derivations. */
int drv_store_path(const char *store_dir, const struct derivation *d, const char *drv_name,
                   const char *aterm, size_t aterm_len, struct store_path *ret,
                   struct cl_error *err);

/* The references of a .drv (inputSrcs and input derivation paths), sorted and
 * unique, as an array of pointers into d (free only the array). */
int drv_references(const struct derivation *d, const char ***ret, size_t *ret_n);
