/* Unit tests for the store database and lock files: layout of a new store,
 * registration (atomic per set), queries, invalidation refused while
 * referenced, schema version checks, a locked database, path locks and
 * temporary roots. */
#include "tap.h"

#include "base/base-cleanup.h"
#include "store/store-db.h"
#include "store/store-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define H "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define P(x) "/nix/store/" x
#define A P("00000000000000000000000000000000-a")
#define B P("11111111111111111111111111111111-b")
#define C P("22222222222222222222222222222222-c")
#define D P("33333333333333333333333333333333-d.drv")

static struct store_db *open_store(const char *root, long timeout_ms)
{
        struct store_db_options o = {.root = root, .timeout_ms = timeout_ms};
        struct store_db *db = NULL;
        struct cl_error err = {0};
        int r = store_db_open(&o, &db, &err);
        if (r < 0)
                FAIL("store_db_open: %s", err.msg);
        return db;
}

static struct store_path_info info(const char *path, char **refs, size_t n)
{
        struct store_path_info i = {0};
        i.path = (char *)path;
        i.nar_hash = (char *)H;
        i.nar_size = 120;
        i.references = refs;
        i.n_references = n;
        return i;
}

static char *join(const char *a, const char *b)
{
        char *p = NULL;
        if (asprintf(&p, "%s/%s", a, b) < 0)
                abort();
        return p;
}

TEST(open_creates_nix_layout)
{
        _cleanup_free_ char *root = tap_mkdtemp();
        struct store_db *db = open_store(root, 0);
        static const char *const want[] = {
            "nix/store",
            "nix/store/.links",
            "nix/var/nix/db/big-lock",
            "nix/var/nix/db/db.sqlite",
            "nix/var/nix/db/reserved",
            "nix/var/nix/temproots",
            "nix/var/nix/gcroots",
            "nix/var/nix/profiles",
            "nix/var/nix/gcroots/per-user",
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                _cleanup_free_ char *p = join(root, want[i]);
                struct stat st;
                if (lstat(p, &st) < 0)
                        FAIL("missing '%s'", want[i]);
        }
        _cleanup_free_ char *schema_path = join(root, "nix/var/nix/db/schema");
        _cleanup_free_ char *schema = tap_read_file(schema_path);
        CHECK_STR(schema, "10");
        store_db_close(db);

        /* WAL journal, and the schema's tables */
        _cleanup_free_ char *dbp = join(root, "nix/var/nix/db/db.sqlite");
        sqlite3 *s = NULL;
        CHECK(sqlite3_open(dbp, &s) == SQLITE_OK);
        sqlite3_stmt *st = NULL;
        CHECK(sqlite3_prepare_v2(s, "pragma journal_mode;", -1, &st, NULL) == SQLITE_OK);
        CHECK(sqlite3_step(st) == SQLITE_ROW);
        CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        CHECK(sqlite3_prepare_v2(s,
                                 "select group_concat(name, ',') from (select name from "
                                 "sqlite_master order by rowid);",
                                 -1, &st, NULL) == SQLITE_OK);
        CHECK(sqlite3_step(st) == SQLITE_ROW);
        CHECK_STR((const char *)sqlite3_column_text(st, 0),
                  "ValidPaths,sqlite_autoindex_ValidPaths_1,sqlite_sequence,Refs,"
                  "sqlite_autoindex_Refs_1,IndexReferrer,IndexReference,DeleteSelfRefs,"
                  "DerivationOutputs,sqlite_autoindex_DerivationOutputs_1,"
                  "IndexDerivationOutputs");
        sqlite3_finalize(st);
        sqlite3_close(s);

        /* reopening an existing store works and keeps the schema */
        db = open_store(root, 0);
        store_db_close(db);
        tap_rm_rf(root);
}

TEST(register_and_query)
{
        _cleanup_free_ char *root = tap_mkdtemp();
        struct store_db *db = open_store(root, 0);
        struct cl_error err = {0};
        char *ra[] = {(char *)A};            /* a refers to itself */
        char *rb[] = {(char *)A};            /* b -> a */
        char *rc[] = {(char *)B, (char *)C}; /* c -> b, c -> c */
        struct store_path_info set[4] = {info(C, rc, 2), info(A, ra, 1), info(B, rb, 1),
                                         info(D, rb, 1)};
        struct store_drv_output outs[] = {{(char *)"out", (char *)C}};
        set[3].outputs = outs;
        set[3].n_outputs = 1;
        set[3].ca = (char *)"text:sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s";
        set[1].ultimate = true;
        set[1].deriver = (char *)D;
        if (store_db_register(db, set, 4, &err) < 0)
                FAIL("register: %s", err.msg);
        CHECK_INT(store_db_is_valid(db, A, &err), ==, 1);
        CHECK_INT(store_db_is_valid(db, P("44444444444444444444444444444444-x"), &err), ==, 0);

        _cleanup_strv_ char **refs = NULL;
        CHECK_OK(store_db_references(db, C, &refs, &err));
        CHECK_INT(store_strv_len(refs), ==, 2);
        CHECK_STR(refs[0], B);
        CHECK_STR(refs[1], C);

        _cleanup_strv_ char **referrers = NULL;
        CHECK_OK(store_db_referrers(db, A, &referrers, &err));
        CHECK_INT(store_strv_len(referrers), ==, 3);
        CHECK_STR(referrers[0], A);
        CHECK_STR(referrers[1], B);
        CHECK_STR(referrers[2], D);

        char *start[] = {(char *)C};
        _cleanup_strv_ char **req = NULL;
        CHECK_OK(store_db_requisites(db, start, 1, &req, &err));
        CHECK_INT(store_strv_len(req), ==, 3);
        CHECK_STR(req[0], A);
        CHECK_STR(req[2], C);

        struct store_path_info *got = NULL;
        CHECK_OK(store_db_query_info(db, A, &got, &err));
        CHECK_STR(got->nar_hash, H);
        CHECK_INT(got->nar_size, ==, 120);
        CHECK(got->ultimate);
        CHECK_STR(got->deriver, D);
        CHECK(got->ca == NULL);
        CHECK(got->registration_time > 1600000000);
        store_path_info_free(got);
        CHECK_OK(store_db_query_info(db, D, &got, &err));
        CHECK_INT(got->n_outputs, ==, 1);
        CHECK_STR(got->outputs[0].name, "out");
        CHECK_STR(got->outputs[0].path, C);
        CHECK(!got->ultimate);
        CHECK(got->deriver == NULL);
        store_path_info_free(got);

        _cleanup_strv_ char **derivers = NULL;
        CHECK_OK(store_db_valid_derivers(db, C, &derivers, &err));
        CHECK_INT(store_strv_len(derivers), ==, 1);

        /* dependencies first, as nix-store -q --requisites prints them */
        char *order[] = {(char *)D, (char *)C, (char *)A, (char *)B};
        CHECK_OK(store_db_topo_sort(db, order, 4, &err));
        CHECK_STR(order[0], A);
        CHECK_STR(order[1], B);

        CHECK_INT(store_db_query_info(db, P("44444444444444444444444444444444-x"), &got, &err), ==,
                  -ENOENT);
        CHECK(strstr(err.msg, "is not valid") != NULL);
        store_db_close(db);
        tap_rm_rf(root);
}

TEST(registration_is_atomic)
{
        _cleanup_free_ char *root = tap_mkdtemp();
        struct store_db *db = open_store(root, 0);
        struct cl_error err = {0};
        /* the third path refers to a path that is neither valid nor in the set */
        char *rb[] = {(char *)A};
        char *bad[] = {(char *)P("99999999999999999999999999999999-missing")};
        struct store_path_info set[3] = {info(A, NULL, 0), info(B, rb, 1), info(C, bad, 1)};
        int r = store_db_register(db, set, 3, &err);
        CHECK_INT(r, ==, -ENOENT);
        CHECK(strstr(err.msg, "99999999999999999999999999999999-missing") != NULL);
        CHECK_INT(store_db_is_valid(db, A, &err), ==, 0);
        CHECK_INT(store_db_is_valid(db, B, &err), ==, 0);

        /* a cycle between two paths is refused, and nothing stays */
        char *ra[] = {(char *)B};
        struct store_path_info cyc[2] = {info(A, ra, 1), info(B, rb, 1)};
        CHECK_INT(store_db_register(db, cyc, 2, &err), ==, -ELOOP);
        CHECK(strstr(err.msg, "cycle") != NULL);
        CHECK_INT(store_db_is_valid(db, A, &err), ==, 0);

        /* a path outside the store, and a bad hash */
        struct store_path_info out = info("/tmp/x", NULL, 0);
        CHECK_INT(store_db_register(db, &out, 1, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "'/tmp/x' is not in the store") != NULL);
        struct store_path_info badhash = info(A, NULL, 0);
        badhash.nar_hash = (char *)"md5:00";
        CHECK_INT(store_db_register(db, &badhash, 1, &err), ==, -EINVAL);

        /* the good set goes in whole */
        struct store_path_info good[2] = {info(B, rb, 1), info(A, NULL, 0)};
        CHECK_OK(store_db_register(db, good, 2, &err));
        CHECK_INT(store_db_is_valid(db, B, &err), ==, 1);
        store_db_close(db);
        tap_rm_rf(root);
}

TEST(invalidate_refuses_referenced_paths)
{
        _cleanup_free_ char *root = tap_mkdtemp();
        struct store_db *db = open_store(root, 0);
        struct cl_error err = {0};
        char *ra[] = {(char *)A};
        struct store_path_info set[2] = {info(A, ra, 1), info(B, ra, 1)};
        CHECK_OK(store_db_register(db, set, 2, &err));
        CHECK_INT(store_db_invalidate(db, A, &err), ==, -EBUSY);
        CHECK(strstr(err.msg, "still referenced by '" B "'") != NULL);
        CHECK_INT(store_db_is_valid(db, A, &err), ==, 1);
        CHECK_OK(store_db_invalidate(db, B, &err));
        /* a self-reference does not hold a path */
        CHECK_OK(store_db_invalidate(db, A, &err));
        CHECK_INT(store_db_is_valid(db, A, &err), ==, 0);
        CHECK_INT(store_db_invalidate(db, A, &err), ==, -ENOENT);
        store_db_close(db);
        tap_rm_rf(root);
}

static void write_schema(const char *root, const char *v)
{
        _cleanup_free_ char *p = join(root, "nix/var/nix/db/schema");
        tap_write_file(p, v, 0644);
}

TEST(schema_mismatch_is_refused)
{
        _cleanup_free_ char *root = tap_mkdtemp();
        store_db_close(open_store(root, 0));
        struct store_db_options o = {.root = root};
        struct store_db *db = NULL;
        struct cl_error err = {0};

        write_schema(root, "11");
        CHECK_INT(store_db_open(&o, &db, &err), ==, -EPROTONOSUPPORT);
        CHECK(strstr(err.msg, "schema version 11") != NULL);
        CHECK(strstr(err.msg, root) != NULL);
        write_schema(root, "7");
        CHECK_INT(store_db_open(&o, &db, &err), ==, -EPROTONOSUPPORT);
        CHECK(strstr(err.msg, "old schema version 7") != NULL);
        write_schema(root, "ten");
        CHECK_INT(store_db_open(&o, &db, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "corrupt") != NULL);
        write_schema(root, "10");
        db = open_store(root, 0);
        store_db_close(db);
        tap_rm_rf(root);
}

TEST(locked_database_is_reported)
{
        _cleanup_free_ char *root = tap_mkdtemp();
        store_db_close(open_store(root, 0));
        struct store_db_options o = {.root = root, .timeout_ms = 200};
        struct store_db *db = NULL;
        struct cl_error err = {0};

        /* a process holding the big lock exclusively (Nix upgrading the schema) */
        _cleanup_free_ char *lock = join(root, "nix/var/nix/db/big-lock");
        int fd = open(lock, O_RDWR | O_CLOEXEC);
        CHECK(fd >= 0);
        CHECK(flock(fd, LOCK_EX) == 0);
        CHECK_INT(store_db_open(&o, &db, &err), ==, -EBUSY);
        CHECK(strstr(err.msg, "big-lock") != NULL);
        close(fd);

        /* another connection holding SQLite's write lock */
        db = open_store(root, 200);
        _cleanup_free_ char *dbp = join(root, "nix/var/nix/db/db.sqlite");
        sqlite3 *s = NULL;
        CHECK(sqlite3_open(dbp, &s) == SQLITE_OK);
        CHECK(sqlite3_exec(s, "begin exclusive;", NULL, NULL, NULL) == SQLITE_OK);
        struct store_path_info i = info(A, NULL, 0);
        CHECK_INT(store_db_register(db, &i, 1, &err), ==, -EBUSY);
        CHECK(strstr(err.msg, "is locked by another process") != NULL);
        CHECK(sqlite3_exec(s, "rollback;", NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(s);
        CHECK_OK(store_db_register(db, &i, 1, &err));
        store_db_close(db);
        tap_rm_rf(root);
}

TEST(path_lock_stale_rule)
{
        _cleanup_free_ char *root = tap_mkdtemp();
        int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(dfd >= 0);
        struct cl_error err = {0};
        struct store_path_lock l = STORE_PATH_LOCK_INIT;
        CHECK_OK(store_path_lock_acquire(dfd, "x-name", 0, &l, &err));

        /* held: another process cannot take it */
        pid_t pid = fork();
        if (pid == 0) {
                struct store_path_lock l2 = STORE_PATH_LOCK_INIT;
                _exit(store_path_lock_acquire(dfd, "x-name", 0, &l2, NULL) == -EWOULDBLOCK ? 0 : 1);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        /* a waiter on the old file notices it went stale and locks a new one */
        pid = fork();
        if (pid == 0) {
                /* an inherited descriptor would keep the lock alive */
                close(l.fd);
                struct store_path_lock l2 = STORE_PATH_LOCK_INIT;
                if (store_path_lock_acquire(dfd, "x-name", 5000, &l2, NULL) < 0)
                        _exit(1);
                struct stat st;
                if (fstat(l2.fd, &st) < 0 || st.st_size != 0 || st.st_nlink != 1)
                        _exit(2);
                _exit(0);
        }
        usleep(200 * 1000);
        store_path_lock_release(&l, true);
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status));
        CHECK_INT(WEXITSTATUS(status), ==, 0);
        close(dfd);
        tap_rm_rf(root);
}

TEST(temp_roots_file)
{
        _cleanup_free_ char *root = tap_mkdtemp();
        struct store_db *db = open_store(root, 0);
        struct cl_error err = {0};
        CHECK_OK(store_db_add_temp_root(db, A, &err));
        CHECK_OK(store_db_add_temp_root(db, B, &err));
        char rel[64];
        snprintf(rel, sizeof(rel), "nix/var/nix/temproots/%ld", (long)getpid());
        _cleanup_free_ char *p = join(root, rel);
        int fd = open(p, O_RDWR | O_CLOEXEC);
        CHECK(fd >= 0);
        /* held exclusively while we live, as Nix's collector expects */
        CHECK(flock(fd, LOCK_SH | LOCK_NB) < 0);
        char buf[256] = {0};
        ssize_t n = read(fd, buf, sizeof(buf));
        CHECK_INT(n, ==, (ssize_t)(strlen(A) + strlen(B) + 2));
        CHECK_STR(buf, A);
        CHECK_STR(buf + strlen(A) + 1, B);
        close(fd);
        store_db_close(db);
        CHECK(access(p, F_OK) < 0);
        tap_rm_rf(root);
}
