/* struct sandbox_plan: everything a sandbox is, built in the parent before any
 * fork. The builders here are pure (no system calls); sandbox_plan_compile()
 * then resolves the host side (bind sources, ids, the root's mount point) and
 * lays the plan out as flat, ready-to-use data for the child half. */
#pragma once

#include "base/base-error.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

struct sock_fprog;

/* Mount operations, applied in order inside the new root. */
enum sandbox_op_kind {
        SANDBOX_OP_BIND = 1, /* src (host path) on dst; flags: RO, DEV, TRY */
        SANDBOX_OP_TMPFS,    /* a fresh tmpfs on dst with mode */
        SANDBOX_OP_DIR,      /* mkdir -p dst with mode */
        SANDBOX_OP_SYMLINK,  /* dst -> src (the link's text) */
        SANDBOX_OP_FILE,     /* dst holding data (generated, e.g. /etc/passwd) */
        SANDBOX_OP_PROC,     /* a fresh procfs of the sandbox's PID namespace on dst */
        SANDBOX_OP_DEVPTS,   /* a private devpts instance; host /dev/pts where unsupported */
};

#define SANDBOX_BIND_RO (1u << 0)  /* read-only (recursively) */
#define SANDBOX_BIND_DEV (1u << 1) /* device nodes usable (no nodev) */
#define SANDBOX_BIND_TRY (1u << 2) /* a missing source skips the operation */
/* set by sandbox_plan_compile() */
#define SANDBOX_OP_SKIP (1u << 8)   /* optional source missing: nothing to do */
#define SANDBOX_OP_SRCDIR (1u << 9) /* the source is a directory */

struct sandbox_op {
        enum sandbox_op_kind kind;
        unsigned flags;
        char *src;  /* bind: host path as given, then resolved; symlink: link text */
        char *dst;  /* normalised absolute path inside the sandbox */
        char *data; /* file contents */
        size_t data_len;
        mode_t mode;
};

/* cgroup leaves beyond the first that the helper joins (sandbox-cgroup.c) */
#define SANDBOX_CGROUP_MORE 4

/* Plan-wide flags */
#define SANDBOX_SHARE_NET (1u << 0) /* keep the host's network namespace */
/* No namespaces and no new root, for hosts that cannot make them (cloister
 * build's sandbox = false): the command sees the host; it still gets the
 * plan's identity (as real root, host_uid/host_gid), rlimits, seccomp,
 * cgroups, no_new_privs, the parent-death signal and a new session, and the
 * plan may hold no mount operations. sandbox-nons.c */
#define SANDBOX_NO_NAMESPACES (1u << 1)

struct sandbox_plan {
        struct sandbox_op *ops;
        size_t n_ops, cap_ops;
        char **env; /* "K=V", NULL-terminated; starts empty */
        size_t n_env;
        char **argv; /* NULL-terminated; argv[0] is the command */
        size_t n_argv;
        /* the file executed when it is not argv[0] (Nix passes a builder its
         * basename as argv[0]); a path with a '/', no PATH search; NULL: argv[0] */
        char *exec_path;
        uid_t uid, host_uid; /* inside; on the host when really root */
        gid_t gid, host_gid;
        int host_ids_set; /* host_uid/host_gid given; else the host's 'nobody' */
        char *hostname;
        char *domainname;
        char *chdir; /* inside; default "/" */
        unsigned flags;
        int *keep_fds;
        size_t n_keep_fds;

        /* Hooks for the hardening layer; the child applies whatever is set,
         * with no allocation, right before exec (see sandbox-child.c). */
        const struct sock_fprog *seccomp; /* loaded last, after no_new_privs */
        int cgroup_procs_fd;              /* an open cgroup.procs of a leaf to join, or -1 */
        /* further leaves to join before the cgroup namespace is made (the v1
         * hierarchies of a hybrid host), -1 = none */
        int cgroup_procs_more[SANDBOX_CGROUP_MORE];
        /* the v2 leaf's directory: the helper is started in it with clone3
         * CLONE_INTO_CGROUP (then cgroup_procs_fd, the same leaf, is skipped),
         * or -1 */
        int cgroup_dir_fd;
        struct sandbox_rlimit {
                int resource;
                struct rlimit limit;
        } * rlimits;
        size_t n_rlimits;
        unsigned long personality; /* 0xffffffff: leave unchanged */
};

#define SANDBOX_DEFAULT_UID 1000
#define SANDBOX_DEFAULT_GID 100
#define SANDBOX_PERSONALITY_KEEP 0xffffffffUL

/* A plan with nothing in it: no mounts, empty environment, ids 1000/100,
 * hostname 'localhost', domainname '(none)'. */
int sandbox_plan_new(struct sandbox_plan **ret, struct cl_error *err);
void sandbox_plan_free(struct sandbox_plan *plan);
static inline void sandbox_plan_freep(struct sandbox_plan **p)
{
        sandbox_plan_free(*p);
}
#define _cleanup_sandbox_plan_ __attribute__((cleanup(sandbox_plan_freep)))

/* Normalise an absolute path lexically ("a//b/./c/../d" -> "/a/b/d"); a ".."
 * above the root is refused. A relative path is taken from the root. */
int sandbox_path_normalise(const char *path, char **ret, struct cl_error *err);

int sandbox_plan_add_bind(struct sandbox_plan *plan, const char *src, const char *dst,
                          unsigned flags, struct cl_error *err);
int sandbox_plan_add_tmpfs(struct sandbox_plan *plan, const char *dst, mode_t mode,
                           struct cl_error *err);
int sandbox_plan_add_dir(struct sandbox_plan *plan, const char *dst, mode_t mode,
                         struct cl_error *err);
int sandbox_plan_add_symlink(struct sandbox_plan *plan, const char *target, const char *dst,
                             struct cl_error *err);
int sandbox_plan_add_file(struct sandbox_plan *plan, const char *dst, const void *data, size_t len,
                          mode_t mode, struct cl_error *err);
int sandbox_plan_add_proc(struct sandbox_plan *plan, const char *dst, struct cl_error *err);
/* The standard /dev: a tmpfs with null zero full random urandom tty bound from
 * the host, fd/stdin/stdout/stderr links, /dev/shm, a private devpts and ptmx. */
int sandbox_plan_add_dev(struct sandbox_plan *plan, const char *dst, struct cl_error *err);
/* What every sandbox has unless told otherwise: /dev, /proc, /tmp. */
int sandbox_plan_add_defaults(struct sandbox_plan *plan, struct cl_error *err);

int sandbox_plan_setenv(struct sandbox_plan *plan, const char *key, const char *value,
                        struct cl_error *err);
int sandbox_plan_unsetenv(struct sandbox_plan *plan, const char *key, struct cl_error *err);
/* NULL if unset */
const char *sandbox_plan_getenv(const struct sandbox_plan *plan, const char *key);
int sandbox_plan_set_argv(struct sandbox_plan *plan, char *const *argv, struct cl_error *err);
/* Execute path (containing a '/') with the plan's argv, whose argv[0] may then
 * be any string. */
int sandbox_plan_set_exec_path(struct sandbox_plan *plan, const char *path, struct cl_error *err);
int sandbox_plan_set_hostname(struct sandbox_plan *plan, const char *name, struct cl_error *err);
int sandbox_plan_set_chdir(struct sandbox_plan *plan, const char *dir, struct cl_error *err);
int sandbox_plan_keep_fd(struct sandbox_plan *plan, int fd, struct cl_error *err);

/* The text of /etc/passwd and /etc/group for the plan's ids (malloc'd). */
int sandbox_plan_render_passwd(const struct sandbox_plan *plan, char **ret_passwd, char **ret_group,
                               struct cl_error *err);

/* The facts about the host that compilation needs; sandbox_host_probe() reads
 * them, tests make them up. */
struct sandbox_host {
        uid_t euid;
        gid_t egid;
        int host_root;    /* our euid is the host's root, in whatever user namespace */
        int privileged;   /* the host's root, free to map other ids: euid 0 in the
                           * initial namespace, or in one where setgroups is allowed */
        char uid_map[512], gid_map[512]; /* ours, when host_root */
        int cap_last_cap; /* /proc/sys/kernel/cap_last_cap */
        uid_t nobody_uid;
        gid_t nobody_gid;
        pid_t pid;
};

int sandbox_host_probe(struct sandbox_host *host, struct cl_error *err);
/* Whether a uid_map's text is the identity map of the initial namespace. */
int sandbox_uid_map_is_full(const char *text);
/* Whether a uid_map or gid_map's text maps id (as seen from inside); if so
 * *ret_outside (when not NULL) is the id it stands for one namespace up. */
int sandbox_id_map_lookup(const char *text, unsigned long id, unsigned long *ret_outside);
