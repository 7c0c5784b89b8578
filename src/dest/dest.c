/* What every destination shares: table count lists, dlt's stored-state
 * encoding (base64 of zlib, sluice/base64.h), random row ids, SQL quoting,
 * and the printing of query results (table, CSV, JSON). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include <openssl/rand.h>

#include "sluice/json.h"

#include "dest/dest_int.h"
#include "sluice/base64.h"

void sl_table_counts_free(sl_table_count *c, size_t n) {
  if (!c) return;
  for (size_t i = 0; i < n; i++) free(c[i].table);
  free(c);
}

sl_status sl_dest_query(sl_dest *d, const sl_schema *schema, const char *sql, sl_query_format fmt,
                        sl_buf *out, sl_error *err) {
  if (!d) return sl_error_set(err, SL_INVALID_ARG, "no destination to query");
  if (!sql) return sl_error_set(err, SL_INVALID_ARG, "no SQL given");
  if (d->vt->query) return d->vt->query(d, schema, sql, fmt, out, err);
  return sl_duckdb_query(d, sql, true, fmt, out, err);
}

void sl__dest_random_id(char out[16]) {
  unsigned char r[10];
  if (RAND_bytes(r, sizeof r) != 1) {
    /* Only uniqueness matters here, not secrecy. */
    for (size_t i = 0; i < sizeof r; i++) r[i] = (unsigned char)rand();
  }
  sl_base64_encode_to(r, sizeof r, false, out); /* 14 characters */
}

/* ---- state encoding --------------------------------------------------------------- */

sl_status sl__dest_state_encode(const char *json, size_t len, sl_buf *out) {
  uLongf cap = compressBound((uLong)len);
  unsigned char *z = malloc(cap);
  if (!z) return SL_NOMEM;
  /* dlt: zlib.compress(json, level=9) */
  if (compress2(z, &cap, (const Bytef *)json, (uLong)len, 9) != Z_OK) {
    free(z);
    return SL_INTERNAL;
  }
  sl_status st = sl_base64_encode(z, cap, true, out);
  free(z);
  return st;
}

sl_status sl__dest_state_decode(const char *text, size_t len, char **json, sl_error *err) {
  *json = NULL;
  sl_buf raw = {0}, plain = {0};
  sl_status st = SL_OK;
  if (sl_base64_decode(text, len, SL_BASE64_LENIENT, &raw) && raw.len >= 2) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) == Z_OK) {
      zs.next_in = (Bytef *)raw.data;
      zs.avail_in = (uInt)raw.len;
      int zr = Z_OK;
      while (zr == Z_OK) {
        if ((st = sl_buf_reserve(&plain, 64 * 1024))) break;
        zs.next_out = (Bytef *)plain.data + plain.len;
        zs.avail_out = (uInt)(plain.cap - plain.len - 1);
        size_t before = zs.avail_out;
        zr = inflate(&zs, Z_NO_FLUSH);
        plain.len += before - zs.avail_out;
        plain.data[plain.len] = '\0';
      }
      inflateEnd(&zs);
      if (zr == Z_STREAM_END && !st) {
        sl_buf_free(&raw);
        *json = sl_buf_steal(&plain, NULL);
        return SL_OK;
      }
    }
  }
  sl_buf_free(&raw);
  sl_buf_free(&plain);
  if (st) return sl_error_set(err, st, "cannot decode the stored state");
  /* Not compressed: plain JSON as older dlt versions stored it. */
  char *copy = malloc(len + 1);
  if (!copy) return sl_error_set(err, SL_NOMEM, "out of memory");
  memcpy(copy, text, len);
  copy[len] = '\0';
  *json = copy;
  return SL_OK;
}

/* ---- SQL text ---------------------------------------------------------------------- */

static sl_status quoted(sl_buf *b, const char *s, char q) {
  sl_status st = sl_buf_putc(b, q);
  for (const char *p = s; !st && *p; p++) {
    if (*p == q) st = sl_buf_putc(b, q);
    if (!st) st = sl_buf_putc(b, *p);
  }
  if (!st) st = sl_buf_putc(b, q);
  return st;
}

sl_status sl__sql_ident(sl_buf *b, const char *name) { return quoted(b, name, '"'); }
sl_status sl__sql_string(sl_buf *b, const char *s) { return quoted(b, s, '\''); }

sl_status sl__sql_qualified(sl_buf *b, const char *schema, const char *table) {
  sl_status st = sl__sql_ident(b, schema);
  if (!st) st = sl_buf_putc(b, '.');
  if (!st) st = sl__sql_ident(b, table);
  return st;
}

/* ---- statement text ------------------------------------------------------------------ */

const char *sl__sql_skip_space(const char *p) {
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v') p++;
    if (p[0] == '-' && p[1] == '-') {
      while (*p && *p != '\n') p++;
    } else if (p[0] == '/' && p[1] == '*') {
      const char *e = strstr(p + 2, "*/");
      p = e ? e + 2 : p + strlen(p);
    } else {
      return p;
    }
  }
}

const char *sl__sql_word(const char *p, size_t *n) {
  size_t k = 0;
  while ((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z') || (p[k] >= '0' && p[k] <= '9') ||
         p[k] == '_')
    k++;
  *n = k;
  return p;
}

bool sl__sql_word_is(const char *w, size_t n, const char *kw) {
  return n == strlen(kw) && !strncasecmp(w, kw, n);
}

const char *sl__sql_statement_end(const char *p) {
  while (*p) {
    if (*p == '\'' || *p == '"' || *p == '`') {
      char q = *p++;
      while (*p && !(*p == q && p[1] != q)) p += *p == q ? 2 : 1;
      if (*p) p++;
    } else if ((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*')) {
      p = sl__sql_skip_space(p);
    } else if (*p == ';') {
      return p;
    } else {
      p++;
    }
  }
  return p;
}

bool sl__sql_starts_with(const char *stmt, const char *const *words, char first[33]) {
  const char *p = sl__sql_skip_space(stmt);
  while (*p == '(') p = sl__sql_skip_space(p + 1);
  size_t n;
  const char *w = sl__sql_word(p, &n);
  size_t k = n > 32 ? 32 : n;
  for (size_t i = 0; i < k; i++) first[i] = (char)(w[i] >= 'a' && w[i] <= 'z' ? w[i] - 32 : w[i]);
  first[k] = '\0';
  for (size_t i = 0; words[i]; i++)
    if (sl__sql_word_is(w, n, words[i])) return true;
  return false;
}

/* ---- query results ------------------------------------------------------------------ */

#define MAX_CELL 80 /* table format: longer cells are cut with an ellipsis */

void sl__query_result_free(sl__query_result *r) {
  if (!r) return;
  for (size_t i = 0; r->cells && i < r->ncols * r->nrows; i++) free(r->cells[i]);
  for (size_t c = 0; r->names && c < r->ncols; c++) free(r->names[c]);
  free(r->cells);
  free(r->names);
  free(r->kinds);
  memset(r, 0, sizeof *r);
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

/* JSON text of a cell or a column name: the project's writer (valid UTF-8 in, the same bytes out). */
static sl_status json_string(sl_buf *out, const char *s) { return sl_json_write_string(out, s, strlen(s)); }

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

/* A JSON number must look like one: engines print inf/nan for doubles. */
static bool json_number_text(const char *s) {
  if (!*s) return false;
  char *end;
  double v = strtod(s, &end);
  return *end == '\0' && isfinite(v) && strpbrk(s, "xXnN") == NULL;
}

/* Width of a cell as the table shows it; cell is scratch. */
static size_t shown_width(const char *s, sl_buf *cell) {
  sl_buf_reset(cell);
  table_cell(s, cell);
  return display_width(cell->data ? cell->data : "", cell->len);
}

sl_status sl__query_render(const sl__query_result *r, sl_query_format fmt, sl_buf *out) {
  size_t ncol = r->ncols, nrow = r->nrows;
  size_t *widths = calloc(ncol ? ncol : 1, sizeof *widths);
  sl_buf cell = {0};
  sl_status st = SL_OK;
  if (!widths) return SL_NOMEM;
#define NAME(c) (r->names && r->names[c] ? r->names[c] : "")
#define KIND(c) (r->kinds ? r->kinds[c] : SL_CELL_TEXT)
#define CELL(row, c) (r->cells[(row) * ncol + (c)])
  if (fmt == SL_QF_TABLE) {
    for (size_t c = 0; c < ncol; c++) widths[c] = shown_width(NAME(c), &cell);
    for (size_t row = 0; row < nrow; row++)
      for (size_t c = 0; c < ncol; c++) {
        size_t w = shown_width(CELL(row, c) ? CELL(row, c) : "NULL", &cell);
        if (w > widths[c]) widths[c] = w;
      }
  }
  /* header */
  for (size_t c = 0; c < ncol && fmt != SL_QF_JSON; c++) {
    if (fmt == SL_QF_CSV) {
      if (c) sl_buf_putc(out, ',');
      csv_field(out, NAME(c));
    } else {
      size_t w = shown_width(NAME(c), &cell);
      sl_buf_printf(out, "%s%s%*s", c ? "  " : "", cell.data ? cell.data : "",
                    c + 1 < ncol ? (int)(widths[c] - w) : 0, "");
    }
  }
  if (fmt == SL_QF_CSV) sl_buf_putc(out, '\n');
  if (fmt == SL_QF_TABLE) {
    sl_buf_putc(out, '\n');
    for (size_t c = 0; c < ncol; c++) {
      if (c) sl_buf_puts(out, "  ");
      for (size_t k = 0; k < widths[c]; k++) sl_buf_putc(out, '-');
    }
    sl_buf_putc(out, '\n');
  }
  for (size_t row = 0; row < nrow && !st; row++) {
    if (fmt == SL_QF_JSON) sl_buf_putc(out, '{');
    for (size_t c = 0; c < ncol; c++) {
      const char *v = CELL(row, c);
      const char *text = v ? v : "";
      switch (fmt) {
        case SL_QF_CSV:
          if (c) sl_buf_putc(out, ',');
          if (v) csv_field(out, text);
          break;
        case SL_QF_JSON:
          if (c) sl_buf_putc(out, ',');
          json_string(out, NAME(c));
          sl_buf_putc(out, ':');
          if (!v) sl_buf_puts(out, "null");
          else if (KIND(c) == SL_CELL_NUMBER && json_number_text(text)) sl_buf_puts(out, text);
          else if (KIND(c) == SL_CELL_BOOL) sl_buf_puts(out, !strcmp(text, "true") ? "true" : "false");
          else if (KIND(c) == SL_CELL_JSON) sl_buf_puts(out, text);
          else json_string(out, text);
          break;
        default: {
          size_t w = shown_width(v ? text : "NULL", &cell);
          int pad = (int)(widths[c] - w);
          if (c) sl_buf_puts(out, "  ");
          if (KIND(c) == SL_CELL_NUMBER && v)
            sl_buf_printf(out, "%*s%s", pad, "", cell.data ? cell.data : "");
          else
            sl_buf_printf(out, "%s%*s", cell.data ? cell.data : "", c + 1 < ncol ? pad : 0, "");
        }
      }
    }
    if (fmt == SL_QF_JSON) sl_buf_putc(out, '}');
    st = sl_buf_putc(out, '\n');
  }
#undef NAME
#undef KIND
#undef CELL
  if (fmt == SL_QF_TABLE && !st)
    st = sl_buf_printf(out, "(%zu row%s)\n", nrow, nrow == 1 ? "" : "s");
  sl_buf_free(&cell);
  free(widths);
  return st;
}
