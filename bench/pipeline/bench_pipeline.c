/* bench_pipeline: how fast and in how much memory sluice turns Pinterest-like
 * "pins" records (pins_gen.c, ~1.4 KB each, fixed seed) into DuckDB tables.
 * One run prints:
 *   1. parse-only MB/s: the push parser over the generated JSON Lines, in
 *      64 KiB chunks, no-op callback (best of 3);
 *   2. parse+normalize MB/s: the normalizer over the same bytes into a sink
 *      that only counts rows (best of 3), and its ratio to parse-only;
 *   3. extract+normalize+load through the real pipeline (sluice/pipeline.h,
 *      a C callback resource that generates the records in-process, into a
 *      DuckDB file) at two sizes, each in a child process (fork, run,
 *      wait4 → ru_maxrss): MB/s, records/s, rows/s, peak RSS;
 *   4. DuckDB alone storing the same tables (duckdb_floor.c), each size in
 *      fresh children too: the floor under the pipeline's peak;
 *   5. comparison lines: normalize/parse ratio, RSS big/small, sluice's peak
 *      against DuckDB alone's.
 * Targets: parse+normalize >= 300 MB/s and <= 3x parse-only; peak RSS <= 64 MB
 * and the same (within 10%) at both sizes.
 * Exit: 0 every target met, 1 a target missed, 2 a run failed.
 *
 *   bench_pipeline [--records N] [--small N] [--big N] [--dir DIR] [--memory-limit-mb M]
 *                  [--profile-normalize]   (only the normalize loop, 5 times, for perf)
 *
 * Default sizes: 200 k records for 1-2 and pipeline runs at 200 k and 1 M
 * records (what `make bench` runs); BENCH_FULL=1 in the environment makes the
 * pipeline runs 1 M and 10 M (10 M records is ~14 GB of JSON: it is generated
 * by the callback, never written as a file; loaded packages are deleted as
 * they load). DIR (default $TMPDIR or /tmp) holds the pipeline's working dir
 * and the DuckDB file, removed afterwards. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "duckdb_floor.h"
#include "pins_gen.h"
#include "sluice/json.h"
#include "sluice/normalize.h"
#include "sluice/package.h"
#include "sluice/pipeline.h"
#include "sluice/progress.h"
#include "sluice/schema.h"

#define CHUNK (64 * 1024)
#define RUNS 5
#define SEED 42
#define TARGET_NORM_MBS 300.0
#define TARGET_RATIO 3.0
#define TARGET_RSS_MB 64.0

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Parse and normalize are timed in this thread's CPU time: MB/s per core,
 * and steady on a machine that other work shares. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- 1. parse only ----------------------------------------------------------------- */

static int noop_event(void *ud, const sl_json_event *ev) {
  (void)ev;
  ++*(uint64_t *)ud;
  return 0;
}

static double parse_once(const char *doc, size_t len) {
  uint64_t events = 0;
  sl_json_options jo;
  memset(&jo, 0, sizeof jo);
  jo.multi = true;
  sl_json_parser *p = sl_json_parser_new(&jo, noop_event, &events);
  sl_error err;
  sl_error_clear(&err);
  double t0 = cpu_now();
  sl_status st = SL_OK;
  for (size_t off = 0; off < len && !st; off += CHUNK)
    st = sl_json_feed(p, doc + off, len - off < CHUNK ? len - off : CHUNK, &err);
  if (!st) st = sl_json_finish(p, &err);
  double t = cpu_now() - t0;
  sl_json_parser_free(p);
  if (st) {
    fprintf(stderr, "bench_pipeline: parse: %s\n", err.msg);
    exit(1);
  }
  return t;
}

/* ---- 2. parse + normalize ------------------------------------------------------------ */

static sl_status count_row(void *ud, const sl_schema *schema, const sl_table *t,
                           const sl_row_value *vals, size_t n, sl_error *err) {
  (void)schema, (void)t, (void)vals, (void)n, (void)err;
  ++*(uint64_t *)ud;
  return SL_OK;
}

static double normalize_once(const char *doc, size_t len, uint64_t *rows) {
  sl_schema *schema = sl_schema_new("pins_source");
  uint64_t count = 0;
  sl_row_sink sink = {&count, count_row};
  sl_error err;
  sl_error_clear(&err);
  sl_normalizer *n = sl_normalizer_new(schema, "1700000000.000001", sink, &err);
  sl_resource_hints h;
  memset(&h, 0, sizeof h);
  h.resource = "pins";
  h.max_table_nesting = -1;
  double t0 = cpu_now();
  sl_status st = n ? sl_normalizer_begin(n, &h, &err) : SL_NOMEM;
  for (size_t off = 0; off < len && !st; off += CHUNK)
    st = sl_normalizer_feed(n, doc + off, len - off < CHUNK ? len - off : CHUNK, &err);
  if (!st) st = sl_normalizer_end(n, &err);
  double t = cpu_now() - t0;
  if (st) {
    fprintf(stderr, "bench_pipeline: normalize: %s\n", err.msg);
    exit(1);
  }
  sl_normalizer_free(n);
  sl_schema_free(schema);
  *rows = count;
  return t;
}

/* ---- 3. the pipeline, in a child ---------------------------------------------------- */

typedef struct gen_ud {
  uint64_t records;
  uint64_t bytes; /* JSON generated */
} gen_ud;

static sl_status pins_resource(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err) {
  (void)parent;
  gen_ud *g = ud;
  pins_gen gen;
  pins_gen_init(&gen, SEED);
  sl_buf rec = {0};
  sl_status st = SL_OK;
  for (uint64_t i = 0; i < g->records && !st && !sl_emit_stopped(em); i++) {
    sl_buf_reset(&rec);
    pins_gen_record(&gen, &rec);
    g->bytes += rec.len;
    st = sl_emit_json(em, rec.data, rec.len, err);
  }
  sl_buf_free(&rec);
  return st;
}

typedef struct run_result {
  int ok;
  double seconds, cpu; /* wall time in the child; its user+system CPU time */
  uint64_t records, rows, bytes;
  long start_kb;           /* VmRSS before the pipeline opened (libraries mapped) */
  long anon_kb, file_kb;   /* RssAnon / RssFile after the run, before close */
  long peak_anon_kb;       /* the most anonymous memory seen, sampled every 2 ms */
  char error[512];
} run_result;

/* VmHWM has no anonymous/file split: a thread samples /proc/self/statm
 * (resident - shared = anonymous pages) every 2 ms while the run goes. */
typedef struct sampler {
  pthread_t th;
  atomic_int stop;
  long peak_kb;
} sampler;

static void *sample_anon(void *ud) {
  sampler *s = ud;
  long page_kb = sysconf(_SC_PAGESIZE) / 1024;
  while (!atomic_load(&s->stop)) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size, resident, shared;
    if (f && fscanf(f, "%ld %ld %ld", &size, &resident, &shared) == 3 &&
        (resident - shared) * page_kb > s->peak_kb)
      s->peak_kb = (resident - shared) * page_kb;
    if (f) fclose(f);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static void pipeline_child(const char *dir, uint64_t records, uint64_t memory_limit_mb, run_result *r) {
  memset(r, 0, sizeof *r);
  sampler smp = {.peak_kb = 0};
  atomic_init(&smp.stop, 0);
  int sampling = pthread_create(&smp.th, NULL, sample_anon, &smp) == 0;
  char pipelines[4096 + 128];
  snprintf(pipelines, sizeof pipelines, "%s/pipelines", dir);
  sl_pipeline_options o;
  memset(&o, 0, sizeof o);
  o.project_dir = dir;
  o.name = "bench_pins";
  o.pipelines_dir = pipelines;
  o.home_dir = "";
  o.progress = -1;
  o.duckdb_memory_limit_mb = memory_limit_mb;
  sl_error err;
  sl_error_clear(&err);
  gen_ud g = {records, 0};
  r->start_kb = sl_progress_status_kb("VmRSS");
  double t0 = now();
  sl_pipeline *p = sl_pipeline_open(&o, &err);
  sl_status st = p ? SL_OK : err.code ? err.code : SL_INTERNAL;
  if (!st) {
    sl_resource_def def;
    sl_resource_def_init(&def);
    def.name = "pins";
    def.fn = pins_resource;
    def.ud = &g;
    st = sl_pipeline_add_resource(p, &def, &err);
  }
  if (!st) st = sl_pipeline_run(p, NULL, &err);
  r->seconds = now() - t0;
  r->anon_kb = sl_progress_status_kb("RssAnon");
  r->file_kb = sl_progress_status_kb("RssFile");
  if (sampling) {
    atomic_store(&smp.stop, 1);
    pthread_join(smp.th, NULL);
    r->peak_anon_kb = smp.peak_kb;
  }
  if (!st) {
    const sl_load_info *li = sl_pipeline_last_load(p);
    r->records = li->records;
    for (size_t i = 0; i < li->ntables; i++) r->rows += li->tables[i].rows;
    r->bytes = g.bytes;
    r->ok = 1;
  } else {
    sl_error_format(&err, r->error, sizeof r->error);
  }
  sl_pipeline_close(p);
}

/* DuckDB alone over the tables the run in `dir` loaded (duckdb_floor.c), in
 * two fresh children of this process like the pipeline's own (describe, then
 * insert), so that the figure is theirs alone and counted the same way
 * (wait4 -> ru_maxrss). floor->peak_kb stays 0 if either fails. */
static void floor_run(const char *dir, uint64_t memory_limit_mb, floor_result *floor) {
  memset(floor, 0, sizeof *floor);
  char db[4096 + 128], plan[4096 + 128], out[4096 + 128];
  snprintf(db, sizeof db, "%s/bench_pins.duckdb", dir);
  snprintf(plan, sizeof plan, "%s/floor.plan", dir);
  snprintf(out, sizeof out, "%s/floor.duckdb", dir);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return;
  if (pid == 0) _exit(freopen(plan, "w", stdout) && floor_describe(db, "bench_pins_dataset") == 0 &&
                              fflush(stdout) == 0
                          ? 0
                          : 1);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench_pipeline: the DuckDB floor's describe failed\n");
    return;
  }
  int fd[2];
  if (pipe(fd) != 0) return;
  pid = fork();
  if (pid < 0) return;
  if (pid == 0) {
    close(fd[0]);
    floor_result f;
    /* BENCH_FLOOR_MEMORY_LIMIT_MB / BENCH_FLOOR_ROW_GROUP_SIZE: other settings for
     * DuckDB alone only, to look for its lowest peak. */
    const char *ml = getenv("BENCH_FLOOR_MEMORY_LIMIT_MB"), *rg = getenv("BENCH_FLOOR_ROW_GROUP_SIZE");
    int rc = floor_insert(plan, out, rg && *rg ? strtol(rg, NULL, 10) : 65536,
                          ml && *ml ? strtoull(ml, NULL, 10) : memory_limit_mb, &f);
    ssize_t w = write(fd[1], &f, sizeof f);
    _exit(rc == 0 && w == (ssize_t)sizeof f ? 0 : 1);
  }
  close(fd[1]);
  floor_result f;
  ssize_t got = 0;
  while (got < (ssize_t)sizeof f) {
    ssize_t k = read(fd[0], (char *)&f + got, sizeof f - (size_t)got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    got += k;
  }
  close(fd[0]);
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  if (got == (ssize_t)sizeof f && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    f.peak_kb = ru.ru_maxrss;
    *floor = f;
  } else {
    fprintf(stderr, "bench_pipeline: the DuckDB floor's insert failed\n");
  }
}

/* Runs the pipeline over `records` in a fresh child; returns its result and peak RSS (KiB). */
static int pipeline_run(const char *base, uint64_t records, uint64_t memory_limit_mb, run_result *r,
                        long *maxrss_kb, floor_result *floor) {
  char dir[4096 + 64];
  snprintf(dir, sizeof dir, "%s/sluice_bench_pipeline_%d_%" PRIu64, base, (int)getpid(), records);
  sl_rm_rf(dir, NULL);
  if (sl_mkdir_p(dir, NULL) != SL_OK) {
    fprintf(stderr, "bench_pipeline: cannot create %s\n", dir);
    return -1;
  }
  int fd[2];
  if (pipe(fd) != 0) return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(fd[0]);
    run_result res;
    pipeline_child(dir, records, memory_limit_mb, &res);
    ssize_t w = write(fd[1], &res, sizeof res);
    _exit(w == (ssize_t)sizeof res ? 0 : 1);
  }
  close(fd[1]);
  memset(r, 0, sizeof *r);
  ssize_t got = 0;
  while (got < (ssize_t)sizeof *r) {
    ssize_t k = read(fd[0], (char *)r + got, sizeof *r - (size_t)got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    got += k;
  }
  close(fd[0]);
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  *maxrss_kb = ru.ru_maxrss;
  r->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec * 1e-6;
  if (floor && got == (ssize_t)sizeof *r && r->ok) floor_run(dir, memory_limit_mb, floor);
  sl_rm_rf(dir, NULL);
  if (got != (ssize_t)sizeof *r || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (!r->error[0]) snprintf(r->error, sizeof r->error, "child died (status %d)", status);
    r->ok = 0;
  }
  return r->ok ? 0 : -1;
}

/* ---- main ---------------------------------------------------------------------------- */

static uint64_t arg_u64(const char *s) { return strtoull(s, NULL, 10); }

int main(int argc, char **argv) {
  const char *full = getenv("BENCH_FULL");
  bool big_mode = full && *full && strcmp(full, "0") != 0;
  uint64_t nrec = 200000, small = big_mode ? 1000000 : 200000, big = big_mode ? 10000000 : 1000000;
  uint64_t memory_limit_mb = 0;
  int profile = 0; /* --profile-normalize: only the normalize loop, for perf */
  const char *dir = getenv("TMPDIR");
  if (!dir || !*dir) dir = "/tmp";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--records") && i + 1 < argc) nrec = arg_u64(argv[++i]);
    else if (!strcmp(argv[i], "--small") && i + 1 < argc) small = arg_u64(argv[++i]);
    else if (!strcmp(argv[i], "--big") && i + 1 < argc) big = arg_u64(argv[++i]);
    else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    else if (!strcmp(argv[i], "--memory-limit-mb") && i + 1 < argc) memory_limit_mb = arg_u64(argv[++i]);
    else if (!strcmp(argv[i], "--profile-normalize")) profile = 1;
    else {
      fprintf(stderr,
              "usage: bench_pipeline [--records N] [--small N] [--big N] [--dir DIR] "
              "[--memory-limit-mb M]\n");
      return 2;
    }
  }

  /* The same bytes for 1 and 2. */
  pins_gen gen;
  pins_gen_init(&gen, SEED);
  sl_buf doc;
  sl_buf_init(&doc, (size_t)8 << 30);
  double tg = now();
  for (uint64_t i = 0; i < nrec; i++) {
    pins_gen_record(&gen, &doc);
    sl_buf_putc(&doc, '\n');
  }
  tg = now() - tg;
  double mb = (double)doc.len / 1e6;
  printf("pins: %" PRIu64 " records, %.1f MB of JSON Lines (%.0f bytes/record), generated at %.0f MB/s\n",
         nrec, mb, (double)doc.len / (double)nrec, mb / tg);

  double best_parse = 1e30, best_norm = 1e30;
  uint64_t rows = 0;
  if (profile) {
    for (int r = 0; r < 5; r++) printf("parse+normalize: %.1f MB/s\n", mb / normalize_once(doc.data, doc.len, &rows));
    sl_buf_free(&doc);
    return 0;
  }
  /* Interleaved, so that a busy spell of a shared machine weighs on both. */
  for (int r = 0; r < RUNS; r++) {
    double t = parse_once(doc.data, doc.len);
    if (t < best_parse) best_parse = t;
    t = normalize_once(doc.data, doc.len, &rows);
    if (t < best_norm) best_norm = t;
  }
  printf("parse only:        %8.1f MB/s  (CPU time, best of %d)\n", mb / best_parse, RUNS);
  double ratio = best_norm / best_parse;
  bool norm_met = mb / best_norm >= TARGET_NORM_MBS;
  printf("parse+normalize:   %8.1f MB/s  %.0f rows/s, %" PRIu64 " rows (CPU time, best of %d)  target >= %.0f MB/s: %s\n",
         mb / best_norm, (double)rows / best_norm, rows, RUNS, TARGET_NORM_MBS,
         norm_met ? "met" : "MISSED");
  sl_buf_free(&doc);

  uint64_t sizes[2] = {small, big};
  long rss[2] = {0, 0}, anon[2] = {0, 0};
  floor_result floors[2];
  memset(floors, 0, sizeof floors);
  int failed = 0;
  for (int k = 0; k < 2; k++) {
    run_result r;
    if (pipeline_run(dir, sizes[k], memory_limit_mb, &r, &rss[k], &floors[k]) != 0) {
      printf("pipeline %" PRIu64 " records: FAILED: %s\n", sizes[k], r.error);
      rss[k] = 0; /* a failed run's memory is no figure */
      failed = 2;
      continue;
    }
    printf("pipeline %8" PRIu64 " records: %6.1f s (CPU %.1f s), %7.1f MB/s, %8.0f records/s, %9.0f rows/s "
           "(%" PRIu64 " rows), peak RSS %.1f MB, peak anonymous %.1f MB (at start %.1f MB; at end anon %.1f MB, "
           "file %.1f MB)\n",
           r.records, r.seconds, r.cpu, (double)r.bytes / 1e6 / r.seconds, (double)r.records / r.seconds,
           (double)r.rows / r.seconds, r.rows, (double)rss[k] / 1024.0, (double)r.peak_anon_kb / 1024.0,
           (double)r.start_kb / 1024.0, (double)r.anon_kb / 1024.0, (double)r.file_kb / 1024.0);
    anon[k] = r.peak_anon_kb;
    const floor_result *f = &floors[k];
    if (f->peak_kb)
      printf("duckdb alone     %8" PRIu64 " rows:  peak RSS %.1f MB (at start %.1f MB, DuckDB open %.1f MB; at end anon "
             "%.1f MB, file %.1f MB), the same %d tables and row counts by INSERT … SELECT, memory_limit %ld MB\n",
             f->rows, (double)f->peak_kb / 1024.0, (double)f->start_kb / 1024.0, (double)f->open_kb / 1024.0,
             (double)f->anon_kb / 1024.0, (double)f->file_kb / 1024.0, f->tables, f->memory_limit_mb);
    else
      printf("duckdb alone: no figure (see the error above)\n");
  }
  double growth = rss[0] ? (double)rss[1] / (double)rss[0] : 0;
  bool ratio_met = ratio <= TARGET_RATIO;
  bool flat = rss[0] && rss[1] && growth <= 1.10;
  bool rss_met = flat && rss[0] <= TARGET_RSS_MB * 1024 && rss[1] <= TARGET_RSS_MB * 1024;
  printf("compare: normalize/parse %.2fx (target <= %.1fx: %s); RSS %" PRIu64 "/%" PRIu64
         " records %.2fx (flat, <= 1.10x: %s), peak %.1f MB (target <= %.0f MB and flat: %s)\n",
         ratio, TARGET_RATIO, ratio_met ? "met" : "MISSED", big, small, growth, flat ? "met" : "MISSED",
         (double)(rss[0] > rss[1] ? rss[0] : rss[1]) / 1024.0, TARGET_RSS_MB, rss_met ? "met" : "MISSED");
  /* Not a target, the figure beside it: RSS also counts libduckdb's code and
   * symbol tables mapped from its file (~30 MB resident as soon as DuckDB is
   * opened), which no load setting changes. */
  if (anon[0] && anon[1])
    printf("compare: peak anonymous memory %.1f MB / %.1f MB (%.2fx); the rest of the peak RSS is mostly "
           "libduckdb's code pages\n",
           (double)anon[0] / 1024.0, (double)anon[1] / 1024.0, (double)anon[1] / (double)anon[0]);
  if (floors[0].peak_kb && floors[1].peak_kb)
    printf("compare: DuckDB alone peaks at %.1f MB / %.1f MB for the same tables; sluice's peak is %.2fx / %.2fx of it "
           "(%+.1f MB / %+.1f MB); a peak RSS target below DuckDB alone's is out of reach for any loader into it\n",
           (double)floors[0].peak_kb / 1024.0, (double)floors[1].peak_kb / 1024.0,
           (double)rss[0] / (double)floors[0].peak_kb, (double)rss[1] / (double)floors[1].peak_kb,
           (double)(rss[0] - floors[0].peak_kb) / 1024.0, (double)(rss[1] - floors[1].peak_kb) / 1024.0);
  if (failed) return failed;
  return norm_met && ratio_met && rss_met ? 0 : 1;
}
