/* Building one derivation whose inputs are valid: the build directory, the
 * build user, the sandbox, the log, then the outputs checked, canonicalised,
 * hashed and scanned, the reference rules enforced, and everything registered
 * in one transaction. */
#pragma once

#include "base/base-error.h"
#include "build/build-config.h"
#include "store/store-db.h"

#include <stdbool.h>

/* How a build ended, in Nix's classes (they become exit codes). */
enum build_status {
        BUILD_OK = 0,
        BUILD_FAILED,            /* the builder failed or its outputs were refused */
        BUILD_TIMED_OUT,         /* timeout, max-silent-time or max-build-log-size */
        BUILD_HASH_MISMATCH,     /* a fixed output's hash differs */
        BUILD_NOT_DETERMINISTIC, /* --check found a different output */
        BUILD_MISUSE,            /* bad input: drv or inputs not valid, bad attributes */
        BUILD_SYSTEM_ERROR,      /* anything else (could not set up, disk full, ...) */
};

struct build_ctx {
        struct store_db *db;
        const char *root; /* physical root */
        const struct build_settings *settings;
        bool real_root; /* may lease build users */
        int term_fd;    /* where builder output is echoed; -1: nowhere */
        bool term_is_tty;
};

struct build_result {
        enum build_status status;
        bool built;     /* false: every output was valid already */
        char *kept_dir; /* --keep-failed: the build directory left behind */
        char *log_tail; /* a failed builder's last 25 lines, for the CLI to show */
        char *log_path; /* where the stored log is */
};

void build_result_free(struct build_result *r);

/* Build drv_path (a valid .drv in the store). check: build again although the
 * outputs are valid and compare. A failure returns < 0 with the message in err
 * (for a failing builder: the last 25 lines of its log too) and the class in
 * res->status. */
int build_derivation(struct build_ctx *c, const char *drv_path, bool check,
                     struct build_result *res, struct cl_error *err);

/* The exit code of a status: 0, 100, 101, 102, 104, 1. */
int build_status_exit_code(enum build_status s);
