/* sl_duckdb_query: SQL from a user (`sluice pipeline NAME query`, `show`,
 * `info`) against the dataset, printed as an aligned table, CSV or JSON.
 * Read-only mode admits only statements DuckDB itself classifies as SELECT or
 * EXPLAIN, and runs them inside a transaction that is rolled back, so even
 * EXPLAIN ANALYZE of a write leaves nothing behind. It first turns DuckDB's
 * file access off for the instance (read_text, COPY TO, ATTACH inside an
 * EXPLAIN ANALYZE), which DuckDB never lets a statement turn back on; the
 * loader's appender and checkpoints do not need it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dest/duckdb_int.h"

static bool statement_reads_only(duckdb_statement_type t) {
  return t == DUCKDB_STATEMENT_TYPE_SELECT || t == DUCKDB_STATEMENT_TYPE_EXPLAIN;
}

static const char *statement_type_name(duckdb_statement_type t) {
  switch (t) {
    case DUCKDB_STATEMENT_TYPE_INSERT: return "INSERT";
    case DUCKDB_STATEMENT_TYPE_UPDATE: return "UPDATE";
    case DUCKDB_STATEMENT_TYPE_DELETE: return "DELETE";
    case DUCKDB_STATEMENT_TYPE_CREATE: return "CREATE";
    case DUCKDB_STATEMENT_TYPE_ALTER: return "ALTER";
    case DUCKDB_STATEMENT_TYPE_DROP: return "DROP";
    case DUCKDB_STATEMENT_TYPE_COPY: return "COPY";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION: return "a transaction statement";
    case DUCKDB_STATEMENT_TYPE_ATTACH: return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH: return "DETACH";
    case DUCKDB_STATEMENT_TYPE_PRAGMA: return "PRAGMA";
    case DUCKDB_STATEMENT_TYPE_SET:
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET: return "SET";
    case DUCKDB_STATEMENT_TYPE_CALL: return "CALL";
    case DUCKDB_STATEMENT_TYPE_EXPORT: return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_LOAD: return "LOAD/INSTALL";
    case DUCKDB_STATEMENT_TYPE_VACUUM: return "VACUUM";
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC: return "CREATE FUNCTION";
    default: return "this statement";
  }
}

/* A statement that does not even prepare (DELETE on a view, INSERT into a
 * missing table): named as a write when its first keyword does not read,
 * rather than by DuckDB's binder error. */
static sl_status refuse_unprepared(const char *sql, idx_t i, const char *why, sl_error *err) {
  static const char *const reads[] = {"SELECT", "WITH", "FROM", "VALUES", "TABLE", "EXPLAIN", "SHOW",
                                      "DESCRIBE", "DESC", "SUMMARIZE", "PIVOT", "UNPIVOT", NULL};
  const char *p = sql;
  for (idx_t k = 0; k < i && *p; k++) {
    p = sl__sql_statement_end(p);
    if (*p) p++;
  }
  char first[33];
  if (sl__sql_starts_with(p, reads, first) || !*first)
    return sl_error_set(err, SL_INVALID_ARG, "SQL error: %s", why);
  return sl_error_set(err, SL_INVALID_ARG,
                      "read-only query: %s is not allowed (statement %llu); only SELECT and "
                      "EXPLAIN run here",
                      first, (unsigned long long)i + 1);
}

/* ---- results as text ------------------------------------------------------------------ */

static sl__cell_kind kind_of(duckdb_logical_type lt) {
  char *alias = duckdb_logical_type_get_alias(lt);
  bool json = alias && !strcmp(alias, "JSON");
  if (alias) duckdb_free(alias);
  if (json) return SL_CELL_JSON;
  switch (duckdb_get_type_id(lt)) {
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL:
    case DUCKDB_TYPE_BIGNUM: return SL_CELL_NUMBER;
    case DUCKDB_TYPE_BOOLEAN: return SL_CELL_BOOL;
    default: return SL_CELL_TEXT;
  }
}

/* Every cell becomes DuckDB's own VARCHAR text for its value. The legacy
 * duckdb_value_varchar knows only the types of the deprecated C result (it
 * gives NULL for TIMESTAMPTZ, TIMETZ, UUID, ENUM, lists, structs, ...), so the
 * cells are read from the result's data chunks instead: each value is rebuilt
 * as a duckdb_value and cast with duckdb_get_varchar, the cast a
 * CAST(x AS VARCHAR) does (TIMESTAMPTZ in UTC, "+00"). Strings are copied
 * straight from the vector. */

#define UNSUPPORTED_CELL "(unsupported type)" /* a type the C API cannot name: TIME_NS */

static duckdb_value vector_value(duckdb_vector vec, duckdb_logical_type lt, idx_t row);

static duckdb_value child_value(duckdb_vector vec, duckdb_logical_type lt, idx_t row) {
  uint64_t *valid = duckdb_vector_get_validity(vec);
  if (valid && !duckdb_validity_row_is_valid(valid, row)) return duckdb_create_null_value();
  return vector_value(vec, lt, row);
}

static duckdb_hugeint hugeint_of(int64_t x) {
  return (duckdb_hugeint){(uint64_t)x, x < 0 ? -1 : 0};
}

static void destroy_values(duckdb_value *v, idx_t n) {
  for (idx_t i = 0; i < n; i++)
    if (v[i]) duckdb_destroy_value(&v[i]);
  free(v);
}

/* NULL when any element has a type the C API cannot build. */
static bool all_built(const duckdb_value *v, idx_t n) {
  for (idx_t i = 0; i < n; i++)
    if (!v[i]) return false;
  return true;
}

static duckdb_value list_value(duckdb_vector vec, duckdb_logical_type lt, idx_t row, bool map) {
  duckdb_list_entry e = ((duckdb_list_entry *)duckdb_vector_get_data(vec))[row];
  duckdb_vector child = duckdb_list_vector_get_child(vec);
  duckdb_value *keys = calloc(e.length ? e.length : 1, sizeof *keys);
  duckdb_value *vals = calloc(e.length ? e.length : 1, sizeof *vals);
  duckdb_value v = NULL;
  if (keys && vals && !map) {
    duckdb_logical_type ct = duckdb_list_type_child_type(lt);
    for (idx_t i = 0; i < e.length; i++) vals[i] = child_value(child, ct, e.offset + i);
    if (all_built(vals, e.length)) v = duckdb_create_list_value(ct, vals, e.length);
    duckdb_destroy_logical_type(&ct);
  } else if (keys && vals) {
    /* a MAP is a list of STRUCT(key, value) */
    duckdb_logical_type kt = duckdb_map_type_key_type(lt), vt = duckdb_map_type_value_type(lt);
    duckdb_vector kv = duckdb_struct_vector_get_child(child, 0);
    duckdb_vector vv = duckdb_struct_vector_get_child(child, 1);
    for (idx_t i = 0; i < e.length; i++) {
      keys[i] = child_value(kv, kt, e.offset + i);
      vals[i] = child_value(vv, vt, e.offset + i);
    }
    if (all_built(keys, e.length) && all_built(vals, e.length))
      v = duckdb_create_map_value(lt, keys, vals, e.length);
    duckdb_destroy_logical_type(&kt);
    duckdb_destroy_logical_type(&vt);
  }
  if (keys) destroy_values(keys, e.length);
  if (vals) destroy_values(vals, e.length);
  return v;
}

static duckdb_value array_value(duckdb_vector vec, duckdb_logical_type lt, idx_t row) {
  idx_t n = duckdb_array_type_array_size(lt);
  duckdb_vector child = duckdb_array_vector_get_child(vec);
  duckdb_logical_type ct = duckdb_array_type_child_type(lt);
  duckdb_value *vals = calloc(n ? n : 1, sizeof *vals), v = NULL;
  if (vals) {
    for (idx_t i = 0; i < n; i++) vals[i] = child_value(child, ct, row * n + i);
    if (all_built(vals, n)) v = duckdb_create_array_value(ct, vals, n);
    destroy_values(vals, n);
  }
  duckdb_destroy_logical_type(&ct);
  return v;
}

static duckdb_value struct_value(duckdb_vector vec, duckdb_logical_type lt, idx_t row) {
  idx_t n = duckdb_struct_type_child_count(lt);
  duckdb_value *vals = calloc(n ? n : 1, sizeof *vals), v = NULL;
  if (!vals) return NULL;
  for (idx_t i = 0; i < n; i++) {
    duckdb_logical_type ct = duckdb_struct_type_child_type(lt, i);
    vals[i] = child_value(duckdb_struct_vector_get_child(vec, i), ct, row);
    duckdb_destroy_logical_type(&ct);
  }
  if (all_built(vals, n)) v = duckdb_create_struct_value(lt, vals);
  destroy_values(vals, n);
  return v;
}

/* A UNION is stored as a STRUCT: the tag first, then one child per member. */
static duckdb_value union_value(duckdb_vector vec, duckdb_logical_type lt, idx_t row) {
  uint8_t tag = ((uint8_t *)duckdb_vector_get_data(duckdb_struct_vector_get_child(vec, 0)))[row];
  duckdb_logical_type mt = duckdb_union_type_member_type(lt, tag);
  duckdb_value m = child_value(duckdb_struct_vector_get_child(vec, 1 + (idx_t)tag), mt, row);
  duckdb_value v = m ? duckdb_create_union_value(lt, tag, m) : NULL;
  if (m) duckdb_destroy_value(&m);
  duckdb_destroy_logical_type(&mt);
  return v;
}

/* A BIGNUM's bytes: a 3-byte header whose top bit is set for positive numbers,
 * then the magnitude big-endian; a negative number has every bit inverted.
 * duckdb_create_bignum takes the magnitude in that same (big-endian) order. */
static duckdb_value bignum_value(const uint8_t *p, idx_t n) {
  if (n < 3) return NULL;
  bool negative = !(p[0] & 0x80);
  idx_t m = n - 3;
  uint8_t *mag = malloc(m ? m : 1);
  if (!mag) return NULL;
  for (idx_t i = 0; i < m; i++) mag[i] = negative ? (uint8_t)~p[3 + i] : p[3 + i];
  duckdb_value v = duckdb_create_bignum((duckdb_bignum){mag, m, negative});
  free(mag);
  return v;
}

/* The value at row of a flat vector (the caller has checked it is not NULL);
 * NULL for a type the C API cannot build. */
static duckdb_value vector_value(duckdb_vector vec, duckdb_logical_type lt, idx_t row) {
  void *data = duckdb_vector_get_data(vec);
  switch (duckdb_get_type_id(lt)) {
    case DUCKDB_TYPE_BOOLEAN: return duckdb_create_bool(((bool *)data)[row]);
    case DUCKDB_TYPE_TINYINT: return duckdb_create_int8(((int8_t *)data)[row]);
    case DUCKDB_TYPE_SMALLINT: return duckdb_create_int16(((int16_t *)data)[row]);
    case DUCKDB_TYPE_INTEGER: return duckdb_create_int32(((int32_t *)data)[row]);
    case DUCKDB_TYPE_BIGINT: return duckdb_create_int64(((int64_t *)data)[row]);
    case DUCKDB_TYPE_UTINYINT: return duckdb_create_uint8(((uint8_t *)data)[row]);
    case DUCKDB_TYPE_USMALLINT: return duckdb_create_uint16(((uint16_t *)data)[row]);
    case DUCKDB_TYPE_UINTEGER: return duckdb_create_uint32(((uint32_t *)data)[row]);
    case DUCKDB_TYPE_UBIGINT: return duckdb_create_uint64(((uint64_t *)data)[row]);
    case DUCKDB_TYPE_HUGEINT: return duckdb_create_hugeint(((duckdb_hugeint *)data)[row]);
    case DUCKDB_TYPE_UHUGEINT: return duckdb_create_uhugeint(((duckdb_uhugeint *)data)[row]);
    case DUCKDB_TYPE_FLOAT: return duckdb_create_float(((float *)data)[row]);
    case DUCKDB_TYPE_DOUBLE: return duckdb_create_double(((double *)data)[row]);
    case DUCKDB_TYPE_DATE: return duckdb_create_date(((duckdb_date *)data)[row]);
    case DUCKDB_TYPE_TIME: return duckdb_create_time(((duckdb_time *)data)[row]);
    case DUCKDB_TYPE_TIME_NS: return duckdb_create_time_ns(((duckdb_time_ns *)data)[row]);
    case DUCKDB_TYPE_TIME_TZ: return duckdb_create_time_tz_value(((duckdb_time_tz *)data)[row]);
    case DUCKDB_TYPE_TIMESTAMP: return duckdb_create_timestamp(((duckdb_timestamp *)data)[row]);
    case DUCKDB_TYPE_TIMESTAMP_TZ: return duckdb_create_timestamp_tz(((duckdb_timestamp *)data)[row]);
    case DUCKDB_TYPE_TIMESTAMP_S: return duckdb_create_timestamp_s(((duckdb_timestamp_s *)data)[row]);
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return duckdb_create_timestamp_ms(((duckdb_timestamp_ms *)data)[row]);
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return duckdb_create_timestamp_ns(((duckdb_timestamp_ns *)data)[row]);
    case DUCKDB_TYPE_INTERVAL: return duckdb_create_interval(((duckdb_interval *)data)[row]);
    case DUCKDB_TYPE_UUID: {
      /* stored with the top bit flipped, so that signed order is UUID order */
      duckdb_hugeint h = ((duckdb_hugeint *)data)[row];
      return duckdb_create_uuid((duckdb_uhugeint){h.lower, (uint64_t)h.upper ^ (1ull << 63)});
    }
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB:
    case DUCKDB_TYPE_BIT:
    case DUCKDB_TYPE_BIGNUM: {
      duckdb_string_t *s = &((duckdb_string_t *)data)[row];
      const char *p = duckdb_string_t_data(s);
      idx_t n = duckdb_string_t_length(*s);
      switch (duckdb_get_type_id(lt)) {
        case DUCKDB_TYPE_VARCHAR: return duckdb_create_varchar_length(p, n);
        case DUCKDB_TYPE_BLOB: return duckdb_create_blob((const uint8_t *)p, n);
        case DUCKDB_TYPE_BIT: return duckdb_create_bit((duckdb_bit){(uint8_t *)p, n});
        default: return bignum_value((const uint8_t *)p, n);
      }
    }
    case DUCKDB_TYPE_DECIMAL: {
      duckdb_decimal dec = {duckdb_decimal_width(lt), duckdb_decimal_scale(lt), {0, 0}};
      switch (duckdb_decimal_internal_type(lt)) {
        case DUCKDB_TYPE_SMALLINT: dec.value = hugeint_of(((int16_t *)data)[row]); break;
        case DUCKDB_TYPE_INTEGER: dec.value = hugeint_of(((int32_t *)data)[row]); break;
        case DUCKDB_TYPE_BIGINT: dec.value = hugeint_of(((int64_t *)data)[row]); break;
        default: dec.value = ((duckdb_hugeint *)data)[row];
      }
      return duckdb_create_decimal(dec);
    }
    case DUCKDB_TYPE_ENUM: {
      uint64_t i;
      switch (duckdb_enum_internal_type(lt)) {
        case DUCKDB_TYPE_UTINYINT: i = ((uint8_t *)data)[row]; break;
        case DUCKDB_TYPE_USMALLINT: i = ((uint16_t *)data)[row]; break;
        default: i = ((uint32_t *)data)[row];
      }
      return duckdb_create_enum_value(lt, i);
    }
    case DUCKDB_TYPE_LIST: return list_value(vec, lt, row, false);
    case DUCKDB_TYPE_MAP: return list_value(vec, lt, row, true);
    case DUCKDB_TYPE_ARRAY: return array_value(vec, lt, row);
    case DUCKDB_TYPE_STRUCT: return struct_value(vec, lt, row);
    case DUCKDB_TYPE_UNION: return union_value(vec, lt, row);
    default: return NULL;
  }
}

/* The text of one cell (NULL stays NULL in *out). */
static sl_status cell_text(duckdb_vector vec, duckdb_logical_type lt, idx_t row, char **out) {
  *out = NULL;
  uint64_t *valid = duckdb_vector_get_validity(vec);
  if (valid && !duckdb_validity_row_is_valid(valid, row)) return SL_OK;
  if (duckdb_get_type_id(lt) == DUCKDB_TYPE_VARCHAR) {
    duckdb_string_t *s = &((duckdb_string_t *)duckdb_vector_get_data(vec))[row];
    *out = strndup(duckdb_string_t_data(s), duckdb_string_t_length(*s));
  } else {
    duckdb_value v = vector_value(vec, lt, row);
    char *s = v ? duckdb_get_varchar(v) : NULL;
    *out = strdup(s ? s : UNSUPPORTED_CELL);
    if (s) duckdb_free(s);
    if (v) duckdb_destroy_value(&v);
  }
  return *out ? SL_OK : SL_NOMEM;
}

/* Results of interactive queries are small enough to hold as text whole:
 * the table format needs every cell's width before its first line. */
static sl_status to_text(duckdb_result *res, sl__query_result *r) {
  memset(r, 0, sizeof *r);
  size_t ncol = duckdb_column_count(res), cap = 0;
  r->ncols = ncol;
  r->names = calloc(ncol ? ncol : 1, sizeof *r->names);
  r->kinds = calloc(ncol ? ncol : 1, sizeof *r->kinds);
  duckdb_logical_type *types = calloc(ncol ? ncol : 1, sizeof *types);
  sl_status st = r->names && r->kinds && types ? SL_OK : SL_NOMEM;
  for (size_t c = 0; c < ncol && !st; c++) {
    types[c] = duckdb_column_logical_type(res, c);
    r->kinds[c] = kind_of(types[c]);
    if (!(r->names[c] = strdup(duckdb_column_name(res, c)))) st = SL_NOMEM;
  }
  duckdb_data_chunk chunk;
  while (!st && (chunk = duckdb_fetch_chunk(*res))) {
    size_t n = duckdb_data_chunk_get_size(chunk), need = (r->nrows + n) * ncol;
    if (ncol && r->nrows + n > SIZE_MAX / sizeof(char *) / ncol) st = SL_TOO_LARGE;
    if (!st && need > cap) {
      size_t ncap = cap ? cap : 256;
      while (ncap < need) ncap *= 2;
      char **cells = realloc(r->cells, ncap * sizeof *cells);
      if (cells) {
        memset(cells + cap, 0, (ncap - cap) * sizeof *cells);
        r->cells = cells;
        cap = ncap;
      } else {
        st = SL_NOMEM;
      }
    }
    for (size_t row = 0; row < n && !st; row++)
      for (size_t c = 0; c < ncol && !st; c++)
        st = cell_text(duckdb_data_chunk_get_vector(chunk, c), types[c], row,
                       &r->cells[(r->nrows + row) * ncol + c]);
    /* rows cut short by a failed cell still count, so that free sees their cells */
    if (need <= cap) r->nrows += n;
    duckdb_destroy_data_chunk(&chunk);
  }
  for (size_t c = 0; types && c < ncol; c++)
    if (types[c]) duckdb_destroy_logical_type(&types[c]);
  free(types);
  return st;
}

static sl_status render(duckdb_result *res, sl_query_format fmt, sl_buf *out) {
  sl__query_result r;
  sl_status st = to_text(res, &r);
  if (!st) st = sl__query_render(&r, fmt, out);
  sl__query_result_free(&r);
  return st;
}

/* ---- the query ------------------------------------------------------------------------- */

static sl_status use_dataset(sl_duckdb *d, sl_error *err) {
  char *v = NULL;
  sl__ddb_param p[] = {SL_PS(d->base.dataset)};
  sl_status st = sl__ddb_run(d,
                             "SELECT CAST(count(*) AS BIGINT) FROM information_schema.schemata "
                             "WHERE catalog_name = current_database() AND schema_name = ?",
                             p, 1, &v, err);
  bool exists = !st && v && strcmp(v, "0") != 0;
  free(v);
  if (st) return st;
  /* The setting is parsed as a (qualified) name: an identifier inside a string. */
  sl_buf ident = {0};
  sl_status bst = sl__ddb_name(d, &ident, exists ? d->base.dataset : "main", NULL);
  sl_buf_reset(&d->sql);
  if (!bst) bst = sl_buf_puts(&d->sql, "SET schema = ");
  if (!bst) bst = sl__sql_string(&d->sql, ident.data);
  sl_buf_free(&ident);
  if (bst) return sl_error_set(err, SL_NOMEM, "out of memory");
  return sl__ddb_exec_buf(d, err);
}

sl_status sl_duckdb_query(sl_dest *dst, const char *sql, bool read_only, sl_query_format fmt,
                          sl_buf *out, sl_error *err) {
  if (!dst || dst->vt != &sl__duckdb_vt)
    return sl_error_set(err, SL_INVALID_ARG, "sl_duckdb_query needs a DuckDB destination");
  if (!sql) return sl_error_set(err, SL_INVALID_ARG, "no SQL given");
  sl_duckdb *d = (sl_duckdb *)dst;
  sl_status st = use_dataset(d, err);
  if (st) return st;
  if (read_only && !d->files_closed) {
    if ((st = sl__ddb_exec(d, "SET enable_external_access = false", err))) return st;
    d->files_closed = true;
  }
  duckdb_extracted_statements ex = NULL;
  idx_t n = duckdb_extract_statements(d->con, sql, &ex);
  if (n == 0) {
    const char *m = ex ? duckdb_extract_statements_error(ex) : NULL;
    st = m ? sl_error_set(err, SL_INVALID_ARG, "SQL error: %s", m)
           : sl_error_set(err, SL_INVALID_ARG, "no SQL statement given");
    duckdb_destroy_extracted(&ex);
    return st;
  }
  duckdb_prepared_statement *ps = calloc(n, sizeof *ps);
  if (!ps) {
    duckdb_destroy_extracted(&ex);
    return sl_error_set(err, SL_NOMEM, "out of memory");
  }
  bool in_tx = false;
  /* Read-only: classify every statement before running any. Selects do not
   * change the catalog, so all of them can be prepared up front. */
  for (idx_t i = 0; i < n && read_only && !st; i++) {
    if (duckdb_prepare_extracted_statement(d->con, ex, i, &ps[i]) == DuckDBError) {
      st = refuse_unprepared(sql, i, duckdb_prepare_error(ps[i]), err);
      break;
    }
    duckdb_statement_type t = duckdb_prepared_statement_type(ps[i]);
    if (!statement_reads_only(t))
      st = sl_error_set(err, SL_INVALID_ARG,
                        "read-only query: %s is not allowed (statement %llu); only SELECT and "
                        "EXPLAIN run here",
                        statement_type_name(t), (unsigned long long)i + 1);
  }
  if (!st && read_only) {
    if ((st = sl__ddb_exec(d, "BEGIN TRANSACTION", err))) goto out;
    in_tx = true;
  }
  for (idx_t i = 0; i < n && !st; i++) {
    if (!ps[i] && duckdb_prepare_extracted_statement(d->con, ex, i, &ps[i]) == DuckDBError) {
      st = sl_error_set(err, SL_INVALID_ARG, "SQL error: %s", duckdb_prepare_error(ps[i]));
      break;
    }
    duckdb_result res;
    if (duckdb_execute_prepared(ps[i], &res) == DuckDBError) {
      st = sl_error_set(err, SL_DESTINATION, "DuckDB: %s", duckdb_result_error(&res));
    } else if (duckdb_result_return_type(res) == DUCKDB_RESULT_TYPE_QUERY_RESULT) {
      if (i && out->len) sl_buf_putc(out, '\n');
      if (render(&res, fmt, out)) st = sl_error_set(err, SL_TOO_LARGE, "query result too large");
    }
    duckdb_destroy_result(&res);
  }
out:
  if (in_tx) {
    sl_error ignore;
    sl__ddb_exec(d, "ROLLBACK", &ignore);
  }
  for (idx_t i = 0; i < n; i++)
    if (ps[i]) duckdb_destroy_prepare(&ps[i]);
  free(ps);
  duckdb_destroy_extracted(&ex);
  return st;
}
