/* Running a plan: start the helper (which makes PID 1 and its id maps), wait
 * for the end in an event loop, and say what happened (the command's status, resource use, or
 * the sentence naming the setup step that failed). */
#pragma once

#include "base/base-error.h"
#include "sandbox/sandbox-exec.h"
#include "sandbox/sandbox-loop.h"
#include "sandbox/sandbox-plan.h"

#include <sys/resource.h>
#include <sys/types.h>

struct sandbox;

struct sandbox_result {
        int exit_code;         /* what a CLI exits with: the command's code, 128+N, 125-127 */
        int exited;            /* the command ended: status is its wait status */
        int status;            /* wait status */
        int setup_failed;      /* the sandbox could not be set up or the command not run */
        struct cl_error error; /* the sentence when setup_failed */
        pid_t init_pid;        /* the sandbox's PID 1, as the host sees it */
        struct rusage rusage;  /* of the whole sandbox (every process reaped inside) */
        uint64_t wall_ns;      /* from fork to the end */
};

/* Called once the command has been exec'd (the sandbox is complete). */
typedef void (*sandbox_started_fn)(struct sandbox *sb, void *data);
/* Called once the sandbox has ended and been reaped (sandbox_result() then
 * says how); the sandbox has left the loop by then and may be freed. */
typedef void (*sandbox_ended_fn)(struct sandbox *sb, void *data);

/* The process's own argv strings, contiguous from argv[0] as exec lays
 * them out (the CLI's main says where). Every PID 1 made afterwards hides
 * them: /proc/1/cmdline, which the command may read, says "cloister-init"
 * instead of the host paths and options of the caller's command line. They
 * say so in this process too for the moment of each sandbox_spawn (call it
 * from one thread at a time). */
void sandbox_set_cmdline_area(char *start, size_t len);

/* Fork the sandbox for plan (compiled against this host first). Must be
 * called from a thread that lives as long as the sandbox: the sandbox gets
 * SIGKILL when that thread ends (PR_SET_PDEATHSIG). A bad plan (missing bind
 * source, invalid fd) fails here, before anything is created. */
int sandbox_spawn(struct sandbox_plan *plan, struct sandbox **ret, struct cl_error *err);
/* The plan must outlive the sandbox (the compiled form points into it). */

/* Follow the sandbox in loop (which may hold other sandboxes, timers and
 * fds of the caller): started and ended (either may be NULL) are called from
 * sandbox_loop_run*() as things happen. For a scheduler of many sandboxes. */
int sandbox_attach(struct sandbox *sb, struct sandbox_loop *loop, sandbox_started_fn started,
                   sandbox_ended_fn ended, void *data, struct cl_error *err);
/* Whether the sandbox has ended (its result is final). */
int sandbox_ended(const struct sandbox *sb);
/* How the sandbox ended (call once sandbox_ended()). */
void sandbox_result(const struct sandbox *sb, struct sandbox_result *res);

/* Run the event loop until the sandbox has ended and fill res. loop may be
 * NULL (a private one) or the caller's, with its own sources and timers;
 * started (may be NULL) is called once the command runs. Returns < 0 only
 * when waiting itself failed; a sandbox that could not be set up is a result
 * (res->setup_failed), not an error. */
int sandbox_wait(struct sandbox *sb, struct sandbox_loop *loop, sandbox_started_fn started,
                 void *data, struct sandbox_result *res, struct cl_error *err);

/* Send sig to the sandbox's PID 1 (which forwards SIGTERM, SIGINT and SIGHUP
 * to the command; SIGKILL ends the whole sandbox). 0, or -ESRCH when it is
 * not running (yet or any more). */
int sandbox_kill(struct sandbox *sb, int sig);

/* The sandbox's PID 1 as the host sees it, or 0 when not yet known. */
pid_t sandbox_init_pid(const struct sandbox *sb);

/* The inode number of the sandbox's namespace name ("mnt", "pid", ...: the
 * names in /proc/PID/ns), as PID 1 reported it, or 0 if unknown. */
uint64_t sandbox_namespace_id(const struct sandbox *sb, const char *name);

/* Kill whatever still runs, reap it, free everything. */
void sandbox_free(struct sandbox *sb);
static inline void sandbox_freep(struct sandbox **sb)
{
        sandbox_free(*sb);
}
#define _cleanup_sandbox_ __attribute__((cleanup(sandbox_freep)))

/* spawn + wait */
int sandbox_run(struct sandbox_plan *plan, struct sandbox_result *res, struct cl_error *err);

/* The sentence for a child's failure record ("bind mount '/x' on '/y': ...")
 * and the exit code it stands for (125, 126 or 127). */
int sandbox_describe_failure(const struct sandbox_exec *x, const struct sandbox_child_error *rec,
                             struct cl_error *err);
