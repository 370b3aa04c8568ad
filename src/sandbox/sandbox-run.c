/* The parent's half at run time: map the sandbox's stacks, start the helper
 * (which creates PID 1 as our child and writes its id maps; see
 * sandbox-child.c), then follow the sandbox through an event loop on PID 1's
 * pidfd and the two pipes (failure records, PID 1's reports) until it has
 * ended, and turn a failure record into a sentence. */
#include "sandbox/sandbox-run.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"
#include "cloister/cloister.h"
#include "sandbox/sandbox-child.h"
#include "sandbox/sandbox-sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct sandbox {
        struct sandbox_exec *x;
        char *stacks; /* the child side's stacks and shared page */
        size_t stacks_len;
        int err_fd;    /* read end of the failure pipe */
        int report_fd; /* read end of PID 1's report pipe */
        pid_t init_pid;
        int init_pidfd;
        int signal_pidfd; /* PID 1 when it is not init_pid (no namespaces), or -1 */
        uint64_t ns_ids[SANDBOX_N_NS]; /* 0: not reported */
        uint64_t t_start;

        int have_record;
        struct sandbox_child_error rec;
        size_t rec_got;
        int have_status;
        int cmd_status;
        int err_eof, report_eof;
        int exec_done; /* PID 1 said the command has exec'd */
        int started;
        sandbox_started_fn started_fn;
        sandbox_ended_fn ended_fn;
        void *cb_data;
        struct sandbox_loop *loop; /* the one we are attached to, or NULL */

        int init_reaped;
        int init_status;
        struct rusage rusage;
        uint64_t t_end;

        int parent_failed;
        struct cl_error parent_error;
};

/* Per sandbox, one mapping: [guard][the helper's stack][guard][PID 1's
 * stack][guard][the command's stack][shared page]. The helper (and, as real
 * root, PID 1) run in our memory, so each sandbox needs stacks of its own.
 * Untouched pages cost nothing. */
#define SANDBOX_GUARD_SIZE (64u * 1024u)

static int map_stacks(struct sandbox *sb, struct sandbox_exec *x, struct cl_error *err)
{
        size_t page = 4096;
        size_t len = 3 * (SANDBOX_GUARD_SIZE + SANDBOX_STACK_SIZE) + page;
        char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
                return cl_err(err, errno, "map the sandbox's stacks");
        sb->stacks = p;
        sb->stacks_len = len;
        char *stack[3];
        for (int i = 0; i < 3; i++) {
                stack[i] = p + SANDBOX_GUARD_SIZE + (size_t)i * (SANDBOX_GUARD_SIZE + SANDBOX_STACK_SIZE);
                if (mprotect(stack[i], SANDBOX_STACK_SIZE + (i == 2 ? page : 0),
                             PROT_READ | PROT_WRITE) < 0)
                        return cl_err(err, errno, "map the sandbox's stacks");
        }
        /* stacks grow down: each starts at its top */
        x->helper_stack_top = stack[0] + SANDBOX_STACK_SIZE;
        x->init_stack_top = stack[1] + SANDBOX_STACK_SIZE;
        x->cmd_stack_top = stack[2] + SANDBOX_STACK_SIZE;
        x->shared = (struct sandbox_shared *)(stack[2] + SANDBOX_STACK_SIZE);
        x->shared->parent_pidfd = x->shared->go_fd = x->shared->go_fd_write = -1;
        return 0;
}

static int pidfd_open(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_send_signal(int pidfd, int sig)
{
        return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static int cmp_int(const void *a, const void *b)
{
        int x = *(const int *)a, y = *(const int *)b;
        return (x > y) - (x < y);
}

static void set_helper_fds(struct sandbox_exec *x)
{
        size_t n = 0;
        for (int fd = 0; fd < 3; fd++)
                x->helper_fds[n++] = fd;
        for (size_t i = 0; i < x->n_keep_fds; i++)
                x->helper_fds[n++] = x->keep_fds[i];
        x->helper_fds[n++] = x->err_fd;
        x->helper_fds[n++] = x->report_fd;
        if (x->plan->cgroup_dir_fd >= 0)
                x->helper_fds[n++] = x->plan->cgroup_dir_fd;
        if (x->plan->cgroup_procs_fd >= 0)
                x->helper_fds[n++] = x->plan->cgroup_procs_fd;
        for (size_t i = 0; i < SANDBOX_CGROUP_MORE; i++)
                if (x->plan->cgroup_procs_more[i] >= 0)
                        x->helper_fds[n++] = x->plan->cgroup_procs_more[i];
        qsort(x->helper_fds, n, sizeof(int), cmp_int);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
                if (m == 0 || x->helper_fds[m - 1] != x->helper_fds[i])
                        x->helper_fds[m++] = x->helper_fds[i];
        x->n_helper_fds = m;
}

/* Take our sources out of the loop. */
static void detach(struct sandbox *sb)
{
        if (!sb->loop)
                return;
        sandbox_loop_remove_fd(sb->loop, sb->init_pidfd);
        sandbox_loop_remove_fd(sb->loop, sb->err_fd);
        sandbox_loop_remove_fd(sb->loop, sb->report_fd);
        sb->loop = NULL;
}

void sandbox_free(struct sandbox *sb)
{
        if (!sb)
                return;
        detach(sb);
        if (sb->init_pid > 0 && !sb->init_reaped) {
                /* PID 1's death takes the whole sandbox along; without
                 * namespaces the reaper then kills what PID 1 left and exits
                 * (killed first, it would leave that to PID 1, unwaited) */
                if (sb->signal_pidfd >= 0)
                        pidfd_send_signal(sb->signal_pidfd, SIGKILL);
                else if (sb->init_pidfd >= 0)
                        pidfd_send_signal(sb->init_pidfd, SIGKILL);
                else
                        kill(sb->init_pid, SIGKILL);
                while (waitpid(sb->init_pid, NULL, __WALL) < 0 && errno == EINTR)
                        ;
        }
        /* nothing runs on the stacks any more */
        if (sb->stacks)
                munmap(sb->stacks, sb->stacks_len);
        if (sb->init_pidfd >= 0)
                close(sb->init_pidfd);
        if (sb->signal_pidfd >= 0)
                close(sb->signal_pidfd);
        if (sb->err_fd >= 0)
                close(sb->err_fd);
        if (sb->report_fd >= 0)
                close(sb->report_fd);
        sandbox_exec_free(sb->x);
        free(sb);
}

static int drain_err(struct sandbox *sb);

static char *cmdline_start;
static size_t cmdline_len;

void sandbox_set_cmdline_area(char *start, size_t len)
{
        cmdline_start = start;
        cmdline_len = len;
}

/* PID 1 starts as a copy of this process, and its /proc/1/cmdline is
 * readable by any process of the sandbox: while the helper makes it, our
 * command line says "cloister-init" (and NULs), so that the copy does. Done
 * here rather than in PID 1, whose first write to that page would be a
 * copy-on-write fault on its way to the command. Returns what to put back
 * (NULL when nothing was changed), or sets *failed. */
static char *cmdline_hide(int *failed)
{
        static const char name[] = "cloister-init";
        *failed = 0;
        if (!cmdline_start || cmdline_len == 0)
                return NULL;
        char *saved = malloc(cmdline_len);
        if (!saved) {
                *failed = 1;
                return NULL;
        }
        memcpy(saved, cmdline_start, cmdline_len);
        memset(cmdline_start, 0, cmdline_len);
        size_t n = cmdline_len - 1 < sizeof(name) - 1 ? cmdline_len - 1 : sizeof(name) - 1;
        memcpy(cmdline_start, name, n);
        return saved;
}

static void cmdline_restore(char *saved)
{
        if (!saved)
                return;
        memcpy(cmdline_start, saved, cmdline_len);
        free(saved);
}

int sandbox_spawn(struct sandbox_plan *plan, struct sandbox **ret, struct cl_error *err)
{
        struct sandbox_host host;
        int r = sandbox_host_probe(&host, err);
        if (r < 0)
                return r;
        _cleanup_sandbox_ struct sandbox *sb = calloc(1, sizeof(*sb));
        if (!sb)
                return cl_err(err, ENOMEM, "sandbox");
        sb->err_fd = sb->report_fd = sb->init_pidfd = sb->signal_pidfd = -1;
        r = sandbox_exec_compile(plan, &host, &sb->x, err);
        if (r < 0)
                return r;
        struct sandbox_exec *x = sb->x;
        r = map_stacks(sb, x, err);
        if (r < 0)
                return r;

        int errp[2], repp[2];
        if (pipe2(errp, O_CLOEXEC) < 0)
                return cl_err(err, errno, "create pipe");
        sb->err_fd = errp[0];
        x->err_fd = errp[1];
        if (pipe2(repp, O_CLOEXEC) < 0) {
                close(errp[1]);
                return cl_err(err, errno, "create pipe");
        }
        sb->report_fd = repp[0];
        x->report_fd = repp[1];
        set_helper_fds(x);

        int hide_failed;
        char *cmdline_saved = cmdline_hide(&hide_failed);
        if (hide_failed) {
                close(errp[1]);
                close(repp[1]);
                return cl_err(err, ENOMEM, "start the sandbox helper");
        }
        /* no handler of ours may run in the helper before it has reset them
         * all (it runs in our memory); it unblocks for PID 1 itself. The
         * raw call: glibc's mask functions leave its own two signals open. */
        uint64_t all = ~(uint64_t)0, old = 0;
        sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof(all));
        sb->t_start = sandbox_loop_now();
        long helper = sandbox_child_start_helper(x);
        sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(old));
        cmdline_restore(cmdline_saved);
        close(errp[1]);
        close(repp[1]);
        if (helper < 0)
                return cl_err(err, (int)-helper, "start the sandbox helper");
        /* the helper has exited; PID 1, if it was made, is our child */
        int status;
        while (waitpid((pid_t)helper, &status, __WALL) < 0 && errno == EINTR)
                ;
        sb->init_pid = x->shared->init_pid;
        if (sb->init_pid > 0) {
                sb->init_pidfd = pidfd_open(sb->init_pid);
                if (sb->init_pidfd < 0)
                        return cl_err(err, errno, "open a pidfd for the sandbox's PID 1");
        } else {
                /* the helper failed before PID 1: its record says why */
                sb->init_reaped = 1;
                sb->init_status = status;
                sb->t_end = sandbox_loop_now();
                drain_err(sb);
        }
        *ret = TAKE_PTR(sb);
        return 0;
}

static void maybe_started(struct sandbox *sb)
{
        if (sb->started || !sb->exec_done || sb->have_record || sb->init_pid <= 0)
                return;
        sb->started = 1;
        if (sb->started_fn)
                sb->started_fn(sb, sb->cb_data);
}

static int drain_err(struct sandbox *sb)
{
        for (;;) {
                char *p = (char *)&sb->rec;
                ssize_t n = read(sb->err_fd, p + sb->rec_got, sizeof(sb->rec) - sb->rec_got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                if (n == 0) {
                        sb->err_eof = 1;
                        return 0;
                }
                sb->rec_got += (size_t)n;
                if (sb->rec_got == sizeof(sb->rec)) {
                        /* the first failure is the cause; later ones are consequences */
                        if (!sb->have_record)
                                sb->have_record = 1;
                        else
                                sb->rec_got = sizeof(sb->rec);
                        return 0;
                }
        }
}

static int drain_report(struct sandbox *sb)
{
        for (;;) {
                struct sandbox_report rep;
                ssize_t n = read(sb->report_fd, &rep, sizeof(rep));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                if (n == 0) {
                        sb->report_eof = 1;
                        return 0;
                }
                if (n != sizeof(rep))
                        continue; /* records are written whole (< PIPE_BUF) */
                if (rep.type == SANDBOX_REPORT_INIT_PID && sb->signal_pidfd < 0) {
                        sb->signal_pidfd = pidfd_open((pid_t)rep.value);
                } else if (rep.type == SANDBOX_REPORT_STATUS) {
                        sb->have_status = 1;
                        sb->cmd_status = (int)rep.value;
                } else if (rep.type == SANDBOX_REPORT_STARTED) {
                        sb->exec_done = 1;
                } else if (rep.type == SANDBOX_REPORT_NS && rep.index >= 0 &&
                           rep.index < SANDBOX_N_NS) {
                        sb->ns_ids[rep.index] = (uint64_t)rep.value;
                }
        }
}

static int on_err(struct sandbox_loop *loop, int fd, uint32_t events, void *data,
                  struct cl_error *err)
{
        struct sandbox *sb = data;
        (void)events;
        int r = drain_err(sb);
        if (r < 0)
                return cl_err(err, r, "read the sandbox's failure pipe");
        if (sb->err_eof || sb->have_record)
                sandbox_loop_remove_fd(loop, fd);
        maybe_started(sb);
        return 0;
}

static int on_report(struct sandbox_loop *loop, int fd, uint32_t events, void *data,
                     struct cl_error *err)
{
        struct sandbox *sb = data;
        (void)events;
        int r = drain_report(sb);
        if (r < 0)
                return cl_err(err, r, "read the sandbox's report pipe");
        if (sb->report_eof)
                sandbox_loop_remove_fd(loop, fd);
        maybe_started(sb);
        return 0;
}

static int on_init_exit(struct sandbox_loop *loop, int fd, uint32_t events, void *data,
                        struct cl_error *err)
{
        struct sandbox *sb = data;
        (void)events;
        (void)fd;
        int status;
        pid_t p;
        do
                p = wait4(sb->init_pid, &status, __WALL, &sb->rusage);
        while (p < 0 && errno == EINTR);
        if (p < 0)
                return cl_err(err, errno, "wait for the sandbox's PID 1 %d", (int)sb->init_pid);
        sb->t_end = sandbox_loop_now();
        sb->init_reaped = 1;
        sb->init_status = status;
        /* every writer is gone now: what is in the pipes is all there is */
        if (!sb->have_record && !sb->err_eof)
                drain_err(sb);
        if (!sb->report_eof)
                drain_report(sb);
        (void)loop;
        detach(sb);
        if (sb->ended_fn)
                sb->ended_fn(sb, sb->cb_data);
        return 0;
}

static int status_code(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return CL_EXIT_SETUP;
}

int sandbox_attach(struct sandbox *sb, struct sandbox_loop *loop, sandbox_started_fn started,
                   sandbox_ended_fn ended, void *data, struct cl_error *err)
{
        sb->started_fn = started;
        sb->ended_fn = ended;
        sb->cb_data = data;
        sb->loop = loop;
        fcntl(sb->err_fd, F_SETFL, O_NONBLOCK);
        fcntl(sb->report_fd, F_SETFL, O_NONBLOCK);
        if (sb->init_reaped)
                return 0;
        int r = sandbox_loop_add_fd(loop, sb->init_pidfd, EPOLLIN, on_init_exit, sb, err);
        if (r >= 0 && !sb->err_eof && !sb->have_record)
                r = sandbox_loop_add_fd(loop, sb->err_fd, EPOLLIN, on_err, sb, err);
        if (r >= 0 && !sb->report_eof)
                r = sandbox_loop_add_fd(loop, sb->report_fd, EPOLLIN, on_report, sb, err);
        if (r < 0)
                detach(sb);
        return r;
}

int sandbox_ended(const struct sandbox *sb)
{
        return sb->init_reaped;
}

void sandbox_result(const struct sandbox *sb, struct sandbox_result *res)
{
        *res = (struct sandbox_result){0};
        res->init_pid = sb->init_pid;
        res->rusage = sb->rusage;
        res->wall_ns = sb->t_end - sb->t_start;
        if (sb->parent_failed) {
                res->setup_failed = 1;
                res->error = sb->parent_error;
                res->exit_code = CL_EXIT_SETUP;
        } else if (sb->have_record) {
                res->setup_failed = 1;
                res->exit_code = sandbox_describe_failure(sb->x, &sb->rec, &res->error);
                if (sb->have_status)
                        res->status = sb->cmd_status;
        } else if (sb->have_status) {
                res->exited = 1;
                res->status = sb->cmd_status;
                res->exit_code = status_code(sb->cmd_status);
        } else {
                /* PID 1 died without a word (killed from outside) */
                res->status = sb->init_status;
                res->exit_code = status_code(sb->init_status);
                res->exited = 1;
        }
}

int sandbox_wait(struct sandbox *sb, struct sandbox_loop *loop, sandbox_started_fn started,
                 void *data, struct sandbox_result *res, struct cl_error *err)
{
        _cleanup_sandbox_loop_ struct sandbox_loop *own = NULL;
        int r;
        if (!loop) {
                r = sandbox_loop_new(&own, err);
                if (r < 0)
                        return r;
                loop = own;
        }
        r = sandbox_attach(sb, loop, started, NULL, data, err);
        if (r >= 0 && !sb->init_reaped)
                r = sandbox_loop_run_until(loop, &sb->init_reaped, err);
        detach(sb);
        if (r < 0)
                return r;
        sandbox_result(sb, res);
        return 0;
}

int sandbox_kill(struct sandbox *sb, int sig)
{
        if (sb->init_reaped || sb->init_pidfd < 0)
                return -ESRCH;
        int fd = sb->signal_pidfd >= 0 ? sb->signal_pidfd : sb->init_pidfd;
        return pidfd_send_signal(fd, sig) < 0 ? -errno : 0;
}

pid_t sandbox_init_pid(const struct sandbox *sb)
{
        return sb->init_pid > 0 ? sb->init_pid : 0;
}

uint64_t sandbox_namespace_id(const struct sandbox *sb, const char *name)
{
        for (int i = 0; i < SANDBOX_N_NS; i++)
                if (strcmp(sandbox_ns_names[i], name) == 0)
                        return sb->ns_ids[i];
        return 0;
}

int sandbox_run(struct sandbox_plan *plan, struct sandbox_result *res, struct cl_error *err)
{
        _cleanup_sandbox_ struct sandbox *sb = NULL;
        int r = sandbox_spawn(plan, &sb, err);
        if (r < 0)
                return r;
        return sandbox_wait(sb, NULL, NULL, NULL, res, err);
}

int sandbox_describe_failure(const struct sandbox_exec *x, const struct sandbox_child_error *rec,
                             struct cl_error *err)
{
        const struct sandbox_op *op =
            rec->index >= 0 && (size_t)rec->index < x->n_ops ? &x->ops[rec->index] : NULL;
        const char *dst = op ? op->dst : "?";
        const char *src = op && op->src ? op->src : "?";
        int e = rec->err;

        switch (rec->step) {
        case SANDBOX_STEP_EXEC: {
                const char *path = rec->index >= 0 && (size_t)rec->index < x->n_exec_paths
                                       ? x->exec_paths[rec->index]
                                       : x->argv[0];
                cl_err(err, e, "execute '%s'", path);
                return CL_EXIT_NOEXEC;
        }
        case SANDBOX_STEP_NOT_FOUND:
                if (x->plan->exec_path)
                        cl_err(err, e, "execute '%s'", x->plan->exec_path);
                else if (strchr(x->argv[0], '/'))
                        cl_err(err, e, "execute '%s'", x->argv[0]);
                else
                        cl_errx(err, e, "command '%s' not found in PATH '%s'", x->argv[0],
                                sandbox_plan_getenv(x->plan, "PATH")
                                    ? sandbox_plan_getenv(x->plan, "PATH")
                                    : "/usr/local/bin:/usr/bin:/bin");
                return CL_EXIT_NOTFOUND;
        case SANDBOX_STEP_MKPATH:
        case SANDBOX_STEP_BIND:
                if (op && op->kind == SANDBOX_OP_BIND)
                        cl_err(err, e, "bind mount '%s' on '%s'", src, dst);
                else if (op && op->kind == SANDBOX_OP_TMPFS)
                        cl_err(err, e, "mount tmpfs on '%s'", dst);
                else if (op && op->kind == SANDBOX_OP_PROC)
                        cl_err(err, e, "mount proc on '%s'", dst);
                else if (op && op->kind == SANDBOX_OP_DEVPTS)
                        cl_err(err, e, "mount devpts on '%s'", dst);
                else
                        cl_err(err, e, "create '%s'", dst);
                break;
        case SANDBOX_STEP_BIND_FLAGS:
                cl_err(err, e, "set the flags of bind mount '%s' on '%s'", src, dst);
                break;
        case SANDBOX_STEP_TMPFS:
                cl_err(err, e, "mount tmpfs on '%s'", dst);
                break;
        case SANDBOX_STEP_DIR:
                cl_err(err, e, "create directory '%s'", dst);
                break;
        case SANDBOX_STEP_SYMLINK:
                cl_err(err, e, "create symlink '%s' -> '%s'", dst, src);
                break;
        case SANDBOX_STEP_FILE:
                cl_err(err, e, "write '%s'", dst);
                break;
        case SANDBOX_STEP_PROC:
                cl_err(err, e, "mount proc on '%s'", dst);
                break;
        case SANDBOX_STEP_DEVPTS:
                cl_err(err, e, "mount devpts on '%s'", dst);
                break;
        case SANDBOX_STEP_MOUNT_ROOT:
                cl_err(err, e, "mount the new root's tmpfs on '%s'", x->root_mount);
                break;
        case SANDBOX_STEP_CHDIR:
                cl_err(err, e, "change directory to '%s'", x->plan->chdir ? x->plan->chdir : "/");
                break;
        case SANDBOX_STEP_KEEP_FD:
                cl_err(err, e, "keep file descriptor %d", rec->index);
                break;
        case SANDBOX_STEP_SETGID:
                cl_err(err, e, "set gid %u", (unsigned)x->gid);
                break;
        case SANDBOX_STEP_SETUID:
                cl_err(err, e, "set uid %u", (unsigned)x->uid);
                break;
        case SANDBOX_STEP_VERIFY_IDS:
                cl_errx(err, e, "ids are not %u/%u after switching to them", (unsigned)x->uid,
                        (unsigned)x->gid);
                break;
        case SANDBOX_STEP_PARENT_GONE:
                cl_errx(err, e, "the parent exited while the sandbox was being set up");
                break;
        case SANDBOX_STEP_HOSTNAME:
                cl_err(err, e, "set host name '%s'",
                       x->plan->hostname ? x->plan->hostname : "localhost");
                break;
        case SANDBOX_STEP_RLIMIT:
                cl_err(err, e, "set resource limit %d",
                       rec->index >= 0 && (size_t)rec->index < x->plan->n_rlimits
                           ? x->plan->rlimits[rec->index].resource
                           : -1);
                break;
        default: {
                static const char *const what[SANDBOX_STEP_MAX] = {
                    [SANDBOX_STEP_SIGNALS] = "reset signal handling",
                    [SANDBOX_STEP_PDEATHSIG] = "set the parent-death signal",
                    [SANDBOX_STEP_CLOSE_FDS] = "close inherited file descriptors",
                    [SANDBOX_STEP_CGROUP] = "join the cgroup",
                    [SANDBOX_STEP_PREPARE_INIT] = "prepare the start of the sandbox's PID 1",
                    [SANDBOX_STEP_UNSHARE] = "create the sandbox's namespaces",
                    [SANDBOX_STEP_FORK_INIT] = "start the sandbox's PID 1",
                    [SANDBOX_STEP_ID_MAPS] = "write the sandbox's uid and gid maps",
                    [SANDBOX_STEP_SETGROUPS] = "drop supplementary groups",
                    [SANDBOX_STEP_MOUNT_PRIVATE] = "make the mounts private",
                    [SANDBOX_STEP_DOMAINNAME] = "set the domain name",
                    [SANDBOX_STEP_LOOPBACK] = "bring up the loopback interface 'lo'",
                    [SANDBOX_STEP_PIVOT] = "pivot_root into the new root",
                    [SANDBOX_STEP_OLDROOT] = "detach the old root",
                    [SANDBOX_STEP_CAPS] = "drop capabilities",
                    [SANDBOX_STEP_NO_NEW_PRIVS] = "set no_new_privs",
                    [SANDBOX_STEP_FORK_CMD] = "fork the command",
                    [SANDBOX_STEP_SETSID] = "start a new session",
                    [SANDBOX_STEP_PERSONALITY] = "set the personality",
                    [SANDBOX_STEP_SECCOMP] = "load the seccomp filter",
                    [SANDBOX_STEP_SUBREAPER] = "become a child subreaper",
                };
                const char *w = rec->step > 0 && rec->step < SANDBOX_STEP_MAX && what[rec->step]
                                    ? what[rec->step]
                                    : "set up the sandbox";
                cl_err(err, e, "%s", w);
                break;
        }
        }
        return CL_EXIT_SETUP;
}
