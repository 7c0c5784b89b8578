/* Fuzz target for the trace reader behind `sluice pipeline NAME trace`: any
 * bytes (a trace.json damaged on disk, or edited by hand) either render as
 * text or fail with a JSON error; the rendering is NUL-terminated and never
 * longer than a fixed multiple of the input. Anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sl_buf out = {0};
  sl_error err;
  sl_error_clear(&err);
  sl_status st = sl_trace_render((const char *)data, size, &out, &err);
  if (st == SL_OK) {
    if (!out.data || strlen(out.data) != out.len) abort();
    if (!strstr(out.data, "Run of pipeline ")) abort();
  } else if (!err.code || !err.msg[0]) {
    abort();
  }
  sl_buf_free(&out);
  return 0;
}
