/* The `cloister store` commands that use the store database: add, query,
 * verify, import, export and delete. Each takes --store ROOT (the physical
 * root) and --store-dir DIR (the logical store directory), and prints what
 * the matching nix-store operation prints. */
#include "cli/cli-store-db.h"

#include "base/base-strv.h"

#include "base/base-cleanup.h"
#include "base/base-log.h"
#include "cloister/cloister.h"
#include "store/store-add.h"
#include "store/store-db.h"
#include "store/store-export.h"
#include "store/store-gc.h"
#include "store/store-root.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STORE_OPTS_HELP                                                                            \
        "  --store ROOT      the store's physical root (default: / as root, else\n"                \
        "                    $XDG_DATA_HOME/cloister or ~/.local/share/cloister)\n"                \
        "  --store-dir DIR   the logical store directory (default: /nix/store)\n"                  \
        "  --timeout SECS    how long to wait for a locked store (default: 60)\n"                  \
        "  -h, --help        show this help\n"

enum {
        OPT_STORE = 0x100,
        OPT_STORE_DIR,
        OPT_TIMEOUT,
        OPT_FIRST_OWN, /* each command's own options start here */
};

struct common {
        char *root;
        const char *store_dir;
        long timeout_ms;
};

/* Handle an option every command shares; 1 when it was one, 0 when not, -1 on
 * a bad value (already reported). */
static int common_opt(struct common *c, int opt, const char *arg)
{
        switch (opt) {
        case OPT_STORE:
                free(c->root);
                c->root = strdup(arg);
                if (!c->root) {
                        log_error("out of memory");
                        return -1;
                }
                return 1;
        case OPT_STORE_DIR:
                c->store_dir = arg;
                return 1;
        case OPT_TIMEOUT: {
                char *end = NULL;
                double s = strtod(arg, &end);
                if (!end || *end || s <= 0 || s > 86400 * 365) {
                        log_error("invalid timeout '%s' (seconds, more than 0)", arg);
                        return -1;
                }
                c->timeout_ms = (long)(s * 1000);
                if (c->timeout_ms == 0)
                        c->timeout_ms = 1;
                return 1;
        }
        }
        return 0;
}

static int open_db(struct common *c, struct store_db **ret)
{
        struct cl_error err = {0};
        if (!c->root && store_root_default(&c->root, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        struct store_db_options o = {
            .root = c->root, .store_dir = c->store_dir, .timeout_ms = c->timeout_ms};
        if (store_db_open(&o, ret, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        return 0;
}

static void common_free(struct common *c)
{
        free(c->root);
}
#define _cleanup_common_ __attribute__((cleanup(common_free)))

static int out_of_memory(void)
{
        log_error("out of memory");
        return CL_EXIT_FAILURE;
}

static int usage_error(const char *usage)
{
        fputs(usage, stderr);
        return CL_EXIT_USAGE;
}

static int flush_stdout(void)
{
        if (fflush(stdout) != 0) {
                log_error("write standard output: %s", strerror(errno));
                return CL_EXIT_FAILURE;
        }
        return CL_EXIT_OK;
}

/* A store path argument: "<store-dir>/<base>" or below it (cut to the object,
 * as nix-store does), or a path under the physical store directory. */
static int arg_path(struct store_db *db, const char *arg, char **ret)
{
        const char *sd = store_db_store_dir(db);
        _cleanup_free_ char *real = store_db_real_path(db, "");
        size_t sl = strlen(sd), rl = real ? strlen(real) : 0;
        const char *rest = NULL;
        if (strncmp(arg, sd, sl) == 0 && arg[sl] == '/')
                rest = arg + sl + 1;
        else if (real && rl > sl && strncmp(arg, real, rl) == 0 && arg[rl] == '/')
                rest = arg + rl + 1;
        if (!rest || !*rest) {
                log_error("path '%s' is not in the store '%s'", arg, sd);
                return CL_EXIT_FAILURE;
        }
        size_t n = strcspn(rest, "/");
        char *p = NULL;
        if (asprintf(&p, "%s/%.*s", sd, (int)n, rest) < 0) {
                log_error("out of memory");
                return CL_EXIT_FAILURE;
        }
        struct cl_error err = {0};
        if (store_db_check_path(db, p, NULL, &err) < 0) {
                free(p);
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        *ret = p;
        return 0;
}

/* ---- add ---- */

static const char add_usage[] =
    "usage: cloister store add [--fixed ALGO] [--recursive] [OPTIONS] PATH...\n\n"
    "Copy each PATH into the store and print its store path, as 'nix-store --add'\n"
    "does (the NAR serialisation hashed with sha256, a 'source' path). With\n"
    "--fixed ALGO, as 'nix-store --add-fixed ALGO': the file's contents hashed\n"
    "with ALGO (md5, sha1, sha256 or sha512), or with --recursive its NAR. A path\n"
    "already in the store is not copied again.\n\n"
    "  --fixed ALGO      a fixed-output path hashed with ALGO\n"
    "  --recursive       with --fixed: hash the NAR, not the file's contents\n" STORE_OPTS_HELP;

int cli_store_add_main(int argc, char **argv)
{
        enum { OPT_FIXED = OPT_FIRST_OWN, OPT_RECURSIVE };
        static const struct option opts[] = {
            {"fixed", required_argument, NULL, OPT_FIXED},
            {"recursive", no_argument, NULL, OPT_RECURSIVE},
            {"store", required_argument, NULL, OPT_STORE},
            {"store-dir", required_argument, NULL, OPT_STORE_DIR},
            {"timeout", required_argument, NULL, OPT_TIMEOUT},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        _cleanup_common_ struct common c = {0};
        enum hash_type algo = HASH_SHA256;
        bool fixed = false, recursive = false;
        int o;
        while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                int k = common_opt(&c, o, optarg);
                if (k < 0)
                        return CL_EXIT_USAGE;
                if (k > 0)
                        continue;
                switch (o) {
                case 'h':
                        fputs(add_usage, stdout);
                        return CL_EXIT_OK;
                case OPT_FIXED:
                        fixed = true;
                        if (hash_type_from_name(optarg, strlen(optarg), &algo) < 0) {
                                log_error("unknown hash algorithm '%s' (md5, sha1, sha256 or "
                                          "sha512)",
                                          optarg);
                                return CL_EXIT_USAGE;
                        }
                        break;
                case OPT_RECURSIVE:
                        recursive = true;
                        break;
                default:
                        return usage_error(add_usage);
                }
        }
        if (optind >= argc)
                return usage_error(add_usage);
        if (recursive && !fixed) {
                log_error("--recursive needs --fixed ALGO");
                return CL_EXIT_USAGE;
        }
        _cleanup_store_db_ struct store_db *db = NULL;
        int r = open_db(&c, &db);
        if (r)
                return r;
        enum store_ca_method method = fixed && !recursive ? STORE_CA_FLAT : STORE_CA_RECURSIVE;
        for (int i = optind; i < argc; i++) {
                struct cl_error err = {0};
                _cleanup_free_ char *path = NULL;
                if (store_add_path(db, argv[i], method, algo, &path, &err) < 0) {
                        log_cl_error(&err);
                        return CL_EXIT_FAILURE;
                }
                printf("%s\n", path);
        }
        return flush_stdout();
}

/* ---- query ---- */

static const char query_usage[] =
    "usage: cloister store query QUERY [OPTIONS] PATH...\n\n"
    "Answer a question about store paths from the store database, printing what\n"
    "'nix-store --query' prints. QUERY is one of:\n\n"
    "  --references      the paths each PATH refers to\n"
    "  --referrers       the valid paths that refer to each PATH\n"
    "  --requisites, -R  the closure of each PATH (PATH included)\n"
    "  --hash            the NAR hash of each PATH, as sha256:<base-32>\n"
    "  --size            the NAR size of each PATH in bytes\n"
    "  --deriver         the .drv each PATH was built by, or 'unknown-deriver'\n"
    "  --tree            the references of each PATH as a tree\n\n"
    "The lists are printed dependencies first, one path a line.\n\n" STORE_OPTS_HELP;

enum query_kind {
        Q_NONE,
        Q_REFERENCES,
        Q_REFERRERS,
        Q_REQUISITES,
        Q_HASH,
        Q_SIZE,
        Q_DERIVER,
        Q_TREE
};


/* Nix's printTree: each path, then its references (dependencies first) drawn
 * with box characters; a path seen before is marked "[...]". */
/* The path arguments, each one valid in the store, into set (once each);
 * returns 0 or the exit code after saying what is wrong. */
static int valid_path_args(struct store_db *db, int n, char **args, struct cl_strv *set)
{
        struct cl_error err = {0};
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *p = NULL;
                int r = arg_path(db, args[i], &p);
                if (r)
                        return r;
                if (store_db_is_valid(db, p, &err) != 1) {
                        if (!err.msg[0])
                                cl_errx(&err, ENOENT, "path '%s' is not valid", p);
                        log_cl_error(&err);
                        return CL_EXIT_FAILURE;
                }
                if (cl_strv_push_unique(set, p) < 0)
                        return out_of_memory();
        }
        return 0;
}

static int print_tree(struct store_db *db, const char *path, const char *first_pad,
                      const char *tail_pad, struct cl_strv *done, struct cl_error *err)
{
        for (size_t i = 0; i < done->n; i++)
                if (strcmp(done->v[i], path) == 0) {
                        printf("%s%s [...]\n", first_pad, path);
                        return 0;
                }
        if (cl_strv_push_unique(done, path) < 0)
                return cl_err(err, ENOMEM, "tree");
        printf("%s%s\n", first_pad, path);
        _cleanup_strv_ char **refs = NULL;
        int r = store_db_references(db, path, &refs, err);
        if (r < 0)
                return r;
        size_t n = store_strv_len(refs);
        r = store_db_topo_sort(db, refs, n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                bool last = i + 1 == n;
                _cleanup_free_ char *fp = NULL, *tp = NULL;
                if (asprintf(&fp, "%s%s", tail_pad,
                             last ? "\u2514\u2500\u2500\u2500" : "\u251c\u2500\u2500\u2500") < 0 ||
                    asprintf(&tp, "%s%s", tail_pad, last ? "    " : "\u2502   ") < 0)
                        return cl_err(err, ENOMEM, "tree");
                r = print_tree(db, refs[i], fp, tp, done, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cli_store_query_main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"references", no_argument, NULL, Q_REFERENCES},
            {"referrers", no_argument, NULL, Q_REFERRERS},
            {"requisites", no_argument, NULL, Q_REQUISITES},
            {"hash", no_argument, NULL, Q_HASH},
            {"size", no_argument, NULL, Q_SIZE},
            {"deriver", no_argument, NULL, Q_DERIVER},
            {"tree", no_argument, NULL, Q_TREE},
            {"store", required_argument, NULL, OPT_STORE},
            {"store-dir", required_argument, NULL, OPT_STORE_DIR},
            {"timeout", required_argument, NULL, OPT_TIMEOUT},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        _cleanup_common_ struct common c = {0};
        enum query_kind q = Q_NONE;
        int o;
        while ((o = getopt_long(argc, argv, "+hR", opts, NULL)) != -1) {
                int k = common_opt(&c, o, optarg);
                if (k < 0)
                        return CL_EXIT_USAGE;
                if (k > 0)
                        continue;
                if (o == 'h') {
                        fputs(query_usage, stdout);
                        return CL_EXIT_OK;
                }
                if (o == 'R')
                        o = Q_REQUISITES;
                if (o < Q_REFERENCES || o > Q_TREE)
                        return usage_error(query_usage);
                if (q != Q_NONE && q != (enum query_kind)o) {
                        log_error("only one query at a time");
                        return CL_EXIT_USAGE;
                }
                q = (enum query_kind)o;
        }
        if (q == Q_NONE || optind >= argc)
                return usage_error(query_usage);
        _cleanup_store_db_ struct store_db *db = NULL;
        int r = open_db(&c, &db);
        if (r)
                return r;
        struct cl_error err = {0};
        _cleanup_cl_strv_ struct cl_strv args = {0};
        r = valid_path_args(db, argc - optind, argv + optind, &args);
        if (r)
                return r;
        if (q == Q_TREE) {
                _cleanup_cl_strv_ struct cl_strv done = {0};
                for (size_t i = 0; i < args.n; i++)
                        if (print_tree(db, args.v[i], "", "", &done, &err) < 0) {
                                log_cl_error(&err);
                                return CL_EXIT_FAILURE;
                        }
                return flush_stdout();
        }
        if (q == Q_HASH || q == Q_SIZE || q == Q_DERIVER) {
                /* one line per argument, in argument order */
                for (int i = optind; i < argc; i++) {
                        _cleanup_free_ char *p = NULL;
                        r = arg_path(db, argv[i], &p);
                        if (r)
                                return r;
                        _cleanup_path_info_ struct store_path_info *info = NULL;
                        if (store_db_query_info(db, p, &info, &err) < 0) {
                                log_cl_error(&err);
                                return CL_EXIT_FAILURE;
                        }
                        if (q == Q_SIZE) {
                                printf("%llu\n", (unsigned long long)info->nar_size);
                        } else if (q == Q_DERIVER) {
                                printf("%s\n", info->deriver ? info->deriver : "unknown-deriver");
                        } else {
                                struct hash h;
                                char buf[HASH_STR_MAX];
                                if (hash_parse(info->nar_hash, strlen(info->nar_hash), HASH_SHA256,
                                               &h, &err) < 0) {
                                        cl_err_prefix(&err, "hash of '%s'", p);
                                        log_cl_error(&err);
                                        return CL_EXIT_FAILURE;
                                }
                                printf("%s\n", hash_print(&h, HASH_NIX32, true, buf));
                        }
                }
                return flush_stdout();
        }
        _cleanup_cl_strv_ struct cl_strv out = {0};
        if (q == Q_REQUISITES) {
                _cleanup_strv_ char **req = NULL;
                if (store_db_requisites(db, args.v, args.n, &req, &err) < 0) {
                        log_cl_error(&err);
                        return CL_EXIT_FAILURE;
                }
                for (char **p = req; *p; p++)
                        if (cl_strv_push_unique(&out, *p) < 0)
                                return out_of_memory();
        } else {
                for (size_t i = 0; i < args.n; i++) {
                        _cleanup_strv_ char **list = NULL;
                        r = q == Q_REFERENCES ? store_db_references(db, args.v[i], &list, &err)
                                              : store_db_referrers(db, args.v[i], &list, &err);
                        if (r < 0) {
                                log_cl_error(&err);
                                return CL_EXIT_FAILURE;
                        }
                        for (char **p = list; *p; p++)
                                if (cl_strv_push_unique(&out, *p) < 0)
                                        return out_of_memory();
                }
        }
        if (out.n > 0 && store_db_topo_sort(db, out.v, out.n, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        for (size_t i = 0; i < out.n; i++)
                printf("%s\n", out.v[i]);
        return flush_stdout();
}

/* ---- verify ---- */

static const char verify_usage[] =
    "usage: cloister store verify [--check-contents] [OPTIONS]\n\n"
    "Check that every valid path in the store database exists, as 'nix-store\n"
    "--verify' does; with --check-contents also that its NAR hash and size still\n"
    "match the database. Each problem is printed; the exit status is 1 if there\n"
    "was any. Nothing is changed.\n\n"
    "  --check-contents  rehash every valid path\n" STORE_OPTS_HELP;

static void report_problem(void *userdata, const char *msg)
{
        (void)userdata;
        log_error("%s", msg);
}

int cli_store_verify_main(int argc, char **argv)
{
        enum { OPT_CHECK = OPT_FIRST_OWN };
        static const struct option opts[] = {
            {"check-contents", no_argument, NULL, OPT_CHECK},
            {"store", required_argument, NULL, OPT_STORE},
            {"store-dir", required_argument, NULL, OPT_STORE_DIR},
            {"timeout", required_argument, NULL, OPT_TIMEOUT},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        _cleanup_common_ struct common c = {0};
        bool check = false;
        int o;
        while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                int k = common_opt(&c, o, optarg);
                if (k < 0)
                        return CL_EXIT_USAGE;
                if (k > 0)
                        continue;
                if (o == 'h') {
                        fputs(verify_usage, stdout);
                        return CL_EXIT_OK;
                }
                if (o != OPT_CHECK)
                        return usage_error(verify_usage);
                check = true;
        }
        if (optind != argc)
                return usage_error(verify_usage);
        _cleanup_store_db_ struct store_db *db = NULL;
        int r = open_db(&c, &db);
        if (r)
                return r;
        struct cl_error err = {0};
        int problems = store_verify(db, check, report_problem, NULL, &err);
        if (problems < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        if (problems > 0) {
                log_error("%d problem%s found in the store", problems, problems == 1 ? "" : "s");
                return CL_EXIT_FAILURE;
        }
        return CL_EXIT_OK;
}

/* ---- import, export, delete ---- */

static const char import_usage[] =
    "usage: cloister store import [OPTIONS] < FILE\n\n"
    "Add the paths in a 'nix-store --export' stream on standard input and print\n"
    "them, as 'nix-store --import' does. Every NAR is checked; references must be\n"
    "valid or in the stream; the paths are registered together only once the\n"
    "whole stream was read, so a broken stream adds nothing.\n\n" STORE_OPTS_HELP;

static const char export_usage[] =
    "usage: cloister store export [OPTIONS] PATH... > FILE\n\n"
    "Write the given valid paths (not their closure), dependencies first, in the\n"
    "format of 'nix-store --export' to standard output.\n\n" STORE_OPTS_HELP;

static const char delete_usage[] =
    "usage: cloister store delete [OPTIONS] PATH...\n\n"
    "Delete store paths: remove them from the database and their files from the\n"
    "store, as nix-store --delete does. A path that is still alive is refused,\n"
    "and nothing is deleted then: one that another valid path (not in the same\n"
    "command) refers to, a GC root (gcroots, profiles, a build's result link),\n"
    "a path a root needs, a temporary root of a running process, or a path a\n"
    "running process uses.\n\n" STORE_OPTS_HELP;

/* Options for the commands that have no options of their own. */
static int parse_plain(int argc, char **argv, const char *usage, struct common *c)
{
        static const struct option opts[] = {
            {"store", required_argument, NULL, OPT_STORE},
            {"store-dir", required_argument, NULL, OPT_STORE_DIR},
            {"timeout", required_argument, NULL, OPT_TIMEOUT},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        int o;
        while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                int k = common_opt(c, o, optarg);
                if (k < 0)
                        return CL_EXIT_USAGE;
                if (k > 0)
                        continue;
                if (o == 'h') {
                        fputs(usage, stdout);
                        return CL_EXIT_OK;
                }
                return usage_error(usage);
        }
        return -1;
}

int cli_store_import_main(int argc, char **argv)
{
        _cleanup_common_ struct common c = {0};
        int r = parse_plain(argc, argv, import_usage, &c);
        if (r >= 0)
                return r;
        if (optind != argc)
                return usage_error(import_usage);
        _cleanup_store_db_ struct store_db *db = NULL;
        r = open_db(&c, &db);
        if (r)
                return r;
        struct cl_error err = {0};
        _cleanup_strv_ char **paths = NULL;
        if (store_import(db, STDIN_FILENO, &paths, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        for (char **p = paths; *p; p++)
                printf("%s\n", *p);
        return flush_stdout();
}

int cli_store_export_main(int argc, char **argv)
{
        _cleanup_common_ struct common c = {0};
        int r = parse_plain(argc, argv, export_usage, &c);
        if (r >= 0)
                return r;
        if (optind >= argc)
                return usage_error(export_usage);
        if (isatty(STDOUT_FILENO)) {
                log_error("refusing to write an export stream to a terminal");
                return CL_EXIT_USAGE;
        }
        _cleanup_store_db_ struct store_db *db = NULL;
        r = open_db(&c, &db);
        if (r)
                return r;
        _cleanup_cl_strv_ struct cl_strv paths = {0};
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *p = NULL;
                r = arg_path(db, argv[i], &p);
                if (r)
                        return r;
                if (cl_strv_push_unique(&paths, p) < 0)
                        return out_of_memory();
        }
        struct cl_error err = {0};
        if (store_export(db, paths.v, paths.n, STDOUT_FILENO, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        return CL_EXIT_OK;
}

int cli_store_delete_main(int argc, char **argv)
{
        _cleanup_common_ struct common c = {0};
        int r = parse_plain(argc, argv, delete_usage, &c);
        if (r >= 0)
                return r;
        if (optind >= argc)
                return usage_error(delete_usage);
        _cleanup_store_db_ struct store_db *db = NULL;
        r = open_db(&c, &db);
        if (r)
                return r;
        struct cl_error err = {0};
        _cleanup_cl_strv_ struct cl_strv paths = {0};
        r = valid_path_args(db, argc - optind, argv + optind, &paths);
        if (r)
                return r;
        /* as Nix's collector: gc.lock held, new temporary roots taken over
         * its socket, and a path that is still alive refused */
        _cleanup_store_gc_ struct store_gc *gc = NULL;
        if (store_gc_begin(db, &gc, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        /* referrers first, so that paths given together can go together; check
         * every path before deleting any */
        if (store_db_topo_sort(db, paths.v, paths.n, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        for (size_t i = 0; i < paths.n; i++)
                if (store_gc_check(gc, paths.v, paths.n, paths.v[i], &err) < 0) {
                        log_cl_error(&err);
                        return CL_EXIT_FAILURE;
                }
        for (size_t i = paths.n; i-- > 0;) {
                /* a root sent since is answered only after its path is gone,
                 * as Nix's collector does */
                if (store_gc_serve(gc, &err) < 0 ||
                    store_gc_check(gc, paths.v, i + 1, paths.v[i], &err) < 0 ||
                    store_delete_path(db, paths.v[i], &err) < 0) {
                        log_cl_error(&err);
                        return CL_EXIT_FAILURE;
                }
        }
        return CL_EXIT_OK;
}
