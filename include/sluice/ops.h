/* sluice/ops.h — operating a pipeline: what `sluice pipeline NAME …` and the
 * `show` page print, as library calls (all output is appended to an sl_buf).
 *
 * Memory rule: as sluice/pipeline.h; lists returned here are malloc'ed and
 * freed with the matching *_free.
 */
#ifndef SLUICE_OPS_H
#define SLUICE_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/buf.h"
#include "sluice/dest.h"
#include "sluice/pipeline.h"
#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `info --json`: {"pipeline_name", "project_dir", "working_dir", "destination",
 * "duckdb_path", "dataset_name", "state", "schema": {name, version,
 * version_hash} | null, "tables": [{name, parent, resource, write_disposition,
 * columns: [{name, data_type, nullable, primary_key}], rows (null: unknown,
 * -1: not in the destination)}], "pending": [{load_id, state}], "last_loads":
 * [{load_id, schema_name, status, inserted_at}]}. */
sl_status sl_pipeline_info_json(sl_pipeline *p, sl_buf *out, sl_error *err);

/* The last run's trace (JSON text as saved in the working dir); SL_NOT_FOUND
 * when the pipeline never ran here. */
sl_status sl_pipeline_trace_json(sl_pipeline *p, sl_buf *out, sl_error *err);
/* The trace rendered for people (steps, resources, tables, HTTP, error). */
sl_status sl_trace_render(const char *json, size_t len, sl_buf *out, sl_error *err);
/* Every saved trace, newest first, as one JSON array. */
sl_status sl_pipeline_traces_json(sl_pipeline *p, sl_buf *out, sl_error *err);

/* `load-package [LOAD_ID]`: the package's state and its jobs (table, state,
 * rows, the message of a failed one). NULL load_id: the newest package on
 * disk, else the newest load in the destination. SL_NOT_FOUND when unknown. */
sl_status sl_pipeline_load_package(sl_pipeline *p, const char *load_id, bool json, sl_buf *out,
                                   sl_error *err);
/* `failed-jobs`: failed jobs of every package on disk with their messages;
 * *n (may be NULL) is how many. */
sl_status sl_pipeline_failed_jobs(sl_pipeline *p, bool json, sl_buf *out, size_t *n,
                                  sl_error *err);

/* `drop RESOURCE…`: forget the resources so the next run loads them again.
 * Their tables (root and children) leave the schema and, unless state_only,
 * the destination; their state (cursors) leaves the pipeline state. The new
 * state and schema are committed to the destination as a load package of
 * their own (so `sync` restores them). SL_NOT_FOUND names unknown resources.
 * A report of what was dropped is appended to out. */
sl_status sl_pipeline_drop(sl_pipeline *p, const char *const *resources, size_t n, bool state_only,
                           sl_buf *out, sl_error *err);

/* Row counts of the schema's data tables in the destination (-1: absent).
 * The destination is opened and closed again (DuckDB has one writer). */
sl_status sl_pipeline_row_counts(sl_pipeline *p, sl_table_count **out, size_t *n, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
