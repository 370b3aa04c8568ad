/* The subcommand table and what every subcommand shares. */
#pragma once

struct cli_command {
        const char *name;
        int (*main)(int argc, char **argv); /* argv[0] is the subcommand name */
        const char *summary;
};

/* Print the top-level usage to f. */
void cli_usage(int to_stderr);
