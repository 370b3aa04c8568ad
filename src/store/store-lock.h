/* Nix's lock protocol, so that cloister and Nix can share one store: flock(2)
 * locks on lock files (Nix 2.x uses flock, not fcntl), per-path "<path>.lock"
 * files with the stale-lock rule, and the per-process temporary GC roots file
 * with its hand-off to a running garbage collector. */
#pragma once

#include "base/base-error.h"

#include <stdbool.h>

/* Wait for ever when passed as a timeout. */
#define STORE_LOCK_FOREVER (-1L)

/* Open (creating, mode 0600) the lock file name relative to dirfd, as Nix's
 * openLockFile does. Returns the fd or -errno. */
int store_lock_open(int dirfd, const char *name, struct cl_error *err);

/* flock(fd, op) for op LOCK_SH, LOCK_EX or LOCK_UN, waiting at most timeout_ms
 * milliseconds (0: do not wait; STORE_LOCK_FOREVER: wait for ever).
 * Returns 0, -EWOULDBLOCK when the time ran out, or another -errno. */
int store_lock_fd(int fd, int op, long timeout_ms);

/* An exclusive lock on "<name>.lock" beside a store path, held until
 * store_path_lock_release. */
struct store_path_lock {
        int fd;
        int dirfd; /* not owned */
        char *lock_name;
};

#define STORE_PATH_LOCK_INIT                                                                       \
        {                                                                                          \
                -1, -1, NULL                                                                       \
        }

/* Lock the path name (a base name in the real store directory dirfd). Follows
 * Nix's PathLocks: create "<name>.lock", take LOCK_EX, and start again when the
 * file turned out stale (non-empty: its owner unlinked it and wrote "d").
 * -EWOULDBLOCK when timeout_ms passed. */
int store_path_lock_acquire(int dirfd, const char *name, long timeout_ms,
                            struct store_path_lock *ret, struct cl_error *err);

/* Release; with delete, first unlink the lock file and mark it stale as Nix's
 * deleteLockFile does, so that waiters start over. */
void store_path_lock_release(struct store_path_lock *l, bool delete);

/* The scope cleanup removes the lock file too: with the stale marker that is
 * safe whether or not the work under the lock succeeded. */
static inline void store_path_lock_releasep(struct store_path_lock *l)
{
        store_path_lock_release(l, true);
}
#define _cleanup_path_lock_ __attribute__((cleanup(store_path_lock_releasep)))

/* This process's temporary GC roots: "<state>/temproots/<pid>", locked LOCK_EX
 * for the life of the process; each root is appended as "<path>\0". While a
 * garbage collector holds gc.lock exclusively, the root is also sent to its
 * socket "<state>/gc-socket/socket" as "<path>\n" and acknowledged with '1'. */
struct store_temproots {
        int state_dirfd; /* not owned */
        int fd;
        int socket_fd;
        char name[32];
        bool collecting; /* this process holds gc.lock: its roots need no hand-off */
};

#define STORE_TEMPROOTS_INIT                                                                       \
        {                                                                                          \
                -1, -1, -1, {0}, false                                                             \
        }

int store_temproots_add(struct store_temproots *t, int state_dirfd, const char *store_path,
                        struct cl_error *err);

/* Remove the roots file (done at store close, as Nix does at exit). */
void store_temproots_close(struct store_temproots *t);
