/* sluice/source.h — sources and resources: what produces the records that a
 * pipeline's extract stage writes into a load package.
 *
 * Memory rule: an sl_source owns its resources and a copy of every string and
 * value given to it (definitions, YAML trees) until sl_source_free; a
 * resource's user data stays the caller's, and is handed to its free_ud (when
 * set) by sl_source_free. Everything a resource function receives while it
 * runs (the emitter, the parent item, the state object) is borrowed and valid
 * only during that call.
 *
 * A resource is a function that emits JSON records through an sl_emitter:
 * one record at a time (text or tree), a page of JSON bytes with a data
 * selector, or a stream of bytes of any chunk size (a file, an HTTP body)
 * parsed as it arrives. Every record is validated as JSON before it is kept.
 * A resource with a parent runs once per record of its parent, with that
 * record as a tree; a parent that is not `selected` is still run for its
 * children but its records are not loaded.
 *
 * Declarative sources come from YAML (dlt's rest_api dict shape): top-level
 * keys name, max_table_nesting, schema_contract, resource_defaults, resources.
 * Resource kinds are chosen by key: `file:` (JSON Lines / JSON / data
 * selector, plain or gzip, one file, a glob or a folder). The REST kind
 * (`endpoint:`, with the top-level `client:`) plugs into the same table of
 * kinds (src/source/source_int.h).
 */
#ifndef SLUICE_SOURCE_H
#define SLUICE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/config.h"
#include "sluice/schema.h"
#include "sluice/status.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_emitter sl_emitter;
typedef struct sl_source sl_source;
typedef struct sl_resource sl_resource;

/* Produce the resource's records through em. parent_item is the parent's
 * record for a child resource, NULL otherwise. Return SL_OK when done (also
 * after sl_emit_stopped turned true), or an error with err filled: the run
 * fails and nothing of its package is loaded. */
typedef sl_status (*sl_resource_fn)(sl_emitter *em, const sl_value *parent_item, void *ud,
                                    sl_error *err);

/* A resource defined in code. Initialise with sl_resource_def_init, then set
 * what applies; every pointer is copied by sl_source_add_resource. */
typedef struct sl_resource_def {
  const char *name;        /* required: letters, digits, '_', '-', '.' */
  const char *parent;      /* name of the parent resource, or NULL */
  const char *table_name;  /* NULL: the resource name */
  const char **primary_key; /* NULL-terminated column names, or NULL */
  const char **merge_key;   /* NULL-terminated, or NULL */
  sl_write_disposition write_disposition; /* default append */
  sl_merge_strategy merge_strategy;       /* default delete-insert */
  int max_table_nesting;   /* -1 (default): the source's */
  bool selected;           /* default true */
  const sl_value *columns; /* optional column hints {name: {data_type, …}} */
  const sl_contract *contract; /* NULL: the source's */
  const char *table_format; /* NULL (the destination's default), "iceberg" or "hive" (Athena) */
  sl_resource_fn fn;       /* required */
  void *ud;
  void (*free_ud)(void *ud);
} sl_resource_def;

void sl_resource_def_init(sl_resource_def *def);

/* ---- sources ---------------------------------------------------------------- */

/* Where a declarative source's relative paths and ${…} references resolve. */
typedef struct sl_source_env {
  const char *base_dir; /* relative file paths; NULL means "." */
  sl_config *config;    /* for ${section.key} references; may be NULL */
} sl_source_env;

/* An empty source (resources added in code). */
sl_source *sl_source_new(const char *name);
/* Parse and validate a source YAML: unknown keys (with a "did you mean"),
 * wrong types and bad values fail with file, line and column before anything
 * runs. name is used in errors (a path or "<string>"). */
sl_source *sl_source_from_yaml(const char *text, size_t len, const char *name,
                               const sl_source_env *env, sl_error *err);
sl_source *sl_source_load_file(const char *path, const sl_source_env *env, sl_error *err);
/* Add the resources of another YAML text to s (same validation). */
sl_status sl_source_add_yaml(sl_source *s, const char *text, size_t len, const char *name,
                             const sl_source_env *env, sl_error *err);
sl_status sl_source_add_resource(sl_source *s, const sl_resource_def *def, sl_error *err);
void sl_source_free(sl_source *s);

const char *sl_source_name(const sl_source *s);
int sl_source_max_table_nesting(const sl_source *s); /* -1 when not set */
const sl_contract *sl_source_contract(const sl_source *s); /* NULL when not set */
size_t sl_source_resource_count(const sl_source *s);
const sl_resource *sl_source_resource_at(const sl_source *s, size_t i);
const sl_resource *sl_source_find(const sl_source *s, const char *name);

/* What the pipeline needs from a resource. */
const char *sl_resource_name(const sl_resource *r);
const char *sl_resource_parent(const sl_resource *r);
const char *sl_resource_table(const sl_resource *r); /* table_name or name */
bool sl_resource_selected(const sl_resource *r);
sl_write_disposition sl_resource_write_disposition(const sl_resource *r);

/* ---- the emitter: what a resource writes records through ---------------------- */

/* One record as JSON text (any JSON value; a non-object becomes {"value": x}
 * in its table). Invalid JSON fails with SL_JSON_* and the position. */
sl_status sl_emit_json(sl_emitter *em, const char *json, size_t len, sl_error *err);
/* One record as a tree. */
sl_status sl_emit_value(sl_emitter *em, const sl_value *record, sl_error *err);
/* A whole JSON document (a page); records are chosen by data_selector:
 * a dotted path with optional [*] / [N] steps ("data", "results[*].items",
 * "$.data"); the selected value's items when it is an array, else the value.
 * NULL or "$": the document itself (its items when it is an array). */
sl_status sl_emit_page(sl_emitter *em, const char *json, size_t len, const char *data_selector,
                       sl_error *err);

/* The same as a stream, in chunks of any size (a file, an HTTP body): memory
 * stays flat whatever the document's size. lines: the input is JSON Lines (a
 * sequence of values, each a record or, with a selector, a document to select
 * from). name is used in error messages (a file or URL). */
sl_status sl_emit_stream_begin(sl_emitter *em, const char *data_selector, bool lines,
                               const char *name, sl_error *err);
sl_status sl_emit_stream_feed(sl_emitter *em, const void *bytes, size_t len, sl_error *err);
sl_status sl_emit_stream_end(sl_emitter *em, sl_error *err);

/* True when the resource should stop producing (a --limit was reached);
 * further records are ignored. */
bool sl_emit_stopped(const sl_emitter *em);
/* Records kept so far in this run by this resource. */
uint64_t sl_emit_count(const sl_emitter *em);
const char *sl_emit_resource_name(const sl_emitter *em);
/* The resource's state object (created empty on first use), changed in place
 * with the value.h constructors on sl_emit_state_doc. It is committed with
 * the load package: the next run sees the changes only once this run's
 * package is loaded. */
sl_value *sl_emit_state(sl_emitter *em);
sl_doc *sl_emit_state_doc(sl_emitter *em);
/* Config (for resources that look up their own settings); may be NULL. */
sl_config *sl_emit_config(sl_emitter *em);

#ifdef __cplusplus
}
#endif
#endif
