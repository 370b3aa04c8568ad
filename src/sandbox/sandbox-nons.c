/* Compiling a plan without namespaces: no mounts allowed, no unshare, the
 * command's ids are host ids, and the kernel must list a process's children
 * (/proc/PID/task/TID/children), which is how the helper and PID 1, as
 * subreapers, find and kill everything the build left. */
#include "sandbox/sandbox-nons.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int sandbox_nons_compile(struct sandbox_exec *x, const struct sandbox_plan *plan, uid_t host_uid,
                         gid_t host_gid, struct cl_error *err)
{
        if (plan->n_ops > 0)
                return cl_errx(err, EINVAL,
                               "a sandbox without namespaces cannot mount anything ('%s')",
                               plan->ops[0].dst);
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)gettid());
        if (access(path, R_OK) < 0)
                return cl_err(err, errno,
                              "without namespaces a build is ended through '%s' "
                              "(CONFIG_PROC_CHILDREN), which cannot be read",
                              path);
        x->no_namespaces = 1;
        x->unshare_flags = 0;
        x->uid = host_uid;
        x->gid = host_gid;
        return 0;
}
