/* Nix 2.8's hashDerivationModulo and the output paths that follow from it, the
 * invariant checks Nix runs before registering a .drv, and the .drv's own text
 * path. Inputs are loaded through a struct drv_loader and memoised per path. */
#include "store/store-drv-hash.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dir_loader {
        const char *store_dir;
        int store_fd;
};

static int load_from_dir(void *userdata, const char *drv_path, struct derivation *ret,
                         struct cl_error *err)
{
        const struct dir_loader *dl = userdata;
        struct store_path sp;
        int r = store_path_parse(dl->store_dir, drv_path, &sp, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        r = fd_read_file_at(dl->store_fd, sp.base, DRV_MAX_SIZE, 1, &data, &len);
        if (r < 0)
                return cl_err(err, r, "read derivation '%s'", drv_path);
        r = drv_parse(data, len, ret, err);
        if (r < 0)
                return cl_err_prefix(err, "derivation '%s'", drv_path);
        return 0;
}

void drv_loader_init_dir(struct drv_loader *l, const char *store_dir, int store_fd)
{
        struct dir_loader *dl = malloc(sizeof(*dl));
        *l = (struct drv_loader){.store_dir = store_dir};
        if (dl) {
                *dl = (struct dir_loader){store_dir, store_fd};
                l->load = load_from_dir;
                l->userdata = dl;
        }
}

void drv_loader_done(struct drv_loader *l)
{
        if (l->load == load_from_dir)
                free(l->userdata);
        for (size_t i = 0; i < l->n_memo; i++)
                free(l->memo[i].path);
        free(l->memo);
        *l = (struct drv_loader){0};
}

/* Binary search; returns the index where path is or would go. */
static size_t memo_find(const struct drv_loader *l, const char *path, bool *found)
{
        size_t lo = 0, hi = l->n_memo;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(l->memo[mid].path, path);
                if (c == 0) {
                        *found = true;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

static int memo_add(struct drv_loader *l, size_t at, const char *path, const struct hash *hm)
{
        if (l->n_memo == l->cap_memo) {
                size_t c = l->cap_memo ? l->cap_memo * 2 : 64;
                struct drv_memo_entry *m = realloc(l->memo, c * sizeof(*m));
                if (!m)
                        return -ENOMEM;
                l->memo = m;
                l->cap_memo = c;
        }
        char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        memmove(&l->memo[at + 1], &l->memo[at], (l->n_memo - at) * sizeof(*l->memo));
        l->memo[at] = (struct drv_memo_entry){p, *hm};
        l->n_memo++;
        return 0;
}

int drv_get_kind(const struct derivation *d, enum drv_kind *ret_kind, struct drv_fixed *ret_fixed,
                 struct cl_error *err)
{
        size_t n_fixed = 0;
        for (size_t i = 0; i < d->n_outputs; i++) {
                const struct drv_output *o = &d->outputs[i];
                if (o->hash_algo[0] == '\0' && o->hash[0] == '\0')
                        continue;
                /* an empty path is one still to be computed, not a floating output */
                if (o->hash[0] == '\0' || strcmp(o->hash, "impure") == 0)
                        return cl_errx(err, ENOTSUP,
                                       "output '%s' is floating content-addressed or impure "
                                       "(experimental in Nix, not supported)",
                                       o->name);
                if (o->hash_algo[0] == '\0')
                        return cl_errx(err, EINVAL, "output '%s' has a hash but no hash algorithm",
                                       o->name);
                n_fixed++;
        }
        if (n_fixed == 0) {
                if (d->n_outputs == 0)
                        return cl_errx(err, EINVAL, "derivation has no outputs");
                *ret_kind = DRV_INPUT_ADDRESSED;
                return 0;
        }
        if (d->n_outputs != 1 || strcmp(d->outputs[0].name, "out") != 0)
                return cl_errx(err, EINVAL,
                               "a fixed-output derivation must have exactly one output, named "
                               "'out'");
        const struct drv_output *o = &d->outputs[0];
        struct drv_fixed f = {.method = STORE_CA_FLAT};
        const char *algo = o->hash_algo;
        if (strncmp(algo, "r:", 2) == 0) {
                f.method = STORE_CA_RECURSIVE;
                algo += 2;
        }
        enum hash_type t;
        if (hash_type_from_name(algo, strlen(algo), &t) < 0)
                return cl_errx(err, EINVAL, "output 'out' has unknown hash algorithm '%s'",
                               o->hash_algo);
        int r = hash_parse_digits(o->hash, strlen(o->hash), t, &f.hash, err);
        if (r < 0)
                return cl_err_prefix(err, "output 'out'");
        *ret_kind = DRV_FIXED_OUTPUT;
        if (ret_fixed)
                *ret_fixed = f;
        return 0;
}

int drv_name_from_path(const char *store_dir, const char *drv_path, char buf[STORE_NAME_MAX + 1],
                       struct cl_error *err)
{
        struct store_path sp;
        int r = store_path_parse(store_dir, drv_path, &sp, err);
        if (r < 0)
                return r;
        const char *name = store_path_name(&sp);
        size_t n = strlen(name);
        if (n <= 4 || strcmp(name + n - 4, ".drv") != 0)
                return cl_errx(err, EINVAL, "'%s' is not a derivation path (no '.drv')", drv_path);
        memcpy(buf, name, n - 4);
        buf[n - 4] = '\0';
        return 0;
}

/* Nix writes these fields without escapes: a '"' or '\\' in one would make a
 * .drv that no parser reads back. */
static int check_raw_field(const char *what, const char *value, struct cl_error *err)
{
        if (strpbrk(value, "\"\\"))
                return cl_errx(err, EINVAL, "%s '%s' contains '\"' or '\\'", what, value);
        return 0;
}

int drv_check_paths(const char *store_dir, const struct derivation *d, const char *drv_name,
                    struct cl_error *err)
{
        struct store_path sp;
        char name[STORE_NAME_MAX + 1];
        int r;
        if ((r = check_raw_field("system", d->platform, err)) < 0)
                return r;
        for (size_t i = 0; i < d->n_outputs; i++)
                if ((r = check_raw_field("hash algorithm", d->outputs[i].hash_algo, err)) < 0 ||
                    (r = check_raw_field("hash", d->outputs[i].hash, err)) < 0)
                        return cl_err_prefix(err, "output '%s'", d->outputs[i].name);
        for (size_t i = 0; i < d->n_inputs; i++)
                for (size_t k = 0; k < d->inputs[i].n_outputs; k++)
                        if ((r = check_raw_field("output name", d->inputs[i].outputs[k], err)) < 0)
                                return cl_err_prefix(err, "input derivation '%s'",
                                                     d->inputs[i].path);
        for (size_t i = 0; i < d->n_outputs; i++) {
                const struct drv_output *o = &d->outputs[i];
                if (o->name[0] == '\0')
                        return cl_errx(err, EINVAL, "an output has an empty name");
                if ((r = store_output_path_name(drv_name, o->name, name, err)) < 0)
                        return r;
                if (o->path[0] && (r = store_path_parse(store_dir, o->path, &sp, err)) < 0)
                        return cl_err_prefix(err, "output '%s'", o->name);
        }
        for (size_t i = 0; i < d->n_inputs; i++) {
                if ((r = drv_name_from_path(store_dir, d->inputs[i].path, name, err)) < 0)
                        return cl_err_prefix(err, "input derivation");
                if (d->inputs[i].n_outputs == 0)
                        return cl_errx(err, EINVAL, "input derivation '%s' names no outputs",
                                       d->inputs[i].path);
        }
        for (size_t i = 0; i < d->n_srcs; i++)
                if ((r = store_path_parse(store_dir, d->srcs[i], &sp, err)) < 0)
                        return cl_err_prefix(err, "input source");
        return 0;
}

/* The path of the single output of a fixed-output derivation. */
static int fixed_out_path(const char *store_dir, const struct drv_fixed *f, const char *drv_name,
                          struct store_path *ret, struct cl_error *err)
{
        return store_make_fixed_path(store_dir, drv_name, f->method, &f->hash, NULL, 0, false, ret,
                                     err);
}

struct hm_input {
        char hex[2 * 32 + 1];
        char **outputs;
        size_t n_outputs;
};

static int hm_input_cmp(const void *a, const void *b)
{
        return strcmp(((const struct hm_input *)a)->hex, ((const struct hm_input *)b)->hex);
}

/* The unmasked hash modulo of the input derivation at path, memoised. */
static int input_hash(struct drv_loader *l, const char *path, struct hash *ret,
                      struct cl_error *err)
{
        bool found;
        size_t at = memo_find(l, path, &found);
        if (found) {
                *ret = l->memo[at].hm;
                return 0;
        }
        if (!l->load)
                return cl_errx(err, ENOMEM, "no derivation loader");
        if (l->depth >= DRV_MAX_DEPTH)
                return cl_errx(err, ELOOP, "input derivations nest deeper than %d at '%s'",
                               DRV_MAX_DEPTH, path);
        char name[STORE_NAME_MAX + 1];
        int r = drv_name_from_path(l->store_dir, path, name, err);
        if (r < 0)
                return r;
        _cleanup_drv_ struct derivation in = {0};
        r = l->load(l->userdata, path, &in, err);
        if (r < 0)
                return r;
        l->depth++;
        r = drv_hash_modulo(l, &in, name, false, ret, err);
        l->depth--;
        if (r < 0)
                return r;
        at = memo_find(l, path, &found);
        if (!found && memo_add(l, at, path, ret) < 0)
                return cl_errx(err, ENOMEM, "out of memory");
        return 0;
}

int drv_hash_modulo(struct drv_loader *l, const struct derivation *d, const char *drv_name,
                    bool mask, struct hash *ret, struct cl_error *err)
{
        enum drv_kind kind;
        struct drv_fixed f;
        int r = drv_get_kind(d, &kind, &f, err);
        if (r < 0)
                return r;
        if (kind == DRV_FIXED_OUTPUT) {
                struct store_path sp;
                _cleanup_free_ char *out = NULL;
                char hex[HASH_STR_MAX];
                if ((r = fixed_out_path(l->store_dir, &f, drv_name, &sp, err)) < 0)
                        return r;
                if (store_path_print(l->store_dir, &sp, &out) < 0)
                        return cl_errx(err, ENOMEM, "out of memory");
                _cleanup_buf_ struct cl_buf s = CL_BUF_INIT;
                if (buf_printf(&s, "fixed:out:%s:%s:%s", d->outputs[0].hash_algo,
                               hash_print(&f.hash, HASH_BASE16, false, hex), out) < 0)
                        return cl_errx(err, ENOMEM, "out of memory");
                return hash_buffer(HASH_SHA256, s.data, s.len, ret);
        }

        /* replace each input drv by the hex of its hash modulo, merging the
         * output sets of inputs that hash alike */
        _cleanup_free_ struct hm_input *ins = NULL;
        if (d->n_inputs && !(ins = calloc(d->n_inputs, sizeof(*ins))))
                return cl_errx(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < d->n_inputs; i++) {
                struct hash h;
                r = input_hash(l, d->inputs[i].path, &h, err);
                if (r < 0)
                        return r;
                char buf[HASH_STR_MAX];
                strcpy(ins[i].hex, hash_print(&h, HASH_BASE16, false, buf));
                ins[i].outputs = d->inputs[i].outputs;
                ins[i].n_outputs = d->inputs[i].n_outputs;
        }
        if (d->n_inputs > 1)
                qsort(ins, d->n_inputs, sizeof(*ins), hm_input_cmp);

        struct derivation m = *d; /* shallow: only arrays replaced below are owned */
        _cleanup_free_ struct drv_input *inputs = NULL;
        _cleanup_free_ char **merged = NULL; /* all output-name pointers, borrowed */
        _cleanup_free_ struct drv_output *outs = NULL;
        _cleanup_free_ struct drv_env *env = NULL;
        size_t total = 0;
        for (size_t i = 0; i < d->n_inputs; i++)
                total += ins[i].n_outputs;
        if (d->n_inputs) {
                inputs = calloc(d->n_inputs, sizeof(*inputs));
                merged = calloc(total + 1, sizeof(char *));
                if (!inputs || !merged)
                        return cl_errx(err, ENOMEM, "out of memory");
        }
        size_t n_in = 0, used = 0;
        for (size_t i = 0; i < d->n_inputs; i++) {
                if (n_in == 0 || strcmp(inputs[n_in - 1].path, ins[i].hex) != 0) {
                        inputs[n_in].path = ins[i].hex;
                        inputs[n_in].outputs = merged + used;
                        inputs[n_in].n_outputs = 0;
                        n_in++;
                }
                struct drv_input *t = &inputs[n_in - 1];
                for (size_t k = 0; k < ins[i].n_outputs; k++) {
                        /* insert into the sorted set t->outputs */
                        const char *o = ins[i].outputs[k];
                        size_t at = 0;
                        while (at < t->n_outputs && strcmp(t->outputs[at], o) < 0)
                                at++;
                        if (at < t->n_outputs && strcmp(t->outputs[at], o) == 0)
                                continue;
                        memmove(&t->outputs[at + 1], &t->outputs[at],
                                (t->n_outputs - at) * sizeof(char *));
                        t->outputs[at] = (char *)o;
                        t->n_outputs++;
                        used++;
                }
        }
        m.inputs = inputs;
        m.n_inputs = n_in;

        static char empty[] = "";
        if (mask) {
                if (d->n_outputs && !(outs = calloc(d->n_outputs, sizeof(*outs))))
                        return cl_errx(err, ENOMEM, "out of memory");
                for (size_t i = 0; i < d->n_outputs; i++) {
                        outs[i] = d->outputs[i];
                        outs[i].path = empty;
                }
                if (d->n_env && !(env = calloc(d->n_env, sizeof(*env))))
                        return cl_errx(err, ENOMEM, "out of memory");
                for (size_t i = 0; i < d->n_env; i++) {
                        env[i] = d->env[i];
                        if (drv_find_output(d, env[i].key))
                                env[i].value = empty;
                }
                m.outputs = outs;
                m.env = env;
        }
        _cleanup_buf_ struct cl_buf aterm = CL_BUF_INIT;
        if (drv_print(&m, &aterm) < 0)
                return cl_errx(err, ENOMEM, "out of memory");
        return hash_buffer(HASH_SHA256, aterm.data, aterm.len, ret);
}

static int set_str(char **field, const char *value)
{
        char *v = strdup(value);
        if (!v)
                return -ENOMEM;
        free(*field);
        *field = v;
        return 0;
}

int drv_resolve_outputs(struct drv_loader *l, struct derivation *d, const char *drv_name,
                        struct cl_error *err)
{
        enum drv_kind kind;
        struct drv_fixed f;
        int r = drv_get_kind(d, &kind, &f, err);
        if (r < 0)
                return r;
        if (kind == DRV_INPUT_ADDRESSED) {
                size_t n_empty = 0;
                for (size_t i = 0; i < d->n_outputs; i++)
                        n_empty += d->outputs[i].path[0] == '\0';
                if (n_empty != 0 && n_empty != d->n_outputs)
                        return cl_errx(err, EINVAL,
                                       "some output paths are given and some are empty");
                if (n_empty)
                        for (size_t i = 0; i < d->n_outputs; i++)
                                if (!drv_find_env(d, d->outputs[i].name) &&
                                    drv_set_env(d, d->outputs[i].name, "") < 0)
                                        return cl_errx(err, ENOMEM, "out of memory");
        }

        if (kind == DRV_FIXED_OUTPUT) {
                /* Nix keeps the content hash as a hash and always writes it in
                 * base16, whichever notation it was given in */
                char hex[HASH_STR_MAX];
                hash_print(&f.hash, HASH_BASE16, false, hex);
                if (strcmp(d->outputs[0].hash, hex) != 0 && set_str(&d->outputs[0].hash, hex) < 0)
                        return cl_errx(err, ENOMEM, "out of memory");
        }
        struct hash hm = {0};
        if (kind == DRV_INPUT_ADDRESSED &&
            (r = drv_hash_modulo(l, d, drv_name, true, &hm, err)) < 0)
                return r;
        for (size_t i = 0; i < d->n_outputs; i++) {
                struct drv_output *o = &d->outputs[i];
                struct store_path sp;
                _cleanup_free_ char *want = NULL;
                r = kind == DRV_FIXED_OUTPUT
                        ? fixed_out_path(l->store_dir, &f, drv_name, &sp, err)
                        : store_make_output_path(l->store_dir, drv_name, o->name, &hm, &sp, err);
                if (r < 0)
                        return r;
                if (store_path_print(l->store_dir, &sp, &want) < 0)
                        return cl_errx(err, ENOMEM, "out of memory");
                if (o->path[0] == '\0') {
                        if (set_str(&o->path, want) < 0 || drv_set_env(d, o->name, want) < 0)
                                return cl_errx(err, ENOMEM, "out of memory");
                        continue;
                }
                if (strcmp(o->path, want) != 0)
                        return cl_errx(err, EINVAL,
                                       "derivation '%s' has incorrect output '%s', should be '%s'",
                                       drv_name, o->path, want);
                const struct drv_env *e = drv_find_env(d, o->name);
                if (!e || strcmp(e->value, want) != 0)
                        return cl_errx(err, EINVAL,
                                       "derivation '%s' has incorrect environment variable '%s', "
                                       "should be '%s'",
                                       drv_name, o->name, want);
        }
        return 0;
}

int drv_references(const struct derivation *d, const char ***ret, size_t *ret_n)
{
        size_t n = d->n_srcs + d->n_inputs;
        const char **v = calloc(n + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_srcs; i++)
                v[i] = d->srcs[i];
        for (size_t i = 0; i < d->n_inputs; i++)
                v[d->n_srcs + i] = d->inputs[i].path;
        store_sort_strings(v, n);
        size_t w = 0;
        for (size_t i = 0; i < n; i++)
                if (w == 0 || strcmp(v[w - 1], v[i]) != 0)
                        v[w++] = v[i];
        *ret = v;
        *ret_n = w;
        return 0;
}

int drv_store_path(const char *store_dir, const struct derivation *d, const char *drv_name,
                   const char *aterm, size_t aterm_len, struct store_path *ret,
                   struct cl_error *err)
{
        char name[STORE_NAME_MAX + 1];
        size_t n = strlen(drv_name);
        if (n + 4 > STORE_NAME_MAX)
                return cl_errx(err, EINVAL, "derivation name '%s' is too long for a .drv path",
                               drv_name);
        memcpy(name, drv_name, n);
        memcpy(name + n, ".drv", 5);
        struct hash h;
        int r = hash_buffer(HASH_SHA256, aterm, aterm_len, &h);
        if (r < 0)
                return cl_errx(err, -r, "sha256 failed");
        _cleanup_free_ const char **refs = NULL;
        size_t n_refs = 0;
        if (drv_references(d, &refs, &n_refs) < 0)
                return cl_errx(err, ENOMEM, "out of memory");
        return store_make_text_path(store_dir, name, &h, refs, n_refs, ret, err);
}
