/* Leveled logging to stderr (or a sink), and the process-wide secret registry
 * through which every log line and error message is redacted. */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sluice/log.h"

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_level = -1; /* -1: not read from the environment yet */
static sl_log_sink log_sink;
static void *log_sink_ud;

static const char *const level_names[] = {"trace", "debug", "info", "warning", "error", "off"};

const char *sl_log_level_name(sl_log_level lvl) {
  return (unsigned)lvl <= SL_LOG_OFF ? level_names[lvl] : "?";
}

int sl_log_level_parse(const char *name) {
  if (!name) return -1;
  for (int i = 0; i <= SL_LOG_OFF; i++)
    if (strcasecmp(name, level_names[i]) == 0) return i;
  if (strcasecmp(name, "warn") == 0) return SL_LOG_WARN;
  if (strcasecmp(name, "critical") == 0) return SL_LOG_ERROR;
  if (strcasecmp(name, "none") == 0 || strcasecmp(name, "quiet") == 0) return SL_LOG_OFF;
  return -1;
}

sl_log_level sl_log_get_level(void) {
  int lvl = __atomic_load_n(&log_level, __ATOMIC_ACQUIRE);
  if (lvl >= 0) return (sl_log_level)lvl;
  const char *env = getenv("SLUICE_LOG_LEVEL");
  if (!env || !*env) env = getenv("RUNTIME__LOG_LEVEL");
  lvl = sl_log_level_parse(env);
  if (lvl < 0) lvl = SL_LOG_WARN;
  __atomic_store_n(&log_level, lvl, __ATOMIC_RELEASE);
  return (sl_log_level)lvl;
}

void sl_log_set_level(sl_log_level lvl) { __atomic_store_n(&log_level, (int)lvl, __ATOMIC_RELEASE); }

void sl_log_set_sink(sl_log_sink sink, void *ud) {
  pthread_mutex_lock(&log_mu);
  log_sink = sink;
  log_sink_ud = ud;
  pthread_mutex_unlock(&log_mu);
}

void sl_logv(sl_log_level lvl, const char *fmt, va_list ap) {
  if (lvl < sl_log_get_level() || lvl >= SL_LOG_OFF) return;
  sl_buf raw = {0}, red = {0};
  if (sl_buf_vprintf(&raw, fmt, ap) != SL_OK) {
    sl_buf_free(&raw);
    return;
  }
  sl_redact_append(&red, raw.data ? raw.data : "", raw.len);
  pthread_mutex_lock(&log_mu);
  if (log_sink) {
    log_sink(log_sink_ud, lvl, red.data ? red.data : "");
  } else {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-7s %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            level_names[lvl], red.data ? red.data : "");
  }
  pthread_mutex_unlock(&log_mu);
  sl_buf_free(&raw);
  sl_buf_free(&red);
}

void sl_log(sl_log_level lvl, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sl_logv(lvl, fmt, ap);
  va_end(ap);
}

/* ---- secrets -------------------------------------------------------------- */

typedef struct secret {
  char *val;
  size_t len;
} secret;

static pthread_mutex_t sec_mu = PTHREAD_MUTEX_INITIALIZER;
static secret *secrets;
static size_t nsecrets, capsecrets;

#define SECRET_MIN_LEN 4

static void secret_add_locked(const char *v, size_t len) {
  if (len < SECRET_MIN_LEN) return;
  for (size_t i = 0; i < nsecrets; i++)
    if (secrets[i].len == len && memcmp(secrets[i].val, v, len) == 0) return;
  if (nsecrets == capsecrets) {
    size_t cap = capsecrets ? capsecrets * 2 : 16;
    secret *p = realloc(secrets, cap * sizeof *p);
    if (!p) return;
    secrets = p;
    capsecrets = cap;
  }
  char *copy = malloc(len + 1);
  if (!copy) return;
  memcpy(copy, v, len);
  copy[len] = '\0';
  /* Keep longest first so that a secret containing another is replaced whole. */
  size_t pos = nsecrets;
  while (pos > 0 && secrets[pos - 1].len < len) {
    secrets[pos] = secrets[pos - 1];
    pos--;
  }
  secrets[pos] = (secret){copy, len};
  nsecrets++;
}

static int url_unreserved(unsigned char c) {
  return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

void sl_secret_register_n(const char *value, size_t len) {
  if (!value || len < SECRET_MIN_LEN) return;
  pthread_mutex_lock(&sec_mu);
  secret_add_locked(value, len);
  /* The same value as it appears in a URL query or form body. */
  size_t extra = 0;
  for (size_t i = 0; i < len; i++)
    if (!url_unreserved((unsigned char)value[i])) extra++;
  if (extra) {
    char *enc = malloc(len + 2 * extra + 1);
    if (enc) {
      static const char hex[] = "0123456789ABCDEF";
      size_t n = 0;
      for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (url_unreserved(c)) {
          enc[n++] = (char)c;
        } else {
          enc[n++] = '%';
          enc[n++] = hex[c >> 4];
          enc[n++] = hex[c & 15];
        }
      }
      secret_add_locked(enc, n);
      free(enc);
    }
  }
  /* The same value inside a JSON string (a trace, a response body echoed in an error). */
  size_t jextra = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)value[i];
    if (c == '"' || c == '\\') jextra += 1;
    else if (c < 0x20) jextra += 5;
  }
  if (jextra) {
    char *enc = malloc(len + jextra + 1);
    if (enc) {
      size_t n = 0;
      for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c == '"' || c == '\\') {
          enc[n++] = '\\';
          enc[n++] = (char)c;
        } else if (c < 0x20) {
          n += (size_t)snprintf(enc + n, 7, "\\u%04x", c);
        } else {
          enc[n++] = (char)c;
        }
      }
      secret_add_locked(enc, n);
      free(enc);
    }
  }
  pthread_mutex_unlock(&sec_mu);
}

void sl_secret_register(const char *value) {
  if (value) sl_secret_register_n(value, strlen(value));
}

void sl_secrets_clear(void) {
  pthread_mutex_lock(&sec_mu);
  for (size_t i = 0; i < nsecrets; i++) free(secrets[i].val);
  free(secrets);
  secrets = NULL;
  nsecrets = capsecrets = 0;
  pthread_mutex_unlock(&sec_mu);
}

size_t sl_secrets_count(void) {
  pthread_mutex_lock(&sec_mu);
  size_t n = nsecrets;
  pthread_mutex_unlock(&sec_mu);
  return n;
}

sl_status sl_redact_append(sl_buf *out, const char *text, size_t len) {
  pthread_mutex_lock(&sec_mu);
  sl_status st = SL_OK;
  size_t start = 0, i = 0;
  while (i < len && nsecrets) {
    size_t hit = 0;
    for (size_t k = 0; k < nsecrets; k++) {
      const secret *s = &secrets[k];
      if (s->len <= len - i && text[i] == s->val[0] && memcmp(text + i, s->val, s->len) == 0) {
        hit = s->len;
        break;
      }
    }
    if (hit) {
      if ((st = sl_buf_append(out, text + start, i - start)) != SL_OK) break;
      if ((st = sl_buf_append(out, "***", 3)) != SL_OK) break;
      i += hit;
      start = i;
    } else {
      i++;
    }
  }
  pthread_mutex_unlock(&sec_mu);
  if (st == SL_OK) st = sl_buf_append(out, text + start, len - start);
  return st;
}

char *sl_redact_into(char *dst, size_t size, const char *text) {
  if (!dst || size == 0) return dst;
  sl_buf b = {0};
  if (sl_redact_append(&b, text, strlen(text)) == SL_OK && b.data) {
    size_t n = b.len < size - 1 ? b.len : size - 1;
    memcpy(dst, b.data, n);
    dst[n] = '\0';
  } else {
    dst[0] = '\0';
  }
  sl_buf_free(&b);
  return dst;
}

/* Whole-word parts of a key that mark it as secret (dlt treats these as secrets). */
/* Where a part of a key name ends: at '_', '-', '.', or where camelCase
 * starts a new word (accessToken, clientSecret). */
static bool key_sep(char c) { return c == '_' || c == '-' || c == '.'; }
static bool key_part_starts(const char *key, const char *p) {
  return p > key && islower((unsigned char)p[-1]) && isupper((unsigned char)*p);
}

int sl_key_is_secret(const char *key) {
  static const char *const words[] = {"token", "password", "passwd", "secret", "key",
                                      "credentials", "apikey", "pwd"};
  if (!key) return 0;
  /* A key that names where or how a secret goes is not itself a secret. */
  static const char *const not_values[] = {"url", "location", "name", "path", "param", "type", "header"};
  const char *last = key + strlen(key);
  const char *lp = last;
  while (lp > key && !key_sep(lp[-1]) && !key_part_starts(key, lp)) lp--;
  if (lp > key)
    for (size_t w = 0; w < sizeof not_values / sizeof *not_values; w++)
      if (strcasecmp(lp, not_values[w]) == 0) return 0;
  /* Split into parts and compare each. */
  const char *p = key;
  while (*p) {
    while (key_sep(*p)) p++;
    const char *s = p;
    while (*p && !key_sep(*p) && !(p > s && key_part_starts(key, p))) p++;
    size_t n = (size_t)(p - s);
    if (!n) continue;
    for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
      if (strlen(words[w]) == n && strncasecmp(s, words[w], n) == 0) {
        /* "key" alone in e.g. primary_key / merge_key is not a secret. */
        if (w == 4 && (strncasecmp(key, "primary_key", 11) == 0 ||
                       strncasecmp(key, "merge_key", 9) == 0 || strncasecmp(key, "cursor_key", 10) == 0 ||
                       strncasecmp(key, "primaryKey", 10) == 0 || strncasecmp(key, "mergeKey", 8) == 0))
          return 0;
        return 1;
      }
    }
  }
  return 0;
}
