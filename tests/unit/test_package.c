/* Load packages on disk: layout, states, job moves, listings in load order,
 * and the filesystem helpers with errors that name the path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sluice/package.h"
#include "test.h"

static char root[256];

static const char *fresh_root(const char *name) {
  snprintf(root, sizeof root, "/tmp/sl_test_package_%ld/%s", (long)getpid(), name);
  sl_rm_rf(root, NULL);
  return root;
}

static bool is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static bool is_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static void touch(const char *path) {
  FILE *f = fopen(path, "w");
  if (f) fclose(f);
}

TEST(load_ids_strictly_increase) {
  char prev[32], cur[32];
  sl_new_load_id(prev);
  CHECK(strchr(prev, '.'));
  CHECK_INT(strlen(strchr(prev, '.') + 1), 6);
  for (int i = 0; i < 10000; i++) {
    sl_new_load_id(cur);
    CHECK_MSG(strcmp(cur, prev) > 0, "%s after %s", cur, prev);
    strcpy(prev, cur);
  }
}

TEST(create_layout_and_state) {
  const char *r = fresh_root("layout");
  sl_error err;
  sl_package *p = sl_package_create(r, "1700000000.000001", &err);
  CHECK_MSG(p, "%s", err.msg);
  CHECK_STR(sl_package_load_id(p), "1700000000.000001");
  char path[600];
  snprintf(path, sizeof path, "%s/1700000000.000001", r);
  CHECK_STR(sl_package_path(p), path);
  const char *sub[] = {"new_jobs", "started_jobs", "completed_jobs", "failed_jobs"};
  for (int i = 0; i < 4; i++) {
    char s[700];
    snprintf(s, sizeof s, "%s/%s", path, sub[i]);
    CHECK(is_dir(s));
  }
  char *state;
  CHECK_OK(sl_package_read_file(p, "package_state", &state, NULL, &err));
  CHECK_STR(state, "new\n");
  free(state);
  CHECK_INT(sl_package_get_state(p), SL_PKG_NEW);
  CHECK_OK(sl_package_set_state(p, SL_PKG_NORMALIZED, &err));
  CHECK_INT(sl_package_get_state(p), SL_PKG_NORMALIZED);
  sl_package_close(p);
  /* Reopened, the state is what was set; no temp files are left behind. */
  p = sl_package_open(r, "1700000000.000001", &err);
  CHECK(p);
  CHECK_INT(sl_package_get_state(p), SL_PKG_NORMALIZED);
  CHECK_STR(sl_package_state_name(sl_package_get_state(p)), "normalized");
  sl_package_close(p);
  char **ids;
  size_t n;
  CHECK_OK(sl_package_list_all(r, &ids, &n, &err));
  CHECK_INT(n, 1);
  sl_package_list_free(ids, n);
  /* Creating the same id again fails. */
  CHECK(sl_package_create(r, "1700000000.000001", &err) == NULL);
  CHECK_INT(err.code, SL_EXISTS);
}

TEST(open_missing_and_broken) {
  const char *r = fresh_root("broken");
  sl_error err;
  CHECK(sl_package_open(r, "1.0", &err) == NULL);
  CHECK_INT(err.code, SL_NOT_FOUND);
  char path[600];
  snprintf(path, sizeof path, "%s/2.0", r);
  CHECK_OK(sl_mkdir_p(path, &err));
  snprintf(path, sizeof path, "%s/2.0/package_state", r);
  CHECK_OK(sl_write_file_atomic(path, "bogus", 5, &err));
  CHECK(sl_package_open(r, "2.0", &err) == NULL);
  CHECK_CONTAINS(err.msg, "package_state");
  CHECK(sl_package_create(r, "../x", &err) == NULL);
  CHECK_INT(err.code, SL_INVALID_ARG);
}

TEST(list_pending_oldest_first) {
  const char *r = fresh_root("pending");
  sl_error err;
  /* Created out of order; ids of different lengths compare as numbers. */
  const char *ids_in[] = {"1700000002.5", "999999999.9", "1700000001.000010", "1700000001.00002",
                          "1700000003.0"};
  for (int i = 0; i < 5; i++) {
    sl_package *p = sl_package_create(r, ids_in[i], &err);
    CHECK_MSG(p, "%s", err.msg);
    if (!strcmp(ids_in[i], "1700000002.5")) sl_package_set_state(p, SL_PKG_LOADED, &err);
    if (!strcmp(ids_in[i], "1700000003.0")) sl_package_set_state(p, SL_PKG_ABORTED, &err);
    sl_package_close(p);
  }
  /* Leftovers of an interrupted create or delete are not packages. */
  char junk[600];
  snprintf(junk, sizeof junk, "%s/.1800000000.0.tmp", r);
  sl_mkdir_p(junk, &err);
  char **ids;
  size_t n;
  CHECK_OK(sl_package_list_pending(r, &ids, &n, &err));
  CHECK_INT(n, 3);
  CHECK_STR(ids[0], "999999999.9");
  CHECK_STR(ids[1], "1700000001.000010");
  CHECK_STR(ids[2], "1700000001.00002");
  sl_package_list_free(ids, n);
  CHECK_OK(sl_package_list_all(r, &ids, &n, &err));
  CHECK_INT(n, 5);
  CHECK_STR(ids[3], "1700000002.5");
  CHECK_STR(ids[4], "1700000003.0");
  sl_package_list_free(ids, n);
  /* A root that does not exist has no packages. */
  CHECK_OK(sl_package_list_pending("/tmp/sl_no_such_root_xyz", &ids, &n, &err));
  CHECK_INT(n, 0);
}

TEST(job_moves_and_order) {
  const char *r = fresh_root("jobs");
  sl_error err;
  sl_package *p = sl_package_create(r, "1.1", &err);
  CHECK(p);
  const char *names[] = {"pins.10.0.sjob", "pins.2.0.sjob", "pins__tags.0.0.sjob", "a.b.1.0.sjob",
                         "pins.2.1.sjob"};
  for (int i = 0; i < 5; i++) {
    char path[700];
    CHECK_OK(sl_package_file_path(p, "new_jobs", names[i], path, sizeof path));
    touch(path);
  }
  char **jobs;
  size_t n;
  CHECK_OK(sl_package_list_jobs(p, SL_JOB_NEW, &jobs, &n, &err));
  CHECK_INT(n, 5);
  /* by table, then file id and retry as numbers */
  CHECK_STR(jobs[0], "a.b.1.0.sjob");
  CHECK_STR(jobs[1], "pins.2.0.sjob");
  CHECK_STR(jobs[2], "pins.2.1.sjob");
  CHECK_STR(jobs[3], "pins.10.0.sjob");
  CHECK_STR(jobs[4], "pins__tags.0.0.sjob");
  sl_package_list_free(jobs, n);
  CHECK_OK(sl_package_move_job(p, "pins.2.0.sjob", SL_JOB_NEW, SL_JOB_STARTED, NULL, &err));
  CHECK_OK(sl_package_move_job(p, "pins.2.0.sjob", SL_JOB_STARTED, SL_JOB_COMPLETED, NULL, &err));
  CHECK_OK(sl_package_move_job(p, "pins.10.0.sjob", SL_JOB_NEW, SL_JOB_FAILED, "bad row 7", &err));
  char path[700];
  sl_package_file_path(p, "completed_jobs", "pins.2.0.sjob", path, sizeof path);
  CHECK(is_file(path));
  sl_package_file_path(p, "new_jobs", "pins.2.0.sjob", path, sizeof path);
  CHECK(!is_file(path));
  char *exc;
  CHECK_OK(sl_package_read_file(p, "failed_jobs/pins.10.0.sjob.exception", &exc, NULL, &err));
  CHECK_STR(exc, "bad row 7");
  free(exc);
  /* .exception files are not jobs */
  CHECK_OK(sl_package_list_jobs(p, SL_JOB_FAILED, &jobs, &n, &err));
  CHECK_INT(n, 1);
  CHECK_STR(jobs[0], "pins.10.0.sjob");
  sl_package_list_free(jobs, n);
  CHECK_OK(sl_package_list_jobs(p, SL_JOB_NEW, &jobs, &n, &err));
  CHECK_INT(n, 3);
  sl_package_list_free(jobs, n);
  /* Moving a job that is not there names it. */
  CHECK_INT(sl_package_move_job(p, "nope.0.0.sjob", SL_JOB_NEW, SL_JOB_STARTED, NULL, &err),
            SL_NOT_FOUND);
  CHECK_CONTAINS(err.msg, "nope.0.0.sjob");
  CHECK(sl_package_move_job(p, "../x", SL_JOB_NEW, SL_JOB_STARTED, NULL, &err) == SL_INVALID_ARG);
  sl_package_close(p);
}

TEST(files_and_delete) {
  const char *r = fresh_root("files");
  sl_error err;
  sl_package *p = sl_package_create(r, "5.5", &err);
  CHECK(p);
  CHECK_OK(sl_package_write_file(p, "state.json", "{\"a\":1}", 7, &err));
  char *data;
  size_t len;
  CHECK_OK(sl_package_read_file(p, "state.json", &data, &len, &err));
  CHECK_INT(len, 7);
  CHECK_STR(data, "{\"a\":1}");
  free(data);
  CHECK_INT(sl_package_read_file(p, "missing.json", &data, &len, &err), SL_NOT_FOUND);
  CHECK_CONTAINS(err.msg, "missing.json");
  CHECK_CONTAINS(err.msg, "No such file");
  char path[700];
  snprintf(path, sizeof path, "%s", sl_package_path(p));
  CHECK_OK(sl_package_delete(p, &err));
  CHECK(!is_dir(path));
  char **ids;
  size_t n;
  CHECK_OK(sl_package_list_all(r, &ids, &n, &err));
  CHECK_INT(n, 0);
  sl_package_list_free(ids, n);
  sl_package_close(p);
}

TEST(fs_helpers) {
  const char *r = fresh_root("fs");
  sl_error err;
  char path[700];
  snprintf(path, sizeof path, "%s/a/b/c/", r);
  CHECK_OK(sl_mkdir_p(path, &err));
  CHECK_OK(sl_mkdir_p(path, &err)); /* again: fine */
  snprintf(path, sizeof path, "%s/a/b/c/f.txt", r);
  CHECK_OK(sl_write_file_atomic(path, "one", 3, &err));
  CHECK_OK(sl_write_file_atomic(path, "two!", 4, &err));
  char *data;
  size_t len;
  CHECK_OK(sl_read_file(path, &data, &len, &err));
  CHECK_STR(data, "two!");
  free(data);
  /* mkdir through a file: error names the path and the reason */
  snprintf(path, sizeof path, "%s/a/b/c/f.txt/sub", r);
  CHECK(sl_mkdir_p(path, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "f.txt");
  CHECK_CONTAINS(err.msg, "Not a directory");
  /* writing into a missing folder */
  snprintf(path, sizeof path, "%s/nope/f.txt", r);
  CHECK(sl_write_file_atomic(path, "x", 1, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "nope/f.txt");
  /* reading a folder */
  snprintf(path, sizeof path, "%s/a", r);
  CHECK_INT(sl_read_file(path, &data, &len, &err), SL_IO);
  CHECK_CONTAINS(err.msg, "Is a directory");
  CHECK_OK(sl_fsync_dir(path, &err));
  CHECK(sl_fsync_dir("/tmp/sl_no_such_dir_xyz", &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "/tmp/sl_no_such_dir_xyz");
  /* rm -rf of a tree, of a file, of nothing */
  CHECK_OK(sl_rm_rf(path, &err));
  CHECK(!is_dir(path));
  CHECK_OK(sl_rm_rf(path, &err));
  if (geteuid() != 0) {
    /* permission errors carry errno's text */
    snprintf(path, sizeof path, "%s/ro", r);
    sl_mkdir_p(path, &err);
    chmod(path, 0555);
    snprintf(path, sizeof path, "%s/ro/f", r);
    CHECK(sl_write_file_atomic(path, "x", 1, &err) != SL_OK);
    CHECK_CONTAINS(err.msg, "Permission denied");
    snprintf(path, sizeof path, "%s/ro", r);
    chmod(path, 0755);
  }
}

/* A tracked folder is removed when SIGINT or SIGTERM ends the process (a
 * Ctrl-C during an S3 query), with files and folders in it (more than one
 * getdents64 buffer's worth); an untracked one stays. */
TEST(tmp_tracked_removed_on_signal) {
  static const int sigs[] = {SIGINT, SIGTERM};
  for (size_t s = 0; s < 2; s++) {
    const char *r = fresh_root(s ? "sigterm" : "sigint");
    char keep[512], gone[512], path[700];
    snprintf(keep, sizeof keep, "%s/keep", r);
    snprintf(gone, sizeof gone, "%s/sluice_query_x", r);
    CHECK_OK(sl_mkdir_p(keep, NULL));
    snprintf(path, sizeof path, "%s/views/deeper/still", gone);
    CHECK_OK(sl_mkdir_p(path, NULL));
    for (int i = 0; i < 300; i++) {
      snprintf(path, sizeof path, "%s/views/a_file_with_a_longish_name_%03d.parquet", gone, i);
      touch(path);
    }
    snprintf(path, sizeof path, "%s/views/deeper/still/f", gone);
    touch(path);
    pid_t pid = fork();
    if (pid == 0) {
      sl_tmp_track(keep);
      sl_tmp_track(gone);
      sl_tmp_untrack(keep);
      raise(sigs[s]);
      _exit(0); /* not reached */
    }
    int ws = 0;
    CHECK(waitpid(pid, &ws, 0) == pid);
    CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == sigs[s]);
    CHECK(!is_dir(gone));
    CHECK(is_dir(keep));
  }
}

TEST(cleanup) {
  char dir[256];
  snprintf(dir, sizeof dir, "/tmp/sl_test_package_%ld", (long)getpid());
  CHECK_OK(sl_rm_rf(dir, NULL));
}

TEST_MAIN()
