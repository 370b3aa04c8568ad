/* Digests through OpenSSL's EVP interface and the printed forms Nix uses for
 * them. Parsing follows Nix 2.8's Hash::parseAny: the encoding of the digits is
 * told from their length alone, and SRI means base64. */
#include "store/store-hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

static const char nix32_chars[] = "0123456789abcdfghijklmnpqrsvwxyz";
static const char hex_chars[] = "0123456789abcdef";

const char *hash_type_name(enum hash_type type)
{
        switch (type) {
        case HASH_MD5:
                return "md5";
        case HASH_SHA1:
                return "sha1";
        case HASH_SHA256:
                return "sha256";
        case HASH_SHA512:
                return "sha512";
        default:
                return NULL;
        }
}

size_t hash_type_size(enum hash_type type)
{
        switch (type) {
        case HASH_MD5:
                return 16;
        case HASH_SHA1:
                return 20;
        case HASH_SHA256:
                return 32;
        case HASH_SHA512:
                return 64;
        default:
                return 0;
        }
}

int hash_type_from_name(const char *name, size_t len, enum hash_type *ret)
{
        for (enum hash_type t = HASH_MD5; t <= HASH_SHA512; t++) {
                const char *n = hash_type_name(t);
                if (strlen(n) == len && memcmp(n, name, len) == 0) {
                        *ret = t;
                        return 0;
                }
        }
        return -EINVAL;
}

size_t nix32_encoded_len(size_t len)
{
        return len == 0 ? 0 : (len * 8 - 1) / 5 + 1;
}

size_t hash_encoded_len(enum hash_type type, enum hash_encoding enc)
{
        size_t n = hash_type_size(type);
        switch (enc) {
        case HASH_BASE16:
                return 2 * n;
        case HASH_NIX32:
                return nix32_encoded_len(n);
        case HASH_BASE64:
        case HASH_SRI:
                return (n + 2) / 3 * 4;
        }
        return 0;
}

static const EVP_MD *hash_md(enum hash_type type)
{
        switch (type) {
        case HASH_MD5:
                return EVP_md5();
        case HASH_SHA1:
                return EVP_sha1();
        case HASH_SHA256:
                return EVP_sha256();
        case HASH_SHA512:
                return EVP_sha512();
        default:
                return NULL;
        }
}

int hash_init(struct hash_ctx *ctx, enum hash_type type)
{
        const EVP_MD *md = hash_md(type);
        if (!md)
                return -EINVAL;
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        if (!c)
                return -ENOMEM;
        if (EVP_DigestInit_ex(c, md, NULL) != 1) {
                EVP_MD_CTX_free(c);
                return -EIO;
        }
        ctx->md = c;
        ctx->type = type;
        return 0;
}

int hash_update(struct hash_ctx *ctx, const void *data, size_t len)
{
        if (!ctx->md)
                return -EINVAL;
        if (len > 0 && EVP_DigestUpdate(ctx->md, data, len) != 1)
                return -EIO;
        return 0;
}

int hash_final(struct hash_ctx *ctx, struct hash *ret)
{
        if (!ctx->md)
                return -EINVAL;
        struct hash h = {.type = ctx->type, .len = hash_type_size(ctx->type)};
        unsigned int n = 0;
        int ok = EVP_DigestFinal_ex(ctx->md, h.bytes, &n);
        hash_ctx_free(ctx);
        if (ok != 1 || n != h.len)
                return -EIO;
        *ret = h;
        return 0;
}

void hash_ctx_free(struct hash_ctx *ctx)
{
        if (ctx->md)
                EVP_MD_CTX_free(ctx->md);
        ctx->md = NULL;
}

int hash_buffer(enum hash_type type, const void *data, size_t len, struct hash *ret)
{
        _cleanup_hash_ctx_ struct hash_ctx ctx = HASH_CTX_INIT;
        int r = hash_init(&ctx, type);
        if (r < 0)
                return r;
        r = hash_update(&ctx, data, len);
        if (r < 0)
                return r;
        return hash_final(&ctx, ret);
}

bool nix32_is_char(char c)
{
        return c != '\0' && strchr(nix32_chars, c) != NULL;
}

static int nix32_digit(char c)
{
        const char *p = c ? strchr(nix32_chars, c) : NULL;
        return p ? (int)(p - nix32_chars) : -1;
}

/* Nix's base-32 reads the digest as a little-endian number and writes it most
 * significant digit first, so the first character comes from the last byte. */
void nix32_encode(const unsigned char *in, size_t len, char *out)
{
        size_t n = nix32_encoded_len(len);
        for (size_t k = 0; k < n; k++) {
                size_t m = n - 1 - k;
                size_t bit = 5 * m, i = bit / 8, j = bit % 8;
                unsigned v = in[i] >> j;
                if (i + 1 < len)
                        v |= (unsigned)in[i + 1] << (8 - j);
                out[k] = nix32_chars[v & 0x1f];
        }
        out[n] = '\0';
}

int nix32_decode(const char *in, size_t len, unsigned char *out, size_t out_len)
{
        memset(out, 0, out_len);
        for (size_t n = 0; n < len; n++) {
                int d = nix32_digit(in[len - n - 1]);
                if (d < 0)
                        return -EINVAL;
                size_t bit = n * 5, i = bit / 8, j = bit % 8;
                if (i >= out_len)
                        return -EINVAL;
                out[i] |= (unsigned char)(d << j);
                unsigned spill = (unsigned)d >> (8 - j);
                if (i + 1 < out_len)
                        out[i + 1] |= (unsigned char)spill;
                else if (spill)
                        return -EINVAL;
        }
        return 0;
}

char *hash_print(const struct hash *h, enum hash_encoding enc, bool with_type,
                 char buf[HASH_STR_MAX])
{
        const char *name = hash_type_name(h->type);
        size_t p = 0;
        buf[0] = '\0';
        if (!name)
                return buf;
        if (enc == HASH_SRI || with_type) {
                p = strlen(name);
                memcpy(buf, name, p);
                buf[p++] = enc == HASH_SRI ? '-' : ':';
        }
        switch (enc) {
        case HASH_BASE16:
                for (size_t i = 0; i < h->len; i++) {
                        buf[p++] = hex_chars[h->bytes[i] >> 4];
                        buf[p++] = hex_chars[h->bytes[i] & 0xf];
                }
                buf[p] = '\0';
                break;
        case HASH_NIX32:
                nix32_encode(h->bytes, h->len, buf + p);
                break;
        case HASH_BASE64:
        case HASH_SRI:
                EVP_EncodeBlock((unsigned char *)buf + p, h->bytes, (int)h->len);
                break;
        }
        return buf;
}

static int hex_val(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Standard base64 into out (at most cap bytes); Nix's decoder stops at the
 * first '=', so unpadded SRI strings are accepted as Nix accepts them. */
static int base64_decode(const char *s, size_t len, unsigned char *out, size_t cap, size_t *ret_len)
{
        unsigned char tmp[HASH_MAX_SIZE + 4];
        char in[HASH_STR_MAX];
        size_t n = len;
        while (n > 0 && s[n - 1] == '=')
                n--;
        if (n + 3 >= sizeof(in) || len - n > 2)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '=')
                        return -EINVAL;
        memcpy(in, s, n);
        size_t pad = (4 - n % 4) % 4;
        if (pad == 3)
                return -EINVAL;
        memset(in + n, '=', pad);
        int r = EVP_DecodeBlock(tmp, (unsigned char *)in, (int)(n + pad));
        if (r < 0)
                return -EINVAL;
        size_t out_n = (size_t)r - pad;
        if (out_n > cap)
                return -EINVAL;
        memcpy(out, tmp, out_n);
        *ret_len = out_n;
        return 0;
}

static int hash_parse_rest(const char *whole, size_t whole_len, const char *s, size_t len,
                           enum hash_type type, bool sri, struct hash *ret, struct cl_error *err)
{
        struct hash h = {.type = type, .len = hash_type_size(type)};
        if (!sri && len == hash_encoded_len(type, HASH_BASE16)) {
                for (size_t i = 0; i < h.len; i++) {
                        int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);
                        if (hi < 0 || lo < 0)
                                return cl_errx(err, EINVAL, "invalid base-16 hash '%.*s'",
                                               (int)whole_len, whole);
                        h.bytes[i] = (unsigned char)(hi << 4 | lo);
                }
        } else if (!sri && len == hash_encoded_len(type, HASH_NIX32)) {
                if (nix32_decode(s, len, h.bytes, h.len) < 0)
                        return cl_errx(err, EINVAL, "invalid base-32 hash '%.*s'", (int)whole_len,
                                       whole);
        } else if (sri || len == hash_encoded_len(type, HASH_BASE64)) {
                size_t n = 0;
                if (base64_decode(s, len, h.bytes, sizeof(h.bytes), &n) < 0 || n != h.len)
                        return cl_errx(err, EINVAL, "invalid %s hash '%.*s'",
                                       sri ? "SRI" : "base-64", (int)whole_len, whole);
        } else {
                return cl_errx(err, EINVAL, "hash '%.*s' has wrong length for hash type '%s'",
                               (int)len, s, hash_type_name(type));
        }
        *ret = h;
        return 0;
}

int hash_parse_digits(const char *s, size_t len, enum hash_type type, struct hash *ret,
                      struct cl_error *err)
{
        if (!hash_type_name(type))
                return cl_errx(err, EINVAL, "hash '%.*s': no hash type", (int)len, s);
        return hash_parse_rest(s, len, s, len, type, false, ret, err);
}

int hash_parse(const char *s, size_t len, enum hash_type expected, struct hash *ret,
               struct cl_error *err)
{
        enum hash_type type = HASH_NONE;
        bool sri = false;
        const char *rest = s;
        size_t rest_len = len;
        const char *colon = memchr(s, ':', len);
        const char *dash = colon ? NULL : memchr(s, '-', len);
        const char *sep = colon ? colon : dash;
        if (sep) {
                if (hash_type_from_name(s, (size_t)(sep - s), &type) < 0)
                        return cl_errx(err, EINVAL, "unknown hash algorithm '%.*s'", (int)(sep - s),
                                       s);
                sri = sep == dash;
                rest = sep + 1;
                rest_len = len - (size_t)(rest - s);
                if (expected != HASH_NONE && expected != type)
                        return cl_errx(err, EINVAL, "hash '%.*s' should have type '%s'", (int)len,
                                       s, hash_type_name(expected));
        } else {
                if (expected == HASH_NONE)
                        return cl_errx(err, EINVAL,
                                       "hash '%.*s' does not include a type, nor is the type "
                                       "otherwise known from context",
                                       (int)len, s);
                type = expected;
        }
        return hash_parse_rest(s, len, rest, rest_len, type, sri, ret, err);
}

void hash_fold(const struct hash *h, unsigned char *out, size_t out_len)
{
        memset(out, 0, out_len);
        if (out_len == 0)
                return;
        for (size_t i = 0; i < h->len; i++)
                out[i % out_len] ^= h->bytes[i];
}

bool hash_equal(const struct hash *a, const struct hash *b)
{
        return a->type == b->type && a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}
