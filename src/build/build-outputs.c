/* The outputs of a finished builder, from the scratch store directory to
 * valid store paths: Nix 2.8's registerOutputs and checkOutputs (reference
 * rules, outputChecks, fixed-output hashes), with the chain of references
 * added to requisite violations. */
#include "build/build-outputs.h"

#include "base/base-buf.h"
#include "base/base-cleanup.h"
#include "build/build-env.h"
#include "store/store-add.h"
#include "store/store-canon.h"
#include "store/store-nar.h"
#include "store/store-refscan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct out_info {
        const char *name; /* output name */
        const char *path; /* full logical path */
        const char *base;
        struct hash nar_hash;
        uint64_t nar_size;
        char **refs; /* full paths, sorted */
        size_t n_refs;
};

/* Inodes with more than one link, to tell hard links inside an output from
 * links to files the builder did not create. */
struct inode_count {
        dev_t dev;
        ino_t ino;
        nlink_t nlink;
        nlink_t seen;
        const char *output; /* where it was first seen */
};

struct walk {
        uid_t uid;
        const char *output;
        struct inode_count *inodes;
        size_t n_inodes, cap_inodes;
        struct cl_error *err;
};

static int note_inode(struct walk *w, const struct stat *st)
{
        for (size_t i = 0; i < w->n_inodes; i++)
                if (w->inodes[i].dev == st->st_dev && w->inodes[i].ino == st->st_ino) {
                        w->inodes[i].seen++;
                        return 0;
                }
        if (w->n_inodes == w->cap_inodes) {
                size_t cap = w->cap_inodes ? w->cap_inodes * 2 : 16;
                struct inode_count *n = realloc(w->inodes, cap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                w->inodes = n;
                w->cap_inodes = cap;
        }
        w->inodes[w->n_inodes++] =
            (struct inode_count){st->st_dev, st->st_ino, st->st_nlink, 1, w->output};
        return 0;
}

/* Check name below dirfd and everything under it; rel is for messages. */
static int walk_check(struct walk *w, int dirfd, const char *name, const char *rel, unsigned depth)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return cl_err(w->err, errno, "stat '%s'", rel);
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
                return cl_errx(w->err, EINVAL,
                               "output '%s' contains '%s', which is not a regular file, "
                               "directory or symlink",
                               w->output, rel);
        if (st.st_uid != w->uid)
                return cl_errx(w->err, EPERM,
                               "invalid ownership on file '%s' of output '%s' (uid %u)", rel,
                               w->output, (unsigned)st.st_uid);
        if (S_ISREG(st.st_mode) && st.st_nlink > 1 && note_inode(w, &st) < 0)
                return -ENOMEM;
        if (!S_ISDIR(st.st_mode))
                return 0;
        if (depth > 4096)
                return cl_errx(w->err, ELOOP, "output '%s' is nested too deeply", w->output);
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return cl_err(w->err, errno, "open '%s'", rel);
        DIR *dir = fdopendir(fd);
        if (!dir) {
                close(fd);
                return cl_err(w->err, errno, "read '%s'", rel);
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(dir))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                _cleanup_free_ char *sub = NULL;
                if (asprintf(&sub, "%s/%s", rel, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = walk_check(w, fd, de->d_name, sub, depth + 1);
                if (r < 0)
                        break;
        }
        closedir(dir);
        return r;
}

/* One output: the output itself, then everything in it (into w). */
static int check_one(int scratch_fd, const char *drv_path, const char *name, const char *path,
                     struct walk *w, enum build_status *ret_status, struct cl_error *err)
{
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        struct stat s;
        *ret_status = BUILD_SYSTEM_ERROR;
        if (fstatat(scratch_fd, base, &s, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT) {
                        *ret_status = BUILD_FAILED;
                        return cl_errx(err, ENOENT,
                                       "builder for '%s' failed to produce output path for "
                                       "output '%s' at '%s'",
                                       drv_path, name, path);
                }
                return cl_err(err, errno, "stat output '%s'", path);
        }
        *ret_status = BUILD_FAILED;
        /* someone else could have interfered with a writable output (Nix) */
        if (s.st_uid != w->uid || (!S_ISLNK(s.st_mode) && (s.st_mode & (S_IWGRP | S_IWOTH))))
                return cl_errx(err, EPERM,
                               "suspicious ownership or permission on '%s' for output '%s' "
                               "(owner %u, mode %04o; want owner %u, not group- or "
                               "world-writable); rejecting this build output",
                               path, name, (unsigned)s.st_uid, (unsigned)(s.st_mode & 07777),
                               (unsigned)w->uid);
        w->output = path;
        return walk_check(w, scratch_fd, base, path, 0);
}

int build_outputs_check_tree(int scratch_fd, const char *drv_path, const char *const *names,
                             const char *const *paths, size_t n, uid_t uid,
                             enum build_status *ret_status, struct cl_error *err)
{
        struct walk w = {.uid = uid, .err = err};
        int r = 0;
        *ret_status = BUILD_FAILED;
        for (size_t i = 0; r == 0 && i < n; i++)
                r = check_one(scratch_fd, drv_path, names[i], paths[i], &w, ret_status, err);
        /* every link of a file must be in the outputs: Nix allows hard links
         * within and between the outputs of one build */
        for (size_t i = 0; r == 0 && i < w.n_inodes; i++)
                if (w.inodes[i].seen < w.inodes[i].nlink) {
                        *ret_status = BUILD_FAILED;
                        r = cl_errx(err, EPERM,
                                    "output '%s' has a hard link to a file the builder did not "
                                    "create (inode %llu)",
                                    w.inodes[i].output, (unsigned long long)w.inodes[i].ino);
                }
        free(w.inodes);
        return r;
}

/* The references of each output and what the rules need to follow them. */
struct graph {
        struct store_db *db;
        struct out_info *outs;
        size_t n_outs;
};

static int refs_of(struct graph *g, const char *path, char ***ret, bool *owned,
                   struct cl_error *err)
{
        for (size_t i = 0; i < g->n_outs; i++)
                if (strcmp(g->outs[i].path, path) == 0) {
                        *ret = g->outs[i].refs;
                        *owned = false;
                        return 0;
                }
        *owned = true;
        return store_db_references(g->db, path, ret, err);
}

static uint64_t size_of(struct graph *g, const char *path)
{
        for (size_t i = 0; i < g->n_outs; i++)
                if (strcmp(g->outs[i].path, path) == 0)
                        return g->outs[i].nar_size;
        struct store_path_info *info = NULL;
        uint64_t size = 0;
        if (store_db_query_info(g->db, path, &info, NULL) == 0) {
                size = info->nar_size;
                store_path_info_free(info);
        }
        return size;
}

/* The closure of start, breadth first, with each path's parent for chains. */
struct closure {
        char **paths;
        size_t *parent;
        size_t n, cap;
};

static void closure_free(struct closure *c)
{
        for (size_t i = 0; i < c->n; i++)
                free(c->paths[i]);
        free(c->paths);
        free(c->parent);
}

static int closure_add(struct closure *c, const char *path, size_t parent)
{
        for (size_t i = 0; i < c->n; i++)
                if (strcmp(c->paths[i], path) == 0)
                        return 0;
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16;
                char **np = realloc(c->paths, cap * sizeof(char *));
                if (!np)
                        return -ENOMEM;
                c->paths = np;
                size_t *pp = realloc(c->parent, cap * sizeof(size_t));
                if (!pp)
                        return -ENOMEM;
                c->parent = pp;
                c->cap = cap;
        }
        if (!(c->paths[c->n] = strdup(path)))
                return -ENOMEM;
        c->parent[c->n++] = parent;
        return 0;
}

static int closure_of(struct graph *g, const char *start, struct closure *c, struct cl_error *err)
{
        int r = closure_add(c, start, (size_t)-1);
        for (size_t i = 0; r == 0 && i < c->n; i++) {
                char **refs = NULL;
                bool owned = false;
                r = refs_of(g, c->paths[i], &refs, &owned, err);
                if (r < 0)
                        break;
                for (char **ref = refs; ref && *ref && r == 0; ref++)
                        r = closure_add(c, *ref, i);
                if (owned)
                        store_strv_free(refs);
        }
        return r;
}

static int append_chain(struct cl_buf *b, const struct closure *c, size_t i)
{
        /* print from the output down to the offending path */
        size_t chain[4096], n = 0;
        for (size_t j = i; j != (size_t)-1 && n < ELEMENTSOF(chain); j = c->parent[j])
                chain[n++] = j;
        if (buf_append_str(b, " (via ") < 0)
                return -ENOMEM;
        for (size_t k = n; k-- > 0;)
                if (buf_printf(b, "%s%s", c->paths[chain[k]], k ? " -> " : ")") < 0)
                        return -ENOMEM;
        return 0;
}

struct checks {
        bool has_max_size, has_max_closure;
        uint64_t max_size, max_closure;
        char **rules[4]; /* allowedReferences, allowedRequisites, disallowedReferences,
                            disallowedRequisites; NULL = not set */
        bool ignore_self_refs;
};

static const char *const rule_names[4] = {"allowedReferences", "allowedRequisites",
                                          "disallowedReferences", "disallowedRequisites"};

static void checks_free(struct checks *k)
{
        for (int i = 0; i < 4; i++)
                build_strv_free(k->rules[i]);
}

/* A rule's value: output names become their paths; anything else must be a
 * store path (Nix: "derivation contains an illegal reference specifier"). */
static int resolve_spec(const struct build_outputs_params *p, const char *spec, const char **ret,
                        struct cl_error *err)
{
        const struct drv_output *o = drv_find_output(p->drv, spec);
        if (o) {
                *ret = o->path;
                return 0;
        }
        if (!store_path_is_valid(store_db_store_dir(p->db), spec))
                return cl_errx(err, EINVAL,
                               "derivation '%s' contains an illegal reference specifier '%s'",
                               p->drv_path, spec);
        *ret = spec;
        return 0;
}

static int apply_checks(const struct build_outputs_params *p, struct graph *g,
                        const struct out_info *o, const struct checks *k, struct cl_error *err)
{
        if (k->has_max_size && o->nar_size > k->max_size)
                return cl_errx(err, EFBIG,
                               "path '%s' is too large at %llu bytes; limit is %llu bytes", o->path,
                               (unsigned long long)o->nar_size, (unsigned long long)k->max_size);
        struct closure cl = {0};
        bool need_closure = k->has_max_closure || k->rules[1] || k->rules[3];
        int r = need_closure ? closure_of(g, o->path, &cl, err) : 0;
        if (r < 0)
                goto out;
        if (k->has_max_closure) {
                uint64_t total = 0;
                for (size_t i = 0; i < cl.n; i++)
                        total += size_of(g, cl.paths[i]);
                if (total > k->max_closure) {
                        r = cl_errx(err, EFBIG,
                                    "closure of path '%s' is too large at %llu bytes; limit is "
                                    "%llu bytes",
                                    o->path, (unsigned long long)total,
                                    (unsigned long long)k->max_closure);
                        goto out;
                }
        }
        for (int rule = 0; rule < 4; rule++) {
                char **spec = k->rules[rule];
                if (!spec)
                        continue;
                bool allowed = rule < 2, recursive = rule == 1 || rule == 3;
                _cleanup_buf_ struct cl_buf bad = CL_BUF_INIT;
                size_t n_used = recursive ? cl.n : o->n_refs;
                for (size_t i = 0; i < n_used; i++) {
                        const char *used = recursive ? cl.paths[i] : o->refs[i];
                        if (recursive && k->ignore_self_refs && strcmp(used, o->path) == 0)
                                continue;
                        bool listed = false;
                        for (char **s = spec; *s; s++) {
                                const char *sp = NULL;
                                r = resolve_spec(p, *s, &sp, err);
                                if (r < 0)
                                        goto out;
                                if (strcmp(sp, used) == 0)
                                        listed = true;
                        }
                        if (listed == allowed)
                                continue;
                        if (buf_printf(&bad, "\n  %s", used) < 0 ||
                            (recursive && append_chain(&bad, &cl, i) < 0)) {
                                r = -ENOMEM;
                                goto out;
                        }
                }
                if (bad.len) {
                        r = cl_errx(err, EPERM,
                                    "output '%s' is not allowed to refer to the following paths "
                                    "(%s):%s",
                                    o->path, rule_names[rule], bad.data);
                        goto out;
                }
        }
out:
        closure_free(&cl);
        return r;
}

static int json_strings(json_t *v, const char *what, char ***ret, struct cl_error *err)
{
        if (!v)
                return 0;
        if (!json_is_array(v))
                return cl_errx(err, EINVAL, "'%s' must be a list of strings", what);
        char **list = calloc(json_array_size(v) + 1, sizeof(char *));
        if (!list)
                return -ENOMEM;
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
                if (!json_is_string(e) || !(list[i] = strdup(json_string_value(e)))) {
                        build_strv_free(list);
                        return cl_errx(err, EINVAL, "'%s' must be a list of strings", what);
                }
        }
        *ret = list;
        return 0;
}

/* The checks of output name, as Nix 2.8 reads them: outputChecks.<name> with
 * structured attributes, the four top-level attributes otherwise. */
static int read_checks(const struct derivation *d, const char *name, struct checks *k,
                       struct cl_error *err)
{
        memset(k, 0, sizeof(*k));
        struct drv_env *json = drv_find_env(d, "__json");
        if (!json) {
                k->ignore_self_refs = true;
                for (int i = 0; i < 4; i++) {
                        bool present;
                        int r =
                            build_drv_strings_attr(d, rule_names[i], &k->rules[i], &present, err);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        json_t *attrs = json_loads(json->value, JSON_DECODE_ANY, NULL);
        if (!json_is_object(attrs)) {
                json_decref(attrs);
                return cl_errx(err, EINVAL, "structured attributes '__json' are not a JSON object");
        }
        int r = 0;
        json_t *oc = json_object_get(json_object_get(attrs, "outputChecks"), name);
        if (json_is_object(oc)) {
                json_t *v;
                if ((v = json_object_get(oc, "maxSize")) && json_is_integer(v)) {
                        k->has_max_size = true;
                        k->max_size = (uint64_t)json_integer_value(v);
                }
                if ((v = json_object_get(oc, "maxClosureSize")) && json_is_integer(v)) {
                        k->has_max_closure = true;
                        k->max_closure = (uint64_t)json_integer_value(v);
                }
                k->ignore_self_refs = json_is_true(json_object_get(oc, "ignoreSelfRefs"));
                for (int i = 0; i < 4 && r == 0; i++)
                        r = json_strings(json_object_get(oc, rule_names[i]), rule_names[i],
                                         &k->rules[i], err);
        }
        json_decref(attrs);
        return r;
}

/* The flat hash of a fixed output: the bytes of a single regular file. */
static int flat_hash(int dirfd, const char *name, enum hash_type type, struct hash *ret,
                     struct cl_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return cl_err(err, errno, "open flat fixed output '%s'", name);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return cl_errx(err, EINVAL,
                               "output '%s' of a flat fixed-output derivation must be a regular "
                               "file",
                               name);
        _cleanup_hash_ctx_ struct hash_ctx ctx = HASH_CTX_INIT;
        int r = hash_init(&ctx, type);
        if (r < 0)
                return cl_err(err, -r, "hash");
        char buf[65536];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return cl_err(err, errno, "read '%s'", name);
                if (n == 0)
                        break;
                hash_update(&ctx, buf, (size_t)n);
        }
        return hash_final(&ctx, ret);
}

static int check_fixed(const struct build_outputs_params *p, struct out_info *o, char **ret_ca,
                       enum build_status *st, struct cl_error *err)
{
        const struct drv_fixed *f = p->fixed;
        struct hash got;
        int r;
        if (f->method == STORE_CA_FLAT)
                r = flat_hash(p->scratch_fd, o->base, f->hash.type, &got, err);
        else if (f->hash.type == HASH_SHA256)
                got = o->nar_hash, r = 0;
        else
                r = nar_hash_at(p->scratch_fd, o->base, f->hash.type, NULL, &got, NULL, err);
        if (r < 0) {
                *st = BUILD_FAILED;
                return r;
        }
        if (!hash_equal(&got, &f->hash)) {
                char a[HASH_STR_MAX], b[HASH_STR_MAX];
                *st = BUILD_HASH_MISMATCH;
                return cl_errx(err, EINVAL,
                               "hash mismatch in fixed-output derivation '%s':\n  specified: "
                               "%s\n  got:       %s",
                               p->drv_path, hash_print(&f->hash, HASH_SRI, true, a),
                               hash_print(&got, HASH_SRI, true, b));
        }
        *ret_ca = store_ca_fixed(f->method, &f->hash);
        return *ret_ca ? 0 : -ENOMEM;
}

static int hash_and_scan(const struct build_outputs_params *p, struct out_info *outs, size_t n,
                         struct cl_error *err)
{
        size_t n_cand = p->n_closure + n;
        _cleanup_free_ const char **cand = calloc(n_cand + 1, sizeof(char *));
        _cleanup_free_ const char **cand_paths = calloc(n_cand + 1, sizeof(char *));
        if (!cand || !cand_paths)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_closure; i++)
                cand_paths[i] = p->closure[i];
        for (size_t i = 0; i < n; i++)
                cand_paths[p->n_closure + i] = outs[i].path;
        size_t dir_len = strlen(store_db_store_dir(p->db)) + 1;
        for (size_t i = 0; i < n_cand; i++)
                cand[i] = cand_paths[i] + dir_len;
        _cleanup_refscan_ struct refscan *scan = NULL;
        int r = refscan_new(cand, n_cand, &scan, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                refscan_reset(scan);
                r = nar_hash_at(p->scratch_fd, outs[i].base, HASH_SHA256, scan, &outs[i].nar_hash,
                                &outs[i].nar_size, err);
                if (r < 0)
                        return cl_err_prefix(err, "output '%s'", outs[i].path);
                outs[i].refs = calloc(n_cand + 1, sizeof(char *));
                if (!outs[i].refs)
                        return -ENOMEM;
                for (size_t j = 0; j < n_cand; j++) {
                        if (!refscan_found(scan, j))
                                continue;
                        bool dup = false;
                        for (size_t k = 0; k < outs[i].n_refs; k++)
                                dup |= strcmp(outs[i].refs[k], cand_paths[j]) == 0;
                        if (!dup && !(outs[i].refs[outs[i].n_refs++] = strdup(cand_paths[j])))
                                return -ENOMEM;
                }
                store_sort_strings((const char **)outs[i].refs, outs[i].n_refs);
        }
        return 0;
}

/* --check: the new output against the valid one; a different one is kept as
 * "<path>.check" beside it, as Nix does. */
static int compare_check(const struct build_outputs_params *p, const struct out_info *o,
                         enum build_status *st, struct cl_error *err)
{
        _cleanup_path_info_ struct store_path_info *info = NULL;
        int r = store_db_query_info(p->db, o->path, &info, err);
        if (r < 0)
                return r;
        char col[HASH_STR_MAX];
        store_nar_hash_column(&o->nar_hash, col);
        if (strcmp(col, info->nar_hash) == 0)
                return 0;
        int store_fd = store_db_real_store_fd(p->db);
        _cleanup_free_ char *check_name = NULL;
        if (asprintf(&check_name, "%s.check", o->base) < 0)
                return -ENOMEM;
        (void)store_remove_tree_at(store_fd, check_name, NULL);
        /* canonicalised first, as Nix does: the build user must not keep a
         * writable tree in the store */
        r = store_canonicalise_at(p->scratch_fd, o->base, err);
        if (r < 0)
                return cl_err_prefix(err, "keep '%s.check'", o->path);
        r = store_move_at(p->scratch_fd, o->base, store_fd, check_name, err);
        if (r < 0)
                return cl_err(err, -r, "keep '%s.check'", o->path);
        (void)store_canonicalise_top_at(store_fd, check_name, NULL);
        *st = BUILD_NOT_DETERMINISTIC;
        return cl_errx(err, EINVAL,
                       "derivation '%s' may not be deterministic: output '%s' differs from "
                       "'%s.check'",
                       p->drv_path, o->path, o->path);
}

int build_outputs_finish(const struct build_outputs_params *p, enum build_status *ret_status,
                         struct cl_error *err)
{
        const struct derivation *d = p->drv;
        size_t n = d->n_outputs;
        _cleanup_free_ struct out_info *outs = calloc(n + 1, sizeof(*outs));
        _cleanup_free_ char *ca = NULL;
        struct store_stage stage = STORE_STAGE_INIT;
        _cleanup_free_ struct store_staged *staged = NULL;
        _cleanup_free_ char(*hc)[HASH_STR_MAX] = NULL;
        int r = 0;
        *ret_status = BUILD_SYSTEM_ERROR;
        if (!outs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                outs[i].name = d->outputs[i].name;
                outs[i].path = d->outputs[i].path;
                outs[i].base = strrchr(outs[i].path, '/') + 1;
        }
        {
                _cleanup_free_ const char **names = calloc(n + 1, sizeof(char *));
                _cleanup_free_ const char **paths = calloc(n + 1, sizeof(char *));
                if (!names || !paths) {
                        r = -ENOMEM;
                        goto out;
                }
                for (size_t i = 0; i < n; i++) {
                        names[i] = outs[i].name;
                        paths[i] = outs[i].path;
                }
                r = build_outputs_check_tree(p->scratch_fd, p->drv_path, names, paths, n,
                                             p->builder_uid, ret_status, err);
                if (r < 0)
                        goto out;
        }
        *ret_status = BUILD_SYSTEM_ERROR;
        r = hash_and_scan(p, outs, n, err);
        if (r < 0)
                goto out;

        *ret_status = BUILD_FAILED;
        if (p->fixed) {
                if (outs[0].n_refs > 0) {
                        r = cl_errx(err, EPERM,
                                    "illegal path references in fixed-output derivation '%s': "
                                    "'%s'",
                                    p->drv_path, outs[0].refs[0]);
                        goto out;
                }
                r = check_fixed(p, &outs[0], &ca, ret_status, err);
                if (r < 0)
                        goto out;
        }
        struct graph g = {.db = p->db, .outs = outs, .n_outs = n};
        for (size_t i = 0; i < n; i++) {
                struct checks k;
                r = read_checks(d, outs[i].name, &k, err);
                if (r < 0) {
                        *ret_status = BUILD_MISUSE;
                        goto out;
                }
                r = apply_checks(p, &g, &outs[i], &k, err);
                checks_free(&k);
                if (r < 0)
                        goto out;
        }

        if (p->check) {
                for (size_t i = 0; i < n; i++) {
                        r = compare_check(p, &outs[i], ret_status, err);
                        if (r < 0)
                                goto out;
                }
                *ret_status = BUILD_OK;
                goto out;
        }

        *ret_status = BUILD_SYSTEM_ERROR;
        r = store_stage_new(p->db, &stage, err);
        if (r < 0)
                goto out;
        staged = calloc(n + 1, sizeof(*staged));
        if (!staged) {
                r = -ENOMEM;
                goto out;
        }
        hc = calloc(n + 1, HASH_STR_MAX);
        if (!hc) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                if (renameat(p->scratch_fd, outs[i].base, stage.fd, outs[i].base) < 0) {
                        r = cl_err(err, errno, "move output '%s' to the store", outs[i].path);
                        goto out;
                }
                staged[i].name = outs[i].base;
                struct store_path_info *info = &staged[i].info;
                info->path = (char *)outs[i].path;
                info->nar_hash = store_nar_hash_column(&outs[i].nar_hash, hc[i]);
                info->nar_size = outs[i].nar_size;
                info->deriver = (char *)p->drv_path;
                info->ultimate = true;
                info->ca = p->fixed ? ca : NULL;
                info->references = outs[i].refs;
                info->n_references = outs[i].n_refs;
        }
        r = store_install(p->db, &stage, staged, n, err);
        if (r < 0)
                goto out;
        *ret_status = BUILD_OK;
out:
        store_stage_free(&stage);
        for (size_t i = 0; i < n; i++)
                build_strv_free(outs[i].refs);
        return r;
}
