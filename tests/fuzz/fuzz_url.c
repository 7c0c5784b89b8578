/* Fuzz target for the URL helpers on hostile input: the input is split at
 * the first two NUL-free '\n' into base, reference and a parameter value.
 * sl_url_resolve and sl_url_set_param either fail cleanly or give an
 * http(s) URL that resolves again; the parameter comes back exactly once;
 * sl__http_redact_url never grows past its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "sluice/http.h"
#include "sluice/log.h"

static char *part(const char **p, const char *end) {
  const char *nl = memchr(*p, '\n', (size_t)(end - *p));
  const char *stop = nl ? nl : end;
  size_t n = (size_t)(stop - *p);
  char *s = malloc(n + 1);
  if (!s) abort();
  memcpy(s, *p, n);
  s[n] = '\0';
  for (size_t i = 0; i < n; i++)
    if (!s[i]) s[i] = ' ';
  *p = nl ? nl + 1 : end;
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 16384) return 0;
  static int once;
  if (!once) {
    sl_secret_register("fuzz-secret-value");
    once = 1;
  }
  const char *p = (const char *)data, *end = p + size;
  char *base = part(&p, end), *ref = part(&p, end), *val = part(&p, end);
  char *out = NULL, *again = NULL;
  sl_error e;
  if (sl_url_resolve(base, ref, &out, &e) == SL_OK) {
    if (!out || (strncmp(out, "http://", 7) != 0 && strncmp(out, "https://", 8) != 0)) abort();
    /* a resolved URL is a valid base for itself */
    if (sl_url_resolve(out, out, &again, &e) != SL_OK) abort();
    free(again);
    again = NULL;
    if (sl_url_set_param(out, "p", val, &again, &e) == SL_OK) {
      const char *q = strchr(again, '?');
      if (!q) abort();
      char *twice = NULL;
      /* setting it again replaces, never adds */
      if (sl_url_set_param(again, "p", val, &twice, &e) != SL_OK) abort();
      if (strcmp(twice, again) != 0) abort();
      free(twice);
    }
    free(again);
    char red[64];
    sl__http_redact_url(red, sizeof red, out);
    if (strlen(red) >= sizeof red) abort();
    free(out);
  } else if (out) {
    abort();
  }
  char big[512];
  sl__http_redact_url(big, sizeof big, ref);
  if (strstr(big, "fuzz-secret-value")) abort();
  free(base);
  free(ref);
  free(val);
  return 0;
}
