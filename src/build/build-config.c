/* cloister.conf and --option: a table of Nix-named keys with typed parsers, so
 * that every key is parsed, printed in errors and documented the same way. */
#include "build/build-config.h"

#include "base/base-cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum setting_type { T_BOOL, T_UINT, T_U64, T_STR, T_LIST, T_SANDBOX, T_FODNET };

struct setting {
        const char *name;
        enum setting_type type;
        size_t offset;
        size_t count_offset; /* for lists */
};

#define S(name, type, field) {name, type, offsetof(struct build_settings, field), 0}
#define L(name, field, count)                                                                      \
        {name, T_LIST, offsetof(struct build_settings, field),                                     \
         offsetof(struct build_settings, count)}

static const struct setting settings[] = {
        S("max-jobs", T_UINT, max_jobs),
        S("cores", T_UINT, cores),
        S("timeout", T_U64, timeout),
        S("max-silent-time", T_U64, max_silent_time),
        S("max-build-log-size", T_U64, max_build_log_size),
        S("keep-failed", T_BOOL, keep_failed),
        S("keep-going", T_BOOL, keep_going),
        S("compress-build-log", T_BOOL, compress_build_log),
        S("keep-build-log", T_BOOL, keep_build_log),
        S("sandbox", T_SANDBOX, sandbox),
        S("fixed-output-network", T_FODNET, fixed_output_network),
        S("build-users-group", T_STR, build_users_group),
        S("sandbox-build-dir", T_STR, sandbox_build_dir),
        L("sandbox-paths", sandbox_paths, n_sandbox_paths),
        L("extra-sandbox-paths", sandbox_paths, n_sandbox_paths),
        L("impure-env", impure_env, n_impure_env),
};

static void free_list(char ***list, size_t *n)
{
        for (size_t i = 0; i < *n; i++)
                free((*list)[i]);
        free(*list);
        *list = NULL;
        *n = 0;
}

void build_settings_free(struct build_settings *s)
{
        free(s->build_users_group);
        free(s->sandbox_build_dir);
        free_list(&s->sandbox_paths, &s->n_sandbox_paths);
        free_list(&s->impure_env, &s->n_impure_env);
        memset(s, 0, sizeof(*s));
}

int build_settings_init(struct build_settings *s)
{
        memset(s, 0, sizeof(*s));
        s->max_jobs = 1;
        s->cores = 0;
        s->compress_build_log = true;
        s->keep_build_log = true;
        s->sandbox = SANDBOX_ON;
        s->fixed_output_network = FOD_NETWORK_HOST;
        s->build_users_group = strdup("nixbld");
        s->sandbox_build_dir = strdup("/build");
        if (!s->build_users_group || !s->sandbox_build_dir) {
                build_settings_free(s);
                return -ENOMEM;
        }
        return 0;
}

static int parse_u64(const char *v, uint64_t *ret)
{
        if (!*v || !isdigit((unsigned char)*v))
                return -EINVAL;
        errno = 0;
        char *end = NULL;
        unsigned long long n = strtoull(v, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = n;
        return 0;
}

static int parse_bool(const char *v, bool *ret)
{
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)
                *ret = true;
        else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

/* A list value replaces the list, except for extra-* keys which add to it. */
static int set_list(char ***list, size_t *n, const char *v, bool append)
{
        if (!append)
                free_list(list, n);
        _cleanup_free_ char *copy = strdup(v);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
                char **bigger = realloc(*list, (*n + 1) * sizeof(char *));
                if (!bigger)
                        return -ENOMEM;
                *list = bigger;
                if (!(bigger[*n] = strdup(tok)))
                        return -ENOMEM;
                (*n)++;
        }
        return 0;
}

int build_settings_set(struct build_settings *s, const char *name, const char *value,
                       struct cl_error *err)
{
        const struct setting *st = NULL;
        for (size_t i = 0; i < ELEMENTSOF(settings); i++)
                if (strcmp(settings[i].name, name) == 0)
                        st = &settings[i];
        if (!st)
                return cl_errx(err, ENOENT, "unknown setting '%s'", name);
        char *field = (char *)s + st->offset;
        uint64_t n = 0;
        int r = 0;
        switch (st->type) {
        case T_BOOL:
                r = parse_bool(value, (bool *)field);
                if (r < 0)
                        return cl_errx(err, EINVAL,
                                       "setting '%s': '%s' is not a boolean (true or false)", name,
                                       value);
                return 0;
        case T_UINT:
        case T_U64:
                r = parse_u64(value, &n);
                if (r < 0 || (st->type == T_UINT && n > UINT_MAX))
                        return cl_errx(err, EINVAL, "setting '%s': '%s' is not a number in range",
                                       name, value);
                if (st->type == T_UINT)
                        *(unsigned *)field = (unsigned)n;
                else
                        *(uint64_t *)field = n;
                return 0;
        case T_STR: {
                char *copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
                free(*(char **)field);
                *(char **)field = copy;
                if (strcmp(name, "sandbox-build-dir") == 0 &&
                    (value[0] != '/' || strstr(value, "..") || strcmp(value, "/") == 0))
                        return cl_errx(err, EINVAL,
                                       "setting '%s': '%s' is not an absolute path below '/'",
                                       name, value);
                return 0;
        }
        case T_LIST:
                r = set_list((char ***)field, (size_t *)((char *)s + st->count_offset), value,
                             strncmp(name, "extra-", 6) == 0);
                return r < 0 ? cl_err(err, -r, "setting '%s'", name) : 0;
        case T_SANDBOX: {
                bool b;
                if (strcmp(value, "relaxed") == 0)
                        s->sandbox = SANDBOX_RELAXED;
                else if (parse_bool(value, &b) == 0)
                        s->sandbox = b ? SANDBOX_ON : SANDBOX_OFF;
                else
                        return cl_errx(err, EINVAL,
                                       "setting 'sandbox': '%s' is not true, false or relaxed",
                                       value);
                return 0;
        }
        case T_FODNET:
                if (strcmp(value, "host") == 0)
                        s->fixed_output_network = FOD_NETWORK_HOST;
                else if (strcmp(value, "none") == 0)
                        s->fixed_output_network = FOD_NETWORK_NONE;
                else
                        return cl_errx(err, EINVAL,
                                       "setting 'fixed-output-network': '%s' is not host or none",
                                       value);
                return 0;
        }
        return -EINVAL;
}

static char *trim(char *p)
{
        while (isspace((unsigned char)*p))
                p++;
        char *e = p + strlen(p);
        while (e > p && isspace((unsigned char)e[-1]))
                *--e = '\0';
        return p;
}

int build_settings_load(struct build_settings *s, const char *path, char **ret_unknown,
                        struct cl_error *err)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return cl_err(err, errno, "read configuration '%s'", path);
        _cleanup_free_ char *line = NULL;
        size_t cap = 0, unknown_len = 0;
        _cleanup_free_ char *unknown = NULL;
        unsigned lineno = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) >= 0) {
                lineno++;
                char *hash = strchr(line, '#');
                if (hash)
                        *hash = '\0';
                char *p = trim(line);
                if (!*p)
                        continue;
                char *eq = strchr(p, '=');
                if (!eq)
                        return cl_errx(err, EINVAL, "configuration '%s' line %u: expected 'name = value'",
                                       path, lineno);
                *eq = '\0';
                char *name = trim(p), *value = trim(eq + 1);
                int r = build_settings_set(s, name, value, err);
                if (r == -ENOENT) {
                        size_t len = strlen(name) + 1;
                        char *bigger = realloc(unknown, unknown_len + len + 1);
                        if (!bigger)
                                return -ENOMEM;
                        unknown = bigger;
                        memcpy(unknown + unknown_len, name, len);
                        unknown_len += len;
                        unknown[unknown_len] = '\0';
                        continue;
                }
                if (r < 0)
                        return cl_err_prefix(err, "configuration '%s' line %u", path, lineno);
        }
        if (ferror(f))
                return cl_err(err, EIO, "read configuration '%s'", path);
        if (ret_unknown)
                *ret_unknown = TAKE_PTR(unknown);
        return 0;
}

char *build_settings_default_path(void)
{
        const char *env = getenv("CLOISTER_CONF");
        char *p = NULL;
        if (env && *env)
                return strdup(env);
        if (geteuid() == 0)
                return strdup("/etc/cloister/cloister.conf");
        const char *xdg = getenv("XDG_CONFIG_HOME");
        const char *home = getenv("HOME");
        if (xdg && *xdg) {
                if (asprintf(&p, "%s/cloister/cloister.conf", xdg) < 0)
                        return NULL;
        } else if (home && *home) {
                if (asprintf(&p, "%s/.config/cloister/cloister.conf", home) < 0)
                        return NULL;
        }
        return p;
}
