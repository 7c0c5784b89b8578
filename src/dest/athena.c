/* The Athena destination. Staging is the filesystem destination on S3
 * (Parquet); SQL goes through Athena's JSON API (StartQueryExecution, then
 * GetQueryExecution polled with backoff, GetQueryResults paged), signed with
 * SigV4 for service "athena"; a statement still running after query_timeout_s
 * (default 30 min) is stopped with StopQueryExecution and fails.
 *
 *  - Hive tables (append, replace): CREATE EXTERNAL TABLE … STORED AS PARQUET
 *    over <bucket_url>/<dataset>/<table>/; the package's files are written
 *    there under names fixed by the load id and job, so a re-run overwrites
 *    them; replace deletes the chain's other files after the new ones are in.
 *  - Iceberg tables (merge always; table_format: iceberg; force_iceberg):
 *    files go to <dataset>/_staging/<load_id>/<table>/, read through an
 *    external table in <dataset>_staging, then DELETE + INSERT … SELECT. Each
 *    step is repeatable: a re-run of the same package first deletes what an
 *    earlier attempt of it inserted, and staging data of other loads is never
 *    read (the staging location is per load id).
 *  - _dlt_loads, _dlt_version, _dlt_pipeline_state are Iceberg tables; the
 *    _dlt_loads row is written last and makes the load count as done.
 * Identifiers: backticks in DDL, double quotes in DML. Types as dlt maps
 * them for Athena. The destination's columns are known from the stored
 * schema (no INFORMATION_SCHEMA scans). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dest/filesystem_int.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/value.h"

void sl__crash_point(const char *point);

typedef struct sl__athena {
  sl_dest base;
  sl__fs *fs;
  sl_aws_credentials creds;
  char *endpoint, *region, *workgroup, *catalog, *result_url, *root_url, *staging_db;
  bool force_iceberg;
  bool system_ready;
  long query_timeout_s; /* a statement still QUEUED/RUNNING after this is stopped */
  sl_buf sql;
} sl__athena;

typedef sl__query_result athena_rows; /* text cells, as Athena sends them */

static void rows_free(athena_rows *r) { sl__query_result_free(r); }

/* ---- JSON helpers ------------------------------------------------------------------ */

static void jstr(sl_buf *b, const char *s) {
  sl_buf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') sl_buf_printf(b, "\\%c", *p);
    else if (*p < 0x20) sl_buf_printf(b, "\\u%04x", *p);
    else sl_buf_putc(b, (char)*p);
  }
  sl_buf_putc(b, '"');
}

static sl_status call(sl__athena *a, const char *op, const char *body, sl_doc **out, sl_error *err) {
  char target[96];
  snprintf(target, sizeof target, "AmazonAthena.%s", op);
  sl_buf resp = {0};
  long code = 0;
  sl_status st = sl_aws_json_post(&a->creds, a->endpoint, a->region, "athena", target, body, &resp,
                                  &code, err);
  if (st) {
    sl_buf_free(&resp);
    return st;
  }
  sl_doc *d = sl_json_parse_doc(resp.data ? resp.data : "{}", resp.len, "Athena response", NULL);
  if (code != 200) {
    const char *type = d ? sl_v_str(sl_v_get(d->root, "__type"), NULL) : NULL;
    const char *msg = d ? sl_v_str(sl_v_get(d->root, "message"), NULL) : NULL;
    if (!msg && d) msg = sl_v_str(sl_v_get(d->root, "Message"), NULL);
    st = sl_error_set(err, SL_DESTINATION, "Athena %s at %s: HTTP %ld %s%s%s", op, a->endpoint, code,
                      type ? type : "", msg ? ": " : "", msg ? msg : "");
    sl_error_http(err, a->endpoint, (int)code);
    sl_doc_free(d);
  } else if (!d) {
    st = sl_error_set(err, SL_DESTINATION, "Athena %s at %s: the answer is not JSON", op, a->endpoint);
  } else {
    *out = d;
  }
  sl_buf_free(&resp);
  return st;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A statement past its deadline: StopQueryExecution, then the error naming
 * the query and the statement (and whether the stop went through). */
static sl_status stop_overdue(sl__athena *a, const char *id, const char *state, const char *sql,
                              sl_error *err) {
  sl_buf b = {0};
  sl_buf_puts(&b, "{\"QueryExecutionId\":");
  jstr(&b, id);
  sl_buf_puts(&b, "}");
  sl_doc *d = NULL;
  sl_error e;
  sl_error_clear(&e);
  sl_status st = call(a, "StopQueryExecution", b.data, &d, &e);
  sl_doc_free(d);
  sl_buf_free(&b);
  return sl_error_set(err, SL_DESTINATION,
                      "Athena query %s still %s after %lds ([destination.athena] query_timeout_s): %s; "
                      "statement: %.300s",
                      id, state, a->query_timeout_s,
                      st ? e.msg : "stopped it (StopQueryExecution)", sql);
}

/* Athena's column types as the printer treats them. */
static sl__cell_kind athena_kind(const char *type) {
  static const char *const numbers[] = {"tinyint", "smallint", "integer", "int", "bigint",
                                        "double", "float", "real", "decimal"};
  for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
    if (!strcasecmp(type, numbers[i])) return SL_CELL_NUMBER;
  if (!strcasecmp(type, "boolean")) return SL_CELL_BOOL;
  if (!strcasecmp(type, "json")) return SL_CELL_JSON;
  return SL_CELL_TEXT;
}

/* Column names and kinds from ResultSetMetadata.ColumnInfo; without it, the
 * names are the first row's cells (the header row Athena sends for SELECT). */
static sl_status take_columns(const sl_value *info, const sl_value *rows, athena_rows *out) {
  size_t n = sl_v_len(info);
  const sl_value *head = n ? NULL : sl_v_get(sl_v_at(rows, 0), "Data");
  if (!n) n = sl_v_len(head);
  if (!n) return SL_OK;
  out->names = calloc(n, sizeof *out->names);
  out->kinds = calloc(n, sizeof *out->kinds);
  if (!out->names || !out->kinds) return SL_NOMEM;
  out->ncols = n;
  for (size_t c = 0; c < n; c++) {
    const sl_value *ci = head ? NULL : sl_v_at(info, c);
    const char *name = head ? sl_v_str(sl_v_get(sl_v_at(head, c), "VarCharValue"), "")
                            : sl_v_str(sl_v_get(ci, "Name"), sl_v_str(sl_v_get(ci, "Label"), ""));
    out->kinds[c] = head ? SL_CELL_TEXT : athena_kind(sl_v_str(sl_v_get(ci, "Type"), "varchar"));
    if (!(out->names[c] = strdup(name))) return SL_NOMEM;
  }
  return SL_OK;
}

/* Athena repeats the column names as the first row of a SELECT's first page,
 * but not for DDL (SHOW, DESCRIBE): drop that row only when it is the names. */
static bool is_header_row(const sl_value *data, const athena_rows *out) {
  if (sl_v_len(data) != out->ncols) return false;
  for (size_t c = 0; c < out->ncols; c++) {
    const char *v = sl_v_str(sl_v_get(sl_v_at(data, c), "VarCharValue"), NULL);
    if (!v || strcmp(v, out->names[c]) != 0) return false;
  }
  return true;
}

/* Run one statement; rows (without the header row) when out is given. */
static sl_status run(sl__athena *a, const char *sql, const char *database, athena_rows *out,
                     sl_error *err) {
  if (out) memset(out, 0, sizeof *out);
  sl_buf b = {0};
  sl_buf_puts(&b, "{\"QueryString\":");
  jstr(&b, sql);
  sl_buf_puts(&b, ",\"QueryExecutionContext\":{\"Catalog\":");
  jstr(&b, a->catalog);
  if (database) {
    sl_buf_puts(&b, ",\"Database\":");
    jstr(&b, database);
  }
  sl_buf_puts(&b, "},\"WorkGroup\":");
  jstr(&b, a->workgroup);
  if (a->result_url) {
    sl_buf_puts(&b, ",\"ResultConfiguration\":{\"OutputLocation\":");
    jstr(&b, a->result_url);
    sl_buf_puts(&b, "}");
  }
  sl_buf_puts(&b, "}");
  sl_doc *d = NULL;
  SL_DEBUG("athena: %s", sql);
  sl_status st = call(a, "StartQueryExecution", b.data, &d, err);
  sl_buf_free(&b);
  if (st) {
    sl_error_prefix(err, "statement %.200s", sql);
    return st;
  }
  char *id = strdup(sl_v_str(sl_v_get(d->root, "QueryExecutionId"), ""));
  sl_doc_free(d);
  if (!id || !*id) {
    free(id);
    return sl_error_set(err, SL_DESTINATION, "Athena gave no QueryExecutionId for: %.200s", sql);
  }
  sl_buf q = {0};
  sl_buf_puts(&q, "{\"QueryExecutionId\":");
  jstr(&q, id);
  sl_buf_puts(&q, "}");
  long wait = 50;
  double deadline = now_s() + (double)a->query_timeout_s;
  for (;;) {
    d = NULL;
    if ((st = call(a, "GetQueryExecution", q.data, &d, err))) break;
    const sl_value *status = sl_v_get(sl_v_get(d->root, "QueryExecution"), "Status");
    const char *state = sl_v_str(sl_v_get(status, "State"), "");
    if (!strcmp(state, "SUCCEEDED")) {
      sl_doc_free(d);
      break;
    }
    if (!strcmp(state, "FAILED") || !strcmp(state, "CANCELLED")) {
      const char *why = sl_v_str(sl_v_get(status, "StateChangeReason"), "no reason given");
      st = sl_error_set(err, SL_DESTINATION, "Athena query %s %s: %s; statement: %.300s", id, state, why, sql);
      sl_doc_free(d);
      break;
    }
    double left = deadline - now_s();
    if (left <= 0) {
      char st_name[32];
      snprintf(st_name, sizeof st_name, "%s", *state ? state : "RUNNING");
      sl_doc_free(d);
      st = stop_overdue(a, id, st_name, sql, err);
      break;
    }
    sl_doc_free(d);
    sleep_ms(wait < left * 1000 ? wait : (long)(left * 1000) + 1);
    if (wait < 2000) wait *= 2;
  }
  /* Results, page by page. */
  char *token = NULL;
  bool first = true;
  size_t cap = 0;
  while (!st && out) {
    sl_buf r = {0};
    sl_buf_puts(&r, "{\"QueryExecutionId\":");
    jstr(&r, id);
    sl_buf_puts(&r, ",\"MaxResults\":1000");
    if (token) {
      sl_buf_puts(&r, ",\"NextToken\":");
      jstr(&r, token);
    }
    sl_buf_puts(&r, "}");
    d = NULL;
    st = call(a, "GetQueryResults", r.data, &d, err);
    sl_buf_free(&r);
    if (st) break;
    const sl_value *rs = sl_v_get(d->root, "ResultSet");
    const sl_value *rows = sl_v_get(rs, "Rows");
    size_t nr = sl_v_len(rows), i = 0;
    if (first) {
      if (take_columns(sl_v_get(sl_v_get(rs, "ResultSetMetadata"), "ColumnInfo"), rows, out))
        st = sl_error_set(err, SL_NOMEM, "out of memory");
      if (!st && nr && is_header_row(sl_v_get(sl_v_at(rows, 0), "Data"), out)) i = 1;
    }
    for (; i < nr && !st; i++) {
      const sl_value *data = sl_v_get(sl_v_at(rows, i), "Data");
      size_t nc = sl_v_len(data);
      if (!out->ncols) continue;
      if (out->nrows * out->ncols + out->ncols > cap) {
        size_t ncap = (cap + out->ncols) * 2;
        char **cells = realloc(out->cells, ncap * sizeof *out->cells);
        if (!cells) {
          st = sl_error_set(err, SL_NOMEM, "out of memory");
          break;
        }
        out->cells = cells;
        cap = ncap;
      }
      for (size_t c = 0; c < out->ncols; c++) {
        const char *v = c < nc ? sl_v_str(sl_v_get(sl_v_at(data, c), "VarCharValue"), NULL) : NULL;
        out->cells[out->nrows * out->ncols + c] = v ? strdup(v) : NULL;
      }
      out->nrows++;
    }
    first = false;
    free(token);
    token = NULL;
    const char *nt = sl_v_str(sl_v_get(d->root, "NextToken"), NULL);
    if (nt && !st) token = strdup(nt);
    sl_doc_free(d);
    if (!token) break;
  }
  free(token);
  free(id);
  sl_buf_free(&q);
  if (st && out) rows_free(out);
  if (!st) sl__crash_point("athena_stmt");
  return st;
}

/* ---- SQL text ----------------------------------------------------------------------- */

static void bq(sl_buf *b, const char *name) { /* `name` for DDL */
  sl_buf_putc(b, '`');
  for (const char *p = name; *p; p++) {
    if (*p == '`') sl_buf_putc(b, '`');
    sl_buf_putc(b, *p);
  }
  sl_buf_putc(b, '`');
}

static void dq(sl_buf *b, const char *name) { sl__sql_ident(b, name); }

static void lit(sl_buf *b, const char *s) { sl__sql_string(b, s); }

/* dlt's Athena types. */
static const char *athena_type(const sl_column *c, char *buf, size_t size) {
  switch (c->type) {
    case SL_T_BIGINT: return "bigint";
    case SL_T_DOUBLE: return "double";
    case SL_T_BOOL: return "boolean";
    case SL_T_TIMESTAMP: return "timestamp";
    case SL_T_DATE: return "date";
    case SL_T_BINARY: return "binary";
    case SL_T_DECIMAL:
      snprintf(buf, size, "decimal(%d,%d)", c->precision ? c->precision : 38, c->precision ? c->scale : 9);
      return buf;
    case SL_T_WEI: return "decimal(38,0)";
    default: return "string"; /* text, json, time */
  }
}

static void column_defs(sl_buf *b, const sl_table *t, const sl_table *prev, bool only_new) {
  bool first = true;
  char tb[32];
  for (size_t i = 0; i < t->ncolumns; i++) {
    const sl_column *c = &t->columns[i];
    if (c->incomplete) continue;
    int k = prev ? sl_table_find_column(prev, c->name, strlen(c->name)) : -1;
    if (only_new && k >= 0 && !prev->columns[k].incomplete) continue;
    if (!first) sl_buf_puts(b, ", ");
    first = false;
    bq(b, c->name);
    sl_buf_printf(b, " %s", athena_type(c, tb, sizeof tb));
  }
}

static void column_list(sl_buf *b, const sl_table *t) {
  bool first = true;
  for (size_t i = 0; i < t->ncolumns; i++) {
    if (t->columns[i].incomplete) continue;
    if (!first) sl_buf_puts(b, ", ");
    first = false;
    dq(b, t->columns[i].name);
  }
}

static bool has_new_columns(const sl_table *t, const sl_table *prev) {
  for (size_t i = 0; i < t->ncolumns; i++) {
    const sl_column *c = &t->columns[i];
    if (c->incomplete) continue;
    int k = sl_table_find_column(prev, c->name, strlen(c->name));
    if (k < 0 || prev->columns[k].incomplete) return true;
  }
  return false;
}

static bool is_iceberg(const sl__athena *a, const sl_schema *s, const sl_table *t) {
  if (sl_table_is_system(t)) return true;
  const sl_table *root = sl_schema_root_of(s, (sl_table *)t);
  if (a->force_iceberg || root->write_disposition == SL_WD_MERGE) return true;
  return root->table_format && !strcmp(root->table_format, "iceberg");
}

static sl_status exec(sl__athena *a, sl_error *err) {
  return run(a, a->sql.data, a->base.dataset, NULL, err);
}

/* ---- tables -------------------------------------------------------------------------- */

static void location(sl__athena *a, const char *rel) {
  sl_buf_printf(&a->sql, " LOCATION '%s/%s/%s/'", a->root_url, a->base.dataset, rel);
}

static sl_status ensure_system(sl__athena *a, sl_error *err) {
  if (a->system_ready) return SL_OK;
  static const struct { const char *name, *cols; } sys[] = {
      {"_dlt_loads", "`load_id` string, `schema_name` string, `status` bigint, `inserted_at` timestamp, "
                     "`schema_version_hash` string"},
      {"_dlt_version", "`version` bigint, `engine_version` bigint, `inserted_at` timestamp, "
                       "`schema_name` string, `version_hash` string, `schema` string"},
      {"_dlt_pipeline_state", "`version` bigint, `engine_version` bigint, `pipeline_name` string, "
                              "`state` string, `created_at` timestamp, `version_hash` string, "
                              "`_dlt_load_id` string, `_dlt_id` string"},
  };
  sl_buf_reset(&a->sql);
  sl_buf_puts(&a->sql, "CREATE DATABASE IF NOT EXISTS ");
  bq(&a->sql, a->base.dataset);
  sl_status st = run(a, a->sql.data, NULL, NULL, err);
  if (!st) {
    sl_buf_reset(&a->sql);
    sl_buf_puts(&a->sql, "CREATE DATABASE IF NOT EXISTS ");
    bq(&a->sql, a->staging_db);
    st = run(a, a->sql.data, NULL, NULL, err);
  }
  for (size_t i = 0; i < 3 && !st; i++) {
    sl_buf_reset(&a->sql);
    sl_buf_puts(&a->sql, "CREATE TABLE IF NOT EXISTS ");
    bq(&a->sql, a->base.dataset);
    sl_buf_putc(&a->sql, '.');
    bq(&a->sql, sys[i].name);
    sl_buf_printf(&a->sql, " (%s)", sys[i].cols);
    location(a, sys[i].name);
    sl_buf_puts(&a->sql, " TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet')");
    st = exec(a, err);
  }
  if (!st) a->system_ready = true;
  return st;
}

/* CREATE (if the stored schema lacks the table) or ADD COLUMNS. */
static sl_status ensure_table(sl__athena *a, const sl_schema *s, const sl_table *t, const sl_schema *prev,
                              sl_error *err) {
  const sl_table *pt = prev ? sl_schema_find_table(prev, t->name) : NULL;
  bool ice = is_iceberg(a, s, t);
  sl_buf *q = &a->sql;
  bool any = false;
  for (size_t i = 0; i < t->ncolumns && !any; i++) any = !t->columns[i].incomplete;
  if (!any) return SL_OK;
  if (!pt) {
    sl_buf_reset(q);
    sl_buf_puts(q, ice ? "CREATE TABLE IF NOT EXISTS " : "CREATE EXTERNAL TABLE IF NOT EXISTS ");
    bq(q, a->base.dataset);
    sl_buf_putc(q, '.');
    bq(q, t->name);
    sl_buf_puts(q, " (");
    column_defs(q, t, NULL, false);
    sl_buf_puts(q, ")");
    if (!ice) sl_buf_puts(q, " STORED AS PARQUET");
    location(a, t->name);
    if (ice) sl_buf_puts(q, " TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet')");
    sl_status st = exec(a, err);
    if (st) sl_error_where(err, t->name, NULL);
    return st;
  }
  if (!has_new_columns(t, pt)) return SL_OK;
  sl_buf_reset(q);
  sl_buf_puts(q, "ALTER TABLE ");
  bq(q, a->base.dataset);
  sl_buf_putc(q, '.');
  bq(q, t->name);
  sl_buf_puts(q, " ADD COLUMNS (");
  column_defs(q, t, pt, true);
  sl_buf_puts(q, ")");
  sl_status st = exec(a, err);
  if (st && (strcasestr(err->msg, "already exists") || strcasestr(err->msg, "duplicate"))) {
    /* Added by an earlier attempt of this load that died before its version row. */
    sl_error_clear(err);
    st = SL_OK;
  }
  if (st) sl_error_where(err, t->name, NULL);
  return st;
}

static void qname(sl__athena *a, const char *db, const char *t) {
  dq(&a->sql, db);
  sl_buf_putc(&a->sql, '.');
  dq(&a->sql, t);
}

/* The staging external table of t for this load. */
static sl_status stage_table(sl__athena *a, const sl_table *t, const char *load_id, sl_error *err) {
  sl_buf *q = &a->sql;
  sl_buf_reset(q);
  sl_buf_puts(q, "DROP TABLE IF EXISTS ");
  bq(q, a->staging_db);
  sl_buf_putc(q, '.');
  bq(q, t->name);
  sl_status st = exec(a, err);
  if (st) return st;
  sl_buf_reset(q);
  sl_buf_puts(q, "CREATE EXTERNAL TABLE ");
  bq(q, a->staging_db);
  sl_buf_putc(q, '.');
  bq(q, t->name);
  sl_buf_puts(q, " (");
  column_defs(q, t, NULL, false);
  sl_buf_puts(q, ") STORED AS PARQUET");
  sl_buf_printf(q, " LOCATION '%s/%s/_staging/%s/%s/'", a->root_url, a->base.dataset, load_id, t->name);
  return exec(a, err);
}

/* Primary key (or merge key) columns of a root. */
static size_t keys_of(const sl_table *root, const char **keys, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < root->ncolumns && n < cap; i++)
    if (root->columns[i].primary_key) keys[n++] = root->columns[i].name;
  if (!n)
    for (size_t i = 0; i < root->ncolumns && n < cap; i++)
      if (root->columns[i].merge_key) keys[n++] = root->columns[i].name;
  return n;
}

static void key_tuple(sl_buf *b, const char *const *keys, size_t n, const char *alias) {
  if (n > 1) sl_buf_putc(b, '(');
  for (size_t i = 0; i < n; i++) {
    if (i) sl_buf_puts(b, ", ");
    if (alias) sl_buf_printf(b, "%s.", alias);
    dq(b, keys[i]);
  }
  if (n > 1) sl_buf_putc(b, ')');
}

/* Load one root chain of Iceberg tables from its staging tables. */
static sl_status load_iceberg_chain(sl__athena *a, sl_schema *s, sl_table *root, bool *staged,
                                    const char *load_id, sl_error *err) {
  sl_table **chain = calloc(s->ntables + 1, sizeof *chain);
  if (!chain) return sl_error_set(err, SL_NOMEM, "out of memory");
  chain[0] = root;
  size_t n = 1 + sl_schema_descendants(s, root, chain + 1, s->ntables);
  const char *ds = a->base.dataset, *sdb = a->staging_db;
  const char *keys[16];
  size_t nk = keys_of(root, keys, 16);
  bool merge = root->write_disposition == SL_WD_MERGE && nk > 0;
  bool replace = root->write_disposition == SL_WD_REPLACE;
  bool root_staged = staged[0];
  sl_status st = SL_OK;
  sl_buf *q = &a->sql;
  /* 1. Take out what this load replaces, or what an earlier attempt of it put in. */
  for (size_t i = n; i-- > 0 && !st;) {
    sl_table *t = chain[i];
    bool exists = false;
    for (size_t k = 0; k < t->ncolumns && !exists; k++) exists = !t->columns[k].incomplete;
    if (!exists) continue;
    sl_buf_reset(q);
    sl_buf_puts(q, "DELETE FROM ");
    qname(a, ds, t->name);
    if (replace) {
      /* all rows */
    } else if (merge && root_staged) {
      if (i == 0) {
        sl_buf_puts(q, " WHERE ");
        key_tuple(q, keys, nk, NULL);
        sl_buf_puts(q, " IN (SELECT ");
        key_tuple(q, keys, nk, NULL);
        sl_buf_puts(q, " FROM ");
        qname(a, sdb, root->name);
        sl_buf_puts(q, ")");
      } else {
        sl_buf_puts(q, " WHERE \"_dlt_root_id\" IN (SELECT \"_dlt_id\" FROM ");
        qname(a, ds, root->name);
        sl_buf_puts(q, " WHERE ");
        key_tuple(q, keys, nk, NULL);
        sl_buf_puts(q, " IN (SELECT ");
        key_tuple(q, keys, nk, NULL);
        sl_buf_puts(q, " FROM ");
        qname(a, sdb, root->name);
        sl_buf_puts(q, "))");
      }
    } else if (staged[i]) {
      if (i == 0) {
        sl_buf_puts(q, " WHERE \"_dlt_load_id\" = ");
        lit(q, load_id);
      } else {
        sl_buf_puts(q, " WHERE \"_dlt_id\" IN (SELECT \"_dlt_id\" FROM ");
        qname(a, sdb, t->name);
        sl_buf_puts(q, ")");
      }
    } else {
      continue;
    }
    st = exec(a, err);
    if (st) sl_error_where(err, t->name, NULL);
  }
  /* 2. Insert the staged rows. */
  for (size_t i = 0; i < n && !st; i++) {
    if (!staged[i]) continue;
    sl_table *t = chain[i];
    sl_buf_reset(q);
    sl_buf_puts(q, "INSERT INTO ");
    qname(a, ds, t->name);
    sl_buf_puts(q, " (");
    column_list(q, t);
    sl_buf_puts(q, ") SELECT ");
    column_list(q, t);
    sl_buf_puts(q, " FROM ");
    qname(a, sdb, t->name);
    st = exec(a, err);
    if (st) sl_error_where(err, t->name, NULL);
  }
  free(chain);
  return st;
}

/* ---- system rows ----------------------------------------------------------------------- */

static void ts_now(char *out, size_t size) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char b[40];
  strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf(out, size, "TIMESTAMP '%.20s.%06d'", b, (int)(ts.tv_nsec / 1000));
}

static sl_status store_system(sl__athena *a, sl_schema *schema, const sl_load_request *req, sl_error *err) {
  const char *ds = a->base.dataset;
  char now[64];
  ts_now(now, sizeof now);
  sl_buf *q = &a->sql;
  sl_status st = SL_OK;
  if (req->schema_changed) {
    sl_doc *doc = sl_doc_new("schema");
    sl_value *v = doc ? sl_schema_to_value(schema, doc) : NULL;
    sl_buf js = {0};
    if (!v || sl_v_to_json(v, &js, 0)) st = sl_error_set(err, SL_NOMEM, "cannot serialize schema %s", schema->name);
    int64_t engine = v ? sl_v_int_or(sl_v_get(v, "engine_version"), 0) : 0;
    if (!st) {
      sl_buf_reset(q);
      sl_buf_puts(q, "DELETE FROM ");
      qname(a, ds, "_dlt_version");
      sl_buf_puts(q, " WHERE \"version_hash\" = ");
      lit(q, schema->version_hash);
      sl_buf_puts(q, " AND \"schema_name\" = ");
      lit(q, schema->name);
      st = exec(a, err);
    }
    if (!st) {
      sl_buf_reset(q);
      sl_buf_puts(q, "INSERT INTO ");
      qname(a, ds, "_dlt_version");
      sl_buf_printf(q, " (\"version\", \"engine_version\", \"inserted_at\", \"schema_name\", \"version_hash\", "
                       "\"schema\") VALUES (%lld, %lld, %s, ", (long long)schema->version, (long long)engine, now);
      lit(q, schema->name);
      sl_buf_puts(q, ", ");
      lit(q, schema->version_hash);
      sl_buf_puts(q, ", ");
      lit(q, js.data);
      sl_buf_puts(q, ")");
      st = exec(a, err);
    }
    sl_buf_free(&js);
    sl_doc_free(doc);
  }
  if (!st && req->state_json) {
    sl_buf enc = {0};
    sl_doc *sd = sl_json_parse_doc(req->state_json, strlen(req->state_json), "state", NULL);
    const sl_value *r = sd ? sd->root : NULL;
    char id[16];
    sl__dest_random_id(id);
    if (sl__dest_state_encode(req->state_json, strlen(req->state_json), &enc)) {
      st = sl_error_set(err, SL_NOMEM, "cannot compress the pipeline state");
    } else {
      sl_buf_reset(q);
      sl_buf_puts(q, "DELETE FROM ");
      qname(a, ds, "_dlt_pipeline_state");
      sl_buf_puts(q, " WHERE \"_dlt_load_id\" = ");
      lit(q, req->load_id);
      st = exec(a, err);
      if (!st) {
        sl_buf_reset(q);
        sl_buf_puts(q, "INSERT INTO ");
        qname(a, ds, "_dlt_pipeline_state");
        sl_buf_printf(q, " (\"version\", \"engine_version\", \"pipeline_name\", \"state\", \"created_at\", "
                         "\"version_hash\", \"_dlt_load_id\", \"_dlt_id\") VALUES (%lld, %lld, ",
                      (long long)sl_v_int_or(sl_v_get(r, "_state_version"), 0),
                      (long long)sl_v_int_or(sl_v_get(r, "_state_engine_version"), 4));
        lit(q, req->pipeline_name ? req->pipeline_name : "");
        sl_buf_puts(q, ", ");
        lit(q, enc.data);
        sl_buf_printf(q, ", %s, ", now);
        lit(q, sl_v_str(sl_v_get(r, "_version_hash"), ""));
        sl_buf_puts(q, ", ");
        lit(q, req->load_id);
        sl_buf_puts(q, ", ");
        lit(q, id);
        sl_buf_puts(q, ")");
        st = exec(a, err);
      }
    }
    sl_buf_free(&enc);
    sl_doc_free(sd);
  }
  if (!st) {
    sl_buf_reset(q);
    sl_buf_puts(q, "INSERT INTO ");
    qname(a, ds, "_dlt_loads");
    sl_buf_puts(q, " (\"load_id\", \"schema_name\", \"status\", \"inserted_at\", \"schema_version_hash\") VALUES (");
    lit(q, req->load_id);
    sl_buf_puts(q, ", ");
    lit(q, schema->name);
    sl_buf_printf(q, ", 0, %s, ", now);
    lit(q, schema->version_hash);
    sl_buf_puts(q, ")");
    st = exec(a, err);
  }
  return st;
}

/* ---- vtable --------------------------------------------------------------------------- */

static sl_status ath_is_loaded(sl_dest *d, const char *load_id, bool *loaded, sl_error *err) {
  sl__athena *a = (sl__athena *)d;
  *loaded = false;
  sl_status st = ensure_system(a, err);
  if (st) return st;
  sl_buf_reset(&a->sql);
  sl_buf_puts(&a->sql, "SELECT count(*) FROM ");
  qname(a, a->base.dataset, "_dlt_loads");
  sl_buf_puts(&a->sql, " WHERE \"load_id\" = ");
  lit(&a->sql, load_id);
  athena_rows r;
  st = run(a, a->sql.data, a->base.dataset, &r, err);
  if (!st) *loaded = r.nrows && r.cells[0] && strtoll(r.cells[0], NULL, 10) > 0;
  rows_free(&r);
  return st;
}

static sl_status ath_stored_schema(sl_dest *d, const char *schema_name, char **json, sl_error *err) {
  sl__athena *a = (sl__athena *)d;
  *json = NULL;
  sl_status st = ensure_system(a, err);
  if (st) return st;
  sl_buf_reset(&a->sql);
  sl_buf_puts(&a->sql, "SELECT \"schema\" FROM ");
  qname(a, a->base.dataset, "_dlt_version");
  sl_buf_puts(&a->sql, " WHERE \"schema_name\" = ");
  lit(&a->sql, schema_name);
  sl_buf_puts(&a->sql, " ORDER BY \"inserted_at\" DESC, \"version\" DESC LIMIT 1");
  athena_rows r;
  st = run(a, a->sql.data, a->base.dataset, &r, err);
  if (!st && r.nrows && r.cells[0]) *json = strdup(r.cells[0]);
  rows_free(&r);
  return st;
}

static sl_status ath_stored_state(sl_dest *d, const char *pipeline_name, char **json, sl_error *err) {
  sl__athena *a = (sl__athena *)d;
  *json = NULL;
  sl_status st = ensure_system(a, err);
  if (st) return st;
  sl_buf *q = &a->sql;
  sl_buf_reset(q);
  sl_buf_puts(q, "SELECT s.\"state\" FROM ");
  qname(a, a->base.dataset, "_dlt_pipeline_state");
  sl_buf_puts(q, " AS s JOIN ");
  qname(a, a->base.dataset, "_dlt_loads");
  sl_buf_puts(q, " AS l ON l.\"load_id\" = s.\"_dlt_load_id\" WHERE l.\"status\" = 0 AND s.\"pipeline_name\" = ");
  lit(q, pipeline_name);
  sl_buf_puts(q, " ORDER BY s.\"_dlt_load_id\" DESC LIMIT 1");
  athena_rows r;
  st = run(a, q->data, a->base.dataset, &r, err);
  if (!st && r.nrows && r.cells[0]) st = sl__dest_state_decode(r.cells[0], strlen(r.cells[0]), json, err);
  rows_free(&r);
  return st;
}

static sl_status complete_jobs(sl_package *pkg, sl_error *err) {
  sl_status st = SL_OK;
  for (int js = SL_JOB_NEW; js <= SL_JOB_STARTED && !st; js++) {
    char **names = NULL;
    size_t n = 0;
    if ((st = sl_package_list_jobs(pkg, (sl_job_state)js, &names, &n, err))) break;
    for (size_t i = 0; i < n && !st; i++)
      st = sl_package_move_job(pkg, names[i], (sl_job_state)js, SL_JOB_COMPLETED, NULL, err);
    sl_package_list_free(names, n);
  }
  return st;
}

static sl_status ath_load_package(sl_dest *d, sl_package *pkg, sl_schema *schema, const sl_load_request *req,
                                  sl_error *err) {
  sl__athena *a = (sl__athena *)d;
  if (!pkg || !schema || !req || !req->load_id)
    return sl_error_set(err, SL_INVALID_ARG, "load_package needs a package, a schema and a load id");
  bool loaded = false;
  sl_status st = ath_is_loaded(d, req->load_id, &loaded, err);
  if (st) return st;
  if (loaded) {
    SL_INFO("package %s is already in %s._dlt_loads; not loading it again", req->load_id, d->dataset);
    return complete_jobs(pkg, err);
  }
  /* The destination's columns as of the last load (no catalog scans). */
  sl_schema *prev = NULL;
  char *pj = NULL;
  if ((st = ath_stored_schema(d, schema->name, &pj, err))) return st;
  if (pj) {
    sl_doc *pd = sl_json_parse_doc(pj, strlen(pj), "stored schema", NULL);
    if (pd) prev = sl_schema_from_value(pd->root, NULL);
    sl_doc_free(pd);
    free(pj);
  }
  sl__fs_jobs jobs, hive = {0}, ice = {0};
  char **written = NULL, **swritten = NULL;
  size_t nwritten = 0, nswritten = 0;
  bool *staged = calloc(schema->ntables + 1, sizeof *staged);
  sl__fs_abort_orphan_uploads(a->fs);
  st = staged ? sl__fs_gather(pkg, &jobs, err) : sl_error_set(err, SL_NOMEM, "out of memory");
  if (st) goto out;
  /* Split the jobs: Hive tables are written in place, Iceberg ones staged. */
  hive.jobs = calloc(jobs.n + 1, sizeof *hive.jobs);
  ice.jobs = calloc(jobs.n + 1, sizeof *ice.jobs);
  for (size_t i = 0; i < jobs.n; i++) {
    sl_table *t = sl_schema_find_table(schema, jobs.jobs[i].table);
    if (!t) {
      st = sl_error_set(err, SL_SCHEMA, "the job %s is for table %s, which the package schema lacks",
                        jobs.jobs[i].path, jobs.jobs[i].table);
      goto out;
    }
    if (is_iceberg(a, schema, t)) ice.jobs[ice.n++] = jobs.jobs[i];
    else hive.jobs[hive.n++] = jobs.jobs[i];
  }
  /* Tables first (new ones created, new columns added). */
  for (size_t i = 0; i < schema->ntables && !st; i++) {
    sl_table *t = schema->tables[i];
    if (sl_table_is_system(t)) continue;
    bool used = false;
    for (size_t k = 0; k < jobs.n && !used; k++) used = !strcmp(jobs.jobs[k].table, t->name);
    if (used) st = ensure_table(a, schema, t, prev, err);
  }
  if (!st && hive.n) st = sl__fs_write_data(a->fs, pkg, schema, req->load_id, &hive, &written, &nwritten, err);
  if (!st && ice.n) {
    char *saved = a->fs->layout;
    a->fs->layout = "_staging/{load_id}/{table_name}/{file_id}.{ext}";
    st = sl__fs_write_data(a->fs, pkg, schema, req->load_id, &ice, &swritten, &nswritten, err);
    a->fs->layout = saved;
  }
  /* Hive replace: the chain's older files go once the new ones are in. */
  for (size_t i = 0; i < hive.n && !st; i++) {
    sl_table *root = sl_schema_root_of(schema, sl_schema_find_table(schema, hive.jobs[i].table));
    if (root->write_disposition != SL_WD_REPLACE) continue;
    bool done = false;
    for (size_t k = 0; k < i && !done; k++)
      done = sl_schema_root_of(schema, sl_schema_find_table(schema, hive.jobs[k].table)) == root;
    if (!done) st = sl__fs_replace_cleanup(a->fs, schema, root, written, nwritten, err);
  }
  /* Iceberg: staging tables, then each root chain. */
  for (size_t i = 0; i < schema->ntables && !st; i++) {
    sl_table *t = schema->tables[i];
    for (size_t k = 0; k < ice.n; k++)
      if (!strcmp(ice.jobs[k].table, t->name)) {
        /* A job that wrote no file (no columns) stages nothing. */
        char pre[1024];
        snprintf(pre, sizeof pre, "_staging/%s/%s/", req->load_id, t->name);
        for (size_t w = 0; w < nswritten; w++)
          if (!strncmp(swritten[w], pre, strlen(pre))) staged[i] = true;
        break;
      }
    if (staged[i]) st = stage_table(a, t, req->load_id, err);
  }
  for (size_t i = 0; i < schema->ntables && !st; i++) {
    sl_table *root = schema->tables[i];
    if (root->parent || sl_table_is_system(root) || !is_iceberg(a, schema, root)) continue;
    bool used = false;
    for (size_t k = 0; k < ice.n && !used; k++)
      used = sl_schema_root_of(schema, sl_schema_find_table(schema, ice.jobs[k].table)) == root;
    if (!used) continue;
    /* staged[] by chain position */
    sl_table **chain = calloc(schema->ntables + 1, sizeof *chain);
    bool *cs = calloc(schema->ntables + 1, sizeof *cs);
    chain[0] = root;
    size_t n = 1 + sl_schema_descendants(schema, root, chain + 1, schema->ntables);
    for (size_t c = 0; c < n; c++)
      for (size_t x = 0; x < schema->ntables; x++)
        if (schema->tables[x] == chain[c]) cs[c] = staged[x];
    st = load_iceberg_chain(a, schema, root, cs, req->load_id, err);
    free(chain);
    free(cs);
  }
  if (!st) st = ensure_system(a, err);
  if (!st) st = store_system(a, schema, req, err);
  if (!st) {
    /* Staging of this load is no longer needed. */
    sl_error e;
    sl_error_clear(&e);
    if (nswritten) sl__fs_delete(a->fs, swritten, nswritten, &e);
    SL_INFO("package %s: %zu file(s) in place, %zu staged, loaded into Athena database %s", req->load_id,
            nwritten, nswritten, d->dataset);
    st = complete_jobs(pkg, err);
  } else {
    sl_error_prefix(err, "loading package %s", req->load_id);
  }
out:
  free(hive.jobs);
  free(ice.jobs);
  sl__fs_jobs_free(&jobs);
  sl_package_list_free(written, nwritten);
  sl_package_list_free(swritten, nswritten);
  free(staged);
  sl_schema_free(prev);
  return st;
}

static sl_status ath_drop_tables(sl_dest *d, const char *schema_name, const char *const *tables, size_t n,
                                sl_error *err) {
  sl__athena *a = (sl__athena *)d;
  sl_status st = SL_OK;
  for (size_t i = 0; i < n && !st; i++) {
    sl_buf_reset(&a->sql);
    sl_buf_puts(&a->sql, "DROP TABLE IF EXISTS ");
    bq(&a->sql, a->base.dataset);
    sl_buf_putc(&a->sql, '.');
    bq(&a->sql, tables[i]);
    st = exec(a, err);
  }
  if (!st) st = a->fs->base.vt->drop_tables(&a->fs->base, schema_name, tables, n, err);
  return st;
}

static sl_status ath_row_counts(sl_dest *d, const sl_schema *schema, sl_table_count **out, size_t *n,
                                sl_error *err) {
  sl__athena *a = (sl__athena *)d;
  *out = calloc(schema->ntables + 1, sizeof **out);
  *n = 0;
  if (!*out) return sl_error_set(err, SL_NOMEM, "out of memory");
  for (size_t i = 0; i < schema->ntables; i++) {
    const sl_table *t = schema->tables[i];
    if (sl_table_is_system(t)) continue;
    sl_table_count *c = &(*out)[(*n)++];
    c->table = strdup(t->name);
    c->rows = -1;
    sl_buf_reset(&a->sql);
    sl_buf_puts(&a->sql, "SELECT count(*) FROM ");
    qname(a, a->base.dataset, t->name);
    athena_rows r;
    sl_error e;
    sl_error_clear(&e);
    if (run(a, a->sql.data, a->base.dataset, &r, &e) == SL_OK && r.nrows && r.cells[0])
      c->rows = strtoll(r.cells[0], NULL, 10);
    rows_free(&r);
  }
  return SL_OK;
}

static void ath_close(sl_dest *d) {
  sl__athena *a = (sl__athena *)d;
  if (!a) return;
  if (a->fs) a->fs->base.vt->close(&a->fs->base);
  sl_aws_credentials_free(&a->creds);
  free(a->endpoint);
  free(a->region);
  free(a->workgroup);
  free(a->catalog);
  free(a->result_url);
  free(a->root_url);
  free(a->staging_db);
  free(a->base.dataset);
  sl_buf_free(&a->sql);
  free(a);
}

/* ---- read-only queries ------------------------------------------------------------- */

/* Athena cannot run a statement in a transaction that is rolled back, so
 * only statements that cannot write are sent: one statement, whose first
 * keyword (past comments and opening parentheses) reads. EXPLAIN ANALYZE runs
 * its statement, so it must be a query. *len is the statement without a
 * trailing ';'. */
static sl_status athena_read_only(const char *sql, size_t *len, sl_error *err) {
  static const char only[] = "only SELECT, WITH, VALUES, SHOW, DESCRIBE and EXPLAIN run here";
  const char *p = sl__sql_skip_space(sql);
  if (!*p) return sl_error_set(err, SL_INVALID_ARG, "no SQL statement given");
  const char *end = sl__sql_statement_end(p);
  if (*end == ';' && *sl__sql_skip_space(end + 1))
    return sl_error_set(err, SL_INVALID_ARG,
                        "read-only query: a second statement is not allowed (statement 2); one "
                        "statement at a time, %s", only);
  *len = (size_t)(end - sql);
  static const char *const reads[] = {"SELECT", "WITH", "VALUES", "SHOW", "DESCRIBE", "DESC", NULL};
  static const char *const explain[] = {"EXPLAIN", NULL};
  char name[33];
  bool ok = sl__sql_starts_with(p, reads, name);
  if (sl__sql_starts_with(p, explain, name)) {
    size_t n;
    const char *w = sl__sql_word(sl__sql_skip_space(p), &n);
    ok = true;
    const char *q = sl__sql_skip_space(w + n);
    size_t m;
    const char *v = sl__sql_word(q, &m);
    if (sl__sql_word_is(v, m, "ANALYZE")) {
      q = sl__sql_skip_space(v + m);
      v = sl__sql_word(q, &m);
      if (sl__sql_word_is(v, m, "VERBOSE")) q = sl__sql_skip_space(v + m);
      if (*q == '(') { /* (FORMAT …) options */
        while (*q && *q != ')') q++;
        if (*q) q = sl__sql_skip_space(q + 1);
      }
      while (*q == '(') q = sl__sql_skip_space(q + 1);
      v = sl__sql_word(q, &m);
      ok = sl__sql_word_is(v, m, "SELECT") || sl__sql_word_is(v, m, "WITH");
      if (!ok)
        return sl_error_set(err, SL_INVALID_ARG,
                            "read-only query: EXPLAIN ANALYZE of %.*s is not allowed (it runs the "
                            "statement); EXPLAIN ANALYZE only of SELECT or WITH, %s",
                            m ? (int)(m > 32 ? 32 : m) : 4, m ? v : "this", only);
    }
  }
  if (!ok)
    return sl_error_set(err, SL_INVALID_ARG, "read-only query: %s is not allowed (statement 1); %s",
                        *name ? name : "this statement", only);
  return SL_OK;
}

static sl_status ath_query(sl_dest *d, const sl_schema *schema, const char *sql, sl_query_format fmt,
                           sl_buf *out, sl_error *err) {
  (void)schema; /* Athena's catalog knows the tables */
  sl__athena *a = (sl__athena *)d;
  size_t len = 0;
  sl_status st = athena_read_only(sql, &len, err);
  if (st) return st;
  char *one = strndup(sql, len);
  if (!one) return sl_error_set(err, SL_NOMEM, "out of memory");
  athena_rows r;
  st = run(a, one, a->base.dataset, &r, err);
  free(one);
  if (!st && sl__query_render(&r, fmt, out)) st = sl_error_set(err, SL_TOO_LARGE, "query result too large");
  rows_free(&r);
  return st;
}

static const sl_dest_vt athena_vt = {
    .name = "athena",
    .load_package = ath_load_package,
    .is_loaded = ath_is_loaded,
    .stored_state = ath_stored_state,
    .stored_schema = ath_stored_schema,
    .drop_tables = ath_drop_tables,
    .row_counts = ath_row_counts,
    .query = ath_query,
    .close = ath_close,
};

sl_dest *sl_athena_open(const sl_athena_options *o, sl_error *err) {
  sl__athena *a = calloc(1, sizeof *a);
  if (!a) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  a->base.vt = &athena_vt;
  if (!o || !o->staging_bucket_url || strncmp(o->staging_bucket_url, "s3://", 5) != 0 || !o->dataset ||
      !o->creds) {
    sl_error_set(err, SL_CONFIG_INVALID,
                 "the athena destination needs a staging bucket ([destination.filesystem] bucket_url = "
                 "\"s3://…\"), AWS credentials and a dataset");
    ath_close(&a->base);
    return NULL;
  }
  a->base.dataset = strdup(o->dataset);
  a->creds.access_key_id = strdup(o->creds->access_key_id);
  a->creds.secret_access_key = strdup(o->creds->secret_access_key);
  a->creds.session_token = o->creds->session_token ? strdup(o->creds->session_token) : NULL;
  const char *region = o->region ? o->region : o->creds->region ? o->creds->region : "us-east-1";
  a->region = strdup(region);
  if (o->endpoint_url && *o->endpoint_url) a->endpoint = strdup(o->endpoint_url);
  else if (asprintf(&a->endpoint, "https://athena.%s.amazonaws.com", region) < 0) a->endpoint = NULL;
  a->workgroup = strdup(o->work_group ? o->work_group : "primary");
  a->catalog = strdup(o->data_catalog ? o->data_catalog : "awsdatacatalog");
  a->result_url = o->query_result_bucket ? strdup(o->query_result_bucket) : NULL;
  a->root_url = strdup(o->staging_bucket_url);
  size_t rl = a->root_url ? strlen(a->root_url) : 0;
  while (rl > 5 && a->root_url[rl - 1] == '/') a->root_url[--rl] = '\0';
  if (asprintf(&a->staging_db, "%s_staging", o->dataset) < 0) a->staging_db = NULL;
  a->force_iceberg = o->force_iceberg;
  a->query_timeout_s = o->creds->settings.athena_query_timeout_s > 0 ? o->creds->settings.athena_query_timeout_s
                                                                     : 30 * 60;
  a->creds.settings = o->creds->settings;
  a->fs = calloc(1, sizeof *a->fs);
  if (!a->base.dataset || !a->creds.access_key_id || !a->region || !a->endpoint || !a->workgroup ||
      !a->catalog || !a->root_url || !a->staging_db || !a->fs) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    ath_close(&a->base);
    return NULL;
  }
  sl_filesystem_options fo = {.bucket_url = o->staging_bucket_url, .dataset = o->dataset,
                              .format = "parquet", .creds = o->creds};
  if (sl__fs_init(a->fs, &fo, err)) {
    ath_close(&a->base);
    return NULL;
  }
  return &a->base;
}
