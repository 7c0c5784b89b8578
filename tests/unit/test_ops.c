/* Operating a pipeline: the progress collector (log lines, rate limit,
 * counters, the current-collector hooks a REST source calls), the trace a run
 * saves (steps, pages/items, rows, HTTP figures, errors, redaction), the ops
 * calls (info JSON, drop), the show server's JSON, and that the workflow
 * `sluice deploy github-action` writes is valid YAML. Real files, a real
 * DuckDB file, a real HTTP server (libmicrohttpd) and real curl. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/ops.h"
#include "sluice/package.h"
#include "sluice/pipeline.h"
#include "sluice/progress.h"
#include "sluice/show.h"
#include "sluice/yaml.h"
#include "test.h"

static char *tmpdir(void) {
  char tmpl[] = "/tmp/sl_test_ops_XXXXXX";
  char *d = mkdtemp(tmpl);
  return d ? strdup(d) : NULL;
}

static void write_text(const char *dir, const char *name, const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *slash = strrchr(path, '/');
  *slash = '\0';
  sl_mkdir_p(path, NULL);
  *slash = '/';
  FILE *f = fopen(path, "wb");
  fputs(text, f);
  fclose(f);
}

static char *read_text(const char *path) {
  char *d = NULL;
  size_t n = 0;
  if (sl_read_file(path, &d, &n, NULL)) return NULL;
  return d;
}

static sl_doc *parse_json_file(const char *path) { return sl_json_parse_file(path, NULL); }

/* ---- progress ------------------------------------------------------------------ */

TEST(progress_mode_names) {
  CHECK_INT(sl_progress_mode_parse("bar"), SL_PROGRESS_BAR);
  CHECK_INT(sl_progress_mode_parse("LOG"), SL_PROGRESS_LOG);
  CHECK_INT(sl_progress_mode_parse("none"), SL_PROGRESS_NONE);
  CHECK_INT(sl_progress_mode_parse("sideways"), -1);
  CHECK_STR(sl_progress_mode_name(SL_PROGRESS_LOG), "log");
  /* bar without a terminal falls back to log lines */
  FILE *f = tmpfile();
  sl_progress *pr = sl_progress_new("p", SL_PROGRESS_BAR, 1, f);
  if (!isatty(STDERR_FILENO)) CHECK_INT(sl_progress_get_mode(pr), SL_PROGRESS_LOG);
  sl_progress_free(pr);
  fclose(f);
}

static char *file_text(FILE *f) {
  fflush(f);
  long n = ftell(f);
  char *s = calloc(1, (size_t)n + 1);
  rewind(f);
  if (fread(s, 1, (size_t)n, f) != (size_t)n) s[0] = '\0';
  return s;
}

static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

TEST(progress_log_lines_rate_limited) {
  FILE *f = tmpfile();
  sl_progress *pr = sl_progress_new("shop", SL_PROGRESS_LOG, 0.2, f);
  sl_progress_stage_begin(pr, "extract", "123.4", 2);
  /* 0.6 s of steady pages: at most one block per 0.2 s, plus the final one */
  for (int i = 0; i < 60; i++) {
    sl_progress_page(pr, "pins", 1000);
    sl_progress_items(pr, "pins", 10, 1000);
    usleep(10000);
  }
  sl_progress_resource_done(pr, "pins", 600, 60000);
  sl_progress_resource_done(pr, "boards", 3, 300);
  sl_progress_stage_end(pr, SL_OK);
  char *out = file_text(f);
  int blocks = count(out, " Extract shop (123.4) ");
  CHECK_MSG(blocks >= 2 && blocks <= 5, "%d blocks:\n%s", blocks, out);
  CHECK_CONTAINS(out, "Resources: 2/2 (100.0%)");
  CHECK_CONTAINS(out, "pins: 600 items, 60 pages, 58.6 KB");
  CHECK_CONTAINS(out, "boards: 3 items, 0 pages, 300 B");
  CHECK_CONTAINS(out, "Memory usage: ");
  /* the header is 79 columns, as dlt's */
  const char *h = strstr(out, " Extract shop");
  while (h > out && h[-1] == '-') h--;
  CHECK_INT(strcspn(h, "\n"), 79);
  free(out);
  size_t n;
  const sl_progress_step *st = sl_progress_steps(pr, &n);
  CHECK_INT(n, 1);
  CHECK_STR(st[0].step, "extract");
  CHECK_INT(st[0].items, 603);
  CHECK(st[0].finished_at >= st[0].started_at);
  const sl_progress_resource *r = sl_progress_resources(pr, &n);
  CHECK_INT(n, 2);
  CHECK_INT(r[0].pages, 60);
  CHECK(sl_progress_failed_step(pr) == NULL);
  sl_progress_free(pr);
  fclose(f);
}

TEST(progress_none_prints_nothing_and_null_is_safe) {
  FILE *f = tmpfile();
  sl_progress *pr = sl_progress_new("x", SL_PROGRESS_NONE, 1, f);
  sl_progress_stage_begin(pr, "normalize", "1.0", 0);
  sl_progress_rows(pr, "t", 5);
  sl_progress_stage_end(pr, SL_SCHEMA);
  char *out = file_text(f);
  CHECK_STR(out, "");
  free(out);
  CHECK_STR(sl_progress_failed_step(pr), "normalize");
  size_t n;
  CHECK_INT(sl_progress_tables(pr, &n)[0].rows_normalized, 5);
  sl_progress_free(pr);
  fclose(f);
  /* every hook takes NULL */
  sl_progress_page(NULL, "r", 1);
  sl_progress_items(NULL, "r", 1, 1);
  sl_progress_rows(NULL, "t", 1);
  sl_progress_http(NULL, NULL);
  sl_progress_stage_end(NULL, SL_OK);
  CHECK(sl_progress_current() == NULL);
  CHECK(sl_progress_rss() > 0);
}

/* ---- a pipeline with a C resource that reports like the REST source ------------- */

static int g_fail;

static sl_status pages_fn(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err) {
  (void)parent;
  (void)ud;
  sl_progress *pr = sl_progress_current();
  for (int page = 0; page < 3; page++) {
    char json[256];
    snprintf(json, sizeof json, "[{\"id\": %d, \"kids\": [1, 2]}, {\"id\": %d, \"kids\": []}]",
             page * 2, page * 2 + 1);
    sl_progress_page(pr, "pages", strlen(json));
    sl_status st = sl_emit_page(em, json, strlen(json), NULL, err);
    if (st) return st;
  }
  sl_progress_http_stats hs = {.requests = 3, .attempts = 4, .retries = 1, .status_429 = 1,
                               .bytes_in = 180, .slowest_s = 0.25};
  snprintf(hs.slowest_url, sizeof hs.slowest_url, "https://api.example.com/v5/pins?token=tok_OPS_SECRET_1");
  sl_progress_http(pr, &hs);
  if (g_fail)
    return sl_error_set(err, SL_HTTP, "GET https://api.example.com/v5/pins?token=tok_OPS_SECRET_1 failed");
  return SL_OK;
}

static sl_pipeline *open_pages(const char *dir) {
  char toml[512];
  snprintf(toml, sizeof toml, "[pipeline]\nname = \"opsunit\"\npipelines_dir = \"wd\"\nprogress = \"none\"\n");
  write_text(dir, "sluice.toml", toml);
  sl_error err;
  sl_pipeline *p = sl_pipeline_open_dir(dir, &err);
  if (!p) return NULL;
  sl_resource_def def;
  sl_resource_def_init(&def);
  def.name = "pages";
  def.fn = pages_fn;
  if (sl_pipeline_add_resource(p, &def, &err)) {
    sl_pipeline_close(p);
    return NULL;
  }
  return p;
}

TEST(trace_of_a_run) {
  char *d = tmpdir();
  sl_secret_register("tok_OPS_SECRET_1");
  g_fail = 0;
  sl_pipeline *p = open_pages(d);
  CHECK(p != NULL);
  sl_error err;
  CHECK_MSG(sl_pipeline_run(p, NULL, &err) == SL_OK, "%s", err.msg);
  char path[1024];
  snprintf(path, sizeof path, "%s/wd/opsunit/trace.json", d);
  sl_doc *t = parse_json_file(path);
  CHECK(t != NULL);
  if (t) {
    const sl_value *r = t->root;
    CHECK_STR(sl_v_str(sl_v_get(r, "status"), ""), "ok");
    CHECK_STR(sl_v_str(sl_v_get(r, "pipeline_name"), ""), "opsunit");
    CHECK_INT(sl_v_len(sl_v_get(r, "steps")), 3);
    CHECK_STR(sl_v_str(sl_v_get(sl_v_at(sl_v_get(r, "steps"), 0), "step"), ""), "extract");
    CHECK_STR(sl_v_str(sl_v_get(sl_v_at(sl_v_get(r, "steps"), 2), "step"), ""), "load");
    const sl_value *res = sl_v_at(sl_v_get(r, "resources"), 0);
    CHECK_STR(sl_v_str(sl_v_get(res, "name"), ""), "pages");
    CHECK_INT(sl_v_int_or(sl_v_get(res, "pages"), -1), 3);
    CHECK_INT(sl_v_int_or(sl_v_get(res, "items"), -1), 6);
    const sl_value *tabs = sl_v_get(r, "tables");
    bool kids = false;
    for (size_t i = 0; i < sl_v_len(tabs); i++)
      if (!strcmp(sl_v_str(sl_v_get(sl_v_at(tabs, i), "name"), ""), "pages__kids")) {
        kids = true;
        CHECK_INT(sl_v_int_or(sl_v_get(sl_v_at(tabs, i), "rows_loaded"), -1), 6);
        CHECK_INT(sl_v_int_or(sl_v_get(sl_v_at(tabs, i), "rows_normalized"), -1), 6);
      }
    CHECK(kids);
    const sl_value *h = sl_v_get(r, "http");
    CHECK_INT(sl_v_int_or(sl_v_get(h, "requests"), -1), 3);
    CHECK_INT(sl_v_int_or(sl_v_get(h, "retries"), -1), 1);
    CHECK_INT(sl_v_int_or(sl_v_get(h, "status_429"), -1), 1);
    CHECK_CONTAINS(sl_v_str(sl_v_path(h, "slowest.url"), ""), "api.example.com/v5/pins");
    CHECK_INT(sl_v_len(sl_v_get(r, "load_ids")), 1);
    CHECK(sl_v_get(r, "error")->type == SL_V_NULL);
  }
  sl_doc_free(t);
  char *text = read_text(path);
  CHECK(text && !strstr(text, "tok_OPS_SECRET_1"));
  free(text);

  /* A failed run: its trace has the step and the redacted error. */
  g_fail = 1;
  CHECK(sl_pipeline_run(p, NULL, &err) == SL_HTTP);
  t = parse_json_file(path);
  CHECK(t != NULL);
  if (t) {
    CHECK_STR(sl_v_str(sl_v_get(t->root, "status"), ""), "failed");
    CHECK_STR(sl_v_str(sl_v_path(t->root, "error.step"), ""), "extract");
    CHECK_STR(sl_v_str(sl_v_path(t->root, "error.code"), ""), "SL_HTTP");
    CHECK_CONTAINS(sl_v_str(sl_v_path(t->root, "error.message"), ""), "token=***");
  }
  sl_doc_free(t);
  text = read_text(path);
  CHECK(text && !strstr(text, "tok_OPS_SECRET_1"));
  free(text);
  /* both traces kept, newest first */
  sl_buf all = {0};
  CHECK_OK(sl_pipeline_traces_json(p, &all, &err));
  sl_doc *a = sl_json_parse_doc(all.data, all.len, "traces", NULL);
  CHECK(a && sl_v_len(a->root) == 2);
  if (a) CHECK_STR(sl_v_str(sl_v_get(sl_v_at(a->root, 0), "status"), ""), "failed");
  sl_doc_free(a);
  sl_buf_free(&all);
  /* human rendering */
  sl_buf raw = {0}, human = {0};
  CHECK_OK(sl_pipeline_trace_json(p, &raw, &err));
  CHECK_OK(sl_trace_render(raw.data, raw.len, &human, &err));
  CHECK_CONTAINS(human.data, "Run of pipeline opsunit: failed");
  CHECK_CONTAINS(human.data, "error in step extract:");
  sl_buf_free(&raw);
  sl_buf_free(&human);
  sl_pipeline_close(p);
  sl_rm_rf(d, NULL);
  free(d);
}

TEST(info_json_and_drop) {
  char *d = tmpdir();
  g_fail = 0;
  sl_pipeline *p = open_pages(d);
  CHECK(p != NULL);
  sl_error err;
  CHECK_MSG(sl_pipeline_run(p, NULL, &err) == SL_OK, "%s", err.msg);
  sl_buf out = {0};
  CHECK_OK(sl_pipeline_info_json(p, &out, &err));
  sl_doc *j = sl_json_parse_doc(out.data, out.len, "info", &err);
  CHECK_MSG(j != NULL, "%s\n%s", err.msg, out.data);
  if (j) {
    CHECK_STR(sl_v_str(sl_v_get(j->root, "dataset_name"), ""), "opsunit_dataset");
    const sl_value *tabs = sl_v_get(j->root, "tables");
    CHECK_INT(sl_v_len(tabs), 2);
    CHECK_STR(sl_v_str(sl_v_get(sl_v_at(tabs, 1), "parent"), ""), "pages");
    CHECK_INT(sl_v_int_or(sl_v_get(sl_v_at(tabs, 0), "rows"), -5), 6);
    CHECK_INT(sl_v_len(sl_v_get(j->root, "last_loads")), 1);
  }
  sl_doc_free(j);
  sl_buf_reset(&out);
  const char *none[] = {"nope"};
  CHECK(sl_pipeline_drop(p, none, 1, false, &out, &err) == SL_NOT_FOUND);
  CHECK_CONTAINS(err.msg, "no resource 'nope'");
  const char *res[] = {"pages"};
  CHECK_MSG(sl_pipeline_drop(p, res, 1, false, &out, &err) == SL_OK, "%s", err.msg);
  CHECK_CONTAINS(out.data, "pages__kids");
  CHECK(sl_schema_find_table(sl_pipeline_schema(p), "pages") == NULL);
  sl_table_count *c = NULL;
  size_t n = 0;
  CHECK_OK(sl_pipeline_row_counts(p, &c, &n, &err));
  CHECK_INT(n, 0);
  sl_table_counts_free(c, n);
  /* the next run loads everything again */
  CHECK_MSG(sl_pipeline_run(p, NULL, &err) == SL_OK, "%s", err.msg);
  CHECK_OK(sl_pipeline_row_counts(p, &c, &n, &err));
  CHECK_INT(n, 2);
  if (n == 2) CHECK_INT(c[0].rows, 6);
  sl_table_counts_free(c, n);
  sl_buf_free(&out);
  sl_pipeline_close(p);
  sl_rm_rf(d, NULL);
  free(d);
}

/* ---- query: every DuckDB type prints as its VARCHAR text ------------------------- */

static char *query_text(sl_pipeline *p, const char *sql, sl_query_format fmt) {
  sl_buf out = {0};
  sl_error err;
  if (sl_pipeline_query(p, sql, fmt, &out, &err) != SL_OK) {
    fprintf(stderr, "  query failed: %s\n", err.msg);
    sl_buf_free(&out);
    return NULL;
  }
  return sl_buf_steal(&out, NULL);
}

TEST(query_renders_every_type) {
  char *d = tmpdir();
  g_fail = 0;
  sl_pipeline *p = open_pages(d);
  CHECK(p != NULL);
  sl_error err;
  CHECK_MSG(sl_pipeline_run(p, NULL, &err) == SL_OK, "%s", err.msg);
  /* Each column with the text DuckDB's CAST(... AS VARCHAR) gives it. */
  static const struct {
    const char *expr, *text;
  } cols[] = {
      {"TIMESTAMPTZ '2024-01-02 03:04:05.123+02'", "2024-01-02 01:04:05.123+00"},
      {"TIMESTAMP '2024-01-02 03:04:05'", "2024-01-02 03:04:05"},
      {"TIMESTAMP_NS '2024-01-02 03:04:05.123456789'", "2024-01-02 03:04:05.123456789"},
      {"TIMESTAMP_MS '2024-01-02 03:04:05.123'", "2024-01-02 03:04:05.123"},
      {"TIMESTAMP_S '2024-01-02 03:04:05'", "2024-01-02 03:04:05"},
      {"DATE '2024-01-02'", "2024-01-02"},
      {"TIME '03:04:05.5'", "03:04:05.5"},
      {"TIMETZ '03:04:05+02'", "03:04:05+02"},
      {"INTERVAL 3 DAY + INTERVAL 2 HOUR", "3 days 02:00:00"},
      {"'0aa1f2a4-6a3c-4f3f-9c8b-7f5f3e1b2c3d'::UUID", "0aa1f2a4-6a3c-4f3f-9c8b-7f5f3e1b2c3d"},
      {"'ffffffff-0000-0000-0000-000000000001'::UUID", "ffffffff-0000-0000-0000-000000000001"},
      {"[1, NULL, 3]", "[1, NULL, 3]"},
      {"{'a': 1, 'b': 'x', 'c': NULL}", "{'a': 1, 'b': x, 'c': NULL}"},
      {"MAP {'k': 1}", "{k=1}"},
      {"[1, 2]::INTEGER[2]", "[1, 2]"},
      {"[{'t': TIMESTAMPTZ '2024-01-02 00:00:00+00'}]", "[{'t': '2024-01-02 00:00:00+00'}]"},
      {"union_value(k := 7)::UNION(k INTEGER, s VARCHAR)", "7"},
      {"-1.25::DECIMAL(4,2)", "-1.25"},
      {"-12345678901.25::DECIMAL(18,2)", "-12345678901.25"},
      {"1.5::DECIMAL(38,4)", "1.5000"},
      {"-170141183460469231731687303715884105727::HUGEINT", "-170141183460469231731687303715884105727"},
      {"340282366920938463463374607431768211455::UHUGEINT", "340282366920938463463374607431768211455"},
      {"(-123456789012345678901234567890)::VARINT", "-123456789012345678901234567890"},
      {"'y'::ENUM('x', 'y')", "y"},
      {"'ab'::BLOB", "ab"},
      {"'1010101011'::BIT", "1010101011"},
      {"(-128)::TINYINT", "-128"},
      {"0.1::DOUBLE", "0.1"},
      {"true", "true"},
      {"'héllo'", "héllo"},
  };
  size_t n = sizeof cols / sizeof cols[0];
  sl_buf sql = {0}, csv = {0};
  sl_buf_puts(&sql, "SELECT ");
  for (size_t i = 0; i < n; i++) {
    sl_buf_printf(&sql, "%s%s AS c%zu", i ? ", " : "", cols[i].expr, i);
    sl_buf_printf(&csv, "%sc%zu", i ? "," : "", i);
  }
  sl_buf_putc(&csv, '\n');
  for (size_t i = 0; i < n; i++) {
    const char *t = cols[i].text;
    bool quote = strpbrk(t, ",\"") != NULL;
    sl_buf_printf(&csv, "%s%s%s%s", i ? "," : "", quote ? "\"" : "", t, quote ? "\"" : "");
  }
  sl_buf_putc(&csv, '\n');
  char *got = query_text(p, sql.data, SL_QF_CSV);
  CHECK_STR(got, csv.data);
  free(got);
  /* JSON: text as strings, numbers as numbers, NULL as null */
  got = query_text(p,
                   "SELECT TIMESTAMPTZ '2024-01-02 03:04:05+00' AS ts, 2.50::DECIMAL(5,2) AS d, "
                   "[1, 2] AS l, {'a': 'b'} AS s, NULL::TIMESTAMPTZ AS n",
                   SL_QF_JSON);
  CHECK_STR(got, "{\"ts\":\"2024-01-02 03:04:05+00\",\"d\":2.50,\"l\":\"[1, 2]\","
                 "\"s\":\"{'a': b}\",\"n\":null}\n");
  free(got);
  /* table: the load's own timestamptz column is not blank */
  got = query_text(p, "SELECT inserted_at, DATE '2024-01-02' AS d FROM _dlt_loads", SL_QF_TABLE);
  CHECK_CONTAINS(got, "+00  2024-01-02\n");
  CHECK_CONTAINS(got, "(1 row)");
  free(got);
  got = query_text(p, "SELECT [TIMESTAMPTZ '2024-01-02 03:04:05+00'] AS l, NULL AS n", SL_QF_TABLE);
  CHECK_STR(got, "l                           n\n"
                 "--------------------------  ----\n"
                 "['2024-01-02 03:04:05+00']  NULL\n"
                 "(1 row)\n");
  free(got);
  sl_buf_free(&sql);
  sl_buf_free(&csv);
  sl_pipeline_close(p);
  sl_rm_rf(d, NULL);
  free(d);
}

/* ---- show ----------------------------------------------------------------------- */

static size_t collect(char *ptr, size_t size, size_t n, void *ud) {
  sl_buf_append(ud, ptr, size * n);
  return size * n;
}

static long http_get(const char *url, const char *host, sl_buf *out) {
  CURL *c = curl_easy_init();
  struct curl_slist *h = NULL;
  if (host) h = curl_slist_append(NULL, host);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  long code = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return code;
}

TEST(show_serves_json) {
  char *d = tmpdir();
  g_fail = 0;
  sl_pipeline *p = open_pages(d);
  sl_error err;
  CHECK_MSG(sl_pipeline_run(p, NULL, &err) == SL_OK, "%s", err.msg);
  sl_show *s = sl_show_start(p, 0, &err);
  CHECK_MSG(s != NULL, "%s", err.msg);
  unsigned port = sl_show_port(s);
  CHECK(port > 0);
  char url[256];
  sl_buf b = {0};
  snprintf(url, sizeof url, "http://127.0.0.1:%u/api/table?name=pages__kids&offset=4&limit=10", port);
  CHECK_INT(http_get(url, NULL, &b), 200);
  sl_doc *j = sl_json_parse_doc(b.data, b.len, "table", NULL);
  CHECK(j != NULL);
  if (j) {
    CHECK_INT(sl_v_int_or(sl_v_get(j->root, "total"), -1), 6);
    CHECK_INT(sl_v_len(sl_v_get(j->root, "rows")), 2);
  }
  sl_doc_free(j);
  sl_buf_reset(&b);
  snprintf(url, sizeof url, "http://127.0.0.1:%u/api/query?sql=delete%%20from%%20pages", port);
  CHECK_INT(http_get(url, NULL, &b), 400);
  sl_buf_reset(&b);
  snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);
  CHECK_INT(http_get(url, "Host: evil.example", &b), 403);
  sl_buf_free(&b);
  sl_show_stop(s);
  sl_pipeline_close(p);
  sl_rm_rf(d, NULL);
  free(d);
}

/* ---- deploy: the workflow is YAML our own loader accepts --------------------------- */

TEST(deploy_workflow_is_yaml) {
  char bin[1024];
  snprintf(bin, sizeof bin, "%s/sluice", SL_BINARY_DIR);
  struct stat sb;
  if (stat(bin, &sb) != 0) return; /* the CLI is built with the tests; skip if not */
  char *d = tmpdir();
  char path[1024];
  snprintf(path, sizeof path, "%s/.git", d);
  sl_mkdir_p(path, NULL);
  write_text(d, "proj/sluice.toml", "[pipeline]\nname = \"wf\"\n");
  write_text(d, "proj/.sluice/secrets.toml", "[sources.pinterest]\naccess_token = \"x_secret_x\"\n");
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "'%s' deploy github-action --schedule '0 3 * * *' --sluice-repo https://example.com/s.git "
           "'%s/proj' > /dev/null 2>&1",
           bin, d);
  CHECK_INT(system(cmd), 0);
  snprintf(path, sizeof path, "%s/.github/workflows/wf.yml", d);
  sl_error err;
  sl_doc *y = sl_yaml_parse_file(path, NULL, &err);
  CHECK_MSG(y != NULL, "%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
  if (y) {
    CHECK_STR(sl_v_str(sl_v_get(sl_v_at(sl_v_path(y->root, "on.schedule"), 0), "cron"), ""), "0 3 * * *");
    const sl_value *steps = sl_v_path(y->root, "jobs.run.steps");
    const sl_value *last = sl_v_at(steps, sl_v_len(steps) - 1);
    CHECK_CONTAINS(sl_v_str(sl_v_get(last, "run"), ""), "/build/release/sluice\" run \"proj\"");
    CHECK_STR(sl_v_str(sl_v_path(last, "env.SOURCES__PINTEREST__ACCESS_TOKEN"), ""),
              "${{ secrets.SOURCES__PINTEREST__ACCESS_TOKEN }}");
  }
  sl_doc_free(y);
  sl_rm_rf(d, NULL);
  free(d);
}

TEST_MAIN()
