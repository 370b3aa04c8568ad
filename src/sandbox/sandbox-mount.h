/* The child's filesystem work: the new root's tmpfs, the plan's mount
 * operations resolved inside that root, and pivot_root into it. */
#pragma once

#include "sandbox/sandbox-child.h"

/* Build the new root and enter it; on failure reports and returns < 0.
 * Async-signal-safe. */
int sandbox_mount_root(const struct sandbox_exec *x);

/* Async-signal-safe: clone every bind source (x->bind_trees) while the
 * caller's file-system identity still holds; sandbox_mount_root attaches them.
 * On failure the {step, errno} record is written. */
int sandbox_mount_open_sources(const struct sandbox_exec *x);
