/* sluice/aws.h — AWS credentials, an S3 client on libcurl (SigV4 signed by
 * CURLOPT_AWS_SIGV4), and the small XML reader S3's responses need.
 *
 * Memory rule: strings in sl_aws_credentials and lists returned by the S3
 * calls are malloc'ed and freed by the matching *_free. An sl_s3 owns its
 * curl handles until sl_s3_close. Every key, secret and token is registered
 * with sl_secret_register as soon as it is read, so no log or error shows it.
 */
#ifndef SLUICE_AWS_H
#define SLUICE_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/config.h"
#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- credentials ------------------------------------------------------------ */

/* How S3 requests name the bucket: path style (https://host/bucket/key) or
 * virtual-host style (https://bucket.host/key). Auto is virtual-host, except
 * path style for an endpoint that is an IP address or localhost and for a
 * bucket name that cannot be a DNS label (dots, capitals, underscores). */
typedef enum sl_s3_addressing {
  SL_S3_ADDRESSING_AUTO = 0,
  SL_S3_ADDRESSING_PATH,
  SL_S3_ADDRESSING_VIRTUAL
} sl_s3_addressing;

/* Client settings read from configuration with the credentials
 * (sl_aws_settings_read) and honoured by sl_s3_open and the Athena
 * destination; 0 means the default. */
typedef struct sl_aws_settings {
  sl_s3_addressing addressing;   /* [destination.filesystem] addressing_style */
  uint64_t multipart_threshold;  /* bytes; multipart_threshold_mb; default 16 MiB */
  uint64_t part_size;            /* bytes; multipart_part_mb; default 8 MiB, at least 5 MiB */
  long athena_query_timeout_s;   /* [destination.athena] query_timeout_s; default 1800 */
} sl_aws_settings;

typedef struct sl_aws_credentials {
  char *access_key_id;
  char *secret_access_key;
  char *session_token; /* NULL when none */
  char *region;        /* region_name from config/profile, or NULL */
  char *endpoint_url;  /* endpoint_url from config, or NULL */
  char source[48];     /* "config", "env", "profile <name>", "imds" */
  sl_aws_settings settings; /* not credentials, but they travel with them */
} sl_aws_credentials;

typedef struct sl_aws_cred_options {
  sl_config *cfg;          /* may be NULL */
  const char *const *sections; /* config sections tried in order, e.g.
                                  "destination.filesystem.credentials"; NULL-ended */
  const char *home;        /* for ~/.aws; default $HOME */
  const char *profile;     /* default $AWS_PROFILE, then "default" */
  const char *imds_endpoint; /* default $AWS_EC2_METADATA_SERVICE_ENDPOINT, then
                                http://169.254.169.254; "" disables IMDS */
  long imds_timeout_ms;    /* default 1000 */
  /* Values the caller already has (e.g. from sluice.toml); the first source
   * when key and secret are both given. region/endpoint_url apply whatever
   * source supplies the keys. */
  const char *access_key_id, *secret_access_key, *session_token;
  const char *region, *endpoint_url;
} sl_aws_cred_options;

/* First found wins: config sections (aws_access_key_id/aws_secret_access_key/
 * aws_session_token, plus region_name/endpoint_url/profile_name), the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
 * ~/.aws/credentials and ~/.aws/config of the profile, then IMDSv2.
 * SL_CONFIG_MISSING when none has them. */
sl_status sl_aws_credentials_resolve(const sl_aws_cred_options *o, sl_aws_credentials *out,
                                     sl_error *err);
void sl_aws_credentials_free(sl_aws_credentials *c);

/* Read the client settings: from cfg's layers first, then the sluice.toml
 * root toml (either may be NULL):
 *   [destination.filesystem] addressing_style = "path" | "virtual" | "auto"
 *                            multipart_threshold_mb, multipart_part_mb (>= 5)
 *   [destination.athena]     query_timeout_s (> 0)
 * SL_CONFIG_INVALID, naming the key and the value, for anything else. */
sl_status sl_aws_settings_read(sl_config *cfg, const sl_value *toml, sl_aws_settings *out,
                               sl_error *err);
/* "path", "virtual" or "auto" (NULL is auto); SL_CONFIG_INVALID otherwise. */
sl_status sl_s3_addressing_parse(const char *text, sl_s3_addressing *out, sl_error *err);

/* Parse an INI file of ~/.aws style; value of key in [section] (malloc'ed) or NULL. */
char *sl_aws_ini_get(const char *text, const char *section, const char *key);

/* ---- XML (S3 responses) ------------------------------------------------------ */

/* Calls cb for each element with text content, with its slash path
 * ("ListBucketResult/Contents/Key") and the entity-decoded text. Elements
 * nesting deeper than 16 or paths longer than 512 bytes are an error.
 * Returns SL_INVALID_ARG with the byte offset for malformed XML. */
typedef sl_status (*sl_xml_cb)(void *ud, const char *path, const char *text, size_t n);
sl_status sl_xml_parse(const char *xml, size_t len, sl_xml_cb cb, void *ud, sl_error *err);
/* Text of the first element at path (malloc'ed), or NULL. */
char *sl_xml_find(const char *xml, size_t len, const char *path);

/* ---- S3 ---------------------------------------------------------------------- */

typedef struct sl_s3_options {
  const sl_aws_credentials *creds; /* copied */
  const char *region;       /* default creds->region, $AWS_REGION, us-east-1 */
  const char *endpoint_url; /* default creds->endpoint_url, else https://s3.<region>.amazonaws.com */
  bool path_style;          /* same as addressing = SL_S3_ADDRESSING_PATH */
  sl_s3_addressing addressing; /* default creds->settings.addressing, then auto */
  size_t part_size;         /* multipart part size; default creds->settings, then 8 MiB;
                               raised to 5 MiB (S3's minimum) */
  size_t multipart_threshold; /* default creds->settings, then 16 MiB */
  unsigned parallel;        /* parts in flight; default 4 */
  unsigned max_retries;     /* default 5 */
  long timeout_s;           /* per request; default 300 */
} sl_s3_options;

typedef struct sl_s3 sl_s3;

typedef struct sl_s3_object {
  char *key;
  uint64_t size;
} sl_s3_object;

sl_s3 *sl_s3_open(const sl_s3_options *o, sl_error *err);
void sl_s3_close(sl_s3 *s);

/* Upload a whole buffer (one PUT). */
sl_status sl_s3_put(sl_s3 *s, const char *bucket, const char *key, const void *data, size_t len,
                    sl_error *err);
/* Upload a file: one PUT below the threshold, else a multipart upload with
 * parts in parallel. On any failure after CreateMultipartUpload (a part, the
 * completion) the upload is aborted, so S3 keeps no orphan parts; when the
 * abort fails too, the error says so and names the upload id. */
sl_status sl_s3_put_file(sl_s3 *s, const char *bucket, const char *key, const char *path,
                         sl_error *err);
/* Force multipart (for tests and benchmarks). */
sl_status sl_s3_put_file_multipart(sl_s3 *s, const char *bucket, const char *key, const char *path,
                                   sl_error *err);
/* SL_NOT_FOUND when the key does not exist. */
sl_status sl_s3_get(sl_s3 *s, const char *bucket, const char *key, sl_buf *out, sl_error *err);
sl_status sl_s3_get_file(sl_s3 *s, const char *bucket, const char *key, const char *path,
                         sl_error *err);
sl_status sl_s3_head(sl_s3 *s, const char *bucket, const char *key, bool *exists, uint64_t *size,
                     sl_error *err);
/* Every object under prefix (ListObjectsV2, following continuation tokens). */
sl_status sl_s3_list(sl_s3 *s, const char *bucket, const char *prefix, sl_s3_object **objs,
                     size_t *n, sl_error *err);
void sl_s3_objects_free(sl_s3_object *objs, size_t n);

typedef struct sl_s3_upload {
  char *key;
  char *upload_id;
  int64_t initiated; /* Unix seconds of <Initiated>; 0 when the server sent none */
} sl_s3_upload;

/* Multipart uploads begun and neither completed nor aborted, under prefix
 * (ListMultipartUploads, following key/upload-id markers). */
sl_status sl_s3_list_uploads(sl_s3 *s, const char *bucket, const char *prefix, sl_s3_upload **ups,
                             size_t *n, sl_error *err);
void sl_s3_uploads_free(sl_s3_upload *ups, size_t n);
/* AbortMultipartUpload (for left-over uploads of a killed process). */
sl_status sl_s3_abort_upload(sl_s3 *s, const char *bucket, const char *key, const char *upload_id,
                             sl_error *err);
/* Abort the multipart uploads under prefix that began by `before` (Unix
 * seconds; one without an <Initiated> time counts as older): the parts a
 * killed process left. *aborted (may be NULL) counts them. A server without
 * ListMultipartUploads (s3rver: NotImplemented) fails with that error. */
sl_status sl_s3_abort_uploads_before(sl_s3 *s, const char *bucket, const char *prefix, int64_t before,
                                     size_t *aborted, sl_error *err);
/* DeleteObjects in batches of 1000; a key that is already gone is fine. */
sl_status sl_s3_delete(sl_s3 *s, const char *bucket, const char *const *keys, size_t n,
                       sl_error *err);
sl_status sl_s3_create_bucket(sl_s3 *s, const char *bucket, sl_error *err);

/* Requests made and retried so far (for tests and logs). */
void sl_s3_stats(const sl_s3 *s, uint64_t *requests, uint64_t *retries);
/* The settings in effect after defaults and minimums (for tests and logs). */
void sl_s3_settings(const sl_s3 *s, sl_s3_addressing *addressing, size_t *part_size,
                    size_t *threshold);

/* Split "s3://bucket/prefix/" into bucket and prefix (no leading or trailing
 * slash); both malloc'ed. */
sl_status sl_s3_parse_url(const char *url, char **bucket, char **prefix, sl_error *err);

/* ---- signed JSON POST (Athena and other AWS JSON-1.1 APIs) ------------------- */

/* POST body to endpoint with X-Amz-Target: target, SigV4 for service in
 * region; retries 5xx/429/throttling. *http_status and the response body in
 * out. */
sl_status sl_aws_json_post(const sl_aws_credentials *c, const char *endpoint, const char *region,
                           const char *service, const char *target, const char *body,
                           sl_buf *out, long *http_status, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif
