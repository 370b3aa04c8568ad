/* struct cl_strv: doubling growth, the NULL after the last string kept so the
 * vector can be handed to code that takes a plain char **. */
#include "base/base-strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cl_strv_push(struct cl_strv *s, const char *str)
{
        if (s->n + 2 > s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 16;
                char **nv = realloc(s->v, cap * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                s->v = nv;
                s->cap = cap;
        }
        s->v[s->n] = strdup(str);
        if (!s->v[s->n])
                return -ENOMEM;
        s->v[++s->n] = NULL;
        return 0;
}

int cl_strv_push_unique(struct cl_strv *s, const char *str)
{
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->v[i], str) == 0)
                        return 0;
        return cl_strv_push(s, str);
}

void cl_strv_clear(struct cl_strv *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        s->v = NULL;
        s->n = s->cap = 0;
}
