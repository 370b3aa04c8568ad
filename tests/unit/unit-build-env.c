/* unit-build-env: the builder environment against what nix-build 2.8 gave two
 * builders on this machine (structured attributes, passAsFile, placeholders),
 * plus the fixed-output additions and argv. */
#include "build/build-env.h"

#include "base/base-cleanup.h"
#include "tap.h"
#include "unit-build-env-vectors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void parse(const char *text, struct derivation *d)
{
        struct cl_error err = {0};
        if (drv_parse(text, strlen(text), d, &err) < 0)
                FAIL("drv_parse: %s", err.msg);
}

static void make(const struct derivation *d, bool fod, struct build_env *e)
{
        struct cl_error err = {0};
        struct build_env_params p = {
            .drv = d,
            .store_dir = "/nix/store",
            .build_dir = "/build",
            .cores = 2,
            .fixed_output = fod,
        };
        if (build_env_make(&p, e, &err) < 0)
                FAIL("build_env_make: %s", err.msg);
}

static const struct build_env_file *file(const struct build_env *e, const char *name)
{
        for (size_t i = 0; i < e->n_files; i++)
                if (strcmp(e->files[i].name, name) == 0)
                        return &e->files[i];
        return NULL;
}

TEST(placeholder_and_attr_file_vectors)
{
        char buf[BUILD_PLACEHOLDER_LEN + 1];
        build_placeholder("out", buf);
        CHECK_STR(buf, "/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9");
        build_placeholder("dev", buf);
        CHECK_STR(buf, "/02qcpld1y6xhs5gz9bchpxaw0xdhmsp5dv88lh25r2ss44kh8dxz");
        char name[BUILD_ATTR_FILE_LEN + 1];
        build_attr_file_name("text", name);
        CHECK_STR(name, ".attr-1lf969yddshzhld7sr1vbagr07bnygg99lgl6gk5kxcnp4z9wbcq");
        /* Nix's own functional test, pass-as-file.sh */
        build_attr_file_name("foo", name);
        CHECK_STR(name, ".attr-1bp7cri8hplaz6hbz0v4f0nl44rl84q1sg25kgwqzipzd1mv89ic");
}

TEST(plain_env_is_nix_2_8s)
{
        _cleanup_drv_ struct derivation d = {0};
        _cleanup_build_env_ struct build_env e = {0};
        parse(NIX_PLAIN_DRV, &d);
        make(&d, false, &e);
        /* exactly what the builder's `export` listed (less busybox's SHLVL) */
        static const char *const want[] = {
            "HOME=/homeless-shelter",
            "NIX_BUILD_CORES=2",
            "NIX_BUILD_TOP=/build",
            "NIX_LOG_FD=2",
            "NIX_STORE=/nix/store",
            "PATH=/path-not-set",
            "PWD=/build",
            "TEMP=/build",
            "TEMPDIR=/build",
            "TERM=xterm-256color",
            "TMP=/build",
            "TMPDIR=/build",
            "builder=/nix/store/71fc7s32zl20dc955bhghy5dvalm7ndz-busybox/bin/busybox",
            "foo=a\nb",
            "name=envdump",
            "out=/nix/store/dfmd0r9b3841chkawxcw86gwzq2h74hc-envdump",
            "passAsFile=text",
            "system=x86_64-linux",
            "textPath=/build/.attr-1lf969yddshzhld7sr1vbagr07bnygg99lgl6gk5kxcnp4z9wbcq",
        };
        CHECK_INT(e.n_env, ==, ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                CHECK_STR(e.env[i], want[i]);
        CHECK(e.env[e.n_env] == NULL);
        CHECK(!e.structured);
        CHECK_INT(e.n_files, ==, 1);
        const struct build_env_file *f =
            file(&e, ".attr-1lf969yddshzhld7sr1vbagr07bnygg99lgl6gk5kxcnp4z9wbcq");
        CHECK(f);
        /* the placeholder inside the file was rewritten, as the builder's cat showed */
        CHECK_STR(f->data, "hello /nix/store/dfmd0r9b3841chkawxcw86gwzq2h74hc-envdump");
        CHECK_STR(e.program, "/nix/store/71fc7s32zl20dc955bhghy5dvalm7ndz-busybox/bin/busybox");
        CHECK_INT(e.n_argv, ==, 5);
        CHECK_STR(e.argv[0], "busybox");
        CHECK_STR(e.argv[1], "sh");
        /* placeholders in args are rewritten */
        CHECK(strstr(e.argv[4], "echo /nix/store/dfmd0r9b3841chkawxcw86gwzq2h74hc-envdump >>"));
        CHECK(!strstr(e.argv[4], "1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9"));
        CHECK(e.argv[5] == NULL);
        CHECK(!build_env_get(&e, "text"));
        CHECK(!build_env_get(&e, "NIX_OUTPUT_CHECKED"));
}

TEST(structured_attrs_are_nix_2_8s)
{
        _cleanup_drv_ struct derivation d = {0};
        _cleanup_build_env_ struct build_env e = {0};
        parse(NIX_SA_DRV, &d);
        make(&d, false, &e);
        CHECK(e.structured);
        static const char *const want[] = {
            "HOME=/homeless-shelter",
            /* Nix 2.8 puts the host path of its build directory here */
            "NIX_ATTRS_JSON_FILE=/build/.attrs.json",
            "NIX_ATTRS_SH_FILE=/build/.attrs.sh",
            "NIX_BUILD_CORES=2",
            "NIX_BUILD_TOP=/build",
            "NIX_LOG_FD=2",
            "NIX_STORE=/nix/store",
            "PATH=/path-not-set",
            "PWD=/build",
            "TEMP=/build",
            "TEMPDIR=/build",
            "TERM=xterm-256color",
            "TMP=/build",
            "TMPDIR=/build",
        };
        CHECK_INT(e.n_env, ==, ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                CHECK_STR(e.env[i], want[i]);
        const struct build_env_file *json = file(&e, ".attrs.json");
        const struct build_env_file *sh = file(&e, ".attrs.sh");
        CHECK(json && sh);
        CHECK_STR(json->data, NIX_SA_ATTRS_JSON);
        CHECK_STR(sh->data, NIX_SA_ATTRS_SH);
}

TEST(structured_outputs_inserted_when_absent)
{
        _cleanup_drv_ struct derivation d = {0};
        _cleanup_build_env_ struct build_env e = {0};
        parse(
            "Derive([(\"out\",\"/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-x\",\"\",\"\")],[],[],"
            "\"x86_64-linux\",\"/b\",[],[(\"__json\",\"{\\\"a\\\":1,\\\"z\\\":[]}\"),"
            "(\"out\",\"/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-x\")])",
            &d);
        make(&d, false, &e);
        CHECK_STR(
            file(&e, ".attrs.json")->data,
            "{\"a\":1,\"outputs\":{\"out\":\"/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-x\"},"
            "\"z\":[]}");
        CHECK_STR(file(&e, ".attrs.sh")->data,
                  "declare a=1\n"
                  "declare -A outputs=(['out']='/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-x' )\n"
                  "declare -a z=()\n");
        CHECK_STR(e.argv[0], "b");
        CHECK_INT(e.n_argv, ==, 1);
}

static const char *fake_env(void *userdata, const char *name)
{
        (void)userdata;
        return strcmp(name, "http_proxy") == 0 ? "http://proxy:3128" : NULL;
}

TEST(fixed_output_extras)
{
        _cleanup_drv_ struct derivation d = {0};
        _cleanup_build_env_ struct build_env e = {0};
        parse("Derive([(\"out\",\"/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz-output\",\"sha256\","
              "\"b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c\")],[],[],"
              "\"x86_64-linux\",\"/bin/sh\",[],[(\"impureEnvVars\",\"http_proxy  NO_SUCH\"),"
              "(\"out\",\"/nix/store/m7y372g6jb0g4hh1dzmj847rd356fhnz-output\")])",
              &d);
        struct cl_error err = {0};
        struct build_env_params p = {
            .drv = &d,
            .store_dir = "/nix/store",
            .build_dir = "/build",
            .cores = 1,
            .fixed_output = true,
            .lookup = fake_env,
        };
        CHECK_OK(build_env_make(&p, &e, &err));
        CHECK_STR(build_env_get(&e, "NIX_OUTPUT_CHECKED"), "1");
        CHECK_STR(build_env_get(&e, "http_proxy"), "http://proxy:3128");
        CHECK_STR(build_env_get(&e, "NO_SUCH"), "");
        CHECK_STR(build_env_get(&e, "impureEnvVars"), "http_proxy  NO_SUCH");
        CHECK_STR(build_env_get(&e, "NIX_BUILD_CORES"), "1");
}

TEST(drv_env_overrides_then_build_top_wins)
{
        _cleanup_drv_ struct derivation d = {0};
        _cleanup_build_env_ struct build_env e = {0};
        parse(
            "Derive([(\"out\",\"/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-x\",\"\",\"\")],[],[],"
            "\"x86_64-linux\",\"/b\",[],[(\"HOME\",\"/h\"),(\"PATH\",\"/p\"),(\"TERM\",\"dumb\"),"
            "(\"TMPDIR\",\"/t\"),(\"out\",\"/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-x\")])",
            &d);
        make(&d, false, &e);
        CHECK_STR(build_env_get(&e, "HOME"), "/h");
        CHECK_STR(build_env_get(&e, "PATH"), "/p");
        CHECK_STR(build_env_get(&e, "TMPDIR"), "/build");
        CHECK_STR(build_env_get(&e, "TERM"), "xterm-256color");
}

TEST(strings_attr_both_forms)
{
        _cleanup_drv_ struct derivation d = {0}, s = {0};
        parse(
            "Derive([(\"out\",\"/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-x\",\"\",\"\")],[],[],"
            "\"x86_64-linux\",\"/b\",[],[(\"allowedReferences\",\" a\\tb \"),"
            "(\"out\",\"/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-x\")])",
            &d);
        char **v = NULL;
        bool present;
        struct cl_error err = {0};
        CHECK_OK(build_drv_strings_attr(&d, "allowedReferences", &v, &present, &err));
        CHECK(present && v && v[0] && v[1] && !v[2]);
        CHECK_STR(v[0], "a");
        CHECK_STR(v[1], "b");
        build_strv_free(v);
        CHECK_OK(build_drv_strings_attr(&d, "disallowedReferences", &v, &present, &err));
        CHECK(!present && !v);
        parse(
            "Derive([(\"out\",\"/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-x\",\"\",\"\")],[],[],"
            "\"x86_64-linux\",\"/b\",[],[(\"__json\",\"{\\\"allowedReferences\\\":[],"
            "\\\"bad\\\":[1]}\"),(\"out\",\"/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-x\")])",
            &s);
        CHECK_OK(build_drv_strings_attr(&s, "allowedReferences", &v, &present, &err));
        CHECK(present && v && !v[0]);
        build_strv_free(v);
        CHECK_INT(build_drv_strings_attr(&s, "bad", &v, &present, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "'bad'"));
}

TEST(bad_json_is_an_error)
{
        _cleanup_drv_ struct derivation d = {0};
        parse(
            "Derive([(\"out\",\"/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-x\",\"\",\"\")],[],[],"
            "\"x86_64-linux\",\"/b\",[],[(\"__json\",\"[1]\"),"
            "(\"out\",\"/nix/store/mzgwvrjjir216ra58mwwizi8wj6y9ddr-x\")])",
            &d);
        struct build_env e = {0};
        struct cl_error err = {0};
        struct build_env_params p = {.drv = &d, .store_dir = "/nix/store", .build_dir = "/build"};
        CHECK_INT(build_env_make(&p, &e, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "__json"));
}
