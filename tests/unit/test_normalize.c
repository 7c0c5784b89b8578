/* Tests for the normalizer: the golden cases in tests/data/normalize/<case>/
 * (input.jsonl, optional hints.json, expected.txt: every table with its
 * columns, types and rows, deterministic ids), each run fed whole and in
 * small chunks, plus API tests. SL_UPDATE_GOLDEN=1 rewrites expected.txt
 * (review the diff before committing). Run one case: ./test_normalize golden
 * with SL_GOLDEN_CASE=<name>. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "normalize/normalize_int.h"
#include "sluice/detect.h"
#include "sluice/json.h"
#include "sluice/normalize.h"
#include "sluice/schema.h"
#include "test.h"

#define LOAD_ID "1700000000.000001"

/* ---- a sink that renders rows as text ------------------------------------------ */

typedef struct trow {
  char *table;
  char *line;
} trow;

typedef struct tsink {
  trow *rows;
  size_t n, cap;
  uint64_t calls;
  int fail_after; /* fail the row call with this index (1-based); 0 never */
} tsink;

static void fmt_value(sl_buf *b, const sl_column *c, const sl_row_value *v) {
  char tmp[64];
  switch (c->type) {
    case SL_T_TEXT:
    case SL_T_DECIMAL:
    case SL_T_WEI: sl_json_write_string(b, v->v.s.p, v->v.s.n); break;
    case SL_T_JSON: sl_buf_append(b, v->v.s.p, v->v.s.n); break;
    case SL_T_BINARY:
      sl_buf_puts(b, "0x");
      for (size_t i = 0; i < v->v.s.n; i++) sl_buf_printf(b, "%02x", (unsigned char)v->v.s.p[i]);
      break;
    case SL_T_BIGINT: sl_buf_printf(b, "%lld", (long long)v->v.i); break;
    case SL_T_DOUBLE:
      sl__py_float_repr(v->v.d, tmp, sizeof tmp);
      sl_buf_puts(b, tmp);
      break;
    case SL_T_BOOL: sl_buf_puts(b, v->v.b ? "true" : "false"); break;
    case SL_T_TIMESTAMP:
      sl_format_timestamp(v->v.i, tmp);
      sl_buf_puts(b, tmp);
      break;
    case SL_T_DATE:
      sl_format_date((int32_t)v->v.i, tmp);
      sl_buf_puts(b, tmp);
      break;
    case SL_T_TIME:
      sl_format_time(v->v.i, tmp);
      sl_buf_puts(b, tmp);
      break;
    default: sl_buf_puts(b, "?"); break;
  }
}

static int cmp_col(const void *a, const void *b) {
  const sl_row_value *x = a, *y = b;
  return x->col < y->col ? -1 : x->col > y->col;
}

static sl_status tsink_row(void *ud, const sl_schema *s, const sl_table *t, const sl_row_value *vals, size_t n,
                           sl_error *err) {
  tsink *k = ud;
  (void)s;
  k->calls++;
  if (k->fail_after && k->calls == (uint64_t)k->fail_after) return sl_error_set(err, SL_IO, "sink failed on purpose");
  sl_row_value *v = malloc(sizeof *v * (n ? n : 1));
  memcpy(v, vals, sizeof *v * n);
  qsort(v, n, sizeof *v, cmp_col);
  sl_buf b = {0};
  for (size_t i = 0; i < n; i++) {
    if (v[i].col >= t->ncolumns) abort();
    if (i && v[i].col == v[i - 1].col) abort(); /* a column twice in one row */
    const sl_column *c = &t->columns[v[i].col];
    if (c->incomplete) abort();
    sl_buf_printf(&b, "%s%s=", i ? " " : "", c->name);
    fmt_value(&b, c, &v[i]);
  }
  free(v);
  if (k->n == k->cap) {
    k->cap = k->cap ? k->cap * 2 : 64;
    k->rows = realloc(k->rows, sizeof *k->rows * k->cap);
  }
  k->rows[k->n].table = strdup(t->name);
  k->rows[k->n].line = b.data ? b.data : strdup("");
  k->n++;
  return SL_OK;
}

static void tsink_free(tsink *k) {
  for (size_t i = 0; i < k->n; i++) {
    free(k->rows[i].table);
    free(k->rows[i].line);
  }
  free(k->rows);
  memset(k, 0, sizeof *k);
}

/* Tables (system ones left out), columns and rows as the golden files show them. */
static void render(const sl_schema *s, const tsink *k, sl_buf *out) {
  for (size_t i = 0; i < s->ntables; i++) {
    const sl_table *t = s->tables[i];
    if (sl_table_is_system(t)) continue;
    if (t->parent)
      sl_buf_printf(out, "table %s (child of %s)\n", t->name, t->parent);
    else
      sl_buf_printf(out, "table %s (root, %s%s)\n", t->name, sl_wd_name(t->write_disposition),
                    t->write_disposition == SL_WD_MERGE && t->merge_strategy == SL_MERGE_UPSERT ? " upsert" : "");
    for (size_t c = 0; c < t->ncolumns; c++) {
      const sl_column *col = &t->columns[c];
      sl_buf_printf(out, "  col %s %s", col->name, col->incomplete ? "(incomplete)" : sl_dtype_name(col->type));
      if (!col->nullable) sl_buf_puts(out, " not-null");
      if (col->primary_key) sl_buf_puts(out, " primary-key");
      if (col->merge_key) sl_buf_puts(out, " merge-key");
      if (col->unique) sl_buf_puts(out, " unique");
      if (col->hard_delete) sl_buf_puts(out, " hard-delete");
      if (col->dedup_sort) sl_buf_puts(out, col->dedup_sort > 0 ? " dedup-asc" : " dedup-desc");
      if (col->variant) sl_buf_puts(out, " variant");
      if (col->seen_null_first) sl_buf_puts(out, " seen-null-first");
      sl_buf_putc(out, '\n');
    }
    for (size_t r = 0; r < k->n; r++)
      if (!strcmp(k->rows[r].table, t->name)) sl_buf_printf(out, "  row %s\n", k->rows[r].line);
  }
}

/* ---- reading a case -------------------------------------------------------------- */

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  size_t got = fread(b, 1, (size_t)n, f);
  fclose(f);
  b[got] = '\0';
  if (len) *len = got;
  return b;
}

static const char **str_list(const sl_value *v) {
  if (!v) return NULL;
  if (v->type == SL_V_STRING) {
    const char **l = calloc(2, sizeof *l);
    l[0] = v->u.s.ptr;
    return l;
  }
  const char **l = calloc(sl_v_len(v) + 1, sizeof *l);
  for (size_t i = 0; i < sl_v_len(v); i++) l[i] = sl_v_str(sl_v_at(v, i), "");
  return l;
}

static void parse_contract(const sl_value *v, sl_contract *c) {
  memset(c, 0, sizeof *c);
  if (v->type == SL_V_STRING) {
    c->tables = c->columns = c->data_type = (sl_contract_mode)sl_contract_mode_parse(v->u.s.ptr);
    return;
  }
  const sl_value *x;
  if ((x = sl_v_get(v, "tables"))) c->tables = (sl_contract_mode)sl_contract_mode_parse(sl_v_str(x, ""));
  if ((x = sl_v_get(v, "columns"))) c->columns = (sl_contract_mode)sl_contract_mode_parse(sl_v_str(x, ""));
  if ((x = sl_v_get(v, "data_type"))) c->data_type = (sl_contract_mode)sl_contract_mode_parse(sl_v_str(x, ""));
}

typedef struct phase {
  sl_resource_hints h;
  sl_contract contract;
  const char **pk, **mk;
  const char *input;
} phase;

static void phase_from(const sl_value *o, phase *p, const char *default_input) {
  memset(p, 0, sizeof *p);
  p->h.resource = sl_v_str(sl_v_get(o, "resource"), "items");
  p->h.table_name = sl_v_str(sl_v_get(o, "table_name"), NULL);
  p->pk = str_list(sl_v_get(o, "primary_key"));
  p->mk = str_list(sl_v_get(o, "merge_key"));
  p->h.primary_key = p->pk;
  p->h.merge_key = p->mk;
  p->h.write_disposition = (sl_write_disposition)sl_wd_parse(sl_v_str(sl_v_get(o, "write_disposition"), "append"));
  p->h.merge_strategy = !strcmp(sl_v_str(sl_v_get(o, "merge_strategy"), ""), "upsert") ? SL_MERGE_UPSERT
                                                                                        : SL_MERGE_DELETE_INSERT;
  p->h.max_table_nesting = (int)sl_v_int_or(sl_v_get(o, "max_table_nesting"), -1);
  p->h.hard_delete_column = sl_v_str(sl_v_get(o, "hard_delete_column"), NULL);
  p->h.dedup_sort_column = sl_v_str(sl_v_get(o, "dedup_sort_column"), NULL);
  p->h.dedup_sort_order = (int)sl_v_int_or(sl_v_get(o, "dedup_sort_order"), 1);
  p->h.root_id = sl_v_bool_or(sl_v_get(o, "root_id"), false);
  if (sl_v_get(o, "contract")) {
    parse_contract(sl_v_get(o, "contract"), &p->contract);
    p->h.contract = &p->contract;
  }
  p->h.columns = sl_v_get(o, "columns");
  p->input = sl_v_str(sl_v_get(o, "input"), default_input);
}

static void phase_free(phase *p) {
  free(p->pk);
  free(p->mk);
}

static void schema_options(sl_schema *s, const sl_value *o) {
  if (!o) return;
  const sl_value *x;
  if ((x = sl_v_get(o, "max_table_nesting"))) s->max_table_nesting = (int)sl_v_int_or(x, 1000);
  if ((x = sl_v_get(o, "max_identifier_len"))) s->max_identifier_len = (size_t)sl_v_int_or(x, 65536);
  if ((x = sl_v_get(o, "contract"))) parse_contract(x, &s->contract);
  if ((x = sl_v_get(o, "detections"))) {
    s->detect_iso_timestamp = s->detect_iso_date = s->detect_timestamp = s->detect_large_integer = false;
    for (size_t i = 0; i < sl_v_len(x); i++) {
      const char *d = sl_v_str(sl_v_at(x, i), "");
      if (!strcmp(d, "iso_timestamp")) s->detect_iso_timestamp = true;
      if (!strcmp(d, "iso_date")) s->detect_iso_date = true;
      if (!strcmp(d, "timestamp")) s->detect_timestamp = true;
      if (!strcmp(d, "large_integer")) s->detect_large_integer = true;
    }
  }
}

/* Runs one case with the input fed in chunks of `chunk` bytes (0: whole);
 * renders tables, rows and any error into out. */
static void run_case(const char *dir, size_t chunk, sl_buf *out) {
  char path[8400];
  snprintf(path, sizeof path, "%s/hints.json", dir);
  size_t hl = 0;
  char *htext = read_all(path, &hl);
  sl_error err = {0};
  sl_doc *hd = htext ? sl_json_parse_doc(htext, hl, path, &err) : NULL;
  if (htext && !hd) {
    sl_buf_printf(out, "bad hints.json: %s\n", err.msg);
    free(htext);
    return;
  }
  const sl_value *hroot = hd ? hd->root : NULL;
  sl_schema *s = sl_schema_new("golden");
  schema_options(s, sl_v_get(hroot, "schema"));
  tsink k = {0};
  k.fail_after = (int)sl_v_int_or(sl_v_get(hroot, "sink_fails_at_row"), 0);
  sl_row_sink sink = {&k, tsink_row};
  sl_normalizer *n = sl_normalizer_new(s, LOAD_ID, sink, &err);
  sl_normalizer_set_id_mode(n, SL_IDS_SEQUENTIAL);
  phase ph[4];
  size_t nph = 0;
  phase_from(hroot, &ph[nph++], "input.jsonl");
  for (const sl_value *th = sl_v_get(hroot, "then"); th && nph < 4; th = sl_v_get(th, "then")) {
    char dflt[32];
    snprintf(dflt, sizeof dflt, "input%zu.jsonl", nph + 1);
    phase_from(th, &ph[nph], dflt);
    ph[nph].input = sl_v_str(sl_v_get(th, "input"), nph == 1 ? "input2.jsonl" : nph == 2 ? "input3.jsonl" : "input4.jsonl");
    nph++;
  }
  sl_status st = SL_OK;
  for (size_t p = 0; !st && p < nph; p++) {
    snprintf(path, sizeof path, "%s/%s", dir, ph[p].input);
    size_t len = 0;
    char *in = read_all(path, &len);
    if (!in) {
      sl_buf_printf(out, "missing %s\n", ph[p].input);
      break;
    }
    st = sl_normalizer_begin(n, &ph[p].h, &err);
    for (size_t off = 0; !st && off < len;) {
      size_t c = chunk ? (len - off < chunk ? len - off : chunk) : len;
      st = sl_normalizer_feed(n, in + off, c, &err);
      off += c;
    }
    if (!st) st = sl_normalizer_end(n, &err);
    free(in);
  }
  render(s, &k, out);
  if (st) {
    sl_buf_printf(out, "error %s", sl_status_name(st));
    if (err.table[0]) sl_buf_printf(out, " [%s%s%s]", err.table, err.column[0] ? "." : "", err.column);
    if (err.line) sl_buf_printf(out, " at %d:%d", err.line, err.col);
    sl_buf_printf(out, ": %s\n", err.msg);
  }
  const sl_normalize_stats *stt = sl_normalizer_stats(n);
  if (stt->discarded_rows || stt->discarded_values)
    sl_buf_printf(out, "discarded rows=%llu values=%llu\n", (unsigned long long)stt->discarded_rows,
                  (unsigned long long)stt->discarded_values);
  for (size_t p = 0; p < nph; p++) phase_free(&ph[p]);
  sl_normalizer_free(n);
  sl_schema_free(s);
  tsink_free(&k);
  sl_doc_free(hd);
  free(htext);
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

TEST(golden) {
  char root[4096];
  snprintf(root, sizeof root, "%s/normalize", SL_TEST_DATA);
  DIR *d = opendir(root);
  CHECK(d != NULL);
  char *names[512];
  size_t nn = 0;
  struct dirent *e;
  while ((e = readdir(d)) && nn < 512)
    if (e->d_name[0] != '.') names[nn++] = strdup(e->d_name);
  closedir(d);
  qsort(names, nn, sizeof *names, name_cmp);
  const char *only = getenv("SL_GOLDEN_CASE");
  bool update = getenv("SL_UPDATE_GOLDEN") && *getenv("SL_UPDATE_GOLDEN") == '1';
  int failures = 0, ran = 0;
  for (size_t i = 0; i < nn; i++) {
    if (only && strcmp(only, names[i])) continue;
    char dir[8200], exp_path[8300];
    snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
    snprintf(exp_path, sizeof exp_path, "%s/expected.txt", dir);
    sl_buf whole = {0}, chunked = {0}, tiny = {0};
    run_case(dir, 0, &whole);
    run_case(dir, 7, &chunked);
    run_case(dir, 1, &tiny);
    ran++;
    const char *got = whole.data ? whole.data : "";
    if (strcmp(got, chunked.data ? chunked.data : "") || strcmp(got, tiny.data ? tiny.data : "")) {
      fprintf(stderr, "  case %s: chunked input gives different output:\n%s\n--- vs ---\n%s\n", names[i], got,
              chunked.data ? chunked.data : "");
      failures++;
    }
    char *want = read_all(exp_path, NULL);
    if (update) {
      FILE *f = fopen(exp_path, "wb");
      if (f) {
        fputs(got, f);
        fclose(f);
      }
    } else if (!want || strcmp(want, got)) {
      fprintf(stderr, "  case %s: output differs from expected.txt\n--- got ---\n%s--- expected ---\n%s", names[i],
              got, want ? want : "(missing)\n");
      failures++;
    }
    free(want);
    sl_buf_free(&whole);
    sl_buf_free(&chunked);
    sl_buf_free(&tiny);
  }
  for (size_t i = 0; i < nn; i++) free(names[i]);
  if (!only) CHECK_MSG(ran >= 40, "only %d golden cases", ran);
  CHECK_MSG(failures == 0, "%d golden case(s) failed", failures);
}

/* ---- API ------------------------------------------------------------------------ */

typedef struct fwd {
  sl_normalizer *n;
  sl_error *err;
} fwd;

static int forward(void *ud, const sl_json_event *ev) {
  fwd *f = ud;
  return sl_normalizer_event(f->n, ev, f->err) != SL_OK;
}

static const char *RECS = "{\"id\":1,\"tags\":[\"a\",\"b\"],\"m\":{\"x\":1}}\n{\"id\":2,\"tags\":[]}\n7\n";

static void render_run(sl_schema *s, tsink *k, sl_buf *out) { render(s, k, out); }

TEST(event_api_matches_feed) {
  sl_buf a = {0}, b = {0};
  sl_error err;
  for (int mode = 0; mode < 2; mode++) {
    sl_schema *s = sl_schema_new("t");
    tsink k = {0};
    sl_normalizer *n = sl_normalizer_new(s, LOAD_ID, (sl_row_sink){&k, tsink_row}, &err);
    sl_normalizer_set_id_mode(n, SL_IDS_SEQUENTIAL);
    sl_resource_hints h = {.resource = "r", .max_table_nesting = -1};
    CHECK_OK(sl_normalizer_begin(n, &h, &err));
    if (mode == 0) {
      CHECK_OK(sl_normalizer_feed(n, RECS, strlen(RECS), &err));
    } else {
      fwd f = {n, &err};
      sl_json_options o = {.multi = true};
      sl_json_parser *p = sl_json_parser_new(&o, forward, &f);
      CHECK_OK(sl_json_feed(p, RECS, strlen(RECS), &err));
      CHECK_OK(sl_json_finish(p, &err));
      sl_json_parser_free(p);
    }
    CHECK_OK(sl_normalizer_end(n, &err));
    const sl_normalize_stats *st = sl_normalizer_stats(n);
    CHECK_INT(st->records, 3);
    CHECK_INT(st->rows, 5);
    const char *names[8];
    uint64_t counts[8];
    size_t nt = sl_normalizer_table_rows(n, names, counts, 8);
    CHECK_INT(nt, 2);
    CHECK_STR(names[0], "r");
    CHECK_INT(counts[0], 3);
    CHECK_STR(names[1], "r__tags");
    CHECK_INT(counts[1], 2);
    render_run(s, &k, mode ? &b : &a);
    CHECK(sl_schema_find_table(s, "r")->seen_data);
    sl_normalizer_free(n);
    sl_schema_free(s);
    tsink_free(&k);
  }
  CHECK_STR(a.data, b.data);
  sl_buf_free(&a);
  sl_buf_free(&b);
}

TEST(random_ids) {
  sl_schema *s = sl_schema_new("t");
  tsink k = {0};
  sl_error err;
  sl_normalizer *n = sl_normalizer_new(s, LOAD_ID, (sl_row_sink){&k, tsink_row}, &err);
  sl_resource_hints h = {.resource = "r", .max_table_nesting = -1};
  CHECK_OK(sl_normalizer_begin(n, &h, &err));
  const char *in = "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";
  CHECK_OK(sl_normalizer_feed(n, in, strlen(in), &err));
  CHECK_OK(sl_normalizer_end(n, &err));
  CHECK_INT(k.n, 3);
  char ids[3][32];
  for (int i = 0; i < 3; i++) {
    const char *p = strstr(k.rows[i].line, "_dlt_id=\"");
    CHECK(p);
    p += 9;
    size_t len = strcspn(p, "\"");
    CHECK_INT(len, 14);
    CHECK(strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") >= 14);
    snprintf(ids[i], sizeof ids[i], "%.*s", (int)len, p);
  }
  CHECK(strcmp(ids[0], ids[1]) && strcmp(ids[1], ids[2]) && strcmp(ids[0], ids[2]));
  sl_normalizer_free(n);
  sl_schema_free(s);
  tsink_free(&k);
}

TEST(misuse_is_reported) {
  sl_schema *s = sl_schema_new("t");
  tsink k = {0};
  sl_error err;
  CHECK(sl_normalizer_new(NULL, LOAD_ID, (sl_row_sink){&k, tsink_row}, &err) == NULL);
  CHECK_INT(err.code, SL_INVALID_ARG);
  sl_normalizer *n = sl_normalizer_new(s, LOAD_ID, (sl_row_sink){&k, tsink_row}, &err);
  CHECK_INT(sl_normalizer_feed(n, "{}", 2, &err), SL_INVALID_ARG);
  sl_normalizer_free(n);
  n = sl_normalizer_new(s, LOAD_ID, (sl_row_sink){&k, tsink_row}, &err);
  sl_resource_hints h = {.resource = NULL};
  CHECK_INT(sl_normalizer_begin(n, &h, &err), SL_INVALID_ARG);
  h.resource = "r";
  h.max_table_nesting = -1;
  CHECK_OK(sl_normalizer_begin(n, &h, &err));
  CHECK_OK(sl_normalizer_feed(n, "{\"a\": [1, ", 10, &err));
  CHECK_INT(sl_normalizer_begin(n, &h, &err), SL_INVALID_ARG); /* inside a record */
  CHECK_CONTAINS(err.msg, "inside a record");
  sl_normalizer_free(n);
  /* a resource named like a child table: "__" collapses in a table name */
  n = sl_normalizer_new(s, LOAD_ID, (sl_row_sink){&k, tsink_row}, &err);
  CHECK(sl_schema_add_table(s, "p", NULL, &err) && sl_schema_add_table(s, "p__c", "p", &err));
  h.resource = "p__c";
  CHECK_OK(sl_normalizer_begin(n, &h, &err));
  CHECK(sl_schema_find_table(s, "p_c") != NULL);
  /* an unknown data type in column hints */
  sl_doc *d = sl_json_parse_doc("{\"x\":{\"data_type\":\"number\"}}", 28, "h", &err);
  h.resource = "q";
  h.columns = d->root;
  CHECK_INT(sl_normalizer_begin(n, &h, &err), SL_SCHEMA);
  CHECK_CONTAINS(err.msg, "number");
  sl_doc_free(d);
  sl_normalizer_free(n);
  sl_schema_free(s);
  tsink_free(&k);
}

TEST(timestamp_detection_on_numbers) {
  sl_schema *s = sl_schema_new("t");
  s->detect_timestamp = true;
  tsink k = {0};
  sl_error err;
  sl_normalizer *n = sl_normalizer_new(s, LOAD_ID, (sl_row_sink){&k, tsink_row}, &err);
  sl_resource_hints h = {.resource = "r", .max_table_nesting = -1};
  CHECK_OK(sl_normalizer_begin(n, &h, &err));
  char in[128];
  long now = (long)time(NULL);
  snprintf(in, sizeof in, "{\"near\": %ld, \"far\": 5, \"f\": %ld.5}\n", now - 86400, now + 3600);
  CHECK_OK(sl_normalizer_feed(n, in, strlen(in), &err));
  CHECK_OK(sl_normalizer_end(n, &err));
  const sl_table *t = sl_schema_find_table(s, "r");
  CHECK_INT(t->columns[0].type, SL_T_TIMESTAMP);
  CHECK_INT(t->columns[1].type, SL_T_BIGINT);
  CHECK_INT(t->columns[2].type, SL_T_TIMESTAMP);
  sl_normalizer_free(n);
  sl_schema_free(s);
  tsink_free(&k);
}

TEST(memory_does_not_grow_with_records) {
  sl_schema *s = sl_schema_new("t");
  tsink k = {0};
  sl_error err;
  sl_row_sink sink = {&k, tsink_row};
  sl_normalizer *n = sl_normalizer_new(s, LOAD_ID, sink, &err);
  sl_resource_hints h = {.resource = "r", .max_table_nesting = -1};
  CHECK_OK(sl_normalizer_begin(n, &h, &err));
  const char *rec = "{\"id\":1,\"a\":{\"b\":\"x\"},\"l\":[{\"c\":1},{\"c\":2}],\"s\":[1,2,3]}\n";
  uint32_t nodes = 0, caprows = 0, capvals = 0;
  for (int i = 0; i < 20000; i++) {
    CHECK_OK(sl_normalizer_feed(n, rec, strlen(rec), &err));
    if (i == 100) {
      nodes = n->nnodes;
      caprows = n->caprows;
      capvals = n->capvals;
    }
    if (k.n > 1000) tsink_free(&k); /* the sink's own memory is not ours */
  }
  CHECK_OK(sl_normalizer_end(n, &err));
  CHECK_INT(n->nnodes, nodes);
  CHECK_INT(n->caprows, caprows);
  CHECK_INT(n->capvals, capvals);
  CHECK(n->rec.used < 64 * 1024);
  CHECK_INT(sl_normalizer_stats(n)->rows, 20000 * 6);
  sl_normalizer_free(n);
  sl_schema_free(s);
  tsink_free(&k);
}

TEST(deep_nesting_without_recursion) {
  sl_schema *s = sl_schema_new("t");
  tsink k = {0};
  sl_error err;
  sl_normalizer *n = sl_normalizer_new(s, LOAD_ID, (sl_row_sink){&k, tsink_row}, &err);
  sl_resource_hints h = {.resource = "r", .max_table_nesting = -1};
  CHECK_OK(sl_normalizer_begin(n, &h, &err));
  sl_buf b = {0};
  for (int i = 0; i < 1000; i++) sl_buf_puts(&b, i % 2 ? "[" : "{\"k\":");
  sl_buf_puts(&b, "1");
  for (int i = 999; i >= 0; i--) sl_buf_puts(&b, i % 2 ? "]" : "}");
  CHECK_OK(sl_normalizer_feed(n, b.data, b.len, &err));
  CHECK_OK(sl_normalizer_end(n, &err));
  CHECK(s->ntables > 100);
  sl_buf_free(&b);
  sl_normalizer_free(n);
  sl_schema_free(s);
  tsink_free(&k);
}

TEST(py_float_repr) {
  char b[64];
  const struct {
    double d;
    const char *s;
  } cases[] = {{0.1, "0.1"},       {1.0, "1.0"},       {-2.5, "-2.5"},          {1e16, "1e+16"},
               {1e15, "1000000000000000.0"}, {1.5e-5, "1.5e-05"}, {0.0001, "0.0001"}, {123456789.125, "123456789.125"},
               {1e300, "1e+300"},  {-0.0, "-0.0"},     {5e-324, "5e-324"},      {1.7976931348623157e308, "1.7976931348623157e+308"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sl__py_float_repr(cases[i].d, b, sizeof b);
    CHECK_STR(b, cases[i].s);
  }
}

TEST_MAIN()
