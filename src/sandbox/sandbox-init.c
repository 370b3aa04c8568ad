/* PID 1 of the sandbox (seed 002: "a small PID 1 process that sits in a loop
 * calling wait()"). A command as PID 1 would have to reap orphans itself and
 * would ignore SIGTERM without a handler; this init does both jobs and, when
 * the command ends, kills whatever it left behind, so nothing outlives it. */
#include "sandbox/sandbox-init.h"

#include "sandbox/sandbox-sys.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define SIGBIT(s) (1ull << ((s)-1))

/* Async-signal-safe. */
uint64_t sandbox_init_signal_mask(void)
{
        return SIGBIT(SIGCHLD) | SIGBIT(SIGTERM) | SIGBIT(SIGINT) | SIGBIT(SIGHUP);
}

/* Async-signal-safe: the command's exit code as a shell shows it. */
static int status_code(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}

/* Async-signal-safe: the loop of both kinds of PID 1. kill_children NULL:
 * PID 1 of a PID namespace, which kills whatever the command left with one
 * kill(-1); else a subreaper without a namespace, which kills its children
 * by pid when the command ends and again whenever some are still there, as
 * the orphans of the killed ones keep coming back to it. Every child of
 * either has SIGCHLD as exit signal (the command as started, orphans on
 * reparenting), so __WALL only makes sure none is missed. */
__attribute__((noreturn)) static void init_loop(const struct sandbox_exec *x, pid_t cmd,
                                                long (*kill_children)(void), int parent_died)
{
        uint64_t mask = sandbox_init_signal_mask();
        if (parent_died)
                mask |= SIGBIT(parent_died);
        int cmd_status = 0, cmd_done = 0, killed = 0;

        for (;;) {
                siginfo_t info;
                long sig = sys4(SYS_rt_sigtimedwait, &mask, &info, NULL, sizeof(mask));
                if (sig < 0)
                        continue; /* EINTR; EAGAIN cannot happen without a timeout */
                if (parent_died && sig == parent_died) {
                        /* nobody is left to report to: end everything and go,
                         * each round killing what is alive (the orphans of
                         * the killed come back to us) and reaping one */
                        long r;
                        do {
                                (void)kill_children();
                                r = sys4(SYS_wait4, -1, NULL, __WALL, NULL);
                        } while (r >= 0 || r == -EINTR);
                        sys_exit(255);
                }
                if (sig != SIGCHLD) {
                        if (!cmd_done)
                                sys2(SYS_kill, cmd, sig);
                        continue;
                }
                for (;;) {
                        int status;
                        long pid = sys4(SYS_wait4, -1, &status, WNOHANG | __WALL, NULL);
                        if (pid == -EINTR)
                                continue;
                        if (pid == 0) {
                                /* others still run: when the command is gone, end
                                 * them. From PID 1 of a namespace -1 means every
                                 * other process of the namespace; if none is left,
                                 * skip the kill, which scans every process of the
                                 * host */
                                if (cmd_done && kill_children)
                                        (void)kill_children();
                                else if (cmd_done && !killed) {
                                        sys2(SYS_kill, -1, SIGKILL);
                                        killed = 1;
                                }
                                break;
                        }
                        if (pid < 0) {
                                /* ECHILD: nobody left */
                                if (cmd_done) {
                                        struct sandbox_report rep = {SANDBOX_REPORT_STATUS, 0,
                                                                     cmd_status};
                                        sys_write_all(x->report_fd, &rep, sizeof(rep));
                                        sys_exit(status_code(cmd_status));
                                }
                                break;
                        }
                        if (pid == cmd) {
                                cmd_status = status;
                                cmd_done = 1;
                                if (kill_children)
                                        (void)kill_children();
                        }
                }
        }
}

/* Async-signal-safe. */
void sandbox_init_run(const struct sandbox_exec *x, pid_t cmd)
{
        init_loop(x, cmd, NULL, 0);
}

/* Async-signal-safe. */
void sandbox_init_run_subreaper(const struct sandbox_exec *x, pid_t cmd,
                                long (*kill_children)(void), int parent_died)
{
        init_loop(x, cmd, kill_children, parent_died);
}
