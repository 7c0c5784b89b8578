/* AWS pieces: the XML reader, ~/.aws files, the credentials chain (config,
 * env, profile files, IMDSv2 served by a local stand-in), secret redaction,
 * and the S3 client against a real s3rver (started here when installed by
 * scripts/deps.sh --s3 when missing): signatures it checks, PUT/GET/HEAD,
 * ListObjectsV2 across continuation pages, DeleteObjects, multipart in
 * parallel; and against a recording fake S3 (s3rver has neither
 * ListMultipartUploads nor AbortMultipartUpload): multipart aborted when a
 * part or the completion fails, ListMultipartUploads across pages, virtual-host
 * addressing, and the settings read from configuration. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sluice/aws.h"
#include "sluice/buf.h"
#include "sluice/config.h"
#include "sluice/log.h"
#include "sluice/package.h"
#include "sluice/toml.h"
#include "test.h"

/* ---- XML ------------------------------------------------------------------------ */

typedef struct seen {
  char paths[16][128];
  char texts[16][128];
  int n;
} seen;

static sl_status rec(void *ud, const char *path, const char *text, size_t n) {
  seen *s = ud;
  if (s->n < 16) {
    snprintf(s->paths[s->n], 128, "%s", path);
    snprintf(s->texts[s->n], 128, "%.*s", (int)n, text);
    s->n++;
  }
  return SL_OK;
}

TEST(xml_list_bucket_result) {
  const char *x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>b</Name><IsTruncated>true</IsTruncated>"
      "<Contents><Key>a &amp; b/&lt;c&gt;&#233;&#x4E2D;</Key><Size>12</Size></Contents>"
      "<!-- note --><NextContinuationToken><![CDATA[t<1>]]></NextContinuationToken>"
      "</ListBucketResult>";
  seen s = {0};
  sl_error err;
  sl_error_clear(&err);
  CHECK_OK(sl_xml_parse(x, strlen(x), rec, &s, &err));
  CHECK_INT(s.n, 5);
  CHECK_STR(s.paths[2], "ListBucketResult/Contents/Key");
  CHECK_STR(s.texts[2], "a & b/<c>\xc3\xa9\xe4\xb8\xad");
  CHECK_STR(s.texts[3], "12");
  CHECK_STR(s.paths[4], "ListBucketResult/NextContinuationToken");
  CHECK_STR(s.texts[4], "t<1>");
  const char *im = "<InitiateMultipartUploadResult><Bucket>b</Bucket><UploadId>u-1</UploadId>"
                   "</InitiateMultipartUploadResult>";
  char *id = sl_xml_find(im, strlen(im), "InitiateMultipartUploadResult/UploadId");
  CHECK_STR(id, "u-1");
  free(id);
}

TEST(xml_malformed) {
  const char *bad[] = {"<a><b></a>", "<a>", "<a>&bogus;</a>", "<!DOCTYPE a><a/>", "<a></a><b/>",
                       "text<a/>", "<a>&#0;</a>", "<a>&#xD800;</a>", "", "<a x=\"1></a>",
                       "<a><![CDATA[x</a>"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    sl_error err;
    sl_error_clear(&err);
    CHECK_MSG(sl_xml_parse(bad[i], strlen(bad[i]), NULL, NULL, &err) == SL_INVALID_ARG, "%s", bad[i]);
    CHECK_CONTAINS(err.msg, "malformed XML at byte");
  }
  char deep[400] = "";
  for (int i = 0; i < 20; i++) strcat(deep, "<a>");
  for (int i = 0; i < 20; i++) strcat(deep, "</a>");
  sl_error err;
  sl_error_clear(&err);
  CHECK(sl_xml_parse(deep, strlen(deep), NULL, NULL, &err) == SL_INVALID_ARG);
  CHECK_CONTAINS(err.msg, "nested too deeply");
}

/* ---- credentials ------------------------------------------------------------------ */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static void clear_env(void) {
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  unsetenv("AWS_SESSION_TOKEN");
  unsetenv("AWS_PROFILE");
  unsetenv("AWS_REGION");
  unsetenv("AWS_DEFAULT_REGION");
  unsetenv("AWS_ENDPOINT_URL");
  unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  unsetenv("AWS_CONFIG_FILE");
}

TEST(ini_profiles) {
  const char *t = "[default]\naws_access_key_id = AK1\n\n[profile dev]\n  region=eu-west-1 \n# c\n"
                  "[dev]\naws_access_key_id=AK2\n";
  char *v = sl_aws_ini_get(t, "default", "aws_access_key_id");
  CHECK_STR(v, "AK1");
  free(v);
  v = sl_aws_ini_get(t, "profile dev", "region");
  CHECK_STR(v, "eu-west-1");
  free(v);
  v = sl_aws_ini_get(t, "dev", "aws_access_key_id");
  CHECK_STR(v, "AK2");
  free(v);
  CHECK(sl_aws_ini_get(t, "nope", "region") == NULL);
}

TEST(credentials_chain_order) {
  clear_env();
  char home[] = "/tmp/sl_aws_home_XXXXXX";
  CHECK(mkdtemp(home) != NULL);
  char p[256];
  snprintf(p, sizeof p, "%s/.aws", home);
  mkdir(p, 0700);
  snprintf(p, sizeof p, "%s/.aws/credentials", home);
  write_file(p, "[default]\naws_access_key_id = AKFILEDEFAULT\naws_secret_access_key = SKFILEDEFAULT\n"
                "[dev]\naws_access_key_id = AKFILEDEV\naws_secret_access_key = SKFILEDEV\n"
                "aws_session_token = TOKFILEDEV\n");
  snprintf(p, sizeof p, "%s/.aws/config", home);
  write_file(p, "[profile dev]\nregion = ap-south-1\n");
  sl_aws_cred_options o = {.home = home, .imds_endpoint = ""};
  sl_aws_credentials c;
  sl_error err;
  sl_error_clear(&err);
  /* profile files */
  CHECK_OK(sl_aws_credentials_resolve(&o, &c, &err));
  CHECK_STR(c.access_key_id, "AKFILEDEFAULT");
  CHECK_STR(c.source, "profile default");
  sl_aws_credentials_free(&c);
  setenv("AWS_PROFILE", "dev", 1);
  CHECK_OK(sl_aws_credentials_resolve(&o, &c, &err));
  CHECK_STR(c.access_key_id, "AKFILEDEV");
  CHECK_STR(c.session_token, "TOKFILEDEV");
  CHECK_STR(c.region, "ap-south-1");
  sl_aws_credentials_free(&c);
  /* env beats files */
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "SKENVSECRET", 1);
  CHECK_OK(sl_aws_credentials_resolve(&o, &c, &err));
  CHECK_STR(c.access_key_id, "AKENV");
  CHECK_STR(c.source, "env");
  sl_aws_credentials_free(&c);
  /* given values beat env */
  o.access_key_id = "AKGIVEN";
  o.secret_access_key = "SKGIVENSECRET";
  o.endpoint_url = "http://127.0.0.1:1";
  CHECK_OK(sl_aws_credentials_resolve(&o, &c, &err));
  CHECK_STR(c.access_key_id, "AKGIVEN");
  CHECK_STR(c.endpoint_url, "http://127.0.0.1:1");
  sl_aws_credentials_free(&c);
  /* every secret is redacted from messages */
  sl_error_set(&err, SL_IO, "oops SKGIVENSECRET SKENVSECRET SKFILEDEV TOKFILEDEV");
  CHECK(strstr(err.msg, "SKGIVENSECRET") == NULL);
  CHECK(strstr(err.msg, "SKENVSECRET") == NULL);
  CHECK(strstr(err.msg, "SKFILEDEV") == NULL);
  CHECK(strstr(err.msg, "TOKFILEDEV") == NULL);
  /* nothing anywhere: a clear error */
  clear_env();
  sl_aws_cred_options none = {.home = "/nonexistent", .imds_endpoint = "",
                              .sections = (const char *const[]){"destination.filesystem.credentials", NULL}};
  sl_error_clear(&err);
  CHECK(sl_aws_credentials_resolve(&none, &c, &err) == SL_CONFIG_MISSING);
  CHECK_CONTAINS(err.msg, "no AWS credentials");
  CHECK_CONTAINS(err.msg, "destination.filesystem.credentials");
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", home);
  CHECK(system(cmd) == 0);
}

static int free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(s, (struct sockaddr *)&a, sizeof a);
  socklen_t l = sizeof a;
  getsockname(s, (struct sockaddr *)&a, &l);
  close(s);
  return ntohs(a.sin_port);
}

static bool wait_port(int port, int ms) {
  for (int t = 0; t < ms; t += 50) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int r = connect(s, (struct sockaddr *)&a, sizeof a);
    close(s);
    if (r == 0) return true;
    usleep(50000);
  }
  return false;
}

static pid_t spawn(char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    int fd = open("/dev/null", 1);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static void stop(pid_t pid) {
  if (pid <= 0) return;
  kill(-pid, SIGTERM);
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
}

TEST(credentials_imdsv2) {
  clear_env();
  int port = free_port();
  char script[] = "/tmp/sl_imds_XXXXXX.py";
  int fd = mkstemps(script, 3);
  CHECK(fd >= 0);
  const char *py =
      "import http.server, json, sys\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "  def log_message(self, *a): pass\n"
      "  def do_PUT(self):\n"
      "    ok = self.path == '/latest/api/token' and self.headers.get('X-aws-ec2-metadata-token-ttl-seconds')\n"
      "    self.send_response(200 if ok else 400); self.end_headers(); self.wfile.write(b'TOKEN123' if ok else b'')\n"
      "  def do_GET(self):\n"
      "    if self.headers.get('X-aws-ec2-metadata-token') != 'TOKEN123':\n"
      "      self.send_response(401); self.end_headers(); return\n"
      "    if self.path == '/latest/meta-data/iam/security-credentials/':\n"
      "      body = b'role1'\n"
      "    elif self.path == '/latest/meta-data/iam/security-credentials/role1':\n"
      "      body = json.dumps({'Code': 'Success', 'AccessKeyId': 'AKIMDS', 'SecretAccessKey': 'SKIMDSSECRET', 'Token': 'TKIMDS'}).encode()\n"
      "    else:\n"
      "      self.send_response(404); self.end_headers(); return\n"
      "    self.send_response(200); self.end_headers(); self.wfile.write(body)\n"
      "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n";
  CHECK(write(fd, py, strlen(py)) == (ssize_t)strlen(py));
  close(fd);
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  pid_t pid = spawn((char *const[]){"python3", script, ps, NULL});
  CHECK(wait_port(port, 5000));
  char ep[64];
  snprintf(ep, sizeof ep, "http://127.0.0.1:%d", port);
  sl_aws_cred_options o = {.home = "/nonexistent", .imds_endpoint = ep};
  sl_aws_credentials c;
  sl_error err;
  sl_error_clear(&err);
  CHECK_OK(sl_aws_credentials_resolve(&o, &c, &err));
  CHECK_STR(c.access_key_id, "AKIMDS");
  CHECK_STR(c.session_token, "TKIMDS");
  CHECK_STR(c.source, "imds");
  sl_error_set(&err, SL_IO, "x SKIMDSSECRET TKIMDS");
  CHECK(strstr(err.msg, "SKIMDSSECRET") == NULL && strstr(err.msg, "TKIMDS") == NULL);
  sl_aws_credentials_free(&c);
  stop(pid);
  unlink(script);
}

TEST(s3_url) {
  char *b, *p;
  CHECK_OK(sl_s3_parse_url("s3://bkt/a/b/", &b, &p, NULL));
  CHECK_STR(b, "bkt");
  CHECK_STR(p, "a/b");
  free(b);
  free(p);
  CHECK(sl_s3_parse_url("s3:///x", &b, &p, NULL) == SL_CONFIG_INVALID);
  free(b);
  free(p);
}

/* ---- SigV4: libcurl's signing, as this client sets it up, against the
 * GET Object example of AWS's S3 SigV4 documentation. ---------------------- */

static size_t cap_body(char *p, size_t sz, size_t n, void *ud) {
  sl_buf_append(ud, p, sz * n);
  return sz * n;
}

TEST(sigv4_aws_vector) {
  int port = free_port();
  char script[] = "/tmp/sl_echo_XXXXXX.py";
  int fd = mkstemps(script, 3);
  CHECK(fd >= 0);
  const char *py =
      "import http.server, sys\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "  def log_message(self, *a): pass\n"
      "  def do_GET(self):\n"
      "    b = (self.headers.get('Authorization') or '').encode()\n"
      "    self.send_response(200); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)\n"
      "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n";
  CHECK(write(fd, py, strlen(py)) == (ssize_t)strlen(py));
  close(fd);
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  pid_t pid = spawn((char *const[]){"python3", script, ps, NULL});
  CHECK(wait_port(port, 5000));
  CURL *h = curl_easy_init();
  char to[128];
  snprintf(to, sizeof to, "examplebucket.s3.amazonaws.com:80:127.0.0.1:%d", port);
  struct curl_slist *ct = curl_slist_append(NULL, to);
  struct curl_slist *hd = curl_slist_append(NULL, "Range: bytes=0-9");
  hd = curl_slist_append(hd, "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  hd = curl_slist_append(hd, "x-amz-date: 20130524T000000Z");
  sl_buf got = {0};
  curl_easy_setopt(h, CURLOPT_URL, "http://examplebucket.s3.amazonaws.com/test.txt");
  curl_easy_setopt(h, CURLOPT_CONNECT_TO, ct);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
  curl_easy_setopt(h, CURLOPT_USERPWD, "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cap_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
  CHECK(curl_easy_perform(h) == CURLE_OK);
  CHECK_STR(got.data,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  sl_buf_free(&got);
  curl_slist_free_all(hd);
  curl_slist_free_all(ct);
  curl_easy_cleanup(h);
  stop(pid);
  unlink(script);
}

/* ---- S3 on s3rver ----------------------------------------------------------------- */

/* s3rver, installed by scripts/deps.sh --s3 when it is missing: a test that
 * skips proves nothing. */
static pid_t s3rver_start(int *port, char *dir, size_t dsize) {
  char bin[512];
  snprintf(bin, sizeof bin, "%s/.deps/node/node_modules/.bin/s3rver", SL_SOURCE_DIR);
  if (access(bin, X_OK) != 0) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "bash '%s/scripts/deps.sh' --s3 >&2", SL_SOURCE_DIR);
    if (system(cmd) != 0 || access(bin, X_OK) != 0) {
      fprintf(stderr, "s3rver is not installed and scripts/deps.sh --s3 could not install it\n");
      return -1;
    }
  }
  snprintf(dir, dsize, "/tmp/sl_s3rver_XXXXXX");
  if (!mkdtemp(dir)) return -1;
  *port = free_port();
  char ps[16];
  snprintf(ps, sizeof ps, "%d", *port);
  /* s3rver 3.7 signs continuation tokens with DES: Node 20's OpenSSL 3 needs its legacy provider. */
  setenv("NODE_OPTIONS", "--openssl-legacy-provider", 1);
  pid_t pid = spawn((char *const[]){bin, "-d", dir, "-a", "127.0.0.1", "-p", ps, "-s",
                                    "--configure-bucket", "unit", NULL});
  if (!wait_port(*port, 20000)) {
    stop(pid);
    return -1;
  }
  return pid;
}

TEST(s3_against_s3rver) {
  int port;
  char dir[64];
  pid_t pid = s3rver_start(&port, dir, sizeof dir);
  CHECK_MSG(pid > 0, "s3rver did not start");
  if (pid <= 0) return;
  char ep[64];
  snprintf(ep, sizeof ep, "http://127.0.0.1:%d", port);
  sl_aws_credentials cr = {.access_key_id = "S3RVER", .secret_access_key = "S3RVER"};
  sl_s3_options o = {.creds = &cr, .endpoint_url = ep, .region = "us-east-1",
                     .part_size = 5u << 20, .multipart_threshold = 6u << 20, .parallel = 3};
  sl_error err;
  sl_error_clear(&err);
  sl_s3 *s = sl_s3_open(&o, &err);
  CHECK(s != NULL);
  if (!s) goto out;
  CHECK_OK(sl_s3_put(s, "unit", "dir/a b+c.txt", "hello", 5, &err));
  sl_buf b = {0};
  CHECK_OK(sl_s3_get(s, "unit", "dir/a b+c.txt", &b, &err));
  CHECK_STR(b.data, "hello");
  bool exists = false;
  uint64_t size = 0;
  CHECK_OK(sl_s3_head(s, "unit", "dir/a b+c.txt", &exists, &size, &err));
  CHECK(exists && size == 5);
  CHECK_OK(sl_s3_head(s, "unit", "nope", &exists, &size, &err));
  CHECK(!exists);
  sl_buf_reset(&b);
  CHECK(sl_s3_get(s, "unit", "nope", &b, &err) == SL_NOT_FOUND);
  CHECK_CONTAINS(err.msg, "NoSuchKey");
  /* Pages: more than one ListObjectsV2 answer (1000 keys a page). */
  char key[64];
  for (int i = 0; i < 1003; i++) {
    snprintf(key, sizeof key, "many/k%04d", i);
    if (sl_s3_put(s, "unit", key, "x", 1, &err)) {
      CHECK_MSG(0, "put %s: %s", key, err.msg);
      break;
    }
  }
  sl_s3_object *objs = NULL;
  size_t n = 0;
  sl_status lst = sl_s3_list(s, "unit", "many/", &objs, &n, &err);
  CHECK_MSG(lst == SL_OK, "list: %s", err.msg);
  CHECK_INT(n, 1003);
  uint64_t reqs = 0;
  sl_s3_stats(s, &reqs, NULL);
  CHECK(reqs > 1003 + 2);
  const char **keys = calloc(n + 1, sizeof *keys);
  for (size_t i = 0; i < n; i++) keys[i] = objs[i].key;
  CHECK_OK(sl_s3_delete(s, "unit", keys, n, &err));
  free(keys);
  sl_s3_objects_free(objs, n);
  CHECK_OK(sl_s3_list(s, "unit", "many/", &objs, &n, &err));
  CHECK_INT(n, 0);
  sl_s3_objects_free(objs, n);
  /* Multipart: 13 MB in 5 MB parts, 3 in flight. */
  char path[] = "/tmp/sl_mp_XXXXXX";
  int fd = mkstemp(path);
  size_t big = 13u << 20;
  char *data = malloc(big);
  for (size_t i = 0; i < big; i++) data[i] = (char)(i * 7 + i / 4096);
  CHECK(write(fd, data, big) == (ssize_t)big);
  close(fd);
  CHECK_OK(sl_s3_put_file(s, "unit", "big/file.bin", path, &err));
  sl_buf_reset(&b);
  CHECK_OK(sl_s3_get(s, "unit", "big/file.bin", &b, &err));
  CHECK(b.len == big && memcmp(b.data, data, big) == 0);
  /* A failing multipart (no such bucket) reports S3's error. */
  sl_error_clear(&err);
  CHECK(sl_s3_put_file(s, "no-such-bucket", "x", path, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "NoSuchBucket");
  unlink(path);
  free(data);
  sl_buf_free(&b);
  sl_s3_close(s);
  /* An unknown key id: S3's error code and status reach the caller (s3rver
   * does not check SigV4 signatures themselves; sigv4_aws_vector does). */
  sl_aws_credentials bad = {.access_key_id = "NOTAKEY", .secret_access_key = "WRONGSECRET"};
  o.creds = &bad;
  s = sl_s3_open(&o, &err);
  sl_error_clear(&err);
  CHECK(sl_s3_put(s, "unit", "x", "y", 1, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "InvalidAccessKeyId");
  CHECK(err.http_status == 403);
  CHECK(strstr(err.msg, "WRONGSECRET") == NULL);
  sl_s3_close(s);
out:
  stop(pid);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) {}
}

/* ---- a recording fake S3 ------------------------------------------------------ */

/* Path or virtual-host addressing (a host <bucket>.localhost or
 * <bucket>.s3.localhost: curl resolves *.localhost to the loopback). Every
 * request is logged as "METHOD HOST PATH?QUERY auth|noauth". Bucket names
 * inject failures: "parts" in it fails every part after the first (500),
 * "complete" answers CompleteMultipartUpload with 200 and an <Error> body,
 * "abortfails" fails AbortMultipartUpload (500), "slow" answers each part
 * after 300 ms. ListMultipartUploads pages two uploads at a time, with each
 * upload's <Initiated> time. */
static const char fake_s3_py[] =
    "import http.server, socketserver, sys, threading, urllib.parse, uuid, hashlib, time\n"
    "log = open(sys.argv[2], 'a', buffering=1)\n"
    "lock = threading.Lock()\n"
    "uploads, objects = {}, {}\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "  protocol_version = 'HTTP/1.1'\n"
    "  def log_message(self, *a): pass\n"
    "  def route(self):\n"
    "    host = self.headers.get('Host', '')\n"
    "    u = urllib.parse.urlsplit(self.path)\n"
    "    q = urllib.parse.parse_qs(u.query, keep_blank_values=True)\n"
    "    path = urllib.parse.unquote(u.path)\n"
    "    hn = host.split(':')[0]\n"
    "    if hn in ('localhost', 's3.localhost', '127.0.0.1'):\n"
    "      b, _, k = path[1:].partition('/')\n"
    "    else:\n"
    "      b, k = hn[:-len('.s3.localhost')] if hn.endswith('.s3.localhost') else hn[:-len('.localhost')], path[1:]\n"
    "    auth = 'auth' if self.headers.get('Authorization', '').startswith('AWS4-HMAC-SHA256 Credential=') else 'noauth'\n"
    "    with lock: log.write('%s %s %s %s\\n' % (self.command, host, self.path, auth))\n"
    "    n = int(self.headers.get('Content-Length') or 0)\n"
    "    self.data = self.rfile.read(n) if n else b''\n"
    "    return b, k, q\n"
    "  def send(self, code, data=b'', headers=()):\n"
    "    self.send_response(code)\n"
    "    for h in headers: self.send_header(*h)\n"
    "    self.send_header('Content-Length', str(len(data)))\n"
    "    self.end_headers()\n"
    "    if self.command != 'HEAD': self.wfile.write(data)\n"
    "  def err(self, code, c, m):\n"
    "    self.send(code, ('<?xml version=\"1.0\"?><Error><Code>%s</Code><Message>%s</Message></Error>' % (c, m)).encode())\n"
    "  def do_POST(self):\n"
    "    b, k, q = self.route()\n"
    "    if 'uploads' in q:\n"
    "      uid = uuid.uuid4().hex\n"
    "      with lock: uploads[uid] = [b, k, {}, time.gmtime()]\n"
    "      return self.send(200, ('<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId></InitiateMultipartUploadResult>' % (b, k, uid)).encode())\n"
    "    uid = q.get('uploadId', [''])[0]\n"
    "    if uid not in uploads: return self.err(404, 'NoSuchUpload', 'no such upload')\n"
    "    if 'complete' in b: return self.send(200, b'<Error><Code>InternalError</Code><Message>injected completion failure</Message></Error>')\n"
    "    with lock: bb, kk, parts, _ = uploads.pop(uid)\n"
    "    objects[(bb, kk)] = b''.join(parts[n] for n in sorted(parts))\n"
    "    self.send(200, b'<CompleteMultipartUploadResult/>')\n"
    "  def do_PUT(self):\n"
    "    b, k, q = self.route()\n"
    "    if 'partNumber' in q:\n"
    "      uid, n = q['uploadId'][0], int(q['partNumber'][0])\n"
    "      if uid not in uploads: return self.err(404, 'NoSuchUpload', 'no such upload')\n"
    "      if 'parts' in b and n > 1: return self.err(500, 'InternalError', 'injected part failure')\n"
    "      if 'slow' in b: time.sleep(0.3)\n"
    "      with lock: uploads[uid][2][n] = self.data\n"
    "      return self.send(200, headers=[('ETag', '\"%s\"' % hashlib.md5(self.data).hexdigest())])\n"
    "    objects[(b, k)] = self.data\n"
    "    self.send(200, headers=[('ETag', '\"x\"')])\n"
    "  def do_DELETE(self):\n"
    "    b, k, q = self.route()\n"
    "    if 'uploadId' in q:\n"
    "      if 'abortfails' in b: return self.err(500, 'InternalError', 'injected abort failure')\n"
    "      with lock: uploads.pop(q['uploadId'][0], None)\n"
    "    else: objects.pop((b, k), None)\n"
    "    self.send(204)\n"
    "  def do_GET(self):\n"
    "    b, k, q = self.route()\n"
    "    if 'uploads' in q:\n"
    "      pre = q.get('prefix', [''])[0]\n"
    "      with lock: mine = sorted((kk, uid) for uid, (bb, kk, _, _) in uploads.items() if bb == b and kk.startswith(pre))\n"
    "      if 'key-marker' in q: mine = [x for x in mine if x > (q['key-marker'][0], q.get('upload-id-marker', [''])[0])]\n"
    "      page, more = mine[:2], len(mine) > 2\n"
    "      x = '<ListMultipartUploadsResult><Bucket>%s</Bucket><IsTruncated>%s</IsTruncated>' % (b, 'true' if more else 'false')\n"
    "      if more: x += '<NextKeyMarker>%s</NextKeyMarker><NextUploadIdMarker>%s</NextUploadIdMarker>' % page[-1]\n"
    "      for kk, uid in page: x += '<Upload><Key>%s</Key><UploadId>%s</UploadId><Initiated>%s</Initiated></Upload>' % (kk, uid, time.strftime('%Y-%m-%dT%H:%M:%S.000Z', uploads[uid][3]))\n"
    "      return self.send(200, (x + '</ListMultipartUploadsResult>').encode())\n"
    "    if (b, k) in objects: return self.send(200, objects[(b, k)])\n"
    "    self.err(404, 'NoSuchKey', 'no such key')\n"
    "  do_HEAD = do_GET\n"
    "class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True\n"
    "S(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n";

typedef struct fake_s3 {
  pid_t pid;
  int port;
  char script[64], log[64];
} fake_s3;

static bool fake_s3_start(fake_s3 *f) {
  snprintf(f->script, sizeof f->script, "/tmp/sl_fakes3_XXXXXX.py");
  int fd = mkstemps(f->script, 3);
  if (fd < 0) return false;
  bool ok = write(fd, fake_s3_py, strlen(fake_s3_py)) == (ssize_t)strlen(fake_s3_py);
  close(fd);
  snprintf(f->log, sizeof f->log, "/tmp/sl_fakes3_log_XXXXXX");
  fd = mkstemp(f->log);
  if (fd < 0) return false;
  close(fd);
  f->port = free_port();
  char ps[16];
  snprintf(ps, sizeof ps, "%d", f->port);
  f->pid = spawn((char *const[]){"python3", f->script, ps, f->log, NULL});
  return ok && wait_port(f->port, 5000);
}

static void fake_s3_stop(fake_s3 *f) {
  stop(f->pid);
  unlink(f->script);
  unlink(f->log);
}

/* The request log so far. */
static char *fake_s3_log(const fake_s3 *f) {
  char *text = NULL;
  if (sl_read_file(f->log, &text, NULL, NULL) != SL_OK) return strdup("");
  return text;
}

static int count_lines(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

static void write_sized(const char *path, size_t size) {
  FILE *fp = fopen(path, "wb");
  for (size_t i = 0; fp && i < size; i++) fputc((int)(i * 31 % 251), fp);
  if (fp) fclose(fp);
}

static sl_s3 *open_fake(const fake_s3 *f, const char *host, sl_aws_credentials *cr, sl_error *err) {
  char ep[96];
  snprintf(ep, sizeof ep, "http://%s:%d", host, f->port);
  sl_s3_options o = {.creds = cr, .endpoint_url = ep, .region = "us-east-1", .parallel = 3,
                     .max_retries = 1};
  return sl_s3_open(&o, err);
}

TEST(s3_multipart_aborted_on_failure) {
  fake_s3 f;
  CHECK(fake_s3_start(&f));
  sl_aws_credentials cr = {.access_key_id = "AKFAKE", .secret_access_key = "SKFAKESECRET",
                           .settings = {.multipart_threshold = 5u << 20, .part_size = 5u << 20}};
  sl_error err;
  sl_error_clear(&err);
  sl_s3 *s = open_fake(&f, "127.0.0.1", &cr, &err);
  CHECK(s != NULL);
  char path[] = "/tmp/sl_mpf_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  write_sized(path, (16u << 20) + 123); /* 4 parts of 5 MB */
  sl_s3_upload *ups = NULL;
  size_t n = 9;

  /* Control: the same upload goes through when nothing fails. */
  CHECK_OK(sl_s3_put_file(s, "ok", "data/whole.bin", path, &err));
  char *log = fake_s3_log(&f);
  CHECK_INT(count_lines(log, "?partNumber="), 4);
  CHECK_INT(count_lines(log, "POST 127.0.0.1"), 2); /* create and complete */
  free(log);

  /* A part fails after CreateMultipartUpload: the error is S3's, and the
   * upload is aborted, so ListMultipartUploads shows nothing left. */
  sl_error_clear(&err);
  CHECK(sl_s3_put_file(s, "parts", "data/f.bin", path, &err) == SL_DESTINATION);
  CHECK_CONTAINS(err.msg, "S3 upload of part");
  CHECK_CONTAINS(err.msg, "HTTP 500 InternalError: injected part failure");
  CHECK(strstr(err.msg, "stay in the bucket") == NULL);
  log = fake_s3_log(&f);
  CHECK_INT(count_lines(log, "DELETE 127.0.0.1"), 1);
  CHECK_CONTAINS(log, "DELETE 127.0.0.1");
  free(log);
  CHECK_OK(sl_s3_list_uploads(s, "parts", "", &ups, &n, &err));
  CHECK_INT(n, 0);
  sl_s3_uploads_free(ups, n);

  /* The completion fails (200 with an <Error> body): aborted too. */
  sl_error_clear(&err);
  CHECK(sl_s3_put_file(s, "complete", "data/c.bin", path, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "injected completion failure");
  CHECK_OK(sl_s3_list_uploads(s, "complete", NULL, &ups, &n, &err));
  CHECK_INT(n, 0);
  sl_s3_uploads_free(ups, n);

  /* The abort fails as well: the error says the parts stay and names the
   * upload; ListMultipartUploads (paged two at a time) finds all three. */
  char key[32], ids[3][64] = {{0}};
  for (int i = 0; i < 3; i++) {
    snprintf(key, sizeof key, "o/%d.bin", i);
    sl_error_clear(&err);
    CHECK(sl_s3_put_file(s, "parts-abortfails", key, path, &err) != SL_OK);
    CHECK_CONTAINS(err.msg, "injected part failure");
    CHECK_CONTAINS(err.msg, "its parts stay in the bucket");
    const char *at = strstr(err.msg, "aborting upload ");
    if (at) sscanf(at + 16, "%63s", ids[i]);
  }
  CHECK_OK(sl_s3_list_uploads(s, "parts-abortfails", "o/", &ups, &n, &err));
  CHECK_INT(n, 3);
  for (size_t i = 0; i < n && i < 3; i++) {
    snprintf(key, sizeof key, "o/%zu.bin", i);
    CHECK_STR(ups[i].key, key);
    CHECK_STR(ups[i].upload_id, ids[i]);
  }
  sl_s3_uploads_free(ups, n);
  log = fake_s3_log(&f);
  CHECK_CONTAINS(log, "key-marker=o%2F1.bin&prefix=o%2F&upload-id-marker=");
  CHECK_INT(count_lines(log, "noauth"), 0);
  free(log);
  CHECK_OK(sl_s3_list_uploads(s, "parts-abortfails", "zz", &ups, &n, &err));
  CHECK_INT(n, 0);
  sl_s3_uploads_free(ups, n);
  /* An explicit abort of an upload that is gone is fine. */
  CHECK_OK(sl_s3_abort_upload(s, "ok", "data/whole.bin", "no-such-upload", &err));
  unlink(path);
  sl_s3_close(s);
  fake_s3_stop(&f);
}

/* A process killed mid multipart upload leaves its parts; the next load's
 * sl_s3_abort_uploads_before clears them (and only what began by then, under
 * the prefix), so ListMultipartUploads is empty afterwards. */
TEST(s3_orphan_uploads_aborted_after_kill) {
  fake_s3 f;
  CHECK(fake_s3_start(&f));
  sl_aws_credentials cr = {.access_key_id = "AKFAKE", .secret_access_key = "SKFAKESECRET",
                           .settings = {.multipart_threshold = 5u << 20, .part_size = 5u << 20}};
  sl_error err;
  sl_error_clear(&err);
  char path[] = "/tmp/sl_mpk_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  write_sized(path, (20u << 20) + 7); /* 5 parts, 300 ms each on a "slow" bucket */
  fflush(NULL);
  pid_t child = fork();
  if (child == 0) {
    sl_error e;
    sl_error_clear(&e);
    sl_s3 *cs = open_fake(&f, "127.0.0.1", &cr, &e);
    _exit(cs && sl_s3_put_file(cs, "slow", "ds/pins/1.parquet", path, &e) == SL_OK ? 0 : 1);
  }
  CHECK(child > 0);
  /* SIGKILL once a part is on its way: the upload is left open. */
  bool parting = false;
  for (int i = 0; i < 500 && !parting; i++) {
    char *log = fake_s3_log(&f);
    parting = count_lines(log, "?partNumber=") > 0;
    free(log);
    if (!parting) usleep(10000);
  }
  CHECK(parting);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(WIFSIGNALED(status));
  sl_s3 *s = open_fake(&f, "127.0.0.1", &cr, &err);
  CHECK(s != NULL);
  sl_s3_upload *ups = NULL;
  size_t n = 0;
  CHECK_OK(sl_s3_list_uploads(s, "slow", "ds/", &ups, &n, &err));
  CHECK_INT(n, 1);
  CHECK(n == 1 && ups[0].initiated > 0 && ups[0].initiated <= (int64_t)time(NULL));
  sl_s3_uploads_free(ups, n);
  /* An upload of another prefix stays; one begun after `before` too. */
  CHECK(sl_s3_put_file(s, "parts-abortfails", "other/x.bin", path, &err) != SL_OK);
  sl_error_clear(&err);
  size_t aborted = 9;
  CHECK_OK(sl_s3_abort_uploads_before(s, "slow", "ds/", (int64_t)time(NULL) - 3600, &aborted, &err));
  CHECK_INT(aborted, 0);
  CHECK_OK(sl_s3_abort_uploads_before(s, "slow", "ds/", (int64_t)time(NULL), &aborted, &err));
  CHECK_INT(aborted, 1);
  CHECK_OK(sl_s3_list_uploads(s, "slow", "", &ups, &n, &err));
  CHECK_INT(n, 0);
  sl_s3_uploads_free(ups, n);
  CHECK_OK(sl_s3_list_uploads(s, "parts-abortfails", "other/", &ups, &n, &err));
  CHECK_INT(n, 1);
  sl_s3_uploads_free(ups, n);
  /* A failing abort is the function's error (the load only logs it). */
  sl_error_clear(&err);
  CHECK(sl_s3_abort_uploads_before(s, "parts-abortfails", "other/", (int64_t)time(NULL), &aborted, &err) != SL_OK);
  CHECK_CONTAINS(err.msg, "injected abort failure");
  unlink(path);
  sl_s3_close(s);
  fake_s3_stop(&f);
}

TEST(s3_addressing_style) {
  fake_s3 f;
  CHECK(fake_s3_start(&f));
  sl_error err;
  sl_error_clear(&err);
  struct {
    const char *style, *host, *bucket;
    const char *want; /* "HOST PATH" as the server saw it; %d is the port */
  } cases[] = {
      {"virtual", "localhost", "vbucket", "PUT vbucket.localhost:%d /dir/a%%20b.txt auth"},
      {"path", "localhost", "vbucket", "PUT localhost:%d /vbucket/dir/a%%20b.txt auth"},
      /* auto: path style on localhost/IP endpoints, virtual-host elsewhere ... */
      {"auto", "localhost", "vbucket", "PUT localhost:%d /vbucket/dir/a%%20b.txt auth"},
      {"auto", "s3.localhost", "vbucket", "PUT vbucket.s3.localhost:%d /dir/a%%20b.txt auth"},
      /* ... but path style for a name that is no DNS label */
      {"auto", "s3.localhost", "v.bucket", "PUT s3.localhost:%d /v.bucket/dir/a%%20b.txt auth"},
      {NULL, "s3.localhost", "vbucket2", "PUT vbucket2.s3.localhost:%d /dir/a%%20b.txt auth"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    /* The setting as a user writes it in sluice.toml. */
    char toml[200];
    if (cases[i].style)
      snprintf(toml, sizeof toml, "[destination.filesystem]\naddressing_style = \"%s\"\n", cases[i].style);
    else
      snprintf(toml, sizeof toml, "[destination.filesystem]\nbucket_url = \"s3://x\"\n");
    sl_doc *d = sl_toml_parse(toml, strlen(toml), "sluice.toml", &err);
    CHECK(d != NULL);
    sl_aws_credentials cr = {.access_key_id = "AKFAKE", .secret_access_key = "SKFAKE"};
    CHECK_OK(sl_aws_settings_read(NULL, d ? d->root : NULL, &cr.settings, &err));
    sl_doc_free(d);
    sl_s3 *s = open_fake(&f, cases[i].host, &cr, &err);
    CHECK(s != NULL);
    if (!s) continue;
    CHECK_MSG(sl_s3_put(s, cases[i].bucket, "dir/a b.txt", "hi", 2, &err) == SL_OK, "%s: %s", cases[i].style,
              err.msg);
    sl_buf got = {0};
    CHECK_OK(sl_s3_get(s, cases[i].bucket, "dir/a b.txt", &got, &err));
    CHECK_STR(got.data, "hi");
    sl_buf_free(&got);
    sl_s3_close(s);
    char want[200];
    snprintf(want, sizeof want, cases[i].want, f.port);
    char *log = fake_s3_log(&f);
    CHECK_MSG(strstr(log, want) != NULL, "%s on %s: no \"%s\" in\n%s", cases[i].style ? cases[i].style : "(unset)",
              cases[i].host, want, log);
    free(log);
  }
  fake_s3_stop(&f);
}

TEST(s3_settings_from_config) {
  sl_error err;
  sl_error_clear(&err);
  /* The environment layer (as DESTINATION__FILESYSTEM__… variables) ... */
  char *env[] = {"DESTINATION__FILESYSTEM__MULTIPART_THRESHOLD_MB=6", "DESTINATION__FILESYSTEM__MULTIPART_PART_MB=7",
                 "DESTINATION__FILESYSTEM__ADDRESSING_STYLE=virtual", "DESTINATION__ATHENA__QUERY_TIMEOUT_S=42",
                 NULL};
  sl_config_options co = {.project_dir = "/nonexistent", .home_dir = "", .environ = env};
  sl_config *cfg = sl_config_open(&co, &err);
  CHECK(cfg != NULL);
  sl_aws_settings set;
  CHECK_OK(sl_aws_settings_read(cfg, NULL, &set, &err));
  CHECK_INT(set.multipart_threshold, 6u << 20);
  CHECK_INT(set.part_size, 7u << 20);
  CHECK(set.addressing == SL_S3_ADDRESSING_VIRTUAL);
  CHECK_INT(set.athena_query_timeout_s, 42);
  sl_config_free(cfg);
  /* ... beats sluice.toml, which applies when the layers say nothing. */
  const char *toml = "[destination.filesystem]\nmultipart_threshold_mb = 100\nmultipart_part_mb = 5\n";
  sl_doc *d = sl_toml_parse(toml, strlen(toml), "sluice.toml", &err);
  CHECK_OK(sl_aws_settings_read(NULL, d->root, &set, &err));
  CHECK_INT(set.multipart_threshold, 100u << 20);
  CHECK_INT(set.part_size, 5u << 20);
  CHECK(set.addressing == SL_S3_ADDRESSING_AUTO);
  CHECK_INT(set.athena_query_timeout_s, 0);
  sl_doc_free(d);
  /* Refused: a part below S3's 5 MB, a threshold of 0, an unknown style. */
  const char *bad[][2] = {
      {"[destination.filesystem]\nmultipart_part_mb = 4\n", "multipart_part_mb must be a whole number of at least 5"},
      {"[destination.filesystem]\nmultipart_threshold_mb = 0\n", "multipart_threshold_mb must be a whole number"},
      {"[destination.filesystem]\nmultipart_part_mb = \"big\"\n", "multipart_part_mb must be a whole number"},
      {"[destination.filesystem]\naddressing_style = \"vhost\"\n", "addressing_style = \"vhost\" is not"},
      {"[destination.athena]\nquery_timeout_s = -1\n", "query_timeout_s must be a whole number of at least 1"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    d = sl_toml_parse(bad[i][0], strlen(bad[i][0]), "sluice.toml", &err);
    sl_error_clear(&err);
    CHECK_MSG(sl_aws_settings_read(NULL, d->root, &set, &err) == SL_CONFIG_INVALID, "%s", bad[i][0]);
    CHECK_CONTAINS(err.msg, bad[i][1]);
    sl_doc_free(d);
  }
  /* The client takes them from the credentials, and keeps parts >= 5 MiB. */
  sl_aws_credentials cr = {.access_key_id = "AK", .secret_access_key = "SK",
                           .settings = {.addressing = SL_S3_ADDRESSING_VIRTUAL, .multipart_threshold = 6u << 20,
                                        .part_size = 7u << 20}};
  sl_s3_options o = {.creds = &cr, .endpoint_url = "http://127.0.0.1:1"};
  sl_s3 *s = sl_s3_open(&o, &err);
  sl_s3_addressing a;
  size_t part = 0, thr = 0;
  sl_s3_settings(s, &a, &part, &thr);
  CHECK(a == SL_S3_ADDRESSING_VIRTUAL);
  CHECK_INT(part, 7u << 20);
  CHECK_INT(thr, 6u << 20);
  sl_s3_close(s);
  cr.settings = (sl_aws_settings){.part_size = 1u << 20};
  s = sl_s3_open(&o, &err);
  sl_s3_settings(s, &a, &part, &thr);
  CHECK(a == SL_S3_ADDRESSING_PATH); /* auto on an IP endpoint */
  CHECK_INT(part, 5u << 20);
  CHECK_INT(thr, 16u << 20);
  sl_s3_close(s);
}

/* The threshold and the part size decide what goes on the wire: a 12 MB file
 * is one PUT under the default threshold, three parts at 5 MB, two at 6 MB. */
TEST(s3_multipart_threshold_and_part_size) {
  fake_s3 f;
  CHECK(fake_s3_start(&f));
  sl_error err;
  sl_error_clear(&err);
  char path[] = "/tmp/sl_mpt_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  write_sized(path, 12u << 20);
  struct {
    uint64_t threshold, part;
    int parts;
  } cases[] = {{0, 0, 0}, {10u << 20, 5u << 20, 3}, {10u << 20, 6u << 20, 2}, {13u << 20, 5u << 20, 0}};
  int before = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sl_aws_credentials cr = {.access_key_id = "AK", .secret_access_key = "SK",
                             .settings = {.multipart_threshold = cases[i].threshold, .part_size = cases[i].part}};
    sl_s3 *s = open_fake(&f, "127.0.0.1", &cr, &err);
    char key[32];
    snprintf(key, sizeof key, "t/%zu.bin", i);
    CHECK_OK(sl_s3_put_file(s, "ok", key, path, &err));
    sl_buf got = {0};
    CHECK_OK(sl_s3_get(s, "ok", key, &got, &err));
    CHECK_INT(got.len, 12u << 20);
    sl_buf_free(&got);
    sl_s3_close(s);
    char *log = fake_s3_log(&f);
    int parts = count_lines(log, "?partNumber=");
    CHECK_MSG(parts - before == cases[i].parts, "case %zu: %d parts, want %d", i, parts - before, cases[i].parts);
    before = parts;
    free(log);
  }
  unlink(path);
  fake_s3_stop(&f);
}

TEST_MAIN()
