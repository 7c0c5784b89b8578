/* sluice/http.h — the HTTP engine: many requests in flight on one thread
 * (libcurl multi), bodies streamed to the caller as they arrive, retries with
 * backoff, and per-host concurrency that backs off on 429.
 *
 * Memory rule: an sl_http owns its connections and every in-flight request;
 * sl_http_submit copies the request (method, URL, headers, body). Responses
 * passed to callbacks (sl_http_response and its headers) are borrowed and
 * valid only during that callback. The caller's ud stays the caller's; the
 * engine never frees it. One sl_http is used by one thread; callbacks run on
 * that thread, inside sl_http_run, and may submit further requests.
 *
 * The life of a request:
 *   prepare (before every attempt: add per-attempt headers, e.g. auth)
 *   → on_head (status and headers known; the caller decides: accept, retry,
 *     ignore, fail, or let the engine decide by its defaults)
 *   → on_body* (accepted responses only, chunks of any size)
 *   → on_complete (the body is whole; the caller may still ask for a retry)
 *   → on_rewind (an accepted body broke off mid-way, or on_complete asked for
 *     a retry: the caller discards what on_body gave it for this attempt)
 *   → on_done (exactly once per submitted request, success or not).
 *
 * Defaults: 2xx accepted; 408, 425, 429, 500, 502, 503, 504 and connection
 * errors (refused, reset, timeout, truncated body) retried with exponential
 * backoff and full jitter, honoring Retry-After (seconds or HTTP date); any
 * other status fails with SL_HTTP. On a 429 the host's concurrency halves
 * (not below 1; once per burst) and then grows back by one per 8 successes
 * in a row; a 429's Retry-After also holds back the host's new requests for
 * that long. After max_attempts the request fails with an error naming the
 * URL (secrets redacted), the status and the last reason, e.g.
 *   GET https://host/path?api_key=***: HTTP 503 after 5 attempts (last: HTTP 503: <body>)
 * A body that on_body refuses (or that passes max_body_bytes) fails at once;
 * the message names the URL and, when the body is not JSON, its Content-Type
 * (an HTML error page sent with status 200 says so).
 * Redirects are followed (up to 10, http and https only); on_head sees the
 * final response. Connections are kept alive and reused; HTTP/2 is used
 * where TLS offers it; gzip/deflate/br/zstd bodies arrive decoded.
 */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sl_http sl_http;

typedef struct sl_http_opts {
  int max_in_flight;        /* all hosts together; default 32 */
  int max_per_host;         /* default 8 */
  int max_attempts;         /* per request, first try included; default 5 */
  double backoff_base_s;    /* first retry waits up to this; default 1.0 */
  double backoff_max_s;     /* cap of one wait (also of Retry-After); default 60 */
  long connect_timeout_ms;  /* default 10000 */
  long timeout_ms;          /* whole transfer; default 300000; 0 = none */
  long low_speed_secs;      /* abort a transfer slower than 1 byte/s for this long; default 60 */
  bool insecure;            /* true: do not verify TLS (default false: verify) */
  const char *ca_file;      /* CA bundle to verify servers with, or NULL: the system's
                               (sl_http_opts_init takes sl_http_ca_bundle_env()) */
  const char *user_agent;   /* default "sluice/<version>" */
  size_t error_body_max;    /* bytes of a failed response kept for messages; default 64 KiB */
  uint64_t max_body_bytes;  /* an accepted body longer than this fails the request with
                               SL_TOO_LARGE (no retry: a server that never stops would
                               only stream again); default 0 = no cap. Together with
                               timeout_ms and low_speed_secs this bounds a response
                               that never ends */
} sl_http_opts;

void sl_http_opts_init(sl_http_opts *o);

sl_http *sl_http_new(const sl_http_opts *o, sl_error *err);
/* Aborts whatever is still in flight (on_done is not called for those). */
void sl_http_free(sl_http *h);

/* ---- requests ------------------------------------------------------------------ */

typedef struct sl_http_request {
  const char *method;       /* NULL: GET */
  const char *url;          /* absolute http:// or https:// URL */
  const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
  const void *body;         /* request body (POST/PUT), or NULL */
  size_t body_len;
  int max_attempts;         /* 0: the engine's */
  const char *label;        /* for logs and stats, e.g. the resource name; may be NULL */
} sl_http_request;

/* What the engine knows about a response. Header lookup is case-insensitive;
 * repeated headers are joined with ", " (as RFC 9110 allows for lists). */
typedef struct sl_http_response sl_http_response;
long sl_http_status(const sl_http_response *r);
const char *sl_http_header(const sl_http_response *r, const char *name); /* NULL if absent */
const char *sl_http_url(const sl_http_response *r);   /* the request's URL */
/* The request's URL with secrets redacted (registered secrets in any
 * percent-encoding, values of secret-named query parameters): the one to put
 * into messages and sl_error.url. */
const char *sl_http_url_redacted(const sl_http_response *r);
/* The CA bundle the environment names: SSL_CERT_FILE, else CURL_CA_BUNDLE
 * (as OpenSSL and the curl tool read them), or NULL for the system's. */
const char *sl_http_ca_bundle_env(void);
/* The attempt this response belongs to, 1 for the first try. (Named so as not
 * to clash with the type sl_http_attempt below.) */
int sl_http_response_attempt(const sl_http_response *r);
/* The body of a response that was not accepted (capped at error_body_max),
 * for error messages and response_actions content matching. */
const char *sl_http_error_body(const sl_http_response *r, size_t *len);

/* A request being prepared for one attempt: add headers (auth), or replace
 * the URL (e.g. an api_key query parameter). */
typedef struct sl_http_attempt sl_http_attempt;
sl_status sl_http_attempt_add_header(sl_http_attempt *a, const char *line); /* "Name: value" */
sl_status sl_http_attempt_set_url(sl_http_attempt *a, const char *url);
int sl_http_attempt_number(const sl_http_attempt *a);

typedef enum sl_http_decision {
  SL_HTTP_DEFAULT = 0, /* the engine's rule (see the top of this file) */
  SL_HTTP_ACCEPT,      /* deliver the body through on_body */
  SL_HTTP_RETRY,       /* retry with backoff (counts as an attempt) */
  SL_HTTP_IGNORE,      /* done, successfully, body discarded (on_done gets SL_OK) */
  SL_HTTP_FAIL,        /* done with SL_HTTP */
  SL_HTTP_RETRY_NOW    /* retry at once, no backoff (counts as an attempt): the
                          caller fixed the cause itself, e.g. refreshed a token */
} sl_http_decision;

typedef struct sl_http_callbacks {
  /* Before every attempt; may be NULL. An error fails the request. */
  sl_status (*prepare)(void *ud, sl_http_attempt *a, sl_error *err);
  /* Status and headers have arrived; may be NULL (= SL_HTTP_DEFAULT). For a
   * status the caller did not accept, the body is collected (capped) and
   * available in on_done through sl_http_error_body. */
  sl_http_decision (*on_head)(void *ud, const sl_http_response *r);
  /* A chunk of an accepted body. An error aborts the request (no retry) and
   * is passed on to on_done. */
  sl_status (*on_body)(void *ud, const void *p, size_t n, sl_error *err);
  /* The accepted body arrived whole (as far as HTTP can tell). May be NULL
   * (= SL_HTTP_ACCEPT). The caller checks it (e.g. the JSON parser wants more:
   * a server cut the document short) and answers SL_HTTP_ACCEPT (done, OK),
   * SL_HTTP_RETRY (on_rewind, then a retry with backoff, counted as an
   * attempt) or SL_HTTP_FAIL (done with the error the caller wrote to err). */
  sl_http_decision (*on_complete)(void *ud, const sl_http_response *r, sl_error *err);
  /* The accepted body of this attempt broke off, or on_complete asked for a
   * retry; a retry follows. May be NULL only when on_body is NULL. */
  void (*on_rewind)(void *ud);
  /* Exactly once. st SL_OK: accepted body complete, or ignored. Otherwise err
   * says what (URL, status, reason), with secrets redacted. r may be NULL if
   * no response ever arrived. */
  void (*on_done)(void *ud, sl_status st, const sl_http_response *r, const sl_error *err);
} sl_http_callbacks;

/* Queue a request; it starts when the limits allow. The callbacks struct is
 * copied. */
sl_status sl_http_submit(sl_http *h, const sl_http_request *req, const sl_http_callbacks *cb,
                         void *ud, sl_error *err);

/* Run until nothing is in flight or queued (callbacks may submit more).
 * Returns SL_OK, or an engine failure (not a request's: those go to on_done). */
sl_status sl_http_run(sl_http *h, sl_error *err);
/* Stop soon: queued requests are dropped, in-flight ones aborted; each gets
 * on_done with SL_ABORTED. Callable from a callback. */
void sl_http_cancel_all(sl_http *h);
/* Requests in flight or waiting (including backoff). */
size_t sl_http_pending(const sl_http *h);

/* One request, synchronously, body collected into out (capped by max_body;
 * 0 = 64 MiB). For small things: OAuth tokens, a spec download. On a non-2xx
 * status returns SL_HTTP with *status set and the (capped) body in out. */
sl_status sl_http_fetch(sl_http *h, const sl_http_request *req, long *status, sl_buf *out,
                        size_t max_body, sl_error *err);

/* ---- figures --------------------------------------------------------------------- */

typedef struct sl_http_stats {
  uint64_t requests;       /* submitted */
  uint64_t attempts;       /* transfers started, retries included */
  uint64_t retries;
  uint64_t status_429;
  uint64_t status_5xx;
  uint64_t conn_errors;    /* connection failures and truncated bodies */
  uint64_t failed;         /* requests that ended in an error */
  uint64_t bytes_in;       /* body bytes received */
  double slowest_s;        /* slowest single transfer */
  char slowest_url[256];   /* its URL, redacted */
  uint64_t connects;       /* new connections opened (the rest reused one) */
} sl_http_stats;

void sl_http_get_stats(const sl_http *h, sl_http_stats *out);

/* ---- URLs and headers ----------------------------------------------------------- */

/* Resolve ref against base (RFC 3986), into out (malloc'ed). */
sl_status sl_url_resolve(const char *base, const char *ref, char **out, sl_error *err);
/* Set (replace or add) one query parameter; value is percent-encoded here. */
sl_status sl_url_set_param(const char *url, const char *name, const char *value, char **out,
                           sl_error *err);
/* Percent-encode for a query value or path segment (unreserved kept). */
sl_status sl_url_encode(sl_buf *out, const char *s, size_t len);
/* The target of the link with relation rel ("next") in an RFC 8288 Link
 * header, malloc'ed, or NULL when there is none (or the header is malformed). */
char *sl_http_link_rel(const char *link_header, const char *rel);
/* Retry-After (delta seconds or an HTTP date) as seconds from now; -1 when
 * absent or unreadable. */
double sl_http_retry_after(const char *value);

#ifdef __cplusplus
}
#endif
#endif
