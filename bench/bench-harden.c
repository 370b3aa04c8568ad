/* What the hardening layer costs per sandbox, measured apart from the rest of
 * the sandbox (the machine's noise swamps it in whole `cloister run`s):
 *   cgroup: create the leaves, move a child in, kill it, remove the leaves;
 *   seccomp: load the built-in filter in a forked child before _exit.
 * Each against the same fork/_exit without it.
 *   bench-harden [ROUNDS] */
#include "sandbox/sandbox-cgroup.h"
#include "sandbox/sandbox-seccomp.h"

#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void fork_wait(int load_filter)
{
        pid_t pid = fork();
        if (pid == 0) {
                if (load_filter) {
                        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0,
                                &sandbox_seccomp_builtin()->prog);
                }
                _exit(0);
        }
        waitpid(pid, NULL, 0);
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

int main(int argc, char **argv)
{
        int rounds = argc > 1 ? atoi(argv[1]) : 200;
        double *base = calloc((size_t)rounds, sizeof(double));
        double *filt = calloc((size_t)rounds, sizeof(double));
        double *cgr = calloc((size_t)rounds, sizeof(double));
        if (!base || !filt || !cgr)
                return 1;
        /* interleaved, so load changes hit all three alike */
        int have_cg = 1;
        for (int i = 0; i < rounds; i++) {
                double t0 = now_us();
                fork_wait(0);
                double t1 = now_us();
                fork_wait(1);
                double t2 = now_us();
                base[i] = t1 - t0;
                filt[i] = t2 - t1;
                struct sandbox_limits l;
                sandbox_limits_init(&l);
                struct sandbox_cgroup cg;
                struct cl_error why, err;
                double t3 = now_us();
                if (sandbox_cgroup_create(&l, NULL, &cg, &why, &err) < 0) {
                        fprintf(stderr, "bench-harden: %s\n", err.msg);
                        return 1;
                }
                pid_t pid = fork();
                if (pid == 0) {
                        pause();
                        _exit(0);
                }
                sandbox_cgroup_attach(&cg, pid, NULL);
                struct sandbox_cgroup_stats st;
                sandbox_cgroup_stats(&cg, &st);
                sandbox_cgroup_destroy(&cg, NULL); /* kills the child */
                waitpid(pid, NULL, 0);
                double t4 = now_us();
                cgr[i] = t4 - t3 - base[i];
                if (cg.n_dirs == 0 && i == 0 && why.code)
                        have_cg = 0;
        }
        printf("fork+wait                 %8.1f us (median of %d)\n", median(base, rounds), rounds);
        printf("  + seccomp load          %8.1f us  (%u instructions)\n",
               median(filt, rounds) - median(base, rounds),
               (unsigned)sandbox_seccomp_builtin()->prog.len);
        printf("cgroup create+attach+stats+kill+rmdir %8.1f us%s\n", median(cgr, rounds),
               have_cg ? "" : "  (no writable cgroup: nothing made)");
        free(base);
        free(filt);
        free(cgr);
        return 0;
}
