/* Job files: what the writer writes the reader gives back, value for value;
 * every kind of damage (truncation, flipped bytes, a missing footer) is
 * rejected with the file and the byte offset. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/package.h"
#include "sluice/rows.h"
#include "test.h"

static char tmpdir[256];

static const char *tmp_path(const char *name) {
  static char path[512];
  if (!tmpdir[0]) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sl_test_jobfile_%ld", (long)getpid());
    sl_rm_rf(tmpdir, NULL);
    sl_mkdir_p(tmpdir, NULL);
  }
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  unlink(path);
  return path;
}

/* A table built by hand: the schema module is not needed to write rows. */
typedef struct hand_table {
  sl_table t;
  sl_column cols[16];
} hand_table;

static void table_init(hand_table *h, const char *name) {
  memset(h, 0, sizeof *h);
  h->t.name = (char *)name;
  h->t.columns = h->cols;
  h->t.capcolumns = 16;
}

static int add_col(hand_table *h, const char *name, sl_dtype type) {
  sl_column *c = &h->cols[h->t.ncolumns];
  memset(c, 0, sizeof *c);
  c->name = (char *)name;
  c->type = type;
  c->nullable = true;
  return (int)h->t.ncolumns++;
}

static sl_row_value vi(int col, int64_t i) {
  sl_row_value v = {.col = (uint32_t)col};
  v.v.i = i;
  return v;
}
static sl_row_value vd(int col, double d) {
  sl_row_value v = {.col = (uint32_t)col};
  v.v.d = d;
  return v;
}
static sl_row_value vb(int col, bool b) {
  sl_row_value v = {.col = (uint32_t)col};
  v.v.b = b;
  return v;
}
static sl_row_value vs(int col, const char *s, size_t n) {
  sl_row_value v = {.col = (uint32_t)col};
  v.v.s.p = s;
  v.v.s.n = n;
  return v;
}

static char *slurp(const char *path, size_t *n) {
  char *data;
  if (sl_read_file(path, &data, n, NULL)) return NULL;
  return data;
}

static void spit(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(data, 1, n, f);
  fclose(f);
}

/* Writes a small file with every type; returns its size. */
static size_t write_sample(const char *path) {
  hand_table h;
  table_init(&h, "pins");
  int id = add_col(&h, "id", SL_T_BIGINT);
  int title = add_col(&h, "title", SL_T_TEXT);
  int score = add_col(&h, "score", SL_T_DOUBLE);
  int ok = add_col(&h, "ok", SL_T_BOOL);
  int ts = add_col(&h, "created_at", SL_T_TIMESTAMP);
  int day = add_col(&h, "day", SL_T_DATE);
  int tm = add_col(&h, "at", SL_T_TIME);
  int blob = add_col(&h, "raw", SL_T_BINARY);
  int js = add_col(&h, "meta", SL_T_JSON);
  int dec = add_col(&h, "price", SL_T_DECIMAL);
  int wei = add_col(&h, "big", SL_T_WEI);
  sl_error err;
  sl_job_writer *w = sl_job_writer_open(path, "pins", &err);
  if (!w) return 0;
  sl_row_value r1[] = {vi(id, 1), vs(title, "héllo", strlen("héllo")), vd(score, 2.5), vb(ok, true),
                       vi(ts, 1700000000123456LL), vi(day, 19000), vi(tm, 3600000000LL),
                       vs(blob, "\0\1\2", 3), vs(js, "{\"a\":[1]}", 9), vs(dec, "12.345", 6),
                       vs(wei, "123456789012345678901234567890", 30)};
  sl_job_write_row(w, &h.t, r1, sizeof r1 / sizeof *r1, &err);
  sl_row_value r2[] = {vi(id, -9223372036854775807LL - 1), vb(ok, false)};
  sl_job_write_row(w, &h.t, r2, 2, &err);
  sl_row_value r3[] = {vs(title, "", 0), vi(id, 3)}; /* any column order */
  sl_job_write_row(w, &h.t, r3, 2, &err);
  if (sl_job_writer_close(w, &err)) return 0;
  struct stat sb;
  stat(path, &sb);
  return (size_t)sb.st_size;
}

TEST(roundtrip_every_type) {
  const char *path = tmp_path("pins.0.0.sjob");
  CHECK(write_sample(path) > 0);
  sl_error err;
  sl_job_reader *r = sl_job_reader_open(path, &err);
  CHECK_MSG(r, "%s", err.msg);
  CHECK_STR(sl_job_reader_table(r), "pins");
  CHECK_INT(sl_job_reader_row_count(r), 3);
  const sl_job_column *cols;
  CHECK_INT(sl_job_reader_columns(r, &cols), 11);
  CHECK_STR(cols[0].name, "id");
  CHECK_INT(cols[0].type, SL_T_BIGINT);
  CHECK_STR(cols[10].name, "big");
  CHECK_INT(cols[10].type, SL_T_WEI);
  const sl_row_value *v;
  size_t n;
  CHECK_OK(sl_job_read_row(r, &v, &n, &err));
  CHECK_INT(n, 11);
  CHECK_INT(v[0].v.i, 1);
  CHECK(v[1].v.s.n == strlen("héllo") && !memcmp(v[1].v.s.p, "héllo", v[1].v.s.n));
  CHECK(v[2].v.d == 2.5);
  CHECK(v[3].v.b);
  CHECK_INT(v[4].v.i, 1700000000123456LL);
  CHECK_INT(v[5].v.i, 19000);
  CHECK_INT(v[6].v.i, 3600000000LL);
  CHECK(v[7].v.s.n == 3 && !memcmp(v[7].v.s.p, "\0\1\2", 3));
  CHECK(v[8].v.s.n == 9 && !memcmp(v[8].v.s.p, "{\"a\":[1]}", 9));
  CHECK(v[9].v.s.n == 6 && !memcmp(v[9].v.s.p, "12.345", 6));
  CHECK_INT(v[10].v.s.n, 30);
  CHECK_OK(sl_job_read_row(r, &v, &n, &err));
  CHECK_INT(n, 2);
  CHECK_INT(v[0].col, 0);
  CHECK(v[0].v.i == -9223372036854775807LL - 1);
  CHECK_INT(v[1].col, 3);
  CHECK(!v[1].v.b);
  CHECK_OK(sl_job_read_row(r, &v, &n, &err));
  CHECK_INT(n, 2);
  CHECK_INT(v[0].col, 1); /* file columns, in the row's own order */
  CHECK_INT(v[0].v.s.n, 0);
  CHECK_INT(v[1].v.i, 3);
  CHECK_INT(sl_job_read_row(r, &v, &n, &err), SL_NOT_FOUND);
  CHECK_INT(sl_job_read_row(r, &v, &n, &err), SL_NOT_FOUND);
  sl_job_reader_close(r);
}

TEST(columns_recorded_on_first_use_map_schema_indexes) {
  /* The file's column list holds only the columns used, in first-use order. */
  hand_table h;
  table_init(&h, "t");
  add_col(&h, "a", SL_T_BIGINT);
  add_col(&h, "b", SL_T_TEXT);
  int c = add_col(&h, "c", SL_T_DOUBLE);
  const char *path = tmp_path("t.0.0.sjob");
  sl_error err;
  sl_job_writer *w = sl_job_writer_open(path, "t", &err);
  CHECK(w);
  sl_row_value r1[] = {vd(c, 1.5)};
  CHECK_OK(sl_job_write_row(w, &h.t, r1, 1, &err));
  /* A column added to the table mid-file (schema evolution). */
  int d = add_col(&h, "d", SL_T_BOOL);
  sl_row_value r2[] = {vb(d, true), vd(c, 2.5)};
  CHECK_OK(sl_job_write_row(w, &h.t, r2, 2, &err));
  CHECK_INT(sl_job_writer_rows(w), 2);
  CHECK(sl_job_writer_bytes(w) > 8);
  CHECK_OK(sl_job_writer_close(w, &err));
  sl_job_reader *r = sl_job_reader_open(path, &err);
  CHECK(r);
  const sl_job_column *cols;
  CHECK_INT(sl_job_reader_columns(r, &cols), 2);
  CHECK_STR(cols[0].name, "c");
  CHECK_STR(cols[1].name, "d");
  const sl_row_value *v;
  size_t n;
  CHECK_OK(sl_job_read_row(r, &v, &n, &err));
  CHECK_INT(v[0].col, 0);
  CHECK_OK(sl_job_read_row(r, &v, &n, &err));
  CHECK_INT(v[0].col, 1);
  CHECK(v[0].v.b);
  CHECK_INT(v[1].col, 0);
  CHECK(v[1].v.d == 2.5);
  CHECK_INT(sl_job_read_row(r, &v, &n, &err), SL_NOT_FOUND);
  sl_job_reader_close(r);
}

TEST(empty_job_file) {
  const char *path = tmp_path("e.0.0.sjob");
  sl_error err;
  sl_job_writer *w = sl_job_writer_open(path, "e", &err);
  CHECK(w);
  CHECK_OK(sl_job_writer_close(w, &err));
  sl_job_reader *r = sl_job_reader_open(path, &err);
  CHECK_MSG(r, "%s", err.msg);
  CHECK_INT(sl_job_reader_row_count(r), 0);
  CHECK_INT(sl_job_reader_columns(r, NULL), 0);
  const sl_row_value *v;
  size_t n;
  CHECK_INT(sl_job_read_row(r, &v, &n, &err), SL_NOT_FOUND);
  sl_job_reader_close(r);
}

TEST(large_values_and_many_rows) {
  /* Values bigger than the 256 KiB buffers, and enough rows to cross many refills. */
  hand_table h;
  table_init(&h, "big");
  int id = add_col(&h, "id", SL_T_BIGINT);
  int s = add_col(&h, "s", SL_T_TEXT);
  const char *path = tmp_path("big.0.0.sjob");
  size_t bign = 1u << 20;
  char *big = malloc(bign);
  for (size_t i = 0; i < bign; i++) big[i] = (char)('a' + i % 26);
  sl_error err;
  sl_job_writer *w = sl_job_writer_open(path, "big", &err);
  CHECK(w);
  for (int i = 0; i < 50000; i++) {
    sl_row_value r[] = {vi(id, i), vs(s, big, (i % 10000 == 7) ? bign : (size_t)(i % 50))};
    CHECK_OK(sl_job_write_row(w, &h.t, r, 2, &err));
  }
  CHECK_OK(sl_job_writer_close(w, &err));
  sl_job_reader *r = sl_job_reader_open(path, &err);
  CHECK(r);
  const sl_row_value *v;
  size_t n;
  int i = 0;
  sl_status st;
  while ((st = sl_job_read_row(r, &v, &n, &err)) == SL_OK) {
    size_t want = (i % 10000 == 7) ? bign : (size_t)(i % 50);
    if (v[0].v.i != i || v[1].v.s.n != want || memcmp(v[1].v.s.p, big, want) != 0) break;
    i++;
  }
  CHECK_INT(st, SL_NOT_FOUND);
  CHECK_INT(i, 50000);
  sl_job_reader_close(r);
  free(big);
}

TEST(writer_refuses_existing_file_and_bad_column) {
  const char *path = tmp_path("x.0.0.sjob");
  spit(path, "x", 1);
  sl_error err;
  CHECK(sl_job_writer_open(path, "x", &err) == NULL);
  CHECK_INT(err.code, SL_EXISTS);
  CHECK_CONTAINS(err.msg, path);
  unlink(path);
  hand_table h;
  table_init(&h, "x");
  add_col(&h, "a", SL_T_BIGINT);
  sl_job_writer *w = sl_job_writer_open(path, "x", &err);
  CHECK(w);
  sl_row_value r[] = {vi(5, 1)};
  CHECK_INT(sl_job_write_row(w, &h.t, r, 1, &err), SL_INVALID_ARG);
  /* The writer is poisoned: close fails and removes the file. */
  CHECK(sl_job_writer_close(w, &err) != SL_OK);
  CHECK(access(path, F_OK) != 0);
}

TEST(discard_removes_file) {
  const char *path = tmp_path("d.0.0.sjob");
  sl_job_writer *w = sl_job_writer_open(path, "d", NULL);
  CHECK(w);
  sl_job_writer_discard(w);
  CHECK(access(path, F_OK) != 0);
}

static sl_status read_all(const char *path, sl_error *err, uint64_t *rows) {
  sl_job_reader *r = sl_job_reader_open(path, err);
  if (!r) return err->code;
  const sl_row_value *v;
  size_t n;
  sl_status st;
  *rows = 0;
  while ((st = sl_job_read_row(r, &v, &n, err)) == SL_OK) (*rows)++;
  sl_job_reader_close(r);
  return st == SL_NOT_FOUND ? SL_OK : st;
}

TEST(truncated_file_rejected_with_location) {
  const char *good = tmp_path("good.0.0.sjob");
  size_t size = write_sample(good);
  size_t n;
  char *data = slurp(good, &n);
  CHECK(data && n == size);
  char bad[600];
  snprintf(bad, sizeof bad, "%s", tmp_path("bad.0.0.sjob"));
  /* Every truncation fails cleanly, naming the file. */
  for (size_t cut = 0; cut < size; cut++) {
    spit(bad, data, cut);
    sl_error err;
    sl_error_clear(&err);
    uint64_t rows;
    sl_status st = read_all(bad, &err, &rows);
    CHECK_MSG(st != SL_OK, "truncated at %zu accepted", cut);
    CHECK_STR(err.file, bad);
    CHECK(err.offset >= 0);
  }
  free(data);
}

TEST(any_flipped_byte_is_detected) {
  const char *good = tmp_path("flip.0.0.sjob");
  size_t size = write_sample(good);
  size_t n;
  char *data = slurp(good, &n);
  CHECK(data && n == size);
  char bad[600];
  snprintf(bad, sizeof bad, "%s", tmp_path("flipped.0.0.sjob"));
  for (size_t i = 0; i < size; i++) {
    for (int bit = 0; bit < 8; bit += 3) {
      data[i] ^= (char)(1 << bit);
      spit(bad, data, size);
      data[i] ^= (char)(1 << bit);
      sl_error err;
      uint64_t rows;
      sl_status st = read_all(bad, &err, &rows);
      CHECK_MSG(st != SL_OK, "flip of bit %d at byte %zu accepted", bit, i);
      CHECK_CONTAINS(err.msg, bad);
    }
  }
  free(data);
}

TEST(corrupt_body_reports_checksum) {
  const char *path = tmp_path("crc.0.0.sjob");
  size_t size = write_sample(path);
  size_t n;
  char *data = slurp(path, &n);
  CHECK(data && n == size);
  /* Change a text byte inside a row (still well-formed): only the CRC notices. */
  char *h = memmem(data, n, "llo", 3);
  CHECK(h);
  h[0] = 'L';
  spit(path, data, n);
  free(data);
  sl_error err;
  uint64_t rows;
  CHECK_INT(read_all(path, &err, &rows), SL_IO);
  CHECK_CONTAINS(err.msg, "checksum mismatch in the rows");
  CHECK_CONTAINS(err.msg, "corrupt job file");
}

TEST(not_a_job_file) {
  const char *path = tmp_path("text.0.0.sjob");
  const char *txt = "{\"id\": 1}\n{\"id\": 2}\n{\"id\": 3}\n{\"id\": 4}\n";
  spit(path, txt, strlen(txt));
  sl_error err;
  CHECK(sl_job_reader_open(path, &err) == NULL);
  CHECK_CONTAINS(err.msg, "bad magic");
  CHECK_INT(err.offset, 0);
  CHECK(sl_job_reader_open(tmp_path("missing.sjob"), &err) == NULL);
  CHECK_INT(err.code, SL_NOT_FOUND);
}

TEST(no_footer_means_incomplete) {
  /* A writer killed before close leaves a file with rows but no footer. */
  hand_table h;
  table_init(&h, "k");
  int a = add_col(&h, "a", SL_T_BIGINT);
  const char *path = tmp_path("k.0.0.sjob");
  sl_job_writer *w = sl_job_writer_open(path, "k", NULL);
  CHECK(w);
  for (int i = 0; i < 100000; i++) {
    sl_row_value r[] = {vi(a, i)};
    sl_job_write_row(w, &h.t, r, 1, NULL);
  }
  /* Simulate the kill: copy what reached the file so far, then discard. */
  size_t n;
  char *data = slurp(path, &n);
  CHECK(data && n > 0);
  char copy[600];
  snprintf(copy, sizeof copy, "%s.copy", path);
  spit(copy, data, n);
  free(data);
  sl_job_writer_discard(w);
  sl_error err;
  CHECK(sl_job_reader_open(copy, &err) == NULL);
  CHECK_CONTAINS(err.msg, "not completed");
  unlink(copy);
}

TEST(cleanup) { sl_rm_rf(tmpdir, NULL); }

TEST_MAIN()
