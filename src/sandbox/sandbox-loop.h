/* A small event loop for the parent side of a sandbox: file descriptors
 * (pidfds, pipes, signalfds) with callbacks, and deadlines on the monotonic
 * clock. sandbox_wait() runs one; the caller may add its own sources to it
 * (output relaying, timeouts) before or during the run. */
#pragma once

#include "base/base-error.h"

#include <stdint.h>

struct sandbox_loop;

/* Called when fd has events; return < 0 (-errno, message in err) to stop the
 * loop with that failure. */
typedef int (*sandbox_loop_fd_fn)(struct sandbox_loop *loop, int fd, uint32_t events, void *data,
                                  struct cl_error *err);
/* Called once when its deadline has passed. */
typedef int (*sandbox_loop_timer_fn)(struct sandbox_loop *loop, void *data, struct cl_error *err);

int sandbox_loop_new(struct sandbox_loop **ret, struct cl_error *err);
void sandbox_loop_free(struct sandbox_loop *loop);
static inline void sandbox_loop_freep(struct sandbox_loop **l)
{
        sandbox_loop_free(*l);
}
#define _cleanup_sandbox_loop_ __attribute__((cleanup(sandbox_loop_freep)))

/* Watch fd for events (EPOLLIN...). The fd stays the caller's. */
int sandbox_loop_add_fd(struct sandbox_loop *loop, int fd, uint32_t events, sandbox_loop_fd_fn fn,
                        void *data, struct cl_error *err);
void sandbox_loop_remove_fd(struct sandbox_loop *loop, int fd);

/* Now on CLOCK_MONOTONIC, in nanoseconds. */
uint64_t sandbox_loop_now(void);
/* Call fn once at deadline (CLOCK_MONOTONIC ns); returns a timer id > 0. */
int sandbox_loop_add_timer(struct sandbox_loop *loop, uint64_t deadline, sandbox_loop_timer_fn fn,
                           void *data, struct cl_error *err);
void sandbox_loop_cancel_timer(struct sandbox_loop *loop, int id);

/* Make sandbox_loop_run return (after the current callback). */
void sandbox_loop_quit(struct sandbox_loop *loop);
/* Dispatch until quit (returns 0) or a callback fails (returns its error). */
int sandbox_loop_run(struct sandbox_loop *loop, struct cl_error *err);
/* The same, also returning once *done is non-zero (checked after every
 * dispatch), so that several waits can share one loop. */
int sandbox_loop_run_until(struct sandbox_loop *loop, const int *done, struct cl_error *err);
