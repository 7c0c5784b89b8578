/* schema_io.c — a schema to and from dlt's stored layout (the sl_value tree
 * that becomes YAML or JSON), and atomic load/save of schema files. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/schema_int.h"
#include "sluice/json.h"
#include "sluice/yaml.h"

/* ---- to value ---------------------------------------------------------------- */

#define PUT(obj, key, val)                                   \
  do {                                                       \
    sl_value *v_ = (val);                                    \
    if (!v_ || sl_v_set(d, (obj), (key), strlen(key), v_)) return NULL; \
  } while (0)

static sl_value *str_v(sl_doc *d, const char *s) { return sl_v_string(d, s, strlen(s)); }

static sl_value *contract_value(sl_doc *d, const sl_contract *c) {
  sl_value *o = sl_v_object(d);
  if (!o) return NULL;
  PUT(o, "tables", str_v(d, sl_contract_mode_name(c->tables)));
  PUT(o, "columns", str_v(d, sl_contract_mode_name(c->columns)));
  PUT(o, "data_type", str_v(d, sl_contract_mode_name(c->data_type)));
  return o;
}

static sl_value *column_value(sl_doc *d, const sl_column *c) {
  sl_value *o = sl_v_object(d);
  if (!o) return NULL;
  PUT(o, "name", str_v(d, c->name));
  if (!c->incomplete) PUT(o, "data_type", str_v(d, sl_dtype_name(c->type)));
  PUT(o, "nullable", sl_v_bool(d, c->nullable));
  if (c->precision) PUT(o, "precision", sl_v_int(d, c->precision));
  if (c->scale) PUT(o, "scale", sl_v_int(d, c->scale));
  if (c->primary_key) PUT(o, "primary_key", sl_v_bool(d, true));
  if (c->merge_key) PUT(o, "merge_key", sl_v_bool(d, true));
  if (c->unique) PUT(o, "unique", sl_v_bool(d, true));
  if (c->hard_delete) PUT(o, "hard_delete", sl_v_bool(d, true));
  if (c->dedup_sort) PUT(o, "dedup_sort", str_v(d, c->dedup_sort > 0 ? "asc" : "desc"));
  if (c->variant) PUT(o, "variant", sl_v_bool(d, true));
  /* dlt derives these from its default hints; written so the file reads the same */
  if (!strcmp(c->name, "_dlt_id")) PUT(o, "row_key", sl_v_bool(d, true));
  if (!strcmp(c->name, "_dlt_parent_id")) PUT(o, "parent_key", sl_v_bool(d, true));
  if (!strcmp(c->name, "_dlt_root_id")) PUT(o, "root_key", sl_v_bool(d, true));
  if (c->seen_null_first) {
    sl_value *x = sl_v_object(d);
    if (!x) return NULL;
    PUT(x, "seen-null-first", sl_v_bool(d, true));
    PUT(o, "x-normalizer", x);
  }
  return o;
}

static sl_value *table_value(const sl_schema *s, sl_doc *d, const sl_table *t) {
  sl_value *o = sl_v_object(d);
  if (!o) return NULL;
  PUT(o, "name", str_v(d, t->name));
  sl_value *cols = sl_v_object(d);
  if (!cols) return NULL;
  for (size_t i = 0; i < t->ncolumns; i++)
    PUT(cols, t->columns[i].name, column_value(d, &t->columns[i]));
  PUT(o, "columns", cols);
  bool sys = sl_table_is_system(t);
  if (!t->parent) {
    const char *wd = sl_wd_name(t->write_disposition);
    if (sys && strcmp(t->name, SL__STATE_TABLE) != 0) wd = "skip";
    PUT(o, "write_disposition", str_v(d, wd));
    if (t->write_disposition == SL_WD_MERGE && t->merge_strategy == SL_MERGE_UPSERT)
      PUT(o, "x-merge-strategy", str_v(d, "upsert"));
  } else {
    PUT(o, "parent", str_v(d, t->parent));
  }
  if (t->resource) PUT(o, "resource", str_v(d, t->resource));
  if (sys && !strcmp(t->name, SL__VERSION_TABLE))
    PUT(o, "description", str_v(d, "Created by DLT. Tracks schema updates"));
  if (sys && !strcmp(t->name, SL__LOADS_TABLE))
    PUT(o, "description", str_v(d, "Created by DLT. Tracks completed loads"));
  if (t->has_contract) PUT(o, "schema_contract", contract_value(d, &t->contract));
  if (t->table_format) PUT(o, "table_format", str_v(d, t->table_format));
  if (t->seen_data || t->max_table_nesting >= 0) {
    sl_value *x = sl_v_object(d);
    if (!x) return NULL;
    if (t->seen_data) PUT(x, "seen-data", sl_v_bool(d, true));
    if (t->max_table_nesting >= 0) PUT(x, "max_nesting", sl_v_int(d, t->max_table_nesting));
    PUT(o, "x-normalizer", x);
  }
  (void)s;
  return o;
}

static sl_value *str_list_v(sl_doc *d, const char *const *items) {
  sl_value *a = sl_v_array(d);
  for (size_t i = 0; a && items[i]; i++)
    if (sl_v_push(d, a, str_v(d, items[i]))) return NULL;
  return a;
}

sl_value *sl__schema_content_value(const sl_schema *s, sl_doc *d, bool with_version) {
  sl_value *root = sl_v_object(d);
  if (!root) return NULL;
  if (with_version) {
    PUT(root, "version", sl_v_int(d, s->version));
    PUT(root, "version_hash", str_v(d, s->version_hash));
  }
  PUT(root, "engine_version", sl_v_int(d, SL__ENGINE_VERSION));
  PUT(root, "name", str_v(d, s->name));
  sl_value *tables = sl_v_object(d);
  if (!tables) return NULL;
  for (size_t i = 0; i < s->ntables; i++) PUT(tables, s->tables[i]->name, table_value(s, d, s->tables[i]));
  PUT(root, "tables", tables);

  sl_value *settings = sl_v_object(d);
  if (!settings) return NULL;
  const char *det[5];
  size_t nd = 0;
  if (s->detect_iso_timestamp) det[nd++] = "iso_timestamp";
  if (s->detect_iso_date) det[nd++] = "iso_date";
  if (s->detect_timestamp) det[nd++] = "timestamp";
  if (s->detect_large_integer) det[nd++] = "large_integer";
  det[nd] = NULL;
  PUT(settings, "detections", str_list_v(d, det));
  sl_value *hints = sl_v_object(d);
  if (!hints) return NULL;
  static const char *const not_null[] = {"_dlt_id", "_dlt_root_id", "_dlt_parent_id",
                                         "_dlt_list_idx", "_dlt_load_id", NULL};
  static const char *const parent_key[] = {"_dlt_parent_id", NULL};
  static const char *const root_key[] = {"_dlt_root_id", NULL};
  static const char *const row_key[] = {"_dlt_id", NULL};
  PUT(hints, "not_null", str_list_v(d, not_null));
  PUT(hints, "parent_key", str_list_v(d, parent_key));
  PUT(hints, "root_key", str_list_v(d, root_key));
  PUT(hints, "unique", str_list_v(d, row_key));
  PUT(hints, "row_key", str_list_v(d, row_key));
  PUT(settings, "default_hints", hints);
  const sl_contract *c = &s->contract;
  if (c->tables || c->columns || c->data_type) PUT(settings, "schema_contract", contract_value(d, c));
  PUT(root, "settings", settings);

  sl_value *norm = sl_v_object(d), *json = sl_v_object(d);
  if (!norm || !json) return NULL;
  PUT(norm, "names", str_v(d, "snake_case"));
  PUT(json, "module", str_v(d, "dlt.common.normalizers.json.relational"));
  sl_value *config = NULL;
  if (s->max_table_nesting != 1000) {
    config = sl_v_object(d);
    if (!config) return NULL;
    PUT(config, "max_nesting", sl_v_int(d, s->max_table_nesting));
  }
  sl_value *prop_tables = NULL;
  for (size_t i = 0; i < s->ntables; i++) {
    const sl_table *t = s->tables[i];
    if (t->parent || t->write_disposition != SL_WD_MERGE || sl_table_is_system(t)) continue;
    if (!prop_tables && !(prop_tables = sl_v_object(d))) return NULL;
    sl_value *m = sl_v_object(d);
    if (!m) return NULL;
    PUT(m, "_dlt_id", str_v(d, "_dlt_root_id"));
    PUT(prop_tables, t->name, m);
  }
  if (prop_tables) {
    if (!config && !(config = sl_v_object(d))) return NULL;
    sl_value *prop = sl_v_object(d);
    if (!prop) return NULL;
    PUT(prop, "tables", prop_tables);
    PUT(config, "propagation", prop);
  }
  if (config) PUT(json, "config", config);
  PUT(norm, "json", json);
  PUT(root, "normalizers", norm);

  if (with_version) {
    sl_value *prev = sl_v_array(d);
    if (!prev) return NULL;
    for (int i = 0; i < 10 && s->previous_hashes[i]; i++)
      if (sl_v_push(d, prev, str_v(d, s->previous_hashes[i]))) return NULL;
    PUT(root, "previous_hashes", prev);
  }
  return root;
}

sl_value *sl_schema_to_value(const sl_schema *s, sl_doc *doc) {
  if (!s || !doc) return NULL;
  return sl__schema_content_value(s, doc, true);
}

sl_status sl_schema_to_yaml(const sl_schema *s, sl_buf *out) {
  sl_doc *d = sl_doc_new("schema");
  if (!d) return SL_NOMEM;
  sl_value *v = sl_schema_to_value(s, d);
  sl_status st = v ? sl_yaml_emit(v, out) : SL_NOMEM;
  sl_doc_free(d);
  return st;
}

sl_status sl_schema_to_json(const sl_schema *s, sl_buf *out) {
  sl_doc *d = sl_doc_new("schema");
  if (!d) return SL_NOMEM;
  sl_value *v = sl_schema_to_value(s, d);
  sl_status st = v ? sl_v_to_json(v, out, 2) : SL_NOMEM;
  if (!st) st = sl_buf_putc(out, '\n');
  sl_doc_free(d);
  return st;
}

/* ---- from value ------------------------------------------------------------------ */

static sl_status bad(sl_error *err, const sl_value *at, const char *fmt, const char *a, const char *b) {
  sl_error_set(err, SL_SCHEMA, fmt, a, b);
  if (at && at->line && err) {
    err->line = (int)at->line;
    err->col = (int)at->col;
  }
  return SL_SCHEMA;
}

static bool get_bool(const sl_value *o, const char *k, bool dflt) { return sl_v_bool_or(sl_v_get(o, k), dflt); }

static sl_status parse_contract(const sl_value *v, sl_contract *c, sl_error *err) {
  memset(c, 0, sizeof *c);
  if (v->type == SL_V_STRING) {
    int m = sl_contract_mode_parse(v->u.s.ptr);
    if (m < 0) return bad(err, v, "unknown schema contract mode '%s'%s", v->u.s.ptr, "");
    c->tables = c->columns = c->data_type = (sl_contract_mode)m;
    return SL_OK;
  }
  if (v->type != SL_V_OBJECT) return bad(err, v, "schema_contract must be a mode or a mapping%s%s", "", "");
  const char *keys[3] = {"tables", "columns", "data_type"};
  sl_contract_mode *dst[3] = {&c->tables, &c->columns, &c->data_type};
  for (int i = 0; i < 3; i++) {
    const sl_value *m = sl_v_get(v, keys[i]);
    if (!m) continue;
    int x = sl_contract_mode_parse(sl_v_str(m, NULL));
    if (x < 0) return bad(err, m, "unknown schema contract mode for '%s'%s", keys[i], "");
    *dst[i] = (sl_contract_mode)x;
  }
  return SL_OK;
}

static sl_status parse_column(sl_schema *s, sl_table *t, const sl_member *m, sl_error *err) {
  const sl_value *cv = m->val;
  if (!cv || cv->type != SL_V_OBJECT)
    return bad(err, cv, "column '%s' of table '%s' must be a mapping", m->key, t->name);
  const char *name = sl_v_str(sl_v_get(cv, "name"), m->key);
  const sl_value *dtv = sl_v_get(cv, "data_type");
  int dt = -1;
  if (dtv) {
    dt = sl_dtype_parse(sl_v_str(dtv, NULL));
    if (dt < 0)
      return bad(err, dtv, "unknown data_type in column '%s' of table '%s'", name, t->name);
  }
  int i = dt >= 0 ? sl_table_add_column(s, t, name, (sl_dtype)dt, err)
                  : sl_table_add_incomplete_column(s, t, name, err);
  if (i < 0) return err && err->code ? err->code : SL_SCHEMA;
  sl_column *c = &t->columns[i];
  c->nullable = get_bool(cv, "nullable", true);
  c->primary_key = get_bool(cv, "primary_key", false);
  c->merge_key = get_bool(cv, "merge_key", false);
  c->unique = get_bool(cv, "unique", false);
  c->hard_delete = get_bool(cv, "hard_delete", false);
  c->variant = get_bool(cv, "variant", false);
  c->precision = (int)sl_v_int_or(sl_v_get(cv, "precision"), 0);
  c->scale = (int)sl_v_int_or(sl_v_get(cv, "scale"), 0);
  const sl_value *ds = sl_v_get(cv, "dedup_sort");
  if (ds) c->dedup_sort = !strcmp(sl_v_str(ds, ""), "desc") ? -1 : 1;
  c->seen_null_first = c->incomplete && get_bool(sl_v_get(cv, "x-normalizer"), "seen-null-first", false);
  return SL_OK;
}

static sl_status parse_table(sl_schema *s, const sl_member *m, sl_error *err) {
  const sl_value *tv = m->val;
  const char *name = sl_v_str(sl_v_get(tv, "name"), m->key);
  const char *parent = sl_v_str(sl_v_get(tv, "parent"), NULL);
  sl_table *t = sl_schema_find_table(s, name);
  bool existed = t != NULL;
  if (!t) t = sl_schema_add_table(s, name, parent, err);
  if (!t) return err && err->code ? err->code : SL_SCHEMA;
  const sl_value *wd = sl_v_get(tv, "write_disposition");
  if (wd) {
    int x = sl_wd_parse(sl_v_str(wd, NULL));
    if (x < 0) return bad(err, wd, "unknown write_disposition in table '%s'%s", name, "");
    t->write_disposition = (sl_write_disposition)x;
  }
  const char *ms = sl_v_str(sl_v_get(tv, "x-merge-strategy"), NULL);
  if (ms) t->merge_strategy = !strcmp(ms, "upsert") ? SL_MERGE_UPSERT : SL_MERGE_DELETE_INSERT;
  const char *res = sl_v_str(sl_v_get(tv, "resource"), NULL);
  if (res && !t->resource && !(t->resource = strdup(res))) return sl_error_set(err, SL_NOMEM, "out of memory");
  const char *tf = sl_v_str(sl_v_get(tv, "table_format"), NULL);
  if (tf && !t->table_format && !(t->table_format = strdup(tf))) return sl_error_set(err, SL_NOMEM, "out of memory");
  const sl_value *sc = sl_v_get(tv, "schema_contract");
  if (sc) {
    sl_status st = parse_contract(sc, &t->contract, err);
    if (st) return st;
    t->has_contract = true;
  }
  const sl_value *xn = sl_v_get(tv, "x-normalizer");
  if (xn) {
    t->seen_data = get_bool(xn, "seen-data", false);
    const sl_value *mn = sl_v_get(xn, "max_nesting");
    if (mn) t->max_table_nesting = (int)sl_v_int_or(mn, -1);
  }
  const sl_value *cols = sl_v_get(tv, "columns");
  if (cols && cols->type != SL_V_OBJECT) return bad(err, cols, "columns of table '%s' must be a mapping%s", name, "");
  for (size_t i = 0; cols && i < cols->u.obj.len; i++) {
    const sl_member *cm = &cols->u.obj.items[i];
    /* system tables were made with dlt's columns; keep a file's extra ones */
    if (existed && sl_table_find_column(t, sl_v_str(sl_v_get(cm->val, "name"), cm->key),
                                        strlen(sl_v_str(sl_v_get(cm->val, "name"), cm->key))) >= 0)
      continue;
    sl_status st = parse_column(s, t, cm, err);
    if (st) return st;
  }
  return SL_OK;
}

sl_schema *sl_schema_from_value(const sl_value *v, sl_error *err) {
  if (!v || v->type != SL_V_OBJECT) {
    bad(err, v, "a schema must be a mapping%s%s", "", "");
    return NULL;
  }
  const char *name = sl_v_str(sl_v_get(v, "name"), NULL);
  if (!name || !*name) {
    bad(err, v, "the schema has no name%s%s", "", "");
    return NULL;
  }
  sl_schema *s = sl__schema_alloc(name);
  if (!s) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  sl_status st = SL_OK;
  static const char *const sys[] = {SL__VERSION_TABLE, SL__LOADS_TABLE, SL__STATE_TABLE};
  for (int i = 0; !st && i < 3; i++) st = sl__schema_add_system_table(s, sys[i], err);

  const sl_value *settings = sl_v_get(v, "settings");
  const sl_value *det = sl_v_get(settings, "detections");
  if (!st && det) {
    s->detect_iso_timestamp = false;
    for (size_t i = 0; i < sl_v_len(det); i++) {
      const char *x = sl_v_str(sl_v_at(det, i), "");
      if (!strcmp(x, "iso_timestamp")) s->detect_iso_timestamp = true;
      else if (!strcmp(x, "iso_date")) s->detect_iso_date = true;
      else if (!strcmp(x, "timestamp")) s->detect_timestamp = true;
      else if (!strcmp(x, "large_integer")) s->detect_large_integer = true;
    }
  }
  const sl_value *sc = sl_v_get(settings, "schema_contract");
  if (!st && sc) st = parse_contract(sc, &s->contract, err);
  const sl_value *mn = sl_v_path(v, "normalizers.json.config.max_nesting");
  if (mn) s->max_table_nesting = (int)sl_v_int_or(mn, 1000);

  const sl_value *tables = sl_v_get(v, "tables");
  if (!st && tables && tables->type != SL_V_OBJECT) st = bad(err, tables, "tables must be a mapping%s%s", "", "");
  /* a child may be listed before its parent: retry until no progress */
  size_t n = tables ? tables->u.obj.len : 0;
  bool *done = calloc(n ? n : 1, sizeof *done);
  if (!done && !st) st = sl_error_set(err, SL_NOMEM, "out of memory");
  for (size_t left = n, progress = 1; !st && left && progress;) {
    progress = 0;
    for (size_t i = 0; !st && i < n; i++) {
      if (done[i]) continue;
      const sl_member *m = &tables->u.obj.items[i];
      if (!m->val || m->val->type != SL_V_OBJECT) {
        st = bad(err, m->val, "table '%s' must be a mapping%s", m->key, "");
        break;
      }
      const char *parent = sl_v_str(sl_v_get(m->val, "parent"), NULL);
      if (parent && !sl_schema_find_table(s, parent)) continue;
      st = parse_table(s, m, err);
      done[i] = true;
      left--;
      progress++;
    }
    if (!st && left && !progress) {
      for (size_t i = 0; i < n; i++)
        if (!done[i]) {
          const sl_member *m = &tables->u.obj.items[i];
          st = bad(err, m->val, "table '%s' names parent '%s' that is not in the schema", m->key,
                   sl_v_str(sl_v_get(m->val, "parent"), ""));
          break;
        }
    }
  }
  free(done);
  if (st) {
    sl_schema_free(s);
    return NULL;
  }
  s->version = sl_v_int_or(sl_v_get(v, "version"), 1);
  const char *vh = sl_v_str(sl_v_get(v, "version_hash"), "");
  snprintf(s->version_hash, sizeof s->version_hash, "%s", vh);
  const sl_value *prev = sl_v_get(v, "previous_hashes");
  for (size_t i = 0, k = 0; i < sl_v_len(prev) && k < 10; i++) {
    const char *h = sl_v_str(sl_v_at(prev, i), NULL);
    if (h && !(s->previous_hashes[k++] = strdup(h))) {
      sl_schema_free(s);
      sl_error_set(err, SL_NOMEM, "out of memory");
      return NULL;
    }
  }
  /* as dlt does on load: a changed content bumps the version */
  sl_schema_bump_version(s);
  s->dirty_ = false;
  return s;
}

/* ---- files --------------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suf) {
  size_t n = strlen(s), m = strlen(suf);
  return n >= m && strcmp(s + n - m, suf) == 0;
}

static bool is_json_path(const char *path) { return ends_with(path, ".json"); }

sl_schema *sl_schema_load_file(const char *path, sl_error *err) {
  sl_error_clear(err);
  sl_doc *d = NULL;
  bool json = is_json_path(path);
  if (!json && !ends_with(path, ".yaml") && !ends_with(path, ".yml")) {
    /* sniff: a JSON schema starts with '{' */
    FILE *f = fopen(path, "rb");
    if (!f) {
      sl_error_set(err, SL_IO, "cannot open schema file: %s", strerror(errno));
      sl_error_at(err, path, 0, 0, -1);
      return NULL;
    }
    int c;
    while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t') {
    }
    json = c == '{';
    fclose(f);
  }
  d = json ? sl_json_parse_file(path, err) : sl_yaml_parse_file(path, NULL, err);
  if (!d) return NULL;
  sl_schema *s = sl_schema_from_value(d->root, err);
  if (!s && err && !err->file[0]) sl_error_at(err, path, err->line, err->col, -1);
  sl_doc_free(d);
  return s;
}

sl_status sl_schema_save_file(const sl_schema *s, const char *path, sl_error *err) {
  sl_buf b = {0};
  sl_status st = is_json_path(path) ? sl_schema_to_json(s, &b) : sl_schema_to_yaml(s, &b);
  if (st) {
    sl_buf_free(&b);
    return sl_error_set(err, st, "cannot serialize schema '%s'", s->name);
  }
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
    sl_buf_free(&b);
    return sl_error_set(err, SL_INVALID_ARG, "schema path too long");
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    st = sl_error_set(err, SL_IO, "cannot write schema file: %s", strerror(errno));
    sl_error_at(err, tmp, 0, 0, -1);
    sl_buf_free(&b);
    return st;
  }
  size_t off = 0;
  while (off < b.len) {
    ssize_t w = write(fd, b.data + off, b.len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  bool ok = off == b.len && fsync(fd) == 0;
  int saved = errno;
  if (close(fd) != 0) ok = false;
  sl_buf_free(&b);
  if (!ok || rename(tmp, path) != 0) {
    if (ok) saved = errno;
    unlink(tmp);
    st = sl_error_set(err, SL_IO, "cannot write schema file: %s", strerror(saved));
    sl_error_at(err, path, 0, 0, -1);
    return st;
  }
  return SL_OK;
}
