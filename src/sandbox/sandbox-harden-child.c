/* Applying the hardening plan in the child, between fork and exec: raw
 * system calls only (async-signal-safe), so it is safe after clone() in a
 * process that had threads. */
#include "sandbox/sandbox-harden-child.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int sandbox_harden_child_limits(const struct sandbox_limits *l, int *ret_step)
{
        /* Async-signal-safe. */
        for (unsigned i = 0; i < l->n_rlimits; i++) {
                if (setrlimit(l->rlimits[i].resource, &l->rlimits[i].lim) < 0) {
                        *ret_step = SANDBOX_HARDEN_STEP_RLIMIT;
                        return -errno;
                }
        }
        /* personality() returns the old value, or -1 with errno on failure;
         * a kernel without 32-bit support refuses PER_LINUX32 with EINVAL */
        if (personality(l->personality) < 0) {
                *ret_step = SANDBOX_HARDEN_STEP_PERSONALITY;
                return -errno;
        }
        umask((mode_t)l->umask);
        return 0;
}

int sandbox_harden_child_seccomp(const struct sandbox_seccomp *s, int *ret_step)
{
        /* Async-signal-safe. no_new_privs is what lets an unprivileged process
         * load a filter; it also keeps setuid binaries from gaining rights. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                *ret_step = SANDBOX_HARDEN_STEP_NO_NEW_PRIVS;
                return -errno;
        }
        if (!s)
                return 0;
        /* the terminal filter first: once the allowlist is in, seccomp(2)
         * itself is still allowed, but fewer calls in between is simpler */
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &s->tty_prog) < 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &s->prog) < 0) {
                *ret_step = SANDBOX_HARDEN_STEP_SECCOMP;
                return -errno;
        }
        return 0;
}
