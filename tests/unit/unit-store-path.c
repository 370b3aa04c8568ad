/* Unit tests for src/store/store-path: syntax checks and the computed paths of
 * NIX-FORMATS.md 1.4 and 2.6 (text, source, fixed-output, output paths). */
#include "tap.h"

#include "base/base-cleanup.h"
#include "store/store-path.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct hash hex256(const char *hex)
{
        struct hash h;
        if (hash_parse_digits(hex, strlen(hex), HASH_SHA256, &h, NULL) < 0)
                FAIL("bad test hex '%s'", hex);
        return h;
}

static void check_path(const struct store_path *sp, const char *want)
{
        _cleanup_free_ char *s = NULL;
        CHECK_OK(store_path_print(STORE_DIR_DEFAULT, sp, &s));
        CHECK_STR(s, want);
}

TEST(parse_valid_and_invalid)
{
        struct store_path sp;
        struct cl_error err;
        const char *ok = "/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz-output";
        CHECK_OK(store_path_parse("/nix/store", ok, &sp, &err));
        CHECK_STR(store_path_name(&sp), "output");
        CHECK_OK(store_path_parse(
            "/nix/store", "/nix/store//m7y372g6jb0g4hh1dzmj847rd356fhnz-a+-._?=/", &sp, &err));
        CHECK_STR(sp.base, "m7y372g6jb0g4hh1dzmj847rd356fhnz-a+-._?=");
        /* Nix 2.8 accepts names starting with '.' */
        CHECK_OK(store_path_parse("/nix/store", "/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz-.foo",
                                  &sp, &err));

        struct {
                const char *path, *msg;
        } bad[] = {
            {"/nix/storex/m7y372g6jb0g4hh1dzmj847rd356fhnz-a", "is not in the store"},
            {"/tmp/m7y372g6jb0g4hh1dzmj847rd356fhnz-a", "is not in the store"},
            {"/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz-a/bin", "inside a store object"},
            {"/nix/store/", "store directory itself"},
            {"/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhn", "too short"},
            {"/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz-", "name is empty"},
            {"/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhne-a", "illegal base-32"},
            {"/nix/store/M7y372g6jb0g4hh1dzmj847rd356fhnz-a", "illegal base-32"},
            {"/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz_a", "no '-' after"},
            {"/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz-a b", "illegal character ' '"},
            {"/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz-a\xc3\xa9", "illegal byte 0xc3"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (store_path_parse("/nix/store", bad[i].path, &sp, &err) != -EINVAL)
                        FAIL("'%s' was accepted", bad[i].path);
                if (!strstr(err.msg, bad[i].msg))
                        FAIL("'%s': message '%s' lacks '%s'", bad[i].path, err.msg, bad[i].msg);
        }
}

TEST(name_length_limit)
{
        char path[400];
        char name[220];
        memset(name, 'a', sizeof(name));
        struct store_path sp;
        struct cl_error err;
        name[211] = '\0';
        snprintf(path, sizeof(path), "/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz-%s", name);
        CHECK_OK(store_path_parse("/nix/store", path, &sp, &err));
        name[211] = 'a';
        name[212] = '\0';
        snprintf(path, sizeof(path), "/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz-%s", name);
        CHECK_INT(store_path_parse("/nix/store", path, &sp, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "longer than 211"));
}

TEST(store_dir_checks)
{
        CHECK_OK(store_dir_check("/nix/store", NULL));
        CHECK_INT(store_dir_check("nix/store", NULL), ==, -EINVAL);
        CHECK_INT(store_dir_check("/nix/store/", NULL), ==, -EINVAL);
        CHECK_INT(store_dir_check("/nix//store", NULL), ==, -EINVAL);
}

TEST(fixed_flat_example_a)
{
        struct hash h;
        CHECK_OK(hash_buffer(HASH_SHA256, "foo\n", 4, &h));
        struct store_path sp;
        CHECK_OK(store_make_fixed_path("/nix/store", "output", STORE_CA_FLAT, &h, NULL, 0, false,
                                       &sp, NULL));
        check_path(&sp, "/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz-output");
}

TEST(recursive_sha256_example_b)
{
        struct hash h = hex256("2ee47fce7ccc12afe88c2bf5b408173bae712206a4191b10f03b073a259b740b");
        struct store_path sp;
        CHECK_OK(store_make_fixed_path("/nix/store", "output", STORE_CA_RECURSIVE, &h, NULL, 0,
                                       false, &sp, NULL));
        check_path(&sp, "/nix/store/a517xfygy9w2q5i3c2dbm50sw4p70b4c-output");
        CHECK_OK(store_make_source_path("/nix/store", "output", &h, NULL, 0, false, &sp, NULL));
        check_path(&sp, "/nix/store/a517xfygy9w2q5i3c2dbm50sw4p70b4c-output");
        /* source FOD of 2.2 */
        h = hex256("894517c9163c896ec31a2adbd33c0681fd5f45b2c0ef08a64c92a03fb97f390f");
        CHECK_OK(store_make_fixed_path("/nix/store", "source", STORE_CA_RECURSIVE, &h, NULL, 0,
                                       false, &sp, NULL));
        check_path(&sp, "/nix/store/i00sflxqsj37lfmf95m8mn0grv615hpj-source");
}

TEST(text_example_c_and_source_example_d)
{
        struct hash h;
        CHECK_OK(hash_buffer(HASH_SHA256, "hi\n", 3, &h));
        char buf[HASH_STR_MAX];
        CHECK_STR(hash_print(&h, HASH_BASE16, false, buf),
                  "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4");
        struct store_path sp;
        CHECK_OK(store_make_text_path("/nix/store", "foo", &h, NULL, 0, &sp, NULL));
        check_path(&sp, "/nix/store/x24aw66d714g0fmnw1i07f1sb113kng1-foo");
        h = hex256("10551daed7fa467d0b58826e7eb9a0f2af7d693de319f2ef775fffcda244b9f6");
        CHECK_OK(store_make_source_path("/nix/store", "hi.txt", &h, NULL, 0, false, &sp, NULL));
        check_path(&sp, "/nix/store/qs2vcw1sd6lzsvgvq6gggnw1v31qrm28-hi.txt");
}

TEST(text_with_references_2_6)
{
        /* intermediate.drv depends on source.drv: a text path with one reference */
        const char *drv =
            "Derive([(\"dev\",\"/nix/store/xgskw9kbh807ah56r4f4kxdh0fa1i0ip-intermediate-dev\","
            "\"\",\"\"),(\"out\",\"/nix/store/jlzxv2xpqj0adi22cy93573vyf9xr6fw-intermediate\","
            "\"\",\"\")],[(\"/nix/store/jwmbpldsdgfjhkxk317jn55jilyfl63f-source.drv\",[\"out\"])"
            "],[],\"x86_64-linux\",\"/bin/intermediate\",[],[(\"dev\",\"/nix/store/"
            "xgskw9kbh807ah56r4f4kxdh0fa1i0ip-intermediate-dev\"),(\"out\",\"/nix/store/"
            "jlzxv2xpqj0adi22cy93573vyf9xr6fw-intermediate\")])";
        struct hash h;
        CHECK_OK(hash_buffer(HASH_SHA256, drv, strlen(drv), &h));
        const char *refs[] = {"/nix/store/jwmbpldsdgfjhkxk317jn55jilyfl63f-source.drv"};
        struct store_path sp;
        CHECK_OK(store_make_text_path("/nix/store", "intermediate.drv", &h, refs, 1, &sp, NULL));
        check_path(&sp, "/nix/store/kp6i4n4bb3hlniwqjakhlf046qpdc0gl-intermediate.drv");
}

TEST(output_path_hello)
{
        struct hash hm = hex256("1142b64dfc10c25b923658cd6a75f2eb8603497ca6e5c3fe3c77c3b7cc7ba923");
        struct store_path sp;
        CHECK_OK(store_make_output_path("/nix/store", "hello", "out", &hm, &sp, NULL));
        check_path(&sp, "/nix/store/mjs27ix6ig2bkbi3s3sm470vrv4lf7ic-hello");
        char name[STORE_NAME_MAX + 1];
        CHECK_OK(store_output_path_name("hello", "dev", name, NULL));
        CHECK_STR(name, "hello-dev");
}

TEST(store_dir_is_hashed)
{
        struct hash h;
        CHECK_OK(hash_buffer(HASH_SHA256, "foo\n", 4, &h));
        struct store_path a, b;
        CHECK_OK(store_make_fixed_path("/nix/store", "output", STORE_CA_FLAT, &h, NULL, 0, false,
                                       &a, NULL));
        CHECK_OK(store_make_fixed_path("/other/store", "output", STORE_CA_FLAT, &h, NULL, 0, false,
                                       &b, NULL));
        CHECK(strcmp(a.base, b.base) != 0);
}

TEST(fixed_with_references_refused)
{
        struct hash h;
        CHECK_OK(hash_buffer(HASH_SHA1, "x", 1, &h));
        const char *refs[] = {"/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz-output"};
        struct store_path sp;
        struct cl_error err;
        CHECK_INT(store_make_fixed_path("/nix/store", "x", STORE_CA_RECURSIVE, &h, refs, 1, false,
                                        &sp, &err),
                  ==, -EINVAL);
        CHECK(strstr(err.msg, "cannot have references"));
        /* a reference outside the store is refused too */
        CHECK_OK(hash_buffer(HASH_SHA256, "x", 1, &h));
        const char *bad[] = {"/tmp/m7y372g6jb0g4hh1dzmj847rd356fhnz-output"};
        CHECK_INT(store_make_text_path("/nix/store", "x", &h, bad, 1, &sp, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "not in the store"));
}
