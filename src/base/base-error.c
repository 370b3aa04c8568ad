/* Filling struct cl_error: fixed buffer, truncation instead of allocation, and
 * the context prefixes that a failure collects on its way up. */
#include "base/base-error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int err_code(int errnum)
{
        if (errnum < 0)
                errnum = -errnum;
        return errnum ? errnum : EIO;
}

static void err_vset(struct cl_error *err, int errnum, int with_reason, const char *fmt,
                     va_list ap)
{
        err->code = err_code(errnum);
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        if (n < 0)
                n = 0;
        if (with_reason && (size_t)n < sizeof(err->msg))
                snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(err->code));
}

int cl_err(struct cl_error *err, int errnum, const char *fmt, ...)
{
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                err_vset(err, errnum, 1, fmt, ap);
                va_end(ap);
        }
        return -err_code(errnum);
}

int cl_errx(struct cl_error *err, int errnum, const char *fmt, ...)
{
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                err_vset(err, errnum, 0, fmt, ap);
                va_end(ap);
        }
        return -err_code(errnum);
}

int cl_err_prefix(struct cl_error *err, const char *fmt, ...)
{
        if (!err)
                return -EIO;
        char prefix[CL_ERROR_MAX];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        if (n < 0)
                n = 0;
        size_t plen = strnlen(prefix, sizeof(prefix) - 1);
        size_t mlen = strnlen(err->msg, sizeof(err->msg) - 1);
        /* keep "prefix: " and as much of the old message as fits */
        if (plen + 2 >= sizeof(err->msg))
                plen = sizeof(err->msg) - 3;
        size_t room = sizeof(err->msg) - plen - 3;
        if (mlen > room)
                mlen = room;
        memmove(err->msg + plen + 2, err->msg, mlen);
        memcpy(err->msg, prefix, plen);
        err->msg[plen] = ':';
        err->msg[plen + 1] = ' ';
        err->msg[plen + 2 + mlen] = '\0';
        if (!err->code)
                err->code = EIO;
        return -err->code;
}

void cl_err_clear(struct cl_error *err)
{
        if (err) {
                err->code = 0;
                err->msg[0] = '\0';
        }
}
