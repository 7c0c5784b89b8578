/* Number classification (int64 / big integer / decimal / double) with an exact
 * fast path for common decimals, plus the small text helpers the parser and
 * writer share (number grammar messages, byte descriptions, UTF-8 messages). */
#define _GNU_SOURCE
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_int.h"
#include "sluice/json.h"

/* strtod in the C locale whatever the process locale is: JSON always uses '.'. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static double slow_strtod(const char *s, size_t len) {
  char small[64];
  char *tmp = len < sizeof small ? small : malloc(len + 1);
  if (!tmp) return 0.0;
  memcpy(tmp, s, len);
  tmp[len] = '\0';
  pthread_once(&c_locale_once, c_locale_init);
  double d = c_locale ? strtod_l(tmp, NULL, c_locale) : strtod(tmp, NULL);
  if (tmp != small) free(tmp);
  return d;
}

const double sl__json_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

sl_numkind sl_json_classify_number(const char *s, size_t len, int64_t *i64, double *f64) {
  const char *p = s, *end = s + len;
  bool neg = p < end && *p == '-';
  if (neg) p++;
  uint64_t mant = 0;  /* first 19 significant digits */
  int sig = 0;        /* significant digits seen (capped use: > 19 means mant is truncated) */
  int64_t drop = 0;   /* integer digits beyond the 19 kept */
  for (; p < end && *p >= '0' && *p <= '9'; p++) {
    if (sig == 0 && *p == '0') continue;
    if (sig < 19) mant = mant * 10 + (uint64_t)(*p - '0');
    else drop++;
    sig++;
  }
  bool frac = p < end && *p == '.';
  int64_t frac_kept = 0;
  if (frac) {
    for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
      if (sig == 0 && *p == '0') {
        frac_kept++; /* leading zeros of 0.00x still shift the exponent */
        continue;
      }
      if (sig < 19) {
        mant = mant * 10 + (uint64_t)(*p - '0');
        frac_kept++;
      }
      sig++;
    }
  }
  bool expo = p < end && (*p == 'e' || *p == 'E');
  int64_t e10 = 0;
  if (expo) {
    p++;
    bool eneg = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+')) p++;
    for (; p < end && *p >= '0' && *p <= '9'; p++)
      if (e10 < 100000000) e10 = e10 * 10 + (*p - '0');
    if (eneg) e10 = -e10;
  }
  if (i64) *i64 = 0;

  if (!frac && !expo) {
    /* An integer: exact when it has at most 19 significant digits and fits. */
    if (sig <= 19 && (neg ? mant <= (uint64_t)INT64_MAX + 1 : mant <= (uint64_t)INT64_MAX)) {
      int64_t v = neg ? (int64_t)(0 - mant) : (int64_t)mant;
      if (i64) *i64 = v;
      if (f64) *f64 = (double)v;
      return SL_NUM_INT64;
    }
    if (f64) *f64 = slow_strtod(s, len);
    return SL_NUM_BIGINT;
  }

  if (f64) {
    if (sig > 19 || !sl__json_fast_double(mant, e10 + drop - frac_kept, neg, f64))
      *f64 = slow_strtod(s, len);
  }
  return expo ? SL_NUM_DOUBLE : SL_NUM_DECIMAL;
}

bool sl__json_number_valid(const char *s, size_t len) {
  int st = SL__NUM_START;
  for (size_t i = 0; i < len; i++) {
    st = sl__json_num_step(st, (uint8_t)s[i]);
    if (st < 0) return false;
  }
  return sl__json_num_accepting(st);
}

const char *sl__json_num_error(int st) {
  switch (st) {
    case SL__NUM_MINUS:
      return "invalid number: expected a digit after '-'";
    case SL__NUM_ZERO:
      return "invalid number: leading zeros are not allowed";
    case SL__NUM_DOT:
      return "invalid number: expected a digit after the decimal point";
    case SL__NUM_E:
      return "invalid number: expected a digit or sign in the exponent";
    case SL__NUM_ESIGN:
      return "invalid number: expected a digit in the exponent";
    default:
      return "invalid number";
  }
}

const char *sl__json_describe(char *out, size_t size, const char *s, const char *end) {
  if (s >= end) snprintf(out, size, "end of input");
  else if (*s == '\'') snprintf(out, size, "\"'\"");
  else if ((uint8_t)*s >= 0x21 && (uint8_t)*s <= 0x7E) snprintf(out, size, "'%c'", *s);
  else if (*s == ' ') snprintf(out, size, "' '");
  else snprintf(out, size, "byte 0x%02X", (unsigned)(uint8_t)*s);
  return out;
}

void sl__json_u8_msg(char *out, size_t size, uint8_t lead, int bad) {
  if (bad < 0) {
    if (lead >= 0x80 && lead <= 0xBF)
      snprintf(out, size, "invalid UTF-8: unexpected continuation byte 0x%02X", lead);
    else if (lead == 0xC0 || lead == 0xC1)
      snprintf(out, size, "invalid UTF-8: overlong encoding (byte 0x%02X)", lead);
    else
      snprintf(out, size, "invalid UTF-8: byte 0x%02X never appears in UTF-8", lead);
    return;
  }
  if (bad >= 0x80 && bad <= 0xBF) {
    /* A continuation byte, but outside the narrowed range of the lead. */
    if (lead == 0xED)
      snprintf(out, size, "invalid UTF-8: encoded surrogate (0xED 0x%02X); use a \\u escape pair",
               (unsigned)bad);
    else if (lead == 0xF4)
      snprintf(out, size, "invalid UTF-8: code point beyond U+10FFFF (0xF4 0x%02X)", (unsigned)bad);
    else
      snprintf(out, size, "invalid UTF-8: overlong encoding (0x%02X 0x%02X)", lead, (unsigned)bad);
    return;
  }
  char what[24];
  char b = (char)bad;
  sl__json_describe(what, sizeof what, &b, &b + 1);
  snprintf(out, size, "invalid UTF-8: truncated sequence (lead byte 0x%02X followed by %s)", lead,
           what);
}
