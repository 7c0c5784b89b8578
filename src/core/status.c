/* Status names and messages (generated from SL_STATUS_MAP), and the error
 * record's setters and formatter. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sluice/log.h"
#include "sluice/status.h"

static const char *const status_names[] = {
#define SL__NAME(name, msg) "SL_" #name,
    SL_STATUS_MAP(SL__NAME)
#undef SL__NAME
};

static const char *const status_msgs[] = {
#define SL__MSG(name, msg) msg,
    SL_STATUS_MAP(SL__MSG)
#undef SL__MSG
};

const char *sl_status_name(sl_status st) {
  if ((unsigned)st >= SL_STATUS_COUNT_) return "SL_UNKNOWN";
  return status_names[st];
}

const char *sl_status_str(sl_status st) {
  if ((unsigned)st >= SL_STATUS_COUNT_) return "unknown status";
  return status_msgs[st];
}

void sl_error_clear(sl_error *err) {
  if (!err) return;
  memset(err, 0, sizeof *err);
  err->offset = -1;
}

static void copy_field(char *dst, size_t size, const char *src) {
  if (!src) {
    dst[0] = '\0';
    return;
  }
  sl_redact_into(dst, size, src);
}

sl_status sl_error_set(sl_error *err, sl_status code, const char *fmt, ...) {
  if (!err) return code;
  char raw[sizeof err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  err->code = code;
  copy_field(err->msg, sizeof err->msg, raw);
  return code;
}

void sl_error_at(sl_error *err, const char *file, int line, int col, int64_t offset) {
  if (!err) return;
  if (file) copy_field(err->file, sizeof err->file, file);
  err->line = line;
  err->col = col;
  err->offset = offset;
}

void sl_error_http(sl_error *err, const char *url, int http_status) {
  if (!err) return;
  if (url) copy_field(err->url, sizeof err->url, url);
  err->http_status = http_status;
}

void sl_error_where(sl_error *err, const char *table, const char *column) {
  if (!err) return;
  if (table) copy_field(err->table, sizeof err->table, table);
  if (column) copy_field(err->column, sizeof err->column, column);
}

void sl_error_prefix(sl_error *err, const char *fmt, ...) {
  if (!err) return;
  char pre[256], out[sizeof pre + sizeof err->msg + 2];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(pre, sizeof pre, fmt, ap);
  va_end(ap);
  snprintf(out, sizeof out, "%s: %s", pre, err->msg);
  copy_field(err->msg, sizeof err->msg, out);
}

char *sl_error_format(const sl_error *err, char *out, size_t size) {
  if (!out || size == 0) return out;
  out[0] = '\0';
  if (!err) return out;
  size_t n = 0;
#define EMIT(...)                                                   \
  do {                                                              \
    if (n < size) {                                                 \
      int w_ = snprintf(out + n, size - n, __VA_ARGS__);            \
      if (w_ > 0) n += (size_t)w_;                                  \
    }                                                               \
  } while (0)
  if (err->file[0]) {
    EMIT("%s:", err->file);
    if (err->line > 0) {
      EMIT("%d:", err->line);
      if (err->col > 0) EMIT("%d:", err->col);
    } else if (err->offset >= 0) {
      EMIT("byte %lld:", (long long)err->offset);
    }
    EMIT(" ");
  }
  EMIT("%s", err->msg[0] ? err->msg : sl_status_str(err->code));
  if (err->http_status > 0 || err->url[0]) {
    EMIT(" (");
    if (err->http_status > 0) EMIT("HTTP %d%s", err->http_status, err->url[0] ? ", " : "");
    if (err->url[0]) EMIT("%s", err->url);
    EMIT(")");
  }
  if (err->table[0]) {
    EMIT(" [table %s", err->table);
    if (err->column[0]) EMIT(", column %s", err->column);
    EMIT("]");
  }
#undef EMIT
  if (n >= size) out[size - 1] = '\0';
  return out;
}

int sl_status_exit_code(sl_status st) {
  switch (st) {
    case SL_OK:
      return 0;
    case SL_INVALID_ARG:
    case SL_CONFIG_MISSING:
    case SL_CONFIG_INVALID:
    case SL_TOML_SYNTAX:
    case SL_YAML_SYNTAX:
    case SL_YAML_ALIAS:
      return 2;
    case SL_HTTP:
    case SL_SOURCE:
    case SL_JSON_SYNTAX:
    case SL_JSON_DEPTH:
    case SL_JSON_UTF8:
      return 3;
    case SL_DESTINATION:
    case SL_SCHEMA:
    case SL_CONTRACT:
      return 4;
    case SL_LOCKED:
      return 5;
    default:
      return 1;
  }
}
