/* The sandbox's PID 1: reaps, forwards signals, ends with the command. */
#pragma once

#include "sandbox/sandbox-child.h"

#include <stdint.h>

/* The signals PID 1 waits for (blocked before the command is forked), as a
 * kernel signal mask. */
uint64_t sandbox_init_signal_mask(void);

/* Wait for the command cmd and every orphan; forward SIGTERM, SIGINT and
 * SIGHUP to the command; when it ends kill everything left in the namespace,
 * report its wait status and exit with its code (128+N for signal N). The
 * signals of sandbox_init_signal_mask() must be blocked. Never returns.
 * Async-signal-safe. */
__attribute__((noreturn)) void sandbox_init_run(const struct sandbox_exec *x, pid_t cmd);

/* As sandbox_init_run, for a PID 1 without a PID namespace (a child
 * subreaper): what the command left is ended by kill_children (SIGKILL to
 * every child of ours; how many, or -errno), called when the command has
 * ended and again as long as children remain; parent_died, the signal that
 * says the parent has gone, makes it end everything and exit. Never returns.
 * Async-signal-safe. */
__attribute__((noreturn)) void sandbox_init_run_subreaper(const struct sandbox_exec *x, pid_t cmd,
                                                          long (*kill_children)(void),
                                                          int parent_died);
