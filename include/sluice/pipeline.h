/* sluice/pipeline.h — the library API: open a pipeline, give it resources, run
 * extract → normalize → load, read what was loaded.
 *
 * Memory rule: an sl_pipeline owns everything reachable from it — its source
 * and resources, its config, state and schema, its destination connection,
 * and the load info of its last run — until sl_pipeline_close. Strings and
 * structs returned by sl_pipeline_* getters are valid until the next
 * sl_pipeline_run / sl_pipeline_sync on the same pipeline or its close. Inputs
 * (options, YAML text, resource definitions) are copied; the caller keeps
 * ownership of its own. One pipeline handle is used by one thread at a time.
 *
 * On disk:
 *   <project>/sluice.toml        [pipeline] name, destination, dataset_name,
 *                                progress, log_period, export_schema_path,
 *                                import_schema_path, source, pipelines_dir
 *   <pipelines_dir>/<name>/      the working dir: pipeline.json (where the
 *                                project is), state.json, schemas/, packages/,
 *                                lock, trace.json (the last run's trace) and
 *                                traces/ (the newest 50)
 * A run first finishes the packages an earlier run left (normalize, load),
 * then extracts a new package, normalizes and loads it. The destination
 * commits a package's rows, its _dlt_loads row and the pipeline state in one
 * transaction; the working dir is updated only after that commit. A run
 * killed at any instant is completed by the next, with no row lost or loaded
 * twice.
 */
#ifndef SLUICE_PIPELINE_H
#define SLUICE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/dest.h"
#include "sluice/source.h"
#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_pipeline sl_pipeline;

/* Everything optional; a field set here wins over sluice.toml. */
typedef struct sl_pipeline_options {
  const char *project_dir;   /* folder with sluice.toml and .sluice/ (NULL: cwd); relative
                                paths resolve against it */
  const char *name;          /* pipeline name; required if there is no sluice.toml */
  const char *destination;   /* "duckdb" (default) */
  const char *dataset_name;  /* default "<name>_dataset" */
  const char *pipelines_dir; /* default $SLUICE_PIPELINES_DIR or ~/.sluice/pipelines */
  const char *source_path;   /* source YAML; default [pipeline] source */
  const char *duckdb_path;   /* default [destination.duckdb] credentials or <name>.duckdb */
  const char *export_schema_path; /* folder: <schema>.schema.yaml written after each load */
  const char *import_schema_path; /* folder: <schema>.schema.yaml used as the first schema */
  const char *home_dir;      /* config home layer (NULL: $HOME, "": none) */
  uint64_t extract_file_max_bytes; /* rotate extract files (0: config or 64 MiB) */
  uint64_t job_file_max_bytes;     /* rotate job files (0: config or 64 MiB) */
  int keep_packages;         /* 1 keep loaded packages, 0 default (config load.delete_completed_jobs) */
  uint64_t duckdb_memory_limit_mb; /* DuckDB's memory_limit (0: [destination.duckdb] memory_limit_mb,
                                      else DuckDB's default, 80% of RAM) */
  unsigned duckdb_threads;   /* DuckDB's threads (0: [destination.duckdb] threads, else its default) */
  uint64_t duckdb_rows_per_transaction; /* 0: [destination.duckdb] rows_per_transaction, else
                                           SL_DUCKDB_ROWS_PER_TRANSACTION (sluice/dest.h) */
  int progress;              /* 0 default ([pipeline] progress: "bar" on a terminal, else
                                "log"), 1 log lines on stdout, 2 bar, -1 none (sluice/progress.h) */
} sl_pipeline_options;

/* Open (or create) the pipeline: reads sluice.toml when present, the config
 * layers (config.h) with the pipeline name as the top section, the source
 * YAML, and the working dir (created when missing; its state and schema are
 * restored from the destination when it is new and the destination has
 * them). Errors: SL_CONFIG_* / SL_TOML_SYNTAX / SL_YAML_SYNTAX with file:line:col. */
sl_pipeline *sl_pipeline_open(const sl_pipeline_options *opts, sl_error *err);
/* Open the pipeline of a project folder (sl_pipeline_open with project_dir). */
sl_pipeline *sl_pipeline_open_dir(const char *dir, sl_error *err);
/* Open an existing pipeline by name: its working dir under pipelines_dir
 * (NULL: the default) records its project folder. SL_NOT_FOUND when unknown. */
sl_pipeline *sl_pipeline_attach(const char *name, const char *pipelines_dir, sl_error *err);
void sl_pipeline_close(sl_pipeline *p);

/* Resources. The source YAML named in sluice.toml is loaded by open; these
 * add more (into the same source and schema). */
sl_status sl_pipeline_add_source_yaml(sl_pipeline *p, const char *yaml, size_t len,
                                      const char *name, sl_error *err);
sl_status sl_pipeline_add_resource(sl_pipeline *p, const sl_resource_def *def, sl_error *err);
sl_source *sl_pipeline_source(sl_pipeline *p); /* NULL when none was given */

typedef struct sl_run_options {
  int64_t limit;        /* >0: at most this many pages per REST resource (per
                           parent row for a child), records per other resource */
  bool pending_only;    /* finish the packages left by earlier runs, extract nothing */
} sl_run_options;

/* Run: finish pending packages, then extract → normalize → load. A second
 * concurrent run of the same pipeline fails with SL_LOCKED (a lock left by a
 * dead process is taken over). opts may be NULL. */
sl_status sl_pipeline_run(sl_pipeline *p, const sl_run_options *opts, sl_error *err);

typedef struct sl_load_table_info {
  const char *table;
  uint64_t rows; /* rows loaded into the table by this run, all packages */
} sl_load_table_info;

typedef struct sl_load_info {
  const char *pipeline_name;
  const char *dataset_name;
  const char *destination;
  const char **load_ids;  /* packages loaded by the run, oldest first */
  size_t npackages;
  const char *new_load_id; /* the package this run extracted, or NULL (nothing new) */
  uint64_t records;       /* records extracted by this run */
  const sl_load_table_info *tables; /* in the order first loaded */
  size_t ntables;
  sl_status status;       /* of the run */
  sl_error error;         /* when status != SL_OK */
} sl_load_info;

/* Info of the last run (zeroed before any run). */
const sl_load_info *sl_pipeline_last_load(const sl_pipeline *p);
/* Rows of one table in the last run's info (0 when absent). */
uint64_t sl_load_info_rows(const sl_load_info *li, const char *table);

/* Restore the working dir (state and schema) from the destination. */
sl_status sl_pipeline_sync(sl_pipeline *p, sl_error *err);

/* Give up on the packages earlier runs left unfinished (e.g. one that fails
 * to normalize under a frozen contract): they are marked aborted, kept on
 * disk, and their state is never committed. *dropped may be NULL. */
sl_status sl_pipeline_drop_pending(sl_pipeline *p, size_t *dropped, sl_error *err);

/* Human report for `sluice pipeline NAME info`: working dir, state, the
 * schema's tables with row counts in the destination, pending packages, the
 * last loads. */
sl_status sl_pipeline_info(sl_pipeline *p, sl_buf *out, sl_error *err);
/* SQL on the destination (DuckDB) with the dataset as the default schema. */
sl_status sl_pipeline_query(sl_pipeline *p, const char *sql, sl_query_format fmt, sl_buf *out,
                            sl_error *err);

const char *sl_pipeline_name(const sl_pipeline *p);
const char *sl_pipeline_dataset(const sl_pipeline *p);
const char *sl_pipeline_working_dir(const sl_pipeline *p);
const char *sl_pipeline_project_dir(const sl_pipeline *p);
/* The current state as JSON text (committed state: what the last load stored). */
const char *sl_pipeline_state_json(sl_pipeline *p);
/* The current schema (NULL before the first normalize). */
const sl_schema *sl_pipeline_schema(const sl_pipeline *p);

#ifdef __cplusplus
}
#endif
#endif
