/* The filesystem destination's internals, shared with the Athena destination
 * (which stages its Parquet files through it). */
#ifndef SLUICE_FILESYSTEM_INT_H
#define SLUICE_FILESYSTEM_INT_H

#include "dest/dest_int.h"
#include "sluice/aws.h"
#include "sluice/dest.h"
#include "sluice/package.h"
#include "sluice/schema.h"
#include "sluice/value.h"

typedef struct sl__fs {
  sl_dest base;
  sl_s3 *s3;      /* NULL: a local folder */
  char *bucket;   /* S3 bucket */
  char *prefix;   /* folder path, or key prefix, of the dataset (no trailing '/') */
  char *layout;
  char *compression; /* parquet codec */
  bool jsonl, gzip;
  char *tmpdir;
  sl_dest *conv;  /* in-memory DuckDB: job files -> Parquet/JSON */
} sl__fs;

typedef struct sl__fs_job {
  char *name;
  sl_job_state state;
  char *table;
  char file_id[32];
  char path[4096];
} sl__fs_job;

typedef struct sl__fs_jobs {
  sl__fs_job *jobs;
  size_t n;
} sl__fs_jobs;

sl_status sl__fs_init(sl__fs *f, const sl_filesystem_options *o, sl_error *err);
sl_status sl__fs_gather(sl_package *pkg, sl__fs_jobs *out, sl_error *err);
void sl__fs_jobs_free(sl__fs_jobs *j);
void sl__fs_fail_job(sl_package *pkg, sl__fs_job *j, const sl_error *why);

/* Storage, names relative to the dataset. */
sl_status sl__fs_put_file(sl__fs *f, const char *rel, const char *local, sl_error *err);
sl_status sl__fs_put(sl__fs *f, const char *rel, const void *data, size_t len, sl_error *err);
sl_status sl__fs_get(sl__fs *f, const char *rel, sl_buf *out, sl_error *err);
sl_status sl__fs_list(sl__fs *f, const char *prefix, char ***names, size_t *n, sl_error *err);
sl_status sl__fs_delete(sl__fs *f, char *const *rels, size_t n, sl_error *err);
sl_status sl__fs_local_copy(sl__fs *f, const char *rel, const char *tmp, char *out, size_t size,
                            sl_error *err);

/* Loading steps. */
sl_status sl__fs_convert(sl__fs *f, const sl_table *t, const char *job_path, const char *out_path,
                         bool jsonl, bool gzip, uint64_t *rows, bool *terminal, sl_error *err);
sl_status sl__fs_table_prefix(const sl__fs *f, const char *schema_name, const char *table, sl_buf *out);
sl_status sl__fs_write_data(sl__fs *f, sl_package *pkg, sl_schema *schema, const char *load_id,
                            sl__fs_jobs *jobs, char ***written, size_t *nwritten, sl_error *err);
sl_status sl__fs_replace_cleanup(sl__fs *f, sl_schema *schema, sl_table *root, char *const *written,
                                 size_t nwritten, sl_error *err);
sl_status sl__fs_write_system(sl__fs *f, sl_schema *schema, const sl_load_request *req, sl_error *err);
/* On S3, at the start of a load: abort the multipart uploads under the
 * dataset's prefix that a killed run left (never fails the load). */
void sl__fs_abort_orphan_uploads(sl__fs *f);

/* From configuration (src/dest/filesystem_config.c); toml is sluice.toml's root. */
sl_status sl__dest_aws_credentials(sl_config *cfg, const sl_value *toml, const char *dest,
                                   sl_aws_credentials *out, sl_error *err);
sl_dest *sl__dest_open_filesystem(sl_config *cfg, const sl_value *toml, const char *project_dir,
                                  const char *dataset, sl_error *err);

#endif
