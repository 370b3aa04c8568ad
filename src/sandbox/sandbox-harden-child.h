/* The child's half of the hardening plan: rlimits, personality, umask and the
 * seccomp filter, applied between fork and exec. Async-signal-safe: raw
 * system calls on data the parent prepared, no allocation, no stdio. */
#pragma once

#include "sandbox/sandbox-limits.h"

#include "sandbox/sandbox-seccomp.h"

/* Steps, for the child's {step, errno} failure record. */
enum sandbox_harden_step {
        SANDBOX_HARDEN_STEP_RLIMIT = 1,
        SANDBOX_HARDEN_STEP_PERSONALITY,
        SANDBOX_HARDEN_STEP_NO_NEW_PRIVS,
        SANDBOX_HARDEN_STEP_SECCOMP,
};

/* Set every rlimit, the personality and the umask. Async-signal-safe.
 * Returns 0, or -errno with *ret_step set. */
int sandbox_harden_child_limits(const struct sandbox_limits *l, int *ret_step);

/* Set no_new_privs and load both programs of s (NULL: nothing to load). Call it last before
 * execve: every system call after it is filtered. Async-signal-safe.
 * Returns 0, or -errno with *ret_step set. */
int sandbox_harden_child_seccomp(const struct sandbox_seccomp *s, int *ret_step);
