/* The child half of the sandbox: what runs between fork and exec. It reads a
 * struct sandbox_exec that the parent laid out completely in advance, uses
 * only async-signal-safe system calls, allocates nothing, and reports a
 * failure as one fixed struct sandbox_child_error on a close-on-exec pipe. */
#pragma once

#include "sandbox/sandbox-exec.h"

/* Run the helper: never returns (ends with _exit). Async-signal-safe. */
__attribute__((noreturn)) void sandbox_child_helper(const struct sandbox_exec *x);

/* Report a failure on the error pipe. Async-signal-safe. */
void sandbox_child_fail(const struct sandbox_exec *x, enum sandbox_step step, int err, int index);

/* Start the command (sharing our memory until its exec) from a PID 1 of
 * sandbox-nons-child.c: 1 exec'd, 0 failed and reported, -errno not started.
 * Async-signal-safe. */
int sandbox_child_start_command(const struct sandbox_exec *x, long *ret_pid);
