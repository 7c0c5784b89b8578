/* Tests for sources and resources: the source YAML's validation (file:line:col,
 * "did you mean"), the file resource's formats (JSON Lines, JSON array, data
 * selector, gzip, glob, folder), the emitter (records, pages, byte-by-byte
 * streams, limits, parent → child resources, state). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sluice/json.h"
#include "sluice/package.h"
#include "sluice/source.h"
#include "source/source_int.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------------ */

static char *tmpdir(void) {
  char tmpl[] = "/tmp/sl_test_source_XXXXXX";
  char *d = mkdtemp(tmpl);
  return d ? strdup(d) : NULL;
}

static void write_text(const char *dir, const char *name, const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *slash = strrchr(path, '/');
  *slash = '\0';
  sl_mkdir_p(path, NULL);
  *slash = '/';
  FILE *f = fopen(path, "wb");
  fputs(text, f);
  fclose(f);
}

static void write_gz(const char *dir, const char *name, const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  gzFile g = gzopen(path, "wb");
  gzwrite(g, text, (unsigned)strlen(text));
  gzclose(g);
}

static sl_source *yaml_source(const char *yaml, const char *base, sl_error *err) {
  sl_source_env env = {.base_dir = base};
  return sl_source_from_yaml(yaml, strlen(yaml), "src.yaml", &env, err);
}

/* Everything the extract wrote for resource r, concatenated. */
typedef struct extracted {
  sl__extract_result *res;
  size_t n;
  sl_doc *state;
  char dir[1024];
} extracted;

static sl_status run_extract(sl_source *s, const char *base, int64_t limit, sl_doc *state,
                             extracted *x, sl_error *err) {
  memset(x, 0, sizeof *x);
  snprintf(x->dir, sizeof x->dir, "%s/extract", base);
  sl_rm_rf(x->dir, NULL);
  sl_mkdir_p(x->dir, NULL);
  sl_doc *sd = state ? state : sl_doc_new("state");
  if (!sd->root) sd->root = sl_v_object(sd);
  sl__extract_opts o = {.extract_dir = x->dir, .file_max_bytes = 1 << 20, .limit = limit,
                        .state_doc = sd, .resources_state = sd->root};
  x->state = sd;
  return sl__source_extract(s, &o, &x->res, &x->n, err);
}

static const sl__extract_result *result_of(const extracted *x, const char *name) {
  for (size_t i = 0; i < x->n; i++)
    if (!strcmp(x->res[i].resource, name)) return &x->res[i];
  return NULL;
}

static char *slurp_resource(const extracted *x, const char *name) {
  const sl__extract_result *r = result_of(x, name);
  sl_buf b = {0};
  sl_buf_puts(&b, "");
  for (unsigned i = 0; r && i < r->files; i++) {
    char path[2048], *data = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s.%u.jsonl", x->dir, name, i);
    if (sl_read_file(path, &data, &len, NULL) == SL_OK) sl_buf_append(&b, data, len);
    free(data);
  }
  return sl_buf_steal(&b, NULL);
}

static void extracted_free(extracted *x, bool free_state) {
  sl__extract_results_free(x->res, x->n);
  if (free_state) sl_doc_free(x->state);
}

/* ---- YAML validation ------------------------------------------------------------ */

TEST(yaml_unknown_resource_key_suggests) {
  sl_error err;
  sl_error_clear(&err);
  sl_source *s = yaml_source("name: shop\n"
                             "resources:\n"
                             "  - name: pins\n"
                             "    primery_key: id\n"
                             "    file: {path: x.jsonl}\n",
                             "/tmp", &err);
  CHECK(s == NULL);
  CHECK_INT(err.code, SL_CONFIG_INVALID);
  CHECK_STR(err.file, "src.yaml");
  CHECK_INT(err.line, 4);
  CHECK_INT(err.col, 18);
  CHECK_CONTAINS(err.msg, "unknown key 'primery_key'");
  CHECK_CONTAINS(err.msg, "did you mean 'primary_key'");
  char line[1024];
  CHECK_CONTAINS(sl_error_format(&err, line, sizeof line), "src.yaml:4:18: unknown key");
}

TEST(yaml_unknown_top_key_suggests) {
  sl_error err;
  sl_error_clear(&err);
  sl_source *s = yaml_source("name: shop\nresorces: []\n", "/tmp", &err);
  CHECK(s == NULL);
  CHECK_INT(err.line, 2);
  CHECK_CONTAINS(err.msg, "did you mean 'resources'");
}

TEST(yaml_unknown_key_without_near_match) {
  sl_error err;
  sl_error_clear(&err);
  sl_source *s = yaml_source("resources:\n  - name: a\n    zzzzzzzz: 1\n    file: a.jsonl\n", "/tmp", &err);
  CHECK(s == NULL);
  CHECK_CONTAINS(err.msg, "unknown key 'zzzzzzzz' in a resource");
  CHECK(strstr(err.msg, "did you mean") == NULL);
}

TEST(yaml_wrong_types) {
  sl_error err;
  sl_error_clear(&err);
  CHECK(!yaml_source("resources:\n  - name: a\n    max_table_nesting: two\n    file: a.jsonl\n",
                     "/tmp", &err));
  CHECK_INT(err.line, 3);
  CHECK_INT(err.col, 24);
  CHECK_CONTAINS(err.msg, "'max_table_nesting' must be an integer, not string");
  CHECK(!yaml_source("resources:\n  - name: a\n    selected: 3\n    file: a.jsonl\n", "/tmp", &err));
  CHECK_CONTAINS(err.msg, "'selected' must be a boolean");
  CHECK(!yaml_source("resources: {a: 1}\n", "/tmp", &err));
  CHECK_CONTAINS(err.msg, "'resources' must be a list, not a mapping");
  CHECK_INT(err.line, 1);
  CHECK(!yaml_source("resources:\n  - name: a\n    primary_key: [id, 3]\n    file: a.jsonl\n",
                     "/tmp", &err));
  CHECK_CONTAINS(err.msg, "primary_key");
  CHECK_INT(err.line, 3);
}

TEST(yaml_write_disposition) {
  sl_error err;
  sl_error_clear(&err);
  CHECK(!yaml_source("resources:\n  - name: a\n    write_disposition: apend\n    file: a.jsonl\n",
                     "/tmp", &err));
  CHECK_CONTAINS(err.msg, "did you mean 'append'");
  CHECK_INT(err.line, 3);
  CHECK(!yaml_source("resources:\n  - name: a\n    write_disposition: {disposition: merge, "
                     "strategy: upsert}\n    file: a.jsonl\n",
                     "/tmp", &err));
  CHECK_CONTAINS(err.msg, "upsert strategy needs a primary_key");
  CHECK(!yaml_source("resources:\n  - name: a\n    write_disposition: {disposition: merge, "
                     "strategy: scd2}\n    file: a.jsonl\n",
                     "/tmp", &err));
  CHECK_CONTAINS(err.msg, "unknown merge strategy 'scd2'");
  sl_source *s = yaml_source("resources:\n  - name: a\n    primary_key: [id]\n"
                             "    write_disposition: {disposition: merge, strategy: upsert}\n"
                             "    file: a.jsonl\n",
                             "/tmp", &err);
  CHECK(s != NULL);
  const sl_resource *r = sl_source_find(s, "a");
  CHECK(r && sl_resource_write_disposition(r) == SL_WD_MERGE);
  sl_resource_hints h;
  sl__resource_hints(s, r, &h);
  CHECK_INT(h.merge_strategy, SL_MERGE_UPSERT);
  CHECK_STR(h.primary_key[0], "id");
  CHECK(h.primary_key[1] == NULL);
  sl_source_free(s);
}

/* dlt's table_format: iceberg or hive, per resource or in resource_defaults,
 * carried to the normalizer's hints (Athena reads it from the schema). */
TEST(yaml_table_format) {
  sl_error err;
  sl_error_clear(&err);
  CHECK(!yaml_source("resources:\n  - name: a\n    table_format: delta\n    file: a.jsonl\n", "/tmp", &err));
  CHECK_CONTAINS(err.msg, "resource 'a': table_format must be iceberg or hive, not 'delta'");
  CHECK_INT(err.line, 3);
  CHECK(!yaml_source("resources:\n  - name: a\n    table_format: [iceberg]\n    file: a.jsonl\n", "/tmp", &err));
  CHECK_CONTAINS(err.msg, "table_format");
  sl_source *s = yaml_source("resource_defaults:\n  table_format: iceberg\n"
                             "resources:\n  - name: a\n    file: a.jsonl\n"
                             "  - name: b\n    table_format: hive\n    file: b.jsonl\n"
                             "  - name: c\n    file: c.jsonl\n",
                             "/tmp", &err);
  CHECK(s != NULL);
  sl_resource_hints h;
  sl__resource_hints(s, sl_source_find(s, "a"), &h);
  CHECK_STR(h.table_format, "iceberg");
  sl__resource_hints(s, sl_source_find(s, "b"), &h);
  CHECK_STR(h.table_format, "hive");
  sl_source_free(s);
  s = yaml_source("resources:\n  - name: c\n    file: c.jsonl\n", "/tmp", &err);
  CHECK(s != NULL);
  sl__resource_hints(s, sl_source_find(s, "c"), &h);
  CHECK(h.table_format == NULL);
  sl_source_free(s);
}

TEST(yaml_defaults_and_hints) {
  sl_error err;
  sl_error_clear(&err);
  sl_source *s = yaml_source("name: shop\n"
                             "max_table_nesting: 2\n"
                             "schema_contract: freeze\n"
                             "resource_defaults:\n"
                             "  primary_key: id\n"
                             "  write_disposition: merge\n"
                             "  file: {format: jsonl}\n"
                             "resources:\n"
                             "  - name: pins\n"
                             "    table_name: my_pins\n"
                             "    file: {path: 'data/*.jsonl'}\n"
                             "    columns: {deleted: {hard_delete: true}, ts: {dedup_sort: desc}}\n"
                             "  - name: boards\n"
                             "    write_disposition: replace\n"
                             "    max_table_nesting: 0\n"
                             "    selected: false\n"
                             "    schema_contract: {columns: discard_value}\n"
                             "    file: {path: b.json, data_selector: 'data.items'}\n",
                             "/tmp", &err);
  CHECK_MSG(s != NULL, "%s", err.msg);
  CHECK_STR(sl_source_name(s), "shop");
  CHECK_INT(sl_source_resource_count(s), 2);
  const sl_resource *pins = sl_source_find(s, "pins"), *boards = sl_source_find(s, "boards");
  CHECK(pins && boards);
  CHECK_STR(sl_resource_table(pins), "my_pins");
  CHECK_STR(sl_resource_table(boards), "boards");
  CHECK(sl_resource_selected(pins) && !sl_resource_selected(boards));
  sl_resource_hints h;
  sl__resource_hints(s, pins, &h);
  CHECK_INT(h.write_disposition, SL_WD_MERGE);
  CHECK_STR(h.primary_key[0], "id");
  CHECK_INT(h.max_table_nesting, 2);
  CHECK(h.contract && h.contract->tables == SL_CONTRACT_FREEZE);
  CHECK_STR(h.hard_delete_column, "deleted");
  CHECK_STR(h.dedup_sort_column, "ts");
  CHECK_INT(h.dedup_sort_order, -1);
  sl__resource_hints(s, boards, &h);
  CHECK_INT(h.write_disposition, SL_WD_REPLACE);
  CHECK_INT(h.max_table_nesting, 0);
  CHECK(h.contract && h.contract->columns == SL_CONTRACT_DISCARD_VALUE &&
        h.contract->tables == SL_CONTRACT_EVOLVE);
  sl_source_free(s);
}

TEST(yaml_file_spec_errors) {
  sl_error err;
  sl_error_clear(&err);
  CHECK(!yaml_source("resources:\n  - name: a\n    file: {paht: a.jsonl}\n", "/tmp", &err));
  CHECK_CONTAINS(err.msg, "did you mean 'path'");
  CHECK_INT(err.line, 3);
  CHECK(!yaml_source("resources:\n  - name: a\n    file: {path: a.x, format: csv}\n", "/tmp", &err));
  CHECK_CONTAINS(err.msg, "'format' must be jsonl or json");
  CHECK(!yaml_source("resources:\n  - name: a\n    file: {path: a.json, data_selector: 'a[x]'}\n",
                     "/tmp", &err));
  CHECK_CONTAINS(err.msg, "data_selector");
  CHECK(!yaml_source("resources:\n  - name: a\n", "/tmp", &err));
  CHECK_CONTAINS(err.msg, "'file:'");
  CHECK(!yaml_source("resources:\n  - name: a\n    file: a.jsonl\n  - name: a\n    file: b.jsonl\n",
                     "/tmp", &err));
  CHECK_CONTAINS(err.msg, "defined twice");
  CHECK_INT(err.line, 4);
  CHECK(!yaml_source("resources:\n  - name: a\n    columns: {x: {data_type: texty}}\n    file: a.jsonl\n",
                     "/tmp", &err));
  CHECK_CONTAINS(err.msg, "unknown data_type");
  CHECK(!yaml_source("resources:\n  - file: a.jsonl\n", "/tmp", &err));
  CHECK_CONTAINS(err.msg, "needs a 'name'");
  CHECK(!yaml_source("resources:\n  - name: a/b\n    file: a.jsonl\n", "/tmp", &err));
  CHECK_CONTAINS(err.msg, "not usable");
  CHECK(!yaml_source("name: [\n", "/tmp", &err));
  CHECK_INT(err.code, SL_YAML_SYNTAX);
}

/* ---- the file resource ---------------------------------------------------------------- */

TEST(file_formats) {
  char *d = tmpdir();
  write_text(d, "data/a.jsonl", "{\"id\": 1, \"n\": {\"x\": [1,2]}}\n{\"id\": 2}\n\n");
  write_text(d, "data/b.ndjson", "{\"id\":3}\r\n{\"id\":4}");
  write_text(d, "arr.json", "[{\"id\": 10}, {\"id\": 11}, 12, \"s\\u00e9\"]");
  write_text(d, "doc.json", "{\"meta\": {\"n\": 2}, \"data\": {\"items\": [{\"id\": 20}, {\"id\": 21}]}}");
  write_text(d, "deep.json", "{\"results\": [{\"items\": [{\"a\":1},{\"a\":2}]}, {\"items\": [{\"a\":3}]}, {\"x\": 1}]}");
  write_gz(d, "c.jsonl.gz", "{\"id\": 30}\n{\"id\": 31}\n{\"id\": 32}\n");
  write_text(d, "folder/x.jsonl", "{\"id\": 40}\n");
  write_text(d, "folder/y.json", "[{\"id\": 41}]");
  write_text(d, "folder/notes.txt", "not json");
  write_text(d, "lines.txt", "{\"id\": 50}\n");
  sl_error err;
  sl_error_clear(&err);
  sl_source *s = yaml_source("name: t\nresources:\n"
                             "  - {name: lines, file: 'data/*'}\n"
                             "  - {name: arr, file: arr.json}\n"
                             "  - {name: sel, file: {path: doc.json, data_selector: data.items}}\n"
                             "  - {name: deep, file: {path: deep.json, data_selector: 'results[*].items'}}\n"
                             "  - {name: gz, file: c.jsonl.gz}\n"
                             "  - {name: folder, file: folder}\n"
                             "  - {name: forced, file: {path: lines.txt, format: jsonl}}\n"
                             "  - {name: whole, file: {path: doc.json, data_selector: '$.meta'}}\n",
                             d, &err);
  CHECK_MSG(s != NULL, "%s", err.msg);
  extracted x;
  CHECK_MSG(run_extract(s, d, 0, NULL, &x, &err) == SL_OK, "%s", err.msg);
  char *t;
  t = slurp_resource(&x, "lines");
  CHECK_STR(t, "{\"id\": 1, \"n\": {\"x\": [1,2]}}\n{\"id\": 2}\n{\"id\":3}\n{\"id\":4}\n");
  free(t);
  t = slurp_resource(&x, "arr");
  CHECK_STR(t, "{\"id\": 10}\n{\"id\": 11}\n12\n\"s\xc3\xa9\"\n");
  free(t);
  t = slurp_resource(&x, "sel");
  CHECK_STR(t, "{\"id\": 20}\n{\"id\": 21}\n");
  free(t);
  t = slurp_resource(&x, "deep");
  CHECK_STR(t, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
  free(t);
  t = slurp_resource(&x, "gz");
  CHECK_STR(t, "{\"id\": 30}\n{\"id\": 31}\n{\"id\": 32}\n");
  free(t);
  t = slurp_resource(&x, "folder");
  CHECK_STR(t, "{\"id\": 40}\n{\"id\": 41}\n");
  free(t);
  t = slurp_resource(&x, "forced");
  CHECK_STR(t, "{\"id\": 50}\n");
  free(t);
  t = slurp_resource(&x, "whole");
  CHECK_STR(t, "{\"n\": 2}\n");
  free(t);
  CHECK_INT(result_of(&x, "lines")->records, 4);
  CHECK_INT(result_of(&x, "gz")->records, 3);
  extracted_free(&x, true);
  sl_source_free(s);
  sl_rm_rf(d, NULL);
  free(d);
}

TEST(file_bad_json_reports_position) {
  char *d = tmpdir();
  write_text(d, "data/good.jsonl", "{\"id\": 1}\n");
  write_text(d, "data/zbad.jsonl", "{\"id\": 1}\n{\"id\": 2,\n  \"x\": tru}\n");
  sl_error err;
  sl_error_clear(&err);
  sl_source *s = yaml_source("resources:\n  - {name: r, file: 'data/*.jsonl'}\n", d, &err);
  CHECK(s);
  extracted x;
  sl_status st = run_extract(s, d, 0, NULL, &x, &err);
  CHECK_INT(st, SL_JSON_SYNTAX);
  CHECK_STR(err.file, "data/zbad.jsonl");
  CHECK_INT(err.line, 3);
  CHECK(err.col >= 8 && err.col <= 11);
  extracted_free(&x, true);
  sl_source_free(s);
  /* A missing file is an error; a glob matching nothing is not. */
  s = yaml_source("resources:\n  - {name: r, file: nothere.jsonl}\n", d, &err);
  CHECK(s);
  CHECK_INT(run_extract(s, d, 0, NULL, &x, &err), SL_SOURCE);
  CHECK_CONTAINS(err.msg, "nothere.jsonl");
  extracted_free(&x, true);
  sl_source_free(s);
  s = yaml_source("resources:\n  - {name: r, file: 'none/*.jsonl'}\n", d, &err);
  CHECK_INT(run_extract(s, d, 0, NULL, &x, &err), SL_OK);
  CHECK_INT(result_of(&x, "r")->records, 0);
  extracted_free(&x, true);
  sl_source_free(s);
  /* Unknown extension without a format. */
  write_text(d, "a.txt", "{}\n");
  s = yaml_source("resources:\n  - {name: r, file: a.txt}\n", d, &err);
  CHECK_INT(run_extract(s, d, 0, NULL, &x, &err), SL_SOURCE);
  CHECK_CONTAINS(err.msg, "set format");
  extracted_free(&x, true);
  sl_source_free(s);
  sl_rm_rf(d, NULL);
  free(d);
}

TEST(file_limit_and_rotation) {
  char *d = tmpdir();
  sl_buf b = {0};
  for (int i = 0; i < 5000; i++) sl_buf_printf(&b, "{\"id\": %d, \"pad\": \"%0100d\"}\n", i, i);
  write_text(d, "big.jsonl", b.data);
  sl_error err;
  sl_error_clear(&err);
  sl_source *s = yaml_source("resources:\n  - {name: r, file: big.jsonl}\n", d, &err);
  extracted x;
  CHECK_OK(run_extract(s, d, 0, NULL, &x, &err));
  CHECK_INT(result_of(&x, "r")->records, 5000);
  CHECK(result_of(&x, "r")->files >= 1);
  char *t = slurp_resource(&x, "r");
  CHECK_STR(t, b.data);
  free(t);
  extracted_free(&x, true);
  CHECK_OK(run_extract(s, d, 7, NULL, &x, &err));
  CHECK_INT(result_of(&x, "r")->records, 7);
  extracted_free(&x, true);
  /* Rotation: 1 MiB files from ~600 KB → at least 1 file; force small files. */
  sl_mkdir_p(x.dir, NULL);
  sl_doc *sd = sl_doc_new("s");
  sd->root = sl_v_object(sd);
  sl__extract_opts o = {.extract_dir = x.dir, .file_max_bytes = 10000, .state_doc = sd,
                        .resources_state = sd->root};
  sl__extract_result *res;
  size_t n;
  sl_rm_rf(x.dir, NULL);
  sl_mkdir_p(x.dir, NULL);
  CHECK_OK(sl__source_extract(s, &o, &res, &n, &err));
  CHECK_INT(n, 1);
  CHECK(res[0].files > 50);
  x.res = res;
  x.n = n;
  t = slurp_resource(&x, "r");
  CHECK_STR(t, b.data);
  free(t);
  sl__extract_results_free(res, n);
  sl_doc_free(sd);
  sl_buf_free(&b);
  sl_source_free(s);
  sl_rm_rf(d, NULL);
  free(d);
}

TEST(file_skip_loaded_files_state) {
  char *d = tmpdir();
  write_text(d, "in/1.jsonl", "{\"id\": 1}\n");
  sl_error err;
  sl_error_clear(&err);
  sl_source *s = yaml_source(
      "resources:\n  - {name: r, file: {path: 'in/*.jsonl', skip_loaded_files: true}}\n", d, &err);
  CHECK(s);
  sl_doc *state = sl_doc_new("state");
  state->root = sl_v_object(state);
  extracted x;
  CHECK_OK(run_extract(s, d, 0, state, &x, &err));
  CHECK_INT(result_of(&x, "r")->records, 1);
  CHECK(sl_v_get(sl_v_get(sl_v_get(state->root, "r"), "files"), "in/1.jsonl") != NULL);
  extracted_free(&x, false);
  write_text(d, "in/2.jsonl", "{\"id\": 2}\n{\"id\": 3}\n");
  CHECK_OK(run_extract(s, d, 0, state, &x, &err));
  CHECK_INT(result_of(&x, "r")->records, 2);
  extracted_free(&x, false);
  CHECK_OK(run_extract(s, d, 0, state, &x, &err));
  CHECK_INT(result_of(&x, "r")->records, 0);
  extracted_free(&x, true);
  sl_source_free(s);
  sl_rm_rf(d, NULL);
  free(d);
}

/* ---- the emitter with resources in code ---------------------------------------------- */

static sl_status bytewise(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err) {
  const char *text = ud;
  sl_status st = sl_emit_stream_begin(em, "data", false, "bytes.json", err);
  for (size_t i = 0; !st && text[i]; i++) st = sl_emit_stream_feed(em, text + i, 1, err);
  return st ? st : sl_emit_stream_end(em, err);
}

TEST(emit_stream_byte_by_byte) {
  sl_source *s = sl_source_new("t");
  sl_resource_def def;
  sl_resource_def_init(&def);
  def.name = "b";
  def.fn = bytewise;
  def.ud = "{\"data\": [{\"a\": {\"b\": [1, 2, {\"c\": \"x]}\"}]}}, [3], 4.5e1, null, \"q\\\"\"],"
           " \"data2\": [9]}";
  sl_error err;
  sl_error_clear(&err);
  CHECK_OK(sl_source_add_resource(s, &def, &err));
  char *d = tmpdir();
  extracted x;
  CHECK_MSG(run_extract(s, d, 0, NULL, &x, &err) == SL_OK, "%s", err.msg);
  char *t = slurp_resource(&x, "b");
  CHECK_STR(t, "{\"a\": {\"b\": [1, 2, {\"c\": \"x]}\"}]}}\n[3]\n4.5e1\nnull\n\"q\\\"\"\n");
  free(t);
  extracted_free(&x, true);
  sl_source_free(s);
  sl_rm_rf(d, NULL);
  free(d);
}

typedef struct family {
  int children_seen;
} family;

static sl_status parent_fn(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err) {
  const char *one = "{\"id\": 1, \"name\": \"a\"}";
  const char *page = "{\"items\": [{\"id\": 2}, {\"id\": 3}]}";
  sl_status st = sl_emit_json(em, one, strlen(one), err);
  if (!st) st = sl_emit_page(em, page, strlen(page), "items", err);
  if (!st) {
    sl_doc *d = sl_doc_new("x");
    sl_value *o = sl_v_object(d);
    sl_v_put(d, o, "id", sl_v_int(d, 4));
    st = sl_emit_value(em, o, err);
    sl_doc_free(d);
  }
  sl_value *state = sl_emit_state(em);
  sl_v_put(sl_emit_state_doc(em), state, "last_id", sl_v_int(sl_emit_state_doc(em), 4));
  return st;
}

static sl_status child_fn(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err) {
  family *f = ud;
  f->children_seen++;
  int64_t id = sl_v_int_or(sl_v_get(parent, "id"), -1);
  char rec[64];
  int n = snprintf(rec, sizeof rec, "{\"parent_id\": %lld}", (long long)id);
  return sl_emit_json(em, rec, (size_t)n, err);
}

TEST(emit_parent_child_and_state) {
  sl_source *s = sl_source_new("t");
  family fam = {0};
  sl_resource_def def;
  sl_resource_def_init(&def);
  def.name = "child";
  def.parent = "parent";
  def.fn = child_fn;
  def.ud = &fam;
  sl_error err;
  sl_error_clear(&err);
  CHECK_OK(sl_source_add_resource(s, &def, &err));
  sl_resource_def_init(&def);
  def.name = "parent";
  def.fn = parent_fn;
  def.selected = false;
  CHECK_OK(sl_source_add_resource(s, &def, &err));
  CHECK_INT(sl_source_add_resource(s, &def, &err), SL_INVALID_ARG);
  char *d = tmpdir();
  extracted x;
  CHECK_MSG(run_extract(s, d, 0, NULL, &x, &err) == SL_OK, "%s", err.msg);
  CHECK_INT(fam.children_seen, 4);
  CHECK(result_of(&x, "parent") == NULL); /* not selected: not kept */
  char *t = slurp_resource(&x, "child");
  CHECK_STR(t, "{\"parent_id\": 1}\n{\"parent_id\": 2}\n{\"parent_id\": 3}\n{\"parent_id\": 4}\n");
  free(t);
  CHECK_INT(sl_v_int_or(sl_v_get(sl_v_get(x.state->root, "parent"), "last_id"), 0), 4);
  extracted_free(&x, true);
  /* The limit applies per resource. */
  fam.children_seen = 0;
  CHECK_OK(run_extract(s, d, 2, NULL, &x, &err));
  CHECK_INT(fam.children_seen, 2);
  CHECK_INT(result_of(&x, "child")->records, 2);
  extracted_free(&x, true);
  sl_source_free(s);
  sl_rm_rf(d, NULL);
  free(d);
}

static sl_status bad_record_fn(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err) {
  sl_status st = sl_emit_json(em, "{\"a\": 1}", 8, err);
  if (!st) st = sl_emit_json(em, "{\"a\": 1} x", 10, err);
  return st;
}

TEST(emit_invalid_record_fails) {
  sl_source *s = sl_source_new("t");
  sl_resource_def def;
  sl_resource_def_init(&def);
  def.name = "bad";
  def.fn = bad_record_fn;
  sl_error err;
  sl_error_clear(&err);
  CHECK_OK(sl_source_add_resource(s, &def, &err));
  char *d = tmpdir();
  extracted x;
  CHECK_INT(run_extract(s, d, 0, NULL, &x, &err), SL_JSON_SYNTAX);
  CHECK_INT(err.col, 10);
  extracted_free(&x, true);
  sl_source_free(s);
  sl_rm_rf(d, NULL);
  free(d);
}

TEST(did_you_mean) {
  static const char *const c[] = {"primary_key", "merge_key", "table_name", NULL};
  CHECK_STR(sl__did_you_mean("primarykey", c), "primary_key");
  CHECK_STR(sl__did_you_mean("tablename", c), "table_name");
  CHECK(sl__did_you_mean("xyz", c) == NULL);
}

TEST_MAIN()
