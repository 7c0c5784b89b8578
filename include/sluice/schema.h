/* sluice/schema.h — the schema: tables, columns, dlt's data types, write
 * dispositions, contracts; versioned by a content hash; stored as YAML/JSON in
 * dlt's layout.
 *
 * Memory rule: an sl_schema owns its tables, and each table owns its columns
 * and every string in them; pointers to tables and columns stay valid until
 * sl_schema_free (tables and columns are never removed from a live schema,
 * only added — the column array may move when it grows, so hold column
 * indexes, not column pointers, across calls that add columns).
 * Not thread-safe: one normalizer or loader uses a schema at a time.
 */
#ifndef SLUICE_SCHEMA_H
#define SLUICE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/status.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* dlt's data types, by the names dlt writes in schemas. */
#define SL_DTYPE_MAP(X)   \
  X(TEXT, "text")         \
  X(DOUBLE, "double")     \
  X(BOOL, "bool")         \
  X(TIMESTAMP, "timestamp") \
  X(BIGINT, "bigint")     \
  X(BINARY, "binary")     \
  X(JSON, "json")         \
  X(DECIMAL, "decimal")   \
  X(WEI, "wei")           \
  X(DATE, "date")         \
  X(TIME, "time")

typedef enum sl_dtype {
#define SL__DT(n, s) SL_T_##n,
  SL_DTYPE_MAP(SL__DT)
#undef SL__DT
  SL_T_COUNT_
} sl_dtype;

const char *sl_dtype_name(sl_dtype t); /* "text", "bigint", … */
int sl_dtype_parse(const char *name);  /* -1 when unknown; accepts dlt's old "complex" for json */

typedef enum sl_write_disposition {
  SL_WD_APPEND = 0,
  SL_WD_REPLACE,
  SL_WD_MERGE
} sl_write_disposition;
const char *sl_wd_name(sl_write_disposition wd);
int sl_wd_parse(const char *name);

typedef enum sl_merge_strategy {
  SL_MERGE_DELETE_INSERT = 0,
  SL_MERGE_UPSERT
} sl_merge_strategy;

/* Schema contract modes, per entity (tables, columns, data_type). */
typedef enum sl_contract_mode {
  SL_CONTRACT_EVOLVE = 0,
  SL_CONTRACT_FREEZE,
  SL_CONTRACT_DISCARD_ROW,
  SL_CONTRACT_DISCARD_VALUE
} sl_contract_mode;
const char *sl_contract_mode_name(sl_contract_mode m);
int sl_contract_mode_parse(const char *name);

typedef struct sl_contract {
  sl_contract_mode tables, columns, data_type;
} sl_contract;

typedef struct sl_column {
  char *name;       /* normalized destination name */
  sl_dtype type;
  bool nullable;    /* default true; system id columns are not null */
  bool primary_key;
  bool merge_key;
  bool unique;
  bool hard_delete; /* a true value deletes the row in a merge */
  int dedup_sort;   /* 0 none, 1 asc, -1 desc */
  bool variant;     /* a <name>__v_<type> column */
  int precision, scale; /* decimal; 0 means the destination default */
  /* No data type yet (dlt's "incomplete column"): declared by a hint
   * (primary_key, merge_key, a `columns` hint without data_type) or seen only
   * with null values so far. It holds its place in the column order but is not
   * created in a destination, and no row has a value for it. `type` is
   * meaningless while set; it clears when the first value arrives. */
  bool incomplete;
  bool seen_null_first; /* incomplete because only nulls were seen (x-normalizer) */
} sl_column;

typedef struct sl_table {
  char *name;       /* normalized table name */
  char *parent;     /* parent table name for child tables, else NULL */
  char *resource;   /* the resource the root table comes from (NULL for children) */
  sl_write_disposition write_disposition; /* children inherit the root's */
  sl_merge_strategy merge_strategy;
  char *table_format; /* NULL (destination default), "iceberg", "hive" */
  sl_contract contract;
  bool has_contract;  /* contract set on this (root) table; else the schema's applies */
  int max_table_nesting; /* -1: the schema's (dlt's x-normalizer.max_nesting) */
  sl_column *columns; /* ordered as they appeared */
  size_t ncolumns, capcolumns;
  void *index_;     /* internal name -> index map */
  bool seen_data;   /* any row was normalized into this table (dlt's x-normalizer seen-data) */
} sl_table;

typedef struct sl_schema {
  char *name;
  int64_t version;           /* increases by one with each change that alters the hash */
  char version_hash[48];     /* base64 SHA-256 of the canonical content */
  char *previous_hashes[10]; /* most recent first; NULL-terminated when fewer */
  sl_table **tables;         /* system tables first, then in order of creation */
  size_t ntables, captables;
  int max_table_nesting;     /* default 1000 */
  sl_contract contract;      /* schema-level default contract */
  bool detect_iso_timestamp; /* default true */
  bool detect_iso_date;      /* default false */
  bool detect_timestamp;     /* numbers near now -> timestamp; default false */
  bool detect_large_integer; /* > int64 -> wei; default false */
  size_t max_identifier_len; /* destination's limit: 65536 DuckDB, 255 Athena */
  bool dirty_;               /* changed since the hash was last computed */
} sl_schema;

/* A new schema with dlt's system tables (_dlt_loads, _dlt_version,
 * _dlt_pipeline_state) and default settings. NULL on out of memory. */
sl_schema *sl_schema_new(const char *name);
void sl_schema_free(sl_schema *s);
sl_schema *sl_schema_clone(const sl_schema *s);

sl_table *sl_schema_find_table(const sl_schema *s, const char *name);
/* Adds (name must be normalized already); returns the existing table if present. */
sl_table *sl_schema_add_table(sl_schema *s, const char *name, const char *parent, sl_error *err);
/* Index of a column or -1. O(1) average. */
int sl_table_find_column(const sl_table *t, const char *name, size_t len);
/* Appends a column (name normalized already); returns its index or -1 with err. */
int sl_table_add_column(sl_schema *s, sl_table *t, const char *name, sl_dtype type, sl_error *err);
/* Appends a column with no data type yet (incomplete = true), or returns the
 * index of the existing column with that name. -1 with err on failure. */
int sl_table_add_incomplete_column(sl_schema *s, sl_table *t, const char *name, sl_error *err);
/* True when the table has at least one complete column (dlt: not a "new" table). */
bool sl_table_has_complete_columns(const sl_table *t);
/* The contract that applies to t: its root table's when set, else the schema's. */
sl_contract sl_schema_contract_for(const sl_schema *s, const sl_table *t);
/* Mark the schema changed (callers that edit table or column fields directly). */
static inline void sl_schema_touch(sl_schema *s) { s->dirty_ = true; }
/* The root table of a child table (itself for a root table). */
sl_table *sl_schema_root_of(const sl_schema *s, sl_table *t);
/* Child tables of t, directly or transitively, in creation order; returns count
 * written into out (at most cap). */
size_t sl_schema_descendants(const sl_schema *s, const sl_table *t, sl_table **out, size_t cap);
/* True for _dlt_* system tables. */
bool sl_table_is_system(const sl_table *t);

/* Recompute version_hash; if it differs from the last one, bump version and
 * push the old hash into previous_hashes. Returns true when it changed.
 * The hash is SHA3-256 (dlt's choice) of the canonical JSON of the schema's
 * content (everything but version, version_hash and previous_hashes, keys
 * sorted), then each table name (sorted) followed by its column names in
 * order, so that reordering columns changes it; base64. */
bool sl_schema_bump_version(sl_schema *s);
/* The content hash as sl_schema_bump_version would compute it, without
 * changing the schema. out gets 44 characters and a NUL. */
sl_status sl_schema_content_hash(const sl_schema *s, char out[48]);

/* Serialize in dlt's layout: {version, version_hash, engine_version, name,
 * tables: {name: {columns: {col: {name, data_type, nullable, …}}, write_disposition,
 * parent, resource, x-normalizer}}, settings: {…}, normalizers: {…},
 * previous_hashes}. */
sl_value *sl_schema_to_value(const sl_schema *s, sl_doc *doc);
sl_schema *sl_schema_from_value(const sl_value *v, sl_error *err);
sl_status sl_schema_to_yaml(const sl_schema *s, sl_buf *out);
sl_status sl_schema_to_json(const sl_schema *s, sl_buf *out);
/* Load a schema file (.yaml/.yml/.json). */
sl_schema *sl_schema_load_file(const char *path, sl_error *err);
/* Write atomically (temp file + rename). */
sl_status sl_schema_save_file(const sl_schema *s, const char *path, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
