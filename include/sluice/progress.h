/* sluice/progress.h — what a run is doing while it runs: the progress
 * collector the stages report to, and that prints a live bar, log lines, or
 * nothing ([pipeline] progress = "bar" | "log" | "none").
 *
 * The pipeline makes one collector per sl_pipeline_run and installs it as the
 * process's current collector (sl_progress_current) for the run's duration,
 * so code that has no pipeline handle (a REST resource, the HTTP engine's
 * caller) reports through it:
 *
 *     sl_progress_page(sl_progress_current(), "pins", body_bytes);   per page
 *     sl_progress_http(sl_progress_current(), &figures); engine figures, once
 *                                                         at the end of extract
 *
 * (sl_progress_http_stats has the fields of sl_http_stats in sluice/http.h, so
 * the HTTP engine's caller copies them field by field.)
 *
 * Every function accepts a NULL collector and then does nothing, so callers
 * never test. All functions are thread-safe (one mutex per collector).
 *
 * Log lines (mode "log") go to stdout, as dlt's `log` collector prints them,
 * at most once per log period (default 1 s, [pipeline] log_period) and once
 * when a stage ends:
 *
 *   ------------------------- Extract shop (1732800000.1) -------------------------
 *   Resources: 1/2 (50.0%) | Time: 1.02s | Rate: 0.98/s
 *   pins: 1200 items, 12 pages, 1.3 MB | Rate: 1176.47/s
 *   Memory usage: 21.4 MB
 *
 * The bar (mode "bar") is one line on stderr rewritten in place; it is only
 * used when stderr is a terminal.
 *
 * Memory rule: a collector owns copies of every name it is given; the
 * arrays returned by the getters are valid until the next call on it or
 * sl_progress_free.
 */
#ifndef SLUICE_PROGRESS_H
#define SLUICE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sl_progress_mode {
  SL_PROGRESS_AUTO = 0, /* bar when stderr is a terminal, else log */
  SL_PROGRESS_NONE,
  SL_PROGRESS_LOG,
  SL_PROGRESS_BAR
} sl_progress_mode;

/* "bar" "log" "none" "auto" (also true = log, false = none); -1 when unknown. */
int sl_progress_mode_parse(const char *name);
const char *sl_progress_mode_name(sl_progress_mode m);

typedef struct sl_progress sl_progress;

/* HTTP figures of a run (the fields of sl_http_stats). */
typedef struct sl_progress_http_stats {
  uint64_t requests, attempts, retries, status_429, status_5xx, conn_errors, failed, bytes_in;
  double slowest_s;       /* slowest single transfer */
  char slowest_url[256];  /* its URL (redacted here again) */
} sl_progress_http_stats;

/* out: where log lines go (NULL: stdout); the bar always goes to stderr.
 * log_period <= 0 means 1 second. NULL on out of memory. */
sl_progress *sl_progress_new(const char *pipeline_name, sl_progress_mode mode, double log_period,
                             FILE *out);
void sl_progress_free(sl_progress *pr);
sl_progress_mode sl_progress_get_mode(const sl_progress *pr); /* AUTO resolved */

/* The collector of the run going on in this process, or NULL. */
sl_progress *sl_progress_current(void);
void sl_progress_set_current(sl_progress *pr);

/* ---- hooks the stages call ---------------------------------------------------- */

/* A stage starts: "extract" (resources_total = resources to run), "normalize",
 * "load" (0 when not counted). Ends the stage still open, if any. */
void sl_progress_stage_begin(sl_progress *pr, const char *stage, const char *load_id,
                             size_t resources_total);
/* The stage ends (prints its final figures); a failing status marks it (and
 * the run) failed at this step. */
void sl_progress_stage_end(sl_progress *pr, sl_status st);
/* One page of a resource was fetched (bytes of its body). */
void sl_progress_page(sl_progress *pr, const char *resource, uint64_t bytes);
/* Records emitted by a resource (adds). */
void sl_progress_items(sl_progress *pr, const char *resource, uint64_t items, uint64_t bytes);
/* A resource finished: its final figures (set, not added; pages stay as counted). */
void sl_progress_resource_done(sl_progress *pr, const char *resource, uint64_t items,
                               uint64_t bytes);
/* Rows normalized into a table (adds). */
void sl_progress_rows(sl_progress *pr, const char *table, uint64_t rows);
/* Rows loaded into a table of the destination (adds). */
void sl_progress_loaded(sl_progress *pr, const char *table, uint64_t rows);
/* HTTP figures of an engine (adds the counters; keeps the slowest endpoint). */
void sl_progress_http(sl_progress *pr, const sl_progress_http_stats *stats);
/* A line for the user (log: printed; bar: printed above the bar; none: INFO log). */
void sl_progress_message(sl_progress *pr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print now if the log period has passed (the hooks call it). */
void sl_progress_tick(sl_progress *pr);

/* ---- what was collected (for the trace) ------------------------------------------ */

typedef struct sl_progress_step {
  char step[16];      /* extract | normalize | load */
  char load_id[32];
  double started_at;  /* Unix time, seconds */
  double finished_at; /* 0 while running */
  sl_status status;
  uint64_t items, rows; /* extract: records; normalize/load: rows */
} sl_progress_step;

typedef struct sl_progress_resource {
  char *name;
  uint64_t pages, items, bytes;
} sl_progress_resource;

typedef struct sl_progress_table {
  char *name;
  uint64_t rows_normalized, rows_loaded;
} sl_progress_table;

const sl_progress_step *sl_progress_steps(const sl_progress *pr, size_t *n);
const sl_progress_resource *sl_progress_resources(const sl_progress *pr, size_t *n);
const sl_progress_table *sl_progress_tables(const sl_progress *pr, size_t *n);
void sl_progress_http_totals(const sl_progress *pr, sl_progress_http_stats *out);
/* The step that failed ("extract", …) or NULL when none did. */
const char *sl_progress_failed_step(const sl_progress *pr);
/* Resident memory of this process, and its peak, in bytes (0 if unknown). */
uint64_t sl_progress_rss(void);
uint64_t sl_progress_peak_rss(void);
/* One field of /proc/self/status (VmRSS, VmHWM, RssAnon, …) in KiB; 0 if absent. */
long sl_progress_status_kb(const char *field);

#ifdef __cplusplus
}
#endif
#endif
