/* Fuzz target for the S3 XML reader: any input either parses, reporting only
 * paths of at most 16 levels and NUL-free-terminated text, or fails with
 * SL_INVALID_ARG and "malformed XML at byte N" where N is inside the input.
 * sl_xml_find on the same input never returns text for a failed parse. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/aws.h"

static sl_status cb(void *ud, const char *path, const char *text, size_t n) {
  size_t *count = ud;
  (*count)++;
  int depth = 1;
  for (const char *p = path; *p; p++) depth += *p == '/';
  if (!*path || depth > 16 || strlen(path) >= 512) abort();
  if (text[n] != '\0') abort();
  return SL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t count = 0;
  sl_error err;
  sl_error_clear(&err);
  sl_status st = sl_xml_parse((const char *)data, size, cb, &count, &err);
  if (st != SL_OK) {
    if (st != SL_INVALID_ARG) abort();
    long long at = -1;
    const char *m = strstr(err.msg, "malformed XML at byte ");
    if (!m || sscanf(m + 22, "%lld", &at) != 1 || at < 0 || (size_t)at > size) abort();
    char *f = sl_xml_find((const char *)data, size, "Error/Code");
    if (f) abort();
  } else {
    char *f = sl_xml_find((const char *)data, size, "ListBucketResult/Contents/Key");
    free(f);
  }
  return 0;
}
