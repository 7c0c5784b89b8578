/* The document tree: constructors, accessors, clone and equality
 * (serialization to JSON lives in src/json/). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/value.h"

sl_doc *sl_doc_new(const char *name) {
  sl_doc *doc = calloc(1, sizeof *doc);
  if (!doc) return NULL;
  sl_arena_init(&doc->arena, 64 * 1024, 0);
  doc->name = strdup(name ? name : "<string>");
  if (!doc->name) {
    free(doc);
    return NULL;
  }
  return doc;
}

void sl_doc_free(sl_doc *doc) {
  if (!doc) return;
  sl_arena_free(&doc->arena);
  free(doc->name);
  free(doc);
}

static sl_value *new_value(sl_doc *doc, sl_vtype t) {
  sl_value *v = sl_arena_calloc(&doc->arena, sizeof *v);
  if (v) v->type = t;
  return v;
}

sl_value *sl_v_null(sl_doc *doc) { return new_value(doc, SL_V_NULL); }

sl_value *sl_v_bool(sl_doc *doc, bool b) {
  sl_value *v = new_value(doc, SL_V_BOOL);
  if (v) v->u.b = b;
  return v;
}

sl_value *sl_v_int(sl_doc *doc, int64_t i) {
  sl_value *v = new_value(doc, SL_V_INT);
  if (v) v->u.i = i;
  return v;
}

sl_value *sl_v_number(sl_doc *doc, const char *text, size_t len, double d, sl_numkind kind) {
  sl_value *v = new_value(doc, SL_V_NUMBER);
  if (!v) return NULL;
  v->u.num.text = sl_arena_strndup(&doc->arena, text, len);
  if (!v->u.num.text) return NULL;
  v->u.num.len = len;
  v->u.num.d = d;
  v->u.num.kind = kind;
  return v;
}

static sl_value *new_string(sl_doc *doc, sl_vtype t, const char *s, size_t len) {
  sl_value *v = new_value(doc, t);
  if (!v) return NULL;
  v->u.s.ptr = sl_arena_strndup(&doc->arena, s, len);
  if (!v->u.s.ptr) return NULL;
  v->u.s.len = len;
  return v;
}

sl_value *sl_v_string(sl_doc *doc, const char *s, size_t len) {
  return new_string(doc, SL_V_STRING, s, len);
}

sl_value *sl_v_datetime(sl_doc *doc, const char *s, size_t len, sl_dtkind kind) {
  sl_value *v = new_string(doc, SL_V_DATETIME, s, len);
  if (v) v->u.s.dtkind = kind;
  return v;
}

sl_value *sl_v_array(sl_doc *doc) { return new_value(doc, SL_V_ARRAY); }
sl_value *sl_v_object(sl_doc *doc) { return new_value(doc, SL_V_OBJECT); }

/* Grow an arena-backed vector; the old storage stays in the arena (documents
 * are small and freed whole). */
static void *grow(sl_doc *doc, void *items, size_t len, size_t *cap, size_t elem) {
  if (len < *cap) return items;
  size_t ncap = *cap ? *cap * 2 : 4;
  void *p = sl_arena_alloc(&doc->arena, ncap * elem);
  if (!p) return NULL;
  if (len) memcpy(p, items, len * elem);
  *cap = ncap;
  return p;
}

sl_status sl_v_push(sl_doc *doc, sl_value *arr, sl_value *item) {
  if (!arr || arr->type != SL_V_ARRAY || !item) return SL_INVALID_ARG;
  sl_value **p = grow(doc, arr->u.arr.items, arr->u.arr.len, &arr->u.arr.cap, sizeof *p);
  if (!p) return SL_NOMEM;
  arr->u.arr.items = p;
  p[arr->u.arr.len++] = item;
  return SL_OK;
}

sl_status sl_v_set(sl_doc *doc, sl_value *obj, const char *key, size_t key_len, sl_value *val) {
  if (!obj || obj->type != SL_V_OBJECT || !val || !key) return SL_INVALID_ARG;
  char *k = sl_arena_strndup(&doc->arena, key, key_len);
  if (!k) return SL_NOMEM;
  sl_member *p = grow(doc, obj->u.obj.items, obj->u.obj.len, &obj->u.obj.cap, sizeof *p);
  if (!p) return SL_NOMEM;
  obj->u.obj.items = p;
  p[obj->u.obj.len++] = (sl_member){k, key_len, val};
  return SL_OK;
}

sl_status sl_v_put(sl_doc *doc, sl_value *obj, const char *key, sl_value *val) {
  if (!obj || obj->type != SL_V_OBJECT || !val || !key) return SL_INVALID_ARG;
  size_t klen = strlen(key);
  for (size_t i = 0; i < obj->u.obj.len; i++) {
    sl_member *m = &obj->u.obj.items[i];
    if (m->key_len == klen && memcmp(m->key, key, klen) == 0) {
      m->val = val;
      return SL_OK;
    }
  }
  return sl_v_set(doc, obj, key, klen, val);
}

/* Iterative deep copy: an explicit stack of (source, destination) pairs so
 * that deeply nested documents cannot overflow the C stack. */
sl_value *sl_v_clone(sl_doc *doc, const sl_value *v) {
  if (!v) return NULL;
  typedef struct {
    const sl_value *src;
    sl_value *dst;
  } pair;
  size_t cap = 64, n = 0;
  pair *stack = malloc(cap * sizeof *stack);
  if (!stack) return NULL;
  sl_value *root = new_value(doc, v->type);
  if (!root) goto fail;
  stack[n++] = (pair){v, root};
  while (n) {
    pair pr = stack[--n];
    const sl_value *s = pr.src;
    sl_value *d = pr.dst;
    d->type = s->type;
    d->line = s->line;
    d->col = s->col;
    switch (s->type) {
      case SL_V_NULL:
        break;
      case SL_V_BOOL:
        d->u.b = s->u.b;
        break;
      case SL_V_INT:
        d->u.i = s->u.i;
        break;
      case SL_V_NUMBER:
        d->u.num = s->u.num;
        d->u.num.text = sl_arena_strndup(&doc->arena, s->u.num.text, s->u.num.len);
        if (!d->u.num.text) goto fail;
        break;
      case SL_V_STRING:
      case SL_V_DATETIME:
        d->u.s = s->u.s;
        d->u.s.ptr = sl_arena_strndup(&doc->arena, s->u.s.ptr, s->u.s.len);
        if (!d->u.s.ptr) goto fail;
        break;
      case SL_V_ARRAY:
      case SL_V_OBJECT: {
        size_t len = s->type == SL_V_ARRAY ? s->u.arr.len : s->u.obj.len;
        if (n + len > cap) {
          while (n + len > cap) cap *= 2;
          pair *ns = realloc(stack, cap * sizeof *ns);
          if (!ns) goto fail;
          stack = ns;
        }
        if (s->type == SL_V_ARRAY) {
          d->u.arr.items = NULL;
          d->u.arr.len = d->u.arr.cap = 0;
          if (len) {
            d->u.arr.items = sl_arena_alloc(&doc->arena, len * sizeof(sl_value *));
            if (!d->u.arr.items) goto fail;
            d->u.arr.len = d->u.arr.cap = len;
          }
          for (size_t i = 0; i < len; i++) {
            sl_value *c = new_value(doc, SL_V_NULL);
            if (!c) goto fail;
            d->u.arr.items[i] = c;
            stack[n++] = (pair){s->u.arr.items[i], c};
          }
        } else {
          d->u.obj.items = NULL;
          d->u.obj.len = d->u.obj.cap = 0;
          if (len) {
            d->u.obj.items = sl_arena_alloc(&doc->arena, len * sizeof(sl_member));
            if (!d->u.obj.items) goto fail;
            d->u.obj.len = d->u.obj.cap = len;
          }
          for (size_t i = 0; i < len; i++) {
            const sl_member *m = &s->u.obj.items[i];
            sl_value *c = new_value(doc, SL_V_NULL);
            char *k = sl_arena_strndup(&doc->arena, m->key, m->key_len);
            if (!c || !k) goto fail;
            d->u.obj.items[i] = (sl_member){k, m->key_len, c};
            stack[n++] = (pair){m->val, c};
          }
        }
        break;
      }
    }
  }
  free(stack);
  return root;
fail:
  free(stack);
  return NULL;
}

sl_value *sl_v_getn(const sl_value *obj, const char *key, size_t klen) {
  if (!obj || obj->type != SL_V_OBJECT || !key) return NULL;
  for (size_t i = 0; i < obj->u.obj.len; i++) {
    const sl_member *m = &obj->u.obj.items[i];
    if (m->key_len == klen && memcmp(m->key, key, klen) == 0) return m->val;
  }
  return NULL;
}

sl_value *sl_v_get(const sl_value *obj, const char *key) {
  return key ? sl_v_getn(obj, key, strlen(key)) : NULL;
}

sl_value *sl_v_at(const sl_value *arr, size_t i) {
  if (!arr || arr->type != SL_V_ARRAY || i >= arr->u.arr.len) return NULL;
  return arr->u.arr.items[i];
}

sl_value *sl_v_path(const sl_value *root, const char *dotted) {
  const sl_value *cur = root;
  const char *p = dotted;
  while (cur && p && *p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    cur = sl_v_getn(cur, p, n);
    p = dot ? dot + 1 : NULL;
  }
  return (sl_value *)cur;
}

size_t sl_v_len(const sl_value *v) {
  if (!v) return 0;
  switch (v->type) {
    case SL_V_ARRAY:
      return v->u.arr.len;
    case SL_V_OBJECT:
      return v->u.obj.len;
    case SL_V_STRING:
    case SL_V_DATETIME:
      return v->u.s.len;
    default:
      return 0;
  }
}

const char *sl_v_str(const sl_value *v, const char *dflt) {
  if (v && (v->type == SL_V_STRING || v->type == SL_V_DATETIME)) return v->u.s.ptr;
  return dflt;
}

int64_t sl_v_int_or(const sl_value *v, int64_t dflt) {
  if (!v) return dflt;
  if (v->type == SL_V_INT) return v->u.i;
  if (v->type == SL_V_NUMBER) {
    double d = v->u.num.d;
    if (d == floor(d) && d >= -9.2e18 && d <= 9.2e18) return (int64_t)d;
  }
  return dflt;
}

double sl_v_num_or(const sl_value *v, double dflt) {
  if (!v) return dflt;
  if (v->type == SL_V_INT) return (double)v->u.i;
  if (v->type == SL_V_NUMBER) return v->u.num.d;
  return dflt;
}

bool sl_v_bool_or(const sl_value *v, bool dflt) {
  return v && v->type == SL_V_BOOL ? v->u.b : dflt;
}

const char *sl_vtype_name(sl_vtype t) {
  switch (t) {
    case SL_V_NULL:
      return "null";
    case SL_V_BOOL:
      return "boolean";
    case SL_V_INT:
      return "integer";
    case SL_V_NUMBER:
      return "number";
    case SL_V_STRING:
      return "string";
    case SL_V_DATETIME:
      return "datetime";
    case SL_V_ARRAY:
      return "array";
    case SL_V_OBJECT:
      return "object";
  }
  return "?";
}

/* Iterative structural equality. */
bool sl_v_equal(const sl_value *a, const sl_value *b) {
  typedef struct {
    const sl_value *a, *b;
  } pair;
  size_t cap = 64, n = 0;
  pair *stack = malloc(cap * sizeof *stack);
  if (!stack) return false;
  bool eq = true;
  stack[n++] = (pair){a, b};
  while (n && eq) {
    pair p = stack[--n];
    if (!p.a || !p.b) {
      eq = p.a == p.b;
      break;
    }
    if (p.a->type != p.b->type) {
      eq = false;
      break;
    }
    switch (p.a->type) {
      case SL_V_NULL:
        break;
      case SL_V_BOOL:
        eq = p.a->u.b == p.b->u.b;
        break;
      case SL_V_INT:
        eq = p.a->u.i == p.b->u.i;
        break;
      case SL_V_NUMBER:
        eq = p.a->u.num.len == p.b->u.num.len &&
             memcmp(p.a->u.num.text, p.b->u.num.text, p.a->u.num.len) == 0;
        break;
      case SL_V_STRING:
      case SL_V_DATETIME:
        eq = p.a->u.s.len == p.b->u.s.len && memcmp(p.a->u.s.ptr, p.b->u.s.ptr, p.a->u.s.len) == 0;
        break;
      case SL_V_ARRAY:
      case SL_V_OBJECT: {
        size_t len = sl_v_len(p.a);
        if (len != sl_v_len(p.b)) {
          eq = false;
          break;
        }
        if (n + len > cap) {
          while (n + len > cap) cap *= 2;
          pair *ns = realloc(stack, cap * sizeof *ns);
          if (!ns) {
            eq = false;
            break;
          }
          stack = ns;
        }
        for (size_t i = 0; i < len; i++) {
          if (p.a->type == SL_V_ARRAY) {
            stack[n++] = (pair){p.a->u.arr.items[i], p.b->u.arr.items[i]};
          } else {
            const sl_member *ma = &p.a->u.obj.items[i], *mb = &p.b->u.obj.items[i];
            if (ma->key_len != mb->key_len || memcmp(ma->key, mb->key, ma->key_len) != 0) {
              eq = false;
              break;
            }
            stack[n++] = (pair){ma->val, mb->val};
          }
        }
        break;
      }
    }
  }
  free(stack);
  return eq;
}
