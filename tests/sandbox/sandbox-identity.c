/* Identity and privileges: the command is never host root; inside it has
 * the ids asked for (1000/100 by default), named in /etc/passwd and
 * /etc/group, all real/effective/saved ids equal, no capability in any set,
 * no_new_privs, and a session of its own. */
#include "probe-run.h"

#include <pwd.h>
#include <signal.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

static void run_ok(const char *const *opts, const char *const *cmd, struct tap_run_result *res)
{
        pr_run(opts, cmd, res);
        if (tap_exit_code(res->status) != 0)
                FAIL("exit %d\nstdout:\n%s\nstderr:\n%s", tap_exit_code(res->status), res->out,
                     res->err);
}

static void check_ids(const struct tap_run_result *res, const char *uid, const char *gid)
{
        CHECK_STR(pr_need(res, "ruid"), uid);
        CHECK_STR(pr_need(res, "euid"), uid);
        CHECK_STR(pr_need(res, "suid"), uid);
        CHECK_STR(pr_need(res, "rgid"), gid);
        CHECK_STR(pr_need(res, "egid"), gid);
        CHECK_STR(pr_need(res, "sgid"), gid);
        /* no supplementary group but possibly the primary one */
        char *groups = pr_need(res, "groups");
        CHECK(groups[0] == '\0' || strcmp(groups, gid) == 0);
        char *user = pr_need(res, "user"), *group = pr_need(res, "group");
        CHECK(user[0] != '(' && user[0] != '\0');
        CHECK(group[0] != '(' && group[0] != '\0');
}

TEST(default_ids_inside)
{
        struct tap_run_result res;
        run_ok(NULL, V("ids"), &res);
        check_ids(&res, "1000", "100");
}

TEST(uid_gid_options)
{
        struct tap_run_result res;
        run_ok(V("--uid", "4321", "--gid", "765"), V("ids"), &res);
        check_ids(&res, "4321", "765");
}

TEST(no_privileges_left)
{
        struct tap_run_result res;
        run_ok(NULL, V("caps"), &res);
        const char *sets[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
        for (int i = 0; i < 5; i++)
                CHECK_STR(pr_need(&res, sets[i]), "0000000000000000");
        CHECK_STR(pr_need(&res, "NoNewPrivs"), "1");
        CHECK_STR(pr_need(&res, "nnp_prctl"), "1");
        /* getsid() is 0 when the session leader is outside the sandbox's
         * PID namespace, i.e. the command would share cloister's session */
        CHECK(atoi(pr_need(&res, "sid")) > 0);
}

/* The command starts with every signal at its default and none blocked,
 * whatever cloister's caller left ignored or blocked (cloister itself ignores
 * SIGPIPE). */
TEST(signals_start_at_their_defaults)
{
        signal(SIGPIPE, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGUSR2, SIG_IGN);
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        sigaddset(&block, SIGTERM);
        sigprocmask(SIG_BLOCK, &block, NULL);
        struct tap_run_result res;
        run_ok(NULL, V("caps"), &res);
        CHECK_STR(pr_need(&res, "SigIgn"), "0000000000000000");
        CHECK_STR(pr_need(&res, "SigBlk"), "0000000000000000");
}

/* The host's view of the running command: its uid and gid (all four of
 * each), and its session, which must not be cloister's. */
static void check_host_ids(const char *const *opts, unsigned uid, unsigned gid)
{
        char *marker = pr_marker("ids");
        struct pr_spawn s;
        pr_spawn(&s, pr_argv(opts, V("wait", marker)), false);
        pr_spawn_wait_for(&s, "ready=1", 20);
        pid_t pid;
        CHECK_INT(pr_find_marked(marker, &pid, 1), ==, 1);
        char want_u[64], want_g[64];
        snprintf(want_u, sizeof(want_u), "%u\t%u\t%u\t%u", uid, uid, uid, uid);
        snprintf(want_g, sizeof(want_g), "%u\t%u\t%u\t%u", gid, gid, gid, gid);
        CHECK_STR(pr_proc_status(pid, "Uid"), want_u);
        CHECK_STR(pr_proc_status(pid, "Gid"), want_g);
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        char *stat = tap_read_file(path);
        CHECK(stat != NULL);
        int ppid, pgrp, session;
        CHECK_INT(sscanf(strrchr(stat, ')') + 2, "%*c %d %d %d", &ppid, &pgrp, &session), ==, 3);
        CHECK_INT(session, !=, getsid(s.pid));
        CHECK_INT(session, !=, getsid(0));
        CHECK_INT(tap_exit_code(pr_spawn_finish(&s, 20)), ==, 0);
}

TEST(never_host_root)
{
        if (pr_real_root()) {
                struct passwd *pw = getpwnam("nobody");
                struct group *gr = getgrnam("nogroup");
                CHECK(pw != NULL);
                check_host_ids(NULL, pw->pw_uid, gr ? gr->gr_gid : pw->pw_gid);
        } else {
                /* the caller's own ids, as this test sees them (0 in unshare -r) */
                check_host_ids(NULL, getuid(), getgid());
        }
}

TEST(host_uid_option)
{
        if (!pr_real_root()) {
                /* without privilege there is no other host uid to take; the
                 * option must not give one */
                struct tap_run_result res;
                pr_run(V("--host-uid", "4242", "--host-gid", "4242"), V("ids"), &res);
                if (tap_exit_code(res.status) == 0)
                        check_host_ids(V("--host-uid", "4242", "--host-gid", "4242"), getuid(),
                                       getgid());
                return;
        }
        check_host_ids(V("--host-uid", "4242", "--host-gid", "4343"), 4242, 4343);
}

TEST(etc_names_the_user)
{
        struct tap_run_result res;
        run_ok(NULL, V("cat", "/etc/passwd"), &res);
        CHECK(strstr(res.out, ":1000:100:") != NULL);
        run_ok(NULL, V("cat", "/etc/group"), &res);
        CHECK(strstr(res.out, ":100:") != NULL);
        run_ok(V("--uid", "4321", "--gid", "765"), V("cat", "/etc/passwd"), &res);
        CHECK(strstr(res.out, ":4321:765:") != NULL);
}

/* Run a shell script with $C (cloister), $P (the probe) and $D (a fresh
 * directory) set. */
static void run_script(const char *script, struct tap_run_result *res, const char *dir)
{
        setenv("C", pr_cloister(), 1);
        setenv("P", pr_probe(), 1);
        setenv("D", dir, 1);
        char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
        CHECK_OK(tap_run(argv, NULL, 60, res));
}

/* cloister started by the host's root inside a user namespace is still the
 * host's root: in `unshare -r` (uid 0 is all that is mapped) or mapped to the
 * overflow uid it refuses, and
 * in a namespace that maps more (setgroups allowed) the command is the host's
 * nobody. Started by anyone else, `unshare -r` changes nothing. */
TEST(host_root_in_a_user_namespace_never_reaches_the_command)
{
        char *dir = tap_mkdtemp();
        struct tap_run_result res;
        if (!pr_real_root()) {
                run_script("unshare -r \"$C\" run --ro-bind \"$P\" /probe -- /probe cat "
                           "/proc/self/uid_map",
                           &res, dir);
                CHECK_INT(tap_exit_code(res.status), ==, 0);
                unsigned long inside = 0, outside = 0, count = 0;
                CHECK(sscanf(res.out, "%lu %lu %lu", &inside, &outside, &count) == 3);
                CHECK_INT(inside, ==, 1000);
                CHECK_INT(count, ==, 1);
                tap_rm_rf(dir);
                return;
        }
        char *before = pr_mounts();
        run_script("unshare -r \"$C\" run --ro-bind \"$P\" /probe -- /probe ids", &res, dir);
        CHECK_INT(tap_exit_code(res.status), ==, 125);
        CHECK(strstr(res.err, "refusing to run the sandbox as host root") != NULL);
        CHECK(res.out[0] == '\0');
        pr_check_no_new_mounts(before, pr_mounts(), "after the refusal");
        /* root mapped to the overflow uid looks like an unmapped root: refused too */
        run_script("unshare --map-user=65534 --map-group=65534 \"$C\" run --ro-bind \"$P\" "
                   "/probe -- /probe ids",
                   &res, dir);
        CHECK_INT(tap_exit_code(res.status), ==, 125);
        CHECK(strstr(res.err, "refusing to run the sandbox as host root") != NULL);

        /* a namespace mapping ids 0-65535 onto themselves, setgroups allowed;
         * a root-only file bound in must stay unreadable */
        char *secret = NULL;
        if (asprintf(&secret, "%s/secret", dir) < 0)
                abort();
        tap_write_file(secret, "host root's\n", 0600);
        run_script(
            "unshare --user sh -c 'while [ ! -e $D/mapped ]; do sleep 0.02; done;"
            " exec \"$C\" run --ro-bind \"$P\" /probe --ro-bind $D/secret /secret --"
            " /probe cat /proc/self/uid_map /proc/self/status /secret' > $D/out &\n"
            "p=$!\n"
            "while [ \"$(readlink /proc/$p/ns/user)\" = \"$(readlink /proc/self/ns/user)\" ];"
            " do sleep 0.02; done\n"
            "echo allow > /proc/$p/setgroups; echo '0 0 65536' > /proc/$p/uid_map\n"
            "echo '0 0 65536' > /proc/$p/gid_map; touch $D/mapped\n"
            "wait $p; echo \"exit $?\" >> $D/out; cat $D/out",
            &res, dir);
        tap_diag("%s%s", res.out, res.err);
        unsigned long inside = 0, outside = 0, count = 0;
        CHECK(sscanf(res.out, "%lu %lu %lu", &inside, &outside, &count) == 3);
        CHECK_INT(inside, ==, 1000);
        CHECK_INT(outside, ==, 65534);
        /* no supplementary group: not even the host root's */
        const char *groups = strstr(res.out, "Groups:");
        CHECK(groups != NULL);
        groups += strlen("Groups:");
        groups += strspn(groups, " \t");
        CHECK(*groups == '\n');
        CHECK(strstr(res.out, "host root's") == NULL);
        CHECK(strstr(res.out, "error=EACCES") != NULL);
        tap_rm_rf(dir);
}
