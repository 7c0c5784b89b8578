/* Tests for the YAML reader and writer: core-schema typing, block and flow
 * collections, multi-line scalars, anchors, aliases and merge keys, the alias
 * budget, errors with their line and column, the Pinterest OpenAPI spec, and
 * emit -> parse round trips. */
#include <math.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

#include "sluice/buf.h"
#include "sluice/log.h"
#include "sluice/value.h"
#include "sluice/yaml.h"
#include "test.h"

#define YAML_DATA SL_TEST_DATA "/yaml"

/* ---- helpers ---------------------------------------------------------------------- */

static sl_doc *parse_opts(const char *text, const sl_yaml_options *opts, sl_error *err) {
  return sl_yaml_parse(text, strlen(text), "test.yaml", opts, err);
}

static sl_doc *parse(const char *text, sl_error *err) { return parse_opts(text, NULL, err); }

/* Compact typed rendering: integers bare, other numbers as n:<text>, strings
 * quoted (only " and \ and controls escaped), objects and arrays JSON-like. */
static void dump_into(sl_buf *o, const sl_value *v) {
  if (!v) {
    sl_buf_puts(o, "<NULL>");
    return;
  }
  switch (v->type) {
    case SL_V_NULL: sl_buf_puts(o, "null"); break;
    case SL_V_BOOL: sl_buf_puts(o, v->u.b ? "true" : "false"); break;
    case SL_V_INT: sl_buf_printf(o, "%lld", (long long)v->u.i); break;
    case SL_V_NUMBER: sl_buf_printf(o, "n:%s", v->u.num.text); break;
    case SL_V_STRING:
    case SL_V_DATETIME:
      sl_buf_putc(o, '"');
      for (size_t i = 0; i < v->u.s.len; i++) {
        unsigned char c = (unsigned char)v->u.s.ptr[i];
        if (c == '"' || c == '\\') sl_buf_printf(o, "\\%c", c);
        else if (c == '\n') sl_buf_puts(o, "\\n");
        else if (c < 0x20) sl_buf_printf(o, "\\x%02x", c);
        else sl_buf_putc(o, (char)c);
      }
      sl_buf_putc(o, '"');
      break;
    case SL_V_ARRAY:
      sl_buf_putc(o, '[');
      for (size_t i = 0; i < v->u.arr.len; i++) {
        if (i) sl_buf_putc(o, ',');
        dump_into(o, v->u.arr.items[i]);
      }
      sl_buf_putc(o, ']');
      break;
    case SL_V_OBJECT:
      sl_buf_putc(o, '{');
      for (size_t i = 0; i < v->u.obj.len; i++) {
        if (i) sl_buf_putc(o, ',');
        sl_buf_printf(o, "\"%s\":", v->u.obj.items[i].key);
        dump_into(o, v->u.obj.items[i].val);
      }
      sl_buf_putc(o, '}');
      break;
  }
}

/* Rendering of a parse result, or "ERR <line>:<col> <CODE> <msg>". */
static char dumped[1 << 16];
static const char *dump_opts(const char *text, const sl_yaml_options *opts) {
  sl_error err;
  sl_doc *doc = parse_opts(text, opts, &err);
  sl_buf o = {0};
  if (doc) dump_into(&o, doc->root);
  else sl_buf_printf(&o, "ERR %d:%d %s %s", err.line, err.col, sl_status_name(err.code), err.msg);
  snprintf(dumped, sizeof dumped, "%s", o.data ? o.data : "");
  sl_buf_free(&o);
  sl_doc_free(doc);
  return dumped;
}
static const char *dump(const char *text) { return dump_opts(text, NULL); }

/* Parse text that must fail with code at line:col, with msg in the message. */
#define CHECK_YAML_ERR(text, want_code, want_line, want_col, want_msg)                           \
  do {                                                                                      \
    sl_error e_;                                                                            \
    sl_doc *d_ = parse((text), &e_);                                                        \
    if (d_) {                                                                               \
      sl_doc_free(d_);                                                                      \
      FAIL_("expected an error for %s", #text);                                             \
    }                                                                                       \
    CHECK_STR(sl_status_name(e_.code), sl_status_name(want_code));                            \
    CHECK_CONTAINS(e_.msg, (want_msg));                                                     \
    CHECK_MSG(e_.line == (want_line) && e_.col == (want_col), "at %d:%d, expected %d:%d: %s", \
              e_.line, e_.col, (want_line), (want_col), e_.msg);                            \
    CHECK_STR(e_.file, "test.yaml");                                                        \
  } while (0)

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* ---- scalars ---------------------------------------------------------------------- */

TEST(plain_scalars_follow_the_core_schema) {
  CHECK_STR(dump("[~, null, Null, NULL, '', nUll]"), "[null,null,null,null,\"\",\"nUll\"]");
  CHECK_STR(dump("a:\nb: ~"), "{\"a\":null,\"b\":null}");
  CHECK_STR(dump("[true, True, TRUE, false, False, FALSE, tRUE, yes, no, on, off, y, n]"),
            "[true,true,true,false,false,false,\"tRUE\",\"yes\",\"no\",\"on\",\"off\",\"y\",\"n\"]");
  CHECK_STR(dump("[0, 12, -7, +7, 007, 0o17, 0x1F, 0xff, 0o, 0x, 0b11, 1_000, 0o8]"),
            "[0,12,-7,7,7,15,31,255,\"0o\",\"0x\",\"0b11\",\"1_000\",\"0o8\"]");
  CHECK_STR(dump("[1.5, -0.25, .5, -.5, +1.5, 1., 1e3, 1.5E-3, -2.5e+10, 1.e2, .inf, -.inf, +.Inf, .NaN]"),
            "[n:1.5,n:-0.25,n:0.5,n:-0.5,n:1.5,n:1.0,n:1e3,n:1.5E-3,n:-2.5e+10,n:1.0e2,n:inf,n:-inf,"
            "n:inf,n:nan]");
  CHECK_STR(dump("[., .e3, 1e, e3, -, +, .in, 1.2.3, 1e3.5, 12:30, 2024-01-01, 0.1.2]"),
            "[\".\",\".e3\",\"1e\",\"e3\",\"-\",\"+\",\".in\",\"1.2.3\",\"1e3.5\",\"12:30\",\"2024-01-01\","
            "\"0.1.2\"]");
}

TEST(number_values_and_kinds) {
  sl_error err;
  sl_doc *doc = parse("a: 1.25\nb: 1e400\nc: -.inf\nd: .nan\ne: 9223372036854775807\n"
                      "f: -9223372036854775808\ng: 9223372036854775808\nh: -00000000000000000000000012\n"
                      "i: 0xFFFFFFFFFFFFFFFFFF\nj: 0o7777777777777777777777\nk: +0012345678901234567890\n",
                      &err);
  CHECK_MSG(doc, "%s", err.msg);
  const sl_value *r = doc->root;
  CHECK_INT(sl_v_get(r, "a")->u.num.kind, SL_NUM_DECIMAL);
  CHECK(sl_v_get(r, "a")->u.num.d == 1.25);
  CHECK_INT(sl_v_get(r, "b")->u.num.kind, SL_NUM_DOUBLE);
  CHECK(isinf(sl_v_get(r, "b")->u.num.d));
  CHECK(isinf(sl_v_get(r, "c")->u.num.d) && sl_v_get(r, "c")->u.num.d < 0);
  CHECK(isnan(sl_v_get(r, "d")->u.num.d));
  CHECK_INT(sl_v_get(r, "e")->type, SL_V_INT);
  CHECK(sl_v_get(r, "e")->u.i == INT64_MAX);
  CHECK_INT(sl_v_get(r, "f")->type, SL_V_INT);
  CHECK(sl_v_get(r, "f")->u.i == INT64_MIN);
  CHECK_INT(sl_v_get(r, "g")->type, SL_V_NUMBER);
  CHECK_INT(sl_v_get(r, "g")->u.num.kind, SL_NUM_BIGINT);
  CHECK_STR(sl_v_get(r, "g")->u.num.text, "9223372036854775808");
  CHECK_INT(sl_v_get(r, "h")->u.i, -12);
  CHECK_STR(sl_v_get(r, "i")->u.num.text, "4722366482869645213695");
  CHECK_STR(sl_v_get(r, "j")->u.num.text, "73786976294838206463");
  CHECK_STR(sl_v_get(r, "k")->u.num.text, "12345678901234567890");
  CHECK_INT(sl_v_get(r, "k")->u.num.kind, SL_NUM_BIGINT);
  sl_doc_free(doc);
}

TEST(quoted_and_tagged_scalars_are_strings) {
  CHECK_STR(dump("['1', \"2.5\", 'true', \"null\", '', \"~\"]"),
            "[\"1\",\"2.5\",\"true\",\"null\",\"\",\"~\"]");
  CHECK_STR(dump("[!!str 12, ! true, !!str null, !!int \"42\", !!bool 'true', !custom 7]"),
            "[\"12\",\"true\",\"null\",42,true,7]");
  CHECK_STR(dump("\"esc\\tapes \\u00e9 \\x41 \\\" \\\\\""), "\"esc\\x09apes \xc3\xa9 A \\\" \\\\\"");
  CHECK_STR(dump("'it''s'"), "\"it's\"");
}

TEST(non_string_keys_become_their_text) {
  CHECK_STR(dump("1: a\ntrue: b\nnull: c\n~: d\n1.50: e\n0x10: f\n'q': g\n"),
            "{\"1\":\"a\",\"true\":\"b\",\"null\":\"c\",\"~\":\"d\",\"1.50\":\"e\",\"0x10\":\"f\",\"q\":\"g\"}");
  CHECK_STR(dump("? explicit\n: value\n"), "{\"explicit\":\"value\"}");
  CHECK_STR(dump("? \n: empty\n"), "{\"\":\"empty\"}");
}

TEST(values_carry_line_and_column) {
  sl_error err;
  sl_doc *doc = parse("# comment\nroot:\n  list:\n    - one\n    - {k: v}\n  str: \"x\"\n", &err);
  CHECK(doc);
  const sl_value *root = doc->root, *list = sl_v_path(root, "root.list");
  CHECK_INT(root->line, 2);
  CHECK_INT(root->col, 1);
  CHECK_INT(sl_v_get(root, "root")->line, 3);
  CHECK_INT(sl_v_get(root, "root")->col, 3);
  CHECK_INT(list->line, 4);
  CHECK_INT(list->col, 5);
  CHECK_INT(sl_v_at(list, 0)->line, 4);
  CHECK_INT(sl_v_at(list, 0)->col, 7);
  CHECK_INT(sl_v_at(list, 1)->col, 7);
  CHECK_INT(sl_v_get(sl_v_at(list, 1), "k")->col, 11);
  CHECK_INT(sl_v_path(root, "root.str")->line, 6);
  CHECK_INT(sl_v_path(root, "root.str")->col, 8);
  sl_doc_free(doc);
}

/* ---- collections and multi-line text ---------------------------------------------- */

TEST(block_nesting) {
  CHECK_STR(dump("a:\n  b:\n    c: 1\n    d:\n      - x\n      - - y\n        - z\n      - e: f\n        g: h\n"
                 "list:\n- 1\n- 2\n"),
            "{\"a\":{\"b\":{\"c\":1,\"d\":[\"x\",[\"y\",\"z\"],{\"e\":\"f\",\"g\":\"h\"}]}},\"list\":[1,2]}");
  CHECK_STR(dump("- a\n-\n- []\n- {}\n"), "[\"a\",null,[],{}]");
}

TEST(flow_style) {
  CHECK_STR(dump("{a: [1, 2, {b: c}], d: {e: [], f: {}}, 'g h': \"i, j\", k: l m}"),
            "{\"a\":[1,2,{\"b\":\"c\"}],\"d\":{\"e\":[],\"f\":{}},\"g h\":\"i, j\",\"k\":\"l m\"}");
  CHECK_STR(dump("[a, [b, [c]], {x: y}, z: w]"), "[\"a\",[\"b\",[\"c\"]],{\"x\":\"y\"},{\"z\":\"w\"}]");
  CHECK_STR(dump("key: [\n  multi,\n  line\n]\n"), "{\"key\":[\"multi\",\"line\"]}");
}

TEST(multi_line_strings) {
  CHECK_STR(dump("lit: |\n  line 1\n    indented\n  line 3\nnext: x\n"),
            "{\"lit\":\"line 1\\n  indented\\nline 3\\n\",\"next\":\"x\"}");
  CHECK_STR(dump("fold: >\n  folded\n  text\n\n  para\n"), "{\"fold\":\"folded text\\npara\\n\"}");
  CHECK_STR(dump("strip: |-\n  a\n  b\n\nkeep: |+\n  c\n\n"), "{\"strip\":\"a\\nb\",\"keep\":\"c\\n\\n\"}");
  CHECK_STR(dump("plain: first\n  second\n  third\n"), "{\"plain\":\"first second third\"}");
  CHECK_STR(dump("q: \"a\n  b\\\n  c\"\n"), "{\"q\":\"a bc\"}");
  CHECK_STR(dump("n: |\n  1234\n"), "{\"n\":\"1234\\n\"}");
}

TEST(documents_and_empty_input) {
  CHECK_STR(dump(""), "null");
  CHECK_STR(dump("# only a comment\n"), "null");
  CHECK_STR(dump("---\na: 1\n---\nb: 2\n"), "{\"a\":1}");
  CHECK_STR(dump("%YAML 1.2\n---\nplain\n...\n"), "\"plain\"");
  CHECK_STR(dump("\xef\xbb\xbf" "a: 1\n"), "{\"a\":1}"); /* byte order mark */
  sl_error err;
  sl_doc *doc = sl_yaml_parse("\xff\xfe" "a\0:\0 \0\xe9\0", 10, NULL, NULL, &err); /* UTF-16LE */
  CHECK_MSG(doc, "%s", err.msg);
  CHECK_STR(sl_v_str(sl_v_get(doc->root, "a"), NULL), "\xc3\xa9");
  CHECK_STR(doc->name, "<string>");
  sl_doc_free(doc);
  doc = sl_yaml_parse(NULL, 0, "null.yaml", NULL, NULL);
  CHECK(doc && doc->root->type == SL_V_NULL);
  sl_doc_free(doc);
}

/* ---- anchors, aliases, merge keys ------------------------------------------------- */

TEST(anchors_and_aliases_are_deep_copies) {
  sl_error err;
  sl_doc *doc = parse("base: &b {x: 1, y: [2, 3]}\ncopy: *b\nlist: [&s str, *s, *s]\n", &err);
  CHECK_MSG(doc, "%s", err.msg);
  sl_value *base = sl_v_get(doc->root, "base"), *copy = sl_v_get(doc->root, "copy");
  CHECK(sl_v_equal(base, copy));
  CHECK(base != copy && sl_v_get(base, "y") != sl_v_get(copy, "y"));
  CHECK_INT(copy->line, 2); /* the alias's position */
  CHECK_INT(copy->col, 7);
  sl_v_put(doc, copy, "x", sl_v_int(doc, 9)); /* changing the copy leaves the original alone */
  CHECK_INT(sl_v_get(base, "x")->u.i, 1);
  sl_doc_free(doc);
  CHECK_STR(dump("list: [&s str, *s, *s]\n"), "{\"list\":[\"str\",\"str\",\"str\"]}");
  CHECK_STR(dump("a: &n 12\nb: *n\n&k key: 1\nm: {*k : 2}\n"), "{\"a\":12,\"b\":12,\"key\":1,\"m\":{\"key\":2}}");
  CHECK_STR(dump("a: &x 1\nb: *x\nc: &x 2\nd: *x\n"), "{\"a\":1,\"b\":1,\"c\":2,\"d\":2}"); /* redefined */
}

TEST(merge_keys) {
  const char *src =
      "defaults: &defaults\n  adapter: postgres\n  host: localhost\n"
      "dev:\n  <<: *defaults\n  database: dev\n"
      "test:\n  database: test\n  <<: *defaults\n  host: example.org\n";
  CHECK_STR(dump(src),
            "{\"defaults\":{\"adapter\":\"postgres\",\"host\":\"localhost\"},"
            "\"dev\":{\"adapter\":\"postgres\",\"host\":\"localhost\",\"database\":\"dev\"},"
            "\"test\":{\"adapter\":\"postgres\",\"database\":\"test\",\"host\":\"example.org\"}}");
  /* A list of mappings: earlier ones win over later ones; explicit keys win over all. */
  CHECK_STR(dump("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n"),
            "{\"a\":{\"x\":1,\"y\":1},\"b\":{\"y\":2,\"z\":2},\"c\":{\"x\":1,\"y\":1,\"z\":3}}");
  CHECK_STR(dump("m:\n  <<: {inline: true}\n  own: 1\n"), "{\"m\":{\"inline\":true,\"own\":1}}");
  CHECK_STR(dump("m: {'<<': {a: 1}}\n"), "{\"m\":{\"<<\":{\"a\":1}}}"); /* quoted: an ordinary key */
  CHECK_STR(dump("m:\n  <<: {}\n"), "{\"m\":{}}");
  CHECK_YAML_ERR("a: &a 1\nm:\n  <<: *a\n", SL_YAML_SYNTAX, 3, 7, "merge key");
  CHECK_YAML_ERR("m:\n  <<: [{a: 1}, 2]\n", SL_YAML_SYNTAX, 2, 7, "merge key");
}

TEST(duplicate_keys_keep_the_last_value) {
  sl_log_set_level(SL_LOG_OFF);
  CHECK_STR(dump("a: 1\nb: 2\na: 3\n"), "{\"b\":2,\"a\":3}");
  CHECK_STR(dump("{x: 1, x: 2, x: 3}"), "{\"x\":3}");
  sl_log_set_level(SL_LOG_WARN);
}

TEST(alias_errors) {
  CHECK_YAML_ERR("a: *nope\n", SL_YAML_SYNTAX, 1, 4, "alias *nope refers to an unknown anchor");
  CHECK_YAML_ERR("a: &r [1, *r]\n", SL_YAML_SYNTAX, 1, 11, "contains it");
  CHECK_YAML_ERR("a: &m {x: 1}\n*m : 2\n", SL_YAML_SYNTAX, 2, 1, "cannot be a mapping key");
  CHECK_YAML_ERR("? [a, b]\n: c\n", SL_YAML_SYNTAX, 1, 3, "sequence as a mapping key");
}

/* The "billion laughs": ten levels of ten aliases would be 10^10 values. */
TEST(alias_bomb_fails_fast) {
  sl_buf b = {0};
  sl_buf_puts(&b, "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
  for (int i = 1; i < 10; i++) {
    sl_buf_printf(&b, "l%d: &l%d [", i, i);
    for (int k = 0; k < 10; k++) sl_buf_printf(&b, "%s*l%d", k ? ", " : "", i - 1);
    sl_buf_puts(&b, "]\n");
  }
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  double t0 = now_ms();
  sl_error err;
  sl_doc *doc = sl_yaml_parse(b.data, b.len, "bomb.yaml", NULL, &err);
  double ms = now_ms() - t0;
  getrusage(RUSAGE_SELF, &after);
  CHECK(!doc);
  CHECK_STR(sl_status_name(err.code), "SL_YAML_ALIAS");
  CHECK_CONTAINS(err.msg, "aliases may create at most 100000 values");
  CHECK_INT(err.line, 5); /* l4 takes the total past 100,000 */
  printf("alias bomb rejected in %.1f ms, max RSS grew %ld KiB\n", ms, after.ru_maxrss - before.ru_maxrss);
  CHECK(ms < 5000);
  CHECK(after.ru_maxrss - before.ru_maxrss < 64 * 1024);
  /* A smaller budget stops it earlier. */
  sl_yaml_options opts = {.max_alias_nodes = 50};
  CHECK_CONTAINS(dump_opts(b.data, &opts), "ERR 2:30 SL_YAML_ALIAS alias *l0 would expand to 11 more values");
  sl_buf_free(&b);
}

/* Long strings aliased many times: few values but many bytes. */
TEST(alias_text_budget) {
  sl_buf b = {0};
  sl_buf_puts(&b, "s: &s \"");
  for (int i = 0; i < 1000; i++) sl_buf_puts(&b, "xxxxxxxxxx");
  sl_buf_puts(&b, "\"\nl0: &l0 [*s, *s, *s, *s, *s, *s, *s, *s, *s, *s]\n");
  for (int i = 1; i < 5; i++)
    sl_buf_printf(&b, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n", i, i,
                  i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
  sl_yaml_options opts = {.max_alias_nodes = 100000}; /* 6.4 MB of text */
  sl_error err;
  sl_doc *doc = sl_yaml_parse(b.data, b.len, "t.yaml", &opts, &err);
  CHECK(!doc);
  CHECK_STR(sl_status_name(err.code), "SL_YAML_ALIAS");
  CHECK_CONTAINS(err.msg, "bytes");
  sl_buf_free(&b);
}

TEST(depth_limit) {
  sl_buf b = {0};
  for (int i = 0; i < 100000; i++) sl_buf_putc(&b, '[');
  sl_error err;
  sl_doc *doc = sl_yaml_parse(b.data, b.len, "deep.yaml", NULL, &err);
  CHECK(!doc);
  CHECK_STR(sl_status_name(err.code), "SL_YAML_SYNTAX");
  CHECK_CONTAINS(err.msg, "deeper than the limit of 512");
  CHECK_INT(err.col, 513);
  sl_yaml_options opts = {.max_depth = 3};
  CHECK_STR(dump_opts("[[[1]]]", &opts), "[[[1]]]");
  CHECK_CONTAINS(dump_opts("[[[[1]]]]", &opts), "ERR 1:4 SL_YAML_SYNTAX");
  CHECK_CONTAINS(dump_opts("a:\n  b:\n    c:\n      d: 1\n", &opts), "ERR 4:7 SL_YAML_SYNTAX");
  sl_buf_free(&b);
}

/* ---- syntax errors ---------------------------------------------------------------- */

TEST(syntax_errors_have_line_and_column) {
  CHECK_YAML_ERR("a: b\n  c: d\n", SL_YAML_SYNTAX, 2, 4, "mapping values are not allowed");
  CHECK_YAML_ERR("a: \"unterminated\n", SL_YAML_SYNTAX, 2, 1, "found unexpected end of stream");
  CHECK_YAML_ERR("a:\n\t- b\n", SL_YAML_SYNTAX, 2, 1, "cannot start any token");
  CHECK_YAML_ERR("list:\n  - a\n  b: c\n", SL_YAML_SYNTAX, 3, 3, "did not find expected '-' indicator");
  CHECK_YAML_ERR("{a: 1", SL_YAML_SYNTAX, 1, 6, "did not find expected ',' or '}'");
  CHECK_YAML_ERR("a: 1\nb: \xff\n", SL_YAML_SYNTAX, 2, 4, "invalid leading UTF-8 octet");
  CHECK_YAML_ERR("a: !<bad tag 1\n", SL_YAML_SYNTAX, 1, 9, "did not find the expected '>' (while scanning a tag at line 1, column 4)");
  sl_error err;
  sl_doc *doc = parse("a: b\n  c: d\n", &err);
  CHECK(!doc);
  char line[700];
  sl_error_format(&err, line, sizeof line);
  CHECK_CONTAINS(line, "test.yaml:2:4: mapping values are not allowed in this context");
}

TEST(files) {
  sl_error err;
  sl_doc *doc = sl_yaml_parse_file(YAML_DATA "/no-such-file.yaml", NULL, &err);
  CHECK(!doc);
  CHECK_STR(sl_status_name(err.code), "SL_NOT_FOUND");
  CHECK_CONTAINS(err.msg, "no-such-file.yaml");
  doc = sl_yaml_parse_file(YAML_DATA, NULL, &err);
  CHECK(!doc);
  CHECK_STR(sl_status_name(err.code), "SL_IO");
  doc = sl_yaml_parse_file(YAML_DATA "/source.yaml", NULL, &err);
  CHECK_MSG(doc, "%s", err.msg);
  CHECK_STR(doc->name, YAML_DATA "/source.yaml");
  const sl_value *res = sl_v_get(doc->root, "resources");
  CHECK_INT(sl_v_len(res), 2);
  CHECK_STR(sl_v_str(sl_v_path(doc->root, "client.auth.token"), NULL), "${sources.pinterest.access_token}");
  /* resource_defaults merged into each resource */
  CHECK_INT(sl_v_int_or(sl_v_path(sl_v_at(res, 0), "endpoint.params.page_size"), 0), 250);
  CHECK_STR(sl_v_str(sl_v_get(sl_v_at(res, 1), "write_disposition"), NULL), "merge");
  CHECK_STR(sl_v_str(sl_v_get(sl_v_at(res, 0), "write_disposition"), NULL), "append");
  sl_doc_free(doc);
  doc = sl_yaml_parse_file(YAML_DATA "/bad.yaml", NULL, &err);
  CHECK(!doc);
  CHECK_STR(err.file, YAML_DATA "/bad.yaml");
  CHECK_INT(err.line, 4);
}

/* ---- the Pinterest OpenAPI spec --------------------------------------------------- */

TEST(pinterest_spec_loads) {
  const char *path = SL_SHARED_DIR "/specs/pinterest-5.23.yaml";
  double best = 1e9;
  for (int run = 0; run < 3; run++) {
    double t0 = now_ms();
    sl_error err;
    sl_doc *doc = sl_yaml_parse_file(path, NULL, &err);
    double ms = now_ms() - t0;
    if (ms < best) best = ms;
    CHECK_MSG(doc, "%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
    CHECK_STR(sl_v_str(sl_v_get(doc->root, "openapi"), NULL), "3.0.3");
    CHECK_STR(sl_v_str(sl_v_path(doc->root, "info.version"), NULL), "5.23.0");
    CHECK_INT(sl_v_len(sl_v_get(doc->root, "paths")), 169);
    CHECK(sl_v_path(doc->root, "components.schemas") != NULL);
    if (run == 0) {
      /* And it survives a round trip through the writer. */
      sl_buf out = {0};
      CHECK_OK(sl_yaml_emit(doc->root, &out));
      sl_doc *again = sl_yaml_parse(out.data, out.len, "emitted.yaml", NULL, &err);
      CHECK_MSG(again, "%d:%d: %s", err.line, err.col, err.msg);
      CHECK(sl_v_equal(doc->root, again->root));
      sl_doc_free(again);
      sl_buf_free(&out);
    }
    sl_doc_free(doc);
  }
  printf("pinterest-5.23.yaml parsed in %.1f ms (best of 3)\n", best);
}

/* ---- the writer ------------------------------------------------------------------- */

static char emitted[1 << 16];
static const char *emit_text(const char *yaml) {
  sl_error err;
  sl_doc *doc = parse(yaml, &err);
  if (!doc) return "PARSE ERROR";
  sl_buf out = {0};
  sl_status st = sl_yaml_emit(doc->root, &out);
  snprintf(emitted, sizeof emitted, "%s", st == SL_OK && out.data ? out.data : "EMIT ERROR");
  sl_buf_free(&out);
  sl_doc_free(doc);
  return emitted;
}

TEST(emit_block_style) {
  CHECK_STR(emit_text("{a: 1, b: [x, {c: d, e: [f, g]}, [h, i], []], j: {}, k: {l: null}}"),
            "a: 1\n"
            "b:\n"
            "  - x\n"
            "  - c: d\n"
            "    e:\n"
            "      - f\n"
            "      - g\n"
            "  - - h\n"
            "    - i\n"
            "  - []\n"
            "j: {}\n"
            "k:\n"
            "  l: null\n");
  CHECK_STR(emit_text("[1, 2.50, true, false, ~, .inf, -.inf, .nan, 1e5, 0x10]"),
            "- 1\n- 2.50\n- true\n- false\n- null\n- .inf\n- -.inf\n- .nan\n- 1e5\n- 16\n");
  CHECK_STR(emit_text("just text"), "just text\n");
  CHECK_STR(emit_text("{}"), "{}\n");
  CHECK_STR(emit_text("'42'"), "\"42\"\n");
}

TEST(emit_quotes_when_plain_would_change_meaning) {
  CHECK_STR(emit_text("['true', 'False', 'null', '~', 'yes', 'No', 'on', 'OFF', 'y', '<<', '=']"),
            "- \"true\"\n- \"False\"\n- \"null\"\n- \"~\"\n- \"yes\"\n- \"No\"\n- \"on\"\n- \"OFF\"\n- \"y\"\n"
            "- \"<<\"\n- \"=\"\n");
  CHECK_STR(emit_text("['12', '1.5', '.5', '-3', '+4', '.inf', '0x1F', '1_000', '2024-01-01', '12:30']"),
            "- \"12\"\n- \"1.5\"\n- \".5\"\n- \"-3\"\n- \"+4\"\n- \".inf\"\n- \"0x1F\"\n- \"1_000\"\n"
            "- \"2024-01-01\"\n- \"12:30\"\n");
  CHECK_STR(emit_text("['', ' lead', 'trail ', 'a: b', 'a #b', 'end:', '#x', '- x', '&a', '*a', '!t', '|', "
                      "'>', '%x', '@x', '`x', '{x', '[x', '?x', ',x', '\"x', \"'x\", '...', '---']"),
            "- \"\"\n- \" lead\"\n- \"trail \"\n- \"a: b\"\n- \"a #b\"\n- \"end:\"\n- \"#x\"\n- \"- x\"\n"
            "- \"&a\"\n- \"*a\"\n- \"!t\"\n- \"|\"\n- \">\"\n- \"%x\"\n- \"@x\"\n- \"`x\"\n- \"{x\"\n"
            "- \"[x\"\n- \"?x\"\n- \",x\"\n- \"\\\"x\"\n- \"'x\"\n- \"...\"\n- \"---\"\n");
  CHECK_STR(emit_text("['a:b', 'a#b', 'x, y', 'don''t', '/pins/{pin_id}', 'caf\xc3\xa9', 'a b', 'text.']"),
            "- a:b\n- a#b\n- x, y\n- don't\n- /pins/{pin_id}\n- caf\xc3\xa9\n- a b\n- text.\n");
  CHECK_STR(emit_text("\"two\\nlines\\ttab \\\\ \\\" \\0 \\x7f \\u2028 \\ufeff\""),
            "\"two\\nlines\\ttab \\\\ \\\" \\0 \\x7F \\u2028 \\uFEFF\"\n");
  CHECK_STR(emit_text("{'true': 1, '': 2, 'a: b': 3, 'plain key': 4}"),
            "\"true\": 1\n\"\": 2\n\"a: b\": 3\nplain key: 4\n");
}

/* emit -> parse must give back an equal tree. */
static int roundtrips(const sl_value *v, char *why, size_t whylen) {
  sl_buf out = {0};
  if (sl_yaml_emit(v, &out) != SL_OK) {
    snprintf(why, whylen, "emit failed");
    return 0;
  }
  sl_error err;
  sl_doc *doc = sl_yaml_parse(out.data, out.len, "rt.yaml", NULL, &err);
  int ok = doc && sl_v_equal(v, doc->root);
  if (!ok) snprintf(why, whylen, "%s -> %s", out.data, doc ? "different tree" : err.msg);
  sl_doc_free(doc);
  sl_buf_free(&out);
  return ok;
}

TEST(emit_round_trips) {
  static const char *const docs[] = {
      "{a: 1, b: [x, {c: d, e: [f, g]}, [h, [i, [j]]], []], j: {}, k: {l: null}}",
      "[1, -2, 2.50, 1e400, -0.0, true, false, ~, .inf, -.inf, .nan, 99999999999999999999999]",
      "['true', 'null', '12', '', ' x ', 'a: b', 'a #b', '#', '-', '- x', '? y', '...', '<<', 'yes']",
      "{\"multi\\nline\": \"a\\nb\\r\\n\\tc\\u0001\\u0085\\u2029\", 'unicode': \"\xe2\x82\xac \xf0\x9f\x98\x80\"}",
      "[[[[[]]]], {a: {b: {c: {}}}}, [{x: [{y: z}]}]]",
      "{? \"\\0nul\\0key\" : v}",
      "lit: |\n  keeps\n   indentation\n\n  and blank lines\n",
  };
  char why[2048];
  for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
    sl_error err;
    sl_doc *doc = parse(docs[i], &err);
    CHECK_MSG(doc, "doc %zu: %s", i, err.msg);
    int ok = roundtrips(doc->root, why, sizeof why);
    sl_doc_free(doc);
    CHECK_MSG(ok, "doc %zu: %s", i, why);
  }
}

TEST(emit_trees_from_other_sources) {
  sl_doc *doc = sl_doc_new("built");
  sl_value *root = sl_v_object(doc);
  sl_v_put(doc, root, "ts", sl_v_datetime(doc, "1979-05-27T07:32:00Z", 20, SL_DT_OFFSET_DATETIME));
  sl_v_put(doc, root, "toml_inf", sl_v_number(doc, "-inf", 4, -INFINITY, SL_NUM_DOUBLE));
  sl_v_put(doc, root, "big", sl_v_number(doc, "123456789012345678901234567890", 30, 1.2e29, SL_NUM_BIGINT));
  sl_v_set(doc, root, "nul\0key", 7, sl_v_string(doc, "bad \xff utf8", 10));
  char longkey[1500];
  memset(longkey, 'k', sizeof longkey - 1);
  longkey[sizeof longkey - 1] = '\0';
  sl_value *nested = sl_v_object(doc);
  sl_v_put(doc, nested, "x", sl_v_int(doc, 1));
  sl_v_put(doc, root, longkey, nested);
  sl_buf out = {0};
  CHECK_OK(sl_yaml_emit(root, &out));
  CHECK_CONTAINS(out.data, "ts: \"1979-05-27T07:32:00Z\"\n");
  CHECK_CONTAINS(out.data, "toml_inf: -.inf\n");
  CHECK_CONTAINS(out.data, "big: 123456789012345678901234567890\n");
  CHECK_CONTAINS(out.data, "\"nul\\0key\": \"bad \\xFF utf8\"\n");
  CHECK_CONTAINS(out.data, "? kkkk");
  CHECK_CONTAINS(out.data, "kkk\n:\n  x: 1\n");
  sl_error err;
  sl_doc *back = sl_yaml_parse(out.data, out.len, "back.yaml", NULL, &err);
  CHECK_MSG(back, "%s", err.msg);
  CHECK_STR(sl_v_str(sl_v_get(back->root, "ts"), NULL), "1979-05-27T07:32:00Z");
  CHECK_INT(sl_v_int_or(sl_v_path(sl_v_get(back->root, longkey), "x"), 0), 1);
  CHECK(sl_v_equal(sl_v_get(root, "big"), sl_v_get(back->root, "big")));
  CHECK(sl_v_equal(sl_v_get(root, "toml_inf"), sl_v_get(back->root, "toml_inf")));
  sl_doc_free(back);
  /* A long key inside a sequence item. */
  sl_value *arr = sl_v_array(doc);
  sl_v_push(doc, arr, nested);
  sl_value *item = sl_v_object(doc);
  sl_v_put(doc, item, longkey, sl_v_string(doc, "v", 1));
  sl_v_push(doc, arr, item);
  sl_buf_reset(&out);
  CHECK_OK(sl_yaml_emit(arr, &out));
  char why[256];
  CHECK_MSG(roundtrips(arr, why, sizeof why), "%.200s", why);
  sl_buf_free(&out);
  sl_doc_free(doc);
}

TEST(emit_deep_tree_without_recursion) {
  sl_doc *doc = sl_doc_new("deep");
  sl_value *root = sl_v_array(doc), *cur = root;
  for (int i = 0; i < 100000; i++) {
    sl_value *next = sl_v_array(doc);
    sl_v_push(doc, cur, next);
    cur = next;
  }
  sl_v_push(doc, cur, sl_v_int(doc, 1));
  sl_buf out = {0};
  CHECK_OK(sl_yaml_emit(root, &out));
  CHECK(out.len > 100000);
  sl_buf_free(&out);
  CHECK_OK(sl_yaml_emit(NULL, &out)); /* NULL writes null */
  CHECK_STR(out.data, "null\n");
  sl_buf_free(&out);
  sl_doc_free(doc);
}

TEST_MAIN()
