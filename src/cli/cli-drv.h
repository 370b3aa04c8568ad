/* `cloister drv`: derivation JSON <-> .drv. */
#pragma once

int cli_drv_main(int argc, char **argv);
