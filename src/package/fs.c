/* Filesystem helpers for crash-safe state on disk (see sluice/package.h):
 * mkdir -p, write-temp-fsync-rename, whole-file reads, folder fsync, rm -rf,
 * temporary folders removed on SIGINT/SIGTERM. Every error names the path
 * and the errno text. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* ---- temporary folders removed on SIGINT/SIGTERM --------------------------------------- */

/* The handler may only make async-signal-safe calls: no nftw, opendir or
 * malloc; a folder is read with getdents64 into a stack buffer. */
#define TMP_SLOTS 8
#define TMP_DEPTH 16
static char tmp_paths[TMP_SLOTS][PATH_MAX];
static volatile sig_atomic_t tmp_used[TMP_SLOTS];
static pthread_mutex_t tmp_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t tmp_once = PTHREAD_ONCE_INIT;

struct raw_dirent64 {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

static void rm_tree_at(int dirfd, const char *name, int depth) {
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  char buf[2048] __attribute__((aligned(8)));
  /* Removing entries while reading may skip some: read again until a pass
   * finds nothing left. */
  for (bool again = true; again;) {
    again = false;
    lseek(fd, 0, SEEK_SET);
    long n;
    while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
      for (long off = 0; off < n;) {
        const struct raw_dirent64 *d = (const struct raw_dirent64 *)(buf + off);
        off += d->reclen;
        const char *nm = d->name;
        if (nm[0] == '.' && (!nm[1] || (nm[1] == '.' && !nm[2]))) continue;
        if (depth < TMP_DEPTH) {
          rm_tree_at(fd, nm, depth + 1);
          again = true;
        }
      }
    }
  }
  close(fd);
  unlinkat(dirfd, name, AT_REMOVEDIR);
}

static void tmp_on_signal(int sig) {
  for (int i = 0; i < TMP_SLOTS; i++)
    if (tmp_used[i]) rm_tree_at(AT_FDCWD, tmp_paths[i], 0);
  raise(sig); /* SA_RESETHAND: the default action now ends the process */
}

static void tmp_install(void) {
  static const int sigs[] = {SIGINT, SIGTERM};
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
    struct sigaction old;
    if (sigaction(sigs[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL) continue; /* the program's own */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tmp_on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigfillset(&sa.sa_mask);
    sigaction(sigs[i], &sa, NULL);
  }
}

void sl_tmp_track(const char *path) {
  if (!path || strlen(path) >= PATH_MAX) return;
  pthread_once(&tmp_once, tmp_install);
  pthread_mutex_lock(&tmp_mu);
  for (int i = 0; i < TMP_SLOTS; i++)
    if (!tmp_used[i]) {
      memcpy(tmp_paths[i], path, strlen(path) + 1);
      tmp_used[i] = 1;
      break;
    }
  pthread_mutex_unlock(&tmp_mu);
}

void sl_tmp_untrack(const char *path) {
  if (!path) return;
  pthread_mutex_lock(&tmp_mu);
  for (int i = 0; i < TMP_SLOTS; i++)
    if (tmp_used[i] && strcmp(tmp_paths[i], path) == 0) {
      tmp_used[i] = 0;
      break;
    }
  pthread_mutex_unlock(&tmp_mu);
}
