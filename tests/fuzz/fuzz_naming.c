/* Fuzz target for the naming convention and the value detectors. The first
 * byte picks a length limit, the rest is a key (or a value). Checked:
 * a normalized identifier is well formed (no "__", no leading digit, no
 * trailing '_', only [a-z0-9_] and Unicode digits, valid UTF-8), fits the
 * limit and normalizes to itself; paths and the cache agree; a detected
 * timestamp or date formats back and re-parses to the same value; an int the
 * parser takes is a double too. Anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/detect.h"
#include "sluice/naming.h"

static const size_t limits[] = {0, 7, 8, 10, 13, 64, 255, 65536};

static size_t utf8_len(const unsigned char *s, size_t n, size_t i) {
  unsigned char c = s[i];
  size_t k = c < 0x80             ? 1
             : (c & 0xE0) == 0xC0 ? 2
             : (c & 0xF0) == 0xE0 ? 3
             : (c & 0xF8) == 0xF0 ? 4
                                  : 0;
  if (!k || i + k > n) return 0;
  for (size_t j = 1; j < k; j++)
    if ((s[i + j] & 0xC0) != 0x80) return 0;
  return k;
}

/* Code points, or abort on invalid UTF-8 or a character outside [a-z0-9_] +
 * non-ASCII digits. path: "__" runs are allowed. */
static size_t check_name(const char *p, size_t n, int path) {
  const unsigned char *s = (const unsigned char *)p;
  if (n == 0) abort();
  if (p[n - 1] == '_') abort();
  if (s[0] >= '0' && s[0] <= '9') abort();
  size_t chars = 0;
  for (size_t i = 0; i < n;) {
    size_t k = utf8_len(s, n, i);
    if (!k) abort();
    if (k == 1) {
      unsigned char c = s[i];
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) abort();
      if (!path && c == '_' && i + 1 < n && s[i + 1] == '_') abort();
    } else if (i == 0) {
      abort(); /* a leading Unicode digit gets '_' first */
    }
    i += k;
    chars++;
  }
  return chars;
}

static void fuzz_names(const char *key, size_t len, size_t max) {
  sl_buf a = {0}, b = {0};
  if (sl_name_normalize(key, len, max, &a) != SL_OK) abort();
  if (a.data[a.len] != '\0' || strlen(a.data) != a.len) abort();
  size_t chars = check_name(a.data, a.len, 0);
  if (max && chars > max) abort();
  if (sl_name_normalize(a.data, a.len, max, &b) != SL_OK || b.len != a.len ||
      memcmp(a.data, b.data, a.len) != 0)
    abort();

  if (sl_name_normalize_path(key, len, max, &a) != SL_OK) abort();
  chars = check_name(a.data, a.len, 1);
  if (max && chars > max) abort();

  sl_name_cache *c = sl_name_cache_new(4, 0);
  if (!c) abort();
  size_t n = 0;
  const char *v = sl_name_cache_get(c, key, len, max, &n);
  if (!v || n != a.len || memcmp(v, a.data, n) != 0) abort();
  if (sl_name_cache_get(c, key, len, max, NULL) != v) abort();
  sl_name_cache_free(c);

  /* a child table name built from two halves of the input */
  size_t half = len / 2;
  sl_buf full = {0};
  if (sl_name_normalize_path(key, half, 0, &b) != SL_OK) abort();
  if (sl_name_child_table(b.data, b.len, key + half, len - half, max, &full, &a) != SL_OK) abort();
  chars = check_name(a.data, a.len, 1);
  if (max && chars > max) abort();
  sl_buf_free(&full);
  sl_buf_free(&a);
  sl_buf_free(&b);
}

static void fuzz_detect(const char *s, size_t len) {
  int64_t us = 0, back = 0;
  int32_t days = 0, dback = 0;
  char out[SL_TIMESTAMP_BUF], dout[SL_DATE_BUF], tout[SL_TIME_BUF];
  if (sl_detect_iso_timestamp(s, len, &us)) {
    size_t n = sl_format_timestamp(us, out);
    if (n != 32 || !sl_detect_iso_timestamp(out, n, &back) || back != us) abort();
    if (!sl_parse_timestamp_text(s, len, &back) || back != us) abort();
    if (sl_detect_iso_date(s, len, NULL) || sl_detect_iso_time(s, len, NULL)) abort();
  }
  if (sl_detect_iso_date(s, len, &days)) {
    size_t n = sl_format_date(days, dout);
    if (n != 10 || !sl_detect_iso_date(dout, n, &dback) || dback != days) abort();
    if (sl_detect_iso_time(s, len, NULL)) abort();
  }
  if (sl_detect_iso_time(s, len, &us)) {
    if (us < 0 || sl_format_time(us, tout) != 15) abort();
    if (!sl_detect_iso_time(tout, 15, &back) || back != us) abort();
  }
  int64_t i = 0;
  double d = 0;
  bool b;
  if (sl_parse_int64_text(s, len, &i)) {
    if (!sl_parse_double_text(s, len, &d)) abort();
    if (i > -(INT64_C(1) << 53) && i < (INT64_C(1) << 53) && d != (double)i) abort();
  }
  sl_parse_bool_text(s, len, &b);
  sl_parse_date_text(s, len, &days);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  size_t max = limits[data[0] % (sizeof limits / sizeof limits[0])];
  const char *key = (const char *)data + 1;
  size_t len = size - 1;
  fuzz_names(key, len, max);
  fuzz_detect(key, len);
  return 0;
}
