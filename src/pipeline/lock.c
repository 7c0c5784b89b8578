/* One run at a time per pipeline: an flock'ed file in the working dir holding
 * the owner's pid. The kernel drops the lock when its process dies, so a lock
 * file left by a killed run is simply taken over. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "pipeline/pipeline_int.h"
#include "sluice/log.h"

sl_status sl__pipeline_lock(sl_pipeline *p, sl_error *err) {
  if (p->lock_fd >= 0) return SL_OK;
  char path[4096];
  snprintf(path, sizeof path, "%s/lock", p->working_dir);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return sl_error_set(err, SL_IO, "cannot open the lock file %s: %s", path, strerror(errno));
  char old[32] = "";
  ssize_t n = pread(fd, old, sizeof old - 1, 0);
  if (n > 0) old[n] = '\0';
  long pid = strtol(old, NULL, 10);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd);
    /* A pid left by a killed run is not the holder: name it only if alive. */
    if (e == EWOULDBLOCK && pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
      return sl_error_set(err, SL_LOCKED,
                          "pipeline '%s' is already running (pid %ld holds %s); wait for it to "
                          "finish",
                          p->name, pid, path);
    if (e == EWOULDBLOCK)
      return sl_error_set(err, SL_LOCKED,
                          "pipeline '%s' is already running (another process holds %s); wait "
                          "for it to finish",
                          p->name, path);
    return sl_error_set(err, SL_IO, "cannot lock %s: %s", path, strerror(e));
  }
  if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
    SL_INFO("taking over the lock of pipeline %s left by dead process %ld", p->name, pid);
  char me[32];
  int len = snprintf(me, sizeof me, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, me, (size_t)len, 0) != len) {
    close(fd);
    return sl_error_set(err, SL_IO, "cannot write the lock file %s", path);
  }
  p->lock_fd = fd;
  return SL_OK;
}

void sl__pipeline_unlock(sl_pipeline *p) {
  if (p->lock_fd < 0) return;
  /* Leave the file (another process may be waiting on it); empty it. */
  if (ftruncate(p->lock_fd, 0) != 0) SL_DEBUG("cannot empty the lock file");
  flock(p->lock_fd, LOCK_UN);
  close(p->lock_fd);
  p->lock_fd = -1;
}
