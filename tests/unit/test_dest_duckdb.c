/* The DuckDB destination against a real DuckDB: job files written by hand,
 * packages loaded, and the result checked with the SQL a user would run —
 * types, values, NULLs, write dispositions, exactly-once, a process killed
 * mid-load, corrupt jobs, a locked database, hostile names, the query tool. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <duckdb.h>

#include "dest/duckdb_int.h"
#include "sluice/base64.h"
#include "sluice/dest.h"
#include "sluice/normalize.h"
#include "sluice/package.h"
#include "sluice/rows.h"
#include "sluice/schema.h"
#include "test.h"

/* ---- fixtures ------------------------------------------------------------------------ */

static char base_dir[256];

typedef struct env {
  char dir[512], db[600], pk[600];
  sl_dest *d;
  sl_schema *s;
} env;

static void env_init(env *e, const char *name) {
  if (!base_dir[0]) snprintf(base_dir, sizeof base_dir, "/tmp/sl_test_dest_%ld", (long)getpid());
  memset(e, 0, sizeof *e);
  snprintf(e->dir, sizeof e->dir, "%s/%s", base_dir, name);
  sl_rm_rf(e->dir, NULL);
  sl_mkdir_p(e->dir, NULL);
  snprintf(e->db, sizeof e->db, "%s/test.duckdb", e->dir);
  snprintf(e->pk, sizeof e->pk, "%s/packages", e->dir);
}

static sl_dest *open_db(const char *path, const char *dataset, sl_error *err) {
  const char *txn = getenv("SL_TEST_TXN_ROWS"); /* a crash child's rows_per_transaction */
  sl_duckdb_options o = {.path = path, .dataset = dataset, .threads = 2,
                         .rows_per_transaction = txn ? strtoull(txn, NULL, 10) : 0};
  return sl_duckdb_open(&o, err);
}

static void env_open(env *e) {
  sl_error err;
  e->d = open_db(e->db, "ds", &err);
  if (!e->d) fprintf(stderr, "open: %s\n", err.msg);
}

static void env_done(env *e) {
  sl_dest_close(e->d);
  e->d = NULL;
  sl_schema_free(e->s);
  e->s = NULL;
}

static sl_table *tab(sl_schema *s, const char *name, const char *parent, sl_write_disposition wd) {
  sl_table *t = sl_schema_add_table(s, name, parent, NULL);
  if (t && !parent) t->write_disposition = wd;
  return t;
}

static sl_column *col(sl_schema *s, sl_table *t, const char *name, sl_dtype type) {
  int i = sl_table_find_column(t, name, strlen(name));
  if (i < 0) i = sl_table_add_column(s, t, name, type, NULL);
  return i < 0 ? NULL : &t->columns[i];
}

/* Row values by column name. */
typedef struct tv {
  int kind; /* 1 int, 2 double, 3 bool, 4 bytes */
  int64_t i;
  double d;
  const char *s;
  size_t n;
} tv;
#define VI(x) ((tv){1, (x), 0, NULL, 0})
#define VD(x) ((tv){2, 0, (x), NULL, 0})
#define VB(x) ((tv){3, (x), 0, NULL, 0})
#define VS(x) ((tv){4, 0, 0, (x), strlen(x)})
#define VN(x, len) ((tv){4, 0, 0, (x), (len)})

/* put(w, t, "col", VI(1), "other", VS("x"), NULL) */
static sl_status put(sl_job_writer *w, const sl_table *t, ...) {
  sl_row_value v[64];
  size_t n = 0;
  va_list ap;
  va_start(ap, t);
  const char *name;
  while ((name = va_arg(ap, const char *)) != NULL && n < 64) {
    tv x = va_arg(ap, tv);
    int c = sl_table_find_column(t, name, strlen(name));
    if (c < 0) {
      va_end(ap);
      fprintf(stderr, "no column %s in %s\n", name, t->name);
      return SL_INVALID_ARG;
    }
    v[n].col = (uint32_t)c;
    switch (x.kind) {
      case 1: v[n].v.i = x.i; break;
      case 2: v[n].v.d = x.d; break;
      case 3: v[n].v.b = x.i != 0; break;
      default: v[n].v.s.p = x.s, v[n].v.s.n = x.n;
    }
    n++;
  }
  va_end(ap);
  sl_error err;
  sl_status st = sl_job_write_row(w, t, v, n, &err);
  if (st) fprintf(stderr, "write: %s\n", err.msg);
  return st;
}

static sl_job_writer *job(sl_package *p, const char *table, int file_id) {
  char name[512], path[1024];
  snprintf(name, sizeof name, "%s.%d.0.sjob", table, file_id);
  sl_package_file_path(p, "new_jobs", name, path, sizeof path);
  sl_error err;
  sl_job_writer *w = sl_job_writer_open(path, table, &err);
  if (!w) fprintf(stderr, "job: %s\n", err.msg);
  return w;
}

static sl_package *new_pkg(env *e) {
  char id[32];
  sl_new_load_id(id);
  sl_error err;
  sl_package *p = sl_package_create(e->pk, id, &err);
  if (!p) fprintf(stderr, "package: %s\n", err.msg);
  return p;
}

static sl_status load_pkg(sl_dest *d, sl_package *p, sl_schema *s, const char *state, bool changed,
                          sl_error *err) {
  sl_load_request req = {.pipeline_name = "test_pipe",
                         .load_id = sl_package_load_id(p),
                         .state_json = state,
                         .schema_changed = changed};
  sl_error_clear(err);
  sl_schema_bump_version(s);
  return d->vt->load_package(d, p, s, &req, err);
}

/* First cells of a query's CSV output, without the header, newlines between rows. */
static const char *q(sl_dest *d, const char *fmt, ...) {
  static char out[1 << 16];
  char sql[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sql, sizeof sql, fmt, ap);
  va_end(ap);
  sl_buf b = {0};
  sl_error err;
  sl_error_clear(&err);
  if (sl_duckdb_query(d, sql, true, SL_QF_CSV, &b, &err) != SL_OK) {
    snprintf(out, sizeof out, "ERR: %s", err.msg);
  } else {
    /* Decode the CSV: fields joined by '|', rows by '\n'. */
    const char *p = b.data ? strchr(b.data, '\n') : NULL;
    size_t n = 0;
    p = p ? p + 1 : "";
    while (*p && n + 4 < sizeof out) {
      if (*p == '"') {
        for (p++; *p && n + 4 < sizeof out; p++) {
          if (*p == '"' && p[1] == '"') out[n++] = '"', p++;
          else if (*p == '"') { p++; break; }
          else out[n++] = *p;
        }
      } else if (*p == ',') {
        out[n++] = '|', p++;
      } else {
        out[n++] = *p++;
      }
    }
    while (n && out[n - 1] == '\n') n--;
    out[n] = '\0';
  }
  sl_buf_free(&b);
  return out;
}

static long long qi(sl_dest *d, const char *fmt, ...) {
  char sql[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sql, sizeof sql, fmt, ap);
  va_end(ap);
  const char *r = q(d, "%s", sql);
  if (!strncmp(r, "ERR", 3)) {
    fprintf(stderr, "  query failed: %s\n", r);
    return -999;
  }
  return atoll(r);
}

static bool file_exists(const char *path) { return access(path, F_OK) == 0; }

static int count_files(sl_package *p, const char *folder) {
  char **names;
  size_t n;
  static const char *const f[] = {"new_jobs", "started_jobs", "completed_jobs", "failed_jobs"};
  int js = 0;
  for (int i = 0; i < 4; i++)
    if (!strcmp(f[i], folder)) js = i;
  if (sl_package_list_jobs(p, (sl_job_state)js, &names, &n, NULL)) return -1;
  sl_package_list_free(names, n);
  return (int)n;
}

/* ---- the appender and transactions ---------------------------------------------------- */

/* The question the loader's design rests on: does the appender write into the
 * transaction open on its connection? It does: appended rows vanish with a
 * ROLLBACK and appear with a COMMIT, and a table created in the same
 * transaction can be appended to. So jobs are appended straight into their
 * tables inside the package's transaction; no copy through staging is needed
 * for atomicity (staging is used only where merge needs it). */
TEST(appender_joins_the_open_transaction) {
  env e;
  env_init(&e, "appender_tx");
  duckdb_database db;
  duckdb_connection con;
  CHECK(duckdb_open(e.db, &db) == DuckDBSuccess);
  CHECK(duckdb_connect(db, &con) == DuckDBSuccess);
  duckdb_result r;
  CHECK(duckdb_query(con, "CREATE TABLE t (a BIGINT, b VARCHAR)", NULL) == DuckDBSuccess);
  for (int commit = 0; commit < 2; commit++) {
    CHECK(duckdb_query(con, "BEGIN TRANSACTION", NULL) == DuckDBSuccess);
    CHECK(duckdb_query(con, "CREATE TABLE u (a BIGINT)", NULL) == DuckDBSuccess);
    duckdb_appender app, app2;
    CHECK(duckdb_appender_create(con, NULL, "t", &app) == DuckDBSuccess);
    CHECK(duckdb_appender_create(con, NULL, "u", &app2) == DuckDBSuccess);
    for (int i = 0; i < 5000; i++) {
      duckdb_append_int64(app, i);
      duckdb_append_varchar(app, "x");
      duckdb_appender_end_row(app);
      duckdb_append_int64(app2, i);
      duckdb_appender_end_row(app2);
    }
    CHECK(duckdb_appender_destroy(&app) == DuckDBSuccess);
    CHECK(duckdb_appender_destroy(&app2) == DuckDBSuccess);
    /* Visible inside the transaction... */
    CHECK(duckdb_query(con, "SELECT count(*) FROM t", &r) == DuckDBSuccess);
    CHECK_INT(duckdb_value_int64(&r, 0, 0), 5000);
    duckdb_destroy_result(&r);
    CHECK(duckdb_query(con, commit ? "COMMIT" : "ROLLBACK", NULL) == DuckDBSuccess);
    /* ...and after it, only if committed. */
    CHECK(duckdb_query(con, "SELECT count(*) FROM t", &r) == DuckDBSuccess);
    CHECK_INT(duckdb_value_int64(&r, 0, 0), commit ? 5000 : 0);
    duckdb_destroy_result(&r);
    CHECK(duckdb_query(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'u'",
                       &r) == DuckDBSuccess);
    CHECK_INT(duckdb_value_int64(&r, 0, 0), commit ? 1 : 0);
    duckdb_destroy_result(&r);
  }
  duckdb_disconnect(&con);
  duckdb_close(&db);
}

/* ---- types, values, system tables ------------------------------------------------------ */

TEST(append_types_values_nulls_and_system_rows) {
  env e;
  env_init(&e, "types");
  e.s = sl_schema_new("shop");
  sl_table *t = tab(e.s, "items", NULL, SL_WD_APPEND);
  col(e.s, t, "id", SL_T_BIGINT);
  col(e.s, t, "title", SL_T_TEXT);
  col(e.s, t, "score", SL_T_DOUBLE);
  col(e.s, t, "ok", SL_T_BOOL);
  col(e.s, t, "created_at", SL_T_TIMESTAMP);
  col(e.s, t, "day", SL_T_DATE);
  col(e.s, t, "at", SL_T_TIME);
  col(e.s, t, "raw", SL_T_BINARY);
  col(e.s, t, "meta", SL_T_JSON);
  col(e.s, t, "price", SL_T_DECIMAL);
  sl_column *p2 = col(e.s, t, "price2", SL_T_DECIMAL);
  p2->precision = 10, p2->scale = 2;
  col(e.s, t, "big", SL_T_WEI);
  col(e.s, t, "_dlt_load_id", SL_T_TEXT)->nullable = false;
  col(e.s, t, "_dlt_id", SL_T_TEXT)->nullable = false;
  col(e.s, t, "never", SL_T_TEXT); /* in the schema, never in a row: created, all NULL */
  sl_table_add_incomplete_column(e.s, t, "hinted", NULL); /* no type yet: not created */
  env_open(&e);
  CHECK(e.d);
  sl_package *p = new_pkg(&e);
  const char *lid = sl_package_load_id(p);
  sl_job_writer *w = job(p, "items", 0);
  CHECK_OK(put(w, t, "id", VI(1), "title", VS("héllo, \"world\"\n"), "score", VD(2.5), "ok", VB(1),
               "created_at", VI(1700000000123456LL), "day", VI(19000), "at", VI(3723000001LL), "raw",
               VN("\0\1\xff", 3), "meta", VS("{\"a\":[1,2],\"b\":null}"), "price", VS("12.3456789015"),
               "price2", VS("-7.005"), "big", VS("123456789012345678901234567890"), "_dlt_load_id",
               VS(lid), "_dlt_id", VS("aaaaaaaaaaaaaa"), NULL));
  CHECK_OK(put(w, t, "_dlt_id", VS("bbbbbbbbbbbbbb"), "id", VI(2), "_dlt_load_id", VS(lid), NULL));
  CHECK_OK(sl_job_writer_close(w, NULL));
  sl_error err;
  const char *state = "{\"_state_version\":3,\"_state_engine_version\":4,\"_version_hash\":\"abc=\","
                      "\"sources\":{\"shop\":{\"cursor\":\"2024-01-01\"}}}";
  CHECK_MSG(load_pkg(e.d, p, e.s, state, true, &err) == SL_OK, "%s", err.msg);
  /* types as dlt makes them */
  CHECK_STR(q(e.d, "SELECT column_name || ':' || data_type || ':' || is_nullable FROM "
                   "information_schema.columns WHERE table_schema = 'ds' AND table_name = 'items' "
                   "ORDER BY ordinal_position"),
            "id:BIGINT:YES\ntitle:VARCHAR:YES\nscore:DOUBLE:YES\nok:BOOLEAN:YES\n"
            "created_at:TIMESTAMP WITH TIME ZONE:YES\nday:DATE:YES\nat:TIME:YES\nraw:BLOB:YES\n"
            "meta:JSON:YES\nprice:DECIMAL(38,9):YES\nprice2:DECIMAL(10,2):YES\n"
            "big:DECIMAL(38,0):YES\n_dlt_load_id:VARCHAR:NO\n_dlt_id:VARCHAR:NO\nnever:VARCHAR:YES");
  /* values */
  CHECK_INT(qi(e.d, "SELECT count(*) FROM items"), 2);
  CHECK_STR(q(e.d, "SELECT title FROM items WHERE id = 1"), "héllo, \"world\"");
  CHECK_INT(qi(e.d, "SELECT length(title) FROM items WHERE id = 1"), 15);
  CHECK_STR(q(e.d, "SELECT score || ' ' || ok || ' ' || epoch_us(created_at) || ' ' || day || ' ' || "
                   "\"at\" || ' ' || hex(raw) || ' ' || (meta->>'$.a[1]') || ' ' || price || ' ' || "
                   "price2 || ' ' || big FROM items WHERE id = 1"),
            "2.5 true 1700000000123456 2022-01-08 01:02:03.000001 0001FF 2 12.345678902 -7.01 "
            "123456789012345678901234567890");
  /* missing values are NULL */
  CHECK_INT(qi(e.d, "SELECT count(*) FROM items WHERE id = 2 AND title IS NULL AND score IS NULL "
                    "AND ok IS NULL AND created_at IS NULL AND meta IS NULL AND price IS NULL"),
            1);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM items WHERE never IS NULL"), 2);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'hinted'"), 0);
  /* _dlt_loads, _dlt_version, _dlt_pipeline_state */
  char want[256];
  snprintf(want, sizeof want, "%s shop 0 %s true", lid, e.s->version_hash);
  CHECK_STR(q(e.d, "SELECT load_id || ' ' || schema_name || ' ' || status || ' ' || "
                   "schema_version_hash || ' ' || (inserted_at <= now()) FROM _dlt_loads"),
            want);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM _dlt_version WHERE schema_name = 'shop' AND version = %lld "
                    "AND engine_version > 0 AND inserted_at <= now()",
               (long long)e.s->version),
            1);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM _dlt_version WHERE version_hash = '%s' AND "
                    "json_extract_string(schema, '$.name') = 'shop'", e.s->version_hash),
            1);
  snprintf(want, sizeof want, "3 4 test_pipe abc= %s 14", lid);
  CHECK_STR(q(e.d, "SELECT version || ' ' || engine_version || ' ' || pipeline_name || ' ' || "
                   "version_hash || ' ' || _dlt_load_id || ' ' || length(_dlt_id) FROM _dlt_pipeline_state"),
            want);
  char *back = NULL;
  CHECK_OK(e.d->vt->stored_state(e.d, "test_pipe", &back, &err));
  CHECK_STR(back, state);
  free(back);
  CHECK_OK(e.d->vt->stored_state(e.d, "other_pipe", &back, &err));
  CHECK(back == NULL);
  char *schema_json = NULL;
  CHECK_OK(e.d->vt->stored_schema(e.d, "shop", &schema_json, &err));
  CHECK(schema_json && strstr(schema_json, "\"items\""));
  free(schema_json);
  /* the state column holds base64(zlib(json)) as dlt writes it */
  sl_buf dec = {0};
  const char *enc = q(e.d, "SELECT state FROM _dlt_pipeline_state");
  CHECK(sl_base64_decode(enc, strlen(enc), SL_BASE64_LENIENT, &dec));
  CHECK((unsigned char)dec.data[0] == 0x78); /* zlib header */
  sl_buf_free(&dec);
  /* jobs completed */
  CHECK_INT(count_files(p, "completed_jobs"), 1);
  CHECK_INT(count_files(p, "new_jobs") + count_files(p, "started_jobs"), 0);
  bool loaded = false;
  CHECK_OK(e.d->vt->is_loaded(e.d, lid, &loaded, &err));
  CHECK(loaded);
  CHECK_OK(e.d->vt->is_loaded(e.d, "1.0", &loaded, &err));
  CHECK(!loaded);
  sl_package_close(p);
  env_done(&e);
}

TEST(decimal_text_conversion) {
  __int128 v;
  CHECK(sl__decimal_parse("12.345", 6, 38, 9, &v) && v == (__int128)12345000000LL);
  CHECK(sl__decimal_parse("-0.0000000005", 13, 38, 9, &v) && v == -1); /* half away from zero */
  CHECK(sl__decimal_parse("0.0000000004", 12, 38, 9, &v) && v == 0);
  CHECK(sl__decimal_parse("1e3", 3, 10, 2, &v) && v == 100000);
  CHECK(sl__decimal_parse("1.5E-1", 6, 10, 2, &v) && v == 15);
  CHECK(sl__decimal_parse("+.5", 3, 4, 0, &v) && v == 1);
  CHECK(sl__decimal_parse("00012", 5, 4, 0, &v) && v == 12);
  CHECK(sl__decimal_parse("99999999999999999999999999999999999999", 38, 38, 0, &v));
  CHECK(!sl__decimal_parse("100000000000000000000000000000000000000", 39, 38, 0, &v));
  CHECK(!sl__decimal_parse("99.995", 6, 4, 2, &v)); /* rounds up to 100.00: too wide */
  CHECK(sl__decimal_parse("99.994", 6, 4, 2, &v) && v == 9999);
  CHECK(!sl__decimal_parse("", 0, 38, 9, &v));
  CHECK(!sl__decimal_parse("1.2.3", 5, 38, 9, &v));
  CHECK(!sl__decimal_parse("abc", 3, 38, 9, &v));
  CHECK(!sl__decimal_parse("1e", 2, 38, 9, &v));
  CHECK(!sl__decimal_parse("NaN", 3, 38, 9, &v));
  CHECK(sl__decimal_parse("0e99999999", 10, 38, 9, &v) && v == 0);
}

/* ---- append, exactly once, new columns -------------------------------------------------- */

static sl_table *simple_schema(env *e, sl_write_disposition wd) {
  e->s = sl_schema_new("src");
  sl_table *t = tab(e->s, "events", NULL, wd);
  col(e->s, t, "id", SL_T_BIGINT);
  col(e->s, t, "name", SL_T_TEXT);
  col(e->s, t, "_dlt_load_id", SL_T_TEXT)->nullable = false;
  col(e->s, t, "_dlt_id", SL_T_TEXT)->nullable = false;
  return t;
}

static sl_package *events_pkg(env *e, sl_table *t, int from, int count, int files) {
  sl_package *p = new_pkg(e);
  const char *lid = sl_package_load_id(p);
  int per = (count + files - 1) / files;
  for (int f = 0; f < files; f++) {
    sl_job_writer *w = job(p, t->name, f);
    for (int i = from + f * per; i < from + count && i < from + (f + 1) * per; i++) {
      char id[32], name[32];
      snprintf(id, sizeof id, "e%d_%s", i, lid);
      snprintf(name, sizeof name, "name %d", i);
      put(w, t, "id", VI(i), "name", VS(name), "_dlt_load_id", VS(lid), "_dlt_id", VS(id), NULL);
    }
    sl_job_writer_close(w, NULL);
  }
  return p;
}

/* The system tables in DuckDB have exactly the columns of the schema's system
 * tables (dlt's): same names, order, types and nullability. */
TEST(system_tables_match_the_schema) {
  env e;
  env_init(&e, "systables");
  sl_table *events = simple_schema(&e, SL_WD_APPEND);
  env_open(&e);
  CHECK(e.d != NULL);
  sl_error err;
  sl_package *p = events_pkg(&e, events, 0, 3, 1);
  CHECK_MSG(load_pkg(e.d, p, e.s, "{\"_state_version\": 1}", true, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  sl_schema *defs = sl_schema_new("x");
  const char *names[] = {"_dlt_loads", "_dlt_version", "_dlt_pipeline_state"};
  for (int i = 0; i < 3; i++) {
    const sl_table *t = sl_schema_find_table(defs, names[i]);
    CHECK(t != NULL);
    char want[1024] = "";
    for (size_t k = 0; k < t->ncolumns; k++) {
      char type[64];
      sl__ddb_type_sql(t->columns[k].type, 0, 0, type, sizeof type);
      snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s %s %s", k ? "," : "",
               t->columns[k].name, type, t->columns[k].nullable ? "YES" : "NO");
    }
    CHECK_STR(q(e.d, "SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable, ',' "
                     "ORDER BY ordinal_position) FROM information_schema.columns "
                     "WHERE table_schema = 'ds' AND table_name = '%s'", names[i]),
              want);
  }
  CHECK_STR(q(e.d, "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM "
                   "information_schema.columns WHERE table_schema = 'ds' AND table_name = '_dlt_pipeline_state'"),
            "version,engine_version,pipeline_name,state,created_at,version_hash,_dlt_load_id,_dlt_id");
  sl_schema_free(defs);
  env_done(&e);
}

TEST(append_twice_and_exactly_once) {
  env e;
  env_init(&e, "append");
  sl_table *t = simple_schema(&e, SL_WD_APPEND);
  env_open(&e);
  sl_error err;
  sl_package *p1 = events_pkg(&e, t, 0, 1000, 3);
  CHECK_MSG(load_pkg(e.d, p1, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  sl_package *p2 = events_pkg(&e, t, 1000, 500, 1);
  CHECK_MSG(load_pkg(e.d, p2, e.s, NULL, false, &err) == SL_OK, "%s", err.msg);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM events"), 1500);
  CHECK_INT(qi(e.d, "SELECT count(DISTINCT id) FROM events"), 1500);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM _dlt_loads"), 2);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM _dlt_version"), 1);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM _dlt_pipeline_state"), 0);
  /* The same package again (a run that died after the commit): nothing changes. */
  CHECK_OK(load_pkg(e.d, p1, e.s, NULL, true, &err));
  CHECK_OK(load_pkg(e.d, p2, e.s, NULL, false, &err));
  CHECK_INT(qi(e.d, "SELECT count(*) FROM events"), 1500);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM _dlt_loads"), 2);
  /* Even with its jobs put back into new_jobs. */
  char **names;
  size_t n;
  CHECK_OK(sl_package_list_jobs(p1, SL_JOB_COMPLETED, &names, &n, &err));
  for (size_t i = 0; i < n; i++)
    CHECK_OK(sl_package_move_job(p1, names[i], SL_JOB_COMPLETED, SL_JOB_NEW, NULL, &err));
  sl_package_list_free(names, n);
  CHECK_OK(load_pkg(e.d, p1, e.s, NULL, false, &err));
  CHECK_INT(qi(e.d, "SELECT count(*) FROM events"), 1500);
  CHECK_INT(count_files(p1, "completed_jobs"), 3);
  sl_package_close(p1);
  sl_package_close(p2);
  env_done(&e);
}

TEST(new_column_in_second_load_is_added) {
  env e;
  env_init(&e, "alter");
  sl_table *t = simple_schema(&e, SL_WD_APPEND);
  env_open(&e);
  sl_error err;
  sl_package *p1 = events_pkg(&e, t, 0, 10, 1);
  CHECK_OK(load_pkg(e.d, p1, e.s, NULL, true, &err));
  /* The schema grows: a new column, and a new column only a job knows about. */
  col(e.s, t, "score", SL_T_DOUBLE);
  col(e.s, t, "price", SL_T_DECIMAL);
  sl_package *p2 = new_pkg(&e);
  sl_job_writer *w = job(p2, "events", 0);
  CHECK_OK(put(w, t, "id", VI(100), "score", VD(0.5), "price", VS("1.25"), "_dlt_load_id",
               VS(sl_package_load_id(p2)), "_dlt_id", VS("x1"), NULL));
  CHECK_OK(sl_job_writer_close(w, NULL));
  CHECK_MSG(load_pkg(e.d, p2, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  CHECK_STR(q(e.d, "SELECT data_type FROM information_schema.columns WHERE table_name = 'events' "
                   "AND column_name IN ('score', 'price') ORDER BY ordinal_position"),
            "DOUBLE\nDECIMAL(38,9)");
  CHECK_INT(qi(e.d, "SELECT count(*) FROM events WHERE score IS NULL"), 10);
  CHECK_STR(q(e.d, "SELECT score || ' ' || price FROM events WHERE id = 100"), "0.5 1.250000000");
  CHECK_INT(qi(e.d, "SELECT count(*) FROM _dlt_version"), 2);
  sl_package_close(p1);
  sl_package_close(p2);
  env_done(&e);
}

/* A replace whose second load brings a new column: the ALTER must come before
 * the chain is emptied (DuckDB fails the COMMIT of an ALTER after a DELETE
 * of the same table in one transaction). */
TEST(replace_with_a_new_column) {
  env e;
  env_init(&e, "replace_alter");
  sl_table *t = simple_schema(&e, SL_WD_REPLACE);
  env_open(&e);
  sl_error err;
  sl_package *p1 = events_pkg(&e, t, 0, 10, 1);
  CHECK_OK(load_pkg(e.d, p1, e.s, NULL, true, &err));
  col(e.s, t, "score", SL_T_DOUBLE);
  sl_package *p2 = new_pkg(&e);
  sl_job_writer *w = job(p2, "events", 0);
  CHECK_OK(put(w, t, "id", VI(100), "score", VD(0.5), "_dlt_load_id", VS(sl_package_load_id(p2)), "_dlt_id",
               VS("x1"), NULL));
  CHECK_OK(sl_job_writer_close(w, NULL));
  CHECK_MSG(load_pkg(e.d, p2, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  CHECK_STR(q(e.d, "SELECT count(*) || ' ' || score FROM events GROUP BY score"), "1 0.5");
  sl_package_close(p1);
  sl_package_close(p2);
  env_done(&e);
}

/* ---- replace ------------------------------------------------------------------------------ */

typedef struct users {
  sl_table *u, *tags, *tag_notes;
} users;

static users users_schema(env *e, sl_write_disposition wd, sl_merge_strategy ms) {
  users x;
  e->s = sl_schema_new("crm");
  x.u = tab(e->s, "users", NULL, wd);
  x.u->merge_strategy = ms;
  col(e->s, x.u, "id", SL_T_BIGINT)->primary_key = wd == SL_WD_MERGE;
  col(e->s, x.u, "name", SL_T_TEXT);
  col(e->s, x.u, "updated", SL_T_BIGINT);
  col(e->s, x.u, "deleted", SL_T_BOOL);
  col(e->s, x.u, "_dlt_load_id", SL_T_TEXT)->nullable = false;
  col(e->s, x.u, "_dlt_id", SL_T_TEXT)->nullable = false;
  x.tags = tab(e->s, "users__tags", "users", wd);
  col(e->s, x.tags, "value", SL_T_TEXT);
  col(e->s, x.tags, "_dlt_root_id", SL_T_TEXT)->nullable = false;
  col(e->s, x.tags, "_dlt_parent_id", SL_T_TEXT)->nullable = false;
  col(e->s, x.tags, "_dlt_list_idx", SL_T_BIGINT)->nullable = false;
  col(e->s, x.tags, "_dlt_id", SL_T_TEXT)->nullable = false;
  x.tag_notes = tab(e->s, "users__tags__notes", "users__tags", wd);
  col(e->s, x.tag_notes, "value", SL_T_TEXT);
  col(e->s, x.tag_notes, "_dlt_root_id", SL_T_TEXT)->nullable = false;
  col(e->s, x.tag_notes, "_dlt_parent_id", SL_T_TEXT)->nullable = false;
  col(e->s, x.tag_notes, "_dlt_list_idx", SL_T_BIGINT)->nullable = false;
  col(e->s, x.tag_notes, "_dlt_id", SL_T_TEXT)->nullable = false;
  return x;
}

typedef struct users_w {
  users *x;
  sl_package *p;
  sl_job_writer *u, *t, *n;
  int seq;
  bool key_ids; /* ids as upsert makes them: the root's from its key, so a repeated key repeats them */
} users_w;

static users_w users_begin(users *x, sl_package *p) {
  users_w w = {x, p, job(p, "users", 0), job(p, "users__tags", 0), job(p, "users__tags__notes", 0), 0, false};
  return w;
}

/* One user row with its tags (each tag gets one note); deleted < 0 leaves it out. */
static void user(users_w *w, int id, const char *name, int updated, int deleted, const char *tags) {
  static int uniq;
  char did[64], lid[32];
  snprintf(lid, sizeof lid, "%s", sl_package_load_id(w->p));
  if (w->key_ids)
    snprintf(did, sizeof did, "k%d", id);
  else
    snprintf(did, sizeof did, "u%d_%d", id, ++uniq);
  if (deleted >= 0)
    put(w->u, w->x->u, "id", VI(id), "name", VS(name), "updated", VI(updated), "deleted", VB(deleted),
        "_dlt_load_id", VS(lid), "_dlt_id", VS(did), NULL);
  else
    put(w->u, w->x->u, "id", VI(id), "name", VS(name), "updated", VI(updated), "_dlt_load_id",
        VS(lid), "_dlt_id", VS(did), NULL);
  int idx = 0;
  for (const char *s = tags; s && *s;) {
    size_t len = strcspn(s, ",");
    char tag[64], tid[96], nid[128], note[96];
    snprintf(tag, sizeof tag, "%.*s", (int)len, s);
    snprintf(tid, sizeof tid, "%s_t%d", did, idx);
    snprintf(nid, sizeof nid, "%s_n", tid);
    snprintf(note, sizeof note, "note of %s", tag);
    put(w->t, w->x->tags, "value", VS(tag), "_dlt_root_id", VS(did), "_dlt_parent_id", VS(did),
        "_dlt_list_idx", VI(idx), "_dlt_id", VS(tid), NULL);
    put(w->n, w->x->tag_notes, "value", VS(note), "_dlt_root_id", VS(did), "_dlt_parent_id", VS(tid),
        "_dlt_list_idx", VI(0), "_dlt_id", VS(nid), NULL);
    idx++;
    s += len;
    if (*s == ',') s++;
  }
}

static void users_end(users_w *w) {
  sl_job_writer_close(w->u, NULL);
  sl_job_writer_close(w->t, NULL);
  sl_job_writer_close(w->n, NULL);
}

/* "id:name:tag|tag,…" of users, and their tags through _dlt_root_id, sorted. */
static const char *users_view(sl_dest *d) {
  return q(d, "SELECT string_agg(x, ';' ORDER BY x) FROM (SELECT u.id || ':' || u.name || ':' || "
              "coalesce((SELECT string_agg(t.value || '/' || (SELECT count(*) FROM users__tags__notes n "
              "WHERE n._dlt_parent_id = t._dlt_id), '|' ORDER BY t._dlt_list_idx) FROM users__tags t "
              "WHERE t._dlt_root_id = u._dlt_id), '') AS x FROM users u)");
}

TEST(replace_replaces_root_and_children_atomically) {
  env e;
  env_init(&e, "replace");
  users x = users_schema(&e, SL_WD_REPLACE, SL_MERGE_DELETE_INSERT);
  env_open(&e);
  sl_error err;
  sl_package *p = new_pkg(&e);
  users_w w = users_begin(&x, p);
  user(&w, 1, "ann", 1, 0, "a,b");
  user(&w, 2, "bob", 1, 0, "c");
  user(&w, 3, "cy", 1, 0, "");
  users_end(&w);
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(users_view(e.d), "1:ann:a/1|b/1;2:bob:c/1;3:cy:");
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags__notes"), 3);
  /* A replace with one user and one tag: everything else is gone, grandchildren too. */
  p = new_pkg(&e);
  w = users_begin(&x, p);
  user(&w, 9, "zed", 1, 0, "z");
  users_end(&w);
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, false, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(users_view(e.d), "9:zed:z/1");
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags__notes"), 1);
  /* Rows without tags: the child tables are emptied even though they got no rows. */
  p = new_pkg(&e);
  w = users_begin(&x, p);
  user(&w, 10, "ida", 1, 0, "");
  users_end(&w);
  CHECK_OK(load_pkg(e.d, p, e.s, NULL, false, &err));
  sl_package_close(p);
  CHECK_STR(users_view(e.d), "10:ida:");
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags"), 0);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags__notes"), 0);
  /* An empty job (what a replace resource that yielded nothing leaves) empties
   * the chain; an empty job for a table with no typed column yet creates nothing. */
  p = new_pkg(&e);
  sl_job_writer_close(job(p, "users", 0), NULL);
  sl_table *hinted = tab(e.s, "hinted_only", NULL, SL_WD_REPLACE);
  sl_table_add_incomplete_column(e.s, hinted, "id", NULL);
  sl_job_writer_close(job(p, "hinted_only", 0), NULL);
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users"), 0);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'hinted_only'"), 0);
  p = new_pkg(&e);
  w = users_begin(&x, p);
  user(&w, 10, "ida", 1, 0, "");
  users_end(&w);
  CHECK_OK(load_pkg(e.d, p, e.s, NULL, false, &err));
  sl_package_close(p);
  /* A replace that fails midway (corrupt child job) leaves the old data whole. */
  p = new_pkg(&e);
  w = users_begin(&x, p);
  user(&w, 11, "joe", 1, 0, "q,r");
  users_end(&w);
  char path[1024];
  sl_package_file_path(p, "new_jobs", "users__tags__notes.0.0.sjob", path, sizeof path);
  FILE *f = fopen(path, "r+b");
  CHECK(f);
  fseek(f, 12, SEEK_SET);
  fputc('#', f);
  fclose(f);
  CHECK(load_pkg(e.d, p, e.s, NULL, false, &err) != SL_OK);
  CHECK_STR(users_view(e.d), "10:ida:");
  CHECK_INT(qi(e.d, "SELECT count(*) FROM _dlt_loads"), 5);
  sl_package_close(p);
  env_done(&e);
}

/* ---- merge --------------------------------------------------------------------------------- */

TEST(merge_delete_insert_dedups_and_replaces_children) {
  env e;
  env_init(&e, "merge");
  users x = users_schema(&e, SL_WD_MERGE, SL_MERGE_DELETE_INSERT);
  env_open(&e);
  sl_error err;
  sl_package *p = new_pkg(&e);
  users_w w = users_begin(&x, p);
  user(&w, 1, "ann", 1, -1, "a,b");
  user(&w, 2, "bob", 1, -1, "c");
  user(&w, 3, "cy", 1, -1, "d");
  user(&w, 3, "cy2", 1, -1, "e,f"); /* duplicate key inside the load: the last one wins */
  users_end(&w);
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(users_view(e.d), "1:ann:a/1|b/1;2:bob:c/1;3:cy2:e/1|f/1");
  /* Second load: bob changes twice (last wins), dan is new; ann and cy untouched. */
  p = new_pkg(&e);
  w = users_begin(&x, p);
  user(&w, 2, "bob-old", 1, -1, "x");
  user(&w, 4, "dan", 1, -1, "g");
  user(&w, 2, "bob-new", 1, -1, "y,z");
  users_end(&w);
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, false, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(users_view(e.d), "1:ann:a/1|b/1;2:bob-new:y/1|z/1;3:cy2:e/1|f/1;4:dan:g/1");
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags"), 7);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags__notes"), 7);
  /* Staging tables do not outlive the load. */
  CHECK_INT(qi(e.d, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'ds_staging'"), 0);
  env_done(&e);
}

TEST(merge_last_row_wins_across_job_files) {
  env e;
  env_init(&e, "merge_files");
  users x = users_schema(&e, SL_WD_MERGE, SL_MERGE_DELETE_INSERT);
  env_open(&e);
  sl_error err;
  sl_package *p = new_pkg(&e);
  /* Rotated files 0, 1 … 10: "10" sorts before "2" as text but loads last. */
  for (int f = 0; f <= 10; f++) {
    if (f != 0 && f != 2 && f != 10) continue;
    sl_job_writer *w = job(p, "users", f);
    char name[16], did[32];
    snprintf(name, sizeof name, "v%d", f);
    snprintf(did, sizeof did, "d%d", f);
    put(w, x.u, "id", VI(1), "name", VS(name), "_dlt_load_id", VS(sl_package_load_id(p)), "_dlt_id",
        VS(did), NULL);
    sl_job_writer_close(w, NULL);
  }
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  CHECK_STR(q(e.d, "SELECT name FROM users"), "v10");
  sl_package_close(p);
  env_done(&e);
}

TEST(merge_dedup_sort) {
  for (int dir = -1; dir <= 1; dir += 2) {
    env e;
    env_init(&e, dir < 0 ? "dedup_desc" : "dedup_asc");
    users x = users_schema(&e, SL_WD_MERGE, SL_MERGE_DELETE_INSERT);
    x.u->columns[sl_table_find_column(x.u, "updated", 7)].dedup_sort = dir;
    env_open(&e);
    sl_error err;
    sl_package *p = new_pkg(&e);
    users_w w = users_begin(&x, p);
    user(&w, 1, "mid", 5, -1, "m");
    user(&w, 1, "high", 9, -1, "h");
    user(&w, 1, "low", 2, -1, "l");
    user(&w, 2, "only", 1, -1, "");
    users_end(&w);
    CHECK_MSG(load_pkg(e.d, p, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
    sl_package_close(p);
    CHECK_STR(users_view(e.d), dir < 0 ? "1:high:h/1;2:only:" : "1:low:l/1;2:only:");
    env_done(&e);
  }
}

TEST(merge_hard_delete) {
  env e;
  env_init(&e, "hard_delete");
  users x = users_schema(&e, SL_WD_MERGE, SL_MERGE_DELETE_INSERT);
  x.u->columns[sl_table_find_column(x.u, "deleted", 7)].hard_delete = true;
  env_open(&e);
  sl_error err;
  sl_package *p = new_pkg(&e);
  users_w w = users_begin(&x, p);
  user(&w, 1, "ann", 1, 0, "a");
  user(&w, 2, "bob", 1, 0, "b");
  user(&w, 3, "cy", 1, -1, "c");
  user(&w, 5, "eve", 1, 1, "e"); /* deleted on arrival: never inserted */
  users_end(&w);
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(users_view(e.d), "1:ann:a/1;2:bob:b/1;3:cy:c/1");
  p = new_pkg(&e);
  w = users_begin(&x, p);
  user(&w, 1, "ann", 1, 1, "");       /* delete ann and her tags */
  user(&w, 2, "bob2", 1, 1, "");      /* insert then … */
  user(&w, 2, "bob3", 1, 0, "b3");    /* … the last row wins: bob3 stays */
  user(&w, 3, "cy2", 1, 0, "c2");     /* update */
  user(&w, 3, "cy3", 1, 1, "");       /* then delete: gone */
  user(&w, 4, "dan", 1, 0, "d");      /* plain insert */
  users_end(&w);
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, false, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(users_view(e.d), "2:bob3:b3/1;4:dan:d/1");
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags"), 2);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags__notes"), 2);
  env_done(&e);
}

TEST(merge_by_merge_key_without_primary_key) {
  env e;
  env_init(&e, "merge_key");
  e.s = sl_schema_new("m");
  sl_table *t = tab(e.s, "daily", NULL, SL_WD_MERGE);
  col(e.s, t, "day", SL_T_TEXT)->merge_key = true;
  col(e.s, t, "v", SL_T_BIGINT);
  col(e.s, t, "_dlt_load_id", SL_T_TEXT);
  col(e.s, t, "_dlt_id", SL_T_TEXT);
  env_open(&e);
  sl_error err;
  sl_package *p = new_pkg(&e);
  sl_job_writer *w = job(p, "daily", 0);
  put(w, t, "day", VS("mon"), "v", VI(1), "_dlt_id", VS("1"), NULL);
  put(w, t, "day", VS("mon"), "v", VI(2), "_dlt_id", VS("2"), NULL);
  put(w, t, "day", VS("tue"), "v", VI(3), "_dlt_id", VS("3"), NULL);
  sl_job_writer_close(w, NULL);
  CHECK_OK(load_pkg(e.d, p, e.s, NULL, true, &err));
  sl_package_close(p);
  /* A new "mon" partition replaces all of mon's rows; no dedup without a primary key. */
  p = new_pkg(&e);
  w = job(p, "daily", 0);
  put(w, t, "day", VS("mon"), "v", VI(10), "_dlt_id", VS("4"), NULL);
  put(w, t, "day", VS("mon"), "v", VI(10), "_dlt_id", VS("5"), NULL);
  sl_job_writer_close(w, NULL);
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, false, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(q(e.d, "SELECT string_agg(day || v, ' ' ORDER BY day, v) FROM daily"), "mon10 mon10 tue3");
  env_done(&e);
}

TEST(merge_upsert) {
  env e;
  env_init(&e, "upsert");
  users x = users_schema(&e, SL_WD_MERGE, SL_MERGE_UPSERT);
  x.u->columns[sl_table_find_column(x.u, "deleted", 7)].hard_delete = true;
  env_open(&e);
  sl_error err;
  sl_package *p = new_pkg(&e);
  users_w w = users_begin(&x, p);
  user(&w, 1, "ann", 1, 0, "a,b");
  user(&w, 2, "bob", 1, 0, "c");
  user(&w, 3, "cy", 1, 0, "d");
  users_end(&w);
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(users_view(e.d), "1:ann:a/1|b/1;2:bob:c/1;3:cy:d/1");
  p = new_pkg(&e);
  w = users_begin(&x, p);
  user(&w, 2, "bob2", 2, 0, "x");   /* update: row and children replaced */
  user(&w, 2, "bob3", 3, 0, "y,z"); /* duplicate key: the last wins */
  user(&w, 3, "cy", 1, 1, "");      /* hard delete */
  user(&w, 4, "dan", 1, 0, "w");    /* insert */
  user(&w, 5, "eve", 1, 1, "v");    /* delete of a row that is not there: nothing */
  users_end(&w);
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, false, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(users_view(e.d), "1:ann:a/1|b/1;2:bob3:y/1|z/1;4:dan:w/1");
  CHECK_INT(qi(e.d, "SELECT updated FROM users WHERE id = 2"), 3);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags"), 5);
  /* upsert without a primary key is refused, clearly */
  x.u->columns[sl_table_find_column(x.u, "id", 2)].primary_key = false;
  p = new_pkg(&e);
  w = users_begin(&x, p);
  user(&w, 7, "g", 1, 0, "");
  users_end(&w);
  CHECK(load_pkg(e.d, p, e.s, NULL, true, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "no primary key");
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users WHERE id = 7"), 0);
  sl_package_close(p);
  env_done(&e);
}

/* Upsert ids come from the primary key: rows of a key that repeats within one
 * load share their _dlt_id, and so their children share parent ids and ids
 * (dlt hashes parent id, table and list index). Only the children of the row
 * that wins may land, whether it has more children than the others or fewer. */
TEST(merge_upsert_repeated_key_keeps_the_winners_children) {
  env e;
  env_init(&e, "upsert_repeat");
  users x = users_schema(&e, SL_WD_MERGE, SL_MERGE_UPSERT);
  x.u->columns[sl_table_find_column(x.u, "deleted", 7)].hard_delete = true;
  env_open(&e);
  sl_error err;
  sl_package *p = new_pkg(&e);
  users_w w = users_begin(&x, p);
  w.key_ids = true;
  user(&w, 1, "ann", 1, 0, "a,b");
  user(&w, 1, "ann2", 2, 0, "c"); /* fewer children than the row it replaces */
  user(&w, 2, "bob", 1, 0, "d");
  user(&w, 3, "cy", 1, 0, "e");
  user(&w, 3, "cy2", 2, 0, "f,g,h");
  user(&w, 3, "cy3", 3, 0, "i,j"); /* three rows of one key */
  user(&w, 4, "dan", 1, 0, "");
  user(&w, 4, "dan2", 2, 0, "k"); /* the earlier row had none */
  users_end(&w);
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(users_view(e.d), "1:ann2:c/1;2:bob:d/1;3:cy3:i/1|j/1;4:dan2:k/1");
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags"), 5);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags__notes"), 5);
  CHECK_STR(q(e.d, "SELECT string_agg(value, ',' ORDER BY value) FROM users__tags__notes"),
            "note of c,note of d,note of i,note of j,note of k");
  /* Second load: the stored children of updated rows are replaced, repeats again keep the last. */
  p = new_pkg(&e);
  w = users_begin(&x, p);
  w.key_ids = true;
  user(&w, 1, "ann3", 3, 0, "x,y,z");
  user(&w, 1, "ann4", 4, 0, "q");
  user(&w, 2, "bob2", 2, 0, "r,s");
  user(&w, 2, "bob3", 3, 1, "t"); /* the last row of bob is a hard delete: bob and all his rows go */
  user(&w, 3, "cy4", 4, 0, "u");
  user(&w, 5, "eve", 1, 0, "v,w");
  user(&w, 5, "eve2", 2, 0, "v,w"); /* the same row twice */
  users_end(&w);
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, false, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(users_view(e.d), "1:ann4:q/1;3:cy4:u/1;4:dan2:k/1;5:eve2:v/1|w/1");
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags"), 5);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags__notes"), 5);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags t WHERE NOT EXISTS (SELECT 1 FROM users u "
                    "WHERE u._dlt_id = t._dlt_root_id)"),
            0);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'ds_staging'"), 0);
  env_done(&e);
}

/* ---- through the normalizer, as a pipeline loads ------------------------------------------------ */

typedef struct nz_jobs {
  sl_package *p;
  const sl_table *t[16];
  sl_job_writer *w[16];
  size_t n;
} nz_jobs;

static sl_status nz_jobs_row(void *ud, const sl_schema *s, const sl_table *t, const sl_row_value *vals,
                             size_t n, sl_error *err) {
  (void)s;
  nz_jobs *o = ud;
  size_t i = 0;
  while (i < o->n && o->t[i] != t) i++;
  if (i == o->n) {
    if (o->n == 16) return sl_error_set(err, SL_INTERNAL, "too many tables for the test");
    if (!(o->w[i] = job(o->p, t->name, 0))) return sl_error_set(err, SL_IO, "cannot open a job");
    o->t[o->n++] = t;
  }
  return sl_job_write_row(o->w[i], t, vals, n, err);
}

/* A new package holding the job files the normalizer makes of JSON lines for
 * one resource, into e->s (as the pipeline's normalize stage does). */
static sl_package *normalized_pkg(env *e, const sl_resource_hints *h, const char *jsonl) {
  sl_package *p = new_pkg(e);
  nz_jobs o = {.p = p};
  sl_error err;
  sl_error_clear(&err);
  sl_normalizer *n = sl_normalizer_new(e->s, sl_package_load_id(p), (sl_row_sink){&o, nz_jobs_row}, &err);
  sl_status st = n ? SL_OK : SL_NOMEM;
  if (!st) st = sl_normalizer_begin(n, h, &err);
  if (!st) st = sl_normalizer_feed(n, jsonl, strlen(jsonl), &err);
  if (!st) st = sl_normalizer_end(n, &err);
  if (st) fprintf(stderr, "normalize: %s\n", err.msg);
  sl_normalizer_free(n);
  for (size_t i = 0; i < o.n; i++) sl_job_writer_close(o.w[i], NULL);
  return p;
}

TEST(upsert_repeated_key_through_the_normalizer) {
  env e;
  env_init(&e, "upsert_nz");
  e.s = sl_schema_new("nz");
  env_open(&e);
  const char *pk[] = {"id", NULL};
  sl_resource_hints h = {.resource = "t", .primary_key = pk, .write_disposition = SL_WD_MERGE,
                         .merge_strategy = SL_MERGE_UPSERT, .max_table_nesting = -1};
  sl_error err;
  sl_package *p = normalized_pkg(&e, &h,
                                 "{\"id\":1,\"k\":[{\"v\":\"a\",\"n\":[1,2]},{\"v\":\"b\",\"n\":[3]}]}\n"
                                 "{\"id\":1,\"k\":[{\"v\":\"c\",\"n\":[4]}]}\n"
                                 "{\"id\":2,\"k\":[{\"v\":\"d\"}]}\n");
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM t"), 2);
  CHECK_STR(q(e.d, "SELECT string_agg(v, ',' ORDER BY v) FROM t__k"), "c,d");
  CHECK_STR(q(e.d, "SELECT string_agg(value::VARCHAR, ',' ORDER BY value) FROM t__k__n"), "4");
  CHECK_INT(qi(e.d, "SELECT count(DISTINCT _dlt_id) FROM t__k"), 2);
  /* Second load: stored children of updated rows are replaced. */
  p = normalized_pkg(&e, &h,
                     "{\"id\":2,\"k\":[{\"v\":\"x\"},{\"v\":\"y\",\"n\":[5]}]}\n"
                     "{\"id\":2,\"k\":[{\"v\":\"z\",\"n\":[6]}]}\n"
                     "{\"id\":1,\"k\":[]}\n");
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(q(e.d, "SELECT string_agg(v, ',' ORDER BY v) FROM t__k"), "z");
  CHECK_STR(q(e.d, "SELECT string_agg(value::VARCHAR, ',' ORDER BY value) FROM t__k__n"), "6");
  CHECK_INT(qi(e.d, "SELECT count(*) FROM t__k k JOIN t ON t._dlt_id = k._dlt_parent_id WHERE t.id = 2"), 1);
  env_done(&e);
}

/* An integer too long for decimal(38,9) (more than 29 digits) or, with the
 * large_integer detection, for wei (more than 38) is text: a new column is
 * text, a decimal column sends it to <name>__v_text. Every digit arrives. */
TEST(integers_beyond_decimal_arrive_exactly) {
  env e;
  env_init(&e, "bignum");
  e.s = sl_schema_new("nums");
  env_open(&e);
  sl_resource_hints h = {.resource = "nums", .write_disposition = SL_WD_APPEND, .max_table_nesting = -1};
  sl_error err;
  sl_package *p = normalized_pkg(&e, &h,
                                 "{\"id\":1,\"big\":123456789012345678901234567890,"
                                 "\"dec\":12345678901234567890,\"neg\":-99999999999999999999999999999}\n"
                                 "{\"id\":2,\"big\":5,\"dec\":-1234567890123456789012345678901234567890}\n"
                                 "{\"id\":3,\"dec\":1e30}\n");
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(q(e.d, "SELECT column_name || ':' || data_type FROM information_schema.columns WHERE "
                   "table_schema = 'ds' AND table_name = 'nums' AND column_name NOT LIKE '\\_dlt%%' "
                   "ESCAPE '\\' ORDER BY ordinal_position"),
            "id:BIGINT\nbig:VARCHAR\ndec:DECIMAL(38,9)\nneg:DECIMAL(38,9)\ndec__v_text:VARCHAR\n"
            "dec__v_double:DOUBLE");
  CHECK_STR(q(e.d, "SELECT id || ' ' || coalesce(big, '-') || ' ' || coalesce(dec::VARCHAR, '-') || ' ' || "
                   "coalesce(neg::VARCHAR, '-') || ' ' || coalesce(dec__v_text, '-') || ' ' || "
                   "coalesce(dec__v_double::VARCHAR, '-') FROM nums ORDER BY id"),
            "1 123456789012345678901234567890 12345678901234567890.000000000 "
            "-99999999999999999999999999999.000000000 - -\n"
            "2 5 - - -1234567890123456789012345678901234567890 -\n"
            "3 - - - - 1e+30");
  /* With the detection, wei holds 38 digits; a 39-digit integer is text. */
  e.s->detect_large_integer = true;
  h.resource = "weis";
  p = normalized_pkg(&e, &h,
                     "{\"w\":99999999999999999999999999999999999999}\n"
                     "{\"w\":340282366920938463463374607431768211455,"
                     "\"huge\":-340282366920938463463374607431768211455}\n");
  CHECK_MSG(load_pkg(e.d, p, e.s, NULL, true, &err) == SL_OK, "%s", err.msg);
  sl_package_close(p);
  CHECK_STR(q(e.d, "SELECT column_name || ':' || data_type FROM information_schema.columns WHERE "
                   "table_schema = 'ds' AND table_name = 'weis' AND column_name NOT LIKE '\\_dlt%%' "
                   "ESCAPE '\\' ORDER BY ordinal_position"),
            "w:DECIMAL(38,0)\nw__v_text:VARCHAR\nhuge:VARCHAR");
  CHECK_STR(q(e.d, "SELECT coalesce(w::VARCHAR, '-') || ' ' || coalesce(w__v_text, '-') || ' ' || "
                   "coalesce(huge, '-') FROM weis ORDER BY w NULLS LAST"),
            "99999999999999999999999999999999999999 - -\n"
            "- 340282366920938463463374607431768211455 -340282366920938463463374607431768211455");
  env_done(&e);
}

/* ---- failures ---------------------------------------------------------------------------------- */

TEST(corrupt_job_fails_the_package_and_names_the_file) {
  env e;
  env_init(&e, "corrupt");
  sl_table *t = simple_schema(&e, SL_WD_APPEND);
  env_open(&e);
  sl_error err;
  sl_package *p = events_pkg(&e, t, 0, 3000, 3);
  char path[1024];
  sl_package_file_path(p, "new_jobs", "events.2.0.sjob", path, sizeof path);
  struct stat sb;
  CHECK(stat(path, &sb) == 0);
  CHECK(truncate(path, sb.st_size - 5) == 0);
  CHECK(load_pkg(e.d, p, e.s, NULL, true, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "events.2.0.sjob");
  CHECK_CONTAINS(err.file, "events.2.0.sjob");
  /* Nothing committed, the job is in failed_jobs beside its exception. */
  CHECK_INT(qi(e.d, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'events'"), 0);
  CHECK_INT(count_files(p, "failed_jobs"), 1);
  char *exc = NULL;
  CHECK_OK(sl_package_read_file(p, "failed_jobs/events.2.0.sjob.exception", &exc, NULL, &err));
  CHECK_CONTAINS(exc, "not completed");
  free(exc);
  /* A package with a failed job is never loaded partially. */
  CHECK(load_pkg(e.d, p, e.s, NULL, true, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "failed job");
  bool loaded = true;
  CHECK_OK(e.d->vt->is_loaded(e.d, sl_package_load_id(p), &loaded, &err));
  CHECK(!loaded);

  /* Corruption deep inside the rows (valid footer): the load has begun, and is rolled back. */
  sl_package *p2 = events_pkg(&e, t, 0, 3000, 1);
  sl_package_file_path(p2, "new_jobs", "events.0.0.sjob", path, sizeof path);
  FILE *f = fopen(path, "r+b");
  fseek(f, 30000, SEEK_SET);
  int ch = fgetc(f);
  fseek(f, 30000, SEEK_SET);
  fputc(ch ^ 0x20, f);
  fclose(f);
  CHECK(load_pkg(e.d, p2, e.s, NULL, true, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "corrupt job file");
  CHECK(err.offset >= 0);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'events'"), 0);
  CHECK_INT(count_files(p2, "failed_jobs"), 1);
  sl_package_close(p);
  sl_package_close(p2);
  env_done(&e);
}

TEST(value_that_does_not_fit_fails_the_job) {
  env e;
  env_init(&e, "bad_value");
  e.s = sl_schema_new("v");
  sl_table *t = tab(e.s, "money", NULL, SL_WD_APPEND);
  sl_column *c = col(e.s, t, "amount", SL_T_DECIMAL);
  c->precision = 5, c->scale = 2;
  env_open(&e);
  sl_error err;
  sl_package *p = new_pkg(&e);
  sl_job_writer *w = job(p, "money", 0);
  put(w, t, "amount", VS("123.45"), NULL);
  put(w, t, "amount", VS("1234.5"), NULL);
  sl_job_writer_close(w, NULL);
  CHECK(load_pkg(e.d, p, e.s, NULL, true, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "'1234.5'");
  CHECK_CONTAINS(err.msg, "DECIMAL(5,2)");
  CHECK_STR(err.column, "amount");
  CHECK_INT(count_files(p, "failed_jobs"), 1);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'money'"), 0);
  sl_package_close(p);
  env_done(&e);
}

static void wait_for_file(const char *path) {
  for (int i = 0; i < 2000 && !file_exists(path); i++) usleep(5000);
}

/* Run one test of this binary in a child process (fork + exec: DuckDB's
 * threads never cross a fork). */
static pid_t spawn_self(const char *test, const char *const *envs) {
  pid_t pid = fork();
  if (pid == 0) {
    for (const char *const *e = envs; e && *e; e += 2) setenv(e[0], e[1], 1);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 1);
    execl("/proc/self/exe", "test_dest_duckdb", test, (char *)NULL);
    _exit(127);
  }
  return pid;
}

TEST(lock_child) {
  const char *db = getenv("SL_LOCK_DB"), *ready = getenv("SL_LOCK_READY");
  if (!db || !ready) return;
  sl_dest *d = open_db(db, "ds", NULL);
  if (!d) _exit(3);
  FILE *f = fopen(ready, "w");
  if (f) fclose(f);
  sleep(60);
  _exit(0);
}

TEST(database_locked_by_another_process) {
  env e;
  env_init(&e, "locked");
  char ready[700];
  snprintf(ready, sizeof ready, "%s/ready", e.dir);
  const char *envs[] = {"SL_LOCK_DB", e.db, "SL_LOCK_READY", ready, NULL};
  pid_t pid = spawn_self("lock_child", envs);
  CHECK(pid > 0);
  wait_for_file(ready);
  CHECK(file_exists(ready));
  sl_error err;
  sl_dest *d = open_db(e.db, "ds", &err);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  CHECK(d == NULL);
  CHECK_INT(err.code, SL_LOCKED);
  CHECK_CONTAINS(err.msg, e.db);
  CHECK_CONTAINS(err.msg, "another process");
  CHECK_INT(sl_status_exit_code(err.code), 5);
  /* Once the other process is gone, it opens. */
  d = open_db(e.db, "ds", &err);
  CHECK_MSG(d, "%s", err.msg);
  sl_dest_close(d);
}

/* ---- hostile names ------------------------------------------------------------------------------- */

TEST(hostile_identifiers_round_trip) {
  env e;
  env_init(&e, "hostile");
  const char *ds = "data\"set; DROP SCHEMA main;--";
  const char *tname = "we\"ird;DROP TABLE x;-- 'tbl' ünïcødé 表";
  const char *cname = "c\"o;l 'one' ✓";
  e.s = sl_schema_new("h");
  sl_table *t = tab(e.s, tname, NULL, SL_WD_MERGE);
  col(e.s, t, cname, SL_T_TEXT);
  col(e.s, t, "k\"ey", SL_T_BIGINT)->primary_key = true;
  col(e.s, t, "_dlt_id", SL_T_TEXT);
  char child[512];
  snprintf(child, sizeof child, "%s__x\"y", tname);
  sl_table *c = tab(e.s, child, tname, SL_WD_MERGE);
  col(e.s, c, "v'al\"ue", SL_T_TEXT);
  col(e.s, c, "_dlt_root_id", SL_T_TEXT);
  sl_error err;
  e.d = open_db(e.db, ds, &err);
  CHECK_MSG(e.d, "%s", err.msg);
  for (int round = 0; round < 2; round++) {
    sl_package *p = new_pkg(&e);
    sl_job_writer *w = job(p, "hostile_root", 0);
    /* the file name need not be the table's: the footer names the table */
    sl_job_writer_close(w, NULL);
    char jp[1024];
    sl_package_file_path(p, "new_jobs", "hostile_root.0.0.sjob", jp, sizeof jp);
    unlink(jp);
    w = sl_job_writer_open(jp, tname, &err);
    CHECK(w);
    put(w, t, cname, VS(round ? "it's \"new\"" : "it's \"old\""), "k\"ey", VI(1), "_dlt_id", VS(round ? "r1" : "r0"), NULL);
    sl_job_writer_close(w, NULL);
    sl_package_file_path(p, "new_jobs", "hostile_child.0.0.sjob", jp, sizeof jp);
    w = sl_job_writer_open(jp, child, &err);
    put(w, c, "v'al\"ue", VS("ch;ild"), "_dlt_root_id", VS(round ? "r1" : "r0"), NULL);
    sl_job_writer_close(w, NULL);
    CHECK_MSG(load_pkg(e.d, p, e.s, "{\"x\":\"'\\\"\"}", true, &err) == SL_OK, "%s", err.msg);
    sl_package_close(p);
  }
  CHECK_INT(qi(e.d, "SELECT count(*) FROM information_schema.tables WHERE table_schema = '%s'",
               "data\"set; DROP SCHEMA main;--"),
            5); /* root, child, and the three _dlt tables */
  sl_buf sql = {0};
  sl_buf_puts(&sql, "SELECT ");
  sl__sql_ident(&sql, cname);
  sl_buf_puts(&sql, " FROM ");
  sl__sql_ident(&sql, tname);
  CHECK_STR(q(e.d, "%s", sql.data), "it's \"new\"");
  sl_buf_reset(&sql);
  sl_buf_puts(&sql, "SELECT count(*) FROM ");
  sl__sql_ident(&sql, child);
  CHECK_INT(qi(e.d, "%s", sql.data), 1);
  sl_buf_free(&sql);
  CHECK_INT(qi(e.d, "SELECT count(*) FROM information_schema.columns WHERE column_name = '%s'",
               "c\"o;l ''one'' ✓"),
            1);
  /* row counts and drop with the same names */
  sl_table_count *counts;
  size_t n;
  CHECK_OK(e.d->vt->row_counts(e.d, e.s, &counts, &n, &err));
  CHECK_INT(n, 2);
  CHECK_STR(counts[0].table, tname);
  CHECK_INT(counts[0].rows, 1);
  CHECK_INT(counts[1].rows, 1);
  sl_table_counts_free(counts, n);
  const char *drop[] = {child, tname};
  CHECK_OK(e.d->vt->drop_tables(e.d, NULL, drop, 2, &err));
  CHECK_OK(e.d->vt->row_counts(e.d, e.s, &counts, &n, &err));
  CHECK_INT(counts[0].rows, -1);
  sl_table_counts_free(counts, n);
  env_done(&e);
}

/* ---- the query tool --------------------------------------------------------------------------------- */

TEST(query_read_only_and_formats) {
  env e;
  env_init(&e, "query");
  e.s = sl_schema_new("qq");
  sl_table *t = tab(e.s, "t", NULL, SL_WD_APPEND);
  col(e.s, t, "id", SL_T_BIGINT);
  col(e.s, t, "s", SL_T_TEXT);
  col(e.s, t, "j", SL_T_JSON);
  col(e.s, t, "d", SL_T_DOUBLE);
  col(e.s, t, "b", SL_T_BOOL);
  env_open(&e);
  sl_error err;
  sl_package *p = new_pkg(&e);
  sl_job_writer *w = job(p, "t", 0);
  put(w, t, "id", VI(1), "s", VS("a,\"b\"\nc"), "j", VS("{\"k\":[1,\"x\"]}"), "d", VD(1.5), "b", VB(1), NULL);
  put(w, t, "id", VI(2), "s", VS("tab\there ünï"), NULL);
  sl_job_writer_close(w, NULL);
  CHECK_OK(load_pkg(e.d, p, e.s, NULL, true, &err));
  sl_package_close(p);
  sl_buf b = {0};
  /* JSON: numbers and booleans bare, JSON columns embedded, strings escaped, NULL null */
  CHECK_OK(sl_duckdb_query(e.d, "SELECT id, s, j, d, b FROM t ORDER BY id", true, SL_QF_JSON, &b, &err));
  CHECK_STR(b.data, "{\"id\":1,\"s\":\"a,\\\"b\\\"\\nc\",\"j\":{\"k\":[1,\"x\"]},\"d\":1.5,\"b\":true}\n"
                    "{\"id\":2,\"s\":\"tab\\there ünï\",\"j\":null,\"d\":null,\"b\":null}\n");
  sl_buf_reset(&b);
  CHECK_OK(sl_duckdb_query(e.d, "SELECT id, s FROM t ORDER BY id", true, SL_QF_CSV, &b, &err));
  CHECK_STR(b.data, "id,s\n1,\"a,\"\"b\"\"\nc\"\n2,tab\there ünï\n");
  sl_buf_reset(&b);
  CHECK_OK(sl_duckdb_query(e.d, "SELECT id, s, d FROM t ORDER BY id", true, SL_QF_TABLE, &b, &err));
  CHECK_STR(b.data, "id  s              d\n"
                    "--  -------------  ----\n"
                    " 1  a,\"b\"\\nc        1.5\n"
                    " 2  tab\\there ünï  NULL\n"
                    "(2 rows)\n");
  /* read-only: DuckDB's statement types decide, not the text */
  const char *writes[] = {"INSERT INTO t (id) VALUES (9)", "DELETE FROM t", "DROP TABLE t",
                          "CREATE TABLE x (a INT)", "COPY t TO '/tmp/sl_x.csv'",
                          "SELECT 1; UPDATE t SET id = 5", "ATTACH ':memory:' AS m",
                          "SET threads = 1", "  /* select */ insert into t (id) values (10)"};
  for (size_t i = 0; i < sizeof writes / sizeof *writes; i++) {
    sl_buf_reset(&b);
    CHECK_MSG(sl_duckdb_query(e.d, writes[i], true, SL_QF_CSV, &b, &err) != SL_OK, "%s accepted",
              writes[i]);
    /* COPY fails already when it is prepared, since no file is reachable */
    CHECK_MSG(strstr(err.msg, "read-only") || strstr(err.msg, "file system operations are disabled"),
              "%s: %s", writes[i], err.msg);
  }
  /* EXPLAIN ANALYZE runs its statement: inside the read-only transaction it is rolled back. */
  sl_buf_reset(&b);
  CHECK_OK(sl_duckdb_query(e.d, "EXPLAIN ANALYZE DELETE FROM t", true, SL_QF_CSV, &b, &err));
  CHECK_INT(qi(e.d, "SELECT count(*) FROM t"), 2);
  /* ... but it reaches no file: no write through EXPLAIN ANALYZE COPY, no read_text */
  char leak[700];
  snprintf(leak, sizeof leak, "%s/explained.csv", e.dir);
  char sql[800];
  snprintf(sql, sizeof sql, "EXPLAIN ANALYZE COPY (SELECT 42) TO '%s'", leak);
  sl_buf_reset(&b);
  CHECK(sl_duckdb_query(e.d, sql, true, SL_QF_CSV, &b, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "file system operations are disabled");
  CHECK(access(leak, F_OK) != 0);
  sl_buf_reset(&b);
  CHECK(sl_duckdb_query(e.d, "SELECT * FROM read_text('/etc/hostname')", true, SL_QF_CSV, &b,
                        &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "file system operations are disabled");
  /* with read_only off, writes go through */
  sl_buf_reset(&b);
  CHECK_OK(sl_duckdb_query(e.d, "INSERT INTO t (id) VALUES (3)", false, SL_QF_CSV, &b, &err));
  CHECK_INT(qi(e.d, "SELECT count(*) FROM t"), 3);
  /* several statements, and SQL errors */
  sl_buf_reset(&b);
  CHECK_OK(sl_duckdb_query(e.d, "SELECT 1 AS a; SELECT 2 AS b", true, SL_QF_CSV, &b, &err));
  CHECK_STR(b.data, "a\n1\n\nb\n2\n");
  CHECK(sl_duckdb_query(e.d, "SELEC 1", true, SL_QF_CSV, &b, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "SQL error");
  CHECK(sl_duckdb_query(e.d, "SELECT * FROM nope", true, SL_QF_CSV, &b, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "nope");
  sl_buf_free(&b);
  env_done(&e);
}

/* ---- crash safety ------------------------------------------------------------------------------------- */

#define CRASH_USERS 2000
#ifdef __SANITIZE_ADDRESS__
#define CRASH_EVENTS 60000 /* everything runs ~10x slower under ASan */
#else
#define CRASH_EVENTS 160000
#endif

static void crash_schema(env *e, users *x, sl_table **events) {
  *x = users_schema(e, SL_WD_MERGE, SL_MERGE_DELETE_INSERT);
  *events = tab(e->s, "events", NULL, SL_WD_APPEND);
  col(e->s, *events, "id", SL_T_BIGINT);
  col(e->s, *events, "name", SL_T_TEXT);
  col(e->s, *events, "score", SL_T_DOUBLE);
  col(e->s, *events, "at", SL_T_TIMESTAMP);
  col(e->s, *events, "_dlt_load_id", SL_T_TEXT);
  col(e->s, *events, "_dlt_id", SL_T_TEXT);
}

/* The child: load the package named in the environment, then exit. */
TEST(crash_child) {
  const char *db = getenv("SL_CRASH_DB"), *pk = getenv("SL_CRASH_PK"), *id = getenv("SL_CRASH_ID");
  if (!db || !pk || !id) return;
  env e;
  memset(&e, 0, sizeof e);
  users x;
  sl_table *events;
  crash_schema(&e, &x, &events);
  sl_error err;
  sl_dest *d = open_db(db, "ds", &err);
  if (!d) _exit(3);
  sl_package *p = sl_package_open(pk, id, &err);
  if (!p) _exit(4);
  sl_status st = load_pkg(d, p, e.s, "{\"n\":2}", true, &err);
  _exit(st == SL_OK ? 0 : 5);
}

TEST(killed_mid_load_all_or_nothing_then_exactly_once) {
  env e;
  env_init(&e, "crash");
  users x;
  sl_table *events;
  crash_schema(&e, &x, &events);
  /* The base package: users 0..1999 with a tag each. */
  sl_package *base = new_pkg(&e);
  users_w w = users_begin(&x, base);
  for (int i = 0; i < CRASH_USERS; i++) user(&w, i, "v1", 1, -1, "t");
  users_end(&w);
  /* The package to kill: 300k events in 4 files, and an update of every
   * other user (merge through staging) with two tags each. */
  sl_package *big = new_pkg(&e);
  const char *lid = sl_package_load_id(big);
  for (int f = 0; f < 4; f++) {
    sl_job_writer *jw = job(big, "events", f);
    for (int i = f * CRASH_EVENTS / 4; i < (f + 1) * CRASH_EVENTS / 4; i++) {
      char did[32], name[48];
      snprintf(did, sizeof did, "ev%d", i);
      snprintf(name, sizeof name, "event number %d with some text", i);
      put(jw, events, "id", VI(i), "name", VS(name), "score", VD(i * 0.5), "at",
          VI(1700000000000000LL + i), "_dlt_load_id", VS(lid), "_dlt_id", VS(did), NULL);
    }
    sl_job_writer_close(jw, NULL);
  }
  w = users_begin(&x, big);
  for (int i = 0; i < CRASH_USERS; i += 2) user(&w, i, "v2", 2, -1, "a,b");
  users_end(&w);
  char big_id[32];
  snprintf(big_id, sizeof big_id, "%s", lid);
  /* Delays as fractions of an uninterrupted load (k = 0 measures it), so that
   * kills land early, midway, during the commit, and after it; whatever the
   * machine's speed, the test hook kills one load after its third job (-2)
   * and one right after its COMMIT, before the package is marked loaded (-3);
   * -4 loads it in a transaction per job and is killed after the second. */
#ifdef __SANITIZE_ADDRESS__
  static const int permille[] = {-1, -2, -3, -4, 0, 300, 700, 950, 2000};
#else
  static const int permille[] = {-1, -2, -3, -4, 0, 30, 200, 450, 700, 900, 1000, 2000};
#endif
  long long full_ms = 0;
  int none = 0, all = 0;
  for (size_t k = 0; k < sizeof permille / sizeof *permille; k++) {
    /* a fresh database with the base package in it */
    char wal[700];
    snprintf(wal, sizeof wal, "%s.wal", e.db);
    unlink(e.db);
    unlink(wal);
    sl_error err;
    env_open(&e);
    CHECK(e.d);
    CHECK_MSG(load_pkg(e.d, base, e.s, "{\"n\":1}", true, &err) == SL_OK, "%s", err.msg);
    sl_dest_close(e.d);
    e.d = NULL;
    /* load the big one in a child, and kill it */
    const char *hook = permille[k] == -2 ? "ddb_job:3" : permille[k] == -3 ? "ddb_committed:1" : "load_part:2";
    const char *envs[] = {"SL_CRASH_DB", e.db, "SL_CRASH_PK", e.pk, "SL_CRASH_ID", big_id,
                          "SL_TEST_TXN_ROWS", permille[k] == -4 ? "1" : "0",
                          permille[k] <= -2 ? "SLUICE_TEST_CRASH" : NULL, hook, NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = spawn_self("crash_child", envs);
    CHECK(pid > 0);
    int status;
    if (permille[k] <= -2) {
      waitpid(pid, &status, 0);
      CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "not killed by the hook (%d): %d",
                permille[k], status);
    } else if (permille[k] < 0) {
      waitpid(pid, &status, 0);
      clock_gettime(CLOCK_MONOTONIC, &t1);
      full_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
      CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child load failed: %d", status);
    } else {
      long long ms = full_ms * permille[k] / 1000;
      struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
      nanosleep(&ts, NULL);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    /* all or nothing, and _dlt_loads agrees */
    env_open(&e);
    CHECK(e.d);
    long long ev = qi(e.d, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'events'")
                       ? qi(e.d, "SELECT count(*) FROM events")
                       : 0;
    long long v2 = qi(e.d, "SELECT count(*) FROM users WHERE name = 'v2'");
    long long tags = qi(e.d, "SELECT count(*) FROM users__tags");
    long long users_n = qi(e.d, "SELECT count(*) FROM users");
    long long loads = qi(e.d, "SELECT count(*) FROM _dlt_loads WHERE load_id = '%s'", big_id);
    long long states = qi(e.d, "SELECT count(*) FROM _dlt_pipeline_state");
    CHECK_INT(users_n, CRASH_USERS);
    if (permille[k] == -4) {
      /* two jobs committed, each with its progress row; the merge waits for the last */
      CHECK_INT(loads, 0);
      CHECK_INT(qi(e.d, "SELECT count(*) FROM _sluice_load_progress WHERE load_id = '%s'", big_id), 2);
      CHECK(ev > 0 || qi(e.d, "SELECT count(*) FROM ds_staging.users") > 0);
      CHECK(ev < CRASH_EVENTS);
      CHECK_INT(v2, 0);
      CHECK_INT(states, 1);
    } else if (loads == 0) {
      none++;
      CHECK_INT(ev, 0);
      CHECK_INT(v2, 0);
      CHECK_INT(tags, CRASH_USERS);
      CHECK_INT(states, 1);
    } else {
      all++;
      CHECK_INT(loads, 1);
      CHECK_INT(ev, CRASH_EVENTS);
      CHECK_INT(v2, CRASH_USERS / 2);
      CHECK_INT(tags, CRASH_USERS / 2 + CRASH_USERS);
      CHECK_INT(states, 2);
    }
    /* the rerun completes it exactly once */
    sl_package *p = sl_package_open(e.pk, big_id, &err);
    CHECK(p);
    CHECK_MSG(load_pkg(e.d, p, e.s, "{\"n\":2}", true, &err) == SL_OK, "%s", err.msg);
    sl_package_close(p);
    CHECK_INT(qi(e.d, "SELECT count(*) FROM events"), CRASH_EVENTS);
    CHECK_INT(qi(e.d, "SELECT count(DISTINCT id) FROM events"), CRASH_EVENTS);
    CHECK_INT(qi(e.d, "SELECT count(*) FROM users"), CRASH_USERS);
    CHECK_INT(qi(e.d, "SELECT count(*) FROM users WHERE name = 'v2'"), CRASH_USERS / 2);
    CHECK_INT(qi(e.d, "SELECT count(*) FROM users__tags"), CRASH_USERS / 2 + CRASH_USERS);
    CHECK_INT(qi(e.d, "SELECT count(*) FROM _dlt_loads WHERE load_id = '%s'", big_id), 1);
    CHECK_INT(qi(e.d, "SELECT count(*) FROM _dlt_pipeline_state"), 2);
    CHECK_INT(qi(e.d, "SELECT count(*) FROM information_schema.tables WHERE table_name = '_sluice_load_progress'"),
              0);
    sl_dest_close(e.d);
    e.d = NULL;
  }
  fprintf(stderr, "  crash test: a load takes %lld ms; %d kills left nothing, %d found it committed\n",
          full_ms, none, all - 1);
  CHECK(none > 0); /* kills landed mid-load … */
  CHECK(all > 1);  /* … and after the commit */
  sl_package_close(base);
  sl_package_close(big);
  env_done(&e);
}

TEST(cleanup) {
  if (base_dir[0]) sl_rm_rf(base_dir, NULL);
}

TEST_MAIN()
