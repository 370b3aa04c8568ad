/* The sandbox's seccomp allowlist, compiled with libseccomp into classic BPF
 * programs that the child loads without allocating. Compiling costs ~20 ms
 * (libseccomp's export for three ABIs), far over the per-sandbox budget, so it
 * is done once at build time by cloister-seccomp-gen from these same rules
 * and linked in: one program per set of ABIs the host can run, since loading
 * costs about half a microsecond per instruction and most hosts run no x32
 * code (and some no i386 code either), whose rules need not be carried. */
#pragma once

#include "base/base-error.h"

#include <linux/filter.h>
#include <stdint.h>

/* A compiled filter; prog.filter is owned by the struct (malloc'd by
 * sandbox_seccomp_compile, static in the built-in ones). */
struct sandbox_seccomp {
        struct sock_fprog prog;
};

/* The ABIs of the host architecture, the native one first: x86-64, x32,
 * i386 on x86-64; aarch64, arm on aarch64. Bit a of an ABI set is
 * sandbox_seccomp_abis[a]. */
#if defined(__x86_64__)
#define SANDBOX_SECCOMP_N_ABIS 3
#elif defined(__aarch64__)
#define SANDBOX_SECCOMP_N_ABIS 2
#else
#error "cloister's seccomp filter covers x86-64 and aarch64 hosts"
#endif
struct sandbox_seccomp_abi {
        const char *name;
        uint32_t scmp_arch;  /* libseccomp's token */
        uint32_t audit_arch; /* seccomp_data.arch */
        int x32_range;       /* x86-64: -1 numbers below __X32_SYSCALL_BIT, 1 from it on */
};
extern const struct sandbox_seccomp_abi sandbox_seccomp_abis[SANDBOX_SECCOMP_N_ABIS];

/* Compile the allowlist with the rules of every ABI in abis (a bit set; the
 * native ABI, bit 0, is required); the architecture's other ABIs are kept in
 * the program but every call of theirs fails with ENOSYS, and a foreign
 * architecture kills the process. Returns 0 or -errno. */
int sandbox_seccomp_compile(unsigned abis, struct sandbox_seccomp *ret, struct cl_error *err);

/* The programs compiled at build time (sandbox-seccomp-bpf.c, generated),
 * one per ABI set with bit 0 set: shared read-only by every plan. */
const struct sandbox_seccomp *sandbox_seccomp_builtin_for(unsigned abis);

/* The ABIs this host can run, probed once per process (x86-64: an x32
 * getpid, and an i386 getpid through int 0x80 under a moment's SIGSEGV
 * handler); a process already under a seccomp filter does not probe and
 * keeps every ABI. A wrong "cannot run" only makes that ABI's calls fail; it
 * never lets one through. */
unsigned sandbox_seccomp_host_abis(void);

/* sandbox_seccomp_builtin_for(sandbox_seccomp_host_abis()) */
const struct sandbox_seccomp *sandbox_seccomp_builtin(void);

void sandbox_seccomp_free(struct sandbox_seccomp *s);

/* The filter in libseccomp's readable form (for debugging and tests): each
 * ABI's rules, written to fd. */
int sandbox_seccomp_export_pfc(int fd, struct cl_error *err);
