/* What every destination shares: table count lists, dlt's stored-state
 * encoding (base64 of zlib), random row ids and SQL quoting. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <openssl/rand.h>

#include "dest/dest_int.h"

void sl_table_counts_free(sl_table_count *c, size_t n) {
  if (!c) return;
  for (size_t i = 0; i < n; i++) free(c[i].table);
  free(c);
}

/* ---- base64 ------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

sl_status sl__base64_encode(const void *data, size_t len, bool pad, sl_buf *out) {
  const unsigned char *p = data;
  sl_status st = sl_buf_reserve(out, (len + 2) / 3 * 4);
  if (st) return st;
  char *o = out->data + out->len;
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
    *o++ = b64[v >> 18];
    *o++ = b64[(v >> 12) & 63];
    *o++ = b64[(v >> 6) & 63];
    *o++ = b64[v & 63];
  }
  if (i < len) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
    *o++ = b64[v >> 18];
    *o++ = b64[(v >> 12) & 63];
    if (i + 1 < len) *o++ = b64[(v >> 6) & 63];
    else if (pad) *o++ = '=';
    if (pad) *o++ = '=';
  }
  out->len = (size_t)(o - out->data);
  out->data[out->len] = '\0';
  return SL_OK;
}

static int b64_val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool sl__base64_decode(const char *text, size_t len, sl_buf *out) {
  while (len && text[len - 1] == '=') len--;
  if (len % 4 == 1) return false;
  if (sl_buf_reserve(out, len / 4 * 3 + 3)) return false;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    int v = b64_val((unsigned char)text[i]);
    if (v < 0) return false;
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->data[out->len++] = (char)((acc >> bits) & 0xff);
    }
  }
  out->data[out->len] = '\0';
  return true;
}

void sl__dest_random_id(char out[16]) {
  unsigned char r[10];
  if (RAND_bytes(r, sizeof r) != 1) {
    /* Only uniqueness matters here, not secrecy. */
    for (size_t i = 0; i < sizeof r; i++) r[i] = (unsigned char)rand();
  }
  sl_buf b = {0};
  if (sl__base64_encode(r, sizeof r, false, &b) == SL_OK && b.len < 16) {
    memcpy(out, b.data, b.len + 1);
  } else {
    out[0] = '\0';
  }
  sl_buf_free(&b);
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
  sl_status st = sl__base64_encode(z, cap, true, out);
  free(z);
  return st;
}

sl_status sl__dest_state_decode(const char *text, size_t len, char **json, sl_error *err) {
  *json = NULL;
  sl_buf raw = {0}, plain = {0};
  sl_status st = SL_OK;
  if (sl__base64_decode(text, len, &raw) && raw.len >= 2) {
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
