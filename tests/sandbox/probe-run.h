/* Helpers shared by the sandbox and cli tests: run `cloister run` with the
 * static probe bound in, parse the probe's key=value output, drive a running
 * sandbox through pipes, and look at the host (its /proc, mounts, SysV IPC,
 * temporary directories) from outside. */
#pragma once

#include "tap.h"

#include <stdbool.h>
#include <sys/types.h>

/* Absolute paths of the built cloister and probe. */
const char *pr_cloister(void);
const char *pr_probe(void);

/* The run mode of the test: really root, root inside `unshare -r` (no host
 * privilege), or an unprivileged user. */
bool pr_real_root(void);

/* A NULL-terminated argv: cloister run --ro-bind PROBE /probe OPTS... --
 * /probe CMD...; opts and cmd are NULL-terminated (either may be NULL). */
char **pr_argv(const char *const *opts, const char *const *cmd);

/* Run and capture (timeout 30 s); FAILs when the run itself fails. */
void pr_run(const char *const *opts, const char *const *cmd, struct tap_run_result *res);

/* `cloister run --ro-bind PROBE /p OPTS... -- CMD...` for another probe of
 * the build tree (probe_rel, e.g. "tests/probe/probe-harden"); CMD names
 * /p itself. FAILs if it cannot be run at all. */
void pr_run_probe(const char *probe_rel, const char *const *opts, const char *const *cmd,
                  struct tap_run_result *res);

/* The value of the first "key=value" line, malloc'd, or NULL. */
char *pr_kv(const char *out, const char *key);
/* Like pr_kv, but FAILs (showing the output) when the key is missing. */
char *pr_need(const struct tap_run_result *res, const char *key);

/* A unique word to find a process by its argv in the host's /proc. */
char *pr_marker(const char *what);

/* A cloister started in the background with pipes on 0, 1, 2 and optionally
 * the read end of a status pipe (passed as fd 3, for --json-status-fd 3). */
struct pr_spawn {
        pid_t pid;
        int in, out, err, status;
        char *obuf;
        size_t olen;
        char *ebuf;
        size_t elen;
        char *sbuf;
        size_t slen;
};
void pr_spawn(struct pr_spawn *s, char *const argv[], bool status_fd);
/* Read stdout until it contains needle or timeout; FAILs on timeout. */
void pr_spawn_wait_for(struct pr_spawn *s, const char *needle, unsigned timeout_sec);
/* Read the status pipe until it holds one whole line; FAILs on timeout. */
void pr_spawn_wait_status(struct pr_spawn *s, unsigned timeout_sec);
/* Close stdin, read everything, reap; returns the wait status (FAILs when it
 * does not end within timeout_sec, after killing it). */
int pr_spawn_finish(struct pr_spawn *s, unsigned timeout_sec);

/* Host pids whose argv[0] ends in "probe" and whose argv holds marker. */
int pr_find_marked(const char *marker, pid_t *pids, int max);
/* Wait until exactly n such processes are seen (a process in the middle of
 * execve may briefly show no argv); returns how many were last seen. */
int pr_wait_marked_count(const char *marker, int n, pid_t *pids, int max, unsigned timeout_ms);
/* Wait until no such process remains; returns how many remain at timeout. */
int pr_wait_marked_gone(const char *marker, unsigned timeout_ms);

/* The host's mount table (mount point + fs type + source per line). */
char *pr_mounts(void);
/* FAIL if `after` has mount lines not in `before`. */
void pr_check_no_new_mounts(const char *before, const char *after, const char *when);

/* Names of entries in dir that cloister could have made (see
 * own_tmp_name), one per line. */
char *pr_tmp_entries(const char *dir);
void pr_check_no_new_tmp(const char *before, const char *after, const char *when);

/* "Key:" value from /proc/PID/status, malloc'd, or NULL. */
char *pr_proc_status(pid_t pid, const char *key);

/* Run fn in a forked child that is first provably confined to at most max
 * more tasks (threads count): as real root in a pids cgroup leaf made for it
 * (pids.max, checked in /proc/self/cgroup), otherwise under RLIMIT_NPROC
 * (which the nested user namespaces of a sandbox inherit). FAILs when fn
 * fails or the confinement cannot be set up; removes the leaf afterwards. */
void pr_confined(unsigned max, void (*fn)(void));
