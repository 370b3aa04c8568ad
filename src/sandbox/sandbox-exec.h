/* The compiled plan: a struct sandbox_plan resolved against the host and laid
 * out as flat data that the child half reads without computing or allocating
 * anything; and the records the child sends back. */
#pragma once

#include "sandbox/sandbox-plan.h"

#include <stdint.h>
#include <sys/types.h>

/* The steps a child reports; sandbox-run.c turns them into sentences. */
enum sandbox_step {
        SANDBOX_STEP_NONE = 0,
        SANDBOX_STEP_SIGNALS,       /* reset signal dispositions and mask */
        SANDBOX_STEP_PDEATHSIG,     /* arm the parent-death signal */
        SANDBOX_STEP_PARENT_GONE,   /* the parent died during setup */
        SANDBOX_STEP_CLOSE_FDS,     /* close inherited descriptors */
        SANDBOX_STEP_CGROUP,        /* join the plan's cgroup */
        SANDBOX_STEP_PREPARE_INIT,  /* the helper's pidfd and pipe for PID 1 */
        SANDBOX_STEP_UNSHARE,       /* start PID 1 in the new namespaces */
        SANDBOX_STEP_FORK_INIT,     /* start PID 1 (no namespaces) */
        SANDBOX_STEP_ID_MAPS,       /* write PID 1's id maps */
        SANDBOX_STEP_SETGROUPS,     /* drop supplementary groups */
        SANDBOX_STEP_SETGID,        /* switch gid */
        SANDBOX_STEP_SETUID,        /* switch uid */
        SANDBOX_STEP_VERIFY_IDS,    /* real/effective/saved ids are not the plan's */
        SANDBOX_STEP_MOUNT_PRIVATE, /* make every mount private */
        SANDBOX_STEP_MOUNT_ROOT,    /* mount the new root's tmpfs */
        SANDBOX_STEP_MKPATH,        /* create the path of op[index] */
        SANDBOX_STEP_BIND,          /* bind op[index]'s source */
        SANDBOX_STEP_BIND_FLAGS,    /* make op[index]'s bind read-only/nosuid/nodev */
        SANDBOX_STEP_TMPFS,         /* mount a tmpfs for op[index] */
        SANDBOX_STEP_DIR,           /* create op[index]'s directory */
        SANDBOX_STEP_SYMLINK,       /* create op[index]'s symlink */
        SANDBOX_STEP_FILE,          /* write op[index]'s file */
        SANDBOX_STEP_PROC,          /* mount proc for op[index] */
        SANDBOX_STEP_DEVPTS,        /* mount devpts for op[index] */
        SANDBOX_STEP_HOSTNAME,      /* set the host name */
        SANDBOX_STEP_DOMAINNAME,    /* set the domain name */
        SANDBOX_STEP_LOOPBACK,      /* bring up lo */
        SANDBOX_STEP_PIVOT,         /* pivot_root into the new root */
        SANDBOX_STEP_OLDROOT,       /* detach the old root */
        SANDBOX_STEP_CAPS,          /* drop capabilities */
        SANDBOX_STEP_NO_NEW_PRIVS,  /* set no_new_privs */
        SANDBOX_STEP_FORK_CMD,      /* fork the command */
        SANDBOX_STEP_SETSID,        /* start a new session */
        SANDBOX_STEP_CHDIR,         /* change to the plan's directory */
        SANDBOX_STEP_KEEP_FD,       /* keep fd index open */
        SANDBOX_STEP_RLIMIT,        /* set rlimit[index] */
        SANDBOX_STEP_PERSONALITY,   /* set the personality */
        SANDBOX_STEP_SECCOMP,       /* load the seccomp filter */
        SANDBOX_STEP_EXEC,          /* execute the command */
        SANDBOX_STEP_NOT_FOUND,     /* the command was not found */
        SANDBOX_STEP_SUBREAPER,     /* become a child subreaper (no namespaces) */
        SANDBOX_STEP_MAX
};

struct sandbox_child_error {
        int32_t step;  /* enum sandbox_step */
        int32_t err;   /* positive errno */
        int32_t index; /* the op, rlimit or fd the step was about; -1 if none */
};

/* Records on the report pipe (sandbox-run.c reads them). */
enum {
        SANDBOX_REPORT_INIT_PID = 1, /* value: PID 1's pid on the host, when it is not
                                      * the parent's child (no namespaces) */
        SANDBOX_REPORT_STATUS = 2,   /* value: the command's wait status */
        SANDBOX_REPORT_NS = 3,       /* value: inode of sandbox_ns_names[index] */
        SANDBOX_REPORT_STARTED = 4,  /* the command has exec'd; value: its pid inside */
};
struct sandbox_report {
        int32_t type;
        int32_t index;
        int64_t value;
};

/* The namespaces reported by PID 1, in /proc/PID/ns/ names. */
#define SANDBOX_N_NS 7
extern const char *const sandbox_ns_names[SANDBOX_N_NS];

/* The one piece of memory the child side writes, per sandbox: the helper
 * writes it in the parent's memory, PID 1 and the command in PID 1's copy
 * (see sandbox-child.c). Descriptors here are in the helper's fd table and
 * PID 1's copy of it, not the parent's. */
struct sandbox_shared {
        volatile int failed; /* set by any failure report */
        pid_t init_pid;      /* PID 1 on the host (clone3's parent_tid) */
        int parent_pidfd;    /* the parent, for PID 1 to notice it died early */
        int go_fd;           /* PID 1 reads a byte here once its maps are written */
        int go_fd_write;     /* the helper's end */
};

/* The plan, compiled: everything the child needs, with no pointer into memory
 * that the child would have to allocate or compute. */
struct sandbox_exec {
        const struct sandbox_plan *plan;
        struct sandbox_op *ops; /* the plan's, resolved, then the generated files */
        size_t n_ops;
        /* per op: a bind source's detached clone, opened by PID 1 while it still
         * has the caller's file-system identity (as real root, host root may
         * reach sources a build user may not); -1 when not open */
        int *bind_trees;
        char *root_mount; /* host directory the new root's tmpfs hides */
        int unshare_flags;
        int privileged;   /* switch ids and drop supplementary groups first */
        int cap_last_cap; /* bounding set is dropped up to this */
        uid_t uid;
        gid_t gid;
        pid_t parent_pid; /* the process that forked the helper */
        char *const *envp;
        char *const *argv;
        /* the command's candidate paths in PATH order (a name with a '/' has
         * one); tried in turn like execvp does */
        char **exec_paths;
        size_t n_exec_paths;
        /* fds alive in the helper: 0 1 2, the kept ones and the pipes; sorted */
        int *helper_fds;
        size_t n_helper_fds;
        int *keep_fds; /* sorted, excluding 0 1 2 */
        size_t n_keep_fds;
        int err_fd;    /* write end of the error pipe (close-on-exec) */
        int report_fd; /* write end of the report pipe */
        /* own stacks, in the parent's memory: the helper's (PID 1 goes on
         * on its copy), the no-namespace PID 1's (sandbox-nons-child.c) and
         * the command's until its exec */
        void *helper_stack_top;
        void *init_stack_top;
        void *cmd_stack_top;
        struct sandbox_shared *shared;

        /* PID 1's maps, written by the helper from outside */
        char uid_map[64];
        char gid_map[64];
        int setgroups_deny;
        /* SANDBOX_NO_NAMESPACES: no namespace, no new root; a reaper and
         * PID 1 are subreapers (sandbox-nons-child.c) */
        int no_namespaces;
};

/* Lay the plan out for the child (sandbox-exec.c); the result is freed
 * with sandbox_exec_free. */
int sandbox_exec_compile(struct sandbox_plan *plan, const struct sandbox_host *host,
                         struct sandbox_exec **ret, struct cl_error *err);
void sandbox_exec_free(struct sandbox_exec *x);
