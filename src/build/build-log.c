/* The terminal filter for builder output and Nix-compatible stored logs
 * (NIX-FORMATS.md section 8). The stored log is never filtered; only what is
 * echoed to the user is. */
#include "build/build-log.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"

#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { ST_TOP, ST_ESCAPE, ST_CSI };

void log_filter_init(struct log_filter *f, enum log_filter_mode mode)
{
        memset(f, 0, sizeof(*f));
        f->mode = mode;
        f->state = ST_TOP;
}

static size_t flush_held(struct log_filter *f, char *out)
{
        size_t n = f->held_len;
        memcpy(out, f->held, n);
        f->held_len = 0;
        return n;
}

static int is_nesting_final(unsigned char c)
{
        return c == 'p' || c == 'q' || c == 's' || c == 'a' || c == 'b';
}

size_t log_filter_feed(struct log_filter *f, const char *in, size_t len, char *out)
{
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)in[i];
                switch (f->state) {
                case ST_TOP:
                        if (c == 0x1b) {
                                f->held[0] = (char)c;
                                f->held_len = 1;
                                f->state = ST_ESCAPE;
                        } else {
                                out[o++] = (char)c;
                        }
                        break;
                case ST_ESCAPE:
                        if (c == '[') {
                                f->held[f->held_len++] = (char)c;
                                f->state = ST_CSI;
                        } else if (f->mode == LOG_FILTER_TERMINAL) {
                                /* a two-byte ESC x sequence: dropped on a terminal;
                                 * a second ESC starts a new sequence */
                                f->held_len = c == 0x1b ? 1 : 0;
                                f->state = c == 0x1b ? ST_ESCAPE : ST_TOP;
                        } else {
                                o += flush_held(f, out + o);
                                out[o++] = (char)c;
                                f->state = ST_TOP;
                        }
                        break;
                case ST_CSI:
                        /* parameters and intermediates are below 0x40; '~' is not final
                         * either (Nix's rule) */
                        if (c < 0x40 || c == '~') {
                                if (f->held_len == sizeof(f->held)) {
                                        /* not a sequence anyone sends: pass it through */
                                        o += flush_held(f, out + o);
                                        out[o++] = (char)c;
                                        f->state = ST_TOP;
                                } else {
                                        f->held[f->held_len++] = (char)c;
                                }
                                break;
                        }
                        f->held[f->held_len++] = (char)c;
                        if (is_nesting_final(c) || (f->mode == LOG_FILTER_TERMINAL && c != 'm'))
                                f->held_len = 0;
                        else
                                o += flush_held(f, out + o);
                        f->state = ST_TOP;
                        break;
                }
        }
        return o;
}

size_t log_filter_finish(struct log_filter *f, char *out)
{
        size_t n = flush_held(f, out);
        f->state = ST_TOP;
        return n;
}

int log_relative_path(const char *drv_path, int compressed, char **ret, struct cl_error *err)
{
        const char *base = strrchr(drv_path, '/');
        base = base ? base + 1 : drv_path;
        if (strlen(base) < 3 || strchr(base, '/'))
                return cl_errx(err, EINVAL, "derivation path '%s': not a store path", drv_path);
        char *p = NULL;
        if (asprintf(&p, "drvs/%.2s/%s%s", base, base + 2, compressed ? ".bz2" : "") < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

struct log_writer {
        int fd;
        int compressed;
        bz_stream bz;
        char *path;
};

void log_writer_free(struct log_writer *w)
{
        if (!w)
                return;
        if (w->compressed)
                BZ2_bzCompressEnd(&w->bz);
        if (w->fd >= 0)
                close(w->fd);
        free(w->path);
        free(w);
}

int log_writer_open(const char *log_dir, const char *drv_path, int compressed,
                    struct log_writer **ret, struct cl_error *err)
{
        _cleanup_free_ char *rel = NULL;
        int r = log_relative_path(drv_path, compressed, &rel, err);
        if (r < 0)
                return r;
        struct log_writer *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->fd = -1;
        if (asprintf(&w->path, "%s/%s", log_dir, rel) < 0) {
                free(w);
                return -ENOMEM;
        }
        char *slash = strrchr(w->path, '/');
        *slash = '\0';
        r = fs_mkdir_parents(w->path, 0755, "log directory", err);
        *slash = '/';
        if (r < 0) {
                log_writer_free(w);
                return r;
        }
        w->fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (w->fd < 0) {
                r = cl_err(err, errno, "create log '%s'", w->path);
                log_writer_free(w);
                return r;
        }
        if (compressed) {
                if (BZ2_bzCompressInit(&w->bz, 9, 0, 0) != BZ_OK) {
                        log_writer_free(w);
                        return cl_errx(err, ENOMEM, "start bzip2 compression of the log");
                }
                w->compressed = 1;
        }
        *ret = w;
        return 0;
}

static int bz_pump(struct log_writer *w, int action, struct cl_error *err)
{
        char out[64 * 1024];
        for (;;) {
                w->bz.next_out = out;
                w->bz.avail_out = sizeof(out);
                int rc = BZ2_bzCompress(&w->bz, action);
                if (rc < 0)
                        return cl_errx(err, EIO, "compress log '%s': bzip2 error %d", w->path, rc);
                size_t n = sizeof(out) - w->bz.avail_out;
                int r = fd_write_all(w->fd, out, n);
                if (r < 0)
                        return cl_err(err, -r, "write log '%s'", w->path);
                if (action == BZ_RUN && w->bz.avail_in == 0)
                        return 0;
                if (action == BZ_FINISH && rc == BZ_STREAM_END)
                        return 0;
        }
}

int log_writer_write(struct log_writer *w, const void *data, size_t len, struct cl_error *err)
{
        if (!w->compressed) {
                int r = fd_write_all(w->fd, data, len);
                return r < 0 ? cl_err(err, -r, "write log '%s'", w->path) : 0;
        }
        while (len > 0) {
                /* bzip2 counts in unsigned int */
                unsigned chunk = len > (1u << 30) ? (1u << 30) : (unsigned)len;
                w->bz.next_in = (char *)(uintptr_t)data;
                w->bz.avail_in = chunk;
                int r = bz_pump(w, BZ_RUN, err);
                if (r < 0)
                        return r;
                data = (const char *)data + chunk;
                len -= chunk;
        }
        return 0;
}

void log_writer_discard(struct log_writer *w)
{
        if (w)
                (void)unlink(w->path);
        log_writer_free(w);
}

int log_writer_close(struct log_writer *w, struct cl_error *err)
{
        int r = 0;
        if (w->compressed) {
                w->bz.next_in = NULL;
                w->bz.avail_in = 0;
                r = bz_pump(w, BZ_FINISH, err);
        }
        if (r == 0 && close(w->fd) < 0)
                r = cl_err(err, errno, "close log '%s'", w->path);
        else if (r < 0)
                close(w->fd);
        w->fd = -1;
        /* a half-written log is worse than none: `cloister log` would fail on it */
        if (r < 0)
                (void)unlink(w->path);
        log_writer_free(w);
        return r;
}

static int copy_bz2(int in_fd, int out_fd, const char *path, struct cl_error *err)
{
        bz_stream bz;
        memset(&bz, 0, sizeof(bz));
        if (BZ2_bzDecompressInit(&bz, 0, 0) != BZ_OK)
                return cl_errx(err, ENOMEM, "start bzip2 decompression of '%s'", path);
        char in[64 * 1024], out[256 * 1024];
        int r = 0, end = 0;
        while (!end) {
                ssize_t n = read(in_fd, in, sizeof(in));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = cl_err(err, errno, "read log '%s'", path);
                        break;
                }
                if (n == 0) {
                        r = cl_errx(err, EIO, "read log '%s': truncated bzip2 stream", path);
                        break;
                }
                bz.next_in = in;
                bz.avail_in = (unsigned)n;
                while (bz.avail_in > 0 && !end) {
                        bz.next_out = out;
                        bz.avail_out = sizeof(out);
                        int rc = BZ2_bzDecompress(&bz);
                        if (rc != BZ_OK && rc != BZ_STREAM_END) {
                                r = cl_errx(err, EIO, "read log '%s': bzip2 error %d", path, rc);
                                goto done;
                        }
                        r = fd_write_all(out_fd, out, sizeof(out) - bz.avail_out);
                        if (r < 0) {
                                r = cl_err(err, -r, "write log");
                                goto done;
                        }
                        end = rc == BZ_STREAM_END;
                }
        }
done:
        BZ2_bzDecompressEnd(&bz);
        return r;
}

int log_read(const char *log_dir, const char *drv_path, int out_fd, struct cl_error *err)
{
        for (int compressed = 1; compressed >= 0; compressed--) {
                _cleanup_free_ char *rel = NULL, *path = NULL;
                int r = log_relative_path(drv_path, compressed, &rel, err);
                if (r < 0)
                        return r;
                if (asprintf(&path, "%s/%s", log_dir, rel) < 0)
                        return -ENOMEM;
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return cl_err(err, errno, "open log '%s'", path);
                }
                if (compressed)
                        return copy_bz2(fd, out_fd, path, err);
                char buf[64 * 1024];
                for (;;) {
                        ssize_t n = read(fd, buf, sizeof(buf));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return cl_err(err, errno, "read log '%s'", path);
                        if (n == 0)
                                return 0;
                        r = fd_write_all(out_fd, buf, (size_t)n);
                        if (r < 0)
                                return cl_err(err, -r, "write log");
                }
        }
        return cl_errx(err, ENOENT, "no build log for '%s' in '%s'", drv_path, log_dir);
}
