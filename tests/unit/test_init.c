/* The `sluice init` generator: the Pinterest specs (counts, selectors,
 * paginators, parent chains, disabled resources), a small spec pinned byte
 * for byte, determinism, and writing the pipeline folder. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rest/rest_int.h"
#include "sluice/config.h"
#include "sluice/openapi.h"
#include "sluice/source.h"
#include "test.h"

static char shared_path[1024];
static const char *shared(const char *name) {
  snprintf(shared_path, sizeof shared_path, "%s/specs/%s", SL_SHARED_DIR, name);
  return shared_path;
}

static sl_init_result *gen_file(const char *path, const char *name, sl_openapi **spec_out) {
  sl_error err;
  sl_openapi *s = sl_openapi_load(path, &err);
  if (!s) {
    fprintf(stderr, "  load %s: %s\n", path, err.msg);
    return NULL;
  }
  sl_init_options o = {.name = name};
  sl_init_result *r = sl_init_generate(s, &o, &err);
  if (!r) fprintf(stderr, "  generate: %s\n", err.msg);
  if (spec_out) *spec_out = s;
  else sl_openapi_free(s);
  return r;
}

static const char SMALL_SPEC[] =
    "openapi: 3.0.3\n"
    "info: {title: Small API, version: '1.0'}\n"
    "servers:\n"
    "  - url: https://{region}.example.com/api/\n"
    "    variables:\n"
    "      region: {default: eu}\n"
    "components:\n"
    "  securitySchemes:\n"
    "    key: {type: apiKey, in: header, name: X-API-Key}\n"
    "  schemas:\n"
    "    Org:\n"
    "      type: object\n"
    "      properties:\n"
    "        id: {type: integer}\n"
    "        name: {type: string}\n"
    "    Project:\n"
    "      allOf:\n"
    "        - $ref: '#/components/schemas/Org'\n"
    "        - properties:\n"
    "            org_id: {type: integer}\n"
    "security:\n"
    "  - key: []\n"
    "paths:\n"
    "  /orgs:\n"
    "    get:\n"
    "      summary: List organisations\n"
    "      parameters:\n"
    "        - {name: offset, in: query, schema: {type: integer}}\n"
    "        - {name: limit, in: query, schema: {type: integer, maximum: 100}}\n"
    "      responses:\n"
    "        '200':\n"
    "          content:\n"
    "            application/json:\n"
    "              schema:\n"
    "                type: object\n"
    "                properties:\n"
    "                  total: {type: integer}\n"
    "                  results: {type: array, items: {$ref: '#/components/schemas/Org'}}\n"
    "  /orgs/{org_id}/projects:\n"
    "    get:\n"
    "      summary: Projects of an organisation\n"
    "      parameters:\n"
    "        - {name: org_id, in: path, required: true, schema: {type: integer}}\n"
    "        - {name: page, in: query, schema: {type: integer, minimum: 1}}\n"
    "        - {name: per_page, in: query, schema: {type: integer, maximum: 50}}\n"
    "        - {name: status, in: query, required: true, schema: {type: string, enum: [active, archived]}}\n"
    "      responses:\n"
    "        '200':\n"
    "          content:\n"
    "            application/json:\n"
    "              schema:\n"
    "                type: object\n"
    "                properties:\n"
    "                  data: {type: array, items: {$ref: '#/components/schemas/Project'}}\n"
    "                  total_pages: {type: integer}\n"
    "  /orgs/{org_id}/projects/{project_id}/tasks:\n"
    "    get:\n"
    "      summary: Tasks\n"
    "      parameters:\n"
    "        - {name: org_id, in: path, required: true, schema: {type: integer}}\n"
    "        - {name: project_id, in: path, required: true, schema: {type: integer}}\n"
    "        - {name: cursor, in: query, schema: {type: string}}\n"
    "      responses:\n"
    "        '200':\n"
    "          content:\n"
    "            application/json:\n"
    "              schema:\n"
    "                type: object\n"
    "                properties:\n"
    "                  items: {type: array, items: {type: object, properties: {id: {type: string}}}}\n"
    "                  meta: {type: object, properties: {next_cursor: {type: string}}}\n"
    "  /events:\n"
    "    get:\n"
    "      summary: Events by Link header\n"
    "      responses:\n"
    "        '200':\n"
    "          headers:\n"
    "            Link: {schema: {type: string}}\n"
    "          content:\n"
    "            application/json:\n"
    "              schema: {type: array, items: {type: object, properties: {id: {type: string}}}}\n"
    "  /search:\n"
    "    get:\n"
    "      summary: Search\n"
    "      parameters:\n"
    "        - {name: q, in: query, required: true, description: The search text, schema: {type: string}}\n"
    "      responses:\n"
    "        '200':\n"
    "          content:\n"
    "            application/json:\n"
    "              schema: {type: object, properties: {hits: {type: array, items: {type: object}}, next: {type: string}}}\n"
    "  /me:\n"
    "    get:\n"
    "      summary: The current user\n"
    "      responses:\n"
    "        '200':\n"
    "          content:\n"
    "            application/json:\n"
    "              schema: {type: object, properties: {id: {type: string}, tags: {type: array, items: {type: string}}}}\n";

static const char SMALL_YAML[] =
    "# The small source, generated by `sluice init small` from\n"
    "#   small.yaml (Small API 1.0, OpenAPI 3.0.3).\n"
    "# 6 resources, 5 selected; the others are commented out, each with what it needs.\n"
    "# base_url and the other settings are in .sluice/config.toml, credentials in\n"
    "# .sluice/secrets.toml. Format: dlt's rest_api source (see docs/init.md).\n"
    "\n"
    "name: small\n"
    "# nested lists become child tables one level deep; deeper data stays JSON\n"
    "max_table_nesting: 1\n"
    "client:\n"
    "  base_url: ${sources.small.base_url}\n"
    "  auth:\n"
    "    type: api_key\n"
    "    name: X-API-Key\n"
    "    location: header\n"
    "    api_key: ${sources.small.api_key}\n"
    "\n"
    "resources:\n"
    "\n"
    "  # GET /orgs -- List organisations\n"
    "  - name: orgs\n"
    "    primary_key: id\n"
    "    write_disposition: merge\n"
    "    endpoint:\n"
    "      path: /orgs\n"
    "      data_selector: results\n"
    "      paginator:\n"
    "        type: offset\n"
    "        limit: 100\n"
    "        offset_param: offset\n"
    "        limit_param: limit\n"
    "        total_path: total\n"
    "\n"
    "  # GET /orgs/{org_id}/projects -- Projects of an organisation\n"
    "  - name: projects\n"
    "    primary_key: id\n"
    "    write_disposition: merge\n"
    "    endpoint:\n"
    "      path: /orgs/{org_id}/projects\n"
    "      params:\n"
    "        per_page: 50\n"
    "        status: active\n"
    "        org_id:\n"
    "          type: resolve\n"
    "          resource: orgs\n"
    "          field: id\n"
    "      data_selector: data\n"
    "      paginator:\n"
    "        type: page_number\n"
    "        base_page: 1\n"
    "        page_param: page\n"
    "        total_path: total_pages\n"
    "\n"
    "  # GET /orgs/{org_id}/projects/{project_id}/tasks -- Tasks\n"
    "  - name: tasks\n"
    "    primary_key: id\n"
    "    write_disposition: merge\n"
    "    endpoint:\n"
    "      path: /orgs/{org_id}/projects/{project_id}/tasks\n"
    "      params:\n"
    "        org_id:\n"
    "          type: resolve\n"
    "          resource: projects\n"
    "          field: org_id\n"
    "        project_id:\n"
    "          type: resolve\n"
    "          resource: projects\n"
    "          field: id\n"
    "      data_selector: items\n"
    "      paginator:\n"
    "        type: cursor\n"
    "        cursor_path: meta.next_cursor\n"
    "        cursor_param: cursor\n"
    "    include_from_parent:\n"
    "      - org_id\n"
    "      - id\n"
    "\n"
    "  # GET /events -- Events by Link header\n"
    "  - name: events\n"
    "    primary_key: id\n"
    "    write_disposition: merge\n"
    "    endpoint:\n"
    "      path: /events\n"
    "      data_selector: $\n"
    "      paginator:\n"
    "        type: header_link\n"
    "\n"
    "  # GET /search -- Search\n"
    "  # DISABLED: required query parameter 'q' (The search text) has no default, enum or source\n"
    "  #   list: add 'q: <value>' under endpoint.params and set selected: true\n"
    "  # (commented out: uncomment, supply the value, set selected: true)\n"
    "  # - name: search\n"
    "  #   write_disposition: replace\n"
    "  #   selected: false\n"
    "  #   endpoint:\n"
    "  #     path: /search\n"
    "  #     data_selector: hits\n"
    "  #     paginator:\n"
    "  #       type: json_link\n"
    "  #       next_url_path: next\n"
    "\n"
    "  # GET /me -- The current user\n"
    "  - name: me\n"
    "    primary_key: id\n"
    "    write_disposition: merge\n"
    "    endpoint:\n"
    "      path: /me\n"
    "      data_selector: $\n"
    "      paginator:\n"
    "        type: single_page\n";

TEST(small_spec_golden) {
  sl_error err;
  sl_openapi *s = sl_openapi_parse(SMALL_SPEC, strlen(SMALL_SPEC), "small.yaml", &err);
  CHECK_MSG(s, "%s", err.msg);
  sl_init_options o = {.name = "small"};
  sl_init_result *r = sl_init_generate(s, &o, &err);
  CHECK_MSG(r, "%s", err.msg);
  if (strcmp(r->source_yaml, SMALL_YAML)) {
    fprintf(stderr, "--- got:\n%s--- end\n", r->source_yaml);
    CHECK_STR(r->source_yaml, SMALL_YAML);
  }
  CHECK_STR(r->base_url, "https://eu.example.com/api"); /* server variable, no trailing / */
  CHECK_CONTAINS(r->config_toml, "base_url = \"https://eu.example.com/api\"");
  CHECK_CONTAINS(r->secrets_toml, "api_key = \"<your API key>\"");
  CHECK_CONTAINS(r->secrets_toml, "SOURCES__SMALL__<KEY>");
  CHECK_CONTAINS(r->auth, "api_key");
  CHECK_INT(r->nresources, 6);
  CHECK_INT(r->nselected, 5);
  CHECK_STR(sl_init_find(r, "tasks")->parent, "projects");
  CHECK_STR(sl_init_find(r, "projects")->parent, "orgs");
  CHECK_CONTAINS(sl_init_find(r, "search")->disabled_reason, "'q'");
  /* the same spec gives the same bytes */
  sl_init_result *again = sl_init_generate(s, &o, &err);
  CHECK(again);
  CHECK_STR(again->source_yaml, r->source_yaml);
  CHECK_STR(again->config_toml, r->config_toml);
  sl_init_result_free(again);
  /* --endpoints */
  const char *globs[] = {"/orgs*"};
  o.endpoints = globs;
  o.nendpoints = 1;
  sl_init_result *some = sl_init_generate(s, &o, &err);
  CHECK(some);
  CHECK_INT(some->get_operations, 6);
  CHECK_INT(some->matched, 3);
  CHECK_INT(some->nresources, 3);
  sl_init_result_free(some);
  globs[0] = "/nothing";
  CHECK(!sl_init_generate(s, &o, &err));
  CHECK_INT(err.code, SL_NOT_FOUND);
  o.endpoints = NULL;
  o.nendpoints = 0;
  o.name = "Bad-Name";
  CHECK(!sl_init_generate(s, &o, &err));
  CHECK_INT(err.code, SL_INVALID_ARG);
  o.name = "small";
  o.destination = "oracle";
  CHECK(!sl_init_generate(s, &o, &err));
  CHECK_CONTAINS(err.msg, "unknown destination 'oracle'");
  sl_init_result_free(r);
  sl_openapi_free(s);
}

/* --global-limit N writes the real key (resource_defaults.endpoint.limit),
 * and the source loader gives every REST resource that page limit. */
TEST(global_limit_writes_the_endpoint_limit) {
  sl_error err;
  sl_openapi *s = sl_openapi_parse(SMALL_SPEC, strlen(SMALL_SPEC), "small.yaml", &err);
  CHECK_MSG(s, "%s", err.msg);
  sl_init_options o = {.name = "small", .global_limit = 2};
  sl_init_result *r = sl_init_generate(s, &o, &err);
  CHECK_MSG(r, "%s", err.msg);
  if (!r) return;
  CHECK_CONTAINS(r->source_yaml, "\nresource_defaults:\n  endpoint:\n    limit: 2\n\nresources:\n");
  CHECK(!strstr(r->source_yaml, "sluice run --limit"));
  char dir[256];
  snprintf(dir, sizeof dir, "%s/test_init_limit_%d", SL_BINARY_DIR, (int)getpid());
  CHECK_OK(sl_init_write(r, "small", dir, true, &err));
  char *empty_env[] = {NULL};
  sl_config_options co = {.project_dir = dir, .home_dir = "", .environ = empty_env};
  sl_config *cfg = sl_config_open(&co, &err);
  CHECK_MSG(cfg, "%s", err.msg);
  sl_source_env env = {.base_dir = dir, .config = cfg};
  char path[512], line[1024];
  snprintf(path, sizeof path, "%s/small.source.yaml", dir);
  sl_source *src = sl_source_load_file(path, &env, &err);
  CHECK_MSG(src, "%s", sl_error_format(&err, line, sizeof line));
  const char *names[] = {"orgs", "projects", "tasks", "events", "me"};
  for (size_t i = 0; src && i < sizeof names / sizeof names[0]; i++) {
    const sl_resource *res = sl_source_find(src, names[i]);
    CHECK_MSG(res && ((rest_resource *)res->ud)->limit == 2, "%s", names[i]);
  }
  sl_source_free(src);
  sl_config_free(cfg);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK_INT(system(cmd), 0);
  sl_init_result_free(r);
  sl_openapi_free(s);
}

/* A path variable or id list that only a nullable field carries resolves
 * with skip_null (and says so above the resource); a never-null field of the
 * same name elsewhere wins, without skip_null. */
static const char NULLABLE_SPEC[] =
    "openapi: 3.0.3\n"
    "info: {title: Links, version: '1'}\n"
    "paths:\n"
    "  /integrations:\n"
    "    get:\n"
    "      responses:\n"
    "        '200':\n"
    "          content:\n"
    "            application/json:\n"
    "              schema: {type: array, items: {type: object, properties: {id: {type: string},"
    " external_id: {type: string, nullable: true}, shop_code: {type: string, nullable: true}}}}\n"
    "  /shops:\n"
    "    get:\n"
    "      responses:\n"
    "        '200':\n"
    "          content:\n"
    "            application/json:\n"
    "              schema: {type: array, items: {type: object, properties: {id: {type: string},"
    " shop_code: {type: string}}}}\n"
    "  /commerce/{external_id}:\n"
    "    get:\n"
    "      summary: Commerce by external id\n"
    "      parameters:\n"
    "        - {name: external_id, in: path, required: true, schema: {type: string}}\n"
    "      responses:\n"
    "        '200': {content: {application/json: {schema: {type: object, properties: {id: {type: string}}}}}}\n"
    "  /codes/{shop_code}:\n"
    "    get:\n"
    "      parameters:\n"
    "        - {name: shop_code, in: path, required: true, schema: {type: string}}\n"
    "      responses:\n"
    "        '200': {content: {application/json: {schema: {type: object, properties: {id: {type: string}}}}}}\n";

TEST(nullable_link_skips_null) {
  sl_error err;
  sl_openapi *s = sl_openapi_parse(NULLABLE_SPEC, strlen(NULLABLE_SPEC), "links.yaml", &err);
  CHECK_MSG(s, "%s", err.msg);
  if (!s) return;
  sl_init_options o = {.name = "links"};
  sl_init_result *r = sl_init_generate(s, &o, &err);
  CHECK_MSG(r, "%s", err.msg);
  if (!r) {
    sl_openapi_free(s);
    return;
  }
  CHECK_INT(r->nselected, 4);
  CHECK_STR(sl_init_find_path(r, "/commerce/{external_id}")->parent, "integrations");
  CHECK_CONTAINS(r->source_yaml,
                 "  # GET /commerce/{external_id} -- Commerce by external id\n"
                 "  # {external_id} from integrations.external_id,\n"
                 "  #   which the spec marks nullable: a record where it is null makes no "
                 "request (skip_null)\n"
                 "  - name: commerce_detail\n"
                 "    primary_key: id\n"
                 "    write_disposition: merge\n"
                 "    endpoint:\n"
                 "      path: /commerce/{external_id}\n"
                 "      params:\n"
                 "        external_id:\n"
                 "          type: resolve\n"
                 "          resource: integrations\n"
                 "          field: external_id\n"
                 "          skip_null: true\n");
  CHECK_STR(sl_init_find_path(r, "/codes/{shop_code}")->parent, "shops");
  CHECK_CONTAINS(r->source_yaml, "          resource: shops\n          field: shop_code\n"
                                 "      data_selector: $\n");
  sl_init_result_free(r);
  sl_openapi_free(s);
}

/* Date ranges: the limits an operation's words state, in either place. */
static const char DATES_SPEC[] =
    "openapi: 3.0.3\n"
    "info: {title: Dates, version: '1'}\n"
    "servers: [{url: 'https://api.example.com'}]\n"
    "components:\n"
    "  schemas:\n"
    "    Rows: {type: array, items: {type: object, properties: {day: {type: string}}}}\n"
    "paths:\n"
    "  /stats:\n"
    "    get:\n"
    "      summary: Stats\n"
    "      description: |\n"
    "        - You can pull data from up to 2 years before the current date, with a maximum\n"
    "          time range of 31 days.\n"
    "        - If granularity is HOUR, up to 8 days before, with a maximum time range of 3 days.\n"
    "      parameters:\n"
    "        - {name: from_date, in: query, required: true, schema: {type: string, format: date}}\n"
    "        - {name: to_date, in: query, required: true, schema: {type: string, format: date}}\n"
    "      responses:\n"
    "        '200': {content: {application/json: {schema: {$ref: '#/components/schemas/Rows'}}}}\n"
    "  /hourly:\n"
    "    get:\n"
    "      parameters:\n"
    "        - {name: start_date, in: query, required: true, description: 'At most 8 days back.',\n"
    "           schema: {type: string, format: date}}\n"
    "        - {name: end_date, in: query, required: true, schema: {type: string, format: date}}\n"
    "      responses:\n"
    "        '200': {content: {application/json: {schema: {$ref: '#/components/schemas/Rows'}}}}\n"
    "  /unsaid:\n"
    "    get:\n"
    "      parameters:\n"
    "        - {name: since, in: query, required: true, schema: {type: string, format: date}}\n"
    "        - {name: until_date, in: query, required: true, schema: {type: string, format: date}}\n"
    "      responses:\n"
    "        '200': {content: {application/json: {schema: {$ref: '#/components/schemas/Rows'}}}}\n";

TEST(date_window_limits) {
  sl_error err;
  sl_openapi *s = sl_openapi_parse(DATES_SPEC, strlen(DATES_SPEC), "dates.yaml", &err);
  CHECK_MSG(s, "%s", err.msg);
  if (!s) return;
  sl_init_options o = {.name = "dates"};
  sl_init_result *r = sl_init_generate(s, &o, &err);
  CHECK_MSG(r, "%s", err.msg);
  if (!r) {
    sl_openapi_free(s);
    return;
  }
  CHECK_INT(r->date_windows, 3);
  /* the first statement of the operation's description: 2 years, 31 days */
  const sl_init_resource *st = sl_init_find_path(r, "/stats");
  CHECK_INT(st->range_lookback_days, 730);
  CHECK_INT(st->range_span_days, 31);
  CHECK_CONTAINS(r->source_yaml, "      incremental:\n"
                                 "        start_param: from_date\n"
                                 "        end_param: to_date\n"
                                 "        initial_value: ${sources.dates.start_date}\n"
                                 "        end_value: ${sources.dates.end_date}\n"
                                 "        range_span_days: 31\n"
                                 "        range_lookback_days: 730\n");
  CHECK_CONTAINS(r->source_yaml, "  - name: stats\n    write_disposition: append\n");
  /* 8 days back at most: the first run starts there, not 30 days back */
  const sl_init_resource *h = sl_init_find_path(r, "/hourly");
  CHECK_INT(h->range_lookback_days, 8);
  CHECK_CONTAINS(r->source_yaml, "        initial_value: \"{today-8d}\"\n");
  /* nothing said: 90 days per request, no look-back, and the comment says so */
  const sl_init_resource *u = sl_init_find_path(r, "/unsaid");
  CHECK_INT(u->range_span_days, 90);
  CHECK_INT(u->range_lookback_days, 0);
  CHECK_CONTAINS(r->source_yaml, "The spec states no\n  #   longest range: 90 days per request;");
  CHECK_CONTAINS(r->config_toml, "start_date = \"{today-30d}\"\nend_date = \"{today}\"\n");
  sl_init_result_free(r);
  sl_openapi_free(s);
}

TEST(pinterest_523) {
  sl_init_result *r = gen_file(shared("pinterest-5.23.yaml"), "pinterest", NULL);
  CHECK(r);
  CHECK_INT(r->get_operations, 125);
  CHECK_INT(r->nresources, 125);
  /* 113 of 125 run with zero hand edits. The other 12 need what no spec can
   * give: ids from a POST, report tokens, search terms. Two resolve from a
   * field the spec marks nullable, with skip_null: a parent record where it
   * is null makes no request. */
  CHECK_MSG(r->nselected * 100 >= 90 * r->nresources, "only %zu of %zu selected", r->nselected,
            r->nresources);
  CHECK_INT(r->nselected, 113);
  const sl_init_resource *pga =
      sl_init_find_path(r, "/ad_accounts/{ad_account_id}/product_groups/analytics");
  CHECK(pga && !pga->disabled_reason);
  CHECK_STR(pga->parent, "product_group_promotions");
  CHECK_CONTAINS(r->source_yaml, "        product_group_ids:\n          type: resolve\n"
                                 "          resource: product_group_promotions\n"
                                 "          field: catalog_product_group_id\n"
                                 "          skip_null: true\n");
  const sl_init_resource *com = sl_init_find_path(r, "/integrations/commerce/{external_business_id}");
  CHECK(com && !com->disabled_reason);
  CHECK_STR(com->parent, "integrations");
  CHECK_CONTAINS(r->source_yaml, "        external_business_id:\n          type: resolve\n"
                                 "          resource: integrations\n"
                                 "          field: external_business_id\n"
                                 "          skip_null: true\n");
  CHECK_CONTAINS(r->source_yaml, "  # {external_business_id} from integrations.external_business_id,\n"
                                 "  #   which the spec marks nullable: a record where it is null "
                                 "makes no request (skip_null)\n");
  /* a field that is never null is preferred: campaigns analytics need no skip */
  const char *ca_yaml = strstr(r->source_yaml, "  - name: campaigns_analytics\n");
  CHECK(ca_yaml);
  const char *next_res = ca_yaml ? strstr(ca_yaml + 4, "  - name: ") : NULL;
  const char *skip = ca_yaml ? strstr(ca_yaml, "skip_null") : NULL;
  CHECK(next_res && (!skip || skip > next_res));
  /* pins: the `items` envelope, bookmark cursor, the spec's largest page size */
  const sl_init_resource *pins = sl_init_find_path(r, "/pins");
  CHECK(pins);
  CHECK_STR(pins->name, "pins");
  CHECK_STR(pins->data_selector, "items");
  CHECK_STR(pins->paginator, "cursor");
  CHECK_INT(pins->page_size, 250);
  CHECK_STR(pins->primary_key, "id");
  CHECK(!pins->parent);
  CHECK_CONTAINS(r->source_yaml, "        cursor_path: bookmark\n        cursor_param: bookmark\n");
  /* parent chains resolved by path prefix and variable name */
  CHECK_STR(sl_init_find_path(r, "/ad_accounts/{ad_account_id}/campaigns")->parent, "ad_accounts");
  CHECK_STR(sl_init_find_path(r, "/ad_accounts/{ad_account_id}/ad_groups")->parent, "ad_accounts");
  CHECK_STR(sl_init_find_path(r, "/ad_accounts/{ad_account_id}/ads")->parent, "ad_accounts");
  CHECK_STR(sl_init_find_path(r, "/ad_accounts/{ad_account_id}/campaigns/{campaign_id}")->parent,
            "campaigns");
  CHECK_STR(sl_init_find_path(r, "/ad_accounts/{ad_account_id}/ad_groups/{ad_group_id}")->parent,
            "ad_groups");
  CHECK_STR(sl_init_find_path(r, "/ad_accounts/{ad_account_id}/ads/{ad_id}")->parent, "ads");
  /* analytics with required id lists: the list named for them is the parent */
  const sl_init_resource *ca = sl_init_find_path(r, "/ad_accounts/{ad_account_id}/campaigns/analytics");
  CHECK(ca);
  CHECK_STR(ca->parent, "campaigns");
  CHECK(!ca->disabled_reason);
  CHECK_STR(sl_init_find_path(r, "/ad_accounts/{ad_account_id}/ad_groups/analytics")->parent,
            "ad_groups");
  /* ad_ids is optional on ads analytics: one request per account */
  CHECK_STR(sl_init_find_path(r, "/ad_accounts/{ad_account_id}/ads/analytics")->parent,
            "ad_accounts");
  /* pin_ids and campaign_id both come from ads, which carry pin_id and campaign_id */
  CHECK_STR(sl_init_find_path(r, "/ad_accounts/{ad_account_id}/pins/analytics")->parent, "ads");
  /* boards -> sections -> pins, with board_id carried through the section */
  CHECK_STR(sl_init_find_path(r, "/boards/{board_id}/sections")->parent, "boards");
  const sl_init_resource *sp = sl_init_find_path(r, "/boards/{board_id}/sections/{section_id}/pins");
  CHECK(sp);
  CHECK_STR(sp->parent, "sections");
  CHECK_INT(sp->nresolved, 2);
  CHECK_CONTAINS(r->source_yaml, "          resource: sections\n          field: _boards_id\n");
  CHECK_STR(sl_init_find_path(r, "/boards/{board_id}/pins")->parent, "boards");
  /* required params: enums, all values of enum arrays, the date window */
  CHECK_CONTAINS(r->source_yaml, "        granularity: DAY\n");
  CHECK_CONTAINS(r->source_yaml, "        columns: SPEND_IN_MICRO_DOLLAR,");
  /* start_date/end_date: an incremental window with the limits the
   * descriptions state ("Cannot be more than 90 days back from today",
   * "... 90 days past start_date"); nothing in the files depends on the day */
  CHECK_CONTAINS(r->source_yaml, "      incremental:\n"
                                 "        start_param: start_date\n"
                                 "        end_param: end_date\n"
                                 "        initial_value: ${sources.pinterest.start_date}\n"
                                 "        end_value: ${sources.pinterest.end_date}\n"
                                 "        range_span_days: 90\n"
                                 "        range_lookback_days: 90\n");
  CHECK(!strstr(r->source_yaml, "        start_date: "));
  CHECK_CONTAINS(r->config_toml, "start_date = \"{today-30d}\"\nend_date = \"{today}\"\n");
  CHECK_INT(r->date_windows, 15);
  const sl_init_resource *aa = sl_init_find_path(r, "/ad_accounts/{ad_account_id}/analytics");
  CHECK(aa && aa->date_window);
  CHECK_INT(aa->range_span_days, 90);
  CHECK_INT(aa->range_lookback_days, 90);
  /* a lone date is a day of the window */
  CHECK_CONTAINS(r->source_yaml, "        date: ${sources.pinterest.end_date}\n");
  /* disabled ones say what to supply */
  const sl_init_resource *pp = sl_init_find_path(r, "/search/partner/pins");
  CHECK(pp);
  CHECK_CONTAINS(pp->disabled_reason, "required query parameter 'term'");
  CHECK_CONTAINS(pp->disabled_reason, "set selected: true");
  const sl_init_resource *bulk = sl_init_find_path(r, "/ad_accounts/{ad_account_id}/bulk/{bulk_request_id}");
  CHECK(bulk);
  CHECK_CONTAINS(bulk->disabled_reason, "{bulk_request_id}");
  CHECK_CONTAINS(r->source_yaml, "  # DISABLED: path variable {bulk_request_id}");
  /* auth: OAuth2 refresh with the token URL, and the bearer alternative */
  CHECK_CONTAINS(r->auth, "oauth2_refresh_token");
  CHECK_CONTAINS(r->config_toml, "token_url = \"https://api.pinterest.com/v5/oauth/token\"");
  CHECK_CONTAINS(r->config_toml, "base_url = \"https://api.pinterest.com/v5\"");
  CHECK_CONTAINS(r->source_yaml, "    type: oauth2_refresh_token\n");
  CHECK_CONTAINS(r->source_yaml, "#   auth: {type: bearer");
  CHECK_CONTAINS(r->secrets_toml, "refresh_token = \"<your refresh token>\"");
  CHECK_CONTAINS(r->secrets_toml, "# access_token = ");
  /* names are unique */
  for (size_t i = 0; i < r->nresources; i++)
    for (size_t j = i + 1; j < r->nresources; j++)
      CHECK_MSG(strcmp(r->resources[i].name, r->resources[j].name), "duplicate name %s",
                r->resources[i].name);
  sl_init_result_free(r);
}

TEST(pinterest_513_items_envelopes) {
  /* 5.13 has list envelopes whose `items` lacks `type: array` */
  sl_init_result *r = gen_file(shared("pinterest-5.13.yaml"), "pinterest", NULL);
  CHECK(r);
  CHECK_INT(r->get_operations, 109);
  size_t items = 0, cursor = 0;
  for (size_t i = 0; i < r->nresources; i++) {
    items += !strcmp(r->resources[i].data_selector, "items");
    cursor += !strcmp(r->resources[i].paginator, "cursor");
  }
  CHECK_INT(cursor, 49);
  CHECK(items >= 49);
  CHECK(r->nselected * 100 >= 85 * r->nresources);
  const sl_init_resource *pins = sl_init_find_path(r, "/pins");
  CHECK_STR(pins->data_selector, "items");
  CHECK_INT(pins->page_size, 250);
  sl_init_result_free(r);
}

TEST(pokeapi) {
  sl_init_result *r = gen_file(shared("pokeapi.yml"), "pokeapi", NULL);
  CHECK(r);
  CHECK_INT(r->nresources, 2);
  CHECK_INT(r->nselected, 2);
  const sl_init_resource *list = sl_init_find_path(r, "/api/v2/pokemon/");
  CHECK_STR(list->name, "pokemon");
  CHECK_STR(list->data_selector, "results");
  CHECK_STR(list->paginator, "json_link");
  const sl_init_resource *one = sl_init_find_path(r, "/api/v2/pokemon/{name}/");
  CHECK_STR(one->parent, "pokemon");
  CHECK_STR(one->data_selector, "$");
  CHECK_CONTAINS(r->source_yaml, "          resource: pokemon\n          field: name\n");
  CHECK_STR(r->base_url, "https://pokeapi.co");
  CHECK_CONTAINS(r->auth, "none");
  sl_init_result_free(r);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 20);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

TEST(write_folder_and_refuse_overwrite) {
  sl_error err;
  sl_openapi *s = sl_openapi_parse(SMALL_SPEC, strlen(SMALL_SPEC), "small.yaml", &err);
  CHECK(s);
  sl_init_options o = {.name = "small", .destination = "duckdb"};
  sl_init_result *r = sl_init_generate(s, &o, &err);
  CHECK(r);
  char dir[256];
  snprintf(dir, sizeof dir, "%s/test_init_%d/small_pipeline", SL_BINARY_DIR, (int)getpid());
  CHECK_OK(sl_init_write(r, "small", dir, false, &err));
  char path[512];
  snprintf(path, sizeof path, "%s/small.source.yaml", dir);
  char *text = slurp(path);
  CHECK(text);
  CHECK_STR(text, r->source_yaml);
  free(text);
  snprintf(path, sizeof path, "%s/sluice.toml", dir);
  text = slurp(path);
  CHECK_CONTAINS(text, "name = \"small_pipeline\"");
  CHECK_CONTAINS(text, "source = \"small.source.yaml\"");
  CHECK_CONTAINS(text, "destination = \"duckdb\"");
  free(text);
  snprintf(path, sizeof path, "%s/.gitignore", dir);
  text = slurp(path);
  CHECK_CONTAINS(text, ".sluice/secrets.toml");
  free(text);
  struct stat st;
  snprintf(path, sizeof path, "%s/.sluice/secrets.toml", dir);
  CHECK_INT(stat(path, &st), 0);
  CHECK_INT(st.st_mode & 0777, 0600);
  /* a second init refuses, naming the file; --force replaces */
  CHECK_INT(sl_init_write(r, "small", dir, false, &err), SL_EXISTS);
  CHECK_CONTAINS(err.msg, "sluice.toml exists");
  CHECK_CONTAINS(err.msg, "--force");
  CHECK_OK(sl_init_write(r, "small", dir, true, &err));
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s/test_init_%d", SL_BINARY_DIR, (int)getpid());
  CHECK_INT(system(cmd), 0);
  sl_init_result_free(r);
  sl_openapi_free(s);
}

/* The generated folder loads with the source loader as it is: every key,
 * every ${...} reference (config and secrets placeholders), every resolve
 * (skip_null included). */
static void reload(int *failed_, const char *spec, size_t want_resources) {
  sl_openapi *s = NULL;
  sl_init_result *r = gen_file(spec, "pinterest", &s);
  CHECK(r);
  char dir[256];
  snprintf(dir, sizeof dir, "%s/test_init_reload_%d", SL_BINARY_DIR, (int)getpid());
  sl_error err;
  CHECK_OK(sl_init_write(r, "pinterest", dir, true, &err));
  char *empty_env[] = {NULL};
  sl_config_options co = {.project_dir = dir, .home_dir = "", .environ = empty_env};
  sl_config *cfg = sl_config_open(&co, &err);
  CHECK_MSG(cfg, "%s", err.msg);
  sl_source_env env = {.base_dir = dir, .config = cfg};
  char path[512];
  snprintf(path, sizeof path, "%s/pinterest.source.yaml", dir);
  sl_source *src = sl_source_load_file(path, &env, &err);
  char line[1024];
  CHECK_MSG(src, "%s", sl_error_format(&err, line, sizeof line));
  CHECK_INT(sl_source_resource_count(src), want_resources);
  CHECK(sl_source_find(src, "pins"));
  CHECK_STR(sl_resource_parent(sl_source_find(src, "campaigns")), "ad_accounts");
  CHECK_STR(sl_resource_parent(sl_source_find(src, "sections_pins")), "sections");
  sl_source_free(src);
  sl_config_free(cfg);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK_INT(system(cmd), 0);
  sl_init_result_free(r);
  sl_openapi_free(s);
}

TEST(generated_source_reloads_523) { reload(failed_, shared("pinterest-5.23.yaml"), 113); }
TEST(generated_source_reloads_513) { reload(failed_, shared("pinterest-5.13.yaml"), 98); }

TEST_MAIN()
