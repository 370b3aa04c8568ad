/* nix-store --export and --import streams (Nix 2.8's export-import.cc): the
 * NAR of each path framed with its path, references and deriver. Import stages
 * everything before it registers anything, so a stream that breaks off half-way
 * adds nothing. */
#include "store/store-export.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"
#include "store/store-add.h"
#include "store/store-hash.h"
#include "store/store-nar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds on what an import stream may claim, well above real use. */
#define EXPORT_MAX_STRING 4096
#define EXPORT_MAX_REFS (1u << 20)

/* ---- writing ---- */

static int put_u64(int fd, uint64_t v, struct cl_error *err)
{
        unsigned char b[8];
        for (int i = 0; i < 8; i++)
                b[i] = (unsigned char)(v >> (8 * i));
        int r = fd_write_all(fd, b, 8);
        return r < 0 ? cl_err(err, -r, "write export stream") : 0;
}

static int put_str(int fd, const char *s, struct cl_error *err)
{
        static const unsigned char zero[8];
        size_t len = strlen(s);
        int r = put_u64(fd, len, err);
        if (r < 0)
                return r;
        r = fd_write_all(fd, s, len);
        if (r == 0 && len % 8)
                r = fd_write_all(fd, zero, 8 - len % 8);
        return r < 0 ? cl_err(err, -r, "write export stream") : 0;
}

struct tee_out {
        int fd;
        struct nar_hasher hasher;
};

static int tee_out_write(void *userdata, const void *data, size_t len, struct cl_error *err)
{
        struct tee_out *t = userdata;
        int r = fd_write_all(t->fd, data, len);
        if (r < 0)
                return cl_err(err, -r, "write export stream");
        return nar_hasher_write(&t->hasher, data, len, err);
}

static int export_one(struct store_db *db, const char *path, int fd, struct cl_error *err)
{
        _cleanup_path_info_ struct store_path_info *info = NULL;
        int r = store_db_query_info(db, path, &info, err);
        if (r < 0)
                return r;
        const char *base = NULL;
        r = store_db_check_path(db, path, &base, err);
        if (r < 0)
                return r;
        struct hash want;
        r = hash_parse(info->nar_hash, strlen(info->nar_hash), HASH_SHA256, &want, err);
        if (r < 0)
                return cl_err_prefix(err, "hash of '%s' in the database", path);
        r = put_u64(fd, 1, err);
        if (r < 0)
                return r;
        struct tee_out t = {.fd = fd};
        r = nar_hasher_init(&t.hasher, want.type, NULL);
        if (r < 0) {
                nar_hasher_free(&t.hasher);
                return cl_err(err, -r, "hash '%s'", path);
        }
        r = nar_dump_at(store_db_real_store_fd(db), base, tee_out_write, &t, err);
        struct hash got;
        if (r == 0)
                r = nar_hasher_final(&t.hasher, &got);
        nar_hasher_free(&t.hasher);
        if (r < 0)
                return cl_err_prefix(err, "export '%s'", path);
        if (!hash_equal(&want, &got)) {
                char b1[HASH_STR_MAX], b2[HASH_STR_MAX];
                return cl_errx(err, EIO, "hash of path '%s' has changed from '%s' to '%s'", path,
                               hash_print(&want, HASH_NIX32, true, b1),
                               hash_print(&got, HASH_NIX32, true, b2));
        }
        r = put_u64(fd, STORE_EXPORT_MAGIC, err);
        if (r == 0)
                r = put_str(fd, path, err);
        if (r == 0)
                r = put_u64(fd, info->n_references, err);
        for (size_t i = 0; r == 0 && i < info->n_references; i++)
                r = put_str(fd, info->references[i], err);
        if (r == 0)
                r = put_str(fd, info->deriver ? info->deriver : "", err);
        if (r == 0)
                r = put_u64(fd, 0, err); /* no legacy signature */
        return r;
}

int store_export(struct store_db *db, char *const *paths, size_t n, int fd, struct cl_error *err)
{
        _cleanup_free_ char **sorted = calloc(n + 1, sizeof(char *));
        if (!sorted)
                return cl_err(err, ENOMEM, "export");
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
                int r = store_db_is_valid(db, paths[i], err);
                if (r < 0)
                        return r;
                if (r == 0)
                        return cl_errx(err, ENOENT, "path '%s' is not valid", paths[i]);
                bool dup = false;
                for (size_t j = 0; j < m; j++)
                        dup = dup || strcmp(sorted[j], paths[i]) == 0;
                if (!dup)
                        sorted[m++] = paths[i];
        }
        int r = store_db_topo_sort(db, sorted, m, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m; i++) {
                r = export_one(db, sorted[i], fd, err);
                if (r < 0)
                        return r;
        }
        return put_u64(fd, 0, err);
}

/* ---- reading ---- */

struct in {
        struct nar_fd_reader *reader;
        uint64_t off;
};

static int get_bytes(struct in *in, void *buf, size_t len, const char *what, struct cl_error *err)
{
        size_t got = 0;
        while (got < len) {
                ssize_t n = nar_fd_reader_read(in->reader, (char *)buf + got, len - got, err);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        return cl_errx(err, EBADMSG,
                                       "import stream at byte %llu: ends in the middle of %s",
                                       (unsigned long long)in->off, what);
                got += (size_t)n;
                in->off += (uint64_t)n;
        }
        return 0;
}

static int get_u64(struct in *in, uint64_t *ret, const char *what, struct cl_error *err)
{
        unsigned char b[8];
        int r = get_bytes(in, b, 8, what, err);
        if (r < 0)
                return r;
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | b[i];
        *ret = v;
        return 0;
}

static int get_str(struct in *in, char **ret, const char *what, struct cl_error *err)
{
        uint64_t at = in->off, len;
        int r = get_u64(in, &len, what, err);
        if (r < 0)
                return r;
        if (len > EXPORT_MAX_STRING)
                return cl_errx(err, EBADMSG,
                               "import stream at byte %llu: %s is too long (%llu bytes)",
                               (unsigned long long)at, what, (unsigned long long)len);
        size_t padded = (len + 7) & ~(size_t)7;
        _cleanup_free_ char *s = malloc(padded + 1);
        if (!s)
                return cl_err(err, ENOMEM, "import");
        r = get_bytes(in, s, padded, what, err);
        if (r < 0)
                return r;
        for (size_t i = len; i < padded; i++)
                if (s[i] != 0)
                        return cl_errx(err, EBADMSG,
                                       "import stream at byte %llu: non-zero padding after %s",
                                       (unsigned long long)at, what);
        if (memchr(s, 0, len))
                return cl_errx(err, EBADMSG, "import stream at byte %llu: %s contains NUL",
                               (unsigned long long)at, what);
        s[len] = '\0';
        *ret = TAKE_PTR(s);
        return 0;
}

struct staged_list {
        struct store_staged *v;
        size_t n, cap;
};

static void staged_list_free(struct staged_list *l)
{
        for (size_t i = 0; i < l->n; i++) {
                struct store_path_info *info = &l->v[i].info;
                free((char *)l->v[i].name);
                free(info->path);
                free(info->nar_hash);
                free(info->deriver);
                for (size_t k = 0; k < info->n_references; k++)
                        free(info->references[k]);
                free(info->references);
                for (size_t k = 0; k < info->n_outputs; k++) {
                        free(info->outputs[k].name);
                        free(info->outputs[k].path);
                }
                free(info->outputs);
        }
        free(l->v);
}

/* Read the metadata that follows one NAR into obj->info. */
static int read_trailer(struct store_db *db, struct in *in, struct store_staged *obj,
                        struct cl_error *err)
{
        uint64_t at = in->off, magic;
        int r = get_u64(in, &magic, "the export magic", err);
        if (r < 0)
                return r;
        if (magic != STORE_EXPORT_MAGIC)
                return cl_errx(err, EBADMSG,
                               "import stream at byte %llu: Nix archive cannot be imported; wrong "
                               "format (no 'NIXE' magic)",
                               (unsigned long long)at);
        struct store_path_info *info = &obj->info;
        at = in->off;
        r = get_str(in, &info->path, "the store path", err);
        if (r < 0)
                return r;
        r = store_db_check_path(db, info->path, NULL, err);
        if (r < 0)
                return cl_err_prefix(err, "import stream at byte %llu", (unsigned long long)at);
        uint64_t n_refs;
        at = in->off;
        r = get_u64(in, &n_refs, "the reference count", err);
        if (r < 0)
                return r;
        if (n_refs > EXPORT_MAX_REFS)
                return cl_errx(err, EBADMSG, "import stream at byte %llu: %llu references",
                               (unsigned long long)at, (unsigned long long)n_refs);
        info->references = calloc(n_refs + 1, sizeof(char *));
        if (!info->references)
                return cl_err(err, ENOMEM, "import");
        for (uint64_t i = 0; i < n_refs; i++) {
                at = in->off;
                r = get_str(in, &info->references[i], "a reference", err);
                if (r < 0)
                        return r;
                info->n_references++;
                r = store_db_check_path(db, info->references[i], NULL, err);
                if (r < 0)
                        return cl_err_prefix(err, "import stream at byte %llu: reference of '%s'",
                                             (unsigned long long)at, info->path);
        }
        at = in->off;
        r = get_str(in, &info->deriver, "the deriver", err);
        if (r < 0)
                return r;
        if (info->deriver[0] == '\0') {
                free(info->deriver);
                info->deriver = NULL;
        } else {
                r = store_db_check_path(db, info->deriver, NULL, err);
                if (r < 0)
                        return cl_err_prefix(err, "import stream at byte %llu: deriver of '%s'",
                                             (unsigned long long)at, info->path);
        }
        uint64_t has_sig;
        r = get_u64(in, &has_sig, "the signature flag", err);
        if (r < 0)
                return r;
        if (has_sig == 1) {
                /* a legacy signature: read and ignored, as Nix 2.8 does */
                _cleanup_free_ char *sig = NULL;
                r = get_str(in, &sig, "the signature", err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int store_import(struct store_db *db, int fd, char ***ret_paths, struct cl_error *err)
{
        _cleanup_stage_ struct store_stage stage = STORE_STAGE_INIT;
        int r = store_stage_new(db, &stage, err);
        if (r < 0)
                return r;
        _cleanup_free_ struct nar_fd_reader *reader = malloc(sizeof(*reader));
        if (!reader)
                return cl_err(err, ENOMEM, "import");
        nar_fd_reader_init(reader, fd);
        struct in in = {.reader = reader};
        struct staged_list list = {0};

        for (;;) {
                uint64_t at = in.off, more;
                r = get_u64(&in, &more, "the next-path flag", err);
                if (r < 0)
                        break;
                if (more == 0)
                        break;
                if (more != 1) {
                        r = cl_errx(err, EBADMSG,
                                    "import stream at byte %llu: input doesn't look like "
                                    "something created by 'nix-store --export'",
                                    (unsigned long long)at);
                        break;
                }
                if (list.n == list.cap) {
                        size_t cap = list.cap ? list.cap * 2 : 8;
                        struct store_staged *nv = realloc(list.v, cap * sizeof(*nv));
                        if (!nv) {
                                r = cl_err(err, ENOMEM, "import");
                                break;
                        }
                        list.v = nv;
                        list.cap = cap;
                }
                struct store_staged *obj = &list.v[list.n];
                *obj = (struct store_staged){0};
                list.n++;
                char name[32];
                snprintf(name, sizeof(name), "%zu", list.n);
                obj->name = strdup(name);
                if (!obj->name) {
                        r = cl_err(err, ENOMEM, "import");
                        break;
                }
                struct nar_hasher h;
                r = nar_hasher_init(&h, HASH_SHA256, NULL);
                if (r < 0) {
                        nar_hasher_free(&h);
                        r = cl_err(err, -r, "import");
                        break;
                }
                /* the NAR is read by the restorer straight from the stream;
                 * the bytes after it are ours */
                struct nar_source src = {.read = nar_fd_reader_read,
                                         .userdata = reader,
                                         .tee = nar_hasher_write,
                                         .tee_userdata = &h};
                uint64_t size = 0;
                uint64_t nar_at = in.off;
                r = nar_restore_at(stage.fd, obj->name, &src, &size, err);
                struct hash nar;
                if (r == 0)
                        r = nar_hasher_final(&h, &nar);
                nar_hasher_free(&h);
                if (r < 0) {
                        cl_err_prefix(err, "import stream: path %zu (NAR at byte %llu)", list.n,
                                      (unsigned long long)nar_at);
                        break;
                }
                in.off += size;
                obj->info.nar_size = size;
                char hbuf[HASH_STR_MAX];
                obj->info.nar_hash = strdup(store_nar_hash_column(&nar, hbuf));
                if (!obj->info.nar_hash) {
                        r = cl_err(err, ENOMEM, "import");
                        break;
                }
                r = read_trailer(db, &in, obj, err);
                if (r < 0)
                        break;
                for (size_t i = 0; i + 1 < list.n; i++)
                        if (strcmp(list.v[i].info.path, obj->info.path) == 0) {
                                r = cl_errx(err, EINVAL, "import stream: path '%s' appears twice",
                                            obj->info.path);
                                break;
                        }
                if (r < 0)
                        break;
        }
        if (r == 0)
                r = store_install(db, &stage, list.v, list.n, err);
        if (r == 0) {
                char **paths = calloc(list.n + 1, sizeof(char *));
                for (size_t i = 0; paths && i < list.n; i++) {
                        paths[i] = strdup(list.v[i].info.path);
                        if (!paths[i]) {
                                store_strv_free(paths);
                                paths = NULL;
                        }
                }
                if (!paths)
                        r = cl_err(err, ENOMEM, "import");
                else
                        *ret_paths = paths;
        }
        staged_list_free(&list);
        return r;
}
