/* The child half of the sandbox: what runs between fork and exec. It reads a
 * struct sandbox_exec that the parent laid out completely in advance, uses
 * only async-signal-safe system calls, allocates nothing, and reports a
 * failure as one fixed struct sandbox_child_error on a close-on-exec pipe. */
#pragma once

#include "sandbox/sandbox-exec.h"

/* The stacks the child side runs on (sandbox-run.c maps them per sandbox):
 * the helper's, which PID 1 goes on using, and the command's. */
#define SANDBOX_STACK_SIZE (512u * 1024u)

/* Start the helper, sharing our memory, and return when it has exited: its
 * pid (to be reaped with __WALL), or -errno. By then PID 1 runs as our child,
 * its pid in x->shared->init_pid (0 if the helper failed before it, and said
 * why on the error pipe). Async-signal-safe. */
long sandbox_child_start_helper(const struct sandbox_exec *x);

/* Report a failure on the error pipe. Async-signal-safe. */
void sandbox_child_fail(const struct sandbox_exec *x, enum sandbox_step step, int err, int index);

/* PID 1's last steps: start the command (sharing our memory until its
 * exec), say it started, and become its init: in a PID namespace
 * (kill_children NULL), or as the subreaper of sandbox-nons-child.c with its
 * kill_children and parent-death signal. Never returns. Async-signal-safe. */
__attribute__((noreturn)) void sandbox_child_start_command(const struct sandbox_exec *x,
                                                           long (*kill_children)(void),
                                                           int parent_died);
