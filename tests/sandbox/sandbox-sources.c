/* Bind sources are reached with the caller's own file-system identity: as
 * real root a source below a 0700 root-owned directory binds (as bubblewrap
 * and Nix's builds allow), though the sandbox's ids could not traverse it. */
#include "probe-run.h"

#include "base/base-cleanup.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

TEST(source_below_private_directory)
{
        _cleanup_free_ char *dir = tap_mkdtemp(); /* 0700, the caller's */
        char sub[512], file[600];
        snprintf(sub, sizeof(sub), "%s/inner", dir);
        CHECK(mkdir(sub, 0755) == 0);
        snprintf(file, sizeof(file), "%s/hello", sub);
        tap_write_file(file, "from the host\n", 0644);
        CHECK(chmod(dir, 0700) == 0);

        struct tap_run_result res;
        pr_run(V("--ro-bind", sub, "/inner"), V("cat", "/inner/hello"), &res);
        if (tap_exit_code(res.status) != 0)
                FAIL("bind of '%s' failed: %s", sub, res.err);
        CHECK(strstr(res.out, "from the host") != NULL);
        tap_run_result_free(&res);
        tap_rm_rf(dir);
}
