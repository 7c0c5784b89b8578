/* AWS pieces: the XML reader, ~/.aws files, the credentials chain (config,
 * env, profile files, IMDSv2 served by a local stand-in), secret redaction,
 * and the S3 client against a real s3rver (started here when installed by
 * scripts/deps.sh --s3): signatures it checks, PUT/GET/HEAD, ListObjectsV2
 * across continuation pages, DeleteObjects, multipart in parallel. */
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
#include "sluice/log.h"
#include "sluice/package.h"
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

static pid_t s3rver_start(int *port, char *dir, size_t dsize) {
  char bin[512];
  snprintf(bin, sizeof bin, "%s/.deps/node/node_modules/.bin/s3rver", SL_SOURCE_DIR);
  if (access(bin, X_OK) != 0) return -1;
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
  if (pid < 0) {
    printf("SKIP s3_against_s3rver: s3rver not installed (scripts/deps.sh --s3)\n");
    return;
  }
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

TEST_MAIN()
