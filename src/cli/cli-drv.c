/* `cloister drv show|add`: a .drv printed as nix show-derivation's JSON, and a
 * derivation JSON (output paths computed when empty) written into a store as
 * a .drv. */
#include "cli/cli-drv.h"

#include "base/base-buf.h"
#include "base/base-cleanup.h"
#include "base/base-fd.h"
#include "base/base-log.h"
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
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *arg_store;
static const char *arg_store_dir = STORE_DIR_DEFAULT;

static void drv_usage(FILE *f)
{
        fprintf(f,
                "usage: cloister drv show [OPTIONS] FILE.drv...\n"
                "       cloister drv add [OPTIONS] FILE.json|-\n\n"
                "show: print derivations as 'nix show-derivation' does (JSON).\n"
                "add:  write a derivation given as JSON into the store as a .drv, computing\n"
                "      its output paths when they are empty, and print its store path.\n\n"
                "options:\n"
                "  --store ROOT       physical store root (default: / for root, else\n"
                "                     $XDG_DATA_HOME/cloister or ~/.local/share/cloister)\n"
                "  --store-dir DIR    logical store directory (default: %s)\n"
                "  -h, --help         show this help\n\n"
                "See cloister-drv(1).\n",
                STORE_DIR_DEFAULT);
}

/* The file to read for FILE: a store path is read below --store ROOT when a
 * root was given; anything else as it is. */
static int read_input(const char *file, size_t max, char **ret, size_t *ret_len)
{
        if (strcmp(file, "-") == 0)
                return fd_read_all(STDIN_FILENO, max, ret, ret_len);
        _cleanup_free_ char *phys = NULL;
        size_t dn = strlen(arg_store_dir);
        if (arg_store && strncmp(file, arg_store_dir, dn) == 0 && file[dn] == '/') {
                if (asprintf(&phys, "%s%s", arg_store, file) < 0)
                        return -ENOMEM;
                file = phys;
        }
        return fd_read_file_at(AT_FDCWD, file, max, 0, ret, ret_len);
}

/* The derivation name for a file: "<name>" of "<hash>-<name>.drv", else the
 * base name without ".drv". */
static int name_for_file(const char *file, char buf[STORE_NAME_MAX + 1])
{
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        struct store_path sp;
        size_t n = strlen(base);
        if (store_path_from_base(base, n, &sp, NULL) == 0)
                base += STORE_HASH_PART_LEN + 1;
        n = strlen(base);
        if (n > 4 && strcmp(base + n - 4, ".drv") == 0)
                n -= 4;
        if (n == 0 || n > STORE_NAME_MAX)
                return -EINVAL;
        memcpy(buf, base, n);
        buf[n] = '\0';
        return store_path_check_name(buf, n, NULL);
}

struct shown {
        char *path;
        struct derivation drv;
};

static int cmp_shown(const void *a, const void *b)
{
        return strcmp(((const struct shown *)a)->path, ((const struct shown *)b)->path);
}

static int drv_show(int n, char **files)
{
        _cleanup_free_ struct shown *items = calloc((size_t)n, sizeof(*items));
        int ret = CL_EXIT_OK;
        int done = 0;
        if (!items) {
                log_error("out of memory");
                return CL_EXIT_FAILURE;
        }
        for (; done < n; done++) {
                const char *file = files[done];
                struct cl_error err = {0};
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                int r = read_input(file, DRV_MAX_SIZE, &data, &len);
                if (r < 0) {
                        log_error("read '%s': %s", file, strerror(-r));
                        ret = CL_EXIT_FAILURE;
                        break;
                }
                char name[STORE_NAME_MAX + 1];
                if (name_for_file(file, name) < 0) {
                        log_error("'%s': cannot tell the derivation name from the file name", file);
                        ret = CL_EXIT_FAILURE;
                        break;
                }
                struct store_path sp;
                if (drv_parse(data, len, &items[done].drv, &err) < 0 ||
                    drv_store_path(arg_store_dir, &items[done].drv, name, data, len, &sp, &err) <
                        0 ||
                    store_path_print(arg_store_dir, &sp, &items[done].path) < 0) {
                        log_error("'%s': %s", file, err.msg);
                        done++;
                        ret = CL_EXIT_FAILURE;
                        break;
                }
        }
        if (ret == CL_EXIT_OK) {
                qsort(items, (size_t)n, sizeof(*items), cmp_shown);
                _cleanup_free_ const char **paths = calloc((size_t)n, sizeof(char *));
                _cleanup_free_ const struct derivation **drvs = calloc((size_t)n, sizeof(*drvs));
                _cleanup_buf_ struct cl_buf out = CL_BUF_INIT;
                if (!paths || !drvs) {
                        log_error("out of memory");
                        ret = CL_EXIT_FAILURE;
                } else {
                        for (int i = 0; i < n; i++) {
                                paths[i] = items[i].path;
                                drvs[i] = &items[i].drv;
                        }
                        if (drv_json_print(paths, drvs, (size_t)n, &out) < 0 ||
                            fd_write_all(STDOUT_FILENO, out.data, out.len) < 0) {
                                log_error("write JSON: %s", strerror(errno));
                                ret = CL_EXIT_FAILURE;
                        }
                }
        }
        for (int i = 0; i < done && i < n; i++) {
                free(items[i].path);
                drv_free(&items[i].drv);
        }
        return ret;
}

/* Index of the item whose key is path, or -1. */
static long find_item(const struct drv_json_item *items, size_t n, const char *path)
{
        for (size_t i = 0; i < n; i++)
                if (items[i].path && strcmp(items[i].path, path) == 0)
                        return (long)i;
        return -1;
}

static int add_one(const struct drv_add_options *opts, struct drv_json_item *it)
{
        struct cl_error err = {0};
        char name[STORE_NAME_MAX + 1];
        const char *what = it->path ? it->path : "derivation";
        if (it->path) {
                if (drv_name_from_path(arg_store_dir, it->path, name, &err) < 0) {
                        log_error("%s", err.msg);
                        return -EINVAL;
                }
        } else {
                const struct drv_env *e = drv_find_env(&it->drv, "name");
                if (!e || strlen(e->value) > STORE_NAME_MAX) {
                        log_error("derivation without a store path key needs a valid env "
                                  "'name'");
                        return -EINVAL;
                }
                strcpy(name, e->value);
        }
        _cleanup_free_ char *path = NULL;
        int r = drv_add(opts, &it->drv, name, &path, &err);
        if (r < 0) {
                log_error("%s: %s", what, err.msg);
                return r;
        }
        if (it->path && strcmp(it->path, path) != 0) {
                log_error("%s: the derivation's store path is '%s'", it->path, path);
                return -EINVAL;
        }
        printf("%s\n", path);
        return 0;
}

struct lazy_db {
        struct store_db_options options;
        struct store_db **db;
};

static int register_lazily(void *userdata, const struct drv_registration *reg,
                           struct cl_error *err)
{
        struct lazy_db *lazy = userdata;
        if (!*lazy->db) {
                int r = store_db_open(&lazy->options, lazy->db, err);
                if (r < 0)
                        return r;
        }
        return store_register_drv(*lazy->db, reg, err);
}

static int drv_add_main(const char *file)
{
        _cleanup_free_ char *root = NULL;
        struct cl_error err = {0};
        if (arg_store) {
                root = strdup(arg_store);
        } else if (store_root_default(&root, &err) < 0) {
                log_error("%s", err.msg);
                return CL_EXIT_FAILURE;
        }
        if (!root) {
                log_error("out of memory");
                return CL_EXIT_FAILURE;
        }
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = read_input(file, DRV_JSON_MAX_SIZE, &data, &len);
        if (r < 0) {
                log_error("read '%s': %s", file, strerror(-r));
                return CL_EXIT_FAILURE;
        }
        struct drv_json_item *items = NULL;
        size_t n = 0;
        if (drv_json_parse(data, len, &items, &n, &err) < 0) {
                log_error("'%s': %s", file, err.msg);
                return CL_EXIT_FAILURE;
        }
        /* every .drv written is registered in the store database, opened on the
         * first registration so that a refused derivation creates nothing */
        _cleanup_store_db_ struct store_db *db = NULL;
        struct lazy_db lazy = {.options = {.root = root, .store_dir = arg_store_dir}, .db = &db};
        struct drv_add_options opts = {.root = root,
                                       .store_dir = arg_store_dir,
                                       .register_drv = register_lazily,
                                       .register_userdata = &lazy};
        /* derivations of one document may depend on each other: add each one
         * after the inputs that the document also holds */
        _cleanup_free_ char *added = calloc(n + 1, 1);
        int ret = added ? CL_EXIT_OK : CL_EXIT_FAILURE;
        size_t n_added = 0;
        while (ret == CL_EXIT_OK && n_added < n) {
                size_t before = n_added;
                for (size_t i = 0; i < n && ret == CL_EXIT_OK; i++) {
                        if (added[i])
                                continue;
                        bool ready = true;
                        for (size_t k = 0; k < items[i].drv.n_inputs; k++) {
                                long j = find_item(items, n, items[i].drv.inputs[k].path);
                                if (j >= 0 && !added[j])
                                        ready = false;
                        }
                        if (!ready)
                                continue;
                        if (add_one(&opts, &items[i]) < 0)
                                ret = CL_EXIT_FAILURE;
                        added[i] = 1;
                        n_added++;
                }
                if (ret == CL_EXIT_OK && n_added == before) {
                        log_error("'%s': the derivations depend on each other in a cycle", file);
                        ret = CL_EXIT_FAILURE;
                }
        }
        drv_json_items_free(items, n);
        if (fflush(stdout) != 0) {
                log_error("write: %s", strerror(errno));
                ret = CL_EXIT_FAILURE;
        }
        return ret;
}

int cli_drv_main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"store", required_argument, NULL, 's'},
            {"store-dir", required_argument, NULL, 'd'},
            {"help", no_argument, NULL, 'h'},
            {0},
        };
        if (argc < 2) {
                drv_usage(stderr);
                return CL_EXIT_USAGE;
        }
        const char *verb = argv[1];
        if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
                drv_usage(stdout);
                return CL_EXIT_OK;
        }
        if (strcmp(verb, "show") != 0 && strcmp(verb, "add") != 0) {
                log_error("unknown drv command '%s' (see 'cloister drv --help')", verb);
                return CL_EXIT_USAGE;
        }
        argc--, argv++;
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 's':
                        arg_store = optarg;
                        break;
                case 'd':
                        arg_store_dir = optarg;
                        break;
                case 'h':
                        drv_usage(stdout);
                        return CL_EXIT_OK;
                default:
                        return CL_EXIT_USAGE;
                }
        }
        struct cl_error err = {0};
        if (store_dir_check(arg_store_dir, &err) < 0) {
                log_error("%s", err.msg);
                return CL_EXIT_USAGE;
        }
        if (arg_store && arg_store[0] == '\0') {
                log_error("--store needs a directory");
                return CL_EXIT_USAGE;
        }
        int nargs = argc - optind;
        if (strcmp(verb, "show") == 0) {
                if (nargs < 1) {
                        log_error("drv show needs at least one FILE.drv");
                        return CL_EXIT_USAGE;
                }
                return drv_show(nargs, argv + optind);
        }
        if (nargs != 1) {
                log_error("drv add needs exactly one FILE.json (or '-')");
                return CL_EXIT_USAGE;
        }
        return drv_add_main(argv[optind]);
}
