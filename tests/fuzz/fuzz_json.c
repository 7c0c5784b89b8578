/* Fuzz target for the JSON push parser, writer and tree. Any input is parsed
 * whole, then cut at a position taken from the data, then fed in small chunks
 * of a data-derived size (each chunk in its own heap block, so a read past a
 * chunk is caught); all runs must agree on the events (hashed) or on the exact
 * error. Events must be sane: strings valid UTF-8, number text valid JSON with
 * the classification the classifier gives, depths matching. When the input is
 * valid, the tree must round-trip through sl_v_to_json (compact and pretty).
 * The same runs in multi (JSON Lines) mode. Anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_int.h"
#include "sluice/json.h"
#include "sluice/value.h"

typedef struct run_state {
  uint64_t hash;
  uint64_t events;
  uint32_t depth; /* open containers */
} run_state;

static void mix(run_state *r, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) r->hash = (r->hash ^ b[i]) * 0x100000001b3ull;
}

static int valid_utf8(const char *s, size_t n) {
  const uint8_t *u = (const uint8_t *)s;
  for (size_t i = 0; i < n;) {
    if (u[i] < 0x80) {
      i++;
      continue;
    }
    size_t k = sl__json_u8_valid(u + i, n - i);
    if (!k) return 0;
    i += k;
  }
  return 1;
}

static int on_event(void *ud, const sl_json_event *ev) {
  run_state *r = ud;
  r->events++;
  switch (ev->type) {
    case SL_JSON_OBJECT_BEGIN:
    case SL_JSON_ARRAY_BEGIN:
      if (ev->depth != r->depth) abort();
      r->depth++;
      break;
    case SL_JSON_OBJECT_END:
    case SL_JSON_ARRAY_END:
      if (r->depth == 0 || ev->depth != r->depth - 1) abort();
      r->depth--;
      break;
    case SL_JSON_KEY:
    case SL_JSON_STRING:
      if (ev->depth != r->depth || (ev->len && !ev->str) || !valid_utf8(ev->str, ev->len)) abort();
      break;
    case SL_JSON_NUMBER: {
      if (ev->depth != r->depth || !sl__json_number_valid(ev->str, ev->len)) abort();
      int64_t i = 0;
      double d = 0;
      sl_numkind k = sl_json_classify_number(ev->str, ev->len, &i, &d);
      if (k != ev->numkind || (k == SL_NUM_INT64 && i != ev->i64) ||
          memcmp(&d, &ev->f64, sizeof d) != 0)
        abort();
      break;
    }
    default:
      if (ev->depth != r->depth) abort();
  }
  if (ev->line == 0 || ev->col == 0 || ev->offset < 0) abort();
  uint32_t fields[3] = {(uint32_t)ev->type, ev->depth, ev->line};
  mix(r, fields, sizeof fields);
  mix(r, &ev->col, sizeof ev->col);
  mix(r, &ev->offset, sizeof ev->offset);
  if (ev->str) mix(r, ev->str, ev->len);
  mix(r, &ev->len, sizeof ev->len);
  return 0;
}

typedef struct outcome {
  sl_status st;
  sl_error err;
  run_state rs;
} outcome;

static void parse(const uint8_t *data, size_t size, size_t first, size_t step, bool multi,
                  outcome *o) {
  memset(o, 0, sizeof *o);
  o->rs.hash = 0xcbf29ce484222325ull;
  sl_json_options opts = {.multi = multi, .max_depth = 256, .name = "fuzz.json"};
  sl_json_parser *p = sl_json_parser_new(&opts, on_event, &o->rs);
  if (!p) abort();
  size_t pos = 0;
  while (pos < size && o->st == SL_OK) {
    size_t n = pos == 0 ? first : step;
    if (n == 0 || n > size - pos) n = size - pos;
    char *chunk = malloc(n);
    memcpy(chunk, data + pos, n);
    o->st = sl_json_feed(p, chunk, n, &o->err);
    free(chunk);
    pos += n;
  }
  if (o->st == SL_OK) o->st = sl_json_finish(p, &o->err);
  sl_json_parser_free(p);
  if (o->st == SL_OK && o->rs.depth != 0) abort();
}

static void same(const outcome *a, const outcome *b) {
  if (a->st != b->st || a->rs.hash != b->rs.hash || a->rs.events != b->rs.events) abort();
  if (a->st == SL_OK) return;
  if (a->err.offset != b->err.offset || a->err.line != b->err.line || a->err.col != b->err.col ||
      strcmp(a->err.msg, b->err.msg) != 0)
    abort();
  if (a->err.line <= 0 || a->err.col <= 0 || !a->err.msg[0]) abort();
}

static void round_trip(const uint8_t *data, size_t size) {
  sl_error err;
  sl_doc *a = sl_json_parse_doc((const char *)data, size, "fuzz.json", &err);
  if (!a || !a->root) abort();
  for (int indent = 0; indent <= 2; indent += 2) {
    sl_buf out = {0};
    if (sl_v_to_json(a->root, &out, indent) != SL_OK) abort();
    sl_doc *b = sl_json_parse_doc(out.data, out.len, "again", &err);
    if (!b || !sl_v_equal(a->root, b->root)) abort();
    sl_doc_free(b);
    sl_buf_free(&out);
  }
  sl_doc_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 0x100000001b3ull;
  for (int multi = 0; multi <= 1; multi++) {
    outcome whole, cut, small;
    parse(data, size, size, size, multi, &whole);
    size_t k = size ? (size_t)(h % (size + 1)) : 0;
    parse(data, size, k, size, multi, &cut);
    same(&whole, &cut);
    size_t step = 1 + (size_t)((h >> 20) % 7);
    parse(data, size, step, step, multi, &small);
    same(&whole, &small);
    if (!multi) {
      sl_error err;
      sl_doc *d = sl_json_parse_doc((const char *)data, size, "fuzz.json", &err);
      /* the tree builder uses the default max_depth (1024) */
      if (whole.st == SL_OK) {
        if (!d) abort();
        sl_doc_free(d);
        round_trip(data, size);
      } else if (d) {
        if (whole.st != SL_JSON_DEPTH) abort();
        sl_doc_free(d);
      } else if (err.code != whole.st && whole.st != SL_JSON_DEPTH) {
        abort();
      }
    }
  }
  return 0;
}
