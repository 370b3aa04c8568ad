/* The cgroup layer on host layouts this machine does not have: a pure cgroup
 * v2 host with the memory, pids and cpu controllers delegated, one where a
 * controller is missing, and a hybrid host with v1 memory. The layer is
 * pointed at fake /proc/self/mountinfo and /proc/self/cgroup files naming a
 * directory laid out like the hierarchy; this program's own mkdir and rmdir
 * (which the static library's calls resolve to) play the kernel's part of
 * filling a new cgroup with its interface files and emptying it on removal.
 * The tests then read which files were written with which values. */
#include "tap.h"

#include "base/base-cleanup.h"
#include "sandbox/sandbox-cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* the fake hierarchies: <tmp>/v2 (cgroup2) and <tmp>/mem (v1 memory); the
 * limit files start empty (the kernel shows "max"), so that what the layer
 * wrote is all they hold */
static char fake_v2[512], fake_mem[512];
static char fake_mountinfo[1024], fake_cgroup[1024];

static int under(const char *path, const char *root)
{
        size_t n = strlen(root);
        return n > 0 && strncmp(path, root, n) == 0 && path[n] == '/';
}

static void put(const char *dir, const char *file, const char *content)
{
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", dir, file);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                FAIL("create '%s': %s", p, strerror(errno));
        if (write(fd, content, strlen(content)) != (ssize_t)strlen(content))
                FAIL("write '%s'", p);
        close(fd);
}

/* "" when the file is missing */
static char *get(const char *dir, const char *file)
{
        static char buf[4][256];
        static int which;
        which = (which + 1) % 4;
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", dir, file);
        buf[which][0] = '\0';
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return buf[which];
        ssize_t n = read(fd, buf[which], sizeof(buf[which]) - 1);
        close(fd);
        buf[which][n > 0 ? n : 0] = '\0';
        return buf[which];
}

static int has_word(const char *list, const char *word)
{
        char padded[256], w[64];
        snprintf(padded, sizeof(padded), " %s ", list);
        for (char *c = padded; *c; c++)
                if (*c == '\n')
                        *c = ' ';
        snprintf(w, sizeof(w), " %s ", word);
        return strstr(padded, w) != NULL;
}

static const char *const v2_files[][2] = {
        {"cgroup.procs", ""},         {"cgroup.kill", ""},
        {"cgroup.events", "populated 0\nfrozen 0\n"},
        {"cgroup.controllers", ""},   {"cgroup.subtree_control", ""},
        {"cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n"},
};
static const char *const v2_memory[][2] = {
        {"memory.max", ""},
        {"memory.swap.max", ""},
        {"memory.peak", "0\n"},
        {"memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"},
};
static const char *const v2_pids[][2] = {{"pids.max", ""}, {"pids.events", "max 0\n"}};
static const char *const v2_cpu[][2] = {{"cpu.max", ""}};
static const char *const v1_memory[][2] = {
        {"cgroup.procs", ""},
        {"memory.limit_in_bytes", ""},
        {"memory.memsw.limit_in_bytes", ""},
        {"memory.max_usage_in_bytes", "0\n"},
        {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"},
};

#define PUT_ALL(dir, files)                                                                        \
        for (size_t i_ = 0; i_ < ELEMENTSOF(files); i_++)                                          \
        put(dir, files[i_][0], files[i_][1])

/* The kernel's part of mkdir in a cgroup hierarchy: the interface files, and
 * in v2 those of each controller the parent offers (a stand-in for "enabled
 * in the parent's subtree_control", which the layer writes after mkdir). */
int mkdir(const char *path, mode_t mode)
{
        if (syscall(SYS_mkdirat, AT_FDCWD, path, mode) < 0)
                return -1;
        if (under(path, fake_v2)) {
                char parent[1024];
                snprintf(parent, sizeof(parent), "%s", path);
                *strrchr(parent, '/') = '\0';
                const char *offered = get(parent, "cgroup.controllers");
                PUT_ALL(path, v2_files);
                if (has_word(offered, "memory"))
                        PUT_ALL(path, v2_memory);
                if (has_word(offered, "pids"))
                        PUT_ALL(path, v2_pids);
                if (has_word(offered, "cpu"))
                        PUT_ALL(path, v2_cpu);
        } else if (under(path, fake_mem)) {
                PUT_ALL(path, v1_memory);
        }
        return 0;
}

/* and of rmdir: a cgroup's interface files go with it */
int rmdir(const char *path)
{
        if (under(path, fake_v2) || under(path, fake_mem)) {
                _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0) {
                        static const char *const all[] = {
                                "cgroup.procs",  "cgroup.kill",        "cgroup.events",
                                "cgroup.controllers", "cgroup.subtree_control", "cpu.stat",
                                "memory.max",    "memory.swap.max",    "memory.peak",
                                "memory.events", "pids.max",           "pids.events",
                                "cpu.max",       "memory.limit_in_bytes",
                                "memory.memsw.limit_in_bytes",         "memory.max_usage_in_bytes",
                                "memory.oom_control"};
                        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                                (void)unlinkat(dfd, all[i], 0);
                }
        }
        return (int)syscall(SYS_unlinkat, AT_FDCWD, path, AT_REMOVEDIR);
}

/* A fake host: v2 at <tmp>/v2 with this process in /build.slice/job, whose
 * controllers and subtree_control are given; with v1_mem, a v1 memory
 * hierarchy at <tmp>/mem with this process in /job. */
static char *fake_host(const char *controllers, const char *enabled, int v1_mem)
{
        char *tmp = tap_mkdtemp();
        snprintf(fake_v2, sizeof(fake_v2), "%s/v2", tmp);
        if (v1_mem)
                snprintf(fake_mem, sizeof(fake_mem), "%s/mem", tmp);
        else
                fake_mem[0] = '\0';
        char slice[1024], job[1024], mjob[1024];
        char *mi = fake_mountinfo, *sc = fake_cgroup;
        snprintf(slice, sizeof(slice), "%s/build.slice", fake_v2);
        snprintf(job, sizeof(job), "%s/build.slice/job", fake_v2);
        snprintf(mjob, sizeof(mjob), "%s/job", fake_mem);
        if (syscall(SYS_mkdirat, AT_FDCWD, fake_v2, 0755) < 0 ||
            syscall(SYS_mkdirat, AT_FDCWD, slice, 0755) < 0 ||
            syscall(SYS_mkdirat, AT_FDCWD, job, 0755) < 0)
                FAIL("fake tree: %s", strerror(errno));
        PUT_ALL(job, v2_files);
        put(job, "cgroup.controllers", controllers);
        put(job, "cgroup.subtree_control", enabled);
        snprintf(mi, sizeof(fake_mountinfo), "%s/mountinfo", tmp);
        snprintf(sc, sizeof(fake_cgroup), "%s/cgroup", tmp);
        char line[2048];
        snprintf(line, sizeof(line),
                 "22 1 0:20 / /proc rw - proc proc rw\n"
                 "40 30 0:37 / %s rw,relatime - cgroup2 cgroup2 rw\n",
                 fake_v2);
        if (v1_mem) {
                if (syscall(SYS_mkdirat, AT_FDCWD, fake_mem, 0755) < 0 ||
                    syscall(SYS_mkdirat, AT_FDCWD, mjob, 0755) < 0)
                        FAIL("fake v1 tree: %s", strerror(errno));
                PUT_ALL(mjob, v1_memory);
                size_t n = strlen(line);
                snprintf(line + n, sizeof(line) - n,
                         "34 30 0:31 / %s rw,relatime - cgroup cgroup rw,memory\n", fake_mem);
        }
        put(tmp, "mountinfo", line);
        put(tmp, "cgroup", v1_mem ? "4:memory:/job\n0::/build.slice/job\n"
                                  : "0::/build.slice/job\n");
        sandbox_cgroup_discover_from(mi, sc);
        return tmp;
}

/* a leaf "cloister-PID-N" anywhere in the fake hierarchies */
static int leaves_left(const char *tmp)
{
        char cmd[1200];
        snprintf(cmd, sizeof(cmd), "find '%s/v2' '%s/mem' -mindepth 1 -name 'cloister-*' 2>/dev/null | grep -q .",
                 tmp, tmp);
        return system(cmd) == 0;
}

static void limits(struct sandbox_limits *l, int mem, int pids, int cpu)
{
        sandbox_limits_init(l);
        if (mem)
                l->memory_max = 64ull << 20;
        if (pids)
                l->pids_max = 64;
        if (cpu)
                CHECK_OK(sandbox_limits_set_cpu(l, "0.5", NULL));
}

TEST(pure_v2_limits_and_accounting_use_the_v2_files)
{
        _cleanup_free_ char *tmp = fake_host("cpu memory pids\n", "cpu memory pids\n", 0);
        struct sandbox_limits l;
        limits(&l, 1, 1, 1);
        struct sandbox_cgroup cg;
        struct cl_error why, err;
        if (sandbox_cgroup_create(&l, NULL, &cg, &why, &err) < 0)
                FAIL("create: %s", err.msg);
        CHECK_INT(why.code, ==, 0);
        CHECK_INT(cg.n_dirs, ==, 1); /* one leaf: v2 serves everything */
        CHECK_INT(cg.where[SANDBOX_CG_V2], ==, 0);
        CHECK_INT(cg.v2_controllers, ==, SANDBOX_CG_MEMORY | SANDBOX_CG_PIDS | SANDBOX_CG_CPUMAX);
        CHECK(cg.have & SANDBOX_CG_KILL);
        const char *leaf = cg.dirs[0].path;
        char want[1024];
        snprintf(want, sizeof(want), "%s/build.slice/job/cloister-%d-", fake_v2, (int)getpid());
        CHECK(strncmp(leaf, want, strlen(want)) == 0);
        CHECK_STR(get(leaf, "memory.max"), "67108864");
        CHECK_STR(get(leaf, "memory.swap.max"), "0");
        CHECK_STR(get(leaf, "pids.max"), "64");
        CHECK_STR(get(leaf, "cpu.max"), "50000 100000");
        /* already enabled in the delegated parent: nothing written there */
        _cleanup_free_ char *job = NULL;
        CHECK(asprintf(&job, "%s/build.slice/job", fake_v2) > 0);
        CHECK_STR(get(job, "cgroup.subtree_control"), "cpu memory pids\n");

        /* the accounting comes from the v2 files */
        put(leaf, "memory.peak", "1234567\n");
        put(leaf, "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
        put(leaf, "cpu.stat", "usage_usec 30\nuser_usec 10\nsystem_usec 20\n");
        put(leaf, "pids.events", "max 5\n");
        struct sandbox_cgroup_stats st;
        CHECK_OK(sandbox_cgroup_stats(&cg, &st));
        CHECK(st.have_cpu && st.have_memory_peak);
        CHECK_INT(st.cpu_user_us, ==, 10);
        CHECK_INT(st.cpu_system_us, ==, 20);
        CHECK_INT(st.memory_peak, ==, 1234567);
        CHECK_INT(st.oom_kills, ==, 1);
        CHECK_INT(st.pids_max_hits, ==, 5);

        /* the end: cgroup.kill, then the leaf is removed */
        char saved[512];
        snprintf(saved, sizeof(saved), "%s", leaf);
        CHECK_OK(sandbox_cgroup_kill(&cg));
        CHECK_STR(get(saved, "cgroup.kill"), "1");
        CHECK_OK(sandbox_cgroup_destroy(&cg, &err));
        CHECK(access(saved, F_OK) < 0);
        CHECK(!leaves_left(tmp));
        tap_rm_rf(tmp);
}

TEST(v2_controllers_offered_but_not_enabled_are_enabled)
{
        _cleanup_free_ char *tmp = fake_host("cpu memory pids\n", "", 0);
        struct sandbox_limits l;
        limits(&l, 1, 0, 0);
        struct sandbox_cgroup cg;
        struct cl_error why, err;
        if (sandbox_cgroup_create(&l, NULL, &cg, &why, &err) < 0)
                FAIL("create: %s", err.msg);
        _cleanup_free_ char *job = NULL;
        CHECK(asprintf(&job, "%s/build.slice/job", fake_v2) > 0);
        /* memory only: a limit for it, and the peak for the accounting */
        CHECK_STR(get(job, "cgroup.subtree_control"), "+memory");
        CHECK_INT(cg.v2_controllers, ==, SANDBOX_CG_MEMORY);
        CHECK_STR(get(cg.dirs[0].path, "memory.max"), "67108864");
        CHECK_STR(get(cg.dirs[0].path, "pids.max"), ""); /* untouched */
        CHECK_OK(sandbox_cgroup_destroy(&cg, &err));
        CHECK(!leaves_left(tmp));
        tap_rm_rf(tmp);
}

TEST(a_missing_v2_controller_is_said_and_nothing_is_left)
{
        /* no pids controller anywhere (and no v1 hierarchy) */
        _cleanup_free_ char *tmp = fake_host("cpu memory\n", "cpu memory\n", 0);
        struct sandbox_limits l;
        limits(&l, 1, 1, 0);
        struct sandbox_cgroup cg;
        struct cl_error why, err;
        /* below the caller's cgroup: the sandbox runs, the limit becomes an
         * rlimit, and why says which controller was missing */
        CHECK_OK(sandbox_cgroup_create(&l, NULL, &cg, &why, &err));
        CHECK_INT(why.code, ==, EOPNOTSUPP);
        CHECK(strstr(why.msg, "no writable cgroup controller for: pids") != NULL);
        CHECK_STR(get(cg.dirs[0].path, "memory.max"), "67108864");
        CHECK_STR(get(cg.dirs[0].path, "pids.max"), "");
        sandbox_cgroup_fallback_rlimits(&cg, &l);
        const struct sandbox_rlimit *nproc = sandbox_limits_get_rlimit(&l, RLIMIT_NPROC);
        CHECK(nproc && nproc->limit.rlim_cur == 64);
        CHECK_OK(sandbox_cgroup_destroy(&cg, &err));
        CHECK(!leaves_left(tmp));

        /* below a configured parent: an error naming it, nothing made */
        int r = sandbox_cgroup_create(&l, "/build.slice/job", &cg, &why, &err);
        CHECK_INT(r, ==, -EOPNOTSUPP);
        CHECK(strstr(err.msg, "cgroup parent '/build.slice/job' offers no controller for: pids") !=
              NULL);
        CHECK(!leaves_left(tmp));
        tap_rm_rf(tmp);
}

TEST(hybrid_host_memory_goes_to_v1)
{
        /* v2 without controllers (this machine's layout) and v1 memory */
        _cleanup_free_ char *tmp = fake_host("", "", 1);
        struct sandbox_limits l;
        limits(&l, 1, 0, 0);
        struct sandbox_cgroup cg;
        struct cl_error why, err;
        if (sandbox_cgroup_create(&l, NULL, &cg, &why, &err) < 0)
                FAIL("create: %s", err.msg);
        CHECK_INT(cg.n_dirs, ==, 2);
        CHECK_INT(cg.v2_controllers, ==, 0);
        int m = cg.where[SANDBOX_CG_V1_MEMORY];
        CHECK(m >= 0);
        CHECK(under(cg.dirs[m].path, fake_mem));
        CHECK_STR(get(cg.dirs[m].path, "memory.limit_in_bytes"), "67108864");
        CHECK_STR(get(cg.dirs[m].path, "memory.memsw.limit_in_bytes"), "67108864");
        put(cg.dirs[m].path, "memory.max_usage_in_bytes", "7654321\n");
        struct sandbox_cgroup_stats st;
        CHECK_OK(sandbox_cgroup_stats(&cg, &st));
        CHECK(st.have_memory_peak);
        CHECK_INT(st.memory_peak, ==, 7654321);
        CHECK_OK(sandbox_cgroup_destroy(&cg, &err));
        CHECK(!leaves_left(tmp));
        tap_rm_rf(tmp);
}

TEST(empty_leaves_of_dead_cloisters_are_collected)
{
        _cleanup_free_ char *tmp = fake_host("cpu memory pids\n", "cpu memory pids\n", 0);
        /* a PID that is gone (a reaped child) and one that lives (our parent) */
        pid_t dead = fork();
        if (dead == 0)
                _exit(0);
        waitpid(dead, NULL, 0);
        char gone[1024], alive[1024], other[1024];
        snprintf(gone, sizeof(gone), "%s/build.slice/job/cloister-%d-0", fake_v2, (int)dead);
        snprintf(alive, sizeof(alive), "%s/build.slice/job/cloister-%d-0", fake_v2,
                 (int)getppid());
        snprintf(other, sizeof(other), "%s/build.slice/job/cloister-%d-0-x", fake_v2, (int)dead);
        /* made without the interface files: the kernel's rmdir of an empty
         * cgroup removes them, a plain directory must be empty for that */
        CHECK(syscall(SYS_mkdirat, AT_FDCWD, gone, 0755) == 0);
        CHECK(syscall(SYS_mkdirat, AT_FDCWD, alive, 0755) == 0);
        CHECK(syscall(SYS_mkdirat, AT_FDCWD, other, 0755) == 0);
        struct sandbox_limits l;
        limits(&l, 0, 0, 0);
        struct sandbox_cgroup cg;
        struct cl_error why, err;
        CHECK_OK(sandbox_cgroup_create(&l, NULL, &cg, &why, &err));
        CHECK(access(gone, F_OK) < 0);
        CHECK(access(alive, F_OK) == 0);
        CHECK(access(other, F_OK) == 0); /* not a name of ours */
        CHECK_OK(sandbox_cgroup_destroy(&cg, &err));
        CHECK(rmdir(alive) == 0);
        tap_rm_rf(tmp);
}
