/* Internal to libsluice: the source and resource structs, the table of
 * declarative resource kinds (file now, the REST kind later), and the extract
 * driver that runs a source's resources into a package's extract/ folder. */
#ifndef SLUICE_SOURCE_INT_H
#define SLUICE_SOURCE_INT_H

#include "sluice/json.h"
#include "sluice/normalize.h"
#include "sluice/source.h"

struct sl_resource {
  char *name, *parent, *table_name;
  char **primary_key, **merge_key; /* NULL-terminated or NULL */
  sl_write_disposition write_disposition;
  sl_merge_strategy merge_strategy;
  int max_table_nesting; /* -1: the source's */
  bool selected;
  sl_value *columns;     /* in the source's doc, or NULL */
  bool has_contract;
  sl_contract contract;
  char *hard_delete_column, *dedup_sort_column; /* from the column hints */
  char *table_format;    /* NULL, "iceberg" or "hive" */
  int dedup_sort_order;
  sl_resource_fn fn;
  void *ud;
  void (*free_ud)(void *ud);
  bool limit_pages; /* --limit counts pages (REST), not records */
  const sl_value *yaml; /* the YAML definition (positions for errors), or NULL */
  const struct sl__resource_kind *kind; /* declarative kind, or NULL (code) */
};

struct sl_source {
  char *name;
  int max_table_nesting; /* -1 when not set */
  bool has_contract;
  sl_contract contract;
  sl_doc *doc; /* owns the strings and values of the source and its resources */
  sl_resource **res;
  size_t nres, capres;
};

/* A declarative resource kind, chosen by its key in a resource (`file:`).
 * build fills def (fn, ud, free_ud) from spec, the value under the key (for a
 * kind with a source_key: the whole resource mapping, resource_defaults merged);
 * source_key names a top-level key the kind owns ("client" for REST), or NULL;
 * it is handed over as top (NULL when absent). */
typedef struct sl__resource_kind {
  const char *key;
  const char *source_key;
  bool limit_pages; /* the extract limit counts this kind's pages, not records */
  /* Optional: run several top-level resources of this kind at once (REST:
   * their pages in one curl multi loop). Sets done[i] for each emitter it ran
   * to the end; the driver runs the others one by one. */
  sl_status (*run_together)(sl_emitter **ems, size_t n, bool *done, sl_error *err);
  sl_status (*build)(sl_source *s, sl_resource_def *def, const sl_value *spec,
                     const sl_value *top, const sl_source_env *env, const char *file,
                     sl_error *err);
} sl__resource_kind;

extern const sl__resource_kind sl__resource_kinds[];
extern const size_t sl__resource_kind_count;

sl_status sl__rest_run_together(sl_emitter **ems, size_t n, bool *done, sl_error *err);
sl_status sl__rest_resource_build(sl_source *s, sl_resource_def *def, const sl_value *spec,
                                  const sl_value *top, const sl_source_env *env,
                                  const char *file, sl_error *err);
sl_status sl__file_resource_build(sl_source *s, sl_resource_def *def, const sl_value *spec,
                                  const sl_value *top, const sl_source_env *env,
                                  const char *file, sl_error *err);

/* The hints the normalizer needs for a resource's root table. The arrays
 * point into the resource; valid while the source lives. */
void sl__resource_hints(const sl_source *s, const sl_resource *r, sl_resource_hints *h);

/* Error with the position of a YAML value: "file:line:col: message". */
sl_status sl__err_at(sl_error *err, sl_status code, const char *file, const sl_value *v,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The closest of the candidates (NULL-terminated) to word, or NULL if none is near. */
const char *sl__did_you_mean(const char *word, const char *const *candidates);

/* ---- extract ------------------------------------------------------------------ */

typedef struct sl__extract_opts {
  const char *extract_dir;  /* the package's extract/ folder (exists) */
  uint64_t file_max_bytes;  /* rotate extract files past this size */
  int64_t limit;            /* >0: records per resource; pages for kinds with limit_pages */
  sl_doc *state_doc;        /* the state being built for the package */
  sl_value *resources_state; /* object: resource name -> state object */
  sl_config *config;
} sl__extract_opts;

typedef struct sl__extract_result {
  char *resource;   /* malloc'ed */
  unsigned files;   /* extract files <resource>.<i>.jsonl, i < files */
  uint64_t records;
  uint64_t bytes;
} sl__extract_result;

/* Run every resource of s (parents first; children per parent record) into
 * extract_dir. On success *res (malloc'ed, *nres entries, one per selected
 * resource) says what was written; free with sl__extract_results_free. */
sl_status sl__source_extract(sl_source *s, const sl__extract_opts *o, sl__extract_result **res,
                             size_t *nres, sl_error *err);
void sl__extract_results_free(sl__extract_result *res, size_t n);

/* ---- for kinds that drive their own requests (REST) ---------------------------- */

/* Called with every validated record before it is kept: set *keep to false to
 * drop it, or write a replacement record into out (left empty: keep as is). */
typedef sl_status (*sl__record_hook)(void *ud, const char *rec, size_t n, sl_buf *out, bool *keep,
                                     sl_error *err);
void sl__emit_set_hook(sl_emitter *em, sl__record_hook hook, void *ud);
/* Queue the records handed to children instead of running the children at
 * once; sl__emit_flush_children runs them (after the page is known whole). */
void sl__emit_defer_children(sl_emitter *em, bool on);
sl_status sl__emit_flush_children(sl_emitter *em, sl_error *err);
bool sl__emit_has_children(const sl_emitter *em);
/* A stream whose records are found as dlt does without a data_selector: a
 * top-level array's items; in an object, the first list under a usual key
 * (data, items, results, records, …); else the whole document. */
sl_status sl__emit_stream_begin_auto(sl_emitter *em, const char *name, sl_error *err);
const sl__extract_opts *sl__emit_opts(const sl_emitter *em);

/* Where an emitter's output stands; rewind drops everything written after the
 * mark (an HTTP body that broke off mid-way is retried from its start). */
typedef struct sl__emit_pos {
  unsigned files;
  bool open;
  uint64_t file_bytes, total_bytes, count;
  size_t deferred;
} sl__emit_pos;
void sl__emit_mark(sl_emitter *em, sl__emit_pos *pos);

/* Concurrent writers for one resource (the REST kind runs many child request
 * series at once): a fork has its own stream parser and one extract file
 * whose index it takes from the owner when it opens it (names stay
 * <resource>.<i>.jsonl, i < the owner's files). join closes the fork, adds its
 * counts to em and queues its deferred records on em; drop just frees it. */
sl_emitter *sl__emit_fork(sl_emitter *em);
sl_status sl__emit_join(sl_emitter *em, sl_emitter *fork, sl_error *err);
void sl__emit_drop_fork(sl_emitter *fork);
size_t sl__emit_nchildren(const sl_emitter *em);
sl_emitter *sl__emit_child(const sl_emitter *em, size_t i);
const sl_resource *sl__emit_resource(const sl_emitter *em);
/* The queued records ("rec\n" each); the caller frees the buffer. */
sl_buf sl__emit_take_deferred(sl_emitter *em);
/* Run a child resource's function for one parent record (the driver's way). */
sl_status sl__emit_run_child(sl_emitter *child, const sl_value *item, sl_error *err);
sl_status sl__emit_rewind(sl_emitter *em, const sl__emit_pos *pos, sl_error *err);

/* Test hook: SLUICE_TEST_CRASH=<point>:<n> kills the process with SIGKILL at
 * the n-th time the named point is passed (crash-safety tests). */
void sl__crash_point(const char *point);
/* Arm the hook from code (tests): "<point>:<n>", or NULL to disarm. */
void sl__crash_arm(const char *spec);

#endif
