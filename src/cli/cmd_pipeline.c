/* `sluice pipeline NAME <command>`: inspect, repair and browse a pipeline by
 * name, through its working dir under pipelines_dir (or, when that is gone,
 * the sluice.toml of --dir / the current folder). dlt's `dlt pipeline`
 * commands: info, trace, schema, load-package, failed-jobs, drop, sync,
 * query, drop-pending, show. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sluice/ops.h"
#include "sluice/pipeline.h"
#include "sluice/show.h"

typedef struct cmd_help {
  const char *name, *args, *text;
} cmd_help;

static const cmd_help cmds[] = {
    {"info", "[--json]",
     "The pipeline's working dir, destination and dataset, its state, the schema's\n"
     "tables with their row counts in the destination, pending packages and the\n"
     "last loads."},
    {"trace", "[--json]",
     "The trace of the last run: steps with their times, pages and items per\n"
     "resource, rows per table, HTTP figures, load ids, and the error if it failed."},
    {"schema", "[--format yaml|json]", "The pipeline's schema (default yaml)."},
    {"load-package", "[LOAD_ID] [--json]",
     "A load package and its jobs (table, state, rows; the message of a failed\n"
     "job). Default: the newest package."},
    {"failed-jobs", "[--json]", "The failed jobs of every package on disk, with their messages."},
    {"drop", "RESOURCE... [--state-only]",
     "Drop the resources' tables (root and child tables) from the destination and\n"
     "the schema, and their state (incremental cursors), so the next run loads them\n"
     "from the start. --state-only keeps the tables and resets only the state."},
    {"sync", "", "Restore the working dir (state and schema) from the destination."},
    {"query", "\"SQL\" [--json|--csv|--format table|csv|json]",
     "Run a read-only SQL query on the destination; the dataset is the default\n"
     "schema, so `select * from pins` works."},
    {"drop-pending", "", "Abort the packages earlier runs left unfinished."},
    {"show", "[--port P]",
     "Serve a read-only page on http://127.0.0.1:P/ (default 8790; 0 picks a free\n"
     "port): overview, schema tree, data preview, load history with traces, and a\n"
     "read-only SQL box. Stops on Ctrl-C."},
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

static void usage(FILE *out) {
  fputs("usage: sluice pipeline NAME <command> [options]\n\ncommands:\n", out);
  for (size_t i = 0; i < NCMDS; i++) fprintf(out, "  %-13s %s\n", cmds[i].name, cmds[i].args);
  fputs("\n"
        "options (every command):\n"
        "  --dir DIR            the pipeline's folder (sluice.toml), when its working dir\n"
        "                       is gone (default: the current folder)\n"
        "  --pipelines-dir DIR  where working dirs live (default ~/.sluice/pipelines)\n"
        "  --help               print this help; `sluice pipeline NAME CMD --help` for one\n"
        "\n"
        "Exit status: 0 ok, 2 usage or configuration, 3 source, 4 destination or load,\n"
        "5 locked by a running pipeline, 1 anything else (not found, I/O).\n",
        out);
}

static void cmd_usage(const cmd_help *h, FILE *out) {
  fprintf(out, "usage: sluice pipeline NAME %s %s [--dir DIR] [--pipelines-dir DIR]\n\n%s\n",
          h->name, h->args, h->text);
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

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static int run_show(sl_pipeline *p, unsigned port) {
  sl_error err;
  sl_error_clear(&err);
  sl_show *s = sl_show_start(p, port, &err);
  if (!s) return sl_cli_fail(&err);
  printf("Serving pipeline %s on http://127.0.0.1:%u/ (read-only; Ctrl-C stops)\n",
         sl_pipeline_name(p), sl_show_port(s));
  fflush(stdout);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  while (!g_stop) pause();
  sl_show_stop(s);
  return 0;
}

int sl_cli_pipeline(int argc, char **argv) {
  const char *name = NULL, *cmd = NULL, *dir = NULL, *pdir = NULL, *fmt = NULL;
  const char **args = calloc((size_t)argc + 1, sizeof *args);
  size_t nargs = 0;
  bool help = false, json = false, state_only = false;
  long port = 8790;
  int rc = 0;
  if (!args) return 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      help = true;
    } else if (!strcmp(a, "--dir") && i + 1 < argc) {
      dir = argv[++i];
    } else if (!strcmp(a, "--pipelines-dir") && i + 1 < argc) {
      pdir = argv[++i];
    } else if (!strcmp(a, "--format") && i + 1 < argc) {
      fmt = argv[++i];
    } else if (!strcmp(a, "--json")) {
      json = true;
    } else if (!strcmp(a, "--csv")) {
      fmt = "csv";
    } else if (!strcmp(a, "--state-only")) {
      state_only = true;
    } else if (!strcmp(a, "--port") && i + 1 < argc) {
      char *end;
      port = strtol(argv[++i], &end, 10);
      if (*end || port < 0 || port > 65535) {
        fprintf(stderr, "sluice pipeline: --port wants a TCP port, not '%s'\n", argv[i]);
        rc = 2;
        goto out;
      }
    } else if (!strcmp(a, "--")) {
      for (i++; i < argc; i++) args[nargs++] = argv[i];
    } else if (a[0] == '-' && a[1] && !(cmd && !strcmp(cmd, "query"))) {
      fprintf(stderr, "sluice pipeline: unknown option '%s' (see sluice pipeline --help)\n", a);
      rc = 2;
      goto out;
    } else if (!name) {
      name = a;
    } else if (!cmd) {
      cmd = a;
    } else {
      args[nargs++] = a;
    }
  }
  const cmd_help *ch = NULL;
  for (size_t i = 0; cmd && i < NCMDS; i++)
    if (!strcmp(cmd, cmds[i].name)) ch = &cmds[i];
  if (help) {
    if (ch) cmd_usage(ch, stdout);
    else usage(stdout);
    goto out;
  }
  if (!name || !cmd) {
    usage(stderr);
    rc = 2;
    goto out;
  }
  if (!ch) {
    fprintf(stderr, "sluice pipeline: unknown command '%s' (see sluice pipeline --help)\n", cmd);
    rc = 2;
    goto out;
  }
  sl_query_format qf = json ? SL_QF_JSON : SL_QF_TABLE;
  if (fmt && strcmp(cmd, "schema")) {
    if (!strcmp(fmt, "csv")) qf = SL_QF_CSV;
    else if (!strcmp(fmt, "json")) qf = SL_QF_JSON;
    else if (strcmp(fmt, "table") != 0) {
      fprintf(stderr, "sluice pipeline %s: --format is table, csv or json\n", cmd);
      rc = 2;
      goto out;
    }
  }
  if (!strcmp(cmd, "schema") && fmt && strcmp(fmt, "yaml") && strcmp(fmt, "json")) {
    fprintf(stderr, "sluice pipeline %s schema: --format is yaml or json\n", name);
    rc = 2;
    goto out;
  }
  size_t max_args = !strcmp(cmd, "drop") ? (size_t)argc : !strcmp(cmd, "query") || !strcmp(cmd, "load-package") ? 1 : 0;
  if (nargs > max_args) {
    fprintf(stderr, "sluice pipeline %s: unexpected argument '%s'\n", cmd, args[max_args]);
    rc = 2;
    goto out;
  }
  if ((!strcmp(cmd, "query") || !strcmp(cmd, "drop")) && !nargs) {
    fprintf(stderr, "sluice pipeline %s %s: give the %s\n", name, cmd,
            !strcmp(cmd, "query") ? "SQL to run" : "resources to drop");
    rc = 2;
    goto out;
  }
  sl_error err;
  sl_error_clear(&err);
  sl_pipeline *p = find(name, dir, pdir, &err);
  if (!p) {
    rc = sl_cli_fail(&err);
    goto out;
  }
  sl_status st = SL_OK;
  sl_buf out = {0};
  if (!strcmp(cmd, "info")) {
    st = json ? sl_pipeline_info_json(p, &out, &err) : sl_pipeline_info(p, &out, &err);
  } else if (!strcmp(cmd, "trace")) {
    sl_buf raw = {0};
    st = sl_pipeline_trace_json(p, &raw, &err);
    if (!st) {
      if (json) sl_buf_append(&out, raw.data, raw.len);
      else st = sl_trace_render(raw.data, raw.len, &out, &err);
    }
    sl_buf_free(&raw);
  } else if (!strcmp(cmd, "schema")) {
    const sl_schema *s = sl_pipeline_schema(p);
    if (!s) st = sl_error_set(&err, SL_NOT_FOUND, "pipeline '%s' has no schema yet (nothing was loaded)", name);
    else if ((fmt && !strcmp(fmt, "json")) || json) st = sl_schema_to_json(s, &out);
    else st = sl_schema_to_yaml(s, &out);
    if (!st && out.len && out.data[out.len - 1] != '\n') sl_buf_putc(&out, '\n');
  } else if (!strcmp(cmd, "load-package")) {
    st = sl_pipeline_load_package(p, nargs ? args[0] : NULL, json, &out, &err);
  } else if (!strcmp(cmd, "failed-jobs")) {
    st = sl_pipeline_failed_jobs(p, json, &out, NULL, &err);
  } else if (!strcmp(cmd, "drop")) {
    st = sl_pipeline_drop(p, args, nargs, state_only, &out, &err);
  } else if (!strcmp(cmd, "sync")) {
    st = sl_pipeline_sync(p, &err);
    if (!st)
      sl_buf_printf(&out, "Pipeline %s: state and schema restored from %s into %s\n", name,
                    sl_pipeline_dataset(p), sl_pipeline_working_dir(p));
  } else if (!strcmp(cmd, "drop-pending")) {
    size_t n = 0;
    st = sl_pipeline_drop_pending(p, &n, &err);
    if (!st) sl_buf_printf(&out, "Pipeline %s: %zu pending package(s) dropped\n", name, n);
  } else if (!strcmp(cmd, "query")) {
    st = sl_pipeline_query(p, args[0], qf, &out, &err);
  } else if (!strcmp(cmd, "show")) {
    rc = run_show(p, (unsigned)port);
    sl_pipeline_close(p);
    goto out;
  }
  if (out.data) fputs(out.data, stdout);
  sl_buf_free(&out);
  sl_pipeline_close(p);
  rc = st ? sl_cli_fail(&err) : 0;
out:
  free(args);
  return rc;
}
