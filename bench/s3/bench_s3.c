/* Upload throughput to an S3 server (s3rver by default, as bench/run.sh or a
 * developer starts it): one PUT of the whole file vs a multipart upload with
 * parts in parallel. Each is checked by a HEAD of the object's size.
 *
 *   bench_s3 ENDPOINT [MB] [PARALLEL]    e.g. bench_s3 http://127.0.0.1:4568 64 4
 * Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, default S3RVER. The
 * bucket "bench" is created if missing. bench/s3/run.sh starts s3rver and
 * runs this against it. No target of its own.
 * Exit: 0 it ran, 2 it could not run. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sluice/aws.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This process's CPU time (the client side; s3rver's is not counted). */
static double cpu_now(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_s3 ENDPOINT [MB] [PARALLEL]\n");
    return 2;
  }
  size_t mb = argc > 2 ? (size_t)atoi(argv[2]) : 64;
  unsigned par = argc > 3 ? (unsigned)atoi(argv[3]) : 4;
  const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
  sl_aws_credentials cr = {.access_key_id = (char *)(ak ? ak : "S3RVER"),
                           .secret_access_key = (char *)(sk ? sk : "S3RVER")};
  char path[] = "/tmp/bench_s3_XXXXXX";
  int fd = mkstemp(path);
  char *buf = malloc(1 << 20);
  if (fd < 0 || !buf) return 2;
  for (size_t i = 0; i < (1u << 20); i++) buf[i] = (char)(i * 131 + (i >> 9));
  for (size_t i = 0; i < mb; i++)
    if (write(fd, buf, 1 << 20) != 1 << 20) {
      unlink(path);
      return 2;
    }
  close(fd);
  free(buf);
  sl_error err;
  sl_error_clear(&err);
  sl_s3_options single = {.creds = &cr, .endpoint_url = argv[1], .multipart_threshold = (size_t)-1};
  sl_s3_options multi = {.creds = &cr, .endpoint_url = argv[1], .part_size = 8u << 20, .parallel = par};
  sl_s3 *a = sl_s3_open(&single, &err), *b = sl_s3_open(&multi, &err);
  if (!a || !b || sl_s3_create_bucket(a, "bench", &err)) {
    fprintf(stderr, "bench_s3: %s\n", err.msg);
    unlink(path);
    return 2;
  }
  struct { const char *name; sl_s3 *s; bool mp; } runs[] = {{"single PUT", a, false}, {"multipart", b, true}};
  for (int r = 0; r < 2; r++) {
    double best = 1e9, best_cpu = 1e9;
    for (int rep = 0; rep < 3; rep++) {
      double t0 = now(), c0 = cpu_now();
      sl_status st = runs[r].mp ? sl_s3_put_file_multipart(runs[r].s, "bench", "obj", path, &err)
                                : sl_s3_put_file(runs[r].s, "bench", "obj", path, &err);
      double t = now() - t0, c = cpu_now() - c0;
      bool exists = false;
      uint64_t size = 0;
      if (st || sl_s3_head(runs[r].s, "bench", "obj", &exists, &size, &err) || size != mb << 20) {
        fprintf(stderr, "bench_s3: %s failed: %s\n", runs[r].name, err.msg);
        unlink(path);
        return 2;
      }
      if (t < best) best = t;
      if (c < best_cpu) best_cpu = c;
    }
    printf("%-12s %4zu MB  %7.1f MB/s wall  client CPU %.1f ms/MB  (best of 3%s)\n", runs[r].name, mb,
           (double)mb / best, best_cpu * 1e3 / (double)mb, runs[r].mp ? ", 8 MB parts in parallel" : "");
  }
  sl_s3_close(a);
  sl_s3_close(b);
  unlink(path);
  printf("no target\n");
  return 0;
}
