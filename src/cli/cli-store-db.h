/* The `cloister store` commands backed by the store database. */
#pragma once

int cli_store_add_main(int argc, char **argv);
int cli_store_query_main(int argc, char **argv);
int cli_store_verify_main(int argc, char **argv);
int cli_store_import_main(int argc, char **argv);
int cli_store_export_main(int argc, char **argv);
int cli_store_delete_main(int argc, char **argv);
