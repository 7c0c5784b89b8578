/* A replace resource that yields nothing still replaces: after a run over an
 * empty file (and over a C resource that emits no record) the root table and
 * its child tables are empty, other resources keep their rows, and
 * _dlt_loads records the load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/package.h"
#include "sluice/pipeline.h"
#include "test.h"

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

static long long query_int(sl_pipeline *p, const char *sql) {
  sl_buf out = {0};
  sl_error err;
  sl_error_clear(&err);
  long long v = -1;
  if (sl_pipeline_query(p, sql, SL_QF_CSV, &out, &err) == SL_OK && out.data) {
    char *end = out.data + out.len;
    while (end > out.data && (end[-1] == '\n' || end[-1] == '\r')) *--end = '\0';
    char *line = strrchr(out.data, '\n');
    v = strtoll(line ? line + 1 : out.data, NULL, 10);
  } else {
    fprintf(stderr, "    query failed: %s: %s\n", sql, err.msg);
  }
  sl_buf_free(&out);
  return v;
}

static sl_pipeline *open_dir(const char *dir, sl_error *err) {
  sl_pipeline_options o;
  memset(&o, 0, sizeof o);
  o.project_dir = dir;
  o.home_dir = "";
  o.progress = -1;
  return sl_pipeline_open(&o, err);
}

static int run_dir(const char *dir, sl_error *err) {
  sl_pipeline *p = open_dir(dir, err);
  if (!p) return err->code;
  sl_status st = sl_pipeline_run(p, NULL, err);
  sl_pipeline_close(p);
  return st;
}

static const char *YAML =
    "name: shop\n"
    "resources:\n"
    "  - name: pins\n"
    "    write_disposition: replace\n"
    "    file: data/pins.jsonl\n"
    "  - name: log\n"
    "    file: data/log.jsonl\n";

TEST(empty_file_replace_empties_root_and_children) {
  char tmpl[] = "/tmp/sl_test_replace_empty_XXXXXX";
  char *d = mkdtemp(tmpl);
  CHECK(d != NULL);
  write_text(d, "sluice.toml",
             "[pipeline]\nname = \"rep0\"\nsource = \"source.yaml\"\npipelines_dir = \"pipelines\"\n");
  write_text(d, "source.yaml", YAML);
  write_text(d, "data/pins.jsonl",
             "{\"id\": 1, \"tags\": [\"a\", \"b\"], \"boards\": [{\"n\": 1, \"sub\": [1, 2]}]}\n"
             "{\"id\": 2, \"tags\": [\"c\"]}\n");
  write_text(d, "data/log.jsonl", "{\"ev\": \"x\"}\n");
  sl_error err;
  sl_error_clear(&err);
  CHECK_MSG(run_dir(d, &err) == SL_OK, "%s", err.msg);
  sl_pipeline *p = open_dir(d, &err);
  CHECK_INT(query_int(p, "SELECT count(*) FROM pins"), 2);
  CHECK_INT(query_int(p, "SELECT count(*) FROM pins__tags"), 3);
  CHECK_INT(query_int(p, "SELECT count(*) FROM pins__boards__sub"), 2);
  sl_pipeline_close(p);

  write_text(d, "data/pins.jsonl", "");
  CHECK_MSG(run_dir(d, &err) == SL_OK, "%s", err.msg);
  p = open_dir(d, &err);
  CHECK_INT(query_int(p, "SELECT count(*) FROM pins"), 0);
  CHECK_INT(query_int(p, "SELECT count(*) FROM pins__tags"), 0);
  CHECK_INT(query_int(p, "SELECT count(*) FROM pins__boards"), 0);
  CHECK_INT(query_int(p, "SELECT count(*) FROM pins__boards__sub"), 0);
  CHECK_INT(query_int(p, "SELECT count(*) FROM log"), 2); /* append: untouched */
  CHECK_INT(query_int(p, "SELECT count(*) FROM _dlt_loads WHERE status = 0"), 2);
  sl_pipeline_close(p);

  /* and data again after the empty replace */
  write_text(d, "data/pins.jsonl", "{\"id\": 7, \"tags\": [\"z\"]}\n");
  CHECK_MSG(run_dir(d, &err) == SL_OK, "%s", err.msg);
  p = open_dir(d, &err);
  CHECK_INT(query_int(p, "SELECT id FROM pins"), 7);
  CHECK_INT(query_int(p, "SELECT count(*) FROM pins__tags"), 1);
  sl_pipeline_close(p);
  sl_rm_rf(d, NULL);
}

/* A C resource emitting `*ud` records, each with a child list. */
static sl_status items(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err) {
  (void)parent;
  int n = *(int *)ud;
  for (int i = 0; i < n; i++) {
    char rec[128];
    int len = snprintf(rec, sizeof rec, "{\"id\": %d, \"parts\": [{\"p\": 1}, {\"p\": 2}]}", i);
    sl_status st = sl_emit_json(em, rec, (size_t)len, err);
    if (st) return st;
  }
  return SL_OK;
}

TEST(callback_replace_with_no_records_empties_tables) {
  char tmpl[] = "/tmp/sl_test_replace_empty_XXXXXX";
  char *d = mkdtemp(tmpl);
  CHECK(d != NULL);
  char pipes[1024];
  snprintf(pipes, sizeof pipes, "%s/pipelines", d);
  int counts[] = {5, 0};
  for (int r = 0; r < 2; r++) {
    sl_pipeline_options o;
    memset(&o, 0, sizeof o);
    o.project_dir = d;
    o.name = "rep_cb";
    o.pipelines_dir = pipes;
    o.home_dir = "";
    o.progress = -1;
    sl_error err;
    sl_error_clear(&err);
    sl_pipeline *p = sl_pipeline_open(&o, &err);
    CHECK(p != NULL);
    sl_resource_def def;
    sl_resource_def_init(&def);
    def.name = "items";
    def.write_disposition = SL_WD_REPLACE;
    def.fn = items;
    def.ud = &counts[r];
    CHECK_OK(sl_pipeline_add_resource(p, &def, &err));
    CHECK_MSG(sl_pipeline_run(p, NULL, &err) == SL_OK, "%s", err.msg);
    CHECK_INT(query_int(p, "SELECT count(*) FROM items"), counts[r]);
    CHECK_INT(query_int(p, "SELECT count(*) FROM items__parts"), 2 * counts[r]);
    sl_pipeline_close(p);
  }
  sl_rm_rf(d, NULL);
}

TEST_MAIN()
