/* normalize_row.c — a finished record becomes rows: values deduplicated in
 * dlt's order, system columns and row ids added, each value coerced into its
 * column's type (or into a variant column), new columns checked against the
 * schema contract and added, and the row handed to the sink — parents before
 * children, in the order dlt's relational normalizer yields them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "normalize/normalize_int.h"
#include "sluice/base64.h"
#include "sluice/detect.h"
#include "sluice/json.h"
#include "sluice/sha3.h"

/* ---- Python's repr of a float (dlt turns floats into text with str()) ------- */

size_t sl__py_float_repr(double d, char *out, size_t size) {
  if (isnan(d)) return (size_t)snprintf(out, size, "nan");
  if (isinf(d)) return (size_t)snprintf(out, size, d < 0 ? "-inf" : "inf");
  char buf[40];
  int prec = 1;
  for (; prec <= 17; prec++) { /* the shortest digits that read back the same */
    snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
    if (strtod(buf, NULL) == d) break;
  }
  /* buf: [-]d.ddde[+-]xx */
  char digits[24];
  size_t nd = 0;
  const char *p = buf;
  bool neg = *p == '-';
  if (neg) p++;
  for (; *p && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9') digits[nd++] = *p;
  int exp = atoi(p + 1);
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  char o[64];
  size_t k = 0;
  if (neg) o[k++] = '-';
  if (exp >= -5 + 1 && exp < 16) { /* Python: fixed when -4 <= exp < 16 */
    if (exp >= 0) {
      for (int i = 0; i <= exp; i++) o[k++] = (size_t)i < nd ? digits[i] : '0';
      o[k++] = '.';
      if ((size_t)exp + 1 < nd)
        for (size_t i = (size_t)exp + 1; i < nd; i++) o[k++] = digits[i];
      else
        o[k++] = '0';
    } else {
      o[k++] = '0';
      o[k++] = '.';
      for (int i = -1; i > exp; i--) o[k++] = '0';
      for (size_t i = 0; i < nd; i++) o[k++] = digits[i];
    }
  } else {
    o[k++] = digits[0];
    if (nd > 1) {
      o[k++] = '.';
      for (size_t i = 1; i < nd; i++) o[k++] = digits[i];
    }
    k += (size_t)snprintf(o + k, sizeof o - k, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  }
  o[k] = '\0';
  return (size_t)snprintf(out, size, "%s", o);
}

/* ---- coercion (dlt's coerce_value from the value's Python type) ------------------- */

#define MIN_MICROS (-62135596800LL * 1000000LL)       /* 0001-01-01 */
#define MAX_MICROS (253402300799LL * 1000000LL + 999999LL) /* 9999-12-31T23:59:59.999999 */

static bool seconds_to_micros(double s, int64_t *out) {
  if (!isfinite(s)) return false;
  double m = nearbyint(s * 1e6);
  if (m < (double)MIN_MICROS || m > (double)MAX_MICROS) return false;
  *out = (int64_t)m;
  return true;
}

static bool number_seconds(const nz_val *v, double *s) {
  switch (v->kind) {
    case VK_INT: *s = (double)v->n.i; return true;
    case VK_DBL: *s = v->n.d; return true;
    case VK_BOOL: *s = v->b ? 1 : 0; return true; /* Python's bool is an int */
    default: return false;
  }
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Python's Decimal(text.strip()) for finite numbers: sign, digits with single
 * '_' between digits, optional fraction and exponent. */
static bool decimal_text(const char *s, size_t len) {
  size_t i = 0;
  if (i < len && (s[i] == '+' || s[i] == '-')) i++;
  size_t digits = 0;
  for (; i < len; i++) {
    if (is_digit(s[i])) digits++;
    else if (s[i] == '_' && i > 0 && is_digit(s[i - 1]) && i + 1 < len && is_digit(s[i + 1])) continue;
    else break;
  }
  if (i < len && s[i] == '.') {
    for (i++; i < len; i++) {
      if (is_digit(s[i])) digits++;
      else if (s[i] == '_' && is_digit(s[i - 1]) && i + 1 < len && is_digit(s[i + 1])) continue;
      else break;
    }
  }
  if (!digits) return false;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    size_t ed = 0;
    for (; i < len && is_digit(s[i]); i++) ed++;
    if (!ed) return false;
  }
  return i == len;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* bytes.fromhex after "0x", or strict base64 (b64decode(validate=True)). */
static bool binary_text(sl_normalizer *n, const char *s, size_t len, sl_row_value *out) {
  if (len >= 2 && s[0] == '0' && s[1] == 'x') {
    char *b = sl__nz_bump(n, len / 2 + 1);
    size_t k = 0;
    if (!b) return false;
    for (size_t i = 2; i < len;) {
      if (s[i] == ' ') {
        i++;
        continue;
      }
      if (i + 1 >= len) return false;
      int hi = hexval(s[i]), lo = hexval(s[i + 1]);
      if (hi < 0 || lo < 0) return false;
      b[k++] = (char)(hi << 4 | lo);
      i += 2;
    }
    out->v.s.p = b;
    out->v.s.n = k;
    return true;
  }
  if (len % 4) return false; /* cheap reject before taking memory */
  char *b = sl__nz_bump(n, sl_base64_decoded_max(len));
  size_t k = 0;
  if (!b || !sl_base64_decode_to(s, len, SL_BASE64_STRICT, b, &k)) return false;
  out->v.s.p = b;
  out->v.s.n = k;
  return true;
}

static bool valid_json_text(sl_normalizer *n, const char *s, size_t len) {
  if (!n->validator && !(n->validator = sl_json_parser_new(NULL, NULL, NULL))) return false;
  sl_json_parser_reset(n->validator);
  return sl_json_feed(n->validator, s, len, NULL) == SL_OK && sl_json_finish(n->validator, NULL) == SL_OK;
}

static bool set_text(sl_normalizer *n, sl_row_value *out, const char *s, size_t len, bool copy) {
  if (copy) {
    char *p = sl__nz_bump(n, len ? len : 1);
    if (!p) return false;
    memcpy(p, s, len);
    s = p;
  }
  out->v.s.p = s;
  out->v.s.n = len;
  return true;
}

/* Coerce v into type `to`; false when dlt's coercion would fail (or on OOM,
 * which then shows as a variant — the caller's next allocation fails loudly). */
static bool coerce(sl_normalizer *n, const nz_val *v, sl_dtype to, sl_row_value *out) {
  char buf[64];
  const char *s = v->s;
  size_t len = v->len;
  switch (to) {
    case SL_T_TEXT:
      switch (v->kind) {
        case VK_STR:
        case VK_BIGNUM:
        case VK_JSON: return set_text(n, out, s, len, false);
        case VK_INT: return set_text(n, out, buf, (size_t)snprintf(buf, sizeof buf, "%lld", (long long)v->n.i), true);
        case VK_DBL: return set_text(n, out, buf, sl__py_float_repr(v->n.d, buf, sizeof buf), true);
        case VK_BOOL: return set_text(n, out, v->b ? "True" : "False", v->b ? 4 : 5, false);
        default: return false;
      }
    case SL_T_JSON:
      if (v->kind == VK_JSON) return set_text(n, out, s, len, false);
      if (v->kind == VK_STR && valid_json_text(n, s, len)) return set_text(n, out, s, len, false);
      return false;
    case SL_T_BIGINT:
      switch (v->kind) {
        case VK_INT: out->v.i = v->n.i; return true;
        case VK_STR: return sl_parse_int64_text(s, len, &out->v.i);
        case VK_DBL:
          if (!isfinite(v->n.d) || v->n.d != floor(v->n.d) || v->n.d < -9223372036854775808.0 ||
              v->n.d >= 9223372036854775808.0)
            return false;
          out->v.i = (int64_t)v->n.d;
          return true;
        default: return false;
      }
    case SL_T_DOUBLE:
      switch (v->kind) {
        case VK_DBL: out->v.d = v->n.d; return true;
        case VK_INT: out->v.d = (double)v->n.i; return true;
        case VK_BIGNUM: {
          char tmp[512];
          if (len >= sizeof tmp) return false;
          memcpy(tmp, s, len);
          tmp[len] = '\0';
          out->v.d = strtod(tmp, NULL);
          return true;
        }
        case VK_STR:
          /* a JSON number kept as text because no double holds it goes to a variant */
          if (!sl_parse_double_text(s, len, &out->v.d)) return false;
          return !v->num || isfinite(out->v.d);
        default: return false;
      }
    case SL_T_DECIMAL:
    case SL_T_WEI:
      switch (v->kind) {
        case VK_BIGNUM: return set_text(n, out, s, len, false);
        case VK_INT: return set_text(n, out, buf, (size_t)snprintf(buf, sizeof buf, "%lld", (long long)v->n.i), true);
        case VK_DBL:
          if (!isfinite(v->n.d)) return false;
          return set_text(n, out, buf, sl__py_float_repr(v->n.d, buf, sizeof buf), true);
        case VK_STR: {
          const char *p = s;
          size_t l = len;
          sl_detect_strip(&p, &l);
          if (!decimal_text(p, l)) return false;
          /* drop the '_' separators Python accepts */
          char *q = sl__nz_bump(n, l ? l : 1);
          size_t k = 0;
          if (!q) return false;
          for (size_t i = 0; i < l; i++)
            if (p[i] != '_') q[k++] = p[i];
          out->v.s.p = q;
          out->v.s.n = k;
          return true;
        }
        default: return false;
      }
    case SL_T_BOOL:
      switch (v->kind) {
        case VK_BOOL: out->v.b = v->b; return true;
        case VK_STR: return sl_parse_bool_text(s, len, &out->v.b);
        case VK_INT: out->v.b = v->n.i != 0; return true;
        case VK_DBL: out->v.b = v->n.d != 0; return true;
        case VK_BIGNUM: out->v.b = true; return true;
        default: return false;
      }
    case SL_T_TIMESTAMP: {
      if (v->kind == VK_STR) return sl_parse_timestamp_text(s, len, &out->v.i);
      double sec;
      return number_seconds(v, &sec) && seconds_to_micros(sec, &out->v.i);
    }
    case SL_T_DATE: {
      if (v->kind == VK_STR) {
        int32_t days;
        if (!sl_parse_date_text(s, len, &days)) return false;
        out->v.i = days;
        return true;
      }
      double sec;
      int64_t m;
      if (!number_seconds(v, &sec) || !seconds_to_micros(sec, &m)) return false;
      out->v.i = m >= 0 ? m / 86400000000LL : -((-m + 86400000000LL - 1) / 86400000000LL);
      return true;
    }
    case SL_T_TIME: {
      if (v->kind == VK_STR) return sl_detect_iso_time(s, len, &out->v.i);
      double sec;
      int64_t m;
      if (!number_seconds(v, &sec) || !seconds_to_micros(sec, &m)) return false;
      m %= 86400000000LL;
      out->v.i = m < 0 ? m + 86400000000LL : m;
      return true;
    }
    case SL_T_BINARY:
      if (v->kind == VK_STR) return binary_text(n, s, len, out);
      if (v->kind == VK_INT && v->n.i >= 0) {
        uint64_t x = (uint64_t)v->n.i;
        char *b = sl__nz_bump(n, 8);
        size_t k = 0;
        if (!b) return false;
        while (x) {
          b[k++] = (char)(x & 0xff);
          x >>= 8;
        }
        out->v.s.p = b;
        out->v.s.n = k;
        return true;
      }
      return false;
    default:
      return false;
  }
}

/* Whether decimal text (as coerce leaves it: sign, digits, point, exponent)
 * fits DECIMAL(precision, scale) once rounded to scale digits, half away from
 * zero as the destinations round: at most precision - scale integer digits,
 * counting the one a carry adds (99.995 at scale 2 is 100.00). */
static bool decimal_fits(const char *s, size_t len, int precision, int scale) {
  size_t i = 0;
  if (i < len && (s[i] == '+' || s[i] == '-')) i++;
  /* value = 0.d1d2… × 10^e, d1 the first non-zero digit; the first 128 digits kept */
  char d[128];
  size_t nd = 0;
  long e = 0;
  bool dot = false, any = false;
  for (; i < len; i++) {
    if (s[i] == '.' && !dot) {
      dot = true;
      continue;
    }
    if (!is_digit(s[i])) break;
    any = true;
    if (nd == 0 && s[i] == '0') {
      if (dot) e--;
      continue;
    }
    if (nd < sizeof d) d[nd] = s[i];
    nd++;
    if (!dot) e++;
  }
  if (!any) return false;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    bool neg = false;
    if (++i < len && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    long x = 0;
    for (; i < len && is_digit(s[i]); i++)
      if (x < 100000) x = x * 10 + (s[i] - '0');
    e += neg ? -x : x;
  }
  if (i != len) return false;
  if (nd == 0) return true; /* zero */
  long keep = e + scale; /* digits left of the point after scaling */
  if (keep > (long)sizeof d - 1) return false; /* far too wide for any precision <= 38 */
  bool carry = false;
  if (keep >= 0 && (size_t)keep < nd && d[keep] >= '5') {
    carry = true;
    for (long k = 0; k < keep && carry; k++) carry = d[k] == '9';
  }
  return e + (carry ? 1 : 0) <= precision - scale;
}

/* coerce, and for decimal and wei the destination's width too (c: the
 * column whose precision and scale apply, NULL for the defaults). */
static bool coerce_fit(sl_normalizer *n, const nz_val *v, sl_dtype to, const sl_column *c, sl_row_value *out) {
  if (!coerce(n, v, to, out)) return false;
  if (to != SL_T_DECIMAL && to != SL_T_WEI) return true;
  int p = NZ_DECIMAL_PRECISION, sc = NZ_DECIMAL_SCALE;
  if (to == SL_T_WEI)
    p = NZ_WEI_PRECISION, sc = 0;
  else if (c && c->precision > 0 && c->precision <= NZ_DECIMAL_PRECISION && c->scale >= 0 && c->scale <= c->precision)
    p = c->precision, sc = c->scale;
  return decimal_fits(out->v.s.p, out->v.s.n, p, sc);
}

/* The data type a new column gets from its first value (dlt's detections,
 * then the Python type). */
static sl_dtype infer(sl_normalizer *n, const nz_val *v) {
  const sl_schema *s = n->schema;
  switch (v->kind) {
    case VK_STR:
      if (s->detect_iso_timestamp && sl_detect_iso_timestamp(v->s, v->len, NULL)) return SL_T_TIMESTAMP;
      if (s->detect_iso_date && sl_detect_iso_date(v->s, v->len, NULL)) return SL_T_DATE;
      return SL_T_TEXT;
    case VK_INT:
    case VK_DBL: {
      if (s->detect_timestamp) {
        double now = (double)time(NULL);
        if (sl_detect_timestamp_number(v->kind == VK_INT ? (double)v->n.i : v->n.d, now)) return SL_T_TIMESTAMP;
      }
      return v->kind == VK_INT ? SL_T_BIGINT : SL_T_DOUBLE;
    }
    case VK_BOOL: return SL_T_BOOL;
    case VK_BIGNUM: return s->detect_large_integer ? SL_T_WEI : SL_T_DECIMAL;
    case VK_JSON: return SL_T_JSON;
    default: return SL_T_TEXT;
  }
}

/* ---- row ids ---------------------------------------------------------------------- */

static sl_status shake_id(const char *text, size_t len, char out[SL_DLT_ID_SIZE]) {
  uint8_t md[SL_DLT_ID_BYTES];
  sl_shake128(text, len, md, sizeof md);
  sl_base64_encode_to(md, sizeof md, false, out); /* 14 characters */
  return SL_OK;
}

static sl_status upsert_id(sl_normalizer *n, const nz_row *row, char out[SL_DLT_ID_SIZE]) {
  sl_key_value keys[16];
  size_t nk = 0;
  for (size_t p = 0; p < n->npk && p < 16; p++) {
    const char *pk = n->pk[p];
    size_t pl = strlen(pk);
    const nz_val *found = NULL;
    for (uint32_t i = row->first; i != NZ_NONE; i = n->vals[i].next) {
      const nz_node *x = &n->nodes[n->vals[i].node];
      if (x->parent == row->tnode && x->keylen == pl && memcmp(x->key, pk, pl) == 0) found = &n->vals[i];
    }
    if (!found) continue;
    sl_key_value *k = &keys[nk++];
    memset(k, 0, sizeof *k);
    k->name = pk;
    switch (found->kind) {
      case VK_NULL: k->kind = SL_KEY_NULL; break;
      case VK_BOOL: k->kind = SL_KEY_BOOL; k->b = found->b; break;
      case VK_INT: k->kind = SL_KEY_INT; k->i = found->n.i; break;
      case VK_DBL:
        k->kind = isfinite(found->n.d) ? SL_KEY_DOUBLE : SL_KEY_NULL;
        k->d = found->n.d;
        break;
      case VK_STR: /* an integer kept as text still hashes as the number it is */
        k->kind = found->num ? SL_KEY_JSON : SL_KEY_TEXT;
        k->s = found->s;
        k->len = found->len;
        break;
      default: k->kind = SL_KEY_JSON; k->s = found->s; k->len = found->len; break;
    }
  }
  if (nk == 0) return shake_id("{}", 2, out); /* dlt hashes the empty dict */
  return sl_dlt_id_from_keys(keys, nk, out);
}

/* ---- one row ------------------------------------------------------------------------ */

static bool put(sl_normalizer *n, const nz_val *v) {
  if (n->npv == n->cappv) {
    uint32_t cap = n->cappv ? n->cappv * 2 : 64;
    const nz_val **p = realloc(n->pv, sizeof *p * cap);
    if (!p) return false;
    n->pv = p;
    n->cappv = cap;
  }
  if (n->dedupe) {
    uint32_t c = n->nodes[v->node].canon;
    if (n->stamp[c] == n->stamp_seq) {
      n->pv[n->slot[c]] = v; /* dict semantics: the last value wins, the first place stays */
      return true;
    }
    n->stamp[c] = n->stamp_seq;
    n->slot[c] = n->npv;
  }
  n->pv[n->npv++] = v;
  return true;
}

static bool put_sys(sl_normalizer *n, uint32_t tnode, int which, uint8_t kind, const char *s, size_t len,
                    int64_t i) {
  uint32_t node = sl__nz_sys(n, tnode, which);
  if (node == NZ_NONE || n->nsysv >= SYS_COUNT_) return false;
  nz_val *v = &n->sysv[n->nsysv++];
  memset(v, 0, sizeof *v);
  v->node = node;
  v->kind = kind;
  v->s = s;
  v->len = (uint32_t)len;
  v->n.i = i;
  return put(n, v);
}

/* The data's own value for a system column (only when the row has one). */
static const nz_val *get_sys(sl_normalizer *n, uint32_t tnode, int which) {
  if (!n->dedupe) return NULL;
  uint32_t node = sl__nz_sys(n, tnode, which);
  if (node == NZ_NONE) return NULL;
  uint32_t c = n->nodes[node].canon;
  return c < n->stamp_cap && n->stamp[c] == n->stamp_seq ? n->pv[n->slot[c]] : NULL;
}

/* A fresh dedupe generation (values were already deduplicated as they came;
 * this one also covers the system columns). */
static bool new_generation(sl_normalizer *n) {
  uint32_t need = n->nnodes + SYS_COUNT_ * 4 + 64;
  if (n->stamp_cap < need) {
    uint32_t cap = need * 2;
    uint32_t *a = realloc(n->stamp, sizeof *a * cap), *b;
    if (!a) return false;
    n->stamp = a;
    b = realloc(n->slot, sizeof *b * cap);
    if (!b) return false;
    n->slot = b;
    memset(n->stamp + n->stamp_cap, 0, sizeof *a * (cap - n->stamp_cap));
    n->stamp_cap = cap;
  }
  if (++n->stamp_seq == 0) {
    memset(n->stamp, 0, sizeof *n->stamp * n->stamp_cap);
    n->stamp_seq = 1;
  }
  return true;
}

static sl_status oom(sl_normalizer *n) { return sl__nz_fail(n, SL_NOMEM, "out of memory"); }

static uint32_t root_tnode_of(const sl_normalizer *n, uint32_t tnode) {
  while (n->nodes[tnode].parent_tnode != NZ_NONE) tnode = n->nodes[tnode].parent_tnode;
  return tnode;
}

/* A null for a column that does not exist: dlt records a placeholder, unless
 * the name already stands for a child table or for flattened columns. */
static bool null_names_structure(sl_normalizer *n, uint32_t node, const sl_table *t) {
  nz_node *x = &n->nodes[node];
  if (x->null_struct) return true;
  const nz_node *tn = &n->nodes[x->tnode];
  if (sl_name_join(tn->path, tn->path_len, x->name, x->name_len, n->schema->max_identifier_len, &n->tmp))
    return false;
  bool yes = sl_schema_find_table(n->schema, n->tmp.data) != NULL;
  for (size_t i = 0; !yes && t && i < t->ncolumns; i++) {
    const char *c = t->columns[i].name;
    yes = strncmp(c, x->name, x->name_len) == 0 && c[x->name_len] == '_' && c[x->name_len + 1] == '_';
  }
  if (yes) n->nodes[node].null_struct = true;
  return yes;
}

static bool grow_new(sl_normalizer *n) {
  if (n->nnew < n->capnew) return true;
  uint32_t cap = n->capnew ? n->capnew * 2 : 16;
  nz_newcol *p = realloc(n->newcols, sizeof *p * cap);
  if (!p) return false;
  n->newcols = p;
  n->capnew = cap;
  return true;
}
#define GROW_NEW(n) grow_new(n)

static int32_t new_col(sl_normalizer *n, const nz_node *x, uint32_t node, sl_dtype type, bool variant,
                       bool null_first, int32_t complete, uint32_t value) {
  /* the same name twice in one row (a variant named like another key): reuse */
  for (uint32_t k = 0; k < n->nnew; k++)
    if (n->newcols[k].name_len == x->name_len && !memcmp(n->newcols[k].name, x->name, x->name_len)) {
      if (n->newcols[k].null_first && !null_first) {
        n->newcols[k].null_first = false;
        n->newcols[k].type = type;
        n->newcols[k].value = value;
      }
      return (int32_t)k;
    }
  if (!GROW_NEW(n)) return -1;
  nz_newcol *c = &n->newcols[n->nnew];
  c->name = x->name;
  c->name_len = x->name_len;
  c->type = type;
  c->variant = variant;
  c->null_first = null_first;
  c->complete = complete;
  c->node = node;
  c->value = value;
  c->dropped = false;
  return (int32_t)n->nnew++;
}

/* Where value i of the row goes: n->target[i] is a column index, -(k + 2) for
 * new column k, or -1 (nothing to write); the coerced value is in n->out[i]. */
static sl_status resolve(sl_normalizer *n, const sl_table *t, uint32_t i) {
  const nz_val *v = n->pv[i];
  uint32_t node = v->node;
  sl_row_value *out = &n->out[i];
  n->target[i] = -1;
  int32_t col = n->nodes[node].col;
  if (col < 0 && t) col = sl__nz_col(n, node);
  if (col >= 0 && v->kind == VK_STR && t->columns[col].type == SL_T_TEXT && !t->columns[col].incomplete) {
    out->v.s.p = v->s; /* the common case first */
    out->v.s.n = v->len;
    n->target[i] = col;
    return SL_OK;
  }
  if (v->kind == VK_NULL) {
    if (col >= 0) {
      const sl_column *c = &t->columns[col];
      if (!c->incomplete && !c->nullable) {
        sl__nz_fail(n, SL_SCHEMA, "cannot put null into column '%s' of table '%s': it is not nullable", c->name,
                    t->name);
        sl_error_where(&n->err, t->name, c->name);
        return SL_SCHEMA;
      }
      return SL_OK;
    }
    if (null_names_structure(n, node, t)) return SL_OK;
    return new_col(n, &n->nodes[node], node, SL_T_TEXT, false, true, -1, NZ_NONE) < 0 ? oom(n) : SL_OK;
  }
  if (col >= 0 && !t->columns[col].incomplete) {
    if (coerce_fit(n, v, t->columns[col].type, &t->columns[col], out)) {
      n->target[i] = col;
      return SL_OK;
    }
    /* a variant column <name>__v_<type of the value> */
    uint32_t vn = sl__nz_variant(n, node, (vkind)v->kind);
    if (vn == NZ_NONE) return oom(n);
    int32_t vc = sl__nz_col(n, vn);
    if (vc >= 0 && !t->columns[vc].incomplete) {
      if (coerce_fit(n, v, t->columns[vc].type, &t->columns[vc], out)) {
        n->target[i] = vc;
        return SL_OK;
      }
      sl__nz_fail(n, SL_SCHEMA, "cannot coerce a %s value into column '%s' (%s) of table '%s'",
                  sl__nz_kind_type_name((vkind)v->kind), t->columns[vc].name, sl_dtype_name(t->columns[vc].type),
                  t->name);
      sl_error_where(&n->err, t->name, t->columns[vc].name);
      return SL_SCHEMA;
    }
    sl_dtype ty = infer(n, v);
    if (!coerce_fit(n, v, ty, vc >= 0 ? &t->columns[vc] : NULL, out)) ty = SL_T_TEXT, coerce(n, v, ty, out);
    int32_t k = new_col(n, &n->nodes[vn], vn, ty, true, false, vc, i);
    if (k < 0) return oom(n);
    n->target[i] = -(k + 2);
    return SL_OK;
  }
  sl_dtype ty = infer(n, v);
  if (!coerce_fit(n, v, ty, col >= 0 ? &t->columns[col] : NULL, out)) ty = SL_T_TEXT, coerce(n, v, ty, out);
  int32_t k = new_col(n, &n->nodes[node], node, ty, false, false, col, i);
  if (k < 0) return oom(n);
  n->target[i] = -(k + 2);
  return SL_OK;
}

/* The schema contract for this row's new table or columns: false drops the row. */
static sl_status check_contract(sl_normalizer *n, const sl_table *t, uint32_t tnode, bool *drop) {
  *drop = false;
  const sl_table *ct = t ? t : sl__nz_table(n, root_tnode_of(n, tnode));
  sl_contract c = ct ? sl_schema_contract_for(n->schema, ct) : n->schema->contract;
  if (!c.tables && !c.columns && !c.data_type) return SL_OK;
  const char *tname = n->nodes[tnode].name;
  bool is_new = !t || !sl_table_has_complete_columns(t);
  if (is_new && c.tables != SL_CONTRACT_EVOLVE) {
    if (c.tables == SL_CONTRACT_FREEZE) {
      sl__nz_fail(n, SL_CONTRACT, "cannot add table '%s': tables are frozen by the schema contract", tname);
      sl_error_where(&n->err, tname, NULL);
      return SL_CONTRACT;
    }
    *drop = true;
    return SL_OK;
  }
  sl_contract_mode cols = is_new ? SL_CONTRACT_EVOLVE : c.columns;
  for (uint32_t k = 0; k < n->nnew; k++) {
    nz_newcol *nc = &n->newcols[k];
    if (nc->name_len >= 4 && !memcmp(nc->name, "_dlt", 4)) continue; /* dlt's columns may always be added */
    sl_contract_mode m = nc->variant ? c.data_type : cols;
    if (m == SL_CONTRACT_EVOLVE) continue;
    char col[256];
    snprintf(col, sizeof col, "%.*s", (int)nc->name_len, nc->name);
    if (m == SL_CONTRACT_FREEZE) {
      if (nc->variant)
        sl__nz_fail(n, SL_CONTRACT,
                    "cannot add variant column '%s' to table '%s': data types are frozen by the schema contract",
                    col, tname);
      else
        sl__nz_fail(n, SL_CONTRACT, "cannot add column '%s' to table '%s': columns are frozen by the schema contract",
                    col, tname);
      sl_error_where(&n->err, tname, col);
      return SL_CONTRACT;
    }
    if (m == SL_CONTRACT_DISCARD_ROW) {
      *drop = true;
      return SL_OK;
    }
    nc->dropped = true; /* discard_value */
    if (nc->value != NZ_NONE) {
      n->target[nc->value] = -1;
      n->stats.discarded_values++;
    }
  }
  return SL_OK;
}

static void system_hints(sl_column *c) {
  const char *nm = c->name;
  if (strncmp(nm, "_dlt_", 5) != 0) return;
  if (!strcmp(nm, "_dlt_id")) {
    c->nullable = false;
    c->unique = true;
  } else if (!strcmp(nm, "_dlt_parent_id") || !strcmp(nm, "_dlt_list_idx") || !strcmp(nm, "_dlt_root_id") ||
             !strcmp(nm, "_dlt_load_id")) {
    c->nullable = false;
  }
}

static sl_status add_columns(sl_normalizer *n, sl_table *t) {
  sl_schema *s = n->schema;
  for (uint32_t k = 0; k < n->nnew; k++) {
    nz_newcol *nc = &n->newcols[k];
    if (nc->dropped) continue;
    int32_t c = nc->complete;
    if (c < 0) c = sl_table_find_column(t, nc->name, nc->name_len);
    if (c >= 0 && !t->columns[c].incomplete) {
      /* already there (two names met in one row): the value was coerced for
       * the inferred type; keep it only when the types agree */
      if (nc->value != NZ_NONE && t->columns[c].type != nc->type) n->target[nc->value] = -1;
    } else if (c >= 0) {
      if (!nc->null_first) {
        sl_column *col = &t->columns[c];
        col->incomplete = false;
        col->seen_null_first = false;
        col->type = nc->type;
        if (nc->variant) col->variant = true;
        system_hints(col);
        sl_schema_touch(s);
      }
    } else {
      char name[1024], *heap = NULL;
      const char *nm = name;
      if (nc->name_len < sizeof name) {
        memcpy(name, nc->name, nc->name_len);
        name[nc->name_len] = '\0';
      } else {
        heap = strndup(nc->name, nc->name_len);
        if (!heap) return oom(n);
        nm = heap;
      }
      c = nc->null_first ? sl_table_add_incomplete_column(s, t, nm, &n->err)
                         : sl_table_add_column(s, t, nm, nc->type, &n->err);
      free(heap);
      if (c < 0) return n->err.code ? n->err.code : SL_SCHEMA;
      sl_column *col = &t->columns[c];
      col->seen_null_first = nc->null_first;
      col->variant = nc->variant;
      system_hints(col);
    }
    n->nodes[nc->node].col = c;
    if (nc->value != NZ_NONE && n->target[nc->value] != -1) n->target[nc->value] = c;
  }
  return SL_OK;
}

static sl_status count_row(sl_normalizer *n, uint32_t tnode, const sl_table *t) {
  int32_t ci = n->nodes[tnode].counter;
  if (ci < 0 || (size_t)ci >= n->ncounters || n->counters[ci].table != t) {
    ci = -1;
    for (size_t i = 0; i < n->ncounters; i++)
      if (n->counters[i].table == t) ci = (int32_t)i;
    if (ci < 0) {
      if (n->ncounters == n->capcounters) {
        size_t cap = n->capcounters ? n->capcounters * 2 : 16;
        nz_counter *c = realloc(n->counters, sizeof *c * cap);
        if (!c) return oom(n);
        n->counters = c;
        n->capcounters = cap;
      }
      n->counters[n->ncounters].table = t;
      n->counters[n->ncounters].rows = 0;
      ci = (int32_t)n->ncounters++;
    }
    n->nodes[tnode].counter = ci;
  }
  n->counters[ci].rows++;
  return SL_OK;
}

static sl_status drop_row(sl_normalizer *n, nz_row *row) {
  row->dropped = true;
  n->stats.discarded_rows++;
  return SL_OK;
}

static sl_status emit_row(sl_normalizer *n, uint32_t r) {
  nz_row *row = &n->rows[r];
  uint32_t tn = row->tnode;
  n->npv = 0;
  n->nsysv = 0;
  n->dedupe = row->has_sys;
  if (n->dedupe && !new_generation(n)) return oom(n);
  for (uint32_t i = row->first; i != NZ_NONE; i = n->vals[i].next)
    if (!put(n, &n->vals[i])) return oom(n);

  /* system columns, in the order dlt adds them to the row dict */
  bool ok = true;
  const nz_val *given = get_sys(n, tn, SYS_ID);
  row->idp = row->id;
  if (given && given->kind == VK_STR && given->len > 0 && row->kind != ROW_SCALAR) {
    char *p = sl__nz_bump(n, given->len + 1);
    if (!p) return oom(n);
    memcpy(p, given->s, given->len);
    p[given->len] = '\0';
    row->idp = p;
  }
  bool own_id = row->idp == row->id;
  if (row->kind == ROW_ROOT) {
    ok = put_sys(n, tn, SYS_LOAD_ID, VK_STR, n->load_id, n->load_id_len, 0);
    if (own_id) {
      sl_status st = SL_OK;
      if (n->upsert)
        st = upsert_id(n, row, row->id);
      else if (n->id_mode == SL_IDS_SEQUENTIAL)
        snprintf(row->id, sizeof row->id, "r%013llu", (unsigned long long)++n->seq_id);
      else
        st = sl_dlt_id_random(row->id);
      if (st) return sl__nz_fail(n, st, "cannot make a row id");
      ok = ok && put_sys(n, tn, SYS_ID, VK_STR, row->id, strlen(row->id), 0);
    }
  } else {
    const char *pid = n->rows[row->parent].idp;
    if (n->propagate_root_id) ok = put_sys(n, tn, SYS_ROOT_ID, VK_STR, n->rows[0].idp, strlen(n->rows[0].idp), 0);
    if (own_id) {
      /* dlt links a row to its parent only when it makes the row's id */
      if (sl_dlt_id_child(pid, n->nodes[tn].name, row->idx, row->id))
        return sl__nz_fail(n, SL_INTERNAL, "cannot make a row id");
      ok = ok && put_sys(n, tn, SYS_PARENT_ID, VK_STR, pid, strlen(pid), 0) &&
           put_sys(n, tn, SYS_LIST_IDX, VK_INT, NULL, 0, row->idx) &&
           put_sys(n, tn, SYS_ID, VK_STR, row->id, strlen(row->id), 0);
    }
  }
  if (!ok) return oom(n);

  /* coerce into the table's columns; collect the new ones */
  if (n->capout < n->npv) {
    uint32_t cap = n->npv * 2;
    sl_row_value *o = realloc(n->out, sizeof *o * cap);
    int32_t *tg = o ? realloc(n->target, sizeof *tg * cap) : NULL;
    if (o) n->out = o;
    if (!o || !tg) return oom(n);
    n->target = tg;
    n->capout = cap;
  }
  sl_table *t = sl__nz_table(n, tn);
  n->nnew = 0;
  for (uint32_t i = 0; i < n->npv; i++) {
    sl_status st = resolve(n, t, i);
    if (st) return st;
  }
  if (n->nnew) {
    bool drop;
    sl_status st = check_contract(n, t, tn, &drop);
    if (st) return st;
    if (drop) return drop_row(n, row);
    if (!t) {
      uint32_t ptn = n->nodes[tn].parent_tnode;
      sl_table *pt = ptn != NZ_NONE ? sl__nz_table(n, ptn) : NULL;
      char name[1024];
      snprintf(name, sizeof name, "%.*s", (int)n->nodes[tn].name_len, n->nodes[tn].name);
      t = sl_schema_add_table(n->schema, name, pt ? pt->name : NULL, &n->err);
      if (!t) return n->err.code ? n->err.code : SL_SCHEMA;
      n->nodes[tn].table = t;
    }
    st = add_columns(n, t);
    if (st) return st;
  }
  if (!t) return sl__nz_fail(n, SL_INTERNAL, "row without a table");

  uint32_t m = 0;
  for (uint32_t i = 0; i < n->npv; i++) {
    if (n->target[i] < 0) continue;
    n->out[m] = n->out[i];
    n->out[m].col = (uint32_t)n->target[i];
    m++;
  }
  sl_status st = n->sink.row(n->sink.ud, n->schema, t, n->out, m, &n->err);
  if (st) {
    if (!n->err.code) sl_error_set(&n->err, st, "the row sink failed for table '%s'", t->name);
    return st;
  }
  if (!t->seen_data) {
    t->seen_data = true;
    sl_schema_touch(n->schema);
  }
  n->stats.rows++;
  return count_row(n, tn, t);
}

sl_status sl__nz_finish_record(sl_normalizer *n) {
  for (uint32_t r = 0; r < n->nrows; r++) {
    nz_row *row = &n->rows[r];
    if ((row->parent != NZ_NONE && n->rows[row->parent].dropped) ||
        (row->list != NZ_NONE && n->lists[row->list].superseded)) {
      row->dropped = true;
      continue;
    }
    sl_status st = emit_row(n, r);
    if (st) return st;
  }
  return SL_OK;
}
