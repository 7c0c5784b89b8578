/* Writing JSON string literals: escapes what JSON requires and repairs
 * invalid UTF-8 (each maximal invalid subpart becomes U+FFFD), so whatever
 * bytes come in, valid JSON goes out. */
#include <string.h>

#include "json_int.h"
#include "sluice/json.h"

/* 1 = copy as is; anything else needs attention. */
static const uint8_t plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0), /* control characters */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* '"' at 0x22 */
    R16(1), R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* '\\' at 0x5C */
    R16(1), R16(1),
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), /* non-ASCII */
#undef R16
};

sl_status sl_json_write_string(sl_buf *out, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const uint8_t *u = (const uint8_t *)s, *end = u + len;
  sl_status st = sl_buf_reserve(out, len + 2);
  if (st || (st = sl_buf_putc(out, '"'))) return st;
  while (u < end) {
    const uint8_t *run = u;
    while (u < end && plain[*u]) u++;
    if (u > run && (st = sl_buf_append(out, run, (size_t)(u - run)))) return st;
    if (u == end) break;
    uint8_t c = *u;
    char esc[8];
    size_t n = 2;
    esc[0] = '\\';
    if (c >= 0x80) {
      size_t k = sl__json_u8_valid(u, (size_t)(end - u));
      if (k) {
        st = sl_buf_append(out, u, k);
        u += k;
      } else {
        st = sl_buf_append(out, "\xEF\xBF\xBD", 3);
        u += sl__json_u8_bad_len(u, (size_t)(end - u));
      }
      if (st) return st;
      continue;
    }
    switch (c) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      default:
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        n = 6;
    }
    if ((st = sl_buf_append(out, esc, n))) return st;
    u++;
  }
  return sl_buf_putc(out, '"');
}
