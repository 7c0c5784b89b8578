/* Tests for the TOML reader: every TOML 1.0 feature, every rejection with its
 * line and column, limits, files, and the golden corpus in tests/data/toml
 * (valid/X.toml next to its typed rendering X.json; invalid/X.toml next to
 * X.err = "line:col: part of the message"). */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/buf.h"
#include "sluice/toml.h"
#include "sluice/value.h"
#include "test.h"

#define TOML_DATA SL_TEST_DATA "/toml"

/* ---- helpers ---------------------------------------------------------------------- */

static sl_doc *parse(const char *text, sl_error *err) {
  return sl_toml_parse(text, strlen(text), "test.toml", err);
}

/* Parse text that must fail with TOML_SYNTAX at line:col with msg in the message. */
#define CHECK_TOML_ERR(text, want_line, want_col, want_msg)                                 \
  do {                                                                                      \
    sl_error e_;                                                                            \
    sl_doc *d_ = parse((text), &e_);                                                        \
    if (d_) {                                                                               \
      sl_doc_free(d_);                                                                      \
      FAIL_("expected an error for %s", #text);                                             \
    }                                                                                       \
    CHECK_STR(sl_status_name(e_.code), "SL_TOML_SYNTAX");                                   \
    CHECK_CONTAINS(e_.msg, (want_msg));                                                     \
    CHECK_MSG(e_.line == (want_line) && e_.col == (want_col), "at %d:%d, expected %d:%d: %s", \
              e_.line, e_.col, (want_line), (want_col), e_.msg);                            \
    CHECK_STR(e_.file, "test.toml");                                                        \
  } while (0)

/* Parse text that must succeed; binds doc and root. */
#define PARSE_OK(text)                                                      \
  sl_error err_;                                                            \
  sl_doc *doc = parse((text), &err_);                                       \
  CHECK_MSG(doc != NULL, "parse failed at %d:%d: %s", err_.line, err_.col, err_.msg); \
  sl_value *root = doc->root;                                               \
  (void)root

static char *read_text(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  sl_buf b = {0};
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sl_buf_append(&b, chunk, n);
  fclose(f);
  if (!b.data) sl_buf_append(&b, "", 0);
  return sl_buf_steal(&b, len);
}

/* Typed rendering in the toml-test style ({"type": ..., "value": ...} for
 * every scalar), laid out like Python's json.dumps(indent=2) so that
 * verify_tomllib.py can check the goldens against tomllib. */
static void dump_str(sl_buf *o, const char *s, size_t n) {
  sl_buf_putc(o, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
      case '"': sl_buf_puts(o, "\\\""); break;
      case '\\': sl_buf_puts(o, "\\\\"); break;
      case '\n': sl_buf_puts(o, "\\n"); break;
      case '\r': sl_buf_puts(o, "\\r"); break;
      case '\t': sl_buf_puts(o, "\\t"); break;
      case '\b': sl_buf_puts(o, "\\b"); break;
      case '\f': sl_buf_puts(o, "\\f"); break;
      default:
        if (c < 0x20) sl_buf_printf(o, "\\u%04x", c);
        else sl_buf_putc(o, (char)c);
    }
  }
  sl_buf_putc(o, '"');
}

static void dump_nl(sl_buf *o, int level) {
  sl_buf_putc(o, '\n');
  for (int i = 0; i < level * 2; i++) sl_buf_putc(o, ' ');
}

static void dump_typed(sl_buf *o, const char *type, const char *val, size_t len, int level) {
  sl_buf_putc(o, '{');
  dump_nl(o, level + 1);
  sl_buf_printf(o, "\"type\": \"%s\",", type);
  dump_nl(o, level + 1);
  sl_buf_puts(o, "\"value\": ");
  dump_str(o, val, len);
  dump_nl(o, level);
  sl_buf_putc(o, '}');
}

static void dump(sl_buf *o, const sl_value *v, int level) {
  char tmp[64];
  switch (v->type) {
    case SL_V_OBJECT:
    case SL_V_ARRAY: {
      bool obj = v->type == SL_V_OBJECT;
      size_t n = obj ? v->u.obj.len : v->u.arr.len;
      if (!n) {
        sl_buf_puts(o, obj ? "{}" : "[]");
        return;
      }
      sl_buf_putc(o, obj ? '{' : '[');
      for (size_t i = 0; i < n; i++) {
        if (i) sl_buf_putc(o, ',');
        dump_nl(o, level + 1);
        if (obj) {
          dump_str(o, v->u.obj.items[i].key, v->u.obj.items[i].key_len);
          sl_buf_puts(o, ": ");
        }
        dump(o, obj ? v->u.obj.items[i].val : v->u.arr.items[i], level + 1);
      }
      dump_nl(o, level);
      sl_buf_putc(o, obj ? '}' : ']');
      return;
    }
    case SL_V_STRING: dump_typed(o, "string", v->u.s.ptr, v->u.s.len, level); return;
    case SL_V_INT:
      snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i);
      dump_typed(o, "integer", tmp, strlen(tmp), level);
      return;
    case SL_V_NUMBER: {
      double d = v->u.num.d;
      if (isnan(d)) snprintf(tmp, sizeof tmp, "nan");
      else if (isinf(d)) snprintf(tmp, sizeof tmp, d < 0 ? "-inf" : "inf");
      else
        for (int prec = 15; prec <= 17; prec++) { /* shortest text that reads back the same */
          snprintf(tmp, sizeof tmp, "%.*g", prec, d);
          if (strtod(tmp, NULL) == d) break;
        }
      dump_typed(o, "float", tmp, strlen(tmp), level);
      return;
    }
    case SL_V_BOOL: dump_typed(o, "bool", v->u.b ? "true" : "false", v->u.b ? 4 : 5, level); return;
    case SL_V_DATETIME: {
      static const char *const kinds[] = {"datetime", "datetime-local", "date-local", "time-local"};
      dump_typed(o, kinds[v->u.s.dtkind], v->u.s.ptr, v->u.s.len, level);
      return;
    }
    default: sl_buf_puts(o, "null");
  }
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- documents and keys -------------------------------------------------------------- */

TEST(empty_document) {
  PARSE_OK("");
  CHECK_INT(root->type, SL_V_OBJECT);
  CHECK_INT(sl_v_len(root), 0);
  CHECK_INT(root->line, 1);
  CHECK_INT(root->col, 1);
  CHECK_STR(doc->name, "test.toml");
  sl_doc_free(doc);
}

TEST(comments_and_blank_lines_only) {
  PARSE_OK("# one\n\n   # two\t\n\t\n# three");
  CHECK_INT(sl_v_len(root), 0);
  sl_doc_free(doc);
}

TEST(bare_keys) {
  PARSE_OK("key = 1\nbare_key = 2\nbare-key = 3\n1234 = 4\nA-Z_09 = 5\n");
  CHECK_INT(sl_v_len(root), 5);
  CHECK_INT(sl_v_int_or(sl_v_get(root, "bare-key"), 0), 3);
  CHECK_INT(sl_v_int_or(sl_v_get(root, "1234"), 0), 4);
  CHECK_INT(sl_v_int_or(sl_v_get(root, "A-Z_09"), 0), 5);
  sl_doc_free(doc);
}

TEST(quoted_keys) {
  PARSE_OK("\"127.0.0.1\" = 1\n\"ʎǝʞ\" = 2\n'quoted \"value\"' = 3\n\"a\\tb\" = 4\n'C:\\x' = 5\n");
  CHECK_INT(sl_v_int_or(sl_v_get(root, "127.0.0.1"), 0), 1);
  CHECK_INT(sl_v_int_or(sl_v_get(root, "ʎǝʞ"), 0), 2);
  CHECK_INT(sl_v_int_or(sl_v_get(root, "quoted \"value\""), 0), 3);
  CHECK_INT(sl_v_int_or(sl_v_get(root, "a\tb"), 0), 4);
  CHECK_INT(sl_v_int_or(sl_v_get(root, "C:\\x"), 0), 5);
  sl_doc_free(doc);
}

TEST(empty_quoted_keys) {
  PARSE_OK("\"\" = 1\n[x]\n'' = 2\n");
  CHECK_INT(sl_v_int_or(sl_v_getn(root, "", 0), 0), 1);
  CHECK_INT(sl_v_int_or(sl_v_getn(sl_v_get(root, "x"), "", 0), 0), 2);
  sl_doc_free(doc);
}

TEST(key_with_nul_escape) {
  PARSE_OK("\"a\\u0000b\" = 1\n");
  CHECK_INT(root->u.obj.items[0].key_len, 3);
  CHECK(memcmp(root->u.obj.items[0].key, "a\0b", 3) == 0);
  sl_doc_free(doc);
}

TEST(dotted_keys_make_tables) {
  PARSE_OK("name = \"Orange\"\nphysical.color = \"orange\"\nphysical.shape = \"round\"\nsite.\"google.com\" = true\n");
  sl_value *phys = sl_v_get(root, "physical");
  CHECK_INT(phys->type, SL_V_OBJECT);
  CHECK_INT(sl_v_len(phys), 2);
  CHECK_STR(sl_v_str(sl_v_get(phys, "shape"), NULL), "round");
  CHECK(sl_v_bool_or(sl_v_get(sl_v_get(root, "site"), "google.com"), false));
  sl_doc_free(doc);
}

TEST(dotted_keys_whitespace_around_dots) {
  PARSE_OK("fruit . flavor\t.  x = 1\n");
  CHECK_INT(sl_v_int_or(sl_v_path(root, "fruit.flavor.x"), 0), 1);
  sl_doc_free(doc);
}

TEST(float_looking_key_is_dotted) {
  PARSE_OK("3.14159 = \"pi\"\n");
  CHECK_STR(sl_v_str(sl_v_get(sl_v_get(root, "3"), "14159"), NULL), "pi");
  sl_doc_free(doc);
}

TEST(keys_keep_insertion_order) {
  PARSE_OK("z = 1\na = 2\nm.x = 3\nb = 4\n");
  CHECK_STR(root->u.obj.items[0].key, "z");
  CHECK_STR(root->u.obj.items[1].key, "a");
  CHECK_STR(root->u.obj.items[2].key, "m");
  CHECK_STR(root->u.obj.items[3].key, "b");
  sl_doc_free(doc);
}

/* ---- tables ---------------------------------------------------------------------------- */

TEST(table_headers) {
  PARSE_OK("top = 0\n[table-1]\nkey1 = \"some string\"\n[table-2]\nkey2 = 456\n[dog.\"tater.man\"]\ntype.name = \"pug\"\n");
  CHECK_INT(sl_v_int_or(sl_v_get(root, "top"), -1), 0);
  CHECK_STR(sl_v_str(sl_v_path(root, "table-1.key1"), NULL), "some string");
  CHECK_INT(sl_v_int_or(sl_v_path(root, "table-2.key2"), 0), 456);
  sl_value *tater = sl_v_get(sl_v_get(root, "dog"), "tater.man");
  CHECK_STR(sl_v_str(sl_v_path(tater, "type.name"), NULL), "pug");
  sl_doc_free(doc);
}

TEST(header_whitespace) {
  PARSE_OK("[ d.e.f ]\n[ g .  h  . i ]\n[ j . \"ʞ\" . 'l' ]\n[\ttabs\t]\n");
  CHECK(sl_v_path(root, "d.e.f") != NULL);
  CHECK(sl_v_path(root, "g.h.i") != NULL);
  CHECK(sl_v_get(sl_v_get(sl_v_get(root, "j"), "ʞ"), "l") != NULL);
  CHECK(sl_v_get(root, "tabs") != NULL);
  sl_doc_free(doc);
}

TEST(implicit_super_table_defined_later) {
  PARSE_OK("[x.y.z.w]\na = 1\n[x]\nb = 2\n");
  CHECK_INT(sl_v_int_or(sl_v_path(root, "x.y.z.w.a"), 0), 1);
  CHECK_INT(sl_v_int_or(sl_v_path(root, "x.b"), 0), 2);
  sl_doc_free(doc);
}

TEST(empty_tables) {
  PARSE_OK("[a]\n[b.c]\n");
  CHECK_INT(sl_v_get(root, "a")->type, SL_V_OBJECT);
  CHECK_INT(sl_v_len(sl_v_get(root, "a")), 0);
  CHECK_INT(sl_v_len(sl_v_path(root, "b.c")), 0);
  sl_doc_free(doc);
}

TEST(subtable_under_dotted_table) {
  PARSE_OK("[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true\n");
  CHECK(sl_v_bool_or(sl_v_path(root, "fruit.apple.taste.sweet"), false));
  CHECK(sl_v_bool_or(sl_v_path(root, "fruit.apple.texture.smooth"), false));
  sl_doc_free(doc);
}

TEST(dotted_keys_through_implied_table) {
  PARSE_OK("[a.b.c]\nz = 9\n[a]\nb.d = 2\n");
  CHECK_INT(sl_v_int_or(sl_v_path(root, "a.b.d"), 0), 2);
  CHECK_INT(sl_v_int_or(sl_v_path(root, "a.b.c.z"), 0), 9);
  sl_doc_free(doc);
}

TEST(array_of_tables) {
  PARSE_OK("[[products]]\nname = \"Hammer\"\n[[products]]\n[[products]]\nname = \"Nail\"\n");
  sl_value *p = sl_v_get(root, "products");
  CHECK_INT(p->type, SL_V_ARRAY);
  CHECK_INT(sl_v_len(p), 3);
  CHECK_STR(sl_v_str(sl_v_get(sl_v_at(p, 0), "name"), NULL), "Hammer");
  CHECK_INT(sl_v_len(sl_v_at(p, 1)), 0);
  CHECK_STR(sl_v_str(sl_v_get(sl_v_at(p, 2), "name"), NULL), "Nail");
  sl_doc_free(doc);
}

TEST(nested_array_of_tables) {
  PARSE_OK("[[fruits]]\nname = \"apple\"\n[fruits.physical]\ncolor = \"red\"\n[[fruits.varieties]]\n"
           "name = \"red delicious\"\n[[fruits.varieties]]\nname = \"granny smith\"\n[[fruits]]\n"
           "name = \"banana\"\n[[fruits.varieties]]\nname = \"plantain\"\n");
  sl_value *fruits = sl_v_get(root, "fruits");
  CHECK_INT(sl_v_len(fruits), 2);
  CHECK_STR(sl_v_str(sl_v_path(sl_v_at(fruits, 0), "physical.color"), NULL), "red");
  CHECK_INT(sl_v_len(sl_v_get(sl_v_at(fruits, 0), "varieties")), 2);
  sl_value *v1 = sl_v_get(sl_v_at(fruits, 1), "varieties");
  CHECK_INT(sl_v_len(v1), 1);
  CHECK_STR(sl_v_str(sl_v_get(sl_v_at(v1, 0), "name"), NULL), "plantain");
  sl_doc_free(doc);
}

TEST(array_of_tables_elements_are_fresh) {
  PARSE_OK("[[t]]\nk.v = 1\n[t.sub]\n[[t]]\nk.v = 2\n[t.sub]\n");
  sl_value *t = sl_v_get(root, "t");
  CHECK_INT(sl_v_int_or(sl_v_path(sl_v_at(t, 0), "k.v"), 0), 1);
  CHECK_INT(sl_v_int_or(sl_v_path(sl_v_at(t, 1), "k.v"), 0), 2);
  sl_doc_free(doc);
}

/* ---- inline tables -------------------------------------------------------------------- */

TEST(inline_tables) {
  PARSE_OK("name = { first = \"Tom\", last = \"Preston-Werner\" }\npoint = {x=1,y=2}\nempty = {}\n"
           "animal = { type.name = \"pug\" }\n");
  CHECK_STR(sl_v_str(sl_v_path(root, "name.last"), NULL), "Preston-Werner");
  CHECK_INT(sl_v_int_or(sl_v_path(root, "point.y"), 0), 2);
  CHECK_INT(sl_v_get(root, "empty")->type, SL_V_OBJECT);
  CHECK_INT(sl_v_len(sl_v_get(root, "empty")), 0);
  CHECK_STR(sl_v_str(sl_v_path(root, "animal.type.name"), NULL), "pug");
  sl_doc_free(doc);
}

TEST(inline_table_dotted_keys_share_tables) {
  PARSE_OK("a = { b.c = 1, b.d = 2, e = { f = [1, {g = 3}] } }\n");
  CHECK_INT(sl_v_len(sl_v_path(root, "a.b")), 2);
  CHECK_INT(sl_v_int_or(sl_v_get(sl_v_at(sl_v_path(root, "a.e.f"), 1), "g"), 0), 3);
  sl_doc_free(doc);
}

TEST(inline_table_inside_header_section) {
  PARSE_OK("[product]\ntype = { name = \"Nail\" }\n");
  CHECK_STR(sl_v_str(sl_v_path(root, "product.type.name"), NULL), "Nail");
  sl_doc_free(doc);
}

/* ---- arrays ---------------------------------------------------------------------------- */

TEST(arrays_mixed_types) {
  PARSE_OK("a = [ 1, \"two\", 3.0, true, 1979-05-27, [4], {five = 5} ]\n");
  sl_value *a = sl_v_get(root, "a");
  CHECK_INT(sl_v_len(a), 7);
  CHECK_INT(sl_v_at(a, 0)->type, SL_V_INT);
  CHECK_INT(sl_v_at(a, 1)->type, SL_V_STRING);
  CHECK_INT(sl_v_at(a, 2)->type, SL_V_NUMBER);
  CHECK_INT(sl_v_at(a, 3)->type, SL_V_BOOL);
  CHECK_INT(sl_v_at(a, 4)->type, SL_V_DATETIME);
  CHECK_INT(sl_v_at(a, 5)->type, SL_V_ARRAY);
  CHECK_INT(sl_v_at(a, 6)->type, SL_V_OBJECT);
  sl_doc_free(doc);
}

TEST(arrays_trailing_comma_newlines_comments) {
  PARSE_OK("a = [\n  1, # one\n  # alone\n  2\n  ,3,\n]\nb = [ ]\nc = [\n\n]\n");
  sl_value *a = sl_v_get(root, "a");
  CHECK_INT(sl_v_len(a), 3);
  CHECK_INT(sl_v_int_or(sl_v_at(a, 2), 0), 3);
  CHECK_INT(sl_v_len(sl_v_get(root, "b")), 0);
  CHECK_INT(sl_v_len(sl_v_get(root, "c")), 0);
  sl_doc_free(doc);
}

TEST(nested_arrays) {
  PARSE_OK("a = [[1, 2], [3, [4, [5]]], []]\n");
  sl_value *a = sl_v_get(root, "a");
  CHECK_INT(sl_v_len(a), 3);
  sl_value *deep = sl_v_at(sl_v_at(sl_v_at(sl_v_at(a, 1), 1), 1), 0);
  CHECK_INT(sl_v_int_or(deep, 0), 5);
  sl_doc_free(doc);
}

/* ---- strings --------------------------------------------------------------------------- */

TEST(basic_string_escapes) {
  PARSE_OK("s = \"\\b\\t\\n\\f\\r\\\"\\\\\"\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "s"), NULL), "\b\t\n\f\r\"\\");
  sl_doc_free(doc);
}

TEST(unicode_escapes) {
  PARSE_OK("a = \"\\u00E9\\u00e9\"\nb = \"\\U0001F600\"\nc = \"\\U0010FFFF\"\nd = \"\\u20AC\"\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "a"), NULL), "éé");
  CHECK_STR(sl_v_str(sl_v_get(root, "b"), NULL), "😀");
  CHECK_STR(sl_v_str(sl_v_get(root, "c"), NULL), "\xF4\x8F\xBF\xBF");
  CHECK_STR(sl_v_str(sl_v_get(root, "d"), NULL), "€");
  sl_doc_free(doc);
}

TEST(nul_escape_keeps_length) {
  PARSE_OK("s = \"a\\u0000b\"\n");
  sl_value *s = sl_v_get(root, "s");
  CHECK_INT(s->u.s.len, 3);
  CHECK(memcmp(s->u.s.ptr, "a\0b", 4) == 0);
  sl_doc_free(doc);
}

TEST(raw_utf8_and_tab_in_strings) {
  PARSE_OK("s = \"Ünï\tcödé ✓ 😀\"\nl = 'tab\there'\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "s"), NULL), "Ünï\tcödé ✓ 😀");
  CHECK_STR(sl_v_str(sl_v_get(root, "l"), NULL), "tab\there");
  sl_doc_free(doc);
}

TEST(multiline_basic_trims_first_newline) {
  PARSE_OK("s = \"\"\"\nRoses are red\nViolets are blue\"\"\"\nt = \"\"\"\n\nkept\"\"\"\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "s"), NULL), "Roses are red\nViolets are blue");
  CHECK_STR(sl_v_str(sl_v_get(root, "t"), NULL), "\nkept");
  sl_doc_free(doc);
}

TEST(multiline_basic_line_ending_backslash) {
  PARSE_OK("s = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\   \n    the lazy dog.\"\"\"\n"
           "t = \"\"\"\\\n       a \\\n       b\\\n       \"\"\"\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "s"), NULL), "The quick brown fox jumps over the lazy dog.");
  CHECK_STR(sl_v_str(sl_v_get(root, "t"), NULL), "a b");
  sl_doc_free(doc);
}

TEST(multiline_basic_quotes_inside) {
  PARSE_OK("a = \"\"\"Two: \"\". Three: \"\"\\\".\"\"\"\n"
           "b = \"\"\"\"This,\" she said, \"is pointless.\"\"\"\"\n"
           "c = \"\"\"x\"\"\"\"\"\n"
           "d = \"\"\"\"\"\"\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "a"), NULL), "Two: \"\". Three: \"\"\".");
  CHECK_STR(sl_v_str(sl_v_get(root, "b"), NULL), "\"This,\" she said, \"is pointless.\"");
  CHECK_STR(sl_v_str(sl_v_get(root, "c"), NULL), "x\"\"");
  CHECK_STR(sl_v_str(sl_v_get(root, "d"), NULL), "");
  sl_doc_free(doc);
}

TEST(multiline_crlf_reads_as_lf) {
  PARSE_OK("s = \"\"\"\r\na\r\nb\\\r\n  c\"\"\"\r\nl = '''\r\nx\r\ny'''\r\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "s"), NULL), "a\nbc");
  CHECK_STR(sl_v_str(sl_v_get(root, "l"), NULL), "x\ny");
  sl_doc_free(doc);
}

TEST(literal_strings_have_no_escapes) {
  PARSE_OK("winpath = 'C:\\Users\\nodejs\\templates'\nunc = '\\\\ServerX\\admin$\\system32\\'\n"
           "regex = '<\\i\\c*\\s*>'\nquoted = 'Tom \"Dubs\" Preston-Werner'\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "winpath"), NULL), "C:\\Users\\nodejs\\templates");
  CHECK_STR(sl_v_str(sl_v_get(root, "unc"), NULL), "\\\\ServerX\\admin$\\system32\\");
  CHECK_STR(sl_v_str(sl_v_get(root, "regex"), NULL), "<\\i\\c*\\s*>");
  CHECK_STR(sl_v_str(sl_v_get(root, "quoted"), NULL), "Tom \"Dubs\" Preston-Werner");
  sl_doc_free(doc);
}

TEST(multiline_literal_strings) {
  PARSE_OK("re = '''I [dw]on't need \\d{2} apples'''\nlines = '''\nThe first newline is\ntrimmed.\n   kept\n'''\n"
           "q = '''Fifteen: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"'''\napos = ''''That,' she said.''''\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "re"), NULL), "I [dw]on't need \\d{2} apples");
  CHECK_STR(sl_v_str(sl_v_get(root, "lines"), NULL), "The first newline is\ntrimmed.\n   kept\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "q"), NULL), "Fifteen: \"\"\"\"\"\"\"\"\"\"\"\"\"\"\"");
  CHECK_STR(sl_v_str(sl_v_get(root, "apos"), NULL), "'That,' she said.'");
  sl_doc_free(doc);
}

TEST(empty_strings) {
  PARSE_OK("a = \"\"\nb = ''\nc = \"\"\"\"\"\"\nd = ''''''\n");
  for (int i = 0; i < 4; i++) {
    CHECK_INT(root->u.obj.items[i].val->type, SL_V_STRING);
    CHECK_INT(root->u.obj.items[i].val->u.s.len, 0);
    CHECK_STR(root->u.obj.items[i].val->u.s.ptr, "");
  }
  sl_doc_free(doc);
}

/* ---- integers -------------------------------------------------------------------------- */

TEST(decimal_integers) {
  PARSE_OK("a = +99\nb = 42\nc = 0\nd = -17\ne = 1_000\nf = 5_349_221\ng = 1_2_3\nh = +0\ni = -0\n");
  CHECK_INT(sl_v_get(root, "a")->type, SL_V_INT);
  CHECK_INT(sl_v_get(root, "a")->u.i, 99);
  CHECK_INT(sl_v_get(root, "b")->u.i, 42);
  CHECK_INT(sl_v_get(root, "c")->u.i, 0);
  CHECK_INT(sl_v_get(root, "d")->u.i, -17);
  CHECK_INT(sl_v_get(root, "e")->u.i, 1000);
  CHECK_INT(sl_v_get(root, "f")->u.i, 5349221);
  CHECK_INT(sl_v_get(root, "g")->u.i, 123);
  CHECK_INT(sl_v_get(root, "h")->u.i, 0);
  CHECK_INT(sl_v_get(root, "i")->u.i, 0);
  sl_doc_free(doc);
}

TEST(integer_limits) {
  PARSE_OK("max = 9223372036854775807\nmin = -9223372036854775808\n");
  CHECK(sl_v_get(root, "max")->u.i == INT64_MAX);
  CHECK(sl_v_get(root, "min")->u.i == INT64_MIN);
  sl_doc_free(doc);
}

TEST(hex_octal_binary) {
  PARSE_OK("h1 = 0xDEADBEEF\nh2 = 0xdead_beef\nh3 = 0x00\no1 = 0o01234567\no2 = 0o755\nb1 = 0b11010110\n"
           "hmax = 0x7FFFFFFFFFFFFFFF\nbmax = 0b111111111111111111111111111111111111111111111111111111111111111\n");
  CHECK_INT(sl_v_get(root, "h1")->u.i, 0xDEADBEEF);
  CHECK_INT(sl_v_get(root, "h2")->u.i, 0xDEADBEEF);
  CHECK_INT(sl_v_get(root, "h3")->u.i, 0);
  CHECK_INT(sl_v_get(root, "o1")->u.i, 01234567);
  CHECK_INT(sl_v_get(root, "o2")->u.i, 0755);
  CHECK_INT(sl_v_get(root, "b1")->u.i, 214);
  CHECK(sl_v_get(root, "hmax")->u.i == INT64_MAX);
  CHECK(sl_v_get(root, "bmax")->u.i == INT64_MAX);
  sl_doc_free(doc);
}

/* ---- floats ---------------------------------------------------------------------------- */

TEST(floats) {
  PARSE_OK("a = +1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\nf = -2E-2\ng = 6.626e-34\n"
           "h = 224_617.445_991_228\n");
  sl_value *a = sl_v_get(root, "a");
  CHECK_INT(a->type, SL_V_NUMBER);
  CHECK_INT(a->u.num.kind, SL_NUM_DOUBLE);
  CHECK(a->u.num.d == 1.0);
  CHECK(sl_v_get(root, "b")->u.num.d == 3.1415);
  CHECK(sl_v_get(root, "c")->u.num.d == -0.01);
  CHECK(sl_v_get(root, "d")->u.num.d == 5e22);
  CHECK(sl_v_get(root, "e")->u.num.d == 1e6);
  CHECK(sl_v_get(root, "f")->u.num.d == -2e-2);
  CHECK(sl_v_get(root, "g")->u.num.d == 6.626e-34);
  CHECK(sl_v_get(root, "h")->u.num.d == 224617.445991228);
  sl_doc_free(doc);
}

TEST(float_text_without_underscores_and_plus) {
  PARSE_OK("a = +1.0\nb = 224_617.445_991_228\nc = 1e06\nd = -2E-2\n");
  CHECK_STR(sl_v_get(root, "a")->u.num.text, "1.0");
  CHECK_INT(sl_v_get(root, "a")->u.num.len, 3);
  CHECK_STR(sl_v_get(root, "b")->u.num.text, "224617.445991228");
  CHECK_STR(sl_v_get(root, "c")->u.num.text, "1e06");
  CHECK_STR(sl_v_get(root, "d")->u.num.text, "-2E-2");
  sl_doc_free(doc);
}

TEST(float_out_of_range_keeps_text) {
  PARSE_OK("big = 1e400\ntiny = 1e-400\n");
  sl_value *big = sl_v_get(root, "big");
  CHECK(isinf(big->u.num.d) && big->u.num.d > 0);
  CHECK_STR(big->u.num.text, "1e400");
  CHECK(sl_v_get(root, "tiny")->u.num.d == 0.0);
  sl_doc_free(doc);
}

TEST(float_signed_zero) {
  PARSE_OK("a = -0.0\nb = +0.0\nc = 0e0\n");
  CHECK(sl_v_get(root, "a")->u.num.d == 0.0 && signbit(sl_v_get(root, "a")->u.num.d));
  CHECK(!signbit(sl_v_get(root, "b")->u.num.d));
  CHECK(sl_v_get(root, "c")->u.num.d == 0.0);
  sl_doc_free(doc);
}

TEST(float_inf_nan) {
  PARSE_OK("a = inf\nb = +inf\nc = -inf\nd = nan\ne = +nan\nf = -nan\n");
  CHECK(isinf(sl_v_get(root, "a")->u.num.d) && sl_v_get(root, "a")->u.num.d > 0);
  CHECK(isinf(sl_v_get(root, "b")->u.num.d) && sl_v_get(root, "b")->u.num.d > 0);
  CHECK(isinf(sl_v_get(root, "c")->u.num.d) && sl_v_get(root, "c")->u.num.d < 0);
  CHECK(isnan(sl_v_get(root, "d")->u.num.d));
  CHECK(isnan(sl_v_get(root, "e")->u.num.d));
  CHECK(isnan(sl_v_get(root, "f")->u.num.d));
  CHECK_STR(sl_v_get(root, "b")->u.num.text, "inf");
  CHECK_STR(sl_v_get(root, "c")->u.num.text, "-inf");
  CHECK_STR(sl_v_get(root, "f")->u.num.text, "-nan");
  CHECK_INT(sl_v_get(root, "f")->u.num.kind, SL_NUM_DOUBLE);
  sl_doc_free(doc);
}

/* ---- booleans, dates and times --------------------------------------------------------- */

TEST(booleans) {
  PARSE_OK("t = true\nf = false\n");
  CHECK_INT(sl_v_get(root, "t")->type, SL_V_BOOL);
  CHECK(sl_v_get(root, "t")->u.b == true);
  CHECK(sl_v_get(root, "f")->u.b == false);
  sl_doc_free(doc);
}

TEST(offset_datetimes) {
  PARSE_OK("a = 1979-05-27T07:32:00Z\nb = 1979-05-27T00:32:00-07:00\nc = 1979-05-27T00:32:00.999999+05:30\n");
  sl_value *a = sl_v_get(root, "a");
  CHECK_INT(a->type, SL_V_DATETIME);
  CHECK_INT(a->u.s.dtkind, SL_DT_OFFSET_DATETIME);
  CHECK_STR(sl_v_str(a, NULL), "1979-05-27T07:32:00Z");
  CHECK_STR(sl_v_str(sl_v_get(root, "b"), NULL), "1979-05-27T00:32:00-07:00");
  CHECK_STR(sl_v_str(sl_v_get(root, "c"), NULL), "1979-05-27T00:32:00.999999+05:30");
  CHECK_INT(sl_v_get(root, "c")->u.s.dtkind, SL_DT_OFFSET_DATETIME);
  sl_doc_free(doc);
}

TEST(datetime_separators_normalized) {
  PARSE_OK("a = 1979-05-27 07:32:00Z\nb = 1979-05-27t07:32:00z\nc = 1979-05-27 07:32:00\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "a"), NULL), "1979-05-27T07:32:00Z");
  CHECK_STR(sl_v_str(sl_v_get(root, "b"), NULL), "1979-05-27T07:32:00Z");
  CHECK_STR(sl_v_str(sl_v_get(root, "c"), NULL), "1979-05-27T07:32:00");
  CHECK_INT(sl_v_get(root, "c")->u.s.dtkind, SL_DT_LOCAL_DATETIME);
  sl_doc_free(doc);
}

TEST(local_date_time_kinds) {
  PARSE_OK("ldt = 1979-05-27T07:32:00.5\nld = 1979-05-27\nlt = 07:32:00\nlt2 = 00:32:00.999999\n");
  CHECK_INT(sl_v_get(root, "ldt")->u.s.dtkind, SL_DT_LOCAL_DATETIME);
  CHECK_INT(sl_v_get(root, "ld")->u.s.dtkind, SL_DT_LOCAL_DATE);
  CHECK_INT(sl_v_get(root, "lt")->u.s.dtkind, SL_DT_LOCAL_TIME);
  CHECK_STR(sl_v_str(sl_v_get(root, "ld"), NULL), "1979-05-27");
  CHECK_STR(sl_v_str(sl_v_get(root, "lt2"), NULL), "00:32:00.999999");
  sl_doc_free(doc);
}

TEST(fractional_seconds_kept_as_written) {
  PARSE_OK("a = 1979-05-27T07:32:00.123456789Z\nb = 07:32:00.1000\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "a"), NULL), "1979-05-27T07:32:00.123456789Z");
  CHECK_STR(sl_v_str(sl_v_get(root, "b"), NULL), "07:32:00.1000");
  sl_doc_free(doc);
}

TEST(calendar_edges_accepted) {
  PARSE_OK("leap = 2000-02-29\nleap2 = 2024-02-29\nleapsec = 1990-12-31T23:59:60Z\nfirst = 0001-01-01\n"
           "last = 9999-12-31T23:59:59+23:59\ndec = 2023-12-31\n");
  CHECK_STR(sl_v_str(sl_v_get(root, "leapsec"), NULL), "1990-12-31T23:59:60Z");
  CHECK_INT(sl_v_len(root), 6);
  sl_doc_free(doc);
}

TEST(date_followed_by_comment_is_not_a_datetime) {
  PARSE_OK("d = 1979-05-27 # a date\na = [1979-05-27 , 1]\n");
  CHECK_INT(sl_v_get(root, "d")->u.s.dtkind, SL_DT_LOCAL_DATE);
  CHECK_STR(sl_v_str(sl_v_at(sl_v_get(root, "a"), 0), NULL), "1979-05-27");
  sl_doc_free(doc);
}

/* ---- positions -------------------------------------------------------------------------- */

TEST(value_positions) {
  PARSE_OK("a = 1\n  b = \"x\"\n[t]\nc = [\n  10,\n  { d = true }\n]\n");
  CHECK_INT(sl_v_get(root, "a")->line, 1);
  CHECK_INT(sl_v_get(root, "a")->col, 5);
  CHECK_INT(sl_v_get(root, "b")->line, 2);
  CHECK_INT(sl_v_get(root, "b")->col, 7);
  sl_value *t = sl_v_get(root, "t");
  CHECK_INT(t->line, 3);
  CHECK_INT(t->col, 1);
  sl_value *c = sl_v_get(t, "c");
  CHECK_INT(c->line, 4);
  CHECK_INT(c->col, 5);
  CHECK_INT(sl_v_at(c, 0)->line, 5);
  CHECK_INT(sl_v_at(c, 0)->col, 3);
  CHECK_INT(sl_v_at(c, 1)->line, 6);
  CHECK_INT(sl_v_at(c, 1)->col, 3);
  CHECK_INT(sl_v_get(sl_v_at(c, 1), "d")->col, 9);
  sl_doc_free(doc);
}

TEST(implicit_and_dotted_table_positions) {
  PARSE_OK("x.y = 1\n[a.b]\n[[arr]]\n");
  CHECK_INT(sl_v_get(root, "x")->line, 1);
  CHECK_INT(sl_v_get(root, "x")->col, 1);
  CHECK_INT(sl_v_get(root, "a")->line, 2);
  CHECK_INT(sl_v_get(root, "a")->col, 2);
  CHECK_INT(sl_v_path(root, "a.b")->col, 1);
  CHECK_INT(sl_v_at(sl_v_get(root, "arr"), 0)->line, 3);
  sl_doc_free(doc);
}

TEST(columns_count_characters_not_bytes) {
  PARSE_OK("\"ü\" = \"é\"\n");
  CHECK_INT(sl_v_get(root, "ü")->col, 7);
  sl_doc_free(doc);
}

/* ---- encodings and line ends ------------------------------------------------------------- */

TEST(byte_order_mark_skipped) {
  PARSE_OK("\xEF\xBB\xBF" "a = 1\n");
  CHECK_INT(sl_v_get(root, "a")->u.i, 1);
  CHECK_INT(sl_v_get(root, "a")->col, 5);
  sl_doc_free(doc);
}

TEST(crlf_line_endings) {
  PARSE_OK("a = 1\r\n# c\r\n[t]\r\nb = [\r\n 1,\r\n]\r\n");
  CHECK_INT(sl_v_path(root, "t.b")->line, 4);
  CHECK_INT(sl_v_len(sl_v_path(root, "t.b")), 1);
  sl_doc_free(doc);
}

TEST(no_newline_at_end) {
  PARSE_OK("a = 1 # end");
  CHECK_INT(sl_v_get(root, "a")->u.i, 1);
  sl_doc_free(doc);
}

TEST(length_is_respected_without_nul) {
  const char text[] = "a = 12345";
  sl_error err;
  sl_doc *doc = sl_toml_parse(text, 7, "<string>", &err); /* "a = 123" */
  CHECK(doc != NULL);
  CHECK_INT(sl_v_get(doc->root, "a")->u.i, 123);
  sl_doc_free(doc);
}

TEST(many_keys_use_the_index) {
  sl_buf b = {0};
  for (int i = 0; i < 3000; i++) sl_buf_printf(&b, "k%d = %d\n", i, i);
  sl_error err;
  sl_doc *doc = sl_toml_parse(b.data, b.len, "big.toml", &err);
  CHECK(doc != NULL);
  CHECK_INT(sl_v_len(doc->root), 3000);
  CHECK_INT(sl_v_int_or(sl_v_get(doc->root, "k2999"), -1), 2999);
  sl_doc_free(doc);
  sl_buf_printf(&b, "k1234 = 0\n");
  doc = sl_toml_parse(b.data, b.len, "big.toml", &err);
  sl_buf_free(&b);
  CHECK(doc == NULL);
  CHECK_CONTAINS(err.msg, "duplicate key 'k1234' (first defined at line 1235)");
  CHECK_INT(err.line, 3001);
}

/* ---- rejections: keys and structure -------------------------------------------------------- */

TEST(reject_duplicate_key) {
  CHECK_TOML_ERR("a = 1\nb = 2\na = 3\n", 3, 1, "duplicate key 'a' (first defined at line 1)");
}

TEST(reject_duplicate_key_bare_vs_quoted) {
  CHECK_TOML_ERR("spelling = \"favorite\"\n\"spelling\" = \"favourite\"\n", 2, 1, "duplicate key 'spelling'");
}

TEST(reject_duplicate_dotted_key) {
  CHECK_TOML_ERR("a.b = 1\na.b = 2\n", 2, 3, "duplicate key 'a.b' (first defined at line 1)");
}

TEST(reject_value_then_dotted) {
  CHECK_TOML_ERR("fruit.apple = 1\nfruit.apple.smooth = true\n", 2, 7,
                 "'fruit.apple' is already an integer (defined at line 1), so dotted keys cannot add to it");
}

TEST(reject_dotted_table_then_value) {
  CHECK_TOML_ERR("a.b = 1\na = 2\n", 2, 1, "duplicate key 'a' (first defined at line 1)");
}

TEST(reject_table_defined_twice) {
  CHECK_TOML_ERR("[fruit]\napple = \"red\"\n\n[fruit]\norange = \"orange\"\n", 4, 1,
                 "table [fruit] is defined twice (first at line 1)");
}

TEST(reject_super_table_defined_twice) {
  CHECK_TOML_ERR("[a.b]\n[a]\n[a]\n", 3, 1, "table [a] is defined twice (first at line 2)");
}

TEST(reject_table_over_key) {
  CHECK_TOML_ERR("[fruit]\napple = \"red\"\n\n[fruit.apple]\ntexture = \"smooth\"\n", 4, 1,
                 "'fruit.apple' is already a string (defined at line 2), so it cannot be a table");
}

TEST(reject_header_over_dotted_table) {
  CHECK_TOML_ERR("[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.taste]\n", 4, 1,
                 "table 'fruit.apple.taste' was already defined by dotted keys at line 3");
}

TEST(reject_dotted_keys_into_header_table) {
  CHECK_TOML_ERR("[a.b.c]\n  z = 9\n[a]\n  b.c.t = 1\n", 4, 5,
                 "cannot add keys to table 'b.c' with dotted keys here: it was already defined at line 1");
}

TEST(reject_dotted_keys_reopened_from_later_header) {
  CHECK_TOML_ERR("[a.b.c]\n[a]\nb.d = 1\n[a.b]\n", 4, 1, "table 'a.b' was already defined by dotted keys");
}

TEST(reject_table_header_inside_inline_table) {
  CHECK_TOML_ERR("[product]\ntype = { name = \"Nail\" }\n[product.type]\n", 3, 1,
                 "table 'product.type' was already defined as an inline table at line 2");
}

TEST(reject_subtable_of_inline_table) {
  CHECK_TOML_ERR("a = {b = 1}\n[a.c]\n", 2, 2, "cannot extend inline table 'a' (defined at line 1)");
}

TEST(reject_dotted_keys_into_inline_table) {
  CHECK_TOML_ERR("[product]\ntype = { name = \"Nail\" }\ntype.edible = false\n", 3, 1,
                 "cannot add keys to inline table 'type' (defined at line 2): inline tables are closed once written");
}

TEST(reject_inline_table_extended_inside_inline) {
  CHECK_TOML_ERR("a = { b = { c = 1 }, b.d = 2 }\n", 1, 22, "cannot add keys to inline table 'b'");
}

TEST(reject_inline_duplicate_key) {
  CHECK_TOML_ERR("a = { x = 1, y = 2, x = 3 }\n", 1, 21, "duplicate key 'x'");
}

TEST(reject_array_of_tables_over_static_array) {
  CHECK_TOML_ERR("fruits = []\n[[fruits]]\n", 2, 1,
                 "cannot append to 'fruits' with [[fruits]]: it is an array value (line 1), not an array of tables");
}

TEST(reject_array_of_tables_over_inline_table) {
  CHECK_TOML_ERR("a = {}\n[[a]]\n", 2, 1,
                 "'a' is already an inline table (defined at line 1), so it cannot be an array of tables");
  CHECK_TOML_ERR("a = { b = {} }\n[[a.b.c]]\n", 2, 3, "cannot extend inline table 'a' (defined at line 1)");
  CHECK_TOML_ERR("a = [{}]\n[[a.c]]\n", 2, 3, "cannot extend 'a': it is an array value (line 1)");
}

TEST(reject_table_over_array_of_tables) {
  CHECK_TOML_ERR("[[fruits]]\nname = \"apple\"\n[fruits]\n", 3, 1,
                 "'fruits' is an array of tables (line 1): add elements with [[fruits]]");
}

TEST(reject_array_of_tables_over_table) {
  CHECK_TOML_ERR("[[fruits.varieties]]\nname = \"red\"\n[fruits.varieties]\n", 3, 1, "is an array of tables");
  CHECK_TOML_ERR("[fruit.physical]\ncolor = \"red\"\n[[fruit.physical]]\n", 3, 1,
                 "'fruit.physical' is already a table (defined at line 1), so it cannot be an array of tables");
}

TEST(reject_header_through_static_array) {
  CHECK_TOML_ERR("a = [{ b = 1 }]\n[a.c]\n", 2, 2, "cannot extend 'a': it is an array value (line 1)");
}

TEST(reject_dotted_key_into_array) {
  CHECK_TOML_ERR("a = [1]\na.b = 1\n", 2, 1, "'a' is already an array (defined at line 1)");
}

TEST(reject_key_without_value) {
  CHECK_TOML_ERR("key = # INVALID\n", 1, 7, "expected a value, found '#'");
  CHECK_TOML_ERR("key =\nnext = 1\n", 1, 6, "expected a value, found end of line");
  CHECK_TOML_ERR("key =", 1, 6, "expected a value, found end of input");
}

TEST(reject_key_without_equals) {
  CHECK_TOML_ERR("key\n", 1, 4, "expected '=' after key 'key', found end of line");
  CHECK_TOML_ERR("key value\n", 1, 5, "expected '=' after key 'key', found 'v'");
  CHECK_TOML_ERR("a.b : 1\n", 1, 5, "expected '=' after key 'a.b', found ':'");
}

TEST(reject_missing_newline_between_pairs) {
  CHECK_TOML_ERR("first = \"Tom\" last = \"Preston-Werner\"\n", 1, 15,
                 "expected a newline after the value, found 'l'");
}

TEST(reject_bad_keys) {
  CHECK_TOML_ERR("= \"no key name\"\n", 1, 1, "expected a key, found '='");
  CHECK_TOML_ERR("a. = 1\n", 1, 4, "expected a key after '.', found '='");
  CHECK_TOML_ERR(".a = 1\n", 1, 1, "expected a key, found '.'");
  CHECK_TOML_ERR("\"\"\"k\"\"\" = 1\n", 1, 1, "a multi-line string cannot be a key");
  CHECK_TOML_ERR("ké = 1\n", 1, 2, "expected '=' after key 'k', found 'é'");
}

TEST(reject_bad_headers) {
  CHECK_TOML_ERR("[]\n", 1, 2, "expected a key, found ']'");
  CHECK_TOML_ERR("[a\n", 1, 3, "expected ']' to close the table header, found end of line");
  CHECK_TOML_ERR("[[a]\n", 1, 5, "expected ']]' to close the array-of-tables header, found end of line");
  CHECK_TOML_ERR("[[a] ]\n", 1, 5, "expected ']]' to close the array-of-tables header, found ' '");
  CHECK_TOML_ERR("[a] b = 1\n", 1, 5, "expected a newline after the table header, found 'b'");
  CHECK_TOML_ERR("[a.]\n", 1, 4, "expected a key after '.', found ']'");
}

/* ---- rejections: strings ------------------------------------------------------------------ */

TEST(reject_invalid_escapes) {
  CHECK_TOML_ERR("s = \"a\\qb\"\n", 1, 7, "invalid escape sequence '\\q'");
  CHECK_TOML_ERR("s = \"\\x41\"\n", 1, 6, "invalid escape sequence '\\x'");
  CHECK_TOML_ERR("s = \"\\e\"\n", 1, 6, "invalid escape sequence '\\e'");
  CHECK_TOML_ERR("s = \"\\ \"\n", 1, 6, "invalid escape sequence: '\\' followed by ' '");
  CHECK_TOML_ERR("s = \"\\\"\n", 1, 5, "unterminated string");
}

TEST(reject_bad_unicode_escapes) {
  CHECK_TOML_ERR("s = \"\\uD800\"\n", 1, 6, "invalid escape '\\uD800': U+D800 is not a Unicode scalar value");
  CHECK_TOML_ERR("s = \"\\uDFFF\"\n", 1, 6, "U+DFFF is not a Unicode scalar value");
  CHECK_TOML_ERR("s = \"\\U00110000\"\n", 1, 6, "U+110000 is not a Unicode scalar value");
  CHECK_TOML_ERR("s = \"\\u12G4\"\n", 1, 6, "invalid escape '\\u': expected 4 hexadecimal digits");
  CHECK_TOML_ERR("s = \"\\U1234\"\n", 1, 6, "invalid escape '\\U': expected 8 hexadecimal digits");
}

TEST(reject_unterminated_strings) {
  CHECK_TOML_ERR("s = \"abc\n", 1, 5, "unterminated string: a single-line string ends before the end of the line");
  CHECK_TOML_ERR("s = \"abc", 1, 5, "unterminated string (missing closing \")");
  CHECK_TOML_ERR("s = 'abc\n", 1, 5, "unterminated literal string");
  CHECK_TOML_ERR("x = 1\ns = \"\"\"abc\n\n", 2, 5, "unterminated multi-line string (missing closing \"\"\")");
  CHECK_TOML_ERR("s = '''abc''", 1, 5, "unterminated multi-line string (missing closing ''')");
}

TEST(reject_control_characters_in_strings) {
  CHECK_TOML_ERR("s = \"a\x01z\"\n", 1, 7, "control character U+0001 is not allowed in a string");
  CHECK_TOML_ERR("s = 'a\x1fz'\n", 1, 7, "control character U+001F");
  CHECK_TOML_ERR("s = \"a\x7fz\"\n", 1, 7, "control character U+007F");
  CHECK_TOML_ERR("s = \"\"\"a\x0cz\"\"\"\n", 1, 9, "control character U+000C");
  CHECK_TOML_ERR("s = '''\n\x08'''\n", 2, 1, "control character U+0008");
}

TEST(reject_nul_in_string) {
  sl_error err;
  sl_doc *doc = sl_toml_parse("s = \"a\0b\"\n", 10, "nul.toml", &err);
  CHECK(doc == NULL);
  CHECK_CONTAINS(err.msg, "control character U+0000");
  CHECK_INT(err.col, 7);
}

TEST(reject_too_many_quotes_in_multiline) {
  CHECK_TOML_ERR("s = \"\"\"a\"\"\"\"\"\"\n", 1, 9, "too many quotes");
  CHECK_TOML_ERR("s = '''a''''''\n", 1, 9, "too many quotes");
}

TEST(reject_backslash_space_without_newline) {
  CHECK_TOML_ERR("s = \"\"\"a\\  b\"\"\"\n", 1, 9, "invalid escape sequence: '\\' followed by ' '");
}

/* ---- rejections: numbers ----------------------------------------------------------------- */

TEST(reject_leading_zeros) {
  CHECK_TOML_ERR("n = 0123\n", 1, 5, "invalid number '0123': leading zeros are not allowed");
  CHECK_TOML_ERR("n = -01\n", 1, 5, "leading zeros are not allowed");
  CHECK_TOML_ERR("n = 0_1\n", 1, 5, "leading zeros are not allowed");
  CHECK_TOML_ERR("f = 03.14\n", 1, 5, "leading zeros are not allowed");
}

TEST(reject_misplaced_underscores) {
  CHECK_TOML_ERR("n = 1_\n", 1, 5, "invalid number '1_': '_' must be between digits");
  CHECK_TOML_ERR("n = 1__2\n", 1, 5, "'_' must be between digits");
  CHECK_TOML_ERR("n = _1\n", 1, 5, "invalid value '_1'");
  CHECK_TOML_ERR("n = 0x_1\n", 1, 5, "invalid hexadecimal integer '0x_1': '_' must be between digits");
  CHECK_TOML_ERR("f = 1_.5\n", 1, 5, "'_' must be between digits");
  CHECK_TOML_ERR("f = 1._5\n", 1, 5, "'_' must be between digits");
  CHECK_TOML_ERR("f = 1e_5\n", 1, 5, "'_' must be between digits");
  CHECK_TOML_ERR("f = 1.5_\n", 1, 5, "'_' must be between digits");
}

TEST(reject_integer_overflow) {
  CHECK_TOML_ERR("n = 9223372036854775808\n", 1, 5,
                 "integer '9223372036854775808' is out of range for a 64-bit signed integer");
  CHECK_TOML_ERR("n = -9223372036854775809\n", 1, 5, "is out of range");
  CHECK_TOML_ERR("n = 0x8000000000000000\n", 1, 5, "is out of range");
  CHECK_TOML_ERR("n = 0o1000000000000000000000\n", 1, 5, "is out of range");
  CHECK_TOML_ERR("n = 99999999999999999999999999\n", 1, 5, "is out of range");
}

TEST(reject_bad_prefixed_integers) {
  CHECK_TOML_ERR("n = 0X1F\n", 1, 5, "invalid number '0X1F'");
  CHECK_TOML_ERR("n = +0x1F\n", 1, 5, "a sign is not allowed with 0x, 0o or 0b");
  CHECK_TOML_ERR("n = -0b1\n", 1, 5, "a sign is not allowed");
  CHECK_TOML_ERR("n = 0x\n", 1, 5, "invalid hexadecimal integer '0x'");
  CHECK_TOML_ERR("n = 0o8\n", 1, 5, "invalid octal integer '0o8'");
  CHECK_TOML_ERR("n = 0b102\n", 1, 5, "invalid binary integer '0b102'");
  CHECK_TOML_ERR("n = 0xG\n", 1, 5, "invalid hexadecimal integer");
}

TEST(reject_bad_floats) {
  CHECK_TOML_ERR("f = .5\n", 1, 5, "invalid value '.5'");
  CHECK_TOML_ERR("f = 1.\n", 1, 5, "a digit must follow the decimal point");
  CHECK_TOML_ERR("f = 1.e5\n", 1, 5, "a digit must follow the decimal point");
  CHECK_TOML_ERR("f = 1e\n", 1, 5, "the exponent needs digits");
  CHECK_TOML_ERR("f = 1e+\n", 1, 5, "the exponent needs digits");
  CHECK_TOML_ERR("f = 1.2.3\n", 1, 5, "invalid float '1.2.3'");
  CHECK_TOML_ERR("f = 1e5.0\n", 1, 5, "invalid float");
  CHECK_TOML_ERR("f = +\n", 1, 5, "invalid value '+'");
}

TEST(reject_bad_special_floats_and_words) {
  CHECK_TOML_ERR("f = Inf\n", 1, 5, "invalid value 'Inf'");
  CHECK_TOML_ERR("f = infinity\n", 1, 5, "invalid value 'infinity'");
  CHECK_TOML_ERR("f = NaN\n", 1, 5, "invalid value 'NaN'");
  CHECK_TOML_ERR("b = True\n", 1, 5, "invalid value 'True'");
  CHECK_TOML_ERR("b = truex\n", 1, 5, "invalid value 'truex'");
  CHECK_TOML_ERR("v = hello\n", 1, 5, "invalid value 'hello'");
}

TEST(long_tokens_are_shortened_in_messages) {
  sl_buf b = {0};
  sl_buf_puts(&b, "n = 1");
  for (int i = 0; i < 500; i++) sl_buf_puts(&b, "0");
  sl_buf_puts(&b, "\n");
  sl_error err;
  sl_doc *doc = sl_toml_parse(b.data, b.len, "long.toml", &err);
  sl_buf_free(&b);
  CHECK(doc == NULL);
  CHECK_CONTAINS(err.msg, "...' is out of range");
  CHECK(strlen(err.msg) < 200);
}

/* ---- rejections: dates and times ------------------------------------------------------------ */

TEST(reject_bad_dates) {
  CHECK_TOML_ERR("d = 2024-13-01\n", 1, 5, "invalid date '2024-13-01': month must be 01 to 12");
  CHECK_TOML_ERR("d = 2024-00-10\n", 1, 5, "month must be 01 to 12");
  CHECK_TOML_ERR("d = 2024-01-00\n", 1, 5, "day 00 does not exist in 2024-01");
  CHECK_TOML_ERR("d = 2024-04-31\n", 1, 5, "day 31 does not exist in 2024-04");
  CHECK_TOML_ERR("d = 2024-01-32\n", 1, 5, "day 32 does not exist");
  CHECK_TOML_ERR("d = 0000-01-01\n", 1, 5, "year must be 0001 to 9999");
  CHECK_TOML_ERR("d = 2024-1-01\n", 1, 5, "expected YYYY-MM-DD");
  CHECK_TOML_ERR("d = 12024-01-01\n", 1, 5, "invalid");
}

TEST(reject_february_29_outside_leap_years) {
  CHECK_TOML_ERR("d = 2023-02-29\n", 1, 5, "day 29 does not exist in 2023-02");
  CHECK_TOML_ERR("d = 1900-02-29\n", 1, 5, "day 29 does not exist in 1900-02");
  CHECK_TOML_ERR("d = 2024-02-30\n", 1, 5, "day 30 does not exist in 2024-02");
}

TEST(reject_bad_times) {
  CHECK_TOML_ERR("t = 24:00:00\n", 1, 5, "invalid time in '24:00:00': hour must be 00 to 23");
  CHECK_TOML_ERR("t = 12:60:00\n", 1, 5, "minute must be 00 to 59");
  CHECK_TOML_ERR("t = 12:00:61\n", 1, 5, "second must be 00 to 60");
  CHECK_TOML_ERR("t = 12:00\n", 1, 5, "expected HH:MM:SS");
  CHECK_TOML_ERR("t = 1:00:00\n", 1, 5, "invalid number '1:00:00'");
  CHECK_TOML_ERR("t = 12:00:00.\n", 1, 5, "digits must follow '.'");
  CHECK_TOML_ERR("t = 12:00:00Z\n", 1, 5, "invalid local time '12:00:00Z'");
}

TEST(reject_bad_datetimes) {
  CHECK_TOML_ERR("d = 1979-05-27X07:32:00\n", 1, 5, "expected 'T' or a space after the date");
  CHECK_TOML_ERR("d = 1979-05-27T\n", 1, 5, "expected HH:MM:SS");
  CHECK_TOML_ERR("d = 1979-05-27T25:00:00Z\n", 1, 5, "hour must be 00 to 23");
  CHECK_TOML_ERR("d = 1979-05-27T07:32:00+24:00\n", 1, 5, "offset out of range");
  CHECK_TOML_ERR("d = 1979-05-27T07:32:00+05:60\n", 1, 5, "offset out of range");
  CHECK_TOML_ERR("d = 1979-05-27T07:32:00+05\n", 1, 5, "expected 'Z' or an offset like +05:30");
  CHECK_TOML_ERR("d = 1979-05-27T07:32:00ZZ\n", 1, 5, "expected 'Z' or an offset");
  CHECK_TOML_ERR("d = 1979-05-27 07:32\n", 1, 5, "expected HH:MM:SS");
}

/* ---- rejections: arrays and inline tables ------------------------------------------------------ */

TEST(reject_bad_arrays) {
  CHECK_TOML_ERR("a = [1, 2\n", 1, 5, "unterminated array (missing ']')");
  CHECK_TOML_ERR("a = [1 2]\n", 1, 8, "expected ',' or ']' after an array element, found '2'");
  CHECK_TOML_ERR("a = [,1]\n", 1, 6, "expected a value, found ','");
  CHECK_TOML_ERR("a = [1,,2]\n", 1, 8, "expected a value, found ','");
  CHECK_TOML_ERR("a = [\n  1,\n  2\n  3\n]\n", 4, 3, "expected ',' or ']' after an array element, found '3'");
}

TEST(reject_bad_inline_tables) {
  CHECK_TOML_ERR("a = {b = 1,}\n", 1, 12, "a trailing comma is not allowed in an inline table");
  CHECK_TOML_ERR("a = {b = 1\n}\n", 1, 11, "an inline table must end on the line it starts");
  CHECK_TOML_ERR("a = {\nb = 1}\n", 1, 6, "expected a key, found end of line");
  CHECK_TOML_ERR("a = {b = 1 c = 2}\n", 1, 12, "expected ',' or '}' in an inline table, found 'c'");
  CHECK_TOML_ERR("a = {b = 1", 1, 5, "unterminated inline table (missing '}')");
  CHECK_TOML_ERR("a = {,}\n", 1, 6, "expected a key, found ','");
  CHECK_TOML_ERR("a = {b}\n", 1, 7, "expected '=' after key 'b', found '}'");
}

/* ---- rejections: encoding, comments, line ends -------------------------------------------------- */

TEST(reject_invalid_utf8) {
  CHECK_TOML_ERR("a = \"\xff\"\n", 1, 6, "invalid UTF-8 (byte 0xFF)");
  CHECK_TOML_ERR("# ok\n# \xc0\xaf overlong\n", 2, 3, "invalid UTF-8 (byte 0xC0)");
  CHECK_TOML_ERR("a = \"\xed\xa0\x80\"\n", 1, 6, "invalid UTF-8 (byte 0xED)");
  CHECK_TOML_ERR("a = \"\xf4\x90\x80\x80\"\n", 1, 6, "invalid UTF-8 (byte 0xF4)");
  CHECK_TOML_ERR("a = \"\xe2\x82", 1, 6, "invalid UTF-8 (byte 0xE2)");
  CHECK_TOML_ERR("a = 1 # \x80\n", 1, 9, "invalid UTF-8 (byte 0x80)");
}

TEST(reject_control_characters_in_comments) {
  CHECK_TOML_ERR("# bell \x07 here\n", 1, 8, "control character U+0007 is not allowed in a comment");
  CHECK_TOML_ERR("a = 1 # del \x7f\n", 1, 13, "control character U+007F is not allowed in a comment");
  CHECK_TOML_ERR("a = [ # \x1b\n]\n", 1, 9, "control character U+001B is not allowed in a comment");
}

TEST(reject_bare_carriage_return) {
  CHECK_TOML_ERR("a = 1\rb = 2\n", 1, 6, "a carriage return must be followed by a line feed");
  CHECK_TOML_ERR("# comment\r", 1, 10, "a carriage return must be followed by a line feed");
  CHECK_TOML_ERR("a = [1,\r2]\n", 1, 8, "a carriage return must be followed by a line feed");
  CHECK_TOML_ERR("\r\n\r", 2, 1, "a carriage return must be followed by a line feed");
}

TEST(reject_stray_characters) {
  CHECK_TOML_ERR("a = 1\f\n", 1, 6, "expected a newline after the value, found control character U+000C");
  CHECK_TOML_ERR("a = \"x\" \"y\"\n", 1, 9, "expected a newline after the value, found '\"'");
  CHECK_TOML_ERR("a = 1,\n", 1, 6, "found ','");
  CHECK_TOML_ERR("a = }\n", 1, 5, "expected a value, found '}'");
  CHECK_TOML_ERR("\xc3\xa9 = 1\n", 1, 1, "expected a key, found '\xc3\xa9'");
}

TEST(error_columns_count_characters) {
  CHECK_TOML_ERR("\"é\" = \"ü\" x\n", 1, 11, "expected a newline after the value, found 'x'");
}

TEST(error_messages_quote_odd_keys) {
  CHECK_TOML_ERR("\"a b\".c = 1\n\"a b\".c = 2\n", 2, 7, "duplicate key '\"a b\".c'");
  CHECK_TOML_ERR("\"tab\\tkey\" = 1\n'tab\tkey' = 2\n", 2, 1, "duplicate key '\"tab\\u0009key\"'");
}

TEST(error_messages_shorten_long_keys) {
  sl_buf b = {0};
  for (int rep = 0; rep < 2; rep++) {
    for (int i = 0; i < 400; i++) sl_buf_putc(&b, 'k');
    sl_buf_puts(&b, " = 1\n");
  }
  sl_error err;
  sl_doc *doc = sl_toml_parse(b.data, b.len, "long.toml", &err);
  sl_buf_free(&b);
  CHECK(doc == NULL);
  CHECK_CONTAINS(err.msg, "duplicate key 'kkkk");
  CHECK_CONTAINS(err.msg, "...' (first defined at line 1)");
  CHECK(strlen(err.msg) < 300);
  CHECK_INT(err.line, 2);
}

/* Fuzz regression: empty quoted parts ("".""...) wrote quotes and dots past
 * the end of the message buffer before the long part was cut. */
TEST(regression_show_key_overflow_empty_quoted_parts) {
  sl_buf b = {0};
  for (int i = 0; i < 60; i++) sl_buf_puts(&b, "\"\".");
  sl_buf_puts(&b, "\"");
  for (int i = 0; i < 200; i++) sl_buf_putc(&b, '7');
  sl_buf_puts(&b, "\".\"\"");
  sl_error err;
  sl_doc *doc = sl_toml_parse(b.data, b.len, "fuzz.toml", &err);
  sl_buf_free(&b);
  CHECK(doc == NULL);
  CHECK_CONTAINS(err.msg, "expected '=' after key '\"\".\"\".");
  CHECK_CONTAINS(err.msg, "...', found end of input");
  CHECK(strlen(err.msg) < 250);
}

TEST(long_keys_are_cut_between_characters) {
  sl_buf b = {0};
  for (int rep = 0; rep < 2; rep++) {
    sl_buf_puts(&b, "\"");
    for (int i = 0; i < 100; i++) sl_buf_puts(&b, "é\\u0001");
    sl_buf_puts(&b, "\" = 1\n");
  }
  sl_error err;
  sl_doc *doc = sl_toml_parse(b.data, b.len, "cut.toml", &err);
  sl_buf_free(&b);
  CHECK(doc == NULL);
  CHECK_CONTAINS(err.msg, "duplicate key '\"é\\u0001é\\u0001");
  const char *dots = strstr(err.msg, "...'");
  CHECK(dots != NULL);
  /* what precedes the "..." is a whole character or a whole escape */
  CHECK(dots[-1] == '1' || memcmp(dots - 2, "é", 2) == 0);
}

/* ---- limits --------------------------------------------------------------------------------- */

static char *nested(const char *open, const char *close, int depth) {
  sl_buf b = {0};
  sl_buf_puts(&b, "a = ");
  for (int i = 0; i < depth; i++) sl_buf_puts(&b, open);
  sl_buf_puts(&b, "1");
  for (int i = 0; i < depth; i++) sl_buf_puts(&b, close);
  sl_buf_puts(&b, "\n");
  return sl_buf_steal(&b, NULL);
}

TEST(nesting_within_limit) {
  char *text = nested("[", "]", 255); /* the root table is level 0, key a's array level 1 */
  sl_error err;
  sl_doc *doc = parse(text, &err);
  free(text);
  CHECK_MSG(doc != NULL, "%s", err.msg);
  sl_value *v = sl_v_get(doc->root, "a");
  int depth = 0;
  while (v && v->type == SL_V_ARRAY) v = sl_v_at(v, 0), depth++;
  CHECK_INT(depth, 255);
  CHECK_INT(sl_v_int_or(v, 0), 1);
  sl_doc_free(doc);
}

TEST(reject_arrays_nested_too_deep) {
  char *text = nested("[", "]", 100000);
  sl_error err;
  sl_doc *doc = parse(text, &err);
  free(text);
  CHECK(doc == NULL);
  CHECK_CONTAINS(err.msg, "nested more than 256 levels deep");
  CHECK_INT(err.line, 1);
  CHECK_INT(err.col, 5 + 256);
}

TEST(reject_inline_tables_nested_too_deep) {
  char *text = nested("{b = ", "}", 300);
  sl_error err;
  sl_doc *doc = parse(text, &err);
  free(text);
  CHECK(doc == NULL);
  CHECK_CONTAINS(err.msg, "nested more than 256 levels deep");
}

TEST(reject_keys_nested_too_deep) {
  sl_buf b = {0};
  sl_buf_puts(&b, "[t");
  for (int i = 0; i < 300; i++) sl_buf_puts(&b, ".t");
  sl_buf_puts(&b, "]\n");
  sl_error err;
  sl_doc *doc = parse(b.data, &err);
  CHECK(doc == NULL);
  CHECK_CONTAINS(err.msg, "more than 256");
  sl_buf_reset(&b);
  /* a 200-part header plus 100 dotted parts below it */
  sl_buf_puts(&b, "[t");
  for (int i = 0; i < 199; i++) sl_buf_puts(&b, ".t");
  sl_buf_puts(&b, "]\nk");
  for (int i = 0; i < 99; i++) sl_buf_puts(&b, ".k");
  sl_buf_puts(&b, " = 1\n");
  doc = parse(b.data, &err);
  sl_buf_free(&b);
  CHECK(doc == NULL);
  CHECK_CONTAINS(err.msg, "nested more than 256 levels deep");
  CHECK_INT(err.line, 2);
}

/* ---- API, files, error records -------------------------------------------------------------------- */

TEST(default_name_and_error_format) {
  sl_error err;
  sl_doc *doc = sl_toml_parse("a = 1\na = 2\n", 12, NULL, &err);
  CHECK(doc == NULL);
  CHECK_STR(err.file, "<string>");
  CHECK_INT(err.offset, 6);
  char line[600];
  CHECK_STR(sl_error_format(&err, line, sizeof line), "<string>:2:1: duplicate key 'a' (first defined at line 1)");
}

TEST(null_arguments) {
  sl_error err;
  CHECK(sl_toml_parse(NULL, 5, "x", &err) == NULL);
  CHECK_INT(err.code, SL_INVALID_ARG);
  sl_doc *doc = sl_toml_parse(NULL, 0, "x", &err);
  CHECK(doc != NULL);
  CHECK_INT(sl_v_len(doc->root), 0);
  sl_doc_free(doc);
  CHECK(sl_toml_parse_file(NULL, &err) == NULL);
  CHECK_INT(err.code, SL_INVALID_ARG);
  /* a NULL error record is allowed */
  CHECK(sl_toml_parse("a = ", 4, "x", NULL) == NULL);
}

TEST(success_clears_the_error) {
  sl_error err;
  sl_error_set(&err, SL_IO, "stale");
  sl_doc *doc = parse("a = 1\n", &err);
  CHECK(doc != NULL);
  CHECK_INT(err.code, SL_OK);
  CHECK_STR(err.msg, "");
  sl_doc_free(doc);
}

TEST(parse_file) {
  sl_error err;
  sl_doc *doc = sl_toml_parse_file(TOML_DATA "/valid/tables.toml", &err);
  CHECK_MSG(doc != NULL, "%s", err.msg);
  CHECK(sl_v_bool_or(sl_v_path(doc->root, "fruit.apple.texture.smooth"), false));
  CHECK_CONTAINS(doc->name, "tables.toml");
  sl_doc_free(doc);
}

TEST(parse_file_error_names_the_file) {
  sl_error err;
  sl_doc *doc = sl_toml_parse_file(TOML_DATA "/invalid/duplicate_key.toml", &err);
  CHECK(doc == NULL);
  CHECK_INT(err.code, SL_TOML_SYNTAX);
  CHECK(ends_with(err.file, "invalid/duplicate_key.toml"));
  CHECK_INT(err.line, 3);
}

TEST(parse_file_missing) {
  sl_error err;
  sl_doc *doc = sl_toml_parse_file(TOML_DATA "/no/such/file.toml", &err);
  CHECK(doc == NULL);
  CHECK_INT(err.code, SL_NOT_FOUND);
  CHECK_CONTAINS(err.msg, "no/such/file.toml");
  CHECK_CONTAINS(err.file, "file.toml");
}

TEST(parse_file_that_is_a_directory) {
  sl_error err;
  sl_doc *doc = sl_toml_parse_file(TOML_DATA "/valid", &err);
  CHECK(doc == NULL);
  CHECK_INT(err.code, SL_IO);
  CHECK_CONTAINS(err.msg, "valid");
}

TEST(parse_file_unreadable) {
  if (geteuid() == 0) return; /* root reads everything */
  char path[] = "/tmp/sluice_toml_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  chmod(path, 0);
  sl_error err;
  sl_doc *doc = sl_toml_parse_file(path, &err);
  unlink(path);
  CHECK(doc == NULL);
  CHECK_INT(err.code, SL_IO);
}

TEST(parse_file_too_large) {
  char path[] = "/tmp/sluice_toml_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  int rc = ftruncate(fd, (off_t)SL_TOML_MAX_FILE + 1); /* sparse: costs no disk */
  close(fd);
  sl_error err;
  sl_doc *doc = rc == 0 ? sl_toml_parse_file(path, &err) : NULL;
  unlink(path);
  CHECK_INT(rc, 0);
  CHECK(doc == NULL);
  CHECK_INT(err.code, SL_TOO_LARGE);
  CHECK_CONTAINS(err.msg, "larger than 64 MiB");
}

/* ---- golden corpus ---------------------------------------------------------------------------------- */

TEST(golden_valid_files) {
  DIR *dir = opendir(TOML_DATA "/valid");
  CHECK(dir != NULL);
  int compared = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (!ends_with(e->d_name, ".toml")) continue;
    char path[1024], want_path[1024];
    snprintf(path, sizeof path, TOML_DATA "/valid/%s", e->d_name);
    snprintf(want_path, sizeof want_path, "%.*s.json", (int)(strlen(path) - 5), path);
    sl_error err;
    sl_doc *doc = sl_toml_parse_file(path, &err);
    if (!doc) {
      closedir(dir);
      FAIL_("%s: %d:%d: %s", e->d_name, err.line, err.col, err.msg);
    }
    sl_buf got = {0};
    dump(&got, doc->root, 0);
    sl_buf_putc(&got, '\n');
    sl_doc_free(doc);
    char *want = read_text(want_path, NULL);
    int same = want && strcmp(want, got.data) == 0;
    if (!same) fprintf(stderr, "  %s: rendering differs from %s:\n%s\n", e->d_name, want_path, got.data);
    free(want);
    sl_buf_free(&got);
    if (!same) {
      closedir(dir);
      FAIL_("golden mismatch for %s", e->d_name);
    }
    compared++;
  }
  closedir(dir);
  CHECK(compared >= 15);
}

TEST(golden_invalid_files) {
  DIR *dir = opendir(TOML_DATA "/invalid");
  CHECK(dir != NULL);
  int checked = 0, failed = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (!ends_with(e->d_name, ".toml")) continue;
    char path[1024], err_path[1024];
    snprintf(path, sizeof path, TOML_DATA "/invalid/%s", e->d_name);
    snprintf(err_path, sizeof err_path, "%.*s.err", (int)(strlen(path) - 5), path);
    char *want = read_text(err_path, NULL);
    if (!want) {
      fprintf(stderr, "  %s: no .err file\n", e->d_name);
      failed++;
      continue;
    }
    want[strcspn(want, "\n")] = '\0';
    int line = 0, col = 0, used = 0;
    sscanf(want, "%d:%d: %n", &line, &col, &used);
    sl_error err;
    sl_doc *doc = sl_toml_parse_file(path, &err);
    if (doc) {
      fprintf(stderr, "  %s: accepted, expected %s\n", e->d_name, want);
      sl_doc_free(doc);
      failed++;
    } else if (err.code != SL_TOML_SYNTAX || err.line != line || err.col != col || !used ||
               !strstr(err.msg, want + used)) {
      fprintf(stderr, "  %s:\n    want %s\n    got  %d:%d: %s\n", e->d_name, want, err.line, err.col, err.msg);
      failed++;
    }
    free(want);
    checked++;
  }
  closedir(dir);
  CHECK_INT(failed, 0);
  CHECK(checked >= 100);
}

TEST_MAIN()
