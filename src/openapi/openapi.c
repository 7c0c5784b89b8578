/* Reading an OpenAPI 3.0/3.1 document: load (file or URL, YAML or JSON),
 * check it, follow `$ref` pointers and merge allOf/oneOf/anyOf schemas for
 * the generator in src/init/. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sluice/buf.h"
#include "sluice/http.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/openapi.h"
#include "sluice/yaml.h"

#define MAX_REF_CHAIN 64
#define MAX_MERGE_DEPTH 32

struct sl_openapi {
  sl_doc *doc;
  char *name;
  const char *version;
  sl_openapi_op *ops;
  size_t nops, ops_cap;
  const sl_value **params;
  size_t params_cap;
};

const sl_value *sl_openapi_root(const sl_openapi *spec) { return spec ? spec->doc->root : NULL; }
const char *sl_openapi_name(const sl_openapi *spec) { return spec ? spec->name : NULL; }
const char *sl_openapi_version(const sl_openapi *spec) { return spec ? spec->version : NULL; }

void sl_openapi_free(sl_openapi *spec) {
  if (!spec) return;
  sl_doc_free(spec->doc);
  free(spec->name);
  free(spec->ops);
  free(spec->params);
  free(spec);
}

/* ---- JSON pointers ------------------------------------------------------------ */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* One reference token, unescaped into tok (NUL-terminated); returns its length
 * or -1 when it does not fit or is malformed. */
static long pointer_token(const char *s, size_t n, char *tok, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%' && i + 2 < n + 0 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    }
    if (c == '~') {
      if (i + 1 >= n) return -1;
      char e = s[++i];
      if (e == '0') c = '~';
      else if (e == '1') c = '/';
      else return -1;
    }
    if (o + 1 >= cap) return -1;
    tok[o++] = c;
  }
  tok[o] = 0;
  return (long)o;
}

const sl_value *sl_openapi_pointer(const sl_openapi *spec, const char *ref) {
  if (!spec || !ref || ref[0] != '#') return NULL;
  const sl_value *v = spec->doc->root;
  const char *p = ref + 1;
  if (*p == 0) return v;
  if (*p != '/') return NULL;
  char tok[1024];
  while (*p == '/') {
    p++;
    const char *end = strchr(p, '/');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    long tl = pointer_token(p, n, tok, sizeof tok);
    if (tl < 0) return NULL;
    if (v && v->type == SL_V_OBJECT) {
      v = sl_v_getn(v, tok, (size_t)tl);
    } else if (v && v->type == SL_V_ARRAY) {
      char *e;
      unsigned long idx = strtoul(tok, &e, 10);
      if (!tl || *e || (tl > 1 && tok[0] == '0')) return NULL;
      v = sl_v_at(v, idx);
    } else {
      return NULL;
    }
    if (!v) return NULL;
    p += n;
  }
  return v;
}

static const char *ref_of(const sl_value *v) {
  if (!v || v->type != SL_V_OBJECT) return NULL;
  return sl_v_str(sl_v_get(v, "$ref"), NULL);
}

const sl_value *sl_openapi_deref(const sl_openapi *spec, const sl_value *v) {
  for (int i = 0; v && i < MAX_REF_CHAIN; i++) {
    const char *ref = ref_of(v);
    if (!ref) return v;
    v = sl_openapi_pointer(spec, ref);
  }
  return NULL;
}

/* ---- checking a loaded document ---------------------------------------------- */

static sl_status fail_at(sl_openapi *spec, const sl_value *v, sl_error *err, sl_status code,
                         const char *fmt, const char *a, const char *b) {
  sl_error_set(err, code, fmt, a ? a : "", b ? b : "");
  sl_error_at(err, spec->name, v ? (int)v->line : 0, v ? (int)v->col : 0, -1);
  return code;
}

/* Every $ref resolves inside the file and no chain of $refs loops. Walks the
 * tree with an explicit stack (specs can nest deeply). */
static sl_status check_refs(sl_openapi *spec, sl_error *err) {
  size_t cap = 256, n = 0;
  const sl_value **stack = malloc(cap * sizeof *stack);
  if (!stack) return sl_error_set(err, SL_NOMEM, "out of memory checking $refs");
  stack[n++] = spec->doc->root;
  sl_status st = SL_OK;
  while (n && st == SL_OK) {
    const sl_value *v = stack[--n];
    if (!v) continue;
    size_t kids = 0;
    if (v->type == SL_V_OBJECT) {
      const sl_value *r = sl_v_get(v, "$ref");
      if (r) {
        const char *ref = sl_v_str(r, NULL);
        if (!ref) {
          st = fail_at(spec, r, err, SL_SOURCE, "$ref must be a string%s%s", NULL, NULL);
        } else if (ref[0] != '#') {
          st = fail_at(spec, r, err, SL_SOURCE,
                       "$ref '%s' points outside this file; only references within the "
                       "spec (\"#/...\") are supported%s",
                       ref, NULL);
        } else if (!sl_openapi_pointer(spec, ref)) {
          st = fail_at(spec, r, err, SL_SOURCE,
                       "$ref '%s' does not resolve: no value at that JSON pointer%s", ref, NULL);
        } else if (!sl_openapi_deref(spec, v)) {
          st = fail_at(spec, r, err, SL_SOURCE,
                       "$ref '%s' is part of a cycle of references that never reaches a "
                       "value%s",
                       ref, NULL);
        }
      }
      kids = v->u.obj.len;
    } else if (v->type == SL_V_ARRAY) {
      kids = v->u.arr.len;
    }
    if (n + kids > cap) {
      size_t nc = (n + kids) * 2;
      const sl_value **ns = realloc(stack, nc * sizeof *ns);
      if (!ns) {
        st = sl_error_set(err, SL_NOMEM, "out of memory checking $refs");
        break;
      }
      stack = ns;
      cap = nc;
    }
    for (size_t i = kids; i-- > 0;)
      stack[n++] = v->type == SL_V_OBJECT ? v->u.obj.items[i].val : v->u.arr.items[i];
  }
  free(stack);
  return st;
}

static sl_status check_doc(sl_openapi *spec, sl_error *err) {
  const sl_value *root = spec->doc->root;
  if (!root || root->type != SL_V_OBJECT)
    return fail_at(spec, root, err, SL_SOURCE,
                   "not an OpenAPI document: the top level must be a mapping%s%s", NULL, NULL);
  const sl_value *sw = sl_v_get(root, "swagger");
  if (sw)
    return fail_at(spec, sw, err, SL_SOURCE,
                   "Swagger %s (OpenAPI 2) is not supported; convert the spec to OpenAPI 3 "
                   "(for example with swagger2openapi)%s",
                   sl_v_str(sw, "2.0"), NULL);
  const sl_value *ver = sl_v_get(root, "openapi");
  const char *vs = sl_v_str(ver, NULL);
  if (!ver)
    return fail_at(spec, root, err, SL_SOURCE,
                   "not an OpenAPI document: no 'openapi' version key at the top level%s%s",
                   NULL, NULL);
  if (!vs || (strncmp(vs, "3.0", 3) != 0 && strncmp(vs, "3.1", 3) != 0))
    return fail_at(spec, ver, err, SL_SOURCE,
                   "unsupported OpenAPI version '%s': sluice reads 3.0.x and 3.1.x%s",
                   vs ? vs : sl_vtype_name(ver->type), NULL);
  spec->version = vs;
  const sl_value *paths = sl_v_get(root, "paths");
  if (!paths && !sl_v_get(root, "webhooks"))
    return fail_at(spec, root, err, SL_SOURCE, "the spec has no 'paths'%s%s", NULL, NULL);
  if (paths && paths->type != SL_V_OBJECT)
    return fail_at(spec, paths, err, SL_SOURCE, "'paths' must be a mapping, not %s%s",
                   sl_vtype_name(paths->type), NULL);
  for (size_t i = 0; paths && i < paths->u.obj.len; i++) {
    const sl_member *m = &paths->u.obj.items[i];
    if (m->key[0] != '/')
      return fail_at(spec, m->val, err, SL_SOURCE,
                     "path '%s' must start with '/' (at #/paths)%s", m->key, NULL);
    const sl_value *item = sl_openapi_deref(spec, m->val);
    if (item && item->type != SL_V_OBJECT && item->type != SL_V_NULL)
      return fail_at(spec, m->val, err, SL_SOURCE, "path item '%s' must be a mapping%s",
                     m->key, NULL);
  }
  return check_refs(spec, err);
}

sl_openapi *sl_openapi_parse(const char *text, size_t len, const char *name, sl_error *err) {
  sl_error_clear(err);
  if (!name) name = "<string>";
  if (len > SL_OPENAPI_MAX_BYTES) {
    sl_error_set(err, SL_TOO_LARGE, "spec is %zu bytes, more than the %zu allowed", len,
                 (size_t)SL_OPENAPI_MAX_BYTES);
    sl_error_at(err, name, 0, 0, -1);
    return NULL;
  }
  sl_openapi *spec = calloc(1, sizeof *spec);
  if (!spec || !(spec->name = strdup(name))) {
    free(spec);
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  size_t i = 0;
  /* Skip a UTF-8 BOM and white space to see whether it is JSON. */
  if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
      (unsigned char)text[2] == 0xBF)
    i = 3;
  while (i < len && isspace((unsigned char)text[i])) i++;
  if (i < len && text[i] == '{')
    spec->doc = sl_json_parse_doc(text + i, len - i, name, err);
  else
    spec->doc = sl_yaml_parse(text, len, name, NULL, err);
  if (!spec->doc) {
    sl_openapi_free(spec);
    return NULL;
  }
  if (check_doc(spec, err) != SL_OK) {
    sl_openapi_free(spec);
    return NULL;
  }
  return spec;
}

/* ---- loading from a file or URL ---------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  sl_buf *b = ud;
  return sl_buf_append(b, p, size * n) == SL_OK ? size * n : 0;
}

static sl_status fetch_url(const char *url, sl_buf *out, sl_error *err) {
  CURL *c = curl_easy_init();
  if (!c) return sl_error_set(err, SL_NOMEM, "cannot start libcurl");
  char ebuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "sluice-init");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  const char *ca = sl_http_ca_bundle_env();
  if (ca) curl_easy_setopt(c, CURLOPT_CAINFO, ca);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  sl_status st = SL_OK;
  if (rc == CURLE_WRITE_ERROR && out->len >= out->max) {
    st = sl_error_set(err, SL_TOO_LARGE, "spec is larger than %zu bytes", out->max);
  } else if (rc != CURLE_OK) {
    bool tls = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
               rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM;
    st = sl_error_set(err, SL_HTTP, "cannot download the spec %s: %s%s", url,
                      ebuf[0] ? ebuf : curl_easy_strerror(rc),
                      tls ? " (a private CA: name its bundle in SSL_CERT_FILE or CURL_CA_BUNDLE)"
                          : "");
  } else if (status >= 400) {
    st = sl_error_set(err, SL_HTTP, "cannot download the spec %s: the server answered HTTP %ld",
                      url, status);
  }
  if (st) sl_error_http(err, url, (int)status);
  return st;
}

sl_openapi *sl_openapi_load(const char *loc, sl_error *err) {
  sl_error_clear(err);
  if (!loc || !*loc) {
    sl_error_set(err, SL_INVALID_ARG, "no spec given");
    return NULL;
  }
  sl_buf b;
  sl_buf_init(&b, SL_OPENAPI_MAX_BYTES);
  if (!strncmp(loc, "http://", 7) || !strncmp(loc, "https://", 8)) {
    if (fetch_url(loc, &b, err)) {
      sl_buf_free(&b);
      return NULL;
    }
  } else {
    FILE *f = fopen(loc, "rb");
    if (!f) {
      sl_error_set(err, errno == ENOENT ? SL_NOT_FOUND : SL_IO, "cannot open the spec: %s",
                   strerror(errno));
      sl_error_at(err, loc, 0, 0, -1);
      sl_buf_free(&b);
      return NULL;
    }
    char chunk[65536];
    size_t n;
    sl_status st = SL_OK;
    while (st == SL_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) st = sl_buf_append(&b, chunk, n);
    bool bad = ferror(f);
    fclose(f);
    if (st || bad) {
      sl_error_set(err, st == SL_TOO_LARGE ? SL_TOO_LARGE : SL_IO, "cannot read the spec: %s",
                   st == SL_TOO_LARGE ? "larger than 64 MiB" : "read error");
      sl_error_at(err, loc, 0, 0, -1);
      sl_buf_free(&b);
      return NULL;
    }
  }
  sl_openapi *spec = sl_openapi_parse(b.data ? b.data : "", b.len, loc, err);
  sl_buf_free(&b);
  return spec;
}

/* ---- schemas ------------------------------------------------------------------ */

const char *sl_openapi_schema_type(const sl_value *s) {
  if (!s || s->type != SL_V_OBJECT) return NULL;
  const sl_value *t = sl_v_get(s, "type");
  if (t && t->type == SL_V_STRING) return t->u.s.ptr;
  if (t && t->type == SL_V_ARRAY) {
    for (size_t i = 0; i < t->u.arr.len; i++) {
      const char *x = sl_v_str(t->u.arr.items[i], NULL);
      if (x && strcmp(x, "null")) return x;
    }
  }
  if (sl_v_get(s, "items")) return "array";
  if (sl_v_get(s, "properties")) return "object";
  return NULL;
}

static void merge_into(sl_openapi *spec, sl_value *out, sl_value *props, sl_value *req,
                       const sl_value *part, bool all_of, int depth);

static const sl_value *merge_schema(sl_openapi *spec, const sl_value *schema, int depth) {
  const sl_value *s = sl_openapi_deref(spec, schema);
  if (!s || s->type != SL_V_OBJECT) return s;
  const sl_value *all = sl_v_get(s, "allOf"), *one = sl_v_get(s, "oneOf"),
                 *any = sl_v_get(s, "anyOf");
  if ((!all && !one && !any) || depth >= MAX_MERGE_DEPTH) return s;
  sl_doc *d = spec->doc;
  sl_value *out = sl_v_object(d), *props = sl_v_object(d), *req = sl_v_array(d);
  if (!out || !props || !req) return s;
  for (size_t i = 0; i < s->u.obj.len; i++) {
    const sl_member *m = &s->u.obj.items[i];
    if (!strcmp(m->key, "allOf") || !strcmp(m->key, "oneOf") || !strcmp(m->key, "anyOf"))
      continue;
    if (!strcmp(m->key, "properties") || !strcmp(m->key, "required")) continue;
    sl_v_set(d, out, m->key, m->key_len, m->val);
  }
  merge_into(spec, out, props, req, s, true, depth); /* own properties first */
  for (size_t i = 0; i < sl_v_len(all); i++)
    merge_into(spec, out, props, req, merge_schema(spec, sl_v_at(all, i), depth + 1), true,
               depth);
  const sl_value *alts[2] = {one, any};
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < sl_v_len(alts[k]); i++)
      merge_into(spec, out, props, req, merge_schema(spec, sl_v_at(alts[k], i), depth + 1),
                 false, depth);
  if (props->u.obj.len) sl_v_put(d, out, "properties", props);
  if (req->u.arr.len) sl_v_put(d, out, "required", req);
  if (!sl_v_get(out, "type") && props->u.obj.len && !sl_v_get(out, "items"))
    sl_v_put(d, out, "type", sl_v_string(d, "object", 6));
  return out;
}

static void merge_into(sl_openapi *spec, sl_value *out, sl_value *props, sl_value *req,
                       const sl_value *part, bool all_of, int depth) {
  (void)depth;
  if (!part || part->type != SL_V_OBJECT) return;
  sl_doc *d = spec->doc;
  const sl_value *pp = sl_v_get(part, "properties");
  for (size_t i = 0; pp && pp->type == SL_V_OBJECT && i < pp->u.obj.len; i++) {
    const sl_member *m = &pp->u.obj.items[i];
    if (all_of) sl_v_put(d, props, m->key, m->val);
    else if (!sl_v_get(props, m->key)) sl_v_set(d, props, m->key, m->key_len, m->val);
  }
  const sl_value *r = sl_v_get(part, "required");
  for (size_t i = 0; all_of && r && r->type == SL_V_ARRAY && i < r->u.arr.len; i++) {
    bool dup = false;
    for (size_t j = 0; j < req->u.arr.len; j++)
      if (sl_v_equal(req->u.arr.items[j], r->u.arr.items[i])) dup = true;
    if (!dup) sl_v_push(d, req, r->u.arr.items[i]);
  }
  static const char *const keep[] = {"type", "items", "nullable", "format", "enum",
                                     "additionalProperties"};
  for (size_t k = 0; k < sizeof keep / sizeof *keep; k++) {
    const sl_value *v = sl_v_get(part, keep[k]);
    if (v && !sl_v_get(out, keep[k])) sl_v_set(d, out, keep[k], strlen(keep[k]), (sl_value *)v);
  }
}

const sl_value *sl_openapi_schema(sl_openapi *spec, const sl_value *schema) {
  if (!spec || !schema) return NULL;
  return merge_schema(spec, schema, 0);
}

/* ---- operations ---------------------------------------------------------------- */

size_t sl_openapi_operations(sl_openapi *spec, const char *method, const sl_openapi_op **ops) {
  spec->nops = 0;
  const sl_value *paths = sl_v_get(spec->doc->root, "paths");
  for (size_t i = 0; paths && i < paths->u.obj.len; i++) {
    const sl_member *m = &paths->u.obj.items[i];
    const sl_value *item = sl_openapi_deref(spec, m->val);
    const sl_value *op = sl_v_get(item, method);
    if (!op || op->type != SL_V_OBJECT) continue;
    if (spec->nops == spec->ops_cap) {
      size_t nc = spec->ops_cap ? spec->ops_cap * 2 : 64;
      sl_openapi_op *no = realloc(spec->ops, nc * sizeof *no);
      if (!no) break;
      spec->ops = no;
      spec->ops_cap = nc;
    }
    spec->ops[spec->nops++] = (sl_openapi_op){method, m->key, op, item};
  }
  *ops = spec->ops;
  return spec->nops;
}

static bool push_param(sl_openapi *spec, size_t *n, const sl_value *p) {
  if (*n == spec->params_cap) {
    size_t nc = spec->params_cap ? spec->params_cap * 2 : 32;
    const sl_value **np = realloc(spec->params, nc * sizeof *np);
    if (!np) return false;
    spec->params = np;
    spec->params_cap = nc;
  }
  spec->params[(*n)++] = p;
  return true;
}

static bool same_param(const sl_value *a, const sl_value *b) {
  const char *na = sl_v_str(sl_v_get(a, "name"), ""), *nb = sl_v_str(sl_v_get(b, "name"), "");
  const char *ia = sl_v_str(sl_v_get(a, "in"), ""), *ib = sl_v_str(sl_v_get(b, "in"), "");
  return !strcmp(na, nb) && !strcmp(ia, ib);
}

size_t sl_openapi_params(sl_openapi *spec, const sl_openapi_op *op, const sl_value ***out) {
  size_t n = 0;
  const sl_value *own = sl_v_get(op->op, "parameters");
  const sl_value *shared = sl_v_get(op->path_item, "parameters");
  for (size_t i = 0; i < sl_v_len(shared); i++) {
    const sl_value *p = sl_openapi_deref(spec, sl_v_at(shared, i));
    if (!p || p->type != SL_V_OBJECT) continue;
    bool overridden = false;
    for (size_t j = 0; j < sl_v_len(own); j++)
      if (same_param(p, sl_openapi_deref(spec, sl_v_at(own, j)))) overridden = true;
    if (!overridden && !push_param(spec, &n, p)) break;
  }
  for (size_t i = 0; i < sl_v_len(own); i++) {
    const sl_value *p = sl_openapi_deref(spec, sl_v_at(own, i));
    if (p && p->type == SL_V_OBJECT && !push_param(spec, &n, p)) break;
  }
  *out = spec->params;
  return n;
}

static const sl_value *json_media(sl_openapi *spec, const sl_value *resp) {
  const sl_value *content = sl_v_get(sl_openapi_deref(spec, resp), "content");
  if (!content || content->type != SL_V_OBJECT || !content->u.obj.len) return NULL;
  for (size_t i = 0; i < content->u.obj.len; i++) {
    const char *k = content->u.obj.items[i].key;
    if (strstr(k, "json")) return sl_v_get(content->u.obj.items[i].val, "schema");
  }
  return sl_v_get(content->u.obj.items[0].val, "schema");
}

const sl_value *sl_openapi_response_schema(sl_openapi *spec, const sl_openapi_op *op) {
  const sl_value *responses = sl_v_get(op->op, "responses");
  static const char *const codes[] = {"200", "201", "203", "206", "2XX", "2xx", "default"};
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
    const sl_value *r = sl_v_get(responses, codes[i]);
    if (r) {
      const sl_value *s = json_media(spec, r);
      return s ? sl_openapi_schema(spec, s) : NULL;
    }
  }
  return NULL;
}
