/* sluice/openapi.h — reading OpenAPI 3.0/3.1 specs (YAML or JSON, a file or
 * an http(s) URL), and the `sluice init` generator that turns one into a
 * runnable rest_api source.
 *
 * Memory rule: an sl_openapi owns its document and every value any of its
 * functions returns (merged schemas included) until sl_openapi_free; an
 * sl_init_result owns all its strings until sl_init_result_free, and does not
 * refer to the spec it came from.
 */
#ifndef SLUICE_OPENAPI_H
#define SLUICE_OPENAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/status.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_openapi sl_openapi;

#define SL_OPENAPI_MAX_BYTES ((size_t)64 << 20) /* a spec larger than this is refused */

/* Load from a path or an http(s):// URL. The text is JSON when it starts with
 * '{', else YAML. Checked before returning: `openapi: 3.0.x|3.1.x` (Swagger 2
 * is refused by name), `paths` is a mapping, and every `$ref` is a pointer
 * into this file that resolves and does not loop through `$ref`s only.
 * Errors carry the file (or URL), line and column, and for a bad `$ref` the
 * pointer: SL_NOT_FOUND, SL_IO, SL_HTTP (with the status), SL_TOO_LARGE,
 * SL_JSON_*, SL_YAML_*, SL_SOURCE (not a usable OpenAPI document). */
sl_openapi *sl_openapi_load(const char *file_or_url, sl_error *err);
/* The same from text; name is used in errors. */
sl_openapi *sl_openapi_parse(const char *text, size_t len, const char *name, sl_error *err);
void sl_openapi_free(sl_openapi *spec);

const sl_value *sl_openapi_root(const sl_openapi *spec);
const char *sl_openapi_name(const sl_openapi *spec);    /* file or URL */
const char *sl_openapi_version(const sl_openapi *spec); /* "3.0.3" */

/* A JSON pointer ("#/components/schemas/Pin", "~0" "~1" and %XX decoded) into
 * the document, or NULL when it does not resolve. */
const sl_value *sl_openapi_pointer(const sl_openapi *spec, const char *ref);
/* v itself, or what its `$ref` chain ends at (NULL when it cannot resolve). */
const sl_value *sl_openapi_deref(const sl_openapi *spec, const sl_value *v);

/* A schema with `$ref`s followed and `allOf` / `oneOf` / `anyOf` merged, for
 * the shape of a response: properties of every part (allOf: later parts win;
 * oneOf/anyOf: the first that names a property wins), `required` of allOf
 * parts united, `type` and `items` from the first part that has them. An
 * `items` child without `type` makes the result an array. Nested property
 * schemas are left as they are (merge them on demand), so recursive schemas
 * cost nothing; merging stops 32 levels deep. NULL for NULL. */
const sl_value *sl_openapi_schema(sl_openapi *spec, const sl_value *schema);
/* The schema's type: its `type` (the first that is not "null" when a list),
 * else "array" when it has `items`, "object" when it has `properties`, else
 * NULL. The schema should be merged first. */
const char *sl_openapi_schema_type(const sl_value *schema);

/* ---- operations -------------------------------------------------------------- */

typedef struct sl_openapi_op {
  const char *method; /* lower case: "get" */
  const char *path;   /* "/ad_accounts/{ad_account_id}/campaigns" */
  const sl_value *op; /* the operation object */
  const sl_value *path_item;
} sl_openapi_op;

/* The operations with method (lower case, e.g. "get") in document order.
 * *ops is owned by the spec. */
size_t sl_openapi_operations(sl_openapi *spec, const char *method, const sl_openapi_op **ops);
/* The operation's parameters, path-level ones first unless the operation
 * overrides them (same name and in), `$ref`s followed. Returns the count; *out
 * is owned by the spec (valid until the next call). */
size_t sl_openapi_params(sl_openapi *spec, const sl_openapi_op *op, const sl_value ***out);
/* The merged schema of the success response (200, 201, 2XX, then default) as
 * application/json (or any JSON media type, else the first media type), or
 * NULL when none is declared. */
const sl_value *sl_openapi_response_schema(sl_openapi *spec, const sl_openapi_op *op);

/* ---- the `sluice init` generator -------------------------------------------- */

typedef struct sl_init_options {
  const char *name;          /* the source name: [a-z0-9_], required */
  const char *destination;   /* "duckdb" (default), "athena", "filesystem" */
  const char *const *endpoints; /* glob patterns on paths ("/ad_accounts*"); NULL: all */
  size_t nendpoints;
  int64_t global_limit;      /* pages per resource; 0: no limit */
  const char *spec_location; /* written into comments; NULL: the spec's name */
} sl_init_options;

typedef struct sl_init_resource {
  char *name;          /* resource name, unique */
  char *path;          /* the GET path */
  char *summary;       /* one line, may be empty */
  char *parent;        /* parent resource or NULL */
  char *data_selector; /* "items", "$", ... */
  char *paginator;     /* "cursor", "offset", "page_number", "json_link",
                          "header_link", "single_page" */
  char *primary_key;   /* or NULL */
  char *disabled_reason; /* NULL when selected */
  int64_t page_size;   /* 0: not set */
  size_t nresolved;    /* params resolved from a parent */
  bool date_window;    /* start/end date params became an incremental window */
  int64_t range_span_days;     /* the longest range one request asks (0: none) */
  int64_t range_lookback_days; /* how far back the API goes, as the spec says (0: not said) */
} sl_init_resource;

typedef struct sl_init_result {
  size_t get_operations;  /* GET operations in the spec */
  size_t matched;         /* of them, matching --endpoints */
  sl_init_resource *resources;
  size_t nresources;
  size_t nselected;
  size_t resolved_params; /* path and query params resolved from a parent list */
  size_t derived_params;  /* required query params set from default/enum/dates */
  size_t date_windows;    /* selected resources with an incremental date window */
  char *auth;             /* "oauth2_refresh_token (token URL …)", "bearer", "none" ... */
  char *base_url;
  /* The files, as text. */
  char *source_yaml;
  char *config_toml;
  char *secrets_toml;
  char *pipeline_toml;
  char *gitignore;
} sl_init_result;

/* Analyse the spec and produce the files. SL_INVALID_ARG for a bad name or
 * destination, SL_NOT_FOUND when no GET operation matches. The same spec and
 * options give the same bytes. */
sl_init_result *sl_init_generate(sl_openapi *spec, const sl_init_options *opts, sl_error *err);
void sl_init_result_free(sl_init_result *r);
const sl_init_resource *sl_init_find(const sl_init_result *r, const char *name);
/* The resource generated for a GET path, or NULL. */
const sl_init_resource *sl_init_find_path(const sl_init_result *r, const char *path);

/* Write NAME.source.yaml, sluice.toml, .sluice/config.toml,
 * .sluice/secrets.toml (mode 0600) and .gitignore into dir (created). Fails
 * with SL_EXISTS naming the first file that exists unless force. */
sl_status sl_init_write(const sl_init_result *r, const char *name, const char *dir, bool force,
                        sl_error *err);
/* The human report: counts, paginators by type, resolved params, disabled
 * resources with their reasons, auth. */
void sl_init_report(const sl_init_result *r, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
