/* Leasing build users: members of the build users group in the group file's
 * order, each locked with flock(2) on <state>/userpool/<uid> as Nix 2.x does,
 * so cloister and Nix share one pool. */
#include "build/build-users.h"

#include "base/base-cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int ensure_dir(const char *path, struct cl_error *err)
{
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return cl_err(err, errno, "create directory '%s'", path);
        return 0;
}

int build_user_lease(const char *group, const char *state_dir, struct build_user *ret,
                     struct cl_error *err)
{
        char buf[16384];
        struct group gr, *grp = NULL;
        int r = getgrnam_r(group, &gr, buf, sizeof(buf), &grp);
        if (r != 0)
                return cl_err(err, r, "look up build users group '%s'", group);
        if (!grp)
                return cl_errx(err, ENOENT,
                               "build users group '%s' does not exist: create it and its members "
                               "(groupadd --system %s; useradd --system --no-create-home "
                               "--gid %s --groups %s %s1), or set build-users-group to the "
                               "empty string to build in a user namespace instead",
                               group, group, group, group, group);
        if (!grp->gr_mem || !grp->gr_mem[0])
                return cl_errx(err, ENOENT,
                               "build users group '%s' has no members: add users to it "
                               "(useradd --system --no-create-home --gid %s --groups %s %s1)",
                               group, group, group, group);

        _cleanup_free_ char *pool = NULL;
        if (asprintf(&pool, "%s/userpool", state_dir) < 0)
                return -ENOMEM;
        r = ensure_dir(state_dir, err);
        if (r < 0)
                return r;
        r = ensure_dir(pool, err);
        if (r < 0)
                return r;

        size_t members = 0;
        for (char **m = grp->gr_mem; *m; m++, members++) {
                char pbuf[16384];
                struct passwd pw, *pwp = NULL;
                if (getpwnam_r(*m, &pw, pbuf, sizeof(pbuf), &pwp) != 0 || !pwp)
                        return cl_errx(err, ENOENT,
                                       "member '%s' of build users group '%s' is not a user", *m,
                                       group);
                if (pwp->pw_uid == 0)
                        return cl_errx(err, EPERM,
                                       "member '%s' of build users group '%s' has uid 0: a build "
                                       "never runs as root",
                                       *m, group);
                char lock[4096];
                snprintf(lock, sizeof(lock), "%s/%u", pool, (unsigned)pwp->pw_uid);
                _cleanup_close_ int fd =
                        open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return cl_err(err, errno, "open build user lock '%s'", lock);
                if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                        if (errno == EWOULDBLOCK || errno == EINTR)
                                continue;
                        return cl_err(err, errno, "lock build user lock '%s'", lock);
                }
                snprintf(ret->name, sizeof(ret->name), "%s", pwp->pw_name);
                ret->uid = pwp->pw_uid;
                ret->gid = grp->gr_gid;
                ret->lock_fd = TAKE_FD(fd);
                return 0;
        }
        return cl_errx(err, EBUSY, "all %zu members of build users group '%s' are busy", members,
                       group);
}

void build_user_release(struct build_user *u)
{
        if (u->lock_fd >= 0)
                close(u->lock_fd);
        u->lock_fd = -1;
}
