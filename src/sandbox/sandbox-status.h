/* The JSON status stream (--json-status-fd): one object when the command has
 * started, one when the sandbox has ended. Written with jansson. */
#pragma once

#include "base/base-error.h"
#include "sandbox/sandbox-run.h"

#include <stdint.h>

/* {"child-pid": N, "user-namespace": INODE, ...} for the running sandbox. */
int sandbox_status_write_start(int fd, const struct sandbox *sb, struct cl_error *err);
/* {"exit-code": N | "signal": N, "wall-time": S, "user-time": S,
 *  "system-time": S, "max-rss": KB [, "setup-error": MSG]} */
int sandbox_status_write_exit(int fd, const struct sandbox_result *res, struct cl_error *err);

/* What the hardening layer adds to the exit object (sandbox-harden.h). */
struct sandbox_status_extra {
        const char *limit; /* "timeout", "max-silent-time", "max-output", "memory-max" or NULL */
        int have_cgroup_cpu;
        double cgroup_user_time, cgroup_system_time; /* seconds */
        int have_memory_peak;
        uint64_t memory_peak; /* bytes, from the memory controller */
        uint64_t oom_kills, pids_max_hits;
        uint64_t output_bytes;
        int have_output;
};
/* The exit object with "limit" (null when none fired), "cgroup-user-time",
 * "cgroup-system-time", "memory-peak" (bytes: the memory controller's peak,
 * else max-rss * 1024), "memory-peak-source" ("cgroup" or "rusage"),
 * "oom-kills", "pids-max-hits" and "output-bytes" added; extra may be NULL. */
int sandbox_status_write_exit_extra(int fd, const struct sandbox_result *res,
                                    const struct sandbox_status_extra *extra,
                                    struct cl_error *err);
