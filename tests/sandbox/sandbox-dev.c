/* /dev inside: the usual nodes work, /dev/shm is a tmpfs, the fd links
 * exist, and a private devpts with /dev/ptmx -> pts/ptmx lets a pty round
 * trip work. */
#include "probe-run.h"

#include <string.h>

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

TEST(dev_nodes)
{
        struct tap_run_result res;
        pr_run(NULL, V("dev"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK_STR(pr_need(&res, "dev_null"), "1:3");
        CHECK_STR(pr_need(&res, "dev_zero"), "1:5");
        CHECK_STR(pr_need(&res, "dev_full"), "1:7");
        CHECK_STR(pr_need(&res, "dev_random"), "1:8");
        CHECK_STR(pr_need(&res, "dev_urandom"), "1:9");
        CHECK_STR(pr_need(&res, "dev_tty"), "5:0");
        CHECK_STR(pr_need(&res, "zero_read"), "1");
        CHECK_STR(pr_need(&res, "null_write"), "1");
        CHECK_STR(pr_need(&res, "full_write"), "ENOSPC");
        CHECK_STR(pr_need(&res, "random_read"), "1");
        CHECK_STR(pr_need(&res, "urandom_read"), "1");
        CHECK_STR(pr_need(&res, "link_fd"), "/proc/self/fd");
        CHECK_STR(pr_need(&res, "link_stdin"), "/proc/self/fd/0");
        CHECK_STR(pr_need(&res, "link_stdout"), "/proc/self/fd/1");
        CHECK_STR(pr_need(&res, "link_stderr"), "/proc/self/fd/2");
        CHECK_STR(pr_need(&res, "shm_tmpfs"), "1");
        CHECK_STR(pr_need(&res, "shm_write"), "1");
        /* a new session has no controlling terminal */
        CHECK_STR(pr_need(&res, "tty_open"), "ENXIO");
}

TEST(pty_round_trip)
{
        struct tap_run_result res;
        pr_run(NULL, V("pty"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK_STR(pr_need(&res, "ptmx_link"), "pts/ptmx");
        CHECK_STR(pr_need(&res, "pts_devpts"), "1");
        CHECK_STR(pr_need(&res, "pty"), "OK");
        CHECK(strncmp(pr_need(&res, "pts"), "/dev/pts/", 9) == 0);
}
