/* Internal model of the `sluice init` generator: one gres per GET operation,
 * built by init_analyze.c, linked by init_link.c, written by init_emit.c. */
#ifndef SLUICE_INIT_INT_H
#define SLUICE_INIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/openapi.h"
#include "sluice/value.h"

#define GEN_MAX_SEGS 32
#define GEN_MAX_INCLUDE 8

typedef struct gres {
  sl_openapi_op op;
  const char *path;      /* as in the spec */
  char *name;
  const char *summary;   /* one line (arena) */
  const char *segs[GEN_MAX_SEGS]; /* path segments; variables keep their braces */
  size_t nsegs;
  const char *vars[GEN_MAX_SEGS]; /* path variable names in order */
  size_t nvars;
  bool is_list;
  const sl_value *item;  /* merged item schema (list item or the object), may be NULL */
  const char *selector;  /* "items", "$" */
  /* paginator */
  const char *pag;       /* "cursor" "offset" "page_number" "json_link" "header_link" "single_page" */
  const char *cursor_param, *cursor_path, *next_url_path, *total_path;
  const char *size_param, *offset_param, *page_param;
  int64_t page_size, base_page;
  const char *pk;
  /* params: name -> value (string/int/bool, or a resolve object), in this doc */
  sl_value *params;
  int parent;            /* index or -1 */
  const char *include[GEN_MAX_INCLUDE];
  size_t ninclude;
  size_t nresolved, nderived;
  char *reason;          /* disabled when set */
  char *notes;           /* extra comment lines (each "# ...\n") or NULL */
  bool uses_dates;
  /* a required start/end date pair: an incremental window (see init_link.c) */
  const char *date_start, *date_end;
  int64_t span_days, lookback_days, initial_days;
  bool span_stated;
  bool linked;           /* parent resolution done */
} gres;

typedef struct gen {
  sl_openapi *spec;
  const sl_init_options *opts;
  sl_doc *doc; /* values built for the YAML */
  sl_arena *a;
  gres *res;
  size_t nres;
  const char *source;  /* opts->name */
  bool need_dates;
  sl_error *err;
} gen;

char *gen_printf(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl__init_analyze(gen *g, gres *r);
void sl__init_name(gen *g);
void sl__init_link(gen *g);
void sl__init_params(gen *g, gres *r);
/* singular/plural helpers */
bool sl__init_plural_of(const char *plural, size_t plen, const char *stem, size_t slen);
const sl_value *sl__init_prop(gen *g, const sl_value *schema, const char *name);

#endif
