/* Unit tests for the reference scanner: every chunk split, both scan paths
 * (vector and portable) against a brute-force search, and no false positives. */
#include "tap.h"

#include "base/base-cleanup.h"
#include "store/store-refscan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char alphabet[] = "0123456789abcdfghijklmnpqrsvwxyz";

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static void random_hash(char *out)
{
        for (int i = 0; i < REFSCAN_HASH_LEN; i++)
                out[i] = alphabet[rnd() % 32];
}

/* The expected result by the definition: candidate i occurs somewhere. */
static bool occurs(const unsigned char *data, size_t len, const char *h)
{
        return memmem(data, len, h, REFSCAN_HASH_LEN) != NULL;
}

static void feed_in_chunks(struct refscan *s, const unsigned char *data, size_t len, size_t chunk)
{
        for (size_t off = 0; off < len;) {
                /* chunk 0: random sizes */
                size_t want = chunk ? chunk : (size_t)(rnd() % 200) + 1;
                size_t k = len - off < want ? len - off : want;
                refscan_feed(s, data + off, k);
                off += k;
        }
}

TEST(rejects_bad_candidates)
{
        struct refscan *s = NULL;
        struct cl_error err = {0};
        const char *bad = "0123456789abcdefghijklmnpqrsvwxy"; /* has an 'e' */
        CHECK_INT(refscan_new(&bad, 1, &s, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "not a nix32 hash part") != NULL);
        const char *upper = "0123456789ABCDFGHIJKLMNPQRSVWXYZ";
        CHECK_INT(refscan_new(&upper, 1, &s, &err), ==, -EINVAL);
}

/* One hash at every offset of a short stream, split at every position. */
TEST(finds_across_every_chunk_boundary)
{
        char h[REFSCAN_HASH_LEN + 1] = {0};
        random_hash(h);
        const char *cands[] = {h};
        for (int scalar = 0; scalar < 2; scalar++) {
                _cleanup_refscan_ struct refscan *s = NULL;
                CHECK_OK(refscan_new(cands, 1, &s, NULL));
                refscan_force_scalar(s, scalar);
                for (size_t pos = 0; pos <= 40; pos += 7) {
                        unsigned char data[100];
                        memset(data, '-', sizeof(data));
                        memcpy(data + pos, h, REFSCAN_HASH_LEN);
                        size_t len = pos + REFSCAN_HASH_LEN + (pos % 3);
                        for (size_t a = 0; a <= len; a++)
                                for (size_t b = a; b <= len; b += 3) {
                                        refscan_reset(s);
                                        refscan_feed(s, data, a);
                                        refscan_feed(s, data + a, b - a);
                                        refscan_feed(s, data + b, len - b);
                                        if (!refscan_found(s, 0))
                                                FAIL("scalar=%d hash at %zu not found with splits "
                                                     "%zu/%zu",
                                                     scalar, pos, a, b);
                                }
                        /* one byte at a time */
                        refscan_reset(s);
                        for (size_t i = 0; i < len; i++)
                                refscan_feed(s, data + i, 1);
                        CHECK(refscan_found(s, 0));
                }
        }
}

TEST(no_false_positives)
{
        char h[REFSCAN_HASH_LEN + 1] = {0};
        random_hash(h);
        const char *cands[] = {h};
        /* near misses: every 31-byte prefix and suffix, each one-byte change,
         * the upper-case form, the hash cut by a non-alphabet byte */
        unsigned char data[8192];
        size_t n = 0;
        memcpy(data + n, h, 31), n += 31, data[n++] = ' ';
        memcpy(data + n, h + 1, 31), n += 31, data[n++] = '\n';
        for (int i = 0; i < REFSCAN_HASH_LEN; i++) {
                memcpy(data + n, h, REFSCAN_HASH_LEN);
                data[n + i] = data[n + i] == 'z' ? 'y' : (unsigned char)(data[n + i] + 1);
                if (data[n + i] == 'e' || data[n + i] == 'o' || data[n + i] == 't' ||
                    data[n + i] == 'u' || data[n + i] == ':')
                        data[n + i]++;
                n += REFSCAN_HASH_LEN;
                data[n++] = '/';
        }
        for (int i = 0; i < REFSCAN_HASH_LEN; i++)
                data[n++] = (unsigned char)(h[i] >= 'a' ? h[i] - 32 : h[i]);
        data[n++] = '.';
        memcpy(data + n, h, 16), n += 16, data[n++] = 0;
        memcpy(data + n, h + 16, 16), n += 16;
        CHECK(!occurs(data, n, h));
        for (int scalar = 0; scalar < 2; scalar++) {
                _cleanup_refscan_ struct refscan *s = NULL;
                CHECK_OK(refscan_new(cands, 1, &s, NULL));
                refscan_force_scalar(s, scalar);
                for (size_t chunk = 1; chunk < 80; chunk++) {
                        refscan_reset(s);
                        feed_in_chunks(s, data, n, chunk);
                        if (refscan_found(s, 0))
                                FAIL("false positive (scalar=%d, chunk %zu)", scalar, chunk);
                }
        }
}

/* Inside a longer run of alphabet characters a hash is still found, as Nix
 * finds it. */
TEST(found_inside_longer_runs)
{
        char h[REFSCAN_HASH_LEN + 1] = {0};
        random_hash(h);
        const char *cands[] = {h};
        for (int scalar = 0; scalar < 2; scalar++) {
                _cleanup_refscan_ struct refscan *s = NULL;
                CHECK_OK(refscan_new(cands, 1, &s, NULL));
                refscan_force_scalar(s, scalar);
                for (size_t pre = 0; pre < 70; pre++) {
                        char data[200];
                        for (size_t i = 0; i < sizeof(data); i++)
                                data[i] = alphabet[rnd() % 32];
                        memcpy(data + pre, h, REFSCAN_HASH_LEN);
                        refscan_reset(s);
                        refscan_feed(s, data, pre + REFSCAN_HASH_LEN + (pre % 5));
                        if (!refscan_found(s, 0))
                                FAIL("scalar=%d: not found after %zu alphabet bytes", scalar, pre);
                }
        }
}

/* 10,000 candidates, a stream dense in alphabet characters with a third of
 * them planted: both scan paths agree with memmem, for several chunkings. */
TEST(matches_brute_force)
{
        enum { N = 10000, LEN = 1 << 20 };
        _cleanup_free_ char *hashes = malloc((size_t)N * REFSCAN_HASH_LEN);
        _cleanup_free_ const char **cands = malloc(N * sizeof(*cands));
        _cleanup_free_ unsigned char *data = malloc(LEN);
        CHECK(hashes && cands && data);
        for (int i = 0; i < N; i++) {
                random_hash(hashes + (size_t)i * REFSCAN_HASH_LEN);
                cands[i] = hashes + (size_t)i * REFSCAN_HASH_LEN;
        }
        for (size_t i = 0; i < LEN; i++) {
                uint64_t r = rnd();
                /* mostly alphabet, runs broken now and then */
                data[i] = (r & 31) == 0 ? (unsigned char)(r >> 8) : (unsigned char)alphabet[(r >> 8) % 32];
        }
        for (int i = 0; i < N; i += 3) {
                size_t pos = rnd() % (LEN - REFSCAN_HASH_LEN);
                memcpy(data + pos, cands[i], REFSCAN_HASH_LEN);
        }
        _cleanup_free_ bool *expect = calloc(N, sizeof(bool));
        size_t nexpect = 0;
        for (int i = 0; i < N; i++)
                if ((expect[i] = occurs(data, LEN, cands[i])))
                        nexpect++;
        CHECK(nexpect > N / 4);
        static const size_t chunks[] = {LEN, 4096, 1000, 33, 32, 31, 0};
        for (int scalar = 0; scalar < 2; scalar++) {
                _cleanup_refscan_ struct refscan *s = NULL;
                CHECK_OK(refscan_new(cands, N, &s, NULL));
                refscan_force_scalar(s, scalar);
                for (size_t c = 0; c < ELEMENTSOF(chunks); c++) {
                        refscan_reset(s);
                        feed_in_chunks(s, data, LEN, chunks[c]);
                        CHECK_INT(refscan_found_count(s), ==, nexpect);
                        for (int i = 0; i < N; i++)
                                if (refscan_found(s, (size_t)i) != expect[i])
                                        FAIL("scalar=%d chunk=%zu candidate %d: found %d, "
                                             "expected %d",
                                             scalar, chunks[c], i, refscan_found(s, (size_t)i),
                                             expect[i]);
                }
        }
}

TEST(duplicates_share_a_result)
{
        char h[REFSCAN_HASH_LEN], g[REFSCAN_HASH_LEN];
        random_hash(h);
        random_hash(g);
        const char *cands[] = {h, g, h};
        _cleanup_refscan_ struct refscan *s = NULL;
        CHECK_OK(refscan_new(cands, 3, &s, NULL));
        refscan_feed(s, h, sizeof(h));
        CHECK(refscan_found(s, 0));
        CHECK(!refscan_found(s, 1));
        CHECK(refscan_found(s, 2));
        CHECK_INT(refscan_found_count(s), ==, 1);
        CHECK(!refscan_found(s, 3));
}

TEST(no_candidates)
{
        _cleanup_refscan_ struct refscan *s = NULL;
        CHECK_OK(refscan_new(NULL, 0, &s, NULL));
        refscan_feed(s, "0123456789abcdfghijklmnpqrsvwxyz", 32);
        CHECK_INT(refscan_found_count(s), ==, 0);
}
