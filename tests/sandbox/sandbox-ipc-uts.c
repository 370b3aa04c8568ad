/* IPC and UTS namespaces: SysV shared memory, semaphores and message
 * queues made inside are invisible on the host and die with the sandbox;
 * the host name is localhost and the domain name (none) unless set. */
#include "probe-run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

/* How many of the host's /proc/sysvipc/{shm,sem,msg} entries have key. */
static int host_ipc_count(long key)
{
        const char *files[] = {"/proc/sysvipc/shm", "/proc/sysvipc/sem", "/proc/sysvipc/msg"};
        int n = 0;
        for (int i = 0; i < 3; i++) {
                char *text = tap_read_file(files[i]);
                if (!text)
                        FAIL("cannot read %s", files[i]);
                for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"))
                        if (strtol(l, NULL, 10) == key)
                                n++;
                free(text);
        }
        return n;
}

static long fresh_key(void)
{
        return 0x43000000L | ((long)getpid() & 0xffffff);
}

/* The check itself works: the probe run directly on the host (no sandbox)
 * leaves its three objects where host_ipc_count sees them. */
TEST(ipc_check_sees_host_objects)
{
        long k = fresh_key() ^ 0x00800000L;
        char ks[32];
        snprintf(ks, sizeof(ks), "%ld", k);
        char *argv[] = {(char *)pr_probe(), "ipc", ks, NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, NULL, 10, &res));
        int n = host_ipc_count(k);
        shmctl(shmget((key_t)k, 0, 0), IPC_RMID, NULL);
        semctl(semget((key_t)k, 0, 0), 0, IPC_RMID);
        msgctl(msgget((key_t)k, 0), IPC_RMID, NULL);
        CHECK_INT(n, ==, 3);
        CHECK_INT(host_ipc_count(k), ==, 0);
}

TEST(ipc_objects_stay_inside)
{
        long k = fresh_key();
        char ks[32];
        snprintf(ks, sizeof(ks), "%ld", k);
        CHECK_INT(host_ipc_count(k), ==, 0);
        struct pr_spawn s;
        pr_spawn(&s, pr_argv(NULL, V("ipc", ks)), false);
        pr_spawn_wait_for(&s, "ready=1", 20);
        char *out = s.obuf;
        CHECK_STR(pr_kv(out, "shm"), "OK");
        CHECK_STR(pr_kv(out, "sem"), "OK");
        CHECK_STR(pr_kv(out, "msg"), "OK");
        CHECK_STR(pr_kv(out, "shm_inside"), "1");
        CHECK_STR(pr_kv(out, "sem_inside"), "1");
        CHECK_STR(pr_kv(out, "msg_inside"), "1");
        CHECK_INT(host_ipc_count(k), ==, 0);
        CHECK_INT(tap_exit_code(pr_spawn_finish(&s, 20)), ==, 0);
        CHECK_INT(host_ipc_count(k), ==, 0);
        /* and a new sandbox does not see the first one's objects */
        struct tap_run_result res;
        pr_run(NULL, V("ipc", ks), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK_STR(pr_need(&res, "shm"), "OK");
        CHECK_STR(pr_need(&res, "sem"), "OK");
        CHECK_STR(pr_need(&res, "msg"), "OK");
}

TEST(uts_defaults)
{
        struct tap_run_result res;
        pr_run(NULL, V("uts"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK_STR(pr_need(&res, "hostname"), "localhost");
        CHECK_STR(pr_need(&res, "domainname"), "(none)");
}

TEST(uts_hostname_option)
{
        struct tap_run_result res;
        pr_run(V("--hostname", "builder-7"), V("uts"), &res);
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK_STR(pr_need(&res, "hostname"), "builder-7");
        CHECK_STR(pr_need(&res, "domainname"), "(none)");
}
