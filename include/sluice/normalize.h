/* sluice/normalize.h — turns JSON records into rows of relational tables with
 * dlt's layout: nested objects flattened into the row, lists into child
 * tables, system columns, type inference and variant columns, schema
 * evolution under contracts. See DLT_COMPAT.md for the rules; the choices
 * sluice makes where dlt has no answer are listed at the top of
 * src/normalize/normalize.c.
 *
 * Memory rule: a normalizer borrows the schema and the sink (both must outlive
 * it) and owns its parser and per-record buffers; memory per record is bounded
 * by the record's own size, never by the number of records. The schema is
 * changed in place as tables and columns are discovered.
 */
#ifndef SLUICE_NORMALIZE_H
#define SLUICE_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/json.h"
#include "sluice/rows.h"
#include "sluice/schema.h"
#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a resource declares about its root table (the source YAML's keys). */
typedef struct sl_resource_hints {
  const char *resource;   /* resource name */
  const char *table_name; /* NULL: the resource name; normalized before use */
  const char **primary_key; /* NULL-terminated list of column names (source names), or NULL */
  const char **merge_key;   /* NULL-terminated, or NULL */
  sl_write_disposition write_disposition;
  sl_merge_strategy merge_strategy;
  int max_table_nesting;    /* -1: the schema's */
  const char *hard_delete_column; /* NULL or a column name */
  const char *dedup_sort_column;  /* NULL or a column name */
  int dedup_sort_order;           /* 1 asc, -1 desc */
  bool root_id;                   /* add _dlt_root_id even when not merging */
  const sl_contract *contract;    /* NULL: the schema's */
  const sl_value *columns;        /* optional column hints {name: {data_type, …}} */
  const char *table_format;       /* NULL, "iceberg", "hive" */
} sl_resource_hints;

typedef struct sl_normalize_stats {
  uint64_t records;      /* top-level records seen */
  uint64_t rows;         /* rows emitted, all tables */
  uint64_t discarded_rows;
  uint64_t discarded_values;
  uint64_t bytes;        /* JSON bytes consumed */
} sl_normalize_stats;

typedef struct sl_normalizer sl_normalizer;

/* load_id is written into _dlt_load_id of root rows. */
sl_normalizer *sl_normalizer_new(sl_schema *schema, const char *load_id, sl_row_sink sink,
                                 sl_error *err);
void sl_normalizer_free(sl_normalizer *n);

/* Start a resource: creates or checks its root table per the hints. */
sl_status sl_normalizer_begin(sl_normalizer *n, const sl_resource_hints *hints, sl_error *err);
/* JSON Lines (or whitespace-separated JSON values) in chunks of any size; each
 * top-level value is one record (a non-object record becomes {"value": x}). */
sl_status sl_normalizer_feed(sl_normalizer *n, const char *bytes, size_t len, sl_error *err);
/* One JSON event at a time, for callers that already run a parser (the REST
 * source's data selector): events of consecutive records at depth 0. */
sl_status sl_normalizer_event(sl_normalizer *n, const sl_json_event *ev, sl_error *err);
/* End of the resource's input: fails if a record is incomplete. */
sl_status sl_normalizer_end(sl_normalizer *n, sl_error *err);

const sl_normalize_stats *sl_normalizer_stats(const sl_normalizer *n);
/* The root table name of the resource begun last (normalized), or NULL before
 * any sl_normalizer_begin. Valid until the next begin or free. */
const char *sl_normalizer_root_table(const sl_normalizer *n);

/* How root rows get their _dlt_id (child ids are always dlt's deterministic
 * hash of parent id, table and index; upsert roots hash their primary key).
 * SL_IDS_SEQUENTIAL is for tests and golden files: "r0000000000001",
 * "r0000000000002", … (14 characters, like a real id), counted per normalizer. */
typedef enum sl_id_mode { SL_IDS_RANDOM = 0, SL_IDS_SEQUENTIAL } sl_id_mode;
void sl_normalizer_set_id_mode(sl_normalizer *n, sl_id_mode mode);
/* Rows emitted per table since creation: fills names/counts, returns how many tables. */
size_t sl_normalizer_table_rows(const sl_normalizer *n, const char **names, uint64_t *counts,
                                size_t cap);

#ifdef __cplusplus
}
#endif
#endif
