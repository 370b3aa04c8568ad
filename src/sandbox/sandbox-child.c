/* The three processes of a sandbox, from fork to exec: the helper (forked
 * from a possibly threaded parent; it creates the namespaces and waits), the
 * sandbox's PID 1 (builds the root, drops privileges, then acts as init) and
 * the command. Only async-signal-safe raw system calls happen here (seed 000:
 * a clone() from a threaded process can hang in glibc's setxid code). */
#include "sandbox/sandbox-child.h"

#include "cloister/cloister.h"
#include "sandbox/sandbox-init.h"
#include "sandbox/sandbox-mount.h"
#include "sandbox/sandbox-net.h"
#include "sandbox/sandbox-nons-child.h"
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

/* Async-signal-safe. */
/* Set by any failure report. The command shares PID 1's memory until its
 * exec, so after start_vfork() returns PID 1 reads here whether the exec
 * happened (the helper, suspended while the sandbox lives, keeps the error
 * pipe open, so its end-of-file cannot tell the parent). */
static volatile int child_failed;

void sandbox_child_fail(const struct sandbox_exec *x, enum sandbox_step step, int err, int index)
{
        struct sandbox_child_error rec = {(int32_t)step, err ? err : EIO, index};
        child_failed = 1;
        sys_write_all(x->err_fd, &rec, sizeof(rec));
}

/* Async-signal-safe: report and leave with the setup failure code. */
__attribute__((noreturn)) static void fail(const struct sandbox_exec *x, enum sandbox_step step,
                                           int err, int index)
{
        sandbox_child_fail(x, step, err, index);
        sys_exit(CL_EXIT_SETUP);
}

/* What a child started by start_vfork() runs with. */
struct vfork_args {
        const struct sandbox_exec *x;
        int helper_pidfd;
        pid_t tid; /* the child's pid as its parent sees it, set by the kernel */
};

/* Async-signal-safe: start fn on its own stack, sharing our memory, with us
 * suspended until it execs or exits (posix_spawn's technique). No page table
 * is copied, which on a virtual machine is most of what a fork costs; our
 * stack is not touched, as it would be by a plain vfork(). Only used from
 * single-threaded processes (the helper and PID 1). */
static long start_vfork(int (*fn)(void *), void *stack_top, struct vfork_args *args)
{
        long r = clone(fn, stack_top, CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID | SIGCHLD, args,
                       &args->tid);
        return r < 0 ? -errno : r;
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

/* Async-signal-safe: the plan's ids, real, effective and saved. */
static void switch_ids(const struct sandbox_exec *x)
{
        long r;
        if (x->privileged) {
                /* host root's groups would otherwise follow it into the sandbox */
                r = sys2(SYS_setgroups, 0, NULL);
                if (r < 0)
                        fail(x, SANDBOX_STEP_SETGROUPS, (int)-r, -1);
        }
        r = sys3(SYS_setresgid, x->gid, x->gid, x->gid);
        if (r < 0)
                fail(x, SANDBOX_STEP_SETGID, (int)-r, -1);
        r = sys3(SYS_setresuid, x->uid, x->uid, x->uid);
        if (r < 0)
                fail(x, SANDBOX_STEP_SETUID, (int)-r, -1);
}

/* Async-signal-safe: check that every uid and gid is the plan's. */
static void verify_ids(const struct sandbox_exec *x)
{
        uid_t ru = 0, eu = 0, su = 0;
        gid_t rg = 0, eg = 0, sg = 0;
        if (sys3(SYS_getresuid, &ru, &eu, &su) < 0 || sys3(SYS_getresgid, &rg, &eg, &sg) < 0 ||
            ru != x->uid || eu != x->uid || su != x->uid || rg != x->gid || eg != x->gid ||
            sg != x->gid)
                fail(x, SANDBOX_STEP_VERIFY_IDS, EPERM, -1);
}

/* Async-signal-safe: no capability left in any set, and none to regain. */
static void drop_caps(const struct sandbox_exec *x)
{
        for (int c = 0; c <= x->cap_last_cap; c++) {
                long r = sys2(SYS_prctl, PR_CAPBSET_DROP, c);
                if (r < 0 && r != -EINVAL)
                        fail(x, SANDBOX_STEP_CAPS, (int)-r, c);
        }
        long r = sys5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (r < 0 && r != -EINVAL)
                fail(x, SANDBOX_STEP_CAPS, (int)-r, -1);
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0, 0, 0}, {0, 0, 0}};
        r = sys2(SYS_capset, &hdr, data);
        if (r < 0)
                fail(x, SANDBOX_STEP_CAPS, (int)-r, -1);
        r = sys5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (r < 0)
                fail(x, SANDBOX_STEP_NO_NEW_PRIVS, (int)-r, -1);
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
        run_command(((struct vfork_args *)arg)->x);
}

/* Async-signal-safe: the sandbox's PID 1. Builds the world, gives up every
 * privilege, forks the command and becomes its init. helper_pidfd lets it
 * notice a helper that died before the parent-death signal was armed. */
__attribute__((noreturn)) static void run_init(const struct sandbox_exec *x, int helper_pidfd,
                                               pid_t host_pid)
{
        const struct sandbox_plan *plan = x->plan;
        arm_pdeathsig(x);
        /* the parent needs our pid to signal us (the helper is suspended) */
        struct sandbox_report rep = {SANDBOX_REPORT_INIT_PID, 0, host_pid};
        sys_write_all(x->report_fd, &rep, sizeof(rep));
        report_namespaces(x);
        /* the bind sources are reached with the caller's identity (as real root,
         * a store below a 0700 directory is reachable, as for Nix's builds)... */
        if (sandbox_mount_open_sources(x) < 0)
                sys_exit(CL_EXIT_SETUP);
        /* ...then the ids: as real root the tmpfs files must be made by a
         * mapped uid, and the switch clears the parent-death signal */
        switch_ids(x);
        arm_pdeathsig(x);
        if (pidfd_exited(helper_pidfd))
                fail(x, SANDBOX_STEP_PARENT_GONE, ESRCH, -1);
        sys_close(helper_pidfd);
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
        /* we are suspended until the command has exec'd (or failed) */
        struct vfork_args args = {.x = x, .helper_pidfd = -1};
        child_failed = 0;
        long cmd = start_vfork(command_entry, x->cmd_stack_top, &args);
        if (cmd < 0)
                fail(x, SANDBOX_STEP_FORK_CMD, (int)-cmd, -1);
        if (!child_failed) {
                struct sandbox_report started = {SANDBOX_REPORT_STARTED, 0, cmd};
                sys_write_all(x->report_fd, &started, sizeof(started));
        }
        sys_close(x->err_fd);
        sys_close(0);
        sys_close(1);
        sys_close(2);
        sandbox_init_run(x, (pid_t)cmd);
}

/* Async-signal-safe: write one of our /proc/self files. */
static long write_self_file(const char *path, const char *text)
{
        int fd = (int)sys2(SYS_open, path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return fd;
        long r = sys_write_all(fd, text, sys_strlen(text));
        sys_close(fd);
        return r;
}

/* Async-signal-safe: an unprivileged caller's one-line maps of its own ids,
 * which the kernel lets the new namespace's owner write itself. */
static void write_own_maps(const struct sandbox_exec *x)
{
        long r = write_self_file("/proc/self/setgroups", "deny");
        if (r >= 0)
                r = write_self_file("/proc/self/uid_map", x->uid_map);
        if (r >= 0)
                r = write_self_file("/proc/self/gid_map", x->gid_map);
        if (r < 0)
                fail(x, SANDBOX_STEP_ID_MAPS, (int)-r, -1);
}

/* Async-signal-safe: start_vfork() entry of PID 1. */
static int init_entry(void *arg)
{
        struct vfork_args *a = arg;
        run_init(a->x, a->helper_pidfd, a->tid);
}

/* Async-signal-safe. */
void sandbox_child_helper(const struct sandbox_exec *x)
{
        reset_signals(x);
        arm_pdeathsig(x);
        if (sys0(SYS_getppid) != x->parent_pid)
                sys_exit(CL_EXIT_SETUP);

        /* the parent's other descriptors (pipes of other children, sockets)
         * must not stay open in here */
        long r = close_except(x->helper_fds, x->n_helper_fds, 0);
        if (r < 0)
                fail(x, SANDBOX_STEP_CLOSE_FDS, (int)-r, -1);

        if (x->plan->cgroup_procs_fd >= 0 && x->cgroup_joined) {
                sys_close(x->plan->cgroup_procs_fd);
        } else if (x->plan->cgroup_procs_fd >= 0) {
                /* before the cgroup namespace, so that its root is this cgroup */
                r = sys_write_all(x->plan->cgroup_procs_fd, "0", 1);
                if (r < 0)
                        fail(x, SANDBOX_STEP_CGROUP, (int)-r, -1);
                sys_close(x->plan->cgroup_procs_fd);
        }
        for (size_t i = 0; i < SANDBOX_CGROUP_MORE; i++) {
                int fd = x->plan->cgroup_procs_more[i];
                if (fd < 0)
                        continue;
                r = sys_write_all(fd, "0", 1);
                if (r < 0)
                        fail(x, SANDBOX_STEP_CGROUP, (int)-r, (int)i + 1);
                sys_close(fd);
        }
        if (x->no_namespaces)
                sandbox_nons_helper(x);

        r = sys1(SYS_unshare, x->unshare_flags);
        if (r < 0)
                fail(x, SANDBOX_STEP_UNSHARE, (int)-r, -1);

        if (x->sync_fd >= 0) {
                /* as real root, only the parent (outside, privileged) may map
                 * our ids to other host ids */
                char c = 'u';
                if (sys_write_all(x->sync_fd, &c, 1) < 0)
                        sys_exit(CL_EXIT_SETUP);
                do
                        r = sys3(SYS_read, x->sync_fd, &c, 1);
                while (r == -EINTR);
                if (r != 1)
                        sys_exit(CL_EXIT_SETUP); /* the parent failed and says why */
                sys_close(x->sync_fd);
        } else {
                /* mapping our own ids needs nobody's help: no round trip */
                write_own_maps(x);
        }

        int self = (int)sys2(SYS_pidfd_open, sys0(SYS_getpid), 0);
        if (self < 0)
                fail(x, SANDBOX_STEP_FORK_INIT, -self, -1);
        /* we stay suspended in here for the sandbox's whole life */
        struct vfork_args args = {.x = x, .helper_pidfd = self};
        long init = start_vfork(init_entry, x->init_stack_top, &args);
        if (init < 0)
                fail(x, SANDBOX_STEP_FORK_INIT, (int)-init, -1);
        sys_close(self);
        sys_close(x->err_fd);
        sys_close(x->report_fd);

        int status = 0;
        do
                r = sys4(SYS_wait4, init, &status, 0, NULL);
        while (r == -EINTR);
        if (r < 0)
                sys_exit(CL_EXIT_SETUP);
        if (WIFEXITED(status))
                sys_exit(WEXITSTATUS(status));
        sys_exit(128 + WTERMSIG(status));
}

/* Async-signal-safe: for sandbox-nons-child.c's PID 1, start the command as
 * run_init() does; returns 1 when it has exec'd, 0 when it failed (its record
 * is on the error pipe), -errno when it could not be started. */
int sandbox_child_start_command(const struct sandbox_exec *x, long *ret_pid)
{
        struct vfork_args args = {.x = x, .helper_pidfd = -1};
        child_failed = 0;
        long cmd = start_vfork(command_entry, x->cmd_stack_top, &args);
        if (cmd < 0)
                return (int)cmd;
        *ret_pid = cmd;
        return child_failed ? 0 : 1;
}
