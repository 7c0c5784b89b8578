/* bench_json: how fast the sluice push parser reads a ~100 MB nested API-like
 * document fed in 64 KiB chunks (no-op callback), against json-c, jansson and
 * cJSON parsing the same bytes whole (parse + free). Best of 3 runs each, in
 * this thread's CPU time (the machines are shared; wall time is shown too).
 * Targets: >= 600 MB/s, and >= 3x the fastest of the others; with none of the
 * others built the comparison cannot be made, and that is a miss.
 * Exit: 0 targets met, 1 a target missed, 2 the bench could not run.
 *   bench_json [megabytes] [--write FILE]   (default 100 MB) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_gen.h"
#include "sluice/json.h"

#include "others.h"

#define RUNS 3
#define CHUNK (64 * 1024)
#define TARGET_MBS 600.0
#define TARGET_RATIO 3.0

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *doc;
static size_t doc_len;
static unsigned long long events;

static int count_event(void *ud, const sl_json_event *ev) {
  (void)ud;
  (void)ev;
  events++;
  return 0;
}

/* Each runner parses doc once; returns 0 on success. */
static int run_sluice_chunked(void) {
  sl_json_parser *p = sl_json_parser_new(NULL, count_event, NULL);
  sl_error err;
  sl_status st = SL_OK;
  for (size_t off = 0; off < doc_len && !st; off += CHUNK)
    st = sl_json_feed(p, doc + off, doc_len - off < CHUNK ? doc_len - off : CHUNK, &err);
  if (!st) st = sl_json_finish(p, &err);
  if (st) fprintf(stderr, "sluice: %s at %d:%d\n", err.msg, err.line, err.col);
  sl_json_parser_free(p);
  return st != SL_OK;
}

static int run_sluice_whole(void) {
  sl_json_parser *p = sl_json_parser_new(NULL, count_event, NULL);
  sl_error err;
  sl_status st = sl_json_feed(p, doc, doc_len, &err);
  if (!st) st = sl_json_finish(p, &err);
  sl_json_parser_free(p);
  return st != SL_OK;
}

static int run_sluice_tree(void) {
  sl_error err;
  sl_doc *d = sl_json_parse_doc(doc, doc_len, "bench", &err);
  sl_doc_free(d);
  return d == NULL;
}

#ifdef HAVE_BENCH_JSON_C
static int run_jsonc(void) { return other_jsonc_parse(doc, doc_len) != 2; }
#endif
#ifdef HAVE_BENCH_JANSSON
static int run_jansson(void) { return other_jansson_parse(doc, doc_len) != 2; }
#endif
#ifdef HAVE_BENCH_LIBCJSON
static int run_cjson(void) { return other_cjson_parse(doc, doc_len) != 2; }
#endif

typedef struct runner {
  const char *name;
  int (*fn)(void);
  bool ours;   /* counts as sluice (the chunked push parser is the one judged) */
  bool judged; /* part of the pass/fail comparison */
} runner;

/* Best of RUNS in MB/s (1 MB = 10^6 bytes) of CPU time, and of wall time in
 * *wall_mbs; 0 on failure. */
static double measure(const runner *r, double *wall_mbs) {
  double best = 1e30, best_wall = 1e30;
  *wall_mbs = 0;
  for (int i = 0; i < RUNS; i++) {
    double t0 = now(), c0 = cpu_now();
    if (r->fn()) return 0;
    double c = cpu_now() - c0, t = now() - t0;
    if (c < best) best = c;
    if (t < best_wall) best_wall = t;
  }
  *wall_mbs = (double)doc_len / 1e6 / best_wall;
  return (double)doc_len / 1e6 / best;
}

int main(int argc, char **argv) {
  size_t mb = 100;
  const char *write_to = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--write") && i + 1 < argc) write_to = argv[++i];
    else mb = (size_t)strtoul(argv[i], NULL, 10);
  }
  if (mb == 0) mb = 100;
  sl_buf b;
  sl_buf_init(&b, mb * 1000 * 1000 + (1 << 20));
  json_gen g;
  json_gen_init(&g, 20240501);
  double t0 = now();
  if (json_gen_document(&g, mb * 1000 * 1000, &b)) {
    fprintf(stderr, "bench_json: cannot generate %zu MB\n", mb);
    return 2;
  }
  doc = b.data;
  doc_len = b.len;
  printf("document: %.1f MB, %llu records, generated in %.2f s (seed 20240501)\n",
         (double)doc_len / 1e6, (unsigned long long)(g.next_id - 1), now() - t0);
  if (write_to) {
    FILE *f = fopen(write_to, "wb");
    if (f) {
      fwrite(doc, 1, doc_len, f);
      fclose(f);
    }
  }

  const runner runners[] = {
      {"sluice push, 64 KiB chunks", run_sluice_chunked, true, true},
      {"sluice push, one chunk", run_sluice_whole, true, false},
      {"sluice tree (parse_doc)", run_sluice_tree, true, false},
#ifdef HAVE_BENCH_JSON_C
      {"json-c (tokener, tree)", run_jsonc, false, true},
#endif
#ifdef HAVE_BENCH_JANSSON
      {"jansson (json_loadb)", run_jansson, false, true},
#endif
#ifdef HAVE_BENCH_LIBCJSON
      {"cJSON (ParseWithLength)", run_cjson, false, true},
#endif
  };
  size_t n = sizeof runners / sizeof runners[0];
  double ours = 0, best_other = 0;
  unsigned long long doc_events = 0;
  const char *best_other_name = "none";
  printf("\n%-30s %10s %10s %10s\n", "parser", "MB/s CPU", "ms CPU", "MB/s wall");
  for (size_t i = 0; i < n; i++) {
    events = 0;
    double wall_mbs;
    double mbs = measure(&runners[i], &wall_mbs);
    if (i == 0) doc_events = events / RUNS;
    printf("%-30s %10.0f %10.1f %10.0f%s\n", runners[i].name, mbs,
           mbs > 0 ? (double)doc_len / 1e3 / mbs : 0.0, wall_mbs, mbs > 0 ? "" : "   FAILED");
    if (!runners[i].judged) continue;
    if (runners[i].ours) {
      ours = mbs;
    } else if (mbs > best_other) {
      best_other = mbs;
      best_other_name = runners[i].name;
    }
  }
  printf("(%llu events per document)\n", doc_events);
  double ratio = best_other > 0 ? ours / best_other : 0;
  bool speed_met = ours >= TARGET_MBS, ratio_met = best_other > 0 && ratio >= TARGET_RATIO;
  printf("\n");
  if (best_other > 0)
    printf("ratio to the fastest other (%s): %.2fx\n", best_other_name, ratio);
  else
    printf("no other parser to compare with: none of json-c, jansson, cJSON was found when this was "
           "built (scripts/deps.sh --bench installs them), or each of them failed\n");
  printf("sluice %.0f MB/s CPU (target >= %.0f: %s)\n", ours, TARGET_MBS, speed_met ? "met" : "MISSED");
  if (best_other > 0)
    printf("sluice %.2fx the fastest other (target >= %.1fx: %s)\n", ratio, TARGET_RATIO,
           ratio_met ? "met" : "MISSED");
  else
    printf("sluice vs the others (target >= %.1fx): MISSED, not measured\n", TARGET_RATIO);
  sl_buf_free(&b);
  if (ours <= 0) return 2;
  return speed_met && ratio_met ? 0 : 1;
}
