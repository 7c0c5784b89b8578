/* JSON and the sl_value tree: building a tree from the push parser's events
 * (sl_json_parse_doc, sl_json_parse_file) and serializing a tree back to JSON
 * (sl_v_to_json). Both walk with explicit stacks, never recursion, so depth is
 * bounded by memory and max_depth, not by the C stack. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_int.h"
#include "sluice/json.h"

/* ---- building ------------------------------------------------------------------ */

/* Children of the open containers wait in two scratch vectors (one for array
 * items, one for object members); when a container closes they are copied
 * into one exact-size array in the doc's arena. Nothing is grown in the arena
 * by doubling, so a tree costs its values and no dead copies. */
typedef struct frame {
  sl_value *v;
  size_t start; /* first pending child in items or members */
} frame;

typedef struct builder {
  sl_doc *doc;
  frame *frames;
  size_t nframes, cap_frames;
  sl_value **items;
  size_t nitems, cap_items;
  sl_member *members;
  size_t nmembers, cap_members;
  const char *key; /* the member name waiting for its value (in the arena) */
  size_t key_len;
  bool nomem;
} builder;

/* Room for one more element in a malloc'd vector. */
static bool reserve1(void **vec, size_t n, size_t *cap, size_t elem) {
  if (n < *cap) return true;
  size_t ncap = *cap ? *cap * 2 : 64;
  void *nv = realloc(*vec, ncap * elem);
  if (!nv) return false;
  *vec = nv;
  *cap = ncap;
  return true;
}

/* The container on top of the stack closes: give it its children. */
static bool close_container(builder *b) {
  frame *f = &b->frames[--b->nframes];
  sl_value *v = f->v;
  if (v->type == SL_V_ARRAY) {
    size_t n = b->nitems - f->start;
    if (n) {
      sl_value **items = sl_arena_alloc(&b->doc->arena, n * sizeof *items);
      if (!items) return false;
      memcpy(items, b->items + f->start, n * sizeof *items);
      v->u.arr.items = items;
    }
    v->u.arr.len = v->u.arr.cap = n;
    b->nitems = f->start;
  } else {
    size_t n = b->nmembers - f->start;
    if (n) {
      sl_member *members = sl_arena_alloc(&b->doc->arena, n * sizeof *members);
      if (!members) return false;
      memcpy(members, b->members + f->start, n * sizeof *members);
      v->u.obj.items = members;
    }
    v->u.obj.len = v->u.obj.cap = n;
    b->nmembers = f->start;
  }
  return true;
}

static int build_event(void *ud, const sl_json_event *ev) {
  builder *b = ud;
  sl_doc *doc = b->doc;
  sl_value *v = NULL;
  switch (ev->type) {
    case SL_JSON_KEY:
      b->key = sl_arena_strndup(&doc->arena, ev->str, ev->len);
      b->key_len = ev->len;
      if (!b->key) goto nomem;
      return 0;
    case SL_JSON_OBJECT_END:
    case SL_JSON_ARRAY_END:
      if (!close_container(b)) goto nomem;
      return 0;
    case SL_JSON_NULL: v = sl_v_null(doc); break;
    case SL_JSON_FALSE: v = sl_v_bool(doc, false); break;
    case SL_JSON_TRUE: v = sl_v_bool(doc, true); break;
    case SL_JSON_NUMBER:
      v = ev->numkind == SL_NUM_INT64 ? sl_v_int(doc, ev->i64)
                                      : sl_v_number(doc, ev->str, ev->len, ev->f64, ev->numkind);
      break;
    case SL_JSON_STRING: v = sl_v_string(doc, ev->str, ev->len); break;
    case SL_JSON_OBJECT_BEGIN: v = sl_v_object(doc); break;
    case SL_JSON_ARRAY_BEGIN: v = sl_v_array(doc); break;
  }
  if (!v) goto nomem;
  v->line = ev->line;
  v->col = ev->col;
  if (b->nframes == 0) {
    doc->root = v;
  } else if (b->frames[b->nframes - 1].v->type == SL_V_ARRAY) {
    if (!reserve1((void **)&b->items, b->nitems, &b->cap_items, sizeof *b->items)) goto nomem;
    b->items[b->nitems++] = v;
  } else {
    if (!reserve1((void **)&b->members, b->nmembers, &b->cap_members, sizeof *b->members))
      goto nomem;
    b->members[b->nmembers++] = (sl_member){b->key, b->key_len, v};
  }
  if (ev->type == SL_JSON_OBJECT_BEGIN || ev->type == SL_JSON_ARRAY_BEGIN) {
    if (!reserve1((void **)&b->frames, b->nframes, &b->cap_frames, sizeof *b->frames)) goto nomem;
    b->frames[b->nframes++] =
        (frame){v, ev->type == SL_JSON_ARRAY_BEGIN ? b->nitems : b->nmembers};
  }
  return 0;
nomem:
  b->nomem = true;
  return 1;
}

/* Shared by parse_doc and parse_file: feed() gives the bytes. */
typedef sl_status (*feed_fn)(void *src, sl_json_parser *p, sl_error *err);

static sl_doc *build(const char *name, feed_fn feed, void *src, sl_error *err) {
  sl_error_clear(err);
  sl_doc *doc = sl_doc_new(name);
  if (!doc) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  builder b = {.doc = doc};
  sl_json_options o = {.name = doc->name};
  sl_json_parser *p = sl_json_parser_new(&o, build_event, &b);
  sl_status st = SL_NOMEM;
  if (p) {
    st = feed(src, p, err);
    if (!st) st = sl_json_finish(p, err);
  }
  if (st == SL_NOMEM || (st == SL_ABORTED && b.nomem)) {
    sl_error_set(err, SL_NOMEM, "out of memory while reading JSON into a tree");
    st = SL_NOMEM;
  }
  sl_json_parser_free(p);
  free(b.frames);
  free(b.items);
  free(b.members);
  if (st) {
    sl_doc_free(doc);
    return NULL;
  }
  return doc;
}

typedef struct text_src {
  const char *text;
  size_t len;
} text_src;

static sl_status feed_text(void *src, sl_json_parser *p, sl_error *err) {
  text_src *t = src;
  return sl_json_feed(p, t->text, t->len, err);
}

sl_doc *sl_json_parse_doc(const char *text, size_t len, const char *name, sl_error *err) {
  text_src t = {text ? text : "", text ? len : 0};
  return build(name ? name : "<string>", feed_text, &t, err);
}

static sl_status feed_file(void *src, sl_json_parser *p, sl_error *err) {
  FILE *f = src;
  char chunk[64 * 1024];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    sl_status st = sl_json_feed(p, chunk, n, err);
    if (st) return st;
  }
  if (ferror(f)) return sl_error_set(err, SL_IO, "read error: %s", strerror(errno));
  return SL_OK;
}

sl_doc *sl_json_parse_file(const char *path, sl_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    int e = errno;
    sl_error_clear(err);
    sl_error_set(err, e == ENOENT ? SL_NOT_FOUND : SL_IO, "cannot open %s: %s", path, strerror(e));
    sl_error_at(err, path, 0, 0, -1);
    return NULL;
  }
  sl_doc *doc = build(path, feed_file, f, err);
  if (!doc && err && !err->file[0]) sl_error_at(err, path, err->line, err->col, err->offset);
  fclose(f);
  return doc;
}

/* ---- serializing -------------------------------------------------------------- */

static sl_status put_int(sl_buf *out, int64_t i) {
  char tmp[24], *e = tmp + sizeof tmp, *p = e;
  uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (i < 0) *--p = '-';
  return sl_buf_append(out, p, (size_t)(e - p));
}

/* The shortest %g form that reads back as the same double. */
static sl_status put_double(sl_buf *out, double d) {
  if (!isfinite(d)) return sl_buf_append(out, "null", 4);
  char tmp[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, d);
    if (prec == 17 || strtod(tmp, NULL) == d) break;
  }
  for (char *c = tmp; *c; c++)
    if (*c == ',') *c = '.'; /* a locale's decimal comma */
  return sl_buf_puts(out, tmp);
}

static sl_status put_scalar(const sl_value *v, sl_buf *out) {
  if (!v) return sl_buf_append(out, "null", 4);
  switch (v->type) {
    case SL_V_NULL: return sl_buf_append(out, "null", 4);
    case SL_V_BOOL: return v->u.b ? sl_buf_append(out, "true", 4) : sl_buf_append(out, "false", 5);
    case SL_V_INT: return put_int(out, v->u.i);
    case SL_V_NUMBER:
      /* The source text when it is JSON (TOML's "1_000" or "inf" is not). */
      if (v->u.num.text && sl__json_number_valid(v->u.num.text, v->u.num.len))
        return sl_buf_append(out, v->u.num.text, v->u.num.len);
      return put_double(out, v->u.num.d);
    case SL_V_STRING:
    case SL_V_DATETIME: return sl_json_write_string(out, v->u.s.ptr ? v->u.s.ptr : "", v->u.s.len);
    default: return SL_INVALID_ARG;
  }
}

static sl_status newline(sl_buf *out, int indent, size_t level) {
  sl_status st = sl_buf_putc(out, '\n');
  for (size_t i = 0; !st && i < level * (size_t)indent; i++) st = sl_buf_putc(out, ' ');
  return st;
}

typedef struct wframe {
  const sl_value *v;
  size_t i;
} wframe;

sl_status sl_v_to_json(const sl_value *v, sl_buf *out, int indent) {
  if (indent < 0) indent = 0;
  wframe *stack = NULL;
  size_t n = 0, cap = 0;
  sl_status st = SL_OK;
  const sl_value *next = v;
  bool have_next = true;
  while (!st) {
    if (have_next) {
      have_next = false;
      bool container = next && (next->type == SL_V_ARRAY || next->type == SL_V_OBJECT);
      if (!container) {
        st = put_scalar(next, out);
      } else if (sl_v_len(next) == 0) {
        st = sl_buf_append(out, next->type == SL_V_ARRAY ? "[]" : "{}", 2);
      } else {
        if (n == cap) {
          size_t ncap = cap ? cap * 2 : 32;
          wframe *ns = realloc(stack, ncap * sizeof *ns);
          if (!ns) {
            st = SL_NOMEM;
            break;
          }
          stack = ns;
          cap = ncap;
        }
        stack[n++] = (wframe){next, 0};
        st = sl_buf_putc(out, next->type == SL_V_ARRAY ? '[' : '{');
      }
      continue;
    }
    if (n == 0) break;
    wframe *f = &stack[n - 1];
    bool arr = f->v->type == SL_V_ARRAY;
    if (f->i == sl_v_len(f->v)) {
      n--;
      if (indent) st = newline(out, indent, n);
      if (!st) st = sl_buf_putc(out, arr ? ']' : '}');
      continue;
    }
    if (f->i > 0) st = sl_buf_putc(out, ',');
    if (!st && indent) st = newline(out, indent, n);
    if (st) break;
    if (arr) {
      next = f->v->u.arr.items[f->i];
    } else {
      const sl_member *m = &f->v->u.obj.items[f->i];
      st = sl_json_write_string(out, m->key ? m->key : "", m->key_len);
      if (!st) st = indent ? sl_buf_append(out, ": ", 2) : sl_buf_putc(out, ':');
      next = m->val;
    }
    f->i++;
    have_next = true;
  }
  free(stack);
  return st;
}
