/* `cloister drv show|add` from the outside: help and usage errors against the
 * man page, malformed input (byte offset, exit 1), and what add leaves in a
 * store: complete read-only files with mtime 1 or nothing, never through a
 * planted symlink, never over other bytes, nothing for a refused derivation;
 * the default store root of a user; and the registration hook store-db uses. */
#include "tap.h"

#include "base/base-cleanup.h"
#include "store/store-drv-add.h"
#include "store/store-drv-json.h"
#include "store/store-hash.h"
#include "store/store-path.h"
#include "store/store-root.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HELLO_JSON                                                                                 \
        "{\"outputs\": {\"out\": {}}, \"system\": \"x86_64-linux\", \"builder\": \"/bin/sh\", "    \
        "\"args\": [\"-c\", \"echo hi > $out\"], \"env\": {\"builder\": \"/bin/sh\", \"name\": "   \
        "\"hello\", \"system\": \"x86_64-linux\"}}"
#define HELLO_DRV "76w21n1f03fs5kw8fnffphx7qrqffw6r-hello.drv"

/* Run `sh -c script sh CLOISTER a1 a2` with stdin; returns the exit code. */
static int run(const char *script, const char *a1, const char *a2, const char *in, char **out,
               char **err)
{
        _cleanup_free_ char *bin = tap_build_path("src/cloister");
        char *argv[] = {"/bin/sh", "-c", (char *)script, "sh", bin, (char *)a1, (char *)a2, NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(argv, in, 60, &res));
        int code = tap_exit_code(res.status);
        if (out)
                *out = strdup(res.out ? res.out : "");
        if (err)
                *err = strdup(res.err ? res.err : "");
        tap_run_result_free(&res);
        return code;
}

/* The names in dir, sorted, newline-terminated ("" when empty or missing). */
static char *list_dir(const char *dir)
{
        struct cl_buf b = CL_BUF_INIT;
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
                if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0)
                        buf_printf(&b, "%s\n", names[i]->d_name);
                free(names[i]);
        }
        free(names);
        buf_append_str(&b, "");
        return buf_steal(&b);
}

TEST(help_and_usage_match_the_man_page)
{
        _cleanup_free_ char *man = NULL;
        {
                char p[4096];
                snprintf(p, sizeof(p), "%s/docs/cloister-drv.1", tap_source_dir());
                man = tap_read_file(p);
                CHECK(man);
        }
        static const char *const forms[] = {"exec \"$1\" drv --help", "exec \"$1\" drv show --help",
                                            "exec \"$1\" drv add --help", "exec \"$1\" drv add -h"};
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                _cleanup_free_ char *out = NULL;
                CHECK_INT(run(forms[i], NULL, NULL, NULL, &out, NULL), ==, 0);
                CHECK(strstr(out, "usage: cloister drv show"));
                CHECK(strstr(out, "cloister drv add"));
                /* every option --help names is documented (troff writes '-' as '\-') */
                static const char *const opts[] = {"--store ROOT", "--store-dir DIR", "--help"};
                static const char *const in_man[] = {
                    ".BI \\-\\-store \" ROOT\"", ".BI \\-\\-store\\-dir \" DIR\"", "\\-\\-help"};
                for (size_t k = 0; k < ELEMENTSOF(opts); k++) {
                        CHECK(strstr(out, opts[k]));
                        CHECK(strstr(man, in_man[k]));
                }
        }
        static const struct {
                const char *script, *msg;
        } usage[] = {
            {"exec \"$1\" drv", "usage: cloister drv"},
            {"exec \"$1\" drv bogus", "unknown drv command 'bogus'"},
            {"exec \"$1\" drv show", "drv show needs at least one FILE.drv"},
            {"exec \"$1\" drv add", "drv add needs exactly one FILE.json"},
            {"exec \"$1\" drv add a b", "drv add needs exactly one FILE.json"},
            {"exec \"$1\" drv add --bogus x", "unrecognized option"},
            {"exec \"$1\" drv add --store '' x", "--store needs a directory"},
            {"exec \"$1\" drv show --store-dir nix/store x", "is not an absolute path"},
        };
        for (size_t i = 0; i < ELEMENTSOF(usage); i++) {
                _cleanup_free_ char *err = NULL;
                CHECK_INT(run(usage[i].script, NULL, NULL, NULL, NULL, &err), ==, 2);
                if (!strstr(err, usage[i].msg))
                        FAIL("'%s': '%s' lacks '%s'", usage[i].script, err, usage[i].msg);
        }
}

TEST(bad_input_names_the_position)
{
        _cleanup_free_ char *tmp = tap_mkdtemp();
        char f[4096];
        snprintf(f, sizeof(f), "%s/x.drv", tmp);
        tap_write_file(f, "Derive([(\"out\",\"\",\"\",\"\")],[],[],\"s\",\"b\",[],[(\"a\",\"\"x",
                       0644);
        _cleanup_free_ char *err = NULL, *err2 = NULL, *err3 = NULL;
        CHECK_INT(run("exec \"$1\" drv show \"$2\"", f, NULL, NULL, NULL, &err), ==, 1);
        CHECK(strstr(err, "x.drv': offset 51: expected ')' to close an environment variable, "
                          "found 'x'"));
        /* a path outside the store, as Nix's parser refuses it */
        snprintf(f, sizeof(f), "%s/y.drv", tmp);
        tap_write_file(f,
                       "Derive([(\"out\",\"\",\"\",\"\")],[],[\"/tmp/"
                       "x24aw66d714g0fmnw1i07f1sb113kng1-foo\"],\"s\",\"b\",[],[])",
                       0644);
        _cleanup_free_ char *err4 = NULL;
        CHECK_INT(run("exec \"$1\" drv show \"$2\"", f, NULL, NULL, NULL, &err4), ==, 1);
        CHECK(strstr(err4, "y.drv': input source: path '/tmp/x24aw66d714g0fmnw1i07f1sb113kng1-foo' "
                           "is not in the store '/nix/store'"));
        CHECK(unlink(f) == 0);
        CHECK_INT(run("exec \"$1\" drv show \"$2\"/missing.drv", tmp, NULL, NULL, NULL, &err2), ==,
                  1);
        CHECK(strstr(err2, "missing.drv'"));
        /* malformed JSON: line and column */
        CHECK_INT(run("exec \"$1\" drv add --store \"$2\"/root -", tmp, NULL, "{\"outputs\": [}",
                      NULL, &err3),
                  ==, 1);
        CHECK(strstr(err3, "JSON line 1 column"));
        _cleanup_free_ char *l = list_dir(tmp);
        CHECK_STR(l, "x.drv\n");
        tap_rm_rf(tmp);
}

TEST(add_writes_complete_read_only_files_or_nothing)
{
        _cleanup_free_ char *tmp = tap_mkdtemp();
        char root[4096], sdir[4200], file[4400];
        snprintf(root, sizeof(root), "%s/root", tmp);
        snprintf(sdir, sizeof(sdir), "%s/nix/store", root);
        snprintf(file, sizeof(file), "%s/" HELLO_DRV, sdir);
        const char *add = "exec \"$1\" drv add --store \"$2\" -";

        /* refused derivations create nothing, not even the root */
        static const struct {
                const char *json, *msg;
        } bad[] = {
            {"{\"outputs\": {\"out\": {}}, \"inputSrcs\": "
             "[\"/tmp/x24aw66d714g0fmnw1i07f1sb113kng1-foo\"], \"system\": \"s\", \"builder\": "
             "\"b\", \"env\": {\"name\": \"x\"}}",
             "path '/tmp/x24aw66d714g0fmnw1i07f1sb113kng1-foo' is not in the store"},
            {"{\"outputs\": {\"out\": {}}, \"system\": \"s\\\"\", \"builder\": \"b\", \"env\": "
             "{\"name\": \"x\"}}",
             "system 's\"' contains"},
            {"{\"outputs\": {\"out\": {}}, \"system\": \"s\", \"builder\": \"b\", \"env\": "
             "{\"name\": \"a/b\"}}",
             "a/b"},
            {"{\"outputs\": {\"out\": {\"path\": "
             "\"/nix/store/mjs27ix6ig2bkbi3s3sm470vrv4lf7ic-hello\"}, \"dev\": {}}, \"system\": "
             "\"s\", \"builder\": \"b\", \"env\": {\"name\": \"hello\"}}",
             "some output paths are given and some are empty"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *err = NULL;
                CHECK_INT(run(add, root, NULL, bad[i].json, NULL, &err), ==, 1);
                if (!strstr(err, bad[i].msg))
                        FAIL("case %zu: '%s' lacks '%s'", i, err, bad[i].msg);
                if (i < 2)
                        CHECK(access(root, F_OK) < 0 && errno == ENOENT);
        }
        /* a key that is not the derivation's path: refused before writing */
        {
                _cleanup_free_ char *err = NULL;
                CHECK_INT(run(add, root, NULL,
                              "{\"/nix/store/00000000000000000000000000000000-hello.drv\": "
                              "{\"outputs\": {\"out\": {}}, \"system\": \"x86_64-linux\", "
                              "\"builder\": \"/bin/sh\", \"args\": [\"-c\", \"echo hi > $out\"], "
                              "\"env\": {\"builder\": \"/bin/sh\", \"name\": \"hello\", "
                              "\"system\": \"x86_64-linux\"}}}",
                              NULL, &err),
                          ==, 1);
                CHECK(strstr(err, "the derivation's store path is '/nix/store/" HELLO_DRV "'"));
                _cleanup_free_ char *l = list_dir(sdir);
                CHECK_STR(l, "");
        }

        /* a good one: complete, 0444, mtime 1, no temporary file left */
        _cleanup_free_ char *out = NULL;
        CHECK_INT(run(add, root, NULL, HELLO_JSON, &out, NULL), ==, 0);
        CHECK_STR(out, "/nix/store/" HELLO_DRV "\n");
        struct stat st;
        CHECK(lstat(file, &st) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK_INT(st.st_mode & 07777, ==, 0444);
        CHECK_INT(st.st_mtime, ==, 1);
        _cleanup_free_ char *l = list_dir(sdir);
        CHECK_STR(l, HELLO_DRV "\n");
        _cleanup_free_ char *data = tap_read_file(file);
        CHECK_STR(data,
                  "Derive([(\"out\",\"/nix/store/mjs27ix6ig2bkbi3s3sm470vrv4lf7ic-hello\",\"\","
                  "\"\")],[],[],\"x86_64-linux\",\"/bin/sh\",[\"-c\",\"echo hi > $out\"],"
                  "[(\"builder\",\"/bin/sh\"),(\"name\",\"hello\"),(\"out\",\"/nix/store/"
                  "mjs27ix6ig2bkbi3s3sm470vrv4lf7ic-hello\"),(\"system\",\"x86_64-linux\")])");
        /* again: the same bytes are kept */
        free(out);
        out = NULL;
        CHECK_INT(run(add, root, NULL, HELLO_JSON, &out, NULL), ==, 0);
        CHECK_STR(out, "/nix/store/" HELLO_DRV "\n");
        /* show reads it back below --store */
        _cleanup_free_ char *json = NULL;
        CHECK_INT(run("exec \"$1\" drv show --store \"$2\" /nix/store/" HELLO_DRV, root, NULL, NULL,
                      &json, NULL),
                  ==, 0);
        CHECK(strstr(json, "\"/nix/store/" HELLO_DRV "\": {\n    \"outputs\": {\n"));

        /* other bytes under its name: an error, and the file stays as it was */
        CHECK(unlink(file) == 0);
        tap_write_file(file, "Derive(damaged)", 0444);
        _cleanup_free_ char *err = NULL;
        CHECK_INT(run(add, root, NULL, HELLO_JSON, NULL, &err), ==, 1);
        CHECK(strstr(err, "exists with other contents"));
        _cleanup_free_ char *d2 = tap_read_file(file);
        CHECK_STR(d2, "Derive(damaged)");

        /* a symlink planted under its name is neither followed nor replaced */
        char target[4400];
        snprintf(target, sizeof(target), "%s/elsewhere", tmp);
        tap_write_file(target, "precious", 0644);
        CHECK(unlink(file) == 0);
        CHECK(symlink(target, file) == 0);
        free(err);
        err = NULL;
        CHECK_INT(run(add, root, NULL, HELLO_JSON, NULL, &err), ==, 1);
        CHECK(strstr(err, HELLO_DRV));
        _cleanup_free_ char *d3 = tap_read_file(target);
        CHECK_STR(d3, "precious");
        CHECK(lstat(file, &st) == 0 && S_ISLNK(st.st_mode));
        free(l);
        l = list_dir(sdir);
        CHECK_STR(l, HELLO_DRV "\n");

        /* a store directory that cannot be written (only where permissions
         * bind: not for root, nor for root inside a user namespace) */
        CHECK(unlink(file) == 0);
        CHECK(chmod(sdir, 0555) == 0);
        if (access(sdir, W_OK) < 0) {
                free(err);
                err = NULL;
                CHECK_INT(run(add, root, NULL, HELLO_JSON, NULL, &err), ==, 1);
                CHECK(strstr(err, "create temporary file for '" HELLO_DRV "'"));
                free(l);
                l = list_dir(sdir);
                CHECK_STR(l, "");
        }
        CHECK(chmod(sdir, 0755) == 0);
        tap_rm_rf(tmp);
}

TEST(default_store_root_of_a_user)
{
        if (store_root_is_real_root()) {
                /* the real root's default is the machine's /nix/store, which a
                 * test must not write: check the choice only */
                _cleanup_free_ char *r = NULL;
                struct cl_error err;
                CHECK_OK(store_root_default(&r, &err));
                CHECK_STR(r, "/");
                return;
        }
        _cleanup_free_ char *tmp = tap_mkdtemp();
        _cleanup_free_ char *out = NULL;
        CHECK_INT(
            run("XDG_DATA_HOME=\"$2\" exec \"$1\" drv add -", tmp, NULL, HELLO_JSON, &out, NULL),
            ==, 0);
        CHECK_STR(out, "/nix/store/" HELLO_DRV "\n");
        char f[4096];
        snprintf(f, sizeof(f), "%s/cloister/nix/store/" HELLO_DRV, tmp);
        CHECK(access(f, R_OK) == 0);
        tap_rm_rf(tmp);
}

struct seen {
        unsigned calls;
        char path[256];
        char base[256];
        struct hash sha;
        char refs[1024];
        char out_path[256];
        int fail;
};

static int record(void *userdata, const struct drv_registration *reg, struct cl_error *err)
{
        struct seen *s = userdata;
        s->calls++;
        snprintf(s->path, sizeof(s->path), "%s", reg->path);
        snprintf(s->base, sizeof(s->base), "%s", reg->base);
        s->sha = *reg->content_sha256;
        s->refs[0] = '\0';
        for (size_t i = 0; i < reg->n_refs; i++) {
                strcat(s->refs, reg->refs[i]);
                strcat(s->refs, ";");
        }
        snprintf(s->out_path, sizeof(s->out_path), "%s", reg->drv->outputs[0].path);
        /* the file is in place, complete, when the hook runs */
        struct stat st;
        if (fstatat(reg->store_fd, reg->base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            (st.st_mode & 07777) != 0444)
                return cl_errx(err, EIO, "file not in place");
        if (s->fail)
                return cl_errx(err, EBUSY, "database is locked");
        return 0;
}

TEST(registration_hook_sees_the_written_drv)
{
        _cleanup_free_ char *tmp = tap_mkdtemp();
        char root[4096], src[4200];
        snprintf(root, sizeof(root), "%s/root", tmp);
        struct seen s = {0};
        struct drv_add_options o = {.root = root,
                                    .store_dir = STORE_DIR_DEFAULT,
                                    .register_drv = record,
                                    .register_userdata = &s};
        /* an input source, present in the store */
        snprintf(src, sizeof(src), "%s/nix/store/x24aw66d714g0fmnw1i07f1sb113kng1-foo", root);
        int fd = -1;
        CHECK_OK(store_open_dir(root, STORE_DIR_DEFAULT, &fd, NULL));
        close(fd);
        tap_write_file(src, "foo", 0444);
        const char *json =
            "{\"outputs\": {\"out\": {}}, \"inputSrcs\": "
            "[\"/nix/store/x24aw66d714g0fmnw1i07f1sb113kng1-foo\"], \"system\": \"s\", "
            "\"builder\": \"b\", \"env\": {\"name\": \"x\"}}";
        struct drv_json_item *items = NULL;
        size_t n = 0;
        struct cl_error err = {0};
        CHECK_OK(drv_json_parse(json, strlen(json), &items, &n, &err));
        _cleanup_free_ char *path = NULL;
        CHECK_OK(drv_add(&o, &items[0].drv, "x", &path, &err));
        CHECK_INT(s.calls, ==, 1);
        CHECK_STR(s.path, path);
        CHECK_STR(s.base, path + strlen("/nix/store/"));
        CHECK_STR(s.refs, "/nix/store/x24aw66d714g0fmnw1i07f1sb113kng1-foo;");
        CHECK(strncmp(s.out_path, "/nix/store/", 11) == 0);
        char f[4400];
        snprintf(f, sizeof(f), "%s%s", root, path);
        _cleanup_free_ char *data = tap_read_file(f);
        struct hash h;
        CHECK_OK(hash_buffer(HASH_SHA256, data, strlen(data), &h));
        CHECK(hash_equal(&h, &s.sha));
        /* called again when the file is already there; its error is the add's */
        s.fail = 1;
        _cleanup_free_ char *path2 = NULL;
        CHECK_INT(drv_add(&o, &items[0].drv, "x", &path2, &err), ==, -EBUSY);
        CHECK_INT(s.calls, ==, 2);
        char want[512];
        snprintf(want, sizeof(want), "register '%s': database is locked", path);
        CHECK_STR(err.msg, want);
        drv_json_items_free(items, n);
        tap_rm_rf(tmp);
}
