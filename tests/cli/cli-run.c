/* `cloister run` on bad input: each mistake gives one line naming the thing
 * and the reason, the documented exit code, and leaves nothing behind; and
 * --help and the JSON status stream. */
#include "../sandbox/probe-run.h"
#include "cloister/cloister.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

/* stderr is exactly one line "cloister: ..." holding every one of needles */
static void check_one_line(const struct tap_run_result *res, const char *const *needles)
{
        const char *e = res->err ? res->err : "";
        size_t len = strlen(e);
        if (len == 0 || e[len - 1] != '\n' || strchr(e, '\n') != e + len - 1 ||
            strncmp(e, "cloister: ", 10) != 0)
                FAIL("want one line 'cloister: ...' on stderr, got:\n%s", e);
        for (int i = 0; needles[i]; i++)
                if (!strstr(e, needles[i]))
                        FAIL("the message does not name '%s': %s", needles[i], e);
}

struct before {
        char *mounts, *tmp, *tmpdir;
};

/* cloister gets a TMPDIR of its own, which must stay empty */
static void snap(struct before *b)
{
        unsetenv("TMPDIR"); /* the previous one may be gone: make it in /tmp */
        b->tmpdir = tap_mkdtemp();
        setenv("TMPDIR", b->tmpdir, 1);
        b->mounts = pr_mounts();
        b->tmp = pr_tmp_entries("/tmp");
}

static void check_nothing_left(struct before *b, const char *when)
{
        pr_check_no_new_mounts(b->mounts, pr_mounts(), when);
        pr_check_no_new_tmp(b->tmp, pr_tmp_entries("/tmp"), when);
        if (rmdir(b->tmpdir) < 0)
                FAIL("%s: TMPDIR %s: %s (left behind in it)", when, b->tmpdir, strerror(errno));
}

/* cloister run OPTS -- /probe CMD: expect code and a message */
static void bad(const char *const *opts, const char *const *cmd, int code,
                const char *const *needles)
{
        struct before b;
        snap(&b);
        struct tap_run_result res;
        pr_run(opts, cmd, &res);
        if (tap_exit_code(res.status) != code)
                FAIL("exit %d, want %d; stderr: %s", tap_exit_code(res.status), code, res.err);
        CHECK_INT(res.out_len, ==, 0);
        check_one_line(&res, needles);
        check_nothing_left(&b, "after the error");
}

TEST(unknown_option)
{
        bad(V("--frobnicate"), V("exit", "0"), CL_EXIT_USAGE, V("'--frobnicate'"));
}

TEST(option_missing_argument)
{
        struct tap_run_result res;
        char *argv[] = {(char *)pr_cloister(), "run", "--bind", "/tmp", NULL};
        CHECK_OK(tap_run(argv, NULL, 10, &res));
        CHECK_INT(tap_exit_code(res.status), ==, CL_EXIT_USAGE);
        check_one_line(&res, V("--bind"));
}

TEST(no_command)
{
        struct tap_run_result res;
        char *argv[] = {(char *)pr_cloister(), "run", "--", NULL};
        CHECK_OK(tap_run(argv, NULL, 10, &res));
        CHECK_INT(tap_exit_code(res.status), ==, CL_EXIT_USAGE);
        check_one_line(&res, V("command"));
}

TEST(bad_number)
{
        bad(V("--uid", "12x"), V("exit", "0"), CL_EXIT_USAGE, V("'12x'"));
}

TEST(missing_bind_source)
{
        char *dir = tap_mkdtemp();
        char *src = NULL;
        if (asprintf(&src, "%s/nope", dir) < 0)
                abort();
        char *quoted = NULL;
        if (asprintf(&quoted, "'%s'", src) < 0)
                abort();
        bad(V("--bind", src, "/x"), V("exit", "0"), CL_EXIT_SETUP,
            V(quoted, "'/x'", "No such file or directory"));
        bad(V("--ro-bind", src, "/x"), V("exit", "0"), CL_EXIT_SETUP,
            V(quoted, "'/x'", "No such file or directory"));
        tap_rm_rf(dir);
}

/* a target that climbs above the sandbox's root is refused before anything
 * is mounted */
TEST(bind_target_outside_root)
{
        char *dir = tap_mkdtemp();
        struct before b;
        snap(&b);
        struct tap_run_result res;
        pr_run(V("--bind", dir, "/../../x"), V("exit", "0"), &res);
        int code = tap_exit_code(res.status);
        if (code != CL_EXIT_USAGE && code != CL_EXIT_SETUP)
                FAIL("exit %d; stderr: %s", code, res.err);
        check_one_line(&res, V("'/../../x'"));
        check_nothing_left(&b, "after the error");
        pr_run(V("--tmpfs", "/a/../../b"), V("exit", "0"), &res);
        code = tap_exit_code(res.status);
        if (code != CL_EXIT_USAGE && code != CL_EXIT_SETUP)
                FAIL("exit %d; stderr: %s", code, res.err);
        check_one_line(&res, V("'/a/../../b'"));
        tap_rm_rf(dir);
}

TEST(command_not_found)
{
        struct before b;
        snap(&b);
        struct tap_run_result res;
        char **argv = pr_argv(NULL, NULL);
        /* replace "/probe" (the command) with a path that does not exist */
        for (int i = 0; argv[i]; i++)
                if (strcmp(argv[i], "--") == 0)
                        argv[i + 1] = "/no/such/command";
        CHECK_OK(tap_run(argv, NULL, 30, &res));
        CHECK_INT(tap_exit_code(res.status), ==, CL_EXIT_NOTFOUND);
        check_one_line(&res, V("'/no/such/command'", "No such file or directory"));
        check_nothing_left(&b, "after the error");
}

TEST(command_not_executable)
{
        char *dir = tap_mkdtemp();
        chmod(dir, 0755);
        char *file = NULL;
        if (asprintf(&file, "%s/script", dir) < 0)
                abort();
        tap_write_file(file, "#!/bin/sh\nexit 0\n", 0644);
        struct before b;
        snap(&b);
        char *argv[] = {(char *)pr_cloister(), "run", "--ro-bind", file, "/script", "--",
                        "/script", NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 30, &res));
        CHECK_INT(tap_exit_code(res.status), ==, CL_EXIT_NOEXEC);
        check_one_line(&res, V("'/script'", "Permission denied"));
        check_nothing_left(&b, "after the error");
        tap_rm_rf(dir);
}

/* a file where a directory is needed */
TEST(not_a_directory)
{
        bad(V("--chdir", "/probe"), V("exit", "0"), CL_EXIT_SETUP,
            V("'/probe'", "Not a directory"));
        bad(V("--tmpfs", "/probe/sub"), V("exit", "0"), CL_EXIT_SETUP,
            V("'/probe/sub'", "Not a directory"));
}

TEST(help)
{
        struct tap_run_result res;
        char *argv[] = {(char *)pr_cloister(), "run", "--help", NULL};
        CHECK_OK(tap_run(argv, NULL, 10, &res));
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        const char *opts[] = {"--bind", "--ro-bind", "--tmpfs", "--symlink", "--dir", "--chdir",
                              "--setenv", "--unsetenv", "--hostname", "--share-net", "--uid",
                              "--gid", "--keep-fd", "--json-status-fd", NULL};
        for (int i = 0; opts[i]; i++)
                if (!strstr(res.out, opts[i]))
                        FAIL("'cloister run --help' does not mention %s:\n%s", opts[i], res.out);
        char *top[] = {(char *)pr_cloister(), "--help", NULL};
        CHECK_OK(tap_run(top, NULL, 10, &res));
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK(strstr(res.out, "run") != NULL);
}

/* ---- --json-status-fd ---- */

/* The n-th JSON object (one per line) of the status stream. */
static json_t *status_object(const char *text, int n)
{
        const char *p = text;
        for (int i = 0; i < n && p; i++) {
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        if (!p || !*p)
                FAIL("no status object %d in:\n%s", n, text);
        json_error_t je;
        json_t *o = json_loadb(p, strcspn(p, "\n"), 0, &je);
        if (!o || !json_is_object(o))
                FAIL("status object %d is not a JSON object (%s):\n%s", n, je.text, text);
        return o;
}

static long long ns_inode(pid_t pid, const char *ns)
{
        char path[64];
        struct stat st;
        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
        if (stat(path, &st) < 0)
                FAIL("stat %s: %s", path, strerror(errno));
        return (long long)st.st_ino;
}

TEST(json_status_start_and_exit)
{
        char *marker = pr_marker("json");
        struct pr_spawn s;
        pr_spawn(&s, pr_argv(V("--json-status-fd", "3"), V("wait", marker)), true);
        pr_spawn_wait_for(&s, "ready=1", 20);
        pid_t cmd;
        CHECK_INT(pr_find_marked(marker, &cmd, 1), ==, 1);
        pr_spawn_wait_status(&s, 10);
        json_t *start = status_object(s.sbuf, 0);
        json_t *pid = json_object_get(start, "child-pid");
        CHECK(json_is_integer(pid) && json_integer_value(pid) > 0);
        const char *ns[] = {"mnt", "pid", "net", "ipc", "uts", "user", "cgroup"};
        for (int i = 0; i < 7; i++) {
                char key[32];
                snprintf(key, sizeof(key), "%s-namespace", ns[i]);
                json_t *v = json_object_get(start, key);
                if (!json_is_integer(v))
                        FAIL("no integer '%s' in the start object: %s", key, s.sbuf);
                /* the command's own namespaces, as the host sees them */
                CHECK_INT(json_integer_value(v), ==, ns_inode(cmd, ns[i]));
                if (strcmp(ns[i], "user") != 0 && strcmp(ns[i], "cgroup") != 0)
                        CHECK_INT(json_integer_value(v), !=, ns_inode(getpid(), ns[i]));
        }
        CHECK_INT(tap_exit_code(pr_spawn_finish(&s, 20)), ==, 0);
        json_t *end = status_object(s.sbuf, 1);
        CHECK_INT(json_integer_value(json_object_get(end, "exit-code")), ==, 0);
        const char *times[] = {"wall-time", "user-time", "system-time"};
        for (int i = 0; i < 3; i++)
                if (!json_is_number(json_object_get(end, times[i])))
                        FAIL("no number '%s' in the exit object: %s", times[i], s.sbuf);
        CHECK(json_number_value(json_object_get(end, "wall-time")) > 0);
        CHECK(json_integer_value(json_object_get(end, "max-rss")) > 0);

        /* a command killed by a signal: the signal, and 128+N as exit */
        pr_spawn(&s, pr_argv(V("--json-status-fd", "3"), V("kill-self", "9")), true);
        CHECK_INT(tap_exit_code(pr_spawn_finish(&s, 20)), ==, 137);
        end = status_object(s.sbuf, 1);
        CHECK_INT(json_integer_value(json_object_get(end, "signal")), ==, 9);
        /* exit 7 */
        pr_spawn(&s, pr_argv(V("--json-status-fd", "3"), V("exit", "7")), true);
        CHECK_INT(tap_exit_code(pr_spawn_finish(&s, 20)), ==, 7);
        end = status_object(s.sbuf, 1);
        CHECK_INT(json_integer_value(json_object_get(end, "exit-code")), ==, 7);
}
