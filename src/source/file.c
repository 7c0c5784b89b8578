/* The `file` resource kind: JSON Lines, a JSON array, or a JSON document with a
 * data selector; plain or gzip; one file, a glob or a folder. Files stream
 * through the emitter in fixed chunks, so memory does not grow with them.
 * With skip_loaded_files, the resource state remembers each file loaded
 * (path → size and mtime) and later runs skip it. */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "sluice/log.h"
#include "source/source_int.h"

sl_status sl__check_selector(const char *sel, sl_error *err);

typedef enum { FMT_AUTO = 0, FMT_JSONL, FMT_JSON } file_format;

typedef struct file_spec {
  char *pattern;   /* as written, for messages */
  char *base_dir;  /* relative patterns resolve here */
  char *selector;  /* or NULL */
  file_format format;
  bool skip_loaded;
} file_spec;

static void file_spec_free(void *ud) {
  file_spec *f = ud;
  if (!f) return;
  free(f->pattern);
  free(f->base_dir);
  free(f->selector);
  free(f);
}

static bool ends_with(const char *s, size_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* Format by extension (.gz looked through); FMT_AUTO when unknown. */
static file_format format_of(const char *path) {
  size_t n = strlen(path);
  if (ends_with(path, n, ".gz")) n -= 3;
  if (ends_with(path, n, ".jsonl") || ends_with(path, n, ".ndjson")) return FMT_JSONL;
  if (ends_with(path, n, ".json")) return FMT_JSON;
  return FMT_AUTO;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct path_list {
  char **items;
  size_t n, cap;
} path_list;

static sl_status pl_add(path_list *l, const char *p) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **x = realloc(l->items, cap * sizeof *x);
    if (!x) return SL_NOMEM;
    l->items = x;
    l->cap = cap;
  }
  if (!(l->items[l->n] = strdup(p))) return SL_NOMEM;
  l->n++;
  return SL_OK;
}

static void pl_free(path_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->items[i]);
  free(l->items);
}

/* The files a spec names, sorted. A glob matching nothing, or an empty folder,
 * gives none (with a warning); a plain path that does not exist is an error. */
static sl_status expand(const file_spec *fs, path_list *out, sl_error *err) {
  char full[4096];
  if (fs->pattern[0] == '/' || !fs->base_dir)
    snprintf(full, sizeof full, "%s", fs->pattern);
  else
    snprintf(full, sizeof full, "%s/%s", fs->base_dir, fs->pattern);
  if (strpbrk(fs->pattern, "*?[")) {
    glob_t g;
    int rc = glob(full, GLOB_NOSORT, NULL, &g);
    if (rc == GLOB_NOMATCH) {
      SL_WARN("file resource: no file matches %s", fs->pattern);
      return SL_OK;
    }
    if (rc != 0) return sl_error_set(err, SL_IO, "cannot expand %s", fs->pattern);
    sl_status st = SL_OK;
    for (size_t i = 0; i < g.gl_pathc && !st; i++) {
      struct stat sb;
      if (stat(g.gl_pathv[i], &sb) == 0 && S_ISREG(sb.st_mode)) st = pl_add(out, g.gl_pathv[i]);
    }
    globfree(&g);
    if (st) return sl_error_set(err, st, "out of memory");
  } else {
    struct stat sb;
    if (stat(full, &sb) != 0)
      return sl_error_set(err, SL_SOURCE, "file resource: %s: %s", fs->pattern, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
      DIR *d = opendir(full);
      if (!d) return sl_error_set(err, SL_IO, "cannot open folder %s: %s", fs->pattern, strerror(errno));
      struct dirent *e;
      sl_status st = SL_OK;
      while (!st && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (fs->format == FMT_AUTO && format_of(e->d_name) == FMT_AUTO) continue;
        char p[4096 + 256];
        snprintf(p, sizeof p, "%s/%s", full, e->d_name);
        struct stat fb;
        if (stat(p, &fb) == 0 && S_ISREG(fb.st_mode)) st = pl_add(out, p);
      }
      closedir(d);
      if (st) return sl_error_set(err, st, "out of memory");
      if (out->n == 0) SL_WARN("file resource: no JSON file in folder %s", fs->pattern);
    } else if (pl_add(out, full)) {
      return sl_error_set(err, SL_NOMEM, "out of memory");
    }
  }
  qsort(out->items, out->n, sizeof *out->items, cmp_str);
  return SL_OK;
}

/* The path as shown in messages and kept in the state: relative to base_dir
 * when under it. */
static const char *display_path(const file_spec *fs, const char *path) {
  size_t bl = fs->base_dir ? strlen(fs->base_dir) : 0;
  if (bl && strncmp(path, fs->base_dir, bl) == 0 && path[bl] == '/') return path + bl + 1;
  return path;
}

static sl_status read_file(sl_emitter *em, const file_spec *fs, const char *path, sl_error *err) {
  const char *shown = display_path(fs, path);
  file_format fmt = fs->format ? fs->format : format_of(path);
  if (fmt == FMT_AUTO)
    return sl_error_set(err, SL_SOURCE,
                        "file resource: cannot tell the format of %s from its name (set format: "
                        "jsonl or json)",
                        shown);
  gzFile g = gzopen(path, "rb");
  if (!g) return sl_error_set(err, SL_IO, "cannot open %s: %s", shown, strerror(errno));
  gzbuffer(g, 256 * 1024);
  sl_status st = sl_emit_stream_begin(em, fs->selector, fmt == FMT_JSONL, shown, err);
  static const size_t CHUNK = 256 * 1024;
  char *buf = st ? NULL : malloc(CHUNK);
  if (!st && !buf) st = sl_error_set(err, SL_NOMEM, "out of memory");
  while (!st && !sl_emit_stopped(em)) {
    int n = gzread(g, buf, (unsigned)CHUNK);
    if (n < 0) {
      int zerr;
      const char *msg = gzerror(g, &zerr);
      st = sl_error_set(err, SL_SOURCE, "cannot read %s: %s", shown,
                        zerr == Z_ERRNO ? strerror(errno) : msg);
      break;
    }
    if (n == 0) break;
    st = sl_emit_stream_feed(em, buf, (size_t)n, err);
  }
  if (!st) st = sl_emit_stream_end(em, err);
  else sl_emit_stream_end(em, NULL);
  free(buf);
  gzclose(g);
  return st;
}

static sl_status file_run(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err) {
  (void)parent;
  const file_spec *fs = ud;
  path_list files = {0};
  sl_status st = expand(fs, &files, err);
  sl_value *seen = NULL;
  sl_doc *sd = sl_emit_state_doc(em);
  if (!st && fs->skip_loaded) {
    sl_value *state = sl_emit_state(em);
    seen = sl_v_get(state, "files");
    if (state && (!seen || seen->type != SL_V_OBJECT)) {
      seen = sl_v_object(sd);
      if (!seen || sl_v_put(sd, state, "files", seen)) st = sl_error_set(err, SL_NOMEM, "out of memory");
    }
  }
  for (size_t i = 0; !st && i < files.n && !sl_emit_stopped(em); i++) {
    char stamp[64] = "";
    const char *shown = display_path(fs, files.items[i]);
    if (seen) {
      struct stat sb;
      if (stat(files.items[i], &sb) == 0)
        snprintf(stamp, sizeof stamp, "%lld:%lld.%09ld", (long long)sb.st_size,
                 (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
      const char *prev = sl_v_str(sl_v_get(seen, shown), NULL);
      if (prev && strcmp(prev, stamp) == 0) {
        SL_DEBUG("file resource %s: %s already loaded", sl_emit_resource_name(em), shown);
        continue;
      }
    }
    SL_DEBUG("file resource %s: reading %s", sl_emit_resource_name(em), shown);
    st = read_file(em, fs, files.items[i], err);
    /* A file cut short by --limit is not marked: the next run reads it again. */
    if (!st && seen && !sl_emit_stopped(em)) {
      sl_value *v = sl_v_string(sd, stamp, strlen(stamp));
      if (!v || sl_v_put(sd, seen, shown, v)) st = sl_error_set(err, SL_NOMEM, "out of memory");
    }
  }
  pl_free(&files);
  return st;
}

sl_status sl__file_resource_build(sl_source *s, sl_resource_def *def, const sl_value *spec,
                                  const sl_value *top, const sl_source_env *env,
                                  const char *file, sl_error *err) {
  (void)s;
  (void)top;
  static const char *const keys[] = {"path", "format", "data_selector", "skip_loaded_files", NULL};
  if (spec->type == SL_V_STRING) {
    /* "file: data/x.jsonl" is short for "file: {path: data/x.jsonl}" */
  } else if (spec->type != SL_V_OBJECT) {
    return sl__err_at(err, SL_CONFIG_INVALID, file, spec,
                      "'file' must be a path or a mapping with path, format, data_selector");
  } else {
    for (size_t i = 0; i < spec->u.obj.len; i++) {
      const char *k = spec->u.obj.items[i].key;
      bool ok = false;
      for (size_t j = 0; keys[j] && !ok; j++) ok = strcmp(k, keys[j]) == 0;
      if (ok) continue;
      const char *sug = sl__did_you_mean(k, keys);
      if (sug)
        return sl__err_at(err, SL_CONFIG_INVALID, file, spec->u.obj.items[i].val,
                          "unknown key '%s' in file (did you mean '%s'?)", k, sug);
      return sl__err_at(err, SL_CONFIG_INVALID, file, spec->u.obj.items[i].val,
                        "unknown key '%s' in file (path, format, data_selector, "
                        "skip_loaded_files)",
                        k);
    }
  }
  const sl_value *path = spec->type == SL_V_STRING ? spec : sl_v_get(spec, "path");
  if (!path) return sl__err_at(err, SL_CONFIG_INVALID, file, spec, "'file' needs a 'path'");
  if (path->type != SL_V_STRING || path->u.s.len == 0)
    return sl__err_at(err, SL_CONFIG_INVALID, file, path,
                      "'path' must be a file, a folder or a glob (a string)");
  const sl_value *fmt = sl_v_get(spec, "format");
  file_format format = FMT_AUTO;
  if (fmt) {
    if (fmt->type == SL_V_STRING && (!strcmp(fmt->u.s.ptr, "jsonl") || !strcmp(fmt->u.s.ptr, "ndjson")))
      format = FMT_JSONL;
    else if (fmt->type == SL_V_STRING && !strcmp(fmt->u.s.ptr, "json"))
      format = FMT_JSON;
    else
      return sl__err_at(err, SL_CONFIG_INVALID, file, fmt, "'format' must be jsonl or json");
  }
  const sl_value *sel = sl_v_get(spec, "data_selector");
  if (sel) {
    if (sel->type != SL_V_STRING)
      return sl__err_at(err, SL_CONFIG_INVALID, file, sel, "'data_selector' must be a string");
    sl_error e;
    sl_error_clear(&e);
    if (sl__check_selector(sel->u.s.ptr, &e))
      return sl__err_at(err, e.code, file, sel, "%s", e.msg);
  }
  const sl_value *skip = sl_v_get(spec, "skip_loaded_files");
  if (skip && skip->type != SL_V_BOOL)
    return sl__err_at(err, SL_CONFIG_INVALID, file, skip, "'skip_loaded_files' must be true or false");
  const char *pattern = path->u.s.ptr;
  if (env && env->config && strstr(pattern, "${")) {
    sl_error e;
    sl_error_clear(&e);
    const char *x = sl_config_expand(env->config, pattern, &e);
    if (!x) return sl__err_at(err, e.code, file, path, "%s", e.msg);
    pattern = x;
  }
  file_spec *fs = calloc(1, sizeof *fs);
  if (!fs) return sl_error_set(err, SL_NOMEM, "out of memory");
  fs->pattern = strdup(pattern);
  fs->base_dir = env && env->base_dir ? strdup(env->base_dir) : NULL;
  fs->selector = sel ? strdup(sel->u.s.ptr) : NULL;
  fs->format = format;
  fs->skip_loaded = skip && skip->u.b;
  if (!fs->pattern) {
    file_spec_free(fs);
    return sl_error_set(err, SL_NOMEM, "out of memory");
  }
  def->fn = file_run;
  def->ud = fs;
  def->free_ud = file_spec_free;
  return SL_OK;
}
