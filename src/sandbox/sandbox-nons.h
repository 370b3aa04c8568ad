/* The parent's side of a plan without namespaces (SANDBOX_NO_NAMESPACES):
 * check that the host can end such a sandbox as a whole and lay the
 * identity out for the child half (sandbox-nons-child.c). */
#pragma once

#include "base/base-error.h"
#include "sandbox/sandbox-exec.h"

/* Called by sandbox_exec_compile with the host ids the command runs as (the
 * build user as real root, else the caller's). */
int sandbox_nons_compile(struct sandbox_exec *x, const struct sandbox_plan *plan, uid_t host_uid,
                         gid_t host_gid, struct cl_error *err);
