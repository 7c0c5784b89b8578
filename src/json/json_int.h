/* Internals shared by the JSON parser, number classifier, writer and tree code:
 * the UTF-8 validity rules and the number grammar, written once so that the
 * parser's fast and byte-by-byte paths (and the writer) cannot disagree. */
#ifndef SL_JSON_INT_H
#define SL_JSON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- UTF-8 ------------------------------------------------------------------ */

/* For a lead byte: how many continuation bytes follow (0 = not a valid lead),
 * and the range allowed for the first continuation byte (the later ones are
 * always 0x80..0xBF). The narrowed first ranges exclude overlong forms
 * (E0, F0), UTF-16 surrogates (ED) and code points past U+10FFFF (F4). */
typedef struct sl__u8lead {
  uint8_t need, lo, hi;
} sl__u8lead;

static inline sl__u8lead sl__json_u8_lead(uint8_t c) {
  sl__u8lead r = {0, 0, 0};
  if (c >= 0xC2 && c <= 0xDF) r = (sl__u8lead){1, 0x80, 0xBF};
  else if (c == 0xE0) r = (sl__u8lead){2, 0xA0, 0xBF};
  else if (c == 0xED) r = (sl__u8lead){2, 0x80, 0x9F};
  else if (c >= 0xE1 && c <= 0xEF) r = (sl__u8lead){2, 0x80, 0xBF};
  else if (c == 0xF0) r = (sl__u8lead){3, 0x90, 0xBF};
  else if (c >= 0xF1 && c <= 0xF3) r = (sl__u8lead){3, 0x80, 0xBF};
  else if (c == 0xF4) r = (sl__u8lead){3, 0x80, 0x8F};
  return r;
}

/* Length of the valid multi-byte sequence at s (n bytes available), or 0 if
 * it is invalid or cut short. s[0] must be >= 0x80. */
static inline size_t sl__json_u8_valid(const uint8_t *s, size_t n) {
  sl__u8lead l = sl__json_u8_lead(s[0]);
  if (!l.need || n <= l.need) return 0;
  if (s[1] < l.lo || s[1] > l.hi) return 0;
  for (uint8_t i = 2; i <= l.need; i++)
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  return (size_t)l.need + 1;
}

/* Length of the longest prefix of s (n > 0 bytes, s[0] >= 0x80) that could
 * begin a valid sequence: what one U+FFFD replaces (the "maximal subpart"). */
static inline size_t sl__json_u8_bad_len(const uint8_t *s, size_t n) {
  sl__u8lead l = sl__json_u8_lead(s[0]);
  if (!l.need || n < 2 || s[1] < l.lo || s[1] > l.hi) return 1;
  size_t k = 2;
  while (k <= l.need && k < n && s[k] >= 0x80 && s[k] <= 0xBF) k++;
  return k;
}

/* Message for an invalid sequence: lead byte and the byte that broke it
 * (bad < 0 when the lead itself is invalid). Written into out. */
void sl__json_u8_msg(char *out, size_t size, uint8_t lead, int bad);

/* ---- numbers ------------------------------------------------------------------ */

/* The RFC 8259 number grammar as a small DFA over one byte at a time. */
enum {
  SL__NUM_START = 0,
  SL__NUM_MINUS, /* after '-' */
  SL__NUM_ZERO,  /* a leading 0 */
  SL__NUM_INT,   /* in integer digits */
  SL__NUM_DOT,   /* after '.' */
  SL__NUM_FRAC,  /* in fraction digits */
  SL__NUM_E,     /* after 'e' / 'E' */
  SL__NUM_ESIGN, /* after the exponent sign */
  SL__NUM_EXP,   /* in exponent digits */
  SL__NUM_END = -1, /* the byte is not part of the number, which is complete */
  SL__NUM_ERR = -2  /* the byte makes the number invalid */
};

static inline int sl__json_num_step(int st, uint8_t c) {
  bool digit = c >= '0' && c <= '9';
  switch (st) {
    case SL__NUM_START:
      if (c == '-') return SL__NUM_MINUS;
      /* fallthrough */
    case SL__NUM_MINUS:
      if (c == '0') return SL__NUM_ZERO;
      return digit ? SL__NUM_INT : SL__NUM_ERR;
    case SL__NUM_ZERO:
    case SL__NUM_INT:
      if (digit) return st == SL__NUM_ZERO ? SL__NUM_ERR : SL__NUM_INT;
      if (c == '.') return SL__NUM_DOT;
      if (c == 'e' || c == 'E') return SL__NUM_E;
      return SL__NUM_END;
    case SL__NUM_DOT:
    case SL__NUM_FRAC:
      if (digit) return SL__NUM_FRAC;
      if (st == SL__NUM_DOT) return SL__NUM_ERR;
      if (c == 'e' || c == 'E') return SL__NUM_E;
      return SL__NUM_END;
    case SL__NUM_E:
      if (c == '+' || c == '-') return SL__NUM_ESIGN;
      /* fallthrough */
    case SL__NUM_ESIGN:
    case SL__NUM_EXP:
      if (digit) return SL__NUM_EXP;
      return st == SL__NUM_EXP ? SL__NUM_END : SL__NUM_ERR;
  }
  return SL__NUM_ERR;
}

static inline bool sl__json_num_accepting(int st) {
  return st == SL__NUM_ZERO || st == SL__NUM_INT || st == SL__NUM_FRAC || st == SL__NUM_EXP;
}

/* Powers of ten that are exact in a double (10^22 is the largest). */
extern const double sl__json_pow10[23];

/* Clinger's fast path: mant * 10^exp10 when both are exact in a double, so
 * one rounding gives the correctly rounded result. False when it does not
 * apply (the caller then uses strtod). */
static inline bool sl__json_fast_double(uint64_t mant, int64_t exp10, bool neg, double *out) {
  if (mant > ((uint64_t)1 << 53) || exp10 < -22 || exp10 > 22) return false;
  double d = (double)mant;
  d = exp10 < 0 ? d / sl__json_pow10[-exp10] : d * sl__json_pow10[exp10];
  *out = neg ? -d : d;
  return true;
}

/* What went wrong when byte c (or end of input) could not continue state st. */
const char *sl__json_num_error(int st);

/* True if s[0..len) is exactly one JSON number. */
bool sl__json_number_valid(const char *s, size_t len);

/* Describe the byte at s for an error message: 'x', byte 0x01, end of input. */
const char *sl__json_describe(char *out, size_t size, const char *s, const char *end);

#endif
