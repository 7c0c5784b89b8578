/* TOML 1.0 reader: one cursor walks the text and builds the sl_value tree
 * directly. Each table and array carries a little bookkeeping (how it was
 * defined, and in which section) so the spec's rules against redefinition
 * are enforced in the same pass. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/toml.h"
#include "toml/toml_scalar.h"

#define TOML_MAX_DEPTH SL_TOML_MAX_DEPTH
#define INDEX_MIN 16     /* tables this big get a hash index for key lookup */
#define KEY_SHOW_MAX 120 /* longest key quoted in a message */

/* How a container came to exist; decides what may still add to it. */
typedef enum tkind {
  T_IMPLICIT, /* named as a parent in a [a.b] header: may still be defined once */
  T_HEADER,   /* defined by its own [header] or as a [[header]] element (and the root) */
  T_DOTTED,   /* created by dotted keys (a.b = 1): open only within its own section */
  T_INLINE,   /* an inline table { ... }: closed once written */
  A_STATIC,   /* an array value [ ... ]: closed once written */
  A_TABLES    /* an array of tables, grown by [[header]] */
} tkind;

/* Every table and array in a TOML doc is one of these; the sl_value comes
 * first so a tnode * is also the sl_value * the tree links to. */
typedef struct tnode {
  sl_value v;
  tkind kind;
  uint32_t section; /* T_DOTTED: the section (header or inline table) that owns it */
  uint32_t depth;   /* root is 0 */
  uint32_t *index;  /* member position + 1 by key hash; 0 = free slot */
  size_t index_cap;
} tnode;

/* One part of a dotted key; its bytes live in parser.keys at off. */
typedef struct kpart {
  size_t off, len, pos;
  uint32_t line, col;
} kpart;

typedef struct parser {
  const unsigned char *s;
  size_t n, i;
  size_t origin; /* 3 after a byte order mark, else 0 */
  const char *name;
  sl_doc *doc;
  sl_error *err;
  tnode *root;
  uint32_t section_seq;
  /* line/column of a byte offset, cached so forward queries stay linear */
  size_t lc_pos;
  uint32_t lc_line, lc_col;
  sl_buf str;  /* decoded string value */
  sl_buf keys; /* decoded key parts, used as a stack (inline tables nest) */
  sl_buf tok;  /* normalized scalar text */
  kpart *parts;
  size_t nparts, parts_cap;
} parser;

/* ---- positions and errors ------------------------------------------------------ */

static void locate(parser *p, size_t pos, uint32_t *line, uint32_t *col) {
  if (pos < p->lc_pos) {
    p->lc_pos = p->origin;
    p->lc_line = 1;
    p->lc_col = 1;
  }
  size_t end = pos < p->n ? pos : p->n;
  uint32_t ln = p->lc_line, cl = p->lc_col;
  for (size_t j = p->lc_pos; j < end; j++) {
    unsigned char c = p->s[j];
    if (c == '\n') {
      ln++;
      cl = 1;
    } else if ((c & 0xC0) != 0x80) {
      cl++;
    }
  }
  if (end > p->lc_pos) {
    p->lc_pos = end;
    p->lc_line = ln;
    p->lc_col = cl;
  }
  *line = ln;
  *col = cl;
}

static bool fail(parser *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(parser *p, size_t pos, const char *fmt, ...) {
  char msg[480];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  uint32_t line, col;
  locate(p, pos, &line, &col);
  sl_error_set(p->err, SL_TOML_SYNTAX, "%s", msg);
  sl_error_at(p->err, p->name, (int)line, (int)col, (int64_t)pos);
  return false;
}

static bool nomem(parser *p) {
  sl_error_set(p->err, SL_NOMEM, "out of memory while reading TOML");
  sl_error_at(p->err, p->name, 0, 0, -1);
  return false;
}

static bool put(parser *p, sl_buf *b, const void *bytes, size_t len) {
  sl_status st = sl_buf_append(b, bytes, len);
  if (st == SL_OK) return true;
  if (st == SL_NOMEM) return nomem(p);
  sl_error_set(p->err, st, "TOML string too large");
  sl_error_at(p->err, p->name, 0, 0, -1);
  return false;
}

static int peek(const parser *p, size_t ahead) {
  return p->i + ahead < p->n ? p->s[p->i + ahead] : -1;
}

/* What sits at pos, for "found ..." in messages. */
static const char *describe(const parser *p, size_t pos, char out[32]) {
  if (pos >= p->n) return "end of input";
  unsigned char c = p->s[pos];
  if (c == '\n' || (c == '\r' && pos + 1 < p->n && p->s[pos + 1] == '\n')) return "end of line";
  if (c >= 0x20 && c < 0x7f) {
    snprintf(out, 32, "'%c'", c);
  } else if (c >= 0x80) { /* input is valid UTF-8 by now */
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    snprintf(out, 32, "'%.*s'", (int)len, (const char *)p->s + pos);
  } else {
    snprintf(out, 32, "control character U+%04X", c);
  }
  return out;
}

static bool is_bare(int c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

static const char *part_ptr(const parser *p, const kpart *kp) {
  return p->keys.data ? p->keys.data + kp->off : "";
}

/* Bounded writer for show_key: past room bytes it writes "..." and stops. */
typedef struct keyout {
  char *out;
  size_t o, room;
  bool cut;
} keyout;

static void key_emit(keyout *ko, const char *s, size_t n) {
  if (ko->cut) return;
  if (ko->o + n > ko->room) {
    memcpy(ko->out + ko->o, "...", 3);
    ko->o += 3;
    ko->cut = true;
    return;
  }
  memcpy(ko->out + ko->o, s, n);
  ko->o += n;
}

/* parts[first..last] joined with '.', quoted where a part is not bare, cut
 * short past KEY_SHOW_MAX bytes. size must be at least 8. */
static const char *show_key(const parser *p, size_t first, size_t last, char *out, size_t size) {
  keyout ko = {out, 0, size - 4 < KEY_SHOW_MAX ? size - 4 : KEY_SHOW_MAX, false}; /* 4: "..." and NUL */
  for (size_t k = first; k <= last && !ko.cut; k++) {
    const kpart *kp = &p->parts[k];
    const char *s = part_ptr(p, kp);
    bool bare = kp->len > 0;
    for (size_t j = 0; j < kp->len && bare; j++) bare = is_bare((unsigned char)s[j]);
    if (k > first) key_emit(&ko, ".", 1);
    if (!bare) key_emit(&ko, "\"", 1);
    for (size_t j = 0; j < kp->len && !ko.cut;) {
      unsigned char c = (unsigned char)s[j];
      char esc[8];
      if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
        int n = c == '"' || c == '\\' ? snprintf(esc, sizeof esc, "\\%c", c) : snprintf(esc, sizeof esc, "\\u%04X", c);
        key_emit(&ko, esc, (size_t)n);
        j++;
      } else { /* a whole UTF-8 sequence at a time, so a cut never splits one */
        size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        if (n > kp->len - j) n = kp->len - j;
        key_emit(&ko, s + j, n);
        j += n;
      }
    }
    if (!bare) key_emit(&ko, "\"", 1);
  }
  out[ko.o] = '\0';
  return out;
}

/* "an integer", "a table", ... for messages about what a key already is. */
static const char *what(const sl_value *v) {
  switch (v->type) {
    case SL_V_BOOL: return "a boolean";
    case SL_V_INT: return "an integer";
    case SL_V_NUMBER: return "a float";
    case SL_V_STRING: return "a string";
    case SL_V_DATETIME: return "a date-time";
    case SL_V_ARRAY: return ((const tnode *)v)->kind == A_TABLES ? "an array of tables" : "an array";
    case SL_V_OBJECT: return ((const tnode *)v)->kind == T_INLINE ? "an inline table" : "a table";
    default: return "a value";
  }
}

/* Offset of the first byte that is not valid UTF-8 (overlong forms,
 * surrogates and code points past U+10FFFF included), or n. */
static size_t utf8_invalid_at(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07, min = 0x10000;
    else return i;
    if (len > n - i) return i;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return n;
}

/* ---- tables ---------------------------------------------------------------------- */

static tnode *new_node(parser *p, sl_vtype type, tkind kind, uint32_t depth, size_t pos, uint32_t line,
                       uint32_t col) {
  if (depth > TOML_MAX_DEPTH) {
    fail(p, pos, "tables and arrays are nested more than %d levels deep", TOML_MAX_DEPTH);
    return NULL;
  }
  tnode *t = sl_arena_calloc(&p->doc->arena, sizeof *t);
  if (!t) {
    nomem(p);
    return NULL;
  }
  t->v.type = type;
  t->v.line = line;
  t->v.col = col;
  t->kind = kind;
  t->depth = depth;
  return t;
}

static uint64_t hash_key(const char *k, size_t len) {
  uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)k[i]) * UINT64_C(1099511628211);
  return h;
}

static sl_value *lookup(const tnode *t, const char *k, size_t len) {
  const sl_member *m = t->v.u.obj.items;
  if (t->index) {
    size_t mask = t->index_cap - 1;
    for (size_t h = hash_key(k, len) & mask;; h = (h + 1) & mask) {
      uint32_t e = t->index[h];
      if (!e) return NULL;
      if (m[e - 1].key_len == len && memcmp(m[e - 1].key, k, len) == 0) return m[e - 1].val;
    }
  }
  for (size_t i = 0; i < t->v.u.obj.len; i++)
    if (m[i].key_len == len && memcmp(m[i].key, k, len) == 0) return m[i].val;
  return NULL;
}

static void index_insert(tnode *t, size_t member) {
  const sl_member *m = &t->v.u.obj.items[member];
  size_t mask = t->index_cap - 1, h = hash_key(m->key, m->key_len) & mask;
  while (t->index[h]) h = (h + 1) & mask;
  t->index[h] = (uint32_t)(member + 1);
}

static bool add_member(parser *p, tnode *t, const char *k, size_t len, sl_value *v) {
  if (sl_v_set(p->doc, &t->v, k, len, v) != SL_OK) return nomem(p);
  size_t count = t->v.u.obj.len;
  if (t->index && count * 2 <= t->index_cap) {
    index_insert(t, count - 1);
  } else if (count >= INDEX_MIN) {
    /* (Re)build at a quarter full; the old index stays in the arena. */
    size_t cap = 64;
    while (cap < count * 4) cap *= 2;
    if (count > UINT32_MAX - 1) return nomem(p);
    t->index = sl_arena_calloc(&p->doc->arena, cap * sizeof *t->index);
    if (!t->index) return nomem(p);
    t->index_cap = cap;
    for (size_t i = 0; i < count; i++) index_insert(t, i);
  }
  return true;
}

/* Table child for a part, created when missing. */
static tnode *add_table(parser *p, tnode *parent, const kpart *kp, tkind kind) {
  tnode *c = new_node(p, SL_V_OBJECT, kind, parent->depth + 1, kp->pos, kp->line, kp->col);
  if (!c || !add_member(p, parent, part_ptr(p, kp), kp->len, &c->v)) return NULL;
  return c;
}

/* ---- whitespace, comments, newlines -------------------------------------------------- */

static void skip_ws(parser *p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t')) p->i++;
}

static bool bare_cr(parser *p, size_t pos) {
  return fail(p, pos, "a carriage return must be followed by a line feed");
}

/* At '#': through the end of the comment (not the newline). */
static bool skip_comment(parser *p) {
  p->i++;
  while (p->i < p->n) {
    unsigned char c = p->s[p->i];
    if (c == '\n') break;
    if (c == '\r') {
      if (peek(p, 1) == '\n') break;
      return bare_cr(p, p->i);
    }
    if (c != '\t' && (c < 0x20 || c == 0x7f))
      return fail(p, p->i, "control character U+%04X is not allowed in a comment", c);
    p->i++;
  }
  return true;
}

/* Whitespace, newlines and comments, as allowed between array elements. */
static bool skip_ws_nl_comments(parser *p) {
  for (;;) {
    skip_ws(p);
    int c = peek(p, 0);
    if (c == '#') {
      if (!skip_comment(p)) return false;
    } else if (c == '\n') {
      p->i++;
    } else if (c == '\r') {
      if (peek(p, 1) != '\n') return bare_cr(p, p->i);
      p->i += 2;
    } else {
      return true;
    }
  }
}

/* After a key/value pair or header: optional comment, then newline or end. */
static bool end_of_line(parser *p, const char *after) {
  skip_ws(p);
  if (peek(p, 0) == '#' && !skip_comment(p)) return false;
  int c = peek(p, 0);
  if (c == -1) return true;
  if (c == '\n') {
    p->i++;
    return true;
  }
  if (c == '\r') {
    if (peek(p, 1) != '\n') return bare_cr(p, p->i);
    p->i += 2;
    return true;
  }
  char d[32];
  return fail(p, p->i, "expected a newline after %s, found %s", after, describe(p, p->i, d));
}

/* ---- strings ------------------------------------------------------------------------- */

static bool plain_byte(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

static bool control_in_string(parser *p) {
  return fail(p, p->i, "control character U+%04X is not allowed in a string (write it as an escape)",
              p->s[p->i]);
}

static int hex_value(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static size_t utf8_encode(uint32_t cp, char out[4]) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* At a backslash in a basic string. */
static bool parse_escape(parser *p, sl_buf *out) {
  size_t pos = p->i;
  int c = peek(p, 1);
  char ch;
  switch (c) {
    case 'b': ch = '\b'; break;
    case 't': ch = '\t'; break;
    case 'n': ch = '\n'; break;
    case 'f': ch = '\f'; break;
    case 'r': ch = '\r'; break;
    case '"': ch = '"'; break;
    case '\\': ch = '\\'; break;
    case 'u':
    case 'U': {
      int digits = c == 'u' ? 4 : 8;
      uint32_t cp = 0;
      for (int k = 0; k < digits; k++) {
        int d = hex_value(peek(p, 2 + (size_t)k));
        if (d < 0)
          return fail(p, pos, "invalid escape '\\%c': expected %d hexadecimal digits", c, digits);
        cp = (cp << 4) | (uint32_t)d;
      }
      if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return fail(p, pos, "invalid escape '\\%c%.*s': U+%04X is not a Unicode scalar value", c, digits,
                    (const char *)p->s + pos + 2, cp);
      char enc[4];
      p->i += 2 + (size_t)digits;
      return put(p, out, enc, utf8_encode(cp, enc));
    }
    default: {
      if (c == -1) return fail(p, pos, "unterminated string");
      if (c > 0x20 && c < 0x7f) return fail(p, pos, "invalid escape sequence '\\%c'", c);
      char d[32];
      return fail(p, pos, "invalid escape sequence: '\\' followed by %s", describe(p, pos + 1, d));
    }
  }
  p->i += 2;
  return put(p, out, &ch, 1);
}

/* Append the run of ordinary bytes at the cursor (stopping at stop or '\\'). */
static bool take_run(parser *p, sl_buf *out, unsigned char stop, bool escapes) {
  size_t j = p->i;
  while (j < p->n && plain_byte(p->s[j]) && p->s[j] != stop && !(escapes && p->s[j] == '\\')) j++;
  if (j > p->i && !put(p, out, p->s + p->i, j - p->i)) return false;
  p->i = j;
  return true;
}

/* "..." or '...' (single line); at the opening quote. */
static bool parse_line_string(parser *p, sl_buf *out) {
  size_t start = p->i;
  unsigned char q = p->s[p->i++];
  bool basic = q == '"';
  for (;;) {
    if (!take_run(p, out, q, basic)) return false;
    int c = peek(p, 0);
    if (c == -1)
      return fail(p, start, "unterminated %s (missing closing %c)", basic ? "string" : "literal string", q);
    if (c == q) {
      p->i++;
      return true;
    }
    if (c == '\\') {
      if (!parse_escape(p, out)) return false;
      continue;
    }
    if (c == '\n' || c == '\r')
      return fail(p, start, "unterminated %s: a single-line string ends before the end of the line",
                  basic ? "string" : "literal string");
    return control_in_string(p);
  }
}

/* """...""" or '''...'''; at the first of the three quotes. */
static bool parse_ml_string(parser *p, sl_buf *out) {
  size_t start = p->i;
  unsigned char q = p->s[p->i];
  bool basic = q == '"';
  p->i += 3;
  /* A newline right after the opening delimiter is trimmed. */
  if (peek(p, 0) == '\n') p->i++;
  else if (peek(p, 0) == '\r' && peek(p, 1) == '\n') p->i += 2;
  for (;;) {
    if (!take_run(p, out, q, basic)) return false;
    int c = peek(p, 0);
    if (c == -1) return fail(p, start, "unterminated multi-line string (missing closing %c%c%c)", q, q, q);
    if (c == q) {
      size_t run = 0;
      while (peek(p, run) == q) run++;
      if (run < 3) {
        if (!put(p, out, p->s + p->i, run)) return false;
        p->i += run;
        continue;
      }
      if (run > 5)
        return fail(p, p->i, "too many quotes: at most two may directly precede the closing %c%c%c", q, q, q);
      if (!put(p, out, p->s + p->i, run - 3)) return false;
      p->i += run;
      return true;
    }
    if (c == '\\') {
      /* A backslash ending a line swallows the newline and the whitespace after it. */
      size_t j = p->i + 1;
      while (j < p->n && (p->s[j] == ' ' || p->s[j] == '\t')) j++;
      if (j < p->n && (p->s[j] == '\n' || (p->s[j] == '\r' && j + 1 < p->n && p->s[j + 1] == '\n'))) {
        for (;;) {
          if (j < p->n && (p->s[j] == ' ' || p->s[j] == '\t' || p->s[j] == '\n')) j++;
          else if (j + 1 < p->n && p->s[j] == '\r' && p->s[j + 1] == '\n') j += 2;
          else break;
        }
        p->i = j;
        continue;
      }
      if (!parse_escape(p, out)) return false;
      continue;
    }
    if (c == '\n') {
      if (!put(p, out, "\n", 1)) return false;
      p->i++;
      continue;
    }
    if (c == '\r') {
      if (peek(p, 1) != '\n') return bare_cr(p, p->i);
      if (!put(p, out, "\n", 1)) return false; /* CRLF reads as LF on every platform */
      p->i += 2;
      continue;
    }
    return control_in_string(p);
  }
}

/* ---- keys ------------------------------------------------------------------------------ */

static bool push_part(parser *p, size_t off, size_t len, size_t pos) {
  if (p->nparts == p->parts_cap) {
    size_t cap = p->parts_cap ? p->parts_cap * 2 : 16;
    kpart *np = realloc(p->parts, cap * sizeof *np);
    if (!np) return nomem(p);
    p->parts = np;
    p->parts_cap = cap;
  }
  kpart *kp = &p->parts[p->nparts++];
  kp->off = off;
  kp->len = len;
  kp->pos = pos;
  locate(p, pos, &kp->line, &kp->col);
  return true;
}

/* A simple or dotted key; its parts are pushed on p->parts. */
static bool parse_key(parser *p) {
  size_t first = p->nparts;
  for (;;) {
    skip_ws(p);
    size_t pos = p->i, off = p->keys.len;
    int c = peek(p, 0);
    if (p->nparts - first >= TOML_MAX_DEPTH)
      return fail(p, pos, "key has more than %d dotted parts", TOML_MAX_DEPTH);
    if (is_bare(c)) {
      size_t j = p->i;
      while (j < p->n && is_bare(p->s[j])) j++;
      if (!put(p, &p->keys, p->s + p->i, j - p->i)) return false;
      p->i = j;
    } else if (c == '"' || c == '\'') {
      if (peek(p, 1) == c && peek(p, 2) == c) return fail(p, pos, "a multi-line string cannot be a key");
      if (!parse_line_string(p, &p->keys)) return false;
    } else {
      char d[32];
      if (p->nparts == first) return fail(p, pos, "expected a key, found %s", describe(p, pos, d));
      return fail(p, pos, "expected a key after '.', found %s", describe(p, pos, d));
    }
    if (!push_part(p, off, p->keys.len - off, pos)) return false;
    skip_ws(p);
    if (peek(p, 0) != '.') return true;
    p->i++;
  }
}

static void pop_key(parser *p, size_t first, size_t keys_mark) {
  p->nparts = first;
  p->keys.len = keys_mark;
}

/* ---- values ------------------------------------------------------------------------------ */

static sl_value *parse_value(parser *p, uint32_t depth);
static bool parse_keyval(parser *p, tnode *base);

static bool is_token_byte(unsigned char c) {
  return is_bare(c) || c == '+' || c == '.' || c == ':';
}

static sl_value *parse_array(parser *p, uint32_t depth, uint32_t line, uint32_t col) {
  size_t start = p->i;
  tnode *a = new_node(p, SL_V_ARRAY, A_STATIC, depth, start, line, col);
  if (!a) return NULL;
  p->i++;
  for (;;) {
    if (!skip_ws_nl_comments(p)) return NULL;
    if (peek(p, 0) == ']') break;
    if (peek(p, 0) == -1) {
      fail(p, start, "unterminated array (missing ']')");
      return NULL;
    }
    sl_value *v = parse_value(p, depth + 1);
    if (!v) return NULL;
    if (sl_v_push(p->doc, &a->v, v) != SL_OK) {
      nomem(p);
      return NULL;
    }
    if (!skip_ws_nl_comments(p)) return NULL;
    int c = peek(p, 0);
    if (c == ',') {
      p->i++;
      continue;
    }
    if (c == ']') break;
    char d[32];
    if (c == -1) fail(p, start, "unterminated array (missing ']')");
    else fail(p, p->i, "expected ',' or ']' after an array element, found %s", describe(p, p->i, d));
    return NULL;
  }
  p->i++;
  return &a->v;
}

static sl_value *parse_inline_table(parser *p, uint32_t depth, uint32_t line, uint32_t col) {
  size_t start = p->i;
  tnode *t = new_node(p, SL_V_OBJECT, T_DOTTED, depth, start, line, col);
  if (!t) return NULL;
  /* While open it is its own section, so dotted keys inside can extend
   * tables they created; closing it makes it T_INLINE for good. */
  t->section = ++p->section_seq;
  p->i++;
  skip_ws(p);
  if (peek(p, 0) == '}') {
    p->i++;
    t->kind = T_INLINE;
    return &t->v;
  }
  for (;;) {
    if (!parse_keyval(p, t)) return NULL;
    skip_ws(p);
    int c = peek(p, 0);
    char d[32];
    if (c == ',') {
      p->i++;
      skip_ws(p);
      if (peek(p, 0) == '}') {
        fail(p, p->i, "a trailing comma is not allowed in an inline table");
        return NULL;
      }
      continue;
    }
    if (c == '}') break;
    if (c == -1) fail(p, start, "unterminated inline table (missing '}')");
    else if (c == '\n' || c == '\r')
      fail(p, p->i, "an inline table must end on the line it starts: expected ',' or '}', found end of line");
    else fail(p, p->i, "expected ',' or '}' in an inline table, found %s", describe(p, p->i, d));
    return NULL;
  }
  p->i++;
  t->kind = T_INLINE;
  return &t->v;
}

static sl_value *parse_scalar(parser *p) {
  size_t start = p->i, j = p->i;
  while (j < p->n && is_token_byte(p->s[j])) j++;
  /* "1979-05-27 07:32:00": a space may separate the date from the time. */
  if (sl__toml_is_full_date((const char *)p->s + start, j - start) && j + 3 < p->n && p->s[j] == ' ' &&
      p->s[j + 1] >= '0' && p->s[j + 1] <= '9' && p->s[j + 2] >= '0' && p->s[j + 2] <= '9' &&
      p->s[j + 3] == ':') {
    j++;
    while (j < p->n && is_token_byte(p->s[j])) j++;
  }
  char d[32];
  if (j == start) {
    fail(p, start, "expected a value, found %s", describe(p, start, d));
    return NULL;
  }
  size_t len = j - start;
  sl_buf_reset(&p->tok);
  sl_status st = sl_buf_reserve(&p->tok, len + 1);
  if (st != SL_OK) {
    nomem(p);
    return NULL;
  }
  char msg[256];
  sl__toml_scalar sc;
  if (!sl__toml_scalar_parse((const char *)p->s + start, len, &sc, p->tok.data, msg, sizeof msg)) {
    fail(p, start, "%s", msg);
    return NULL;
  }
  p->i = j;
  sl_value *v = NULL;
  switch (sc.type) {
    case SL__TOML_BOOL: v = sl_v_bool(p->doc, sc.b); break;
    case SL__TOML_INT: v = sl_v_int(p->doc, sc.i); break;
    case SL__TOML_FLOAT: v = sl_v_number(p->doc, p->tok.data, sc.norm_len, sc.d, SL_NUM_DOUBLE); break;
    case SL__TOML_DATETIME: v = sl_v_datetime(p->doc, p->tok.data, sc.norm_len, sc.dtkind); break;
  }
  if (!v) nomem(p);
  return v;
}

/* A value of any kind at the cursor; depth is the depth it will sit at. */
static sl_value *parse_value(parser *p, uint32_t depth) {
  uint32_t line, col;
  locate(p, p->i, &line, &col);
  int c = peek(p, 0);
  sl_value *v;
  if (c == '"' || c == '\'') {
    sl_buf_reset(&p->str);
    bool ml = peek(p, 1) == c && peek(p, 2) == c;
    if (!(ml ? parse_ml_string(p, &p->str) : parse_line_string(p, &p->str))) return NULL;
    v = sl_v_string(p->doc, p->str.data ? p->str.data : "", p->str.len);
    if (!v) {
      nomem(p);
      return NULL;
    }
  } else if (c == '[') {
    return parse_array(p, depth, line, col);
  } else if (c == '{') {
    return parse_inline_table(p, depth, line, col);
  } else if (!(v = parse_scalar(p))) {
    return NULL;
  }
  v->line = line;
  v->col = col;
  return v;
}

/* ---- key/value pairs and headers ------------------------------------------------------------ */

/* One step of a dotted key inside the section that base belongs to. */
static tnode *dotted_step(parser *p, tnode *t, uint32_t section, size_t first, size_t k) {
  const kpart *kp = &p->parts[k];
  sl_value *m = lookup(t, part_ptr(p, kp), kp->len);
  if (!m) {
    tnode *c = add_table(p, t, kp, T_DOTTED);
    if (c) c->section = section;
    return c;
  }
  tnode *c = (tnode *)m;
  if (m->type == SL_V_OBJECT && c->kind == T_IMPLICIT) { /* dotted keys now define it */
    c->kind = T_DOTTED;
    c->section = section;
    return c;
  }
  if (m->type == SL_V_OBJECT && c->kind == T_DOTTED && c->section == section) return c;
  char key[KEY_SHOW_MAX + 8];
  show_key(p, first, k, key, sizeof key);
  if (m->type == SL_V_OBJECT) {
    if (c->kind == T_INLINE)
      fail(p, kp->pos, "cannot add keys to inline table '%s' (defined at line %u): inline tables are closed once written",
           key, m->line);
    else
      fail(p, kp->pos, "cannot add keys to table '%s' with dotted keys here: it was already defined at line %u",
           key, m->line);
    return NULL;
  }
  fail(p, kp->pos, "'%s' is already %s (defined at line %u), so dotted keys cannot add to it", key, what(m),
       m->line);
  return NULL;
}

/* key = value, added under base (a section's table or an inline table). */
static bool parse_keyval(parser *p, tnode *base) {
  size_t first = p->nparts, keys_mark = p->keys.len;
  if (!parse_key(p)) return false;
  size_t last = p->nparts - 1;
  skip_ws(p);
  if (peek(p, 0) != '=') {
    char key[KEY_SHOW_MAX + 8], d[32];
    return fail(p, p->i, "expected '=' after key '%s', found %s", show_key(p, first, last, key, sizeof key),
                describe(p, p->i, d));
  }
  p->i++;
  skip_ws(p);
  tnode *t = base;
  for (size_t k = first; k < last; k++)
    if (!(t = dotted_step(p, t, base->section, first, k))) return false;
  const kpart *kp = &p->parts[last];
  sl_value *old = lookup(t, part_ptr(p, kp), kp->len);
  if (old) {
    char key[KEY_SHOW_MAX + 8];
    return fail(p, kp->pos, "duplicate key '%s' (first defined at line %u)",
                show_key(p, first, last, key, sizeof key), old->line);
  }
  sl_value *v = parse_value(p, t->depth + 1);
  if (!v) return false;
  kp = &p->parts[last]; /* nested keys may have moved the stack */
  if (!add_member(p, t, part_ptr(p, kp), kp->len, v)) return false;
  pop_key(p, first, keys_mark);
  return true;
}

/* One parent step of a [a.b.c] or [[a.b.c]] header. */
static tnode *header_step(parser *p, tnode *t, size_t first, size_t k) {
  const kpart *kp = &p->parts[k];
  sl_value *m = lookup(t, part_ptr(p, kp), kp->len);
  if (!m) return add_table(p, t, kp, T_IMPLICIT);
  tnode *c = (tnode *)m;
  if (m->type == SL_V_OBJECT && c->kind != T_INLINE) return c;
  if (m->type == SL_V_ARRAY && c->kind == A_TABLES) /* the element added last */
    return (tnode *)c->v.u.arr.items[c->v.u.arr.len - 1];
  char key[KEY_SHOW_MAX + 8];
  show_key(p, first, k, key, sizeof key);
  if (m->type == SL_V_OBJECT)
    fail(p, kp->pos, "cannot extend inline table '%s' (defined at line %u): inline tables are closed once written",
         key, m->line);
  else if (m->type == SL_V_ARRAY)
    fail(p, kp->pos, "cannot extend '%s': it is an array value (line %u), not an array of tables", key, m->line);
  else
    fail(p, kp->pos, "'%s' is already %s (defined at line %u), so it cannot hold a table", key, what(m), m->line);
  return NULL;
}

/* Why [key] or [[key]] cannot name m, which already exists. */
static bool header_conflict(parser *p, size_t start, size_t first, size_t last, const sl_value *m, bool aot) {
  char key[KEY_SHOW_MAX + 8];
  show_key(p, first, last, key, sizeof key);
  const tnode *c = (const tnode *)m;
  if (aot && m->type == SL_V_ARRAY)
    return fail(p, start, "cannot append to '%s' with [[%s]]: it is an array value (line %u), not an array of tables",
                key, key, m->line);
  if (aot)
    return fail(p, start, "'%s' is already %s (defined at line %u), so it cannot be an array of tables", key,
                what(m), m->line);
  if (m->type == SL_V_OBJECT && c->kind == T_HEADER)
    return fail(p, start, "table [%s] is defined twice (first at line %u)", key, m->line);
  if (m->type == SL_V_OBJECT)
    return fail(p, start, "table '%s' was already defined %s at line %u", key,
                c->kind == T_INLINE ? "as an inline table" : "by dotted keys", m->line);
  if (m->type == SL_V_ARRAY && c->kind == A_TABLES)
    return fail(p, start, "'%s' is an array of tables (line %u): add elements with [[%s]]", key, m->line, key);
  return fail(p, start, "'%s' is already %s (defined at line %u), so it cannot be a table", key, what(m), m->line);
}

/* [a.b] or [[a.b]]; *cur becomes the table that following pairs go into. */
static bool parse_header(parser *p, tnode **cur) {
  size_t start = p->i;
  uint32_t line, col;
  locate(p, start, &line, &col);
  bool aot = peek(p, 1) == '[';
  p->i += aot ? 2 : 1;
  size_t first = p->nparts, keys_mark = p->keys.len;
  if (!parse_key(p)) return false;
  size_t last = p->nparts - 1;
  skip_ws(p);
  char d[32];
  if (aot && !(peek(p, 0) == ']' && peek(p, 1) == ']')) {
    size_t at = p->i + (peek(p, 0) == ']'); /* "[[a]" : complain about what follows the one ']' */
    return fail(p, at, "expected ']]' to close the array-of-tables header, found %s", describe(p, at, d));
  }
  if (!aot && peek(p, 0) != ']')
    return fail(p, p->i, "expected ']' to close the table header, found %s", describe(p, p->i, d));
  p->i += aot ? 2 : 1;

  tnode *t = p->root;
  for (size_t k = first; k < last; k++)
    if (!(t = header_step(p, t, first, k))) return false;
  kpart at = p->parts[last]; /* the new table sits where its header starts */
  at.pos = start, at.line = line, at.col = col;
  sl_value *m = lookup(t, part_ptr(p, &at), at.len);
  tnode *c = (tnode *)m;
  if (!aot && !m) {
    if (!(c = add_table(p, t, &at, T_HEADER))) return false;
  } else if (!aot && m->type == SL_V_OBJECT && c->kind == T_IMPLICIT) {
    c->kind = T_HEADER;
    c->v.line = line;
    c->v.col = col;
  } else if (aot && (!m || (m->type == SL_V_ARRAY && c->kind == A_TABLES))) {
    tnode *arr = c;
    if (!m) {
      if (!(arr = new_node(p, SL_V_ARRAY, A_TABLES, t->depth + 1, start, line, col))) return false;
      if (!add_member(p, t, part_ptr(p, &at), at.len, &arr->v)) return false;
    }
    if (!(c = new_node(p, SL_V_OBJECT, T_HEADER, arr->depth + 1, start, line, col))) return false;
    if (sl_v_push(p->doc, &arr->v, &c->v) != SL_OK) return nomem(p);
  } else {
    return header_conflict(p, start, first, last, m, aot);
  }
  c->section = ++p->section_seq;
  *cur = c;
  pop_key(p, first, keys_mark);
  return true;
}

/* ---- document --------------------------------------------------------------------------------- */

static bool parse_document(parser *p) {
  size_t bad = utf8_invalid_at(p->s, p->n);
  if (bad < p->n) return fail(p, bad, "invalid UTF-8 (byte 0x%02X)", p->s[bad]);
  if (p->n >= 3 && memcmp(p->s, "\xEF\xBB\xBF", 3) == 0) p->origin = p->i = p->lc_pos = 3;
  p->root = new_node(p, SL_V_OBJECT, T_HEADER, 0, 0, 1, 1);
  if (!p->root) return false;
  p->doc->root = &p->root->v;
  tnode *cur = p->root;
  for (;;) {
    skip_ws(p);
    int c = peek(p, 0);
    if (c == -1) return true;
    const char *after = "the comment";
    if (c == '[') {
      if (!parse_header(p, &cur)) return false;
      after = "the table header";
    } else if (c != '#' && c != '\n' && c != '\r') {
      if (!parse_keyval(p, cur)) return false;
      after = "the value";
    }
    if (!end_of_line(p, after)) return false;
  }
}

sl_doc *sl_toml_parse(const char *text, size_t len, const char *name, sl_error *err) {
  sl_error_clear(err);
  if (!text && len) {
    sl_error_set(err, SL_INVALID_ARG, "sl_toml_parse: NULL text");
    return NULL;
  }
  sl_doc *doc = sl_doc_new(name ? name : "<string>");
  if (!doc) {
    sl_error_set(err, SL_NOMEM, "out of memory while reading TOML");
    return NULL;
  }
  parser p = {0};
  p.s = (const unsigned char *)(text ? text : "");
  p.n = len;
  p.name = doc->name;
  p.doc = doc;
  p.err = err;
  p.lc_line = p.lc_col = 1;
  bool ok = parse_document(&p);
  sl_buf_free(&p.str);
  sl_buf_free(&p.keys);
  sl_buf_free(&p.tok);
  free(p.parts);
  if (!ok) {
    sl_doc_free(doc);
    return NULL;
  }
  return doc;
}

sl_doc *sl_toml_parse_file(const char *path, sl_error *err) {
  sl_error_clear(err);
  if (!path) {
    sl_error_set(err, SL_INVALID_ARG, "sl_toml_parse_file: NULL path");
    return NULL;
  }
  FILE *f = fopen(path, "rb");
  if (!f) {
    int e = errno;
    sl_error_set(err, (e == ENOENT || e == ENOTDIR) ? SL_NOT_FOUND : SL_IO, "cannot open TOML file '%s': %s",
                 path, strerror(e));
    sl_error_at(err, path, 0, 0, -1);
    return NULL;
  }
  sl_buf b;
  sl_buf_init(&b, SL_TOML_MAX_FILE);
  sl_status st = SL_OK;
  char chunk[16384];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
    if ((st = sl_buf_append(&b, chunk, got)) != SL_OK) break;
  int read_errno = ferror(f) ? errno : 0;
  fclose(f);
  if (st == SL_OK && read_errno) {
    sl_error_set(err, SL_IO, "cannot read TOML file '%s': %s", path, strerror(read_errno));
  } else if (st == SL_TOO_LARGE) {
    sl_error_set(err, SL_TOO_LARGE, "TOML file '%s' is larger than %zu MiB", path, SL_TOML_MAX_FILE >> 20);
  } else if (st != SL_OK) {
    sl_error_set(err, SL_NOMEM, "out of memory reading TOML file '%s'", path);
  } else {
    sl_doc *doc = sl_toml_parse(b.data, b.len, path, err);
    sl_buf_free(&b);
    return doc;
  }
  sl_error_at(err, path, 0, 0, -1);
  sl_buf_free(&b);
  return NULL;
}
