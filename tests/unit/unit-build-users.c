/* Tests for src/build/build-users: leasing from the nixbld group that Debian's
 * nix-bin creates (nixbld1..10), exclusivity, release, and the errors. */
#include "tap.h"

#include "base/base-cleanup.h"
#include "build/build-users.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>

static void need_nixbld(void)
{
        struct group *g = getgrnam("nixbld");
        if (!g || !g->gr_mem || !g->gr_mem[0])
                FAIL("the test set-up installs nix-bin, which creates group nixbld with members");
}

TEST(lease_is_exclusive_until_released)
{
        need_nixbld();
        _cleanup_free_ char *dir = tap_mkdtemp();
        struct cl_error err;
        size_t n = 0;
        struct group *g = getgrnam("nixbld");
        while (g->gr_mem[n])
                n++;
        struct build_user *users = calloc(n + 1, sizeof(*users));
        for (size_t i = 0; i < n; i++) {
                users[i] = (struct build_user)BUILD_USER_INIT;
                if (build_user_lease("nixbld", dir, &users[i], &err) < 0)
                        FAIL("lease %zu: %s", i, err.msg);
                CHECK(users[i].uid != 0);
                for (size_t j = 0; j < i; j++)
                        CHECK(users[j].uid != users[i].uid);
        }
        /* every member is taken now */
        struct build_user extra = BUILD_USER_INIT;
        CHECK_INT(build_user_lease("nixbld", dir, &extra, &err), ==, -EBUSY);
        CHECK(strstr(err.msg, "are busy") != NULL);
        build_user_release(&users[n / 2]);
        CHECK_OK(build_user_lease("nixbld", dir, &extra, &err));
        CHECK_INT(extra.uid, ==, users[n / 2].uid);
        build_user_release(&extra);
        for (size_t i = 0; i < n; i++)
                build_user_release(&users[i]);
        free(users);
        tap_rm_rf(dir);
}

TEST(missing_group_says_how_to_fix)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        struct cl_error err;
        struct build_user u = BUILD_USER_INIT;
        CHECK_INT(build_user_lease("cloister-no-such-group", dir, &u, &err), ==, -ENOENT);
        CHECK(strstr(err.msg, "'cloister-no-such-group' does not exist") != NULL);
        CHECK(strstr(err.msg, "groupadd") != NULL);
        tap_rm_rf(dir);
}

TEST(group_without_members_is_refused)
{
        /* the root group has no listed members on Debian */
        struct group *g = getgrnam("root");
        if (!g || (g->gr_mem && g->gr_mem[0]))
                FAIL("expected group root without members");
        _cleanup_free_ char *dir = tap_mkdtemp();
        struct cl_error err;
        struct build_user u = BUILD_USER_INIT;
        CHECK_INT(build_user_lease("root", dir, &u, &err), ==, -ENOENT);
        CHECK(strstr(err.msg, "has no members") != NULL);
        tap_rm_rf(dir);
}
