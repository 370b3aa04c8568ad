/* Option text to struct sandbox_limits: sizes, durations, counts, CPU shares,
 * rlimit names and personalities. Everything a user can mistype is checked
 * here, in the parent, so the child only applies numbers it is given. */
#include "sandbox/sandbox-limits.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sandbox_limits_init(struct sandbox_limits *l)
{
        memset(l, 0, sizeof(*l));
        l->cpu_period_us = 100000;
        /* Builds do not need core dumps, and one would land in the build tree. */
        l->rlimits[0] = (struct sandbox_rlimit){RLIMIT_CORE, {0, 0}};
        l->n_rlimits = 1;
        /* ASLR off: the same inputs give the same addresses, which some build
         * tools leak into outputs (Nix's seed asks for it for determinism). */
        l->personality = SANDBOX_PER_ADDR_NO_RANDOMIZE;
        l->umask = 022;
        l->seccomp = 1;
}

/* A non-negative decimal with an optional fraction; *end after it. */
static int parse_decimal(const char *s, double *ret, const char **end)
{
        if (!(*s >= '0' && *s <= '9') && *s != '.')
                return -EINVAL;
        errno = 0;
        char *e = NULL;
        double v = strtod(s, &e);
        if (errno != 0 || e == s || !isfinite(v) || v < 0)
                return -EINVAL;
        *ret = v;
        *end = e;
        return 0;
}

int sandbox_parse_size(const char *s, uint64_t *ret, struct cl_error *err)
{
        if (strcmp(s, "max") == 0 || strcmp(s, "unlimited") == 0 || strcmp(s, "infinity") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        double v;
        const char *e;
        if (parse_decimal(s, &v, &e) < 0)
                return cl_errx(err, EINVAL, "invalid size '%s'", s);
        double mult = 1;
        switch (*e) {
        case 'k':
        case 'K':
                mult = 1024.0;
                e++;
                break;
        case 'm':
        case 'M':
                mult = 1024.0 * 1024;
                e++;
                break;
        case 'g':
        case 'G':
                mult = 1024.0 * 1024 * 1024;
                e++;
                break;
        case 't':
        case 'T':
                mult = 1024.0 * 1024 * 1024 * 1024;
                e++;
                break;
        default:
                break;
        }
        if (mult > 1 && *e == 'i')
                e++;
        if (*e == 'B' || *e == 'b')
                e++;
        if (*e != '\0')
                return cl_errx(err, EINVAL, "invalid size '%s'", s);
        double bytes = v * mult;
        if (bytes >= 18446744073709549568.0)
                return cl_errx(err, ERANGE, "size '%s' is too large", s);
        *ret = (uint64_t)bytes;
        return 0;
}

int sandbox_parse_seconds(const char *s, uint64_t *ret_ms, struct cl_error *err)
{
        double v;
        const char *e;
        if (parse_decimal(s, &v, &e) < 0)
                return cl_errx(err, EINVAL, "invalid duration '%s' (seconds)", s);
        double mult = 1000;
        if (strcmp(e, "s") == 0 || *e == '\0')
                mult = 1000;
        else if (strcmp(e, "ms") == 0)
                mult = 1;
        else if (strcmp(e, "m") == 0 || strcmp(e, "min") == 0)
                mult = 60000;
        else if (strcmp(e, "h") == 0)
                mult = 3600000;
        else
                return cl_errx(err, EINVAL, "invalid duration '%s' (seconds)", s);
        double ms = v * mult;
        if (ms >= 1e15)
                return cl_errx(err, ERANGE, "duration '%s' is too long", s);
        if (ms < 1)
                return cl_errx(err, EINVAL, "duration '%s' must be positive", s);
        *ret_ms = (uint64_t)ms;
        return 0;
}

int sandbox_parse_count(const char *s, uint64_t *ret, struct cl_error *err)
{
        if (strcmp(s, "max") == 0 || strcmp(s, "unlimited") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (!(*s >= '0' && *s <= '9'))
                return cl_errx(err, EINVAL, "invalid number '%s'", s);
        errno = 0;
        char *e = NULL;
        unsigned long long v = strtoull(s, &e, 10);
        if (errno != 0 || *e != '\0')
                return cl_errx(err, EINVAL, "invalid number '%s'", s);
        *ret = v;
        return 0;
}

int sandbox_limits_set_cpu(struct sandbox_limits *l, const char *s, struct cl_error *err)
{
        const char *slash = strchr(s, '/');
        if (slash) {
                char quota[32];
                size_t n = (size_t)(slash - s);
                if (n == 0 || n >= sizeof(quota))
                        return cl_errx(err, EINVAL, "invalid CPU limit '%s'", s);
                memcpy(quota, s, n);
                quota[n] = '\0';
                uint64_t q, p;
                if (sandbox_parse_count(quota, &q, NULL) < 0 ||
                    sandbox_parse_count(slash + 1, &p, NULL) < 0 || q == UINT64_MAX ||
                    p == UINT64_MAX)
                        return cl_errx(err, EINVAL, "invalid CPU limit '%s' (QUOTA/PERIOD in µs)",
                                       s);
                /* the kernel's bounds for cfs_period_us and cpu.max */
                if (p < 1000 || p > 1000000 || q < 1000 || q > 1000000ull * 1000000)
                        return cl_errx(err, ERANGE, "CPU limit '%s' is out of range", s);
                l->cpu_quota_us = q;
                l->cpu_period_us = p;
                return 0;
        }
        double v;
        const char *e;
        if (parse_decimal(s, &v, &e) < 0)
                return cl_errx(err, EINVAL, "invalid CPU limit '%s'", s);
        if (*e == '%') {
                v /= 100;
                e++;
        }
        if (*e != '\0')
                return cl_errx(err, EINVAL, "invalid CPU limit '%s'", s);
        if (v < 0.01 || v > 4096)
                return cl_errx(err, ERANGE, "CPU limit '%s' is out of range", s);
        l->cpu_period_us = 100000;
        l->cpu_quota_us = (uint64_t)(v * 100000);
        return 0;
}

static const struct {
        const char *name;
        int resource;
        int is_size; /* accepts K/M/G suffixes */
} rlimit_names[] = {
        {"as", RLIMIT_AS, 1},           {"core", RLIMIT_CORE, 1},
        {"cpu", RLIMIT_CPU, 0},         {"data", RLIMIT_DATA, 1},
        {"fsize", RLIMIT_FSIZE, 1},     {"locks", RLIMIT_LOCKS, 0},
        {"memlock", RLIMIT_MEMLOCK, 1}, {"msgqueue", RLIMIT_MSGQUEUE, 1},
        {"nice", RLIMIT_NICE, 0},       {"nofile", RLIMIT_NOFILE, 0},
        {"nproc", RLIMIT_NPROC, 0},     {"rss", RLIMIT_RSS, 1},
        {"rtprio", RLIMIT_RTPRIO, 0},   {"rttime", RLIMIT_RTTIME, 0},
        {"sigpending", RLIMIT_SIGPENDING, 0}, {"stack", RLIMIT_STACK, 1},
};

static int rlimit_lookup(const char *name, size_t len)
{
        if (len > 7 && strncasecmp(name, "RLIMIT_", 7) == 0) {
                name += 7;
                len -= 7;
        }
        for (size_t i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++)
                if (strlen(rlimit_names[i].name) == len &&
                    strncasecmp(rlimit_names[i].name, name, len) == 0)
                        return (int)i;
        return -1;
}

static int rlimit_value(const char *s, int is_size, rlim_t *ret)
{
        uint64_t v;
        int r = is_size ? sandbox_parse_size(s, &v, NULL) : sandbox_parse_count(s, &v, NULL);
        if (r < 0)
                return r;
        *ret = v == UINT64_MAX ? RLIM_INFINITY : (rlim_t)v;
        return 0;
}

int sandbox_limits_set_rlimit(struct sandbox_limits *l, const char *s, struct cl_error *err)
{
        const char *eq = strchr(s, '=');
        if (!eq || eq == s)
                return cl_errx(err, EINVAL, "invalid rlimit '%s' (NAME=VALUE)", s);
        int i = rlimit_lookup(s, (size_t)(eq - s));
        if (i < 0)
                return cl_errx(err, EINVAL, "unknown rlimit '%.*s'", (int)(eq - s), s);
        char soft[64];
        const char *colon = strchr(eq + 1, ':');
        size_t n = colon ? (size_t)(colon - eq - 1) : strlen(eq + 1);
        if (n == 0 || n >= sizeof(soft))
                return cl_errx(err, EINVAL, "invalid rlimit value in '%s'", s);
        memcpy(soft, eq + 1, n);
        soft[n] = '\0';
        struct rlimit limit;
        if (rlimit_value(soft, rlimit_names[i].is_size, &limit.rlim_cur) < 0 ||
            (colon && rlimit_value(colon + 1, rlimit_names[i].is_size, &limit.rlim_max) < 0))
                return cl_errx(err, EINVAL, "invalid rlimit value in '%s'", s);
        if (!colon)
                limit.rlim_max = limit.rlim_cur;
        if (limit.rlim_cur > limit.rlim_max)
                return cl_errx(err, EINVAL, "rlimit '%s': soft limit above hard limit", s);
        int resource = rlimit_names[i].resource;
        for (unsigned k = 0; k < l->n_rlimits; k++)
                if (l->rlimits[k].resource == resource) {
                        l->rlimits[k].limit = limit;
                        return 0;
                }
        if (l->n_rlimits >= RLIM_NLIMITS)
                return cl_errx(err, E2BIG, "too many rlimits");
        l->rlimits[l->n_rlimits++] = (struct sandbox_rlimit){resource, limit};
        return 0;
}

const struct sandbox_rlimit *sandbox_limits_get_rlimit(const struct sandbox_limits *l,
                                                       int resource)
{
        for (unsigned k = 0; k < l->n_rlimits; k++)
                if (l->rlimits[k].resource == resource)
                        return &l->rlimits[k];
        return NULL;
}

int sandbox_limits_set_personality(struct sandbox_limits *l, const char *s,
                                   struct cl_error *err)
{
        unsigned long flags = l->personality & ~0xffUL;
        if (strcmp(s, "linux") == 0 || strcmp(s, "linux64") == 0) {
                l->personality = flags;
                return 0;
        }
        if (strcmp(s, "linux32") == 0 || strcmp(s, "i686") == 0 || strcmp(s, "i386") == 0 ||
            strcmp(s, "x86") == 0) {
#if defined(__x86_64__) || defined(__aarch64__) || defined(__powerpc64__) || defined(__s390x__)
                l->personality = flags | SANDBOX_PER_LINUX32;
                return 0;
#else
                return cl_errx(err, EOPNOTSUPP,
                               "personality '%s' is not supported on this architecture", s);
#endif
        }
        return cl_errx(err, EINVAL, "unsupported personality '%s' (linux or linux32)", s);
}

const char *sandbox_limit_name(enum sandbox_limit_fired f)
{
        switch (f) {
        case SANDBOX_LIMIT_TIMEOUT:
                return "timeout";
        case SANDBOX_LIMIT_SILENCE:
                return "max-silent-time";
        case SANDBOX_LIMIT_OUTPUT:
                return "max-output";
        case SANDBOX_LIMIT_MEMORY:
                return "memory-max";
        case SANDBOX_LIMIT_PIDS:
                return "pids-max";
        case SANDBOX_LIMIT_NONE:
                break;
        }
        return NULL;
}
