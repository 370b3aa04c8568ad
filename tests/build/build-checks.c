/* build-checks: what `cloister build` checks and does after the builder, and
 * its bad input: canonical metadata (modes, mtime 1, owner, no xattrs),
 * refused outputs (writable, foreign owner, hard links from outside, special
 * files), the fixed-output network, a full disk, --check, and for every
 * failure its message, its exit code and that nothing is left behind (temp
 * dir, output path, database row, cgroup leaf, process). */
#include "base/base-cleanup.h"
#include "build/build-outputs.h"
#include "build/build-run.h"
#include "store/store-canon.h"
#include "store/store-db.h"
#include "store/store-hash.h"
#include "store/store-path.h"
#include "store/store-root.h"
#include "tap.h"
#include "build-test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

struct env {
        char *tmp;
        char *store;   /* --store ROOT */
        char *tmpdir;  /* TMPDIR of the cloister runs: must stay empty */
        char *busybox; /* its store path */
        char *cloister;
};

static void run_ok(char *const argv[], char **ret_out)
{
        _cleanup_free_ char *out = build_test_run_ok(argv);
        if (ret_out)
                *ret_out = TAKE_PTR(out);
}

/* The directories; the store itself is made by the first cloister command. */
static void setup_dirs(struct env *e)
{
        e->tmp = tap_mkdtemp();
        /* as root the build user mounts from below the root: it must be able to
         * traverse it, as it can /nix */
        CHECK(chmod(e->tmp, 0755) == 0);
        e->store = xasprintf("%s/root", e->tmp);
        e->tmpdir = xasprintf("%s/tmpdir", e->tmp);
        CHECK(mkdir(e->tmpdir, 0700) == 0);
        e->cloister = tap_build_path("src/cloister");
        build_test_copy_busybox(e->tmp);
}

static void add_busybox(struct env *e)
{
        _cleanup_free_ char *dir = xasprintf("%s/busybox", e->tmp);
        char *argv[] = {e->cloister, "store", "add", "--store", e->store, dir, NULL};
        run_ok(argv, &e->busybox);
}

static void setup(struct env *e)
{
        setup_dirs(e);
        add_busybox(e);
}

static void teardown(struct env *e)
{
        tap_rm_rf(e->tmp);
}

static char *drv_add_json(struct env *e, const char *name, const char *json)
{
        _cleanup_free_ char *file = xasprintf("%s/%s.json", e->tmp, name);
        tap_write_file(file, json, 0644);
        char *argv[] = {e->cloister, "drv", "add", "--store", e->store, file, NULL};
        char *drv = NULL;
        run_ok(argv, &drv);
        return drv;
}

/* A derivation with busybox sh -e -c script; extra is more JSON env entries
 * (",\"k\":\"v\""), input_drvs the inputDrvs object's contents. */
static char *add_drv(struct env *e, const char *name, const char *script, const char *extra,
                     const char *input_drvs)
{
        _cleanup_free_ char *json = xasprintf(
            "{\"name\":\"%s\",\"system\":\"x86_64-linux\",\"builder\":\"%s/bin/busybox\","
            "\"args\":[\"sh\",\"-e\",\"-c\",\"%s\"],"
            "\"env\":{\"builder\":\"%s/bin/busybox\",\"name\":\"%s\","
            "\"system\":\"x86_64-linux\",\"out\":\"\"%s},"
            "\"outputs\":{\"out\":{\"path\":\"\"}},\"inputSrcs\":[\"%s\"],\"inputDrvs\":{%s}}",
            name, e->busybox, script, e->busybox, name, extra ? extra : "", e->busybox,
            input_drvs ? input_drvs : "");
        return drv_add_json(e, name, json);
}

/* A fixed-output derivation of the 3 bytes "hi\n" (flat sha256), its path
 * computed here as the evaluator does. */
static char *add_fod_hi(struct env *e, const char *name, const char *script)
{
        static const char hex[] =
            "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4";
        struct hash h;
        struct cl_error err = {0};
        CHECK_OK(hash_parse_digits(hex, strlen(hex), HASH_SHA256, &h, &err));
        struct store_path sp;
        CHECK_OK(store_make_fixed_path("/nix/store", name, STORE_CA_FLAT, &h, NULL, 0, false, &sp,
                                       &err));
        _cleanup_free_ char *json =
            xasprintf("{\"name\":\"%s\",\"system\":\"x86_64-linux\",\"builder\":\"%s/bin/busybox\","
                      "\"args\":[\"sh\",\"-e\",\"-c\",\"%s\"],"
                      "\"env\":{\"name\":\"%s\",\"impureEnvVars\":\"CL_TEST_IMPURE\","
                      "\"out\":\"/nix/store/%s\"},"
                      "\"outputs\":{\"out\":{\"path\":\"/nix/store/%s\",\"hashAlgo\":\"sha256\","
                      "\"hash\":\"%s\"}},\"inputSrcs\":[\"%s\"],\"inputDrvs\":{}}",
                      name, e->busybox, script, name, sp.base, sp.base, hex, e->busybox);
        return drv_add_json(e, name, json);
}

/* The output path "out" of a .drv in the store. */
static char *out_path(struct env *e, const char *drv)
{
        _cleanup_free_ char *file = xasprintf("%s%s", e->store, drv);
        return build_test_drv_out(file);
}

static char *phys(struct env *e, const char *path)
{
        return xasprintf("%s%s", e->store, path);
}

struct run {
        int code;
        pid_t pid; /* of the cloister process */
        char *out, *err;
};

static void run_free(struct run *r)
{
        free(r->out);
        free(r->err);
}

/* cloister ARGS... with TMPDIR=e->tmpdir, through a shell that prints the
 * pid cloister will have (exec keeps it) for the cgroup check. */
static void run_cloister(struct env *e, const char *const *args, struct run *res)
{
        char *argv[32] = {"/bin/sh", "-c", "echo cloister-pid=$$ >&2; TMPDIR=\"$0\" exec \"$@\"",
                          e->tmpdir, e->cloister};
        size_t n = 5;
        for (; *args; args++) {
                CHECK(n < ELEMENTSOF(argv) - 1);
                argv[n++] = (char *)*args;
        }
        argv[n] = NULL;
        struct tap_run_result r;
        CHECK_OK(tap_run(argv, NULL, 120, &r));
        res->code = tap_exit_code(r.status);
        res->out = r.out;
        int pid = 0;
        CHECK(sscanf(r.err, "cloister-pid=%d\n", &pid) == 1);
        res->pid = pid;
        res->err = strdup(strchr(r.err, '\n') + 1);
        free(r.err);
}

static void build(struct env *e, const char *drv, struct run *res)
{
        const char *args[] = {"build", "--store", e->store, drv, NULL};
        run_cloister(e, args, res);
}

static void build_ok(struct env *e, const char *drv)
{
        struct run r;
        build(e, drv, &r);
        if (r.code != 0)
                FAIL("build '%s': exit %d: %s", drv, r.code, r.err);
        run_free(&r);
}

static void expect_in(const char *haystack, const char *needle)
{
        if (!strstr(haystack, needle))
                FAIL("'%s' is not in:\n%s", needle, haystack);
}

/* How many ValidPaths rows name path. */
static int db_rows(struct env *e, const char *path)
{
        _cleanup_free_ char *file = xasprintf("%s/nix/var/nix/db/db.sqlite", e->store);
        sqlite3 *db = NULL;
        if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
                FAIL("open '%s': %s", file, db ? sqlite3_errmsg(db) : "?");
        sqlite3_busy_timeout(db, 10000);
        sqlite3_stmt *st = NULL;
        CHECK(sqlite3_prepare_v2(db, "select count(*) from ValidPaths where path = ?", -1, &st,
                                 NULL) == SQLITE_OK);
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        CHECK(sqlite3_step(st) == SQLITE_ROW);
        int n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return n;
}

/* The cgroup directories this process is in (cloister makes its leaves in
 * the same ones), v1 and v2. */
static void check_no_cgroup_leaf(pid_t pid)
{
        FILE *f = fopen("/proc/self/cgroup", "re");
        CHECK(f);
        char line[1024];
        _cleanup_free_ char *prefix = xasprintf("cloister-%d-", (int)pid);
        while (fgets(line, sizeof(line), f)) {
                chomp(line);
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = '\0';
                const char *ctrls = c1 + 1, *rel = c2 + 1;
                if (strncmp(ctrls, "name=", 5) == 0)
                        ctrls += 5;
                _cleanup_free_ char *d1 = *ctrls ? xasprintf("/sys/fs/cgroup/%s%s", ctrls, rel)
                                                 : xasprintf("/sys/fs/cgroup/unified%s", rel);
                _cleanup_free_ char *d2 = *ctrls ? NULL : xasprintf("/sys/fs/cgroup%s", rel);
                const char *dirs[] = {d1, d2};
                for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                        DIR *d = dirs[i] ? opendir(dirs[i]) : NULL;
                        if (!d)
                                continue;
                        struct dirent *de;
                        while ((de = readdir(d)))
                                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                                        FAIL("cgroup leaf '%s/%s' left behind", dirs[i],
                                             de->d_name);
                        closedir(d);
                }
        }
        fclose(f);
}

/* No process has marker in its command line (a builder's shell and its
 * forks carry the script there). */
static void check_no_process(const char *marker)
{
        DIR *d = opendir("/proc");
        CHECK(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                _cleanup_free_ char *cmdline = tap_proc_cmdline(atoi(de->d_name));
                if (cmdline && strstr(cmdline, marker))
                        FAIL("process %s of the build is still running", de->d_name);
        }
        closedir(d);
}

/* After a failed build: no build or temp directory, no output path, no
 * staging or lock debris in the store, no database row, no cgroup leaf of
 * that cloister process, no process of the builder (marker: a string in its
 * script, or NULL). */
static void check_nothing_left(struct env *e, const struct run *r, const char *out,
                               const char *marker)
{
        _cleanup_free_ char *builds = xasprintf("%s/nix/var/nix/builds", e->store);
        build_test_check_dir_empty(builds, "build directory");
        build_test_check_dir_empty(e->tmpdir, "temporary file");
        if (out) {
                _cleanup_free_ char *p = phys(e, out);
                struct stat st;
                if (lstat(p, &st) == 0)
                        FAIL("output '%s' left in the store", out);
                CHECK_INT(db_rows(e, out), ==, 0);
        }
        _cleanup_free_ char *store = xasprintf("%s/nix/store", e->store);
        DIR *d = opendir(store);
        CHECK(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if ((n > 15 && strcmp(de->d_name + n - 15, "-cloister-stage") == 0) ||
                    (n > 5 && strcmp(de->d_name + n - 5, ".lock") == 0))
                        FAIL("'%s' left in the store", de->d_name);
        }
        closedir(d);
        check_no_cgroup_leaf(r->pid);
        if (marker)
                check_no_process(marker);
}

/* ---- canonical metadata ---- */

static void check_canonical(const char *path, const char *rel, int depth)
{
        struct stat st;
        CHECK(lstat(path, &st) == 0);
        if (st.st_uid != geteuid() || st.st_gid != getegid())
                FAIL("'%s' is owned by %u:%u, not %u:%u", rel, (unsigned)st.st_uid,
                     (unsigned)st.st_gid, (unsigned)geteuid(), (unsigned)getegid());
        if (st.st_mtime != 1)
                FAIL("'%s' has mtime %lld, not 1", rel, (long long)st.st_mtime);
        if (!S_ISLNK(st.st_mode)) {
                mode_t perm = st.st_mode & 07777;
                if (perm != 0444 && perm != 0555)
                        FAIL("'%s' has mode %04o", rel, (unsigned)perm);
                char list[256];
                ssize_t n = llistxattr(path, list, sizeof(list));
                if (n > 0)
                        FAIL("'%s' has extended attributes ('%s')", rel, list);
        }
        if (!S_ISDIR(st.st_mode))
                return;
        CHECK(depth < 16);
        DIR *d = opendir(path);
        CHECK(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *sub = xasprintf("%s/%s", path, de->d_name);
                _cleanup_free_ char *subrel = xasprintf("%s/%s", rel, de->d_name);
                check_canonical(sub, subrel, depth + 1);
        }
        closedir(d);
}

static mode_t mode_of(struct env *e, const char *out, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s%s/%s", e->store, out, rel);
        struct stat st;
        CHECK(lstat(p, &st) == 0);
        return st.st_mode & 07777;
}

TEST_TIMEOUT(outputs_canonical_after_build, 120)
{
        struct env e = {0};
        setup(&e);
        /* modes to reset (0600, 0755, 0700, a nested group-writable file and
         * directory: only the output itself must not be writable by others),
         * symlinks, a hard link inside the output */
        _cleanup_free_ char *drv =
            add_drv(&e, "canon",
                    "mkdir -p $out/d/sub $out/gw; echo a > $out/a; chmod 0600 $out/a; "
                    "echo x > $out/d/x; chmod 0755 $out/d/x; chmod 0700 $out/d/sub; "
                    "echo g > $out/gw/g; chmod 0664 $out/gw/g; chmod 0775 $out/gw; "
                    "ln $out/a $out/a-link; ln -s a $out/sym; ln -s /nowhere $out/dangling",
                    NULL, NULL);
        _cleanup_free_ char *out = out_path(&e, drv);
        build_ok(&e, drv);
        _cleanup_free_ char *p = phys(&e, out);
        /* every file: owner the caller (root:root as root), mtime 1, 0444 or
         * 0555, no xattrs */
        check_canonical(p, out, 0);
        CHECK_INT(mode_of(&e, out, "a"), ==, 0444);
        CHECK_INT(mode_of(&e, out, "d/x"), ==, 0555);
        CHECK_INT(mode_of(&e, out, "d/sub"), ==, 0555);
        CHECK_INT(mode_of(&e, out, "gw"), ==, 0555);
        CHECK_INT(mode_of(&e, out, "gw/g"), ==, 0444);
        CHECK_INT(mode_of(&e, out, "sym"), ==, 0777);
        /* the hard link inside the output is allowed and stays one */
        _cleanup_free_ char *a = xasprintf("%s/a", p), *al = xasprintf("%s/a-link", p);
        struct stat s1, s2;
        CHECK(lstat(a, &s1) == 0 && lstat(al, &s2) == 0);
        CHECK(s1.st_ino == s2.st_ino);
        teardown(&e);
}

/* Hard links between the outputs of one build are the builder's own too (Nix
 * shares its inodes-seen set between the outputs). */
TEST_TIMEOUT(hard_link_between_outputs_allowed, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *json = xasprintf(
            "{\"name\":\"two\",\"system\":\"x86_64-linux\",\"builder\":\"%s/bin/busybox\","
            "\"args\":[\"sh\",\"-e\",\"-c\",\"mkdir $out $dev; echo x > $out/x; ln $out/x "
            "$dev/x\"],"
            "\"env\":{\"name\":\"two\",\"out\":\"\",\"dev\":\"\",\"outputs\":\"out dev\"},"
            "\"outputs\":{\"out\":{\"path\":\"\"},\"dev\":{\"path\":\"\"}},"
            "\"inputSrcs\":[\"%s\"],\"inputDrvs\":{}}",
            e.busybox, e.busybox);
        _cleanup_free_ char *drv = drv_add_json(&e, "two", json);
        _cleanup_free_ char *out = out_path(&e, drv);
        build_ok(&e, drv);
        _cleanup_free_ char *p = phys(&e, out);
        check_canonical(p, out, 0);
        teardown(&e);
}

/* Nix 2.8 accepts an output that is a dangling symlink (a NAR symlink), and
 * a store path named in an output but outside the input closure is no
 * reference (only the closure and the outputs are scanned for). */
TEST_TIMEOUT(dangling_output_and_outside_path, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv =
            add_drv(&e, "dangling", "ln -s /nonexistent/target $out", NULL, NULL);
        _cleanup_free_ char *out = out_path(&e, drv);
        build_ok(&e, drv);
        _cleanup_free_ char *p = phys(&e, out);
        char target[64];
        ssize_t n = readlink(p, target, sizeof(target) - 1);
        CHECK(n > 0);
        target[n] = '\0';
        CHECK_STR(target, "/nonexistent/target");
        CHECK_INT(db_rows(&e, out), ==, 1);
        /* a valid path of the store that is not an input */
        _cleanup_free_ char *src = xasprintf("%s/outside", e.tmp);
        tap_write_file(src, "outside\n", 0644);
        char *argv[] = {e.cloister, "store", "add", "--store", e.store, src, NULL};
        _cleanup_free_ char *outside = NULL;
        run_ok(argv, &outside);
        _cleanup_free_ char *script = xasprintf("echo %s > $out; echo $out >> $out", outside);
        _cleanup_free_ char *drv2 = add_drv(&e, "mentions", script, NULL, NULL);
        _cleanup_free_ char *out2 = out_path(&e, drv2);
        build_ok(&e, drv2);
        char *qargv[] = {e.cloister, "store",        "query", "--store",
                         e.store,    "--references", out2,    NULL};
        _cleanup_free_ char *refs = NULL;
        run_ok(qargv, &refs);
        CHECK_STR(refs, out2); /* itself, not the outside path */
        teardown(&e);
}

/* A file owned by someone else is given to us with our group too; user
 * xattrs go, also from a read-only file; modes and mtime. At unit level: a
 * builder cannot set xattrs (the seccomp filter refuses setxattr). */
TEST(canonicalise_xattrs_owner_modes)
{
        _cleanup_free_ char *tmp = tap_mkdtemp();
        _cleanup_free_ char *top = xasprintf("%s/obj", tmp);
        _cleanup_free_ char *f = xasprintf("%s/obj/f", tmp);
        _cleanup_free_ char *ro = xasprintf("%s/obj/ro", tmp);
        CHECK(mkdir(top, 0755) == 0);
        tap_write_file(f, "f\n", 0640);
        tap_write_file(ro, "ro\n", 0644);
        int set = setxattr(f, "user.cloister-test", "1", 1, 0);
        if (set < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
                tap_skip("the file system of '%s' has no user extended attributes", tmp);
        CHECK(set == 0);
        CHECK(setxattr(ro, "user.cloister-test", "2", 1, 0) == 0);
        CHECK(setxattr(top, "user.cloister-test", "3", 1, 0) == 0);
        CHECK(chmod(ro, 0444) == 0);
        bool chowned = false;
        if (real_root()) {
                /* as a build user's file is: another owner and group */
                CHECK(lchown(f, 30001, 30000) == 0);
                chowned = true;
        }
        _cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0);
        struct cl_error err = {0};
        if (store_canonicalise_at(fd, "obj", &err) < 0)
                FAIL("canonicalise: %s", err.msg);
        check_canonical(top, "obj", 0);
        if (chowned)
                tap_diag("a file of 30001:30000 became %u:%u", (unsigned)geteuid(),
                         (unsigned)getegid());
        tap_rm_rf(tmp);
}

/* The same through `cloister store add`: the stored copy has no xattrs. */
TEST_TIMEOUT(store_add_drops_xattrs, 60)
{
        struct env e = {0};
        setup_dirs(&e);
        _cleanup_free_ char *src = xasprintf("%s/src", e.tmp);
        _cleanup_free_ char *file = xasprintf("%s/src/file", e.tmp);
        CHECK(mkdir(src, 0755) == 0);
        tap_write_file(file, "x\n", 0644);
        if (setxattr(file, "user.cloister-test", "1", 1, 0) < 0) {
                CHECK(errno == ENOTSUP || errno == EOPNOTSUPP);
                tap_skip("the file system of '%s' has no user extended attributes", e.tmp);
        }
        char *argv[] = {e.cloister, "store", "add", "--store", e.store, src, NULL};
        _cleanup_free_ char *path = NULL;
        run_ok(argv, &path);
        _cleanup_free_ char *p = phys(&e, path);
        check_canonical(p, path, 0);
        teardown(&e);
}

/* ---- refused outputs ---- */

TEST_TIMEOUT(writable_output_refused, 120)
{
        struct env e = {0};
        setup(&e);
        static const struct {
                const char *name, *script;
        } cases[] = {
            {"group-writable", "echo hi > $out; chmod 0664 $out"},
            {"world-writable", "mkdir $out; chmod 0757 $out"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *drv = add_drv(&e, cases[i].name, cases[i].script, NULL, NULL);
                _cleanup_free_ char *out = out_path(&e, drv);
                struct run r;
                build(&e, drv, &r);
                CHECK_INT(r.code, ==, 100);
                expect_in(r.err, "suspicious ownership or permission on");
                expect_in(r.err, out);
                expect_in(r.err, "not group- or world-writable");
                check_nothing_left(&e, &r, out, NULL);
                run_free(&r);
        }
        teardown(&e);
}

/* A scratch store directory with one output "x-out" for the unit checks. */
struct scratch {
        char *dir;
        int fd;
};

static void scratch_new(struct scratch *s)
{
        s->dir = tap_mkdtemp();
        s->fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(s->fd >= 0);
}

static void scratch_free(struct scratch *s)
{
        close(s->fd);
        tap_rm_rf(s->dir);
        free(s->dir);
}

static int check_tree(struct scratch *s, uid_t uid, enum build_status *st, struct cl_error *err)
{
        const char *names[] = {"out"}, *paths[] = {"/nix/store/x-out"};
        return build_outputs_check_tree(s->fd, "/nix/store/x.drv", names, paths, 1, uid, st, err);
}

TEST(output_not_owned_by_builder_refused)
{
        struct scratch s;
        scratch_new(&s);
        _cleanup_free_ char *out = xasprintf("%s/x-out", s.dir);
        _cleanup_free_ char *f = xasprintf("%s/x-out/f", s.dir);
        CHECK(mkdir(out, 0755) == 0);
        tap_write_file(f, "f\n", 0644);
        struct cl_error err = {0};
        enum build_status st;
        /* ours: fine */
        if (check_tree(&s, geteuid(), &st, &err) < 0)
                FAIL("check: %s", err.msg);
        /* the output itself owned by someone other than the builder */
        CHECK_INT(check_tree(&s, geteuid() + 1, &st, &err), ==, -EPERM);
        CHECK_INT(st, ==, BUILD_FAILED);
        expect_in(err.msg, "suspicious ownership or permission on '/nix/store/x-out'");
        /* a file inside it owned by someone else (root can make one) */
        if (real_root()) {
                CHECK(lchown(f, 12345, 12345) == 0);
                CHECK_INT(check_tree(&s, geteuid(), &st, &err), ==, -EPERM);
                CHECK_INT(st, ==, BUILD_FAILED);
                expect_in(err.msg, "invalid ownership on file '/nix/store/x-out/f'");
        } else {
                tap_diag("a foreign file inside the output needs root to be made: checked as "
                         "root");
        }
        scratch_free(&s);
}

TEST(hard_link_from_outside_refused)
{
        struct scratch s;
        scratch_new(&s);
        _cleanup_free_ char *out = xasprintf("%s/x-out", s.dir);
        _cleanup_free_ char *a = xasprintf("%s/x-out/a", s.dir);
        _cleanup_free_ char *b = xasprintf("%s/x-out/b", s.dir);
        _cleanup_free_ char *other = xasprintf("%s/not-the-builders", s.dir);
        _cleanup_free_ char *f = xasprintf("%s/x-out/f", s.dir);
        CHECK(mkdir(out, 0755) == 0);
        tap_write_file(a, "a\n", 0644);
        CHECK(link(a, b) == 0);
        struct cl_error err = {0};
        enum build_status st;
        /* links inside the output are fine, and between two outputs */
        if (check_tree(&s, geteuid(), &st, &err) < 0)
                FAIL("check: %s", err.msg);
        _cleanup_free_ char *dev = xasprintf("%s/x-dev", s.dir);
        _cleanup_free_ char *c = xasprintf("%s/x-dev/c", s.dir);
        CHECK(mkdir(dev, 0755) == 0);
        CHECK(link(a, c) == 0);
        const char *names[] = {"out", "dev"}, *paths[] = {"/nix/store/x-out", "/nix/store/x-dev"};
        if (build_outputs_check_tree(s.fd, "/nix/store/x.drv", names, paths, 2, geteuid(), &st,
                                     &err) < 0)
                FAIL("check of two outputs: %s", err.msg);
        /* but not when only one of them is checked */
        CHECK_INT(check_tree(&s, geteuid(), &st, &err), ==, -EPERM);
        CHECK(unlink(c) == 0);
        /* one to a file outside it is not */
        tap_write_file(other, "secret\n", 0600);
        CHECK(link(other, f) == 0);
        CHECK_INT(check_tree(&s, geteuid(), &st, &err), ==, -EPERM);
        CHECK_INT(st, ==, BUILD_FAILED);
        expect_in(err.msg, "hard link to a file the builder did not create");
        expect_in(err.msg, "'/nix/store/x-out'");
        scratch_free(&s);
}

TEST(special_files_refused)
{
        /* (a fifo made by a builder: build-core's fifo_in_output; busybox has
         * nothing that leaves a socket behind) */
        /* fifo, socket, device (a 0:0 character device, which anyone may make:
         * the whiteout; as root also /dev/null's numbers) */
        static const char *const kinds[] = {"fifo", "socket", "whiteout", "null-device"};
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                if (strcmp(kinds[i], "null-device") == 0 && !real_root())
                        continue;
                struct scratch s;
                scratch_new(&s);
                _cleanup_free_ char *out = xasprintf("%s/x-out", s.dir);
                _cleanup_free_ char *f = xasprintf("%s/x-out/%s", s.dir, kinds[i]);
                CHECK(mkdir(out, 0755) == 0);
                if (strcmp(kinds[i], "fifo") == 0) {
                        CHECK(mkfifo(f, 0644) == 0);
                } else if (strcmp(kinds[i], "socket") == 0) {
                        /* a relative name: the temp path may be too long */
                        _cleanup_close_ int sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                        struct sockaddr_un sa = {.sun_family = AF_UNIX};
                        strcpy(sa.sun_path, "socket");
                        CHECK(sfd >= 0 && chdir(out) == 0);
                        CHECK(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
                        CHECK(chdir("/") == 0);
                } else {
                        dev_t dev =
                            strcmp(kinds[i], "whiteout") == 0 ? makedev(0, 0) : makedev(1, 3);
                        if (mknod(f, S_IFCHR | 0644, dev) < 0)
                                FAIL("mknod '%s': %s", f, strerror(errno));
                }
                struct cl_error err = {0};
                enum build_status st;
                CHECK_INT(check_tree(&s, geteuid(), &st, &err), ==, -EINVAL);
                CHECK_INT(st, ==, BUILD_FAILED);
                expect_in(err.msg, "not a regular file, directory or symlink");
                expect_in(err.msg, kinds[i]);
                /* canonicalisation refuses it too */
                CHECK_INT(store_canonicalise_at(s.fd, "x-out", &err), ==, -EINVAL);
                scratch_free(&s);
        }
}

/* ---- fixed-output network ---- */

/* Non-lo interfaces in the builder's network namespace, as a shell test. */
#define NET_COUNT "n=$(grep : /proc/net/dev | grep -v '^ *lo:' | wc -l); cat /proc/net/dev; "

TEST_TIMEOUT(fixed_output_network, 120)
{
        _cleanup_free_ char *host = tap_read_file("/proc/net/dev");
        CHECK(host);
        int host_ifaces = 0;
        for (char *l = strtok(host, "\n"); l; l = strtok(NULL, "\n")) {
                l += strspn(l, " ");
                if (strchr(l, ':') && strchr(l, '|') == NULL && strncmp(l, "lo:", 3) != 0)
                        host_ifaces++;
        }
        if (host_ifaces == 0)
                tap_skip("the host has no network interface but lo");
        struct env e = {0};
        setup(&e);
        setenv("CL_TEST_IMPURE", "passed", 1);
        /* a FOD: the host's interfaces, resolver files, impureEnvVars */
        _cleanup_free_ char *fod =
            add_fod_hi(&e, "fod-net",
                       NET_COUNT "[ $n -gt 0 ]; [ -s /etc/resolv.conf ]; [ -s /etc/services ]; "
                                 "[ \\\"$CL_TEST_IMPURE\\\" = passed ]; echo hi > $out");
        build_ok(&e, fod);
        /* with fixed-output-network none: lo alone */
        _cleanup_free_ char *fod2 =
            add_fod_hi(&e, "fod-nonet", NET_COUNT "[ $n -eq 0 ]; echo hi > $out");
        struct run r;
        const char *args[] = {"build", "--store", e.store, "--option", "fixed-output-network",
                              "none",  fod2,      NULL};
        run_cloister(&e, args, &r);
        if (r.code != 0)
                FAIL("build with fixed-output-network none: exit %d: %s", r.code, r.err);
        run_free(&r);
        /* and it must fail where the network is there: the same builder with
         * the host network is refused (the test can fail) */
        _cleanup_free_ char *fod3 =
            add_fod_hi(&e, "fod-nonet-host", NET_COUNT "[ $n -eq 0 ]; echo hi > $out");
        build(&e, fod3, &r);
        CHECK_INT(r.code, ==, 100);
        run_free(&r);
        /* not a FOD: lo alone, no resolver files, no impure variables */
        _cleanup_free_ char *drv =
            add_drv(&e, "no-net",
                    NET_COUNT "[ $n -eq 0 ]; [ ! -e /etc/resolv.conf ]; [ ! -e /etc/services ]; "
                              "[ -z \\\"${CL_TEST_IMPURE+set}\\\" ]; echo ok > $out",
                    ",\"impureEnvVars\":\"CL_TEST_IMPURE\"", NULL);
        build_ok(&e, drv);
        teardown(&e);
}

/* ---- bad input ---- */

TEST_TIMEOUT(bad_derivations, 120)
{
        struct env e = {0};
        setup(&e);
        struct run r;
        /* not valid: no such path */
        const char *missing = "/nix/store/00000000000000000000000000000000-x.drv";
        build(&e, missing, &r);
        CHECK_INT(r.code, ==, 1);
        expect_in(r.err, "derivation '/nix/store/00000000000000000000000000000000-x.drv' is not "
                         "valid in the store");
        check_nothing_left(&e, &r, NULL, NULL);
        run_free(&r);
        /* not valid: a file at the path the database does not know */
        _cleanup_free_ char *good = add_drv(&e, "good", "echo hi > $out", NULL, NULL);
        _cleanup_free_ char *good_phys = phys(&e, good);
        _cleanup_free_ char *text = tap_read_file(good_phys);
        CHECK(text);
        const char *planted = "/nix/store/11111111111111111111111111111111-planted.drv";
        _cleanup_free_ char *planted_phys = phys(&e, planted);
        tap_write_file(planted_phys, text, 0444);
        build(&e, planted, &r);
        CHECK_INT(r.code, ==, 1);
        expect_in(r.err, "is not valid in the store");
        check_nothing_left(&e, &r, NULL, NULL);
        run_free(&r);
        /* valid, but no longer a derivation (damaged on disk) */
        CHECK(chmod(good_phys, 0644) == 0);
        tap_write_file(good_phys, "Derive(this is not one", 0444);
        build(&e, good, &r);
        CHECK_INT(r.code, ==, 1);
        _cleanup_free_ char *named = xasprintf("derivation '%s'", good);
        expect_in(r.err, named);
        check_nothing_left(&e, &r, NULL, NULL);
        run_free(&r);
        teardown(&e);
}

TEST_TIMEOUT(bad_builds_leave_nothing, 120)
{
        struct env e = {0};
        setup(&e);
        /* each failing after starting a background process that would live on */
        static const struct {
                const char *name, *script, *message;
        } cases[] = {
            {"fails", "(while :; do sleep 1; done; : fails-marker) & echo last words; exit 7",
             "failed with exit code 7"},
            {"no-output", "(while :; do sleep 1; done; : no-output-marker) & true",
             "failed to produce output path for output 'out'"},
            {"killed", "(while :; do sleep 1; done; : killed-marker) & kill -9 $$",
             "failed due to signal 9"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *drv = add_drv(&e, cases[i].name, cases[i].script, NULL, NULL);
                _cleanup_free_ char *out = out_path(&e, drv);
                _cleanup_free_ char *marker = xasprintf("%s-marker", cases[i].name);
                struct run r;
                build(&e, drv, &r);
                CHECK_INT(r.code, ==, 100);
                expect_in(r.err, cases[i].message);
                expect_in(r.err, drv);
                check_nothing_left(&e, &r, out, marker);
                run_free(&r);
        }
        /* a builder that does not exist */
        _cleanup_free_ char *json =
            xasprintf("{\"name\":\"nob\",\"system\":\"x86_64-linux\",\"builder\":\"%s/bin/nope\","
                      "\"args\":[],\"env\":{\"name\":\"nob\",\"out\":\"\"},\"outputs\":{\"out\":{"
                      "\"path\":\"\"}},\"inputSrcs\":[\"%s\"],\"inputDrvs\":{}}",
                      e.busybox, e.busybox);
        _cleanup_free_ char *nob = drv_add_json(&e, "nob", json);
        _cleanup_free_ char *nob_out = out_path(&e, nob);
        struct run r;
        build(&e, nob, &r);
        CHECK_INT(r.code, ==, 100);
        expect_in(r.err, "bin/nope");
        expect_in(r.err, "No such file or directory");
        check_nothing_left(&e, &r, nob_out, NULL);
        run_free(&r);
        teardown(&e);
}

/* Inputs that are not valid: the CLI builds missing input derivations first
 * and `drv add` refuses invalid sources, so this is the library's own check,
 * called without the scheduler. */
TEST_TIMEOUT(inputs_not_valid, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *a = add_drv(&e, "a", "echo a > $out", NULL, NULL);
        _cleanup_free_ char *a_out = out_path(&e, a);
        _cleanup_free_ char *extra = xasprintf(",\"a\":\"%s\"", a_out);
        _cleanup_free_ char *inputs = xasprintf("\"%s\":[\"out\"]", a);
        _cleanup_free_ char *b = add_drv(&e, "b", "cat $a > $out", extra, inputs);
        _cleanup_free_ char *b_out = out_path(&e, b);
        struct build_settings settings;
        CHECK_OK(build_settings_init(&settings));
        struct cl_error err = {0};
        struct store_db_options o = {.root = e.store};
        _cleanup_store_db_ struct store_db *db = NULL;
        if (store_db_open(&o, &db, &err) < 0)
                FAIL("open: %s", err.msg);
        struct build_ctx ctx = {.db = db,
                                .root = e.store,
                                .settings = &settings,
                                .real_root = store_root_is_real_root(),
                                .term_fd = -1};
        struct build_result res;
        CHECK_INT(build_derivation(&ctx, b, false, &res, &err), <, 0);
        CHECK_INT(res.status, ==, BUILD_MISUSE);
        CHECK_INT(build_status_exit_code(res.status), ==, 1);
        _cleanup_free_ char *want =
            xasprintf("input '%s' of '%s' is not valid in the store", a_out, b);
        expect_in(err.msg, want);
        build_result_free(&res);
        build_settings_free(&settings);
        struct run r = {.pid = getpid()};
        check_nothing_left(&e, &r, b_out, NULL);
        teardown(&e);
}

/* ---- a full disk ---- */

static void write_proc(const char *file, const char *text)
{
        _cleanup_close_ int fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
                FAIL("write '%s' to '%s': %s", text, file, strerror(errno));
}

/* This test process into mount namespace of its own (as an unprivileged user
 * through a user namespace of its own, mapping it to root there), so that a
 * small tmpfs can be the store and goes away with it. */
static void enter_private_mounts(void)
{
        if (real_root()) {
                CHECK(unshare(CLONE_NEWNS) == 0);
        } else {
                char map[64];
                uid_t uid = geteuid();
                gid_t gid = getegid();
                if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                        tap_skip("no user namespace for a private tmpfs: %s", strerror(errno));
                write_proc("/proc/self/setgroups", "deny");
                snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
                write_proc("/proc/self/uid_map", map);
                snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
                write_proc("/proc/self/gid_map", map);
        }
        CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
}

static unsigned long long free_bytes(const char *path)
{
        struct statvfs sv;
        CHECK(statvfs(path, &sv) == 0);
        return (unsigned long long)sv.f_bavail * sv.f_frsize;
}

TEST_TIMEOUT(full_disk_during_build, 120)
{
        struct env e = {0};
        setup_dirs(&e);
        enter_private_mounts();
        CHECK(mkdir(e.store, 0755) == 0);
        /* room for the database's 8 MiB "reserved" file (Nix's
         * gc-reserved-space), busybox (2 MB) and the database, little more */
        if (mount("tmpfs", e.store, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755") < 0)
                FAIL("mount a tmpfs on '%s': %s", e.store, strerror(errno));
        add_busybox(&e);
        unsigned long long before = free_bytes(e.store);

        /* the builder fills the disk writing its output */
        _cleanup_free_ char *drv =
            add_drv(&e, "full",
                    "(while :; do sleep 1; done; : full-marker) & dd if=/dev/zero of=$out bs=65536",
                    NULL, NULL);
        _cleanup_free_ char *out = out_path(&e, drv);
        struct run r;
        build(&e, drv, &r);
        CHECK_INT(r.code, ==, 100);
        expect_in(r.err, "failed with exit code");
        expect_in(r.err, "No space left on device");
        _cleanup_free_ char *named =
            xasprintf("the file system of '%s/nix/var/nix/builds/", e.store);
        expect_in(r.err, named);
        tap_diag("%s", strstr(r.err, "cloister: ") ? strstr(r.err, "cloister: ") : r.err);
        check_nothing_left(&e, &r, out, "full-marker");
        /* the log: complete (where it fitted) or none, never half-written, and
         * the error sends nobody to a log that is not there */
        bool hint = strstr(r.err, "for the full log") != NULL;
        run_free(&r);
        const char *log[] = {"log", "--store", e.store, drv, NULL};
        run_cloister(&e, log, &r);
        CHECK_INT(r.code, ==, hint ? 0 : 1);
        if (hint)
                expect_in(r.out, "No space left on device");
        else
                expect_in(r.err, "no build log");
        run_free(&r);

        /* the builder succeeds but leaves the disk full: cloister's own
         * writes (the log, the database) fail; a system error, nothing kept */
        _cleanup_free_ char *drv2 =
            add_drv(&e, "full-after",
                    "echo hi > $out; dd if=/dev/zero of=/build/fill bs=65536 || true; echo filled",
                    NULL, NULL);
        _cleanup_free_ char *out2 = out_path(&e, drv2);
        build(&e, drv2, &r);
        CHECK_INT(r.code, ==, 1);
        expect_in(r.err, "No space left on device");
        expect_in(r.err, e.store);
        tap_diag("%s", strstr(r.err, "cloister: ") ? strstr(r.err, "cloister: ") : r.err);
        check_nothing_left(&e, &r, out2, NULL);
        run_free(&r);

        /* the space is back, the store is consistent and builds again */
        unsigned long long after = free_bytes(e.store);
        if (after + 256 * 1024 < before)
                FAIL("%llu bytes free before the builds, %llu after", before, after);
        const char *verify[] = {"store", "verify", "--check-contents", "--store", e.store, NULL};
        run_cloister(&e, verify, &r);
        if (r.code != 0)
                FAIL("store verify: exit %d: %s", r.code, r.err);
        run_free(&r);
        _cleanup_free_ char *drv3 = add_drv(&e, "small", "echo hi > $out", NULL, NULL);
        build_ok(&e, drv3);
        CHECK(umount2(e.store, MNT_DETACH) == 0);
        teardown(&e);
}

/* ---- --check ---- */

TEST_TIMEOUT(check_compares_builds, 120)
{
        struct env e = {0};
        setup(&e);
        struct run r;
        /* not built yet: nothing to compare with */
        _cleanup_free_ char *nd =
            add_drv(&e, "nd", "mkdir $out; cat /proc/sys/kernel/random/uuid > $out/f", NULL, NULL);
        _cleanup_free_ char *nd_out = out_path(&e, nd);
        const char *check_nd[] = {"build", "--store", e.store, "--check", nd, NULL};
        run_cloister(&e, check_nd, &r);
        CHECK_INT(r.code, ==, 1);
        expect_in(r.err, "not valid, so checking is not possible");
        run_free(&r);

        /* non-deterministic: 104, both paths named, the second output kept
         * beside the first (canonical, not registered), the first unchanged */
        build_ok(&e, nd);
        _cleanup_free_ char *p = xasprintf("%s%s/f", e.store, nd_out);
        _cleanup_free_ char *first = tap_read_file(p);
        CHECK(first);
        run_cloister(&e, check_nd, &r);
        CHECK_INT(r.code, ==, 104);
        expect_in(r.err, "may not be deterministic");
        expect_in(r.err, nd_out);
        _cleanup_free_ char *check_path = xasprintf("%s.check", nd_out);
        _cleanup_free_ char *named = xasprintf("'%s'", check_path);
        expect_in(r.err, named);
        check_nothing_left(&e, &r, NULL, NULL);
        run_free(&r);
        _cleanup_free_ char *cp = phys(&e, check_path);
        _cleanup_free_ char *cpf = xasprintf("%s/f", cp);
        _cleanup_free_ char *second = tap_read_file(cpf);
        _cleanup_free_ char *again = tap_read_file(p);
        CHECK(second && again);
        CHECK_STR(again, first);
        CHECK(strcmp(second, first) != 0);
        check_canonical(cp, check_path, 0);
        CHECK_INT(db_rows(&e, check_path), ==, 0);
        CHECK_INT(db_rows(&e, nd_out), ==, 1);
        const char *verify[] = {"store", "verify", "--check-contents", "--store", e.store, NULL};
        run_cloister(&e, verify, &r);
        if (r.code != 0)
                FAIL("store verify: exit %d: %s", r.code, r.err);
        run_free(&r);

        /* deterministic: 0, nothing kept */
        _cleanup_free_ char *det = add_drv(&e, "det", "mkdir $out; echo same > $out/f", NULL, NULL);
        _cleanup_free_ char *det_out = out_path(&e, det);
        build_ok(&e, det);
        const char *check_det[] = {"build", "--store", e.store, "--check", det, NULL};
        run_cloister(&e, check_det, &r);
        if (r.code != 0)
                FAIL("--check of a deterministic build: exit %d: %s", r.code, r.err);
        check_nothing_left(&e, &r, NULL, NULL);
        run_free(&r);
        _cleanup_free_ char *det_check = xasprintf("%s%s.check", e.store, det_out);
        struct stat st;
        CHECK(lstat(det_check, &st) < 0 && errno == ENOENT);
        teardown(&e);
}
