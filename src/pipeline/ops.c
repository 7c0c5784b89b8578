/* Operating a pipeline (sluice/ops.h): info as JSON, traces, load packages,
 * failed jobs, dropping resources, row counts. */
#define _GNU_SOURCE
#include "sluice/ops.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/pipeline_int.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/package.h"
#include "sluice/progress.h"
#include "sluice/rows.h"

static void jstr(sl_buf *b, const char *s) {
  if (!s) {
    sl_buf_puts(b, "null");
    return;
  }
  sl_buf_putc(b, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') sl_buf_printf(b, "\\%c", c);
    else if (c == '\n') sl_buf_puts(b, "\\n");
    else if (c == '\t') sl_buf_puts(b, "\\t");
    else if (c == '\r') sl_buf_puts(b, "\\r");
    else if (c < 0x20) sl_buf_printf(b, "\\u%04x", c);
    else sl_buf_putc(b, (char)c);
  }
  sl_buf_putc(b, '"');
}

/* JSON lines (one object per line, as sl_duckdb_query writes) into an array. */
static void lines_to_array(sl_buf *b, const char *lines) {
  sl_buf_putc(b, '[');
  bool first = true;
  for (const char *s = lines ? lines : ""; *s;) {
    const char *e = strchr(s, '\n');
    size_t l = e ? (size_t)(e - s) : strlen(s);
    if (l) {
      if (!first) sl_buf_putc(b, ',');
      sl_buf_append(b, s, l);
      first = false;
    }
    s += l + (e ? 1 : 0);
  }
  sl_buf_putc(b, ']');
}

sl_status sl_pipeline_row_counts(sl_pipeline *p, sl_table_count **out, size_t *n, sl_error *err) {
  *out = NULL;
  *n = 0;
  if (!p->schema) return SL_OK;
  sl_status st = sl__pipeline_dest(p, false, err);
  if (st) return st;
  st = p->dest->vt->row_counts(p->dest, p->schema, out, n, err);
  sl__pipeline_dest_close(p);
  return st;
}

sl_status sl_pipeline_info_json(sl_pipeline *p, sl_buf *out, sl_error *err) {
  (void)err;
  sl_buf_puts(out, "{\"pipeline_name\":");
  jstr(out, p->name);
  sl_buf_puts(out, ",\"project_dir\":");
  jstr(out, p->project_dir);
  sl_buf_puts(out, ",\"working_dir\":");
  jstr(out, p->working_dir);
  sl_buf_puts(out, ",\"destination\":");
  jstr(out, p->destination);
  sl_buf_puts(out, ",\"duckdb_path\":");
  jstr(out, p->duckdb_path);
  sl_buf_puts(out, ",\"dataset_name\":");
  jstr(out, p->dataset);
  sl_buf_puts(out, ",\"state\":");
  sl_buf st = {0};
  sl_v_to_json(p->state->root, &st, 0);
  sl_buf_puts(out, st.data ? st.data : "{}");
  sl_buf_free(&st);
  sl_table_count *counts = NULL;
  size_t ncounts = 0;
  sl_error derr;
  sl_error_clear(&derr);
  bool have_dest = sl__pipeline_dest(p, false, &derr) == SL_OK;
  if (have_dest && p->schema &&
      p->dest->vt->row_counts(p->dest, p->schema, &counts, &ncounts, &derr))
    ncounts = 0;
  sl_buf_puts(out, ",\"schema\":");
  if (p->schema) {
    sl_buf_puts(out, "{\"name\":");
    jstr(out, p->schema->name);
    sl_buf_printf(out, ",\"version\":%lld,\"version_hash\":", (long long)p->schema->version);
    jstr(out, p->schema->version_hash);
    sl_buf_puts(out, "}");
  } else {
    sl_buf_puts(out, "null");
  }
  sl_buf_puts(out, ",\"tables\":[");
  bool first = true;
  for (size_t i = 0; p->schema && i < p->schema->ntables; i++) {
    const sl_table *t = p->schema->tables[i];
    if (sl_table_is_system(t)) continue;
    if (!first) sl_buf_putc(out, ',');
    first = false;
    sl_buf_puts(out, "{\"name\":");
    jstr(out, t->name);
    sl_buf_puts(out, ",\"parent\":");
    jstr(out, t->parent);
    sl_buf_puts(out, ",\"resource\":");
    jstr(out, t->resource);
    sl_buf_puts(out, ",\"write_disposition\":");
    jstr(out, sl_wd_name(t->write_disposition));
    sl_buf_puts(out, ",\"columns\":[");
    bool fc = true;
    for (size_t c = 0; c < t->ncolumns; c++) {
      const sl_column *col = &t->columns[c];
      if (col->incomplete) continue;
      if (!fc) sl_buf_putc(out, ',');
      fc = false;
      sl_buf_puts(out, "{\"name\":");
      jstr(out, col->name);
      sl_buf_puts(out, ",\"data_type\":");
      jstr(out, sl_dtype_name(col->type));
      sl_buf_printf(out, ",\"nullable\":%s,\"primary_key\":%s}", col->nullable ? "true" : "false",
                    col->primary_key ? "true" : "false");
    }
    sl_buf_puts(out, "],\"rows\":");
    bool found = false;
    for (size_t j = 0; j < ncounts && !found; j++)
      if (!strcmp(counts[j].table, t->name)) {
        sl_buf_printf(out, "%lld", (long long)counts[j].rows);
        found = true;
      }
    if (!found) sl_buf_puts(out, "null");
    sl_buf_putc(out, '}');
  }
  sl_table_counts_free(counts, ncounts);
  sl_buf_puts(out, "],\"pending\":[");
  char **ids = NULL;
  size_t nids = 0;
  if (sl_package_list_pending(p->packages_dir, &ids, &nids, NULL) == SL_OK) {
    for (size_t i = 0; i < nids; i++) {
      sl_package *pk = sl_package_open(p->packages_dir, ids[i], NULL);
      sl_buf_printf(out, "%s{\"load_id\":", i ? "," : "");
      jstr(out, ids[i]);
      sl_buf_puts(out, ",\"state\":");
      jstr(out, pk ? sl_package_state_name(sl_package_get_state(pk)) : "unreadable");
      sl_buf_putc(out, '}');
      sl_package_close(pk);
    }
  }
  sl_package_list_free(ids, nids);
  sl_buf_puts(out, "],\"last_loads\":");
  sl_buf q = {0};
  if (have_dest && sl_duckdb_query(p->dest,
                                   "SELECT load_id, schema_name, status, CAST(inserted_at AS VARCHAR) "
                                   "AS inserted_at FROM _dlt_loads ORDER BY load_id DESC LIMIT 10",
                                   true, SL_QF_JSON, &q, &derr) == SL_OK)
    lines_to_array(out, q.data);
  else
    sl_buf_puts(out, "[]");
  sl_buf_free(&q);
  sl__pipeline_dest_close(p);
  return sl_buf_puts(out, "}\n");
}

/* ---- traces ------------------------------------------------------------------------- */

sl_status sl_pipeline_trace_json(sl_pipeline *p, sl_buf *out, sl_error *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/trace.json", p->working_dir);
  char *text = NULL;
  size_t len = 0;
  sl_error e;
  sl_error_clear(&e);
  if (sl_read_file(path, &text, &len, &e)) {
    if (e.code == SL_NOT_FOUND)
      return sl_error_set(err, SL_NOT_FOUND, "pipeline '%s' has no trace yet (it never ran here)",
                          p->name);
    if (err) *err = e;
    return e.code;
  }
  sl_status st = sl_buf_append(out, text, len);
  free(text);
  return st;
}

static int cmp_desc(const void *a, const void *b) {
  return strcmp(*(char *const *)b, *(char *const *)a);
}

sl_status sl_pipeline_traces_json(sl_pipeline *p, sl_buf *out, sl_error *err) {
  (void)err;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/traces", p->working_dir);
  char **names = NULL;
  size_t n = 0, cap = 0;
  DIR *dh = opendir(dir);
  struct dirent *e;
  while (dh && (e = readdir(dh))) {
    size_t l = strlen(e->d_name);
    if (l < 6 || strcmp(e->d_name + l - 5, ".json") || e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **x = realloc(names, cap * sizeof *x);
      if (!x) break;
      names = x;
    }
    if ((names[n] = strdup(e->d_name))) n++;
  }
  if (dh) closedir(dh);
  qsort(names, n, sizeof *names, cmp_desc);
  sl_buf_putc(out, '[');
  bool first = true;
  for (size_t i = 0; i < n; i++) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    char *text = NULL;
    size_t len = 0;
    if (sl_read_file(path, &text, &len, NULL) == SL_OK) {
      while (len && (text[len - 1] == '\n' || text[len - 1] == ' ')) len--;
      if (!first) sl_buf_putc(out, ',');
      first = false;
      sl_buf_append(out, text, len);
    }
    free(text);
    free(names[i]);
  }
  free(names);
  return sl_buf_puts(out, "]\n");
}

sl_status sl_trace_render(const char *json, size_t len, sl_buf *out, sl_error *err) {
  sl_doc *d = sl_json_parse_doc(json, len, "trace.json", err);
  if (!d) return err ? err->code : SL_JSON_SYNTAX;
  const sl_value *r = d->root;
  sl_buf_printf(out, "Run of pipeline %s: %s, started %s, %.2f s\n",
                sl_v_str(sl_v_get(r, "pipeline_name"), "?"),
                sl_v_str(sl_v_get(r, "status"), "?"), sl_v_str(sl_v_get(r, "started_at"), "?"),
                sl_v_num_or(sl_v_get(r, "duration_s"), 0));
  sl_buf_printf(out, "destination %s, dataset %s\n", sl_v_str(sl_v_get(r, "destination"), "?"),
                sl_v_str(sl_v_get(r, "dataset_name"), "?"));
  const sl_value *ids = sl_v_get(r, "load_ids");
  sl_buf_puts(out, "load ids:");
  if (!sl_v_len(ids)) sl_buf_puts(out, " none");
  for (size_t i = 0; i < sl_v_len(ids); i++) sl_buf_printf(out, " %s", sl_v_str(sl_v_at(ids, i), ""));
  sl_buf_puts(out, "\n\nsteps:\n");
  const sl_value *steps = sl_v_get(r, "steps");
  for (size_t i = 0; i < sl_v_len(steps); i++) {
    const sl_value *s = sl_v_at(steps, i);
    const char *name = sl_v_str(sl_v_get(s, "step"), "?");
    bool ex = !strcmp(name, "extract");
    sl_buf_printf(out, "  %-10s %-20s %-11s %8.3f s  %llu %s\n", name,
                  sl_v_str(sl_v_get(s, "load_id"), "-"), sl_v_str(sl_v_get(s, "status"), "?"),
                  sl_v_num_or(sl_v_get(s, "duration_s"), 0),
                  (unsigned long long)sl_v_int_or(sl_v_get(s, ex ? "items" : "rows"), 0),
                  ex ? "items" : "rows");
  }
  const sl_value *res = sl_v_get(r, "resources");
  if (sl_v_len(res)) sl_buf_puts(out, "\nresources:\n");
  for (size_t i = 0; i < sl_v_len(res); i++) {
    const sl_value *s = sl_v_at(res, i);
    sl_buf_printf(out, "  %-30s %8lld pages %10lld items %12lld bytes\n",
                  sl_v_str(sl_v_get(s, "name"), "?"), (long long)sl_v_int_or(sl_v_get(s, "pages"), 0),
                  (long long)sl_v_int_or(sl_v_get(s, "items"), 0),
                  (long long)sl_v_int_or(sl_v_get(s, "bytes"), 0));
  }
  const sl_value *tabs = sl_v_get(r, "tables");
  if (sl_v_len(tabs)) sl_buf_puts(out, "\ntables:\n");
  for (size_t i = 0; i < sl_v_len(tabs); i++) {
    const sl_value *s = sl_v_at(tabs, i);
    sl_buf_printf(out, "  %-40s %10lld rows loaded (%lld normalized)\n",
                  sl_v_str(sl_v_get(s, "name"), "?"),
                  (long long)sl_v_int_or(sl_v_get(s, "rows_loaded"), 0),
                  (long long)sl_v_int_or(sl_v_get(s, "rows_normalized"), 0));
  }
  const sl_value *h = sl_v_get(r, "http");
  if (sl_v_int_or(sl_v_get(h, "requests"), 0)) {
    sl_buf_printf(out,
                  "\nhttp: %lld requests, %lld retries, %lld HTTP 429, %lld bytes; slowest %.3f s %s\n",
                  (long long)sl_v_int_or(sl_v_get(h, "requests"), 0),
                  (long long)sl_v_int_or(sl_v_get(h, "retries"), 0),
                  (long long)sl_v_int_or(sl_v_get(h, "status_429"), 0),
                  (long long)sl_v_int_or(sl_v_get(h, "bytes"), 0),
                  sl_v_num_or(sl_v_path(h, "slowest.seconds"), 0),
                  sl_v_str(sl_v_path(h, "slowest.url"), ""));
  }
  const sl_value *e = sl_v_get(r, "error");
  if (e && e->type == SL_V_OBJECT)
    sl_buf_printf(out, "\nerror in step %s: %s\n", sl_v_str(sl_v_get(e, "step"), "?"),
                  sl_v_str(sl_v_get(e, "message"), "?"));
  sl_doc_free(d);
  return SL_OK;
}

/* ---- load packages ---------------------------------------------------------------- */

static const char *const job_folders[] = {"new_jobs", "started_jobs", "completed_jobs",
                                          "failed_jobs"};
static const char *const job_state_names[] = {"new", "started", "completed", "failed"};

static char *job_exception(sl_package *pk, const char *name) {
  char fname[1024];
  snprintf(fname, sizeof fname, "failed_jobs/%s.exception", name);
  char *msg = NULL;
  size_t len = 0;
  if (sl_package_read_file(pk, fname, &msg, &len, NULL) != SL_OK) return NULL;
  while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r')) msg[--len] = '\0';
  return msg;
}

static void package_report(sl_package *pk, bool json, sl_buf *out) {
  const char *id = sl_package_load_id(pk);
  const char *state = sl_package_state_name(sl_package_get_state(pk));
  if (json) {
    sl_buf_puts(out, "{\"load_id\":");
    jstr(out, id);
    sl_buf_puts(out, ",\"state\":");
    jstr(out, state);
    sl_buf_puts(out, ",\"path\":");
    jstr(out, sl_package_path(pk));
    sl_buf_puts(out, ",\"jobs\":[");
  } else {
    sl_buf_printf(out, "load package %s: %s\n  %s\n", id, state, sl_package_path(pk));
  }
  bool first = true;
  size_t total = 0;
  for (int js = SL_JOB_NEW; js <= SL_JOB_FAILED; js++) {
    char **names = NULL;
    size_t n = 0;
    if (sl_package_list_jobs(pk, (sl_job_state)js, &names, &n, NULL)) continue;
    for (size_t i = 0; i < n; i++) {
      char path[4096];
      sl_package_file_path(pk, job_folders[js], names[i], path, sizeof path);
      sl_job_reader *r = sl_job_reader_open(path, NULL);
      const char *table = r ? sl_job_reader_table(r) : NULL;
      long long rows = r ? (long long)sl_job_reader_row_count(r) : -1;
      char *exc = js == SL_JOB_FAILED ? job_exception(pk, names[i]) : NULL;
      if (json) {
        sl_buf_puts(out, first ? "{\"file\":" : ",{\"file\":");
        jstr(out, names[i]);
        sl_buf_puts(out, ",\"table\":");
        jstr(out, table);
        sl_buf_puts(out, ",\"state\":");
        jstr(out, job_state_names[js]);
        sl_buf_printf(out, ",\"rows\":%lld,\"failed_message\":", rows);
        jstr(out, exc);
        sl_buf_putc(out, '}');
      } else {
        if (first) sl_buf_puts(out, "  jobs:\n");
        sl_buf_printf(out, "    %-10s %-40s %-30s %lld rows\n", job_state_names[js], names[i],
                      table ? table : "?", rows);
        if (exc) sl_buf_printf(out, "      failed: %s\n", exc);
      }
      first = false;
      total++;
      free(exc);
      sl_job_reader_close(r);
    }
    sl_package_list_free(names, n);
  }
  if (json) sl_buf_puts(out, "]}\n");
  else if (!total) sl_buf_puts(out, "  no jobs\n");
}

sl_status sl_pipeline_load_package(sl_pipeline *p, const char *load_id, bool json, sl_buf *out,
                                   sl_error *err) {
  char **ids = NULL;
  size_t n = 0;
  sl_status st = sl_package_list_all(p->packages_dir, &ids, &n, err);
  if (st) return st;
  const char *want = load_id;
  if (!want && n) want = ids[n - 1];
  bool on_disk = false;
  for (size_t i = 0; want && i < n && !on_disk; i++) on_disk = !strcmp(ids[i], want);
  if (on_disk) {
    sl_package *pk = sl_package_open(p->packages_dir, want, err);
    if (!pk) st = err && err->code ? err->code : SL_IO;
    else package_report(pk, json, out);
    sl_package_close(pk);
    sl_package_list_free(ids, n);
    return st;
  }
  sl_package_list_free(ids, n);
  /* Loaded packages are deleted unless kept: what the destination knows. */
  sl_error derr;
  sl_error_clear(&derr);
  sl_buf q = {0};
  if (sl__pipeline_dest(p, false, &derr) == SL_OK) {
    char sql[512];
    if (want) {
      bool ok = true;
      for (const char *c = want; *c; c++) ok = ok && ((*c >= '0' && *c <= '9') || *c == '.');
      if (!ok) {
        sl__pipeline_dest_close(p);
        return sl_error_set(err, SL_INVALID_ARG, "'%s' is not a load id", want);
      }
      snprintf(sql, sizeof sql,
               "SELECT load_id, schema_name, status, CAST(inserted_at AS VARCHAR) AS inserted_at "
               "FROM _dlt_loads WHERE load_id = '%s'",
               want);
    } else {
      snprintf(sql, sizeof sql,
               "SELECT load_id, schema_name, status, CAST(inserted_at AS VARCHAR) AS inserted_at "
               "FROM _dlt_loads ORDER BY load_id DESC LIMIT 1");
    }
    sl_duckdb_query(p->dest, sql, true, SL_QF_JSON, &q, &derr);
  }
  sl__pipeline_dest_close(p);
  if (!q.data || !q.len) {
    sl_buf_free(&q);
    if (want)
      return sl_error_set(err, SL_NOT_FOUND, "no load package %s in %s nor in the destination",
                          want, p->packages_dir);
    return sl_error_set(err, SL_NOT_FOUND, "pipeline '%s' has no load packages yet", p->name);
  }
  sl_doc *d = sl_json_parse_doc(q.data, strcspn(q.data, "\n"), "_dlt_loads", NULL);
  const char *id = d ? sl_v_str(sl_v_get(d->root, "load_id"), "?") : "?";
  if (json) {
    sl_buf_puts(out, "{\"load_id\":");
    jstr(out, id);
    sl_buf_puts(out, ",\"state\":\"loaded\",\"path\":null,\"jobs\":[],\"inserted_at\":");
    jstr(out, d ? sl_v_str(sl_v_get(d->root, "inserted_at"), NULL) : NULL);
    sl_buf_puts(out, "}\n");
  } else {
    sl_buf_printf(out,
                  "load package %s: loaded (in %s._dlt_loads at %s)\n  its files were deleted "
                  "after the load; keep them with [load] delete_completed_jobs = false\n",
                  id, p->dataset, d ? sl_v_str(sl_v_get(d->root, "inserted_at"), "?") : "?");
  }
  sl_doc_free(d);
  sl_buf_free(&q);
  return SL_OK;
}

sl_status sl_pipeline_failed_jobs(sl_pipeline *p, bool json, sl_buf *out, size_t *nout,
                                  sl_error *err) {
  char **ids = NULL;
  size_t n = 0, total = 0;
  sl_status st = sl_package_list_all(p->packages_dir, &ids, &n, err);
  if (st) return st;
  if (json) sl_buf_putc(out, '[');
  for (size_t i = 0; i < n; i++) {
    sl_package *pk = sl_package_open(p->packages_dir, ids[i], NULL);
    if (!pk) continue;
    char **names = NULL;
    size_t nj = 0;
    if (sl_package_list_jobs(pk, SL_JOB_FAILED, &names, &nj, NULL) == SL_OK) {
      for (size_t j = 0; j < nj; j++) {
        char *exc = job_exception(pk, names[j]);
        if (json) {
          sl_buf_puts(out, total ? ",{\"load_id\":" : "{\"load_id\":");
          jstr(out, ids[i]);
          sl_buf_puts(out, ",\"package_state\":");
          jstr(out, sl_package_state_name(sl_package_get_state(pk)));
          sl_buf_puts(out, ",\"file\":");
          jstr(out, names[j]);
          sl_buf_puts(out, ",\"failed_message\":");
          jstr(out, exc ? exc : "");
          sl_buf_putc(out, '}');
        } else {
          sl_buf_printf(out, "%s %s (package %s)\n  %s\n", ids[i], names[j],
                        sl_package_state_name(sl_package_get_state(pk)), exc ? exc : "(no message)");
        }
        total++;
        free(exc);
      }
      sl_package_list_free(names, nj);
    }
    sl_package_close(pk);
  }
  sl_package_list_free(ids, n);
  if (json) sl_buf_puts(out, "]\n");
  else if (!total) sl_buf_puts(out, "No failed jobs found\n");
  if (nout) *nout = total;
  return SL_OK;
}

/* ---- drop -------------------------------------------------------------------------- */

static void state_hash(const sl_value *root, char out[48]) {
  sl_doc *d = sl_doc_new("hash");
  sl_buf b = {0};
  out[0] = '\0';
  if (!d) return;
  sl_value *copy = sl_v_object(d);
  for (size_t i = 0; copy && i < root->u.obj.len; i++) {
    const sl_member *m = &root->u.obj.items[i];
    if (!strcmp(m->key, "_state_version") || !strcmp(m->key, "_version_hash")) continue;
    sl_v_set(d, copy, m->key, m->key_len, sl_v_clone(d, m->val));
  }
  if (copy && sl_v_to_json(copy, &b, 0) == SL_OK) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(b.data ? b.data : "", b.len, md, &mdlen, EVP_sha256(), NULL) == 1)
      EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
  }
  sl_buf_free(&b);
  sl_doc_free(d);
}

/* An object without the members named in drop (NULL-terminated). */
static sl_value *without(sl_doc *d, const sl_value *obj, const char *const *drop, size_t ndrop) {
  sl_value *o = sl_v_object(d);
  for (size_t i = 0; o && obj && obj->type == SL_V_OBJECT && i < obj->u.obj.len; i++) {
    const sl_member *m = &obj->u.obj.items[i];
    bool skip = false;
    for (size_t j = 0; j < ndrop && !skip; j++) skip = !strcmp(m->key, drop[j]);
    if (!skip) sl_v_set(d, o, m->key, m->key_len, sl_v_clone(d, m->val));
  }
  return o;
}

sl_status sl_pipeline_drop(sl_pipeline *p, const char *const *resources, size_t nres,
                           bool state_only, sl_buf *out, sl_error *err) {
  sl_error local;
  if (!err) err = &local;
  sl_error_clear(err);
  if (!nres) return sl_error_set(err, SL_INVALID_ARG, "name the resources to drop");
  sl_status st = sl__pipeline_lock(p, err);
  if (st) return st;
  /* Tables of each resource: its root tables and their children. */
  const char **tables = NULL;
  size_t ntables = 0;
  sl_doc *sd = NULL;
  sl_schema *ns = NULL;
  sl_package *pkg = NULL;
  for (size_t r = 0; r < nres && !st; r++) {
    bool known = false;
    for (size_t i = 0; p->schema && i < p->schema->ntables; i++) {
      sl_table *t = p->schema->tables[i];
      if (t->parent || sl_table_is_system(t)) continue;
      if (!(t->resource ? !strcmp(t->resource, resources[r]) : !strcmp(t->name, resources[r])))
        continue;
      known = true;
      sl_table *kids[1024];
      size_t nk = sl_schema_descendants(p->schema, t, kids, 1024);
      const char **x = realloc(tables, (ntables + nk + 1) * sizeof *x);
      if (!x) {
        st = sl_error_set(err, SL_NOMEM, "out of memory");
        break;
      }
      tables = x;
      tables[ntables++] = t->name;
      for (size_t k = 0; k < nk; k++) tables[ntables++] = kids[k]->name;
    }
    /* A resource with state but no table yet is known too. */
    const sl_value *srcs = sl_v_get(p->state->root, "sources");
    for (size_t s = 0; !known && srcs && s < sl_v_len(srcs); s++)
      if (sl_v_get(sl_v_get(sl_v_at(srcs, s), "resources"), resources[r])) known = true;
    for (size_t s = 0; !known && p->source && s < sl_source_resource_count(p->source); s++)
      known = !strcmp(sl_resource_name(sl_source_resource_at(p->source, s)), resources[r]);
    if (!st && !known) {
      sl_buf names = {0};
      for (size_t i = 0; p->schema && i < p->schema->ntables; i++) {
        const sl_table *t = p->schema->tables[i];
        if (!t->parent && !sl_table_is_system(t))
          sl_buf_printf(&names, "%s%s", names.len ? ", " : "", t->resource ? t->resource : t->name);
      }
      st = sl_error_set(err, SL_NOT_FOUND, "pipeline '%s' has no resource '%s' (resources: %s)",
                        p->name, resources[r], names.data ? names.data : "none");
      sl_buf_free(&names);
    }
  }
  /* The new state: without the resources' state, one version up. */
  if (!st) {
    sd = sl_doc_new("state");
    sl_value *root = sd ? sl_v_clone(sd, p->state->root) : NULL;
    if (!root) st = sl_error_set(err, SL_NOMEM, "out of memory");
    else {
      sd->root = root;
      sl_value *srcs = sl_v_get(root, "sources");
      for (size_t s = 0; srcs && srcs->type == SL_V_OBJECT && s < srcs->u.obj.len; s++) {
        sl_value *src = srcs->u.obj.items[s].val;
        sl_value *rs = sl_v_get(src, "resources");
        if (rs) sl_v_put(sd, src, "resources", without(sd, rs, resources, nres));
      }
      sl_v_put(sd, root, "_state_version",
               sl_v_int(sd, sl_v_int_or(sl_v_get(root, "_state_version"), 0) + 1));
      char hash[48];
      state_hash(root, hash);
      sl_v_put(sd, root, "_version_hash", sl_v_string(sd, hash, strlen(hash)));
    }
  }
  /* The new schema: without the tables. */
  if (!st && p->schema && ntables && !state_only) {
    sl_doc *d = sl_doc_new("schema");
    sl_value *v = d ? sl_schema_to_value(p->schema, d) : NULL;
    if (v) sl_v_put(d, v, "tables", without(d, sl_v_get(v, "tables"), tables, ntables));
    ns = v ? sl_schema_from_value(v, err) : NULL;
    sl_doc_free(d);
    if (!ns) st = err->code ? err->code : SL_NOMEM;
    else {
      sl_schema_touch(ns);
      sl_schema_bump_version(ns);
    }
  }
  /* A package that carries them, committed by the load below. */
  char id[32];
  if (!st) {
    sl_new_load_id(id);
    pkg = sl_package_create(p->packages_dir, id, err);
    if (!pkg) st = err->code ? err->code : SL_IO;
  }
  if (!st) {
    sl_buf sj = {0};
    st = sl_v_to_json(sd->root, &sj, 0);
    if (!st) st = sl_package_write_file(pkg, "state.json", sj.data, sj.len, err);
    sl_buf_free(&sj);
  }
  if (!st) {
    const sl_schema *s = ns ? ns : p->schema;
    if (s) {
      char path[4096];
      snprintf(path, sizeof path, "%s/schema.json", sl_package_path(pkg));
      st = sl_schema_save_file(s, path, err);
    } else {
      st = sl_error_set(err, SL_NOT_FOUND, "pipeline '%s' has no schema yet: nothing to drop", p->name);
    }
  }
  if (!st) st = sl_package_set_state(pkg, SL_PKG_NORMALIZED, err);
  if (st && pkg) {
    sl_error ignore;
    sl_package_set_state(pkg, SL_PKG_ABORTED, &ignore);
  }
  sl_package_close(pkg);
  if (!st && !state_only && ntables) {
    if (!(st = sl__pipeline_dest(p, true, err)))
      st = p->dest->vt->drop_tables(p->dest, p->schema ? p->schema->name : NULL, tables, ntables, err);
    sl__pipeline_dest_close(p);
  }
  if (!st) {
    if (state_only) {
      sl_buf_printf(out, "Pipeline %s: state of %zu resource(s) dropped:", p->name, nres);
      for (size_t i = 0; i < nres; i++) sl_buf_printf(out, " %s", resources[i]);
      sl_buf_puts(out, "\n");
    } else {
      sl_buf_printf(out, "Pipeline %s: dropped %zu table(s):", p->name, ntables);
      for (size_t i = 0; i < ntables; i++) sl_buf_printf(out, " %s", tables[i]);
      sl_buf_puts(out, "\n  and the state of:");
      for (size_t i = 0; i < nres; i++) sl_buf_printf(out, " %s", resources[i]);
      sl_buf_puts(out, "\n");
    }
  }
  free(tables);
  sl_doc_free(sd);
  sl_schema_free(ns);
  if (st) {
    sl__pipeline_unlock(p);
    return st;
  }
  /* Commit: the run holds the lock we hold and releases it. */
  sl_run_options ro = {.pending_only = true};
  int mode = p->progress;
  p->progress = SL_PROGRESS_NONE;
  st = sl_pipeline_run(p, &ro, err);
  p->progress = mode;
  if (!st) sl_buf_printf(out, "  committed as load %s; the next run loads them again\n", id);
  return st;
}
