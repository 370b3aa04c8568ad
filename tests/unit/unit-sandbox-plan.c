/* Unit tests for the parent's pure half of the sandbox: path normalisation,
 * the plan builders, the environment, passwd/group rendering, the host probe's
 * uid_map check, and compilation (maps, PATH candidates, generated files,
 * bind sources, the new root's mount point, failure sentences). */
#include "tap.h"

#include "base/base-cleanup.h"
#include "cloister/cloister.h"
#include "sandbox/sandbox-exec.h"
#include "sandbox/sandbox-plan.h"
#include "sandbox/sandbox-run.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

static char *norm(const char *in)
{
        char *out = NULL;
        struct cl_error err;
        if (sandbox_path_normalise(in, &out, &err) < 0)
                return NULL;
        return out;
}

TEST(normalise_collapses)
{
        static const char *const cases[][2] = {
            {"/", "/"},
            {"//", "/"},
            {"/a//b/", "/a/b"},
            {"/a/./b", "/a/b"},
            {"/a/b/../c", "/a/c"},
            {"a/b", "/a/b"},
            {"/a/..", "/"},
            {"/./", "/"},
            {"/nix/store/x", "/nix/store/x"},
            {"/a/b/../../c", "/c"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *o = norm(cases[i][0]);
                CHECK_STR(o, cases[i][1]);
        }
}

TEST(normalise_refuses_escape)
{
        static const char *const bad[] = {"/..", "/../x", "/a/../../x", "..", "/a/b/../../.."};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *out = NULL;
                struct cl_error err;
                CHECK_INT(sandbox_path_normalise(bad[i], &out, &err), ==, -EINVAL);
                CHECK(out == NULL);
                CHECK(strstr(err.msg, bad[i]) != NULL);
                CHECK(strstr(err.msg, "..") != NULL);
        }
        struct cl_error err;
        char *out = NULL;
        CHECK_INT(sandbox_path_normalise("", &out, &err), ==, -EINVAL);
}

TEST(plan_defaults)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *p = NULL;
        struct cl_error err;
        CHECK_OK(sandbox_plan_new(&p, &err));
        CHECK_INT(p->uid, ==, 1000);
        CHECK_INT(p->gid, ==, 100);
        CHECK(p->env[0] == NULL);
        CHECK_INT(p->cgroup_procs_fd, ==, -1);
        CHECK_OK(sandbox_plan_add_defaults(p, &err));
        int dev = 0, proc = 0, tmp = 0, pts = 0, ptmx = 0, null = 0;
        for (size_t i = 0; i < p->n_ops; i++) {
                const struct sandbox_op *op = &p->ops[i];
                dev += op->kind == SANDBOX_OP_TMPFS && strcmp(op->dst, "/dev") == 0;
                proc += op->kind == SANDBOX_OP_PROC && strcmp(op->dst, "/proc") == 0;
                tmp += op->kind == SANDBOX_OP_TMPFS && strcmp(op->dst, "/tmp") == 0 &&
                       op->mode == 01777;
                pts += op->kind == SANDBOX_OP_DEVPTS && strcmp(op->dst, "/dev/pts") == 0;
                ptmx += op->kind == SANDBOX_OP_SYMLINK && strcmp(op->dst, "/dev/ptmx") == 0 &&
                        strcmp(op->src, "pts/ptmx") == 0;
                null += op->kind == SANDBOX_OP_BIND && strcmp(op->dst, "/dev/null") == 0 &&
                        (op->flags & SANDBOX_BIND_DEV);
        }
        CHECK(dev == 1 && proc == 1 && tmp == 1 && pts == 1 && ptmx == 1 && null == 1);
        /* /dev comes before what goes in it */
        CHECK_STR(p->ops[0].dst, "/dev");
}

TEST(plan_env)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *p = NULL;
        struct cl_error err;
        CHECK_OK(sandbox_plan_new(&p, &err));
        CHECK_OK(sandbox_plan_setenv(p, "A", "1", &err));
        CHECK_OK(sandbox_plan_setenv(p, "B", "x=y", &err));
        CHECK_OK(sandbox_plan_setenv(p, "A", "2", &err));
        CHECK_INT(p->n_env, ==, 2);
        CHECK_STR(sandbox_plan_getenv(p, "A"), "2");
        CHECK_STR(sandbox_plan_getenv(p, "B"), "x=y");
        CHECK_OK(sandbox_plan_unsetenv(p, "A", &err));
        CHECK(sandbox_plan_getenv(p, "A") == NULL);
        CHECK_STR(p->env[0], "B=x=y");
        CHECK(p->env[1] == NULL);
        CHECK_INT(sandbox_plan_setenv(p, "", "v", &err), ==, -EINVAL);
        CHECK_INT(sandbox_plan_setenv(p, "K=V", "v", &err), ==, -EINVAL);
        CHECK_OK(sandbox_plan_unsetenv(p, "NOPE", &err));
}

TEST(plan_bind_normalises_and_refuses)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *p = NULL;
        struct cl_error err;
        CHECK_OK(sandbox_plan_new(&p, &err));
        CHECK_OK(sandbox_plan_add_bind(p, "/usr", "/x//y/./", SANDBOX_BIND_RO, &err));
        CHECK_STR(p->ops[0].dst, "/x/y");
        CHECK_INT(p->ops[0].flags, ==, SANDBOX_BIND_RO);
        CHECK_INT(sandbox_plan_add_bind(p, "/usr", "/../etc", 0, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "'/../etc'") != NULL);
        CHECK_INT(p->n_ops, ==, 1);
        CHECK_INT(sandbox_plan_add_symlink(p, "x", "/a/../../b", &err), ==, -EINVAL);
        CHECK_INT(sandbox_plan_set_chdir(p, "/..", &err), ==, -EINVAL);
        CHECK_INT(sandbox_plan_add_bind(p, "", "/a", 0, &err), ==, -EINVAL);
}

TEST(passwd_names_ids)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *p = NULL;
        struct cl_error err;
        CHECK_OK(sandbox_plan_new(&p, &err));
        _cleanup_free_ char *pw = NULL, *gr = NULL;
        CHECK_OK(sandbox_plan_render_passwd(p, &pw, &gr, &err));
        CHECK_STR(pw, "root:x:0:0:root:/root:/bin/sh\n"
                      "nixbld:x:1000:100:Nix build user:/:/noshell\n"
                      "nobody:x:65534:65534:Nobody:/:/noshell\n");
        CHECK_STR(gr, "root:x:0:\nnixbld:!:100:\nnogroup:x:65534:\n");
        free(pw);
        free(gr);
        p->uid = 0;
        p->gid = 0;
        CHECK_OK(sandbox_plan_render_passwd(p, &pw, &gr, &err));
        CHECK(strstr(pw, "nixbld") == NULL);
        CHECK(strstr(gr, "nixbld") == NULL);
}

TEST(id_map_lookup)
{
        unsigned long up = 1;
        CHECK(sandbox_id_map_lookup("         0          0 4294967295\n", 65534, &up));
        CHECK_INT(up, ==, 65534);
        CHECK(!sandbox_id_map_lookup("         0          0          1\n", 65534, NULL));
        CHECK(sandbox_id_map_lookup("0 0 1\n1000 100000 65536\n", 65534, &up));
        CHECK_INT(up, ==, 100000 + 64534);
        CHECK(!sandbox_id_map_lookup("0 0 1\n1000 100000 65536\n", 66536, NULL));
        CHECK(sandbox_id_map_lookup("0 1000 1\n5 0 1\n", 5, &up));
        CHECK_INT(up, ==, 0);
        CHECK(!sandbox_id_map_lookup("", 0, NULL));
}

TEST(uid_map_full)
{
        CHECK(sandbox_uid_map_is_full("         0          0 4294967295\n"));
        CHECK(!sandbox_uid_map_is_full("         0       1001          1\n"));
        CHECK(!sandbox_uid_map_is_full("0 0 4294967295\n1 1 1\n"));
        CHECK(!sandbox_uid_map_is_full(""));
}

static struct sandbox_host fake_host(int privileged)
{
        struct sandbox_host h = {
            .euid = privileged ? 0 : 1001,
            .egid = privileged ? 0 : 1001,
            .host_root = privileged,
            .privileged = privileged,
            .cap_last_cap = 40,
            .nobody_uid = 65534,
            .nobody_gid = 65534,
            .pid = 1,
        };
        if (privileged) {
                snprintf(h.uid_map, sizeof(h.uid_map), "0 0 4294967295\n");
                snprintf(h.gid_map, sizeof(h.gid_map), "0 0 4294967295\n");
        }
        return h;
}

static void exec_freep(struct sandbox_exec **x)
{
        sandbox_exec_free(*x);
}

TEST(compile_maps)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *p = NULL;
        struct cl_error err;
        CHECK_OK(sandbox_plan_new(&p, &err));
        char *argv[] = {"/bin/true", NULL};
        CHECK_OK(sandbox_plan_set_argv(p, argv, &err));

        struct sandbox_host h = fake_host(1);
        _cleanup_(exec_freep) struct sandbox_exec *x = NULL;
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK_STR(x->uid_map, "1000 65534 1\n");
        CHECK_STR(x->gid_map, "100 65534 1\n");
        CHECK(!x->setgroups_deny);
        CHECK(x->privileged);
        CHECK(x->unshare_flags & CLONE_NEWUSER);
        CHECK(x->unshare_flags & CLONE_NEWNET);
        sandbox_exec_free(x);
        x = NULL;

        p->host_ids_set = 1;
        p->host_uid = 30001;
        p->host_gid = 30000;
        p->uid = 0;
        p->flags |= SANDBOX_SHARE_NET;
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK_STR(x->uid_map, "0 30001 1\n");
        CHECK_STR(x->gid_map, "100 30000 1\n");
        CHECK(!(x->unshare_flags & CLONE_NEWNET));
        sandbox_exec_free(x);
        x = NULL;

        /* never host root, even when asked */
        p->host_uid = 0;
        CHECK_INT(sandbox_exec_compile(p, &h, &x, &err), ==, -EPERM);

        /* unprivileged (also root in a user namespace): the caller's own ids */
        h = fake_host(0);
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK_STR(x->uid_map, "0 1001 1\n");
        CHECK_STR(x->gid_map, "100 1001 1\n");
        CHECK(x->setgroups_deny);
        CHECK(!x->privileged);
        sandbox_exec_free(x);
        x = NULL;
        h.euid = 0; /* unshare -r: uid 0, but not privileged */
        h.egid = 0;
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK_STR(x->uid_map, "0 0 1\n");
}

TEST(compile_path_candidates)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *p = NULL;
        struct cl_error err;
        CHECK_OK(sandbox_plan_new(&p, &err));
        char *argv[] = {"sh", "-c", "x", NULL};
        CHECK_OK(sandbox_plan_set_argv(p, argv, &err));
        struct sandbox_host h = fake_host(0);
        _cleanup_(exec_freep) struct sandbox_exec *x = NULL;
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK_INT(x->n_exec_paths, ==, 3);
        CHECK_STR(x->exec_paths[0], "/usr/local/bin/sh");
        CHECK_STR(x->exec_paths[2], "/bin/sh");
        sandbox_exec_free(x);
        x = NULL;
        CHECK_OK(sandbox_plan_setenv(p, "PATH", "/a::/b", &err));
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK_INT(x->n_exec_paths, ==, 3);
        CHECK_STR(x->exec_paths[0], "/a/sh");
        CHECK_STR(x->exec_paths[1], "./sh");
        CHECK_STR(x->exec_paths[2], "/b/sh");
        sandbox_exec_free(x);
        x = NULL;
        char *argv2[] = {"./prog", NULL};
        CHECK_OK(sandbox_plan_set_argv(p, argv2, &err));
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK_INT(x->n_exec_paths, ==, 1);
        CHECK_STR(x->exec_paths[0], "./prog");
}

static int count_dst(const struct sandbox_exec *x, const char *dst)
{
        int n = 0;
        for (size_t i = 0; i < x->n_ops; i++)
                n += strcmp(x->ops[i].dst, dst) == 0;
        return n;
}

TEST(compile_sources_and_generated_files)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *p = NULL;
        struct cl_error err;
        CHECK_OK(sandbox_plan_new(&p, &err));
        char *argv[] = {"/bin/true", NULL};
        CHECK_OK(sandbox_plan_set_argv(p, argv, &err));
        CHECK_OK(sandbox_plan_add_bind(p, "/nonexistent-cloister", "/opt", SANDBOX_BIND_TRY, &err));
        CHECK_OK(sandbox_plan_add_bind(p, "/etc/hostname", "/h", SANDBOX_BIND_RO, &err));
        CHECK_OK(sandbox_plan_add_bind(p, "/tmp/", "/t", 0, &err));
        struct sandbox_host h = fake_host(0);
        _cleanup_(exec_freep) struct sandbox_exec *x = NULL;
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK(p->ops[0].flags & SANDBOX_OP_SKIP);
        CHECK(!(p->ops[1].flags & SANDBOX_OP_SRCDIR));
        CHECK(p->ops[2].flags & SANDBOX_OP_SRCDIR);
        CHECK_STR(p->ops[2].src, "/tmp");
        CHECK_INT(count_dst(x, "/etc/passwd"), ==, 1);
        CHECK_INT(count_dst(x, "/etc/group"), ==, 1);
        /* /tmp holds a source, so the new root goes elsewhere */
        CHECK(strcmp(x->root_mount, "/tmp") != 0);
        sandbox_exec_free(x);
        x = NULL;

        /* a plan that brings its own /etc gets no generated files */
        CHECK_OK(sandbox_plan_add_bind(p, "/etc", "/etc", SANDBOX_BIND_RO, &err));
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK_INT(count_dst(x, "/etc/passwd"), ==, 0);
        sandbox_exec_free(x);
        x = NULL;

        CHECK_OK(sandbox_plan_add_bind(p, "/nope-cloister", "/x", 0, &err));
        CHECK_INT(sandbox_exec_compile(p, &h, &x, &err), ==, -ENOENT);
        CHECK_STR(err.msg, "bind mount '/nope-cloister' on '/x': No such file or directory");
}

TEST(compile_keep_fds)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *p = NULL;
        struct cl_error err;
        CHECK_OK(sandbox_plan_new(&p, &err));
        char *argv[] = {"/bin/true", NULL};
        CHECK_OK(sandbox_plan_set_argv(p, argv, &err));
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        CHECK(fd > 2);
        CHECK_OK(sandbox_plan_keep_fd(p, fd, &err));
        CHECK_OK(sandbox_plan_keep_fd(p, 1, &err));
        struct sandbox_host h = fake_host(0);
        _cleanup_(exec_freep) struct sandbox_exec *x = NULL;
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK_INT(x->n_keep_fds, ==, 1);
        CHECK_INT(x->keep_fds[0], ==, fd);
        sandbox_exec_free(x);
        x = NULL;
        close(fd);
        CHECK_INT(sandbox_exec_compile(p, &h, &x, &err), ==, -EBADF);
        CHECK(strstr(err.msg, "keep file descriptor") != NULL);
}

TEST(failure_sentences)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *p = NULL;
        struct cl_error err;
        CHECK_OK(sandbox_plan_new(&p, &err));
        char *argv[] = {"frob", NULL};
        CHECK_OK(sandbox_plan_set_argv(p, argv, &err));
        CHECK_OK(sandbox_plan_add_bind(p, "/usr", "/x", 0, &err));
        CHECK_OK(sandbox_plan_set_chdir(p, "/nowhere", &err));
        struct sandbox_host h = fake_host(0);
        _cleanup_(exec_freep) struct sandbox_exec *x = NULL;
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));

        struct sandbox_child_error rec = {SANDBOX_STEP_BIND, ENOENT, 0};
        CHECK_INT(sandbox_describe_failure(x, &rec, &err), ==, CL_EXIT_SETUP);
        CHECK_STR(err.msg, "bind mount '/usr' on '/x': No such file or directory");
        rec = (struct sandbox_child_error){SANDBOX_STEP_NOT_FOUND, ENOENT, 0};
        CHECK_INT(sandbox_describe_failure(x, &rec, &err), ==, CL_EXIT_NOTFOUND);
        CHECK(strstr(err.msg, "command 'frob' not found") == err.msg);
        rec = (struct sandbox_child_error){SANDBOX_STEP_EXEC, EACCES, 1};
        CHECK_INT(sandbox_describe_failure(x, &rec, &err), ==, CL_EXIT_NOEXEC);
        CHECK_STR(err.msg, "execute '/usr/bin/frob': Permission denied");
        rec = (struct sandbox_child_error){SANDBOX_STEP_CHDIR, ENOTDIR, -1};
        CHECK_INT(sandbox_describe_failure(x, &rec, &err), ==, CL_EXIT_SETUP);
        CHECK_STR(err.msg, "change directory to '/nowhere': Not a directory");
        rec = (struct sandbox_child_error){SANDBOX_STEP_UNSHARE, EPERM, -1};
        sandbox_describe_failure(x, &rec, &err);
        CHECK_STR(err.msg, "create the sandbox's namespaces: Operation not permitted");
        /* every step has a sentence */
        for (int s = 1; s < SANDBOX_STEP_MAX; s++) {
                rec = (struct sandbox_child_error){s, EIO, 0};
                sandbox_describe_failure(x, &rec, &err);
                CHECK(strstr(err.msg, "set up the sandbox") == NULL);
        }
}

/* A separate file to execute: argv[0] stays what the plan says (a builder's
 * basename, as Nix passes it). */
TEST(compile_exec_path)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *p = NULL;
        struct cl_error err;
        CHECK_OK(sandbox_plan_new(&p, &err));
        char *argv[] = {"busybox", "sh", NULL};
        CHECK_OK(sandbox_plan_set_argv(p, argv, &err));
        CHECK_INT(sandbox_plan_set_exec_path(p, "busybox", &err), ==, -EINVAL);
        CHECK_OK(sandbox_plan_set_exec_path(p, "/nix/store/x-busybox/bin/busybox", &err));
        struct sandbox_host h = fake_host(0);
        _cleanup_(exec_freep) struct sandbox_exec *x = NULL;
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK_INT(x->n_exec_paths, ==, 1);
        CHECK_STR(x->exec_paths[0], "/nix/store/x-busybox/bin/busybox");
        CHECK_STR(x->argv[0], "busybox");
}

/* SANDBOX_NO_NAMESPACES: nothing unshared, the host ids (the build user as
 * real root, never root; the caller otherwise), and no mounts. */
TEST(compile_no_namespaces)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *p = NULL;
        struct cl_error err;
        CHECK_OK(sandbox_plan_new(&p, &err));
        char *argv[] = {"/bin/true", NULL};
        CHECK_OK(sandbox_plan_set_argv(p, argv, &err));
        p->flags |= SANDBOX_NO_NAMESPACES;
        p->host_ids_set = 1;
        p->host_uid = 30001;
        p->host_gid = 30000;
        struct sandbox_host h = fake_host(1);
        _cleanup_(exec_freep) struct sandbox_exec *x = NULL;
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK(x->no_namespaces);
        CHECK_INT(x->unshare_flags, ==, 0);
        CHECK_INT(x->uid, ==, 30001);
        CHECK_INT(x->gid, ==, 30000);
        CHECK(x->privileged);
        sandbox_exec_free(x);
        x = NULL;

        p->host_uid = 0;
        CHECK_INT(sandbox_exec_compile(p, &h, &x, &err), ==, -EPERM);
        p->host_uid = 30001;

        h = fake_host(0);
        CHECK_OK(sandbox_exec_compile(p, &h, &x, &err));
        CHECK_INT(x->uid, ==, 1001);
        CHECK_INT(x->gid, ==, 1001);
        CHECK(!x->privileged);
        sandbox_exec_free(x);
        x = NULL;

        CHECK_OK(sandbox_plan_add_tmpfs(p, "/tmp", 01777, &err));
        CHECK_INT(sandbox_exec_compile(p, &h, &x, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "cannot mount"));
}

/* Host root in a user namespace: refused where it cannot switch ids, and
 * refused where the host user asked for is not mapped there. */
TEST(compile_refuses_host_root_that_cannot_switch)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *plan = NULL;
        struct cl_error err = {0};
        CHECK_OK(sandbox_plan_new(&plan, &err));
        char *argv[] = {"/bin/true", NULL};
        CHECK_OK(sandbox_plan_set_argv(plan, argv, &err));
        struct sandbox_host h = fake_host(0);
        h.euid = h.egid = 0;
        h.host_root = 1;
        snprintf(h.uid_map, sizeof(h.uid_map), "0 0 1\n");
        snprintf(h.gid_map, sizeof(h.gid_map), "0 0 1\n");
        struct sandbox_exec *x = NULL;
        CHECK_INT(sandbox_exec_compile(plan, &h, &x, &err), ==, -EPERM);
        CHECK(strstr(err.msg, "refusing to run the sandbox as host root") != NULL);
        h.privileged = 1;
        CHECK_INT(sandbox_exec_compile(plan, &h, &x, &err), ==, -EPERM);
        CHECK(strstr(err.msg, "65534:65534") != NULL);
        snprintf(h.uid_map, sizeof(h.uid_map), "0 0 65536\n");
        snprintf(h.gid_map, sizeof(h.gid_map), "0 0 65536\n");
        CHECK_OK(sandbox_exec_compile(plan, &h, &x, &err));
        CHECK_STR(x->uid_map, "1000 65534 1\n");
        sandbox_exec_free(x);
        x = NULL;
        /* a host gid that is root one namespace up */
        snprintf(h.gid_map, sizeof(h.gid_map), "0 1000 1\n65534 0 1\n");
        CHECK_INT(sandbox_exec_compile(plan, &h, &x, &err), ==, -EPERM);
        CHECK(strstr(err.msg, "is root in the user namespace above") != NULL);
}
