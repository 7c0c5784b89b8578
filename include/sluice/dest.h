/* sluice/dest.h — destinations: where a normalized load package goes.
 *
 * A destination loads one package at a time, exactly once: the package's
 * rows, its _dlt_loads row (status 0), a _dlt_version row when the schema
 * changed, and a _dlt_pipeline_state row when the package carries state, are
 * committed together (in one transaction where the destination has them).
 * Loading a load_id that is already in _dlt_loads does nothing and succeeds,
 * so a run killed after the commit but before the package was marked loaded
 * locally re-runs safely.
 *
 * Memory rule: an sl_dest owns its connection until sl_dest_close; strings
 * returned through char ** out-parameters are malloc'ed and the caller frees
 * them.
 */
#ifndef SLUICE_DEST_H
#define SLUICE_DEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/package.h"
#include "sluice/schema.h"
#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_dest sl_dest;

/* What a package load commits besides the rows. */
typedef struct sl_load_request {
  const char *pipeline_name;
  const char *load_id;
  const char *state_json;  /* pipeline state to store with the load, or NULL */
  bool schema_changed;     /* store a _dlt_version row */
} sl_load_request;

/* Rows per table after a load, for `pipeline info` and tests. */
typedef struct sl_table_count {
  char *table;
  int64_t rows; /* -1 if the table does not exist */
} sl_table_count;

/* How query results are printed: an aligned text table, CSV (with a header)
 * or JSON lines (one object per row). */
typedef enum sl_query_format { SL_QF_TABLE = 0, SL_QF_CSV, SL_QF_JSON } sl_query_format;

typedef struct sl_dest_vt {
  const char *name; /* "duckdb", "filesystem", "athena" */
  /* Every job of the package (new_jobs, started_jobs, completed_jobs: new ones
   * move to started first), per its root table's write disposition, then
   * started → completed once committed. A job that cannot be loaded (corrupt
   * file, a value its column cannot take) moves to failed_jobs with a
   * .exception and nothing of the package is committed; a package holding a
   * failed job is refused (never loaded partially). Tables and columns the
   * destination lacks are created from the schema (columns still without a
   * data type are skipped). */
  sl_status (*load_package)(sl_dest *d, sl_package *pkg, sl_schema *schema,
                            const sl_load_request *req, sl_error *err);
  sl_status (*is_loaded)(sl_dest *d, const char *load_id, bool *loaded, sl_error *err);
  /* Newest state row of the pipeline whose load has status 0 (NULL if none). */
  sl_status (*stored_state)(sl_dest *d, const char *pipeline_name, char **state_json, sl_error *err);
  /* Newest stored schema (JSON) by name (NULL if none). */
  sl_status (*stored_schema)(sl_dest *d, const char *schema_name, char **schema_json, sl_error *err);
  /* Drop the named tables (a resource's root and children) of the schema
   * schema_name (a filesystem layout may hold {schema_name}). */
  sl_status (*drop_tables)(sl_dest *d, const char *schema_name, const char *const *tables, size_t n,
                           sl_error *err);
  /* Row counts of the schema's data tables. */
  sl_status (*row_counts)(sl_dest *d, const sl_schema *schema, sl_table_count **out, size_t *n,
                          sl_error *err);
  /* A read-only query (see sl_dest_query); NULL for DuckDB, which
   * sl_duckdb_query serves. */
  sl_status (*query)(sl_dest *d, const sl_schema *schema, const char *sql, sl_query_format fmt,
                     sl_buf *out, sl_error *err);
  void (*close)(sl_dest *d);
} sl_dest_vt;

struct sl_dest {
  const sl_dest_vt *vt;
  char *dataset; /* normalized dataset name */
};

static inline void sl_dest_close(sl_dest *d) {
  if (d) d->vt->close(d);
}
void sl_table_counts_free(sl_table_count *c, size_t n);

/* A user's read-only SQL on any destination, the dataset as the default
 * schema (`select * from pins`), printed in fmt and appended to out. A write,
 * or any statement the destination cannot prove reads only, is SL_INVALID_ARG
 * ("read-only query: X is not allowed …") before anything runs.
 *  - duckdb: sl_duckdb_query with read_only set.
 *  - athena: one statement whose first keyword is SELECT, WITH, VALUES, SHOW,
 *    DESCRIBE or EXPLAIN (EXPLAIN ANALYZE only of SELECT/WITH), run with the
 *    dataset as the database.
 *  - filesystem (local folder): an in-memory DuckDB with one view per table
 *    of schema (and per system table) over its files; may be NULL (then only
 *    the system tables). On S3: SL_INVALID_ARG, not supported. */
sl_status sl_dest_query(sl_dest *d, const sl_schema *schema, const char *sql, sl_query_format fmt,
                        sl_buf *out, sl_error *err);

/* ---- DuckDB ------------------------------------------------------------------ */

typedef struct sl_duckdb_options {
  const char *path;    /* database file; created if missing */
  const char *dataset; /* DuckDB schema name (normalized by the caller) */
  const char *staging_dataset; /* default "<dataset>_staging" */
  uint64_t memory_limit_mb; /* 0: DuckDB default */
  unsigned threads;         /* 0: DuckDB default */
  uint64_t rows_per_transaction; /* 0: SL_DUCKDB_ROWS_PER_TRANSACTION (below) */
} sl_duckdb_options;

/* A package of more rows than this is loaded in several transactions (see
 * below), so that a load's memory stays flat whatever its size. */
#define SL_DUCKDB_ROWS_PER_TRANSACTION 250000

/* SL_LOCKED when another process has the file open (DuckDB allows one
 * writer), SL_DESTINATION for any other failure to open. Loading: one
 * transaction per package (DDL, the appender, merge SQL, system rows); merge
 * goes through tables in the staging dataset, made and dropped in that same
 * transaction. A package of more than rows_per_transaction rows is appended
 * in several transactions, each committing its jobs together with a row per
 * job in "<dataset>"."_sluice_load_progress"; a load resumed after a kill
 * skips the jobs recorded there, and the last transaction holds the merges,
 * the system rows and the _dlt_loads row, so every row still lands exactly
 * once (rows of such a package become visible before its _dlt_loads row, as
 * with dlt's job-by-job loads). Names are always "catalog"."schema"."table",
 * quoted. */
sl_dest *sl_duckdb_open(const sl_duckdb_options *opts, sl_error *err);

/* Run SQL on the DuckDB destination with the dataset as the default schema;
 * results written as an aligned text table, CSV or JSON (one object per row).
 * read_only admits only statements DuckDB classifies as SELECT or EXPLAIN
 * (SL_INVALID_ARG otherwise, before anything runs) and runs them in a
 * transaction that is rolled back. Several statements: each result in turn. */
sl_status sl_duckdb_query(sl_dest *d, const char *sql, bool read_only, sl_query_format fmt,
                          sl_buf *out, sl_error *err);

/* ---- filesystem and Athena (src/dest/filesystem.c, src/dest/athena.c) ---------- */

struct sl_aws_credentials;

typedef struct sl_filesystem_options {
  const char *bucket_url;  /* a folder, file:///folder, or s3://bucket/prefix */
  const char *dataset;     /* files go under <bucket_url>/<dataset>/ */
  const char *layout;      /* default "{table_name}/{load_id}.{file_id}.{ext}" */
  const char *format;      /* "parquet" (default) or "jsonl" */
  const char *compression; /* parquet: zstd (default), snappy, gzip, lz4, uncompressed;
                              jsonl: "gzip" or none */
  const struct sl_aws_credentials *creds; /* needed for s3:// (endpoint_url, region in it) */
  const char *temp_dir;    /* scratch for converted files; default $TMPDIR or /tmp */
  uint64_t memory_limit_mb; /* for the converting DuckDB; 0: its default */
} sl_filesystem_options;

/* Files per dlt's filesystem destination: data files by the layout, and
 * _dlt_loads/_dlt_version/_dlt_pipeline_state as JSON-lines files; the
 * _dlt_loads file is written last and makes the load count as done. */
sl_dest *sl_filesystem_open(const sl_filesystem_options *o, sl_error *err);

typedef struct sl_athena_options {
  const char *dataset;            /* the Athena database */
  const char *staging_bucket_url; /* s3://bucket/prefix: tables live under <it>/<dataset>/ */
  const struct sl_aws_credentials *creds; /* S3 endpoint_url/region in it apply to staging */
  const char *endpoint_url;       /* Athena API; default https://athena.<region>.amazonaws.com */
  const char *region;             /* default creds->region, then us-east-1 */
  const char *work_group;         /* default "primary" */
  const char *data_catalog;       /* default "awsdatacatalog" */
  const char *query_result_bucket; /* OutputLocation, s3://…; optional with a work group that has one */
  bool force_iceberg;             /* every table Iceberg (merge tables always are) */
} sl_athena_options;

/* Athena over its JSON API with Parquet staged on S3 (see src/dest/athena.c). */
sl_dest *sl_athena_open(const sl_athena_options *o, sl_error *err);

/* Open "filesystem" or "athena" from configuration (config layers, then the
 * sluice.toml root `toml`); relative folders resolve against project_dir. */
struct sl_config;
struct sl_value;
sl_dest *sl_dest_open_configured(const char *destination, struct sl_config *cfg,
                                 const struct sl_value *toml, const char *project_dir,
                                 const char *dataset, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
