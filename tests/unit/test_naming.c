/* Tests for the snake_case naming convention, shortening, the name cache and
 * _dlt_id row ids. Expected values were computed with dlt's own rules (its
 * NamingConvention and digest128) and are checked here byte for byte. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sluice/naming.h"
#include "test.h"

/* Long expected values, computed with dlt's rules. */
#define LONGMIX_255 \
  "abc_def_abc_def_abc_def_abc_def_abc_def_abc_def_abc_def_abc_" \
  "def_abc_def_abc_def_abc_def_abc_def_abc_def_abc_def_abc_def_" \
  "abc_deoax5gbc_def_abc_def_abc_def_abc_def_abc_def_abc_def_ab" \
  "c_def_abc_def_abc_def_abc_def_abc_def_abc_def_abc_def_abc_de" \
  "f_abc_def_abc_d"
#define UNI_255_HEX \
  "5f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a1" \
  "5f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a1" \
  "5f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a1" \
  "5f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a1" \
  "5f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a1" \
  "5f6263d9a15f737361396b615f6263d9a15f6263d9a15f6263d9a15f6263" \
  "d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263" \
  "d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263" \
  "d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263" \
  "d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263d9a15f6263" \
  "d9a15f6263d9a15f6263d9a15f6263d9a1"
#define CHILDLONG \
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
  "aaaaamisvugaaaaaaaaaaaaaaaaaaaaaa__bbbbbbbbbbbbbbbbbbbbbbbbb" \
  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
  "bbbbbbbbbbbbbbb"
#define VERY_LONG_KEY \
  "Very Long Field Name Very Long Field Name Very Long Field Na" \
  "me Very Long Field Name Very Long Field Name Very Long Field" \
  " Name Very Long Field Name Very Long Field Name Very Long Fi" \
  "eld Name Very Long Field Name Very Long Field Name Very Long" \
  " Field Name Very Long Field Name Very Long Field Name Very L" \
  "ong Field Name Very Long Field Name Very Long Field Name Ver" \
  "y Long Field Name Very Long Field Name Very Long Field Name "
#define CHILDTAB \
  "root_table__very_long_field_name_very_long_field_name_very_l" \
  "ong_field_name_very_long_field_name_very_long_field_name_ver" \
  "y_lonfv5cnqery_long_field_name_very_long_field_name_very_lon" \
  "g_field_name_very_long_field_name_very_long_field_name_very_" \
  "long_field_name"
#define PATHLONG_IN \
  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
  "AAAAAAAAAAAAAAAAAAAA__BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" \
  "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" \
  "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" \
  "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define PATHLONG \
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
  "aaaaallx1ggbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
  "bbbbbbbbbbbbbbb"

/* normalize(in) with no limit, and normalize_path(in). */
static const char *norm(const char *in, size_t max_len) {
  static sl_buf b;
  if (sl_name_normalize(in, strlen(in), max_len, &b) != SL_OK) return NULL;
  return b.data;
}
static const char *npath(const char *in, size_t max_len) {
  static sl_buf b;
  if (sl_name_normalize_path(in, strlen(in), max_len, &b) != SL_OK) return NULL;
  return b.data;
}

/* Characters of a normalized identifier: [a-z0-9_] or multi-byte (Unicode digits). */
static int well_formed(const char *s, size_t n) {
  if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80)) return 0;
    if (c == '_' && i + 1 < n && s[i + 1] == '_') return 0;
  }
  return s[n - 1] != '_';
}

TEST(dlt_compat_examples) {
  CHECK_STR(norm("CamelCase", 0), "camel_case");
  CHECK_STR(norm("ABCDef", 0), "abc_def");
  CHECK_STR(norm("userID", 0), "user_id");
  CHECK_STR(norm("HTTPResponseCode", 0), "http_response_code");
  CHECK_STR(norm("1abc", 0), "_1abc");
  CHECK_STR(norm("a-b", 0), "a_b");
  CHECK_STR(norm("a+b", 0), "axb");
  CHECK_STR(norm("a@b", 0), "aab");
  CHECK_STR(norm("abc_", 0), "abcx");
  CHECK_STR(norm("Hello World!", 0), "hello_worldx");
  CHECK_STR(norm("\xc3\x84\xc3\x96\xc3\xbc name", 0), "_name");
  CHECK_STR(norm("a.b", 0), "a_b");
  CHECK_STR(norm("", 0), "_empty");
  CHECK_STR(norm("   \t\n", 0), "_empty");
  CHECK_STR(npath("a__b", 0), "a__b");
  CHECK_STR(norm("a__b", 0), "a_b");
}

TEST(alphabet_reduction) {
  CHECK_STR(norm("a*b", 0), "axb");
  CHECK_STR(norm("a|b", 0), "alb");
  CHECK_STR(norm("+", 0), "x");
  CHECK_STR(norm("-", 0), "x"); /* '-' -> '_' -> trailing '_' -> 'x' */
  CHECK_STR(norm("--a", 0), "_a");
  CHECK_STR(norm("$", 0), "x");
  CHECK_STR(norm("a$_$b", 0), "a_b");
  CHECK_STR(norm("price ($)", 0), "pricex");
  CHECK_STR(norm("100%", 0), "_100x");
  CHECK_STR(norm("e-mail", 0), "e_mail");
}

TEST(camel_case_rules) {
  CHECK_STR(norm("XMLHttpRequest", 0), "xml_http_request");
  CHECK_STR(norm("getHTTPResponse", 0), "get_http_response");
  CHECK_STR(norm("MyHTTPServer2Go", 0), "my_http_server2_go");
  CHECK_STR(norm("iPhone", 0), "i_phone");
  CHECK_STR(norm("IPhone", 0), "i_phone");
  CHECK_STR(norm("v2API", 0), "v2_api");
  CHECK_STR(norm("data2Go", 0), "data2_go");
  CHECK_STR(norm("ABcDe", 0), "a_bc_de");
  CHECK_STR(norm("DeFg", 0), "de_fg");
  CHECK_STR(norm("aB1C", 0), "a_b1_c");
  CHECK_STR(norm("_Abc", 0), "_abc");
  CHECK_STR(norm("UPPER_CASE", 0), "upper_case");
  CHECK_STR(norm("X", 0), "x");
}

TEST(underscores_and_digits) {
  CHECK_STR(norm("_", 0), "x");
  CHECK_STR(norm("___", 0), "xxx");
  CHECK_STR(norm("__init__", 0), "_initxx");
  CHECK_STR(norm("_a", 0), "_a");
  CHECK_STR(norm("a___b", 0), "a_b");
  CHECK_STR(norm("-1", 0), "_1");
  CHECK_STR(norm("+1", 0), "x1");
  CHECK_STR(norm("2024-01-01", 0), "_2024_01_01");
  CHECK_STR(norm("userId_", 0), "user_idx");
}

TEST(whitespace_is_stripped_like_python) {
  CHECK_STR(norm("  padded\t\n", 0), "padded");
  CHECK_STR(norm("\xc2\xa0" "a" "\xe3\x80\x80", 0), "a");     /* U+00A0, U+3000 */
  CHECK_STR(norm("\x1c" "a" "\x1f", 0), "a");                 /* Python strips \x1c-\x1f */
  CHECK_STR(norm("a\xe2\x80\xa8" "b", 0), "a_b");              /* U+2028 inside: a run */
  CHECK_STR(norm("\xc2\x85", 0), "_empty");                    /* U+0085 alone is blank */
}

TEST(unicode) {
  /* non-ASCII letters are outside [a-zA-Z\d_]: each run is one '_' */
  CHECK_STR(norm("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 0), "x");
  CHECK_STR(norm("\xf0\x9f\x98\x80", 0), "x"); /* emoji */
  CHECK_STR(norm("caf\xc3\xa9 au lait", 0), "caf_au_lait");
  CHECK_STR(norm("\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3", 0), "x"); /* fullwidth ABC */
  /* Python's \d is Unicode: Arabic-Indic digits stay, and lead to a '_' prefix */
  CHECK_STR(norm("abc\xd9\xa1\xd9\xa2\xd9\xa3", 0), "abc\xd9\xa1\xd9\xa2\xd9\xa3");
  CHECK_STR(norm("\xd9\xa3" "abc", 0), "_\xd9\xa3" "abc");
  CHECK_STR(norm("\xef\xbc\x91" "a", 0), "_\xef\xbc\x91" "a"); /* fullwidth 1 */
  /* invalid UTF-8 bytes count as other characters */
  CHECK_STR(norm("a\xff\xfe" "b", 0), "a_b");
  CHECK_STR(norm("\xc3", 0), "x");
}

TEST(nul_bytes_inside) {
  sl_buf b = {0};
  CHECK_OK(sl_name_normalize("a\0b", 3, 0, &b));
  CHECK_STR(b.data, "a_b");
  CHECK_INT(b.len, 3);
  CHECK_OK(sl_name_normalize("\0", 1, 0, &b));
  CHECK_STR(b.data, "x");
  CHECK_OK(sl_name_normalize("\0a\0b", 4, 0, &b));
  CHECK_STR(b.data, "_a_b");
  CHECK_OK(sl_name_normalize_path("a\0__\0b", 6, 0, &b));
  CHECK_STR(b.data, "ax___b");
  sl_buf_free(&b);
}

TEST(paths) {
  CHECK_STR(npath("Parent__Child", 0), "parent__child");
  CHECK_STR(npath("a___b", 0), "a___b");   /* split gives "a", "_b" */
  CHECK_STR(npath("a____b", 0), "a__b");   /* the blank middle piece is dropped */
  CHECK_STR(npath("__a", 0), "a");
  CHECK_STR(npath("a__", 0), "a");
  CHECK_STR(npath("__init__", 0), "init");
  CHECK_STR(npath("a__ __b", 0), "a__b");
  CHECK_STR(npath("a__B__cD", 0), "a__b__c_d");
  CHECK_STR(npath("__", 0), "_empty");
  CHECK_STR(npath("____", 0), "_empty");
  CHECK_STR(npath("", 0), "_empty");
  CHECK_STR(npath("plain", 0), "plain");
}

TEST(shortening) {
  CHECK_STR(norm("abcdefghij", 6), "9xmwgw");
  CHECK_STR(norm("abcdefghij", 7), "a9xmwgw");
  CHECK_STR(norm("abcdefghij", 8), "a9xmwgwj");
  CHECK_STR(norm("abcdefghij", 9), "ab9xmwgwj");
  CHECK_STR(norm("abcdefghij", 10), "abcdefghij");
  CHECK_STR(norm("abcdefghij", 0), "abcdefghij");
  sl_buf b = {0};
  CHECK_INT(sl_name_normalize("abc", 3, 5, &b), SL_INVALID_ARG);
  char tag[8];
  CHECK_OK(sl_name_tag("abc", 3, tag));
  CHECK_STR(tag, "wiejlq");
  CHECK_OK(sl_name_tag("", 0, tag));
  CHECK_STR(tag, "f5wrpa");
  sl_buf_free(&b);
}

TEST(ten_thousand_char_names) {
  char *x = malloc(10001), *m = malloc(10001);
  for (int i = 0; i < 10000; i++) {
    x[i] = 'x';
    m[i] = "AbcDef"[i % 6];
  }
  x[10000] = m[10000] = '\0';
  sl_buf b = {0};
  CHECK_OK(sl_name_normalize(x, 10000, SL_NAME_MAX_ATHENA, &b));
  CHECK_INT(b.len, 255);
  CHECK(memcmp(b.data + 125, "lsffaw", 6) == 0);
  CHECK(strspn(b.data, "x") == 125 && strspn(b.data + 131, "x") == 124);
  CHECK_OK(sl_name_normalize(m, 10000, SL_NAME_MAX_ATHENA, &b));
  CHECK_STR(b.data, LONGMIX_255);
  CHECK_OK(sl_name_normalize(m, 10000, SL_NAME_MAX_DUCKDB, &b));
  CHECK_INT(b.len, 13333); /* fits DuckDB's limit: not shortened */
  CHECK(strncmp(b.data, "abc_def_abc_def", 15) == 0);
  CHECK_OK(sl_name_normalize(x, 10000, 0, &b));
  CHECK_INT(b.len, 10000);
  free(x);
  free(m);
  sl_buf_free(&b);
}

TEST(shortening_counts_code_points) {
  /* "ÄBC١" * 3000: the Arabic-Indic digit is one character of two bytes */
  const char unit[] = "\xc3\x84" "BC\xd9\xa1";
  size_t ul = sizeof unit - 1;
  char *s = malloc(ul * 3000);
  for (int i = 0; i < 3000; i++) memcpy(s + i * ul, unit, ul);
  sl_buf b = {0};
  CHECK_OK(sl_name_normalize(s, ul * 3000, 255, &b));
  char hex[2048];
  for (size_t i = 0; i < b.len && i < 1000; i++) sprintf(hex + 2 * i, "%02x", (unsigned char)b.data[i]);
  CHECK_STR(hex, UNI_255_HEX);
  free(s);
  sl_buf_free(&b);
}

TEST(join_and_child_tables) {
  sl_buf b = {0}, full = {0}, name = {0};
  CHECK_OK(sl_name_join("pins", 4, "images", 6, 255, &b));
  CHECK_STR(b.data, "pins__images");
  CHECK_OK(sl_name_join("pins", 4, "", 0, 255, &b));
  CHECK_STR(b.data, "pins");
  CHECK_OK(sl_name_join("pins__images__media_items_long", 30, "tags", 4, 20, &b));
  CHECK_STR(b.data, "pins__i21stwqg__tags");
  char a200[201], b100[101];
  memset(a200, 'a', 200);
  a200[200] = '\0';
  memset(b100, 'b', 100);
  b100[100] = '\0';
  CHECK_OK(sl_name_join(a200, 200, b100, 100, 255, &b));
  CHECK_STR(b.data, CHILDLONG);
  CHECK_INT(b.len, 255);
  CHECK_OK(sl_name_child_table("pins", 4, "Media Items", 11, 255, &full, &name));
  CHECK_STR(name.data, "pins__media_items");
  CHECK_STR(full.data, "pins__media_items");
  CHECK_OK(sl_name_child_table(full.data, full.len, "tags", 4, 255, NULL, &name));
  CHECK_STR(name.data, "pins__media_items__tags");
  const char *key = VERY_LONG_KEY;
  CHECK_OK(sl_name_child_table("root_table", 10, key, strlen(key), 255, &full, &name));
  CHECK_STR(name.data, CHILDTAB);
  CHECK_INT(name.len, 255);
  CHECK_OK(sl_name_normalize_path(PATHLONG_IN, strlen(PATHLONG_IN), 255, &b));
  CHECK_STR(b.data, PATHLONG);
  sl_buf_free(&b);
  sl_buf_free(&full);
  sl_buf_free(&name);
}

TEST(is_normalized) {
  CHECK(sl_name_is_normalized("camel_case", 10));
  CHECK(sl_name_is_normalized("_1abc", 5));
  CHECK(!sl_name_is_normalized("CamelCase", 9));
  CHECK(!sl_name_is_normalized("a__b", 4));
  CHECK(!sl_name_is_normalized("abc_", 4));
  CHECK(!sl_name_is_normalized("1abc", 4));
  CHECK(!sl_name_is_normalized("", 0));
  /* whenever it says yes, normalizing changes nothing */
  const char *samples[] = {"a", "ab_cd", "x1", "_a", "a_b_c", "abc123"};
  for (size_t i = 0; i < sizeof samples / sizeof *samples; i++)
    CHECK_STR(norm(samples[i], 0), samples[i]);
}

typedef struct vec {
  const char *in;
  size_t len, max;
  const char *ident, *path;
} vec;

/* Inputs and what dlt's normalize_identifier / normalize_path give for them. */
static const vec vectors[] = {
    {"CamelCase", 9, 0, "camel_case", "camel_case"},
    {"ABCDef", 6, 0, "abc_def", "abc_def"},
    {"userID", 6, 0, "user_id", "user_id"},
    {"HTTPResponseCode", 16, 0, "http_response_code", "http_response_code"},
    {"1abc", 4, 0, "_1abc", "_1abc"},
    {"a-b", 3, 0, "a_b", "a_b"},
    {"a+b", 3, 0, "axb", "axb"},
    {"a@b", 3, 0, "aab", "aab"},
    {"abc_", 4, 0, "abcx", "abcx"},
    {"Hello World!", 12, 0, "hello_worldx", "hello_worldx"},
    {"\303\204\303\226\303\274 name", 11, 0, "_name", "_name"},
    {"a.b", 3, 0, "a_b", "a_b"},
    {"a__b", 4, 0, "a_b", "a__b"},
    {"Parent__Child", 13, 0, "parent_child", "parent__child"},
    {"a___b", 5, 0, "a_b", "a___b"},
    {"a____b", 6, 0, "a_b", "a__b"},
    {"_a", 2, 0, "_a", "_a"},
    {"__a", 3, 0, "_a", "a"},
    {"a_", 2, 0, "ax", "ax"},
    {"__init__", 8, 0, "_initxx", "init"},
    {"\331\243abc", 5, 0, "_\331\243abc", "_\331\243abc"},
    {"abc\331\241\331\242\331\243", 9, 0, "abc\331\241\331\242\331\243", "abc\331\241\331\242\331\243"},
    {"\357\274\241\357\274\242\357\274\243", 9, 0, "x", "x"},
    {"\000a\000b", 4, 0, "_a_b", "_a_b"},
    {"\302\240a\343\200\200", 6, 0, "a", "a"},
    {" \011 padded\012", 10, 0, "padded", "padded"},
    {"DeFg", 4, 0, "de_fg", "de_fg"},
    {"ABcDe", 5, 0, "a_bc_de", "a_bc_de"},
    {"aB1C", 4, 0, "a_b1_c", "a_b1_c"},
    {"getHTTPResponse", 15, 0, "get_http_response", "get_http_response"},
    {"already_snake", 13, 0, "already_snake", "already_snake"},
    {"-1", 2, 0, "_1", "_1"},
    {"+1", 2, 0, "x1", "x1"},
    {"*", 1, 0, "x", "x"},
    {"@", 1, 0, "a", "a"},
    {"|", 1, 0, "l", "l"},
    {"$", 1, 0, "x", "x"},
    {"a$_$b", 5, 0, "a_b", "a_b"},
    {"_", 1, 0, "x", "x"},
    {"___", 3, 0, "xxx", "x"},
    {"MyHTTPServer2Go", 15, 0, "my_http_server2_go", "my_http_server2_go"},
    {"iPhone", 6, 0, "i_phone", "i_phone"},
    {"IPhone", 6, 0, "i_phone", "i_phone"},
    {"JSONData", 8, 0, "json_data", "json_data"},
    {"data2Go", 7, 0, "data2_go", "data2_go"},
    {"v2API", 5, 0, "v2_api", "v2_api"},
    {"userId_", 7, 0, "user_idx", "user_idx"},
    {"a|b", 3, 0, "alb", "alb"},
    {"X", 1, 0, "x", "x"},
    {"XMLHttpRequest", 14, 0, "xml_http_request", "xml_http_request"},
    {"2024-01-01", 10, 0, "_2024_01_01", "_2024_01_01"},
    {"price ($)", 9, 0, "pricex", "pricex"},
    {"e-mail", 6, 0, "e_mail", "e_mail"},
    {"100%", 4, 0, "_100x", "_100x"},
    {"a\342\200\250b", 5, 0, "a_b", "a_b"},
    {"\360\237\230\200", 4, 0, "x", "x"},
    {"\346\227\245\346\234\254\350\252\236\343\201\256\343\202\255\343\203\274", 18, 0, "x", "x"},
    {"\316\243\316\257\317\203\317\205\317\206\316\277\317\202", 14, 0, "x", "x"},
    {"snake_case_already", 18, 0, "snake_case_already", "snake_case_already"},
    {"UPPER_CASE", 10, 0, "upper_case", "upper_case"},
    {"lower", 5, 0, "lower", "lower"},
    {"mixed_Case_Key", 14, 0, "mixed_case_key", "mixed_case_key"},
    {"A", 1, 0, "a", "a"},
    {"AB", 2, 0, "ab", "ab"},
    {"ABC", 3, 0, "abc", "abc"},
    {"aBC", 3, 0, "a_bc", "a_bc"},
    {"abC", 3, 0, "ab_c", "ab_c"},
    {"x__", 3, 0, "xxx", "x"},
    {"__x", 3, 0, "_x", "x"},
    {"a__ ", 4, 0, "axx", "a"},
    {"  __b", 5, 0, "_b", "b"},
    {"a__b__c", 7, 0, "a_b_c", "a__b__c"},
    {"a__B__cD", 8, 0, "a_b_c_d", "a__b__c_d"},
    {".__.", 4, 0, "xxxx", "x__x"},
    {"\303\234n\303\257c\303\266d\303\251__K\303\251y", 17, 0, "_n_c_d_k_y", "_n_c_dx__k_y"},
    {"z@\302\240Ab\303\204B*\331\241A$0Ab||b9b\303\204", 24, 20, "za_ab_bjw8b2wbllb9bx", "za_ab_bjw8b2wbllb9bx"},
    {"\331\241B9", 4, 0, "_\331\241b9", "_\331\241b9"},
    {"A9A\303\204z-|z\303\204B\331\241-\303\204\000ZB\331\241\331\241\302\2400*B\303\204\346\227\245b\331\241A\357\274\2200 \000\303\204|+.\331\241.*-9", 55, 8, "ajhylqa9", "ajhylqa9"},
    {"b\331\241-$ +\360\237\230\200.", 12, 13, "b\331\241_xx", "b\331\241_xx"},
    {"B$|", 3, 8, "b_l", "b_l"},
    {"z |A\000b\303\204\331\241++\346\227\245*\357\274\220 \331\241.bb_ ", 27, 0, "z_l_a_b_\331\241xx_x\357\274\220_\331\241_bbx", "z_l_a_b_\331\241xx_x\357\274\220_\331\241_bbx"},
    {"\360\237\230\200\346\227\245-", 8, 20, "xx", "xx"},
    {"\346\227\245@\000*a.*Z\357\274\220B A0-z\360\237\230\2009@@ ", 27, 0, "_a_xa_x_z\357\274\220b_a0_z_9aa", "_a_xa_x_z\357\274\220b_a0_z_9aa"},
    {".@\303\204_z|\303\204_", 10, 20, "_a_zlxx", "_a_zlxx"},
    {"\000@9zbZz9\0009a \331\241Z_-az|\303\204", 22, 13, "_a9z7a40lqzlx", "_a9z7a40lqzlx"},
    {"z\346\227\245$\357\274\220\302\240\000\360\237\230\200A.\000\303\204@@@@B \302\240@A", 30, 8, "zjp1atqa", "zjp1atqa"},
    {"0.Z", 3, 0, "_0_z", "_0_z"},
    {"\357\274\220ABa\331\241z\303\204B*\357\274\220ab0\357\274\220@z\302\240_*\357\274\220", 31, 13, "_\357\274\220a_tq4rbq_x\357\274\220", "_\357\274\220a_tq4rbq_x\357\274\220"},
    {"BB .  -bzB\360\237\230\200+\360\237\230\200_ \346\227\245Z$a0$*z\346\227\245\303\204a$-\302\240b\346\227\245_$*Z*9\303\204\303\204$", 56, 13, "bb_bbnxafwx9x", "bb_bbnxafwx9x"},
    {"\357\274\22009@\360\237\230\20090$", 13, 20, "_\357\274\22009a_90x", "_\357\274\22009a_90x"},
    {"\360\237\230\200aa_ _0\346\227\245\357\274\220*.\360\237\230\200**b9B9 0", 30, 13, "_aa_lphlja9_0", "_aa_lphlja9_0"},
    {" \357\274\220\357\274\220a \302\240*\302\240", 14, 0, "_\357\274\220\357\274\220a_x", "_\357\274\220\357\274\220a_x"},
    {"@\346\227\2450", 5, 20, "a_0", "a_0"},
    {"|\302\240+b\360\237\230\200@.@", 12, 0, "l_xb_a_a", "l_xb_a_a"},
    {"Zzaz\331\241.\302\240z", 10, 20, "zzaz\331\241_z", "zzaz\331\241_z"},
    {"z\303\204\303\204zaa\360\237\230\200\302\240B$\360\237\230\200z|00a_0-$", 29, 8, "zzeulsax", "zzeulsax"},
    {"_\303\204|zA\360\237\230\200*.\000\331\241$|$z\303\204z$$a.", 26, 8, "_xug9sax", "_xug9sax"},
    {"zZz", 3, 20, "z_zz", "z_zz"},
    {"\303\204A+", 4, 20, "_ax", "_ax"},
    {"\303\204A9", 4, 8, "_a9", "_a9"},
    {"AB$.\303\204ab.+\357\274\220$\357\274\220$0\346\227\245_.$\303\204 ", 28, 8, "aijfzrwx", "aijfzrwx"},
    {"\303\2040.z|B@.+b\0009|b0\000-Bz\346\227\245", 23, 13, "_0_zrcsahabzx", "_0_zrcsahabzx"},
    {"_z.9\360\237\230\200B@ ", 11, 8, "_z_9_ba", "_z_9_ba"},
    {"Z\346\227\245|$@+|0", 10, 13, "z_l_axl0", "z_l_axl0"},
    {"b\360\237\230\200*a+\303\204..\346\227\245a@+$\357\274\220-$bB9B", 28, 0, "b_xax_aax_\357\274\220_b_b9_b", "b_xax_aax_\357\274\220_b_b9_b"},
    {"_AZ_z|\000_@z\303\204$\331\241 \346\227\245+b_A\346\227\245", 26, 8, "_aurswqx", "_aurswqx"},
    {"b_a\302\240b_b\357\274\2209b_B.a+\303\204|_\357\274\220zA$\346\227\2459BZ_AZ0-\302\240-$0-.$\000Z", 49, 13, "b_a_hatuxq0_z", "b_a_hatuxq0_z"},
    {"a_Aaa\360\237\230\200$\303\2040$ 9.B\000\302\240|\000 \303\204", 26, 20, "a_aaa_0_9_b_lx", "a_aaa_0_9_b_lx"},
    {"\346\227\24509+0\346\227\245\360\237\230\200\302\240z@*Azab\302\240\360\237\230\200_|Z", 32, 0, "_09x0_zax_azab_l_z", "_09x0_zax_azab_l_z"},
    {"\000@$", 3, 13, "_ax", "_ax"},
    {"\346\227\245-A.ZZ_.", 10, 0, "_a_zzxx", "_a_zzxx"},
    {"*+\303\204+9A-0*Za+@b _$\302\24009", 22, 0, "xx_x9_a_0x_zaxab_09", "xx_x9_a_0x_zaxab_09"},
    {"_bz", 3, 20, "_bz", "_bz"},
    {"@a-", 3, 13, "aax", "aax"},
    {"b\331\241$z\000\346\227\245\357\274\220@", 13, 13, "b\331\241_z_\357\274\220a", "b\331\241_z_\357\274\220a"},
    {"z-\360\237\230\200\357\274\220\302\240zA\346\227\245$\302\240|\360\237\230\200\346\227\245$z$$\331\241a\000\331\241\346\227\245\000\346\227\245\302\2409baAz\302\240*B@.\303\204A\302\240a\302\240", 65, 8, "zayjenaa", "zayjenaa"},
    {"_a.b\360\237\230\200$\303\204b\000$b\360\237\230\200\360\237\230\200 _b_9\360\237\230\20009\360\237\230\200\302\240. @b \000-A\357\274\220\302\240\302\2400b\357\274\220z+_", 63, 13, "_a_bdebz9qzxx", "_a_bdebz9qzxx"},
    {"a A _\000B\346\227\245", 10, 8, "a_a_bx", "a_a_bx"},
    {"-\346\227\245$-...B\303\2040-b a-.b$._@00b\331\241bz\360\237\230\200$_*z\357\274\220\302\240$_B\346\227\245*9", 52, 20, "_b_0_b_hfudbgz\357\274\220_b_x9", "_b_0_b_hfudbgz\357\274\220_b_x9"},
    {"@aZa \000.@-\360\237\230\200z|*@+B+a++@B0\346\227\245a\360\237\230\200-_*b@@\331\241b*|_A_B", 49, 0, "aa_za_a_zlxax_bxaxxa_b0_a_xbaa\331\241bxl_a_b", "aa_za_a_zlxax_bxaxxa_b0_a_xbaa\331\241bxl_a_b"},
    {"\302\240z9_|$+0*|a\302\240@\303\204\303\2040\360\237\230\200bA\360\237\230\200", 30, 20, "z9_l_x0xla_a_0_b_ax", "z9_l_x0xla_a_0_b_ax"},
    {"\357\274\220z\302\240- A\303\204zZ |+--_\360\237\230\200\360\237\230\200\302\240_@\302\2409- \303\204\000@BZ\302\240Zb0$ \303\2049.+.", 55, 20, "_\357\274\220z_a_zfakfywb0_9_xx", "_\357\274\220z_a_zfakfywb0_9_xx"},
    {"\303\20409bZ+\303\204b", 10, 13, "_09b_zx_b", "_09b_zx_b"},
    {"*_\331\2410a\360\237\230\200|@", 12, 20, "x_\331\2410a_la", "x_\331\2410a_la"},
    {"@_+A _\331\241*", 9, 8, "a_x_a_\331\241x", "a_x_a_\331\241x"},
    {"b_9@@\302\240.|", 9, 13, "b_9aa_l", "b_9aa_l"},
    {"zA|", 3, 20, "z_al", "z_al"},
    {"ab@$..9B9zz$\000B\360\237\230\200\346\227\245\302\240.b\303\204Aaz9\331\241A\302\240\346\227\245-z\302\240_$\302\240|\346\227\245BBb-", 55, 8, "aia7pnax", "aia7pnax"},
    {"_9\357\274\220aa\303\204-._+\302\2409 $9\303\2049a|\346\227\245\302\240-Aa0 \000\302\240|b_9\000|*9 A\346\227\245+", 51, 20, "_9\357\274\220aa_xoyb77glx9_a_x", "_9\357\274\220aa_xoyb77glx9_a_x"},
    {"\000@0a-\360\237\230\200$b0 0-09.9_-B\357\274\220", 25, 20, "_a0a_b0_0_09_9_b\357\274\220", "_a0a_b0_0_09_9_b\357\274\220"},
    {"9 |\000A\357\274\220z@", 10, 0, "_9_l_a\357\274\220za", "_9_l_a\357\274\220za"},
    {"a\357\274\220z|A\346\227\245AZ", 12, 20, "a\357\274\220zl_a_az", "a\357\274\220zl_a_az"},
    {"\346\227\245+\360\237\230\200BbZ+0Z\302\240$\360\237\230\200.A-\000\360\237\230\200@*+.ZBab_b*|B\303\2040@*-|bA\346\227\245 ", 55, 8, "_6ltxzax", "_6ltxzax"},
    {"\303\204.0+*\360\237\230\200 a\302\240|9\302\240@A@A.bA_", 26, 8, "_bxwrigx", "_bxwrigx"},
    {"\357\274\220+*", 5, 13, "_\357\274\220xx", "_\357\274\220xx"},
};

TEST(vectors_match_dlt) {
  sl_buf b = {0};
  for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
    const vec *v = &vectors[i];
    CHECK_OK(sl_name_normalize(v->in, v->len, v->max, &b));
    CHECK_MSG(strcmp(b.data, v->ident) == 0, "vector %zu ident: got \"%s\" expected \"%s\"", i,
              b.data, v->ident);
    CHECK_MSG(well_formed(b.data, b.len) || strcmp(b.data, "_empty") == 0, "vector %zu: %s", i,
              b.data);
    CHECK_OK(sl_name_normalize_path(v->in, v->len, v->max, &b));
    CHECK_MSG(strcmp(b.data, v->path) == 0, "vector %zu path: got \"%s\" expected \"%s\"", i,
              b.data, v->path);
  }
  sl_buf_free(&b);
}

TEST(normalizing_twice_changes_nothing) {
  sl_buf a = {0}, b = {0};
  for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
    CHECK_OK(sl_name_normalize(vectors[i].in, vectors[i].len, 0, &a));
    CHECK_OK(sl_name_normalize(a.data, a.len, 0, &b));
    CHECK_STR(b.data, a.data);
  }
  sl_buf_free(&a);
  sl_buf_free(&b);
}

TEST(cache_normalizes_each_key_once) {
  sl_name_cache *c = sl_name_cache_new(0, 0);
  CHECK(c != NULL);
  size_t n = 0;
  const char *a = sl_name_cache_get(c, "CamelCase", 9, 0, &n);
  CHECK_STR(a, "camel_case");
  CHECK_INT(n, 10);
  const char *b = sl_name_cache_get(c, "CamelCase", 9, 0, NULL);
  CHECK(a == b);
  CHECK_INT(sl_name_cache_hits(c), 1);
  CHECK_INT(sl_name_cache_misses(c), 1);
  CHECK_STR(sl_name_cache_get(c, "Parent__Child", 13, 0, NULL), "parent__child");
  CHECK_STR(sl_name_cache_get(c, "", 0, 0, NULL), "_empty");
  CHECK_STR(sl_name_cache_get(c, "a\0b", 3, 0, NULL), "a_b");
  CHECK_STR(sl_name_cache_get(c, "a\0c", 3, 0, NULL), "a_c"); /* bytes after NUL count */
  /* the limit is part of the key */
  CHECK_STR(sl_name_cache_get(c, "abcdefghij", 10, 8, NULL), "a9xmwgwj");
  CHECK_STR(sl_name_cache_get(c, "abcdefghij", 10, 0, NULL), "abcdefghij");
  CHECK_INT(sl_name_cache_size(c), 7);
  CHECK(sl_name_cache_get(c, "x", 1, 3, NULL) == NULL); /* bad limit */
  sl_name_cache_free(c);
}

TEST(cache_is_bounded) {
  sl_name_cache *c = sl_name_cache_new(64, 0);
  char key[32];
  for (int i = 0; i < 1000; i++) {
    int k = snprintf(key, sizeof key, "Key%d", i);
    char want[32];
    snprintf(want, sizeof want, "key%d", i);
    CHECK_STR(sl_name_cache_get(c, key, (size_t)k, 0, NULL), want);
    CHECK(sl_name_cache_size(c) <= 64);
  }
  CHECK(sl_name_cache_flushes(c) >= 15);
  /* hits keep working after flushes */
  const char *x = sl_name_cache_get(c, "Key999", 6, 0, NULL);
  CHECK_STR(x, "key999");
  CHECK(sl_name_cache_get(c, "Key999", 6, 0, NULL) == x);
  sl_name_cache_free(c);
  /* a byte bound flushes too */
  c = sl_name_cache_new(1000, 4096);
  char big[600];
  memset(big, 'q', sizeof big);
  for (int i = 0; i < 40; i++) {
    big[0] = (char)('a' + i % 26);
    big[1] = (char)('a' + i / 26);
    CHECK(sl_name_cache_get(c, big, sizeof big, 0, NULL) != NULL);
  }
  CHECK(sl_name_cache_flushes(c) >= 5);
  sl_name_cache_free(c);
}

static int id_chars_ok(const char *id) {
  if (strlen(id) != 14) return 0;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '+' || *p == '/'))
      return 0;
  return 1;
}

static int cmp_ids(const void *a, const void *b) { return memcmp(a, b, SL_DLT_ID_SIZE); }

TEST(random_ids) {
  enum { N = 20000 };
  char(*ids)[SL_DLT_ID_SIZE] = malloc(N * sizeof *ids);
  for (int i = 0; i < N; i++) {
    CHECK_OK(sl_dlt_id_random(ids[i]));
    CHECK(id_chars_ok(ids[i]));
  }
  qsort(ids, N, sizeof *ids, cmp_ids);
  for (int i = 1; i < N; i++) CHECK(strcmp(ids[i - 1], ids[i]) != 0);
  free(ids);
}

static void *draw_ids(void *arg) {
  char(*ids)[SL_DLT_ID_SIZE] = arg;
  for (int i = 0; i < 5000; i++)
    if (sl_dlt_id_random(ids[i]) != SL_OK) ids[i][0] = '\0';
  return NULL;
}

TEST(random_ids_from_threads_are_distinct) {
  enum { T = 4, N = 5000 };
  char(*ids)[SL_DLT_ID_SIZE] = malloc(T * N * sizeof *ids);
  pthread_t th[T];
  for (int t = 0; t < T; t++) CHECK(pthread_create(&th[t], NULL, draw_ids, ids + t * N) == 0);
  for (int t = 0; t < T; t++) pthread_join(th[t], NULL);
  for (int i = 0; i < T * N; i++) CHECK(id_chars_ok(ids[i]));
  qsort(ids, T * N, sizeof *ids, cmp_ids);
  for (int i = 1; i < T * N; i++) CHECK(strcmp(ids[i - 1], ids[i]) != 0);
  free(ids);
}

TEST(random_ids_differ_after_fork) {
  char before[SL_DLT_ID_SIZE], parent[SL_DLT_ID_SIZE], child[SL_DLT_ID_SIZE] = {0};
  CHECK_OK(sl_dlt_id_random(before)); /* the pool is now filled */
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    char id[SL_DLT_ID_SIZE];
    sl_dlt_id_random(id);
    ssize_t w = write(fds[1], id, sizeof id);
    _exit(w == (ssize_t)sizeof id ? 0 : 1);
  }
  CHECK(pid > 0);
  CHECK_OK(sl_dlt_id_random(parent));
  CHECK(read(fds[0], child, sizeof child) == (ssize_t)sizeof child);
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[0]);
  close(fds[1]);
  CHECK(id_chars_ok(child));
  CHECK(strcmp(child, parent) != 0);
  CHECK(strcmp(child, before) != 0);
}

TEST(child_ids_are_dlts_digest) {
  char id[SL_DLT_ID_SIZE];
  CHECK_OK(sl_dlt_id_child("abc", "tbl", 0, id));
  CHECK_STR(id, "78k4cIF32r8mhw");
  CHECK_OK(sl_dlt_id_child("Xy9/+0abcdEFGH", "pins__tags", 12, id));
  CHECK_STR(id, "MlZ4JvKRjHaPoQ");
  CHECK_OK(sl_dlt_id_child("p", "t", -1, id));
  CHECK_STR(id, "6AuTDnsTBjTNpQ");
  CHECK_OK(sl_dlt_id_child("\xc3\xa9", "t", INT64_MAX, id));
  CHECK_STR(id, "z7GD855T7cT4jQ");
  char again[SL_DLT_ID_SIZE];
  CHECK_OK(sl_dlt_id_child("abc", "tbl", 0, again));
  CHECK_STR(again, "78k4cIF32r8mhw");
  char table[601];
  memset(table, 't', 600);
  table[600] = '\0';
  CHECK_OK(sl_dlt_id_child("p", table, 5, id)); /* longer than the one-update buffer */
  CHECK_STR(id, "JARMMhIIkJmE1Q");
  CHECK_INT(sl_dlt_id_child(NULL, "t", 0, id), SL_INVALID_ARG);
}

TEST(key_ids_hash_sorted_compact_json) {
  char id[SL_DLT_ID_SIZE];
  sl_key_value one = {.name = "id", .kind = SL_KEY_INT, .i = 1};
  CHECK_OK(sl_dlt_id_from_keys(&one, 1, id));
  CHECK_STR(id, "z5jIxXIbUnmbKw");
  const char text[] = "x\"y\\z\n\x01\xc3\xa9";
  sl_key_value many[] = {
      {.name = "b_key", .kind = SL_KEY_TEXT, .s = text, .len = sizeof text - 1},
      {.name = "d", .kind = SL_KEY_NULL},
      {.name = "a_key", .kind = SL_KEY_INT, .i = -42},
      {.name = "c", .kind = SL_KEY_BOOL, .b = true},
  };
  sl_buf j = {0};
  CHECK_OK(sl_dlt_key_json(many, 4, &j));
  CHECK_STR(j.data, "{\"a_key\":-42,\"b_key\":\"x\\\"y\\\\z\\n\\u0001\xc3\xa9\",\"c\":true,\"d\":null}");
  CHECK_OK(sl_dlt_id_from_keys(many, 4, id));
  CHECK_STR(id, "3KXIgL2pdZeNsQ");
  CHECK_STR(many[0].name, "b_key"); /* the caller's order is kept */
  /* doubles as orjson writes them */
  double ds[] = {1.0, 0.1, 1e16, 1e15, 1.5e-7, 123.456, -2.5, 0.0001, 1e-5, 1e22};
  const char *want[] = {"1.0", "0.1", "1e16", "1000000000000000.0", "1.5e-7", "123.456", "-2.5",
                        "0.0001", "0.00001", "1e22"};
  for (int i = 0; i < 10; i++) {
    sl_key_value k = {.name = "v", .kind = SL_KEY_DOUBLE, .d = ds[i]};
    CHECK_OK(sl_dlt_key_json(&k, 1, &j));
    char expect[64];
    snprintf(expect, sizeof expect, "{\"v\":%s}", want[i]);
    CHECK_STR(j.data, expect);
  }
  sl_key_value raw = {.name = "v", .kind = SL_KEY_JSON, .s = "[1,2]", .len = 5};
  CHECK_OK(sl_dlt_key_json(&raw, 1, &j));
  CHECK_STR(j.data, "{\"v\":[1,2]}");
  sl_key_value dup[] = {{.name = "a", .kind = SL_KEY_INT}, {.name = "a", .kind = SL_KEY_INT}};
  CHECK_INT(sl_dlt_id_from_keys(dup, 2, id), SL_INVALID_ARG);
  CHECK_INT(sl_dlt_id_from_keys(dup, 0, id), SL_INVALID_ARG);
  sl_key_value inf = {.name = "a", .kind = SL_KEY_DOUBLE, .d = 1.0 / 0.0};
  CHECK_INT(sl_dlt_id_from_keys(&inf, 1, id), SL_INVALID_ARG);
  sl_buf_free(&j);
}

TEST_MAIN()
