/* cgroup limits and accounting through the library: leaves made below the
 * caller's cgroup, limits that kill a memory hog and contain a fork bomb,
 * cpu accounting, kill and rmdir of everything, bad parents refused with
 * nothing made. As an unprivileged user (no writable cgroup on this host) it
 * checks the fallback: one warning, limits as rlimits. */
#include "probe-run.h"
#include "tap.h"

#include "base/base-cleanup.h"
#include "sandbox/sandbox-cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Count the leaves sandbox-cgroup.c makes ("cloister-PID-N") anywhere below
 * dir (depth-limited): those of process own when own > 0, else the leaked
 * ones, whose process is gone (other cloister runs on the machine may be
 * making and removing live leaves meanwhile). */
static pid_t count_own;
static int count_leaves(const char *dir, int depth)
{
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                        continue;
                int pid, seq, len = 0;
                if (sscanf(e->d_name, "cloister-%d-%d%n", &pid, &seq, &len) == 2 &&
                    e->d_name[len] == '\0' &&
                    (count_own > 0 ? pid == count_own : kill(pid, 0) < 0 && errno == ESRCH))
                        n++;
                if (depth > 0) {
                        char sub[4096];
                        if (snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >=
                            (int)sizeof(sub))
                                continue; /* no cgroup path is that long */
                        n += count_leaves(sub, depth - 1);
                }
        }
        closedir(d);
        return n;
}

/* leaked leaves (library tests: this process's own) */
static int all_leaves(void)
{
        return count_leaves("/sys/fs/cgroup", 4);
}

/* The same, only in the cgroups this process's sandboxes are made in (its
 * own in each hierarchy): other sessions on a shared machine leak elsewhere. */
static int own_parent_leaves(void)
{
        _cleanup_free_ char *self = tap_read_file("/proc/self/cgroup");
        if (!self)
                return all_leaves();
        int n = 0;
        for (char *line = strtok(self, "\n"); line; line = strtok(NULL, "\n")) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = '\0';
                const char *ctrl = c1 + 1, *path = c2 + 1;
                char dir[4096];
                if (*ctrl == '\0')
                        snprintf(dir, sizeof(dir), "/sys/fs/cgroup/unified%s", path);
                else if (!strchr(ctrl, '=') && strncmp(ctrl, "name=", 5) != 0)
                        snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%s", ctrl, path);
                else
                        continue;
                n += count_leaves(dir, 0);
        }
        return n;
}


/* fork a child that waits for the go byte, then execs argv */
static pid_t spawn_waiting(char *const argv[], int *ret_go)
{
        int p[2];
        CHECK(pipe2(p, O_CLOEXEC) == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                char c;
                if (read(p[0], &c, 1) != 1)
                        _exit(121);
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                dup2(null, 1);
                dup2(null, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        close(p[0]);
        *ret_go = p[1];
        return pid;
}

static int run_in(struct sandbox_cgroup *cg, char *const argv[], unsigned timeout_s)
{
        int go = -1;
        pid_t pid = spawn_waiting(argv, &go);
        struct cl_error err;
        if (sandbox_cgroup_attach(cg, pid, &err) < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                FAIL("attach: %s", err.msg);
        }
        CHECK(write(go, "x", 1) == 1);
        close(go);
        int status = 0;
        for (unsigned i = 0; i < timeout_s * 100; i++) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                        return status;
                struct timespec ts = {0, 10000000};
                nanosleep(&ts, NULL);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        FAIL("child did not end within %us", timeout_s);
}

/* Only real root can write this host's cgroups; as the unprivileged user the
 * same properties are checked through the rlimit fallback (the tests below
 * that do not return here). Not a skip: there is nothing missing to install. */
#define need_cgroups()                                                                             \
        do {                                                                                       \
                if (!pr_real_root()) {                                                                \
                        tap_diag("no writable cgroup for this user: fallback tested instead");     \
                        return;                                                                    \
                }                                                                                  \
        } while (0)

TEST(leaves_below_callers_cgroup_and_removed)
{
        need_cgroups();
        count_own = getpid();
        int before = all_leaves();
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        l.memory_max = 64u << 20;
        l.pids_max = 50;
        struct sandbox_cgroup cg;
        struct cl_error why, err;
        if (sandbox_cgroup_create(&l, NULL, &cg, &why, &err) < 0)
                FAIL("create: %s", err.msg);
        CHECK(cg.n_dirs >= 1);
        CHECK(cg.have & SANDBOX_CG_MEMORY);
        CHECK(cg.have & SANDBOX_CG_PIDS);
        CHECK(cg.have & SANDBOX_CG_CPU);
        /* below this process's own memory cgroup, not the root */
        _cleanup_free_ char *self = tap_read_file("/proc/self/cgroup");
        for (unsigned i = 0; i < cg.n_dirs; i++) {
                tap_diag("leaf %s", cg.dirs[i].path);
                CHECK(strstr(cg.dirs[i].path, "/cloister-") != NULL);
                CHECK(access(cg.dirs[i].path, F_OK) == 0);
        }
        if (cg.where[SANDBOX_CG_V1_MEMORY] >= 0) {
                const char *m = strstr(self, ":memory:");
                CHECK(m);
                char want[512];
                snprintf(want, sizeof(want), "%.*s", (int)strcspn(m + 8, "\n"), m + 8);
                if (strcmp(want, "/") != 0)
                        CHECK(strstr(cg.dirs[cg.where[SANDBOX_CG_V1_MEMORY]].path, want) != NULL);
        }
        CHECK_INT(all_leaves(), ==, before + (int)cg.n_dirs);
        char *paths[SANDBOX_CG_NKINDS];
        unsigned n = cg.n_dirs;
        for (unsigned i = 0; i < n; i++)
                paths[i] = strdup(cg.dirs[i].path);
        CHECK_OK(sandbox_cgroup_destroy(&cg, &err));
        for (unsigned i = 0; i < n; i++) {
                CHECK(access(paths[i], F_OK) < 0 && errno == ENOENT);
                free(paths[i]);
        }
        CHECK_INT(all_leaves(), ==, before);
}

TEST(memory_max_kills_a_hog)
{
        need_cgroups();
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        l.memory_max = 32u << 20;
        struct sandbox_cgroup cg;
        struct cl_error err;
        if (sandbox_cgroup_create(&l, NULL, &cg, NULL, &err) < 0)
                FAIL("create: %s", err.msg);
        _cleanup_free_ char *probe = tap_build_path("tests/probe/probe-harden");
        char *argv[] = {probe, (char *)"hog", (char *)"256", NULL};
        int status = run_in(&cg, argv, 30);
        struct sandbox_cgroup_stats st;
        sandbox_cgroup_stats(&cg, &st);
        CHECK_OK(sandbox_cgroup_destroy(&cg, &err));
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        CHECK_INT(st.oom_kills, >=, 1);
        CHECK(st.have_memory_peak);
        CHECK_INT(st.memory_peak, <=, 34u << 20);
        CHECK_INT(st.memory_peak, >=, 16u << 20);
}

TEST(memory_below_limit_survives)
{
        need_cgroups();
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        l.memory_max = 128u << 20;
        struct sandbox_cgroup cg;
        struct cl_error err;
        if (sandbox_cgroup_create(&l, NULL, &cg, NULL, &err) < 0)
                FAIL("create: %s", err.msg);
        _cleanup_free_ char *probe = tap_build_path("tests/probe/probe-harden");
        char *argv[] = {probe, (char *)"hog", (char *)"16", NULL};
        int status = run_in(&cg, argv, 30);
        struct sandbox_cgroup_stats st;
        sandbox_cgroup_stats(&cg, &st);
        CHECK_OK(sandbox_cgroup_destroy(&cg, &err));
        CHECK_INT(tap_exit_code(status), ==, 0);
        CHECK_INT(st.oom_kills, ==, 0);
        CHECK_INT(st.memory_peak, >=, 16u << 20);
}

TEST_TIMEOUT(pids_max_contains_a_fork_bomb, 60)
{
        need_cgroups();
        /* bash: busybox's ash refuses ':' as a function name */
        if (access("/bin/bash", X_OK) < 0)
                FAIL("/bin/bash is not installed");
        count_own = getpid();
        int before = all_leaves();
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        l.pids_max = 64;
        struct sandbox_cgroup cg;
        struct cl_error err;
        if (sandbox_cgroup_create(&l, NULL, &cg, NULL, &err) < 0)
                FAIL("create: %s", err.msg);
        char *argv[] = {(char *)"/bin/bash", (char *)"-c", (char *)":(){ :|:& };:", NULL};
        int go = -1;
        pid_t pid = spawn_waiting(argv, &go);
        CHECK_OK(sandbox_cgroup_attach(&cg, pid, &err));
        /* never let the bomb go unless it is inside the limited leaf */
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/%ld/cgroup", (long)pid);
        _cleanup_free_ char *where = tap_read_file(proc);
        const char *leaf = strrchr(cg.dirs[cg.where[cg.where[SANDBOX_CG_V1_PIDS] >= 0
                                                             ? SANDBOX_CG_V1_PIDS
                                                             : SANDBOX_CG_V2]]
                                           .path,
                                   '/');
        if (!where || !strstr(where, leaf)) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                sandbox_cgroup_destroy(&cg, NULL);
                FAIL("child is not in the pids-limited cgroup");
        }
        CHECK(write(go, "x", 1) == 1);
        close(go);
        sleep(2);
        /* the host stays responsive: a fork+wait here takes well under a second */
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pid_t q = fork();
        if (q == 0)
                _exit(0);
        waitpid(q, NULL, 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        CHECK_INT((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, <, 1000);
        struct sandbox_cgroup_stats st;
        sandbox_cgroup_stats(&cg, &st);
        CHECK_INT(st.pids_max_hits, >, 0);
        CHECK_OK(sandbox_cgroup_kill(&cg));
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        char procs[64];
        int fd = openat(cg.dirs[0].dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0);
        CHECK_INT(read(fd, procs, sizeof(procs)), ==, 0);
        close(fd);
        CHECK_OK(sandbox_cgroup_destroy(&cg, &err));
        CHECK_INT(all_leaves(), ==, before);
}

TEST(cpu_accounting_for_a_busy_loop)
{
        need_cgroups();
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        struct sandbox_cgroup cg;
        struct cl_error err;
        if (sandbox_cgroup_create(&l, NULL, &cg, NULL, &err) < 0)
                FAIL("create: %s", err.msg);
        _cleanup_free_ char *probe = tap_build_path("tests/probe/probe-harden");
        char *argv[] = {probe, (char *)"spin", (char *)"300", NULL};
        int status = run_in(&cg, argv, 30);
        struct sandbox_cgroup_stats st;
        sandbox_cgroup_stats(&cg, &st);
        CHECK_OK(sandbox_cgroup_destroy(&cg, &err));
        CHECK_INT(tap_exit_code(status), ==, 0);
        CHECK(st.have_cpu);
        tap_diag("user %llu us, system %llu us", (unsigned long long)st.cpu_user_us,
                 (unsigned long long)st.cpu_system_us);
        CHECK_INT(st.cpu_user_us + st.cpu_system_us, >=, 250000);
}

TEST(cpu_max_through_the_host_layout)
{
        need_cgroups();
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        CHECK_OK(sandbox_limits_set_cpu(&l, "20%", NULL));
        struct sandbox_cgroup cg;
        struct cl_error err;
        if (sandbox_cgroup_create(&l, NULL, &cg, NULL, &err) < 0)
                FAIL("create: %s", err.msg);
        CHECK(cg.have & SANDBOX_CG_CPUMAX);
        _cleanup_free_ char *probe = tap_build_path("tests/probe/probe-harden");
        char *argv[] = {probe, (char *)"spinwall", (char *)"1000", NULL};
        int status = run_in(&cg, argv, 30);
        struct sandbox_cgroup_stats st;
        sandbox_cgroup_stats(&cg, &st);
        CHECK_OK(sandbox_cgroup_destroy(&cg, &err));
        CHECK_INT(tap_exit_code(status), ==, 0);
        /* 1 s of wall clock at 20% of a CPU: about 200 ms of CPU */
        tap_diag("cpu %llu us", (unsigned long long)(st.cpu_user_us + st.cpu_system_us));
        CHECK_INT(st.cpu_user_us + st.cpu_system_us, <, 450000);
}

TEST(bad_parent_is_refused_with_nothing_made)
{
        count_own = getpid();
        int before = all_leaves();
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        l.memory_max = 64u << 20;
        struct sandbox_cgroup cg;
        struct cl_error err;
        int r = sandbox_cgroup_create(&l, "/no-such-cloister-parent", &cg, NULL, &err);
        CHECK_INT(r, <, 0);
        tap_diag("%s", err.msg);
        CHECK(strstr(err.msg, "no-such-cloister-parent") != NULL);
        CHECK_INT(cg.n_dirs, ==, 0);
        r = sandbox_cgroup_create(&l, "relative/path", &cg, NULL, &err);
        CHECK_INT(r, ==, -EINVAL);
        CHECK_STR(err.msg, "invalid cgroup parent 'relative/path' (an absolute cgroup path)");
        r = sandbox_cgroup_create(&l, "/a/../../b", &cg, NULL, &err);
        CHECK_INT(r, ==, -EINVAL);
        CHECK_INT(all_leaves(), ==, before);
}

TEST(half_made_is_removed_on_a_bad_limit)
{
        need_cgroups();
        count_own = getpid();
        int before = all_leaves();
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        l.memory_max = 64u << 20;
        l.cpu_quota_us = 1; /* below the kernel's minimum: the write fails */
        struct sandbox_cgroup cg;
        struct cl_error err;
        int r = sandbox_cgroup_create(&l, NULL, &cg, NULL, &err);
        CHECK_INT(r, <, 0);
        tap_diag("%s", err.msg);
        CHECK_INT(all_leaves(), ==, before);
}

TEST(hundred_sandboxes_leave_nothing)
{
        need_cgroups();
        count_own = getpid();
        int before = all_leaves();
        _cleanup_free_ char *probe = tap_build_path("tests/probe/probe-harden");
        for (int i = 0; i < 100; i++) {
                struct sandbox_limits l;
                sandbox_limits_init(&l);
                l.memory_max = (i % 10 == 0) ? 8u << 20 : 64u << 20;
                l.pids_max = 32;
                struct sandbox_cgroup cg;
                struct cl_error err;
                if (sandbox_cgroup_create(&l, NULL, &cg, NULL, &err) < 0)
                        FAIL("create %d: %s", i, err.msg);
                char *hog[] = {probe, (char *)"hog", (char *)"64", NULL};
                char *ok[] = {probe, (char *)"uname", NULL};
                run_in(&cg, i % 10 == 0 ? hog : ok, 30);
                if (sandbox_cgroup_destroy(&cg, &err) < 0)
                        FAIL("destroy %d: %s", i, err.msg);
        }
        CHECK_INT(all_leaves(), ==, before);
}

TEST(unprivileged_falls_back_to_rlimits_and_warns_once)
{
        if (pr_real_root()) {
                tap_diag("real root can write cgroups here: covered above");
                return;
        }
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        l.memory_max = 64u << 20;
        l.pids_max = 64;
        struct sandbox_cgroup cg;
        struct cl_error why, err;
        CHECK_OK(sandbox_cgroup_create(&l, NULL, &cg, &why, &err));
        CHECK_INT(cg.n_dirs, ==, 0);
        CHECK(why.code != 0);
        tap_diag("why: %s", why.msg);
        CHECK_INT(sandbox_cgroup_warn_once(), ==, 1);
        CHECK_INT(sandbox_cgroup_warn_once(), ==, 0);
        sandbox_cgroup_fallback_rlimits(&cg, &l);
        const struct sandbox_rlimit *as = sandbox_limits_get_rlimit(&l, RLIMIT_AS);
        CHECK(as && as->limit.rlim_cur == 64u << 20);
        const struct sandbox_rlimit *np = sandbox_limits_get_rlimit(&l, RLIMIT_NPROC);
        CHECK(np && np->limit.rlim_cur == 64);
        CHECK_OK(sandbox_cgroup_destroy(&cg, NULL));
}

/* ---- the same through cloister run, seen from inside ---- */

static void cl_run(const char *const *opts, const char *const *args, struct tap_run_result *res)
{
        pr_run_probe("tests/probe/probe-harden", opts, args, res);
}

#define OPTS(...) ((const char *const[]){__VA_ARGS__, NULL})

static int count_str(const char *hay, const char *needle)
{
        int n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

TEST(run_sees_its_cgroup_as_root)
{
        struct tap_run_result res;
        cl_run(OPTS("--memory-max", "64M"), OPTS("/p", "cgroup"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        tap_diag("%s", res.out);
        CHECK(strstr(res.out, "0::/\n") != NULL);
        if (pr_real_root())
                CHECK(strstr(res.out, ":memory:/\n") != NULL);
        tap_run_result_free(&res);
}

/* Memory that no process owns (tmpfs pages) counts against --memory-max too;
 * whichever process of the sandbox the kernel then kills, cloister (whose
 * memory no sandbox process shares) survives to say which limit fired. */
TEST(run_memory_max_counts_tmpfs_and_cloister_survives)
{
        struct tap_run_result res;
        cl_run(OPTS("--memory-max", "32M", "--tmpfs", "/t"), OPTS("/p", "fill", "/t/f", "256"),
               &res);
        if (pr_real_root()) {
                CHECK_INT(tap_exit_code(res.status), ==, 128 + 9);
                CHECK(strstr(res.err, "memory and was killed (--memory-max)") != NULL);
        } else {
                /* no cgroup here: RLIMIT_AS does not count tmpfs pages */
                CHECK_INT(tap_exit_code(res.status), ==, 0);
                CHECK(strstr(res.out, "filled") != NULL);
        }
        tap_run_result_free(&res);
}

TEST(run_memory_max_kills_a_hog)
{
        struct tap_run_result res;
        cl_run(OPTS("--memory-max", "32M"), OPTS("/p", "hog", "256"), &res);
        if (pr_real_root()) {
                CHECK_INT(tap_exit_code(res.status), ==, 128 + 9);
                CHECK(strstr(res.err, "cloister: the command used more than 33554432 bytes of "
                                      "memory and was killed (--memory-max)") != NULL);
        } else {
                /* no cgroup here: the limit became RLIMIT_AS, malloc fails */
                CHECK_INT(tap_exit_code(res.status), ==, 3);
                CHECK(strstr(res.out, "malloc failed") != NULL);
        }
        tap_run_result_free(&res);
}

/* When the memory limit makes the kernel kill another process than the
 * command, the command goes on and its status stands, but cloister says
 * that the limit was reached. */
TEST(run_memory_max_kill_of_another_process_is_reported)
{
        struct tap_run_result res;
        cl_run(OPTS("--memory-max", "32M"), OPTS("/p", "child-hog", "256"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        if (pr_real_root()) {
                CHECK(strstr(res.out, "child signal 9") != NULL);
                CHECK(strstr(res.err, "cloister: the sandbox reached its memory limit of 33554432 "
                                      "bytes: the kernel killed 1 of its processes (--memory-max)") !=
                      NULL);
        } else {
                /* no cgroup here: the limit became RLIMIT_AS, malloc fails */
                CHECK(strstr(res.out, "child exit 3") != NULL);
                CHECK(strstr(res.err, "memory limit") == NULL);
        }
        tap_run_result_free(&res);
}

TEST(run_warns_once_when_cgroups_are_unavailable)
{
        struct tap_run_result res;
        cl_run(OPTS("--pids-max", "64", "--memory-max", "64M"),
               OPTS("/p", "uname"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        int n = count_str(res.err, "cgroup limits and accounting are unavailable");
        if (pr_real_root()) {
                CHECK_INT(n, ==, 0);
        } else {
                tap_diag("%s", res.err);
                CHECK_INT(n, ==, 1);
                CHECK(strstr(res.err, "rlimits still apply") != NULL);
        }
        tap_run_result_free(&res);
}

TEST(run_pids_max_becomes_nproc_without_cgroups)
{
        if (access("/bin/busybox", X_OK) < 0)
                FAIL("/bin/busybox (busybox-static) is not installed");
        struct tap_run_result res;
        cl_run(OPTS("--pids-max", "64", "--ro-bind", "/bin/busybox", "/bin/busybox"),
               OPTS("/bin/busybox", "sh", "-c", "ulimit -u"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        if (pr_real_root())
                CHECK(strcmp(res.out, "64\n") != 0); /* the cgroup does it */
        else
                CHECK_STR(res.out, "64\n");
        tap_run_result_free(&res);
}

TEST(run_cpu_accounting_in_json)
{
        int p[2];
        CHECK(pipe(p) == 0);
        char fd[16];
        snprintf(fd, sizeof(fd), "%d", p[1]);
        struct tap_run_result res;
        cl_run(OPTS("--json-status-fd", fd), OPTS("/p", "spin", "300"), &res);
        close(p[1]);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        tap_run_result_free(&res);
        char buf[8192];
        ssize_t n = read(p[0], buf, sizeof(buf) - 1);
        close(p[0]);
        CHECK(n > 0);
        buf[n] = '\0';
        tap_diag("%s", buf);
        const char *key = pr_real_root() ? "\"cgroup-user-time\":" : "\"user-time\":";
        const char *v = strstr(buf, key);
        CHECK(v);
        CHECK(strtod(v + strlen(key), NULL) >= 0.2);
        if (pr_real_root())
                CHECK(strstr(buf, "\"memory-peak-source\":\"cgroup\"") != NULL);
}

TEST_TIMEOUT(run_fork_bomb_is_contained_and_killed, 60)
{
        need_cgroups();
        if (access("/bin/bash", X_OK) < 0)
                FAIL("/bin/bash is not installed");
        int before = all_leaves();
        _cleanup_free_ char *cloister = tap_build_path("src/cloister");
        int p[2];
        CHECK(pipe(p) == 0);
        char fd[16];
        snprintf(fd, sizeof(fd), "%d", p[1]);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                dup2(null, 1);
                dup2(null, 2);
                close(p[0]);
                /* nproc is a second belt: the cgroup's 64 must be what stops it */
                execl(cloister, cloister, "run", "--pids-max", "64", "--rlimit", "nproc=400",
                      "--timeout", "3", "--json-status-fd", fd, "--ro-bind", "/usr", "/usr",
                      "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
                      "--symlink", "usr/lib64", "/lib64", "--", "/bin/bash", "-c",
                      ":(){ :|:& };:; sleep 30", (char *)NULL);
                _exit(127);
        }
        close(p[1]);
        sleep(1);
        /* the host stays responsive while the bomb runs */
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pid_t q = fork();
        if (q == 0)
                _exit(0);
        waitpid(q, NULL, 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        tap_diag("fork+wait on the host during the bomb: %ld ms", ms);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        char buf[8192];
        ssize_t n = read(p[0], buf, sizeof(buf) - 1);
        close(p[0]);
        buf[n > 0 ? n : 0] = '\0';
        tap_diag("%s", buf);
        CHECK_INT(tap_exit_code(status), ==, 124);
        CHECK_INT(ms, <, 1000);
        const char *hits = strstr(buf, "\"pids-max-hits\":");
        CHECK(hits && atoi(hits + 16) > 0);
        CHECK_INT(all_leaves(), ==, before);
}

/* `cloister run ... | head`: when cloister's own reader goes away, the
 * output relay (here for --max-output) stops, the command's next write fails
 * as it would without cloister (SIGPIPE), and cloister, not killed by that
 * signal itself, ends the sandbox and removes its cgroups. */
TEST_TIMEOUT(run_output_reader_gone_leaves_nothing, 60)
{
        if (access("/bin/busybox", X_OK) < 0)
                FAIL("/bin/busybox (busybox-static) is not installed");
        int before = own_parent_leaves();
        const char *argv[] = {pr_cloister(),  "run",          "--ro-bind",  "/bin/busybox",
                              "/bin/busybox", "--max-output", "1000000000", "--",
                              "/bin/busybox", "yes",          NULL};
        int out[2];
        CHECK(pipe(out) == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                dup2(out[1], 1);
                close(out[0]);
                close(out[1]);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(out[1]);
        char buf[64];
        CHECK(read(out[0], buf, sizeof(buf)) > 0);
        close(out[0]);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        /* exited (not killed), with the command's death by SIGPIPE */
        CHECK(WIFEXITED(status));
        CHECK_INT(WEXITSTATUS(status), ==, 128 + SIGPIPE);
        CHECK_INT(own_parent_leaves(), <=, before);
}

TEST(run_bad_cgroup_parent_leaves_nothing)
{
        int before = all_leaves();
        struct tap_run_result res;
        cl_run(OPTS("--cgroup-parent", "/no-such-cloister-parent"), OPTS("/p", "uname"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 125);
        tap_diag("%s", res.err);
        CHECK(strstr(res.err, "cloister: cgroup parent '") != NULL);
        CHECK(strstr(res.err, "no-such-cloister-parent") != NULL);
        CHECK_INT(all_leaves(), ==, before);
        tap_run_result_free(&res);
}

TEST_TIMEOUT(run_hundred_sandboxes_leave_no_cgroup, 120)
{
        int before = own_parent_leaves();
        for (int i = 0; i < 100; i++) {
                struct tap_run_result res;
                if (i % 10 == 0) {
                        cl_run(OPTS("--memory-max", "8M", "--pids-max", "32"),
                               OPTS("/p", "hog", "64"), &res);
                        CHECK(tap_exit_code(res.status) != 0);
                } else if (i % 10 == 5) {
                        cl_run(OPTS("--timeout", "0.1", "--pids-max", "32"),
                               OPTS("/p", "spinwall", "10000"), &res);
                        CHECK_INT(tap_exit_code(res.status), ==, 124);
                } else {
                        cl_run(OPTS("--memory-max", "64M"), OPTS("/p", "uname"), &res);
                        CHECK_INT(tap_exit_code(res.status), ==, 0);
                }
                tap_run_result_free(&res);
        }
        /* leaves of cloister processes killed elsewhere on the machine may come
         * and go meanwhile; ours must not add any (and stale ones are
         * collected by each new sandbox) */
        CHECK_INT(own_parent_leaves(), <=, before);
}

TEST_TIMEOUT(kill_loop_without_cgroup_kill, 60)
{
        /* hosts without cgroup.kill (v1 only, kernels before 5.14): the
         * bounded SIGKILL rounds over cgroup.procs must empty the leaves */
        need_cgroups();
        count_own = getpid();
        int before = all_leaves();
        struct sandbox_limits l;
        sandbox_limits_init(&l);
        l.pids_max = 64;
        struct sandbox_cgroup cg;
        struct cl_error err;
        if (sandbox_cgroup_create(&l, NULL, &cg, NULL, &err) < 0)
                FAIL("create: %s", err.msg);
        cg.have &= ~SANDBOX_CG_KILL;
        char *argv[] = {(char *)"/bin/bash", (char *)"-c",
                        (char *)"for i in $(seq 30); do sleep 100 & done; wait", NULL};
        int go = -1;
        pid_t pid = spawn_waiting(argv, &go);
        CHECK_OK(sandbox_cgroup_attach(&cg, pid, &err));
        CHECK(write(go, "x", 1) == 1);
        close(go);
        sleep(1);
        CHECK_OK(sandbox_cgroup_kill(&cg));
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        for (unsigned i = 0; i < cg.n_dirs; i++) {
                char procs[64];
                int fd = openat(cg.dirs[i].dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
                CHECK(fd >= 0);
                CHECK_INT(read(fd, procs, sizeof(procs)), ==, 0);
                close(fd);
        }
        CHECK_OK(sandbox_cgroup_destroy(&cg, &err));
        CHECK_INT(all_leaves(), ==, before);
}
