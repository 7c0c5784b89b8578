/* sluice/log.h — leveled logging to stderr, and the secret registry that
 * redacts every registered secret from logs, errors and traces.
 *
 * Memory rule: the secret registry copies each value it is given and keeps it
 * until sl_secrets_clear() or process exit; callers keep ownership of theirs.
 * All functions here are thread-safe.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "sluice/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sl_log_level {
  SL_LOG_TRACE = 0,
  SL_LOG_DEBUG,
  SL_LOG_INFO,
  SL_LOG_WARN,
  SL_LOG_ERROR,
  SL_LOG_OFF
} sl_log_level;

/* Level from SLUICE_LOG_LEVEL (or RUNTIME__LOG_LEVEL) at first use; default WARN. */
sl_log_level sl_log_get_level(void);
void sl_log_set_level(sl_log_level lvl);
/* "trace" "debug" "info" "warning"/"warn" "error" "off", any case; -1 if unknown. */
int sl_log_level_parse(const char *name);
const char *sl_log_level_name(sl_log_level lvl);

/* Where log lines go; default stderr. Pass NULL to restore stderr.
 * The sink gets one complete, already redacted line without the newline. */
typedef void (*sl_log_sink)(void *ud, sl_log_level lvl, const char *line);
void sl_log_set_sink(sl_log_sink sink, void *ud);

void sl_log(sl_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_logv(sl_log_level lvl, const char *fmt, va_list ap);

#define SL_TRACE(...) sl_log(SL_LOG_TRACE, __VA_ARGS__)
#define SL_DEBUG(...) sl_log(SL_LOG_DEBUG, __VA_ARGS__)
#define SL_INFO(...) sl_log(SL_LOG_INFO, __VA_ARGS__)
#define SL_WARN(...) sl_log(SL_LOG_WARN, __VA_ARGS__)
#define SL_ERROR(...) sl_log(SL_LOG_ERROR, __VA_ARGS__)

/* ---- secrets -------------------------------------------------------------- */

/* Register a value to be replaced by "***" wherever it appears in text that
 * passes through sl_redact (every log line, error message and trace).
 * Values shorter than 4 bytes are ignored (they would redact ordinary words);
 * the URL-encoded and the JSON-escaped forms of the value are registered too. */
void sl_secret_register(const char *value);
void sl_secret_register_n(const char *value, size_t len);
void sl_secrets_clear(void);
size_t sl_secrets_count(void);

/* Append text to out with every registered secret replaced by "***". */
sl_status sl_redact_append(sl_buf *out, const char *text, size_t len);
/* Redact in place into a fixed buffer (truncating); returns dst. */
char *sl_redact_into(char *dst, size_t size, const char *text);

/* True if a config key names a secret: contains token, password, secret, key
 * (as a word part: "api_key", "access_token", "client_secret"), credentials. */
int sl_key_is_secret(const char *key);

#ifdef __cplusplus
}
#endif
#endif
