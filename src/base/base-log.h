/* The program's voice: "cloister: message" on stderr. Only cli/ calls these;
 * the library reports through struct cl_error instead. */
#pragma once

#include "base/base-error.h"

void log_set_program(const char *name);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print err's message; returns -err->code. */
int log_cl_error(const struct cl_error *err);
