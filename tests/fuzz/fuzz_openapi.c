/* Fuzz target for the OpenAPI reader and the `sluice init` generator: any
 * input either fails with an error that has a message, or loads, and then
 * the generator either fails cleanly or produces every file; generating
 * twice gives the same bytes. Anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/log.h"
#include "sluice/openapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sl_log_set_level(SL_LOG_OFF);
  if (size > (1 << 20)) return 0;
  sl_error err;
  sl_openapi *s = sl_openapi_parse((const char *)data, size, "fuzz.yaml", &err);
  if (!s) {
    if (err.code == SL_OK || !err.msg[0]) abort();
    return 0;
  }
  const sl_openapi_op *ops;
  size_t n = sl_openapi_operations(s, "get", &ops);
  for (size_t i = 0; i < n; i++) {
    const sl_value **params;
    sl_openapi_params(s, &ops[i], &params);
    sl_openapi_schema_type(sl_openapi_response_schema(s, &ops[i]));
  }
  sl_init_options o = {.name = "fuzz"};
  sl_init_result *a = sl_init_generate(s, &o, &err);
  if (!a) {
    if (err.code == SL_OK) abort();
  } else {
    if (!a->source_yaml || !a->config_toml || !a->secrets_toml || !a->pipeline_toml) abort();
    if (a->nresources != n) abort();
    sl_init_result *b = sl_init_generate(s, &o, &err);
    if (!b || strcmp(a->source_yaml, b->source_yaml)) abort();
    sl_init_result_free(b);
  }
  sl_init_result_free(a);
  sl_openapi_free(s);
  return 0;
}
