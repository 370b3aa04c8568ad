/* The hardening half of a sandbox plan: resource limits (cgroup and rlimit),
 * time and output limits, personality, umask and the seccomp switch, with the
 * parsers that turn option text into them. Pure plan-side code:
 * sandbox-harden.c puts the result into a struct sandbox_plan. */
#pragma once

#include "base/base-error.h"
#include "sandbox/sandbox-plan.h"

#include <stdint.h>
#include <sys/resource.h>

/* Personality bits cloister sets; values as in <sys/personality.h>. */
#define SANDBOX_PER_LINUX32 0x0008u
#define SANDBOX_PER_UNAME26 0x0020000u
#define SANDBOX_PER_ADDR_NO_RANDOMIZE 0x0040000u

/* Which limit ended a sandbox (for the message and the JSON status). */
enum sandbox_limit_fired {
        SANDBOX_LIMIT_NONE = 0,
        SANDBOX_LIMIT_TIMEOUT,
        SANDBOX_LIMIT_SILENCE,
        SANDBOX_LIMIT_OUTPUT,
        SANDBOX_LIMIT_MEMORY,
        SANDBOX_LIMIT_PIDS,
};

struct sandbox_limits {
        /* cgroup limits, 0 = none */
        uint64_t memory_max;    /* bytes */
        uint64_t pids_max;      /* tasks */
        uint64_t cpu_quota_us;  /* per period */
        uint64_t cpu_period_us; /* 100000 unless given */
        /* rlimits (struct sandbox_rlimit of sandbox-plan.h), each resource at
         * most once: a later option replaces an earlier one */
        struct sandbox_rlimit rlimits[RLIM_NLIMITS];
        unsigned n_rlimits;
        /* wall-clock, silence and output limits watched by the parent, 0 = none */
        uint64_t timeout_ms;
        uint64_t max_silent_ms;
        uint64_t max_output; /* bytes of stdout + stderr */
        /* value for personality(2) in the child: PER_LINUX plus flags */
        unsigned long personality;
        unsigned umask; /* 022 */
        int seccomp;    /* 1 = load the allowlist filter (the default) */
};

/* Defaults: core size 0, ASLR off, umask 022, seccomp on, no other limit. */
void sandbox_limits_init(struct sandbox_limits *l);

/* "512M", "2G", "1048576", "1.5G", "max" (-> UINT64_MAX); K/M/G/T are powers
 * of 1024, an optional trailing "B" or "iB" is accepted. */
int sandbox_parse_size(const char *s, uint64_t *ret, struct cl_error *err);

/* A duration in seconds: "10", "0.5", "2m", "1h", "30s"; result in ms, > 0. */
int sandbox_parse_seconds(const char *s, uint64_t *ret_ms, struct cl_error *err);

/* A plain count: "64", "max". */
int sandbox_parse_count(const char *s, uint64_t *ret, struct cl_error *err);

/* "--cpu-max": "1.5" (CPUs), "50%" (of one CPU) or "QUOTA/PERIOD" in µs. */
int sandbox_limits_set_cpu(struct sandbox_limits *l, const char *s, struct cl_error *err);

/* "--rlimit NAME=VALUE[:HARD]": NAME as in prlimit(1) (core, nofile, as, ...)
 * or RLIMIT_CORE; VALUE a size/count or "unlimited". */
int sandbox_limits_set_rlimit(struct sandbox_limits *l, const char *s, struct cl_error *err);

/* Returns the rlimit entry for resource or NULL. */
const struct sandbox_rlimit *sandbox_limits_get_rlimit(const struct sandbox_limits *l,
                                                       int resource);

/* "--personality": "linux" or "linux32" (also "i686", "i386", "x86"). */
int sandbox_limits_set_personality(struct sandbox_limits *l, const char *s,
                                   struct cl_error *err);

/* The name used in messages and JSON for a fired limit ("timeout", ...). */
const char *sandbox_limit_name(enum sandbox_limit_fired f);
