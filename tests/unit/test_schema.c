/* Tests for the schema model: system tables, column lookup, evolution, the
 * content hash and version bumps, dlt's stored layout, YAML/JSON round trips,
 * atomic save and load (including a schema as dlt writes it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/json.h"
#include "sluice/schema.h"
#include "sluice/yaml.h"
#include "test.h"

static char *to_json(const sl_schema *s) {
  sl_buf b = {0};
  if (sl_schema_to_json(s, &b)) return NULL;
  return b.data;
}

static void tmp_dir(char *out, size_t n) {
  snprintf(out, n, "/tmp/sl_test_schema_%ld", (long)getpid());
  mkdir(out, 0700);
}

TEST(enum_names) {
  CHECK_STR(sl_dtype_name(SL_T_TIMESTAMP), "timestamp");
  CHECK_INT(sl_dtype_parse("wei"), SL_T_WEI);
  CHECK_INT(sl_dtype_parse("complex"), SL_T_JSON);
  CHECK_INT(sl_dtype_parse("nope"), -1);
  CHECK_INT(sl_wd_parse("merge"), SL_WD_MERGE);
  CHECK_INT(sl_wd_parse("skip"), SL_WD_APPEND);
  CHECK_STR(sl_contract_mode_name(SL_CONTRACT_DISCARD_VALUE), "discard_value");
  CHECK_INT(sl_contract_mode_parse("freeze"), SL_CONTRACT_FREEZE);
  CHECK_INT(sl_contract_mode_parse("x"), -1);
}

TEST(system_tables) {
  sl_schema *s = sl_schema_new("pins");
  CHECK(s);
  CHECK_INT(s->ntables, 3);
  CHECK_STR(s->tables[0]->name, "_dlt_version");
  CHECK_STR(s->tables[1]->name, "_dlt_loads");
  CHECK_STR(s->tables[2]->name, "_dlt_pipeline_state");
  const sl_table *l = sl_schema_find_table(s, "_dlt_loads");
  CHECK(l && sl_table_is_system(l));
  CHECK_INT(l->ncolumns, 5);
  const char *names[] = {"load_id", "schema_name", "status", "inserted_at", "schema_version_hash"};
  const sl_dtype types[] = {SL_T_TEXT, SL_T_TEXT, SL_T_BIGINT, SL_T_TIMESTAMP, SL_T_TEXT};
  const bool nullable[] = {false, true, false, false, true};
  for (int i = 0; i < 5; i++) {
    CHECK_STR(l->columns[i].name, names[i]);
    CHECK_INT(l->columns[i].type, types[i]);
    CHECK_INT(l->columns[i].nullable, nullable[i]);
  }
  const sl_table *v = sl_schema_find_table(s, "_dlt_version");
  CHECK_INT(v->ncolumns, 6);
  CHECK_STR(v->columns[5].name, "schema");
  const sl_table *st = sl_schema_find_table(s, "_dlt_pipeline_state");
  /* dlt's pipeline_state_table(add_dlt_id=True): eight columns, _dlt_id last */
  CHECK_INT(st->ncolumns, 8);
  const char *snames[] = {"version", "engine_version", "pipeline_name", "state",
                          "created_at", "version_hash", "_dlt_load_id", "_dlt_id"};
  const sl_dtype stypes[] = {SL_T_BIGINT, SL_T_BIGINT, SL_T_TEXT, SL_T_TEXT,
                             SL_T_TIMESTAMP, SL_T_TEXT, SL_T_TEXT, SL_T_TEXT};
  for (int i = 0; i < 8; i++) {
    CHECK_STR(st->columns[i].name, snames[i]);
    CHECK_INT(st->columns[i].type, stypes[i]);
    CHECK_INT(st->columns[i].nullable, i == 5); /* only version_hash may be null */
  }
  CHECK(st->columns[7].unique);
  CHECK_INT(s->version, 1);
  CHECK(strlen(s->version_hash) == 44);
  CHECK_INT(s->max_table_nesting, 1000);
  CHECK(s->detect_iso_timestamp && !s->detect_iso_date && !s->detect_large_integer);
  CHECK(!s->dirty_);
  sl_schema_free(s);
}

TEST(columns_lookup_and_order) {
  sl_schema *s = sl_schema_new("t");
  sl_error err;
  sl_table *t = sl_schema_add_table(s, "items", NULL, &err);
  CHECK(t);
  CHECK(sl_schema_add_table(s, "items", NULL, &err) == t);
  char name[32];
  for (int i = 0; i < 2000; i++) {
    snprintf(name, sizeof name, "col_%d", i);
    CHECK_INT(sl_table_add_column(s, t, name, i % 2 ? SL_T_TEXT : SL_T_BIGINT, &err), i);
  }
  for (int i = 0; i < 2000; i += 37) {
    snprintf(name, sizeof name, "col_%d", i);
    CHECK_INT(sl_table_find_column(t, name, strlen(name)), i);
    CHECK_STR(t->columns[i].name, name);
  }
  CHECK_INT(sl_table_find_column(t, "col_5x", 5), 5); /* length-limited view */
  CHECK_INT(sl_table_find_column(t, "nope", 4), -1);
  CHECK_INT(sl_table_add_column(s, t, "col_3", SL_T_TEXT, &err), -1);
  CHECK_INT(err.code, SL_SCHEMA);
  CHECK_STR(err.table, "items");
  CHECK_INT(sl_table_add_column(s, t, "", SL_T_TEXT, &err), -1);
  /* incomplete columns hold a place; asking again returns the same one */
  int c = sl_table_add_incomplete_column(s, t, "later", &err);
  CHECK_INT(c, 2000);
  CHECK(t->columns[c].incomplete);
  CHECK_INT(sl_table_add_incomplete_column(s, t, "later", &err), c);
  CHECK_INT(sl_table_add_incomplete_column(s, t, "col_1", &err), 1);
  CHECK(sl_table_has_complete_columns(t));
  sl_table *u = sl_schema_add_table(s, "empty", NULL, &err);
  CHECK(!sl_table_has_complete_columns(u));
  sl_table_add_incomplete_column(s, u, "x", &err);
  CHECK(!sl_table_has_complete_columns(u));
  sl_schema_free(s);
}

TEST(parents_roots_descendants) {
  sl_schema *s = sl_schema_new("t");
  sl_error err;
  sl_table *r = sl_schema_add_table(s, "r", NULL, &err);
  r->write_disposition = SL_WD_MERGE;
  sl_table *a = sl_schema_add_table(s, "r__a", "r", &err);
  CHECK(a && a->write_disposition == SL_WD_MERGE); /* inherited */
  sl_table *b = sl_schema_add_table(s, "r__a__b", "r__a", &err);
  sl_table *o = sl_schema_add_table(s, "other", NULL, &err);
  sl_table *c = sl_schema_add_table(s, "r__c", "r", &err);
  CHECK(b && o && c);
  CHECK(sl_schema_add_table(s, "x__y", "missing", &err) == NULL);
  CHECK_INT(err.code, SL_SCHEMA);
  CHECK(sl_schema_root_of(s, b) == r);
  CHECK(sl_schema_root_of(s, r) == r);
  sl_table *out[8];
  CHECK_INT(sl_schema_descendants(s, r, out, 8), 3);
  CHECK(out[0] == a && out[1] == b && out[2] == c);
  CHECK_INT(sl_schema_descendants(s, r, out, 2), 2);
  CHECK_INT(sl_schema_descendants(s, o, out, 8), 0);
  CHECK_INT(sl_schema_descendants(s, a, out, 8), 1);
  sl_schema_free(s);
}

TEST(contract_resolution) {
  sl_schema *s = sl_schema_new("t");
  sl_error err;
  sl_table *r = sl_schema_add_table(s, "r", NULL, &err);
  sl_table *a = sl_schema_add_table(s, "r__a", "r", &err);
  s->contract.columns = SL_CONTRACT_FREEZE;
  CHECK_INT(sl_schema_contract_for(s, a).columns, SL_CONTRACT_FREEZE);
  r->has_contract = true;
  r->contract = (sl_contract){SL_CONTRACT_EVOLVE, SL_CONTRACT_DISCARD_ROW, SL_CONTRACT_EVOLVE};
  CHECK_INT(sl_schema_contract_for(s, a).columns, SL_CONTRACT_DISCARD_ROW);
  CHECK_INT(sl_schema_contract_for(s, r).columns, SL_CONTRACT_DISCARD_ROW);
  sl_schema_free(s);
}

TEST(hash_and_version_bump) {
  sl_schema *s = sl_schema_new("t");
  char h0[48];
  strcpy(h0, s->version_hash);
  CHECK(!sl_schema_bump_version(s));
  CHECK_INT(s->version, 1);
  sl_error err;
  sl_table *t = sl_schema_add_table(s, "items", NULL, &err);
  CHECK(s->dirty_);
  sl_table_add_column(s, t, "a", SL_T_TEXT, &err);
  CHECK(sl_schema_bump_version(s));
  CHECK(!s->dirty_);
  CHECK_INT(s->version, 2);
  CHECK_STR(s->previous_hashes[0], h0);
  CHECK(strcmp(s->version_hash, h0) != 0);
  CHECK(!sl_schema_bump_version(s));
  CHECK_INT(s->version, 2);
  /* a flag change is a change */
  t->columns[0].nullable = false;
  CHECK(sl_schema_bump_version(s));
  CHECK_INT(s->version, 3);
  CHECK(s->previous_hashes[1] && !strcmp(s->previous_hashes[1], h0));
  /* at most ten previous hashes are kept */
  for (int i = 0; i < 15; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "c%d", i);
    sl_table_add_column(s, t, nm, SL_T_BIGINT, &err);
    CHECK(sl_schema_bump_version(s));
  }
  CHECK_INT(s->version, 18);
  int n = 0;
  while (n < 10 && s->previous_hashes[n]) n++;
  CHECK_INT(n, 10);
  sl_schema_free(s);
}

TEST(hash_sees_column_order) {
  sl_schema *a = sl_schema_new("t"), *b = sl_schema_new("t");
  CHECK_STR(a->version_hash, b->version_hash);
  sl_error err;
  sl_table *ta = sl_schema_add_table(a, "x", NULL, &err), *tb = sl_schema_add_table(b, "x", NULL, &err);
  sl_table_add_column(a, ta, "p", SL_T_TEXT, &err);
  sl_table_add_column(a, ta, "q", SL_T_TEXT, &err);
  sl_table_add_column(b, tb, "q", SL_T_TEXT, &err);
  sl_table_add_column(b, tb, "p", SL_T_TEXT, &err);
  char ha[48], hb[48];
  CHECK_OK(sl_schema_content_hash(a, ha));
  CHECK_OK(sl_schema_content_hash(b, hb));
  CHECK(strcmp(ha, hb) != 0);
  sl_schema_free(a);
  sl_schema_free(b);
}

static sl_schema *sample(void) {
  sl_schema *s = sl_schema_new("pins_source");
  sl_error err;
  sl_table *t = sl_schema_add_table(s, "pins", NULL, &err);
  t->resource = strdup("pins");
  t->write_disposition = SL_WD_MERGE;
  t->merge_strategy = SL_MERGE_UPSERT;
  t->seen_data = true;
  t->max_table_nesting = 2;
  t->has_contract = true;
  t->contract.columns = SL_CONTRACT_DISCARD_VALUE;
  t->table_format = strdup("iceberg");
  int c = sl_table_add_column(s, t, "id", SL_T_TEXT, &err);
  t->columns[c].nullable = false;
  t->columns[c].primary_key = true;
  c = sl_table_add_column(s, t, "price", SL_T_DECIMAL, &err);
  t->columns[c].precision = 10;
  t->columns[c].scale = 2;
  t->columns[c].dedup_sort = -1;
  c = sl_table_add_column(s, t, "deleted", SL_T_BOOL, &err);
  t->columns[c].hard_delete = true;
  c = sl_table_add_column(s, t, "score__v_text", SL_T_TEXT, &err);
  t->columns[c].variant = true;
  c = sl_table_add_incomplete_column(s, t, "later", &err);
  t->columns[c].seen_null_first = true;
  c = sl_table_add_column(s, t, "_dlt_id", SL_T_TEXT, &err);
  t->columns[c].nullable = false;
  t->columns[c].unique = true;
  sl_table *k = sl_schema_add_table(s, "pins__tags", "pins", &err);
  sl_table_add_column(s, k, "value", SL_T_JSON, &err);
  s->max_table_nesting = 3;
  s->detect_iso_date = true;
  s->contract.tables = SL_CONTRACT_FREEZE;
  sl_schema_bump_version(s);
  return s;
}

TEST(stored_layout) {
  sl_schema *s = sample();
  sl_doc *d = sl_doc_new("x");
  sl_value *v = sl_schema_to_value(s, d);
  CHECK(v);
  const char *keys[] = {"version", "version_hash", "engine_version", "name", "tables", "settings", "normalizers",
                        "previous_hashes"};
  for (size_t i = 0; i < 8; i++) CHECK_STR(v->u.obj.items[i].key, keys[i]);
  CHECK_INT(sl_v_int_or(sl_v_get(v, "engine_version"), 0), 11);
  const sl_value *pins = sl_v_path(v, "tables.pins");
  CHECK_STR(sl_v_str(sl_v_get(pins, "write_disposition"), ""), "merge");
  CHECK_STR(sl_v_str(sl_v_get(pins, "x-merge-strategy"), ""), "upsert");
  CHECK_STR(sl_v_str(sl_v_get(pins, "resource"), ""), "pins");
  CHECK_STR(sl_v_str(sl_v_get(pins, "table_format"), ""), "iceberg");
  CHECK(sl_v_bool_or(sl_v_path(pins, "x-normalizer.seen-data"), false));
  CHECK_INT(sl_v_int_or(sl_v_path(pins, "x-normalizer.max_nesting"), 0), 2);
  CHECK_STR(sl_v_str(sl_v_path(pins, "schema_contract.columns"), ""), "discard_value");
  const sl_value *id = sl_v_path(pins, "columns.id");
  CHECK_STR(sl_v_str(sl_v_get(id, "data_type"), ""), "text");
  CHECK(!sl_v_bool_or(sl_v_get(id, "nullable"), true));
  CHECK(sl_v_bool_or(sl_v_get(id, "primary_key"), false));
  CHECK(sl_v_get(id, "merge_key") == NULL); /* defaults are not written */
  CHECK(sl_v_get(id, "unique") == NULL);
  CHECK_STR(sl_v_str(sl_v_path(pins, "columns.price.dedup_sort"), ""), "desc");
  CHECK_INT(sl_v_int_or(sl_v_path(pins, "columns.price.precision"), 0), 10);
  CHECK(sl_v_bool_or(sl_v_path(pins, "columns.deleted.hard_delete"), false));
  CHECK(sl_v_bool_or(sl_v_path(pins, "columns.score__v_text.variant"), false));
  const sl_value *later = sl_v_path(pins, "columns.later");
  CHECK(later && sl_v_get(later, "data_type") == NULL);
  CHECK(sl_v_bool_or(sl_v_path(later, "x-normalizer.seen-null-first"), false));
  CHECK(sl_v_bool_or(sl_v_path(pins, "columns._dlt_id.row_key"), false));
  const sl_value *tags = sl_v_path(v, "tables.pins__tags");
  CHECK_STR(sl_v_str(sl_v_get(tags, "parent"), ""), "pins");
  CHECK(sl_v_get(tags, "write_disposition") == NULL);
  CHECK_STR(sl_v_str(sl_v_path(v, "tables._dlt_loads.write_disposition"), ""), "skip");
  const sl_value *det = sl_v_path(v, "settings.detections");
  CHECK_INT(sl_v_len(det), 2);
  CHECK_STR(sl_v_str(sl_v_at(det, 1), ""), "iso_date");
  CHECK_STR(sl_v_str(sl_v_path(v, "settings.schema_contract.tables"), ""), "freeze");
  CHECK_INT(sl_v_int_or(sl_v_path(v, "normalizers.json.config.max_nesting"), 0), 3);
  CHECK_STR(sl_v_str(sl_v_path(v, "normalizers.json.config.propagation.tables.pins._dlt_id"), ""), "_dlt_root_id");
  CHECK_STR(sl_v_str(sl_v_path(v, "normalizers.names"), ""), "snake_case");
  sl_doc_free(d);
  sl_schema_free(s);
}

static void check_same(int *failed_, const sl_schema *a, const sl_schema *b) {
  char *ja = to_json(a), *jb = to_json(b);
  CHECK(ja && jb);
  if (strcmp(ja, jb)) fprintf(stderr, "--- a ---\n%s\n--- b ---\n%s\n", ja, jb);
  CHECK(strcmp(ja, jb) == 0);
  free(ja);
  free(jb);
}

TEST(yaml_round_trip) {
  sl_schema *s = sample();
  sl_buf y = {0};
  CHECK_OK(sl_schema_to_yaml(s, &y));
  CHECK_CONTAINS(y.data, "pins__tags:");
  sl_error err;
  sl_doc *d = sl_yaml_parse(y.data, y.len, "schema.yaml", NULL, &err);
  CHECK_MSG(d, "yaml: %s", err.msg);
  sl_schema *b = sl_schema_from_value(d->root, &err);
  CHECK_MSG(b, "from_value: %s", err.msg);
  CHECK_INT(b->version, s->version);
  CHECK_STR(b->version_hash, s->version_hash);
  CHECK(!b->dirty_);
  check_same(failed_, s, b);
  const sl_table *t = sl_schema_find_table(b, "pins");
  CHECK(t->columns[4].incomplete && t->columns[4].seen_null_first);
  CHECK_INT(sl_table_find_column(t, "price", 5), 1);
  sl_schema_free(b);
  sl_doc_free(d);
  sl_buf_free(&y);
  sl_schema_free(s);
}

TEST(json_round_trip_and_clone) {
  sl_schema *s = sample();
  char *j = to_json(s);
  sl_error err;
  sl_doc *d = sl_json_parse_doc(j, strlen(j), "schema.json", &err);
  CHECK(d);
  sl_schema *b = sl_schema_from_value(d->root, &err);
  CHECK(b);
  check_same(failed_, s, b);
  sl_schema *c = sl_schema_clone(s);
  CHECK(c);
  check_same(failed_, s, c);
  /* the clone is independent */
  sl_table *ct = sl_schema_find_table(c, "pins");
  CHECK(ct != sl_schema_find_table(s, "pins"));
  CHECK(sl_table_add_column(c, ct, "extra", SL_T_TEXT, &err) >= 0);
  CHECK_INT(sl_table_find_column(ct, "extra", 5), (int)ct->ncolumns - 1);
  CHECK_INT(sl_table_find_column(sl_schema_find_table(s, "pins"), "extra", 5), -1);
  sl_schema_free(c);
  sl_schema_free(b);
  sl_doc_free(d);
  free(j);
  sl_schema_free(s);
}

TEST(save_and_load_files) {
  char dir[256], py[320], pj[320];
  tmp_dir(dir, sizeof dir);
  snprintf(py, sizeof py, "%s/s.schema.yaml", dir);
  snprintf(pj, sizeof pj, "%s/s.schema.json", dir);
  sl_schema *s = sample();
  sl_error err;
  CHECK_OK(sl_schema_save_file(s, py, &err));
  CHECK_OK(sl_schema_save_file(s, pj, &err));
  CHECK_OK(sl_schema_save_file(s, pj, &err)); /* replaces */
  sl_schema *a = sl_schema_load_file(py, &err);
  CHECK_MSG(a, "%s", err.msg);
  sl_schema *b = sl_schema_load_file(pj, &err);
  CHECK_MSG(b, "%s", err.msg);
  check_same(failed_, s, a);
  check_same(failed_, s, b);
  /* no temp files left */
  char cmd[400];
  snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp > /dev/null", dir);
  CHECK(system(cmd) != 0);
  /* a file without an extension is sniffed */
  char px[320];
  snprintf(px, sizeof px, "%s/noext", dir);
  CHECK(rename(pj, px) == 0);
  sl_schema *c = sl_schema_load_file(px, &err);
  CHECK(c);
  sl_schema_free(c);
  CHECK(sl_schema_load_file("/nonexistent/x.yaml", &err) == NULL);
  CHECK(err.code != SL_OK);
  char bad[320];
  snprintf(bad, sizeof bad, "%s/dir_missing/s.yaml", dir);
  CHECK(sl_schema_save_file(s, bad, &err) == SL_IO);
  CHECK_CONTAINS(err.file, "dir_missing");
  sl_schema_free(a);
  sl_schema_free(b);
  sl_schema_free(s);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
}

static sl_schema *from_yaml(const char *text, sl_error *err) {
  sl_doc *d = sl_yaml_parse(text, strlen(text), "s.yaml", NULL, err);
  if (!d) return NULL;
  sl_schema *s = sl_schema_from_value(d->root, err);
  sl_doc_free(d);
  return s;
}

TEST(load_schema_as_dlt_writes_it) {
  /* the shape dlt exports (engine 9-11): old "complex" type, children listed
   * before their parents, an incomplete column, no pipeline state table */
  const char *y =
      "version: 4\n"
      "version_hash: abc=\n"
      "engine_version: 9\n"
      "name: chess\n"
      "tables:\n"
      "  _dlt_version:\n"
      "    columns:\n"
      "      version: {data_type: bigint, nullable: false}\n"
      "    write_disposition: skip\n"
      "  players__games:\n"
      "    parent: players\n"
      "    columns:\n"
      "      pgn: {data_type: text}\n"
      "      extra: {data_type: complex}\n"
      "  players:\n"
      "    columns:\n"
      "      username: {data_type: text, nullable: false, primary_key: true}\n"
      "      pending: {nullable: true}\n"
      "    write_disposition: merge\n"
      "    resource: players\n"
      "    schema_contract: freeze\n"
      "settings:\n"
      "  detections: [iso_timestamp, large_integer]\n"
      "normalizers:\n"
      "  names: snake_case\n"
      "  json: {module: dlt.common.normalizers.json.relational, config: {max_nesting: 2}}\n"
      "previous_hashes: [h1, h2]\n";
  sl_error err;
  sl_schema *s = from_yaml(y, &err);
  CHECK_MSG(s, "%s", err.msg);
  CHECK_STR(s->name, "chess");
  CHECK_INT(s->ntables, 5);
  CHECK_STR(s->tables[2]->name, "_dlt_pipeline_state");
  const sl_table *g = sl_schema_find_table(s, "players__games");
  CHECK(g && !strcmp(g->parent, "players"));
  CHECK_INT(g->columns[1].type, SL_T_JSON);
  CHECK_INT(g->write_disposition, SL_WD_MERGE);
  const sl_table *p = sl_schema_find_table(s, "players");
  CHECK(p->has_contract && p->contract.tables == SL_CONTRACT_FREEZE && p->contract.data_type == SL_CONTRACT_FREEZE);
  CHECK(p->columns[1].incomplete);
  CHECK(p->columns[0].primary_key && !p->columns[0].nullable);
  CHECK(s->detect_large_integer && s->detect_iso_timestamp);
  CHECK_INT(s->max_table_nesting, 2);
  /* our canonical content differs from dlt's, so loading bumps the version */
  CHECK_INT(s->version, 5);
  CHECK_STR(s->previous_hashes[0], "abc=");
  CHECK_STR(s->previous_hashes[1], "h1");
  sl_schema_free(s);
}

TEST(load_errors) {
  sl_error err;
  CHECK(from_yaml("tables: {}\n", &err) == NULL);
  CHECK_CONTAINS(err.msg, "no name");
  CHECK(from_yaml("name: x\ntables:\n  a:\n    columns:\n      c: {data_type: number}\n", &err) == NULL);
  CHECK_INT(err.code, SL_SCHEMA);
  CHECK_CONTAINS(err.msg, "unknown data_type");
  CHECK(err.line == 5);
  CHECK(from_yaml("name: x\ntables:\n  a__b:\n    parent: a\n", &err) == NULL);
  CHECK_CONTAINS(err.msg, "parent 'a'");
  CHECK(from_yaml("name: x\ntables:\n  a:\n    write_disposition: sometimes\n", &err) == NULL);
  CHECK(from_yaml("name: x\nsettings:\n  schema_contract: {columns: maybe}\n", &err) == NULL);
  CHECK(from_yaml("- 1\n", &err) == NULL);
  sl_schema *ok = from_yaml("name: x\n", &err);
  CHECK(ok && ok->ntables == 3 && ok->version == 1);
  sl_schema_free(ok);
}

TEST_MAIN()
