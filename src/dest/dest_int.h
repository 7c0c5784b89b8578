/* Helpers shared by the destinations (internal): dlt's encoding of the stored
 * pipeline state, random row ids, and SQL text building. */
#ifndef SLUICE_DEST_INT_H
#define SLUICE_DEST_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/buf.h"
#include "sluice/dest.h"
#include "sluice/status.h"

/* dlt stores the state as base64(zlib(json)) (compress_state); append that to out. */
sl_status sl__dest_state_encode(const char *json, size_t len, sl_buf *out);
/* The reverse; a value that is not base64+zlib is taken as plain JSON text
 * (as dlt's decompress_state does). *json is malloc'ed. */
sl_status sl__dest_state_decode(const char *text, size_t len, char **json, sl_error *err);

/* dlt's uniq_id_base64(10): 10 random bytes, base64 without padding (14 chars + NUL). */
void sl__dest_random_id(char out[16]);

/* SQL text: "name" with embedded quotes doubled; 'text' likewise. */
sl_status sl__sql_ident(sl_buf *b, const char *name);
sl_status sl__sql_qualified(sl_buf *b, const char *schema, const char *table);
sl_status sl__sql_string(sl_buf *b, const char *s);

/* Statement text, for read-only checks: past whitespace and -- / block
 * comments; the word (letters, digits, _) at p and its length; whether a word
 * is kw in any case; where the statement at p ends (its ';' outside quotes
 * and comments, or the NUL); whether the first keyword (past comments and
 * opening parentheses) is one of words (NULL-terminated), with that keyword
 * in capitals in first either way. */
const char *sl__sql_skip_space(const char *p);
const char *sl__sql_word(const char *p, size_t *n);
bool sl__sql_word_is(const char *w, size_t n, const char *kw);
const char *sl__sql_statement_end(const char *p);
bool sl__sql_starts_with(const char *stmt, const char *const *words, char first[33]);

/* A query result as text cells, printed by sl__query_render for
 * `pipeline query` on every destination. The struct owns every string and
 * array in it until sl__query_result_free. */
typedef enum sl__cell_kind { SL_CELL_TEXT = 0, SL_CELL_NUMBER, SL_CELL_BOOL, SL_CELL_JSON } sl__cell_kind;
typedef struct sl__query_result {
  size_t ncols, nrows;
  char **names;         /* ncols column names (NULL when the engine gave none) */
  sl__cell_kind *kinds; /* ncols (NULL: all text) */
  char **cells;         /* nrows * ncols, row-major; NULL is SQL NULL */
} sl__query_result;
void sl__query_result_free(sl__query_result *r);
/* Append r as an aligned table (cells cut at 80 characters, control
 * characters escaped, "(N rows)" last), CSV with a header, or JSON lines (one
 * object per row; numbers, booleans and JSON cells unquoted). SL_TOO_LARGE
 * when out reaches its cap. */
sl_status sl__query_render(const sl__query_result *r, sl_query_format fmt, sl_buf *out);

#endif
