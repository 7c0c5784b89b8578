/* Internal to libsluice: the pipeline struct shared by pipeline.c (open,
 * config, working dir, info, sync), run.c (the stages) and lock.c. */
#ifndef SLUICE_PIPELINE_INT_H
#define SLUICE_PIPELINE_INT_H

#include "sluice/config.h"
#include "sluice/pipeline.h"
#include "sluice/schema.h"
#include "source/source_int.h"

#define SL_STATE_ENGINE_VERSION 4

struct sl_pipeline {
  char *name, *project_dir, *pipelines_dir, *working_dir, *packages_dir;
  char *destination, *dataset, *duckdb_path;
  char *export_schema_path, *import_schema_path, *source_path;
  uint64_t extract_max, job_max;
  uint64_t duckdb_memory_mb; /* DuckDB memory_limit in MB, 0: its default */
  unsigned duckdb_threads;   /* 0: DuckDB's default */
  uint64_t duckdb_txn_rows;  /* 0: SL_DUCKDB_ROWS_PER_TRANSACTION */
  bool keep_packages;
  int progress;      /* sl_progress_mode ([pipeline] progress) */
  double log_period; /* [pipeline] log_period, seconds (0: 1 s) */
  struct sl_progress *prog; /* the collector of the run going on, or NULL */
  sl_doc *toml;   /* sluice.toml, or NULL */
  sl_config *cfg;
  sl_source *source;
  sl_doc *state;  /* committed state; root is an object */
  sl_buf state_text;
  sl_schema *schema; /* committed schema, or NULL */
  sl_dest *dest;
  int lock_fd;
  /* the last run */
  sl_load_info info;
  char **info_ids;
  size_t info_nids;
  sl_load_table_info *info_tables;
  size_t info_ntables;
  char *info_new_id;
};

/* lock.c */
sl_status sl__pipeline_lock(sl_pipeline *p, sl_error *err);
void sl__pipeline_unlock(sl_pipeline *p);

/* pipeline.c */
const char *sl__pipeline_schema_name(const sl_pipeline *p);
sl_status sl__pipeline_dest(sl_pipeline *p, bool create, sl_error *err);
void sl__pipeline_dest_close(sl_pipeline *p);
/* Write the committed state / schema into the working dir. */
sl_status sl__pipeline_save_state(sl_pipeline *p, const char *json, size_t len, sl_error *err);
sl_status sl__pipeline_save_schema(sl_pipeline *p, const sl_schema *s, sl_error *err);
/* Restore state and schema from the destination; *found tells whether any was there. */
sl_status sl__pipeline_restore(sl_pipeline *p, bool *found, sl_error *err);
void sl__pipeline_progress(const sl_pipeline *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* trace.c: write <working dir>/trace.json and traces/<started>.json for the
 * run that just ended (times are Unix seconds); POST the failure alert when
 * [runtime] alert_webhook_url is set (SL_OK when it is not). */
struct sl_progress;
sl_status sl__trace_save(sl_pipeline *p, struct sl_progress *pr, double started, double finished,
                         sl_status st, const sl_error *run_err, sl_error *err);
const char *sl__alert_url(sl_pipeline *p);
sl_status sl__alert_send(sl_pipeline *p, const char *step, const sl_error *run_err, sl_error *err);

#endif
