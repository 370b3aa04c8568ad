/* The store database: Nix's SQLite schema (version 10, Nix 2.8's exact DDL),
 * the directories and lock files around it under a physical root, and the
 * registration, query and invalidation of store paths. A store opened here can
 * be used by Nix at the same time, and the other way round. */
#pragma once

#include "base/base-error.h"
#include "store/store-lock.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The schema version Nix 2.8 writes to and expects in db/schema. */
#define STORE_DB_SCHEMA_VERSION 10

/* How long to wait for the big lock and a busy database, by default. */
#define STORE_DB_TIMEOUT_MS (60L * 1000)

struct store_db;

struct store_db_options {
        const char *root;      /* physical root ("/" for the machine's own store) */
        const char *store_dir; /* logical store directory; NULL for /nix/store */
        long timeout_ms;       /* big lock and busy database; 0: STORE_DB_TIMEOUT_MS */
};

/* Open (creating when missing, as Nix does) ROOT<store_dir>, ROOT/nix/var/nix
 * and its db/db.sqlite, and take the big lock shared for the life of the
 * handle. A schema version other than 10, a database or big lock held longer
 * than the timeout, or an unreadable database fail with the path and reason. */
int store_db_open(const struct store_db_options *opts, struct store_db **ret, struct cl_error *err);
void store_db_close(struct store_db *db);
static inline void store_db_closep(struct store_db **db)
{
        if (*db)
                store_db_close(*db);
}
#define _cleanup_store_db_ __attribute__((cleanup(store_db_closep)))

const char *store_db_store_dir(const struct store_db *db);
/* How long the handle waits for a lock, in milliseconds. */
long store_db_timeout_ms(const struct store_db *db);
/* Physical directory fds: the store directory and ROOT/nix/var/nix. */
int store_db_real_store_fd(const struct store_db *db);
int store_db_state_fd(const struct store_db *db);
/* malloc'd physical path of a logical store path ("ROOT/nix/store/<base>"). */
char *store_db_real_path(const struct store_db *db, const char *path);

/* Check that path is "<store_dir>/<base>" with a well-formed base name; on
 * success *ret_base points at the base name inside path. */
int store_db_check_path(const struct store_db *db, const char *path, const char **ret_base,
                        struct cl_error *err);

/* Say whether this process holds gc.lock as the collector (store-gc.c): its
 * own temporary roots then go straight to its roots file. */
void store_db_set_collecting(struct store_db *db, bool collecting);
/* Make path a temporary GC root of this process (Nix's addTempRoot). */
int store_db_add_temp_root(struct store_db *db, const char *path, struct cl_error *err);
/* Take "<path>.lock" in the store directory with the handle's timeout. */
int store_db_lock_path(struct store_db *db, const char *path, struct store_path_lock *ret,
                       struct cl_error *err);

struct store_drv_output {
        char *name; /* output name, e.g. "out" */
        char *path; /* full output path */
};

/* One row of ValidPaths with its references (and, for a .drv, its outputs). */
struct store_path_info {
        char *path;               /* full logical store path */
        char *nar_hash;           /* "sha256:<64 hex digits>"; Nix accepts other encodings */
        uint64_t nar_size;        /* 0: unknown (stored as NULL) */
        char *deriver;            /* NULL: none */
        time_t registration_time; /* 0 when registering: now */
        bool ultimate;            /* built locally; false is stored as NULL */
        char *sigs;               /* space-separated "key:sig"; NULL: none */
        char *ca;                 /* content address, e.g. "fixed:r:sha256:<nix32>"; NULL: none */
        char **references;        /* full store paths (may include path itself) */
        size_t n_references;
        struct store_drv_output *outputs; /* DerivationOutputs rows (for .drv paths) */
        size_t n_outputs;
};

void store_path_info_free(struct store_path_info *info);
static inline void store_path_info_freep(struct store_path_info **info)
{
        if (*info)
                store_path_info_free(*info);
}
#define _cleanup_path_info_ __attribute__((cleanup(store_path_info_freep)))

/* Register a set of paths in one transaction, as Nix's registerValidPaths: each
 * path is inserted (or its hash, size, ultimate, sigs and ca updated when it is
 * already valid), then every reference, which must be valid already or be in
 * the set, then the derivation outputs. A reference cycle other than a
 * self-reference is refused. On any failure nothing is registered. */
int store_db_register(struct store_db *db, const struct store_path_info *infos, size_t n,
                      struct cl_error *err);

/* 1 when path is valid, 0 when not, or -errno. */
int store_db_is_valid(struct store_db *db, const char *path, struct cl_error *err);

/* The row of a valid path with its references (sorted) and its derivation
 * outputs; -ENOENT with "path '...' is not valid" otherwise. */
int store_db_query_info(struct store_db *db, const char *path, struct store_path_info **ret,
                        struct cl_error *err);

/* A NULL-terminated, sorted, malloc'd list of malloc'd strings. */
void store_strv_free(char **v);
static inline void store_strv_freep(char ***v)
{
        if (*v)
                store_strv_free(*v);
}
#define _cleanup_strv_ __attribute__((cleanup(store_strv_freep)))
size_t store_strv_len(char *const *v);

/* Paths that path refers to, paths that refer to path, and the closure of the
 * references of every path in paths (paths themselves included). */
int store_db_references(struct store_db *db, const char *path, char ***ret, struct cl_error *err);
int store_db_referrers(struct store_db *db, const char *path, char ***ret, struct cl_error *err);
int store_db_requisites(struct store_db *db, char *const *paths, size_t n, char ***ret,
                        struct cl_error *err);
/* Every valid path. */
int store_db_all_paths(struct store_db *db, char ***ret, struct cl_error *err);
/* Valid .drv paths that list path as an output. */
int store_db_valid_derivers(struct store_db *db, const char *path, char ***ret,
                            struct cl_error *err);

/* Sort paths so that every path comes after the paths it refers to (self
 * references ignored); -ELOOP with the cycle named if there is one. The
 * references are looked up in the database; paths not valid have none. */
int store_db_topo_sort(struct store_db *db, char **paths, size_t n, struct cl_error *err);

/* Remove path's row (its Refs and DerivationOutputs go with it). Refused with
 * -EBUSY when another valid path still refers to it. */
int store_db_invalidate(struct store_db *db, const char *path, struct cl_error *err);

/* Transactions, for callers that must do several things atomically (e.g. delete
 * files only once a row is gone). store_db_register nests inside one. */
int store_db_begin(struct store_db *db, struct cl_error *err);
int store_db_commit(struct store_db *db, struct cl_error *err);
void store_db_rollback(struct store_db *db);
