/* sluice/detect.h — value type detection and text coercions, as dlt does them:
 * ISO 8601 timestamps/dates/times (pendulum's parser, then its "common" format
 * fallback, exactly as dlt's detections call them), numbers and booleans in
 * text, and formatting back for destinations.
 *
 * Memory rule: nothing here allocates; inputs are (pointer, length) views that
 * need no NUL, and outputs go to caller-supplied variables or arrays. All
 * functions are thread-safe and run on every string of every record, so each
 * rejects the common case (not a date, not a number) within a few comparisons.
 *
 * Time values: timestamps are microseconds since 1970-01-01T00:00:00Z (UTC),
 * dates are days since 1970-01-01, times are microseconds since midnight.
 * Years 1..9999 only (Python's datetime range).
 */
#ifndef SLUICE_DETECT_H
#define SLUICE_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- dates and times in text ---------------------------------------------- */

/* dlt's iso_timestamp detection: true when s is a date with a time of day.
 * Accepted, as pendulum 3 parses them: extended "2024-01-02T03:04:05" and basic
 * "20240102T030405" forms, 'T' or ' ' between date and time, time as hh,
 * hh:mm, hh:mm:ss (extended) or hhmm, hhmmss (basic), fractional seconds after
 * '.' or ',' (any number of digits, truncated to microseconds), a 'Z' or
 * +hh:mm / +hhmm / +hh offset; ordinal ("2024-032") and week ("2024-W05-3")
 * dates; and pendulum's fallback "common" forms "2024/01/02 03:04:05",
 * "2024:01:02 03:04", "20240102 3:4". A date alone, a time alone, an invalid
 * calendar date ("2024-02-30") or field ("25:00") is not a timestamp.
 * A value without an offset is taken as UTC; one with an offset is converted
 * to UTC. micros_utc may be NULL. */
bool sl_detect_iso_timestamp(const char *s, size_t len, int64_t *micros_utc);

/* dlt's iso_date detection: true when s is a date alone in a form the parser
 * above accepts ("2024-01-02", "20240102", "2024-01", "2024-032",
 * "2024-W05-3", "2024/01/02", and — as dlt does — a bare year "2024").
 * days may be NULL. */
bool sl_detect_iso_date(const char *s, size_t len, int32_t *days);

/* A time of day alone ("03:04:05.123", "T0304", "3:4", "03:04:05+02:00"),
 * converted to UTC when it has an offset (dlt's ensure_pendulum_time).
 * micros (since midnight) may be NULL. */
bool sl_detect_iso_time(const char *s, size_t len, int64_t *micros);

/* dlt's optional "timestamp" detection for numbers: |v - now| <= 5 years
 * (365-day years), both in seconds since the epoch. */
bool sl_detect_timestamp_number(double v, double now_seconds);

/* ---- coercions of text (dlt's coerce_value from "text") -------------------- */

/* Text -> bigint like dlt's int(value.strip()) (or int(value[2:], 16) after a
 * "0x" prefix): Python whitespace around is ignored; an optional sign, ASCII
 * digits with single '_' between digits, leading zeros allowed. Rejects "",
 * "+", "12.0", "1e3", "1__0", and values outside int64 (dlt would keep a
 * Python big int; a bigint column cannot hold it). */
bool sl_parse_int64_text(const char *s, size_t len, int64_t *v);

/* Text -> double like Python's float(value.strip()) (or a "0x" hex integer):
 * decimal and exponent forms with '_' between digits, "inf", "infinity",
 * "nan" in any case with an optional sign. Out-of-range magnitudes become
 * ±inf or 0 as in Python. */
bool sl_parse_double_text(const char *s, size_t len, double *v);

/* Text -> bool like dlt's str2bool: case-insensitive "true", "t", "yes", "y",
 * "1" / "false", "f", "no", "n", "0"; no whitespace allowed. */
bool sl_parse_bool_text(const char *s, size_t len, bool *v);

/* Text -> timestamp like dlt's coercion: an ISO timestamp, or an ISO date
 * (midnight UTC), or a number (seconds since the epoch, rounded half-even to
 * microseconds). A time alone is rejected. */
bool sl_parse_timestamp_text(const char *s, size_t len, int64_t *micros_utc);

/* Text -> date like dlt's coercion: an ISO date, or the UTC day of a timestamp
 * or of a number of seconds since the epoch. */
bool sl_parse_date_text(const char *s, size_t len, int32_t *days);

/* ---- formatting back ------------------------------------------------------- */

/* "2024-01-02T03:04:05.123456+00:00": ISO 8601 with 'T', always six fraction
 * digits and an explicit UTC offset. DuckDB casts it to TIMESTAMP WITH TIME
 * ZONE exactly (and to TIMESTAMP when the offset is dropped); Athena/Trino and
 * this module's parser read it too. Returns the length (32), or 0 with out ""
 * when micros is outside years 1..9999. */
#define SL_TIMESTAMP_BUF 40
size_t sl_format_timestamp(int64_t micros, char out[SL_TIMESTAMP_BUF]);
/* "2024-01-02"; returns 10, or 0 outside years 1..9999. */
#define SL_DATE_BUF 16
size_t sl_format_date(int32_t days, char out[SL_DATE_BUF]);
/* "03:04:05.123456"; returns 15, or 0 when micros is not within one day. */
#define SL_TIME_BUF 24
size_t sl_format_time(int64_t micros, char out[SL_TIME_BUF]);

/* ---- calendar helpers ------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (no range check). */
int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d);
/* The date of a day number. */
void sl_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Strip what Python's str.strip() strips (ASCII and Unicode white space)
 * from both ends of *s / *len. */
void sl_detect_strip(const char **s, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
