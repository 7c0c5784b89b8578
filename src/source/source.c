/* Sources and resources: built in code (sl_resource_def) or from a declarative
 * YAML source, validated key by key with file:line:col errors before anything
 * runs. Resource kinds (file:, later endpoint:) are looked up in one table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/log.h"
#include "sluice/yaml.h"
#include "source/source_int.h"

const sl__resource_kind sl__resource_kinds[] = {
    {"file", NULL, false, NULL, sl__file_resource_build},
    {"endpoint", "client", true, sl__rest_run_together, sl__rest_resource_build},
};
const size_t sl__resource_kind_count = sizeof sl__resource_kinds / sizeof sl__resource_kinds[0];

/* ---- errors ----------------------------------------------------------------- */

sl_status sl__err_at(sl_error *err, sl_status code, const char *file, const sl_value *v,
                     const char *fmt, ...) {
  if (!err) return code;
  char msg[sizeof err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sl_error_clear(err);
  sl_error_set(err, code, "%s", msg);
  sl_error_at(err, file ? file : "<string>", v ? (int)v->line : 0, v ? (int)v->col : 0, -1);
  return code;
}

static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return 99;
  size_t row[65];
  for (size_t j = 0; j <= lb; j++) row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t best = diag + cost;
      if (row[j] + 1 < best) best = row[j] + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

const char *sl__did_you_mean(const char *word, const char *const *candidates) {
  const char *best = NULL;
  size_t best_d = 99, wl = strlen(word);
  for (size_t i = 0; candidates[i]; i++) {
    size_t d = edit_distance(word, candidates[i]);
    if (d < best_d) best_d = d, best = candidates[i];
  }
  size_t limit = wl / 3 > 2 ? wl / 3 : 2;
  return best && best_d <= limit ? best : NULL;
}

/* ---- construction ----------------------------------------------------------- */

void sl_resource_def_init(sl_resource_def *def) {
  memset(def, 0, sizeof *def);
  def->write_disposition = SL_WD_APPEND;
  def->merge_strategy = SL_MERGE_DELETE_INSERT;
  def->max_table_nesting = -1;
  def->selected = true;
}

sl_source *sl_source_new(const char *name) {
  sl_source *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->doc = sl_doc_new(name ? name : "source");
  if (!s->doc) {
    free(s);
    return NULL;
  }
  s->name = sl_arena_strdup(&s->doc->arena, name && *name ? name : "source");
  s->max_table_nesting = -1;
  return s;
}

void sl_source_free(sl_source *s) {
  if (!s) return;
  for (size_t i = 0; i < s->nres; i++)
    if (s->res[i]->free_ud) s->res[i]->free_ud(s->res[i]->ud);
  free(s->res);
  sl_doc_free(s->doc);
  free(s);
}

static char **copy_list(sl_arena *a, const char **list) {
  if (!list) return NULL;
  size_t n = 0;
  while (list[n]) n++;
  char **out = sl_arena_calloc(a, (n + 1) * sizeof *out);
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++) out[i] = sl_arena_strdup(a, list[i]);
  return out;
}

static bool valid_resource_name(const char *n) {
  if (!n || !*n || n[0] == '.') return false;
  for (const char *c = n; *c; c++)
    if (*c == '/' || *c == '\\' || (unsigned char)*c < 0x20) return false;
  return true;
}

sl_status sl_source_add_resource(sl_source *s, const sl_resource_def *def, sl_error *err) {
  if (!s || !def) return sl_error_set(err, SL_INVALID_ARG, "no source or resource definition");
  if (!valid_resource_name(def->name))
    return sl_error_set(err, SL_INVALID_ARG,
                        "resource name '%s' is not usable (empty, starts with '.', or has '/')",
                        def->name ? def->name : "");
  if (!def->fn) return sl_error_set(err, SL_INVALID_ARG, "resource '%s' has no function", def->name);
  if (sl_source_find(s, def->name))
    return sl_error_set(err, SL_INVALID_ARG, "resource '%s' is defined twice", def->name);
  if (s->nres == s->capres) {
    size_t cap = s->capres ? s->capres * 2 : 8;
    sl_resource **r = realloc(s->res, cap * sizeof *r);
    if (!r) return sl_error_set(err, SL_NOMEM, "out of memory");
    s->res = r;
    s->capres = cap;
  }
  sl_arena *a = &s->doc->arena;
  sl_resource *r = sl_arena_calloc(a, sizeof *r);
  if (!r) return sl_error_set(err, SL_NOMEM, "out of memory");
  r->name = sl_arena_strdup(a, def->name);
  r->parent = def->parent ? sl_arena_strdup(a, def->parent) : NULL;
  r->table_name = def->table_name ? sl_arena_strdup(a, def->table_name) : NULL;
  r->primary_key = copy_list(a, def->primary_key);
  r->merge_key = copy_list(a, def->merge_key);
  r->write_disposition = def->write_disposition;
  r->merge_strategy = def->merge_strategy;
  r->max_table_nesting = def->max_table_nesting;
  r->selected = def->selected;
  r->columns = def->columns ? sl_v_clone(s->doc, def->columns) : NULL;
  if (def->contract) r->has_contract = true, r->contract = *def->contract;
  r->table_format = def->table_format ? sl_arena_strdup(a, def->table_format) : NULL;
  r->dedup_sort_order = 1;
  /* hard_delete and dedup_sort are column hints that the normalizer takes by name. */
  for (size_t i = 0; r->columns && r->columns->type == SL_V_OBJECT && i < r->columns->u.obj.len; i++) {
    const sl_member *m = &r->columns->u.obj.items[i];
    if (sl_v_bool_or(sl_v_get(m->val, "hard_delete"), false)) r->hard_delete_column = (char *)m->key;
    const char *ds = sl_v_str(sl_v_get(m->val, "dedup_sort"), NULL);
    if (ds) {
      r->dedup_sort_column = (char *)m->key;
      r->dedup_sort_order = strcmp(ds, "desc") == 0 ? -1 : 1;
    }
  }
  r->fn = def->fn;
  r->ud = def->ud;
  r->free_ud = def->free_ud;
  s->res[s->nres++] = r;
  return SL_OK;
}

const char *sl_source_name(const sl_source *s) { return s ? s->name : NULL; }
int sl_source_max_table_nesting(const sl_source *s) { return s ? s->max_table_nesting : -1; }
const sl_contract *sl_source_contract(const sl_source *s) {
  return s && s->has_contract ? &s->contract : NULL;
}
size_t sl_source_resource_count(const sl_source *s) { return s ? s->nres : 0; }
const sl_resource *sl_source_resource_at(const sl_source *s, size_t i) {
  return s && i < s->nres ? s->res[i] : NULL;
}
const sl_resource *sl_source_find(const sl_source *s, const char *name) {
  for (size_t i = 0; s && name && i < s->nres; i++)
    if (strcmp(s->res[i]->name, name) == 0) return s->res[i];
  return NULL;
}
const char *sl_resource_name(const sl_resource *r) { return r->name; }
const char *sl_resource_parent(const sl_resource *r) { return r->parent; }
const char *sl_resource_table(const sl_resource *r) { return r->table_name ? r->table_name : r->name; }
bool sl_resource_selected(const sl_resource *r) { return r->selected; }
sl_write_disposition sl_resource_write_disposition(const sl_resource *r) {
  return r->write_disposition;
}

void sl__resource_hints(const sl_source *s, const sl_resource *r, sl_resource_hints *h) {
  memset(h, 0, sizeof *h);
  h->resource = r->name;
  h->table_name = r->table_name;
  h->primary_key = (const char **)r->primary_key;
  h->merge_key = (const char **)r->merge_key;
  h->write_disposition = r->write_disposition;
  h->merge_strategy = r->merge_strategy;
  h->max_table_nesting = r->max_table_nesting >= 0 ? r->max_table_nesting : s->max_table_nesting;
  h->hard_delete_column = r->hard_delete_column;
  h->dedup_sort_column = r->dedup_sort_column;
  h->dedup_sort_order = r->dedup_sort_order;
  h->contract = r->has_contract ? &r->contract : s->has_contract ? &s->contract : NULL;
  h->columns = r->columns;
  h->table_format = r->table_format;
}

/* ---- the declarative source (YAML) -------------------------------------------- */

static const char *const top_keys[] = {"name", "max_table_nesting", "schema_contract",
                                       "resource_defaults", "resources", NULL};
static const char *const resource_keys[] = {
    "name", "table_name", "primary_key", "merge_key", "write_disposition", "max_table_nesting",
    "selected", "columns", "schema_contract", "table_format", "file", "endpoint",
    "include_from_parent", NULL};
static const char *const column_hint_keys[] = {
    "name", "data_type", "nullable", "primary_key", "merge_key", "unique", "hard_delete",
    "dedup_sort", "precision", "scale", "timezone", "description", NULL};

typedef struct yctx {
  const char *file;
  const sl_source_env *env;
  sl_error *err;
} yctx;

/* Unknown key in obj: error with a suggestion taken from allowed (+ extra). */
static sl_status check_keys(yctx *c, const sl_value *obj, const char *const *allowed,
                            const char *const *extra, const char *what) {
  for (size_t i = 0; i < obj->u.obj.len; i++) {
    const char *k = obj->u.obj.items[i].key;
    bool ok = false;
    for (size_t j = 0; !ok && allowed[j]; j++) ok = strcmp(k, allowed[j]) == 0;
    for (size_t j = 0; !ok && extra && extra[j]; j++) ok = strcmp(k, extra[j]) == 0;
    if (ok) continue;
    const char *sug = sl__did_you_mean(k, allowed);
    if (!sug && extra) sug = sl__did_you_mean(k, extra);
    const sl_value *at = obj->u.obj.items[i].val;
    if (sug)
      return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, at,
                        "unknown key '%s' in %s (did you mean '%s'?)", k, what, sug);
    return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, at, "unknown key '%s' in %s", k, what);
  }
  return SL_OK;
}

static sl_status want(yctx *c, const sl_value *v, sl_vtype t, const char *key) {
  if (v->type == t) return SL_OK;
  return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, v, "'%s' must be %s %s, not %s", key,
                    t == SL_V_INT ? "an" : "a",
                    t == SL_V_OBJECT ? "mapping" : t == SL_V_ARRAY ? "list" : sl_vtype_name(t),
                    v->type == SL_V_OBJECT  ? "a mapping"
                    : v->type == SL_V_ARRAY ? "a list"
                                            : sl_vtype_name(v->type));
}

static sl_status parse_nesting(yctx *c, const sl_value *v, int *out) {
  if (want(c, v, SL_V_INT, "max_table_nesting")) return c->err->code;
  if (v->u.i < 0 || v->u.i > 1000)
    return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, v,
                      "max_table_nesting must be between 0 and 1000");
  *out = (int)v->u.i;
  return SL_OK;
}

static sl_status parse_mode(yctx *c, const sl_value *v, sl_contract_mode *m) {
  if (want(c, v, SL_V_STRING, "schema_contract")) return c->err->code;
  int x = sl_contract_mode_parse(v->u.s.ptr);
  if (x < 0)
    return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, v,
                      "unknown schema contract mode '%s' (evolve, freeze, discard_row, "
                      "discard_value)",
                      v->u.s.ptr);
  *m = (sl_contract_mode)x;
  return SL_OK;
}

static sl_status parse_contract(yctx *c, const sl_value *v, sl_contract *out) {
  memset(out, 0, sizeof *out);
  if (v->type == SL_V_STRING) {
    sl_contract_mode m;
    if (parse_mode(c, v, &m)) return c->err->code;
    out->tables = out->columns = out->data_type = m;
    return SL_OK;
  }
  if (v->type != SL_V_OBJECT)
    return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, v,
                      "schema_contract must be a mode or a mapping of tables/columns/data_type");
  static const char *const keys[] = {"tables", "columns", "data_type", NULL};
  if (check_keys(c, v, keys, NULL, "schema_contract")) return c->err->code;
  const sl_value *t;
  if ((t = sl_v_get(v, "tables")) && parse_mode(c, t, &out->tables)) return c->err->code;
  if ((t = sl_v_get(v, "columns")) && parse_mode(c, t, &out->columns)) return c->err->code;
  if ((t = sl_v_get(v, "data_type")) && parse_mode(c, t, &out->data_type)) return c->err->code;
  return SL_OK;
}

static sl_status parse_key_list(yctx *c, sl_source *s, const sl_value *v, const char *key,
                                const char ***out) {
  sl_arena *a = &s->doc->arena;
  if (v->type == SL_V_STRING) {
    const char **l = sl_arena_calloc(a, 2 * sizeof *l);
    if (!l) return sl_error_set(c->err, SL_NOMEM, "out of memory");
    l[0] = v->u.s.ptr;
    *out = l;
    return SL_OK;
  }
  if (v->type != SL_V_ARRAY)
    return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, v,
                      "'%s' must be a column name or a list of column names", key);
  const char **l = sl_arena_calloc(a, (v->u.arr.len + 1) * sizeof *l);
  if (!l) return sl_error_set(c->err, SL_NOMEM, "out of memory");
  for (size_t i = 0; i < v->u.arr.len; i++) {
    const sl_value *it = v->u.arr.items[i];
    if (it->type != SL_V_STRING)
      return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, it,
                        "'%s' entries must be column names (strings)", key);
    l[i] = it->u.s.ptr;
  }
  *out = l;
  return SL_OK;
}

static sl_status parse_disposition(yctx *c, const sl_value *v, sl_resource_def *def) {
  const sl_value *d = v, *strategy = NULL;
  if (v->type == SL_V_OBJECT) {
    static const char *const keys[] = {"disposition", "strategy", NULL};
    if (check_keys(c, v, keys, NULL, "write_disposition")) return c->err->code;
    d = sl_v_get(v, "disposition");
    strategy = sl_v_get(v, "strategy");
    if (!d)
      return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, v,
                        "write_disposition needs 'disposition'");
  }
  if (d->type != SL_V_STRING)
    return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, d,
                      "write_disposition must be append, replace, merge or "
                      "{disposition: merge, strategy: …}");
  int wd = sl_wd_parse(d->u.s.ptr);
  if (wd < 0) {
    static const char *const wds[] = {"append", "replace", "merge", NULL};
    const char *sug = sl__did_you_mean(d->u.s.ptr, wds);
    return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, d,
                      "unknown write_disposition '%s'%s%s%s (append, replace, merge)", d->u.s.ptr,
                      sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
  }
  def->write_disposition = (sl_write_disposition)wd;
  if (strategy) {
    if (strategy->type != SL_V_STRING)
      return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, strategy,
                        "strategy must be delete-insert or upsert");
    if (wd != SL_WD_MERGE)
      return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, strategy,
                        "a strategy applies only to the merge disposition");
    if (strcmp(strategy->u.s.ptr, "delete-insert") == 0)
      def->merge_strategy = SL_MERGE_DELETE_INSERT;
    else if (strcmp(strategy->u.s.ptr, "upsert") == 0)
      def->merge_strategy = SL_MERGE_UPSERT;
    else
      return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, strategy,
                        "unknown merge strategy '%s' (delete-insert, upsert)", strategy->u.s.ptr);
  }
  return SL_OK;
}

static sl_status check_columns(yctx *c, const sl_value *v) {
  if (want(c, v, SL_V_OBJECT, "columns")) return c->err->code;
  for (size_t i = 0; i < v->u.obj.len; i++) {
    const sl_value *h = v->u.obj.items[i].val;
    if (h->type != SL_V_OBJECT)
      return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, h,
                        "column '%s' must be a mapping of hints (data_type, nullable, …)",
                        v->u.obj.items[i].key);
    if (check_keys(c, h, column_hint_keys, NULL, "column hints")) return c->err->code;
    const sl_value *dt = sl_v_get(h, "data_type");
    if (dt && (dt->type != SL_V_STRING || sl_dtype_parse(dt->u.s.ptr) < 0))
      return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, dt,
                        "unknown data_type for column '%s' (text, double, bool, timestamp, "
                        "bigint, binary, json, decimal, wei, date, time)",
                        v->u.obj.items[i].key);
    static const char *const bools[] = {"nullable", "primary_key", "merge_key", "unique",
                                        "hard_delete", NULL};
    for (size_t j = 0; bools[j]; j++) {
      const sl_value *b = sl_v_get(h, bools[j]);
      if (b && want(c, b, SL_V_BOOL, bools[j])) return c->err->code;
    }
    const sl_value *ds = sl_v_get(h, "dedup_sort");
    if (ds && (ds->type != SL_V_STRING ||
               (strcmp(ds->u.s.ptr, "asc") != 0 && strcmp(ds->u.s.ptr, "desc") != 0)))
      return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, ds, "dedup_sort must be asc or desc");
  }
  return SL_OK;
}

/* Deep merge: a copy of base with over's members laid on top (mappings merge). */
static sl_value *merge_over(sl_doc *doc, const sl_value *base, const sl_value *over) {
  if (!base || base->type != SL_V_OBJECT || !over || over->type != SL_V_OBJECT)
    return sl_v_clone(doc, over);
  sl_value *out = sl_v_clone(doc, base);
  if (!out) return NULL;
  for (size_t i = 0; i < over->u.obj.len; i++) {
    const sl_member *m = &over->u.obj.items[i];
    sl_value *merged = merge_over(doc, sl_v_get(base, m->key), m->val);
    if (!merged || sl_v_put(doc, out, m->key, merged) != SL_OK) return NULL;
  }
  return out;
}

static const char *const *kind_keys(void) {
  static const char *keys[16];
  if (!keys[0])
    for (size_t i = 0; i < sl__resource_kind_count && i < 15; i++) keys[i] = sl__resource_kinds[i].key;
  return keys;
}

static sl_status build_resource(yctx *c, sl_source *s, const sl_value *top, const sl_value *r) {
  if (check_keys(c, r, resource_keys, NULL, "a resource")) return c->err->code;
  sl_resource_def def;
  sl_resource_def_init(&def);
  const sl_value *v;
  if (!(v = sl_v_get(r, "name")))
    return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, r, "a resource needs a 'name'");
  if (want(c, v, SL_V_STRING, "name")) return c->err->code;
  def.name = v->u.s.ptr;
  if (!valid_resource_name(def.name))
    return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, v,
                      "resource name '%s' is not usable (empty, starts with '.', or has '/')",
                      def.name);
  if (sl_source_find(s, def.name))
    return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, v, "resource '%s' is defined twice",
                      def.name);
  if ((v = sl_v_get(r, "table_name"))) {
    if (want(c, v, SL_V_STRING, "table_name")) return c->err->code;
    def.table_name = v->u.s.ptr;
  }
  if ((v = sl_v_get(r, "primary_key")) && parse_key_list(c, s, v, "primary_key", &def.primary_key))
    return c->err->code;
  if ((v = sl_v_get(r, "merge_key")) && parse_key_list(c, s, v, "merge_key", &def.merge_key))
    return c->err->code;
  if ((v = sl_v_get(r, "write_disposition")) && parse_disposition(c, v, &def)) return c->err->code;
  if ((v = sl_v_get(r, "max_table_nesting")) && parse_nesting(c, v, &def.max_table_nesting))
    return c->err->code;
  if ((v = sl_v_get(r, "selected"))) {
    if (want(c, v, SL_V_BOOL, "selected")) return c->err->code;
    def.selected = v->u.b;
  }
  if ((v = sl_v_get(r, "columns"))) {
    if (check_columns(c, v)) return c->err->code;
    def.columns = v;
  }
  sl_contract contract;
  if ((v = sl_v_get(r, "schema_contract"))) {
    if (parse_contract(c, v, &contract)) return c->err->code;
    def.contract = &contract;
  }
  if ((v = sl_v_get(r, "table_format"))) {
    /* dlt's table_format; Athena makes the table Iceberg or Hive (its default). */
    if (want(c, v, SL_V_STRING, "table_format")) return c->err->code;
    if (strcmp(v->u.s.ptr, "iceberg") && strcmp(v->u.s.ptr, "hive"))
      return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, v,
                        "resource '%s': table_format must be iceberg or hive, not '%s'", def.name,
                        v->u.s.ptr);
    def.table_format = v->u.s.ptr;
  }
  if (def.write_disposition == SL_WD_MERGE && def.merge_strategy == SL_MERGE_UPSERT &&
      !def.primary_key)
    return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, r,
                      "resource '%s': the upsert strategy needs a primary_key", def.name);
  const sl__resource_kind *kind = NULL;
  const sl_value *spec = NULL;
  for (size_t i = 0; i < sl__resource_kind_count; i++) {
    const sl_value *k = sl_v_get(r, sl__resource_kinds[i].key);
    if (!k) continue;
    if (kind)
      return sl__err_at(c->err, SL_CONFIG_INVALID, c->file, k,
                        "resource '%s' has both '%s' and '%s'", def.name, kind->key,
                        sl__resource_kinds[i].key);
    kind = &sl__resource_kinds[i];
    spec = k;
  }
  if (!kind && sl_v_get(top, "client")) {
    /* dlt: a resource of a REST source without an endpoint requests its name. */
    for (size_t i = 0; i < sl__resource_kind_count; i++)
      if (sl__resource_kinds[i].source_key && !strcmp(sl__resource_kinds[i].key, "endpoint"))
        kind = &sl__resource_kinds[i];
  }
  if (!kind) {
    sl_buf kinds = {0};
    for (size_t i = 0; i < sl__resource_kind_count; i++)
      sl_buf_printf(&kinds, "%s'%s:'", i ? ", " : "", sl__resource_kinds[i].key);
    sl__err_at(c->err, SL_CONFIG_INVALID, c->file, r, "resource '%s' says where its data is with %s",
               def.name, kinds.data ? kinds.data : "");
    sl_buf_free(&kinds);
    return c->err->code;
  }
  const sl_value *kind_top = kind->source_key ? sl_v_get(top, kind->source_key) : NULL;
  /* A kind that owns a top-level key (REST) reads the whole resource mapping. */
  if (kind->build(s, &def, kind->source_key ? r : spec, kind_top, c->env, c->file, c->err))
    return c->err->code;
  sl_error sub;
  sl_error_clear(&sub);
  if (sl_source_add_resource(s, &def, &sub) != SL_OK) {
    if (def.free_ud) def.free_ud(def.ud);
    return sl__err_at(c->err, sub.code, c->file, r, "%s", sub.msg);
  }
  s->res[s->nres - 1]->limit_pages = kind->limit_pages;
  s->res[s->nres - 1]->yaml = r;
  s->res[s->nres - 1]->kind = kind;
  return SL_OK;
}

sl_status sl_source_add_yaml(sl_source *s, const char *text, size_t len, const char *name,
                             const sl_source_env *env, sl_error *err) {
  sl_error local;
  if (!err) err = &local;
  sl_error_clear(err);
  const char *file = name ? name : "<string>";
  sl_doc *y = sl_yaml_parse(text, len, file, NULL, err);
  if (!y) return err->code ? err->code : SL_YAML_SYNTAX;
  yctx c = {.file = file, .env = env, .err = err};
  sl_status st = SL_OK;
  const sl_value *root = y->root;
  /* Keep the tree: resources point into it (column hints, key lists). */
  sl_value *top = root ? sl_v_clone(s->doc, root) : NULL;
  sl_doc_free(y);
  if (!top || top->type != SL_V_OBJECT) {
    st = sl__err_at(err, SL_CONFIG_INVALID, file, top,
                    "a source is a mapping with 'name' and 'resources'");
    goto out;
  }
  /* Top-level keys claimed by resource kinds (e.g. the REST kind's client). */
  const char *extra[16] = {0};
  size_t nextra = 0;
  for (size_t i = 0; i < sl__resource_kind_count && nextra < 15; i++)
    if (sl__resource_kinds[i].source_key) extra[nextra++] = sl__resource_kinds[i].source_key;
  if ((st = check_keys(&c, top, top_keys, extra, "the source"))) goto out;
  const sl_value *v;
  if ((v = sl_v_get(top, "name"))) {
    if ((st = want(&c, v, SL_V_STRING, "name"))) goto out;
    if (s->nres == 0) s->name = (char *)v->u.s.ptr;
  }
  if ((v = sl_v_get(top, "max_table_nesting")) &&
      (st = parse_nesting(&c, v, &s->max_table_nesting)))
    goto out;
  if ((v = sl_v_get(top, "schema_contract"))) {
    if ((st = parse_contract(&c, v, &s->contract))) goto out;
    s->has_contract = true;
  }
  const sl_value *defaults = sl_v_get(top, "resource_defaults");
  if (defaults) {
    if ((st = want(&c, defaults, SL_V_OBJECT, "resource_defaults"))) goto out;
    if ((st = check_keys(&c, defaults, resource_keys, NULL, "resource_defaults"))) goto out;
    if (sl_v_get(defaults, "name")) {
      st = sl__err_at(err, SL_CONFIG_INVALID, file, sl_v_get(defaults, "name"),
                      "resource_defaults cannot set a 'name'");
      goto out;
    }
  }
  const sl_value *resources = sl_v_get(top, "resources");
  if (!resources) {
    st = sl__err_at(err, SL_CONFIG_INVALID, file, top, "the source has no 'resources'");
    goto out;
  }
  if ((st = want(&c, resources, SL_V_ARRAY, "resources"))) goto out;
  for (size_t i = 0; i < resources->u.arr.len; i++) {
    const sl_value *r = resources->u.arr.items[i];
    if (r->type == SL_V_STRING && sl_v_get(top, "client")) {
      /* dlt: "x" is {name: x, endpoint: {path: x}} */
      sl_value *o = sl_v_object(s->doc), *ep = sl_v_object(s->doc);
      sl_value *nm = sl_v_string(s->doc, r->u.s.ptr, r->u.s.len);
      sl_value *pa = sl_v_string(s->doc, r->u.s.ptr, r->u.s.len);
      if (!o || !ep || !nm || !pa || sl_v_put(s->doc, o, "name", nm) ||
          sl_v_put(s->doc, ep, "path", pa) || sl_v_put(s->doc, o, "endpoint", ep)) {
        st = sl_error_set(err, SL_NOMEM, "out of memory");
        goto out;
      }
      o->line = nm->line = pa->line = ep->line = r->line;
      o->col = nm->col = pa->col = ep->col = r->col;
      r = o;
    }
    if (r->type != SL_V_OBJECT) {
      st = sl__err_at(err, SL_CONFIG_INVALID, file, r,
                      "each resource is a mapping with a 'name' and one of %s", kind_keys()[0]);
      goto out;
    }
    const sl_value *merged = defaults ? merge_over(s->doc, defaults, r) : r;
    if (!merged) {
      st = sl_error_set(err, SL_NOMEM, "out of memory");
      goto out;
    }
    if ((st = build_resource(&c, s, top, merged))) goto out;
  }
  /* A child's parent must exist. */
  for (size_t i = 0; i < s->nres; i++)
    if (s->res[i]->parent && !sl_source_find(s, s->res[i]->parent)) {
      const char **names = calloc(s->nres + 1, sizeof *names);
      for (size_t j = 0; names && j < s->nres; j++) names[j] = s->res[j]->name;
      const char *sug = names ? sl__did_you_mean(s->res[i]->parent, names) : NULL;
      st = sl__err_at(err, SL_CONFIG_INVALID, file, s->res[i]->yaml,
                      "resource '%s' resolves from an unknown resource '%s'%s%s%s",
                      s->res[i]->name, s->res[i]->parent, sug ? " (did you mean '" : "",
                      sug ? sug : "", sug ? "'?)" : "");
      free(names);
      goto out;
    }
out:
  return st;
}

sl_source *sl_source_from_yaml(const char *text, size_t len, const char *name,
                               const sl_source_env *env, sl_error *err) {
  sl_source *s = sl_source_new(NULL);
  if (!s) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  if (sl_source_add_yaml(s, text, len, name, env, err) != SL_OK) {
    sl_source_free(s);
    return NULL;
  }
  return s;
}

sl_source *sl_source_load_file(const char *path, const sl_source_env *env, sl_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    sl_error_set(err, SL_NOT_FOUND, "cannot open the source file: %s", strerror(errno));
    sl_error_at(err, path, 0, 0, -1);
    return NULL;
  }
  sl_buf b = {0};
  char chunk[65536];
  size_t n;
  sl_status st = SL_OK;
  while (st == SL_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) st = sl_buf_append(&b, chunk, n);
  fclose(f);
  if (st != SL_OK) {
    sl_buf_free(&b);
    sl_error_set(err, st, "cannot read the source file");
    sl_error_at(err, path, 0, 0, -1);
    return NULL;
  }
  sl_source *s = sl_source_from_yaml(b.data ? b.data : "", b.len, path, env, err);
  sl_buf_free(&b);
  return s;
}
