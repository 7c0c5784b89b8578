/* sluice/package.h — load packages on disk: the unit that moves through the
 * extract → normalize → load stages and that makes a killed run resumable.
 *
 * Layout under <pipeline working dir>/packages/<load_id>/ (as dlt's); the
 * functions below take that packages folder as `root`:
 *   package_state          one word: new | extracted | normalized | loaded | aborted
 *   extract/               extracted records, <resource>.<file_id>.jsonl (stage 1 output)
 *   schema.json            the schema after normalize (stage 2 output)
 *   state.json             the pipeline state this package carries (committed with it)
 *   new_jobs/ started_jobs/ completed_jobs/ failed_jobs/
 *                          job files <table>.<file_id>.<retry>.<format>; a failed job
 *                          keeps <file>.exception with its message
 * Every change of state is an atomic rename (or write-temp-then-rename) followed
 * by an fsync of the folder, so a crash leaves either the old or the new state.
 *
 * Memory rule: an sl_package handle owns its path strings until sl_package_close;
 * lists returned by the functions below are malloc'ed and freed with
 * sl_package_list_free.
 */
#ifndef SLUICE_PACKAGE_H
#define SLUICE_PACKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sl_package_state {
  SL_PKG_NEW = 0,
  SL_PKG_EXTRACTED,
  SL_PKG_NORMALIZED,
  SL_PKG_LOADED,
  SL_PKG_ABORTED
} sl_package_state;
const char *sl_package_state_name(sl_package_state s);

typedef enum sl_job_state {
  SL_JOB_NEW = 0,
  SL_JOB_STARTED,
  SL_JOB_COMPLETED,
  SL_JOB_FAILED
} sl_job_state;

typedef struct sl_package sl_package;

/* A new load id: Unix time with microseconds as text ("1732800000.123456"),
 * strictly greater than any earlier id returned in this process. */
void sl_new_load_id(char out[32]);

/* Create <root>/<load_id>/ with its job folders, state new. The folder is
 * built under a hidden name and renamed into place, so a crash never leaves a
 * half-made package. SL_EXISTS when that load id is taken. */
sl_package *sl_package_create(const char *root, const char *load_id, sl_error *err);
sl_package *sl_package_open(const char *root, const char *load_id, sl_error *err);
void sl_package_close(sl_package *p);

const char *sl_package_load_id(const sl_package *p);
const char *sl_package_path(const sl_package *p); /* the package folder */
sl_package_state sl_package_get_state(const sl_package *p);
sl_status sl_package_set_state(sl_package *p, sl_package_state s, sl_error *err);

/* Load ids of packages under root not yet loaded (or aborted), oldest first
 * (ids compare as decimal numbers). A missing root has none; a folder whose
 * package_state cannot be read is skipped with a warning. */
sl_status sl_package_list_pending(const char *root, char ***ids, size_t *n, sl_error *err);
/* All load ids under root, oldest first. */
sl_status sl_package_list_all(const char *root, char ***ids, size_t *n, sl_error *err);
void sl_package_list_free(char **list, size_t n);

/* Path of a new file in a stage folder: "<pkg>/<folder>/<name>" (not created). */
sl_status sl_package_file_path(const sl_package *p, const char *folder, const char *name,
                               char *out, size_t size);

/* Job files: name is "<table>.<file_id>.<retry>.<format>". Listed by table,
 * then file id and retry as numbers (rotated files in the order written);
 * .exception and temporary files are not listed. Moving to SL_JOB_FAILED
 * writes <name>.exception (exception_msg) beside the job first. */
sl_status sl_package_list_jobs(const sl_package *p, sl_job_state st, char ***names, size_t *n,
                               sl_error *err);
sl_status sl_package_move_job(sl_package *p, const char *name, sl_job_state from, sl_job_state to,
                              const char *exception_msg, sl_error *err);
/* Write a small file atomically into the package (temp + rename + fsync). */
sl_status sl_package_write_file(sl_package *p, const char *name, const void *data, size_t len,
                                sl_error *err);
/* Read a small file of the package; *data malloc'ed (NUL-terminated). */
sl_status sl_package_read_file(const sl_package *p, const char *name, char **data, size_t *len,
                               sl_error *err);
/* Remove the whole package folder (after it is loaded, unless kept): renamed
 * to a hidden name first, so a crash mid-delete leaves no half package. */
sl_status sl_package_delete(sl_package *p, sl_error *err);

/* Filesystem helpers used by the package and pipeline code. Errors name the
 * path and carry strerror's text; a missing file is SL_NOT_FOUND. */
sl_status sl_mkdir_p(const char *path, sl_error *err);
/* Write <path>.tmp.<pid>, fsync, rename over path, fsync the folder. */
sl_status sl_write_file_atomic(const char *path, const void *data, size_t len, sl_error *err);
sl_status sl_read_file(const char *path, char **data, size_t *len, sl_error *err);
sl_status sl_fsync_dir(const char *path, sl_error *err);
sl_status sl_rm_rf(const char *path, sl_error *err); /* SL_OK when path does not exist */
/* A temporary folder removed if SIGINT or SIGTERM ends the process before
 * sl_tmp_untrack (the first call installs the handlers, unless the program
 * has its own). A few at a time; a path past the limit is not tracked. */
void sl_tmp_track(const char *path);
void sl_tmp_untrack(const char *path);

#ifdef __cplusplus
}
#endif
#endif
