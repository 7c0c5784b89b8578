/* YAML writer: block-style output of a document tree, deterministic, with
 * strings double-quoted whenever a plain scalar would read back as something
 * else (under YAML 1.2, and under the YAML 1.1 rules older readers use). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/yaml.h"
#include "yaml/yaml_int.h"

#define INDENT 2

/* Length of the valid UTF-8 sequence at s[0..n), 0 if invalid; *cp gets the
 * code point. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp) {
  unsigned char c = s[0];
  size_t len;
  uint32_t v, min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, v = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

/* Characters a plain scalar must not hold: controls (tab included), C1,
 * YAML's extra line breaks, the BOM and non-characters. */
static bool needs_escape(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF;
}

/* Words that YAML 1.1 readers (PyYAML, many tools) take as booleans or nulls,
 * and the merge key, all compared case-insensitively. */
static bool is_reserved_word(const char *s, size_t n) {
  static const char *const words[] = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "<<", "="};
  for (size_t i = 0; i < sizeof words / sizeof *words; i++)
    if (strlen(words[i]) == n && strncasecmp(s, words[i], n) == 0) return true;
  return false;
}

/* True when s can be written as a plain scalar and read back as the same string. */
static bool plain_ok(const char *s, size_t n) {
  if (n == 0 || sl__yaml_classify(s, n) != SL__YP_STRING || is_reserved_word(s, n)) return false;
  unsigned char first = (unsigned char)s[0];
  if (strchr("-?:,[]{}#&*!|>'\"%@`", first)) return false;
  /* Anything that starts like a number (1_000, 1:30, 2024-01-01, 0b101 are
   * numbers or dates to YAML 1.1 readers). */
  if ((first >= '0' && first <= '9') || ((first == '+' || first == '.') && n > 1 &&
                                         ((s[1] >= '0' && s[1] <= '9') || s[1] == '.')))
    return false;
  if (n >= 3 && memcmp(s, "...", 3) == 0) return false; /* document end marker */
  if (s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':') return false;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c == ':' && i + 1 < n && s[i + 1] == ' ') return false;
    if (c == '#' && s[i - 1] == ' ') return false; /* i > 0: '#' cannot be first */
    uint32_t cp;
    size_t k = utf8_seq((const unsigned char *)s + i, n - i, &cp);
    if (!k || needs_escape(cp)) return false;
    i += k;
  }
  return true;
}

static sl_status put_quoted(sl_buf *out, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  sl_status st = sl_buf_putc(out, '"');
  size_t run = 0; /* start of the pending run of bytes copied as they are */
  for (size_t i = 0; i < n && st == SL_OK;) {
    unsigned char c = (unsigned char)s[i];
    uint32_t cp;
    size_t k = utf8_seq((const unsigned char *)s + i, n - i, &cp);
    char esc[12];
    size_t elen = 0;
    if (!k) { /* not UTF-8: written as \xNN, which reads back as U+00NN */
      esc[0] = '\\', esc[1] = 'x', esc[2] = hex[c >> 4], esc[3] = hex[c & 15];
      elen = 4;
      k = 1;
    } else if (cp == '"' || cp == '\\') {
      esc[0] = '\\', esc[1] = (char)cp;
      elen = 2;
    } else if (needs_escape(cp)) {
      const char *named = cp == '\n' ? "\\n" : cp == '\t' ? "\\t" : cp == '\r' ? "\\r" : cp == 0 ? "\\0" : NULL;
      if (named) {
        memcpy(esc, named, 2);
        elen = 2;
      } else if (cp <= 0xFF) {
        esc[0] = '\\', esc[1] = 'x', esc[2] = hex[cp >> 4], esc[3] = hex[cp & 15];
        elen = 4;
      } else {
        esc[0] = '\\', esc[1] = 'u';
        for (int d = 0; d < 4; d++) esc[2 + d] = hex[(cp >> (12 - 4 * d)) & 15];
        elen = 6;
      }
    }
    if (elen) {
      st = sl_buf_append(out, s + run, i - run);
      if (st == SL_OK) st = sl_buf_append(out, esc, elen);
      run = i + k;
    }
    i += k;
  }
  if (st == SL_OK) st = sl_buf_append(out, s + run, n - run);
  if (st == SL_OK) st = sl_buf_putc(out, '"');
  return st;
}

static sl_status put_string(sl_buf *out, const char *s, size_t n) {
  return plain_ok(s, n) ? sl_buf_append(out, s, n) : put_quoted(out, s, n);
}

static bool is_block(const sl_value *v) {
  return v && (v->type == SL_V_ARRAY || v->type == SL_V_OBJECT) && sl_v_len(v) > 0;
}

/* A scalar or an empty collection, on the current line. */
static sl_status put_inline(sl_buf *out, const sl_value *v) {
  if (!v) return sl_buf_puts(out, "null");
  switch (v->type) {
    case SL_V_NULL:
      return sl_buf_puts(out, "null");
    case SL_V_BOOL:
      return sl_buf_puts(out, v->u.b ? "true" : "false");
    case SL_V_INT:
      return sl_buf_printf(out, "%lld", (long long)v->u.i);
    case SL_V_NUMBER: {
      const char *t = v->u.num.text;
      size_t n = v->u.num.len;
      if (!t || !n) return sl_buf_puts(out, ".nan");
      bool neg = t[0] == '-';
      const char *body = t + (t[0] == '-' || t[0] == '+');
      if (strcasecmp(body, "inf") == 0 || strcasecmp(body, "infinity") == 0)
        return sl_buf_puts(out, neg ? "-.inf" : ".inf");
      if (strcasecmp(body, "nan") == 0) return sl_buf_puts(out, ".nan");
      return sl_buf_append(out, t, n);
    }
    case SL_V_STRING:
    case SL_V_DATETIME:
      return put_string(out, v->u.s.ptr, v->u.s.len);
    case SL_V_ARRAY:
      return sl_buf_puts(out, "[]");
    case SL_V_OBJECT:
      return sl_buf_puts(out, "{}");
  }
  return SL_INVALID_ARG;
}

static sl_status put_indent(sl_buf *out, size_t n) {
  sl_status st = sl_buf_reserve(out, n);
  if (st != SL_OK) return st;
  memset(out->data + out->len, ' ', n);
  out->len += n;
  out->data[out->len] = '\0';
  return SL_OK;
}

/* YAML limits implicit keys ("key: value") to 1024 characters; a longer key
 * is written explicitly ("? key" then ": value" on the next line). */
#define MAX_IMPLICIT_KEY 1000

static sl_status make_explicit(sl_buf *out, size_t key_start, size_t indent) {
  sl_status st = sl_buf_reserve(out, 2);
  if (st != SL_OK) return st;
  memmove(out->data + key_start + 2, out->data + key_start, out->len - key_start);
  memcpy(out->data + key_start, "? ", 2);
  out->len += 2;
  out->data[out->len] = '\0';
  st = sl_buf_putc(out, '\n');
  return st == SL_OK ? put_indent(out, indent) : st;
}

typedef struct emit_frame {
  const sl_value *v;
  size_t next;   /* index of the next entry to write */
  size_t indent; /* column of its entries */
  bool inline_first; /* the first entry continues a "- " already written */
} emit_frame;

sl_status sl_yaml_emit(const sl_value *v, sl_buf *out) {
  if (!out) return SL_INVALID_ARG;
  if (!is_block(v)) {
    sl_status st = put_inline(out, v);
    return st == SL_OK ? sl_buf_putc(out, '\n') : st;
  }
  size_t cap = 32, depth = 0;
  emit_frame *stack = malloc(cap * sizeof *stack);
  if (!stack) return SL_NOMEM;
  stack[depth++] = (emit_frame){v, 0, 0, false};
  sl_status st = SL_OK;
  while (depth && st == SL_OK) {
    emit_frame *f = &stack[depth - 1];
    if (f->next >= sl_v_len(f->v)) {
      depth--;
      continue;
    }
    size_t i = f->next++;
    if (!(f->inline_first && i == 0)) st = put_indent(out, f->indent);
    const sl_value *child;
    if (f->v->type == SL_V_OBJECT) {
      const sl_member *m = &f->v->u.obj.items[i];
      child = m->val;
      size_t key_start = out->len;
      if (st == SL_OK) st = put_string(out, m->key, m->key_len);
      if (st == SL_OK && out->len - key_start > MAX_IMPLICIT_KEY) st = make_explicit(out, key_start, f->indent);
      if (st == SL_OK) st = sl_buf_putc(out, ':');
      if (st == SL_OK && !is_block(child)) st = sl_buf_putc(out, ' ');
    } else {
      child = f->v->u.arr.items[i];
      if (st == SL_OK) st = sl_buf_puts(out, "- ");
    }
    if (st != SL_OK) break;
    if (!is_block(child)) {
      st = put_inline(out, child);
      if (st == SL_OK) st = sl_buf_putc(out, '\n');
      continue;
    }
    /* A nested collection: under a key it starts on the next line; after a
     * "- " its first entry shares the dash's line. */
    bool after_dash = f->v->type == SL_V_ARRAY;
    size_t indent = f->indent + INDENT;
    if (!after_dash) st = sl_buf_putc(out, '\n');
    if (depth == cap) {
      emit_frame *ns = realloc(stack, cap * 2 * sizeof *ns);
      if (!ns) {
        st = SL_NOMEM;
        break;
      }
      stack = ns;
      cap *= 2;
    }
    stack[depth++] = (emit_frame){child, 0, indent, after_dash};
  }
  free(stack);
  return st;
}
