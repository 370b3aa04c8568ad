/* The format of nix-store --export and --import: for each path, the number 1,
 * its NAR, the magic "NIXE", the path, its references, its deriver and a
 * (legacy, unused) signature flag; the number 0 at the end. Numbers are 64-bit
 * little endian and strings length-prefixed and zero-padded to 8 bytes, as in
 * NARs. */
#pragma once

#include "base/base-error.h"
#include "store/store-db.h"

#include <stddef.h>

/* 0x4558494e: "NIXE" read as a little-endian number */
#define STORE_EXPORT_MAGIC 0x4558494eu

/* Write the given valid paths (not their closure), dependencies first, to fd.
 * A path whose NAR hash no longer matches the database is refused, as Nix does. */
int store_export(struct store_db *db, char *const *paths, size_t n, int fd, struct cl_error *err);

/* Read an export stream from fd and add every path in it: each NAR is checked
 * and restored into the staging area, and all new paths are registered in one
 * transaction once the whole stream was read (references must be valid or in
 * the stream). *ret_paths gets the paths in stream order (NULL-terminated). */
int store_import(struct store_db *db, int fd, char ***ret_paths, struct cl_error *err);
