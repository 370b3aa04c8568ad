/* build-modes: `cloister build` with sandbox = false and relaxed, in a store
 * whose logical directory leads to its physical one (a symlink, as a builder
 * without namespaces writes its output at the logical path): the output is
 * built and registered, the builder ran as a build user (as root) or as the
 * caller, with no capability, no_new_privs and seccomp, cannot list the
 * store (as root: store directory 1735 root:<build group>), leaves no
 * process and no build directory behind (kept with -K); relaxed builds
 * fixed-output and __noChroot derivations unsandboxed and the rest in the
 * sandbox; sandbox = true refuses __noChroot; a builder's argv[0] is its
 * basename in both modes. */
#include "base/base-cleanup.h"
#include "store/store-hash.h"
#include "tap.h"
#include "build-test.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct env {
        char *tmp;
        char *root;      /* --store ROOT */
        char *store_dir; /* --store-dir: a symlink to ROOT<store_dir> */
        char *tmpdir;    /* TMPDIR of cloister: where build directories go */
        char *busybox;   /* its store path */
        char *cloister;
};

static void mkdirs(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = strdup(path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        FAIL("mkdir '%s': %s", p, strerror(errno));
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                FAIL("mkdir '%s': %s", p, strerror(errno));
}

static void setup(struct env *e)
{
        e->tmp = tap_mkdtemp();
        /* the build user must reach the store (and busybox) below it */
        CHECK(chmod(e->tmp, 0755) == 0);
        e->root = xasprintf("%s/root", e->tmp);
        e->store_dir = xasprintf("%s/s/nix/store", e->tmp);
        e->tmpdir = xasprintf("%s/tmp", e->tmp);
        e->cloister = tap_build_path("src/cloister");
        _cleanup_free_ char *real = xasprintf("%s%s", e->root, e->store_dir);
        _cleanup_free_ char *s_nix = xasprintf("%s/s/nix", e->tmp);
        mkdirs(real, 0755);
        mkdirs(s_nix, 0755);
        CHECK(symlink(real, e->store_dir) == 0);
        CHECK(mkdir(e->tmpdir, 0755) == 0);
        CHECK(setenv("TMPDIR", e->tmpdir, 1) == 0);

        build_test_copy_busybox(e->tmp);
        _cleanup_free_ char *dir = xasprintf("%s/busybox", e->tmp);
        char *argv[] = {e->cloister,   "store",      "add", "--store", e->root,
                        "--store-dir", e->store_dir, dir,   NULL};
        e->busybox = build_test_run_ok(argv);
}

static void teardown(struct env *e)
{
        tap_rm_rf(e->tmp);
}

/* s as a JSON string's contents */
static char *json_escape(const char *s)
{
        char *out = malloc(strlen(s) * 2 + 1), *o = out;
        CHECK(out);
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        *o++ = '\\';
                *o++ = *s;
        }
        *o = '\0';
        return out;
}

/* busybox sh -e -c script; extra: more env entries (",\"k\":\"v\""),
 * outputs: the outputs object (default: out) */
static char *add_drv(struct env *e, const char *name, const char *script, const char *extra,
                     const char *outputs)
{
        _cleanup_free_ char *esc = json_escape(script);
        _cleanup_free_ char *json =
            xasprintf("{\"name\":\"%s\",\"system\":\"x86_64-linux\",\"builder\":\"%s/bin/busybox\","
                      "\"args\":[\"sh\",\"-e\",\"-c\",\"%s\"],"
                      "\"env\":{\"builder\":\"%s/bin/busybox\",\"name\":\"%s\","
                      "\"system\":\"x86_64-linux\",\"out\":\"\"%s},"
                      "\"outputs\":%s,\"inputSrcs\":[\"%s\"],\"inputDrvs\":{}}",
                      name, e->busybox, esc, e->busybox, name, extra ? extra : "",
                      outputs ? outputs : "{\"out\":{\"path\":\"\"}}", e->busybox);
        _cleanup_free_ char *file = xasprintf("%s/%s.json", e->tmp, name);
        tap_write_file(file, json, 0644);
        char *argv[] = {e->cloister,   "drv",        "add", "--store", e->root,
                        "--store-dir", e->store_dir, file,  NULL};
        return build_test_run_ok(argv);
}

/* The output path "out" of a .drv in the store (through the symlink). */
static char *out_path(const char *drv)
{
        return build_test_drv_out(drv);
}

/* cloister build --option sandbox MODE [more] DRV */
static int build(struct env *e, const char *mode, const char *more, const char *drv,
                 struct tap_run_result *r)
{
        char *argv[] = {e->cloister,
                        "build",
                        "--store",
                        e->root,
                        "--store-dir",
                        e->store_dir,
                        "--option",
                        "sandbox",
                        (char *)mode,
                        more ? (char *)more : (char *)drv,
                        more ? (char *)drv : NULL,
                        NULL};
        CHECK_OK(tap_run(argv, NULL, 120, r));
        return tap_exit_code(r->status);
}

static void build_ok(struct env *e, const char *mode, const char *drv)
{
        struct tap_run_result r;
        int code = build(e, mode, NULL, drv, &r);
        if (code != 0)
                FAIL("build (sandbox = %s): %d %s", mode, code, r.err);
        tap_run_result_free(&r);
}

/* The contents of file name in the directory output out. */
static char *out_file(const char *out, const char *name)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", out, name);
        char *s = tap_read_file(p);
        if (!s)
                FAIL("no '%s' in the output", p);
        chomp(s);
        return s;
}

/* Nothing left in TMPDIR: every build directory removed. */
static void check_tmpdir_empty(struct env *e)
{
        CHECK(access(e->tmpdir, F_OK) == 0);
        build_test_check_dir_empty(e->tmpdir, "build directory");
}

static char *status_line(const char *status, const char *key)
{
        const char *p = strstr(status, key);
        if (!p)
                FAIL("no '%s' in:\n%s", key, status);
        p += strlen(key);
        while (*p == '\t' || *p == ' ')
                p++;
        return strndup(p, strcspn(p, "\n"));
}

#define PROBE_SCRIPT                                                                               \
        "mkdir $out; id -u > $out/uid; id -g > $out/gid; id -G > $out/groups; pwd > $out/pwd; "    \
        "echo $NIX_BUILD_TOP > $out/top; echo $TMPDIR > $out/tmpdir; "                             \
        "tr '\\0' '\\n' < /proc/$$/cmdline | head -n 1 > $out/argv0; "                             \
        "cat /proc/self/status > $out/status; "                                                    \
        "if ls $NIX_STORE > $out/ls 2>&1; then echo listed > $out/list; "                          \
        "else echo refused > $out/list; fi; "                                                      \
        "echo from-the-build-dir > $TMPDIR/scratch; cat $TMPDIR/scratch > $out/scratch"

TEST_TIMEOUT(nosandbox_builds_as_build_user_and_registers, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv = add_drv(&e, "probe", PROBE_SCRIPT, NULL, NULL);
        _cleanup_free_ char *out = out_path(drv);
        build_ok(&e, "false", drv);

        /* registered, canonical */
        char *qargv[] = {e.cloister,    "store",     "query",     "--store", e.root,
                         "--store-dir", e.store_dir, "--deriver", out,       NULL};
        struct tap_run_result r;
        CHECK_OK(tap_run(qargv, NULL, 60, &r));
        CHECK_INT(tap_exit_code(r.status), ==, 0);
        chomp(r.out);
        CHECK_STR(r.out, drv);
        tap_run_result_free(&r);
        struct stat st;
        CHECK(lstat(out, &st) == 0 && S_ISDIR(st.st_mode));
        CHECK_INT(st.st_mode & 07777, ==, 0555);
        CHECK_INT(st.st_uid, ==, geteuid());

        _cleanup_free_ char *uid = out_file(out, "uid");
        _cleanup_free_ char *gid = out_file(out, "gid");
        _cleanup_free_ char *groups = out_file(out, "groups");
        _cleanup_free_ char *list = out_file(out, "list");
        _cleanup_free_ char *argv0 = out_file(out, "argv0");
        _cleanup_free_ char *top = out_file(out, "top");
        _cleanup_free_ char *pwd = out_file(out, "pwd");
        _cleanup_free_ char *tmpdir = out_file(out, "tmpdir");
        _cleanup_free_ char *scratch = out_file(out, "scratch");
        _cleanup_free_ char *status = out_file(out, "status");
        /* Nix passes the builder's basename as argv[0] */
        CHECK_STR(argv0, "busybox");
        /* the host build directory: TMPDIR/nix-build-NAME.drv-N/build */
        _cleanup_free_ char *want_top = xasprintf("%s/nix-build-probe.drv-0/build", e.tmpdir);
        CHECK_STR(top, want_top);
        CHECK_STR(pwd, want_top);
        CHECK_STR(tmpdir, want_top);
        CHECK_STR(scratch, "from-the-build-dir");
        _cleanup_free_ char *nnp = status_line(status, "NoNewPrivs:");
        _cleanup_free_ char *seccomp = status_line(status, "Seccomp:");
        _cleanup_free_ char *capeff = status_line(status, "CapEff:");
        _cleanup_free_ char *capprm = status_line(status, "CapPrm:");
        CHECK_STR(nnp, "1");
        CHECK_STR(seccomp, "2");
        CHECK_STR(capeff, "0000000000000000");
        CHECK_STR(capprm, "0000000000000000");

        _cleanup_free_ char *real_store = xasprintf("%s%s", e.root, e.store_dir);
        if (real_root()) {
                /* a member of the build group, never root, with the build
                 * group as its only group */
                struct group *g = getgrnam("nixbld");
                CHECK(g);
                CHECK(strcmp(uid, "0") != 0);
                CHECK_INT(atol(gid), ==, g->gr_gid);
                _cleanup_free_ char *want_groups = xasprintf("%u", (unsigned)g->gr_gid);
                CHECK_STR(groups, want_groups);
                bool member = false;
                for (char **m = g->gr_mem; *m; m++) {
                        _cleanup_free_ char *cmd = xasprintf("%s", *m);
                        char *iargv[] = {"/usr/bin/id", "-u", cmd, NULL};
                        CHECK_OK(tap_run(iargv, NULL, 10, &r));
                        chomp(r.out);
                        member |= strcmp(r.out, uid) == 0;
                        tap_run_result_free(&r);
                }
                CHECK(member);
                /* the store directory cannot be listed by the build group
                 * (seed 000): 1735 root:nixbld */
                CHECK_STR(list, "refused");
                CHECK(stat(real_store, &st) == 0);
                CHECK_INT(st.st_mode & 07777, ==, 01735);
                CHECK_INT(st.st_uid, ==, 0);
                CHECK_INT(st.st_gid, ==, g->gr_gid);
                _cleanup_free_ char *capbnd = status_line(status, "CapBnd:");
                CHECK_STR(capbnd, "0000000000000000");
        } else {
                /* as the caller, as Nix single-user */
                _cleanup_free_ char *me = xasprintf("%u", (unsigned)getuid());
                CHECK_STR(uid, me);
                if (getuid() == 0) {
                        /* root of a user namespace: its bounding set emptied */
                        _cleanup_free_ char *capbnd = status_line(status, "CapBnd:");
                        CHECK_STR(capbnd, "0000000000000000");
                }
        }
        check_tmpdir_empty(&e);
        teardown(&e);
}

/* Is pid alive and a sleep of ours (its command line, NULs as spaces)? */
static bool sleep_alive(pid_t pid)
{
        _cleanup_free_ char *cmdline = tap_proc_cmdline(pid);
        return cmdline && strstr(cmdline, "sleep 60") != NULL;
}

/* A daemon started by the builder (a new session, its parent gone) does not
 * outlive the build. The daemon is one sleep, bounded in time itself. */
TEST_TIMEOUT(nosandbox_processes_end_with_the_build, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv =
            add_drv(&e, "daemon",
                    "mkdir $out; "
                    "busybox setsid busybox sh -c 'echo $$ > '$out'/pid.tmp; "
                    "mv '$out'/pid.tmp '$out'/pid; exec busybox sleep 60' & "
                    "while [ ! -e $out/pid ]; do busybox usleep 10000; done; "
                    "echo started",
                    NULL, NULL);
        _cleanup_free_ char *out = out_path(drv);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        build_ok(&e, "false", drv);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        /* the build ends with its builder, not when the daemon would */
        CHECK_INT(t1.tv_sec - t0.tv_sec, <, 30);
        _cleanup_free_ char *pid = out_file(out, "pid");
        pid_t p = (pid_t)atol(pid);
        CHECK(p > 1);
        /* gone (or, at worst, a new unrelated process: not our sleep) */
        if (sleep_alive(p)) {
                kill(p, SIGKILL);
                FAIL("the builder's daemon %d survived the build", (int)p);
        }
        check_tmpdir_empty(&e);
        teardown(&e);
}

/* A time limit kills PID 1 from outside: the helper, a subreaper too, ends
 * what PID 1 leaves. */
TEST_TIMEOUT(nosandbox_timeout_kills_everything, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drop = xasprintf("%s/drop", e.tmp);
        CHECK(mkdir(drop, 0777) == 0 && chmod(drop, 0777) == 0);
        _cleanup_free_ char *script =
            xasprintf("busybox setsid busybox sh -c 'echo $$ > %s/pid.tmp; mv %s/pid.tmp %s/pid; "
                      "exec busybox sleep 60' & busybox sleep 60",
                      drop, drop, drop);
        _cleanup_free_ char *drv = add_drv(&e, "hang", script, NULL, NULL);
        struct tap_run_result r;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK_INT(build(&e, "false", "--timeout=2", drv, &r), ==, 101);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        tap_run_result_free(&r);
        CHECK_INT(t1.tv_sec - t0.tv_sec, <, 30);
        _cleanup_free_ char *pidfile = xasprintf("%s/pid", drop);
        _cleanup_free_ char *pid = tap_read_file(pidfile);
        CHECK(pid);
        if (sleep_alive(atoi(pid))) {
                kill(atoi(pid), SIGKILL);
                FAIL("the builder's daemon %d survived the build", atoi(pid));
        }
        check_tmpdir_empty(&e);
        teardown(&e);
}

/* cloister itself killed with SIGKILL mid-build: the reaper dies with it and
 * PID 1, told by its parent-death signal, ends the builder and its daemon. */
TEST_TIMEOUT(nosandbox_cloister_killed_leaves_nothing, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drop = xasprintf("%s/drop", e.tmp);
        CHECK(mkdir(drop, 0777) == 0 && chmod(drop, 0777) == 0);
        _cleanup_free_ char *script = xasprintf(
            "busybox setsid busybox sh -c 'echo $$ > %s/pid.tmp; mv %s/pid.tmp %s/pid; "
            "exec busybox sleep 60' & echo $$ > %s/builder.tmp; mv %s/builder.tmp %s/builder; "
            "exec busybox sleep 60",
            drop, drop, drop, drop, drop, drop);
        _cleanup_free_ char *drv = add_drv(&e, "killed", script, NULL, NULL);
        pid_t c = fork();
        CHECK(c >= 0);
        if (c == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(null, 1);
                dup2(null, 2);
                execl(e.cloister, e.cloister, "build", "--store", e.root, "--store-dir",
                      e.store_dir, "--option", "sandbox", "false", drv, (char *)NULL);
                _exit(127);
        }
        _cleanup_free_ char *pidfile = xasprintf("%s/pid", drop);
        _cleanup_free_ char *builderfile = xasprintf("%s/builder", drop);
        char *pid = NULL, *builder = NULL;
        for (int i = 0; i < 600 && (!pid || !builder); i++) {
                if (!pid)
                        pid = tap_read_file(pidfile);
                if (!builder)
                        builder = tap_read_file(builderfile);
                if (!pid || !builder)
                        usleep(50 * 1000);
        }
        CHECK(kill(c, SIGKILL) == 0);
        int st;
        CHECK(waitpid(c, &st, 0) == c);
        if (!pid || !builder)
                FAIL("the builder did not start");
        pid_t daemon = atoi(pid), b = atoi(builder);
        /* the builder's sleep replaced it: "sleep 60" under either pid */
        bool alive = true;
        for (int i = 0; i < 200 && alive; i++) {
                alive = sleep_alive(daemon) || sleep_alive(b);
                if (alive)
                        usleep(50 * 1000);
        }
        if (alive) {
                kill(daemon, SIGKILL);
                kill(b, SIGKILL);
                FAIL("the build's processes %d, %d survived cloister", (int)b, (int)daemon);
        }
        free(pid);
        free(builder);
        teardown(&e);
}

TEST_TIMEOUT(nosandbox_failure_leaves_nothing, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv = add_drv(
            &e, "fails", "mkdir $out; echo partial > $out/f; echo dying; exit 3", NULL, NULL);
        _cleanup_free_ char *out = out_path(drv);
        struct tap_run_result r;
        CHECK_INT(build(&e, "false", NULL, drv, &r), ==, 100);
        CHECK(strstr(r.err, "exit code 3"));
        CHECK(strstr(r.err, "dying"));
        tap_run_result_free(&r);
        struct stat st;
        CHECK(lstat(out, &st) < 0 && errno == ENOENT);
        check_tmpdir_empty(&e);

        /* -K keeps the build directory and says where */
        CHECK_INT(build(&e, "false", "-K", drv, &r), ==, 100);
        _cleanup_free_ char *kept = xasprintf("%s/nix-build-fails.drv-0/build", e.tmpdir);
        if (!strstr(r.err, kept))
                FAIL("'%s' not named in:\n%s", kept, r.err);
        tap_run_result_free(&r);
        CHECK(lstat(kept, &st) == 0 && S_ISDIR(st.st_mode));
        CHECK(lstat(out, &st) < 0 && errno == ENOENT);
        teardown(&e);
}

/* A store whose logical directory is not its physical one is refused: the
 * builder could not reach its output (Nix sandboxes such a store). */
TEST_TIMEOUT(nosandbox_diverted_store_refused, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv = add_drv(&e, "div", "echo x > $out", NULL, NULL);
        CHECK(unlink(e.store_dir) == 0);
        CHECK(mkdir(e.store_dir, 0755) == 0);
        struct tap_run_result r;
        CHECK_INT(build(&e, "false", NULL, drv, &r), ==, 1);
        if (!strstr(r.err, "logical path"))
                FAIL("unexpected message: %s", r.err);
        tap_run_result_free(&r);
        check_tmpdir_empty(&e);
        teardown(&e);
}

/* sha256 of the flat file "fixed\n", in hex */
static char *fixed_hash(void)
{
        struct hash h;
        CHECK_OK(hash_buffer(HASH_SHA256, "fixed\n", 6, &h));
        char buf[HASH_STR_MAX];
        return strdup(hash_print(&h, HASH_BASE16, false, buf));
}

TEST_TIMEOUT(relaxed_fixed_output_and_nochroot_unsandboxed, 120)
{
        struct env e = {0};
        setup(&e);
        /* an ordinary derivation: in the sandbox */
        _cleanup_free_ char *plain =
            add_drv(&e, "plain", "mkdir $out; pwd > $out/pwd; ls $NIX_STORE > $out/ls", NULL, NULL);
        _cleanup_free_ char *plain_out = out_path(plain);
        build_ok(&e, "relaxed", plain);
        _cleanup_free_ char *pwd = out_file(plain_out, "pwd");
        CHECK_STR(pwd, "/build");

        /* __noChroot: unsandboxed under relaxed, refused under true */
        _cleanup_free_ char *nochroot =
            add_drv(&e, "nochroot", "mkdir $out; pwd > $out/pwd", ",\"__noChroot\":\"1\"", NULL);
        _cleanup_free_ char *nochroot_out = out_path(nochroot);
        struct tap_run_result r;
        CHECK_INT(build(&e, "true", NULL, nochroot, &r), ==, 1);
        if (!strstr(r.err, "has '__noChroot' set, but that's not allowed when 'sandbox' is 'true'"))
                FAIL("unexpected message: %s", r.err);
        tap_run_result_free(&r);
        build_ok(&e, "relaxed", nochroot);
        _cleanup_free_ char *pwd2 = out_file(nochroot_out, "pwd");
        _cleanup_free_ char *want = xasprintf("%s/nix-build-nochroot.drv-0/build", e.tmpdir);
        CHECK_STR(pwd2, want);
        /* valid now: nothing to build, so nothing to refuse (as Nix) */
        build_ok(&e, "true", nochroot);

        /* a fixed-output derivation: unsandboxed (it fails in the sandbox) */
        _cleanup_free_ char *h = fixed_hash();
        _cleanup_free_ char *outputs =
            xasprintf("{\"out\":{\"path\":\"\",\"hashAlgo\":\"sha256\",\"hash\":\"%s\"}}", h);
        _cleanup_free_ char *fod = add_drv(
            &e, "fod", "[ \"$NIX_BUILD_TOP\" != /build ]; echo fixed > $out", NULL, outputs);
        _cleanup_free_ char *fod_out = out_path(fod);
        CHECK_INT(build(&e, "true", NULL, fod, &r), ==, 100);
        tap_run_result_free(&r);
        build_ok(&e, "relaxed", fod);
        _cleanup_free_ char *content = tap_read_file(fod_out);
        CHECK_STR(content, "fixed\n");
        check_tmpdir_empty(&e);
        teardown(&e);
}

/* In the sandbox too, argv[0] is the builder's basename (Nix's). */
TEST_TIMEOUT(sandbox_builder_argv0_is_basename, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv = add_drv(
            &e, "argv0", "mkdir $out; tr '\\0' '\\n' < /proc/$$/cmdline | head -n 1 > $out/argv0",
            NULL, NULL);
        _cleanup_free_ char *out = out_path(drv);
        build_ok(&e, "true", drv);
        _cleanup_free_ char *argv0 = out_file(out, "argv0");
        CHECK_STR(argv0, "busybox");
        teardown(&e);
}
