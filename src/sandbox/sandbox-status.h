/* The JSON status stream (--json-status-fd): one object when the command has
 * started, one when the sandbox has ended. Written with jansson. */
#pragma once

#include "base/base-error.h"
#include "sandbox/sandbox-run.h"

/* {"child-pid": N, "user-namespace": INODE, ...} for the running sandbox. */
int sandbox_status_write_start(int fd, const struct sandbox *sb, struct cl_error *err);
/* {"exit-code": N | "signal": N, "wall-time": S, "user-time": S,
 *  "system-time": S, "max-rss": KB [, "setup-error": MSG]} */
int sandbox_status_write_exit(int fd, const struct sandbox_result *res, struct cl_error *err);
