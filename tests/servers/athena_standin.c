/* A stand-in for Amazon Athena, for tests: speaks Athena's JSON protocol
 * (POST / with X-Amz-Target: AmazonAthena.StartQueryExecution,
 * GetQueryExecution, GetQueryResults (pages of at most 1000 rows, the header
 * row counted, as Athena sends them), StopQueryExecution;
 * application/x-amz-json-1.1) on
 * 127.0.0.1, keeps a Glue-like catalog, and runs the statements on DuckDB:
 *   - external tables (CREATE EXTERNAL TABLE … STORED AS PARQUET LOCATION
 *     's3://…') are views over the Parquet objects read back from the S3
 *     server, refreshed before every statement;
 *   - Iceberg tables (TBLPROPERTIES ('table_type'='ICEBERG')) are DuckDB tables;
 *   - DML (INSERT, DELETE, MERGE INTO, SELECT, DROP, ALTER … ADD COLUMNS)
 *     runs on DuckDB after backticks become double quotes;
 *   - the catalog keeps each table's kind and its columns with the Athena
 *     types of the DDL: DESCRIBE t (col_name, data_type) and SHOW
 *     TBLPROPERTIES t (table_type ICEBERG, or EXTERNAL TRUE) answer from it.
 * Requests without a SigV4 Authorization header are refused
 * (MissingAuthenticationTokenException), unknown targets too
 * (UnknownOperationException).
 *
 *   athena_standin --port N --s3-endpoint URL [--port-file F]
 * Env: ATHENA_STANDIN_FAIL=<text>  statements containing text end FAILED
 *      ATHENA_STANDIN_STUCK=<text> statements containing text stay RUNNING
 *                                  until StopQueryExecution (then CANCELLED)
 *      ATHENA_STANDIN_THROTTLE=<n> every n-th request is throttled (400)
 *      ATHENA_STANDIN_LATENCY_MS=<n> every statement reports RUNNING for n ms
 *                                  after it starts (its effect is applied at
 *                                  once, as a kill test needs queries in flight)
 *      AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for the S3 server (S3RVER). */
#define _GNU_SOURCE
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <duckdb.h>
#include <microhttpd.h>

#include "sluice/aws.h"
#include "sluice/buf.h"
#include "sluice/json.h"
#include "sluice/package.h"
#include "sluice/value.h"

typedef struct ext_table {
  char *db, *name;
  char *bucket, *prefix; /* location */
  char *cols;            /* "col type, …" as DuckDB DDL (for an empty view) */
  char *colnames;        /* "\"a\", \"b\"" */
} ext_table;

/* A catalog entry: what Glue knows of a table. */
typedef struct glue_table {
  char *db, *name;
  bool iceberg;
  sl_buf cols; /* the DDL's column list: "`a` string, `b` bigint" */
} glue_table;

typedef struct query {
  char id[40];
  char *sql;
  char *db;
  int state; /* 0 running, 1 succeeded, 2 failed, 3 stuck running, 4 cancelled */
  int polls;
  double ready_at; /* monotonic seconds: RUNNING until then (ATHENA_STANDIN_LATENCY_MS) */
  char *reason;
  size_t ncols, nrows;
  char **names, **types;
  char **cells; /* nrows * ncols, NULL for SQL NULL */
} query;

static duckdb_database db;
static duckdb_connection con;
static sl_s3 *s3;
static char cache_dir[256];
static ext_table *exts;
static size_t nexts;
static glue_table *glue;
static size_t nglue;
static query *queries;
static size_t nqueries;
static long request_no;
static long throttle_every;
static long latency_ms;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
static const char *fail_text;
static const char *stuck_text;

/* ---- SQL text helpers ---------------------------------------------------------- */

/* Backticks to double quotes, outside string literals. */
static char *requote(const char *s) {
  char *o = strdup(s);
  bool str = false;
  for (char *p = o; *p; p++) {
    if (*p == '\'') str = !str;
    else if (!str && *p == '`') *p = '"';
  }
  return o;
}

static const char *skip_ws(const char *p) {
  while (*p && isspace((unsigned char)*p)) p++;
  return p;
}

static bool kw(const char **pp, const char *word) {
  const char *p = skip_ws(*pp);
  size_t n = strlen(word);
  if (strncasecmp(p, word, n) != 0 || (p[n] && !isspace((unsigned char)p[n]) && p[n] != '(')) return false;
  *pp = p + n;
  return true;
}

/* A possibly quoted identifier; returns malloc'ed name. */
static char *ident(const char **pp) {
  const char *p = skip_ws(*pp);
  char q = *p == '"' || *p == '`' ? *p : 0;
  sl_buf b = {0};
  if (q) {
    p++;
    while (*p) {
      if (*p == q && p[1] == q) { sl_buf_putc(&b, q); p += 2; continue; }
      if (*p == q) { p++; break; }
      sl_buf_putc(&b, *p++);
    }
  } else {
    while (*p && (isalnum((unsigned char)*p) || *p == '_')) sl_buf_putc(&b, *p++);
  }
  *pp = p;
  if (!b.data) return strdup("");
  return sl_buf_steal(&b, NULL);
}

/* [db.]name */
static void qualified(const char **pp, const char *dflt_db, char **dbn, char **name) {
  char *a = ident(pp);
  if (**pp == '.') {
    (*pp)++;
    *dbn = a;
    *name = ident(pp);
  } else {
    *dbn = strdup(dflt_db ? dflt_db : "default");
    *name = a;
  }
}

/* The text of the balanced parenthesis group starting at *pp ('(' expected). */
static char *paren_group(const char **pp) {
  const char *p = skip_ws(*pp);
  if (*p != '(') return NULL;
  int depth = 0;
  bool str = false;
  const char *start = p + 1;
  for (; *p; p++) {
    if (*p == '\'') str = !str;
    if (str) continue;
    if (*p == '(') depth++;
    if (*p == ')' && --depth == 0) break;
  }
  if (!*p) return NULL;
  char *out = strndup(start, (size_t)(p - start));
  *pp = p + 1;
  return out;
}

/* Hive column types to DuckDB's. */
static void map_type(const char *t, sl_buf *o) {
  if (!strncasecmp(t, "string", 6)) sl_buf_puts(o, "VARCHAR");
  else if (!strncasecmp(t, "binary", 6)) sl_buf_puts(o, "BLOB");
  else if (!strncasecmp(t, "timestamp", 9)) sl_buf_puts(o, "TIMESTAMP");
  else if (!strncasecmp(t, "int", 3) && !isalpha((unsigned char)t[3])) sl_buf_puts(o, "INTEGER");
  else sl_buf_puts(o, t);
}

/* The next "name type" of a column list ("`a` string, `b` decimal(38,9)");
 * false at the end. name and type are malloc'ed. */
static bool next_column(const char **pp, char **name, char **type) {
  const char *p = skip_ws(*pp);
  if (!*p) return false;
  *name = ident(&p);
  p = skip_ws(p);
  const char *t = p;
  int depth = 0;
  while (*p && !(depth == 0 && *p == ',')) {
    if (*p == '(') depth++;
    if (*p == ')') depth--;
    p++;
  }
  *type = strndup(t, (size_t)(p - t));
  for (char *e = *type + strlen(*type); e > *type && isspace((unsigned char)e[-1]);) *--e = '\0';
  *pp = *p == ',' ? p + 1 : p;
  return true;
}

/* "`a` string, `b` bigint" → DuckDB column DDL and a name list. */
static void columns_ddl(const char *cols, sl_buf *ddl, sl_buf *names) {
  const char *p = cols;
  bool first = true;
  char *name, *type;
  while (next_column(&p, &name, &type)) {
    if (!first) {
      sl_buf_puts(ddl, ", ");
      sl_buf_puts(names, ", ");
    }
    first = false;
    sl_buf_printf(ddl, "\"%s\" ", name);
    map_type(type, ddl);
    sl_buf_printf(names, "\"%s\"", name);
    free(name);
    free(type);
  }
}

/* ---- DuckDB --------------------------------------------------------------------- */

static bool run_sql(const char *sql, duckdb_result *res, char **why) {
  duckdb_result r;
  if (duckdb_query(con, sql, &r) == DuckDBError) {
    if (why) *why = strdup(duckdb_result_error(&r) ? duckdb_result_error(&r) : "error");
    duckdb_destroy_result(&r);
    return false;
  }
  if (res) *res = r;
  else duckdb_destroy_result(&r);
  return true;
}

/* Rebuild the view of an external table over the objects now in S3. */
static bool refresh_ext(ext_table *e, char **why) {
  sl_s3_object *objs = NULL;
  size_t n = 0;
  sl_error err;
  sl_error_clear(&err);
  if (sl_s3_list(s3, e->bucket, e->prefix, &objs, &n, &err)) {
    *why = strdup(err.msg);
    return false;
  }
  sl_buf files = {0}, sql = {0};
  size_t nfiles = 0;
  for (size_t i = 0; i < n; i++) {
    const char *k = objs[i].key;
    size_t kl = strlen(k);
    if (kl < 8 || strcmp(k + kl - 8, ".parquet") != 0) continue;
    /* Cache by key and size: objects are written once under a name (a re-run
     * writes the same bytes). */
    char local[1024];
    snprintf(local, sizeof local, "%s/%s__%s__%llu", cache_dir, e->bucket, k, (unsigned long long)objs[i].size);
    for (char *c = local + strlen(cache_dir) + 1; *c; c++)
      if (*c == '/') *c = '_';
    struct stat sb;
    if (stat(local, &sb) != 0 || (uint64_t)sb.st_size != objs[i].size) {
      if (sl_s3_get_file(s3, e->bucket, k, local, &err)) {
        *why = strdup(err.msg);
        sl_s3_objects_free(objs, n);
        sl_buf_free(&files);
        return false;
      }
    }
    sl_buf_printf(&files, "%s'%s'", nfiles++ ? ", " : "", local);
  }
  sl_s3_objects_free(objs, n);
  if (nfiles)
    /* Columns added later are NULL in older files: UNION BY NAME with a typed empty row set. */
    sl_buf_printf(&sql, "CREATE OR REPLACE VIEW \"%s\".\"%s\" AS SELECT %s FROM (SELECT * FROM "
                  "read_parquet([%s], union_by_name = true) UNION ALL BY NAME SELECT * FROM (SELECT %s) WHERE false)",
                  e->db, e->name, e->colnames, files.data, e->cols);
  else
    sl_buf_printf(&sql, "CREATE OR REPLACE VIEW \"%s\".\"%s\" AS SELECT * FROM (SELECT %s) WHERE false",
                  e->db, e->name, e->cols);
  bool ok = run_sql(sql.data, NULL, why);
  sl_buf_free(&files);
  sl_buf_free(&sql);
  return ok;
}

/* "CAST(NULL AS t) AS "c", …" from column DDL. */
static char *null_select(const char *ddl_cols) {
  sl_buf o = {0};
  const char *p = ddl_cols;
  bool first = true;
  char *name, *type;
  while (next_column(&p, &name, &type)) {
    sl_buf_printf(&o, "%sCAST(NULL AS %s) AS \"%s\"", first ? "" : ", ", type, name);
    first = false;
    free(name);
    free(type);
  }
  return o.data ? sl_buf_steal(&o, NULL) : strdup("1 AS x");
}

static ext_table *find_ext(const char *dbn, const char *name) {
  for (size_t i = 0; i < nexts; i++)
    if (!strcmp(exts[i].db, dbn) && !strcmp(exts[i].name, name)) return &exts[i];
  return NULL;
}

static void drop_ext(const char *dbn, const char *name) {
  for (size_t i = 0; i < nexts; i++)
    if (!strcmp(exts[i].db, dbn) && !strcmp(exts[i].name, name)) {
      free(exts[i].db); free(exts[i].name); free(exts[i].bucket); free(exts[i].prefix);
      free(exts[i].cols); free(exts[i].colnames);
      exts[i] = exts[--nexts];
      return;
    }
}

static glue_table *find_glue(const char *dbn, const char *name) {
  for (size_t i = 0; i < nglue; i++)
    if (!strcmp(glue[i].db, dbn) && !strcmp(glue[i].name, name)) return &glue[i];
  return NULL;
}

static void add_glue(const char *dbn, const char *name, bool iceberg, const char *cols) {
  if (find_glue(dbn, name)) return;
  glue = realloc(glue, (nglue + 1) * sizeof *glue);
  glue[nglue] = (glue_table){.db = strdup(dbn), .name = strdup(name), .iceberg = iceberg};
  sl_buf_puts(&glue[nglue++].cols, cols);
}

static void glue_free(glue_table *g) {
  free(g->db);
  free(g->name);
  sl_buf_free(&g->cols);
}

static void drop_glue(const char *dbn, const char *name) {
  glue_table *g = find_glue(dbn, name);
  if (!g) return;
  glue_free(g);
  *g = glue[--nglue];
}

static void sql_str(sl_buf *o, const char *s) {
  sl_buf_putc(o, '\'');
  for (; *s; s++) {
    if (*s == '\'') sl_buf_putc(o, '\'');
    sl_buf_putc(o, *s);
  }
  sl_buf_putc(o, '\'');
}

/* DESCRIBE / SHOW TBLPROPERTIES of a catalog table as a DuckDB VALUES query
 * (NULL and *why set when the table is unknown). */
static char *catalog_query(const char *dbn, const char *name, bool describe, char **why) {
  glue_table *g = find_glue(dbn, name);
  if (!g) {
    if (asprintf(why, "EntityNotFoundException: Table %s.%s not found", dbn, name) < 0) *why = NULL;
    return NULL;
  }
  sl_buf o = {0};
  sl_buf_puts(&o, "SELECT * FROM (VALUES ");
  if (describe) {
    const char *p = g->cols.data ? g->cols.data : "";
    char *cn, *ct;
    for (bool first = true; next_column(&p, &cn, &ct); first = false) {
      sl_buf_puts(&o, first ? "(" : ", (");
      sql_str(&o, cn);
      sl_buf_puts(&o, ", ");
      sql_str(&o, ct);
      sl_buf_puts(&o, ")");
      free(cn);
      free(ct);
    }
    sl_buf_puts(&o, ") v(col_name, data_type)");
  } else {
    sl_buf_puts(&o, g->iceberg ? "('table_type', 'ICEBERG'), ('format', 'parquet')" : "('EXTERNAL', 'TRUE')");
    sl_buf_puts(&o, ") v(prpt_name, prpt_value)");
  }
  return sl_buf_steal(&o, NULL);
}

/* Execute one Athena statement; fills q's result or reason. */
static void execute(query *q) {
  char *why = NULL;
  if (fail_text && *fail_text && strstr(q->sql, fail_text)) {
    q->state = 2;
    q->reason = strdup("injected failure: this statement matches ATHENA_STANDIN_FAIL");
    return;
  }
  if (stuck_text && *stuck_text && strstr(q->sql, stuck_text)) {
    q->state = 3; /* never runs; StopQueryExecution cancels it */
    return;
  }
  const char *p = q->sql;
  char *sql = NULL;
  glue_table glue_new = {0}; /* an Iceberg table to catalog once DuckDB created it */
  if (kw(&p, "CREATE") && (kw(&p, "DATABASE") || kw(&p, "SCHEMA"))) {
    const char *r = p;
    if (kw(&r, "IF") && kw(&r, "NOT") && kw(&r, "EXISTS")) p = r;
    char *name = ident(&p);
    if (asprintf(&sql, "CREATE SCHEMA IF NOT EXISTS \"%s\"", name) < 0) sql = NULL;
    free(name);
  } else if ((p = q->sql, kw(&p, "CREATE") && kw(&p, "EXTERNAL") && kw(&p, "TABLE"))) {
    const char *r = p;
    bool if_not = kw(&r, "IF") && kw(&r, "NOT") && kw(&r, "EXISTS");
    if (if_not) p = r;
    char *dbn, *name;
    qualified(&p, q->db, &dbn, &name);
    char *cols = paren_group(&p);
    const char *loc = strcasestr(p, "LOCATION");
    const char *lq = loc ? strchr(loc, '\'') : NULL;
    const char *lq2 = lq ? strchr(lq + 1, '\'') : NULL;
    if (!cols || !lq2 || strncmp(lq + 1, "s3://", 5) != 0) {
      why = strdup("CREATE EXTERNAL TABLE needs a column list and LOCATION 's3://…'");
    } else if (find_ext(dbn, name) && !if_not) {
      why = strdup("AlreadyExistsException: Table already exists");
    } else if (!find_ext(dbn, name)) {
      char *url = strndup(lq + 1, (size_t)(lq2 - lq - 1));
      ext_table e = {.db = strdup(dbn), .name = strdup(name)};
      sl_s3_parse_url(url, &e.bucket, &e.prefix, NULL);
      char *pre = NULL;
      if (asprintf(&pre, "%s/", e.prefix) < 0) pre = NULL;
      free(e.prefix);
      e.prefix = pre;
      sl_buf ddl = {0}, names = {0};
      columns_ddl(cols, &ddl, &names);
      e.cols = null_select(ddl.data ? ddl.data : "");
      e.colnames = names.data ? sl_buf_steal(&names, NULL) : strdup("*");
      sl_buf_free(&ddl);
      free(url);
      exts = realloc(exts, (nexts + 1) * sizeof *exts);
      exts[nexts++] = e;
      if (!refresh_ext(&exts[nexts - 1], &why)) drop_ext(dbn, name);
      else add_glue(dbn, name, false, cols);
    }
    free(cols);
    free(dbn);
    free(name);
    if (!why) q->state = 1;
    else q->state = 2, q->reason = why;
    return;
  } else if ((p = q->sql, kw(&p, "CREATE") && kw(&p, "TABLE"))) {
    const char *r = p;
    bool if_not = kw(&r, "IF") && kw(&r, "NOT") && kw(&r, "EXISTS");
    if (if_not) p = r;
    char *dbn, *name;
    qualified(&p, q->db, &dbn, &name);
    char *cols = paren_group(&p);
    if (!cols || !strcasestr(p, "ICEBERG")) {
      why = strdup("the stand-in creates Iceberg tables only (TBLPROPERTIES ('table_type'='ICEBERG')) "
                   "or EXTERNAL tables");
    } else {
      sl_buf ddl = {0};
      sl_buf names = {0};
      columns_ddl(cols, &ddl, &names);
      if (asprintf(&sql, "CREATE TABLE %s\"%s\".\"%s\" (%s)", if_not ? "IF NOT EXISTS " : "", dbn, name,
                   ddl.data ? ddl.data : "") < 0) sql = NULL;
      glue_new = (glue_table){.db = strdup(dbn), .name = strdup(name), .iceberg = true};
      sl_buf_puts(&glue_new.cols, cols);
      sl_buf_free(&ddl);
      sl_buf_free(&names);
    }
    free(cols);
    free(dbn);
    free(name);
  } else if ((p = q->sql, kw(&p, "ALTER") && kw(&p, "TABLE"))) {
    char *dbn, *name;
    qualified(&p, q->db, &dbn, &name);
    char *cols_added = NULL;
    if (kw(&p, "ADD") && kw(&p, "COLUMNS")) {
      char *cols = paren_group(&p);
      cols_added = cols ? strdup(cols) : NULL;
      sl_buf ddl = {0}, names = {0};
      if (cols) columns_ddl(cols, &ddl, &names);
      ext_table *e = find_ext(dbn, name);
      if (!cols) {
        why = strdup("ADD COLUMNS needs a column list");
      } else if (e) {
        /* External: the catalog's columns grow; the view is rebuilt. */
        sl_buf all = {0};
        char *more = null_select(ddl.data);
        sl_buf_printf(&all, "%s, %s", e->cols, more);
        free(more);
        free(e->cols);
        e->cols = sl_buf_steal(&all, NULL);
        sl_buf_printf(&all, "%s, %s", e->colnames, names.data);
        free(e->colnames);
        e->colnames = sl_buf_steal(&all, NULL);
        refresh_ext(e, &why);
      } else {
        /* Iceberg: one ALTER per column, in one transaction. */
        sl_buf s = {0};
        const char *c = ddl.data;
        sl_buf_puts(&s, "BEGIN; ");
        while (c && *c) {
          const char *end = c;
          int depth = 0;
          while (*end && !(depth == 0 && *end == ',')) {
            if (*end == '(') depth++;
            if (*end == ')') depth--;
            end++;
          }
          sl_buf_printf(&s, "ALTER TABLE \"%s\".\"%s\" ADD COLUMN %.*s; ", dbn, name, (int)(end - c), c);
          c = *end ? skip_ws(end + 1) : end;
        }
        sl_buf_puts(&s, "COMMIT;");
        if (!run_sql(s.data, NULL, &why)) run_sql("ROLLBACK", NULL, NULL);
        sl_buf_free(&s);
      }
      free(cols);
      sl_buf_free(&ddl);
      sl_buf_free(&names);
    } else {
      why = strdup("the stand-in supports ALTER TABLE … ADD COLUMNS only");
    }
    glue_table *g = why ? NULL : find_glue(dbn, name);
    if (g) sl_buf_printf(&g->cols, "%s%s", g->cols.len ? ", " : "", cols_added);
    free(cols_added);
    free(dbn);
    free(name);
    if (!why) q->state = 1;
    else q->state = 2, q->reason = why;
    return;
  } else if ((p = q->sql, kw(&p, "DESCRIBE")) || (p = q->sql, kw(&p, "SHOW") && kw(&p, "TBLPROPERTIES"))) {
    bool describe = (p = q->sql, kw(&p, "DESCRIBE"));
    if (!describe) p = q->sql, kw(&p, "SHOW"), kw(&p, "TBLPROPERTIES");
    char *dbn, *name;
    qualified(&p, q->db, &dbn, &name);
    sql = catalog_query(dbn, name, describe, &why);
    free(dbn);
    free(name);
  } else if ((p = q->sql, kw(&p, "DROP") && kw(&p, "TABLE"))) {
    const char *r = p;
    if (kw(&r, "IF") && kw(&r, "EXISTS")) p = r;
    char *dbn, *name;
    qualified(&p, q->db, &dbn, &name);
    drop_glue(dbn, name);
    if (find_ext(dbn, name)) {
      drop_ext(dbn, name);
      if (asprintf(&sql, "DROP VIEW IF EXISTS \"%s\".\"%s\"", dbn, name) < 0) sql = NULL;
    } else if (asprintf(&sql, "DROP TABLE IF EXISTS \"%s\".\"%s\"", dbn, name) < 0) {
      sql = NULL;
    }
    free(dbn);
    free(name);
  } else {
    sql = requote(q->sql);
  }
  /* External tables read the objects as they are now. */
  for (size_t i = 0; i < nexts && !why; i++)
    if (strstr(q->sql, exts[i].name)) refresh_ext(&exts[i], &why);
  if (why) {
    q->state = 2;
    q->reason = why;
    free(sql);
    glue_free(&glue_new);
    return;
  }
  char use[512];
  snprintf(use, sizeof use, "USE memory.\"%s\"", q->db ? q->db : "main");
  if (q->db) run_sql(use, NULL, NULL);
  duckdb_result res;
  if (!sql || !run_sql(sql, &res, &why)) {
    q->state = 2;
    q->reason = why ? why : strdup("out of memory");
    free(sql);
    glue_free(&glue_new);
    run_sql("USE memory.main", NULL, NULL);
    return;
  }
  free(sql);
  run_sql("USE memory.main", NULL, NULL);
  if (glue_new.db) add_glue(glue_new.db, glue_new.name, true, glue_new.cols.data ? glue_new.cols.data : "");
  glue_free(&glue_new);
  q->ncols = duckdb_column_count(&res);
  q->nrows = duckdb_row_count(&res);
  q->names = calloc(q->ncols + 1, sizeof *q->names);
  q->types = calloc(q->ncols + 1, sizeof *q->types);
  q->cells = calloc(q->ncols * q->nrows + 1, sizeof *q->cells);
  for (idx_t c = 0; c < q->ncols; c++) {
    q->names[c] = strdup(duckdb_column_name(&res, c));
    const char *t;
    switch (duckdb_column_type(&res, c)) {
      case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_HUGEINT: t = "bigint"; break;
      case DUCKDB_TYPE_INTEGER: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_TINYINT: t = "integer"; break;
      case DUCKDB_TYPE_DOUBLE: case DUCKDB_TYPE_FLOAT: t = "double"; break;
      case DUCKDB_TYPE_BOOLEAN: t = "boolean"; break;
      case DUCKDB_TYPE_DATE: t = "date"; break;
      case DUCKDB_TYPE_TIMESTAMP: case DUCKDB_TYPE_TIMESTAMP_TZ: t = "timestamp"; break;
      case DUCKDB_TYPE_DECIMAL: t = "decimal"; break;
      case DUCKDB_TYPE_BLOB: t = "varbinary"; break;
      default: t = "varchar";
    }
    q->types[c] = strdup(t);
  }
  for (idx_t r = 0; r < q->nrows; r++)
    for (idx_t c = 0; c < q->ncols; c++)
      if (!duckdb_value_is_null(&res, c, r)) {
        char *v = duckdb_value_varchar(&res, c, r);
        q->cells[r * q->ncols + c] = strdup(v ? v : "");
        duckdb_free(v);
      }
  duckdb_destroy_result(&res);
  q->state = 1;
}

/* ---- protocol --------------------------------------------------------------------- */

typedef struct conn {
  sl_buf body;
} conn;

static void jstr(sl_buf *b, const char *s) {
  sl_buf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') sl_buf_printf(b, "\\%c", *p);
    else if (*p < 0x20) sl_buf_printf(b, "\\u%04x", *p);
    else sl_buf_putc(b, (char)*p);
  }
  sl_buf_putc(b, '"');
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *json) {
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), (void *)json, MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "Content-Type", "application/x-amz-json-1.1");
  MHD_add_response_header(r, "x-amzn-RequestId", "standin");
  enum MHD_Result ok = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result error_reply(struct MHD_Connection *c, unsigned code, const char *type, const char *msg) {
  sl_buf b = {0};
  sl_buf_puts(&b, "{\"__type\":");
  jstr(&b, type);
  sl_buf_puts(&b, ",\"message\":");
  jstr(&b, msg);
  sl_buf_puts(&b, "}");
  enum MHD_Result r = reply(c, code, b.data);
  sl_buf_free(&b);
  return r;
}

static query *find_query(const char *id) {
  for (size_t i = 0; i < nqueries; i++)
    if (id && !strcmp(queries[i].id, id)) return &queries[i];
  return NULL;
}

static enum MHD_Result handle(struct MHD_Connection *c, const char *target, const char *body, size_t len) {
  sl_error err;
  sl_error_clear(&err);
  sl_doc *d = sl_json_parse_doc(body ? body : "", len, "request", &err);
  if (!d) return error_reply(c, 400, "SerializationException", err.msg);
  sl_buf out = {0};
  enum MHD_Result res;
  if (!strcmp(target, "AmazonAthena.StartQueryExecution")) {
    const char *sql = sl_v_str(sl_v_get(d->root, "QueryString"), NULL);
    const sl_value *ctx = sl_v_get(d->root, "QueryExecutionContext");
    const char *dbn = sl_v_str(sl_v_get(ctx, "Database"), NULL);
    if (!sql) {
      sl_doc_free(d);
      return error_reply(c, 400, "InvalidRequestException", "QueryString is required");
    }
    queries = realloc(queries, (nqueries + 1) * sizeof *queries);
    query *q = &queries[nqueries++];
    memset(q, 0, sizeof *q);
    snprintf(q->id, sizeof q->id, "q-%06zu-%d", nqueries, (int)getpid());
    q->sql = strdup(sql);
    q->db = dbn ? strdup(dbn) : NULL;
    q->ready_at = now_s() + latency_ms / 1000.0;
    execute(q);
    sl_buf_puts(&out, "{\"QueryExecutionId\":");
    jstr(&out, q->id);
    sl_buf_puts(&out, "}");
    res = reply(c, 200, out.data);
  } else if (!strcmp(target, "AmazonAthena.GetQueryExecution")) {
    query *q = find_query(sl_v_str(sl_v_get(d->root, "QueryExecutionId"), NULL));
    if (!q) {
      res = error_reply(c, 400, "InvalidRequestException", "QueryExecution not found");
    } else {
      /* The first poll sees it RUNNING, as a real engine would. */
      bool running = q->polls++ == 0 || q->state == 3 || now_s() < q->ready_at;
      const char *state = q->state == 4 ? "CANCELLED"
                          : running     ? "RUNNING"
                          : q->state == 1 ? "SUCCEEDED"
                                          : "FAILED";
      sl_buf_puts(&out, "{\"QueryExecution\":{\"QueryExecutionId\":");
      jstr(&out, q->id);
      sl_buf_puts(&out, ",\"Query\":");
      jstr(&out, q->sql);
      sl_buf_puts(&out, ",\"StatementType\":\"DML\",\"Status\":{\"State\":");
      jstr(&out, state);
      if (!strcmp(state, "CANCELLED")) {
        sl_buf_puts(&out, ",\"StateChangeReason\":\"Query was cancelled by user\"");
      } else if (!strcmp(state, "FAILED")) {
        sl_buf_puts(&out, ",\"StateChangeReason\":");
        jstr(&out, q->reason ? q->reason : "failed");
        sl_buf_puts(&out, ",\"AthenaError\":{\"ErrorCategory\":2,\"ErrorType\":1000}");
      }
      sl_buf_puts(&out, "},\"WorkGroup\":\"primary\"}}");
      res = reply(c, 200, out.data);
    }
  } else if (!strcmp(target, "AmazonAthena.GetQueryResults")) {
    query *q = find_query(sl_v_str(sl_v_get(d->root, "QueryExecutionId"), NULL));
    int64_t maxr = sl_v_int_or(sl_v_get(d->root, "MaxResults"), 1000);
    const char *tok = sl_v_str(sl_v_get(d->root, "NextToken"), NULL);
    if (!q || q->state != 1) {
      res = error_reply(c, 400, "InvalidRequestException",
                        q ? "Query has not yet finished successfully" : "QueryExecution not found");
    } else {
      /* Row 0 is the header row (as Athena sends for SELECT). */
      size_t total = q->nrows + 1, from = tok ? strtoull(tok, NULL, 10) : 0;
      size_t to = from + (size_t)(maxr > 0 && maxr <= 1000 ? maxr : 1000);
      if (to > total) to = total;
      sl_buf_puts(&out, "{\"UpdateCount\":0,\"ResultSet\":{\"Rows\":[");
      for (size_t r = from; r < to; r++) {
        sl_buf_puts(&out, r > from ? ",{\"Data\":[" : "{\"Data\":[");
        for (size_t k = 0; k < q->ncols; k++) {
          const char *v = r == 0 ? q->names[k] : q->cells[(r - 1) * q->ncols + k];
          sl_buf_puts(&out, k ? "," : "");
          if (v) {
            sl_buf_puts(&out, "{\"VarCharValue\":");
            jstr(&out, v);
            sl_buf_puts(&out, "}");
          } else {
            sl_buf_puts(&out, "{}");
          }
        }
        sl_buf_puts(&out, "]}");
      }
      sl_buf_puts(&out, "],\"ResultSetMetadata\":{\"ColumnInfo\":[");
      for (size_t k = 0; k < q->ncols; k++) {
        sl_buf_puts(&out, k ? ",{\"Name\":" : "{\"Name\":");
        jstr(&out, q->names[k]);
        sl_buf_puts(&out, ",\"Label\":");
        jstr(&out, q->names[k]);
        sl_buf_puts(&out, ",\"Type\":");
        jstr(&out, q->types[k]);
        sl_buf_puts(&out, ",\"CatalogName\":\"hive\",\"SchemaName\":\"\",\"TableName\":\"\",\"Nullable\":\"UNKNOWN\",\"Precision\":0,\"Scale\":0,\"CaseSensitive\":true}");
      }
      sl_buf_puts(&out, "]}}");
      if (to < total) sl_buf_printf(&out, ",\"NextToken\":\"%zu\"", to);
      sl_buf_puts(&out, "}");
      res = reply(c, 200, out.data);
    }
  } else if (!strcmp(target, "AmazonAthena.StopQueryExecution")) {
    query *q = find_query(sl_v_str(sl_v_get(d->root, "QueryExecutionId"), NULL));
    if (!q) {
      res = error_reply(c, 400, "InvalidRequestException", "QueryExecution not found");
    } else {
      if (q->state == 0 || q->state == 3) q->state = 4;
      res = reply(c, 200, "{}");
    }
  } else {
    res = error_reply(c, 400, "UnknownOperationException", "unknown X-Amz-Target");
  }
  sl_buf_free(&out);
  sl_doc_free(d);
  return res;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **ptr) {
  (void)cls; (void)url; (void)version;
  conn *k = *ptr;
  if (!k) {
    k = calloc(1, sizeof *k);
    *ptr = k;
    return MHD_YES;
  }
  if (*upload_size) {
    sl_buf_append(&k->body, upload, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  request_no++;
  const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  const char *target = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target");
  if (strcmp(method, "POST") != 0) return error_reply(c, 405, "InvalidRequestException", "POST only");
  if (!auth || strncmp(auth, "AWS4-HMAC-SHA256 Credential=", 28) != 0 || !strstr(auth, "/athena/aws4_request"))
    return error_reply(c, 403, "MissingAuthenticationTokenException",
                       "Missing Authentication Token (a SigV4 Authorization header for service athena)");
  if (!target || strncmp(target, "AmazonAthena.", 13) != 0)
    return error_reply(c, 400, "UnknownOperationException", "unknown or missing X-Amz-Target");
  if (throttle_every > 0 && request_no % throttle_every == 0)
    return error_reply(c, 400, "ThrottlingException", "Rate exceeded");
  return handle(c, target, k->body.data, k->body.len);
}

static void on_done(void *cls, struct MHD_Connection *c, void **ptr, enum MHD_RequestTerminationCode t) {
  (void)cls; (void)c; (void)t;
  conn *k = *ptr;
  if (k) {
    sl_buf_free(&k->body);
    free(k);
  }
  *ptr = NULL;
}

static volatile sig_atomic_t stop_now;
static void on_signal(int s) { (void)s; stop_now = 1; }

int main(int argc, char **argv) {
  int port = 0;
  const char *endpoint = NULL, *port_file = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--s3-endpoint")) endpoint = argv[i + 1];
    else if (!strcmp(argv[i], "--port-file")) port_file = argv[i + 1];
  }
  if (!endpoint) {
    fprintf(stderr, "usage: athena_standin --port N --s3-endpoint URL [--port-file F]\n");
    return 2;
  }
  fail_text = getenv("ATHENA_STANDIN_FAIL");
  stuck_text = getenv("ATHENA_STANDIN_STUCK");
  throttle_every = getenv("ATHENA_STANDIN_THROTTLE") ? atol(getenv("ATHENA_STANDIN_THROTTLE")) : 0;
  latency_ms = getenv("ATHENA_STANDIN_LATENCY_MS") ? atol(getenv("ATHENA_STANDIN_LATENCY_MS")) : 0;
  snprintf(cache_dir, sizeof cache_dir, "/tmp/athena_standin_%d", (int)getpid());
  sl_mkdir_p(cache_dir, NULL);
  const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
  sl_aws_credentials cr = {.access_key_id = (char *)(ak ? ak : "S3RVER"),
                           .secret_access_key = (char *)(sk ? sk : "S3RVER")};
  sl_s3_options so = {.creds = &cr, .endpoint_url = endpoint, .region = "us-east-1"};
  sl_error err;
  sl_error_clear(&err);
  s3 = sl_s3_open(&so, &err);
  if (!s3 || duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError) {
    fprintf(stderr, "athena_standin: cannot start: %s\n", err.msg);
    return 1;
  }
  run_sql("SET TimeZone = 'UTC'", NULL, NULL);
  struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL,
                                          on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                                          MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "athena_standin: cannot listen on port %d\n", port);
    return 1;
  }
  if (port_file) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    FILE *f = fopen(port_file, "w");
    if (f) {
      fprintf(f, "%u\n", info ? info->port : (unsigned)port);
      fclose(f);
    }
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  while (!stop_now) pause();
  MHD_stop_daemon(d);
  duckdb_disconnect(&con);
  duckdb_close(&db);
  sl_s3_close(s3);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", cache_dir);
  if (system(cmd) != 0) {}
  return 0;
}
