/* The parsers bench_json compares against, each in its own file because the
 * json-c and jansson headers cannot be included together. Each parses the
 * whole buffer into its tree and frees it; returns the number of top-level
 * members (the benchmark document has 2), or -1 on failure. */
#ifndef BENCH_JSON_OTHERS_H
#define BENCH_JSON_OTHERS_H
#include <stddef.h>
int other_jsonc_parse(const char *doc, size_t len);
int other_jansson_parse(const char *doc, size_t len);
int other_cjson_parse(const char *doc, size_t len);
#endif
