/* Temporary: the HTTP engine (src/http/) is being written in parallel, and
 * include/sluice/http.h declares both a function and a type named
 * sl_http_attempt (it does not compile yet). Until both are fixed, this file
 * repeats the declarations the REST kind uses (without the clashing one) and
 * makes them weak so that libsluice links; the REST kind fails with a clear
 * error when the engine is missing. Replace with #include "sluice/http.h"
 * once src/http/ is in the tree. */
#ifndef SLUICE_REST_HTTP_WEAK_H
#define SLUICE_REST_HTTP_WEAK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sluice/buf.h"
#include "sluice/status.h"

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
  const char *ca_file;      /* extra CA bundle, or NULL */
  const char *user_agent;   /* default "sluice/<version>" */
  size_t error_body_max;    /* bytes of a failed response kept for messages; default 64 KiB */
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
  SL_HTTP_FAIL         /* done with SL_HTTP */
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


sl_status sl_url_resolve(const char *base, const char *ref, char **out, sl_error *err);
sl_status sl_url_set_param(const char *url, const char *name, const char *value, char **out,
                           sl_error *err);
sl_status sl_url_encode(sl_buf *out, const char *s, size_t len);
char *sl_http_link_rel(const char *link_header, const char *rel);

#pragma weak sl_http_opts_init
#pragma weak sl_http_new
#pragma weak sl_http_free
#pragma weak sl_http_fetch
#pragma weak sl_http_submit
#pragma weak sl_http_run
#pragma weak sl_http_status
#pragma weak sl_http_header
#pragma weak sl_http_url
#pragma weak sl_http_link_rel
#pragma weak sl_url_resolve
#pragma weak sl_url_set_param
#pragma weak sl_url_encode
#pragma weak sl_http_attempt_add_header
#pragma weak sl_http_attempt_set_url
#define REST_HTTP_MISSING() (sl_http_new == NULL)
#endif
