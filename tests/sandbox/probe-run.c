/* Helpers for tests that run the static probe in `cloister run` and look at
 * the host from outside (see probe-run.h). */
#include "probe-run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *pr_cloister(void)
{
        static char *p;
        if (!p)
                p = tap_build_path("src/cloister");
        return p;
}

const char *pr_probe(void)
{
        static char *p;
        if (!p)
                p = tap_build_path("tests/probe/probe");
        return p;
}

bool pr_real_root(void)
{
        if (geteuid() != 0)
                return false;
        /* the initial user namespace maps all 2^32-1 ids onto themselves */
        char *map = tap_read_file("/proc/self/uid_map");
        unsigned long a = 0, b = 0, n = 0;
        bool r = map && sscanf(map, "%lu %lu %lu", &a, &b, &n) == 3 && a == 0 && b == 0 &&
                 n == 4294967295UL;
        free(map);
        return r;
}

static size_t count(const char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

char **pr_argv(const char *const *opts, const char *const *cmd)
{
        size_t n = count(opts) + count(cmd) + 8;
        char **argv = calloc(n, sizeof(char *));
        size_t i = 0;
        argv[i++] = (char *)pr_cloister();
        argv[i++] = "run";
        argv[i++] = "--ro-bind";
        argv[i++] = (char *)pr_probe();
        argv[i++] = "/probe";
        for (size_t j = 0; opts && opts[j]; j++)
                argv[i++] = (char *)opts[j];
        argv[i++] = "--";
        argv[i++] = "/probe";
        for (size_t j = 0; cmd && cmd[j]; j++)
                argv[i++] = (char *)cmd[j];
        argv[i] = NULL;
        return argv;
}

void pr_run(const char *const *opts, const char *const *cmd, struct tap_run_result *res)
{
        char **argv = pr_argv(opts, cmd);
        int r = tap_run(argv, NULL, 30, res);
        if (r < 0)
                FAIL("run cloister: %s", strerror(-r));
        free(argv);
}

void pr_run_probe(const char *probe_rel, const char *const *opts, const char *const *cmd,
                  struct tap_run_result *res)
{
        char *probe = tap_build_path(probe_rel);
        size_t n = count(opts) + count(cmd) + 8;
        const char **argv = calloc(n, sizeof(char *));
        size_t i = 0;
        argv[i++] = pr_cloister();
        argv[i++] = "run";
        argv[i++] = "--ro-bind";
        argv[i++] = probe;
        argv[i++] = "/p";
        for (size_t j = 0; opts && opts[j]; j++)
                argv[i++] = opts[j];
        argv[i++] = "--";
        for (size_t j = 0; cmd && cmd[j]; j++)
                argv[i++] = cmd[j];
        argv[i] = NULL;
        int r = tap_run((char *const *)argv, NULL, 60, res);
        if (r < 0)
                FAIL("run cloister: %s", strerror(-r));
        free(argv);
        free(probe);
}

char *pr_kv(const char *out, const char *key)
{
        size_t klen = strlen(key);
        for (const char *p = out; p && *p;) {
                if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
                        const char *v = p + klen + 1;
                        return strndup(v, strcspn(v, "\n"));
                }
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        return NULL;
}

char *pr_need(const struct tap_run_result *res, const char *key)
{
        char *v = pr_kv(res->out, key);
        if (!v)
                FAIL("probe printed no '%s' (exit %d)\nstdout:\n%s\nstderr:\n%s", key,
                     tap_exit_code(res->status), res->out ? res->out : "",
                     res->err ? res->err : "");
        return v;
}

char *pr_marker(const char *what)
{
        char *m = NULL;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (asprintf(&m, "cloister-marker-%s-%d-%ld", what, getpid(), (long)ts.tv_nsec) < 0)
                abort();
        return m;
}

/* ---- background runs ---- */

void pr_spawn(struct pr_spawn *s, char *const argv[], bool status_fd)
{
        int in[2], out[2], err[2], st[2] = {-1, -1};
        memset(s, 0, sizeof(*s));
        s->status = -1;
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
                FAIL("pipe: %s", strerror(errno));
        if (status_fd && pipe2(st, O_CLOEXEC) < 0)
                FAIL("pipe: %s", strerror(errno));
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                FAIL("fork: %s", strerror(errno));
        if (pid == 0) {
                dup2(in[0], 0);
                dup2(out[1], 1);
                dup2(err[1], 2);
                if (status_fd)
                        dup2(st[1], 3);
                execv(argv[0], argv);
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        close(err[1]);
        if (status_fd) {
                close(st[1]);
                s->status = st[0];
        }
        s->pid = pid;
        s->in = in[1];
        s->out = out[0];
        s->err = err[0];
}

static void append(int *fd, char **buf, size_t *len)
{
        char tmp[4096];
        ssize_t n = read(*fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
                return;
        if (n <= 0) {
                close(*fd);
                *fd = -1;
                return;
        }
        *buf = realloc(*buf, *len + (size_t)n + 1);
        memcpy(*buf + *len, tmp, (size_t)n);
        *len += (size_t)n;
        (*buf)[*len] = '\0';
}

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One round of reading whatever is ready on the three pipes. */
static void pump(struct pr_spawn *s, int timeout_ms)
{
        struct pollfd p[3] = {{s->out, POLLIN, 0}, {s->err, POLLIN, 0}, {s->status, POLLIN, 0}};
        if (poll(p, 3, timeout_ms) <= 0)
                return;
        if (p[0].revents)
                append(&s->out, &s->obuf, &s->olen);
        if (p[1].revents)
                append(&s->err, &s->ebuf, &s->elen);
        if (p[2].revents)
                append(&s->status, &s->sbuf, &s->slen);
}

void pr_spawn_wait_for(struct pr_spawn *s, const char *needle, unsigned timeout_sec)
{
        double end = now() + timeout_sec;
        while (!(s->obuf && strstr(s->obuf, needle))) {
                if (now() > end || (s->out < 0 && s->err < 0))
                        FAIL("no '%s' from the sandbox\nstdout:\n%s\nstderr:\n%s", needle,
                             s->obuf ? s->obuf : "", s->ebuf ? s->ebuf : "");
                pump(s, 100);
        }
}

void pr_spawn_wait_status(struct pr_spawn *s, unsigned timeout_sec)
{
        double end = now() + timeout_sec;
        while (!(s->sbuf && strchr(s->sbuf, '\n'))) {
                if (now() > end || s->status < 0)
                        FAIL("no status object from cloister\nstatus:\n%s\nstderr:\n%s",
                             s->sbuf ? s->sbuf : "", s->ebuf ? s->ebuf : "");
                pump(s, 100);
        }
}

int pr_spawn_finish(struct pr_spawn *s, unsigned timeout_sec)
{
        if (s->in >= 0)
                close(s->in);
        s->in = -1;
        double end = now() + timeout_sec;
        while ((s->out >= 0 || s->err >= 0 || s->status >= 0) && now() < end)
                pump(s, 100);
        int status = 0;
        for (;;) {
                pid_t r = waitpid(s->pid, &status, WNOHANG);
                if (r == s->pid)
                        break;
                if (now() > end) {
                        kill(s->pid, SIGKILL);
                        waitpid(s->pid, &status, 0);
                        FAIL("cloister did not end within %u s\nstdout:\n%s\nstderr:\n%s",
                             timeout_sec, s->obuf ? s->obuf : "", s->ebuf ? s->ebuf : "");
                }
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        if (!s->obuf)
                s->obuf = strdup("");
        if (!s->ebuf)
                s->ebuf = strdup("");
        if (!s->sbuf)
                s->sbuf = strdup("");
        return status;
}

/* ---- the host, from outside ---- */

int pr_find_marked(const char *marker, pid_t *pids, int max)
{
        DIR *d = opendir("/proc");
        if (!d)
                FAIL("opendir /proc: %s", strerror(errno));
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] < '0' || e->d_name[0] > '9')
                        continue;
                char path[300], buf[4096];
                snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                ssize_t len = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                if (len <= 0)
                        continue;
                buf[len] = '\0';
                size_t a0 = strlen(buf);
                if (a0 < 5 || strcmp(buf + a0 - 5, "probe") != 0)
                        continue;
                bool found = false;
                for (size_t off = 0; off < (size_t)len; off += strlen(buf + off) + 1)
                        if (strcmp(buf + off, marker) == 0)
                                found = true;
                if (!found)
                        continue;
                if (n < max)
                        pids[n] = atoi(e->d_name);
                n++;
        }
        closedir(d);
        return n;
}

int pr_wait_marked_count(const char *marker, int n, pid_t *pids, int max, unsigned timeout_ms)
{
        double end = now() + timeout_ms / 1000.0;
        for (;;) {
                int got = pr_find_marked(marker, pids, max);
                if (got == n || now() > end)
                        return got;
                struct timespec ts = {0, 20 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
}

int pr_wait_marked_gone(const char *marker, unsigned timeout_ms)
{
        pid_t pids[16];
        double end = now() + timeout_ms / 1000.0;
        for (;;) {
                int n = pr_find_marked(marker, pids, 16);
                if (n == 0 || now() > end)
                        return n;
                struct timespec ts = {0, 20 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
}

char *pr_mounts(void)
{
        char *m = tap_read_file("/proc/self/mountinfo");
        if (!m)
                FAIL("read /proc/self/mountinfo: %s", strerror(errno));
        return m;
}

static bool has_line(const char *text, const char *line, size_t len)
{
        for (const char *p = text; p && *p;) {
                size_t l = strcspn(p, "\n");
                if (l == len && memcmp(p, line, len) == 0)
                        return true;
                p += l;
                if (*p)
                        p++;
        }
        return false;
}

void pr_check_no_new_mounts(const char *before, const char *after, const char *when)
{
        for (const char *p = after; p && *p;) {
                size_t l = strcspn(p, "\n");
                if (l > 0 && !has_line(before, p, l))
                        FAIL("%s: a mount appeared on the host: %.*s", when, (int)l, p);
                p += l;
                if (*p)
                        p++;
        }
}

/* A name cloister's run could give a temporary entry: "cloister" then
 * anything but '-' (mkdtemp's "cloisterXXXXXX", "cloister.XXXXXX"), or
 * "cloister-run", "cloister-sandbox", "cloister-root". Other tests on the
 * machine (this one's "cloister-test.", other tiers' "cloister-diff-...")
 * come and go in /tmp meanwhile; the private TMPDIR check is the strict one. */
static bool own_tmp_name(const char *name)
{
        if (strncmp(name, "cloister", 8) != 0)
                return false;
        if (name[8] != '-')
                return true;
        return strncmp(name, "cloister-run", 12) == 0 ||
               strncmp(name, "cloister-sandbox", 16) == 0 ||
               strncmp(name, "cloister-root", 13) == 0;
}

char *pr_tmp_entries(const char *dir)
{
        DIR *d = opendir(dir);
        char *out = strdup("");
        size_t len = 0;
        if (!d)
                return out;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (!own_tmp_name(e->d_name))
                        continue;
                size_t l = strlen(e->d_name);
                out = realloc(out, len + l + 2);
                memcpy(out + len, e->d_name, l);
                out[len + l] = '\n';
                len += l + 1;
                out[len] = '\0';
        }
        closedir(d);
        return out;
}

void pr_check_no_new_tmp(const char *before, const char *after, const char *when)
{
        for (const char *p = after; p && *p;) {
                size_t l = strcspn(p, "\n");
                if (l > 0 && !has_line(before, p, l))
                        FAIL("%s: a temporary entry was left behind: /tmp/%.*s", when, (int)l, p);
                p += l;
                if (*p)
                        p++;
        }
}

char *pr_proc_status(pid_t pid, const char *key)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/status", pid);
        char *st = tap_read_file(path);
        if (!st)
                return NULL;
        size_t klen = strlen(key);
        char *r = NULL;
        for (char *p = st; *p;) {
                if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
                        char *v = p + klen + 1;
                        v += strspn(v, " \t");
                        r = strndup(v, strcspn(v, "\n"));
                        break;
                }
                p += strcspn(p, "\n");
                if (*p)
                        p++;
        }
        free(st);
        return r;
}

/* ---- confinement of tests that start many processes ---- */

/* Tasks (threads) whose real uid is ours, as this namespace sees them. */
static unsigned long own_tasks(void)
{
        DIR *d = opendir("/proc");
        if (!d)
                FAIL("opendir /proc: %s", strerror(errno));
        unsigned long n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] < '0' || e->d_name[0] > '9')
                        continue;
                char *uid = pr_proc_status(atoi(e->d_name), "Uid");
                char *thr = pr_proc_status(atoi(e->d_name), "Threads");
                if (uid && thr && strtoul(uid, NULL, 10) == getuid())
                        n += strtoul(thr, NULL, 10);
                free(uid);
                free(thr);
        }
        closedir(d);
        return n;
}

static void write_text(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
                FAIL("write '%s' to %s: %s", text, path, strerror(errno));
        close(fd);
}

/* A pids cgroup leaf for this test (v1's pids hierarchy, or v2), or NULL. */
static char *make_pids_leaf(unsigned max, char **cgroup_line)
{
        char *dir = NULL;
        const char *v1 = "/sys/fs/cgroup/pids", *v2 = "/sys/fs/cgroup";
        bool is_v1 = access("/sys/fs/cgroup/pids/cgroup.procs", F_OK) == 0;
        if (!is_v1) {
                char *ctl = tap_read_file("/sys/fs/cgroup/cgroup.controllers");
                bool pids = ctl && strstr(ctl, "pids");
                free(ctl);
                if (!pids)
                        FAIL("no pids cgroup controller to confine the test with");
                /* the leaf only gets pids.max when its parent delegates it */
                write_text("/sys/fs/cgroup/cgroup.subtree_control", "+pids");
        }
        if (asprintf(&dir, "%s/cloister-test-%d", is_v1 ? v1 : v2, getpid()) < 0)
                abort();
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                FAIL("mkdir %s: %s", dir, strerror(errno));
        char *path = NULL, *text = NULL;
        if (asprintf(&path, "%s/pids.max", dir) < 0 || asprintf(&text, "%u", max) < 0)
                abort();
        write_text(path, text);
        char *back = tap_read_file(path);
        if (!back || strtoul(back, NULL, 10) != max)
                FAIL("%s reads '%s', not %u", path, back ? back : "", max);
        if (asprintf(cgroup_line, "%s/cloister-test-%d\n", is_v1 ? ":pids:" : "0::", getpid()) <
            0)
                abort();
        return dir;
}

void pr_confined(unsigned max, void (*fn)(void))
{
        char *leaf = NULL, *line = NULL;
        if (pr_real_root())
                leaf = make_pids_leaf(max, &line);
        unsigned long limit = leaf ? 0 : own_tasks() + max;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                FAIL("fork: %s", strerror(errno));
        if (pid == 0) {
                if (leaf) {
                        char *procs = NULL;
                        if (asprintf(&procs, "%s/cgroup.procs", leaf) < 0)
                                abort();
                        write_text(procs, "0");
                        char *cg = tap_read_file("/proc/self/cgroup");
                        if (!cg || !strstr(cg, line))
                                FAIL("not in the pids cgroup leaf %s:\n%s", leaf, cg ? cg : "");
                } else {
                        struct rlimit rl = {limit, limit}, got;
                        if (setrlimit(RLIMIT_NPROC, &rl) < 0 ||
                            getrlimit(RLIMIT_NPROC, &got) < 0 || got.rlim_cur != limit)
                                FAIL("RLIMIT_NPROC %lu: %s", limit, strerror(errno));
                }
                fn();
                fflush(NULL);
                _exit(0);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (leaf) {
                char *procs = NULL;
                if (asprintf(&procs, "%s/cgroup.procs", leaf) < 0)
                        abort();
                for (int i = 0; i < 500 && rmdir(leaf) < 0 && errno == EBUSY; i++) {
                        /* whatever is left in the leaf goes; on a loaded
                         * machine the last tasks may take seconds to be reaped */
                        char *left = tap_read_file(procs);
                        for (char *p = left; p && *p; p += strcspn(p, "\n"), p += !!*p)
                                kill(atoi(p), SIGKILL);
                        free(left);
                        struct timespec ts = {0, 20 * 1000 * 1000};
                        nanosleep(&ts, NULL);
                }
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                FAIL("the confined part failed (status %d)", status);
}
