/* Mount namespace and pivot_root: the classic chroot escape stays inside,
 * builds can nest user and mount namespaces, nothing mounted inside shows up
 * on the host, and the mount options (--bind, --ro-bind, optional sources,
 * --tmpfs, --dir, --symlink, --chdir) do what they say. */
#include "probe-run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A process holding CAP_SYS_CHROOT in a user namespace of its own does
 * mkdir x; chroot x; chdir .. (100 times); chroot . -- under a plain chroot
 * that reaches the host's root (checked by hand: the probe then lists the
 * host's /); after pivot_root it must still see only the sandbox's root. */
TEST(chroot_escape_stays_in_sandbox)
{
        struct tap_run_result res;
        pr_run(NULL, V("chroot-escape", "/tmp"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK_STR(pr_need(&res, "userns"), "OK");
        CHECK_STR(pr_need(&res, "chroot"), "OK");
        CHECK_STR(pr_need(&res, "chroot_dot"), "OK");
        char *before = pr_need(&res, "before"), *after = pr_need(&res, "after");
        CHECK(strstr(before, "probe") != NULL);
        CHECK_STR(after, before);
        CHECK_STR(pr_need(&res, "after_has_usr"), "0");
        CHECK_STR(pr_need(&res, "after_has_etc_os_release"), "0");
}

/* Builds may unshare(CLONE_NEWUSER|CLONE_NEWNS) and mount inside. */
TEST(nested_userns_and_mount)
{
        struct tap_run_result res;
        pr_run(NULL, V("nested-userns"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK_STR(pr_need(&res, "nested_userns"), "OK");
        CHECK_STR(pr_need(&res, "nested_status"), "0");
}

/* Mount point (5th field) of each mountinfo line, newline-separated. */
static char *mount_points(const char *mountinfo)
{
        char *out = calloc(1, strlen(mountinfo) + 1);
        size_t len = 0;
        for (const char *p = mountinfo; *p;) {
                size_t l = strcspn(p, "\n");
                const char *f = p;
                for (int i = 0; i < 4 && f < p + l; i++)
                        f = memchr(f, ' ', (size_t)(p + l - f)) + 1;
                size_t fl = strcspn(f, " \n");
                memcpy(out + len, f, fl);
                len += fl;
                out[len++] = '\n';
                p += l;
                if (*p)
                        p++;
        }
        out[len] = '\0';
        return out;
}

/* While a sandbox with extra mounts runs and after it ends, the host's
 * mount table is unchanged; inside, none of the host's own mount points
 * (other than the ones a sandbox has too) are visible: the old root is gone. */
TEST(mounts_stay_inside)
{
        char *dir = tap_mkdtemp();
        char *before = pr_mounts();
        char *marker = pr_marker("mounts");
        struct pr_spawn s;
        char **argv = pr_argv(V("--tmpfs", "/scratch", "--bind", dir, "/data", "--dir", "/a/b"),
                              V("wait", marker));
        pr_spawn(&s, argv, false);
        pr_spawn_wait_for(&s, "ready=1", 20);
        char *during = pr_mounts();
        pr_check_no_new_mounts(before, during, "while the sandbox runs");
        CHECK_INT(tap_exit_code(pr_spawn_finish(&s, 20)), ==, 0);
        pr_check_no_new_mounts(before, pr_mounts(), "after the sandbox ended");

        struct tap_run_result res;
        pr_run(NULL, V("mounts"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        char *inside = mount_points(res.out);
        CHECK(strstr(inside, "/\n") != NULL);
        /* exactly what a sandbox is made of, once each: the old root, had
         * it stayed, would add a second "/" and the host's mount points */
        const char *expected[] = {"/", "/dev", "/dev/null", "/dev/zero", "/dev/full",
                                  "/dev/random", "/dev/urandom", "/dev/tty", "/dev/shm",
                                  "/dev/pts", "/proc", "/tmp", "/probe", NULL};
        char *copy = strdup(inside);
        int n = 0;
        for (char *m = strtok(copy, "\n"); m; m = strtok(NULL, "\n"), n++) {
                bool ok = false;
                for (int i = 0; expected[i]; i++)
                        ok |= strcmp(m, expected[i]) == 0;
                if (!ok)
                        FAIL("unexpected mount point '%s' inside:\n%s", m, res.out);
        }
        CHECK_INT(n, ==, 13);
        char *host = mount_points(before);
        const char *shared[] = {"/", "/proc", "/dev", "/tmp", "/dev/pts", "/dev/shm",
                                "/dev/mqueue", "/etc/passwd", "/etc/group", NULL};
        for (char *h = strtok(host, "\n"); h; h = strtok(NULL, "\n")) {
                bool common = false;
                for (int i = 0; shared[i]; i++)
                        common |= strcmp(h, shared[i]) == 0;
                if (common || strncmp(h, "/proc/", 6) == 0)
                        continue;
                char *line = NULL;
                if (asprintf(&line, "\n%s\n", h) < 0)
                        abort();
                char *in = NULL;
                if (asprintf(&in, "\n%s", inside) < 0)
                        abort();
                if (strstr(in, line))
                        FAIL("the host's mount point '%s' is visible inside:\n%s", h, res.out);
        }
        tap_rm_rf(dir);
}

static void run_ok(const char *const *opts, const char *const *cmd, struct tap_run_result *res)
{
        pr_run(opts, cmd, res);
        if (tap_exit_code(res->status) != 0)
                FAIL("exit %d\nstdout:\n%s\nstderr:\n%s", tap_exit_code(res->status), res->out,
                     res->err);
}

TEST(mount_options)
{
        char *dir = tap_mkdtemp();
        /* as root the command is 'nobody' on the host: let it write here */
        chmod(dir, 0777);
        char *in = NULL, *missing = NULL, *opt = NULL;
        if (asprintf(&in, "%s/in.txt", dir) < 0 || asprintf(&missing, "%s/nope", dir) < 0 ||
            asprintf(&opt, "%s/nope?", dir) < 0)
                abort();
        tap_write_file(in, "hello", 0644);
        struct tap_run_result res;
        const char *const *opts = V("--bind", dir, "/rw", "--ro-bind", dir, "/ro",
                                    "--ro-bind-try", missing, "/maybe", "--bind-try", missing,
                                    "/maybe2", "--bind", opt, "/maybe3", "--tmpfs", "/scratch",
                                    "--dir", "/made/deep", "--symlink", "/rw/in.txt", "/link");
        run_ok(opts, V("stat", "/rw/in.txt", "/ro/in.txt", "/maybe", "/maybe2", "/maybe3",
                       "/scratch", "/made/deep", "/link"),
               &res);
        CHECK_STR(pr_need(&res, "/rw/in.txt"), "file:5");
        CHECK_STR(pr_need(&res, "/ro/in.txt"), "file:5");
        CHECK_STR(pr_need(&res, "/maybe"), "ENOENT");
        CHECK_STR(pr_need(&res, "/maybe2"), "ENOENT");
        CHECK_STR(pr_need(&res, "/maybe3"), "ENOENT");
        CHECK_STR(pr_need(&res, "/scratch"), "dir:tmpfs,rw");
        CHECK_STR(pr_need(&res, "/scratch.mode"), "0755");
        CHECK(strncmp(pr_need(&res, "/made/deep"), "dir:", 4) == 0);
        CHECK_STR(pr_need(&res, "/link"), "link:/rw/in.txt");

        run_ok(opts, V("cat", "/link"), &res);
        CHECK_STR(res.out, "hello");
        /* --bind is writable and the host sees the write */
        run_ok(opts, V("write", "/rw/out.txt", "from inside"), &res);
        CHECK_STR(pr_need(&res, "write"), "OK");
        char *out = NULL;
        if (asprintf(&out, "%s/out.txt", dir) < 0)
                abort();
        char *text = tap_read_file(out);
        CHECK(text != NULL);
        CHECK_STR(text, "from inside");
        /* --ro-bind is not */
        run_ok(opts, V("write", "/ro/out2.txt", "x"), &res);
        CHECK_STR(pr_need(&res, "write"), "EROFS");
        /* --chdir */
        run_ok(V("--bind", dir, "/rw", "--chdir", "/rw"), V("cwd"), &res);
        CHECK_STR(pr_need(&res, "cwd"), "/rw");
        tap_rm_rf(dir);
}

/* Each tmpfs cloister mounts has its mode: the root and /dev 0755, the
 * world-writable /tmp and /dev/shm 1777 with the sticky bit. */
TEST(tmpfs_modes)
{
        struct tap_run_result res;
        run_ok(NULL, V("stat", "/", "/dev", "/dev/shm", "/tmp"), &res);
        CHECK_STR(pr_need(&res, "/.mode"), "0755");
        CHECK_STR(pr_need(&res, "/dev.mode"), "0755");
        CHECK_STR(pr_need(&res, "/dev/shm.mode"), "1777");
        CHECK_STR(pr_need(&res, "/tmp.mode"), "1777");
        CHECK_STR(pr_need(&res, "/tmp"), "dir:tmpfs,rw");
}
