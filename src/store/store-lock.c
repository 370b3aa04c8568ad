/* Lock files shared with Nix: flock on lock files, per-path locks with Nix's
 * stale-file rule, and temporary GC roots. Every file is reached through a
 * directory fd; the protocol (which lock, which file, which bytes) follows
 * Nix 2.8's pathlocks.cc and gc.cc, checked with strace against nix-store. */
#include "store/store-lock.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int store_lock_open(int dirfd, const char *name, struct cl_error *err)
{
        int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return cl_err(err, errno, "open lock file '%s'", name);
        return fd;
}

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int store_lock_fd(int fd, int op, long timeout_ms)
{
        if (op == LOCK_UN)
                return flock(fd, LOCK_UN) < 0 ? -errno : 0;
        if (timeout_ms == STORE_LOCK_FOREVER) {
                while (flock(fd, op) < 0)
                        if (errno != EINTR)
                                return -errno;
                return 0;
        }
        /* flock has no timeout: poll, backing off from 1 ms to 50 ms */
        long deadline = now_ms() + timeout_ms;
        long pause = 1;
        for (;;) {
                if (flock(fd, op | LOCK_NB) == 0)
                        return 0;
                if (errno == EINTR)
                        continue;
                if (errno != EWOULDBLOCK)
                        return -errno;
                long left = deadline - now_ms();
                if (left <= 0)
                        return -EWOULDBLOCK;
                if (pause > left)
                        pause = left;
                struct timespec ts = {pause / 1000, (pause % 1000) * 1000000L};
                nanosleep(&ts, NULL);
                if (pause < 50)
                        pause *= 2;
        }
}

int store_path_lock_acquire(int dirfd, const char *name, long timeout_ms,
                            struct store_path_lock *ret, struct cl_error *err)
{
        _cleanup_free_ char *lock_name = NULL;
        if (asprintf(&lock_name, "%s.lock", name) < 0)
                return cl_err(err, ENOMEM, "lock '%s'", name);
        for (;;) {
                _cleanup_close_ int fd = store_lock_open(dirfd, lock_name, err);
                if (fd < 0)
                        return fd;
                int r = store_lock_fd(fd, LOCK_EX, timeout_ms);
                if (r == -EWOULDBLOCK)
                        return cl_errx(err, EWOULDBLOCK,
                                       "lock file '%s' is held by another process", lock_name);
                if (r < 0)
                        return cl_err(err, -r, "lock '%s'", lock_name);
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return cl_err(err, errno, "stat lock file '%s'", lock_name);
                /* A non-empty lock file was unlinked by its last holder: another
                 * process may already have created a fresh one, so start over. */
                if (st.st_size != 0)
                        continue;
                ret->fd = TAKE_FD(fd);
                ret->dirfd = dirfd;
                ret->lock_name = TAKE_PTR(lock_name);
                return 0;
        }
}

void store_path_lock_release(struct store_path_lock *l, bool delete)
{
        if (l->fd < 0)
                return;
        if (delete) {
                /* the unlink is only tidiness; the "d" is what tells waiters */
                (void)unlinkat(l->dirfd, l->lock_name, 0);
                (void)fd_write_all(l->fd, "d", 1);
        }
        close(l->fd);
        l->fd = -1;
        free(l->lock_name);
        l->lock_name = NULL;
}

static int temproots_create(struct store_temproots *t, int state_dirfd, struct cl_error *err)
{
        snprintf(t->name, sizeof(t->name), "%ld", (long)getpid());
        _cleanup_close_ int dfd =
            openat(state_dirfd, "temproots", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return cl_err(err, errno, "open directory 'temproots'");
        for (;;) {
                /* a file with our pid can only be stale */
                (void)unlinkat(dfd, t->name, 0);
                _cleanup_close_ int fd = store_lock_open(dfd, t->name, err);
                if (fd < 0)
                        return fd;
                int r = store_lock_fd(fd, LOCK_EX, STORE_LOCK_FOREVER);
                if (r < 0)
                        return cl_err(err, -r, "lock 'temproots/%s'", t->name);
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return cl_err(err, errno, "stat 'temproots/%s'", t->name);
                /* non-empty: a collector took it for stale and deleted it */
                if (st.st_size != 0)
                        continue;
                t->fd = TAKE_FD(fd);
                t->state_dirfd = state_dirfd;
                return 0;
        }
}

/* Tell a running collector about the root: "<path>\n", answered by '1'. */
static int temproots_send(struct store_temproots *t, const char *store_path, struct cl_error *err)
{
        if (t->socket_fd < 0) {
                _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (s < 0)
                        return cl_err(err, errno, "create socket");
                struct sockaddr_un sa = {.sun_family = AF_UNIX};
                /* through /proc so that a long state directory still fits */
                snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/gc-socket/socket",
                         t->state_dirfd);
                if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                        return -errno;
                t->socket_fd = TAKE_FD(s);
        }
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "%s\n", store_path) < 0)
                return cl_err(err, ENOMEM, "send GC root");
        int r = fd_send_all(t->socket_fd, line, strlen(line));
        char c = 0;
        if (r == 0) {
                ssize_t n = fd_read_full(t->socket_fd, &c, 1);
                r = n == 1 ? 0 : n < 0 ? (int)n : -ECONNRESET;
        }
        if (r < 0 || c != '1') {
                close(t->socket_fd);
                t->socket_fd = -1;
                return r < 0 ? r : -EPROTO;
        }
        return 0;
}

int store_temproots_add(struct store_temproots *t, int state_dirfd, const char *store_path,
                        struct cl_error *err)
{
        int r;
        if (t->fd < 0) {
                r = temproots_create(t, state_dirfd, err);
                if (r < 0)
                        return r;
        }
        if (t->collecting) {
                /* we are the collector (gc.lock is ours), so none can run that
                 * would need telling; the file is for anyone after us */
                r = fd_write_all(t->fd, store_path, strlen(store_path) + 1);
                return r < 0 ? cl_err(err, -r, "write 'temproots/%s'", t->name) : 0;
        }
        _cleanup_close_ int gc = store_lock_open(state_dirfd, "gc.lock", err);
        if (gc < 0)
                return gc;
        for (int attempt = 0;; attempt++) {
                /* a shared gc.lock means no collector runs; hold it until the
                 * root is in the file so that none can start in between */
                r = store_lock_fd(gc, LOCK_SH, 0);
                if (r == 0)
                        break;
                if (r != -EWOULDBLOCK)
                        return cl_err(err, -r, "lock 'gc.lock'");
                r = temproots_send(t, store_path, err);
                if (r == 0)
                        break;
                if (r != -ECONNREFUSED && r != -ENOENT && r != -EPIPE && r != -ECONNRESET &&
                    r != -EPROTO)
                        return cl_err(err, -r, "send GC root '%s' to the garbage collector",
                                      store_path);
                if (attempt > 600)
                        return cl_err(err, -r, "send GC root '%s' to the garbage collector",
                                      store_path);
                /* the collector is starting or finishing: try again shortly */
                struct timespec ts = {0, 100 * 1000000L};
                nanosleep(&ts, NULL);
        }
        r = fd_write_all(t->fd, store_path, strlen(store_path) + 1);
        (void)store_lock_fd(gc, LOCK_UN, 0);
        if (r < 0)
                return cl_err(err, -r, "write 'temproots/%s'", t->name);
        return 0;
}

void store_temproots_close(struct store_temproots *t)
{
        if (t->fd >= 0) {
                _cleanup_close_ int dfd = openat(t->state_dirfd, "temproots",
                                                 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (dfd >= 0)
                        (void)unlinkat(dfd, t->name, 0);
                close(t->fd);
                t->fd = -1;
        }
        if (t->socket_fd >= 0) {
                close(t->socket_fd);
                t->socket_fd = -1;
        }
}
