/* Unit tests for src/base: the error contract, buffers and fd helpers. */
#include "tap.h"

#include "base/base-cleanup.h"

#include "base/base-buf.h"
#include "base/base-error.h"
#include "base/base-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

TEST(error_carries_reason_and_code)
{
        struct cl_error err;
        int r = cl_err(&err, ENOENT, "bind mount '%s' on '%s'", "/nope", "/x");
        CHECK_INT(r, ==, -ENOENT);
        CHECK_INT(err.code, ==, ENOENT);
        CHECK_STR(err.msg, "bind mount '/nope' on '/x': No such file or directory");
}

TEST(error_prefix_adds_context)
{
        struct cl_error err;
        cl_errx(&err, EINVAL, "bad value '%s'", "x");
        int r = cl_err_prefix(&err, "option '%s'", "--uid");
        CHECK_INT(r, ==, -EINVAL);
        CHECK_STR(err.msg, "option '--uid': bad value 'x'");
}

TEST(error_truncates_without_overflow)
{
        struct cl_error err;
        char big[4 * CL_ERROR_MAX];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        cl_err(&err, EPERM, "%s", big);
        CHECK_INT(strlen(err.msg), ==, CL_ERROR_MAX - 1);
        cl_err_prefix(&err, "%s", big);
        CHECK_INT(strlen(err.msg), <, CL_ERROR_MAX);
}

TEST(buf_grows_and_formats)
{
        _cleanup_buf_ struct cl_buf b = CL_BUF_INIT;
        for (int i = 0; i < 1000; i++)
                CHECK_OK(buf_printf(&b, "%d,", i));
        CHECK(b.len > 3000);
        CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
        CHECK_INT(b.data[b.len], ==, 0);
}

TEST(fd_roundtrip)
{
        int p[2];
        CHECK(pipe(p) == 0);
        CHECK_OK(fd_write_all(p[1], "hello", 5));
        close(p[1]);
        char *data = NULL;
        size_t len = 0;
        CHECK_OK(fd_read_all(p[0], 100, &data, &len));
        CHECK_INT(len, ==, 5);
        CHECK_STR(data, "hello");
        free(data);
        close(p[0]);
}

/* A peer that went away (the garbage collector ending while a root is sent)
 * is an error to handle, not a SIGPIPE that kills cloister. */
TEST(fd_send_all_to_a_closed_peer_is_epipe)
{
        signal(SIGPIPE, SIG_DFL);
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        close(sv[1]);
        CHECK_INT(fd_send_all(sv[0], "x", 1), ==, -EPIPE);
        close(sv[0]);
}

TEST(fd_read_all_refuses_oversize)
{
        int p[2];
        CHECK(pipe(p) == 0);
        char block[8192] = {0};
        CHECK_OK(fd_write_all(p[1], block, sizeof(block)));
        close(p[1]);
        char *data = NULL;
        CHECK_INT(fd_read_all(p[0], 100, &data, NULL), ==, -EFBIG);
        close(p[0]);
}
