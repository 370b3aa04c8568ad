/* The JSON status stream: bubblewrap's --json-status-fd idea (child pid and
 * namespace ids at the start) plus the end: exit code or signal, times and
 * the peak RSS of the whole sandbox from wait4's rusage. */
#include "sandbox/sandbox-status.h"

#include "base/base-cleanup.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_object(int fd, json_t *obj, struct cl_error *err)
{
        if (!obj)
                return cl_err(err, ENOMEM, "status object");
        char *text = json_dumps(obj, JSON_COMPACT);
        json_decref(obj);
        if (!text)
                return cl_err(err, ENOMEM, "status object");
        size_t len = strlen(text);
        text[len] = '\n'; /* json_dumps leaves room: NUL becomes the newline */
        const char *p = text;
        size_t left = len + 1;
        int r = 0;
        while (left > 0) {
                ssize_t n = write(fd, p, left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = cl_err(err, errno, "write status to file descriptor %d", fd);
                        break;
                }
                p += n;
                left -= (size_t)n;
        }
        free(text);
        return r;
}

int sandbox_status_write_start(int fd, const struct sandbox *sb, struct cl_error *err)
{
        static const char *const ns[] = {"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"};
        pid_t pid = sandbox_init_pid(sb);
        json_t *obj = json_object();
        if (!obj)
                return cl_err(err, ENOMEM, "status object");
        json_object_set_new(obj, "child-pid", json_integer(pid));
        /* PID 1 reports them: it is not dumpable (the command must not read
         * it), so an unprivileged caller could not look at its /proc/PID/ns */
        for (size_t i = 0; i < ELEMENTSOF(ns); i++) {
                char key[32];
                uint64_t id = sandbox_namespace_id(sb, ns[i]);
                if (!id)
                        continue;
                snprintf(key, sizeof(key), "%s-namespace", ns[i]);
                json_object_set_new(obj, key, json_integer((json_int_t)id));
        }
        return write_object(fd, obj, err);
}

static double seconds(const struct timeval *tv)
{
        return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

int sandbox_status_write_exit(int fd, const struct sandbox_result *res, struct cl_error *err)
{
        return sandbox_status_write_exit_extra(fd, res, NULL, err);
}

static void add_extra(json_t *obj, const struct sandbox_result *res,
                      const struct sandbox_status_extra *x)
{
        json_object_set_new(obj, "limit", x->limit ? json_string(x->limit) : json_null());
        if (x->have_cgroup_cpu) {
                json_object_set_new(obj, "cgroup-user-time", json_real(x->cgroup_user_time));
                json_object_set_new(obj, "cgroup-system-time", json_real(x->cgroup_system_time));
        }
        if (x->have_memory_peak) {
                json_object_set_new(obj, "memory-peak", json_integer((json_int_t)x->memory_peak));
                json_object_set_new(obj, "memory-peak-source", json_string("cgroup"));
        } else {
                json_object_set_new(obj, "memory-peak",
                                    json_integer((json_int_t)res->rusage.ru_maxrss * 1024));
                json_object_set_new(obj, "memory-peak-source", json_string("rusage"));
        }
        json_object_set_new(obj, "oom-kills", json_integer((json_int_t)x->oom_kills));
        json_object_set_new(obj, "pids-max-hits", json_integer((json_int_t)x->pids_max_hits));
        if (x->have_output)
                json_object_set_new(obj, "output-bytes", json_integer((json_int_t)x->output_bytes));
}

int sandbox_status_write_exit_extra(int fd, const struct sandbox_result *res,
                                    const struct sandbox_status_extra *extra,
                                    struct cl_error *err)
{
        json_t *obj = json_object();
        if (!obj)
                return cl_err(err, ENOMEM, "status object");
        if (res->exited && WIFSIGNALED(res->status))
                json_object_set_new(obj, "signal", json_integer(WTERMSIG(res->status)));
        else
                json_object_set_new(obj, "exit-code", json_integer(res->exit_code));
        if (res->setup_failed)
                json_object_set_new(obj, "setup-error", json_string(res->error.msg));
        json_object_set_new(obj, "wall-time", json_real((double)res->wall_ns / 1e9));
        json_object_set_new(obj, "user-time", json_real(seconds(&res->rusage.ru_utime)));
        json_object_set_new(obj, "system-time", json_real(seconds(&res->rusage.ru_stime)));
        json_object_set_new(obj, "max-rss", json_integer(res->rusage.ru_maxrss));
        if (extra)
                add_extra(obj, res, extra);
        return write_object(fd, obj, err);
}
