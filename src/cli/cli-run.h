/* cloister run: a command in a fresh sandbox. */
#pragma once

int cli_run_main(int argc, char **argv);
