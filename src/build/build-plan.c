/* The sandbox plan of one build, pure apart from reading nothing: every mount
 * and file is named here, the sandbox layer applies them. The store directory
 * inside is a host scratch directory (the builder creates its outputs there);
 * each input closure path is bound read-only, nosuid, nodev on top of it. */
#include "build/build-plan.h"

#include "base/base-cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int build_plan_passwd(const char *build_dir, char **ret_passwd, char **ret_group)
{
        char *pw = NULL, *gr = NULL;
        if (asprintf(&pw,
                     "root:x:0:0:Nix build user:%s:/noshell\n"
                     "nixbld:x:%u:%u:Nix build user:%s:/noshell\n"
                     "nobody:x:65534:65534:Nobody:/:/noshell\n",
                     build_dir, (unsigned)SANDBOX_DEFAULT_UID, (unsigned)SANDBOX_DEFAULT_GID,
                     build_dir) < 0)
                return -ENOMEM;
        if (asprintf(&gr, "root:x:0:\nnixbld:!:%u:\nnogroup:x:65534:\n",
                     (unsigned)SANDBOX_DEFAULT_GID) < 0) {
                free(pw);
                return -ENOMEM;
        }
        *ret_passwd = pw;
        *ret_group = gr;
        return 0;
}

/* "target=source" or "path", "?" at the end making it optional. */
static int add_sandbox_path(struct sandbox_plan *plan, const char *spec, struct cl_error *err)
{
        _cleanup_free_ char *s = strdup(spec);
        if (!s)
                return -ENOMEM;
        unsigned flags = SANDBOX_BIND_RO;
        size_t len = strlen(s);
        if (len > 0 && s[len - 1] == '?') {
                s[--len] = '\0';
                flags |= SANDBOX_BIND_TRY;
        }
        char *eq = strchr(s, '=');
        const char *target = s, *source = s;
        if (eq) {
                *eq = '\0';
                source = eq + 1;
        }
        if (!*target || !*source || target[0] != '/' || source[0] != '/')
                return cl_errx(err, EINVAL, "sandbox-paths entry '%s' is not an absolute path",
                               spec);
        return sandbox_plan_add_bind(plan, source, target, flags, err);
}

int build_plan_set_command(struct sandbox_plan *plan, const struct build_env *env, const char *dir,
                           struct cl_error *err)
{
        for (size_t i = 0; i < env->n_env; i++) {
                const char *kv = env->env[i];
                const char *eq = strchr(kv, '=');
                _cleanup_free_ char *key = strndup(kv, (size_t)(eq - kv));
                if (!key)
                        return cl_err(err, ENOMEM, "plan environment");
                int r = sandbox_plan_setenv(plan, key, eq + 1, err);
                if (r < 0)
                        return r;
        }
        /* argv[0] is the builder's basename, as Nix passes it; the file
         * executed is the builder's full path */
        int r = sandbox_plan_set_argv(plan, env->argv, err);
        if (r >= 0 && strchr(env->program, '/'))
                r = sandbox_plan_set_exec_path(plan, env->program, err);
        if (r >= 0)
                r = sandbox_plan_set_chdir(plan, dir, err);
        return r;
}

int build_plan_make(const struct build_plan_params *p, struct sandbox_plan **ret,
                    struct cl_error *err)
{
        _cleanup_sandbox_plan_ struct sandbox_plan *plan = NULL;
        int r = sandbox_plan_new(&plan, err);
        if (r < 0)
                return r;
        r = sandbox_plan_add_defaults(plan, err);
        if (r < 0)
                return r;

        /* the store directory: the scratch directory, writable, then the inputs */
        r = sandbox_plan_add_bind(plan, p->host_scratch, p->store_dir, 0, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_closure; i++) {
                const char *base = strrchr(p->closure[i], '/');
                _cleanup_free_ char *src = NULL;
                if (!base || asprintf(&src, "%s%s", p->real_store_dir, base) < 0)
                        return cl_err(err, ENOMEM, "plan input '%s'", p->closure[i]);
                r = sandbox_plan_add_bind(plan, src, p->closure[i], SANDBOX_BIND_RO, err);
                if (r < 0)
                        return r;
        }

        const char *build_dir = p->settings->sandbox_build_dir;
        r = sandbox_plan_add_bind(plan, p->host_build_dir, build_dir, 0, err);
        if (r < 0)
                return r;

        _cleanup_free_ char *passwd = NULL, *group = NULL;
        if (build_plan_passwd(build_dir, &passwd, &group) < 0)
                return cl_err(err, ENOMEM, "plan /etc/passwd");
        r = sandbox_plan_add_file(plan, "/etc/passwd", passwd, strlen(passwd), 0444, err);
        if (r >= 0)
                r = sandbox_plan_add_file(plan, "/etc/group", group, strlen(group), 0444, err);
        if (r < 0)
                return r;
        if (p->fixed_output) {
                /* fixed-output builds may fetch: the host's resolver files, as Nix */
                static const char *const net_files[] = {"/etc/resolv.conf", "/etc/services",
                                                        "/etc/hosts"};
                for (size_t i = 0; i < ELEMENTSOF(net_files); i++) {
                        r = sandbox_plan_add_bind(plan, net_files[i], net_files[i],
                                                  SANDBOX_BIND_RO | SANDBOX_BIND_TRY, err);
                        if (r < 0)
                                return r;
                }
                if (p->share_network)
                        plan->flags |= SANDBOX_SHARE_NET;
        } else {
                static const char hosts[] = "127.0.0.1 localhost\n::1 localhost\n";
                r = sandbox_plan_add_file(plan, "/etc/hosts", hosts, strlen(hosts), 0444, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < p->settings->n_sandbox_paths; i++) {
                r = add_sandbox_path(plan, p->settings->sandbox_paths[i], err);
                if (r < 0)
                        return r;
        }

        r = build_plan_set_command(plan, p->env, build_dir, err);
        if (r < 0)
                return r;
        plan->uid = SANDBOX_DEFAULT_UID;
        plan->gid = SANDBOX_DEFAULT_GID;
        if (p->host_uid != (uid_t)-1) {
                plan->host_uid = p->host_uid;
                plan->host_gid = p->host_gid;
                plan->host_ids_set = 1;
        }
        *ret = TAKE_PTR(plan);
        return 0;
}
