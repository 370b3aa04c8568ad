/* The child half of a plan without namespaces (SANDBOX_NO_NAMESPACES): the
 * helper and PID 1 as child subreapers, the build user's ids, no
 * capabilities, no_new_privs; the command's own setup is sandbox-child.c's. */
#pragma once

#include "sandbox/sandbox-exec.h"

/* The helper's work after it has joined the cgroups: start PID 1, wait for
 * it, kill and reap whatever is left. Never returns. Async-signal-safe. */
__attribute__((noreturn)) void sandbox_nons_helper(const struct sandbox_exec *x);

/* PID 1's pid (the command's parent). Async-signal-safe. */
pid_t sandbox_nons_init_pid(void);
