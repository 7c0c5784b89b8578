/* `sluice run [DIR]`: extract → normalize → load the pipeline of a folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sluice/log.h"
#include "sluice/pipeline.h"

static void usage(FILE *out) {
  fputs("usage: sluice run [DIR] [--limit N] [--pending-only]\n"
        "\n"
        "Run the pipeline defined by DIR/sluice.toml (default: the current folder):\n"
        "finish any load package an earlier run left, then extract every resource of\n"
        "the source into a new package, normalize it into tables, and load it.\n"
        "\n"
        "options:\n"
        "  --limit N        at most N pages per REST resource (per parent row for a\n"
        "                   child), N records per file or code resource\n"
        "  --pending-only   only finish the packages left by earlier runs\n"
        "  --help           print this help\n"
        "\n"
        "Exit status: 0 ok, 2 configuration, 3 source, 4 destination, 5 locked, 1 other.\n",
        out);
}

int sl_cli_run(int argc, char **argv) {
  const char *dir = NULL;
  sl_run_options ro = {0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--limit") && i + 1 < argc) {
      char *end;
      ro.limit = strtoll(argv[++i], &end, 10);
      if (*end || ro.limit <= 0) {
        fprintf(stderr, "sluice run: --limit wants a positive number, not '%s'\n", argv[i]);
        return 2;
      }
    } else if (!strcmp(a, "--pending-only")) {
      ro.pending_only = true;
    } else if (a[0] == '-') {
      fprintf(stderr, "sluice run: unknown option '%s' (see sluice run --help)\n", a);
      return 2;
    } else if (!dir) {
      dir = a;
    } else {
      fprintf(stderr, "sluice run: one folder at most (see sluice run --help)\n");
      return 2;
    }
  }
  sl_error err;
  sl_error_clear(&err);
  sl_pipeline *p = sl_pipeline_open_dir(dir ? dir : ".", &err);
  if (!p) return sl_cli_fail(&err);
  sl_status st = sl_pipeline_run(p, &ro, &err);
  const sl_load_info *li = sl_pipeline_last_load(p);
  bool quiet = sl_log_get_level() >= SL_LOG_ERROR; /* -q: errors only, no summary */
  if (!quiet && li->npackages) {
    printf("Pipeline %s: %zu load package(s) loaded to %s, dataset %s", li->pipeline_name,
           li->npackages, li->destination, li->dataset_name);
    if (li->new_load_id) printf(", load id %s", li->new_load_id);
    printf("\n");
    for (size_t i = 0; i < li->ntables; i++)
      printf("  %-40s %llu rows\n", li->tables[i].table, (unsigned long long)li->tables[i].rows);
  } else if (!quiet && st == SL_OK) {
    printf("Pipeline %s: nothing new to load\n", sl_pipeline_name(p));
  }
  int rc = st ? sl_cli_fail(&err) : 0;
  sl_pipeline_close(p);
  return rc;
}
