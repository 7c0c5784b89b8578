/* Internal to libsluice: the REST resource kind (`endpoint:` with the source's
 * `client:`). rest_config.c validates the YAML into these structs before any
 * request; rest_run.c runs a resource's request series through the HTTP
 * engine; rest_util.c has the pieces that need no network (placeholders,
 * paginator arithmetic, cursor comparison) so they can be unit-tested. */
#ifndef SLUICE_REST_INT_H
#define SLUICE_REST_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/http.h"
#include "sluice/value.h"
#include "source/source_int.h"

typedef enum rest_pg_type {
  PG_AUTO = 0,
  PG_SINGLE,
  PG_JSON_LINK,
  PG_HEADER_LINK,
  PG_CURSOR,
  PG_OFFSET,
  PG_PAGE_NUMBER
} rest_pg_type;

typedef struct rest_paginator {
  rest_pg_type type;
  const char *next_url_path;  /* json_link: "next" */
  const char *links_next_key; /* header_link: relation, "next" */
  const char *cursor_path;    /* cursor: "cursors.next" */
  const char *cursor_param;   /* cursor: "cursor" */
  int64_t limit;              /* offset: page size (required) */
  int64_t offset;             /* offset: first value, 0 */
  const char *limit_param, *offset_param; /* "limit", "offset" */
  const char *total_path;     /* offset/page_number: "total"; NULL: none */
  int64_t maximum_offset;     /* 0: none */
  bool stop_after_empty_page; /* default true */
  int64_t base_page, page;    /* page_number: base 0; first page (default base) */
  const char *page_param;     /* "page" */
  int64_t maximum_page;       /* 0: none */
} rest_paginator;

typedef enum rest_auth_type {
  AUTH_NONE = 0,
  AUTH_BEARER,
  AUTH_API_KEY,
  AUTH_BASIC,
  AUTH_OAUTH_CC,
  AUTH_OAUTH_REFRESH
} rest_auth_type;

typedef struct rest_auth {
  rest_auth_type type;
  const char *token;                 /* bearer */
  const char *name, *api_key;        /* api_key: header or query parameter name */
  bool in_query;
  const char *username, *password;   /* http_basic */
  const char *token_url, *client_id, *client_secret, *refresh_token, *scope;
  bool client_basic;                 /* client id/secret by HTTP Basic (else form fields) */
  int64_t default_expires_in;        /* when the token response has no expires_in */
  const sl_value *request_data;      /* extra form fields */
  /* at run time */
  char *access_token;                /* malloc'ed */
  char *current_refresh;             /* malloc'ed: the latest refresh token */
  double expires_at;                 /* monotonic seconds */
  double ttl;                        /* of the current token */
  sl_http *token_http;
} rest_auth;

typedef enum rest_act { ACT_IGNORE, ACT_RETRY, ACT_FAIL } rest_act;
typedef struct rest_action {
  long status;          /* 0: any */
  const char *content;  /* substring of the body, or NULL */
  rest_act action;
  const char *message;  /* for fail (and logs) */
} rest_action;

typedef struct rest_resolve {
  const char *name;     /* placeholder / param name */
  const char *field;    /* dotted path in the parent record */
  bool in_query;        /* a param {type: resolve} not used in the path */
  bool skip_null;       /* a parent whose field is null or missing makes no request
                           (else it fails the resource) */
} rest_resolve;

typedef struct rest_incremental {
  bool on;
  const char *cursor_path; /* NULL: the range asked for is the cursor (a date window: the
                              next run starts the day after the last end) */
  const sl_value *initial_value, *end_value;
  const char *start_param, *end_param;
  bool min;             /* last_value_func: min */
  double lag;           /* seconds for date-times, units for numbers */
  int64_t span_days;    /* range_span_days: a longer date range is asked window by window */
  int64_t lookback_days; /* range_lookback_days: a start older than today - N moves up */
} rest_incremental;

typedef struct rest_client {
  const sl_value *top;  /* identity: the `client:` value these resources share */
  int refs;
  const char *source_name;
  const char *base_url;
  const char *const *headers; /* NULL-terminated "Name: value" */
  rest_auth auth;
  rest_paginator pg;
  bool has_pg;
  const char *state_file;     /* rotated refresh tokens are kept here */
  sl_http *http;
  int max_per_host;
  int max_attempts; /* 0: the HTTP engine's default (5) */
  int timeout_s;    /* whole request; 0: the engine's default (300 s) */
  int64_t max_response_mb; /* a longer body fails its request; 0: no cap */
  sl_http_stats reported;     /* figures already handed to the progress collector */
} rest_client;

typedef struct rest_resource {
  rest_client *client;
  const char *name;
  const char *file;           /* the YAML, for messages */
  const char *path, *method;
  const sl_value *params;     /* object: name -> scalar (resolve/incremental removed) */
  const sl_value *json;       /* request body, or NULL */
  const char *const *headers; /* NULL-terminated "Name: value" */
  const char *data_selector;  /* NULL: auto */
  rest_paginator pg;
  bool has_pg;
  rest_action *actions;
  size_t nactions;
  const char *parent;
  rest_resolve *resolves;
  size_t nresolves;
  const char *const *include_from_parent; /* parent fields */
  rest_incremental inc;
  rest_auth *auth;            /* the endpoint's own auth (owned), or NULL: the client's */
  const char *auth_state_file;
  const char *inc_param;      /* legacy: params.<name>: {type: incremental, …} */
  int64_t limit;              /* endpoint.limit: pages per request series; 0: no limit */
} rest_resource;

/* ---- rest_util.c --------------------------------------------------------------- */

/* Replace {name} placeholders in text: {resources.R.F} and {F} resolved with
 * the parent record, {incremental.start_value} / {incremental.end_value}.
 * vars: NULL-terminated name/value pairs ("incremental.start_value", "x", …);
 * unknown placeholders stay as they are unless strict (then SL_CONFIG_INVALID). */
sl_status rest_expand(const char *text, const char *const *vars, bool strict, sl_buf *out,
                      sl_error *err);
/* A scalar as the text to put in a URL or header (strings as they are,
 * numbers by their text, booleans true/false); NULL for containers/null. */
const char *rest_scalar_text(const sl_value *v, sl_buf *tmp);
/* Compare two cursor values: numbers by value when both are numbers, else
 * date-times by instant when both parse, else bytes. */
int rest_cursor_cmp(const char *a, const char *b);
/* value - lag: numbers and ISO 8601 date-times; other text is returned as is. */
void rest_cursor_lag(const char *v, double lag, sl_buf *out);
/* ISO 8601 date or date-time to seconds since the epoch; false if not one. */
bool rest_parse_time(const char *s, double *t);
/* {today}, {today-30d}, {today+1d}: the UTC date (YYYY-MM-DD) into out; false when
 * name (n bytes, without the braces) is not one. */
bool rest_relative_date(const char *name, size_t n, sl_buf *out);
/* A YYYY-MM-DD date plus days (negative: back), as YYYY-MM-DD; false if not a date. */
bool rest_date_add(const char *date, int64_t days, sl_buf *out);

/* The paginator's view of a finished page. */
typedef struct rest_page_facts {
  uint64_t records;          /* records on this page */
  const char *next_url;      /* json_link body value / Link header next (resolved by caller) */
  bool next_present;         /* the body/header had the key (even null) */
  const char *cursor;        /* cursor value, NULL when absent or null */
  bool cursor_present;
  bool has_total;
  int64_t total;
} rest_page_facts;

typedef struct rest_pg_state {
  rest_paginator pg;         /* the effective paginator (auto resolved) */
  int64_t value;             /* offset or page of the next request */
  char *cursor;              /* cursor of the next request (malloc'ed) */
  char *next_url;            /* next URL (malloc'ed) */
  bool first;
  bool done;
} rest_pg_state;

void rest_pg_init(rest_pg_state *ps, const rest_paginator *pg);
void rest_pg_free(rest_pg_state *ps);
/* After a page: decide the next request or that the series is done. For
 * auto, facts (and the Link header) pick the paginator first. Returns a
 * message in err on inconsistent answers (a cursor that does not change). */
sl_status rest_pg_advance(rest_pg_state *ps, const rest_page_facts *f, const char *link_next,
                          sl_error *err);
const char *rest_pg_name(rest_pg_type t);

/* ---- rest_config.c ----------------------------------------------------------- */

void rest_resource_free(void *ud);

/* ---- rest_run.c ------------------------------------------------------------------ */

sl_status rest_resource_run(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err);
double rest_now(void);

#endif
