/* Store paths: `<store-dir>/<hash-part>-<name>`, their validation (Nix 2.8's
 * rules), and how Nix computes them: the fingerprint
 * `<type>:<algo>:<hex>:<store-dir>:<name>` hashed with sha256 and folded to 160
 * bits. The store dir is the logical one (hashed into every path), never the
 * physical root where the files happen to live. */
#pragma once

#include "base/base-error.h"
#include "store/store-hash.h"

#include <stdbool.h>
#include <stddef.h>

#define STORE_DIR_DEFAULT "/nix/store"
#define STORE_HASH_PART_LEN 32
#define STORE_NAME_MAX 211
#define STORE_BASE_MAX (STORE_HASH_PART_LEN + 1 + STORE_NAME_MAX)

/* A valid store path's base name, "<hash-part>-<name>", NUL-terminated. */
struct store_path {
        char base[STORE_BASE_MAX + 1];
};

/* How a content-addressed object was hashed (Nix's FileIngestionMethod). */
enum store_ca_method {
        STORE_CA_FLAT,      /* the bytes of a single regular file */
        STORE_CA_RECURSIVE, /* the NAR serialisation */
};

static inline const char *store_path_name(const struct store_path *p)
{
        return p->base + STORE_HASH_PART_LEN + 1;
}

/* The store dir must be absolute, without a trailing slash or "//". */
int store_dir_check(const char *store_dir, struct cl_error *err);

/* Nix 2.8's name rule: 1..211 characters from A-Z a-z 0-9 + - . _ ? = */
int store_path_check_name(const char *name, size_t len, struct cl_error *err);

/* Validate a base name of len bytes: 32 nix32 characters, '-', a valid name. */
int store_path_from_base(const char *base, size_t len, struct store_path *ret,
                         struct cl_error *err);

/* Parse a full path that must name an object directly inside store_dir
 * (repeated and trailing slashes are collapsed, as Nix's canonPath does; a path
 * below a store object is refused). */
int store_path_parse(const char *store_dir, const char *path, struct store_path *ret,
                     struct cl_error *err);
bool store_path_is_valid(const char *store_dir, const char *path);

/* "<store_dir>/<base>", malloc'd into *ret. */
int store_path_print(const char *store_dir, const struct store_path *p, char **ret);

/* Nix's makeStorePath: type is e.g. "text", "source:/nix/store/...",
 * "output:out"; inner is the digest printed as "<algo>:<hex>". */
int store_make_path(const char *store_dir, const char *type, const struct hash *inner,
                    const char *name, struct store_path *ret, struct cl_error *err);

/* A text object (a .drv, builtins.toFile): content_sha256 of the bytes, with
 * references given as full store paths (any order; sorted here). */
int store_make_text_path(const char *store_dir, const char *name, const struct hash *content_sha256,
                         const char *const *refs, size_t n_refs, struct store_path *ret,
                         struct cl_error *err);

/* A NAR-sha256 object ("source"), with references and an optional self reference. */
int store_make_source_path(const char *store_dir, const char *name, const struct hash *nar_sha256,
                           const char *const *refs, size_t n_refs, bool self,
                           struct store_path *ret, struct cl_error *err);

/* Nix's makeFixedOutputPath: recursive+sha256 is a source path (references
 * allowed); every other method and algorithm goes through
 * "fixed:out:<r:><algo>:<hex>:" and may not have references. */
int store_make_fixed_path(const char *store_dir, const char *name, enum store_ca_method method,
                          const struct hash *h, const char *const *refs, size_t n_refs, bool self,
                          struct store_path *ret, struct cl_error *err);

/* The name of output `output` of derivation `drv_name`: drv_name for "out",
 * "<drv_name>-<output>" otherwise. buf holds STORE_NAME_MAX + 1 bytes. */
int store_output_path_name(const char *drv_name, const char *output, char buf[STORE_NAME_MAX + 1],
                           struct cl_error *err);

/* An input-addressed output path: type "output:<output>", the derivation's
 * masked hash modulo as inner digest. */
int store_make_output_path(const char *store_dir, const char *drv_name, const char *output,
                           const struct hash *hash_modulo, struct store_path *ret,
                           struct cl_error *err);

/* Sort an array of C strings bytewise (memcmp order, as Nix's std::set). */
void store_sort_strings(const char **v, size_t n);
