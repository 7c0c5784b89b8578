/* Internal to src/yaml: the YAML 1.2 core-schema resolver for plain scalars,
 * shared by the reader (to type values) and the writer (to know when a string
 * must be quoted so it reads back as a string). */
#ifndef SLUICE_YAML_INT_H
#define SLUICE_YAML_INT_H

#include <stddef.h>

#include "sluice/value.h"

typedef enum sl__yaml_plain {
  SL__YP_STRING = 0,
  SL__YP_NULL,    /* "", ~, null, Null, NULL */
  SL__YP_TRUE,    /* true, True, TRUE */
  SL__YP_FALSE,   /* false, False, FALSE */
  SL__YP_INT10,   /* [-+]?[0-9]+ */
  SL__YP_INT8,    /* 0o[0-7]+ */
  SL__YP_INT16,   /* 0x[0-9a-fA-F]+ */
  SL__YP_FLOAT,   /* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
  SL__YP_INF,     /* [+]?\.(inf|Inf|INF) */
  SL__YP_NEG_INF, /* -\.(inf|Inf|INF) */
  SL__YP_NAN      /* \.(nan|NaN|NAN) */
} sl__yaml_plain;

/* What the plain scalar s[0..n) means under the core schema. Pure, no allocation. */
sl__yaml_plain sl__yaml_classify(const char *s, size_t n);

/* The typed value of a plain scalar, allocated in doc. Numbers keep a
 * normalized text: no leading '+', ".5" -> "0.5", "1." -> "1.0", integers past
 * int64 in decimal (SL_NUM_BIGINT), ".inf" -> "inf", "-.inf" -> "-inf",
 * ".nan" -> "nan". NULL on out of memory. */
sl_value *sl__yaml_plain_value(sl_doc *doc, const char *s, size_t n);

#endif
