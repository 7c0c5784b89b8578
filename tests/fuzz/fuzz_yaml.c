/* Fuzz target for the YAML reader and writer: any input either parses into a
 * tree whose every value has a position, that the writer turns into YAML
 * which reads back as an equal tree; or fails with a located YAML error (or
 * the alias budget). Anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/log.h"
#include "sluice/value.h"
#include "sluice/yaml.h"

/* Depth of the tree, with an explicit stack (alias expansion can make trees
 * deeper than the reader's nesting limit). Aborts on a malformed value. */
static unsigned check_tree(const sl_value *root) {
  typedef struct {
    const sl_value *v;
    unsigned depth;
  } item;
  size_t cap = 64, n = 0;
  item *stack = malloc(cap * sizeof *stack);
  unsigned max = 0;
  if (!stack) abort();
  stack[n++] = (item){root, 1};
  while (n) {
    item it = stack[--n];
    const sl_value *v = it.v;
    if (!v || v->line == 0 || v->col == 0) abort();
    if (it.depth > max) max = it.depth;
    size_t len = 0;
    switch (v->type) {
      case SL_V_STRING:
        if (!v->u.s.ptr || v->u.s.ptr[v->u.s.len] != '\0') abort();
        break;
      case SL_V_NUMBER:
        if (!v->u.num.text || v->u.num.len == 0 || v->u.num.text[0] == '+') abort();
        break;
      case SL_V_ARRAY:
      case SL_V_OBJECT:
        len = v->type == SL_V_ARRAY ? v->u.arr.len : v->u.obj.len;
        break;
      case SL_V_NULL:
      case SL_V_BOOL:
      case SL_V_INT:
        break;
      default:
        abort();
    }
    if (n + len > cap) {
      while (n + len > cap) cap *= 2;
      item *ns = realloc(stack, cap * sizeof *ns);
      if (!ns) abort();
      stack = ns;
    }
    for (size_t i = 0; i < len; i++) {
      const sl_value *c;
      if (v->type == SL_V_ARRAY) {
        c = v->u.arr.items[i];
      } else {
        const sl_member *m = &v->u.obj.items[i];
        if (!m->key || m->key[m->key_len] != '\0') abort();
        /* keys are unique once duplicates and merges are resolved */
        for (size_t k = 0; k < i; k++)
          if (v->u.obj.items[k].key_len == m->key_len && memcmp(v->u.obj.items[k].key, m->key, m->key_len) == 0)
            abort();
        c = m->val;
      }
      stack[n++] = (item){c, it.depth + 1};
    }
  }
  free(stack);
  return max;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sl_log_set_level(SL_LOG_OFF);
  sl_yaml_options opts = {.max_alias_nodes = 20000, .max_depth = 64};
  sl_error err;
  sl_doc *doc = sl_yaml_parse((const char *)data, size, "fuzz.yaml", &opts, &err);
  if (!doc) {
    if (err.code == SL_YAML_SYNTAX || err.code == SL_YAML_ALIAS) {
      if (err.line < 1 || err.col < 1 || !err.msg[0] || strcmp(err.file, "fuzz.yaml") != 0) abort();
    } else if (err.code != SL_NOMEM) {
      abort();
    }
    return 0;
  }
  unsigned depth = check_tree(doc->root);
  sl_buf out = {0};
  if (sl_yaml_emit(doc->root, &out) != SL_OK) abort();
  sl_yaml_options again_opts = {.max_alias_nodes = 1, .max_depth = depth + 1};
  sl_doc *again = sl_yaml_parse(out.data, out.len, "emitted.yaml", &again_opts, &err);
  if (!again || !sl_v_equal(doc->root, again->root)) abort();
  sl_doc_free(again);
  sl_buf_free(&out);
  sl_doc_free(doc);
  return 0;
}
