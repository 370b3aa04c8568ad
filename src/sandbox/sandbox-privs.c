/* The privilege drop shared by PID 1 with namespaces (sandbox-child.c) and
 * without (sandbox-nons-child.c): ids, their check, capabilities and
 * no_new_privs. Child side: raw system calls only (sandbox-sys.h). */
#include "sandbox/sandbox-privs.h"

#include "cloister/cloister.h"
#include "sandbox/sandbox-child.h"
#include "sandbox/sandbox-sys.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* Async-signal-safe: report and leave with the setup failure code. */
__attribute__((noreturn)) static void privs_fail(const struct sandbox_exec *x,
                                                 enum sandbox_step step, int err, int index)
{
        sandbox_child_fail(x, step, err, index);
        sys_exit(CL_EXIT_SETUP);
}

/* Async-signal-safe. */
void sandbox_privs_switch_ids(const struct sandbox_exec *x, const gid_t *groups, int n)
{
        long r;
        if (x->privileged) {
                /* host root's groups would otherwise follow it into the build */
                r = sys2(SYS_setgroups, n, groups);
                if (r < 0)
                        privs_fail(x, SANDBOX_STEP_SETGROUPS, (int)-r, -1);
        }
        r = sys3(SYS_setresgid, x->gid, x->gid, x->gid);
        if (r < 0)
                privs_fail(x, SANDBOX_STEP_SETGID, (int)-r, -1);
        r = sys3(SYS_setresuid, x->uid, x->uid, x->uid);
        if (r < 0)
                privs_fail(x, SANDBOX_STEP_SETUID, (int)-r, -1);
}

/* Async-signal-safe. */
void sandbox_privs_verify_ids(const struct sandbox_exec *x)
{
        uid_t ru = 0, eu = 0, su = 0;
        gid_t rg = 0, eg = 0, sg = 0;
        if (sys3(SYS_getresuid, &ru, &eu, &su) < 0 || sys3(SYS_getresgid, &rg, &eg, &sg) < 0 ||
            ru != x->uid || eu != x->uid || su != x->uid || rg != x->gid || eg != x->gid ||
            sg != x->gid)
                privs_fail(x, SANDBOX_STEP_VERIFY_IDS, EPERM, -1);
}

/* Async-signal-safe. */
void sandbox_privs_drop_bounding(const struct sandbox_exec *x)
{
        for (int c = 0; c <= x->cap_last_cap; c++) {
                long r = sys2(SYS_prctl, PR_CAPBSET_DROP, c);
                if (r < 0 && r != -EINVAL)
                        privs_fail(x, SANDBOX_STEP_CAPS, (int)-r, c);
        }
}

/* Async-signal-safe. */
void sandbox_privs_drop_caps(const struct sandbox_exec *x)
{
        long r = sys5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (r < 0 && r != -EINVAL)
                privs_fail(x, SANDBOX_STEP_CAPS, (int)-r, -1);
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0, 0, 0}, {0, 0, 0}};
        r = sys2(SYS_capset, &hdr, data);
        if (r < 0)
                privs_fail(x, SANDBOX_STEP_CAPS, (int)-r, -1);
        r = sys5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (r < 0)
                privs_fail(x, SANDBOX_STEP_NO_NEW_PRIVS, (int)-r, -1);
}
