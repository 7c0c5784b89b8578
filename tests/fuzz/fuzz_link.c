/* Fuzz target for the header parsers of the HTTP engine: an RFC 8288 Link
 * header (the target of every rel found must be a substring of the input
 * between '<' and '>') and Retry-After (-1, or a finite number ≥ 0). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "sluice/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) return 0;
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  static const char *const rels[] = {"next", "prev", "last", "first", "NEXT", ""};
  for (size_t i = 0; i < sizeof rels / sizeof *rels; i++) {
    char *t = sl_http_link_rel(s, rels[i]);
    if (t) {
      if (!rels[i][0]) abort(); /* an empty rel never matches */
      if (strlen(t) > strlen(s)) abort();
      if (strchr(t, '>')) abort(); /* the target ends at the first '>' */
      free(t);
    }
  }
  double v = sl_http_retry_after(s);
  if (!(v == -1 || (v >= 0 && isfinite(v)))) abort();
  double d = sl__http_parse_date(s);
  if (!(d == -1 || isfinite(d))) abort();
  free(s);
  return 0;
}
