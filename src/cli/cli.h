/* The sluice tool's subcommands (each parses its own arguments and returns the
 * process exit code). */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include "sluice/status.h"

int sl_cli_run(int argc, char **argv);
int sl_cli_pipeline(int argc, char **argv);
int sl_cli_init(int argc, char **argv);
int sl_cli_deploy(int argc, char **argv);
/* Print err as one line on stderr and return its exit code. */
int sl_cli_fail(const sl_error *err);

#endif
