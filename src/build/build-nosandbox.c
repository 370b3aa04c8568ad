/* Building without the sandbox, as Nix's non-chroot builds do (Nix 2.8's
 * LocalDerivationGoal with useChroot false): the decision, the host build
 * directory in TMPDIR, the store directory's 1735 mode, the output locks and
 * leftovers, and moving the outputs out of the builder's reach before they
 * are checked. Every file operation goes through directory fds with
 * O_NOFOLLOW. */
#include "build/build-nosandbox.h"

#include "base/base-cleanup.h"
#include "build/build-plan.h"
#include "store/store-canon.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Nix's getBoolAttr: a JSON Boolean in structured attributes, else the env
 * entry "1". */
static int bool_attr(const struct derivation *d, const char *name, bool *ret, struct cl_error *err)
{
        const struct drv_env *json = drv_find_env(d, "__json");
        *ret = false;
        if (!json) {
                const struct drv_env *e = drv_find_env(d, name);
                *ret = e && strcmp(e->value, "1") == 0;
                return 0;
        }
        json_t *attrs = json_loads(json->value, JSON_DECODE_ANY, NULL);
        if (!json_is_object(attrs)) {
                json_decref(attrs);
                return cl_errx(err, EINVAL, "structured attributes '__json' are not a JSON object");
        }
        json_t *v = json_object_get(attrs, name);
        int r = 0;
        if (v && !json_is_boolean(v))
                r = cl_errx(err, EINVAL, "attribute '%s' must be a Boolean", name);
        else
                *ret = v && json_is_true(v);
        json_decref(attrs);
        return r;
}

int build_nosandbox_wanted(const struct build_settings *s, const char *drv_path,
                           const struct derivation *d, bool fixed_output, bool *ret,
                           struct cl_error *err)
{
        bool no_chroot = false;
        int r = bool_attr(d, "__noChroot", &no_chroot, err);
        if (r < 0)
                return cl_err_prefix(err, "derivation '%s'", drv_path);
        switch (s->sandbox) {
        case SANDBOX_ON:
                if (no_chroot)
                        return cl_errx(err, EPERM,
                                       "derivation '%s' has '__noChroot' set, but that's not "
                                       "allowed when 'sandbox' is 'true'",
                                       drv_path);
                *ret = false;
                break;
        case SANDBOX_OFF:
                *ret = true;
                break;
        case SANDBOX_RELAXED:
                /* Nix: sandboxed unless fixed-output (not "isSandboxed") or
                 * __noChroot */
                *ret = fixed_output || no_chroot;
                break;
        }
        return 0;
}

void build_nosandbox_init(struct build_nosandbox *n)
{
        memset(n, 0, sizeof(*n));
        n->tmp_fd = n->top_fd = n->build_fd = -1;
}

static int open_dir_at(int dirfd, const char *name)
{
        return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* The builder writes $out at the logical path: the logical store directory
 * must be the physical one (Nix: a "diverted" store is always sandboxed). */
static int check_store_reachable(struct store_db *db, struct cl_error *err)
{
        const char *dir = store_db_store_dir(db);
        struct stat logical, real;
        if (fstat(store_db_real_store_fd(db), &real) < 0)
                return cl_err(err, errno, "stat the store directory");
        if (stat(dir, &logical) < 0 || logical.st_dev != real.st_dev ||
            logical.st_ino != real.st_ino)
                return cl_errx(err, EINVAL,
                               "building without the sandbox needs the store at its logical "
                               "path, but '%s' is not this store's directory (a store root "
                               "other than '/' is only built in the sandbox)",
                               dir);
        return 0;
}

/* As root, Nix's store directory for build users with the group's read
 * bit taken away: the builder can create its outputs but not list the store
 * (seed 000). */
static int protect_store_dir(int store_fd, gid_t gid, struct cl_error *err)
{
        struct stat st;
        if (fstat(store_fd, &st) < 0)
                return cl_err(err, errno, "stat the store directory");
        if (st.st_uid == 0 && st.st_gid == gid && (st.st_mode & 07777) == 01735)
                return 0;
        if (fchown(store_fd, 0, gid) < 0 || fchmod(store_fd, 01735) < 0)
                return cl_err(err, errno, "make the store directory 1735 root:%u", (unsigned)gid);
        return 0;
}

/* Lock each output, refuse a valid one, remove an invalid leftover. */
static int claim_outputs(struct build_nosandbox *n, const char *drv_path, struct cl_error *err)
{
        const struct derivation *d = n->drv;
        int store_fd = store_db_real_store_fd(n->db);
        n->locks = calloc(d->n_outputs + 1, sizeof(*n->locks));
        if (!n->locks)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_outputs; i++) {
                const char *path = d->outputs[i].path;
                n->locks[i] = (struct store_path_lock)STORE_PATH_LOCK_INIT;
                int r = store_db_lock_path(n->db, path, &n->locks[i], err);
                if (r < 0)
                        return r;
                n->n_locks = i + 1;
                r = store_db_is_valid(n->db, path, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        return cl_errx(err, EEXIST,
                                       "output '%s' of '%s' is valid already: building the others "
                                       "without the sandbox would need hash rewriting, which "
                                       "cloister does not do (build it with sandbox = true)",
                                       path, drv_path);
                r = store_remove_tree_at(store_fd, strrchr(path, '/') + 1, err);
                if (r < 0)
                        return cl_err_prefix(err, "remove the leftover '%s'", path);
        }
        return 0;
}

/* TMPDIR/nix-build-NAME.drv-N, owned by us (root: 0710 root:<build group>, so
 * the build user can pass but not rename or replace what is in it), and in
 * it "build", the builder's own 0700 directory. */
static int make_build_dir(struct build_nosandbox *n, const char *drv_name, uid_t uid, gid_t gid,
                          struct cl_error *err)
{
        const char *tmp = getenv("TMPDIR");
        if (!tmp || tmp[0] != '/')
                tmp = "/tmp";
        n->tmp_fd = openat(AT_FDCWD, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (n->tmp_fd < 0)
                return cl_err(err, errno, "open '%s'", tmp);
        for (unsigned k = 0;; k++) {
                snprintf(n->top_name, sizeof(n->top_name), "nix-build-%.60s.drv-%u", drv_name, k);
                if (mkdirat(n->tmp_fd, n->top_name, 0700) == 0)
                        break;
                if (errno != EEXIST || k >= 10000) {
                        int e = errno;
                        n->top_name[0] = '\0';
                        return cl_err(err, e, "create a build directory in '%s'", tmp);
                }
        }
        n->top_fd = open_dir_at(n->tmp_fd, n->top_name);
        struct stat st;
        if (n->top_fd < 0 || fstat(n->top_fd, &st) < 0)
                return cl_err(err, errno, "open '%s/%s'", tmp, n->top_name);
        if (st.st_uid != geteuid() || (st.st_mode & 077))
                return cl_errx(err, EPERM, "'%s/%s' is not ours alone", tmp, n->top_name);
        if (mkdirat(n->top_fd, "build", 0700) < 0)
                return cl_err(err, errno, "create '%s/%s/build'", tmp, n->top_name);
        n->build_fd = open_dir_at(n->top_fd, "build");
        if (n->build_fd < 0)
                return cl_err(err, errno, "open '%s/%s/build'", tmp, n->top_name);
        if (uid != (uid_t)-1) {
                if (fchown(n->top_fd, 0, gid) < 0 || fchmod(n->top_fd, 0710) < 0 ||
                    fchown(n->build_fd, uid, gid) < 0)
                        return cl_err(err, errno, "hand '%s/%s/build' to uid %u", tmp, n->top_name,
                                      (unsigned)uid);
        }
        size_t len = strlen(tmp);
        while (len > 1 && tmp[len - 1] == '/')
                len--;
        if (asprintf(&n->build_path, "%.*s/%s/build", (int)len, tmp, n->top_name) < 0) {
                n->build_path = NULL;
                return -ENOMEM;
        }
        return 0;
}

int build_nosandbox_prepare(struct build_nosandbox *n, struct store_db *db,
                            const struct derivation *d, const char *drv_path, const char *drv_name,
                            uid_t uid, gid_t gid, struct cl_error *err)
{
        n->db = db;
        n->drv = d;
        int r = check_store_reachable(db, err);
        if (r < 0)
                return r;
        /* Nix: the builder must not find a home by accident */
        if (access("/homeless-shelter", F_OK) == 0)
                return cl_errx(err, EEXIST,
                               "home directory '/homeless-shelter' exists; please remove it to "
                               "assure purity of builds without sandboxing");
        if (uid != (uid_t)-1) {
                r = protect_store_dir(store_db_real_store_fd(db), gid, err);
                if (r < 0)
                        return r;
        }
        r = claim_outputs(n, drv_path, err);
        if (r < 0)
                return r;
        n->ran = true;
        return make_build_dir(n, drv_name, uid, gid, err);
}

int build_nosandbox_plan(const struct build_nosandbox *n, const struct build_env *env, uid_t uid,
                         gid_t gid, struct sandbox_plan **ret, struct cl_error *err)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *plan = NULL;
        int r = sandbox_plan_new(&plan, err);
        if (r < 0)
                return r;
        plan->flags |= SANDBOX_NO_NAMESPACES;
        r = build_plan_set_command(plan, env, n->build_path, err);
        if (r < 0)
                return r;
        if (uid != (uid_t)-1) {
                plan->host_uid = uid;
                plan->host_gid = gid;
                plan->host_ids_set = 1;
        }
        *ret = TAKE_PTR(plan);
        return 0;
}

/* rename, making a directory that is not ours writable for the moment when
 * we are not root (moving a directory rewrites its ".."), as Nix's movePath */
static int move_out(int from_fd, const char *name, int to_fd)
{
        struct stat st;
        if (fstatat(from_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        bool chmodded = false;
        if (geteuid() != 0 && S_ISDIR(st.st_mode) && !(st.st_mode & S_IWUSR)) {
                if (fchmodat(from_fd, name, (st.st_mode & 07777) | S_IWUSR, 0) < 0)
                        return -errno;
                chmodded = true;
        }
        int r = renameat(from_fd, name, to_fd, name) < 0 ? -errno : 0;
        if (chmodded && fchmodat(r < 0 ? from_fd : to_fd, name, st.st_mode & 07777, 0) < 0 &&
            r == 0)
                r = -errno;
        return r;
}

int build_nosandbox_collect(struct build_nosandbox *n, struct store_stage *scratch,
                            struct cl_error *err)
{
        int r = store_stage_new(n->db, scratch, err);
        if (r < 0)
                return r;
        int store_fd = store_db_real_store_fd(n->db);
        for (size_t i = 0; i < n->drv->n_outputs; i++) {
                const char *path = n->drv->outputs[i].path;
                r = move_out(store_fd, strrchr(path, '/') + 1, scratch->fd);
                /* a missing output is build-outputs.c's to report */
                if (r < 0 && r != -ENOENT)
                        return cl_err(err, -r, "move output '%s' out of the builder's reach", path);
        }
        /* store_install takes the locks again to install */
        for (size_t i = 0; i < n->n_locks; i++)
                store_path_lock_release(&n->locks[i], true);
        n->n_locks = 0;
        n->ran = false;
        return 0;
}

void build_nosandbox_finish(struct build_nosandbox *n, bool keep, char **ret_kept)
{
        if (n->ran && n->db) {
                /* a failed build: what it wrote is no store object */
                int store_fd = store_db_real_store_fd(n->db);
                for (size_t i = 0; i < n->drv->n_outputs; i++)
                        (void)store_remove_tree_at(store_fd,
                                                   strrchr(n->drv->outputs[i].path, '/') + 1, NULL);
        }
        for (size_t i = 0; i < n->n_locks; i++)
                store_path_lock_release(&n->locks[i], true);
        free(n->locks);
        if (n->tmp_fd >= 0 && n->top_name[0]) {
                if (keep && n->build_path && ret_kept)
                        *ret_kept = strdup(n->build_path);
                else
                        (void)store_remove_tree_at(n->tmp_fd, n->top_name, NULL);
        }
        if (n->build_fd >= 0)
                close(n->build_fd);
        if (n->top_fd >= 0)
                close(n->top_fd);
        if (n->tmp_fd >= 0)
                close(n->tmp_fd);
        free(n->build_path);
        build_nosandbox_init(n);
}
