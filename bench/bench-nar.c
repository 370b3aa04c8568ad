/* Benchmark driver for bench-store.sh: NAR dump + hash (+ reference scan) of a
 * tree in one pass, and the reference scanner alone over a file's bytes.
 *   bench-nar cands N OUT              write N random hash parts, one a line
 *   bench-nar hash DIR                 NAR sha256 in one pass
 *   bench-nar hash-scan DIR CANDS      NAR sha256 + reference scan in one pass
 *   bench-nar scan FILE CANDS [scalar] scanner alone over FILE (in memory)
 * Each prints "<seconds> <bytes> <extra>" on one line. */
#include "base/base-cleanup.h"
#include "base/base-fd.h"
#include "store/store-hash.h"
#include "store/store-nar.h"
#include "store/store-refscan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, const struct cl_error *err)
{
        fprintf(stderr, "bench-nar: %s: %s\n", what, err && err->msg[0] ? err->msg : strerror(errno));
        return 1;
}

static int load_cands(const char *path, char **ret_buf, const char ***ret_ptrs, size_t *ret_n)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        size_t cap = 1024, n = 0;
        char *buf = malloc(cap * REFSCAN_HASH_LEN);
        char line[128];
        while (buf && fgets(line, sizeof(line), f)) {
                if (strlen(line) < REFSCAN_HASH_LEN)
                        continue;
                if (n == cap) {
                        cap *= 2;
                        char *nb = realloc(buf, cap * REFSCAN_HASH_LEN);
                        if (!nb)
                                break;
                        buf = nb;
                }
                memcpy(buf + n * REFSCAN_HASH_LEN, line, REFSCAN_HASH_LEN);
                n++;
        }
        fclose(f);
        const char **ptrs = malloc((n ? n : 1) * sizeof(*ptrs));
        if (!buf || !ptrs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                ptrs[i] = buf + i * REFSCAN_HASH_LEN;
        *ret_buf = buf;
        *ret_ptrs = ptrs;
        *ret_n = n;
        return 0;
}

static int cmd_cands(size_t n, const char *out)
{
        static const char alphabet[] = "0123456789abcdfghijklmnpqrsvwxyz";
        FILE *f = fopen(out, "we");
        if (!f)
                return die(out, NULL);
        uint64_t x = 0x853c49e6748fea9bull;
        for (size_t i = 0; i < n; i++) {
                char h[REFSCAN_HASH_LEN + 1];
                for (int j = 0; j < REFSCAN_HASH_LEN; j++) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        h[j] = alphabet[x % 32];
                }
                h[REFSCAN_HASH_LEN] = 0;
                fprintf(f, "%s\n", h);
        }
        return fclose(f) == 0 ? 0 : die(out, NULL);
}

static int cmd_hash(const char *dir, const char *cands_path)
{
        _cleanup_free_ char *cbuf = NULL;
        _cleanup_free_ const char **cands = NULL;
        size_t n = 0;
        struct cl_error err = {0};
        _cleanup_refscan_ struct refscan *scan = NULL;
        if (cands_path) {
                if (load_cands(cands_path, &cbuf, &cands, &n) < 0)
                        return die(cands_path, NULL);
                if (refscan_new(cands, n, &scan, &err) < 0)
                        return die("candidates", &err);
        }
        double t0 = now();
        struct hash h;
        uint64_t size = 0;
        if (nar_hash_at(AT_FDCWD, dir, HASH_SHA256, scan, &h, &size, &err) < 0)
                return die(dir, &err);
        double t = now() - t0;
        char buf[HASH_STR_MAX];
        printf("%.6f %llu %s refs=%zu\n", t, (unsigned long long)size,
               hash_print(&h, HASH_NIX32, true, buf), scan ? refscan_found_count(scan) : 0);
        return 0;
}

static int cmd_scan(const char *file, const char *cands_path, int scalar)
{
        _cleanup_free_ char *cbuf = NULL;
        _cleanup_free_ const char **cands = NULL;
        size_t n = 0;
        struct cl_error err = {0};
        if (load_cands(cands_path, &cbuf, &cands, &n) < 0)
                return die(cands_path, NULL);
        _cleanup_refscan_ struct refscan *scan = NULL;
        if (refscan_new(cands, n, &scan, &err) < 0)
                return die("candidates", &err);
        refscan_force_scalar(scan, scalar);
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return die(file, NULL);
        size_t len = (size_t)st.st_size;
        /* the bytes are in memory before the clock starts: this is the scanner */
        _cleanup_free_ char *p = malloc(len ? len : 1);
        if (!p || fd_read_full(fd, p, len) != (ssize_t)len)
                return die(file, NULL);
        /* fed in the chunks the NAR writer produces; the first pass only warms
         * up (a fresh buffer's first touch costs more than the scan here), the
         * best of three timed passes is reported */
        double t = 0;
        for (int pass = 0; pass < 4; pass++) {
                refscan_reset(scan);
                double t0 = now();
                for (size_t off = 0; off < len; off += NAR_CHUNK)
                        refscan_feed(scan, p + off, len - off < NAR_CHUNK ? len - off : NAR_CHUNK);
                double dt = now() - t0;
                if (pass == 1 || (pass > 1 && dt < t))
                        t = dt;
        }
        printf("%.6f %zu refs=%zu\n", t, len, refscan_found_count(scan));
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 4 && strcmp(argv[1], "cands") == 0)
                return cmd_cands(strtoul(argv[2], NULL, 10), argv[3]);
        if (argc == 3 && strcmp(argv[1], "hash") == 0)
                return cmd_hash(argv[2], NULL);
        if (argc == 4 && strcmp(argv[1], "hash-scan") == 0)
                return cmd_hash(argv[2], argv[3]);
        if ((argc == 4 || argc == 5) && strcmp(argv[1], "scan") == 0)
                return cmd_scan(argv[2], argv[3], argc == 5);
        fprintf(stderr, "usage: bench-nar cands N OUT | hash DIR | hash-scan DIR CANDS | "
                        "scan FILE CANDS [scalar]\n");
        return 2;
}
