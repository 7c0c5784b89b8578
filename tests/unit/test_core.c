/* Tests for the core: status table, error record, buffers, arena, logging,
 * secret redaction, and the document tree. */
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/log.h"
#include "sluice/status.h"
#include "sluice/value.h"
#include "test.h"

TEST(status_names_and_messages) {
  CHECK_STR(sl_status_name(SL_OK), "SL_OK");
  CHECK_STR(sl_status_name(SL_JSON_SYNTAX), "SL_JSON_SYNTAX");
  CHECK_STR(sl_status_str(SL_NOMEM), "out of memory");
  CHECK_STR(sl_status_name((sl_status)9999), "SL_UNKNOWN");
  /* Every code has a distinct name and a non-empty message. */
  for (int i = 0; i < SL_STATUS_COUNT_; i++) {
    CHECK(sl_status_str((sl_status)i)[0] != '\0');
    for (int j = 0; j < i; j++) CHECK(strcmp(sl_status_name((sl_status)i), sl_status_name((sl_status)j)) != 0);
  }
}

TEST(exit_codes) {
  CHECK_INT(sl_status_exit_code(SL_OK), 0);
  CHECK_INT(sl_status_exit_code(SL_CONFIG_MISSING), 2);
  CHECK_INT(sl_status_exit_code(SL_HTTP), 3);
  CHECK_INT(sl_status_exit_code(SL_DESTINATION), 4);
  CHECK_INT(sl_status_exit_code(SL_LOCKED), 5);
  CHECK_INT(sl_status_exit_code(SL_NOMEM), 1);
}

TEST(error_format_full) {
  sl_error e;
  sl_error_clear(&e);
  CHECK_INT(e.offset, -1);
  CHECK_INT(sl_error_set(&e, SL_JSON_SYNTAX, "expected '%c', found '%c'", ',', ']'), SL_JSON_SYNTAX);
  sl_error_at(&e, "pins.json", 3, 14, 120);
  char out[256];
  CHECK_STR(sl_error_format(&e, out, sizeof out), "pins.json:3:14: expected ',', found ']'");
  sl_error_http(&e, "https://api.example.com/v5/pins", 429);
  sl_error_where(&e, "pins", "media__url");
  CHECK_STR(sl_error_format(&e, out, sizeof out),
            "pins.json:3:14: expected ',', found ']' (HTTP 429, https://api.example.com/v5/pins) "
            "[table pins, column media__url]");
}

TEST(error_format_offset_only_and_truncation) {
  sl_error e;
  sl_error_clear(&e);
  sl_error_set(&e, SL_IO, "short read");
  sl_error_at(&e, "x.bin", 0, 0, 77);
  char out[64];
  CHECK_STR(sl_error_format(&e, out, sizeof out), "x.bin:byte 77: short read");
  char tiny[8];
  sl_error_format(&e, tiny, sizeof tiny);
  CHECK_INT(strlen(tiny), 7);
  /* Empty message falls back to the code's message: never a bare "error". */
  sl_error_clear(&e);
  e.code = SL_NOMEM;
  CHECK_STR(sl_error_format(&e, out, sizeof out), "out of memory");
}

TEST(error_prefix) {
  sl_error e;
  sl_error_clear(&e);
  sl_error_set(&e, SL_NOT_FOUND, "no such file");
  sl_error_prefix(&e, "while loading %s", "config.toml");
  CHECK_STR(e.msg, "while loading config.toml: no such file");
  /* NULL error records are tolerated everywhere. */
  CHECK_INT(sl_error_set(NULL, SL_IO, "x"), SL_IO);
  sl_error_at(NULL, "f", 1, 1, 0);
  sl_error_clear(NULL);
}

TEST(buf_grow_and_cap) {
  sl_buf b;
  sl_buf_init(&b, 10);
  CHECK_OK(sl_buf_puts(&b, "hello"));
  CHECK_OK(sl_buf_putc(&b, ' '));
  CHECK_OK(sl_buf_printf(&b, "%d", 123));
  CHECK_STR(b.data, "hello 123");
  CHECK_INT(b.len, 9);
  CHECK_INT(sl_buf_puts(&b, "xy"), SL_TOO_LARGE);
  CHECK_STR(b.data, "hello 123"); /* unchanged on failure */
  CHECK_OK(sl_buf_putc(&b, '!'));
  CHECK_INT(sl_buf_putc(&b, '!'), SL_TOO_LARGE);
  sl_buf_reset(&b);
  CHECK_INT(b.len, 0);
  CHECK_STR(b.data, "");
  sl_buf_free(&b);
}

TEST(buf_printf_long_and_steal) {
  sl_buf b = {0};
  char big[1000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  CHECK_OK(sl_buf_printf(&b, "<%s>", big));
  CHECK_INT(b.len, 1001);
  size_t n;
  char *p = sl_buf_steal(&b, &n);
  CHECK_INT(n, 1001);
  CHECK(p[0] == '<' && p[1000] == '>' && p[1001] == '\0');
  CHECK(b.data == NULL && b.len == 0);
  free(p);
  p = sl_buf_steal(&b, &n); /* empty buffer steals an empty string */
  CHECK_STR(p, "");
  free(p);
}

TEST(arena_alignment_big_blocks_reset) {
  sl_arena a;
  sl_arena_init(&a, 1024, 0);
  for (int i = 0; i < 1000; i++) {
    void *p = sl_arena_alloc(&a, (size_t)(i % 37) + 1);
    CHECK(p != NULL);
    CHECK(((uintptr_t)p & 15) == 0);
  }
  char *big = sl_arena_alloc(&a, 100000);
  CHECK(big != NULL);
  memset(big, 1, 100000);
  char *s = sl_arena_printf(&a, "%s-%d", "id", 42);
  CHECK_STR(s, "id-42");
  CHECK_STR(sl_arena_strndup(&a, "abcdef", 3), "abc");
  sl_arena_reset(&a);
  CHECK_INT(a.used, 0);
  CHECK(sl_arena_alloc(&a, 10) != NULL);
  sl_arena_free(&a);
}

TEST(arena_cap) {
  sl_arena a;
  sl_arena_init(&a, 256, 100);
  CHECK(sl_arena_alloc(&a, 64) != NULL);
  CHECK(sl_arena_alloc(&a, 64) == NULL); /* 128 > 100 */
  sl_arena_free(&a);
}

TEST(redaction_replaces_every_occurrence) {
  sl_secrets_clear();
  sl_secret_register("s3cr3t-token");
  sl_secret_register("abc"); /* too short: ignored */
  CHECK_INT(sl_secrets_count(), 1);
  char out[128];
  sl_redact_into(out, sizeof out, "Authorization: Bearer s3cr3t-token; again s3cr3t-token.");
  CHECK_STR(out, "Authorization: Bearer ***; again ***.");
  sl_redact_into(out, sizeof out, "abc stays");
  CHECK_STR(out, "abc stays");
  sl_secrets_clear();
}

TEST(redaction_url_encoded_and_longest_first) {
  sl_secrets_clear();
  sl_secret_register("pa ss/word+1");
  sl_secret_register("pa ss"); /* contained in the first */
  char out[128];
  sl_redact_into(out, sizeof out, "url?p=pa%20ss%2Fword%2B1&q=pa ss/word+1");
  CHECK_STR(out, "url?p=***&q=***");
  sl_secrets_clear();
}

TEST(redaction_json_escaped) {
  sl_secrets_clear();
  sl_secret_register("se\"cr\\et\n42");
  char out[128];
  sl_redact_into(out, sizeof out, "{\"token\":\"se\\\"cr\\\\et\\u000a42\"}");
  CHECK_STR(out, "{\"token\":\"***\"}");
  sl_secrets_clear();
}

TEST(redaction_reaches_errors) {
  sl_secrets_clear();
  sl_secret_register("tok_123456");
  sl_error e;
  sl_error_clear(&e);
  sl_error_set(&e, SL_HTTP, "request with key tok_123456 failed");
  sl_error_http(&e, "https://h/x?access_token=tok_123456", 401);
  char out[256];
  sl_error_format(&e, out, sizeof out);
  CHECK(strstr(out, "tok_123456") == NULL);
  CHECK_CONTAINS(out, "access_token=***");
  sl_secrets_clear();
}

static char last_line[512];
static void capture(void *ud, sl_log_level lvl, const char *line) {
  (void)ud;
  snprintf(last_line, sizeof last_line, "%s|%s", sl_log_level_name(lvl), line);
}

TEST(log_levels_sink_and_redaction) {
  sl_secrets_clear();
  sl_secret_register("hunter22");
  sl_log_set_sink(capture, NULL);
  sl_log_set_level(SL_LOG_INFO);
  last_line[0] = '\0';
  SL_DEBUG("hidden %d", 1);
  CHECK_STR(last_line, "");
  SL_INFO("token is %s", "hunter22");
  CHECK_STR(last_line, "info|token is ***");
  SL_ERROR("boom");
  CHECK_STR(last_line, "error|boom");
  sl_log_set_sink(NULL, NULL);
  sl_log_set_level(SL_LOG_WARN);
  CHECK_INT(sl_log_level_parse("DEBUG"), SL_LOG_DEBUG);
  CHECK_INT(sl_log_level_parse("warn"), SL_LOG_WARN);
  CHECK_INT(sl_log_level_parse("nope"), -1);
  sl_secrets_clear();
}

TEST(secret_key_names) {
  CHECK(sl_key_is_secret("access_token"));
  CHECK(sl_key_is_secret("client_secret"));
  CHECK(sl_key_is_secret("api_key"));
  CHECK(sl_key_is_secret("aws_secret_access_key"));
  CHECK(sl_key_is_secret("password"));
  CHECK(sl_key_is_secret("refresh_token"));
  CHECK(!sl_key_is_secret("primary_key"));
  CHECK(!sl_key_is_secret("merge_key"));
  CHECK(!sl_key_is_secret("base_url"));
  CHECK(!sl_key_is_secret("token_url"));
  /* camelCase names, as APIs and specs spell them */
  CHECK(sl_key_is_secret("accessToken"));
  CHECK(sl_key_is_secret("clientSecret"));
  CHECK(sl_key_is_secret("xApiKey"));
  CHECK(!sl_key_is_secret("tokenUrl"));
  CHECK(!sl_key_is_secret("primaryKey"));
  CHECK(!sl_key_is_secret("monkey"));
  CHECK(!sl_key_is_secret("monkey"));
  CHECK(!sl_key_is_secret("dataset_name"));
}

TEST(tree_build_and_access) {
  sl_doc *d = sl_doc_new("t");
  sl_value *root = sl_v_object(d);
  sl_value *src = sl_v_object(d);
  CHECK_OK(sl_v_set(d, root, "sources", 7, src));
  CHECK_OK(sl_v_put(d, src, "name", sl_v_string(d, "pins", 4)));
  CHECK_OK(sl_v_put(d, src, "limit", sl_v_int(d, 250)));
  CHECK_OK(sl_v_put(d, src, "limit", sl_v_int(d, 100))); /* replaces */
  sl_value *arr = sl_v_array(d);
  for (int i = 0; i < 100; i++) CHECK_OK(sl_v_push(d, arr, sl_v_int(d, i)));
  CHECK_OK(sl_v_put(d, src, "ids", arr));
  CHECK_OK(sl_v_put(d, src, "on", sl_v_bool(d, true)));
  CHECK_OK(sl_v_put(d, src, "ratio", sl_v_number(d, "0.25", 4, 0.25, SL_NUM_DECIMAL)));
  d->root = root;
  CHECK_STR(sl_v_str(sl_v_path(root, "sources.name"), NULL), "pins");
  CHECK_INT(sl_v_int_or(sl_v_path(root, "sources.limit"), 0), 100);
  CHECK_INT(sl_v_len(src), 5);
  CHECK_INT(sl_v_int_or(sl_v_at(arr, 99), -1), 99);
  CHECK(sl_v_at(arr, 100) == NULL);
  CHECK(sl_v_bool_or(sl_v_path(root, "sources.on"), false));
  CHECK(sl_v_num_or(sl_v_path(root, "sources.ratio"), 0) == 0.25);
  CHECK(sl_v_path(root, "sources.missing.deeper") == NULL);
  CHECK_STR(sl_v_str(sl_v_path(root, "sources.limit"), "dflt"), "dflt"); /* wrong type */
  CHECK_STR(sl_vtype_name(SL_V_OBJECT), "object");
  sl_doc_free(d);
}

TEST(tree_clone_and_equal_deep) {
  sl_doc *a = sl_doc_new("a"), *b = sl_doc_new("b");
  /* 100,000 levels of nesting: clone and equality must not recurse. */
  sl_value *root = sl_v_array(a), *cur = root;
  for (int i = 0; i < 100000; i++) {
    sl_value *next = sl_v_array(a);
    sl_v_push(a, cur, next);
    cur = next;
  }
  sl_v_push(a, cur, sl_v_string(a, "leaf", 4));
  sl_value *copy = sl_v_clone(b, root);
  CHECK(copy != NULL);
  CHECK(sl_v_equal(root, copy));
  /* Change the leaf in the copy: no longer equal. */
  sl_value *c = copy;
  while (c->type == SL_V_ARRAY && sl_v_at(c, 0)->type == SL_V_ARRAY) c = sl_v_at(c, 0);
  c->u.arr.items[0] = sl_v_string(b, "leaF", 4);
  CHECK(!sl_v_equal(root, copy));
  sl_doc_free(a);
  sl_doc_free(b);
}

TEST(tree_equal_objects) {
  sl_doc *d = sl_doc_new(NULL);
  sl_value *x = sl_v_object(d), *y = sl_v_object(d);
  sl_v_put(d, x, "k", sl_v_int(d, 1));
  sl_v_put(d, y, "k", sl_v_int(d, 1));
  CHECK(sl_v_equal(x, y));
  sl_v_put(d, y, "k", sl_v_int(d, 2));
  CHECK(!sl_v_equal(x, y));
  CHECK(!sl_v_equal(x, NULL));
  CHECK_STR(d->name, "<string>");
  sl_doc_free(d);
}

TEST_MAIN()
