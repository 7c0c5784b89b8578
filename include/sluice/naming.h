/* sluice/naming.h — dlt's snake_case naming convention (identifiers, paths,
 * shortening to a destination's length limit) and dlt's row ids (_dlt_id).
 *
 * Memory rule: functions that produce a name write it into a caller-owned
 * sl_buf (reset first, always NUL-terminated); an sl_name_cache owns every
 * string it returns, and a returned pointer stays valid until the cache flushes
 * (see sl_name_cache_get) or is freed. Row-id functions write into a caller's
 * char[SL_DLT_ID_SIZE].
 *
 * Names follow DLT_COMPAT.md "Names". Lengths (max_len) count Unicode code
 * points as Python's len() does; 0 means "no limit". Input is UTF-8; bytes that
 * are not valid UTF-8 count as characters outside [a-zA-Z0-9_].
 */
#ifndef SLUICE_NAMING_H
#define SLUICE_NAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SL_NAME_MAX_ATHENA ((size_t)255)
#define SL_NAME_MAX_DUCKDB ((size_t)65536)
/* Length of the tag that shortening puts in the middle of a long name. */
#define SL_NAME_TAG_LEN 6
/* What an empty or blank key becomes (dlt's EMPTY_KEY_IDENTIFIER). */
#define SL_NAME_EMPTY "_empty"

/* ---- identifiers and paths ------------------------------------------------- */

/* Normalize one identifier with dlt's snake_case rules and shorten it to
 * max_len (0: no limit; otherwise at least SL_NAME_TAG_LEN). Empty or blank
 * input gives "_empty". The result has no "__" inside; it contains only
 * [a-z0-9_] and, as in dlt (Python's \d), Unicode decimal digits.
 * Errors: SL_INVALID_ARG (0 < max_len < 6), SL_NOMEM / SL_TOO_LARGE from out. */
sl_status sl_name_normalize(const char *in, size_t len, size_t max_len, sl_buf *out);

/* Normalize a source key the way dlt's relational normalizer does
 * (NamingConvention.normalize_path): the key is split at "__", blank pieces are
 * dropped, each piece is normalized (and shortened), the pieces are joined
 * with "__" and the whole is shortened again (its tag hashed from the raw key).
 * So "a__b" stays "a__b" and "Parent__Child" gives "parent__child".
 * A key with no non-blank piece gives "_empty" (dlt would produce an empty
 * name for "__"; sluice keeps it a usable column). */
sl_status sl_name_normalize_path(const char *in, size_t len, size_t max_len, sl_buf *out);

/* Join two already-normalized, *unshortened* paths with "__" and shorten the
 * result (dlt's shorten_fragments: the tag hashes the joined text). Blank parts
 * are skipped. To reproduce dlt's names for deep nesting keep the full joined
 * path of a parent (sl_name_join with max_len 0) and shorten only the final
 * name: dlt never joins an already shortened name. */
sl_status sl_name_join(const char *parent, size_t parent_len, const char *child, size_t child_len,
                       size_t max_len, sl_buf *out);

/* The name of the child table that holds the list under source key `key` of
 * parent path `parent_path` (the parent's unshortened table path, e.g. "pins"
 * or "pins__images"). full_path (may be NULL) receives the unshortened path to
 * pass to grandchildren; name receives the table name shortened to max_len. */
sl_status sl_name_child_table(const char *parent_path, size_t parent_len, const char *key,
                              size_t key_len, size_t max_len, sl_buf *full_path, sl_buf *name);

/* Shorten an already-normalized identifier to max_len the way dlt does:
 * first ceil((max_len-6)/2) characters + tag + last floor((max_len-6)/2)
 * characters, the tag computed from tag_src (the original text). Copies ident
 * unchanged when it fits. */
sl_status sl_name_shorten(const char *ident, size_t len, const char *tag_src, size_t tag_src_len,
                          size_t max_len, sl_buf *out);

/* The 6-character tag: SHAKE-128 of the bytes, first 4 bytes, base64 without
 * '=', '/'->'a', '+'->'b', lowercased. out gets 6 chars and a NUL. */
sl_status sl_name_tag(const char *src, size_t len, char out[SL_NAME_TAG_LEN + 1]);

/* True when s (len bytes) is already what sl_name_normalize would return for
 * it with no limit: cheap test that lets callers skip normalizing. */
bool sl_name_is_normalized(const char *s, size_t len);

/* ---- cache for the hot path ------------------------------------------------ */

/* Raw key bytes -> sl_name_normalize_path(key) result, so each distinct key is
 * normalized once. Bounded: when it holds max_entries names (or max_bytes of
 * them) it flushes, dropping every entry at once. Not thread-safe: one cache
 * per normalizer. */
typedef struct sl_name_cache sl_name_cache;

/* max_entries 0: 16384; max_bytes 0: 16 MiB. NULL on out of memory. */
sl_name_cache *sl_name_cache_new(size_t max_entries, size_t max_bytes);
void sl_name_cache_free(sl_name_cache *c);
/* The normalized path for key (len bytes, may hold NULs) at max_len. Returns
 * NULL only on out of memory or a bad max_len. The string (and *out_len, when
 * given) stays valid until this cache flushes, which can happen in any later
 * sl_name_cache_get that misses; sl_name_cache_flushes tells whether one did.
 * Copy what must outlive that. */
const char *sl_name_cache_get(sl_name_cache *c, const char *key, size_t len, size_t max_len,
                              size_t *out_len);
/* Counters for tests and stats. */
size_t sl_name_cache_size(const sl_name_cache *c);
uint64_t sl_name_cache_hits(const sl_name_cache *c);
uint64_t sl_name_cache_misses(const sl_name_cache *c);
uint64_t sl_name_cache_flushes(const sl_name_cache *c);

/* ---- row ids (_dlt_id) ----------------------------------------------------- */

/* 10 bytes in base64 without '=': 14 characters and a NUL. */
#define SL_DLT_ID_BYTES 10
#define SL_DLT_ID_SIZE 15

/* A random id (root rows): 10 bytes from OpenSSL's RAND_bytes, standard base64
 * without '='. Thread-safe: random bytes are drawn in blocks into a
 * per-thread buffer (refreshed after fork). SL_INTERNAL if RAND_bytes fails. */
sl_status sl_dlt_id_random(char out[SL_DLT_ID_SIZE]);

/* A child row's id: SHAKE-128 of "{parent_id}_{table}_{list_idx}" (table is
 * the child table's final, shortened name), first 10 bytes, base64 without
 * '='. Deterministic. */
sl_status sl_dlt_id_child(const char *parent_id, const char *table, int64_t list_idx,
                          char out[SL_DLT_ID_SIZE]);

/* One primary key value of a root row, for upsert ids. */
typedef enum sl_key_kind {
  SL_KEY_NULL = 0,
  SL_KEY_BOOL,
  SL_KEY_INT,
  SL_KEY_DOUBLE,
  SL_KEY_TEXT, /* s/len: the string's UTF-8 text (unescaped) */
  SL_KEY_JSON  /* s/len: the value already as compact JSON, written verbatim */
} sl_key_kind;

typedef struct sl_key_value {
  const char *name; /* normalized column name, NUL-terminated */
  sl_key_kind kind;
  bool b;
  int64_t i;
  double d;
  const char *s;
  size_t len;
} sl_key_value;

/* The id of a root row under merge strategy upsert (dlt's "key_hash" row id):
 * dlt hashes orjson.dumps({name: value, ...}, OPT_SORT_KEYS), i.e. the primary
 * key columns (normalized names, sorted by name, compact JSON, strings with
 * non-ASCII left raw) with SHAKE-128, 10 bytes, base64 without '='. Names are
 * sorted here; the caller's array is not changed. Values are the row's values
 * as they came from the source (before coercion). SL_INVALID_ARG if n == 0, a
 * name is NULL or repeated, or a DOUBLE is not finite. */
sl_status sl_dlt_id_from_keys(const sl_key_value *keys, size_t n, char out[SL_DLT_ID_SIZE]);

/* The text that sl_dlt_id_from_keys hashes, for tests and debugging. */
sl_status sl_dlt_key_json(const sl_key_value *keys, size_t n, sl_buf *out);

#ifdef __cplusplus
}
#endif
#endif
