/* json-c, for bench_json (see others.h). */
#ifdef HAVE_BENCH_JSON_C
#include <json.h>

#include "others.h"

int other_jsonc_parse(const char *doc, size_t len) {
  struct json_tokener *tok = json_tokener_new();
  if (!tok) return -1;
  struct json_object *o = json_tokener_parse_ex(tok, doc, (int)len);
  int n = o && json_tokener_get_error(tok) == json_tokener_success
              ? json_object_object_length(o)
              : -1;
  json_object_put(o);
  json_tokener_free(tok);
  return n;
}
#endif
