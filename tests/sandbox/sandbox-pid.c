/* PID namespace with cloister's init as PID 1: orphans are reaped, a daemon
 * does not outlive the command, /proc shows only the sandbox, signals sent
 * to cloister reach the command, and the exit status passes through. */
#include "probe-run.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

static void run_ok(const char *const *opts, const char *const *cmd, struct tap_run_result *res)
{
        pr_run(opts, cmd, res);
        if (tap_exit_code(res->status) != 0)
                FAIL("exit %d\nstdout:\n%s\nstderr:\n%s", tap_exit_code(res->status), res->out,
                     res->err);
}

/* 200 double-forked orphans that exit: PID 1 must reap every one of them. */
static void orphans(void)
{
        struct tap_run_result res;
        run_ok(NULL, V("orphans", "200"), &res);
        CHECK_STR(pr_need(&res, "orphans"), "200");
        CHECK_STR(pr_need(&res, "zombies"), "0");
        CHECK_STR(pr_need(&res, "others"), "0");
}

/* confined to 400 tasks: at most the 200 orphans and their parents */
TEST(orphans_are_reaped)
{
        pr_confined(400, orphans);
}

/* A setsid'd, double-forked daemon that ignores SIGTERM and SIGHUP is gone
 * once the command exits. */
TEST(daemon_dies_with_command)
{
        char *marker = pr_marker("daemon");
        struct pr_spawn s;
        pr_spawn(&s, pr_argv(NULL, V("daemon", marker)), false);
        pr_spawn_wait_for(&s, "ready=1", 20);
        pid_t pids[8];
        /* the command and its daemon, seen from the host */
        CHECK_INT(pr_wait_marked_count(marker, 2, pids, 8, 3000), ==, 2);
        CHECK_INT(tap_exit_code(pr_spawn_finish(&s, 20)), ==, 0);
        int left = pr_wait_marked_gone(marker, 2000);
        if (left)
                FAIL("%d process(es) of the sandbox outlived it", left);
}

TEST(pid1_is_init_and_proc_is_private)
{
        struct tap_run_result res;
        run_ok(NULL, V("pid"), &res);
        int pid = atoi(pr_need(&res, "pid"));
        CHECK_INT(pid, >, 1);
        char *comm = pr_need(&res, "pid1_comm");
        CHECK(comm[0] != '\0');
        CHECK(strcmp(comm, "probe") != 0);
        /* /proc lists PID 1 and the probe, nothing of the host */
        CHECK_STR(pr_need(&res, "proc_count"), "2");
        char *expect = NULL;
        if (asprintf(&expect, "1,%d", pid) < 0)
                abort();
        CHECK_STR(pr_need(&res, "proc_pids"), expect);
}

/* PID 1 shares the command's uid and holds a copy of cloister's memory
 * (its environment, its command line): the command must not be able to
 * trace it or read its memory or environment, and its command line, which
 * any process may read, no longer says anything of the host. The filter is
 * off, so that what stops it is PID 1's protection, not the allowlist. */
TEST(pid1_is_out_of_the_commands_reach)
{
        struct tap_run_result res;
        /* the option's value stands for what cloister's command line may hold */
        run_ok(V("--seccomp=off", "--setenv", "MARK", "host-secret-path"), V("pid"), &res);
        CHECK_STR(pr_need(&res, "pid1_ptrace"), "EPERM");
        CHECK_STR(pr_need(&res, "pid1_mem"), "EACCES");
        CHECK_STR(pr_need(&res, "pid1_vm_read"), "EPERM");
        CHECK_STR(pr_need(&res, "pid1_exe_link"), "EACCES");
        CHECK_STR(pr_need(&res, "pid1_environ"), "EACCES");
        CHECK_STR(pr_need(&res, "pid1_cmdline"), "cloister-init");
}

/* The command line is hidden from the sandbox only: on the host, cloister's
 * own /proc/PID/cmdline still says what it runs once the sandbox is up. */
TEST(cloister_keeps_its_own_command_line)
{
        struct pr_spawn s;
        pr_spawn(&s, pr_argv(NULL, V("wait", "cmdline")), false);
        pr_spawn_wait_for(&s, "ready=1", 20);
        char *cmdline = tap_proc_cmdline(s.pid);
        CHECK(cmdline != NULL);
        CHECK(strstr(cmdline, "cloister run --ro-bind ") != NULL);
        CHECK(strstr(cmdline, " -- /probe wait cmdline") != NULL);
        free(cmdline);
        CHECK_INT(tap_exit_code(pr_spawn_finish(&s, 20)), ==, 0);
}

static void forward_one(struct pr_spawn *s, int sig, const char *name)
{
        char want[32];
        snprintf(want, sizeof(want), "got=%s\n", name);
        CHECK_INT(kill(s->pid, sig), ==, 0);
        pr_spawn_wait_for(s, want, 10);
}

TEST(signals_are_forwarded)
{
        struct pr_spawn s;
        pr_spawn(&s, pr_argv(NULL, V("signals")), false);
        pr_spawn_wait_for(&s, "ready=1", 20);
        forward_one(&s, SIGTERM, "TERM");
        forward_one(&s, SIGINT, "INT");
        forward_one(&s, SIGHUP, "HUP");
        CHECK_INT(tap_exit_code(pr_spawn_finish(&s, 20)), ==, 0);
}

TEST(exit_status_passes_through)
{
        struct tap_run_result res;
        pr_run(NULL, V("exit", "0"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        pr_run(NULL, V("exit", "7"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 7);
        pr_run(NULL, V("exit", "124"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 124);
        pr_run(NULL, V("kill-self", "9"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 137);
        pr_run(NULL, V("kill-self", "15"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 143);
        /* cloister itself exits normally with 128+N; it is not killed */
        CHECK(WIFEXITED(res.status));
}
