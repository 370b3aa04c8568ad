/* The sandbox's seccomp allowlist, compiled with libseccomp into classic BPF
 * programs that the child loads without allocating (sandbox_harden_child_seccomp
 * in sandbox-harden-child.h). Compiling costs ~20 ms (libseccomp's export for
 * three ABIs), far over the per-sandbox budget, so it is done once at build
 * time by cloister-seccomp-gen from these same rules and linked in. */
#pragma once

#include "base/base-error.h"

#include <linux/filter.h>

/* A compiled filter; prog.filter is owned by the struct (malloc'd by
 * sandbox_seccomp_compile, static in the built-in one). */
struct sandbox_seccomp {
        struct sock_fprog prog;
};

/* Compile the allowlist for the native ABI and every compat ABI the host
 * runs (x86-64 + x32 + i386; aarch64 + arm). Returns 0 or -errno. */
int sandbox_seccomp_compile(struct sandbox_seccomp *ret, struct cl_error *err);

/* The programs compiled at build time (sandbox-seccomp-bpf.c, generated):
 * shared read-only by every plan. */
const struct sandbox_seccomp *sandbox_seccomp_builtin(void);

void sandbox_seccomp_free(struct sandbox_seccomp *s);

/* The filter in libseccomp's readable form (for debugging and tests),
 * written to fd. */
int sandbox_seccomp_export_pfc(int fd, struct cl_error *err);
