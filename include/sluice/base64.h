/* sluice/base64.h — standard base64 (RFC 4648 alphabet "+/"), encode and decode.
 * Used by the destinations (dlt's stored state is base64 of zlib), the row ids
 * (_dlt_id is base64 of 10 bytes, without '='), and binary detection in the
 * normalizer (a text that is strict base64 may load as binary).
 *
 * Memory rule: the *_to forms write into the caller's memory and allocate
 * nothing; the sl_buf forms append to the caller's buffer.
 */
#ifndef SLUICE_BASE64_H
#define SLUICE_BASE64_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/buf.h"
#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Encoded length of n bytes, without the NUL. */
static inline size_t sl_base64_encoded_len(size_t n, bool pad) {
  return pad ? (n + 2) / 3 * 4 : n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}
/* Decoded length is at most this for len characters of text. */
static inline size_t sl_base64_decoded_max(size_t len) { return len / 4 * 3 + 3; }

/* Writes sl_base64_encoded_len(n, pad) characters and a NUL; returns the length. */
size_t sl_base64_encode_to(const void *data, size_t n, bool pad, char *out);
/* Appends the encoding to out. SL_TOO_LARGE / SL_NOMEM from the buffer. */
sl_status sl_base64_encode(const void *data, size_t n, bool pad, sl_buf *out);

typedef enum sl_base64_mode {
  /* Padding optional (trailing '=' ignored); every other character must be
   * of the alphabet; a length of 4k+1 characters is invalid. */
  SL_BASE64_LENIENT = 0,
  /* Python's b64decode(validate=True): a multiple of 4 characters, '=' only
   * as the last one or two, nothing else outside the alphabet. */
  SL_BASE64_STRICT = 1
} sl_base64_mode;

/* Decodes into out (room for sl_base64_decoded_max(len) bytes); *outn gets the
 * byte count. false when the text is not base64 under mode. */
bool sl_base64_decode_to(const char *text, size_t len, sl_base64_mode mode, void *out, size_t *outn);
/* Appends the decoded bytes to out (NUL-terminated); false when invalid or
 * out of memory. */
bool sl_base64_decode(const char *text, size_t len, sl_base64_mode mode, sl_buf *out);

#ifdef __cplusplus
}
#endif
#endif
