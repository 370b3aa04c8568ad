/* Putting objects into the store and taking them out: nix-store --add and
 * --add-fixed, the staging area that every new object passes through (a
 * GC-protected directory in the store, then canonicalise, rename, register in
 * one transaction), delete, and verify. */
#pragma once

#include "base/base-error.h"
#include "store/store-db.h"
#include "store/store-hash.h"
#include "store/store-path.h"

#include <stdbool.h>
#include <stddef.h>

/* Add the file system object at src as nix-store --add (recursive, sha256) or
 * --add-fixed [--recursive] ALGO does, named after src's last component. The
 * object is copied (NAR dump into restore, in one pass that also hashes it) into
 * the staging area, canonicalised, renamed to its path and registered; a path
 * that is already valid is left as it is. *ret_path gets the full store path. */
int store_add_path(struct store_db *db, const char *src, enum store_ca_method method,
                   enum hash_type algo, char **ret_path, struct cl_error *err);

/* A staging directory "<random hash part>-cloister-stage" in the real store
 * directory, registered as a temporary GC root first so that a concurrent Nix
 * garbage collector leaves it alone. Objects are built inside it under any
 * name, then installed. */
struct store_stage {
        int fd;
        char base[64];
        struct store_db *db; /* not owned */
};

#define STORE_STAGE_INIT                                                                           \
        {                                                                                          \
                -1, {0}, NULL                                                                      \
        }

int store_stage_new(struct store_db *db, struct store_stage *ret, struct cl_error *err);
/* Remove the stage and whatever is still in it. */
void store_stage_free(struct store_stage *s);
static inline void store_stage_freep(struct store_stage *s)
{
        store_stage_free(s);
}
#define _cleanup_stage_ __attribute__((cleanup(store_stage_freep)))

/* One object in the stage waiting to become info->path. */
struct store_staged {
        const char *name;            /* entry in the stage */
        struct store_path_info info; /* what to register */
        bool already_valid;          /* set by store_install: left alone */
};

/* Install a set of staged objects: take each path's temporary root and lock (in
 * sorted order, as Nix does), skip paths that are already valid, canonicalise
 * and rename the others into place (replacing invalid leftovers), and register
 * all of them in one transaction. A .drv gets its DerivationOutputs rows from
 * its own outputs when info.outputs is empty. On failure nothing is registered
 * and nothing new is left in the store. */
int store_install(struct store_db *db, struct store_stage *stage, struct store_staged *objs,
                  size_t n, struct cl_error *err);

/* Delete a valid path: lock it, invalidate it (refused with -EBUSY while another
 * path refers to it), then remove its files. */
int store_delete_path(struct store_db *db, const char *path, struct cl_error *err);

/* Check every valid path: it exists, and with check_contents its NAR sha256
 * and size match the database. Each problem is reported through report (one
 * message each); returns the number of problems, or -errno when the check
 * itself could not run. */
typedef void (*store_report_fn)(void *userdata, const char *msg);
int store_verify(struct store_db *db, bool check_contents, store_report_fn report, void *userdata,
                 struct cl_error *err);

/* The content address Nix records for a fixed-output object:
 * "fixed:[r:]<algo>:<nix32>", malloc'd. */
char *store_ca_fixed(enum store_ca_method method, const struct hash *h);
/* "sha256:<base16>", as the hash column holds it, into buf. */
char *store_nar_hash_column(const struct hash *nar_sha256, char buf[HASH_STR_MAX]);

/* The registration hook of drv_add (store-drv-add.h): userdata is the struct
 * store_db *. Registers the .drv drv_add has just written, as Nix registers
 * what nix-instantiate writes: ca "text:sha256:<nix32>", references its
 * inputSrcs and input derivations, and a DerivationOutputs row per output. */
struct drv_registration;
int store_register_drv(void *userdata, const struct drv_registration *reg, struct cl_error *err);
