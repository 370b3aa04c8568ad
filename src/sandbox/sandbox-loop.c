/* The parent's event loop: epoll for descriptors, a short list of deadlines
 * for timers. No busy waiting: epoll_wait sleeps until the next deadline. */
#include "sandbox/sandbox-loop.h"

#include "base/base-cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct loop_source {
        int fd;
        sandbox_loop_fd_fn fn;
        void *data;
        int removed;
};

struct loop_timer {
        int id;
        uint64_t deadline;
        sandbox_loop_timer_fn fn;
        void *data;
};

struct sandbox_loop {
        int epfd;
        struct loop_source **sources;
        size_t n_sources;
        struct loop_timer *timers;
        size_t n_timers;
        int next_timer_id;
        int quit;
};

int sandbox_loop_new(struct sandbox_loop **ret, struct cl_error *err)
{
        struct sandbox_loop *loop = calloc(1, sizeof(*loop));
        if (!loop)
                return cl_err(err, ENOMEM, "event loop");
        loop->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (loop->epfd < 0) {
                int e = errno;
                free(loop);
                return cl_err(err, e, "create epoll instance");
        }
        *ret = loop;
        return 0;
}

void sandbox_loop_free(struct sandbox_loop *loop)
{
        if (!loop)
                return;
        for (size_t i = 0; i < loop->n_sources; i++)
                free(loop->sources[i]);
        free(loop->sources);
        free(loop->timers);
        close(loop->epfd);
        free(loop);
}

int sandbox_loop_add_fd(struct sandbox_loop *loop, int fd, uint32_t events, sandbox_loop_fd_fn fn,
                        void *data, struct cl_error *err)
{
        struct loop_source **v = reallocarray(loop->sources, loop->n_sources + 1, sizeof(*v));
        if (!v)
                return cl_err(err, ENOMEM, "event loop");
        loop->sources = v;
        struct loop_source *s = calloc(1, sizeof(*s));
        if (!s)
                return cl_err(err, ENOMEM, "event loop");
        *s = (struct loop_source){.fd = fd, .fn = fn, .data = data};
        struct epoll_event ev = {.events = events, .data.ptr = s};
        if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int e = errno;
                free(s);
                return cl_err(err, e, "watch file descriptor %d", fd);
        }
        loop->sources[loop->n_sources++] = s;
        return 0;
}

void sandbox_loop_remove_fd(struct sandbox_loop *loop, int fd)
{
        for (size_t i = 0; i < loop->n_sources; i++) {
                struct loop_source *s = loop->sources[i];
                if (s->fd == fd && !s->removed) {
                        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
                        /* freed with the loop: an event for it may still be pending */
                        s->removed = 1;
                        return;
                }
        }
}

uint64_t sandbox_loop_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int sandbox_loop_add_timer(struct sandbox_loop *loop, uint64_t deadline, sandbox_loop_timer_fn fn,
                           void *data, struct cl_error *err)
{
        struct loop_timer *v = reallocarray(loop->timers, loop->n_timers + 1, sizeof(*v));
        if (!v)
                return cl_err(err, ENOMEM, "event loop");
        loop->timers = v;
        int id = ++loop->next_timer_id;
        v[loop->n_timers++] = (struct loop_timer){id, deadline, fn, data};
        return id;
}

void sandbox_loop_cancel_timer(struct sandbox_loop *loop, int id)
{
        for (size_t i = 0; i < loop->n_timers; i++) {
                if (loop->timers[i].id == id) {
                        loop->timers[i] = loop->timers[--loop->n_timers];
                        return;
                }
        }
}

void sandbox_loop_quit(struct sandbox_loop *loop)
{
        loop->quit = 1;
}

/* Fire every timer whose deadline has passed; returns the wait until the next
 * one in ms (-1: none). */
static int loop_timers(struct sandbox_loop *loop, int *ret_timeout, struct cl_error *err)
{
        *ret_timeout = -1;
        uint64_t now = sandbox_loop_now();
        for (size_t i = 0; i < loop->n_timers && !loop->quit;) {
                struct loop_timer t = loop->timers[i];
                if (t.deadline <= now) {
                        loop->timers[i] = loop->timers[--loop->n_timers];
                        int r = t.fn(loop, t.data, err);
                        if (r < 0)
                                return r;
                        i = 0; /* the callback may have changed the list */
                        continue;
                }
                uint64_t ms = (t.deadline - now + 999999) / 1000000;
                if (ms > 1000000)
                        ms = 1000000;
                if (*ret_timeout < 0 || (int)ms < *ret_timeout)
                        *ret_timeout = (int)ms;
                i++;
        }
        return 0;
}

int sandbox_loop_run(struct sandbox_loop *loop, struct cl_error *err)
{
        return sandbox_loop_run_until(loop, NULL, err);
}

int sandbox_loop_run_until(struct sandbox_loop *loop, const int *done, struct cl_error *err)
{
        loop->quit = 0;
        while (!loop->quit && !(done && *done)) {
                int timeout;
                int r = loop_timers(loop, &timeout, err);
                if (r < 0)
                        return r;
                if (loop->quit)
                        break;
                struct epoll_event evs[8];
                int n = epoll_wait(loop->epfd, evs, (int)ELEMENTSOF(evs), timeout);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return cl_err(err, errno, "wait for events");
                }
                for (int i = 0; i < n && !loop->quit && !(done && *done); i++) {
                        struct loop_source *s = evs[i].data.ptr;
                        if (s->removed)
                                continue;
                        r = s->fn(loop, s->fd, evs[i].events, s->data, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}
