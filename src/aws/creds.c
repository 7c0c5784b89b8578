/* The AWS credentials chain: config sections, environment, ~/.aws files of a
 * profile, then the EC2 instance role over IMDSv2. Every value found is
 * registered as a secret before anything else sees it. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "sluice/aws.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/package.h"
#include "sluice/value.h"

void sl_aws_credentials_free(sl_aws_credentials *c) {
  if (!c) return;
  free(c->access_key_id);
  free(c->secret_access_key);
  free(c->session_token);
  free(c->region);
  free(c->endpoint_url);
  memset(c, 0, sizeof *c);
}

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

static void secret(const char *s) {
  if (s && *s) sl_secret_register(s);
}

/* ---- INI ---------------------------------------------------------------------- */

static const char *trim(char *s, char **end) {
  while (*s && isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) e--;
  *e = '\0';
  if (end) *end = e;
  return s;
}

char *sl_aws_ini_get(const char *text, const char *section, const char *key) {
  if (!text) return NULL;
  char *copy = strdup(text), *save = NULL, *out = NULL;
  if (!copy) return NULL;
  bool in = false;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    const char *l = trim(line, NULL);
    if (*l == '#' || *l == ';' || !*l) continue;
    if (*l == '[') {
      char *close = strchr(l, ']');
      if (!close) { in = false; continue; }
      *close = '\0';
      in = strcmp(trim((char *)l + 1, NULL), section) == 0;
      continue;
    }
    if (!in) continue;
    char *eq = strchr(l, '=');
    if (!eq) continue;
    *eq = '\0';
    if (strcmp(trim((char *)l, NULL), key) == 0) {
      out = strdup(trim(eq + 1, NULL));
      break;
    }
  }
  free(copy);
  return out;
}

/* ---- IMDSv2 -------------------------------------------------------------------- */

static size_t to_buf(char *p, size_t sz, size_t n, void *ud) {
  sl_buf *b = ud;
  if (b->len + sz * n > 1 << 20) return 0;
  return sl_buf_append(b, p, sz * n) ? 0 : sz * n;
}

static long imds_call(const char *url, const char *method, const char *token, long timeout_ms,
                      sl_buf *out) {
  CURL *h = curl_easy_init();
  if (!h) return -1;
  struct curl_slist *hd = NULL;
  char line[1200];
  if (token) {
    snprintf(line, sizeof line, "X-aws-ec2-metadata-token: %s", token);
    hd = curl_slist_append(hd, line);
  } else {
    hd = curl_slist_append(hd, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
  }
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  if (!strcmp(method, "PUT")) curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L), curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_buf);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
  long code = -1;
  if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(hd);
  curl_easy_cleanup(h);
  return code;
}

static sl_status from_imds(const sl_aws_cred_options *o, sl_aws_credentials *c, sl_error *err) {
  const char *ep = o->imds_endpoint ? o->imds_endpoint : getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (!ep) ep = "http://169.254.169.254";
  if (!*ep) return SL_NOT_FOUND;
  if (getenv("AWS_EC2_METADATA_DISABLED") && !strcasecmp(getenv("AWS_EC2_METADATA_DISABLED"), "true"))
    return SL_NOT_FOUND;
  long to = o->imds_timeout_ms > 0 ? o->imds_timeout_ms : 1000;
  char url[1024];
  sl_buf tok = {0}, role = {0}, doc = {0};
  sl_status st = SL_NOT_FOUND;
  snprintf(url, sizeof url, "%s/latest/api/token", ep);
  if (imds_call(url, "PUT", NULL, to, &tok) != 200 || !tok.data) goto out;
  secret(tok.data);
  snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", ep);
  if (imds_call(url, "GET", tok.data, to, &role) != 200 || !role.data) goto out;
  char *nl = strchr(role.data, '\n');
  if (nl) *nl = '\0';
  snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s", ep, role.data);
  if (imds_call(url, "GET", tok.data, to, &doc) != 200 || !doc.data) goto out;
  sl_doc *d = sl_json_parse_doc(doc.data, doc.len, "IMDS credentials", err);
  if (!d) {
    st = sl_error_set(err, SL_CONFIG_INVALID, "the instance metadata service at %s sent credentials that are not JSON", ep);
    goto out;
  }
  const char *k = sl_v_str(sl_v_get(d->root, "AccessKeyId"), NULL);
  const char *s = sl_v_str(sl_v_get(d->root, "SecretAccessKey"), NULL);
  const char *t = sl_v_str(sl_v_get(d->root, "Token"), NULL);
  secret(k);
  secret(s);
  secret(t);
  if (k && s) {
    c->access_key_id = strdup(k);
    c->secret_access_key = strdup(s);
    c->session_token = dup_or_null(t);
    snprintf(c->source, sizeof c->source, "imds");
    st = SL_OK;
  } else {
    st = sl_error_set(err, SL_CONFIG_INVALID, "the instance metadata service at %s sent no AccessKeyId/SecretAccessKey", ep);
  }
  sl_doc_free(d);
out:
  sl_buf_free(&tok);
  sl_buf_free(&role);
  sl_buf_free(&doc);
  return st;
}

/* ---- the chain ---------------------------------------------------------------------- */

static const char *cfg_str(sl_config *cfg, const char *section, const char *key) {
  if (!cfg) return NULL;
  char path[512];
  snprintf(path, sizeof path, "%s.%s", section, key);
  return sl_config_get_str(cfg, path, NULL);
}

sl_status sl_aws_credentials_resolve(const sl_aws_cred_options *o, sl_aws_credentials *c,
                                     sl_error *err) {
  memset(c, 0, sizeof *c);
  const char *profile = o->profile;
  secret(o->access_key_id);
  secret(o->secret_access_key);
  secret(o->session_token);
  c->region = dup_or_null(o->region);
  c->endpoint_url = dup_or_null(o->endpoint_url);
  if (o->access_key_id && *o->access_key_id && o->secret_access_key && *o->secret_access_key) {
    c->access_key_id = strdup(o->access_key_id);
    c->secret_access_key = strdup(o->secret_access_key);
    c->session_token = dup_or_null(o->session_token);
    snprintf(c->source, sizeof c->source, "given");
  }
  /* 1. config sections */
  for (const char *const *sec = o->sections; sec && *sec; sec++) {
    const char *k = cfg_str(o->cfg, *sec, "aws_access_key_id");
    const char *s = cfg_str(o->cfg, *sec, "aws_secret_access_key");
    const char *t = cfg_str(o->cfg, *sec, "aws_session_token");
    secret(k);
    secret(s);
    secret(t);
    if (!c->region) c->region = dup_or_null(cfg_str(o->cfg, *sec, "region_name"));
    if (!c->endpoint_url) c->endpoint_url = dup_or_null(cfg_str(o->cfg, *sec, "endpoint_url"));
    if (!profile) profile = cfg_str(o->cfg, *sec, "profile_name");
    if (k && s && !c->access_key_id) {
      c->access_key_id = strdup(k);
      c->secret_access_key = strdup(s);
      c->session_token = dup_or_null(t);
      snprintf(c->source, sizeof c->source, "config [%s]", *sec);
    }
  }
  if (!c->region) c->region = dup_or_null(getenv("AWS_REGION"));
  if (!c->region) c->region = dup_or_null(getenv("AWS_DEFAULT_REGION"));
  if (!c->endpoint_url) c->endpoint_url = dup_or_null(getenv("AWS_ENDPOINT_URL"));
  if (c->access_key_id) return SL_OK;
  /* 2. environment */
  const char *k = getenv("AWS_ACCESS_KEY_ID"), *s = getenv("AWS_SECRET_ACCESS_KEY");
  if (k && *k && s && *s) {
    secret(k);
    secret(s);
    secret(getenv("AWS_SESSION_TOKEN"));
    c->access_key_id = strdup(k);
    c->secret_access_key = strdup(s);
    c->session_token = dup_or_null(getenv("AWS_SESSION_TOKEN"));
    snprintf(c->source, sizeof c->source, "env");
    return SL_OK;
  }
  /* 3. ~/.aws */
  if (!profile) profile = getenv("AWS_PROFILE");
  if (!profile || !*profile) profile = "default";
  const char *home = o->home ? o->home : getenv("HOME");
  if (home) {
    char path[4096], *text = NULL;
    const char *cf = getenv("AWS_SHARED_CREDENTIALS_FILE");
    if (cf) snprintf(path, sizeof path, "%s", cf);
    else snprintf(path, sizeof path, "%s/.aws/credentials", home);
    if (sl_read_file(path, &text, NULL, NULL) == SL_OK) {
      char *ak = sl_aws_ini_get(text, profile, "aws_access_key_id");
      char *sk = sl_aws_ini_get(text, profile, "aws_secret_access_key");
      char *tk = sl_aws_ini_get(text, profile, "aws_session_token");
      secret(ak);
      secret(sk);
      secret(tk);
      if (ak && sk) {
        c->access_key_id = ak;
        c->secret_access_key = sk;
        c->session_token = tk;
        ak = sk = tk = NULL;
        snprintf(c->source, sizeof c->source, "profile %.38s", profile);
      }
      free(ak);
      free(sk);
      free(tk);
      free(text);
    }
    const char *cfgf = getenv("AWS_CONFIG_FILE");
    if (cfgf) snprintf(path, sizeof path, "%s", cfgf);
    else snprintf(path, sizeof path, "%s/.aws/config", home);
    text = NULL;
    if (sl_read_file(path, &text, NULL, NULL) == SL_OK) {
      char sect[300];
      if (!strcmp(profile, "default")) snprintf(sect, sizeof sect, "default");
      else snprintf(sect, sizeof sect, "profile %s", profile);
      if (!c->region) c->region = sl_aws_ini_get(text, sect, "region");
      if (!c->endpoint_url) c->endpoint_url = sl_aws_ini_get(text, sect, "endpoint_url");
      if (!c->access_key_id) {
        char *ak = sl_aws_ini_get(text, sect, "aws_access_key_id");
        char *sk = sl_aws_ini_get(text, sect, "aws_secret_access_key");
        secret(ak);
        secret(sk);
        if (ak && sk) {
          c->access_key_id = ak;
          c->secret_access_key = sk;
          char *tk = sl_aws_ini_get(text, sect, "aws_session_token");
          secret(tk);
          c->session_token = tk;
          snprintf(c->source, sizeof c->source, "profile %.38s", profile);
        } else {
          free(ak);
          free(sk);
        }
      }
      free(text);
    }
    if (c->access_key_id) return SL_OK;
  }
  /* 4. IMDSv2 */
  sl_status st = from_imds(o, c, err);
  if (st == SL_OK) return SL_OK;
  if (st != SL_NOT_FOUND) return st;
  return sl_error_set(err, SL_CONFIG_MISSING,
                      "no AWS credentials: set [%s] aws_access_key_id and aws_secret_access_key, "
                      "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile in ~/.aws/credentials "
                      "(profile '%s'), or run on an instance with a role",
                      o->sections && o->sections[0] ? o->sections[0] : "destination.<name>.credentials",
                      profile);
}

/* ---- client settings -------------------------------------------------------------- */

sl_status sl_s3_addressing_parse(const char *text, sl_s3_addressing *out, sl_error *err) {
  if (!text || !strcasecmp(text, "auto")) *out = SL_S3_ADDRESSING_AUTO;
  else if (!strcasecmp(text, "path")) *out = SL_S3_ADDRESSING_PATH;
  else if (!strcasecmp(text, "virtual")) *out = SL_S3_ADDRESSING_VIRTUAL;
  else
    return sl_error_set(err, SL_CONFIG_INVALID,
                        "addressing_style = \"%.60s\" is not \"path\", \"virtual\" or \"auto\"", text);
  return SL_OK;
}

static const sl_value *setting(sl_config *cfg, const sl_value *toml, const char *dotted) {
  const sl_value *v = cfg ? sl_config_get(cfg, dotted, NULL) : NULL;
  return v ? v : toml ? sl_v_path(toml, dotted) : NULL;
}

/* A positive whole number, as a TOML integer or a string of digits (env). */
static sl_status positive(sl_config *cfg, const sl_value *toml, const char *dotted, int64_t min,
                          int64_t *out, sl_error *err) {
  const sl_value *v = setting(cfg, toml, dotted);
  if (!v) return SL_OK;
  int64_t n = sl_v_int_or(v, -1);
  const char *s = sl_v_str(v, NULL);
  if (n < 0 && s) {
    char *end = NULL;
    long long x = strtoll(s, &end, 10);
    if (end != s && !*end) n = x;
  }
  if (n < min || n > (INT64_C(1) << 40))
    return sl_error_set(err, SL_CONFIG_INVALID, "%s must be a whole number of at least %lld%s", dotted,
                        (long long)min, min == 5 ? " (S3's smallest part is 5 MB)" : "");
  *out = n;
  return SL_OK;
}

sl_status sl_aws_settings_read(sl_config *cfg, const sl_value *toml, sl_aws_settings *out,
                               sl_error *err) {
  sl_aws_settings s = {0};
  const sl_value *style = setting(cfg, toml, "destination.filesystem.addressing_style");
  if (style && !sl_v_str(style, NULL))
    return sl_error_set(err, SL_CONFIG_INVALID, "destination.filesystem.addressing_style must be a string");
  sl_status st = sl_s3_addressing_parse(sl_v_str(style, NULL), &s.addressing, err);
  if (st) {
    sl_error_prefix(err, "[destination.filesystem]");
    return st;
  }
  int64_t thr = 0, part = 0, timeout = 0;
  if ((st = positive(cfg, toml, "destination.filesystem.multipart_threshold_mb", 1, &thr, err)) ||
      (st = positive(cfg, toml, "destination.filesystem.multipart_part_mb", 5, &part, err)) ||
      (st = positive(cfg, toml, "destination.athena.query_timeout_s", 1, &timeout, err)))
    return st;
  s.multipart_threshold = (uint64_t)thr << 20;
  s.part_size = (uint64_t)part << 20;
  s.athena_query_timeout_s = (long)timeout;
  *out = s;
  return SL_OK;
}
