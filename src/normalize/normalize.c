/* normalize.c — the streaming normalizer: JSON events in, rows of dlt's
 * relational tables out (normalize_row.c turns a finished record into rows).
 * No recursion: an explicit frame stack follows the JSON nesting. Each distinct
 * (parent node, raw key) is normalized once and kept as a path node.
 *
 * Where sluice chooses (dlt has no answer, or dlt's answer is a crash):
 *  - An integer beyond int64 is a "decimal" value (exact text); with the
 *    large_integer detection a new column for it is "wei". dlt's JSON parser
 *    (orjson) rejects such numbers. Its variant suffix is "v_decimal".
 *    That holds while the type keeps every digit: decimal(38,9) has 29
 *    integer digits, wei 38. A longer integer is a text value (a new column
 *    is text, a typed column sends it to <name>__v_text), so no digit is lost.
 *  - A value goes into a decimal or wei column only if it fits the column's
 *    precision and scale once rounded to the scale (as the destinations
 *    round); else into a variant column. A destination never meets a number
 *    its column cannot hold.
 *  - A non-object record is {"value": x}; an array record gives a child table
 *    <table>__value (dlt's extract would split the array into records).
 *  - Keys that collide after normalization ("A" and "a", or "a__b" next to
 *    {"a": {"b": …}}): as in a Python dict, the last value wins and keeps the
 *    place of the first; two lists under colliding keys: only the last list's
 *    rows are kept (so _dlt_id stays unique).
 *  - An upsert primary key is matched against the record's top-level raw keys
 *    (dlt's get_row_hash does the same); only scalar key values are hashed.
 *  - A user-supplied _dlt_id is kept as the row id when it is a non-empty
 *    string (dlt keeps any truthy value); other values are replaced.
 *  - A double coerced to decimal keeps Python's repr of the double (dlt's
 *    Decimal(float) is the exact binary expansion; destinations round it the
 *    same way at scale 9). Nested values kept as JSON keep the source's number
 *    text (dlt re-serializes through orjson).
 *  - A placeholder column seen only with nulls that later turns out to be a
 *    child table stays in the schema as an incomplete column (dlt removes it);
 *    incomplete columns never reach a destination.
 * Where sluice follows dlt even though it may surprise:
 *  - Column order: data columns in order of first appearance, then
 *    _dlt_load_id and _dlt_id (roots) or _dlt_root_id, _dlt_parent_id,
 *    _dlt_list_idx, _dlt_id (children); hinted columns (columns, primary_key,
 *    merge_key) come first, and a column first seen as null keeps the place of
 *    that null (dlt 1.x's seen-null-first placeholder).
 *  - A null for a not-null column (a primary key) fails the load; a row whose
 *    data gives its own _dlt_id is not linked to its parent.
 *  - A placeholder from a null is a new column for the contract, so
 *    columns: freeze fails on a null under a new key.
 *  - true/false coerced to a timestamp are 1 and 0 seconds (Python's bool is
 *    an int); to bigint or double they go to a variant column.
 */
#include "sluice/normalize.h"

#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize/normalize_int.h"

#define MAX_NODES (1u << 20)
#define MAX_NAME_BYTES ((size_t)64 << 20)

sl_status sl__nz_fail(sl_normalizer *n, sl_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sl_error_set(&n->err, st, "%s", msg);
  return st;
}

/* ---- growable arrays ------------------------------------------------------ */

static bool grow(void **p, uint32_t *cap, uint32_t need, size_t elem) {
  if (need <= *cap) return true;
  uint32_t c = *cap ? *cap : 16;
  while (c < need) {
    if (c > (UINT32_MAX >> 1)) return false;
    c *= 2;
  }
  void *q = realloc(*p, (size_t)c * elem);
  if (!q) return false;
  *p = q;
  *cap = c;
  return true;
}
#define GROW(arr, cap, need) grow((void **)&(arr), &(cap), (need), sizeof *(arr))

/* Per-record string storage: bump allocation inside arena blocks. */
char *sl__nz_bump(sl_normalizer *n, size_t len) {
  if (len > n->bump_left) {
    /* chunks small enough to come from the arena's kept block, so a record of
     * ordinary size costs no malloc at all */
    size_t sz = len > 32768 ? len : 32768;
    n->bump = sl_arena_alloc(&n->rec, sz);
    if (!n->bump) {
      n->bump_left = 0;
      return NULL;
    }
    n->bump_left = sz;
  }
  char *p = n->bump;
  n->bump += len;
  n->bump_left -= len;
  return p;
}

static const char *bump_copy(sl_normalizer *n, const char *s, size_t len) {
  char *p = sl__nz_bump(n, len ? len : 1);
  if (p && len) memcpy(p, s, len);
  return p;
}

/* ---- path nodes ------------------------------------------------------------- */

/* Short keys compare faster inline than through a memcmp call. */
static inline bool same_bytes(const char *a, const char *b, size_t n) {
  if (n < 4) {
    for (size_t i = 0; i < n; i++)
      if (a[i] != b[i]) return false;
    return true;
  }
  if (n <= 8) { /* two overlapping 4-byte words */
    uint32_t x, y, z, w;
    memcpy(&x, a, 4);
    memcpy(&y, b, 4);
    memcpy(&z, a + n - 4, 4);
    memcpy(&w, b + n - 4, 4);
    return x == y && z == w;
  }
  uint64_t x, y;
  memcpy(&x, a, 8);
  memcpy(&y, b, 8);
  if (x != y) return false;
  if (n <= 16) {
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return x == y;
  }
  return memcmp(a + 8, b + 8, n - 8) == 0;
}

static inline uint64_t key_hash(uint32_t parent, const char *s, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)parent * 0xff51afd7ed558ccdull);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  if (n - i) memcpy(&w, s + i, n - i);
  h = (h ^ w ^ n) * 0xff51afd7ed558ccdull;
  return h ^ (h >> 29);
}

static bool ht_rehash(sl_normalizer *n, uint32_t cap) {
  uint32_t *t = malloc(sizeof *t * cap);
  if (!t) return false;
  for (uint32_t i = 0; i < cap; i++) t[i] = NZ_NONE;
  for (uint32_t id = 0; id < n->nnodes; id++) {
    if (n->nodes[id].type == NODE_VARIANT) continue; /* not keyed */
    uint32_t i = (uint32_t)n->nodes[id].hash & (cap - 1);
    while (t[i] != NZ_NONE) i = (i + 1) & (cap - 1);
    t[i] = id;
  }
  free(n->ht);
  n->ht = t;
  n->htcap = cap;
  return true;
}

static uint32_t ht_find(const sl_normalizer *n, uint32_t parent, const char *key, size_t len, uint64_t h) {
  uint32_t i = (uint32_t)h & (n->htcap - 1);
  for (;;) {
    uint32_t id = n->ht[i];
    if (id == NZ_NONE) return NZ_NONE;
    const nz_node *x = &n->nodes[id];
    if (x->hash == h && x->parent == parent && x->keylen == len && same_bytes(x->key, key, len))
      return id;
    i = (i + 1) & (n->htcap - 1);
  }
}

static uint32_t node_new(sl_normalizer *n, uint8_t type) {
  if (!GROW(n->nodes, n->capnodes, n->nnodes + 1)) return NZ_NONE;
  uint32_t id = n->nnodes++;
  nz_node *x = &n->nodes[id];
  memset(x, 0, sizeof *x);
  x->type = type;
  x->parent = NZ_NONE;
  x->col = -1;
  x->list_tnode = NZ_NONE;
  x->parent_tnode = NZ_NONE;
  x->counter = -1;
  x->first_key = x->next_key = NZ_NONE;
  x->canon = id;
  for (int k = 0; k < VK_COUNT_; k++) x->var[k] = NZ_NONE;
  for (int k = 0; k < SYS_COUNT_; k++) x->sys[k] = NZ_NONE;
  return id;
}

static bool node_index(sl_normalizer *n, uint32_t id) {
  if ((n->nnodes + 1) * 2 > n->htcap && !ht_rehash(n, n->htcap ? n->htcap * 2 : 1024)) return false;
  uint32_t i = (uint32_t)n->nodes[id].hash & (n->htcap - 1);
  while (n->ht[i] != NZ_NONE) i = (i + 1) & (n->htcap - 1);
  n->ht[i] = id;
  return true;
}

static const char *name_copy(sl_normalizer *n, const char *s, size_t len) {
  char *p = sl_arena_strndup(&n->names, s, len);
  return p;
}

/* The first node of table node t named like node id: rows dedupe values by it. */
static uint32_t canon_of(sl_normalizer *n, uint32_t t, uint32_t id) {
  if ((n->ncanon + 1) * 2 > n->canon_htcap) {
    uint32_t cap = n->canon_htcap ? n->canon_htcap * 2 : 1024;
    uint32_t *nt = malloc(sizeof *nt * cap);
    if (!nt) return id;
    for (uint32_t i = 0; i < cap; i++) nt[i] = NZ_NONE;
    for (uint32_t i = 0; i < n->canon_htcap; i++) {
      uint32_t c = n->canon_ht[i];
      if (c == NZ_NONE) continue;
      const nz_node *x = &n->nodes[c];
      uint32_t j = (uint32_t)key_hash(x->tnode, x->name, x->name_len) & (cap - 1);
      while (nt[j] != NZ_NONE) j = (j + 1) & (cap - 1);
      nt[j] = c;
    }
    free(n->canon_ht);
    n->canon_ht = nt;
    n->canon_htcap = cap;
  }
  const nz_node *me = &n->nodes[id];
  uint32_t j = (uint32_t)key_hash(t, me->name, me->name_len) & (n->canon_htcap - 1);
  for (;;) {
    uint32_t c = n->canon_ht[j];
    if (c == NZ_NONE) break;
    const nz_node *x = &n->nodes[c];
    if (x->tnode == t && x->name_len == me->name_len && memcmp(x->name, me->name, me->name_len) == 0)
      return c;
    j = (j + 1) & (n->canon_htcap - 1);
  }
  n->canon_ht[j] = id;
  n->ncanon++;
  return id;
}

static const char *const sys_names[SYS_COUNT_] = {"_dlt_load_id", "_dlt_id",    "_dlt_parent_id",
                                                    "_dlt_list_idx", "_dlt_root_id", "value", "list"};

/* Field node for key under parent (a table node: a top-level key of the row;
 * a field node: a key inside a flattened dict). */
uint32_t sl__nz_field(sl_normalizer *n, uint32_t parent, const char *key, size_t len) {
  uint64_t h = key_hash(parent, key, len);
  uint32_t id = ht_find(n, parent, key, len, h);
  if (id != NZ_NONE) return id;
  size_t maxl = n->schema->max_identifier_len;
  const nz_node *p = &n->nodes[parent];
  bool top = p->type == NODE_TABLE;
  uint32_t tnode = p->type == NODE_TABLE ? parent : p->tnode;
  const char *prefix = p->type == NODE_TABLE ? NULL : p->path;
  size_t prefix_len = p->type == NODE_TABLE ? 0 : p->path_len;
  if (sl_name_normalize_path(key, len, maxl, &n->tmp)) return NZ_NONE;
  const char *name, *path;
  size_t name_len, path_len;
  if (!prefix) {
    name = path = name_copy(n, n->tmp.data, n->tmp.len);
    name_len = path_len = n->tmp.len;
  } else {
    if (sl_name_join(prefix, prefix_len, n->tmp.data, n->tmp.len, 0, &n->path_buf) ||
        sl_name_join(prefix, prefix_len, n->tmp.data, n->tmp.len, maxl, &n->tmp2))
      return NZ_NONE;
    path = name_copy(n, n->path_buf.data, n->path_buf.len);
    path_len = n->path_buf.len;
    name = name_copy(n, n->tmp2.data, n->tmp2.len);
    name_len = n->tmp2.len;
  }
  const char *kcopy = name_copy(n, key, len);
  if (!name || !path || !kcopy) return NZ_NONE;
  id = node_new(n, NODE_FIELD);
  if (id == NZ_NONE) return NZ_NONE;
  nz_node *x = &n->nodes[id];
  x->parent = parent;
  x->key = kcopy;
  x->keylen = (uint32_t)len;
  x->hash = h;
  x->tnode = tnode;
  x->name = name;
  x->name_len = (uint32_t)name_len;
  x->path = path;
  x->path_len = (uint32_t)path_len;
  if (!node_index(n, id)) return NZ_NONE;
  n->nodes[id].canon = canon_of(n, tnode, id);
  /* by the normalized name: "[dlt_id" also lands in _dlt_id */
  if (top)
    for (int k = 0; k < SYS_COUNT_; k++)
      if (name_len == strlen(sys_names[k]) && !memcmp(name, sys_names[k], name_len))
        n->nodes[id].sysk = (uint8_t)(k + 1);
  return id;
}


uint32_t sl__nz_sys(sl_normalizer *n, uint32_t tnode, int which) {
  uint32_t id = n->nodes[tnode].sys[which];
  if (id != NZ_NONE) return id;
  id = sl__nz_field(n, tnode, sys_names[which], strlen(sys_names[which]));
  if (id != NZ_NONE) n->nodes[tnode].sys[which] = id;
  return id;
}

static const char *const variant_suffix[VK_COUNT_] = {"v_null", "v_text", "v_bigint", "v_double",
                                                       "v_bool", "v_decimal", "v_json"};

const char *sl__nz_kind_type_name(vkind k) { return variant_suffix[k] + 2; }

uint32_t sl__nz_variant(sl_normalizer *n, uint32_t field, vkind kind) {
  uint32_t id = n->nodes[field].var[kind];
  if (id != NZ_NONE) return id;
  const nz_node *f = &n->nodes[field];
  if (sl_name_join(f->name, f->name_len, variant_suffix[kind], strlen(variant_suffix[kind]),
                   n->schema->max_identifier_len, &n->tmp))
    return NZ_NONE;
  const char *name = name_copy(n, n->tmp.data, n->tmp.len);
  if (!name) return NZ_NONE;
  id = node_new(n, NODE_VARIANT);
  if (id == NZ_NONE) return NZ_NONE;
  nz_node *x = &n->nodes[id];
  f = &n->nodes[field];
  x->tnode = f->tnode;
  x->name = name;
  x->name_len = (uint32_t)n->tmp.len;
  x->canon = id; /* variants never meet a data key in the dedupe */
  n->nodes[field].var[kind] = id;
  return id;
}

static uint32_t table_node_new(sl_normalizer *n, uint32_t parent_tnode, const char *name, size_t name_len,
                               const char *path, size_t path_len) {
  const char *nm = name_copy(n, name, name_len), *pt = name_copy(n, path, path_len);
  if (!nm || !pt) return NZ_NONE;
  uint32_t id = node_new(n, NODE_TABLE);
  if (id == NZ_NONE) return NZ_NONE;
  nz_node *x = &n->nodes[id];
  x->name = nm;
  x->name_len = (uint32_t)name_len;
  x->path = pt;
  x->path_len = (uint32_t)path_len;
  x->parent_tnode = parent_tnode;
  x->tnode = id;
  /* keyed by the table name under NZ_NONE - 1, so flushing and re-creating is cheap */
  x->parent = parent_tnode == NZ_NONE ? NZ_NONE - 1 : NZ_NONE - 2;
  x->key = nm;
  x->keylen = (uint32_t)name_len;
  x->hash = key_hash(x->parent, nm, name_len);
  if (parent_tnode == NZ_NONE && !node_index(n, id)) return NZ_NONE;
  return id;
}

static uint32_t root_table_node(sl_normalizer *n, const char *name) {
  size_t len = strlen(name);
  uint64_t h = key_hash(NZ_NONE - 1, name, len);
  uint32_t id = ht_find(n, NZ_NONE - 1, name, len, h);
  if (id != NZ_NONE) return id;
  return table_node_new(n, NZ_NONE, name, len, name, len);
}

/* The child table node for a list under field node f. */
static uint32_t list_table(sl_normalizer *n, uint32_t f) {
  uint32_t id = n->nodes[f].list_tnode;
  if (id != NZ_NONE) return id;
  const nz_node *x = &n->nodes[f];
  const nz_node *t = &n->nodes[x->tnode];
  const nz_node *p = &n->nodes[x->parent];
  /* the dict holding the list: the row itself, or a flattened dict inside it */
  sl_status st;
  if (p->type == NODE_TABLE) {
    sl_buf_reset(&n->tmp2);
    st = sl_buf_append(&n->tmp2, t->path, t->path_len);
  } else {
    st = sl_name_join(t->path, t->path_len, p->path, p->path_len, 0, &n->tmp2);
  }
  if (st || sl_name_child_table(n->tmp2.data, n->tmp2.len, x->key, x->keylen, n->schema->max_identifier_len,
                                &n->path_buf, &n->tmp))
    return NZ_NONE;
  id = table_node_new(n, n->nodes[f].tnode, n->tmp.data, n->tmp.len, n->path_buf.data, n->path_buf.len);
  if (id != NZ_NONE) n->nodes[f].list_tnode = id;
  return id;
}

sl_table *sl__nz_table(sl_normalizer *n, uint32_t tnode) {
  nz_node *t = &n->nodes[tnode];
  if (!t->table && t->tables_checked != n->schema->ntables) {
    t->tables_checked = (uint32_t)n->schema->ntables;
    t->table = sl_schema_find_table(n->schema, t->name);
  }
  return t->table;
}

int32_t sl__nz_col(sl_normalizer *n, uint32_t node) {
  nz_node *x = &n->nodes[node];
  if (x->col >= 0) return x->col;
  sl_table *t = sl__nz_table(n, x->tnode);
  if (!t) return -1;
  x = &n->nodes[node];
  if (x->col_checked != t->ncolumns) {
    x->col_checked = (uint32_t)t->ncolumns;
    x->col = sl_table_find_column(t, x->name, x->name_len);
  }
  return x->col;
}

static void nodes_flush(sl_normalizer *n) {
  n->nnodes = 0;
  for (uint32_t i = 0; i < n->htcap; i++) n->ht[i] = NZ_NONE;
  for (uint32_t i = 0; i < n->canon_htcap; i++) n->canon_ht[i] = NZ_NONE;
  n->ncanon = 0;
  sl_arena_reset(&n->names);
  n->root_tnode = NZ_NONE;
}

/* ---- building the record ------------------------------------------------------ */

static uint32_t row_new(sl_normalizer *n, uint8_t kind, uint32_t tnode, uint32_t parent, int64_t idx,
                        uint32_t list) {
  if (!GROW(n->rows, n->caprows, n->nrows + 1)) return NZ_NONE;
  uint32_t r = n->nrows++;
  nz_row *x = &n->rows[r];
  x->tnode = tnode;
  x->parent = parent;
  x->idx = idx;
  x->first = x->last = NZ_NONE;
  x->list = list;
  x->lists = NZ_NONE;
  x->kind = kind;
  x->dropped = false;
  x->has_sys = false;
  if (++n->stamp_seq == 0) { /* wrapped: forget every stamp */
    memset(n->stamp, 0, sizeof *n->stamp * n->stamp_cap);
    n->stamp_seq = 1;
  }
  x->stamp = n->stamp_seq;
  x->id[0] = '\0';
  x->idp = x->id;
  return r;
}

static bool stamps_fit(sl_normalizer *n, uint32_t c) {
  if (c < n->stamp_cap) return true;
  uint32_t cap = n->stamp_cap ? n->stamp_cap : 1024;
  while (cap <= c) cap *= 2;
  uint32_t *a = realloc(n->stamp, sizeof *a * cap);
  if (!a) return false;
  n->stamp = a;
  uint32_t *b = realloc(n->slot, sizeof *b * cap);
  if (!b) return false;
  n->slot = b;
  memset(n->stamp + n->stamp_cap, 0, sizeof *a * (cap - n->stamp_cap));
  n->stamp_cap = cap;
  return true;
}

/* Append a value to a row; a second value for the same column replaces the
 * first in place (a Python dict keeps the first key's position). */
static nz_val *val_add(sl_normalizer *n, uint32_t row, uint32_t node, uint8_t kind) {
  if (node == NZ_NONE) return NULL;
  nz_row *r = &n->rows[row];
  const nz_node *x = &n->nodes[node];
  uint32_t c = x->canon;
  if (x->sysk && x->sysk <= SYS_ROOT_ID + 1) r->has_sys = true; /* value/list need no dedupe */
  if (!stamps_fit(n, c)) return NULL;
  nz_val *v;
  if (n->stamp[c] == r->stamp) {
    v = &n->vals[n->slot[c]];
  } else {
    if (!GROW(n->vals, n->capvals, n->nvals + 1)) return NULL;
    uint32_t i = n->nvals++;
    v = &n->vals[i];
    v->next = NZ_NONE;
    r = &n->rows[row];
    if (r->last == NZ_NONE)
      r->first = i;
    else
      n->vals[r->last].next = i;
    r->last = i;
    n->stamp[c] = r->stamp;
    n->slot[c] = i;
  }
  v->node = node;
  v->kind = kind;
  v->b = false;
  v->num = false;
  v->len = 0;
  v->n.i = 0;
  v->s = NULL;
  return v;
}

static uint32_t list_new(sl_normalizer *n, uint32_t parent_row, uint32_t field, uint32_t tnode) {
  if (!GROW(n->lists, n->caplists, n->nlists + 1)) return NZ_NONE;
  const nz_node *t = &n->nodes[tnode];
  /* a second list under a key with the same table name replaces the first */
  for (uint32_t l = n->rows[parent_row].lists; l != NZ_NONE; l = n->lists[l].next) {
    const nz_node *o = &n->nodes[n->lists[l].tnode];
    if (o->name_len == t->name_len && memcmp(o->name, t->name, t->name_len) == 0) n->lists[l].superseded = true;
  }
  uint32_t id = n->nlists++;
  n->lists[id].tnode = tnode;
  n->lists[id].field = field;
  n->lists[id].superseded = false;
  n->lists[id].next = n->rows[parent_row].lists;
  n->rows[parent_row].lists = id;
  return id;
}

static nz_frame *frame_push(sl_normalizer *n, uint8_t kind) {
  if (!GROW(n->frames, n->capframes, n->nframes + 1)) return NULL;
  nz_frame *f = &n->frames[n->nframes++];
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->key_node = NZ_NONE;
  if (kind != F_LIST) {
    if (++n->dict_seq == 0) { /* wrapped: forget which dict each key was seen in */
      for (uint32_t i = 0; i < n->nnodes; i++) n->nodes[i].seen_in = 0;
      n->dict_seq = 1;
    }
    f->dict = n->dict_seq;
  }
  return f;
}

/* Whether field node x is k or lies under it (a dict under k flattened). */
static bool under_key(const sl_normalizer *n, uint32_t x, uint32_t k) {
  while (x < n->nnodes && n->nodes[x].type == NODE_FIELD) {
    if (x == k) return true;
    x = n->nodes[x].parent;
  }
  return false;
}

/* A key repeated in one dict: as Python's json.loads does, the last value
 * replaces the first one wholly. What the first value flattened into the row
 * (fields of a dict under it, its lists and their rows) is forgotten; a
 * scalar or kept-whole value at the key itself is replaced in place by
 * val_add (keep_own), so it keeps the first key's position as in a dict. The
 * fields of a replacing dict come after the row's other fields. */
static void forget_key(sl_normalizer *n, uint32_t row, uint32_t k, bool keep_own) {
  nz_row *r = &n->rows[row];
  uint32_t prev = NZ_NONE;
  for (uint32_t i = r->first; i != NZ_NONE;) {
    const nz_val *v = &n->vals[i];
    uint32_t next = v->next;
    if ((v->node != k || !keep_own) && under_key(n, v->node, k)) {
      if (prev == NZ_NONE)
        r->first = next;
      else
        n->vals[prev].next = next;
      if (r->last == i) r->last = prev;
      n->stamp[n->nodes[v->node].canon] = 0;
    } else {
      prev = i;
    }
    i = next;
  }
  for (uint32_t l = r->lists; l != NZ_NONE; l = n->lists[l].next)
    if (under_key(n, n->lists[l].field, k)) n->lists[l].superseded = true;
}

static sl_status oom(sl_normalizer *n) { return sl__nz_fail(n, SL_NOMEM, "out of memory"); }

/* A scalar event as a value of row/node. */
static sl_status scalar(sl_normalizer *n, uint32_t row, uint32_t node, const sl_json_event *ev) {
  nz_val *v;
  switch (ev->type) {
    case SL_JSON_NULL:
      v = val_add(n, row, node, VK_NULL);
      break;
    case SL_JSON_TRUE:
    case SL_JSON_FALSE:
      v = val_add(n, row, node, VK_BOOL);
      if (v) v->b = ev->type == SL_JSON_TRUE;
      break;
    case SL_JSON_STRING:
      v = val_add(n, row, node, VK_STR);
      if (v && !(v->s = bump_copy(n, ev->str, ev->len))) return oom(n);
      if (v) v->len = (uint32_t)ev->len;
      break;
    case SL_JSON_NUMBER:
      if (ev->numkind == SL_NUM_INT64) {
        v = val_add(n, row, node, VK_INT);
        if (v) v->n.i = ev->i64;
      } else if (ev->numkind == SL_NUM_BIGINT) {
        size_t digits = ev->len - (ev->len && (ev->str[0] == '-' || ev->str[0] == '+'));
        bool fits = digits <= (size_t)(n->schema->detect_large_integer ? NZ_WEI_PRECISION
                                                                         : NZ_DECIMAL_PRECISION - NZ_DECIMAL_SCALE);
        v = val_add(n, row, node, fits ? VK_BIGNUM : VK_STR);
        if (v && !(v->s = bump_copy(n, ev->str, ev->len))) return oom(n);
        if (v) v->len = (uint32_t)ev->len, v->num = !fits;
      } else if (!isfinite(ev->f64)) {
        /* Beyond double's range (1e400): Python would load inf, which is not
         * the value; like an integer too long for decimal it stays the
         * number's exact text. */
        v = val_add(n, row, node, VK_STR);
        if (v && !(v->s = bump_copy(n, ev->str, ev->len))) return oom(n);
        if (v) v->len = (uint32_t)ev->len, v->num = true;
      } else {
        v = val_add(n, row, node, VK_DBL);
        if (v) v->n.d = ev->f64;
      }
      break;
    default:
      return sl__nz_fail(n, SL_INTERNAL, "unexpected JSON event");
  }
  return v ? SL_OK : oom(n);
}

/* Whether a dict or list under node (at nesting level lvl) stays one json value. */
static bool keep_as_json(sl_normalizer *n, uint32_t node, int32_t lvl) {
  if (lvl <= 0) return true;
  int32_t c = sl__nz_col(n, node);
  if (c < 0) return false;
  const sl_column *col = &sl__nz_table(n, n->nodes[node].tnode)->columns[c];
  return !col->incomplete && col->type == SL_T_JSON;
}

static sl_status capture_start(sl_normalizer *n, uint32_t row, uint32_t node, char open) {
  n->cap_depth = 1;
  n->cap_row = row;
  n->cap_node = node;
  sl_buf_reset(&n->cap);
  return sl_buf_putc(&n->cap, open) ? oom(n) : SL_OK;
}

static sl_status capture_event(sl_normalizer *n, const sl_json_event *ev) {
  sl_buf *b = &n->cap;
  bool closing = ev->type == SL_JSON_OBJECT_END || ev->type == SL_JSON_ARRAY_END;
  if (!closing && b->len) {
    char last = b->data[b->len - 1];
    if (last != '[' && last != '{' && last != ':' && sl_buf_putc(b, ',')) return oom(n);
  }
  sl_status st = SL_OK;
  switch (ev->type) {
    case SL_JSON_NULL: st = sl_buf_append(b, "null", 4); break;
    case SL_JSON_TRUE: st = sl_buf_append(b, "true", 4); break;
    case SL_JSON_FALSE: st = sl_buf_append(b, "false", 5); break;
    case SL_JSON_NUMBER: st = sl_buf_append(b, ev->str, ev->len); break;
    case SL_JSON_STRING: st = sl_json_write_string(b, ev->str, ev->len); break;
    case SL_JSON_KEY:
      st = sl_json_write_string(b, ev->str, ev->len);
      if (!st) st = sl_buf_putc(b, ':');
      break;
    case SL_JSON_OBJECT_BEGIN: st = sl_buf_putc(b, '{'); n->cap_depth++; break;
    case SL_JSON_ARRAY_BEGIN: st = sl_buf_putc(b, '['); n->cap_depth++; break;
    case SL_JSON_OBJECT_END: st = sl_buf_putc(b, '}'); n->cap_depth--; break;
    case SL_JSON_ARRAY_END: st = sl_buf_putc(b, ']'); n->cap_depth--; break;
  }
  if (st) return st == SL_TOO_LARGE ? sl__nz_fail(n, st, "nested value too large") : oom(n);
  if (n->cap_depth == 0) {
    nz_val *v = val_add(n, n->cap_row, n->cap_node, VK_JSON);
    if (!v || !(v->s = bump_copy(n, b->data, b->len))) return oom(n);
    v->len = (uint32_t)b->len;
  }
  return SL_OK;
}

static sl_status record_done(sl_normalizer *n) {
  sl_status st = sl__nz_finish_record(n);
  n->nrows = n->nvals = n->nlists = 0;
  n->nframes = 0;
  n->in_record = false;
  sl_arena_reset(&n->rec);
  n->bump = NULL;
  n->bump_left = 0;
  if (n->nnodes > MAX_NODES || n->names.used > MAX_NAME_BYTES) nodes_flush(n);
  return st;
}

static sl_status ensure_root(sl_normalizer *n) {
  if (n->root_tnode != NZ_NONE) return SL_OK;
  if (!n->pk) return sl__nz_fail(n, SL_INVALID_ARG, "records before sl_normalizer_begin");
  n->root_tnode = root_table_node(n, n->pk[n->npk + 1]);
  return n->root_tnode == NZ_NONE ? oom(n) : SL_OK;
}

static sl_status on_event(sl_normalizer *n, const sl_json_event *ev) {
  sl_json_event e0;
  if (!ev->str && (ev->type == SL_JSON_KEY || ev->type == SL_JSON_STRING)) {
    e0 = *ev; /* an empty key or string may come without a pointer */
    e0.str = "";
    e0.len = 0;
    ev = &e0;
  }
  if (n->cap_depth) {
    sl_status st = capture_event(n, ev);
    if (st || n->cap_depth || n->nframes) return st;
    return record_done(n); /* a top-level list kept whole */
  }
  if (n->nframes == 0) {
    /* a new record */
    if (!n->in_resource) return sl__nz_fail(n, SL_INVALID_ARG, "records before sl_normalizer_begin");
    sl_status st = ensure_root(n);
    if (st) return st;
    n->in_record = true;
    n->stats.records++;
    uint32_t t = n->root_tnode;
    uint32_t r = row_new(n, ROW_ROOT, t, NZ_NONE, 0, NZ_NONE);
    if (r == NZ_NONE) return oom(n);
    int32_t L = n->max_nesting;
    if (ev->type == SL_JSON_OBJECT_BEGIN) {
      nz_frame *f = frame_push(n, F_ROW);
      if (!f) return oom(n);
      f->row = r;
      f->node = t;
      f->klvl = f->row_lvl = L;
      return SL_OK;
    }
    uint32_t vnode = sl__nz_sys(n, t, SYS_VALUE);
    if (vnode == NZ_NONE) return oom(n);
    if (ev->type == SL_JSON_ARRAY_BEGIN) {
      if (keep_as_json(n, vnode, L)) return capture_start(n, r, vnode, '[');
      uint32_t lt = list_table(n, vnode);
      uint32_t l = lt == NZ_NONE ? NZ_NONE : list_new(n, r, vnode, lt);
      nz_frame *f = l == NZ_NONE ? NULL : frame_push(n, F_LIST);
      if (!f) return oom(n);
      f->row = r;
      f->node = lt;
      f->row_lvl = L - 1;
      f->list = l;
      return SL_OK;
    }
    if (ev->type == SL_JSON_KEY || ev->type == SL_JSON_OBJECT_END || ev->type == SL_JSON_ARRAY_END)
      return sl__nz_fail(n, SL_INTERNAL, "unbalanced JSON events");
    st = scalar(n, r, vnode, ev);
    return st ? st : record_done(n);
  }

  nz_frame *f = &n->frames[n->nframes - 1];
  if (f->kind == F_LIST) {
    switch (ev->type) {
      case SL_JSON_ARRAY_END:
        n->nframes--;
        return n->nframes ? SL_OK : record_done(n);
      case SL_JSON_OBJECT_BEGIN: {
        uint32_t r = row_new(n, ROW_DICT, f->node, f->row, f->next_idx++, f->list);
        if (r == NZ_NONE) return oom(n);
        int32_t lvl = f->row_lvl;
        uint32_t tn = f->node;
        nz_frame *g = frame_push(n, F_ROW);
        if (!g) return oom(n);
        g->row = r;
        g->node = tn;
        g->klvl = g->row_lvl = lvl;
        return SL_OK;
      }
      case SL_JSON_ARRAY_BEGIN: {
        /* a list in a list: an intermediate row {"list": [...]} one level down */
        uint32_t tn = f->node;
        int32_t mlvl = f->row_lvl - 1;
        uint32_t r = row_new(n, ROW_LISTLIST, tn, f->row, f->next_idx++, f->list);
        uint32_t ln = r == NZ_NONE ? NZ_NONE : sl__nz_sys(n, tn, SYS_LIST);
        if (ln == NZ_NONE) return oom(n);
        if (keep_as_json(n, ln, mlvl)) return capture_start(n, r, ln, '[');
        uint32_t lt = list_table(n, ln);
        uint32_t l = lt == NZ_NONE ? NZ_NONE : list_new(n, r, ln, lt);
        nz_frame *g = l == NZ_NONE ? NULL : frame_push(n, F_LIST);
        if (!g) return oom(n);
        g->row = r;
        g->node = lt;
        g->row_lvl = mlvl - 1;
        g->list = l;
        return SL_OK;
      }
      case SL_JSON_KEY:
      case SL_JSON_OBJECT_END:
        return sl__nz_fail(n, SL_INTERNAL, "unbalanced JSON events");
      default: {
        uint32_t tn = f->node;
        uint32_t r = row_new(n, ROW_SCALAR, tn, f->row, f->next_idx++, f->list);
        uint32_t vn = r == NZ_NONE ? NZ_NONE : sl__nz_sys(n, tn, SYS_VALUE);
        if (vn == NZ_NONE) return oom(n);
        return scalar(n, r, vn, ev);
      }
    }
  }

  /* a row or a dict flattened into it */
  switch (ev->type) {
    case SL_JSON_KEY: {
      uint32_t parent = f->node, prev = f->key_node;
      uint32_t k = prev == NZ_NONE ? n->nodes[parent].first_key : n->nodes[prev].next_key;
      if (k != NZ_NONE) {
        const nz_node *x = &n->nodes[k];
        if (x->parent != parent || x->keylen != ev->len || !same_bytes(x->key, ev->str, ev->len)) k = NZ_NONE;
      }
      if (k == NZ_NONE) {
        k = sl__nz_field(n, parent, ev->str, ev->len);
        if (k == NZ_NONE) return oom(n);
        if (prev == NZ_NONE)
          n->nodes[parent].first_key = k;
        else
          n->nodes[prev].next_key = k;
      }
      nz_frame *cur = &n->frames[n->nframes - 1];
      cur->key_node = k;
      cur->dup = n->nodes[k].seen_in == cur->dict;
      n->nodes[k].seen_in = cur->dict;
      return SL_OK;
    }
    case SL_JSON_OBJECT_END:
      n->nframes--;
      return n->nframes ? SL_OK : record_done(n);
    case SL_JSON_ARRAY_END:
      return sl__nz_fail(n, SL_INTERNAL, "unbalanced JSON events");
    case SL_JSON_OBJECT_BEGIN: {
      uint32_t k = f->key_node, row = f->row;
      int32_t klvl = f->klvl, row_lvl = f->row_lvl;
      if (k == NZ_NONE) return sl__nz_fail(n, SL_INTERNAL, "value without a key");
      bool whole = keep_as_json(n, k, klvl);
      if (f->dup) forget_key(n, row, k, whole);
      if (whole) return capture_start(n, row, k, '{');
      nz_frame *g = frame_push(n, F_FLAT);
      if (!g) return oom(n);
      g->row = row;
      g->node = k;
      g->klvl = klvl - 1;
      g->row_lvl = row_lvl;
      return SL_OK;
    }
    case SL_JSON_ARRAY_BEGIN: {
      uint32_t k = f->key_node, row = f->row;
      int32_t klvl = f->klvl, row_lvl = f->row_lvl;
      if (k == NZ_NONE) return sl__nz_fail(n, SL_INTERNAL, "value without a key");
      bool whole = keep_as_json(n, k, klvl);
      if (f->dup) forget_key(n, row, k, whole);
      if (whole) return capture_start(n, row, k, '[');
      uint32_t lt = list_table(n, k);
      uint32_t l = lt == NZ_NONE ? NZ_NONE : list_new(n, row, k, lt);
      nz_frame *g = l == NZ_NONE ? NULL : frame_push(n, F_LIST);
      if (!g) return oom(n);
      g->row = row;
      g->node = lt;
      g->row_lvl = row_lvl - 1;
      g->list = l;
      return SL_OK;
    }
    default:
      if (f->key_node == NZ_NONE) return sl__nz_fail(n, SL_INTERNAL, "value without a key");
      if (f->dup) forget_key(n, f->row, f->key_node, true);
      return scalar(n, f->row, f->key_node, ev);
  }
}

/* ---- API ------------------------------------------------------------------------- */

sl_normalizer *sl_normalizer_new(sl_schema *schema, const char *load_id, sl_row_sink sink, sl_error *err) {
  if (!schema || !load_id || !sink.row) {
    sl_error_set(err, SL_INVALID_ARG, "sl_normalizer_new needs a schema, a load id and a sink");
    return NULL;
  }
  sl_normalizer *n = calloc(1, sizeof *n);
  if (!n || !(n->load_id = strdup(load_id))) {
    free(n);
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  n->load_id_len = strlen(load_id);
  n->schema = schema;
  n->sink = sink;
  n->root_tnode = NZ_NONE;
  sl_arena_init(&n->names, 64 * 1024, 0);
  sl_arena_init(&n->rec, 256 * 1024, 0);
  if (!ht_rehash(n, 1024)) {
    sl_normalizer_free(n);
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  return n;
}

static void free_pk(sl_normalizer *n) {
  if (!n->pk) return;
  for (size_t i = 0; i < n->npk + 2; i++) free(n->pk[i]);
  free(n->pk);
  n->pk = NULL;
  n->npk = 0;
}

void sl_normalizer_free(sl_normalizer *n) {
  if (!n) return;
  sl_json_parser_free(n->parser);
  sl_json_parser_free(n->validator);
  free_pk(n);
  free(n->load_id);
  free(n->nodes);
  free(n->ht);
  free(n->canon_ht);
  sl_arena_free(&n->names);
  sl_arena_free(&n->rec);
  sl_buf_free(&n->tmp);
  sl_buf_free(&n->tmp2);
  sl_buf_free(&n->path_buf);
  sl_buf_free(&n->cap);
  free(n->frames);
  free(n->rows);
  free(n->vals);
  free(n->lists);
  free(n->stamp);
  free(n->slot);
  free(n->pv);
  free(n->out);
  free(n->target);
  free(n->newcols);
  free(n->counters);
  free(n);
}

void sl_normalizer_set_id_mode(sl_normalizer *n, sl_id_mode mode) {
  if (n) n->id_mode = mode;
}

static sl_status ret_err(sl_normalizer *n, sl_status st, sl_error *err) {
  if (err && st) *err = n->err;
  return st;
}

static bool hint_bool(const sl_value *o, const char *k, bool *out) {
  const sl_value *v = sl_v_get(o, k);
  if (!v || v->type != SL_V_BOOL) return false;
  *out = v->u.b;
  return true;
}

/* A column from the resource's hints: complete when it names a data_type. */
static int hint_column(sl_normalizer *n, sl_table *t, const char *raw, const char *type_name) {
  sl_schema *s = n->schema;
  if (sl_name_normalize_path(raw, strlen(raw), s->max_identifier_len, &n->tmp)) {
    sl__nz_fail(n, SL_NOMEM, "out of memory");
    return -1;
  }
  int c = sl_table_find_column(t, n->tmp.data, n->tmp.len);
  int dt = type_name ? sl_dtype_parse(type_name) : -1;
  if (type_name && dt < 0) {
    sl__nz_fail(n, SL_SCHEMA, "unknown data_type '%s' in the hints of column '%s'", type_name, raw);
    sl_error_where(&n->err, t->name, n->tmp.data);
    return -1;
  }
  if (c < 0) {
    c = dt >= 0 ? sl_table_add_column(s, t, n->tmp.data, (sl_dtype)dt, &n->err)
                : sl_table_add_incomplete_column(s, t, n->tmp.data, &n->err);
  } else if (dt >= 0 && t->columns[c].incomplete) {
    t->columns[c].incomplete = false;
    t->columns[c].seen_null_first = false;
    t->columns[c].type = (sl_dtype)dt;
    sl_schema_touch(s);
  }
  return c;
}

static sl_status apply_hints(sl_normalizer *n, sl_table *t, const sl_resource_hints *h) {
  sl_schema *s = n->schema;
  const sl_value *cols = h->columns;
  for (size_t i = 0; cols && cols->type == SL_V_OBJECT && i < cols->u.obj.len; i++) {
    const sl_member *m = &cols->u.obj.items[i];
    const sl_value *cv = m->val;
    const char *raw = sl_v_str(sl_v_get(cv, "name"), m->key);
    int c = hint_column(n, t, raw, sl_v_str(sl_v_get(cv, "data_type"), NULL));
    if (c < 0) return n->err.code ? n->err.code : SL_SCHEMA;
    sl_column *col = &t->columns[c];
    bool b;
    if (hint_bool(cv, "nullable", &b)) col->nullable = b;
    if (hint_bool(cv, "primary_key", &b) && (col->primary_key = b)) col->nullable = false;
    if (hint_bool(cv, "merge_key", &b) && (col->merge_key = b)) col->nullable = false;
    if (hint_bool(cv, "unique", &b)) col->unique = b;
    if (hint_bool(cv, "hard_delete", &b)) col->hard_delete = b;
    const sl_value *ds = sl_v_get(cv, "dedup_sort");
    if (ds) col->dedup_sort = !strcmp(sl_v_str(ds, "asc"), "desc") ? -1 : 1;
    const sl_value *p = sl_v_get(cv, "precision");
    if (p) col->precision = (int)sl_v_int_or(p, 0);
    if ((p = sl_v_get(cv, "scale"))) col->scale = (int)sl_v_int_or(p, 0);
    sl_schema_touch(s);
  }
  for (int k = 0; k < 2; k++) {
    const char **keys = k == 0 ? h->primary_key : h->merge_key;
    for (size_t i = 0; keys && keys[i]; i++) {
      int c = hint_column(n, t, keys[i], NULL);
      if (c < 0) return n->err.code ? n->err.code : SL_SCHEMA;
      if (k == 0) t->columns[c].primary_key = true;
      else t->columns[c].merge_key = true;
      t->columns[c].nullable = false;
      sl_schema_touch(s);
    }
  }
  if (h->hard_delete_column) {
    int c = hint_column(n, t, h->hard_delete_column, NULL);
    if (c < 0) return n->err.code ? n->err.code : SL_SCHEMA;
    t->columns[c].hard_delete = true;
    sl_schema_touch(s);
  }
  if (h->dedup_sort_column) {
    int c = hint_column(n, t, h->dedup_sort_column, NULL);
    if (c < 0) return n->err.code ? n->err.code : SL_SCHEMA;
    t->columns[c].dedup_sort = h->dedup_sort_order < 0 ? -1 : 1;
    sl_schema_touch(s);
  }
  return SL_OK;
}

static bool set_str(char **dst, const char *src) {
  if ((!*dst && !src) || (*dst && src && !strcmp(*dst, src))) return false;
  free(*dst);
  *dst = src ? strdup(src) : NULL;
  return true;
}

sl_status sl_normalizer_begin(sl_normalizer *n, const sl_resource_hints *h, sl_error *err) {
  if (!n || !h || !h->resource || !*h->resource)
    return sl_error_set(err, SL_INVALID_ARG, "sl_normalizer_begin needs a resource name");
  sl_error_clear(&n->err);
  if (n->in_record || n->nframes || n->cap_depth)
    return ret_err(n, sl__nz_fail(n, SL_INVALID_ARG, "the previous resource ended inside a record"), err);
  sl_schema *s = n->schema;
  const char *tname = h->table_name && *h->table_name ? h->table_name : h->resource;
  if (sl_name_normalize(tname, strlen(tname), s->max_identifier_len, &n->tmp)) return ret_err(n, oom(n), err);
  free_pk(n);
  size_t npk = 0;
  while (h->primary_key && h->primary_key[npk]) npk++;
  /* pk names, then NULL, then the root table name (kept for re-creating the root node) */
  n->pk = calloc(npk + 2, sizeof *n->pk);
  if (!n->pk || !(n->pk[npk + 1] = strdup(n->tmp.data))) return ret_err(n, oom(n), err);
  n->npk = npk;
  for (size_t i = 0; i < npk; i++) {
    if (sl_name_normalize_path(h->primary_key[i], strlen(h->primary_key[i]), s->max_identifier_len, &n->tmp) ||
        !(n->pk[i] = strdup(n->tmp.data)))
      return ret_err(n, oom(n), err);
  }
  sl_table *t = sl_schema_add_table(s, n->pk[npk + 1], NULL, &n->err);
  if (!t) return ret_err(n, n->err.code ? n->err.code : SL_SCHEMA, err);
  if (t->parent) {
    sl__nz_fail(n, SL_SCHEMA, "table '%s' of resource '%s' is a child table of '%s'", t->name, h->resource,
                t->parent);
    return ret_err(n, SL_SCHEMA, err);
  }
  bool changed = set_str(&t->resource, h->resource);
  if (h->table_format) changed |= set_str(&t->table_format, h->table_format);
  if (t->write_disposition != h->write_disposition || t->merge_strategy != h->merge_strategy) {
    t->write_disposition = h->write_disposition;
    t->merge_strategy = h->merge_strategy;
    /* children inherit the root's disposition */
    sl_table **desc = malloc(sizeof *desc * (s->ntables + 1));
    if (!desc) return ret_err(n, oom(n), err);
    size_t nd = sl_schema_descendants(s, t, desc, s->ntables);
    for (size_t i = 0; i < nd; i++) {
      desc[i]->write_disposition = h->write_disposition;
      desc[i]->merge_strategy = h->merge_strategy;
    }
    free(desc);
    changed = true;
  }
  if (h->contract && (!t->has_contract || memcmp(&t->contract, h->contract, sizeof t->contract))) {
    t->contract = *h->contract;
    t->has_contract = true;
    changed = true;
  }
  if (h->max_table_nesting >= 0 && t->max_table_nesting != h->max_table_nesting) {
    t->max_table_nesting = h->max_table_nesting;
    changed = true;
  }
  if (changed) sl_schema_touch(s);
  sl_status st = apply_hints(n, t, h);
  if (st) return ret_err(n, st, err);
  n->max_nesting = h->max_table_nesting >= 0   ? h->max_table_nesting
                   : t->max_table_nesting >= 0 ? t->max_table_nesting
                                               : s->max_table_nesting;
  n->propagate_root_id = h->write_disposition == SL_WD_MERGE || h->root_id;
  n->upsert = h->write_disposition == SL_WD_MERGE && h->merge_strategy == SL_MERGE_UPSERT;
  n->root_tnode = NZ_NONE;
  st = ensure_root(n);
  if (st) return ret_err(n, st, err);
  if (n->parser) sl_json_parser_reset(n->parser);
  n->in_resource = true;
  n->st = SL_OK;
  return SL_OK;
}

static int json_cb(void *ud, const sl_json_event *ev) {
  sl_normalizer *n = ud;
  sl_status st = on_event(n, ev);
  if (st) {
    n->st = st;
    if (!n->err.line) sl_error_at(&n->err, n->err.file, (int)ev->line, (int)ev->col, ev->offset);
    return 1;
  }
  return 0;
}

sl_status sl_normalizer_feed(sl_normalizer *n, const char *bytes, size_t len, sl_error *err) {
  if (!n) return sl_error_set(err, SL_INVALID_ARG, "no normalizer");
  if (n->st) return ret_err(n, n->st, err);
  if (!n->in_resource) return ret_err(n, sl__nz_fail(n, SL_INVALID_ARG, "feed before sl_normalizer_begin"), err);
  if (!n->parser) {
    sl_json_options o = {.multi = true};
    n->parser = sl_json_parser_new(&o, json_cb, n);
    if (!n->parser) return ret_err(n, oom(n), err);
  }
  n->stats.bytes += len;
  sl_error perr;
  sl_error_clear(&perr);
  sl_status st = sl_json_feed(n->parser, bytes, len, &perr);
  if (st == SL_ABORTED && n->st)
    st = n->st; /* our own error, located at the event by json_cb */
  else if (st)
    n->err = perr;
  n->st = st;
  return ret_err(n, st, err);
}

sl_status sl_normalizer_event(sl_normalizer *n, const sl_json_event *ev, sl_error *err) {
  if (!n || !ev) return sl_error_set(err, SL_INVALID_ARG, "no normalizer or event");
  if (n->st) return ret_err(n, n->st, err);
  sl_status st = on_event(n, ev);
  if (st) {
    if (!n->err.line) sl_error_at(&n->err, n->err.file, (int)ev->line, (int)ev->col, ev->offset);
    n->st = st;
  }
  return ret_err(n, st, err);
}

sl_status sl_normalizer_end(sl_normalizer *n, sl_error *err) {
  if (!n) return sl_error_set(err, SL_INVALID_ARG, "no normalizer");
  if (n->st) return ret_err(n, n->st, err);
  sl_status st = SL_OK;
  if (n->parser) {
    sl_error perr;
    sl_error_clear(&perr);
    st = sl_json_finish(n->parser, &perr);
    if (st == SL_ABORTED && n->st)
      st = n->st;
    else if (st)
      n->err = perr;
    sl_json_parser_reset(n->parser);
  }
  if (!st && (n->nframes || n->cap_depth))
    st = sl__nz_fail(n, SL_JSON_SYNTAX, "the input ended inside a record");
  n->in_resource = false;
  n->st = st;
  return ret_err(n, st, err);
}

const sl_normalize_stats *sl_normalizer_stats(const sl_normalizer *n) { return n ? &n->stats : NULL; }

const char *sl_normalizer_root_table(const sl_normalizer *n) {
  return n && n->pk ? n->pk[n->npk + 1] : NULL;
}

size_t sl_normalizer_table_rows(const sl_normalizer *n, const char **names, uint64_t *counts, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; n && i < n->ncounters && k < cap; i++, k++) {
    if (names) names[k] = n->counters[i].table->name;
    if (counts) counts[k] = n->counters[i].rows;
  }
  return k;
}
