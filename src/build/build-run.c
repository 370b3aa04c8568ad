/* One build from start to end: check the .drv and its inputs, lease an
 * identity, make the build directory (root-owned 0700 parent, everything via
 * directory fds with O_NOFOLLOW), run the builder in the sandbox while its
 * output goes to the terminal (filtered) and to the stored log (raw), then hand
 * the outputs to build-outputs.c and install them. */
#include "build/build-run.h"

#include "base/base-cleanup.h"
#include "base/base-fd.h"
#include "build/build-env.h"
#include "build/build-log.h"
#include "build/build-nosandbox.h"
#include "build/build-outputs.h"
#include "build/build-plan.h"
#include "build/build-users.h"
#include "sandbox/sandbox-harden.h"
#include "sandbox/sandbox-limits.h"
#include "sandbox/sandbox-loop.h"
#include "sandbox/sandbox-run.h"
#include "store/store-add.h"
#include "store/store-canon.h"
#include "store/store-drv-hash.h"
#include "store/store-drv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define TAIL_LINES 25
/* less room than this left where the builder writes: "the disk is full" */
#define FULL_DISK_BYTES (256 * 1024)
#define TAIL_KEEP (64 * 1024)

void build_result_free(struct build_result *r)
{
        free(r->kept_dir);
        free(r->log_tail);
        free(r->log_path);
        memset(r, 0, sizeof(*r));
}

int build_status_exit_code(enum build_status s)
{
        switch (s) {
        case BUILD_OK:
                return 0;
        case BUILD_FAILED:
                return 100;
        case BUILD_TIMED_OUT:
                return 101;
        case BUILD_HASH_MISMATCH:
                return 102;
        case BUILD_NOT_DETERMINISTIC:
                return 104;
        case BUILD_MISUSE:
        case BUILD_SYSTEM_ERROR:
                break;
        }
        return 1;
}

static int fail(struct build_result *res, enum build_status s, int r)
{
        res->status = s;
        return r < 0 ? r : -EIO;
}

static void on_started(struct sandbox *sb, void *data)
{
        (void)sb;
        sandbox_harden_started(data);
}

/* ROOT + an absolute path, without a double slash for ROOT "/". */
static char *root_join(const char *root, const char *abs)
{
        char *s = NULL;
        size_t len = strlen(root);
        while (len > 0 && root[len - 1] == '/')
                len--;
        if (asprintf(&s, "%.*s%s", (int)len, root, abs) < 0)
                return NULL;
        return s;
}

/* Read and parse a .drv of the store. */
static int load_drv(struct store_db *db, const char *drv_path, struct derivation *ret,
                    struct cl_error *err)
{
        const char *base = NULL;
        int r = store_db_check_path(db, drv_path, &base, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        r = fd_read_file_at(store_db_real_store_fd(db), base, DRV_MAX_SIZE, 1, &data, &len);
        if (r < 0)
                return cl_err(err, -r, "read derivation '%s'", drv_path);
        r = drv_parse(data, len, ret, err);
        if (r < 0)
                return cl_err_prefix(err, "derivation '%s'", drv_path);
        return 0;
}

/* The input paths: inputSrcs and the used outputs of the input derivations,
 * each of which must be valid. */
static int input_paths(struct build_ctx *c, const char *drv_path, const struct derivation *d,
                       char ***ret, size_t *ret_n, struct build_result *res, struct cl_error *err)
{
        char **v = calloc(1, sizeof(char *));
        size_t n = 0;
        int r = 0;
        if (!v)
                return -ENOMEM;
#define PUSH(s)                                                                                    \
        do {                                                                                       \
                char **nv = realloc(v, (n + 2) * sizeof(char *));                                  \
                char *dup = strdup(s);                                                             \
                if (!nv || !dup) {                                                                 \
                        free(dup);                                                                 \
                        if (nv)                                                                    \
                                v = nv;                                                            \
                        r = -ENOMEM;                                                               \
                        goto out;                                                                  \
                }                                                                                  \
                v = nv;                                                                            \
                v[n++] = dup;                                                                      \
                v[n] = NULL;                                                                       \
        } while (0)
        for (size_t i = 0; i < d->n_srcs; i++)
                PUSH(d->srcs[i]);
        for (size_t i = 0; i < d->n_inputs; i++) {
                _cleanup_drv_ struct derivation in = {0};
                r = load_drv(c->db, d->inputs[i].path, &in, err);
                if (r < 0) {
                        res->status = BUILD_MISUSE;
                        goto out;
                }
                for (size_t j = 0; j < d->inputs[i].n_outputs; j++) {
                        const struct drv_output *o = drv_find_output(&in, d->inputs[i].outputs[j]);
                        if (!o) {
                                r = cl_errx(err, EINVAL,
                                            "derivation '%s' has no output '%s' (wanted by '%s')",
                                            d->inputs[i].path, d->inputs[i].outputs[j], drv_path);
                                res->status = BUILD_MISUSE;
                                goto out;
                        }
                        PUSH(o->path);
                }
        }
#undef PUSH
        for (size_t i = 0; i < n; i++) {
                r = store_db_is_valid(c->db, v[i], err);
                if (r < 0)
                        goto out;
                if (r == 0) {
                        r = cl_errx(err, ENOENT, "input '%s' of '%s' is not valid in the store",
                                    v[i], drv_path);
                        res->status = BUILD_MISUSE;
                        goto out;
                }
        }
        r = 0;
        *ret = v;
        *ret_n = n;
        v = NULL;
out:
        if (v)
                store_strv_free(v);
        return r;
}

/* The builder's output on its way to the terminal and the log. */
struct relay {
        struct build_ctx *c;
        struct sandbox *sb;
        struct sandbox_loop *loop;
        struct log_writer *log;
        struct log_filter filter;
        int fd;
        uint64_t bytes;
        int silence_timer;
        bool timed_out;
        bool log_too_big;
        const char *why;
        char *tail;
        size_t tail_len;
        int error;
        struct cl_error err;
};

static void relay_keep_tail(struct relay *rl, const char *data, size_t len)
{
        if (len >= TAIL_KEEP) {
                memcpy(rl->tail, data + len - TAIL_KEEP, TAIL_KEEP);
                rl->tail_len = TAIL_KEEP;
                return;
        }
        if (rl->tail_len + len > TAIL_KEEP) {
                size_t drop = rl->tail_len + len - TAIL_KEEP;
                memmove(rl->tail, rl->tail + drop, rl->tail_len - drop);
                rl->tail_len -= drop;
        }
        memcpy(rl->tail + rl->tail_len, data, len);
        rl->tail_len += len;
}

static int on_silence(struct sandbox_loop *loop, void *data, struct cl_error *err);

static void relay_kill(struct relay *rl, const char *why)
{
        if (!rl->timed_out) {
                rl->timed_out = true;
                rl->why = why;
        }
        (void)sandbox_kill(rl->sb, SIGKILL);
}

static int relay_chunk(struct relay *rl, const char *buf, size_t n)
{
        const struct build_settings *s = rl->c->settings;
        if (rl->log && log_writer_write(rl->log, buf, n, &rl->err) < 0) {
                /* the build goes on; its end reports that the log is lost */
                rl->error = rl->err.code ? -rl->err.code : -EIO;
                log_writer_discard(rl->log);
                rl->log = NULL;
        }
        relay_keep_tail(rl, buf, n);
        if (rl->c->term_fd >= 0) {
                char out[sizeof(char) * 65536 + LOG_FILTER_HELD_MAX];
                size_t m = log_filter_feed(&rl->filter, buf, n, out);
                (void)fd_write_all(rl->c->term_fd, out, m);
        }
        rl->bytes += n;
        if (s->max_build_log_size && rl->bytes > s->max_build_log_size) {
                rl->log_too_big = true;
                relay_kill(rl, "max-build-log-size");
        }
        if (s->max_silent_time && rl->sb && !rl->timed_out) {
                if (rl->silence_timer > 0)
                        sandbox_loop_cancel_timer(rl->loop, rl->silence_timer);
                rl->silence_timer = sandbox_loop_add_timer(
                    rl->loop, sandbox_loop_now() + s->max_silent_time * 1000000000ull, on_silence,
                    rl, NULL);
        }
        return 0;
}

static int on_output(struct sandbox_loop *loop, int fd, uint32_t events, void *data,
                     struct cl_error *err)
{
        struct relay *rl = data;
        (void)events;
        (void)err;
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n <= 0) {
                sandbox_loop_remove_fd(loop, fd);
                return 0;
        }
        return relay_chunk(rl, buf, (size_t)n);
}

static int on_timeout(struct sandbox_loop *loop, void *data, struct cl_error *err)
{
        (void)loop;
        (void)err;
        relay_kill(data, "timeout");
        return 0;
}

static int on_silence(struct sandbox_loop *loop, void *data, struct cl_error *err)
{
        struct relay *rl = data;
        (void)loop;
        (void)err;
        rl->silence_timer = 0;
        relay_kill(rl, "max-silent-time");
        return 0;
}

/* The last TAIL_LINES lines of what the builder wrote. */
static char *tail_lines(const char *data, size_t len)
{
        size_t end = len;
        while (end > 0 && data[end - 1] == '\n')
                end--;
        size_t start = end;
        unsigned lines = 0;
        while (start > 0) {
                if (data[start - 1] == '\n' && ++lines == TAIL_LINES)
                        break;
                start--;
        }
        return strndup(data + start, end - start);
}

/* Spawn with stdin /dev/null and stdout+stderr on out_fd: the sandbox gives
 * the command the spawning process's 0, 1 and 2, so they are swapped for the
 * moment of the fork and put back. */
static int spawn_with_stdio(struct sandbox_plan *plan, int out_fd, struct sandbox **ret,
                            struct cl_error *err)
{
        int saved[3] = {-1, -1, -1};
        _cleanup_close_ int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null_fd < 0)
                return cl_err(err, errno, "open '/dev/null'");
        for (int i = 0; i < 3; i++) {
                saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
                if (saved[i] < 0) {
                        int e = errno;
                        for (int j = 0; j < i; j++)
                                close(saved[j]);
                        return cl_err(err, e, "save standard descriptors");
                }
        }
        int r = 0;
        if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
                r = cl_err(err, errno, "redirect the builder's output");
        else
                r = sandbox_spawn(plan, ret, err);
        for (int i = 0; i < 3; i++) {
                (void)dup2(saved[i], i);
                close(saved[i]);
        }
        return r;
}

/* The host directories of one build, below ROOT/nix/var/nix/builds. */
struct build_dirs {
        int builds_fd; /* .../builds, root-owned 0700 when root */
        char name[64]; /* this build's directory in it */
        int top_fd;
        int build_fd;   /* seen as /build */
        int scratch_fd; /* seen as the store directory */
        char *top_path;
        char *build_path;
        char *scratch_path;
};

static void build_dirs_close(struct build_dirs *d)
{
        if (d->top_fd >= 0)
                close(d->top_fd);
        if (d->build_fd >= 0)
                close(d->build_fd);
        if (d->scratch_fd >= 0)
                close(d->scratch_fd);
        if (d->builds_fd >= 0)
                close(d->builds_fd);
        free(d->top_path);
        free(d->build_path);
        free(d->scratch_path);
        d->top_fd = d->build_fd = d->scratch_fd = d->builds_fd = -1;
        d->top_path = d->build_path = d->scratch_path = NULL;
}

static int open_dir_at(int dirfd, const char *name)
{
        return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int make_dirs(struct build_ctx *c, const char *drv_name, uid_t uid, gid_t gid,
                     struct build_dirs *d, struct cl_error *err)
{
        int state_fd = store_db_state_fd(c->db);
        /* builds/ may be traversed but not listed (0711): the sandbox mounts
         * from below it with the build user's credentials; each build's own
         * directory is 0710 root:<build group>, as Nix's chroot directory */
        if (mkdirat(state_fd, "builds", 0711) < 0 && errno != EEXIST)
                return cl_err(err, errno, "create '%s/nix/var/nix/builds'", c->root);
        d->builds_fd = open_dir_at(state_fd, "builds");
        if (d->builds_fd < 0)
                return cl_err(err, errno, "open '%s/nix/var/nix/builds'", c->root);
        struct stat st;
        if (fstat(d->builds_fd, &st) < 0)
                return cl_err(err, errno, "stat builds directory");
        if (st.st_uid != geteuid() || (st.st_mode & 066))
                return cl_errx(err, EPERM,
                               "'%s/nix/var/nix/builds' must be owned by uid %u and mode 0711",
                               c->root, (unsigned)geteuid());
        for (int tries = 0;; tries++) {
                unsigned char rnd[6];
                if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
                        return cl_err(err, errno, "getrandom");
                snprintf(d->name, sizeof(d->name), "%.40s-%02x%02x%02x%02x%02x%02x", drv_name,
                         rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
                if (mkdirat(d->builds_fd, d->name, 0700) == 0)
                        break;
                if (errno != EEXIST || tries > 100)
                        return cl_err(err, errno, "create build directory '%s'", d->name);
        }
        d->top_fd = open_dir_at(d->builds_fd, d->name);
        if (d->top_fd < 0)
                return cl_err(err, errno, "open build directory '%s'", d->name);
        if (mkdirat(d->top_fd, "build", 0700) < 0 || mkdirat(d->top_fd, "store", 0755) < 0)
                return cl_err(err, errno, "create build directory '%s'", d->name);
        d->build_fd = open_dir_at(d->top_fd, "build");
        d->scratch_fd = open_dir_at(d->top_fd, "store");
        if (d->build_fd < 0 || d->scratch_fd < 0)
                return cl_err(err, errno, "open build directory '%s'", d->name);
        if (uid != (uid_t)-1) {
                /* the build user owns /build; the store directory is Nix's
                 * 1775 root:<build group>, so it can add but not remove */
                if (fchown(d->top_fd, 0, gid) < 0 || fchmod(d->top_fd, 0710) < 0 ||
                    fchown(d->build_fd, uid, gid) < 0 || fchown(d->scratch_fd, 0, gid) < 0 ||
                    fchmod(d->scratch_fd, 01775) < 0)
                        return cl_err(err, errno, "hand build directory '%s' to uid %u", d->name,
                                      (unsigned)uid);
        }
        _cleanup_free_ char *builds = root_join(c->root, "/nix/var/nix/builds");
        if (!builds || asprintf(&d->top_path, "%s/%s", builds, d->name) < 0 ||
            asprintf(&d->build_path, "%s/build", d->top_path) < 0 ||
            asprintf(&d->scratch_path, "%s/store", d->top_path) < 0)
                return cl_err(err, ENOMEM, "build directory");
        return 0;
}

/* A builder that ran out of room says so only in its log (if there was room
 * for that): the error names the full file system too, so the reason is not
 * left to guess. Returns the message's code. */
static int note_full_disk(const struct build_dirs *d, struct cl_error *err)
{
        const int fds[] = {d->scratch_fd, d->build_fd};
        const char *paths[] = {d->scratch_path, d->build_path};
        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                struct statvfs sv;
                if (fds[i] < 0 || fstatvfs(fds[i], &sv) < 0)
                        continue;
                if ((uint64_t)sv.f_bavail * sv.f_frsize >= FULL_DISK_BYTES &&
                    (sv.f_files == 0 || sv.f_favail > 0))
                        continue;
                size_t len = strlen(err->msg);
                snprintf(err->msg + len, sizeof(err->msg) - len,
                         "; the file system of '%s' is full: %s", paths[i], strerror(ENOSPC));
                err->code = ENOSPC;
                break;
        }
        return -err->code;
}

static int write_env_files(const struct build_env *env, int build_fd, uid_t uid, gid_t gid,
                           struct cl_error *err)
{
        for (size_t i = 0; i < env->n_files; i++) {
                const struct build_env_file *f = &env->files[i];
                _cleanup_close_ int fd = openat(
                    build_fd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd < 0)
                        return cl_err(err, errno, "create '%s' in the build directory", f->name);
                int r = fd_write_all(fd, f->data, f->len);
                if (r < 0)
                        return cl_err(err, -r, "write '%s' in the build directory", f->name);
                if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)
                        return cl_err(err, errno, "chown '%s'", f->name);
        }
        return 0;
}

static unsigned cpu_count(void)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        return n > 0 ? (unsigned)n : 1;
}

int build_derivation(struct build_ctx *c, const char *drv_path, bool check,
                     struct build_result *res, struct cl_error *err)
{
        const struct build_settings *s = c->settings;
        const char *store_dir = store_db_store_dir(c->db);
        memset(res, 0, sizeof(*res));
        res->status = BUILD_SYSTEM_ERROR;

        int r = store_db_is_valid(c->db, drv_path, err);
        if (r < 0)
                return fail(res, BUILD_MISUSE, r);
        if (r == 0)
                return fail(
                    res, BUILD_MISUSE,
                    cl_errx(err, ENOENT, "derivation '%s' is not valid in the store", drv_path));
        _cleanup_drv_ struct derivation d = {0};
        r = load_drv(c->db, drv_path, &d, err);
        if (r < 0)
                return fail(res, BUILD_MISUSE, r);
        char drv_name[STORE_NAME_MAX + 1];
        enum drv_kind kind;
        struct drv_fixed fixed;
        r = drv_name_from_path(store_dir, drv_path, drv_name, err);
        if (r >= 0)
                r = drv_get_kind(&d, &kind, &fixed, err);
        if (r < 0)
                return fail(res, BUILD_MISUSE, r);
        bool fod = kind == DRV_FIXED_OUTPUT;

        bool all_valid = true;
        for (size_t i = 0; i < d.n_outputs && all_valid; i++) {
                r = store_db_is_valid(c->db, d.outputs[i].path, err);
                if (r < 0)
                        return fail(res, BUILD_SYSTEM_ERROR, r);
                all_valid = r == 1;
        }
        if (all_valid && !check) {
                res->status = BUILD_OK;
                return 0;
        }
        /* Nix's useChroot, decided only when there is something to build */
        bool nosandbox = false;
        r = build_nosandbox_wanted(s, drv_path, &d, fod, &nosandbox, err);
        if (r < 0)
                return fail(res, BUILD_MISUSE, r);
        if (check && nosandbox)
                return fail(res, BUILD_MISUSE,
                            cl_errx(err, EINVAL,
                                    "--check of '%s' needs the sandbox: without it the new "
                                    "outputs would overwrite the valid ones",
                                    drv_path));
        if (check && !all_valid)
                return fail(res, BUILD_MISUSE,
                            cl_errx(err, EINVAL,
                                    "some outputs of '%s' are not valid, so checking is not "
                                    "possible",
                                    drv_path));

        _cleanup_strv_ char **inputs = NULL;
        size_t n_inputs = 0;
        r = input_paths(c, drv_path, &d, &inputs, &n_inputs, res, err);
        if (r < 0)
                return fail(res, res->status, r);
        _cleanup_strv_ char **closure = NULL;
        r = store_db_requisites(c->db, inputs, n_inputs, &closure, err);
        if (r < 0)
                return fail(res, BUILD_SYSTEM_ERROR, r);
        size_t n_closure = store_strv_len(closure);

        /* the builder's identity */
        struct build_user user = BUILD_USER_INIT;
        uid_t uid = (uid_t)-1;
        gid_t gid = (gid_t)-1;
        if (c->real_root && s->build_users_group && s->build_users_group[0]) {
                /* the machine's pool, whatever the store: Nix (and every
                 * cloister) lease the same users from /nix/var/nix/userpool,
                 * and Nix kills every process of a user it leases */
                r = build_user_lease(s->build_users_group, "/nix/var/nix", &user, err);
                if (r < 0)
                        return fail(res, BUILD_SYSTEM_ERROR, r);
                uid = user.uid;
                gid = user.gid;
        } else if (c->real_root) {
                build_user_release(&user);
                return fail(res, BUILD_MISUSE,
                            cl_errx(err, EINVAL,
                                    "as root, builds need build users: set build-users-group "
                                    "(e.g. 'nixbld')"));
        }

        struct build_dirs dirs = {.builds_fd = -1, .top_fd = -1, .build_fd = -1, .scratch_fd = -1};
        struct build_nosandbox nons;
        build_nosandbox_init(&nons);
        struct store_stage nons_scratch = STORE_STAGE_INIT;
        /* the plan outlives the sandbox (cleanups run in reverse order) */
        _cleanup_sandbox_plan_ struct sandbox_plan *plan = NULL;
        _cleanup_sandbox_ struct sandbox *sb = NULL;
        _cleanup_sandbox_loop_ struct sandbox_loop *loop = NULL;
        _cleanup_free_ char *real_store = NULL, *log_dir = NULL;
        _cleanup_(build_env_freep) struct build_env env = {0};
        struct relay rl = {.c = c, .fd = -1};
        struct sandbox_harden harden;
        sandbox_harden_init(&harden);
        bool failed = true;
        int pipe_fds[2] = {-1, -1};

        if (nosandbox)
                r = build_nosandbox_prepare(&nons, c->db, &d, drv_path, drv_name, uid, gid, err);
        else
                r = make_dirs(c, drv_name, uid, gid, &dirs, err);
        if (r < 0)
                goto out;
        struct build_env_params ep = {
            .drv = &d,
            .store_dir = store_dir,
            .build_dir = nosandbox ? nons.build_path : s->sandbox_build_dir,
            .cores = s->cores ? s->cores : cpu_count(),
            .fixed_output = fod,
        };
        r = build_env_make(&ep, &env, err);
        if (r < 0) {
                res->status = BUILD_MISUSE;
                goto out;
        }
        r = write_env_files(&env, nosandbox ? nons.build_fd : dirs.build_fd, uid, gid, err);
        if (r < 0)
                goto out;
        real_store = root_join(c->root, store_dir);
        if (!real_store) {
                r = -ENOMEM;
                goto out;
        }
        struct build_plan_params pp = {
            .settings = s,
            .store_dir = store_dir,
            .real_store_dir = real_store,
            .closure = closure,
            .n_closure = n_closure,
            .host_build_dir = dirs.build_path,
            .host_scratch = dirs.scratch_path,
            .fixed_output = fod,
            .share_network = s->fixed_output_network == FOD_NETWORK_HOST,
            .host_uid = uid,
            .host_gid = gid,
            .env = &env,
        };
        if (nosandbox)
                r = build_nosandbox_plan(&nons, &env, uid, gid, &plan, err);
        else
                r = build_plan_make(&pp, &plan, err);
        if (r < 0)
                goto out;
        /* the seccomp allowlist and a cgroup per build (so the whole build is
         * killed and accounted through it); time limits are watched here */
        struct sandbox_limits limits;
        sandbox_limits_init(&limits);
        r = sandbox_harden_apply(&harden, plan, &limits, NULL, err);
        if (r < 0)
                goto out;

        /* the log */
        log_dir = root_join(c->root, "/nix/var/log/nix");
        if (!log_dir) {
                r = -ENOMEM;
                goto out;
        }
        if (s->keep_build_log) {
                r = log_writer_open(log_dir, drv_path, s->compress_build_log, &rl.log, err);
                if (r < 0)
                        goto out;
                _cleanup_free_ char *rel = NULL;
                if (log_relative_path(drv_path, s->compress_build_log, &rel, NULL) == 0)
                        if (asprintf(&res->log_path, "%s/%s", log_dir, rel) < 0)
                                res->log_path = NULL;
        }
        rl.tail = malloc(TAIL_KEEP);
        if (!rl.tail) {
                r = -ENOMEM;
                goto out;
        }
        log_filter_init(&rl.filter, c->term_is_tty ? LOG_FILTER_TERMINAL : LOG_FILTER_NESTING);

        if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
                r = cl_err(err, errno, "create the log pipe");
                goto out;
        }
        r = spawn_with_stdio(plan, pipe_fds[1], &sb, err);
        close(pipe_fds[1]);
        pipe_fds[1] = -1;
        if (r < 0)
                goto out;
        rl.sb = sb;
        r = sandbox_loop_new(&loop, err);
        if (r < 0)
                goto out;
        rl.loop = loop;
        r = sandbox_loop_add_fd(loop, pipe_fds[0], EPOLLIN, on_output, &rl, err);
        if (r < 0)
                goto out;
        if (s->timeout)
                (void)sandbox_loop_add_timer(loop, sandbox_loop_now() + s->timeout * 1000000000ull,
                                             on_timeout, &rl, NULL);
        if (s->max_silent_time)
                rl.silence_timer = sandbox_loop_add_timer(
                    loop, sandbox_loop_now() + s->max_silent_time * 1000000000ull, on_silence, &rl,
                    NULL);
        struct sandbox_result sres;
        r = sandbox_wait(sb, loop, on_started, &harden, &sres, err);
        if (r < 0)
                goto out;
        struct sandbox_harden_report hrep;
        r = sandbox_harden_finish(&harden, &sres, &hrep, err);
        if (r < 0)
                goto out;
        /* what is still in the pipe: every writer is gone with the sandbox */
        (void)fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
        for (;;) {
                char buf[65536];
                ssize_t n = read(pipe_fds[0], buf, sizeof(buf));
                if (n <= 0)
                        break;
                relay_chunk(&rl, buf, (size_t)n);
        }
        if (c->term_fd >= 0) {
                char out[LOG_FILTER_HELD_MAX];
                size_t m = log_filter_finish(&rl.filter, out);
                (void)fd_write_all(c->term_fd, out, m);
        }
        if (rl.log) {
                if (log_writer_close(rl.log, &rl.err) < 0)
                        rl.error = rl.err.code ? -rl.err.code : -EIO;
                rl.log = NULL;
        }
        if (rl.error < 0) {
                /* removed: nobody is to be sent to read it */
                free(res->log_path);
                res->log_path = NULL;
        }

        if (rl.timed_out) {
                res->status = BUILD_TIMED_OUT;
                res->log_tail = tail_lines(rl.tail, rl.tail_len);
                if (rl.log_too_big)
                        r = cl_errx(err, EFBIG,
                                    "builder for '%s' killed: its log passed max-build-log-size "
                                    "(%llu bytes)",
                                    drv_path, (unsigned long long)s->max_build_log_size);
                else
                        r = cl_errx(err, ETIMEDOUT, "builder for '%s' timed out (%s %llu s)",
                                    drv_path, rl.why,
                                    (unsigned long long)(strcmp(rl.why, "timeout") == 0
                                                             ? s->timeout
                                                             : s->max_silent_time));
                goto out;
        }
        if (sres.setup_failed) {
                bool exec_failed = sres.exit_code == 126 || sres.exit_code == 127;
                res->status = exec_failed ? BUILD_FAILED : BUILD_SYSTEM_ERROR;
                r = cl_errx(err, sres.error.code ? sres.error.code : EIO,
                            "builder for '%s' failed: %s", drv_path, sres.error.msg);
                goto out;
        }
        if (!sres.exited || !WIFEXITED(sres.status) || WEXITSTATUS(sres.status) != 0) {
                res->status = BUILD_FAILED;
                res->log_tail = tail_lines(rl.tail, rl.tail_len);
                if (sres.exited && WIFSIGNALED(sres.status))
                        r = cl_errx(err, EIO, "builder for '%s' failed due to signal %d (%s)",
                                    drv_path, WTERMSIG(sres.status),
                                    strsignal(WTERMSIG(sres.status)));
                else
                        r = cl_errx(err, EIO, "builder for '%s' failed with exit code %d", drv_path,
                                    sres.exit_code);
                r = note_full_disk(&dirs, err);
                goto out;
        }
        if (rl.error < 0) {
                /* the builder did its part, but its log is lost (a full disk):
                 * nothing is registered whose log cannot be read */
                res->status = BUILD_SYSTEM_ERROR;
                r = cl_errx(err, -rl.error, "build of '%s' failed: %s", drv_path, rl.err.msg);
                goto out;
        }

        if (nosandbox) {
                r = build_nosandbox_collect(&nons, &nons_scratch, err);
                if (r < 0)
                        goto out;
        }
        struct build_outputs_params op = {
            .db = c->db,
            .drv_path = drv_path,
            .drv = &d,
            .fixed = fod ? &fixed : NULL,
            .closure = closure,
            .n_closure = n_closure,
            .scratch_fd = nosandbox ? nons_scratch.fd : dirs.scratch_fd,
            .builder_uid = uid != (uid_t)-1 ? uid : geteuid(),
            .check = check,
        };
        enum build_status st = BUILD_FAILED;
        r = build_outputs_finish(&op, &st, err);
        if (r < 0) {
                res->status = st;
                goto out;
        }
        failed = false;
        res->status = BUILD_OK;
        res->built = true;
        r = 0;
out:
        sandbox_harden_free(&harden);
        if (rl.log)
                log_writer_free(rl.log);
        free(rl.tail);
        if (pipe_fds[0] >= 0)
                close(pipe_fds[0]);
        if (pipe_fds[1] >= 0)
                close(pipe_fds[1]);
        if (dirs.builds_fd >= 0 && dirs.name[0]) {
                if (failed && s->keep_failed && dirs.top_path) {
                        res->kept_dir = strdup(dirs.build_path);
                } else {
                        (void)store_remove_tree_at(dirs.builds_fd, dirs.name, NULL);
                }
        }
        build_dirs_close(&dirs);
        store_stage_free(&nons_scratch);
        build_nosandbox_finish(&nons, failed && s->keep_failed, &res->kept_dir);
        build_user_release(&user);
        if (r < 0 && res->status == BUILD_OK)
                res->status = BUILD_SYSTEM_ERROR;
        return r;
}
