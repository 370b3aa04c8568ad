/* Store objects on disk: Nix's metadata canonicalisation (modes 0444/0555,
 * mtime 1, no extended attributes, owned by us) and removal of a read-only
 * tree, both through directory fds without following symlinks. */
#pragma once

#include "base/base-error.h"

/* Canonicalise name (relative to dirfd) and everything below it as Nix 2.8's
 * canonicalisePathMetaData: a mode other than 0444 and 0555 becomes 0444, plus
 * 0111 when the owner could execute; mtime 1; xattrs removed; a file owned by
 * someone else is chowned to the effective uid. Sockets, FIFOs and devices are
 * refused (-EINVAL). */
int store_canonicalise_at(int dirfd, const char *name, struct cl_error *err);

/* Remove name and everything below it, making directories writable first (store
 * objects are read-only). A missing name is not an error. */
int store_remove_tree_at(int dirfd, const char *name, struct cl_error *err);
