/* build-core: `cloister build` end to end with a static busybox added to a
 * fresh store: a trivial output registered as Nix reads it, references and
 * the scheduler, the builder's environment, disallowedRequisites with its
 * chain, a failing builder's last lines, a missing output, a fifo in an
 * output, bad input, and nothing left behind after a failure. */
#include "base/base-cleanup.h"
#include "store/store-hash.h"
#include "store/store-path.h"
#include "tap.h"
#include "build-test.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct env {
        char *tmp;
        char *store;   /* --store ROOT */
        char *busybox; /* its store path */
        char *cloister;
};

static void setup(struct env *e)
{
        e->tmp = tap_mkdtemp();
        /* as root the build user mounts from below the root: it must be able to
         * traverse it, as it can /nix */
        CHECK(chmod(e->tmp, 0755) == 0);
        e->store = xasprintf("%s/root", e->tmp);
        e->cloister = tap_build_path("src/cloister");
        build_test_copy_busybox(e->tmp);
        _cleanup_free_ char *dir = xasprintf("%s/busybox", e->tmp);
        char *argv[] = {e->cloister, "store", "add", "--store", e->store, dir, NULL};
        e->busybox = build_test_run_ok(argv);
}

static void teardown(struct env *e)
{
        tap_rm_rf(e->tmp);
}

/* A derivation with busybox sh -e -c script; extra is more JSON env entries
 * (",\"k\":\"v\""), inputs the inputDrvs object's contents. */
static char *add_drv(struct env *e, const char *name, const char *script, const char *extra,
                     const char *input_drvs)
{
        _cleanup_free_ char *json = xasprintf(
            "{\"name\":\"%s\",\"system\":\"x86_64-linux\",\"builder\":\"%s/bin/busybox\","
            "\"args\":[\"sh\",\"-e\",\"-c\",\"%s\"],"
            "\"env\":{\"builder\":\"%s/bin/busybox\",\"name\":\"%s\","
            "\"system\":\"x86_64-linux\",\"out\":\"\"%s},"
            "\"outputs\":{\"out\":{\"path\":\"\"}},\"inputSrcs\":[\"%s\"],\"inputDrvs\":{%s}}",
            name, e->busybox, script, e->busybox, name, extra ? extra : "", e->busybox,
            input_drvs ? input_drvs : "");
        _cleanup_free_ char *file = xasprintf("%s/%s.json", e->tmp, name);
        tap_write_file(file, json, 0644);
        char *argv[] = {e->cloister, "drv", "add", "--store", e->store, file, NULL};
        return build_test_run_ok(argv);
}

/* The output path "out" of a .drv in the store. */
static char *out_path(struct env *e, const char *drv)
{
        _cleanup_free_ char *file = xasprintf("%s%s", e->store, drv);
        return build_test_drv_out(file);
}

static int build(struct env *e, const char *drv, struct tap_run_result *r)
{
        char *argv[] = {e->cloister, "build", "--store", e->store, (char *)drv, NULL};
        CHECK_OK(tap_run(argv, NULL, 120, r));
        return tap_exit_code(r->status);
}

static bool exists_in_store(struct env *e, const char *path)
{
        _cleanup_free_ char *p = xasprintf("%s%s", e->store, path);
        struct stat st;
        return lstat(p, &st) == 0;
}

/* Nothing left in ROOT/nix/var/nix/builds after a build. */
static void check_no_build_dirs(struct env *e)
{
        _cleanup_free_ char *p = xasprintf("%s/nix/var/nix/builds", e->store);
        build_test_check_dir_empty(p, "build directory");
}

static char *query(struct env *e, const char *what, const char *path)
{
        char *argv[] = {e->cloister, "store",      "query",      "--store",
                        e->store,    (char *)what, (char *)path, NULL};
        return build_test_run_ok(argv);
}

TEST_TIMEOUT(trivial_output_registered, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv =
            add_drv(&e, "hello", "echo building; echo hi > $out", NULL, NULL);
        _cleanup_free_ char *out = out_path(&e, drv);
        struct tap_run_result r;
        int code = build(&e, drv, &r);
        if (code != 0)
                FAIL("build: %d %s", code, r.err);
        chomp(r.out);
        CHECK_STR(r.out, out);
        CHECK(strstr(r.err, "building"));
        tap_run_result_free(&r);
        _cleanup_free_ char *file = xasprintf("%s%s", e.store, out);
        _cleanup_free_ char *content = tap_read_file(file);
        CHECK_STR(content, "hi\n");
        struct stat st;
        CHECK(lstat(file, &st) == 0);
        CHECK_INT(st.st_mode & 07777, ==, 0444);
        CHECK_INT(st.st_mtime, ==, 1);
        /* the NAR hash of a file holding "hi\n" (NIX-FORMATS.md 3.3) */
        _cleanup_free_ char *hash = query(&e, "--hash", out);
        CHECK_STR(hash, "sha256:1xmr8jicvzszfzpz46g37mlpvbzjl2wpwvl2b05psipssyp1sm8h");
        _cleanup_free_ char *deriver = query(&e, "--deriver", out);
        CHECK_STR(deriver, drv);
        /* Nix reads the registration */
        if (access("/usr/bin/nix-store", X_OK) == 0 && real_root()) {
                char *argv[] = {
                    "/usr/bin/nix-store", "--store", e.store, "-q", "--hash", out, NULL};
                CHECK_OK(tap_run(argv, NULL, 60, &r));
                CHECK_INT(tap_exit_code(r.status), ==, 0);
                CHECK(strstr(r.out, "1xmr8jicvzszfzpz46g37mlpvbzjl2wpwvl2b05psipssyp1sm8h"));
                tap_run_result_free(&r);
        }
        /* the stored log */
        char *largv[] = {e.cloister, "log", "--store", e.store, drv, NULL};
        CHECK_OK(tap_run(largv, NULL, 60, &r));
        CHECK_INT(tap_exit_code(r.status), ==, 0);
        CHECK_STR(r.out, "building\n");
        tap_run_result_free(&r);
        check_no_build_dirs(&e);
        /* valid already: nothing to do */
        CHECK_INT(build(&e, drv, &r), ==, 0);
        tap_run_result_free(&r);
        teardown(&e);
}

TEST_TIMEOUT(environment_as_nix, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv = add_drv(&e, "env",
                                           "export > $out; id -u >> $out; id -g >> $out; pwd >> "
                                           "$out; ls /nix/store >> $out; cat /etc/passwd >> $out",
                                           NULL, NULL);
        _cleanup_free_ char *out = out_path(&e, drv);
        struct tap_run_result r;
        int code = build(&e, drv, &r);
        if (code != 0)
                FAIL("build: %d %s", code, r.err);
        tap_run_result_free(&r);
        _cleanup_free_ char *file = xasprintf("%s%s", e.store, out);
        _cleanup_free_ char *text = tap_read_file(file);
        CHECK(text);
        static const char *const want[] = {
            "export HOME='/homeless-shelter'\n",
            "export NIX_BUILD_TOP='/build'\n",
            "export NIX_LOG_FD='2'\n",
            "export NIX_STORE='/nix/store'\n",
            "export PATH='/path-not-set'\n",
            "export TERM='xterm-256color'\n",
            "export TMPDIR='/build'\n",
            "\n1000\n100\n/build\n",
            "nixbld:x:1000:100:Nix build user:/build:/noshell\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                if (!strstr(text, want[i]))
                        FAIL("'%s' missing from:\n%s", want[i], text);
        /* the store lists the input closure (busybox) and the output only */
        _cleanup_free_ char *ls =
            xasprintf("%s\n%s\n", strrchr(e.busybox, '/') + 1, strrchr(out, '/') + 1);
        _cleanup_free_ char *ls2 =
            xasprintf("%s\n%s\n", strrchr(out, '/') + 1, strrchr(e.busybox, '/') + 1);
        CHECK(strstr(text, ls) || strstr(text, ls2));
        teardown(&e);
}

TEST_TIMEOUT(references_and_scheduler, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *a = add_drv(&e, "a", "echo a > $out", NULL, NULL);
        _cleanup_free_ char *a_out = out_path(&e, a);
        _cleanup_free_ char *extra = xasprintf(",\"a\":\"%s\"", a_out);
        _cleanup_free_ char *inputs = xasprintf("\"%s\":[\"out\"]", a);
        _cleanup_free_ char *b = add_drv(
            &e, "b", "mkdir $out; echo $a > $out/ref; ln -s $out/ref $out/self", extra, inputs);
        _cleanup_free_ char *b_out = out_path(&e, b);
        struct tap_run_result r;
        /* a is not built: the scheduler builds it first */
        int code = build(&e, b, &r);
        if (code != 0)
                FAIL("build: %d %s", code, r.err);
        tap_run_result_free(&r);
        _cleanup_free_ char *refs = query(&e, "--references", b_out);
        CHECK(strstr(refs, a_out));
        CHECK(strstr(refs, b_out));      /* the self reference */
        CHECK(!strstr(refs, e.busybox)); /* an input it does not refer to */
        check_no_build_dirs(&e);
        teardown(&e);
}

TEST_TIMEOUT(disallowed_requisites_with_chain, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *a = add_drv(&e, "a", "echo a > $out", NULL, NULL);
        _cleanup_free_ char *a_out = out_path(&e, a);
        _cleanup_free_ char *extra_b = xasprintf(",\"a\":\"%s\"", a_out);
        _cleanup_free_ char *in_b = xasprintf("\"%s\":[\"out\"]", a);
        _cleanup_free_ char *b = add_drv(&e, "b", "echo $a > $out", extra_b, in_b);
        _cleanup_free_ char *b_out = out_path(&e, b);
        _cleanup_free_ char *extra_c =
            xasprintf(",\"b\":\"%s\",\"disallowedRequisites\":\"%s\"", b_out, a_out);
        _cleanup_free_ char *in_c = xasprintf("\"%s\":[\"out\"]", b);
        _cleanup_free_ char *c = add_drv(&e, "c", "echo $b > $out", extra_c, in_c);
        _cleanup_free_ char *c_out = out_path(&e, c);
        struct tap_run_result r;
        CHECK_INT(build(&e, c, &r), ==, 100);
        CHECK(strstr(r.err, "disallowedRequisites"));
        _cleanup_free_ char *chain = xasprintf("%s -> %s -> %s", c_out, b_out, a_out);
        if (!strstr(r.err, chain))
                FAIL("no chain in: %s", r.err);
        tap_run_result_free(&r);
        CHECK(!exists_in_store(&e, c_out));
        CHECK(exists_in_store(&e, b_out));
        check_no_build_dirs(&e);
        teardown(&e);
}

TEST_TIMEOUT(failing_builder_shows_last_lines, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv = add_drv(
            &e, "fail", "i=1; while [ $i -le 30 ]; do echo line $i; i=$((i+1)); done; exit 3", NULL,
            NULL);
        struct tap_run_result r;
        CHECK_INT(build(&e, drv, &r), ==, 100);
        CHECK(strstr(r.err, "failed with exit code 3"));
        CHECK(strstr(r.err, "> line 30\n"));
        CHECK(strstr(r.err, "> line 6\n"));
        CHECK(!strstr(r.err, "> line 5\n"));
        tap_run_result_free(&r);
        check_no_build_dirs(&e);
        teardown(&e);
}

TEST_TIMEOUT(missing_output, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv = add_drv(&e, "none", "true", NULL, NULL);
        struct tap_run_result r;
        CHECK_INT(build(&e, drv, &r), ==, 100);
        CHECK(strstr(r.err, "failed to produce output path for output 'out'"));
        tap_run_result_free(&r);
        check_no_build_dirs(&e);
        teardown(&e);
}

TEST_TIMEOUT(fifo_in_output, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv = add_drv(&e, "fifo", "mkdir $out; mkfifo $out/f", NULL, NULL);
        _cleanup_free_ char *out = out_path(&e, drv);
        struct tap_run_result r;
        CHECK_INT(build(&e, drv, &r), ==, 100);
        CHECK(strstr(r.err, "not a regular file, directory or symlink"));
        tap_run_result_free(&r);
        CHECK(!exists_in_store(&e, out));
        check_no_build_dirs(&e);
        teardown(&e);
}

TEST_TIMEOUT(bad_input, 120)
{
        struct env e = {0};
        setup(&e);
        struct tap_run_result r;
        /* not a store path at all: usage */
        CHECK_INT(build(&e, "/tmp/x.drv", &r), ==, 2);
        CHECK(strstr(r.err, "'/tmp/x.drv'"));
        tap_run_result_free(&r);
        /* a store path that is not valid */
        CHECK_INT(build(&e, "/nix/store/00000000000000000000000000000000-x.drv", &r), ==, 1);
        CHECK(strstr(r.err, "is not valid"));
        tap_run_result_free(&r);
        /* a builder that does not exist */
        _cleanup_free_ char *json =
            xasprintf("{\"name\":\"nob\",\"system\":\"x86_64-linux\",\"builder\":\"%s/bin/nope\","
                      "\"args\":[],\"env\":{\"name\":\"nob\",\"out\":\"\"},\"outputs\":{\"out\":{"
                      "\"path\":\"\"}},"
                      "\"inputSrcs\":[\"%s\"],\"inputDrvs\":{}}",
                      e.busybox, e.busybox);
        _cleanup_free_ char *file = xasprintf("%s/nob.json", e.tmp);
        tap_write_file(file, json, 0644);
        char *argv[] = {e.cloister, "drv", "add", "--store", e.store, file, NULL};
        CHECK_OK(tap_run(argv, NULL, 60, &r));
        CHECK_INT(tap_exit_code(r.status), ==, 0);
        chomp(r.out);
        _cleanup_free_ char *drv = strdup(r.out);
        tap_run_result_free(&r);
        CHECK_INT(build(&e, drv, &r), ==, 100);
        CHECK(strstr(r.err, "bin/nope"));
        tap_run_result_free(&r);
        check_no_build_dirs(&e);
        teardown(&e);
}

/* A fixed-output derivation: its path computed here, as the evaluator does. */
static char *add_fod(struct env *e, const char *name, const char *script, const char *algo,
                     const char *hex, bool recursive)
{
        struct hash h;
        struct cl_error err = {0};
        enum hash_type type;
        CHECK_OK(hash_type_from_name(algo, strlen(algo), &type));
        CHECK_OK(hash_parse_digits(hex, strlen(hex), type, &h, &err));
        struct store_path sp;
        CHECK_OK(store_make_fixed_path("/nix/store", name,
                                       recursive ? STORE_CA_RECURSIVE : STORE_CA_FLAT, &h, NULL, 0,
                                       false, &sp, &err));
        _cleanup_free_ char *json =
            xasprintf("{\"name\":\"%s\",\"system\":\"x86_64-linux\",\"builder\":\"%s/bin/busybox\","
                      "\"args\":[\"sh\",\"-e\",\"-c\",\"%s\"],"
                      "\"env\":{\"name\":\"%s\",\"impureEnvVars\":\"CL_TEST_IMPURE\","
                      "\"out\":\"/nix/store/%s\"},"
                      "\"outputs\":{\"out\":{\"path\":\"/nix/store/%s\",\"hashAlgo\":\"%s%s\","
                      "\"hash\":\"%s\"}},\"inputSrcs\":[\"%s\"],\"inputDrvs\":{}}",
                      name, e->busybox, script, name, sp.base, sp.base, recursive ? "r:" : "", algo,
                      hex, e->busybox);
        _cleanup_free_ char *file = xasprintf("%s/%s.json", e->tmp, name);
        tap_write_file(file, json, 0644);
        char *argv[] = {e->cloister, "drv", "add", "--store", e->store, file, NULL};
        return build_test_run_ok(argv);
}

TEST_TIMEOUT(fixed_output_flat_and_impure_env, 120)
{
        struct env e = {0};
        setup(&e);
        setenv("CL_TEST_IMPURE", "passed", 1);
        _cleanup_free_ char *drv = add_fod(
            &e, "fo",
            "[ \\\"$CL_TEST_IMPURE\\\" = passed ]; [ \\\"$NIX_OUTPUT_CHECKED\\\" = 1 ]; echo hi > "
            "$out",
            "sha256", "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4", false);
        _cleanup_free_ char *out = out_path(&e, drv);
        struct tap_run_result r;
        int code = build(&e, drv, &r);
        if (code != 0)
                FAIL("build: %d %s", code, r.err);
        tap_run_result_free(&r);
        CHECK(exists_in_store(&e, out));
        teardown(&e);
}

TEST_TIMEOUT(fixed_output_hash_mismatch, 120)
{
        struct env e = {0};
        setup(&e);
        /* declared: sha256 of "ho\n"; built: "hi\n" */
        _cleanup_free_ char *drv =
            add_fod(&e, "fo", "echo hi > $out", "sha256",
                    "56cc5eec55dc58c7043ac724f962e41892ef591552dd023a9b81f95958bfff63", false);
        _cleanup_free_ char *out = out_path(&e, drv);
        struct tap_run_result r;
        CHECK_INT(build(&e, drv, &r), ==, 102);
        CHECK(strstr(r.err, "specified: sha256-Vsxe7FXcWMcEOsck+WLkGJLvWRVS3QI6m4H5WVi//2M="));
        CHECK(strstr(r.err, "got:       sha256-mOpuTyFvL7S2n/+bOkSELDhobKaF8/VdxIxdP7EQe+Q="));
        tap_run_result_free(&r);
        CHECK(!exists_in_store(&e, out));
        /* recursive, sha1: the NAR of the file */
        _cleanup_free_ char *drv2 = add_fod(&e, "fr", "echo hi > $out", "sha1",
                                            "0000000000000000000000000000000000000000", true);
        CHECK_INT(build(&e, drv2, &r), ==, 102);
        CHECK(strstr(r.err, "got:       sha1-"));
        tap_run_result_free(&r);
        check_no_build_dirs(&e);
        teardown(&e);
}

TEST_TIMEOUT(check_reports_non_determinism, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv =
            add_drv(&e, "nd", "cat /proc/sys/kernel/random/uuid > $out", NULL, NULL);
        _cleanup_free_ char *out = out_path(&e, drv);
        struct tap_run_result r;
        CHECK_INT(build(&e, drv, &r), ==, 0);
        tap_run_result_free(&r);
        char *argv[] = {e.cloister, "build", "--store", e.store, "--check", drv, NULL};
        CHECK_OK(tap_run(argv, NULL, 120, &r));
        CHECK_INT(tap_exit_code(r.status), ==, 104);
        CHECK(strstr(r.err, "may not be deterministic"));
        tap_run_result_free(&r);
        _cleanup_free_ char *check = xasprintf("%s.check", out);
        CHECK(exists_in_store(&e, check));
        CHECK(exists_in_store(&e, out));
        /* a deterministic one passes */
        _cleanup_free_ char *det = add_drv(&e, "det", "echo same > $out", NULL, NULL);
        CHECK_INT(build(&e, det, &r), ==, 0);
        tap_run_result_free(&r);
        char *argv2[] = {e.cloister, "build", "--store", e.store, "--check", det, NULL};
        CHECK_OK(tap_run(argv2, NULL, 120, &r));
        CHECK_INT(tap_exit_code(r.status), ==, 0);
        tap_run_result_free(&r);
        teardown(&e);
}

TEST_TIMEOUT(timeout_and_keep_failed, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv =
            add_drv(&e, "slow", "echo start; touch /build/mark; sleep 100", NULL, NULL);
        struct tap_run_result r;
        char *argv[] = {e.cloister, "build", "--store", e.store, "--timeout", "1", "-K", drv, NULL};
        CHECK_OK(tap_run(argv, NULL, 60, &r));
        CHECK_INT(tap_exit_code(r.status), ==, 101);
        CHECK(strstr(r.err, "timed out"));
        char *kept = strstr(r.err, "keeping build directory '");
        CHECK(kept);
        kept += strlen("keeping build directory '");
        _cleanup_free_ char *dir = strndup(kept, strcspn(kept, "'"));
        _cleanup_free_ char *mark = xasprintf("%s/mark", dir);
        CHECK(access(mark, F_OK) == 0);
        tap_run_result_free(&r);
        char *argv2[] = {e.cloister,          "build", "--store", e.store,
                         "--max-silent-time", "1",     drv,       NULL};
        CHECK_OK(tap_run(argv2, NULL, 60, &r));
        CHECK_INT(tap_exit_code(r.status), ==, 101);
        CHECK(strstr(r.err, "max-silent-time"));
        tap_run_result_free(&r);
        teardown(&e);
}

TEST_TIMEOUT(setuid_refused_by_seccomp, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *drv = add_drv(
            &e, "suid", "touch f; if chmod 4755 f; then echo SETUID-ALLOWED; fi; echo ok > $out",
            NULL, NULL);
        struct tap_run_result r;
        CHECK_INT(build(&e, drv, &r), ==, 0);
        CHECK(!strstr(r.err, "SETUID-ALLOWED"));
        tap_run_result_free(&r);
        teardown(&e);
}

TEST_TIMEOUT(derivation_json_input, 120)
{
        struct env e = {0};
        setup(&e);
        _cleanup_free_ char *json =
            xasprintf("{\"name\":\"j\",\"system\":\"x86_64-linux\",\"builder\":\"%s/bin/busybox\","
                      "\"args\":[\"sh\",\"-e\",\"-c\",\"echo hi > $out\"],"
                      "\"env\":{\"name\":\"j\",\"out\":\"\"},\"outputs\":{\"out\":{\"path\":\"\"}},"
                      "\"inputSrcs\":[\"%s\"],\"inputDrvs\":{}}",
                      e.busybox, e.busybox);
        _cleanup_free_ char *file = xasprintf("%s/j.json", e.tmp);
        tap_write_file(file, json, 0644);
        struct tap_run_result r;
        CHECK_INT(build(&e, file, &r), ==, 0);
        chomp(r.out);
        CHECK(strstr(r.out, "-j") && strncmp(r.out, "/nix/store/", 11) == 0);
        _cleanup_free_ char *hash = query(&e, "--hash", r.out);
        CHECK_STR(hash, "sha256:1xmr8jicvzszfzpz46g37mlpvbzjl2wpwvl2b05psipssyp1sm8h");
        tap_run_result_free(&r);
        teardown(&e);
}
