/* `cloister run` on bad input: each mistake gives one line naming the thing
 * and the reason, the documented exit code, and leaves nothing behind; and
 * --help and the JSON status stream. */
#include "../sandbox/probe-run.h"
#include "cloister/cloister.h"

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
        char *mounts, *tmp;
};

static void snap(struct before *b)
{
        b->mounts = pr_mounts();
        b->tmp = pr_tmp_entries("/tmp");
}

static void check_nothing_left(struct before *b, const char *when)
{
        pr_check_no_new_mounts(b->mounts, pr_mounts(), when);
        pr_check_no_new_tmp(b->tmp, pr_tmp_entries("/tmp"), when);
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
