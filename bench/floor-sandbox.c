/* The floor under any sandbox that does what cloister's issues ask for, as
 * root: a static program with no options, no plan, no error messages and no
 * accounting, that makes only the system calls the isolation needs. Each
 * call is checked (a failure exits 126), so no step is skipped unseen.
 * bench-sandbox.sh and bench-harden.sh run it beside cloister and its peers:
 * no implementation of that isolation can cost less on the same machine.
 *
 * What it does, each a requirement of issues #2 and #4:
 *   parent:  a fresh v2 cgroup leaf; clone3 into it with the user, mount,
 *            PID, net, IPC, UTS and cgroup namespaces; the id maps (1000
 *            inside, nobody outside, as cloister's as root); wait;
 *            cpu.stat; cgroup.kill; rmdir.
 *   PID 1:   private propagation; a tmpfs root with /usr bound read-only
 *            and the merged-/usr links; /dev (a tmpfs, six device binds,
 *            devpts with ptmx, /dev/shm, the fd links); /proc; /tmp;
 *            pivot_root and the old root detached; host name; lo up; the
 *            command as its vforked child, waited for.
 *   command: a new session, the ids 1000, no capabilities (the bounding set
 *            emptied too), no_new_privs, a one-instruction seccomp filter
 *            (the kernel's fixed cost of any filter), exec.
 * What it leaves out, to stay a lower bound: the v1 memory leaf, a real
 * allowlist filter, the generated /etc files, the error pipe, the event
 * loop, the accounting report, closing stray descriptors.
 *
 * With --bare it is the least any sandbox executable can be: the command
 * started in the same namespaces (as bench-spawn's "@clone", but from a
 * process of its own), nothing mounted, nothing else. With --soft it leaves
 * out the hardening (the cgroup leaf and the filter), so that the two side
 * by side give the hardening's own floor.
 *
 *   floor-sandbox [--bare | --soft] COMMAND [ARG...]   (as root) */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROOT "/tmp" /* where the new root is mounted, in the new namespace */

static void need(long r)
{
        if (r < 0)
                _exit(126);
}

static void bind_dev(const char *name)
{
        char src[64], dst[64];
        snprintf(src, sizeof(src), "/dev/%s", name);
        snprintf(dst, sizeof(dst), ROOT "/dev/%s", name);
        int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        need(fd);
        close(fd);
        need(mount(src, dst, NULL, MS_BIND, NULL));
}

static int harden = 1; /* the cgroup leaf and the filter; 0 with --soft */

static int command(char **argv)
{
        need(setsid());
        for (int cap = 0; prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0; cap++)
                ;
        need(prctl(PR_SET_PDEATHSIG, SIGKILL));
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[2] = {{0}};
        need(syscall(SYS_capset, &h, d));
        need(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
        struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        struct sock_fprog prog = {1, &allow};
        if (harden)
                need(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
        char *env[] = {NULL};
        execve(argv[0], argv, env);
        _exit(127);
}

static int init(char **argv, int go)
{
        /* the parent writes our id maps, then says so */
        char c;
        need(read(go, &c, 1));
        close(go);
        /* the sandbox's ids at once (still capable in the namespace): the
         * files made below must have a mapped owner */
        need(setgroups(0, NULL));
        need(setresgid(1000, 1000, 1000));
        need(setresuid(1000, 1000, 1000));
        need(prctl(PR_SET_PDEATHSIG, SIGKILL));
        need(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL));
        need(mount("tmpfs", ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"));
        need(mkdir(ROOT "/usr", 0755));
        need(mount("/usr", ROOT "/usr", NULL, MS_BIND | MS_REC, NULL));
        need(mount(NULL, ROOT "/usr", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
                   NULL));
        need(symlink("usr/bin", ROOT "/bin"));
        need(symlink("usr/lib", ROOT "/lib"));
        need(symlink("usr/lib64", ROOT "/lib64"));
        need(mkdir(ROOT "/dev", 0755));
        need(mount("tmpfs", ROOT "/dev", "tmpfs", MS_NOSUID, "mode=0755"));
        static const char *const devs[] = {"null", "zero", "full", "random", "urandom", "tty"};
        for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
                bind_dev(devs[i]);
        need(mkdir(ROOT "/dev/pts", 0755));
        need(mount("devpts", ROOT "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                   "newinstance,ptmxmode=0666,mode=0620"));
        need(symlink("pts/ptmx", ROOT "/dev/ptmx"));
        need(mkdir(ROOT "/dev/shm", 01777));
        need(mount("tmpfs", ROOT "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=01777"));
        need(symlink("/proc/self/fd", ROOT "/dev/fd"));
        need(symlink("/proc/self/fd/0", ROOT "/dev/stdin"));
        need(symlink("/proc/self/fd/1", ROOT "/dev/stdout"));
        need(symlink("/proc/self/fd/2", ROOT "/dev/stderr"));
        need(mkdir(ROOT "/proc", 0555));
        need(mount("proc", ROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
        need(mkdir(ROOT "/tmp", 01777));
        need(mount("tmpfs", ROOT "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=01777"));
        if (chdir(ROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
            umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
                return 126;
        need(sethostname("localhost", 9));
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        need(s);
        struct ifreq ifr = {.ifr_name = "lo"};
        need(ioctl(s, SIOCGIFFLAGS, &ifr));
        ifr.ifr_flags |= IFF_UP;
        need(ioctl(s, SIOCSIFFLAGS, &ifr));
        close(s);
        pid_t cmd = vfork();
        need(cmd);
        if (cmd == 0)
                command(argv);
        int st = 0;
        while (waitpid(cmd, &st, 0) < 0)
                if (errno != EINTR)
                        return 126;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void write_map(pid_t pid, const char *file, const char *map)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                (void)!write(fd, map, strlen(map));
                close(fd);
        }
}

static int bare(char **argv)
{
        struct clone_args ca = {
            .flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                     CLONE_NEWUTS | CLONE_NEWCGROUP,
            .exit_signal = SIGCHLD,
        };
        pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
        if (pid == 0) {
                char *env[] = {NULL};
                execve(argv[0], argv, env);
                _exit(127);
        }
        int st = 127;
        if (pid > 0)
                while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                        ;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv)
{
        if (argc >= 3 && strcmp(argv[1], "--bare") == 0)
                return bare(argv + 2);
        if (argc >= 3 && strcmp(argv[1], "--soft") == 0) {
                harden = 0;
                argv++;
                argc--;
        }
        if (argc < 2)
                return 2;
        char leaf[128];
        int dfd = -1;
        if (harden) {
                const char *v2 = access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0
                                     ? "/sys/fs/cgroup/unified"
                                     : "/sys/fs/cgroup";
                snprintf(leaf, sizeof(leaf), "%s/floor-%d", v2, (int)getpid());
                if (mkdir(leaf, 0755) < 0 ||
                    (dfd = open(leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                        return 126;
        }
        int go[2];
        if (pipe2(go, O_CLOEXEC) < 0)
                return 1;
        struct clone_args ca = {
            .flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                     CLONE_NEWUTS | CLONE_NEWCGROUP,
            .exit_signal = SIGCHLD,
        };
        if (harden) {
                ca.flags |= CLONE_INTO_CGROUP;
                ca.cgroup = (uint64_t)dfd;
        }
        pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
        if (pid == 0) {
                close(go[1]);
                _exit(init(argv + 1, go[0]));
        }
        close(go[0]);
        int st = 127 << 8;
        if (pid > 0) {
                /* as cloister maps them as root: 1000 inside, nobody outside */
                write_map(pid, "uid_map", "1000 65534 1\n");
                write_map(pid, "gid_map", "1000 65534 1\n");
                (void)!write(go[1], "g", 1);
                close(go[1]);
                while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                        ;
        }
        if (harden) {
                char buf[512];
                int fd = openat(dfd, "cpu.stat", O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        (void)!read(fd, buf, sizeof(buf));
                        close(fd);
                }
                fd = openat(dfd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                        (void)!write(fd, "1", 1);
                        close(fd);
                }
                close(dfd);
                /* the kill is asynchronous: the leaf empties shortly after */
                for (int i = 0; rmdir(leaf) < 0 && errno == EBUSY && i < 1000; i++)
                        usleep(100);
        }
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
