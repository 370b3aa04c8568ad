/* New objects in the store, and old ones out of it: nix-store --add and
 * --add-fixed, the staging directory and the install step every new object
 * goes through (lock, canonicalise, rename, register in one transaction),
 * delete and verify. Locking and temporary roots follow Nix 2.8's
 * addToStoreFromDump, so that Nix and cloister can add to one store at once. */
#include "store/store-add.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"
#include "store/store-canon.h"
#include "store/store-drv-add.h"
#include "store/store-drv.h"
#include "store/store-nar.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAGE_SUFFIX "-cloister-stage"

char *store_ca_fixed(enum store_ca_method method, const struct hash *h)
{
        char buf[HASH_STR_MAX];
        char *s = NULL;
        if (asprintf(&s, "fixed:%s%s", method == STORE_CA_RECURSIVE ? "r:" : "",
                     hash_print(h, HASH_NIX32, true, buf)) < 0)
                return NULL;
        return s;
}

char *store_nar_hash_column(const struct hash *nar_sha256, char buf[HASH_STR_MAX])
{
        return hash_print(nar_sha256, HASH_BASE16, true, buf);
}

/* ---- staging ---- */

int store_stage_new(struct store_db *db, struct store_stage *ret, struct cl_error *err)
{
        static const char alphabet[] = "0123456789abcdfghijklmnpqrsvwxyz";
        int store_fd = store_db_real_store_fd(db);
        for (int attempt = 0; attempt < 16; attempt++) {
                unsigned char rnd[STORE_HASH_PART_LEN];
                if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                        return cl_err(err, errno, "get random bytes");
                char base[64];
                for (size_t i = 0; i < STORE_HASH_PART_LEN; i++)
                        base[i] = alphabet[rnd[i] & 31];
                memcpy(base + STORE_HASH_PART_LEN, STAGE_SUFFIX, sizeof(STAGE_SUFFIX));
                /* a store-path-shaped name whose hash part is a temporary root:
                 * Nix's collector keeps it (it matches roots by hash part) */
                _cleanup_free_ char *logical = NULL;
                if (asprintf(&logical, "%s/%s", store_db_store_dir(db), base) < 0)
                        return cl_err(err, ENOMEM, "stage");
                int r = store_db_add_temp_root(db, logical, err);
                if (r < 0)
                        return r;
                if (mkdirat(store_fd, base, 0700) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return cl_err(err, errno, "create staging directory '%s' in the store",
                                      base);
                }
                int fd = openat(store_fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        int e = errno;
                        (void)unlinkat(store_fd, base, AT_REMOVEDIR);
                        return cl_err(err, e, "open staging directory '%s'", base);
                }
                ret->fd = fd;
                ret->db = db;
                memcpy(ret->base, base, sizeof(ret->base));
                return 0;
        }
        return cl_errx(err, EEXIST, "cannot find a free staging name in the store");
}

void store_stage_free(struct store_stage *s)
{
        if (s->fd < 0)
                return;
        close(s->fd);
        s->fd = -1;
        (void)store_remove_tree_at(store_db_real_store_fd(s->db), s->base, NULL);
}

/* ---- installing ---- */

static int cmp_staged(const void *a, const void *b)
{
        const struct store_staged *x = *(struct store_staged *const *)a;
        const struct store_staged *y = *(struct store_staged *const *)b;
        return strcmp(x->info.path, y->info.path);
}

static void free_outputs(struct store_path_info *info)
{
        for (size_t i = 0; i < info->n_outputs; i++) {
                free(info->outputs[i].name);
                free(info->outputs[i].path);
        }
        free(info->outputs);
        info->outputs = NULL;
        info->n_outputs = 0;
}

static bool is_drv_path(const char *path)
{
        size_t n = strlen(path);
        return n > 4 && strcmp(path + n - 4, ".drv") == 0;
}

/* A .drv's outputs with known paths become DerivationOutputs rows, as Nix 2.8
 * does when it registers the .drv (not when the outputs are built). */
static int drv_outputs_from_file(int dirfd, const char *name, struct store_path_info *info,
                                 struct cl_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = fd_read_file_at(dirfd, name, DRV_MAX_SIZE, 1, &data, &len);
        if (r < 0)
                return cl_err(err, -r, "read derivation '%s'", info->path);
        _cleanup_drv_ struct derivation d = {0};
        r = drv_parse(data, len, &d, err);
        if (r < 0)
                return cl_err_prefix(err, "derivation '%s'", info->path);
        info->outputs = calloc(d.n_outputs + 1, sizeof(*info->outputs));
        if (!info->outputs)
                return cl_err(err, ENOMEM, "derivation '%s'", info->path);
        for (size_t i = 0; i < d.n_outputs; i++) {
                if (d.outputs[i].path[0] == '\0')
                        continue; /* a floating output has no path yet */
                struct store_drv_output *o = &info->outputs[info->n_outputs];
                o->name = strdup(d.outputs[i].name);
                o->path = strdup(d.outputs[i].path);
                info->n_outputs++;
                if (!o->name || !o->path)
                        return cl_err(err, ENOMEM, "derivation '%s'", info->path);
        }
        return 0;
}

int store_install(struct store_db *db, struct store_stage *stage, struct store_staged *objs,
                  size_t n, struct cl_error *err)
{
        int store_fd = store_db_real_store_fd(db);
        _cleanup_free_ struct store_staged **sorted = calloc(n + 1, sizeof(*sorted));
        _cleanup_free_ struct store_path_lock *locks = calloc(n + 1, sizeof(*locks));
        _cleanup_free_ bool *moved = calloc(n + 1, sizeof(bool));
        _cleanup_free_ struct store_path_info *infos = calloc(n + 1, sizeof(*infos));
        if (!sorted || !locks || !moved || !infos)
                return cl_err(err, ENOMEM, "install paths");
        for (size_t i = 0; i < n; i++) {
                sorted[i] = &objs[i];
                locks[i] = (struct store_path_lock)STORE_PATH_LOCK_INIT;
        }
        qsort(sorted, n, sizeof(*sorted), cmp_staged);

        int r = 0;
        size_t n_new = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                struct store_staged *o = sorted[i];
                const char *base = NULL;
                r = store_db_check_path(db, o->info.path, &base, err);
                if (r < 0)
                        break;
                /* root first, then lock, then look: as Nix, so that a collector
                 * cannot take the path between our check and our use */
                r = store_db_add_temp_root(db, o->info.path, err);
                if (r < 0)
                        break;
                r = store_db_lock_path(db, o->info.path, &locks[i], err);
                if (r < 0)
                        break;
                r = store_db_is_valid(db, o->info.path, err);
                if (r < 0)
                        break;
                o->already_valid = r == 1;
                r = 0;
                if (o->already_valid)
                        continue;
                /* an invalid object at the path is debris of a failed attempt */
                r = store_remove_tree_at(store_fd, base, err);
                if (r < 0)
                        break;
                if (is_drv_path(o->info.path) && o->info.n_outputs == 0) {
                        r = drv_outputs_from_file(stage->fd, o->name, &o->info, err);
                        if (r < 0)
                                break;
                }
                r = store_canonicalise_at(stage->fd, o->name, err);
                if (r < 0) {
                        cl_err_prefix(err, "canonicalise '%s'", o->info.path);
                        break;
                }
                r = store_move_at(stage->fd, o->name, store_fd, base, err);
                if (r < 0) {
                        r = cl_err(err, -r, "move '%s' into place", o->info.path);
                        break;
                }
                moved[i] = true;
                /* the move touched the top directory's mtime */
                r = store_canonicalise_top_at(store_fd, base, err);
                if (r < 0)
                        break;
                infos[n_new++] = o->info;
        }
        if (r == 0 && n_new > 0)
                r = store_db_register(db, infos, n_new, err);
        if (r < 0) {
                /* unregistered objects must not stay at their final paths */
                for (size_t i = 0; i < n; i++) {
                        const char *base = NULL;
                        if (moved[i] &&
                            store_db_check_path(db, sorted[i]->info.path, &base, NULL) == 0)
                                (void)store_remove_tree_at(store_fd, base, NULL);
                }
        }
        /* the lock files go either way: the stale marker makes that safe */
        for (size_t i = 0; i < n; i++)
                store_path_lock_release(&locks[i], true);
        return r;
}

/* ---- add ---- */

/* Feeds a NAR to two hashers at once: the content hash and the NAR sha256. */
struct two_hashers {
        struct nar_hasher content;
        struct nar_hasher nar;
        bool same; /* content is the NAR sha256 itself */
};

static int two_hashers_write(void *userdata, const void *data, size_t len, struct cl_error *err)
{
        struct two_hashers *t = userdata;
        int r = nar_hasher_write(&t->nar, data, len, err);
        if (r < 0 || t->same)
                return r;
        return nar_hasher_write(&t->content, data, len, err);
}

/* The dumping side of add: runs in a thread, writes the NAR into a socket (not
 * a pipe: MSG_NOSIGNAL turns an early end of the reader into EPIPE instead of
 * SIGPIPE). */
struct dumper {
        const char *src;
        int fd;
        int result;
        struct cl_error err;
};

static int send_all(void *userdata, const void *data, size_t len, struct cl_error *err)
{
        int r = fd_send_all(*(int *)userdata, data, len);
        return r < 0 ? cl_err(err, -r, "copy into the store") : 0;
}

static void *dumper_run(void *arg)
{
        struct dumper *d = arg;
        d->result = nar_dump_path(d->src, send_all, &d->fd, &d->err);
        shutdown(d->fd, SHUT_WR);
        return NULL;
}

/* nix-store --add takes the name from the argument's last component. */
static int name_of(const char *src, char name[STORE_NAME_MAX + 1], struct cl_error *err)
{
        size_t len = strlen(src);
        while (len > 1 && src[len - 1] == '/')
                len--;
        size_t start = len;
        while (start > 0 && src[start - 1] != '/')
                start--;
        size_t n = len - start;
        if (n == 0 || n > STORE_NAME_MAX || store_path_check_name(src + start, n, NULL) < 0)
                return cl_errx(err, EINVAL,
                               "cannot add '%s': '%.*s' is not a valid store path name (1 to %d "
                               "of A-Z a-z 0-9 + - . _ ? =)",
                               src, (int)(n > 300 ? 300 : n), src + start, STORE_NAME_MAX);
        memcpy(name, src + start, n);
        name[n] = '\0';
        return 0;
}

/* Copy src into the stage as entry "x" through NAR dump and restore in one
 * pass, hashing the stream on the way. */
static int stage_recursive(struct store_stage *stage, const char *src, struct two_hashers *h,
                           uint64_t *ret_size, struct cl_error *err)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return cl_err(err, errno, "socketpair");
        _cleanup_close_ int rd = sv[0];
        struct dumper d = {.src = src, .fd = sv[1]};
        pthread_t th;
        int e = pthread_create(&th, NULL, dumper_run, &d);
        if (e != 0) {
                close(sv[1]);
                return cl_err(err, e, "start copying '%s'", src);
        }
        _cleanup_free_ struct nar_fd_reader *reader = malloc(sizeof(*reader));
        int r;
        if (!reader) {
                r = cl_err(err, ENOMEM, "add '%s'", src);
        } else {
                nar_fd_reader_init(reader, rd);
                struct nar_source source = {.read = nar_fd_reader_read,
                                            .userdata = reader,
                                            .tee = two_hashers_write,
                                            .tee_userdata = h,
                                            .whole = true};
                r = nar_restore_at(stage->fd, "x", &source, ret_size, err);
        }
        /* stop the dumper if the restore gave up early */
        shutdown(rd, SHUT_RDWR);
        pthread_join(th, NULL);
        close(sv[1]);
        if (d.result < 0) {
                if (err)
                        *err = d.err;
                return d.result;
        }
        if (r < 0)
                return cl_err_prefix(err, "add '%s'", src);
        return 0;
}

/* Copy the bytes of the regular file src into the stage as "x", hashing them
 * with algo. */
static int stage_flat(struct store_stage *stage, const char *src, enum hash_type algo,
                      struct hash *ret, struct cl_error *err)
{
        /* Nix 2.8 takes the object through its NAR, so a symlink is refused
         * and the executable bit is kept */
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (in < 0 && errno == ELOOP)
                return cl_errx(err, EINVAL,
                               "cannot add '%s' flat: it is a symbolic link, not a regular file",
                               src);
        if (in < 0)
                return cl_err(err, errno, "open '%s'", src);
        struct stat st;
        if (fstat(in, &st) < 0)
                return cl_err(err, errno, "stat '%s'", src);
        if (!S_ISREG(st.st_mode))
                return cl_errx(err, EINVAL, "cannot add '%s' flat: it is not a regular file", src);
        _cleanup_close_ int out =
            openat(stage->fd, "x", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (out < 0)
                return cl_err(err, errno, "create file in the staging directory");
        _cleanup_hash_ctx_ struct hash_ctx ctx = HASH_CTX_INIT;
        int r = hash_init(&ctx, algo);
        if (r < 0)
                return cl_err(err, -r, "hash '%s'", src);
        _cleanup_free_ char *buf = malloc(NAR_CHUNK);
        if (!buf)
                return cl_err(err, ENOMEM, "add '%s'", src);
        for (;;) {
                ssize_t n = read(in, buf, NAR_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return cl_err(err, errno, "read '%s'", src);
                if (n == 0)
                        break;
                r = hash_update(&ctx, buf, (size_t)n);
                if (r < 0)
                        return cl_err(err, -r, "hash '%s'", src);
                r = fd_write_all(out, buf, (size_t)n);
                if (r < 0)
                        return cl_err(err, -r, "copy '%s' into the store", src);
        }
        if (fchmod(out, st.st_mode & S_IXUSR ? 0555 : 0444) < 0)
                return cl_err(err, errno, "chmod the copy of '%s'", src);
        r = hash_final(&ctx, ret);
        return r < 0 ? cl_err(err, -r, "hash '%s'", src) : 0;
}

int store_add_path(struct store_db *db, const char *src, enum store_ca_method method,
                   enum hash_type algo, char **ret_path, struct cl_error *err)
{
        char name[STORE_NAME_MAX + 1];
        int r = name_of(src, name, err);
        if (r < 0)
                return r;
        if (!hash_type_name(algo))
                return cl_errx(err, EINVAL, "cannot add '%s': no hash algorithm", src);
        _cleanup_stage_ struct store_stage stage = STORE_STAGE_INIT;
        r = store_stage_new(db, &stage, err);
        if (r < 0)
                return r;

        struct hash content = {0}, nar = {0};
        uint64_t nar_size = 0;
        if (method == STORE_CA_RECURSIVE) {
                struct two_hashers h = {.same = algo == HASH_SHA256};
                r = nar_hasher_init(&h.nar, HASH_SHA256, NULL);
                if (r == 0)
                        r = nar_hasher_init(&h.content, h.same ? HASH_SHA256 : algo, NULL);
                if (r < 0)
                        r = cl_err(err, -r, "hash '%s'", src);
                if (r == 0)
                        r = stage_recursive(&stage, src, &h, &nar_size, err);
                if (r == 0)
                        r = nar_hasher_final(&h.nar, &nar);
                if (r == 0 && !h.same)
                        r = nar_hasher_final(&h.content, &content);
                nar_hasher_free(&h.nar);
                nar_hasher_free(&h.content);
                if (r < 0)
                        return r;
                if (h.same)
                        content = nar;
        } else {
                r = stage_flat(&stage, src, algo, &content, err);
                if (r < 0)
                        return r;
        }
        /* canonicalise before hashing the NAR of a flat file, which records
         * the executable bit */
        r = store_canonicalise_at(stage.fd, "x", err);
        if (r < 0)
                return cl_err_prefix(err, "add '%s'", src);
        if (method == STORE_CA_FLAT) {
                r = nar_hash_at(stage.fd, "x", HASH_SHA256, NULL, &nar, &nar_size, err);
                if (r < 0)
                        return cl_err_prefix(err, "add '%s'", src);
        }

        struct store_path sp;
        r = store_make_fixed_path(store_db_store_dir(db), name, method, &content, NULL, 0, false,
                                  &sp, err);
        if (r < 0)
                return cl_err_prefix(err, "add '%s'", src);
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char *ca = store_ca_fixed(method, &content);
        r = store_path_print(store_db_store_dir(db), &sp, &path);
        if (r < 0 || !ca)
                return cl_err(err, ENOMEM, "add '%s'", src);
        char hbuf[HASH_STR_MAX];
        struct store_staged obj = {.name = "x"};
        obj.info.path = path;
        obj.info.nar_hash = store_nar_hash_column(&nar, hbuf);
        obj.info.nar_size = nar_size;
        obj.info.ca = ca;
        r = store_install(db, &stage, &obj, 1, err);
        free_outputs(&obj.info);
        if (r < 0)
                return cl_err_prefix(err, "add '%s'", src);
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* ---- derivations written by drv_add ---- */

int store_register_drv(void *userdata, const struct drv_registration *reg, struct cl_error *err)
{
        struct store_db *db = userdata;
        const char *base = NULL;
        int r = store_db_check_path(db, reg->path, &base, err);
        if (r < 0)
                return r;
        r = store_db_add_temp_root(db, reg->path, err);
        if (r < 0)
                return r;
        _cleanup_path_lock_ struct store_path_lock lock = STORE_PATH_LOCK_INIT;
        r = store_db_lock_path(db, reg->path, &lock, err);
        if (r < 0)
                return r;
        r = store_db_is_valid(db, reg->path, err);
        if (r != 0)
                return r < 0 ? r : 0;
        int store_fd = store_db_real_store_fd(db);
        r = store_canonicalise_at(store_fd, base, err);
        if (r < 0)
                return r;
        struct hash nar;
        uint64_t nar_size = 0;
        r = nar_hash_at(store_fd, base, HASH_SHA256, NULL, &nar, &nar_size, err);
        if (r < 0)
                return r;
        char hbuf[HASH_STR_MAX], cbuf[HASH_STR_MAX];
        _cleanup_free_ char *ca = NULL;
        if (asprintf(&ca, "text:%s", hash_print(reg->content_sha256, HASH_NIX32, true, cbuf)) < 0)
                return cl_err(err, ENOMEM, "register '%s'", reg->path);
        const struct derivation *d = reg->drv;
        _cleanup_free_ struct store_drv_output *outs = calloc(d->n_outputs + 1, sizeof(*outs));
        if (!outs)
                return cl_err(err, ENOMEM, "register '%s'", reg->path);
        size_t n_outs = 0;
        for (size_t i = 0; i < d->n_outputs; i++)
                if (d->outputs[i].path[0] != '\0')
                        outs[n_outs++] =
                            (struct store_drv_output){d->outputs[i].name, d->outputs[i].path};
        struct store_path_info info = {
            .path = (char *)reg->path,
            .nar_hash = store_nar_hash_column(&nar, hbuf),
            .nar_size = nar_size,
            .ca = ca,
            .references = (char **)reg->refs,
            .n_references = reg->n_refs,
            .outputs = outs,
            .n_outputs = n_outs,
        };
        r = store_db_register(db, &info, 1, err);
        if (r < 0)
                return r;
        store_path_lock_release(&lock, true);
        return 0;
}

/* ---- delete ---- */

int store_delete_path(struct store_db *db, const char *path, struct cl_error *err)
{
        const char *base = NULL;
        int r = store_db_check_path(db, path, &base, err);
        if (r < 0)
                return r;
        _cleanup_path_lock_ struct store_path_lock lock = STORE_PATH_LOCK_INIT;
        r = store_db_lock_path(db, path, &lock, err);
        if (r < 0)
                return r;
        _cleanup_stage_ struct store_stage stage = STORE_STAGE_INIT;
        r = store_stage_new(db, &stage, err);
        if (r < 0)
                return r;
        int store_fd = store_db_real_store_fd(db);
        r = store_db_begin(db, err);
        if (r < 0)
                return r;
        r = store_db_invalidate(db, path, err);
        if (r < 0) {
                store_db_rollback(db);
                return r;
        }
        /* out of the way first, so that a failed commit can put it back */
        r = store_move_at(store_fd, base, stage.fd, "x", err);
        bool moved = r == 0;
        if (r < 0 && r != -ENOENT) {
                r = cl_err(err, -r, "move '%s' out of the store", path);
                store_db_rollback(db);
                return r;
        }
        r = store_db_commit(db, err);
        if (r < 0) {
                if (moved && store_move_at(stage.fd, "x", store_fd, base, NULL) == 0)
                        (void)store_canonicalise_top_at(store_fd, base, NULL);
                return r;
        }
        store_path_lock_release(&lock, true);
        /* the stage (and the object in it) goes when it is freed */
        return store_remove_tree_at(stage.fd, "x", err);
}

/* ---- verify ---- */

static void reportf(store_report_fn report, void *userdata, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reportf(store_report_fn report, void *userdata, const char *fmt, ...)
{
        char msg[CL_ERROR_MAX + 256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        report(userdata, msg);
}

int store_verify(struct store_db *db, bool check_contents, store_report_fn report, void *userdata,
                 struct cl_error *err)
{
        _cleanup_strv_ char **paths = NULL;
        int r = store_db_all_paths(db, &paths, err);
        if (r < 0)
                return r;
        int store_fd = store_db_real_store_fd(db);
        int problems = 0;
        for (char **p = paths; *p; p++) {
                const char *base = NULL;
                struct cl_error e = {0};
                if (store_db_check_path(db, *p, &base, &e) < 0) {
                        reportf(report, userdata, "%s", e.msg);
                        problems++;
                        continue;
                }
                struct stat st;
                if (fstatat(store_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        reportf(report, userdata, "path '%s' is valid but %s", *p,
                                errno == ENOENT ? "does not exist" : strerror(errno));
                        problems++;
                        continue;
                }
                if (!check_contents)
                        continue;
                _cleanup_path_info_ struct store_path_info *info = NULL;
                r = store_db_query_info(db, *p, &info, err);
                if (r < 0)
                        return r;
                struct hash want;
                if (hash_parse(info->nar_hash, strlen(info->nar_hash), HASH_SHA256, &want, &e) <
                    0) {
                        reportf(report, userdata, "path '%s' has an unreadable hash '%s': %s", *p,
                                info->nar_hash, e.msg);
                        problems++;
                        continue;
                }
                struct hash got;
                uint64_t size = 0;
                if (nar_hash_at(store_fd, base, want.type, NULL, &got, &size, &e) < 0) {
                        reportf(report, userdata, "path '%s' cannot be read: %s", *p, e.msg);
                        problems++;
                        continue;
                }
                char b1[HASH_STR_MAX], b2[HASH_STR_MAX];
                if (!hash_equal(&want, &got)) {
                        reportf(report, userdata,
                                "path '%s' was modified! expected hash '%s', got '%s'", *p,
                                hash_print(&want, HASH_NIX32, true, b1),
                                hash_print(&got, HASH_NIX32, true, b2));
                        problems++;
                } else if (info->nar_size && info->nar_size != size) {
                        reportf(report, userdata,
                                "path '%s' was modified! expected NAR size %llu, got %llu", *p,
                                (unsigned long long)info->nar_size, (unsigned long long)size);
                        problems++;
                }
        }
        return problems;
}
