/* The incremental (push) JSON parser of sluice/json.h: bytes in, events out.
 * The hot path scans whole tokens inside the current chunk (strings 16 bytes
 * at a time, integers inline) and hands out zero-copy views; a token cut by
 * the end of a chunk is kept in a small saved state and finished byte by byte
 * when the next chunk arrives, so the parser resumes at any byte boundary. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "json_int.h"
#include "sluice/json.h"

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* What the parser expects next, between tokens. */
enum {
  ST_TOP,       /* the first top-level value */
  ST_VALUE,     /* a value after ':' */
  ST_ARR_FIRST, /* a value or ']' after '[' */
  ST_ARR_NEXT,  /* a value after ',' in an array */
  ST_OBJ_FIRST, /* a key or '}' after '{' */
  ST_OBJ_NEXT,  /* a key after ',' in an object */
  ST_COLON,     /* ':' after a key */
  ST_AFTER,     /* ',' or the closing bracket after a member or element */
  ST_DONE       /* after a top-level value (multi: before the whitespace that
                   separates it from the next, which is then ST_TOP again) */
};

/* The token cut by the end of the previous chunk, if any. */
enum { TK_NONE, TK_KEY, TK_STR, TK_NUM, TK_LIT };

/* Where a string cut by a chunk end stands. */
enum { SS_PLAIN, SS_ESC, SS_HEX, SS_LOW_BS, SS_LOW_U, SS_UTF8 };

#define DEFAULT_MAX_DEPTH 1024
#define DEFAULT_MAX_STRING ((size_t)256 << 20)

struct sl_json_parser {
  sl_json_callback cb;
  void *ud;
  uint32_t max_depth;
  size_t max_string;
  bool multi;
  char *name;

  const char *chunk;  /* the chunk being fed */
  int64_t base;       /* offset of chunk[0] in the whole input */
  int64_t line_start; /* offset of the first byte of the current line */
  uint32_t line;

  uint8_t state, tok, sub;
  bool buffering; /* the current string lives in buf, not in the chunk */
  uint32_t depth, stack_cap;
  uint8_t *stack; /* 1 = object, 0 = array, per open container */

  /* the partial token */
  int64_t tok_off, esc_off, hi_off, u8_off;
  uint32_t hex_val, hi_val;
  uint8_t hex_n, u8_need, u8_lo, u8_hi, u8_lead, lit, lit_n;
  char *buf;
  size_t blen, bcap;

  /* text of the string just scanned */
  const char *sv;
  size_t sl;

  sl_status status;
  sl_error err;
};

#define OFF(ptr) (p->base + (int64_t)((ptr) - p->chunk))

/* ---- errors ------------------------------------------------------------------ */

__attribute__((format(printf, 4, 5))) static void fail(sl_json_parser *p, sl_status code,
                                                       int64_t off, const char *fmt, ...) {
  char msg[sizeof p->err.msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sl_error_clear(&p->err);
  sl_error_set(&p->err, code, "%s", msg);
  sl_error_at(&p->err, p->name, (int)p->line, (int)(off - p->line_start + 1), off);
  p->status = code;
}

static void too_large(sl_json_parser *p) {
  fail(p, SL_TOO_LARGE, p->tok_off,
       "%s longer than the limit of %zu bytes (max_string)",
       p->tok == TK_NUM ? "number" : p->tok == TK_KEY ? "object key" : "string", p->max_string);
}

static const char *expectation(const sl_json_parser *p, unsigned state) {
  switch (state) {
    case ST_TOP: return "expected a JSON value";
    case ST_VALUE: return "expected a value after ':'";
    case ST_ARR_FIRST: return "expected a value or ']' after '['";
    case ST_ARR_NEXT: return "expected a value after ','";
    case ST_OBJ_FIRST: return "expected a string key or '}' after '{'";
    case ST_OBJ_NEXT: return "expected a string key after ','";
    case ST_COLON: return "expected ':' after object key";
    case ST_AFTER:
      return p->stack[p->depth - 1] ? "expected ',' or '}' after object member"
                                    : "expected ',' or ']' after array element";
    default:
      return p->multi ? "expected whitespace between top-level values"
                      : "expected end of input after the top-level value";
  }
}

/* The byte at s (or the end of input) does not fit the state. */
static void fail_unexpected(sl_json_parser *p, unsigned state, const char *s, const char *end) {
  char found[24];
  sl__json_describe(found, sizeof found, s, end);
  const char *hint = "";
  int c = s < end ? (uint8_t)*s : -1;
  bool want_value = state <= ST_ARR_NEXT;
  bool want_key = state == ST_OBJ_FIRST || state == ST_OBJ_NEXT;
  if ((state == ST_ARR_NEXT || state == ST_OBJ_NEXT) && (c == ']' || c == '}'))
    hint = " (trailing commas are not allowed)";
  else if (c == '/' || c == '#')
    hint = " (comments are not allowed)";
  else if (c == '\'' && (want_value || want_key))
    hint = " (strings must use double quotes)";
  else if (want_value && (c == 'N' || c == 'I'))
    hint = " (NaN and Infinity are not allowed)";
  else if (want_value && c == '+')
    hint = " (a number cannot start with '+')";
  else if (want_value && c == '.')
    hint = " (a number needs a digit before '.')";
  else if (want_key && (c == '_' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')))
    hint = " (object keys must be strings in double quotes)";
  else if (c == 0xEF && OFF(s) == 0)
    hint = " (a byte order mark is not allowed)";
  else if (c < 0 && state == ST_TOP && !p->multi)
    hint = " (the input is empty)";
  fail(p, SL_JSON_SYNTAX, s < end ? OFF(s) : p->base + (int64_t)(end - p->chunk), "%s, found %s%s",
       expectation(p, state), found, hint);
}

/* ---- the string buffer --------------------------------------------------------- */

static bool buf_add(sl_json_parser *p, const char *s, size_t n) {
  if (n > p->max_string - p->blen) {
    too_large(p);
    return false;
  }
  if (p->blen + n > p->bcap) {
    size_t cap = p->bcap ? p->bcap : 256;
    while (cap < p->blen + n) cap *= 2;
    /* never more than the limit: a 256 MiB cap must not cost 512 MiB */
    if (cap > p->max_string) cap = p->max_string;
    char *nb = realloc(p->buf, cap);
    if (!nb) {
      fail(p, SL_NOMEM, p->tok_off, "out of memory while buffering a token of %zu bytes",
           p->blen + n);
      return false;
    }
    p->buf = nb;
    p->bcap = cap;
  }
  if (n) memcpy(p->buf + p->blen, s, n);
  p->blen += n;
  return true;
}

static bool buf_add_cp(sl_json_parser *p, uint32_t cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return buf_add(p, u, n);
}

/* ---- strings ------------------------------------------------------------------- */

/* The byte each two-character escape stands for (0 = not a simple escape). */
static const char simple_escape[256] = {
    ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
    ['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
};

static int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* First byte in [s, end) that ends a plain run of string text: '"', '\\', a
 * control character or a byte >= 0x80; end if none. */
static inline const char *find_special(const char *s, const char *end) {
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                space = _mm_set1_epi8(0x20);
  while (end - s >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    /* signed compare: bytes >= 0x80 are negative, so one test catches both
     * control characters and non-ASCII */
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                             _mm_cmplt_epi8(v, space));
    unsigned mask = (unsigned)_mm_movemask_epi8(m);
    if (mask) return s + __builtin_ctz(mask);
    s += 16;
  }
#else
  while (end - s >= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t hit = ((q - ones) & ~q) | ((b - ones) & ~b) | (w - ones * 0x20) | w;
    if (hit & highs) break; /* something special in these 8 bytes: finish bytewise */
    s += 8;
  }
#endif
  while (s < end) {
    uint8_t c = (uint8_t)*s;
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return s;
    s++;
  }
  return s;
}

static void fail_u8(sl_json_parser *p, int64_t off, uint8_t lead, int bad) {
  char msg[160];
  sl__json_u8_msg(msg, sizeof msg, lead, bad);
  fail(p, SL_JSON_UTF8, off, "%s in string", msg);
}

/* Escapes and UTF-8 sequences one byte at a time, while p->sub is not PLAIN:
 * used when such a sequence meets the end of a chunk. Returns the byte after
 * the sequence, or NULL at the end of the chunk (partial) or on error. */
static const char *str_bytes(sl_json_parser *p, const char *s, const char *end) {
  while (p->sub != SS_PLAIN) {
    if (s == end) return NULL;
    uint8_t c = (uint8_t)*s;
    char found[24];
    switch (p->sub) {
      case SS_ESC:
        if (c == 'u') {
          p->sub = SS_HEX;
          p->hex_n = 0;
          p->hex_val = 0;
        } else if (simple_escape[c]) {
          if (!buf_add(p, &simple_escape[c], 1)) return NULL;
          p->sub = SS_PLAIN;
        } else {
          fail(p, SL_JSON_SYNTAX, p->esc_off, "invalid escape in string: '\\' followed by %s",
               sl__json_describe(found, sizeof found, s, end));
          return NULL;
        }
        break;
      case SS_HEX: {
        int h = hex_value(c);
        if (h < 0) {
          fail(p, SL_JSON_SYNTAX, p->esc_off,
               "invalid \\u escape in string: expected 4 hex digits, found %s",
               sl__json_describe(found, sizeof found, s, end));
          return NULL;
        }
        p->hex_val = p->hex_val * 16 + (uint32_t)h;
        if (++p->hex_n < 4) break;
        uint32_t u = p->hex_val;
        if (p->hi_val) {
          if (u < 0xDC00 || u > 0xDFFF) {
            fail(p, SL_JSON_SYNTAX, p->hi_off,
                 "invalid \\u escape in string: high surrogate \\u%04X is followed by \\u%04X, "
                 "which is not a low surrogate",
                 (unsigned)p->hi_val, (unsigned)u);
            return NULL;
          }
          uint32_t cp = 0x10000 + ((p->hi_val - 0xD800) << 10) + (u - 0xDC00);
          p->hi_val = 0;
          if (!buf_add_cp(p, cp)) return NULL;
          p->sub = SS_PLAIN;
        } else if (u >= 0xD800 && u <= 0xDBFF) {
          p->hi_val = u;
          p->hi_off = p->esc_off;
          p->sub = SS_LOW_BS;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
          fail(p, SL_JSON_SYNTAX, p->esc_off,
               "invalid \\u escape in string: lone low surrogate \\u%04X", (unsigned)u);
          return NULL;
        } else {
          if (!buf_add_cp(p, u)) return NULL;
          p->sub = SS_PLAIN;
        }
        break;
      }
      case SS_LOW_BS:
      case SS_LOW_U:
        if (c != (p->sub == SS_LOW_BS ? '\\' : 'u')) {
          fail(p, SL_JSON_SYNTAX, p->hi_off,
               "invalid \\u escape in string: lone high surrogate \\u%04X (a \\uDC00-\\uDFFF "
               "escape must follow it)",
               (unsigned)p->hi_val);
          return NULL;
        }
        if (p->sub == SS_LOW_BS) {
          p->esc_off = OFF(s);
          p->sub = SS_LOW_U;
        } else {
          p->sub = SS_HEX;
          p->hex_n = 0;
          p->hex_val = 0;
        }
        break;
      case SS_UTF8:
        if (c < p->u8_lo || c > p->u8_hi) {
          fail_u8(p, p->u8_off, p->u8_lead, c);
          return NULL;
        }
        if (!buf_add(p, (const char *)s, 1)) return NULL;
        p->u8_lo = 0x80;
        p->u8_hi = 0xBF;
        if (--p->u8_need == 0) p->sub = SS_PLAIN;
        break;
    }
    s++;
  }
  return s;
}

/* The rest of a string after the fast scan stopped at q (a special byte or
 * the end of the chunk); [run, q) is plain text not yet in the buffer. Returns
 * the byte after the closing quote with the text in p->sv/p->sl, or NULL at
 * the end of the chunk (the string continues) or on error (p->status). */
static const char *string_rest(sl_json_parser *p, const char *run, const char *q,
                               const char *end) {
  for (;;) {
    /* Valid UTF-8 sequences wholly inside the chunk stay in the run. */
    while (q < end && (uint8_t)*q >= 0x80) {
      size_t n = sl__json_u8_valid((const uint8_t *)q, (size_t)(end - q));
      if (!n) break;
      q = find_special(q + n, end);
    }
    uint8_t c = q < end ? (uint8_t)*q : 0;
    /* A non-ASCII byte here starts an invalid sequence, or a valid beginning
     * cut by the end of the chunk: bad is the index of the first wrong byte
     * (0 for the lead itself), or the number of bytes left when cut. */
    size_t bad = 0, left = (size_t)(end - q);
    sl__u8lead l = {0, 0, 0};
    if (c >= 0x80 && (l = sl__json_u8_lead(c)).need) {
      uint8_t lo = l.lo, hi = l.hi;
      for (bad = 1; bad < left && (uint8_t)q[bad] >= lo && (uint8_t)q[bad] <= hi; bad++) {
        lo = 0x80;
        hi = 0xBF;
      }
    }
    bool cut = c >= 0x80 && l.need && bad == left;
    size_t n = (size_t)(q - run);
    bool spill = q == end || c == '\\' || cut;
    if (p->buffering || spill) {
      if (!buf_add(p, run, n)) return NULL;
      p->buffering = true;
    } else if (n > p->max_string) {
      too_large(p);
      return NULL;
    }
    if (q == end) return NULL;
    if (c == '"') {
      if (p->buffering) {
        p->sv = p->buf;
        p->sl = p->blen;
      } else {
        p->sv = run;
        p->sl = n;
      }
      return q + 1;
    }
    if (c == '\\') {
      if (end - q >= 2 && simple_escape[(uint8_t)q[1]]) {
        if (!buf_add(p, &simple_escape[(uint8_t)q[1]], 1)) return NULL;
        q += 2;
      } else {
        p->esc_off = OFF(q);
        p->sub = SS_ESC;
        q = str_bytes(p, q + 1, end);
        if (!q) return NULL;
      }
    } else if (c >= 0x80) {
      if (!cut) {
        fail_u8(p, OFF(q), c, bad ? (uint8_t)q[bad] : -1);
        return NULL;
      }
      /* A sequence that may continue in the next chunk. */
      p->u8_off = OFF(q);
      p->u8_lead = c;
      p->u8_need = l.need;
      p->u8_lo = l.lo;
      p->u8_hi = l.hi;
      p->sub = SS_UTF8;
      if (!buf_add(p, q, 1)) return NULL;
      q = str_bytes(p, q + 1, end);
      if (!q) return NULL;
    } else {
      char found[24];
      fail(p, SL_JSON_SYNTAX, OFF(q),
           "unescaped control character %s in string (write it as a \\u escape)",
           sl__json_describe(found, sizeof found, q, end));
      return NULL;
    }
    run = q;
    q = find_special(q, end);
  }
}

/* A string whose opening quote is at s; see string_rest for the result. */
static inline const char *string_at(sl_json_parser *p, const char *s, const char *end, int tok) {
  const char *b = s + 1;
  const char *q = find_special(b, end);
  if (LIKELY(q < end && *q == '"')) {
    size_t n = (size_t)(q - b);
    if (UNLIKELY(n > p->max_string)) {
      p->tok = (uint8_t)tok;
      p->tok_off = OFF(s);
      too_large(p);
      p->tok = TK_NONE;
      return NULL;
    }
    p->sv = b;
    p->sl = n;
    return q + 1;
  }
  p->tok = (uint8_t)tok; /* so that errors and a cut know what it is */
  p->tok_off = OFF(s);
  p->buffering = false;
  p->blen = 0;
  p->sub = SS_PLAIN;
  p->hi_val = 0;
  const char *r = string_rest(p, b, q, end);
  if (r) p->tok = TK_NONE;
  return r;
}

/* ---- events -------------------------------------------------------------------- */

static inline int deliver(sl_json_parser *p, sl_json_event *ev) {
  ev->line = p->line;
  ev->col = (uint32_t)(ev->offset - p->line_start + 1);
  if (LIKELY(p->cb(p->ud, ev) == 0)) return 0;
  fail(p, SL_ABORTED, ev->offset, "parsing stopped by the callback");
  return 1;
}

static inline int emit(sl_json_parser *p, sl_json_ev type, uint32_t depth, const char *str,
                       size_t len, int64_t off) {
  if (!p->cb) return 0;
  sl_json_event ev = {.type = type, .depth = depth, .str = str, .len = len, .offset = off};
  return deliver(p, &ev);
}

static inline int emit_num(sl_json_parser *p, uint32_t depth, const char *str, size_t len,
                           sl_numkind kind, int64_t i64, double f64, int64_t off) {
  if (!p->cb) return 0;
  sl_json_event ev = {.type = SL_JSON_NUMBER, .depth = depth, .str = str, .len = len,
                      .numkind = kind, .i64 = i64, .f64 = f64, .offset = off};
  return deliver(p, &ev);
}

static int emit_number_text(sl_json_parser *p, uint32_t depth, const char *str, size_t len,
                            int64_t off) {
  int64_t i64 = 0;
  double f64 = 0;
  sl_numkind kind = sl_json_classify_number(str, len, &i64, &f64);
  return emit_num(p, depth, str, len, kind, i64, f64, off);
}

/* ---- numbers and literals ---------------------------------------------------------- */

/* Bytes that continue an integer into a longer number. */
static const uint8_t num_more[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1, ['.'] = 1, ['e'] = 1, ['E'] = 1,
};

static void fail_number(sl_json_parser *p, int st, const char *at, const char *end) {
  char found[24];
  sl__json_describe(found, sizeof found, at, end);
  int64_t off = at < end ? OFF(at) : p->base + (int64_t)(end - p->chunk);
  if (st == SL__NUM_ZERO)
    fail(p, SL_JSON_SYNTAX, off, "%s (found %s after '0')", sl__json_num_error(st), found);
  else
    fail(p, SL_JSON_SYNTAX, off, "%s, found %s", sl__json_num_error(st), found);
}

/* The general number path: returns the byte after the number (event sent),
 * or NULL at the end of the chunk (number saved in buf) or on error. */
static const char *number_at(sl_json_parser *p, uint32_t depth, const char *s, const char *end) {
  int st = SL__NUM_START, nx = SL__NUM_END;
  const char *t = s;
  for (; t < end; t++) {
    nx = sl__json_num_step(st, (uint8_t)*t);
    if (nx < 0) break;
    st = nx;
  }
  p->tok = TK_NUM;
  p->tok_off = OFF(s);
  if (t == end) {
    p->blen = 0;
    if (buf_add(p, s, (size_t)(t - s))) p->sub = (uint8_t)st;
    return NULL;
  }
  if ((size_t)(t - s) > p->max_string) {
    too_large(p);
    return NULL;
  }
  p->tok = TK_NONE;
  if (nx == SL__NUM_ERR) {
    fail_number(p, st, t, end);
    return NULL;
  }
  if (emit_number_text(p, depth, s, (size_t)(t - s), OFF(s))) return NULL;
  return t;
}

static const char *const literal_text[] = {"null", "false", "true"};
static const sl_json_ev literal_ev[] = {SL_JSON_NULL, SL_JSON_FALSE, SL_JSON_TRUE};

/* Matches the rest of literal p->lit from position p->lit_n; returns the byte
 * after it, or NULL at the end of the chunk or on a mismatch. */
static const char *literal_rest(sl_json_parser *p, const char *s, const char *end) {
  const char *word = literal_text[p->lit];
  for (; word[p->lit_n]; p->lit_n++, s++) {
    if (s == end) return NULL;
    if (*s != word[p->lit_n]) {
      char found[24];
      fail(p, SL_JSON_SYNTAX, OFF(s), "invalid literal: expected '%s', found %s", word,
           sl__json_describe(found, sizeof found, s, end));
      return NULL;
    }
  }
  return s;
}

/* ---- the state machine --------------------------------------------------------------- */

static bool grow_stack(sl_json_parser *p) {
  uint64_t cap = p->stack_cap ? (uint64_t)p->stack_cap * 2 : 64;
  if (cap > p->max_depth) cap = p->max_depth;
  uint8_t *ns = realloc(p->stack, cap);
  if (!ns) return false;
  p->stack = ns;
  p->stack_cap = (uint32_t)cap;
  return true;
}

static inline unsigned after_value(const sl_json_parser *p) {
  return p->depth ? ST_AFTER : ST_DONE;
}

/* Finish the token cut by the previous chunk. Returns where to go on, or NULL
 * when the token still continues (or on error). */
static const char *resume(sl_json_parser *p, const char *s, const char *end) {
  switch (p->tok) {
    case TK_KEY:
    case TK_STR: {
      const char *q = s;
      if (p->sub != SS_PLAIN) {
        q = str_bytes(p, s, end);
        if (!q) return NULL;
      }
      q = string_rest(p, q, find_special(q, end), end);
      if (!q) return NULL;
      bool key = p->tok == TK_KEY;
      p->tok = TK_NONE;
      if (emit(p, key ? SL_JSON_KEY : SL_JSON_STRING, p->depth, p->sv, p->sl, p->tok_off))
        return NULL;
      p->state = key ? ST_COLON : (uint8_t)after_value(p);
      return q;
    }
    case TK_NUM: {
      int st = p->sub, nx = SL__NUM_END;
      const char *t = s;
      for (; t < end; t++) {
        nx = sl__json_num_step(st, (uint8_t)*t);
        if (nx < 0) break;
        st = nx;
      }
      if (!buf_add(p, s, (size_t)(t - s))) return NULL;
      p->sub = (uint8_t)st;
      if (t == end) return NULL;
      p->tok = TK_NONE;
      if (nx == SL__NUM_ERR) {
        fail_number(p, st, t, end);
        return NULL;
      }
      if (emit_number_text(p, p->depth, p->buf, p->blen, p->tok_off)) return NULL;
      p->state = (uint8_t)after_value(p);
      return t;
    }
    case TK_LIT: {
      const char *q = literal_rest(p, s, end);
      if (!q) return NULL;
      p->tok = TK_NONE;
      if (emit(p, literal_ev[p->lit], p->depth, NULL, 0, p->tok_off)) return NULL;
      p->state = (uint8_t)after_value(p);
      return q;
    }
  }
  return s;
}

/* Whitespace from s (which is whitespace or a control byte); counts lines. */
static const char *skip_ws(sl_json_parser *p, const char *s, const char *end) {
  for (; s < end; s++) {
    char w = *s;
    if (w == '\n') {
      p->line++;
      p->line_start = OFF(s) + 1;
    } else if (w != ' ' && w != '\t' && w != '\r') {
      break;
    }
  }
  return s;
}

static inline uint32_t load32(const char *s) {
  uint32_t v;
  memcpy(&v, s, 4);
  return v;
}

/* The main loop. Each label is a place in the grammar; the common path jumps
 * from one to the next directly, and `state` (what to expect next) is kept
 * only for error messages and for the end of the chunk. */
static void run(sl_json_parser *p, const char *s, const char *end) {
  unsigned state = p->state;
  uint32_t depth = p->depth;
  uint8_t *stack = p->stack;
  const char *r;
  uint8_t c;

#define SKIP_WS()                                   \
  do {                                              \
    if (UNLIKELY(s == end)) goto out;               \
    if (UNLIKELY((uint8_t)*s <= ' ')) {             \
      s = skip_ws(p, s, end);                       \
      if (s == end) goto out;                       \
    }                                               \
  } while (0)

  switch (state) {
    case ST_ARR_FIRST: goto arr_first;
    case ST_OBJ_FIRST: goto obj_first;
    case ST_OBJ_NEXT: goto obj_next;
    case ST_COLON: goto colon;
    case ST_AFTER: goto after;
    case ST_DONE: goto done;
    default: goto value; /* ST_TOP, ST_VALUE, ST_ARR_NEXT */
  }

value:
  SKIP_WS();
value_here:
  c = (uint8_t)*s;
  switch (c) {
    case '"':
      r = string_at(p, s, end, TK_STR);
      if (!r) goto out;
      if (emit(p, SL_JSON_STRING, depth, p->sv, p->sl, OFF(s))) goto out;
      s = r;
      goto after_value;
    case '{':
    case '[':
      if (UNLIKELY(depth >= p->max_depth)) {
        fail(p, SL_JSON_DEPTH, OFF(s),
             "nesting too deep: more than %u levels of arrays and objects (max_depth)",
             (unsigned)p->max_depth);
        goto out;
      }
      if (UNLIKELY(depth == p->stack_cap)) {
        if (!grow_stack(p)) {
          fail(p, SL_NOMEM, OFF(s), "out of memory for the nesting stack");
          goto out;
        }
        stack = p->stack;
      }
      stack[depth] = c == '{';
      if (emit(p, c == '{' ? SL_JSON_OBJECT_BEGIN : SL_JSON_ARRAY_BEGIN, depth, NULL, 0, OFF(s)))
        goto out;
      depth++;
      s++;
      if (c == '{') {
        state = ST_OBJ_FIRST;
        goto obj_first;
      }
      state = ST_ARR_FIRST;
      goto arr_first;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9': {
      /* Fast path, well inside the chunk: integers of up to 18 digits, and
       * decimals of up to 18 digits in all whose value Clinger's rule gives
       * exactly. Everything else takes the general path. */
      const char *t = s + (c == '-');
      if (LIKELY(end - t > 40)) {
        uint64_t v = (uint64_t)(uint8_t)(*t - '0');
        const char *lim = t + 18;
        if (v - 1 < 9) {
          t++;
          while (t < lim && (uint8_t)(*t - '0') < 10) v = v * 10 + (uint64_t)(*t++ - '0');
        } else if (v == 0) {
          t++;
        } else {
          goto number_general;
        }
        if (!num_more[(uint8_t)*t]) {
          int64_t iv = c == '-' ? -(int64_t)v : (int64_t)v;
          if (emit_num(p, depth, s, (size_t)(t - s), SL_NUM_INT64, iv, (double)iv, OFF(s)))
            goto out;
          s = t;
          goto after_value;
        }
        if (*t == '.') {
          const char *f = ++t;
          while (t < lim && (uint8_t)(*t - '0') < 10) v = v * 10 + (uint64_t)(*t++ - '0');
          double d;
          if (t > f && !num_more[(uint8_t)*t] && sl__json_fast_double(v, f - t, c == '-', &d)) {
            if (emit_num(p, depth, s, (size_t)(t - s), SL_NUM_DECIMAL, 0, d, OFF(s))) goto out;
            s = t;
            goto after_value;
          }
        }
      }
    number_general:
      r = number_at(p, depth, s, end);
      if (!r) goto out;
      s = r;
      goto after_value;
    }
    case 't':
      if (LIKELY(end - s >= 4 && load32(s) == load32("true"))) {
        if (emit(p, SL_JSON_TRUE, depth, NULL, 0, OFF(s))) goto out;
        s += 4;
        goto after_value;
      }
      goto literal_general;
    case 'f':
      if (LIKELY(end - s >= 5 && load32(s + 1) == load32("alse"))) {
        if (emit(p, SL_JSON_FALSE, depth, NULL, 0, OFF(s))) goto out;
        s += 5;
        goto after_value;
      }
      goto literal_general;
    case 'n':
      if (LIKELY(end - s >= 4 && load32(s) == load32("null"))) {
        if (emit(p, SL_JSON_NULL, depth, NULL, 0, OFF(s))) goto out;
        s += 4;
        goto after_value;
      }
    literal_general:
      /* cut by the chunk end, or misspelt */
      p->tok = TK_LIT;
      p->tok_off = OFF(s);
      p->lit = c == 'n' ? 0 : c == 'f' ? 1 : 2;
      p->lit_n = 0;
      r = literal_rest(p, s, end);
      if (!r) goto out;
      p->tok = TK_NONE;
      if (emit(p, literal_ev[p->lit], depth, NULL, 0, OFF(s))) goto out;
      s = r;
      goto after_value;
    default:
      goto unexpected;
  }

after_value:
  if (UNLIKELY(depth == 0)) {
    state = ST_DONE;
    goto done;
  }
  state = ST_AFTER;
after:
  SKIP_WS();
  c = (uint8_t)*s;
  if (LIKELY(c == ',')) {
    s++;
    if (stack[depth - 1]) {
      state = ST_OBJ_NEXT;
      goto obj_next;
    }
    state = ST_ARR_NEXT;
    goto value;
  }
  if (c == (stack[depth - 1] ? '}' : ']')) goto close;
  goto unexpected;

close:
  depth--;
  if (emit(p, *s == '}' ? SL_JSON_OBJECT_END : SL_JSON_ARRAY_END, depth, NULL, 0, OFF(s)))
    goto out;
  s++;
  goto after_value;

arr_first:
  SKIP_WS();
  if (*s == ']') goto close;
  goto value_here;

obj_first:
  SKIP_WS();
  if (*s == '}') goto close;
  /* fallthrough */
obj_next:
  SKIP_WS();
  if (UNLIKELY(*s != '"')) goto unexpected;
  r = string_at(p, s, end, TK_KEY);
  if (!r) goto out;
  if (emit(p, SL_JSON_KEY, depth, p->sv, p->sl, OFF(s))) goto out;
  s = r;
  state = ST_COLON;
colon:
  SKIP_WS();
  if (UNLIKELY(*s != ':')) goto unexpected;
  s++;
  state = ST_VALUE;
  goto value;

done : {
  /* After a top-level value: only whitespace, or (multi) whitespace and the
   * next value. */
  const char *s0 = s;
  if (s < end && (uint8_t)*s <= ' ') s = skip_ws(p, s, end);
  if (p->multi && s != s0) state = ST_TOP;
  if (s == end) goto out;
  if (state == ST_TOP) goto value_here;
  goto unexpected;
}

unexpected:
  p->depth = depth;
  fail_unexpected(p, state, s, end);
out:
  p->state = (uint8_t)state;
  p->depth = depth;
#undef SKIP_WS
}

/* ---- public API ------------------------------------------------------------------------ */

sl_json_parser *sl_json_parser_new(const sl_json_options *opts, sl_json_callback cb, void *ud) {
  sl_json_parser *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->cb = cb;
  p->ud = ud;
  p->max_depth = opts && opts->max_depth ? opts->max_depth : DEFAULT_MAX_DEPTH;
  p->max_string = opts && opts->max_string ? opts->max_string : DEFAULT_MAX_STRING;
  p->multi = opts && opts->multi;
  if (opts && opts->name) {
    p->name = strdup(opts->name);
    if (!p->name) {
      free(p);
      return NULL;
    }
  }
  sl_json_parser_reset(p);
  return p;
}

void sl_json_parser_free(sl_json_parser *p) {
  if (!p) return;
  free(p->stack);
  free(p->buf);
  free(p->name);
  free(p);
}

void sl_json_parser_reset(sl_json_parser *p) {
  p->chunk = NULL;
  p->base = 0;
  p->line_start = 0;
  p->line = 1;
  p->state = ST_TOP;
  p->tok = TK_NONE;
  p->sub = SS_PLAIN;
  p->depth = 0;
  p->blen = 0;
  p->status = SL_OK;
  sl_error_clear(&p->err);
}

static sl_status report(sl_json_parser *p, sl_error *err) {
  if (err) *err = p->err;
  return p->status;
}

sl_status sl_json_feed(sl_json_parser *p, const char *chunk, size_t len, sl_error *err) {
  if (p->status) return report(p, err);
  if (!chunk) {
    chunk = "";
    len = 0;
  }
  const char *s = chunk, *end = chunk + len;
  p->chunk = chunk;
  if (p->tok != TK_NONE) s = resume(p, s, end);
  if (s && !p->status) run(p, s, end);
  p->base += (int64_t)len;
  p->chunk = NULL;
  if (p->status) return report(p, err);
  return SL_OK;
}

sl_status sl_json_finish(sl_json_parser *p, sl_error *err) {
  if (p->status) return report(p, err);
  /* An empty chunk at the end of input, so that OFF() gives p->base. */
  static const char nothing[1] = {0};
  const char *eoi = nothing;
  p->chunk = eoi;
  switch (p->tok) {
    case TK_NUM:
      if (!sl__json_num_accepting(p->sub)) {
        fail_number(p, p->sub, eoi, eoi);
        break;
      }
      p->tok = TK_NONE;
      if (emit_number_text(p, p->depth, p->buf, p->blen, p->tok_off)) break;
      p->state = (uint8_t)after_value(p);
      break;
    case TK_KEY:
    case TK_STR:
      fail(p, SL_JSON_SYNTAX, p->base,
           "unterminated %s: the input ends inside it (it starts at column %lld)",
           p->tok == TK_KEY ? "object key" : "string", (long long)(p->tok_off - p->line_start + 1));
      break;
    case TK_LIT:
      fail(p, SL_JSON_SYNTAX, p->base, "invalid literal: expected '%s', found end of input",
           literal_text[p->lit]);
      break;
  }
  if (!p->status && p->state != ST_DONE && !(p->state == ST_TOP && p->multi))
    fail_unexpected(p, p->state, eoi, eoi);
  p->chunk = NULL;
  if (p->status) return report(p, err);
  return SL_OK;
}

int64_t sl_json_offset(const sl_json_parser *p) { return p->base; }
uint32_t sl_json_line(const sl_json_parser *p) { return p->line; }
