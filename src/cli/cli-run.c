/* cloister run [OPTIONS] -- COMMAND [ARG...]: bubblewrap-style options into a
 * struct sandbox_plan, then spawn, relay SIGTERM/SIGINT/SIGHUP to the
 * sandbox's init, write the JSON status stream, exit with the command's code. */
#include "cli/cli-run.h"

#include "base/base-cleanup.h"
#include "base/base-log.h"
#include "cli/cli-run-harden.h"
#include "cloister/cloister.h"
#include "sandbox/sandbox-harden.h"
#include "sandbox/sandbox-loop.h"
#include "sandbox/sandbox-run.h"
#include "sandbox/sandbox-status.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

static int arg_json_fd = -1;
static struct cli_harden_options arg_harden;

static void run_help(void)
{
        printf("usage: cloister run [OPTIONS] [--] COMMAND [ARG...]\n"
               "\n"
               "Run COMMAND in a fresh sandbox: new user, mount, PID, network, IPC, UTS and\n"
               "cgroup namespaces; a tmpfs root holding only what the options put there, plus\n"
               "/dev, /proc, /tmp, /etc/passwd and /etc/group; an empty environment; no\n"
               "capabilities. COMMAND without a '/' is looked up in the PATH set with --setenv\n"
               "(default /usr/local/bin:/usr/bin:/bin), inside the sandbox.\n"
               "\n"
               "options (applied in order):\n"
               "  --bind SRC DST          bind host SRC on DST, read-write (nosuid, nodev)\n"
               "  --ro-bind SRC DST       bind host SRC on DST, read-only\n"
               "  --dev-bind SRC DST      bind host SRC on DST, device nodes usable\n"
               "  --bind-try, --ro-bind-try, --dev-bind-try SRC DST\n"
               "                          the same, doing nothing when SRC does not exist\n"
               "                          (so does a SRC ending in '?')\n"
               "  --tmpfs DST             a fresh tmpfs on DST\n"
               "  --dir DST               create directory DST\n"
               "  --symlink TARGET DST    create symlink DST pointing to TARGET\n"
               "  --chdir DIR             run COMMAND in DIR (default /)\n"
               "  --setenv KEY VALUE      set an environment variable\n"
               "  --unsetenv KEY          unset an environment variable\n"
               "  --hostname NAME         host name (default localhost)\n"
               "  --share-net             keep the host's network namespace\n"
               "  --uid N, --gid N        ids inside the sandbox (default 1000, 100)\n"
               "  --host-uid N, --host-gid N\n"
               "                          host ids of the sandbox when run as root\n"
               "                          (default: those of 'nobody')\n"
               "  --keep-fd N             pass file descriptor N to COMMAND\n"
               "  --json-status-fd N      write JSON status objects to file descriptor N\n");
        cli_harden_help();
        printf("  --help                  show this help\n"
               "\n"
               "exit status: COMMAND's, 128+N if killed by signal N, 2 for bad usage, 124 if\n"
               "--timeout, --max-silent-time or --max-output ended it, 125 if the sandbox\n"
               "could not be set up, 126 if COMMAND could not be executed, 127 if it was not\n"
               "found. See cloister-run(1).\n");
}

static int parse_id(const char *opt, const char *s, unsigned *ret)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (!*s || *end || errno || v >= 0xffffffffUL || s[0] == '-') {
                log_error("option '%s': invalid number '%s'", opt, s);
                return -EINVAL;
        }
        *ret = (unsigned)v;
        return 0;
}

static int parse_fd(const char *opt, const char *s, int *ret)
{
        unsigned v;
        int r = parse_id(opt, s, &v);
        if (r < 0)
                return r;
        if (v > INT_MAX) {
                log_error("option '%s': invalid file descriptor '%s'", opt, s);
                return -EINVAL;
        }
        *ret = (int)v;
        return 0;
}

/* Fill plan from the options; returns the index of COMMAND, or < 0 with
 * *ret_code set. */
static int parse_options(int argc, char **argv, struct sandbox_plan *plan, int *ret_code)
{
        struct cl_error err;
        *ret_code = CL_EXIT_USAGE;
        int i = 1;
        while (i < argc) {
                const char *a = argv[i];
                if (strcmp(a, "--") == 0)
                        return i + 1;
                if (strncmp(a, "--", 2) != 0)
                        return i;
                if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                        run_help();
                        *ret_code = CL_EXIT_OK;
                        return -1;
                }
                int nargs = 0, r = 0;
                static const struct {
                        const char *name;
                        int nargs;
                } table[] = {
                    {"--bind", 2},     {"--bind-try", 2},
                    {"--ro-bind", 2},  {"--ro-bind-try", 2},
                    {"--dev-bind", 2}, {"--dev-bind-try", 2},
                    {"--tmpfs", 1},    {"--dir", 1},
                    {"--symlink", 2},  {"--chdir", 1},
                    {"--setenv", 2},   {"--unsetenv", 1},
                    {"--hostname", 1}, {"--share-net", 0},
                    {"--uid", 1},      {"--gid", 1},
                    {"--host-uid", 1}, {"--host-gid", 1},
                    {"--keep-fd", 1},  {"--json-status-fd", 1},
                };
                int known = 0;
                for (size_t t = 0; t < ELEMENTSOF(table); t++)
                        if (strcmp(a, table[t].name) == 0) {
                                nargs = table[t].nargs;
                                known = 1;
                        }
                if (!known) {
                        int used = cli_harden_parse(argc, argv, i, &arg_harden);
                        if (used < 0)
                                return -1;
                        if (used > 0) {
                                i += used;
                                continue;
                        }
                        log_error("unknown option '%s' (see 'cloister run --help')", a);
                        return -1;
                }
                if (i + nargs >= argc) {
                        log_error("option '%s' needs %d argument%s", a, nargs,
                                  nargs == 1 ? "" : "s");
                        return -1;
                }
                const char *x = nargs > 0 ? argv[i + 1] : NULL;
                const char *y = nargs > 1 ? argv[i + 2] : NULL;
                unsigned id;

                if (strncmp(a, "--bind", 6) == 0 || strncmp(a, "--ro-bind", 9) == 0 ||
                    strncmp(a, "--dev-bind", 10) == 0) {
                        unsigned flags = 0;
                        if (strncmp(a, "--ro-", 5) == 0)
                                flags |= SANDBOX_BIND_RO;
                        if (strncmp(a, "--dev-", 6) == 0)
                                flags |= SANDBOX_BIND_DEV;
                        if (strstr(a, "-try"))
                                flags |= SANDBOX_BIND_TRY;
                        _cleanup_free_ char *src = strdup(x);
                        if (!src)
                                return log_error("out of memory"), -1;
                        size_t len = strlen(src);
                        if (len > 1 && src[len - 1] == '?') {
                                src[len - 1] = '\0';
                                flags |= SANDBOX_BIND_TRY;
                        }
                        r = sandbox_plan_add_bind(plan, src, y, flags, &err);
                } else if (strcmp(a, "--tmpfs") == 0) {
                        r = sandbox_plan_add_tmpfs(plan, x, 0755, &err);
                } else if (strcmp(a, "--dir") == 0) {
                        r = sandbox_plan_add_dir(plan, x, 0755, &err);
                } else if (strcmp(a, "--symlink") == 0) {
                        r = sandbox_plan_add_symlink(plan, x, y, &err);
                } else if (strcmp(a, "--chdir") == 0) {
                        r = sandbox_plan_set_chdir(plan, x, &err);
                } else if (strcmp(a, "--setenv") == 0) {
                        r = sandbox_plan_setenv(plan, x, y, &err);
                } else if (strcmp(a, "--unsetenv") == 0) {
                        r = sandbox_plan_unsetenv(plan, x, &err);
                } else if (strcmp(a, "--hostname") == 0) {
                        r = sandbox_plan_set_hostname(plan, x, &err);
                } else if (strcmp(a, "--share-net") == 0) {
                        plan->flags |= SANDBOX_SHARE_NET;
                } else if (strcmp(a, "--uid") == 0) {
                        if (parse_id(a, x, &id) < 0)
                                return -1;
                        plan->uid = id;
                } else if (strcmp(a, "--gid") == 0) {
                        if (parse_id(a, x, &id) < 0)
                                return -1;
                        plan->gid = id;
                } else if (strcmp(a, "--host-uid") == 0 || strcmp(a, "--host-gid") == 0) {
                        if (parse_id(a, x, &id) < 0)
                                return -1;
                        if (!plan->host_ids_set) {
                                /* the other one stays 'nobody' until given */
                                plan->host_uid = 65534;
                                plan->host_gid = 65534;
                                plan->host_ids_set = 1;
                        }
                        if (a[7] == 'u')
                                plan->host_uid = id;
                        else
                                plan->host_gid = id;
                } else if (strcmp(a, "--keep-fd") == 0) {
                        int fd;
                        if (parse_fd(a, x, &fd) < 0)
                                return -1;
                        r = sandbox_plan_keep_fd(plan, fd, &err);
                } else if (strcmp(a, "--json-status-fd") == 0) {
                        if (parse_fd(a, x, &arg_json_fd) < 0)
                                return -1;
                        if (fcntl(arg_json_fd, F_GETFD) < 0) {
                                log_error("option '%s': file descriptor %d: %s", a, arg_json_fd,
                                          strerror(errno));
                                return -1;
                        }
                }
                if (r < 0) {
                        log_error("option '%s': %s", a, err.msg);
                        return -1;
                }
                i += 1 + nargs;
        }
        log_error("no command given (see 'cloister run --help')");
        return -1;
}

struct run_state {
        struct sandbox *sb;
        int pending_sig;
        struct sandbox_harden *harden;
};

static void on_started(struct sandbox *sb, void *data)
{
        struct run_state *st = data;
        if (arg_json_fd >= 0) {
                struct cl_error err;
                if (sandbox_status_write_start(arg_json_fd, sb, &err) < 0)
                        log_cl_error(&err);
        }
        if (st->pending_sig)
                sandbox_kill(sb, st->pending_sig);
        sandbox_harden_started(st->harden);
}

static int on_signal(struct sandbox_loop *loop, int fd, uint32_t events, void *data,
                     struct cl_error *err)
{
        struct run_state *st = data;
        struct signalfd_siginfo si;
        (void)loop;
        (void)events;
        (void)err;
        while (read(fd, &si, sizeof(si)) == sizeof(si)) {
                /* PID 1 passes it on to the command */
                if (sandbox_kill(st->sb, (int)si.ssi_signo) == -ESRCH)
                        st->pending_sig = (int)si.ssi_signo;
        }
        return 0;
}

static void write_exit_status(const struct sandbox_result *res,
                              const struct sandbox_harden_report *rep)
{
        if (arg_json_fd < 0)
                return;
        struct cl_error err;
        struct sandbox_status_extra x = {0};
        if (rep) {
                x.limit = sandbox_limit_name(rep->fired);
                x.have_cgroup_cpu = rep->stats.have_cpu;
                x.cgroup_user_time = (double)rep->stats.cpu_user_us / 1e6;
                x.cgroup_system_time = (double)rep->stats.cpu_system_us / 1e6;
                x.have_memory_peak = rep->stats.have_memory_peak;
                x.memory_peak = rep->stats.memory_peak;
                x.oom_kills = rep->stats.oom_kills;
                x.pids_max_hits = rep->stats.pids_max_hits;
                x.have_output = arg_harden.limits.max_silent_ms || arg_harden.limits.max_output;
                x.output_bytes = rep->output_bytes;
        }
        if (sandbox_status_write_exit_extra(arg_json_fd, res, rep ? &x : NULL, &err) < 0)
                log_cl_error(&err);
}

static void harden_freep(struct sandbox_harden **h)
{
        if (*h)
                sandbox_harden_free(*h);
}

int cli_run_main(int argc, char **argv)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *plan = NULL;
        struct cl_error err;
        int code;
        arg_json_fd = -1;
        cli_harden_options_init(&arg_harden);

        if (sandbox_plan_new(&plan, &err) < 0 || sandbox_plan_add_defaults(plan, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        int cmd = parse_options(argc, argv, plan, &code);
        if (cmd < 0)
                return code;
        if (cmd >= argc) {
                log_error("no command given (see 'cloister run --help')");
                return CL_EXIT_USAGE;
        }
        if (sandbox_plan_set_argv(plan, argv + cmd, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_USAGE;
        }

        /* the signals to relay go through a signalfd in the event loop */
        sigset_t mask, old;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, &old);
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                log_error("create signalfd: %s", strerror(errno));
                return CL_EXIT_FAILURE;
        }

        /* seccomp, rlimits, personality and the cgroups; the sandbox's
         * cgroups are removed by harden_freep on every way out */
        struct sandbox_harden harden_storage;
        sandbox_harden_init(&harden_storage);
        _cleanup_(harden_freep) struct sandbox_harden *harden = NULL;
        if (sandbox_harden_apply(&harden_storage, plan, &arg_harden.limits,
                                 arg_harden.cgroup_parent, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_SETUP;
        }
        harden = &harden_storage;
        /* said when a cgroup limit was asked for and cannot hold; accounting
         * alone falls back to wait4's figures without a word */
        const struct sandbox_limits *l = &arg_harden.limits;
        int wants_cgroup = (l->memory_max && l->memory_max != UINT64_MAX) ||
                           (l->pids_max && l->pids_max != UINT64_MAX) || l->cpu_quota_us;
        if (harden->cgroups_unavailable && wants_cgroup && sandbox_cgroup_warn_once())
                log_warning("cgroup limits and accounting are unavailable (%s); rlimits still "
                            "apply",
                            harden->why.msg);

        struct sandbox_result res = {0};
        _cleanup_sandbox_ struct sandbox *sb = NULL;
        if (sandbox_harden_spawn(harden, plan, &sb, &err) < 0) {
                log_cl_error(&err);
                res.setup_failed = 1;
                res.exit_code = CL_EXIT_SETUP;
                res.error = err;
                write_exit_status(&res, NULL);
                return CL_EXIT_SETUP;
        }
        _cleanup_sandbox_loop_ struct sandbox_loop *loop = NULL;
        struct run_state st = {.sb = sb, .harden = harden};
        if (sandbox_loop_new(&loop, &err) < 0 ||
            sandbox_loop_add_fd(loop, sfd, EPOLLIN, on_signal, &st, &err) < 0 ||
            sandbox_harden_watch(harden, loop, &err) < 0 ||
            sandbox_wait(sb, loop, on_started, &st, &res, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_SETUP;
        }
        struct sandbox_harden_report rep;
        if (sandbox_harden_finish(harden, &res, &rep, &err) < 0)
                log_cl_error(&err);
        if (res.setup_failed)
                log_error("%s", res.error.msg);
        char why[256];
        if (sandbox_harden_describe(harden, &rep, &res, why, sizeof(why)))
                log_error("%s", why);
        if (rep.fired == SANDBOX_LIMIT_TIMEOUT || rep.fired == SANDBOX_LIMIT_SILENCE ||
            rep.fired == SANDBOX_LIMIT_OUTPUT)
                res.exit_code = CL_EXIT_TIMEOUT;
        write_exit_status(&res, &rep);
        return res.exit_code;
}
