/* `sluice init`, step 2: the parameters of each resource. Required query
 * parameters from defaults, enums and date windows; path variables and id
 * lists resolved from the list they come from (by path prefix and by name,
 * never an unrelated id); what cannot be derived disables the resource with
 * the reason. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init/init_int.h"

bool sl__init_plural_of(const char *plural, size_t plen, const char *stem, size_t slen) {
  if (plen == slen && !strncasecmp(plural, stem, slen)) return true; /* media, data */
  if (plen == slen + 1 && !strncasecmp(plural, stem, slen) && plural[slen] == 's') return true;
  if (plen == slen + 2 && !strncasecmp(plural, stem, slen) && !strncmp(plural + slen, "es", 2))
    return true;
  if (slen > 1 && stem[slen - 1] == 'y' && plen == slen + 2 &&
      !strncasecmp(plural, stem, slen - 1) && !strncmp(plural + slen - 1, "ies", 3))
    return true;
  return false;
}

static bool has_prop(const gres *r, const char *name) {
  return r->item && sl_v_get(sl_v_get(r->item, "properties"), name);
}

static bool is_nullable(gen *g, const gres *r, const char *name) {
  return sl_v_bool_or(sl_v_get(sl__init_prop(g, r->item, name), "nullable"), false);
}

/* A field a child can resolve from: present and never null. */
static bool has_field(gen *g, const gres *r, const char *name) {
  return has_prop(r, name) && !is_nullable(g, r, name);
}

/* A field the spec says may be null: a child resolves from it only with
 * skip_null, so that a record without it makes no request. */
static bool has_nullable_field(gen *g, const gres *r, const char *name) {
  return has_prop(r, name) && is_nullable(g, r, name);
}

/* The field of r's records that holds a <stem>_id: that name, or one that
 * ends in "_<stem>_id" (catalog_product_group_id for product_group_id).
 * A never-null field first; else, when nullable is given, a nullable one
 * (and *nullable says so). */
static const char *id_field(gen *g, const gres *r, const char *want, bool *nullable) {
  const sl_value *props = r->item ? sl_v_get(r->item, "properties") : NULL;
  size_t wl = strlen(want);
  for (int pass = 0; pass < (nullable ? 2 : 1); pass++) {
    bool (*ok)(gen *, const gres *, const char *) = pass ? has_nullable_field : has_field;
    if (nullable) *nullable = pass == 1;
    if (ok(g, r, want)) return want;
    for (size_t i = 0; props && props->type == SL_V_OBJECT && i < props->u.obj.len; i++) {
      const char *k = props->u.obj.items[i].key;
      size_t kl = strlen(k);
      if (kl > wl + 1 && k[kl - wl - 1] == '_' && !strcmp(k + kl - wl, want) && ok(g, r, k))
        return sl_arena_strdup(g->a, k);
    }
  }
  if (nullable) *nullable = false;
  return NULL;
}

static bool has_var(const gres *r, const char *v) {
  for (size_t i = 0; i < r->nvars; i++)
    if (!strcmp(r->vars[i], v)) return true;
  return false;
}

static bool vars_subset(const gres *c, const gres *r) {
  for (size_t i = 0; i < c->nvars; i++)
    if (!has_var(r, c->vars[i])) return false;
  return true;
}

static const char *last_static(const gres *r) {
  for (size_t i = r->nsegs; i-- > 0;)
    if (r->segs[i][0] != '{') return r->segs[i];
  return "";
}

static void disable(gen *g, gres *r, const char *why) {
  if (!r->reason) r->reason = sl_arena_strdup(g->a, why);
}

static void set_param(gen *g, gres *r, const char *name, sl_value *v) {
  if (!r->params) r->params = sl_v_object(g->doc);
  sl_v_put(g->doc, r->params, name, v);
}

static sl_value *resolve_obj(gen *g, const gres *parent, const char *field, bool skip_null) {
  sl_value *o = sl_v_object(g->doc);
  sl_v_put(g->doc, o, "type", sl_v_string(g->doc, "resolve", 7));
  sl_v_put(g->doc, o, "resource", sl_v_string(g->doc, parent->name, strlen(parent->name)));
  sl_v_put(g->doc, o, "field", sl_v_string(g->doc, field, strlen(field)));
  if (skip_null) sl_v_put(g->doc, o, "skip_null", sl_v_bool(g->doc, true));
  return o;
}

/* The comment above a resource that resolves from a nullable field. */
static void note_skip_null(gen *g, gres *r, const char *param, const gres *parent,
                           const char *field) {
  r->notes = gen_printf(g, "%s# %s from %s.%s,\n"
                           "#   which the spec marks nullable: a record where it is null makes no "
                           "request (skip_null)\n",
                        r->notes ? r->notes : "", param, parent->name, field);
}

static void add_include(gen *g, gres *c, const char *field) {
  for (size_t i = 0; i < c->ninclude; i++)
    if (!strcmp(c->include[i], field)) return;
  if (c->ninclude < GEN_MAX_INCLUDE) c->include[c->ninclude++] = sl_arena_strdup(g->a, field);
}

static void link_one(gen *g, size_t i, int depth);

/* The field of c's records that carries the value of variable v, or NULL:
 * its own property, else the parent field c copies in (include_from_parent). */
static const char *avail(gen *g, gres *c, const char *v) {
  if (has_field(g, c, v)) return v;
  if (c->parent < 0 || !c->params) return NULL;
  const sl_value *rv = sl_v_get(c->params, v);
  if (!rv || rv->type != SL_V_OBJECT) return NULL;
  const char *f = sl_v_str(sl_v_get(rv, "field"), NULL);
  if (!f) return NULL;
  add_include(g, c, f);
  return gen_printf(g, "_%s_%s", g->res[c->parent].name, f);
}

/* A usable candidate: not r, linked (first), not disabled, not depending on r. */
static bool usable(gen *g, size_t r, size_t c, int depth) {
  if (c == r) return false;
  link_one(g, c, depth + 1);
  gres *cr = &g->res[c];
  if (!cr->linked || cr->reason) return false;
  for (int p = cr->parent, n = 0; p >= 0 && n < 64; p = g->res[p].parent, n++)
    if ((size_t)p == r) return false;
  return true;
}

/* Whether a static segment of c's path names what v identifies: "user"
 * (from username / user_id) in /user_account. */
static int named_for(const gres *c, const char *v) {
  char stem[128];
  snprintf(stem, sizeof stem, "%s", v);
  size_t n = strlen(stem);
  static const char *const tails[] = {"_id", "_name", "name", "id", NULL};
  for (const char *const *t = tails; *t; t++) {
    size_t tl = strlen(*t);
    if (n > tl + 1 && !strcmp(stem + n - tl, *t)) {
      stem[n - tl] = 0;
      break;
    }
  }
  if (strlen(stem) < 3) return 0;
  if (strstr(last_static(c), stem)) return 2;
  for (size_t i = 0; i < c->nsegs; i++)
    if (c->segs[i][0] != '{' && strstr(c->segs[i], stem)) return 1;
  return 0;
}

/* The parent list of path variable v of r, and the field of its records;
 * *nullable when the spec says that field may be null. */
static int parent_for_var(gen *g, size_t ri, const char *v, const char **field, bool *nullable,
                          int depth) {
  gres *r = &g->res[ri];
  *nullable = false;
  size_t k = 0;
  for (; k < r->nsegs; k++)
    if (r->segs[k][0] == '{' && !strncmp(r->segs[k] + 1, v, strlen(v)) &&
        r->segs[k][strlen(v) + 1] == '}')
      break;
  /* 1. the list at the path before {v}: /ad_accounts for /ad_accounts/{ad_account_id}/… */
  for (size_t c = 0; c < g->nres; c++) {
    gres *cr = &g->res[c];
    if (!cr->is_list || cr->nsegs != k) continue;
    bool same = true;
    for (size_t s = 0; s < k && same; s++) same = !strcmp(cr->segs[s], r->segs[s]);
    if (!same || !usable(g, ri, c, depth)) continue;
    if (has_field(g, cr, v)) *field = v;
    else if (has_field(g, cr, "id") && (!strcmp(v, "id") || (strlen(v) > 3 &&
                                                          !strcmp(v + strlen(v) - 3, "_id"))))
      *field = "id";
    else continue;
    return (int)c;
  }
  /* 2. another resource whose records carry a field named v (pin_order_id,
   *    media_id, username): lists first, then those whose variables r has,
   *    then the fewest variables and the shortest path. A field the spec
   *    marks nullable only when no other carries it (external_business_id of
   *    /integrations): the resolve skips the records where it is null. */
  int best = -1;
  long best_score = 0;
  for (int pass = 0; pass < 2 && best < 0; pass++) {
    for (size_t c = 0; c < g->nres; c++) {
      gres *cr = &g->res[c];
      if (!(pass ? has_nullable_field : has_field)(g, cr, v) || !usable(g, ri, c, depth)) continue;
      long score = (2 - named_for(cr, v)) * 1000000L + (cr->is_list ? 0 : 100000) +
                   (vars_subset(cr, r) ? 0 : 10000) + (long)cr->nvars * 100 + (long)cr->nsegs;
      if (best < 0 || score < best_score) best = (int)c, best_score = score;
    }
    *nullable = pass == 1 && best >= 0;
  }
  if (best >= 0) {
    *field = v;
    return best;
  }
  /* 3. a list named for the variable, field id: {processing_result_id} <-
   *    /catalogs/feeds/{feed_id}/processing_results */
  size_t vl = strlen(v);
  if (vl > 3 && !strcmp(v + vl - 3, "_id")) {
    for (size_t c = 0; c < g->nres; c++) {
      gres *cr = &g->res[c];
      if (!cr->is_list || !has_prop(cr, "id")) continue;
      if (cr->nsegs && cr->segs[cr->nsegs - 1][0] == '{') continue;
      const char *ls = last_static(cr);
      bool last = sl__init_plural_of(ls, strlen(ls), v, vl - 3), named = last;
      for (size_t sg = 0; sg < cr->nsegs && !named; sg++)
        named = cr->segs[sg][0] != '{' &&
                sl__init_plural_of(cr->segs[sg], strlen(cr->segs[sg]), v, vl - 3);
      if (!named || !usable(g, ri, c, depth)) continue;
      long score = (last ? 0 : 1000) + (vars_subset(cr, r) ? 0 : 10000) + (long)cr->nvars * 100 +
                   (long)cr->nsegs;
      if (best < 0 || score < best_score) best = (int)c, best_score = score;
    }
    if (best >= 0) {
      *field = "id";
      return best;
    }
  }
  return -1;
}

static bool is_id_name(const char *n, size_t *stem_len) {
  size_t l = strlen(n);
  if (l > 4 && !strcmp(n + l - 4, "_ids")) {
    *stem_len = l - 4;
    return true;
  }
  if (l > 3 && !strcmp(n + l - 3, "_id")) {
    *stem_len = l - 3;
    return true;
  }
  return false;
}

static bool name_has(const char *n, const char *w) { return strstr(n, w) != NULL; }

/* 1 for the start of a date range (start_date, from_date, since), 2 for
 * its end or a lone date, 0 when it is no date. */
static int date_role(gen *g, const char *name, const sl_value *s) {
  const char *t = sl_openapi_schema_type(s);
  const char *fmt = sl_v_str(sl_v_get(s, "format"), "");
  size_t nl = strlen(name);
  bool datey = !strcmp(fmt, "date") || !strcmp(name, "date") ||
               (nl > 5 && !strcmp(name + nl - 5, "_date"));
  (void)g;
  if (!datey || (t && strcmp(t, "string"))) return 0;
  return name_has(name, "start") || name_has(name, "from") || name_has(name, "since") ||
                 name_has(name, "begin")
             ? 1
             : 2;
}

/* A limit in days that text states: a number and a unit (days, weeks,
 * months, years) followed by one of after ("90 days back"), or preceded by
 * one of before ("a maximum time range of 90 days"). The first one; 0 if
 * none. Months and years count short (30, 365 days): a limit must not be
 * overstepped. */
static int64_t days_stated(const char *text, const char *const *after, const char *const *before) {
  static const struct { const char *w; double days; } units[] = {
      {"days", 1}, {"day", 1}, {"weeks", 7}, {"week", 7}, {"months", 30}, {"month", 30},
      {"years", 365}, {"year", 365}};
  for (const char *p = text ? text : ""; *p; p++) {
    if (!isdigit((unsigned char)*p) || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '.')))
      continue;
    char *e;
    double n = strtod(p, &e);
    const char *q = e;
    while (*q == ' ' || *q == '-') q++;
    double unit = 0;
    for (size_t u = 0; u < sizeof units / sizeof *units && !unit; u++) {
      size_t ul = strlen(units[u].w);
      if (!strncasecmp(q, units[u].w, ul) && !isalpha((unsigned char)q[ul])) {
        unit = units[u].days;
        q += ul;
      }
    }
    if (!unit || n <= 0 || n > 100000) continue;
    while (*q == ' ') q++;
    bool hit = false;
    for (const char *const *a = after; *a && !hit; a++) hit = !strncasecmp(q, *a, strlen(*a));
    for (const char *const *b = before; *b && !hit; b++) {
      size_t bl = strlen(*b);
      hit = (size_t)(p - text) >= bl + 1 && !strncasecmp(p - bl - 1, *b, bl);
    }
    if (hit) return (int64_t)(n * unit);
  }
  return 0;
}

/* A start/end date pair: how far back the API goes and how long one range
 * may be, from the parameters' descriptions, else the operation's. */
static void date_limits(gen *g, gres *r, const sl_value *ps, const sl_value *pe) {
  static const char *const back_after[] = {"back", "before", "ago", "in the past", "prior", NULL};
  static const char *const back_before[] = {"lookback of", "look-back of", "history of", NULL};
  static const char *const span_after[] = {"past start", "after start", "from start",
                                           "past the start", "after the start", NULL};
  static const char *const span_before[] = {"time range of", "range of", "span of",
                                            "window of", "range of up to", "interval of", NULL};
  const char *ds = sl_v_str(sl_v_get(ps, "description"), "");
  const char *de = sl_v_str(sl_v_get(pe, "description"), "");
  const char *dop = sl_v_str(sl_v_get(r->op.op, "description"), "");
  (void)g;
  r->lookback_days = days_stated(ds, back_after, back_before);
  if (!r->lookback_days) r->lookback_days = days_stated(de, back_after, back_before);
  if (!r->lookback_days) r->lookback_days = days_stated(dop, back_after, back_before);
  r->span_days = days_stated(de, span_after, span_before);
  if (!r->span_days) r->span_days = days_stated(ds, span_after, span_before);
  if (!r->span_days) r->span_days = days_stated(dop, span_after, span_before);
  r->span_stated = r->span_days > 0;
  /* unstated: a quarter per request, a size most APIs take */
  if (!r->span_days) r->span_days = 90;
  r->initial_days = r->lookback_days && r->lookback_days < 30 ? r->lookback_days : 30;
}

/* A value for a required query parameter from what the spec says, or NULL. */
static sl_value *derive(gen *g, gres *r, const char *name, const sl_value *s,
                        const sl_value *pex, const char **note) {
  sl_doc *d = g->doc;
  const char *t = sl_openapi_schema_type(s);
  const sl_value *dflt = sl_v_get(s, "default");
  if (dflt && dflt->type != SL_V_NULL) {
    if (dflt->type == SL_V_ARRAY) {
      sl_buf b = {0};
      for (size_t i = 0; i < dflt->u.arr.len; i++) {
        if (i) sl_buf_putc(&b, ',');
        const sl_value *x = dflt->u.arr.items[i];
        if (x->type == SL_V_INT) sl_buf_printf(&b, "%lld", (long long)x->u.i);
        else sl_buf_puts(&b, sl_v_str(x, ""));
      }
      sl_value *v = sl_v_string(d, b.data ? b.data : "", b.len);
      sl_buf_free(&b);
      return v;
    }
    *note = "the spec's default";
    return sl_v_clone(d, dflt);
  }
  if (t && !strcmp(t, "array")) {
    const sl_value *it = sl_openapi_schema(g->spec, sl_v_get(s, "items"));
    const sl_value *en = sl_v_get(it, "enum");
    if (en && en->type == SL_V_ARRAY && en->u.arr.len) {
      int64_t max = sl_v_int_or(sl_v_get(s, "maxItems"), 0);
      sl_buf b = {0};
      size_t n = 0;
      for (size_t i = 0; i < en->u.arr.len && (!max || (int64_t)n < max); i++) {
        const char *x = sl_v_str(en->u.arr.items[i], NULL);
        if (!x) continue;
        if (n++) sl_buf_putc(&b, ',');
        sl_buf_puts(&b, x);
      }
      sl_value *v = sl_v_string(d, b.data ? b.data : "", b.len);
      sl_buf_free(&b);
      *note = "all values of the enum";
      return v;
    }
    return NULL;
  }
  const sl_value *en = sl_v_get(s, "enum");
  if (en && en->type == SL_V_ARRAY && en->u.arr.len) {
    const sl_value *pick = en->u.arr.items[0];
    for (size_t i = 0; i < en->u.arr.len; i++)
      if (!strcmp(sl_v_str(en->u.arr.items[i], ""), "DAY")) pick = en->u.arr.items[i];
    *note = "a value of the enum";
    return sl_v_clone(d, pick);
  }
  int role = date_role(g, name, s);
  if (role) {
    /* a lone date (a pair is an incremental window): a day of the window */
    const char *key = role == 1 ? "start_date" : "end_date";
    g->need_dates = r->uses_dates = true;
    *note = "the date window in .sluice/config.toml";
    r->notes = gen_printf(g, "%s# %s: %s of .sluice/config.toml (%s unless set there)\n",
                          r->notes ? r->notes : "", name, key,
                          role == 1 ? "30 days back" : "the day of the run");
    char *ref = gen_printf(g, "${sources.%s.%s}", g->source, key);
    return sl_v_string(d, ref, strlen(ref));
  }
  const sl_value *ex = sl_v_get(s, "example");
  if (!ex) ex = pex;
  if (ex && (ex->type == SL_V_STRING || ex->type == SL_V_INT)) {
    *note = "the spec's example";
    return sl_v_clone(d, ex);
  }
  if (t && !strcmp(t, "boolean")) {
    *note = "true (no default in the spec)";
    return sl_v_bool(d, true);
  }
  if (t && (!strcmp(t, "integer") || !strcmp(t, "number")) && sl_v_get(s, "minimum")) {
    *note = "the spec's minimum";
    return sl_v_clone(d, sl_v_get(s, "minimum"));
  }
  return NULL;
}

static void link_one(gen *g, size_t ri, int depth) {
  gres *r = &g->res[ri];
  if (r->linked || depth > 16) return;
  if (r->nderived == (size_t)-1) return; /* in progress: a cycle */
  r->nderived = (size_t)-1;
  size_t nderived = 0;
  sl_doc *d = g->doc;
  const sl_value **params;
  size_t np = sl_openapi_params(g->spec, &r->op, &params);
  const sl_value *plist[256];
  if (np > 256) np = 256;
  if (np) memcpy(plist, params, np * sizeof *plist);
  const char *idq[8];
  size_t idq_stem[8], nidq = 0;
  const sl_value *date_p[2] = {NULL, NULL}; /* a required start and end date */

  if (r->size_param && r->page_size && strcmp(r->pag, "offset"))
    set_param(g, r, r->size_param, sl_v_int(d, r->page_size));

  for (size_t i = 0; i < np; i++) {
    const sl_value *p = plist[i];
    const char *name = sl_v_str(sl_v_get(p, "name"), NULL);
    const char *in = sl_v_str(sl_v_get(p, "in"), "");
    bool req = sl_v_bool_or(sl_v_get(p, "required"), false);
    const sl_value *s = sl_openapi_schema(g->spec, sl_v_get(p, "schema"));
    if (!name) continue;
    if (!strcmp(in, "path")) {
      /* an enum or default fixes the variable in the path */
      const sl_value *en = sl_v_get(s, "enum");
      const sl_value *dv = sl_v_get(s, "default");
      const char *fixed = dv ? sl_v_str(dv, NULL) : NULL;
      if (!fixed && en && en->type == SL_V_ARRAY && en->u.arr.len)
        fixed = sl_v_str(en->u.arr.items[0], NULL);
      if (fixed && has_var(r, name)) {
        char pat[256];
        snprintf(pat, sizeof pat, "{%s}", name);
        const char *at = strstr(r->path, pat);
        if (at) {
          r->path = gen_printf(g, "%.*s%s%s", (int)(at - r->path), r->path, fixed,
                               at + strlen(pat));
          for (size_t k = 0; k < r->nsegs; k++)
            if (!strcmp(r->segs[k], pat)) r->segs[k] = sl_arena_strdup(g->a, fixed);
          size_t w = 0;
          for (size_t k = 0; k < r->nvars; k++)
            if (strcmp(r->vars[k], name)) r->vars[w++] = r->vars[k];
          r->nvars = w;
          nderived++;
          const char *old = r->notes ? r->notes : "";
          r->notes = gen_printf(g, "%s# {%s} fixed to %s%s\n", old, name, fixed,
                                en ? " (one value of its enum; copy the resource for others)" : "");
        }
      }
      continue;
    }
    if (!req) continue;
    if (!strcmp(in, "header") || !strcmp(in, "cookie")) {
      disable(g, r, gen_printf(g, "required %s parameter '%s' cannot be derived: add it under "
                                  "endpoint.headers and set selected: true",
                               in, name));
      continue;
    }
    if (strcmp(in, "query")) continue;
    if (r->cursor_param && !strcmp(name, r->cursor_param)) continue;
    size_t stem;
    if (is_id_name(name, &stem) && !sl_v_get(s, "default") && !sl_v_get(s, "enum")) {
      if (nidq < 8) {
        idq[nidq] = name;
        idq_stem[nidq++] = stem;
      }
      continue;
    }
    int role = sl_v_get(s, "default") || sl_v_get(s, "enum") ? 0 : date_role(g, name, s);
    if (role && !date_p[role - 1]) {
      date_p[role - 1] = p;
      continue;
    }
    const char *note = "";
    sl_value *v = derive(g, r, name, s, sl_v_get(p, "example"), &note);
    if (v && !strcmp(note, "the spec's example"))
      r->notes = gen_printf(g, "%s# %s: the spec's example value; put what you want to load\n",
                            r->notes ? r->notes : "", name);
    if (v) {
      set_param(g, r, name, v);
      nderived++;
    } else {
      const char *desc = sl_v_str(sl_v_get(p, "description"), "");
      char shortd[120];
      snprintf(shortd, sizeof shortd, "%s", desc);
      for (char *q = shortd; *q; q++)
        if (*q == '\n' || *q == '\r') *q = ' ';
      disable(g, r,
              gen_printf(g, "required query parameter '%s'%s%s%s has no default, enum or "
                            "source list: add '%s: <value>' under endpoint.params and set "
                            "selected: true",
                         name, *shortd ? " (" : "", shortd, *shortd ? ")" : "", name));
    }
  }

  /* a start and an end date: an incremental window (init_emit.c writes it);
   * one alone: the window's start or end day */
  if (date_p[0] && date_p[1]) {
    r->date_start = sl_v_str(sl_v_get(date_p[0], "name"), NULL);
    r->date_end = sl_v_str(sl_v_get(date_p[1], "name"), NULL);
    date_limits(g, r, date_p[0], date_p[1]);
    g->need_dates = r->uses_dates = true;
    nderived += 2;
  } else {
    for (int k = 0; k < 2; k++) {
      if (!date_p[k]) continue;
      const char *note = "";
      const char *name = sl_v_str(sl_v_get(date_p[k], "name"), "");
      sl_value *v = derive(g, r, name, sl_openapi_schema(g->spec, sl_v_get(date_p[k], "schema")),
                           NULL, &note);
      if (v) set_param(g, r, name, v), nderived++;
    }
  }

  /* path variables: the parent of the last one, the others from its records */
  int parent = -1;
  const char *pfield = NULL;
  bool pnull = false; /* pfield may be null: skip_null */
  if (r->nvars) {
    const char *last = r->vars[r->nvars - 1];
    parent = parent_for_var(g, ri, last, &pfield, &pnull, depth);
    const char *only_in = NULL;
    for (size_t c = 0; parent < 0 && c < g->nres && !only_in; c++)
      if (c != ri && has_prop(&g->res[c], last)) only_in = g->res[c].name;
    if (parent < 0 && only_in)
      disable(g, r, gen_printf(g, "path variable {%s}: only '%s' returns it, and '%s' cannot "
                                  "run (disabled, or it depends on this resource); replace {%s} "
                                  "in endpoint.path with a value and set selected: true",
                               last, only_in, only_in, last));
    else if (parent < 0)
      disable(g, r, gen_printf(g, "path variable {%s}: no list in the spec returns it; replace "
                                  "{%s} in endpoint.path with a value and set selected: true",
                               last, last));
  }
  /* id query parameters (campaign_ids, pin_ids): one list must supply them
   * all, and r's path variables: the list named for an id gives its `id`, any
   * list gives a `<stem>_id` field of its records (one the spec marks
   * nullable only when no list has it never null: skip_null) */
  if (!r->reason && nidq) {
    int cand = -1;
    long best_score = 0;
    for (size_t c = 0; c < g->nres; c++) {
      gres *cr = &g->res[c];
      if (!cr->is_list || (cr->nsegs && cr->segs[cr->nsegs - 1][0] == '{')) continue;
      long score = (long)cr->nsegs;
      bool ok = true;
      const char *ls = last_static(cr);
      for (size_t q = 0; q < nidq && ok; q++) {
        char want[128];
        snprintf(want, sizeof want, "%.*s_id", (int)idq_stem[q], idq[q]);
        bool nullable;
        if (sl__init_plural_of(ls, strlen(ls), idq[q], idq_stem[q]) && has_prop(cr, "id"))
          score -= q == 0 ? 2000 : 1000;
        else if (!id_field(g, cr, want, &nullable)) ok = false;
        else if (nullable) score += 100000;
      }
      if (!ok || !usable(g, ri, c, depth)) continue;
      for (size_t k = 0; k < r->nvars && ok; k++)
        ok = ((int)c == parent && k == r->nvars - 1) || avail(g, cr, r->vars[k]) != NULL;
      if (!ok) continue;
      size_t common = 0;
      while (common < cr->nsegs && common < r->nsegs && !strcmp(cr->segs[common], r->segs[common]))
        common++;
      score -= (long)common * 10;
      if (cand < 0 || score < best_score) cand = (int)c, best_score = score;
    }
    if (cand < 0) {
      disable(g, r, gen_printf(g, "required query parameter '%s': no list in the spec supplies "
                                  "%.*s ids%s; add '%s: <id>' under endpoint.params and set "
                                  "selected: true",
                               idq[0], (int)idq_stem[0], idq[0],
                               nidq > 1 ? " together with the other required ids" : "", idq[0]));
    } else {
      gres *L = &g->res[cand];
      const char *ls = last_static(L);
      for (size_t q = 0; q < nidq; q++) {
        const char *f = "id";
        bool nullable = false;
        if (!(sl__init_plural_of(ls, strlen(ls), idq[q], idq_stem[q]) && has_prop(L, "id")))
          f = id_field(g, L, gen_printf(g, "%.*s_id", (int)idq_stem[q], idq[q]), &nullable);
        set_param(g, r, idq[q], resolve_obj(g, L, f, nullable));
        if (nullable) note_skip_null(g, r, idq[q], L, f);
        r->nresolved++;
      }
      if (cand != parent) pfield = NULL, pnull = false;
      parent = cand;
    }
  }
  if (parent >= 0) {
    gres *P = &g->res[parent];
    for (size_t k = 0; k < r->nvars; k++) {
      const char *v = r->vars[k];
      bool last = k == r->nvars - 1 && pfield;
      const char *f = last ? pfield : avail(g, P, v);
      if (!f) {
        disable(g, r, gen_printf(g, "path variable {%s}: the parent '%s' does not carry it; "
                                    "replace {%s} in endpoint.path with a value and set "
                                    "selected: true",
                                 v, P->name, v));
        break;
      }
      set_param(g, r, v, resolve_obj(g, P, f, last && pnull));
      if (last && pnull) note_skip_null(g, r, gen_printf(g, "{%s}", v), P, f);
      r->nresolved++;
      if (!has_prop(r, v)) add_include(g, r, f);
    }
    r->parent = parent;
  }
  r->nderived = nderived;
  r->linked = true;
}

void sl__init_link(gen *g) {
  /* variables-free resources first, so chains link from the top */
  for (size_t pass = 0; pass <= GEN_MAX_SEGS; pass++)
    for (size_t i = 0; i < g->nres; i++)
      if (g->res[i].nvars == pass) link_one(g, i, 0);
  for (size_t i = 0; i < g->nres; i++) link_one(g, i, 0);
  /* a child of a disabled parent cannot run either */
  for (int round = 0; round < 8; round++)
    for (size_t i = 0; i < g->nres; i++) {
      gres *r = &g->res[i];
      if (!r->reason && r->parent >= 0 && g->res[r->parent].reason)
        r->reason = gen_printf(g, "its parent '%s' is disabled", g->res[r->parent].name);
    }
}
