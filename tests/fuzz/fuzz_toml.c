/* Fuzz target for the TOML reader: any input either parses into a tree whose
 * every value has a position and whose strings and keys are valid UTF-8, or
 * fails with a located TOML_SYNTAX error. Anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/toml.h"
#include "sluice/value.h"

static int valid_utf8(const char *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p;
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || len > n - i) return 0;
    for (size_t k = 1; k < len; k++)
      if ((s[i + k] & 0xC0) != 0x80) return 0;
    i += len;
  }
  return 1;
}

/* Depth is bounded by the reader (256), so plain recursion is fine here. */
static void check_value(const sl_value *v, int depth) {
  if (!v || v->line == 0 || v->col == 0 || depth > 600) abort();
  switch (v->type) {
    case SL_V_OBJECT:
      for (size_t i = 0; i < v->u.obj.len; i++) {
        const sl_member *m = &v->u.obj.items[i];
        if (!m->key || !valid_utf8(m->key, m->key_len) || m->key[m->key_len] != '\0') abort();
        check_value(m->val, depth + 1);
      }
      break;
    case SL_V_ARRAY:
      for (size_t i = 0; i < v->u.arr.len; i++) check_value(v->u.arr.items[i], depth + 1);
      break;
    case SL_V_STRING:
    case SL_V_DATETIME:
      if (!v->u.s.ptr || v->u.s.ptr[v->u.s.len] != '\0' || !valid_utf8(v->u.s.ptr, v->u.s.len)) abort();
      break;
    case SL_V_NUMBER:
      if (!v->u.num.text || v->u.num.len == 0 || v->u.num.kind != SL_NUM_DOUBLE) abort();
      break;
    case SL_V_INT:
    case SL_V_BOOL:
      break;
    default:
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sl_error err;
  sl_doc *doc = sl_toml_parse((const char *)data, size, "fuzz.toml", &err);
  if (doc) {
    if (!doc->root || doc->root->type != SL_V_OBJECT) abort();
    check_value(doc->root, 0);
    sl_doc_free(doc);
  } else if (err.code == SL_TOML_SYNTAX) {
    if (err.line < 1 || err.col < 1 || err.offset < 0 || (size_t)err.offset > size || !err.msg[0]) abort();
  } else if (err.code != SL_NOMEM && err.code != SL_TOO_LARGE) {
    abort();
  }
  return 0;
}
