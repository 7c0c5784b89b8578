#define _GNU_SOURCE
/* The pipeline handle: sluice.toml and the config layers, the working dir
 * (<pipelines_dir>/<name>/ with pipeline.json, state.json, schema.json,
 * packages/), the destination connection, `info`, `sync` and queries. The
 * stages themselves are in run.c. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/pipeline_int.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/naming.h"
#include "sluice/package.h"
#include "sluice/progress.h"
#include "sluice/toml.h"

#define DEFAULT_FILE_MAX ((uint64_t)64 << 20)

static const char *const pipeline_keys[] = {
    "name", "destination", "dataset_name", "progress", "export_schema_path",
    "import_schema_path", "source", "pipelines_dir", "log_period", NULL};

void sl__pipeline_progress(const sl_pipeline *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (p->prog) {
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    sl_progress_message(p->prog, "%s", line);
  } else {
    sl_logv(SL_LOG_INFO, fmt, ap);
  }
  va_end(ap);
}

static bool file_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* base/rel unless rel is absolute; "~/" is the home folder. malloc'ed. */
static char *resolve_path(const char *base, const char *rel) {
  if (!rel) return NULL;
  char *out = NULL;
  if (rel[0] == '/') return strdup(rel);
  if (rel[0] == '~' && (rel[1] == '/' || !rel[1])) {
    const char *home = getenv("HOME");
    if (asprintf(&out, "%s%s", home ? home : "", rel + 1) < 0) return NULL;
    return out;
  }
  if (!strcmp(rel, ".")) return strdup(base);
  if (rel[0] == '.' && rel[1] == '/') rel += 2;
  if (asprintf(&out, "%s/%s", base, rel) < 0) return NULL;
  return out;
}

static const sl_value *toml_get(const sl_pipeline *p, const char *dotted) {
  return p->toml ? sl_v_path(p->toml->root, dotted) : NULL;
}

/* A setting from the config layers (env, .sluice/ files, ~/.sluice), then sluice.toml. */
static const sl_value *setting(sl_pipeline *p, const char *dotted) {
  const sl_value *v = p->cfg ? sl_config_get(p->cfg, dotted, NULL) : NULL;
  return v ? v : toml_get(p, dotted);
}

static uint64_t setting_size(sl_pipeline *p, const char *a, const char *b, uint64_t dflt) {
  const sl_value *v = setting(p, a);
  if (!v && b) v = setting(p, b);
  if (v && v->type == SL_V_STRING) return strtoull(v->u.s.ptr, NULL, 10) ?: dflt;
  int64_t n = sl_v_int_or(v, 0);
  return n > 0 ? (uint64_t)n : dflt;
}

static sl_status pipeline_section(sl_pipeline *p, const char *toml_path, const sl_value **sec,
                                  sl_error *err) {
  *sec = toml_get(p, "pipeline");
  if (!*sec) return SL_OK;
  if ((*sec)->type != SL_V_OBJECT) {
    sl_error_set(err, SL_CONFIG_INVALID, "[pipeline] must be a table");
    sl_error_at(err, toml_path, (int)(*sec)->line, (int)(*sec)->col, -1);
    return err ? err->code : SL_CONFIG_INVALID;
  }
  for (size_t i = 0; i < (*sec)->u.obj.len; i++) {
    const sl_member *m = &(*sec)->u.obj.items[i];
    bool ok = false;
    for (size_t j = 0; pipeline_keys[j] && !ok; j++) ok = !strcmp(m->key, pipeline_keys[j]);
    if (!ok) {
      const char *sug = sl__did_you_mean(m->key, pipeline_keys);
      return sl__err_at(err, SL_CONFIG_INVALID, toml_path, m->val,
                        "unknown key '%s' in [pipeline]%s%s%s", m->key,
                        sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
    }
    if (!strcmp(m->key, "progress")) {
      if (m->val->type == SL_V_BOOL) continue;
      if (m->val->type != SL_V_STRING || sl_progress_mode_parse(m->val->u.s.ptr) < 0)
        return sl__err_at(err, SL_CONFIG_INVALID, toml_path, m->val,
                          "[pipeline] progress must be \"bar\", \"log\" or \"none\"");
      continue;
    }
    if (!strcmp(m->key, "log_period")) {
      if ((m->val->type != SL_V_INT && m->val->type != SL_V_NUMBER) || sl_v_num_or(m->val, 0) <= 0)
        return sl__err_at(err, SL_CONFIG_INVALID, toml_path, m->val,
                          "[pipeline] log_period must be a positive number of seconds");
      continue;
    }
    if (m->val->type != SL_V_STRING)
      return sl__err_at(err, SL_CONFIG_INVALID, toml_path, m->val, "[pipeline] %s must be a string",
                        m->key);
  }
  return SL_OK;
}

static const char *sec_str(const sl_value *sec, const char *key) {
  return sl_v_str(sl_v_get(sec, key), NULL);
}

static bool valid_name(const char *n) {
  if (!n || !*n || n[0] == '.') return false;
  for (; *n; n++)
    if (*n == '/' || (unsigned char)*n < 0x20) return false;
  return true;
}

/* The DuckDB file: [destination.duckdb] credentials (a path or duckdb:///path)
 * or path; default <name>.duckdb in the project folder. */
static char *duckdb_path_of(sl_pipeline *p) {
  /* The config layers' lookup drops sections (credentials -> CREDENTIALS), so
   * only the specific key goes through them; sluice.toml is read as written. */
  const char *v = p->cfg ? sl_v_str(sl_config_get(p->cfg, "destination.duckdb.credentials", NULL), NULL) : NULL;
  if (!v) v = sl_v_str(toml_get(p, "destination.duckdb.credentials"), NULL);
  if (!v) v = sl_v_str(toml_get(p, "destination.duckdb.credentials.database"), NULL);
  if (!v) v = sl_v_str(toml_get(p, "destination.duckdb.path"), NULL);
  if (v && *v) {
    if (!strncmp(v, "duckdb:///", 10)) v += 10;
    if (!strcmp(v, ":memory:")) return strdup(v);
    return resolve_path(p->project_dir, v);
  }
  char *out = NULL;
  if (asprintf(&out, "%s/%s.duckdb", p->project_dir, p->name) < 0) return NULL;
  return out;
}

static sl_status write_record(sl_pipeline *p, sl_error *err) {
  sl_doc *d = sl_doc_new("pipeline.json");
  if (!d) return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_value *o = sl_v_object(d);
  d->root = o;
  const char *kv[][2] = {{"pipeline_name", p->name},     {"project_dir", p->project_dir},
                         {"destination", p->destination}, {"dataset_name", p->dataset},
                         {"duckdb_path", p->duckdb_path}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
    if (kv[i][1]) sl_v_put(d, o, kv[i][0], sl_v_string(d, kv[i][1], strlen(kv[i][1])));
  sl_buf b = {0};
  sl_status st = sl_v_to_json(o, &b, 2);
  sl_doc_free(d);
  if (st) {
    sl_buf_free(&b);
    return sl_error_set(err, st, "out of memory");
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/pipeline.json", p->working_dir);
  char *old = NULL;
  size_t oldlen = 0;
  sl_error e;
  sl_error_clear(&e);
  bool have = sl_read_file(path, &old, &oldlen, &e) == SL_OK;
  /* Without a sluice.toml (attached by name, project gone) keep the record as it is. */
  bool same = have && (!p->toml || (oldlen == b.len && memcmp(old, b.data, b.len) == 0));
  free(old);
  if (!same) st = sl_write_file_atomic(path, b.data, b.len, err);
  sl_buf_free(&b);
  return st;
}

static sl_status load_local(sl_pipeline *p, sl_error *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/state.json", p->working_dir);
  sl_doc *st = NULL;
  if (file_exists(path)) {
    st = sl_json_parse_file(path, err);
    if (!st) return err ? err->code : SL_JSON_SYNTAX;
    if (!st->root || st->root->type != SL_V_OBJECT) {
      sl_doc_free(st);
      sl_error_set(err, SL_CONFIG_INVALID, "the state file is not a JSON object");
      sl_error_at(err, path, 0, 0, -1);
      return SL_CONFIG_INVALID;
    }
  } else {
    st = sl_doc_new("state");
    if (!st || !(st->root = sl_v_object(st))) {
      sl_doc_free(st);
      return sl_error_set(err, SL_NOMEM, "out of memory");
    }
  }
  sl_doc_free(p->state);
  p->state = st;
  snprintf(path, sizeof path, "%s/schema.json", p->working_dir);
  sl_schema_free(p->schema);
  p->schema = NULL;
  if (file_exists(path)) {
    p->schema = sl_schema_load_file(path, err);
    if (!p->schema) return err ? err->code : SL_SCHEMA;
  }
  return SL_OK;
}

sl_pipeline *sl_pipeline_open(const sl_pipeline_options *o, sl_error *err) {
  sl_pipeline_options none;
  if (!o) {
    memset(&none, 0, sizeof none);
    o = &none;
  }
  sl_error local;
  if (!err) err = &local;
  sl_error_clear(err);
  sl_pipeline *p = calloc(1, sizeof *p);
  if (!p) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  p->lock_fd = -1;
  char real[PATH_MAX];
  const char *dir = o->project_dir ? o->project_dir : ".";
  if (!realpath(dir, real)) {
    sl_error_set(err, SL_NOT_FOUND, "pipeline folder %s: %s", dir, strerror(errno));
    goto fail;
  }
  p->project_dir = strdup(real);
  char toml_path[PATH_MAX + 16];
  snprintf(toml_path, sizeof toml_path, "%s/sluice.toml", p->project_dir);
  if (file_exists(toml_path)) {
    p->toml = sl_toml_parse_file(toml_path, err);
    if (!p->toml) goto fail;
  } else if (!o->name) {
    sl_error_set(err, SL_NOT_FOUND, "no sluice.toml in %s (and no pipeline name given)",
                 p->project_dir);
    goto fail;
  }
  const sl_value *sec = NULL;
  if (pipeline_section(p, toml_path, &sec, err)) goto fail;
  const char *name = o->name ? o->name : sec_str(sec, "name");
  if (!name) {
    const char *slash = strrchr(p->project_dir, '/');
    name = slash && slash[1] ? slash + 1 : "pipeline";
  }
  if (!valid_name(name)) {
    sl_error_set(err, SL_CONFIG_INVALID, "pipeline name '%s' is not usable as a folder name", name);
    goto fail;
  }
  p->name = strdup(name);
  sl_config_options co = {.project_dir = p->project_dir, .home_dir = o->home_dir,
                          .pipeline_name = p->name};
  p->cfg = sl_config_open(&co, err);
  if (!p->cfg) goto fail;

  const char *v = o->destination ? o->destination : sec_str(sec, "destination");
  p->destination = strdup(v ? v : "duckdb");
  if (strcmp(p->destination, "duckdb") != 0 && strcmp(p->destination, "filesystem") != 0 &&
      strcmp(p->destination, "athena") != 0) {
    sl_error_set(err, SL_CONFIG_INVALID,
                 "destination '%s' is not supported (duckdb, filesystem, athena are)", p->destination);
    goto fail;
  }
  v = o->dataset_name ? o->dataset_name : sec_str(sec, "dataset_name");
  if (v) {
    p->dataset = strdup(v);
  } else if (asprintf(&p->dataset, "%s_dataset", p->name) < 0) {
    p->dataset = NULL;
  }
  if (p->dataset) {
    /* The dataset is an identifier in the destination: dlt's naming applies. */
    sl_buf nb = {0};
    if (sl_name_normalize(p->dataset, strlen(p->dataset), SL_NAME_MAX_DUCKDB, &nb) == SL_OK &&
        nb.data) {
      free(p->dataset);
      p->dataset = sl_buf_steal(&nb, NULL);
    }
    sl_buf_free(&nb);
  }
  v = o->pipelines_dir ? o->pipelines_dir : sec_str(sec, "pipelines_dir");
  if (!v) v = getenv("SLUICE_PIPELINES_DIR");
  if (v) {
    p->pipelines_dir = resolve_path(p->project_dir, v);
  } else {
    const char *home = getenv("HOME");
    if (asprintf(&p->pipelines_dir, "%s/.sluice/pipelines", home && *home ? home : "/tmp") < 0)
      p->pipelines_dir = NULL;
  }
  if (asprintf(&p->working_dir, "%s/%s", p->pipelines_dir ? p->pipelines_dir : ".", p->name) < 0 ||
      asprintf(&p->packages_dir, "%s/packages", p->working_dir) < 0 || !p->dataset) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    goto fail;
  }
  p->duckdb_path = o->duckdb_path ? resolve_path(p->project_dir, o->duckdb_path) : duckdb_path_of(p);
  v = o->export_schema_path ? o->export_schema_path : sec_str(sec, "export_schema_path");
  p->export_schema_path = resolve_path(p->project_dir, v);
  v = o->import_schema_path ? o->import_schema_path : sec_str(sec, "import_schema_path");
  p->import_schema_path = resolve_path(p->project_dir, v);
  v = o->source_path ? o->source_path : sec_str(sec, "source");
  p->source_path = resolve_path(p->project_dir, v);
  const sl_value *prog = sl_v_get(sec, "progress");
  if (o->progress > 0) p->progress = o->progress == 1 ? SL_PROGRESS_LOG : SL_PROGRESS_BAR;
  else if (o->progress < 0) p->progress = SL_PROGRESS_NONE;
  else if (prog && prog->type == SL_V_BOOL) p->progress = prog->u.b ? SL_PROGRESS_LOG : SL_PROGRESS_NONE;
  else if (prog) p->progress = sl_progress_mode_parse(sl_v_str(prog, "auto"));
  else p->progress = SL_PROGRESS_AUTO;
  if (p->progress < 0) p->progress = SL_PROGRESS_AUTO;
  p->log_period = sl_v_num_or(sl_v_get(sec, "log_period"), 1.0);
  p->extract_max = o->extract_file_max_bytes
                       ? o->extract_file_max_bytes
                       : setting_size(p, "extract.data_writer.file_max_bytes",
                                      "data_writer.file_max_bytes", DEFAULT_FILE_MAX);
  p->job_max = o->job_file_max_bytes
                   ? o->job_file_max_bytes
                   : setting_size(p, "normalize.data_writer.file_max_bytes",
                                  "data_writer.file_max_bytes", DEFAULT_FILE_MAX);
  p->duckdb_memory_mb = o->duckdb_memory_limit_mb
                           ? o->duckdb_memory_limit_mb
                           : setting_size(p, "destination.duckdb.memory_limit_mb", NULL, 0);
  p->duckdb_threads = o->duckdb_threads
                          ? o->duckdb_threads
                          : (unsigned)setting_size(p, "destination.duckdb.threads", NULL, 0);
  p->duckdb_txn_rows = o->duckdb_rows_per_transaction
                           ? o->duckdb_rows_per_transaction
                           : setting_size(p, "destination.duckdb.rows_per_transaction", NULL, 0);
  p->keep_packages = o->keep_packages > 0 ||
                     !sl_config_get_bool(p->cfg, "load.delete_completed_jobs", true);

  if (sl_mkdir_p(p->packages_dir, err) || write_record(p, err) || load_local(p, err)) goto fail;
  if (p->source_path) {
    sl_source_env env = {.base_dir = p->project_dir, .config = p->cfg};
    p->source = sl_source_load_file(p->source_path, &env, err);
    if (!p->source) goto fail;
  }
  return p;
fail:
  sl_pipeline_close(p);
  return NULL;
}

sl_pipeline *sl_pipeline_open_dir(const char *dir, sl_error *err) {
  sl_pipeline_options o;
  memset(&o, 0, sizeof o);
  o.project_dir = dir;
  return sl_pipeline_open(&o, err);
}

static char *default_pipelines_dir(void) {
  char *out = NULL;
  const char *v = getenv("SLUICE_PIPELINES_DIR");
  if (v) return strdup(v);
  const char *home = getenv("HOME");
  if (asprintf(&out, "%s/.sluice/pipelines", home && *home ? home : "/tmp") < 0) return NULL;
  return out;
}

sl_pipeline *sl_pipeline_attach(const char *name, const char *pipelines_dir, sl_error *err) {
  if (!valid_name(name)) {
    sl_error_set(err, SL_INVALID_ARG, "'%s' is not a pipeline name", name ? name : "");
    return NULL;
  }
  char *dir = pipelines_dir ? strdup(pipelines_dir) : default_pipelines_dir();
  char path[4096];
  snprintf(path, sizeof path, "%s/%s/pipeline.json", dir ? dir : ".", name);
  if (!file_exists(path)) {
    sl_error_set(err, SL_NOT_FOUND,
                 "no pipeline '%s' in %s (run it first, or run `sync` from its folder)", name,
                 dir ? dir : ".");
    free(dir);
    return NULL;
  }
  sl_doc *rec = sl_json_parse_file(path, err);
  if (!rec) {
    free(dir);
    return NULL;
  }
  sl_pipeline_options o;
  memset(&o, 0, sizeof o);
  o.name = name;
  o.pipelines_dir = dir;
  const char *proj = sl_v_str(sl_v_get(rec->root, "project_dir"), NULL);
  if (proj && file_exists(proj)) {
    o.project_dir = proj;
  } else {
    /* The project folder is gone: work from what the working dir recorded. */
    o.project_dir = dir;
    o.destination = sl_v_str(sl_v_get(rec->root, "destination"), NULL);
    o.dataset_name = sl_v_str(sl_v_get(rec->root, "dataset_name"), NULL);
    o.duckdb_path = sl_v_str(sl_v_get(rec->root, "duckdb_path"), NULL);
  }
  sl_pipeline *p = sl_pipeline_open(&o, err);
  sl_doc_free(rec);
  free(dir);
  return p;
}

static void info_clear(sl_pipeline *p) {
  for (size_t i = 0; i < p->info_nids; i++) free(p->info_ids[i]);
  free(p->info_ids);
  for (size_t i = 0; i < p->info_ntables; i++) free((char *)p->info_tables[i].table);
  free(p->info_tables);
  free(p->info_new_id);
  p->info_ids = NULL;
  p->info_nids = 0;
  p->info_tables = NULL;
  p->info_ntables = 0;
  p->info_new_id = NULL;
  memset(&p->info, 0, sizeof p->info);
}

void sl_pipeline_close(sl_pipeline *p) {
  if (!p) return;
  sl__pipeline_unlock(p);
  sl__pipeline_dest_close(p);
  info_clear(p);
  sl_source_free(p->source);
  sl_schema_free(p->schema);
  sl_doc_free(p->state);
  sl_buf_free(&p->state_text);
  sl_config_free(p->cfg);
  sl_doc_free(p->toml);
  free(p->name);
  free(p->project_dir);
  free(p->pipelines_dir);
  free(p->working_dir);
  free(p->packages_dir);
  free(p->destination);
  free(p->dataset);
  free(p->duckdb_path);
  free(p->export_schema_path);
  free(p->import_schema_path);
  free(p->source_path);
  free(p);
}

/* ---- resources ----------------------------------------------------------------- */

static sl_status ensure_source(sl_pipeline *p, sl_error *err) {
  if (p->source) return SL_OK;
  p->source = sl_source_new(p->name);
  return p->source ? SL_OK : sl_error_set(err, SL_NOMEM, "out of memory");
}

sl_status sl_pipeline_add_source_yaml(sl_pipeline *p, const char *yaml, size_t len,
                                      const char *name, sl_error *err) {
  bool fresh = !p->source;
  sl_status st = ensure_source(p, err);
  if (st) return st;
  sl_source_env env = {.base_dir = p->project_dir, .config = p->cfg};
  st = sl_source_add_yaml(p->source, yaml, len, name, &env, err);
  if (st && fresh) {
    sl_source_free(p->source);
    p->source = NULL;
  }
  return st;
}

sl_status sl_pipeline_add_resource(sl_pipeline *p, const sl_resource_def *def, sl_error *err) {
  sl_status st = ensure_source(p, err);
  return st ? st : sl_source_add_resource(p->source, def, err);
}

sl_source *sl_pipeline_source(sl_pipeline *p) { return p->source; }

/* ---- getters ---------------------------------------------------------------------- */

const char *sl_pipeline_name(const sl_pipeline *p) { return p->name; }
const char *sl_pipeline_dataset(const sl_pipeline *p) { return p->dataset; }
const char *sl_pipeline_working_dir(const sl_pipeline *p) { return p->working_dir; }
const char *sl_pipeline_project_dir(const sl_pipeline *p) { return p->project_dir; }
const sl_schema *sl_pipeline_schema(const sl_pipeline *p) { return p->schema; }
const sl_load_info *sl_pipeline_last_load(const sl_pipeline *p) { return &p->info; }

const char *sl_pipeline_state_json(sl_pipeline *p) {
  sl_buf_reset(&p->state_text);
  if (sl_v_to_json(p->state->root, &p->state_text, 0) != SL_OK) return "{}";
  return p->state_text.data ? p->state_text.data : "{}";
}

uint64_t sl_load_info_rows(const sl_load_info *li, const char *table) {
  for (size_t i = 0; li && i < li->ntables; i++)
    if (!strcmp(li->tables[i].table, table)) return li->tables[i].rows;
  return 0;
}

const char *sl__pipeline_schema_name(const sl_pipeline *p) {
  if (p->source) return sl_source_name(p->source);
  if (p->schema) return p->schema->name;
  const char *s = sl_v_str(sl_v_get(p->state->root, "default_schema_name"), NULL);
  return s ? s : p->name;
}

/* Reset the last-run info and fill it from what run.c collected. */
void sl__pipeline_info_set(sl_pipeline *p, char **ids, size_t nids, sl_load_table_info *tables,
                           size_t ntables, const char *new_id, uint64_t records, sl_status st,
                           const sl_error *err);
void sl__pipeline_info_set(sl_pipeline *p, char **ids, size_t nids, sl_load_table_info *tables,
                           size_t ntables, const char *new_id, uint64_t records, sl_status st,
                           const sl_error *err) {
  info_clear(p);
  p->info_ids = ids;
  p->info_nids = nids;
  p->info_tables = tables;
  p->info_ntables = ntables;
  p->info_new_id = new_id ? strdup(new_id) : NULL;
  p->info.pipeline_name = p->name;
  p->info.dataset_name = p->dataset;
  p->info.destination = p->destination;
  p->info.load_ids = (const char **)ids;
  p->info.npackages = nids;
  p->info.new_load_id = p->info_new_id;
  p->info.records = records;
  p->info.tables = tables;
  p->info.ntables = ntables;
  p->info.status = st;
  if (err && st) p->info.error = *err;
}

/* ---- destination ------------------------------------------------------------------- */

sl_status sl__pipeline_dest(sl_pipeline *p, bool create, sl_error *err) {
  if (p->dest) return SL_OK;
  if (strcmp(p->destination, "duckdb") != 0) { /* filesystem, athena: src/dest/filesystem_config.c */
    p->dest = sl_dest_open_configured(p->destination, p->cfg, p->toml ? p->toml->root : NULL,
                                      p->project_dir, p->dataset, err);
    return p->dest ? SL_OK : err && err->code ? err->code : SL_DESTINATION;
  }
  if (!create && strcmp(p->duckdb_path, ":memory:") != 0 && !file_exists(p->duckdb_path))
    return sl_error_set(err, SL_NOT_FOUND, "the destination %s does not exist yet", p->duckdb_path);
  sl_duckdb_options o = {.path = p->duckdb_path, .dataset = p->dataset,
                         .memory_limit_mb = p->duckdb_memory_mb, .threads = p->duckdb_threads,
                         .rows_per_transaction = p->duckdb_txn_rows};
  if (create && strcmp(p->duckdb_path, ":memory:") != 0 && !file_exists(p->duckdb_path)) {
    /* DuckDB killed while it creates a file leaves one it cannot open again:
     * create it under a temporary name, close it cleanly, then rename. */
    char tmp[4096], tmpwal[4200], dir[4096];
    snprintf(tmp, sizeof tmp, "%s.creating", p->duckdb_path);
    snprintf(tmpwal, sizeof tmpwal, "%s.wal", tmp);
    unlink(tmp);
    unlink(tmpwal);
    sl_duckdb_options to = o;
    to.path = tmp;
    sl_dest *d = sl_duckdb_open(&to, err);
    if (!d) return err && err->code ? err->code : SL_DESTINATION;
    sl_dest_close(d);
    if (file_exists(tmpwal))
      return sl_error_set(err, SL_DESTINATION, "DuckDB left a WAL after creating %s", tmp);
    if (rename(tmp, p->duckdb_path) != 0)
      return sl_error_set(err, SL_IO, "cannot rename %s: %s", tmp, strerror(errno));
    snprintf(dir, sizeof dir, "%s", p->duckdb_path);
    char *slash = strrchr(dir, '/');
    if (slash) {
      *slash = '\0';
      sl_status st = sl_fsync_dir(slash == dir ? "/" : dir, err);
      if (st) return st;
    }
  }
  p->dest = sl_duckdb_open(&o, err);
  if (!p->dest) return err && err->code ? err->code : SL_DESTINATION;
  return SL_OK;
}

void sl__pipeline_dest_close(sl_pipeline *p) {
  sl_dest_close(p->dest);
  p->dest = NULL;
}

sl_status sl__pipeline_save_state(sl_pipeline *p, const char *json, size_t len, sl_error *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/state.json", p->working_dir);
  sl_doc *d = sl_json_parse_doc(json, len, "state.json", err);
  if (!d) return err ? err->code : SL_JSON_SYNTAX;
  sl_status st = sl_write_file_atomic(path, json, len, err);
  if (st) {
    sl_doc_free(d);
    return st;
  }
  sl_doc_free(p->state);
  p->state = d;
  return SL_OK;
}

sl_status sl__pipeline_save_schema(sl_pipeline *p, const sl_schema *s, sl_error *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/schema.json", p->working_dir);
  sl_status st = sl_schema_save_file(s, path, err);
  if (st) return st;
  if (p->export_schema_path) {
    if ((st = sl_mkdir_p(p->export_schema_path, err))) return st;
    snprintf(path, sizeof path, "%s/%s.schema.yaml", p->export_schema_path, s->name);
    if ((st = sl_schema_save_file(s, path, err))) return st;
  }
  if (p->schema != s) {
    sl_schema *c = sl_schema_clone(s);
    if (!c) return sl_error_set(err, SL_NOMEM, "out of memory");
    sl_schema_free(p->schema);
    p->schema = c;
  }
  return SL_OK;
}

sl_status sl__pipeline_restore(sl_pipeline *p, bool *found, sl_error *err) {
  *found = false;
  sl_status st = sl__pipeline_dest(p, false, err);
  if (st == SL_NOT_FOUND) {
    sl_error_clear(err);
    return SL_OK;
  }
  if (st) return st;
  char *state = NULL, *schema = NULL;
  if ((st = p->dest->vt->stored_state(p->dest, p->name, &state, err))) return st;
  if (state) {
    st = sl__pipeline_save_state(p, state, strlen(state), err);
    free(state);
    if (st) return st;
    *found = true;
  }
  const char *sname = sl__pipeline_schema_name(p);
  const char *state_schema = sl_v_str(sl_v_get(p->state->root, "default_schema_name"), NULL);
  if (state_schema) sname = state_schema;
  char *sname_copy = strdup(sname);
  st = p->dest->vt->stored_schema(p->dest, sname_copy, &schema, err);
  free(sname_copy);
  if (st) return st;
  if (schema) {
    sl_doc *d = sl_json_parse_doc(schema, strlen(schema), "stored schema", err);
    free(schema);
    if (!d) return err->code;
    sl_schema *s = sl_schema_from_value(d->root, err);
    sl_doc_free(d);
    if (!s) return err->code;
    st = sl__pipeline_save_schema(p, s, err);
    sl_schema_free(s);
    if (st) return st;
    *found = true;
  }
  return SL_OK;
}

sl_status sl_pipeline_sync(sl_pipeline *p, sl_error *err) {
  sl_error local;
  if (!err) err = &local;
  sl_error_clear(err);
  sl_status st = sl__pipeline_lock(p, err);
  if (st) return st;
  bool found = false;
  st = sl__pipeline_restore(p, &found, err);
  if (!st && !found)
    st = sl_error_set(err, SL_NOT_FOUND,
                      "the destination %s has no state or schema of pipeline '%s' (dataset %s)",
                      p->duckdb_path, p->name, p->dataset);
  sl__pipeline_dest_close(p);
  sl__pipeline_unlock(p);
  return st;
}

sl_status sl_pipeline_drop_pending(sl_pipeline *p, size_t *dropped, sl_error *err) {
  if (dropped) *dropped = 0;
  sl_status st = sl__pipeline_lock(p, err);
  if (st) return st;
  char **ids = NULL;
  size_t n = 0;
  st = sl_package_list_pending(p->packages_dir, &ids, &n, err);
  for (size_t i = 0; !st && i < n; i++) {
    sl_package *pk = sl_package_open(p->packages_dir, ids[i], err);
    if (!pk) {
      st = err && err->code ? err->code : SL_IO;
      break;
    }
    st = sl_package_set_state(pk, SL_PKG_ABORTED, err);
    sl_package_close(pk);
    if (!st && dropped) (*dropped)++;
  }
  sl_package_list_free(ids, n);
  sl__pipeline_unlock(p);
  return st;
}

sl_status sl_pipeline_query(sl_pipeline *p, const char *sql, sl_query_format fmt, sl_buf *out,
                            sl_error *err) {
  sl_status st = sl__pipeline_dest(p, false, err);
  if (st) return st;
  st = sl_dest_query(p->dest, p->schema, sql, fmt, out, err);
  sl__pipeline_dest_close(p);
  return st;
}

sl_status sl_pipeline_info(sl_pipeline *p, sl_buf *out, sl_error *err) {
  sl_buf_printf(out, "pipeline %s\n", p->name);
  sl_buf_printf(out, "  project:     %s\n", p->project_dir);
  sl_buf_printf(out, "  working dir: %s\n", p->working_dir);
  sl_buf_printf(out, "  destination: %s (%s), dataset %s\n", p->destination, p->duckdb_path,
                p->dataset);
  sl_buf_puts(out, "\nstate:\n");
  sl_buf state = {0};
  sl_v_to_json(p->state->root, &state, 2);
  sl_buf_printf(out, "%s\n", state.data ? state.data : "{}");
  sl_buf_free(&state);

  sl_table_count *counts = NULL;
  size_t ncounts = 0;
  bool have_dest = false;
  sl_error derr;
  sl_error_clear(&derr);
  if (sl__pipeline_dest(p, false, &derr) == SL_OK) {
    have_dest = true;
    if (p->schema && p->dest->vt->row_counts(p->dest, p->schema, &counts, &ncounts, &derr))
      ncounts = 0;
  }
  if (p->schema) {
    sl_buf_printf(out, "\nschema %s, version %lld (%s):\n", p->schema->name,
                  (long long)p->schema->version, p->schema->version_hash);
    for (size_t i = 0; i < p->schema->ntables; i++) {
      const sl_table *t = p->schema->tables[i];
      if (sl_table_is_system(t)) continue;
      int64_t rows = -2;
      for (size_t j = 0; j < ncounts; j++)
        if (!strcmp(counts[j].table, t->name)) rows = counts[j].rows;
      sl_buf_printf(out, "  %-40s %-8s %3zu columns  ", t->name, sl_wd_name(t->write_disposition),
                    t->ncolumns);
      if (rows >= 0)
        sl_buf_printf(out, "%lld rows\n", (long long)rows);
      else
        sl_buf_puts(out, rows == -1 ? "not in the destination\n" : "rows unknown\n");
    }
  } else {
    sl_buf_puts(out, "\nschema: none yet (nothing was loaded)\n");
  }
  sl_table_counts_free(counts, ncounts);

  char **ids = NULL;
  size_t nids = 0;
  sl_buf_puts(out, "\npending packages:");
  if (sl_package_list_pending(p->packages_dir, &ids, &nids, NULL) == SL_OK && nids) {
    sl_buf_puts(out, "\n");
    for (size_t i = 0; i < nids; i++) {
      sl_package *pk = sl_package_open(p->packages_dir, ids[i], NULL);
      sl_buf_printf(out, "  %s  %s\n", ids[i],
                    pk ? sl_package_state_name(sl_package_get_state(pk)) : "unreadable");
      sl_package_close(pk);
    }
  } else {
    sl_buf_puts(out, " none\n");
  }
  sl_package_list_free(ids, nids);

  sl_buf_puts(out, "\nlast loads:\n");
  if (have_dest) {
    sl_buf q = {0};
    if (sl_duckdb_query(p->dest,
                        "SELECT load_id, schema_name, status, CAST(inserted_at AS VARCHAR) AS "
                        "inserted_at FROM _dlt_loads "
                        "ORDER BY load_id DESC LIMIT 10",
                        true, SL_QF_TABLE, &q, &derr) == SL_OK)
      sl_buf_printf(out, "%s", q.data ? q.data : "");
    else
      sl_buf_puts(out, "  none\n");
    sl_buf_free(&q);
  } else {
    sl_buf_printf(out, "  none (%s)\n", derr.msg);
  }
  sl__pipeline_dest_close(p);
  (void)err;
  return SL_OK;
}
