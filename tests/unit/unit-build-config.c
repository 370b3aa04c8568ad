/* Unit tests for src/build/build-config: Nix-named keys, typed values, the
 * nix.conf file syntax, and errors that name the key, file and line. */
#include "tap.h"

#include "base/base-cleanup.h"
#include "build/build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

TEST(defaults_are_nix_defaults)
{
        struct build_settings s;
        CHECK_OK(build_settings_init(&s));
        CHECK_INT(s.sandbox, ==, SANDBOX_ON);
        CHECK_STR(s.build_users_group, "nixbld");
        CHECK_STR(s.sandbox_build_dir, "/build");
        CHECK(s.compress_build_log);
        CHECK_INT(s.max_jobs, ==, 1);
        build_settings_free(&s);
}

TEST(set_typed_values)
{
        struct build_settings s;
        struct cl_error err;
        CHECK_OK(build_settings_init(&s));
        CHECK_OK(build_settings_set(&s, "timeout", "3600", &err));
        CHECK_INT(s.timeout, ==, 3600);
        CHECK_OK(build_settings_set(&s, "sandbox", "relaxed", &err));
        CHECK_INT(s.sandbox, ==, SANDBOX_RELAXED);
        CHECK_OK(build_settings_set(&s, "sandbox", "false", &err));
        CHECK_INT(s.sandbox, ==, SANDBOX_OFF);
        CHECK_OK(build_settings_set(&s, "keep-failed", "true", &err));
        CHECK(s.keep_failed);
        CHECK_OK(build_settings_set(&s, "sandbox-paths", "/bin/sh=/usr/bin/busybox /opt?", &err));
        CHECK_INT(s.n_sandbox_paths, ==, 2);
        CHECK_OK(build_settings_set(&s, "extra-sandbox-paths", "/etc/x", &err));
        CHECK_INT(s.n_sandbox_paths, ==, 3);
        CHECK_STR(s.sandbox_paths[2], "/etc/x");
        CHECK_OK(build_settings_set(&s, "sandbox-paths", "/only", &err));
        CHECK_INT(s.n_sandbox_paths, ==, 1);
        CHECK_OK(build_settings_set(&s, "build-users-group", "", &err));
        CHECK_STR(s.build_users_group, "");
        build_settings_free(&s);
}

TEST(bad_values_name_key_and_value)
{
        struct build_settings s;
        struct cl_error err;
        CHECK_OK(build_settings_init(&s));
        CHECK_INT(build_settings_set(&s, "timeout", "soon", &err), ==, -EINVAL);
        CHECK_STR(err.msg, "setting 'timeout': 'soon' is not a number in range");
        CHECK_INT(build_settings_set(&s, "cores", "99999999999", &err), ==, -EINVAL);
        CHECK_INT(build_settings_set(&s, "sandbox", "maybe", &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "'maybe'") != NULL);
        CHECK_INT(build_settings_set(&s, "no-such-key", "1", &err), ==, -ENOENT);
        CHECK_STR(err.msg, "unknown setting 'no-such-key'");
        CHECK_INT(build_settings_set(&s, "sandbox-build-dir", "../x", &err), ==, -EINVAL);
        build_settings_free(&s);
}

TEST(load_file_collects_unknown_keys)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/cloister.conf", dir) < 0)
                abort();
        tap_write_file(path,
                       "# a nix.conf shared with Nix\n"
                       "\n"
                       "max-jobs = 4   # trailing comment\n"
                       "substituters = https://cache.example\n"
                       "  timeout=10\n"
                       "sandbox-paths = /bin/sh=/usr/bin/busybox\n",
                       0644);
        struct build_settings s;
        struct cl_error err;
        CHECK_OK(build_settings_init(&s));
        _cleanup_free_ char *unknown = NULL;
        if (build_settings_load(&s, path, &unknown, &err) < 0)
                FAIL("%s", err.msg);
        CHECK_INT(s.max_jobs, ==, 4);
        CHECK_INT(s.timeout, ==, 10);
        CHECK_INT(s.n_sandbox_paths, ==, 1);
        CHECK_STR(unknown, "substituters");
        build_settings_free(&s);
        tap_rm_rf(dir);
}

TEST(load_file_error_names_line)
{
        _cleanup_free_ char *dir = tap_mkdtemp();
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/cloister.conf", dir) < 0)
                abort();
        tap_write_file(path, "cores = 2\ncores = two\n", 0644);
        struct build_settings s;
        struct cl_error err;
        CHECK_OK(build_settings_init(&s));
        CHECK_INT(build_settings_load(&s, path, NULL, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "line 2") != NULL);
        CHECK(strstr(err.msg, "'two'") != NULL);
        tap_write_file(path, "just words\n", 0644);
        CHECK_INT(build_settings_load(&s, path, NULL, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "line 1: expected 'name = value'") != NULL);
        build_settings_free(&s);
        tap_rm_rf(dir);
        CHECK_INT(build_settings_load(&s, "/nonexistent/cloister.conf", NULL, &err), ==, -ENOENT);
        CHECK_STR(err.msg,
                  "read configuration '/nonexistent/cloister.conf': No such file or directory");
}
