/* The garbage collector's side of Nix's GC protocol, for deleting given paths
 * (nix-store --delete): hold gc.lock exclusively, take the temporary roots of
 * other processes over "<state>/gc-socket/socket" while it is held, find the
 * permanent, temporary and runtime roots, and refuse a path that is still
 * alive. */
#pragma once

#include "base/base-error.h"
#include "store/store-db.h"

#include <stddef.h>

struct store_gc;

/* Take gc.lock exclusively (waiting at most the handle's timeout), start the
 * roots socket, and find the roots:
 *   - permanent: symlinks below <state>/gcroots and <state>/profiles into the
 *     store, directly or through one symlink outside it (indirect roots;
 *     stale ones in gcroots/auto are removed, as Nix does), and regular files
 *     there named after a store path;
 *   - temporary: <state>/temproots/<pid> of processes that still hold them
 *     (stale files are removed);
 *   - runtime: store paths in use by a running process (/proc/<pid>/exe,
 *     cwd, the fds, maps, environ) and in kernel/modprobe, fbsplash and
 *     poweroff_cmd.
 * Only valid paths count. */
int store_gc_begin(struct store_db *db, struct store_gc **ret_gc, struct cl_error *err);

/* Acknowledge the roots other processes have sent since the last call; from
 * then on those paths count as roots. Call before each deletion. A client
 * that misbehaves (sends more before reading its answers) is dropped; none
 * can make this block. */
int store_gc_serve(struct store_gc *gc, struct cl_error *err);

/* Is path, to be deleted together with the n paths in set, still alive? As
 * Nix's deleteReferrersClosure: walking referrers (and, for a derivation, its
 * valid outputs, Nix's default keep-derivations) from path, it is alive when
 * the walk meets a root or a path outside set. Returns 0 when it may go, or
 * -EBUSY with a message saying why not. */
int store_gc_check(struct store_gc *gc, char *const *set, size_t n, const char *path,
                   struct cl_error *err);

/* Acknowledge what is pending, stop the socket and release gc.lock. */
void store_gc_end(struct store_gc *gc);
static inline void store_gc_endp(struct store_gc **gc)
{
        if (*gc)
                store_gc_end(*gc);
}
#define _cleanup_store_gc_ __attribute__((cleanup(store_gc_endp)))
