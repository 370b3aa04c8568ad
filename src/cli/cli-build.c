/* `cloister build`: build .drv files of the store and, first, the input
 * derivations whose outputs are missing (a depth-first walk of the graph,
 * one build at a time); print the output paths. `cloister log`: print the
 * stored log of a derivation. */
#include "cli/cli-build.h"

#include "base/base-cleanup.h"
#include "base/base-log.h"
#include "build/build-config.h"
#include "build/build-log.h"
#include "build/build-run.h"
#include "cloister/cloister.h"
#include "store/store-add.h"
#include "store/store-db.h"
#include "store/store-drv-add.h"
#include "store/store-drv-hash.h"
#include "store/store-drv-json.h"
#include "store/store-drv.h"
#include "store/store-path.h"
#include "store/store-root.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void build_usage(FILE *f)
{
        fprintf(f, "usage: cloister build [OPTIONS] DRV...\n\n"
                   "Build derivations (.drv store paths) in the sandbox, building missing\n"
                   "input derivations first, and print their output paths.\n\n"
                   "options:\n"
                   "  --store ROOT          physical store root (default: / for root, else\n"
                   "                        $XDG_DATA_HOME/cloister or ~/.local/share/cloister)\n"
                   "  --store-dir DIR       logical store directory (default: /nix/store)\n"
                   "  --option NAME VALUE   set a build setting (nix.conf names)\n"
                   "  --config FILE         read settings from FILE (default: cloister.conf)\n"
                   "  -K, --keep-failed     keep the build directory of a failed build\n"
                   "  --check               build again and compare with the valid outputs\n"
                   "  --timeout S           kill a build after S seconds\n"
                   "  --max-silent-time S   kill a build silent for S seconds\n"
                   "  --cores N             NIX_BUILD_CORES (0: every CPU)\n"
                   "  -j, --max-jobs N      builds at once (builds run one at a time)\n"
                   "  -h, --help            show this help\n\n"
                   "sandbox modes (--option sandbox VALUE):\n"
                   "  true     every build in the sandbox: it sees only its inputs, has no\n"
                   "           network (but fixed-output builds) and cannot reach the host\n"
                   "  false    no namespaces (hosts without them): the builder sees the host;\n"
                   "           as root it runs as a build user and the store directory is\n"
                   "           1735 root:<build group> so it cannot list the store; otherwise\n"
                   "           as the caller; no capabilities, seccomp, and every process it\n"
                   "           leaves is killed; the store's logical directory must be its own\n"
                   "  relaxed  fixed-output and __noChroot derivations as false, the rest in\n"
                   "           the sandbox\n\n"
                   "exit status: 0 built, 100 a build failed, 101 timed out, 102 hash mismatch,\n"
                   "104 not deterministic, 1 other errors, 2 usage. See cloister-build(1).\n");
}

struct sched {
        struct build_ctx *ctx;
        char **done; /* derivations dealt with */
        size_t n_done;
        int worst; /* exit code */
};

static bool sched_done(struct sched *s, const char *path)
{
        for (size_t i = 0; i < s->n_done; i++)
                if (strcmp(s->done[i], path) == 0)
                        return true;
        return false;
}

static void report_failure(const char *drv_path, const struct build_result *res,
                           const struct cl_error *err)
{
        log_error("%s", err->msg);
        if (res->log_tail && res->log_tail[0]) {
                fprintf(stderr, "last log lines:\n");
                for (char *line = res->log_tail, *nl; line; line = nl ? nl + 1 : NULL) {
                        nl = strchr(line, '\n');
                        fprintf(stderr, "> %.*s\n", nl ? (int)(nl - line) : (int)strlen(line),
                                line);
                }
                if (res->log_path)
                        fprintf(stderr, "for the full log, run 'cloister log %s'\n", drv_path);
        }
        if (res->kept_dir)
                fprintf(stderr, "note: keeping build directory '%s'\n", res->kept_dir);
}

static int exit_rank(int code)
{
        return code == 0 ? 0 : code;
}

/* Build path after its missing inputs; returns 0 or the failure's exit code. */
static int sched_build(struct sched *s, const char *path, bool check, unsigned depth)
{
        if (sched_done(s, path))
                return 0;
        char **nd = realloc(s->done, (s->n_done + 1) * sizeof(char *));
        if (!nd)
                return CL_EXIT_FAILURE;
        s->done = nd;
        if (!(s->done[s->n_done] = strdup(path)))
                return CL_EXIT_FAILURE;
        s->n_done++;
        if (depth > 4096) {
                log_error("derivation '%s': input graph too deep", path);
                return CL_EXIT_FAILURE;
        }

        struct cl_error err = {0};
        struct store_db *db = s->ctx->db;
        const char *base = NULL;
        if (store_db_check_path(db, path, &base, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        int v = store_db_is_valid(db, path, &err);
        if (v <= 0) {
                if (v == 0)
                        log_error("derivation '%s' is not valid in the store", path);
                else
                        log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        _cleanup_free_ char *real = store_db_real_path(db, path);
        FILE *f = real ? fopen(real, "re") : NULL;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        if (f) {
                data = malloc(DRV_MAX_SIZE);
                len = data ? fread(data, 1, DRV_MAX_SIZE, f) : 0;
                fclose(f);
        }
        _cleanup_drv_ struct derivation d = {0};
        if (!data || drv_parse(data, len, &d, &err) < 0) {
                log_error("derivation '%s': %s", path, data ? err.msg : "cannot read it");
                return CL_EXIT_FAILURE;
        }
        /* inputs first, when some output they must give is not valid */
        for (size_t i = 0; i < d.n_inputs; i++) {
                int code = sched_build(s, d.inputs[i].path, false, depth + 1);
                if (code != 0)
                        return code;
        }
        struct build_result res = {0};
        if (build_derivation(s->ctx, path, check, &res, &err) < 0) {
                report_failure(path, &res, &err);
                int code = build_status_exit_code(res.status);
                build_result_free(&res);
                return code;
        }
        build_result_free(&res);
        return 0;
}

static int print_outputs(struct store_db *db, const char *path)
{
        _cleanup_free_ char *real = store_db_real_path(db, path);
        FILE *f = real ? fopen(real, "re") : NULL;
        if (!f)
                return -errno;
        _cleanup_free_ char *data = malloc(DRV_MAX_SIZE);
        size_t len = data ? fread(data, 1, DRV_MAX_SIZE, f) : 0;
        fclose(f);
        _cleanup_drv_ struct derivation d = {0};
        if (!data || drv_parse(data, len, &d, NULL) < 0)
                return -EINVAL;
        for (size_t i = 0; i < d.n_outputs; i++)
                printf("%s\n", d.outputs[i].path);
        return 0;
}

/* A derivation JSON file (nix show-derivation's form, or one object without
 * its path as key): add every derivation in it to the store, inputs first,
 * and append the .drv paths to *targets. */
static int add_json(struct store_db *db, const char *root, const char *file, char ***targets,
                    size_t *n_targets)
{
        struct cl_error err = {0};
        FILE *f = fopen(file, "re");
        if (!f) {
                log_error("open '%s': %s", file, strerror(errno));
                return -errno;
        }
        _cleanup_free_ char *data = malloc(DRV_JSON_MAX_SIZE);
        size_t len = data ? fread(data, 1, DRV_JSON_MAX_SIZE, f) : 0;
        fclose(f);
        struct drv_json_item *items = NULL;
        size_t n = 0;
        if (!data || drv_json_parse(data, len, &items, &n, &err) < 0) {
                log_error("'%s': %s", file, data ? err.msg : "out of memory");
                return -EINVAL;
        }
        struct drv_add_options opts = {.root = root,
                                       .store_dir = store_db_store_dir(db),
                                       .register_drv = store_register_drv,
                                       .register_userdata = db};
        int r = 0;
        _cleanup_free_ bool *added = calloc(n + 1, sizeof(bool));
        size_t n_added = 0;
        if (!added)
                r = -ENOMEM;
        while (r == 0 && n_added < n) {
                size_t before = n_added;
                for (size_t i = 0; i < n && r == 0; i++) {
                        if (added[i])
                                continue;
                        bool ready = true;
                        for (size_t k = 0; k < items[i].drv.n_inputs; k++)
                                for (size_t j = 0; j < n; j++)
                                        if (!added[j] && items[j].path &&
                                            strcmp(items[j].path, items[i].drv.inputs[k].path) == 0)
                                                ready = false;
                        if (!ready)
                                continue;
                        char name[STORE_NAME_MAX + 1];
                        const struct drv_env *e = drv_find_env(&items[i].drv, "name");
                        if (items[i].path)
                                r = drv_name_from_path(opts.store_dir, items[i].path, name, &err);
                        else if (e && strlen(e->value) <= STORE_NAME_MAX)
                                strcpy(name, e->value);
                        else
                                r = cl_errx(&err, EINVAL,
                                            "a derivation without its path as key needs an env "
                                            "'name'");
                        char *path = NULL;
                        if (r == 0)
                                r = drv_add(&opts, &items[i].drv, name, &path, &err);
                        if (r < 0) {
                                log_error("'%s': %s", file, err.msg);
                                break;
                        }
                        char **nt = realloc(*targets, (*n_targets + 2) * sizeof(char *));
                        if (!nt) {
                                free(path);
                                r = -ENOMEM;
                                break;
                        }
                        *targets = nt;
                        nt[(*n_targets)++] = path;
                        nt[*n_targets] = NULL;
                        added[i] = true;
                        n_added++;
                }
                if (r == 0 && n_added == before) {
                        log_error("'%s': derivations depend on each other in a cycle", file);
                        r = -ELOOP;
                }
        }
        drv_json_items_free(items, n);
        return r;
}

static int open_store(const char *arg_store, const char *store_dir, struct store_db **ret,
                      char **ret_root)
{
        struct cl_error err = {0};
        _cleanup_free_ char *root = NULL;
        if (arg_store) {
                root = strdup(arg_store);
                if (!root)
                        return -ENOMEM;
        } else if (store_root_default(&root, &err) < 0) {
                return log_cl_error(&err);
        }
        struct store_db_options o = {.root = root, .store_dir = store_dir};
        if (store_db_open(&o, ret, &err) < 0)
                return log_cl_error(&err);
        *ret_root = TAKE_PTR(root);
        return 0;
}

int cli_build_main(int argc, char **argv)
{
        enum {
                OPT_STORE = 0x100,
                OPT_OPTION,
                OPT_CONFIG,
                OPT_CHECK,
                OPT_TIMEOUT,
                OPT_SILENT,
                OPT_CORES,
                OPT_STORE_DIR
        };
        static const struct option opts[] = {
            {"store", required_argument, NULL, OPT_STORE},
            {"store-dir", required_argument, NULL, OPT_STORE_DIR},
            {"option", required_argument, NULL, OPT_OPTION},
            {"config", required_argument, NULL, OPT_CONFIG},
            {"keep-failed", no_argument, NULL, 'K'},
            {"check", no_argument, NULL, OPT_CHECK},
            {"timeout", required_argument, NULL, OPT_TIMEOUT},
            {"max-silent-time", required_argument, NULL, OPT_SILENT},
            {"cores", required_argument, NULL, OPT_CORES},
            {"max-jobs", required_argument, NULL, 'j'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        struct build_settings settings;
        if (build_settings_init(&settings) < 0) {
                log_error("out of memory");
                return CL_EXIT_FAILURE;
        }
        const char *arg_store = NULL, *arg_config = NULL, *arg_store_dir = STORE_DIR_DEFAULT;
        bool arg_check = false;
        struct cl_error err = {0};
        _cleanup_free_ char *conf = NULL, *root = NULL;
        _cleanup_store_db_ struct store_db *db = NULL;
        char **targets = NULL;
        size_t n_targets = 0;
        int code = CL_EXIT_OK;
        /* settings given on the command line win over the file: collect them */
        char **sets = calloc((size_t)argc * 2 + 2, sizeof(char *));
        size_t n_sets = 0;
        if (!sets) {
                build_settings_free(&settings);
                return CL_EXIT_FAILURE;
        }
#define SET(k, v)                                                                                  \
        do {                                                                                       \
                sets[n_sets++] = (char *)(k);                                                      \
                sets[n_sets++] = (char *)(v);                                                      \
        } while (0)
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, "+Kj:h", opts, NULL)) != -1) {
                switch (c) {
                case OPT_STORE:
                        arg_store = optarg;
                        break;
                case OPT_STORE_DIR:
                        arg_store_dir = optarg;
                        break;
                case OPT_OPTION:
                        if (optind >= argc) {
                                log_error("--option needs NAME and VALUE");
                                code = CL_EXIT_USAGE;
                                goto out;
                        }
                        SET(optarg, argv[optind]);
                        optind++;
                        break;
                case OPT_CONFIG:
                        arg_config = optarg;
                        break;
                case 'K':
                        SET("keep-failed", "true");
                        break;
                case OPT_CHECK:
                        arg_check = true;
                        break;
                case OPT_TIMEOUT:
                        SET("timeout", optarg);
                        break;
                case OPT_SILENT:
                        SET("max-silent-time", optarg);
                        break;
                case OPT_CORES:
                        SET("cores", optarg);
                        break;
                case 'j':
                        SET("max-jobs", optarg);
                        break;
                case 'h':
                        build_usage(stdout);
                        goto out;
                default:
                        build_usage(stderr);
                        code = CL_EXIT_USAGE;
                        goto out;
                }
        }
#undef SET
        if (optind >= argc) {
                build_usage(stderr);
                code = CL_EXIT_USAGE;
                goto out;
        }
        conf = arg_config ? strdup(arg_config) : build_settings_default_path();
        if (conf && (arg_config || access(conf, F_OK) == 0)) {
                _cleanup_free_ char *unknown = NULL;
                if (build_settings_load(&settings, conf, &unknown, &err) < 0) {
                        log_cl_error(&err);
                        code = CL_EXIT_USAGE;
                        goto out;
                }
        }
        for (size_t i = 0; i < n_sets; i += 2)
                if (build_settings_set(&settings, sets[i], sets[i + 1], &err) < 0) {
                        log_cl_error(&err);
                        code = CL_EXIT_USAGE;
                        goto out;
                }
        if (store_dir_check(arg_store_dir, &err) < 0) {
                log_cl_error(&err);
                code = CL_EXIT_USAGE;
                goto out;
        }
        for (int i = optind; i < argc; i++) {
                size_t len = strlen(argv[i]);
                bool json = len > 5 && strcmp(argv[i] + len - 5, ".json") == 0;
                if (!json && (!store_path_is_valid(arg_store_dir, argv[i]) || len < 4 ||
                              strcmp(argv[i] + len - 4, ".drv") != 0)) {
                        log_error("'%s' is neither a derivation in the store (a '%s/...drv' "
                                  "path) nor derivation JSON (a '.json' file)",
                                  argv[i], arg_store_dir);
                        code = CL_EXIT_USAGE;
                        goto out;
                }
        }

        if (open_store(arg_store, arg_store_dir, &db, &root) < 0) {
                code = CL_EXIT_FAILURE;
                goto out;
        }
        struct build_ctx ctx = {
            .db = db,
            .root = root,
            .settings = &settings,
            .real_root = store_root_is_real_root(),
            .term_fd = STDERR_FILENO,
            .term_is_tty = isatty(STDERR_FILENO),
        };
        for (int i = optind; i < argc; i++) {
                size_t len = strlen(argv[i]);
                if (len > 5 && strcmp(argv[i] + len - 5, ".json") == 0) {
                        if (add_json(db, root, argv[i], &targets, &n_targets) < 0) {
                                code = CL_EXIT_FAILURE;
                                goto out;
                        }
                        continue;
                }
                char **nt = realloc(targets, (n_targets + 2) * sizeof(char *));
                if (!nt || !(nt[n_targets] = strdup(argv[i]))) {
                        if (nt)
                                targets = nt;
                        code = CL_EXIT_FAILURE;
                        goto out;
                }
                targets = nt;
                targets[++n_targets] = NULL;
        }
        struct sched s = {.ctx = &ctx};
        for (size_t i = 0; i < n_targets; i++) {
                int rc = sched_build(&s, targets[i], arg_check, 0);
                if (exit_rank(rc) > exit_rank(code))
                        code = rc;
                if (rc != 0 && !settings.keep_going)
                        break;
        }
        for (size_t i = 0; i < s.n_done; i++)
                free(s.done[i]);
        free(s.done);
        if (code == 0)
                for (size_t i = 0; i < n_targets; i++)
                        if (print_outputs(db, targets[i]) < 0) {
                                log_error("cannot read derivation '%s'", targets[i]);
                                code = CL_EXIT_FAILURE;
                        }
out:
        for (size_t i = 0; i < n_targets; i++)
                free(targets[i]);
        free(targets);
        free(sets);
        build_settings_free(&settings);
        return code;
}

int cli_log_main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"store", required_argument, NULL, 's'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        const char *arg_store = NULL;
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                if (c == 's') {
                        arg_store = optarg;
                } else {
                        FILE *f = c == 'h' ? stdout : stderr;
                        fprintf(f, "usage: cloister log [--store ROOT] DRV\n\n"
                                   "Print the stored build log of a derivation. See "
                                   "cloister-build(1).\n");
                        return c == 'h' ? CL_EXIT_OK : CL_EXIT_USAGE;
                }
        }
        if (optind + 1 != argc) {
                log_error("'cloister log' takes one derivation");
                return CL_EXIT_USAGE;
        }
        struct cl_error err = {0};
        _cleanup_free_ char *root = NULL;
        if (arg_store) {
                root = strdup(arg_store);
        } else if (store_root_default(&root, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        if (!root)
                return CL_EXIT_FAILURE;
        _cleanup_free_ char *log_dir = NULL;
        size_t len = strlen(root);
        while (len > 0 && root[len - 1] == '/')
                len--;
        if (asprintf(&log_dir, "%.*s/nix/var/log/nix", (int)len, root) < 0)
                return CL_EXIT_FAILURE;
        fflush(stdout);
        if (log_read(log_dir, argv[optind], STDOUT_FILENO, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        return CL_EXIT_OK;
}
