/* `cloister store ...`: a small table of sub-subcommands, and the NAR ones:
 * dump (nix-store --dump), restore (nix-store --restore) and hash (nix-hash).
 * Other store commands add their entries to the table. */
#include "cli/cli-store.h"

#include "base/base-cleanup.h"
#include "base/base-log.h"
#include "cli/cli-main.h"
#include "cli/cli-store-db.h"
#include "cloister/cloister.h"
#include "store/store-hash.h"
#include "store/store-nar.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int store_dump_main(int argc, char **argv);
static int store_restore_main(int argc, char **argv);
static int store_hash_main(int argc, char **argv);

static const struct cli_command store_commands[] = {
        {"dump", store_dump_main, "write a path as a NAR to standard output"},
        {"restore", store_restore_main, "unpack a NAR from standard input into a new path"},
        {"hash", store_hash_main, "print the NAR hash (or flat hash) of paths"},
        {"add", cli_store_add_main, "copy paths into the store (nix-store --add, --add-fixed)"},
        {"query", cli_store_query_main, "references, referrers, closure, hash, size, deriver"},
        {"verify", cli_store_verify_main, "check that valid paths exist and are unmodified"},
        {"import", cli_store_import_main, "add the paths of a 'nix-store --export' stream"},
        {"export", cli_store_export_main, "write paths in the format of 'nix-store --export'"},
        {"delete", cli_store_delete_main, "delete paths that nothing refers to"},
        {NULL, NULL, NULL},
};

static void store_usage(FILE *f)
{
        fprintf(f, "usage: cloister store COMMAND [OPTIONS] [ARGS]\n\n"
                   "Work with Nix's store formats.\n\ncommands:\n");
        for (const struct cli_command *c = store_commands; c->name; c++)
                fprintf(f, "  %-10s %s\n", c->name, c->summary);
        fprintf(f, "\n'cloister store COMMAND --help' describes a command; see also "
                   "cloister-store(1).\n");
}

int cli_store_main(int argc, char **argv)
{
        if (argc < 2) {
                store_usage(stderr);
                return CL_EXIT_USAGE;
        }
        const char *name = argv[1];
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
                store_usage(stdout);
                return CL_EXIT_OK;
        }
        for (const struct cli_command *c = store_commands; c->name; c++)
                if (strcmp(c->name, name) == 0)
                        return c->main(argc - 1, argv + 1);
        log_error("unknown store command '%s' (see 'cloister store --help')", name);
        return CL_EXIT_USAGE;
}

/* Parse options that are only --help; returns -1 to go on, or an exit code. */
static int help_only(int argc, char **argv, const char *usage)
{
        static const struct option opts[] = {
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h') {
                        fputs(usage, stdout);
                        return CL_EXIT_OK;
                }
                fputs(usage, stderr);
                return CL_EXIT_USAGE;
        }
        return -1;
}

static const char dump_usage[] =
        "usage: cloister store dump PATH > FILE.nar\n\n"
        "Write PATH (a file, directory or symlink, which is not followed) as a NAR,\n"
        "byte for byte as 'nix-store --dump' does, to standard output.\n\n"
        "  -h, --help   show this help\n";

static int store_dump_main(int argc, char **argv)
{
        int r = help_only(argc, argv, dump_usage);
        if (r >= 0)
                return r;
        if (argc - optind != 1) {
                fputs(dump_usage, stderr);
                return CL_EXIT_USAGE;
        }
        struct cl_error err = {0};
        int out = STDOUT_FILENO;
        if (nar_dump_path(argv[optind], nar_write_fd, &out, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        return CL_EXIT_OK;
}

static const char restore_usage[] =
        "usage: cloister store restore PATH < FILE.nar\n\n"
        "Unpack the NAR on standard input as PATH, which must not exist, as\n"
        "'nix-store --restore' does. The NAR is checked as it is read; PATH appears\n"
        "only when all of it was valid, and nothing is left behind otherwise.\n\n"
        "  -h, --help   show this help\n";

static int store_restore_main(int argc, char **argv)
{
        int r = help_only(argc, argv, restore_usage);
        if (r >= 0)
                return r;
        if (argc - optind != 1) {
                fputs(restore_usage, stderr);
                return CL_EXIT_USAGE;
        }
        const char *path = argv[optind];
        _cleanup_free_ struct nar_fd_reader *reader = malloc(sizeof(*reader));
        if (!reader) {
                log_error("out of memory");
                return CL_EXIT_FAILURE;
        }
        nar_fd_reader_init(reader, STDIN_FILENO);
        struct nar_source src = {.read = nar_fd_reader_read, .userdata = reader, .whole = true};
        struct cl_error err = {0};
        uint64_t size = 0;
        if (nar_restore_path(path, &src, &size, &err) < 0) {
                log_cl_error(&err);
                return CL_EXIT_FAILURE;
        }
        return CL_EXIT_OK;
}

static const char hash_usage[] =
        "usage: cloister store hash [--type md5|sha1|sha256|sha512] [--base16|--base32|--sri]\n"
        "                           [--flat] PATH...\n\n"
        "Print a hash of each PATH, one per line, as 'nix-hash' does: by default the\n"
        "MD5 hash of its NAR serialisation, in base-16.\n\n"
        "  --type ALGO  md5 (the default, as nix-hash), sha1, sha256 or sha512\n"
        "  --base16     print in base-16 (the default)\n"
        "  --base32     print in Nix's base-32\n"
        "  --sri        print as an SRI hash, ALGO-BASE64\n"
        "  --flat       hash the contents of a regular file, not its NAR\n"
        "  -h, --help   show this help\n";

static int hash_flat(const char *path, enum hash_type type, struct hash *ret,
                     struct cl_error *err)
{
        /* as nix-hash --flat: the file's bytes, following a symlink */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return cl_err(err, errno, "open '%s'", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return cl_err(err, errno, "stat '%s'", path);
        if (!S_ISREG(st.st_mode))
                return cl_errx(err, EINVAL, "'%s' is not a regular file", path);
        _cleanup_hash_ctx_ struct hash_ctx ctx = HASH_CTX_INIT;
        int r = hash_init(&ctx, type);
        if (r < 0)
                return cl_err(err, -r, "hash '%s'", path);
        _cleanup_free_ unsigned char *buf = malloc(NAR_CHUNK);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf, NAR_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return cl_err(err, errno, "read '%s'", path);
                if (n == 0)
                        break;
                r = hash_update(&ctx, buf, (size_t)n);
                if (r < 0)
                        return cl_err(err, -r, "hash '%s'", path);
        }
        r = hash_final(&ctx, ret);
        return r < 0 ? cl_err(err, -r, "hash '%s'", path) : 0;
}

static int hash_nar(const char *path, enum hash_type type, struct hash *ret, struct cl_error *err)
{
        struct nar_hasher h;
        int r = nar_hasher_init(&h, type, NULL);
        if (r >= 0)
                r = nar_dump_path(path, nar_hasher_write, &h, err);
        else
                cl_err(err, -r, "hash '%s'", path);
        if (r >= 0)
                r = nar_hasher_final(&h, ret);
        nar_hasher_free(&h);
        return r;
}

static int store_hash_main(int argc, char **argv)
{
        enum { OPT_TYPE = 0x100, OPT_BASE16, OPT_BASE32, OPT_SRI, OPT_FLAT };
        static const struct option opts[] = {
                {"type", required_argument, NULL, OPT_TYPE},
                {"base16", no_argument, NULL, OPT_BASE16},
                {"base32", no_argument, NULL, OPT_BASE32},
                {"sri", no_argument, NULL, OPT_SRI},
                {"flat", no_argument, NULL, OPT_FLAT},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        enum hash_type type = HASH_MD5;
        enum hash_encoding enc = HASH_BASE16;
        int flat = 0, c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        fputs(hash_usage, stdout);
                        return CL_EXIT_OK;
                case OPT_TYPE:
                        if (hash_type_from_name(optarg, strlen(optarg), &type) < 0) {
                                log_error("unknown hash type '%s' (md5, sha1, sha256 or sha512)",
                                          optarg);
                                return CL_EXIT_USAGE;
                        }
                        break;
                case OPT_BASE16:
                        enc = HASH_BASE16;
                        break;
                case OPT_BASE32:
                        enc = HASH_NIX32;
                        break;
                case OPT_SRI:
                        enc = HASH_SRI;
                        break;
                case OPT_FLAT:
                        flat = 1;
                        break;
                default:
                        fputs(hash_usage, stderr);
                        return CL_EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                fputs(hash_usage, stderr);
                return CL_EXIT_USAGE;
        }
        for (int i = optind; i < argc; i++) {
                struct cl_error err = {0};
                struct hash h;
                int r = flat ? hash_flat(argv[i], type, &h, &err)
                             : hash_nar(argv[i], type, &h, &err);
                if (r < 0) {
                        log_cl_error(&err);
                        return CL_EXIT_FAILURE;
                }
                char buf[HASH_STR_MAX];
                printf("%s\n", hash_print(&h, enc, false, buf));
        }
        if (fflush(stdout) != 0) {
                log_error("write standard output: %s", strerror(errno));
                return CL_EXIT_FAILURE;
        }
        return CL_EXIT_OK;
}
