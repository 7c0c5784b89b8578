/* Tests for value detection and text coercions: what dlt (pendulum 3's ISO
 * parser and its "common" fallback, Python's int()/float(), dlt's str2bool)
 * accepts and rejects, the values it produces, and formatting back. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/detect.h"
#include "test.h"

#define MIN_US INT64_C(-62135596800000000)
#define MAX_US INT64_C(253402300799999999)

static bool ts(const char *s, int64_t *us) { return sl_detect_iso_timestamp(s, strlen(s), us); }
static bool dt(const char *s, int32_t *d) { return sl_detect_iso_date(s, strlen(s), d); }
static bool tm(const char *s, int64_t *us) { return sl_detect_iso_time(s, strlen(s), us); }

typedef struct ts_case {
  const char *text;
  int64_t micros;
} ts_case;

TEST(timestamps_accepted) {
  static const ts_case cases[] = {
      {"2024-01-02T03:04:05.123456Z", INT64_C(1704164645123456)},
      {"2024-01-02T03:04:05.123456+05:30", INT64_C(1704144845123456)},
      {"2024-01-02 03:04:05.123456+0530", INT64_C(1704144845123456)},
      {"2024-01-02T03:04:05-08", INT64_C(1704193445000000)},
      {"2024-01-02T03:04:05.123456789Z", INT64_C(1704164645123456)}, /* truncated, not rounded */
      {"2024-01-02T03:04:05.1234569999999Z", INT64_C(1704164645123456)},
      {"2024-01-02T03:04:05,5Z", INT64_C(1704164645500000)},
      {"2024-01-02T03:04:05", INT64_C(1704164645000000)}, /* naive: UTC */
      {"2024-01-02 03:04:05", INT64_C(1704164645000000)},
      {"20240102T030405", INT64_C(1704164645000000)},
      {"20240102T030405Z", INT64_C(1704164645000000)},
      {"20240102T0304", INT64_C(1704164640000000)},
      {"20240102T03:04", INT64_C(1704164640000000)}, /* pendulum allows this mix without seconds */
      {"2024-01-02T03", INT64_C(1704164400000000)},
      {"2024-01-02T03:04", INT64_C(1704164640000000)},
      {"2024-01-02T03Z", INT64_C(1704164400000000)},
      {"2024-032T10:00", INT64_C(1706781600000000)},   /* ordinal date */
      {"2024-W05-4T00:00", INT64_C(1706745600000000)}, /* week date */
      {"2024-01T10:00:00", INT64_C(1704103200000000)}, /* year-month + time */
      {"2024/01/01 10:30", INT64_C(1704105000000000)}, /* pendulum's common fallback */
      {"2024:01:01 10:30", INT64_C(1704105000000000)},
      {"2024/01/01 10:30\n", INT64_C(1704105000000000)}, /* Python's $ before a final \n */
      {"20240102 03:04:05", INT64_C(1704164645000000)},
      {"2024/01/02 03:04:05|5", INT64_C(1704164645500000)},
      {"20241:2", INT64_C(1704070920000000)},
      {"2024 1:2", INT64_C(1704070920000000)},
      {"0001-01-01T00:00:00Z", MIN_US},
      {"9999-12-31T23:59:59.999999Z", MAX_US},
      {"1969-12-31T23:59:59.999999Z", -1},
      {"1970-01-01T00:00:00Z", 0},
      {"2024-01-02T03:04:05+05:", INT64_C(1704146645000000)}, /* pendulum: minutes optional */
      {"2024-02-29T12:00:00Z", INT64_C(1709208000000000)},
      {"2000-02-29T00:00:00Z", INT64_C(951782400000000)},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int64_t us = 42;
    CHECK_MSG(ts(cases[i].text, &us), "not a timestamp: \"%s\"", cases[i].text);
    CHECK_MSG(us == cases[i].micros, "\"%s\": %lld != %lld", cases[i].text, (long long)us,
              (long long)cases[i].micros);
  }
  CHECK(sl_detect_iso_timestamp("2024-01-02T03:04:05Z", 20, NULL));
}

TEST(timestamps_rejected) {
  static const char *const cases[] = {
      "", "2024", "12:00", "2024-01-01", "20240101", "2024-13-01T00:00:00",
      "2024-02-30T00:00:00", "2023-02-29T00:00:00", "2024-00-10T00:00:00", "2024-01-00T00:00:00",
      "2024-01-01T24:00:00", "2024-01-01T23:60:00", "2024-01-01T23:59:60", "2024-01-01T",
      "2024-01-01T10:00:00 ", " 2024-01-01T10:00:00", "2024-01-01T10:00:00+25:00",
      "2024-01-01T10:00:00+24:00", "2024-01-01T10:00:00-24:00", "2024-01-01T10:00:00Zx",
      "2024-01-01T10:00:00.Z", "2024-01-01T10:00:00.", "2024-01-01T10:00:00+05:30:00",
      "2024-01-01T10:00:00/2024-01-02T10:00:00", "P1D", "hello world", "1700000000",
      "12345678901234", "2024-1-1T10:00", "2024-01-01T1:00", "2024-01-01t10:00:00",
      "20240102T03:04:05", /* basic date with extended seconds: pendulum refuses */
      "2024-01-02T0304",   /* extended date with basic time */
      "2024/01/01 10:", "2024/01/01 10:30:", "2024/01/01 10:30.1234567890",
      "0000-01-01T00:00:00", "0001-01-01T00:00:00+01:00", /* before year 1 in UTC */
      "2024-031T10:00",   /* pendulum 3 maps the last day of a month to day 0 */
      "2024-W05-3T10:00", /* the same quirk through the week calendar */
      "2024-W54-1T10:00", "2024-W01-8T10:00", "2024-367T10:00", "202410:30",
      "2024-01-01T10:00:00\n", "2024-01-01 10:00:00 UTC", "Tue, 02 Jan 2024 03:04:05 GMT",
      "2024-01-01T10:00:00+5", "2024-01-02T03:04:05+0a:00", "２０２４-01-01T10:00:00",
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int64_t us = 42;
    CHECK_MSG(!ts(cases[i], &us), "taken as a timestamp: \"%s\"", cases[i]);
    CHECK(us == 42);
  }
  CHECK(!sl_detect_iso_timestamp(NULL, 0, NULL));
  /* NUL inside is data, not an end */
  CHECK(!sl_detect_iso_timestamp("2024-01-02T03:04:05\0Z", 21, NULL));
  CHECK(sl_detect_iso_timestamp("2024-01-02T03:04:05\0Z", 19, NULL));
}

TEST(dates) {
  int32_t d = 0;
  CHECK(dt("2024-01-02", &d));
  CHECK_INT(d, 19724);
  CHECK(dt("20240102", &d));
  CHECK_INT(d, 19724);
  CHECK(dt("2024/01/02", &d));
  CHECK_INT(d, 19724);
  CHECK(dt("2024:01:02", &d));
  CHECK_INT(d, 19724);
  CHECK(dt("2024-01", &d));
  CHECK_INT(d, 19723);
  CHECK(dt("2024", &d)); /* dlt's iso_date takes a bare year */
  CHECK_INT(d, 19723);
  CHECK(dt("2024-032", &d));
  CHECK_INT(d, 19754);
  CHECK(dt("2024032", &d));
  CHECK_INT(d, 19754);
  CHECK(dt("2024-W05-4", &d));
  CHECK_INT(d, 19754);
  CHECK(dt("2024W054", &d));
  CHECK_INT(d, 19754);
  CHECK(dt("2024W05", &d));
  CHECK_INT(d, 19751);
  CHECK(dt("0001-01-01", &d));
  CHECK_INT(d, -719162);
  CHECK(dt("9999-12-31", &d));
  CHECK_INT(d, 2932896);
  CHECK(dt("0304", &d)); /* year 304 */
  CHECK_INT(d, -608495);
  static const char *const no[] = {"2024-01-02T00:00:00", "2024-13-01", "24-01-01", "2024-1-1",
                                   "abcd", "2024-02-30", "0000", "2024-031", "2024-01-02 ",
                                   "12:00", "", "2024-01-02x", "2024--01"};
  for (size_t i = 0; i < sizeof no / sizeof *no; i++)
    CHECK_MSG(!dt(no[i], NULL), "taken as a date: \"%s\"", no[i]);
}

TEST(times) {
  int64_t us = 0;
  CHECK(tm("03:04:05", &us));
  CHECK_INT(us, INT64_C(11045000000));
  CHECK(tm("03:04:05.5", &us));
  CHECK_INT(us, INT64_C(11045500000));
  CHECK(tm("03:04", &us));
  CHECK_INT(us, INT64_C(11040000000));
  CHECK(tm("T03:04", &us));
  CHECK_INT(us, INT64_C(11040000000));
  CHECK(tm("T0304", &us));
  CHECK(tm("T030405", &us));
  CHECK_INT(us, INT64_C(11045000000));
  CHECK(tm("3:4", &us)); /* common fallback */
  CHECK_INT(us, INT64_C(11040000000));
  CHECK(tm(" 03:04", &us));
  CHECK(tm("03:04:05+02:00", &us)); /* to UTC */
  CHECK_INT(us, INT64_C(3845000000));
  CHECK(tm("00:30+01:00", &us)); /* wraps to the previous day's time */
  CHECK_INT(us, INT64_C(84600000000));
  CHECK(tm("23:59:59.999999Z", &us));
  CHECK_INT(us, INT64_C(86399999999));
  static const char *const no[] = {"T03:04:05", "24:00", "03:60", "0304", "12", "",
                                   "2024-01-02T03:04", "03:04:05 ", "3:", "a3:04"};
  for (size_t i = 0; i < sizeof no / sizeof *no; i++)
    CHECK_MSG(!tm(no[i], NULL), "taken as a time: \"%s\"", no[i]);
}

TEST(timestamp_numbers) {
  double now = 1700000000.0;
  CHECK(sl_detect_timestamp_number(now, now));
  CHECK(sl_detect_timestamp_number(now - 4 * 31536000.0, now));
  CHECK(sl_detect_timestamp_number(now + 5 * 31536000.0, now));
  CHECK(!sl_detect_timestamp_number(now + 5 * 31536000.0 + 1, now));
  CHECK(!sl_detect_timestamp_number(12, now));
}

TEST(int_text) {
  int64_t v = 0;
  struct {
    const char *s;
    int64_t v;
  } ok[] = {{"12", 12},       {"-12", -12},   {"+12", 12},     {" 12 ", 12},   {"\t12\n", 12},
            {"1_000", 1000},  {"007", 7},     {"0", 0},        {"-0", 0},      {"0x1F", 31},
            {"0x1f", 31},     {"0x-1f", -31}, {"0x 1f", 31},   {"0x0x1f", 31}, {"0xf_f", 255},
            {"9223372036854775807", INT64_MAX}, {"-9223372036854775808", INT64_MIN},
            {"0x7fffffffffffffff", INT64_MAX}};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    CHECK_MSG(sl_parse_int64_text(ok[i].s, strlen(ok[i].s), &v), "rejected \"%s\"", ok[i].s);
    CHECK_MSG(v == ok[i].v, "\"%s\" -> %lld", ok[i].s, (long long)v);
  }
  static const char *const no[] = {"12.0", "1e3", "+", "-", "", " ", "1__0", "_1", "1_", "0x",
                                   "0x_1f", "0X1F", "9223372036854775808", "-9223372036854775809",
                                   "12a", "a12", "1 2", "--1", "0b101", "١٢"};
  for (size_t i = 0; i < sizeof no / sizeof *no; i++)
    CHECK_MSG(!sl_parse_int64_text(no[i], strlen(no[i]), &v), "accepted \"%s\"", no[i]);
}

TEST(double_text) {
  double v = 0;
  struct {
    const char *s;
    double v;
  } ok[] = {{"1.5", 1.5},     {"-1.5e3", -1500},  {".5", 0.5},      {"5.", 5},
            {"1_000.5", 1000.5}, {" 2.5 ", 2.5},  {"+.5e-3", 0.0005}, {"12", 12},
            {"1E2", 100},       {"0x10", 16},       {"1e1_0", 1e10},  {"0.1", 0.1},
            {"1e-400", 0},      {"0x0x_10", 16}};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    CHECK_MSG(sl_parse_double_text(ok[i].s, strlen(ok[i].s), &v), "rejected \"%s\"", ok[i].s);
    CHECK_MSG(v == ok[i].v, "\"%s\" -> %.17g", ok[i].s, v);
  }
  CHECK(sl_parse_double_text("inf", 3, &v) && isinf(v) && v > 0);
  CHECK(sl_parse_double_text("-Infinity", 9, &v) && isinf(v) && v < 0);
  CHECK(sl_parse_double_text("NaN", 3, &v) && isnan(v));
  CHECK(sl_parse_double_text("1e400", 5, &v) && isinf(v));
  static const char *const no[] = {"1e", "e3", ".", "1.2.3", "1,5", "0x1p3", "nan(1)", "", "_1",
                                   "1__0", "1_.5", "1._5", "infinit", "1e+", "+-1", "0x", "0x_10"};
  for (size_t i = 0; i < sizeof no / sizeof *no; i++)
    CHECK_MSG(!sl_parse_double_text(no[i], strlen(no[i]), &v), "accepted \"%s\"", no[i]);
}

TEST(bool_text) {
  bool b = false;
  static const char *const yes[] = {"true", "TRUE", "True", "t", "T", "yes", "YES", "y", "Y", "1"};
  static const char *const no[] = {"false", "FALSE", "f", "F", "no", "No", "n", "N", "0"};
  static const char *const bad[] = {" true", "true ", "2", "", "truee", "on", "off", "-1", "01"};
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
    b = false;
    CHECK_MSG(sl_parse_bool_text(yes[i], strlen(yes[i]), &b) && b, "\"%s\"", yes[i]);
  }
  for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
    b = true;
    CHECK_MSG(sl_parse_bool_text(no[i], strlen(no[i]), &b) && !b, "\"%s\"", no[i]);
  }
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK_MSG(!sl_parse_bool_text(bad[i], strlen(bad[i]), &b), "accepted \"%s\"", bad[i]);
}

TEST(timestamp_and_date_coercion) {
  int64_t us = 0;
  int32_t d = 0;
  CHECK(sl_parse_timestamp_text("2024-01-02T03:04:05Z", 20, &us));
  CHECK_INT(us, INT64_C(1704164645000000));
  CHECK(sl_parse_timestamp_text("2024-01-02", 10, &us));
  CHECK_INT(us, INT64_C(19724) * 86400 * 1000000);
  CHECK(sl_parse_timestamp_text("1700000000.5", 12, &us));
  CHECK_INT(us, INT64_C(1700000000500000));
  CHECK(sl_parse_timestamp_text("-1.5", 4, &us));
  CHECK_INT(us, -1500000);
  CHECK(sl_parse_timestamp_text("1.0000005", 9, &us));
  CHECK_INT(us, 1000001);
  CHECK(!sl_parse_timestamp_text("03:04", 5, &us));
  CHECK(!sl_parse_timestamp_text("nan", 3, &us));
  CHECK(!sl_parse_timestamp_text("inf", 3, &us));
  CHECK(!sl_parse_timestamp_text("abc", 3, &us));
  CHECK(!sl_parse_timestamp_text("1e20", 4, &us));
  CHECK(sl_parse_date_text("2024-01-02", 10, &d));
  CHECK_INT(d, 19724);
  CHECK(sl_parse_date_text("2024-W05-3", 10, &d)); /* Python's fromisoformat: correct */
  CHECK_INT(d, 19753);
  CHECK(sl_parse_date_text("2024-01-02T23:00:00-05:00", 25, &d)); /* the UTC day */
  CHECK_INT(d, 19725);
  CHECK(sl_parse_date_text("1700000000", 10, &d));
  CHECK_INT(d, 19675);
  CHECK(sl_parse_date_text("-1", 2, &d));
  CHECK_INT(d, -1);
  CHECK(!sl_parse_date_text("03:04", 5, &d));
  CHECK(!sl_parse_date_text("2024-02-30", 10, &d));
}

TEST(formatting) {
  char out[SL_TIMESTAMP_BUF], dout[SL_DATE_BUF], tout[SL_TIME_BUF];
  CHECK_INT(sl_format_timestamp(INT64_C(1704164645123456), out), 32);
  CHECK_STR(out, "2024-01-02T03:04:05.123456+00:00");
  CHECK_INT(sl_format_timestamp(-1, out), 32);
  CHECK_STR(out, "1969-12-31T23:59:59.999999+00:00");
  CHECK_INT(sl_format_timestamp(0, out), 32);
  CHECK_STR(out, "1970-01-01T00:00:00.000000+00:00");
  CHECK_INT(sl_format_timestamp(MIN_US, out), 32);
  CHECK_STR(out, "0001-01-01T00:00:00.000000+00:00");
  CHECK_INT(sl_format_timestamp(MAX_US, out), 32);
  CHECK_STR(out, "9999-12-31T23:59:59.999999+00:00");
  CHECK_INT(sl_format_timestamp(MAX_US + 1, out), 0);
  CHECK_STR(out, "");
  CHECK_INT(sl_format_timestamp(MIN_US - 1, out), 0);
  CHECK_INT(sl_format_timestamp(INT64_MIN, out), 0);
  CHECK_INT(sl_format_date(19724, dout), 10);
  CHECK_STR(dout, "2024-01-02");
  CHECK_INT(sl_format_date(-719162, dout), 10);
  CHECK_STR(dout, "0001-01-01");
  CHECK_INT(sl_format_date(-719163, dout), 0);
  CHECK_INT(sl_format_date(INT32_MAX, dout), 0);
  CHECK_INT(sl_format_time(INT64_C(11045500000), tout), 15);
  CHECK_STR(tout, "03:04:05.500000");
  CHECK_INT(sl_format_time(INT64_C(86400000000), tout), 0);
  CHECK_INT(sl_format_time(-1, tout), 0);
}

TEST(format_then_parse_round_trips) {
  char out[SL_TIMESTAMP_BUF], dout[SL_DATE_BUF];
  uint64_t x = 88172645463325252ull; /* xorshift: reproducible */
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int64_t us = MIN_US + (int64_t)(x % (uint64_t)(MAX_US - MIN_US + 1));
    size_t n = sl_format_timestamp(us, out);
    CHECK(n == 32);
    int64_t back = 0;
    CHECK_MSG(sl_detect_iso_timestamp(out, n, &back) && back == us, "%s -> %lld", out,
              (long long)back);
    int32_t days = (int32_t)(us / (INT64_C(86400) * 1000000));
    if (sl_format_date(days, dout)) {
      int32_t dback = 0;
      CHECK_MSG(sl_detect_iso_date(dout, 10, &dback) && dback == days, "%s", dout);
    }
  }
}

TEST(civil_calendar) {
  int64_t y;
  unsigned m, d;
  for (int64_t day = -800000; day <= 3000000; day += 997) {
    sl_civil_from_days(day, &y, &m, &d);
    CHECK(sl_days_from_civil(y, m, d) == day);
  }
  CHECK_INT(sl_days_from_civil(1970, 1, 1), 0);
  CHECK_INT(sl_days_from_civil(2000, 3, 1), 11017);
  sl_civil_from_days(-1, &y, &m, &d);
  CHECK(y == 1969 && m == 12 && d == 31);
}

TEST(python_strip) {
  const char *s = " \t\xc2\xa0" "abc" "\xe2\x80\x80\xe3\x80\x80\x1f\n";
  size_t n = strlen(s);
  sl_detect_strip(&s, &n);
  CHECK_INT(n, 3);
  CHECK(memcmp(s, "abc", 3) == 0);
  const char *t = "\xe2\x80\x8b" "x"; /* U+200B is not white space for Python */
  n = strlen(t);
  sl_detect_strip(&t, &n);
  CHECK_INT(n, 4);
  const char *u = "\xc2";
  n = 1;
  sl_detect_strip(&u, &n);
  CHECK_INT(n, 1);
}

/* The detectors run on every string; the common rejections must stay cheap. */
TEST(rejects_quickly) {
  static const char *const words[] = {"hello", "https://example.com/a/b", "12345", "user@x.io",
                                      "a much longer piece of text that is clearly not a date"};
  clock_t t0 = clock();
  int found = 0;
  for (int i = 0; i < 2000000; i++) {
    const char *w = words[i % 5];
    found += sl_detect_iso_timestamp(w, strlen(w), NULL);
  }
  double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  CHECK_INT(found, 0);
  CHECK_MSG(secs < 2.0, "2M rejections took %.3f s", secs);
}

TEST_MAIN()
