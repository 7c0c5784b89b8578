/* Runs one REST resource: a series of page requests (one series per parent
 * record for a child) through the HTTP engine. Bodies stream into the
 * emitter (records validated and written as they arrive) and, at the same
 * time, into a small watcher parser that picks the paginator's values (next
 * link, cursor, total) out of the envelope. A body that breaks off is
 * rewound: the records of that attempt are cut from the extract file. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rest/rest_int.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/progress.h"

double rest_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the envelope watcher ----------------------------------------------------- */

#define WATCH_MAX 24
#define WATCH_DEPTH 4

typedef struct slot {
  const char *path;
  bool present, null;
  sl_buf val;
} slot;

typedef struct watch {
  sl_json_parser *p;
  slot slots[WATCH_MAX];
  size_t nslots;
  char stack[1100]; /* 'o' / 'a' per open container */
  int depth, arrays;
  char keys[WATCH_DEPTH + 1][96];
  char path[512];
} watch;

static void watch_key(watch *w, int d, const char *k, size_t n) {
  if (d < 1 || d > WATCH_DEPTH + 1) return;
  if (n > 95) n = 95;
  memcpy(w->keys[d - 1], k, n);
  w->keys[d - 1][n] = '\0';
}

static int watch_event(void *ud, const sl_json_event *ev) {
  watch *w = ud;
  switch (ev->type) {
    case SL_JSON_KEY:
      if (w->arrays == 0) watch_key(w, w->depth, ev->str, ev->len);
      return 0;
    case SL_JSON_OBJECT_BEGIN:
    case SL_JSON_ARRAY_BEGIN:
      if (w->depth < (int)sizeof w->stack) w->stack[w->depth] = ev->type == SL_JSON_ARRAY_BEGIN ? 'a' : 'o';
      w->depth++;
      if (ev->type == SL_JSON_ARRAY_BEGIN) w->arrays++;
      return 0;
    case SL_JSON_OBJECT_END:
    case SL_JSON_ARRAY_END:
      w->depth--;
      if (ev->type == SL_JSON_ARRAY_END) w->arrays--;
      return 0;
    default: break;
  }
  if (w->arrays || w->depth < 1 || w->depth > WATCH_DEPTH + 1) return 0;
  size_t n = 0;
  for (int i = 0; i < w->depth; i++)
    n += (size_t)snprintf(w->path + n, sizeof w->path - n, "%s%s", i ? "." : "", w->keys[i]);
  for (size_t i = 0; i < w->nslots; i++) {
    slot *s = &w->slots[i];
    if (strcmp(s->path, w->path) != 0) continue;
    s->present = true;
    s->null = ev->type == SL_JSON_NULL;
    sl_buf_reset(&s->val);
    if (ev->type == SL_JSON_STRING || ev->type == SL_JSON_NUMBER)
      sl_buf_append(&s->val, ev->str, ev->len);
    else if (ev->type == SL_JSON_TRUE || ev->type == SL_JSON_FALSE)
      sl_buf_puts(&s->val, ev->type == SL_JSON_TRUE ? "true" : "false");
  }
  return 0;
}

static void watch_add(watch *w, const char *path) {
  if (!path || w->nslots == WATCH_MAX) return;
  for (size_t i = 0; i < w->nslots; i++)
    if (!strcmp(w->slots[i].path, path)) return;
  w->slots[w->nslots++].path = path;
}

static slot *watch_get(watch *w, const char *path) {
  for (size_t i = 0; path && i < w->nslots; i++)
    if (!strcmp(w->slots[i].path, path)) return &w->slots[i];
  return NULL;
}

static void watch_reset(watch *w) {
  if (w->p) sl_json_parser_reset(w->p);
  w->depth = w->arrays = 0;
  for (size_t i = 0; i < w->nslots; i++) {
    w->slots[i].present = w->slots[i].null = false;
    sl_buf_reset(&w->slots[i].val);
  }
}

static void watch_free(watch *w) {
  sl_json_parser_free(w->p);
  for (size_t i = 0; i < w->nslots; i++) sl_buf_free(&w->slots[i].val);
  memset(w, 0, sizeof *w);
}

/* Where `auto` looks (dlt's places plus Pinterest's bookmark). */
static const char *const auto_next[] = {"next", "links.next", "_links.next.href", "paging.next",
                                        "next_url", "next_page_url", "pagination.next", NULL};
static const char *const auto_cursor[] = {"bookmark", "bookmark",
                                          "next_cursor", "cursor",
                                          "meta.next_cursor", "cursor",
                                          "cursors.next", "cursor",
                                          "pagination.next_cursor", "cursor",
                                          "response_metadata.next_cursor", "cursor",
                                          "next_page_token", "page_token",
                                          "nextPageToken", "pageToken",
                                          NULL};
static const char *const auto_total[] = {"total_pages", "meta.total_pages",
                                         "pagination.total_pages", "page_count", NULL};

/* ---- auth ------------------------------------------------------------------------ */

static void b64(sl_buf *out, const char *s) {
  size_t n = strlen(s);
  unsigned char *o = malloc(4 * ((n + 2) / 3) + 1);
  if (!o) return;
  EVP_EncodeBlock(o, (const unsigned char *)s, (int)n);
  sl_buf_puts(out, (char *)o);
  free(o);
}

static void form_add(sl_buf *b, const char *k, const char *v) {
  if (b->len) sl_buf_putc(b, '&');
  sl_url_encode(b, k, strlen(k));
  sl_buf_putc(b, '=');
  sl_url_encode(b, v, strlen(v));
}

static void persist_refresh(const char *state_file, const char *tok) {
  if (!state_file) return;
  char dir[4096], tmp[4200];
  snprintf(dir, sizeof dir, "%s", state_file);
  char *slash = strrchr(dir, '/');
  if (slash) {
    *slash = '\0';
    mkdir(dir, 0700);
  }
  snprintf(tmp, sizeof tmp, "%s.tmp", state_file);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    SL_WARN("cannot keep the rotated refresh token in %s: %s", state_file, strerror(errno));
    return;
  }
  size_t n = strlen(tok);
  bool ok = write(fd, tok, n) == (ssize_t)n && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp, state_file) != 0) {
    SL_WARN("cannot keep the rotated refresh token in %s", state_file);
    unlink(tmp);
  }
}

static void load_refresh(rest_auth *au, const char *state_file) {
  if (au->current_refresh) return;
  if (state_file) {
    FILE *f = fopen(state_file, "rb");
    if (f) {
      char b[4096];
      size_t n = fread(b, 1, sizeof b - 1, f);
      fclose(f);
      while (n && (b[n - 1] == '\n' || b[n - 1] == '\r')) n--;
      b[n] = '\0';
      if (n) {
        au->current_refresh = strdup(b);
        sl_secret_register(b);
        SL_DEBUG("refresh token from %s", state_file);
        return;
      }
    }
  }
  au->current_refresh = au->refresh_token ? strdup(au->refresh_token) : NULL;
}

static sl_status fetch_token(rest_auth *au, const char *state_file, sl_error *err) {
  if (!au->token_http) {
    sl_http_opts o;
    sl_http_opts_init(&o);
    o.max_attempts = 3;
    o.backoff_base_s = 0.2;
    if (!(au->token_http = sl_http_new(&o, err))) return err->code;
  }
  sl_buf form = {0}, basic = {0}, out = {0};
  if (au->type == AUTH_OAUTH_REFRESH) {
    load_refresh(au, state_file);
    form_add(&form, "grant_type", "refresh_token");
    form_add(&form, "refresh_token", au->current_refresh ? au->current_refresh : "");
  } else {
    form_add(&form, "grant_type", "client_credentials");
  }
  if (au->scope) form_add(&form, "scope", au->scope);
  for (size_t i = 0; au->request_data && i < au->request_data->u.obj.len; i++) {
    sl_buf t = {0};
    const char *v = rest_scalar_text(au->request_data->u.obj.items[i].val, &t);
    if (v) form_add(&form, au->request_data->u.obj.items[i].key, v);
    sl_buf_free(&t);
  }
  const char *headers[4] = {"Content-Type: application/x-www-form-urlencoded",
                            "Accept: application/json", NULL, NULL};
  if (au->client_basic) {
    sl_buf up = {0};
    sl_buf_printf(&up, "%s:%s", au->client_id, au->client_secret);
    sl_buf_puts(&basic, "Authorization: Basic ");
    b64(&basic, up.data);
    sl_buf_free(&up);
    headers[2] = basic.data;
  } else {
    form_add(&form, "client_id", au->client_id);
    form_add(&form, "client_secret", au->client_secret);
  }
  sl_http_request req = {.method = "POST", .url = au->token_url, .headers = headers,
                         .body = form.data, .body_len = form.len, .label = "oauth token"};
  long status = 0;
  sl_status st = sl_http_fetch(au->token_http, &req, &status, &out, 1 << 20, err);
  sl_buf_free(&form);
  sl_buf_free(&basic);
  if (st) {
    sl_error_prefix(err, "cannot get an access token");
    sl_buf_free(&out);
    return st;
  }
  sl_doc *d = sl_json_parse_doc(out.data ? out.data : "", out.len, au->token_url, err);
  sl_buf_free(&out);
  if (!d) {
    sl_error_prefix(err, "the token endpoint's answer is not JSON");
    return SL_HTTP;
  }
  const char *tok = sl_v_str(sl_v_get(d->root, "access_token"), NULL);
  if (!tok || !*tok) {
    sl_doc_free(d);
    st = sl_error_set(err, SL_HTTP, "the token endpoint answered without an access_token");
    sl_error_http(err, au->token_url, (int)status);
    return st;
  }
  sl_secret_register(tok);
  free(au->access_token);
  au->access_token = strdup(tok);
  double ttl = sl_v_num_or(sl_v_get(d->root, "expires_in"), (double)au->default_expires_in);
  au->expires_at = rest_now() + ttl;
  au->ttl = ttl;
  const char *rt = sl_v_str(sl_v_get(d->root, "refresh_token"), NULL);
  if (rt && *rt && au->type == AUTH_OAUTH_REFRESH &&
      (!au->current_refresh || strcmp(rt, au->current_refresh) != 0)) {
    sl_secret_register(rt);
    free(au->current_refresh);
    au->current_refresh = strdup(rt);
    persist_refresh(state_file, rt);
  }
  SL_INFO("oauth: new access token, expires in %.0f s", ttl);
  sl_doc_free(d);
  return SL_OK;
}

static sl_status auth_prepare(rest_auth *au, const char *state_file, sl_http_attempt *a,
                              const char *url, sl_error *err) {
  sl_buf h = {0};
  sl_status st = SL_OK;
  switch (au->type) {
    case AUTH_NONE: break;
    case AUTH_BEARER: sl_buf_printf(&h, "Authorization: Bearer %s", au->token); break;
    case AUTH_API_KEY:
      if (au->in_query) {
        char *u = NULL;
        if ((st = sl_url_set_param(url, au->name, au->api_key, &u, err)) == SL_OK)
          st = sl_http_attempt_set_url(a, u);
        free(u);
      } else {
        sl_buf_printf(&h, "%s: %s", au->name, au->api_key);
      }
      break;
    case AUTH_BASIC: {
      sl_buf up = {0};
      sl_buf_printf(&up, "%s:%s", au->username, au->password);
      sl_buf_puts(&h, "Authorization: Basic ");
      b64(&h, up.data);
      sl_buf_free(&up);
      break;
    }
    case AUTH_OAUTH_CC:
    case AUTH_OAUTH_REFRESH: {
      /* Refresh a little before expiry: a minute, or a tenth of a short life. */
      double margin = au->ttl / 10 < 60 ? au->ttl / 10 : 60;
      if (!au->access_token || rest_now() >= au->expires_at - margin) st = fetch_token(au, state_file, err);
      if (!st) sl_buf_printf(&h, "Authorization: Bearer %s", au->access_token);
      break;
    }
  }
  if (!st && h.len) st = sl_http_attempt_add_header(a, h.data);
  sl_buf_free(&h);
  return st;
}

/* ---- a series of pages ---------------------------------------------------------- */

struct pagectx;
struct runner;

typedef struct series {
  struct runner *run;         /* async (child batches): who is told when it ends */
  struct pagectx *cur;        /* the page in flight */
  bool finished;
  sl_status st;
  sl_error err;
  int64_t max_pages;
  bool children;              /* its emitter has child resources */
  const char *skipped;        /* the skip_null field the parent record lacks: no request */
  rest_resource *r;
  rest_client *cl;
  sl_emitter *em;
  const char **vars; /* name/value pairs for placeholders */
  size_t nvars;
  sl_buf path;
  rest_pg_state ps;
  int64_t pages;
  /* incremental */
  char *start, *end;          /* the range asked for (text), or NULL; with range_span_days
                                 the current window */
  char *range_end;            /* range_span_days: the last day of the whole range */
  rest_paginator pg0;         /* each window pages from the start again */
  bool up_to_date;            /* a date window that starts after its end: no request */
  sl_value *inc_state;        /* where last_value lives for this series */
  char *best;                 /* best cursor so far in this run */
  sl_buf hashes;              /* records at the boundary: "h1,h2," */
  sl_buf old_hashes;          /* the stored boundary's hashes */
  /* include_from_parent: the members to put first in each record */
  sl_buf inject;
} series;

typedef struct pagectx {
  series *se;
  char *url;
  char url_red[512]; /* url with secrets redacted: the name the parser's errors give */
  sl__emit_pos pos;
  bool began, buffered, ignored, done;
  int auth_retries;
  long status;
  char *link_next;
  watch w;
  sl_buf body; /* buffered mode: the body, for content actions */
  sl_buf tail; /* streaming mode with content actions: the last bytes + this chunk */
  bool *hit;   /* per action: its content was seen */
  char *best_page;
  sl_buf page_hashes;
  uint64_t records_before;
  uint64_t body_bytes;
  const rest_action *failed_by; /* a fail action matched the status */
  const rest_action *fallback;  /* a status-only rule that waits for the content rules before it */
  size_t first_plain;           /* its index (content rules after it never apply) */
  sl_status st;
  sl_error err;
} pagectx;

static uint64_t fnv(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
  return h;
}

/* Every record passes here: incremental filter and cursor, parent fields. */
static sl_status record_hook(void *ud, const char *rec, size_t n, sl_buf *out, bool *keep,
                             sl_error *err) {
  series *se = ud;
  pagectx *pc = se->cur;
  rest_resource *r = se->r;
  if (r->inc.on && r->inc.cursor_path) {
    sl_doc *d = sl_json_parse_doc(rec, n, "record", err);
    if (!d) return err->code;
    sl_buf t = {0};
    const char *cv = rest_scalar_text(sl_v_path(d->root, r->inc.cursor_path), &t);
    if (cv) {
      int dir = r->inc.min ? -1 : 1;
      char hx[24];
      snprintf(hx, sizeof hx, "%016llx,", (unsigned long long)fnv(rec, n));
      if (se->start) {
        int c = rest_cursor_cmp(cv, se->start) * dir;
        if (c < 0) *keep = false;
        else if (c == 0 && se->old_hashes.data && strstr(se->old_hashes.data, hx)) *keep = false;
      }
      if (*keep && se->end && rest_cursor_cmp(cv, se->end) * dir >= 0) *keep = false;
      if (*keep) {
        const char *best = pc->best_page ? pc->best_page : se->best;
        int c = best ? rest_cursor_cmp(cv, best) * dir : 1;
        if (c > 0) {
          free(pc->best_page);
          pc->best_page = strdup(cv);
          sl_buf_reset(&pc->page_hashes);
        }
        if (c >= 0) sl_buf_puts(&pc->page_hashes, hx);
      }
    }
    sl_buf_free(&t);
    sl_doc_free(d);
    if (!*keep) return SL_OK;
  }
  if (se->inject.len && n >= 2 && rec[0] == '{') {
    sl_buf_putc(out, '{');
    sl_buf_append(out, se->inject.data, se->inject.len);
    /* skip '{' and whitespace; an empty object takes no comma */
    size_t i = 1;
    while (i < n && (rec[i] == ' ' || rec[i] == '\n' || rec[i] == '\t' || rec[i] == '\r')) i++;
    if (rec[i] == '}') out->len--, out->data[out->len] = '\0';
    sl_buf_append(out, rec + 1, n - 1);
  }
  return SL_OK;
}

/* The first rule that matches on status alone (status_code without content,
 * for this status) decides at once, unless a rule with content comes before
 * it for this status: then the body decides, and that status-only rule is
 * the fallback when no content rule before it matches (*first_plain: its
 * index, or nactions). */
static const rest_action *match_status(const rest_resource *r, long status, bool *content_wanted,
                                       size_t *first_plain) {
  *content_wanted = false;
  *first_plain = r->nactions;
  for (size_t i = 0; i < r->nactions; i++) {
    const rest_action *a = &r->actions[i];
    if (a->status && a->status != status) continue;
    if (a->content) {
      *content_wanted = true;
      continue;
    }
    *first_plain = i;
    return a;
  }
  return NULL;
}

static sl_status page_begin(pagectx *pc, sl_error *err) {
  series *se = pc->se;
  sl__emit_mark(se->em, &pc->pos);
  pc->began = true;
  sl_status st = se->r->data_selector
                     ? sl_emit_stream_begin(se->em, se->r->data_selector, false, pc->url_red, err)
                     : sl__emit_stream_begin_auto(se->em, pc->url_red, err);
  return st;
}

static sl_status cb_prepare(void *ud, sl_http_attempt *a, sl_error *err) {
  pagectx *pc = ud;
  rest_resource *r = pc->se->r;
  return r->auth ? auth_prepare(r->auth, r->auth_state_file, a, pc->url, err)
                 : auth_prepare(&pc->se->cl->auth, pc->se->cl->state_file, a, pc->url, err);
}

static sl_http_decision cb_head(void *ud, const sl_http_response *resp) {
  pagectx *pc = ud;
  series *se = pc->se;
  long s = sl_http_status(resp);
  pc->status = s;
  pc->buffered = false;
  snprintf(pc->url_red, sizeof pc->url_red, "%s", sl_http_url_redacted(resp));
  rest_auth *au = se->r->auth ? se->r->auth : &se->cl->auth;
  if (s == 401 && (au->type == AUTH_OAUTH_CC || au->type == AUTH_OAUTH_REFRESH) &&
      pc->auth_retries < 2) {
    /* The token died early (revoked, expired on the server's clock): refresh
     * and try again (twice at most: a token can die again on the way). */
    pc->auth_retries++;
    free(au->access_token);
    au->access_token = NULL;
    SL_INFO("resource '%s': 401, refreshing the access token", se->r->name);
    return SL_HTTP_RETRY_NOW; /* the new token is fetched in prepare: no reason to wait */
  }
  bool want_content;
  const rest_action *a = match_status(se->r, s, &want_content, &pc->first_plain);
  pc->fallback = want_content ? a : NULL;
  if (a && !want_content) {
    if (a->action == ACT_IGNORE) {
      pc->ignored = true;
      SL_DEBUG("resource '%s': HTTP %ld ignored (response_actions)", se->r->name, s);
      return SL_HTTP_IGNORE;
    }
    if (a->action == ACT_RETRY) return SL_HTTP_RETRY;
    pc->failed_by = a;
    return SL_HTTP_FAIL;
  }
  free(pc->link_next);
  pc->link_next = NULL;
  const char *link = sl_http_header(resp, "Link");
  if (link) {
    const char *rel = se->ps.pg.type == PG_HEADER_LINK ? se->ps.pg.links_next_key : "next";
    char *nx = sl_http_link_rel(link, rel);
    if (nx) {
      sl_error e;
      if (sl_url_resolve(sl_http_url(resp), nx, &pc->link_next, &e) != SL_OK) pc->link_next = NULL;
      free(nx);
    }
  }
  if (s >= 200 && s < 300) return SL_HTTP_ACCEPT;
  if (want_content) {
    pc->buffered = true;
    sl_buf_reset(&pc->body);
    return SL_HTTP_ACCEPT;
  }
  return SL_HTTP_DEFAULT;
}

static void content_scan(pagectx *pc, const char *p, size_t n) {
  rest_resource *r = pc->se->r;
  size_t keep = 0;
  for (size_t i = 0; i < r->nactions; i++)
    if (r->actions[i].content && strlen(r->actions[i].content) > keep)
      keep = strlen(r->actions[i].content);
  if (!keep) return;
  sl_buf_append(&pc->tail, p, n);
  for (size_t i = 0; i < r->nactions; i++)
    if (r->actions[i].content && memmem(pc->tail.data, pc->tail.len, r->actions[i].content,
                                        strlen(r->actions[i].content)))
      pc->hit[i] = true;
  if (pc->tail.len > keep) {
    memmove(pc->tail.data, pc->tail.data + pc->tail.len - (keep - 1), keep - 1);
    pc->tail.len = keep - 1;
  }
}

static sl_status cb_body(void *ud, const void *p, size_t n, sl_error *err) {
  pagectx *pc = ud;
  if (pc->buffered) {
    if (pc->body.len < (1u << 20)) sl_buf_append(&pc->body, p, n);
    content_scan(pc, p, n);
    return SL_OK;
  }
  sl_status st;
  if (!pc->began && (st = page_begin(pc, err))) return st;
  pc->body_bytes += n;
  if (pc->se->r->nactions) content_scan(pc, p, n);
  /* The watcher's own errors are ignored: the emitter's parser reports the
   * same problem, with its position. */
  (void)sl_json_feed(pc->w.p, p, n, NULL);
  return sl_emit_stream_feed(pc->se->em, p, n, err);
}

/* The rule the body decides: the first content rule (its status_code, if
 * any, matching too) before the first status-only match, else that one. */
static const rest_action *content_action(pagectx *pc) {
  rest_resource *r = pc->se->r;
  for (size_t i = 0; i < r->nactions && i < pc->first_plain; i++) {
    const rest_action *a = &r->actions[i];
    if (!a->content || !pc->hit[i]) continue;
    if (a->status && a->status != pc->status) continue;
    return a;
  }
  return pc->fallback;
}

static void cb_rewind(void *ud) {
  pagectx *pc = ud;
  sl_error e;
  sl_error_clear(&e);
  if (pc->began && sl__emit_rewind(pc->se->em, &pc->pos, &e) != SL_OK) {
    pc->st = e.code;
    pc->err = e;
  }
  pc->began = false;
  pc->body_bytes = 0;
  watch_reset(&pc->w);
  sl_buf_reset(&pc->tail);
  sl_buf_reset(&pc->body);
  for (size_t i = 0; i < pc->se->r->nactions; i++) pc->hit[i] = false;
  free(pc->best_page);
  pc->best_page = NULL;
  sl_buf_reset(&pc->page_hashes);
}

static sl_http_decision cb_complete(void *ud, const sl_http_response *resp, sl_error *err) {
  pagectx *pc = ud;
  series *se = pc->se;
  const rest_action *a = content_action(pc);
  if (a) {
    if (a->action == ACT_RETRY) {
      SL_INFO("resource '%s': retrying %s (response_actions: %s)", se->r->name, pc->url,
              a->message ? a->message : a->content);
      return SL_HTTP_RETRY;
    }
    if (a->action == ACT_IGNORE) {
      cb_rewind(pc);
      pc->ignored = true;
      return SL_HTTP_ACCEPT;
    }
    if (a->message)
      sl_error_set(err, SL_HTTP, "resource '%s': %s", se->r->name, a->message);
    else
      sl_error_set(err, SL_HTTP, "resource '%s': HTTP %ld matched a fail action: %.300s",
                   se->r->name, pc->status, pc->buffered && pc->body.data ? pc->body.data : "");
    sl_error_http(err, sl_http_url(resp), (int)pc->status);
    return SL_HTTP_FAIL;
  }
  if (pc->buffered) {
    sl_error_set(err, SL_HTTP, "resource '%s': HTTP %ld: %.300s", se->r->name, pc->status,
                 pc->body.data ? pc->body.data : "");
    sl_error_http(err, sl_http_url(resp), (int)pc->status);
    return SL_HTTP_FAIL;
  }
  if (!pc->began) return SL_HTTP_ACCEPT; /* an empty body (204): an empty page */
  sl_error e;
  sl_error_clear(&e);
  sl_status st = sl_emit_stream_end(se->em, &e);
  if (st == SL_JSON_SYNTAX || st == SL_JSON_UTF8 || st == SL_JSON_DEPTH) {
    /* HTTP thought the body whole but the JSON stops short: a cut response. */
    SL_WARN("resource '%s': %s: %s; retrying", se->r->name, pc->url, e.msg);
    *err = e;
    return SL_HTTP_RETRY;
  }
  if (st) {
    *err = e;
    return SL_HTTP_FAIL;
  }
  return SL_HTTP_ACCEPT;
}

static void page_finished(pagectx *pc);

static void cb_done(void *ud, sl_status st, const sl_http_response *resp, const sl_error *err) {
  pagectx *pc = ud;
  pc->done = true;
  if (st && !pc->st) {
    pc->st = st;
    if (err) pc->err = *err;
    else sl_error_set(&pc->err, st, "request failed");
    if (!pc->err.url[0]) sl_error_http(&pc->err, pc->url, (int)pc->status);
    if (pc->failed_by && pc->failed_by->message)
      sl_error_prefix(&pc->err, "%s", pc->failed_by->message);
  }
  page_finished(pc);
}

/* ---- building requests ------------------------------------------------------------ */

static const char *var(series *se, const char *name) {
  for (size_t i = 0; i + 1 < se->nvars; i += 2)
    if (!strcmp(se->vars[i], name)) return se->vars[i + 1];
  return NULL;
}

static sl_status build_url(series *se, char **out, sl_error *err) {
  if (se->ps.next_url) {
    *out = strdup(se->ps.next_url);
    return *out ? SL_OK : sl_error_set(err, SL_NOMEM, "out of memory");
  }
  rest_resource *r = se->r;
  sl_buf u = {0}, t = {0}, tmp = {0};
  sl_status st = SL_OK;
  const char *path = se->path.data;
  if (!strncmp(path, "http://", 7) || !strncmp(path, "https://", 8)) {
    sl_buf_puts(&u, path);
  } else {
    const char *b = se->cl->base_url;
    size_t bl = strlen(b);
    while (bl && b[bl - 1] == '/') bl--;
    while (*path == '/') path++;
    sl_buf_append(&u, b, bl);
    if (*path) sl_buf_putc(&u, '/'), sl_buf_puts(&u, path);
  }
  char *url = sl_buf_steal(&u, NULL);
#define SETP(name, value)                                                         \
  do {                                                                            \
    char *nu = NULL;                                                              \
    if ((st = sl_url_set_param(url, (name), (value), &nu, err))) goto out;        \
    free(url);                                                                    \
    url = nu;                                                                     \
  } while (0)
  for (size_t i = 0; i < r->params->u.obj.len; i++) {
    const char *v = rest_scalar_text(r->params->u.obj.items[i].val, &tmp);
    if (!v) continue;
    if (strchr(v, '{')) {
      if ((st = rest_expand(v, se->vars, false, &t, err))) goto out;
      v = t.data;
    }
    SETP(r->params->u.obj.items[i].key, v);
  }
  for (size_t i = 0; i < r->nresolves; i++)
    if (r->resolves[i].in_query) SETP(r->resolves[i].name, var(se, r->resolves[i].name));
  if (se->start && r->inc.start_param) SETP(r->inc.start_param, se->start);
  if (se->start && r->inc_param) SETP(r->inc_param, se->start);
  if (se->end && r->inc.end_param) SETP(r->inc.end_param, se->end);
  rest_paginator *pg = &se->ps.pg;
  char num[32];
  switch (pg->type) {
    case PG_CURSOR:
      if (se->ps.cursor) SETP(pg->cursor_param, se->ps.cursor);
      break;
    case PG_OFFSET:
      snprintf(num, sizeof num, "%lld", (long long)se->ps.value);
      SETP(pg->offset_param, num);
      snprintf(num, sizeof num, "%lld", (long long)pg->limit);
      SETP(pg->limit_param, num);
      break;
    case PG_PAGE_NUMBER:
      snprintf(num, sizeof num, "%lld", (long long)se->ps.value);
      SETP(pg->page_param, num);
      break;
    default: break;
  }
#undef SETP
out:
  sl_buf_free(&t);
  sl_buf_free(&tmp);
  if (st) {
    free(url);
    return st;
  }
  *out = url;
  return SL_OK;
}

static void add_var(series *se, const char *name, const char *value) {
  const char **v = realloc(se->vars, (se->nvars + 3) * sizeof *v);
  if (!v) return;
  se->vars = v;
  v[se->nvars++] = strdup(name);
  v[se->nvars++] = strdup(value ? value : "");
  v[se->nvars] = NULL;
}

static void set_var(series *se, const char *name, const char *value) {
  for (size_t i = 0; i + 1 < se->nvars; i += 2)
    if (!strcmp(se->vars[i], name)) {
      free((char *)se->vars[i + 1]);
      se->vars[i + 1] = strdup(value ? value : "");
      return;
    }
  add_var(se, name, value);
}

static void series_free(series *se) {
  for (size_t i = 0; i < se->nvars; i++) free((char *)se->vars[i]);
  free(se->vars);
  sl_buf_free(&se->path);
  rest_pg_free(&se->ps);
  free(se->start);
  free(se->end);
  free(se->range_end);
  free(se->best);
  sl_buf_free(&se->hashes);
  sl_buf_free(&se->old_hashes);
  sl_buf_free(&se->inject);
}

static sl_value *put_obj(sl_doc *d, sl_value *o, const char *key) {
  sl_value *v = sl_v_get(o, key);
  if (v && v->type == SL_V_OBJECT) return v;
  v = sl_v_object(d);
  if (!v || sl_v_put(d, o, key, v)) return NULL;
  return v;
}

static sl_value *cursor_value(sl_doc *d, const char *text) {
  int64_t i;
  double f;
  size_t n = strlen(text);
  /* a JSON number: -?digits(.digits)?([eE][+-]?digits)? (a date 2024-01-31 is text) */
  size_t k = text[0] == '-';
  bool num = k < n && text[k] >= '0' && text[k] <= '9';
  while (k < n && text[k] >= '0' && text[k] <= '9') k++;
  if (num && k < n && text[k] == '.') {
    num = ++k < n && text[k] >= '0' && text[k] <= '9';
    while (k < n && text[k] >= '0' && text[k] <= '9') k++;
  }
  if (num && k < n && (text[k] == 'e' || text[k] == 'E')) {
    k++;
    if (k < n && (text[k] == '+' || text[k] == '-')) k++;
    num = k < n && text[k] >= '0' && text[k] <= '9';
    while (k < n && text[k] >= '0' && text[k] <= '9') k++;
  }
  num = num && k == n;
  if (num) {
    sl_numkind kd = sl_json_classify_number(text, n, &i, &f);
    if (kd == SL_NUM_INT64) return sl_v_int(d, i);
    return sl_v_number(d, text, n, f, kd);
  }
  return sl_v_string(d, text, n);
}

/* initial_value / end_value as text, {today-30d} filled in. */
static char *inc_value(const sl_value *v, sl_error *err) {
  sl_buf t = {0}, out = {0};
  const char *txt = rest_scalar_text(v, &t);
  char *res = NULL;
  if (txt && rest_expand(txt, NULL, false, &out, err) == SL_OK) res = sl_buf_steal(&out, NULL);
  sl_buf_free(&t);
  sl_buf_free(&out);
  return res;
}

static void set_str(char **slot, const char *v) {
  free(*slot);
  *slot = v ? strdup(v) : NULL;
}

/* The end of the window that starts at se->start: span_days days, both
 * ends counted, but not past the range's end. */
static void window_end(series *se) {
  sl_buf w = {0};
  rest_date_add(se->start, se->r->inc.span_days - 1, &w);
  set_str(&se->end, rest_cursor_cmp(w.data, se->range_end) < 0 ? w.data : se->range_end);
  sl_buf_free(&w);
}

/* The incremental range of this series, from state (or initial_value). */
static sl_status inc_setup(series *se, const char *parent_key, sl_error *err) {
  rest_resource *r = se->r;
  rest_incremental *inc = &r->inc;
  sl_doc *d = sl_emit_state_doc(se->em);
  sl_value *state = sl_emit_state(se->em);
  sl_buf t = {0};
  sl_status st = SL_OK;
  if (state && d) {
    sl_value *iv = put_obj(d, state, "incremental");
    sl_value *cur = iv ? put_obj(d, iv, inc->cursor_path ? inc->cursor_path : "range") : NULL;
    if (cur && parent_key) {
      sl_value *bp = put_obj(d, cur, "by_parent");
      cur = bp ? put_obj(d, bp, parent_key) : NULL;
    }
    se->inc_state = cur;
  }
  const char *last = rest_scalar_text(sl_v_get(se->inc_state, "last_value"), &t);
  if (last && !inc->cursor_path) {
    /* a date window: the next one starts the day after the last end (less lag) */
    sl_buf next = {0};
    rest_cursor_lag(last, strlen(last) == 10 ? inc->lag - 86400 : inc->lag, &next);
    se->start = strdup(next.data ? next.data : last);
    sl_buf_free(&next);
  } else if (last) {
    sl_buf lagged = {0};
    rest_cursor_lag(last, inc->lag, &lagged);
    se->start = strdup(lagged.data ? lagged.data : last);
    sl_buf_free(&lagged);
    const sl_value *hs = sl_v_get(se->inc_state, "unique_hashes");
    for (size_t i = 0; inc->lag == 0 && i < sl_v_len(hs); i++)
      sl_buf_printf(&se->old_hashes, "%s,", sl_v_str(sl_v_at(hs, i), ""));
    se->best = strdup(last);
    /* the boundary records already loaded stay known until a later value comes */
    if (se->old_hashes.len) sl_buf_append(&se->hashes, se->old_hashes.data, se->old_hashes.len);
  } else if (inc->initial_value) {
    se->start = inc_value(inc->initial_value, err);
  }
  if (inc->end_value) se->end = inc_value(inc->end_value, err);
  if (se->start && inc->lookback_days) {
    /* the API keeps N days: an older start (a long pause between runs) would be refused */
    sl_buf oldest = {0};
    char name[32];
    snprintf(name, sizeof name, "today-%lldd", (long long)inc->lookback_days);
    if (rest_relative_date(name, strlen(name), &oldest) &&
        rest_cursor_cmp(se->start, oldest.data) < 0) {
      SL_WARN("resource '%s': the range would start at %s, more than %lld days back "
              "(range_lookback_days): it starts at %s",
              r->name, se->start, (long long)inc->lookback_days, oldest.data);
      set_str(&se->start, oldest.data);
    }
    sl_buf_free(&oldest);
  }
  if (!inc->cursor_path && se->start && se->end && rest_cursor_cmp(se->start, se->end) > 0) {
    SL_INFO("resource '%s': up to date (the next range starts %s, after its end %s): no request",
            r->name, se->start, se->end);
    se->up_to_date = true;
  }
  if (inc->span_days && se->start && se->end && !se->up_to_date) {
    double a, b;
    if (strlen(se->start) != 10 || strlen(se->end) != 10 || !rest_parse_time(se->start, &a) ||
        !rest_parse_time(se->end, &b)) {
      st = sl_error_set(err, SL_CONFIG_INVALID,
                        "resource '%s': range_span_days needs dates (YYYY-MM-DD), not '%s' to "
                        "'%s'",
                        r->name, se->start, se->end);
      goto out;
    }
    se->range_end = strdup(se->end);
    window_end(se);
  }
  add_var(se, "incremental.start_value", se->start);
  add_var(se, "incremental.last_value", se->start);
  add_var(se, "incremental.end_value", se->end);
out:
  sl_buf_free(&t);
  return st;
}

static sl_status series_path(series *se, sl_error *err);

/* range_span_days: after a window's last page, the next window, if any
 * (*more); it pages from the start again. */
static sl_status next_window(series *se, bool *more, sl_error *err) {
  *more = false;
  if (!se->range_end || !se->end || rest_cursor_cmp(se->end, se->range_end) >= 0) return SL_OK;
  if (se->max_pages && se->pages >= se->max_pages) return SL_OK;
  sl_buf next = {0};
  rest_date_add(se->end, 1, &next);
  set_str(&se->start, next.data);
  sl_buf_free(&next);
  window_end(se);
  set_var(se, "incremental.start_value", se->start);
  set_var(se, "incremental.last_value", se->start);
  set_var(se, "incremental.end_value", se->end);
  SL_DEBUG("resource '%s': window %s to %s", se->r->name, se->start, se->end);
  rest_pg_free(&se->ps);
  rest_pg_init(&se->ps, &se->pg0);
  sl_buf_reset(&se->path);
  sl_status st = series_path(se, err);
  *more = st == SL_OK;
  return st;
}

static void inc_commit(series *se) {
  if (!se->r->inc.on || !se->inc_state) return;
  if (!se->r->inc.cursor_path && !se->up_to_date) {
    /* a date window: what was asked for is loaded */
    const char *asked = se->range_end ? se->range_end : se->end;
    if (asked) set_str(&se->best, asked);
    sl_buf_reset(&se->hashes);
  }
  if (!se->best) return;
  sl_doc *d = sl_emit_state_doc(se->em);
  sl_value *v = cursor_value(d, se->best);
  if (v) sl_v_put(d, se->inc_state, "last_value", v);
  sl_value *arr = sl_v_array(d);
  /* the boundary records' hashes: the next run skips them when it asks again from this value */
  const char *p = se->hashes.data;
  while (arr && p && *p) {
    const char *c = strchr(p, ',');
    if (!c) break;
    sl_v_push(d, arr, sl_v_string(d, p, (size_t)(c - p)));
    p = c + 1;
  }
  if (arr) sl_v_put(d, se->inc_state, "unique_hashes", arr);
}

/* The engine's figures since the last report, to the run's progress collector. */
static void report_http(rest_client *cl) {
  if (!cl->http) return;
  sl_http_stats now, *was = &cl->reported;
  sl_http_get_stats(cl->http, &now);
  sl_progress_http_stats d;
  memset(&d, 0, sizeof d);
  d.requests = now.requests - was->requests;
  d.attempts = now.attempts - was->attempts;
  d.retries = now.retries - was->retries;
  d.status_429 = now.status_429 - was->status_429;
  d.status_5xx = now.status_5xx - was->status_5xx;
  d.conn_errors = now.conn_errors - was->conn_errors;
  d.failed = now.failed - was->failed;
  d.bytes_in = now.bytes_in - was->bytes_in;
  d.slowest_s = now.slowest_s;
  snprintf(d.slowest_url, sizeof d.slowest_url, "%s", now.slowest_url);
  if (d.requests || d.attempts) sl_progress_http(sl_progress_current(), &d);
  *was = now;
}

static sl_status ensure_http(rest_client *cl, sl_error *err) {
  if (cl->http) return SL_OK;
  sl_http_opts o;
  sl_http_opts_init(&o);
  o.max_per_host = cl->max_per_host;
  if (cl->max_attempts) o.max_attempts = cl->max_attempts;
  if (cl->timeout_s) o.timeout_ms = (long)cl->timeout_s * 1000;
  if (cl->max_response_mb) o.max_body_bytes = (uint64_t)cl->max_response_mb << 20;
  cl->http = sl_http_new(&o, err);
  return cl->http ? SL_OK : (err->code ? err->code : SL_NOMEM);
}

/* ---- pages ------------------------------------------------------------------------- */

static void pagectx_free(pagectx *pc) {
  if (!pc) return;
  free(pc->url);
  free(pc->link_next);
  free(pc->hit);
  free(pc->best_page);
  sl_buf_free(&pc->page_hashes);
  sl_buf_free(&pc->body);
  sl_buf_free(&pc->tail);
  watch_free(&pc->w);
  free(pc);
}

/* Build and queue the next request of a series (the callbacks take it from there). */
static sl_status page_submit(series *se, sl_error *err) {
  rest_resource *r = se->r;
  rest_client *cl = se->cl;
  pagectx *pc = calloc(1, sizeof *pc);
  if (!pc) return sl_error_set(err, SL_NOMEM, "out of memory");
  pc->se = se;
  pc->hit = calloc(r->nactions + 1, sizeof *pc->hit);
  sl_json_options jo = {.name = "envelope"};
  pc->w.p = sl_json_parser_new(&jo, watch_event, &pc->w);
  if (!pc->hit || !pc->w.p) {
    pagectx_free(pc);
    return sl_error_set(err, SL_NOMEM, "out of memory");
  }
  rest_paginator *p = &se->ps.pg;
  if (p->type == PG_AUTO) {
    for (size_t i = 0; auto_next[i]; i++) watch_add(&pc->w, auto_next[i]);
    for (size_t i = 0; auto_cursor[i]; i += 2) watch_add(&pc->w, auto_cursor[i]);
    for (size_t i = 0; auto_total[i]; i++) watch_add(&pc->w, auto_total[i]);
  } else if (p->type == PG_JSON_LINK) {
    watch_add(&pc->w, p->next_url_path);
  } else if (p->type == PG_CURSOR) {
    watch_add(&pc->w, p->cursor_path);
  } else if (p->type == PG_OFFSET || p->type == PG_PAGE_NUMBER) {
    watch_add(&pc->w, p->total_path);
  }
  pc->records_before = sl_emit_count(se->em);
  sl_status st;
  if ((st = build_url(se, &pc->url, err))) {
    pagectx_free(pc);
    return st;
  }
  /* headers: client's, the endpoint's (placeholders filled), Accept */
  const char *hdrs[64];
  size_t nh = 0;
  sl_buf hb[32];
  memset(hb, 0, sizeof hb);
  size_t nhb = 0;
  sl_buf body = {0};
  hdrs[nh++] = "Accept: application/json";
  for (size_t i = 0; cl->headers && cl->headers[i] && nh < 40; i++) hdrs[nh++] = cl->headers[i];
  for (size_t i = 0; r->headers && r->headers[i] && nh < 60 && nhb < 32; i++) {
    if (strchr(r->headers[i], '{')) {
      if ((st = rest_expand(r->headers[i], se->vars, false, &hb[nhb], err))) goto out;
      hdrs[nh++] = hb[nhb++].data;
    } else {
      hdrs[nh++] = r->headers[i];
    }
  }
  if (r->json) {
    sl_buf raw = {0};
    sl_v_to_json(r->json, &raw, 0);
    /* values go into JSON strings: escape them */
    const char **ev = calloc(se->nvars + 1, sizeof *ev);
    sl_buf *esc = calloc(se->nvars / 2 + 1, sizeof *esc);
    for (size_t i = 0; ev && esc && i + 1 < se->nvars; i += 2) {
      sl_json_write_string(&esc[i / 2], se->vars[i + 1], strlen(se->vars[i + 1]));
      esc[i / 2].data[esc[i / 2].len - 1] = '\0';
      ev[i] = se->vars[i];
      ev[i + 1] = esc[i / 2].data + 1;
    }
    st = rest_expand(raw.data, ev, false, &body, err);
    for (size_t i = 0; esc && i < se->nvars / 2; i++) sl_buf_free(&esc[i]);
    free(esc);
    free(ev);
    sl_buf_free(&raw);
    if (st) goto out;
    hdrs[nh++] = "Content-Type: application/json";
  }
  hdrs[nh] = NULL;
  sl_http_request req = {.method = r->method, .url = pc->url, .headers = hdrs,
                         .body = r->json ? body.data : NULL, .body_len = body.len,
                         .label = r->name};
  sl_http_callbacks cb = {cb_prepare, cb_head, cb_body, cb_complete, cb_rewind, cb_done};
  SL_DEBUG("resource '%s': %s %s", r->name, r->method, pc->url);
  se->cur = pc;
  sl__emit_set_hook(se->em, (r->inc.on || se->inject.len) ? record_hook : NULL, se);
  st = sl_http_submit(cl->http, &req, &cb, pc, err);
  if (st) se->cur = NULL;
out:
  sl_buf_free(&body);
  for (size_t i = 0; i < nhb; i++) sl_buf_free(&hb[i]);
  if (st) pagectx_free(pc);
  return st;
}

static void runner_series_done(struct runner *run, series *se);

/* A page is done (accepted, ignored or failed): read the paginator's facts,
 * then (async) ask for the next page or end the series. */
static void page_finished(pagectx *pc) {
  series *se = pc->se;
  rest_resource *r = se->r;
  rest_paginator *p = &se->ps.pg;
  sl_error *err = &se->err;
  sl_status st = pc->st;
  if (st) *err = pc->err;
  rest_page_facts f;
  memset(&f, 0, sizeof f);
  f.records = sl_emit_count(se->em) - pc->records_before;
  char *next_abs = NULL;
  if (!st && !pc->ignored) {
    if (p->type == PG_AUTO) {
      for (size_t i = 0; auto_next[i] && !f.next_present; i++) {
        slot *s = watch_get(&pc->w, auto_next[i]);
        if (s && s->present) {
          f.next_present = true;
          f.next_url = s->null || !s->val.len ? NULL : s->val.data;
          p->next_url_path = auto_next[i];
        }
      }
      for (size_t i = 0; auto_cursor[i] && !f.cursor_present; i += 2) {
        slot *s = watch_get(&pc->w, auto_cursor[i]);
        if (s && s->present) {
          f.cursor_present = true;
          f.cursor = s->null || !s->val.len ? NULL : s->val.data;
          p->cursor_path = auto_cursor[i];
          p->cursor_param = auto_cursor[i + 1];
        }
      }
      for (size_t i = 0; auto_total[i] && !f.has_total; i++) {
        slot *s = watch_get(&pc->w, auto_total[i]);
        if (s && s->present && !s->null && s->val.len) {
          f.has_total = true;
          f.total = strtoll(s->val.data, NULL, 10);
          p->total_path = auto_total[i];
        }
      }
      /* a next that is not a link (a bare page number, "true") is no json_link */
      if (f.next_url && !strchr(f.next_url, '/') && !strchr(f.next_url, '?')) {
        f.next_url = NULL;
        f.next_present = false;
      }
    } else {
      slot *s = watch_get(&pc->w, p->type == PG_JSON_LINK ? p->next_url_path
                                  : p->type == PG_CURSOR  ? p->cursor_path
                                                          : p->total_path);
      if (s && s->present) {
        f.next_present = f.cursor_present = true;
        const char *v = s->null || !s->val.len ? NULL : s->val.data;
        f.next_url = f.cursor = v;
        if (v && (p->type == PG_OFFSET || p->type == PG_PAGE_NUMBER)) {
          f.has_total = true;
          f.total = strtoll(v, NULL, 10);
        }
      }
    }
    if (f.next_url) {
      sl_error e;
      if (sl_url_resolve(pc->url, f.next_url, &next_abs, &e) == SL_OK) f.next_url = next_abs;
    }
    se->pages++;
    sl_progress *prog = sl_progress_current();
    sl_progress_page(prog, r->name, pc->body_bytes);
    sl_progress_items(prog, r->name, f.records, 0);
    if (pc->best_page) {
      if (!se->best || rest_cursor_cmp(pc->best_page, se->best) * (r->inc.min ? -1 : 1) > 0) {
        free(se->best);
        se->best = strdup(pc->best_page);
        sl_buf_reset(&se->hashes);
      }
      if (!strcmp(se->best, pc->best_page) && pc->page_hashes.data)
        sl_buf_puts(&se->hashes, pc->page_hashes.data);
    }
    st = rest_pg_advance(&se->ps, &f, pc->link_next, err);
    if (se->max_pages && se->pages >= se->max_pages) se->ps.done = true;
  } else if (!st) {
    se->ps.done = true; /* ignored: the series ends here */
  }
  if (st && !err->url[0]) sl_error_http(err, pc->url, (int)pc->status);
  if (st) sl_error_prefix(err, "resource '%s'", r->name);
  free(next_abs);
  se->cur = NULL;
  pagectx_free(pc);
  se->st = st;
  if (!se->run) return; /* sync: the caller's loop goes on */
  bool more;
  if (!st && se->ps.done) st = next_window(se, &more, err);
  if (!st && !se->ps.done && (st = page_submit(se, err)) == SL_OK) return;
  se->st = st;
  se->finished = true;
  if (!st) inc_commit(se);
  sl__emit_set_hook(se->em, NULL, NULL);
  runner_series_done(se->run, se);
}

/* The path with the parent's values and the range filled in; path values
 * are path segments: encoded. */
static sl_status series_path(series *se, sl_error *err) {
  const char **ev = calloc(se->nvars + 1, sizeof *ev);
  char **keep = calloc(se->nvars / 2 + 1, sizeof *keep);
  sl_buf enc = {0};
  for (size_t i = 0; ev && keep && i + 1 < se->nvars; i += 2) {
    sl_buf_reset(&enc);
    sl_url_encode(&enc, se->vars[i + 1], strlen(se->vars[i + 1]));
    keep[i / 2] = strdup(enc.data ? enc.data : "");
    ev[i] = se->vars[i];
    ev[i + 1] = keep[i / 2];
  }
  sl_status st = ev && keep ? rest_expand(se->r->path, ev, false, &se->path, err)
                            : sl_error_set(err, SL_NOMEM, "out of memory");
  for (size_t i = 0; keep && i < se->nvars / 2; i++) free(keep[i]);
  free(keep);
  free(ev);
  sl_buf_free(&enc);
  return st;
}

/* ---- series ------------------------------------------------------------------------- */

static sl_status series_setup(series *se, rest_resource *r, sl_emitter *em,
                              const sl_value *parent, sl_error *err) {
  rest_client *cl = r->client;
  memset(se, 0, sizeof *se);
  se->r = r;
  se->cl = cl;
  se->em = em;
  sl_buf t = {0}, key = {0};
  sl_status st = SL_OK;
  /* a parent whose skip_null field is null or missing gets no request series
   * (a nullable link: an integration without an external business id) */
  for (size_t i = 0; i < r->nresolves; i++) {
    const sl_value *fv = sl_v_path(parent, r->resolves[i].field);
    if (r->resolves[i].skip_null && (!fv || fv->type == SL_V_NULL)) {
      se->skipped = r->resolves[i].field;
      se->ps.done = true;
      goto out;
    }
  }
  /* resolved values from the parent record */
  for (size_t i = 0; i < r->nresolves; i++) {
    const sl_value *fv = sl_v_path(parent, r->resolves[i].field);
    const char *txt = rest_scalar_text(fv, &t);
    if (!txt) {
      st = sl_error_set(err, SL_SOURCE,
                        "resource '%s': the parent '%s' record has no usable field '%s'", r->name,
                        r->parent, r->resolves[i].field);
      goto out;
    }
    add_var(se, r->resolves[i].name, txt);
    sl_buf_printf(&key, "%s%s", i ? "|" : "", txt);
  }
  for (size_t i = 0; r->include_from_parent && r->include_from_parent[i]; i++) {
    const char *f = r->include_from_parent[i];
    const sl_value *fv = sl_v_path(parent, f);
    if (!fv) continue;
    char name[300];
    snprintf(name, sizeof name, "_%s_%s", r->parent, f);
    for (char *q = name; *q; q++)
      if (*q == '.') *q = '_';
    sl_json_write_string(&se->inject, name, strlen(name));
    sl_buf_putc(&se->inject, ':');
    sl_v_to_json(fv, &se->inject, 0);
    sl_buf_putc(&se->inject, ',');
  }
  if (r->inc.on && (st = inc_setup(se, r->parent ? (key.data ? key.data : "") : NULL, err)))
    goto out;
  if ((st = series_path(se, err))) goto out;
  rest_paginator pg;
  if (r->has_pg) pg = r->pg;
  else if (cl->has_pg) pg = cl->pg;
  else {
    memset(&pg, 0, sizeof pg);
    pg.type = PG_AUTO;
    pg.stop_after_empty_page = true;
  }
  se->pg0 = pg;
  rest_pg_init(&se->ps, &pg);
  if (se->up_to_date) se->ps.done = true;
  const sl__extract_opts *o = sl__emit_opts(em);
  /* --limit and the endpoint's own limit: the smaller wins */
  se->max_pages = o && o->limit > 0 ? o->limit : 0;
  if (r->limit > 0 && (!se->max_pages || r->limit < se->max_pages)) se->max_pages = r->limit;
  se->children = sl__emit_has_children(em);
  sl__emit_defer_children(em, se->children);
out:
  sl_buf_free(&t);
  sl_buf_free(&key);
  return st;
}

/* ---- child batches: one series per parent record, all in one multi loop --------------- */

#define MAX_ACTIVE_SERIES 64

typedef struct runner {
  series *all;
  size_t n, next, active;
  /* child batches: series are set up when they start, on an emitter fork
   * from the pool (a fork returns to it when its series ends, so a batch
   * writes at most MAX_ACTIVE_SERIES extract files, not one per parent) */
  sl_emitter *owner;
  rest_resource *r;
  sl_doc **recs;
  sl_emitter **pool;
  size_t npool, nforks;
  sl_emitter **forks; /* every fork made, to join at the end */
  size_t nskipped;    /* parents without a skip_null field: no series */
  const char *skipped_field;
} runner;

static void runner_start_more(runner *run) {
  while (run->next < run->n && run->active < MAX_ACTIVE_SERIES) {
    size_t k = run->next++;
    series *se = &run->all[k];
    if (run->owner) {
      sl_emitter *fork;
      if (run->npool) {
        fork = run->pool[--run->npool];
      } else if ((fork = sl__emit_fork(run->owner))) {
        run->forks[run->nforks++] = fork; /* at most MAX_ACTIVE_SERIES: the pool was empty */
      } else {
        se->st = sl_error_set(&se->err, SL_NOMEM, "out of memory");
        se->finished = true;
        continue;
      }
      sl_status st = series_setup(se, run->r, fork, run->recs[k]->root, &se->err);
      se->run = run;
      if (st || se->skipped || se->up_to_date) {
        se->st = st;
        se->finished = true;
        run->pool[run->npool++] = fork;
        if (!st && se->skipped && !run->nskipped++) run->skipped_field = se->skipped;
        continue;
      }
    }
    if (se->finished) continue;
    run->active++;
    sl_status st = page_submit(se, &se->err);
    if (st) {
      se->st = st;
      se->finished = true;
      run->active--;
      if (run->owner) run->pool[run->npool++] = se->em;
    }
  }
}

static void runner_series_done(runner *run, series *se) {
  run->active--;
  if (run->owner) run->pool[run->npool++] = se->em;
  runner_start_more(run);
}

static sl_status rest_run_children(sl_emitter *em, sl_error *err);

/* Every record of recs (parents) gets its request series for child c. */
static sl_status run_batch(sl_emitter *c, sl_doc **recs, size_t n, sl_error *err) {
  const sl_resource *cr = sl__emit_resource(c);
  rest_resource *r = cr->ud;
  sl_status st = ensure_http(r->client, err);
  if (st) return st;
  runner run = {.all = calloc(n ? n : 1, sizeof(series)), .n = n, .owner = c, .r = r,
                .recs = recs, .pool = calloc(MAX_ACTIVE_SERIES + 1, sizeof(sl_emitter *)),
                .forks = calloc(MAX_ACTIVE_SERIES + 1, sizeof(sl_emitter *))};
  if (!run.all || !run.pool || !run.forks) {
    free(run.all);
    free(run.pool);
    free(run.forks);
    return sl_error_set(err, SL_NOMEM, "out of memory");
  }
  runner_start_more(&run);
  st = sl_http_run(r->client->http, err);
  if (run.nskipped)
    SL_INFO("resource '%s': %zu of %zu '%s' records have no '%s' (null or missing): no request "
            "for them (skip_null)",
            r->name, run.nskipped, n, r->parent, run.skipped_field);
  /* The first failing series (in parent order) names the error. */
  for (size_t i = 0; i < run.n; i++) {
    series *se = &run.all[i];
    if (!st && se->st) {
      *err = se->err;
      st = se->st;
    }
    series_free(se);
  }
  for (size_t i = 0; i < run.nforks; i++) {
    sl_error je;
    sl_error_clear(&je);
    sl_status js = sl__emit_join(c, run.forks[i], &je);
    if (!st && js) {
      *err = je;
      st = js;
    }
  }
  free(run.all);
  free(run.pool);
  free(run.forks);
  if (!st) st = rest_run_children(c, err);
  return st;
}

/* The records a page delivered go to every child resource: REST children as
 * concurrent request series, other kinds one record at a time. */
static sl_status rest_run_children(sl_emitter *em, sl_error *err) {
  sl_buf q = sl__emit_take_deferred(em);
  if (!q.len) {
    sl_buf_free(&q);
    return SL_OK;
  }
  sl_status st = SL_OK;
  size_t n = 0, cap = 0;
  sl_doc **recs = NULL;
  char *p = q.data, *end = q.data + q.len;
  while (!st && p < end) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      sl_doc **nr = realloc(recs, cap * sizeof *nr);
      if (!nr) {
        st = sl_error_set(err, SL_NOMEM, "out of memory");
        break;
      }
      recs = nr;
    }
    if (!(recs[n] = sl_json_parse_doc(p, len, "record", err))) {
      st = err->code ? err->code : SL_JSON_SYNTAX;
      break;
    }
    n++;
    p += len + 1;
  }
  sl_buf_free(&q);
  for (size_t i = 0; !st && i < sl__emit_nchildren(em); i++) {
    sl_emitter *c = sl__emit_child(em, i);
    if (sl__emit_resource(c)->fn == rest_resource_run) {
      st = run_batch(c, recs, n, err);
    } else {
      for (size_t k = 0; !st && k < n; k++) st = sl__emit_run_child(c, recs[k]->root, err);
    }
  }
  for (size_t k = 0; k < n; k++) sl_doc_free(recs[k]);
  free(recs);
  return st;
}

/* ---- the resource function --------------------------------------------------------- */

sl_status rest_resource_run(sl_emitter *em, const sl_value *parent, void *ud, sl_error *err) {
  rest_resource *r = ud;
  rest_client *cl = r->client;
  sl_status st = ensure_http(cl, err);
  if (st) return st;
  series se;
  if ((st = series_setup(&se, r, em, parent, err)) || se.skipped) {
    if (se.skipped)
      SL_INFO("resource '%s': the '%s' record has no '%s' (null or missing): no request for it "
              "(skip_null)",
              r->name, r->parent, se.skipped);
    series_free(&se);
    return st;
  }
  /* Pages of this series one after the other; after each, its records'
   * children run (concurrently) before the next page is asked for. */
  while (!st && !se.ps.done) {
    if ((st = page_submit(&se, err))) break;
    if ((st = sl_http_run(cl->http, err))) break;
    if (se.st) {
      *err = se.err;
      st = se.st;
      break;
    }
    if (se.children) st = rest_run_children(em, err);
    bool more;
    if (!st && se.ps.done) st = next_window(&se, &more, err);
  }
  if (!st) inc_commit(&se);
  sl__emit_set_hook(em, NULL, NULL);
  sl__emit_defer_children(em, false);
  SL_DEBUG("resource '%s': %lld pages", r->name, (long long)se.pages);
  if (!r->parent) report_http(cl);
  series_free(&se);
  return st;
}

/* Top-level REST resources without children run at once: one series each,
 * all in one multi loop per client (a resource with children runs alone,
 * page by page, so that its records are handed to the children as it goes). */
sl_status sl__rest_run_together(sl_emitter **ems, size_t n, bool *done, sl_error *err) {
  series *all = calloc(n, sizeof *all);
  bool *taken = calloc(n, sizeof *taken);
  sl_status st = all && taken ? SL_OK : sl_error_set(err, SL_NOMEM, "out of memory");
  for (size_t i = 0; i < n && !st; i++) {
    if (taken[i] || sl__emit_has_children(ems[i])) continue;
    rest_client *cl = ((rest_resource *)sl__emit_resource(ems[i])->ud)->client;
    if ((st = ensure_http(cl, err))) break;
    runner run = {.all = all, .n = 0};
    size_t idx[n];
    size_t m = 0;
    for (size_t j = i; j < n && !st; j++) {
      rest_resource *r = sl__emit_resource(ems[j])->ud;
      if (taken[j] || r->client != cl || sl__emit_has_children(ems[j])) continue;
      taken[j] = true;
      series *se = &all[m];
      st = series_setup(se, r, ems[j], NULL, err);
      se->run = &run;
      idx[m++] = j;
      if (st || se->skipped || se->up_to_date) se->finished = true;
    }
    run.n = m;
    if (!st) {
      SL_DEBUG("extract: %zu REST resources at once", m);
      runner_start_more(&run);
      st = sl_http_run(cl->http, err);
    }
    for (size_t k = 0; k < m; k++) {
      series *se = &all[k];
      if (!st && se->st) {
        *err = se->err;
        st = se->st;
      }
      sl__emit_set_hook(se->em, NULL, NULL);
      if (!st) done[idx[k]] = true;
      series_free(se);
      memset(se, 0, sizeof *se);
    }
    report_http(cl);
  }
  free(all);
  free(taken);
  return st;
}
