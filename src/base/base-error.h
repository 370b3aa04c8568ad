/* The library's error contract: a failing function returns -errno and, when the
 * caller passes a struct cl_error, a sentence naming the step, the thing and the
 * system's reason. Filling it never allocates. */
#pragma once

#include <stddef.h>

#define CL_ERROR_MAX 1024

struct cl_error {
        int code; /* positive errno of the first failure */
        char msg[CL_ERROR_MAX];
};

/* Set the message to the formatted text followed by ": strerror(errnum)".
 * Returns -errnum (-EIO when errnum is 0). err may be NULL. */
int cl_err(struct cl_error *err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* The same without the system's reason: for failures the text explains alone. */
int cl_errx(struct cl_error *err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Put "context: " in front of the message already there; keeps the code.
 * Returns -code. */
int cl_err_prefix(struct cl_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reset to "no error". */
void cl_err_clear(struct cl_error *err);
