/* The ATerm form of a derivation (Nix's parseDerivation and
 * Derivation::unparse). The parser is a flat loop over a fixed grammar, so no
 * input can make it recurse; it is stricter than Nix's on purpose: whatever it
 * accepts prints back to the same bytes. */
#include "store/store-drv.h"

#include "base/base-cleanup.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

void drv_free(struct derivation *d)
{
        for (size_t i = 0; i < d->n_outputs; i++) {
                free(d->outputs[i].name);
                free(d->outputs[i].path);
                free(d->outputs[i].hash_algo);
                free(d->outputs[i].hash);
        }
        free(d->outputs);
        for (size_t i = 0; i < d->n_inputs; i++) {
                free(d->inputs[i].path);
                strv_free(d->inputs[i].outputs, d->inputs[i].n_outputs);
        }
        free(d->inputs);
        strv_free(d->srcs, d->n_srcs);
        free(d->platform);
        free(d->builder);
        strv_free(d->args, d->n_args);
        for (size_t i = 0; i < d->n_env; i++) {
                free(d->env[i].key);
                free(d->env[i].value);
        }
        free(d->env);
        *d = (struct derivation){0};
}

/* Make room for one more element in a growing array. */
static int grow(void *arrp, size_t *cap, size_t n, size_t elem)
{
        void **arr = arrp;
        if (n < *cap)
                return 0;
        size_t c = *cap ? *cap * 2 : 4;
        if (c > SIZE_MAX / elem)
                return -ENOMEM;
        void *a = realloc(*arr, c * elem);
        if (!a)
                return -ENOMEM;
        *arr = a;
        *cap = c;
        return 0;
}

struct parser {
        const char *p;
        size_t len;
        size_t pos;
        struct cl_error *err;
};

/* "'x'", "byte 0xNN" or "end of input", for messages. */
static const char *found(const struct parser *ps, char buf[16])
{
        if (ps->pos >= ps->len)
                return "end of input";
        unsigned char c = (unsigned char)ps->p[ps->pos];
        if (c >= 0x20 && c < 0x7f)
                snprintf(buf, 16, "'%c'", c);
        else
                snprintf(buf, 16, "byte 0x%02x", c);
        return buf;
}

static int expected(struct parser *ps, const char *what)
{
        char b[16];
        return cl_errx(ps->err, EINVAL, "offset %zu: expected %s, found %s", ps->pos, what,
                       found(ps, b));
}

static bool peek(const struct parser *ps, char c)
{
        return ps->pos < ps->len && ps->p[ps->pos] == c;
}

static int expect_char(struct parser *ps, char c, const char *what)
{
        if (!peek(ps, c))
                return expected(ps, what);
        ps->pos++;
        return 0;
}

/* A quoted string. escaped: the field is one Nix escapes when writing
 * (builder, args, env), so the five escapes are allowed and the bytes they
 * stand for may not appear raw; elsewhere Nix writes raw and a backslash can
 * never be printed back the same way. */
static int parse_str(struct parser *ps, bool escaped, const char *what, char **ret)
{
        if (!peek(ps, '"'))
                return expected(ps, what);
        size_t start = ps->pos++;
        _cleanup_buf_ struct cl_buf b = CL_BUF_INIT;
        for (;;) {
                if (ps->pos >= ps->len)
                        return cl_errx(ps->err, EINVAL,
                                       "offset %zu: unterminated string (opened at offset %zu)",
                                       ps->pos, start);
                char c = ps->p[ps->pos];
                if (c == '"')
                        break;
                if (c == '\0')
                        return cl_errx(ps->err, EINVAL, "offset %zu: NUL byte in a string",
                                       ps->pos);
                if (c == '\\') {
                        if (!escaped)
                                return cl_errx(ps->err, EINVAL,
                                               "offset %zu: backslash in a field that Nix "
                                               "writes without escapes",
                                               ps->pos);
                        if (ps->pos + 1 >= ps->len)
                                return cl_errx(ps->err, EINVAL,
                                               "offset %zu: unterminated string (opened at "
                                               "offset %zu)",
                                               ps->len, start);
                        char e = ps->p[ps->pos + 1];
                        switch (e) {
                        case 'n':
                                c = '\n';
                                break;
                        case 'r':
                                c = '\r';
                                break;
                        case 't':
                                c = '\t';
                                break;
                        case '"':
                        case '\\':
                                c = e;
                                break;
                        default: {
                                ps->pos++;
                                char fb[16];
                                return cl_errx(ps->err, EINVAL,
                                               "offset %zu: unknown escape, expected one of "
                                               "n r t \" \\ after a backslash, found %s",
                                               ps->pos, found(ps, fb));
                        }
                        }
                        ps->pos += 2;
                } else {
                        if (escaped && (c == '\n' || c == '\r' || c == '\t'))
                                return cl_errx(ps->err, EINVAL,
                                               "offset %zu: raw %s in a string (Nix writes it "
                                               "escaped)",
                                               ps->pos,
                                               c == '\n'   ? "newline"
                                               : c == '\r' ? "carriage return"
                                                           : "tab");
                        ps->pos++;
                }
                if (buf_append_char(&b, c) < 0)
                        return cl_errx(ps->err, ENOMEM, "out of memory");
        }
        ps->pos++;
        char *s = buf_steal(&b);
        if (!s)
                return cl_errx(ps->err, ENOMEM, "out of memory");
        *ret = s;
        return 0;
}

/* After an element: ',' continues the list, ']' ends it. Returns 1 at the end. */
static int list_next(struct parser *ps, const char *what)
{
        if (peek(ps, ','))
                return ps->pos++, 0;
        if (peek(ps, ']'))
                return ps->pos++, 1;
        return expected(ps, what);
}

/* Elements of the sets Nix keeps sorted must arrive strictly increasing. */
static int check_order(struct parser *ps, size_t at, const char *prev, const char *cur,
                       const char *what)
{
        if (!prev)
                return 0;
        int c = strcmp(prev, cur);
        if (c < 0)
                return 0;
        return cl_errx(ps->err, EINVAL, "offset %zu: %s '%s' %s", at, what, cur,
                       c == 0 ? "is a duplicate" : "is out of sorted order");
}

/* "[" str { "," str } "]" into v and n; sorted: a set (strictly increasing). */
static int parse_strlist(struct parser *ps, bool escaped, bool sorted, const char *what, char ***v,
                         size_t *n)
{
        size_t cap = 0;
        char open_what[96];
        snprintf(open_what, sizeof(open_what), "'[' to open the %s list", what);
        int r = expect_char(ps, '[', open_what);
        if (r < 0)
                return r;
        if (peek(ps, ']'))
                return ps->pos++, 0;
        for (;;) {
                char item_what[96];
                snprintf(item_what, sizeof(item_what), "'\"' to open %s %s",
                         strchr("aeiou", what[0]) ? "an" : "a", what);
                if (grow(v, &cap, *n, sizeof(char *)) < 0)
                        return cl_errx(ps->err, ENOMEM, "out of memory");
                size_t at = ps->pos;
                r = parse_str(ps, escaped, item_what, &(*v)[*n]);
                if (r < 0)
                        return r;
                (*n)++;
                if (sorted) {
                        r = check_order(ps, at, *n > 1 ? (*v)[*n - 2] : NULL, (*v)[*n - 1], what);
                        if (r < 0)
                                return r;
                }
                r = list_next(ps, "',' or ']' in a list");
                if (r < 0)
                        return r;
                if (r == 1)
                        return 0;
        }
}

static int parse_outputs(struct parser *ps, struct derivation *d)
{
        size_t cap = 0;
        int r = expect_char(ps, '[', "'[' to open the outputs");
        if (r < 0)
                return r;
        if (peek(ps, ']'))
                return ps->pos++, 0;
        for (;;) {
                if (grow(&d->outputs, &cap, d->n_outputs, sizeof(*d->outputs)) < 0)
                        return cl_errx(ps->err, ENOMEM, "out of memory");
                struct drv_output *o = &d->outputs[d->n_outputs];
                *o = (struct drv_output){0};
                d->n_outputs++;
                if ((r = expect_char(ps, '(', "'(' to open an output")) < 0)
                        return r;
                size_t at = ps->pos;
                if ((r = parse_str(ps, false, "'\"' to open an output name", &o->name)) < 0)
                        return r;
                if (d->n_outputs > 1 && (r = check_order(ps, at, d->outputs[d->n_outputs - 2].name,
                                                         o->name, "output")) < 0)
                        return r;
                if ((r = expect_char(ps, ',', "',' after the output name")) < 0 ||
                    (r = parse_str(ps, false, "'\"' to open an output path", &o->path)) < 0 ||
                    (r = expect_char(ps, ',', "',' after the output path")) < 0 ||
                    (r = parse_str(ps, false, "'\"' to open a hash algorithm", &o->hash_algo)) <
                        0 ||
                    (r = expect_char(ps, ',', "',' after the hash algorithm")) < 0 ||
                    (r = parse_str(ps, false, "'\"' to open a hash", &o->hash)) < 0 ||
                    (r = expect_char(ps, ')', "')' to close an output")) < 0)
                        return r;
                r = list_next(ps, "',' or ']' after an output");
                if (r < 0)
                        return r;
                if (r == 1)
                        return 0;
        }
}

static int parse_inputs(struct parser *ps, struct derivation *d)
{
        size_t cap = 0;
        int r = expect_char(ps, '[', "'[' to open the input derivations");
        if (r < 0)
                return r;
        if (peek(ps, ']'))
                return ps->pos++, 0;
        for (;;) {
                if (grow(&d->inputs, &cap, d->n_inputs, sizeof(*d->inputs)) < 0)
                        return cl_errx(ps->err, ENOMEM, "out of memory");
                struct drv_input *in = &d->inputs[d->n_inputs];
                *in = (struct drv_input){0};
                d->n_inputs++;
                if ((r = expect_char(ps, '(', "'(' to open an input derivation")) < 0)
                        return r;
                size_t at = ps->pos;
                if ((r = parse_str(ps, false, "'\"' to open an input derivation path", &in->path)) <
                    0)
                        return r;
                if (d->n_inputs > 1 && (r = check_order(ps, at, d->inputs[d->n_inputs - 2].path,
                                                        in->path, "input derivation")) < 0)
                        return r;
                if ((r = expect_char(ps, ',', "',' after the input derivation path")) < 0 ||
                    (r = parse_strlist(ps, false, true, "input output name", &in->outputs,
                                       &in->n_outputs)) < 0 ||
                    (r = expect_char(ps, ')', "')' to close an input derivation")) < 0)
                        return r;
                r = list_next(ps, "',' or ']' after an input derivation");
                if (r < 0)
                        return r;
                if (r == 1)
                        return 0;
        }
}

static int parse_env(struct parser *ps, struct derivation *d)
{
        size_t cap = 0;
        int r = expect_char(ps, '[', "'[' to open the environment");
        if (r < 0)
                return r;
        if (peek(ps, ']'))
                return ps->pos++, 0;
        for (;;) {
                if (grow(&d->env, &cap, d->n_env, sizeof(*d->env)) < 0)
                        return cl_errx(ps->err, ENOMEM, "out of memory");
                struct drv_env *e = &d->env[d->n_env];
                *e = (struct drv_env){0};
                d->n_env++;
                if ((r = expect_char(ps, '(', "'(' to open an environment variable")) < 0)
                        return r;
                size_t at = ps->pos;
                if ((r = parse_str(ps, true, "'\"' to open a variable name", &e->key)) < 0)
                        return r;
                if (d->n_env > 1 && (r = check_order(ps, at, d->env[d->n_env - 2].key, e->key,
                                                     "environment variable")) < 0)
                        return r;
                if ((r = expect_char(ps, ',', "',' after the variable name")) < 0 ||
                    (r = parse_str(ps, true, "'\"' to open a variable value", &e->value)) < 0 ||
                    (r = expect_char(ps, ')', "')' to close an environment variable")) < 0)
                        return r;
                r = list_next(ps, "',' or ']' after an environment variable");
                if (r < 0)
                        return r;
                if (r == 1)
                        return 0;
        }
}

static int expect_word(struct parser *ps, const char *word, const char *what)
{
        size_t n = strlen(word);
        for (size_t i = 0; i < n; i++, ps->pos++)
                if (ps->pos >= ps->len || ps->p[ps->pos] != word[i])
                        return expected(ps, what);
        return 0;
}

int drv_parse(const char *data, size_t len, struct derivation *ret, struct cl_error *err)
{
        struct parser ps = {.p = data, .len = len, .pos = 0, .err = err};
        _cleanup_drv_ struct derivation d = {0};
        int r;
        if (len > DRV_MAX_SIZE)
                return cl_errx(err, EFBIG,
                               "derivation of %zu bytes is larger than the limit of "
                               "%u bytes",
                               len, DRV_MAX_SIZE);
        if (len >= 15 && memcmp(data, "DrvWithVersion(", 15) == 0)
                return cl_errx(err, EINVAL,
                               "offset 0: derivations in the 'DrvWithVersion' form (dynamic "
                               "derivations) are not supported");
        if ((r = expect_word(&ps, "Derive(", "'Derive(' at the start")) < 0 ||
            (r = parse_outputs(&ps, &d)) < 0 ||
            (r = expect_char(&ps, ',', "',' after the outputs")) < 0 ||
            (r = parse_inputs(&ps, &d)) < 0 ||
            (r = expect_char(&ps, ',', "',' after the input derivations")) < 0 ||
            (r = parse_strlist(&ps, false, true, "input source", &d.srcs, &d.n_srcs)) < 0 ||
            (r = expect_char(&ps, ',', "',' after the input sources")) < 0 ||
            (r = parse_str(&ps, false, "'\"' to open the system", &d.platform)) < 0 ||
            (r = expect_char(&ps, ',', "',' after the system")) < 0 ||
            (r = parse_str(&ps, true, "'\"' to open the builder", &d.builder)) < 0 ||
            (r = expect_char(&ps, ',', "',' after the builder")) < 0 ||
            (r = parse_strlist(&ps, true, false, "argument", &d.args, &d.n_args)) < 0 ||
            (r = expect_char(&ps, ',', "',' after the arguments")) < 0 ||
            (r = parse_env(&ps, &d)) < 0 ||
            (r = expect_char(&ps, ')', "')' to close the derivation")) < 0)
                return r;
        if (ps.pos != len)
                return cl_errx(err, EINVAL,
                               "offset %zu: trailing data after the end of the derivation", ps.pos);
        *ret = d;
        d = (struct derivation){0};
        return 0;
}

/* Nix's printString / printUnquotedString. */
static int print_str(struct cl_buf *b, const char *s, bool escaped)
{
        if (buf_append_char(b, '"') < 0)
                return -ENOMEM;
        if (!escaped) {
                if (buf_append_str(b, s) < 0)
                        return -ENOMEM;
        } else {
                const char *run = s;
                for (const char *p = s;; p++) {
                        const char *esc = NULL;
                        switch (*p) {
                        case '"':
                                esc = "\\\"";
                                break;
                        case '\\':
                                esc = "\\\\";
                                break;
                        case '\n':
                                esc = "\\n";
                                break;
                        case '\r':
                                esc = "\\r";
                                break;
                        case '\t':
                                esc = "\\t";
                                break;
                        case '\0':
                                esc = "";
                                break;
                        default:
                                continue;
                        }
                        if (buf_append(b, run, (size_t)(p - run)) < 0 || buf_append_str(b, esc) < 0)
                                return -ENOMEM;
                        if (*p == '\0')
                                break;
                        run = p + 1;
                }
        }
        return buf_append_char(b, '"');
}

static int print_strlist(struct cl_buf *b, char *const *v, size_t n, bool escaped)
{
        if (buf_append_char(b, '[') < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if ((i > 0 && buf_append_char(b, ',') < 0) || print_str(b, v[i], escaped) < 0)
                        return -ENOMEM;
        return buf_append_char(b, ']');
}

int drv_print(const struct derivation *d, struct cl_buf *b)
{
        if (buf_append_str(b, "Derive([") < 0)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_outputs; i++) {
                const struct drv_output *o = &d->outputs[i];
                if ((i > 0 && buf_append_char(b, ',') < 0) || buf_append_char(b, '(') < 0 ||
                    print_str(b, o->name, false) < 0 || buf_append_char(b, ',') < 0 ||
                    print_str(b, o->path, false) < 0 || buf_append_char(b, ',') < 0 ||
                    print_str(b, o->hash_algo, false) < 0 || buf_append_char(b, ',') < 0 ||
                    print_str(b, o->hash, false) < 0 || buf_append_char(b, ')') < 0)
                        return -ENOMEM;
        }
        if (buf_append_str(b, "],[") < 0)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_inputs; i++) {
                const struct drv_input *in = &d->inputs[i];
                if ((i > 0 && buf_append_char(b, ',') < 0) || buf_append_char(b, '(') < 0 ||
                    print_str(b, in->path, false) < 0 || buf_append_char(b, ',') < 0 ||
                    print_strlist(b, in->outputs, in->n_outputs, false) < 0 ||
                    buf_append_char(b, ')') < 0)
                        return -ENOMEM;
        }
        if (buf_append_str(b, "],") < 0 || print_strlist(b, d->srcs, d->n_srcs, false) < 0 ||
            buf_append_char(b, ',') < 0 || print_str(b, d->platform, false) < 0 ||
            buf_append_char(b, ',') < 0 || print_str(b, d->builder, true) < 0 ||
            buf_append_char(b, ',') < 0 || print_strlist(b, d->args, d->n_args, true) < 0 ||
            buf_append_str(b, ",[") < 0)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_env; i++) {
                const struct drv_env *e = &d->env[i];
                if ((i > 0 && buf_append_char(b, ',') < 0) || buf_append_char(b, '(') < 0 ||
                    print_str(b, e->key, true) < 0 || buf_append_char(b, ',') < 0 ||
                    print_str(b, e->value, true) < 0 || buf_append_char(b, ')') < 0)
                        return -ENOMEM;
        }
        if (buf_append_str(b, "])") < 0)
                return -ENOMEM;
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}
static int cmp_output(const void *a, const void *b)
{
        return strcmp(((const struct drv_output *)a)->name, ((const struct drv_output *)b)->name);
}
static int cmp_input(const void *a, const void *b)
{
        return strcmp(((const struct drv_input *)a)->path, ((const struct drv_input *)b)->path);
}
static int cmp_env(const void *a, const void *b)
{
        return strcmp(((const struct drv_env *)a)->key, ((const struct drv_env *)b)->key);
}

/* Sort a string set and drop duplicates. */
static void strset_canonicalise(char **v, size_t *n)
{
        if (*n < 2)
                return;
        qsort(v, *n, sizeof(*v), cmp_str);
        size_t w = 1;
        for (size_t i = 1; i < *n; i++) {
                if (strcmp(v[w - 1], v[i]) == 0)
                        free(v[i]);
                else
                        v[w++] = v[i];
        }
        *n = w;
}

int drv_canonicalise(struct derivation *d, struct cl_error *err)
{
        if (d->n_outputs > 1)
                qsort(d->outputs, d->n_outputs, sizeof(*d->outputs), cmp_output);
        for (size_t i = 1; i < d->n_outputs; i++)
                if (strcmp(d->outputs[i - 1].name, d->outputs[i].name) == 0)
                        return cl_errx(err, EINVAL, "duplicate output '%s'", d->outputs[i].name);
        if (d->n_inputs > 1)
                qsort(d->inputs, d->n_inputs, sizeof(*d->inputs), cmp_input);
        for (size_t i = 0; i < d->n_inputs; i++)
                strset_canonicalise(d->inputs[i].outputs, &d->inputs[i].n_outputs);
        /* an input named twice: merge its output sets */
        size_t w = 0;
        for (size_t i = 0; i < d->n_inputs; i++) {
                if (w > 0 && strcmp(d->inputs[w - 1].path, d->inputs[i].path) == 0) {
                        struct drv_input *dst = &d->inputs[w - 1], *src = &d->inputs[i];
                        char **v = realloc(dst->outputs,
                                           (dst->n_outputs + src->n_outputs + 1) * sizeof(char *));
                        if (!v)
                                return cl_errx(err, ENOMEM, "out of memory");
                        memcpy(v + dst->n_outputs, src->outputs, src->n_outputs * sizeof(char *));
                        dst->outputs = v;
                        dst->n_outputs += src->n_outputs;
                        strset_canonicalise(dst->outputs, &dst->n_outputs);
                        free(src->outputs);
                        free(src->path);
                        continue;
                }
                d->inputs[w++] = d->inputs[i];
        }
        d->n_inputs = w;
        strset_canonicalise(d->srcs, &d->n_srcs);
        if (d->n_env > 1)
                qsort(d->env, d->n_env, sizeof(*d->env), cmp_env);
        for (size_t i = 1; i < d->n_env; i++)
                if (strcmp(d->env[i - 1].key, d->env[i].key) == 0)
                        return cl_errx(err, EINVAL, "duplicate environment variable '%s'",
                                       d->env[i].key);
        return 0;
}

const struct drv_output *drv_find_output(const struct derivation *d, const char *name)
{
        for (size_t i = 0; i < d->n_outputs; i++)
                if (strcmp(d->outputs[i].name, name) == 0)
                        return &d->outputs[i];
        return NULL;
}

struct drv_env *drv_find_env(const struct derivation *d, const char *key)
{
        for (size_t i = 0; i < d->n_env; i++)
                if (strcmp(d->env[i].key, key) == 0)
                        return &d->env[i];
        return NULL;
}

int drv_set_env(struct derivation *d, const char *key, const char *value)
{
        struct drv_env *e = drv_find_env(d, key);
        char *v = strdup(value);
        if (!v)
                return -ENOMEM;
        if (e) {
                free(e->value);
                e->value = v;
                return 0;
        }
        char *k = strdup(key);
        struct drv_env *n = k ? realloc(d->env, (d->n_env + 1) * sizeof(*d->env)) : NULL;
        if (!n) {
                free(k);
                free(v);
                return -ENOMEM;
        }
        d->env = n;
        size_t at = 0;
        while (at < d->n_env && strcmp(d->env[at].key, key) < 0)
                at++;
        memmove(&d->env[at + 1], &d->env[at], (d->n_env - at) * sizeof(*d->env));
        d->env[at] = (struct drv_env){k, v};
        d->n_env++;
        return 0;
}

static int strv_copy(char *const *src, size_t n, char ***ret)
{
        if (n == 0) {
                *ret = NULL;
                return 0;
        }
        char **v = calloc(n, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(v[i] = strdup(src[i]))) {
                        strv_free(v, i);
                        return -ENOMEM;
                }
        *ret = v;
        return 0;
}

int drv_copy(const struct derivation *s, struct derivation *ret)
{
        _cleanup_drv_ struct derivation d = {0};
        if (s->n_outputs && !(d.outputs = calloc(s->n_outputs, sizeof(*d.outputs))))
                return -ENOMEM;
        for (; d.n_outputs < s->n_outputs; d.n_outputs++) {
                const struct drv_output *o = &s->outputs[d.n_outputs];
                struct drv_output *n = &d.outputs[d.n_outputs];
                n->name = strdup(o->name);
                n->path = strdup(o->path);
                n->hash_algo = strdup(o->hash_algo);
                n->hash = strdup(o->hash);
                if (!n->name || !n->path || !n->hash_algo || !n->hash) {
                        d.n_outputs++;
                        return -ENOMEM;
                }
        }
        if (s->n_inputs && !(d.inputs = calloc(s->n_inputs, sizeof(*d.inputs))))
                return -ENOMEM;
        for (; d.n_inputs < s->n_inputs; d.n_inputs++) {
                const struct drv_input *in = &s->inputs[d.n_inputs];
                struct drv_input *n = &d.inputs[d.n_inputs];
                if (!(n->path = strdup(in->path))) {
                        d.n_inputs++;
                        return -ENOMEM;
                }
                if (strv_copy(in->outputs, in->n_outputs, &n->outputs) < 0) {
                        d.n_inputs++;
                        return -ENOMEM;
                }
                n->n_outputs = in->n_outputs;
        }
        if (strv_copy(s->srcs, s->n_srcs, &d.srcs) < 0)
                return -ENOMEM;
        d.n_srcs = s->n_srcs;
        if (strv_copy(s->args, s->n_args, &d.args) < 0)
                return -ENOMEM;
        d.n_args = s->n_args;
        if (!(d.platform = strdup(s->platform)) || !(d.builder = strdup(s->builder)))
                return -ENOMEM;
        if (s->n_env && !(d.env = calloc(s->n_env, sizeof(*d.env))))
                return -ENOMEM;
        for (; d.n_env < s->n_env; d.n_env++) {
                struct drv_env *n = &d.env[d.n_env];
                n->key = strdup(s->env[d.n_env].key);
                n->value = strdup(s->env[d.n_env].value);
                if (!n->key || !n->value) {
                        d.n_env++;
                        return -ENOMEM;
                }
        }
        *ret = d;
        d = (struct derivation){0};
        return 0;
}
