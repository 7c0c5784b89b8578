/* jansson, for bench_json (see others.h). */
#ifdef HAVE_BENCH_JANSSON
#include <jansson.h>

#include "others.h"

int other_jansson_parse(const char *doc, size_t len) {
  json_error_t e;
  json_t *o = json_loadb(doc, len, 0, &e);
  int n = o ? (int)json_object_size(o) : -1;
  json_decref(o);
  return n;
}
#endif
