/* Compiling a plan for the child: bind sources resolved (a missing one is an
 * error naming it, before any fork), /etc/passwd and /etc/group generated,
 * the uid/gid maps rendered, PATH searched into a list of candidates, the
 * host directory for the new root chosen. The child then only reads. */
#include "sandbox/sandbox-exec.h"

#include "base/base-cleanup.h"
#include "sandbox/sandbox-nons.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where the new root's tmpfs may be mounted (in the sandbox's own mount
 * namespace, so the host sees nothing): the first of these that is a real
 * directory and holds no bind source. No temporary directory is needed. */
static const char *const root_mount_candidates[] = {
    "/tmp",  "/mnt",  "/run",  "/media", "/srv", "/opt", "/var",
    "/home", "/root", "/boot", "/etc",   "/usr", "/sys",
};

#define SANDBOX_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

void sandbox_exec_free(struct sandbox_exec *x)
{
        if (!x)
                return;
        if (x->ops) {
                /* only the generated ops own their strings; the plan's are borrowed */
                for (size_t i = x->plan->n_ops; i < x->n_ops; i++) {
                        free(x->ops[i].dst);
                        free(x->ops[i].data);
                }
        }
        free(x->ops);
        free(x->bind_trees);
        free(x->root_mount);
        for (size_t i = 0; i < x->n_exec_paths; i++)
                free(x->exec_paths[i]);
        free(x->exec_paths);
        free(x->helper_fds);
        free(x->keep_fds);
        free(x);
}

static void exec_freep(struct sandbox_exec **x)
{
        sandbox_exec_free(*x);
}

/* Is a (normalised, absolute) an ancestor of or equal to b? */
static int path_covers(const char *a, const char *b)
{
        if (strcmp(a, "/") == 0)
                return 1;
        size_t n = strlen(a);
        return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

static int resolve_sources(struct sandbox_plan *plan, struct cl_error *err)
{
        for (size_t i = 0; i < plan->n_ops; i++) {
                struct sandbox_op *op = &plan->ops[i];
                if (op->kind != SANDBOX_OP_BIND)
                        continue;
                op->flags &= ~(SANDBOX_OP_SKIP | SANDBOX_OP_SRCDIR);
                char *real = realpath(op->src, NULL);
                if (!real) {
                        if (errno == ENOENT && (op->flags & SANDBOX_BIND_TRY)) {
                                op->flags |= SANDBOX_OP_SKIP;
                                continue;
                        }
                        return cl_err(err, errno, "bind mount '%s' on '%s'", op->src, op->dst);
                }
                struct stat st;
                if (stat(real, &st) < 0) {
                        int e = errno;
                        free(real);
                        return cl_err(err, e, "bind mount '%s' on '%s'", op->src, op->dst);
                }
                if (S_ISDIR(st.st_mode))
                        op->flags |= SANDBOX_OP_SRCDIR;
                free(op->src);
                op->src = real;
        }
        return 0;
}

static int choose_root_mount(const struct sandbox_plan *plan, char **ret, struct cl_error *err)
{
        for (size_t c = 0; c < ELEMENTSOF(root_mount_candidates); c++) {
                const char *cand = root_mount_candidates[c];
                struct stat st;
                if (lstat(cand, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                int used = 0;
                for (size_t i = 0; i < plan->n_ops && !used; i++) {
                        const struct sandbox_op *op = &plan->ops[i];
                        if (op->kind == SANDBOX_OP_BIND && !(op->flags & SANDBOX_OP_SKIP) &&
                            path_covers(cand, op->src))
                                used = 1;
                }
                if (!used) {
                        *ret = strdup(cand);
                        return *ret ? 0 : cl_err(err, ENOMEM, "plan");
                }
        }
        return cl_errx(err, EBUSY,
                       "no host directory to mount the new root on: every candidate "
                       "holds a bind source");
}

/* Generate /etc/passwd and /etc/group unless the plan provides its own. */
static int add_generated(struct sandbox_exec *x, const struct sandbox_plan *plan,
                         struct cl_error *err)
{
        static const char *const names[] = {"/etc/passwd", "/etc/group"};
        char *texts[2] = {NULL, NULL};
        int r = sandbox_plan_render_passwd(plan, &texts[0], &texts[1], err);
        if (r < 0)
                return r;
        for (size_t f = 0; f < 2; f++) {
                int provided = 0;
                for (size_t i = 0; i < plan->n_ops; i++) {
                        const struct sandbox_op *op = &plan->ops[i];
                        if (op->flags & SANDBOX_OP_SKIP)
                                continue;
                        if (strcmp(op->dst, names[f]) == 0 ||
                            ((op->kind == SANDBOX_OP_BIND || op->kind == SANDBOX_OP_SYMLINK) &&
                             path_covers(op->dst, names[f])))
                                provided = 1;
                }
                if (provided) {
                        free(texts[f]);
                        continue;
                }
                char *dst = strdup(names[f]);
                if (!dst) {
                        free(texts[f]);
                        continue;
                }
                x->ops[x->n_ops++] = (struct sandbox_op){
                    .kind = SANDBOX_OP_FILE,
                    .dst = dst,
                    .data = texts[f],
                    .data_len = strlen(texts[f]),
                    .mode = 0644,
                };
        }
        return 0;
}

static int add_exec_paths(struct sandbox_exec *x, const struct sandbox_plan *plan,
                          struct cl_error *err)
{
        const char *cmd = plan->exec_path ? plan->exec_path : plan->argv[0];
        if (strchr(cmd, '/')) {
                x->exec_paths = calloc(1, sizeof(char *));
                if (!x->exec_paths || !(x->exec_paths[0] = strdup(cmd)))
                        return cl_err(err, ENOMEM, "plan");
                x->n_exec_paths = 1;
                return 0;
        }
        const char *path = sandbox_plan_getenv(plan, "PATH");
        if (!path)
                path = SANDBOX_DEFAULT_PATH;
        size_t n = 1;
        for (const char *p = path; *p; p++)
                n += *p == ':';
        x->exec_paths = calloc(n, sizeof(char *));
        if (!x->exec_paths)
                return cl_err(err, ENOMEM, "plan");
        const char *p = path;
        for (;;) {
                const char *end = strchrnul(p, ':');
                int len = (int)(end - p);
                char *cand = NULL;
                /* an empty element is the current directory, as in execvp */
                if (asprintf(&cand, "%.*s/%s", len ? len : 1, len ? p : ".", cmd) < 0)
                        return cl_err(err, ENOMEM, "plan");
                x->exec_paths[x->n_exec_paths++] = cand;
                if (!*end)
                        break;
                p = end + 1;
        }
        return 0;
}

static int cmp_int(const void *a, const void *b)
{
        int x = *(const int *)a, y = *(const int *)b;
        return (x > y) - (x < y);
}

int sandbox_exec_compile(struct sandbox_plan *plan, const struct sandbox_host *host,
                         struct sandbox_exec **ret, struct cl_error *err)
{
        if (!plan->argv || !plan->argv[0])
                return cl_errx(err, EINVAL, "no command given");
        _cleanup_(exec_freep) struct sandbox_exec *x = calloc(1, sizeof(*x));
        if (!x)
                return cl_err(err, ENOMEM, "plan");
        x->plan = plan;
        x->err_fd = x->report_fd = -1;

        int r = resolve_sources(plan, err);
        if (r < 0)
                return r;
        x->ops = calloc(plan->n_ops + 2, sizeof(*x->ops));
        x->bind_trees = malloc((plan->n_ops + 2) * sizeof(*x->bind_trees));
        if (!x->ops || !x->bind_trees)
                return cl_err(err, ENOMEM, "plan");
        for (size_t i = 0; i < plan->n_ops + 2; i++)
                x->bind_trees[i] = -1;
        if (plan->n_ops)
                memcpy(x->ops, plan->ops, plan->n_ops * sizeof(*x->ops));
        x->n_ops = plan->n_ops;
        r = add_generated(x, plan, err);
        if (r < 0)
                return r;
        r = choose_root_mount(plan, &x->root_mount, err);
        if (r < 0)
                return r;
        r = add_exec_paths(x, plan, err);
        if (r < 0)
                return r;

        x->unshare_flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
                           CLONE_NEWUTS | CLONE_NEWCGROUP;
        if (!(plan->flags & SANDBOX_SHARE_NET))
                x->unshare_flags |= CLONE_NEWNET;
        x->privileged = host->privileged;
        x->cap_last_cap = host->cap_last_cap;
        x->uid = plan->uid;
        x->gid = plan->gid;
        x->parent_pid = host->pid;
        x->envp = plan->env;
        x->argv = plan->argv;

        /* As real root the sandbox's ids are an unprivileged host user; as
         * anyone else (root in a user namespace included) the caller's own
         * ids, with setgroups denied, which is all the kernel allows. */
        uid_t host_uid = host->euid;
        gid_t host_gid = host->egid;
        if (host->privileged) {
                host_uid = plan->host_ids_set ? plan->host_uid : host->nobody_uid;
                host_gid = plan->host_ids_set ? plan->host_gid : host->nobody_gid;
        }
        if (host->privileged && (host_uid == 0 || host_gid == 0))
                return cl_errx(err, EPERM, "refusing to run the sandbox as host root");
        if (host->host_root && !host->privileged)
                return cl_errx(err, EPERM,
                               "refusing to run the sandbox as host root: cloister's uid %u "
                               "may be the host's root (it owns /proc/sys/kernel/cap_last_cap, "
                               "which belongs to the host's root), and it cannot switch to "
                               "another user in this user namespace (not root there, or "
                               "setgroups denied); run it as root outside the namespace, or as "
                               "an ordinary user",
                               (unsigned)host->euid);
        unsigned long up_uid = 0, up_gid = 0;
        if (host->privileged && (!sandbox_id_map_lookup(host->uid_map, host_uid, &up_uid) ||
                                 !sandbox_id_map_lookup(host->gid_map, host_gid, &up_gid)))
                return cl_errx(err, EPERM,
                               "refusing to run the sandbox as host root: the host user %u:%u "
                               "it would run as is not mapped in cloister's user namespace "
                               "(choose one that is with --host-uid and --host-gid)",
                               (unsigned)host_uid, (unsigned)host_gid);
        /* in a nested namespace another id than 0 may stand for root above */
        if (host->privileged && (up_uid == 0 || up_gid == 0))
                return cl_errx(err, EPERM,
                               "refusing to run the sandbox as host root: the host user %u:%u "
                               "it would run as is root in the user namespace above cloister's "
                               "(choose another with --host-uid and --host-gid)",
                               (unsigned)host_uid, (unsigned)host_gid);
        snprintf(x->uid_map, sizeof(x->uid_map), "%u %u 1\n", (unsigned)plan->uid,
                 (unsigned)host_uid);
        snprintf(x->gid_map, sizeof(x->gid_map), "%u %u 1\n", (unsigned)plan->gid,
                 (unsigned)host_gid);
        x->setgroups_deny = !host->privileged;
        if (plan->flags & SANDBOX_NO_NAMESPACES) {
                r = sandbox_nons_compile(x, plan, host_uid, host_gid, err);
                if (r < 0)
                        return r;
        }

        x->keep_fds = calloc(plan->n_keep_fds + 1, sizeof(int));
        if (!x->keep_fds)
                return cl_err(err, ENOMEM, "plan");
        for (size_t i = 0; i < plan->n_keep_fds; i++) {
                int fd = plan->keep_fds[i];
                if (fcntl(fd, F_GETFD) < 0)
                        return cl_err(err, errno, "keep file descriptor %d", fd);
                if (fd > 2)
                        x->keep_fds[x->n_keep_fds++] = fd;
        }
        qsort(x->keep_fds, x->n_keep_fds, sizeof(int), cmp_int);
        /* room for 0 1 2, the kept ones, two pipe ends and the cgroup fds */
        x->helper_fds = calloc(x->n_keep_fds + 8 + SANDBOX_CGROUP_MORE, sizeof(int));
        if (!x->helper_fds)
                return cl_err(err, ENOMEM, "plan");
        *ret = TAKE_PTR(x);
        return 0;
}
