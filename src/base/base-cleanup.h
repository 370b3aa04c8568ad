/* Scope-bound cleanup: the _cleanup_ attributes and the TAKE_* helpers that hand
 * ownership out of a scope. Header only; modelled on systemd's macro.h. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void cl_freep(void *p)
{
        free(*(void **)p);
}

static inline void cl_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void cl_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void cl_closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

#define _cleanup_free_ _cleanup_(cl_freep)
#define _cleanup_close_ _cleanup_(cl_closep)
#define _cleanup_fclose_ _cleanup_(cl_fclosep)
#define _cleanup_closedir_ _cleanup_(cl_closedirp)

/* Return the value and leave NULL (or -1) behind, so the cleanup does nothing. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _taken = (p);                                                        \
                (p) = NULL;                                                                        \
                _taken;                                                                            \
        })
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _taken = (fd);                                                                 \
                (fd) = -1;                                                                         \
                _taken;                                                                            \
        })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
