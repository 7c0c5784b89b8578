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

#endif
