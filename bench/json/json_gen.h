/* Deterministic generator of a large nested API-like JSON document (see
 * json_gen.c). Same seed, same bytes. */
#ifndef BENCH_JSON_GEN_H
#define BENCH_JSON_GEN_H
#include <stdbool.h>
#include <stdint.h>

#include "sluice/buf.h"

typedef struct json_gen {
  uint64_t state;
  uint64_t next_id;
} json_gen;

void json_gen_init(json_gen *g, uint64_t seed);
/* Append a document of about `target` bytes to out (out->max must allow it). */
sl_status json_gen_document(json_gen *g, size_t target, sl_buf *out);
#endif
