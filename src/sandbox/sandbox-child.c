/* The three processes of a sandbox, from their start to the command's exec:
 * the helper (started like posix_spawn's child, in the memory of a possibly
 * threaded parent that waits for it; it creates PID 1 in the new namespaces,
 * writes PID 1's id maps from outside and exits), the sandbox's PID 1 (a
 * child of the parent with a copy of its memory: builds the root, drops
 * privileges, then acts as init) and the command (in PID 1's memory until
 * its exec).
 *
 * PID 1 never shares the parent's memory, though that would spare copying
 * the page tables: the kernel's OOM killer, choosing PID 1 when the
 * sandbox's memory limit is hit, kills every process sharing its memory,
 * and the parent with it; and PID 1's non-dumpable flag, which keeps the
 * command (same uid) from ptracing it, belongs to the memory.
 *
 * The helper runs with a parent thread's TLS, so only raw system calls
 * happen here, touching no libc or thread-local state (seed 000: a clone()
 * from a threaded process can hang in glibc's setxid code; here glibc is
 * never entered). */
#include "sandbox/sandbox-child.h"

#include "cloister/cloister.h"
#include "sandbox/sandbox-init.h"
#include "sandbox/sandbox-mount.h"
#include "sandbox/sandbox-net.h"
#include "sandbox/sandbox-nons-child.h"
#include "sandbox/sandbox-privs.h"
#include "sandbox/sandbox-sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* the kernel's struct sigaction for rt_sigaction(2) */
struct kernel_sigaction {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint64_t mask;
};

/* Async-signal-safe. Also sets x->shared->failed: the command shares PID 1's
 * memory until its exec, so after start_vfork() returns PID 1 reads there
 * whether the exec happened. */
void sandbox_child_fail(const struct sandbox_exec *x, enum sandbox_step step, int err, int index)
{
        struct sandbox_child_error rec = {(int32_t)step, err ? err : EIO, index};
        x->shared->failed = 1;
        sys_write_all(x->err_fd, &rec, sizeof(rec));
}

/* Async-signal-safe: report and leave with the setup failure code. */
__attribute__((noreturn)) static void fail(const struct sandbox_exec *x, enum sandbox_step step,
                                           int err, int index)
{
        sandbox_child_fail(x, step, err, index);
        sys_exit(CL_EXIT_SETUP);
}

/* Async-signal-safe: start fn(x) on its own stack, sharing our memory, with
 * us suspended until it execs or exits (posix_spawn's technique). No page
 * table is copied, which on a virtual machine is most of what a fork costs;
 * our stack is not touched, as it would be by a plain vfork(). */
static long start_vfork(int (*fn)(void *), void *stack_top, size_t stack_size,
                        const struct sandbox_exec *x)
{
        struct sys_clone_args ca = {
            .flags = CLONE_VM | CLONE_VFORK,
            .exit_signal = SIGCHLD,
            .stack = (uint64_t)(uintptr_t)((char *)stack_top - stack_size),
            .stack_size = stack_size,
        };
        return sys_clone3(&ca, fn, (void *)x);
}

/* Async-signal-safe: the SIGKILL that ends us when our parent dies. It is
 * cleared by any id change, hence re-armed after each. */
static void arm_pdeathsig(const struct sandbox_exec *x)
{
        long r = sys2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
        if (r < 0)
                fail(x, SANDBOX_STEP_PDEATHSIG, (int)-r, -1);
}

/* Async-signal-safe: is the process behind pidfd gone? */
static int pidfd_exited(int pidfd)
{
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        struct timespec zero = {0, 0};
        return sys5(SYS_ppoll, &p, 1, &zero, NULL, 0) > 0;
}

/* Async-signal-safe: every signal to its default action, none blocked, as a
 * freshly exec'd command expects; the caller may have handlers and masks. */
static void reset_signals(const struct sandbox_exec *x)
{
        struct kernel_sigaction dfl = {0};
        for (int sig = 1; sig <= 64; sig++) {
                if (sig == SIGKILL || sig == SIGSTOP)
                        continue;
                /* EINVAL for the few numbers the kernel reserves */
                sys4(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(uint64_t));
        }
        uint64_t none = 0;
        long r = sys4(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
        if (r < 0)
                fail(x, SANDBOX_STEP_SIGNALS, (int)-r, -1);
}

/* Async-signal-safe: apply how (0: close, CLOSE_RANGE_CLOEXEC: mark) to every
 * fd from 3 up except the sorted list keep. */
static long close_except(const int *keep, size_t n, unsigned how)
{
        unsigned from = 3;
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < (int)from)
                        continue;
                if ((unsigned)keep[i] > from) {
                        long r = sys3(SYS_close_range, from, (unsigned)keep[i] - 1, how);
                        if (r < 0)
                                return r;
                }
                from = (unsigned)keep[i] + 1;
        }
        return sys3(SYS_close_range, from, ~0u, how);
}

/* Async-signal-safe: the plan's ids, real, effective and saved, with no
 * supplementary group (as root). */
static void switch_ids(const struct sandbox_exec *x)
{
        sandbox_privs_switch_ids(x, NULL, 0);
}

/* Async-signal-safe: check that every uid and gid is the plan's. */
static void verify_ids(const struct sandbox_exec *x)
{
        sandbox_privs_verify_ids(x);
}

/* Async-signal-safe: no capability left in any set, and none to regain. */
static void drop_caps(const struct sandbox_exec *x)
{
        sandbox_privs_drop_bounding(x);
        sandbox_privs_drop_caps(x);
}

/* Async-signal-safe: the command's process, from fork to exec. */
__attribute__((noreturn)) static void run_command(const struct sandbox_exec *x)
{
        const struct sandbox_plan *plan = x->plan;
        uint64_t none = 0;
        long r = sys4(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
        if (r < 0)
                fail(x, SANDBOX_STEP_SIGNALS, (int)-r, -1);
        /* a new session: the command has no controlling terminal to push
         * input into (TIOCSTI) */
        r = sys0(SYS_setsid);
        if (r < 0)
                fail(x, SANDBOX_STEP_SETSID, (int)-r, -1);
        arm_pdeathsig(x);
        if (sys0(SYS_getppid) != (x->no_namespaces ? sandbox_nons_init_pid() : 1))
                fail(x, SANDBOX_STEP_PARENT_GONE, ESRCH, -1);
        verify_ids(x);

        r = sys1(SYS_chdir, plan->chdir ? plan->chdir : "/");
        if (r < 0)
                fail(x, SANDBOX_STEP_CHDIR, (int)-r, -1);

        /* nothing but 0 1 2 and the kept fds crosses exec */
        r = close_except(x->keep_fds, x->n_keep_fds, CLOSE_RANGE_CLOEXEC);
        if (r < 0)
                fail(x, SANDBOX_STEP_CLOSE_FDS, (int)-r, -1);
        for (size_t i = 0; i < x->n_keep_fds; i++) {
                r = sys3(SYS_fcntl, x->keep_fds[i], F_SETFD, 0);
                if (r < 0)
                        fail(x, SANDBOX_STEP_KEEP_FD, (int)-r, x->keep_fds[i]);
        }

        for (size_t i = 0; i < plan->n_rlimits; i++) {
                r = sys4(SYS_prlimit64, 0, plan->rlimits[i].resource, &plan->rlimits[i].limit,
                         NULL);
                if (r < 0)
                        fail(x, SANDBOX_STEP_RLIMIT, (int)-r, (int)i);
        }
        if (plan->personality != SANDBOX_PERSONALITY_KEEP) {
                r = sys1(SYS_personality, plan->personality);
                if (r < 0)
                        fail(x, SANDBOX_STEP_PERSONALITY, (int)-r, -1);
        }
        if (plan->seccomp) {
                /* last: from here on only what the filter allows, and execve */
                r = sys3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, plan->seccomp);
                if (r < 0)
                        fail(x, SANDBOX_STEP_SECCOMP, (int)-r, -1);
        }

        /* like execvp: try each PATH candidate, remember a permission problem */
        int denied = -1;
        for (size_t i = 0; i < x->n_exec_paths; i++) {
                r = sys3(SYS_execve, x->exec_paths[i], x->argv, x->envp);
                if (r == -ENOENT || r == -ENOTDIR)
                        continue;
                if (r == -EACCES) {
                        if (denied < 0)
                                denied = (int)i;
                        continue;
                }
                sandbox_child_fail(x, SANDBOX_STEP_EXEC, (int)-r, (int)i);
                sys_exit(CL_EXIT_NOEXEC);
        }
        if (denied >= 0) {
                sandbox_child_fail(x, SANDBOX_STEP_EXEC, EACCES, denied);
                sys_exit(CL_EXIT_NOEXEC);
        }
        sandbox_child_fail(x, SANDBOX_STEP_NOT_FOUND, ENOENT, 0);
        sys_exit(CL_EXIT_NOTFOUND);
}

const char *const sandbox_ns_names[SANDBOX_N_NS] = {"cgroup", "ipc",  "mnt", "net",
                                                    "pid",    "user", "uts"};

/* Async-signal-safe: tell the parent our namespaces' ids (for the status
 * stream); it cannot look them up itself, as we are not dumpable. Done while
 * /proc is still the host's. */
static void report_namespaces(const struct sandbox_exec *x)
{
        for (int i = 0; i < SANDBOX_N_NS; i++) {
                char path[32] = "/proc/self/ns/";
                size_t n = sys_strlen(path);
                for (const char *c = sandbox_ns_names[i]; *c; c++)
                        path[n++] = *c;
                path[n] = '\0';
                struct stat st;
                if (sys4(SYS_newfstatat, AT_FDCWD, path, &st, 0) < 0)
                        continue;
                struct sandbox_report rep = {SANDBOX_REPORT_NS, i, (int64_t)st.st_ino};
                sys_write_all(x->report_fd, &rep, sizeof(rep));
        }
}

/* Async-signal-safe: start_vfork() entry of the command. */
static int command_entry(void *arg)
{
        run_command(arg);
}

/* Async-signal-safe: wait until the helper has written our id maps; its
 * end of the pipe closes without a word if it failed (and says why). */
static void wait_for_maps(const struct sandbox_exec *x)
{
        int fd = x->shared->go_fd;
        sys_close(x->shared->go_fd_write);
        char c = 0;
        long n;
        do
                n = sys3(SYS_read, fd, &c, 1);
        while (n == -EINTR);
        if (n != 1)
                sys_exit(CL_EXIT_SETUP);
        sys_close(fd);
}

/* Async-signal-safe: the sandbox's PID 1, a child of the parent (the helper
 * started it with CLONE_PARENT). Builds the world, gives up every privilege,
 * forks the command and becomes its init. The parent's pidfd lets it notice
 * a parent that died before the parent-death signal was armed. */
__attribute__((noreturn)) static void run_init(const struct sandbox_exec *x)
{
        const struct sandbox_plan *plan = x->plan;
        arm_pdeathsig(x);
        wait_for_maps(x);
        /* the cgroup leaves are joined: their fds are of no use in here */
        sys_close(plan->cgroup_dir_fd);
        sys_close(plan->cgroup_procs_fd);
        report_namespaces(x);
        /* the bind sources are reached with the caller's identity (as real root,
         * a store below a 0700 directory is reachable, as for Nix's builds)... */
        if (sandbox_mount_open_sources(x) < 0)
                sys_exit(CL_EXIT_SETUP);
        /* ...then the ids: as real root the tmpfs files must be made by a
         * mapped uid, and the switch clears the parent-death signal */
        switch_ids(x);
        arm_pdeathsig(x);
        if (pidfd_exited(x->shared->parent_pidfd))
                fail(x, SANDBOX_STEP_PARENT_GONE, ESRCH, -1);
        sys_close(x->shared->parent_pidfd);
        sys1(SYS_umask, 022);

        if (sandbox_mount_root(x) < 0)
                sys_exit(CL_EXIT_SETUP);

        const char *host = plan->hostname ? plan->hostname : "localhost";
        long r = sys2(SYS_sethostname, host, sys_strlen(host));
        if (r < 0)
                fail(x, SANDBOX_STEP_HOSTNAME, (int)-r, -1);
        const char *domain = plan->domainname ? plan->domainname : "(none)";
        r = sys2(SYS_setdomainname, domain, sys_strlen(domain));
        if (r < 0)
                fail(x, SANDBOX_STEP_DOMAINNAME, (int)-r, -1);
        if (!(plan->flags & SANDBOX_SHARE_NET)) {
                r = sandbox_net_loopback_up();
                if (r < 0)
                        fail(x, SANDBOX_STEP_LOOPBACK, (int)-r, -1);
        }

        verify_ids(x);
        drop_caps(x);
        /* the command (same uid) must not be able to ptrace or read PID 1 */
        sys2(SYS_prctl, PR_SET_DUMPABLE, 0);

        uint64_t mask = sandbox_init_signal_mask();
        r = sys4(SYS_rt_sigprocmask, SIG_BLOCK, &mask, NULL, sizeof(mask));
        if (r < 0)
                fail(x, SANDBOX_STEP_SIGNALS, (int)-r, -1);
        sandbox_child_start_command(x, NULL, 0);
}

/* Async-signal-safe: write one file of /proc/PID/. */
static long write_proc_file(pid_t pid, const char *name, const char *text)
{
        char path[64] = "/proc/";
        size_t n = sys_strlen(path);
        n += sys_format_uint(path + n, (unsigned long)pid);
        path[n++] = '/';
        for (const char *c = name; *c; c++)
                path[n++] = *c;
        path[n] = '\0';
        int fd = (int)sys4(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
        if (fd < 0)
                return fd;
        long r = sys_write_all(fd, text, sys_strlen(text));
        sys_close(fd);
        return r;
}

/* Async-signal-safe: PID 1's one-line maps. From outside its user namespace,
 * as real root (any host ids) or as its creator (our own ids, with setgroups
 * denied, which is all the kernel allows an unprivileged caller). */
static long write_maps(const struct sandbox_exec *x, pid_t init)
{
        long r = 0;
        if (x->setgroups_deny)
                r = write_proc_file(init, "setgroups", "deny");
        if (r >= 0)
                r = write_proc_file(init, "uid_map", x->uid_map);
        if (r >= 0)
                r = write_proc_file(init, "gid_map", x->gid_map);
        return r;
}

/* Async-signal-safe: sys_clone3() entry of PID 1. */
static int init_entry(void *arg)
{
        run_init(arg);
}

/* Async-signal-safe: sys_clone3() entry of the reaper of a plan without
 * namespaces (sandbox-nons-child.c). */
static int nons_entry(void *arg)
{
        sandbox_nons_helper(arg);
}

/* Async-signal-safe: the helper. The parent is suspended until we exit. */
static int helper_entry(void *arg)
{
        const struct sandbox_exec *x = arg;
        reset_signals(x);

        /* the parent's other descriptors (pipes of other children, sockets)
         * must not reach PID 1, which inherits our table */
        long r = close_except(x->helper_fds, x->n_helper_fds, 0);
        if (r < 0)
                fail(x, SANDBOX_STEP_CLOSE_FDS, (int)-r, -1);

        /* the v2 leaf is entered by clone3 below; the v1 leaves (and the v2
         * one where clone3 cannot) by joining them here, before PID 1's
         * cgroup namespace is made, so that its root is the leaf */
        int into_cgroup = x->plan->cgroup_dir_fd >= 0;
        for (size_t i = 0; i < SANDBOX_CGROUP_MORE; i++) {
                int fd = x->plan->cgroup_procs_more[i];
                if (fd < 0)
                        continue;
                r = sys_write_all(fd, "0", 1);
                if (r < 0)
                        fail(x, SANDBOX_STEP_CGROUP, (int)-r, (int)i + 1);
                sys_close(fd);
        }

        int parent_pidfd = (int)sys2(SYS_pidfd_open, x->parent_pid, 0);
        if (parent_pidfd < 0)
                fail(x, SANDBOX_STEP_PREPARE_INIT, -parent_pidfd, -1);
        x->shared->parent_pidfd = parent_pidfd;

        int go[2] = {-1, -1};
        if (!x->no_namespaces) {
                r = sys2(SYS_pipe2, go, O_CLOEXEC);
                if (r < 0)
                        fail(x, SANDBOX_STEP_PREPARE_INIT, (int)-r, -1);
        }
        x->shared->go_fd = go[0];
        x->shared->go_fd_write = go[1];

        /* no CLONE_VM: PID 1 goes on on its copy of this stack */
        struct sys_clone_args ca = {
            .flags = CLONE_PARENT | CLONE_PARENT_SETTID | (uint64_t)x->unshare_flags,
            .parent_tid = (uint64_t)(uintptr_t)&x->shared->init_pid,
        };
        if (into_cgroup) {
                ca.flags |= SYS_CLONE_INTO_CGROUP;
                ca.cgroup = (uint64_t)x->plan->cgroup_dir_fd;
        }
        if (!into_cgroup && x->plan->cgroup_procs_fd >= 0) {
                r = sys_write_all(x->plan->cgroup_procs_fd, "0", 1);
                if (r < 0)
                        fail(x, SANDBOX_STEP_CGROUP, (int)-r, 0);
        }
        /* without namespaces the child is a reaper that starts PID 1 */
        int (*entry)(void *) = x->no_namespaces ? nons_entry : init_entry;
        long init = sys_clone3(&ca, entry, (void *)x);
        if ((init == -EINVAL || init == -E2BIG) && into_cgroup && x->plan->cgroup_procs_fd >= 0) {
                /* a kernel before 5.7: join the v2 leaf by its cgroup.procs */
                r = sys_write_all(x->plan->cgroup_procs_fd, "0", 1);
                if (r < 0)
                        fail(x, SANDBOX_STEP_CGROUP, (int)-r, 0);
                ca.flags &= ~SYS_CLONE_INTO_CGROUP;
                ca.cgroup = 0;
                init = sys_clone3(&ca, entry, (void *)x);
        }
        if (init < 0)
                fail(x, SANDBOX_STEP_UNSHARE, (int)-init, -1);
        x->shared->init_pid = (pid_t)init;
        if (x->no_namespaces)
                sys_exit(0);

        r = write_maps(x, (pid_t)init);
        if (r < 0)
                fail(x, SANDBOX_STEP_ID_MAPS, (int)-r, -1); /* PID 1 reads end-of-file */
        char c = 'g';
        r = sys_write_all(go[1], &c, 1);
        if (r < 0)
                fail(x, SANDBOX_STEP_ID_MAPS, (int)-r, -1);
        sys_exit(0);
}

/* Async-signal-safe. */
long sandbox_child_start_helper(const struct sandbox_exec *x)
{
        /* exit signal 0: only a wait with __WALL takes it, so that a SIGCHLD
         * handler of the caller that reaps every child cannot take it (or,
         * through CLONE_PARENT, PID 1) */
        struct sys_clone_args ca = {
            .flags = CLONE_VM | CLONE_VFORK,
            .exit_signal = 0,
            .stack = (uint64_t)(uintptr_t)((char *)x->helper_stack_top - SANDBOX_STACK_SIZE),
            .stack_size = SANDBOX_STACK_SIZE,
        };
        return sys_clone3(&ca, helper_entry, (void *)x);
}

/* Async-signal-safe. */
void sandbox_child_start_command(const struct sandbox_exec *x, long (*kill_children)(void),
                                 int parent_died)
{
        /* we are suspended until the command has exec'd (or failed) */
        long cmd = start_vfork(command_entry, x->cmd_stack_top, SANDBOX_STACK_SIZE, x);
        if (cmd < 0)
                fail(x, SANDBOX_STEP_FORK_CMD, (int)-cmd, -1);
        if (!x->shared->failed) {
                struct sandbox_report started = {SANDBOX_REPORT_STARTED, 0, cmd};
                sys_write_all(x->report_fd, &started, sizeof(started));
        }
        sys_close(x->err_fd);
        sys_close(0);
        sys_close(1);
        sys_close(2);
        if (kill_children)
                sandbox_init_run_subreaper(x, (pid_t)cmd, kill_children, parent_died);
        sandbox_init_run(x, (pid_t)cmd);
}
