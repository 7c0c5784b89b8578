/* Tests for the JSON module: the accept/reject corpus in tests/data/json fed
 * whole, split at every byte and byte by byte (each chunk in its own heap
 * block, so ASan catches any read past a chunk or into an old one), error
 * positions, numbers, JSON Lines, limits, the writer and the tree. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/json.h"
#include "sluice/value.h"
#include "test.h"

#define CORPUS SL_TEST_DATA "/json"

/* ---- helpers ------------------------------------------------------------------ */

typedef struct logger {
  sl_buf log;
  bool hash_only; /* fold events into hash instead of writing log lines */
  uint64_t hash;
  int events;
  int abort_at; /* return 1 on this event (1-based); 0 = never */
  const char *chunk, *chunk_end; /* the chunk being fed, for zero-copy checks */
  int views_in_chunk;
} logger;

static const char *const ev_names[] = {"null", "false", "true", "num", "str",
                                       "key",  "{",     "}",    "[",   "]"};

/* One line per event, with every field that must not depend on chunking. */
static void mix(uint64_t *h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) *h = (*h ^ b[i]) * 0x100000001b3ull;
}

static int log_event(void *ud, const sl_json_event *ev) {
  logger *lg = ud;
  lg->events++;
  if (lg->hash_only) {
    uint64_t f[7] = {(uint64_t)ev->type, ev->depth,  (uint64_t)ev->offset, ev->line,
                     ev->col,            ev->len, (uint64_t)ev->numkind};
    mix(&lg->hash, f, sizeof f);
    if (ev->str) mix(&lg->hash, ev->str, ev->len);
    mix(&lg->hash, &ev->i64, sizeof ev->i64);
    mix(&lg->hash, &ev->f64, sizeof ev->f64);
    return lg->abort_at && lg->events == lg->abort_at;
  }
  sl_buf *b = &lg->log;
  sl_buf_printf(b, "%s d=%u @%lld %u:%u", ev_names[ev->type], (unsigned)ev->depth,
                (long long)ev->offset, (unsigned)ev->line, (unsigned)ev->col);
  if (ev->type == SL_JSON_STRING || ev->type == SL_JSON_KEY || ev->type == SL_JSON_NUMBER) {
    sl_buf_puts(b, " ");
    for (size_t i = 0; i < ev->len; i++) {
      unsigned char c = (unsigned char)ev->str[i];
      if (c >= 0x20 && c < 0x7f && c != '%') sl_buf_putc(b, (char)c);
      else sl_buf_printf(b, "%%%02X", c);
    }
    if (lg->chunk && ev->str >= lg->chunk && ev->str + ev->len <= lg->chunk_end)
      lg->views_in_chunk++;
  }
  if (ev->type == SL_JSON_NUMBER)
    sl_buf_printf(b, " k=%d i=%lld f=%a", (int)ev->numkind, (long long)ev->i64, ev->f64);
  sl_buf_putc(b, '\n');
  return lg->abort_at && lg->events == lg->abort_at;
}

typedef struct result {
  sl_status st;
  sl_error err;
  sl_buf log;
  uint64_t hash; /* set instead of log when parsed with hash_only */
} result;

static bool hash_mode; /* parse_chunked hashes events instead of logging them */

/* Parse data with a first chunk of `first` bytes, then chunks of `step`
 * bytes. Each chunk is copied into its own exact-size heap block. */
static void parse_chunked(const char *data, size_t len, size_t first, size_t step,
                          const sl_json_options *o, result *r) {
  logger lg = {.hash_only = hash_mode, .hash = 0xcbf29ce484222325ull};
  sl_json_parser *p = sl_json_parser_new(o, log_event, &lg);
  sl_error_clear(&r->err);
  r->st = SL_OK;
  size_t pos = 0;
  while (pos < len && r->st == SL_OK) {
    size_t n = pos == 0 ? first : step;
    if (n == 0 || n > len - pos) n = len - pos;
    char *chunk = malloc(n);
    memcpy(chunk, data + pos, n);
    r->st = sl_json_feed(p, chunk, n, &r->err);
    free(chunk);
    pos += n;
  }
  if (r->st == SL_OK) r->st = sl_json_finish(p, &r->err);
  sl_json_parser_free(p);
  r->log = lg.log;
  r->hash = lg.hash;
}

static bool same_result(const result *a, const result *b, char *why, size_t whylen) {
  if (a->st != b->st) {
    snprintf(why, whylen, "status %s vs %s (%.200s | %.200s)", sl_status_name(a->st),
             sl_status_name(b->st), a->err.msg, b->err.msg);
    return false;
  }
  if (a->st != SL_OK) {
    if (a->err.offset != b->err.offset || a->err.line != b->err.line || a->err.col != b->err.col ||
        strcmp(a->err.msg, b->err.msg) != 0) {
      snprintf(why, whylen, "error %lld %d:%d '%.200s' vs %lld %d:%d '%.200s'",
               (long long)a->err.offset,
               a->err.line, a->err.col, a->err.msg, (long long)b->err.offset, b->err.line,
               b->err.col, b->err.msg);
      return false;
    }
  }
  if (a->hash != b->hash) {
    snprintf(why, whylen, "event hashes differ");
    return false;
  }
  const char *la = a->log.data ? a->log.data : "", *lb = b->log.data ? b->log.data : "";
  if (strcmp(la, lb) != 0) {
    size_t i = 0;
    while (la[i] && la[i] == lb[i]) i++;
    snprintf(why, whylen, "event logs differ at byte %zu: ...%.60s... vs ...%.60s...", i,
             la + (i > 20 ? i - 20 : 0), lb + (i > 20 ? i - 20 : 0));
    return false;
  }
  return true;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  *len = fread(buf, 1, (size_t)n, f);
  buf[*len] = '\0';
  fclose(f);
  return buf;
}

typedef struct corpus_file {
  char name[256];
  char *data;
  size_t len;
} corpus_file;

static corpus_file corpus[512];
static int corpus_n;

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const corpus_file *)a)->name, ((const corpus_file *)b)->name);
}

static void load_corpus(void) {
  if (corpus_n) return;
  DIR *d = opendir(CORPUS);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && corpus_n < 512) {
    const char *nm = e->d_name;
    size_t l = strlen(nm);
    if (l < 7 || strcmp(nm + l - 5, ".json") != 0 || (nm[0] != 'y' && nm[0] != 'n') || nm[1] != '_')
      continue;
    corpus_file *cf = &corpus[corpus_n];
    snprintf(cf->name, sizeof cf->name, "%s", nm);
    char path[2048];
    snprintf(path, sizeof path, "%s/%.250s", CORPUS, nm);
    cf->data = read_file(path, &cf->len);
    if (cf->data) corpus_n++;
  }
  closedir(d);
  qsort(corpus, (size_t)corpus_n, sizeof corpus[0], cmp_name);
}

static void result_free(result *r) { sl_buf_free(&r->log); }

/* ---- the corpus ---------------------------------------------------------------- */

TEST(corpus_is_big_enough) {
  load_corpus();
  int y = 0, n = 0;
  for (int i = 0; i < corpus_n; i++) *(corpus[i].name[0] == 'y' ? &y : &n) += 1;
  CHECK_MSG(corpus_n >= 150, "only %d corpus files in %s", corpus_n, CORPUS);
  CHECK(y >= 60);
  CHECK(n >= 60);
}

TEST(corpus_whole) {
  load_corpus();
  for (int i = 0; i < corpus_n; i++) {
    corpus_file *cf = &corpus[i];
    result r;
    parse_chunked(cf->data, cf->len, 0, 0, NULL, &r);
    bool want_ok = cf->name[0] == 'y';
    if (want_ok) {
      CHECK_MSG(r.st == SL_OK, "%s: %s: %s (at %d:%d)", cf->name, sl_status_name(r.st), r.err.msg,
                r.err.line, r.err.col);
    } else {
      CHECK_MSG(r.st == SL_JSON_SYNTAX || r.st == SL_JSON_UTF8 || r.st == SL_JSON_DEPTH,
                "%s: accepted (or odd status %s)", cf->name, sl_status_name(r.st));
      CHECK_MSG(r.err.msg[0] && r.err.line > 0 && r.err.col > 0 && r.err.offset >= 0 &&
                    r.err.offset <= (int64_t)cf->len,
                "%s: error without a position: '%s'", cf->name, r.err.msg);
      /* UTF-8 problems are reported as such, and only they. */
      bool utf8 = strncmp(cf->name, "n_utf8_", 7) == 0 && strstr(cf->name, "outside") == NULL &&
                  strstr(cf->name, "bom") == NULL && strstr(cf->name, "eof") == NULL &&
                  strstr(cf->name, "in_key") == NULL;
      if (utf8) CHECK_MSG(r.st == SL_JSON_UTF8, "%s: %s", cf->name, sl_status_name(r.st));
      if (strncmp(cf->name, "n_deep_arrays", 13) == 0) CHECK(r.st == SL_JSON_DEPTH);
    }
    result_free(&r);
  }
}

/* Two chunks split at every position: same events, same error. */
TEST(corpus_every_split) {
  load_corpus();
  char why[600];
  for (int i = 0; i < corpus_n; i++) {
    corpus_file *cf = &corpus[i];
    result whole;
    hash_mode = true; /* fast; the logs are made only to explain a difference */
    parse_chunked(cf->data, cf->len, 0, 0, NULL, &whole);
    /* Every position; in the middle of the few long files, every stride-th. */
    size_t stride = cf->len > 1024 ? cf->len / 128 : 1;
    for (size_t k = 1; k < cf->len; k += (k < 128 || k + 128 > cf->len) ? 1 : stride) {
      result r;
      parse_chunked(cf->data, cf->len, k, 0, NULL, &r);
      bool same = same_result(&whole, &r, why, sizeof why);
      result_free(&r);
      if (!same) {
        hash_mode = false;
        result a, b;
        parse_chunked(cf->data, cf->len, 0, 0, NULL, &a);
        parse_chunked(cf->data, cf->len, k, 0, NULL, &b);
        same_result(&a, &b, why, sizeof why);
        result_free(&a);
        result_free(&b);
        FAIL_("%s split at %zu: %s", cf->name, k, why);
      }
    }
    hash_mode = false;
  }
}

TEST(corpus_byte_by_byte_and_odd_chunks) {
  load_corpus();
  static const size_t steps[] = {1, 2, 3, 5, 7, 13, 16, 17, 64, 4093};
  char why[600];
  for (int i = 0; i < corpus_n; i++) {
    corpus_file *cf = &corpus[i];
    result whole;
    parse_chunked(cf->data, cf->len, 0, 0, NULL, &whole);
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
      result r;
      parse_chunked(cf->data, cf->len, steps[s], steps[s], NULL, &r);
      bool same = same_result(&whole, &r, why, sizeof why);
      result_free(&r);
      if (!same) {
        result_free(&whole);
        FAIL_("%s in chunks of %zu: %s", cf->name, steps[s], why);
      }
    }
    result_free(&whole);
  }
}

/* parse -> tree -> JSON (compact and pretty) -> parse -> the same tree. */
TEST(corpus_round_trip) {
  load_corpus();
  for (int i = 0; i < corpus_n; i++) {
    corpus_file *cf = &corpus[i];
    if (cf->name[0] != 'y') continue;
    sl_error err;
    sl_doc *a = sl_json_parse_doc(cf->data, cf->len, cf->name, &err);
    CHECK_MSG(a && a->root, "%s: %s", cf->name, err.msg);
    for (int indent = 0; indent <= 2; indent += 2) {
      sl_buf out = {0};
      CHECK_OK(sl_v_to_json(a->root, &out, indent));
      sl_doc *b = sl_json_parse_doc(out.data, out.len, "round trip", &err);
      CHECK_MSG(b, "%s (indent %d): re-parse failed: %s\n%.200s", cf->name, indent, err.msg,
                out.data);
      CHECK_MSG(sl_v_equal(a->root, b->root), "%s (indent %d): trees differ", cf->name, indent);
      /* A second trip is byte-identical to the first. */
      sl_buf again = {0};
      CHECK_OK(sl_v_to_json(b->root, &again, indent));
      CHECK_MSG(again.len == out.len && memcmp(again.data, out.data, out.len) == 0,
                "%s: second serialization differs", cf->name);
      sl_buf_free(&again);
      sl_doc_free(b);
      sl_buf_free(&out);
    }
    char path[2048];
    snprintf(path, sizeof path, "%s/%.250s", CORPUS, cf->name);
    sl_doc *c = sl_json_parse_file(path, &err);
    CHECK_MSG(c && sl_v_equal(a->root, c->root), "%s: parse_file differs", cf->name);
    sl_doc_free(c);
    sl_doc_free(a);
  }
}

TEST(corpus_reject_through_tree) {
  load_corpus();
  for (int i = 0; i < corpus_n; i++) {
    corpus_file *cf = &corpus[i];
    if (cf->name[0] != 'n') continue;
    sl_error err;
    sl_doc *d = sl_json_parse_doc(cf->data, cf->len, cf->name, &err);
    CHECK_MSG(!d, "%s: tree built from invalid JSON", cf->name);
    CHECK_STR(err.file, cf->name);
  }
}

/* ---- error positions ------------------------------------------------------------- */

typedef struct err_case {
  const char *text;
  sl_status code;
  int64_t offset;
  int line, col;
  const char *msg_part;
} err_case;

TEST(error_positions) {
  static const err_case cases[] = {
      {"{\"a\":1]", SL_JSON_SYNTAX, 6, 1, 7, "expected ',' or '}' after object member, found ']'"},
      {"[1,2}", SL_JSON_SYNTAX, 4, 1, 5, "expected ',' or ']' after array element, found '}'"},
      {"[1,]", SL_JSON_SYNTAX, 3, 1, 4, "trailing commas"},
      {"{\n  \"a\": 1,\n}", SL_JSON_SYNTAX, 12, 3, 1, "expected a string key after ','"},
      {"[\n1,\n\n  x]", SL_JSON_SYNTAX, 8, 4, 3, "expected a value after ',', found 'x'"},
      {"\r\n\r\n  01", SL_JSON_SYNTAX, 7, 3, 4, "leading zeros"},
      {"[1.]", SL_JSON_SYNTAX, 3, 1, 4, "digit after the decimal point, found ']'"},
      {"-", SL_JSON_SYNTAX, 1, 1, 2, "expected a digit after '-', found end of input"},
      {"", SL_JSON_SYNTAX, 0, 1, 1, "found end of input"},
      {"  \n ", SL_JSON_SYNTAX, 4, 2, 2, "empty"},
      {"[1", SL_JSON_SYNTAX, 2, 1, 3, "found end of input"},
      {"{\"a\"\n:\n}", SL_JSON_SYNTAX, 7, 3, 1, "expected a value after ':', found '}'"},
      {"\"ab\\qc\"", SL_JSON_SYNTAX, 3, 1, 4, "'\\' followed by 'q'"},
      {"[\"x\\ud800\"]", SL_JSON_SYNTAX, 3, 1, 4, "lone high surrogate"},
      {"[\"\\udc00\"]", SL_JSON_SYNTAX, 2, 1, 3, "lone low surrogate"},
      {"[\"\\ud800\\u0041\"]", SL_JSON_SYNTAX, 2, 1, 3, "not a low surrogate"},
      {"[\"\\ud800\\u00G1\"]", SL_JSON_SYNTAX, 8, 1, 9, "4 hex digits, found 'G'"},
      {"\"a\tb\"", SL_JSON_SYNTAX, 2, 1, 3, "control character byte 0x09"},
      {"[\"ab\xc3\x28\"]", SL_JSON_UTF8, 4, 1, 5, "truncated sequence"},
      {"[\"\xed\xa0\x80\"]", SL_JSON_UTF8, 2, 1, 3, "surrogate"},
      {"[\"\xe0\x80\xaf\"]", SL_JSON_UTF8, 2, 1, 3, "overlong"},
      {"[\"\xc0\xaf\"]", SL_JSON_UTF8, 2, 1, 3, "overlong"},
      {"[\"\xf4\x90\x80\x80\"]", SL_JSON_UTF8, 2, 1, 3, "beyond U+10FFFF"},
      {"[\"\x80\"]", SL_JSON_UTF8, 2, 1, 3, "continuation byte 0x80"},
      {"[\"\xff\"]", SL_JSON_UTF8, 2, 1, 3, "0xFF"},
      {"\xef\xbb\xbf{}", SL_JSON_SYNTAX, 0, 1, 1, "byte order mark"},
      {"[tru]", SL_JSON_SYNTAX, 4, 1, 5, "expected 'true', found ']'"},
      {"nul", SL_JSON_SYNTAX, 3, 1, 4, "expected 'null', found end of input"},
      {"{} x", SL_JSON_SYNTAX, 3, 1, 4, "after the top-level value, found 'x'"},
      {"[1] // c", SL_JSON_SYNTAX, 4, 1, 5, "comments are not allowed"},
      {"{'a':1}", SL_JSON_SYNTAX, 1, 1, 2, "double quotes"},
      {"[NaN]", SL_JSON_SYNTAX, 1, 1, 2, "NaN and Infinity"},
      {"[+1]", SL_JSON_SYNTAX, 1, 1, 2, "cannot start with '+'"},
      {"\"abc", SL_JSON_SYNTAX, 4, 1, 5, "unterminated string"},
      {"{\"ab", SL_JSON_SYNTAX, 4, 1, 5, "unterminated object key"},
      {"[1,\x01]", SL_JSON_SYNTAX, 3, 1, 4, "found byte 0x01"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const err_case *c = &cases[i];
    size_t len = strlen(c->text);
    sl_json_options o = {.name = "api.json"};
    for (size_t step = 1; step <= len + 1; step++) {
      result r;
      parse_chunked(c->text, len, step, step, &o, &r);
      result_free(&r);
      CHECK_MSG(r.st == c->code, "case %zu (step %zu): %s, want %s: %s", i, step,
                sl_status_name(r.st), sl_status_name(c->code), r.err.msg);
      CHECK_MSG(r.err.offset == c->offset && r.err.line == c->line && r.err.col == c->col,
                "case %zu (step %zu): at %lld %d:%d, want %lld %d:%d (%s)", i, step,
                (long long)r.err.offset, r.err.line, r.err.col, (long long)c->offset, c->line,
                c->col, r.err.msg);
      CHECK_CONTAINS(r.err.msg, c->msg_part);
      CHECK_STR(r.err.file, "api.json");
    }
  }
}

TEST(error_format_names_the_file) {
  sl_error err;
  sl_doc *d = sl_json_parse_doc("{\n\"a\": [1 2]}", 13, "pins.json", &err);
  CHECK(!d);
  char line[700];
  sl_error_format(&err, line, sizeof line);
  CHECK_STR(line, "pins.json:2:9: expected ',' or ']' after array element, found '2'");
}

TEST(error_is_sticky) {
  logger lg = {0};
  sl_json_parser *p = sl_json_parser_new(NULL, log_event, &lg);
  sl_error err;
  CHECK(sl_json_feed(p, "[1,,", 4, &err) == SL_JSON_SYNTAX);
  sl_error again;
  CHECK(sl_json_feed(p, "2]", 2, &again) == SL_JSON_SYNTAX);
  CHECK_STR(again.msg, err.msg);
  CHECK(again.offset == 3);
  CHECK(sl_json_finish(p, &again) == SL_JSON_SYNTAX);
  /* reset makes it usable again */
  sl_json_parser_reset(p);
  CHECK_OK(sl_json_feed(p, "[2]", 3, &err));
  CHECK_OK(sl_json_finish(p, &err));
  sl_json_parser_free(p);
  sl_buf_free(&lg.log);
}

/* ---- events ------------------------------------------------------------------------ */

static char *events_of(const char *text, const sl_json_options *o) {
  result r;
  parse_chunked(text, strlen(text), 0, 0, o, &r);
  if (r.st) {
    result_free(&r);
    return NULL;
  }
  return r.log.data ? r.log.data : strdup("");
}

TEST(event_depths_offsets_and_positions) {
  char *log = events_of("{\"a\": [1, {\"b\": null}],\n \"c\": \"x\"}", NULL);
  CHECK(log);
  CHECK_STR(log,
            "{ d=0 @0 1:1\n"
            "key d=1 @1 1:2 a\n"
            "[ d=1 @6 1:7\n"
            "num d=2 @7 1:8 1 k=0 i=1 f=0x1p+0\n"
            "{ d=2 @10 1:11\n"
            "key d=3 @11 1:12 b\n"
            "null d=3 @16 1:17\n"
            "} d=2 @20 1:21\n"
            "] d=1 @21 1:22\n"
            "key d=1 @25 2:2 c\n"
            "str d=1 @30 2:7 x\n"
            "} d=0 @33 2:10\n");
  free(log);
}

TEST(strings_are_zero_copy_when_whole_and_plain) {
  const char *text = "{\"plain\": \"caf\xc3\xa9 ok\", \"esc\": \"a\\nb\"}";
  logger lg = {0};
  sl_json_parser *p = sl_json_parser_new(NULL, log_event, &lg);
  lg.chunk = text;
  lg.chunk_end = text + strlen(text);
  sl_error err;
  CHECK_OK(sl_json_feed(p, text, strlen(text), &err));
  CHECK_OK(sl_json_finish(p, &err));
  /* "plain", "café ok" and "esc" are views into the chunk; "a\nb" is not. */
  CHECK_INT(lg.views_in_chunk, 3);
  CHECK_CONTAINS(lg.log.data, "str d=1 @29 1:30 a%0Ab");
  sl_json_parser_free(p);
  sl_buf_free(&lg.log);
  /* a multi-byte character right before the closing quote at the chunk end */
  static const char *const tails[] = {"\"\xc3\xa9\"", "\"x\xe4\xb8\xad\"", "\"\xf0\x9f\x98\x80\""};
  for (size_t i = 0; i < 3; i++) {
    logger lt = {0};
    p = sl_json_parser_new(NULL, log_event, &lt);
    lt.chunk = tails[i];
    lt.chunk_end = tails[i] + strlen(tails[i]);
    CHECK_OK(sl_json_feed(p, tails[i], strlen(tails[i]), &err));
    CHECK_OK(sl_json_finish(p, &err));
    CHECK_INT(lt.views_in_chunk, 1);
    sl_json_parser_free(p);
    sl_buf_free(&lt.log);
  }
}

TEST(unicode_escapes_decode) {
  sl_error err;
  const char *t =
      "[\"\\u0041\\u00e9\\u4e2d\\ud83d\\ude00\\u0000z\", \"\\/\\b\\f\\n\\r\\t\\\"\\\\\"]";
  sl_doc *d = sl_json_parse_doc(t, strlen(t), NULL, &err);
  CHECK(d);
  const sl_value *s = sl_v_at(d->root, 0);
  static const char want[] = "A\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\0z";
  CHECK_INT(s->u.s.len, sizeof want - 1);
  CHECK(memcmp(s->u.s.ptr, want, sizeof want - 1) == 0);
  CHECK_STR(sl_v_at(d->root, 1)->u.s.ptr, "/\b\f\n\r\t\"\\");
  sl_doc_free(d);
}

TEST(callback_abort) {
  logger lg = {.abort_at = 3};
  sl_json_parser *p = sl_json_parser_new(NULL, log_event, &lg);
  sl_error err;
  CHECK(sl_json_feed(p, "[1, 2, 3]", 9, &err) == SL_ABORTED);
  CHECK_INT(lg.events, 3);
  CHECK_INT(err.offset, 4);
  CHECK(sl_json_feed(p, "4", 1, &err) == SL_ABORTED);
  CHECK_INT(lg.events, 3);
  sl_json_parser_free(p);
  sl_buf_free(&lg.log);
}

TEST(null_callback_validates) {
  sl_json_parser *p = sl_json_parser_new(NULL, NULL, NULL);
  sl_error err;
  CHECK_OK(sl_json_feed(p, "{\"a\":[1,2.5,\"x\"]}", 17, &err));
  CHECK_OK(sl_json_finish(p, &err));
  sl_json_parser_reset(p);
  CHECK(sl_json_feed(p, "{\"a\" 1}", 7, &err) == SL_JSON_SYNTAX);
  CHECK_INT(sl_json_offset(p), 7);
  sl_json_parser_free(p);
}

TEST(offset_and_line_progress) {
  sl_json_parser *p = sl_json_parser_new(NULL, NULL, NULL);
  sl_error err;
  CHECK_OK(sl_json_feed(p, "[1,\n2,\n", 7, &err));
  CHECK_INT(sl_json_offset(p), 7);
  CHECK_INT(sl_json_line(p), 3);
  CHECK_OK(sl_json_feed(p, "3]", 2, &err));
  CHECK_OK(sl_json_finish(p, &err));
  CHECK_INT(sl_json_offset(p), 9);
  sl_json_parser_free(p);
}

/* ---- numbers ------------------------------------------------------------------------ */

typedef struct num_case {
  const char *text;
  sl_numkind kind;
  int64_t i64;
  double f64;
} num_case;

TEST(number_classification) {
  static const num_case cases[] = {
      {"0", SL_NUM_INT64, 0, 0.0},
      {"-0", SL_NUM_INT64, 0, 0.0},
      {"7", SL_NUM_INT64, 7, 7.0},
      {"-123", SL_NUM_INT64, -123, -123.0},
      {"9223372036854775807", SL_NUM_INT64, INT64_MAX, 9223372036854775807.0},
      {"-9223372036854775808", SL_NUM_INT64, INT64_MIN, -9223372036854775808.0},
      {"9223372036854775808", SL_NUM_BIGINT, 0, 9223372036854775808.0},
      {"-9223372036854775809", SL_NUM_BIGINT, 0, -9223372036854775809.0},
      {"18446744073709551616", SL_NUM_BIGINT, 0, 18446744073709551616.0},
      {"100000000000000000000000", SL_NUM_BIGINT, 0, 1e23},
      {"0000", SL_NUM_INT64, 0, 0.0}, /* not valid JSON, but classification is lenient */
      {"1.5", SL_NUM_DECIMAL, 0, 1.5},
      {"-0.25", SL_NUM_DECIMAL, 0, -0.25},
      {"0.1", SL_NUM_DECIMAL, 0, 0.1},
      {"123.456", SL_NUM_DECIMAL, 0, 123.456},
      {"0.000001", SL_NUM_DECIMAL, 0, 0.000001},
      {"1.0", SL_NUM_DECIMAL, 0, 1.0},
      {"3.14159265358979323846264338327950288", SL_NUM_DECIMAL, 0, 3.14159265358979323846},
      {"9007199254740993.0", SL_NUM_DECIMAL, 0, 9007199254740992.0},
      {"1e10", SL_NUM_DOUBLE, 0, 1e10},
      {"1E-10", SL_NUM_DOUBLE, 0, 1e-10},
      {"-1.5e-3", SL_NUM_DOUBLE, 0, -1.5e-3},
      {"2.5E+2", SL_NUM_DOUBLE, 0, 250.0},
      {"1e22", SL_NUM_DOUBLE, 0, 1e22},
      {"1e23", SL_NUM_DOUBLE, 0, 1e23},
      {"1e007", SL_NUM_DOUBLE, 0, 1e7},
      {"1.7976931348623157e308", SL_NUM_DOUBLE, 0, 1.7976931348623157e308},
      {"2.2250738585072014e-308", SL_NUM_DOUBLE, 0, 2.2250738585072014e-308},
      {"4.9406564584124654e-324", SL_NUM_DOUBLE, 0, 4.9406564584124654e-324},
      {"1e-400", SL_NUM_DOUBLE, 0, 0.0},
      {"0e0", SL_NUM_DOUBLE, 0, 0.0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const num_case *c = &cases[i];
    int64_t v = 42;
    double d = -1;
    sl_numkind k = sl_json_classify_number(c->text, strlen(c->text), &v, &d);
    CHECK_MSG(k == c->kind, "%s: kind %d, want %d", c->text, (int)k, (int)c->kind);
    if (k == SL_NUM_INT64) CHECK_MSG(v == c->i64, "%s: i64 %lld", c->text, (long long)v);
    CHECK_MSG(d == c->f64, "%s: f64 %.17g, want %.17g", c->text, d, c->f64);
  }
  double d = 0;
  CHECK(sl_json_classify_number("1e400", 5, NULL, &d) == SL_NUM_DOUBLE && isinf(d) && d > 0);
  CHECK(sl_json_classify_number("-1e400", 6, NULL, &d) == SL_NUM_DOUBLE && isinf(d) && d < 0);
  CHECK(sl_json_classify_number("1", 1, NULL, NULL) == SL_NUM_INT64);
}

/* The same digits as the inline fast path (mid-chunk) and the general path
 * (near the chunk end, or cut) give the same event. */
TEST(number_events_agree_across_paths) {
  static const char *const nums[] = {"0",   "-0",  "5",  "-5",   "123456789012345678",
                                     "-999999999999999999", "1234567890123456789",
                                     "9223372036854775807", "-9223372036854775808",
                                     "9223372036854775808", "1.25", "-0.0", "6e2", "10"};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    char doc[200];
    snprintf(doc, sizeof doc, "[%s,                                          0]", nums[i]);
    result whole, cut;
    parse_chunked(doc, strlen(doc), 0, 0, NULL, &whole);
    CHECK_OK(whole.st);
    for (size_t k = 1; k < strlen(nums[i]) + 2; k++) {
      parse_chunked(doc, strlen(doc), k, 0, NULL, &cut);
      char why[600];
      bool same = same_result(&whole, &cut, why, sizeof why);
      result_free(&cut);
      CHECK_MSG(same, "%s cut at %zu: %s", nums[i], k, why);
    }
    result_free(&whole);
  }
  char *log = events_of("[9223372036854775807,-9223372036854775808,1.5,1e2,99999999999999999999]",
                        NULL);
  CHECK(log);
  CHECK_CONTAINS(log, "9223372036854775807 k=0 i=9223372036854775807");
  CHECK_CONTAINS(log, "-9223372036854775808 k=0 i=-9223372036854775808");
  CHECK_CONTAINS(log, "1.5 k=2 i=0 f=0x1.8p+0");
  CHECK_CONTAINS(log, "1e2 k=3 i=0 f=0x1.9p+6");
  CHECK_CONTAINS(log, "99999999999999999999 k=1");
  free(log);
}

TEST(numbers_in_tree) {
  sl_error err;
  const char *t = "[1, -9223372036854775808, 9223372036854775808, 0.10, 1e400]";
  sl_doc *d = sl_json_parse_doc(t, strlen(t), NULL, &err);
  CHECK(d);
  CHECK(sl_v_at(d->root, 0)->type == SL_V_INT && sl_v_at(d->root, 0)->u.i == 1);
  CHECK(sl_v_at(d->root, 1)->type == SL_V_INT && sl_v_at(d->root, 1)->u.i == INT64_MIN);
  const sl_value *big = sl_v_at(d->root, 2);
  CHECK(big->type == SL_V_NUMBER && big->u.num.kind == SL_NUM_BIGINT);
  CHECK_STR(big->u.num.text, "9223372036854775808");
  const sl_value *dec = sl_v_at(d->root, 3);
  CHECK(dec->type == SL_V_NUMBER && dec->u.num.kind == SL_NUM_DECIMAL && dec->u.num.d == 0.1);
  CHECK_STR(dec->u.num.text, "0.10");
  const sl_value *inf = sl_v_at(d->root, 4);
  CHECK(inf->type == SL_V_NUMBER && inf->u.num.kind == SL_NUM_DOUBLE && isinf(inf->u.num.d));
  sl_buf out = {0};
  CHECK_OK(sl_v_to_json(d->root, &out, 0));
  CHECK_STR(out.data, t[0] == '[' ? "[1,-9223372036854775808,9223372036854775808,0.10,1e400]" : "");
  sl_buf_free(&out);
  sl_doc_free(d);
}

/* ---- multi (JSON Lines) --------------------------------------------------------------- */

TEST(multi_json_lines) {
  sl_json_options o = {.multi = true};
  const char *text = "{\"a\":1}\n{\"a\":2}\r\n[3]\n\"four\" 5\ttrue\n\n";
  char *log = events_of(text, &o);
  CHECK(log);
  int tops = 0;
  for (const char *s = log; (s = strstr(s, " d=0 ")); s++) tops++;
  /* { } { } [ ] "four" 5 true */
  CHECK_INT(tops, 9);
  free(log);
  /* every split agrees */
  result whole;
  parse_chunked(text, strlen(text), 0, 0, &o, &whole);
  for (size_t k = 1; k < strlen(text); k++) {
    result r;
    parse_chunked(text, strlen(text), k, 0, &o, &r);
    char why[600];
    bool same = same_result(&whole, &r, why, sizeof why);
    result_free(&r);
    CHECK_MSG(same, "split %zu: %s", k, why);
  }
  result_free(&whole);
  /* empty input is an empty stream */
  log = events_of("", &o);
  CHECK(log && !*log);
  free(log);
  log = events_of(" \n\n ", &o);
  CHECK(log && !*log);
  free(log);
}

TEST(multi_errors) {
  sl_json_options o = {.multi = true};
  static const struct {
    const char *text;
    int64_t off;
    const char *part;
  } cases[] = {
      {"{}{}", 2, "whitespace between top-level values"},
      {"{\"a\":1}\n{\"a\":", 13, "found end of input"},
      {"1\n2\n[", 5, "found end of input"},
      {"{\"a\":1}\n{\"a\" 2}\n", 13, "expected ':'"},
      {"1\n,2", 2, "found ','"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t len = strlen(cases[i].text);
    for (size_t step = 1; step <= len; step++) {
      result r;
      parse_chunked(cases[i].text, len, step, step, &o, &r);
      result_free(&r);
      CHECK_MSG(r.st == SL_JSON_SYNTAX, "case %zu step %zu accepted", i, step);
      CHECK_MSG(r.err.offset == cases[i].off, "case %zu step %zu: offset %lld (%s)", i, step,
                (long long)r.err.offset, r.err.msg);
      CHECK_CONTAINS(r.err.msg, cases[i].part);
    }
  }
}

TEST(multi_off_rejects_second_value) {
  result r;
  parse_chunked("{}\n{}", 5, 0, 0, NULL, &r);
  result_free(&r);
  CHECK(r.st == SL_JSON_SYNTAX);
  CHECK_CONTAINS(r.err.msg, "expected end of input after the top-level value, found '{'");
  CHECK(r.err.line == 2 && r.err.col == 1);
}

/* ---- limits ----------------------------------------------------------------------- */

TEST(max_depth_100k) {
  size_t n = 100000;
  char *t = malloc(2 * n);
  memset(t, '[', n);
  memset(t + n, ']', n);
  result r;
  parse_chunked(t, 2 * n, 0, 0, NULL, &r);
  result_free(&r);
  CHECK(r.st == SL_JSON_DEPTH);
  CHECK_INT(r.err.offset, 1024);
  CHECK_CONTAINS(r.err.msg, "more than 1024 levels");
  CHECK_CONTAINS(r.err.msg, "max_depth");
  /* fed in small chunks too */
  parse_chunked(t, 2 * n, 4096, 4096, NULL, &r);
  result_free(&r);
  CHECK(r.st == SL_JSON_DEPTH && r.err.offset == 1024);
  /* with a large enough limit it parses, without recursion */
  sl_json_options o = {.max_depth = 200000};
  parse_chunked(t, 2 * n, 65536, 65536, &o, &r);
  CHECK_OK(r.st);
  result_free(&r);
  /* and unclosed, it reports the end of input */
  parse_chunked(t, n, 0, 0, &o, &r);
  result_free(&r);
  CHECK(r.st == SL_JSON_SYNTAX && r.err.offset == (int64_t)n);
  free(t);
}

TEST(max_depth_exact) {
  sl_json_options o = {.max_depth = 3};
  result r;
  parse_chunked("[{\"a\":[]}]", 10, 0, 0, &o, &r);
  CHECK_OK(r.st);
  result_free(&r);
  parse_chunked("[{\"a\":[[]]}]", 12, 0, 0, &o, &r);
  result_free(&r);
  CHECK(r.st == SL_JSON_DEPTH && r.err.offset == 7);
}

TEST(max_string) {
  sl_json_options o = {.max_string = 8};
  static const struct {
    const char *text;
    bool ok;
  } cases[] = {
      {"[\"12345678\"]", true},
      {"[\"123456789\"]", false},
      {"[\"1234567\\n\"]", true},
      {"[\"12345678\\n\"]", false},
      {"[\"\\u00e9\\u00e9\\u00e9\\u00e9\"]", true}, /* 8 bytes decoded, 24 raw */
      {"[\"\\u00e9\\u00e9\\u00e9\\u00e9x\"]", false},
      {"{\"123456789\":1}", false},
      {"[12345678]", true},
      {"[123456789]", false},
      {"[1.3456789]", false},
      {"[\"123456789\xff\"]", false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t len = strlen(cases[i].text);
    result whole;
    parse_chunked(cases[i].text, len, 0, 0, &o, &whole);
    CHECK_MSG((whole.st == SL_OK) == cases[i].ok, "case %zu: %s %s", i, sl_status_name(whole.st),
              whole.err.msg);
    if (!cases[i].ok) {
      CHECK_MSG(whole.st == SL_TOO_LARGE && whole.err.offset == 1, "case %zu: %s at %lld", i,
                sl_status_name(whole.st), (long long)whole.err.offset);
      CHECK_CONTAINS(whole.err.msg, "max_string");
    }
    for (size_t step = 1; step < len; step++) {
      result r;
      parse_chunked(cases[i].text, len, step, step, &o, &r);
      char why[600];
      bool same = same_result(&whole, &r, why, sizeof why);
      result_free(&r);
      CHECK_MSG(same, "case %zu step %zu: %s", i, step, why);
    }
    result_free(&whole);
  }
}

/* A long string cut by many chunk ends, with escapes and multi-byte
 * characters falling on every kind of boundary. */
TEST(long_string_across_chunks) {
  sl_buf t = {0};
  sl_buf_putc(&t, '"');
  for (int i = 0; i < 20000; i++)
    sl_buf_puts(&t, i % 3 == 0   ? "ab\\u00e9\\ud83d\\ude00"
                    : i % 3 == 1 ? "\xe4\xb8\xad\\n"
                                 : "xyz\xf0\x9f\x98\x80");
  sl_buf_putc(&t, '"');
  result whole;
  parse_chunked(t.data, t.len, 0, 0, NULL, &whole);
  CHECK_OK(whole.st);
  static const size_t steps[] = {1, 2, 3, 5, 11, 999, 4096};
  for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
    result r;
    parse_chunked(t.data, t.len, steps[s], steps[s], NULL, &r);
    char why[600];
    bool same = same_result(&whole, &r, why, sizeof why);
    result_free(&r);
    CHECK_MSG(same, "step %zu: %s", steps[s], why);
  }
  result_free(&whole);
  sl_buf_free(&t);
}

/* ---- random documents: every chunking agrees, valid or not -------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state % n);
}

static void gen_value(sl_buf *b, int depth) {
  static const char *const strs[] = {"\"\"", "\"plain text\"", "\"caf\xc3\xa9\"",
                                     "\"\\u00e9\\ud83d\\ude00\"", "\"tab\\tnew\\nline\"",
                                     "\"\xf0\x9f\x98\x80\xe4\xb8\xad\"", "\"q\\\"uote\""};
  static const char *const nums[] = {"0", "-1", "42", "3.25", "-0.001", "1e9", "2.5E-3",
                                     "12345678901234567890", "9223372036854775807", "-7"};
  int r = (int)rnd(depth > 6 ? 6 : 9);
  switch (r) {
    case 0: sl_buf_puts(b, "null"); break;
    case 1: sl_buf_puts(b, rnd(2) ? "true" : "false"); break;
    case 2:
    case 3: sl_buf_puts(b, nums[rnd(10)]); break;
    case 4:
    case 5: sl_buf_puts(b, strs[rnd(7)]); break;
    case 6:
    case 7: {
      int n = (int)rnd(5);
      sl_buf_putc(b, '[');
      for (int i = 0; i < n; i++) {
        if (i) sl_buf_puts(b, rnd(3) ? "," : " ,\n ");
        gen_value(b, depth + 1);
      }
      sl_buf_putc(b, ']');
      break;
    }
    default: {
      int n = (int)rnd(5);
      sl_buf_putc(b, '{');
      for (int i = 0; i < n; i++) {
        if (i) sl_buf_putc(b, ',');
        sl_buf_printf(b, "\"k%d\"%s", (int)rnd(100), rnd(2) ? ":" : " : ");
        gen_value(b, depth + 1);
      }
      sl_buf_putc(b, '}');
    }
  }
}

TEST(random_documents_and_mutations) {
  static const char mutations[] = "[]{},:\"\\ 0-.eE+tfnu\x01\x80\xc3\xed\xff";
  for (int iter = 0; iter < 400; iter++) {
    sl_buf doc = {0};
    gen_value(&doc, 0);
    if (iter % 2) {
      /* break it somewhere */
      size_t at = rnd((uint32_t)doc.len);
      int how = (int)rnd(3);
      if (how == 0) doc.data[at] = mutations[rnd(sizeof mutations - 1)];
      else if (how == 1) doc.len = at; /* truncate */
      else memmove(doc.data + at, doc.data + at + 1, doc.len - at - 1), doc.len--;
    }
    result whole;
    parse_chunked(doc.data, doc.len, 0, 0, NULL, &whole);
    if (iter % 2 == 0)
      CHECK_MSG(whole.st == SL_OK, "generated doc rejected: %s\n%s", whole.err.msg, doc.data);
    for (int t = 0; t < 8 && doc.len > 1; t++) {
      size_t first = 1 + rnd((uint32_t)doc.len - 1), step = 1 + rnd(t < 4 ? 4 : 64);
      result r;
      parse_chunked(doc.data, doc.len, first, step, NULL, &r);
      char why[600];
      bool same = same_result(&whole, &r, why, sizeof why);
      result_free(&r);
      if (!same) {
        result_free(&whole);
        sl_buf_free(&doc);
        FAIL_("iteration %d, first %zu step %zu: %s", iter, first, step, why);
      }
    }
    result_free(&whole);
    sl_buf_free(&doc);
  }
}

/* ---- the writer ----------------------------------------------------------------------- */

static char *written(const char *s, size_t len) {
  sl_buf b = {0};
  if (sl_json_write_string(&b, s, len)) return NULL;
  return b.data;
}

TEST(write_string_escapes) {
  char *w = written("plain", 5);
  CHECK_STR(w, "\"plain\"");
  free(w);
  w = written("", 0);
  CHECK_STR(w, "\"\"");
  free(w);
  w = written("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f", 14);
  CHECK_STR(w, "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"");
  free(w);
  w = written("nul\0x", 5);
  CHECK_STR(w, "\"nul\\u0000x\"");
  free(w);
  w = written("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80", 14);
  CHECK_STR(w, "\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"");
  free(w);
}

TEST(write_string_repairs_utf8) {
  static const struct {
    const char *in;
    size_t len;
    const char *out;
  } cases[] = {
      {"a\xff" "b", 3, "\"a\xef\xbf\xbd" "b\""},
      {"\xc3", 1, "\"\xef\xbf\xbd\""},
      {"\xc3(", 2, "\"\xef\xbf\xbd(\""},
      {"\xe4\xb8", 2, "\"\xef\xbf\xbd\""},            /* one maximal subpart, one U+FFFD */
      {"\xe4\xb8x", 3, "\"\xef\xbf\xbdx\""},
      {"\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* surrogate: 3 bad bytes */
      {"\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},
      {"\xf4\x90\x80\x80", 4, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
      {"\xf0\x9f\x98", 3, "\"\xef\xbf\xbd\""},
      {"\x80\x80", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *w = written(cases[i].in, cases[i].len);
    CHECK_MSG(w && strcmp(w, cases[i].out) == 0, "case %zu: got %s", i, w ? w : "(null)");
    /* and the output is always valid JSON */
    sl_error err;
    sl_doc *d = sl_json_parse_doc(w, strlen(w), NULL, &err);
    CHECK_MSG(d, "case %zu: %s", i, err.msg);
    sl_doc_free(d);
    free(w);
  }
}

TEST(write_string_respects_cap) {
  sl_buf b;
  sl_buf_init(&b, 8);
  CHECK(sl_json_write_string(&b, "0123456789", 10) == SL_TOO_LARGE);
  sl_buf_free(&b);
}

/* ---- the tree writer ------------------------------------------------------------------- */

TEST(to_json_compact_and_pretty) {
  sl_doc *d = sl_doc_new("t");
  sl_value *root = sl_v_object(d);
  sl_v_set(d, root, "name", 4, sl_v_string(d, "pin \"1\"", 7));
  sl_value *arr = sl_v_array(d);
  sl_v_push(d, arr, sl_v_int(d, -3));
  sl_v_push(d, arr, sl_v_number(d, "2.50", 4, 2.5, SL_NUM_DECIMAL));
  sl_v_push(d, arr, sl_v_bool(d, true));
  sl_v_push(d, arr, sl_v_null(d));
  sl_v_push(d, arr, sl_v_object(d));
  sl_v_push(d, arr, sl_v_array(d));
  sl_v_set(d, root, "list", 4, arr);
  sl_v_set(d, root, "when", 4, sl_v_datetime(d, "2024-05-01T12:00:00Z", 20, SL_DT_OFFSET_DATETIME));
  sl_v_set(d, root, "", 0, sl_v_int(d, INT64_MIN));
  sl_buf b = {0};
  CHECK_OK(sl_v_to_json(root, &b, 0));
  CHECK_STR(b.data,
            "{\"name\":\"pin \\\"1\\\"\",\"list\":[-3,2.50,true,null,{},[]],"
            "\"when\":\"2024-05-01T12:00:00Z\",\"\":-9223372036854775808}");
  sl_buf_reset(&b);
  CHECK_OK(sl_v_to_json(root, &b, 2));
  CHECK_STR(b.data,
            "{\n"
            "  \"name\": \"pin \\\"1\\\"\",\n"
            "  \"list\": [\n"
            "    -3,\n"
            "    2.50,\n"
            "    true,\n"
            "    null,\n"
            "    {},\n"
            "    []\n"
            "  ],\n"
            "  \"when\": \"2024-05-01T12:00:00Z\",\n"
            "  \"\": -9223372036854775808\n"
            "}");
  sl_buf_reset(&b);
  CHECK_OK(sl_v_to_json(sl_v_array(d), &b, 4));
  CHECK_STR(b.data, "[]");
  sl_buf_reset(&b);
  CHECK_OK(sl_v_to_json(NULL, &b, 0));
  CHECK_STR(b.data, "null");
  sl_buf_free(&b);
  sl_doc_free(d);
}

/* Numbers whose text is not JSON (from TOML) are written from their value. */
TEST(to_json_non_json_number_text) {
  sl_doc *d = sl_doc_new("t");
  sl_value *arr = sl_v_array(d);
  sl_v_push(d, arr, sl_v_number(d, "1_000.5", 7, 1000.5, SL_NUM_DOUBLE));
  sl_v_push(d, arr, sl_v_number(d, "+0.1", 4, 0.1, SL_NUM_DOUBLE));
  sl_v_push(d, arr, sl_v_number(d, "inf", 3, INFINITY, SL_NUM_DOUBLE));
  sl_v_push(d, arr, sl_v_number(d, "nan", 3, NAN, SL_NUM_DOUBLE));
  sl_v_push(d, arr, sl_v_number(d, "1e300", 5, 1e300, SL_NUM_DOUBLE));
  sl_buf b = {0};
  CHECK_OK(sl_v_to_json(arr, &b, 0));
  CHECK_STR(b.data, "[1000.5,0.1,null,null,1e300]");
  sl_buf_free(&b);
  sl_doc_free(d);
}

TEST(to_json_deep_tree_without_recursion) {
  sl_doc *d = sl_doc_new("deep");
  sl_value *root = sl_v_array(d), *cur = root;
  for (int i = 0; i < 100000; i++) {
    sl_value *next = sl_v_array(d);
    sl_v_push(d, cur, next);
    cur = next;
  }
  sl_buf b = {0};
  CHECK_OK(sl_v_to_json(root, &b, 0));
  CHECK_INT(b.len, 200002);
  sl_json_options o = {.max_depth = 100001};
  result r;
  parse_chunked(b.data, b.len, 0, 0, &o, &r);
  CHECK_OK(r.st);
  result_free(&r);
  sl_buf_free(&b);
  sl_doc_free(d);
}

TEST(tree_positions) {
  const char *t = "{\n  \"a\": [1,\n    \"x\"],\n  \"b\": {\"c\": null}\n}";
  sl_error err;
  sl_doc *d = sl_json_parse_doc(t, strlen(t), "pos.json", &err);
  CHECK(d);
  CHECK(d->root->line == 1 && d->root->col == 1);
  const sl_value *a = sl_v_get(d->root, "a");
  CHECK(a->line == 2 && a->col == 8);
  CHECK(sl_v_at(a, 0)->line == 2 && sl_v_at(a, 0)->col == 9);
  CHECK(sl_v_at(a, 1)->line == 3 && sl_v_at(a, 1)->col == 5);
  const sl_value *c = sl_v_path(d->root, "b.c");
  CHECK(c && c->type == SL_V_NULL && c->line == 4 && c->col == 14);
  CHECK_STR(d->name, "pos.json");
  sl_doc_free(d);
}

TEST(tree_keeps_duplicate_keys_and_nul_keys) {
  sl_error err;
  const char *t = "{\"a\":1,\"a\":2,\"k\\u0000z\":3}";
  sl_doc *d = sl_json_parse_doc(t, strlen(t), NULL, &err);
  CHECK(d);
  CHECK_INT(sl_v_len(d->root), 3);
  CHECK_INT(sl_v_get(d->root, "a")->u.i, 1);
  CHECK_INT(d->root->u.obj.items[2].key_len, 3);
  sl_buf b = {0};
  CHECK_OK(sl_v_to_json(d->root, &b, 0));
  CHECK_STR(b.data, "{\"a\":1,\"a\":2,\"k\\u0000z\":3}");
  sl_buf_free(&b);
  sl_doc_free(d);
}

TEST(parse_file_errors) {
  sl_error err;
  sl_doc *d = sl_json_parse_file(CORPUS "/no_such_file.json", &err);
  CHECK(!d);
  CHECK(err.code == SL_NOT_FOUND);
  CHECK_CONTAINS(err.msg, "no_such_file.json");
  d = sl_json_parse_file(CORPUS "/n_mismatched_object.json", &err);
  CHECK(!d);
  CHECK(err.code == SL_JSON_SYNTAX);
  CHECK_CONTAINS(err.file, "n_mismatched_object.json");
  CHECK(err.line == 1 && err.col == 7);
}

TEST(parse_doc_empty_and_null) {
  sl_error err;
  CHECK(!sl_json_parse_doc(NULL, 0, NULL, &err));
  CHECK(err.code == SL_JSON_SYNTAX);
  CHECK_STR(err.file, "<string>");
  sl_doc *d = sl_json_parse_doc("  7 ", 4, NULL, &err);
  CHECK(d && d->root->type == SL_V_INT && d->root->u.i == 7);
  sl_doc_free(d);
}

TEST_MAIN()
