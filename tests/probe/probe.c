/* The static probe: one program that runs inside a sandbox with nothing but
 * itself and reports, as `key=value` lines on stdout, one property of the
 * sandbox per subcommand. The sandbox tests run it and parse its output;
 * `probe show` prints a human-readable summary for the bundled example.
 * It links nothing but libc, statically, and never uses NSS. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef DEVPTS_SUPER_MAGIC
#define DEVPTS_SUPER_MAGIC 0x1cd1
#endif

extern char **environ;

static const char *errname(int e)
{
        switch (e) {
        case 0: return "OK";
        case EPERM: return "EPERM";
        case ENOENT: return "ENOENT";
        case EACCES: return "EACCES";
        case EINVAL: return "EINVAL";
        case ENOSPC: return "ENOSPC";
        case ENETUNREACH: return "ENETUNREACH";
        case EHOSTUNREACH: return "EHOSTUNREACH";
        case ECONNREFUSED: return "ECONNREFUSED";
        case ETIMEDOUT: return "ETIMEDOUT";
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
        case EAFNOSUPPORT: return "EAFNOSUPPORT";
        case ENXIO: return "ENXIO";
        case EROFS: return "EROFS";
        case ENOSYS: return "ENOSYS";
        case EEXIST: return "EEXIST";
        case ENOTDIR: return "ENOTDIR";
        case EOVERFLOW: return "EOVERFLOW";
        case EBUSY: return "EBUSY";
        default: return "EOTHER";
        }
}

static void die(const char *what)
{
        fprintf(stdout, "error=%s: %s\n", what, strerror(errno));
        fflush(stdout);
        exit(99);
}

/* Read a small file whole into buf (NUL-terminated); returns length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        size_t len = 0;
        while (len + 1 < size) {
                ssize_t n = read(fd, buf + len, size - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        close(fd);
        return (ssize_t)len;
}

/* The value of "Key:" in a /proc status-like text, whitespace collapsed. */
static void status_field(const char *text, const char *key, char *out, size_t size)
{
        size_t klen = strlen(key);
        const char *p = text;
        out[0] = '\0';
        while (p && *p) {
                if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
                        p += klen + 1;
                        while (*p == ' ' || *p == '\t')
                                p++;
                        size_t n = 0;
                        int space = 0;
                        for (; *p && *p != '\n' && n + 1 < size; p++) {
                                if (*p == ' ' || *p == '\t') {
                                        space = 1;
                                        continue;
                                }
                                if (space && n > 0)
                                        out[n++] = ',';
                                space = 0;
                                out[n++] = *p;
                        }
                        out[n] = '\0';
                        return;
                }
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
}

static void wait_stdin_eof(void)
{
        char buf[256];
        for (;;) {
                ssize_t n = read(0, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
        }
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Numeric entries of /proc, comma-separated, ascending as readdir gives them. */
static int list_pids(char *out, size_t size, int *count)
{
        DIR *d = opendir("/proc");
        if (!d)
                return -1;
        size_t n = 0;
        *count = 0;
        out[0] = '\0';
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] < '0' || e->d_name[0] > '9')
                        continue;
                int w = snprintf(out + n, size - n, "%s%s", n ? "," : "", e->d_name);
                if (w > 0 && (size_t)w < size - n)
                        n += (size_t)w;
                (*count)++;
        }
        closedir(d);
        return 0;
}

/* Count processes in /proc that are zombies (state Z). */
static int count_zombies(int *others)
{
        DIR *d = opendir("/proc");
        int z = 0;
        *others = 0;
        if (!d)
                return -1;
        struct dirent *e;
        pid_t self = getpid();
        while ((e = readdir(d))) {
                if (e->d_name[0] < '0' || e->d_name[0] > '9')
                        continue;
                pid_t pid = atoi(e->d_name);
                if (pid == 1 || pid == self)
                        continue;
                char path[64], buf[512];
                snprintf(path, sizeof(path), "/proc/%d/stat", pid);
                if (read_small(path, buf, sizeof(buf)) <= 0)
                        continue;
                char *rp = strrchr(buf, ')');
                if (rp && rp[1] == ' ' && rp[2] == 'Z')
                        z++;
                else
                        (*others)++;
        }
        closedir(d);
        return z;
}

/* ---- subcommands ---- */

/* /etc/passwd or /etc/group line whose third field is id: its first field */
static void etc_name(const char *file, unsigned id, char *out, size_t size)
{
        char buf[8192];
        out[0] = '\0';
        if (read_small(file, buf, sizeof(buf)) < 0) {
                snprintf(out, size, "(no %s)", file);
                return;
        }
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
                char *f1 = strchr(line, ':');
                if (!f1)
                        continue;
                char *f2 = strchr(f1 + 1, ':');
                if (!f2)
                        continue;
                if (strtoul(f2 + 1, NULL, 10) == id && f2[1] >= '0' && f2[1] <= '9') {
                        *f1 = '\0';
                        snprintf(out, size, "%s", line);
                        return;
                }
        }
        snprintf(out, size, "(none)");
}

static int cmd_ids(void)
{
        uid_t r, e, s;
        gid_t gr, ge, gs;
        getresuid(&r, &e, &s);
        getresgid(&gr, &ge, &gs);
        printf("ruid=%u\neuid=%u\nsuid=%u\n", r, e, s);
        printf("rgid=%u\negid=%u\nsgid=%u\n", gr, ge, gs);
        gid_t groups[256];
        int n = getgroups(256, groups);
        printf("groups=");
        for (int i = 0; i < n; i++)
                printf("%s%u", i ? "," : "", groups[i]);
        printf("\nngroups=%d\n", n < 0 ? 0 : n);
        char name[128];
        etc_name("/etc/passwd", e, name, sizeof(name));
        printf("user=%s\n", name);
        etc_name("/etc/group", ge, name, sizeof(name));
        printf("group=%s\n", name);
        char buf[256];
        if (read_small("/proc/self/uid_map", buf, sizeof(buf)) >= 0)
                printf("uid_map=%s", buf[0] ? buf : "\n");
        return 0;
}

static int cmd_caps(void)
{
        char st[8192], v[128];
        if (read_small("/proc/self/status", st, sizeof(st)) < 0)
                die("read /proc/self/status");
        const char *keys[] = {"CapInh",     "CapPrm",  "CapEff", "CapBnd", "CapAmb",
                              "NoNewPrivs", "Seccomp", "SigIgn", "SigBlk"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                status_field(st, keys[i], v, sizeof(v));
                printf("%s=%s\n", keys[i], v);
        }
        printf("pid=%d\nsid=%d\npgid=%d\n", getpid(), getsid(0), getpgid(0));
        printf("nnp_prctl=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        return 0;
}

static int cmd_pid(void)
{
        char buf[4096];
        int count;
        printf("pid=%d\nppid=%d\n", getpid(), getppid());
        if (read_small("/proc/1/comm", buf, sizeof(buf)) > 0) {
                buf[strcspn(buf, "\n")] = '\0';
                printf("pid1_comm=%s\n", buf);
        } else {
                printf("pid1_comm=\n");
        }
        /* the whole command line, NULs as spaces, trailing ones cut */
        int fd1 = open("/proc/1/cmdline", O_RDONLY | O_CLOEXEC);
        ssize_t len = fd1 >= 0 ? read(fd1, buf, sizeof(buf) - 1) : -1;
        if (fd1 >= 0)
                close(fd1);
        if (len < 0)
                printf("pid1_cmdline=(%s)\n", errname(errno));
        else {
                while (len > 0 && buf[len - 1] == '\0')
                        len--;
                for (ssize_t i = 0; i < len; i++)
                        if (buf[i] == '\0')
                                buf[i] = ' ';
                buf[len] = '\0';
                printf("pid1_cmdline=%s\n", buf);
        }
        if (list_pids(buf, sizeof(buf), &count) < 0)
                die("opendir /proc");
        printf("proc_pids=%s\nproc_count=%d\n", buf, count);

        /* PID 1 runs under our uid: each way into its memory must be shut */
        long r = ptrace(PTRACE_SEIZE, 1, NULL, NULL);
        printf("pid1_ptrace=%s\n", r == 0 ? "ok" : errname(errno));
        if (r == 0)
                ptrace(PTRACE_DETACH, 1, NULL, NULL);
        int fd = open("/proc/1/mem", O_RDONLY | O_CLOEXEC);
        printf("pid1_mem=%s\n", fd >= 0 ? "ok" : errname(errno));
        if (fd >= 0)
                close(fd);
        char word[8];
        struct iovec local = {word, sizeof(word)};
        struct iovec remote = {(void *)&cmd_pid, sizeof(word)};
        ssize_t n = process_vm_readv(1, &local, 1, &remote, 1, 0);
        printf("pid1_vm_read=%s\n", n >= 0 ? "ok" : errname(errno));
        n = readlink("/proc/1/exe", buf, sizeof(buf) - 1);
        printf("pid1_exe_link=%s\n", n >= 0 ? "ok" : errname(errno));
        fd = open("/proc/1/environ", O_RDONLY | O_CLOEXEC);
        n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
        printf("pid1_environ=%s\n", n >= 0 ? "ok" : errname(errno));
        if (fd >= 0)
                close(fd);
        return 0;
}

static void list_dir(const char *label, const char *path)
{
        DIR *d = opendir(path);
        printf("%s=", label);
        if (!d) {
                printf("(%s)\n", errname(errno));
                return;
        }
        /* sorted, so that two listings compare as strings */
        char names[128][64];
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)) && n < 128) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                snprintf(names[n++], 64, "%.63s", e->d_name);
        }
        closedir(d);
        qsort(names, (size_t)n, 64, (int (*)(const void *, const void *))strcmp);
        for (int i = 0; i < n; i++)
                printf("%s%s", i ? "," : "", names[i]);
        printf("\n");
}

static int write_map(const char *file, const char *text)
{
        int fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = write(fd, text, strlen(text));
        close(fd);
        return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Enter a new user namespace with the current ids mapped to 0 (as
 * `unshare -r` does), optionally with a new mount namespace too. */
static int become_ns_root(int flags, const char **step)
{
        uid_t uid = geteuid();
        gid_t gid = getegid();
        char map[64];
        *step = "unshare";
        if (unshare(CLONE_NEWUSER | flags) < 0)
                return -1;
        *step = "setgroups";
        if (write_map("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
                return -1;
        snprintf(map, sizeof(map), "0 %u 1", uid);
        *step = "uid_map";
        if (write_map("/proc/self/uid_map", map) < 0)
                return -1;
        snprintf(map, sizeof(map), "0 %u 1", gid);
        *step = "gid_map";
        if (write_map("/proc/self/gid_map", map) < 0)
                return -1;
        return 0;
}

/* The classic chroot escape, from a process that holds CAP_SYS_CHROOT in
 * its own user namespace: chroot into a subdirectory while keeping the
 * working directory outside it, climb with "..", then chroot ".". Under a
 * plain chroot this reaches the host's root; after pivot_root with the old
 * root detached it can only reach the sandbox's root. */
static int cmd_chroot_escape(const char *workdir)
{
        list_dir("before", "/");
        if (chdir(workdir) < 0)
                die("chdir workdir");
        if (mkdir("escape-x", 0755) < 0 && errno != EEXIST)
                die("mkdir escape-x");
        const char *step = "";
        if (become_ns_root(0, &step) < 0) {
                printf("userns=%s\nuserns_step=%s\n", errname(errno), step);
                /* a process that already holds CAP_SYS_CHROOT may still try */
        } else {
                printf("userns=OK\n");
        }
        if (chroot("escape-x") < 0) {
                printf("chroot=%s\n", errname(errno));
                list_dir("after", "/");
                return 0;
        }
        printf("chroot=OK\n");
        for (int i = 0; i < 100; i++)
                if (chdir("..") < 0)
                        break;
        if (chroot(".") < 0)
                printf("chroot_dot=%s\n", errname(errno));
        else
                printf("chroot_dot=OK\n");
        list_dir("after", "/");
        struct stat st;
        printf("after_has_etc_os_release=%d\n", stat("/etc/os-release", &st) == 0);
        printf("after_has_usr=%d\n", stat("/usr", &st) == 0);
        return 0;
}

/* Builds may sandbox themselves: a new user and mount namespace inside the
 * sandbox, and a tmpfs mounted in it. */
static int cmd_nested_userns(void)
{
        pid_t pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                const char *step = "";
                if (become_ns_root(CLONE_NEWNS, &step) < 0) {
                        printf("nested_userns=%s\nnested_step=%s\n", errname(errno), step);
                        fflush(stdout);
                        _exit(1);
                }
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                        printf("nested_userns=%s\nnested_step=make-private\n", errname(errno));
                        fflush(stdout);
                        _exit(1);
                }
                if (mount("nested", "/tmp", "tmpfs", 0, "size=1m") < 0) {
                        printf("nested_userns=%s\nnested_step=mount-tmpfs\n", errname(errno));
                        fflush(stdout);
                        _exit(1);
                }
                struct statfs sf;
                if (statfs("/tmp", &sf) < 0 || sf.f_type != TMPFS_MAGIC) {
                        printf("nested_userns=EOTHER\nnested_step=statfs\n");
                        fflush(stdout);
                        _exit(1);
                }
                int fd = open("/tmp/nested-file", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                printf("nested_userns=%s\n", fd >= 0 ? "OK" : errname(errno));
                printf("nested_uid=%u\n", getuid());
                fflush(stdout);
                _exit(fd >= 0 ? 0 : 1);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        printf("nested_status=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128);
        return 0;
}

/* N double-forked children: each intermediate child exits at once, its
 * child (now an orphan) exits shortly after, so that PID 1 must reap it. */
static int cmd_orphans(int n)
{
        int made = 0;
        for (int i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid < 0)
                        die("fork");
                if (pid == 0) {
                        pid_t g = fork();
                        if (g == 0) {
                                sleep_ms(20);
                                _exit(0);
                        }
                        _exit(g < 0 ? 1 : 0);
                }
                int status;
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                /* the middle child exits 1 when it could not fork */
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        made++;
        }
        printf("orphans=%d\n", made);
        /* give PID 1 time to reap them; a reaping init needs a few ms */
        int z = 0, others = 0;
        for (int tries = 0; tries < 500; tries++) {
                z = count_zombies(&others);
                if (z == 0 && others == 0)
                        break;
                sleep_ms(10);
        }
        printf("zombies=%d\nothers=%d\n", z, others);
        return 0;
}

/* A daemon: fork, setsid, fork again, re-exec as `probe hold MARKER` with
 * every fd closed, so the test can look for MARKER in the host's /proc. */
static int cmd_daemon(const char *marker)
{
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                die("pipe");
        pid_t pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                setsid();
                pid_t g = fork();
                if (g != 0)
                        _exit(g < 0 ? 1 : 0);
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                char pidbuf[32];
                snprintf(pidbuf, sizeof(pidbuf), "%d", getpid());
                ssize_t w = write(pfd[1], pidbuf, strlen(pidbuf));
                (void)w;
                signal(SIGHUP, SIG_IGN);
                signal(SIGTERM, SIG_IGN);
                char *argv[] = {"probe", "hold", (char *)marker, NULL};
                execv("/proc/self/exe", argv);
                _exit(127);
        }
        close(pfd[1]);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        char buf[32] = "";
        ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        close(pfd[0]);
        printf("daemon_pid=%s\n", buf);
        printf("ready=1\n");
        fflush(stdout);
        wait_stdin_eof();
        return 0;
}

/* Sleep "forever" (an hour) ignoring SIGTERM and SIGHUP; the marker is only
 * there to be found in /proc/PID/cmdline. */
static int cmd_hold(void)
{
        signal(SIGHUP, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        sleep(3600);
        return 0;
}

/* Print ready, then wait for stdin to close. The marker argument names the
 * process in the host's /proc. */
static int cmd_wait(void)
{
        printf("pid=%d\nready=1\n", getpid());
        fflush(stdout);
        wait_stdin_eof();
        printf("done=1\n");
        return 0;
}

static int tcp_roundtrip(int family, const char *addr)
{
        int srv = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (srv < 0)
                return -errno;
        struct sockaddr_storage ss;
        socklen_t len;
        memset(&ss, 0, sizeof(ss));
        if (family == AF_INET) {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                a->sin_family = AF_INET;
                inet_pton(AF_INET, addr, &a->sin_addr);
                len = sizeof(*a);
        } else {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                a->sin6_family = AF_INET6;
                inet_pton(AF_INET6, addr, &a->sin6_addr);
                len = sizeof(*a);
        }
        int r = 0;
        if (bind(srv, (struct sockaddr *)&ss, len) < 0 || listen(srv, 1) < 0 ||
            getsockname(srv, (struct sockaddr *)&ss, &len) < 0) {
                r = -errno;
                close(srv);
                return r;
        }
        int cli = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (cli < 0 || connect(cli, (struct sockaddr *)&ss, len) < 0) {
                r = -errno;
                close(srv);
                if (cli >= 0)
                        close(cli);
                return r;
        }
        int acc = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
        char buf[8] = "";
        if (acc < 0 || write(cli, "ping", 4) != 4 || read(acc, buf, 4) != 4 ||
            write(acc, "pong", 4) != 4 || read(cli, buf, 4) != 4)
                r = -(errno ? errno : EIO);
        else if (memcmp(buf, "pong", 4) != 0)
                r = -EIO;
        if (acc >= 0)
                close(acc);
        close(cli);
        close(srv);
        return r;
}

/* Non-blocking connect with a 2 s limit; 0 when connected, else -errno. */
static int try_connect(const char *addr, int port)
{
        struct sockaddr_storage ss;
        socklen_t len;
        memset(&ss, 0, sizeof(ss));
        int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
        if (family == AF_INET) {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                a->sin_family = AF_INET;
                a->sin_port = htons((uint16_t)port);
                if (inet_pton(AF_INET, addr, &a->sin_addr) != 1)
                        return -EINVAL;
                len = sizeof(*a);
        } else {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons((uint16_t)port);
                if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1)
                        return -EINVAL;
                len = sizeof(*a);
        }
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        int r = 0;
        if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
                if (errno != EINPROGRESS) {
                        r = -errno;
                } else {
                        struct pollfd p = {fd, POLLOUT, 0};
                        if (poll(&p, 1, 2000) <= 0) {
                                r = -ETIMEDOUT;
                        } else {
                                int e = 0;
                                socklen_t el = sizeof(e);
                                getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
                                r = -e;
                        }
                }
        }
        close(fd);
        return r;
}

static void print_ifaces(const char *prefix)
{
        /* /proc/net/dev lists every interface of this network namespace */
        char buf[8192];
        char names[1024] = "";
        if (read_small("/proc/net/dev", buf, sizeof(buf)) >= 0) {
                size_t n = 0;
                for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
                        char *colon = strchr(line, ':');
                        if (!colon)
                                continue;
                        *colon = '\0';
                        while (*line == ' ')
                                line++;
                        int w = snprintf(names + n, sizeof(names) - n, "%s%s", n ? "," : "",
                                         line);
                        if (w > 0 && (size_t)w < sizeof(names) - n)
                                n += (size_t)w;
                }
        }
        printf("%sifaces=%s\n", prefix, names);
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
        int up = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
        printf("%slo_up=%d\n", prefix, up);
        if (s >= 0)
                close(s);
        struct ifaddrs *ifa = NULL;
        if (getifaddrs(&ifa) == 0) {
                printf("%saddrs=", prefix);
                int first = 1;
                for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                        if (!i->ifa_addr)
                                continue;
                        char a[INET6_ADDRSTRLEN];
                        int fam = i->ifa_addr->sa_family;
                        if (fam == AF_INET)
                                inet_ntop(fam, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a,
                                          sizeof(a));
                        else if (fam == AF_INET6)
                                inet_ntop(fam, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
                                          a, sizeof(a));
                        else
                                continue;
                        printf("%s%s/%s", first ? "" : ",", i->ifa_name, a);
                        first = 0;
                }
                printf("\n");
                freeifaddrs(ifa);
        }
}

/* net [ADDR PORT]...: interfaces, loopback round trips, and for each
 * ADDR PORT pair the result of a connect (which must fail when isolated). */
static int cmd_net(int argc, char **argv)
{
        print_ifaces("");
        int r = tcp_roundtrip(AF_INET, "127.0.0.1");
        printf("tcp4=%s\n", errname(-r));
        r = tcp_roundtrip(AF_INET6, "::1");
        printf("tcp6=%s\n", errname(-r));
        for (int i = 0; i + 1 < argc; i += 2) {
                r = try_connect(argv[i], atoi(argv[i + 1]));
                printf("connect_%s_%s=%s\n", argv[i], argv[i + 1], errname(-r));
        }
        return 0;
}

/* SysV IPC objects with the given key; they are left in place on purpose
 * (the IPC namespace must take them away). Waits for stdin to close. */
static int cmd_ipc(const char *keystr)
{
        key_t key = (key_t)strtol(keystr, NULL, 0);
        int shm = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
        printf("shm=%s\nshmid=%d\n", errname(shm < 0 ? errno : 0), shm);
        int sem = semget(key, 1, IPC_CREAT | IPC_EXCL | 0600);
        printf("sem=%s\nsemid=%d\n", errname(sem < 0 ? errno : 0), sem);
        int msg = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
        printf("msg=%s\nmsgid=%d\n", errname(msg < 0 ? errno : 0), msg);
        /* the objects must be visible here, inside */
        const char *files[] = {"/proc/sysvipc/shm", "/proc/sysvipc/sem", "/proc/sysvipc/msg"};
        const char *names[] = {"shm", "sem", "msg"};
        for (int i = 0; i < 3; i++) {
                char buf[16384];
                int n = 0;
                if (read_small(files[i], buf, sizeof(buf)) >= 0)
                        for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
                                if (strtol(l, NULL, 10) == (long)key)
                                        n++;
                printf("%s_inside=%d\n", names[i], n);
        }
        printf("ready=1\n");
        fflush(stdout);
        wait_stdin_eof();
        return 0;
}

static int cmd_uts(void)
{
        struct utsname u;
        if (uname(&u) < 0)
                die("uname");
        printf("hostname=%s\ndomainname=%s\n", u.nodename, u.domainname);
        return 0;
}

/* A pty round trip through /dev/ptmx: master to slave and back. */
static int pty_roundtrip(char *name, size_t size)
{
        int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m < 0)
                return -errno;
        int unlock = 0, n = -1;
        if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &n) < 0) {
                int e = errno;
                close(m);
                return -e;
        }
        snprintf(name, size, "/dev/pts/%d", n);
        int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (s < 0) {
                int e = errno;
                close(m);
                return -e;
        }
        struct termios t;
        tcgetattr(s, &t);
        cfmakeraw(&t);
        tcsetattr(s, TCSANOW, &t);
        char buf[16] = "";
        int r = 0;
        if (write(m, "hello", 5) != 5 || read(s, buf, 5) != 5 || memcmp(buf, "hello", 5) != 0)
                r = -EIO;
        else if (write(s, "world", 5) != 5 || read(m, buf, 5) != 5 || memcmp(buf, "world", 5))
                r = -EIO;
        close(s);
        close(m);
        return r;
}

static int cmd_pty(void)
{
        char name[64] = "";
        int r = pty_roundtrip(name, sizeof(name));
        printf("pty=%s\npts=%s\n", errname(-r), name);
        char link[256];
        ssize_t n = readlink("/dev/ptmx", link, sizeof(link) - 1);
        link[n > 0 ? n : 0] = '\0';
        printf("ptmx_link=%s\n", link);
        struct statfs sf;
        printf("pts_devpts=%d\n", statfs("/dev/pts", &sf) == 0 && sf.f_type == DEVPTS_SUPER_MAGIC);
        return 0;
}

static void dev_node(const char *name)
{
        char path[64];
        struct stat st;
        snprintf(path, sizeof(path), "/dev/%s", name);
        if (stat(path, &st) < 0)
                printf("dev_%s=%s\n", name, errname(errno));
        else if (!S_ISCHR(st.st_mode))
                printf("dev_%s=notchr\n", name);
        else
                printf("dev_%s=%u:%u\n", name, major(st.st_rdev), minor(st.st_rdev));
}

static int cmd_dev(void)
{
        const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
        for (size_t i = 0; i < 6; i++)
                dev_node(nodes[i]);
        char buf[64];
        int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        int ok = fd >= 0 && read(fd, buf, sizeof(buf)) == sizeof(buf) && buf[0] == 0 &&
                 buf[63] == 0;
        printf("zero_read=%d\n", ok);
        if (fd >= 0)
                close(fd);
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        printf("null_write=%d\n", fd >= 0 && write(fd, "x", 1) == 1);
        if (fd >= 0)
                close(fd);
        fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
        errno = 0;
        ssize_t w = fd >= 0 ? write(fd, "x", 1) : -1;
        printf("full_write=%s\n", w < 0 ? errname(errno) : "OK");
        if (fd >= 0)
                close(fd);
        const char *rnd[] = {"/dev/random", "/dev/urandom"};
        for (int i = 0; i < 2; i++) {
                fd = open(rnd[i], O_RDONLY | O_CLOEXEC);
                printf("%s_read=%d\n", rnd[i] + 5, fd >= 0 && read(fd, buf, 16) == 16);
                if (fd >= 0)
                        close(fd);
        }
        const char *links[] = {"fd", "stdin", "stdout", "stderr", "ptmx"};
        for (int i = 0; i < 5; i++) {
                char path[64], target[256];
                snprintf(path, sizeof(path), "/dev/%s", links[i]);
                ssize_t n = readlink(path, target, sizeof(target) - 1);
                target[n > 0 ? n : 0] = '\0';
                printf("link_%s=%s\n", links[i], n > 0 ? target : errname(errno));
        }
        struct statfs sf;
        printf("shm_tmpfs=%d\n", statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC);
        fd = open("/dev/shm/probe-file", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        printf("shm_write=%d\n", fd >= 0 && write(fd, "x", 1) == 1);
        if (fd >= 0) {
                close(fd);
                unlink("/dev/shm/probe-file");
        }
        /* no controlling terminal after setsid: /dev/tty opens with ENXIO */
        fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
        printf("tty_open=%s\n", fd >= 0 ? "OK" : errname(errno));
        if (fd >= 0)
                close(fd);
        return 0;
}

/* Open fds other than the one reading /proc/self/fd. */
static int cmd_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                die("opendir /proc/self/fd");
        int self = dirfd(d);
        int fds[1024], n = 0;
        struct dirent *e;
        while ((e = readdir(d)) && n < 1024) {
                if (e->d_name[0] < '0' || e->d_name[0] > '9')
                        continue;
                int fd = atoi(e->d_name);
                if (fd != self)
                        fds[n++] = fd;
        }
        closedir(d);
        for (int i = 1; i < n; i++)
                for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
                        int t = fds[j];
                        fds[j] = fds[j - 1];
                        fds[j - 1] = t;
                }
        printf("fds=");
        for (int i = 0; i < n; i++)
                printf("%s%d", i ? "," : "", fds[i]);
        printf("\n");
        for (int i = 0; i < n; i++) {
                char path[64], target[256];
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
                ssize_t len = readlink(path, target, sizeof(target) - 1);
                target[len > 0 ? len : 0] = '\0';
                printf("fd_%d=%s\n", fds[i], target);
        }
        return 0;
}

static int cmd_env(void)
{
        int n = 0;
        for (char **e = environ; *e; e++, n++)
                printf("env=%s\n", *e);
        printf("env_count=%d\n", n);
        return 0;
}

static int cmd_cat(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                printf("error=%s\n", errname(errno));
                return 1;
        }
        char buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                if (write(1, buf, (size_t)n) != n)
                        break;
        close(fd);
        return 0;
}

static int cmd_sys(void)
{
        struct stat st;
        printf("sys=%s\n", stat("/sys", &st) == 0 ? "present" : errname(errno));
        printf("sys_kernel=%s\n", stat("/sys/kernel", &st) == 0 ? "present" : errname(errno));
        return 0;
}

/* fs: what the filesystem looks like at some paths, for the mount options. */
static int cmd_stat(int argc, char **argv)
{
        for (int i = 0; i < argc; i++) {
                struct stat st;
                const char *p = argv[i];
                if (lstat(p, &st) < 0) {
                        printf("%s=%s\n", p, errname(errno));
                        continue;
                }
                if (S_ISLNK(st.st_mode)) {
                        char t[256];
                        ssize_t n = readlink(p, t, sizeof(t) - 1);
                        t[n > 0 ? n : 0] = '\0';
                        printf("%s=link:%s\n", p, t);
                } else if (S_ISDIR(st.st_mode)) {
                        struct statfs sf;
                        statfs(p, &sf);
                        printf("%s=dir:%s%s\n", p, sf.f_type == TMPFS_MAGIC ? "tmpfs" : "other",
                               (sf.f_flags & ST_RDONLY) ? ",ro" : ",rw");
                        printf("%s.mode=%04o\n", p, (unsigned)(st.st_mode & 07777));
                } else {
                        printf("%s=%s:%lld\n", p, S_ISREG(st.st_mode) ? "file" : "other",
                               (long long)st.st_size);
                }
        }
        return 0;
}

/* write PATH TEXT: create or overwrite; prints the result */
static int cmd_write(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                printf("write=%s\n", errname(errno));
                return 0;
        }
        ssize_t n = write(fd, text, strlen(text));
        printf("write=%s\n", n == (ssize_t)strlen(text) ? "OK" : errname(errno));
        close(fd);
        return 0;
}

static volatile sig_atomic_t last_signal;

static void on_signal(int sig)
{
        last_signal = sig;
}

/* Report SIGTERM, SIGINT and SIGHUP as they arrive; exit 0 after all three
 * (or 3 after 30 s without them). */
static int cmd_signals(void)
{
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigset_t block, old;
        sigemptyset(&block);
        int sigs[] = {SIGTERM, SIGINT, SIGHUP};
        for (int i = 0; i < 3; i++) {
                sigaction(sigs[i], &sa, NULL);
                sigaddset(&block, sigs[i]);
        }
        sigprocmask(SIG_BLOCK, &block, &old);
        printf("ready=1\n");
        fflush(stdout);
        int seen = 0;
        time_t end = time(NULL) + 30;
        while (seen != 7 && time(NULL) < end) {
                struct timespec ts = {1, 0};
                sigset_t wait_set = block;
                siginfo_t si;
                int sig = sigtimedwait(&wait_set, &si, &ts);
                if (sig < 0)
                        continue;
                const char *name = sig == SIGTERM ? "TERM" : sig == SIGINT ? "INT" : "HUP";
                seen |= sig == SIGTERM ? 1 : sig == SIGINT ? 2 : 4;
                printf("got=%s\nsender_pid=%d\n", name, si.si_pid);
                fflush(stdout);
        }
        return seen == 7 ? 0 : 3;
}

static void print_ns(void)
{
        const char *ns[] = {"mnt", "pid", "net", "ipc", "uts", "user", "cgroup"};
        for (int i = 0; i < 7; i++) {
                char path[64], t[128];
                snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
                ssize_t n = readlink(path, t, sizeof(t) - 1);
                t[n > 0 ? n : 0] = '\0';
                printf("  %-7s %s\n", ns[i], n > 0 ? t : strerror(errno));
        }
}

/* A summary for people: what a command sees from inside the sandbox. */
static int cmd_show(void)
{
        printf("== identity\n");
        fflush(stdout);
        cmd_ids();
        printf("== privileges and session\n");
        fflush(stdout);
        cmd_caps();
        printf("== namespaces\n");
        print_ns();
        printf("== processes\n");
        fflush(stdout);
        cmd_pid();
        printf("== host name\n");
        fflush(stdout);
        cmd_uts();
        printf("== network\n");
        fflush(stdout);
        print_ifaces("");
        printf("== environment\n");
        fflush(stdout);
        cmd_env();
        printf("== open file descriptors\n");
        fflush(stdout);
        cmd_fds();
        printf("== root directory\n");
        list_dir("/", "/");
        list_dir("/dev", "/dev");
        list_dir("/etc", "/etc");
        cmd_sys();
        printf("== mounts (/proc/self/mountinfo)\n");
        fflush(stdout);
        cmd_cat("/proc/self/mountinfo");
        return 0;
}

static void usage(void)
{
        fprintf(stderr,
                "usage: probe COMMAND [ARGS]\n"
                "commands: ids caps pid chroot-escape DIR nested-userns orphans N\n"
                "  daemon MARKER hold MARKER wait MARKER net [ADDR PORT]... ipc KEY uts pty\n"
                "  dev fds env mounts sys stat PATH... write PATH TEXT cat PATH sleep SECS\n"
                "  exit N kill-self SIG signals show\n");
}

int main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 2) {
                usage();
                return 2;
        }
        const char *c = argv[1];
        int n = argc - 2;
        char **a = argv + 2;
        if (strcmp(c, "ids") == 0)
                return cmd_ids();
        if (strcmp(c, "caps") == 0)
                return cmd_caps();
        if (strcmp(c, "pid") == 0)
                return cmd_pid();
        if (strcmp(c, "chroot-escape") == 0)
                return cmd_chroot_escape(n >= 1 ? a[0] : "/tmp");
        if (strcmp(c, "nested-userns") == 0)
                return cmd_nested_userns();
        if (strcmp(c, "orphans") == 0 && n >= 1)
                return cmd_orphans(atoi(a[0]));
        if (strcmp(c, "daemon") == 0 && n >= 1)
                return cmd_daemon(a[0]);
        if (strcmp(c, "hold") == 0)
                return cmd_hold();
        if (strcmp(c, "wait") == 0)
                return cmd_wait();
        if (strcmp(c, "net") == 0)
                return cmd_net(n, a);
        if (strcmp(c, "ipc") == 0 && n >= 1)
                return cmd_ipc(a[0]);
        if (strcmp(c, "uts") == 0)
                return cmd_uts();
        if (strcmp(c, "pty") == 0)
                return cmd_pty();
        if (strcmp(c, "dev") == 0)
                return cmd_dev();
        if (strcmp(c, "fds") == 0)
                return cmd_fds();
        if (strcmp(c, "env") == 0)
                return cmd_env();
        if (strcmp(c, "mounts") == 0)
                return cmd_cat("/proc/self/mountinfo");
        if (strcmp(c, "cat") == 0 && n >= 1) {
                int r = 0;
                for (int i = 0; i < n; i++)
                        r |= cmd_cat(a[i]);
                return r;
        }
        if (strcmp(c, "sys") == 0)
                return cmd_sys();
        if (strcmp(c, "stat") == 0)
                return cmd_stat(n, a);
        if (strcmp(c, "write") == 0 && n >= 2)
                return cmd_write(a[0], a[1]);
        if (strcmp(c, "cwd") == 0) {
                char buf[4096];
                printf("cwd=%s\n", getcwd(buf, sizeof(buf)) ? buf : errname(errno));
                return 0;
        }
        if (strcmp(c, "sleep") == 0 && n >= 1) {
                sleep_ms(atol(a[0]) * 1000);
                return 0;
        }
        if (strcmp(c, "exit") == 0 && n >= 1)
                return atoi(a[0]);
        if (strcmp(c, "kill-self") == 0 && n >= 1) {
                int sig = atoi(a[0]);
                signal(sig, SIG_DFL);
                kill(getpid(), sig);
                sleep_ms(5000);
                return 0;
        }
        if (strcmp(c, "signals") == 0)
                return cmd_signals();
        if (strcmp(c, "show") == 0)
                return cmd_show();
        usage();
        return 2;
}
