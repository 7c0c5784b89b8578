/* The DuckDB destination's internals, shared by duckdb.c (connection, system
 * tables, sync), duckdb_load.c (packages, dispositions), duckdb_append.c (job
 * files through the appender) and duckdb_query.c (sl_duckdb_query). */
#ifndef SLUICE_DUCKDB_INT_H
#define SLUICE_DUCKDB_INT_H

#include <duckdb.h>

#include "dest/dest_int.h"
#include "sluice/dest.h"
#include "sluice/rows.h"

/* A set of column names (open addressing), for the destination column cache. */
typedef struct sl__nameset {
  char **slots;
  size_t cap, n;
} sl__nameset;
bool sl__nameset_has(const sl__nameset *s, const char *name);
sl_status sl__nameset_add(sl__nameset *s, const char *name);
void sl__nameset_free(sl__nameset *s);

/* One table of the destination as this load knows it: read from
 * information_schema once per load, then kept up to date by our own DDL. */
typedef struct sl__ddb_table {
  char *schema, *name;
  bool exists;
  bool fresh; /* a staging table (re)made in this load */
  sl__nameset cols;
  char **order; /* column names in table order (for INSERT … SELECT lists) */
  size_t norder, caporder;
} sl__ddb_table;

typedef struct sl_duckdb {
  sl_dest base;
  duckdb_database db;
  duckdb_connection con;
  char *path;
  char *catalog; /* the database's name (its file stem) */
  char *staging;
  sl_buf sql; /* scratch for statement text */
  sl__ddb_table **tables; /* each entry stays at its address for the whole load */
  size_t ntables, captables;
  bool files_closed; /* enable_external_access is off: a user's SQL reaches no file */
  uint64_t memory_limit_mb; /* as opened; 0: each load sets one to fit its widest table */
  unsigned threads;         /* as opened; 0: loads run on one thread */
  uint64_t txn_rows;        /* rows of a package's jobs per transaction (never 0) */
  bool load_tuned;          /* those load settings are made */
  uint64_t load_memory_mb;  /* the memory_limit a load set (0: none yet) */
  unsigned load_memory_boost; /* that limit is shifted left by this after an out-of-memory */
} sl_duckdb;

/* "catalog"."schema"."table" (or "catalog"."schema" when table is NULL). */
sl_status sl__ddb_name(sl_duckdb *d, sl_buf *b, const char *schema, const char *table);

/* Run one statement; on failure SL_DESTINATION with DuckDB's message. */
sl_status sl__ddb_exec(sl_duckdb *d, const char *sql, sl_error *err);
/* Run the statement in d->sql. */
sl_status sl__ddb_exec_buf(sl_duckdb *d, sl_error *err);

/* Statement parameters: text (NULL binds SQL NULL) or integer. */
typedef struct sl__ddb_param {
  const char *s;
  int64_t i;
  bool is_int;
} sl__ddb_param;
#define SL_PS(x) ((sl__ddb_param){(x), 0, false})
#define SL_PI(x) ((sl__ddb_param){NULL, (x), true})
/* Prepared statement with parameters; when out is given, the first column of
 * the first row as text (*out NULL when no row or NULL). */
sl_status sl__ddb_reattach(sl_duckdb *d, sl_error *err);
sl_status sl__ddb_run(sl_duckdb *d, const char *sql, const sl__ddb_param *params, size_t n,
                      char **out, sl_error *err);

/* The table cache for the current load. */
sl_status sl__ddb_table_get(sl_duckdb *d, const char *schema, const char *name,
                            sl__ddb_table **out, sl_error *err);
/* Re-read a cached table's columns from information_schema. */
sl_status sl__ddb_table_refresh(sl_duckdb *d, sl__ddb_table *t, sl_error *err);
sl_status sl__ddb_table_add_col(sl__ddb_table *t, const char *name);
void sl__ddb_cache_clear(sl_duckdb *d);

/* dlt's DuckDB type of a column (decimal precision/scale honoured). */
void sl__ddb_type_sql(sl_dtype t, int precision, int scale, char *out, size_t size);

/* Load one job file into schema.table through the appender. When seq_col is
 * given, that column gets a running number starting at *seq (for "last row
 * wins" dedup); *seq is advanced. *terminal tells a fault of the job (corrupt
 * file, a value the column cannot take) from one of the destination. */
sl_status sl__ddb_append_job(sl_duckdb *d, sl_job_reader *r, const char *schema, const char *table,
                             const char *seq_col, int64_t *seq, uint64_t *rows, bool *terminal,
                             sl_error *err);

/* Parse decimal text into an integer scaled by 10^scale, rounding half away
 * from zero; fails on bad syntax or when |value| >= 10^width. */
bool sl__decimal_parse(const char *s, size_t n, int width, int scale, __int128 *out);

/* Give back memory freed during a load: the pages DuckDB's allocator keeps
 * for reuse (it returns them only after a second idle; a load frees a row
 * group's worth every fraction of a second) and malloc's free heap. Called
 * every SL__DDB_RELEASE_ROWS appended rows (a row group of the file): at
 * 200 k pins it lowers the peak of anonymous memory from ~64 to ~57 MB, for
 * ~10% more CPU in the load (the pages are faulted in again). */
void sl__ddb_release_memory(void);
#define SL__DDB_RELEASE_ROWS 16384

/* SLUICE_DDB_MEMTRACE: VmRSS and duckdb_memory() on stderr. */
void sl__ddb_memtrace(sl_duckdb *d, const char *what, uint64_t rows);

extern const sl_dest_vt sl__duckdb_vt;
sl_status sl__ddb_load_package(sl_dest *dst, sl_package *pkg, sl_schema *schema,
                               const sl_load_request *req, sl_error *err);
sl_status sl__ddb_is_loaded(sl_dest *dst, const char *load_id, bool *loaded, sl_error *err);
sl_status sl__ddb_create_system_tables(sl_duckdb *d, sl_error *err);

#endif
