/* The build-user pool: as root, each build runs as a member of the build users
 * group (Nix's `build-users-group`, default nixbld), leased through a lock file
 * <state>/userpool/<uid> held for the whole build, so that two cloister (or
 * Nix) processes never build as the same user at once. */
#pragma once

#include "base/base-error.h"

#include <sys/types.h>

struct build_user {
        char name[64];
        uid_t uid;
        gid_t gid; /* the build users group's gid, as Nix uses */
        int lock_fd;
};

#define BUILD_USER_INIT {"", (uid_t)-1, (gid_t)-1, -1}

/* Lease a free member of group below state_dir (e.g. ROOT/nix/var/nix). A missing
 * group, a group without members or a member with uid 0 is an error that says
 * how to fix it; all members busy is -EBUSY. */
int build_user_lease(const char *group, const char *state_dir, struct build_user *ret,
                     struct cl_error *err);
/* Give the user back (closes the lock; a no-op on an unleased one). */
void build_user_release(struct build_user *u);
