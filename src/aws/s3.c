/* An S3 client on libcurl. Requests are signed by libcurl's SigV4
 * (CURLOPT_AWS_SIGV4) with an explicit x-amz-content-sha256 (and
 * x-amz-security-token for temporary credentials). Queries are built already
 * in SigV4's canonical form (sorted, every parameter with '='), because
 * libcurl signs the query as it is written. Retries with exponential backoff
 * and jitter on connection errors, 5xx and 429. Multipart uploads send parts
 * in parallel on a curl multi handle and are aborted on any failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "sluice/aws.h"
#include "sluice/log.h"

struct sl_s3 {
  sl_aws_credentials creds;
  char *region;
  char *scheme_host; /* "http://127.0.0.1:4568" or "https://s3.us-east-1.amazonaws.com" */
  sl_s3_addressing addressing; /* AUTO left here is decided per bucket name */
  size_t part_size, threshold;
  unsigned parallel, max_retries;
  long timeout_s;
  char sigv4[128];
  char *userpwd;
  CURL *easy;
  uint64_t requests, retries;
};

/* ---- small helpers ------------------------------------------------------------------ */

static void sha256_hex(const void *data, size_t len, char out[65]) {
  unsigned char md[32];
  unsigned int n = 0;
  EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
  for (unsigned i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", md[i]);
  out[64] = '\0';
}

static void md5_b64(const void *data, size_t len, char out[32]) {
  unsigned char md[16];
  unsigned int n = 0;
  EVP_Digest(data, len, md, &n, EVP_md5(), NULL);
  EVP_EncodeBlock((unsigned char *)out, md, 16);
}

/* URI-encode as SigV4 wants: unreserved kept, '/' kept when keep_slash. */
static sl_status uri_enc(sl_buf *b, const char *s, bool keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    unsigned char c = *p;
    sl_status st;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      st = sl_buf_putc(b, (char)c);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      st = sl_buf_append(b, e, 3);
    }
    if (st) return st;
  }
  return SL_OK;
}

static void backoff(unsigned attempt) {
  long ms = 100L << (attempt < 6 ? attempt : 6);
  ms += rand() % (ms / 2 + 1);
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* 501 Not Implemented is an answer, not a failure (s3rver has no ListMultipartUploads). */
static bool retryable_status(long code) { return code == 429 || (code >= 500 && code != 501); }
static bool retryable_curl(CURLcode rc) {
  return rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR ||
         rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE ||
         rc == CURLE_COULDNT_RESOLVE_HOST;
}

/* ---- open/close ----------------------------------------------------------------------- */

static bool host_is_local(const char *url) {
  const char *h = strstr(url, "://");
  h = h ? h + 3 : url;
  if (!strncmp(h, "localhost", 9) || !strncmp(h, "[", 1)) return true;
  int dots = 0;
  for (; *h && *h != ':' && *h != '/'; h++) {
    if (*h == '.') dots++;
    else if (*h < '0' || *h > '9') return false;
  }
  return dots == 3;
}

sl_s3 *sl_s3_open(const sl_s3_options *o, sl_error *err) {
  if (!o || !o->creds || !o->creds->access_key_id || !o->creds->secret_access_key) {
    sl_error_set(err, SL_INVALID_ARG, "the S3 client needs credentials");
    return NULL;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  sl_s3 *s = calloc(1, sizeof *s);
  if (!s) goto nomem;
  s->creds.access_key_id = strdup(o->creds->access_key_id);
  s->creds.secret_access_key = strdup(o->creds->secret_access_key);
  s->creds.session_token = o->creds->session_token ? strdup(o->creds->session_token) : NULL;
  const char *region = o->region ? o->region : o->creds->region;
  if (!region) region = getenv("AWS_REGION");
  if (!region || !*region) region = "us-east-1";
  s->region = strdup(region);
  const sl_aws_settings *set = &o->creds->settings;
  s->addressing = o->path_style ? SL_S3_ADDRESSING_PATH
                  : o->addressing ? o->addressing
                                  : set->addressing;
  const char *ep = o->endpoint_url ? o->endpoint_url : o->creds->endpoint_url;
  if (ep && *ep) {
    s->scheme_host = strdup(ep);
    size_t n = strlen(s->scheme_host);
    while (n && s->scheme_host[n - 1] == '/') s->scheme_host[--n] = '\0';
    /* bucket.127.0.0.1 resolves nowhere; bucket.localhost does (curl), when asked for. */
    if (s->addressing == SL_S3_ADDRESSING_AUTO && host_is_local(ep)) s->addressing = SL_S3_ADDRESSING_PATH;
  } else {
    if (asprintf(&s->scheme_host, "https://s3.%s.amazonaws.com", s->region) < 0) s->scheme_host = NULL;
  }
  s->part_size = o->part_size ? o->part_size : set->part_size ? (size_t)set->part_size : 8u << 20;
  if (s->part_size < (5u << 20)) s->part_size = 5u << 20;
  s->threshold = o->multipart_threshold   ? o->multipart_threshold
                 : set->multipart_threshold ? (size_t)set->multipart_threshold
                                            : 16u << 20;
  s->parallel = o->parallel ? o->parallel : 4;
  s->max_retries = o->max_retries ? o->max_retries : 5;
  s->timeout_s = o->timeout_s ? o->timeout_s : 300;
  snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", s->region);
  if (asprintf(&s->userpwd, "%s:%s", s->creds.access_key_id, s->creds.secret_access_key) < 0)
    s->userpwd = NULL;
  s->easy = curl_easy_init();
  if (!s->creds.access_key_id || !s->creds.secret_access_key || !s->region || !s->scheme_host ||
      !s->userpwd || !s->easy)
    goto nomem;
  return s;
nomem:
  sl_s3_close(s);
  sl_error_set(err, SL_NOMEM, "out of memory");
  return NULL;
}

void sl_s3_close(sl_s3 *s) {
  if (!s) return;
  sl_aws_credentials_free(&s->creds);
  free(s->region);
  free(s->scheme_host);
  free(s->userpwd);
  if (s->easy) curl_easy_cleanup(s->easy);
  free(s);
}

void sl_s3_stats(const sl_s3 *s, uint64_t *requests, uint64_t *retries) {
  if (requests) *requests = s->requests;
  if (retries) *retries = s->retries;
}

void sl_s3_settings(const sl_s3 *s, sl_s3_addressing *addressing, size_t *part_size,
                    size_t *threshold) {
  if (addressing) *addressing = s->addressing;
  if (part_size) *part_size = s->part_size;
  if (threshold) *threshold = s->threshold;
}

/* ---- one request ------------------------------------------------------------------------- */

typedef struct s3_req {
  const char *method;
  const char *bucket, *key; /* key may be NULL */
  const char *query;        /* canonical query, or NULL */
  const void *body;
  size_t body_len;
  const char *content_type;
  const char *content_md5;
  sl_buf *out;  /* response body */
  FILE *out_file;
  bool no_body; /* HEAD */
  /* results */
  long status;
  char etag[128];
  uint64_t content_length;
  char url[2048];
} s3_req;

/* A bucket name that can be a host name label under TLS: lower-case letters,
 * digits and '-', 3 to 63 long (dots would break the *.s3 certificate). */
static bool dns_bucket(const char *b) {
  size_t n = strlen(b);
  if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-') return false;
  for (; *b; b++)
    if (!((*b >= 'a' && *b <= 'z') || (*b >= '0' && *b <= '9') || *b == '-')) return false;
  return true;
}

static sl_status build_url(sl_s3 *s, s3_req *r) {
  sl_buf b = {0};
  sl_status st = SL_OK;
  const char *sh = s->scheme_host;
  bool path = s->addressing == SL_S3_ADDRESSING_PATH ||
              (s->addressing == SL_S3_ADDRESSING_AUTO && r->bucket && !dns_bucket(r->bucket));
  if (path || !r->bucket) {
    st = sl_buf_puts(&b, sh);
    if (!st && r->bucket) st = sl_buf_printf(&b, "/%s", r->bucket);
  } else {
    const char *h = strstr(sh, "://");
    size_t sl = h ? (size_t)(h - sh) + 3 : 0;
    st = sl_buf_printf(&b, "%.*s%s.%s", (int)sl, sh, r->bucket, sh + sl);
  }
  if (!st) st = sl_buf_putc(&b, '/');
  if (!st && r->key) st = uri_enc(&b, r->key, true);
  if (!st && r->query) st = sl_buf_printf(&b, "?%s", r->query);
  if (!st && b.len >= sizeof r->url) st = SL_TOO_LARGE;
  if (!st) memcpy(r->url, b.data, b.len + 1);
  sl_buf_free(&b);
  return st;
}

static size_t write_buf(char *p, size_t sz, size_t n, void *ud) {
  s3_req *r = ud;
  if (r->out_file) return fwrite(p, sz, n, r->out_file);
  if (r->out) return sl_buf_append(r->out, p, sz * n) ? 0 : sz * n;
  return sz * n;
}

static size_t header_cb(char *p, size_t sz, size_t n, void *ud) {
  s3_req *r = ud;
  size_t len = sz * n;
  if (len > 5 && !strncasecmp(p, "etag:", 5)) {
    const char *v = p + 5;
    while (*v == ' ') v++;
    size_t vl = (size_t)(p + len - v);
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
    if (vl < sizeof r->etag) {
      memcpy(r->etag, v, vl);
      r->etag[vl] = '\0';
    }
  } else if (len > 15 && !strncasecmp(p, "content-length:", 15)) {
    r->content_length = strtoull(p + 15, NULL, 10);
  }
  return len;
}

/* Prepare handle h for r (URL, method, body, headers); *hd is to be freed after. */
static sl_status setup(sl_s3 *s, CURL *h, s3_req *r, struct curl_slist **hd) {
  sl_status st = build_url(s, r);
  if (st) return st;
  curl_easy_reset(h);
  char line[1200], hash[65];
  sha256_hex(r->body ? r->body : "", r->body ? r->body_len : 0, hash);
  snprintf(line, sizeof line, "x-amz-content-sha256: %s", hash);
  *hd = curl_slist_append(NULL, line);
  if (s->creds.session_token) {
    snprintf(line, sizeof line, "x-amz-security-token: %s", s->creds.session_token);
    *hd = curl_slist_append(*hd, line);
  }
  if (r->content_type) {
    snprintf(line, sizeof line, "Content-Type: %s", r->content_type);
    *hd = curl_slist_append(*hd, line);
  }
  if (r->content_md5) {
    snprintf(line, sizeof line, "Content-MD5: %s", r->content_md5);
    *hd = curl_slist_append(*hd, line);
  }
  *hd = curl_slist_append(*hd, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, r->url);
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
  curl_easy_setopt(h, CURLOPT_USERPWD, s->userpwd);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hd);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, s->timeout_s);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_buf);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
  if (r->no_body) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (r->body || !strcmp(r->method, "PUT") || !strcmp(r->method, "POST")) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
  } else if (strcmp(r->method, "GET") != 0) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
  }
  r->status = 0;
  r->etag[0] = '\0';
  r->content_length = 0;
  return SL_OK;
}

/* S3's <Error><Code>…</Code><Message>…</Message></Error> into err. */
static sl_status s3_fail(s3_req *r, const sl_buf *body, sl_error *err) {
  char *code = body && body->data ? sl_xml_find(body->data, body->len, "Error/Code") : NULL;
  char *msg = body && body->data ? sl_xml_find(body->data, body->len, "Error/Message") : NULL;
  sl_status st = r->status == 404 ? SL_NOT_FOUND : SL_DESTINATION;
  sl_error_set(err, st, "S3 %s %s failed: HTTP %ld%s%s%s%s", r->method, r->url, r->status,
               code ? " " : "", code ? code : "", msg ? ": " : "", msg ? msg : "");
  sl_error_http(err, r->url, (int)r->status);
  free(code);
  free(msg);
  return st;
}

/* Run r with retries. 2xx → SL_OK; 404 → SL_NOT_FOUND; else an error. */
static sl_status run(sl_s3 *s, s3_req *r, sl_error *err) {
  sl_buf own = {0};
  bool own_out = !r->out && !r->out_file;
  if (own_out) r->out = &own;
  sl_status st = SL_OK;
  for (unsigned attempt = 0;; attempt++) {
    if (r->out) sl_buf_reset(r->out);
    if (r->out_file) {
      rewind(r->out_file);
      if (ftruncate(fileno(r->out_file), 0) != 0) {}
    }
    struct curl_slist *hd = NULL;
    if ((st = setup(s, s->easy, r, &hd))) {
      curl_slist_free_all(hd);
      st = sl_error_set(err, st, "S3 request URL too long for key %s", r->key ? r->key : "");
      break;
    }
    s->requests++;
    CURLcode rc = curl_easy_perform(s->easy);
    curl_slist_free_all(hd);
    if (rc == CURLE_OK) curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &r->status);
    bool again = rc != CURLE_OK ? retryable_curl(rc) : retryable_status(r->status);
    if (again && attempt < s->max_retries) {
      SL_DEBUG("S3 %s %s: %s; retrying", r->method, r->url,
               rc != CURLE_OK ? curl_easy_strerror(rc) : "server busy");
      s->retries++;
      backoff(attempt);
      continue;
    }
    if (rc != CURLE_OK) {
      st = sl_error_set(err, SL_DESTINATION, "S3 %s %s failed: %s", r->method, r->url,
                        curl_easy_strerror(rc));
      sl_error_http(err, r->url, 0);
    } else if (r->status < 200 || r->status >= 300) {
      if (r->status == 404 && r->no_body) st = SL_NOT_FOUND;
      else st = s3_fail(r, r->out, err);
    }
    break;
  }
  if (own_out) {
    sl_buf_free(&own);
    r->out = NULL;
  }
  return st;
}

/* ---- simple operations --------------------------------------------------------------------- */

sl_status sl_s3_put(sl_s3 *s, const char *bucket, const char *key, const void *data, size_t len,
                    sl_error *err) {
  s3_req r = {.method = "PUT", .bucket = bucket, .key = key, .body = data ? data : "", .body_len = len};
  return run(s, &r, err);
}

sl_status sl_s3_create_bucket(sl_s3 *s, const char *bucket, sl_error *err) {
  s3_req r = {.method = "PUT", .bucket = bucket, .body = "", .body_len = 0};
  sl_buf out = {0};
  r.out = &out;
  sl_status st = run(s, &r, err);
  if (st && out.data && strstr(out.data, "BucketAlreadyOwnedByYou")) {
    sl_error_clear(err);
    st = SL_OK;
  }
  sl_buf_free(&out);
  return st;
}

sl_status sl_s3_get(sl_s3 *s, const char *bucket, const char *key, sl_buf *out, sl_error *err) {
  s3_req r = {.method = "GET", .bucket = bucket, .key = key, .out = out};
  return run(s, &r, err);
}

sl_status sl_s3_get_file(sl_s3 *s, const char *bucket, const char *key, const char *path,
                         sl_error *err) {
  FILE *f = fopen(path, "w+b");
  if (!f) return sl_error_set(err, SL_IO, "cannot create %s: %s", path, strerror(errno));
  s3_req r = {.method = "GET", .bucket = bucket, .key = key, .out_file = f};
  sl_status st = run(s, &r, err);
  if (!st && r.status >= 200 && r.status < 300) {
    /* On an error status the body went to the file: read it back for the message. */
  }
  if (fclose(f) != 0 && !st) st = sl_error_set(err, SL_IO, "cannot write %s: %s", path, strerror(errno));
  if (st) unlink(path);
  return st;
}

sl_status sl_s3_head(sl_s3 *s, const char *bucket, const char *key, bool *exists, uint64_t *size,
                     sl_error *err) {
  s3_req r = {.method = "HEAD", .bucket = bucket, .key = key, .no_body = true};
  sl_status st = run(s, &r, err);
  if (exists) *exists = st == SL_OK;
  if (size) *size = st == SL_OK ? r.content_length : 0;
  return st == SL_NOT_FOUND ? SL_OK : st;
}

/* ---- list ------------------------------------------------------------------------------------- */

typedef struct list_ctx {
  sl_s3_object *objs;
  size_t n, cap;
  char *token;
  bool truncated;
  bool failed;
} list_ctx;

static sl_status list_cb(void *ud, const char *path, const char *text, size_t n) {
  list_ctx *l = ud;
  if (!strcmp(path, "ListBucketResult/Contents/Key")) {
    if (l->n == l->cap) {
      size_t cap = l->cap ? l->cap * 2 : 64;
      sl_s3_object *v = realloc(l->objs, cap * sizeof *v);
      if (!v) return SL_NOMEM;
      l->objs = v;
      l->cap = cap;
    }
    l->objs[l->n].key = strndup(text, n);
    l->objs[l->n].size = 0;
    if (!l->objs[l->n].key) return SL_NOMEM;
    l->n++;
  } else if (!strcmp(path, "ListBucketResult/Contents/Size") && l->n) {
    l->objs[l->n - 1].size = strtoull(text, NULL, 10);
  } else if (!strcmp(path, "ListBucketResult/IsTruncated")) {
    l->truncated = !strncmp(text, "true", 4);
  } else if (!strcmp(path, "ListBucketResult/NextContinuationToken")) {
    free(l->token);
    l->token = strndup(text, n);
  }
  return SL_OK;
}

void sl_s3_objects_free(sl_s3_object *objs, size_t n) {
  if (!objs) return;
  for (size_t i = 0; i < n; i++) free(objs[i].key);
  free(objs);
}

sl_status sl_s3_list(sl_s3 *s, const char *bucket, const char *prefix, sl_s3_object **objs,
                     size_t *n, sl_error *err) {
  list_ctx l = {0};
  sl_status st = SL_OK;
  sl_buf q = {0}, body = {0};
  for (int page = 0; page < 100000; page++) {
    sl_buf_reset(&q);
    /* Canonical order: continuation-token, list-type, prefix. */
    if (l.token) {
      st = sl_buf_puts(&q, "continuation-token=");
      if (!st) st = uri_enc(&q, l.token, false);
      if (!st) st = sl_buf_putc(&q, '&');
    }
    if (!st) st = sl_buf_puts(&q, "list-type=2&prefix=");
    if (!st && prefix) st = uri_enc(&q, prefix, false);
    if (st) break;
    s3_req r = {.method = "GET", .bucket = bucket, .query = q.data, .out = &body};
    if ((st = run(s, &r, err))) break;
    l.truncated = false;
    size_t before = l.n;
    st = sl_xml_parse(body.data ? body.data : "", body.len, list_cb, &l, err);
    if (st) {
      sl_error_prefix(err, "ListObjectsV2 answer from %s", r.url);
      break;
    }
    if (!l.truncated || !l.token) break;
    if (l.n == before && page > 0 && !l.token) break;
  }
  sl_buf_free(&q);
  sl_buf_free(&body);
  free(l.token);
  if (st) {
    sl_s3_objects_free(l.objs, l.n);
    *objs = NULL;
    *n = 0;
    return st;
  }
  *objs = l.objs;
  *n = l.n;
  return SL_OK;
}

/* ---- multipart uploads in progress ------------------------------------------------------------- */

/* "2010-11-10T20:48:33.000Z" to Unix seconds; 0 when it is not that form. */
static int64_t iso_seconds(const char *text, size_t n) {
  char s[32];
  if (n >= sizeof s) return 0;
  memcpy(s, text, n);
  s[n] = '\0';
  struct tm tm = {0};
  int got = sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                   &tm.tm_min, &tm.tm_sec);
  if (got != 6) return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (int64_t)timegm(&tm);
}

typedef struct uploads_ctx {
  sl_s3_upload *ups;
  size_t n, cap;
  char *next_key, *next_id;
  bool truncated;
} uploads_ctx;

static sl_status uploads_cb(void *ud, const char *path, const char *text, size_t n) {
  uploads_ctx *u = ud;
  char **slot = NULL;
  if (!strcmp(path, "ListMultipartUploadsResult/Upload/Key")) {
    if (u->n == u->cap) {
      size_t cap = u->cap ? u->cap * 2 : 16;
      sl_s3_upload *v = realloc(u->ups, cap * sizeof *v);
      if (!v) return SL_NOMEM;
      u->ups = v;
      u->cap = cap;
    }
    u->ups[u->n] = (sl_s3_upload){0};
    slot = &u->ups[u->n++].key;
  } else if (!strcmp(path, "ListMultipartUploadsResult/Upload/UploadId") && u->n) {
    slot = &u->ups[u->n - 1].upload_id;
  } else if (!strcmp(path, "ListMultipartUploadsResult/Upload/Initiated") && u->n) {
    u->ups[u->n - 1].initiated = iso_seconds(text, n);
  } else if (!strcmp(path, "ListMultipartUploadsResult/IsTruncated")) {
    u->truncated = !strncmp(text, "true", 4);
  } else if (!strcmp(path, "ListMultipartUploadsResult/NextKeyMarker")) {
    slot = &u->next_key;
  } else if (!strcmp(path, "ListMultipartUploadsResult/NextUploadIdMarker")) {
    slot = &u->next_id;
  }
  if (slot) {
    free(*slot);
    if (!(*slot = strndup(text, n))) return SL_NOMEM;
  }
  return SL_OK;
}

void sl_s3_uploads_free(sl_s3_upload *ups, size_t n) {
  if (!ups) return;
  for (size_t i = 0; i < n; i++) {
    free(ups[i].key);
    free(ups[i].upload_id);
  }
  free(ups);
}

sl_status sl_s3_list_uploads(sl_s3 *s, const char *bucket, const char *prefix, sl_s3_upload **ups,
                             size_t *n, sl_error *err) {
  uploads_ctx u = {0};
  sl_status st = SL_OK;
  sl_buf q = {0}, body = {0};
  for (int page = 0; page < 100000; page++) {
    sl_buf_reset(&q);
    /* Canonical order: key-marker, prefix, upload-id-marker, uploads. */
    if (u.next_key) {
      st = sl_buf_puts(&q, "key-marker=");
      if (!st) st = uri_enc(&q, u.next_key, false);
      if (!st) st = sl_buf_putc(&q, '&');
    }
    if (!st) st = sl_buf_puts(&q, "prefix=");
    if (!st && prefix) st = uri_enc(&q, prefix, false);
    if (!st && u.next_id) {
      st = sl_buf_puts(&q, "&upload-id-marker=");
      if (!st) st = uri_enc(&q, u.next_id, false);
    }
    if (!st) st = sl_buf_puts(&q, "&uploads=");
    if (st) {
      st = sl_error_set(err, SL_NOMEM, "out of memory");
      break;
    }
    s3_req r = {.method = "GET", .bucket = bucket, .query = q.data, .out = &body};
    if ((st = run(s, &r, err))) break;
    u.truncated = false;
    free(u.next_key);
    free(u.next_id);
    u.next_key = u.next_id = NULL;
    st = sl_xml_parse(body.data ? body.data : "", body.len, uploads_cb, &u, err);
    if (st) {
      sl_error_prefix(err, "ListMultipartUploads answer from %s", r.url);
      break;
    }
    if (!u.truncated || !u.next_key) break;
  }
  sl_buf_free(&q);
  sl_buf_free(&body);
  free(u.next_key);
  free(u.next_id);
  if (st) {
    sl_s3_uploads_free(u.ups, u.n);
    *ups = NULL;
    *n = 0;
    return st;
  }
  *ups = u.ups;
  *n = u.n;
  return SL_OK;
}

/* ---- delete ------------------------------------------------------------------------------------ */

static sl_status xml_text(sl_buf *b, const char *s) {
  sl_status st = SL_OK;
  for (; *s && !st; s++) {
    switch (*s) {
      case '&': st = sl_buf_puts(b, "&amp;"); break;
      case '<': st = sl_buf_puts(b, "&lt;"); break;
      case '>': st = sl_buf_puts(b, "&gt;"); break;
      case '"': st = sl_buf_puts(b, "&quot;"); break;
      default: st = sl_buf_putc(b, *s);
    }
  }
  return st;
}

sl_status sl_s3_delete(sl_s3 *s, const char *bucket, const char *const *keys, size_t n,
                       sl_error *err) {
  sl_status st = SL_OK;
  sl_buf body = {0}, out = {0};
  for (size_t at = 0; at < n && !st; at += 1000) {
    size_t end = at + 1000 < n ? at + 1000 : n;
    sl_buf_reset(&body);
    st = sl_buf_puts(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>");
    for (size_t i = at; i < end && !st; i++) {
      st = sl_buf_puts(&body, "<Object><Key>");
      if (!st) st = xml_text(&body, keys[i]);
      if (!st) st = sl_buf_puts(&body, "</Key></Object>");
    }
    if (!st) st = sl_buf_puts(&body, "</Delete>");
    if (st) return sl_error_set(err, SL_NOMEM, "out of memory");
    char md5[32];
    md5_b64(body.data, body.len, md5);
    s3_req r = {.method = "POST", .bucket = bucket, .query = "delete=", .body = body.data,
                .body_len = body.len, .content_type = "application/xml", .content_md5 = md5,
                .out = &out};
    st = run(s, &r, err);
    if (!st && out.data) {
      char *k = sl_xml_find(out.data, out.len, "DeleteResult/Error/Key");
      char *m = sl_xml_find(out.data, out.len, "DeleteResult/Error/Message");
      if (k) st = sl_error_set(err, SL_DESTINATION, "S3 could not delete s3://%s/%s: %s", bucket, k,
                               m ? m : "no reason given");
      free(k);
      free(m);
    }
  }
  sl_buf_free(&body);
  sl_buf_free(&out);
  return st;
}

/* ---- uploads ------------------------------------------------------------------------------------ */

static sl_status read_all(FILE *f, const char *path, void *buf, size_t len, sl_error *err) {
  if (fread(buf, 1, len, f) != len)
    return sl_error_set(err, SL_IO, "cannot read %s: %s", path, ferror(f) ? strerror(errno) : "short file");
  return SL_OK;
}

static sl_status put_small(sl_s3 *s, const char *bucket, const char *key, const char *path,
                           uint64_t size, sl_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return sl_error_set(err, SL_IO, "cannot open %s: %s", path, strerror(errno));
  char *data = malloc(size ? size : 1);
  sl_status st = data ? read_all(f, path, data, size, err) : sl_error_set(err, SL_NOMEM, "out of memory");
  fclose(f);
  if (!st) st = sl_s3_put(s, bucket, key, data, size, err);
  free(data);
  return st;
}

typedef struct part {
  CURL *h;
  struct curl_slist *hd;
  s3_req r;
  sl_buf resp; /* S3's answer, for its error code when a part fails */
  char *data;
  size_t len;
  int number;
  unsigned attempts;
  char query[600];
  bool busy;
} part;

sl_status sl_s3_abort_upload(sl_s3 *s, const char *bucket, const char *key, const char *upload_id,
                             sl_error *err) {
  sl_buf q = {0};
  sl_status st = sl_buf_puts(&q, "uploadId=");
  if (!st) st = uri_enc(&q, upload_id, false);
  if (st) {
    sl_buf_free(&q);
    return sl_error_set(err, SL_NOMEM, "out of memory");
  }
  s3_req r = {.method = "DELETE", .bucket = bucket, .key = key, .query = q.data};
  st = run(s, &r, err);
  /* Already gone (completed or aborted before): nothing is left behind. */
  if (st == SL_NOT_FOUND) {
    sl_error_clear(err);
    st = SL_OK;
  }
  sl_buf_free(&q);
  return st;
}

sl_status sl_s3_abort_uploads_before(sl_s3 *s, const char *bucket, const char *prefix, int64_t before,
                                     size_t *aborted, sl_error *err) {
  sl_s3_upload *ups = NULL;
  size_t n = 0, done = 0;
  sl_status st = sl_s3_list_uploads(s, bucket, prefix, &ups, &n, err);
  for (size_t i = 0; i < n && !st; i++) {
    if (ups[i].initiated > before) continue;
    if (!ups[i].key || !ups[i].upload_id) continue;
    st = sl_s3_abort_upload(s, bucket, ups[i].key, ups[i].upload_id, err);
    if (!st) {
      SL_DEBUG("aborted the multipart upload %s of s3://%s/%s, left by an earlier run", ups[i].upload_id,
               bucket, ups[i].key);
      done++;
    }
  }
  sl_s3_uploads_free(ups, n);
  if (aborted) *aborted = done;
  return st;
}

/* After a failed multipart upload: abort it, and when that fails too, say
 * in the upload's error that parts are left (and which upload holds them). */
static void abort_failed(sl_s3 *s, const char *bucket, const char *key, const char *upload_id,
                         sl_error *err) {
  sl_error e;
  sl_error_clear(&e);
  if (sl_s3_abort_upload(s, bucket, key, upload_id, &e) == SL_OK) return;
  SL_WARN("could not abort the multipart upload %s of s3://%s/%s: %s", upload_id, bucket, key, e.msg);
  if (err) {
    char more[600];
    snprintf(more, sizeof more, "; aborting upload %.200s failed too (%.300s), its parts stay in the bucket",
             upload_id, e.msg);
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, "%s", more);
  }
}

sl_status sl_s3_put_file_multipart(sl_s3 *s, const char *bucket, const char *key, const char *path,
                                   sl_error *err) {
  struct stat sb;
  if (stat(path, &sb) != 0) return sl_error_set(err, SL_IO, "cannot stat %s: %s", path, strerror(errno));
  uint64_t size = (uint64_t)sb.st_size;
  size_t psz = s->part_size;
  uint64_t nparts = size ? (size + psz - 1) / psz : 1;
  if (nparts > 10000) {
    psz = (size_t)((size + 9999) / 10000);
    nparts = (size + psz - 1) / psz;
  }
  /* Initiate. */
  sl_buf out = {0};
  s3_req ir = {.method = "POST", .bucket = bucket, .key = key, .query = "uploads=", .body = "",
               .body_len = 0, .out = &out};
  sl_status st = run(s, &ir, err);
  if (st) {
    sl_buf_free(&out);
    return st;
  }
  char *upload_id = out.data ? sl_xml_find(out.data, out.len, "InitiateMultipartUploadResult/UploadId") : NULL;
  sl_buf_free(&out);
  if (!upload_id)
    return sl_error_set(err, SL_DESTINATION, "S3 sent no UploadId for s3://%s/%s", bucket, key);
  sl_buf enc_id = {0};
  uri_enc(&enc_id, upload_id, false);
  char **etags = calloc(nparts, sizeof *etags);
  unsigned np = s->parallel;
  part *slots = calloc(np, sizeof *slots);
  CURLM *m = curl_multi_init();
  FILE *f = fopen(path, "rb");
  if (!etags || !slots || !m || !enc_id.data) st = sl_error_set(err, SL_NOMEM, "out of memory");
  else if (!f) st = sl_error_set(err, SL_IO, "cannot open %s: %s", path, strerror(errno));
  uint64_t next = 0, done = 0;
  while (!st && done < nparts) {
    /* Fill idle slots with the next parts. */
    for (unsigned i = 0; i < np && !st && next < nparts; i++) {
      part *p = &slots[i];
      if (p->busy) continue;
      size_t len = (size_t)(next + 1 < nparts ? psz : size - next * psz);
      char *d = realloc(p->data, len ? len : 1);
      if (!d) { st = sl_error_set(err, SL_NOMEM, "out of memory"); break; }
      p->data = d;
      p->len = len;
      if ((st = read_all(f, path, p->data, len, err))) break;
      p->number = (int)(next + 1);
      p->attempts = 0;
      snprintf(p->query, sizeof p->query, "partNumber=%d&uploadId=%s", p->number, enc_id.data);
      if (!p->h) p->h = curl_easy_init();
      if (!p->h) { st = sl_error_set(err, SL_NOMEM, "out of memory"); break; }
      sl_buf_reset(&p->resp);
      p->r = (s3_req){.method = "PUT", .bucket = bucket, .key = key, .query = p->query,
                      .body = p->data, .body_len = p->len, .out = &p->resp};
      curl_slist_free_all(p->hd);
      p->hd = NULL;
      if ((st = setup(s, p->h, &p->r, &p->hd))) break;
      curl_multi_add_handle(m, p->h);
      s->requests++;
      p->busy = true;
      next++;
    }
    if (st) break;
    int running = 0;
    curl_multi_perform(m, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)) && !st) {
      if (msg->msg != CURLMSG_DONE) continue;
      part *p = NULL;
      for (unsigned i = 0; i < np; i++)
        if (slots[i].h == msg->easy_handle) p = &slots[i];
      if (!p) continue;
      CURLcode rc = msg->data.result;
      curl_multi_remove_handle(m, p->h);
      if (rc == CURLE_OK) curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &p->r.status);
      bool ok = rc == CURLE_OK && p->r.status >= 200 && p->r.status < 300 && p->r.etag[0];
      if (!ok) {
        bool again = rc != CURLE_OK ? retryable_curl(rc) : retryable_status(p->r.status);
        if (again && p->attempts < s->max_retries) {
          backoff(p->attempts++);
          s->retries++;
          s->requests++;
          sl_buf_reset(&p->resp);
          curl_slist_free_all(p->hd);
          p->hd = NULL;
          if ((st = setup(s, p->h, &p->r, &p->hd))) break;
          curl_multi_add_handle(m, p->h);
          continue;
        }
        if (rc != CURLE_OK)
          st = sl_error_set(err, SL_DESTINATION, "S3 upload of part %d to %s failed: %s", p->number,
                            p->r.url, curl_easy_strerror(rc));
        else if (p->r.status < 200 || p->r.status >= 300) {
          s3_fail(&p->r, &p->resp, err);
          sl_error_prefix(err, "S3 upload of part %d", p->number);
          st = SL_DESTINATION;
          if (err) err->code = st;
        } else
          st = sl_error_set(err, SL_DESTINATION, "S3 upload of part %d to %s failed: no ETag in the answer",
                            p->number, p->r.url);
        sl_error_http(err, p->r.url, (int)p->r.status);
        break;
      }
      etags[p->number - 1] = strdup(p->r.etag);
      p->busy = false;
      done++;
    }
    if (!st && running) curl_multi_poll(m, NULL, 0, 200, NULL);
  }
  if (f) fclose(f);
  for (unsigned i = 0; slots && i < np; i++) {
    if (slots[i].h) {
      if (slots[i].busy) curl_multi_remove_handle(m, slots[i].h);
      curl_easy_cleanup(slots[i].h);
    }
    curl_slist_free_all(slots[i].hd);
    sl_buf_free(&slots[i].resp);
    free(slots[i].data);
  }
  free(slots);
  if (m) curl_multi_cleanup(m);
  /* Complete. */
  if (!st) {
    sl_buf body = {0};
    st = sl_buf_puts(&body, "<CompleteMultipartUpload>");
    for (uint64_t i = 0; i < nparts && !st; i++)
      st = sl_buf_printf(&body, "<Part><PartNumber>%llu</PartNumber><ETag>%s</ETag></Part>",
                         (unsigned long long)i + 1, etags[i] ? etags[i] : "");
    if (!st) st = sl_buf_puts(&body, "</CompleteMultipartUpload>");
    char q[600];
    snprintf(q, sizeof q, "uploadId=%s", enc_id.data);
    sl_buf cout = {0};
    if (!st) {
      s3_req cr = {.method = "POST", .bucket = bucket, .key = key, .query = q, .body = body.data,
                   .body_len = body.len, .content_type = "application/xml", .out = &cout};
      st = run(s, &cr, err);
      /* S3 can answer 200 with an <Error> body. */
      if (!st && cout.data && strstr(cout.data, "<Error>")) st = s3_fail(&cr, &cout, err);
    }
    sl_buf_free(&cout);
    sl_buf_free(&body);
  }
  if (st) abort_failed(s, bucket, key, upload_id, err);
  for (uint64_t i = 0; etags && i < nparts; i++) free(etags[i]);
  free(etags);
  free(upload_id);
  sl_buf_free(&enc_id);
  return st;
}

sl_status sl_s3_put_file(sl_s3 *s, const char *bucket, const char *key, const char *path,
                         sl_error *err) {
  struct stat sb;
  if (stat(path, &sb) != 0) return sl_error_set(err, SL_IO, "cannot stat %s: %s", path, strerror(errno));
  if ((uint64_t)sb.st_size < s->threshold) return put_small(s, bucket, key, path, (uint64_t)sb.st_size, err);
  return sl_s3_put_file_multipart(s, bucket, key, path, err);
}

/* ---- URLs ------------------------------------------------------------------------------------------ */

sl_status sl_s3_parse_url(const char *url, char **bucket, char **prefix, sl_error *err) {
  *bucket = *prefix = NULL;
  if (strncmp(url, "s3://", 5) != 0)
    return sl_error_set(err, SL_CONFIG_INVALID, "'%s' is not an s3:// URL", url);
  const char *b = url + 5;
  const char *slash = strchr(b, '/');
  size_t bl = slash ? (size_t)(slash - b) : strlen(b);
  if (bl == 0) return sl_error_set(err, SL_CONFIG_INVALID, "'%s' names no bucket", url);
  *bucket = strndup(b, bl);
  const char *p = slash ? slash + 1 : "";
  while (*p == '/') p++;
  *prefix = strdup(p);
  if (!*bucket || !*prefix) return sl_error_set(err, SL_NOMEM, "out of memory");
  size_t n = strlen(*prefix);
  while (n && (*prefix)[n - 1] == '/') (*prefix)[--n] = '\0';
  return SL_OK;
}

/* ---- signed JSON POST ------------------------------------------------------------------------------- */

sl_status sl_aws_json_post(const sl_aws_credentials *c, const char *endpoint, const char *region,
                           const char *service, const char *target, const char *body,
                           sl_buf *out, long *http_status, sl_error *err) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL *h = curl_easy_init();
  if (!h) return sl_error_set(err, SL_NOMEM, "out of memory");
  char sig[160], line[1200], hash[65], *userpwd = NULL;
  snprintf(sig, sizeof sig, "aws:amz:%s:%s", region, service);
  if (asprintf(&userpwd, "%s:%s", c->access_key_id, c->secret_access_key) < 0) userpwd = NULL;
  sl_status st = SL_OK;
  size_t blen = strlen(body);
  sha256_hex(body, blen, hash);
  for (unsigned attempt = 0;; attempt++) {
    sl_buf_reset(out);
    struct curl_slist *hd = NULL;
    hd = curl_slist_append(hd, "Content-Type: application/x-amz-json-1.1");
    snprintf(line, sizeof line, "X-Amz-Target: %s", target);
    hd = curl_slist_append(hd, line);
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", hash);
    hd = curl_slist_append(hd, line);
    if (c->session_token) {
      snprintf(line, sizeof line, "x-amz-security-token: %s", c->session_token);
      hd = curl_slist_append(hd, line);
    }
    hd = curl_slist_append(hd, "Expect:");
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, endpoint);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sig);
    curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    s3_req sink = {.out = out};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_buf);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hd);
    long code = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    bool throttled = code == 400 && out->data && strstr(out->data, "ThrottlingException");
    bool again = rc != CURLE_OK ? retryable_curl(rc) : (retryable_status(code) || throttled);
    if (again && attempt < 6) {
      SL_DEBUG("%s %s: %s; retrying", target, endpoint,
               rc != CURLE_OK ? curl_easy_strerror(rc) : "throttled or server error");
      backoff(attempt);
      continue;
    }
    if (rc != CURLE_OK) {
      st = sl_error_set(err, SL_DESTINATION, "%s to %s failed: %s", target, endpoint,
                        curl_easy_strerror(rc));
      sl_error_http(err, endpoint, 0);
    }
    if (http_status) *http_status = code;
    break;
  }
  free(userpwd);
  curl_easy_cleanup(h);
  return st;
}
