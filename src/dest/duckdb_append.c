/* Job files into DuckDB through the appender: rows are decoded straight into
 * the vectors of a data chunk (typed to the destination's columns, so no
 * cast runs on the common path) and handed over 2048 rows at a time. Only a
 * column whose destination type differs from the job's falls back to a
 * vector of the job's own type, which the appender casts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dest/duckdb_int.h"

/* ---- decimal text -> scaled integer ----------------------------------------------- */

bool sl__decimal_parse(const char *s, size_t n, int width, int scale, __int128 *out) {
  const char *p = s, *end = s + n;
  bool neg = false;
  if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
  /* Collect the significant digits and the power of ten they are scaled by. */
  char digits[80];
  int nd = 0, exp10 = 0;
  bool any = false, dot = false;
  int first_dropped = -1; /* the first digit that did not fit in digits[] */
  for (; p < end; p++) {
    if (*p == '.' && !dot) {
      dot = true;
      continue;
    }
    if (*p < '0' || *p > '9') break;
    any = true;
    if (nd == 0 && *p == '0') { /* leading zero */
      if (dot) exp10--;
      continue;
    }
    if (nd < (int)sizeof digits) {
      digits[nd++] = *p;
      if (dot) exp10--;
    } else {
      if (first_dropped < 0) first_dropped = *p - '0';
      if (!dot) exp10++;
    }
  }
  if (!any) return false;
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    bool eneg = false;
    if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
    if (p == end) return false;
    long e = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++)
      if (e < 100000) e = e * 10 + (*p - '0');
    exp10 += (int)(eneg ? -e : e);
  }
  if (p != end) return false;
  /* value = digits * 10^exp10; we want round(value * 10^scale). */
  int k = exp10 + scale;
  __int128 limit = 1;
  for (int i = 0; i < width; i++) limit *= 10;
  __int128 v = 0;
  int keep = nd + k; /* digits that stay left of the decimal point after scaling */
  if (keep > 39) return nd == 0 ? (*out = 0, true) : false;
  for (int i = 0; i < nd && i < keep; i++) {
    v = v * 10 + (digits[i] - '0');
    if (v >= limit) return false;
  }
  for (int i = nd; i < keep; i++) { /* trailing zeros from a positive exponent */
    v *= 10;
    if (v >= limit) return false;
  }
  int round_digit = -1;
  if (keep >= 0 && keep < nd) round_digit = digits[keep] - '0';
  else if (keep == nd && first_dropped >= 0 && k < 0) round_digit = first_dropped;
  if (round_digit >= 5) {
    v += 1;
    if (v >= limit) return false;
  }
  *out = neg ? -v : v;
  return true;
}

/* ---- chunk filling ---------------------------------------------------------------- */

typedef enum fill_mode {
  F_I64,    /* BIGINT, TIMESTAMP(TZ), TIME */
  F_DATE,   /* int32 days */
  F_DOUBLE,
  F_BOOL,
  F_STR,    /* VARCHAR (JSON too), BLOB */
  F_DEC,    /* DECIMAL from text or integer */
  F_SEQ     /* the running row number of a staging table */
} fill_mode;

typedef struct col_fill {
  fill_mode mode;
  sl_dtype jtype;
  duckdb_type dec_internal; /* F_DEC: SMALLINT, INTEGER, BIGINT or HUGEINT */
  int width, scale;
  duckdb_vector vec;
  void *data;
  uint64_t *valid;
  const char *name;
} col_fill;

/* The job's own DuckDB type, for the cast path. */
static duckdb_type natural_type(sl_dtype t) {
  switch (t) {
    case SL_T_BIGINT: return DUCKDB_TYPE_BIGINT;
    case SL_T_DOUBLE: return DUCKDB_TYPE_DOUBLE;
    case SL_T_BOOL: return DUCKDB_TYPE_BOOLEAN;
    case SL_T_TIMESTAMP: return DUCKDB_TYPE_TIMESTAMP_TZ;
    case SL_T_DATE: return DUCKDB_TYPE_DATE;
    case SL_T_TIME: return DUCKDB_TYPE_TIME;
    case SL_T_BINARY: return DUCKDB_TYPE_BLOB;
    default: return DUCKDB_TYPE_VARCHAR;
  }
}

static fill_mode natural_mode(sl_dtype t) {
  switch (t) {
    case SL_T_BIGINT:
    case SL_T_TIMESTAMP:
    case SL_T_TIME: return F_I64;
    case SL_T_DATE: return F_DATE;
    case SL_T_DOUBLE: return F_DOUBLE;
    case SL_T_BOOL: return F_BOOL;
    default: return F_STR;
  }
}

/* Choose how column c is filled given the destination's type; *chunk_type
 * receives the logical type of the chunk's vector (owned by the caller). */
static void plan_column(col_fill *c, duckdb_logical_type dest, duckdb_logical_type *chunk_type) {
  duckdb_type id = duckdb_get_type_id(dest);
  bool direct = false;
  switch (c->jtype) {
    case SL_T_TEXT:
    case SL_T_JSON:
    case SL_T_DECIMAL:
    case SL_T_WEI:
      if (id == DUCKDB_TYPE_VARCHAR) {
        c->mode = F_STR, direct = true;
      } else if (id == DUCKDB_TYPE_DECIMAL && c->jtype != SL_T_JSON) {
        c->mode = F_DEC, direct = true;
      }
      break;
    case SL_T_BINARY: direct = id == DUCKDB_TYPE_BLOB, c->mode = F_STR; break;
    case SL_T_BIGINT:
      if (id == DUCKDB_TYPE_BIGINT) c->mode = F_I64, direct = true;
      else if (id == DUCKDB_TYPE_DECIMAL) c->mode = F_DEC, direct = true;
      break;
    case SL_T_DOUBLE: direct = id == DUCKDB_TYPE_DOUBLE, c->mode = F_DOUBLE; break;
    case SL_T_BOOL: direct = id == DUCKDB_TYPE_BOOLEAN, c->mode = F_BOOL; break;
    case SL_T_TIMESTAMP:
      direct = id == DUCKDB_TYPE_TIMESTAMP_TZ || id == DUCKDB_TYPE_TIMESTAMP, c->mode = F_I64;
      break;
    case SL_T_DATE: direct = id == DUCKDB_TYPE_DATE, c->mode = F_DATE; break;
    case SL_T_TIME: direct = id == DUCKDB_TYPE_TIME, c->mode = F_I64; break;
    default: break;
  }
  if (direct) {
    if (c->mode == F_DEC) {
      c->width = duckdb_decimal_width(dest);
      c->scale = duckdb_decimal_scale(dest);
      c->dec_internal = duckdb_decimal_internal_type(dest);
    }
    *chunk_type = dest;
    return;
  }
  /* Cast path: a vector of the job's type; the appender converts it. */
  duckdb_destroy_logical_type(&dest);
  c->mode = natural_mode(c->jtype);
  *chunk_type = duckdb_create_logical_type(natural_type(c->jtype));
}

static void bind_vectors(duckdb_data_chunk ch, col_fill *cf, size_t n, idx_t cap) {
  for (size_t i = 0; i < n; i++) {
    cf[i].vec = duckdb_data_chunk_get_vector(ch, i);
    duckdb_vector_ensure_validity_writable(cf[i].vec);
    cf[i].valid = duckdb_vector_get_validity(cf[i].vec);
    /* Every row starts NULL; a value written marks its row valid. */
    memset(cf[i].valid, 0, (cap + 63) / 64 * sizeof(uint64_t));
    cf[i].data = duckdb_vector_get_data(cf[i].vec);
  }
}

static sl_status appender_failure(duckdb_appender app, const char *table, const char *job,
                                  bool *terminal, sl_error *err) {
  duckdb_error_data ed = duckdb_appender_error_data(app);
  const char *m = ed ? duckdb_error_data_message(ed) : NULL;
  duckdb_error_type et = ed ? duckdb_error_data_error_type(ed) : DUCKDB_ERROR_INVALID;
  /* Bad data fails the job for good; a full disk or lack of memory may pass. */
  *terminal = !(et == DUCKDB_ERROR_IO || et == DUCKDB_ERROR_OUT_OF_MEMORY ||
                et == DUCKDB_ERROR_INTERRUPT || et == DUCKDB_ERROR_CONNECTION ||
                et == DUCKDB_ERROR_TRANSACTION || et == DUCKDB_ERROR_FATAL ||
                et == DUCKDB_ERROR_INTERNAL);
  sl_error_set(err, SL_DESTINATION, "DuckDB could not append the rows of %s to table %s: %s", job,
               table, m ? m : "unknown error");
  sl_error_where(err, table, NULL);
  if (ed) duckdb_destroy_error_data(&ed);
  return SL_DESTINATION;
}

sl_status sl__ddb_append_job(sl_duckdb *d, sl_job_reader *r, const char *schema, const char *table,
                             const char *seq_col, int64_t *seq, uint64_t *rows_out,
                             bool *terminal, sl_error *err) {
  const char *job = sl_job_reader_path(r);
  *terminal = false;
  if (rows_out) *rows_out = 0;
  const sl_job_column *jc;
  size_t njc = sl_job_reader_columns(r, &jc), ncols = njc + (seq_col ? 1 : 0);
  if (njc == 0) {
    /* No column was ever used: an empty job (as a replace writes to truncate).
     * Read it through anyway, so a damaged file is still noticed. */
    const sl_row_value *vals;
    size_t n;
    sl_status st;
    while ((st = sl_job_read_row(r, &vals, &n, err)) == SL_OK) {
      *terminal = true;
      return sl_error_set(err, SL_DESTINATION, "%s has rows without any value", job);
    }
    if (st != SL_NOT_FOUND) *terminal = st != SL_NOMEM;
    return st == SL_NOT_FOUND ? SL_OK : st;
  }
  duckdb_appender app = NULL;
  duckdb_data_chunk ch = NULL;
  col_fill *cf = calloc(ncols ? ncols : 1, sizeof *cf);
  duckdb_logical_type *types = calloc(ncols ? ncols : 1, sizeof *types);
  sl_status st = SL_OK;
  if (!cf || !types) {
    st = sl_error_set(err, SL_NOMEM, "out of memory");
    goto out;
  }
  if (duckdb_appender_create_ext(d->con, d->catalog, schema, table, &app) == DuckDBError) {
    st = appender_failure(app, table, job, terminal, err);
    *terminal = false;
    goto out;
  }
  for (size_t i = 0; i < ncols; i++) {
    const char *name = i < njc ? jc[i].name : seq_col;
    if (duckdb_appender_add_column(app, name) == DuckDBError) {
      st = appender_failure(app, table, job, terminal, err);
      sl_error_where(err, table, name);
      goto out;
    }
    cf[i].name = name;
  }
  for (size_t i = 0; i < ncols; i++) {
    duckdb_logical_type dest = duckdb_appender_column_type(app, i);
    if (i == njc) {
      cf[i].mode = F_SEQ;
      types[i] = dest;
      continue;
    }
    cf[i].jtype = jc[i].type;
    plan_column(&cf[i], dest, &types[i]);
  }
  ch = duckdb_create_data_chunk(types, ncols);
  if (!ch) {
    st = sl_error_set(err, SL_NOMEM, "cannot create a DuckDB data chunk");
    goto out;
  }
  idx_t cap = duckdb_vector_size(), row = 0;
  uint64_t total = 0;
  bind_vectors(ch, cf, ncols, cap);
  for (;;) {
    const sl_row_value *vals;
    size_t n;
    st = sl_job_read_row(r, &vals, &n, err);
    if (st == SL_NOT_FOUND) {
      st = SL_OK;
      break;
    }
    if (st) {
      *terminal = st != SL_NOMEM;
      goto out;
    }
    total++;
    for (size_t i = 0; i < n; i++) {
      const sl_row_value *v = &vals[i];
      col_fill *c = &cf[v->col];
      c->valid[row >> 6] |= (uint64_t)1 << (row & 63);
      switch (c->mode) {
        case F_I64: ((int64_t *)c->data)[row] = v->v.i; break;
        case F_DATE:
          if (v->v.i < INT32_MIN || v->v.i > INT32_MAX) goto bad_value;
          ((int32_t *)c->data)[row] = (int32_t)v->v.i;
          break;
        case F_DOUBLE: ((double *)c->data)[row] = v->v.d; break;
        case F_BOOL: ((bool *)c->data)[row] = v->v.b; break;
        case F_STR: duckdb_vector_assign_string_element_len(c->vec, row, v->v.s.p, v->v.s.n); break;
        case F_DEC: {
          __int128 x;
          if (c->jtype == SL_T_BIGINT) {
            x = v->v.i;
            __int128 limit = 1;
            for (int k = 0; k < c->width; k++) limit *= 10;
            for (int k = 0; k < c->scale && x < limit && x > -limit; k++) x *= 10;
            if (x >= limit || x <= -limit) goto bad_value;
          } else if (!sl__decimal_parse(v->v.s.p, v->v.s.n, c->width, c->scale, &x)) {
            goto bad_value;
          }
          switch (c->dec_internal) {
            case DUCKDB_TYPE_SMALLINT: ((int16_t *)c->data)[row] = (int16_t)x; break;
            case DUCKDB_TYPE_INTEGER: ((int32_t *)c->data)[row] = (int32_t)x; break;
            case DUCKDB_TYPE_BIGINT: ((int64_t *)c->data)[row] = (int64_t)x; break;
            default: {
              duckdb_hugeint h = {(uint64_t)x, (int64_t)(x >> 64)};
              ((duckdb_hugeint *)c->data)[row] = h;
            }
          }
          break;
        }
        case F_SEQ: break;
      }
      continue;
    bad_value:
      *terminal = true;
      if (c->jtype == SL_T_DATE)
        st = sl_error_set(err, SL_DESTINATION, "row %llu of %s: date %lld out of range for column %s",
                          (unsigned long long)total, job, (long long)v->v.i, c->name);
      else if (c->jtype == SL_T_BIGINT)
        st = sl_error_set(err, SL_DESTINATION,
                          "row %llu of %s: %lld does not fit column %s DECIMAL(%d,%d)",
                          (unsigned long long)total, job, (long long)v->v.i, c->name, c->width,
                          c->scale);
      else
        st = sl_error_set(err, SL_DESTINATION,
                          "row %llu of %s: '%.*s' is not a number that fits column %s DECIMAL(%d,%d)",
                          (unsigned long long)total, job, (int)(v->v.s.n > 60 ? 60 : v->v.s.n),
                          v->v.s.p, c->name, c->width, c->scale);
      sl_error_at(err, job, 0, 0, -1);
      sl_error_where(err, table, c->name);
      goto out;
    }
    if (seq_col) {
      col_fill *c = &cf[njc];
      c->valid[row >> 6] |= (uint64_t)1 << (row & 63);
      ((int64_t *)c->data)[row] = (*seq)++;
    }
    if (++row == cap) {
      duckdb_data_chunk_set_size(ch, row);
      if (duckdb_append_data_chunk(app, ch) == DuckDBError) {
        st = appender_failure(app, table, job, terminal, err);
        goto out;
      }
      duckdb_data_chunk_reset(ch);
      bind_vectors(ch, cf, ncols, cap);
      row = 0;
      /* The appender otherwise gathers rows outside DuckDB's memory limit
       * until 200 k are buffered (a whole job here, ~100+ MB of strings);
       * flushed, each chunk goes straight into the transaction's storage,
       * which the limit governs and which spills. */
      if (duckdb_appender_flush(app) == DuckDBError) {
        st = appender_failure(app, table, job, terminal, err);
        goto out;
      }
      if (total % SL__DDB_RELEASE_ROWS == 0) sl__ddb_release_memory();
    }
  }
  if (row) {
    duckdb_data_chunk_set_size(ch, row);
    if (duckdb_append_data_chunk(app, ch) == DuckDBError) {
      st = appender_failure(app, table, job, terminal, err);
      goto out;
    }
  }
  if (duckdb_appender_close(app) == DuckDBError) {
    st = appender_failure(app, table, job, terminal, err);
    goto out;
  }
  if (rows_out) *rows_out = total;
out:
  if (ch) duckdb_destroy_data_chunk(&ch);
  if (types)
    for (size_t i = 0; i < ncols; i++)
      if (types[i]) duckdb_destroy_logical_type(&types[i]);
  free(types);
  free(cf);
  if (app) duckdb_appender_destroy(&app);
  return st;
}
