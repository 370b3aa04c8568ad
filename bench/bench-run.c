/* bench-run: start-up cost of cloister run against its peers. Runs each
 * command in turn, round after round (interleaved, so that a change in the
 * machine's load hits every command alike), and prints the median wall time
 * of each and its ratio to the first.
 *   bench-run [-n ROUNDS] :: NAME CMD... [:: NAME CMD...] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct bench_cmd {
        const char *name;
        char **argv;
        double *times;
};

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int run_once(char **argv, double *ret_ms)
{
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, 1);
                        dup2(null, 2);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret_ms = now_ms() - t0;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
        int rounds = 50, i = 1;
        if (i + 1 < argc && strcmp(argv[i], "-n") == 0) {
                rounds = atoi(argv[i + 1]);
                i += 2;
        }
        struct bench_cmd cmds[16];
        int n = 0;
        while (i < argc && n < 16) {
                if (strcmp(argv[i], "::") != 0 || i + 2 >= argc) {
                        fprintf(stderr, "bench-run: expected ':: NAME CMD...' at '%s'\n", argv[i]);
                        return 2;
                }
                int start = i + 2, j = start;
                while (j < argc && strcmp(argv[j], "::") != 0)
                        j++;
                char **copy = calloc((size_t)(j - start) + 1, sizeof(char *));
                cmds[n].times = calloc((size_t)rounds, sizeof(double));
                if (!copy || !cmds[n].times)
                        return 1;
                memcpy(copy, &argv[start], (size_t)(j - start) * sizeof(char *));
                cmds[n].name = argv[i + 1];
                cmds[n].argv = copy;
                n++;
                i = j;
        }
        if (n == 0 || rounds < 1) {
                fprintf(stderr, "usage: bench-run [-n ROUNDS] :: NAME CMD... [:: NAME CMD...]\n");
                return 2;
        }
        /* one warm-up round, not counted */
        for (int c = 0; c < n; c++) {
                double t;
                if (run_once(cmds[c].argv, &t) < 0) {
                        fprintf(stderr, "bench-run: '%s' failed\n", cmds[c].name);
                        return 1;
                }
        }
        for (int r = 0; r < rounds; r++)
                for (int c = 0; c < n; c++)
                        if (run_once(cmds[c].argv, &cmds[c].times[r]) < 0) {
                                fprintf(stderr, "bench-run: '%s' failed\n", cmds[c].name);
                                return 1;
                        }
        double base = 0;
        printf("%-28s %10s %10s %10s %8s\n", "command", "median ms", "min ms", "max ms", "ratio");
        for (int c = 0; c < n; c++) {
                qsort(cmds[c].times, (size_t)rounds, sizeof(double), cmp_double);
                double med = rounds % 2 ? cmds[c].times[rounds / 2]
                                        : (cmds[c].times[rounds / 2 - 1] + cmds[c].times[rounds / 2]) / 2;
                if (c == 0)
                        base = med;
                printf("%-28s %10.2f %10.2f %10.2f %8.2f\n", cmds[c].name, med, cmds[c].times[0],
                       cmds[c].times[rounds - 1], med / base);
        }
        return 0;
}
