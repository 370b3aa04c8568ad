/* cloister's entry point: global options and dispatch to one file per
 * subcommand, each of which returns the process's exit code. */
#include "cli/cli-main.h"
#include "cli/cli-store.h"

#include "cli/cli-drv.h"
#include "cli/cli-run.h"
#include "cli/cli-build.h"

#include "base/base-log.h"
#include "cloister/cloister.h"
#include "sandbox/sandbox-run.h"
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const struct cli_command commands[] = {
        {"store", cli_store_main, "add, dump, restore, hash and query store paths"},
        {"drv", cli_drv_main, "derivation JSON <-> .drv (show, add)"},
        {"run", cli_run_main, "run a command in a fresh sandbox"},
        {"build", cli_build_main, "build derivations in the sandbox"},
        {"log", cli_log_main, "print the stored build log of a derivation"},
        {NULL, NULL, NULL},
};

void cli_usage(int to_stderr)
{
        FILE *f = to_stderr ? stderr : stdout;
        fprintf(f, "usage: cloister COMMAND [OPTIONS] [ARGS]\n\n"
                   "A hermetic build sandbox for Nix derivations.\n\ncommands:\n");
        for (const struct cli_command *c = commands; c->name; c++)
                fprintf(f, "  %-10s %s\n", c->name, c->summary);
        fprintf(f, "\n'cloister COMMAND --help' describes a command; see also cloister(1).\n");
}

/* What was printed to standard output reached it, or the exit says why not
 * (with SIGPIPE ignored, a reader that left shows up here). */
static int finish_stdout(int code)
{
        if (fflush(stdout) != 0 || ferror(stdout)) {
                log_error("write standard output: %s", strerror(errno));
                return code == CL_EXIT_OK ? CL_EXIT_FAILURE : code;
        }
        return code;
}

int main(int argc, char **argv)
{
        log_set_program("cloister");
        /* A reader that goes away (`cloister ... | head`) is an error a write
         * returns (EPIPE), never a signal that kills us halfway: a sandbox's
         * cgroups, a build's temporary directory or a store lock would be
         * left behind. The sandbox's processes start with every signal at
         * its default again (the helper resets them). */
        signal(SIGPIPE, SIG_IGN);
        /* where our command line is: no sandbox's PID 1 may show it */
        size_t len = 0;
        for (int i = 0; i < argc; i++) {
                if ((uintptr_t)argv[i] != (uintptr_t)argv[0] + len)
                        break; /* not laid out by exec: leave it */
                len += strlen(argv[i]) + 1;
                if (i == argc - 1)
                        sandbox_set_cmdline_area(argv[0], len);
        }
        if (argc < 2) {
                cli_usage(1);
                return CL_EXIT_USAGE;
        }
        const char *name = argv[1];
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
                cli_usage(0);
                return finish_stdout(CL_EXIT_OK);
        }
        if (strcmp(name, "--version") == 0) {
                printf("cloister %s\n", CL_VERSION);
                return finish_stdout(CL_EXIT_OK);
        }
        for (const struct cli_command *c = commands; c->name; c++)
                if (strcmp(c->name, name) == 0)
                        return finish_stdout(c->main(argc - 1, argv + 1));
        log_error("unknown command '%s' (see 'cloister --help')", name);
        return CL_EXIT_USAGE;
}
