/* `sluice run`: the three stages over load packages. Each stage's output is
 * complete on disk before the package's state moves on (new → extracted →
 * normalized → loaded), so a run killed anywhere is finished by the next:
 * an unfinished extract is discarded (its state never advanced), an
 * unfinished normalize is redone from the extract files, and a load is one
 * destination transaction that a rerun either repeats or finds committed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/pipeline_int.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/normalize.h"
#include "sluice/package.h"
#include "sluice/progress.h"
#include "sluice/rows.h"

#define JOB_FORMAT "sjob"
#define READ_CHUNK (256 * 1024)

void sl__pipeline_info_set(sl_pipeline *p, char **ids, size_t nids, sl_load_table_info *tables,
                           size_t ntables, const char *new_id, uint64_t records, sl_status st,
                           const sl_error *err);

/* What a run did, for the load info. */
typedef struct run_ctx {
  char **ids;
  size_t nids;
  sl_load_table_info *tables;
  size_t ntables;
  uint64_t records;
  char new_id[32];
} run_ctx;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void add_rows(run_ctx *c, const char *table, uint64_t rows) {
  for (size_t i = 0; i < c->ntables; i++)
    if (!strcmp(c->tables[i].table, table)) {
      c->tables[i].rows += rows;
      return;
    }
  sl_load_table_info *t = realloc(c->tables, (c->ntables + 1) * sizeof *t);
  if (!t) return;
  c->tables = t;
  c->tables[c->ntables].table = strdup(table);
  c->tables[c->ntables].rows = rows;
  if (c->tables[c->ntables].table) c->ntables++;
}

static void add_id(run_ctx *c, const char *id) {
  char **ids = realloc(c->ids, (c->nids + 1) * sizeof *ids);
  if (!ids) return;
  c->ids = ids;
  if ((c->ids[c->nids] = strdup(id))) c->nids++;
}

/* ---- state -------------------------------------------------------------------- */

static sl_value *child_object(sl_doc *d, sl_value *obj, const char *key) {
  sl_value *v = sl_v_get(obj, key);
  if (v && v->type == SL_V_OBJECT) return v;
  v = sl_v_object(d);
  if (!v || sl_v_put(d, obj, key, v)) return NULL;
  return v;
}

static void put_str(sl_doc *d, sl_value *obj, const char *key, const char *s) {
  if (s) sl_v_put(d, obj, key, sl_v_string(d, s, strlen(s)));
}

/* base64 SHA-256 of the state without its version fields, as dlt keeps. */
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

/* ---- extract ------------------------------------------------------------------------ */

static sl_value *str_list(sl_doc *d, const char **l) {
  sl_value *a = sl_v_array(d);
  for (size_t i = 0; a && l && l[i]; i++) sl_v_push(d, a, sl_v_string(d, l[i], strlen(l[i])));
  return a;
}

/* Whether an extract folder holds any record (a non-empty file). */
static bool extract_has_data(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return false;
  bool data = false;
  char path[4096];
  struct stat sb;
  for (struct dirent *e; !data && (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    int len = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    data = len < 0 || (size_t)len >= sizeof path || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
           sb.st_size > 0;
  }
  closedir(d);
  return data;
}

/* resources.json: the hints of every extracted resource, so that a package is
 * normalized the same way by whichever run finishes it. */
static sl_status write_manifest(sl_pipeline *p, sl_package *pkg, const sl__extract_result *res,
                                size_t nres, sl_error *err) {
  sl_doc *d = sl_doc_new("resources.json");
  if (!d) return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_value *root = d->root = sl_v_object(d);
  put_str(d, root, "schema_name", sl_source_name(p->source));
  sl_value *arr = sl_v_array(d);
  sl_v_put(d, root, "resources", arr);
  for (size_t i = 0; i < nres; i++) {
    const sl_resource *r = sl_source_find(p->source, res[i].resource);
    sl_resource_hints h;
    sl__resource_hints(p->source, r, &h);
    sl_value *o = sl_v_object(d);
    sl_v_push(d, arr, o);
    put_str(d, o, "name", h.resource);
    put_str(d, o, "table_name", h.table_name);
    if (h.primary_key) sl_v_put(d, o, "primary_key", str_list(d, h.primary_key));
    if (h.merge_key) sl_v_put(d, o, "merge_key", str_list(d, h.merge_key));
    put_str(d, o, "write_disposition", sl_wd_name(h.write_disposition));
    put_str(d, o, "merge_strategy", h.merge_strategy == SL_MERGE_UPSERT ? "upsert" : "delete-insert");
    sl_v_put(d, o, "max_table_nesting", sl_v_int(d, h.max_table_nesting));
    put_str(d, o, "hard_delete_column", h.hard_delete_column);
    put_str(d, o, "dedup_sort_column", h.dedup_sort_column);
    put_str(d, o, "table_format", h.table_format);
    sl_v_put(d, o, "dedup_sort_order", sl_v_int(d, h.dedup_sort_order));
    if (h.contract) {
      sl_value *c = sl_v_object(d);
      sl_v_put(d, o, "contract", c);
      put_str(d, c, "tables", sl_contract_mode_name(h.contract->tables));
      put_str(d, c, "columns", sl_contract_mode_name(h.contract->columns));
      put_str(d, c, "data_type", sl_contract_mode_name(h.contract->data_type));
    }
    if (h.columns) sl_v_put(d, o, "columns", sl_v_clone(d, h.columns));
    sl_v_put(d, o, "files", sl_v_int(d, res[i].files));
    sl_v_put(d, o, "records", sl_v_int(d, (int64_t)res[i].records));
  }
  sl_buf b = {0};
  sl_status st = sl_v_to_json(root, &b, 1);
  if (!st) st = sl_package_write_file(pkg, "resources.json", b.data, b.len, err);
  else sl_error_set(err, st, "out of memory");
  sl_buf_free(&b);
  sl_doc_free(d);
  return st;
}

/* Extract a new package. *out is NULL when there was nothing new (no record
 * and no change of state). */
static sl_status extract_new(sl_pipeline *p, const sl_run_options *ro, run_ctx *c,
                             sl_package **out, sl_error *err) {
  *out = NULL;
  double t0 = now_s();
  char id[32];
  sl_new_load_id(id);
  sl_progress_stage_begin(p->prog, "extract", id, sl_source_resource_count(p->source));
  sl_package *pkg = sl_package_create(p->packages_dir, id, err);
  if (!pkg) {
    sl_progress_stage_end(p->prog, err->code ? err->code : SL_IO);
    return err->code ? err->code : SL_IO;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/extract", sl_package_path(pkg));
  sl_status st = sl_mkdir_p(dir, err);
  /* The state this package will carry: the committed one plus what the
   * resources change while they run. */
  sl_doc *sd = sl_doc_new("state");
  sl_value *state = sd ? sl_v_clone(sd, p->state->root) : NULL;
  if (!st && !state) st = sl_error_set(err, SL_NOMEM, "out of memory");
  sl_buf before = {0}, after = {0};
  sl__extract_result *res = NULL;
  size_t nres = 0;
  if (!st) {
    sd->root = state;
    const char *src = sl_source_name(p->source);
    sl_value *sources = child_object(sd, state, "sources");
    sl_value *srcobj = sources ? child_object(sd, sources, src) : NULL;
    sl_value *resources = srcobj ? child_object(sd, srcobj, "resources") : NULL;
    sl_v_to_json(sl_v_get(state, "sources"), &before, 0);
    sl__extract_opts o = {.extract_dir = dir,
                          .file_max_bytes = p->extract_max,
                          .limit = ro ? ro->limit : 0,
                          .state_doc = sd,
                          .resources_state = resources,
                          .config = p->cfg};
    if (!resources) st = sl_error_set(err, SL_NOMEM, "out of memory");
    else st = sl__source_extract(p->source, &o, &res, &nres, err);
  }
  uint64_t records = 0, bytes = 0;
  for (size_t i = 0; i < nres; i++) {
    records += res[i].records, bytes += res[i].bytes;
    sl_progress_resource_done(p->prog, res[i].resource, res[i].records, res[i].bytes);
  }
  if (!st) {
    sl_v_to_json(sl_v_get(state, "sources"), &after, 0);
    bool changed = before.len != after.len || memcmp(before.data, after.data, before.len) != 0;
    /* A replace resource that ran and yielded nothing still empties its
     * tables: that needs a package too. */
    bool replaces = false;
    for (size_t i = 0; i < nres && !replaces; i++) {
      const sl_resource *r = sl_source_find(p->source, res[i].resource);
      replaces = r && sl_resource_write_disposition(r) == SL_WD_REPLACE;
    }
    if (records == 0 && !changed && !replaces) {
      sl__pipeline_progress(p, "extract: nothing new");
      st = sl_package_delete(pkg, err);
      sl_package_close(pkg);
      pkg = NULL;
      goto done;
    }
    int64_t version = sl_v_int_or(sl_v_get(state, "_state_version"), 0);
    if (changed || version == 0) version++;
    sl_v_put(sd, state, "_state_version", sl_v_int(sd, version));
    sl_v_put(sd, state, "_state_engine_version", sl_v_int(sd, SL_STATE_ENGINE_VERSION));
    put_str(sd, state, "pipeline_name", p->name);
    put_str(sd, state, "dataset_name", p->dataset);
    put_str(sd, state, "default_schema_name", sl_source_name(p->source));
    sl_value *names = sl_v_array(sd);
    sl_v_push(sd, names, sl_v_string(sd, sl_source_name(p->source), strlen(sl_source_name(p->source))));
    sl_v_put(sd, state, "schema_names", names);
    put_str(sd, state, "destination_type", p->destination);
    char hash[48];
    state_hash(state, hash);
    put_str(sd, state, "_version_hash", hash);
    sl_buf sj = {0};
    st = write_manifest(p, pkg, res, nres, err);
    if (!st && !(st = sl_v_to_json(state, &sj, 0)))
      st = sl_package_write_file(pkg, "state.json", sj.data, sj.len, err);
    sl_buf_free(&sj);
    sl__crash_point("extract_commit");
    if (!st) st = sl_package_set_state(pkg, SL_PKG_EXTRACTED, err);
  }
  if (st && pkg) {
    /* Nothing of this package may load: mark it aborted (kept for a look),
     * or remove it when there is nothing to look at (a source that failed
     * before its first record), as dlt drops an empty extract folder. */
    sl_error ignore;
    if (extract_has_data(dir))
      sl_package_set_state(pkg, SL_PKG_ABORTED, &ignore);
    else if (sl_package_delete(pkg, &ignore) != SL_OK)
      SL_DEBUG("cannot remove the empty package %s: %s", id, ignore.msg);
    sl_package_close(pkg);
    pkg = NULL;
  }
  if (!st) {
    c->records += records;
    snprintf(c->new_id, sizeof c->new_id, "%s", id);
    sl__pipeline_progress(p, "extract: %zu resource(s), %llu records, %.1f MB in %.2f s into package %s",
                          nres, (unsigned long long)records, bytes / 1e6, now_s() - t0, id);
  }
done:
  sl_progress_stage_end(p->prog, st);
  sl__extract_results_free(res, nres);
  sl_buf_free(&before);
  sl_buf_free(&after);
  sl_doc_free(sd);
  *out = pkg;
  return st;
}

/* ---- normalize ------------------------------------------------------------------------ */

typedef struct job_slot {
  const sl_table *t;
  sl_job_writer *w;
  unsigned next_id;
  uint64_t rows; /* not yet reported to the progress collector */
} job_slot;

#define PROGRESS_EVERY 4096

typedef struct norm_ctx norm_ctx;
static void report_rows(norm_ctx *c);

struct norm_ctx {
  sl_package *pkg;
  uint64_t max;
  job_slot *slots;
  size_t n, cap;
  size_t last;
  sl_progress *prog;
};

static void report_rows(norm_ctx *c) {
  for (size_t i = 0; i < c->n; i++)
    if (c->slots[i].rows) {
      sl_progress_rows(c->prog, c->slots[i].t->name, c->slots[i].rows);
      c->slots[i].rows = 0;
    }
}

static sl_status close_slot(job_slot *s, sl_error *err) {
  if (!s->w) return SL_OK;
  sl_status st = sl_job_writer_close(s->w, err);
  s->w = NULL;
  sl__crash_point("normalize_file");
  return st;
}

/* The slot of table t, with an open job file. */
static sl_status slot_open(norm_ctx *c, const sl_table *t, job_slot **out, sl_error *err) {
  job_slot *s = NULL;
  if (c->last < c->n && c->slots[c->last].t == t) {
    s = &c->slots[c->last];
  } else {
    for (size_t i = 0; i < c->n && !s; i++)
      if (c->slots[i].t == t) s = &c->slots[i], c->last = i;
  }
  if (!s) {
    if (c->n == c->cap) {
      size_t cap = c->cap ? c->cap * 2 : 16;
      job_slot *x = realloc(c->slots, cap * sizeof *x);
      if (!x) return sl_error_set(err, SL_NOMEM, "out of memory");
      c->slots = x;
      c->cap = cap;
    }
    s = &c->slots[c->n];
    *s = (job_slot){t, NULL, 0, 0};
    c->last = c->n++;
  }
  sl_status st;
  if (!s->w) {
    char name[512], path[4096];
    snprintf(name, sizeof name, "%s.%u.0.%s", t->name, s->next_id++, JOB_FORMAT);
    if ((st = sl_package_file_path(c->pkg, "new_jobs", name, path, sizeof path)))
      return sl_error_set(err, st, "job file path too long");
    s->w = sl_job_writer_open(path, t->name, err);
    if (!s->w) return err && err->code ? err->code : SL_IO;
  }
  *out = s;
  return SL_OK;
}

/* A replace resource that produced no rows still replaces: an empty job file
 * for its root table makes the load empty the table and its children (as
 * dlt does). */
static sl_status empty_replace_job(norm_ctx *c, const sl_table *t, sl_error *err) {
  if (!t) return SL_OK;
  for (size_t i = 0; i < c->n; i++)
    if (c->slots[i].t == t && (c->slots[i].w || c->slots[i].next_id)) return SL_OK;
  job_slot *s = NULL;
  sl_status st = slot_open(c, t, &s, err);
  return st ? st : close_slot(s, err);
}

static sl_status sink_row(void *ud, const sl_schema *schema, const sl_table *t,
                          const sl_row_value *vals, size_t n, sl_error *err) {
  (void)schema;
  norm_ctx *c = ud;
  job_slot *s = NULL;
  sl_status st = slot_open(c, t, &s, err);
  if (st) return st;
  if ((st = sl_job_write_row(s->w, t, vals, n, err))) return st;
  if (++s->rows >= PROGRESS_EVERY && c->prog) report_rows(c);
  if (sl_job_writer_bytes(s->w) >= c->max) return close_slot(s, err);
  return SL_OK;
}

static const char **list_of(sl_doc *d, const sl_value *v) {
  if (!v || v->type != SL_V_ARRAY) return NULL;
  const char **l = sl_arena_calloc(&d->arena, (v->u.arr.len + 1) * sizeof *l);
  for (size_t i = 0; l && i < v->u.arr.len; i++) l[i] = sl_v_str(v->u.arr.items[i], "");
  return l;
}

static sl_status feed_file(sl_normalizer *n, const char *path, char *buf, sl_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sl_error_set(err, SL_IO, "cannot open %s: %s", path, strerror(errno));
  sl_status st = SL_OK;
  for (;;) {
    ssize_t r = read(fd, buf, READ_CHUNK);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      st = sl_error_set(err, SL_IO, "cannot read %s: %s", path, strerror(errno));
      break;
    }
    if (r == 0) break;
    if ((st = sl_normalizer_feed(n, buf, (size_t)r, err))) break;
  }
  close(fd);
  return st;
}

static sl_status remove_jobs(sl_package *pkg, sl_job_state js, sl_error *err) {
  char **names = NULL;
  size_t n = 0;
  sl_status st = sl_package_list_jobs(pkg, js, &names, &n, err);
  static const char *const folder[] = {"new_jobs", "started_jobs", "completed_jobs", "failed_jobs"};
  for (size_t i = 0; !st && i < n; i++) {
    char path[4096];
    sl_package_file_path(pkg, folder[js], names[i], path, sizeof path);
    if (unlink(path) != 0 && errno != ENOENT)
      st = sl_error_set(err, SL_IO, "cannot remove %s: %s", path, strerror(errno));
  }
  sl_package_list_free(names, n);
  return st;
}

/* ---- the import schema -------------------------------------------------------------------
 * <import_schema_path>/<schema>.schema.yaml is the schema a pipeline starts
 * from, and, as in dlt, it is imported again whenever it changed since the
 * last import: it then replaces the pipeline's schema (the version carries
 * on), and what the data adds is inferred again on top of it. The content
 * hash of the schema last imported is kept in the working folder, in
 * import_schema.hash as "<schema name> <hash>", written once a package
 * normalized from it is complete. */

#define IMPORT_LINE 512 /* "<schema name> <hash>\n" */

static void import_hash_path(const sl_pipeline *p, char *out, size_t n) {
  snprintf(out, n, "%s/import_schema.hash", p->working_dir);
}

static bool import_line_is(const sl_pipeline *p, const char *line) {
  char path[4096];
  import_hash_path(p, path, sizeof path);
  char *text = NULL;
  size_t len = 0;
  sl_error ignore;
  if (sl_read_file(path, &text, &len, &ignore)) return false; /* never imported here */
  bool same = len == strlen(line) && memcmp(text, line, len) == 0;
  free(text);
  return same;
}

/* Copy the pipeline's version and hash history onto the import replacing it,
 * so that normalize bumps the version past the pipeline's. */
static sl_status carry_version(sl_schema *imp, const sl_schema *cur, sl_error *err) {
  imp->version = cur->version;
  memcpy(imp->version_hash, cur->version_hash, sizeof imp->version_hash);
  for (int i = 0; i < 10; i++) {
    free(imp->previous_hashes[i]);
    imp->previous_hashes[i] = NULL;
  }
  for (int i = 0; i < 10 && cur->previous_hashes[i]; i++)
    if (!(imp->previous_hashes[i] = strdup(cur->previous_hashes[i])))
      return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_schema_touch(imp);
  return SL_OK;
}

/* The schema a normalize starts from: the committed one, or the import schema
 * on the first run and whenever its content changed. When the import is used,
 * line gets what import_schema.hash is to hold once the package is complete;
 * else "". */
static sl_schema *starting_schema(sl_pipeline *p, const char *name, char line[IMPORT_LINE],
                                  sl_error *err) {
  line[0] = '\0';
  char path[4096] = "";
  struct stat sb;
  if (p->import_schema_path) {
    snprintf(path, sizeof path, "%s/%s.schema.yaml", p->import_schema_path, name);
    if (stat(path, &sb) != 0) path[0] = '\0';
  }
  if (!path[0]) {
    sl_schema *s = p->schema ? sl_schema_clone(p->schema) : sl_schema_new(name);
    if (!s) sl_error_set(err, SL_NOMEM, "out of memory");
    return s;
  }
  sl_schema *imp = sl_schema_load_file(path, err);
  if (!imp) return NULL;
  char hash[48];
  int n = -1;
  if (!sl_schema_content_hash(imp, hash)) n = snprintf(line, IMPORT_LINE, "%s %s\n", name, hash);
  if (n < 0 || n >= IMPORT_LINE) {
    sl_schema_free(imp);
    sl_error_set(err, SL_SCHEMA, "cannot hash the import schema %s", path);
    return NULL;
  }
  if (p->schema && import_line_is(p, line)) {
    line[0] = '\0';
    sl_schema_free(imp);
    imp = sl_schema_clone(p->schema);
    if (!imp) sl_error_set(err, SL_NOMEM, "out of memory");
    return imp;
  }
  if (p->schema) {
    SL_INFO("the import schema %s changed since it was last imported: it replaces schema %s "
            "version %lld",
            path, p->schema->name, (long long)p->schema->version);
    if (carry_version(imp, p->schema, err)) {
      sl_schema_free(imp);
      return NULL;
    }
  } else {
    SL_INFO("importing schema %s", path);
  }
  return imp;
}

static sl_status normalize_package_(sl_pipeline *p, sl_package *pkg, sl_error *err);
static sl_status normalize_package(sl_pipeline *p, sl_package *pkg, sl_error *err) {
  sl_progress_stage_begin(p->prog, "normalize", sl_package_load_id(pkg), 0);
  sl_status st = normalize_package_(p, pkg, err);
  sl_progress_stage_end(p->prog, st);
  return st;
}

static sl_status normalize_package_(sl_pipeline *p, sl_package *pkg, sl_error *err) {
  double t0 = now_s();
  const char *id = sl_package_load_id(pkg);
  /* A killed normalize leaves partial job files: start over. */
  sl_status st = remove_jobs(pkg, SL_JOB_NEW, err);
  if (st) return st;
  char *mtext = NULL;
  size_t mlen = 0;
  if ((st = sl_package_read_file(pkg, "resources.json", &mtext, &mlen, err))) return st;
  sl_doc *m = sl_json_parse_doc(mtext, mlen, "resources.json", err);
  free(mtext);
  if (!m) return err->code;
  const char *sname = sl_v_str(sl_v_get(m->root, "schema_name"), p->name);
  char imported[IMPORT_LINE];
  sl_schema *schema = starting_schema(p, sname, imported, err);
  if (!schema) {
    sl_doc_free(m);
    return err->code ? err->code : SL_SCHEMA;
  }
  norm_ctx nc = {.pkg = pkg, .max = p->job_max, .prog = p->prog};
  sl_row_sink sink = {.ud = &nc, .row = sink_row};
  sl_normalizer *n = sl_normalizer_new(schema, id, sink, err);
  char *buf = malloc(READ_CHUNK);
  if (!n || !buf) st = err->code ? err->code : sl_error_set(err, SL_NOMEM, "out of memory");
  const sl_value *rs = sl_v_get(m->root, "resources");
  for (size_t i = 0; !st && i < sl_v_len(rs); i++) {
    const sl_value *r = sl_v_at(rs, i);
    sl_resource_hints h;
    memset(&h, 0, sizeof h);
    h.resource = sl_v_str(sl_v_get(r, "name"), "");
    h.table_name = sl_v_str(sl_v_get(r, "table_name"), NULL);
    h.primary_key = list_of(m, sl_v_get(r, "primary_key"));
    h.merge_key = list_of(m, sl_v_get(r, "merge_key"));
    h.write_disposition = (sl_write_disposition)sl_wd_parse(sl_v_str(sl_v_get(r, "write_disposition"), "append"));
    h.merge_strategy = !strcmp(sl_v_str(sl_v_get(r, "merge_strategy"), ""), "upsert")
                           ? SL_MERGE_UPSERT
                           : SL_MERGE_DELETE_INSERT;
    h.max_table_nesting = (int)sl_v_int_or(sl_v_get(r, "max_table_nesting"), -1);
    h.hard_delete_column = sl_v_str(sl_v_get(r, "hard_delete_column"), NULL);
    h.dedup_sort_column = sl_v_str(sl_v_get(r, "dedup_sort_column"), NULL);
    h.dedup_sort_order = (int)sl_v_int_or(sl_v_get(r, "dedup_sort_order"), 1);
    h.table_format = sl_v_str(sl_v_get(r, "table_format"), NULL);
    sl_contract contract;
    const sl_value *cv = sl_v_get(r, "contract");
    if (cv) {
      contract.tables = (sl_contract_mode)sl_contract_mode_parse(sl_v_str(sl_v_get(cv, "tables"), "evolve"));
      contract.columns = (sl_contract_mode)sl_contract_mode_parse(sl_v_str(sl_v_get(cv, "columns"), "evolve"));
      contract.data_type = (sl_contract_mode)sl_contract_mode_parse(sl_v_str(sl_v_get(cv, "data_type"), "evolve"));
      h.contract = &contract;
    }
    h.columns = sl_v_get(r, "columns");
    if ((st = sl_normalizer_begin(n, &h, err))) break;
    int64_t files = sl_v_int_or(sl_v_get(r, "files"), 0);
    for (int64_t f = 0; !st && f < files; f++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/extract/%s.%lld.jsonl", sl_package_path(pkg), h.resource,
               (long long)f);
      st = feed_file(n, path, buf, err);
    }
    if (!st) st = sl_normalizer_end(n, err);
    if (!st && h.write_disposition == SL_WD_REPLACE)
      st = empty_replace_job(&nc, sl_schema_find_table(schema, sl_normalizer_root_table(n)), err);
  }
  free(buf);
  uint64_t rows = n ? sl_normalizer_stats(n)->rows : 0;
  report_rows(&nc);
  for (size_t i = 0; i < nc.n; i++) {
    if (st) {
      if (nc.slots[i].w) sl_job_writer_discard(nc.slots[i].w);
    } else {
      st = close_slot(&nc.slots[i], err);
    }
  }
  free(nc.slots);
  sl_normalizer_free(n);
  sl_doc_free(m);
  if (!st) {
    sl_schema_bump_version(schema);
    char path[4096];
    snprintf(path, sizeof path, "%s/schema.json", sl_package_path(pkg));
    st = sl_schema_save_file(schema, path, err);
  }
  sl_schema_free(schema);
  sl__crash_point("normalize_commit");
  if (!st) st = sl_package_set_state(pkg, SL_PKG_NORMALIZED, err);
  /* The package now carries the imported schema to its load: not again. */
  if (!st && imported[0]) {
    char path[4096];
    import_hash_path(p, path, sizeof path);
    st = sl_write_file_atomic(path, imported, strlen(imported), err);
  }
  if (!st)
    sl__pipeline_progress(p, "normalize: package %s, %llu rows in %.2f s", id,
                          (unsigned long long)rows, now_s() - t0);
  return st;
}

/* ---- load ------------------------------------------------------------------------------ */

static void count_jobs(sl_package *pkg, run_ctx *c) {
  static const char *const folder[] = {"new_jobs", "started_jobs", "completed_jobs"};
  for (int js = SL_JOB_NEW; js <= SL_JOB_COMPLETED; js++) {
    char **names = NULL;
    size_t n = 0;
    if (sl_package_list_jobs(pkg, (sl_job_state)js, &names, &n, NULL)) continue;
    for (size_t i = 0; i < n; i++) {
      char path[4096];
      sl_package_file_path(pkg, folder[js], names[i], path, sizeof path);
      sl_job_reader *r = sl_job_reader_open(path, NULL);
      if (!r) continue;
      add_rows(c, sl_job_reader_table(r), sl_job_reader_row_count(r));
      sl_job_reader_close(r);
    }
    sl_package_list_free(names, n);
  }
}

static sl_status load_package_(sl_pipeline *p, sl_package *pkg, run_ctx *c, sl_error *err);
static sl_status load_package(sl_pipeline *p, sl_package *pkg, run_ctx *c, sl_error *err) {
  sl_progress_stage_begin(p->prog, "load", sl_package_load_id(pkg), 0);
  size_t before = c->ntables;
  uint64_t *rows0 = before ? malloc(before * sizeof *rows0) : NULL;
  for (size_t i = 0; rows0 && i < before; i++) rows0[i] = c->tables[i].rows;
  sl_status st = load_package_(p, pkg, c, err);
  if (!st)
    for (size_t i = 0; i < c->ntables; i++) {
      uint64_t r0 = i < before && rows0 ? rows0[i] : 0;
      if (c->tables[i].rows > r0) sl_progress_loaded(p->prog, c->tables[i].table, c->tables[i].rows - r0);
    }
  free(rows0);
  sl_progress_stage_end(p->prog, st);
  return st;
}

static sl_status load_package_(sl_pipeline *p, sl_package *pkg, run_ctx *c, sl_error *err) {
  double t0 = now_s();
  const char *id = sl_package_load_id(pkg);
  char path[4096];
  snprintf(path, sizeof path, "%s/schema.json", sl_package_path(pkg));
  sl_schema *schema = sl_schema_load_file(path, err);
  if (!schema) return err->code ? err->code : SL_SCHEMA;
  char *state = NULL;
  size_t slen = 0;
  sl_status st = sl_package_read_file(pkg, "state.json", &state, &slen, err);
  if (!st) st = sl__pipeline_dest(p, true, err);
  bool loaded = false;
  if (!st) st = p->dest->vt->is_loaded(p->dest, id, &loaded, err);
  if (!st && !loaded) count_jobs(pkg, c);
  if (!st) {
    sl_load_request req = {.pipeline_name = p->name,
                           .load_id = id,
                           .state_json = state,
                           .schema_changed = !p->schema ||
                                             strcmp(p->schema->version_hash, schema->version_hash) != 0};
    sl__crash_point("load_begin");
    st = p->dest->vt->load_package(p->dest, pkg, schema, &req, err);
  }
  sl__crash_point("load_commit");
  /* Committed in the destination: now the working dir follows. */
  if (!st) st = sl__pipeline_save_state(p, state, slen, err);
  if (!st) st = sl__pipeline_save_schema(p, schema, err);
  sl__crash_point("load_local");
  if (!st) st = sl_package_set_state(pkg, SL_PKG_LOADED, err);
  if (!st) {
    add_id(c, id);
    sl__pipeline_progress(p, "load: package %s%s into %s.%s in %.2f s", id,
                          loaded ? " (already committed)" : "", p->destination, p->dataset,
                          now_s() - t0);
    if (!p->keep_packages) st = sl_package_delete(pkg, err);
  }
  free(state);
  sl_schema_free(schema);
  return st;
}

/* ---- the run ------------------------------------------------------------------------------ */

static sl_status finish_package(sl_pipeline *p, sl_package *pkg, run_ctx *c, sl_error *err) {
  sl_status st = SL_OK;
  sl_package_state s = sl_package_get_state(pkg);
  if (s == SL_PKG_NEW) {
    /* Its extract never finished, so its state was never committed: the
     * next extract fetches the same data again. */
    SL_INFO("discarding package %s: its extract did not finish", sl_package_load_id(pkg));
    return sl_package_delete(pkg, err);
  }
  if (s == SL_PKG_EXTRACTED) {
    if ((st = normalize_package(p, pkg, err))) return st;
    s = SL_PKG_NORMALIZED;
  }
  if (s == SL_PKG_NORMALIZED) st = load_package(p, pkg, c, err);
  return st;
}

sl_status sl_pipeline_run(sl_pipeline *p, const sl_run_options *ro, sl_error *err) {
  sl_error local;
  if (!err) err = &local;
  sl_error_clear(err);
  run_ctx c;
  memset(&c, 0, sizeof c);
  struct timespec ts0;
  clock_gettime(CLOCK_REALTIME, &ts0);
  double started = (double)ts0.tv_sec + ts0.tv_nsec / 1e9;
  /* At errors only (`sluice -q`, SLUICE_LOG_LEVEL=error) no progress either. */
  sl_progress_mode pm = sl_log_get_level() >= SL_LOG_ERROR ? SL_PROGRESS_NONE : (sl_progress_mode)p->progress;
  p->prog = sl_progress_new(p->name, pm, p->log_period, NULL);
  sl_progress_set_current(p->prog);
  sl_status st = sl__pipeline_lock(p, err);
  bool locked = st == SL_OK;
  if (st) goto out;
  /* A new working dir (first run, or deleted): take state and schema from
   * the destination, as dlt does, so that cursors and schema carry on. */
  char path[4096];
  snprintf(path, sizeof path, "%s/state.json", p->working_dir);
  struct stat sb;
  if (stat(path, &sb) != 0 && !p->schema) {
    bool found = false;
    if ((st = sl__pipeline_restore(p, &found, err))) goto out;
    if (found) SL_INFO("restored the state of pipeline %s from the destination", p->name);
  }
  char **ids = NULL;
  size_t nids = 0;
  if ((st = sl_package_list_pending(p->packages_dir, &ids, &nids, err))) goto out;
  for (size_t i = 0; !st && i < nids; i++) {
    sl_package *pkg = sl_package_open(p->packages_dir, ids[i], err);
    if (!pkg) {
      st = err->code ? err->code : SL_IO;
      break;
    }
    if (sl_package_get_state(pkg) != SL_PKG_NEW)
      sl__pipeline_progress(p, "finishing package %s left %s by an earlier run", ids[i],
                            sl_package_state_name(sl_package_get_state(pkg)));
    st = finish_package(p, pkg, &c, err);
    sl_package_close(pkg);
  }
  sl_package_list_free(ids, nids);
  if (!st && !(ro && ro->pending_only) && p->source && sl_source_resource_count(p->source)) {
    sl_package *pkg = NULL;
    st = extract_new(p, ro, &c, &pkg, err);
    if (!st && pkg) st = finish_package(p, pkg, &c, err);
    sl_package_close(pkg);
  } else if (!st && !(ro && ro->pending_only) && !c.nids) {
    sl__pipeline_progress(p, "no resources to run");
  }
out:
  sl__pipeline_dest_close(p);
  sl__pipeline_info_set(p, c.ids, c.nids, c.tables, c.ntables, c.new_id[0] ? c.new_id : NULL,
                        c.records, st, err);
  sl_progress_stage_end(p->prog, st);
  sl_progress_set_current(NULL);
  /* The trace and the alert: never change the run's outcome. A run refused
   * by the lock belongs to the run that holds it: no trace of its own. */
  clock_gettime(CLOCK_REALTIME, &ts0);
  double finished = (double)ts0.tv_sec + ts0.tv_nsec / 1e9;
  sl_error terr;
  sl_error_clear(&terr);
  if (locked && sl__trace_save(p, p->prog, started, finished, st, err, &terr))
    SL_WARN("cannot save the trace of the run: %s", terr.msg);
  if (st) {
    const char *step = sl_progress_failed_step(p->prog);
    sl_error_clear(&terr);
    if (sl__alert_send(p, step ? step : "run", err, &terr))
      SL_WARN("cannot send the failure alert: %s", terr.msg);
  }
  if (locked) sl__pipeline_unlock(p);
  sl_progress_free(p->prog);
  p->prog = NULL;
  return st;
}
