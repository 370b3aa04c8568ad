/* build-test: what the build tests (build-core, build-checks, build-modes)
 * share: formatting, the root check, a copy of busybox to add to a store,
 * running a cloister command that must succeed, reading a .drv's output. */
#pragma once

#include <stdbool.h>

/* Formatted into a new string; fails the test when out of memory. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Root in the initial user namespace, not merely inside `unshare -r`. */
bool real_root(void);

/* Drops the trailing newlines of s. */
void chomp(char *s);

/* Copies /bin/busybox (static) to TMP/busybox/bin/busybox, mode 0755: a
 * directory to `cloister store add`. */
void build_test_copy_busybox(const char *tmp);

/* Runs argv (argv[0] cloister, argv[1..2] the subcommand) and fails the test
 * unless it exits 0; returns its output without the trailing newlines. */
char *build_test_run_ok(char *const argv[]);

/* The output path "out" in the .drv file at path. */
char *build_test_drv_out(const char *path);

/* Fails the test if the directory path holds anything (a missing directory
 * is empty); what names the entries in the message. */
void build_test_check_dir_empty(const char *path, const char *what);
