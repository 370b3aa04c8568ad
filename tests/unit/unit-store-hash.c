/* Unit tests for src/store/store-hash: digests, the four printed forms, Nix's
 * length rule when parsing, and the 160-bit fold; vectors from NIX-FORMATS.md
 * and from Nix 2.8 (nix-hash --to-base32, nix hash to-sri). */
#include "tap.h"

#include "store/store-hash.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct vec {
        enum hash_type type;
        const char *input;
        const char *b16, *n32, *b64;
};

static const struct vec vecs[] = {
    {HASH_MD5, "abc", "900150983cd24fb0d6963f7d28e17f72", "3jgzhjhz9zjvbb0kyj7jc500ch",
     "kAFQmDzST7DWlj99KOF/cg=="},
    {HASH_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d",
     "kpcd173cq987hw957sx6m0868wv3x6d9", "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="},
    {HASH_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s",
     "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="},
    {HASH_SHA512, "abc",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c2"
     "3a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "2gs8k559z4rlahfx0y688s49m2vvszylcikrfinm30ly9rak69236nkam5ydvly1ai7xac99vxfc4ii84hawjb"
     "k876blyk1jfhkbbyx",
     "3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="},
};

TEST(digests_and_encodings)
{
        for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
                const struct vec *v = &vecs[i];
                struct hash h;
                char buf[HASH_STR_MAX];
                CHECK_OK(hash_buffer(v->type, v->input, strlen(v->input), &h));
                CHECK_INT(h.len, ==, hash_type_size(v->type));
                CHECK_STR(hash_print(&h, HASH_BASE16, false, buf), v->b16);
                CHECK_STR(hash_print(&h, HASH_NIX32, false, buf), v->n32);
                CHECK_STR(hash_print(&h, HASH_BASE64, false, buf), v->b64);
                CHECK_INT(strlen(v->b16), ==, hash_encoded_len(v->type, HASH_BASE16));
                CHECK_INT(strlen(v->n32), ==, hash_encoded_len(v->type, HASH_NIX32));
                CHECK_INT(strlen(v->b64), ==, hash_encoded_len(v->type, HASH_BASE64));
                char want[HASH_STR_MAX];
                snprintf(want, sizeof(want), "%s-%s", hash_type_name(v->type), v->b64);
                CHECK_STR(hash_print(&h, HASH_SRI, false, buf), want);
                snprintf(want, sizeof(want), "%s:%s", hash_type_name(v->type), v->n32);
                CHECK_STR(hash_print(&h, HASH_NIX32, true, buf), want);
                /* every form parses back to the same digest */
                const char *forms[] = {v->b16, v->n32, v->b64};
                for (size_t f = 0; f < 3; f++) {
                        struct hash p;
                        struct cl_error err;
                        CHECK_OK(hash_parse(forms[f], strlen(forms[f]), v->type, &p, &err));
                        CHECK(hash_equal(&p, &h));
                        char pre[HASH_STR_MAX];
                        snprintf(pre, sizeof(pre), "%s:%s", hash_type_name(v->type), forms[f]);
                        CHECK_OK(hash_parse(pre, strlen(pre), HASH_NONE, &p, &err));
                        CHECK(hash_equal(&p, &h));
                }
                struct hash p;
                hash_print(&h, HASH_SRI, false, buf);
                CHECK_OK(hash_parse(buf, strlen(buf), HASH_NONE, &p, NULL));
                CHECK(hash_equal(&p, &h));
        }
}

TEST(smash_the_state_vector)
{
        struct hash h;
        char buf[HASH_STR_MAX];
        CHECK_OK(hash_buffer(HASH_SHA256, "SMASH THE STATE", 15, &h));
        CHECK_STR(hash_print(&h, HASH_NIX32, false, buf),
                  "0d9n3r2i4m1zgy0wpqbsyabsfzgs952066bfp8gwvcg4mkr4r5g8");
}

TEST(streaming_equals_one_shot)
{
        struct hash a, b;
        static char data[100000];
        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (char)(i * 7 + 3);
        CHECK_OK(hash_buffer(HASH_SHA256, data, sizeof(data), &a));
        struct hash_ctx ctx = HASH_CTX_INIT;
        CHECK_OK(hash_init(&ctx, HASH_SHA256));
        for (size_t off = 0; off < sizeof(data); off += 777) {
                size_t n = sizeof(data) - off < 777 ? sizeof(data) - off : 777;
                CHECK_OK(hash_update(&ctx, data + off, n));
        }
        CHECK_OK(hash_final(&ctx, &b));
        hash_ctx_free(&ctx);
        CHECK(hash_equal(&a, &b));
}

TEST(nix32_bit_order_worked_example)
{
        /* first digit holds the top bit of the last byte (0xad >> 7 = 1) */
        struct hash h;
        CHECK_OK(
            hash_parse_digits("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                              64, HASH_SHA256, &h, NULL));
        char buf[HASH_STR_MAX];
        hash_print(&h, HASH_NIX32, false, buf);
        CHECK(buf[0] == '1' && buf[1] == 'b' && buf[2] == '8' && buf[51] == 's');
}

TEST(parse_errors)
{
        struct hash h;
        struct cl_error err;
        /* no type */
        CHECK_INT(hash_parse("abcd", 4, HASH_NONE, &h, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "does not include a type"));
        /* unknown algorithm */
        CHECK_INT(hash_parse("sha3:abcd", 9, HASH_NONE, &h, &err), ==, -EINVAL);
        CHECK_STR(err.msg, "unknown hash algorithm 'sha3'");
        /* type mismatch */
        const char *s = "md5:900150983cd24fb0d6963f7d28e17f72";
        CHECK_INT(hash_parse(s, strlen(s), HASH_SHA1, &h, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "should have type 'sha1'"));
        /* wrong length */
        CHECK_INT(hash_parse("sha256:abc", 10, HASH_NONE, &h, &err), ==, -EINVAL);
        CHECK_STR(err.msg, "hash 'abc' has wrong length for hash type 'sha256'");
        /* bad base16 digit */
        s = "md5:900150983cd24fb0d6963f7d28e17f7g";
        CHECK_INT(hash_parse(s, strlen(s), HASH_NONE, &h, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "invalid base-16 hash"));
        /* nix32: forbidden letter and overflowing first digit */
        s = "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5e";
        CHECK_INT(hash_parse(s, strlen(s), HASH_NONE, &h, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "invalid base-32 hash"));
        s = "sha256:2b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s";
        CHECK_INT(hash_parse(s, strlen(s), HASH_NONE, &h, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "invalid base-32 hash"));
        /* base64 and SRI of the wrong size */
        s = "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIA";
        CHECK_INT(hash_parse(s, strlen(s), HASH_NONE, &h, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "invalid SRI hash"));
        s = "md5:kAFQmDzST7DWlj99KOF/c!==";
        CHECK_INT(hash_parse(s, strlen(s), HASH_NONE, &h, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "invalid base-64 hash"));
        /* upper-case hex is accepted, as Nix does */
        s = "md5:900150983CD24FB0D6963F7D28E17F72";
        CHECK_OK(hash_parse(s, strlen(s), HASH_NONE, &h, &err));
}

TEST(fold_to_160_bits)
{
        /* NIX-FORMATS.md 1.4 example A: sha256 of the fingerprint and its fold */
        struct hash h;
        CHECK_OK(
            hash_parse_digits("5f319b773eed9003b0bc1931f2c092e68933fca98073fcbd561480275bd31873",
                              64, HASH_SHA256, &h, NULL));
        unsigned char out[20];
        hash_fold(&h, out, sizeof(out));
        struct hash f = {.type = HASH_SHA1, .len = 20};
        memcpy(f.bytes, out, 20);
        char buf[HASH_STR_MAX];
        CHECK_STR(hash_print(&f, HASH_BASE16, false, buf),
                  "df4267ca68f91024eb6f0142f2c092e68933fca9");
        CHECK_STR(hash_print(&f, HASH_NIX32, false, buf), "m7y372g6jb0g4hh1dzmj847rd356fhnz");
}

TEST(placeholder_vector)
{
        struct hash h;
        char buf[HASH_STR_MAX];
        CHECK_OK(hash_buffer(HASH_SHA256, "nix-output:out", 14, &h));
        CHECK_STR(hash_print(&h, HASH_NIX32, false, buf),
                  "1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9");
}
