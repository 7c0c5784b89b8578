/* engine.c — the HTTP engine: one thread, libcurl's multi interface, our own
 * per-host queues (so that a 429 can halve a host's concurrency), retries
 * with full-jitter backoff and Retry-After, and bodies streamed to callers.
 *
 * A request is in exactly one list at a time: its host's ready queue, the
 * waiting list (backoff), or the running list (a curl easy handle in the
 * multi). Requests are started only from sl_http_run's loop, never from
 * inside a curl callback, so callbacks may submit freely. */
#include <curl/curl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http/http_int.h"
#include "sluice/http.h"
#include "sluice/log.h"
#include "sluice_version.h"

/* A host's limit grows back by one after this many successes in a row. */
#define SL_HTTP_GROW_EVERY 8
/* Longest single wait in the loop, so cancel and due retries are noticed. */
#define SL_HTTP_POLL_MAX_MS 1000
#define SL_HTTP_HEADER_ARENA_MAX ((size_t)1 << 20)

typedef struct sl_http_response req;

typedef struct list {
  req *head, *tail;
  size_t n;
} list;

typedef struct host {
  char key[320];
  int limit;      /* current in-flight limit (halved on 429) */
  int in_flight;
  int successes;  /* since the limit last changed */
  double last_cut; /* when the limit was last halved */
  double paused_until; /* a 429's Retry-After holds back the host's new requests */
  list ready;
  struct host *next;
} host;

typedef struct hdr {
  char *name, *value;
  struct hdr *next;
} hdr;

struct sl_http_attempt {
  req *r;
};

typedef enum { R_NONE, R_READY, R_WAITING, R_RUNNING } req_state;

/* The request; an sl_http_response is a view of it during callbacks. */
struct sl_http_response {
  sl_http *h;
  host *host;
  req *next, *prev;
  req_state state;
  /* what was submitted (copies) */
  char *method;
  char *url;
  struct curl_slist *req_headers;
  void *body;
  size_t body_len;
  int max_attempts;
  char *label;
  sl_http_callbacks cb;
  void *ud;
  char url_red[512];
  /* url_red shortened for messages: a long query (200 analytics columns)
   * must leave room for the status and the server's answer */
  char url_msg[200];
  /* the current attempt */
  int attempt;
  double due;     /* waiting: when to go back to the ready queue */
  double started; /* running: when the transfer started */
  CURL *easy;
  struct curl_slist *slist;
  char *attempt_url;
  sl_http_attempt att;
  long status;
  sl_arena harena;
  hdr *hdrs;
  bool decided;
  sl_http_decision decision;
  sl_buf errbody;
  uint64_t delivered;
  bool body_failed;
  sl_error *body_err; /* what on_body said when it refused (allocated then) */
  char curl_err[CURL_ERROR_SIZE];
};

struct sl_http {
  sl_http_opts o;
  char ua[128];
  char ca_file[1024];
  CURLM *multi;
  host *hosts;
  list waiting, running;
  size_t nreqs; /* submitted and not yet done */
  CURL **pool;  /* idle easy handles */
  size_t npool, cappool;
  bool in_run, cancel_requested, cancelling;
  uint64_t rng;
  sl_http_stats stats;
  sl_http *sync; /* a private engine for sl_http_fetch (usable from callbacks) */
};

/* ---- small things ----------------------------------------------------------- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rand01(sl_http *h) {
  /* xorshift64*: the jitter needs spread, not cryptographic quality */
  uint64_t x = h->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  h->rng = x;
  return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void list_push(list *l, req *r) {
  r->next = NULL;
  r->prev = l->tail;
  if (l->tail)
    l->tail->next = r;
  else
    l->head = r;
  l->tail = r;
  l->n++;
}

static void list_push_front(list *l, req *r) {
  r->prev = NULL;
  r->next = l->head;
  if (l->head)
    l->head->prev = r;
  else
    l->tail = r;
  l->head = r;
  l->n++;
}

static void list_remove(list *l, req *r) {
  if (r->prev)
    r->prev->next = r->next;
  else
    l->head = r->next;
  if (r->next)
    r->next->prev = r->prev;
  else
    l->tail = r->prev;
  r->next = r->prev = NULL;
  l->n--;
}

/* Copy with truncation (on a UTF-8 boundary). */
static void copy_trunc(char *dst, size_t size, const char *src) {
  size_t n = strlen(src);
  if (n >= size) {
    n = size - 1;
    while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--;
  }
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static const char *method_of(const req *r) { return r->method ? r->method : "GET"; }

/* ---- options ----------------------------------------------------------------- */

void sl_http_opts_init(sl_http_opts *o) {
  memset(o, 0, sizeof *o);
  o->max_in_flight = 32;
  o->max_per_host = 8;
  o->max_attempts = 5;
  o->backoff_base_s = 1.0;
  o->backoff_max_s = 60.0;
  o->connect_timeout_ms = 10000;
  o->timeout_ms = 300000;
  o->low_speed_secs = 60;
  o->error_body_max = 64 * 1024;
  o->ca_file = sl_http_ca_bundle_env();
}

const char *sl_http_ca_bundle_env(void) {
  const char *f = getenv("SSL_CERT_FILE");
  if (!f || !*f) f = getenv("CURL_CA_BUNDLE");
  return f && *f ? f : NULL;
}

static void fix_opts(sl_http_opts *o) {
  sl_http_opts d;
  sl_http_opts_init(&d);
  if (o->max_in_flight <= 0) o->max_in_flight = d.max_in_flight;
  if (o->max_per_host <= 0) o->max_per_host = d.max_per_host;
  if (o->max_attempts <= 0) o->max_attempts = d.max_attempts;
  if (!(o->backoff_base_s >= 0)) o->backoff_base_s = d.backoff_base_s;
  if (!(o->backoff_max_s > 0)) o->backoff_max_s = d.backoff_max_s;
  if (o->connect_timeout_ms <= 0) o->connect_timeout_ms = d.connect_timeout_ms;
  if (o->timeout_ms < 0) o->timeout_ms = 0;
  if (o->low_speed_secs < 0) o->low_speed_secs = 0;
  if (o->error_body_max == 0) o->error_body_max = d.error_body_max;
}

static sl_status global_init(sl_error *err) {
  static int done = 0;
  if (!done) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      return sl_error_set(err, SL_INTERNAL, "libcurl failed to initialise");
    done = 1;
  }
  return SL_OK;
}

sl_http *sl_http_new(const sl_http_opts *opts, sl_error *err) {
  if (global_init(err) != SL_OK) return NULL;
  sl_http *h = calloc(1, sizeof *h);
  if (!h) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  if (opts)
    h->o = *opts;
  else
    sl_http_opts_init(&h->o);
  fix_opts(&h->o);
  snprintf(h->ua, sizeof h->ua, "%s", h->o.user_agent ? h->o.user_agent : "sluice/" SLUICE_VERSION);
  h->o.user_agent = h->ua;
  if (h->o.ca_file) {
    snprintf(h->ca_file, sizeof h->ca_file, "%s", h->o.ca_file);
    h->o.ca_file = h->ca_file;
  }
  h->multi = curl_multi_init();
  if (!h->multi) {
    free(h);
    sl_error_set(err, SL_INTERNAL, "curl_multi_init failed");
    return NULL;
  }
  curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  /* Our queues keep within the limits; this is a backstop, and keeps enough
   * idle connections around for reuse. */
  curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)h->o.max_per_host);
  curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->o.max_in_flight * 2);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  h->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
           (uint64_t)(uintptr_t)h;
  if (!h->rng) h->rng = 0x9E3779B97F4A7C15ULL;
  return h;
}

/* ---- requests ---------------------------------------------------------------- */

static void req_free(req *r) {
  if (!r) return;
  free(r->method);
  free(r->url);
  curl_slist_free_all(r->req_headers);
  free(r->body);
  free(r->label);
  curl_slist_free_all(r->slist);
  free(r->attempt_url);
  sl_arena_free(&r->harena);
  sl_buf_free(&r->errbody);
  free(r->body_err);
  free(r);
}

static host *host_get(sl_http *h, const char *url, sl_error *err) {
  char key[320];
  if (sl__url_host_key(url, key, sizeof key) != SL_OK) {
    char red[512];
    sl_error_set(err, SL_INVALID_ARG, "not an http:// or https:// URL: %s",
                 sl__http_redact_url(red, sizeof red, url));
    return NULL;
  }
  for (host *x = h->hosts; x; x = x->next)
    if (strcmp(x->key, key) == 0) return x;
  host *x = calloc(1, sizeof *x);
  if (!x) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  snprintf(x->key, sizeof x->key, "%s", key);
  x->limit = h->o.max_per_host;
  x->last_cut = -1e9;
  x->next = h->hosts;
  h->hosts = x;
  return x;
}

sl_status sl_http_submit(sl_http *h, const sl_http_request *q, const sl_http_callbacks *cb,
                         void *ud, sl_error *err) {
  if (!h || !q || !q->url) return sl_error_set(err, SL_INVALID_ARG, "sl_http_submit: no URL");
  if (h->cancelling) return sl_error_set(err, SL_ABORTED, "the HTTP engine is cancelling");
  if (cb && cb->on_body && !cb->on_rewind)
    return sl_error_set(err, SL_INVALID_ARG, "sl_http_submit: on_body needs on_rewind");
  host *hx = host_get(h, q->url, err);
  if (!hx) return err ? err->code : SL_INVALID_ARG;
  req *r = calloc(1, sizeof *r);
  if (!r) return sl_error_set(err, SL_NOMEM, "out of memory");
  r->h = h;
  r->host = hx;
  r->att.r = r;
  bool oom = false;
  if (q->method && !(r->method = strdup(q->method))) oom = true;
  if (!(r->url = strdup(q->url))) oom = true;
  if (q->label && !(r->label = strdup(q->label))) oom = true;
  for (const char *const *l = q->headers; l && *l && !oom; l++) {
    struct curl_slist *n = curl_slist_append(r->req_headers, *l);
    if (!n)
      oom = true;
    else
      r->req_headers = n;
  }
  if (q->body && q->body_len) {
    if (!(r->body = malloc(q->body_len)))
      oom = true;
    else
      memcpy(r->body, q->body, q->body_len);
    r->body_len = q->body_len;
  }
  if (oom) {
    req_free(r);
    return sl_error_set(err, SL_NOMEM, "out of memory");
  }
  r->max_attempts = q->max_attempts > 0 ? q->max_attempts : h->o.max_attempts;
  if (cb) r->cb = *cb;
  r->ud = ud;
  sl__http_redact_url(r->url_red, sizeof r->url_red, r->url);
  size_t ul = strlen(r->url_red);
  if (ul < sizeof r->url_msg) memcpy(r->url_msg, r->url_red, ul + 1);
  else
    snprintf(r->url_msg, sizeof r->url_msg, "%.120s...%s", r->url_red, r->url_red + ul - 60);
  sl_arena_init(&r->harena, 4096, SL_HTTP_HEADER_ARENA_MAX);
  sl_buf_init(&r->errbody, h->o.error_body_max);
  r->state = R_READY;
  list_push(&hx->ready, r);
  h->nreqs++;
  h->stats.requests++;
  return SL_OK;
}

size_t sl_http_pending(const sl_http *h) { return h ? h->nreqs : 0; }

/* ---- what callbacks see -------------------------------------------------------- */

long sl_http_status(const sl_http_response *r) { return r ? r->status : 0; }
const char *sl_http_url(const sl_http_response *r) { return r ? r->url : NULL; }
const char *sl_http_url_redacted(const sl_http_response *r) { return r ? r->url_red : NULL; }
int sl_http_response_attempt(const sl_http_response *r) { return r ? r->attempt : 0; }

const char *sl_http_header(const sl_http_response *r, const char *name) {
  if (!r || !name) return NULL;
  for (const hdr *x = r->hdrs; x; x = x->next)
    if (strcasecmp(x->name, name) == 0) return x->value;
  return NULL;
}

const char *sl_http_error_body(const sl_http_response *r, size_t *len) {
  if (len) *len = r ? r->errbody.len : 0;
  return r && r->errbody.data ? r->errbody.data : "";
}

sl_status sl_http_attempt_add_header(sl_http_attempt *a, const char *line) {
  if (!a || !line) return SL_INVALID_ARG;
  struct curl_slist *n = curl_slist_append(a->r->slist, line);
  if (!n) return SL_NOMEM;
  a->r->slist = n;
  return SL_OK;
}

sl_status sl_http_attempt_set_url(sl_http_attempt *a, const char *url) {
  if (!a || !url) return SL_INVALID_ARG;
  char *c = strdup(url);
  if (!c) return SL_NOMEM;
  free(a->r->attempt_url);
  a->r->attempt_url = c;
  return SL_OK;
}

int sl_http_attempt_number(const sl_http_attempt *a) { return a ? a->r->attempt : 0; }

/* ---- curl callbacks ------------------------------------------------------------ */

static sl_http_decision default_rule(long status) {
  if (status >= 200 && status < 300) return SL_HTTP_ACCEPT;
  switch (status) {
    case 408: case 425: case 429: case 500: case 502: case 503: case 504:
      return SL_HTTP_RETRY;
    default:
      return SL_HTTP_FAIL;
  }
}

/* On a 429, halve the host's limit, once per burst: only a request started
 * after the last cut may cut again (the others were sent under the old limit). */
static void host_cut(sl_http *h, host *x, double started) {
  if (started < x->last_cut) return;
  int old = x->limit;
  x->limit = x->limit / 2 < 1 ? 1 : x->limit / 2;
  x->successes = 0;
  x->last_cut = now_s();
  if (old != x->limit)
    SL_INFO("http: %s answered 429; in-flight limit %d -> %d", x->key, old, x->limit);
}

static void host_success(sl_http *h, host *x) {
  if (x->limit >= h->o.max_per_host) return;
  if (++x->successes >= SL_HTTP_GROW_EVERY) {
    x->limit++;
    x->successes = 0;
    SL_DEBUG("http: %s in-flight limit back up to %d", x->key, x->limit);
  }
}

static void decide(req *r) {
  sl_http *h = r->h;
  r->decided = true;
  long status = 0;
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
  r->status = status;
  if (status == 429) {
    h->stats.status_429++;
    host_cut(h, r->host, r->started);
  } else if (status >= 500 && status <= 599) {
    h->stats.status_5xx++;
  }
  sl_http_decision d = r->cb.on_head ? r->cb.on_head(r->ud, r) : SL_HTTP_DEFAULT;
  if (d == SL_HTTP_DEFAULT || d < SL_HTTP_DEFAULT || d > SL_HTTP_RETRY_NOW) d = default_rule(status);
  r->decision = d;
}

static size_t on_header_cb(char *buf, size_t size, size_t n, void *ud) {
  req *r = ud;
  size_t len = size * n;
  if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
    /* a new response (after a redirect or a 100): forget the previous one's,
     * and the decision made on it unless its body already went to the caller */
    sl_arena_reset(&r->harena);
    r->hdrs = NULL;
    if (r->decided && r->decision != SL_HTTP_ACCEPT) {
      r->decided = false;
      sl_buf_reset(&r->errbody);
    }
    return len;
  }
  const char *colon = memchr(buf, ':', len);
  if (!colon || colon == buf) return len;
  size_t nl = (size_t)(colon - buf);
  const char *v = colon + 1, *end = buf + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) end--;
  size_t vl = (size_t)(end - v);
  for (hdr *x = r->hdrs; x; x = x->next) {
    if (strlen(x->name) == nl && strncasecmp(x->name, buf, nl) == 0) {
      size_t ol = strlen(x->value);
      char *j = sl_arena_alloc(&r->harena, ol + 2 + vl + 1);
      if (!j) return len;
      memcpy(j, x->value, ol);
      memcpy(j + ol, ", ", 2);
      memcpy(j + ol + 2, v, vl);
      j[ol + 2 + vl] = '\0';
      x->value = j;
      return len;
    }
  }
  hdr *x = sl_arena_alloc(&r->harena, sizeof *x);
  char *name = sl_arena_strndup(&r->harena, buf, nl);
  char *val = sl_arena_strndup(&r->harena, v, vl);
  if (!x || !name || !val) return len; /* past the cap: the header is dropped */
  x->name = name;
  x->value = val;
  x->next = r->hdrs;
  r->hdrs = x;
  return len;
}

static size_t on_write_cb(char *p, size_t size, size_t n, void *ud) {
  req *r = ud;
  size_t len = size * n;
  r->h->stats.bytes_in += len;
  if (!r->decided) decide(r);
  if (r->decision == SL_HTTP_ACCEPT) {
    uint64_t cap = r->h->o.max_body_bytes;
    if (cap && len > cap - (r->delivered < cap ? r->delivered : cap)) {
      r->body_failed = true;
      free(r->body_err);
      if ((r->body_err = malloc(sizeof *r->body_err))) {
        sl_error_clear(r->body_err);
        sl_error_set(r->body_err, SL_TOO_LARGE,
                     "%s %s: the response body is longer than %" PRIu64 " bytes (max_body_bytes)",
                     method_of(r), r->url_msg, cap);
      }
      return 0;
    }
    if (r->cb.on_body && len) {
      sl_error e;
      sl_error_clear(&e);
      sl_status st = r->cb.on_body(r->ud, p, len, &e);
      if (st != SL_OK) {
        r->body_failed = true;
        if (e.code == SL_OK) e.code = st;
        free(r->body_err);
        if ((r->body_err = malloc(sizeof *r->body_err))) *r->body_err = e;
        return 0; /* aborts the transfer */
      }
    }
    r->delivered += len;
  } else if (r->decision != SL_HTTP_IGNORE) {
    size_t room = r->h->o.error_body_max - r->errbody.len;
    if (room) sl_buf_append(&r->errbody, p, len < room ? len : room);
  }
  return len;
}

/* ---- attempts ------------------------------------------------------------------ */

static CURL *easy_get(sl_http *h) {
  if (h->npool) {
    return h->pool[--h->npool];
  }
  return curl_easy_init();
}

static void easy_put(sl_http *h, CURL *e) {
  if (!e) return;
  curl_easy_reset(e); /* drops our pointers (headers, error buffer) with the request */
  if (h->npool == h->cappool) {
    size_t cap = h->cappool ? h->cappool * 2 : 16;
    CURL **p = realloc(h->pool, cap * sizeof *p);
    if (!p) {
      curl_easy_cleanup(e);
      return;
    }
    h->pool = p;
    h->cappool = cap;
  }
  h->pool[h->npool++] = e;
}

static void set_common(sl_http *h, CURL *e) {
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->o.timeout_ms);
  if (h->o.low_speed_secs > 0) {
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, h->o.low_speed_secs);
  }
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, h->o.insecure ? 0L : 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, h->o.insecure ? 0L : 2L);
  if (h->o.ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, h->o.ca_file);
  curl_easy_setopt(e, CURLOPT_USERAGENT, h->o.user_agent);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
}

static void set_method(req *r, CURL *e) {
  const char *m = method_of(r);
  if (strcmp(m, "GET") == 0 && !r->body) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (strcmp(m, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    if (strcmp(m, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    if (r->body || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
    }
  }
}

static void finish(req *r, sl_status st, const sl_error *e);
static void fail_msg(req *r, sl_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Start the next attempt of r (taken off its ready queue by the caller). */
static void start_attempt(req *r) {
  sl_http *h = r->h;
  r->attempt++;
  h->stats.attempts++;
  r->status = 0;
  sl_arena_reset(&r->harena);
  r->hdrs = NULL;
  r->decided = false;
  r->decision = SL_HTTP_DEFAULT;
  sl_buf_reset(&r->errbody);
  r->delivered = 0;
  r->curl_err[0] = '\0';
  free(r->attempt_url);
  r->attempt_url = NULL;
  curl_slist_free_all(r->slist);
  r->slist = NULL;
  for (struct curl_slist *l = r->req_headers; l; l = l->next)
    if (sl_http_attempt_add_header(&r->att, l->data) != SL_OK) {
      fail_msg(r, SL_NOMEM, "out of memory");
      return;
    }
  if (r->cb.prepare) {
    sl_error e;
    sl_error_clear(&e);
    sl_status st = r->cb.prepare(r->ud, &r->att, &e);
    if (st != SL_OK) {
      if (e.code == SL_OK) sl_error_set(&e, st, "%s %s: preparing the request failed", method_of(r), r->url_msg);
      if (!e.url[0]) sl_error_http(&e, r->url_red, 0);
      finish(r, e.code, &e);
      return;
    }
  }
  /* No "Expect: 100-continue" round trip for our small bodies. */
  if (r->body && sl_http_attempt_add_header(&r->att, "Expect:") != SL_OK) {
    fail_msg(r, SL_NOMEM, "out of memory");
    return;
  }
  CURL *e = easy_get(h);
  if (!e) {
    fail_msg(r, SL_NOMEM, "%s %s: cannot create a transfer", method_of(r), r->url_msg);
    return;
  }
  r->easy = e;
  set_common(h, e);
  const char *url = r->attempt_url ? r->attempt_url : r->url;
  curl_easy_setopt(e, CURLOPT_URL, url);
  set_method(r, e);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->slist);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)r);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write_cb);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)r);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header_cb);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)r);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_err);
  CURLMcode mc = curl_multi_add_handle(h->multi, e);
  if (mc != CURLM_OK) {
    r->easy = NULL;
    easy_put(h, e);
    fail_msg(r, SL_INTERNAL, "%s %s: %s", method_of(r), r->url_msg, curl_multi_strerror(mc));
    return;
  }
  r->started = now_s();
  r->state = R_RUNNING;
  list_push(&h->running, r);
  r->host->in_flight++;
  if (sl_log_get_level() <= SL_LOG_DEBUG) {
    char red[512];
    SL_DEBUG("http: %s %s (attempt %d/%d%s%s)", method_of(r),
             r->attempt_url ? sl__http_redact_url(red, sizeof red, r->attempt_url) : r->url_red,
             r->attempt, r->max_attempts, r->label ? ", " : "", r->label ? r->label : "");
  }
}

/* Detach r from wherever it is (queue, waiting, running). */
static void detach(req *r) {
  sl_http *h = r->h;
  switch (r->state) {
    case R_READY: list_remove(&r->host->ready, r); break;
    case R_WAITING: list_remove(&h->waiting, r); break;
    case R_RUNNING:
      list_remove(&h->running, r);
      r->host->in_flight--;
      curl_multi_remove_handle(h->multi, r->easy);
      easy_put(h, r->easy);
      r->easy = NULL;
      break;
    case R_NONE: break;
  }
  r->state = R_NONE;
}

/* The request is over: on_done, then free. Whatever error goes out is
 * scrubbed once more: a callback may have put the raw URL into it. */
static void finish(req *r, sl_status st, const sl_error *e_in) {
  sl_http *h = r->h;
  sl_error scrubbed;
  const sl_error *e = e_in;
  if (e_in) {
    char tmp[sizeof e_in->msg];
    scrubbed = *e_in;
    sl__http_redact_url(scrubbed.url, sizeof scrubbed.url, e_in->url);
    /* A body parser names its input after the raw URL. */
    copy_trunc(tmp, sizeof tmp, e_in->file);
    sl__http_redact_url(scrubbed.file, sizeof scrubbed.file, tmp);
    copy_trunc(tmp, sizeof tmp, e_in->msg);
    sl__http_redact_url(scrubbed.msg, sizeof scrubbed.msg, tmp);
    e = &scrubbed;
  }
  detach(r);
  if (st != SL_OK) {
    h->stats.failed++;
    if (e) SL_DEBUG("http: %s", e->msg);
  }
  h->nreqs--;
  if (r->cb.on_done) r->cb.on_done(r->ud, st, r->status > 0 ? r : NULL, st == SL_OK ? NULL : e);
  req_free(r);
}

static void fail_msg(req *r, sl_status code, const char *fmt, ...) {
  sl_error e;
  sl_error_clear(&e);
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sl_error_set(&e, code, "%s", msg);
  sl_error_http(&e, r->url_red, (int)r->status);
  finish(r, code, &e);
}

/* A short, one-line, redacted excerpt of the error body for messages. */
static void body_excerpt(const req *r, char *out, size_t size) {
  size_t n = r->errbody.len < size - 1 ? r->errbody.len : size - 1;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)r->errbody.data[i];
    out[k++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
  }
  /* cut a UTF-8 sequence the cap split */
  if (n < r->errbody.len) {
    size_t start = k;
    while (start > 0 && ((unsigned char)out[start - 1] & 0xC0) == 0x80 && k - start < 4) start--;
    if (start > 0) {
      unsigned char lead = (unsigned char)out[start - 1];
      size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
      if (k - (start - 1) < need) k = start - 1;
    }
  }
  out[k] = '\0';
  char tmp[512];
  sl_redact_into(tmp, sizeof tmp, out);
  copy_trunc(out, size, tmp);
}

static void reason_of_status(const req *r, char *out, size_t size) {
  char ex[200];
  body_excerpt(r, ex, sizeof ex);
  if (ex[0])
    snprintf(out, size, "HTTP %ld: %s", r->status, ex);
  else
    snprintf(out, size, "HTTP %ld", r->status);
}

/* Back to the queue after a wait: full jitter, or what Retry-After asked. */
static void schedule_retry(req *r, double retry_after, const char *reason) {
  sl_http *h = r->h;
  detach(r);
  h->stats.retries++;
  double wait;
  if (retry_after >= 0) {
    wait = retry_after < h->o.backoff_max_s ? retry_after : h->o.backoff_max_s;
  } else {
    double cap = h->o.backoff_base_s * pow(2.0, r->attempt - 1);
    if (cap > h->o.backoff_max_s) cap = h->o.backoff_max_s;
    wait = rand01(h) * cap;
  }
  r->due = now_s() + wait;
  r->state = R_WAITING;
  list_push(&h->waiting, r);
  SL_WARN("http: %s %s: %s; retry %d/%d in %.2f s", method_of(r), r->url_msg, reason,
          r->attempt + 1, r->max_attempts, wait);
}

static bool curl_retryable(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP3:
    case CURLE_QUIC_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

static void rewind_if_accepted(req *r) {
  if (r->decided && r->decision == SL_HTTP_ACCEPT && r->cb.on_rewind) r->cb.on_rewind(r->ud);
}

/* A transfer ended (curl says how). Decide: done, retry or fail. */
static void attempt_done(req *r, CURLcode rc) {
  sl_http *h = r->h;
  double took = now_s() - r->started;
  if (took > h->stats.slowest_s) {
    h->stats.slowest_s = took;
    copy_trunc(h->stats.slowest_url, sizeof h->stats.slowest_url, r->url_red);
  }
  long nconn = 0;
  if (curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK && nconn > 0)
    h->stats.connects += (uint64_t)nconn;
  const char *m = method_of(r);
  if (r->body_failed) {
    sl_error e;
    if (r->body_err)
      e = *r->body_err;
    else
      sl_error_clear(&e), sl_error_set(&e, SL_NOMEM, "out of memory");
    if (!e.msg[0]) sl_error_set(&e, e.code, "%s %s: the response body was refused", m, r->url_msg);
    /* An HTML error page sent with 200 is the usual reason a JSON parser
     * refuses a body: say what the server sent. */
    const char *ct = sl_http_header(r, "Content-Type");
    if (ct && !strstr(ct, "json") && strlen(e.msg) + strlen(ct) + 40 < sizeof e.msg) {
      size_t n = strlen(e.msg);
      snprintf(e.msg + n, sizeof e.msg - n, " (the response is Content-Type: %.100s)", ct);
    }
    if (!e.url[0]) sl_error_http(&e, r->url_red, (int)r->status);
    if (!e.http_status) e.http_status = (int)r->status;
    finish(r, e.code, &e);
    return;
  }
  if (rc != CURLE_OK) {
    h->stats.conn_errors++;
    char reason[400];
    snprintf(reason, sizeof reason, "%s%s%s", curl_easy_strerror(rc), r->curl_err[0] ? ": " : "",
             r->curl_err);
    char red[400];
    sl_redact_into(red, sizeof red, reason);
    if (curl_retryable(rc) && r->attempt < r->max_attempts) {
      rewind_if_accepted(r);
      schedule_retry(r, -1, red);
    } else if (curl_retryable(rc)) {
      const char *what = rc == CURLE_COULDNT_CONNECT          ? "cannot connect"
                         : rc == CURLE_OPERATION_TIMEDOUT     ? "timed out"
                         : rc == CURLE_COULDNT_RESOLVE_HOST   ? "cannot resolve the host"
                         : (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR) ? "the response broke off"
                                                              : "connection error";
      fail_msg(r, SL_HTTP, "%s %s: %s after %d attempts (last: %s)", m, r->url_msg, what,
               r->attempt, red);
    } else {
      fail_msg(r, SL_HTTP, "%s %s: %s", m, r->url_msg, red);
    }
    return;
  }
  if (!r->decided) decide(r); /* empty body */
  char reason[400];
  switch (r->decision) {
    case SL_HTTP_ACCEPT: {
      sl_error e;
      sl_error_clear(&e);
      sl_http_decision d = r->cb.on_complete ? r->cb.on_complete(r->ud, r, &e) : SL_HTTP_ACCEPT;
      if (d == SL_HTTP_RETRY) {
        if (e.msg[0])
          copy_trunc(reason, sizeof reason, e.msg);
        else
          snprintf(reason, sizeof reason, "HTTP %ld: the body was incomplete", r->status);
        rewind_if_accepted(r);
        if (r->attempt < r->max_attempts) {
          schedule_retry(r, -1, reason);
        } else {
          fail_msg(r, e.code != SL_OK ? e.code : SL_HTTP, "%s %s: HTTP %ld after %d attempts (last: %s)",
                   m, r->url_msg, r->status, r->attempt, reason);
        }
      } else if (d == SL_HTTP_FAIL) {
        if (e.code == SL_OK) e.code = SL_HTTP;
        if (!e.msg[0]) sl_error_set(&e, e.code, "%s %s: HTTP %ld: the response was refused", m, r->url_msg, r->status);
        if (!e.url[0]) sl_error_http(&e, r->url_red, (int)r->status);
        if (!e.http_status) e.http_status = (int)r->status;
        finish(r, e.code, &e);
      } else {
        host_success(h, r->host);
        SL_DEBUG("http: %s %s: HTTP %ld, %llu bytes in %.3f s", m, r->url_red, r->status,
                 (unsigned long long)r->delivered, took);
        finish(r, SL_OK, NULL);
      }
      return;
    }
    case SL_HTTP_IGNORE:
      SL_DEBUG("http: %s %s: HTTP %ld ignored", m, r->url_red, r->status);
      host_success(h, r->host);
      finish(r, SL_OK, NULL);
      return;
    case SL_HTTP_RETRY_NOW:
    case SL_HTTP_RETRY: {
      reason_of_status(r, reason, sizeof reason);
      if (r->attempt < r->max_attempts) {
        double ra = r->decision == SL_HTTP_RETRY_NOW ? 0
                                                     : sl_http_retry_after(sl_http_header(r, "Retry-After"));
        if (r->status == 429 && ra > 0) {
          /* the server asked the client, not just this request, to wait */
          double until = now_s() + (ra < h->o.backoff_max_s ? ra : h->o.backoff_max_s);
          if (until > r->host->paused_until) r->host->paused_until = until;
        }
        schedule_retry(r, ra, reason);
      } else {
        fail_msg(r, SL_HTTP, "%s %s: HTTP %ld after %d attempts (last: %s)", m, r->url_msg,
                 r->status, r->attempt, reason);
      }
      return;
    }
    default:
      reason_of_status(r, reason, sizeof reason);
      fail_msg(r, SL_HTTP, "%s %s: %s", m, r->url_msg, reason);
      return;
  }
}

/* ---- the loop -------------------------------------------------------------------- */

static bool can_start(const sl_http *h, const host *x, double now) {
  return x->ready.n && x->in_flight < x->limit && (int)h->running.n < h->o.max_in_flight &&
         x->paused_until <= now;
}

/* Fill free slots, one request per host in turn so no host starves. */
static void start_ready(sl_http *h) {
  double now = now_s();
  bool progress = true;
  while (progress && (int)h->running.n < h->o.max_in_flight && !h->cancel_requested) {
    progress = false;
    for (host *x = h->hosts; x; x = x->next) {
      if (!can_start(h, x, now)) continue;
      req *r = x->ready.head;
      list_remove(&x->ready, r);
      r->state = R_NONE;
      start_attempt(r);
      progress = true;
    }
  }
}

/* Waiting requests whose time has come go to the front of their host's queue. */
static double promote_due(sl_http *h, double now) {
  double next = -1;
  req *r = h->waiting.head;
  while (r) {
    req *nx = r->next;
    if (r->due <= now) {
      list_remove(&h->waiting, r);
      r->state = R_READY;
      list_push_front(&r->host->ready, r);
    } else if (next < 0 || r->due < next) {
      next = r->due;
    }
    r = nx;
  }
  return next;
}

static void do_cancel(sl_http *h) {
  h->cancel_requested = false;
  h->cancelling = true;
  sl_error e;
  sl_error_clear(&e);
  for (;;) {
    req *r = h->running.head ? h->running.head : h->waiting.head;
    if (!r)
      for (host *x = h->hosts; x && !r; x = x->next) r = x->ready.head;
    if (!r) break;
    sl_error_set(&e, SL_ABORTED, "%s %s: cancelled", method_of(r), r->url_msg);
    sl_error_http(&e, r->url_red, 0);
    detach(r);
    h->nreqs--;
    if (r->cb.on_done) r->cb.on_done(r->ud, SL_ABORTED, NULL, &e);
    req_free(r);
  }
  h->cancelling = false;
}

void sl_http_cancel_all(sl_http *h) {
  if (!h) return;
  if (h->in_run)
    h->cancel_requested = true;
  else
    do_cancel(h);
}

sl_status sl_http_run(sl_http *h, sl_error *err) {
  if (!h) return sl_error_set(err, SL_INVALID_ARG, "sl_http_run: no engine");
  if (h->in_run) return sl_error_set(err, SL_INTERNAL, "sl_http_run called from inside a callback");
  h->in_run = true;
  sl_status st = SL_OK;
  while (h->nreqs > 0) {
    if (h->cancel_requested) {
      do_cancel(h);
      continue;
    }
    double next_due = promote_due(h, now_s());
    start_ready(h);
    int still = 0;
    CURLMcode mc = curl_multi_perform(h->multi, &still);
    if (mc != CURLM_OK) {
      st = sl_error_set(err, SL_HTTP, "HTTP engine: %s", curl_multi_strerror(mc));
      break;
    }
    bool progressed = false;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL *e = msg->easy_handle;
      CURLcode rc = msg->data.result;
      req *r = NULL;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
      if (r) attempt_done(r, rc);
      progressed = true;
    }
    if (h->nreqs == 0 || h->cancel_requested) continue;
    bool ready = false;
    double now = now_s();
    for (host *x = h->hosts; x; x = x->next) {
      if (can_start(h, x, now)) ready = true;
      /* a paused host with work wakes us when the pause ends */
      if (x->ready.n && x->paused_until > now && (next_due < 0 || x->paused_until < next_due))
        next_due = x->paused_until;
    }
    if (progressed || ready) continue;
    long ms = SL_HTTP_POLL_MAX_MS;
    long ct = -1;
    curl_multi_timeout(h->multi, &ct);
    if (ct >= 0 && ct < ms) ms = ct;
    if (next_due >= 0) {
      double d = (next_due - now_s()) * 1000.0;
      long dm = d <= 0 ? 0 : (long)ceil(d);
      if (dm < ms) ms = dm;
    }
    if (ms > 0) {
      mc = curl_multi_poll(h->multi, NULL, 0, (int)ms, NULL);
      if (mc != CURLM_OK) {
        st = sl_error_set(err, SL_HTTP, "HTTP engine: %s", curl_multi_strerror(mc));
        break;
      }
    }
  }
  h->in_run = false;
  return st;
}

/* ---- the end --------------------------------------------------------------------- */

void sl_http_free(sl_http *h) {
  if (!h) return;
  for (;;) {
    req *r = h->running.head ? h->running.head : h->waiting.head;
    if (!r)
      for (host *x = h->hosts; x && !r; x = x->next) r = x->ready.head;
    if (!r) break;
    detach(r);
    req_free(r);
  }
  for (size_t i = 0; i < h->npool; i++) curl_easy_cleanup(h->pool[i]);
  free(h->pool);
  curl_multi_cleanup(h->multi);
  while (h->hosts) {
    host *x = h->hosts;
    h->hosts = x->next;
    free(x);
  }
  sl_http_free(h->sync);
  free(h);
}

void sl_http_get_stats(const sl_http *h, sl_http_stats *out) {
  memset(out, 0, sizeof *out);
  if (!h) return;
  *out = h->stats;
  if (h->sync) {
    const sl_http_stats *s = &h->sync->stats;
    out->requests += s->requests;
    out->attempts += s->attempts;
    out->retries += s->retries;
    out->status_429 += s->status_429;
    out->status_5xx += s->status_5xx;
    out->conn_errors += s->conn_errors;
    out->failed += s->failed;
    out->bytes_in += s->bytes_in;
    out->connects += s->connects;
    if (s->slowest_s > out->slowest_s) {
      out->slowest_s = s->slowest_s;
      memcpy(out->slowest_url, s->slowest_url, sizeof out->slowest_url);
    }
  }
}

/* ---- one request, synchronously ----------------------------------------------------- */

typedef struct fetch_ctx {
  sl_buf *out;
  size_t max_body;
  long status;
  sl_status st;
  sl_error err;
  bool done;
} fetch_ctx;

static sl_status fetch_body(void *ud, const void *p, size_t n, sl_error *err) {
  fetch_ctx *c = ud;
  if (c->out->len + n > c->max_body)
    return sl_error_set(err, SL_TOO_LARGE, "the response is larger than %zu bytes", c->max_body);
  return sl_buf_append(c->out, p, n) == SL_OK ? SL_OK
                                                : sl_error_set(err, SL_NOMEM, "out of memory");
}

static void fetch_rewind(void *ud) {
  fetch_ctx *c = ud;
  sl_buf_reset(c->out);
}

static void fetch_done(void *ud, sl_status st, const sl_http_response *r, const sl_error *err) {
  fetch_ctx *c = ud;
  c->done = true;
  c->st = st;
  c->status = r ? sl_http_status(r) : 0;
  if (err) c->err = *err;
  if (st != SL_OK && r) {
    size_t n;
    const char *b = sl_http_error_body(r, &n);
    sl_buf_reset(c->out);
    if (n) sl_buf_append(c->out, b, n < c->max_body ? n : c->max_body);
  }
}

sl_status sl_http_fetch(sl_http *h, const sl_http_request *req_in, long *status, sl_buf *out,
                        size_t max_body, sl_error *err) {
  if (status) *status = 0;
  if (!h || !req_in || !out) return sl_error_set(err, SL_INVALID_ARG, "sl_http_fetch: missing argument");
  /* A private engine: the fetch may come from inside a callback of h's run
   * (an OAuth refresh in prepare), where h's own loop cannot be re-entered. */
  if (!h->sync) {
    sl_http_opts o = h->o;
    o.max_in_flight = 1;
    o.max_per_host = 1;
    o.user_agent = h->ua;
    if (!(h->sync = sl_http_new(&o, err))) return err ? err->code : SL_INTERNAL;
  }
  fetch_ctx c = {.out = out, .max_body = max_body ? max_body : (size_t)64 << 20, .st = SL_OK};
  sl_error_clear(&c.err);
  sl_buf_reset(out);
  sl_http_callbacks cb = {.on_body = fetch_body, .on_rewind = fetch_rewind, .on_done = fetch_done};
  sl_status st = sl_http_submit(h->sync, req_in, &cb, &c, err);
  if (st != SL_OK) return st;
  st = sl_http_run(h->sync, err);
  if (st != SL_OK) return st;
  if (status) *status = c.status;
  if (!c.done) return sl_error_set(err, SL_INTERNAL, "sl_http_fetch: the request never finished");
  if (c.st != SL_OK) {
    if (err) *err = c.err;
    return c.st;
  }
  return SL_OK;
}
