/* A growable, NULL-terminated vector of owned strings. */
#pragma once

#include <stddef.h>

struct cl_strv {
        char **v; /* NULL-terminated once anything was added */
        size_t n;
        size_t cap;
};

/* Append a copy of str; 0 or -ENOMEM. */
int cl_strv_push(struct cl_strv *s, const char *str);
/* Append a copy unless an equal string is there already (a linear search,
 * for the short lists of command-line arguments); 0 or -ENOMEM. */
int cl_strv_push_unique(struct cl_strv *s, const char *str);
/* Free every string and the vector; leaves it empty and reusable. */
void cl_strv_clear(struct cl_strv *s);

#define _cleanup_cl_strv_ __attribute__((cleanup(cl_strv_clear)))
