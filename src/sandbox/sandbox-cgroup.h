/* Per-sandbox cgroups: one leaf below the caller's own cgroup (or a configured
 * parent) in the v2 hierarchy and in the v1 hierarchies that carry the
 * controllers a limit needs, limits written before the sandbox starts,
 * accounting read after it ends, and kill + rmdir of everything made. */
#pragma once

#include "base/base-error.h"
#include "sandbox/sandbox-limits.h"

#include <stdint.h>
#include <sys/types.h>

/* What a sandbox's cgroups could provide (bits of sandbox_cgroup.have). */
#define SANDBOX_CG_KILL (1u << 0)   /* v2 cgroup.kill */
#define SANDBOX_CG_CPU (1u << 1)    /* cpu accounting */
#define SANDBOX_CG_MEMORY (1u << 2) /* memory limit and peak */
#define SANDBOX_CG_PIDS (1u << 3)   /* pids limit */
#define SANDBOX_CG_CPUMAX (1u << 4) /* cpu bandwidth limit */

enum sandbox_cg_kind {
        SANDBOX_CG_V2 = 0,
        SANDBOX_CG_V1_MEMORY,
        SANDBOX_CG_V1_PIDS,
        SANDBOX_CG_V1_CPU,
        SANDBOX_CG_V1_CPUACCT,
        SANDBOX_CG_NKINDS
};

struct sandbox_cgroup_dir {
        char *path; /* absolute path of the leaf made */
        int dfd;    /* O_PATH-free directory fd of the leaf */
        unsigned kinds; /* 1u << enum sandbox_cg_kind served by this dir */
};

struct sandbox_cgroup {
        struct sandbox_cgroup_dir dirs[SANDBOX_CG_NKINDS];
        unsigned n_dirs;
        int where[SANDBOX_CG_NKINDS]; /* index into dirs per kind, -1 = none */
        unsigned have;                /* SANDBOX_CG_* */
        unsigned v2_controllers;      /* SANDBOX_CG_* served by v2 */
};

struct sandbox_cgroup_stats {
        int have_cpu;
        uint64_t cpu_user_us, cpu_system_us;
        int have_memory_peak;
        uint64_t memory_peak; /* bytes */
        uint64_t oom_kills;   /* processes the memory limit killed */
        uint64_t pids_max_hits; /* forks refused by the pids limit */
};

/* Make the sandbox's cgroups for limits l. parent: NULL for the caller's own
 * cgroup in each hierarchy (read from /proc/self/cgroup), or a cgroup path
 * such as "/cloister.slice" taken in every hierarchy used.
 *
 * Returns 0 with *ret filled. When no hierarchy is writable and no parent
 * was configured, returns 0 with ret->n_dirs == 0 and a reason in *why
 * (the caller says so once, see sandbox_cgroup_warn_once, and falls back to
 * rlimits). Returns -errno on bad input or when a requested limit has no
 * controller; then nothing is left behind. */
int sandbox_cgroup_create(const struct sandbox_limits *l, const char *parent,
                          struct sandbox_cgroup *ret, struct cl_error *why,
                          struct cl_error *err);

/* For tests: find the hierarchies from these files (laid out like
 * /proc/self/mountinfo and /proc/self/cgroup) instead of /proc/self, and
 * forget what was found before; NULL, NULL goes back to /proc/self. The
 * strings are kept, not copied. */
void sandbox_cgroup_discover_from(const char *mountinfo, const char *self_cgroup);

/* Move pid (the sandbox's first process, before it forks) into every leaf. */
int sandbox_cgroup_attach(struct sandbox_cgroup *cg, pid_t pid, struct cl_error *err);

/* Read the accounting figures (call before sandbox_cgroup_destroy). */
int sandbox_cgroup_stats(const struct sandbox_cgroup *cg, struct sandbox_cgroup_stats *st);

/* Kill every process in the sandbox's cgroups: cgroup.kill where v2 has it,
 * otherwise rounds of SIGKILL over cgroup.procs (bounded). Returns 0, or
 * -EBUSY when processes remained. */
int sandbox_cgroup_kill(struct sandbox_cgroup *cg);

/* Kill, then rmdir every cgroup made and free. Safe on a zeroed struct and
 * after a failed create. Returns 0 or the first error. */
int sandbox_cgroup_destroy(struct sandbox_cgroup *cg, struct cl_error *err);

/* 1 the first time it is called in this process, 0 after: the "cgroup
 * limits unavailable" warning is said once, not per sandbox. */
int sandbox_cgroup_warn_once(void);

/* Copy limits the cgroups cannot enforce into rlimits (memory -> RLIMIT_AS,
 * pids -> RLIMIT_NPROC) unless set explicitly. Returns a bitmask of
 * SANDBOX_CG_* limits that have no equivalent (cpu). */
unsigned sandbox_cgroup_fallback_rlimits(const struct sandbox_cgroup *cg,
                                         struct sandbox_limits *l);
