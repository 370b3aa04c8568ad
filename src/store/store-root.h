/* Where a store lives physically when the user gives no --store ROOT: / for the
 * real root (the machine's own /nix/store), a directory in the data home for
 * everyone else. Shared by every store subcommand. */
#pragma once

#include "base/base-error.h"

#include <stdbool.h>

/* True when this process is root in the initial user namespace (uid 0 and an
 * identity uid_map covering all ids), not merely root inside `unshare -r`. */
bool store_root_is_real_root(void);

/* The default physical root, malloc'd into *ret: "/" for the real root, else
 * "$XDG_DATA_HOME/cloister", else "$HOME/.local/share/cloister". */
int store_root_default(char **ret, struct cl_error *err);
