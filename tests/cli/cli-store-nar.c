/* `cloister store dump/restore/hash` from the outside: help, usage errors, and
 * bad NARs on standard input (message with the byte offset, exit 1, nothing
 * left in the target's directory). */
#include "tap.h"

#include "base/base-cleanup.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int run(const char *script, const char *a1, const char *a2, char **out, char **err)
{
        _cleanup_free_ char *bin = tap_build_path("src/cloister");
        char *argv[] = {"/bin/sh", "-c", (char *)script, "sh", bin, (char *)a1, (char *)a2, NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 60, &res));
        int code = tap_exit_code(res.status);
        if (out)
                *out = strdup(res.out ? res.out : "");
        if (err)
                *err = strdup(res.err ? res.err : "");
        tap_run_result_free(&res);
        return code;
}

static int count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        CHECK(d != NULL);
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

TEST(help_and_usage)
{
        static const char *const subs[] = {"dump", "restore", "hash"};
        for (size_t i = 0; i < ELEMENTSOF(subs); i++) {
                _cleanup_free_ char *out = NULL;
                CHECK_INT(run("exec \"$1\" store \"$2\" --help", subs[i], NULL, &out, NULL), ==, 0);
                CHECK(strstr(out, "usage: cloister store") != NULL);
                CHECK_INT(run("exec \"$1\" store \"$2\"", subs[i], NULL, NULL, NULL), ==, 2);
                CHECK_INT(run("exec \"$1\" store \"$2\" --bogus x", subs[i], NULL, NULL, NULL), ==,
                          2);
        }
        _cleanup_free_ char *out = NULL, *err = NULL;
        CHECK_INT(run("exec \"$1\" store --help", NULL, NULL, &out, NULL), ==, 0);
        CHECK(strstr(out, "restore") != NULL);
        CHECK_INT(run("exec \"$1\" store nonsense", NULL, NULL, NULL, &err), ==, 2);
        CHECK(strstr(err, "unknown store command 'nonsense'") != NULL);
        free(err);
        err = NULL;
        CHECK_INT(run("exec \"$1\" store hash --type sha3 x", NULL, NULL, NULL, &err), ==, 2);
        CHECK(strstr(err, "unknown hash type 'sha3'") != NULL);
}

TEST(round_trip_through_pipes)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        CHECK(mkdir("t", 0755) == 0);
        tap_write_file("t/f", "hi\n", 0644);
        tap_write_file("t/x", "#!/bin/sh\n", 0755);
        CHECK(symlink("f", "t/l") == 0);
        CHECK_INT(run("\"$1\" store dump t | \"$1\" store restore r && \"$1\" store dump r > r.nar "
                      "&& \"$1\" store dump t | cmp - r.nar",
                      NULL, NULL, NULL, NULL),
                  ==, 0);
        _cleanup_free_ char *out = NULL;
        CHECK_INT(run("exec \"$1\" store hash --type sha256 --base32 t/f", NULL, NULL, &out, NULL),
                  ==, 0);
        CHECK_STR(out, "1xmr8jicvzszfzpz46g37mlpvbzjl2wpwvl2b05psipssyp1sm8h\n");
        free(out);
        CHECK_INT(run("exec \"$1\" store hash --type sha256 --sri t/f", NULL, NULL, &out, NULL), ==,
                  0);
        CHECK_STR(out, "sha256-EFUdrtf6Rn0LWIJufrmg8q99aT3jGfLvd1//zaJEufY=\n");
        tap_rm_rf(dir);
}

/* A reader that goes away early is a clear error, not a death by SIGPIPE. */
TEST(dump_into_a_closed_pipe_says_so)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        CHECK(mkdir("t", 0755) == 0);
        char block[65536] = {0};
        FILE *f = fopen("t/big", "w");
        CHECK(f != NULL);
        for (int i = 0; i < 64; i++)
                CHECK(fwrite(block, 1, sizeof(block), f) == sizeof(block));
        CHECK(fclose(f) == 0);
        _cleanup_free_ char *out = NULL;
        /* sh's status of the pipeline's first element, and its stderr */
        CHECK_INT(run("{ \"$1\" store dump t 2> err; echo $? > code; } | head -c 1 > /dev/null; "
                      "cat code err",
                      NULL, NULL, &out, NULL),
                  ==, 0);
        CHECK_STR(out, "1\ncloister: write NAR: Broken pipe\n");
        tap_rm_rf(dir);
}

/* `cloister --help` and `cloister store --help` with standard output a pipe
 * whose reader has already gone: a message and exit 1, not a silent 0. */
TEST(help_into_a_closed_pipe_says_so)
{
        _cleanup_free_ char *bin = tap_build_path("src/cloister");
        const char *const cases[][3] = {{"--help", NULL}, {"store", "--help"}};
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int out[2], err[2];
                CHECK(pipe(out) == 0 && pipe(err) == 0);
                close(out[0]);
                pid_t pid = fork();
                CHECK(pid >= 0);
                if (pid == 0) {
                        dup2(out[1], 1);
                        dup2(err[1], 2);
                        execl(bin, bin, cases[i][0], cases[i][1], (char *)NULL);
                        _exit(127);
                }
                close(out[1]);
                close(err[1]);
                char msg[512] = {0};
                size_t got = 0;
                ssize_t n;
                while (got < sizeof(msg) - 1 &&
                       (n = read(err[0], msg + got, sizeof(msg) - 1 - got)) > 0)
                        got += (size_t)n;
                close(err[0]);
                int status;
                CHECK(waitpid(pid, &status, 0) == pid);
                CHECK(WIFEXITED(status));
                CHECK_INT(WEXITSTATUS(status), ==, 1);
                CHECK_STR(msg, "cloister: write standard output: Broken pipe\n");
        }
}

TEST(bad_nar_leaves_nothing)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        CHECK(chdir(dir) == 0);
        CHECK(mkdir("t", 0755) == 0);
        tap_write_file("t/f", "hello", 0644);
        CHECK(mkdir("p", 0755) == 0);
        CHECK_INT(run("exec \"$1\" store dump t > t.nar", NULL, NULL, NULL, NULL), ==, 0);
        struct stat st;
        CHECK(stat("t.nar", &st) == 0);
        /* truncated */
        _cleanup_free_ char *err = NULL;
        CHECK_INT(run("head -c 150 t.nar | \"$1\" store restore p/out", NULL, NULL, NULL, &err), ==,
                  1);
        CHECK_STR(err, "cloister: restore 'p/out': NAR at byte 150: truncated: the stream ends "
                       "inside the NAR\n");
        CHECK_INT(count_entries("p"), ==, 0);
        /* trailing bytes */
        free(err);
        err = NULL;
        CHECK_INT(run("(cat t.nar; echo x) | \"$1\" store restore p/out", NULL, NULL, NULL, &err),
                  ==, 1);
        CHECK(strstr(err, "trailing data after the NAR") != NULL);
        CHECK_INT(count_entries("p"), ==, 0);
        /* not a NAR at all */
        free(err);
        err = NULL;
        CHECK_INT(run("echo garbage | \"$1\" store restore p/out", NULL, NULL, NULL, &err), ==, 1);
        CHECK(strstr(err, "NAR at byte 0") != NULL);
        CHECK_INT(count_entries("p"), ==, 0);
        /* an existing target is refused and left alone */
        tap_write_file("p/keep", "k", 0644);
        CHECK_INT(run("exec \"$1\" store restore p/keep < t.nar", NULL, NULL, NULL, NULL), ==, 1);
        _cleanup_free_ char *k = tap_read_file("p/keep");
        CHECK_STR(k, "k");
        CHECK_INT(count_entries("p"), ==, 1);
        /* a missing path to dump */
        free(err);
        err = NULL;
        CHECK_INT(run("exec \"$1\" store dump nonexistent > /dev/null", NULL, NULL, NULL, &err), ==,
                  1);
        CHECK(strstr(err, "stat 'nonexistent': No such file or directory") != NULL);
        tap_rm_rf(dir);
}
