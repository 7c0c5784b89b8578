/* Fuzz target for the REST source validator: any YAML either becomes a source
 * whose resources all have a function and a known parent, or fails with a
 * located configuration/YAML error. No request is ever made (validation runs
 * before anything is fetched). Anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/log.h"
#include "sluice/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int once;
  if (!once) {
    sl_log_set_level(SL_LOG_OFF);
    once = 1;
  }
  sl_error err;
  sl_error_clear(&err);
  sl_source_env env = {.base_dir = "/nonexistent"};
  sl_source *s = sl_source_from_yaml((const char *)data, size, "fuzz.yaml", &env, &err);
  if (!s) {
    if (err.code == SL_OK || !err.msg[0]) abort();
    if (err.code != SL_CONFIG_INVALID && err.code != SL_CONFIG_MISSING &&
        err.code != SL_YAML_SYNTAX && err.code != SL_YAML_ALIAS && err.code != SL_TOO_LARGE &&
        err.code != SL_NOMEM && err.code != SL_INVALID_ARG)
      abort();
    if (!err.file[0]) abort();
    return 0;
  }
  for (size_t i = 0; i < sl_source_resource_count(s); i++) {
    const sl_resource *r = sl_source_resource_at(s, i);
    const char *parent = sl_resource_parent(r);
    if (!sl_resource_name(r) || (parent && !sl_source_find(s, parent))) abort();
  }
  sl_source_free(s);
  return 0;
}
