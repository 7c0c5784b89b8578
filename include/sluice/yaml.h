/* sluice/yaml.h — YAML (through libyaml) into the shared document tree, and
 * a block-style YAML writer.
 *
 * Memory rule: the returned sl_doc owns everything (see sluice/value.h); the
 * input text is not referenced after the call returns.
 *
 * Reading (only the first document of a stream; an empty stream is a null):
 *   - plain scalars are typed by the YAML 1.2 core schema: ~, null, empty ->
 *     null; true/false (also True, TRUE) -> boolean; [-+]?[0-9]+, 0o17, 0x1F ->
 *     SL_V_INT (past int64: SL_V_NUMBER, SL_NUM_BIGINT, decimal text); other
 *     numbers and .inf/-.inf/.nan -> SL_V_NUMBER with a normalized text ("1."
 *     -> "1.0", ".5" -> "0.5", no leading '+', "inf", "-inf", "nan");
 *     everything else (yes/no/on/off, dates) is a string. Quoted scalars and
 *     !!str are strings; !!int/!!float/!!bool/!!null on a quoted scalar type it.
 *   - mapping keys are the scalar's text, whatever its type ("1", "true");
 *     a sequence or mapping as a key is an error. A key that repeats keeps
 *     its last value (with a warning in the log), as PyYAML does.
 *   - anchors and aliases are resolved by deep copy. The values created by
 *     aliases are counted against max_alias_nodes, and the bytes of text they
 *     copy against 64 x max_alias_nodes, so an alias bomb fails early with
 *     SL_YAML_ALIAS instead of eating memory.
 *   - merge keys: "<<: *a" or "<<: [*a, *b]" (an unquoted "<<") copy the
 *     keys the mapping does not set itself; among several merged mappings the
 *     first one wins. Merged keys come first, in their mapping's order.
 *   - every value carries the 1-based line and column where it starts (an
 *     alias's copy: the alias's position).
 * Errors: SL_YAML_SYNTAX with err->file/line/col/offset and libyaml's message
 * ("mapping values are not allowed in this context (while parsing a block
 * mapping at line 1, column 1)"), also for nesting deeper than max_depth,
 * unknown or recursive aliases and bad merge values; SL_YAML_ALIAS past the
 * alias budget; SL_NOMEM. The doc is NULL on any error.
 */
#ifndef SLUICE_YAML_H
#define SLUICE_YAML_H

#include <stddef.h>

#include "sluice/status.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SL_YAML_MAX_FILE ((size_t)64 << 20) /* sl_yaml_parse_file's size limit */

typedef struct sl_yaml_options {
  size_t max_alias_nodes; /* total values created by alias expansion; 0 means 100,000 */
  unsigned max_depth;     /* 0 means 512 */
} sl_yaml_options;

/* Parse len bytes of text (UTF-8, or UTF-16 with a byte order mark). name is
 * used in error messages and kept as doc->name (NULL means "<string>").
 * opts may be NULL. err may be NULL; on success it is cleared. */
sl_doc *sl_yaml_parse(const char *text, size_t len, const char *name,
                      const sl_yaml_options *opts, sl_error *err);
/* Reads and parses a file. err->code is SL_NOT_FOUND when the file does not
 * exist, SL_IO when it cannot be read, SL_TOO_LARGE past SL_YAML_MAX_FILE. */
sl_doc *sl_yaml_parse_file(const char *path, const sl_yaml_options *opts, sl_error *err);

/* Append a tree to out as block-style YAML (for exported schemas and
 * generated sources): two-space indentation, "- " items, members in tree
 * order, empty collections as [] and {}, one trailing newline; the same tree
 * always gives the same bytes, and parsing them gives an equal tree
 * (sl_v_equal; DATETIME values come back as strings).
 * Strings are plain unless that would change their meaning, else
 * double-quoted with escapes: empty, leading/trailing space, words a YAML 1.1
 * or 1.2 reader types (true, no, on, null, ~, <<, ...), anything starting
 * like a number ("12", "1.5", "2024-01-01"), a leading indicator (- ? : , [ ]
 * { } # & * ! | > ' " % @ `), ": " or " #" inside, a trailing ':', control
 * and line-break characters (\n \t \xNN \uNNNN). Bytes that are not UTF-8
 * are written as \xNN (read back as U+00NN). Keys longer than 1000 bytes are
 * written as explicit "? key" entries. NULL is written as null. Does not
 * recurse on depth. SL_NOMEM / SL_TOO_LARGE from the buffer. */
sl_status sl_yaml_emit(const sl_value *v, sl_buf *out);

#ifdef __cplusplus
}
#endif
#endif
