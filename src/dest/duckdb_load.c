/* Loading a package into DuckDB: every job of the package, the write
 * dispositions (append, replace of a whole table chain, merge by
 * delete-insert or upsert through staging tables), and dlt's _dlt_loads,
 * _dlt_version and _dlt_pipeline_state rows, in ONE transaction for a
 * package of up to rows_per_transaction rows. Killed at any instant, the
 * database has such a package entirely or not at all; a load id already in
 * _dlt_loads is never loaded again.
 *
 * A bigger package is split at job boundaries: DuckDB keeps per-row
 * bookkeeping of a transaction's inserts until COMMIT (~20 bytes a row of
 * heap, see bench/pipeline/README.md), so one transaction would grow with the
 * package. Each intermediate transaction commits its jobs' rows together
 * with one PROGRESS_TABLE row per job (load id, job, staging sequence), so
 * a load resumed after a kill skips exactly the jobs already in and goes on
 * from the same sequence; replace empties the chain in the first
 * transaction only; merges append to staging tables that live until the
 * last transaction, which runs the merges, the system rows, _dlt_loads and
 * removes the load's progress rows. Between two transactions the file is
 * re-attached (sl__ddb_reattach): DuckDB would otherwise keep the metadata of
 * every row group written, and the load would still grow. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dest/duckdb_int.h"
#include "sluice/log.h"
#include "sluice/value.h"

#define SEQ_COL "__sl_seq"  /* staging: load order, for "last row wins" */
#define RN_COL "__sl_rn"
#define KEEP_TABLE "__sl_keep" /* temp: _dlt_id of the root rows a merge keeps */
#define KEEP_PREFIX "__sl_keep_" /* temp, per chain table, when row ids repeat (see below) */
#define PROGRESS_TABLE "_sluice_load_progress" /* jobs committed of a split load */

void sl__crash_point(const char *point); /* SLUICE_TEST_CRASH (src/pipeline/crash.c) */

static const char *const job_folder[] = {"new_jobs", "started_jobs", "completed_jobs", "failed_jobs"};

typedef struct job {
  char *name;
  sl_job_state state; /* the folder it is in */
  char *table;
  uint64_t rows;
  bool done; /* committed by an earlier transaction of this load (PROGRESS_TABLE) */
} job;

typedef struct load_ctx {
  sl_duckdb *d;
  sl_package *pkg;
  sl_schema *schema;
  const sl_load_request *req;
  job *jobs;
  size_t njobs;
  sl_table **roots; /* distinct roots of the jobs' tables, in job order */
  size_t nroots;
  sl_table **chain; /* scratch: a root's descendants */
  bool staging_ready;
  bool resumed;      /* some jobs were committed by an earlier, interrupted, run */
  bool split;        /* this run committed jobs before the last transaction */
  size_t txn_first;  /* first job of the open transaction */
  uint64_t txn_rows; /* rows appended in the open transaction */
  int64_t seq;
  bool sql_failed;
  uint64_t rows;
  double t_append, t_merge; /* seconds, for the log */
} load_ctx;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- SQL building (errors are remembered and reported at exec) -------------------- */

static void S(load_ctx *c, const char *s) {
  if (sl_buf_puts(&c->d->sql, s)) c->sql_failed = true;
}
static void SF(load_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void SF(load_ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (sl_buf_vprintf(&c->d->sql, fmt, ap)) c->sql_failed = true;
  va_end(ap);
}
static void SI(load_ctx *c, const char *ident) {
  if (sl__sql_ident(&c->d->sql, ident)) c->sql_failed = true;
}
static void ST(load_ctx *c, const char *schema, const char *table) {
  if (sl__ddb_name(c->d, &c->d->sql, schema, table)) c->sql_failed = true;
}
static void SA(load_ctx *c, const char *alias, const char *col) { /* alias."col" */
  S(c, alias);
  S(c, ".");
  SI(c, col);
}
static void sql_begin(load_ctx *c) {
  sl_buf_reset(&c->d->sql);
  c->sql_failed = false;
}
static sl_status sql_run(load_ctx *c, sl_error *err) {
  if (c->sql_failed) return sl_error_set(err, SL_NOMEM, "out of memory building SQL");
  return sl__ddb_exec_buf(c->d, err);
}

/* ---- jobs ------------------------------------------------------------------------- */

static void jobs_free(load_ctx *c) {
  for (size_t i = 0; i < c->njobs; i++) {
    free(c->jobs[i].name);
    free(c->jobs[i].table);
  }
  free(c->jobs);
  c->jobs = NULL;
  c->njobs = 0;
}

static void job_path(const load_ctx *c, const job *j, char *out, size_t size) {
  if (sl_package_file_path(c->pkg, job_folder[j->state], j->name, out, size)) out[0] = '\0';
}

/* A job that cannot be loaded goes to failed_jobs with the error beside it. */
static void fail_job(load_ctx *c, job *j, const sl_error *why) {
  char msg[1200];
  sl_error_format(why, msg, sizeof msg);
  sl_error e;
  sl_error_clear(&e);
  if (sl_package_move_job(c->pkg, j->name, j->state, SL_JOB_FAILED, msg, &e) == SL_OK)
    j->state = SL_JOB_FAILED;
  else
    SL_ERROR("cannot move the failed job %s to failed_jobs: %s", j->name, e.msg);
}

static sl_status refuse_failed(load_ctx *c, sl_error *err) {
  char **names = NULL;
  size_t n = 0;
  sl_status st = sl_package_list_jobs(c->pkg, SL_JOB_FAILED, &names, &n, err);
  if (st || n == 0) {
    sl_package_list_free(names, n);
    return st;
  }
  char exc[300], *why = NULL;
  snprintf(exc, sizeof exc, "failed_jobs/%s.exception", names[0]);
  sl_package_read_file(c->pkg, exc, &why, NULL, NULL);
  st = sl_error_set(err, SL_DESTINATION,
                    "package %s has %zu failed job(s) and is not loaded partially; first: %s: %s",
                    sl_package_load_id(c->pkg), n, names[0], why ? why : "(no message)");
  free(why);
  sl_package_list_free(names, n);
  return st;
}

/* Every job of the package (new jobs move to started first), checked for a
 * complete footer before anything touches the database. */
static sl_status gather_jobs(load_ctx *c, sl_error *err) {
  char **names = NULL;
  size_t n = 0;
  sl_status st = sl_package_list_jobs(c->pkg, SL_JOB_NEW, &names, &n, err);
  for (size_t i = 0; i < n && !st; i++)
    st = sl_package_move_job(c->pkg, names[i], SL_JOB_NEW, SL_JOB_STARTED, NULL, err);
  sl_package_list_free(names, n);
  if (st) return st;
  for (int js = SL_JOB_STARTED; js <= SL_JOB_COMPLETED && !st; js++) {
    names = NULL;
    n = 0;
    if ((st = sl_package_list_jobs(c->pkg, (sl_job_state)js, &names, &n, err))) break;
    job *v = realloc(c->jobs, (c->njobs + n + 1) * sizeof *v);
    if (!v) {
      sl_package_list_free(names, n);
      return sl_error_set(err, SL_NOMEM, "out of memory");
    }
    c->jobs = v;
    for (size_t i = 0; i < n; i++) {
      c->jobs[c->njobs++] = (job){names[i], (sl_job_state)js, NULL, 0, false};
      names[i] = NULL;
    }
    sl_package_list_free(names, n);
  }
  if (st) return st;
  for (size_t i = 0; i < c->njobs; i++) {
    job *j = &c->jobs[i];
    char path[4096];
    job_path(c, j, path, sizeof path);
    sl_job_reader *r = sl_job_reader_open(path, err);
    if (!r) {
      st = err && err->code ? err->code : SL_IO;
      if (st != SL_NOMEM) fail_job(c, j, err);
      return st;
    }
    j->table = strdup(sl_job_reader_table(r));
    j->rows = sl_job_reader_row_count(r);
    sl_job_reader_close(r);
    if (!j->table) return sl_error_set(err, SL_NOMEM, "out of memory");
    if (!sl_schema_find_table(c->schema, j->table)) {
      st = sl_error_set(err, SL_SCHEMA, "the job %s is for table %s, which the package schema lacks",
                        path, j->table);
      sl_error_where(err, j->table, NULL);
      return st;
    }
  }
  return SL_OK;
}

/* ---- tables ----------------------------------------------------------------------- */

/* Make schema.table have every column of t and of the job (create or ALTER).
 * Staging tables are made fresh once per load, without NOT NULL, with SEQ_COL. */
static sl_status ensure_table(load_ctx *c, const char *schema, const sl_table *t,
                              const sl_job_column *jc, size_t njc, bool staging,
                              sl__ddb_table **out, sl_error *err) {
  sl__ddb_table *dt;
  sl_status st = sl__ddb_table_get(c->d, schema, t->name, &dt, err);
  if (st) return st;
  if (out) *out = dt;
  char type[64];
  size_t ncreate = njc;
  for (size_t i = 0; i < t->ncolumns; i++) ncreate += !t->columns[i].incomplete;
  if (ncreate == 0) return SL_OK; /* no column with a type yet: nothing to create */
  if (!dt->exists || (staging && !dt->fresh && !c->resumed)) {
    /* Columns: the schema's (in its order), then job columns it lacks. */
    sql_begin(c);
    S(c, staging ? "CREATE OR REPLACE TABLE " : "CREATE TABLE ");
    ST(c, schema, t->name);
    S(c, " (");
    sl__nameset_free(&dt->cols);
    for (size_t i = 0; i < dt->norder; i++) free(dt->order[i]);
    dt->norder = 0;
    bool first = true;
    for (size_t i = 0; i < t->ncolumns + njc; i++) {
      const char *name = i < t->ncolumns ? t->columns[i].name : jc[i - t->ncolumns].name;
      if (i < t->ncolumns && t->columns[i].incomplete) continue; /* no type yet: not created */
      if (sl__nameset_has(&dt->cols, name)) continue;
      if (i < t->ncolumns) {
        const sl_column *col = &t->columns[i];
        sl__ddb_type_sql(col->type, col->precision, col->scale, type, sizeof type);
      } else {
        sl__ddb_type_sql(jc[i - t->ncolumns].type, 0, 0, type, sizeof type);
      }
      if (!first) S(c, ", ");
      first = false;
      SI(c, name);
      SF(c, " %s", type);
      if (!staging && i < t->ncolumns && !t->columns[i].nullable) S(c, " NOT NULL");
      if (sl__ddb_table_add_col(dt, name)) return sl_error_set(err, SL_NOMEM, "out of memory");
    }
    if (staging) {
      if (!first) S(c, ", ");
      SI(c, SEQ_COL);
      S(c, " BIGINT");
    }
    S(c, ")");
    if ((st = sql_run(c, err))) {
      sl_error_where(err, t->name, NULL);
      return st;
    }
    if (staging && sl__ddb_table_add_col(dt, SEQ_COL)) return sl_error_set(err, SL_NOMEM, "out of memory");
    dt->exists = true;
    dt->fresh = staging;
    return SL_OK;
  }
  /* Existing table (a resumed load's staging table too): add what it lacks.
   * NOT NULL cannot be added to a column of existing rows, so new columns
   * are nullable (as dlt does). */
  if (staging) dt->fresh = true;
  for (size_t i = 0; i < t->ncolumns + njc; i++) {
    const char *name = i < t->ncolumns ? t->columns[i].name : jc[i - t->ncolumns].name;
    if (i < t->ncolumns && t->columns[i].incomplete) continue;
    if (sl__nameset_has(&dt->cols, name)) continue;
    if (i < t->ncolumns)
      sl__ddb_type_sql(t->columns[i].type, t->columns[i].precision, t->columns[i].scale, type, sizeof type);
    else
      sl__ddb_type_sql(jc[i - t->ncolumns].type, 0, 0, type, sizeof type);
    sql_begin(c);
    S(c, "ALTER TABLE ");
    ST(c, schema, t->name);
    S(c, " ADD COLUMN ");
    SI(c, name);
    SF(c, " %s", type);
    if ((st = sql_run(c, err))) {
      sl_error_where(err, t->name, name);
      return st;
    }
    if (sl__ddb_table_add_col(dt, name)) return sl_error_set(err, SL_NOMEM, "out of memory");
  }
  return SL_OK;
}

static sl__ddb_table *cached(load_ctx *c, const char *schema, const char *name) {
  for (size_t i = 0; i < c->d->ntables; i++) {
    sl__ddb_table *t = c->d->tables[i];
    if (!strcmp(t->schema, schema) && !strcmp(t->name, name)) return t;
  }
  return NULL;
}

/* The root and its descendants; returns the count written into c->chain. */
static size_t chain_of(load_ctx *c, sl_table *root) {
  c->chain[0] = root;
  return 1 + sl_schema_descendants(c->schema, root, c->chain + 1, c->schema->ntables);
}

static bool is_merge(const sl_table *root) { return root->write_disposition == SL_WD_MERGE; }

/* ---- dispositions ------------------------------------------------------------------ */

static sl_status replace_chain(load_ctx *c, sl_table *root, sl_error *err) {
  size_t n = chain_of(c, root);
  /* New columns first: DuckDB fails the COMMIT of a transaction that ALTERs
   * a table after deleting from it ("another transaction has altered this
   * table"), and the jobs' ALTERs come after this DELETE. */
  for (size_t i = 0; i < n; i++) {
    sl__ddb_table *dt;
    sl_status st = sl__ddb_table_get(c->d, c->d->base.dataset, c->chain[i]->name, &dt, err);
    if (!st && dt->exists) st = ensure_table(c, c->d->base.dataset, c->chain[i], NULL, 0, false, NULL, err);
    if (st) return st;
  }
  for (size_t i = 0; i < n; i++) {
    sl__ddb_table *dt;
    sl_status st = sl__ddb_table_get(c->d, c->d->base.dataset, c->chain[i]->name, &dt, err);
    if (st) return st;
    if (!dt->exists) continue;
    sql_begin(c);
    S(c, "DELETE FROM ");
    ST(c, c->d->base.dataset, c->chain[i]->name);
    if ((st = sql_run(c, err))) {
      sl_error_where(err, c->chain[i]->name, NULL);
      return st;
    }
  }
  return SL_OK;
}

/* Column roles on the root table of a merge. */
typedef struct merge_cols {
  const sl_column *pk[32], *mk[32];
  size_t npk, nmk;
  const sl_column *hard_delete, *dedup_sort;
} merge_cols;

static void merge_cols_of(const sl_table *root, merge_cols *m) {
  memset(m, 0, sizeof *m);
  for (size_t i = 0; i < root->ncolumns; i++) {
    const sl_column *col = &root->columns[i];
    if (col->incomplete) continue;
    if (col->primary_key && m->npk < 32) m->pk[m->npk++] = col;
    if (col->merge_key && m->nmk < 32) m->mk[m->nmk++] = col;
    if (col->hard_delete && !m->hard_delete) m->hard_delete = col;
    if (col->dedup_sort && !m->dedup_sort) m->dedup_sort = col;
  }
}

static void keys_equal(load_ctx *c, const sl_column *const *k, size_t n) {
  S(c, "(");
  for (size_t i = 0; i < n; i++) {
    if (i) S(c, " AND ");
    SA(c, "d", k[i]->name);
    S(c, " = ");
    SA(c, "s", k[i]->name);
  }
  S(c, ")");
}

/* dlt: a primary key match OR a merge key match. */
static void key_cond(load_ctx *c, const merge_cols *m, bool with_merge_key) {
  S(c, "(");
  if (m->npk) keys_equal(c, m->pk, m->npk);
  if (m->npk && m->nmk && with_merge_key) S(c, " OR ");
  if (m->nmk && with_merge_key) keys_equal(c, m->mk, m->nmk);
  S(c, ")");
}

/* dlt: a bool hard_delete column deletes when true, any other type when not NULL. */
static void deleted(load_ctx *c, const merge_cols *m, const char *alias, bool yes) {
  if (!m->hard_delete) {
    S(c, yes ? "FALSE" : "TRUE");
    return;
  }
  S(c, "(");
  SA(c, alias, m->hard_delete->name);
  if (m->hard_delete->type == SL_T_BOOL)
    S(c, yes ? " IS TRUE)" : " IS NOT TRUE)");
  else
    S(c, yes ? " IS NOT NULL)" : " IS NULL)");
}

/* The staging rows of the root that survive dedup (the last of each primary
 * key, or the first by dedup_sort), hard deletes included. Aliased s. */
static void deduped_root(load_ctx *c, const merge_cols *m, const char *root) {
  const char *stg = c->d->staging;
  if (!m->npk) {
    S(c, "(SELECT * FROM ");
    ST(c, stg, root);
    S(c, ") AS s");
    return;
  }
  S(c, "(SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY ");
  for (size_t i = 0; i < m->npk; i++) {
    if (i) S(c, ", ");
    SI(c, m->pk[i]->name);
  }
  S(c, " ORDER BY ");
  if (m->dedup_sort) {
    SI(c, m->dedup_sort->name);
    S(c, m->dedup_sort->dedup_sort < 0 ? " DESC NULLS LAST, " : " ASC NULLS LAST, ");
  }
  SI(c, SEQ_COL);
  S(c, " DESC) AS ");
  SI(c, RN_COL);
  S(c, " FROM ");
  ST(c, stg, root);
  S(c, ") WHERE ");
  SI(c, RN_COL);
  S(c, " = 1) AS s");
}

static void column_list(load_ctx *c, const sl__ddb_table *stg, const char *alias) {
  bool first = true;
  for (size_t i = 0; i < stg->norder; i++) {
    if (!strcmp(stg->order[i], SEQ_COL)) continue;
    if (!first) S(c, ", ");
    first = false;
    if (alias) SA(c, alias, stg->order[i]);
    else SI(c, stg->order[i]);
  }
}

static sl_status need_column(const sl__ddb_table *t, const char *col, const char *why, sl_error *err) {
  if (sl__nameset_has(&t->cols, col)) return SL_OK;
  sl_error_set(err, SL_SCHEMA, "table %s has no column %s, which %s needs", t->name, col, why);
  sl_error_where(err, t->name, col);
  return SL_SCHEMA;
}

/* Starts "INSERT INTO dataset.name (cols) SELECT cols FROM staging.name";
 * the caller adds the WHERE and the ORDER BY. */
static void insert_from_staging(load_ctx *c, const char *name, const sl__ddb_table *sc) {
  sql_begin(c);
  S(c, "INSERT INTO ");
  ST(c, c->d->base.dataset, name);
  S(c, " (");
  column_list(c, sc, NULL);
  S(c, ") SELECT ");
  column_list(c, sc, NULL);
  S(c, " FROM ");
  ST(c, c->d->staging, name);
}

/* The staged rows of a child table into the dataset: all of them, or only
 * those whose root the merge keeps (KEEP_TABLE). */
static sl_status insert_staged_child(load_ctx *c, const char *name, bool kept_roots_only,
                                     sl_error *err) {
  sl__ddb_table *sc = cached(c, c->d->staging, name);
  if (!sc || !sc->fresh) return SL_OK;
  sl_status st;
  if (kept_roots_only && (st = need_column(sc, "_dlt_root_id", "a merge of its root table", err)))
    return st;
  insert_from_staging(c, name, sc);
  if (kept_roots_only) S(c, " WHERE \"_dlt_root_id\" IN (SELECT \"_dlt_id\" FROM " KEEP_TABLE ")");
  /* Rows land in the order they were extracted, whatever order the plan makes. */
  S(c, " ORDER BY ");
  SI(c, SEQ_COL);
  if ((st = sql_run(c, err))) sl_error_where(err, name, NULL);
  return st;
}

/* ---- merges where row ids repeat ----------------------------------------------------
 * Upsert ids come from the primary key, so the rows of a key that repeats in
 * one load share their _dlt_id, and their children share parent ids and ids
 * too (dlt hashes parent id, table and list index). "root_id IN the kept
 * roots" would then take the children of every repeat. Instead each staged
 * row is told apart as the k-th occurrence of its _dlt_id (in load order),
 * and a child row is matched to an occurrence of its parent: the rows under
 * one parent id form runs of rising _dlt_list_idx, one run per parent row
 * that had a list. When there are as many runs as parent occurrences the
 * match is exact. With fewer (some repeat had an empty list) the job files
 * cannot say which repeat a run came from — {"k":[1]} then {} stages the
 * same rows as {} then {"k":[1]} — and the runs are taken as the last
 * repeats' (kept rather than dropped), with a warning. */

static void keep_name(load_ctx *c, size_t i) { SF(c, "\"" KEEP_PREFIX "%zu\"", i); }

/* Staged rows of chain[0] as KEEP_PREFIX0 (id, occ, seq, keep, p, runs, n):
 * keep marks the root rows the merge keeps (deduped, not deleted). */
static sl_status keep_root_rows(load_ctx *c, const merge_cols *m, const char *root, sl_error *err) {
  sql_begin(c);
  S(c, "CREATE OR REPLACE TEMP TABLE ");
  keep_name(c, 0);
  S(c, " AS SELECT \"_dlt_id\" AS id, row_number() OVER (PARTITION BY \"_dlt_id\" ORDER BY ");
  SI(c, SEQ_COL);
  S(c, ") AS occ, ");
  SI(c, SEQ_COL);
  S(c, " AS seq, ");
  SI(c, SEQ_COL);
  S(c, " IN (SELECT s.");
  SI(c, SEQ_COL);
  S(c, " FROM ");
  deduped_root(c, m, root);
  S(c, " WHERE ");
  deleted(c, m, "s", false);
  S(c, ") AS keep, NULL AS p, 0 AS runs, 0 AS n FROM ");
  ST(c, c->d->staging, root);
  return sql_run(c, err);
}

/* Staged rows of chain[i] as KEEP_PREFIX<i>, matched to the occurrences of
 * their parent p (chain[pi], already done); runs and n: p's runs of rows here
 * and its occurrences, for the warning. */
static sl_status keep_child_rows(load_ctx *c, size_t i, size_t pi, sl_error *err) {
  const char *name = c->chain[i]->name;
  sl__ddb_table *sc = cached(c, c->d->staging, name);
  sl_status st = need_column(sc, "_dlt_root_id", "a merge of its root table", err);
  if (st) return st;
  bool linked = pi != (size_t)-1 && sl__nameset_has(&sc->cols, "_dlt_parent_id") &&
                sl__nameset_has(&sc->cols, "_dlt_list_idx");
  sql_begin(c);
  S(c, "CREATE OR REPLACE TEMP TABLE ");
  keep_name(c, i);
  if (!linked) {
    /* Rows that carry their own ids (no parent link) or a parent with no
     * staged rows: kept with their root, as when no id repeats. */
    S(c, " AS SELECT \"_dlt_id\" AS id, row_number() OVER (PARTITION BY \"_dlt_id\" ORDER BY ");
    SI(c, SEQ_COL);
    S(c, ") AS occ, ");
    SI(c, SEQ_COL);
    S(c, " AS seq, \"_dlt_root_id\" IN (SELECT id FROM ");
    keep_name(c, 0);
    S(c, " WHERE keep) AS keep, NULL AS p, 0 AS runs, 0 AS n FROM ");
    ST(c, c->d->staging, name);
    return sql_run(c, err);
  }
  /* brk starts a run: the first row under a parent id, or a list index that does not rise. */
  S(c, " AS SELECT h.id, h.occ, h.seq, coalesce(k.keep, h.p IS NULL AND h.root IN (SELECT id FROM ");
  keep_name(c, 0);
  S(c, " WHERE keep), false) AS keep, h.p, h.runs, coalesce(po.n, 0) AS n FROM (SELECT *, max(grp) OVER "
       "(PARTITION BY p) AS runs FROM (SELECT *, sum(brk) OVER (PARTITION BY p ORDER BY seq ROWS "
       "UNBOUNDED PRECEDING) AS grp FROM (SELECT \"_dlt_id\" AS id, \"_dlt_parent_id\" AS p, "
       "\"_dlt_root_id\" AS root, ");
  SI(c, SEQ_COL);
  S(c, " AS seq, row_number() OVER (PARTITION BY \"_dlt_id\" ORDER BY ");
  SI(c, SEQ_COL);
  S(c, ") AS occ, CASE WHEN \"_dlt_list_idx\" > lag(\"_dlt_list_idx\") OVER (PARTITION BY "
       "\"_dlt_parent_id\" ORDER BY ");
  SI(c, SEQ_COL);
  S(c, ") THEN 0 ELSE 1 END AS brk FROM ");
  ST(c, c->d->staging, name);
  S(c, ") AS a) AS b) AS h LEFT JOIN (SELECT id, max(occ) AS n FROM ");
  keep_name(c, pi);
  S(c, " GROUP BY id) AS po ON po.id = h.p LEFT JOIN ");
  keep_name(c, pi);
  /* the runs belong to the last occurrences of the parent (all of them when as many) */
  S(c, " AS k ON k.id = h.p AND k.occ = h.grp + po.n - h.runs");
  if ((st = sql_run(c, err))) return st;
  char *amb = NULL;
  sql_begin(c);
  S(c, "SELECT count(DISTINCT p) FROM ");
  keep_name(c, i);
  S(c, " WHERE runs < n");
  if (c->sql_failed) return sl_error_set(err, SL_NOMEM, "out of memory building SQL");
  if ((st = sl__ddb_run(c->d, c->d->sql.data, NULL, 0, &amb, err))) return st;
  if (amb && strcmp(amb, "0") != 0)
    SL_WARN("merge into %s: %s parent row id(s) repeat in load %s (an upsert key given more than once) "
            "and only some of the repeats have rows in this table; those rows are kept as the latest "
            "repeats', though they may come from an earlier one",
            name, amb, c->req->load_id);
  free(amb);
  return SL_OK;
}

/* Step 4 of merge_chain when _dlt_id values repeat in the staged root. */
static sl_status insert_kept_children(load_ctx *c, const merge_cols *m, const char *root, size_t n,
                                      sl_error *err) {
  sl_status st = keep_root_rows(c, m, root, err);
  for (size_t i = 1; i < n && !st; i++) {
    const char *name = c->chain[i]->name;
    sl__ddb_table *sc = cached(c, c->d->staging, name);
    if (!sc || !sc->fresh) continue;
    size_t pi = (size_t)-1; /* the parent's index in the chain, when it has staged rows */
    for (size_t k = 0; k < i; k++) {
      sl__ddb_table *ps = cached(c, c->d->staging, c->chain[k]->name);
      if (!strcmp(c->chain[k]->name, c->chain[i]->parent) && ps && ps->fresh) pi = k;
    }
    if ((st = keep_child_rows(c, i, pi, err))) break;
    insert_from_staging(c, name, sc);
    S(c, " WHERE ");
    SI(c, SEQ_COL);
    S(c, " IN (SELECT seq FROM ");
    keep_name(c, i);
    S(c, " WHERE keep) ORDER BY ");
    SI(c, SEQ_COL);
    if ((st = sql_run(c, err))) sl_error_where(err, name, NULL);
  }
  /* After a failure the transaction is rolled back, and the temp tables with it. */
  for (size_t i = 0; i < n && !st; i++) {
    sql_begin(c);
    S(c, "DROP TABLE IF EXISTS ");
    keep_name(c, i);
    st = sql_run(c, err);
  }
  return st;
}

/* Whether a _dlt_id repeats among the staged rows of the root. */
static sl_status ids_repeat(load_ctx *c, const char *root, bool *yes, sl_error *err) {
  sql_begin(c);
  S(c, "SELECT count(*) FROM (SELECT 1 FROM ");
  ST(c, c->d->staging, root);
  S(c, " GROUP BY \"_dlt_id\" HAVING count(*) > 1 LIMIT 1)");
  if (c->sql_failed) return sl_error_set(err, SL_NOMEM, "out of memory building SQL");
  char *v = NULL;
  sl_status st = sl__ddb_run(c->d, c->d->sql.data, NULL, 0, &v, err);
  *yes = !st && v && strcmp(v, "0") != 0;
  free(v);
  return st;
}

/* Delete-insert (dlt's default merge) or upsert of one root and its children. */
static sl_status merge_chain(load_ctx *c, sl_table *root, sl_error *err) {
  const char *ds = c->d->base.dataset, *stg = c->d->staging;
  merge_cols m;
  merge_cols_of(root, &m);
  bool upsert = root->merge_strategy == SL_MERGE_UPSERT;
  size_t n = chain_of(c, root);
  sl__ddb_table *sroot = cached(c, stg, root->name), *droot;
  if (sroot && !sroot->fresh) sroot = NULL; /* no staging table made in this load */
  sl_status st = sl__ddb_table_get(c->d, ds, root->name, &droot, err);
  if (st) return st;
  if (upsert && !m.npk) {
    sl_error_set(err, SL_SCHEMA, "table %s merges by upsert but has no primary key", root->name);
    sl_error_where(err, root->name, NULL);
    return SL_SCHEMA;
  }
  bool keys = m.npk || m.nmk;
  bool children_staged = false;
  for (size_t i = 1; i < n; i++) {
    sl__ddb_table *sc = cached(c, stg, c->chain[i]->name);
    if (sc && sc->fresh) children_staged = true;
  }
  /* 1. Children of the target rows about to be replaced or deleted go first
   *    (found through the roots that still exist). */
  if (keys && sroot && droot->exists && n > 1) {
    if ((st = need_column(droot, "_dlt_id", "a merge with child tables", err))) return st;
    for (size_t i = 1; i < n; i++) {
      sl__ddb_table *dc;
      if ((st = sl__ddb_table_get(c->d, ds, c->chain[i]->name, &dc, err))) return st;
      if (!dc->exists) continue;
      if ((st = need_column(dc, "_dlt_root_id", "a merge of its root table", err))) return st;
      sql_begin(c);
      S(c, "DELETE FROM ");
      ST(c, ds, c->chain[i]->name);
      S(c, " WHERE \"_dlt_root_id\" IN (SELECT d.\"_dlt_id\" FROM ");
      ST(c, ds, root->name);
      S(c, " AS d WHERE EXISTS (SELECT 1 FROM ");
      ST(c, stg, root->name);
      S(c, " AS s WHERE ");
      key_cond(c, &m, !upsert);
      S(c, "))");
      if ((st = sql_run(c, err))) return st;
    }
  }
  if (!sroot) {
    /* Only child rows were staged (no root job): they are appended. */
    for (size_t i = 1; i < n; i++)
      if ((st = insert_staged_child(c, c->chain[i]->name, false, err))) return st;
    return SL_OK;
  }
  /* 2. The root rows this load keeps, when children need them (by id, unless ids repeat). */
  bool repeated = false;
  if (children_staged) {
    if ((st = need_column(sroot, "_dlt_id", "a merge with child tables", err)) ||
        (st = ids_repeat(c, root->name, &repeated, err)))
      return st;
  }
  if (children_staged && !repeated) {
    sql_begin(c);
    S(c, "CREATE OR REPLACE TEMP TABLE " KEEP_TABLE " AS SELECT s.\"_dlt_id\" FROM ");
    deduped_root(c, &m, root->name);
    S(c, " WHERE ");
    deleted(c, &m, "s", false);
    if ((st = sql_run(c, err))) return st;
  }
  /* 3. The root. */
  sql_begin(c);
  if (upsert) {
    S(c, "MERGE INTO ");
    ST(c, ds, root->name);
    S(c, " AS d USING ");
    deduped_root(c, &m, root->name);
    S(c, " ON ");
    key_cond(c, &m, false);
    if (m.hard_delete) {
      S(c, " WHEN MATCHED AND ");
      deleted(c, &m, "s", true);
      S(c, " THEN DELETE");
    }
    S(c, " WHEN MATCHED THEN UPDATE SET ");
    bool first = true;
    for (size_t i = 0; i < sroot->norder; i++) {
      if (!strcmp(sroot->order[i], SEQ_COL)) continue;
      if (!first) S(c, ", ");
      first = false;
      SI(c, sroot->order[i]);
      S(c, " = ");
      SA(c, "s", sroot->order[i]);
    }
    S(c, " WHEN NOT MATCHED AND ");
    deleted(c, &m, "s", false);
    S(c, " THEN INSERT (");
    column_list(c, sroot, NULL);
    S(c, ") VALUES (");
    column_list(c, sroot, "s");
    S(c, ")");
  } else {
    if (keys && droot->exists) {
      S(c, "DELETE FROM ");
      ST(c, ds, root->name);
      S(c, " AS d WHERE EXISTS (SELECT 1 FROM ");
      ST(c, stg, root->name);
      S(c, " AS s WHERE ");
      key_cond(c, &m, true);
      S(c, ")");
      if ((st = sql_run(c, err))) return st;
      sql_begin(c);
    }
    S(c, "INSERT INTO ");
    ST(c, ds, root->name);
    S(c, " (");
    column_list(c, sroot, NULL);
    S(c, ") SELECT ");
    column_list(c, sroot, "s");
    S(c, " FROM ");
    deduped_root(c, &m, root->name);
    S(c, " WHERE ");
    deleted(c, &m, "s", false);
    /* The window of the dedup scrambles the order; the extract order is kept. */
    S(c, " ORDER BY ");
    SA(c, "s", SEQ_COL);
  }
  if ((st = sql_run(c, err))) {
    sl_error_where(err, root->name, NULL);
    return st;
  }
  /* 4. Children of the kept roots. */
  if (children_staged && repeated) return insert_kept_children(c, &m, root->name, n, err);
  for (size_t i = 1; i < n && children_staged; i++)
    if ((st = insert_staged_child(c, c->chain[i]->name, true, err))) return st;
  if (children_staged && (st = sl__ddb_exec(c->d, "DROP TABLE IF EXISTS " KEEP_TABLE, err))) return st;
  return SL_OK;
}

static sl_status drop_staging(load_ctx *c, sl_error *err) {
  for (size_t i = 0; i < c->d->ntables; i++) {
    sl__ddb_table *t = c->d->tables[i];
    if (!t->fresh || strcmp(t->schema, c->d->staging) != 0) continue;
    sql_begin(c);
    S(c, "DROP TABLE IF EXISTS ");
    ST(c, t->schema, t->name);
    sl_status st = sql_run(c, err);
    if (st) return st;
    t->fresh = false;
    t->exists = false;
  }
  return SL_OK;
}

/* ---- system rows --------------------------------------------------------------------- */

static sl_status store_version(load_ctx *c, sl_error *err) {
  const sl_schema *s = c->schema;
  sl_doc *doc = sl_doc_new("schema");
  sl_buf json = {0};
  sl_status st = SL_OK;
  sl_value *v = doc ? sl_schema_to_value(s, doc) : NULL;
  if (!v || sl_v_to_json(v, &json, 0)) {
    st = sl_error_set(err, SL_NOMEM, "cannot serialize schema %s", s->name);
    goto out;
  }
  int64_t engine = sl_v_int_or(sl_v_get(v, "engine_version"), 0);
  const char *ds = c->d->base.dataset;
  sql_begin(c);
  S(c, "INSERT INTO ");
  ST(c, ds, "_dlt_version");
  S(c, " (\"version\", \"engine_version\", \"inserted_at\", \"schema_name\", \"version_hash\", "
       "\"schema\") SELECT ?, ?, now(), ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM ");
  ST(c, ds, "_dlt_version");
  S(c, " WHERE \"version_hash\" = ? AND \"schema_name\" = ?)");
  if (c->sql_failed) {
    st = sl_error_set(err, SL_NOMEM, "out of memory building SQL");
    goto out;
  }
  sl__ddb_param p[] = {SL_PI(s->version),       SL_PI(engine),   SL_PS(s->name),
                       SL_PS(s->version_hash),  SL_PS(json.data), SL_PS(s->version_hash),
                       SL_PS(s->name)};
  st = sl__ddb_run(c->d, c->d->sql.data, p, sizeof p / sizeof *p, NULL, err);
out:
  sl_buf_free(&json);
  sl_doc_free(doc);
  return st;
}

static sl_status store_state(load_ctx *c, sl_error *err) {
  const char *json = c->req->state_json;
  sl_buf enc = {0};
  if (sl__dest_state_encode(json, strlen(json), &enc))
    return sl_error_set(err, SL_NOMEM, "cannot compress the pipeline state");
  char id[16];
  sl__dest_random_id(id);
  sql_begin(c);
  S(c, "INSERT INTO ");
  ST(c, c->d->base.dataset, "_dlt_pipeline_state");
  /* dlt's columns, read off the state's own version fields. */
  S(c, " (\"version\", \"engine_version\", \"pipeline_name\", \"state\", \"created_at\", "
       "\"version_hash\", \"_dlt_load_id\", \"_dlt_id\") SELECT "
       "COALESCE(TRY_CAST(json_extract_string(j, '$._state_version') AS BIGINT), 0), "
       "COALESCE(TRY_CAST(json_extract_string(j, '$._state_engine_version') AS BIGINT), 4), "
       "?, ?, now(), json_extract_string(j, '$._version_hash'), ?, ? "
       "FROM (SELECT CAST(? AS VARCHAR) AS j)");
  sl_status st;
  if (c->sql_failed) {
    st = sl_error_set(err, SL_NOMEM, "out of memory building SQL");
  } else {
    sl__ddb_param p[] = {SL_PS(c->req->pipeline_name ? c->req->pipeline_name : ""),
                         SL_PS(enc.data), SL_PS(c->req->load_id), SL_PS(id), SL_PS(json)};
    st = sl__ddb_run(c->d, c->d->sql.data, p, sizeof p / sizeof *p, NULL, err);
  }
  sl_buf_free(&enc);
  return st;
}

static sl_status store_load(load_ctx *c, sl_error *err) {
  sql_begin(c);
  S(c, "INSERT INTO ");
  ST(c, c->d->base.dataset, "_dlt_loads");
  S(c, " (\"load_id\", \"schema_name\", \"status\", \"inserted_at\", \"schema_version_hash\") "
       "VALUES (?, ?, 0, now(), ?)");
  if (c->sql_failed) return sl_error_set(err, SL_NOMEM, "out of memory building SQL");
  sl__ddb_param p[] = {SL_PS(c->req->load_id), SL_PS(c->schema->name), SL_PS(c->schema->version_hash)};
  return sl__ddb_run(c->d, c->d->sql.data, p, 3, NULL, err);
}

/* ---- the package ---------------------------------------------------------------------- */

/* A load's memory, unless the destination was opened with a memory_limit or
 * threads: DuckDB's default limit (80% of RAM) lets its buffer pool keep
 * every block a large load writes, so peak RSS grew with the package (2.6 GB
 * at 10 M pins records). With a limit it evicts them and spills what the
 * open transaction holds to the temp directory beside the database; the
 * appends need one 256 KiB block per column of the table being appended
 * pinned (a 42-column table failed at 20 MB, loads at 32 MB), hence the
 * per-column share: one block's worth. The limit is also what DuckDB's
 * buffer pool fills before it evicts, so each KiB of slack here is a KiB of
 * peak RSS (bench/pipeline, 200 k pins records, 5 tables: 384 KiB a column
 * gave 43 MB and a 96.5 MB peak; 32 MB gave 87.4 MB). One thread: the appender runs on the
 * caller's thread anyway, and every extra DuckDB thread keeps its own
 * allocator caches (~15-20 MB at the peak of a pins load). */
#define LOAD_MEMORY_BASE_MB 16
#define LOAD_MEMORY_PER_COLUMN_KB 256
#define LOAD_MEMORY_MIN_MB 32

static sl_status tune_for_load(sl_duckdb *d, const sl_schema *schema, sl_error *err) {
  char sql[96];
  sl_status st = SL_OK;
  if (!d->memory_limit_mb) {
    /* Every table a transaction appends to keeps its own partly filled row
     * group pinned, so the share is summed over the schema's tables (a
     * Pinterest package has ~100): the limit grows with the schema, never
     * with the number of rows. Raised again when a later load of the same
     * connection brings a bigger schema (a pending package, then a new one). */
    uint64_t cols = 0;
    for (size_t i = 0; i < schema->ntables; i++) cols += schema->tables[i]->ncolumns + 1;
    uint64_t mb = LOAD_MEMORY_BASE_MB + cols * LOAD_MEMORY_PER_COLUMN_KB / 1024;
    if (mb < LOAD_MEMORY_MIN_MB) mb = LOAD_MEMORY_MIN_MB;
    mb <<= d->load_memory_boost;
    if (mb > d->load_memory_mb) {
      snprintf(sql, sizeof sql, "SET memory_limit = '%lluMB'", (unsigned long long)mb);
      SL_DEBUG("load: memory_limit %llu MB for %zu tables of %llu columns in all",
               (unsigned long long)mb, schema->ntables, (unsigned long long)cols);
      st = sl__ddb_exec(d, sql, err);
      if (!st) d->load_memory_mb = mb;
    }
  }
  if (!st && !d->threads && !d->load_tuned) st = sl__ddb_exec(d, "SET threads = 1", err);
  if (!st) d->load_tuned = true;
  return st;
}

/* ---- a load in several transactions ------------------------------------------------- */

/* The jobs an interrupted run of this load committed, and where the staging
 * sequence stood; their staging tables are this load's (kept, not remade). */
static sl_status read_progress(load_ctx *c, sl_error *err) {
  sl__ddb_table *pt;
  sl_status st = sl__ddb_table_get(c->d, c->d->base.dataset, PROGRESS_TABLE, &pt, err);
  if (st || !pt->exists) return st;
  char *jobs = NULL, *seq = NULL;
  sl__ddb_param p[] = {SL_PS(c->req->load_id)};
  sql_begin(c);
  S(c, "SELECT string_agg(\"job\", chr(10)) FROM ");
  ST(c, c->d->base.dataset, PROGRESS_TABLE);
  S(c, " WHERE \"load_id\" = ?");
  if (c->sql_failed) return sl_error_set(err, SL_NOMEM, "out of memory building SQL");
  if ((st = sl__ddb_run(c->d, c->d->sql.data, p, 1, &jobs, err))) return st;
  if (!jobs || !*jobs) {
    free(jobs);
    return SL_OK;
  }
  sql_begin(c);
  S(c, "SELECT CAST(max(\"seq\") AS BIGINT) FROM ");
  ST(c, c->d->base.dataset, PROGRESS_TABLE);
  S(c, " WHERE \"load_id\" = ?");
  if (c->sql_failed) st = sl_error_set(err, SL_NOMEM, "out of memory building SQL");
  if (!st) st = sl__ddb_run(c->d, c->d->sql.data, p, 1, &seq, err);
  if (!st) {
    c->resumed = true;
    c->seq = seq ? strtoll(seq, NULL, 10) : 0;
    size_t ndone = 0;
    for (char *line = jobs, *next; line && *line; line = next) {
      next = strchr(line, '\n');
      if (next) *next++ = '\0';
      for (size_t i = 0; i < c->njobs; i++)
        if (!c->jobs[i].done && !strcmp(c->jobs[i].name, line)) c->jobs[i].done = true, ndone++;
    }
    SL_INFO("package %s was partly loaded by an earlier run: %zu of its %zu jobs are in; loading the rest",
            c->req->load_id, ndone, c->njobs);
    /* Every staging table of the package's merge chains holds this load's rows. */
    for (size_t i = 0; i < c->nroots && !st; i++) {
      if (!is_merge(c->roots[i]) || sl_table_is_system(c->roots[i])) continue;
      size_t n = chain_of(c, c->roots[i]);
      for (size_t k = 0; k < n && !st; k++) {
        sl__ddb_table *dt;
        st = sl__ddb_table_get(c->d, c->d->staging, c->chain[k]->name, &dt, err);
        if (!st && dt->exists) dt->fresh = true;
      }
    }
  }
  free(jobs);
  free(seq);
  return st;
}

/* Commit the open transaction's jobs with their progress rows, and open the next. */
static sl_status commit_part(load_ctx *c, size_t upto, sl_error *err) {
  sl_status st;
  if (!c->split && !c->resumed) {
    sql_begin(c);
    S(c, "CREATE TABLE IF NOT EXISTS ");
    ST(c, c->d->base.dataset, PROGRESS_TABLE);
    S(c, " (\"load_id\" VARCHAR NOT NULL, \"job\" VARCHAR NOT NULL, \"seq\" BIGINT NOT NULL, "
         "\"inserted_at\" TIMESTAMP WITH TIME ZONE NOT NULL)");
    if ((st = sql_run(c, err))) return st;
  }
  for (size_t i = c->txn_first; i < upto; i++) {
    if (c->jobs[i].done) continue;
    sql_begin(c);
    S(c, "INSERT INTO ");
    ST(c, c->d->base.dataset, PROGRESS_TABLE);
    S(c, " VALUES (?, ?, ?, now())");
    if (c->sql_failed) return sl_error_set(err, SL_NOMEM, "out of memory building SQL");
    sl__ddb_param p[] = {SL_PS(c->req->load_id), SL_PS(c->jobs[i].name), SL_PI(c->seq)};
    if ((st = sl__ddb_run(c->d, c->d->sql.data, p, 3, NULL, err))) return st;
  }
  sl__ddb_memtrace(c->d, "part-commit", c->rows);
  if ((st = sl__ddb_exec(c->d, "COMMIT", err))) return st;
  sl__crash_point("load_part");
  SL_DEBUG("package %s: jobs %zu-%zu committed (%llu rows); %zu more to load", c->req->load_id,
           c->txn_first + 1, upto, (unsigned long long)c->txn_rows, c->njobs - upto);
  c->split = true;
  c->txn_first = upto;
  c->txn_rows = 0;
  if ((st = sl__ddb_reattach(c->d, err))) return st;
  sl__ddb_memtrace(c->d, "reattached", c->rows);
  return sl__ddb_exec(c->d, "BEGIN TRANSACTION", err);
}

/* In the last transaction: the load's progress rows go, and the table when empty. */
static sl_status end_progress(load_ctx *c, sl_error *err) {
  if (!c->split && !c->resumed) return SL_OK;
  sql_begin(c);
  S(c, "DELETE FROM ");
  ST(c, c->d->base.dataset, PROGRESS_TABLE);
  S(c, " WHERE \"load_id\" = ?");
  if (c->sql_failed) return sl_error_set(err, SL_NOMEM, "out of memory building SQL");
  sl__ddb_param p[] = {SL_PS(c->req->load_id)};
  char *left = NULL;
  sl_status st = sl__ddb_run(c->d, c->d->sql.data, p, 1, NULL, err);
  if (!st) {
    sql_begin(c);
    S(c, "SELECT CAST(count(*) AS BIGINT) FROM ");
    ST(c, c->d->base.dataset, PROGRESS_TABLE);
    st = c->sql_failed ? sl_error_set(err, SL_NOMEM, "out of memory building SQL")
                       : sl__ddb_run(c->d, c->d->sql.data, NULL, 0, &left, err);
  }
  if (!st && left && !strcmp(left, "0")) {
    sql_begin(c);
    S(c, "DROP TABLE ");
    ST(c, c->d->base.dataset, PROGRESS_TABLE);
    st = sql_run(c, err);
  }
  free(left);
  return st;
}

static sl_status load_jobs(load_ctx *c, sl_error *err) {
  const char *ds = c->d->base.dataset;
  sl_status st;
  sql_begin(c);
  S(c, "CREATE SCHEMA IF NOT EXISTS ");
  ST(c, ds, NULL);
  if ((st = sql_run(c, err)) || (st = sl__ddb_create_system_tables(c->d, err))) return st;
  /* Roots first: replace empties whole chains before any row arrives (once:
   * a resumed load did it in its first transaction). */
  for (size_t i = 0; i < c->nroots; i++) {
    sl_table *root = c->roots[i];
    if (root->write_disposition == SL_WD_REPLACE && !sl_table_is_system(root)) {
      if (c->resumed) continue;
      if ((st = replace_chain(c, root, err))) return st;
    } else if (is_merge(root) && !c->staging_ready) {
      sql_begin(c);
      S(c, "CREATE SCHEMA IF NOT EXISTS ");
      ST(c, c->d->staging, NULL);
      if ((st = sql_run(c, err))) return st;
      c->staging_ready = true;
    }
  }
  for (size_t i = 0; i < c->njobs; i++) {
    job *j = &c->jobs[i];
    if (j->done) continue;
    if (c->txn_rows >= c->d->txn_rows && (st = commit_part(c, i, err))) return st;
    sl_table *t = sl_schema_find_table(c->schema, j->table);
    sl_table *root = sl_schema_root_of(c->schema, t);
    bool staged = is_merge(root) && !sl_table_is_system(root);
    char path[4096];
    job_path(c, j, path, sizeof path);
    sl_job_reader *r = sl_job_reader_open(path, err);
    if (!r) {
      st = err && err->code ? err->code : SL_IO;
      if (st != SL_NOMEM) fail_job(c, j, err);
      return st;
    }
    const sl_job_column *jc;
    size_t njc = sl_job_reader_columns(r, &jc);
    st = ensure_table(c, ds, t, jc, njc, false, NULL, err);
    if (!st && staged) st = ensure_table(c, c->d->staging, t, jc, njc, true, NULL, err);
    bool terminal = false;
    uint64_t rows = 0;
    double t0 = now_s();
    if (!st)
      st = sl__ddb_append_job(c->d, r, staged ? c->d->staging : ds, t->name, staged ? SEQ_COL : NULL,
                              &c->seq, &rows, &terminal, err);
    sl_job_reader_close(r);
    if (st) {
      if (terminal) fail_job(c, j, err);
      return st;
    }
    c->t_append += now_s() - t0;
    sl__crash_point("ddb_job");
    c->rows += rows;
    c->txn_rows += rows;
    sl__ddb_memtrace(c->d, t->name, c->rows);
    SL_DEBUG("loaded %llu rows of %s into %s.%s", (unsigned long long)rows, j->name,
             staged ? c->d->staging : ds, t->name);
  }
  double t0 = now_s();
  for (size_t i = 0; i < c->nroots; i++)
    if (is_merge(c->roots[i]) && !sl_table_is_system(c->roots[i]) &&
        (st = merge_chain(c, c->roots[i], err)))
      return st;
  c->t_merge = now_s() - t0;
  if ((st = drop_staging(c, err))) return st;
  if (c->req->schema_changed && (st = store_version(c, err))) return st;
  if (c->req->state_json && (st = store_state(c, err))) return st;
  if ((st = end_progress(c, err))) return st;
  return store_load(c, err);
}

static sl_status complete_jobs(sl_package *pkg, sl_error *err) {
  sl_status st = SL_OK;
  for (int js = SL_JOB_NEW; js <= SL_JOB_STARTED && !st; js++) {
    char **names = NULL;
    size_t n = 0;
    if ((st = sl_package_list_jobs(pkg, (sl_job_state)js, &names, &n, err))) break;
    for (size_t i = 0; i < n && !st; i++)
      st = sl_package_move_job(pkg, names[i], (sl_job_state)js, SL_JOB_COMPLETED, NULL, err);
    sl_package_list_free(names, n);
  }
  return st;
}

static sl_status load_package_once(sl_dest *dst, sl_package *pkg, sl_schema *schema,
                                   const sl_load_request *req, sl_error *err);

/* DuckDB's error for a memory_limit too small for the statement. */
static bool out_of_memory(const sl_error *err) {
  return err && (strstr(err->msg, "Out of Memory") || strstr(err->msg, "memory limit"));
}

/* The memory_limit a load sets is an estimate (COMMIT into existing wide
 * tables pins a block per column of each side); when DuckDB finds it too
 * small, the transaction is rolled back and the load is retried with twice
 * the limit, up to 8 times it. A limit the user configured is never raised. */
sl_status sl__ddb_load_package(sl_dest *dst, sl_package *pkg, sl_schema *schema,
                               const sl_load_request *req, sl_error *err) {
  sl_duckdb *d = (sl_duckdb *)dst;
  for (;;) {
    sl_status st = load_package_once(dst, pkg, schema, req, err);
    if (!st || d->memory_limit_mb || d->load_memory_boost >= 3 || !out_of_memory(err)) return st;
    d->load_memory_boost++;
    SL_WARN("package %s: DuckDB ran out of its memory_limit; loading again with %u times the limit",
            req->load_id, 1u << d->load_memory_boost);
    sl_error_clear(err);
  }
}

static sl_status load_package_once(sl_dest *dst, sl_package *pkg, sl_schema *schema,
                                   const sl_load_request *req, sl_error *err) {
  sl_duckdb *d = (sl_duckdb *)dst;
  if (!pkg || !schema || !req || !req->load_id)
    return sl_error_set(err, SL_INVALID_ARG, "load_package needs a package, a schema and a load id");
  load_ctx c = {.d = d, .pkg = pkg, .schema = schema, .req = req};
  bool loaded = false;
  sl_status st = sl__ddb_is_loaded(dst, req->load_id, &loaded, err);
  if (st) return st;
  if (loaded) {
    /* Committed by an earlier run that died before it could say so locally. */
    SL_INFO("package %s is already in %s._dlt_loads; not loading it again", req->load_id, dst->dataset);
    return complete_jobs(pkg, err);
  }
  if ((st = refuse_failed(&c, err)) || (st = gather_jobs(&c, err))) goto out;
  c.chain = calloc(schema->ntables + 1, sizeof *c.chain);
  c.roots = calloc(c.njobs + 1, sizeof *c.roots);
  if (!c.chain || !c.roots) {
    st = sl_error_set(err, SL_NOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < c.njobs; i++) {
    sl_table *root = sl_schema_root_of(schema, sl_schema_find_table(schema, c.jobs[i].table));
    bool seen = false;
    for (size_t k = 0; k < c.nroots && !seen; k++) seen = c.roots[k] == root;
    if (!seen) c.roots[c.nroots++] = root;
  }
  sl__ddb_cache_clear(d);
  if ((st = read_progress(&c, err)) || (st = tune_for_load(d, schema, err)) ||
      (st = sl__ddb_exec(d, "BEGIN TRANSACTION", err)))
    goto out;
  sl__ddb_memtrace(d, "begin", 0);
  double t0 = now_s();
  st = load_jobs(&c, err);
  double t1 = now_s();
  sl__ddb_memtrace(d, "pre-commit", c.rows);
  if (!st) st = sl__ddb_exec(d, "COMMIT", err);
  if (!st) sl__crash_point("ddb_committed");
  sl__ddb_memtrace(d, "post-commit", c.rows);
  if (!st)
    SL_INFO("package %s: %llu rows from %zu jobs in %.2f s (append %.2f s, merge %.2f s, commit %.2f s)",
            req->load_id, (unsigned long long)c.rows, c.njobs, now_s() - t0, c.t_append, c.t_merge,
            now_s() - t1);
  if (st) {
    sl_error ignore;
    sl__ddb_exec(d, "ROLLBACK", &ignore);
    if (c.split || c.resumed)
      SL_WARN("package %s: the jobs committed before this error stay in and are not loaded again; "
              "the next run loads the rest", req->load_id);
    sl_error_prefix(err, "loading package %s", req->load_id);
  }
  sl__ddb_cache_clear(d);
  if (!st) st = complete_jobs(pkg, err);
out:
  jobs_free(&c);
  free(c.chain);
  free(c.roots);
  return st;
}
