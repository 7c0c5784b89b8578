/* TOML scalar tokens: booleans, integers (decimal, hex, octal, binary),
 * floats and the four date/time forms, validated to the letter of TOML 1.0
 * (underscores only between digits, no leading zeros, real calendar dates). */
#include "toml/toml_scalar.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest piece of a token quoted in a message. */
#define SHOW_MAX 60

static bool failf(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool failf(char *msg, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, size, fmt, ap);
  va_end(ap);
  return false;
}

/* The token as quoted in messages, cut short when long. */
#define TOKFMT "'%.*s%s'"
#define TOKARG(tok, n) (int)((n) > SHOW_MAX ? SHOW_MAX : (n)), (tok), ((n) > SHOW_MAX ? "..." : "")

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int digit_value(char c, int base) {
  int v;
  if (c >= '0' && c <= '9') v = c - '0';
  else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
  else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
  else return -1;
  return v < base ? v : -1;
}

/* Scan digits of base from s[*i] with underscores allowed only between two
 * digits. Returns the number of digits, or -1 for a misplaced underscore. */
static long scan_digits(const char *s, size_t n, size_t *i, int base) {
  long count = 0;
  size_t j = *i;
  while (j < n) {
    if (digit_value(s[j], base) >= 0) {
      count++;
      j++;
    } else if (s[j] == '_') {
      if (count == 0 || j + 1 >= n || digit_value(s[j + 1], base) < 0) return -1;
      j++;
    } else {
      break;
    }
  }
  *i = j;
  return count;
}

/* ---- numbers ---------------------------------------------------------------- */

static bool parse_prefixed_int(const char *tok, size_t n, sl__toml_scalar *out, char *msg, size_t msz) {
  int base = tok[1] == 'x' ? 16 : tok[1] == 'o' ? 8 : 2;
  const char *what = base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary";
  size_t i = 2;
  long digits = scan_digits(tok, n, &i, base);
  if (digits < 0)
    return failf(msg, msz, "invalid %s integer " TOKFMT ": '_' must be between digits", what,
                 TOKARG(tok, n));
  if (digits == 0 || i != n)
    return failf(msg, msz, "invalid %s integer " TOKFMT, what, TOKARG(tok, n));
  uint64_t v = 0;
  for (size_t j = 2; j < n; j++) {
    if (tok[j] == '_') continue;
    uint64_t d = (uint64_t)digit_value(tok[j], base);
    if (v > ((uint64_t)INT64_MAX - d) / (uint64_t)base)
      return failf(msg, msz, "integer " TOKFMT " is out of range for a 64-bit signed integer",
                   TOKARG(tok, n));
    v = v * (uint64_t)base + d;
  }
  out->type = SL__TOML_INT;
  out->i = (int64_t)v;
  return true;
}

static bool parse_decimal(const char *tok, size_t n, sl__toml_scalar *out, char *norm, char *msg,
                          size_t msz) {
  size_t i = 0;
  bool neg = false;
  if (tok[0] == '+' || tok[0] == '-') {
    neg = tok[0] == '-';
    i = 1;
  }
  size_t int_start = i;
  if (i >= n || !is_digit(tok[i])) return failf(msg, msz, "invalid value " TOKFMT, TOKARG(tok, n));
  if (tok[i] == '0' && i + 1 < n && (is_digit(tok[i + 1]) || tok[i + 1] == '_'))
    return failf(msg, msz, "invalid number " TOKFMT ": leading zeros are not allowed", TOKARG(tok, n));
  if (scan_digits(tok, n, &i, 10) < 0)
    return failf(msg, msz, "invalid number " TOKFMT ": '_' must be between digits", TOKARG(tok, n));
  size_t int_end = i;
  bool is_float = false;
  if (i < n && tok[i] == '.') {
    is_float = true;
    i++;
    long d = scan_digits(tok, n, &i, 10);
    if (d < 0)
      return failf(msg, msz, "invalid float " TOKFMT ": '_' must be between digits", TOKARG(tok, n));
    if (d == 0)
      return failf(msg, msz, "invalid float " TOKFMT ": a digit must follow the decimal point",
                   TOKARG(tok, n));
  }
  if (i < n && (tok[i] == 'e' || tok[i] == 'E')) {
    is_float = true;
    i++;
    if (i < n && (tok[i] == '+' || tok[i] == '-')) i++;
    long d = scan_digits(tok, n, &i, 10);
    if (d < 0)
      return failf(msg, msz, "invalid float " TOKFMT ": '_' must be between digits", TOKARG(tok, n));
    if (d == 0)
      return failf(msg, msz, "invalid float " TOKFMT ": the exponent needs digits", TOKARG(tok, n));
  }
  if (i != n) {
    if (tok[i] == '.' && is_float)
      return failf(msg, msz, "invalid float " TOKFMT, TOKARG(tok, n));
    return failf(msg, msz, "invalid %s " TOKFMT, is_float ? "float" : "number", TOKARG(tok, n));
  }

  if (!is_float) {
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t j = int_start; j < int_end; j++) {
      if (tok[j] == '_') continue;
      uint64_t d = (uint64_t)(tok[j] - '0');
      if (v > (limit - d) / 10)
        return failf(msg, msz, "integer " TOKFMT " is out of range for a 64-bit signed integer",
                     TOKARG(tok, n));
      v = v * 10 + d;
    }
    out->type = SL__TOML_INT;
    out->i = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
  }

  /* The digits without underscores are also what strtod reads (the C locale
   * is assumed: sluice never calls setlocale for LC_NUMERIC). */
  size_t k = 0;
  for (size_t j = tok[0] == '+' ? 1 : 0; j < n; j++)
    if (tok[j] != '_') norm[k++] = tok[j];
  norm[k] = '\0';
  out->type = SL__TOML_FLOAT;
  out->d = strtod(norm, NULL); /* overflow gives ±inf, which we keep, with the text */
  out->norm_len = k;
  return true;
}

static bool parse_special_float(const char *tok, size_t n, sl__toml_scalar *out, char *norm) {
  size_t i = (tok[0] == '+' || tok[0] == '-') ? 1 : 0;
  if (n - i != 3) return false;
  bool inf = memcmp(tok + i, "inf", 3) == 0, nan = memcmp(tok + i, "nan", 3) == 0;
  if (!inf && !nan) return false;
  bool neg = tok[0] == '-';
  out->type = SL__TOML_FLOAT;
  if (inf) {
    out->d = neg ? -__builtin_inf() : __builtin_inf();
    memcpy(norm, neg ? "-inf" : "inf", neg ? 5 : 4);
    out->norm_len = neg ? 4 : 3;
  } else {
    out->d = neg ? -__builtin_nan("") : __builtin_nan("");
    memcpy(norm, neg ? "-nan" : "nan", neg ? 5 : 4);
    out->norm_len = neg ? 4 : 3;
  }
  return true;
}

/* ---- dates and times -------------------------------------------------------- */

static bool digits_at(const char *s, size_t n, size_t at, size_t count, int *value) {
  if (at + count > n) return false;
  int v = 0;
  for (size_t j = at; j < at + count; j++) {
    if (!is_digit(s[j])) return false;
    v = v * 10 + (s[j] - '0');
  }
  *value = v;
  return true;
}

bool sl__toml_is_full_date(const char *tok, size_t n) {
  int v;
  return n == 10 && digits_at(tok, n, 0, 4, &v) && tok[4] == '-' && digits_at(tok, n, 5, 2, &v) &&
         tok[7] == '-' && digits_at(tok, n, 8, 2, &v);
}

static int days_in_month(int year, int month) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) return 29;
  return days[month - 1];
}

static bool check_date(const char *tok, size_t n, char *msg, size_t msz) {
  int y = 0, m = 0, d = 0;
  if (!sl__toml_is_full_date(tok, n < 10 ? n : 10))
    return failf(msg, msz, "invalid date " TOKFMT ": expected YYYY-MM-DD", TOKARG(tok, n));
  digits_at(tok, n, 0, 4, &y);
  digits_at(tok, n, 5, 2, &m);
  digits_at(tok, n, 8, 2, &d);
  if (y < 1) /* toml-test rejects year 0000, and so do most readers */
    return failf(msg, msz, "invalid date " TOKFMT ": year must be 0001 to 9999", TOKARG(tok, n));
  if (m < 1 || m > 12)
    return failf(msg, msz, "invalid date " TOKFMT ": month must be 01 to 12", TOKARG(tok, n));
  if (d < 1 || d > days_in_month(y, m))
    return failf(msg, msz, "invalid date " TOKFMT ": day %02d does not exist in %04d-%02d",
                 TOKARG(tok, n), d, y, m);
  return true;
}

/* HH:MM:SS[.frac] starting at tok[at]; *end receives the index after it. */
static bool check_time(const char *tok, size_t n, size_t at, size_t *end, char *msg, size_t msz) {
  int h = 0, mi = 0, s = 0;
  if (!digits_at(tok, n, at, 2, &h) || at + 2 >= n || tok[at + 2] != ':' ||
      !digits_at(tok, n, at + 3, 2, &mi) || at + 5 >= n || tok[at + 5] != ':' ||
      !digits_at(tok, n, at + 6, 2, &s))
    return failf(msg, msz, "invalid time in " TOKFMT ": expected HH:MM:SS", TOKARG(tok, n));
  if (h > 23) return failf(msg, msz, "invalid time in " TOKFMT ": hour must be 00 to 23", TOKARG(tok, n));
  if (mi > 59)
    return failf(msg, msz, "invalid time in " TOKFMT ": minute must be 00 to 59", TOKARG(tok, n));
  if (s > 60)
    return failf(msg, msz, "invalid time in " TOKFMT ": second must be 00 to 60", TOKARG(tok, n));
  size_t i = at + 8;
  if (i < n && tok[i] == '.') {
    i++;
    size_t first = i;
    while (i < n && is_digit(tok[i])) i++;
    if (i == first)
      return failf(msg, msz, "invalid time in " TOKFMT ": digits must follow '.'", TOKARG(tok, n));
  }
  *end = i;
  return true;
}

static bool parse_datetime(const char *tok, size_t n, sl__toml_scalar *out, char *norm, char *msg,
                           size_t msz) {
  memcpy(norm, tok, n);
  norm[n] = '\0';
  out->type = SL__TOML_DATETIME;
  out->norm_len = n;
  size_t end;
  if (n >= 3 && tok[2] == ':') { /* local time */
    if (!check_time(tok, n, 0, &end, msg, msz)) return false;
    if (end != n) return failf(msg, msz, "invalid local time " TOKFMT, TOKARG(tok, n));
    out->dtkind = SL_DT_LOCAL_TIME;
    return true;
  }
  if (!check_date(tok, n, msg, msz)) return false;
  if (n == 10) {
    out->dtkind = SL_DT_LOCAL_DATE;
    return true;
  }
  if (tok[10] != 'T' && tok[10] != 't' && tok[10] != ' ')
    return failf(msg, msz, "invalid date-time " TOKFMT ": expected 'T' or a space after the date",
                 TOKARG(tok, n));
  norm[10] = 'T';
  if (!check_time(tok, n, 11, &end, msg, msz)) return false;
  if (end == n) {
    out->dtkind = SL_DT_LOCAL_DATETIME;
    return true;
  }
  if ((tok[end] == 'Z' || tok[end] == 'z') && end + 1 == n) {
    norm[end] = 'Z';
    out->dtkind = SL_DT_OFFSET_DATETIME;
    return true;
  }
  int oh = 0, om = 0;
  if ((tok[end] == '+' || tok[end] == '-') && end + 6 == n && digits_at(tok, n, end + 1, 2, &oh) &&
      tok[end + 3] == ':' && digits_at(tok, n, end + 4, 2, &om)) {
    if (oh > 23 || om > 59)
      return failf(msg, msz, "invalid date-time " TOKFMT ": offset out of range", TOKARG(tok, n));
    out->dtkind = SL_DT_OFFSET_DATETIME;
    return true;
  }
  return failf(msg, msz, "invalid date-time " TOKFMT ": expected 'Z' or an offset like +05:30 after the time",
               TOKARG(tok, n));
}

/* ---- dispatch ----------------------------------------------------------------- */

bool sl__toml_scalar_parse(const char *tok, size_t n, sl__toml_scalar *out, char *norm, char *msg,
                           size_t msg_size) {
  memset(out, 0, sizeof *out);
  if (n == 0) return failf(msg, msg_size, "expected a value");
  if (n == 4 && memcmp(tok, "true", 4) == 0) {
    out->type = SL__TOML_BOOL;
    out->b = true;
    return true;
  }
  if (n == 5 && memcmp(tok, "false", 5) == 0) {
    out->type = SL__TOML_BOOL;
    return true;
  }
  int v;
  if ((n >= 5 && digits_at(tok, n, 0, 4, &v) && tok[4] == '-') ||
      (n >= 3 && digits_at(tok, n, 0, 2, &v) && tok[2] == ':'))
    return parse_datetime(tok, n, out, norm, msg, msg_size);
  if (parse_special_float(tok, n, out, norm)) return true;
  size_t i = (tok[0] == '+' || tok[0] == '-') ? 1 : 0;
  if (n >= i + 2 && tok[i] == '0' && (tok[i + 1] == 'x' || tok[i + 1] == 'o' || tok[i + 1] == 'b')) {
    if (i)
      return failf(msg, msg_size, "invalid integer " TOKFMT ": a sign is not allowed with 0x, 0o or 0b",
                   TOKARG(tok, n));
    return parse_prefixed_int(tok, n, out, msg, msg_size);
  }
  return parse_decimal(tok, n, out, norm, msg, msg_size);
}
