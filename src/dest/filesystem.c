/* The filesystem destination: a package's job files written as Parquet (by
 * DuckDB's writer) or JSON lines into a local folder or an S3 prefix, with
 * dlt's layout and system files:
 *
 *   <dataset>/init
 *   <dataset>/<layout>                        default {table_name}/{load_id}.{file_id}.{ext}
 *   <dataset>/_dlt_version/<schema>__<load_id>__<hash>.jsonl
 *   <dataset>/_dlt_pipeline_state/<pipeline>__<load_id>__<hash>.jsonl
 *   <dataset>/_dlt_loads/<schema>__<load_id>.jsonl      (written last: the commit)
 *
 * Data file names depend only on the load id and the job, so a load killed at
 * any instant and re-run rewrites the same names; replace deletes a table's
 * other files only after the new ones are in place; the load is marked done
 * by the _dlt_loads file, written last. A load id with a _dlt_loads file is
 * not loaded again. Merge is loaded as append (as dlt's filesystem does
 * without a table format). Queries (sl_dest_query) run in an in-memory DuckDB
 * over views of the files: on S3, of a private local copy made for the query. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dest/duckdb_int.h"
#include "dest/filesystem_int.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/value.h"

/* Test hook (src/pipeline/crash.c): SLUICE_TEST_CRASH=<point>:<n>. */
void sl__crash_point(const char *point);

static const char *const job_folder[] = {"new_jobs", "started_jobs", "completed_jobs", "failed_jobs"};

/* ---- names --------------------------------------------------------------------- */

/* A path segment we accept from a schema: normalized names never hold these. */
static bool safe_segment(const char *s) {
  if (!s || !*s || !strcmp(s, ".") || !strcmp(s, "..")) return false;
  for (; *s; s++)
    if (*s == '/' || *s == '\\' || (unsigned char)*s < 0x20) return false;
  return true;
}

static void path_safe(const char *in, char *out, size_t size) {
  size_t o = 0;
  for (; in && *in && o + 1 < size; in++)
    if ((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') || (*in >= '0' && *in <= '9') || *in == '_')
      out[o++] = *in;
  out[o] = '\0';
}

/* ---- storage: local folder or S3 ------------------------------------------------- */

static sl_status full_path(sl__fs *f, const char *rel, char *out, size_t size) {
  int n = f->s3 ? snprintf(out, size, "%s%s%s", f->prefix, *f->prefix ? "/" : "", rel)
                : snprintf(out, size, "%s/%s", f->prefix, rel);
  return n < 0 || (size_t)n >= size ? SL_TOO_LARGE : SL_OK;
}

static sl_status copy_file(const char *from, const char *to, sl_error *err) {
  int in = open(from, O_RDONLY);
  if (in < 0) return sl_error_set(err, SL_IO, "cannot open %s: %s", from, strerror(errno));
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0) {
    close(in);
    return sl_error_set(err, SL_IO, "cannot create %s: %s", to, strerror(errno));
  }
  static __thread char buf[1 << 16];
  sl_status st = SL_OK;
  for (;;) {
    ssize_t r = read(in, buf, sizeof buf);
    if (r < 0) { st = sl_error_set(err, SL_IO, "cannot read %s: %s", from, strerror(errno)); break; }
    if (r == 0) break;
    for (ssize_t w = 0; w < r;) {
      ssize_t k = write(out, buf + w, (size_t)(r - w));
      if (k < 0) { st = sl_error_set(err, SL_IO, "cannot write %s: %s", to, strerror(errno)); break; }
      w += k;
    }
    if (st) break;
  }
  if (!st && fsync(out) != 0) st = sl_error_set(err, SL_IO, "cannot sync %s: %s", to, strerror(errno));
  close(in);
  if (close(out) != 0 && !st) st = sl_error_set(err, SL_IO, "cannot write %s: %s", to, strerror(errno));
  return st;
}

static sl_status local_parent(const char *path, sl_error *err) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) return SL_OK;
  *slash = '\0';
  return sl_mkdir_p(dir, err);
}

sl_status sl__fs_put_file(sl__fs *f, const char *rel, const char *local, sl_error *err) {
  char p[4096];
  if (full_path(f, rel, p, sizeof p)) return sl_error_set(err, SL_TOO_LARGE, "path too long: %s", rel);
  if (f->s3) return sl_s3_put_file(f->s3, f->bucket, p, local, err);
  sl_status st = local_parent(p, err);
  if (st) return st;
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", p, (int)getpid());
  if ((st = copy_file(local, tmp, err))) {
    unlink(tmp);
    return st;
  }
  if (rename(tmp, p) != 0) {
    st = sl_error_set(err, SL_IO, "cannot rename %s: %s", tmp, strerror(errno));
    unlink(tmp);
    return st;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", p);
  *strrchr(dir, '/') = '\0';
  return sl_fsync_dir(dir, err);
}

sl_status sl__fs_put(sl__fs *f, const char *rel, const void *data, size_t len, sl_error *err) {
  char p[4096];
  if (full_path(f, rel, p, sizeof p)) return sl_error_set(err, SL_TOO_LARGE, "path too long: %s", rel);
  if (f->s3) return sl_s3_put(f->s3, f->bucket, p, data, len, err);
  sl_status st = local_parent(p, err);
  return st ? st : sl_write_file_atomic(p, data, len, err);
}

sl_status sl__fs_get(sl__fs *f, const char *rel, sl_buf *out, sl_error *err) {
  char p[4096];
  if (full_path(f, rel, p, sizeof p)) return sl_error_set(err, SL_TOO_LARGE, "path too long: %s", rel);
  if (f->s3) return sl_s3_get(f->s3, f->bucket, p, out, err);
  char *data = NULL;
  size_t len = 0;
  sl_status st = sl_read_file(p, &data, &len, err);
  if (st) return st;
  st = sl_buf_append(out, data, len);
  free(data);
  return st;
}

/* Fetch a file to a local path (a copy for S3, the file itself when local). */
sl_status sl__fs_local_copy(sl__fs *f, const char *rel, const char *tmp, char *out, size_t size,
                            sl_error *err) {
  char p[4096];
  if (full_path(f, rel, p, sizeof p)) return sl_error_set(err, SL_TOO_LARGE, "path too long: %s", rel);
  if (!f->s3) {
    snprintf(out, size, "%s", p);
    return SL_OK;
  }
  snprintf(out, size, "%s", tmp);
  return sl_s3_get_file(f->s3, f->bucket, p, tmp, err);
}

static sl_status add_name(char ***names, size_t *n, size_t *cap, const char *s, size_t len) {
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 32;
    char **v = realloc(*names, c * sizeof *v);
    if (!v) return SL_NOMEM;
    *names = v;
    *cap = c;
  }
  (*names)[*n] = strndup(s, len);
  if (!(*names)[*n]) return SL_NOMEM;
  (*n)++;
  return SL_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static sl_status walk(const char *base, const char *rel, char ***names, size_t *n, size_t *cap,
                      sl_error *err) {
  char p[4096];
  snprintf(p, sizeof p, "%s%s%s", base, *rel ? "/" : "", rel);
  DIR *d = opendir(p);
  if (!d) {
    if (errno == ENOENT || errno == ENOTDIR) return SL_OK;
    return sl_error_set(err, SL_IO, "cannot list %s: %s", p, strerror(errno));
  }
  struct dirent *e;
  sl_status st = SL_OK;
  while (!st && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (strstr(e->d_name, ".tmp.")) continue;
    char r[4096];
    snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
    char full[8200];
    snprintf(full, sizeof full, "%s/%s", base, r);
    struct stat sb;
    if (stat(full, &sb) != 0) continue;
    if (S_ISDIR(sb.st_mode)) st = walk(base, r, names, n, cap, err);
    else if (add_name(names, n, cap, r, strlen(r))) st = sl_error_set(err, SL_NOMEM, "out of memory");
  }
  closedir(d);
  return st;
}

/* Every file whose relative name starts with prefix (recursively), sorted. */
sl_status sl__fs_list(sl__fs *f, const char *prefix, char ***names, size_t *n, sl_error *err) {
  *names = NULL;
  *n = 0;
  size_t cap = 0;
  sl_status st = SL_OK;
  if (f->s3) {
    char p[4096];
    if (full_path(f, prefix, p, sizeof p)) return sl_error_set(err, SL_TOO_LARGE, "path too long");
    sl_s3_object *o = NULL;
    size_t no = 0;
    if ((st = sl_s3_list(f->s3, f->bucket, p, &o, &no, err))) return st;
    size_t skip = strlen(f->prefix) + (*f->prefix ? 1 : 0);
    for (size_t i = 0; i < no && !st; i++)
      if (strlen(o[i].key) > skip && add_name(names, n, &cap, o[i].key + skip, strlen(o[i].key + skip)))
        st = sl_error_set(err, SL_NOMEM, "out of memory");
    sl_s3_objects_free(o, no);
  } else {
    /* Walk the folder part of the prefix, then filter by the rest. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", prefix);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else dir[0] = '\0';
    st = walk(f->prefix, dir, names, n, &cap, err);
    size_t k = 0, pl = strlen(prefix);
    for (size_t i = 0; i < *n; i++) {
      if (!strncmp((*names)[i], prefix, pl)) (*names)[k++] = (*names)[i];
      else free((*names)[i]);
    }
    *n = k;
  }
  if (st) {
    sl_package_list_free(*names, *n);
    *names = NULL;
    *n = 0;
    return st;
  }
  if (*n) qsort(*names, *n, sizeof **names, cmp_str);
  return SL_OK;
}

sl_status sl__fs_delete(sl__fs *f, char *const *rels, size_t n, sl_error *err) {
  if (n == 0) return SL_OK;
  if (f->s3) {
    const char **keys = calloc(n, sizeof *keys);
    if (!keys) return sl_error_set(err, SL_NOMEM, "out of memory");
    sl_status st = SL_OK;
    for (size_t i = 0; i < n && !st; i++) {
      char p[4096];
      if (full_path(f, rels[i], p, sizeof p) || !(keys[i] = strdup(p)))
        st = sl_error_set(err, SL_NOMEM, "out of memory");
    }
    if (!st) st = sl_s3_delete(f->s3, f->bucket, keys, n, err);
    for (size_t i = 0; i < n; i++) free((char *)keys[i]);
    free(keys);
    return st;
  }
  for (size_t i = 0; i < n; i++) {
    char p[4096];
    if (full_path(f, rels[i], p, sizeof p)) continue;
    if (unlink(p) != 0 && errno != ENOENT)
      return sl_error_set(err, SL_IO, "cannot delete %s: %s", p, strerror(errno));
  }
  return SL_OK;
}

/* ---- layout ---------------------------------------------------------------------- */

/* dlt's date and time placeholders (pendulum tokens, lower-cased as dlt
 * does), taken from the load id's time in UTC so that a re-run of a load
 * writes the same names. False when name is not one. */
static bool time_placeholder(const char *name, size_t n, const char *load_id, char *out, size_t size) {
  static const char *const months[] = {"january", "february", "march", "april", "may", "june", "july",
                                       "august", "september", "october", "november", "december"};
  static const char *const days[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
                                     "saturday"};
  static const char *const names[] = {"YYYY", "YY", "Y", "MMMM", "MMM", "MM", "M", "DD", "D", "HH", "H",
                                      "mm", "m", "dddd", "ddd", "dd", "d", "Q", "curr_date", "timestamp",
                                      "timestamp_ms", "load_package_timestamp",
                                      "load_package_timestamp_ms", NULL};
  size_t k = 0;
  while (names[k] && (strlen(names[k]) != n || strncmp(names[k], name, n))) k++;
  if (!names[k]) return false;
  if (!out) return true;
  double secs = load_id ? strtod(load_id, NULL) : 0;
  time_t t = (time_t)secs;
  struct tm tm;
  gmtime_r(&t, &tm);
  int y = tm.tm_year + 1900, mo = tm.tm_mon + 1;
  const char *tok = names[k];
  if (!strcmp(tok, "YYYY") || !strcmp(tok, "Y")) snprintf(out, size, "%d", y);
  else if (!strcmp(tok, "YY")) snprintf(out, size, "%02d", y % 100);
  else if (!strcmp(tok, "MMMM")) snprintf(out, size, "%s", months[tm.tm_mon % 12]);
  else if (!strcmp(tok, "MMM")) snprintf(out, size, "%.3s", months[tm.tm_mon % 12]);
  else if (!strcmp(tok, "MM")) snprintf(out, size, "%02d", mo);
  else if (!strcmp(tok, "M")) snprintf(out, size, "%d", mo);
  else if (!strcmp(tok, "DD")) snprintf(out, size, "%02d", tm.tm_mday);
  else if (!strcmp(tok, "D")) snprintf(out, size, "%d", tm.tm_mday);
  else if (!strcmp(tok, "HH")) snprintf(out, size, "%02d", tm.tm_hour);
  else if (!strcmp(tok, "H")) snprintf(out, size, "%d", tm.tm_hour);
  else if (!strcmp(tok, "mm")) snprintf(out, size, "%02d", tm.tm_min);
  else if (!strcmp(tok, "m")) snprintf(out, size, "%d", tm.tm_min);
  else if (!strcmp(tok, "dddd")) snprintf(out, size, "%s", days[tm.tm_wday % 7]);
  else if (!strcmp(tok, "ddd")) snprintf(out, size, "%.3s", days[tm.tm_wday % 7]);
  else if (!strcmp(tok, "dd")) snprintf(out, size, "%.2s", days[tm.tm_wday % 7]);
  else if (!strcmp(tok, "d")) snprintf(out, size, "%d", tm.tm_wday);
  else if (!strcmp(tok, "Q")) snprintf(out, size, "%d", tm.tm_mon / 3 + 1);
  else if (!strcmp(tok, "curr_date")) snprintf(out, size, "%d-%02d-%02d", y, mo, tm.tm_mday);
  else if (strstr(tok, "_ms")) snprintf(out, size, "%lld", (long long)(secs * 1000));
  else snprintf(out, size, "%lld", (long long)t);
  return true;
}

/* Expand the layout. With stop_at_load set, stop at the first placeholder that
 * is not {table_name}/{schema_name}: the prefix every file of the table has. */
static sl_status expand(const sl__fs *f, const char *table, const char *schema_name,
                        const char *load_id, const char *file_id, bool stop_at_load, sl_buf *out) {
  const char *ext = f->jsonl ? (f->gzip ? "jsonl.gz" : "jsonl") : "parquet";
  char when[64];
  sl_status st = sl_buf_puts(out, "");
  for (const char *p = f->layout; *p && !st;) {
    if (*p != '{') {
      st = sl_buf_putc(out, *p++);
      continue;
    }
    const char *e = strchr(p, '}');
    if (!e) {
      st = sl_buf_puts(out, p);
      break;
    }
    size_t n = (size_t)(e - p - 1);
    const char *name = p + 1;
    const char *val = NULL;
    bool data_part = true;
    if (n == 10 && !strncmp(name, "table_name", n)) val = table, data_part = false;
    else if (n == 11 && !strncmp(name, "schema_name", n)) val = schema_name, data_part = false;
    else if (n == 7 && !strncmp(name, "load_id", n)) val = load_id;
    else if (n == 7 && !strncmp(name, "file_id", n)) val = file_id;
    else if (n == 3 && !strncmp(name, "ext", n)) val = ext;
    else if (time_placeholder(name, n, load_id, when, sizeof when)) val = when;
    if (data_part && stop_at_load) break;
    if (val) st = sl_buf_puts(out, val);
    else st = sl_buf_append(out, p, (size_t)(e - p + 1));
    p = e + 1;
  }
  /* dlt: a layout without {ext} gets the extension appended. */
  if (!st && !stop_at_load && !strstr(f->layout, "{ext}")) st = sl_buf_printf(out, ".%s", ext);
  return st;
}

/* dlt's rules for a layout: known placeholders only; nothing but
 * {schema_name} before {table_name} (the table's files must share a prefix,
 * which replace, drop and the query list); a separator after {table_name}
 * (pins/ must not also list pins__tags/). Ours on top: relative, and
 * {load_id} and {file_id} in it, so that file names never collide and a
 * re-run rewrites the same names. */
static sl_status check_layout(const char *layout, sl_error *err) {
  if (strstr(layout, "..") || layout[0] == '/' || !strstr(layout, "{table_name}") ||
      !strstr(layout, "{load_id}") || !strstr(layout, "{file_id}"))
    return sl_error_set(err, SL_CONFIG_INVALID,
                        "layout '%s' must be relative and hold {table_name}, {load_id} and {file_id}", layout);
  bool seen_table = false;
  for (const char *p = layout; (p = strchr(p, '{'));) {
    const char *e = strchr(p, '}');
    if (!e)
      return sl_error_set(err, SL_CONFIG_INVALID, "layout '%s': a '{' without its '}'", layout);
    const char *name = p + 1;
    size_t n = (size_t)(e - name);
    bool table = n == 10 && !strncmp(name, "table_name", n);
    bool schema = n == 11 && !strncmp(name, "schema_name", n);
    bool known = table || schema || (n == 7 && !strncmp(name, "load_id", n)) ||
                 (n == 7 && !strncmp(name, "file_id", n)) || (n == 3 && !strncmp(name, "ext", n)) ||
                 time_placeholder(name, n, NULL, NULL, 0);
    if (!known)
      return sl_error_set(err, SL_CONFIG_INVALID,
                          "layout '%s': unknown placeholder {%.*s} (known: {table_name}, {schema_name}, "
                          "{load_id}, {file_id}, {ext}, {curr_date}, {timestamp}, {timestamp_ms}, "
                          "{load_package_timestamp}, {load_package_timestamp_ms}, {YYYY}, {YY}, {Y}, "
                          "{MMMM}, {MMM}, {MM}, {M}, {DD}, {D}, {HH}, {H}, {mm}, {m}, {dddd}, {ddd}, "
                          "{dd}, {d}, {Q})",
                          layout, (int)n, name);
    if (!seen_table && !table && !schema)
      return sl_error_set(err, SL_CONFIG_INVALID,
                          "layout '%s': only {schema_name} may come before {table_name}, not {%.*s}",
                          layout, (int)n, name);
    if (table && (e[1] == '{' || e[1] == '\0'))
      return sl_error_set(err, SL_CONFIG_INVALID,
                          "layout '%s': {table_name} needs a separator after it (e.g. '/')", layout);
    seen_table |= table;
    p = e + 1;
  }
  return SL_OK;
}

/* ---- system files ------------------------------------------------------------------ */

static void iso_now(char *out, size_t size) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char b[40];
  strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, size, "%.20s.%06dZ", b, (int)(ts.tv_nsec / 1000));
}

static sl_status json_str(sl_buf *b, const char *key, const char *val, bool comma) {
  sl_status st = sl_buf_printf(b, "%s\"%s\": ", comma ? ", " : "", key);
  if (st) return st;
  if (!val) return sl_buf_puts(b, "null");
  sl_doc *d = sl_doc_new("x");
  if (!d) return SL_NOMEM;
  sl_value *v = sl_v_string(d, val, strlen(val));
  st = v ? sl_v_to_json(v, b, 0) : SL_NOMEM;
  sl_doc_free(d);
  return st;
}

/* Load ids that have a _dlt_loads file. */
static sl_status loaded_ids(sl__fs *f, char ***ids, size_t *n, sl_error *err) {
  char **names = NULL;
  size_t nn = 0;
  sl_status st = sl__fs_list(f, "_dlt_loads/", &names, &nn, err);
  if (st) return st;
  size_t k = 0;
  for (size_t i = 0; i < nn; i++) {
    char *base = names[i] + strlen("_dlt_loads/");
    char *sep = strstr(base, "__");
    char *dot = strstr(base, ".jsonl");
    if (!sep || !dot || dot < sep) {
      free(names[i]);
      continue;
    }
    *dot = '\0';
    memmove(names[i], sep + 2, strlen(sep + 2) + 1);
    names[k++] = names[i];
  }
  *ids = names;
  *n = k;
  return SL_OK;
}

static int cmp_load_id(const char *a, const char *b) {
  double x = strtod(a, NULL), y = strtod(b, NULL);
  return x < y ? -1 : x > y ? 1 : strcmp(a, b);
}

static sl_status fs_is_loaded(sl_dest *d, const char *load_id, bool *loaded, sl_error *err) {
  sl__fs *f = (sl__fs *)d;
  char **ids = NULL;
  size_t n = 0;
  *loaded = false;
  sl_status st = loaded_ids(f, &ids, &n, err);
  for (size_t i = 0; !st && i < n; i++)
    if (!strcmp(ids[i], load_id)) *loaded = true;
  sl_package_list_free(ids, n);
  return st;
}

/* The newest file under folder/ named <name>__<load_id>__… whose load id is
 * loaded; its JSON line parsed. */
static sl_status newest_system_row(sl__fs *f, const char *folder, const char *name, sl_doc **doc,
                                   sl_error *err) {
  *doc = NULL;
  char **ids = NULL, **names = NULL;
  size_t nid = 0, nn = 0;
  char prefix[1024];
  snprintf(prefix, sizeof prefix, "%s/%s__", folder, name);
  sl_status st = loaded_ids(f, &ids, &nid, err);
  if (!st) st = sl__fs_list(f, prefix, &names, &nn, err);
  const char *best = NULL;
  char best_id[64] = "";
  for (size_t i = 0; !st && i < nn; i++) {
    const char *lid = names[i] + strlen(prefix);
    const char *end = strstr(lid, "__");
    if (!end) end = strstr(lid, ".jsonl");
    if (!end || (size_t)(end - lid) >= sizeof best_id) continue;
    char id[64];
    memcpy(id, lid, (size_t)(end - lid));
    id[end - lid] = '\0';
    bool ok = false;
    for (size_t k = 0; k < nid && !ok; k++) ok = !strcmp(ids[k], id);
    if (!ok) continue;
    if (!best || cmp_load_id(id, best_id) >= 0) {
      best = names[i];
      snprintf(best_id, sizeof best_id, "%s", id);
    }
  }
  if (!st && best) {
    sl_buf b = {0};
    st = sl__fs_get(f, best, &b, err);
    if (!st) {
      *doc = sl_json_parse_doc(b.data ? b.data : "", b.len, best, err);
      if (!*doc) st = err && err->code ? err->code : SL_JSON_SYNTAX;
    }
    sl_buf_free(&b);
  }
  sl_package_list_free(ids, nid);
  sl_package_list_free(names, nn);
  return st;
}

static sl_status fs_stored_state(sl_dest *d, const char *pipeline_name, char **state_json, sl_error *err) {
  sl__fs *f = (sl__fs *)d;
  *state_json = NULL;
  sl_doc *doc = NULL;
  sl_status st = newest_system_row(f, "_dlt_pipeline_state", pipeline_name, &doc, err);
  if (st || !doc) return st;
  const char *enc = sl_v_str(sl_v_get(doc->root, "state"), NULL);
  if (enc) st = sl__dest_state_decode(enc, strlen(enc), state_json, err);
  sl_doc_free(doc);
  return st;
}

static sl_status fs_stored_schema(sl_dest *d, const char *schema_name, char **schema_json, sl_error *err) {
  sl__fs *f = (sl__fs *)d;
  *schema_json = NULL;
  sl_doc *doc = NULL;
  sl_status st = newest_system_row(f, "_dlt_version", schema_name, &doc, err);
  if (st || !doc) return st;
  const char *s = sl_v_str(sl_v_get(doc->root, "schema"), NULL);
  if (s && !(*schema_json = strdup(s))) st = sl_error_set(err, SL_NOMEM, "out of memory");
  sl_doc_free(doc);
  return st;
}

/* ---- converting job files ------------------------------------------------------------- */

/* Job file → a local Parquet / JSON lines file through the in-memory DuckDB. */
sl_status sl__fs_convert(sl__fs *f, const sl_table *t, const char *job_path, const char *out_path,
                         bool jsonl, bool gzip, uint64_t *rows, bool *terminal, sl_error *err) {
  sl_duckdb *c = (sl_duckdb *)f->conv;
  *terminal = false;
  sl_job_reader *r = sl_job_reader_open(job_path, err);
  if (!r) {
    *terminal = err && err->code != SL_NOMEM;
    return err && err->code ? err->code : SL_IO;
  }
  const sl_job_column *jc;
  size_t njc = sl_job_reader_columns(r, &jc);
  sl_buf *q = &c->sql;
  sl_buf_reset(q);
  sl_status st = sl_buf_puts(q, "CREATE OR REPLACE TABLE main.\"__sl_conv\" (");
  char type[64];
  bool first = true;
  sl__nameset seen = {0};
  for (size_t i = 0; i < t->ncolumns + njc && !st; i++) {
    const char *name = i < t->ncolumns ? t->columns[i].name : jc[i - t->ncolumns].name;
    if (i < t->ncolumns && t->columns[i].incomplete) continue;
    if (sl__nameset_has(&seen, name)) continue;
    sl__nameset_add(&seen, name);
    if (i < t->ncolumns)
      sl__ddb_type_sql(t->columns[i].type, t->columns[i].precision, t->columns[i].scale, type, sizeof type);
    else
      sl__ddb_type_sql(jc[i - t->ncolumns].type, 0, 0, type, sizeof type);
    if (!first) st = sl_buf_puts(q, ", ");
    first = false;
    if (!st) st = sl__sql_ident(q, name);
    if (!st) st = sl_buf_printf(q, " %s", type);
  }
  sl__nameset_free(&seen);
  if (first) { /* no column at all */
    sl_job_reader_close(r);
    if (rows) *rows = 0;
    return SL_NOT_FOUND;
  }
  if (!st) st = sl_buf_puts(q, ")");
  if (!st) st = sl__ddb_exec_buf(c, err);
  int64_t seq = 0;
  if (!st) st = sl__ddb_append_job(c, r, "main", "__sl_conv", NULL, &seq, rows, terminal, err);
  sl_job_reader_close(r);
  if (!st) {
    sl_buf_reset(q);
    st = sl_buf_puts(q, "COPY main.\"__sl_conv\" TO ");
    if (!st) st = sl__sql_string(q, out_path);
    if (!st && jsonl) st = sl_buf_printf(q, " (FORMAT json%s)", gzip ? ", COMPRESSION gzip" : "");
    if (!st && !jsonl) st = sl_buf_printf(q, " (FORMAT parquet, COMPRESSION %s)", f->compression);
    if (!st) st = sl__ddb_exec_buf(c, err);
  }
  sl_error e;
  sl__ddb_exec(c, "DROP TABLE IF EXISTS main.\"__sl_conv\"", &e);
  return st;
}

/* ---- loading ------------------------------------------------------------------------------ */

typedef struct fs_job {
  char *name;
  sl_job_state state;
  char *table;
} fs_job;

static void fail_job(sl_package *pkg, fs_job *j, const sl_error *why) {
  char msg[1200];
  sl_error_format(why, msg, sizeof msg);
  sl_error e;
  if (sl_package_move_job(pkg, j->name, j->state, SL_JOB_FAILED, msg, &e) == SL_OK)
    j->state = SL_JOB_FAILED;
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

/* Shared with Athena: every job of the package, new ones moved to started. */
sl_status sl__fs_gather(sl_package *pkg, sl__fs_jobs *out, sl_error *err) {
  memset(out, 0, sizeof *out);
  char **names = NULL;
  size_t n = 0;
  sl_status st = sl_package_list_jobs(pkg, SL_JOB_FAILED, &names, &n, err);
  if (!st && n) {
    st = sl_error_set(err, SL_DESTINATION, "package %s has %zu failed job(s) and is not loaded partially; first: %s",
                      sl_package_load_id(pkg), n, names[0]);
  }
  sl_package_list_free(names, n);
  if (st) return st;
  names = NULL;
  n = 0;
  st = sl_package_list_jobs(pkg, SL_JOB_NEW, &names, &n, err);
  for (size_t i = 0; i < n && !st; i++)
    st = sl_package_move_job(pkg, names[i], SL_JOB_NEW, SL_JOB_STARTED, NULL, err);
  sl_package_list_free(names, n);
  for (int js = SL_JOB_STARTED; js <= SL_JOB_COMPLETED && !st; js++) {
    names = NULL;
    n = 0;
    if ((st = sl_package_list_jobs(pkg, (sl_job_state)js, &names, &n, err))) break;
    for (size_t i = 0; i < n && !st; i++) {
      sl__fs_job *v = realloc(out->jobs, (out->n + 1) * sizeof *v);
      if (!v) { st = sl_error_set(err, SL_NOMEM, "out of memory"); break; }
      out->jobs = v;
      sl__fs_job *j = &out->jobs[out->n++];
      memset(j, 0, sizeof *j);
      j->name = names[i];
      names[i] = NULL;
      j->state = (sl_job_state)js;
      if (sl_package_file_path(pkg, job_folder[js], j->name, j->path, sizeof j->path))
        st = sl_error_set(err, SL_TOO_LARGE, "job path too long");
      /* <table>.<file_id>.<retry>.<format> */
      char *copy = strdup(j->name);
      char *dot = copy ? strchr(copy, '.') : NULL;
      if (!dot) { free(copy); st = sl_error_set(err, SL_IO, "bad job file name %s", j->name); break; }
      *dot = '\0';
      j->table = copy;
      char *fid = dot + 1, *d2 = strchr(fid, '.');
      snprintf(j->file_id, sizeof j->file_id, "%.*s", d2 ? (int)(d2 - fid) : (int)strlen(fid), fid);
    }
    sl_package_list_free(names, n);
  }
  return st;
}

void sl__fs_jobs_free(sl__fs_jobs *j) {
  for (size_t i = 0; i < j->n; i++) {
    free(j->jobs[i].name);
    free(j->jobs[i].table);
  }
  free(j->jobs);
  memset(j, 0, sizeof *j);
}

void sl__fs_fail_job(sl_package *pkg, sl__fs_job *j, const sl_error *why) {
  fs_job fj = {j->name, j->state, j->table};
  fail_job(pkg, &fj, why);
  j->state = fj.state;
}

static bool in_list(char *const *list, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(list[i], s)) return true;
  return false;
}

sl_status sl__fs_table_prefix(const sl__fs *f, const char *schema_name, const char *table, sl_buf *out) {
  return expand(f, table, schema_name, NULL, NULL, true, out);
}

/* Write the package's data files; replace chains lose their older files. The
 * keys written are returned (relative to the dataset). */
sl_status sl__fs_write_data(sl__fs *f, sl_package *pkg, sl_schema *schema, const char *load_id,
                            sl__fs_jobs *jobs, char ***written, size_t *nwritten, sl_error *err) {
  size_t cap = 0;
  *written = NULL;
  *nwritten = 0;
  sl_status st = SL_OK;
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s/sl_fs_%d_%ld.%s", f->tmpdir, (int)getpid(), (long)time(NULL),
           f->jsonl ? "jsonl" : "parquet");
  for (size_t i = 0; i < jobs->n && !st; i++) {
    sl__fs_job *j = &jobs->jobs[i];
    sl_table *t = sl_schema_find_table(schema, j->table);
    if (!t) {
      st = sl_error_set(err, SL_SCHEMA, "the job %s is for table %s, which the package schema lacks", j->path, j->table);
      break;
    }
    if (!safe_segment(t->name)) {
      st = sl_error_set(err, SL_SCHEMA, "table name '%s' cannot be a path segment", t->name);
      break;
    }
    uint64_t rows = 0;
    bool terminal = false;
    unlink(tmp);
    st = sl__fs_convert(f, t, j->path, tmp, f->jsonl, f->gzip, &rows, &terminal, err);
    if (st == SL_NOT_FOUND) { /* no columns: nothing to write */
      st = SL_OK;
      continue;
    }
    if (st) {
      if (terminal) sl__fs_fail_job(pkg, j, err);
      break;
    }
    sl_buf key = {0};
    st = expand(f, t->name, schema->name, load_id, j->file_id, false, &key);
    if (!st) st = sl__fs_put_file(f, key.data, tmp, err);
    if (!st && add_name(written, nwritten, &cap, key.data, key.len)) st = SL_NOMEM;
    if (!st) SL_DEBUG("wrote %llu rows of %s to %s", (unsigned long long)rows, j->name, key.data);
    if (!st) sl__crash_point("fs_file");
    sl_buf_free(&key);
    if (st) sl_error_where(err, t->name, NULL);
  }
  unlink(tmp);
  return st;
}

void sl__fs_abort_orphan_uploads(sl__fs *f) {
  if (!f->s3) return;
  /* No upload of this process is in flight when a load begins: one under the
   * dataset's prefix begun before now is a killed run's. */
  char pre[4096];
  snprintf(pre, sizeof pre, "%s%s", f->prefix, *f->prefix ? "/" : "");
  size_t n = 0;
  sl_error e;
  sl_error_clear(&e);
  if (sl_s3_abort_uploads_before(f->s3, f->bucket, pre, (int64_t)time(NULL), &n, &e)) {
    if (strstr(e.msg, "NotImplemented"))
      SL_DEBUG("s3://%s/%s: the server has no ListMultipartUploads; parts a killed run left are not cleared",
               f->bucket, pre);
    else
      SL_WARN("s3://%s/%s: left-over multipart uploads not cleared: %s", f->bucket, pre, e.msg);
  }
  if (n) SL_INFO("s3://%s/%s: aborted %zu multipart upload(s) a killed run left", f->bucket, pre, n);
}

/* Delete the files of a replace root's chain that this load did not write. */
sl_status sl__fs_replace_cleanup(sl__fs *f, sl_schema *schema, sl_table *root, char *const *written,
                                 size_t nwritten, sl_error *err) {
  sl_table **chain = calloc(schema->ntables + 1, sizeof *chain);
  if (!chain) return sl_error_set(err, SL_NOMEM, "out of memory");
  chain[0] = root;
  size_t n = 1 + sl_schema_descendants(schema, root, chain + 1, schema->ntables);
  sl_status st = SL_OK;
  for (size_t i = 0; i < n && !st; i++) {
    sl_buf pre = {0};
    st = sl__fs_table_prefix(f, schema->name, chain[i]->name, &pre);
    if (st || !pre.data || !*pre.data) {
      sl_buf_free(&pre);
      continue;
    }
    char **names = NULL;
    size_t nn = 0;
    st = sl__fs_list(f, pre.data, &names, &nn, err);
    /* Everything under the table's prefix that this load did not write. */
    char **old = nn ? calloc(nn, sizeof *old) : NULL;
    size_t k = 0;
    for (size_t x = 0; x < nn && old; x++)
      if (!in_list(written, nwritten, names[x])) old[k++] = names[x];
    if (nn && !old) st = sl_error_set(err, SL_NOMEM, "out of memory");
    if (!st && k) {
      SL_DEBUG("replace: deleting %zu earlier file(s) of %s", k, chain[i]->name);
      st = sl__fs_delete(f, old, k, err);
    }
    free(old);
    sl_package_list_free(names, nn);
    sl_buf_free(&pre);
  }
  free(chain);
  return st;
}

sl_status sl__fs_write_system(sl__fs *f, sl_schema *schema, const sl_load_request *req, sl_error *err) {
  char now[64], hash[64], rel[1024];
  iso_now(now, sizeof now);
  path_safe(schema->version_hash, hash, sizeof hash);
  sl_status st = SL_OK;
  sl_buf b = {0};
  if (req->schema_changed) {
    sl_doc *doc = sl_doc_new("schema");
    sl_value *v = doc ? sl_schema_to_value(schema, doc) : NULL;
    sl_buf js = {0};
    if (!v || sl_v_to_json(v, &js, 0)) st = sl_error_set(err, SL_NOMEM, "cannot serialize schema %s", schema->name);
    int64_t engine = v ? sl_v_int_or(sl_v_get(v, "engine_version"), 0) : 0;
    if (!st) {
      sl_buf_printf(&b, "{\"version\": %lld, \"engine_version\": %lld", (long long)schema->version, (long long)engine);
      json_str(&b, "inserted_at", now, true);
      json_str(&b, "schema_name", schema->name, true);
      json_str(&b, "version_hash", schema->version_hash, true);
      json_str(&b, "schema", js.data, true);
      sl_buf_puts(&b, "}\n");
      snprintf(rel, sizeof rel, "_dlt_version/%s__%s__%s.jsonl", schema->name, req->load_id, hash);
      st = sl__fs_put(f, rel, b.data, b.len, err);
    }
    sl_buf_free(&js);
    sl_doc_free(doc);
  }
  if (!st && req->state_json) {
    sl_buf enc = {0};
    sl_doc *sd = sl_json_parse_doc(req->state_json, strlen(req->state_json), "state", NULL);
    const sl_value *r = sd ? sd->root : NULL;
    if (sl__dest_state_encode(req->state_json, strlen(req->state_json), &enc)) {
      st = sl_error_set(err, SL_NOMEM, "cannot compress the pipeline state");
    } else {
      const char *vh = sl_v_str(sl_v_get(r, "_version_hash"), "");
      char svh[64];
      path_safe(vh, svh, sizeof svh);
      sl_buf_reset(&b);
      sl_buf_printf(&b, "{\"version\": %lld, \"engine_version\": %lld",
                    (long long)sl_v_int_or(sl_v_get(r, "_state_version"), 0),
                    (long long)sl_v_int_or(sl_v_get(r, "_state_engine_version"), 4));
      json_str(&b, "pipeline_name", req->pipeline_name ? req->pipeline_name : "", true);
      json_str(&b, "state", enc.data, true);
      json_str(&b, "created_at", now, true);
      json_str(&b, "version_hash", vh, true);
      json_str(&b, "_dlt_load_id", req->load_id, true);
      sl_buf_puts(&b, "}\n");
      snprintf(rel, sizeof rel, "_dlt_pipeline_state/%s__%s__%s.jsonl",
               req->pipeline_name ? req->pipeline_name : "", req->load_id, svh);
      st = sl__fs_put(f, rel, b.data, b.len, err);
    }
    sl_buf_free(&enc);
    sl_doc_free(sd);
  }
  if (!st) {
    sl__crash_point("fs_commit");
    sl_buf_reset(&b);
    sl_buf_puts(&b, "{");
    json_str(&b, "load_id", req->load_id, false);
    json_str(&b, "schema_name", schema->name, true);
    sl_buf_puts(&b, ", \"status\": 0");
    json_str(&b, "inserted_at", now, true);
    json_str(&b, "schema_version_hash", schema->version_hash, true);
    sl_buf_puts(&b, "}\n");
    snprintf(rel, sizeof rel, "_dlt_loads/%s__%s.jsonl", schema->name, req->load_id);
    st = sl__fs_put(f, rel, b.data, b.len, err);
  }
  sl_buf_free(&b);
  return st;
}

static sl_status fs_load_package(sl_dest *d, sl_package *pkg, sl_schema *schema,
                                 const sl_load_request *req, sl_error *err) {
  sl__fs *f = (sl__fs *)d;
  if (!pkg || !schema || !req || !req->load_id)
    return sl_error_set(err, SL_INVALID_ARG, "load_package needs a package, a schema and a load id");
  bool loaded = false;
  sl_status st = fs_is_loaded(d, req->load_id, &loaded, err);
  if (st) return st;
  if (loaded) {
    SL_INFO("package %s is already in %s/_dlt_loads; not loading it again", req->load_id, d->dataset);
    return complete_jobs(pkg, err);
  }
  sl__fs_jobs jobs;
  char **written = NULL;
  size_t nwritten = 0;
  sl__fs_abort_orphan_uploads(f);
  st = sl__fs_gather(pkg, &jobs, err);
  if (!st) st = sl__fs_put(f, "init", "", 0, err);
  if (!st) st = sl__fs_write_data(f, pkg, schema, req->load_id, &jobs, &written, &nwritten, err);
  /* Replace: the chains of the replaced roots lose their older files. */
  for (size_t i = 0; i < jobs.n && !st; i++) {
    sl_table *t = sl_schema_find_table(schema, jobs.jobs[i].table);
    sl_table *root = t ? sl_schema_root_of(schema, t) : NULL;
    if (!root || sl_table_is_system(root) || root->write_disposition != SL_WD_REPLACE) continue;
    bool done = false;
    for (size_t k = 0; k < i && !done; k++)
      done = sl_schema_root_of(schema, sl_schema_find_table(schema, jobs.jobs[k].table)) == root;
    if (!done) st = sl__fs_replace_cleanup(f, schema, root, written, nwritten, err);
  }
  if (!st) sl__crash_point("fs_replaced");
  if (!st) st = sl__fs_write_system(f, schema, req, err);
  if (!st) {
    SL_INFO("package %s: %zu file(s) written to %s%s%s/%s", req->load_id, nwritten,
            f->s3 ? "s3://" : "", f->s3 ? f->bucket : "", f->s3 ? "" : "", f->prefix);
    st = complete_jobs(pkg, err);
  } else {
    sl_error_prefix(err, "loading package %s", req->load_id);
  }
  sl_package_list_free(written, nwritten);
  sl__fs_jobs_free(&jobs);
  return st;
}

static sl_status fs_drop_tables(sl_dest *d, const char *schema_name, const char *const *tables, size_t n,
                               sl_error *err) {
  sl__fs *f = (sl__fs *)d;
  sl_status st = SL_OK;
  for (size_t i = 0; i < n && !st; i++) {
    if (!safe_segment(tables[i])) continue;
    sl_buf pre = {0};
    st = expand(f, tables[i], schema_name ? schema_name : "", NULL, NULL, true, &pre);
    if (!st && pre.data && *pre.data) {
      char **names = NULL;
      size_t nn = 0;
      st = sl__fs_list(f, pre.data, &names, &nn, err);
      if (!st) st = sl__fs_delete(f, names, nn, err);
      sl_package_list_free(names, nn);
    }
    sl_buf_free(&pre);
  }
  return st;
}

/* Rows of each data table: its files read back by DuckDB. */
static sl_status fs_row_counts(sl_dest *d, const sl_schema *schema, sl_table_count **out, size_t *n,
                               sl_error *err) {
  sl__fs *f = (sl__fs *)d;
  *out = calloc(schema->ntables + 1, sizeof **out);
  *n = 0;
  if (!*out) return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_status st = SL_OK;
  for (size_t i = 0; i < schema->ntables && !st; i++) {
    const sl_table *t = schema->tables[i];
    if (sl_table_is_system(t)) continue;
    sl_table_count *c = &(*out)[(*n)++];
    c->table = strdup(t->name);
    c->rows = -1;
    sl_buf pre = {0};
    char **names = NULL;
    size_t nn = 0;
    st = sl__fs_table_prefix(f, schema->name, t->name, &pre);
    if (!st && pre.data && *pre.data) st = sl__fs_list(f, pre.data, &names, &nn, err);
    int64_t total = nn ? 0 : -1;
    for (size_t k = 0; k < nn && !st; k++) {
      char local[4300], tmp[4200];
      snprintf(tmp, sizeof tmp, "%s/sl_fs_count_%d.%s", f->tmpdir, (int)getpid(),
               strstr(names[k], ".gz") ? "jsonl.gz" : f->jsonl ? "jsonl" : "parquet");
      st = sl__fs_local_copy(f, names[k], tmp, local, sizeof local, err);
      if (st) break;
      sl_duckdb *cv = (sl_duckdb *)f->conv;
      sl_buf q = {0};
      bool pq = strstr(names[k], ".parquet") != NULL;
      sl_buf_puts(&q, pq ? "SELECT count(*) FROM read_parquet(" : "SELECT count(*) FROM read_json_auto(");
      sl__sql_string(&q, local);
      sl_buf_puts(&q, pq ? ")" : ", format='newline_delimited')");
      char *v = NULL;
      st = sl__ddb_run(cv, q.data, NULL, 0, &v, err);
      if (!st && v) total += strtoll(v, NULL, 10);
      free(v);
      sl_buf_free(&q);
      if (f->s3) unlink(tmp);
    }
    c->rows = total;
    sl_package_list_free(names, nn);
    sl_buf_free(&pre);
  }
  return st;
}

static void fs_close(sl_dest *d) {
  sl__fs *f = (sl__fs *)d;
  if (!f) return;
  sl_dest_close(f->conv);
  sl_s3_close(f->s3);
  free(f->bucket);
  free(f->prefix);
  free(f->layout);
  free(f->compression);
  free(f->tmpdir);
  free(f->base.dataset);
  free(f);
}

/* ---- read-only queries ------------------------------------------------------------------ */

static bool ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), k = strlen(tail);
  return n >= k && !strcmp(s + n - k, tail);
}

/* A table's files and the prefix they were listed under. */
typedef struct fs_view {
  const sl_table *table; /* NULL for a system table */
  const char *name;
  sl_buf prefix;
  char **files;
  size_t nfiles;
} fs_view;

/* What a view reads: Parquet and JSON lines (plain or gzip). */
static const char *const view_exts[] = {".parquet", ".jsonl", ".jsonl.gz"};

static bool view_file(const char *name) {
  for (size_t e = 0; e < 3; e++)
    if (ends_with(name, view_exts[e])) return true;
  return false;
}

/* "['<root>/<rel>', …]" of the files ending in ext. */
static sl_status file_list(const char *root, const fs_view *v, const char *ext, sl_buf *q, bool *any) {
  sl_status st = sl_buf_putc(q, '[');
  *any = false;
  char path[8300];
  for (size_t i = 0; i < v->nfiles && !st; i++) {
    if (!ends_with(v->files[i], ext)) continue;
    snprintf(path, sizeof path, "%s/%s", root, v->files[i]);
    if (*any) st = sl_buf_puts(q, ", ");
    if (!st) st = sl__sql_string(q, path);
    *any = true;
  }
  if (!st) st = sl_buf_putc(q, ']');
  return st;
}

/* CREATE VIEW dataset.table over the table's Parquet and JSON-lines files (a
 * format change between loads leaves both: their union by column name).
 * JSON lines of a data table are read with the schema's types, so a view
 * gives what the DuckDB destination would hold; Parquet carries its own. */
static sl_status create_view(sl__fs *f, sl_duckdb *q, const char *root, const fs_view *v, sl_error *err) {
  sl_buf *b = &q->sql;
  sl_buf_reset(b);
  sl_status st = sl_buf_puts(b, "CREATE VIEW ");
  if (!st) st = sl__sql_qualified(b, f->base.dataset, v->name);
  if (!st) st = sl_buf_puts(b, " AS ");
  size_t parts = 0;
  for (size_t e = 0; e < 3 && !st; e++) {
    size_t mark = b->len;
    if (parts) st = sl_buf_puts(b, " UNION ALL BY NAME ");
    if (!st) st = sl_buf_puts(b, e ? "SELECT * FROM read_json(" : "SELECT * FROM read_parquet(");
    bool any = false;
    if (!st) st = file_list(root, v, view_exts[e], b, &any);
    if (!st && !any) {
      b->len = mark;
      b->data[mark] = '\0';
      continue;
    }
    if (!st && !e) st = sl_buf_puts(b, ", union_by_name = true)");
    if (!st && e) st = sl_buf_puts(b, ", format = 'newline_delimited'");
    bool typed = false;
    for (size_t c = 0; e && v->table && c < v->table->ncolumns && !st; c++) {
      const sl_column *col = &v->table->columns[c];
      if (col->incomplete) continue;
      char type[64];
      sl__ddb_type_sql(col->type, col->precision, col->scale, type, sizeof type);
      st = sl_buf_puts(b, typed ? ", " : ", columns = {");
      if (!st) st = sl__sql_string(b, col->name);
      if (!st) st = sl_buf_printf(b, ": '%s'", type);
      typed = true;
    }
    if (!st && e) st = sl_buf_puts(b, typed ? "})" : ", union_by_name = true)");
    parts++;
  }
  if (st) return sl_error_set(err, st, "the view of %s is too large", v->name);
  if (!parts) return SL_OK; /* no file: no view */
  st = sl__ddb_exec_buf(q, err);
  if (st) sl_error_where(err, v->name, NULL);
  return st;
}

/* A relative name whose every part is a plain name: an S3 key like
 * "pins/../../x" or "pins//x" must not land outside, or on top of another
 * file in, the local copy. */
static bool safe_rel(const char *rel) {
  char part[1024];
  for (const char *p = rel;;) {
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n >= sizeof part) return false;
    memcpy(part, p, n);
    part[n] = '\0';
    if (!safe_segment(part)) return false;
    if (!e) return true;
    p = e + 1;
  }
}

/* Copy the files the views of an S3 dataset read into a private folder
 * (mkdtemp under the temporary folder, mode 0700), each GET streamed to its
 * file, so the views read local files as on a local destination. *stage is
 * set as soon as the folder exists: the caller removes it on every path.
 * root gets its real path (allowed_directories compares real paths). */
static sl_status stage_s3(sl__fs *f, const fs_view *views, size_t nv, char *stage, size_t ssize,
                          char *root, size_t rsize, sl_error *err) {
  char tmpl[4096];
  int n = snprintf(tmpl, sizeof tmpl, "%s/sluice_query_XXXXXX", f->tmpdir);
  if (n < 0 || (size_t)n >= sizeof tmpl || (size_t)n >= ssize)
    return sl_error_set(err, SL_TOO_LARGE, "temporary folder path too long: %s", f->tmpdir);
  if (!mkdtemp(tmpl))
    return sl_error_set(err, SL_IO, "cannot create a temporary folder in %s for the files of s3://%s/%s: %s",
                        f->tmpdir, f->bucket, f->prefix, strerror(errno));
  snprintf(stage, ssize, "%s", tmpl);
  sl_tmp_track(stage); /* a Ctrl-C mid-query removes it too */
  if (rsize < PATH_MAX) return sl_error_set(err, SL_TOO_LARGE, "path buffer too small");
  if (!realpath(tmpl, root))
    return sl_error_set(err, SL_IO, "cannot resolve %s: %s", tmpl, strerror(errno));
  uint64_t objects = 0, bytes = 0, others = 0;
  const char *other = NULL;
  sl_status st = SL_OK;
  for (size_t i = 0; i < nv && !st; i++) {
    for (size_t k = 0; k < views[i].nfiles && !st; k++) {
      const char *rel = views[i].files[k];
      if (!view_file(rel)) { /* no view reads it (a folder marker, a stray file) */
        if (!other) other = rel;
        others++;
        continue;
      }
      if (!safe_rel(rel)) {
        st = sl_error_set(err, SL_DESTINATION,
                          "object s3://%s/%s/%s of table %s cannot be copied for the query: its name "
                          "has an empty, '.' or '..' part",
                          f->bucket, f->prefix, rel, views[i].name);
        break;
      }
      char key[4096], local[4096];
      if (full_path(f, rel, key, sizeof key) ||
          (size_t)snprintf(local, sizeof local, "%s/%s", root, rel) >= sizeof local) {
        st = sl_error_set(err, SL_TOO_LARGE, "path too long: %s", rel);
        break;
      }
      if (!(st = local_parent(local, err))) st = sl_s3_get_file(f->s3, f->bucket, key, local, err);
      if (st) {
        sl_error_where(err, views[i].name, NULL);
        sl_error_prefix(err, "query: copying the files of %s", views[i].name);
        break;
      }
      struct stat sb;
      if (stat(local, &sb) == 0) bytes += (uint64_t)sb.st_size;
      objects++;
    }
  }
  if (!st && others)
    SL_INFO("query: %llu object(s) under the tables' folders in s3://%s/%s are neither Parquet nor JSON "
            "lines and no view reads them (%s%s)",
            (unsigned long long)others, f->bucket, f->prefix, other, others > 1 ? ", ..." : "");
  if (!st)
    SL_INFO("query: %llu object(s), %llu bytes copied from s3://%s/%s into a temporary folder",
            (unsigned long long)objects, (unsigned long long)bytes, f->bucket, f->prefix);
  return st;
}

/* Views over a local folder (for S3, the copy stage_s3 makes), then the
 * user's SQL as sl_duckdb_query runs it read-only: file access off except for
 * that folder (allowed_directories), so the views read their files and
 * nothing else is reachable. */
static sl_status fs_query(sl_dest *d, const sl_schema *schema, const char *sql, sl_query_format fmt,
                          sl_buf *out, sl_error *err) {
  sl__fs *f = (sl__fs *)d;
  char root[PATH_MAX], stage[4096] = "";
  if (!f->s3 && !realpath(f->prefix, root))
    return sl_error_set(err, SL_NOT_FOUND, "nothing to query in %s: %s", f->prefix, strerror(errno));
  static const char *const sys[] = {"_dlt_loads", "_dlt_version", "_dlt_pipeline_state"};
  size_t nt = schema ? schema->ntables : 0, nv = 0;
  fs_view *views = calloc(nt + 3, sizeof *views);
  if (!views) return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_status st = SL_OK;
  for (size_t i = 0; i < 3; i++) {
    views[nv].name = sys[i];
    st = sl_buf_printf(&views[nv++].prefix, "%s/", sys[i]);
  }
  for (size_t i = 0; i < nt && !st; i++) {
    const sl_table *t = schema->tables[i];
    if (sl_table_is_system(t) || !safe_segment(t->name)) continue;
    views[nv].table = t;
    views[nv].name = t->name;
    st = sl__fs_table_prefix(f, schema->name, t->name, &views[nv++].prefix);
  }
  if (st) st = sl_error_set(err, st, "out of memory");
  for (size_t i = 0; i < nv && !st; i++) /* no static prefix ({load_id}/{table_name}…): not found */
    if (views[i].prefix.len)
      st = sl__fs_list(f, views[i].prefix.data, &views[i].files, &views[i].nfiles, err);
  /* A layout like {table_name}_{load_id}… lists pins__tags_… under pins_: a
   * file belongs to the table with the longest prefix that matches it. */
  for (size_t i = 0; i < nv && !st; i++) {
    size_t k = 0;
    for (size_t j = 0; j < views[i].nfiles; j++) {
      bool other = false;
      for (size_t o = 0; o < nv && !other; o++)
        other = o != i && views[o].prefix.len > views[i].prefix.len &&
                !strncmp(views[i].files[j], views[o].prefix.data, views[o].prefix.len);
      if (other) free(views[i].files[j]);
      else views[i].files[k++] = views[i].files[j];
    }
    views[i].nfiles = k;
  }
  if (!st && f->s3) st = stage_s3(f, views, nv, stage, sizeof stage, root, sizeof root, err);
  sl_duckdb_options o = {.path = ":memory:", .dataset = f->base.dataset, .threads = 1};
  sl_dest *qd = st ? NULL : sl_duckdb_open(&o, err);
  if (!st && !qd) st = err && err->code ? err->code : SL_DESTINATION;
  sl_duckdb *q = (sl_duckdb *)qd;
  if (!st) {
    sl_buf_reset(&q->sql);
    st = sl_buf_puts(&q->sql, "CREATE SCHEMA ");
    if (!st) st = sl__sql_ident(&q->sql, f->base.dataset);
    st = st ? sl_error_set(err, st, "out of memory") : sl__ddb_exec_buf(q, err);
  }
  for (size_t i = 0; i < nv && !st; i++) st = create_view(f, q, root, &views[i], err);
  if (!st) {
    sl_buf_reset(&q->sql);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/", root);
    st = sl_buf_puts(&q->sql, "SET allowed_directories = [");
    if (!st) st = sl__sql_string(&q->sql, dir);
    if (!st) st = sl_buf_puts(&q->sql, "]");
    st = st ? sl_error_set(err, st, "out of memory") : sl__ddb_exec_buf(q, err);
  }
  if (!st) st = sl_duckdb_query(qd, sql, true, fmt, out, err);
  sl_dest_close(qd);
  for (size_t i = 0; i < nv; i++) {
    sl_buf_free(&views[i].prefix);
    sl_package_list_free(views[i].files, views[i].nfiles);
  }
  free(views);
  sl_error rm = {0};
  if (*stage && sl_rm_rf(stage, &rm)) /* the query's answer stands; the copy is only in the way */
    SL_WARN("query: the temporary copy of s3://%s/%s is left in %s: %s", f->bucket, f->prefix, stage,
            rm.msg);
  if (*stage) sl_tmp_untrack(stage);
  return st;
}

static const sl_dest_vt fs_vt = {
    .name = "filesystem",
    .load_package = fs_load_package,
    .is_loaded = fs_is_loaded,
    .stored_state = fs_stored_state,
    .stored_schema = fs_stored_schema,
    .drop_tables = fs_drop_tables,
    .row_counts = fs_row_counts,
    .query = fs_query,
    .close = fs_close,
};

sl_status sl__fs_init(sl__fs *f, const sl_filesystem_options *o, sl_error *err) {
  f->base.vt = &fs_vt;
  if (!o || !o->bucket_url || !*o->bucket_url || !o->dataset || !safe_segment(o->dataset))
    return sl_error_set(err, SL_CONFIG_INVALID,
                        "the filesystem destination needs [destination.filesystem] bucket_url and a dataset name");
  f->base.dataset = strdup(o->dataset);
  const char *fmt = o->format ? o->format : "parquet";
  if (!strcmp(fmt, "jsonl")) f->jsonl = true;
  else if (strcmp(fmt, "parquet") != 0)
    return sl_error_set(err, SL_CONFIG_INVALID, "loader_file_format '%s' is not supported (parquet or jsonl)", fmt);
  const char *comp = o->compression;
  if (f->jsonl) {
    f->gzip = comp && !strcmp(comp, "gzip");
    comp = "none";
  } else if (!comp || !*comp) {
    comp = "zstd";
  } else if (strcmp(comp, "zstd") && strcmp(comp, "snappy") && strcmp(comp, "gzip") &&
             strcmp(comp, "uncompressed") && strcmp(comp, "lz4")) {
    return sl_error_set(err, SL_CONFIG_INVALID, "parquet compression '%s' is not supported", comp);
  }
  f->compression = strdup(comp);
  f->layout = strdup(o->layout && *o->layout ? o->layout : "{table_name}/{load_id}.{file_id}.{ext}");
  if (!f->layout) return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_status lst = check_layout(f->layout, err);
  if (lst) return lst;
  const char *tmp = o->temp_dir ? o->temp_dir : getenv("TMPDIR");
  f->tmpdir = strdup(tmp && *tmp ? tmp : "/tmp");
  const char *url = o->bucket_url;
  if (!strncmp(url, "s3://", 5)) {
    char *pre = NULL;
    sl_status st = sl_s3_parse_url(url, &f->bucket, &pre, err);
    if (st) {
      free(pre);
      return st;
    }
    if (!o->creds)
      return sl_error_set(err, SL_CONFIG_MISSING, "the filesystem destination on %s needs AWS credentials", url);
    sl_s3_options so = {.creds = o->creds};
    f->s3 = sl_s3_open(&so, err);
    if (!f->s3) {
      free(pre);
      return err && err->code ? err->code : SL_DESTINATION;
    }
    if (asprintf(&f->prefix, "%s%s%s", pre, *pre ? "/" : "", o->dataset) < 0) f->prefix = NULL;
    free(pre);
  } else {
    if (!strncmp(url, "file://", 7)) url += 7;
    if (asprintf(&f->prefix, "%s/%s", url, o->dataset) < 0) f->prefix = NULL;
  }
  if (!f->base.dataset || !f->compression || !f->layout || !f->tmpdir || !f->prefix)
    return sl_error_set(err, SL_NOMEM, "out of memory");
  sl_duckdb_options co = {.path = ":memory:", .dataset = "main", .memory_limit_mb = o->memory_limit_mb,
                          .threads = 1};
  f->conv = sl_duckdb_open(&co, err);
  if (!f->conv) return err && err->code ? err->code : SL_DESTINATION;
  return SL_OK;
}

sl_dest *sl_filesystem_open(const sl_filesystem_options *o, sl_error *err) {
  sl__fs *f = calloc(1, sizeof *f);
  if (!f) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  if (sl__fs_init(f, o, err)) {
    fs_close(&f->base);
    return NULL;
  }
  return &f->base;
}
