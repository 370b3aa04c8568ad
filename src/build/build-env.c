/* The builder's environment, argv and build-directory files, as Nix 2.8's
 * LocalDerivationGoal::initEnv and writeStructuredAttrs make them (checked
 * against nix-build 2.8 on this machine; see unit-build-env). The one known
 * difference: Nix 2.8 sets NIX_ATTRS_*_FILE to the host path of the build
 * directory, cloister to the path the builder sees. */
#include "build/build-env.h"

#include "base/base-buf.h"
#include "base/base-cleanup.h"
#include "store/store-hash.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void build_strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

static int strv_push(char ***v, size_t *n, char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv) {
                free(s);
                return -ENOMEM;
        }
        nv[(*n)++] = s;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

void build_placeholder(const char *output, char buf[BUILD_PLACEHOLDER_LEN + 1])
{
        _cleanup_free_ char *s = NULL;
        struct hash h;
        buf[0] = '/';
        if (asprintf(&s, "nix-output:%s", output) < 0 ||
            hash_buffer(HASH_SHA256, s, strlen(s), &h) < 0) {
                buf[1] = '\0';
                return;
        }
        nix32_encode(h.bytes, h.len, buf + 1);
}

void build_attr_file_name(const char *key, char buf[BUILD_ATTR_FILE_LEN + 1])
{
        struct hash h;
        memcpy(buf, ".attr-", 6);
        if (hash_buffer(HASH_SHA256, key, strlen(key), &h) < 0) {
                buf[6] = '\0';
                return;
        }
        nix32_encode(h.bytes, h.len, buf + 6);
}

/* The environment under construction: a map sorted by key, as Nix's StringMap. */
struct env_map {
        char **keys;
        char **values;
        size_t n;
};

static void env_map_free(struct env_map *m)
{
        for (size_t i = 0; i < m->n; i++) {
                free(m->keys[i]);
                free(m->values[i]);
        }
        free(m->keys);
        free(m->values);
        memset(m, 0, sizeof(*m));
}

static int env_map_set(struct env_map *m, const char *key, const char *value)
{
        size_t lo = 0, hi = m->n;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(m->keys[mid], key);
                if (c == 0) {
                        char *v = strdup(value);
                        if (!v)
                                return -ENOMEM;
                        free(m->values[mid]);
                        m->values[mid] = v;
                        return 0;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        char **nk = realloc(m->keys, (m->n + 1) * sizeof(char *));
        if (!nk)
                return -ENOMEM;
        m->keys = nk;
        char **nv = realloc(m->values, (m->n + 1) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        m->values = nv;
        char *k = strdup(key), *v = strdup(value);
        if (!k || !v) {
                free(k);
                free(v);
                return -ENOMEM;
        }
        memmove(m->keys + lo + 1, m->keys + lo, (m->n - lo) * sizeof(char *));
        memmove(m->values + lo + 1, m->values + lo, (m->n - lo) * sizeof(char *));
        m->keys[lo] = k;
        m->values[lo] = v;
        m->n++;
        return 0;
}

/* The output placeholders and what they become. */
struct rewrites {
        char (*from)[BUILD_PLACEHOLDER_LEN + 1];
        const char **to;
        size_t n;
};

static void rewrites_free(struct rewrites *r)
{
        free(r->from);
        free(r->to);
}

static int rewrites_make(const struct derivation *d, struct rewrites *r)
{
        r->n = 0;
        r->from = calloc(d->n_outputs + 1, sizeof(*r->from));
        r->to = calloc(d->n_outputs + 1, sizeof(*r->to));
        if (!r->from || !r->to)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_outputs; i++) {
                build_placeholder(d->outputs[i].name, r->from[r->n]);
                r->to[r->n++] = d->outputs[i].path;
        }
        return 0;
}

/* Nix's rewriteStrings: each rewrite in turn replaces every occurrence. */
static int rewrite(const struct rewrites *r, const char *s, size_t len, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *cur = malloc(len + 1);
        if (!cur)
                return -ENOMEM;
        memcpy(cur, s, len);
        cur[len] = '\0';
        size_t cur_len = len;
        for (size_t i = 0; i < r->n; i++) {
                const char *from = r->from[i];
                size_t from_len = strlen(from);
                if (!memmem(cur, cur_len, from, from_len))
                        continue;
                _cleanup_buf_ struct cl_buf b = CL_BUF_INIT;
                size_t pos = 0;
                for (;;) {
                        const char *hit = memmem(cur + pos, cur_len - pos, from, from_len);
                        size_t upto = hit ? (size_t)(hit - cur) : cur_len;
                        int rr = buf_append(&b, cur + pos, upto - pos);
                        if (rr < 0)
                                return rr;
                        if (!hit)
                                break;
                        rr = buf_append_str(&b, r->to[i]);
                        if (rr < 0)
                                return rr;
                        pos = upto + from_len;
                }
                if (!b.data && buf_reserve(&b, 0) < 0)
                        return -ENOMEM;
                cur_len = b.len;
                free(cur);
                cur = buf_steal(&b);
        }
        if (ret_len)
                *ret_len = cur_len;
        *ret = TAKE_PTR(cur);
        return 0;
}

static const char *drv_env_value(const struct derivation *d, const char *key)
{
        struct drv_env *e = drv_find_env(d, key);
        return e ? e->value : NULL;
}

static int split_words(const char *s, char ***ret)
{
        char **v = calloc(1, sizeof(char *));
        size_t n = 0;
        if (!v)
                return -ENOMEM;
        while (*s) {
                size_t skip = strspn(s, " \t\n\r");
                s += skip;
                size_t len = strcspn(s, " \t\n\r");
                if (len == 0)
                        break;
                char *w = strndup(s, len);
                if (!w || strv_push(&v, &n, w) < 0) {
                        build_strv_free(v);
                        return -ENOMEM;
                }
                s += len;
        }
        *ret = v;
        return 0;
}

static int parse_json_attrs(const struct derivation *d, json_t **ret, struct cl_error *err)
{
        const char *text = drv_env_value(d, "__json");
        *ret = NULL;
        if (!text)
                return 0;
        json_error_t jerr;
        json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!j)
                return cl_errx(err, EINVAL, "structured attributes '__json': %s (offset %d)",
                               jerr.text, jerr.position);
        if (!json_is_object(j)) {
                json_decref(j);
                return cl_errx(err, EINVAL, "structured attributes '__json' are not a JSON object");
        }
        *ret = j;
        return 0;
}

int build_drv_strings_attr(const struct derivation *d, const char *name, char ***ret,
                           bool *ret_present, struct cl_error *err)
{
        json_t *attrs = NULL;
        int r = parse_json_attrs(d, &attrs, err);
        if (r < 0)
                return r;
        *ret = NULL;
        *ret_present = false;
        if (attrs) {
                json_t *v = json_object_get(attrs, name);
                if (!v) {
                        json_decref(attrs);
                        return 0;
                }
                if (!json_is_array(v)) {
                        json_decref(attrs);
                        return cl_errx(err, EINVAL,
                                       "attribute '%s' of the derivation must be a list of strings",
                                       name);
                }
                char **list = calloc(1, sizeof(char *));
                size_t n = 0;
                if (!list) {
                        json_decref(attrs);
                        return -ENOMEM;
                }
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e)
                {
                        if (!json_is_string(e)) {
                                build_strv_free(list);
                                json_decref(attrs);
                                return cl_errx(err, EINVAL,
                                               "attribute '%s' of the derivation must be a list "
                                               "of strings",
                                               name);
                        }
                        char *s = strdup(json_string_value(e));
                        if (!s || strv_push(&list, &n, s) < 0) {
                                build_strv_free(list);
                                json_decref(attrs);
                                return -ENOMEM;
                        }
                }
                json_decref(attrs);
                *ret = list;
                *ret_present = true;
                return 0;
        }
        const char *value = drv_env_value(d, name);
        if (!value)
                return 0;
        r = split_words(value, ret);
        if (r < 0)
                return r;
        *ret_present = true;
        return 0;
}

/* Nix's shellEscape: single quotes, each ' written as '\''. */
static int shell_escape(struct cl_buf *b, const char *s, size_t len)
{
        int r = buf_append_char(b, '\'');
        for (size_t i = 0; r >= 0 && i < len; i++)
                r = s[i] == '\'' ? buf_append_str(b, "'\\''") : buf_append_char(b, s[i]);
        return r < 0 ? r : buf_append_char(b, '\'');
}

/* Nix 2.8's handleSimpleType: 1 when v was written, 0 when v is not simple.
 * Numbers go through a float and then an int, as Nix does (get<float>, then
 * get<int>), so 1.5 is not simple and 2.0 is written 2. */
static int write_simple(struct cl_buf *b, json_t *v)
{
        if (json_is_string(v))
                return shell_escape(b, json_string_value(v), json_string_length(v)) < 0 ? -ENOMEM
                                                                                        : 1;
        if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);
                return buf_printf(b, "%d", (int)(uint32_t)(uint64_t)i) < 0 ? -ENOMEM : 1;
        }
        if (json_is_real(v)) {
                double dv = json_real_value(v);
                float f = (float)dv;
                if (ceilf(f) != f)
                        return 0;
                int iv = dv >= (double)INT32_MIN && dv <= (double)INT32_MAX
                             ? (int)dv
                             : (int)(uint32_t)(uint64_t)(int64_t)dv;
                return buf_printf(b, "%d", iv) < 0 ? -ENOMEM : 1;
        }
        if (json_is_null(v))
                return buf_append_str(b, "''") < 0 ? -ENOMEM : 1;
        if (json_is_boolean(v))
                return buf_append_str(b, json_is_true(v) ? "1" : "") < 0 ? -ENOMEM : 1;
        return 0;
}

static bool is_shell_name(const char *k)
{
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || *k == '_'))
                return false;
        for (k++; *k; k++)
                if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || *k == '_' ||
                      (*k >= '0' && *k <= '9')))
                        return false;
        return true;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys of a JSON object in nlohmann's order (bytewise). */
static int sorted_keys(json_t *obj, const char ***ret, size_t *ret_n)
{
        size_t n = json_object_size(obj), i = 0;
        const char **keys = calloc(n + 1, sizeof(char *));
        if (!keys)
                return -ENOMEM;
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v) keys[i++] = k;
        qsort(keys, i, sizeof(char *), cmp_str);
        *ret = keys;
        *ret_n = i;
        return 0;
}

/* Nix 2.8's writeStructuredAttrsShell. */
static int attrs_sh(json_t *attrs, struct cl_buf *out)
{
        _cleanup_free_ const char **keys = NULL;
        size_t n;
        int r = sorted_keys(attrs, &keys, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (!is_shell_name(keys[i]))
                        continue;
                json_t *v = json_object_get(attrs, keys[i]);
                _cleanup_buf_ struct cl_buf line = CL_BUF_INIT;
                int simple;
                if (json_is_array(v)) {
                        if (buf_printf(&line, "declare -a %s=(", keys[i]) < 0)
                                return -ENOMEM;
                        simple = 1;
                        size_t j;
                        json_t *e;
                        json_array_foreach(v, j, e)
                        {
                                simple = write_simple(&line, e);
                                if (simple <= 0)
                                        break;
                                if (buf_append_char(&line, ' ') < 0)
                                        return -ENOMEM;
                        }
                } else if (json_is_object(v)) {
                        if (buf_printf(&line, "declare -A %s=(", keys[i]) < 0)
                                return -ENOMEM;
                        _cleanup_free_ const char **sub = NULL;
                        size_t m;
                        r = sorted_keys(v, &sub, &m);
                        if (r < 0)
                                return r;
                        simple = 1;
                        for (size_t j = 0; j < m; j++) {
                                if (buf_append_char(&line, '[') < 0 ||
                                    shell_escape(&line, sub[j], strlen(sub[j])) < 0 ||
                                    buf_append_str(&line, "]=") < 0)
                                        return -ENOMEM;
                                simple = write_simple(&line, json_object_get(v, sub[j]));
                                if (simple <= 0)
                                        break;
                                if (buf_append_char(&line, ' ') < 0)
                                        return -ENOMEM;
                        }
                } else {
                        if (buf_printf(&line, "declare %s=", keys[i]) < 0)
                                return -ENOMEM;
                        simple = write_simple(&line, v);
                        if (simple > 0 && buf_append_char(&line, '\n') < 0)
                                return -ENOMEM;
                        if (simple > 0 && buf_append(out, line.data, line.len) < 0)
                                return -ENOMEM;
                        if (simple < 0)
                                return simple;
                        continue;
                }
                if (simple < 0)
                        return simple;
                if (simple == 0)
                        continue;
                if (buf_append_str(&line, ")\n") < 0 || buf_append(out, line.data, line.len) < 0)
                        return -ENOMEM;
        }
        if (!out->data && buf_reserve(out, 0) < 0)
                return -ENOMEM;
        return 0;
}

/* Skip one JSON value starting at s[*pos] (already validated by jansson). */
static void json_skip_value(const char *s, size_t len, size_t *pos)
{
        size_t p = *pos;
        int depth = 0;
        do {
                char c = s[p];
                if (c == '"') {
                        for (p++; p < len && s[p] != '"'; p++)
                                if (s[p] == '\\')
                                        p++;
                        p++;
                } else if (c == '{' || c == '[') {
                        depth++;
                        p++;
                } else if (c == '}' || c == ']') {
                        depth--;
                        p++;
                } else if (depth > 0 && (c == ',' || c == ':' || c == ' ' || c == '\t' ||
                                         c == '\n' || c == '\r')) {
                        p++;
                } else {
                        while (p < len && !strchr(",}] \t\r\n", s[p]))
                                p++;
                }
        } while (depth > 0 && p < len);
        *pos = p;
}

static void json_skip_ws(const char *s, size_t len, size_t *pos)
{
        while (*pos < len && strchr(" \t\r\n", s[*pos]) && s[*pos])
                (*pos)++;
}

/* The text of .attrs.json: __json's text (which Nix's evaluator printed with
 * nlohmann-json, keys sorted, so that Nix's parse and dump give it back
 * unchanged) with "outputs" put in its sorted place, replacing any earlier
 * "outputs". Splicing the text keeps every number exactly as Nix prints it. */
static int attrs_json(const char *text, const char *outputs_json, struct cl_buf *out,
                      struct cl_error *err)
{
        size_t len = strlen(text), pos = 0;
        json_skip_ws(text, len, &pos);
        if (pos >= len || text[pos] != '{')
                return cl_errx(err, EINVAL, "structured attributes '__json' are not a JSON object");
        pos++;
        bool inserted = false, first = true;
        if (buf_append_char(out, '{') < 0)
                return -ENOMEM;
        for (;;) {
                json_skip_ws(text, len, &pos);
                if (pos >= len || text[pos] == '}')
                        break;
                if (text[pos] == ',') {
                        pos++;
                        continue;
                }
                size_t key_start = pos;
                json_skip_value(text, len, &pos);
                size_t key_end = pos;
                json_skip_ws(text, len, &pos);
                pos++; /* ':' */
                json_skip_ws(text, len, &pos);
                size_t value_start = pos;
                json_skip_value(text, len, &pos);
                size_t value_end = pos;

                json_t *k =
                    json_loadb(text + key_start, key_end - key_start, JSON_DECODE_ANY, NULL);
                if (!json_is_string(k)) {
                        json_decref(k);
                        return cl_errx(err, EINVAL, "structured attributes '__json': bad key");
                }
                int c = strcmp(json_string_value(k), "outputs");
                json_decref(k);
                if (c >= 0 && !inserted) {
                        if ((!first && buf_append_char(out, ',') < 0) ||
                            buf_append_str(out, "\"outputs\":") < 0 ||
                            buf_append_str(out, outputs_json) < 0)
                                return -ENOMEM;
                        inserted = true;
                        first = false;
                }
                if (c == 0)
                        continue;
                if ((!first && buf_append_char(out, ',') < 0) ||
                    buf_append(out, text + key_start, key_end - key_start) < 0 ||
                    buf_append_char(out, ':') < 0 ||
                    buf_append(out, text + value_start, value_end - value_start) < 0)
                        return -ENOMEM;
                first = false;
        }
        if (!inserted &&
            ((!first && buf_append_char(out, ',') < 0) || buf_append_str(out, "\"outputs\":") < 0 ||
             buf_append_str(out, outputs_json) < 0))
                return -ENOMEM;
        return buf_append_char(out, '}');
}

static int add_file(struct build_env *e, const char *name, const char *data, size_t len)
{
        struct build_env_file *nf = realloc(e->files, (e->n_files + 1) * sizeof(*nf));
        if (!nf)
                return -ENOMEM;
        e->files = nf;
        struct build_env_file *f = &e->files[e->n_files];
        f->name = strdup(name);
        f->data = malloc(len + 1);
        if (!f->name || !f->data) {
                free(f->name);
                free(f->data);
                return -ENOMEM;
        }
        memcpy(f->data, data, len);
        f->data[len] = '\0';
        f->len = len;
        e->n_files++;
        return 0;
}

static int structured(const struct build_env_params *p, const struct rewrites *rw,
                      struct env_map *env, struct build_env *e, struct cl_error *err)
{
        const struct derivation *d = p->drv;
        _cleanup_buf_ struct cl_buf outputs = CL_BUF_INIT;
        if (buf_append_char(&outputs, '{') < 0)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_outputs; i++) {
                json_t *name = json_string(d->outputs[i].name);
                json_t *path = json_string(d->outputs[i].path);
                char *ns = name ? json_dumps(name, JSON_ENCODE_ANY) : NULL;
                char *ps = path ? json_dumps(path, JSON_ENCODE_ANY) : NULL;
                json_decref(name);
                json_decref(path);
                int r = ns && ps ? buf_printf(&outputs, "%s%s:%s", i ? "," : "", ns, ps) : -ENOMEM;
                free(ns);
                free(ps);
                if (r < 0)
                        return -ENOMEM;
        }
        if (buf_append_char(&outputs, '}') < 0)
                return -ENOMEM;

        _cleanup_buf_ struct cl_buf text = CL_BUF_INIT;
        int r = attrs_json(drv_env_value(d, "__json"), outputs.data, &text, err);
        if (r < 0)
                return r;
        json_error_t jerr;
        json_t *attrs = json_loadb(text.data, text.len, JSON_ALLOW_NUL, &jerr);
        if (!attrs)
                return cl_errx(err, EINVAL, "structured attributes '__json': %s", jerr.text);
        _cleanup_buf_ struct cl_buf sh = CL_BUF_INIT;
        r = attrs_sh(attrs, &sh);
        json_decref(attrs);
        if (r < 0)
                return r;

        _cleanup_free_ char *sh_rw = NULL, *json_rw = NULL;
        size_t sh_len, json_len;
        r = rewrite(rw, sh.data, sh.len, &sh_rw, &sh_len);
        if (r < 0)
                return r;
        r = rewrite(rw, text.data, text.len, &json_rw, &json_len);
        if (r < 0)
                return r;
        r = add_file(e, ".attrs.sh", sh_rw, sh_len);
        if (r < 0)
                return r;
        r = add_file(e, ".attrs.json", json_rw, json_len);
        if (r < 0)
                return r;
        _cleanup_free_ char *sh_path = NULL, *json_path = NULL;
        if (asprintf(&sh_path, "%s/.attrs.sh", p->build_dir) < 0 ||
            asprintf(&json_path, "%s/.attrs.json", p->build_dir) < 0)
                return -ENOMEM;
        r = env_map_set(env, "NIX_ATTRS_SH_FILE", sh_path);
        if (r < 0)
                return r;
        return env_map_set(env, "NIX_ATTRS_JSON_FILE", json_path);
}

static int plain(const struct build_env_params *p, const struct rewrites *rw, struct env_map *env,
                 struct build_env *e)
{
        const struct derivation *d = p->drv;
        char **pass = NULL;
        const char *pass_value = drv_env_value(d, "passAsFile");
        int r = split_words(pass_value ? pass_value : "", &pass);
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->n_env; i++) {
                const char *k = d->env[i].key, *v = d->env[i].value;
                bool as_file = false;
                for (char **w = pass; *w; w++)
                        if (strcmp(*w, k) == 0)
                                as_file = true;
                if (!as_file) {
                        r = env_map_set(env, k, v);
                        if (r < 0)
                                break;
                        continue;
                }
                char name[BUILD_ATTR_FILE_LEN + 1];
                build_attr_file_name(k, name);
                _cleanup_free_ char *data = NULL, *var = NULL, *path = NULL;
                size_t len;
                r = rewrite(rw, v, strlen(v), &data, &len);
                if (r < 0)
                        break;
                r = add_file(e, name, data, len);
                if (r < 0)
                        break;
                if (asprintf(&var, "%sPath", k) < 0 ||
                    asprintf(&path, "%s/%s", p->build_dir, name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = env_map_set(env, var, path);
                if (r < 0)
                        break;
        }
        build_strv_free(pass);
        return r;
}

static const char *default_lookup(void *userdata, const char *name)
{
        (void)userdata;
        return getenv(name);
}

int build_env_make(const struct build_env_params *p, struct build_env *ret, struct cl_error *err)
{
        const struct derivation *d = p->drv;
        _cleanup_(build_env_freep) struct build_env e = {0};
        struct env_map env = {0};
        struct rewrites rw = {0};
        char cores[16];
        int r = rewrites_make(d, &rw);
        if (r < 0)
                goto out;
        e.structured = drv_find_env(d, "__json") != NULL;

        snprintf(cores, sizeof(cores), "%u", p->cores);
        if ((r = env_map_set(&env, "PATH", "/path-not-set")) < 0 ||
            (r = env_map_set(&env, "HOME", "/homeless-shelter")) < 0 ||
            (r = env_map_set(&env, "NIX_STORE", p->store_dir)) < 0 ||
            (r = env_map_set(&env, "NIX_BUILD_CORES", cores)) < 0)
                goto out;
        r = e.structured ? structured(p, &rw, &env, &e, err) : plain(p, &rw, &env, &e);
        if (r < 0)
                goto out;
        static const char *const top[] = {"NIX_BUILD_TOP", "TMPDIR", "TEMPDIR",
                                          "TMP",           "TEMP",   "PWD"};
        for (size_t i = 0; i < ELEMENTSOF(top); i++)
                if ((r = env_map_set(&env, top[i], p->build_dir)) < 0)
                        goto out;
        if (p->fixed_output) {
                if ((r = env_map_set(&env, "NIX_OUTPUT_CHECKED", "1")) < 0)
                        goto out;
                char **impure = NULL;
                bool present;
                r = build_drv_strings_attr(d, "impureEnvVars", &impure, &present, err);
                if (r < 0)
                        goto out;
                for (char **v = impure; v && *v; v++) {
                        const char *val = p->lookup ? p->lookup(p->lookup_userdata, *v)
                                                    : default_lookup(NULL, *v);
                        if ((r = env_map_set(&env, *v, val ? val : "")) < 0)
                                break;
                }
                build_strv_free(impure);
                if (r < 0)
                        goto out;
        }
        if ((r = env_map_set(&env, "NIX_LOG_FD", "2")) < 0 ||
            (r = env_map_set(&env, "TERM", "xterm-256color")) < 0)
                goto out;

        /* Nix rewrites each "K=V" string as a whole. */
        e.env = calloc(env.n + 1, sizeof(char *));
        if (!e.env) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < env.n; i++) {
                _cleanup_free_ char *kv = NULL;
                if (asprintf(&kv, "%s=%s", env.keys[i], env.values[i]) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
                r = rewrite(&rw, kv, strlen(kv), &e.env[e.n_env], NULL);
                if (r < 0)
                        goto out;
                e.n_env++;
        }

        e.program = strdup(d->builder);
        const char *slash = strrchr(d->builder, '/');
        char *arg0 = strdup(slash ? slash + 1 : d->builder);
        if (!e.program || !arg0) {
                free(arg0);
                r = -ENOMEM;
                goto out;
        }
        if ((r = strv_push(&e.argv, &e.n_argv, arg0)) < 0)
                goto out;
        for (size_t i = 0; i < d->n_args; i++) {
                char *a = NULL;
                r = rewrite(&rw, d->args[i], strlen(d->args[i]), &a, NULL);
                if (r < 0 || (r = strv_push(&e.argv, &e.n_argv, a)) < 0)
                        goto out;
        }
        *ret = e;
        memset(&e, 0, sizeof(e));
        r = 0;
out:
        env_map_free(&env);
        rewrites_free(&rw);
        if (r == -ENOMEM)
                cl_err(err, ENOMEM, "builder environment");
        return r;
}

void build_env_free(struct build_env *e)
{
        build_strv_free(e->env);
        build_strv_free(e->argv);
        free(e->program);
        for (size_t i = 0; i < e->n_files; i++) {
                free(e->files[i].name);
                free(e->files[i].data);
        }
        free(e->files);
        memset(e, 0, sizeof(*e));
}

const char *build_env_get(const struct build_env *e, const char *key)
{
        size_t klen = strlen(key);
        for (size_t i = 0; i < e->n_env; i++)
                if (strncmp(e->env[i], key, klen) == 0 && e->env[i][klen] == '=')
                        return e->env[i] + klen + 1;
        return NULL;
}
