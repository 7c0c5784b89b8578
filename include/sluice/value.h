/* sluice/value.h — the in-memory document tree shared by JSON, TOML and YAML
 * (config files, source definitions, OpenAPI specs, small JSON envelopes).
 *
 * Memory rule: an sl_doc owns every sl_value and string reachable from its
 * root, all allocated from the doc's arena; sl_doc_free releases them at once.
 * Values are never freed individually, and a value must not be shared between
 * two docs. Pointers stay valid until the doc is freed.
 *
 * Big data never goes through this tree: records stream through the JSON push
 * parser (sluice/json.h). The tree is for documents of config size (a 10 MB
 * OpenAPI spec at most).
 */
#ifndef SLUICE_VALUE_H
#define SLUICE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sl_vtype {
  SL_V_NULL = 0,
  SL_V_BOOL,
  SL_V_INT,    /* fits int64: v.i */
  SL_V_NUMBER, /* any other number: big integer, decimal or double; see numkind */
  SL_V_STRING,
  SL_V_DATETIME, /* TOML offset/local date-time, local date, local time: text in s,
                    the exact kind in dtkind */
  SL_V_ARRAY,
  SL_V_OBJECT
} sl_vtype;

/* Classification of a number's text (shared with the JSON parser). */
typedef enum sl_numkind {
  SL_NUM_INT64 = 0, /* integer that fits int64 */
  SL_NUM_BIGINT,    /* integer beyond int64 */
  SL_NUM_DECIMAL,   /* has a fraction but no exponent, e.g. 1.25 */
  SL_NUM_DOUBLE     /* has an exponent, or is inf/nan (TOML) */
} sl_numkind;

typedef enum sl_dtkind {
  SL_DT_OFFSET_DATETIME = 0, /* 1979-05-27T07:32:00Z */
  SL_DT_LOCAL_DATETIME,      /* 1979-05-27T07:32:00 */
  SL_DT_LOCAL_DATE,          /* 1979-05-27 */
  SL_DT_LOCAL_TIME           /* 07:32:00 */
} sl_dtkind;

typedef struct sl_value sl_value;

typedef struct sl_member {
  const char *key; /* NUL-terminated; may contain NULs only if key_len says so */
  size_t key_len;
  sl_value *val;
} sl_member;

struct sl_value {
  sl_vtype type;
  uint32_t line, col; /* where the value starts in its source (1-based; 0 unknown) */
  union {
    bool b;
    int64_t i;
    struct {
      const char *text; /* exact source text of the number ("1e400", "0.10") */
      size_t len;
      double d;          /* nearest double (inf for out-of-range) */
      sl_numkind kind;
    } num;
    struct {
      const char *ptr; /* NUL-terminated; len excludes the NUL */
      size_t len;
      sl_dtkind dtkind; /* SL_V_DATETIME only */
    } s;
    struct {
      sl_value **items;
      size_t len, cap;
    } arr;
    struct {
      sl_member *items; /* insertion order kept */
      size_t len, cap;
    } obj;
  } u;
};

typedef struct sl_doc {
  sl_arena arena;
  sl_value *root;
  char *name; /* file name or "<string>", used in error messages */
} sl_doc;

/* A new empty doc (root NULL). NULL on out of memory. */
sl_doc *sl_doc_new(const char *name);
void sl_doc_free(sl_doc *doc);

/* Constructors: allocate in doc's arena. NULL on out of memory. */
sl_value *sl_v_null(sl_doc *doc);
sl_value *sl_v_bool(sl_doc *doc, bool b);
sl_value *sl_v_int(sl_doc *doc, int64_t i);
sl_value *sl_v_number(sl_doc *doc, const char *text, size_t len, double d, sl_numkind kind);
sl_value *sl_v_string(sl_doc *doc, const char *s, size_t len);
sl_value *sl_v_datetime(sl_doc *doc, const char *s, size_t len, sl_dtkind kind);
sl_value *sl_v_array(sl_doc *doc);
sl_value *sl_v_object(sl_doc *doc);
/* Append to an array. */
sl_status sl_v_push(sl_doc *doc, sl_value *arr, sl_value *item);
/* Append a member (key copied). Does not check for duplicates. */
sl_status sl_v_set(sl_doc *doc, sl_value *obj, const char *key, size_t key_len, sl_value *val);
/* Replace the member if the key exists, else append. */
sl_status sl_v_put(sl_doc *doc, sl_value *obj, const char *key, sl_value *val);
/* Deep copy of v (from any doc) into doc. */
sl_value *sl_v_clone(sl_doc *doc, const sl_value *v);

/* Accessors: all tolerate NULL and wrong types, returning NULL / defaults. */
sl_value *sl_v_get(const sl_value *obj, const char *key);             /* first member with key */
sl_value *sl_v_getn(const sl_value *obj, const char *key, size_t klen);
sl_value *sl_v_at(const sl_value *arr, size_t i);
/* Dotted path "a.b.c" through objects; "items[0]" is not supported here. */
sl_value *sl_v_path(const sl_value *root, const char *dotted);
size_t sl_v_len(const sl_value *v); /* array/object length, string length, else 0 */
const char *sl_v_str(const sl_value *v, const char *dflt); /* STRING/DATETIME text */
int64_t sl_v_int_or(const sl_value *v, int64_t dflt);     /* INT, or integral NUMBER */
double sl_v_num_or(const sl_value *v, double dflt);       /* INT or NUMBER */
bool sl_v_bool_or(const sl_value *v, bool dflt);
const char *sl_vtype_name(sl_vtype t); /* "null" "boolean" "integer" "number" "string" ... */

/* Structural equality (numbers compare by value when both are INT, else by text). */
bool sl_v_equal(const sl_value *a, const sl_value *b);

/* Serialize as JSON (compact when indent == 0, else pretty with that many spaces).
 * DATETIME values are written as strings. */
sl_status sl_v_to_json(const sl_value *v, sl_buf *out, int indent);

#ifdef __cplusplus
}
#endif
#endif
