/* build-test: the helpers the build tests share (see build-test.h); each
 * fails the running test (FAIL/CHECK) instead of returning an error. */
#include "build-test.h"
#include "base/base-cleanup.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                FAIL("out of memory");
        va_end(ap);
        return s;
}

bool real_root(void)
{
        _cleanup_free_ char *map = tap_read_file("/proc/self/uid_map");
        unsigned a, b, n;
        return getuid() == 0 && map && sscanf(map, "%u %u %u", &a, &b, &n) == 3 && a == 0 &&
               b == 0 && n == 4294967295u;
}

void chomp(char *s)
{
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '\n')
                s[--n] = '\0';
}

void build_test_copy_busybox(const char *tmp)
{
        _cleanup_free_ char *dir = xasprintf("%s/busybox", tmp);
        _cleanup_free_ char *bin = xasprintf("%s/busybox/bin", tmp);
        _cleanup_free_ char *exe = xasprintf("%s/busybox/bin/busybox", tmp);
        CHECK(mkdir(dir, 0755) == 0 && mkdir(bin, 0755) == 0);
        _cleanup_close_ int in = open("/bin/busybox", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int out = open(exe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
        CHECK(in >= 0 && out >= 0);
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof(buf))) > 0)
                CHECK(write(out, buf, (size_t)n) == n);
        CHECK(n == 0);
        /* whatever the umask: the build user runs it */
        CHECK(fchmod(out, 0755) == 0);
}

char *build_test_run_ok(char *const argv[])
{
        struct tap_run_result r;
        CHECK_OK(tap_run(argv, NULL, 60, &r));
        if (tap_exit_code(r.status) != 0)
                FAIL("%s %s: %s", argv[1], argv[2], r.err);
        chomp(r.out);
        char *out = strdup(r.out);
        CHECK(out);
        tap_run_result_free(&r);
        return out;
}

char *build_test_drv_out(const char *path)
{
        _cleanup_free_ char *text = tap_read_file(path);
        CHECK(text);
        char *p = strstr(text, "(\"out\",\"");
        CHECK(p);
        p += 8;
        return strndup(p, strcspn(p, "\""));
}

void build_test_check_dir_empty(const char *path, const char *what)
{
        DIR *d = opendir(path);
        if (!d) {
                CHECK(errno == ENOENT);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        FAIL("%s '%s' left behind in '%s'", what, de->d_name, path);
        closedir(d);
}
