/* sluice/toml.h — TOML 1.0 reader into the shared document tree.
 *
 * Memory rule: the returned sl_doc owns everything (see sluice/value.h); the
 * input text is not referenced after the call returns.
 *
 * Mapping:
 *   tables, inline tables      SL_V_OBJECT, keys in document order
 *   arrays, arrays of tables   SL_V_ARRAY
 *   integers                   SL_V_INT (beyond int64 is an error, not a bigint)
 *   floats                     SL_V_NUMBER, kind SL_NUM_DOUBLE, inf/nan included;
 *                              num.text is the source text without '_' and
 *                              without a leading '+' ("1e400", "-inf", "nan")
 *   booleans                   SL_V_BOOL
 *   dates and times            SL_V_DATETIME with their sl_dtkind; s.ptr is the
 *                              text as written, with the date/time separator
 *                              ('t' or a space) written 'T' and 'z' written 'Z'
 *                              ("1979-05-27T07:32:00.999999-07:00")
 *   strings                    SL_V_STRING, escapes decoded (may hold NULs: use
 *                              s.len); CRLF in multi-line strings reads as LF
 * Every value carries the line and column (in characters, 1-based) where it
 * starts; a table made by a header carries the header's position.
 *
 * Accepted beyond the letter of the spec: a leading UTF-8 byte order mark.
 * Leap seconds (:60) are accepted; year 0000 is not. Tables, arrays and
 * inline tables nest at most SL_TOML_MAX_DEPTH levels (a clear error past it).
 *
 * Errors: SL_TOML_SYNTAX for anything the spec rejects (duplicate keys,
 * redefined tables, bad escapes, invalid UTF-8, out-of-range dates, ...), with
 * err->file, line, col and offset pointing at the offending token and a
 * message saying what was wrong ("duplicate key 'x' (first defined at line
 * 3)"). SL_NOMEM when memory runs out. The doc is NULL on any error.
 */
#ifndef SLUICE_TOML_H
#define SLUICE_TOML_H

#include <stddef.h>

#include "sluice/status.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SL_TOML_MAX_DEPTH 256
#define SL_TOML_MAX_FILE ((size_t)64 << 20) /* sl_toml_parse_file's size limit */

/* Parse len bytes of text (need not be NUL-terminated). name is used in error
 * messages and kept as doc->name (a file path; NULL means "<string>").
 * err may be NULL; on success it is cleared. */
sl_doc *sl_toml_parse(const char *text, size_t len, const char *name, sl_error *err);
/* Reads and parses a file. err->code is SL_NOT_FOUND when the file does not
 * exist, SL_IO when it cannot be read, SL_TOO_LARGE past SL_TOML_MAX_FILE;
 * the message names the path. */
sl_doc *sl_toml_parse_file(const char *path, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
