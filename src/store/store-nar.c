/* NAR serialisation (dump), the validating streaming parser, restore into a
 * directory under a temporary name, and the one-pass NAR hasher. Every file
 * system access goes through directory fds with O_NOFOLLOW; the format and its
 * rules are Nix's (libutil/archive.cc), described in NIX-FORMATS.md section 3. */
#include "store/store-nar.h"

#include "base/base-buf.h"
#include "base/base-cleanup.h"
#include "base/base-fd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAR_MAGIC "nix-archive-1"
/* The longest keyword of the grammar is "nix-archive-1" (13 bytes). */
#define NAR_MAX_TOKEN 16

/* A name as it can go in a message: control bytes and quotes replaced, long
 * names cut. */
static const char *printable(const char *s, size_t len, char out[96])
{
        size_t n = 0;
        for (size_t i = 0; i < len && n < 88; i++) {
                unsigned char c = (unsigned char)s[i];
                out[n++] = (c < 0x20 || c == 0x7f || c == '\'') ? '?' : (char)c;
        }
        if (n < len) {
                memcpy(out + n, "...", 3);
                n += 3;
        }
        out[n] = '\0';
        return out;
}

/* ---------------------------------------------------------------- dump */

struct dumper {
        nar_write_fn write;
        void *userdata;
        unsigned char *buf; /* NAR_CHUNK bytes, flushed to write when full */
        size_t len;
        struct cl_buf path; /* the object being dumped, for messages */
        struct cl_error *err;
};

static int oom(struct cl_error *err)
{
        return cl_errx(err, ENOMEM, "out of memory");
}

static int dump_flush(struct dumper *d)
{
        if (d->len == 0)
                return 0;
        size_t len = d->len;
        d->len = 0;
        return d->write(d->userdata, d->buf, len, d->err);
}

static int dump_put(struct dumper *d, const void *data, size_t len)
{
        const unsigned char *p = data;
        while (len > 0) {
                size_t k = NAR_CHUNK - d->len;
                if (k > len)
                        k = len;
                memcpy(d->buf + d->len, p, k);
                d->len += k;
                p += k;
                len -= k;
                if (d->len == NAR_CHUNK) {
                        int r = dump_flush(d);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int dump_u64(struct dumper *d, uint64_t v)
{
        unsigned char b[8];
        for (int i = 0; i < 8; i++)
                b[i] = (unsigned char)(v >> (8 * i));
        return dump_put(d, b, sizeof(b));
}

static int dump_pad(struct dumper *d, uint64_t len)
{
        static const unsigned char zero[8];
        return dump_put(d, zero, (8 - len % 8) % 8);
}

static int dump_str(struct dumper *d, const void *s, size_t len)
{
        int r = dump_u64(d, len);
        if (r >= 0)
                r = dump_put(d, s, len);
        if (r >= 0)
                r = dump_pad(d, len);
        return r;
}

/* A sequence of keywords, each a NAR string. */
static int dump_tokens(struct dumper *d, const char *const *toks, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int r = dump_str(d, toks[i], strlen(toks[i]));
                if (r < 0)
                        return r;
        }
        return 0;
}
#define DUMP_TOKENS(d, ...)                                                                        \
        dump_tokens(d, (const char *const[]){__VA_ARGS__},                                         \
                    sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static int dump_regular(struct dumper *d, int dirfd, const char *name)
{
        /* O_NONBLOCK: should the file have been swapped for a FIFO since the
         * fstatat, opening it must not hang */
        _cleanup_close_ int fd =
            openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return cl_err(d->err, errno, "open '%s'", d->path.data);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return cl_err(d->err, errno, "stat '%s'", d->path.data);
        if (!S_ISREG(st.st_mode))
                return cl_errx(d->err, EAGAIN, "'%s' changed type while being dumped",
                               d->path.data);
        int r = DUMP_TOKENS(d, "type", "regular");
        /* Nix marks a file executable by the owner's execute bit alone */
        if (r >= 0 && (st.st_mode & S_IXUSR))
                r = DUMP_TOKENS(d, "executable", "");
        if (r >= 0)
                r = DUMP_TOKENS(d, "contents");
        if (r >= 0)
                r = dump_u64(d, (uint64_t)st.st_size);
        if (r < 0)
                return r;
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        /* read straight into the output buffer: no copy beyond the kernel's */
        uint64_t left = (uint64_t)st.st_size;
        while (left > 0) {
                size_t room = NAR_CHUNK - d->len;
                if (room > left)
                        room = (size_t)left;
                ssize_t n = read(fd, d->buf + d->len, room);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return cl_err(d->err, errno, "read '%s'", d->path.data);
                if (n == 0)
                        return cl_errx(d->err, EAGAIN, "'%s' shrank while being dumped",
                                       d->path.data);
                d->len += (size_t)n;
                left -= (uint64_t)n;
                if (d->len == NAR_CHUNK && (r = dump_flush(d)) < 0)
                        return r;
        }
        return dump_pad(d, (uint64_t)st.st_size);
}

static int dump_symlink(struct dumper *d, int dirfd, const char *name)
{
        char target[NAR_MAX_TARGET + 2];
        ssize_t n = readlinkat(dirfd, name, target, sizeof(target));
        if (n < 0)
                return cl_err(d->err, errno, "read symlink '%s'", d->path.data);
        if ((size_t)n > NAR_MAX_TARGET)
                return cl_errx(d->err, ENAMETOOLONG, "symlink target of '%s' is too long",
                               d->path.data);
        int r = DUMP_TOKENS(d, "type", "symlink", "target");
        if (r >= 0)
                r = dump_str(d, target, (size_t)n);
        return r;
}

static int dump_node(struct dumper *d, int dirfd, const char *name, unsigned depth);

static int cmp_names(const void *a, const void *b)
{
        /* strcmp compares as unsigned char: Nix's bytewise order */
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int dump_directory(struct dumper *d, int parent_fd, const char *name, unsigned depth)
{
        if (depth >= NAR_MAX_DEPTH)
                return cl_errx(d->err, ELOOP, "'%s' is nested deeper than %d directories",
                               d->path.data, NAR_MAX_DEPTH);
        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return cl_err(d->err, errno, "open directory '%s'", d->path.data);
        _cleanup_closedir_ DIR *dir = fdopendir(fd);
        if (!dir) {
                int e = errno;
                close(fd);
                return cl_err(d->err, e, "open directory '%s'", d->path.data);
        }
        /* all names in one buffer, then pointers into it to sort */
        _cleanup_buf_ struct cl_buf names = CL_BUF_INIT;
        size_t count = 0;
        for (;;) {
                errno = 0;
                struct dirent *e = readdir(dir);
                if (!e) {
                        if (errno)
                                return cl_err(d->err, errno, "read directory '%s'", d->path.data);
                        break;
                }
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (buf_append(&names, e->d_name, strlen(e->d_name) + 1) < 0)
                        return oom(d->err);
                count++;
        }
        _cleanup_free_ const char **sorted = calloc(count ? count : 1, sizeof(*sorted));
        if (!sorted)
                return oom(d->err);
        for (size_t i = 0, off = 0; i < count; i++) {
                sorted[i] = names.data + off;
                off += strlen(sorted[i]) + 1;
        }
        qsort(sorted, count, sizeof(*sorted), cmp_names);

        int r = DUMP_TOKENS(d, "type", "directory");
        size_t base = d->path.len;
        for (size_t i = 0; r >= 0 && i < count; i++) {
                r = DUMP_TOKENS(d, "entry", "(", "name");
                if (r >= 0)
                        r = dump_str(d, sorted[i], strlen(sorted[i]));
                if (r >= 0)
                        r = DUMP_TOKENS(d, "node");
                if (r >= 0 &&
                    (buf_append_char(&d->path, '/') < 0 || buf_append_str(&d->path, sorted[i]) < 0))
                        r = oom(d->err);
                if (r >= 0)
                        r = dump_node(d, fd, sorted[i], depth + 1);
                d->path.len = base;
                d->path.data[base] = '\0';
                if (r >= 0)
                        r = DUMP_TOKENS(d, ")");
        }
        return r;
}

static int dump_node(struct dumper *d, int dirfd, const char *name, unsigned depth)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return cl_err(d->err, errno, "stat '%s'", d->path.data);
        int r = DUMP_TOKENS(d, "(");
        if (r < 0)
                return r;
        if (S_ISREG(st.st_mode))
                r = dump_regular(d, dirfd, name);
        else if (S_ISDIR(st.st_mode))
                r = dump_directory(d, dirfd, name, depth);
        else if (S_ISLNK(st.st_mode))
                r = dump_symlink(d, dirfd, name);
        else
                r = cl_errx(d->err, EINVAL,
                            "'%s' is not a regular file, directory or symlink and cannot be "
                            "archived",
                            d->path.data);
        if (r >= 0)
                r = DUMP_TOKENS(d, ")");
        return r;
}

static int dump(int dirfd, const char *name, const char *display, nar_write_fn write,
                void *userdata, struct cl_error *err)
{
        _cleanup_free_ unsigned char *buf = malloc(NAR_CHUNK);
        struct dumper d = {.write = write, .userdata = userdata, .buf = buf, .err = err};
        if (!buf || buf_append_str(&d.path, display) < 0) {
                buf_free(&d.path);
                return oom(err);
        }
        int r = DUMP_TOKENS(&d, NAR_MAGIC);
        if (r >= 0)
                r = dump_node(&d, dirfd, name, 0);
        if (r >= 0)
                r = dump_flush(&d);
        buf_free(&d.path);
        return r;
}

int nar_dump_at(int dirfd, const char *name, nar_write_fn write, void *userdata,
                struct cl_error *err)
{
        return dump(dirfd, name, name, write, userdata, err);
}

/* Split path into an open parent directory and a last component; a path whose
 * last component is "/", "." or ".." is opened itself and named ".". */
static int open_parent(const char *path, int *ret_fd, char **ret_name, struct cl_error *err)
{
        size_t len = strlen(path);
        if (len == 0)
                return cl_errx(err, EINVAL, "empty path");
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return oom(err);
        while (len > 1 && copy[len - 1] == '/')
                copy[--len] = '\0';
        char *slash = strrchr(copy, '/');
        const char *base = slash ? slash + 1 : copy;
        int fd;
        if (strcmp(copy, "/") == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
                fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                base = ".";
        } else if (slash) {
                *slash = '\0';
                fd = open(slash == copy ? "/" : copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } else {
                fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd < 0)
                return cl_err(err, errno, "open the directory of '%s'", path);
        char *name = strdup(base);
        if (!name) {
                close(fd);
                return oom(err);
        }
        *ret_fd = fd;
        *ret_name = name;
        return 0;
}

int nar_dump_path(const char *path, nar_write_fn write, void *userdata, struct cl_error *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *name = NULL;
        int r = open_parent(path, &fd, &name, err);
        if (r < 0)
                return r;
        return dump(fd, name, path, write, userdata, err);
}

int nar_write_fd(void *userdata, const void *data, size_t len, struct cl_error *err)
{
        int r = fd_write_all(*(int *)userdata, data, len);
        if (r < 0)
                return cl_err(err, -r, "write NAR");
        return 0;
}

/* ---------------------------------------------------------------- parse */

void nar_fd_reader_init(struct nar_fd_reader *r, int fd)
{
        r->fd = fd;
        r->pos = r->len = 0;
}

ssize_t nar_fd_reader_read(void *userdata, void *buf, size_t len, struct cl_error *err)
{
        struct nar_fd_reader *r = userdata;
        if (r->pos == r->len) {
                /* a large request goes straight to the caller's buffer */
                unsigned char *dst = len >= sizeof(r->buf) ? buf : r->buf;
                size_t want = len >= sizeof(r->buf) ? len : sizeof(r->buf);
                ssize_t n;
                do
                        n = read(r->fd, dst, want);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                        return cl_err(err, errno, "read NAR");
                if (dst == buf)
                        return n;
                r->pos = 0;
                r->len = (size_t)n;
                if (n == 0)
                        return 0;
        }
        size_t k = r->len - r->pos;
        if (k > len)
                k = len;
        memcpy(buf, r->buf + r->pos, k);
        r->pos += k;
        return (ssize_t)k;
}

struct parser {
        const struct nar_source *src;
        const struct nar_parse_ops *ops;
        void *userdata;
        uint64_t off; /* bytes consumed */
        struct cl_error *err;
        unsigned char *chunk;           /* NAR_CHUNK bytes for file contents */
        char (*prev)[NAR_MAX_NAME + 1]; /* per depth: the previous entry name */
        size_t *prev_len;
};

#define BAD(p, at, ...) bad(p, at, __VA_ARGS__)
__attribute__((format(printf, 3, 4))) static int bad(struct parser *p, uint64_t at, const char *fmt,
                                                     ...)
{
        char reason[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        return cl_errx(p->err, EBADMSG, "NAR at byte %llu: %s", (unsigned long long)at, reason);
}

static int read_exact(struct parser *p, void *buf, size_t len)
{
        unsigned char *b = buf;
        size_t got = 0;
        while (got < len) {
                ssize_t n = p->src->read(p->src->userdata, b + got, len - got, p->err);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        return BAD(p, p->off + got, "truncated: the stream ends inside the NAR");
                got += (size_t)n;
        }
        if (p->src->tee) {
                int r = p->src->tee(p->src->tee_userdata, buf, len, p->err);
                if (r < 0)
                        return r;
        }
        p->off += len;
        return 0;
}

static int read_u64(struct parser *p, uint64_t *ret)
{
        unsigned char b[8];
        int r = read_exact(p, b, sizeof(b));
        if (r < 0)
                return r;
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = (v << 8) | b[i];
        *ret = v;
        return 0;
}

static int read_padding(struct parser *p, uint64_t len)
{
        unsigned char b[8];
        size_t pad = (8 - len % 8) % 8;
        uint64_t at = p->off;
        int r = read_exact(p, b, pad);
        if (r < 0)
                return r;
        for (size_t i = 0; i < pad; i++)
                if (b[i] != 0)
                        return BAD(p, at + i, "non-zero padding byte");
        return 0;
}

/* A string of at most max bytes into buf (max + 1 bytes), NUL-terminated. */
static int read_str(struct parser *p, char *buf, size_t max, size_t *ret_len, const char *what)
{
        uint64_t at = p->off, len;
        int r = read_u64(p, &len);
        if (r < 0)
                return r;
        if (len > max)
                return BAD(p, at, "%s is too long (%llu bytes, the limit is %zu)", what,
                           (unsigned long long)len, max);
        r = read_exact(p, buf, (size_t)len);
        if (r < 0)
                return r;
        buf[len] = '\0';
        r = read_padding(p, len);
        if (r < 0)
                return r;
        *ret_len = (size_t)len;
        return 0;
}

/* The next keyword, NUL-terminated; an over-long one is named as unexpected. */
static int read_token(struct parser *p, char tok[NAR_MAX_TOKEN + 1], uint64_t *ret_at,
                      const char *expected)
{
        uint64_t at = p->off, len;
        int r = read_u64(p, &len);
        if (r < 0)
                return r;
        if (len > NAR_MAX_TOKEN)
                return BAD(p, at, "expected %s, found a string of %llu bytes", expected,
                           (unsigned long long)len);
        r = read_exact(p, tok, (size_t)len);
        if (r < 0)
                return r;
        tok[len] = '\0';
        if (memchr(tok, '\0', (size_t)len))
                return BAD(p, at, "expected %s, found a string with a NUL byte", expected);
        r = read_padding(p, len);
        if (r < 0)
                return r;
        if (ret_at)
                *ret_at = at;
        return 0;
}

static int expect(struct parser *p, const char *keyword)
{
        char tok[NAR_MAX_TOKEN + 1], shown[96];
        uint64_t at;
        char what[48];
        snprintf(what, sizeof(what), "'%s'", keyword);
        int r = read_token(p, tok, &at, what);
        if (r < 0)
                return r;
        if (strcmp(tok, keyword) != 0)
                return BAD(p, at, "expected '%s', found '%s'", keyword,
                           printable(tok, strlen(tok), shown));
        return 0;
}

#define CALL(p, fn, ...) ((p)->ops && (p)->ops->fn ? (p)->ops->fn((p)->userdata, __VA_ARGS__) : 0)

static int parse_regular(struct parser *p)
{
        char tok[NAR_MAX_TOKEN + 1], shown[96];
        uint64_t at;
        bool executable = false;
        int r = read_token(p, tok, &at, "'executable' or 'contents'");
        if (r < 0)
                return r;
        if (strcmp(tok, "executable") == 0) {
                executable = true;
                uint64_t len, len_at = p->off;
                r = read_u64(p, &len);
                if (r < 0)
                        return r;
                if (len != 0)
                        return BAD(p, len_at, "the executable marker must be an empty string");
                r = expect(p, "contents");
        } else if (strcmp(tok, "contents") != 0) {
                r = BAD(p, at, "expected 'executable' or 'contents', found '%s'",
                        printable(tok, strlen(tok), shown));
        }
        if (r < 0)
                return r;
        uint64_t size;
        r = read_u64(p, &size);
        if (r < 0)
                return r;
        if (size > INT64_MAX)
                return BAD(p, p->off - 8, "file size %llu is too large", (unsigned long long)size);
        r = CALL(p, regular_begin, executable, size, p->err);
        if (r < 0)
                return r;
        for (uint64_t left = size; left > 0;) {
                size_t k = left < NAR_CHUNK ? (size_t)left : NAR_CHUNK;
                r = read_exact(p, p->chunk, k);
                if (r < 0)
                        return r;
                r = CALL(p, regular_data, p->chunk, k, p->err);
                if (r < 0)
                        return r;
                left -= k;
        }
        r = read_padding(p, size);
        if (r >= 0)
                r = CALL(p, regular_end, p->err);
        if (r >= 0)
                r = expect(p, ")");
        return r;
}

static int parse_symlink(struct parser *p)
{
        char target[NAR_MAX_TARGET + 1];
        size_t len = 0;
        int r = expect(p, "target");
        if (r < 0)
                return r;
        uint64_t at = p->off;
        r = read_str(p, target, NAR_MAX_TARGET, &len, "symlink target");
        if (r < 0)
                return r;
        if (len == 0)
                return BAD(p, at, "empty symlink target");
        if (memchr(target, '\0', len))
                return BAD(p, at, "symlink target contains a NUL byte");
        r = CALL(p, symlink, target, len, p->err);
        if (r >= 0)
                r = expect(p, ")");
        return r;
}

static int check_name(struct parser *p, uint64_t at, const char *name, size_t len, unsigned depth)
{
        char shown[96], shown_prev[96];
        if (len == 0)
                return BAD(p, at, "empty entry name");
        if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
                return BAD(p, at, "entry name '%s' is not allowed", name);
        if (memchr(name, '/', len))
                return BAD(p, at, "entry name '%s' contains '/'", printable(name, len, shown));
        if (memchr(name, '\0', len))
                return BAD(p, at, "entry name '%s' contains a NUL byte",
                           printable(name, len, shown));
        size_t plen = p->prev_len[depth];
        if (plen != (size_t)-1) {
                size_t m = plen < len ? plen : len;
                int c = memcmp(p->prev[depth], name, m);
                if (c > 0 || (c == 0 && plen >= len))
                        return BAD(p, at, "entry '%s' %s '%s': entries must be sorted and unique",
                                   printable(name, len, shown),
                                   c == 0 && plen == len ? "repeats" : "comes after",
                                   printable(p->prev[depth], plen, shown_prev));
        }
        memcpy(p->prev[depth], name, len + 1);
        p->prev_len[depth] = len;
        return 0;
}

static int parse_node(struct parser *p, unsigned depth);

static int parse_directory(struct parser *p, unsigned depth)
{
        char tok[NAR_MAX_TOKEN + 1], shown[96], name[NAR_MAX_NAME + 1];
        uint64_t at;
        size_t len = 0;
        if (depth >= NAR_MAX_DEPTH)
                return BAD(p, p->off, "directories nested deeper than %d", NAR_MAX_DEPTH);
        int r = CALL(p, directory_begin, p->err);
        if (r < 0)
                return r;
        p->prev_len[depth] = (size_t)-1;
        for (;;) {
                r = read_token(p, tok, &at, "'entry' or ')'");
                if (r < 0)
                        return r;
                if (strcmp(tok, ")") == 0)
                        break;
                if (strcmp(tok, "entry") != 0)
                        return BAD(p, at, "expected 'entry' or ')', found '%s'",
                                   printable(tok, strlen(tok), shown));
                r = expect(p, "(");
                if (r >= 0)
                        r = expect(p, "name");
                if (r < 0)
                        return r;
                at = p->off;
                r = read_str(p, name, NAR_MAX_NAME, &len, "entry name");
                if (r < 0)
                        return r;
                r = check_name(p, at, name, len, depth);
                if (r >= 0)
                        r = expect(p, "node");
                if (r >= 0)
                        r = CALL(p, entry_begin, name, len, p->err);
                if (r >= 0)
                        r = parse_node(p, depth + 1);
                if (r >= 0)
                        r = expect(p, ")");
                if (r >= 0)
                        r = CALL(p, entry_end, p->err);
                if (r < 0)
                        return r;
        }
        return CALL(p, directory_end, p->err);
}

static int parse_node(struct parser *p, unsigned depth)
{
        char tok[NAR_MAX_TOKEN + 1], shown[96];
        uint64_t at;
        int r = expect(p, "(");
        if (r >= 0)
                r = expect(p, "type");
        if (r >= 0)
                r = read_token(p, tok, &at, "a node type");
        if (r < 0)
                return r;
        if (strcmp(tok, "regular") == 0)
                return parse_regular(p);
        if (strcmp(tok, "symlink") == 0)
                return parse_symlink(p);
        if (strcmp(tok, "directory") == 0)
                return parse_directory(p, depth);
        return BAD(p, at, "unknown node type '%s'", printable(tok, strlen(tok), shown));
}

int nar_parse(const struct nar_source *src, const struct nar_parse_ops *ops, void *userdata,
              uint64_t *ret_size, struct cl_error *err)
{
        struct parser p = {.src = src, .ops = ops, .userdata = userdata, .err = err};
        p.chunk = malloc(NAR_CHUNK);
        p.prev = malloc(sizeof(*p.prev) * NAR_MAX_DEPTH);
        p.prev_len = malloc(sizeof(*p.prev_len) * NAR_MAX_DEPTH);
        int r;
        if (!p.chunk || !p.prev || !p.prev_len) {
                r = oom(err);
        } else {
                char tok[NAR_MAX_TOKEN + 1];
                uint64_t at;
                r = read_token(&p, tok, &at, "the NAR magic 'nix-archive-1'");
                if (r >= 0 && strcmp(tok, NAR_MAGIC) != 0)
                        r = BAD(&p, at, "not a NAR: expected the magic 'nix-archive-1'");
                if (r >= 0)
                        r = parse_node(&p, 0);
                if (r >= 0 && src->whole) {
                        ssize_t n = src->read(src->userdata, tok, 1, err);
                        if (n > 0)
                                r = BAD(&p, p.off, "trailing data after the NAR");
                        else if (n < 0)
                                r = (int)n;
                }
        }
        free(p.chunk);
        free(p.prev);
        free(p.prev_len);
        if (r >= 0 && ret_size)
                *ret_size = p.off;
        return r;
}

/* ---------------------------------------------------------------- restore */

struct restorer {
        int parent_fd; /* not owned */
        const char *final_name;
        char tmp_name[64];           /* the top node while it is being built */
        bool created;                /* tmp_name exists in parent_fd */
        int dirs[NAR_MAX_DEPTH + 1]; /* open directories, innermost last */
        unsigned ndirs;
        int file_fd;
        char name[NAR_MAX_NAME + 1]; /* the entry being created */
        struct cl_buf path;          /* for messages: final name and entry path */
};

static int restore_dir_fd(struct restorer *r)
{
        return r->ndirs ? r->dirs[r->ndirs - 1] : r->parent_fd;
}

static void restore_new_tmp_name(struct restorer *r)
{
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
                rnd ^= (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&rnd;
        snprintf(r->tmp_name, sizeof(r->tmp_name), ".nar-restore-%016llx", (unsigned long long)rnd);
}

enum restore_kind { RESTORE_DIRECTORY, RESTORE_REGULAR, RESTORE_SYMLINK };

/* Make one node in dirfd; returns 0 or -errno. */
static int create_node(struct restorer *r, int dirfd, const char *name, enum restore_kind kind,
                       const char *target)
{
        int fd;
        switch (kind) {
        case RESTORE_DIRECTORY:
                if (r->ndirs >= ELEMENTSOF(r->dirs))
                        return -ELOOP;
                if (mkdirat(dirfd, name, 0777) < 0)
                        return -errno;
                fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                r->dirs[r->ndirs++] = fd;
                return 0;
        case RESTORE_REGULAR:
                fd =
                    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
                if (fd < 0)
                        return -errno;
                r->file_fd = fd;
                return 0;
        case RESTORE_SYMLINK:
                return symlinkat(target, dirfd, name) < 0 ? -errno : 0;
        }
        return -EINVAL;
}

/* Create an entry in the innermost directory, or the top node under a fresh
 * temporary name in the parent. */
static int restore_create(struct restorer *r, enum restore_kind kind, const char *target,
                          struct cl_error *err)
{
        static const char *const what[] = {"directory", "file", "symlink"};
        if (r->ndirs > 0 || r->created) {
                int e = create_node(r, restore_dir_fd(r), r->name, kind, target);
                if (e < 0)
                        return cl_err(err, -e, "create %s '%s'", what[kind], r->path.data);
                return 0;
        }
        for (int tries = 0;; tries++) {
                restore_new_tmp_name(r);
                int e = create_node(r, r->parent_fd, r->tmp_name, kind, target);
                if (e == -EEXIST && tries < 16)
                        continue;
                if (e < 0)
                        return cl_err(err, -e, "create %s '%s'", what[kind], r->tmp_name);
                r->created = true;
                return 0;
        }
}

static int restore_directory_begin(void *userdata, struct cl_error *err)
{
        return restore_create(userdata, RESTORE_DIRECTORY, NULL, err);
}

static int restore_directory_end(void *userdata, struct cl_error *err)
{
        struct restorer *r = userdata;
        (void)err;
        close(r->dirs[--r->ndirs]);
        return 0;
}

static int restore_entry_begin(void *userdata, const char *name, size_t len, struct cl_error *err)
{
        struct restorer *r = userdata;
        memcpy(r->name, name, len + 1);
        if (buf_append_char(&r->path, '/') < 0 || buf_append(&r->path, name, len) < 0)
                return oom(err);
        return 0;
}

static int restore_entry_end(void *userdata, struct cl_error *err)
{
        struct restorer *r = userdata;
        (void)err;
        char *slash = strrchr(r->path.data, '/');
        r->path.len = (size_t)(slash - r->path.data);
        *slash = '\0';
        return 0;
}

static int restore_regular_begin(void *userdata, bool executable, uint64_t size,
                                 struct cl_error *err)
{
        struct restorer *r = userdata;
        (void)size;
        int e = restore_create(r, RESTORE_REGULAR, NULL, err);
        if (e < 0)
                return e;
        if (executable) {
                /* as Nix: the created mode (after the umask) plus every x bit */
                struct stat st;
                if (fstat(r->file_fd, &st) < 0 ||
                    fchmod(r->file_fd, (st.st_mode & 07777) | 0111) < 0)
                        return cl_err(err, errno, "make '%s' executable", r->path.data);
        }
        return 0;
}

static int restore_regular_data(void *userdata, const void *data, size_t len, struct cl_error *err)
{
        struct restorer *r = userdata;
        int e = fd_write_all(r->file_fd, data, len);
        if (e < 0)
                return cl_err(err, -e, "write '%s'", r->path.data);
        return 0;
}

static int restore_regular_end(void *userdata, struct cl_error *err)
{
        struct restorer *r = userdata;
        int fd = TAKE_FD(r->file_fd);
        if (close(fd) < 0 && errno != EINTR)
                return cl_err(err, errno, "write '%s'", r->path.data);
        return 0;
}

static int restore_symlink(void *userdata, const char *target, size_t len, struct cl_error *err)
{
        (void)len;
        return restore_create(userdata, RESTORE_SYMLINK, target, err);
}

static const struct nar_parse_ops restore_ops = {
    .directory_begin = restore_directory_begin,
    .entry_begin = restore_entry_begin,
    .entry_end = restore_entry_end,
    .directory_end = restore_directory_end,
    .regular_begin = restore_regular_begin,
    .regular_data = restore_regular_data,
    .regular_end = restore_regular_end,
    .symlink = restore_symlink,
};

/* Remove name in dirfd and everything below it, without following symlinks.
 * Best effort: this runs on failure paths. */
static void remove_tree_at(int parent_fd, const char *name, unsigned depth)
{
        if (unlinkat(parent_fd, name, 0) == 0 || errno != EISDIR || depth > NAR_MAX_DEPTH + 1)
                return;
        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
                _cleanup_closedir_ DIR *dir = fdopendir(fd);
                if (!dir) {
                        close(fd);
                        return;
                }
                struct dirent *e;
                while ((e = readdir(dir)))
                        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                                remove_tree_at(fd, e->d_name, depth + 1);
        }
        (void)unlinkat(parent_fd, name, AT_REMOVEDIR);
}

int nar_restore_at(int parent_fd, const char *name, const struct nar_source *src,
                   uint64_t *ret_size, struct cl_error *err)
{
        char shown[96];
        size_t nlen = strlen(name);
        if (nlen == 0 || nlen > NAR_MAX_NAME || strchr(name, '/') || strcmp(name, ".") == 0 ||
            strcmp(name, "..") == 0)
                return cl_errx(err, EINVAL, "cannot restore a NAR as '%s': not a file name",
                               printable(name, nlen, shown));
        struct stat st;
        if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return cl_errx(err, EEXIST, "cannot restore a NAR as '%s': it already exists",
                               name);
        struct restorer r = {.parent_fd = parent_fd, .final_name = name, .file_fd = -1};
        if (buf_append_str(&r.path, name) < 0)
                return oom(err);
        uint64_t size = 0;
        int ret = nar_parse(src, &restore_ops, &r, &size, err);
        if (r.file_fd >= 0)
                close(r.file_fd);
        while (r.ndirs > 0)
                close(r.dirs[--r.ndirs]);
        buf_free(&r.path);
        if (ret >= 0 && renameat2(parent_fd, r.tmp_name, parent_fd, name, RENAME_NOREPLACE) < 0) {
                int e = errno;
                /* a file system without RENAME_NOREPLACE: check, then plain rename */
                if (e == EINVAL && fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
                    errno == ENOENT)
                        e = renameat(parent_fd, r.tmp_name, parent_fd, name) < 0 ? errno : 0;
                if (e == EEXIST || e == ENOTEMPTY)
                        ret = cl_errx(err, EEXIST, "cannot restore a NAR as '%s': it already exists",
                                      name);
                else if (e != 0)
                        ret = cl_err(err, e, "rename '%s' to '%s'", r.tmp_name, name);
        }
        if (ret < 0) {
                if (r.created)
                        remove_tree_at(parent_fd, r.tmp_name, 0);
                return ret;
        }
        if (ret_size)
                *ret_size = size;
        return 0;
}

int nar_restore_path(const char *path, const struct nar_source *src, uint64_t *ret_size,
                     struct cl_error *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *name = NULL;
        int r = open_parent(path, &fd, &name, err);
        if (r < 0)
                return r;
        if (strcmp(name, ".") == 0)
                return cl_errx(err, EINVAL, "cannot restore a NAR as '%s': not a file name", path);
        r = nar_restore_at(fd, name, src, ret_size, err);
        if (r < 0 && err && strstr(err->msg, path) == NULL)
                cl_err_prefix(err, "restore '%s'", path);
        return r;
}

/* ---------------------------------------------------------------- hash */

int nar_hasher_init(struct nar_hasher *h, enum hash_type type, struct refscan *scan)
{
        *h = (struct nar_hasher){.ctx = HASH_CTX_INIT, .scan = scan};
        return hash_init(&h->ctx, type);
}

int nar_hasher_write(void *userdata, const void *data, size_t len, struct cl_error *err)
{
        struct nar_hasher *h = userdata;
        int r = hash_update(&h->ctx, data, len);
        if (r < 0)
                return cl_err(err, -r, "hash NAR");
        if (h->scan)
                refscan_feed(h->scan, data, len);
        h->size += len;
        return 0;
}

int nar_hasher_final(struct nar_hasher *h, struct hash *ret)
{
        return hash_final(&h->ctx, ret);
}

void nar_hasher_free(struct nar_hasher *h)
{
        hash_ctx_free(&h->ctx);
}

int nar_hash_at(int dirfd, const char *name, enum hash_type type, struct refscan *scan,
                struct hash *ret_hash, uint64_t *ret_size, struct cl_error *err)
{
        struct nar_hasher h;
        int r = nar_hasher_init(&h, type, scan);
        if (r < 0) {
                nar_hasher_free(&h);
                return cl_err(err, -r, "hash NAR");
        }
        r = nar_dump_at(dirfd, name, nar_hasher_write, &h, err);
        if (r >= 0)
                r = nar_hasher_final(&h, ret_hash);
        nar_hasher_free(&h);
        if (r < 0)
                return r;
        if (ret_size)
                *ret_size = h.size;
        return 0;
}
