/* The progress collector (sluice/progress.h): counters per stage, resource
 * and table; log lines at most once per period in the spirit of dlt's `log`
 * collector, or a one-line bar on a terminal. */
#define _GNU_SOURCE
#include "sluice/progress.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sluice/log.h"

struct sl_progress {
  pthread_mutex_t mu;
  char *pipeline;
  sl_progress_mode mode;
  double period;
  FILE *out;
  /* the stage going on */
  bool in_stage;
  char stage[16];
  char load_id[32];
  double stage_t0, last_print;
  size_t res_total, res_done;
  uint64_t stage_items, stage_rows, stage_pages, stage_bytes;
  bool bar_shown;
  /* the run */
  sl_progress_step *steps;
  size_t nsteps;
  sl_progress_resource *res;
  size_t nres;
  sl_progress_table *tables;
  size_t ntables;
  sl_progress_http_stats http;
  char failed[16];
  /* the bar's ticker: refreshes time and memory while no hook is called */
  pthread_t ticker;
  bool ticking, stop;
  pthread_cond_t cv;
};

static sl_progress *g_current;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int sl_progress_mode_parse(const char *name) {
  if (!name) return -1;
  if (!strcasecmp(name, "bar")) return SL_PROGRESS_BAR;
  if (!strcasecmp(name, "log") || !strcasecmp(name, "true")) return SL_PROGRESS_LOG;
  if (!strcasecmp(name, "none") || !strcasecmp(name, "false")) return SL_PROGRESS_NONE;
  if (!strcasecmp(name, "auto")) return SL_PROGRESS_AUTO;
  return -1;
}

const char *sl_progress_mode_name(sl_progress_mode m) {
  switch (m) {
    case SL_PROGRESS_NONE: return "none";
    case SL_PROGRESS_LOG: return "log";
    case SL_PROGRESS_BAR: return "bar";
    default: return "auto";
  }
}

uint64_t sl_progress_rss(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, res = 0;
  int n = fscanf(f, "%lu %lu", &size, &res);
  fclose(f);
  return n == 2 ? (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

long sl_progress_status_kb(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = 0;
  size_t n = strlen(field);
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, field, n) && line[n] == ':') v = strtol(line + n + 1, NULL, 10);
  if (f) fclose(f);
  return v;
}

uint64_t sl_progress_peak_rss(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (uint64_t)ru.ru_maxrss * 1024;
}

static void maybe_print(sl_progress *pr, bool force);

static void *tick_main(void *arg) {
  sl_progress *pr = arg;
  pthread_mutex_lock(&pr->mu);
  while (!pr->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 250 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&pr->cv, &pr->mu, &ts);
    if (!pr->stop) maybe_print(pr, false);
  }
  pthread_mutex_unlock(&pr->mu);
  return NULL;
}

sl_progress *sl_progress_new(const char *pipeline_name, sl_progress_mode mode, double log_period,
                             FILE *out) {
  sl_progress *pr = calloc(1, sizeof *pr);
  if (!pr) return NULL;
  pthread_mutex_init(&pr->mu, NULL);
  pr->pipeline = strdup(pipeline_name ? pipeline_name : "pipeline");
  if (mode == SL_PROGRESS_AUTO) mode = isatty(STDERR_FILENO) ? SL_PROGRESS_BAR : SL_PROGRESS_LOG;
  if (mode == SL_PROGRESS_BAR && !isatty(STDERR_FILENO)) mode = SL_PROGRESS_LOG;
  pr->mode = mode;
  pr->period = log_period > 0 ? log_period : 1.0;
  pr->out = out ? out : stdout;
  if (!pr->pipeline) {
    free(pr);
    return NULL;
  }
  pthread_cond_init(&pr->cv, NULL);
  if (pr->mode == SL_PROGRESS_BAR) pr->ticking = pthread_create(&pr->ticker, NULL, tick_main, pr) == 0;
  return pr;
}

void sl_progress_free(sl_progress *pr) {
  if (!pr) return;
  pthread_mutex_lock(&g_mu);
  if (g_current == pr) g_current = NULL;
  pthread_mutex_unlock(&g_mu);
  if (pr->ticking) {
    pthread_mutex_lock(&pr->mu);
    pr->stop = true;
    pthread_cond_signal(&pr->cv);
    pthread_mutex_unlock(&pr->mu);
    pthread_join(pr->ticker, NULL);
  }
  pthread_cond_destroy(&pr->cv);
  for (size_t i = 0; i < pr->nres; i++) free(pr->res[i].name);
  for (size_t i = 0; i < pr->ntables; i++) free(pr->tables[i].name);
  free(pr->res);
  free(pr->tables);
  free(pr->steps);
  free(pr->pipeline);
  pthread_mutex_destroy(&pr->mu);
  free(pr);
}

sl_progress_mode sl_progress_get_mode(const sl_progress *pr) {
  return pr ? pr->mode : SL_PROGRESS_NONE;
}

sl_progress *sl_progress_current(void) {
  pthread_mutex_lock(&g_mu);
  sl_progress *pr = g_current;
  pthread_mutex_unlock(&g_mu);
  return pr;
}

void sl_progress_set_current(sl_progress *pr) {
  pthread_mutex_lock(&g_mu);
  g_current = pr;
  pthread_mutex_unlock(&g_mu);
}

/* ---- counters ------------------------------------------------------------------- */

static sl_progress_resource *resource_of(sl_progress *pr, const char *name) {
  if (!name) name = "";
  for (size_t i = 0; i < pr->nres; i++)
    if (!strcmp(pr->res[i].name, name)) return &pr->res[i];
  sl_progress_resource *r = realloc(pr->res, (pr->nres + 1) * sizeof *r);
  if (!r) return NULL;
  pr->res = r;
  r = &pr->res[pr->nres];
  memset(r, 0, sizeof *r);
  if (!(r->name = strdup(name))) return NULL;
  pr->nres++;
  return r;
}

static sl_progress_table *table_of(sl_progress *pr, const char *name) {
  if (!name) name = "";
  for (size_t i = 0; i < pr->ntables; i++)
    if (!strcmp(pr->tables[i].name, name)) return &pr->tables[i];
  sl_progress_table *t = realloc(pr->tables, (pr->ntables + 1) * sizeof *t);
  if (!t) return NULL;
  pr->tables = t;
  t = &pr->tables[pr->ntables];
  memset(t, 0, sizeof *t);
  if (!(t->name = strdup(name))) return NULL;
  pr->ntables++;
  return t;
}

/* ---- output ------------------------------------------------------------------------ */

static void human_bytes(uint64_t b, char *out, size_t size) {
  if (b >= (uint64_t)1 << 30) snprintf(out, size, "%.2f GB", b / 1073741824.0);
  else if (b >= 1 << 20) snprintf(out, size, "%.1f MB", b / 1048576.0);
  else if (b >= 1 << 10) snprintf(out, size, "%.1f KB", b / 1024.0);
  else snprintf(out, size, "%llu B", (unsigned long long)b);
}

static const char *stage_title(const char *s) {
  if (!strcmp(s, "extract")) return "Extract";
  if (!strcmp(s, "normalize")) return "Normalize";
  if (!strcmp(s, "load")) return "Load";
  return s;
}

static void clear_bar(sl_progress *pr) {
  if (pr->bar_shown) {
    fputs("\r\033[K", stderr);
    pr->bar_shown = false;
  }
}

/* dlt's log collector block: a header, the counters, memory. */
static void print_log(sl_progress *pr, double now) {
  double el = now - pr->stage_t0;
  if (el <= 0) el = 1e-9;
  char title[160];
  snprintf(title, sizeof title, " %s %s (%s) ", stage_title(pr->stage), pr->pipeline,
           pr->load_id[0] ? pr->load_id : "-");
  size_t tl = strlen(title), width = 79;
  size_t left = tl < width ? (width - tl) / 2 : 0, right = tl < width ? width - tl - left : 0;
  FILE *o = pr->out;
  for (size_t i = 0; i < left; i++) fputc('-', o);
  fputs(title, o);
  for (size_t i = 0; i < right; i++) fputc('-', o);
  fputc('\n', o);
  if (!strcmp(pr->stage, "extract")) {
    double pct = pr->res_total ? 100.0 * pr->res_done / pr->res_total : 0.0;
    fprintf(o, "Resources: %zu/%zu (%.1f%%) | Time: %.2fs | Rate: %.2f/s\n", pr->res_done,
            pr->res_total, pct, el, pr->res_done / el);
    for (size_t i = 0; i < pr->nres; i++) {
      char b[32];
      human_bytes(pr->res[i].bytes, b, sizeof b);
      fprintf(o, "%s: %llu items, %llu pages, %s | Rate: %.2f/s\n", pr->res[i].name,
              (unsigned long long)pr->res[i].items, (unsigned long long)pr->res[i].pages, b,
              pr->res[i].items / el);
    }
  } else {
    bool load = !strcmp(pr->stage, "load");
    fprintf(o, "%s: %llu rows | Time: %.2fs | Rate: %.2f/s\n", load ? "Rows loaded" : "Rows",
            (unsigned long long)pr->stage_rows, el, pr->stage_rows / el);
    for (size_t i = 0; i < pr->ntables; i++) {
      uint64_t r = load ? pr->tables[i].rows_loaded : pr->tables[i].rows_normalized;
      if (r) fprintf(o, "%s: %llu rows\n", pr->tables[i].name, (unsigned long long)r);
    }
  }
  char mem[32];
  human_bytes(sl_progress_rss(), mem, sizeof mem);
  fprintf(o, "Memory usage: %s\n", mem);
  fflush(o);
}

static void print_bar(sl_progress *pr, double now) {
  double el = now - pr->stage_t0;
  if (el <= 0) el = 1e-9;
  char line[256], b[32], mem[32];
  human_bytes(pr->stage_bytes, b, sizeof b);
  human_bytes(sl_progress_rss(), mem, sizeof mem);
  if (!strcmp(pr->stage, "extract"))
    snprintf(line, sizeof line,
             "%s extract: resources %zu/%zu | %llu pages | %llu items | %s | %.0f items/s | %.1fs | mem %s",
             pr->pipeline, pr->res_done, pr->res_total, (unsigned long long)pr->stage_pages,
             (unsigned long long)pr->stage_items, b, pr->stage_items / el, el, mem);
  else
    snprintf(line, sizeof line, "%s %s: %llu rows | %.0f rows/s | %.1fs | mem %s", pr->pipeline,
             pr->stage, (unsigned long long)pr->stage_rows, pr->stage_rows / el, el, mem);
  fprintf(stderr, "\r\033[K%s", line);
  fflush(stderr);
  pr->bar_shown = true;
}

static void maybe_print(sl_progress *pr, bool force) {
  if (!pr->in_stage || pr->mode == SL_PROGRESS_NONE) return;
  double now = mono();
  if (!force && now - pr->last_print < (pr->mode == SL_PROGRESS_BAR ? 0.1 : pr->period)) return;
  pr->last_print = now;
  if (pr->mode == SL_PROGRESS_LOG) print_log(pr, now);
  else print_bar(pr, now);
}

/* ---- hooks ---------------------------------------------------------------------- */

static void end_locked(sl_progress *pr, sl_status st) {
  if (!pr->in_stage) return;
  if (pr->nsteps) {
    sl_progress_step *s = &pr->steps[pr->nsteps - 1];
    s->finished_at = wall();
    s->status = st;
    s->items = pr->stage_items;
    s->rows = pr->stage_rows;
  }
  if (st && !pr->failed[0]) snprintf(pr->failed, sizeof pr->failed, "%s", pr->stage);
  maybe_print(pr, true);
  if (pr->mode == SL_PROGRESS_BAR && pr->bar_shown) {
    fputc('\n', stderr);
    pr->bar_shown = false;
  }
  pr->in_stage = false;
}

void sl_progress_stage_begin(sl_progress *pr, const char *stage, const char *load_id,
                             size_t resources_total) {
  if (!pr) return;
  pthread_mutex_lock(&pr->mu);
  end_locked(pr, SL_OK);
  pr->in_stage = true;
  snprintf(pr->stage, sizeof pr->stage, "%s", stage ? stage : "");
  snprintf(pr->load_id, sizeof pr->load_id, "%s", load_id ? load_id : "");
  pr->stage_t0 = mono();
  pr->last_print = pr->stage_t0;
  pr->res_total = resources_total;
  pr->res_done = 0;
  pr->stage_items = pr->stage_rows = pr->stage_pages = pr->stage_bytes = 0;
  sl_progress_step *s = realloc(pr->steps, (pr->nsteps + 1) * sizeof *s);
  if (s) {
    pr->steps = s;
    s = &pr->steps[pr->nsteps++];
    memset(s, 0, sizeof *s);
    snprintf(s->step, sizeof s->step, "%s", pr->stage);
    snprintf(s->load_id, sizeof s->load_id, "%s", pr->load_id);
    s->started_at = wall();
  }
  pthread_mutex_unlock(&pr->mu);
}

void sl_progress_stage_end(sl_progress *pr, sl_status st) {
  if (!pr) return;
  pthread_mutex_lock(&pr->mu);
  end_locked(pr, st);
  pthread_mutex_unlock(&pr->mu);
}

void sl_progress_page(sl_progress *pr, const char *resource, uint64_t bytes) {
  if (!pr) return;
  pthread_mutex_lock(&pr->mu);
  sl_progress_resource *r = resource_of(pr, resource);
  if (r) r->pages++;
  pr->stage_pages++;
  (void)bytes; /* body bytes are counted with the items */
  maybe_print(pr, false);
  pthread_mutex_unlock(&pr->mu);
}

void sl_progress_items(sl_progress *pr, const char *resource, uint64_t items, uint64_t bytes) {
  if (!pr) return;
  pthread_mutex_lock(&pr->mu);
  sl_progress_resource *r = resource_of(pr, resource);
  if (r) r->items += items, r->bytes += bytes;
  pr->stage_items += items;
  pr->stage_bytes += bytes;
  maybe_print(pr, false);
  pthread_mutex_unlock(&pr->mu);
}

void sl_progress_resource_done(sl_progress *pr, const char *resource, uint64_t items,
                               uint64_t bytes) {
  if (!pr) return;
  pthread_mutex_lock(&pr->mu);
  sl_progress_resource *r = resource_of(pr, resource);
  if (r) {
    /* the stage totals follow the final figures */
    pr->stage_items = pr->stage_items - (r->items <= pr->stage_items ? r->items : pr->stage_items) + items;
    pr->stage_bytes = pr->stage_bytes - (r->bytes <= pr->stage_bytes ? r->bytes : pr->stage_bytes) + bytes;
    r->items = items;
    r->bytes = bytes;
  }
  pr->res_done++;
  maybe_print(pr, false);
  pthread_mutex_unlock(&pr->mu);
}

void sl_progress_rows(sl_progress *pr, const char *table, uint64_t rows) {
  if (!pr) return;
  pthread_mutex_lock(&pr->mu);
  sl_progress_table *t = table_of(pr, table);
  if (t) t->rows_normalized += rows;
  pr->stage_rows += rows;
  maybe_print(pr, false);
  pthread_mutex_unlock(&pr->mu);
}

void sl_progress_loaded(sl_progress *pr, const char *table, uint64_t rows) {
  if (!pr) return;
  pthread_mutex_lock(&pr->mu);
  sl_progress_table *t = table_of(pr, table);
  if (t) t->rows_loaded += rows;
  pr->stage_rows += rows; /* reported once the load committed: printed by stage_end */
  pthread_mutex_unlock(&pr->mu);
}

void sl_progress_http(sl_progress *pr, const sl_progress_http_stats *s) {
  if (!pr || !s) return;
  pthread_mutex_lock(&pr->mu);
  sl_progress_http_stats *h = &pr->http;
  h->requests += s->requests;
  h->attempts += s->attempts;
  h->retries += s->retries;
  h->status_429 += s->status_429;
  h->status_5xx += s->status_5xx;
  h->conn_errors += s->conn_errors;
  h->failed += s->failed;
  h->bytes_in += s->bytes_in;
  if (s->slowest_s > h->slowest_s) {
    h->slowest_s = s->slowest_s;
    sl_redact_into(h->slowest_url, sizeof h->slowest_url, s->slowest_url);
  }
  pthread_mutex_unlock(&pr->mu);
}

void sl_progress_message(sl_progress *pr, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (!pr || pr->mode == SL_PROGRESS_NONE) {
    sl_logv(SL_LOG_INFO, fmt, ap);
    va_end(ap);
    return;
  }
  char line[1024];
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  sl_buf red = {0};
  sl_redact_append(&red, line, strlen(line));
  pthread_mutex_lock(&pr->mu);
  if (pr->mode == SL_PROGRESS_BAR) {
    clear_bar(pr);
    fprintf(stderr, "%s: %s\n", pr->pipeline, red.data ? red.data : "");
    fflush(stderr);
  } else {
    fprintf(pr->out, "%s: %s\n", pr->pipeline, red.data ? red.data : "");
    fflush(pr->out);
  }
  pthread_mutex_unlock(&pr->mu);
  sl_buf_free(&red);
}

void sl_progress_tick(sl_progress *pr) {
  if (!pr) return;
  pthread_mutex_lock(&pr->mu);
  maybe_print(pr, false);
  pthread_mutex_unlock(&pr->mu);
}

/* ---- getters -------------------------------------------------------------------- */

const sl_progress_step *sl_progress_steps(const sl_progress *pr, size_t *n) {
  *n = pr ? pr->nsteps : 0;
  return pr ? pr->steps : NULL;
}

const sl_progress_resource *sl_progress_resources(const sl_progress *pr, size_t *n) {
  *n = pr ? pr->nres : 0;
  return pr ? pr->res : NULL;
}

const sl_progress_table *sl_progress_tables(const sl_progress *pr, size_t *n) {
  *n = pr ? pr->ntables : 0;
  return pr ? pr->tables : NULL;
}

void sl_progress_http_totals(const sl_progress *pr, sl_progress_http_stats *out) {
  if (pr) *out = pr->http;
  else memset(out, 0, sizeof *out);
}

const char *sl_progress_failed_step(const sl_progress *pr) {
  return pr && pr->failed[0] ? pr->failed : NULL;
}
