/* show-derivation JSON. Reading goes through jansson. Writing does not: Nix 2.8
 * writes control bytes as \u00XX (jansson writes \b and \f) and copies bytes that
 * are not UTF-8 unchanged (jansson refuses them), so the few lines below emit
 * Nix's exact layout and escaping instead. */
#include "store/store-drv-json.h"

#include "base/base-cleanup.h"
#include "store/store-hash.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nix's toJSON for strings: \" \\ \n \r \t, other bytes below 0x20 as \u00xx,
 * everything else raw. */
static int json_str(struct cl_buf *b, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        if (buf_append_char(b, '"') < 0)
                return -ENOMEM;
        const char *run = s;
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char)*p;
                char esc[8];
                if (c == '"' || c == '\\') {
                        esc[0] = '\\', esc[1] = (char)c, esc[2] = '\0';
                } else if (c == '\n') {
                        strcpy(esc, "\\n");
                } else if (c == '\r') {
                        strcpy(esc, "\\r");
                } else if (c == '\t') {
                        strcpy(esc, "\\t");
                } else if (c < 0x20) {
                        memcpy(esc, "\\u00", 4);
                        esc[4] = hex[c >> 4], esc[5] = hex[c & 0xf], esc[6] = '\0';
                } else {
                        continue;
                }
                if (buf_append(b, run, (size_t)(p - run)) < 0 || buf_append_str(b, esc) < 0)
                        return -ENOMEM;
                run = p + 1;
        }
        if (buf_append_str(b, run) < 0 || buf_append_char(b, '"') < 0)
                return -ENOMEM;
        return 0;
}

/* Nix's JSONWriter with indentation: two spaces per level, "key": value. */
struct jw {
        struct cl_buf *b;
        unsigned depth;
        bool first;
        int r;
};

static void jw_nl(struct jw *w)
{
        if (buf_append_char(w->b, '\n') < 0)
                w->r = -ENOMEM;
        for (unsigned i = 0; i < w->depth * 2; i++)
                if (buf_append_char(w->b, ' ') < 0)
                        w->r = -ENOMEM;
}

static void jw_comma(struct jw *w)
{
        if (!w->first && buf_append_char(w->b, ',') < 0)
                w->r = -ENOMEM;
        jw_nl(w);
        w->first = false;
}

static void jw_key(struct jw *w, const char *key)
{
        jw_comma(w);
        if (json_str(w->b, key) < 0 || buf_append_str(w->b, ": ") < 0)
                w->r = -ENOMEM;
}

static void jw_open(struct jw *w, char c)
{
        if (buf_append_char(w->b, c) < 0)
                w->r = -ENOMEM;
        w->depth++;
        w->first = true;
}

static void jw_close(struct jw *w, char c)
{
        w->depth--;
        if (!w->first)
                jw_nl(w);
        if (buf_append_char(w->b, c) < 0)
                w->r = -ENOMEM;
        w->first = false;
}

static void jw_attr(struct jw *w, const char *key, const char *value)
{
        jw_key(w, key);
        if (json_str(w->b, value) < 0)
                w->r = -ENOMEM;
}

static void jw_elem(struct jw *w, const char *value)
{
        jw_comma(w);
        if (json_str(w->b, value) < 0)
                w->r = -ENOMEM;
}

static void print_one(struct jw *w, const char *path, const struct derivation *d)
{
        jw_key(w, path);
        jw_open(w, '{');
        jw_key(w, "outputs");
        jw_open(w, '{');
        for (size_t i = 0; i < d->n_outputs; i++) {
                const struct drv_output *o = &d->outputs[i];
                jw_key(w, o->name);
                jw_open(w, '{');
                if (o->path[0])
                        jw_attr(w, "path", o->path);
                if (o->hash_algo[0])
                        jw_attr(w, "hashAlgo", o->hash_algo);
                if (o->hash[0]) {
                        /* Nix re-renders the content hash in base16 */
                        const char *algo = o->hash_algo;
                        enum hash_type t;
                        struct hash h;
                        char buf[HASH_STR_MAX];
                        if (strncmp(algo, "r:", 2) == 0)
                                algo += 2;
                        if (hash_type_from_name(algo, strlen(algo), &t) == 0 &&
                            hash_parse_digits(o->hash, strlen(o->hash), t, &h, NULL) == 0)
                                jw_attr(w, "hash", hash_print(&h, HASH_BASE16, false, buf));
                        else
                                jw_attr(w, "hash", o->hash);
                }
                jw_close(w, '}');
        }
        jw_close(w, '}');
        jw_key(w, "inputSrcs");
        jw_open(w, '[');
        for (size_t i = 0; i < d->n_srcs; i++)
                jw_elem(w, d->srcs[i]);
        jw_close(w, ']');
        jw_key(w, "inputDrvs");
        jw_open(w, '{');
        for (size_t i = 0; i < d->n_inputs; i++) {
                jw_key(w, d->inputs[i].path);
                jw_open(w, '[');
                for (size_t k = 0; k < d->inputs[i].n_outputs; k++)
                        jw_elem(w, d->inputs[i].outputs[k]);
                jw_close(w, ']');
        }
        jw_close(w, '}');
        jw_attr(w, "system", d->platform);
        jw_attr(w, "builder", d->builder);
        jw_key(w, "args");
        jw_open(w, '[');
        for (size_t i = 0; i < d->n_args; i++)
                jw_elem(w, d->args[i]);
        jw_close(w, ']');
        jw_key(w, "env");
        jw_open(w, '{');
        for (size_t i = 0; i < d->n_env; i++)
                jw_attr(w, d->env[i].key, d->env[i].value);
        jw_close(w, '}');
        jw_close(w, '}');
}

int drv_json_print(const char *const *drv_paths, const struct derivation *const *drvs, size_t n,
                   struct cl_buf *out)
{
        struct jw w = {.b = out};
        jw_open(&w, '{');
        for (size_t i = 0; i < n; i++)
                print_one(&w, drv_paths[i], drvs[i]);
        jw_close(&w, '}');
        if (buf_append_char(out, '\n') < 0)
                w.r = -ENOMEM;
        return w.r;
}

void drv_json_items_free(struct drv_json_item *items, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(items[i].path);
                drv_free(&items[i].drv);
        }
        free(items);
}

static void drv_json_decrefp(json_t **j)
{
        if (*j)
                json_decref(*j);
}

/* A copy of a JSON string; refuses other types and embedded NULs. */
static int get_str(json_t *v, const char *what, char **ret, struct cl_error *err)
{
        if (!json_is_string(v))
                return cl_errx(err, EINVAL, "%s is not a string", what);
        const char *s = json_string_value(v);
        if (strlen(s) != json_string_length(v))
                return cl_errx(err, EINVAL, "%s contains a NUL byte", what);
        char *c = strdup(s);
        if (!c)
                return cl_errx(err, ENOMEM, "out of memory");
        *ret = c;
        return 0;
}

static int get_strv(json_t *v, const char *what, char ***ret, size_t *ret_n, struct cl_error *err)
{
        if (!json_is_array(v))
                return cl_errx(err, EINVAL, "%s is not a list", what);
        size_t n = json_array_size(v);
        char **a = calloc(n + 1, sizeof(char *));
        if (!a)
                return cl_errx(err, ENOMEM, "out of memory");
        *ret = a;
        for (size_t i = 0; i < n; i++) {
                int r = get_str(json_array_get(v, i), what, &a[i], err);
                if (r < 0)
                        return r;
                *ret_n = i + 1;
        }
        return 0;
}

static int parse_outputs(json_t *v, struct derivation *d, struct cl_error *err)
{
        if (!json_is_object(v))
                return cl_errx(err, EINVAL, "'outputs' is not an object");
        size_t n = json_object_size(v);
        d->outputs = calloc(n + 1, sizeof(*d->outputs));
        if (!d->outputs)
                return cl_errx(err, ENOMEM, "out of memory");
        const char *key;
        json_t *o;
        json_object_foreach(v, key, o)
        {
                struct drv_output *out = &d->outputs[d->n_outputs++];
                if (!(out->name = strdup(key)))
                        return cl_errx(err, ENOMEM, "out of memory");
                if (!json_is_object(o))
                        return cl_errx(err, EINVAL, "output '%s' is not an object", key);
                const char *fields[] = {"path", "hashAlgo", "hash"};
                char **dst[] = {&out->path, &out->hash_algo, &out->hash};
                for (size_t f = 0; f < 3; f++) {
                        json_t *fv = json_object_get(o, fields[f]);
                        int r = fv ? get_str(fv, fields[f], dst[f], err)
                                   : ((*dst[f] = strdup("")) ? 0 : -ENOMEM);
                        if (r == -ENOMEM)
                                return cl_errx(err, ENOMEM, "out of memory");
                        if (r < 0)
                                return cl_err_prefix(err, "output '%s'", key);
                }
                const char *k2;
                json_t *v2;
                json_object_foreach(o, k2, v2)
                {
                        if (strcmp(k2, "path") && strcmp(k2, "hashAlgo") && strcmp(k2, "hash"))
                                return cl_errx(err, EINVAL, "output '%s' has unknown key '%s'", key,
                                               k2);
                }
        }
        return 0;
}

static int parse_inputs(json_t *v, struct derivation *d, struct cl_error *err)
{
        if (!json_is_object(v))
                return cl_errx(err, EINVAL, "'inputDrvs' is not an object");
        size_t n = json_object_size(v);
        d->inputs = calloc(n + 1, sizeof(*d->inputs));
        if (!d->inputs)
                return cl_errx(err, ENOMEM, "out of memory");
        const char *key;
        json_t *o;
        json_object_foreach(v, key, o)
        {
                struct drv_input *in = &d->inputs[d->n_inputs++];
                if (!(in->path = strdup(key)))
                        return cl_errx(err, ENOMEM, "out of memory");
                int r = get_strv(o, "an input derivation's output list", &in->outputs,
                                 &in->n_outputs, err);
                if (r < 0)
                        return cl_err_prefix(err, "input derivation '%s'", key);
        }
        return 0;
}

static int parse_env(json_t *v, struct derivation *d, struct cl_error *err)
{
        if (!json_is_object(v))
                return cl_errx(err, EINVAL, "'env' is not an object");
        size_t n = json_object_size(v);
        d->env = calloc(n + 1, sizeof(*d->env));
        if (!d->env)
                return cl_errx(err, ENOMEM, "out of memory");
        const char *key;
        json_t *o;
        json_object_foreach(v, key, o)
        {
                struct drv_env *e = &d->env[d->n_env++];
                if (!(e->key = strdup(key)))
                        return cl_errx(err, ENOMEM, "out of memory");
                int r = get_str(o, "value", &e->value, err);
                if (r < 0)
                        return cl_err_prefix(err, "environment variable '%s'", key);
        }
        return 0;
}

static int parse_drv(json_t *obj, struct derivation *d, struct cl_error *err)
{
        if (!json_is_object(obj))
                return cl_errx(err, EINVAL, "a derivation is not an object");
        static const char *const known[] = {"outputs", "inputSrcs", "inputDrvs", "system",
                                            "builder", "args",      "env",       "name"};
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(known); i++)
                        ok |= strcmp(key, known[i]) == 0;
                if (!ok)
                        return cl_errx(err, EINVAL, "unknown key '%s'", key);
        }
        int r;
        json_t *outputs = json_object_get(obj, "outputs");
        if (!outputs)
                return cl_errx(err, EINVAL, "no 'outputs'");
        if ((r = parse_outputs(outputs, d, err)) < 0)
                return r;
        if ((v = json_object_get(obj, "inputSrcs")) &&
            (r = get_strv(v, "'inputSrcs'", &d->srcs, &d->n_srcs, err)) < 0)
                return r;
        if ((v = json_object_get(obj, "inputDrvs")) && (r = parse_inputs(v, d, err)) < 0)
                return r;
        if (!(v = json_object_get(obj, "system")))
                return cl_errx(err, EINVAL, "no 'system'");
        if ((r = get_str(v, "'system'", &d->platform, err)) < 0)
                return r;
        if (!(v = json_object_get(obj, "builder")))
                return cl_errx(err, EINVAL, "no 'builder'");
        if ((r = get_str(v, "'builder'", &d->builder, err)) < 0)
                return r;
        if ((v = json_object_get(obj, "args")) &&
            (r = get_strv(v, "'args'", &d->args, &d->n_args, err)) < 0)
                return r;
        if ((v = json_object_get(obj, "env")) && (r = parse_env(v, d, err)) < 0)
                return r;
        return drv_canonicalise(d, err);
}

int drv_json_parse(const char *data, size_t len, struct drv_json_item **ret, size_t *ret_n,
                   struct cl_error *err)
{
        if (len > DRV_JSON_MAX_SIZE)
                return cl_errx(err, EFBIG, "JSON document of %zu bytes is larger than the limit",
                               len);
        json_error_t jerr;
        _cleanup_(drv_json_decrefp) json_t *root =
            json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return cl_errx(err, EINVAL, "JSON line %d column %d (offset %d): %s", jerr.line,
                               jerr.column, jerr.position, jerr.text);
        if (!json_is_object(root))
                return cl_errx(err, EINVAL, "JSON document is not an object");
        bool bare = json_object_get(root, "outputs") != NULL;
        size_t n = bare ? 1 : json_object_size(root);
        if (n == 0)
                return cl_errx(err, EINVAL, "JSON document holds no derivation");
        struct drv_json_item *items = calloc(n, sizeof(*items));
        if (!items)
                return cl_errx(err, ENOMEM, "out of memory");
        int r = 0;
        if (bare) {
                r = parse_drv(root, &items[0].drv, err);
        } else {
                size_t i = 0;
                const char *key;
                json_t *v;
                json_object_foreach(root, key, v)
                {
                        if (!(items[i].path = strdup(key))) {
                                r = cl_errx(err, ENOMEM, "out of memory");
                                break;
                        }
                        r = parse_drv(v, &items[i].drv, err);
                        i++;
                        if (r < 0) {
                                r = cl_err_prefix(err, "derivation '%s'", key);
                                break;
                        }
                }
        }
        if (r < 0) {
                drv_json_items_free(items, n);
                return r;
        }
        *ret = items;
        *ret_n = n;
        return 0;
}
