/* The JSON form of derivations that Nix 2.8's `nix show-derivation` prints:
 * an object mapping each .drv store path to {outputs, inputSrcs, inputDrvs,
 * system, builder, args, env}. Written byte for byte as Nix writes it, read
 * with jansson. */
#pragma once

#include "base/base-buf.h"
#include "base/base-error.h"
#include "store/store-drv.h"

#include <stddef.h>

/* Larger JSON documents are refused before parsing. */
#define DRV_JSON_MAX_SIZE (256u << 20)

struct drv_json_item {
        char *path; /* the .drv store path given as key; NULL for a bare object */
        struct derivation drv;
};

/* Append the whole document for n derivations, keys in the order given (Nix
 * prints them sorted by path), with the trailing newline Nix prints. */
int drv_json_print(const char *const *drv_paths, const struct derivation *const *drvs, size_t n,
                   struct cl_buf *out);

/* Parse a document: either show-derivation's {"<drv path>": {...}, ...} or one
 * bare derivation object (recognised by its "outputs" key). Output paths may be
 * missing or empty (to be computed). Lists are put in canonical order.
 * Returns 0 and a malloc'd array in *ret (free with drv_json_items_free). */
int drv_json_parse(const char *data, size_t len, struct drv_json_item **ret, size_t *ret_n,
                   struct cl_error *err);
void drv_json_items_free(struct drv_json_item *items, size_t n);
