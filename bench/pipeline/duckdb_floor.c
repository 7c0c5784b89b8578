/* The floor under bench_pipeline's peak RSS: DuckDB alone storing the same
 * tables, no sluice in the way. Two steps, each a fresh process (bench_pipeline
 * re-executes itself with these arguments, so neither inherits the other's
 * pages):
 *
 *   bench_pipeline --floor-describe DB DATASET
 *       reads the tables sluice loaded into DB (schema DATASET): per table its
 *       row count, per column its type, share of NULLs, mean text length and
 *       about how many distinct values; prints one line per table and column;
 *   bench_pipeline --floor-insert PLAN DB [ROW_GROUP_SIZE]
 *       creates those tables in a new DuckDB file and fills them with as many
 *       rows of values of the same types, NULL share, length and cardinality,
 *       generated inside DuckDB (INSERT … SELECT … FROM range(a, b), 250,000
 *       rows a statement and a transaction, as sluice's rows_per_transaction),
 *       with the settings sluice's load uses (threads 1, the same
 *       memory_limit rule, ROW_GROUP_SIZE 65,536); prints its peak RSS.
 *
 * No appender, no JSON, no packages: what this needs is what DuckDB needs
 * for the data. The values are not sluice's values, only their shape. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <duckdb.h>

#include "duckdb_floor.h"
#include "sluice/progress.h"

#define FLOOR_ROWS_PER_STATEMENT 250000
#define FLOOR_MAX_COLUMNS 512

static int q(duckdb_connection c, const char *sql, duckdb_result *res) {
  duckdb_result tmp;
  duckdb_result *r = res ? res : &tmp;
  if (duckdb_query(c, sql, r) == DuckDBError) {
    fprintf(stderr, "duckdb_floor: %s\n  in: %.300s\n", duckdb_result_error(r), sql);
    duckdb_destroy_result(r);
    return -1;
  }
  if (!res) duckdb_destroy_result(r);
  return 0;
}

/* An identifier in double quotes, quotes doubled. */
static void put_ident(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static char *sql_of(FILE *f, char **buf) {
  fflush(f);
  return *buf;
}

int floor_describe(const char *db_path, const char *dataset) {
  duckdb_database db;
  duckdb_connection c;
  duckdb_config cfg;
  duckdb_create_config(&cfg);
  duckdb_set_config(cfg, "access_mode", "READ_ONLY");
  char *oerr = NULL;
  if (duckdb_open_ext(db_path, &db, cfg, &oerr) == DuckDBError) {
    fprintf(stderr, "duckdb_floor: cannot open %s: %s\n", db_path, oerr ? oerr : "?");
    duckdb_free(oerr);
    duckdb_destroy_config(&cfg);
    return -1;
  }
  duckdb_destroy_config(&cfg);
  duckdb_connect(db, &c);
  int rc = 0;
  char *buf = NULL;
  size_t blen = 0;
  FILE *f = open_memstream(&buf, &blen);
  fprintf(f,
          "SELECT table_name, column_name, data_type FROM information_schema.columns "
          "WHERE table_schema = '%s' AND table_name <> '_sluice_load_progress' "
          "ORDER BY table_name, ordinal_position",
          dataset);
  fputc('\0', f);
  duckdb_result cols;
  if (q(c, sql_of(f, &buf), &cols)) {
    rc = -1;
    goto done;
  }
  idx_t n = duckdb_row_count(&cols);
  for (idx_t i = 0; i < n && !rc; i++) {
    char *t = duckdb_value_varchar(&cols, 0, i), *col = duckdb_value_varchar(&cols, 1, i),
         *type = duckdb_value_varchar(&cols, 2, i);
    char *prev = i ? duckdb_value_varchar(&cols, 0, i - 1) : NULL;
    if (!prev || strcmp(prev, t) != 0) {
      rewind(f);
      fputs("SELECT count(*) FROM ", f);
      put_ident(f, dataset);
      fputc('.', f);
      put_ident(f, t);
      fputc('\0', f);
      duckdb_result r;
      if (q(c, sql_of(f, &buf), &r) == 0) {
        printf("table\t%s\t%" PRId64 "\n", t, duckdb_value_int64(&r, 0, 0));
        duckdb_destroy_result(&r);
      } else {
        rc = -1;
      }
    }
    /* NULL share (per mille), mean length as text, distinct values (approximate). */
    rewind(f);
    fputs("SELECT coalesce(1000 * count(*) FILTER (WHERE ", f);
    put_ident(f, col);
    fputs(" IS NULL) // greatest(count(*), 1), 0), coalesce(avg(strlen(", f);
    put_ident(f, col);
    fputs("::VARCHAR))::BIGINT, 0), approx_count_distinct(", f);
    put_ident(f, col);
    fputs(") FROM ", f);
    put_ident(f, dataset);
    fputc('.', f);
    put_ident(f, t);
    fputc('\0', f);
    duckdb_result r;
    if (!rc && q(c, sql_of(f, &buf), &r) == 0) {
      printf("col\t%s\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n", col, type, duckdb_value_int64(&r, 0, 0),
             duckdb_value_int64(&r, 1, 0), duckdb_value_int64(&r, 2, 0));
      duckdb_destroy_result(&r);
    } else {
      rc = -1;
    }
    duckdb_free(t);
    duckdb_free(col);
    duckdb_free(type);
    duckdb_free(prev);
  }
  duckdb_destroy_result(&cols);
done:
  fclose(f);
  free(buf);
  duckdb_disconnect(&c);
  duckdb_close(&db);
  return rc;
}

/* A value expression of `type` for row i of column number k. */
static void put_value(FILE *f, const char *type, int k, long len, long ndistinct) {
  char h[96];
  if (ndistinct > 0 && ndistinct < 100000)
    snprintf(h, sizeof h, "(hash(i, %d) %% %ld)", k, ndistinct);
  else
    snprintf(h, sizeof h, "hash(i, %d)", k);
  if (!strcmp(type, "VARCHAR") || !strcmp(type, "JSON")) {
    long reps = len / 32 + 1;
    if (!strcmp(type, "JSON")) fputs("('\"' || ", f);
    fprintf(f, "substr(repeat(md5(%s::VARCHAR), %ld), 1, %ld)", h, reps, len > 2 ? len - (type[0] == 'J') * 2 : len);
    if (!strcmp(type, "JSON")) fputs(" || '\"')::JSON", f);
  } else if (!strcmp(type, "BIGINT") || !strcmp(type, "INTEGER")) {
    fprintf(f, "(%s %% 1000000007)::%s", h, type);
  } else if (!strcmp(type, "DOUBLE")) {
    fprintf(f, "(%s %% 1000000007) / 7.0", h);
  } else if (!strcmp(type, "BOOLEAN")) {
    fprintf(f, "%s %% 2 = 0", h);
  } else if (!strncmp(type, "TIMESTAMP", 9)) {
    fprintf(f, "to_timestamp((1577836800 + %s %% 200000000)::DOUBLE)::%s", h, type);
  } else if (!strcmp(type, "DATE")) {
    fprintf(f, "DATE '2020-01-01' + (%s %% 3000)::INTEGER", h);
  } else if (!strncmp(type, "DECIMAL", 7)) {
    fprintf(f, "((%s %% 1000000007) / 100.0)::%s", h, type);
  } else {
    fprintf(f, "NULL::%s", type);
  }
}

typedef struct floor_col {
  char *name, *type;
  long null_pm, len, ndistinct;
} floor_col;

static int floor_fill(duckdb_connection c, const char *table, int64_t rows, floor_col *cols, int ncols) {
  char *buf = NULL;
  size_t blen = 0;
  FILE *f = open_memstream(&buf, &blen);
  fputs("CREATE TABLE ", f);
  put_ident(f, table);
  fputs(" (", f);
  for (int k = 0; k < ncols; k++) {
    if (k) fputs(", ", f);
    put_ident(f, cols[k].name);
    fprintf(f, " %s", cols[k].type);
  }
  fputs(")", f);
  fputc('\0', f);
  int rc = q(c, sql_of(f, &buf), NULL);
  for (int64_t a = 0; a < rows && !rc; a += FLOOR_ROWS_PER_STATEMENT) {
    int64_t b = a + FLOOR_ROWS_PER_STATEMENT < rows ? a + FLOOR_ROWS_PER_STATEMENT : rows;
    rewind(f);
    fputs("INSERT INTO ", f);
    put_ident(f, table);
    fputs(" SELECT ", f);
    for (int k = 0; k < ncols; k++) {
      if (k) fputs(", ", f);
      if (cols[k].null_pm >= 1000) {
        fprintf(f, "NULL::%s", cols[k].type);
        continue;
      }
      if (cols[k].null_pm > 0) fprintf(f, "CASE WHEN hash(i, %d, 7) %% 1000 < %ld THEN NULL ELSE ", k, cols[k].null_pm);
      put_value(f, cols[k].type, k, cols[k].len, cols[k].ndistinct);
      if (cols[k].null_pm > 0) fputs(" END", f);
    }
    fprintf(f, " FROM range(%" PRId64 ", %" PRId64 ") r(i)", a, b);
    fputc('\0', f);
    rc = q(c, sql_of(f, &buf), NULL);
  }
  fclose(f);
  free(buf);
  return rc;
}

int floor_insert(const char *plan_path, const char *db_path, long row_group_size, uint64_t memory_limit_mb,
                 floor_result *out) {
  memset(out, 0, sizeof *out);
  FILE *plan = fopen(plan_path, "r");
  if (!plan) {
    fprintf(stderr, "duckdb_floor: cannot read %s\n", plan_path);
    return -1;
  }
  /* The plan is read whole before DuckDB opens (it is small). */
  typedef struct ftable {
    char *name;
    int64_t rows;
    int ncols;
    floor_col *cols;
  } ftable;
  ftable *tabs = NULL;
  int ntabs = 0;
  uint64_t allcols = 0;
  char line[4096];
  while (fgets(line, sizeof line, plan)) {
    line[strcspn(line, "\n")] = 0;
    char *save = NULL, *kind = strtok_r(line, "\t", &save);
    if (!kind) continue;
    if (!strcmp(kind, "table")) {
      tabs = realloc(tabs, (size_t)(ntabs + 1) * sizeof *tabs);
      ftable *t = &tabs[ntabs++];
      t->name = strdup(strtok_r(NULL, "\t", &save));
      t->rows = strtoll(strtok_r(NULL, "\t", &save), NULL, 10);
      t->ncols = 0;
      t->cols = calloc(FLOOR_MAX_COLUMNS, sizeof *t->cols);
    } else if (!strcmp(kind, "col") && ntabs && tabs[ntabs - 1].ncols < FLOOR_MAX_COLUMNS) {
      floor_col *col = &tabs[ntabs - 1].cols[tabs[ntabs - 1].ncols++];
      col->name = strdup(strtok_r(NULL, "\t", &save));
      col->type = strdup(strtok_r(NULL, "\t", &save));
      col->null_pm = strtol(strtok_r(NULL, "\t", &save), NULL, 10);
      col->len = strtol(strtok_r(NULL, "\t", &save), NULL, 10);
      col->ndistinct = strtol(strtok_r(NULL, "\t", &save), NULL, 10);
      allcols++;
    }
  }
  fclose(plan);
  allcols += (uint64_t)ntabs;
  /* sluice's load memory rule (dest/duckdb_load.c, tune_for_load). */
  uint64_t mb = 16 + allcols * 256 / 1024;
  if (mb < 32) mb = 32;
  if (memory_limit_mb) mb = memory_limit_mb;
  out->memory_limit_mb = (long)mb;
  out->start_kb = sl_progress_status_kb("VmRSS");

  duckdb_database db;
  duckdb_connection c;
  duckdb_config cfg;
  duckdb_create_config(&cfg);
  char opt[32];
  snprintf(opt, sizeof opt, "%" PRIu64 "MB", mb);
  duckdb_set_config(cfg, "memory_limit", opt);
  duckdb_set_config(cfg, "threads", "1");
  int rc = duckdb_open_ext(NULL, &db, cfg, NULL) == DuckDBError ? -1 : 0;
  duckdb_destroy_config(&cfg);
  if (rc) {
    fprintf(stderr, "duckdb_floor: cannot open DuckDB\n");
  } else {
    duckdb_connect(db, &c);
    out->open_kb = sl_progress_status_kb("VmRSS");
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    fputs("ATTACH '", f);
    for (const char *s = db_path; *s; s++) {
      if (*s == '\'') fputc('\'', f);
      fputc(*s, f);
    }
    fprintf(f, "' AS floor_db (ROW_GROUP_SIZE %ld); USE floor_db", row_group_size);
    fputc('\0', f);
    rc = q(c, sql_of(f, &buf), NULL);
    fclose(f);
    free(buf);
    for (int i = 0; i < ntabs && !rc; i++) {
      rc = floor_fill(c, tabs[i].name, tabs[i].rows, tabs[i].cols, tabs[i].ncols);
      out->rows += (uint64_t)tabs[i].rows;
    }
    out->anon_kb = sl_progress_status_kb("RssAnon");
    out->file_kb = sl_progress_status_kb("RssFile");
    duckdb_disconnect(&c);
    duckdb_close(&db);
  }
  for (int i = 0; i < ntabs; i++) {
    for (int k = 0; k < tabs[i].ncols; k++) {
      free(tabs[i].cols[k].name);
      free(tabs[i].cols[k].type);
    }
    free(tabs[i].cols);
    free(tabs[i].name);
  }
  free(tabs);
  out->tables = ntabs;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  out->peak_kb = ru.ru_maxrss;
  return rc;
}
