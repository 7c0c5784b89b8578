/* Fuzz target for the job file reader: any bytes either read as a job file
 * whose every value lies inside the reader's buffer and whose columns and
 * row count agree with its footer, or fail with a located error. Nothing may
 * crash. The input is tried twice: as is, and with its checksums repaired,
 * so that mutations reach the record parser behind the CRC checks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "sluice/rows.h"

static void check_file(const char *path) {
  sl_error err;
  sl_error_clear(&err);
  sl_job_reader *r = sl_job_reader_open(path, &err);
  if (!r) {
    if (err.code == 0 || !err.msg[0]) abort();
    return;
  }
  const sl_job_column *cols;
  size_t ncols = sl_job_reader_columns(r, &cols);
  for (size_t i = 0; i < ncols; i++)
    if (!cols[i].name || !cols[i].name[0] || (unsigned)cols[i].type >= SL_T_COUNT_) abort();
  if (!sl_job_reader_table(r) || !sl_job_reader_table(r)[0]) abort();
  const sl_row_value *v;
  size_t n;
  uint64_t rows = 0;
  volatile unsigned char sink = 0;
  sl_status st;
  while ((st = sl_job_read_row(r, &v, &n, &err)) == SL_OK) {
    if (n > ncols) abort();
    for (size_t i = 0; i < n; i++) {
      if (v[i].col >= ncols) abort();
      sl_dtype t = cols[v[i].col].type;
      if (t == SL_T_TEXT || t == SL_T_JSON || t == SL_T_DECIMAL || t == SL_T_WEI || t == SL_T_BINARY)
        for (size_t k = 0; k < v[i].v.s.n; k++) sink ^= (unsigned char)v[i].v.s.p[k]; /* ASan checks */
    }
    rows++;
  }
  if (st == SL_NOT_FOUND) {
    if (rows != sl_job_reader_row_count(r)) abort();
  } else if (!err.msg[0] || err.offset < 0 || !err.file[0]) {
    abort();
  }
  (void)sink;
  sl_job_reader_close(r);
}

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Recompute both CRCs of the trailer when its footer offset is in range. */
static int repair(uint8_t *d, size_t n) {
  if (n < 40) return 0;
  uint8_t *tr = d + n - 32;
  uint64_t off = 0;
  for (int i = 7; i >= 0; i--) off = (off << 8) | tr[i];
  if (off < 8 || off >= n - 32) return 0;
  put_u32(tr + 16, (uint32_t)crc32(0, d, (uInt)off));
  put_u32(tr + 20, (uint32_t)crc32(0, d + off, (uInt)(n - 32 - off)));
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/sl_fuzz_jobfile_%ld.sjob", (long)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  check_file(path);
  uint8_t *copy = malloc(size ? size : 1);
  if (copy) {
    memcpy(copy, data, size);
    if (repair(copy, size)) {
      f = fopen(path, "wb");
      if (f) {
        fwrite(copy, 1, size, f);
        fclose(f);
        check_file(path);
      }
    }
    free(copy);
  }
  unlink(path);
  return 0;
}
