/* libFuzzer target: restore arbitrary bytes as a NAR into a scratch directory.
 * Beyond no crash and no leak (ASan), it checks the restore contract: on
 * failure the target's directory is left empty, on success it holds exactly
 * the target, and nothing is ever written beside the scratch directory. */
#include "base/base-buf.h"
#include "base/base-cleanup.h"
#include "store/store-nar.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
        const uint8_t *data;
        size_t len, pos;
};

static ssize_t mem_read(void *userdata, void *buf, size_t len, struct cl_error *err)
{
        struct mem *m = userdata;
        (void)err;
        size_t k = m->len - m->pos;
        if (k > len)
                k = len;
        /* short reads on odd offsets exercise the parser's refills */
        if (k > 1 && (m->pos & 1))
                k = k / 2;
        memcpy(buf, m->data + m->pos, k);
        m->pos += k;
        return (ssize_t)k;
}

static int buf_sink(void *userdata, const void *data, size_t len, struct cl_error *err)
{
        (void)err;
        return buf_append(userdata, data, len);
}

static int count_entries(int dirfd)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        DIR *d = fdopendir(fd);
        if (!d)
                abort();
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

static void remove_tree(int dirfd, const char *name)
{
        if (unlinkat(dirfd, name, 0) == 0)
                return;
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                abort();
        /* restored directories may be read-only for the owner */
        (void)fchmod(fd, 0700);
        DIR *d = fdopendir(fd);
        if (!d)
                abort();
        struct dirent *e;
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        remove_tree(fd, e->d_name);
        closedir(d);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
                abort();
}

static int outer_fd = -1, inner_fd = -1;
static char scratch[64];

static void cleanup(void)
{
        if (inner_fd >= 0 && faccessat(inner_fd, "out", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                remove_tree(inner_fd, "out");
        if (outer_fd >= 0)
                (void)unlinkat(outer_fd, "inner", AT_REMOVEDIR);
        (void)rmdir(scratch);
}

static void setup(void)
{
        /* tmpfs when there is one: every run creates and removes files */
        struct stat st;
        const char *base =
            stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
                ? "/dev/shm"
                : "/tmp";
        snprintf(scratch, sizeof(scratch), "%s/fuzz-nar-restore.XXXXXX", base);
        char *tmpl = scratch;
        if (!mkdtemp(tmpl))
                abort();
        outer_fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (outer_fd < 0 || mkdirat(outer_fd, "inner", 0700) < 0)
                abort();
        inner_fd = openat(outer_fd, "inner", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (inner_fd < 0)
                abort();
        atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (outer_fd < 0)
                setup();
        struct mem m = {.data = data, .len = size};
        struct nar_source src = {.read = mem_read, .userdata = &m, .whole = true};
        struct cl_error err = {0};
        uint64_t nar_size = 0;
        int r = nar_restore_at(inner_fd, "out", &src, &nar_size, &err);
        if (r < 0) {
                if (err.msg[0] == '\0')
                        abort(); /* every failure carries a message */
                if (count_entries(inner_fd) != 0)
                        abort(); /* a failed restore left something behind */
        } else {
                if (nar_size != size)
                        abort();
                struct stat st;
                if (count_entries(inner_fd) != 1 ||
                    fstatat(inner_fd, "out", &st, AT_SYMLINK_NOFOLLOW) < 0)
                        abort();
                /* the restored tree holds exactly the NAR: dumped, it gives the
                 * input back (a write that escaped would be missing here) */
                _cleanup_buf_ struct cl_buf again = CL_BUF_INIT;
                if (nar_dump_at(inner_fd, "out", buf_sink, &again, &err) < 0)
                        abort();
                if (again.len != size || memcmp(again.data, data, size) != 0)
                        abort();
                remove_tree(inner_fd, "out");
        }
        if (count_entries(outer_fd) != 1)
                abort(); /* something was written beside the target's directory */
        return 0;
}
