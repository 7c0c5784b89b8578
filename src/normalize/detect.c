/* detect.c — dlt's value detections and text coercions: ISO 8601 dates and
 * times as pendulum 3 parses them (its parse_iso8601, then its "common"
 * regex fallback, as dlt's parse_iso_like_datetime calls them), Python's int()
 * and float() grammars, dlt's str2bool, and formatting for destinations. */
#define _GNU_SOURCE
#include "sluice/detect.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- white space (Python's str.strip) -------------------------------------- */

/* Length of a white-space character ending at s+n (0 if none). */
static size_t space_before(const unsigned char *s, size_t n) {
  unsigned char c = s[n - 1];
  if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) return 1;
  if (c < 0x80) return 0;
  if (n >= 2 && s[n - 2] == 0xC2 && (c == 0x85 || c == 0xA0)) return 2;
  if (n < 3) return 0;
  unsigned char a = s[n - 3], b = s[n - 2];
  if (a == 0xE1 && b == 0x9A && c == 0x80) return 3;                  /* U+1680 */
  /* U+2000..200A, U+2028, U+2029, U+202F */
  if (a == 0xE2 && b == 0x80 && ((c >= 0x80 && c <= 0x8A) || c == 0xA8 || c == 0xA9 || c == 0xAF))
    return 3;
  if (a == 0xE2 && b == 0x81 && c == 0x9F) return 3;                  /* U+205F */
  if (a == 0xE3 && b == 0x80 && c == 0x80) return 3;                  /* U+3000 */
  return 0;
}

/* Length of a white-space character starting at s (0 if none). */
static size_t space_at(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) return 1;
  if (c < 0x80) return 0;
  if (n >= 2 && c == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0)) return 2;
  if (n < 3) return 0;
  unsigned char b = s[1], d = s[2];
  if (c == 0xE1 && b == 0x9A && d == 0x80) return 3;
  if (c == 0xE2 && b == 0x80 && ((d >= 0x80 && d <= 0x8A) || d == 0xA8 || d == 0xA9 || d == 0xAF))
    return 3;
  if (c == 0xE2 && b == 0x81 && d == 0x9F) return 3;
  if (c == 0xE3 && b == 0x80 && d == 0x80) return 3;
  return 0;
}

void sl_detect_strip(const char **sp, size_t *lenp) {
  const unsigned char *s = (const unsigned char *)*sp;
  size_t n = *lenp, k;
  if (!s) return;
  while (n && (k = space_at(s, n)) != 0) s += k, n -= k;
  while (n && (k = space_before(s, n)) != 0) n -= k;
  *sp = (const char *)s;
  *lenp = n;
}

/* ---- calendar -------------------------------------------------------------- */

int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void sl_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

static int days_in_month(int64_t y, int m) {
  static const int dim[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m];
}

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z */
#define MIN_US (INT64_C(-719162) * US_PER_DAY)
#define MAX_US (INT64_C(2932897) * US_PER_DAY - 1)

/* ---- pendulum's ISO 8601 parser -------------------------------------------- */

enum { K_NONE = 0, K_DATE, K_TIME, K_DATETIME };

typedef struct parts {
  int kind;
  int64_t year;
  int month, day, hour, minute, second, micro;
  bool has_offset;
  int offset_min; /* east of UTC */
  bool extended;  /* "-" in the date or "hh:" time: pendulum's extended_date_format */
  bool has_time, minute_missing;
} parts;

typedef struct cur {
  const unsigned char *s;
  size_t n, i;
} cur;

static inline bool at_end(const cur *c) { return c->i >= c->n; }
static inline int ch(const cur *c) { return c->i < c->n ? c->s[c->i] : 0; }
static inline bool isdig(int c) { return c >= '0' && c <= '9'; }
static inline bool is_tz_start(int c) { return c == 'Z' || c == '+' || c == '-'; }

static bool read_int(cur *c, int len, int64_t *v) {
  int64_t x = 0;
  for (int k = 0; k < len; k++) {
    if (at_end(c) || !isdig(ch(c))) return false;
    x = x * 10 + (ch(c) - '0');
    c->i++;
  }
  *v = x;
  return true;
}

/* Fraction after '.' or ',': one digit at least, six kept, the rest dropped. */
static bool read_fraction(cur *c, int *micro) {
  int us = 0, k = 0;
  for (; k < 6 && isdig(ch(c)); k++, c->i++) us = us * 10 + (ch(c) - '0');
  if (k == 0) return false;
  while (isdig(ch(c))) c->i++;
  for (; k < 6; k++) us *= 10;
  *micro = us;
  return true;
}

static bool parse_time(cur *c, parts *p, bool skip_hour) {
  int64_t v;
  if (!skip_hour && ch(c) != 'T' && ch(c) != ' ') return false;
  p->has_time = true;
  if (!skip_hour) {
    c->i++;
    if (!read_int(c, 2, &v)) return false;
    p->hour = (int)v;
  }
  if (!at_end(c) && !is_tz_start(ch(c))) {
    if (ch(c) == ':') { /* hh:mm[:ss[.f]] */
      c->i++;
      if (!read_int(c, 2, &v)) return false;
      p->minute = (int)v;
      if (!at_end(c) && !is_tz_start(ch(c))) {
        if (ch(c) != ':') return false;
        c->i++;
        if (!read_int(c, 2, &v)) return false;
        p->second = (int)v;
        if (ch(c) == '.' || ch(c) == ',') {
          c->i++;
          if (!read_fraction(c, &p->micro)) return false;
        }
        /* pendulum: an extended time with seconds needs an extended date */
        if (!p->extended) return false;
      }
    } else { /* hhmm[ss[.f]] */
      if (!read_int(c, 2, &v)) return false;
      p->minute = (int)v;
      if (!at_end(c) && !is_tz_start(ch(c))) {
        if (!read_int(c, 2, &v)) return false;
        p->second = (int)v;
        if (ch(c) == '.' || ch(c) == ',') {
          c->i++;
          if (!read_fraction(c, &p->micro)) return false;
        }
      }
      if (p->extended) return false;
    }
  }
  if (ch(c) == 'Z') {
    p->has_offset = true;
    p->offset_min = 0;
    c->i++;
  } else if (ch(c) == '+' || ch(c) == '-') {
    int sign = ch(c) == '+' ? 1 : -1;
    int64_t h, m = 0;
    c->i++;
    if (!read_int(c, 2, &h)) return false;
    if (ch(c) == ':') c->i++;
    if (!at_end(c) && !read_int(c, 2, &m)) return false;
    int64_t total = sign * (h * 60 + m);
    /* pendulum refuses > 24h; Python's tzinfo then refuses |offset| >= 24h */
    if (total >= 1440 || total <= -1440) return false;
    p->has_offset = true;
    p->offset_min = (int)total;
  }
  return true;
}

/* pendulum's ordinal-to-date walk, including its quirk: an ordinal that is the
 * last day of a month gives day 0 of the next month (rejected later), as in
 * pendulum 3's Rust parser. */
static bool ordinal_to_ymd(parts *p, int64_t year, int64_t ord, bool allow_out) {
  static const int offs[2][14] = {
      {-1, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365},
      {-1, 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366}};
  int64_t y = year;
  if (ord < 1) {
    if (!allow_out) return false;
    ord += is_leap(year - 1) ? 366 : 365;
    y--;
  }
  if (ord > (is_leap(y) ? 366 : 365)) {
    if (!allow_out) return false;
    ord -= is_leap(y) ? 366 : 365;
    y++;
  }
  int leap = is_leap(y);
  for (int i = 1; i < 14; i++) {
    if (ord < offs[leap][i]) {
      p->year = y;
      p->month = i - 1;
      p->day = (int)(ord - offs[leap][i - 1]);
      return true;
    }
  }
  return false;
}

static int64_t pyear(int64_t y) { return y + y / 4 - y / 100 + y / 400; }

/* ISO weekday (Monday 1 .. Sunday 7), Sakamoto's method as pendulum has it. */
static int64_t week_day(int64_t year, int month, int day) {
  static const int t[12] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  int64_t y = year - (month < 3);
  int64_t w = (pyear(y) + t[month - 1] + day) % 7;
  return w == 0 ? 7 : (w < 0 ? -w : w);
}

static bool iso_week_to_ymd(parts *p, int64_t year, int64_t week, int64_t wday) {
  bool long_year = pyear(year) % 7 == 4 || pyear(year - 1) % 7 == 3;
  if (year < 1 || week > 53 || (week > 52 && !long_year) || wday > 7) return false;
  int64_t ord = week * 7 + wday - (week_day(year, 1, 4) + 3);
  return ordinal_to_ymd(p, year, ord, true);
}

/* pendulum.parsing.parse_iso8601 for a date, time or date-time. */
static bool iso_parse(const unsigned char *s, size_t n, parts *p) {
  cur c = {s, n, 0};
  int64_t v, hi, lo;
  memset(p, 0, sizeof *p);
  p->month = p->day = 1;
  if (ch(&c) == 'T') { /* a time alone */
    if (!parse_time(&c, p, false) || !at_end(&c)) return false;
    p->kind = K_TIME;
    return true;
  }
  if (!read_int(&c, 2, &hi)) return false;
  if (ch(&c) == ':') { /* hh:mm... alone */
    p->hour = (int)hi;
    p->extended = true;
    if (!parse_time(&c, p, true) || !at_end(&c)) return false;
    p->kind = K_TIME;
    return true;
  }
  if (!read_int(&c, 2, &lo)) return false;
  int64_t year = hi * 100 + lo;
  p->year = year;
  if (ch(&c) == '-') {
    c.i++;
    p->extended = true;
    if (ch(&c) == 'W') {
      int64_t week, wday = 1;
      c.i++;
      if (!read_int(&c, 2, &week)) return false;
      if (!at_end(&c) && ch(&c) != ' ' && ch(&c) != 'T') {
        if (ch(&c) != '-') return false;
        c.i++;
        if (!read_int(&c, 1, &wday)) return false;
      }
      if (!iso_week_to_ymd(p, year, week, wday)) return false;
    } else {
      if (!read_int(&c, 2, &v)) return false;
      p->month = (int)v;
      if (!at_end(&c) && ch(&c) != ' ' && ch(&c) != 'T') {
        if (ch(&c) == '-') {
          c.i++;
          if (!read_int(&c, 2, &v)) return false;
          p->day = (int)v;
        } else {
          int64_t od;
          if (!read_int(&c, 1, &od)) return false;
          if (!ordinal_to_ymd(p, year, p->month * 10 + od, false)) return false;
        }
      } else {
        p->day = 1;
      }
    }
  } else if (ch(&c) == 'W') {
    int64_t week, wday = 1;
    c.i++;
    if (!read_int(&c, 2, &week)) return false;
    if (!at_end(&c) && ch(&c) != ' ' && ch(&c) != 'T' && !read_int(&c, 1, &wday)) return false;
    if (!iso_week_to_ymd(p, year, week, wday)) return false;
  } else {
    int64_t od;
    if (!read_int(&c, 2, &v)) return false;
    p->month = (int)v;
    if (!read_int(&c, 1, &od)) return false;
    if (at_end(&c) || ch(&c) == ' ' || ch(&c) == 'T') {
      if (!ordinal_to_ymd(p, year, od + p->month * 10, false)) return false;
    } else {
      if (!read_int(&c, 1, &v)) return false;
      p->day = (int)(od * 10 + v);
    }
  }
  if (!at_end(&c) && !parse_time(&c, p, false)) return false;
  if (!at_end(&c)) return false; /* trailing text, or an interval */
  p->kind = p->has_time ? K_DATETIME : K_DATE;
  return true;
}

/* ---- pendulum's "common" fallback (a regex; Python's $ also matches before
 * one final newline). Every optional part of that regex can match in at most
 * one way here, so a direct scan finds the same match the regex would. ---- */

static bool common_end(const unsigned char *s, size_t n, size_t q) {
  return q == n || (q + 1 == n && s[q] == '\n');
}

static bool digits_at(const unsigned char *s, size_t n, size_t q, size_t k) {
  if (q + k > n) return false;
  for (size_t i = 0; i < k; i++)
    if (!isdig(s[q + i])) return false;
  return true;
}

static int num(const unsigned char *s, size_t q, size_t k) {
  int v = 0;
  for (size_t i = 0; i < k; i++) v = v * 10 + (s[q + i] - '0');
  return v;
}

/* [ ]?h{1,2}:m{0,2}(:s{1,2})?([.|,]f{1,9})?$ from q, or $ at q. */
static bool common_time(const unsigned char *s, size_t n, size_t q, parts *p) {
  if (common_end(s, n, q)) return true;
  if (s[q] == ' ') q++;
  size_t hl = digits_at(s, n, q, 2) && q + 2 < n && s[q + 2] == ':'   ? 2
              : digits_at(s, n, q, 1) && q + 1 < n && s[q + 1] == ':' ? 1
                                                                       : 0;
  if (!hl) return false;
  p->has_time = true;
  p->hour = num(s, q, hl);
  q += hl + 1;
  size_t ml = digits_at(s, n, q, 2) ? 2 : digits_at(s, n, q, 1) ? 1 : 0;
  p->minute_missing = ml == 0;
  p->minute = num(s, q, ml);
  q += ml;
  if (q < n && s[q] == ':') {
    size_t sl = digits_at(s, n, q + 1, 2) ? 2 : digits_at(s, n, q + 1, 1) ? 1 : 0;
    if (!sl) return false;
    p->second = num(s, q + 1, sl);
    q += 1 + sl;
  }
  if (q < n && (s[q] == '.' || s[q] == '|' || s[q] == ',')) {
    size_t k = 0;
    while (q + 1 + k < n && isdig(s[q + 1 + k])) k++;
    if (k == 0 || k > 9) return false;
    int us = num(s, q + 1, k < 6 ? k : 6);
    for (size_t i = k; i < 6; i++) us *= 10;
    p->micro = us;
    q += 1 + k;
  }
  return common_end(s, n, q);
}

static bool common_parse(const unsigned char *s, size_t n, parts *p) {
  memset(p, 0, sizeof *p);
  p->month = p->day = 1;
  if (digits_at(s, n, 0, 4)) {
    p->year = num(s, 0, 4);
    /* (sep? MM sep? DD) first, then without month and day */
    size_t q = 4;
    if (q < n && (s[q] == '/' || s[q] == ':')) q++;
    if (digits_at(s, n, q, 2)) {
      int month = num(s, q, 2);
      q += 2;
      if (q < n && (s[q] == '/' || s[q] == ':')) q++;
      if (digits_at(s, n, q, 2)) {
        int day = num(s, q, 2);
        parts t = *p;
        if (common_time(s, n, q + 2, &t)) {
          *p = t;
          p->month = month;
          p->day = day;
          p->kind = p->has_time ? K_DATETIME : K_DATE;
          return true;
        }
      }
    }
    if (!common_time(s, n, 4, p)) return false;
    p->kind = p->has_time ? K_DATETIME : K_DATE;
    return true;
  }
  /* no date: a time alone (a 4-digit start never parses as one) */
  if (!common_time(s, n, 0, p) || !p->has_time) return false;
  p->kind = K_TIME;
  return true;
}

/* Python's date/time constructors. */
static bool valid_parts(const parts *p) {
  if (p->kind == K_DATE || p->kind == K_DATETIME) {
    if (p->year < 1 || p->year > 9999 || p->month < 1 || p->month > 12 || p->day < 1 ||
        p->day > days_in_month(p->year, p->month))
      return false;
  }
  if (p->kind == K_TIME || p->kind == K_DATETIME) {
    if (p->minute_missing || p->hour > 23 || p->minute > 59 || p->second > 59) return false;
  }
  return true;
}

/* What dlt's parse_iso_like_datetime makes of s: K_NONE when it raises. */
static int classify(const char *str, size_t n, parts *p) {
  const unsigned char *s = (const unsigned char *)str;
  if (!s || n == 0) return K_NONE;
  if (iso_parse(s, n, p) && valid_parts(p)) return p->kind;
  if (common_parse(s, n, p) && valid_parts(p)) return p->kind;
  return K_NONE;
}

static int64_t parts_micros(const parts *p) {
  int64_t days = sl_days_from_civil(p->year, (unsigned)p->month, (unsigned)p->day);
  int64_t secs = ((int64_t)p->hour * 60 + p->minute) * 60 + p->second;
  if (p->has_offset) secs -= (int64_t)p->offset_min * 60;
  return days * US_PER_DAY + secs * US_PER_SEC + p->micro;
}

/* ---- public detections ------------------------------------------------------ */

bool sl_detect_iso_timestamp(const char *s, size_t len, int64_t *micros_utc) {
  /* The shortest date-times are 7 bytes ("20241:2"), and all start with a
   * 4-digit year: most strings stop here. */
  if (len < 7 || !s || !isdig(s[0]) || !isdig(s[1]) || !isdig(s[2]) || !isdig(s[3])) return false;
  parts p;
  if (classify(s, len, &p) != K_DATETIME) return false;
  int64_t us = parts_micros(&p);
  if (us < MIN_US || us > MAX_US) return false;
  if (micros_utc) *micros_utc = us;
  return true;
}

bool sl_detect_iso_date(const char *s, size_t len, int32_t *days) {
  if (len < 4 || !s || !isdig(s[0]) || !isdig(s[1]) || !isdig(s[2]) || !isdig(s[3])) return false;
  parts p;
  if (classify(s, len, &p) != K_DATE) return false;
  if (days) *days = (int32_t)sl_days_from_civil(p.year, (unsigned)p.month, (unsigned)p.day);
  return true;
}

bool sl_detect_iso_time(const char *s, size_t len, int64_t *micros) {
  if (len < 3 || !s || !(isdig(s[0]) || s[0] == 'T' || s[0] == ' ')) return false;
  parts p;
  if (classify(s, len, &p) != K_TIME) return false;
  int64_t us = (((int64_t)p.hour * 60 + p.minute) * 60 + p.second) * US_PER_SEC + p.micro;
  if (p.has_offset) {
    us -= (int64_t)p.offset_min * 60 * US_PER_SEC;
    us = ((us % US_PER_DAY) + US_PER_DAY) % US_PER_DAY;
  }
  if (micros) *micros = us;
  return true;
}

bool sl_detect_timestamp_number(double v, double now_seconds) {
  const double range = 5 * 31536000.0;
  return v >= now_seconds - range && v <= now_seconds + range;
}

/* ---- numbers and booleans in text ------------------------------------------ */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Digits of `base` with single '_' between them (Python's int() grammar), from
 * s[0..n); the value in *mag, false on a grammar error or past UINT64. */
static bool int_digits(const char *s, size_t n, int base, bool allow_leading_us, uint64_t *mag,
                       bool *overflow) {
  uint64_t v = 0;
  bool any = false, prev_us = false;
  *overflow = false;
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char)s[i];
    if (c == '_') {
      if (prev_us || (!any && !allow_leading_us)) return false;
      prev_us = true;
      continue;
    }
    int d = base == 16 ? hexval(c) : (isdig(c) ? c - '0' : -1);
    if (d < 0) return false;
    if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) *overflow = true;
    else v = v * (uint64_t)base + (uint64_t)d;
    any = true;
    prev_us = false;
  }
  if (!any || prev_us) return false;
  *mag = v;
  return true;
}

/* Python's int(text, base) after its own white-space strip. */
static bool py_int(const char *s, size_t n, int base, int64_t *out) {
  sl_detect_strip(&s, &n);
  bool neg = false;
  if (n && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s++, n--;
  }
  bool prefixed = false;
  if (base == 16 && n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s += 2, n -= 2;
    prefixed = true;
  }
  uint64_t mag;
  bool overflow;
  if (!int_digits(s, n, base, prefixed, &mag, &overflow) || overflow) return false;
  if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX) return false;
  *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
  return true;
}

bool sl_parse_int64_text(const char *s, size_t len, int64_t *v) {
  if (!s) return false;
  sl_detect_strip(&s, &len);
  int64_t x;
  bool ok = len >= 2 && s[0] == '0' && s[1] == 'x' ? py_int(s + 2, len - 2, 16, &x)
                                                    : py_int(s, len, 10, &x);
  if (ok && v) *v = x;
  return ok;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* strtod in the C locale whatever the process locale is. */
static double strtod_c(const char *s) {
  pthread_once(&c_locale_once, c_locale_init);
  return c_locale ? strtod_l(s, NULL, c_locale) : strtod(s, NULL);
}

static bool ieq(const char *s, size_t n, const char *lit) {
  size_t k = strlen(lit);
  if (n != k) return false;
  for (size_t i = 0; i < k; i++) {
    int c = (unsigned char)s[i];
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    if (c != lit[i]) return false;
  }
  return true;
}

/* Python's float(text) after its own white-space strip. */
static bool py_float(const char *s, size_t n, double *out) {
  sl_detect_strip(&s, &n);
  if (n == 0 || n > 4096) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') neg = s[i++] == '-';
  if (ieq(s + i, n - i, "inf") || ieq(s + i, n - i, "infinity")) {
    *out = neg ? -INFINITY : INFINITY;
    return true;
  }
  if (ieq(s + i, n - i, "nan")) {
    *out = neg ? -NAN : NAN;
    return true;
  }
  /* digitpart ("." digitpart?)? | "." digitpart, then (e sign? digitpart)? */
  char clean[4100];
  size_t o = 0;
  if (neg) clean[o++] = '-';
  size_t int_digits_n = 0, frac_digits_n = 0;
  bool prev_us = false, prev_digit = false;
  for (; i < n && (isdig(s[i]) || s[i] == '_'); i++) {
    if (s[i] == '_') {
      if (!prev_digit) return false;
      prev_us = true, prev_digit = false;
      continue;
    }
    clean[o++] = s[i];
    int_digits_n++;
    prev_us = false, prev_digit = true;
  }
  if (prev_us) return false;
  if (i < n && s[i] == '.') {
    clean[o++] = s[i++];
    prev_digit = false;
    for (; i < n && (isdig(s[i]) || s[i] == '_'); i++) {
      if (s[i] == '_') {
        if (!prev_digit) return false;
        prev_us = true, prev_digit = false;
        continue;
      }
      clean[o++] = s[i];
      frac_digits_n++;
      prev_us = false, prev_digit = true;
    }
    if (prev_us) return false;
  }
  if (int_digits_n + frac_digits_n == 0) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    clean[o++] = 'e';
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) clean[o++] = s[i++];
    size_t exp_digits = 0;
    prev_digit = false;
    for (; i < n && (isdig(s[i]) || s[i] == '_'); i++) {
      if (s[i] == '_') {
        if (!prev_digit) return false;
        prev_us = true, prev_digit = false;
        continue;
      }
      clean[o++] = s[i];
      exp_digits++;
      prev_us = false, prev_digit = true;
    }
    if (!exp_digits || prev_us) return false;
  }
  if (i != n) return false;
  clean[o] = '\0';
  *out = strtod_c(clean);
  return true;
}

bool sl_parse_double_text(const char *s, size_t len, double *v) {
  if (!s) return false;
  sl_detect_strip(&s, &len);
  double x;
  if (len >= 2 && s[0] == '0' && s[1] == 'x') {
    /* float(int(text[2:], 16)): exact integer, then rounded once */
    const char *h = s + 2;
    size_t n = len - 2;
    sl_detect_strip(&h, &n);
    char clean[4100];
    size_t o = 0;
    if (n && (h[0] == '+' || h[0] == '-')) {
      if (h[0] == '-') clean[o++] = '-';
      h++, n--;
    }
    bool prefixed = n >= 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X');
    if (prefixed) h += 2, n -= 2;
    uint64_t mag;
    bool overflow;
    if (n > 4000 || !int_digits(h, n, 16, prefixed, &mag, &overflow)) return false;
    clean[o++] = '0';
    clean[o++] = 'x';
    for (size_t i = 0; i < n; i++)
      if (h[i] != '_') clean[o++] = h[i];
    clean[o] = '\0';
    x = strtod_c(clean);
  } else if (!py_float(s, len, &x)) {
    return false;
  }
  if (v) *v = x;
  return true;
}

bool sl_parse_bool_text(const char *s, size_t len, bool *v) {
  if (!s || len == 0 || len > 5) return false;
  static const char *const yes[] = {"yes", "true", "t", "y", "1"};
  static const char *const no[] = {"no", "false", "f", "n", "0"};
  for (size_t i = 0; i < 5; i++) {
    if (ieq(s, len, yes[i])) {
      if (v) *v = true;
      return true;
    }
    if (ieq(s, len, no[i])) {
      if (v) *v = false;
      return true;
    }
  }
  return false;
}

/* pendulum.from_timestamp(seconds): Python rounds the fraction half-even to
 * microseconds. */
static bool micros_from_seconds(double t, int64_t *us) {
  if (!isfinite(t) || t < -62135596800.0 || t >= 253402300800.0) return false;
  double ip;
  double frac = modf(t, &ip);
  double r = nearbyint(frac * 1e6); /* default rounding mode: half-even */
  int64_t sec = (int64_t)ip, micro = (int64_t)r;
  if (micro >= US_PER_SEC) sec += 1, micro -= US_PER_SEC;
  else if (micro < 0) sec -= 1, micro += US_PER_SEC;
  int64_t total = sec * US_PER_SEC + micro;
  if (total < MIN_US || total > MAX_US) return false;
  *us = total;
  return true;
}

bool sl_parse_timestamp_text(const char *s, size_t len, int64_t *micros_utc) {
  if (!s || len == 0) return false;
  parts p;
  int kind = classify(s, len, &p);
  int64_t us;
  if (kind == K_DATETIME) {
    us = parts_micros(&p);
    if (us < MIN_US || us > MAX_US) return false;
  } else if (kind == K_DATE) {
    us = sl_days_from_civil(p.year, (unsigned)p.month, (unsigned)p.day) * US_PER_DAY;
  } else if (kind == K_TIME) {
    return false;
  } else {
    double t;
    if (!py_float(s, len, &t) || !micros_from_seconds(t, &us)) return false;
  }
  if (micros_utc) *micros_utc = us;
  return true;
}

/* Python 3.11's date.fromisoformat: YYYY-MM-DD, YYYYMMDD and ISO week dates
 * (YYYY-Www[-D], YYYYWww[D]), with a correct week calendar. */
static bool fromisoformat_date(const char *str, size_t n, int64_t *days) {
  const unsigned char *s = (const unsigned char *)str;
  if (!digits_at(s, n, 0, 4)) return false;
  int64_t y = num(s, 0, 4);
  bool ext = n > 4 && s[4] == '-';
  size_t q = ext ? 5 : 4;
  if (q < n && s[q] == 'W') {
    q++;
    if (!digits_at(s, n, q, 2)) return false;
    int64_t week = num(s, q, 2), wday = 1;
    q += 2;
    if (q < n) {
      if (ext) {
        if (s[q] != '-') return false;
        q++;
      }
      if (!digits_at(s, n, q, 1) || q + 1 != n) return false;
      wday = s[q] - '0';
    }
    bool long_year = pyear(y) % 7 == 4 || pyear(y - 1) % 7 == 3;
    if (y < 1 || week < 1 || week > (long_year ? 53 : 52) || wday < 1 || wday > 7) return false;
    /* Monday of week 1 is the Monday on or before January 4 */
    int64_t jan4 = sl_days_from_civil(y, 1, 4);
    int64_t wd_jan4 = ((jan4 % 7) + 7 + 3) % 7; /* 1970-01-01 was a Thursday: Monday = 0 */
    int64_t d = jan4 - wd_jan4 + (week - 1) * 7 + (wday - 1);
    int64_t yy;
    unsigned mm, dd;
    sl_civil_from_days(d, &yy, &mm, &dd);
    if (yy < 1 || yy > 9999) return false;
    *days = d;
    return true;
  }
  if (!digits_at(s, n, q, 2)) return false;
  int m = num(s, q, 2);
  q += 2;
  if (ext) {
    if (q >= n || s[q] != '-') return false;
    q++;
  }
  if (!digits_at(s, n, q, 2) || q + 2 != n) return false;
  int d = num(s, q, 2);
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return false;
  *days = sl_days_from_civil(y, (unsigned)m, (unsigned)d);
  return true;
}

static int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

bool sl_parse_date_text(const char *s, size_t len, int32_t *days) {
  if (!s || len == 0) return false;
  int64_t d;
  if (!fromisoformat_date(s, len, &d)) {
    int64_t us;
    if (!sl_parse_timestamp_text(s, len, &us)) return false;
    d = floor_div(us, US_PER_DAY);
  }
  if (days) *days = (int32_t)d;
  return true;
}

/* ---- formatting --------------------------------------------------------------- */

static void put_num(char *o, unsigned v, int width) {
  for (int i = width - 1; i >= 0; i--) {
    o[i] = (char)('0' + v % 10);
    v /= 10;
  }
}

size_t sl_format_date(int32_t days, char out[SL_DATE_BUF]) {
  int64_t y;
  unsigned m, d;
  sl_civil_from_days(days, &y, &m, &d);
  if (y < 1 || y > 9999) {
    out[0] = '\0';
    return 0;
  }
  put_num(out, (unsigned)y, 4);
  out[4] = '-';
  put_num(out + 5, m, 2);
  out[7] = '-';
  put_num(out + 8, d, 2);
  out[10] = '\0';
  return 10;
}

size_t sl_format_time(int64_t micros, char out[SL_TIME_BUF]) {
  if (micros < 0 || micros >= US_PER_DAY) {
    out[0] = '\0';
    return 0;
  }
  unsigned us = (unsigned)(micros % US_PER_SEC);
  int64_t secs = micros / US_PER_SEC;
  put_num(out, (unsigned)(secs / 3600), 2);
  out[2] = ':';
  put_num(out + 3, (unsigned)(secs / 60 % 60), 2);
  out[5] = ':';
  put_num(out + 6, (unsigned)(secs % 60), 2);
  out[8] = '.';
  put_num(out + 9, us, 6);
  out[15] = '\0';
  return 15;
}

size_t sl_format_timestamp(int64_t micros, char out[SL_TIMESTAMP_BUF]) {
  if (micros < MIN_US || micros > MAX_US) {
    out[0] = '\0';
    return 0;
  }
  int64_t days = floor_div(micros, US_PER_DAY);
  sl_format_date((int32_t)days, out);
  out[10] = 'T';
  sl_format_time(micros - days * US_PER_DAY, out + 11);
  memcpy(out + 26, "+00:00", 7);
  return 32;
}
