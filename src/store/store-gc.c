/* Deleting given paths as Nix's collector does (see store-gc.h): the roots,
 * the roots socket served between deletions, and the walk that decides
 * whether a path is still alive. */
#include "store/store-gc.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"
#include "store/store-lock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A root and what makes it one, as the end of a sentence: "is a GC root
 * ('/nix/var/nix/gcroots/x')". */
struct gc_root {
        char *path;
        char *why;
};

/* A connection to the roots socket and the part of a line read so far. */
struct gc_client {
        int fd;
        pid_t pid;
        char line[4096];
        size_t len;
};

struct store_gc {
        struct store_db *db;
        int lock_fd;   /* gc.lock, held LOCK_EX */
        int server_fd; /* gc-socket/socket, non-blocking */
        struct gc_root *roots;
        size_t n_roots, cap_roots;
        size_t n_sorted; /* roots[0..n_sorted) are sorted by path */
        struct gc_client *clients;
        size_t n_clients, cap_clients;
};

/* ---- the roots ---- */

static int cmp_root(const void *a, const void *b)
{
        return strcmp(((const struct gc_root *)a)->path, ((const struct gc_root *)b)->path);
}

static const struct gc_root *find_root(const struct store_gc *gc, const char *path)
{
        struct gc_root key = {.path = (char *)path};
        const struct gc_root *r =
            gc->n_sorted ? bsearch(&key, gc->roots, gc->n_sorted, sizeof(*gc->roots), cmp_root)
                         : NULL;
        if (r)
                return r;
        for (size_t i = gc->n_sorted; i < gc->n_roots; i++)
                if (strcmp(gc->roots[i].path, path) == 0)
                        return &gc->roots[i];
        return NULL;
}

/* Add the store path that target names (target itself or something below
 * it) as a root when it is valid; anything else is not a root. */
static int add_root(struct store_gc *gc, const char *target, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int add_root(struct store_gc *gc, const char *target, const char *fmt, ...)
{
        const char *store_dir = store_db_store_dir(gc->db);
        size_t sl = strlen(store_dir);
        if (strncmp(target, store_dir, sl) != 0 || target[sl] != '/')
                return 0;
        _cleanup_free_ char *path = strdup(target);
        if (!path)
                return -ENOMEM;
        char *slash = strchr(path + sl + 1, '/');
        if (slash)
                *slash = '\0';
        if (store_db_check_path(gc->db, path, NULL, NULL) < 0 || find_root(gc, path))
                return 0;
        int valid = store_db_is_valid(gc->db, path, NULL);
        if (valid <= 0)
                return valid;
        if (gc->n_roots == gc->cap_roots) {
                size_t cap = gc->cap_roots ? gc->cap_roots * 2 : 32;
                struct gc_root *v = reallocarray(gc->roots, cap, sizeof(*v));
                if (!v)
                        return -ENOMEM;
                gc->roots = v;
                gc->cap_roots = cap;
        }
        char *why = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&why, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        gc->roots[gc->n_roots++] = (struct gc_root){TAKE_PTR(path), why};
        return 0;
}

static void sort_roots(struct store_gc *gc)
{
        if (gc->n_roots)
                qsort(gc->roots, gc->n_roots, sizeof(*gc->roots), cmp_root);
        gc->n_sorted = gc->n_roots;
}

/* readlinkat into a malloc'd string; -errno on failure. */
static int read_link_at(int dirfd, const char *name, char **ret)
{
        char buf[4096];
        ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        char *copy = strdup(buf);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

static bool ignorable(int r)
{
        return r == -ENOENT || r == -EACCES || r == -EPERM || r == -ENOTDIR || r == -ESRCH ||
               r == -ELOOP;
}

/* Nix's findRoots over the directory parent_fd (named shown in messages): a
 * symlink into the store is a root; a symlink elsewhere that is itself a
 * symlink into the store is an indirect root (a build's "result"), and one
 * that is gone is removed when it is in gcroots/auto; a regular file named
 * after a store path is a root. */
enum roots_dir { ROOTS_PLAIN, ROOTS_AUTO, ROOTS_GCROOTS };

static int find_permanent(struct store_gc *gc, int parent_fd, const char *shown,
                          enum roots_dir kind)
{
        int fd = openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return ignorable(-errno) ? 0 : -errno;
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        const char *sd = store_db_store_dir(gc->db);
        size_t sl = strlen(sd);
        struct dirent *e;
        while ((errno = 0, e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                _cleanup_free_ char *here = NULL;
                if (asprintf(&here, "%s/%s", shown, e->d_name) < 0)
                        return -ENOMEM;
                struct stat st;
                if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (ignorable(-errno))
                                continue;
                        return -errno;
                }
                int r = 0;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(
                            dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (sub < 0) {
                                if (ignorable(-errno))
                                        continue;
                                return -errno;
                        }
                        enum roots_dir sub_kind =
                            kind == ROOTS_AUTO ||
                                    (kind == ROOTS_GCROOTS && strcmp(e->d_name, "auto") == 0)
                                ? ROOTS_AUTO
                                : ROOTS_PLAIN;
                        r = find_permanent(gc, sub, here, sub_kind);
                } else if (S_ISLNK(st.st_mode)) {
                        _cleanup_free_ char *target = NULL;
                        r = read_link_at(dirfd(d), e->d_name, &target);
                        if (r < 0) {
                                if (ignorable(r))
                                        continue;
                                return r;
                        }
                        if (strncmp(target, sd, sl) == 0 && target[sl] == '/') {
                                r = add_root(gc, target, "is a GC root ('%s')", here);
                        } else {
                                /* relative targets are relative to the link */
                                int at = target[0] == '/' ? AT_FDCWD : dirfd(d);
                                _cleanup_free_ char *target2 = NULL;
                                struct stat st2;
                                if (fstatat(at, target, &st2, AT_SYMLINK_NOFOLLOW) < 0) {
                                        if (kind == ROOTS_AUTO && errno == ENOENT)
                                                (void)unlinkat(dirfd(d), e->d_name, 0);
                                        continue;
                                }
                                if (!S_ISLNK(st2.st_mode) || read_link_at(at, target, &target2) < 0)
                                        continue;
                                r = add_root(gc, target2, "is a GC root ('%s', through '%s')",
                                             target, here);
                        }
                } else if (S_ISREG(st.st_mode)) {
                        _cleanup_free_ char *p = NULL;
                        if (asprintf(&p, "%s/%s", sd, e->d_name) < 0)
                                return -ENOMEM;
                        r = add_root(gc, p, "is a GC root ('%s')", here);
                }
                if (r < 0)
                        return r;
        }
        return errno ? -errno : 0;
}

/* The permanent roots: <state>/gcroots (gcroots/auto holds the indirect
 * ones) and <state>/profiles. */
static int find_permanent_all(struct store_gc *gc)
{
        int state = store_db_state_fd(gc->db);
        char proc[64], shown[4096];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", state);
        ssize_t n = readlink(proc, shown, sizeof(shown) - 1);
        if (n < 0)
                return -errno;
        shown[n] = '\0';
        static const char *const dirs[] = {"gcroots", "profiles"};
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                _cleanup_close_ int fd =
                    openat(state, dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                        if (ignorable(-errno))
                                continue;
                        return -errno;
                }
                _cleanup_free_ char *top = NULL;
                if (asprintf(&top, "%s/%s", shown, dirs[i]) < 0)
                        return -ENOMEM;
                int r = find_permanent(gc, fd, top, i == 0 ? ROOTS_GCROOTS : ROOTS_PLAIN);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Nix's findTempRoots: "<path>\0" records of processes that still hold their
 * file; a file nobody holds is stale and goes. */
static int find_temporary(struct store_gc *gc)
{
        int state = store_db_state_fd(gc->db);
        _cleanup_close_ int fd = openat(state, "temproots", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1;
        struct dirent *e;
        while ((errno = 0, e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                _cleanup_close_ int f =
                    openat(dirfd(d), e->d_name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
                if (f < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (store_lock_fd(f, LOCK_EX, 0) == 0) {
                        /* its owner is gone: tell anyone who still opens it */
                        (void)unlinkat(dirfd(d), e->d_name, 0);
                        (void)fd_write_all(f, "d", 1);
                        continue;
                }
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                int r = fd_read_all(f, 64u << 20, &data, &len);
                if (r < 0)
                        return r;
                for (size_t pos = 0; pos < len;) {
                        const char *end = memchr(data + pos, '\0', len - pos);
                        if (!end)
                                break; /* a record still being written */
                        r = add_root(gc, data + pos, "is a temporary root of process %s",
                                     e->d_name);
                        if (r < 0)
                                return r;
                        pos = (size_t)(end - data) + 1;
                }
        }
        return errno ? -errno : 0;
}

static bool is_hash_char(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

static bool is_name_char(char c)
{
        return is_hash_char(c) || (c >= 'A' && c <= 'Z') || (c && strchr("+-._?=", c));
}

/* The store paths named anywhere in text, as Nix's storePathRegex finds them:
 * "<store>/" and a hash-like run, then name characters. */
static int scan_text(struct store_gc *gc, const char *text, size_t len, const char *pid,
                     const char *what)
{
        const char *sd = store_db_store_dir(gc->db);
        size_t sl = strlen(sd);
        const char *end = text + len;
        for (const char *p = text; (p = memmem(p, (size_t)(end - p), sd, sl)); p++) {
                const char *q = p + sl;
                if (q >= end || *q != '/')
                        continue;
                const char *name = ++q;
                while (q < end && is_hash_char(*q))
                        q++;
                if (q == name)
                        continue;
                while (q < end && is_name_char(*q))
                        q++;
                _cleanup_free_ char *path = strndup(p, (size_t)(q - p));
                if (!path)
                        return -ENOMEM;
                int r = add_root(gc, path, "is in use by process %s (its %s)", pid, what);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int scan_link(struct store_gc *gc, int dirfd, const char *name, const char *pid,
                     const char *what)
{
        _cleanup_free_ char *target = NULL;
        int r = read_link_at(dirfd, name, &target);
        if (r < 0)
                return ignorable(r) ? 0 : r;
        return add_root(gc, target, "is in use by process %s (its %s)", pid, what);
}

static int scan_file(struct store_gc *gc, int dirfd, const char *name, const char *pid,
                     const char *what)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = fd_read_file_at(dirfd, name, 64u << 20, 1, &data, &len);
        if (r < 0)
                return ignorable(r) ? 0 : r;
        return scan_text(gc, data, len, pid, what);
}

/* Nix's findRuntimeRoots. maps is scanned as text: its path column is the
 * only place a store path can appear. */
static int find_runtime(struct store_gc *gc)
{
        _cleanup_closedir_ DIR *proc = opendir("/proc");
        if (!proc)
                return -errno;
        struct dirent *e;
        while ((errno = 0, e = readdir(proc))) {
                /* ourselves included, as Nix: a delete run from inside a
                 * path, or by a cloister installed there, keeps it */
                if (e->d_name[0] < '0' || e->d_name[0] > '9')
                        continue;
                const char *pid = e->d_name;
                _cleanup_close_ int pfd =
                    openat(dirfd(proc), pid, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (pfd < 0)
                        continue;
                int r = scan_link(gc, pfd, "exe", pid, "executable");
                if (r >= 0)
                        r = scan_link(gc, pfd, "cwd", pid, "working directory");
                if (r >= 0)
                        r = scan_file(gc, pfd, "maps", pid, "memory map");
                if (r >= 0)
                        r = scan_file(gc, pfd, "environ", pid, "environment");
                if (r < 0)
                        return r;
                _cleanup_close_ int ffd = openat(pfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (ffd < 0)
                        continue;
                _cleanup_closedir_ DIR *fds = fdopendir(ffd);
                if (!fds)
                        continue;
                ffd = -1;
                struct dirent *f;
                while ((f = readdir(fds)))
                        if (f->d_name[0] != '.') {
                                r = scan_link(gc, dirfd(fds), f->d_name, pid, "open file");
                                if (r < 0)
                                        return r;
                        }
        }
        if (errno)
                return -errno;
        static const char *const files[] = {"modprobe", "fbsplash", "poweroff_cmd"};
        _cleanup_close_ int kfd = open("/proc/sys/kernel", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (size_t i = 0; kfd >= 0 && i < sizeof(files) / sizeof(files[0]); i++) {
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                if (fd_read_file_at(kfd, files[i], 4096, 1, &data, &len) < 0)
                        continue;
                while (len > 0 && data[len - 1] == '\n')
                        data[--len] = '\0';
                int r = add_root(gc, data, "is the kernel's %s", files[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- the roots socket ---- */

static int start_server(struct store_gc *gc, struct cl_error *err)
{
        int state = store_db_state_fd(gc->db);
        if (mkdirat(state, "gc-socket", 0755) < 0 && errno != EEXIST)
                return cl_err(err, errno, "create directory 'gc-socket'");
        _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s < 0)
                return cl_err(err, errno, "create socket");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        /* through /proc so that a long state directory still fits */
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/gc-socket/socket", state);
        if (unlinkat(state, "gc-socket/socket", 0) < 0 && errno != ENOENT)
                return cl_err(err, errno, "remove 'gc-socket/socket'");
        if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return cl_err(err, errno, "bind 'gc-socket/socket'");
        /* any user's process may tell the collector about its roots */
        if (fchmodat(state, "gc-socket/socket", 0666, 0) < 0)
                return cl_err(err, errno, "chmod 'gc-socket/socket'");
        if (listen(s, 128) < 0)
                return cl_err(err, errno, "listen on 'gc-socket/socket'");
        gc->server_fd = TAKE_FD(s);
        return 0;
}

static void drop_client(struct store_gc *gc, size_t i)
{
        close(gc->clients[i].fd);
        gc->clients[i] = gc->clients[--gc->n_clients];
}

/* A client is a process we do not trust (the socket is open to every user):
 * nothing it does may block us or grow without bound. */
#define GC_MAX_CLIENTS 256
#define GC_LINES_PER_SERVE 16

/* Read what client i has sent; each whole line is a root, answered by '1'
 * (garbage too, as Nix does). A client that sends more before reading its
 * answers, or a line longer than any store path, is dropped. Returns 1 when
 * the client is done. */
static int read_client(struct store_gc *gc, size_t i)
{
        struct gc_client *c = &gc->clients[i];
        for (int lines = 0; lines < GC_LINES_PER_SERVE;) {
                ssize_t n =
                    recv(c->fd, c->line + c->len, sizeof(c->line) - 1 - c->len, MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : 1;
                if (n == 0)
                        return 1;
                c->len += (size_t)n;
                char *nl;
                while (lines < GC_LINES_PER_SERVE && (nl = memchr(c->line, '\n', c->len))) {
                        *nl = '\0';
                        char pid[32];
                        snprintf(pid, sizeof(pid), "%ld", (long)c->pid);
                        int r = add_root(gc, c->line, "is a temporary root of process %s",
                                         c->pid > 0 ? pid : "(unknown)");
                        if (r < 0 || send(c->fd, "1", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1)
                                return 1;
                        lines++;
                        size_t used = (size_t)(nl - c->line) + 1;
                        memmove(c->line, nl + 1, c->len - used);
                        c->len -= used;
                }
                if (c->len == sizeof(c->line) - 1)
                        return 1; /* no store path is that long */
        }
        return 0;
}

int store_gc_serve(struct store_gc *gc, struct cl_error *err)
{
        while (gc->n_clients < GC_MAX_CLIENTS) {
                int fd = accept4(gc->server_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED ||
                            errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                            errno == ENOMEM)
                                break; /* the rest wait for the next round */
                        return cl_err(err, errno, "accept on 'gc-socket/socket'");
                }
                if (gc->n_clients == gc->cap_clients) {
                        size_t cap = gc->cap_clients ? gc->cap_clients * 2 : 8;
                        struct gc_client *v = reallocarray(gc->clients, cap, sizeof(*v));
                        if (!v) {
                                close(fd);
                                return cl_err(err, ENOMEM, "GC roots socket");
                        }
                        gc->clients = v;
                        gc->cap_clients = cap;
                }
                struct ucred cred = {0};
                socklen_t cl = sizeof(cred);
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0)
                        cred.pid = 0;
                gc->clients[gc->n_clients++] = (struct gc_client){.fd = fd, .pid = cred.pid};
        }
        for (size_t i = 0; i < gc->n_clients;)
                if (read_client(gc, i))
                        drop_client(gc, i);
                else
                        i++;
        return 0;
}

/* ---- begin, check, end ---- */

int store_gc_begin(struct store_db *db, struct store_gc **ret_gc, struct cl_error *err)
{
        struct store_gc *gc = calloc(1, sizeof(*gc));
        if (!gc)
                return cl_err(err, ENOMEM, "garbage collector");
        gc->db = db;
        gc->lock_fd = gc->server_fd = -1;
        _cleanup_store_gc_ struct store_gc *owned = gc;
        int state = store_db_state_fd(db);
        gc->lock_fd = store_lock_open(state, "gc.lock", err);
        if (gc->lock_fd < 0)
                return gc->lock_fd;
        int r = store_lock_fd(gc->lock_fd, LOCK_EX, store_db_timeout_ms(db));
        if (r == -EWOULDBLOCK)
                return cl_errx(err, EBUSY,
                               "the garbage collector lock 'gc.lock' is held by another process "
                               "(a garbage collection or a process adding a root)");
        if (r < 0)
                return cl_err(err, -r, "lock 'gc.lock'");
        store_db_set_collecting(db, true);
        r = start_server(gc, err);
        if (r < 0)
                return r;
        r = find_permanent_all(gc);
        if (r < 0)
                return cl_err(err, -r, "find the GC roots");
        r = find_temporary(gc);
        if (r < 0)
                return cl_err(err, -r, "read the temporary GC roots");
        r = find_runtime(gc);
        if (r < 0)
                return cl_err(err, -r, "find the roots of running processes");
        sort_roots(gc);
        *ret_gc = TAKE_PTR(owned);
        return 0;
}

static bool in_set(char *const *set, size_t n, const char *path)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(set[i], path) == 0)
                        return true;
        return false;
}

/* The walk's nodes: a path, the node it was reached from, and how. */
struct gc_node {
        char *path;
        size_t from;
        bool as_output; /* a valid output of the derivation it was reached from */
};

static void free_nodes(struct gc_node *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i].path);
        free(v);
}

static int push_node(struct gc_node **v, size_t *n, size_t *cap, const char *path, size_t from,
                     bool as_output)
{
        for (size_t i = 0; i < *n; i++)
                if (strcmp((*v)[i].path, path) == 0)
                        return 0;
        if (*n == *cap) {
                size_t c = *cap ? *cap * 2 : 16;
                struct gc_node *nv = reallocarray(*v, c, sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                *v = nv;
                *cap = c;
        }
        char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        (*v)[(*n)++] = (struct gc_node){copy, from, as_output};
        return 0;
}

/* The message for a walk that ended at node i. */
static int alive_error(const struct gc_node *v, size_t i, const struct gc_root *root,
                       struct cl_error *err)
{
        const char *start = v[0].path, *what = v[i].path, *via = v[v[i].from].path;
        if (root && i == 0)
                return cl_errx(err, EBUSY, "cannot delete path '%s': it %s", start, root->why);
        if (root)
                return cl_errx(err, EBUSY, "cannot delete path '%s': '%s', which needs it, %s",
                               start, what, root->why);
        if (v[i].from == 0 && !v[i].as_output)
                return cl_errx(err, EBUSY,
                               "cannot delete path '%s': it is still referenced by '%s'", start,
                               what);
        if (v[i].from == 0)
                return cl_errx(err, EBUSY,
                               "cannot delete path '%s': its output '%s' is still valid", start,
                               what);
        return cl_errx(err, EBUSY, "cannot delete path '%s': '%s', which needs it, %s '%s'", start,
                       via, v[i].as_output ? "has the valid output" : "is still referenced by",
                       what);
}

int store_gc_check(struct store_gc *gc, char *const *set, size_t n, const char *path,
                   struct cl_error *err)
{
        struct gc_node *v = NULL;
        size_t nv = 0, cap = 0;
        int r = push_node(&v, &nv, &cap, path, 0, false);
        for (size_t i = 0; r >= 0 && i < nv; i++) {
                const struct gc_root *root = find_root(gc, v[i].path);
                if (root || !in_set(set, n, v[i].path)) {
                        r = alive_error(v, i, root, err);
                        break;
                }
                _cleanup_strv_ char **referrers = NULL;
                r = store_db_referrers(gc->db, v[i].path, &referrers, err);
                for (char **p = referrers; r >= 0 && p && *p; p++)
                        r = push_node(&v, &nv, &cap, *p, i, false);
                if (r < 0)
                        break;
                size_t len = strlen(v[i].path);
                if (len < 4 || strcmp(v[i].path + len - 4, ".drv") != 0)
                        continue;
                /* keep-derivations (Nix's default): a derivation lives as
                 * long as an output it built */
                _cleanup_(store_path_info_freep) struct store_path_info *info = NULL;
                r = store_db_query_info(gc->db, v[i].path, &info, err);
                for (size_t k = 0; r >= 0 && k < info->n_outputs; k++) {
                        _cleanup_(store_path_info_freep) struct store_path_info *out = NULL;
                        int q = store_db_query_info(gc->db, info->outputs[k].path, &out, NULL);
                        if (q == -ENOENT)
                                continue;
                        if (q < 0) {
                                r = cl_err(err, -q, "query '%s'", info->outputs[k].path);
                                break;
                        }
                        if (out->deriver && strcmp(out->deriver, v[i].path) == 0)
                                r = push_node(&v, &nv, &cap, out->path, i, true);
                }
        }
        if (r == -ENOMEM)
                r = cl_err(err, ENOMEM, "garbage collector");
        free_nodes(v, nv);
        return r < 0 ? r : 0;
}

void store_gc_end(struct store_gc *gc)
{
        if (gc->server_fd >= 0) {
                /* whoever is waiting for an answer gets it */
                (void)store_gc_serve(gc, NULL);
                close(gc->server_fd);
        }
        for (size_t i = 0; i < gc->n_clients; i++)
                close(gc->clients[i].fd);
        free(gc->clients);
        for (size_t i = 0; i < gc->n_roots; i++) {
                free(gc->roots[i].path);
                free(gc->roots[i].why);
        }
        free(gc->roots);
        if (gc->lock_fd >= 0) {
                store_db_set_collecting(gc->db, false);
                close(gc->lock_fd);
        }
        free(gc);
}
