/* base64.c — one base64 codec for the whole library (sluice/base64.h). */
#include "sluice/base64.h"

#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t sl_base64_encode_to(const void *data, size_t n, bool pad, char *out) {
  const uint8_t *in = data;
  char *o = out;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    *o++ = alphabet[v >> 18];
    *o++ = alphabet[(v >> 12) & 63];
    *o++ = alphabet[(v >> 6) & 63];
    *o++ = alphabet[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
    *o++ = alphabet[v >> 18];
    *o++ = alphabet[(v >> 12) & 63];
    if (i + 1 < n) *o++ = alphabet[(v >> 6) & 63];
    else if (pad) *o++ = '=';
    if (pad) *o++ = '=';
  }
  *o = '\0';
  return (size_t)(o - out);
}

sl_status sl_base64_encode(const void *data, size_t n, bool pad, sl_buf *out) {
  size_t need = sl_base64_encoded_len(n, pad);
  sl_status st = sl_buf_reserve(out, need + 1);
  if (st) return st;
  out->len += sl_base64_encode_to(data, n, pad, out->data + out->len);
  return SL_OK;
}

static int value_of(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool sl_base64_decode_to(const char *text, size_t len, sl_base64_mode mode, void *out, size_t *outn) {
  uint8_t *o = out;
  *outn = 0;
  if (mode == SL_BASE64_STRICT) {
    if (len % 4) return false;
    size_t pad = 0;
    if (len && text[len - 1] == '=') pad++;
    if (len >= 2 && text[len - 2] == '=') pad++;
    len -= pad;
  } else {
    while (len && text[len - 1] == '=') len--;
  }
  if (len % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  size_t k = 0;
  for (size_t i = 0; i < len; i++) {
    int v = value_of((unsigned char)text[i]);
    if (v < 0) return false;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      o[k++] = (uint8_t)(acc >> bits);
    }
  }
  *outn = k;
  return true;
}

bool sl_base64_decode(const char *text, size_t len, sl_base64_mode mode, sl_buf *out) {
  if (sl_buf_reserve(out, sl_base64_decoded_max(len) + 1)) return false;
  size_t n = 0;
  if (!sl_base64_decode_to(text, len, mode, out->data + out->len, &n)) {
    if (out->data) out->data[out->len] = '\0';
    return false;
  }
  out->len += n;
  out->data[out->len] = '\0';
  return true;
}
