/* cloister run's hardening options (limits, timeouts, personality, seccomp,
 * cgroup parent): parsed here so cli-run.c only hands unknown options over. */
#pragma once

#include "sandbox/sandbox-limits.h"

struct cli_harden_options {
        struct sandbox_limits limits;
        const char *cgroup_parent; /* NULL: the caller's own cgroup */
};

void cli_harden_options_init(struct cli_harden_options *o);

/* Parse the option at argv[i]. Returns the number of argv entries used
 * (> 0), 0 when it is not a hardening option, -1 after printing a message. */
int cli_harden_parse(int argc, char **argv, int i, struct cli_harden_options *o);

/* The options' lines for 'cloister run --help'. */
void cli_harden_help(void);
