/* The child's filesystem work: the new root's tmpfs, the plan's mount
 * operations resolved inside that root, and pivot_root into it. */
#pragma once

#include "sandbox/sandbox-child.h"

/* Build the new root and enter it; on failure reports and returns < 0.
 * Async-signal-safe. */
int sandbox_mount_root(const struct sandbox_exec *x);
