/* Build logs: the escape-sequence filter for what is echoed to the user (old
 * stdenv's nesting codes, seed 000), and the stored log as Nix keeps it: the
 * builder's raw bytes, bzip2-compressed, at drvs/XX/REST.bz2 under the log
 * directory. */
#pragma once

#include "base/base-error.h"

#include <stddef.h>

enum log_filter_mode {
        /* drop only the nesting codes: ESC [ params p|q|s|a|b (Nix 1.8's filter) */
        LOG_FILTER_NESTING,
        /* for a terminal: also drop every other CSI sequence except SGR (ESC [ .. m)
         * and two-byte ESC x sequences, so a builder cannot move the cursor, retitle
         * or reprogram the user's terminal */
        LOG_FILTER_TERMINAL,
};

#define LOG_FILTER_HELD_MAX 64

/* A streaming filter: state survives across chunks, so a sequence split over
 * two reads is still recognised (Nix reset it per chunk). */
struct log_filter {
        enum log_filter_mode mode;
        int state;
        size_t held_len;
        char held[LOG_FILTER_HELD_MAX];
};

void log_filter_init(struct log_filter *f, enum log_filter_mode mode);
/* Filter in[0..len) into out, which must have room for len + LOG_FILTER_HELD_MAX
 * bytes. Returns the number of bytes written. */
size_t log_filter_feed(struct log_filter *f, const char *in, size_t len, char *out);
/* At the end of the stream: write what is still held (an unfinished sequence is
 * passed through unchanged, as Nix does). Returns bytes written (at most
 * LOG_FILTER_HELD_MAX). */
size_t log_filter_finish(struct log_filter *f, char *out);

/* The relative log path of a derivation: "drvs/XX/REST.bz2" (or without .bz2),
 * from the .drv's base name. ret is malloc'd. */
int log_relative_path(const char *drv_path, int compressed, char **ret, struct cl_error *err);

struct log_writer;

/* Create (truncating) the log file of drv_path below log_dir, making the
 * drvs/XX directories as needed; compressed selects bzip2. */
int log_writer_open(const char *log_dir, const char *drv_path, int compressed,
                    struct log_writer **ret, struct cl_error *err);
int log_writer_write(struct log_writer *w, const void *data, size_t len, struct cl_error *err);
/* Flush and close; frees w even on failure, and then removes the file. */
int log_writer_close(struct log_writer *w, struct cl_error *err);
/* Abandon: close and free without flushing further. */
void log_writer_free(struct log_writer *w);
/* Abandon and remove the file (after a failed write). */
void log_writer_discard(struct log_writer *w);

/* Copy the stored log of drv_path (compressed or plain, whichever exists) to fd. */
int log_read(const char *log_dir, const char *drv_path, int out_fd, struct cl_error *err);
