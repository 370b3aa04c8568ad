/* The reference scanner: finds runs of 32 nix32 characters in a stream and looks
 * each up in an open-addressing set of the candidates. The portable path is
 * Nix's right-to-left skip; on x86-64 with AVX2 whole 32-byte blocks are
 * classified at once and the runs found with bit operations. */
#include "store/store-refscan.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* The scanner keeps the last 31 bytes of the stream, the longest prefix of a
 * window that the next chunk can complete. */
#define TAIL_MAX (REFSCAN_HASH_LEN - 1)

struct refscan_slot {
        uint64_t key; /* first 8 bytes of the hash, 0 when the slot is empty */
        uint32_t cand; /* index into cands */
};

struct refscan {
        char (*cands)[REFSCAN_HASH_LEN]; /* distinct candidates */
        bool *found;                     /* per distinct candidate */
        size_t ncands;
        size_t nfound;
        uint32_t *index_to_cand; /* caller's index -> distinct candidate */
        size_t nindex;
        struct refscan_slot *slots;
        size_t mask; /* slots - 1, a power of two minus one */
        unsigned char tail[TAIL_MAX];
        size_t tail_len;
        bool scalar;
};

/* 1 for the 32 characters of Nix's base-32 alphabet: 0-9 a-z without e o t u. */
static const unsigned char is_nix32[256] = {
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
        ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1,
        ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
        ['m'] = 1, ['n'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['v'] = 1,
        ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static uint64_t load64(const void *p)
{
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return v;
}

static size_t slot_of(uint64_t key, size_t mask)
{
        /* the key is ASCII text: mix its bits before taking the low ones */
        key *= 0x9e3779b97f4a7c15ull;
        return (size_t)(key >> 29) & mask;
}

static bool has_simd(void)
{
#if defined(__x86_64__)
        return __builtin_cpu_supports("avx2");
#else
        return false;
#endif
}

int refscan_new(const char *const *hashes, size_t n, struct refscan **ret, struct cl_error *err)
{
        if (n > UINT32_MAX / 4)
                return cl_errx(err, EINVAL, "too many reference candidates (%zu)", n);
        struct refscan *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        size_t cap = 16;
        while (cap < 2 * n)
                cap *= 2;
        s->cands = malloc((n ? n : 1) * sizeof(*s->cands));
        s->found = calloc(n ? n : 1, sizeof(*s->found));
        s->index_to_cand = malloc((n ? n : 1) * sizeof(*s->index_to_cand));
        s->slots = calloc(cap, sizeof(*s->slots));
        s->mask = cap - 1;
        s->nindex = n;
        s->scalar = !has_simd();
        if (!s->cands || !s->found || !s->index_to_cand || !s->slots) {
                refscan_free(s);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const char *h = hashes[i];
                for (size_t j = 0; j < REFSCAN_HASH_LEN; j++)
                        if (!is_nix32[(unsigned char)h[j]]) {
                                refscan_free(s);
                                return cl_errx(err, EINVAL,
                                               "reference candidate %zu is not a nix32 hash part "
                                               "(byte %zu)",
                                               i, j);
                        }
                uint64_t key = load64(h);
                size_t k = slot_of(key, s->mask);
                for (;; k = (k + 1) & s->mask) {
                        struct refscan_slot *sl = &s->slots[k];
                        if (sl->key == 0) {
                                memcpy(s->cands[s->ncands], h, REFSCAN_HASH_LEN);
                                sl->key = key;
                                sl->cand = (uint32_t)s->ncands;
                                s->index_to_cand[i] = (uint32_t)s->ncands++;
                                break;
                        }
                        if (sl->key == key && memcmp(s->cands[sl->cand], h, REFSCAN_HASH_LEN) == 0) {
                                s->index_to_cand[i] = sl->cand;
                                break;
                        }
                }
        }
        *ret = s;
        return 0;
}

void refscan_free(struct refscan *s)
{
        if (!s)
                return;
        free(s->cands);
        free(s->found);
        free(s->index_to_cand);
        free(s->slots);
        free(s);
}

/* p points at 32 nix32 characters: record them if they are a candidate. */
static void lookup(struct refscan *s, const unsigned char *p)
{
        uint64_t key = load64(p);
        for (size_t k = slot_of(key, s->mask);; k = (k + 1) & s->mask) {
                const struct refscan_slot *sl = &s->slots[k];
                if (sl->key == 0)
                        return;
                if (sl->key == key && memcmp(s->cands[sl->cand], p, REFSCAN_HASH_LEN) == 0) {
                        if (!s->found[sl->cand]) {
                                s->found[sl->cand] = true;
                                s->nfound++;
                        }
                        return;
                }
        }
}

/* Nix's search: test a window right to left and skip past the first byte that
 * cannot be in a hash part. Finds every window that lies wholly inside p[0..n). */
static void scan_scalar(struct refscan *s, const unsigned char *p, size_t n)
{
        size_t i = 0;
        while (i + REFSCAN_HASH_LEN <= n) {
                size_t j = REFSCAN_HASH_LEN;
                while (j > 0 && is_nix32[p[i + j - 1]])
                        j--;
                if (j > 0) {
                        i += j;
                        continue;
                }
                lookup(s, p + i);
                i++;
        }
}

#if defined(__x86_64__)
/* Bit k of the result is set when p[k] is a nix32 character. The character is
 * split in nibbles: hi selects a row (3x, 6x or 7x), lo holds for each low
 * nibble the rows in which it makes an alphabet character. */
__attribute__((target("avx2"))) static inline uint32_t classify32(const unsigned char *p)
{
        const __m256i hi_tbl = _mm256_setr_epi8(0, 0, 0, 1, 0, 0, 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                0, 0, 1, 0, 0, 2, 4, 0, 0, 0, 0, 0, 0, 0, 0);
        /* low nibble: 0-9 in row 3; 1-f but 5 (e), f (o) in row 6; 0-a but 4 (t), 5 (u) in row 7 */
        const __m256i lo_tbl = _mm256_setr_epi8(1 | 4, 1 | 2 | 4, 1 | 2 | 4, 1 | 2 | 4, 1 | 2, 1,
                                                1 | 2 | 4, 1 | 2 | 4, 1 | 2 | 4, 1 | 2 | 4, 2 | 4, 2,
                                                2, 2, 2, 0, 1 | 4, 1 | 2 | 4, 1 | 2 | 4, 1 | 2 | 4,
                                                1 | 2, 1, 1 | 2 | 4, 1 | 2 | 4, 1 | 2 | 4, 1 | 2 | 4,
                                                2 | 4, 2, 2, 2, 2, 0);
        const __m256i nib = _mm256_set1_epi8(0x0f);
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
        __m256i lo = _mm256_and_si256(v, nib);
        __m256i m = _mm256_and_si256(_mm256_shuffle_epi8(hi_tbl, hi),
                                     _mm256_shuffle_epi8(lo_tbl, lo));
        __m256i zero = _mm256_cmpeq_epi8(m, _mm256_setzero_si256());
        return ~(uint32_t)_mm256_movemask_epi8(zero);
}

/* Bit k set when bits k..k+31 of m are all set. */
static inline uint64_t runs32(uint64_t m)
{
        m &= m >> 1;
        m &= m >> 2;
        m &= m >> 4;
        m &= m >> 8;
        m &= m >> 16;
        return m;
}

/* The windows that start in the block at base (whose mask is prev; cur is the
 * mask of the next 32 bytes, zero past the end). Branch-free until a window is
 * found: in text half the blocks end in an alphabet byte, a branch on that
 * would be mispredicted all the time. */
static inline void windows_in(struct refscan *s, const unsigned char *base, uint32_t prev,
                              uint32_t cur)
{
        uint64_t r = runs32((uint64_t)prev | ((uint64_t)cur << 32)) & 0xffffffffu;
        if (__builtin_expect(r == 0, 1))
                return;
        do {
                lookup(s, base + __builtin_ctzll(r));
                r &= r - 1;
        } while (r);
}

__attribute__((target("avx2"))) static void scan_avx2(struct refscan *s, const unsigned char *p,
                                                      size_t n)
{
        if (n < REFSCAN_HASH_LEN)
                return;
        size_t i = 0;
        uint32_t prev = 0;
        for (; i + 32 <= n; i += 32) {
                uint32_t cur = classify32(p + i);
                if (i > 0)
                        windows_in(s, p + i - 32, prev, cur);
                prev = cur;
        }
        uint32_t cur = 0;
        for (size_t j = 0; i + j < n; j++)
                cur |= (uint32_t)is_nix32[p[i + j]] << j;
        windows_in(s, p + i - 32, prev, cur);
}
#endif

static void scan(struct refscan *s, const unsigned char *p, size_t n)
{
#if defined(__x86_64__)
        if (!s->scalar) {
                scan_avx2(s, p, n);
                return;
        }
#endif
        scan_scalar(s, p, n);
}

void refscan_feed(struct refscan *s, const void *data, size_t len)
{
        const unsigned char *d = data;
        if (len == 0 || s->ncands == 0 || s->nfound == s->ncands)
                return;
        if (s->tail_len > 0) {
                /* the windows that start in the tail and end in this chunk */
                unsigned char joint[2 * TAIL_MAX];
                size_t take = len < TAIL_MAX ? len : TAIL_MAX;
                memcpy(joint, s->tail, s->tail_len);
                memcpy(joint + s->tail_len, d, take);
                scan_scalar(s, joint, s->tail_len + take);
        }
        scan(s, d, len);
        if (len >= TAIL_MAX) {
                memcpy(s->tail, d + len - TAIL_MAX, TAIL_MAX);
                s->tail_len = TAIL_MAX;
        } else {
                size_t keep = s->tail_len + len > TAIL_MAX ? TAIL_MAX - len : s->tail_len;
                memmove(s->tail, s->tail + s->tail_len - keep, keep);
                memcpy(s->tail + keep, d, len);
                s->tail_len = keep + len;
        }
}

bool refscan_found(const struct refscan *s, size_t i)
{
        return i < s->nindex && s->found[s->index_to_cand[i]];
}

size_t refscan_found_count(const struct refscan *s)
{
        return s->nfound;
}

void refscan_reset(struct refscan *s)
{
        memset(s->found, 0, (s->ncands ? s->ncands : 1) * sizeof(*s->found));
        s->nfound = 0;
        s->tail_len = 0;
}

void refscan_force_scalar(struct refscan *s, bool scalar)
{
        s->scalar = scalar || !has_simd();
}
