/* bench_http.c — the HTTP engine fetching N pages (default 2,000 × 100 rows)
 * from tests/servers/generic_api.py with a fixed latency per request (default
 * 20 ms), at concurrency 1 and at the default (8 per host). Prints wall time,
 * the speed-up and CPU time per request (getrusage: this process only).
 * No target of its own (bench/rest judges the REST source end to end).
 * Exit: 0 it ran, 2 it could not run.
 *
 *   bench_http [--requests N] [--latency-ms MS] [--concurrency C]
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sluice/http.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static pid_t start_server(int latency_ms, int pages, int *port) {
  char portfile[128], lat[32], np[32];
  snprintf(portfile, sizeof portfile, "/tmp/sl_bench_http_%d.port", (int)getpid());
  snprintf(lat, sizeof lat, "%d", latency_ms);
  snprintf(np, sizeof np, "%d", pages);
  unlink(portfile);
  char script[1024];
  snprintf(script, sizeof script, "%s/tests/servers/generic_api.py", SL_SOURCE_DIR);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!freopen("/dev/null", "w", stdout)) _exit(127);
    execlp("python3", "python3", script, "--port", "0", "--port-file", portfile, "--latency-ms",
           lat, "--bench-pages", np, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 200; i++) {
    FILE *f = fopen(portfile, "r");
    if (f) {
      int ok = fscanf(f, "%d", port);
      fclose(f);
      if (ok == 1 && *port > 0) return pid;
    }
    usleep(50000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

/* The server's cursor for row n: base64url("c:<n>") without padding. */
static void cursor_of(long n, char *out) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  char raw[32];
  int len = snprintf(raw, sizeof raw, "c:%ld", n);
  int k = 0;
  for (int i = 0; i < len; i += 3) {
    unsigned v = (unsigned char)raw[i] << 16;
    if (i + 1 < len) v |= (unsigned char)raw[i + 1] << 8;
    if (i + 2 < len) v |= (unsigned char)raw[i + 2];
    out[k++] = b64[(v >> 18) & 63];
    out[k++] = b64[(v >> 12) & 63];
    if (i + 1 < len) out[k++] = b64[(v >> 6) & 63];
    if (i + 2 < len) out[k++] = b64[v & 63];
  }
  out[k] = '\0';
}

typedef struct tally {
  uint64_t bytes;
  int ok, failed;
} tally;

static sl_status on_body(void *ud, const void *p, size_t n, sl_error *err) {
  ((tally *)ud)->bytes += n;
  return SL_OK;
}
static void on_rewind(void *ud) {}
static void on_done(void *ud, sl_status st, const sl_http_response *r, const sl_error *err) {
  tally *t = ud;
  if (st == SL_OK)
    t->ok++;
  else {
    t->failed++;
    if (t->failed < 5) fprintf(stderr, "failed: %s\n", err ? err->msg : "?");
  }
}

typedef struct result {
  double wall, cpu;
  tally t;
  sl_http_stats st;
} result;

static int run(int port, int n, int per_host, result *res) {
  sl_http_opts o;
  sl_http_opts_init(&o);
  o.max_per_host = per_host;
  sl_error err;
  sl_http *h = sl_http_new(&o, &err);
  if (!h) return -1;
  memset(res, 0, sizeof *res);
  sl_http_callbacks cb = {.on_body = on_body, .on_rewind = on_rewind, .on_done = on_done};
  double c0 = cpu_s(), t0 = now_s();
  for (int i = 0; i < n; i++) {
    char cur[64], url[160];
    cursor_of((long)i * 100, cur);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bench/items?cursor=%s", port, cur);
    sl_http_request q = {.url = url};
    if (sl_http_submit(h, &q, &cb, &res->t, &err) != SL_OK) return -1;
  }
  if (sl_http_run(h, &err) != SL_OK) {
    fprintf(stderr, "run: %s\n", err.msg);
    return -1;
  }
  res->wall = now_s() - t0;
  res->cpu = cpu_s() - c0;
  sl_http_get_stats(h, &res->st);
  sl_http_free(h);
  return res->t.failed ? -1 : 0;
}

int main(int argc, char **argv) {
  int n = 2000, latency = 20, conc = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--requests")) n = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--latency-ms")) latency = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--concurrency")) conc = atoi(argv[i + 1]);
  }
  if (n < 1 || latency < 0 || conc < 1) {
    fprintf(stderr, "usage: bench_http [--requests N] [--latency-ms MS] [--concurrency C]\n");
    return 2;
  }
  int port = 0;
  pid_t srv = start_server(latency, n, &port);
  if (srv < 0) {
    fprintf(stderr, "cannot start tests/servers/generic_api.py\n");
    return 2;
  }
  result warm, one, many;
  int rc = 0;
  /* warm-up: the server renders and caches every page once */
  if (run(port, n, conc, &warm) != 0 || run(port, n, 1, &one) != 0 || run(port, n, conc, &many) != 0)
    rc = 1;
  kill(srv, SIGTERM);
  waitpid(srv, NULL, 0);
  if (rc) {
    fprintf(stderr, "bench_http: requests failed\n");
    return 2;
  }
  printf("http engine: %d requests of %d rows, %d ms latency each, %.1f MB of bodies\n", n, 100,
         latency, (double)many.t.bytes / 1e6);
  printf("  concurrency 1: %7.2f s wall  %6.0f req/s  CPU %.1f us/request\n", one.wall,
         n / one.wall, one.cpu / n * 1e6);
  printf("  concurrency %d: %7.2f s wall  %6.0f req/s  CPU %.1f us/request\n", conc, many.wall,
         n / many.wall, many.cpu / n * 1e6);
  printf("  speed-up: %.2fx (ideal %dx; latency-bound floor %.2f s)\n", one.wall / many.wall, conc,
         n * latency / 1000.0 / conc);
  printf("  connections opened: %llu at concurrency 1, %llu at %d (keep-alive reuse)\n",
         (unsigned long long)one.st.connects, (unsigned long long)many.st.connects, conc);
  printf("  retries %llu, 429s %llu, slowest %.3f s\n", (unsigned long long)many.st.retries,
         (unsigned long long)many.st.status_429, many.st.slowest_s);
  printf("no target\n");
  return 0;
}
