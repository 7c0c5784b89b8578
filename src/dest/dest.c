/* What every destination shares: table count lists, dlt's stored-state
 * encoding (base64 of zlib, sluice/base64.h), random row ids and SQL quoting. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <openssl/rand.h>

#include "dest/dest_int.h"
#include "sluice/base64.h"

void sl_table_counts_free(sl_table_count *c, size_t n) {
  if (!c) return;
  for (size_t i = 0; i < n; i++) free(c[i].table);
  free(c);
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
