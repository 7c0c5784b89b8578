/* The sluice command-line tool: parses the command line and hands each
 * subcommand to the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdbool.h>

#include <duckdb.h>

#include "cli/cli.h"
#include "sluice/log.h"
#include "sluice/status.h"
#include "sluice_version.h"

int sl_cli_fail(const sl_error *err) {
  char line[2048];
  /* Red "sluice:" on a terminal, unless NO_COLOR is set (https://no-color.org). */
  const char *nc = getenv("NO_COLOR");
  bool color = isatty(STDERR_FILENO) && !(nc && *nc);
  fprintf(stderr, "%ssluice:%s %s\n", color ? "\033[1;31m" : "", color ? "\033[0m" : "",
          sl_error_format(err, line, sizeof line));
  int rc = sl_status_exit_code(err->code);
  return rc ? rc : 1;
}

static void usage(FILE *out) {
  fputs("usage: sluice [--verbose|--quiet] <command> [args]\n"
        "\n"
        "Load data from REST APIs into analytical databases.\n"
        "\n"
        "commands:\n"
        "  init NAME --spec FILE|URL       generate NAME_pipeline/ from an OpenAPI spec\n"
        "  run [DIR]                       extract, normalize and load the pipeline in DIR\n"
        "  pipeline NAME COMMAND           inspect a pipeline: info, trace, schema,\n"
        "                                  load-package, failed-jobs, drop, sync, query,\n"
        "                                  drop-pending, show (a local web page)\n"
        "  deploy github-action|cron       run the pipeline on a schedule\n"
        "  (each command has --help)\n"
        "\n"
        "options:\n"
        "  --version        print the version of sluice and of its libraries\n"
        "  --help           print this help\n"
        "  -v, --verbose    more log output (repeat for trace)\n"
        "  -q, --quiet      only errors\n"
        "\n"
        "Environment: SLUICE_LOG_LEVEL=trace|debug|info|warning|error, NO_COLOR (no\n"
        "colors), SLUICE_PIPELINES_DIR (where working dirs live).\n"
        "\n"
        "Exit status: 0 ok, 2 usage or configuration, 3 source, 4 destination or load,\n"
        "5 locked by a running pipeline, 1 anything else. See docs/cli.md.\n"
        "See docs/ for the user guide.\n",
        out);
}

int main(int argc, char **argv) {
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--version") == 0) {
      printf("sluice %s (duckdb %s)\n", SLUICE_VERSION, duckdb_library_version());
      return 0;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
      sl_log_level cur = sl_log_get_level();
      sl_log_set_level(cur == SL_LOG_WARN || cur > SL_LOG_INFO ? SL_LOG_INFO
                       : cur > SL_LOG_TRACE              ? cur - 1
                                                         : SL_LOG_TRACE);
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
      sl_log_set_level(SL_LOG_ERROR);
    } else {
      fprintf(stderr, "sluice: unknown option '%s' (see sluice --help)\n", a);
      return 2;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[i], "init") == 0) return sl_cli_init(argc - i, argv + i);
  if (strcmp(argv[i], "run") == 0) return sl_cli_run(argc - i, argv + i);
  if (strcmp(argv[i], "pipeline") == 0) return sl_cli_pipeline(argc - i, argv + i);
  if (strcmp(argv[i], "deploy") == 0) return sl_cli_deploy(argc - i, argv + i);
  fprintf(stderr, "sluice: unknown command '%s' (see sluice --help)\n", argv[i]);
  return 2;
}
