/* Spawn benchmark: runs several ways of starting /bin/true (or any command)
 * interleaved, round after round, so that machine noise hits them all alike,
 * and prints medians, spreads and ratios. Not a test: nothing here can fail on
 * a slow machine.
 *   bench-spawn ROUNDS NAME=CMD... (CMD split on spaces; "@clone" is the raw
 *   clone+exec floor with the sandbox's namespaces, "@fork" bare fork+exec) */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 16
#define MAX_ARGS 64

struct cmd {
        char *name;
        char *argv[MAX_ARGS];
        int builtin; /* 0 exec argv, 1 fork floor, 2 clone floor */
        double *samples;
};

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static char *const true_argv[] = {"/bin/true", NULL};
static char *const empty_env[] = {NULL};

static int run_clone_floor(void)
{
        /* the namespaces cloister creates, nothing mounted: the kernel's floor */
        int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                    CLONE_NEWUTS | CLONE_NEWCGROUP | SIGCHLD;
        pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                execve(true_argv[0], true_argv, empty_env);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int run_one(struct cmd *c)
{
        if (c->builtin == 2)
                return run_clone_floor();
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (c->builtin == 1)
                        execve(true_argv[0], true_argv, empty_env);
                else
                        execvp(c->argv[0], c->argv);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: bench-spawn ROUNDS NAME=CMD...\n");
                return 2;
        }
        int rounds = atoi(argv[1]);
        struct cmd cmds[MAX_CMDS];
        int n = 0;
        for (int i = 2; i < argc && n < MAX_CMDS; i++, n++) {
                struct cmd *c = &cmds[n];
                memset(c, 0, sizeof(*c));
                char *eq = strchr(argv[i], '=');
                if (!eq) {
                        fprintf(stderr, "bench-spawn: '%s' is not NAME=CMD\n", argv[i]);
                        return 2;
                }
                *eq = '\0';
                c->name = argv[i];
                if (strcmp(eq + 1, "@fork") == 0)
                        c->builtin = 1;
                else if (strcmp(eq + 1, "@clone") == 0)
                        c->builtin = 2;
                int k = 0;
                for (char *tok = strtok(eq + 1, " "); tok && k < MAX_ARGS - 1;
                     tok = strtok(NULL, " "))
                        c->argv[k++] = tok;
                c->samples = calloc((size_t)rounds, sizeof(double));
                /* warm up, and refuse a command that does not work */
                if (run_one(c) < 0) {
                        fprintf(stderr, "bench-spawn: '%s' failed on its warm-up run\n", c->name);
                        return 1;
                }
        }
        for (int r = 0; r < rounds; r++)
                for (int i = 0; i < n; i++) {
                        double t0 = now_ms();
                        if (run_one(&cmds[i]) < 0) {
                                fprintf(stderr, "bench-spawn: '%s' failed in round %d\n",
                                        cmds[i].name, r);
                                return 1;
                        }
                        cmds[i].samples[r] = now_ms() - t0;
                }
        double med[MAX_CMDS];
        printf("%-26s %10s %10s %10s\n", "what (interleaved)", "median ms", "p10 ms", "p90 ms");
        for (int i = 0; i < n; i++) {
                qsort(cmds[i].samples, (size_t)rounds, sizeof(double), cmp_double);
                med[i] = cmds[i].samples[rounds / 2];
                printf("%-26s %10.3f %10.3f %10.3f\n", cmds[i].name, med[i],
                       cmds[i].samples[rounds / 10], cmds[i].samples[rounds * 9 / 10]);
        }
        printf("\nratios of medians (row / column)\n%-26s", "");
        for (int j = 0; j < n; j++)
                printf(" %10.10s", cmds[j].name);
        printf("\n");
        for (int i = 0; i < n; i++) {
                printf("%-26s", cmds[i].name);
                for (int j = 0; j < n; j++)
                        printf(" %10.2f", med[i] / med[j]);
                printf("\n");
        }
        return 0;
}
