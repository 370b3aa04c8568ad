/* The store database and the directories around it: opening a store under a
 * physical root the way Nix 2.8's LocalStore does (directories, big lock,
 * schema file, SQLite pragmas, the exact schema DDL), and every read and write
 * of ValidPaths, Refs and DerivationOutputs. */
#include "store/store-db.h"

#include "base/base-strv.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"
#include "store/store-root.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Nix 2.8's schema.sql, byte for byte: SQLite keeps each statement's text in
 * sqlite_master, so executing the same text gives the same schema rows. */
static const char schema_sql[] =
    "\n"
    "create table if not exists ValidPaths (\n"
    "    id               integer primary key autoincrement not null,\n"
    "    path             text unique not null,\n"
    "    hash             text not null,\n"
    "    registrationTime integer not null,\n"
    "    deriver          text,\n"
    "    narSize          integer,\n"
    "    ultimate         integer, -- null implies \"false\"\n"
    "    sigs             text, -- space-separated\n"
    "    ca               text -- if not null, an assertion that the path is "
    "content-addressed; see ValidPathInfo\n"
    ");\n"
    "\n"
    "create table if not exists Refs (\n"
    "    referrer  integer not null,\n"
    "    reference integer not null,\n"
    "    primary key (referrer, reference),\n"
    "    foreign key (referrer) references ValidPaths(id) on delete cascade,\n"
    "    foreign key (reference) references ValidPaths(id) on delete restrict\n"
    ");\n"
    "\n"
    "create index if not exists IndexReferrer on Refs(referrer);\n"
    "create index if not exists IndexReference on Refs(reference);\n"
    "\n"
    "-- Paths can refer to themselves, causing a tuple (N, N) in the Refs\n"
    "-- table.  This causes a deletion of the corresponding row in\n"
    "-- ValidPaths to cause a foreign key constraint violation (due to `on\n"
    "-- delete restrict' on the `reference' column).  Therefore, explicitly\n"
    "-- get rid of self-references.\n"
    "create trigger if not exists DeleteSelfRefs before delete on ValidPaths\n"
    "  begin\n"
    "    delete from Refs where referrer = old.id and reference = old.id;\n"
    "  end;\n"
    "\n"
    "create table if not exists DerivationOutputs (\n"
    "    drv  integer not null,\n"
    "    id   text not null, -- symbolic output id, usually \"out\"\n"
    "    path text not null,\n"
    "    primary key (drv, id),\n"
    "    foreign key (drv) references ValidPaths(id) on delete cascade\n"
    ");\n"
    "\n"
    "create index if not exists IndexDerivationOutputs on DerivationOutputs(path);\n";

/* Nix keeps this much disk space in db/reserved to free it for a collector. */
#define STORE_DB_RESERVED_SIZE (8 * 1024 * 1024)

struct store_db {
        char *root;
        char *store_dir;
        char *real_store; /* ROOT + store_dir */
        char *db_dir;     /* ROOT/nix/var/nix/db, for messages and SQLite */
        int store_fd;
        int state_fd;
        int db_fd;
        int big_lock_fd;
        long timeout_ms;
        sqlite3 *sql;
        int txn_depth;
        struct store_temproots temproots;
};

static void stmt_finalizep(sqlite3_stmt **s)
{
        if (*s)
                sqlite3_finalize(*s);
}
#define _cleanup_stmt_ __attribute__((cleanup(stmt_finalizep)))

/* A SQLite failure as -errno with the database named: busy and locked become
 * -EBUSY, so callers and tests can tell "someone else has it" apart. */
static int db_err(struct store_db *db, int rc, const char *what, struct cl_error *err)
{
        int code = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED     ? EBUSY
                   : (rc & 0xff) == SQLITE_NOMEM                                  ? ENOMEM
                   : (rc & 0xff) == SQLITE_CONSTRAINT                             ? EINVAL
                   : (rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_PERM ? EACCES
                                                                                  : EIO;
        if (code == EBUSY)
                return cl_errx(err, code,
                               "%s: store database '%s/db.sqlite' is locked by another process",
                               what, db->db_dir);
        return cl_errx(err, code, "%s: store database '%s/db.sqlite': %s", what, db->db_dir,
                       sqlite3_errmsg(db->sql));
}

static int db_exec(struct store_db *db, const char *sql, const char *what, struct cl_error *err)
{
        int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return db_err(db, rc, what, err);
        return 0;
}

static int db_prepare(struct store_db *db, const char *sql, sqlite3_stmt **ret,
                      struct cl_error *err)
{
        int rc = sqlite3_prepare_v2(db->sql, sql, -1, ret, NULL);
        if (rc != SQLITE_OK)
                return db_err(db, rc, "prepare statement", err);
        return 0;
}

/* mkdirat that accepts an existing directory (not a symlink to one). */
static int mkdir_at(int dirfd, const char *name, mode_t mode, bool *created, struct cl_error *err)
{
        if (created)
                *created = false;
        if (mkdirat(dirfd, name, mode) == 0) {
                if (created)
                        *created = true;
                return 0;
        }
        if (errno != EEXIST)
                return cl_err(err, errno, "create directory '%s'", name);
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return cl_err(err, errno, "stat '%s'", name);
        if (!S_ISDIR(st.st_mode))
                return cl_errx(err, ENOTDIR, "'%s' is not a directory", name);
        return 0;
}

static int open_dir_at(int dirfd, const char *name, struct cl_error *err)
{
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return cl_err(err, errno, "open directory '%s'", name);
        return fd;
}

/* Create every component of rel (relative, '/'-separated) under dirfd and
 * return an fd on the last one. Components are opened with O_NOFOLLOW, so a
 * symlink planted anywhere on the way is refused. */
static int mkdir_p_at(int dirfd, const char *rel, bool *created_last, struct cl_error *err)
{
        _cleanup_free_ char *copy = strdup(rel);
        if (!copy)
                return cl_err(err, ENOMEM, "create '%s'", rel);
        _cleanup_close_ int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return cl_err(err, errno, "dup");
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                int r = mkdir_at(cur, c, 0777, created_last, err);
                if (r < 0)
                        return cl_err_prefix(err, "create '%s'", rel);
                int next = open_dir_at(cur, c, err);
                if (next < 0)
                        return cl_err_prefix(err, "create '%s'", rel);
                close(cur);
                cur = next;
        }
        return TAKE_FD(cur);
}

/* What Nix 2.8's LocalStore constructor creates in a new store, so that a store
 * made by cloister looks like one made by nix-store --store ROOT. */
static int create_state_dirs(struct store_db *db, struct cl_error *err)
{
        static const char *const dirs[] = {"profiles", "temproots",         "db",
                                           "gcroots",  "profiles/per-user", "gcroots/per-user"};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                bool created = false;
                int r = mkdir_at(db->state_fd, dirs[i], i >= 4 ? 0755 : 0777, &created, err);
                if (r < 0)
                        return r;
                if (created && i >= 4 && fchmodat(db->state_fd, dirs[i], 0755, 0) < 0)
                        return cl_err(err, errno, "chmod '%s'", dirs[i]);
        }
        /* gcroots/profiles -> the physical profiles directory */
        _cleanup_free_ char *profiles = NULL;
        if (asprintf(&profiles, "%s/nix/var/nix/profiles",
                     strcmp(db->root, "/") == 0 ? "" : db->root) < 0)
                return cl_err(err, ENOMEM, "gcroots");
        if (symlinkat(profiles, db->state_fd, "gcroots/profiles") < 0 && errno != EEXIST)
                return cl_err(err, errno, "create symlink 'gcroots/profiles'");
        /* per-user directories of the caller, as Nix makes them */
        struct passwd pw, *res = NULL;
        char pwbuf[4096];
        if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res &&
            !strchr(pw.pw_name, '/') && pw.pw_name[0] != '.') {
                char p[512];
                for (int i = 0; i < 2; i++) {
                        snprintf(p, sizeof(p), "%s/per-user/%s", i ? "gcroots" : "profiles",
                                 pw.pw_name);
                        bool created = false;
                        int r = mkdir_at(db->state_fd, p, 0755, &created, err);
                        if (r < 0)
                                return r;
                        if (created && fchmodat(db->state_fd, p, 0755, 0) < 0)
                                return cl_err(err, errno, "chmod '%s'", p);
                }
        }
        /* disk space a collector can free when the disk is full */
        struct stat st;
        if (fstatat(db->db_fd, "reserved", &st, AT_SYMLINK_NOFOLLOW) < 0) {
                _cleanup_close_ int fd = openat(db->db_fd, "reserved",
                                                O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return cl_err(err, errno, "create '%s/reserved'", db->db_dir);
                if (posix_fallocate(fd, 0, STORE_DB_RESERVED_SIZE) != 0 &&
                    ftruncate(fd, STORE_DB_RESERVED_SIZE) < 0)
                        return cl_err(err, errno, "size '%s/reserved'", db->db_dir);
        }
        return 0;
}

/* The store directory: Nix makes it 1775 root:nixbld when run as root with the
 * build group present; done here only when it was just created. */
static int store_dir_setup(struct store_db *db, bool created, struct cl_error *err)
{
        if (!created)
                return 0;
        /* only the real root: root in a user namespace cannot give the
         * directory to a group that is not mapped there */
        if (store_root_is_real_root()) {
                struct group gr, *res = NULL;
                char buf[4096];
                if (getgrnam_r("nixbld", &gr, buf, sizeof(buf), &res) == 0 && res) {
                        if (fchown(db->store_fd, 0, gr.gr_gid) < 0)
                                return cl_err(err, errno, "chown '%s'", db->real_store);
                        if (fchmod(db->store_fd, 01775) < 0)
                                return cl_err(err, errno, "chmod '%s'", db->real_store);
                }
        }
        bool links_created;
        return mkdir_at(db->store_fd, ".links", 0777, &links_created, err);
}

/* db/schema: missing means a new store (0); otherwise a decimal version. */
static int read_schema(struct store_db *db, int *ret, struct cl_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = fd_read_file_at(db->db_fd, "schema", 64, 1, &data, &len);
        if (r == -ENOENT) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return cl_err(err, -r, "read '%s/schema'", db->db_dir);
        char *end = NULL;
        errno = 0;
        long v = strtol(data, &end, 10);
        if (len == 0 || end != data + len || errno || v < 0 || v > 1000000)
                return cl_errx(err, EINVAL, "store schema file '%s/schema' is corrupt", db->db_dir);
        *ret = (int)v;
        return 0;
}

static int write_schema(struct store_db *db, struct cl_error *err)
{
        /* written in place as Nix does (mode 0666 less the umask, no newline) */
        _cleanup_close_ int fd = openat(
            db->db_fd, "schema", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0)
                return cl_err(err, errno, "write '%s/schema'", db->db_dir);
        char v[16];
        int n = snprintf(v, sizeof(v), "%d", STORE_DB_SCHEMA_VERSION);
        int r = fd_write_all(fd, v, (size_t)n);
        if (r < 0)
                return cl_err(err, -r, "write '%s/schema'", db->db_dir);
        return 0;
}

static int open_sqlite(struct store_db *db, bool create, struct cl_error *err)
{
        _cleanup_free_ char *file = NULL;
        if (asprintf(&file, "%s/db.sqlite", db->db_dir) < 0)
                return cl_err(err, ENOMEM, "open database");
        int rc = sqlite3_open_v2(
            file, &db->sql,
            SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOFOLLOW, NULL);
        if (rc != SQLITE_OK) {
                int e = rc == SQLITE_CANTOPEN && !create ? ENOENT : EIO;
                return cl_errx(err, e, "open store database '%s': %s", file,
                               db->sql ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc));
        }
        sqlite3_extended_result_codes(db->sql, 1);
        sqlite3_busy_timeout(db->sql, db->timeout_ms > INT32_MAX ? INT32_MAX : (int)db->timeout_ms);
        int r = db_exec(db, "pragma foreign_keys = 1;", "enable foreign keys", err);
        if (r < 0)
                return r;
        r = db_exec(db, "pragma synchronous = normal;", "set synchronous mode", err);
        if (r < 0)
                return r;
        /* WAL, as Nix's default use-sqlite-wal; only switched when needed,
         * because switching takes an exclusive lock */
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = db_prepare(db, "pragma main.journal_mode;", &st, err);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return db_err(db, rc, "query journal mode", err);
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        bool is_wal = mode && strcmp(mode, "wal") == 0;
        sqlite3_finalize(TAKE_PTR(st));
        if (!is_wal) {
                r = db_exec(db, "pragma main.journal_mode = wal;", "set journal mode", err);
                if (r < 0)
                        return r;
        }
        r = db_exec(db, "pragma wal_autocheckpoint = 40000;", "set checkpoint interval", err);
        if (r < 0)
                return r;
        if (create) {
                r = db_exec(db, schema_sql, "create schema", err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int store_db_open(const struct store_db_options *opts, struct store_db **ret, struct cl_error *err)
{
        const char *store_dir = opts->store_dir ? opts->store_dir : "/nix/store";
        if (store_dir[0] != '/' || strcmp(store_dir, "/") == 0 ||
            store_dir[strlen(store_dir) - 1] == '/' || strstr(store_dir, "//"))
                return cl_errx(err, EINVAL, "invalid store directory '%s'", store_dir);
        if (!opts->root || opts->root[0] == '\0')
                return cl_errx(err, EINVAL, "no store root given");

        struct store_db *db = calloc(1, sizeof(*db));
        if (!db)
                return cl_err(err, ENOMEM, "open store");
        _cleanup_store_db_ struct store_db *guard = db;
        db->store_fd = db->state_fd = db->db_fd = db->big_lock_fd = -1;
        db->temproots = (struct store_temproots)STORE_TEMPROOTS_INIT;
        db->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : STORE_DB_TIMEOUT_MS;
        /* "/" and "/x/" both join cleanly with "/nix/..." */
        size_t rl = strlen(opts->root);
        while (rl > 1 && opts->root[rl - 1] == '/')
                rl--;
        db->root = strndup(opts->root, rl);
        db->store_dir = strdup(store_dir);
        const char *prefix = strcmp(db->root ? db->root : "", "/") == 0 ? "" : db->root;
        if (!db->root || !db->store_dir ||
            asprintf(&db->real_store, "%s%s", prefix, store_dir) < 0 ||
            asprintf(&db->db_dir, "%s/nix/var/nix/db", prefix) < 0)
                return cl_err(err, ENOMEM, "open store");

        _cleanup_close_ int root_fd = open(db->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0 && errno == ENOENT && db->root[0] == '/') {
                /* a new store root (the per-user default): create it and its
                 * parents as Nix's createDirs does; symlinks above the root are
                 * the user's business */
                int r = fs_mkdir_parents(db->root, 0777, "store root", err);
                if (r < 0)
                        return r;
                root_fd = open(db->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (root_fd < 0)
                return cl_err(err, errno, "open store root '%s'", db->root);
        bool store_created = false;
        db->store_fd = mkdir_p_at(root_fd, store_dir + 1, &store_created, err);
        if (db->store_fd < 0)
                return cl_err_prefix(err, "store root '%s'", db->root);
        db->state_fd = mkdir_p_at(root_fd, "nix/var/nix", NULL, err);
        if (db->state_fd < 0)
                return cl_err_prefix(err, "store root '%s'", db->root);
        int r = mkdir_at(db->state_fd, "db", 0777, NULL, err);
        if (r < 0)
                return cl_err_prefix(err, "store root '%s'", db->root);
        db->db_fd = open_dir_at(db->state_fd, "db", err);
        if (db->db_fd < 0)
                return cl_err_prefix(err, "store root '%s'", db->root);
        r = store_dir_setup(db, store_created, err);
        if (r < 0)
                return r;
        r = create_state_dirs(db, err);
        if (r < 0)
                return cl_err_prefix(err, "store root '%s'", db->root);

        /* Shared big lock for as long as the database is in use: Nix takes it
         * exclusively only to upgrade the schema. */
        db->big_lock_fd = store_lock_open(db->db_fd, "big-lock", err);
        if (db->big_lock_fd < 0)
                return cl_err_prefix(err, "store database '%s'", db->db_dir);
        r = store_lock_fd(db->big_lock_fd, LOCK_SH, db->timeout_ms);
        if (r == -EWOULDBLOCK)
                return cl_errx(err, EBUSY,
                               "store database '%s' is locked: another process holds "
                               "'%s/big-lock' exclusively (a schema upgrade?)",
                               db->db_dir, db->db_dir);
        if (r < 0)
                return cl_err(err, -r, "lock '%s/big-lock'", db->db_dir);

        int schema = 0;
        r = read_schema(db, &schema, err);
        if (r < 0)
                return r;
        if (schema > STORE_DB_SCHEMA_VERSION)
                return cl_errx(err, EPROTONOSUPPORT,
                               "store database '%s' has schema version %d, newer than the "
                               "version %d that cloister supports",
                               db->db_dir, schema, STORE_DB_SCHEMA_VERSION);
        if (schema != 0 && schema < STORE_DB_SCHEMA_VERSION)
                return cl_errx(err, EPROTONOSUPPORT,
                               "store database '%s' has old schema version %d; cloister "
                               "supports version %d (let Nix 2.8 upgrade it first)",
                               db->db_dir, schema, STORE_DB_SCHEMA_VERSION);
        r = open_sqlite(db, schema == 0, err);
        if (r < 0)
                return r;
        if (schema == 0) {
                r = write_schema(db, err);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(guard);
        return 0;
}

void store_db_close(struct store_db *db)
{
        if (!db)
                return;
        if (db->sql) {
                if (db->txn_depth > 0)
                        sqlite3_exec(db->sql, "rollback;", NULL, NULL, NULL);
                sqlite3_close_v2(db->sql);
        }
        if (db->state_fd >= 0)
                store_temproots_close(&db->temproots);
        if (db->big_lock_fd >= 0)
                close(db->big_lock_fd);
        if (db->db_fd >= 0)
                close(db->db_fd);
        if (db->state_fd >= 0)
                close(db->state_fd);
        if (db->store_fd >= 0)
                close(db->store_fd);
        free(db->root);
        free(db->store_dir);
        free(db->real_store);
        free(db->db_dir);
        free(db);
}

const char *store_db_store_dir(const struct store_db *db)
{
        return db->store_dir;
}

long store_db_timeout_ms(const struct store_db *db)
{
        return db->timeout_ms;
}

int store_db_real_store_fd(const struct store_db *db)
{
        return db->store_fd;
}

int store_db_state_fd(const struct store_db *db)
{
        return db->state_fd;
}

char *store_db_real_path(const struct store_db *db, const char *path)
{
        size_t sl = strlen(db->store_dir);
        const char *rest = strncmp(path, db->store_dir, sl) == 0 ? path + sl : path;
        char *p = NULL;
        if (asprintf(&p, "%s%s", db->real_store, rest) < 0)
                return NULL;
        return p;
}

static bool base_char_ok(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               strchr("+-._?=", c);
}

static bool nix32_char_ok(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z' && !strchr("eout", c));
}

int store_db_check_path(const struct store_db *db, const char *path, const char **ret_base,
                        struct cl_error *err)
{
        size_t sl = strlen(db->store_dir);
        if (strncmp(path, db->store_dir, sl) != 0 || path[sl] != '/')
                return cl_errx(err, EINVAL, "path '%s' is not in the store '%s'", path,
                               db->store_dir);
        const char *base = path + sl + 1;
        size_t len = strlen(base);
        if (strchr(base, '/'))
                return cl_errx(err, EINVAL, "path '%s' is not a store path (it is below one)",
                               path);
        if (len < 34 || base[32] != '-' || len > 32 + 1 + 211)
                return cl_errx(err, EINVAL, "path '%s' is not a valid store path name", path);
        for (size_t i = 0; i < len; i++)
                if (i < 32 ? !nix32_char_ok(base[i]) : i > 32 && !base_char_ok(base[i]))
                        return cl_errx(err, EINVAL,
                                       "path '%s' is not a valid store path: bad character "
                                       "'%c'",
                                       path, base[i]);
        if (ret_base)
                *ret_base = base;
        return 0;
}

void store_db_set_collecting(struct store_db *db, bool collecting)
{
        db->temproots.collecting = collecting;
}

int store_db_add_temp_root(struct store_db *db, const char *path, struct cl_error *err)
{
        return store_temproots_add(&db->temproots, db->state_fd, path, err);
}

int store_db_lock_path(struct store_db *db, const char *path, struct store_path_lock *ret,
                       struct cl_error *err)
{
        const char *base = NULL;
        int r = store_db_check_path(db, path, &base, err);
        if (r < 0)
                return r;
        return store_path_lock_acquire(db->store_fd, base, db->timeout_ms, ret, err);
}

/* ---- transactions ---- */

int store_db_begin(struct store_db *db, struct cl_error *err)
{
        /* immediate: take the write lock now, so that the busy timeout applies
         * instead of a deadlock error when a reader would upgrade later */
        int r = db_exec(db, db->txn_depth == 0 ? "begin immediate;" : "savepoint nested;",
                        "start transaction", err);
        if (r < 0)
                return r;
        db->txn_depth++;
        return 0;
}

int store_db_commit(struct store_db *db, struct cl_error *err)
{
        int r = db_exec(db, db->txn_depth == 1 ? "commit;" : "release nested;",
                        "commit transaction", err);
        if (r < 0) {
                store_db_rollback(db);
                return r;
        }
        db->txn_depth--;
        return 0;
}

void store_db_rollback(struct store_db *db)
{
        if (db->txn_depth <= 0)
                return;
        if (db->txn_depth == 1)
                sqlite3_exec(db->sql, "rollback;", NULL, NULL, NULL);
        else
                sqlite3_exec(db->sql, "rollback to nested; release nested;", NULL, NULL, NULL);
        db->txn_depth--;
}

/* ---- string lists ---- */

void store_strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

size_t store_strv_len(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}


static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Hand the list out sorted; an empty list is a lone NULL. */
static int strv_finish(struct cl_strv *s, char ***ret)
{
        if (!s->v) {
                s->v = calloc(1, sizeof(char *));
                if (!s->v)
                        return -ENOMEM;
        }
        qsort(s->v, s->n, sizeof(char *), cmp_str);
        *ret = s->v;
        s->v = NULL;
        s->n = s->cap = 0;
        return 0;
}

/* ---- queries ---- */

/* id of a valid path, 0 when not valid, or -errno */
static int64_t path_id(struct store_db *db, const char *path, struct cl_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(db, "select id from ValidPaths where path = ?;", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return sqlite3_column_int64(st, 0);
        if (rc == SQLITE_DONE)
                return 0;
        return db_err(db, rc, "query path", err);
}

static int64_t valid_path_id(struct store_db *db, const char *path, struct cl_error *err)
{
        int64_t id = path_id(db, path, err);
        if (id == 0)
                return cl_errx(err, ENOENT, "path '%s' is not valid", path);
        return id;
}

int store_db_is_valid(struct store_db *db, const char *path, struct cl_error *err)
{
        int64_t id = path_id(db, path, err);
        return id < 0 ? (int)id : id > 0;
}

/* Collect column 0 of every row of a statement with one bound text or id. */
static int collect(struct store_db *db, const char *sql, const char *text, int64_t id,
                   struct cl_strv *out, struct cl_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(db, sql, &st, err);
        if (r < 0)
                return r;
        if (text)
                sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        else if (id)
                sqlite3_bind_int64(st, 1, id);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *s = (const char *)sqlite3_column_text(st, 0);
                if (s && cl_strv_push(out, s) < 0)
                        return cl_err(err, ENOMEM, "query");
        }
        if (rc != SQLITE_DONE)
                return db_err(db, rc, "query", err);
        return 0;
}

static char *col_strdup(sqlite3_stmt *st, int i, bool *oom)
{
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
                return NULL;
        const char *s = (const char *)sqlite3_column_text(st, i);
        char *d = s ? strdup(s) : NULL;
        if (s && !d)
                *oom = true;
        return d;
}

void store_path_info_free(struct store_path_info *info)
{
        if (!info)
                return;
        free(info->path);
        free(info->nar_hash);
        free(info->deriver);
        free(info->sigs);
        free(info->ca);
        for (size_t i = 0; i < info->n_references; i++)
                free(info->references[i]);
        free(info->references);
        for (size_t i = 0; i < info->n_outputs; i++) {
                free(info->outputs[i].name);
                free(info->outputs[i].path);
        }
        free(info->outputs);
        free(info);
}

int store_db_query_info(struct store_db *db, const char *path, struct store_path_info **ret,
                        struct cl_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(db,
                           "select id, hash, registrationTime, deriver, narSize, ultimate, sigs, "
                           "ca from ValidPaths where path = ?;",
                           &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return cl_errx(err, ENOENT, "path '%s' is not valid", path);
        if (rc != SQLITE_ROW)
                return db_err(db, rc, "query path info", err);
        _cleanup_path_info_ struct store_path_info *info = calloc(1, sizeof(*info));
        if (!info)
                return cl_err(err, ENOMEM, "query path info");
        bool oom = false;
        int64_t id = sqlite3_column_int64(st, 0);
        info->path = strdup(path);
        info->nar_hash = col_strdup(st, 1, &oom);
        info->registration_time = (time_t)sqlite3_column_int64(st, 2);
        info->deriver = col_strdup(st, 3, &oom);
        info->nar_size = (uint64_t)sqlite3_column_int64(st, 4);
        info->ultimate = sqlite3_column_int64(st, 5) != 0;
        info->sigs = col_strdup(st, 6, &oom);
        info->ca = col_strdup(st, 7, &oom);
        if (oom || !info->path)
                return cl_err(err, ENOMEM, "query path info");
        /* Nix writes "" for "no deriver" in some versions; treat as none */
        if (info->deriver && info->deriver[0] == '\0') {
                free(info->deriver);
                info->deriver = NULL;
        }

        struct cl_strv refs = {0};
        r = collect(db,
                    "select path from Refs join ValidPaths on reference = id where referrer = ?;",
                    NULL, id, &refs, err);
        if (r < 0) {
                cl_strv_clear(&refs);
                return r;
        }
        info->n_references = refs.n;
        if (strv_finish(&refs, &info->references) < 0)
                return cl_err(err, ENOMEM, "query path info");

        _cleanup_stmt_ sqlite3_stmt *os = NULL;
        r = db_prepare(db, "select id, path from DerivationOutputs where drv = ? order by id;", &os,
                       err);
        if (r < 0)
                return r;
        sqlite3_bind_int64(os, 1, id);
        while ((rc = sqlite3_step(os)) == SQLITE_ROW) {
                struct store_drv_output *no =
                    realloc(info->outputs, (info->n_outputs + 1) * sizeof(*no));
                if (!no)
                        return cl_err(err, ENOMEM, "query path info");
                info->outputs = no;
                struct store_drv_output *o = &info->outputs[info->n_outputs++];
                o->name = col_strdup(os, 0, &oom);
                o->path = col_strdup(os, 1, &oom);
                if (oom || !o->name || !o->path)
                        return cl_err(err, ENOMEM, "query path info");
        }
        if (rc != SQLITE_DONE)
                return db_err(db, rc, "query derivation outputs", err);
        *ret = TAKE_PTR(info);
        return 0;
}

int store_db_references(struct store_db *db, const char *path, char ***ret, struct cl_error *err)
{
        int64_t id = valid_path_id(db, path, err);
        if (id < 0)
                return (int)id;
        struct cl_strv out = {0};
        int r = collect(
            db, "select path from Refs join ValidPaths on reference = id where referrer = ?;", NULL,
            id, &out, err);
        if (r == 0 && strv_finish(&out, ret) < 0)
                r = cl_err(err, ENOMEM, "query references");
        cl_strv_clear(&out);
        return r;
}

int store_db_referrers(struct store_db *db, const char *path, char ***ret, struct cl_error *err)
{
        int64_t id = valid_path_id(db, path, err);
        if (id < 0)
                return (int)id;
        struct cl_strv out = {0};
        int r = collect(
            db, "select path from Refs join ValidPaths on referrer = id where reference = ?;", NULL,
            id, &out, err);
        if (r == 0 && strv_finish(&out, ret) < 0)
                r = cl_err(err, ENOMEM, "query referrers");
        cl_strv_clear(&out);
        return r;
}

int store_db_valid_derivers(struct store_db *db, const char *path, char ***ret,
                            struct cl_error *err)
{
        struct cl_strv out = {0};
        int r = collect(db,
                        "select v.path from DerivationOutputs d join ValidPaths v on d.drv = v.id "
                        "where d.path = ?;",
                        path, 0, &out, err);
        if (r == 0 && strv_finish(&out, ret) < 0)
                r = cl_err(err, ENOMEM, "query derivers");
        cl_strv_clear(&out);
        return r;
}

int store_db_all_paths(struct store_db *db, char ***ret, struct cl_error *err)
{
        struct cl_strv out = {0};
        int r = collect(db, "select path from ValidPaths;", NULL, 0, &out, err);
        if (r == 0 && strv_finish(&out, ret) < 0)
                r = cl_err(err, ENOMEM, "query paths");
        cl_strv_clear(&out);
        return r;
}

static int bsearch_str(char *const *v, size_t n, const char *s)
{
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(v[mid], s);
                if (c == 0)
                        return (int)mid;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

int store_db_requisites(struct store_db *db, char *const *paths, size_t n, char ***ret,
                        struct cl_error *err)
{
        /* breadth-first over references; seen is kept sorted for lookups */
        struct cl_strv seen = {0}, queue = {0};
        int r = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                int64_t id = valid_path_id(db, paths[i], err);
                if (id < 0)
                        r = (int)id;
                else if (cl_strv_push(&queue, paths[i]) < 0)
                        r = cl_err(err, ENOMEM, "query requisites");
        }
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (r == 0)
                r = db_prepare(db,
                               "select v.path from Refs r join ValidPaths v on r.reference = v.id "
                               "where r.referrer = (select id from ValidPaths where path = ?);",
                               &st, err);
        for (size_t i = 0; r == 0 && i < queue.n; i++) {
                if (bsearch_str(seen.v, seen.n, queue.v[i]) >= 0)
                        continue;
                if (cl_strv_push(&seen, queue.v[i]) < 0) {
                        r = cl_err(err, ENOMEM, "query requisites");
                        break;
                }
                qsort(seen.v, seen.n, sizeof(char *), cmp_str);
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, queue.v[i], -1, SQLITE_TRANSIENT);
                int rc;
                while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                        const char *s = (const char *)sqlite3_column_text(st, 0);
                        if (s && bsearch_str(seen.v, seen.n, s) < 0 && cl_strv_push(&queue, s) < 0) {
                                r = cl_err(err, ENOMEM, "query requisites");
                                break;
                        }
                }
                if (r == 0 && rc != SQLITE_DONE)
                        r = db_err(db, rc, "query requisites", err);
        }
        if (r == 0 && strv_finish(&seen, ret) < 0)
                r = cl_err(err, ENOMEM, "query requisites");
        cl_strv_clear(&seen);
        cl_strv_clear(&queue);
        return r;
}

/* ---- topological sort (Nix's topoSort: depth first over the sorted set,
 * children in sorted order, a path after everything it refers to) ---- */

typedef int (*children_fn)(void *userdata, size_t i, size_t **ret, size_t *ret_n,
                           struct cl_error *err);

struct topo {
        char **items; /* sorted */
        size_t n;
        unsigned char *state; /* 0 new, 1 on the current path, 2 done */
        size_t *order;
        size_t n_order;
        children_fn children;
        void *userdata;
};

static int topo_visit(struct topo *t, size_t i, size_t parent, struct cl_error *err)
{
        if (t->state[i] == 1)
                return cl_errx(err, ELOOP, "cycle detected in the references of '%s' from '%s'",
                               t->items[i], t->items[parent]);
        if (t->state[i] == 2)
                return 0;
        t->state[i] = 1;
        _cleanup_free_ size_t *kids = NULL;
        size_t nk = 0;
        int r = t->children(t->userdata, i, &kids, &nk, err);
        if (r < 0)
                return r;
        for (size_t k = 0; k < nk; k++) {
                if (kids[k] == i)
                        continue;
                r = topo_visit(t, kids[k], i, err);
                if (r < 0)
                        return r;
        }
        t->state[i] = 2;
        t->order[t->n_order++] = i;
        return 0;
}

/* Sorts items (n of them) in place: first bytewise, then dependencies first. */
static int topo_sort(char **items, size_t n, children_fn children, void *userdata,
                     struct cl_error *err)
{
        qsort(items, n, sizeof(char *), cmp_str);
        _cleanup_free_ unsigned char *state = calloc(n + 1, 1);
        _cleanup_free_ size_t *order = calloc(n + 1, sizeof(size_t));
        _cleanup_free_ char **copy = calloc(n + 1, sizeof(char *));
        if (!state || !order || !copy)
                return cl_err(err, ENOMEM, "sort paths");
        struct topo t = {items, n, state, order, 0, children, userdata};
        for (size_t i = 0; i < n; i++) {
                int r = topo_visit(&t, i, i, err);
                if (r < 0)
                        return r;
        }
        memcpy(copy, items, n * sizeof(char *));
        for (size_t i = 0; i < n; i++)
                items[i] = copy[order[i]];
        return 0;
}

struct db_topo {
        struct store_db *db;
        char **items;
        size_t n;
};

static int db_children(void *userdata, size_t i, size_t **ret, size_t *ret_n, struct cl_error *err)
{
        struct db_topo *d = userdata;
        struct cl_strv refs = {0};
        int r = 0;
        int64_t id = path_id(d->db, d->items[i], err);
        if (id < 0)
                return (int)id;
        if (id > 0)
                r = collect(d->db,
                            "select path from Refs join ValidPaths on reference = id where "
                            "referrer = ? order by path;",
                            NULL, id, &refs, err);
        size_t *kids = calloc(refs.n + 1, sizeof(size_t));
        size_t nk = 0;
        if (!kids && r == 0)
                r = cl_err(err, ENOMEM, "sort paths");
        for (size_t k = 0; r == 0 && k < refs.n; k++) {
                int j = bsearch_str(d->items, d->n, refs.v[k]);
                if (j >= 0)
                        kids[nk++] = (size_t)j;
        }
        cl_strv_clear(&refs);
        if (r < 0) {
                free(kids);
                return r;
        }
        *ret = kids;
        *ret_n = nk;
        return 0;
}

int store_db_topo_sort(struct store_db *db, char **paths, size_t n, struct cl_error *err)
{
        /* the children callback looks items up by binary search, so it needs
         * the sorted array topo_sort makes before visiting */
        struct db_topo d = {db, paths, n};
        return topo_sort(paths, n, db_children, &d, err);
}

/* ---- registration ---- */

struct info_topo {
        const struct store_path_info *infos;
        size_t n;
        char **items;
};

static int info_children(void *userdata, size_t i, size_t **ret, size_t *ret_n,
                         struct cl_error *err)
{
        struct info_topo *t = userdata;
        const struct store_path_info *info = NULL;
        for (size_t k = 0; k < t->n; k++)
                if (strcmp(t->infos[k].path, t->items[i]) == 0)
                        info = &t->infos[k];
        size_t *kids = calloc(info ? info->n_references + 1 : 1, sizeof(size_t));
        if (!kids)
                return cl_err(err, ENOMEM, "sort paths");
        size_t nk = 0;
        /* sorted references, as Nix iterates its std::set */
        _cleanup_free_ char **refs = NULL;
        if (info && info->n_references) {
                refs = calloc(info->n_references, sizeof(char *));
                if (!refs) {
                        free(kids);
                        return cl_err(err, ENOMEM, "sort paths");
                }
                memcpy(refs, info->references, info->n_references * sizeof(char *));
                qsort(refs, info->n_references, sizeof(char *), cmp_str);
        }
        for (size_t k = 0; info && k < info->n_references; k++) {
                int j = bsearch_str(t->items, t->n, refs[k]);
                if (j >= 0)
                        kids[nk++] = (size_t)j;
        }
        *ret = kids;
        *ret_n = nk;
        return 0;
}

static int check_hash_column(const struct store_path_info *info, struct cl_error *err)
{
        const char *h = info->nar_hash;
        if (!h || strncmp(h, "sha256:", 7) != 0 || strlen(h) < 8)
                return cl_errx(err, EINVAL, "path '%s': NAR hash '%s' is not a sha256 hash",
                               info->path, h ? h : "");
        return 0;
}

static int register_one(struct store_db *db, const struct store_path_info *info,
                        struct cl_error *err)
{
        int r = store_db_check_path(db, info->path, NULL, err);
        if (r < 0)
                return r;
        r = check_hash_column(info, err);
        if (r < 0)
                return r;
        if (info->deriver) {
                r = store_db_check_path(db, info->deriver, NULL, err);
                if (r < 0)
                        return cl_err_prefix(err, "deriver of '%s'", info->path);
        }
        int64_t id = path_id(db, info->path, err);
        if (id < 0)
                return (int)id;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (id > 0) {
                /* already valid: Nix's updatePathInfo */
                r = db_prepare(db,
                               "update ValidPaths set narSize = ?, hash = ?, ultimate = ?, "
                               "sigs = ?, ca = ? where path = ?;",
                               &st, err);
                if (r < 0)
                        return r;
                int k = 1;
                if (info->nar_size)
                        sqlite3_bind_int64(st, k++, (sqlite3_int64)info->nar_size);
                else
                        sqlite3_bind_null(st, k++);
                sqlite3_bind_text(st, k++, info->nar_hash, -1, SQLITE_STATIC);
                if (info->ultimate)
                        sqlite3_bind_int(st, k++, 1);
                else
                        sqlite3_bind_null(st, k++);
                sqlite3_bind_text(st, k++, info->sigs, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, k++, info->ca, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, k++, info->path, -1, SQLITE_STATIC);
        } else {
                r = db_prepare(db,
                               "insert into ValidPaths (path, hash, registrationTime, deriver, "
                               "narSize, ultimate, sigs, ca) values (?, ?, ?, ?, ?, ?, ?, ?);",
                               &st, err);
                if (r < 0)
                        return r;
                sqlite3_bind_text(st, 1, info->path, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, info->nar_hash, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3,
                                   info->registration_time ? info->registration_time : time(NULL));
                sqlite3_bind_text(st, 4, info->deriver, -1, SQLITE_STATIC);
                if (info->nar_size)
                        sqlite3_bind_int64(st, 5, (sqlite3_int64)info->nar_size);
                else
                        sqlite3_bind_null(st, 5);
                if (info->ultimate)
                        sqlite3_bind_int(st, 6, 1);
                else
                        sqlite3_bind_null(st, 6);
                sqlite3_bind_text(st, 7, info->sigs, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 8, info->ca, -1, SQLITE_STATIC);
        }
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
                db_err(db, rc, "register path", err);
                return cl_err_prefix(err, "register '%s'", info->path);
        }
        return 0;
}

static int register_refs(struct store_db *db, const struct store_path_info *info,
                         struct cl_error *err)
{
        int64_t referrer = valid_path_id(db, info->path, err);
        if (referrer < 0)
                return (int)referrer;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = db_prepare(db, "insert or replace into Refs (referrer, reference) values (?, ?);",
                           &st, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < info->n_references; i++) {
                const char *ref = info->references[i];
                r = store_db_check_path(db, ref, NULL, err);
                if (r < 0)
                        return cl_err_prefix(err, "reference of '%s'", info->path);
                int64_t reference = path_id(db, ref, err);
                if (reference < 0)
                        return (int)reference;
                if (reference == 0)
                        return cl_errx(err, ENOENT, "path '%s' refers to '%s', which is not valid",
                                       info->path, ref);
                sqlite3_reset(st);
                sqlite3_bind_int64(st, 1, referrer);
                sqlite3_bind_int64(st, 2, reference);
                int rc = sqlite3_step(st);
                if (rc != SQLITE_DONE)
                        return db_err(db, rc, "register reference", err);
        }
        if (info->n_outputs == 0)
                return 0;
        _cleanup_stmt_ sqlite3_stmt *os = NULL;
        r = db_prepare(db,
                       "insert or replace into DerivationOutputs (drv, id, path) values (?, ?, ?);",
                       &os, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < info->n_outputs; i++) {
                r = store_db_check_path(db, info->outputs[i].path, NULL, err);
                if (r < 0)
                        return cl_err_prefix(err, "output '%s' of '%s'", info->outputs[i].name,
                                             info->path);
                sqlite3_reset(os);
                sqlite3_bind_int64(os, 1, referrer);
                sqlite3_bind_text(os, 2, info->outputs[i].name, -1, SQLITE_STATIC);
                sqlite3_bind_text(os, 3, info->outputs[i].path, -1, SQLITE_STATIC);
                int rc = sqlite3_step(os);
                if (rc != SQLITE_DONE)
                        return db_err(db, rc, "register derivation output", err);
        }
        return 0;
}

int store_db_register(struct store_db *db, const struct store_path_info *infos, size_t n,
                      struct cl_error *err)
{
        /* refuse cycles before touching the database */
        _cleanup_free_ char **items = calloc(n + 1, sizeof(char *));
        if (!items)
                return cl_err(err, ENOMEM, "register paths");
        for (size_t i = 0; i < n; i++) {
                if (!infos[i].path)
                        return cl_errx(err, EINVAL, "register paths: a path is missing");
                items[i] = infos[i].path;
        }
        qsort(items, n, sizeof(char *), cmp_str);
        for (size_t i = 1; i < n; i++)
                if (strcmp(items[i - 1], items[i]) == 0)
                        return cl_errx(err, EINVAL, "path '%s' is registered twice", items[i]);
        struct info_topo t = {infos, n, items};
        int r = topo_sort(items, n, info_children, &t, err);
        if (r < 0)
                return r;

        r = store_db_begin(db, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r == 0; i++)
                r = register_one(db, &infos[i], err);
        for (size_t i = 0; i < n && r == 0; i++)
                r = register_refs(db, &infos[i], err);
        if (r < 0) {
                store_db_rollback(db);
                return r;
        }
        return store_db_commit(db, err);
}

int store_db_invalidate(struct store_db *db, const char *path, struct cl_error *err)
{
        int r = store_db_begin(db, err);
        if (r < 0)
                return r;
        int64_t id = valid_path_id(db, path, err);
        if (id < 0) {
                store_db_rollback(db);
                return (int)id;
        }
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = db_prepare(db,
                       "select v.path from Refs r join ValidPaths v on r.referrer = v.id "
                       "where r.reference = ? and r.referrer != ? order by v.path limit 1;",
                       &st, err);
        if (r == 0) {
                sqlite3_bind_int64(st, 1, id);
                sqlite3_bind_int64(st, 2, id);
                int rc = sqlite3_step(st);
                if (rc == SQLITE_ROW)
                        r = cl_errx(err, EBUSY,
                                    "cannot delete path '%s': it is still referenced by '%s'", path,
                                    (const char *)sqlite3_column_text(st, 0));
                else if (rc != SQLITE_DONE)
                        r = db_err(db, rc, "query referrers", err);
        }
        _cleanup_stmt_ sqlite3_stmt *del = NULL;
        if (r == 0)
                r = db_prepare(db, "delete from ValidPaths where id = ?;", &del, err);
        if (r == 0) {
                sqlite3_bind_int64(del, 1, id);
                int rc = sqlite3_step(del);
                if (rc != SQLITE_DONE)
                        r = db_err(db, rc, "invalidate path", err);
        }
        if (r < 0) {
                store_db_rollback(db);
                return r;
        }
        return store_db_commit(db, err);
}
