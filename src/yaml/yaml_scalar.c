/* The YAML 1.2 core schema for plain scalars: classification (shared with the
 * writer's quoting rules) and conversion to typed tree values. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yaml/yaml_int.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

static bool all_digits(const char *s, size_t n, int base) {
  if (n == 0) return false;
  for (size_t i = 0; i < n; i++)
    if (digit_value(s[i]) >= base) return false;
  return true;
}

/* One of the three spellings the core schema allows: lower, Capitalized, UPPER. */
static bool is_word(const char *s, size_t n, const char *lower, const char *cap, const char *upper) {
  size_t k = strlen(lower);
  return n == k && (memcmp(s, lower, k) == 0 || memcmp(s, cap, k) == 0 || memcmp(s, upper, k) == 0);
}

/* Unsigned float body: (\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? that is
 * not a plain integer. */
static bool is_float_body(const char *s, size_t n) {
  size_t i = 0, int_digits = 0, frac_digits = 0;
  bool dot = false, exp = false;
  while (i < n && is_digit(s[i])) i++, int_digits++;
  if (i < n && s[i] == '.') {
    dot = true;
    i++;
    while (i < n && is_digit(s[i])) i++, frac_digits++;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (int_digits == 0 && !dot) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    exp = true;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t e_digits = 0;
    while (i < n && is_digit(s[i])) i++, e_digits++;
    if (e_digits == 0) return false;
  }
  return i == n && (dot || exp);
}

sl__yaml_plain sl__yaml_classify(const char *s, size_t n) {
  if (n == 0) return SL__YP_NULL;
  switch (s[0]) {
    case '~':
      return n == 1 ? SL__YP_NULL : SL__YP_STRING;
    case 'n':
    case 'N':
      return is_word(s, n, "null", "Null", "NULL") ? SL__YP_NULL : SL__YP_STRING;
    case 't':
    case 'T':
      return is_word(s, n, "true", "True", "TRUE") ? SL__YP_TRUE : SL__YP_STRING;
    case 'f':
    case 'F':
      return is_word(s, n, "false", "False", "FALSE") ? SL__YP_FALSE : SL__YP_STRING;
    case '.':
      if (is_word(s + 1, n - 1, "inf", "Inf", "INF")) return SL__YP_INF;
      if (is_word(s + 1, n - 1, "nan", "NaN", "NAN")) return SL__YP_NAN;
      return is_float_body(s, n) ? SL__YP_FLOAT : SL__YP_STRING;
    case '+':
    case '-': {
      const char *b = s + 1;
      size_t bn = n - 1;
      if (bn > 1 && b[0] == '.' && is_word(b + 1, bn - 1, "inf", "Inf", "INF"))
        return s[0] == '-' ? SL__YP_NEG_INF : SL__YP_INF;
      if (all_digits(b, bn, 10)) return SL__YP_INT10;
      return is_float_body(b, bn) ? SL__YP_FLOAT : SL__YP_STRING;
    }
    default:
      break;
  }
  if (!is_digit(s[0])) return SL__YP_STRING;
  if (n > 2 && s[0] == '0' && s[1] == 'o' && all_digits(s + 2, n - 2, 8)) return SL__YP_INT8;
  if (n > 2 && s[0] == '0' && s[1] == 'x' && all_digits(s + 2, n - 2, 16)) return SL__YP_INT16;
  if (all_digits(s, n, 10)) return SL__YP_INT10;
  return is_float_body(s, n) ? SL__YP_FLOAT : SL__YP_STRING;
}

/* An integer past int64: its decimal text, converted digit by digit from any
 * base (schoolbook multiply-add on a little-endian decimal digit array). */
static sl_value *big_integer(sl_doc *doc, bool neg, const char *digits, size_t n, int base) {
  size_t cap = n * 2 + 2; /* log10(16) < 2 decimal digits per input digit */
  unsigned char *dec = calloc(cap, 1);
  char *text = malloc(cap + 2);
  sl_value *v = NULL;
  if (!dec || !text) goto done;
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned carry = (unsigned)digit_value(digits[i]);
    for (size_t k = 0; k < len; k++) {
      unsigned x = dec[k] * (unsigned)base + carry;
      dec[k] = (unsigned char)(x % 10);
      carry = x / 10;
    }
    while (carry) {
      dec[len++] = (unsigned char)(carry % 10);
      carry /= 10;
    }
  }
  size_t t = 0;
  if (neg) text[t++] = '-';
  if (len == 0) text[t++] = '0';
  for (size_t k = len; k > 0; k--) text[t++] = (char)('0' + dec[k - 1]);
  text[t] = '\0';
  v = sl_v_number(doc, text, t, strtod(text, NULL), SL_NUM_BIGINT);
done:
  free(dec);
  free(text);
  return v;
}

static sl_value *integer(sl_doc *doc, const char *s, size_t n, int base) {
  bool neg = false;
  if (base == 10 && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s++, n--;
  }
  if (base != 10) s += 2, n -= 2; /* 0o / 0x */
  uint64_t acc = 0;
  const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (size_t i = 0; i < n; i++) {
    uint64_t d = (uint64_t)digit_value(s[i]);
    if (acc > (limit - d) / (uint64_t)base) {
      while (n > 1 && *s == '0') s++, n--; /* the decimal text has no leading zeros */
      return big_integer(doc, neg, s, n, base);
    }
    acc = acc * (uint64_t)base + d;
  }
  int64_t i = neg ? (acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc) : (int64_t)acc;
  return sl_v_int(doc, i);
}

static sl_value *floating(sl_doc *doc, const char *s, size_t n) {
  char small[128];
  char *buf = n + 3 <= sizeof small ? small : malloc(n + 3);
  if (!buf) return NULL;
  size_t t = 0;
  bool exp = false;
  size_t i = 0;
  if (s[0] == '+') i++;
  if (s[i] == '-') buf[t++] = s[i++];
  if (s[i] == '.') buf[t++] = '0';
  for (; i < n; i++) {
    buf[t++] = s[i];
    if (s[i] == 'e' || s[i] == 'E') exp = true;
    if (s[i] == '.' && (i + 1 == n || !is_digit(s[i + 1]))) buf[t++] = '0';
  }
  buf[t] = '\0';
  sl_value *v = sl_v_number(doc, buf, t, strtod(buf, NULL), exp ? SL_NUM_DOUBLE : SL_NUM_DECIMAL);
  if (buf != small) free(buf);
  return v;
}

sl_value *sl__yaml_plain_value(sl_doc *doc, const char *s, size_t n) {
  switch (sl__yaml_classify(s, n)) {
    case SL__YP_NULL:
      return sl_v_null(doc);
    case SL__YP_TRUE:
      return sl_v_bool(doc, true);
    case SL__YP_FALSE:
      return sl_v_bool(doc, false);
    case SL__YP_INT10:
      return integer(doc, s, n, 10);
    case SL__YP_INT8:
      return integer(doc, s, n, 8);
    case SL__YP_INT16:
      return integer(doc, s, n, 16);
    case SL__YP_FLOAT:
      return floating(doc, s, n);
    case SL__YP_INF:
      return sl_v_number(doc, "inf", 3, INFINITY, SL_NUM_DOUBLE);
    case SL__YP_NEG_INF:
      return sl_v_number(doc, "-inf", 4, -INFINITY, SL_NUM_DOUBLE);
    case SL__YP_NAN:
      return sl_v_number(doc, "nan", 3, NAN, SL_NUM_DOUBLE);
    case SL__YP_STRING:
      break;
  }
  return sl_v_string(doc, s, n);
}
