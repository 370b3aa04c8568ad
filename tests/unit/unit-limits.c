/* Unit tests for sandbox-limits: the option parsers and the defaults. */
#include "tap.h"

#include "sandbox/sandbox-limits.h"

#include <errno.h>

TEST(defaults)
{
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        const struct sandbox_rlimit *core = sandbox_limits_get_rlimit(&l, RLIMIT_CORE);
        CHECK(core && core->limit.rlim_cur == 0 && core->limit.rlim_max == 0);
        CHECK_INT(l.personality, ==, SANDBOX_PER_ADDR_NO_RANDOMIZE);
        CHECK_INT(l.umask, ==, 022);
        CHECK_INT(l.seccomp, ==, 1);
        CHECK_INT(l.memory_max, ==, 0);
}

TEST(sizes)
{
        uint64_t v;
        CHECK_OK(sandbox_parse_size("512M", &v, NULL));
        CHECK_INT(v, ==, 512ull << 20);
        CHECK_OK(sandbox_parse_size("2GiB", &v, NULL));
        CHECK_INT(v, ==, 2ull << 30);
        CHECK_OK(sandbox_parse_size("1.5k", &v, NULL));
        CHECK_INT(v, ==, 1536);
        CHECK_OK(sandbox_parse_size("4096", &v, NULL));
        CHECK_INT(v, ==, 4096);
        CHECK_OK(sandbox_parse_size("max", &v, NULL));
        CHECK(v == UINT64_MAX);
        struct cl_error err;
        CHECK_INT(sandbox_parse_size("12Q", &v, &err), ==, -EINVAL);
        CHECK_STR(err.msg, "invalid size '12Q'");
        CHECK_INT(sandbox_parse_size("-1", &v, NULL), ==, -EINVAL);
        CHECK_INT(sandbox_parse_size("", &v, NULL), ==, -EINVAL);
        CHECK_INT(sandbox_parse_size("99999999999T", &v, NULL), ==, -ERANGE);
}

TEST(seconds)
{
        uint64_t ms;
        CHECK_OK(sandbox_parse_seconds("10", &ms, NULL));
        CHECK_INT(ms, ==, 10000);
        CHECK_OK(sandbox_parse_seconds("0.25", &ms, NULL));
        CHECK_INT(ms, ==, 250);
        CHECK_OK(sandbox_parse_seconds("2m", &ms, NULL));
        CHECK_INT(ms, ==, 120000);
        struct cl_error err;
        CHECK_INT(sandbox_parse_seconds("soon", &ms, &err), ==, -EINVAL);
        CHECK_STR(err.msg, "invalid duration 'soon' (seconds)");
        CHECK_INT(sandbox_parse_seconds("0", &ms, NULL), ==, -EINVAL);
}

TEST(cpu)
{
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        CHECK_OK(sandbox_limits_set_cpu(&l, "1.5", NULL));
        CHECK_INT(l.cpu_quota_us, ==, 150000);
        CHECK_INT(l.cpu_period_us, ==, 100000);
        CHECK_OK(sandbox_limits_set_cpu(&l, "50%", NULL));
        CHECK_INT(l.cpu_quota_us, ==, 50000);
        CHECK_OK(sandbox_limits_set_cpu(&l, "20000/50000", NULL));
        CHECK_INT(l.cpu_quota_us, ==, 20000);
        CHECK_INT(l.cpu_period_us, ==, 50000);
        CHECK_INT(sandbox_limits_set_cpu(&l, "lots", NULL), ==, -EINVAL);
        CHECK_INT(sandbox_limits_set_cpu(&l, "0", NULL), ==, -ERANGE);
        CHECK_INT(sandbox_limits_set_cpu(&l, "10/10", NULL), ==, -ERANGE);
}

TEST(rlimits)
{
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        CHECK_OK(sandbox_limits_set_rlimit(&l, "nofile=1024", NULL));
        CHECK_OK(sandbox_limits_set_rlimit(&l, "RLIMIT_STACK=8M:16M", NULL));
        CHECK_OK(sandbox_limits_set_rlimit(&l, "core=unlimited", NULL));
        const struct sandbox_rlimit *r = sandbox_limits_get_rlimit(&l, RLIMIT_NOFILE);
        CHECK(r && r->limit.rlim_cur == 1024 && r->limit.rlim_max == 1024);
        r = sandbox_limits_get_rlimit(&l, RLIMIT_STACK);
        CHECK(r && r->limit.rlim_cur == 8u << 20 && r->limit.rlim_max == 16u << 20);
        r = sandbox_limits_get_rlimit(&l, RLIMIT_CORE);
        CHECK(r && r->limit.rlim_cur == RLIM_INFINITY);
        CHECK_INT(l.n_rlimits, ==, 3); /* core replaced, not added */
        struct cl_error err;
        CHECK_INT(sandbox_limits_set_rlimit(&l, "bogus=1", &err), ==, -EINVAL);
        CHECK_STR(err.msg, "unknown rlimit 'bogus'");
        CHECK_INT(sandbox_limits_set_rlimit(&l, "nofile", &err), ==, -EINVAL);
        CHECK_INT(sandbox_limits_set_rlimit(&l, "nofile=many", &err), ==, -EINVAL);
        CHECK_STR(err.msg, "invalid rlimit value in 'nofile=many'");
        CHECK_INT(sandbox_limits_set_rlimit(&l, "nofile=10:5", NULL), ==, -EINVAL);
}

TEST(personality)
{
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        CHECK_OK(sandbox_limits_set_personality(&l, "linux32", NULL));
        CHECK_INT(l.personality, ==, SANDBOX_PER_LINUX32 | SANDBOX_PER_ADDR_NO_RANDOMIZE);
        CHECK_OK(sandbox_limits_set_personality(&l, "linux", NULL));
        CHECK_INT(l.personality, ==, SANDBOX_PER_ADDR_NO_RANDOMIZE);
        struct cl_error err;
        CHECK_INT(sandbox_limits_set_personality(&l, "sparc", &err), ==, -EINVAL);
        CHECK_STR(err.msg, "unsupported personality 'sparc' (linux or linux32)");
}

TEST(limit_names)
{
        CHECK_STR(sandbox_limit_name(SANDBOX_LIMIT_TIMEOUT), "timeout");
        CHECK_STR(sandbox_limit_name(SANDBOX_LIMIT_SILENCE), "max-silent-time");
        CHECK_STR(sandbox_limit_name(SANDBOX_LIMIT_OUTPUT), "max-output");
        CHECK(sandbox_limit_name(SANDBOX_LIMIT_NONE) == NULL);
}
