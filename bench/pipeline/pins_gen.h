/* A deterministic generator of Pinterest-like "pins" records (JSON Lines) for
 * the pipeline benchmark: ~25 fields, media.images.<size>.{url,width,height}
 * three levels deep, a product_tags list of 0-3 objects, ISO timestamps,
 * booleans, ints, floats, nulls and unicode text. Same seed, same bytes. */
#ifndef BENCH_PINS_GEN_H
#define BENCH_PINS_GEN_H
#include <stdint.h>
#include <stdio.h>

#include "sluice/buf.h"

typedef struct pins_gen {
  uint64_t state;
  uint64_t next_id;
} pins_gen;

void pins_gen_init(pins_gen *g, uint64_t seed);
/* Append one record (no trailing newline) to out. */
void pins_gen_record(pins_gen *g, sl_buf *out);
/* Write n records as JSON Lines to f; returns bytes written. */
uint64_t pins_gen_write(pins_gen *g, uint64_t n, FILE *f);
#endif
