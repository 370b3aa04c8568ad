/* Nothing leaks in: only fds 0, 1, 2 and --keep-fd ones, no inherited
 * environment (only --setenv, minus --unsetenv), no /sys. */
#include "probe-run.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

static void run_ok(const char *const *opts, const char *const *cmd, struct tap_run_result *res)
{
        pr_run(opts, cmd, res);
        if (tap_exit_code(res->status) != 0)
                FAIL("exit %d\nstdout:\n%s\nstderr:\n%s", tap_exit_code(res->status), res->out,
                     res->err);
}

TEST(only_std_fds)
{
        /* inheritable fds that cloister receives and must not pass on */
        int fd = open("/dev/null", O_RDONLY);
        CHECK(fd >= 0);
        CHECK(dup2(fd, 7) == 7);
        CHECK(dup2(fd, 9) == 9);
        struct tap_run_result res;
        run_ok(NULL, V("fds"), &res);
        CHECK_STR(pr_need(&res, "fds"), "0,1,2");
        run_ok(V("--keep-fd", "9"), V("fds"), &res);
        CHECK_STR(pr_need(&res, "fds"), "0,1,2,9");
        CHECK_STR(pr_need(&res, "fd_9"), "/dev/null");
}

TEST(environment_is_empty)
{
        setenv("CLOISTER_LEAK_CHECK", "leaked", 1);
        setenv("PATH", "/leaked/bin", 1);
        struct tap_run_result res;
        run_ok(NULL, V("env"), &res);
        CHECK_STR(pr_need(&res, "env_count"), "0");
        run_ok(V("--setenv", "A", "1", "--setenv", "B", "two words", "--setenv", "C", "3",
                 "--unsetenv", "A"),
               V("env"), &res);
        CHECK_STR(pr_need(&res, "env_count"), "2");
        CHECK(strstr(res.out, "env=B=two words\n") != NULL);
        CHECK(strstr(res.out, "env=C=3\n") != NULL);
        CHECK(strstr(res.out, "leaked") == NULL);
}

TEST(no_sys)
{
        struct tap_run_result res;
        run_ok(NULL, V("sys"), &res);
        CHECK_STR(pr_need(&res, "sys"), "ENOENT");
}
