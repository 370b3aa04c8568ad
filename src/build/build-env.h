/* The builder's environment as Nix 2.8 sets it (NIX-FORMATS.md 6.2-6.4): the
 * variables, the files written into the build directory (passAsFile's
 * .attr-<hash>, structured attributes' .attrs.json and .attrs.sh), argv, and
 * the output placeholders rewritten to the real output paths everywhere. */
#pragma once

#include "base/base-error.h"
#include "store/store-drv.h"

#include <stdbool.h>
#include <stddef.h>

/* A file the builder finds in its build directory (mode 0644, owned by it). */
struct build_env_file {
        char *name; /* a plain file name, e.g. ".attrs.json" */
        char *data;
        size_t len;
};

struct build_env_params {
        const struct derivation *drv;
        const char *store_dir; /* logical, "/nix/store" */
        const char *build_dir; /* where the builder sees its build directory: "/build" */
        unsigned cores;        /* NIX_BUILD_CORES */
        bool fixed_output;     /* NIX_OUTPUT_CHECKED and impureEnvVars */
        /* where impureEnvVars take their values from; NULL means getenv(3) */
        const char *(*lookup)(void *userdata, const char *name);
        void *lookup_userdata;
};

struct build_env {
        char **env; /* "K=V", sorted by K (Nix keeps a std::map), NULL-terminated */
        size_t n_env;
        char **argv; /* argv[0] = basename of the builder, then the args; NULL-terminated */
        size_t n_argv;
        char *program; /* the builder's full path, as executed */
        struct build_env_file *files;
        size_t n_files;
        bool structured; /* the derivation has __json */
};

/* Compute everything. Bad structured attributes (__json not a JSON object) and
 * an impossible passAsFile are errors naming the attribute. */
int build_env_make(const struct build_env_params *p, struct build_env *ret, struct cl_error *err);
void build_env_free(struct build_env *e);
static inline void build_env_freep(struct build_env *e)
{
        build_env_free(e);
}
#define _cleanup_build_env_ __attribute__((cleanup(build_env_freep)))

/* "K=V" value of key in e, or NULL. */
const char *build_env_get(const struct build_env *e, const char *key);

/* Nix's hashPlaceholder: "/" + nix32(sha256("nix-output:" + output)), into buf
 * (54 bytes). */
#define BUILD_PLACEHOLDER_LEN 53
void build_placeholder(const char *output, char buf[BUILD_PLACEHOLDER_LEN + 1]);

/* The name of the file passAsFile writes attribute key to: ".attr-" +
 * nix32(sha256(key)), into buf (59 bytes). */
#define BUILD_ATTR_FILE_LEN 58
void build_attr_file_name(const char *key, char buf[BUILD_ATTR_FILE_LEN + 1]);

/* The value of a list-valued attribute as Nix's getStringsAttr reads it: from
 * the structured attributes (a JSON array of strings) or from the env entry
 * split on whitespace. *ret is a NULL-terminated malloc'd list (NULL when the
 * attribute is absent: *ret_present is false). A structured value that is not
 * a list of strings is an error naming it. */
int build_drv_strings_attr(const struct derivation *d, const char *name, char ***ret,
                           bool *ret_present, struct cl_error *err);
void build_strv_free(char **v);
