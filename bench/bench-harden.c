/* What the hardening layer costs per sandbox, measured apart from the rest of
 * the sandbox (the machine's noise swamps it in whole `cloister run`s). Each
 * part runs in a fresh process (this program exec'd again), as in a
 * `cloister run`, and is timed there around the part alone (wall clock and
 * the process's CPU time); the parts are interleaved round by round.
 *   seccomp: load the host's built-in filter, the all-ABI one, and a
 *            one-instruction filter (the kernel's fixed cost per load);
 *   probe:   find the ABIs the host runs (once per process);
 *   cgroup:  make the leaves `cloister run` makes with no limit given
 *            (discovery included), read the accounting, kill, remove.
 *   bench-harden [ROUNDS]
 * And whole commands, interleaved, wall clock and the CPU time of the
 * command's whole process tree (wait4's rusage), for bench-harden.sh:
 *   bench-harden --e2e ROUNDS NAME=CMD... (CMD split on spaces) */
#include "sandbox/sandbox-cgroup.h"
#include "sandbox/sandbox-seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum part { P_SECCOMP_HOST, P_SECCOMP_ALL, P_SECCOMP_ONE, P_PROBE, P_CGROUP, N_PARTS };
static const char *const part_names[N_PARTS] = {"seccomp-host", "seccomp-all", "seccomp-one",
                                                "probe", "cgroup"};

/* what a child reports: wall and CPU microseconds of the part, and for the
 * cgroup part the create/destroy split and the number of leaves */
struct sample {
        double wall, cpu, create, destroy;
        int n_dirs;
};

static double clock_us(clockid_t c)
{
        struct timespec ts;
        clock_gettime(c, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int run_part(enum part p, struct sample *s)
{
        struct sock_filter one[] = {{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}};
        struct sock_fprog one_prog = {1, one};
        const struct sock_fprog *prog = NULL;
        if (p == P_SECCOMP_HOST)
                prog = &sandbox_seccomp_builtin_for(sandbox_seccomp_host_abis())->prog;
        else if (p == P_SECCOMP_ALL)
                prog = &sandbox_seccomp_builtin_for((1u << SANDBOX_SECCOMP_N_ABIS) - 1)->prog;
        else if (p == P_SECCOMP_ONE)
                prog = &one_prog;
        if (prog && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        double c0 = clock_us(CLOCK_PROCESS_CPUTIME_ID), t0 = clock_us(CLOCK_MONOTONIC);
        if (prog) {
                if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
                        return -errno;
        } else if (p == P_PROBE) {
                (void)sandbox_seccomp_host_abis();
        } else {
                struct sandbox_limits l;
                sandbox_limits_init(&l);
                struct sandbox_cgroup cg;
                struct cl_error why, err;
                if (sandbox_cgroup_create(&l, NULL, &cg, &why, &err) < 0) {
                        fprintf(stderr, "bench-harden: %s\n", err.msg);
                        return -1;
                }
                double t1 = clock_us(CLOCK_MONOTONIC);
                struct sandbox_cgroup_stats st;
                sandbox_cgroup_stats(&cg, &st);
                s->n_dirs = (int)cg.n_dirs;
                double t2 = clock_us(CLOCK_MONOTONIC);
                sandbox_cgroup_destroy(&cg, NULL);
                s->create = t1 - t0;
                s->destroy = clock_us(CLOCK_MONOTONIC) - t2;
        }
        s->wall = clock_us(CLOCK_MONOTONIC) - t0;
        s->cpu = clock_us(CLOCK_PROCESS_CPUTIME_ID) - c0;
        return 0;
}

static int spawn_part(const char *self, enum part p, struct sample *s)
{
        int fds[2];
        if (pipe(fds) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                char part[16], fd[16];
                snprintf(part, sizeof(part), "%d", (int)p);
                snprintf(fd, sizeof(fd), "%d", fds[1]);
                close(fds[0]);
                execl(self, self, "--child", part, fd, (char *)NULL);
                _exit(127);
        }
        close(fds[1]);
        ssize_t n = read(fds[0], s, sizeof(*s));
        close(fds[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        return n == (ssize_t)sizeof(*s) && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof(double), cmp);
        return v[n / 2];
}

#define E2E_MAX 8
#define E2E_ARGS 48

static int run_cmd(char *const *cmd, double *wall_ms, double *cpu_ms)
{
        double t0 = clock_us(CLOCK_MONOTONIC);
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                dup2(null, 1);
                dup2(null, 2);
                execvp(cmd[0], cmd);
                _exit(127);
        }
        int status = 0;
        struct rusage ru;
        if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
                return -1;
        *wall_ms = (clock_us(CLOCK_MONOTONIC) - t0) / 1e3;
        *cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int e2e(int argc, char **argv)
{
        int rounds = atoi(argv[2]), n = argc - 3;
        if (rounds < 1 || n < 1 || n > E2E_MAX) {
                fprintf(stderr, "usage: bench-harden --e2e ROUNDS NAME=CMD... (at most %d)\n",
                        E2E_MAX);
                return 2;
        }
        static char *cmds[E2E_MAX][E2E_ARGS];
        const char *names[E2E_MAX];
        double *wall[E2E_MAX], *cpu[E2E_MAX];
        for (int i = 0; i < n; i++) {
                char *eq = strchr(argv[3 + i], '=');
                if (!eq) {
                        fprintf(stderr, "bench-harden: '%s' is not NAME=CMD\n", argv[3 + i]);
                        return 2;
                }
                *eq = '\0';
                names[i] = argv[3 + i];
                int k = 0;
                char *save = NULL;
                for (char *w = strtok_r(eq + 1, " ", &save); w && k < E2E_ARGS - 1;
                     w = strtok_r(NULL, " ", &save))
                        cmds[i][k++] = w;
                cmds[i][k] = NULL;
                wall[i] = calloc((size_t)rounds, sizeof(double));
                cpu[i] = calloc((size_t)rounds, sizeof(double));
                if (!wall[i] || !cpu[i] || k == 0)
                        return 1;
                double w, c;
                if (run_cmd(cmds[i], &w, &c) < 0) {
                        fprintf(stderr, "bench-harden: '%s' failed on its warm-up run\n", names[i]);
                        return 1;
                }
        }
        for (int r = 0; r < rounds; r++)
                for (int i = 0; i < n; i++)
                        if (run_cmd(cmds[i], &wall[i][r], &cpu[i][r]) < 0) {
                                fprintf(stderr, "bench-harden: '%s' failed in round %d\n",
                                        names[i], r);
                                return 1;
                        }
        printf("medians of %d interleaved rounds\n%-24s %10s %10s %10s\n", rounds, "command",
               "wall ms", "p10 ms", "cpu ms");
        for (int i = 0; i < n; i++) {
                double m = median(wall[i], rounds);
                printf("%-24s %10.3f %10.3f %10.3f\n", names[i], m, wall[i][rounds / 10],
                       median(cpu[i], rounds));
        }
        return 0;
}

int main(int argc, char **argv)
{
        if (argc >= 3 && strcmp(argv[1], "--e2e") == 0)
                return e2e(argc, argv);
        if (argc == 4 && strcmp(argv[1], "--child") == 0) {
                struct sample s;
                memset(&s, 0, sizeof(s));
                if (run_part((enum part)atoi(argv[2]), &s) < 0)
                        return 1;
                return write(atoi(argv[3]), &s, sizeof(s)) == (ssize_t)sizeof(s) ? 0 : 1;
        }
        int rounds = argc > 1 ? atoi(argv[1]) : 200;
        if (rounds < 1)
                rounds = 1;
        double *wall[N_PARTS], *cpu[N_PARTS], *create = calloc((size_t)rounds, sizeof(double)),
                               *destroy = calloc((size_t)rounds, sizeof(double));
        for (int p = 0; p < N_PARTS; p++) {
                wall[p] = calloc((size_t)rounds, sizeof(double));
                cpu[p] = calloc((size_t)rounds, sizeof(double));
                if (!wall[p] || !cpu[p])
                        return 1;
        }
        if (!create || !destroy)
                return 1;
        int n_dirs = 0;
        for (int i = 0; i < rounds; i++)
                for (int p = 0; p < N_PARTS; p++) {
                        struct sample s;
                        if (spawn_part("/proc/self/exe", (enum part)p, &s) < 0) {
                                fprintf(stderr, "bench-harden: part '%s' failed\n",
                                        part_names[p]);
                                return 1;
                        }
                        wall[p][i] = s.wall;
                        cpu[p][i] = s.cpu;
                        if (p == P_CGROUP) {
                                create[i] = s.create;
                                destroy[i] = s.destroy;
                                n_dirs = s.n_dirs;
                        }
                }
        unsigned host = sandbox_seccomp_host_abis();
        printf("medians of %d interleaved rounds, each part in a fresh process\n", rounds);
        printf("%-14s %10s %10s\n", "part", "wall us", "cpu us");
        for (int p = 0; p < N_PARTS; p++) {
                printf("%-14s %10.1f %10.1f", part_names[p], median(wall[p], rounds),
                       median(cpu[p], rounds));
                if (p == P_SECCOMP_HOST)
                        printf("   %u instructions (ABI set 0x%x)",
                               (unsigned)sandbox_seccomp_builtin_for(host)->prog.len, host);
                else if (p == P_SECCOMP_ALL)
                        printf("   %u instructions",
                               (unsigned)sandbox_seccomp_builtin_for(
                                       (1u << SANDBOX_SECCOMP_N_ABIS) - 1)
                                       ->prog.len);
                else if (p == P_CGROUP)
                        printf("   %d leaves: create %.1f, destroy %.1f", n_dirs,
                               median(create, rounds), median(destroy, rounds));
                printf("\n");
        }
        return 0;
}
