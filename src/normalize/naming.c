/* naming.c — dlt's snake_case naming convention, shortening with a SHAKE-128
 * tag, a bounded cache of normalized keys, and dlt's _dlt_id row ids.
 * The rules are dlt's (DLT_COMPAT.md "Names" and "_dlt_id"); see naming.h. */
#define _GNU_SOURCE
#include "sluice/naming.h"

#include <math.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/base64.h"
#include "sluice/detect.h"
#include "sluice/sha3.h"

/* ---- SHAKE-128 and base64 (sluice/sha3.h, sluice/base64.h) ------------------- */

static sl_status shake128(const void *in, size_t len, uint8_t *out, size_t out_len) {
  sl_shake128(in, len, out, out_len);
  return SL_OK;
}

static size_t base64_nopad(const uint8_t *in, size_t n, char *out) {
  return sl_base64_encode_to(in, n, false, out);
}

/* ---- characters ------------------------------------------------------------ */

/* Unicode category Nd (what Python's \d matches in a str pattern), Unicode 15. */
static const uint32_t nd_ranges[][2] = {
    {0x660, 0x669},     {0x6F0, 0x6F9},     {0x7C0, 0x7C9},     {0x966, 0x96F},
    {0x9E6, 0x9EF},     {0xA66, 0xA6F},     {0xAE6, 0xAEF},     {0xB66, 0xB6F},
    {0xBE6, 0xBEF},     {0xC66, 0xC6F},     {0xCE6, 0xCEF},     {0xD66, 0xD6F},
    {0xDE6, 0xDEF},     {0xE50, 0xE59},     {0xED0, 0xED9},     {0xF20, 0xF29},
    {0x1040, 0x1049},   {0x1090, 0x1099},   {0x17E0, 0x17E9},   {0x1810, 0x1819},
    {0x1946, 0x194F},   {0x19D0, 0x19D9},   {0x1A80, 0x1A89},   {0x1A90, 0x1A99},
    {0x1B50, 0x1B59},   {0x1BB0, 0x1BB9},   {0x1C40, 0x1C49},   {0x1C50, 0x1C59},
    {0xA620, 0xA629},   {0xA8D0, 0xA8D9},   {0xA900, 0xA909},   {0xA9D0, 0xA9D9},
    {0xA9F0, 0xA9F9},   {0xAA50, 0xAA59},   {0xABF0, 0xABF9},   {0xFF10, 0xFF19},
    {0x104A0, 0x104A9}, {0x10D30, 0x10D39}, {0x11066, 0x1106F}, {0x110F0, 0x110F9},
    {0x11136, 0x1113F}, {0x111D0, 0x111D9}, {0x112F0, 0x112F9}, {0x11450, 0x11459},
    {0x114D0, 0x114D9}, {0x11650, 0x11659}, {0x116C0, 0x116C9}, {0x11730, 0x11739},
    {0x118E0, 0x118E9}, {0x11950, 0x11959}, {0x11C50, 0x11C59}, {0x11D50, 0x11D59},
    {0x11DA0, 0x11DA9}, {0x11F50, 0x11F59}, {0x16A60, 0x16A69}, {0x16AC0, 0x16AC9},
    {0x16B50, 0x16B59}, {0x1D7CE, 0x1D7FF}, {0x1E140, 0x1E149}, {0x1E2F0, 0x1E2F9},
    {0x1E4F0, 0x1E4F9}, {0x1E950, 0x1E959}, {0x1FBF0, 0x1FBF9},
};

static bool is_unicode_digit(uint32_t cp) {
  size_t lo = 0, hi = sizeof nd_ranges / sizeof nd_ranges[0];
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cp < nd_ranges[mid][0]) hi = mid;
    else if (cp > nd_ranges[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}

static inline bool is_word(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
static inline bool is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static inline bool is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Length of the UTF-8 sequence at p (its code point in *cp), 0 if invalid. */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp) {
  unsigned char c = p[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  uint32_t v, min;
  if ((c & 0xE0) == 0xC0) len = 2, v = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0) len = 3, v = c & 0x0F, min = 0x800;
  else if ((c & 0xF8) == 0xF0) len = 4, v = c & 0x07, min = 0x10000;
  else return 0;
  if (len > n) return 0;
  for (size_t k = 1; k < len; k++) {
    if ((p[k] & 0xC0) != 0x80) return 0;
    v = v << 6 | (p[k] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

/* Code points in a UTF-8 string (any byte that does not continue counts). */
static size_t cp_count(const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
  return k;
}

/* Byte offset of code point number k (k <= count). */
static size_t cp_offset(const char *s, size_t n, size_t k) {
  size_t i = 0;
  while (i < n) {
    if (((unsigned char)s[i] & 0xC0) != 0x80) {
      if (k == 0) return i;
      k--;
    }
    i++;
  }
  return n;
}

/* Is the first character of s (n > 0) a digit for Python's \d? */
static bool starts_with_digit(const char *s, size_t n) {
  unsigned char c = (unsigned char)s[0];
  if (c < 0x80) return is_digit(c);
  uint32_t cp;
  return utf8_decode((const unsigned char *)s, n, &cp) && is_unicode_digit(cp);
}

/* ---- one identifier -------------------------------------------------------- */

sl_status sl_name_tag(const char *src, size_t len, char out[SL_NAME_TAG_LEN + 1]) {
  /* dlt sizes the tag for a 0.001 collision probability: 4 bytes -> 6 chars */
  uint8_t h[4];
  char b64[12];
  sl_status st = shake128(src, len, h, sizeof h);
  if (st != SL_OK) return st;
  base64_nopad(h, sizeof h, b64);
  for (int i = 0; i < SL_NAME_TAG_LEN; i++) {
    char c = b64[i];
    if (c == '/') c = 'a';
    else if (c == '+') c = 'b';
    else if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    out[i] = c;
  }
  out[SL_NAME_TAG_LEN] = '\0';
  return SL_OK;
}

sl_status sl_name_shorten(const char *ident, size_t len, const char *tag_src, size_t tag_src_len,
                          size_t max_len, sl_buf *out) {
  sl_buf_reset(out);
  size_t chars = max_len ? cp_count(ident, len) : 0;
  if (!max_len || chars <= max_len) return sl_buf_append(out, ident, len);
  if (max_len < SL_NAME_TAG_LEN) return SL_INVALID_ARG;
  char tag[SL_NAME_TAG_LEN + 1];
  sl_status st = sl_name_tag(tag_src, tag_src_len, tag);
  if (st != SL_OK) return st;
  size_t rest = max_len - SL_NAME_TAG_LEN;
  size_t head = cp_offset(ident, len, rest / 2 + rest % 2);
  size_t tail = cp_offset(ident, len, chars - rest / 2);
  if ((st = sl_buf_reserve(out, head + SL_NAME_TAG_LEN + (len - tail))) != SL_OK) return st;
  sl_buf_append(out, ident, head);
  sl_buf_append(out, tag, SL_NAME_TAG_LEN);
  return sl_buf_append(out, ident + tail, len - tail);
}

/* The snake_case steps before shortening, into out. s/n is already stripped
 * and not empty. scratch must have room for 2*n + 2 bytes. */
static void snake_case(const char *s, size_t n, char *a, char *b, size_t *out_len) {
  const unsigned char *u = (const unsigned char *)s;
  /* 1. reduce the alphabet, then each run of characters outside [a-zA-Z\d_] -> '_' */
  size_t an = 0;
  bool in_run = false;
  for (size_t i = 0; i < n;) {
    unsigned char c = u[i];
    if (c < 0x80) {
      switch (c) {
        case '+': case '*': c = 'x'; break;
        case '-': c = '_'; break;
        case '@': c = 'a'; break;
        case '|': c = 'l'; break;
        default: break;
      }
      i++;
      if (is_word(c)) {
        a[an++] = (char)c;
        in_run = false;
        continue;
      }
    } else {
      uint32_t cp;
      size_t k = utf8_decode(u + i, n - i, &cp);
      if (k && is_unicode_digit(cp)) {
        memcpy(a + an, u + i, k);
        an += k;
        i += k;
        in_run = false;
        continue;
      }
      i += k ? k : 1;
    }
    if (!in_run) a[an++] = '_';
    in_run = true;
  }
  /* 2. ([^_])([A-Z][a-z]+) -> \1_\2, left to right without overlap */
  size_t bn = 0;
  for (size_t i = 0; i < an;) {
    size_t clen = 1;
    while (i + clen < an && ((unsigned char)a[i + clen] & 0xC0) == 0x80) clen++;
    size_t j = i + clen;
    if (a[i] != '_' && j + 1 < an && is_upper((unsigned char)a[j]) &&
        is_lower((unsigned char)a[j + 1])) {
      size_t k = j + 1;
      while (k < an && is_lower((unsigned char)a[k])) k++;
      memcpy(b + bn, a + i, clen);
      bn += clen;
      b[bn++] = '_';
      memcpy(b + bn, a + j, k - j);
      bn += k - j;
      i = k;
    } else {
      memcpy(b + bn, a + i, clen);
      bn += clen;
      i = j;
    }
  }
  /* 3. ([a-z0-9])([A-Z]) -> \1_\2, then lowercase (ASCII only remains) */
  an = 0;
  for (size_t i = 0; i < bn; i++) {
    unsigned char c = (unsigned char)b[i];
    if ((is_lower(c) || is_digit(c)) && i + 1 < bn && is_upper((unsigned char)b[i + 1])) {
      a[an++] = (char)c;
      a[an++] = '_';
      a[an++] = (char)(b[i + 1] - 'A' + 'a');
      i++;
    } else {
      a[an++] = is_upper(c) ? (char)(c - 'A' + 'a') : (char)c;
    }
  }
  /* 4. a leading digit gets '_' */
  bn = 0;
  if (an && starts_with_digit(a, an)) b[bn++] = '_';
  memcpy(b + bn, a, an);
  bn += an;
  /* 5. each trailing '_' becomes 'x' */
  for (size_t i = bn; i > 0 && b[i - 1] == '_'; i--) b[i - 1] = 'x';
  /* 6. runs of '_' collapse to one */
  an = 0;
  for (size_t i = 0; i < bn; i++) {
    if (b[i] == '_' && an && a[an - 1] == '_') continue;
    a[an++] = b[i];
  }
  *out_len = an;
}

static sl_status normalize_one(const char *in, size_t len, size_t max_len, sl_buf *out) {
  const char *s = in;
  size_t n = len;
  sl_detect_strip(&s, &n);
  if (n == 0) {
    sl_buf_reset(out);
    return sl_buf_append(out, SL_NAME_EMPTY, sizeof SL_NAME_EMPTY - 1);
  }
  /* Growth: step 2 adds at most one '_' per two characters, step 3 one per
   * two, step 4 one: 2n + 2 bounds every stage. */
  if (n > (SIZE_MAX - 16) / 4) return SL_TOO_LARGE;
  char stack[2 * 512];
  char *work = 2 * (2 * n + 2) <= sizeof stack ? stack : malloc(2 * (2 * n + 2));
  if (!work) return SL_NOMEM;
  char *a = work, *b = work + 2 * n + 2;
  size_t an;
  snake_case(s, n, a, b, &an);
  sl_status st = sl_name_shorten(a, an, s, n, max_len, out);
  if (work != stack) free(work);
  return st;
}

sl_status sl_name_normalize(const char *in, size_t len, size_t max_len, sl_buf *out) {
  if (max_len && max_len < SL_NAME_TAG_LEN) return SL_INVALID_ARG;
  if (!in && len) return SL_INVALID_ARG;
  return normalize_one(in ? in : "", len, max_len, out);
}

/* ---- paths ----------------------------------------------------------------- */

static bool is_blank(const char *s, size_t n) {
  sl_detect_strip(&s, &n);
  return n == 0;
}

sl_status sl_name_normalize_path(const char *in, size_t len, size_t max_len, sl_buf *out) {
  if (max_len && max_len < SL_NAME_TAG_LEN) return SL_INVALID_ARG;
  if (!in && len) return SL_INVALID_ARG;
  if (!in) in = "";
  /* Fast path: no separator means one piece, already shortened by itself. */
  if (len < 2 || !memmem(in, len, "__", 2)) return normalize_one(in, len, max_len, out);

  sl_buf joined = {0}, piece = {0};
  sl_status st = SL_OK;
  size_t start = 0;
  for (;;) {
    const char *sep = memmem(in + start, len - start, "__", 2);
    size_t end = sep ? (size_t)(sep - in) : len;
    if (!is_blank(in + start, end - start)) {
      if ((st = normalize_one(in + start, end - start, max_len, &piece)) != SL_OK) break;
      if (joined.len && (st = sl_buf_append(&joined, "__", 2)) != SL_OK) break;
      if ((st = sl_buf_append(&joined, piece.data, piece.len)) != SL_OK) break;
    }
    if (!sep) break;
    start = end + 2;
  }
  if (st == SL_OK) {
    if (joined.len == 0) {
      sl_buf_reset(out);
      st = sl_buf_append(out, SL_NAME_EMPTY, sizeof SL_NAME_EMPTY - 1);
    } else {
      st = sl_name_shorten(joined.data, joined.len, in, len, max_len, out);
    }
  }
  sl_buf_free(&joined);
  sl_buf_free(&piece);
  return st;
}

sl_status sl_name_join(const char *parent, size_t parent_len, const char *child, size_t child_len,
                       size_t max_len, sl_buf *out) {
  if (max_len && max_len < SL_NAME_TAG_LEN) return SL_INVALID_ARG;
  sl_buf joined = {0};
  sl_status st = SL_OK;
  if (parent && !is_blank(parent, parent_len)) st = sl_buf_append(&joined, parent, parent_len);
  if (st == SL_OK && child && !is_blank(child, child_len)) {
    if (joined.len) st = sl_buf_append(&joined, "__", 2);
    if (st == SL_OK) st = sl_buf_append(&joined, child, child_len);
  }
  if (st == SL_OK) st = sl_name_shorten(joined.data ? joined.data : "", joined.len,
                                        joined.data ? joined.data : "", joined.len, max_len, out);
  sl_buf_free(&joined);
  return st;
}

sl_status sl_name_child_table(const char *parent_path, size_t parent_len, const char *key,
                              size_t key_len, size_t max_len, sl_buf *full_path, sl_buf *name) {
  sl_buf ident = {0}, full = {0};
  sl_status st = sl_name_normalize_path(key, key_len, max_len, &ident);
  if (st == SL_OK) st = sl_name_join(parent_path, parent_len, ident.data, ident.len, 0, &full);
  if (st == SL_OK) st = sl_name_shorten(full.data, full.len, full.data, full.len, max_len, name);
  if (st == SL_OK && full_path) {
    sl_buf_reset(full_path);
    st = sl_buf_append(full_path, full.data, full.len);
  }
  sl_buf_free(&ident);
  sl_buf_free(&full);
  return st;
}

bool sl_name_is_normalized(const char *s, size_t n) {
  if (n == 0 || is_digit((unsigned char)s[0])) return false;
  if (s[n - 1] == '_') return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(is_lower(c) || is_digit(c) || c == '_')) return false;
    if (c == '_' && i && s[i - 1] == '_') return false;
  }
  return true;
}

/* ---- cache ----------------------------------------------------------------- */

typedef struct name_entry {
  uint64_t hash; /* 0 marks an empty slot */
  const char *key;
  const char *val;
  uint32_t key_len, val_len;
  size_t max_len;
} name_entry;

struct sl_name_cache {
  name_entry *slots;
  size_t nslots; /* power of two, at least twice max_entries */
  size_t count, max_entries, max_bytes;
  sl_arena arena;
  sl_buf scratch;
  uint64_t hits, misses, flushes;
};

/* A 64-bit hash of short keys (FNV-style over 8-byte words, then a mix). */
static uint64_t key_hash(const char *p, size_t n, size_t max_len) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xFF51AFD7ED558CCDull) ^ max_len;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001B3ull;
    h ^= h >> 29;
  }
  uint64_t w = 0;
  memcpy(&w, p + i, n - i);
  h = (h ^ w) * 0x100000001B3ull;
  h ^= h >> 32;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 29;
  return h ? h : 1;
}

sl_name_cache *sl_name_cache_new(size_t max_entries, size_t max_bytes) {
  sl_name_cache *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->max_entries = max_entries ? max_entries : 16384;
  if (c->max_entries > ((size_t)1 << 26)) c->max_entries = (size_t)1 << 26;
  c->max_bytes = max_bytes ? max_bytes : ((size_t)16 << 20);
  c->nslots = 16;
  while (c->nslots < 2 * c->max_entries) c->nslots <<= 1;
  c->slots = calloc(c->nslots, sizeof *c->slots);
  if (!c->slots) {
    free(c);
    return NULL;
  }
  sl_arena_init(&c->arena, 0, 0);
  return c;
}

void sl_name_cache_free(sl_name_cache *c) {
  if (!c) return;
  free(c->slots);
  sl_arena_free(&c->arena);
  sl_buf_free(&c->scratch);
  free(c);
}

static void cache_flush(sl_name_cache *c) {
  memset(c->slots, 0, c->nslots * sizeof *c->slots);
  sl_arena_reset(&c->arena);
  c->count = 0;
  c->flushes++;
}

const char *sl_name_cache_get(sl_name_cache *c, const char *key, size_t len, size_t max_len,
                              size_t *out_len) {
  if (!c || (!key && len)) return NULL;
  if (!key) key = "";
  uint64_t h = key_hash(key, len, max_len);
  size_t mask = c->nslots - 1, i = (size_t)h & mask;
  for (name_entry *e = &c->slots[i]; e->hash; e = &c->slots[i = (i + 1) & mask]) {
    if (e->hash == h && e->key_len == len && e->max_len == max_len &&
        memcmp(e->key, key, len) == 0) {
      c->hits++;
      if (out_len) *out_len = e->val_len;
      return e->val;
    }
  }
  c->misses++;
  if (sl_name_normalize_path(key, len, max_len, &c->scratch) != SL_OK) return NULL;
  size_t need = len + c->scratch.len + 2;
  if (len > UINT32_MAX || c->scratch.len > UINT32_MAX) return NULL;
  if (c->count >= c->max_entries || c->arena.used + need > c->max_bytes) {
    cache_flush(c);
    i = (size_t)h & mask;
  }
  char *k = sl_arena_strndup(&c->arena, key, len);
  char *v = k ? sl_arena_strndup(&c->arena, c->scratch.data, c->scratch.len) : NULL;
  if (!v) return NULL;
  while (c->slots[i].hash) i = (i + 1) & mask;
  c->slots[i] = (name_entry){h, k, v, (uint32_t)len, (uint32_t)c->scratch.len, max_len};
  c->count++;
  if (out_len) *out_len = c->scratch.len;
  return v;
}

size_t sl_name_cache_size(const sl_name_cache *c) { return c ? c->count : 0; }
uint64_t sl_name_cache_hits(const sl_name_cache *c) { return c ? c->hits : 0; }
uint64_t sl_name_cache_misses(const sl_name_cache *c) { return c ? c->misses : 0; }
uint64_t sl_name_cache_flushes(const sl_name_cache *c) { return c ? c->flushes : 0; }

/* ---- row ids ----------------------------------------------------------------- */

/* Random bytes are drawn 4 KiB at a time into a per-thread pool; after fork the
 * child (whose only thread is the forking one) must not reuse the parent's. */
#define RAND_POOL 4096
static __thread uint8_t rand_pool[RAND_POOL];
static __thread size_t rand_pos = RAND_POOL;
static pthread_once_t rand_once = PTHREAD_ONCE_INIT;

static void rand_after_fork(void) { rand_pos = RAND_POOL; }
static void rand_init_once(void) { pthread_atfork(NULL, NULL, rand_after_fork); }

sl_status sl_dlt_id_random(char out[SL_DLT_ID_SIZE]) {
  pthread_once(&rand_once, rand_init_once);
  if (rand_pos + SL_DLT_ID_BYTES > RAND_POOL) {
    if (RAND_bytes(rand_pool, RAND_POOL) != 1) {
      out[0] = '\0';
      return SL_INTERNAL;
    }
    rand_pos = 0;
  }
  base64_nopad(rand_pool + rand_pos, SL_DLT_ID_BYTES, out);
  /* never hand out the same bytes twice, nor leave them lying around */
  memset(rand_pool + rand_pos, 0, SL_DLT_ID_BYTES);
  rand_pos += SL_DLT_ID_BYTES;
  return SL_OK;
}

sl_status sl_dlt_id_child(const char *parent_id, const char *table, int64_t list_idx,
                          char out[SL_DLT_ID_SIZE]) {
  if (!parent_id || !table) return SL_INVALID_ARG;
  char tail[48];
  int tn = 0;
  if (list_idx >= 0) { /* the usual case, without printf */
    char digits[24];
    int nd = 0;
    uint64_t v = (uint64_t)list_idx;
    do digits[nd++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    tail[tn++] = '_';
    while (nd) tail[tn++] = digits[--nd];
    tail[tn] = '\0';
  } else {
    tn = snprintf(tail, sizeof tail, "_%lld", (long long)list_idx);
  }
  size_t pn = strlen(parent_id), tbn = strlen(table);
  /* "{parent}_{table}_{idx}": one permutation when it fits one block (the usual case) */
  uint8_t h[SL_DLT_ID_BYTES];
  char msg[SL_SHAKE128_RATE];
  size_t mn = pn + 1 + tbn + (size_t)tn;
  if (mn <= sizeof msg) {
    memcpy(msg, parent_id, pn);
    msg[pn] = '_';
    memcpy(msg + pn + 1, table, tbn);
    memcpy(msg + pn + 1 + tbn, tail, (size_t)tn);
    sl_shake128(msg, mn, h, sizeof h);
  } else {
    sl_keccak k;
    sl_shake128_init(&k);
    sl_keccak_update(&k, parent_id, pn);
    sl_keccak_update(&k, "_", 1);
    sl_keccak_update(&k, table, tbn);
    sl_keccak_update(&k, tail, (size_t)tn);
    sl_shake128_squeeze(&k, h, sizeof h);
  }
  base64_nopad(h, sizeof h, out);
  return SL_OK;
}

/* orjson's string escaping: '"', '\\', control characters; UTF-8 left raw. */
static sl_status json_string(sl_buf *out, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  sl_status st = sl_buf_putc(out, '"');
  size_t run = 0;
  for (size_t i = 0; i < n && st == SL_OK; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    if (i > run) st = sl_buf_append(out, s + run, i - run);
    run = i + 1;
    if (st != SL_OK) break;
    switch (c) {
      case '"': st = sl_buf_append(out, "\\\"", 2); break;
      case '\\': st = sl_buf_append(out, "\\\\", 2); break;
      case '\b': st = sl_buf_append(out, "\\b", 2); break;
      case '\t': st = sl_buf_append(out, "\\t", 2); break;
      case '\n': st = sl_buf_append(out, "\\n", 2); break;
      case '\f': st = sl_buf_append(out, "\\f", 2); break;
      case '\r': st = sl_buf_append(out, "\\r", 2); break;
      default: {
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        st = sl_buf_append(out, u, 6);
      }
    }
  }
  if (st == SL_OK && n > run) st = sl_buf_append(out, s + run, n - run);
  if (st == SL_OK) st = sl_buf_putc(out, '"');
  return st;
}

/* A double as orjson writes it (Ryu's shortest digits, dtolnay's layout):
 * 1.0, 0.1, 1e16, 1.5e-7, 123.456. */
static sl_status json_double(sl_buf *out, double d) {
  if (d == 0) return sl_buf_puts(out, signbit(d) ? "-0.0" : "0.0");
  char e[40];
  int prec = 1;
  for (; prec <= 17; prec++) {
    snprintf(e, sizeof e, "%.*e", prec - 1, d);
    if (strtod(e, NULL) == d) break;
  }
  /* e is "-d.ddde[+-]xx": take the digits and the exponent */
  char digits[24];
  int nd = 0, neg = e[0] == '-';
  const char *p = e + neg;
  for (; *p && *p != 'e'; p++)
    if (*p != '.') digits[nd++] = *p;
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  int exp10 = atoi(p + 1); /* value = 0.d1d2.. * 10^(exp10+1) */
  int kk = exp10 + 1;      /* position of the decimal point after the digits start */
  char buf[64];
  int o = 0;
  if (neg) buf[o++] = '-';
  if (kk >= nd && kk <= 16) { /* integer: digits, zeros, ".0" */
    memcpy(buf + o, digits, (size_t)nd);
    o += nd;
    for (int i = nd; i < kk; i++) buf[o++] = '0';
    buf[o++] = '.';
    buf[o++] = '0';
  } else if (kk > 0 && kk <= 16) { /* 12.34 */
    memcpy(buf + o, digits, (size_t)kk);
    o += kk;
    buf[o++] = '.';
    memcpy(buf + o, digits + kk, (size_t)(nd - kk));
    o += nd - kk;
  } else if (kk > -5 && kk <= 0) { /* 0.001234 */
    buf[o++] = '0';
    buf[o++] = '.';
    for (int i = kk; i < 0; i++) buf[o++] = '0';
    memcpy(buf + o, digits, (size_t)nd);
    o += nd;
  } else { /* 1e30, 1.234e-7 */
    buf[o++] = digits[0];
    if (nd > 1) {
      buf[o++] = '.';
      memcpy(buf + o, digits + 1, (size_t)(nd - 1));
      o += nd - 1;
    }
    o += snprintf(buf + o, sizeof buf - (size_t)o, "e%d", kk - 1);
  }
  return sl_buf_append(out, buf, (size_t)o);
}

static int key_cmp(const void *a, const void *b) {
  const sl_key_value *x = *(const sl_key_value *const *)a, *y = *(const sl_key_value *const *)b;
  return strcmp(x->name, y->name);
}

sl_status sl_dlt_key_json(const sl_key_value *keys, size_t n, sl_buf *out) {
  if (!keys || n == 0 || n > 4096) return SL_INVALID_ARG;
  const sl_key_value *stack[16];
  const sl_key_value **order = n <= 16 ? stack : malloc(n * sizeof *order);
  if (!order) return SL_NOMEM;
  sl_status st = SL_OK;
  for (size_t i = 0; i < n; i++) {
    order[i] = &keys[i];
    if (!keys[i].name || (keys[i].kind == SL_KEY_DOUBLE && !isfinite(keys[i].d)) ||
        ((keys[i].kind == SL_KEY_TEXT || keys[i].kind == SL_KEY_JSON) && !keys[i].s && keys[i].len))
      st = SL_INVALID_ARG;
  }
  if (st == SL_OK) qsort(order, n, sizeof *order, key_cmp);
  for (size_t i = 1; i < n && st == SL_OK; i++)
    if (strcmp(order[i - 1]->name, order[i]->name) == 0) st = SL_INVALID_ARG;
  sl_buf_reset(out);
  if (st == SL_OK) st = sl_buf_putc(out, '{');
  for (size_t i = 0; i < n && st == SL_OK; i++) {
    const sl_key_value *k = order[i];
    if (i) st = sl_buf_putc(out, ',');
    if (st == SL_OK) st = json_string(out, k->name, strlen(k->name));
    if (st == SL_OK) st = sl_buf_putc(out, ':');
    if (st != SL_OK) break;
    switch (k->kind) {
      case SL_KEY_NULL: st = sl_buf_puts(out, "null"); break;
      case SL_KEY_BOOL: st = sl_buf_puts(out, k->b ? "true" : "false"); break;
      case SL_KEY_INT: st = sl_buf_printf(out, "%lld", (long long)k->i); break;
      case SL_KEY_DOUBLE: st = json_double(out, k->d); break;
      case SL_KEY_TEXT: st = json_string(out, k->s ? k->s : "", k->len); break;
      case SL_KEY_JSON: st = sl_buf_append(out, k->s ? k->s : "", k->len); break;
      default: st = SL_INVALID_ARG;
    }
  }
  if (st == SL_OK) st = sl_buf_putc(out, '}');
  if (order != stack) free(order);
  return st;
}

sl_status sl_dlt_id_from_keys(const sl_key_value *keys, size_t n, char out[SL_DLT_ID_SIZE]) {
  sl_buf json = {0};
  sl_status st = sl_dlt_key_json(keys, n, &json);
  uint8_t h[SL_DLT_ID_BYTES];
  if (st == SL_OK) st = shake128(json.data, json.len, h, sizeof h);
  if (st == SL_OK) base64_nopad(h, sizeof h, out);
  else out[0] = '\0';
  sl_buf_free(&json);
  return st;
}
