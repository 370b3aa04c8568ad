/* struct cl_buf: amortised growth, NUL kept after the data, -ENOMEM on failure. */
#include "base/base-buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int buf_reserve(struct cl_buf *b, size_t extra)
{
        if (extra > SIZE_MAX - b->len - 1)
                return -ENOMEM;
        size_t need = b->len + extra + 1;
        if (need <= b->cap)
                return 0;
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        char *d = realloc(b->data, cap);
        if (!d)
                return -ENOMEM;
        b->data = d;
        b->cap = cap;
        return 0;
}

int buf_append(struct cl_buf *b, const void *data, size_t len)
{
        int r = buf_reserve(b, len);
        if (r < 0)
                return r;
        if (len)
                memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
        return 0;
}

int buf_append_str(struct cl_buf *b, const char *s)
{
        return buf_append(b, s, strlen(s));
}

int buf_append_char(struct cl_buf *b, char c)
{
        return buf_append(b, &c, 1);
}

int buf_printf(struct cl_buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        int r = buf_reserve(b, (size_t)n);
        if (r < 0)
                return r;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
        return 0;
}

char *buf_steal(struct cl_buf *b)
{
        char *d = b->data;
        if (!d)
                d = calloc(1, 1);
        b->data = NULL;
        b->len = b->cap = 0;
        return d;
}

void buf_free(struct cl_buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}
