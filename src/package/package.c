/* Load packages on disk (see sluice/package.h): a folder per load id whose
 * state and job files change only by atomic rename followed by an fsync of
 * the folders involved, so a crash leaves either the old or the new state. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "sluice/log.h"
#include "sluice/package.h"

struct sl_package {
  char *root;
  char *load_id;
  char *path;
  sl_package_state state;
};

static const char *const state_names[] = {"new", "extracted", "normalized", "loaded", "aborted"};
static const char *const job_folders[] = {"new_jobs", "started_jobs", "completed_jobs",
                                          "failed_jobs"};
#define STATE_FILE "package_state"

/* snprintf into a path buffer; false (and nothing usable) when it does not fit. */
static bool pathf(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool pathf(char *out, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(out, size, fmt, ap);
  va_end(ap);
  return w >= 0 && (size_t)w < size;
}

const char *sl_package_state_name(sl_package_state s) {
  return (unsigned)s <= SL_PKG_ABORTED ? state_names[s] : "unknown";
}

static int parse_state(const char *text) {
  size_t n = strcspn(text, " \t\r\n");
  for (int i = 0; i <= SL_PKG_ABORTED; i++)
    if (strlen(state_names[i]) == n && !strncmp(text, state_names[i], n)) return i;
  return -1;
}

/* ---- load ids ------------------------------------------------------------------ */

static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t last_id_us;

void sl_new_load_id(char out[32]) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
  pthread_mutex_lock(&id_lock);
  if (us <= last_id_us) us = last_id_us + 1;
  last_id_us = us;
  pthread_mutex_unlock(&id_lock);
  snprintf(out, 32, "%lld.%06lld", (long long)(us / 1000000), (long long)(us % 1000000));
}

/* Load ids compare as decimal numbers: integer part by length then digits,
 * then the fraction digit by digit (a missing digit counts as 0). */
static int cmp_load_id(const char *a, const char *b) {
  size_t ia = strcspn(a, "."), ib = strcspn(b, ".");
  if (ia != ib) return ia < ib ? -1 : 1;
  int c = strncmp(a, b, ia);
  if (c) return c;
  const char *fa = a[ia] ? a + ia + 1 : "", *fb = b[ib] ? b + ib + 1 : "";
  while (*fa || *fb) {
    char x = *fa ? *fa++ : '0', y = *fb ? *fb++ : '0';
    if (x != y) return x < y ? -1 : 1;
  }
  return strcmp(a, b);
}

static int cmp_id_ptr(const void *x, const void *y) {
  return cmp_load_id(*(char *const *)x, *(char *const *)y);
}

/* ---- handles ------------------------------------------------------------------- */

static bool valid_name(const char *s) {
  return s && *s && s[0] != '.' && !strchr(s, '/') && strlen(s) < NAME_MAX;
}

static sl_package *pkg_new(const char *root, const char *load_id, sl_error *err) {
  if (!root || !*root) {
    sl_error_set(err, SL_INVALID_ARG, "no packages folder given");
    return NULL;
  }
  if (!valid_name(load_id)) {
    sl_error_set(err, SL_INVALID_ARG, "invalid load id '%s'", load_id ? load_id : "(null)");
    return NULL;
  }
  sl_package *p = calloc(1, sizeof *p);
  if (!p || !(p->root = strdup(root)) || !(p->load_id = strdup(load_id)) ||
      asprintf(&p->path, "%s/%s", root, load_id) < 0) {
    if (p) p->path = NULL;
    sl_package_close(p);
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  return p;
}

void sl_package_close(sl_package *p) {
  if (!p) return;
  free(p->root);
  free(p->load_id);
  free(p->path);
  free(p);
}

const char *sl_package_load_id(const sl_package *p) { return p->load_id; }
const char *sl_package_path(const sl_package *p) { return p->path; }
sl_package_state sl_package_get_state(const sl_package *p) { return p->state; }

sl_package *sl_package_create(const char *root, const char *load_id, sl_error *err) {
  sl_package *p = pkg_new(root, load_id, err);
  if (!p) return NULL;
  char tmp[PATH_MAX], sub[PATH_MAX];
  struct stat sb;
  sl_status st = sl_mkdir_p(root, err);
  if (st) goto fail;
  if (lstat(p->path, &sb) == 0) {
    st = sl_error_set(err, SL_EXISTS, "the package %s already exists", p->path);
    goto fail;
  }
  /* Build the whole package under a hidden name, then rename it into place:
   * a crash never leaves a package without its folders or state. */
  if (!pathf(tmp, sizeof tmp, "%s/.%s.tmp", root, load_id) ||
      !pathf(sub, sizeof sub, "%s/.%s.tmp/failed_jobs/.x.tmp.0000000000", root, load_id)) {
    sl_error_set(err, SL_INVALID_ARG, "path too long: %s", p->path);
    sl_package_close(p);
    return NULL;
  }
  if ((st = sl_rm_rf(tmp, err)) || (st = sl_mkdir_p(tmp, err))) goto fail;
  for (int i = 0; i < 4 && !st; i++) {
    pathf(sub, sizeof sub, "%s/%s", tmp, job_folders[i]);
    st = sl_mkdir_p(sub, err);
  }
  if (st) goto fail;
  pathf(sub, sizeof sub, "%s/" STATE_FILE, tmp);
  if ((st = sl_write_file_atomic(sub, "new\n", 4, err))) goto fail;
  if (rename(tmp, p->path) != 0) {
    st = sl_error_set(err, errno == ENOTEMPTY || errno == EEXIST ? SL_EXISTS : SL_IO,
                      "cannot create the package %s: %s", p->path, strerror(errno));
    goto fail;
  }
  if ((st = sl_fsync_dir(root, err))) goto fail;
  p->state = SL_PKG_NEW;
  return p;
fail:
  sl_rm_rf(tmp, NULL);
  sl_package_close(p);
  return NULL;
}

sl_package *sl_package_open(const char *root, const char *load_id, sl_error *err) {
  sl_package *p = pkg_new(root, load_id, err);
  if (!p) return NULL;
  char path[PATH_MAX], *text = NULL;
  pathf(path, sizeof path, "%s/" STATE_FILE, p->path);
  sl_status st = sl_read_file(path, &text, NULL, err);
  if (st) {
    if (st == SL_NOT_FOUND) sl_error_set(err, SL_NOT_FOUND, "no package %s (missing %s)", p->path, path);
    sl_package_close(p);
    return NULL;
  }
  int s = parse_state(text);
  free(text);
  if (s < 0) {
    sl_error_set(err, SL_IO, "the package state in %s is not one of new, extracted, normalized, "
                             "loaded, aborted", path);
    sl_error_at(err, path, 0, 0, -1);
    sl_package_close(p);
    return NULL;
  }
  p->state = (sl_package_state)s;
  return p;
}

sl_status sl_package_set_state(sl_package *p, sl_package_state s, sl_error *err) {
  if ((unsigned)s > SL_PKG_ABORTED) return sl_error_set(err, SL_INVALID_ARG, "invalid package state");
  char path[PATH_MAX], text[16];
  pathf(path, sizeof path, "%s/" STATE_FILE, p->path);
  int n = snprintf(text, sizeof text, "%s\n", state_names[s]);
  sl_status st = sl_write_file_atomic(path, text, (size_t)n, err);
  if (!st) p->state = s;
  return st;
}

/* ---- listing ------------------------------------------------------------------- */

typedef struct name_list {
  char **v;
  size_t n, cap;
} name_list;

static sl_status list_push(name_list *l, const char *s, sl_error *err) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **v = realloc(l->v, cap * sizeof *v);
    if (!v) return sl_error_set(err, SL_NOMEM, "out of memory");
    l->v = v;
    l->cap = cap;
  }
  if (!(l->v[l->n] = strdup(s))) return sl_error_set(err, SL_NOMEM, "out of memory");
  l->n++;
  return SL_OK;
}

void sl_package_list_free(char **list, size_t n) {
  if (!list) return;
  for (size_t i = 0; i < n; i++) free(list[i]);
  free(list);
}

/* The names in dir that keep() accepts, sorted by cmp; a missing dir is empty. */
static sl_status list_dir(const char *dir, const char *what,
                          bool (*keep)(const char *dir, const char *name, void *ud), void *ud,
                          int (*cmp)(const void *, const void *), char ***out, size_t *n,
                          sl_error *err) {
  *out = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT) return SL_OK;
    return sl_error_set(err, SL_IO, "cannot list the %s in %s: %s", what, dir, strerror(errno));
  }
  name_list l = {0};
  sl_status st = SL_OK;
  struct dirent *e;
  while (!st && (e = readdir(d)) != NULL)
    if (keep(dir, e->d_name, ud)) st = list_push(&l, e->d_name, err);
  closedir(d);
  if (st) {
    sl_package_list_free(l.v, l.n);
    return st;
  }
  if (l.n > 1) qsort(l.v, l.n, sizeof *l.v, cmp);
  *out = l.v;
  *n = l.n;
  return SL_OK;
}

static bool keep_package(const char *root, const char *name, void *ud) {
  bool pending_only = *(bool *)ud;
  if (name[0] == '.') return false; /* ., .., and packages being built or deleted */
  char path[PATH_MAX];
  struct stat sb;
  if (!pathf(path, sizeof path, "%s/%s", root, name)) return false;
  if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) return false;
  if (!pending_only) return true;
  sl_error pe;
  sl_error_clear(&pe);
  sl_package *p = sl_package_open(root, name, &pe);
  if (!p) {
    SL_WARN("skipping the unreadable package %s: %s", path, pe.msg);
    return false;
  }
  bool done = p->state == SL_PKG_LOADED || p->state == SL_PKG_ABORTED;
  sl_package_close(p);
  return !done;
}

static sl_status list_packages(const char *root, bool pending_only, char ***ids, size_t *n,
                               sl_error *err) {
  return list_dir(root, "packages", keep_package, &pending_only, cmp_id_ptr, ids, n, err);
}

sl_status sl_package_list_pending(const char *root, char ***ids, size_t *n, sl_error *err) {
  return list_packages(root, true, ids, n, err);
}

sl_status sl_package_list_all(const char *root, char ***ids, size_t *n, sl_error *err) {
  return list_packages(root, false, ids, n, err);
}

sl_status sl_package_file_path(const sl_package *p, const char *folder, const char *name,
                               char *out, size_t size) {
  int w = folder && *folder ? snprintf(out, size, "%s/%s/%s", p->path, folder, name)
                            : snprintf(out, size, "%s/%s", p->path, name);
  return w < 0 || (size_t)w >= size ? SL_TOO_LARGE : SL_OK;
}

/* Job names "<table>.<file_id>.<retry>.<format>": the table may hold dots, so
 * the three fields are taken from the right. Jobs sort by table, then file id
 * and retry as numbers, so rotated files load in the order they were written
 * (which decides the "last row wins" dedup of a merge). */
typedef struct job_key {
  const char *name;
  size_t table_len;
  unsigned long long file_id, retry;
} job_key;

static job_key job_key_of(const char *name) {
  job_key k = {name, strlen(name), 0, 0};
  const char *dots[3] = {NULL, NULL, NULL};
  int found = 0;
  for (const char *s = name + strlen(name); s > name && found < 3;)
    if (*--s == '.') dots[found++] = s;
  if (found == 3) { /* dots[2] ends the table, dots[1] the file id, dots[0] the retry */
    k.table_len = (size_t)(dots[2] - name);
    k.file_id = strtoull(dots[2] + 1, NULL, 10);
    k.retry = strtoull(dots[1] + 1, NULL, 10);
  }
  return k;
}

static int cmp_job(const void *x, const void *y) {
  job_key a = job_key_of(*(char *const *)x), b = job_key_of(*(char *const *)y);
  size_t m = a.table_len < b.table_len ? a.table_len : b.table_len;
  int c = memcmp(a.name, b.name, m);
  if (c) return c;
  if (a.table_len != b.table_len) return a.table_len < b.table_len ? -1 : 1;
  if (a.file_id != b.file_id) return a.file_id < b.file_id ? -1 : 1;
  if (a.retry != b.retry) return a.retry < b.retry ? -1 : 1;
  return strcmp(a.name, b.name);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

static bool keep_job(const char *dir, const char *name, void *ud) {
  (void)dir;
  (void)ud;
  return name[0] != '.' && !ends_with(name, ".exception") && !strstr(name, ".tmp.");
}

sl_status sl_package_list_jobs(const sl_package *p, sl_job_state js, char ***names, size_t *n,
                               sl_error *err) {
  *names = NULL;
  *n = 0;
  if ((unsigned)js > SL_JOB_FAILED) return sl_error_set(err, SL_INVALID_ARG, "invalid job state");
  char dir[PATH_MAX];
  pathf(dir, sizeof dir, "%s/%s", p->path, job_folders[js]);
  return list_dir(dir, "jobs", keep_job, NULL, cmp_job, names, n, err);
}

sl_status sl_package_move_job(sl_package *p, const char *name, sl_job_state from, sl_job_state to,
                              const char *exception_msg, sl_error *err) {
  if ((unsigned)from > SL_JOB_FAILED || (unsigned)to > SL_JOB_FAILED || !valid_name(name))
    return sl_error_set(err, SL_INVALID_ARG, "invalid job move of '%s'", name ? name : "(null)");
  char src[PATH_MAX], dst[PATH_MAX], sdir[PATH_MAX], ddir[PATH_MAX];
  char exc[PATH_MAX];
  if (!pathf(sdir, sizeof sdir, "%s/%s", p->path, job_folders[from]) ||
      !pathf(ddir, sizeof ddir, "%s/%s", p->path, job_folders[to]) ||
      !pathf(src, sizeof src, "%s/%s", sdir, name) || !pathf(dst, sizeof dst, "%s/%s", ddir, name) ||
      !pathf(exc, sizeof exc, "%s.exception.tmp.0000000000", dst))
    return sl_error_set(err, SL_INVALID_ARG, "path too long: %s/%s", p->path, name);
  sl_status st;
  if ((st = sl_mkdir_p(ddir, err))) return st;
  if (to == SL_JOB_FAILED) {
    const char *msg = exception_msg ? exception_msg : "failed";
    pathf(exc, sizeof exc, "%s.exception", dst);
    if ((st = sl_write_file_atomic(exc, msg, strlen(msg), err))) return st;
  }
  if (from == to) return SL_OK;
  if (rename(src, dst) != 0) {
    st = sl_error_set(err, errno == ENOENT ? SL_NOT_FOUND : SL_IO, "cannot move the job %s to %s: %s",
                      src, job_folders[to], strerror(errno));
    sl_error_at(err, src, 0, 0, -1);
    return st;
  }
  /* The new entry first: if only the old folder's change reached the disk, the job would vanish. */
  if ((st = sl_fsync_dir(ddir, err))) return st;
  return sl_fsync_dir(sdir, err);
}

sl_status sl_package_write_file(sl_package *p, const char *name, const void *data, size_t len,
                                sl_error *err) {
  char path[PATH_MAX];
  if (sl_package_file_path(p, NULL, name, path, sizeof path))
    return sl_error_set(err, SL_INVALID_ARG, "path too long: %s/%s", p->path, name);
  return sl_write_file_atomic(path, data, len, err);
}

sl_status sl_package_read_file(const sl_package *p, const char *name, char **data, size_t *len,
                               sl_error *err) {
  char path[PATH_MAX];
  if (sl_package_file_path(p, NULL, name, path, sizeof path))
    return sl_error_set(err, SL_INVALID_ARG, "path too long: %s/%s", p->path, name);
  return sl_read_file(path, data, len, err);
}

sl_status sl_package_delete(sl_package *p, sl_error *err) {
  /* Rename away first so that a crash mid-delete never leaves a half package
   * that looks like a real one; the hidden leftover is ignored by listings. */
  char gone[PATH_MAX];
  if (!pathf(gone, sizeof gone, "%s/.%s.deleted", p->root, p->load_id))
    return sl_error_set(err, SL_INVALID_ARG, "path too long: %s", p->path);
  sl_status st = sl_rm_rf(gone, err);
  if (st) return st;
  if (rename(p->path, gone) != 0) {
    if (errno == ENOENT) return SL_OK;
    return sl_error_set(err, SL_IO, "cannot delete the package %s: %s", p->path, strerror(errno));
  }
  if ((st = sl_fsync_dir(p->root, err))) return st;
  return sl_rm_rf(gone, err);
}
