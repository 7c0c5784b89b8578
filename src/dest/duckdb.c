/* The DuckDB destination: the connection, statement helpers, the per-load
 * cache of destination columns, dlt's system tables, and what `sync`,
 * `drop` and `info` read back (stored state and schema, row counts). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dlfcn.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "dest/duckdb_int.h"
#include "sluice/progress.h"
#include "sluice/log.h"

/* Rows per row group of a database file. DuckDB's default (122,880) keeps a
 * whole uncompressed row group of every table in memory while a transaction
 * appends (~100 MB for a wide table of URLs) before it writes it to the file
 * optimistically. Fewer rows per group cost less during the load, but every
 * checkpoint (the re-attach between transactions, the close) loads the
 * metadata of all of a table's row groups: at 16,384 that grew the peak by
 * ~55 MB over 10 M records. 65,536 is the balance measured with
 * bench/pipeline: +7 MB at 200 k records, +4 MB from 200 k to 3 M (16,384:
 * +13 MB), and ~40% less CPU in the load. Files stay readable by any DuckDB:
 * row groups may differ in size. */
#define DDB_ROW_GROUP_SIZE 65536

/* ---- name sets ------------------------------------------------------------------ */

static uint64_t hash_name(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

bool sl__nameset_has(const sl__nameset *s, const char *name) {
  if (!s->cap) return false;
  for (size_t i = hash_name(name) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
    if (!s->slots[i]) return false;
    if (!strcmp(s->slots[i], name)) return true;
  }
}

sl_status sl__nameset_add(sl__nameset *s, const char *name) {
  if (sl__nameset_has(s, name)) return SL_OK;
  if ((s->n + 1) * 2 > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 32;
    char **slots = calloc(cap, sizeof *slots);
    if (!slots) return SL_NOMEM;
    for (size_t j = 0; j < s->cap; j++) {
      if (!s->slots[j]) continue;
      size_t i = hash_name(s->slots[j]) & (cap - 1);
      while (slots[i]) i = (i + 1) & (cap - 1);
      slots[i] = s->slots[j];
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
  }
  char *copy = strdup(name);
  if (!copy) return SL_NOMEM;
  size_t i = hash_name(name) & (s->cap - 1);
  while (s->slots[i]) i = (i + 1) & (s->cap - 1);
  s->slots[i] = copy;
  s->n++;
  return SL_OK;
}

void sl__nameset_free(sl__nameset *s) {
  for (size_t i = 0; i < s->cap; i++) free(s->slots[i]);
  free(s->slots);
  memset(s, 0, sizeof *s);
}

/* ---- statements ----------------------------------------------------------------- */

/* Always catalog.schema.table: a dataset named like the database file would
 * otherwise be ambiguous ("bench"."t" could be catalog bench, table t). */
sl_status sl__ddb_name(sl_duckdb *d, sl_buf *b, const char *schema, const char *table) {
  sl_status st = sl__sql_ident(b, d->catalog);
  if (!st) st = sl_buf_putc(b, '.');
  if (!st) st = sl__sql_ident(b, schema);
  if (!st && table) st = sl_buf_putc(b, '.');
  if (!st && table) st = sl__sql_ident(b, table);
  return st;
}

static sl_status ddb_error(sl_error *err, const char *what, const char *sql) {
  char brief[160];
  size_t n = sql ? strlen(sql) : 0;
  snprintf(brief, sizeof brief, "%.*s%s", (int)(n > 120 ? 120 : n), sql ? sql : "", n > 120 ? "…" : "");
  return sl_error_set(err, SL_DESTINATION, "DuckDB: %s (in: %s)", what ? what : "unknown error", brief);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

sl_status sl__ddb_exec(sl_duckdb *d, const char *sql, sl_error *err) {
  duckdb_result res;
  sl_status st = SL_OK;
  bool trace = sl_log_get_level() <= SL_LOG_DEBUG;
  double t0 = trace ? now_s() : 0;
  if (duckdb_query(d->con, sql, &res) == DuckDBError) st = ddb_error(err, duckdb_result_error(&res), sql);
  duckdb_destroy_result(&res);
  if (trace) SL_DEBUG("duckdb %.3f s: %.300s", now_s() - t0, sql);
  return st;
}

sl_status sl__ddb_exec_buf(sl_duckdb *d, sl_error *err) {
  if (!d->sql.data) return SL_OK;
  return sl__ddb_exec(d, d->sql.data, err);
}

/* First column of the first row as malloc'ed text (NULL when none). */
static sl_status first_text(duckdb_result *res, char **out, sl_error *err) {
  *out = NULL;
  duckdb_data_chunk ch = duckdb_fetch_chunk(*res);
  if (!ch) return SL_OK;
  sl_status st = SL_OK;
  if (duckdb_data_chunk_get_size(ch) > 0 && duckdb_data_chunk_get_column_count(ch) > 0) {
    duckdb_vector v = duckdb_data_chunk_get_vector(ch, 0);
    duckdb_logical_type lt = duckdb_vector_get_column_type(v);
    duckdb_type id = duckdb_get_type_id(lt);
    duckdb_destroy_logical_type(&lt);
    uint64_t *valid = duckdb_vector_get_validity(v);
    if (valid && !duckdb_validity_row_is_valid(valid, 0)) {
      /* NULL */
    } else if (id == DUCKDB_TYPE_VARCHAR || id == DUCKDB_TYPE_BLOB) {
      duckdb_string_t *s = (duckdb_string_t *)duckdb_vector_get_data(v);
      uint32_t len = duckdb_string_t_length(s[0]);
      const char *p = duckdb_string_t_data(&s[0]);
      if ((*out = malloc(len + 1))) {
        memcpy(*out, p, len);
        (*out)[len] = '\0';
      } else {
        st = sl_error_set(err, SL_NOMEM, "out of memory");
      }
    } else if (id == DUCKDB_TYPE_BIGINT) {
      if (asprintf(out, "%lld", (long long)((int64_t *)duckdb_vector_get_data(v))[0]) < 0) {
        *out = NULL;
        st = sl_error_set(err, SL_NOMEM, "out of memory");
      }
    } else if (id == DUCKDB_TYPE_BOOLEAN) {
      *out = strdup(((bool *)duckdb_vector_get_data(v))[0] ? "true" : "false");
    } else {
      st = sl_error_set(err, SL_INTERNAL, "unexpected result type %d", (int)id);
    }
  }
  duckdb_destroy_data_chunk(&ch);
  return st;
}

sl_status sl__ddb_run(sl_duckdb *d, const char *sql, const sl__ddb_param *params, size_t n,
                      char **out, sl_error *err) {
  if (out) *out = NULL;
  duckdb_prepared_statement ps = NULL;
  if (duckdb_prepare(d->con, sql, &ps) == DuckDBError) {
    sl_status st = ddb_error(err, duckdb_prepare_error(ps), sql);
    duckdb_destroy_prepare(&ps);
    return st;
  }
  for (size_t i = 0; i < n; i++) {
    duckdb_state s;
    if (params[i].is_int)
      s = duckdb_bind_int64(ps, i + 1, params[i].i);
    else if (params[i].s)
      s = duckdb_bind_varchar(ps, i + 1, params[i].s);
    else
      s = duckdb_bind_null(ps, i + 1);
    if (s == DuckDBError) {
      duckdb_destroy_prepare(&ps);
      return ddb_error(err, "cannot bind a parameter", sql);
    }
  }
  duckdb_result res;
  sl_status st = SL_OK;
  if (duckdb_execute_prepared(ps, &res) == DuckDBError)
    st = ddb_error(err, duckdb_result_error(&res), sql);
  else if (out)
    st = first_text(&res, out, err);
  duckdb_destroy_result(&res);
  duckdb_destroy_prepare(&ps);
  return st;
}

/* ---- the destination column cache ----------------------------------------------- */

void sl__ddb_cache_clear(sl_duckdb *d) {
  for (size_t i = 0; i < d->ntables; i++) {
    sl__ddb_table *t = d->tables[i];
    free(t->schema);
    free(t->name);
    sl__nameset_free(&t->cols);
    for (size_t j = 0; j < t->norder; j++) free(t->order[j]);
    free(t->order);
    free(t);
  }
  d->ntables = 0;
}

sl_status sl__ddb_table_add_col(sl__ddb_table *t, const char *name) {
  if (sl__nameset_has(&t->cols, name)) return SL_OK;
  if (t->norder == t->caporder) {
    size_t cap = t->caporder ? t->caporder * 2 : 16;
    char **o = realloc(t->order, cap * sizeof *o);
    if (!o) return SL_NOMEM;
    t->order = o;
    t->caporder = cap;
  }
  if (!(t->order[t->norder] = strdup(name))) return SL_NOMEM;
  t->norder++;
  return sl__nameset_add(&t->cols, name);
}

sl_status sl__ddb_table_get(sl_duckdb *d, const char *schema, const char *name,
                            sl__ddb_table **out, sl_error *err) {
  for (size_t i = 0; i < d->ntables; i++) {
    if (!strcmp(d->tables[i]->name, name) && !strcmp(d->tables[i]->schema, schema)) {
      *out = d->tables[i];
      return SL_OK;
    }
  }
  if (d->ntables == d->captables) {
    size_t cap = d->captables ? d->captables * 2 : 16;
    sl__ddb_table **v = realloc(d->tables, cap * sizeof *v);
    if (!v) return sl_error_set(err, SL_NOMEM, "out of memory");
    d->tables = v;
    d->captables = cap;
  }
  sl__ddb_table *t = calloc(1, sizeof *t);
  if (!t || !(t->schema = strdup(schema)) || !(t->name = strdup(name))) {
    if (t) free(t->schema), free(t);
    return sl_error_set(err, SL_NOMEM, "out of memory");
  }
  d->tables[d->ntables++] = t;
  *out = t;
  return sl__ddb_table_refresh(d, t, err);
}

sl_status sl__ddb_table_refresh(sl_duckdb *d, sl__ddb_table *t, sl_error *err) {
  sl__nameset_free(&t->cols);
  for (size_t j = 0; j < t->norder; j++) free(t->order[j]);
  t->norder = 0;
  /* Once per table per load: the columns the destination has. */
  static const char q[] =
      "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
      "AND table_schema = ? AND table_name = ? ORDER BY ordinal_position";
  duckdb_prepared_statement ps = NULL;
  duckdb_result res;
  sl_status st = SL_OK;
  if (duckdb_prepare(d->con, q, &ps) == DuckDBError) {
    st = ddb_error(err, duckdb_prepare_error(ps), q);
    duckdb_destroy_prepare(&ps);
    return st;
  }
  duckdb_bind_varchar(ps, 1, t->schema);
  duckdb_bind_varchar(ps, 2, t->name);
  if (duckdb_execute_prepared(ps, &res) == DuckDBError) {
    st = ddb_error(err, duckdb_result_error(&res), q);
  } else {
    duckdb_data_chunk ch;
    while (!st && (ch = duckdb_fetch_chunk(res)) != NULL) {
      idx_t rows = duckdb_data_chunk_get_size(ch);
      duckdb_string_t *s = duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 0));
      for (idx_t r = 0; r < rows && !st; r++) {
        uint32_t len = duckdb_string_t_length(s[r]);
        char *col = strndup(duckdb_string_t_data(&s[r]), len);
        if (!col || sl__ddb_table_add_col(t, col)) st = sl_error_set(err, SL_NOMEM, "out of memory");
        free(col);
      }
      duckdb_destroy_data_chunk(&ch);
    }
    t->exists = t->norder > 0;
  }
  duckdb_destroy_result(&res);
  duckdb_destroy_prepare(&ps);
  return st;
}

void sl__ddb_type_sql(sl_dtype t, int precision, int scale, char *out, size_t size) {
  switch (t) {
    case SL_T_TEXT: snprintf(out, size, "VARCHAR"); break;
    case SL_T_JSON: snprintf(out, size, "JSON"); break;
    case SL_T_DOUBLE: snprintf(out, size, "DOUBLE"); break;
    case SL_T_BOOL: snprintf(out, size, "BOOLEAN"); break;
    case SL_T_DATE: snprintf(out, size, "DATE"); break;
    case SL_T_TIMESTAMP: snprintf(out, size, "TIMESTAMP WITH TIME ZONE"); break;
    case SL_T_BIGINT: snprintf(out, size, "BIGINT"); break;
    case SL_T_BINARY: snprintf(out, size, "BLOB"); break;
    case SL_T_TIME: snprintf(out, size, "TIME"); break;
    case SL_T_WEI: snprintf(out, size, "DECIMAL(38,0)"); break;
    case SL_T_DECIMAL:
      if (precision > 0 && precision <= 38 && scale >= 0 && scale <= precision)
        snprintf(out, size, "DECIMAL(%d,%d)", precision, scale);
      else
        snprintf(out, size, "DECIMAL(38,9)");
      break;
    default: snprintf(out, size, "VARCHAR"); break;
  }
}

/* ---- system tables --------------------------------------------------------------- */

/* The columns come from the schema's own system table definitions
 * (src/schema/schema.c, dlt's version_table, loads_table and
 * pipeline_state_table(add_dlt_id=True)), so the two never disagree. */
sl_status sl__ddb_create_system_tables(sl_duckdb *d, sl_error *err) {
  sl_schema *defs = sl_schema_new("_dlt_system");
  if (!defs) return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_status st = SL_OK;
  for (size_t i = 0; i < defs->ntables && !st; i++) {
    const sl_table *def = defs->tables[i];
    if (!sl_table_is_system(def)) continue;
    sl__ddb_table *t;
    if ((st = sl__ddb_table_get(d, d->base.dataset, def->name, &t, err))) break;
    if (t->exists) continue;
    sl_buf_reset(&d->sql);
    sl_buf_puts(&d->sql, "CREATE TABLE IF NOT EXISTS ");
    sl__ddb_name(d, &d->sql, d->base.dataset, def->name);
    sl_buf_putc(&d->sql, '(');
    for (size_t k = 0; k < def->ncolumns; k++) {
      const sl_column *c = &def->columns[k];
      char type[64];
      sl__ddb_type_sql(c->type, c->precision, c->scale, type, sizeof type);
      if (k) sl_buf_puts(&d->sql, ", ");
      sl__sql_ident(&d->sql, c->name);
      sl_buf_printf(&d->sql, " %s%s", type, c->nullable ? "" : " NOT NULL");
    }
    sl_buf_putc(&d->sql, ')');
    if ((st = sl__ddb_exec_buf(d, err))) break;
    st = sl__ddb_table_refresh(d, t, err);
  }
  sl_schema_free(defs);
  return st;
}

/* Whether schema.table exists (no cache: used outside loads). */
static sl_status table_exists(sl_duckdb *d, const char *schema, const char *table, bool *yes,
                              sl_error *err) {
  char *v = NULL;
  sl__ddb_param p[] = {SL_PS(schema), SL_PS(table)};
  sl_status st = sl__ddb_run(d,
                             "SELECT CAST(count(*) AS BIGINT) FROM information_schema.tables WHERE "
                             "table_catalog = current_database() AND table_schema = ? AND table_name = ?",
                             p, 2, &v, err);
  *yes = !st && v && strcmp(v, "0") != 0;
  free(v);
  return st;
}

sl_status sl__ddb_is_loaded(sl_dest *dst, const char *load_id, bool *loaded, sl_error *err) {
  sl_duckdb *d = (sl_duckdb *)dst;
  *loaded = false;
  bool exists;
  sl_status st = table_exists(d, dst->dataset, "_dlt_loads", &exists, err);
  if (st || !exists) return st;
  sl_buf_reset(&d->sql);
  sl_buf_puts(&d->sql, "SELECT CAST(count(*) AS BIGINT) FROM ");
  sl__ddb_name(d, &d->sql, dst->dataset, "_dlt_loads");
  sl_buf_puts(&d->sql, " WHERE \"load_id\" = ?");
  char *v = NULL;
  sl__ddb_param p[] = {SL_PS(load_id)};
  st = sl__ddb_run(d, d->sql.data, p, 1, &v, err);
  *loaded = !st && v && strcmp(v, "0") != 0;
  free(v);
  return st;
}

static sl_status ddb_stored_state(sl_dest *dst, const char *pipeline_name, char **state_json,
                                  sl_error *err) {
  sl_duckdb *d = (sl_duckdb *)dst;
  *state_json = NULL;
  bool e1, e2;
  sl_status st = table_exists(d, dst->dataset, "_dlt_pipeline_state", &e1, err);
  if (!st) st = table_exists(d, dst->dataset, "_dlt_loads", &e2, err);
  if (st || !e1 || !e2) return st;
  sl_buf_reset(&d->sql);
  sl_buf_puts(&d->sql, "SELECT s.\"state\" FROM ");
  sl__ddb_name(d, &d->sql, dst->dataset, "_dlt_pipeline_state");
  sl_buf_puts(&d->sql, " AS s JOIN ");
  sl__ddb_name(d, &d->sql, dst->dataset, "_dlt_loads");
  sl_buf_puts(&d->sql,
              " AS l ON l.\"load_id\" = s.\"_dlt_load_id\" WHERE s.\"pipeline_name\" = ? AND "
              "l.\"status\" = 0 ORDER BY length(l.\"load_id\") DESC, l.\"load_id\" DESC, "
              "s.\"created_at\" DESC LIMIT 1");
  char *v = NULL;
  sl__ddb_param p[] = {SL_PS(pipeline_name)};
  if ((st = sl__ddb_run(d, d->sql.data, p, 1, &v, err)) || !v) return st;
  st = sl__dest_state_decode(v, strlen(v), state_json, err);
  free(v);
  return st;
}

static sl_status ddb_stored_schema(sl_dest *dst, const char *schema_name, char **schema_json,
                                   sl_error *err) {
  sl_duckdb *d = (sl_duckdb *)dst;
  *schema_json = NULL;
  bool exists;
  sl_status st = table_exists(d, dst->dataset, "_dlt_version", &exists, err);
  if (st || !exists) return st;
  sl_buf_reset(&d->sql);
  sl_buf_puts(&d->sql, "SELECT \"schema\" FROM ");
  sl__ddb_name(d, &d->sql, dst->dataset, "_dlt_version");
  sl_buf_puts(&d->sql, " WHERE \"schema_name\" = ? ORDER BY \"inserted_at\" DESC, \"version\" DESC LIMIT 1");
  sl__ddb_param p[] = {SL_PS(schema_name)};
  return sl__ddb_run(d, d->sql.data, p, 1, schema_json, err);
}

static sl_status ddb_drop_tables(sl_dest *dst, const char *schema_name, const char *const *tables, size_t n,
                                sl_error *err) {
  (void)schema_name; /* the dataset is the DuckDB schema */
  sl_duckdb *d = (sl_duckdb *)dst;
  sl_status st = sl__ddb_exec(d, "BEGIN TRANSACTION", err);
  for (size_t i = 0; i < n && !st; i++) {
    sl_buf_reset(&d->sql);
    sl_buf_puts(&d->sql, "DROP TABLE IF EXISTS ");
    sl__ddb_name(d, &d->sql, dst->dataset, tables[i]);
    st = sl__ddb_exec_buf(d, err);
  }
  if (!st) return sl__ddb_exec(d, "COMMIT", err);
  sl__ddb_exec(d, "ROLLBACK", NULL);
  return st;
}

static sl_status ddb_row_counts(sl_dest *dst, const sl_schema *schema, sl_table_count **out,
                                size_t *n, sl_error *err) {
  sl_duckdb *d = (sl_duckdb *)dst;
  *out = NULL;
  *n = 0;
  sl_table_count *c = calloc(schema->ntables ? schema->ntables : 1, sizeof *c);
  if (!c) return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_status st = SL_OK;
  size_t k = 0;
  for (size_t i = 0; i < schema->ntables && !st; i++) {
    const sl_table *t = schema->tables[i];
    if (sl_table_is_system(t)) continue;
    bool exists;
    if ((st = table_exists(d, dst->dataset, t->name, &exists, err))) break;
    c[k].rows = -1;
    if (!(c[k].table = strdup(t->name))) {
      st = sl_error_set(err, SL_NOMEM, "out of memory");
      break;
    }
    k++;
    if (!exists) continue;
    sl_buf_reset(&d->sql);
    sl_buf_puts(&d->sql, "SELECT CAST(count(*) AS BIGINT) FROM ");
    sl__ddb_name(d, &d->sql, dst->dataset, t->name);
    char *v = NULL;
    if ((st = sl__ddb_run(d, d->sql.data, NULL, 0, &v, err))) break;
    c[k - 1].rows = v ? strtoll(v, NULL, 10) : 0;
    free(v);
  }
  if (st) {
    sl_table_counts_free(c, k);
    return st;
  }
  *out = c;
  *n = k;
  return SL_OK;
}

static void ddb_close(sl_dest *dst) {
  sl_duckdb *d = (sl_duckdb *)dst;
  sl__ddb_cache_clear(d);
  free(d->tables);
  if (d->con) duckdb_disconnect(&d->con);
  if (d->db) duckdb_close(&d->db);
  sl_buf_free(&d->sql);
  free(d->path);
  free(d->staging);
  free(d->catalog);
  free(d->base.dataset);
  free(d);
}

const sl_dest_vt sl__duckdb_vt = {
    .name = "duckdb",
    .load_package = sl__ddb_load_package,
    .is_loaded = sl__ddb_is_loaded,
    .stored_state = ddb_stored_state,
    .stored_schema = ddb_stored_schema,
    .drop_tables = ddb_drop_tables,
    .row_counts = ddb_row_counts,
    .close = ddb_close,
};

sl_dest *sl_duckdb_open(const sl_duckdb_options *opts, sl_error *err) {
  if (!opts || !opts->path || !*opts->path || !opts->dataset || !*opts->dataset) {
    sl_error_set(err, SL_INVALID_ARG, "the DuckDB destination needs a database path and a dataset name");
    return NULL;
  }
  sl_duckdb *d = calloc(1, sizeof *d);
  if (!d) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  d->base.vt = &sl__duckdb_vt;
  d->base.dataset = strdup(opts->dataset);
  d->path = strdup(opts->path);
  if (opts->staging_dataset && *opts->staging_dataset)
    d->staging = strdup(opts->staging_dataset);
  else if (asprintf(&d->staging, "%s_staging", opts->dataset) < 0)
    d->staging = NULL;
  if (!d->base.dataset || !d->path || !d->staging) {
    ddb_close(&d->base);
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  d->memory_limit_mb = opts->memory_limit_mb;
  d->threads = opts->threads;
  d->txn_rows = opts->rows_per_transaction ? opts->rows_per_transaction : SL_DUCKDB_ROWS_PER_TRANSACTION;
  duckdb_config cfg = NULL;
  char *open_err = NULL, opt[64];
  if (duckdb_create_config(&cfg) == DuckDBError) {
    ddb_close(&d->base);
    sl_error_set(err, SL_NOMEM, "cannot create a DuckDB configuration");
    return NULL;
  }
  if (opts->threads) {
    snprintf(opt, sizeof opt, "%u", opts->threads);
    duckdb_set_config(cfg, "threads", opt);
  }
  if (opts->memory_limit_mb) {
    snprintf(opt, sizeof opt, "%lluMB", (unsigned long long)opts->memory_limit_mb);
    duckdb_set_config(cfg, "memory_limit", opt);
  }
  bool file = strcmp(opts->path, ":memory:") != 0;
  if (file) {
    /* DuckDB's own default for a database file, which an in-memory instance
     * (below) does not have: spilled blocks go beside the database. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", opts->path);
    duckdb_set_config(cfg, "temp_directory", tmp);
  }
  /* A file is ATTACHed to an in-memory instance rather than opened directly:
   * only ATTACH takes a row group size, and a smaller one is what keeps a
   * large load flat (see DDB_ROW_GROUP_SIZE). */
  duckdb_state s = duckdb_open_ext(NULL, &d->db, cfg, &open_err);
  duckdb_destroy_config(&cfg);
  if (s == DuckDBError || duckdb_connect(d->db, &d->con) == DuckDBError) {
    sl_error_set(err, SL_DESTINATION, "cannot open the DuckDB database %s: %s", opts->path,
                 open_err ? open_err : "cannot start DuckDB");
    sl_error_at(err, opts->path, 0, 0, -1);
    if (open_err) duckdb_free(open_err);
    if (s == DuckDBError) d->db = NULL;
    d->con = NULL;
    ddb_close(&d->base);
    return NULL;
  }
  if (file) {
    sl_buf *b = &d->sql;
    sl_buf_reset(b);
    sl_status bst = sl_buf_puts(b, "ATTACH ");
    if (!bst) bst = sl__sql_string(b, opts->path);
    if (!bst) bst = sl_buf_printf(b, " (ROW_GROUP_SIZE %d)", DDB_ROW_GROUP_SIZE);
    duckdb_result res;
    bool queried = false;
    if (bst) {
      sl_error_set(err, SL_NOMEM, "out of memory");
    } else if (queried = true, duckdb_query(d->con, b->data, &res) == DuckDBError) {
      const char *m = duckdb_result_error(&res);
      m = m ? m : "unknown error";
      /* DuckDB reports a held file lock only in its message text. */
      if (strstr(m, "Could not set lock") || strstr(m, "Conflicting lock"))
        sl_error_set(err, SL_LOCKED,
                     "the database %s is in use by another process (DuckDB allows one writer): %s",
                     opts->path, m);
      else
        sl_error_set(err, SL_DESTINATION, "cannot open the DuckDB database %s: %s", opts->path, m);
      sl_error_at(err, opts->path, 0, 0, -1);
      bst = SL_DESTINATION;
    }
    if (queried) duckdb_destroy_result(&res);
    /* The attached file becomes the default catalog, as a direct open made it. */
    char *alias = NULL;
    if (!bst)
      bst = sl__ddb_run(d, "SELECT database_name FROM duckdb_databases() WHERE NOT internal AND "
                           "path IS NOT NULL AND database_name <> 'memory' LIMIT 1",
                        NULL, 0, &alias, err);
    if (!bst && !alias) bst = sl_error_set(err, SL_DESTINATION, "DuckDB did not attach %s", opts->path);
    if (!bst) {
      sl_buf_reset(b);
      bst = sl_buf_puts(b, "USE ");
      if (!bst) bst = sl__sql_ident(b, alias);
      if (!bst) bst = sl__ddb_exec_buf(d, err);
    }
    free(alias);
    if (bst) {
      ddb_close(&d->base);
      return NULL;
    }
  }
  if (sl__ddb_run(d, "SELECT current_database()", NULL, 0, &d->catalog, err) || !d->catalog) {
    if (!d->catalog) sl_error_set(err, SL_DESTINATION, "cannot read the catalog name of %s", opts->path);
    ddb_close(&d->base);
    return NULL;
  }
  return &d->base;
}

/* Close and re-attach the database file (no transaction open): DuckDB keeps
 * the row group metadata of every table it has written to in memory while
 * the file stays attached (~7 bytes a row: 70 MB after 10 M rows), and
 * reads it back lazily once re-attached, so a long load re-attaches between
 * its transactions to stay flat. */
sl_status sl__ddb_reattach(sl_duckdb *d, sl_error *err) {
  if (!strcmp(d->path, ":memory:")) return SL_OK;
  sl_buf *b = &d->sql;
  sl_buf_reset(b);
  sl_status st = sl_buf_puts(b, "USE memory; DETACH ");
  if (!st) st = sl__sql_ident(b, d->catalog);
  if (!st) st = sl_buf_puts(b, "; ATTACH ");
  if (!st) st = sl__sql_string(b, d->path);
  if (!st) st = sl_buf_puts(b, " AS ");
  if (!st) st = sl__sql_ident(b, d->catalog);
  if (!st) st = sl_buf_printf(b, " (ROW_GROUP_SIZE %d); USE ", DDB_ROW_GROUP_SIZE);
  if (!st) st = sl__sql_ident(b, d->catalog);
  if (st) return sl_error_set(err, SL_NOMEM, "out of memory");
  st = sl__ddb_exec_buf(d, err);
#ifdef __GLIBC__
  /* What the detach freed is scattered through the heap: give it back. */
  malloc_trim(0);
#endif
  return st;
}

/* ---- giving memory back ------------------------------------------------------------- */

/* libduckdb's Linux builds allocate their buffers with a bundled jemalloc,
 * whose dirty pages decay over a second. Its control entry point is exported
 * under DuckDB's prefix, though not part of the C API: looked up at run time,
 * so a libduckdb without it (another build, another allocator) just skips
 * this. "arena.4096.purge" is jemalloc's "every arena" (MALLCTL_ARENAS_ALL). */
typedef int (*je_mallctl_fn)(const char *, void *, size_t *, void *, size_t);

void sl__ddb_release_memory(void) {
  static int looked;
  static je_mallctl_fn mallctl;
  if (!looked) {
    looked = 1;
    *(void **)&mallctl = dlsym(RTLD_DEFAULT, "duckdb_je_mallctl");
  }
  if (mallctl) mallctl("arena.4096.purge", NULL, NULL, NULL, 0);
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

/* ---- memory trace (SLUICE_DDB_MEMTRACE) ------------------------------------------------ */

/* With SLUICE_DDB_MEMTRACE set, a load prints one line to stderr at its
 * start, after each job and around COMMIT: VmRSS/VmHWM/RssAnon (MB), malloc's
 * heap, and duckdb_memory() per tag as used/temporary MB (a table's
 * "temporary" figure includes the blocks written optimistically to the
 * database file), plus duckdb_temporary_files(). For bench/pipeline's
 * memory work; costs nothing when unset. */

void sl__ddb_memtrace(sl_duckdb *d, const char *what, uint64_t rows) {
  static int on = -1;
  if (on < 0) on = getenv("SLUICE_DDB_MEMTRACE") != NULL;
  if (!on) return;
  fprintf(stderr, "MT %-14s rows=%9llu rss=%6ld hwm=%6ld anon=%6ld |", what, (unsigned long long)rows,
          sl_progress_status_kb("VmRSS") / 1024, sl_progress_status_kb("VmHWM") / 1024, sl_progress_status_kb("RssAnon") / 1024);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  /* DuckDB's C++ objects (row group metadata, version info) live in malloc's
   * heap; its buffers in its own jemalloc. */
  struct mallinfo2 mi = mallinfo2();
  fprintf(stderr, " malloc inuse=%.1f free=%.1f mmap=%.1f |", mi.uordblks / 1048576.0,
          mi.fordblks / 1048576.0, mi.hblkhd / 1048576.0);
#endif
  duckdb_result res;
  if (duckdb_query(d->con,
                   "SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory() "
                   "WHERE memory_usage_bytes > 0 OR temporary_storage_bytes > 0 UNION ALL "
                   "SELECT 'TMPFILES', count(*), coalesce(sum(size),0) FROM duckdb_temporary_files()",
                   &res) == DuckDBSuccess) {
    for (idx_t i = 0; i < duckdb_row_count(&res); i++) {
      char *t = duckdb_value_varchar(&res, 0, i);
      fprintf(stderr, " %s=%.1f/%.1f", t, duckdb_value_int64(&res, 1, i) / 1048576.0,
              duckdb_value_int64(&res, 2, i) / 1048576.0);
      duckdb_free(t);
    }
  } else {
    fprintf(stderr, " (%s)", duckdb_result_error(&res));
  }
  duckdb_destroy_result(&res);
  fprintf(stderr, "\n");
}
