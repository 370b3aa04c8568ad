/* The hardening options of cloister run: each one parsed into struct
 * sandbox_limits with a message naming the option on bad input. */
#include "cli/cli-run-harden.h"

#include "base/base-log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void cli_harden_options_init(struct cli_harden_options *o)
{
        sandbox_limits_init(&o->limits);
        o->cgroup_parent = NULL;
}

void cli_harden_help(void)
{
        printf("  --memory-max SIZE       cgroup memory limit (K, M, G suffixes); the command\n"
               "                          is killed when it goes over\n"
               "  --pids-max N            cgroup limit on processes and threads\n"
               "  --cpu-max CPUS          cgroup CPU bandwidth: 1.5, 50%% or QUOTA/PERIOD (us)\n"
               "  --cgroup-parent PATH    make the sandbox's cgroups below PATH (default: the\n"
               "                          caller's own cgroup in each hierarchy)\n"
               "  --rlimit NAME=SOFT[:HARD]\n"
               "                          a resource limit (core, nofile, as, nproc, ...);\n"
               "                          core defaults to 0\n"
               "  --timeout SECS          kill the sandbox after SECS of wall-clock time\n"
               "  --max-silent-time SECS  kill it after SECS without output\n"
               "  --max-output BYTES      kill it once its output exceeds BYTES\n"
               "  --personality linux32   report i686 (32-bit builds on 64-bit hosts)\n"
               "  --uname26               report a 2.6 kernel version\n"
               "  --aslr                  keep address-space randomisation (off by default)\n"
               "  --seccomp=off           no system-call filter: UNSAFE, for debugging only\n");
}

int cli_harden_parse(int argc, char **argv, int i, struct cli_harden_options *o)
{
        const char *a = argv[i];
        struct sandbox_limits *l = &o->limits;
        struct cl_error err;
        int r;

        if (strcmp(a, "--uname26") == 0) {
                l->personality |= SANDBOX_PER_UNAME26;
                return 1;
        }
        if (strcmp(a, "--aslr") == 0) {
                l->personality &= ~(unsigned long)SANDBOX_PER_ADDR_NO_RANDOMIZE;
                return 1;
        }
        if (strncmp(a, "--seccomp", 9) == 0 && (a[9] == '=' || a[9] == '\0')) {
                const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[i + 1] : NULL);
                int used = a[9] == '=' ? 1 : 2;
                if (!v) {
                        log_error("option '--seccomp' needs an argument (on or off)");
                        return -1;
                }
                if (strcmp(v, "on") == 0)
                        l->seccomp = 1;
                else if (strcmp(v, "off") == 0)
                        l->seccomp = 0;
                else {
                        log_error("option '--seccomp': invalid value '%s' (on or off)", v);
                        return -1;
                }
                return used;
        }

        static const char *const with_arg[] = {
                "--memory-max", "--pids-max", "--cpu-max", "--cgroup-parent", "--rlimit",
                "--timeout", "--max-silent-time", "--max-output", "--personality",
        };
        int known = 0;
        for (size_t k = 0; k < sizeof(with_arg) / sizeof(with_arg[0]); k++)
                if (strcmp(a, with_arg[k]) == 0)
                        known = 1;
        if (!known)
                return 0;
        if (i + 1 >= argc) {
                log_error("option '%s' needs 1 argument", a);
                return -1;
        }
        const char *v = argv[i + 1];
        if (strcmp(a, "--memory-max") == 0) {
                r = sandbox_parse_size(v, &l->memory_max, &err);
                if (r >= 0 && l->memory_max < 1024 * 1024)
                        r = cl_errx(&err, ERANGE, "memory limit '%s' is below 1M", v);
        } else if (strcmp(a, "--pids-max") == 0) {
                r = sandbox_parse_count(v, &l->pids_max, &err);
                if (r >= 0 && l->pids_max == 0)
                        r = cl_errx(&err, ERANGE, "pids limit must be at least 1");
        } else if (strcmp(a, "--cpu-max") == 0) {
                r = sandbox_limits_set_cpu(l, v, &err);
        } else if (strcmp(a, "--cgroup-parent") == 0) {
                o->cgroup_parent = v;
                r = 0;
        } else if (strcmp(a, "--rlimit") == 0) {
                r = sandbox_limits_set_rlimit(l, v, &err);
        } else if (strcmp(a, "--timeout") == 0) {
                r = sandbox_parse_seconds(v, &l->timeout_ms, &err);
        } else if (strcmp(a, "--max-silent-time") == 0) {
                r = sandbox_parse_seconds(v, &l->max_silent_ms, &err);
        } else if (strcmp(a, "--max-output") == 0) {
                r = sandbox_parse_size(v, &l->max_output, &err);
                if (r >= 0 && l->max_output == UINT64_MAX)
                        l->max_output = 0;
        } else {
                r = sandbox_limits_set_personality(l, v, &err);
        }
        if (r < 0) {
                log_error("option '%s': %s", a, err.msg);
                return -1;
        }
        return 2;
}
