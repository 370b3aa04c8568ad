/* probe-harden: a static program run inside a sandbox (or under the bare
 * filter) that reports what the hardening lets it do. Built 64-bit and, when
 * gcc-multilib works, -m32 for the i386 ABI. System calls are made raw so the
 * C library can neither hide nor emulate them.
 *   probe-harden seccomp DIR     one "CLASS ERRNO" line per denied class
 *   probe-harden uname           "machine release"
 *   probe-harden persona         personality value, umask, a stack and an mmap address
 *   probe-harden hog MIB         touch MIB MiB of memory, then print "survived"
 *   probe-harden spin MS         burn MS milliseconds of CPU time
 *   probe-harden spinwall MS     burn CPU for MS milliseconds of wall-clock time
 *   probe-harden threads N       start and join N threads
 *   probe-harden pty             open a pty pair and pass a line through it
 *   probe-harden cgroup          print /proc/self/cgroup */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[4096];

static const char *in_dir(const char *name)
{
        static char buf[2][4200];
        static int which;
        which ^= 1;
        snprintf(buf[which], sizeof(buf[which]), "%s/%s", dir, name);
        return buf[which];
}

static void report(const char *cls, long r)
{
        printf("%s %d\n", cls, r < 0 ? errno : 0);
}

/* a plain file to work on, made without setuid bits */
static int plain_file(const char *name)
{
        return (int)syscall(SYS_openat, AT_FDCWD, in_dir(name), O_CREAT | O_RDWR | O_CLOEXEC,
                            0644);
}

#if defined(__x86_64__)
/* The i386 system-call gate from a 64-bit process: int 0x80 with i386
 * numbers and 32-bit arguments (the path must sit below 4 GiB: static,
 * non-PIE). The kernel runs it as an i386 call (seccomp_data.arch is i386)
 * where IA32 emulation is on; where it is off there is no gate and the
 * process gets SIGSEGV. Made in a child, reported as the errno, 0, or 1000
 * plus the signal that ended the child. */
static char int80_path[4096];

static long int80(long nr, long a, long b, long c)
{
        __asm__ volatile("int $0x80"
                         : "+a"(nr)
                         : "b"(a), "c"(b), "d"(c)
                         : "memory", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
        return nr;
}

static void int80_report(const char *cls, long nr, long a, long b, long c)
{
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
                long r = int80(nr, a, b, c);
                _exit(r < 0 && r > -4096 ? (int)-r : 0);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0) {
                printf("%s -1\n", cls);
                return;
        }
        if (WIFSIGNALED(status))
                printf("%s %d\n", cls, 1000 + WTERMSIG(status));
        else
                printf("%s %d\n", cls, WEXITSTATUS(status));
}

static void int80_classes(void)
{
        snprintf(int80_path, sizeof(int80_path), "%s", in_dir("i80"));
        int fd = (int)syscall(SYS_openat, AT_FDCWD, int80_path, O_CREAT | O_RDWR | O_CLOEXEC,
                              0644);
        if (fd < 0 || (uintptr_t)int80_path > 0xffffffffu) {
                printf("int80_setup %d\n", fd < 0 ? errno : E2BIG);
                return;
        }
        close(fd);
        long path = (long)(uintptr_t)int80_path;
        int80_report("int80_getpid", 20, 0, 0, 0);
        int80_report("int80_chmod_suid", 15, path, 04755, 0);
        int80_report("int80_setxattr", 226, path, (long)(uintptr_t)"user.x", 0);
        int80_report("int80_userfaultfd", 374, 0, 0, 0);
        struct stat st;
        if (stat(int80_path, &st) == 0)
                printf("int80_suid_bit %d\n", (st.st_mode & S_ISUID) ? 1 : 0);
}
#else
static void int80_classes(void)
{
}
#endif

static void seccomp_classes(void)
{
        int fd = plain_file("f");
        if (fd < 0) {
                printf("setup %d\n", errno);
                return;
        }
        const char *f = in_dir("f");
#ifdef SYS_chmod
        report("chmod_suid", syscall(SYS_chmod, f, 04755));
        report("chmod_plain", syscall(SYS_chmod, f, 0755));
#endif
        report("fchmod_sgid", syscall(SYS_fchmod, fd, 02755));
        report("fchmodat_suid", syscall(SYS_fchmodat, AT_FDCWD, f, 04755));
        report("fchmodat_plain", syscall(SYS_fchmodat, AT_FDCWD, f, 0700));
        /* fchmodat2 (Linux 6.6) and the *xattrat calls (6.13) by number: the
         * C library may not know them */
        report("fchmodat2_suid", syscall(452, AT_FDCWD, f, 04755, 0));
        report("fchmodat2_sgid", syscall(452, AT_FDCWD, f, 02755, 0));
        report("fchmodat2_plain", syscall(452, AT_FDCWD, f, 0750, 0));
#ifdef SYS_open
        report("open_sgid", syscall(SYS_open, in_dir("o"), O_CREAT | O_WRONLY, 02755));
#endif
        report("openat_suid", syscall(SYS_openat, AT_FDCWD, in_dir("oa"), O_CREAT | O_WRONLY,
                                      04755));
        report("openat_plain", syscall(SYS_openat, AT_FDCWD, in_dir("ob"), O_CREAT | O_WRONLY,
                                       0644));
#ifdef SYS_creat
        report("creat_suid", syscall(SYS_creat, in_dir("c"), 04755));
#endif
#ifdef SYS_mkdir
        report("mkdir_sgid", syscall(SYS_mkdir, in_dir("d"), 02755));
#endif
        report("mkdirat_sgid", syscall(SYS_mkdirat, AT_FDCWD, in_dir("da"), 02755));
        report("mkdirat_plain", syscall(SYS_mkdirat, AT_FDCWD, in_dir("db"), 0755));
#ifdef SYS_mknod
        report("mknod_suid", syscall(SYS_mknod, in_dir("n"), S_IFIFO | 04644, 0));
#endif
        report("mknodat_sgid", syscall(SYS_mknodat, AT_FDCWD, in_dir("na"), S_IFIFO | 02644, 0));
        report("mknodat_plain", syscall(SYS_mknodat, AT_FDCWD, in_dir("nb"), S_IFIFO | 0644, 0));
        report("openat2", syscall(437, AT_FDCWD, in_dir("o2"), (void *)0, 0));
        report("setxattr", syscall(SYS_setxattr, f, "user.x", "1", 1, 0));
        report("lsetxattr", syscall(SYS_lsetxattr, f, "user.x", "1", 1, 0));
        report("fsetxattr", syscall(SYS_fsetxattr, fd, "user.x", "1", 1, 0));
        char buf[256];
        report("getxattr", syscall(SYS_getxattr, f, "user.x", buf, sizeof(buf)));
        report("listxattr", syscall(SYS_listxattr, f, buf, sizeof(buf)));
        report("llistxattr", syscall(SYS_llistxattr, f, buf, sizeof(buf)));
        report("flistxattr", syscall(SYS_flistxattr, fd, buf, sizeof(buf)));
        report("removexattr", syscall(SYS_removexattr, f, "user.x"));
        report("lremovexattr", syscall(SYS_lremovexattr, f, "user.x"));
        report("fremovexattr", syscall(SYS_fremovexattr, fd, "user.x"));
        report("setxattrat", syscall(463, AT_FDCWD, f, 0, "user.x", (void *)0, 0));
        report("getxattrat", syscall(464, AT_FDCWD, f, 0, "user.x", (void *)0, 0));
        report("listxattrat", syscall(465, AT_FDCWD, f, 0, buf, sizeof(buf)));
        report("removexattrat", syscall(466, AT_FDCWD, f, 0, "user.x"));
        char c = 'x';
        /* fd is a plain file: without the filter these fail with ENOTTY */
        report("tiocsti", syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI, &c));
        report("tioclinux", syscall(SYS_ioctl, fd, (unsigned long)TIOCLINUX, &c));
#if UINTPTR_MAX > 0xffffffffu
        report("tiocsti_high", syscall(SYS_ioctl, fd, (1ul << 32) | TIOCSTI, &c));
#endif
        int n = 0;
        report("ioctl_fionread", syscall(SYS_ioctl, fd, (unsigned long)FIONREAD, &n));
        report("io_uring_setup", syscall(425, 1, buf));
        report("io_uring_enter", syscall(426, -1, 0, 0, 0, (void *)0, 0));
        report("io_uring_register", syscall(427, -1, 0, (void *)0, 0));
        report("userfaultfd", syscall(SYS_userfaultfd, 0));
        report("bpf", syscall(SYS_bpf, 0, buf, 0));
        report("perf_event_open", syscall(SYS_perf_event_open, buf, 0, -1, -1, 0));
        report("add_key", syscall(SYS_add_key, "user", "k", "v", 1, -2));
        report("request_key", syscall(SYS_request_key, "user", "k", (void *)0, 0));
        report("keyctl", syscall(SYS_keyctl, 0, -2, 0));
        report("kexec_load", syscall(SYS_kexec_load, 0, 0, (void *)0, 0));
#ifdef SYS_kexec_file_load
        report("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, "", 0));
#endif
        report("init_module", syscall(SYS_init_module, (void *)0, 0, ""));
        report("finit_module", syscall(SYS_finit_module, -1, "", 0));
        report("delete_module", syscall(SYS_delete_module, "nope", 0));
        report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, (void *)0, 0));
        /* mseal (Linux 6.10) with length 0 succeeds where it exists: a call
         * newer than the filter's list must still be ENOSYS */
        report("mseal_new", syscall(462, 0, 0, 0));
        report("unknown_1000", syscall(1000, 0, 0, 0));
        report("getpid", syscall(SYS_getpid));
        close(fd);
        int80_classes();
}

static void *thread_main(void *arg)
{
        return arg;
}

int main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc >= 3 && strcmp(argv[1], "seccomp") == 0) {
                snprintf(dir, sizeof(dir), "%s", argv[2]);
                seccomp_classes();
                return 0;
        }
        if (argc >= 2 && strcmp(argv[1], "uname") == 0) {
                struct utsname u;
                if (uname(&u) < 0)
                        return 1;
                printf("%s %s\n", u.machine, u.release);
                return 0;
        }
        if (argc >= 2 && strcmp(argv[1], "persona") == 0) {
                int stack_var = 0;
                void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                mode_t old = umask(0);
                printf("personality=0x%x umask=%03o stack=%p mmap=%p\n",
                       (unsigned)personality(0xffffffff), (unsigned)old, (void *)&stack_var, m);
                return 0;
        }
        if (argc >= 4 && strcmp(argv[1], "fill") == 0) {
                /* memory no process owns: tmpfs pages, charged to the cgroup */
                size_t mib = strtoul(argv[3], NULL, 10);
                int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0) {
                        printf("open failed: %s\n", strerror(errno));
                        return 3;
                }
                static char chunk[1 << 20];
                memset(chunk, 0x5a, sizeof(chunk));
                for (size_t i = 0; i < mib; i++)
                        if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk)) {
                                printf("write failed at %zu MiB: %s\n", i, strerror(errno));
                                return 3;
                        }
                close(fd);
                printf("filled\n");
                return 0;
        }
        if (argc >= 3 && strcmp(argv[1], "child-hog") == 0) {
                /* a child takes the memory; this process stays small and
                 * says how the child ended */
                fflush(stdout);
                pid_t pid = fork();
                if (pid < 0)
                        return 3;
                if (pid == 0) {
                        size_t mib = strtoul(argv[2], NULL, 10);
                        for (size_t i = 0; i < mib; i++) {
                                char *p = malloc(1 << 20);
                                if (!p)
                                        _exit(3);
                                memset(p, 0x5a, 1 << 20);
                        }
                        _exit(0);
                }
                int st = 0;
                while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                        ;
                if (WIFSIGNALED(st))
                        printf("child signal %d\n", WTERMSIG(st));
                else
                        printf("child exit %d\n", WEXITSTATUS(st));
                return 0;
        }
        if (argc >= 3 && strcmp(argv[1], "hog") == 0) {
                size_t mib = strtoul(argv[2], NULL, 10);
                for (size_t i = 0; i < mib; i++) {
                        char *p = malloc(1 << 20);
                        if (!p) {
                                printf("malloc failed at %zu MiB\n", i);
                                return 3;
                        }
                        memset(p, 0x5a, 1 << 20);
                }
                printf("survived\n");
                return 0;
        }
        if (argc >= 3 && (strcmp(argv[1], "spin") == 0 || strcmp(argv[1], "spinwall") == 0)) {
                long ms = strtol(argv[2], NULL, 10);
                /* spin: MS of CPU time; spinwall: MS of wall-clock time */
                clockid_t clk = strcmp(argv[1], "spin") == 0 ? CLOCK_PROCESS_CPUTIME_ID
                                                              : CLOCK_MONOTONIC;
                struct timespec a, b;
                clock_gettime(clk, &a);
                volatile unsigned long x = 0;
                do {
                        for (int i = 0; i < 100000; i++)
                                x += (unsigned long)i;
                        clock_gettime(clk, &b);
                } while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
                return 0;
        }
        if (argc >= 3 && strcmp(argv[1], "threads") == 0) {
                int n = atoi(argv[2]);
                for (int i = 0; i < n; i++) {
                        pthread_t t;
                        if (pthread_create(&t, NULL, thread_main, NULL) != 0 ||
                            pthread_join(t, NULL) != 0) {
                                printf("thread %d failed\n", i);
                                return 1;
                        }
                }
                printf("threads ok\n");
                return 0;
        }
        if (argc >= 2 && strcmp(argv[1], "pty") == 0) {
                /* what script(1), expect and test suites do: a pty pair */
                int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) {
                        printf("openpt: %s\n", strerror(errno));
                        return 1;
                }
                const char *name = ptsname(m);
                int s = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
                if (s < 0) {
                        printf("open slave: %s\n", strerror(errno));
                        return 1;
                }
                char buf[16] = {0};
                if (write(m, "ping\n", 5) != 5 || read(s, buf, sizeof(buf) - 1) < 4 ||
                    strncmp(buf, "ping", 4) != 0) {
                        printf("pty echo failed\n");
                        return 1;
                }
                printf("pty ok %s\n", name);
                return 0;
        }
        if (argc >= 2 && strcmp(argv[1], "cgroup") == 0) {
                FILE *f = fopen("/proc/self/cgroup", "re");
                if (!f)
                        return 1;
                char line[512];
                while (fgets(line, sizeof(line), f))
                        fputs(line, stdout);
                fclose(f);
                return 0;
        }
        fprintf(stderr, "usage: probe-harden seccomp DIR|uname|persona|hog MIB|spin MS|"
                        "threads N|cgroup\n");
        return 2;
}
