/* Cleanup after every way a sandbox can end -- the command exits, the
 * command is killed, setup fails, cloister itself is SIGKILLed -- leaves no
 * process of the sandbox, no mount and no temporary directory behind. */
#include "probe-run.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

struct snapshot {
        char *mounts, *tmp, *tmpdir;
};

/* cloister gets a TMPDIR of its own, which must be empty afterwards, and
 * /tmp must have no new cloister* entry either */
static void snap(struct snapshot *s)
{
        s->tmpdir = tap_mkdtemp();
        setenv("TMPDIR", s->tmpdir, 1);
        s->mounts = pr_mounts();
        s->tmp = pr_tmp_entries("/tmp");
}

static void check_clean(struct snapshot *s, const char *marker, const char *when)
{
        if (marker) {
                int left = pr_wait_marked_gone(marker, 3000);
                if (left)
                        FAIL("%s: %d process(es) of the sandbox are still running", when, left);
        }
        pr_check_no_new_mounts(s->mounts, pr_mounts(), when);
        pr_check_no_new_tmp(s->tmp, pr_tmp_entries("/tmp"), when);
        DIR *d = opendir(s->tmpdir);
        CHECK(d != NULL);
        struct dirent *e;
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        FAIL("%s: left in TMPDIR: %s", when, e->d_name);
        closedir(d);
        tap_rm_rf(s->tmpdir);
}

static void start(struct pr_spawn *sp, const char *marker)
{
        pr_spawn(sp, pr_argv(V("--tmpfs", "/scratch"), V("daemon", marker)), false);
        pr_spawn_wait_for(sp, "ready=1", 20);
        pid_t pids[4];
        /* the command and its daemon */
        CHECK_INT(pr_wait_marked_count(marker, 2, pids, 4, 3000), ==, 2);
}

TEST(cleanup_after_normal_exit)
{
        struct snapshot s;
        snap(&s);
        char *marker = pr_marker("normal");
        struct pr_spawn sp;
        start(&sp, marker);
        CHECK_INT(tap_exit_code(pr_spawn_finish(&sp, 20)), ==, 0);
        check_clean(&s, marker, "normal exit");
}

TEST(cleanup_after_command_killed)
{
        struct snapshot s;
        snap(&s);
        char *marker = pr_marker("killed");
        struct pr_spawn sp;
        pr_spawn(&sp, pr_argv(NULL, V("wait", marker)), false);
        pr_spawn_wait_for(&sp, "ready=1", 20);
        pid_t pid;
        CHECK_INT(pr_find_marked(marker, &pid, 1), ==, 1);
        CHECK_INT(kill(pid, SIGKILL), ==, 0);
        CHECK_INT(tap_exit_code(pr_spawn_finish(&sp, 20)), ==, 137);
        check_clean(&s, marker, "command killed");
}

TEST(cleanup_after_setup_failure)
{
        struct snapshot s;
        snap(&s);
        char *missing = NULL;
        if (asprintf(&missing, "%s/does-not-exist", s.tmpdir) < 0)
                abort();
        /* the marker would name the command, had it started */
        char *marker = pr_marker("setup");
        struct tap_run_result res;
        pr_run(V("--tmpfs", "/scratch", "--bind", missing, "/x"), V("exit", "0", marker), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 125);
        CHECK(strstr(res.err, missing) != NULL);
        CHECK_INT(res.out_len, ==, 0);
        check_clean(&s, marker, "setup failure");
}

TEST(cleanup_after_cloister_sigkilled)
{
        struct snapshot s;
        snap(&s);
        char *marker = pr_marker("sigkill");
        struct pr_spawn sp;
        start(&sp, marker);
        CHECK_INT(kill(sp.pid, SIGKILL), ==, 0);
        int status;
        CHECK_INT(waitpid(sp.pid, &status, 0), ==, sp.pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        check_clean(&s, marker, "cloister killed");
}
