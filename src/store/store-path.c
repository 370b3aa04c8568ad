/* Store path syntax and the fingerprint scheme of Nix's makeStorePath and
 * friends (Nix 2.8 store-api.cc/path.cc): text, source, fixed-output and
 * input-addressed output paths. */
#include "store/store-path.h"

#include "base/base-buf.h"
#include "base/base-cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int store_dir_check(const char *store_dir, struct cl_error *err)
{
        size_t n = strlen(store_dir);
        if (n == 0 || store_dir[0] != '/')
                return cl_errx(err, EINVAL, "store directory '%s' is not an absolute path",
                               store_dir);
        if (n > 1 && store_dir[n - 1] == '/')
                return cl_errx(err, EINVAL, "store directory '%s' ends in '/'", store_dir);
        if (strstr(store_dir, "//"))
                return cl_errx(err, EINVAL, "store directory '%s' is not canonical", store_dir);
        return 0;
}

static bool name_char_ok(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '+' || c == '-' || c == '.' || c == '_' || c == '?' || c == '=';
}

int store_path_check_name(const char *name, size_t len, struct cl_error *err)
{
        if (len == 0)
                return cl_errx(err, EINVAL, "store path name is empty");
        if (len > STORE_NAME_MAX)
                return cl_errx(err, EINVAL, "store path name '%.*s' is longer than %d characters",
                               (int)len, name, STORE_NAME_MAX);
        for (size_t i = 0; i < len; i++)
                if (!name_char_ok(name[i])) {
                        unsigned char c = (unsigned char)name[i];
                        if (c >= 0x20 && c < 0x7f)
                                return cl_errx(err, EINVAL,
                                               "store path name '%.*s' contains illegal "
                                               "character '%c'",
                                               (int)len, name, c);
                        return cl_errx(err, EINVAL,
                                       "store path name contains illegal byte 0x%02x at %zu", c, i);
                }
        return 0;
}

int store_path_from_base(const char *base, size_t len, struct store_path *ret, struct cl_error *err)
{
        if (len < STORE_HASH_PART_LEN + 1)
                return cl_errx(err, EINVAL, "'%.*s' is too short to be a valid store path",
                               (int)len, base);
        for (size_t i = 0; i < STORE_HASH_PART_LEN; i++)
                if (!nix32_is_char(base[i]))
                        return cl_errx(err, EINVAL,
                                       "store path '%.*s' contains illegal base-32 character at "
                                       "%zu",
                                       (int)len, base, i);
        if (base[STORE_HASH_PART_LEN] != '-')
                return cl_errx(err, EINVAL, "store path '%.*s' has no '-' after its hash part",
                               (int)len, base);
        int r = store_path_check_name(base + STORE_HASH_PART_LEN + 1, len - STORE_HASH_PART_LEN - 1,
                                      err);
        if (r < 0)
                return r;
        memcpy(ret->base, base, len);
        ret->base[len] = '\0';
        return 0;
}

int store_path_parse(const char *store_dir, const char *path, struct store_path *ret,
                     struct cl_error *err)
{
        size_t dn = strlen(store_dir);
        const char *p = path;
        /* canonicalise the part after the store dir: collapse '/' runs */
        if (strncmp(p, store_dir, dn) != 0 || p[dn] != '/')
                return cl_errx(err, EINVAL, "path '%s' is not in the store '%s'", path, store_dir);
        p += dn;
        while (*p == '/')
                p++;
        size_t n = strcspn(p, "/");
        const char *q = p + n;
        while (*q == '/')
                q++;
        if (*q != '\0')
                return cl_errx(err, EINVAL, "path '%s' is inside a store object, not a store path",
                               path);
        if (n == 0)
                return cl_errx(err, EINVAL, "path '%s' is the store directory itself", path);
        int r = store_path_from_base(p, n, ret, err);
        if (r < 0)
                return cl_err_prefix(err, "path '%s'", path);
        return 0;
}

bool store_path_is_valid(const char *store_dir, const char *path)
{
        struct store_path sp;
        return store_path_parse(store_dir, path, &sp, NULL) >= 0;
}

int store_path_print(const char *store_dir, const struct store_path *p, char **ret)
{
        _cleanup_buf_ struct cl_buf b = CL_BUF_INIT;
        if (buf_append_str(&b, store_dir) < 0 || buf_append_char(&b, '/') < 0 ||
            buf_append_str(&b, p->base) < 0)
                return -ENOMEM;
        *ret = buf_steal(&b);
        return 0;
}

static int strcmp_ptr(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void store_sort_strings(const char **v, size_t n)
{
        /* strcmp compares as unsigned char, i.e. memcmp order for C strings */
        if (n > 1)
                qsort(v, n, sizeof(*v), strcmp_ptr);
}

int store_make_path(const char *store_dir, const char *type, const struct hash *inner,
                    const char *name, struct store_path *ret, struct cl_error *err)
{
        int r = store_path_check_name(name, strlen(name), err);
        if (r < 0)
                return r;
        char digits[HASH_STR_MAX];
        _cleanup_buf_ struct cl_buf fp = CL_BUF_INIT;
        if (buf_printf(&fp, "%s:%s:%s:%s", type, hash_print(inner, HASH_BASE16, true, digits),
                       store_dir, name) < 0)
                return cl_errx(err, ENOMEM, "out of memory");
        struct hash h;
        r = hash_buffer(HASH_SHA256, fp.data, fp.len, &h);
        if (r < 0)
                return cl_errx(err, -r, "sha256 of store path fingerprint failed");
        unsigned char folded[20];
        hash_fold(&h, folded, sizeof(folded));
        nix32_encode(folded, sizeof(folded), ret->base);
        ret->base[STORE_HASH_PART_LEN] = '-';
        strcpy(ret->base + STORE_HASH_PART_LEN + 1, name);
        return 0;
}

/* Nix's makeType: "<kind>" then ":<path>" per reference in sorted order, then
 * ":self" when the object refers to itself. */
static int store_make_type(struct cl_buf *b, const char *store_dir, const char *kind,
                           const char *const *refs, size_t n_refs, bool self, struct cl_error *err)
{
        _cleanup_free_ const char **sorted = NULL;
        if (n_refs > 0) {
                sorted = calloc(n_refs, sizeof(*sorted));
                if (!sorted)
                        return cl_errx(err, ENOMEM, "out of memory");
                memcpy(sorted, refs, n_refs * sizeof(*sorted));
                store_sort_strings(sorted, n_refs);
        }
        if (buf_append_str(b, kind) < 0)
                return cl_errx(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n_refs; i++) {
                struct store_path sp;
                int r = store_path_parse(store_dir, sorted[i], &sp, err);
                if (r < 0)
                        return cl_err_prefix(err, "reference");
                if (i > 0 && strcmp(sorted[i - 1], sorted[i]) == 0)
                        continue; /* a set: duplicates count once */
                if (buf_append_char(b, ':') < 0 || buf_append_str(b, sorted[i]) < 0)
                        return cl_errx(err, ENOMEM, "out of memory");
        }
        if (self && buf_append_str(b, ":self") < 0)
                return cl_errx(err, ENOMEM, "out of memory");
        return 0;
}

int store_make_text_path(const char *store_dir, const char *name, const struct hash *content_sha256,
                         const char *const *refs, size_t n_refs, struct store_path *ret,
                         struct cl_error *err)
{
        if (content_sha256->type != HASH_SHA256)
                return cl_errx(err, EINVAL, "text object '%s' must be hashed with sha256", name);
        _cleanup_buf_ struct cl_buf type = CL_BUF_INIT;
        int r = store_make_type(&type, store_dir, "text", refs, n_refs, false, err);
        if (r < 0)
                return r;
        return store_make_path(store_dir, type.data, content_sha256, name, ret, err);
}

int store_make_source_path(const char *store_dir, const char *name, const struct hash *nar_sha256,
                           const char *const *refs, size_t n_refs, bool self,
                           struct store_path *ret, struct cl_error *err)
{
        if (nar_sha256->type != HASH_SHA256)
                return cl_errx(err, EINVAL, "source object '%s' must be hashed with sha256", name);
        _cleanup_buf_ struct cl_buf type = CL_BUF_INIT;
        int r = store_make_type(&type, store_dir, "source", refs, n_refs, self, err);
        if (r < 0)
                return r;
        return store_make_path(store_dir, type.data, nar_sha256, name, ret, err);
}

int store_make_fixed_path(const char *store_dir, const char *name, enum store_ca_method method,
                          const struct hash *h, const char *const *refs, size_t n_refs, bool self,
                          struct store_path *ret, struct cl_error *err)
{
        if (method == STORE_CA_RECURSIVE && h->type == HASH_SHA256)
                return store_make_source_path(store_dir, name, h, refs, n_refs, self, ret, err);
        if (n_refs > 0 || self)
                return cl_errx(
                    err, EINVAL, "fixed-output object '%s' hashed with %s%s cannot have references",
                    name, method == STORE_CA_RECURSIVE ? "r:" : "", hash_type_name(h->type));
        if (!hash_type_name(h->type))
                return cl_errx(err, EINVAL, "fixed-output object '%s' has no hash type", name);
        char digits[HASH_STR_MAX];
        _cleanup_buf_ struct cl_buf inner = CL_BUF_INIT;
        if (buf_printf(&inner, "fixed:out:%s%s:", method == STORE_CA_RECURSIVE ? "r:" : "",
                       hash_print(h, HASH_BASE16, true, digits)) < 0)
                return cl_errx(err, ENOMEM, "out of memory");
        struct hash ih;
        int r = hash_buffer(HASH_SHA256, inner.data, inner.len, &ih);
        if (r < 0)
                return cl_errx(err, -r, "sha256 failed");
        return store_make_path(store_dir, "output:out", &ih, name, ret, err);
}

int store_output_path_name(const char *drv_name, const char *output, char buf[STORE_NAME_MAX + 1],
                           struct cl_error *err)
{
        size_t dn = strlen(drv_name), on = strlen(output);
        bool is_out = strcmp(output, "out") == 0;
        size_t n = is_out ? dn : dn + 1 + on;
        if (n > STORE_NAME_MAX)
                return cl_errx(err, EINVAL,
                               "output '%s' of derivation '%s': name is longer than %d characters",
                               output, drv_name, STORE_NAME_MAX);
        memcpy(buf, drv_name, dn);
        if (!is_out) {
                buf[dn] = '-';
                memcpy(buf + dn + 1, output, on);
        }
        buf[n] = '\0';
        return store_path_check_name(buf, n, err);
}

int store_make_output_path(const char *store_dir, const char *drv_name, const char *output,
                           const struct hash *hash_modulo, struct store_path *ret,
                           struct cl_error *err)
{
        char name[STORE_NAME_MAX + 1];
        int r = store_output_path_name(drv_name, output, name, err);
        if (r < 0)
                return r;
        _cleanup_buf_ struct cl_buf type = CL_BUF_INIT;
        if (buf_printf(&type, "output:%s", output) < 0)
                return cl_errx(err, ENOMEM, "out of memory");
        return store_make_path(store_dir, type.data, hash_modulo, name, ret, err);
}
