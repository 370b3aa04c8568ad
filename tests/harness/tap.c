/* TAP harness: a registry filled by constructors, a fork per test in its own
 * process group, a timeout that kills the group, and the MUST_WORK switch. */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAP_MAX_TESTS 512
#define TAP_SKIP_EXIT 77

struct tap_test {
        const char *name;
        tap_fn fn;
        unsigned timeout;
};

static struct tap_test tests[TAP_MAX_TESTS];
static size_t n_tests;
static int skip_fd = -1;

void tap_register(const char *name, tap_fn fn, unsigned timeout_sec)
{
        if (n_tests == TAP_MAX_TESTS) {
                fprintf(stderr, "too many tests\n");
                abort();
        }
        tests[n_tests++] = (struct tap_test){name, fn, timeout_sec};
}

int tap_must_work(void)
{
        const char *v = getenv("CLOISTER_TEST_MUST_WORK");
        return v && strcmp(v, "1") == 0;
}

void tap_fail_at(const char *file, int line, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "# %s:%d: ", file, line);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
        fflush(NULL);
        _exit(1);
}

void tap_skip(const char *fmt, ...)
{
        char reason[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        if (skip_fd >= 0) {
                ssize_t w = write(skip_fd, reason, strlen(reason));
                (void)w;
        }
        fflush(NULL);
        _exit(TAP_SKIP_EXIT);
}

void tap_diag(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "# ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
}

static double now_sec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for pid with a deadline; on expiry kill its process group. */
static int wait_deadline(pid_t pid, unsigned timeout, int *timed_out)
{
        double end = now_sec() + timeout;
        int status = 0;
        *timed_out = 0;
        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid)
                        return status;
                if (r < 0 && errno != EINTR)
                        return -1;
                if (now_sec() > end) {
                        *timed_out = 1;
                        kill(-pid, SIGKILL);
                        kill(pid, SIGKILL);
                        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                                ;
                        return status;
                }
                struct timespec ts = {0, 5 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
}

static int run_one(size_t i, size_t number)
{
        struct tap_test *t = &tests[i];
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                printf("not ok %zu - %s # pipe: %s\n", number, t->name, strerror(errno));
                return 1;
        }
        fflush(NULL);
        double start = now_sec();
        pid_t pid = fork();
        if (pid < 0) {
                printf("not ok %zu - %s # fork: %s\n", number, t->name, strerror(errno));
                return 1;
        }
        if (pid == 0) {
                setpgid(0, 0);
                close(pipefd[0]);
                skip_fd = pipefd[1];
                t->fn();
                fflush(NULL);
                _exit(0);
        }
        setpgid(pid, pid);
        close(pipefd[1]);
        int timed_out;
        int status = wait_deadline(pid, t->timeout, &timed_out);
        /* whatever the test left in its group goes too */
        kill(-pid, SIGKILL);
        char reason[512] = "";
        ssize_t n = read(pipefd[0], reason, sizeof(reason) - 1);
        if (n > 0)
                reason[n] = '\0';
        close(pipefd[0]);
        double took = now_sec() - start;

        if (timed_out) {
                printf("not ok %zu - %s # timed out after %u s\n", number, t->name, t->timeout);
                return 1;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == TAP_SKIP_EXIT) {
                if (tap_must_work()) {
                        printf("not ok %zu - %s # skipped under CLOISTER_TEST_MUST_WORK: %s\n",
                               number, t->name, reason);
                        return 1;
                }
                printf("ok %zu - %s # SKIP %s\n", number, t->name, reason);
                return 0;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                printf("ok %zu - %s (%.2fs)\n", number, t->name, took);
                return 0;
        }
        if (WIFSIGNALED(status))
                printf("not ok %zu - %s # killed by signal %d\n", number, t->name,
                       WTERMSIG(status));
        else
                printf("not ok %zu - %s # exit %d\n", number, t->name, WEXITSTATUS(status));
        return 1;
}

int main(int argc, char **argv)
{
        /* argv[1], when given, selects tests whose name contains it */
        const char *filter = argc > 1 ? argv[1] : NULL;
        size_t selected = 0;
        for (size_t i = 0; i < n_tests; i++)
                if (!filter || strstr(tests[i].name, filter))
                        selected++;
        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("1..%zu\n", selected);
        int failed = 0;
        size_t number = 0;
        for (size_t i = 0; i < n_tests; i++) {
                if (filter && !strstr(tests[i].name, filter))
                        continue;
                failed += run_one(i, ++number);
        }
        return failed ? 1 : 0;
}

const char *tap_build_dir(void)
{
        return CL_TEST_BUILD_DIR;
}

const char *tap_source_dir(void)
{
        return CL_TEST_SOURCE_DIR;
}

char *tap_build_path(const char *rel)
{
        char *p = NULL;
        if (asprintf(&p, "%s/%s", tap_build_dir(), rel) < 0)
                abort();
        return p;
}

int tap_exit_code(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return -1;
}

static void drain(int fd, char **buf, size_t *len, size_t *cap)
{
        if (*len + 4096 + 1 > *cap) {
                *cap = (*cap + 4096) * 2;
                *buf = realloc(*buf, *cap);
                if (!*buf)
                        abort();
        }
        ssize_t n = read(fd, *buf + *len, *cap - *len - 1);
        if (n > 0)
                *len += (size_t)n;
        (*buf)[*len] = '\0';
}

int tap_run(char *const argv[], const char *stdin_data, unsigned timeout_sec,
            struct tap_run_result *res)
{
        int in[2], out[2], err[2];
        memset(res, 0, sizeof(*res));
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
                return -errno;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                dup2(in[0], 0);
                dup2(out[1], 1);
                dup2(err[1], 2);
                execv(argv[0], argv);
                dprintf(2, "exec '%s': %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        close(err[1]);
        if (stdin_data) {
                size_t left = strlen(stdin_data);
                const char *p = stdin_data;
                while (left > 0) {
                        ssize_t n = write(in[1], p, left);
                        if (n <= 0)
                                break;
                        p += n;
                        left -= (size_t)n;
                }
        }
        close(in[1]);
        size_t ocap = 0, ecap = 0;
        drain(-1, &res->out, &res->out_len, &ocap);
        drain(-1, &res->err, &res->err_len, &ecap);
        double end = now_sec() + timeout_sec;
        int open_out = 1, open_err = 1;
        while (open_out || open_err) {
                struct pollfd p[2] = {{open_out ? out[0] : -1, POLLIN, 0},
                                      {open_err ? err[0] : -1, POLLIN, 0}};
                int left_ms = (int)((end - now_sec()) * 1000);
                if (left_ms <= 0)
                        break;
                int r = poll(p, 2, left_ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                if (p[0].revents) {
                        size_t before = res->out_len;
                        drain(out[0], &res->out, &res->out_len, &ocap);
                        if (res->out_len == before)
                                open_out = 0;
                }
                if (p[1].revents) {
                        size_t before = res->err_len;
                        drain(err[0], &res->err, &res->err_len, &ecap);
                        if (res->err_len == before)
                                open_err = 0;
                }
        }
        close(out[0]);
        close(err[0]);
        int timed_out;
        double left = end - now_sec();
        int status = wait_deadline(pid, left > 1 ? (unsigned)left : 1, &timed_out);
        if (timed_out) {
                tap_diag("'%s' timed out after %u s", argv[0], timeout_sec);
                kill(pid, SIGKILL);
        }
        res->status = status;
        return 0;
}

void tap_run_result_free(struct tap_run_result *res)
{
        free(res->out);
        free(res->err);
        memset(res, 0, sizeof(*res));
}

char *tap_mkdtemp(void)
{
        const char *tmp = getenv("TMPDIR");
        char *p = NULL;
        if (asprintf(&p, "%s/cloister-test.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
                abort();
        if (!mkdtemp(p)) {
                FAIL("mkdtemp: %s", strerror(errno));
        }
        return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if (flag == FTW_DP)
                return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
        return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int open_up(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if (flag == FTW_D || flag == FTW_DNR)
                chmod(path, 0700);
        return 0;
}

/* Read-only directories (store outputs) are made writable first. */
int tap_rm_rf(const char *path)
{
        chmod(path, 0700);
        nftw(path, open_up, 32, FTW_PHYS);
        return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

void tap_write_file(const char *path, const char *data, mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                FAIL("open '%s': %s", path, strerror(errno));
        size_t len = strlen(data);
        if (write(fd, data, len) != (ssize_t)len)
                FAIL("write '%s': %s", path, strerror(errno));
        fchmod(fd, mode);
        close(fd);
}

/* The whole file, NUL-terminated, its length in *ret_len; NULL if unreadable. */
static char *read_all(const char *path, size_t *ret_len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        size_t len = 0, cap = 0;
        char *buf = NULL;
        for (;;) {
                size_t before = len;
                drain(fd, &buf, &len, &cap);
                if (len == before)
                        break;
        }
        close(fd);
        *ret_len = len;
        return buf;
}

char *tap_read_file(const char *path)
{
        size_t len;
        return read_all(path, &len);
}

char *tap_proc_cmdline(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
        size_t len;
        char *buf = read_all(path, &len);
        if (!buf)
                return NULL;
        while (len > 0 && buf[len - 1] == '\0')
                len--;
        for (size_t i = 0; i < len; i++)
                if (buf[i] == '\0')
                        buf[i] = ' ';
        buf[len] = '\0';
        return buf;
}
