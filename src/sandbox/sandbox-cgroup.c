/* cgroups for one sandbox. Hierarchies are found in /proc/self/mountinfo (the
 * v2 tree wherever it is mounted, the v1 trees by the controllers bound to
 * them), the caller's place in each from /proc/self/cgroup. Each sandbox gets
 * a leaf "cloister-PID-N" there: limits go to v2 controllers where the v2 tree
 * has them, else to the v1 hierarchy the host bound them to (hybrid hosts). */
#include "sandbox/sandbox-cgroup.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *const kind_names[SANDBOX_CG_NKINDS] = {"unified", "memory", "pids", "cpu",
                                                          "cpuacct"};
/* v1 controller name per kind (the v2 kind has none) */
static const char *const v1_controller[SANDBOX_CG_NKINDS] = {NULL, "memory", "pids", "cpu",
                                                             "cpuacct"};

/* Where each hierarchy is, found once per process. */
struct cg_hierarchy {
        char *mount;  /* mount point */
        char *root;   /* the mount's root inside the hierarchy */
        char *cgpath; /* this process's cgroup in it */
};
static struct {
        int done;
        int error; /* errno of a failed discovery */
        struct cg_hierarchy h[SANDBOX_CG_NKINDS];
} disc;

static int has_word(const char *list, const char *word)
{
        size_t n = strlen(word);
        for (const char *p = list; p && *p;) {
                const char *e = strchr(p, ',');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                if (len == n && strncmp(p, word, n) == 0)
                        return 1;
                p = e ? e + 1 : NULL;
        }
        return 0;
}

static int set_str(char **dst, const char *src, size_t len)
{
        char *s = strndup(src, len);
        if (!s)
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

/* The whole of a /proc file, NUL-terminated (one read instead of stdio's
 * buffers: this runs once per `cloister run`, where every fresh page costs). */
static int read_proc(const char *path, char **ret)
{
        return fd_read_file_at(AT_FDCWD, path, 1u << 20, 0, ret, NULL);
}

/* Next line of a buffer, cut in place; NULL at the end. */
static char *next_line(char **p)
{
        char *line = *p;
        if (!line || !*line)
                return NULL;
        char *nl = strchr(line, '\n');
        if (nl) {
                *nl = '\0';
                *p = nl + 1;
        } else {
                *p = NULL;
        }
        return line;
}

/* mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER" */
static int parse_mountinfo(const char *path)
{
        _cleanup_free_ char *data = NULL;
        int r = read_proc(path, &data);
        if (r < 0)
                return r;
        char *p = data, *line;
        while ((line = next_line(&p))) {
                char *fields[6] = {NULL};
                char *save = NULL, *q = line;
                for (int i = 0; i < 6; i++, q = NULL)
                        fields[i] = strtok_r(q, " ", &save);
                if (!fields[5])
                        continue;
                char *dash = NULL;
                while ((dash = strtok_r(NULL, " ", &save)) && strcmp(dash, "-") != 0)
                        ;
                char *fstype = dash ? strtok_r(NULL, " ", &save) : NULL;
                char *source = fstype ? strtok_r(NULL, " ", &save) : NULL;
                char *super = source ? strtok_r(NULL, " ", &save) : NULL;
                if (!fstype)
                        continue;
                if (strcmp(fstype, "cgroup2") == 0) {
                        if (!disc.h[SANDBOX_CG_V2].mount) {
                                r = set_str(&disc.h[SANDBOX_CG_V2].mount, fields[4],
                                            strlen(fields[4]));
                                if (r == 0)
                                        r = set_str(&disc.h[SANDBOX_CG_V2].root, fields[3],
                                                    strlen(fields[3]));
                        }
                } else if (strcmp(fstype, "cgroup") == 0 && super) {
                        for (int k = SANDBOX_CG_V1_MEMORY; k < SANDBOX_CG_NKINDS && r == 0; k++)
                                if (!disc.h[k].mount && has_word(super, v1_controller[k])) {
                                        r = set_str(&disc.h[k].mount, fields[4],
                                                    strlen(fields[4]));
                                        if (r == 0)
                                                r = set_str(&disc.h[k].root, fields[3],
                                                            strlen(fields[3]));
                                }
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* /proc/self/cgroup: "ID:CONTROLLERS:PATH", "0::PATH" for v2 */
static int parse_self_cgroup(const char *path)
{
        _cleanup_free_ char *data = NULL;
        int r = read_proc(path, &data);
        if (r < 0)
                return r;
        char *p = data, *line;
        while ((line = next_line(&p))) {
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c1 = '\0';
                *c2 = '\0';
                const char *ctrls = c1 + 1, *cgpath = c2 + 1;
                if (strcmp(line, "0") == 0 && *ctrls == '\0')
                        r = set_str(&disc.h[SANDBOX_CG_V2].cgpath, cgpath, strlen(cgpath));
                else
                        for (int k = SANDBOX_CG_V1_MEMORY; k < SANDBOX_CG_NKINDS && r == 0; k++)
                                if (has_word(ctrls, v1_controller[k]))
                                        r = set_str(&disc.h[k].cgpath, cgpath, strlen(cgpath));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Where discovery reads from: /proc/self, or the files a test names. */
static const char *mountinfo_path = "/proc/self/mountinfo";
static const char *self_cgroup_path = "/proc/self/cgroup";

static void forget_discovery(void)
{
        for (int k = 0; k < SANDBOX_CG_NKINDS; k++) {
                free(disc.h[k].mount);
                free(disc.h[k].root);
                free(disc.h[k].cgpath);
        }
        memset(&disc, 0, sizeof(disc));
}

void sandbox_cgroup_discover_from(const char *mountinfo, const char *self_cgroup)
{
        forget_discovery();
        mountinfo_path = mountinfo ? mountinfo : "/proc/self/mountinfo";
        self_cgroup_path = self_cgroup ? self_cgroup : "/proc/self/cgroup";
}

static int discover(void)
{
        if (disc.done)
                return -disc.error;
        int r = parse_mountinfo(mountinfo_path);
        if (r >= 0)
                r = parse_self_cgroup(self_cgroup_path);
        disc.done = 1;
        disc.error = r < 0 ? -r : 0;
        return r < 0 ? r : 0;
}

/* Absolute directory of the parent cgroup for kind k, malloc'd, or NULL when
 * the hierarchy is absent or this process's place in it cannot be seen from
 * the mount (a foreign cgroup namespace). */
static char *parent_dir(int k, const char *configured)
{
        const struct cg_hierarchy *h = &disc.h[k];
        if (!h->mount)
                return NULL;
        const char *rel;
        if (configured) {
                rel = configured;
        } else {
                if (!h->cgpath)
                        return NULL;
                rel = h->cgpath;
                size_t rl = strlen(h->root);
                if (strcmp(h->root, "/") != 0) {
                        if (strncmp(rel, h->root, rl) != 0 || (rel[rl] != '/' && rel[rl] != '\0'))
                                return NULL;
                        rel += rl;
                }
        }
        while (*rel == '/')
                rel++;
        char *s = NULL;
        if (asprintf(&s, "%s%s%s", h->mount, *rel ? "/" : "", rel) < 0)
                return NULL;
        return s;
}

static int cg_write(int dfd, const char *file, const char *val)
{
        _cleanup_close_ int fd = openat(dfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, val, strlen(val));
        if (n < 0)
                return -errno;
        return 0;
}

static int cg_read(int dfd, const char *file, char *buf, size_t size)
{
        return fd_read_text_at(dfd, file, O_NOFOLLOW, buf, size);
}

static int cg_read_u64(int dfd, const char *file, uint64_t *ret)
{
        char buf[64];
        int r = cg_read(dfd, file, buf, sizeof(buf));
        if (r < 0)
                return r;
        char *e = NULL;
        errno = 0;
        unsigned long long v = strtoull(buf, &e, 10);
        if (errno != 0 || e == buf)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* "key value" lines (cpu.stat, memory.events, pids.events, memory.oom_control) */
static int cg_read_key(int dfd, const char *file, const char *key, uint64_t *ret)
{
        char buf[4096];
        int r = cg_read(dfd, file, buf, sizeof(buf));
        if (r < 0)
                return r;
        size_t kl = strlen(key);
        for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
                        *ret = strtoull(p + kl + 1, NULL, 10);
                        return 0;
                }
        return -ENOENT;
}

/* Controllers a v2 cgroup offers its children; enables the wanted ones in
 * parent's subtree_control when they are available but not yet enabled (which
 * fails with EBUSY when the parent holds processes: the v2 "no internal
 * processes" rule; then the v1 hierarchy or a configured parent must serve). */
static unsigned v2_enable(int parent_dfd, unsigned want)
{
        static const struct {
                unsigned bit;
                const char *name;
        } ctl[] = {
                {SANDBOX_CG_MEMORY, "memory"},
                {SANDBOX_CG_PIDS, "pids"},
                {SANDBOX_CG_CPUMAX, "cpu"},
        };
        char avail[512], enabled[512];
        if (cg_read(parent_dfd, "cgroup.controllers", avail, sizeof(avail)) < 0 ||
            cg_read(parent_dfd, "cgroup.subtree_control", enabled, sizeof(enabled)) < 0)
                return 0;
        unsigned got = 0;
        for (size_t i = 0; i < ELEMENTSOF(ctl); i++) {
                if (!(want & ctl[i].bit))
                        continue;
                char word[32];
                snprintf(word, sizeof(word), " %s ", ctl[i].name);
                char a[520], e[520];
                snprintf(a, sizeof(a), " %s ", avail);
                snprintf(e, sizeof(e), " %s ", enabled);
                for (char *c = a; *c; c++)
                        if (*c == '\n')
                                *c = ' ';
                for (char *c = e; *c; c++)
                        if (*c == '\n')
                                *c = ' ';
                if (strstr(e, word)) {
                        got |= ctl[i].bit;
                        continue;
                }
                if (!strstr(a, word))
                        continue;
                char plus[32];
                snprintf(plus, sizeof(plus), "+%s", ctl[i].name);
                if (cg_write(parent_dfd, "cgroup.subtree_control", plus) == 0)
                        got |= ctl[i].bit;
        }
        return got;
}

static unsigned leaf_seq;

/* Remove the leaves of cloister processes that are gone without cleaning up
 * (killed by SIGKILL, which no cleanup survives): empty "cloister-PID-N"
 * directories in parent whose PID no longer exists. rmdir only removes an
 * empty cgroup, so a leaf still in use (a reused PID) stays. Best effort;
 * a cloister in another PID namespace sharing this tree could lose a leaf it
 * made but has not entered yet (it then fails with a clear message). */
/* The PID in a leaf name "cloister-PID-N", or -1 for any other name. */
static long leaf_pid(const char *name)
{
        static const char prefix[] = "cloister-";
        if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
                return -1;
        const char *p = name + sizeof(prefix) - 1;
        long pid = 0;
        int digits = 0;
        for (; *p >= '0' && *p <= '9' && digits < 10; p++, digits++)
                pid = pid * 10 + (*p - '0');
        if (digits == 0 || *p++ != '-' || !(*p >= '0' && *p <= '9'))
                return -1;
        while (*p >= '0' && *p <= '9')
                p++;
        return *p == '\0' ? pid : -1;
}

static void collect_stale(const char *parent)
{
        _cleanup_close_ int dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return;
        /* getdents64 into the stack rather than opendir's 32 KiB buffer: on a
         * fresh process every new heap page is a fault, and this runs once
         * per `cloister run` */
        _Alignas(8) char buf[2048];
        for (;;) {
                long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
                if (n <= 0)
                        return;
                for (long off = 0; off < n;) {
                        const struct dirent64 *e = (const struct dirent64 *)(buf + off);
                        off += e->d_reclen;
                        long pid = leaf_pid(e->d_name);
                        if (e->d_type != DT_DIR || pid <= 0 || pid == getpid())
                                continue;
                        if (kill(pid, 0) == 0 || errno != ESRCH)
                                continue;
                        (void)unlinkat(dfd, e->d_name, AT_REMOVEDIR);
                }
        }
}

/* mkdir a fresh leaf below parent; fills d. */
static int make_leaf(const char *parent, struct sandbox_cgroup_dir *d, struct cl_error *err)
{
        for (int attempt = 0; attempt < 100; attempt++) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/cloister-%ld-%u", parent, (long)getpid(), leaf_seq++) < 0)
                        return cl_errx(err, ENOMEM, "out of memory");
                if (mkdir(path, 0755) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return cl_err(err, errno, "create cgroup '%s'", path);
                }
                int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                        int e = errno;
                        rmdir(path);
                        return cl_err(err, e, "open cgroup '%s'", path);
                }
                d->path = TAKE_PTR(path);
                d->dfd = fd;
                return 0;
        }
        return cl_errx(err, EEXIST, "create cgroup below '%s': names in use", parent);
}

static int add_dir(struct sandbox_cgroup *cg, int kind, const char *configured,
                   struct cl_error *err)
{
        _cleanup_free_ char *parent = parent_dir(kind, configured);
        if (!parent)
                return cl_errx(err, ENOENT, "no '%s' cgroup hierarchy", kind_names[kind]);
        /* co-mounted v1 controllers (cpu,cpuacct) share one leaf */
        for (unsigned i = 0; i < cg->n_dirs; i++) {
                size_t pl = strlen(parent);
                if (strncmp(cg->dirs[i].path, parent, pl) == 0 && cg->dirs[i].path[pl] == '/' &&
                    !strchr(cg->dirs[i].path + pl + 1, '/')) {
                        cg->dirs[i].kinds |= 1u << kind;
                        cg->where[kind] = (int)i;
                        return 0;
                }
        }
        struct stat st;
        if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode))
                return cl_err(err, errno ? errno : ENOTDIR, "cgroup parent '%s'", parent);
        collect_stale(parent);
        struct sandbox_cgroup_dir *d = &cg->dirs[cg->n_dirs];
        int r = make_leaf(parent, d, err);
        if (r < 0)
                return r;
        d->kinds = 1u << kind;
        cg->where[kind] = (int)cg->n_dirs++;
        return 0;
}

static int dfd_of(const struct sandbox_cgroup *cg, int kind)
{
        return cg->where[kind] >= 0 ? cg->dirs[cg->where[kind]].dfd : -1;
}

static int write_u64(const struct sandbox_cgroup *cg, int kind, const char *file, uint64_t v,
                     struct cl_error *err)
{
        char val[32];
        snprintf(val, sizeof(val), "%" PRIu64, v);
        int r = cg_write(dfd_of(cg, kind), file, val);
        if (r < 0)
                return cl_err(err, -r, "write %s to '%s/%s'", val, cg->dirs[cg->where[kind]].path,
                              file);
        return 0;
}

static int write_limits(struct sandbox_cgroup *cg, const struct sandbox_limits *l,
                        struct cl_error *err)
{
        int r;
        if (l->memory_max && l->memory_max != UINT64_MAX && (cg->have & SANDBOX_CG_MEMORY)) {
                if (cg->v2_controllers & SANDBOX_CG_MEMORY) {
                        r = write_u64(cg, SANDBOX_CG_V2, "memory.max", l->memory_max, err);
                        if (r < 0)
                                return r;
                        /* swap must not be a way around the limit */
                        (void)cg_write(dfd_of(cg, SANDBOX_CG_V2), "memory.swap.max", "0");
                } else {
                        r = write_u64(cg, SANDBOX_CG_V1_MEMORY, "memory.limit_in_bytes",
                                      l->memory_max, err);
                        if (r < 0)
                                return r;
                        char v[32];
                        snprintf(v, sizeof(v), "%" PRIu64, l->memory_max);
                        /* exists only with swap accounting */
                        (void)cg_write(dfd_of(cg, SANDBOX_CG_V1_MEMORY),
                                       "memory.memsw.limit_in_bytes", v);
                }
        }
        if (l->pids_max && l->pids_max != UINT64_MAX && (cg->have & SANDBOX_CG_PIDS)) {
                int k = (cg->v2_controllers & SANDBOX_CG_PIDS) ? SANDBOX_CG_V2
                                                               : SANDBOX_CG_V1_PIDS;
                r = write_u64(cg, k, "pids.max", l->pids_max, err);
                if (r < 0)
                        return r;
        }
        if (l->cpu_quota_us && (cg->have & SANDBOX_CG_CPUMAX)) {
                if (cg->v2_controllers & SANDBOX_CG_CPUMAX) {
                        char v[64];
                        snprintf(v, sizeof(v), "%" PRIu64 " %" PRIu64, l->cpu_quota_us,
                                 l->cpu_period_us);
                        r = cg_write(dfd_of(cg, SANDBOX_CG_V2), "cpu.max", v);
                        if (r < 0)
                                return cl_err(err, -r, "write '%s' to '%s/cpu.max'", v,
                                              cg->dirs[cg->where[SANDBOX_CG_V2]].path);
                } else {
                        r = write_u64(cg, SANDBOX_CG_V1_CPU, "cpu.cfs_period_us",
                                      l->cpu_period_us, err);
                        if (r >= 0)
                                r = write_u64(cg, SANDBOX_CG_V1_CPU, "cpu.cfs_quota_us",
                                              l->cpu_quota_us, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int is_unwritable(int e)
{
        return e == EACCES || e == EPERM || e == EROFS;
}

int sandbox_cgroup_create(const struct sandbox_limits *l, const char *parent,
                          struct sandbox_cgroup *ret, struct cl_error *why,
                          struct cl_error *err)
{
        struct sandbox_cgroup cg = {.n_dirs = 0};
        for (int k = 0; k < SANDBOX_CG_NKINDS; k++)
                cg.where[k] = -1;
        for (int k = 0; k < SANDBOX_CG_NKINDS; k++)
                cg.dirs[k].dfd = -1;
        *ret = cg;
        if (why)
                cl_err_clear(why);

        if (parent && (parent[0] != '/' || strstr(parent, "/../") || strstr(parent, "/./") ||
                       (strlen(parent) >= 3 && strcmp(parent + strlen(parent) - 3, "/..") == 0)))
                return cl_errx(err, EINVAL, "invalid cgroup parent '%s' (an absolute cgroup path)",
                               parent);
        int r = discover();
        if (r < 0)
                return cl_err(err, -r, "find cgroup hierarchies");

        unsigned want = SANDBOX_CG_MEMORY;
        if (l->pids_max && l->pids_max != UINT64_MAX)
                want |= SANDBOX_CG_PIDS;
        if (l->cpu_quota_us)
                want |= SANDBOX_CG_CPUMAX;
        unsigned required = want & ~(l->memory_max && l->memory_max != UINT64_MAX
                                             ? 0u
                                             : SANDBOX_CG_MEMORY);
        struct cl_error e2, first;
        cl_err_clear(&e2);
        cl_err_clear(&first);

        /* the v2 leaf: kill, cpu accounting, the namespace root */
        unsigned unwritable = 0, tried = 0;
        if (disc.h[SANDBOX_CG_V2].mount) {
                tried++;
                _cleanup_free_ char *pdir = parent_dir(SANDBOX_CG_V2, parent);
                _cleanup_close_ int pfd =
                        pdir ? open(pdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
                if (pfd < 0 && parent) {
                        r = cl_err(err, pdir ? errno : ENOENT, "cgroup parent '%s'",
                                   pdir ? pdir : parent);
                        goto fail;
                }
                if (pfd >= 0) {
                        r = add_dir(&cg, SANDBOX_CG_V2, parent, &e2);
                        if (r < 0 && (parent || !is_unwritable(-r))) {
                                *err = e2;
                                goto fail;
                        }
                        if (r < 0) {
                                unwritable++;
                                first = e2;
                        } else {
                                cg.have |= SANDBOX_CG_CPU;
                                if (faccessat(cg.dirs[cg.where[SANDBOX_CG_V2]].dfd, "cgroup.kill",
                                              F_OK, 0) == 0)
                                        cg.have |= SANDBOX_CG_KILL;
                                cg.v2_controllers = v2_enable(pfd, want);
                                /* the leaf was made before enabling: the files
                                 * appear in it as soon as the parent enables */
                                cg.have |= cg.v2_controllers;
                        }
                }
        }

        /* v1 hierarchies for what v2 could not give */
        static const struct {
                int kind;
                unsigned bit;
        } v1[] = {
                {SANDBOX_CG_V1_MEMORY, SANDBOX_CG_MEMORY},
                {SANDBOX_CG_V1_PIDS, SANDBOX_CG_PIDS},
                {SANDBOX_CG_V1_CPU, SANDBOX_CG_CPUMAX},
                {SANDBOX_CG_V1_CPUACCT, SANDBOX_CG_CPU},
        };
        for (size_t i = 0; i < ELEMENTSOF(v1); i++) {
                unsigned bit = v1[i].bit;
                int wanted = bit == SANDBOX_CG_CPU ? !(cg.have & SANDBOX_CG_CPU)
                                                   : (want & bit) && !(cg.have & bit);
                if (!wanted || !disc.h[v1[i].kind].mount)
                        continue;
                tried++;
                r = add_dir(&cg, v1[i].kind, parent, &e2);
                if (r < 0) {
                        if (parent || !(is_unwritable(-r) || r == -ENOENT)) {
                                *err = e2;
                                goto fail;
                        }
                        if (unwritable++ == 0)
                                first = e2;
                        continue;
                }
                cg.have |= bit;
        }

        unsigned missing = required & ~cg.have;
        if (missing || cg.n_dirs == 0) {
                const char *names[] = {
                        (missing & SANDBOX_CG_MEMORY) ? " memory" : "",
                        (missing & SANDBOX_CG_PIDS) ? " pids" : "",
                        (missing & SANDBOX_CG_CPUMAX) ? " cpu" : "",
                };
                if (parent) {
                        r = cl_errx(err, EOPNOTSUPP,
                                    "cgroup parent '%s' offers no controller for:%s%s%s", parent,
                                    names[0], names[1], names[2]);
                        goto fail;
                }
                if (why) {
                        if (cg.n_dirs == 0)
                                cl_errx(why, EACCES,
                                        "%s",
                                        tried == 0 ? "no cgroup hierarchy is mounted"
                                        : first.code ? first.msg
                                                   : "no writable cgroup hierarchy");
                        else
                                cl_errx(why, EOPNOTSUPP, "no writable cgroup controller for:%s%s%s",
                                        names[0], names[1], names[2]);
                }
        }
        (void)unwritable;

        r = write_limits(&cg, l, err);
        if (r < 0)
                goto fail;
        *ret = cg;
        return 0;
fail:
        sandbox_cgroup_destroy(&cg, NULL);
        return r;
}

int sandbox_cgroup_attach(struct sandbox_cgroup *cg, pid_t pid, struct cl_error *err)
{
        char val[24];
        snprintf(val, sizeof(val), "%ld", (long)pid);
        for (unsigned i = 0; i < cg->n_dirs; i++) {
                int r = cg_write(cg->dirs[i].dfd, "cgroup.procs", val);
                if (r < 0)
                        return cl_err(err, -r, "move process %ld into cgroup '%s'", (long)pid,
                                      cg->dirs[i].path);
        }
        return 0;
}

int sandbox_cgroup_stats(const struct sandbox_cgroup *cg, struct sandbox_cgroup_stats *st)
{
        memset(st, 0, sizeof(*st));
        int v2 = dfd_of(cg, SANDBOX_CG_V2);
        if (v2 >= 0 && cg_read_key(v2, "cpu.stat", "user_usec", &st->cpu_user_us) == 0 &&
            cg_read_key(v2, "cpu.stat", "system_usec", &st->cpu_system_us) == 0) {
                st->have_cpu = 1;
        } else if (dfd_of(cg, SANDBOX_CG_V1_CPUACCT) >= 0) {
                int fd = dfd_of(cg, SANDBOX_CG_V1_CPUACCT);
                uint64_t u, s;
                if (cg_read_u64(fd, "cpuacct.usage_user", &u) == 0 &&
                    cg_read_u64(fd, "cpuacct.usage_sys", &s) == 0) {
                        st->cpu_user_us = u / 1000;
                        st->cpu_system_us = s / 1000;
                        st->have_cpu = 1;
                }
        }
        if (cg->v2_controllers & SANDBOX_CG_MEMORY) {
                if (cg_read_u64(v2, "memory.peak", &st->memory_peak) == 0)
                        st->have_memory_peak = 1;
                (void)cg_read_key(v2, "memory.events", "oom_kill", &st->oom_kills);
        } else if (dfd_of(cg, SANDBOX_CG_V1_MEMORY) >= 0) {
                int fd = dfd_of(cg, SANDBOX_CG_V1_MEMORY);
                if (cg_read_u64(fd, "memory.max_usage_in_bytes", &st->memory_peak) == 0)
                        st->have_memory_peak = 1;
                (void)cg_read_key(fd, "memory.oom_control", "oom_kill", &st->oom_kills);
        }
        int pfd = (cg->v2_controllers & SANDBOX_CG_PIDS) ? v2 : dfd_of(cg, SANDBOX_CG_V1_PIDS);
        if (pfd >= 0)
                (void)cg_read_key(pfd, "pids.events", "max", &st->pids_max_hits);
        return 0;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int v2_populated(int dfd)
{
        uint64_t v = 0;
        if (cg_read_key(dfd, "cgroup.events", "populated", &v) < 0)
                return 0;
        return v != 0;
}

/* Wait (bounded) until the v2 leaf is empty, woken by cgroup.events changes. */
static int v2_wait_empty(int dfd, int timeout_ms)
{
        _cleanup_close_ int fd = openat(dfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                if (!v2_populated(dfd))
                        return 0;
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long spent = (now.tv_sec - start.tv_sec) * 1000 +
                             (now.tv_nsec - start.tv_nsec) / 1000000;
                if (spent >= timeout_ms)
                        return -EBUSY;
                if (fd >= 0) {
                        struct pollfd p = {fd, POLLPRI, 0};
                        /* a short cap: a change between the read and the
                         * poll would otherwise be missed */
                        (void)poll(&p, 1, 10);
                        char b[256];
                        if (pread(fd, b, sizeof(b), 0) < 0)
                                sleep_ms(1);
                } else {
                        sleep_ms(1);
                }
        }
}

/* One round of SIGKILL over a v1 leaf's cgroup.procs; returns the number of
 * processes seen. */
static int v1_kill_round(int dfd)
{
        char buf[65536];
        if (cg_read(dfd, "cgroup.procs", buf, sizeof(buf)) < 0)
                return 0;
        int n = 0;
        for (char *p = buf; *p;) {
                char *e = NULL;
                long pid = strtol(p, &e, 10);
                if (e == p)
                        break;
                if (pid > 0) {
                        kill((pid_t)pid, SIGKILL);
                        n++;
                }
                p = e;
                while (*p == '\n')
                        p++;
        }
        return n;
}

int sandbox_cgroup_kill(struct sandbox_cgroup *cg)
{
        int v2 = dfd_of(cg, SANDBOX_CG_V2);
        if (v2 >= 0 && (cg->have & SANDBOX_CG_KILL)) {
                if (cg_write(v2, "cgroup.kill", "1") == 0)
                        return v2_wait_empty(v2, 5000);
        }
        /* no cgroup.kill (v1 only, or a kernel before 5.14): SIGKILL rounds
         * over whichever leaf lists the processes; the pids limit (or the PID
         * namespace's end) stops a fork bomb from outrunning them. Bounded:
         * 2000 rounds of at most a millisecond's pause. */
        int dfd = v2;
        for (int k = SANDBOX_CG_V1_PIDS; dfd < 0 && k < SANDBOX_CG_NKINDS; k++)
                dfd = dfd_of(cg, k);
        if (dfd < 0)
                dfd = dfd_of(cg, SANDBOX_CG_V1_MEMORY);
        if (dfd < 0)
                return 0;
        for (int round = 0; round < 2000; round++) {
                if (v1_kill_round(dfd) == 0)
                        return 0;
                sleep_ms(1);
        }
        return -EBUSY;
}

static int rmdir_retry(const char *path)
{
        /* A leaf whose last processes are exiting is busy for a moment. */
        for (int i = 0; i < 2000; i++) {
                if (rmdir(path) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                sleep_ms(1);
        }
        return -EBUSY;
}

int sandbox_cgroup_destroy(struct sandbox_cgroup *cg, struct cl_error *err)
{
        int ret = 0;
        if (cg->n_dirs > 0)
                (void)sandbox_cgroup_kill(cg);
        for (unsigned i = 0; i < cg->n_dirs; i++) {
                struct sandbox_cgroup_dir *d = &cg->dirs[i];
                if (d->dfd >= 0)
                        close(d->dfd);
                d->dfd = -1;
                if (d->path) {
                        int r = rmdir_retry(d->path);
                        if (r < 0 && ret == 0)
                                ret = cl_err(err, -r, "remove cgroup '%s'", d->path);
                }
                free(d->path);
                d->path = NULL;
        }
        cg->n_dirs = 0;
        for (int k = 0; k < SANDBOX_CG_NKINDS; k++)
                cg->where[k] = -1;
        cg->have = 0;
        cg->v2_controllers = 0;
        return ret;
}

int sandbox_cgroup_warn_once(void)
{
        static int warned;
        if (warned)
                return 0;
        warned = 1;
        return 1;
}

unsigned sandbox_cgroup_fallback_rlimits(const struct sandbox_cgroup *cg,
                                         struct sandbox_limits *l)
{
        unsigned lost = 0;
        char spec[64];
        if (l->memory_max && l->memory_max != UINT64_MAX && !(cg->have & SANDBOX_CG_MEMORY) &&
            !sandbox_limits_get_rlimit(l, RLIMIT_AS)) {
                snprintf(spec, sizeof(spec), "as=%" PRIu64, l->memory_max);
                (void)sandbox_limits_set_rlimit(l, spec, NULL);
        }
        if (l->pids_max && l->pids_max != UINT64_MAX && !(cg->have & SANDBOX_CG_PIDS) &&
            !sandbox_limits_get_rlimit(l, RLIMIT_NPROC)) {
                snprintf(spec, sizeof(spec), "nproc=%" PRIu64, l->pids_max);
                (void)sandbox_limits_set_rlimit(l, spec, NULL);
        }
        if (l->cpu_quota_us && !(cg->have & SANDBOX_CG_CPUMAX))
                lost |= SANDBOX_CG_CPUMAX;
        return lost;
}
