/* Differential test against Nix 2.8: 1,000 generated derivations (random names
 * and outputs, env values with every escaped byte and non-ASCII UTF-8, args,
 * fixed-output ones with every hash algorithm flat and recursive, inputDrvs
 * and inputSrcs between them) are instantiated by nix-instantiate; cloister
 * must print the same show-derivation JSON for Nix's .drv files, and, given
 * that JSON with every output path blanked, write the same .drv bytes under
 * the same paths. CLOISTER_TEST_SEED repeats a run. */
#include "tap.h"

#include "base/base-buf.h"
#include "base/base-cleanup.h"
#include "store/store-hash.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define N_DRVS 1000
#define N_BATCHES 4

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
        /* xorshift64*: reproducible from the printed seed */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

static const char *find_exe(const char *name)
{
        static char buf[4][512];
        static int slot;
        const char *dirs[] = {"/usr/bin", "/usr/local/bin", "/nix/var/nix/profiles/default/bin",
                              "/bin"};
        char *b = buf[slot++ % 4];
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                snprintf(b, 512, "%s/%s", dirs[i], name);
                if (access(b, X_OK) == 0)
                        return b;
        }
        return NULL;
}

/* Append c as a JSON \u escape (ASCII letters, digits and space stay raw),
 * inside a Nix string literal: the backslash itself is doubled. */
static void json_cp(struct cl_buf *b, uint32_t cp)
{
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
            cp == ' ') {
                buf_append_char(b, (char)cp);
        } else if (cp < 0x10000) {
                buf_printf(b, "\\\\u%04x", cp);
        } else {
                uint32_t v = cp - 0x10000;
                buf_printf(b, "\\\\u%04x\\\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
        }
}

/* A Nix expression for a random string: builtins.fromJSON of a JSON string
 * that holds every byte Nix escapes in .drv files, control bytes and
 * non-ASCII characters. */
static void rand_string_expr(struct cl_buf *b, unsigned maxlen)
{
        static const uint32_t special[] = {'"',  '\\', '\n', '\t', '\r', 0x01,    0x08, 0x0c,
                                           0x1b, 0x1f, 0x7f, '$',  '{',  '}',     '/',  0xe9,
                                           0xff, 0x2603, 0x1f600, '=', '(', ')', ',', '\''};
        unsigned n = rnd(maxlen + 1);
        buf_append_str(b, "(builtins.fromJSON \"\\\"");
        for (unsigned i = 0; i < n; i++) {
                if (rnd(3) == 0)
                        json_cp(b, special[rnd(ELEMENTSOF(special))]);
                else
                        json_cp(b, "abcxyzABC019 -"[rnd(14)]);
        }
        buf_append_str(b, "\\\"\")");
}

static void rand_name(char *out, unsigned maxlen)
{
        static const char chars[] =
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=";
        unsigned n = 1 + rnd(maxlen);
        for (unsigned i = 0; i < n; i++)
                out[i] = chars[rnd(sizeof(chars) - 1)];
        out[0] = "abcdefghij"[rnd(10)];
        out[n] = '\0';
}

struct gen_drv {
        char outputs[4][12];
        unsigned n_outputs;
        bool fixed;
};

static void gen_batch(struct cl_buf *b, unsigned batch, unsigned count, const char *srcdir)
{
        struct gen_drv *g = calloc(count, sizeof(*g));
        static const char *algos[] = {"md5", "sha1", "sha256", "sha512"};
        static const size_t sizes[] = {16, 20, 32, 64};
        buf_append_str(b, "let\n");
        for (unsigned i = 0; i < count; i++) {
                char name[48];
                rand_name(name, 40);
                buf_printf(b, "d%u = derivation {\n  name = \"%s\";\n  system = \"%s\";\n", i,
                           name, rnd(2) ? "x86_64-linux" : "i686-linux");
                buf_append_str(b, "  builder = \"/bin/sh\" + ");
                rand_string_expr(b, 12);
                buf_append_str(b, ";\n");
                g[i].fixed = rnd(5) == 0;
                if (g[i].fixed) {
                        /* cycle through every algorithm x mode x notation so
                         * that each run covers all of them */
                        static unsigned fixed_seq;
                        unsigned combo = fixed_seq++;
                        unsigned a = combo % 4;
                        struct hash h = {.type = (enum hash_type)(HASH_MD5 + a), .len = sizes[a]};
                        for (size_t k = 0; k < h.len; k++)
                                h.bytes[k] = (unsigned char)rnd(256);
                        char hs[HASH_STR_MAX];
                        const char *mode = (combo / 4) % 2 ? "recursive" : "flat";
                        switch ((combo / 8) % 3) {
                        case 0:
                                buf_printf(b, "  outputHashAlgo = \"%s\";\n  outputHash = \"%s\";\n",
                                           algos[a], hash_print(&h, HASH_BASE16, false, hs));
                                break;
                        case 1:
                                buf_printf(b, "  outputHashAlgo = \"%s\";\n  outputHash = \"%s\";\n",
                                           algos[a], hash_print(&h, HASH_NIX32, false, hs));
                                break;
                        default:
                                buf_printf(b, "  outputHash = \"%s\";\n",
                                           hash_print(&h, HASH_SRI, false, hs));
                        }
                        buf_printf(b, "  outputHashMode = \"%s\";\n", mode);
                        g[i].n_outputs = 1;
                        strcpy(g[i].outputs[0], "out");
                } else {
                        g[i].n_outputs = 1 + rnd(4);
                        strcpy(g[i].outputs[0], rnd(4) ? "out" : "bin");
                        for (unsigned o = 1; o < g[i].n_outputs; o++)
                                snprintf(g[i].outputs[o], sizeof(g[i].outputs[o]), "%c%u",
                                         "dlmx"[o - 1], rnd(100));
                        if (g[i].n_outputs > 1 || strcmp(g[i].outputs[0], "out") != 0) {
                                buf_append_str(b, "  outputs = [");
                                for (unsigned o = 0; o < g[i].n_outputs; o++)
                                        buf_printf(b, " \"%s\"", g[i].outputs[o]);
                                buf_append_str(b, " ];\n");
                        }
                }
                /* args */
                unsigned nargs = rnd(4);
                buf_append_str(b, "  args = [");
                for (unsigned k = 0; k < nargs; k++) {
                        buf_append_char(b, ' ');
                        rand_string_expr(b, 20);
                }
                if (i > 0 && rnd(3) == 0) {
                        unsigned j = rnd(i);
                        buf_printf(b, " \"${d%u.%s}/bin\"", j, g[j].outputs[rnd(g[j].n_outputs)]);
                }
                buf_append_str(b, " ];\n");
                /* env values, keys with escaped bytes too */
                unsigned nenv = rnd(6);
                for (unsigned k = 0; k < nenv; k++) {
                        if (rnd(5) == 0)
                                buf_printf(b, "  \"k%u\\\"q\\\\b\\n\\t\\r-%u\" = ", k, rnd(1000));
                        else
                                buf_printf(b, "  e%u_%u = ", k, rnd(1000));
                        rand_string_expr(b, 60);
                        buf_append_str(b, ";\n");
                }
                if (rnd(8) == 0)
                        buf_printf(b, "  flag = %s;\n  num = %u;\n  lst = [ \"a\" 1 true ];\n",
                                   rnd(2) ? "true" : "false", rnd(100000));
                /* dependencies: input derivations and input sources */
                unsigned ndeps = i > 0 ? rnd(4) : 0;
                for (unsigned k = 0; k < ndeps; k++) {
                        unsigned j = rnd(i);
                        buf_printf(b, "  dep%u = d%u.%s;\n", k, j,
                                   g[j].outputs[rnd(g[j].n_outputs)]);
                }
                if (rnd(4) == 0) {
                        buf_printf(b, "  src = builtins.toFile \"t%u-%u\" ", batch, i);
                        rand_string_expr(b, 30);
                        buf_append_str(b, ";\n");
                }
                if (rnd(6) == 0)
                        buf_printf(b, "  psrc = %s/src%u;\n", srcdir, rnd(3));
                buf_append_str(b, "};\n");
        }
        buf_append_str(b, "in [");
        for (unsigned i = 0; i < count; i++)
                buf_printf(b, " d%u", i);
        buf_append_str(b, " ]\n");
        free(g);
}

static char *run_ok(char *const argv[], const char *in)
{
        struct tap_run_result res;
        int r = tap_run(argv, in, 300, &res);
        if (r < 0)
                FAIL("run '%s': %s", argv[0], strerror(-r));
        if (tap_exit_code(res.status) != 0)
                FAIL("'%s %s' exited %d: %.2000s", argv[0], argv[1] ? argv[1] : "",
                     tap_exit_code(res.status), res.err);
        free(res.err);
        return res.out;
}

/* Nix's JSON with every output path (and the env entry of each output)
 * blanked: what nix-instantiate hashes before it fills them in. */
static char *blank_outputs(const char *json)
{
        json_error_t jerr;
        json_t *root = json_loads(json, 0, &jerr);
        if (!root)
                FAIL("Nix's JSON does not parse: %s", jerr.text);
        const char *path;
        json_t *drv;
        json_object_foreach(root, path, drv)
        {
                json_t *outputs = json_object_get(drv, "outputs");
                json_t *env = json_object_get(drv, "env");
                const char *o;
                json_t *ov;
                json_object_foreach(outputs, o, ov)
                {
                        json_object_del(ov, "path");
                        if (rnd(2))
                                json_object_set_new(env, o, json_string(""));
                        else
                                json_object_del(env, o);
                }
        }
        char *s = json_dumps(root, JSON_INDENT(1));
        json_decref(root);
        return s;
}

/* Split newline-separated output into lines (in place). */
static size_t split_lines(char *s, char **lines, size_t max)
{
        size_t n = 0;
        for (char *save = NULL, *l = strtok_r(s, "\n", &save); l && n < max;
             l = strtok_r(NULL, "\n", &save))
                lines[n++] = l;
        return n;
}

static int cmp_strp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void one_batch(const char *tmp, unsigned batch, unsigned count)
{
        const char *nix_inst = find_exe("nix-instantiate");
        const char *nix = find_exe("nix");
        if (!nix_inst || !nix) {
                if (tap_must_work())
                        FAIL("nix-instantiate/nix not installed (scripts/install-deps --test)");
                tap_skip("Nix 2.8 (nix-bin) is not installed");
        }
        _cleanup_free_ char *cloister = tap_build_path("src/cloister");
        char nroot[512], croot[512], vroot[512], expr[512], srcdir[512];
        snprintf(nroot, sizeof(nroot), "%s/nix-root", tmp);
        snprintf(croot, sizeof(croot), "%s/cl-root-%u", tmp, batch);
        snprintf(vroot, sizeof(vroot), "%s/cl-check-%u", tmp, batch);
        snprintf(expr, sizeof(expr), "%s/batch%u.nix", tmp, batch);
        snprintf(srcdir, sizeof(srcdir), "%s/srcs", tmp);
        mkdir(srcdir, 0755);
        for (int i = 0; i < 3; i++) {
                char f[600], content[64];
                snprintf(f, sizeof(f), "%s/src%d", srcdir, i);
                snprintf(content, sizeof(content), "source %d\n", i);
                tap_write_file(f, content, 0644);
        }

        _cleanup_buf_ struct cl_buf e = CL_BUF_INIT;
        gen_batch(&e, batch, count, srcdir);
        tap_write_file(expr, e.data, 0644);

        char *inst_argv[] = {(char *)nix_inst, "--store", nroot, expr, NULL};
        _cleanup_free_ char *paths_out = run_ok(inst_argv, NULL);
        char **paths = calloc(count + 1, sizeof(char *));
        size_t n = split_lines(paths_out, paths, count);
        CHECK_INT(n, ==, count);
        /* a derivation whose first output is not "out" is printed as PATH!OUTPUT */
        for (size_t i = 0; i < n; i++) {
                char *bang = strchr(paths[i], '!');
                if (bang)
                        *bang = '\0';
        }
        qsort(paths, n, sizeof(*paths), cmp_strp);
        /* a derivation may be generated twice (same attributes): count unique */
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
                if (u == 0 || strcmp(paths[u - 1], paths[i]) != 0)
                        paths[u++] = paths[i];
        n = u;

        /* Nix's JSON of all of them, and cloister's for the same files */
        char **show_argv = calloc(n + 8, sizeof(char *));
        size_t k = 0;
        show_argv[k++] = (char *)nix;
        show_argv[k++] = "--extra-experimental-features";
        show_argv[k++] = "nix-command";
        show_argv[k++] = "show-derivation";
        show_argv[k++] = "--store";
        show_argv[k++] = nroot;
        /* nix reads a '?' in an installable as a flake URL query: name such
         * paths through a symlink, which it resolves to the store path */
        char **links = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                if (!strchr(paths[i], '?')) {
                        show_argv[k++] = paths[i];
                        continue;
                }
                if (asprintf(&links[i], "%s/link-%u-%zu", tmp, batch, i) < 0)
                        FAIL("asprintf");
                if (symlink(paths[i], links[i]) < 0)
                        FAIL("symlink: %s", strerror(errno));
                show_argv[k++] = links[i];
        }
        _cleanup_free_ char *nix_json = run_ok(show_argv, NULL);
        for (size_t i = 0; i < n; i++)
                free(links[i]);
        free(links);
        show_argv[0] = cloister;
        show_argv[1] = "drv";
        show_argv[2] = "show";
        show_argv[3] = "--store";
        show_argv[4] = nroot;
        for (size_t i = 0; i < n; i++)
                show_argv[5 + i] = paths[i];
        show_argv[5 + n] = NULL;
        _cleanup_free_ char *cl_json = run_ok(show_argv, NULL);
        if (strcmp(nix_json, cl_json) != 0) {
                size_t at = 0;
                while (nix_json[at] && nix_json[at] == cl_json[at])
                        at++;
                FAIL("drv show differs from nix show-derivation at byte %zu: nix '%.80s' "
                     "cloister '%.80s'",
                     at, nix_json + at, cl_json + at);
        }

        /* input sources come from Nix's store, as nix-store --add would */
        json_error_t jerr;
        json_t *root = json_loads(nix_json, 0, &jerr);
        CHECK(root);
        char sdir[600];
        snprintf(sdir, sizeof(sdir), "%s/nix/store", croot);
        char mk[700];
        snprintf(mk, sizeof(mk), "%s/nix", croot);
        mkdir(croot, 0755);
        mkdir(mk, 0755);
        mkdir(sdir, 0755);
        /* the input sources go into cloister's store registered, as `drv add`
         * requires valid inputs: Nix exports them, cloister imports them */
        struct cl_buf srcs = CL_BUF_INIT;
        const char *dp;
        json_t *dv;
        json_object_foreach(root, dp, dv)
        {
                size_t i;
                json_t *s;
                json_array_foreach(json_object_get(dv, "inputSrcs"), i, s)
                {
                        const char *src = json_string_value(s);
                        if (srcs.data && strstr(srcs.data, src))
                                continue;
                        buf_printf(&srcs, " %s", src);
                }
        }
        if (srcs.len > 0) {
                char *cmd = NULL;
                if (asprintf(&cmd, "set -e; '%s' --store '%s' --export %s | '%s' store import --store '%s' >/dev/null",
                             find_exe("nix-store"), nroot, srcs.data, cloister, croot) < 0)
                        abort();
                char *sh_argv[] = {(char *)"/bin/sh", (char *)"-c", cmd, NULL};
                free(run_ok(sh_argv, NULL));
                free(cmd);
        }
        buf_free(&srcs);
        json_decref(root);

        /* cloister computes the output paths and writes the same .drv files */
        _cleanup_free_ char *blank = blank_outputs(nix_json);
        char jfile[600];
        snprintf(jfile, sizeof(jfile), "%s/blank%u.json", tmp, batch);
        tap_write_file(jfile, blank, 0644);
        char *add_argv[] = {cloister, "drv", "add", "--store", croot, jfile, NULL};
        _cleanup_free_ char *added_out = run_ok(add_argv, NULL);
        char **added = calloc(n + 1, sizeof(char *));
        size_t n_added = split_lines(added_out, added, n);
        CHECK_INT(n_added, ==, n);
        qsort(added, n_added, sizeof(*added), cmp_strp);
        for (size_t i = 0; i < n; i++) {
                CHECK_STR(added[i], paths[i]);
                char a[700], b[700];
                snprintf(a, sizeof(a), "%s%s", nroot, paths[i]);
                snprintf(b, sizeof(b), "%s%s", croot, paths[i]);
                _cleanup_free_ char *da = tap_read_file(a);
                _cleanup_free_ char *db = tap_read_file(b);
                CHECK(da && db);
                if (strcmp(da, db) != 0)
                        FAIL("'%s' differs:\nnix      %s\ncloister %s", paths[i], da, db);
                struct stat st;
                CHECK(stat(b, &st) == 0);
                CHECK_INT(st.st_mode & 07777, ==, 0444);
                CHECK_INT(st.st_mtime, ==, 1);
        }
        /* and Nix's own JSON (paths given) passes cloister's checks */
        snprintf(jfile, sizeof(jfile), "%s/nix%u.json", tmp, batch);
        tap_write_file(jfile, nix_json, 0644);
        char *v_argv[] = {(char *)find_exe("cp"), "-a", croot, vroot, NULL};
        free(run_ok(v_argv, NULL));
        char *check_argv[] = {cloister, "drv", "add", "--store", vroot, jfile, NULL};
        free(run_ok(check_argv, NULL));
        /* show of cloister's files equals Nix's JSON too */
        show_argv[4] = croot;
        _cleanup_free_ char *cl_json2 = run_ok(show_argv, NULL);
        CHECK_STR(cl_json2, nix_json);
        tap_diag("batch %u: %zu derivations identical", batch, n);
        free(paths);
        free(added);
        free(show_argv);
}

TEST_TIMEOUT(thousand_derivations_like_nix, 600)
{
        const char *s = getenv("CLOISTER_TEST_SEED");
        uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 16;
        if (seed == 0)
                seed = 1;
        rng_state = seed;
        tap_diag("seed %llu (CLOISTER_TEST_SEED repeats it)", (unsigned long long)seed);
        _cleanup_free_ char *tmp = tap_mkdtemp();
        for (unsigned b = 0; b < N_BATCHES; b++)
                one_batch(tmp, b, N_DRVS / N_BATCHES);
        tap_rm_rf(tmp);
}

TEST(bad_input_is_refused_and_nothing_written)
{
        _cleanup_free_ char *cloister = tap_build_path("src/cloister");
        _cleanup_free_ char *tmp = tap_mkdtemp();
        char f[600], root[600];
        snprintf(root, sizeof(root), "%s/root", tmp);
        /* a malformed .drv: position and reason, exit 1 */
        snprintf(f, sizeof(f), "%s/x.drv", tmp);
        tap_write_file(f, "Derive([(\"out\",\"\",\"\",\"\")],[],[],\"s\",\"b\",[],[(\"a\",\"\"x", 0644);
        char *show_argv[] = {cloister, "drv", "show", f, NULL};
        struct tap_run_result res;
        CHECK_OK(tap_run(show_argv, NULL, 30, &res));
        CHECK_INT(tap_exit_code(res.status), ==, 1);
        CHECK(strstr(res.err, "offset 51: expected ')' to close an environment variable"));
        tap_run_result_free(&res);
        /* an input outside the store */
        snprintf(f, sizeof(f), "%s/x.json", tmp);
        tap_write_file(f,
                       "{\"outputs\": {\"out\": {}}, \"inputSrcs\": "
                       "[\"/tmp/x24aw66d714g0fmnw1i07f1sb113kng1-foo\"], \"system\": \"s\", "
                       "\"builder\": \"b\", \"env\": {\"name\": \"x\"}}",
                       0644);
        char *add_argv[] = {cloister, "drv", "add", "--store", root, f, NULL};
        CHECK_OK(tap_run(add_argv, NULL, 30, &res));
        CHECK_INT(tap_exit_code(res.status), ==, 1);
        CHECK(strstr(res.err, "not in the store"));
        tap_run_result_free(&res);
        /* refused before the store root was even created */
        CHECK(access(root, F_OK) < 0 && errno == ENOENT);
        /* an input missing from the store */
        tap_write_file(f,
                       "{\"outputs\": {\"out\": {}}, \"inputSrcs\": "
                       "[\"/nix/store/x24aw66d714g0fmnw1i07f1sb113kng1-foo\"], \"system\": \"s\", "
                       "\"builder\": \"b\", \"env\": {\"name\": \"x\"}}",
                       0644);
        CHECK_OK(tap_run(add_argv, NULL, 30, &res));
        CHECK_INT(tap_exit_code(res.status), ==, 1);
        CHECK(strstr(res.err, "is not in the store: No such file or directory"));
        tap_run_result_free(&res);
        /* the store directory holds nothing half-written */
        char sdir[700];
        snprintf(sdir, sizeof(sdir), "%s/nix/store", root);
        char *ls_argv[] = {(char *)find_exe("ls"), "-A", sdir, NULL};
        CHECK_OK(tap_run(ls_argv, NULL, 30, &res));
        CHECK_STR(res.out, "");
        tap_run_result_free(&res);
        /* a good one goes in, read-only, mtime 1 */
        tap_write_file(f,
                       "{\"outputs\": {\"out\": {}}, \"system\": \"x86_64-linux\", \"builder\": "
                       "\"/bin/sh\", \"args\": [\"-c\", \"echo hi > $out\"], \"env\": {\"builder\": "
                       "\"/bin/sh\", \"name\": \"hello\", \"system\": \"x86_64-linux\"}}",
                       0644);
        CHECK_OK(tap_run(add_argv, NULL, 30, &res));
        CHECK_INT(tap_exit_code(res.status), ==, 0);
        CHECK_STR(res.out, "/nix/store/76w21n1f03fs5kw8fnffphx7qrqffw6r-hello.drv\n");
        tap_run_result_free(&res);
        CHECK_OK(tap_run(ls_argv, NULL, 30, &res));
        CHECK_STR(res.out, "76w21n1f03fs5kw8fnffphx7qrqffw6r-hello.drv\n");
        tap_run_result_free(&res);
        tap_rm_rf(tmp);
}
