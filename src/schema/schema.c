/* schema.c — the schema model: tables and columns with O(1) column lookup,
 * dlt's system tables, contracts, and the content hash that versions a schema.
 * Serialization to and from dlt's stored layout lives in schema_io.c. */
#include "sluice/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/schema_int.h"
#include "sluice/base64.h"
#include "sluice/json.h"
#include "sluice/sha3.h"

/* ---- names of enums -------------------------------------------------------- */

static const char *const dtype_names[] = {
#define SL__DTN(n, s) s,
    SL_DTYPE_MAP(SL__DTN)
#undef SL__DTN
};

const char *sl_dtype_name(sl_dtype t) {
  return (unsigned)t < SL_T_COUNT_ ? dtype_names[t] : "unknown";
}

int sl_dtype_parse(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < SL_T_COUNT_; i++)
    if (strcmp(name, dtype_names[i]) == 0) return i;
  if (strcmp(name, "complex") == 0) return SL_T_JSON; /* dlt before 1.0 */
  return -1;
}

const char *sl_wd_name(sl_write_disposition wd) {
  switch (wd) {
    case SL_WD_APPEND: return "append";
    case SL_WD_REPLACE: return "replace";
    case SL_WD_MERGE: return "merge";
  }
  return "append";
}

int sl_wd_parse(const char *name) {
  if (!name) return -1;
  if (!strcmp(name, "append")) return SL_WD_APPEND;
  if (!strcmp(name, "replace")) return SL_WD_REPLACE;
  if (!strcmp(name, "merge")) return SL_WD_MERGE;
  if (!strcmp(name, "skip")) return SL_WD_APPEND; /* dlt's system tables */
  return -1;
}

static const char *const contract_names[] = {"evolve", "freeze", "discard_row", "discard_value"};

const char *sl_contract_mode_name(sl_contract_mode m) {
  return (unsigned)m < 4 ? contract_names[m] : "evolve";
}

int sl_contract_mode_parse(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < 4; i++)
    if (!strcmp(name, contract_names[i])) return i;
  return -1;
}

/* ---- column index: open addressing over column positions ------------------- */

typedef struct col_index {
  uint32_t cap;   /* power of two, > 2 * count */
  int32_t *slots; /* column index, or -1 */
} col_index;

static inline uint64_t name_hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h ^ (h >> 29);
}

static bool index_rebuild(sl_table *t, uint32_t cap) {
  int32_t *slots = malloc(sizeof *slots * cap);
  if (!slots) return false;
  for (uint32_t i = 0; i < cap; i++) slots[i] = -1;
  for (size_t c = 0; c < t->ncolumns; c++) {
    const char *nm = t->columns[c].name;
    uint32_t i = (uint32_t)name_hash(nm, strlen(nm)) & (cap - 1);
    while (slots[i] >= 0) i = (i + 1) & (cap - 1);
    slots[i] = (int32_t)c;
  }
  col_index *ix = t->index_;
  if (!ix) {
    ix = calloc(1, sizeof *ix);
    if (!ix) {
      free(slots);
      return false;
    }
    t->index_ = ix;
  }
  free(ix->slots);
  ix->slots = slots;
  ix->cap = cap;
  return true;
}

int sl_table_find_column(const sl_table *t, const char *name, size_t len) {
  if (!t || !name) return -1;
  const col_index *ix = t->index_;
  if (!ix) return -1;
  uint32_t i = (uint32_t)name_hash(name, len) & (ix->cap - 1);
  for (;;) {
    int32_t c = ix->slots[i];
    if (c < 0) return -1;
    const char *nm = t->columns[c].name;
    if (strncmp(nm, name, len) == 0 && nm[len] == '\0') return c;
    i = (i + 1) & (ix->cap - 1);
  }
}

static int column_append(sl_schema *s, sl_table *t, const char *name, sl_dtype type, bool incomplete,
                         sl_error *err) {
  if (!name || !*name) {
    sl_error_set(err, SL_SCHEMA, "empty column name in table '%s'", t->name);
    return -1;
  }
  int have = sl_table_find_column(t, name, strlen(name));
  if (have >= 0) {
    sl_error_set(err, SL_SCHEMA, "column '%s' already exists in table '%s'", name, t->name);
    sl_error_where(err, t->name, name);
    return -1;
  }
  if (t->ncolumns == t->capcolumns) {
    size_t cap = t->capcolumns ? t->capcolumns * 2 : 16;
    sl_column *c = realloc(t->columns, cap * sizeof *c);
    if (!c) {
      sl_error_set(err, SL_NOMEM, "out of memory");
      return -1;
    }
    t->columns = c;
    t->capcolumns = cap;
  }
  sl_column *c = &t->columns[t->ncolumns];
  memset(c, 0, sizeof *c);
  c->name = strdup(name);
  if (!c->name) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    return -1;
  }
  c->type = type;
  c->nullable = true;
  c->incomplete = incomplete;
  t->ncolumns++;
  col_index *ix = t->index_;
  if (!ix || t->ncolumns * 2 >= ix->cap) {
    uint32_t cap = ix ? ix->cap : 32;
    while (t->ncolumns * 2 >= cap) cap *= 2;
    if (!index_rebuild(t, cap)) {
      free(c->name);
      t->ncolumns--;
      sl_error_set(err, SL_NOMEM, "out of memory");
      return -1;
    }
  } else {
    uint32_t i = (uint32_t)name_hash(name, strlen(name)) & (ix->cap - 1);
    while (ix->slots[i] >= 0) i = (i + 1) & (ix->cap - 1);
    ix->slots[i] = (int32_t)(t->ncolumns - 1);
  }
  s->dirty_ = true;
  return (int)(t->ncolumns - 1);
}

int sl_table_add_column(sl_schema *s, sl_table *t, const char *name, sl_dtype type, sl_error *err) {
  return column_append(s, t, name, type, false, err);
}

int sl_table_add_incomplete_column(sl_schema *s, sl_table *t, const char *name, sl_error *err) {
  int have = name ? sl_table_find_column(t, name, strlen(name)) : -1;
  if (have >= 0) return have;
  return column_append(s, t, name, SL_T_TEXT, true, err);
}

bool sl_table_has_complete_columns(const sl_table *t) {
  for (size_t i = 0; t && i < t->ncolumns; i++)
    if (!t->columns[i].incomplete) return true;
  return false;
}

/* ---- tables ------------------------------------------------------------------ */

static void table_free(sl_table *t) {
  if (!t) return;
  for (size_t i = 0; i < t->ncolumns; i++) free(t->columns[i].name);
  free(t->columns);
  col_index *ix = t->index_;
  if (ix) free(ix->slots);
  free(ix);
  free(t->name);
  free(t->parent);
  free(t->resource);
  free(t->table_format);
  free(t);
}

sl_table *sl_schema_find_table(const sl_schema *s, const char *name) {
  if (!s || !name) return NULL;
  for (size_t i = 0; i < s->ntables; i++)
    if (strcmp(s->tables[i]->name, name) == 0) return s->tables[i];
  return NULL;
}

sl_table *sl__schema_find_table_n(const sl_schema *s, const char *name, size_t len) {
  for (size_t i = 0; i < s->ntables; i++) {
    const char *nm = s->tables[i]->name;
    if (strncmp(nm, name, len) == 0 && nm[len] == '\0') return s->tables[i];
  }
  return NULL;
}

sl_table *sl_schema_add_table(sl_schema *s, const char *name, const char *parent, sl_error *err) {
  if (!s || !name || !*name) {
    sl_error_set(err, SL_SCHEMA, "empty table name");
    return NULL;
  }
  sl_table *t = sl_schema_find_table(s, name);
  if (t) return t;
  if (parent && !sl_schema_find_table(s, parent)) {
    sl_error_set(err, SL_SCHEMA, "parent table '%s' of '%s' is not in the schema", parent, name);
    sl_error_where(err, name, NULL);
    return NULL;
  }
  if (s->ntables == s->captables) {
    size_t cap = s->captables ? s->captables * 2 : 16;
    sl_table **tt = realloc(s->tables, cap * sizeof *tt);
    if (!tt) {
      sl_error_set(err, SL_NOMEM, "out of memory");
      return NULL;
    }
    s->tables = tt;
    s->captables = cap;
  }
  t = calloc(1, sizeof *t);
  if (!t || !(t->name = strdup(name)) || (parent && !(t->parent = strdup(parent))) ||
      !index_rebuild(t, 32)) {
    table_free(t);
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  t->max_table_nesting = -1;
  if (parent) {
    /* children inherit the root's disposition */
    const sl_table *root = sl_schema_root_of(s, sl_schema_find_table(s, parent));
    if (root) {
      t->write_disposition = root->write_disposition;
      t->merge_strategy = root->merge_strategy;
    }
  }
  s->tables[s->ntables++] = t;
  s->dirty_ = true;
  return t;
}

sl_table *sl_schema_root_of(const sl_schema *s, sl_table *t) {
  for (int guard = 0; t && t->parent && guard < 10000; guard++) {
    sl_table *p = sl_schema_find_table(s, t->parent);
    if (!p) break;
    t = p;
  }
  return t;
}

size_t sl_schema_descendants(const sl_schema *s, const sl_table *t, sl_table **out, size_t cap) {
  if (!s || !t) return 0;
  size_t n = 0;
  /* parents are always created before their children, so one pass in creation
   * order finds every descendant; a private list lets us see past cap */
  const sl_table **seen = malloc(sizeof *seen * (s->ntables + 1));
  if (!seen) return 0;
  size_t ns = 0;
  seen[ns++] = t;
  for (size_t i = 0; i < s->ntables; i++) {
    sl_table *x = s->tables[i];
    if (!x->parent || x == t) continue;
    for (size_t k = 0; k < ns; k++) {
      if (strcmp(x->parent, seen[k]->name) == 0) {
        seen[ns++] = x;
        if (n < cap) out[n] = x;
        n++;
        break;
      }
    }
  }
  free(seen);
  return n < cap ? n : cap;
}

bool sl_table_is_system(const sl_table *t) {
  return t && t->name && strncmp(t->name, "_dlt", 4) == 0;
}

sl_contract sl_schema_contract_for(const sl_schema *s, const sl_table *t) {
  const sl_table *root = t ? sl_schema_root_of(s, (sl_table *)t) : NULL;
  if (root && root->has_contract) return root->contract;
  if (t && t->has_contract) return t->contract;
  return s->contract;
}

/* ---- the schema ---------------------------------------------------------------- */

typedef struct sys_col {
  const char *name;
  sl_dtype type;
  bool nullable;
} sys_col;

static const sys_col version_cols[] = {
    {"version", SL_T_BIGINT, false},     {"engine_version", SL_T_BIGINT, false},
    {"inserted_at", SL_T_TIMESTAMP, false}, {"schema_name", SL_T_TEXT, false},
    {"version_hash", SL_T_TEXT, false},  {"schema", SL_T_TEXT, false},
    {NULL, 0, false}};
static const sys_col loads_cols[] = {
    {"load_id", SL_T_TEXT, false},          {"schema_name", SL_T_TEXT, true},
    {"status", SL_T_BIGINT, false},         {"inserted_at", SL_T_TIMESTAMP, false},
    {"schema_version_hash", SL_T_TEXT, true}, {NULL, 0, false}};
/* dlt's pipeline_state_table(add_dlt_id=True), the layout its destinations
 * get: _dlt_id (unique) last. src/dest creates the same columns. */
static const sys_col state_cols[] = {
    {"version", SL_T_BIGINT, false},      {"engine_version", SL_T_BIGINT, false},
    {"pipeline_name", SL_T_TEXT, false},  {"state", SL_T_TEXT, false},
    {"created_at", SL_T_TIMESTAMP, false}, {"version_hash", SL_T_TEXT, true},
    {"_dlt_load_id", SL_T_TEXT, false},   {"_dlt_id", SL_T_TEXT, false},
    {NULL, 0, false}};

static const struct {
  const char *name;
  const sys_col *cols;
} sys_tables[] = {{SL__VERSION_TABLE, version_cols},
                  {SL__LOADS_TABLE, loads_cols},
                  {SL__STATE_TABLE, state_cols}};

sl_status sl__schema_add_system_table(sl_schema *s, const char *name, sl_error *err) {
  for (size_t k = 0; k < sizeof sys_tables / sizeof sys_tables[0]; k++) {
    if (strcmp(sys_tables[k].name, name) != 0) continue;
    sl_table *t = sl_schema_add_table(s, name, NULL, err);
    if (!t) return err && err->code ? err->code : SL_NOMEM;
    if (!t->resource && !(t->resource = strdup(name))) return sl_error_set(err, SL_NOMEM, "out of memory");
    for (const sys_col *c = sys_tables[k].cols; c->name; c++) {
      if (sl_table_find_column(t, c->name, strlen(c->name)) >= 0) continue;
      int i = sl_table_add_column(s, t, c->name, c->type, err);
      if (i < 0) return err && err->code ? err->code : SL_NOMEM;
      t->columns[i].nullable = c->nullable;
      t->columns[i].unique = !strcmp(c->name, "_dlt_id");
    }
    return SL_OK;
  }
  return sl_error_set(err, SL_INTERNAL, "unknown system table '%s'", name);
}

bool sl__is_system_table_name(const char *name) {
  for (size_t k = 0; k < sizeof sys_tables / sizeof sys_tables[0]; k++)
    if (strcmp(sys_tables[k].name, name) == 0) return true;
  return false;
}

sl_schema *sl__schema_alloc(const char *name) {
  sl_schema *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->name = strdup(name && *name ? name : "sluice");
  if (!s->name) {
    free(s);
    return NULL;
  }
  s->version = 1;
  s->max_table_nesting = 1000;
  s->detect_iso_timestamp = true;
  s->max_identifier_len = 65536;
  return s;
}

sl_schema *sl_schema_new(const char *name) {
  sl_schema *s = sl__schema_alloc(name);
  if (!s) return NULL;
  for (size_t k = 0; k < sizeof sys_tables / sizeof sys_tables[0]; k++) {
    if (sl__schema_add_system_table(s, sys_tables[k].name, NULL)) {
      sl_schema_free(s);
      return NULL;
    }
  }
  /* the initial hash is set without bumping the version, as dlt does */
  if (sl_schema_content_hash(s, s->version_hash)) {
    sl_schema_free(s);
    return NULL;
  }
  s->dirty_ = false;
  return s;
}

void sl_schema_free(sl_schema *s) {
  if (!s) return;
  for (size_t i = 0; i < s->ntables; i++) table_free(s->tables[i]);
  free(s->tables);
  for (int i = 0; i < 10; i++) free(s->previous_hashes[i]);
  free(s->name);
  free(s);
}

static char *dup_or_null(const char *p, bool *fail) {
  if (!p) return NULL;
  char *d = strdup(p);
  if (!d) *fail = true;
  return d;
}

sl_schema *sl_schema_clone(const sl_schema *s) {
  if (!s) return NULL;
  sl_schema *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  *c = *s;
  bool fail = false;
  c->name = dup_or_null(s->name, &fail);
  memset(c->previous_hashes, 0, sizeof c->previous_hashes);
  for (int i = 0; i < 10 && s->previous_hashes[i]; i++)
    c->previous_hashes[i] = dup_or_null(s->previous_hashes[i], &fail);
  c->tables = calloc(s->captables ? s->captables : 1, sizeof *c->tables);
  c->ntables = 0;
  c->captables = s->captables ? s->captables : 1;
  if (!c->tables) fail = true;
  for (size_t i = 0; !fail && i < s->ntables; i++) {
    const sl_table *t = s->tables[i];
    sl_table *u = calloc(1, sizeof *u);
    if (!u) {
      fail = true;
      break;
    }
    *u = *t;
    u->index_ = NULL;
    u->name = dup_or_null(t->name, &fail);
    u->parent = dup_or_null(t->parent, &fail);
    u->resource = dup_or_null(t->resource, &fail);
    u->table_format = dup_or_null(t->table_format, &fail);
    u->columns = calloc(t->capcolumns ? t->capcolumns : 1, sizeof *u->columns);
    u->ncolumns = 0;
    u->capcolumns = t->capcolumns ? t->capcolumns : 1;
    c->tables[c->ntables++] = u;
    if (!u->columns) {
      fail = true;
      break;
    }
    for (size_t k = 0; k < t->ncolumns; k++) {
      u->columns[k] = t->columns[k];
      u->columns[k].name = dup_or_null(t->columns[k].name, &fail);
      u->ncolumns++;
    }
    const col_index *ix = t->index_;
    if (!fail && !index_rebuild(u, ix ? ix->cap : 32)) fail = true;
  }
  if (fail) {
    sl_schema_free(c);
    return NULL;
  }
  return c;
}

/* ---- content hash ------------------------------------------------------------------ */

static int member_cmp(const void *a, const void *b) {
  const sl_member *x = a, *y = b;
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int r = memcmp(x->key, y->key, n);
  if (r) return r;
  return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

/* Canonical JSON: keys sorted, compact. Schema documents are shallow (five
 * levels), so recursion is fine here. */
static sl_status canon_json(const sl_value *v, sl_buf *out) {
  sl_status st = SL_OK;
  switch (v ? v->type : SL_V_NULL) {
    case SL_V_OBJECT: {
      size_t n = v->u.obj.len;
      sl_member *m = malloc(sizeof *m * (n ? n : 1));
      if (!m) return SL_NOMEM;
      if (n) memcpy(m, v->u.obj.items, sizeof *m * n);
      qsort(m, n, sizeof *m, member_cmp);
      st = sl_buf_putc(out, '{');
      for (size_t i = 0; !st && i < n; i++) {
        if (i) st = sl_buf_putc(out, ',');
        if (!st) st = sl_json_write_string(out, m[i].key, m[i].key_len);
        if (!st) st = sl_buf_putc(out, ':');
        if (!st) st = canon_json(m[i].val, out);
      }
      if (!st) st = sl_buf_putc(out, '}');
      free(m);
      return st;
    }
    case SL_V_ARRAY:
      st = sl_buf_putc(out, '[');
      for (size_t i = 0; !st && i < v->u.arr.len; i++) {
        if (i) st = sl_buf_putc(out, ',');
        if (!st) st = canon_json(v->u.arr.items[i], out);
      }
      return st ? st : sl_buf_putc(out, ']');
    default:
      return sl_v_to_json(v, out, 0);
  }
}

sl_status sl_schema_content_hash(const sl_schema *s, char out[48]) {
  sl_doc *d = sl_doc_new("schema");
  if (!d) return SL_NOMEM;
  sl_status st = SL_OK;
  sl_value *v = sl__schema_content_value(s, d, false);
  sl_buf b = {0};
  if (!v) st = SL_NOMEM;
  if (!st) st = canon_json(v, &b);
  /* column order counts: table names sorted, each followed by its columns in order */
  if (!st) {
    size_t n = s->ntables;
    const sl_table **tt = malloc(sizeof *tt * (n ? n : 1));
    if (!tt) st = SL_NOMEM;
    for (size_t i = 0; tt && i < n; i++) tt[i] = s->tables[i];
    for (size_t i = 1; tt && i < n; i++) /* insertion sort: few tables */
      for (size_t k = i; k > 0 && strcmp(tt[k - 1]->name, tt[k]->name) > 0; k--) {
        const sl_table *x = tt[k];
        tt[k] = tt[k - 1];
        tt[k - 1] = x;
      }
    for (size_t i = 0; !st && i < n; i++) {
      st = sl_buf_puts(&b, tt[i]->name);
      for (size_t k = 0; !st && k < tt[i]->ncolumns; k++) st = sl_buf_puts(&b, tt[i]->columns[k].name);
    }
    free(tt);
  }
  uint8_t md[32];
  if (!st) {
    sl_sha3_256(b.data ? b.data : "", b.len, md);
    sl_base64_encode_to(md, sizeof md, true, out); /* 44 characters with '=' */
  }
  sl_buf_free(&b);
  sl_doc_free(d);
  return st;
}

bool sl_schema_bump_version(sl_schema *s) {
  if (!s) return false;
  char h[48];
  if (sl_schema_content_hash(s, h)) return false;
  s->dirty_ = false;
  if (!s->version_hash[0]) {
    if (s->version < 1) s->version = 1;
    memcpy(s->version_hash, h, sizeof h);
    return false;
  }
  if (strcmp(h, s->version_hash) == 0) return false;
  s->version++;
  bool known = false;
  for (int i = 0; i < 10 && s->previous_hashes[i]; i++)
    if (strcmp(s->previous_hashes[i], s->version_hash) == 0) known = true;
  if (!known) {
    char *old = strdup(s->version_hash);
    if (old) {
      free(s->previous_hashes[9]);
      memmove(&s->previous_hashes[1], &s->previous_hashes[0], 9 * sizeof(char *));
      s->previous_hashes[0] = old;
    }
  }
  memcpy(s->version_hash, h, sizeof h);
  return true;
}
