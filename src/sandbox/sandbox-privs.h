/* The privilege drop both kinds of PID 1 share (sandbox-child.c with
 * namespaces, sandbox-nons-child.c without): the plan's ids, their check,
 * the bounding set, the other capability sets and no_new_privs. */
#pragma once

#include "sandbox/sandbox-exec.h"

#include <sys/types.h>

/* As real root (x->privileged) set the supplementary groups to groups (n of
 * them), then the plan's gid and uid, real, effective and saved. Leaves with
 * the setup failure code on failure. Async-signal-safe. */
void sandbox_privs_switch_ids(const struct sandbox_exec *x, const gid_t *groups, int n);

/* Leave with the setup failure code unless every uid and gid is the plan's.
 * Async-signal-safe. */
void sandbox_privs_verify_ids(const struct sandbox_exec *x);

/* Drop every capability from the bounding set (needs CAP_SETPCAP).
 * Async-signal-safe. */
void sandbox_privs_drop_bounding(const struct sandbox_exec *x);

/* Clear the ambient, permitted, effective and inheritable sets, then set
 * no_new_privs. Async-signal-safe. */
void sandbox_privs_drop_caps(const struct sandbox_exec *x);
