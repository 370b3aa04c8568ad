/* `cloister store`: the dispatcher for its sub-subcommands. */
#pragma once

/* argv[0] is "store", argv[1] the sub-subcommand. */
int cli_store_main(int argc, char **argv);
