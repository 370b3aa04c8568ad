/* Unit tests for the .drv modules: byte-identical reprinting, every class of
 * syntax error with its offset, hash modulo and output/drv paths against the
 * worked examples of NIX-FORMATS.md 2.2-2.6, and the JSON form both ways. */
#include "tap.h"

#include "base/base-cleanup.h"
#include "store/store-drv-hash.h"
#include "store/store-drv-json.h"
#include "store/store-drv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOURCE_FIRST                                                                               \
        "Derive([(\"out\",\"/nix/store/i00sflxqsj37lfmf95m8mn0grv615hpj-source\",\"r:sha256\","    \
        "\"894517c9163c896ec31a2adbd33c0681fd5f45b2c0ef08a64c92a03fb97f390f\")],[],[],"            \
        "\"x86_64-linux\",\"/bin/first\",[],[(\"out\",\"/nix/store/"                               \
        "i00sflxqsj37lfmf95m8mn0grv615hpj-source\")])"
#define SOURCE_SECOND                                                                              \
        "Derive([(\"out\",\"/nix/store/i00sflxqsj37lfmf95m8mn0grv615hpj-source\",\"r:sha256\","    \
        "\"894517c9163c896ec31a2adbd33c0681fd5f45b2c0ef08a64c92a03fb97f390f\")],[],[],"            \
        "\"x86_64-linux\",\"/bin/second\",[],[(\"out\",\"/nix/store/"                              \
        "i00sflxqsj37lfmf95m8mn0grv615hpj-source\")])"
#define INTERMEDIATE(src)                                                                          \
        "Derive([(\"dev\",\"/nix/store/xgskw9kbh807ah56r4f4kxdh0fa1i0ip-intermediate-dev\",\"\","  \
        "\"\"),(\"out\",\"/nix/store/jlzxv2xpqj0adi22cy93573vyf9xr6fw-intermediate\",\"\",\"\")]," \
        "[(\"/nix/store/" src "\",[\"out\"])],[],\"x86_64-linux\",\"/bin/intermediate\",[],[("     \
        "\"dev\",\"/nix/store/xgskw9kbh807ah56r4f4kxdh0fa1i0ip-intermediate-dev\"),(\"out\","      \
        "\"/nix/store/jlzxv2xpqj0adi22cy93573vyf9xr6fw-intermediate\")])"
#define SRC1 "q4mzjdlh5px6977h7v5fdsk1p33yg583-source.drv"
#define SRC2 "jwmbpldsdgfjhkxk317jn55jilyfl63f-source.drv"
#define INT1 "f8g8x4m83da3b2f79iv84q2r3qlc58lr-intermediate.drv"
#define INT2 "kp6i4n4bb3hlniwqjakhlf046qpdc0gl-intermediate.drv"

static const struct {
        const char *path, *aterm;
} store[] = {
    {"/nix/store/" SRC1, SOURCE_FIRST},
    {"/nix/store/" SRC2, SOURCE_SECOND},
    {"/nix/store/" INT1, INTERMEDIATE(SRC1)},
    {"/nix/store/" INT2, INTERMEDIATE(SRC2)},
};

static int mem_load(void *userdata, const char *path, struct derivation *ret, struct cl_error *err)
{
        (void)userdata;
        for (size_t i = 0; i < ELEMENTSOF(store); i++)
                if (strcmp(store[i].path, path) == 0)
                        return drv_parse(store[i].aterm, strlen(store[i].aterm), ret, err);
        return cl_errx(err, ENOENT, "no '%s'", path);
}

static void mem_loader(struct drv_loader *l)
{
        *l = (struct drv_loader){.store_dir = "/nix/store", .load = mem_load};
}

static void parse_ok(const char *s, struct derivation *d)
{
        struct cl_error err = {0};
        if (drv_parse(s, strlen(s), d, &err) < 0)
                FAIL("parse failed: %s", err.msg);
}

static char *print(const struct derivation *d)
{
        struct cl_buf b = CL_BUF_INIT;
        CHECK_OK(drv_print(d, &b));
        return buf_steal(&b);
}

static void check_reprint(const char *s)
{
        _cleanup_drv_ struct derivation d = {0};
        parse_ok(s, &d);
        _cleanup_free_ char *p = print(&d);
        CHECK_STR(p, s);
}

static char *hexof(const struct hash *h)
{
        static char buf[HASH_STR_MAX];
        return hash_print(h, HASH_BASE16, false, buf);
}

static char *drv_path_of(const char *aterm, const char *name)
{
        _cleanup_drv_ struct derivation d = {0};
        parse_ok(aterm, &d);
        struct store_path sp;
        struct cl_error err;
        if (drv_store_path("/nix/store", &d, name, aterm, strlen(aterm), &sp, &err) < 0)
                FAIL("drv path: %s", err.msg);
        char *s = NULL;
        CHECK_OK(store_path_print("/nix/store", &sp, &s));
        return s;
}

TEST(reprint_is_byte_identical)
{
        for (size_t i = 0; i < ELEMENTSOF(store); i++)
                check_reprint(store[i].aterm);
        check_reprint("Derive([(\"out\",\"\",\"\",\"\")],[],[],\"x\",\"\",[],[])");
        check_reprint("Derive([],[],[],\"\",\"\",[],[])");
        /* escaping example of 2.6 and every byte Nix copies raw */
        check_reprint(
            "Derive([(\"out\",\"/nix/store/mjs27ix6ig2bkbi3s3sm470vrv4lf7ic-hello\",\"\","
            "\"\")],[],[\"/nix/store/x24aw66d714g0fmnw1i07f1sb113kng1-foo\"],\"x\","
            "\"/bin/sh\",[\"printf 'a\\\\tb\\\\n'\",\"\",\"\x01\x7f\xc3\xa9\"],[(\"a\\\"b\","
            "\"line1\\nline2\\r\\tend\")])");
}

TEST(escaping_follows_nix)
{
        _cleanup_drv_ struct derivation d = {0};
        parse_ok("Derive([],[],[],\"s\",\"b\\\\\",[\"printf 'a\\\\tb\\\\n'\"],[(\"k\","
                 "\"line1\\nline2\\r\\tend\\\"\")])",
                 &d);
        CHECK_STR(d.env[0].value, "line1\nline2\r\tend\"");
        CHECK_STR(d.args[0], "printf 'a\\tb\\n'");
        CHECK_STR(d.builder, "b\\");
}

TEST(every_syntax_error_has_offset_and_reason)
{
        static const struct {
                const char *in, *msg;
        } cases[] = {
            {"", "offset 0: expected 'Derive(' at the start, found end of input"},
            {"Derivx", "offset 5: expected 'Derive(' at the start, found 'x'"},
            {"DrvWithVersion(\"xp-dyn-drv\",", "offset 0: derivations in the 'DrvWithVersion'"},
            {"Derive(x", "offset 7: expected '[' to open the outputs, found 'x'"},
            {"Derive([x", "offset 8: expected '(' to open an output, found 'x'"},
            {"Derive([(x", "offset 9: expected '\"' to open an output name, found 'x'"},
            {"Derive([(\"out", "offset 13: unterminated string (opened at offset 9)"},
            {"Derive([(\"out\"x", "offset 14: expected ',' after the output name, found 'x'"},
            {"Derive([(\"out\",\"\",\"\",\"\"x", "offset 23: expected ')' to close an output"},
            {"Derive([(\"out\",\"\",\"\",\"\")x",
             "offset 24: expected ',' or ']' after an output, found 'x'"},
            {"Derive([(\"b\",\"\",\"\",\"\"),(\"a\",\"\",\"\",\"\")],",
             "offset 24: output 'a' is out of sorted order"},
            {"Derive([(\"a\",\"\",\"\",\"\"),(\"a\",\"\",\"\",\"\")],",
             "offset 24: output 'a' is a duplicate"},
            {"Derive([],x", "offset 10: expected '[' to open the input derivations"},
            {"Derive([],[(\"/d\",[\"b\",\"a\"])]",
             "offset 22: input output name 'a' is out of sorted order"},
            {"Derive([],[(\"/d\"x", "offset 16: expected ',' after the input derivation path"},
            {"Derive([],[(\"/d\",[\"a\"]x", "offset 22: expected ')' to close an input derivation"},
            {"Derive([],[(\"/b\",[]),(\"/a\",[])]",
             "offset 22: input derivation '/a' is out of sorted order"},
            {"Derive([],[],[\"/b\",\"/a\"]", "offset 19: input source '/a' is out of sorted order"},
            {"Derive([],[],[\"/a\"x", "offset 18: expected ',' or ']' in a list, found 'x'"},
            {"Derive([],[],[],x", "offset 16: expected '\"' to open the system, found 'x'"},
            {"Derive([],[],[],\"s\",\"b\",x", "offset 24: expected '[' to open the argument list"},
            {"Derive([],[],[],\"s\",\"b\",[],[(\"b\",\"\"),(\"a\",\"\")])",
             "offset 38: environment variable 'a' is out of sorted order"},
            {"Derive([],[],[],\"s\",\"b\",[],[(\"a\",\"\"x",
             "offset 35: expected ')' to close an environment variable"},
            {"Derive([],[],[],\"s\",\"b\",[],[])x", "offset 30: trailing data after the end"},
            {"Derive([],[],[],\"s\",\"b\",[],[]",
             "offset 29: expected ')' to close the derivation, found end of input"},
            {"Derive([],[],[],\"s\",\"b\\x\"",
             "offset 23: unknown escape, expected one of n r t \" \\ after a backslash, found 'x'"},
            {"Derive([],[],[],\"s\\n\"",
             "offset 18: backslash in a field that Nix writes without escapes"},
            {"Derive([],[],[],\"s\",\"a\nb\"", "offset 22: raw newline in a string"},
            {"Derive([],[],[],\"s\",\"a\tb\"", "offset 22: raw tab in a string"},
            {"Derive([],[],[],\"s\",\"a\rb\"", "offset 22: raw carriage return in a string"},
            {"Derive([],[],[],\"s\",\"a\\", "offset 23: unterminated string (opened at offset 20)"},
            {"Derive([],[],[],\"s\",\"\",[\"a\",x",
             "offset 28: expected '\"' to open an argument, found 'x'"},
            {"Derive([],[],[\"/a\",x", "offset 19: expected '\"' to open an input source"},
            {"Derive([],[(\"/d\",[x", "offset 18: expected '\"' to open an input output name"},
            {"Derive([],[(\"/d\",[\"a\",\"a\"])]",
             "offset 22: input output name 'a' is a duplicate"},
            {"Derive([],[(\"/a\",[]),(\"/a\",[])]",
             "offset 22: input derivation '/a' is a duplicate"},
            {"Derive([],[],[\"/a\",\"/a\"]", "offset 19: input source '/a' is a duplicate"},
            {"Derive([],[],[],\"s\",\"b\",[],[(\"a\",\"\"),(\"a\",\"\")])",
             "offset 38: environment variable 'a' is a duplicate"},
            {"Derive([(\"out\"\x01", "offset 14: expected ',' after the output name, found byte "
                                    "0x01"},
            {"Derive([(\"out\"\xc3", "offset 14: expected ',' after the output name, found byte "
                                    "0xc3"},
            {"Derive([(\"out\",x", "offset 15: expected '\"' to open an output path"},
            {"Derive([(\"out\",\"\"x", "offset 17: expected ',' after the output path"},
            {"Derive([(\"out\",\"\",x", "offset 18: expected '\"' to open a hash algorithm"},
            {"Derive([(\"out\",\"\",\"\"x", "offset 20: expected ',' after the hash algorithm"},
            {"Derive([(\"out\",\"\",\"\",x", "offset 21: expected '\"' to open a hash,"},
            {"Derive([]x", "offset 9: expected ',' after the outputs"},
            {"Derive([],[(x", "offset 12: expected '\"' to open an input derivation path"},
            {"Derive([],[(\"/d\",x", "offset 17: expected '[' to open the input output name list"},
            {"Derive([],[(\"/d\",[])x",
             "offset 20: expected ',' or ']' after an input derivation"},
            {"Derive([],[]x", "offset 12: expected ',' after the input derivations"},
            {"Derive([],[],x", "offset 13: expected '[' to open the input source list"},
            {"Derive([],[],[]x", "offset 15: expected ',' after the input sources"},
            {"Derive([],[],[],\"s\"x", "offset 19: expected ',' after the system"},
            {"Derive([],[],[],\"s\",x", "offset 20: expected '\"' to open the builder"},
            {"Derive([],[],[],\"s\",\"b\"x", "offset 23: expected ',' after the builder"},
            {"Derive([],[],[],\"s\",\"b\",[]x", "offset 26: expected ',' after the arguments"},
            {"Derive([],[],[],\"s\",\"b\",[],x", "offset 27: expected '[' to open the environment"},
            {"Derive([],[],[],\"s\",\"b\",[],[x",
             "offset 28: expected '(' to open an environment variable"},
            {"Derive([],[],[],\"s\",\"b\",[],[(x",
             "offset 29: expected '\"' to open a variable name"},
            {"Derive([],[],[],\"s\",\"b\",[],[(\"a\"x",
             "offset 32: expected ',' after the variable name"},
            {"Derive([],[],[],\"s\",\"b\",[],[(\"a\",x",
             "offset 33: expected '\"' to open a variable value"},
            {"Derive([],[],[],\"s\",\"b\",[],[(\"a\",\"\")x",
             "offset 36: expected ',' or ']' after an environment variable"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct derivation d = {0};
                struct cl_error err = {0};
                int r = drv_parse(cases[i].in, strlen(cases[i].in), &d, &err);
                if (r != -EINVAL)
                        FAIL("case %zu '%s' gave %d", i, cases[i].in, r);
                if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
                        FAIL("case %zu: message '%s', want '%s...'", i, err.msg, cases[i].msg);
        }
        /* NUL byte */
        static const char nul[] = "Derive([],[],[],\"s\0\"";
        struct derivation d = {0};
        struct cl_error err = {0};
        CHECK_INT(drv_parse(nul, sizeof(nul) - 1, &d, &err), ==, -EINVAL);
        CHECK_STR(err.msg, "offset 18: NUL byte in a string");
        /* over the size limit: refused before a byte is read */
        CHECK_INT(drv_parse(nul, (size_t)DRV_MAX_SIZE + 1, &d, &err), ==, -EFBIG);
        CHECK(strstr(err.msg, "larger than the limit"));
}

TEST(source_fod_2_6)
{
        struct drv_loader l;
        mem_loader(&l);
        _cleanup_drv_ struct derivation d = {0};
        parse_ok(SOURCE_FIRST, &d);
        struct hash hm;
        struct cl_error err;
        CHECK_OK(drv_hash_modulo(&l, &d, "source", true, &hm, &err));
        CHECK_STR(hexof(&hm), "42cfa58bf5a281911b6c9471c67cf64f70a820b033415190db3da91710c5ff2c");
        CHECK_OK(drv_resolve_outputs(&l, &d, "source", &err));
        _cleanup_free_ char *p1 = drv_path_of(SOURCE_FIRST, "source");
        _cleanup_free_ char *p2 = drv_path_of(SOURCE_SECOND, "source");
        CHECK_STR(p1, "/nix/store/" SRC1);
        CHECK_STR(p2, "/nix/store/" SRC2);
        drv_loader_done(&l);
}

TEST(intermediate_2_6)
{
        struct drv_loader l;
        mem_loader(&l);
        _cleanup_drv_ struct derivation d = {0};
        parse_ok(INTERMEDIATE(SRC2), &d);
        struct cl_error err;
        struct hash hm;
        /* unmasked hash modulo, what a parent uses */
        CHECK_OK(drv_hash_modulo(&l, &d, "intermediate", false, &hm, &err));
        CHECK_STR(hexof(&hm), "6df335a6cafec6b08aa38163a4a3d1b8f04bc8dc10de4ad35d677f911f2d3b5a");
        _cleanup_free_ char *p1 = drv_path_of(INTERMEDIATE(SRC1), "intermediate");
        _cleanup_free_ char *p2 = drv_path_of(INTERMEDIATE(SRC2), "intermediate");
        CHECK_STR(p1, "/nix/store/" INT1);
        CHECK_STR(p2, "/nix/store/" INT2);
        /* the masked modulo ATerm, byte for byte intermediate-first-modulo.drv
         * (its digest is what the output paths would use with the env entries) */
        {
                const char *modulo =
                    "Derive([(\"dev\",\"\",\"\",\"\"),(\"out\",\"\",\"\",\"\")],[(\"42cfa58bf5a2819"
                    "11b6c9471c67cf64f70a820b033415190db3da91710c5ff2c\",[\"out\"])],[],"
                    "\"x86_64-linux\",\"/bin/intermediate\",[],[(\"dev\",\"\"),(\"out\",\"\")])";
                struct hash want;
                CHECK_OK(hash_buffer(HASH_SHA256, modulo, strlen(modulo), &want));
                CHECK_OK(drv_hash_modulo(&l, &d, "intermediate", true, &hm, &err));
                CHECK(hash_equal(&hm, &want));
        }
        /* the output paths follow from the masked ATerm without env entries */
        for (size_t i = 0; i < d.n_env; i++) {
                free(d.env[i].key);
                free(d.env[i].value);
        }
        d.n_env = 0;
        CHECK_OK(drv_hash_modulo(&l, &d, "intermediate", true, &hm, &err));
        struct store_path sp;
        CHECK_OK(store_make_output_path("/nix/store", "intermediate", "dev", &hm, &sp, &err));
        CHECK_STR(sp.base, "xgskw9kbh807ah56r4f4kxdh0fa1i0ip-intermediate-dev");
        CHECK_OK(store_make_output_path("/nix/store", "intermediate", "out", &hm, &sp, &err));
        CHECK_STR(sp.base, "jlzxv2xpqj0adi22cy93573vyf9xr6fw-intermediate");
        drv_loader_done(&l);
}

TEST(parent_split_merges_inputs)
{
        struct drv_loader l;
        mem_loader(&l);
        const char *split =
            "Derive([(\"out\",\"\",\"\",\"\")],[(\"/nix/store/" INT1
            "\",[\"out\"]),(\"/nix/store/" INT2 "\",[\"dev\"])],[],\"x86_64-linux\","
            "\"/bin/parent\",[],[])";
        const char *modulo =
            "Derive([(\"out\",\"\",\"\",\"\")],[(\"6df335a6cafec6b08aa38163a4a3d1b8f"
            "04bc8dc10de4ad35d677f911f2d3b5a\",[\"dev\",\"out\"])],[],"
            "\"x86_64-linux\",\"/bin/parent\",[],[])";
        _cleanup_drv_ struct derivation d = {0};
        parse_ok(split, &d);
        struct hash hm, want;
        struct cl_error err;
        CHECK_OK(drv_hash_modulo(&l, &d, "parent", true, &hm, &err));
        CHECK_OK(hash_buffer(HASH_SHA256, modulo, strlen(modulo), &want));
        CHECK(hash_equal(&hm, &want));
        /* the memo now holds both intermediates and both source drvs */
        CHECK_INT(l.n_memo, ==, 4);
        /* parent-joined takes both outputs of one intermediate: same modulo */
        const char *joined = "Derive([(\"out\",\"\",\"\",\"\")],[(\"/nix/store/" INT2
                             "\",[\"dev\",\"out\"])],[],\"x86_64-linux\",\"/bin/parent\",[],[])";
        _cleanup_drv_ struct derivation dj = {0};
        parse_ok(joined, &dj);
        struct hash hj;
        CHECK_OK(drv_hash_modulo(&l, &dj, "parent", true, &hj, &err));
        CHECK(hash_equal(&hj, &want));
        drv_loader_done(&l);
}

TEST(hello_like_nix_instantiate)
{
        struct drv_loader l;
        mem_loader(&l);
        _cleanup_drv_ struct derivation d = {0};
        parse_ok("Derive([(\"out\",\"\",\"\",\"\")],[],[],\"x86_64-linux\",\"/bin/sh\",[\"-c\","
                 "\"echo hi > $out\"],[(\"builder\",\"/bin/sh\"),(\"name\",\"hello\"),(\"system\","
                 "\"x86_64-linux\")])",
                 &d);
        struct cl_error err;
        /* the masked ATerm (env 'out' added empty) and its digest */
        struct hash hm;
        CHECK_OK(drv_set_env(&d, "out", ""));
        _cleanup_free_ char *masked = print(&d);
        CHECK_STR(masked, "Derive([(\"out\",\"\",\"\",\"\")],[],[],\"x86_64-linux\",\"/bin/sh\",[\"-c\","
                          "\"echo hi > $out\"],[(\"builder\",\"/bin/sh\"),(\"name\",\"hello\"),(\"out\","
                          "\"\"),(\"system\",\"x86_64-linux\")])");
        CHECK_OK(drv_hash_modulo(&l, &d, "hello", true, &hm, &err));
        CHECK_STR(hexof(&hm), "1142b64dfc10c25b923658cd6a75f2eb8603497ca6e5c3fe3c77c3b7cc7ba923");
        CHECK_OK(drv_resolve_outputs(&l, &d, "hello", &err));
        _cleanup_free_ char *aterm = print(&d);
        const char *want =
            "Derive([(\"out\",\"/nix/store/mjs27ix6ig2bkbi3s3sm470vrv4lf7ic-hello\",\"\",\"\")],"
            "[],[],\"x86_64-linux\",\"/bin/sh\",[\"-c\",\"echo hi > $out\"],[(\"builder\","
            "\"/bin/sh\"),(\"name\",\"hello\"),(\"out\",\"/nix/store/"
            "mjs27ix6ig2bkbi3s3sm470vrv4lf7ic-hello\"),(\"system\",\"x86_64-linux\")])";
        CHECK_STR(aterm, want);
        _cleanup_free_ char *p = drv_path_of(want, "hello");
        CHECK_STR(p, "/nix/store/76w21n1f03fs5kw8fnffphx7qrqffw6r-hello.drv");
        /* validating the finished drv succeeds; a wrong env value is caught */
        CHECK_OK(drv_resolve_outputs(&l, &d, "hello", &err));
        drv_set_env(&d, "out", "/nix/store/mjs27ix6ig2bkbi3s3sm470vrv4lf7ic-hellx");
        CHECK_INT(drv_resolve_outputs(&l, &d, "hello", &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "incorrect environment variable 'out'"));
        drv_loader_done(&l);
}

TEST(structured_attrs_vector)
{
        struct drv_loader l;
        mem_loader(&l);
        _cleanup_drv_ struct derivation d = {0};
        parse_ok(
            "Derive([(\"out\",\"\",\"\",\"\")],[],[],\"x86_64-linux\",\"/"
            "dontcare\",[],[(\"__json\","
            "\"{\\\"allowedReferences\\\":[],\\\"allowedRequisites\\\":[],\\\"builder\\\":\\\"/"
            "dontcare\\\",\\\"disallowedReferences\\\":[],\\\"disallowedRequisites\\\":[],"
            "\\\"maxClosureSize\\\":12345,\\\"maxSize\\\":1234,\\\"name\\\":\\\"eval-okay-"
            "derivation-legacy\\\",\\\"system\\\":\\\"x86_64-linux\\\"}\"),(\"out\",\"\")])",
            &d);
        struct cl_error err;
        CHECK_OK(drv_resolve_outputs(&l, &d, "eval-okay-derivation-legacy", &err));
        CHECK_STR(d.outputs[0].path,
                  "/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-eval-okay-derivation-legacy");
        drv_loader_done(&l);
}

TEST(kinds_and_bad_outputs)
{
        struct cl_error err;
        enum drv_kind k;
        struct drv_fixed f;
        struct {
                const char *aterm, *msg;
        } bad[] = {
            {"Derive([(\"out\",\"\",\"r:sha256\",\"\")],[],[],\"s\",\"b\",[],[])", "floating"},
            {"Derive([(\"out\",\"/nix/store/i00sflxqsj37lfmf95m8mn0grv615hpj-source\",\"r:sha256\","
             "\"impure\")],[],[],\"s\",\"b\",[],[])",
             "floating"},
            {"Derive([(\"dev\",\"/nix/store/i00sflxqsj37lfmf95m8mn0grv615hpj-source\",\"sha1\","
             "\"a9993e364706816aba3e25717850c26c9cd0d89d\")],[],[],\"s\",\"b\",[],[])",
             "exactly one output"},
            {"Derive([(\"out\",\"/nix/store/i00sflxqsj37lfmf95m8mn0grv615hpj-source\",\"sha3\","
             "\"a9993e364706816aba3e25717850c26c9cd0d89d\")],[],[],\"s\",\"b\",[],[])",
             "unknown hash algorithm 'sha3'"},
            {"Derive([(\"out\",\"/nix/store/i00sflxqsj37lfmf95m8mn0grv615hpj-source\",\"sha1\","
             "\"a9993e\")],[],[],\"s\",\"b\",[],[])",
             "wrong length"},
            {"Derive([],[],[],\"s\",\"b\",[],[])", "no outputs"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_drv_ struct derivation d = {0};
                parse_ok(bad[i].aterm, &d);
                if (drv_get_kind(&d, &k, &f, &err) >= 0)
                        FAIL("case %zu accepted", i);
                if (!strstr(err.msg, bad[i].msg))
                        FAIL("case %zu: '%s' lacks '%s'", i, err.msg, bad[i].msg);
        }
        _cleanup_drv_ struct derivation d = {0};
        parse_ok(SOURCE_FIRST, &d);
        CHECK_OK(drv_get_kind(&d, &k, &f, &err));
        CHECK_INT(k, ==, DRV_FIXED_OUTPUT);
        CHECK_INT(f.method, ==, STORE_CA_RECURSIVE);
        /* a fixed output path that does not match is refused */
        struct drv_loader l;
        mem_loader(&l);
        free(d.outputs[0].path);
        d.outputs[0].path = strdup("/nix/store/i00sflxqsj37lfmf95m8mn0grv615hpk-source");
        CHECK_INT(drv_resolve_outputs(&l, &d, "source", &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "incorrect output"));
        /* a hash given in nix32 or base64 is written in base16, as Nix does */
        const char *given[] = {"a9993e364706816aba3e25717850c26c9cd0d89d",
                               "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=", "kpcd173cq987hw957sx6m0868wv3x6d9"};
        for (size_t i = 0; i < ELEMENTSOF(given); i++) {
                _cleanup_drv_ struct derivation f2 = {0};
                _cleanup_free_ char *aterm = NULL;
                parse_ok("Derive([(\"out\",\"\",\"r:sha1\",\"\")],[],[],\"s\",\"b\",[],[])", &f2);
                free(f2.outputs[0].hash);
                f2.outputs[0].hash = strdup(given[i]);
                CHECK_OK(drv_resolve_outputs(&l, &f2, "fetched", &err));
                aterm = print(&f2);
                CHECK_STR(aterm, "Derive([(\"out\",\"/nix/store/rks1sv3ic31chf69c2ic0dk3hfs384rk-"
                                 "fetched\",\"r:sha1\",\"a9993e364706816aba3e25717850c26c9cd0d89d\")]"
                                 ",[],[],\"s\",\"b\",[],[(\"out\",\"/nix/store/"
                                 "rks1sv3ic31chf69c2ic0dk3hfs384rk-fetched\")])");
        }
        drv_loader_done(&l);
}

TEST(check_paths_refuses_outside_store)
{
        struct cl_error err;
        _cleanup_drv_ struct derivation d = {0};
        parse_ok(
            "Derive([(\"out\",\"\",\"\",\"\")],[],[\"/tmp/x24aw66d714g0fmnw1i07f1sb113kng1-foo\"],"
            "\"s\",\"b\",[],[])",
            &d);
        CHECK_INT(drv_check_paths("/nix/store", &d, "x", &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "not in the store"));
        _cleanup_drv_ struct derivation d2 = {0};
        parse_ok("Derive([(\"out\",\"\",\"\",\"\")],[(\"/nix/store/"
                 "x24aw66d714g0fmnw1i07f1sb113kng1-foo\","
                 "[\"out\"])],[],\"s\",\"b\",[],[])",
                 &d2);
        CHECK_INT(drv_check_paths("/nix/store", &d2, "x", &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "not a derivation path"));
        /* fields Nix writes unescaped cannot hold '"' or '\\' (from JSON they could) */
        _cleanup_drv_ struct derivation d3 = {0};
        parse_ok("Derive([(\"out\",\"\",\"\",\"\")],[],[],\"s\",\"b\",[],[])", &d3);
        CHECK_OK(drv_check_paths("/nix/store", &d3, "x", &err));
        free(d3.platform);
        d3.platform = strdup("x86\"64");
        CHECK_INT(drv_check_paths("/nix/store", &d3, "x", &err), ==, -EINVAL);
        CHECK_STR(err.msg, "system 'x86\"64' contains '\"' or '\\'");
        free(d3.platform);
        d3.platform = strdup("s");
        free(d3.outputs[0].hash_algo);
        d3.outputs[0].hash_algo = strdup("r:sha\\1");
        CHECK_INT(drv_check_paths("/nix/store", &d3, "x", &err), ==, -EINVAL);
        CHECK_STR(err.msg, "output 'out': hash algorithm 'r:sha\\1' contains '\"' or '\\'");
}

TEST(json_both_ways)
{
        _cleanup_drv_ struct derivation d = {0};
        parse_ok(INTERMEDIATE(SRC2), &d);
        drv_set_env(&d, "x", "a\"b\\c\nd\te\rf\x01\x08\x0c\x1f\x7f \xc3\xa9 /");
        const char *path = "/nix/store/" INT2;
        const struct derivation *dp = &d;
        _cleanup_buf_ struct cl_buf out = CL_BUF_INIT;
        CHECK_OK(drv_json_print(&path, &dp, 1, &out));
        CHECK(strstr(out.data, "\"x\": \"a\\\"b\\\\c\\nd\\te\\rf\\u0001\\u0008\\u000c\\u001f\x7f "
                               "\xc3\xa9 /\""));
        CHECK(strstr(out.data, "\n    \"inputSrcs\": [],\n"));
        CHECK(strstr(out.data, "\"dev\": {\n        \"path\": "));
        CHECK(out.data[out.len - 1] == '\n' && out.data[out.len - 2] == '}');
        struct drv_json_item *items = NULL;
        size_t n = 0;
        struct cl_error err;
        CHECK_OK(drv_json_parse(out.data, out.len, &items, &n, &err));
        CHECK_INT(n, ==, 1);
        CHECK_STR(items[0].path, path);
        _cleanup_free_ char *a = print(&d);
        _cleanup_free_ char *b = print(&items[0].drv);
        CHECK_STR(a, b);
        drv_json_items_free(items, n);
}

TEST(json_errors)
{
        static const struct {
                const char *in, *msg;
        } cases[] = {
            {"{", "JSON line 1 column 1"},
            {"[]", "not an object"},
            {"{}", "holds no derivation"},
            {"{\"/p\": 1}", "derivation '/p': a derivation is not an object"},
            {"{\"outputs\": {}, \"system\": \"s\", \"builder\": \"b\", \"x\": 1}",
             "unknown key 'x'"},
            {"{\"outputs\": [], \"system\": \"s\", \"builder\": \"b\"}",
             "'outputs' is not an object"},
            {"{\"outputs\": {}, \"builder\": \"b\"}", "no 'system'"},
            {"{\"outputs\": {}, \"system\": \"s\"}", "no 'builder'"},
            {"{\"outputs\": {}, \"system\": 1, \"builder\": \"b\"}", "'system' is not a string"},
            {"{\"outputs\": {\"out\": {\"path\": 1}}, \"system\": \"s\", \"builder\": \"b\"}",
             "output 'out': path is not a string"},
            {"{\"outputs\": {\"out\": {\"p\": \"\"}}, \"system\": \"s\", \"builder\": \"b\"}",
             "output 'out' has unknown key 'p'"},
            {"{\"outputs\": {}, \"system\": \"s\", \"builder\": \"b\", \"env\": {\"a\": 1}}",
             "environment variable 'a': value is not a string"},
            {"{\"outputs\": {}, \"system\": \"s\", \"builder\": \"b\", \"args\": [1]}",
             "'args' is not a string"},
            {"{\"outputs\": {}, \"system\": \"s\", \"builder\": \"b\", \"inputDrvs\": {\"/d\": 1}}",
             "input derivation '/d': an input derivation's output list is not a list"},
            {"{\"outputs\": {}, \"outputs\": {}}", "duplicate object key"},
            {"{\"outputs\": {}, \"system\": \"a\\u0000b\", \"builder\": \"b\"}", "JSON line"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct drv_json_item *items = NULL;
                size_t n = 0;
                struct cl_error err = {0};
                if (drv_json_parse(cases[i].in, strlen(cases[i].in), &items, &n, &err) >= 0)
                        FAIL("case %zu accepted", i);
                if (!strstr(err.msg, cases[i].msg))
                        FAIL("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
        }
}
