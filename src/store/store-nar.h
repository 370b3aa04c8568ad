/* NAR, Nix's archive format: streaming serialisation of a file system tree, a
 * validating streaming parser, restore into a directory, and the NAR hash and
 * size (optionally with a reference scan) computed in the same single pass. */
#pragma once

#include "base/base-error.h"
#include "store/store-hash.h"
#include "store/store-refscan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Limits enforced when reading a NAR (and, for depth, when writing one). */
#define NAR_MAX_DEPTH 256   /* directories nested in the top node */
#define NAR_MAX_NAME 255    /* bytes in a directory entry name (NAME_MAX) */
#define NAR_MAX_TARGET 4095 /* bytes in a symlink target (PATH_MAX - 1) */

/* Receives the NAR stream in order. Returns 0 or -errno with err filled. */
typedef int (*nar_write_fn)(void *userdata, const void *data, size_t len, struct cl_error *err);

/* Gives up to len bytes of the NAR stream: the count, 0 at its end, or -errno. */
typedef ssize_t (*nar_read_fn)(void *userdata, void *buf, size_t len, struct cl_error *err);

/* Serialise the file system object name, relative to dirfd (name "." for dirfd
 * itself), without following any symlink in or below it. Directory entries are
 * read and sorted bytewise, files read in large chunks; the sink sees chunks of
 * up to NAR_CHUNK bytes. Fails with -EINVAL for sockets, FIFOs and devices. */
#define NAR_CHUNK (128 * 1024)
int nar_dump_at(int dirfd, const char *name, nar_write_fn write, void *userdata,
                struct cl_error *err);
/* The same for a path (a top-level symlink is dumped as a symlink). */
int nar_dump_path(const char *path, nar_write_fn write, void *userdata, struct cl_error *err);

/* A sink writing to the fd that userdata points at (an int *). */
int nar_write_fd(void *userdata, const void *data, size_t len, struct cl_error *err);

/* Where the parser reads from. tee, when set, receives every byte the parser
 * consumes (to hash or scan a NAR while restoring it). The parser reads no byte
 * past the end of the NAR, so the read function may serve a longer stream. */
struct nar_source {
        nar_read_fn read;
        void *userdata;
        nar_write_fn tee;
        void *tee_userdata;
        bool whole; /* the stream is one NAR: a byte after it is an error */
};

/* A buffered reader over a fd for nar_source. It may read ahead of the NAR: what
 * follows the NAR stays in its buffer for the caller (see nar_fd_reader_read). */
struct nar_fd_reader {
        int fd;
        size_t pos, len;
        unsigned char buf[64 * 1024];
};
void nar_fd_reader_init(struct nar_fd_reader *r, int fd);
ssize_t nar_fd_reader_read(void *userdata, void *buf, size_t len, struct cl_error *err);

/* What the parser reports; every callback may be NULL. The node events come in
 * document order; names, targets and data are only valid during the call. */
struct nar_parse_ops {
        int (*directory_begin)(void *userdata, struct cl_error *err);
        int (*entry_begin)(void *userdata, const char *name, size_t len, struct cl_error *err);
        int (*entry_end)(void *userdata, struct cl_error *err);
        int (*directory_end)(void *userdata, struct cl_error *err);
        int (*regular_begin)(void *userdata, bool executable, uint64_t size, struct cl_error *err);
        int (*regular_data)(void *userdata, const void *data, size_t len, struct cl_error *err);
        int (*regular_end)(void *userdata, struct cl_error *err);
        int (*symlink)(void *userdata, const char *target, size_t len, struct cl_error *err);
};

/* Parse exactly one NAR from src, validating it: the canonical grammar, entries
 * strictly sorted, names not empty, '.', '..' and free of '/' and NUL, symlink
 * targets not empty and free of NUL, the limits above, zero padding, no early
 * end. A malformed stream gives -EBADMSG and "NAR at byte N: reason". *ret_size
 * (may be NULL) is the NAR's length. */
int nar_parse(const struct nar_source *src, const struct nar_parse_ops *ops, void *userdata,
              uint64_t *ret_size, struct cl_error *err);

/* Restore one NAR from src as name in the directory parent_fd. name must not
 * exist. The tree is built under a temporary name in parent_fd, through
 * directory fds, creating everything with O_EXCL and following no symlink, and
 * renamed to name only when the whole NAR was read and valid; on any failure
 * it is removed. Files get mode 0666 (0777 when executable), directories 0777,
 * both less the umask, as Nix restores them. */
int nar_restore_at(int parent_fd, const char *name, const struct nar_source *src,
                   uint64_t *ret_size, struct cl_error *err);
int nar_restore_path(const char *path, const struct nar_source *src, uint64_t *ret_size,
                     struct cl_error *err);

/* A sink that hashes, counts and optionally scans for references what it is
 * given: the NAR hash, NAR size and references of one pass. */
struct nar_hasher {
        struct hash_ctx ctx;
        uint64_t size;
        struct refscan *scan; /* not owned; may be NULL */
};
int nar_hasher_init(struct nar_hasher *h, enum hash_type type, struct refscan *scan);
int nar_hasher_write(void *userdata, const void *data, size_t len, struct cl_error *err);
/* Writes the digest; releases the hash context. */
int nar_hasher_final(struct nar_hasher *h, struct hash *ret);
void nar_hasher_free(struct nar_hasher *h);

/* The NAR hash of type (and size, and references into scan when given) of name
 * relative to dirfd, in one pass, without keeping the NAR. */
int nar_hash_at(int dirfd, const char *name, enum hash_type type, struct refscan *scan,
                struct hash *ret_hash, uint64_t *ret_size, struct cl_error *err);
