/* YAML reader: libyaml's event stream folded into the shared document tree
 * with an explicit stack (no recursion on input depth), core-schema typing,
 * anchors and aliases expanded by deep copy under a node budget, and merge
 * keys ("<<") applied when their mapping closes. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "sluice/log.h"
#include "sluice/yaml.h"
#include "yaml/yaml_int.h"

#define DEFAULT_MAX_ALIAS_NODES 100000
#define DEFAULT_MAX_DEPTH 512

typedef struct anchor {
  char *name; /* malloc'd; NULL marks an empty slot */
  sl_value *v;
  const char *raw; /* the scalar's text, for an alias used as a mapping key */
  size_t raw_len;
  size_t nodes; /* values in the anchored subtree, expansions included */
  size_t bytes; /* bytes of strings, numbers and keys in it */
} anchor;

typedef struct frame {
  sl_value *v;
  char *anchor;         /* malloc'd; registered when the collection closes */
  size_t nodes;         /* values in this subtree so far, itself included */
  size_t bytes;         /* bytes of its strings, numbers and keys */
  size_t key_off;       /* pending key text in ctx->keys */
  size_t key_len;
  bool have_key, key_merge;
  size_t merge_base;    /* this mapping's "<<" values: ctx->merges[merge_base..] */
  size_t pos_base;      /* key positions of its members: ctx->keypos[pos_base..] */
  uint32_t key_line, key_col;
} frame;

typedef struct keypos {
  uint32_t line, col;
} keypos;

typedef struct candidate {
  sl_member m;
  size_t seq;  /* position in the combined (merged, then own) list */
  bool own;    /* written in this mapping, not merged in */
  bool drop;
} candidate;

typedef struct ctx {
  sl_doc *doc;
  sl_error *err;
  const char *text;
  size_t len;
  size_t max_alias_nodes, alias_nodes;
  size_t max_alias_bytes, alias_bytes;
  unsigned max_depth;
  frame *stack;
  size_t depth, stack_cap;
  sl_buf keys; /* pending keys of open mappings, innermost last */
  sl_value **merges;
  size_t nmerges, merges_cap;
  keypos *keypos;
  size_t nkeypos, keypos_cap;
  anchor *anchors; /* open addressing, power-of-two size */
  size_t nanchors, anchors_cap;
  candidate *cands; /* scratch for closing a mapping */
  candidate **order;
  size_t cands_cap;
} ctx;

/* ---- errors ----------------------------------------------------------------- */

static sl_status fail_at(ctx *c, sl_status code, yaml_mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sl_status fail_at(ctx *c, sl_status code, yaml_mark_t mark, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sl_error_set(c->err, code, "%s", msg);
  int64_t offset = mark.index == SIZE_MAX ? -1 : (int64_t)mark.index; /* SIZE_MAX: unknown */
  sl_error_at(c->err, c->doc->name, (int)mark.line + 1, (int)mark.column + 1, offset);
  return code;
}

/* 1-based line and column (in characters) of a byte offset, for reader errors
 * that come with an offset but no mark. */
static yaml_mark_t mark_of_offset(const ctx *c, size_t off) {
  yaml_mark_t m = {0, 0, 0};
  if (off > c->len) off = c->len;
  m.index = off;
  for (size_t i = 0; i < off; i++) {
    unsigned char ch = (unsigned char)c->text[i];
    if (ch == '\n') {
      m.line++;
      m.column = 0;
    } else if ((ch & 0xC0) != 0x80) {
      m.column++;
    }
  }
  return m;
}

static sl_status fail_libyaml(ctx *c, const yaml_parser_t *p) {
  if (p->error == YAML_MEMORY_ERROR) return sl_error_set(c->err, SL_NOMEM, "out of memory while reading YAML");
  const char *problem = p->problem ? p->problem : "syntax error";
  if (p->error == YAML_READER_ERROR) {
    yaml_mark_t m = mark_of_offset(c, p->problem_offset);
    if (p->problem_value != -1)
      return fail_at(c, SL_YAML_SYNTAX, m, "%s (#%X)", problem, (unsigned)p->problem_value);
    return fail_at(c, SL_YAML_SYNTAX, m, "%s", problem);
  }
  /* At the end of the stream libyaml moves its mark to a line of its own;
   * point at the real end of the text instead. */
  yaml_mark_t at = p->problem_mark.index >= c->len ? mark_of_offset(c, c->len) : p->problem_mark;
  if (p->context)
    return fail_at(c, SL_YAML_SYNTAX, at, "%s (%s at line %zu, column %zu)", problem,
                   p->context, p->context_mark.line + 1, p->context_mark.column + 1);
  return fail_at(c, SL_YAML_SYNTAX, at, "%s", problem);
}

/* ---- growable scratch vectors (malloc'd, freed with the ctx) ---------------- */

static bool reserve(void **items, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return true;
  size_t ncap = *cap ? *cap : 16;
  while (ncap < need) ncap *= 2;
  void *p = realloc(*items, ncap * elem);
  if (!p) return false;
  *items = p;
  *cap = ncap;
  return true;
}

/* ---- anchors ---------------------------------------------------------------- */

static size_t hash_name(const char *s) {
  size_t h = 1469598103934665603u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

static anchor *anchor_slot(anchor *tab, size_t cap, const char *name) {
  size_t i = hash_name(name) & (cap - 1);
  while (tab[i].name && strcmp(tab[i].name, name) != 0) i = (i + 1) & (cap - 1);
  return &tab[i];
}

static anchor *anchor_find(const ctx *c, const char *name) {
  if (!c->anchors_cap) return NULL;
  anchor *a = anchor_slot(c->anchors, c->anchors_cap, name);
  return a->name ? a : NULL;
}

/* Define (or redefine: a later anchor of the same name wins) an anchor. */
static sl_status anchor_define(ctx *c, const char *name, sl_value *v, const char *raw, size_t raw_len,
                               size_t nodes, size_t bytes) {
  if ((c->nanchors + 1) * 2 > c->anchors_cap) {
    size_t ncap = c->anchors_cap ? c->anchors_cap * 2 : 32;
    anchor *tab = calloc(ncap, sizeof *tab);
    if (!tab) return sl_error_set(c->err, SL_NOMEM, "out of memory");
    for (size_t i = 0; i < c->anchors_cap; i++)
      if (c->anchors[i].name) *anchor_slot(tab, ncap, c->anchors[i].name) = c->anchors[i];
    free(c->anchors);
    c->anchors = tab;
    c->anchors_cap = ncap;
  }
  anchor *a = anchor_slot(c->anchors, c->anchors_cap, name);
  if (!a->name) {
    a->name = strdup(name);
    if (!a->name) return sl_error_set(c->err, SL_NOMEM, "out of memory");
    c->nanchors++;
  }
  a->v = v;
  a->raw = raw;
  a->raw_len = raw_len;
  a->nodes = nodes;
  a->bytes = bytes;
  return SL_OK;
}

/* ---- building the tree ------------------------------------------------------ */

static frame *top(ctx *c) { return c->depth ? &c->stack[c->depth - 1] : NULL; }

static bool expecting_key(ctx *c) {
  frame *f = top(c);
  return f && f->v->type == SL_V_OBJECT && !f->have_key;
}

static sl_status set_key(ctx *c, const char *text, size_t len, bool merge, yaml_mark_t mark) {
  frame *f = top(c);
  f->key_off = c->keys.len;
  f->key_len = len;
  f->have_key = true;
  f->key_merge = merge;
  f->key_line = (uint32_t)mark.line + 1;
  f->key_col = (uint32_t)mark.column + 1;
  if (sl_buf_append(&c->keys, text, len) != SL_OK) return sl_error_set(c->err, SL_NOMEM, "out of memory");
  return SL_OK;
}

/* Attach a finished value (with `nodes` values and `bytes` bytes of text in
 * its subtree) to the open collection, or make it the document's root. */
static sl_status deliver(ctx *c, sl_value *v, size_t nodes, size_t bytes) {
  frame *f = top(c);
  if (!f) {
    if (!c->doc->root) c->doc->root = v;
    return SL_OK;
  }
  f->nodes += nodes;
  f->bytes += bytes;
  if (f->v->type == SL_V_ARRAY) {
    if (sl_v_push(c->doc, f->v, v) != SL_OK) return sl_error_set(c->err, SL_NOMEM, "out of memory");
    return SL_OK;
  }
  sl_status st = SL_OK;
  if (f->key_merge) {
    bool ok = v->type == SL_V_OBJECT;
    if (v->type == SL_V_ARRAY) {
      ok = true;
      for (size_t i = 0; i < v->u.arr.len; i++)
        if (v->u.arr.items[i]->type != SL_V_OBJECT) ok = false;
    }
    if (!ok) {
      yaml_mark_t at = {SIZE_MAX, v->line - 1, v->col - 1};
      return fail_at(c, SL_YAML_SYNTAX, at,
                     "the merge key '<<' needs a mapping or a sequence of mappings, not %s",
                     sl_vtype_name(v->type));
    }
    if (!reserve((void **)&c->merges, &c->merges_cap, c->nmerges + 1, sizeof *c->merges))
      return sl_error_set(c->err, SL_NOMEM, "out of memory");
    c->merges[c->nmerges++] = v;
  } else {
    f->bytes += f->key_len;
    if (!reserve((void **)&c->keypos, &c->keypos_cap, c->nkeypos + 1, sizeof *c->keypos))
      return sl_error_set(c->err, SL_NOMEM, "out of memory");
    c->keypos[c->nkeypos++] = (keypos){f->key_line, f->key_col};
    const char *key = c->keys.data ? c->keys.data + f->key_off : "";
    if (sl_v_set(c->doc, f->v, key, f->key_len, v) != SL_OK)
      st = sl_error_set(c->err, SL_NOMEM, "out of memory");
  }
  c->keys.len = f->key_off;
  if (c->keys.data) c->keys.data[c->keys.len] = '\0';
  f->have_key = false;
  f->key_merge = false;
  return st;
}

static bool is_tag(const yaml_char_t *tag, const char *name) {
  return tag && strcmp((const char *)tag, name) == 0;
}

static sl_status on_scalar(ctx *c, const yaml_event_t *ev) {
  const char *text = (const char *)ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  const yaml_char_t *tag = ev->data.scalar.tag;
  const char *anchor_name = (const char *)ev->data.scalar.anchor;
  /* Only untagged plain scalars (or ones tagged with a core type) are
   * resolved; quoted ones, "!" and !!str are strings. */
  bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
  bool resolve = plain ? (!tag || (!is_tag(tag, "!") && !is_tag(tag, YAML_STR_TAG)))
                       : (is_tag(tag, YAML_NULL_TAG) || is_tag(tag, YAML_BOOL_TAG) ||
                          is_tag(tag, YAML_INT_TAG) || is_tag(tag, YAML_FLOAT_TAG));
  yaml_mark_t mark = ev->start_mark;
  bool as_key = expecting_key(c);
  if (as_key) {
    sl_status st = set_key(c, text, len, plain && !tag && len == 2 && memcmp(text, "<<", 2) == 0, mark);
    if (st != SL_OK || !anchor_name) return st;
  }
  sl_value *v = resolve ? sl__yaml_plain_value(c->doc, text, len) : sl_v_string(c->doc, text, len);
  if (!v) return sl_error_set(c->err, SL_NOMEM, "out of memory");
  v->line = (uint32_t)mark.line + 1;
  v->col = (uint32_t)mark.column + 1;
  if (anchor_name) {
    const char *raw = v->type == SL_V_STRING ? v->u.s.ptr : sl_arena_strndup(&c->doc->arena, text, len);
    if (!raw) return sl_error_set(c->err, SL_NOMEM, "out of memory");
    sl_status st = anchor_define(c, anchor_name, v, raw, len, 1, len);
    if (st != SL_OK) return st;
  }
  return as_key ? SL_OK : deliver(c, v, 1, len);
}

static sl_status on_alias(ctx *c, const yaml_event_t *ev) {
  const char *name = (const char *)ev->data.alias.anchor;
  yaml_mark_t mark = ev->start_mark;
  anchor *a = anchor_find(c, name);
  if (!a) {
    for (size_t i = 0; i < c->depth; i++)
      if (c->stack[i].anchor && strcmp(c->stack[i].anchor, name) == 0)
        return fail_at(c, SL_YAML_SYNTAX, mark, "alias *%s refers to a collection that contains it",
                       name);
    return fail_at(c, SL_YAML_SYNTAX, mark, "alias *%s refers to an unknown anchor", name);
  }
  if (expecting_key(c)) {
    if (a->v->type == SL_V_ARRAY || a->v->type == SL_V_OBJECT)
      return fail_at(c, SL_YAML_SYNTAX, mark, "alias *%s names a collection, which cannot be a mapping key",
                     name);
    return set_key(c, a->raw, a->raw_len, false, mark);
  }
  if (a->nodes > c->max_alias_nodes - c->alias_nodes)
    return fail_at(c, SL_YAML_ALIAS, mark,
                   "alias *%s would expand to %zu more values; aliases may create at most %zu values "
                   "in one document (already %zu)",
                   name, a->nodes, c->max_alias_nodes, c->alias_nodes);
  if (a->bytes > c->max_alias_bytes - c->alias_bytes)
    return fail_at(c, SL_YAML_ALIAS, mark,
                   "alias *%s would copy %zu more bytes of text; aliases may copy at most %zu bytes "
                   "in one document (already %zu)",
                   name, a->bytes, c->max_alias_bytes, c->alias_bytes);
  c->alias_nodes += a->nodes;
  c->alias_bytes += a->bytes;
  sl_value *v = sl_v_clone(c->doc, a->v);
  if (!v) return sl_error_set(c->err, SL_NOMEM, "out of memory");
  v->line = (uint32_t)mark.line + 1;
  v->col = (uint32_t)mark.column + 1;
  return deliver(c, v, a->nodes, a->bytes);
}

static sl_status on_start(ctx *c, const yaml_event_t *ev, bool mapping) {
  yaml_mark_t mark = ev->start_mark;
  if (expecting_key(c))
    return fail_at(c, SL_YAML_SYNTAX, mark, "a %s as a mapping key is not supported",
                   mapping ? "mapping" : "sequence");
  if (c->depth >= c->max_depth)
    return fail_at(c, SL_YAML_SYNTAX, mark, "collections nest deeper than the limit of %u levels",
                   c->max_depth);
  if (!reserve((void **)&c->stack, &c->stack_cap, c->depth + 1, sizeof *c->stack))
    return sl_error_set(c->err, SL_NOMEM, "out of memory");
  sl_value *v = mapping ? sl_v_object(c->doc) : sl_v_array(c->doc);
  if (!v) return sl_error_set(c->err, SL_NOMEM, "out of memory");
  v->line = (uint32_t)mark.line + 1;
  v->col = (uint32_t)mark.column + 1;
  const yaml_char_t *name = mapping ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
  frame f = {.v = v, .nodes = 1, .merge_base = c->nmerges, .pos_base = c->nkeypos};
  if (name && !(f.anchor = strdup((const char *)name))) return sl_error_set(c->err, SL_NOMEM, "out of memory");
  c->stack[c->depth++] = f;
  return SL_OK;
}

static int cmp_candidate(const void *pa, const void *pb) {
  const candidate *a = *(candidate *const *)pa, *b = *(candidate *const *)pb;
  size_t n = a->m.key_len < b->m.key_len ? a->m.key_len : b->m.key_len;
  int r = memcmp(a->m.key, b->m.key, n);
  if (r) return r;
  if (a->m.key_len != b->m.key_len) return a->m.key_len < b->m.key_len ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static size_t merged_members(sl_value *const *srcs, size_t nsrc) {
  size_t n = 0;
  for (size_t i = 0; i < nsrc; i++) {
    if (srcs[i]->type == SL_V_OBJECT) {
      n += srcs[i]->u.obj.len;
    } else {
      for (size_t k = 0; k < srcs[i]->u.arr.len; k++) n += srcs[i]->u.arr.items[k]->u.obj.len;
    }
  }
  return n;
}

/* Lists a source mapping's members, lowest precedence first. */
static void add_source(candidate *cands, size_t *n, const sl_value *obj) {
  for (size_t i = 0; i < obj->u.obj.len; i++) {
    cands[*n] = (candidate){.m = obj->u.obj.items[i], .seq = *n};
    (*n)++;
  }
}

/* Close a mapping: apply its merge keys and resolve duplicate keys. Explicit
 * keys beat merged ones, and among merged mappings the earlier one wins (as
 * in YAML 1.1's merge type); duplicate explicit keys keep the last value,
 * with a warning. Merged keys come first, then the mapping's own. */
static sl_status close_mapping(ctx *c, frame *f) {
  sl_value *obj = f->v;
  size_t nsrc = c->nmerges - f->merge_base;
  sl_value **srcs = nsrc ? c->merges + f->merge_base : NULL;
  size_t own = obj->u.obj.len;
  if (nsrc == 0 && own < 2) return SL_OK;
  size_t total = own + merged_members(srcs, nsrc);
  if (!reserve((void **)&c->cands, &c->cands_cap, total, sizeof *c->cands)) goto nomem;
  candidate **order = realloc(c->order, c->cands_cap * sizeof *order);
  if (!order) goto nomem;
  c->order = order;
  size_t n = 0;
  for (size_t s = nsrc; s > 0; s--) {
    const sl_value *src = srcs[s - 1];
    if (src->type == SL_V_OBJECT) {
      add_source(c->cands, &n, src);
    } else {
      for (size_t k = src->u.arr.len; k > 0; k--) add_source(c->cands, &n, src->u.arr.items[k - 1]);
    }
  }
  size_t first_own = n;
  for (size_t i = 0; i < own; i++) {
    c->cands[n] = (candidate){.m = obj->u.obj.items[i], .seq = n, .own = true};
    n++;
  }
  for (size_t i = 0; i < n; i++) c->order[i] = &c->cands[i];
  qsort(c->order, n, sizeof *c->order, cmp_candidate);
  size_t dropped = 0;
  for (size_t i = 0; i + 1 < n; i++) {
    candidate *a = c->order[i], *b = c->order[i + 1];
    if (a->m.key_len != b->m.key_len || memcmp(a->m.key, b->m.key, a->m.key_len) != 0) continue;
    a->drop = true; /* b comes later in the combined list, so it wins */
    dropped++;
    if (a->own && b->own) {
      const keypos *pa = &c->keypos[f->pos_base + (a->seq - first_own)];
      const keypos *pb = &c->keypos[f->pos_base + (b->seq - first_own)];
      SL_WARN("%s:%u:%u: duplicate key '%s' (also at line %u); the last value is used", c->doc->name,
              pb->line, pb->col, b->m.key, pa->line);
    }
  }
  if (dropped == 0 && nsrc == 0) return SL_OK;
  size_t keep = n - dropped;
  sl_member *items = keep ? sl_arena_alloc(&c->doc->arena, keep * sizeof *items) : NULL;
  if (keep && !items) goto nomem;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!c->cands[i].drop) items[k++] = c->cands[i].m;
  obj->u.obj.items = items;
  obj->u.obj.len = obj->u.obj.cap = keep;
  return SL_OK;
nomem:
  return sl_error_set(c->err, SL_NOMEM, "out of memory");
}

static sl_status on_end(ctx *c) {
  frame f = c->stack[--c->depth];
  sl_status st = SL_OK;
  if (f.v->type == SL_V_OBJECT) st = close_mapping(c, &f);
  c->nmerges = f.merge_base;
  c->nkeypos = f.pos_base;
  if (st == SL_OK && f.anchor) st = anchor_define(c, f.anchor, f.v, NULL, 0, f.nodes, f.bytes);
  free(f.anchor);
  return st == SL_OK ? deliver(c, f.v, f.nodes, f.bytes) : st;
}

static void ctx_free(ctx *c) {
  for (size_t i = 0; i < c->depth; i++) free(c->stack[i].anchor);
  free(c->stack);
  sl_buf_free(&c->keys);
  free(c->merges);
  free(c->keypos);
  for (size_t i = 0; i < c->anchors_cap; i++) free(c->anchors[i].name);
  free(c->anchors);
  free(c->cands);
  free(c->order);
}

sl_doc *sl_yaml_parse(const char *text, size_t len, const char *name, const sl_yaml_options *opts,
                      sl_error *err) {
  sl_error_clear(err);
  ctx c = {.err = err, .text = text, .len = len};
  c.max_alias_nodes = opts && opts->max_alias_nodes ? opts->max_alias_nodes : DEFAULT_MAX_ALIAS_NODES;
  c.max_depth = opts && opts->max_depth ? opts->max_depth : DEFAULT_MAX_DEPTH;
  c.max_alias_bytes = c.max_alias_nodes > SIZE_MAX / 64 ? SIZE_MAX : c.max_alias_nodes * 64;
  c.doc = sl_doc_new(name);
  if (!c.doc) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    sl_doc_free(c.doc);
    return NULL;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""), text ? len : 0);
  sl_status st = SL_OK;
  bool done = false;
  while (st == SL_OK && !done) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&parser, &ev)) {
      st = fail_libyaml(&c, &parser);
      break;
    }
    switch (ev.type) {
      case YAML_SCALAR_EVENT:
        st = on_scalar(&c, &ev);
        break;
      case YAML_ALIAS_EVENT:
        st = on_alias(&c, &ev);
        break;
      case YAML_SEQUENCE_START_EVENT:
        st = on_start(&c, &ev, false);
        break;
      case YAML_MAPPING_START_EVENT:
        st = on_start(&c, &ev, true);
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        st = on_end(&c);
        break;
      case YAML_DOCUMENT_END_EVENT: /* only the first document is read */
      case YAML_STREAM_END_EVENT:
        done = true;
        break;
      default:
        break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&parser);
  ctx_free(&c);
  if (st == SL_OK && !c.doc->root) { /* an empty stream is a null document */
    c.doc->root = sl_v_null(c.doc);
    if (c.doc->root) c.doc->root->line = c.doc->root->col = 1;
    else st = sl_error_set(err, SL_NOMEM, "out of memory");
  }
  if (st != SL_OK) {
    sl_doc_free(c.doc);
    return NULL;
  }
  return c.doc;
}

sl_doc *sl_yaml_parse_file(const char *path, const sl_yaml_options *opts, sl_error *err) {
  sl_error_clear(err);
  FILE *f = fopen(path, "rb");
  if (!f) {
    sl_status code = (errno == ENOENT || errno == ENOTDIR) ? SL_NOT_FOUND : SL_IO;
    sl_error_set(err, code, "cannot open %s: %s", path, strerror(errno));
    sl_error_at(err, path, 0, 0, -1);
    return NULL;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    sl_error_set(err, SL_IO, "cannot read %s: not a regular file", path);
    sl_error_at(err, path, 0, 0, -1);
    fclose(f);
    return NULL;
  }
  if ((uint64_t)st.st_size > SL_YAML_MAX_FILE) {
    sl_error_set(err, SL_TOO_LARGE, "%s is %lld bytes; YAML files may be at most %zu bytes", path,
                 (long long)st.st_size, (size_t)SL_YAML_MAX_FILE);
    sl_error_at(err, path, 0, 0, -1);
    fclose(f);
    return NULL;
  }
  size_t size = (size_t)st.st_size;
  char *buf = malloc(size + 1);
  if (!buf) {
    fclose(f);
    sl_error_set(err, SL_NOMEM, "out of memory reading %s", path);
    return NULL;
  }
  size_t got = fread(buf, 1, size, f);
  bool bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    sl_error_set(err, SL_IO, "cannot read %s: %s", path, strerror(errno));
    sl_error_at(err, path, 0, 0, -1);
    return NULL;
  }
  sl_doc *doc = sl_yaml_parse(buf, got, path, opts, err);
  free(buf);
  return doc;
}
