/* The parent's side of the hardening layer: the plan's hooks (seccomp, rlimits,
 * personality, cgroup leaves), the output relay and the time, silence and
 * output limits as event-loop sources (no polling), and the accounting and
 * clean-up at the end. */
#include "sandbox/sandbox-harden.h"

#include "base/base-cleanup.h"
#include "sandbox/sandbox-seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#define NS_PER_MS 1000000ull

void sandbox_harden_init(struct sandbox_harden *h)
{
        memset(h, 0, sizeof(*h));
        sandbox_limits_init(&h->limits);
        for (int k = 0; k < SANDBOX_CG_NKINDS; k++) {
                h->procs_fds[k] = -1;
                h->cg.where[k] = -1;
                h->cg.dirs[k].dfd = -1;
        }
        h->relay[0] = h->relay[1] = -1;
        h->relay_to[0] = 1;
        h->relay_to[1] = 2;
}

static void close_procs_fds(struct sandbox_harden *h)
{
        for (int k = 0; k < SANDBOX_CG_NKINDS; k++)
                if (h->procs_fds[k] >= 0) {
                        close(h->procs_fds[k]);
                        h->procs_fds[k] = -1;
                }
}

int sandbox_harden_apply(struct sandbox_harden *h, struct sandbox_plan *plan,
                         const struct sandbox_limits *l, const char *cgroup_parent,
                         struct cl_error *err)
{
        h->limits = *l;
        int r = sandbox_cgroup_create(&h->limits, cgroup_parent, &h->cg, &h->why, err);
        if (r < 0)
                return r;
        /* none at all, or not the controllers a limit asked for */
        if (h->cg.n_dirs == 0 || h->why.code != 0)
                h->cgroups_unavailable = 1;
        sandbox_cgroup_fallback_rlimits(&h->cg, &h->limits);

        /* the helper joins every leaf before it makes the cgroup namespace, so
         * the namespace's root is the leaf: the v2 leaf first */
        unsigned n = 0;
        int order[SANDBOX_CG_NKINDS];
        if (h->cg.where[SANDBOX_CG_V2] >= 0)
                order[n++] = h->cg.where[SANDBOX_CG_V2];
        for (unsigned i = 0; i < h->cg.n_dirs; i++)
                if ((int)i != h->cg.where[SANDBOX_CG_V2])
                        order[n++] = (int)i;
        if (n > 1 + SANDBOX_CGROUP_MORE) {
                r = cl_errx(err, E2BIG, "too many cgroup hierarchies (%u)", n);
                goto fail;
        }
        for (unsigned i = 0; i < n; i++) {
                struct sandbox_cgroup_dir *d = &h->cg.dirs[order[i]];
                int fd = openat(d->dfd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                        r = cl_err(err, errno, "open '%s/cgroup.procs'", d->path);
                        goto fail;
                }
                h->procs_fds[i] = fd;
                if (i == 0 && (int)order[0] == h->cg.where[SANDBOX_CG_V2])
                        plan->cgroup_dir_fd = d->dfd;
                if (i == 0)
                        plan->cgroup_procs_fd = fd;
                else
                        plan->cgroup_procs_more[i - 1] = fd;
        }

        struct sandbox_rlimit *rl = NULL;
        if (h->limits.n_rlimits > 0) {
                rl = calloc(h->limits.n_rlimits, sizeof(*rl));
                if (!rl) {
                        r = cl_errx(err, ENOMEM, "out of memory");
                        goto fail;
                }
                memcpy(rl, h->limits.rlimits, h->limits.n_rlimits * sizeof(*rl));
        }
        free(plan->rlimits);
        plan->rlimits = rl;
        plan->n_rlimits = h->limits.n_rlimits;
        plan->personality = h->limits.personality;
        plan->seccomp = h->limits.seccomp ? &sandbox_seccomp_builtin()->prog : NULL;
        return 0;
fail:
        plan->cgroup_procs_fd = -1;
        plan->cgroup_dir_fd = -1;
        for (size_t i = 0; i < SANDBOX_CGROUP_MORE; i++)
                plan->cgroup_procs_more[i] = -1;
        close_procs_fds(h);
        sandbox_cgroup_destroy(&h->cg, NULL);
        return r;
}

static int needs_relay(const struct sandbox_harden *h)
{
        return h->limits.max_silent_ms > 0 || h->limits.max_output > 0;
}

int sandbox_harden_spawn(struct sandbox_harden *h, struct sandbox_plan *plan, struct sandbox **ret,
                         struct cl_error *err)
{
        h->start_ns = h->last_output_ns = sandbox_loop_now();
        if (!needs_relay(h)) {
                int r = sandbox_spawn(plan, ret, err);
                close_procs_fds(h);
                plan->cgroup_procs_fd = -1;
                plan->cgroup_dir_fd = -1;
                for (size_t i = 0; i < SANDBOX_CGROUP_MORE; i++)
                        plan->cgroup_procs_more[i] = -1;
                if (r >= 0)
                        h->sb = *ret;
                return r;
        }
        /* The helper inherits 0, 1 and 2 from this process: put the pipes'
         * write ends there for the moment of the fork, then put ours back.
         * The library never writes to 1 or 2, so nothing of ours is lost. */
        int p[2][2] = {{-1, -1}, {-1, -1}};
        int saved[2] = {-1, -1};
        int r = 0;
        for (int i = 0; i < 2 && r == 0; i++) {
                if (pipe2(p[i], O_CLOEXEC) < 0)
                        r = cl_err(err, errno, "create output pipe");
                else if ((saved[i] = fcntl(1 + i, F_DUPFD_CLOEXEC, 3)) < 0)
                        r = cl_err(err, errno, "duplicate file descriptor %d", 1 + i);
        }
        int moved = 0;
        if (r == 0) {
                if (dup2(p[0][1], 1) < 0 || dup2(p[1][1], 2) < 0)
                        r = cl_err(err, errno, "redirect output to the relay");
                moved = 1;
        }
        if (r == 0)
                r = sandbox_spawn(plan, ret, err);
        if (moved) {
                dup2(saved[0], 1);
                dup2(saved[1], 2);
        }
        for (int i = 0; i < 2; i++) {
                if (saved[i] >= 0)
                        close(saved[i]);
                if (p[i][1] >= 0)
                        close(p[i][1]);
        }
        close_procs_fds(h);
        plan->cgroup_procs_fd = -1;
        plan->cgroup_dir_fd = -1;
        for (size_t i = 0; i < SANDBOX_CGROUP_MORE; i++)
                plan->cgroup_procs_more[i] = -1;
        if (r < 0) {
                for (int i = 0; i < 2; i++)
                        if (p[i][0] >= 0)
                                close(p[i][0]);
                return r;
        }
        for (int i = 0; i < 2; i++) {
                h->relay[i] = p[i][0];
                fcntl(h->relay[i], F_SETFL, O_NONBLOCK);
        }
        h->sb = *ret;
        return 0;
}

/* A limit fired: end the whole sandbox now. */
static void fire(struct sandbox_harden *h, enum sandbox_limit_fired what)
{
        if (h->fired != SANDBOX_LIMIT_NONE)
                return;
        h->fired = what;
        /* SIGKILL to PID 1 ends its PID namespace; the cgroup catches anything
         * that is in the leaf but not (yet) in the namespace */
        if (!h->sb || sandbox_kill(h->sb, SIGKILL) < 0)
                h->kill_pending = 1;
        if (h->cg.n_dirs > 0)
                (void)sandbox_cgroup_kill(&h->cg);
}

void sandbox_harden_started(struct sandbox_harden *h)
{
        if (h->kill_pending && h->sb && sandbox_kill(h->sb, SIGKILL) == 0)
                h->kill_pending = 0;
}

/* Pass one read's worth of the command's stream i on to ours: 1 when more
 * may follow, 2 when nothing is there now, 0 at its end, 3 when our own
 * reader is gone, or -errno. */
static int relay_once(struct sandbox_harden *h, int i)
{
        char buf[65536];
        ssize_t n = read(h->relay[i], buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
                return 1;
        if (n < 0)
                return errno == EAGAIN ? 2 : -errno;
        if (n == 0)
                return 0;
        h->last_output_ns = sandbox_loop_now();
        size_t keep = (size_t)n;
        if (h->limits.max_output > 0) {
                uint64_t room = h->output_bytes >= h->limits.max_output
                                    ? 0
                                    : h->limits.max_output - h->output_bytes;
                if (keep > room)
                        keep = (size_t)room;
        }
        h->output_bytes += (uint64_t)n;
        const char *p = buf;
        int reader_gone = 0;
        while (keep > 0) {
                ssize_t w = write(h->relay_to[i], p, keep);
                if (w < 0 && errno == EINTR)
                        continue;
                /* our reader is gone: stop reading, so that the command's
                 * next write fails as it would without the relay */
                if (w < 0 && errno == EPIPE)
                        reader_gone = 1;
                if (w < 0)
                        break; /* otherwise our own output fails: keep counting */
                p += w;
                keep -= (size_t)w;
        }
        if (h->limits.max_output > 0 && h->output_bytes > h->limits.max_output)
                fire(h, SANDBOX_LIMIT_OUTPUT);
        return reader_gone ? 3 : 1;
}

static int on_relay(struct sandbox_loop *loop, int fd, uint32_t events, void *data,
                    struct cl_error *err)
{
        struct sandbox_harden *h = data;
        (void)events;
        int i = fd == h->relay[0] ? 0 : 1;
        int r = relay_once(h, i);
        if (r < 0)
                return cl_err(err, -r, "relay the command's output");
        if (r == 0 || r == 3) {
                sandbox_loop_remove_fd(loop, fd);
                close(h->relay[i]);
                h->relay[i] = -1;
        }
        return 0;
}

static int on_timeout(struct sandbox_loop *loop, void *data, struct cl_error *err)
{
        (void)loop;
        (void)err;
        fire(data, SANDBOX_LIMIT_TIMEOUT);
        return 0;
}

static int on_silence(struct sandbox_loop *loop, void *data, struct cl_error *err)
{
        struct sandbox_harden *h = data;
        uint64_t quiet_until = h->last_output_ns + h->limits.max_silent_ms * NS_PER_MS;
        if (sandbox_loop_now() >= quiet_until) {
                fire(h, SANDBOX_LIMIT_SILENCE);
                return 0;
        }
        /* there was output since: look again when the new silence would end */
        int r = sandbox_loop_add_timer(loop, quiet_until, on_silence, h, err);
        return r < 0 ? r : 0;
}

int sandbox_harden_watch(struct sandbox_harden *h, struct sandbox_loop *loop, struct cl_error *err)
{
        h->loop = loop;
        for (int i = 0; i < 2; i++)
                if (h->relay[i] >= 0) {
                        int r = sandbox_loop_add_fd(loop, h->relay[i], EPOLLIN, on_relay, h, err);
                        if (r < 0)
                                return r;
                }
        if (h->limits.timeout_ms > 0) {
                int r = sandbox_loop_add_timer(loop, h->start_ns + h->limits.timeout_ms * NS_PER_MS,
                                               on_timeout, h, err);
                if (r < 0)
                        return r;
        }
        if (h->limits.max_silent_ms > 0) {
                int r = sandbox_loop_add_timer(
                    loop, h->start_ns + h->limits.max_silent_ms * NS_PER_MS, on_silence, h, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int sandbox_harden_finish(struct sandbox_harden *h, const struct sandbox_result *res,
                          struct sandbox_harden_report *rep, struct cl_error *err)
{
        memset(rep, 0, sizeof(*rep));
        /* every writer is dead: what is left in the pipes is all there is */
        for (int i = 0; i < 2; i++) {
                if (h->relay[i] < 0)
                        continue;
                if (h->loop)
                        sandbox_loop_remove_fd(h->loop, h->relay[i]);
                /* until end of file, or "nothing more now" (2) */
                while (relay_once(h, i) == 1)
                        ;
                close(h->relay[i]);
                h->relay[i] = -1;
        }
        int r = 0;
        if (h->cg.n_dirs > 0) {
                rep->have_cgroup = 1;
                sandbox_cgroup_stats(&h->cg, &rep->stats);
                r = sandbox_cgroup_destroy(&h->cg, err);
        }
        /* the kill is the limit's only when there is one (the counter also
         * counts the host's own out-of-memory kills) */
        if (h->fired == SANDBOX_LIMIT_NONE && rep->stats.oom_kills > 0 && res->exited &&
            WIFSIGNALED(res->status) && WTERMSIG(res->status) == SIGKILL && h->limits.memory_max &&
            h->limits.memory_max != UINT64_MAX)
                h->fired = SANDBOX_LIMIT_MEMORY;
        rep->fired = h->fired;
        rep->output_bytes = h->output_bytes;
        return r;
}

void sandbox_harden_free(struct sandbox_harden *h)
{
        for (int i = 0; i < 2; i++)
                if (h->relay[i] >= 0) {
                        close(h->relay[i]);
                        h->relay[i] = -1;
                }
        close_procs_fds(h);
        sandbox_cgroup_destroy(&h->cg, NULL);
}

static void fmt_seconds(char *buf, size_t size, uint64_t ms)
{
        if (ms % 1000 == 0)
                snprintf(buf, size, "%" PRIu64 "s", ms / 1000);
        else
                snprintf(buf, size, "%.3gs", (double)ms / 1000);
}

int sandbox_harden_describe(const struct sandbox_harden *h, const struct sandbox_harden_report *rep,
                            const struct sandbox_result *res, char *buf, size_t size)
{
        char t[32];
        (void)res;
        switch (rep->fired) {
        case SANDBOX_LIMIT_TIMEOUT:
                fmt_seconds(t, sizeof(t), h->limits.timeout_ms);
                snprintf(buf, size, "the command ran longer than %s and was killed (--timeout)", t);
                return 1;
        case SANDBOX_LIMIT_SILENCE:
                fmt_seconds(t, sizeof(t), h->limits.max_silent_ms);
                snprintf(buf, size,
                         "the command produced no output for %s and was killed "
                         "(--max-silent-time)",
                         t);
                return 1;
        case SANDBOX_LIMIT_OUTPUT:
                snprintf(buf, size,
                         "the command wrote more than %" PRIu64
                         " bytes of output and was killed (--max-output)",
                         h->limits.max_output);
                return 1;
        case SANDBOX_LIMIT_MEMORY:
                snprintf(buf, size,
                         "the command used more than %" PRIu64
                         " bytes of memory and was killed (--memory-max)",
                         h->limits.memory_max);
                return 1;
        case SANDBOX_LIMIT_NONE:
                /* the kernel killed another process than the command (or,
                 * without --memory-max, the host ran out of memory) */
                if (rep->stats.oom_kills == 0)
                        break;
                if (h->limits.memory_max && h->limits.memory_max != UINT64_MAX)
                        snprintf(buf, size,
                                 "the sandbox reached its memory limit of %" PRIu64
                                 " bytes: the kernel killed %" PRIu64
                                 " of its processes (--memory-max)",
                                 h->limits.memory_max, rep->stats.oom_kills);
                else
                        snprintf(buf, size,
                                 "the kernel's out-of-memory killer killed %" PRIu64
                                 " of the sandbox's processes",
                                 rep->stats.oom_kills);
                return 1;
        case SANDBOX_LIMIT_PIDS:
                break;
        }
        return 0;
}
