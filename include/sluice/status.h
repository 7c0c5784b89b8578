/* sluice/status.h — result codes and the error record every fallible call fills.
 *
 * Memory rule: an sl_error is a plain value owned by the caller (usually on the
 * stack); it holds copies of every string it carries, so it never dangles.
 * Every public function that can fail returns an sl_status and, when given a
 * non-NULL sl_error *, writes what went wrong and where into it.
 */
#ifndef SLUICE_STATUS_H
#define SLUICE_STATUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One table: name, message. The enum, sl_status_name() and sl_status_str()
 * are generated from it so they can never disagree. Codes are grouped so that
 * the CLI can map a code to an exit status (see sl_status_exit_code). */
#define SL_STATUS_MAP(X)                                                        \
  X(OK, "success")                                                              \
  X(NOMEM, "out of memory")                                                     \
  X(TOO_LARGE, "value exceeds the configured size limit")                       \
  X(INVALID_ARG, "invalid argument")                                            \
  X(IO, "input/output error")                                                   \
  X(NOT_FOUND, "not found")                                                     \
  X(EXISTS, "already exists")                                                   \
  X(LOCKED, "locked by another process")                                        \
  X(JSON_SYNTAX, "invalid JSON")                                                \
  X(JSON_DEPTH, "JSON nesting exceeds the depth limit")                         \
  X(JSON_UTF8, "invalid UTF-8 in JSON text")                                    \
  X(TOML_SYNTAX, "invalid TOML")                                                \
  X(YAML_SYNTAX, "invalid YAML")                                                \
  X(YAML_ALIAS, "YAML alias expansion exceeds the limit")                       \
  X(CONFIG_MISSING, "required configuration value is missing")                  \
  X(CONFIG_INVALID, "invalid configuration")                                    \
  X(HTTP, "HTTP request failed")                                                \
  X(SOURCE, "source error")                                                     \
  X(SCHEMA, "schema error")                                                     \
  X(CONTRACT, "schema contract violated")                                       \
  X(DESTINATION, "destination error")                                           \
  X(ABORTED, "aborted")                                                         \
  X(INTERNAL, "internal error")

typedef enum sl_status {
#define SL__STATUS_ENUM(name, msg) SL_##name,
  SL_STATUS_MAP(SL__STATUS_ENUM)
#undef SL__STATUS_ENUM
  SL_STATUS_COUNT_
} sl_status;

/* "SL_JSON_SYNTAX" style name of a code; "SL_UNKNOWN" for out-of-range. */
const char *sl_status_name(sl_status st);
/* Human message of a code ("invalid JSON"). Never NULL. */
const char *sl_status_str(sl_status st);

/* What went wrong and where. Fields that do not apply are zero / empty.
 * line and col are 1-based; offset is a 0-based byte offset. */
typedef struct sl_error {
  sl_status code;
  char msg[512];     /* the specific message, already redacted of secrets */
  char file[256];    /* file (or "<string>", "<stdin>") the error is in */
  int line, col;     /* 0 = unknown */
  int64_t offset;    /* byte offset in the input; -1 = unknown */
  char url[512];     /* request URL (secrets redacted) */
  int http_status;   /* 0 = none */
  char table[128];   /* destination table, where it applies */
  char column[128];  /* column, where it applies */
} sl_error;

/* Reset to "no error". Safe on NULL. */
void sl_error_clear(sl_error *err);

/* Set code and printf-style message (redacted of registered secrets).
 * Returns code so callers can write `return sl_error_set(err, SL_IO, ...)`.
 * Safe on NULL err. Leaves location fields as they are. */
sl_status sl_error_set(sl_error *err, sl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Location setters; each returns err's code. Safe on NULL. */
void sl_error_at(sl_error *err, const char *file, int line, int col, int64_t offset);
void sl_error_http(sl_error *err, const char *url, int http_status);
void sl_error_where(sl_error *err, const char *table, const char *column);

/* Prefix the message with context: "while loading x: <old msg>". */
void sl_error_prefix(sl_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line for a user: "file:line:col: message (HTTP 429, URL …) [table.column]".
 * Writes at most size bytes (always NUL-terminated when size > 0); returns out. */
char *sl_error_format(const sl_error *err, char *out, size_t size);

/* Process exit code for a status: 0 ok, 2 usage/config, 3 source, 4 load/destination,
 * 5 locked, 1 anything else. Documented in docs/cli.md. */
int sl_status_exit_code(sl_status st);

#ifdef __cplusplus
}
#endif
#endif
