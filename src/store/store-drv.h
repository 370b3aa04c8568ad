/* Derivations in memory and in Nix's ATerm form (.drv files): a strict parser
 * that accepts exactly what Nix writes (so that printing a parsed file gives the
 * same bytes back) and reports the byte offset of every syntax error, and the
 * printer with Nix's asymmetric escaping. */
#pragma once

#include "base/base-buf.h"
#include "base/base-error.h"

#include <stdbool.h>
#include <stddef.h>

/* Larger .drv files are refused before parsing. */
#define DRV_MAX_SIZE (64u << 20)

struct drv_output {
        char *name;
        char *path;      /* "" when not yet computed */
        char *hash_algo; /* "" for input-addressed, else "<r:>algo" */
        char *hash;      /* "" for input-addressed, else the content hash as written */
};

struct drv_input {
        char *path; /* the input .drv's store path */
        char **outputs;
        size_t n_outputs;
};

struct drv_env {
        char *key;
        char *value;
};

/* Every array is in Nix's canonical order (sorted bytewise, unique), except args. */
struct derivation {
        struct drv_output *outputs;
        size_t n_outputs;
        struct drv_input *inputs; /* inputDrvs */
        size_t n_inputs;
        char **srcs; /* inputSrcs */
        size_t n_srcs;
        char *platform; /* "system" */
        char *builder;
        char **args;
        size_t n_args;
        struct drv_env *env;
        size_t n_env;
};

void drv_free(struct derivation *d);
static inline void drv_freep(struct derivation *d)
{
        drv_free(d);
}
#define _cleanup_drv_ __attribute__((cleanup(drv_freep)))

/* Parse one ATerm derivation of len bytes. Strings may not contain NUL (Nix
 * strings cannot), escapes must be the five Nix writes and only in the fields it
 * escapes, lists must be sorted and unique where Nix keeps sets; any other input
 * is refused with "offset N: expected X, found Y" or a similar sentence. */
int drv_parse(const char *data, size_t len, struct derivation *ret, struct cl_error *err);

/* Append the ATerm of d to out, byte for byte as Nix's Derivation::unparse. */
int drv_print(const struct derivation *d, struct cl_buf *out);

/* Put every list of d into canonical order and drop duplicates; fails with
 * -EINVAL on duplicate output names or env keys. */
int drv_canonicalise(struct derivation *d, struct cl_error *err);

/* Lookups; NULL when absent. */
const struct drv_output *drv_find_output(const struct derivation *d, const char *name);
struct drv_env *drv_find_env(const struct derivation *d, const char *key);
/* Set env[key] = value, inserting at its sorted place if missing. */
int drv_set_env(struct derivation *d, const char *key, const char *value);

/* Deep copy. */
int drv_copy(const struct derivation *src, struct derivation *ret);
