/* sluice/json.h — incremental (push) JSON parser, JSON writer, and tree builder.
 *
 * Memory rule: the parser owns its internal buffers until sl_json_parser_free;
 * the string views in an event are valid only during the callback that
 * receives them (copy what you keep). Trees built by sl_json_parse_doc are
 * owned by the returned sl_doc (see sluice/value.h).
 *
 * The parser takes bytes in chunks of any size (down to one byte) as they
 * arrive from the network or a file, and emits events; it never needs the
 * whole document. It is strict RFC 8259 (no comments, no trailing commas, no
 * leading zeros, no lone surrogates, valid UTF-8 only, no raw control
 * characters in strings, no trailing garbage), limits depth without recursion,
 * and reports errors with byte offset, line and column.
 */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/status.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sl_json_ev {
  SL_JSON_NULL = 0,
  SL_JSON_FALSE,
  SL_JSON_TRUE,
  SL_JSON_NUMBER, /* str/len = exact number text; numkind, i64 (INT64), f64 set */
  SL_JSON_STRING, /* str/len = unescaped UTF-8 (may contain NUL from \u0000); a view
                     into the fed chunk when the string lies whole in it and has no
                     escapes, else into the parser's buffer */
  SL_JSON_KEY,    /* object member name, unescaped; the value's events follow */
  SL_JSON_OBJECT_BEGIN,
  SL_JSON_OBJECT_END,
  SL_JSON_ARRAY_BEGIN,
  SL_JSON_ARRAY_END
} sl_json_ev;

typedef struct sl_json_event {
  sl_json_ev type;
  uint32_t depth;     /* nesting depth of the container the event is in (0 = top level) */
  const char *str;    /* KEY, STRING, NUMBER: view valid only during the callback */
  size_t len;
  sl_numkind numkind; /* NUMBER */
  int64_t i64;        /* NUMBER with numkind == SL_NUM_INT64 */
  double f64;         /* NUMBER: nearest double */
  int64_t offset;     /* byte offset where the token starts (for *_END: the bracket) */
  uint32_t line, col; /* where the token starts, 1-based; col counts bytes */
} sl_json_event;

/* Return 0 to continue; any other value stops parsing: sl_json_feed then
 * returns SL_ABORTED (err says "parsing stopped by the callback", located at
 * the event's token; the caller knows the real reason). */
typedef int (*sl_json_callback)(void *ud, const sl_json_event *ev);

typedef struct sl_json_options {
  uint32_t max_depth;       /* default 1024 (0 means default) */
  size_t max_string;        /* longest string/key/number in bytes; 0 means 256 MiB */
  bool multi;               /* accept a stream of top-level values separated by
                               whitespace (JSON Lines); each ends at depth 0.
                               At least one whitespace byte must separate two
                               values ("{}{}" is an error); empty input is an
                               empty stream */
  const char *name;         /* file or URL for error messages (err->file); may be NULL */
} sl_json_options;

/* Errors (err->offset, err->line, err->col always set; col counts bytes):
 *   SL_JSON_SYNTAX  the text is not JSON; the message says what was expected
 *                   and what was found ("expected ',' or '}' after object
 *                   member, found ']'")
 *   SL_JSON_UTF8    a string holds bytes that are not valid UTF-8
 *   SL_JSON_DEPTH   more than max_depth nested arrays/objects
 *   SL_TOO_LARGE    a string, key or number longer than max_string
 *   SL_ABORTED      the callback returned non-zero
 *   SL_NOMEM        out of memory
 * Numbers: the event keeps the exact text; numkind is SL_NUM_INT64 (i64 set),
 * SL_NUM_BIGINT (an integer beyond int64), SL_NUM_DECIMAL (a fraction, no
 * exponent) or SL_NUM_DOUBLE (an exponent); f64 is the nearest double. */

typedef struct sl_json_parser sl_json_parser;

/* opts may be NULL for defaults; cb may be NULL (validate only). NULL on out of memory. */
sl_json_parser *sl_json_parser_new(const sl_json_options *opts, sl_json_callback cb, void *ud);
void sl_json_parser_free(sl_json_parser *p);
/* Reuse for a new document with the same options and callback. */
void sl_json_parser_reset(sl_json_parser *p);
/* Feed the next chunk. On error, err holds the message, offset, line and column,
 * and the parser stays in the error state (further feeds return the same code). */
sl_status sl_json_feed(sl_json_parser *p, const char *chunk, size_t len, sl_error *err);
/* End of input: fails if a value is incomplete (or, unless multi, if there was none). */
sl_status sl_json_finish(sl_json_parser *p, sl_error *err);
/* Bytes fed so far, and the current line (1-based): for progress and errors.
 * Inside a callback the line is that of the event's token. */
int64_t sl_json_offset(const sl_json_parser *p);
uint32_t sl_json_line(const sl_json_parser *p);

/* Whole-document convenience: parse text into a tree through the same parser
 * (default limits). name is used in errors and as doc->name ("<string>" when
 * NULL). Integers that fit int64 become SL_V_INT; other numbers SL_V_NUMBER
 * with their exact text and kind; every value carries its line and col.
 * parse_file fails with SL_NOT_FOUND or SL_IO when the file cannot be read. */
sl_doc *sl_json_parse_doc(const char *text, size_t len, const char *name, sl_error *err);
sl_doc *sl_json_parse_file(const char *path, sl_error *err);

/* ---- writer --------------------------------------------------------------- */

/* Append s as a JSON string literal (with quotes), escaping ", \, control
 * characters (as \n \t … or \u00XX). Invalid UTF-8 bytes become U+FFFD. */
sl_status sl_json_write_string(sl_buf *out, const char *s, size_t len);

/* Classify number text the way the parser does (text must be valid JSON number). */
sl_numkind sl_json_classify_number(const char *s, size_t len, int64_t *i64, double *f64);

#ifdef __cplusplus
}
#endif
#endif
