/* `sluice pipeline NAME info|sync|query`: inspect and repair a pipeline by
 * name, through its working dir under pipelines_dir (or, when that is gone,
 * the sluice.toml of --dir / the current folder). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sluice/pipeline.h"

static void usage(FILE *out) {
  fputs("usage: sluice pipeline NAME <command> [options]\n"
        "\n"
        "commands:\n"
        "  info             state, the schema's tables with row counts in the destination,\n"
        "                   pending packages, the last loads\n"
        "  sync             restore the working dir (state and schema) from the destination\n"
        "  query SQL        run a read-only SQL query on the destination (the dataset is\n"
        "                   the default schema); --format table|csv|json\n"
        "  drop-pending     abort the packages earlier runs left unfinished\n"
        "\n"
        "options:\n"
        "  --dir DIR            the pipeline's folder (sluice.toml), when its working dir\n"
        "                       is gone (default: the current folder)\n"
        "  --pipelines-dir DIR  where working dirs live (default ~/.sluice/pipelines)\n"
        "  --help               print this help\n",
        out);
}

/* The pipeline by name; if its working dir is unknown, the folder's sluice.toml
 * when it defines a pipeline of that name. */
static sl_pipeline *find(const char *name, const char *dir, const char *pdir, sl_error *err) {
  sl_pipeline *p = sl_pipeline_attach(name, pdir, err);
  if (p || err->code != SL_NOT_FOUND) return p;
  sl_error first = *err;
  sl_error_clear(err);
  sl_pipeline_options o;
  memset(&o, 0, sizeof o);
  o.project_dir = dir ? dir : ".";
  o.pipelines_dir = pdir;
  sl_pipeline *q = sl_pipeline_open(&o, err);
  if (q && strcmp(sl_pipeline_name(q), name) == 0) return q;
  sl_pipeline_close(q);
  *err = first;
  return NULL;
}

int sl_cli_pipeline(int argc, char **argv) {
  const char *name = NULL, *cmd = NULL, *dir = NULL, *pdir = NULL, *sql = NULL, *fmt = "table";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--dir") && i + 1 < argc) {
      dir = argv[++i];
    } else if (!strcmp(a, "--pipelines-dir") && i + 1 < argc) {
      pdir = argv[++i];
    } else if (!strcmp(a, "--format") && i + 1 < argc) {
      fmt = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "sluice pipeline: unknown option '%s' (see sluice pipeline --help)\n", a);
      return 2;
    } else if (!name) {
      name = a;
    } else if (!cmd) {
      cmd = a;
    } else if (!sql && cmd && !strcmp(cmd, "query")) {
      sql = a;
    } else {
      fprintf(stderr, "sluice pipeline: unexpected argument '%s'\n", a);
      return 2;
    }
  }
  if (!name || !cmd) {
    usage(stderr);
    return 2;
  }
  sl_query_format qf = SL_QF_TABLE;
  if (!strcmp(fmt, "csv")) qf = SL_QF_CSV;
  else if (!strcmp(fmt, "json")) qf = SL_QF_JSON;
  else if (strcmp(fmt, "table") != 0) {
    fprintf(stderr, "sluice pipeline: --format is table, csv or json\n");
    return 2;
  }
  if (strcmp(cmd, "info") && strcmp(cmd, "sync") && strcmp(cmd, "query") &&
      strcmp(cmd, "drop-pending")) {
    fprintf(stderr, "sluice pipeline: unknown command '%s' (info, sync, query, drop-pending)\n",
            cmd);
    return 2;
  }
  if (!strcmp(cmd, "query") && !sql) {
    fprintf(stderr, "sluice pipeline %s query: give the SQL to run\n", name);
    return 2;
  }
  sl_error err;
  sl_error_clear(&err);
  sl_pipeline *p = find(name, dir, pdir, &err);
  if (!p) return sl_cli_fail(&err);
  sl_status st = SL_OK;
  sl_buf out = {0};
  if (!strcmp(cmd, "info")) {
    st = sl_pipeline_info(p, &out, &err);
  } else if (!strcmp(cmd, "sync")) {
    st = sl_pipeline_sync(p, &err);
    if (!st)
      sl_buf_printf(&out, "Pipeline %s: state and schema restored from %s into %s\n", name,
                    sl_pipeline_dataset(p), sl_pipeline_working_dir(p));
  } else if (!strcmp(cmd, "drop-pending")) {
    size_t n = 0;
    st = sl_pipeline_drop_pending(p, &n, &err);
    if (!st) sl_buf_printf(&out, "Pipeline %s: %zu pending package(s) dropped\n", name, n);
  } else {
    st = sl_pipeline_query(p, sql, qf, &out, &err);
  }
  if (out.data) fputs(out.data, stdout);
  sl_buf_free(&out);
  sl_pipeline_close(p);
  return st ? sl_cli_fail(&err) : 0;
}
