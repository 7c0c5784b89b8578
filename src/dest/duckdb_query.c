/* sl_duckdb_query: SQL from a user (`sluice pipeline NAME query`, `show`,
 * `info`) against the dataset, printed as an aligned table, CSV or JSON.
 * Read-only mode admits only statements DuckDB itself classifies as SELECT or
 * EXPLAIN, and runs them inside a transaction that is rolled back, so even
 * EXPLAIN ANALYZE of a write leaves nothing behind. It first turns DuckDB's
 * file access off for the instance (read_text, COPY TO, ATTACH inside an
 * EXPLAIN ANALYZE), which DuckDB never lets a statement turn back on; the
 * loader's appender and checkpoints do not need it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dest/duckdb_int.h"

#define MAX_CELL 80 /* table format: longer cells are cut with an ellipsis */

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

/* ---- cell text ----------------------------------------------------------------------- */

typedef enum cell_kind { K_TEXT, K_NUMBER, K_BOOL, K_JSON } cell_kind;

static cell_kind kind_of(duckdb_logical_type lt) {
  char *alias = duckdb_logical_type_get_alias(lt);
  bool json = alias && !strcmp(alias, "JSON");
  if (alias) duckdb_free(alias);
  if (json) return K_JSON;
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
    case DUCKDB_TYPE_DECIMAL: return K_NUMBER;
    case DUCKDB_TYPE_BOOLEAN: return K_BOOL;
    default: return K_TEXT;
  }
}

/* Display width: code points (continuation bytes do not count). */
static size_t display_width(const char *s, size_t n) {
  size_t w = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) w++;
  return w;
}

/* For the aligned table: control characters escaped, long cells cut. */
static sl_status table_cell(const char *s, sl_buf *out) {
  sl_status st = SL_OK;
  size_t w = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p && !st; p++) {
    if ((*p & 0xC0) != 0x80) {
      if (w == MAX_CELL - 1) {
        st = sl_buf_puts(out, "…");
        break;
      }
      w++;
    }
    if (*p == '\n') st = sl_buf_puts(out, "\\n");
    else if (*p == '\r') st = sl_buf_puts(out, "\\r");
    else if (*p == '\t') st = sl_buf_puts(out, "\\t");
    else if (*p < 0x20 || *p == 0x7f) st = sl_buf_printf(out, "\\x%02x", *p);
    else st = sl_buf_putc(out, (char)*p);
  }
  return st;
}

static sl_status json_string(sl_buf *out, const char *s) {
  sl_status st = sl_buf_putc(out, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p && !st; p++) {
    switch (*p) {
      case '"': st = sl_buf_puts(out, "\\\""); break;
      case '\\': st = sl_buf_puts(out, "\\\\"); break;
      case '\n': st = sl_buf_puts(out, "\\n"); break;
      case '\r': st = sl_buf_puts(out, "\\r"); break;
      case '\t': st = sl_buf_puts(out, "\\t"); break;
      case '\b': st = sl_buf_puts(out, "\\b"); break;
      case '\f': st = sl_buf_puts(out, "\\f"); break;
      default:
        if (*p < 0x20) st = sl_buf_printf(out, "\\u%04x", *p);
        else st = sl_buf_putc(out, (char)*p);
    }
  }
  if (!st) st = sl_buf_putc(out, '"');
  return st;
}

static bool csv_needs_quotes(const char *s) {
  if (!*s) return false;
  if (s[0] == ' ' || s[strlen(s) - 1] == ' ') return true;
  return strpbrk(s, ",\"\r\n") != NULL;
}

static sl_status csv_field(sl_buf *out, const char *s) {
  if (!csv_needs_quotes(s)) return sl_buf_puts(out, s);
  sl_status st = sl_buf_putc(out, '"');
  for (const char *p = s; *p && !st; p++) {
    if (*p == '"') st = sl_buf_putc(out, '"');
    if (!st) st = sl_buf_putc(out, *p);
  }
  if (!st) st = sl_buf_putc(out, '"');
  return st;
}

/* A JSON number must look like one: DuckDB prints inf/nan for doubles. */
static bool json_number_text(const char *s) {
  if (!*s) return false;
  char *end;
  double v = strtod(s, &end);
  return *end == '\0' && isfinite(v) && strpbrk(s, "xXnN") == NULL;
}

/* ---- rendering ------------------------------------------------------------------------ */

/* Cells come from duckdb_value_varchar: DuckDB's own text for every type,
 * nested ones included; results of interactive queries are small enough. */
static sl_status render(duckdb_result *res, sl_query_format fmt, sl_buf *out) {
  idx_t ncol = duckdb_column_count(res), nrow = duckdb_row_count(res);
  cell_kind *kinds = calloc(ncol ? ncol : 1, sizeof *kinds);
  size_t *widths = calloc(ncol ? ncol : 1, sizeof *widths);
  sl_buf cell = {0};
  sl_status st = SL_OK;
  if (!kinds || !widths) {
    st = SL_NOMEM;
    goto out;
  }
  for (idx_t c = 0; c < ncol; c++) {
    duckdb_logical_type lt = duckdb_column_logical_type(res, c);
    kinds[c] = kind_of(lt);
    duckdb_destroy_logical_type(&lt);
  }
  if (fmt == SL_QF_TABLE) {
    for (idx_t c = 0; c < ncol; c++) {
      sl_buf_reset(&cell);
      table_cell(duckdb_column_name(res, c), &cell);
      widths[c] = display_width(cell.data ? cell.data : "", cell.len);
    }
    for (idx_t r = 0; r < nrow; r++)
      for (idx_t c = 0; c < ncol; c++) {
        char *v = duckdb_value_is_null(res, c, r) ? NULL : duckdb_value_varchar(res, c, r);
        sl_buf_reset(&cell);
        table_cell(v ? v : "NULL", &cell);
        size_t w = display_width(cell.data ? cell.data : "", cell.len);
        if (w > widths[c]) widths[c] = w;
        if (v) duckdb_free(v);
      }
  }
  /* header */
  for (idx_t c = 0; c < ncol && fmt != SL_QF_JSON; c++) {
    const char *name = duckdb_column_name(res, c);
    if (fmt == SL_QF_CSV) {
      if (c) sl_buf_putc(out, ',');
      csv_field(out, name);
    } else {
      sl_buf_reset(&cell);
      table_cell(name, &cell);
      size_t w = display_width(cell.data ? cell.data : "", cell.len);
      sl_buf_printf(out, "%s%s%*s", c ? "  " : "", cell.data ? cell.data : "",
                    c + 1 < ncol ? (int)(widths[c] - w) : 0, "");
    }
  }
  if (fmt == SL_QF_CSV) sl_buf_putc(out, '\n');
  if (fmt == SL_QF_TABLE) {
    sl_buf_putc(out, '\n');
    for (idx_t c = 0; c < ncol; c++) {
      if (c) sl_buf_puts(out, "  ");
      for (size_t k = 0; k < widths[c]; k++) sl_buf_putc(out, '-');
    }
    sl_buf_putc(out, '\n');
  }
  for (idx_t r = 0; r < nrow && !st; r++) {
    if (fmt == SL_QF_JSON) sl_buf_putc(out, '{');
    for (idx_t c = 0; c < ncol; c++) {
      bool null = duckdb_value_is_null(res, c, r);
      char *v = null ? NULL : duckdb_value_varchar(res, c, r);
      const char *text = v ? v : "";
      switch (fmt) {
        case SL_QF_CSV:
          if (c) sl_buf_putc(out, ',');
          if (!null) csv_field(out, text);
          break;
        case SL_QF_JSON:
          if (c) sl_buf_putc(out, ',');
          json_string(out, duckdb_column_name(res, c));
          sl_buf_putc(out, ':');
          if (null || !v) sl_buf_puts(out, "null");
          else if (kinds[c] == K_NUMBER && json_number_text(text)) sl_buf_puts(out, text);
          else if (kinds[c] == K_BOOL) sl_buf_puts(out, !strcmp(text, "true") ? "true" : "false");
          else if (kinds[c] == K_JSON) sl_buf_puts(out, text);
          else json_string(out, text);
          break;
        default: {
          sl_buf_reset(&cell);
          table_cell(null ? "NULL" : text, &cell);
          size_t w = display_width(cell.data ? cell.data : "", cell.len);
          int pad = (int)(widths[c] - w);
          if (c) sl_buf_puts(out, "  ");
          if (kinds[c] == K_NUMBER && !null)
            sl_buf_printf(out, "%*s%s", pad, "", cell.data ? cell.data : "");
          else
            sl_buf_printf(out, "%s%*s", cell.data ? cell.data : "", c + 1 < ncol ? pad : 0, "");
        }
      }
      if (v) duckdb_free(v);
    }
    if (fmt == SL_QF_JSON) sl_buf_putc(out, '}');
    st = sl_buf_putc(out, '\n');
  }
  if (fmt == SL_QF_TABLE && !st)
    st = sl_buf_printf(out, "(%llu row%s)\n", (unsigned long long)nrow, nrow == 1 ? "" : "s");
out:
  sl_buf_free(&cell);
  free(kinds);
  free(widths);
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
      st = sl_error_set(err, SL_INVALID_ARG, "SQL error: %s", duckdb_prepare_error(ps[i]));
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
