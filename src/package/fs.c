/* Filesystem helpers for crash-safe state on disk (see sluice/package.h):
 * mkdir -p, write-temp-fsync-rename, whole-file reads, folder fsync, rm -rf.
 * Every error names the path and the errno text. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/package.h"

static sl_status io_err(sl_error *err, const char *what, const char *path, int e) {
  sl_status code = e == ENOENT ? SL_NOT_FOUND : e == EEXIST ? SL_EXISTS : SL_IO;
  sl_error_set(err, code, "cannot %s %s: %s", what, path, strerror(e));
  sl_error_at(err, path, 0, 0, -1);
  return code;
}

sl_status sl_mkdir_p(const char *path, sl_error *err) {
  if (!path || !*path) return sl_error_set(err, SL_INVALID_ARG, "empty folder path");
  size_t n = strlen(path);
  char *p = malloc(n + 1);
  if (!p) return sl_error_set(err, SL_NOMEM, "out of memory");
  memcpy(p, path, n + 1);
  while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
  sl_status st = SL_OK;
  for (size_t i = 1; i <= n && !st; i++) {
    if (p[i] != '/' && p[i] != '\0') continue;
    char c = p[i];
    p[i] = '\0';
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
      st = io_err(err, "create the folder", p, errno);
    } else {
      struct stat sb;
      if (stat(p, &sb) != 0)
        st = io_err(err, "create the folder", p, errno);
      else if (!S_ISDIR(sb.st_mode))
        st = io_err(err, "create the folder", p, ENOTDIR);
    }
    p[i] = c;
  }
  free(p);
  return st;
}

sl_status sl_fsync_dir(const char *path, sl_error *err) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_err(err, "open the folder", path, errno);
  /* Some filesystems refuse fsync on folders (EINVAL); nothing more can be done there. */
  if (fsync(fd) != 0 && errno != EINVAL) {
    int e = errno;
    close(fd);
    return io_err(err, "sync the folder", path, e);
  }
  close(fd);
  return SL_OK;
}

/* The folder part of path ("." when it has none). */
static void dir_of(const char *path, char *out, size_t size) {
  const char *slash = strrchr(path, '/');
  if (!slash) {
    snprintf(out, size, ".");
  } else if (slash == path) {
    snprintf(out, size, "/");
  } else {
    size_t n = (size_t)(slash - path);
    if (n >= size) n = size - 1;
    memcpy(out, path, n);
    out[n] = '\0';
  }
}

static sl_status write_all(int fd, const void *data, size_t len, const char *path, sl_error *err) {
  const char *p = data;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return io_err(err, "write", path, errno);
    p += w;
    len -= (size_t)w;
  }
  return SL_OK;
}

sl_status sl_write_file_atomic(const char *path, const void *data, size_t len, sl_error *err) {
  char tmp[PATH_MAX], dir[PATH_MAX];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
    return sl_error_set(err, SL_INVALID_ARG, "path too long: %s", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_err(err, "create", tmp, errno);
  sl_status st = write_all(fd, data, len, tmp, err);
  if (!st && fsync(fd) != 0) st = io_err(err, "sync", tmp, errno);
  if (close(fd) != 0 && !st) st = io_err(err, "close", tmp, errno);
  if (!st && rename(tmp, path) != 0) st = io_err(err, "rename into place", path, errno);
  if (st) {
    unlink(tmp);
    return st;
  }
  dir_of(path, dir, sizeof dir);
  return sl_fsync_dir(dir, err);
}

sl_status sl_read_file(const char *path, char **data, size_t *len, sl_error *err) {
  *data = NULL;
  if (len) *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_err(err, "open", path, errno);
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    close(fd);
    return io_err(err, "read", path, e);
  }
  if (S_ISDIR(sb.st_mode)) {
    close(fd);
    return io_err(err, "read", path, EISDIR);
  }
  size_t cap = sb.st_size > 0 ? (size_t)sb.st_size + 1 : 4096, n = 0;
  char *buf = malloc(cap);
  if (!buf) {
    close(fd);
    return sl_error_set(err, SL_NOMEM, "out of memory reading %s", path);
  }
  for (;;) {
    if (n + 1 >= cap) { /* the file grew, or st_size was 0 (procfs) */
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        close(fd);
        return sl_error_set(err, SL_NOMEM, "out of memory reading %s", path);
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      close(fd);
      return io_err(err, "read", path, e);
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  *data = buf;
  if (len) *len = n;
  return SL_OK;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  int r = (flag == FTW_DP || flag == FTW_D) ? rmdir(path) : unlink(path);
  if (r != 0 && errno != ENOENT) return errno;
  return 0;
}

sl_status sl_rm_rf(const char *path, sl_error *err) {
  struct stat sb;
  if (lstat(path, &sb) != 0) {
    if (errno == ENOENT) return SL_OK;
    return io_err(err, "remove", path, errno);
  }
  if (!S_ISDIR(sb.st_mode)) {
    if (unlink(path) != 0 && errno != ENOENT) return io_err(err, "remove", path, errno);
    return SL_OK;
  }
  int e = nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
  if (e != 0) return io_err(err, "remove", path, e > 0 ? e : errno);
  return SL_OK;
}
