/* Run traces and failure alerts.
 *
 * Every sl_pipeline_run writes <working dir>/trace.json (the last run) and a
 * copy in <working dir>/traces/<started>.json (the newest SL_TRACE_KEEP are
 * kept): the steps with start, end and duration, per resource pages/items/
 * bytes, per table rows normalized and loaded, the HTTP figures, the load ids,
 * memory, and the error when the run failed. The whole text passes through
 * sl_redact before it is written, so no registered secret reaches the disk.
 *
 * On a failed run with [runtime] alert_webhook_url set, a JSON message
 * (Slack-compatible: {"text": …} plus pipeline, step and error fields) is
 * POSTed to it with libcurl. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/pipeline_int.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/package.h"
#include "sluice/progress.h"

#define SL_TRACE_KEEP 50

static sl_value *num(sl_doc *d, double v) {
  char t[64];
  int n = snprintf(t, sizeof t, "%.3f", v);
  return sl_v_number(d, t, (size_t)n, v, SL_NUM_DECIMAL);
}

static void put_s(sl_doc *d, sl_value *o, const char *k, const char *s) {
  sl_v_put(d, o, k, s ? sl_v_string(d, s, strlen(s)) : sl_v_null(d));
}

static void put_i(sl_doc *d, sl_value *o, const char *k, uint64_t v) {
  sl_v_put(d, o, k, sl_v_int(d, (int64_t)v));
}

static void iso_time(double t, char out[64]) {
  time_t s = (time_t)t;
  struct tm tm;
  gmtime_r(&s, &tm);
  int ms = (int)((t - (double)s) * 1000);
  snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms < 0 ? 0 : ms > 999 ? 999 : ms);
}

static void put_time(sl_doc *d, sl_value *o, const char *k, double t) {
  char iso[64];
  if (t <= 0) {
    sl_v_put(d, o, k, sl_v_null(d));
    return;
  }
  iso_time(t, iso);
  put_s(d, o, k, iso);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keep the newest SL_TRACE_KEEP traces (names sort by start time). */
static void prune(const char *dir) {
  DIR *dh = opendir(dir);
  if (!dh) return;
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(dh))) {
    size_t l = strlen(e->d_name);
    if (l < 6 || strcmp(e->d_name + l - 5, ".json")) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **x = realloc(names, cap * sizeof *x);
      if (!x) break;
      names = x;
    }
    if ((names[n] = strdup(e->d_name))) n++;
  }
  closedir(dh);
  if (n > SL_TRACE_KEEP) {
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i + SL_TRACE_KEEP < n; i++) {
      char *path = NULL;
      if (asprintf(&path, "%s/%s", dir, names[i]) >= 0) unlink(path);
      free(path);
    }
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

sl_status sl__trace_save(sl_pipeline *p, sl_progress *pr, double started, double finished,
                         sl_status st, const sl_error *rerr, sl_error *err) {
  sl_doc *d = sl_doc_new("trace");
  if (!d || !(d->root = sl_v_object(d))) {
    sl_doc_free(d);
    return sl_error_set(err, SL_NOMEM, "out of memory");
  }
  sl_value *root = d->root;
  const sl_load_info *li = &p->info;
  put_s(d, root, "pipeline_name", p->name);
  put_s(d, root, "destination", p->destination);
  put_s(d, root, "dataset_name", p->dataset);
  put_s(d, root, "working_dir", p->working_dir);
  put_time(d, root, "started_at", started);
  put_time(d, root, "finished_at", finished);
  sl_v_put(d, root, "duration_s", num(d, finished - started));
  put_s(d, root, "status", st ? "failed" : "ok");
  sl_value *ids = sl_v_array(d);
  sl_v_put(d, root, "load_ids", ids);
  for (size_t i = 0; i < li->npackages; i++)
    sl_v_push(d, ids, sl_v_string(d, li->load_ids[i], strlen(li->load_ids[i])));
  put_s(d, root, "new_load_id", li->new_load_id);
  put_i(d, root, "records", li->records);

  size_t n = 0;
  const sl_progress_step *steps = sl_progress_steps(pr, &n);
  sl_value *arr = sl_v_array(d);
  sl_v_put(d, root, "steps", arr);
  for (size_t i = 0; i < n; i++) {
    sl_value *o = sl_v_object(d);
    sl_v_push(d, arr, o);
    put_s(d, o, "step", steps[i].step);
    put_s(d, o, "load_id", steps[i].load_id[0] ? steps[i].load_id : NULL);
    put_time(d, o, "started_at", steps[i].started_at);
    put_time(d, o, "finished_at", steps[i].finished_at);
    double end = steps[i].finished_at > 0 ? steps[i].finished_at : finished;
    sl_v_put(d, o, "duration_s", num(d, end - steps[i].started_at));
    put_s(d, o, "status", steps[i].finished_at <= 0 ? "interrupted"
                          : steps[i].status    ? "failed"
                                               : "ok");
    if (!strcmp(steps[i].step, "extract")) put_i(d, o, "items", steps[i].items);
    else put_i(d, o, "rows", steps[i].rows);
  }
  const sl_progress_resource *res = sl_progress_resources(pr, &n);
  arr = sl_v_array(d);
  sl_v_put(d, root, "resources", arr);
  for (size_t i = 0; i < n; i++) {
    sl_value *o = sl_v_object(d);
    sl_v_push(d, arr, o);
    put_s(d, o, "name", res[i].name);
    put_i(d, o, "pages", res[i].pages);
    put_i(d, o, "items", res[i].items);
    put_i(d, o, "bytes", res[i].bytes);
  }
  const sl_progress_table *tabs = sl_progress_tables(pr, &n);
  arr = sl_v_array(d);
  sl_v_put(d, root, "tables", arr);
  for (size_t i = 0; i < li->ntables; i++) {
    sl_value *o = sl_v_object(d);
    sl_v_push(d, arr, o);
    put_s(d, o, "name", li->tables[i].table);
    uint64_t normalized = 0;
    for (size_t j = 0; j < n; j++)
      if (!strcmp(tabs[j].name, li->tables[i].table)) normalized = tabs[j].rows_normalized;
    put_i(d, o, "rows_normalized", normalized);
    put_i(d, o, "rows_loaded", li->tables[i].rows);
  }
  /* tables normalized but not loaded (a failed load) */
  for (size_t j = 0; j < n; j++) {
    bool seen = false;
    for (size_t i = 0; i < li->ntables && !seen; i++) seen = !strcmp(tabs[j].name, li->tables[i].table);
    if (seen) continue;
    sl_value *o = sl_v_object(d);
    sl_v_push(d, arr, o);
    put_s(d, o, "name", tabs[j].name);
    put_i(d, o, "rows_normalized", tabs[j].rows_normalized);
    put_i(d, o, "rows_loaded", 0);
  }
  sl_progress_http_stats hs;
  sl_progress_http_totals(pr, &hs);
  sl_value *h = sl_v_object(d);
  sl_v_put(d, root, "http", h);
  put_i(d, h, "requests", hs.requests);
  put_i(d, h, "attempts", hs.attempts);
  put_i(d, h, "retries", hs.retries);
  put_i(d, h, "status_429", hs.status_429);
  put_i(d, h, "status_5xx", hs.status_5xx);
  put_i(d, h, "connection_errors", hs.conn_errors);
  put_i(d, h, "failed", hs.failed);
  put_i(d, h, "bytes", hs.bytes_in);
  sl_value *slow = sl_v_object(d);
  sl_v_put(d, h, "slowest", slow);
  put_s(d, slow, "url", hs.slowest_url[0] ? hs.slowest_url : NULL);
  sl_v_put(d, slow, "seconds", num(d, hs.slowest_s));
  sl_value *mem = sl_v_object(d);
  sl_v_put(d, root, "memory", mem);
  put_i(d, mem, "peak_rss_bytes", sl_progress_peak_rss());
  if (st && rerr) {
    sl_value *e = sl_v_object(d);
    sl_v_put(d, root, "error", e);
    char line[2048];
    sl_error_format(rerr, line, sizeof line);
    put_s(d, e, "step", sl_progress_failed_step(pr) ? sl_progress_failed_step(pr) : "run");
    put_s(d, e, "code", sl_status_name(rerr->code));
    put_s(d, e, "message", line);
    if (rerr->file[0]) put_s(d, e, "file", rerr->file);
    if (rerr->line) put_i(d, e, "line", (uint64_t)rerr->line);
    if (rerr->url[0]) put_s(d, e, "url", rerr->url);
    if (rerr->http_status) put_i(d, e, "http_status", (uint64_t)rerr->http_status);
    if (rerr->table[0]) put_s(d, e, "table", rerr->table);
  } else {
    sl_v_put(d, root, "error", sl_v_null(d));
  }
  sl_buf raw = {0}, text = {0};
  sl_status s = sl_v_to_json(root, &raw, 2);
  if (!s) s = sl_redact_append(&text, raw.data ? raw.data : "", raw.len);
  if (!s) s = sl_buf_putc(&text, '\n');
  sl_buf_free(&raw);
  sl_doc_free(d);
  if (s) {
    sl_buf_free(&text);
    return sl_error_set(err, s, "cannot build the trace");
  }
  char path[4200], dir[4096];
  snprintf(dir, sizeof dir, "%s/traces", p->working_dir);
  s = sl_mkdir_p(dir, err);
  if (!s) {
    char iso[64];
    iso_time(started, iso);
    snprintf(path, sizeof path, "%s/%s.json", dir, iso);
    s = sl_write_file_atomic(path, text.data, text.len, err);
  }
  if (!s) {
    snprintf(path, sizeof path, "%s/trace.json", p->working_dir);
    s = sl_write_file_atomic(path, text.data, text.len, err);
  }
  if (!s) prune(dir);
  sl_buf_free(&text);
  return s;
}

/* ---- alert ------------------------------------------------------------------------ */

static size_t discard(char *ptr, size_t size, size_t n, void *ud) {
  (void)ptr;
  (void)ud;
  return size * n;
}

static void json_str(sl_buf *b, const char *s) {
  sl_buf_putc(b, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') sl_buf_printf(b, "\\%c", c);
    else if (c == '\n') sl_buf_puts(b, "\\n");
    else if (c < 0x20) sl_buf_printf(b, "\\u%04x", c);
    else sl_buf_putc(b, (char)c);
  }
  sl_buf_putc(b, '"');
}

const char *sl__alert_url(sl_pipeline *p) {
  const char *u = p->cfg ? sl_config_get_str(p->cfg, "runtime.alert_webhook_url", NULL) : NULL;
  if (!u && p->toml) u = sl_v_str(sl_v_path(p->toml->root, "runtime.alert_webhook_url"), NULL);
  return u && *u ? u : NULL;
}

sl_status sl__alert_send(sl_pipeline *p, const char *step, const sl_error *rerr, sl_error *err) {
  const char *url = sl__alert_url(p);
  if (!url) return SL_OK;
  /* Webhook URLs carry their secret in the path (Slack's do). */
  sl_secret_register(url);
  char line[2048];
  sl_error_format(rerr, line, sizeof line);
  char text[3072];
  snprintf(text, sizeof text, "sluice pipeline %s failed in step %s: %s", p->name,
           step ? step : "run", line);
  sl_buf raw = {0}, body = {0};
  sl_buf_puts(&raw, "{\"text\":");
  json_str(&raw, text);
  sl_buf_puts(&raw, ",\"pipeline\":");
  json_str(&raw, p->name);
  sl_buf_puts(&raw, ",\"step\":");
  json_str(&raw, step ? step : "run");
  sl_buf_puts(&raw, ",\"error\":");
  json_str(&raw, line);
  sl_buf_puts(&raw, ",\"code\":");
  json_str(&raw, sl_status_name(rerr->code));
  sl_buf_puts(&raw, "}");
  sl_redact_append(&body, raw.data, raw.len);
  sl_buf_free(&raw);
  sl_status st = SL_OK;
  CURL *c = curl_easy_init();
  if (!c) {
    sl_buf_free(&body);
    return sl_error_set(err, SL_NOMEM, "cannot start an HTTP request for the alert");
  }
  struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body.len);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "sluice-alert");
  CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (rc != CURLE_OK)
    st = sl_error_set(err, SL_HTTP, "alert webhook: %s", curl_easy_strerror(rc));
  else if (code < 200 || code >= 300)
    st = sl_error_set(err, SL_HTTP, "alert webhook answered HTTP %ld", code);
  if (st) sl_error_http(err, url, (int)code);
  curl_slist_free_all(hdr);
  curl_easy_cleanup(c);
  sl_buf_free(&body);
  return st;
}
