/* Store objects on disk: Nix's metadata canonicalisation (modes 0444/0555,
 * mtime 1, no extended attributes, owned by us) and removal of a read-only
 * tree, both through directory fds without following symlinks. */
#pragma once

#include "base/base-error.h"

/* Canonicalise name (relative to dirfd) and everything below it as Nix 2.8's
 * canonicalisePathMetaData: a mode other than 0444 and 0555 becomes 0444, plus
 * 0111 when the owner could execute; mtime 1; xattrs removed; a file owned by
 * someone else is chowned to the effective uid and gid (root:root after a
 * build as root). Sockets, FIFOs and devices are
 * refused (-EINVAL). */
int store_canonicalise_at(int dirfd, const char *name, struct cl_error *err);

/* The same for name alone, not what is below it. */
int store_canonicalise_top_at(int dirfd, const char *name, struct cl_error *err);

/* Rename from (in from_fd) to to (in to_fd), never replacing; a read-only
 * directory is made writable for the move and given its mode back (its mtime
 * changes: canonicalise it again). Returns 0 or -errno (err is only filled when
 * the mode cannot be changed). */
int store_move_at(int from_fd, const char *from, int to_fd, const char *to, struct cl_error *err);

/* Remove name and everything below it, making directories writable first (store
 * objects are read-only). A missing name is not an error. */
int store_remove_tree_at(int dirfd, const char *name, struct cl_error *err);
