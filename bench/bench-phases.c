/* The launcher of bench-phases.sh: runs COMMAND ROUNDS times, each with its
 * stderr on a pipe, and prints one line "MARK MS" per mark the command wrote
 * ("TAG NANOSECONDS", CLOCK_MONOTONIC, from bench/phase-marks.patch), in
 * milliseconds since the fork, plus "fork 0" and "waited MS" of its own.
 *   bench-phases ROUNDS COMMAND [ARG...] */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long now_ns(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: bench-phases ROUNDS COMMAND [ARG...]\n");
                return 2;
        }
        int rounds = atoi(argv[1]);
        static char out[1 << 16];
        for (int i = 0; i < rounds; i++) {
                int p[2];
                if (pipe(p) < 0)
                        return perror("pipe"), 1;
                unsigned long long t0 = now_ns();
                pid_t pid = fork();
                if (pid < 0)
                        return perror("fork"), 1;
                if (pid == 0) {
                        dup2(p[1], 2);
                        close(p[0]);
                        close(p[1]);
                        execv(argv[2], argv + 2);
                        _exit(127);
                }
                /* read to the end first: a run that writes more than a pipe
                 * holds would otherwise never end */
                close(p[1]);
                size_t len = 0;
                ssize_t n;
                char sink[4096];
                while ((n = read(p[0], len < sizeof(out) - 1 ? out + len : sink,
                                 len < sizeof(out) - 1 ? sizeof(out) - 1 - len : sizeof(sink))) > 0)
                        if (len < sizeof(out) - 1)
                                len += (size_t)n;
                close(p[0]);
                out[len] = '\0';
                int status;
                waitpid(pid, &status, 0);
                unsigned long long t1 = now_ns();
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "round %d: the command failed: %s\n", i, out);
                        return 1;
                }
                printf("fork 0\n");
                for (char *save = NULL, *line = strtok_r(out, "\n", &save); line;
                     line = strtok_r(NULL, "\n", &save)) {
                        char tag[64];
                        unsigned long long t;
                        if (sscanf(line, "%63s %llu", tag, &t) == 2 && t >= t0)
                                printf("%s %.3f\n", tag, (double)(t - t0) / 1e6);
                }
                printf("waited %.3f\n", (double)(t1 - t0) / 1e6);
        }
        return 0;
}
