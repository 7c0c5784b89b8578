/* The REST kind's YAML: `client:` (base_url, headers, auth, paginator) and a
 * resource's `endpoint:` (path, method, params, json, headers, data_selector,
 * paginator, response_actions, incremental), validated key by key with
 * file:line:col and a "did you mean" before any request is made. ${…}
 * references are resolved from config and secrets here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest/rest_int.h"
#include "sluice/config.h"
#include "sluice/log.h"

typedef struct rctx {
  sl_source *s;
  const sl_source_env *env;
  const char *file;
  sl_error *err;
  sl_arena *a;
  const char *name; /* the resource */
} rctx;

#define BAD(v, ...) sl__err_at(c->err, SL_CONFIG_INVALID, c->file, (v), __VA_ARGS__)

static sl_status check_keys(rctx *c, const sl_value *obj, const char *const *allowed,
                            const char *what) {
  for (size_t i = 0; i < obj->u.obj.len; i++) {
    const char *k = obj->u.obj.items[i].key;
    bool ok = false;
    for (size_t j = 0; !ok && allowed[j]; j++) ok = strcmp(k, allowed[j]) == 0;
    if (ok) continue;
    const char *sug = sl__did_you_mean(k, allowed);
    if (sug)
      return BAD(obj->u.obj.items[i].val, "unknown key '%s' in %s (did you mean '%s'?)", k, what,
                 sug);
    return BAD(obj->u.obj.items[i].val, "unknown key '%s' in %s", k, what);
  }
  return SL_OK;
}

static const char *tname(const sl_value *v) {
  return v->type == SL_V_OBJECT ? "a mapping" : v->type == SL_V_ARRAY ? "a list" : sl_vtype_name(v->type);
}

static sl_status want_map(rctx *c, const sl_value *v, const char *key) {
  if (v->type == SL_V_OBJECT) return SL_OK;
  return BAD(v, "'%s' must be a mapping, not %s", key, tname(v));
}

/* A string value with ${section.key} resolved; secret when from secrets. */
static sl_status xstr(rctx *c, const sl_value *v, const char *key, const char **out) {
  if (v->type != SL_V_STRING && v->type != SL_V_INT && v->type != SL_V_NUMBER)
    return BAD(v, "'%s' must be a string, not %s", key, tname(v));
  sl_buf tmp = {0};
  const char *t = rest_scalar_text(v, &tmp);
  if (strstr(t, "${")) {
    if (!c->env || !c->env->config) {
      sl_buf_free(&tmp);
      return BAD(v, "'%s' refers to config (%s) but no config is open", key, t);
    }
    sl_error e;
    sl_error_clear(&e);
    const char *x = sl_config_expand(c->env->config, t, &e);
    if (!x) {
      sl_buf_free(&tmp);
      return sl__err_at(c->err, e.code, c->file, v, "'%s': %s", key, e.msg);
    }
    t = x;
  }
  *out = sl_arena_strdup(c->a, t);
  sl_buf_free(&tmp);
  return *out ? SL_OK : sl_error_set(c->err, SL_NOMEM, "out of memory");
}

static sl_status xsecret(rctx *c, const sl_value *v, const char *key, const char **out) {
  sl_status st = xstr(c, v, key, out);
  if (st == SL_OK) sl_secret_register(*out);
  return st;
}

static sl_status xint(rctx *c, const sl_value *v, const char *key, int64_t lo, int64_t *out) {
  if (v->type == SL_V_STRING) {
    const char *t;
    if (xstr(c, v, key, &t)) return c->err->code;
    char *e;
    long long x = strtoll(t, &e, 10);
    if (*e || !*t) return BAD(v, "'%s' must be an integer, not '%s'", key, t);
    *out = x;
  } else if (v->type == SL_V_INT) {
    *out = v->u.i;
  } else {
    return BAD(v, "'%s' must be an integer, not %s", key, tname(v));
  }
  if (*out < lo) return BAD(v, "'%s' must be at least %lld", key, (long long)lo);
  return SL_OK;
}

static sl_status xbool(rctx *c, const sl_value *v, const char *key, bool *out) {
  if (v->type != SL_V_BOOL) return BAD(v, "'%s' must be true or false, not %s", key, tname(v));
  *out = v->u.b;
  return SL_OK;
}

/* Deep copy with every string's ${…} resolved. */
static sl_status xtree(rctx *c, const sl_value *v, const char *key, sl_value **out) {
  sl_doc *d = c->s->doc;
  if (v->type == SL_V_STRING) {
    const char *t;
    if (xstr(c, v, key, &t)) return c->err->code;
    *out = sl_v_string(d, t, strlen(t));
  } else if (v->type == SL_V_ARRAY) {
    *out = sl_v_array(d);
    for (size_t i = 0; *out && i < v->u.arr.len; i++) {
      sl_value *x;
      if (xtree(c, v->u.arr.items[i], key, &x)) return c->err->code;
      if (sl_v_push(d, *out, x)) return sl_error_set(c->err, SL_NOMEM, "out of memory");
    }
  } else if (v->type == SL_V_OBJECT) {
    *out = sl_v_object(d);
    for (size_t i = 0; *out && i < v->u.obj.len; i++) {
      sl_value *x;
      if (xtree(c, v->u.obj.items[i].val, key, &x)) return c->err->code;
      if (sl_v_put(d, *out, v->u.obj.items[i].key, x))
        return sl_error_set(c->err, SL_NOMEM, "out of memory");
    }
  } else {
    *out = sl_v_clone(d, v);
  }
  if (!*out) return sl_error_set(c->err, SL_NOMEM, "out of memory");
  (*out)->line = v->line;
  (*out)->col = v->col;
  return SL_OK;
}

/* ---- paginator ---------------------------------------------------------------- */

static const char *const pg_types[] = {"auto",   "single_page", "json_link",  "header_link",
                                       "cursor", "offset",      "page_number", NULL};

static sl_status parse_paginator(rctx *c, const sl_value *v, rest_paginator *pg) {
  memset(pg, 0, sizeof *pg);
  pg->stop_after_empty_page = true;
  pg->page = -1;
  const sl_value *t = v;
  if (v->type == SL_V_OBJECT) {
    t = sl_v_get(v, "type");
    if (!t) return BAD(v, "a paginator needs a 'type' (%s)", "auto, single_page, json_link, "
                       "header_link, cursor, offset, page_number");
  }
  if (t->type != SL_V_STRING)
    return BAD(t, "a paginator is a type name or a mapping with 'type', not %s", tname(t));
  int ty = -1;
  for (int i = 0; pg_types[i]; i++)
    if (!strcmp(pg_types[i], t->u.s.ptr)) ty = i;
  /* dlt's older names */
  if (!strcmp(t->u.s.ptr, "single")) ty = PG_SINGLE;
  if (!strcmp(t->u.s.ptr, "link_header")) ty = PG_HEADER_LINK;
  if (ty < 0) {
    const char *sug = sl__did_you_mean(t->u.s.ptr, pg_types);
    return BAD(t, "unknown paginator '%s'%s%s%s (auto, single_page, json_link, header_link, "
               "cursor, offset, page_number)",
               t->u.s.ptr, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
  }
  pg->type = (rest_pg_type)ty;
  pg->next_url_path = "next";
  pg->links_next_key = "next";
  pg->cursor_path = "cursors.next";
  pg->cursor_param = "cursor";
  pg->limit_param = "limit";
  pg->offset_param = "offset";
  pg->page_param = "page";
  pg->total_path = "total";
  if (v->type != SL_V_OBJECT) return SL_OK;
  static const char *const k_simple[] = {"type", NULL};
  static const char *const k_json[] = {"type", "next_url_path", NULL};
  static const char *const k_header[] = {"type", "links_next_key", NULL};
  static const char *const k_cursor[] = {"type", "cursor_path", "cursor_param", NULL};
  static const char *const k_offset[] = {"type", "limit", "offset", "offset_param", "limit_param",
                                         "total_path", "maximum_offset", "stop_after_empty_page",
                                         NULL};
  static const char *const k_page[] = {"type", "base_page", "page", "page_param", "total_path",
                                       "maximum_page", "stop_after_empty_page", NULL};
  const char *const *keys = pg->type == PG_JSON_LINK     ? k_json
                            : pg->type == PG_HEADER_LINK ? k_header
                            : pg->type == PG_CURSOR      ? k_cursor
                            : pg->type == PG_OFFSET      ? k_offset
                            : pg->type == PG_PAGE_NUMBER ? k_page
                                                         : k_simple;
  char what[64];
  snprintf(what, sizeof what, "a %s paginator", pg_types[ty]);
  if (check_keys(c, v, keys, what)) return c->err->code;
  const sl_value *x;
  if ((x = sl_v_get(v, "next_url_path")) && xstr(c, x, "next_url_path", &pg->next_url_path))
    return c->err->code;
  if ((x = sl_v_get(v, "links_next_key")) && xstr(c, x, "links_next_key", &pg->links_next_key))
    return c->err->code;
  if ((x = sl_v_get(v, "cursor_path")) && xstr(c, x, "cursor_path", &pg->cursor_path))
    return c->err->code;
  if ((x = sl_v_get(v, "cursor_param")) && xstr(c, x, "cursor_param", &pg->cursor_param))
    return c->err->code;
  if ((x = sl_v_get(v, "limit")) && xint(c, x, "limit", 1, &pg->limit)) return c->err->code;
  if ((x = sl_v_get(v, "offset")) && xint(c, x, "offset", 0, &pg->offset)) return c->err->code;
  if ((x = sl_v_get(v, "offset_param")) && xstr(c, x, "offset_param", &pg->offset_param))
    return c->err->code;
  if ((x = sl_v_get(v, "limit_param")) && xstr(c, x, "limit_param", &pg->limit_param))
    return c->err->code;
  if ((x = sl_v_get(v, "total_path"))) {
    if (x->type == SL_V_NULL) pg->total_path = NULL;
    else if (xstr(c, x, "total_path", &pg->total_path)) return c->err->code;
  }
  if ((x = sl_v_get(v, "maximum_offset")) && xint(c, x, "maximum_offset", 1, &pg->maximum_offset))
    return c->err->code;
  if ((x = sl_v_get(v, "stop_after_empty_page")) &&
      xbool(c, x, "stop_after_empty_page", &pg->stop_after_empty_page))
    return c->err->code;
  if ((x = sl_v_get(v, "base_page")) && xint(c, x, "base_page", 0, &pg->base_page))
    return c->err->code;
  if ((x = sl_v_get(v, "page")) && xint(c, x, "page", 0, &pg->page)) return c->err->code;
  if ((x = sl_v_get(v, "page_param")) && xstr(c, x, "page_param", &pg->page_param))
    return c->err->code;
  if ((x = sl_v_get(v, "maximum_page")) && xint(c, x, "maximum_page", 1, &pg->maximum_page))
    return c->err->code;
  if (pg->type == PG_OFFSET && pg->limit <= 0)
    return BAD(v, "an offset paginator needs 'limit' (the page size)");
  if (pg->type == PG_PAGE_NUMBER && pg->page >= 0 && pg->page < pg->base_page)
    return BAD(v, "'page' is below 'base_page'");
  if (!pg->total_path && !pg->stop_after_empty_page &&
      !(pg->type == PG_OFFSET ? pg->maximum_offset : pg->maximum_page) &&
      (pg->type == PG_OFFSET || pg->type == PG_PAGE_NUMBER))
    return BAD(v, "this paginator would never stop: give total_path, a maximum, or "
               "stop_after_empty_page: true");
  return SL_OK;
}

/* ---- auth ---------------------------------------------------------------------- */

static const char *const auth_types[] = {"bearer", "api_key", "http_basic",
                                         "oauth2_client_credentials", "oauth2_refresh_token",
                                         NULL};

static sl_status parse_auth(rctx *c, const sl_value *v, rest_auth *au) {
  memset(au, 0, sizeof *au);
  if (v->type == SL_V_NULL) return SL_OK;
  if (want_map(c, v, "auth")) return c->err->code;
  const sl_value *t = sl_v_get(v, "type"), *x;
  const char *ty = t && t->type == SL_V_STRING ? t->u.s.ptr : NULL;
  if (t && !ty) return BAD(t, "auth 'type' must be a string");
  if (!ty) {
    if (sl_v_get(v, "token")) ty = "bearer";
    else if (sl_v_get(v, "api_key")) ty = "api_key";
    else if (sl_v_get(v, "username")) ty = "http_basic";
    else return BAD(v, "auth needs a 'type' (bearer, api_key, http_basic, "
                    "oauth2_client_credentials, oauth2_refresh_token)");
  }
  static const char *const k_bearer[] = {"type", "token", NULL};
  static const char *const k_key[] = {"type", "name", "api_key", "location", NULL};
  static const char *const k_basic[] = {"type", "username", "password", NULL};
  static const char *const k_oauth[] = {"type",          "access_token_url", "token_url",
                                        "client_id",     "client_secret",    "refresh_token",
                                        "scope",         "client_auth",      "default_token_expiration",
                                        "access_token_request_data", NULL};
  const char *const *keys;
  if (!strcmp(ty, "bearer") || !strcmp(ty, "bearer_token")) au->type = AUTH_BEARER, keys = k_bearer;
  else if (!strcmp(ty, "api_key")) au->type = AUTH_API_KEY, keys = k_key;
  else if (!strcmp(ty, "http_basic")) au->type = AUTH_BASIC, keys = k_basic;
  else if (!strcmp(ty, "oauth2_client_credentials")) au->type = AUTH_OAUTH_CC, keys = k_oauth;
  else if (!strcmp(ty, "oauth2_refresh_token")) au->type = AUTH_OAUTH_REFRESH, keys = k_oauth;
  else {
    const char *sug = sl__did_you_mean(ty, auth_types);
    return BAD(t, "unknown auth type '%s'%s%s%s (bearer, api_key, http_basic, "
               "oauth2_client_credentials, oauth2_refresh_token)",
               ty, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
  }
  char what[64];
  snprintf(what, sizeof what, "%s auth", ty);
  if (check_keys(c, v, keys, what)) return c->err->code;
#define NEED(key, dst, secret)                                                              \
  do {                                                                                      \
    if (!(x = sl_v_get(v, key))) return BAD(v, "%s auth needs '%s'", ty, key);              \
    if ((secret ? xsecret : xstr)(c, x, key, dst)) return c->err->code;                     \
  } while (0)
  switch (au->type) {
    case AUTH_BEARER: NEED("token", &au->token, true); break;
    case AUTH_API_KEY:
      NEED("api_key", &au->api_key, true);
      au->name = "Authorization";
      if ((x = sl_v_get(v, "name")) && xstr(c, x, "name", &au->name)) return c->err->code;
      if ((x = sl_v_get(v, "location"))) {
        const char *loc;
        if (xstr(c, x, "location", &loc)) return c->err->code;
        if (!strcmp(loc, "query")) au->in_query = true;
        else if (strcmp(loc, "header") != 0)
          return BAD(x, "api_key location must be header or query, not '%s'", loc);
      }
      break;
    case AUTH_BASIC:
      NEED("username", &au->username, false);
      au->password = "";
      if ((x = sl_v_get(v, "password")) && xsecret(c, x, "password", &au->password))
        return c->err->code;
      break;
    default:
      if ((x = sl_v_get(v, "access_token_url")) || (x = sl_v_get(v, "token_url"))) {
        if (xstr(c, x, "access_token_url", &au->token_url)) return c->err->code;
      } else {
        return BAD(v, "%s auth needs 'access_token_url'", ty);
      }
      NEED("client_id", &au->client_id, false);
      NEED("client_secret", &au->client_secret, true);
      if (au->type == AUTH_OAUTH_REFRESH) NEED("refresh_token", &au->refresh_token, true);
      else if (sl_v_get(v, "refresh_token"))
        return BAD(sl_v_get(v, "refresh_token"),
                   "refresh_token belongs to oauth2_refresh_token auth");
      if ((x = sl_v_get(v, "scope")) && xstr(c, x, "scope", &au->scope)) return c->err->code;
      /* Pinterest wants the client by Basic for a refresh; dlt's client
       * credentials send form fields. */
      au->client_basic = au->type == AUTH_OAUTH_REFRESH;
      if ((x = sl_v_get(v, "client_auth"))) {
        const char *ca;
        if (xstr(c, x, "client_auth", &ca)) return c->err->code;
        if (!strcmp(ca, "basic")) au->client_basic = true;
        else if (!strcmp(ca, "form")) au->client_basic = false;
        else return BAD(x, "client_auth must be basic or form, not '%s'", ca);
      }
      au->default_expires_in = 3600;
      if ((x = sl_v_get(v, "default_token_expiration")) &&
          xint(c, x, "default_token_expiration", 1, &au->default_expires_in))
        return c->err->code;
      if ((x = sl_v_get(v, "access_token_request_data"))) {
        if (want_map(c, x, "access_token_request_data")) return c->err->code;
        sl_value *d;
        if (xtree(c, x, "access_token_request_data", &d)) return c->err->code;
        au->request_data = d;
      }
  }
#undef NEED
  return SL_OK;
}

/* ---- headers ------------------------------------------------------------------- */

static sl_status parse_headers(rctx *c, const sl_value *v, const char *const **out) {
  if (want_map(c, v, "headers")) return c->err->code;
  const char **l = sl_arena_calloc(c->a, (v->u.obj.len + 1) * sizeof *l);
  if (!l) return sl_error_set(c->err, SL_NOMEM, "out of memory");
  for (size_t i = 0; i < v->u.obj.len; i++) {
    const char *k = v->u.obj.items[i].key, *val;
    if (!*k || strpbrk(k, ": \r\n"))
      return BAD(v->u.obj.items[i].val, "'%s' is not a usable header name", k);
    if (xstr(c, v->u.obj.items[i].val, k, &val)) return c->err->code;
    if (strpbrk(val, "\r\n")) return BAD(v->u.obj.items[i].val, "header '%s' has a line break", k);
    if (sl_key_is_secret(k) || !strcasecmp(k, "authorization")) sl_secret_register(val);
    l[i] = sl_arena_printf(c->a, "%s: %s", k, val);
  }
  *out = l;
  return SL_OK;
}

/* ---- the client (shared by the resources of one YAML) ----------------------------- */

static const char *const client_keys[] = {"base_url", "headers", "auth", "paginator",
                                          "max_per_host", "max_attempts", "request_timeout", "max_response_mb",
                                          NULL};

static sl_status get_client(rctx *c, const sl_value *top, rest_client **out) {
  for (size_t i = 0; i < c->s->nres; i++) {
    if (c->s->res[i]->fn != rest_resource_run) continue;
    rest_resource *r = c->s->res[i]->ud;
    if (r->client->top == top) {
      *out = r->client;
      return SL_OK;
    }
  }
  rest_client *cl = calloc(1, sizeof *cl);
  if (!cl) return sl_error_set(c->err, SL_NOMEM, "out of memory");
  cl->top = top;
  *out = cl; /* freed by the resource that holds it, also on errors below */
  cl->refs = 0;
  cl->source_name = c->s->name;
  cl->max_per_host = 8;
  /* dlt's [runtime] names give the defaults; the client's keys win. */
  if (c->env && c->env->config) {
    int64_t n = sl_config_get_int(c->env->config, "runtime.request_max_attempts", 0);
    if (n > 0) cl->max_attempts = (int)(n > 100 ? 100 : n);
    n = sl_config_get_int(c->env->config, "runtime.request_timeout", 0);
    if (n > 0) cl->timeout_s = (int)(n > 86400 ? 86400 : n);
  }
  if (!top) return SL_OK;
  if (want_map(c, top, "client")) return c->err->code;
  if (check_keys(c, top, client_keys, "client")) return c->err->code;
  const sl_value *x;
  if ((x = sl_v_get(top, "base_url")) && xstr(c, x, "base_url", &cl->base_url)) return c->err->code;
  if (cl->base_url && strncmp(cl->base_url, "http://", 7) && strncmp(cl->base_url, "https://", 8))
    return BAD(x, "base_url must start with http:// or https://, not '%s'", cl->base_url);
  if ((x = sl_v_get(top, "headers")) && parse_headers(c, x, &cl->headers)) return c->err->code;
  if ((x = sl_v_get(top, "auth")) && parse_auth(c, x, &cl->auth)) return c->err->code;
  if ((x = sl_v_get(top, "paginator"))) {
    if (parse_paginator(c, x, &cl->pg)) return c->err->code;
    cl->has_pg = true;
  }
  if ((x = sl_v_get(top, "max_per_host"))) {
    int64_t n;
    if (xint(c, x, "max_per_host", 1, &n)) return c->err->code;
    cl->max_per_host = (int)(n > 256 ? 256 : n);
  }
  if ((x = sl_v_get(top, "max_attempts"))) {
    int64_t n;
    if (xint(c, x, "max_attempts", 1, &n)) return c->err->code;
    cl->max_attempts = (int)(n > 100 ? 100 : n);
  }
  if ((x = sl_v_get(top, "max_response_mb"))) {
    int64_t n;
    if (xint(c, x, "max_response_mb", 1, &n)) return c->err->code;
    cl->max_response_mb = n > 1048576 ? 1048576 : n;
  }
  if ((x = sl_v_get(top, "request_timeout"))) {
    int64_t n;
    if (xint(c, x, "request_timeout", 1, &n)) return c->err->code;
    cl->timeout_s = (int)(n > 86400 ? 86400 : n);
  }
  if (cl->auth.type == AUTH_OAUTH_REFRESH) {
    const char *base = c->env && c->env->base_dir ? c->env->base_dir : ".";
    cl->state_file = sl_arena_printf(c->a, "%s/.sluice/%s.refresh_token", base, c->s->name);
  }
  return SL_OK;
}

/* ---- endpoint -------------------------------------------------------------------- */

static const char *const endpoint_keys[] = {"path",          "method",    "params",
                                            "json",          "headers",   "data_selector",
                                            "paginator",     "response_actions",
                                            "incremental",   "auth",      "limit", NULL};

static sl_status set_parent(rctx *c, rest_resource *r, const sl_value *at, const char *res) {
  if (!strcmp(res, r->name)) return BAD(at, "resource '%s' resolves from itself", r->name);
  if (r->parent && strcmp(r->parent, res) != 0)
    return BAD(at, "resource '%s' resolves from both '%s' and '%s' (one parent only)", r->name,
               r->parent, res);
  r->parent = sl_arena_strdup(c->a, res);
  return SL_OK;
}

static sl_status add_resolve(rctx *c, rest_resource *r, const char *name, const char *field,
                             bool in_query, bool skip_null) {
  for (size_t i = 0; i < r->nresolves; i++)
    if (!strcmp(r->resolves[i].name, name)) {
      if (!in_query) r->resolves[i].in_query = false;
      if (skip_null) r->resolves[i].skip_null = true;
      return SL_OK;
    }
  rest_resolve *n = realloc(r->resolves, (r->nresolves + 1) * sizeof *n);
  if (!n) return sl_error_set(c->err, SL_NOMEM, "out of memory");
  r->resolves = n;
  n[r->nresolves++] = (rest_resolve){sl_arena_strdup(c->a, name), sl_arena_strdup(c->a, field),
                                     in_query, skip_null};
  return SL_OK;
}

static bool is_relative_date(const char *name, size_t n) {
  sl_buf day = {0};
  bool yes = rest_relative_date(name, n, &day);
  sl_buf_free(&day);
  return yes;
}

/* Find {resources.R.F} and {incremental.*} in a string; note parents and resolves. */
static sl_status scan_placeholders(rctx *c, rest_resource *r, const sl_value *at, const char *s,
                                   bool is_path) {
  const char *p = s;
  while ((p = strchr(p, '{'))) {
    const char *e = strchr(p, '}');
    if (!e) break;
    size_t n = (size_t)(e - p - 1);
    char name[256];
    if (n >= sizeof name) return BAD(at, "placeholder too long in '%s'", s);
    memcpy(name, p + 1, n);
    name[n] = '\0';
    p = e + 1;
    if (!strncmp(name, "resources.", 10)) {
      char *dot = strchr(name + 10, '.');
      if (!dot || dot == name + 10 || !dot[1])
        return BAD(at, "placeholder {%s} must be {resources.<resource>.<field>}", name);
      *dot = '\0';
      if (set_parent(c, r, at, name + 10)) return c->err->code;
      *dot = '.';
      if (add_resolve(c, r, name, dot + 1, false, false)) return c->err->code;
    } else if (!strncmp(name, "incremental.", 12)) {
      if (strcmp(name + 12, "start_value") && strcmp(name + 12, "end_value") &&
          strcmp(name + 12, "last_value"))
        return BAD(at, "unknown placeholder {%s} (incremental.start_value, "
                   "incremental.end_value)", name);
    } else if (is_path && is_relative_date(name, n)) {
      /* {today}, {today-7d}: filled at request time */
    } else if (is_path) {
      bool known = false;
      for (size_t i = 0; i < r->nresolves; i++)
        if (!strcmp(r->resolves[i].name, name)) r->resolves[i].in_query = false, known = true;
      if (!known)
        return BAD(at, "path placeholder {%s} has no param {type: resolve} and is not "
                   "{resources.<resource>.<field>}", name);
    }
  }
  return SL_OK;
}

static sl_status scan_tree(rctx *c, rest_resource *r, const sl_value *v) {
  if (v->type == SL_V_STRING) return scan_placeholders(c, r, v, v->u.s.ptr, false);
  if (v->type == SL_V_ARRAY)
    for (size_t i = 0; i < v->u.arr.len; i++)
      if (scan_tree(c, r, v->u.arr.items[i])) return c->err->code;
  if (v->type == SL_V_OBJECT)
    for (size_t i = 0; i < v->u.obj.len; i++)
      if (scan_tree(c, r, v->u.obj.items[i].val)) return c->err->code;
  return SL_OK;
}

static sl_status parse_incremental(rctx *c, const sl_value *v, rest_incremental *inc,
                                   bool legacy) {
  static const char *const keys[] = {"cursor_path",     "initial_value",      "end_value",
                                     "start_param",     "end_param",          "last_value_func",
                                     "lag",             "range_span_days",    "range_lookback_days",
                                     "type",            NULL};
  if (want_map(c, v, "incremental")) return c->err->code;
  if (check_keys(c, v, keys, "incremental")) return c->err->code;
  memset(inc, 0, sizeof *inc);
  inc->on = true;
  const sl_value *x;
  /* without cursor_path the range asked for is the cursor (sluice: a date window) */
  if (!(x = sl_v_get(v, "cursor_path")) && legacy)
    return BAD(v, "incremental needs 'cursor_path'");
  if (x && xstr(c, x, "cursor_path", &inc->cursor_path)) return c->err->code;
  sl_value *t;
  if ((x = sl_v_get(v, "initial_value"))) {
    if (x->type == SL_V_OBJECT || x->type == SL_V_ARRAY)
      return BAD(x, "initial_value must be a single value");
    if (xtree(c, x, "initial_value", &t)) return c->err->code;
    inc->initial_value = t;
  }
  if ((x = sl_v_get(v, "end_value"))) {
    if (x->type == SL_V_OBJECT || x->type == SL_V_ARRAY)
      return BAD(x, "end_value must be a single value");
    if (xtree(c, x, "end_value", &t)) return c->err->code;
    inc->end_value = t;
  }
  if ((x = sl_v_get(v, "start_param")) && xstr(c, x, "start_param", &inc->start_param))
    return c->err->code;
  if ((x = sl_v_get(v, "end_param")) && xstr(c, x, "end_param", &inc->end_param))
    return c->err->code;
  if ((x = sl_v_get(v, "last_value_func"))) {
    const char *f;
    if (xstr(c, x, "last_value_func", &f)) return c->err->code;
    if (!strcmp(f, "min")) inc->min = true;
    else if (strcmp(f, "max") != 0) return BAD(x, "last_value_func must be max or min, not '%s'", f);
  }
  if ((x = sl_v_get(v, "lag"))) {
    if (x->type != SL_V_INT && x->type != SL_V_NUMBER)
      return BAD(x, "lag must be a number (seconds for date-times)");
    inc->lag = sl_v_num_or(x, 0);
    if (inc->lag < 0) return BAD(x, "lag must not be negative");
  }
  if ((x = sl_v_get(v, "range_span_days")) && xint(c, x, "range_span_days", 1, &inc->span_days))
    return c->err->code;
  if ((x = sl_v_get(v, "range_lookback_days")) &&
      xint(c, x, "range_lookback_days", 0, &inc->lookback_days))
    return c->err->code;
  if (!inc->cursor_path) {
    if (!inc->initial_value || !inc->end_value)
      return BAD(v, "incremental without cursor_path follows the range it asks for: it needs "
                 "initial_value and end_value (e.g. \"{today-30d}\" and \"{today}\")");
    if (inc->min) return BAD(sl_v_get(v, "last_value_func"),
                             "last_value_func needs a cursor_path (the range only moves forward)");
  }
  if ((x = sl_v_get(v, "type")) && (!legacy || x->type != SL_V_STRING ||
                                     strcmp(x->u.s.ptr, "incremental") != 0))
    return BAD(x, "unexpected 'type' in incremental");
  return SL_OK;
}

static const char *const action_keys[] = {"status_code", "content", "action", "message", NULL};

static sl_status parse_actions(rctx *c, const sl_value *v, rest_resource *r) {
  if (v->type != SL_V_ARRAY) return BAD(v, "response_actions must be a list, not %s", tname(v));
  r->actions = calloc(v->u.arr.len ? v->u.arr.len : 1, sizeof *r->actions);
  if (!r->actions) return sl_error_set(c->err, SL_NOMEM, "out of memory");
  for (size_t i = 0; i < v->u.arr.len; i++) {
    const sl_value *a = v->u.arr.items[i], *x;
    if (want_map(c, a, "a response action")) return c->err->code;
    if (check_keys(c, a, action_keys, "a response action")) return c->err->code;
    rest_action *ac = &r->actions[r->nactions++];
    ac->action = ACT_FAIL;
    if ((x = sl_v_get(a, "status_code"))) {
      int64_t code;
      if (xint(c, x, "status_code", 100, &code)) return c->err->code;
      if (code > 599) return BAD(x, "status_code %lld is not an HTTP status", (long long)code);
      ac->status = (long)code;
    }
    if ((x = sl_v_get(a, "content")) && xstr(c, x, "content", &ac->content)) return c->err->code;
    if (ac->content && !*ac->content) return BAD(x, "content must not be empty");
    if (!ac->status && !ac->content)
      return BAD(a, "a response action needs status_code and/or content");
    if (!(x = sl_v_get(a, "action"))) {
      if (!sl_v_get(a, "message")) return BAD(a, "a response action needs 'action' (ignore, retry, fail)");
    } else {
      const char *act;
      if (xstr(c, x, "action", &act)) return c->err->code;
      if (!strcmp(act, "ignore")) ac->action = ACT_IGNORE;
      else if (!strcmp(act, "retry")) ac->action = ACT_RETRY;
      else if (!strcmp(act, "fail") || !strcmp(act, "raise")) ac->action = ACT_FAIL;
      else {
        static const char *const acts[] = {"ignore", "retry", "fail", NULL};
        const char *sug = sl__did_you_mean(act, acts);
        return BAD(x, "unknown action '%s'%s%s%s (ignore, retry, fail)", act,
                   sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
      }
    }
    if ((x = sl_v_get(a, "message")) && xstr(c, x, "message", &ac->message)) return c->err->code;
  }
  return SL_OK;
}

static sl_status parse_endpoint(rctx *c, const sl_value *ep, rest_resource *r) {
  r->method = "GET";
  if (!(r->params = sl_v_object(c->s->doc))) return sl_error_set(c->err, SL_NOMEM, "out of memory");
  if (!ep) {
    r->path = r->name;
    return SL_OK;
  }
  if (ep->type == SL_V_STRING) {
    if (xstr(c, ep, "endpoint", &r->path)) return c->err->code;
    return scan_placeholders(c, r, ep, r->path, true);
  }
  if (want_map(c, ep, "endpoint")) return c->err->code;
  if (check_keys(c, ep, endpoint_keys, "an endpoint")) return c->err->code;
  const sl_value *x;
  r->path = r->name;
  if ((x = sl_v_get(ep, "path")) && xstr(c, x, "path", &r->path)) return c->err->code;
  if ((x = sl_v_get(ep, "method"))) {
    if (xstr(c, x, "method", &r->method)) return c->err->code;
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", NULL};
    char *up = sl_arena_strdup(c->a, r->method);
    for (char *q = up; *q; q++)
      if (*q >= 'a' && *q <= 'z') *q = (char)(*q - 32);
    bool ok = false;
    for (size_t i = 0; methods[i]; i++) ok |= !strcmp(methods[i], up);
    if (!ok) return BAD(x, "unknown HTTP method '%s'", r->method);
    r->method = up;
  }
  sl_value *params = (sl_value *)r->params;
  if ((x = sl_v_get(ep, "params"))) {
    if (want_map(c, x, "params")) return c->err->code;
    for (size_t i = 0; i < x->u.obj.len; i++) {
      const char *k = x->u.obj.items[i].key;
      const sl_value *pv = x->u.obj.items[i].val;
      if (pv->type == SL_V_OBJECT) {
        const sl_value *ty = sl_v_get(pv, "type");
        const char *tys = ty && ty->type == SL_V_STRING ? ty->u.s.ptr : "";
        if (!strcmp(tys, "resolve")) {
          static const char *const rk[] = {"type", "resource", "field", "skip_null", NULL};
          if (check_keys(c, pv, rk, "a resolve param")) return c->err->code;
          const sl_value *res = sl_v_get(pv, "resource"), *fld = sl_v_get(pv, "field");
          if (!res || res->type != SL_V_STRING || !fld || fld->type != SL_V_STRING)
            return BAD(pv, "param '%s': resolve needs 'resource' and 'field' (strings)", k);
          const sl_value *sn = sl_v_get(pv, "skip_null");
          if (sn && sn->type != SL_V_BOOL)
            return BAD(sn, "param '%s': skip_null must be true or false", k);
          if (set_parent(c, r, res, res->u.s.ptr)) return c->err->code;
          if (add_resolve(c, r, k, fld->u.s.ptr, true, sn && sn->u.b)) return c->err->code;
          continue;
        }
        if (!strcmp(tys, "incremental")) {
          if (r->inc.on) return BAD(pv, "two incremental definitions");
          if (parse_incremental(c, pv, &r->inc, true)) return c->err->code;
          r->inc_param = sl_arena_strdup(c->a, k);
          continue;
        }
        return BAD(pv, "param '%s' must be a value or {type: resolve|incremental, …}", k);
      }
      if (pv->type == SL_V_ARRAY) return BAD(pv, "param '%s' must be a single value", k);
      if (pv->type == SL_V_NULL) continue; /* dlt: a null param is left out */
      sl_value *t;
      if (xtree(c, pv, k, &t)) return c->err->code;
      if (t->type == SL_V_STRING && scan_placeholders(c, r, pv, t->u.s.ptr, false))
        return c->err->code;
      if (sl_v_put(c->s->doc, params, k, t)) return sl_error_set(c->err, SL_NOMEM, "out of memory");
    }
  }
  r->params = params;
  if ((x = sl_v_get(ep, "incremental"))) {
    if (r->inc.on) return BAD(x, "two incremental definitions");
    if (parse_incremental(c, x, &r->inc, false)) return c->err->code;
  }
  if (scan_placeholders(c, r, sl_v_get(ep, "path") ? sl_v_get(ep, "path") : ep, r->path, true))
    return c->err->code;
  if ((x = sl_v_get(ep, "json"))) {
    sl_value *t;
    if (xtree(c, x, "json", &t)) return c->err->code;
    if (scan_tree(c, r, t)) return c->err->code;
    r->json = t;
  }
  if ((x = sl_v_get(ep, "headers"))) {
    if (parse_headers(c, x, &r->headers)) return c->err->code;
    if (scan_tree(c, r, x)) return c->err->code;
  }
  if ((x = sl_v_get(ep, "data_selector"))) {
    if (xstr(c, x, "data_selector", &r->data_selector)) return c->err->code;
    sl_error e;
    sl_error_clear(&e);
    extern sl_status sl__check_selector(const char *sel, sl_error *err);
    if (sl__check_selector(r->data_selector, &e))
      return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, x, "%s", e.msg);
  }
  if ((x = sl_v_get(ep, "paginator"))) {
    if (parse_paginator(c, x, &r->pg)) return c->err->code;
    r->has_pg = true;
  }
  if ((x = sl_v_get(ep, "response_actions")) && parse_actions(c, x, r)) return c->err->code;
  /* dlt's add_limit(N) / `sluice run --limit N`: pages per request series
   * (the page size is the offset paginator's own `limit`) */
  if ((x = sl_v_get(ep, "limit"))) {
    if (x->type == SL_V_NULL) r->limit = 0;
    else if (xint(c, x, "limit", 1, &r->limit)) return c->err->code;
  }
  if ((x = sl_v_get(ep, "auth"))) {
    if (!(r->auth = calloc(1, sizeof *r->auth))) return sl_error_set(c->err, SL_NOMEM, "out of memory");
    if (parse_auth(c, x, r->auth)) return c->err->code;
    const char *base = c->env && c->env->base_dir ? c->env->base_dir : ".";
    r->auth_state_file =
        sl_arena_printf(c->a, "%s/.sluice/%s.%s.refresh_token", base, c->s->name, r->name);
  }
  if (r->inc.on && !r->inc_param && !r->inc.start_param) {
    /* dlt: the start value goes where {incremental.start_value} is written */
    bool used = strstr(r->path, "{incremental.") != NULL;
    for (size_t i = 0; !used && i < r->params->u.obj.len; i++) {
      const sl_value *pv = r->params->u.obj.items[i].val;
      used = pv->type == SL_V_STRING && strstr(pv->u.s.ptr, "{incremental.");
    }
    for (size_t i = 0; !used && r->headers && r->headers[i]; i++)
      used = strstr(r->headers[i], "{incremental.") != NULL;
    if (!used && r->json) {
      sl_buf b = {0};
      sl_v_to_json(r->json, &b, 0);
      used = b.data && strstr(b.data, "{incremental.");
      sl_buf_free(&b);
    }
    if (!used)
      return BAD(sl_v_get(ep, "incremental"),
                 "incremental needs start_param or an {incremental.start_value} placeholder");
  }
  return SL_OK;
}

void rest_resource_free(void *ud) {
  rest_resource *r = ud;
  if (!r) return;
  if (r->client && --r->client->refs <= 0) {
    sl_http_free(r->client->http);
    sl_http_free(r->client->auth.token_http);
    free(r->client->auth.access_token);
    free(r->client->auth.current_refresh);
    free(r->client);
  }
  if (r->auth) {
    sl_http_free(r->auth->token_http);
    free(r->auth->access_token);
    free(r->auth->current_refresh);
    free(r->auth);
  }
  free(r->actions);
  free(r->resolves);
  free(r);
}

sl_status sl__rest_resource_build(sl_source *s, sl_resource_def *def, const sl_value *spec,
                                  const sl_value *top, const sl_source_env *env, const char *file,
                                  sl_error *err) {
  rctx cc = {s, env, file, err, &s->doc->arena, def->name}, *c = &cc;
  rest_resource *r = calloc(1, sizeof *r);
  if (!r) return sl_error_set(err, SL_NOMEM, "out of memory");
  r->name = def->name;
  r->file = sl_arena_strdup(c->a, file ? file : "<string>");
  sl_status st = get_client(c, top, &r->client);
  if (r->client) r->client->refs++;
  if (st) goto fail;
  const sl_value *ep = spec ? sl_v_get(spec, "endpoint") : NULL;
  if ((st = parse_endpoint(c, ep, r))) goto fail;
  if (!r->client->base_url && strncmp(r->path, "http://", 7) && strncmp(r->path, "https://", 8)) {
    st = BAD(ep ? ep : spec, "resource '%s': no client.base_url and the path '%s' is not a URL",
             r->name, r->path);
    goto fail;
  }
  const sl_value *x = spec ? sl_v_get(spec, "include_from_parent") : NULL;
  if (x) {
    if (!r->parent) {
      st = BAD(x, "include_from_parent needs a parent (a resolve param or {resources.…})");
      goto fail;
    }
    const char **l = NULL;
    size_t n = x->type == SL_V_ARRAY ? x->u.arr.len : 1;
    l = sl_arena_calloc(c->a, (n + 1) * sizeof *l);
    for (size_t i = 0; l && i < n; i++) {
      const sl_value *f = x->type == SL_V_ARRAY ? x->u.arr.items[i] : x;
      if (f->type != SL_V_STRING) {
        st = BAD(f, "include_from_parent must be a field name or a list of field names");
        goto fail;
      }
      l[i] = f->u.s.ptr;
    }
    r->include_from_parent = l;
  }
  if (r->parent && def->parent && strcmp(def->parent, r->parent) != 0) {
    st = BAD(spec, "resource '%s' has two parents", r->name);
    goto fail;
  }
  if (r->parent) def->parent = r->parent;
  def->fn = rest_resource_run;
  def->ud = r;
  def->free_ud = rest_resource_free;
  return SL_OK;
fail:
  rest_resource_free(r);
  return st ? st : err->code;
}
