/* Reference scanning as Nix does it after a build: which of a set of candidate
 * store-path hash parts (32 nix32 characters each) occur anywhere in a byte
 * stream, fed in chunks of any size (matches across chunk boundaries count). */
#pragma once

#include "base/base-error.h"

#include <stdbool.h>
#include <stddef.h>

#define REFSCAN_HASH_LEN 32

struct refscan;

/* A scanner for n candidates; hashes[i] points at 32 nix32 characters (no NUL
 * needed). The same hash given twice is one candidate with two indices. Returns
 * 0, -EINVAL (a candidate is not 32 nix32 characters, named in err) or -ENOMEM. */
int refscan_new(const char *const *hashes, size_t n, struct refscan **ret, struct cl_error *err);
void refscan_free(struct refscan *s);
static inline void refscan_freep(struct refscan **s)
{
        refscan_free(*s);
}
#define _cleanup_refscan_ __attribute__((cleanup(refscan_freep)))

/* Scan the next len bytes of the stream. Never fails. */
void refscan_feed(struct refscan *s, const void *data, size_t len);

/* Whether candidate i has been seen so far; how many distinct candidates have. */
bool refscan_found(const struct refscan *s, size_t i);
size_t refscan_found_count(const struct refscan *s);

/* Forget the stream and the results; the candidates stay. */
void refscan_reset(struct refscan *s);

/* Use the portable scanner even where a vector one exists (for tests and the
 * benchmark, which compare the two). */
void refscan_force_scalar(struct refscan *s, bool scalar);
