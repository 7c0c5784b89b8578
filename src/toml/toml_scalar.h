/* Internal to src/toml: classifies and converts one bare TOML scalar token
 * (boolean, integer, float, date/time) — everything that is not a string,
 * array or inline table. Pure functions on a byte range; no allocation. */
#ifndef SLUICE_TOML_SCALAR_H
#define SLUICE_TOML_SCALAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/value.h"

typedef enum sl__toml_stype {
  SL__TOML_BOOL,
  SL__TOML_INT,
  SL__TOML_FLOAT,
  SL__TOML_DATETIME
} sl__toml_stype;

typedef struct sl__toml_scalar {
  sl__toml_stype type;
  bool b;
  int64_t i;
  double d;
  sl_dtkind dtkind;
  size_t norm_len; /* FLOAT and DATETIME: length of the text written to norm */
} sl__toml_scalar;

/* True when tok[0..n) is exactly a full date (YYYY-MM-DD); the tokenizer then
 * lets a space separate it from a following time. */
bool sl__toml_is_full_date(const char *tok, size_t n);

/* Convert tok[0..n). norm must have room for n + 1 bytes; it receives the
 * normalized text of a float (underscores and a leading '+' dropped) or of a
 * date/time ('T' and 'Z' upper-cased, a space separator written as 'T').
 * On failure returns false and writes a message (without location) to msg. */
bool sl__toml_scalar_parse(const char *tok, size_t n, sl__toml_scalar *out, char *norm, char *msg,
                           size_t msg_size);

#endif
