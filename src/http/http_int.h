/* http_int.h — what the HTTP engine's files share: URL decoding, the host key
 * that per-host limits are kept by, URL redaction and HTTP-date parsing. */
#ifndef SLUICE_HTTP_INT_H
#define SLUICE_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/buf.h"
#include "sluice/status.h"

/* Append the percent-decoded s (and '+' as a space when plus_is_space). */
sl_status sl__url_decode(sl_buf *out, const char *s, size_t len, bool plus_is_space);
/* "scheme://host:port" (host lower-cased, default port filled in);
 * SL_INVALID_ARG for a URL that is not http(s). */
sl_status sl__url_host_key(const char *url, char *out, size_t size);
/* The URL with every registered secret (in any percent-encoding) and every
 * value of a secret-named query parameter replaced by "***". Returns dst. */
char *sl__http_redact_url(char *dst, size_t size, const char *url);
/* An HTTP date (IMF-fixdate, RFC 850, asctime) as epoch seconds, or -1. */
double sl__http_parse_date(const char *s);

#endif
