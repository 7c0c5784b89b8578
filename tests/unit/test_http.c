/* test_http.c — the HTTP engine against a real local server
 * (tests/servers/generic_api.py, started here on a free port with fault
 * flags), plus the URL, Link and Retry-After helpers. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http/http_int.h"
#include "sluice/http.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "test.h"

/* ---- a test server ------------------------------------------------------------- */

typedef struct server {
  pid_t pid;
  int port;
  char base[64];
} server;

/* Start generic_api.py with extra flags (NULL-terminated); false on failure. */
static bool server_start(server *s, const char *const *flags) {
  char portfile[128];
  snprintf(portfile, sizeof portfile, "/tmp/sl_test_http_%d_%ld.port", (int)getpid(),
           (long)time(NULL) ^ (long)(intptr_t)s);
  unlink(portfile);
  const char *argv[40];
  int n = 0;
  static char script[1024];
  snprintf(script, sizeof script, "%s/tests/servers/generic_api.py", SL_SOURCE_DIR);
  argv[n++] = "python3";
  argv[n++] = script;
  argv[n++] = "--port";
  argv[n++] = "0";
  argv[n++] = "--port-file";
  argv[n++] = portfile;
  for (const char *const *f = flags; f && *f && n < 38; f++) argv[n++] = *f;
  argv[n] = NULL;
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    FILE *nul = freopen("/dev/null", "w", stdout);
    (void)nul;
    execvp("python3", (char *const *)argv);
    _exit(127);
  }
  s->pid = pid;
  for (int i = 0; i < 200; i++) { /* up to 10 s */
    FILE *f = fopen(portfile, "r");
    if (f) {
      int port = 0;
      int ok = fscanf(f, "%d", &port);
      fclose(f);
      if (ok == 1 && port > 0) {
        s->port = port;
        snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", port);
        return true;
      }
    }
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return false;
}

static void server_stop(server *s) {
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
  }
}

/* One plain server (no faults, 3,000 items) shared by the tests that need
 * nothing special; stopped at exit. */
static server shared_srv;
static void shared_stop(void) { server_stop(&shared_srv); }
static bool plain_server(server *s) {
  if (!shared_srv.pid) {
    const char *flags[] = {"--items", "3000", NULL};
    if (!server_start(&shared_srv, flags)) return false;
    atexit(shared_stop);
  }
  *s = shared_srv;
  s->pid = 0; /* server_stop on the copy is a no-op */
  return true;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The served bytes of a GET, read by hand over a plain socket (HTTP/1.0, no
 * compression): what the engine must reproduce. */
static bool raw_get(int port, const char *path, sl_buf *body) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return false;
  }
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
  if (write(fd, req, (size_t)n) != n) {
    close(fd);
    return false;
  }
  sl_buf all = {0};
  char buf[8192];
  ssize_t k;
  while ((k = read(fd, buf, sizeof buf)) > 0) sl_buf_append(&all, buf, (size_t)k);
  close(fd);
  const char *sep = all.data ? strstr(all.data, "\r\n\r\n") : NULL;
  if (!sep) {
    sl_buf_free(&all);
    return false;
  }
  sl_buf_reset(body);
  sl_buf_append(body, sep + 4, all.len - (size_t)(sep + 4 - all.data));
  sl_buf_free(&all);
  return true;
}

/* A port nothing listens on. */
static int dead_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, (struct sockaddr *)&a, sizeof a);
  socklen_t l = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &l);
  close(fd);
  return ntohs(a.sin_port);
}

static sl_http *engine(int max_per_host, int max_attempts) {
  sl_http_opts o;
  sl_http_opts_init(&o);
  o.max_per_host = max_per_host;
  o.max_attempts = max_attempts;
  o.backoff_base_s = 0.01;
  o.backoff_max_s = 2;
  o.connect_timeout_ms = 2000;
  o.timeout_ms = 20000;
  return sl_http_new(&o, NULL);
}

/* ---- a request that collects what happens to it ------------------------------------ */

typedef struct probe {
  sl_buf body;
  int chunks, rewinds, completes, dones, heads;
  sl_status st;
  long status;
  sl_error err;
  char errbody[256];
  sl_http_decision head_answer;  /* what on_head answers */
  bool check_json;               /* on_complete: retry unless the body is whole JSON */
  bool retry_once;               /* on_complete: ask for one retry */
  bool fail_raw_url;             /* on_complete: fail, naming the raw URL */
  bool refuse_body;              /* on_body: fail with SL_TOO_LARGE */
  sl_http *cancel_on_body;       /* call sl_http_cancel_all from on_body */
  const char *auth_header;       /* prepare adds it */
  const char *attempt_url;       /* prepare replaces the URL */
  int *in_flight, *max_seen;     /* counted between prepare and done/rewind */
} probe;

static void probe_init(probe *p) {
  memset(p, 0, sizeof *p);
  p->st = (sl_status)-1;
  sl_error_clear(&p->err);
}

static sl_status p_prepare(void *ud, sl_http_attempt *a, sl_error *err) {
  probe *p = ud;
  if (p->in_flight && ++*p->in_flight > *p->max_seen) *p->max_seen = *p->in_flight;
  if (p->auth_header && sl_http_attempt_add_header(a, p->auth_header) != SL_OK)
    return sl_error_set(err, SL_NOMEM, "header");
  if (p->attempt_url && sl_http_attempt_set_url(a, p->attempt_url) != SL_OK)
    return sl_error_set(err, SL_NOMEM, "url");
  return SL_OK;
}

static sl_http_decision p_head(void *ud, const sl_http_response *r) {
  probe *p = ud;
  p->heads++;
  p->status = sl_http_status(r);
  return p->head_answer;
}

static sl_status p_body(void *ud, const void *d, size_t n, sl_error *err) {
  probe *p = ud;
  p->chunks++;
  if (p->cancel_on_body) sl_http_cancel_all(p->cancel_on_body);
  if (p->refuse_body) return sl_error_set(err, SL_TOO_LARGE, "page over the limit");
  return sl_buf_append(&p->body, d, n);
}

static int json_ignore(void *ud, const sl_json_event *ev) { return 0; }

static bool whole_json(const sl_buf *b) {
  sl_json_parser *jp = sl_json_parser_new(NULL, json_ignore, NULL);
  sl_error e;
  bool ok = sl_json_feed(jp, b->data ? b->data : "", b->len, &e) == SL_OK &&
            sl_json_finish(jp, &e) == SL_OK;
  sl_json_parser_free(jp);
  return ok;
}

static sl_http_decision p_complete(void *ud, const sl_http_response *r, sl_error *err) {
  probe *p = ud;
  p->completes++;
  if (p->retry_once && p->completes == 1) {
    sl_error_set(err, SL_SOURCE, "the caller wants it again");
    return SL_HTTP_RETRY;
  }
  if (p->fail_raw_url) {
    sl_error_set(err, SL_SOURCE, "bad page at %s", sl_http_url(r));
    sl_error_http(err, sl_http_url(r), (int)sl_http_status(r));
    return SL_HTTP_FAIL;
  }
  if (p->check_json && !whole_json(&p->body)) {
    sl_error_set(err, SL_JSON_SYNTAX, "the JSON document was cut short");
    return SL_HTTP_RETRY;
  }
  return SL_HTTP_ACCEPT;
}

static void p_rewind(void *ud) {
  probe *p = ud;
  p->rewinds++;
  sl_buf_reset(&p->body);
}

static void p_done(void *ud, sl_status st, const sl_http_response *r, const sl_error *err) {
  probe *p = ud;
  p->dones++;
  if (p->in_flight) --*p->in_flight;
  p->st = st;
  if (r) {
    p->status = sl_http_status(r);
    size_t n;
    const char *b = sl_http_error_body(r, &n);
    snprintf(p->errbody, sizeof p->errbody, "%.*s", (int)(n < 255 ? n : 255), b);
  }
  if (err) p->err = *err;
}

static const sl_http_callbacks probe_cb = {p_prepare, p_head, p_body, p_complete, p_rewind, p_done};

static sl_status submit(sl_http *h, const char *url, probe *p) {
  sl_http_request q = {.url = url};
  return sl_http_submit(h, &q, &probe_cb, p, NULL);
}

/* ---- URL helpers ------------------------------------------------------------------ */

TEST(url_resolve) {
  char *out = NULL;
  sl_error e;
  struct {
    const char *base, *ref, *want;
  } cases[] = {
      {"http://a/b/c/d;p?q", "g", "http://a/b/c/g"},
      {"http://a/b/c/d;p?q", "../g", "http://a/b/g"},
      {"http://a/b/c/d;p?q", "/g", "http://a/g"},
      {"http://a/b/c/d;p?q", "?y", "http://a/b/c/d;p?y"},
      {"http://a/b/c/d;p?q", "//g/x", "http://g/x"},
      {"https://api.example.com/v5/items?page=1", "https://other.example.com/next?c=2",
       "https://other.example.com/next?c=2"},
      {"https://api.example.com/v5/", "items?bookmark=abc%3D", "https://api.example.com/v5/items?bookmark=abc%3D"},
      {"http://h:8080/x", "y z", "http://h:8080/y%20z"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    CHECK_OK(sl_url_resolve(cases[i].base, cases[i].ref, &out, &e));
    CHECK_STR(out, cases[i].want);
    free(out);
  }
  CHECK(sl_url_resolve("not a url", "x", &out, &e) == SL_INVALID_ARG);
  CHECK(out == NULL);
  CHECK_CONTAINS(e.msg, "invalid base URL");
  CHECK(sl_url_resolve("http://a/b", "file:///etc/passwd", &out, &e) == SL_INVALID_ARG);
  CHECK_CONTAINS(e.msg, "http");
}

TEST(url_set_param) {
  char *out = NULL;
  sl_error e;
  CHECK_OK(sl_url_set_param("http://h/p", "a", "1", &out, &e));
  CHECK_STR(out, "http://h/p?a=1");
  free(out);
  CHECK_OK(sl_url_set_param("http://h/p?a=1&b=2&a=3", "a", "x y&z", &out, &e));
  CHECK_STR(out, "http://h/p?b=2&a=x%20y%26z");
  free(out);
  CHECK_OK(sl_url_set_param("http://h/p?b=2#frag", "bookmark", "ab/c=", &out, &e));
  CHECK_STR(out, "http://h/p?b=2&bookmark=ab%2Fc%3D#frag");
  free(out);
  /* the name matches in its encoded form too, and NULL removes */
  CHECK_OK(sl_url_set_param("http://h/p?page%5Bsize%5D=3&keep=1", "page[size]", NULL, &out, &e));
  CHECK_STR(out, "http://h/p?keep=1");
  free(out);
  CHECK_OK(sl_url_set_param("http://h/p?only=1", "only", NULL, &out, &e));
  CHECK_STR(out, "http://h/p");
  free(out);
  CHECK(sl_url_set_param("::::", "a", "b", &out, &e) == SL_INVALID_ARG);
  sl_buf b = {0};
  CHECK_OK(sl_url_encode(&b, "a b/é~", strlen("a b/é~")));
  CHECK_STR(b.data, "a%20b%2F%C3%A9~");
  sl_buf_free(&b);
}

TEST(link_rel) {
  const char *h =
      "<https://api.example.com/items?page=2&per_page=10>; rel=\"next\", "
      "<https://api.example.com/items?page=1>; rel=\"first\",<https://api.example.com/items?page=9>;rel=last";
  char *s = sl_http_link_rel(h, "next");
  CHECK_STR(s, "https://api.example.com/items?page=2&per_page=10");
  free(s);
  s = sl_http_link_rel(h, "last");
  CHECK_STR(s, "https://api.example.com/items?page=9");
  free(s);
  CHECK(sl_http_link_rel(h, "prev") == NULL);
  /* several relation types in one rel, any case; commas and semicolons in quotes */
  s = sl_http_link_rel("<http://x/a,b>; title=\"a, b; c\"; rel=\"prev NEXT\"", "next");
  CHECK_STR(s, "http://x/a,b");
  free(s);
  /* only the first rel of a link counts */
  CHECK(sl_http_link_rel("<http://x/1>; rel=prev; rel=next", "next") == NULL);
  /* escaped quote inside a quoted string */
  s = sl_http_link_rel("<http://x/q>; title=\"say \\\"hi\\\"\"; rel=next", "next");
  CHECK_STR(s, "http://x/q");
  free(s);
  /* relative target returned as is */
  s = sl_http_link_rel("</items?page=3>; rel=\"next\"", "next");
  CHECK_STR(s, "/items?page=3");
  free(s);
  /* malformed */
  CHECK(sl_http_link_rel("http://x/1; rel=next", "next") == NULL);
  CHECK(sl_http_link_rel("<http://x/1; rel=next", "next") == NULL);
  CHECK(sl_http_link_rel("<http://x/1>; rel=\"next", "next") == NULL);
  CHECK(sl_http_link_rel("", "next") == NULL);
  CHECK(sl_http_link_rel(NULL, "next") == NULL);
}

TEST(retry_after) {
  CHECK(sl_http_retry_after("120") == 120);
  CHECK(sl_http_retry_after(" 3 ") == 3);
  CHECK(sl_http_retry_after("0") == 0);
  CHECK(sl_http_retry_after("0.25") == 0.25);
  CHECK(sl_http_retry_after("-1") < 0);
  CHECK(sl_http_retry_after("soon") < 0);
  CHECK(sl_http_retry_after("") < 0);
  CHECK(sl_http_retry_after(NULL) < 0);
  CHECK(sl_http_retry_after("12abc") < 0);
  /* dates in the past are "now" */
  CHECK(sl_http_retry_after("Sun, 06 Nov 1994 08:49:37 GMT") == 0);
  CHECK(sl_http_retry_after("Sunday, 06-Nov-94 08:49:37 GMT") == 0);
  CHECK(sl_http_retry_after("Sun Nov  6 08:49:37 1994") == 0);
  CHECK(sl__http_parse_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777.0);
  CHECK(sl__http_parse_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777.0);
  CHECK(sl__http_parse_date("Sun Nov  6 08:49:37 1994") == 784111777.0);
  CHECK(sl__http_parse_date("Sun, 06 Nov 1994 08:49:37 PST") < 0);
  CHECK(sl__http_parse_date("Sun, 36 Nov 1994 08:49:37 GMT") < 0);
  /* a date 100 s ahead */
  time_t t = time(NULL) + 100;
  struct tm tm;
  gmtime_r(&t, &tm);
  char d[64];
  strftime(d, sizeof d, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  double v = sl_http_retry_after(d);
  CHECK_MSG(v > 95 && v <= 100, "Retry-After %s gave %f", d, v);
}

TEST(redact_url) {
  sl_secret_register("Sup3rS3cret/Key");
  char out[512];
  sl__http_redact_url(out, sizeof out, "https://h/p?a=1&q=Sup3rS3cret%2fKey&token=abcd1234&x=Sup3rS3cret/Key");
  CHECK(strstr(out, "Sup3r") == NULL);
  CHECK(strstr(out, "abcd1234") == NULL);
  CHECK_STR(out, "https://h/p?a=1&q=***&token=***&x=***");
  sl__http_redact_url(out, sizeof out, "https://user:Sup3rS3cret%2FKey@h/Sup3rS3cret%2FKey?page=2");
  CHECK_STR(out, "https://user:***@h/***?page=2");
  /* a comma inside a query value, a bracketed name, and a URL inside a message */
  sl__http_redact_url(out, sizeof out, "https://h/p?fields=a,b&page[size]=3&access_token=zz9-tok");
  CHECK_STR(out, "https://h/p?fields=a,b&page[size]=3&access_token=***");
  sl__http_redact_url(out, sizeof out, "GET https://h/p?api_key=k1k2k3k4: HTTP 500 (last: token=short)");
  CHECK_STR(out, "GET https://h/p?api_key=***: HTTP 500 (last: token=short)");
}

/* ---- the engine ------------------------------------------------------------------- */

TEST(stream_equals_served_bytes) {
  server s;
  CHECK(plain_server(&s));
  sl_buf want = {0};
  CHECK(raw_get(s.port, "/single/items", &want));
  CHECK(want.len > 100000);
  sl_http *h = engine(8, 3);
  probe p;
  probe_init(&p);
  char url[128];
  snprintf(url, sizeof url, "%s/single/items", s.base);
  CHECK_OK(submit(h, url, &p));
  CHECK_INT(sl_http_pending(h), 1);
  CHECK_OK(sl_http_run(h, NULL));
  CHECK_INT(sl_http_pending(h), 0);
  CHECK_INT(p.st, SL_OK);
  CHECK_INT(p.status, 200);
  CHECK_INT(p.dones, 1);
  CHECK_INT(p.rewinds, 0);
  CHECK(p.chunks > 1);
  CHECK_INT(p.body.len, want.len);
  CHECK(memcmp(p.body.data, want.data, want.len) == 0);
  sl_http_stats st;
  sl_http_get_stats(h, &st);
  CHECK_INT(st.requests, 1);
  CHECK_INT(st.attempts, 1);
  /* gzip on the wire: fewer bytes than the body */
  CHECK_MSG(st.bytes_in == want.len, "bytes_in counts decoded bytes: %llu", (unsigned long long)st.bytes_in);
  sl_http_free(h);
  sl_buf_free(&p.body);
  sl_buf_free(&want);
  server_stop(&s);
}

TEST(many_concurrent_within_limit) {
  server s;
  const char *flags[] = {"--latency-ms", "30", "--items", "500", NULL};
  CHECK(server_start(&s, flags));
  sl_http *h = engine(3, 3);
  enum { N = 60 };
  static probe p[N];
  char url[160];
  int in_flight = 0, max_seen = 0;
  for (int i = 0; i < N; i++) {
    probe_init(&p[i]);
    p[i].in_flight = &in_flight;
    p[i].max_seen = &max_seen;
    snprintf(url, sizeof url, "%s/offset/items?offset=%d&limit=5", s.base, i * 5);
    CHECK_OK(submit(h, url, &p[i]));
  }
  double t0 = now_s();
  CHECK_OK(sl_http_run(h, NULL));
  double took = now_s() - t0;
  for (int i = 0; i < N; i++) {
    CHECK_INT(p[i].st, SL_OK);
    char want[64];
    snprintf(want, sizeof want, "\"offset\":%d", i * 5);
    CHECK_CONTAINS(p[i].body.data, want);
    sl_buf_free(&p[i].body);
  }
  sl_http_stats st;
  sl_http_get_stats(h, &st);
  CHECK_MSG(st.connects <= 3, "keep-alive: %llu connections for %d requests", (unsigned long long)st.connects, N);
  CHECK_INT(max_seen, 3);
  sl_http_free(h);
  /* the server saw at most 3 at once; 60 × 30 ms at 3 in flight ≥ 0.6 s */
  sl_buf stats = {0};
  CHECK(raw_get(s.port, "/__admin/stats", &stats));
  CHECK_CONTAINS(stats.data, "\"max_inflight_seen\":3");
  CHECK_MSG(took > 0.55, "took %.3f s", took);
  sl_buf_free(&stats);
  server_stop(&s);
}

TEST(global_limit_across_hosts) {
  server s;
  const char *flags[] = {"--latency-ms", "30", NULL};
  CHECK(server_start(&s, flags));
  sl_http_opts o;
  sl_http_opts_init(&o);
  o.max_in_flight = 2; /* all hosts together */
  o.max_per_host = 8;
  o.backoff_base_s = 0.01;
  sl_http *h = sl_http_new(&o, NULL);
  enum { N = 24 };
  static probe p[N];
  char url[160];
  int in_flight = 0, max_seen = 0;
  for (int i = 0; i < N; i++) {
    probe_init(&p[i]);
    p[i].in_flight = &in_flight;
    p[i].max_seen = &max_seen;
    /* two host names for one server: two per-host queues */
    snprintf(url, sizeof url, "http://%s:%d/single/object?i=%d", i % 2 ? "127.0.0.1" : "localhost",
             s.port, i);
    CHECK_OK(submit(h, url, &p[i]));
  }
  CHECK_OK(sl_http_run(h, NULL));
  for (int i = 0; i < N; i++) {
    CHECK_INT(p[i].st, SL_OK);
    sl_buf_free(&p[i].body);
  }
  sl_http_free(h);
  CHECK_INT(max_seen, 2); /* counted here, between prepare and on_done */
  server_stop(&s);
}

TEST(total_timeout_is_retried_then_reported) {
  server s;
  const char *flags[] = {"--latency-ms", "1500", NULL};
  CHECK(server_start(&s, flags));
  sl_http_opts o;
  sl_http_opts_init(&o);
  o.max_attempts = 2;
  o.backoff_base_s = 0.01;
  o.timeout_ms = 250;
  sl_http *h = sl_http_new(&o, NULL);
  probe p;
  probe_init(&p);
  char url[160];
  snprintf(url, sizeof url, "%s/single/object", s.base);
  CHECK_OK(submit(h, url, &p));
  double t0 = now_s();
  CHECK_OK(sl_http_run(h, NULL));
  double took = now_s() - t0;
  CHECK_INT(p.st, SL_HTTP);
  CHECK_CONTAINS(p.err.msg, "timed out after 2 attempts");
  CHECK_CONTAINS(p.err.msg, "/single/object");
  CHECK_MSG(took >= 0.45 && took < 1.4, "took %.3f s", took);
  sl_http_free(h);
  server_stop(&s);
}

TEST(backs_off_on_429_when_over_server_limit) {
  server s;
  const char *flags[] = {"--latency-ms", "20", "--max-inflight", "2", "--retry-after", "0.05", NULL};
  CHECK(server_start(&s, flags));
  sl_http_opts o;
  sl_http_opts_init(&o);
  o.max_per_host = 8;
  o.max_attempts = 10;
  o.backoff_base_s = 0.01;
  sl_http *h = sl_http_new(&o, NULL);
  enum { N = 80 };
  static probe p[N];
  char url[160];
  for (int i = 0; i < N; i++) {
    probe_init(&p[i]);
    snprintf(url, sizeof url, "%s/single/object?n=%d", s.base, i);
    CHECK_OK(submit(h, url, &p[i]));
  }
  CHECK_OK(sl_http_run(h, NULL));
  int ok = 0;
  for (int i = 0; i < N; i++) {
    ok += p[i].st == SL_OK && p[i].status == 200;
    sl_buf_free(&p[i].body);
  }
  CHECK_INT(ok, N);
  sl_http_stats st;
  sl_http_get_stats(h, &st);
  CHECK(st.status_429 > 0);
  CHECK_INT(st.retries, st.attempts - N);
  CHECK_INT(st.failed, 0);
  /* halving to 2 (and growing back slowly) keeps the 429s few: far fewer than
   * one per request, as a client that kept 8 in flight would see */
  CHECK_MSG(st.status_429 < N / 2, "%llu 429s for %d requests", (unsigned long long)st.status_429, N);
  sl_http_free(h);
  server_stop(&s);
}

/* The fault mix: every request ends whole and right. */
TEST(fault_mix_all_complete) {
  server s;
  const char *flags[] = {"--fail-5xx", "0.1", "--fail-429", "0.05", "--truncate", "0.05",
                         "--truncate-mode", "mixed", "--retry-after", "0.05", "--items", "2000",
                         "--fault-seed", "11", NULL};
  CHECK(server_start(&s, flags));
  sl_http *h = engine(8, 5);
  enum { N = 200 };
  static probe p[N];
  char url[160];
  for (int i = 0; i < N; i++) {
    probe_init(&p[i]);
    p[i].check_json = true;
    snprintf(url, sizeof url, "%s/offset/items?offset=%d&limit=10", s.base, i * 10);
    CHECK_OK(submit(h, url, &p[i]));
  }
  CHECK_OK(sl_http_run(h, NULL));
  int rewinds = 0;
  for (int i = 0; i < N; i++) {
    CHECK_INT(p[i].st, SL_OK);
    CHECK(whole_json(&p[i].body));
    char want[64];
    snprintf(want, sizeof want, "{\"id\":%d,", i * 10);
    CHECK_CONTAINS(p[i].body.data, want);
    rewinds += p[i].rewinds;
    sl_buf_free(&p[i].body);
  }
  sl_http_stats st;
  sl_http_get_stats(h, &st);
  CHECK(st.status_5xx > 0);
  CHECK(st.status_429 > 0);
  CHECK(rewinds > 0); /* truncated bodies, short and cut */
  CHECK_INT(st.failed, 0);
  CHECK_INT(st.attempts, N + st.retries);
  sl_http_free(h);
  server_stop(&s);
}

TEST(retry_after_is_honored) {
  server s;
  const char *flags[] = {"--fail-429", "1", "--retry-after", "0.6", NULL};
  CHECK(server_start(&s, flags));
  char url[160];
  double took[2];
  for (int k = 0; k < 2; k++) {
    sl_http_opts o;
    sl_http_opts_init(&o);
    o.backoff_base_s = 0.01;
    o.backoff_max_s = k == 0 ? 30 : 0.02; /* the second caps Retry-After */
    sl_http *h = sl_http_new(&o, NULL);
    probe p;
    probe_init(&p);
    snprintf(url, sizeof url, "%s/single/object?k=%d", s.base, k);
    CHECK_OK(submit(h, url, &p));
    double t0 = now_s();
    CHECK_OK(sl_http_run(h, NULL));
    took[k] = now_s() - t0;
    CHECK_INT(p.st, SL_OK);
    CHECK_INT(p.heads, 2); /* 429, then 200 */
    sl_http_stats st;
    sl_http_get_stats(h, &st);
    CHECK_INT(st.status_429, 1);
    sl_buf_free(&p.body);
    sl_http_free(h);
  }
  CHECK_MSG(took[0] >= 0.55, "waited %.3f s for Retry-After 0.6", took[0]);
  CHECK_MSG(took[0] > 2 * took[1], "honored %.3f s vs capped %.3f s", took[0], took[1]);
  server_stop(&s);
}

TEST(truncated_body_rewinds_then_succeeds) {
  server s;
  const char *flags[] = {"--truncate", "1", "--truncate-mode", "short", "--items", "400", NULL};
  CHECK(server_start(&s, flags));
  sl_http *h = engine(4, 4);
  enum { N = 5 };
  probe p[N];
  char url[160];
  for (int i = 0; i < N; i++) {
    probe_init(&p[i]);
    snprintf(url, sizeof url, "%s/offset/items?offset=%d&limit=50", s.base, i * 50);
    CHECK_OK(submit(h, url, &p[i]));
  }
  CHECK_OK(sl_http_run(h, NULL));
  for (int i = 0; i < N; i++) {
    CHECK_INT(p[i].st, SL_OK);
    CHECK_INT(p[i].rewinds, 1);
    CHECK(whole_json(&p[i].body));
    sl_buf_free(&p[i].body);
  }
  sl_http_stats st;
  sl_http_get_stats(h, &st);
  CHECK_INT(st.conn_errors, N);
  CHECK_INT(st.attempts, 2 * N);
  sl_http_free(h);
  server_stop(&s);
}

TEST(on_complete_asks_for_retry) {
  server s;
  const char *flags[] = {"--truncate", "1", "--truncate-mode", "cut", NULL};
  CHECK(server_start(&s, flags));
  sl_http *h = engine(4, 4);
  probe p, q;
  probe_init(&p);
  probe_init(&q);
  p.check_json = true; /* the cut body is valid HTTP but broken JSON */
  q.retry_once = true;
  char url[160];
  snprintf(url, sizeof url, "%s/single/items", s.base);
  CHECK_OK(submit(h, url, &p));
  snprintf(url, sizeof url, "%s/single/array", s.base);
  CHECK_OK(submit(h, url, &q));
  CHECK_OK(sl_http_run(h, NULL));
  CHECK_INT(p.st, SL_OK);
  CHECK_INT(p.completes, 2);
  CHECK_INT(p.rewinds, 1);
  CHECK(whole_json(&p.body));
  CHECK_INT(q.st, SL_OK);
  CHECK_INT(q.completes, 2);
  CHECK_INT(q.rewinds, 1);
  sl_buf_free(&p.body);
  sl_buf_free(&q.body);
  sl_http_free(h);
  server_stop(&s);
}

static sl_buf log_lines;
static void log_sink(void *ud, sl_log_level lvl, const char *line) {
  sl_buf_puts(&log_lines, line);
  sl_buf_putc(&log_lines, '\n');
}

TEST(server_error_past_max_attempts_names_url_without_secret) {
  server s;
  CHECK(plain_server(&s));
  sl_secret_register("T0pS3cret/Value");
  sl_http *h = engine(4, 3);
  /* every log line of the run, down to DEBUG, is kept */
  sl_log_level old = sl_log_get_level();
  sl_log_set_level(SL_LOG_DEBUG);
  sl_log_set_sink(log_sink, NULL);
  probe p;
  probe_init(&p);
  char url[256];
  /* the secret percent-encoded in lower case (not the registered form) */
  snprintf(url, sizeof url, "%s/actions/server_error?page=2&q=T0pS3cret%%2fValue", s.base);
  CHECK_OK(submit(h, url, &p));
  CHECK_OK(sl_http_run(h, NULL));
  sl_log_set_sink(NULL, NULL);
  sl_log_set_level(old);
  CHECK_CONTAINS(log_lines.data, "(attempt 1/3)");
  CHECK_CONTAINS(log_lines.data, "retry 3/3");
  CHECK(strstr(log_lines.data, "T0pS3cret") == NULL);
  sl_buf_free(&log_lines);
  CHECK_INT(p.st, SL_HTTP);
  CHECK_INT(p.heads, 3);
  CHECK_INT(p.err.http_status, 500);
  CHECK_CONTAINS(p.err.msg, "GET http://127.0.0.1:");
  CHECK_CONTAINS(p.err.msg, "/actions/server_error?page=2&q=***");
  CHECK_CONTAINS(p.err.msg, "HTTP 500 after 3 attempts");
  CHECK_CONTAINS(p.err.msg, "the server says no");
  CHECK(strstr(p.err.msg, "T0pS3cret") == NULL);
  CHECK(strstr(p.err.url, "T0pS3cret") == NULL);
  CHECK_CONTAINS(p.err.url, "/actions/server_error");
  CHECK_CONTAINS(p.errbody, "the server says no");
  sl_http_stats st;
  sl_http_get_stats(h, &st);
  CHECK_INT(st.failed, 1);
  CHECK_INT(st.status_5xx, 3);
  CHECK(strstr(st.slowest_url, "T0pS3cret") == NULL);
  sl_http_free(h);
  server_stop(&s);
}

TEST(caller_errors_are_scrubbed) {
  server s;
  CHECK(plain_server(&s));
  sl_http *h = engine(4, 3);
  probe p;
  probe_init(&p);
  p.fail_raw_url = true;
  char url[200];
  snprintf(url, sizeof url, "%s/single/object?access_token=zz-raw-token-99&page=3", s.base);
  CHECK_OK(submit(h, url, &p));
  CHECK_OK(sl_http_run(h, NULL));
  CHECK_INT(p.st, SL_SOURCE);
  CHECK_CONTAINS(p.err.msg, "bad page at http://127.0.0.1:");
  CHECK_CONTAINS(p.err.msg, "access_token=***&page=3");
  CHECK(strstr(p.err.msg, "zz-raw-token") == NULL);
  CHECK(strstr(p.err.url, "zz-raw-token") == NULL);
  CHECK_INT(p.err.http_status, 200);
  sl_buf_free(&p.body);
  sl_http_free(h);
}

TEST(on_body_error_ends_the_request) {
  server s;
  CHECK(plain_server(&s));
  sl_http *h = engine(4, 3);
  probe p;
  probe_init(&p);
  p.refuse_body = true;
  char url[160];
  snprintf(url, sizeof url, "%s/single/items", s.base);
  CHECK_OK(submit(h, url, &p));
  CHECK_OK(sl_http_run(h, NULL));
  CHECK_INT(p.st, SL_TOO_LARGE);
  CHECK_INT(p.dones, 1);
  CHECK_INT(p.heads, 1); /* not retried */
  CHECK_INT(p.rewinds, 0);
  CHECK_CONTAINS(p.err.msg, "page over the limit");
  CHECK_CONTAINS(p.err.url, "/single/items");
  CHECK_INT(p.err.http_status, 200);
  sl_http_free(h);
}

TEST(on_head_decides_for_404) {
  server s;
  CHECK(plain_server(&s));
  sl_http *h = engine(4, 3);
  char url[160];
  snprintf(url, sizeof url, "%s/actions/not_found", s.base);
  probe p[4];
  sl_http_decision d[4] = {SL_HTTP_IGNORE, SL_HTTP_FAIL, SL_HTTP_ACCEPT, SL_HTTP_DEFAULT};
  for (int i = 0; i < 4; i++) {
    probe_init(&p[i]);
    p[i].head_answer = d[i];
    CHECK_OK(submit(h, url, &p[i]));
  }
  CHECK_OK(sl_http_run(h, NULL));
  /* IGNORE: done, OK, no body */
  CHECK_INT(p[0].st, SL_OK);
  CHECK_INT(p[0].body.len, 0);
  CHECK_INT(p[0].status, 404);
  /* FAIL: SL_HTTP with the status and the body kept for messages */
  CHECK_INT(p[1].st, SL_HTTP);
  CHECK_INT(p[1].err.http_status, 404);
  CHECK_CONTAINS(p[1].err.msg, "HTTP 404");
  CHECK_CONTAINS(p[1].errbody, "nothing here");
  CHECK_INT(p[1].heads, 1);
  /* ACCEPT: the body goes to on_body */
  CHECK_INT(p[2].st, SL_OK);
  CHECK_CONTAINS(p[2].body.data, "nothing here");
  CHECK_INT(p[2].completes, 1);
  /* DEFAULT: a 404 fails at once (no retry) */
  CHECK_INT(p[3].st, SL_HTTP);
  CHECK_INT(p[3].heads, 1);
  CHECK_CONTAINS(p[3].err.msg, "/actions/not_found: HTTP 404");
  for (int i = 0; i < 4; i++) sl_buf_free(&p[i].body);
  sl_http_free(h);
  server_stop(&s);
}

TEST(redirect_is_followed) {
  server s;
  CHECK(plain_server(&s));
  sl_http *h = engine(4, 3);
  probe p;
  probe_init(&p);
  char url[160];
  snprintf(url, sizeof url, "%s/actions/redirect?to=/single/array", s.base);
  CHECK_OK(submit(h, url, &p));
  CHECK_OK(sl_http_run(h, NULL));
  CHECK_INT(p.st, SL_OK);
  CHECK_INT(p.status, 200);
  CHECK_INT(p.heads, 1); /* on_head sees the final response only */
  CHECK(p.body.data && p.body.data[0] == '[');
  CHECK(whole_json(&p.body));
  sl_buf_free(&p.body);
  sl_http_free(h);
  server_stop(&s);
}

TEST(connection_refused_after_retries) {
  sl_http *h = engine(4, 3);
  probe p;
  probe_init(&p);
  char url[160];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/x?api_key=k3y-v4lue-1234", dead_port());
  CHECK_OK(submit(h, url, &p));
  CHECK_OK(sl_http_run(h, NULL));
  CHECK_INT(p.st, SL_HTTP);
  CHECK_INT(p.dones, 1);
  CHECK_INT(p.heads, 0);
  CHECK_CONTAINS(p.err.msg, "cannot connect after 3 attempts");
  CHECK_CONTAINS(p.err.msg, "api_key=***");
  CHECK(strstr(p.err.msg, "k3y-v4lue") == NULL);
  CHECK_CONTAINS(p.err.url, "/x?api_key=***");
  sl_http_stats st;
  sl_http_get_stats(h, &st);
  CHECK_INT(st.conn_errors, 3);
  CHECK_INT(st.attempts, 3);
  sl_http_free(h);
}

TEST(prepare_adds_auth_and_sets_url) {
  server s;
  CHECK(plain_server(&s));
  sl_http *h = engine(4, 2);
  probe p, q, r;
  probe_init(&p);
  probe_init(&q);
  probe_init(&r);
  char url[160], url2[160];
  snprintf(url, sizeof url, "%s/auth/bearer/items", s.base);
  p.auth_header = "Authorization: Bearer generic-token";
  CHECK_OK(submit(h, url, &p));
  CHECK_OK(submit(h, url, &q)); /* no token: 401 */
  snprintf(url, sizeof url, "%s/auth/api_key_query/items", s.base);
  snprintf(url2, sizeof url2, "%s/auth/api_key_query/items?api_key=generic-key", s.base);
  r.attempt_url = url2;
  CHECK_OK(submit(h, url, &r));
  CHECK_OK(sl_http_run(h, NULL));
  CHECK_INT(p.st, SL_OK);
  CHECK_CONTAINS(p.body.data, "next_cursor");
  CHECK_INT(q.st, SL_HTTP);
  CHECK_INT(q.err.http_status, 401);
  CHECK_INT(r.st, SL_OK);
  sl_buf_free(&p.body);
  sl_buf_free(&q.body);
  sl_buf_free(&r.body);
  sl_http_free(h);
  server_stop(&s);
}

TEST(fetch_get_and_post) {
  server s;
  const char *flags[] = {"--fail-5xx", "1", NULL}; /* every first try fails */
  CHECK(server_start(&s, flags));
  sl_http *h = engine(4, 3);
  char url[160];
  snprintf(url, sizeof url, "%s/single/object", s.base);
  sl_http_request q = {.url = url};
  long status = 0;
  sl_buf out = {0};
  sl_error e;
  CHECK_OK(sl_http_fetch(h, &q, &status, &out, 0, &e));
  CHECK_INT(status, 200);
  CHECK(out.data && out.data[0] == '{');
  CHECK_CONTAINS(out.data, "\"id\":0");
  /* a POST: an OAuth token (the token endpoint is never faulted) */
  snprintf(url, sizeof url, "%s/oauth/token", s.base);
  const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
  const char *form = "grant_type=client_credentials&client_id=generic-client&client_secret=generic-secret";
  sl_http_request post = {.method = "POST", .url = url, .headers = hdrs, .body = form, .body_len = strlen(form)};
  CHECK_OK(sl_http_fetch(h, &post, &status, &out, 0, &e));
  CHECK_INT(status, 200);
  CHECK_CONTAINS(out.data, "access_token");
  /* a 404: SL_HTTP, the status, and the error body in out */
  snprintf(url, sizeof url, "%s/actions/not_found", s.base);
  CHECK(sl_http_fetch(h, &q, &status, &out, 0, &e) == SL_HTTP);
  CHECK_INT(status, 404);
  CHECK_CONTAINS(out.data, "nothing here");
  CHECK_CONTAINS(e.msg, "HTTP 404");
  /* too large for max_body */
  snprintf(url, sizeof url, "%s/single/items", s.base);
  CHECK(sl_http_fetch(h, &q, &status, &out, 100, &e) == SL_TOO_LARGE);
  sl_buf_free(&out);
  sl_http_free(h);
  server_stop(&s);
}

TEST(cancel_all) {
  server s;
  const char *flags[] = {"--latency-ms", "100", NULL};
  CHECK(server_start(&s, flags));
  sl_http *h = engine(2, 3);
  enum { N = 20 };
  probe p[N];
  char url[160];
  for (int i = 0; i < N; i++) {
    probe_init(&p[i]);
    snprintf(url, sizeof url, "%s/single/object?i=%d", s.base, i);
    CHECK_OK(submit(h, url, &p[i]));
  }
  p[0].cancel_on_body = h; /* the first body to arrive cancels everything */
  double t0 = now_s();
  CHECK_OK(sl_http_run(h, NULL));
  CHECK(now_s() - t0 < 1.0);
  CHECK_INT(sl_http_pending(h), 0);
  int aborted = 0;
  for (int i = 0; i < N; i++) {
    CHECK_INT(p[i].dones, 1);
    aborted += p[i].st == SL_ABORTED;
    sl_buf_free(&p[i].body);
  }
  CHECK(aborted >= N - 2);
  /* outside run: at once */
  for (int i = 0; i < 3; i++) {
    probe_init(&p[i]);
    snprintf(url, sizeof url, "%s/single/object?j=%d", s.base, i);
    CHECK_OK(submit(h, url, &p[i]));
  }
  sl_http_cancel_all(h);
  for (int i = 0; i < 3; i++) {
    CHECK_INT(p[i].st, SL_ABORTED);
    CHECK_CONTAINS(p[i].err.msg, "cancelled");
  }
  /* and the engine still works after */
  probe_init(&p[0]);
  CHECK_OK(submit(h, url, &p[0]));
  CHECK_OK(sl_http_run(h, NULL));
  CHECK_INT(p[0].st, SL_OK);
  sl_buf_free(&p[0].body);
  sl_http_free(h);
  server_stop(&s);
}

/* TLS against `openssl s_server` with a self-signed certificate for
 * 127.0.0.1: refused by default, accepted with it as ca_file or insecure. */
TEST(tls_verified_by_default) {
  if (system("command -v openssl >/dev/null 2>&1") != 0) {
    fprintf(stderr, "  tls_verified_by_default: no openssl command, skipped\n");
    return;
  }
  char dir[] = "/tmp/sl_test_tls_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char cmd[1024], cert[256], key[256];
  snprintf(cert, sizeof cert, "%s/cert.pem", dir);
  snprintf(key, sizeof key, "%s/key.pem", dir);
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 -subj /CN=127.0.0.1 "
           "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1", key, cert);
  CHECK_INT(system(cmd), 0);
  int port = dead_port();
  char accept[32];
  snprintf(accept, sizeof accept, "127.0.0.1:%d", port);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
    execlp("openssl", "openssl", "s_server", "-accept", accept, "-cert", cert, "-key", key, "-www",
           "-quiet", (char *)NULL);
    _exit(127);
  }
  bool up = false;
  for (int i = 0; i < 100 && !up; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    up = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    if (!up) usleep(50000);
  }
  char url[128];
  snprintf(url, sizeof url, "https://127.0.0.1:%d/", port);
  int failed = !up;
  for (int k = 0; k < 3 && !failed; k++) {
    sl_http_opts o;
    sl_http_opts_init(&o);
    o.max_attempts = 3;
    o.backoff_base_s = 0.01;
    o.ca_file = k == 1 ? cert : NULL;
    o.insecure = k == 2;
    sl_http *h = sl_http_new(&o, NULL);
    probe p;
    probe_init(&p);
    submit(h, url, &p);
    sl_http_run(h, NULL);
    sl_http_stats st;
    sl_http_get_stats(h, &st);
    if (k == 0) {
      /* not retried: a bad certificate does not get better */
      if (p.st != SL_HTTP || st.attempts != 1 || !strstr(p.err.msg, "certificate")) {
        fprintf(stderr, "  default: st %d attempts %llu: %s\n", p.st, (unsigned long long)st.attempts, p.err.msg);
        failed = 1;
      }
    } else if (p.st != SL_OK || p.status != 200) {
      fprintf(stderr, "  %s: st %d status %ld: %s\n", k == 1 ? "ca_file" : "insecure", p.st, p.status, p.err.msg);
      failed = 1;
    }
    sl_buf_free(&p.body);
    sl_http_free(h);
  }
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK_INT(system(cmd), 0);
  CHECK(up);
  CHECK(!failed);
}

TEST(bad_urls_are_refused_at_submit) {
  sl_http *h = engine(4, 3);
  sl_error e;
  sl_http_request q = {.url = "ftp://example.com/x"};
  CHECK(sl_http_submit(h, &q, &probe_cb, NULL, &e) == SL_INVALID_ARG);
  CHECK_CONTAINS(e.msg, "not an http:// or https:// URL");
  q.url = "no url at all";
  CHECK(sl_http_submit(h, &q, &probe_cb, NULL, &e) == SL_INVALID_ARG);
  CHECK_INT(sl_http_pending(h), 0);
  sl_http_free(h);
}

/* ---- hostile servers ------------------------------------------------------------- */

/* A forked server on a free port that answers every request the same way:
 * 'h' an HTML error page with 200, 'e' a JSON string that never ends (64 KiB
 * chunks as fast as the socket takes them), 't' the same at 10 bytes/s. */
static pid_t hostile_server(char kind, int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0) return -1;
  socklen_t l = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &l);
  *port = ntohs(a.sin_port);
  pid_t pid = fork();
  if (pid != 0) {
    close(fd);
    return pid;
  }
  /* A failed CHECK returns before hostile_stop: die with the test, and hold
   * no pipe of ctest's open. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
  signal(SIGPIPE, SIG_IGN);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c < 0) _exit(0);
    char req[4096];
    size_t got = 0;
    while (got < sizeof req - 1) { /* up to the end of the request head */
      ssize_t k = read(c, req + got, sizeof req - 1 - got);
      if (k <= 0) break;
      got += (size_t)k;
      req[got] = '\0';
      if (strstr(req, "\r\n\r\n")) break;
    }
    if (kind == 'h') {
      const char *page = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>";
      dprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(page), page);
    } else {
      dprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
      dprintf(c, "e\r\n[{\"id\":1,\"s\":\"\r\n");
      static char blk[65536 + 16];
      size_t n = kind == 'e' ? 65536 : 1;
      int h = snprintf(blk, sizeof blk, "%zx\r\n", n);
      memset(blk + h, 'A', n);
      memcpy(blk + h + n, "\r\n", 2);
      while (write(c, blk, (size_t)h + n + 2) > 0)
        if (kind == 't') usleep(100 * 1000);
    }
    close(c);
  }
}

static void hostile_stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

/* on_body as a JSON consumer would: parse, and name the input after the raw URL. */
typedef struct json_probe {
  sl_json_parser *jp;
  sl_error err;
  sl_status st;
  int dones;
} json_probe;

static sl_status jp_body(void *ud, const void *d, size_t n, sl_error *err) {
  json_probe *p = ud;
  return sl_json_feed(p->jp, d, n, err);
}
static void jp_rewind(void *ud) { sl_json_parser_reset(((json_probe *)ud)->jp); }
static void jp_done(void *ud, sl_status st, const sl_http_response *r, const sl_error *err) {
  json_probe *p = ud;
  (void)r;
  p->dones++;
  p->st = st;
  if (err) p->err = *err;
}

TEST(html_page_with_200_names_its_content_type_and_no_secret) {
  int port;
  pid_t pid = hostile_server('h', &port);
  CHECK(pid > 0);
  char url[160];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/items?api_key=h0st1le-k3y", port);
  sl_json_options jo = {.name = url};
  json_probe p = {.jp = sl_json_parser_new(&jo, json_ignore, NULL), .st = (sl_status)-1};
  sl_http *h = engine(4, 3);
  sl_http_request q = {.url = url};
  sl_http_callbacks cb = {.on_body = jp_body, .on_rewind = jp_rewind, .on_done = jp_done};
  CHECK_OK(sl_http_submit(h, &q, &cb, &p, NULL));
  CHECK_OK(sl_http_run(h, NULL));
  CHECK_INT(p.dones, 1);
  CHECK_INT(p.st, SL_JSON_SYNTAX);
  CHECK_CONTAINS(p.err.msg, "found '<'");
  CHECK_CONTAINS(p.err.msg, "Content-Type: text/html");
  CHECK_CONTAINS(p.err.file, "/items?api_key=***");
  CHECK(strstr(p.err.file, "h0st1le") == NULL);
  CHECK(strstr(p.err.msg, "h0st1le") == NULL);
  CHECK_INT(p.err.http_status, 200);
  sl_json_parser_free(p.jp);
  sl_http_free(h);
  hostile_stop(pid);
}

TEST(max_body_bytes_ends_a_body_that_never_ends) {
  int port;
  pid_t pid = hostile_server('e', &port);
  CHECK(pid > 0);
  sl_http_opts o;
  sl_http_opts_init(&o);
  o.max_attempts = 3;
  o.backoff_base_s = 0.01;
  o.max_body_bytes = (uint64_t)4 << 20;
  sl_http *h = sl_http_new(&o, NULL);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/forever", port);
  probe p;
  probe_init(&p);
  double t0 = now_s();
  CHECK_OK(submit(h, url, &p));
  CHECK_OK(sl_http_run(h, NULL));
  CHECK(now_s() - t0 < 10);
  CHECK_INT(p.st, SL_TOO_LARGE);
  CHECK_INT(p.heads, 1); /* not retried */
  CHECK_CONTAINS(p.err.msg, "longer than 4194304 bytes (max_body_bytes)");
  CHECK_CONTAINS(p.err.msg, "/forever");
  CHECK(p.body.len <= o.max_body_bytes);
  sl_buf_free(&p.body);
  sl_http_free(h);
  hostile_stop(pid);
}

TEST(a_json_string_that_never_ends_stops_at_max_string) {
  int port;
  pid_t pid = hostile_server('e', &port);
  CHECK(pid > 0);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/forever", port);
  sl_json_options jo = {.name = url, .max_string = (size_t)8 << 20};
  json_probe p = {.jp = sl_json_parser_new(&jo, json_ignore, NULL), .st = (sl_status)-1};
  sl_http *h = engine(4, 3);
  sl_http_request q = {.url = url};
  sl_http_callbacks cb = {.on_body = jp_body, .on_rewind = jp_rewind, .on_done = jp_done};
  double t0 = now_s();
  CHECK_OK(sl_http_submit(h, &q, &cb, &p, NULL));
  CHECK_OK(sl_http_run(h, NULL));
  CHECK(now_s() - t0 < 10);
  CHECK_INT(p.st, SL_TOO_LARGE);
  CHECK_CONTAINS(p.err.msg, "string longer than the limit of 8388608 bytes (max_string)");
  CHECK_INT(p.err.line, 1);
  CHECK_INT(p.err.col, 14); /* the opening quote */
  sl_json_parser_free(p.jp);
  sl_http_free(h);
  hostile_stop(pid);
}

TEST(a_trickling_body_ends_at_the_total_timeout) {
  int port;
  pid_t pid = hostile_server('t', &port);
  CHECK(pid > 0);
  sl_http_opts o;
  sl_http_opts_init(&o);
  o.max_attempts = 2;
  o.backoff_base_s = 0.01;
  o.timeout_ms = 700; /* 10 bytes/s is above the low-speed floor: only this ends it */
  sl_http *h = sl_http_new(&o, NULL);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", port);
  probe p;
  probe_init(&p);
  double t0 = now_s();
  CHECK_OK(submit(h, url, &p));
  CHECK_OK(sl_http_run(h, NULL));
  double took = now_s() - t0;
  CHECK(took > 1.2 && took < 6);
  CHECK_INT(p.st, SL_HTTP);
  CHECK_INT(p.heads, 2);
  CHECK_INT(p.rewinds, 1);
  CHECK_CONTAINS(p.err.msg, "timed out after 2 attempts");
  CHECK_CONTAINS(p.err.msg, "/slow");
  sl_buf_free(&p.body);
  sl_http_free(h);
  hostile_stop(pid);
}

TEST_MAIN()
