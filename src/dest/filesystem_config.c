/* Opening the filesystem and Athena destinations from configuration, with
 * dlt's names: [destination.filesystem] bucket_url, layout,
 * loader_file_format, [destination.filesystem.credentials] (or
 * [destination.athena.credentials]) aws_access_key_id, aws_secret_access_key,
 * aws_session_token, region_name, endpoint_url, profile_name. Values come from
 * the config layers first, then sluice.toml as written. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dest/filesystem_int.h"
#include "sluice/aws.h"
#include "sluice/value.h"

typedef struct cfgsrc {
  sl_config *cfg;
  const sl_value *toml;
} cfgsrc;

static const char *get(const cfgsrc *c, const char *dotted) {
  const sl_value *v = c->cfg ? sl_config_get(c->cfg, dotted, NULL) : NULL;
  if (!v && c->toml) v = sl_v_path(c->toml, dotted);
  return sl_v_str(v, NULL);
}

static const char *get2(const cfgsrc *c, const char *a, const char *b) {
  const char *v = get(c, a);
  return v ? v : b ? get(c, b) : NULL;
}

/* First of the destination's credentials, then the other's. */
static const char *cred(const cfgsrc *c, const char *dest, const char *key) {
  char a[256], b[256];
  snprintf(a, sizeof a, "destination.%s.credentials.%s", dest, key);
  snprintf(b, sizeof b, "destination.%s.credentials.%s", strcmp(dest, "athena") ? "athena" : "filesystem", key);
  return get2(c, a, b);
}

static char *resolve(const char *base, const char *rel) {
  char *out = NULL;
  if (rel[0] == '/' || !base) return strdup(rel);
  if (asprintf(&out, "%s/%s", base, rel) < 0) return NULL;
  return out;
}

sl_status sl__dest_aws_credentials(sl_config *cfg, const sl_value *toml, const char *dest,
                                   sl_aws_credentials *out, sl_error *err) {
  cfgsrc c = {cfg, toml};
  char s1[128], s2[128];
  snprintf(s1, sizeof s1, "destination.%s.credentials", dest);
  snprintf(s2, sizeof s2, "destination.%s.credentials", strcmp(dest, "athena") ? "athena" : "filesystem");
  const char *sections[] = {s1, s2, NULL};
  sl_aws_cred_options o = {
      .cfg = cfg,
      .sections = sections,
      .profile = cred(&c, dest, "profile_name"),
      .access_key_id = cred(&c, dest, "aws_access_key_id"),
      .secret_access_key = cred(&c, dest, "aws_secret_access_key"),
      .session_token = cred(&c, dest, "aws_session_token"),
      .region = cred(&c, dest, "region_name"),
      .endpoint_url = cred(&c, dest, "endpoint_url"),
  };
  sl_status st = sl_aws_credentials_resolve(&o, out, err);
  /* S3 addressing/multipart and the Athena query timeout travel with the credentials. */
  if (!st && (st = sl_aws_settings_read(cfg, toml, &out->settings, err))) sl_aws_credentials_free(out);
  return st;
}

sl_dest *sl__dest_open_filesystem(sl_config *cfg, const sl_value *toml, const char *project_dir,
                                  const char *dataset, sl_error *err) {
  cfgsrc c = {cfg, toml};
  const char *url = get(&c, "destination.filesystem.bucket_url");
  if (!url || !*url) {
    sl_error_set(err, SL_CONFIG_MISSING,
                 "the filesystem destination needs [destination.filesystem] bucket_url "
                 "(a folder, file:///folder or s3://bucket/prefix)");
    return NULL;
  }
  char *local = NULL;
  sl_aws_credentials creds = {0};
  bool s3 = !strncmp(url, "s3://", 5);
  if (s3) {
    if (sl__dest_aws_credentials(cfg, toml, "filesystem", &creds, err)) return NULL;
  } else {
    local = resolve(project_dir, !strncmp(url, "file://", 7) ? url + 7 : url);
  }
  sl_filesystem_options o = {
      .bucket_url = s3 ? url : local,
      .dataset = dataset,
      .layout = get(&c, "destination.filesystem.layout"),
      .format = get2(&c, "destination.filesystem.loader_file_format", "normalize.loader_file_format"),
      .compression = get(&c, "destination.filesystem.compression"),
      .creds = s3 ? &creds : NULL,
  };
  if (!o.format) o.format = get(&c, "pipeline.loader_file_format");
  sl_dest *d = sl_filesystem_open(&o, err);
  sl_aws_credentials_free(&creds);
  free(local);
  return d;
}

static sl_dest *open_athena(sl_config *cfg, const sl_value *toml, const char *dataset, sl_error *err) {
  cfgsrc c = {cfg, toml};
  const char *url = get2(&c, "destination.athena.staging_bucket_url", "destination.filesystem.bucket_url");
  if (!url || strncmp(url, "s3://", 5) != 0) {
    sl_error_set(err, SL_CONFIG_MISSING,
                 "the athena destination stages Parquet on S3: set [destination.filesystem] bucket_url "
                 "= \"s3://bucket/prefix\"");
    return NULL;
  }
  sl_aws_credentials creds = {0};
  if (sl__dest_aws_credentials(cfg, toml, "filesystem", &creds, err)) return NULL;
  const char *fi = get(&c, "destination.athena.force_iceberg");
  const sl_value *fiv = cfg ? sl_config_get(cfg, "destination.athena.force_iceberg", NULL) : NULL;
  if (!fiv && toml) fiv = sl_v_path(toml, "destination.athena.force_iceberg");
  bool force = (fiv && fiv->type == SL_V_BOOL && fiv->u.b) || (fi && !strcmp(fi, "true"));
  sl_athena_options o = {
      .dataset = dataset,
      .staging_bucket_url = url,
      .creds = &creds,
      .endpoint_url = get(&c, "destination.athena.endpoint_url"),
      .region = get2(&c, "destination.athena.region", "destination.athena.credentials.region_name"),
      .work_group = get(&c, "destination.athena.athena_work_group"),
      .data_catalog = get(&c, "destination.athena.aws_data_catalog"),
      .query_result_bucket = get(&c, "destination.athena.query_result_bucket"),
      .force_iceberg = force,
  };
  sl_dest *d = sl_athena_open(&o, err);
  sl_aws_credentials_free(&creds);
  return d;
}

sl_dest *sl_dest_open_configured(const char *destination, struct sl_config *cfg,
                                 const struct sl_value *toml, const char *project_dir,
                                 const char *dataset, sl_error *err) {
  if (!strcmp(destination, "filesystem"))
    return sl__dest_open_filesystem(cfg, toml, project_dir, dataset, err);
  if (!strcmp(destination, "athena")) return open_athena(cfg, toml, dataset, err);
  sl_error_set(err, SL_CONFIG_INVALID, "destination '%s' is not supported (duckdb, filesystem, athena are)",
               destination);
  return NULL;
}
