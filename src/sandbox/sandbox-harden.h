/* The hardening layer of a sandbox run, parent side: puts the seccomp filter,
 * rlimits, personality and cgroup leaves into a plan; relays the command's
 * output and runs the time, silence and output limits in the event loop; and
 * at the end reads the accounting, kills and removes the cgroups. */
#pragma once

#include "base/base-error.h"
#include "sandbox/sandbox-cgroup.h"
#include "sandbox/sandbox-limits.h"
#include "sandbox/sandbox-loop.h"
#include "sandbox/sandbox-plan.h"
#include "sandbox/sandbox-run.h"

#include <stdint.h>

struct sandbox_harden {
        struct sandbox_limits limits;
        struct sandbox_cgroup cg;
        int procs_fds[SANDBOX_CG_NKINDS]; /* cgroup.procs of each leaf, until spawned */
        int cgroups_unavailable;          /* no writable hierarchy or controller: why says */
        struct cl_error why;

        /* while running */
        struct sandbox *sb;
        struct sandbox_loop *loop;
        int relay[2];    /* read ends of the command's stdout and stderr pipes, -1 */
        int relay_to[2]; /* where they go: this process's 1 and 2 */
        uint64_t output_bytes;
        uint64_t start_ns, last_output_ns;
        enum sandbox_limit_fired fired;
        int kill_pending; /* a limit fired before PID 1 was known */
};

/* What the end of a run looked like, for the message and the JSON status. */
struct sandbox_harden_report {
        enum sandbox_limit_fired fired; /* NONE, or which limit ended the sandbox */
        struct sandbox_cgroup_stats stats;
        int have_cgroup;
        uint64_t output_bytes;
};

void sandbox_harden_init(struct sandbox_harden *h);

/* Fill plan's hardening hooks from l (copied) and make the cgroups (below
 * cgroup_parent, or the caller's own cgroup when NULL). When no cgroup can
 * be made, returns 0 with h->cgroups_unavailable set and h->why saying why
 * (the caller warns once: sandbox_cgroup_warn_once) and the memory and pids
 * limits become rlimits. Returns -errno on bad input, nothing left behind. */
int sandbox_harden_apply(struct sandbox_harden *h, struct sandbox_plan *plan,
                         const struct sandbox_limits *l, const char *cgroup_parent,
                         struct cl_error *err);

/* sandbox_spawn, with the command's stdout and stderr going through pipes
 * that the parent relays when a silence or output limit needs to see them. */
int sandbox_harden_spawn(struct sandbox_harden *h, struct sandbox_plan *plan,
                         struct sandbox **ret, struct cl_error *err);

/* Add the relays and the timers to loop (before sandbox_wait). */
int sandbox_harden_watch(struct sandbox_harden *h, struct sandbox_loop *loop,
                         struct cl_error *err);

/* Call from sandbox_wait's started callback. */
void sandbox_harden_started(struct sandbox_harden *h);

/* After sandbox_wait: drain the relays, read accounting, kill and remove the
 * cgroups. Returns 0 or the first cleanup error (the report is filled). */
int sandbox_harden_finish(struct sandbox_harden *h, const struct sandbox_result *res,
                          struct sandbox_harden_report *rep, struct cl_error *err);

/* Release everything (cgroups included, if finish was not reached). */
void sandbox_harden_free(struct sandbox_harden *h);

/* The sentence for a fired limit ("the command produced no output for 2s
 * (--max-silent-time)"), or NULL. */
int sandbox_harden_describe(const struct sandbox_harden *h,
                            const struct sandbox_harden_report *rep, const struct sandbox_result *res,
                            char *buf, size_t size);
