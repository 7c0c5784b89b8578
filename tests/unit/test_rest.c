/* Tests for the REST kind's parts that need no network: the source YAML's
 * validation (file:line:col, "did you mean"), resolve/parent detection,
 * placeholders, cursor values, the paginators' arithmetic (auto included),
 * and the emitter hooks it uses (auto data selector, rewind of a broken body). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest/rest_int.h"
#include "sluice/json.h"
#include "sluice/package.h"
#include "sluice/source.h"
#include "source/source_int.h"
#include "test.h"

static sl_source *src(const char *yaml, sl_error *err) {
  sl_error_clear(err);
  sl_source_env env = {.base_dir = "/tmp"};
  return sl_source_from_yaml(yaml, strlen(yaml), "api.yaml", &env, err);
}

#define HEAD "name: api\nclient:\n  base_url: http://127.0.0.1:1/v1\n"

/* ---- validation ----------------------------------------------------------------- */

TEST(valid_source_with_strings_defaults_and_children) {
  sl_error err;
  sl_source *s = src(HEAD "resource_defaults:\n"
                          "  primary_key: id\n"
                          "  endpoint:\n"
                          "    params: {page_size: 25}\n"
                          "resources:\n"
                          "  - orgs\n"
                          "  - name: projects\n"
                          "    endpoint:\n"
                          "      path: orgs/{org}/projects\n"
                          "      params:\n"
                          "        org: {type: resolve, resource: orgs, field: id}\n"
                          "  - name: tasks\n"
                          "    include_from_parent: [id, org_id]\n"
                          "    endpoint:\n"
                          "      path: orgs/{resources.projects.org_id}/projects/{resources.projects.id}/tasks\n"
                          "      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor}\n",
                     &err);
  CHECK_MSG(s != NULL, "%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
  if (!s) return;
  CHECK_INT(sl_source_resource_count(s), 3);
  const sl_resource *orgs = sl_source_find(s, "orgs");
  CHECK(orgs && !sl_resource_parent(orgs));
  const sl_resource *pr = sl_source_find(s, "projects");
  CHECK_STR(sl_resource_parent(pr), "orgs");
  const sl_resource *tk = sl_source_find(s, "tasks");
  CHECK_STR(sl_resource_parent(tk), "projects");
  rest_resource *r = tk->ud;
  CHECK_INT(r->nresolves, 2);
  CHECK_INT(r->pg.type, PG_CURSOR);
  CHECK_STR(r->pg.cursor_path, "next_cursor");
  CHECK_STR(r->include_from_parent[1], "org_id");
  /* defaults merged one level into params */
  CHECK_INT(sl_v_int_or(sl_v_get(r->params, "page_size"), 0), 25);
  rest_resource *ro = orgs->ud;
  CHECK_STR(ro->path, "orgs");
  CHECK(tk->primary_key && !strcmp(tk->primary_key[0], "id"));
  /* the resolve param of projects is a path variable, not a query parameter */
  rest_resource *rp = pr->ud;
  CHECK_INT(rp->nresolves, 1);
  CHECK(!rp->resolves[0].in_query);
  sl_source_free(s);
}

/* skip_null: a parent record whose field is null or missing makes no request
 * (the client's base_url is unreachable, so a request would fail the run);
 * without it such a parent fails the resource with the field named. */
TEST(resolve_skip_null) {
  sl_error err;
  sl_source *s = src(HEAD "resources:\n"
                          "  - name: integrations\n"
                          "  - name: commerce\n"
                          "    endpoint:\n"
                          "      path: commerce/{ebid}\n"
                          "      params:\n"
                          "        ebid: {type: resolve, resource: integrations, field: ebid,"
                          " skip_null: true}\n"
                          "  - name: strict\n"
                          "    endpoint:\n"
                          "      path: strict/{ebid}\n"
                          "      params:\n"
                          "        ebid: {type: resolve, resource: integrations, field: ebid}\n",
                     &err);
  CHECK_MSG(s != NULL, "%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
  if (!s) return;
  rest_resource *c = sl_source_find(s, "commerce")->ud;
  CHECK_INT(c->nresolves, 1);
  CHECK(c->resolves[0].skip_null && !c->resolves[0].in_query);
  rest_resource *strict = sl_source_find(s, "strict")->ud;
  CHECK(!strict->resolves[0].skip_null);
  const char *null_field = "{\"id\": 1, \"ebid\": null}", *no_field = "{\"id\": 2}";
  sl_doc *d = sl_json_parse_doc(null_field, strlen(null_field), "parent", &err);
  sl_doc *m = sl_json_parse_doc(no_field, strlen(no_field), "parent", &err);
  CHECK(d && m);
  CHECK_OK(rest_resource_run(NULL, d->root, c, &err)); /* null: no request */
  CHECK_OK(rest_resource_run(NULL, m->root, c, &err)); /* missing: no request */
  CHECK_INT(rest_resource_run(NULL, d->root, strict, &err), SL_SOURCE);
  CHECK_CONTAINS(err.msg, "has no usable field 'ebid'");
  sl_doc_free(d);
  sl_doc_free(m);
  sl_source_free(s);
  /* skip_null takes a boolean */
  s = src(HEAD "resources:\n  - name: a\n  - name: b\n    endpoint:\n      path: b/{x}\n"
               "      params:\n        x: {type: resolve, resource: a, field: x, skip_null: yes_please}\n",
          &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "skip_null must be true or false");
}

TEST(unknown_endpoint_key_suggests) {
  sl_error err;
  sl_source *s = src(HEAD "resources:\n"
                          "  - name: items\n"
                          "    endpoint:\n"
                          "      path: items\n"
                          "      data_selectr: data\n",
                     &err);
  CHECK(!s);
  CHECK_INT(err.code, SL_CONFIG_INVALID);
  CHECK_STR(err.file, "api.yaml");
  CHECK_INT(err.line, 8);
  CHECK_CONTAINS(err.msg, "unknown key 'data_selectr'");
  CHECK_CONTAINS(err.msg, "did you mean 'data_selector'");
}

TEST(unknown_client_key_and_paginator_type) {
  sl_error err;
  sl_source *s = src("name: api\nclient:\n  base_url: http://h/\n  paginater: auto\n"
                     "resources: [a]\n",
                     &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "did you mean 'paginator'");
  CHECK_INT(err.line, 4);
  s = src(HEAD "resources:\n  - name: a\n    endpoint:\n      paginator: {type: json_lnk}\n", &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "unknown paginator 'json_lnk'");
  CHECK_CONTAINS(err.msg, "did you mean 'json_link'");
  CHECK_INT(err.line, 7);
  s = src(HEAD "resources:\n  - name: a\n    endpoint:\n      paginator: {type: cursor, limit: 5}\n",
          &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "unknown key 'limit' in a cursor paginator");
  s = src(HEAD "resources:\n  - name: a\n    endpoint:\n      paginator: {type: offset}\n", &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "needs 'limit'");
}

TEST(wrong_types) {
  sl_error err;
  sl_source *s = src(HEAD "resources:\n  - name: a\n    endpoint:\n      params: [1, 2]\n", &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "'params' must be a mapping, not a list");
  CHECK_INT(err.line, 7);
  s = src(HEAD "resources:\n  - name: a\n    endpoint:\n      paginator:\n        type: offset\n"
               "        limit: ten\n",
          &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "'limit' must be an integer");
  CHECK_INT(err.line, 9);
  s = src(HEAD "resources:\n  - name: a\n    endpoint:\n      response_actions:\n"
               "        - {status_code: 404, action: ignor}\n",
          &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "did you mean 'ignore'");
}

/* endpoint.limit: pages per request series, from resource_defaults too;
 * a resource's null lifts the default; 0, text or a list are refused. */
TEST(endpoint_page_limit) {
  sl_error err;
  sl_source *s = src(HEAD "resource_defaults:\n  endpoint:\n    limit: 3\n"
                          "resources:\n  - a\n"
                          "  - name: b\n    endpoint: {path: b, limit: 2}\n"
                          "  - name: c\n    endpoint: {path: c, limit: null}\n",
                     &err);
  CHECK_MSG(s != NULL, "%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
  if (!s) return;
  CHECK_INT(((rest_resource *)sl_source_find(s, "a")->ud)->limit, 3);
  CHECK_INT(((rest_resource *)sl_source_find(s, "b")->ud)->limit, 2);
  CHECK_INT(((rest_resource *)sl_source_find(s, "c")->ud)->limit, 0);
  sl_source_free(s);
  /* an endpoint written as a string takes no endpoint keys from the defaults (docs/rest.md) */
  s = src(HEAD "resource_defaults:\n  endpoint:\n    limit: 3\nresources:\n"
               "  - name: d\n    endpoint: d/items\n",
          &err);
  CHECK_MSG(s != NULL, "%s", err.msg);
  if (s) CHECK_INT(((rest_resource *)sl_source_find(s, "d")->ud)->limit, 0);
  sl_source_free(s);
  s = src(HEAD "resources:\n  - name: a\n    endpoint:\n      path: a\n      limit: 0\n", &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "'limit' must be at least 1");
  CHECK_INT(err.line, 8);
  s = src(HEAD "resources:\n  - name: a\n    endpoint:\n      limit: [2]\n", &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "'limit' must be an integer, not a list");
  s = src(HEAD "resources:\n  - name: a\n    endpoint:\n      limt: 2\n", &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "did you mean 'limit'");
}

TEST(resolve_to_missing_resource) {
  sl_error err;
  sl_source *s = src(HEAD "resources:\n"
                          "  - name: orgs\n"
                          "  - name: projects\n"
                          "    endpoint:\n"
                          "      path: orgs/{org}/projects\n"
                          "      params:\n"
                          "        org: {type: resolve, resource: orgz, field: id}\n",
                     &err);
  CHECK(!s);
  CHECK_INT(err.code, SL_CONFIG_INVALID);
  CHECK_STR(err.file, "api.yaml");
  CHECK_INT(err.line, 6);
  CHECK_CONTAINS(err.msg, "unknown resource 'orgz'");
  CHECK_CONTAINS(err.msg, "did you mean 'orgs'");
  s = src(HEAD "resources:\n  - name: a\n    endpoint: x/{id}\n", &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "path placeholder {id}");
  s = src(HEAD "resources:\n  - name: a\n    endpoint: {path: 'x/{resources.a.id}'}\n", &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "resolves from itself");
}

TEST(auth_validation_and_secrets) {
  sl_error err;
  sl_source *s = src("name: api\nclient:\n  base_url: http://h/\n  auth: {type: bearer}\n"
                     "resources: [a]\n",
                     &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "bearer auth needs 'token'");
  s = src("name: api\nclient:\n  base_url: http://h/\n  auth: {type: baerer, token: x}\n"
          "resources: [a]\n",
          &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "did you mean 'bearer'");
  s = src("name: api\nclient:\n  base_url: http://h/\n"
          "  auth: {type: api_key, name: X-Key, api_key: 'k-4815162342', location: cookie}\n"
          "resources: [a]\n",
          &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "header or query");
  s = src("name: api\nclient:\n  base_url: http://h/\n"
          "  auth:\n    type: oauth2_refresh_token\n    access_token_url: http://h/token\n"
          "    client_id: c\n    client_secret: secret-2718281828\n"
          "    refresh_token: refresh-3141592653\n"
          "resources: [a]\n",
          &err);
  CHECK_MSG(s != NULL, "%s", err.msg);
  /* the secret values are registered: an error that quotes one is redacted */
  sl_error_set(&err, SL_HTTP, "token refresh-3141592653 and secret-2718281828");
  CHECK(!strstr(err.msg, "3141592653"));
  CHECK(!strstr(err.msg, "2718281828"));
  sl_source_free(s);
}

TEST(config_reference_needs_config) {
  sl_error err;
  sl_source *s = src("name: api\nclient:\n  base_url: ${sources.api.base_url}\nresources: [a]\n", &err);
  CHECK(!s);
  CHECK_INT(err.line, 3);
  CHECK_CONTAINS(err.msg, "no config is open");
}

TEST(incremental_validation) {
  sl_error err;
  sl_source *s = src(HEAD "resources:\n  - name: ev\n    endpoint:\n      incremental:\n"
                          "        cursor_path: updated_at\n",
                     &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "start_param");
  s = src(HEAD "resources:\n  - name: ev\n    endpoint:\n      params: {since: '{incremental.start_value}'}\n"
               "      incremental: {cursor_path: updated_at, initial_value: '2024-01-01T00:00:00Z', "
               "last_value_func: max}\n",
          &err);
  CHECK_MSG(s != NULL, "%s", err.msg);
  sl_source_free(s);
  /* the start value in a header is a place for it too */
  s = src(HEAD "resources:\n  - name: ev\n    endpoint:\n      headers: {X-Since: '{incremental.start_value}'}\n"
               "      incremental: {cursor_path: updated_at, initial_value: 5}\n",
          &err);
  CHECK_MSG(s != NULL, "%s", err.msg);
  sl_source_free(s);
  s = src(HEAD "resources:\n  - name: ev\n    endpoint:\n      params:\n        since:\n"
               "          type: incremental\n          cursor_path: updated_at\n"
               "          last_value_func: maximum\n",
          &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "last_value_func must be max or min");
  /* without cursor_path: a date window, which needs both ends */
  s = src(HEAD "resources:\n  - name: ev\n    endpoint:\n      incremental:\n"
               "        {start_param: from, end_param: to, initial_value: '{today-30d}'}\n",
          &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "needs initial_value and end_value");
  s = src(HEAD "resources:\n  - name: ev\n    endpoint:\n      incremental:\n"
               "        {start_param: from, end_param: to, initial_value: '{today-30d}', "
               "end_value: '{today}', range_span_days: 0}\n",
          &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "range_span_days");
  s = src(HEAD "resources:\n  - name: ev\n    endpoint:\n      path: 'ev/{today}'\n"
               "      incremental:\n"
               "        {start_param: from, end_param: to, initial_value: '2024-01-01', "
               "end_value: '{today}', range_span_days: 7, range_lookback_days: 90}\n",
          &err);
  CHECK_MSG(s != NULL, "%s", err.msg);
  sl_source_free(s);
  /* the params form is dlt's and keeps its cursor_path */
  s = src(HEAD "resources:\n  - name: ev\n    endpoint:\n      params:\n        since:\n"
               "          type: incremental\n          initial_value: 1\n",
          &err);
  CHECK(!s);
  CHECK_CONTAINS(err.msg, "needs 'cursor_path'");
}

/* ---- placeholders and cursor values -------------------------------------------------- */

TEST(expand_placeholders) {
  sl_buf b = {0};
  sl_error err;
  const char *vars[] = {"resources.orgs.id", "org-1", "p", "p2", NULL};
  CHECK_OK(rest_expand("orgs/{resources.orgs.id}/projects/{p}/x{y}", vars, false, &b, &err));
  CHECK_STR(b.data, "orgs/org-1/projects/p2/x{y}");
  CHECK(rest_expand("a/{nope}", vars, true, &b, &err) == SL_CONFIG_INVALID);
  CHECK_OK(rest_expand("plain", vars, false, &b, &err));
  CHECK_STR(b.data, "plain");
  CHECK_OK(rest_expand("", vars, false, &b, &err));
  CHECK_STR(b.data, "");
  /* days counted from the day of the run (UTC) */
  sl_buf want = {0}, d = {0};
  CHECK(rest_relative_date("today", 5, &want));
  CHECK_INT(want.len, 10);
  CHECK_OK(rest_expand("from {today} to {today+0d}", vars, true, &b, &err));
  sl_buf_printf(&d, "from %s to %s", want.data, want.data);
  CHECK_STR(b.data, d.data);
  CHECK(rest_date_add(want.data, -30, &d));
  CHECK(rest_relative_date("today-30d", 9, &want));
  CHECK_STR(want.data, d.data);
  CHECK(!rest_relative_date("today-30", 8, &want));
  CHECK(!rest_relative_date("todayx", 6, &want));
  CHECK(!rest_relative_date("today-d", 7, &want));
  CHECK(rest_expand("{today-x}", vars, true, &b, &err) == SL_CONFIG_INVALID);
  CHECK(rest_date_add("2024-02-28", 1, &d));
  CHECK_STR(d.data, "2024-02-29");
  CHECK(rest_date_add("2024-03-01", -1, &d));
  CHECK_STR(d.data, "2024-02-29");
  CHECK(rest_date_add("2024-12-31", 90, &d));
  CHECK_STR(d.data, "2025-03-31");
  CHECK(!rest_date_add("2024-12-31T00:00:00Z", 1, &d));
  sl_buf_free(&want);
  sl_buf_free(&d);
  sl_buf_free(&b);
}

TEST(cursor_compare_and_lag) {
  CHECK(rest_cursor_cmp("9", "10") < 0);
  CHECK(rest_cursor_cmp("10.5", "10") > 0);
  CHECK(rest_cursor_cmp("2024-01-02T00:00:00Z", "2024-01-01T23:00:00Z") > 0);
  CHECK(rest_cursor_cmp("2024-01-01T01:00:00+01:00", "2024-01-01T00:00:00Z") == 0);
  CHECK(rest_cursor_cmp("b", "a") > 0);
  double t;
  CHECK(rest_parse_time("2024-01-01", &t));
  CHECK(!rest_parse_time("2024-1-1", &t));
  sl_buf b = {0};
  rest_cursor_lag("2024-01-01T01:00:00Z", 7200, &b);
  CHECK_STR(b.data, "2023-12-31T23:00:00Z");
  rest_cursor_lag("100", 10, &b);
  CHECK_STR(b.data, "90");
  rest_cursor_lag("abc", 10, &b);
  CHECK_STR(b.data, "abc");
  sl_buf_free(&b);
}

/* ---- paginators ------------------------------------------------------------------------ */

static rest_paginator pgof(rest_pg_type t) {
  rest_paginator p;
  memset(&p, 0, sizeof p);
  p.type = t;
  p.stop_after_empty_page = true;
  p.page = -1;
  p.total_path = "total";
  p.page_param = "page";
  return p;
}

TEST(paginator_cursor) {
  rest_paginator p = pgof(PG_CURSOR);
  p.cursor_path = "bookmark";
  rest_pg_state ps;
  rest_pg_init(&ps, &p);
  sl_error err;
  rest_page_facts f = {.records = 25, .cursor = "b1", .cursor_present = true};
  CHECK_OK(rest_pg_advance(&ps, &f, NULL, &err));
  CHECK(!ps.done);
  CHECK_STR(ps.cursor, "b1");
  CHECK(rest_pg_advance(&ps, &f, NULL, &err) == SL_SOURCE); /* the same cursor again: a loop */
  f.cursor = NULL;
  CHECK_OK(rest_pg_advance(&ps, &f, NULL, &err));
  CHECK(ps.done);
  rest_pg_free(&ps);
}

TEST(paginator_offset_and_page_number) {
  rest_paginator p = pgof(PG_OFFSET);
  p.limit = 10;
  rest_pg_state ps;
  rest_pg_init(&ps, &p);
  sl_error err;
  rest_page_facts f = {.records = 10, .has_total = true, .total = 25};
  int requests = 1;
  while (!ps.done) {
    CHECK_OK(rest_pg_advance(&ps, &f, NULL, &err));
    if (!ps.done) requests++;
  }
  CHECK_INT(requests, 3); /* 0, 10, 20 */
  rest_pg_free(&ps);
  /* no total: stop at the empty page */
  p.total_path = NULL;
  rest_pg_init(&ps, &p);
  rest_page_facts g = {.records = 10};
  CHECK_OK(rest_pg_advance(&ps, &g, NULL, &err));
  CHECK(!ps.done);
  CHECK_INT(ps.value, 10);
  g.records = 0;
  CHECK_OK(rest_pg_advance(&ps, &g, NULL, &err));
  CHECK(ps.done);
  rest_pg_free(&ps);
  /* maximum_offset */
  p.maximum_offset = 20;
  rest_pg_init(&ps, &p);
  g.records = 10;
  CHECK_OK(rest_pg_advance(&ps, &g, NULL, &err));
  CHECK(!ps.done);
  CHECK_OK(rest_pg_advance(&ps, &g, NULL, &err));
  CHECK(ps.done);
  rest_pg_free(&ps);
  /* page_number base 1, total pages 3: pages 1, 2, 3 */
  rest_paginator q = pgof(PG_PAGE_NUMBER);
  q.base_page = 1;
  rest_pg_init(&ps, &q);
  CHECK_INT(ps.value, 1);
  rest_page_facts h = {.records = 5, .has_total = true, .total = 3};
  requests = 1;
  while (!ps.done) {
    CHECK_OK(rest_pg_advance(&ps, &h, NULL, &err));
    if (!ps.done) requests++;
  }
  CHECK_INT(requests, 3);
  rest_pg_free(&ps);
}

TEST(paginator_auto_detects_and_never_refetches_page_one) {
  sl_error err;
  rest_paginator a = pgof(PG_AUTO);
  rest_pg_state ps;
  /* Pinterest: a bookmark */
  rest_pg_init(&ps, &a);
  rest_page_facts f = {.records = 25, .cursor = "bm1", .cursor_present = true};
  CHECK_OK(rest_pg_advance(&ps, &f, NULL, &err));
  CHECK_INT(ps.pg.type, PG_CURSOR);
  CHECK_STR(ps.cursor, "bm1");
  rest_pg_free(&ps);
  /* a Link header */
  rest_pg_init(&ps, &a);
  rest_page_facts g = {.records = 10};
  CHECK_OK(rest_pg_advance(&ps, &g, "http://h/x?page=2", &err));
  CHECK_INT(ps.pg.type, PG_HEADER_LINK);
  CHECK_STR(ps.next_url, "http://h/x?page=2");
  rest_pg_free(&ps);
  /* total pages: the next request is page 2 */
  rest_pg_init(&ps, &a);
  rest_page_facts h = {.records = 10, .has_total = true, .total = 6};
  CHECK_OK(rest_pg_advance(&ps, &h, NULL, &err));
  CHECK_INT(ps.pg.type, PG_PAGE_NUMBER);
  CHECK_INT(ps.value, 2);
  CHECK(!ps.done);
  rest_pg_free(&ps);
  /* nothing: a single page */
  rest_pg_init(&ps, &a);
  rest_page_facts n = {.records = 3};
  CHECK_OK(rest_pg_advance(&ps, &n, NULL, &err));
  CHECK_INT(ps.pg.type, PG_SINGLE);
  CHECK(ps.done);
  rest_pg_free(&ps);
}

/* ---- emitter hooks ------------------------------------------------------------------- */

typedef struct feed_case {
  const char *chunks[4];
  bool rewind_after_first; /* mark, feed chunk 0, rewind, then feed all */
} feed_case;

static sl_status feeder(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err) {
  const feed_case *fc = ud;
  sl__emit_pos pos;
  if (fc->rewind_after_first) {
    sl__emit_mark(em, &pos);
    sl_status st = sl__emit_stream_begin_auto(em, "first", err);
    if (!st) st = sl_emit_stream_feed(em, fc->chunks[0], strlen(fc->chunks[0]), err);
    if (st) return st;
    if ((st = sl__emit_rewind(em, &pos, err))) return st;
  }
  sl_status st = sl__emit_stream_begin_auto(em, "doc", err);
  for (int i = 0; !st && i < 4 && fc->chunks[i]; i++)
    st = sl_emit_stream_feed(em, fc->chunks[i], strlen(fc->chunks[i]), err);
  if (!st) st = sl_emit_stream_end(em, err);
  return st;
}

static char *extract_one(const feed_case *fc, uint64_t *records, sl_error *err) {
  char tmpl[] = "/tmp/sl_test_rest_XXXXXX";
  char *dir = mkdtemp(tmpl);
  sl_source *s = sl_source_new("t");
  sl_resource_def d;
  sl_resource_def_init(&d);
  d.name = "r";
  d.fn = feeder;
  d.ud = (void *)fc;
  sl_source_add_resource(s, &d, err);
  sl_doc *sd = sl_doc_new("state");
  sd->root = sl_v_object(sd);
  sl__extract_opts o = {.extract_dir = dir, .file_max_bytes = 40, .state_doc = sd,
                        .resources_state = sd->root};
  sl__extract_result *res = NULL;
  size_t n = 0;
  sl_status st = sl__source_extract(s, &o, &res, &n, err);
  sl_buf all = {0};
  sl_buf_puts(&all, "");
  *records = 0;
  for (size_t i = 0; st == SL_OK && i < n; i++) {
    *records = res[i].records;
    for (unsigned k = 0; k < res[i].files; k++) {
      char path[512], *data = NULL;
      size_t len = 0;
      snprintf(path, sizeof path, "%s/r.%u.jsonl", dir, k);
      if (sl_read_file(path, &data, &len, NULL) == SL_OK) sl_buf_append(&all, data, len);
      free(data);
    }
  }
  sl__extract_results_free(res, n);
  sl_source_free(s);
  sl_doc_free(sd);
  sl_rm_rf(dir, NULL);
  return sl_buf_steal(&all, NULL);
}

TEST(auto_selector_finds_records) {
  sl_error err;
  uint64_t n;
  feed_case a = {{"{\"bookmark\": \"x\", \"it", "ems\": [{\"id\": 1}, {\"id\"", ": 2}], \"n\": 2}", NULL}, false};
  char *out = extract_one(&a, &n, &err);
  CHECK_INT(n, 2);
  CHECK_STR(out, "{\"id\": 1}\n{\"id\": 2}\n");
  free(out);
  feed_case b = {{"[{\"a\":1},", "{\"a\":2}]", NULL}, false};
  out = extract_one(&b, &n, &err);
  CHECK_INT(n, 2);
  free(out);
  /* an object without a usual list: the object is the record */
  feed_case c = {{"{\"id\": 7, \"tags\": [1,", " 2], \"x\": {\"y\": null}}", NULL}, false};
  out = extract_one(&c, &n, &err);
  CHECK_INT(n, 1);
  CHECK_STR(out, "{\"id\": 7, \"tags\": [1, 2], \"x\": {\"y\": null}}\n");
  free(out);
}

TEST(rewind_cuts_a_broken_attempt_across_rotated_files) {
  sl_error err;
  uint64_t n;
  /* the first attempt writes two records (and rotates: files are 40 bytes),
   * breaks off, and is rewound; the second delivers three records */
  feed_case a = {{"{\"data\": [{\"id\": 1, \"pad\": \"xxxxxxxxxxxxxxxxxxxx\"}, {\"id\": 2, \"pad\": \"yyyyyyyyyyyyyyyyyyyyyyy\"}, {\"id\"",
                  ": 3}]}", NULL},
                 true};
  char *out = extract_one(&a, &n, &err);
  CHECK_INT(n, 3);
  CHECK_STR(out, "{\"id\": 1, \"pad\": \"xxxxxxxxxxxxxxxxxxxx\"}\n"
                 "{\"id\": 2, \"pad\": \"yyyyyyyyyyyyyyyyyyyyyyy\"}\n{\"id\": 3}\n");
  free(out);
}

TEST_MAIN()
