/* sluice/toml.h — TOML 1.0 reader into the shared document tree.
 *
 * Memory rule: the returned sl_doc owns everything (see sluice/value.h); the
 * input text is not referenced after the call returns.
 *
 * Tables become SL_V_OBJECT, arrays SL_V_ARRAY, integers SL_V_INT, floats
 * SL_V_NUMBER (kind SL_NUM_DOUBLE, inf/nan included), dates and times
 * SL_V_DATETIME with their dtkind. Every value carries its line and column.
 * Errors (duplicate keys, redefined tables, bad escapes, …) report file,
 * line and column.
 */
#ifndef SLUICE_TOML_H
#define SLUICE_TOML_H

#include <stddef.h>

#include "sluice/status.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* name is used in error messages (a file path or "<string>"). */
sl_doc *sl_toml_parse(const char *text, size_t len, const char *name, sl_error *err);
/* SL_NOT_FOUND in err->code when the file does not exist. */
sl_doc *sl_toml_parse_file(const char *path, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
