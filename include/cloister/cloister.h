/* cloister's public constants: the exit-code policy shared by every subcommand
 * (documented in docs/cloister.1.md). */
#pragma once

/* Exit codes. A command run in the sandbox passes its own status through; a
 * command killed by signal N gives 128+N, as a shell does. cloister's own
 * failures use codes a command rarely uses, as env(1) and timeout(1) do. */
enum {
        CL_EXIT_OK = 0,
        CL_EXIT_FAILURE = 1,   /* generic failure of a cloister subcommand */
        CL_EXIT_USAGE = 2,     /* bad command line or configuration */
        CL_EXIT_TIMEOUT = 124, /* a time, silence or output limit ended the sandbox */
        CL_EXIT_SETUP = 125,   /* the sandbox could not be set up */
        CL_EXIT_NOEXEC = 126,  /* the command exists but could not be executed */
        CL_EXIT_NOTFOUND = 127 /* the command does not exist */
};
