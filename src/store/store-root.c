/* The default physical store root. A process that is uid 0 only inside a user
 * namespace cannot own the host's /nix/store, so it gets the per-user root too;
 * /proc/self/uid_map tells the two apart. */
#include "store/store-root.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool store_root_is_real_root(void)
{
        if (geteuid() != 0)
                return false;
        _cleanup_free_ char *map = NULL;
        size_t len = 0;
        if (fd_read_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, 1, &map, &len) < 0)
                return true; /* no /proc or no user namespaces: nothing to be inside of */
        unsigned long inside, outside, count;
        if (sscanf(map, " %lu %lu %lu", &inside, &outside, &count) != 3)
                return false;
        return inside == 0 && outside == 0 && count == 4294967295UL;
}

int store_root_default(char **ret, struct cl_error *err)
{
        char *p = NULL;
        if (store_root_is_real_root()) {
                p = strdup("/");
        } else {
                const char *xdg = getenv("XDG_DATA_HOME");
                const char *home = getenv("HOME");
                if (xdg && xdg[0] == '/') {
                        if (asprintf(&p, "%s/cloister", xdg) < 0)
                                p = NULL;
                } else {
                        if (!home || home[0] != '/') {
                                struct passwd *pw = getpwuid(getuid());
                                home = pw ? pw->pw_dir : NULL;
                        }
                        if (!home || home[0] != '/')
                                return cl_errx(err, ENOENT,
                                               "no default store root: neither XDG_DATA_HOME nor "
                                               "HOME is an absolute path (use --store ROOT)");
                        if (asprintf(&p, "%s/.local/share/cloister", home) < 0)
                                p = NULL;
                }
        }
        if (!p)
                return cl_errx(err, ENOMEM, "out of memory");
        *ret = p;
        return 0;
}
