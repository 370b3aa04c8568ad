/* Messages to stderr in the house form: lowercase, program name first. */
#include "base/base-log.h"

#include <stdarg.h>
#include <stdio.h>

static const char *program = "cloister";

void log_set_program(const char *name)
{
        program = name;
}

static void log_v(const char *kind, const char *fmt, va_list ap)
{
        /* one write per message so that concurrent writers do not interleave */
        char line[CL_ERROR_MAX + 128];
        int n = snprintf(line, sizeof(line), "%s: %s", program, kind);
        if (n < 0)
                n = 0;
        if ((size_t)n < sizeof(line))
                vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        fprintf(stderr, "%s\n", line);
}

void log_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_v("", fmt, ap);
        va_end(ap);
}

void log_warning(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        log_v("warning: ", fmt, ap);
        va_end(ap);
}

int log_cl_error(const struct cl_error *err)
{
        log_error("%s", err->msg[0] ? err->msg : "unknown error");
        return -(err->code ? err->code : 5);
}
