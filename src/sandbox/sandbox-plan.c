/* Building a struct sandbox_plan: the pure part of the parent's half. Every
 * destination is normalised here, so that nothing the child does can be
 * steered outside the new root by "..", and the standard /dev, /proc and /tmp
 * are spelled out as ordinary operations. Plus the host probe (real root or
 * not) that compilation needs. */
#include "sandbox/sandbox-plan.h"

#include "base/base-buf.h"
#include "base/base-cleanup.h"
#include "base/base-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sandbox_plan_new(struct sandbox_plan **ret, struct cl_error *err)
{
        struct sandbox_plan *p = calloc(1, sizeof(*p));
        if (!p)
                return cl_err(err, ENOMEM, "sandbox plan");
        p->env = calloc(1, sizeof(char *));
        if (!p->env) {
                free(p);
                return cl_err(err, ENOMEM, "sandbox plan");
        }
        p->uid = SANDBOX_DEFAULT_UID;
        p->gid = SANDBOX_DEFAULT_GID;
        p->cgroup_procs_fd = -1;
        for (size_t i = 0; i < SANDBOX_CGROUP_MORE; i++)
                p->cgroup_procs_more[i] = -1;
        p->cgroup_dir_fd = -1;
        p->personality = SANDBOX_PERSONALITY_KEEP;
        *ret = p;
        return 0;
}

static void strv_free(char **v)
{
        if (!v)
                return;
        for (char **s = v; *s; s++)
                free(*s);
        free(v);
}

void sandbox_plan_free(struct sandbox_plan *plan)
{
        if (!plan)
                return;
        for (size_t i = 0; i < plan->n_ops; i++) {
                free(plan->ops[i].src);
                free(plan->ops[i].dst);
                free(plan->ops[i].data);
        }
        free(plan->ops);
        strv_free(plan->env);
        strv_free(plan->argv);
        free(plan->exec_path);
        free(plan->hostname);
        free(plan->domainname);
        free(plan->chdir);
        free(plan->keep_fds);
        free(plan->rlimits);
        free(plan);
}

int sandbox_path_normalise(const char *path, char **ret, struct cl_error *err)
{
        size_t len = strlen(path);
        if (len == 0)
                return cl_errx(err, EINVAL, "empty path");
        if (len >= 4096)
                return cl_err(err, ENAMETOOLONG, "path '%.64s...'", path);
        _cleanup_free_ char *out = malloc(len + 2);
        if (!out)
                return cl_err(err, ENOMEM, "path '%s'", path);
        size_t n = 0;
        const char *p = path;
        while (*p) {
                while (*p == '/')
                        p++;
                const char *end = p;
                while (*end && *end != '/')
                        end++;
                size_t clen = (size_t)(end - p);
                if (clen == 0 || (clen == 1 && p[0] == '.')) {
                        /* nothing */
                } else if (clen == 2 && p[0] == '.' && p[1] == '.') {
                        if (n == 0)
                                return cl_errx(err, EINVAL,
                                               "path '%s' leaves the sandbox root through '..'",
                                               path);
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        n--; /* the slash */
                } else {
                        out[n++] = '/';
                        memcpy(out + n, p, clen);
                        n += clen;
                }
                p = end;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

static int plan_push(struct sandbox_plan *plan, enum sandbox_op_kind kind, unsigned flags,
                     const char *src, const char *dst, mode_t mode, struct cl_error *err)
{
        _cleanup_free_ char *ndst = NULL;
        int r = sandbox_path_normalise(dst, &ndst, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *nsrc = NULL;
        if (src) {
                if (!*src)
                        return cl_errx(err, EINVAL, "empty source for '%s'", ndst);
                nsrc = strdup(src);
                if (!nsrc)
                        return cl_err(err, ENOMEM, "plan");
        }
        if (plan->n_ops == plan->cap_ops) {
                size_t cap = plan->cap_ops ? plan->cap_ops * 2 : 16;
                struct sandbox_op *ops = reallocarray(plan->ops, cap, sizeof(*ops));
                if (!ops)
                        return cl_err(err, ENOMEM, "plan");
                plan->ops = ops;
                plan->cap_ops = cap;
        }
        /* a tmpfs's options are made here, not on PID 1's stack: the kernel
         * reads a whole page of mount options, and from the top of a stack
         * that read runs into the guard page, two failing faults a mount */
        _cleanup_free_ char *data = NULL;
        if (kind == SANDBOX_OP_TMPFS && asprintf(&data, "mode=0%o", (unsigned)mode) < 0)
                return cl_err(err, ENOMEM, "plan");
        size_t data_len = data ? strlen(data) : 0;
        plan->ops[plan->n_ops++] = (struct sandbox_op){
            .kind = kind,
            .flags = flags,
            .src = TAKE_PTR(nsrc),
            .dst = TAKE_PTR(ndst),
            .data = TAKE_PTR(data),
            .data_len = data_len,
            .mode = mode,
        };
        return 0;
}

int sandbox_plan_add_bind(struct sandbox_plan *plan, const char *src, const char *dst,
                          unsigned flags, struct cl_error *err)
{
        flags &= SANDBOX_BIND_RO | SANDBOX_BIND_DEV | SANDBOX_BIND_TRY;
        return plan_push(plan, SANDBOX_OP_BIND, flags, src, dst, 0, err);
}

int sandbox_plan_add_tmpfs(struct sandbox_plan *plan, const char *dst, mode_t mode,
                           struct cl_error *err)
{
        return plan_push(plan, SANDBOX_OP_TMPFS, 0, NULL, dst, mode & 07777, err);
}

int sandbox_plan_add_dir(struct sandbox_plan *plan, const char *dst, mode_t mode,
                         struct cl_error *err)
{
        return plan_push(plan, SANDBOX_OP_DIR, 0, NULL, dst, mode & 07777, err);
}

int sandbox_plan_add_symlink(struct sandbox_plan *plan, const char *target, const char *dst,
                             struct cl_error *err)
{
        return plan_push(plan, SANDBOX_OP_SYMLINK, 0, target, dst, 0, err);
}

int sandbox_plan_add_file(struct sandbox_plan *plan, const char *dst, const void *data, size_t len,
                          mode_t mode, struct cl_error *err)
{
        _cleanup_free_ char *copy = malloc(len + 1);
        if (!copy)
                return cl_err(err, ENOMEM, "plan");
        memcpy(copy, data, len);
        copy[len] = '\0';
        int r = plan_push(plan, SANDBOX_OP_FILE, 0, NULL, dst, mode & 07777, err);
        if (r < 0)
                return r;
        plan->ops[plan->n_ops - 1].data = TAKE_PTR(copy);
        plan->ops[plan->n_ops - 1].data_len = len;
        return 0;
}

int sandbox_plan_add_proc(struct sandbox_plan *plan, const char *dst, struct cl_error *err)
{
        return plan_push(plan, SANDBOX_OP_PROC, 0, NULL, dst, 0555, err);
}

/* "/dev" + "/null" */
static int dev_path(const char *dev, const char *name, char *buf, size_t size, struct cl_error *err)
{
        int n = snprintf(buf, size, "%s/%s", strcmp(dev, "/") == 0 ? "" : dev, name);
        if (n < 0 || (size_t)n >= size)
                return cl_err(err, ENAMETOOLONG, "path '%s/%s'", dev, name);
        return 0;
}

int sandbox_plan_add_dev(struct sandbox_plan *plan, const char *dst, struct cl_error *err)
{
        static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
        static const char *const links[][2] = {
            {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
            {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
            {"pts/ptmx", "ptmx"},
        };
        _cleanup_free_ char *dev = NULL;
        char path[4200], src[64];
        int r = sandbox_path_normalise(dst, &dev, err);
        if (r < 0)
                return r;
        r = plan_push(plan, SANDBOX_OP_TMPFS, 0, NULL, dev, 0755, err);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(nodes); i++) {
                snprintf(src, sizeof(src), "/dev/%s", nodes[i]);
                r = dev_path(dev, nodes[i], path, sizeof(path), err);
                if (r >= 0)
                        r = sandbox_plan_add_bind(plan, src, path, SANDBOX_BIND_DEV, err);
        }
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(links); i++) {
                r = dev_path(dev, links[i][1], path, sizeof(path), err);
                if (r >= 0)
                        r = sandbox_plan_add_symlink(plan, links[i][0], path, err);
        }
        if (r >= 0)
                r = dev_path(dev, "shm", path, sizeof(path), err);
        if (r >= 0)
                r = sandbox_plan_add_tmpfs(plan, path, 01777, err);
        if (r >= 0)
                r = dev_path(dev, "pts", path, sizeof(path), err);
        if (r >= 0)
                r = plan_push(plan, SANDBOX_OP_DEVPTS, 0, NULL, path, 0755, err);
        return r;
}

int sandbox_plan_add_defaults(struct sandbox_plan *plan, struct cl_error *err)
{
        int r = sandbox_plan_add_dev(plan, "/dev", err);
        if (r >= 0)
                r = sandbox_plan_add_proc(plan, "/proc", err);
        if (r >= 0)
                r = sandbox_plan_add_tmpfs(plan, "/tmp", 01777, err);
        return r;
}

static ssize_t env_find(const struct sandbox_plan *plan, const char *key)
{
        size_t klen = strlen(key);
        for (size_t i = 0; i < plan->n_env; i++)
                if (strncmp(plan->env[i], key, klen) == 0 && plan->env[i][klen] == '=')
                        return (ssize_t)i;
        return -1;
}

static int env_key_check(const char *key, struct cl_error *err)
{
        if (!*key || strchr(key, '='))
                return cl_errx(err, EINVAL, "invalid environment variable name '%s'", key);
        return 0;
}

int sandbox_plan_setenv(struct sandbox_plan *plan, const char *key, const char *value,
                        struct cl_error *err)
{
        int r = env_key_check(key, err);
        if (r < 0)
                return r;
        char *kv = NULL;
        if (asprintf(&kv, "%s=%s", key, value) < 0)
                return cl_err(err, ENOMEM, "environment");
        ssize_t i = env_find(plan, key);
        if (i >= 0) {
                free(plan->env[i]);
                plan->env[i] = kv;
                return 0;
        }
        char **env = reallocarray(plan->env, plan->n_env + 2, sizeof(char *));
        if (!env) {
                free(kv);
                return cl_err(err, ENOMEM, "environment");
        }
        plan->env = env;
        env[plan->n_env++] = kv;
        env[plan->n_env] = NULL;
        return 0;
}

int sandbox_plan_unsetenv(struct sandbox_plan *plan, const char *key, struct cl_error *err)
{
        int r = env_key_check(key, err);
        if (r < 0)
                return r;
        ssize_t i = env_find(plan, key);
        if (i < 0)
                return 0;
        free(plan->env[i]);
        memmove(plan->env + i, plan->env + i + 1, (plan->n_env - (size_t)i) * sizeof(char *));
        plan->n_env--;
        return 0;
}

const char *sandbox_plan_getenv(const struct sandbox_plan *plan, const char *key)
{
        ssize_t i = env_find(plan, key);
        return i < 0 ? NULL : plan->env[i] + strlen(key) + 1;
}

int sandbox_plan_set_argv(struct sandbox_plan *plan, char *const *argv, struct cl_error *err)
{
        size_t n = 0;
        while (argv[n])
                n++;
        if (n == 0 || !argv[0][0])
                return cl_errx(err, EINVAL, "no command given");
        char **v = calloc(n + 1, sizeof(char *));
        if (!v)
                return cl_err(err, ENOMEM, "command line");
        for (size_t i = 0; i < n; i++) {
                v[i] = strdup(argv[i]);
                if (!v[i]) {
                        strv_free(v);
                        return cl_err(err, ENOMEM, "command line");
                }
        }
        strv_free(plan->argv);
        plan->argv = v;
        plan->n_argv = n;
        return 0;
}

static int set_string(char **slot, const char *value, struct cl_error *err)
{
        char *s = strdup(value);
        if (!s)
                return cl_err(err, ENOMEM, "plan");
        free(*slot);
        *slot = s;
        return 0;
}

int sandbox_plan_set_exec_path(struct sandbox_plan *plan, const char *path, struct cl_error *err)
{
        if (!strchr(path, '/'))
                return cl_errx(err, EINVAL, "program '%s' to execute is not a path", path);
        return set_string(&plan->exec_path, path, err);
}

int sandbox_plan_set_hostname(struct sandbox_plan *plan, const char *name, struct cl_error *err)
{
        if (!*name || strlen(name) > 64)
                return cl_errx(err, EINVAL, "invalid host name '%s'", name);
        return set_string(&plan->hostname, name, err);
}

int sandbox_plan_set_chdir(struct sandbox_plan *plan, const char *dir, struct cl_error *err)
{
        _cleanup_free_ char *n = NULL;
        int r = sandbox_path_normalise(dir, &n, err);
        if (r < 0)
                return r;
        free(plan->chdir);
        plan->chdir = TAKE_PTR(n);
        return 0;
}

int sandbox_plan_keep_fd(struct sandbox_plan *plan, int fd, struct cl_error *err)
{
        if (fd < 0)
                return cl_errx(err, EBADF, "invalid file descriptor %d", fd);
        for (size_t i = 0; i < plan->n_keep_fds; i++)
                if (plan->keep_fds[i] == fd)
                        return 0;
        int *v = reallocarray(plan->keep_fds, plan->n_keep_fds + 1, sizeof(int));
        if (!v)
                return cl_err(err, ENOMEM, "plan");
        plan->keep_fds = v;
        v[plan->n_keep_fds++] = fd;
        return 0;
}

/* Nix's build sandbox gives the builder a passwd with root, the build user
 * ("nixbld") and nobody, and a group file to match; so do we, for the plan's
 * inside ids, without duplicating an id that is already one of the others. */
int sandbox_plan_render_passwd(const struct sandbox_plan *plan, char **ret_passwd, char **ret_group,
                               struct cl_error *err)
{
        const char *home = plan->chdir ? plan->chdir : "/";
        _cleanup_buf_ struct cl_buf pw = CL_BUF_INIT;
        _cleanup_buf_ struct cl_buf gr = CL_BUF_INIT;
        int r = buf_printf(&pw, "root:x:0:0:root:/root:/bin/sh\n");
        if (r >= 0 && plan->uid != 0 && plan->uid != 65534)
                r = buf_printf(&pw, "nixbld:x:%u:%u:Nix build user:%s:/noshell\n",
                               (unsigned)plan->uid, (unsigned)plan->gid, home);
        if (r >= 0)
                r = buf_printf(&pw, "nobody:x:65534:65534:Nobody:/:/noshell\n");
        if (r >= 0)
                r = buf_printf(&gr, "root:x:0:\n");
        if (r >= 0 && plan->gid != 0 && plan->gid != 65534)
                r = buf_printf(&gr, "nixbld:!:%u:\n", (unsigned)plan->gid);
        if (r >= 0)
                r = buf_printf(&gr, "nogroup:x:65534:\n");
        if (r < 0)
                return cl_err(err, -r, "render /etc/passwd");
        *ret_passwd = buf_steal(&pw);
        *ret_group = buf_steal(&gr);
        return 0;
}

int sandbox_uid_map_is_full(const char *text)
{
        unsigned long inside, outside, count;
        char extra;
        /* exactly one line "0 0 4294967295" */
        if (sscanf(text, " %lu %lu %lu %c", &inside, &outside, &count, &extra) != 3)
                return 0;
        return inside == 0 && outside == 0 && count == 4294967295UL;
}

int sandbox_id_map_lookup(const char *text, unsigned long id, unsigned long *ret_outside)
{
        for (const char *line = text; line && *line;) {
                unsigned long inside, outside, count;
                if (sscanf(line, " %lu %lu %lu", &inside, &outside, &count) == 3 && id >= inside &&
                    id - inside < count) {
                        if (ret_outside)
                                *ret_outside = outside + (id - inside);
                        return 1;
                }
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        return 0;
}

int sandbox_host_probe(struct sandbox_host *host, struct cl_error *err)
{
        *host = (struct sandbox_host){
            .euid = geteuid(),
            .egid = getegid(),
            .pid = getpid(),
            .nobody_uid = 65534,
            .nobody_gid = 65534,
            .cap_last_cap = 63,
        };
        /* cap_last_cap, as every file of /proc/sys/kernel, belongs to the
         * host's root: the owner we see says whether our euid may be the
         * host's root, in whatever user namespace we run (root in "unshare
         * -r" run by root is; root in one run by an ordinary user is not).
         * The same owner also shows when the host's root is not mapped and
         * our uid is the overflow uid; that cannot be told apart from root
         * mapped to that uid, so it counts as root. */
        _cleanup_close_ int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cl_err(err, errno, "open '/proc/sys/kernel/cap_last_cap'");
        struct stat st;
        if (fstat(fd, &st) < 0)
                return cl_err(err, errno, "stat '/proc/sys/kernel/cap_last_cap'");
        char text[64];
        ssize_t n = fd_read_full(fd, text, sizeof(text) - 1);
        if (n < 0)
                return cl_err(err, (int)-n, "read '/proc/sys/kernel/cap_last_cap'");
        text[n] = '\0';
        host->cap_last_cap = atoi(text);
        if (host->cap_last_cap <= 0 || host->cap_last_cap > 63)
                host->cap_last_cap = 63;
        if (st.st_uid != host->euid)
                return 0;
        host->host_root = 1;
        int r = fd_read_text_at(AT_FDCWD, "/proc/self/uid_map", 0, host->uid_map,
                                sizeof(host->uid_map));
        if (r < 0)
                return cl_err(err, -r, "read '/proc/self/uid_map'");
        r = fd_read_text_at(AT_FDCWD, "/proc/self/gid_map", 0, host->gid_map,
                            sizeof(host->gid_map));
        if (r < 0)
                return cl_err(err, -r, "read '/proc/self/gid_map'");
        char setgroups[32] = "";
        r = fd_read_text_at(AT_FDCWD, "/proc/self/setgroups", 0, setgroups, sizeof(setgroups));
        if (r < 0)
                return cl_err(err, -r, "read '/proc/self/setgroups'");
        /* only as root of its namespace can it map other ids, and only with
         * setgroups allowed (as in the initial namespace) can the command
         * lose root's groups */
        host->privileged = host->euid == 0 && strncmp(setgroups, "allow", 5) == 0;
        if (host->privileged) {
                struct passwd pwd, *res = NULL;
                char buf[1024];
                if (getpwnam_r("nobody", &pwd, buf, sizeof(buf), &res) == 0 && res) {
                        host->nobody_uid = res->pw_uid;
                        host->nobody_gid = res->pw_gid;
                }
        }
        return 0;
}
