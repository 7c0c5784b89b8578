/* cJSON, for bench_json (see others.h). */
#ifdef HAVE_BENCH_LIBCJSON
#include <cJSON.h>

#include "others.h"

int other_cjson_parse(const char *doc, size_t len) {
  cJSON *o = cJSON_ParseWithLength(doc, len);
  int n = o ? cJSON_GetArraySize(o) : -1;
  cJSON_Delete(o);
  return n;
}
#endif
