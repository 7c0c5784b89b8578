/* `sluice init`, step 3: auth from securitySchemes, the source YAML (with a
 * comment per resource), the TOML files, writing the folder and the report. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init/init_int.h"
#include "sluice/yaml.h"

/* ---- auth ------------------------------------------------------------------------- */

typedef struct auth_pick {
  const char *kind; /* oauth2_refresh_token, oauth2_client_credentials, bearer, api_key, http_basic */
  const char *scheme;
  const char *token_url;
  const char *key_name, *key_in;
} auth_pick;

static void count_security(const sl_value *sec, const char **names, size_t *counts, size_t n) {
  for (size_t i = 0; i < sl_v_len(sec); i++) {
    const sl_value *req = sl_v_at(sec, i);
    for (size_t j = 0; req && req->type == SL_V_OBJECT && j < req->u.obj.len; j++)
      for (size_t k = 0; k < n; k++)
        if (!strcmp(req->u.obj.items[j].key, names[k])) counts[k]++;
  }
}

static auth_pick pick_auth(gen *g) {
  auth_pick a = {0};
  const sl_value *root = sl_openapi_root(g->spec);
  const sl_value *schemes = sl_v_get(sl_v_get(root, "components"), "securitySchemes");
  size_t n = sl_v_len(schemes);
  if (!n || schemes->type != SL_V_OBJECT) return a;
  if (n > 64) n = 64;
  const char *names[64];
  size_t counts[64] = {0};
  for (size_t i = 0; i < n; i++) names[i] = schemes->u.obj.items[i].key;
  const sl_value *global = sl_v_get(root, "security");
  for (size_t i = 0; i < g->nres; i++) {
    const sl_value *s = sl_v_get(g->res[i].op.op, "security");
    count_security(s ? s : global, names, counts, n);
  }
  int best = -1;
  for (size_t i = 0; i < n; i++) {
    const sl_value *sc = sl_openapi_deref(g->spec, schemes->u.obj.items[i].val);
    const char *t = sl_v_str(sl_v_get(sc, "type"), "");
    bool supported = !strcmp(t, "oauth2") || !strcmp(t, "http") || !strcmp(t, "apiKey") ||
                     !strcmp(t, "openIdConnect");
    if (!strcmp(t, "http")) {
      const char *hs = sl_v_str(sl_v_get(sc, "scheme"), "");
      supported = !strcasecmp(hs, "bearer") || !strcasecmp(hs, "basic");
    }
    if (supported && (best < 0 || counts[i] > counts[best])) best = (int)i;
  }
  if (best < 0) return a;
  const sl_value *sc = sl_openapi_deref(g->spec, schemes->u.obj.items[best].val);
  const char *t = sl_v_str(sl_v_get(sc, "type"), "");
  a.scheme = names[best];
  if (!strcmp(t, "oauth2")) {
    const sl_value *flows = sl_v_get(sc, "flows");
    const sl_value *code = sl_v_get(flows, "authorizationCode");
    if (!code) code = sl_v_get(flows, "password");
    const sl_value *cc = sl_v_get(flows, "clientCredentials");
    if (code && sl_v_str(sl_v_get(code, "tokenUrl"), NULL)) {
      a.kind = "oauth2_refresh_token";
      a.token_url = sl_v_str(sl_v_get(code, "tokenUrl"), NULL);
    } else if (cc) {
      a.kind = "oauth2_client_credentials";
      a.token_url = sl_v_str(sl_v_get(cc, "tokenUrl"), NULL);
    } else {
      a.kind = "bearer"; /* implicit flow: the user brings a token */
    }
  } else if (!strcmp(t, "http")) {
    a.kind = !strcasecmp(sl_v_str(sl_v_get(sc, "scheme"), ""), "basic") ? "http_basic" : "bearer";
  } else if (!strcmp(t, "apiKey")) {
    a.kind = "api_key";
    a.key_name = sl_v_str(sl_v_get(sc, "name"), "Authorization");
    a.key_in = sl_v_str(sl_v_get(sc, "in"), "header");
  } else {
    a.kind = "bearer";
  }
  return a;
}

/* ---- YAML --------------------------------------------------------------------------- */

static sl_value *vstr(gen *g, const char *s) { return sl_v_string(g->doc, s, strlen(s)); }

static void put(gen *g, sl_value *o, const char *k, sl_value *v) { sl_v_put(g->doc, o, k, v); }

static char *ref(gen *g, const char *key) { return gen_printf(g, "${sources.%s.%s}", g->source, key); }

/* Emit v as YAML, each line prefixed with indent; the first line with first. */
static void emit_indented(sl_buf *out, const sl_value *v, const char *first, const char *indent) {
  sl_buf tmp = {0};
  sl_yaml_emit(v, &tmp);
  const char *p = tmp.data ? tmp.data : "";
  bool start = true;
  while (*p) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    sl_buf_puts(out, start ? first : indent);
    sl_buf_append(out, p, n);
    sl_buf_putc(out, '\n');
    start = false;
    p += n + (e ? 1 : 0);
  }
  sl_buf_free(&tmp);
}

static sl_value *resource_tree(gen *g, const gres *r) {
  sl_value *o = sl_v_object(g->doc);
  put(g, o, "name", vstr(g, r->name));
  if (r->pk) put(g, o, "primary_key", vstr(g, r->pk));
  /* a date window adds each run's days to what the last ones loaded */
  put(g, o, "write_disposition", vstr(g, r->pk ? "merge" : r->date_start ? "append" : "replace"));
  if (r->reason) put(g, o, "selected", sl_v_bool(g->doc, false));
  sl_value *ep = sl_v_object(g->doc);
  put(g, ep, "path", vstr(g, r->path));
  if (r->params && r->params->u.obj.len) put(g, ep, "params", r->params);
  put(g, ep, "data_selector", vstr(g, r->selector));
  sl_value *pg = sl_v_object(g->doc);
  put(g, pg, "type", vstr(g, r->pag));
  if (!strcmp(r->pag, "cursor")) {
    put(g, pg, "cursor_path", vstr(g, r->cursor_path));
    put(g, pg, "cursor_param", vstr(g, r->cursor_param));
  } else if (!strcmp(r->pag, "json_link")) {
    put(g, pg, "next_url_path", vstr(g, r->next_url_path));
  } else if (!strcmp(r->pag, "offset")) {
    put(g, pg, "limit", sl_v_int(g->doc, r->page_size ? r->page_size : 100));
    put(g, pg, "offset_param", vstr(g, r->offset_param));
    put(g, pg, "limit_param", vstr(g, r->size_param));
    if (r->total_path) put(g, pg, "total_path", vstr(g, r->total_path));
    else {
      put(g, pg, "total_path", sl_v_null(g->doc));
      put(g, pg, "stop_after_empty_page", sl_v_bool(g->doc, true));
    }
  } else if (!strcmp(r->pag, "page_number")) {
    put(g, pg, "base_page", sl_v_int(g->doc, r->base_page));
    put(g, pg, "page_param", vstr(g, r->page_param));
    if (r->total_path) put(g, pg, "total_path", vstr(g, r->total_path));
    else {
      put(g, pg, "total_path", sl_v_null(g->doc));
      put(g, pg, "stop_after_empty_page", sl_v_bool(g->doc, true));
    }
  }
  put(g, ep, "paginator", pg);
  if (r->date_start) {
    /* the range asked for is the cursor: no record field needed */
    sl_value *inc = sl_v_object(g->doc);
    put(g, inc, "start_param", vstr(g, r->date_start));
    put(g, inc, "end_param", vstr(g, r->date_end));
    put(g, inc, "initial_value",
        vstr(g, r->initial_days == 30 ? ref(g, "start_date")
                                      : gen_printf(g, "{today-%lldd}", (long long)r->initial_days)));
    put(g, inc, "end_value", vstr(g, ref(g, "end_date")));
    put(g, inc, "range_span_days", sl_v_int(g->doc, r->span_days));
    if (r->lookback_days) put(g, inc, "range_lookback_days", sl_v_int(g->doc, r->lookback_days));
    put(g, ep, "incremental", inc);
  }
  put(g, o, "endpoint", ep);
  if (r->ninclude) {
    sl_value *inc = sl_v_array(g->doc);
    for (size_t i = 0; i < r->ninclude; i++) sl_v_push(g->doc, inc, vstr(g, r->include[i]));
    put(g, o, "include_from_parent", inc);
  }
  return o;
}

static const char *spec_title(gen *g) {
  const sl_value *info = sl_v_get(sl_openapi_root(g->spec), "info");
  return sl_v_str(sl_v_get(info, "title"), "the API");
}

/* "  # <head><text>" wrapped at about 96 columns, continued with "  #   ". */
static void comment_wrapped(sl_buf *y, const char *head, const char *text) {
  sl_buf_printf(y, "  # %s", head);
  size_t col = 4 + strlen(head);
  bool first = true;
  for (const char *p = text; *p;) {
    while (*p == ' ') p++;
    const char *e = p;
    while (*e && *e != ' ') e++;
    size_t w = (size_t)(e - p);
    if (!w) break;
    if (!first && col + 1 + w > 96) {
      sl_buf_puts(y, "\n  #   ");
      col = 6;
    } else if (!first) {
      sl_buf_putc(y, ' ');
      col++;
    }
    sl_buf_append(y, p, w);
    col += w;
    first = false;
    p = e;
  }
  sl_buf_putc(y, '\n');
}

static void build_source(gen *g, const auth_pick *a, sl_buf *y) {
  const sl_init_options *o = g->opts;
  const char *loc = o->spec_location ? o->spec_location : sl_openapi_name(g->spec);
  const sl_value *info = sl_v_get(sl_openapi_root(g->spec), "info");
  size_t nsel = 0;
  for (size_t i = 0; i < g->nres; i++) nsel += !g->res[i].reason;
  sl_buf_printf(y,
                "# The %s source, generated by `sluice init %s` from\n"
                "#   %s (%s %s, OpenAPI %s).\n"
                "# %zu resources, %zu selected; the others are commented out, each with what it needs.\n"
                "# base_url and the other settings are in .sluice/config.toml, credentials in\n"
                "# .sluice/secrets.toml. Format: dlt's rest_api source (see docs/init.md).\n",
                g->source, g->source, loc, spec_title(g), sl_v_str(sl_v_get(info, "version"), "?"),
                sl_openapi_version(g->spec), g->nres, nsel);
  sl_buf_putc(y, '\n');
  sl_value *top = sl_v_object(g->doc);
  put(g, top, "name", vstr(g, g->source));
  emit_indented(y, top, "", "");
  /* API schemas nest deeply (metric maps, nested lists of lists): one level
   * of child tables keeps the dataset readable and the load quick */
  sl_buf_puts(y, "# nested lists become child tables one level deep; deeper data stays JSON\n"
                 "max_table_nesting: 1\n");
  top = sl_v_object(g->doc);
  sl_value *client = sl_v_object(g->doc);
  put(g, client, "base_url", vstr(g, ref(g, "base_url")));
  if (a->kind) {
    sl_value *au = sl_v_object(g->doc);
    put(g, au, "type", vstr(g, a->kind));
    if (!strcmp(a->kind, "oauth2_refresh_token") || !strcmp(a->kind, "oauth2_client_credentials")) {
      put(g, au, "token_url", vstr(g, ref(g, "token_url")));
      put(g, au, "client_id", vstr(g, ref(g, "client_id")));
      put(g, au, "client_secret", vstr(g, ref(g, "client_secret")));
      if (!strcmp(a->kind, "oauth2_refresh_token"))
        put(g, au, "refresh_token", vstr(g, ref(g, "refresh_token")));
    } else if (!strcmp(a->kind, "bearer")) {
      put(g, au, "token", vstr(g, ref(g, "access_token")));
    } else if (!strcmp(a->kind, "http_basic")) {
      put(g, au, "username", vstr(g, ref(g, "username")));
      put(g, au, "password", vstr(g, ref(g, "password")));
    } else if (!strcmp(a->kind, "api_key")) {
      put(g, au, "name", vstr(g, a->key_name));
      put(g, au, "location", vstr(g, !strcmp(a->key_in, "query") ? "query" : "header"));
      put(g, au, "api_key", vstr(g, ref(g, "api_key")));
    }
    put(g, client, "auth", au);
  }
  put(g, top, "client", client);
  emit_indented(y, top, "", "");
  if (a->kind && !strncmp(a->kind, "oauth2", 6))
    sl_buf_printf(y, "  # With an access token only (no refresh), use instead:\n"
                     "  #   auth: {type: bearer, token: \"${sources.%s.access_token}\"}\n",
                  g->source);
  if (o->global_limit > 0)
    sl_buf_printf(y, "\n# --global-limit %lld: every request series stops after %lld pages (a child:\n"
                     "# per parent record). Remove for a complete load.\n"
                     "resource_defaults:\n"
                     "  endpoint:\n"
                     "    limit: %lld\n",
                  (long long)o->global_limit, (long long)o->global_limit,
                  (long long)o->global_limit);
  sl_buf_puts(y, "\nresources:\n");
  for (size_t i = 0; i < g->nres; i++) {
    const gres *r = &g->res[i];
    sl_buf_printf(y, "\n  # GET %s", r->op.path);
    if (r->summary && *r->summary) sl_buf_printf(y, " -- %s", r->summary);
    sl_buf_putc(y, '\n');
    if (r->notes) {
      for (const char *p = r->notes; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        sl_buf_puts(y, "  ");
        sl_buf_append(y, p, n);
        sl_buf_putc(y, '\n');
        p += n + (e ? 1 : 0);
      }
    }
    if (r->date_start) {
      sl_buf t = {0};
      sl_buf_printf(&t, "%s to %s: an incremental window; the first run asks from %s to "
                        "end_date (.sluice/config.toml), each later one from the day after the "
                        "last end.",
                    r->date_start, r->date_end,
                    r->initial_days == 30 ? "start_date"
                                          : gen_printf(g, "%lld days back", (long long)r->initial_days));
      if (r->span_stated) sl_buf_printf(&t, " The spec allows %lld days per request", (long long)r->span_days);
      else sl_buf_printf(&t, " The spec states no longest range: %lld days per request", (long long)r->span_days);
      if (r->lookback_days) sl_buf_printf(&t, " and %lld days back", (long long)r->lookback_days);
      sl_buf_puts(&t, "; a longer range is asked window by window.");
      comment_wrapped(y, "", t.data);
      sl_buf_free(&t);
    }
    if (r->reason) comment_wrapped(y, "DISABLED: ", r->reason);
    if (!r->reason) {
      emit_indented(y, resource_tree(g, r), "  - ", "    ");
    } else {
      /* Kept as a comment: a path variable without a value would fail
       * validation, and a resource that cannot be called must never run
       * (not even as the parent of another). Uncomment, supply the value,
       * set selected: true. */
      sl_buf_puts(y, "  # (commented out: uncomment, supply the value, set selected: true)\n");
      emit_indented(y, resource_tree(g, r), "  # - ", "  #   ");
    }
  }
}

/* ---- TOML --------------------------------------------------------------------------- */

static void toml_str(sl_buf *b, const char *s) {
  sl_buf_putc(b, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') sl_buf_printf(b, "\\%c", c);
    else if (c < 0x20) sl_buf_printf(b, "\\u%04x", c);
    else sl_buf_putc(b, (char)c);
  }
  sl_buf_putc(b, '"');
}

static const char *server_url(gen *g) {
  const sl_value *servers = sl_v_get(sl_openapi_root(g->spec), "servers");
  const sl_value *s0 = sl_v_at(servers, 0);
  const char *url = sl_v_str(sl_v_get(s0, "url"), NULL);
  if (!url) return NULL;
  /* substitute server variables with their defaults */
  const sl_value *vars = sl_v_get(s0, "variables");
  char *out = sl_arena_strdup(g->a, url);
  for (size_t i = 0; vars && vars->type == SL_V_OBJECT && i < vars->u.obj.len; i++) {
    const char *dv = sl_v_str(sl_v_get(vars->u.obj.items[i].val, "default"), "");
    char pat[256];
    snprintf(pat, sizeof pat, "{%s}", vars->u.obj.items[i].key);
    char *at;
    while ((at = strstr(out, pat)))
      out = gen_printf(g, "%.*s%s%s", (int)(at - out), out, dv, at + strlen(pat));
  }
  size_t n = strlen(out);
  while (n > 0 && out[n - 1] == '/') out[--n] = 0;
  return out;
}

/* A relative token URL is relative to the server's origin (or base). */
static const char *absolute_url(gen *g, const char *base, const char *u) {
  if (!u || strstr(u, "://") || !base) return u;
  const char *scheme = strstr(base, "://");
  if (!scheme) return u;
  if (u[0] == '/') {
    const char *slash = strchr(scheme + 3, '/');
    size_t n = slash ? (size_t)(slash - base) : strlen(base);
    return gen_printf(g, "%.*s%s", (int)n, base, u);
  }
  return gen_printf(g, "%s/%s", base, u);
}

static char *steal(sl_buf *b) {
  char *s = sl_buf_steal(b, NULL);
  return s ? s : strdup("");
}

/* [destination.*] in config.toml and secrets.toml, with dlt's keys. A local
 * folder needs nothing more; Athena needs two S3 places only its owner
 * knows. Credentials are commented out: without them the AWS chain
 * (AWS_* variables, ~/.aws, an instance role) applies. */
static void destination_files(gen *g, const char *dest, sl_buf *c, sl_buf *s) {
  static const char creds[] =
      "# aws_access_key_id = \"<your access key id>\"\n"
      "# aws_secret_access_key = \"<your secret access key>\"\n"
      "# aws_session_token = \"<a session token, with temporary credentials>\"\n"
      "# region_name = \"<your region, e.g. eu-west-1>\"\n"
      "# endpoint_url = \"<an S3-compatible server, e.g. http://127.0.0.1:9000>\"\n";
  if (!strcmp(dest, "filesystem")) {
    sl_buf_puts(c, "\n# where `sluice run` writes the tables: a folder (relative to this project),\n"
                   "# file:///abs/folder, or s3://bucket/prefix (docs/destinations.md)\n"
                   "[destination.filesystem]\n"
                   "bucket_url = \"data\"\n"
                   "loader_file_format = \"parquet\"  # or \"jsonl\"\n");
    sl_buf_puts(s, "\n# AWS credentials, for an s3:// bucket_url only: uncomment and fill in, or\n"
                   "# leave them out for the AWS chain (AWS_* variables, ~/.aws, an instance role)\n"
                   "[destination.filesystem.credentials]\n");
    sl_buf_puts(s, creds);
  } else if (!strcmp(dest, "athena")) {
    sl_buf_printf(c, "\n# Athena: the tables are Parquet files under bucket_url (S3), queried\n"
                     "# through the Athena API, whose results go to query_result_bucket; put\n"
                     "# your bucket in both (docs/destinations.md)\n"
                     "[destination.filesystem]\n"
                     "bucket_url = \"s3://<your-bucket>/%s\"\n"
                     "\n[destination.athena]\n"
                     "query_result_bucket = \"s3://<your-bucket>/athena-results/\"\n"
                     "athena_work_group = \"primary\"\n"
                     "aws_data_catalog = \"awsdatacatalog\"\n"
                     "# force_iceberg = true   # every table Iceberg (default: Hive tables, Iceberg "
                     "for merge)\n",
                  g->source);
    sl_buf_puts(s, "\n# AWS credentials for S3 and Athena: uncomment and fill in, or leave them out\n"
                   "# for the AWS chain (AWS_* variables, ~/.aws, an instance role)\n"
                   "[destination.athena.credentials]\n");
    sl_buf_puts(s, creds);
  }
}

/* ---- generate ------------------------------------------------------------------------- */

static bool valid_name(const char *n) {
  if (!n || !*n || strlen(n) > 64) return false;
  for (const char *p = n; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
  return !(n[0] >= '0' && n[0] <= '9');
}

static bool matches(const sl_init_options *o, const char *path) {
  if (!o->endpoints || !o->nendpoints) return true;
  for (size_t i = 0; i < o->nendpoints; i++)
    if (o->endpoints[i] && fnmatch(o->endpoints[i], path, 0) == 0) return true;
  return false;
}

static char *dupstr(const char *s) { return s ? strdup(s) : NULL; }

sl_init_result *sl_init_generate(sl_openapi *spec, const sl_init_options *opts, sl_error *err) {
  sl_error_clear(err);
  if (!opts || !valid_name(opts->name)) {
    sl_error_set(err, SL_INVALID_ARG,
                 "source name '%s' must be lower-case letters, digits and '_' (at most 64), "
                 "not starting with a digit",
                 opts && opts->name ? opts->name : "");
    return NULL;
  }
  const char *dest = opts->destination ? opts->destination : "duckdb";
  if (strcmp(dest, "duckdb") && strcmp(dest, "athena") && strcmp(dest, "filesystem")) {
    sl_error_set(err, SL_INVALID_ARG, "unknown destination '%s' (duckdb, athena, filesystem)", dest);
    return NULL;
  }
  sl_arena arena;
  sl_arena_init(&arena, 1 << 16, 0);
  gen g = {.spec = spec, .opts = opts, .a = &arena, .source = opts->name, .err = err};
  g.doc = sl_doc_new("<generated>");
  const sl_openapi_op *ops;
  size_t nops = sl_openapi_operations(spec, "get", &ops);
  sl_init_result *res = calloc(1, sizeof *res);
  g.res = calloc(nops ? nops : 1, sizeof *g.res);
  if (!g.doc || !res || !g.res) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    goto fail;
  }
  res->get_operations = nops;
  for (size_t i = 0; i < nops; i++)
    if (matches(opts, ops[i].path)) g.res[g.nres++].op = ops[i];
  res->matched = g.nres;
  if (!g.nres) {
    sl_error_set(err, SL_NOT_FOUND, "%s: no GET operation %s", sl_openapi_name(spec),
                 nops ? "matches the --endpoints patterns" : "in the spec");
    goto fail;
  }
  for (size_t i = 0; i < g.nres; i++) sl__init_analyze(&g, &g.res[i]);
  sl__init_name(&g);
  sl__init_link(&g);

  auth_pick a = pick_auth(&g);
  const char *base = server_url(&g);
  sl_buf y = {0}, c = {0}, s = {0}, p = {0};
  build_source(&g, &a, &y);

  sl_buf_printf(&c, "# Settings of the %s source that are not secret (sluice init wrote them).\n"
                    "[sources.%s]\n",
                g.source, g.source);
  sl_buf_puts(&c, "# from the spec's servers; point it at a test server or another region here\n");
  sl_buf_puts(&c, "base_url = ");
  toml_str(&c, base ? base : "https://api.example.com");
  sl_buf_puts(&c, base ? "\n" : "  # the spec declares no servers: set the API's URL\n");
  const char *token_url = absolute_url(&g, base, a.token_url);
  if (token_url) {
    sl_buf_puts(&c, "# OAuth2 token endpoint, from the spec's securitySchemes\ntoken_url = ");
    toml_str(&c, token_url);
    sl_buf_putc(&c, '\n');
  }
  if (g.need_dates) {
    sl_buf_puts(&c, "# the date window of the reports and analytics resources (incremental): the\n"
                    "# first run asks from start_date to end_date, each later run from the day\n"
                    "# after the last end up to end_date. A date (2024-01-31), or a day counted\n"
                    "# from the day of the run (UTC): {today}, {today-30d}\n"
                    "start_date = \"{today-30d}\"\nend_date = \"{today}\"\n");
  }

  char upper[80];
  size_t ui = 0;
  for (; g.source[ui] && ui + 1 < sizeof upper; ui++)
    upper[ui] = (char)(g.source[ui] >= 'a' && g.source[ui] <= 'z' ? g.source[ui] - 32 : g.source[ui]);
  upper[ui] = 0;
  sl_buf_printf(&s, "# Secrets of the %s source: never commit this file (.gitignore keeps it out).\n"
                    "# Environment variables win over it: SOURCES__%s__<KEY>.\n"
                    "[sources.%s]\n",
                g.source, upper, g.source);
  if (!a.kind) {
    sl_buf_puts(&s, "# the spec declares no security scheme: no credentials needed\n");
  } else if (!strncmp(a.kind, "oauth2", 6)) {
    sl_buf_printf(&s, "# OAuth2 (%s): the app's client id and secret%s\n", a.scheme,
                  !strcmp(a.kind, "oauth2_refresh_token")
                      ? ", and a refresh token from the\n# authorization-code flow; sluice "
                        "refreshes the access token at token_url"
                      : "");
    sl_buf_puts(&s, "client_id = \"<your client id>\"\nclient_secret = \"<your client secret>\"\n");
    if (!strcmp(a.kind, "oauth2_refresh_token"))
      sl_buf_puts(&s, "refresh_token = \"<your refresh token>\"\n");
    sl_buf_puts(&s, "# or, with the bearer alternative in the source YAML, only an access token:\n"
                    "# access_token = \"<your access token>\"\n");
  } else if (!strcmp(a.kind, "bearer")) {
    sl_buf_puts(&s, "access_token = \"<your access token>\"\n");
  } else if (!strcmp(a.kind, "http_basic")) {
    sl_buf_puts(&s, "username = \"<your user name>\"\npassword = \"<your password>\"\n");
  } else {
    sl_buf_printf(&s, "# sent as the %s %s\napi_key = \"<your API key>\"\n", a.key_in, a.key_name);
  }

  sl_buf_printf(&p,
                "# The %s pipeline: `sluice run` in this folder extracts, normalizes and loads it.\n"
                "[pipeline]\n"
                "name = \"%s_pipeline\"\n"
                "dataset_name = \"%s_data\"\n"
                "destination = \"%s\"\n"
                "source = \"%s.source.yaml\"\n",
                g.source, g.source, g.source, dest, g.source);
  if (strcmp(dest, "duckdb"))
    sl_buf_printf(&p, "# the %s destination's settings are in .sluice/config.toml, its AWS\n"
                      "# credentials in .sluice/secrets.toml (docs/destinations.md)\n",
                  dest);
  destination_files(&g, dest, &c, &s);

  res->source_yaml = steal(&y);
  res->config_toml = steal(&c);
  res->secrets_toml = steal(&s);
  res->pipeline_toml = steal(&p);
  res->gitignore = strdup(!strcmp(dest, "filesystem")
                              ? "# written by sluice init\n.sluice/secrets.toml\n*.duckdb\n"
                                "*.duckdb.wal\n*.duckdb.tmp/\n.pipelines/\n/data/\n"
                              : "# written by sluice init\n.sluice/secrets.toml\n*.duckdb\n"
                                "*.duckdb.wal\n*.duckdb.tmp/\n.pipelines/\n");
  res->base_url = dupstr(base);
  if (a.kind) {
    char tmp[1024];
    if (token_url)
      snprintf(tmp, sizeof tmp, "%s from scheme '%s' (token URL %s)", a.kind, a.scheme, token_url);
    else
      snprintf(tmp, sizeof tmp, "%s from scheme '%s'", a.kind, a.scheme);
    res->auth = strdup(tmp);
  } else {
    res->auth = strdup("none (no securitySchemes)");
  }
  res->resources = calloc(g.nres, sizeof *res->resources);
  res->nresources = g.nres;
  for (size_t i = 0; res->resources && i < g.nres; i++) {
    const gres *r = &g.res[i];
    sl_init_resource *o = &res->resources[i];
    o->name = dupstr(r->name);
    o->path = dupstr(r->path);
    o->summary = dupstr(r->summary);
    o->parent = r->parent >= 0 ? dupstr(g.res[r->parent].name) : NULL;
    o->data_selector = dupstr(r->selector);
    o->paginator = dupstr(r->pag);
    o->primary_key = dupstr(r->pk);
    o->disabled_reason = dupstr(r->reason);
    o->page_size = strcmp(r->pag, "offset") && !sl_v_get(r->params, r->size_param ? r->size_param : "")
                       ? 0
                       : r->page_size;
    o->nresolved = r->nresolved;
    o->date_window = r->date_start != NULL;
    o->range_span_days = r->date_start ? r->span_days : 0;
    o->range_lookback_days = r->date_start ? r->lookback_days : 0;
    res->date_windows += r->date_start && !r->reason;
    res->nselected += !r->reason;
    if (!r->reason) {
      res->resolved_params += r->nresolved;
      res->derived_params += r->nderived;
    }
  }
  free(g.res);
  sl_doc_free(g.doc);
  sl_arena_free(&arena);
  return res;
fail:
  free(g.res);
  sl_doc_free(g.doc);
  sl_arena_free(&arena);
  sl_init_result_free(res);
  return NULL;
}

void sl_init_result_free(sl_init_result *r) {
  if (!r) return;
  for (size_t i = 0; r->resources && i < r->nresources; i++) {
    sl_init_resource *o = &r->resources[i];
    free(o->name);
    free(o->path);
    free(o->summary);
    free(o->parent);
    free(o->data_selector);
    free(o->paginator);
    free(o->primary_key);
    free(o->disabled_reason);
  }
  free(r->resources);
  free(r->auth);
  free(r->base_url);
  free(r->source_yaml);
  free(r->config_toml);
  free(r->secrets_toml);
  free(r->pipeline_toml);
  free(r->gitignore);
  free(r);
}

const sl_init_resource *sl_init_find(const sl_init_result *r, const char *name) {
  for (size_t i = 0; r && i < r->nresources; i++)
    if (!strcmp(r->resources[i].name, name)) return &r->resources[i];
  return NULL;
}

const sl_init_resource *sl_init_find_path(const sl_init_result *r, const char *path) {
  for (size_t i = 0; r && i < r->nresources; i++)
    if (!strcmp(r->resources[i].path, path)) return &r->resources[i];
  return NULL;
}

/* ---- writing the folder ------------------------------------------------------------ */

static sl_status write_file(const char *dir, const char *rel, const char *text, mode_t mode,
                            sl_error *err) {
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) {
    sl_error_set(err, SL_IO, "cannot create %s: %s", tmp, strerror(errno));
    return SL_IO;
  }
  size_t len = strlen(text), off = 0;
  while (off < len) {
    ssize_t w = write(fd, text + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      sl_error_set(err, SL_IO, "cannot write %s: %s", tmp, strerror(errno));
      close(fd);
      unlink(tmp);
      return SL_IO;
    }
    off += (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
    sl_error_set(err, SL_IO, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return SL_IO;
  }
  return SL_OK;
}

static sl_status mkdir_p(const char *dir, sl_error *err) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", dir);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) goto bad;
    *p = '/';
  }
  if (mkdir(buf, 0755) != 0 && errno != EEXIST) goto bad;
  return SL_OK;
bad:
  sl_error_set(err, SL_IO, "cannot create folder %s: %s", buf, strerror(errno));
  return SL_IO;
}

sl_status sl_init_write(const sl_init_result *r, const char *name, const char *dir, bool force,
                        sl_error *err) {
  sl_error_clear(err);
  char yaml_name[256];
  snprintf(yaml_name, sizeof yaml_name, "%s.source.yaml", name);
  const char *files[] = {"sluice.toml", yaml_name, ".sluice/config.toml", ".sluice/secrets.toml",
                         ".gitignore"};
  const char *texts[] = {r->pipeline_toml, r->source_yaml, r->config_toml, r->secrets_toml,
                         r->gitignore};
  if (!force) {
    for (size_t i = 0; i < 5; i++) {
      char path[4096];
      struct stat st;
      snprintf(path, sizeof path, "%s/%s", dir, files[i]);
      if (stat(path, &st) == 0)
        return sl_error_set(err, SL_EXISTS,
                            "%s exists; sluice init does not overwrite a pipeline (use --force "
                            "to replace the generated files)",
                            path);
    }
  }
  char sub[4096];
  snprintf(sub, sizeof sub, "%s/.sluice", dir);
  if (mkdir_p(dir, err) || mkdir_p(sub, err)) return err ? err->code : SL_IO;
  for (size_t i = 0; i < 5; i++) {
    sl_status st = write_file(dir, files[i], texts[i], i == 3 ? 0600 : 0644, err);
    if (st) return st;
  }
  return SL_OK;
}

/* ---- the report ------------------------------------------------------------------- */

void sl_init_report(const sl_init_result *r, FILE *out) {
  fprintf(out, "GET operations: %zu", r->get_operations);
  if (r->matched != r->get_operations) fprintf(out, " (%zu match --endpoints)", r->matched);
  fprintf(out, "\nresources: %zu generated, %zu selected, %zu disabled\n", r->nresources,
          r->nselected, r->nresources - r->nselected);
  static const char *const kinds[] = {"cursor", "json_link", "offset", "page_number",
                                      "header_link", "single_page"};
  fprintf(out, "paginators:");
  for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
    size_t n = 0;
    for (size_t i = 0; i < r->nresources; i++) n += !strcmp(r->resources[i].paginator, kinds[k]);
    if (n) fprintf(out, " %s %zu", kinds[k], n);
  }
  size_t children = 0;
  for (size_t i = 0; i < r->nresources; i++)
    children += r->resources[i].parent && !r->resources[i].disabled_reason;
  fprintf(out, "\nparameters: %zu resolved from parent lists (%zu child resources), %zu set from "
               "defaults, enums and dates\n",
          r->resolved_params, children, r->derived_params);
  if (r->date_windows) {
    /* the figures of the first window resource; a spec may differ per operation */
    int64_t span = 0, back = 0;
    bool mixed = false;
    for (size_t i = 0; i < r->nresources; i++) {
      const sl_init_resource *o = &r->resources[i];
      if (!o->date_window || o->disabled_reason) continue;
      if (span && (o->range_span_days != span || o->range_lookback_days != back)) mixed = true;
      span = o->range_span_days, back = o->range_lookback_days;
    }
    fprintf(out, "date windows: %zu incremental (", r->date_windows);
    if (mixed) fprintf(out, "limits differ per resource");
    else if (back) fprintf(out, "%lld days per request, %lld days back", (long long)span, (long long)back);
    else fprintf(out, "%lld days per request", (long long)span);
    fprintf(out, "; start_date/end_date in .sluice/config.toml)\n");
  }
  fprintf(out, "auth: %s\n", r->auth);
  fprintf(out, "base_url: %s\n", r->base_url ? r->base_url : "(none in the spec; set it in .sluice/config.toml)");
  if (r->nresources > r->nselected) {
    fprintf(out, "disabled resources (commented out in the YAML with the reason; supply what it "
                 "names, uncomment, set selected: true):\n");
    for (size_t i = 0; i < r->nresources; i++)
      if (r->resources[i].disabled_reason)
        fprintf(out, "  %-40s %s\n", r->resources[i].name, r->resources[i].disabled_reason);
  }
}
