/* A growable byte buffer for building strings and serialisations. */
#pragma once

#include <stddef.h>

struct cl_buf {
        char *data; /* always NUL-terminated when non-NULL */
        size_t len;
        size_t cap;
};

#define CL_BUF_INIT {NULL, 0, 0}

int buf_reserve(struct cl_buf *b, size_t extra);
int buf_append(struct cl_buf *b, const void *data, size_t len);
int buf_append_str(struct cl_buf *b, const char *s);
int buf_append_char(struct cl_buf *b, char c);
int buf_printf(struct cl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the data out (caller frees) and leave the buffer empty. */
char *buf_steal(struct cl_buf *b);
void buf_free(struct cl_buf *b);

static inline void buf_freep(struct cl_buf *b)
{
        buf_free(b);
}
#define _cleanup_buf_ __attribute__((cleanup(buf_freep)))
