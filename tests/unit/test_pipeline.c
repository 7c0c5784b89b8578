/* Tests for the pipeline against real files and a real DuckDB file: run → rows,
 * append twice, replace, merge, a bad JSON file (error with file:line:col and
 * nothing loaded), --limit, the lock, sync after deleting the working dir, a
 * resource written in C, the import schema (first run, and again when the file
 * changes), and a run killed at every stage boundary and then finished by the
 * next (each in a forked child). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "sluice/package.h"
#include "sluice/pipeline.h"
#include "source/source_int.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------------------ */

static char *tmpdir(void) {
  char tmpl[] = "/tmp/sl_test_pipeline_XXXXXX";
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

static bool exists(const char *dir, const char *name) {
  char path[1024];
  struct stat sb;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return stat(path, &sb) == 0;
}

/* A project folder: sluice.toml (pipelines_dir inside the folder) + source.yaml. */
static char *project(const char *name, const char *source_yaml, const char *extra_toml) {
  char *d = tmpdir();
  char toml[2048];
  snprintf(toml, sizeof toml,
           "[pipeline]\nname = \"%s\"\nsource = \"source.yaml\"\npipelines_dir = \"pipelines\"\n%s",
           name, extra_toml ? extra_toml : "");
  write_text(d, "sluice.toml", toml);
  write_text(d, "source.yaml", source_yaml);
  return d;
}

static sl_pipeline *open_project(const char *dir, sl_error *err) {
  sl_pipeline_options o;
  memset(&o, 0, sizeof o);
  o.project_dir = dir;
  o.home_dir = "";
  return sl_pipeline_open(&o, err);
}

/* One integer from SQL (the last field of the last line of the CSV). */
static long long query_int(sl_pipeline *p, const char *sql) {
  sl_buf out = {0};
  sl_error err;
  sl_error_clear(&err);
  long long v = -1;
  if (sl_pipeline_query(p, sql, SL_QF_CSV, &out, &err) == SL_OK && out.data) {
    char *end = out.data + out.len;
    while (end > out.data && (end[-1] == '\n' || end[-1] == '\r')) *--end = '\0';
    char *line = strrchr(out.data, '\n');
    line = line ? line + 1 : out.data;
    char *field = strrchr(line, ',');
    field = field ? field + 1 : line;
    if (*field == '"') field++;
    v = strtoll(field, NULL, 10);
  } else {
    fprintf(stderr, "    query failed: %s: %s\n", sql, err.msg);
  }
  sl_buf_free(&out);
  return v;
}

static long long count_rows(sl_pipeline *p, const char *table) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
  return query_int(p, sql);
}

static int run_dir(const char *dir, sl_error *err) {
  sl_pipeline *p = open_project(dir, err);
  if (!p) return err->code;
  sl_status st = sl_pipeline_run(p, NULL, err);
  sl_pipeline_close(p);
  return st;
}

static void cleanup(char *d) {
  sl_rm_rf(d, NULL);
  free(d);
}

static const char *PINS_YAML =
    "name: shop\n"
    "resources:\n"
    "  - name: pins\n"
    "    file: data/pins.jsonl\n";

static const char *PINS =
    "{\"id\": 1, \"title\": \"One\", \"media\": {\"w\": 10}, \"tags\": [\"a\", \"b\"]}\n"
    "{\"id\": 2, \"title\": \"Two\", \"tags\": []}\n"
    "{\"id\": 3, \"title\": \"Three\", \"tags\": [\"c\"]}\n";

/* ---- runs ------------------------------------------------------------------------------- */

TEST(run_loads_rows_and_saves_state) {
  char *d = project("pins_pipe", PINS_YAML, "export_schema_path = \"schemas/export\"\n");
  write_text(d, "data/pins.jsonl", PINS);
  sl_error err;
  sl_error_clear(&err);
  sl_pipeline *p = open_project(d, &err);
  CHECK_MSG(p != NULL, "%s", err.msg);
  CHECK_STR(sl_pipeline_name(p), "pins_pipe");
  CHECK_STR(sl_pipeline_dataset(p), "pins_pipe_dataset");
  CHECK_MSG(sl_pipeline_run(p, NULL, &err) == SL_OK, "%s", err.msg);
  const sl_load_info *li = sl_pipeline_last_load(p);
  CHECK_INT(li->npackages, 1);
  CHECK(li->new_load_id != NULL);
  CHECK_INT(li->records, 3);
  CHECK_INT(sl_load_info_rows(li, "pins"), 3);
  CHECK_INT(sl_load_info_rows(li, "pins__tags"), 3);
  CHECK_INT(count_rows(p, "pins"), 3);
  CHECK_INT(count_rows(p, "pins__tags"), 3);
  CHECK_INT(query_int(p, "SELECT count(*) FROM _dlt_loads WHERE status = 0"), 1);
  CHECK_INT(query_int(p, "SELECT count(*) FROM _dlt_pipeline_state WHERE pipeline_name = 'pins_pipe'"), 1);
  CHECK_CONTAINS(sl_pipeline_state_json(p), "\"pipeline_name\":\"pins_pipe\"");
  CHECK(sl_pipeline_schema(p) && sl_schema_find_table(sl_pipeline_schema(p), "pins"));
  CHECK(exists(d, "pins_pipe.duckdb"));
  CHECK(exists(d, "pipelines/pins_pipe/state.json"));
  CHECK(exists(d, "pipelines/pins_pipe/schema.json"));
  CHECK(exists(d, "pipelines/pins_pipe/pipeline.json"));
  CHECK(exists(d, "schemas/export/shop.schema.yaml"));
  char **ids;
  size_t n;
  char pk[1024];
  snprintf(pk, sizeof pk, "%s/pipelines/pins_pipe/packages", d);
  CHECK_OK(sl_package_list_all(pk, &ids, &n, NULL));
  CHECK_INT(n, 0); /* loaded packages are deleted */
  sl_package_list_free(ids, n);
  sl_buf info = {0};
  CHECK_OK(sl_pipeline_info(p, &info, &err));
  CHECK_CONTAINS(info.data, "pins__tags");
  CHECK_CONTAINS(info.data, "3 rows");
  CHECK_CONTAINS(info.data, "pending packages: none");
  sl_buf_free(&info);
  sl_pipeline_close(p);
  cleanup(d);
}

TEST(run_twice_appends) {
  char *d = project("app", PINS_YAML, NULL);
  write_text(d, "data/pins.jsonl", PINS);
  sl_error err;
  sl_error_clear(&err);
  CHECK_OK(run_dir(d, &err));
  CHECK_OK(run_dir(d, &err));
  sl_pipeline *p = open_project(d, &err);
  CHECK(p);
  CHECK_INT(count_rows(p, "pins"), 6);
  CHECK_INT(count_rows(p, "pins__tags"), 6);
  CHECK_INT(query_int(p, "SELECT count(DISTINCT _dlt_load_id) FROM pins"), 2);
  sl_pipeline_close(p);
  cleanup(d);
}

TEST(run_replace) {
  char *d = project("rep",
                    "name: shop\nresources:\n  - name: pins\n    write_disposition: replace\n"
                    "    file: data/pins.jsonl\n",
                    NULL);
  write_text(d, "data/pins.jsonl", PINS);
  sl_error err;
  sl_error_clear(&err);
  CHECK_OK(run_dir(d, &err));
  CHECK_OK(run_dir(d, &err));
  sl_pipeline *p = open_project(d, &err);
  CHECK_INT(count_rows(p, "pins"), 3);
  CHECK_INT(count_rows(p, "pins__tags"), 3);
  sl_pipeline_close(p);
  write_text(d, "data/pins.jsonl", "{\"id\": 9, \"tags\": [\"z\"]}\n");
  CHECK_OK(run_dir(d, &err));
  p = open_project(d, &err);
  CHECK_INT(count_rows(p, "pins"), 1);
  CHECK_INT(count_rows(p, "pins__tags"), 1);
  CHECK_INT(query_int(p, "SELECT id FROM pins"), 9);
  sl_pipeline_close(p);
  cleanup(d);
}

TEST(run_merge) {
  char *d = project("mrg",
                    "name: shop\nresources:\n  - name: pins\n    primary_key: id\n"
                    "    write_disposition: merge\n    file: data/pins.jsonl\n",
                    NULL);
  write_text(d, "data/pins.jsonl", PINS);
  sl_error err;
  sl_error_clear(&err);
  CHECK_OK(run_dir(d, &err));
  write_text(d, "data/pins.jsonl",
             "{\"id\": 2, \"title\": \"Two again\", \"tags\": [\"x\", \"y\"]}\n"
             "{\"id\": 4, \"title\": \"Four\"}\n");
  CHECK_MSG(run_dir(d, &err) == SL_OK, "%s", err.msg);
  sl_pipeline *p = open_project(d, &err);
  CHECK_INT(count_rows(p, "pins"), 4);
  CHECK_INT(query_int(p, "SELECT count(*) FROM pins WHERE title = 'Two again'"), 1);
  /* id 2's old child rows are gone, its new ones are there: a(1) b(1) c(3) x y. */
  CHECK_INT(count_rows(p, "pins__tags"), 5);
  sl_pipeline_close(p);
  cleanup(d);
}

/* ---- the import schema ---------------------------------------------------------------- */

/* The text of the last line of a one-column CSV result ("" when none). */
static char *query_last(sl_pipeline *p, const char *sql) {
  sl_buf out = {0};
  sl_error err;
  char *v = strdup("");
  if (sl_pipeline_query(p, sql, SL_QF_CSV, &out, &err) == SL_OK && out.data) {
    while (out.len && out.data[out.len - 1] == '\n') out.data[--out.len] = '\0';
    char *line = strrchr(out.data, '\n');
    free(v);
    v = strdup(line ? line + 1 : "");
  } else {
    fprintf(stderr, "    query failed: %s: %s\n", sql, err.msg);
  }
  sl_buf_free(&out);
  return v;
}

static int column_type(sl_pipeline *p, const char *table, const char *column) {
  const sl_table *t = sl_schema_find_table(sl_pipeline_schema(p), table);
  int i = t ? sl_table_find_column(t, column, strlen(column)) : -1;
  return i < 0 || t->columns[i].incomplete ? -1 : (int)t->columns[i].type;
}

#define DEST_TYPE(p, col)                                                                    \
  query_last(p, "SELECT data_type FROM information_schema.columns WHERE table_name = 'items' " \
                "AND column_name = '" col "'")

TEST(import_schema_first_run_and_when_changed) {
  char *d = project("imp", "name: shop\nresources:\n  - name: items\n    file: data/items.jsonl\n",
                    "import_schema_path = \"schemas_in\"\nprogress = \"none\"\n");
  write_text(d, "schemas_in/shop.schema.yaml",
             "name: shop\ntables:\n  items:\n    columns:\n      x:\n        data_type: text\n");
  write_text(d, "data/items.jsonl", "{\"id\": 1, \"x\": 5, \"w\": 1}\n");
  sl_error err;
  sl_error_clear(&err);
  /* run 1: the import schema is the start, x is text although the data has a number */
  CHECK_MSG(run_dir(d, &err) == SL_OK, "%s", err.msg);
  sl_pipeline *p = open_project(d, &err);
  CHECK(p != NULL);
  CHECK_INT(column_type(p, "items", "x"), SL_T_TEXT);
  CHECK_INT(column_type(p, "items", "w"), SL_T_BIGINT);
  char *t = DEST_TYPE(p, "x");
  CHECK_STR(t, "VARCHAR");
  free(t);
  int64_t v1 = sl_pipeline_schema(p)->version;
  sl_pipeline_close(p);
  /* run 2, the file unchanged: the pipeline's schema goes on (w, learned from
   * the data, stays although this run has none of it) */
  write_text(d, "data/items.jsonl", "{\"id\": 2, \"x\": 6}\n");
  CHECK_MSG(run_dir(d, &err) == SL_OK, "%s", err.msg);
  p = open_project(d, &err);
  CHECK_INT(column_type(p, "items", "w"), SL_T_BIGINT);
  CHECK_INT(sl_pipeline_schema(p)->version, v1);
  sl_pipeline_close(p);
  /* run 3: the file now pins a new column y as text; the next run applies it */
  write_text(d, "schemas_in/shop.schema.yaml",
             "name: shop\ntables:\n  items:\n    columns:\n      x:\n        data_type: text\n"
             "      y:\n        data_type: text\n");
  write_text(d, "data/items.jsonl", "{\"id\": 3, \"x\": 7, \"y\": 8}\n");
  CHECK_MSG(run_dir(d, &err) == SL_OK, "%s", err.msg);
  p = open_project(d, &err);
  CHECK_INT(column_type(p, "items", "y"), SL_T_TEXT);
  CHECK_INT(column_type(p, "items", "x"), SL_T_TEXT);
  CHECK(sl_pipeline_schema(p)->version > v1);
  t = DEST_TYPE(p, "y");
  CHECK_STR(t, "VARCHAR");
  free(t);
  t = query_last(p, "SELECT y FROM items WHERE id = 3");
  CHECK_STR(t, "8");
  free(t);
  CHECK_INT(count_rows(p, "items"), 3);
  sl_pipeline_close(p);
  /* run 4, unchanged again: y stays text for a number */
  write_text(d, "data/items.jsonl", "{\"id\": 4, \"x\": 9, \"y\": 10}\n");
  CHECK_MSG(run_dir(d, &err) == SL_OK, "%s", err.msg);
  p = open_project(d, &err);
  CHECK_INT(column_type(p, "items", "y"), SL_T_TEXT);
  CHECK(sl_schema_find_table(sl_pipeline_schema(p), "items__v_bigint") == NULL);
  t = query_last(p, "SELECT count(*) FROM items WHERE y = '10'");
  CHECK_STR(t, "1");
  free(t);
  sl_pipeline_close(p);
  CHECK(exists(d, "pipelines/imp/import_schema.hash")); /* kept in the working folder */
  cleanup(d);
}

TEST(run_bad_json_loads_nothing) {
  char *d = project("bad",
                    "name: shop\nresources:\n  - name: pins\n    file: 'data/*.jsonl'\n"
                    "  - name: other\n    file: other.json\n",
                    NULL);
  write_text(d, "data/a.jsonl", PINS);
  write_text(d, "data/b.jsonl", "{\"id\": 7}\n{\"id\": 8,, \"x\": 1}\n");
  write_text(d, "other.json", "[{\"k\": 1}]");
  sl_error err;
  sl_error_clear(&err);
  sl_pipeline *p = open_project(d, &err);
  CHECK(p);
  sl_status st = sl_pipeline_run(p, NULL, &err);
  CHECK_INT(st, SL_JSON_SYNTAX);
  CHECK_STR(err.file, "data/b.jsonl");
  CHECK_INT(err.line, 2);
  CHECK_INT(err.col, 10);
  char line[1024];
  CHECK_CONTAINS(sl_error_format(&err, line, sizeof line), "data/b.jsonl:2:10:");
  CHECK_INT(sl_status_exit_code(st), 3);
  CHECK_INT(sl_pipeline_last_load(p)->npackages, 0);
  CHECK_STR(sl_pipeline_state_json(p), "{}");
  /* Nothing in the destination: no data table, no load. */
  CHECK_INT(count_rows(p, "pins"), -1);
  /* No package is pending; none is kept, as no extract file was written. */
  char pk[1024];
  snprintf(pk, sizeof pk, "%s/pipelines/bad/packages", d);
  char **ids;
  size_t n;
  CHECK_OK(sl_package_list_pending(pk, &ids, &n, NULL));
  CHECK_INT(n, 0);
  sl_package_list_free(ids, n);
  CHECK_OK(sl_package_list_all(pk, &ids, &n, NULL));
  CHECK_INT(n, 0);
  sl_package_list_free(ids, n);
  /* Fixed, the next run loads everything once. */
  write_text(d, "data/b.jsonl", "{\"id\": 7}\n{\"id\": 8, \"x\": 1}\n");
  CHECK_MSG(sl_pipeline_run(p, NULL, &err) == SL_OK, "%s", err.msg);
  CHECK_INT(count_rows(p, "pins"), 5);
  CHECK_INT(count_rows(p, "other"), 1);
  sl_pipeline_close(p);
  cleanup(d);
}

/* A source that fails before its first record leaves no package behind (an
 * aborted one is kept only when it holds something to look at). */
TEST(run_failed_before_any_record_leaves_no_package) {
  char *d = project("empty", "name: shop\nresources:\n  - name: pins\n    file: 'data/*.jsonl'\n", NULL);
  write_text(d, "data/a.jsonl", "{\"id\": 1,, \"x\": 1}\n");
  sl_error err;
  sl_error_clear(&err);
  sl_pipeline *p = open_project(d, &err);
  CHECK(p);
  CHECK_INT(sl_pipeline_run(p, NULL, &err), SL_JSON_SYNTAX);
  char pk[1024];
  snprintf(pk, sizeof pk, "%s/pipelines/empty/packages", d);
  char **ids;
  size_t n;
  CHECK_OK(sl_package_list_all(pk, &ids, &n, NULL));
  CHECK_INT(n, 0);
  sl_package_list_free(ids, n);
  write_text(d, "data/a.jsonl", "{\"id\": 1, \"x\": 1}\n");
  CHECK_MSG(sl_pipeline_run(p, NULL, &err) == SL_OK, "%s", err.msg);
  CHECK_INT(count_rows(p, "pins"), 1);
  sl_pipeline_close(p);
  cleanup(d);
}

TEST(run_limit_and_gzip) {
  char *d = project("lim", "name: shop\nresources:\n  - name: pins\n    file: data/pins.jsonl.gz\n",
                    NULL);
  char path[1024];
  snprintf(path, sizeof path, "%s/data", d);
  sl_mkdir_p(path, NULL);
  snprintf(path, sizeof path, "%s/data/pins.jsonl.gz", d);
  gzFile g = gzopen(path, "wb");
  gzputs(g, PINS);
  gzclose(g);
  sl_error err;
  sl_error_clear(&err);
  sl_pipeline *p = open_project(d, &err);
  sl_run_options ro = {.limit = 2};
  CHECK_MSG(sl_pipeline_run(p, &ro, &err) == SL_OK, "%s", err.msg);
  CHECK_INT(count_rows(p, "pins"), 2);
  sl_pipeline_close(p);
  cleanup(d);
}

TEST(run_refuses_while_locked_and_takes_over_stale_lock) {
  char *d = project("lck", PINS_YAML, NULL);
  write_text(d, "data/pins.jsonl", PINS);
  sl_error err;
  sl_error_clear(&err);
  sl_pipeline *p = open_project(d, &err);
  CHECK(p);
  char lock[1024];
  snprintf(lock, sizeof lock, "%s/pipelines/lck/lock", d);
  /* Another live run holds the lock. */
  int fd = open(lock, O_RDWR | O_CREAT, 0644);
  CHECK(fd >= 0);
  CHECK(flock(fd, LOCK_EX | LOCK_NB) == 0);
  char pid[32];
  int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  CHECK(write(fd, pid, (size_t)len) == len);
  CHECK_INT(sl_pipeline_run(p, NULL, &err), SL_LOCKED);
  CHECK_CONTAINS(err.msg, "already running");
  pid[len - 1] = '\0';
  char holder[64];
  snprintf(holder, sizeof holder, "(pid %s holds ", pid);
  CHECK_CONTAINS(err.msg, holder);
  CHECK_INT(sl_status_exit_code(err.code), 5);
  /* The pid of a dead process in the file is not named as the holder. */
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, NULL, 0);
  len = snprintf(pid, sizeof pid, "%d\n", (int)child);
  CHECK(pwrite(fd, pid, (size_t)len, 0) == len);
  CHECK_INT(sl_pipeline_run(p, NULL, &err), SL_LOCKED);
  CHECK_CONTAINS(err.msg, "another process holds");
  close(fd);
  /* A lock file left by a dead process is taken over. */
  write_text(d, "pipelines/lck/lock", pid);
  CHECK_MSG(sl_pipeline_run(p, NULL, &err) == SL_OK, "%s", err.msg);
  CHECK_INT(count_rows(p, "pins"), 3);
  sl_pipeline_close(p);
  cleanup(d);
}

TEST(sync_restores_deleted_working_dir) {
  char *d = project("syn",
                    "name: shop\nresources:\n  - name: pins\n"
                    "    file: {path: 'data/*.jsonl', skip_loaded_files: true}\n",
                    NULL);
  write_text(d, "data/pins.jsonl", PINS);
  sl_error err;
  sl_error_clear(&err);
  CHECK_OK(run_dir(d, &err));
  char wd[1024], state_before[4096] = "";
  snprintf(wd, sizeof wd, "%s/pipelines/syn", d);
  {
    sl_pipeline *p = open_project(d, &err);
    snprintf(state_before, sizeof state_before, "%s", sl_pipeline_state_json(p));
    sl_pipeline_close(p);
  }
  CHECK_CONTAINS(state_before, "data/pins.jsonl");
  CHECK_OK(sl_rm_rf(wd, NULL));
  sl_pipeline *p = open_project(d, &err);
  CHECK(p);
  CHECK_STR(sl_pipeline_state_json(p), "{}");
  CHECK_MSG(sl_pipeline_sync(p, &err) == SL_OK, "%s", err.msg);
  CHECK_STR(sl_pipeline_state_json(p), state_before);
  CHECK(sl_pipeline_schema(p) && sl_schema_find_table(sl_pipeline_schema(p), "pins__tags"));
  CHECK(exists(d, "pipelines/syn/state.json"));
  CHECK(exists(d, "pipelines/syn/schema.json"));
  sl_pipeline_close(p);
  /* The restored state keeps the loaded file from loading twice. */
  CHECK_OK(run_dir(d, &err));
  /* And a run on a deleted working dir restores by itself. */
  CHECK_OK(sl_rm_rf(wd, NULL));
  CHECK_OK(run_dir(d, &err));
  p = sl_pipeline_attach("syn", NULL, &err);
  CHECK(p == NULL); /* not under the default pipelines dir */
  char pdir[1024];
  snprintf(pdir, sizeof pdir, "%s/pipelines", d);
  p = sl_pipeline_attach("syn", pdir, &err);
  CHECK_MSG(p != NULL, "%s", err.msg);
  CHECK_INT(count_rows(p, "pins"), 3);
  sl_pipeline_close(p);
  cleanup(d);
}

/* ---- a resource in C --------------------------------------------------------------------- */

static sl_status numbers(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err) {
  int *n = ud;
  for (int i = 0; i < *n && !sl_emit_stopped(em); i++) {
    char rec[128];
    int len = snprintf(rec, sizeof rec, "{\"n\": %d, \"sq\": %d, \"even\": %s}", i, i * i,
                       i % 2 ? "false" : "true");
    sl_status st = sl_emit_json(em, rec, (size_t)len, err);
    if (st) return st;
  }
  sl_doc *sd = sl_emit_state_doc(em);
  sl_v_put(sd, sl_emit_state(em), "last", sl_v_int(sd, *n - 1));
  return SL_OK;
}

TEST(custom_resource_without_toml) {
  char *d = tmpdir();
  sl_pipeline_options o;
  memset(&o, 0, sizeof o);
  o.project_dir = d;
  o.name = "custom";
  o.home_dir = "";
  char pdir[1024];
  snprintf(pdir, sizeof pdir, "%s/wd", d);
  o.pipelines_dir = pdir;
  sl_error err;
  sl_error_clear(&err);
  sl_pipeline *p = sl_pipeline_open(&o, &err);
  CHECK_MSG(p != NULL, "%s", err.msg);
  int n = 1000;
  sl_resource_def def;
  sl_resource_def_init(&def);
  def.name = "numbers";
  def.fn = numbers;
  def.ud = &n;
  def.primary_key = (const char *[]){"n", NULL};
  def.write_disposition = SL_WD_MERGE;
  CHECK_OK(sl_pipeline_add_resource(p, &def, &err));
  const char *yaml = "resources:\n  - name: more\n    file: more.jsonl\n";
  write_text(d, "more.jsonl", "{\"x\": 1}\n");
  CHECK_OK(sl_pipeline_add_source_yaml(p, yaml, strlen(yaml), "inline.yaml", &err));
  CHECK_MSG(sl_pipeline_run(p, NULL, &err) == SL_OK, "%s", err.msg);
  CHECK_INT(sl_load_info_rows(sl_pipeline_last_load(p), "numbers"), 1000);
  CHECK_INT(count_rows(p, "numbers"), 1000);
  CHECK_INT(count_rows(p, "more"), 1);
  CHECK_INT(query_int(p, "SELECT sum(sq) FROM numbers WHERE even"), 166167000);
  CHECK_CONTAINS(sl_pipeline_state_json(p), "\"last\":999");
  n = 10;
  CHECK_OK(sl_pipeline_run(p, NULL, &err));
  CHECK_INT(count_rows(p, "numbers"), 1000); /* merged on n */
  sl_pipeline_close(p);
  cleanup(d);
}

TEST(open_errors) {
  char *d = tmpdir();
  sl_error err;
  sl_error_clear(&err);
  CHECK(open_project(d, &err) == NULL);
  CHECK_INT(err.code, SL_NOT_FOUND);
  CHECK_CONTAINS(err.msg, "no sluice.toml");
  write_text(d, "sluice.toml", "[pipeline]\nname = \"x\"\ndatset_name = \"y\"\n");
  CHECK(open_project(d, &err) == NULL);
  CHECK_INT(err.code, SL_CONFIG_INVALID);
  CHECK_CONTAINS(err.msg, "did you mean 'dataset_name'");
  CHECK_INT(err.line, 3);
  write_text(d, "sluice.toml", "[pipeline]\nname = \"x\"\nsource = \"missing.yaml\"\n");
  CHECK(open_project(d, &err) == NULL);
  CHECK_INT(err.code, SL_NOT_FOUND);
  write_text(d, "sluice.toml", "[pipeline]\nname = \"x\"\ndestination = \"bigquery\"\n");
  CHECK(open_project(d, &err) == NULL);
  CHECK_CONTAINS(err.msg, "not supported");
  write_text(d, "sluice.toml", "[pipeline]\nname = \"x\"\nsource = \"s.yaml\"\npipelines_dir = \"p\"\n");
  write_text(d, "s.yaml", "resources:\n  - name: r\n    fil: a.jsonl\n");
  CHECK(open_project(d, &err) == NULL);
  CHECK_CONTAINS(err.file, "s.yaml");
  CHECK_INT(err.line, 3);
  CHECK_CONTAINS(err.msg, "did you mean 'file'");
  cleanup(d);
}

/* ---- killed runs ---------------------------------------------------------------------------- */

/* Run the pipeline in a child that kills itself at the given point; returns
 * 1 if it was killed, 0 if it finished, -1 on error. */
static int run_killed_at(const char *dir, const char *point) {
  pid_t pid = fork();
  if (pid == 0) {
    sl__crash_arm(point);
    sl_error err;
    sl_error_clear(&err);
    _exit(run_dir(dir, &err) == SL_OK ? 0 : 1);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return 1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

TEST(killed_at_each_stage_then_finished_exactly_once) {
  static const char *points[] = {"extract_record:5",  "extract_commit:1", "normalize_file:1",
                                 "normalize_commit:1", "load_begin:1",     "load_commit:1",
                                 "load_local:1",       NULL};
  sl_buf data = {0};
  for (int i = 0; i < 3000; i++)
    sl_buf_printf(&data, "{\"id\": %d, \"v\": \"r%d\", \"kids\": [{\"k\": %d}, {\"k\": %d}]}\n", i,
                  i, i, -i);
  for (size_t k = 0; points[k]; k++) {
    char *d = project("kill",
                      "name: shop\nresources:\n"
                      "  - name: a\n    file: {path: 'in/*.jsonl', skip_loaded_files: true}\n"
                      "  - name: m\n    primary_key: id\n    write_disposition: merge\n"
                      "    file: {path: 'in/*.jsonl', skip_loaded_files: true}\n",
                      "");
    write_text(d, "in/1.jsonl", data.data);
    write_text(d, ".sluice/config.toml",
               "[normalize.data_writer]\nfile_max_bytes = 20000\n"
               "[extract.data_writer]\nfile_max_bytes = 30000\n");
    CHECK_MSG(run_killed_at(d, points[k]) == 1, "not killed at %s", points[k]);
    sl_error err;
    sl_error_clear(&err);
    CHECK_MSG(run_dir(d, &err) == SL_OK, "rerun after %s: %s", points[k], err.msg);
    CHECK_OK(run_dir(d, &err)); /* nothing new */
    sl_pipeline *p = open_project(d, &err);
    CHECK_MSG(count_rows(p, "a") == 3000, "after %s: %lld rows in a", points[k], count_rows(p, "a"));
    CHECK_MSG(count_rows(p, "a__kids") == 6000, "after %s", points[k]);
    CHECK_MSG(count_rows(p, "m") == 3000, "after %s", points[k]);
    CHECK_MSG(query_int(p, "SELECT count(DISTINCT id) FROM a") == 3000, "after %s", points[k]);
    CHECK_MSG(query_int(p, "SELECT count(*) FROM _dlt_loads") == 1, "after %s: %lld loads",
              points[k], query_int(p, "SELECT count(*) FROM _dlt_loads"));
    sl_pipeline_close(p);
    cleanup(d);
  }
  sl_buf_free(&data);
}

TEST_MAIN()
