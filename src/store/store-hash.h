/* Hashes as Nix uses them: md5, sha1, sha256 and sha512 through libcrypto's EVP
 * (so the CPU's SHA instructions are used), their four printed forms (base16,
 * Nix's base-32, base64, SRI), Nix's rule for telling the forms apart, and the
 * XOR fold that turns a digest into the 160 bits of a store path. */
#pragma once

#include "base/base-error.h"

#include <stdbool.h>
#include <stddef.h>

enum hash_type {
        HASH_NONE = 0,
        HASH_MD5,
        HASH_SHA1,
        HASH_SHA256,
        HASH_SHA512,
};

enum hash_encoding {
        HASH_BASE16, /* lowercase hex */
        HASH_NIX32,  /* Nix's own base-32 ("base32" in Nix's options) */
        HASH_BASE64, /* standard alphabet, padded */
        HASH_SRI,    /* "<type>-<base64>"; always carries the type */
};

#define HASH_MAX_SIZE 64
/* Long enough for any printed hash with its "type:" or "type-" prefix and NUL. */
#define HASH_STR_MAX 144

struct hash {
        enum hash_type type;
        unsigned char bytes[HASH_MAX_SIZE];
        size_t len; /* digest size of type */
};

/* "md5", "sha1", "sha256", "sha512"; NULL for anything else. */
const char *hash_type_name(enum hash_type type);
/* Digest size in bytes; 0 for HASH_NONE. */
size_t hash_type_size(enum hash_type type);
/* Parse a type name of len bytes; returns 0 or -EINVAL. */
int hash_type_from_name(const char *name, size_t len, enum hash_type *ret);

/* Length of the digits (without prefix) of a digest of type in an encoding. */
size_t hash_encoded_len(enum hash_type type, enum hash_encoding enc);

/* Streaming hashing. */
struct hash_ctx {
        void *md; /* EVP_MD_CTX */
        enum hash_type type;
};

#define HASH_CTX_INIT                                                                              \
        {                                                                                          \
                NULL, HASH_NONE                                                                    \
        }

int hash_init(struct hash_ctx *ctx, enum hash_type type);
int hash_update(struct hash_ctx *ctx, const void *data, size_t len);
/* Writes the digest and releases the context (hash_ctx_free is then a no-op). */
int hash_final(struct hash_ctx *ctx, struct hash *ret);
void hash_ctx_free(struct hash_ctx *ctx);
static inline void hash_ctx_freep(struct hash_ctx *ctx)
{
        hash_ctx_free(ctx);
}
#define _cleanup_hash_ctx_ __attribute__((cleanup(hash_ctx_freep)))

/* One-shot digest of a buffer. */
int hash_buffer(enum hash_type type, const void *data, size_t len, struct hash *ret);

/* Encode raw bytes (any length) in Nix's base-32 into out, which must hold
 * nix32_encoded_len(len) + 1 bytes; NUL-terminated. */
size_t nix32_encoded_len(size_t len);
void nix32_encode(const unsigned char *in, size_t len, char *out);
/* Decode exactly len characters into out_len bytes; rejects characters outside
 * the alphabet and bits that spill past out_len bytes. 0 or -EINVAL. */
int nix32_decode(const char *in, size_t len, unsigned char *out, size_t out_len);
bool nix32_is_char(char c);

/* Print h into buf (HASH_STR_MAX bytes). with_type puts "type:" in front (SRI
 * always has "type-"). Returns buf. */
char *hash_print(const struct hash *h, enum hash_encoding enc, bool with_type,
                 char buf[HASH_STR_MAX]);

/* Parse a hash as Nix's Hash::parseAny does: "type:digits", "type-base64" (SRI),
 * or bare digits when expected is given. The encoding of digits is chosen by
 * their length: base16 length, then nix32 length, then base64 length. When both
 * a prefix and expected are present they must agree. len is the string length.
 * Returns 0, or -EINVAL with the reason in err. */
int hash_parse(const char *s, size_t len, enum hash_type expected, struct hash *ret,
               struct cl_error *err);
/* Parse bare digits of a known type (no prefix allowed). */
int hash_parse_digits(const char *s, size_t len, enum hash_type type, struct hash *ret,
                      struct cl_error *err);

/* Nix's compressHash: XOR-fold the digest into out_len bytes (out_len <= h->len). */
void hash_fold(const struct hash *h, unsigned char *out, size_t out_len);

bool hash_equal(const struct hash *a, const struct hash *b);
