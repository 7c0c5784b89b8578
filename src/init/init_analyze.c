/* `sluice init`, step 1: what one GET operation returns (a list or one
 * object, where the records are), how it pages, its primary key; and the
 * resource names, readable and unique. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init/init_int.h"

char *gen_printf(gen *g, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char tmp[2048];
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  return sl_arena_strdup(g->a, tmp);
}

const sl_value *sl__init_prop(gen *g, const sl_value *schema, const char *name) {
  const sl_value *props = sl_v_get(schema, "properties");
  const sl_value *p = sl_v_get(props, name);
  return p ? sl_openapi_schema(g->spec, p) : NULL;
}

static bool is_array_schema(const char *t) { return t && !strcmp(t, "array"); }

/* Where the records are in an object response: a preferred list name, else
 * the one list among pagination metadata. NULL when it is a single object. */
static const char *find_list_field(gen *g, const sl_value *resp) {
  static const char *const preferred[] = {"items",   "data",    "results", "records",
                                          "entries", "elements", "values", "rows",
                                          "objects", "hits",    "list",    "content"};
  static const char *const meta[] = {
      "bookmark", "next",      "previous",   "prev",        "count",     "total",
      "cursor",   "next_cursor", "page",     "pages",       "per_page",  "page_size",
      "limit",    "offset",    "total_count", "total_pages", "has_more", "links",
      "_links",   "meta",      "paging",     "pagination",  "next_page_token", "nextPageToken",
      "status",   "message",   "code",       "request_id",  "continuation", "after"};
  for (size_t i = 0; i < sizeof preferred / sizeof *preferred; i++) {
    const sl_value *p = sl__init_prop(g, resp, preferred[i]);
    if (p && is_array_schema(sl_openapi_schema_type(p))) return preferred[i];
  }
  const sl_value *props = sl_v_get(resp, "properties");
  const char *only = NULL;
  for (size_t i = 0; props && props->type == SL_V_OBJECT && i < props->u.obj.len; i++) {
    const sl_member *m = &props->u.obj.items[i];
    const sl_value *p = sl_openapi_schema(g->spec, m->val);
    if (is_array_schema(sl_openapi_schema_type(p))) {
      if (only) return NULL;
      only = m->key;
      continue;
    }
    bool is_meta = false;
    for (size_t k = 0; k < sizeof meta / sizeof *meta; k++)
      if (!strcmp(m->key, meta[k])) is_meta = true;
    if (!is_meta) return NULL;
  }
  return only;
}

static bool name_in(const char *n, const char *const *list) {
  for (; *list; list++)
    if (!strcasecmp(n, *list)) return true;
  return false;
}

static const char *const CURSOR_PARAMS[] = {
    "bookmark", "cursor", "next_cursor", "page_token", "pageToken", "next_page_token",
    "nextPageToken", "starting_after", "after", "continuation", "continuation_token",
    "next_token", "nextToken", "marker", "page_after", NULL};
static const char *const CURSOR_FIELDS[] = {
    "bookmark", "next_cursor", "nextCursor", "cursor", "next_page_token", "nextPageToken",
    "next_token", "nextToken", "continuation", "continuation_token", "after", "marker", NULL};
static const char *const SIZE_PARAMS[] = {"page_size", "pageSize", "per_page", "perPage", "limit",
                                          "size", "max_results", "maxResults", "count", NULL};
static const char *const TOTAL_FIELDS[] = {"total", "count", "total_count", "totalCount",
                                           "total_results", "totalResults", NULL};
static const char *const TOTAL_PAGE_FIELDS[] = {"total_pages", "totalPages", "pages",
                                                "page_count", "pageCount", NULL};

/* A field of the response (top level, or one level down in meta/paging/...)
 * named like one of names; returns a dotted path (arena) or NULL. */
static const char *find_field(gen *g, const sl_value *resp, const char *const *names,
                              const char *want_type) {
  const sl_value *props = sl_v_get(resp, "properties");
  for (const char *const *n = names; *n; n++) {
    const sl_value *p = sl__init_prop(g, resp, *n);
    const char *t = p ? sl_openapi_schema_type(p) : NULL;
    if (p && (!want_type || !t || !strcmp(t, want_type))) return *n;
  }
  for (size_t i = 0; props && props->type == SL_V_OBJECT && i < props->u.obj.len; i++) {
    const sl_member *m = &props->u.obj.items[i];
    const sl_value *sub = sl_openapi_schema(g->spec, m->val);
    if (!sub || strcmp(sl_openapi_schema_type(sub) ? sl_openapi_schema_type(sub) : "", "object"))
      continue;
    if (!name_in(m->key, (const char *const[]){"meta", "paging", "pagination", "page_info",
                                                "pageInfo", "cursors", "links", "_links", NULL}))
      continue;
    for (const char *const *n = names; *n; n++) {
      const sl_value *p = sl__init_prop(g, sub, *n);
      const char *t = p ? sl_openapi_schema_type(p) : NULL;
      if (p && (!want_type || !t || !strcmp(t, want_type))) return gen_printf(g, "%s.%s", m->key, *n);
    }
  }
  return NULL;
}

static void detect_paginator(gen *g, gres *r, const sl_value *resp) {
  const sl_value **params;
  size_t np = sl_openapi_params(g->spec, &r->op, &params);
  const char *cursor = NULL, *size = NULL, *offset = NULL, *page = NULL;
  int64_t size_max = 0, size_dflt = 0, page_min = 1;
  for (size_t i = 0; i < np; i++) {
    const char *in = sl_v_str(sl_v_get(params[i], "in"), "");
    const char *name = sl_v_str(sl_v_get(params[i], "name"), NULL);
    if (!name || strcmp(in, "query")) continue;
    const sl_value *s = sl_openapi_schema(g->spec, sl_v_get(params[i], "schema"));
    const char *t = sl_openapi_schema_type(s);
    if (!cursor && name_in(name, CURSOR_PARAMS)) cursor = name;
    else if (!offset && !strcasecmp(name, "offset")) offset = name;
    else if (!page && (!strcasecmp(name, "page") || !strcasecmp(name, "page_number") ||
                       !strcasecmp(name, "pageNumber"))) {
      page = name;
      page_min = sl_v_int_or(sl_v_get(s, "minimum"), 1);
    } else if (!size && name_in(name, SIZE_PARAMS) && (!t || !strcmp(t, "integer") ||
                                                        !strcmp(t, "number"))) {
      size = name;
      size_max = sl_v_int_or(sl_v_get(s, "maximum"), 0);
      size_dflt = sl_v_int_or(sl_v_get(s, "default"), 0);
    }
  }
  r->size_param = size;
  r->page_size = size_max ? size_max : 0;
  (void)size_dflt;
  const sl_value *hdrs = NULL;
  const sl_value *responses = sl_v_get(r->op.op, "responses");
  const sl_value *ok = sl_openapi_deref(g->spec, sl_v_get(responses, "200"));
  hdrs = sl_v_get(ok, "headers");
  bool link_header = sl_v_get(hdrs, "Link") || sl_v_get(hdrs, "link");
  const char *next_link = NULL;
  if (resp && !strcmp(sl_openapi_schema_type(resp) ? sl_openapi_schema_type(resp) : "", "object"))
    next_link = find_field(g, resp, (const char *const[]){"next", "next_url", "nextUrl",
                                                          "next_link", "nextLink", NULL},
                           "string");
  if (!next_link && resp) {
    /* _links.next.href (HAL) */
    const sl_value *links = sl__init_prop(g, resp, "_links");
    const sl_value *nx = links ? sl__init_prop(g, links, "next") : NULL;
    if (nx && sl__init_prop(g, nx, "href")) next_link = "_links.next.href";
  }
  if (cursor) {
    r->pag = "cursor";
    r->cursor_param = cursor;
    const sl_value *same = resp ? sl__init_prop(g, resp, cursor) : NULL;
    r->cursor_path = same ? cursor : find_field(g, resp, CURSOR_FIELDS, NULL);
    if (!r->cursor_path) r->cursor_path = cursor;
  } else if (next_link) {
    r->pag = "json_link";
    r->next_url_path = next_link;
  } else if (offset && size) {
    r->pag = "offset";
    r->offset_param = offset;
    r->total_path = find_field(g, resp, TOTAL_FIELDS, "integer");
  } else if (page) {
    r->pag = "page_number";
    r->page_param = page;
    r->base_page = page_min;
    r->total_path = find_field(g, resp, TOTAL_PAGE_FIELDS, "integer");
  } else if (link_header) {
    r->pag = "header_link";
  } else {
    r->pag = "single_page";
  }
}

static const char *first_line(gen *g, const char *s) {
  if (!s) return "";
  while (*s == ' ' || *s == '\n' || *s == '\t') s++;
  size_t n = 0;
  while (s[n] && s[n] != '\n' && s[n] != '\r') n++;
  if (n > 150) n = 150;
  char *out = sl_arena_strndup(g->a, s, n);
  for (char *p = out; p && *p; p++)
    if ((unsigned char)*p < 0x20) *p = ' ';
  return out ? out : "";
}

void sl__init_analyze(gen *g, gres *r) {
  r->parent = -1;
  r->path = r->op.path;
  const char *sum = sl_v_str(sl_v_get(r->op.op, "summary"), NULL);
  if (!sum) sum = sl_v_str(sl_v_get(r->op.op, "description"), NULL);
  r->summary = first_line(g, sum);
  /* segments */
  const char *p = r->path;
  while (*p && r->nsegs < GEN_MAX_SEGS) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char *seg = sl_arena_strndup(g->a, p, n);
    bool var = n > 2 && seg[0] == '{' && seg[n - 1] == '}' && !memchr(seg + 1, '{', n - 2) &&
               !memchr(seg + 1, '}', n - 2);
    if (var) {
      r->vars[r->nvars++] = sl_arena_strndup(g->a, seg + 1, n - 2);
    } else if (memchr(seg, '{', n) || memchr(seg, '}', n)) {
      /* "/files/{name}.json": a variable inside a segment */
      if (!r->reason)
        r->reason = gen_printf(g, "path segment '%s' mixes text and a variable; write the "
                                  "path by hand and set selected: true", seg);
      if (seg[0] == '{') seg[0] = '_';
    }
    r->segs[r->nsegs++] = seg;
    p += n;
  }
  /* response shape */
  const sl_value *resp = sl_openapi_response_schema(g->spec, &r->op);
  const char *t = sl_openapi_schema_type(resp);
  if (is_array_schema(t)) {
    r->is_list = true;
    r->selector = "$";
    r->item = sl_openapi_schema(g->spec, sl_v_get(resp, "items"));
  } else if (resp) {
    const char *f = find_list_field(g, resp);
    if (f) {
      r->is_list = true;
      r->selector = f;
      r->item = sl_openapi_schema(g->spec, sl_v_get(sl__init_prop(g, resp, f), "items"));
    } else {
      r->selector = "$";
      r->item = resp;
    }
  } else {
    r->selector = "$";
  }
  if (r->is_list) detect_paginator(g, r, resp);
  else r->pag = "single_page";
  if (r->item && sl_v_get(sl_v_get(r->item, "properties"), "id")) r->pk = "id";
}

/* ---- names ------------------------------------------------------------------- */

static char *snake(gen *g, const char *s) {
  size_t n = strlen(s);
  char *o = sl_arena_alloc(g->a, n * 2 + 2);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isupper(c) && i > 0 && islower((unsigned char)s[i - 1]) && k && o[k - 1] != '_')
      o[k++] = '_';
    if (isalnum(c)) o[k++] = (char)tolower(c);
    else if (k && o[k - 1] != '_') o[k++] = '_';
  }
  while (k && o[k - 1] == '_') k--;
  o[k] = 0;
  if (!k) return sl_arena_strdup(g->a, "root");
  if (isdigit((unsigned char)o[0])) return gen_printf(g, "r_%s", o);
  return o;
}

/* The static segments that say what a resource is, counted from the end;
 * segments that only introduce a variable's parent are still used when
 * names would collide. */
static char *name_with(gen *g, const gres *r, size_t depth) {
  const char *stat[GEN_MAX_SEGS];
  size_t ns = 0;
  for (size_t i = 0; i < r->nsegs; i++)
    if (r->segs[i][0] != '{') stat[ns++] = r->segs[i];
  /* api/v2 style prefixes say nothing */
  size_t skip = 0;
  while (skip < ns && (!strcmp(stat[skip], "api") ||
                       (stat[skip][0] == 'v' && isdigit((unsigned char)stat[skip][1])))) skip++;
  if (skip == ns) skip = ns ? ns - 1 : 0;
  size_t avail = ns - skip;
  if (depth > avail) depth = avail;
  sl_buf b = {0};
  for (size_t i = ns - depth; i < ns; i++) {
    if (b.len) sl_buf_putc(&b, '_');
    sl_buf_puts(&b, stat[i]);
  }
  bool detail = r->nsegs && r->segs[r->nsegs - 1][0] == '{';
  if (detail) {
    if (b.len) sl_buf_putc(&b, '_');
    const char *v = r->vars[r->nvars - 1];
    /* "/pins/{pin_id}" -> pins_detail; "/users/{username}" -> users_by_username */
    if (!strcmp(v, "id") || (strlen(v) > 3 && !strcmp(v + strlen(v) - 3, "_id")))
      sl_buf_puts(&b, "detail");
    else
      sl_buf_printf(&b, "by_%s", v);
  }
  char *out = snake(g, b.data ? b.data : "root");
  sl_buf_free(&b);
  return out;
}

static size_t static_count(const gres *r) {
  size_t n = 0;
  for (size_t i = 0; i < r->nsegs; i++)
    if (r->segs[i][0] != '{') n++;
  return n;
}

void sl__init_name(gen *g) {
  size_t *depth = calloc(g->nres ? g->nres : 1, sizeof *depth);
  if (!depth) return;
  for (size_t i = 0; i < g->nres; i++) {
    depth[i] = 1;
    g->res[i].name = name_with(g, &g->res[i], 1);
  }
  for (int round = 0; round < GEN_MAX_SEGS; round++) {
    bool changed = false;
    for (size_t i = 0; i < g->nres; i++) {
      bool clash = false;
      for (size_t j = 0; j < g->nres; j++)
        if (j != i && !strcmp(g->res[i].name, g->res[j].name)) clash = true;
      if (clash && depth[i] < static_count(&g->res[i])) {
        depth[i]++;
        changed = true;
      }
    }
    for (size_t i = 0; i < g->nres; i++) g->res[i].name = name_with(g, &g->res[i], depth[i]);
    if (!changed) break;
  }
  /* what still clashes gets a number, in document order */
  for (size_t i = 0; i < g->nres; i++) {
    int k = 2;
    for (size_t j = 0; j < i; j++) {
      if (strcmp(g->res[i].name, g->res[j].name)) continue;
      g->res[i].name = gen_printf(g, "%s_%d", name_with(g, &g->res[i], depth[i]), k++);
      j = (size_t)-1; /* recheck from the start */
    }
  }
  free(depth);
}
