/* The show page server (sluice/show.h) on libmicrohttpd. */
#define _GNU_SOURCE
#include "sluice/show.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/log.h"
#include "sluice/ops.h"
#include "show/page.h"

#define MAX_RESULT ((size_t)16 << 20)
#define MAX_PAGE 1000

struct sl_show {
  struct MHD_Daemon *d;
  sl_pipeline *p;
  pthread_mutex_t mu;
  unsigned port;
};

static void jstr(sl_buf *b, const char *s) {
  sl_buf_putc(b, '"');
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') sl_buf_printf(b, "\\%c", c);
    else if (c == '\n') sl_buf_puts(b, "\\n");
    else if (c < 0x20) sl_buf_printf(b, "\\u%04x", c);
    else if (c == '<') sl_buf_puts(b, "\\u003c"); /* never "</script>" in any context */
    else sl_buf_putc(b, (char)c);
  }
  sl_buf_putc(b, '"');
}

/* JSON lines into a JSON array. */
static void lines_to_array(sl_buf *b, const char *lines) {
  sl_buf_putc(b, '[');
  bool first = true;
  for (const char *s = lines ? lines : ""; *s;) {
    const char *e = strchr(s, '\n');
    size_t l = e ? (size_t)(e - s) : strlen(s);
    if (l) {
      if (!first) sl_buf_putc(b, ',');
      sl_buf_append(b, s, l);
      first = false;
    }
    s += l + (e ? 1 : 0);
  }
  sl_buf_putc(b, ']');
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             const char *body, size_t len) {
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", type);
  MHD_add_response_header(r, "Cache-Control", "no-store");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
  MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(r, "Content-Security-Policy",
                          "default-src 'none'; script-src 'unsafe-inline'; style-src "
                          "'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'");
  enum MHD_Result ret = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned code, const char *msg) {
  sl_buf b = {0};
  sl_buf_puts(&b, "{\"error\":");
  jstr(&b, msg);
  sl_buf_puts(&b, "}\n");
  enum MHD_Result r = reply(c, code, "application/json; charset=utf-8", b.data, b.len);
  sl_buf_free(&b);
  return r;
}

static enum MHD_Result reply_err(struct MHD_Connection *c, const sl_error *e) {
  char line[2048];
  sl_error_format(e, line, sizeof line);
  unsigned code = e->code == SL_NOT_FOUND ? 404 : e->code == SL_INVALID_ARG ? 400 : 500;
  if (e->code == SL_DESTINATION || e->code == SL_LOCKED) code = e->code == SL_LOCKED ? 503 : 400;
  return reply_error(c, code, line);
}

static bool host_ok(struct MHD_Connection *c, unsigned port) {
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
  if (!h) return true; /* HTTP/1.0 */
  char a[64], b[64], d[64];
  snprintf(a, sizeof a, "127.0.0.1:%u", port);
  snprintf(b, sizeof b, "localhost:%u", port);
  snprintf(d, sizeof d, "[::1]:%u", port);
  return !strcmp(h, a) || !strcmp(h, b) || !strcmp(h, d) || !strcmp(h, "127.0.0.1") ||
         !strcmp(h, "localhost");
}

/* A browser says where an API request comes from: a page on another site
 * (<img src=http://127.0.0.1:PORT/api/query?...>, fetch, a form) gets a
 * Sec-Fetch-Site other than same-origin/none, or an Origin that is not ours.
 * True (and why in `why`) when the request is to be refused. Clients that send
 * neither header (curl, scripts) are not browsers and pass. */
static bool cross_site(struct MHD_Connection *c, unsigned port, char *why, size_t n) {
  const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
  if (site && strcasecmp(site, "same-origin") && strcasecmp(site, "none")) {
    snprintf(why, n,
             "cross-site request refused (Sec-Fetch-Site: %.40s): the show API answers only "
             "its own page, http://127.0.0.1:%u/",
             site, port);
    return true;
  }
  const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
  if (origin) {
    char a[64], b[64];
    snprintf(a, sizeof a, "http://127.0.0.1:%u", port);
    snprintf(b, sizeof b, "http://localhost:%u", port);
    if (strcasecmp(origin, a) && strcasecmp(origin, b)) {
      snprintf(why, n,
               "cross-origin request refused (Origin: %.80s): the show API answers only its "
               "own page, http://127.0.0.1:%u/",
               origin, port);
      return true;
    }
  }
  return false;
}

static bool table_known(const sl_pipeline *p, const char *name) {
  const sl_schema *s = sl_pipeline_schema(p);
  for (size_t i = 0; s && i < s->ntables; i++)
    if (!strcmp(s->tables[i]->name, name)) return true;
  return false;
}

static void quote_ident(sl_buf *b, const char *name) {
  sl_buf_putc(b, '"');
  for (; *name; name++) {
    if (*name == '"') sl_buf_putc(b, '"');
    sl_buf_putc(b, *name);
  }
  sl_buf_putc(b, '"');
}

static long num_arg(struct MHD_Connection *c, const char *key, long dflt, long max) {
  const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
  if (!v || !*v) return dflt;
  char *end;
  long n = strtol(v, &end, 10);
  if (*end || n < 0) return dflt;
  return n > max ? max : n;
}

static enum MHD_Result api_table(sl_show *s, struct MHD_Connection *c) {
  const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "name");
  if (!name || !*name) return reply_error(c, 400, "give the table: ?name=TABLE");
  if (!table_known(s->p, name)) {
    sl_buf m = {0};
    sl_buf_printf(&m, "no table '%s' in the schema of pipeline %s", name, sl_pipeline_name(s->p));
    enum MHD_Result r = reply_error(c, 404, m.data);
    sl_buf_free(&m);
    return r;
  }
  long offset = num_arg(c, "offset", 0, 1L << 40), limit = num_arg(c, "limit", 20, MAX_PAGE);
  sl_buf sql = {0}, rows = {0}, cnt = {0}, out = {0};
  sl_error err;
  sl_error_clear(&err);
  sl_buf_puts(&sql, "SELECT count(*) AS n FROM ");
  quote_ident(&sql, name);
  rows.max = MAX_RESULT;
  sl_status st = sl_pipeline_query(s->p, sql.data, SL_QF_JSON, &cnt, &err);
  if (!st) {
    sl_buf_reset(&sql);
    sl_buf_puts(&sql, "SELECT * FROM ");
    quote_ident(&sql, name);
    sl_buf_printf(&sql, " ORDER BY rowid LIMIT %ld OFFSET %ld", limit, offset);
    st = sl_pipeline_query(s->p, sql.data, SL_QF_JSON, &rows, &err);
  }
  enum MHD_Result r;
  if (st) {
    r = reply_err(c, &err);
  } else {
    const char *n = cnt.data ? strstr(cnt.data, "\"n\":") : NULL;
    long long total = n ? strtoll(n + 4, NULL, 10) : 0;
    sl_buf_puts(&out, "{\"table\":");
    jstr(&out, name);
    sl_buf_printf(&out, ",\"offset\":%ld,\"limit\":%ld,\"total\":%lld,\"columns\":[", offset, limit,
                  total);
    const sl_schema *sc = sl_pipeline_schema(s->p);
    bool first = true;
    for (size_t i = 0; sc && i < sc->ntables; i++) {
      const sl_table *t = sc->tables[i];
      if (strcmp(t->name, name)) continue;
      for (size_t k = 0; k < t->ncolumns; k++) {
        if (t->columns[k].incomplete) continue;
        if (!first) sl_buf_putc(&out, ',');
        first = false;
        jstr(&out, t->columns[k].name);
      }
    }
    sl_buf_puts(&out, "],\"rows\":");
    lines_to_array(&out, rows.data);
    sl_buf_puts(&out, "}\n");
    r = reply(c, 200, "application/json; charset=utf-8", out.data, out.len);
  }
  sl_buf_free(&sql);
  sl_buf_free(&rows);
  sl_buf_free(&cnt);
  sl_buf_free(&out);
  return r;
}

static enum MHD_Result api_query(sl_show *s, struct MHD_Connection *c) {
  const char *sql = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sql");
  if (!sql || !*sql) return reply_error(c, 400, "give the SQL: ?sql=SELECT …");
  sl_buf rows = {0}, out = {0};
  rows.max = MAX_RESULT;
  sl_error err;
  sl_error_clear(&err);
  sl_status st = sl_pipeline_query(s->p, sql, SL_QF_JSON, &rows, &err);
  enum MHD_Result r;
  if (st) {
    if (st == SL_TOO_LARGE)
      r = reply_error(c, 400, "the result is larger than 16 MB: add a LIMIT");
    else
      r = reply_err(c, &err);
  } else {
    sl_buf_puts(&out, "{\"rows\":");
    lines_to_array(&out, rows.data);
    sl_buf_puts(&out, "}\n");
    r = reply(c, 200, "application/json; charset=utf-8", out.data, out.len);
  }
  sl_buf_free(&rows);
  sl_buf_free(&out);
  return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
  (void)version;
  (void)upload;
  sl_show *s = cls;
  /* Anything but GET/HEAD is refused on the first call, before its body. */
  if (strcmp(method, "GET") && strcmp(method, "HEAD"))
    return reply_error(c, 405, "read-only: only GET is served");
  if (!*con_cls) { /* first call: headers only */
    *con_cls = s;
    return MHD_YES;
  }
  if (*upload_size) return reply_error(c, 405, "read-only: no request bodies");
  if (!host_ok(c, s->port)) return reply_error(c, 403, "wrong Host: open http://127.0.0.1:PORT/");
  SL_DEBUG("show: GET %s", url);
  if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
    return reply(c, 200, "text/html; charset=utf-8", SL_SHOW_PAGE, sizeof SL_SHOW_PAGE - 1);
  /* the page may be opened from anywhere (a link); what it reads may not */
  char why[256];
  if (cross_site(c, s->port, why, sizeof why)) return reply_error(c, 403, why);
  pthread_mutex_lock(&s->mu);
  enum MHD_Result r;
  sl_error err;
  sl_error_clear(&err);
  sl_buf out = {0};
  if (!strcmp(url, "/api/overview")) {
    if (sl_pipeline_info_json(s->p, &out, &err)) r = reply_err(c, &err);
    else r = reply(c, 200, "application/json; charset=utf-8", out.data, out.len);
  } else if (!strcmp(url, "/api/traces")) {
    if (sl_pipeline_traces_json(s->p, &out, &err)) r = reply_err(c, &err);
    else r = reply(c, 200, "application/json; charset=utf-8", out.data, out.len);
  } else if (!strcmp(url, "/api/table")) {
    r = api_table(s, c);
  } else if (!strcmp(url, "/api/query")) {
    r = api_query(s, c);
  } else {
    r = reply_error(c, 404, "no such page");
  }
  sl_buf_free(&out);
  pthread_mutex_unlock(&s->mu);
  return r;
}

sl_show *sl_show_start(sl_pipeline *p, unsigned port, sl_error *err) {
  if (port > 65535) {
    sl_error_set(err, SL_INVALID_ARG, "port %u is not a TCP port", port);
    return NULL;
  }
  sl_show *s = calloc(1, sizeof *s);
  if (!s) {
    sl_error_set(err, SL_NOMEM, "out of memory");
    return NULL;
  }
  s->p = p;
  pthread_mutex_init(&s->mu, NULL);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, (uint16_t)port, NULL,
                          NULL, handle, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                          MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                          MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
  if (!s->d) {
    sl_error_set(err, SL_IO, "cannot serve on 127.0.0.1:%u (is the port taken?)", port);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return NULL;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info ? info->port : port;
  return s;
}

unsigned sl_show_port(const sl_show *s) { return s ? s->port : 0; }

void sl_show_stop(sl_show *s) {
  if (!s) return;
  MHD_stop_daemon(s->d);
  pthread_mutex_destroy(&s->mu);
  free(s);
}
