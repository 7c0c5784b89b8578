/* Fuzz target for the normalizer: arbitrary bytes as JSON Lines into a fresh
 * schema, rows out to a sink that checks every row against its table (column
 * indexes in range, no incomplete column, no column twice, text views in
 * bounds). The first byte picks the nesting limit, the merge mode and a
 * contract so those paths are fuzzed too. Any input either normalizes or
 * fails with a located error; anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/normalize.h"
#include "sluice/schema.h"

typedef struct counts {
  uint64_t rows, values;
} counts;

static sl_status check_row(void *ud, const sl_schema *s, const sl_table *t, const sl_row_value *v, size_t n,
                           sl_error *err) {
  counts *c = ud;
  (void)err;
  if (!t || !sl_schema_find_table(s, t->name)) abort();
  uint8_t seen[4096] = {0};
  for (size_t i = 0; i < n; i++) {
    if (v[i].col >= t->ncolumns) abort();
    const sl_column *col = &t->columns[v[i].col];
    if (col->incomplete) abort();
    if (v[i].col < sizeof seen * 8) {
      if (seen[v[i].col / 8] & (1u << (v[i].col % 8))) abort();
      seen[v[i].col / 8] |= (uint8_t)(1u << (v[i].col % 8));
    }
    switch (col->type) {
      case SL_T_TEXT:
      case SL_T_JSON:
      case SL_T_DECIMAL:
      case SL_T_WEI:
      case SL_T_BINARY:
        if (v[i].v.s.n && !v[i].v.s.p) abort();
        if (v[i].v.s.n) c->values += (unsigned char)v[i].v.s.p[v[i].v.s.n - 1] == 0xff; /* touch the last byte */
        break;
      default: break;
    }
  }
  c->rows++;
  c->values += n;
  return SL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t mode = size ? data[0] : 0;
  if (size) data++, size--;
  sl_schema *s = sl_schema_new("fuzz");
  if (!s) return 0;
  if (mode & 0x40) s->max_identifier_len = 24;
  counts c = {0};
  sl_row_sink sink = {&c, check_row};
  sl_error err;
  sl_normalizer *n = sl_normalizer_new(s, "1.0", sink, &err);
  if (!n) abort();
  sl_normalizer_set_id_mode(n, SL_IDS_SEQUENTIAL);
  const char *pk[] = {"id", NULL};
  sl_contract contract = {(sl_contract_mode)((mode >> 4) & 3), (sl_contract_mode)((mode >> 2) & 3),
                          (sl_contract_mode)(mode & 3)};
  sl_resource_hints h = {.resource = "fuzz",
                         .max_table_nesting = (mode & 0x80) ? (int)(mode & 3) : -1,
                         .primary_key = (mode & 0x20) ? pk : NULL,
                         .write_disposition = (mode & 0x10) ? SL_WD_MERGE : SL_WD_APPEND,
                         .merge_strategy = (mode & 0x08) ? SL_MERGE_UPSERT : SL_MERGE_DELETE_INSERT,
                         .contract = (mode & 0x04) ? &contract : NULL};
  sl_status st = sl_normalizer_begin(n, &h, &err);
  /* two chunks, so records that straddle a feed boundary are fuzzed too */
  size_t half = size / 2;
  if (!st) st = sl_normalizer_feed(n, (const char *)data, half, &err);
  if (!st) st = sl_normalizer_feed(n, (const char *)data + half, size - half, &err);
  if (!st) st = sl_normalizer_end(n, &err);
  if (st) {
    if (!err.msg[0]) abort();
    if (st == SL_INTERNAL) abort();
  } else if (c.rows < sl_normalizer_stats(n)->rows) {
    abort();
  }
  /* the schema must still serialize and read back */
  sl_doc *d = sl_doc_new("fuzz");
  sl_value *v = d ? sl_schema_to_value(s, d) : NULL;
  if (d && !v) abort();
  sl_schema *back = v ? sl_schema_from_value(v, &err) : NULL;
  if (v && !back) abort();
  if (back && back->ntables != s->ntables) abort();
  sl_schema_free(back);
  sl_doc_free(d);
  sl_normalizer_free(n);
  sl_schema_free(s);
  return 0;
}
