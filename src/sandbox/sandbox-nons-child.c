/* The child half of a plan with SANDBOX_NO_NAMESPACES (cloister build with
 * sandbox = false, for hosts that cannot make namespaces): no namespace and
 * no new root, but the same identity switch, capabilities, no_new_privs and
 * the command's own setup (sandbox-child.c). Without a PID namespace the
 * helper and PID 1 are child subreapers, so every orphan of the build comes
 * back to them and is killed by pid; nothing is ever killed by uid. */
#include "sandbox/sandbox-nons-child.h"

#include "cloister/cloister.h"
#include "sandbox/sandbox-child.h"
#include "sandbox/sandbox-init.h"
#include "sandbox/sandbox-privs.h"
#include "sandbox/sandbox-sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* PID 1's pid, for the command's check that its parent is still there
 * (the command shares PID 1's memory until its exec). */
static volatile pid_t nons_init_pid;

/* Async-signal-safe. */
pid_t sandbox_nons_init_pid(void)
{
        return nons_init_pid;
}

/* Async-signal-safe: report and leave with the setup failure code. */
__attribute__((noreturn)) static void nons_fail(const struct sandbox_exec *x,
                                                enum sandbox_step step, int err, int index)
{
        sandbox_child_fail(x, step, err, index);
        sys_exit(CL_EXIT_SETUP);
}

/* PID 1's signal when the reaper dies (with cloister, or killed by
 * sandbox_free): a real-time signal that it waits for, so that it kills
 * everything of the build before it goes. */
#define NONS_PARENT_DIED 40
#define NONS_SIGBIT(s) (1ull << ((s)-1))

/* Async-signal-safe: sig when our parent dies (cleared by id changes). */
static void nons_pdeathsig(const struct sandbox_exec *x, int sig)
{
        long r = sys2(SYS_prctl, PR_SET_PDEATHSIG, sig);
        if (r < 0)
                nons_fail(x, SANDBOX_STEP_PDEATHSIG, (int)-r, -1);
}

/* Async-signal-safe: orphans of the build come back to us, not to the
 * host's init. */
static void nons_subreaper(const struct sandbox_exec *x)
{
        long r = sys2(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1);
        if (r < 0)
                nons_fail(x, SANDBOX_STEP_SUBREAPER, (int)-r, -1);
}

/* Async-signal-safe: SIGKILL every child of ours now alive. The pids come
 * from /proc/self/task/TID/children; a child is not reaped by anyone but us,
 * so its pid cannot be reused before we kill it. Returns how many were
 * listed, or -errno when the list cannot be read. */
static long kill_children(void)
{
        char path[64] = "/proc/self/task/";
        size_t n = sys_strlen(path);
        char digits[16];
        size_t nd = 0;
        for (long tid = sys0(SYS_gettid); tid > 0; tid /= 10)
                digits[nd++] = (char)('0' + tid % 10);
        while (nd > 0)
                path[n++] = digits[--nd];
        const char *tail = "/children";
        for (size_t i = 0; tail[i]; i++)
                path[n++] = tail[i];
        path[n] = '\0';
        int fd = (int)sys4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
                return fd;
        long count = 0, pid = 0;
        int in_number = 0;
        char buf[4096];
        for (;;) {
                long got = sys3(SYS_read, fd, buf, sizeof(buf));
                if (got == -EINTR)
                        continue;
                if (got <= 0)
                        break;
                /* a number may straddle two reads: it ends at a space */
                for (long i = 0; i < got; i++) {
                        if (buf[i] >= '0' && buf[i] <= '9') {
                                pid = pid * 10 + (buf[i] - '0');
                                in_number = 1;
                        } else if (in_number) {
                                sys2(SYS_kill, pid, SIGKILL);
                                count++;
                                pid = 0;
                                in_number = 0;
                        }
                }
        }
        if (in_number) {
                sys2(SYS_kill, pid, SIGKILL);
                count++;
        }
        sys_close(fd);
        return count;
}

/* Async-signal-safe: kill and reap children until none is left. Each
 * round kills what is alive, then waits for one to end; the orphans of
 * the killed ones come to us and are killed in the next round. */
static void kill_all_children(void)
{
        for (;;) {
                (void)kill_children();
                long r;
                do
                        r = sys4(SYS_wait4, -1, NULL, __WALL, NULL);
                while (r == -EINTR);
                if (r < 0)
                        return; /* ECHILD: nobody left */
        }
}

/* Async-signal-safe: the build user's ids, real, effective and saved, with
 * the build group as the only supplementary group (as root); a caller that
 * is not real root keeps its own ids. */
static void nons_switch_ids(const struct sandbox_exec *x)
{
        if (!x->privileged)
                return;
        gid_t groups[1] = {x->gid};
        sandbox_privs_switch_ids(x, groups, 1);
}

/* Async-signal-safe: every id is the plan's, and (as root) the groups are
 * exactly the build group. */
static void nons_verify_ids(const struct sandbox_exec *x)
{
        sandbox_privs_verify_ids(x);
        if (x->privileged) {
                gid_t groups[2] = {0, 0};
                long n = sys2(SYS_getgroups, 2, groups);
                if (n != 1 || groups[0] != x->gid)
                        nons_fail(x, SANDBOX_STEP_VERIFY_IDS, EPERM, -1);
        }
}

/* Async-signal-safe: is cap in our effective set? */
static int have_cap(int cap)
{
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0, 0, 0}, {0, 0, 0}};
        if (sys2(SYS_capget, &hdr, data) < 0)
                return 0;
        return (data[cap / 32].effective >> (cap % 32)) & 1;
}

/* Async-signal-safe: empty the bounding set while we still may (root, or
 * root of a user namespace); a caller without CAP_SETPCAP has no
 * capability to lose and no_new_privs keeps it from gaining one. */
static void nons_drop_bounding(const struct sandbox_exec *x)
{
        if (have_cap(CAP_SETPCAP))
                sandbox_privs_drop_bounding(x);
}

struct nons_args {
        const struct sandbox_exec *x;
        int helper_pidfd;
        pid_t tid; /* set by the kernel (CLONE_PARENT_SETTID) */
};

/* Async-signal-safe: PID 1 without namespaces. */
static int nons_init_entry(void *arg)
{
        struct nons_args *a = arg;
        const struct sandbox_exec *x = a->x;
        /* the command (same uid) must not be able to ptrace or read us, nor
         * the reaper whose memory we share: from the start */
        sys2(SYS_prctl, PR_SET_DUMPABLE, 0);
        /* the parent-death signal stays pending until our loop takes it */
        uint64_t early = NONS_SIGBIT(NONS_PARENT_DIED);
        sys4(SYS_rt_sigprocmask, SIG_BLOCK, &early, NULL, sizeof(early));
        nons_pdeathsig(x, NONS_PARENT_DIED);
        nons_init_pid = a->tid;
        struct sandbox_report rep = {SANDBOX_REPORT_INIT_PID, 0, a->tid};
        sys_write_all(x->report_fd, &rep, sizeof(rep));
        nons_subreaper(x);

        nons_drop_bounding(x);
        nons_switch_ids(x);
        nons_pdeathsig(x, NONS_PARENT_DIED);
        struct pollfd p = {.fd = a->helper_pidfd, .events = POLLIN};
        struct timespec zero = {0, 0};
        if (sys5(SYS_ppoll, &p, 1, &zero, NULL, 0) > 0)
                nons_fail(x, SANDBOX_STEP_PARENT_GONE, ESRCH, -1);
        sys_close(a->helper_pidfd);
        sys1(SYS_umask, 022);
        nons_verify_ids(x);
        /* no capability in any set, then no_new_privs */
        sandbox_privs_drop_caps(x);
        /* again: the id switch may have made us dumpable (suid_dumpable) */
        sys2(SYS_prctl, PR_SET_DUMPABLE, 0);

        uint64_t mask = sandbox_init_signal_mask();
        long r = sys4(SYS_rt_sigprocmask, SIG_BLOCK, &mask, NULL, sizeof(mask));
        if (r < 0)
                nons_fail(x, SANDBOX_STEP_SIGNALS, (int)-r, -1);
        sandbox_child_start_command(x, kill_children, NONS_PARENT_DIED);
}

/* Async-signal-safe: the reaper, the parent's child, with a copy of its
 * memory (the helper started it, see sandbox-child.c). */
void sandbox_nons_helper(const struct sandbox_exec *x)
{
        /* we die with cloister; PID 1 then ends the build (NONS_PARENT_DIED) */
        nons_pdeathsig(x, SIGKILL);
        if (x->shared->parent_pidfd >= 0) {
                struct pollfd pp = {.fd = x->shared->parent_pidfd, .events = POLLIN};
                struct timespec zero0 = {0, 0};
                if (sys5(SYS_ppoll, &pp, 1, &zero0, NULL, 0) > 0)
                        nons_fail(x, SANDBOX_STEP_PARENT_GONE, ESRCH, -1);
        }
        /* when PID 1 is killed (a time limit), its orphans come here */
        nons_subreaper(x);
        int self = (int)sys2(SYS_pidfd_open, sys0(SYS_getpid), 0);
        if (self < 0)
                nons_fail(x, SANDBOX_STEP_PREPARE_INIT, -self, -1);
        struct nons_args args = {.x = x, .helper_pidfd = self};
        /* PID 1 shares our memory on a stack of its own (posix_spawn's
         * technique, as in sandbox-child.c); we are suspended until it ends */
        struct sys_clone_args ca = {
            .flags = CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID,
            .parent_tid = (uint64_t)(uintptr_t)&args.tid,
            .exit_signal = SIGCHLD,
            .stack = (uint64_t)(uintptr_t)((char *)x->init_stack_top - SANDBOX_STACK_SIZE),
            .stack_size = SANDBOX_STACK_SIZE,
        };
        long init = sys_clone3(&ca, nons_init_entry, &args);
        if (init < 0)
                nons_fail(x, SANDBOX_STEP_FORK_INIT, (int)-init, -1);
        sys_close(self);
        sys_close(x->err_fd);
        sys_close(x->report_fd);
        int status = 0;
        long r;
        do
                r = sys4(SYS_wait4, init, &status, __WALL, NULL);
        while (r == -EINTR);
        /* PID 1 killed from outside leaves its children to us */
        kill_all_children();
        if (r < 0)
                sys_exit(CL_EXIT_SETUP);
        if (WIFEXITED(status))
                sys_exit(WEXITSTATUS(status));
        sys_exit(128 + WTERMSIG(status));
}
