/* Build settings: the keys of cloister.conf and `--option NAME VALUE`, named as
 * Nix names them (nix.conf) where Nix has the concept, so a nix.conf line means
 * the same here. */
#pragma once

#include "base/base-error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sandbox_mode {
        SANDBOX_ON,      /* sandbox = true */
        SANDBOX_OFF,     /* sandbox = false: build users and a 1735 store only */
        SANDBOX_RELAXED, /* sandbox = relaxed: fixed-output derivations unsandboxed */
};

enum fod_network {
        FOD_NETWORK_HOST, /* fixed-output builds share the host's network (Nix) */
        FOD_NETWORK_NONE, /* they get a private one with only lo */
};

struct build_settings {
        unsigned max_jobs;
        unsigned cores;           /* NIX_BUILD_CORES; 0 = every CPU */
        uint64_t timeout;         /* seconds, 0 = none */
        uint64_t max_silent_time; /* seconds, 0 = none */
        uint64_t max_build_log_size; /* bytes, 0 = none */
        bool keep_failed;
        bool keep_going;
        bool compress_build_log;
        bool keep_build_log;
        enum sandbox_mode sandbox;
        enum fod_network fixed_output_network;
        char *build_users_group; /* "" = no build users, a user namespace instead */
        char *sandbox_build_dir; /* the build directory's path inside, "/build" */
        char **sandbox_paths;    /* "target=source" or "path", optional with '?' */
        size_t n_sandbox_paths;
        char **impure_env;       /* extra variables allowed through to fixed-output builds */
        size_t n_impure_env;
};

/* Defaults as Nix's: sandbox on, build-users-group nixbld, /build, ... */
int build_settings_init(struct build_settings *s);
void build_settings_free(struct build_settings *s);

/* Set one key; unknown keys and bad values fail with a message naming them. */
int build_settings_set(struct build_settings *s, const char *name, const char *value,
                       struct cl_error *err);

/* Read a configuration file in nix.conf syntax: "name = value" lines, '#'
 * comments, blank lines. Unknown keys are collected in *ret_unknown (a
 * malloc'd, NUL-separated list, may be NULL) rather than refused, so one file
 * can serve Nix and cloister; a bad value is an error naming file and line. */
int build_settings_load(struct build_settings *s, const char *path, char **ret_unknown,
                        struct cl_error *err);

/* The configuration file to read when none is named: $CLOISTER_CONF, else
 * /etc/cloister/cloister.conf for root, $XDG_CONFIG_HOME/cloister/cloister.conf
 * (or ~/.config/...) otherwise. malloc'd. */
char *build_settings_default_path(void);
