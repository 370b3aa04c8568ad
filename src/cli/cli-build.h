/* `cloister build` and `cloister log`. */
#pragma once

int cli_build_main(int argc, char **argv);
int cli_log_main(int argc, char **argv);
