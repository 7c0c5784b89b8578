#!/usr/bin/env bash
# `sluice init --spec https://...` against a local HTTPS server (python3 ssl,
# a self-signed certificate made with the openssl CLI here): trusted through
# SSL_CERT_FILE (or CURL_CA_BUNDLE) it generates the same YAML as from the
# file; without the CA, or for a missing spec (404), or for a closed port it
# fails with an error that names the URL and the cause.
set -euo pipefail
: "${SLUICE:?}" "${SL_SOURCE_DIR:?}"
work="$(mktemp -d "${TMPDIR:-/tmp}/sl_init_https.XXXXXX")"
srv_pid=""
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v openssl >/dev/null || fail "the openssl CLI is needed to make the test certificate"
unset SSL_CERT_FILE CURL_CA_BUNDLE

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >"$work/openssl.log" 2>&1 \
  || fail "openssl: $(cat "$work/openssl.log")"
mkdir "$work/www"
cp "$SL_SOURCE_DIR/tests/data/init/analytics.yaml" "$work/www/"
cat >"$work/https.py" <<'PY'
import http.server, os, ssl, sys
root, cert, key, port_file = sys.argv[1:5]
os.chdir(root)
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
PY
python3 "$work/https.py" "$work/www" "$work/cert.pem" "$work/key.pem" "$work/port" >"$work/srv.log" 2>&1 &
srv_pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "HTTPS server did not start: $(cat "$work/srv.log")"
url="https://127.0.0.1:$(cat "$work/port")"

# 1. trusted by SSL_CERT_FILE: the same YAML as from the file (but the first
#    comment, which names where the spec came from), and the same report
SSL_CERT_FILE="$work/cert.pem" "$SLUICE" init analytics --spec "$url/analytics.yaml" \
  --out "$work/a" >"$work/a.report" 2>&1 || fail "init over HTTPS: $(cat "$work/a.report")"
grep -q "^#   $url/analytics.yaml (Small analytics API" "$work/a/analytics.source.yaml" \
  || fail "the YAML does not name the URL: $(sed -n 2p "$work/a/analytics.source.yaml")"
diff <(sed 2d "$work/a/analytics.source.yaml") \
     <(sed 2d "$SL_SOURCE_DIR/tests/data/init/analytics.source.yaml") >&2 \
  || fail "the YAML from HTTPS differs from the golden file"
grep -q "^date windows: 1 incremental (60 days per request, 180 days back;" "$work/a.report" \
  || fail "report: $(cat "$work/a.report")"
# and by CURL_CA_BUNDLE, as the curl tool reads it
CURL_CA_BUNDLE="$work/cert.pem" "$SLUICE" init analytics --spec "$url/analytics.yaml" \
  --out "$work/b" >"$work/b.report" 2>&1 || fail "init with CURL_CA_BUNDLE: $(cat "$work/b.report")"

# 2. an untrusted certificate: refused, naming the URL, the cause and the remedy
if "$SLUICE" init analytics --spec "$url/analytics.yaml" --out "$work/c" >"$work/c.out" 2>&1; then
  fail "a self-signed certificate was accepted without its CA"
fi
grep -q "cannot download the spec $url/analytics.yaml: .*certificate" "$work/c.out" \
  || fail "bad-certificate error: $(cat "$work/c.out")"
grep -q "SSL_CERT_FILE" "$work/c.out" || fail "the error does not say how to trust a CA: $(cat "$work/c.out")"
[ ! -e "$work/c" ] || fail "a folder was written after the download failed"

# 3. a missing spec: the status and the URL
if SSL_CERT_FILE="$work/cert.pem" "$SLUICE" init analytics --spec "$url/missing.yaml" \
    --out "$work/d" >"$work/d.out" 2>&1; then
  fail "a 404 spec was accepted"
fi
grep -q "cannot download the spec $url/missing.yaml: the server answered HTTP 404" "$work/d.out" \
  || fail "404 error: $(cat "$work/d.out")"

# 4. nobody listening: the URL and the connection error
kill "$srv_pid" && wait "$srv_pid" 2>/dev/null || true
srv_pid=""
if SSL_CERT_FILE="$work/cert.pem" "$SLUICE" init analytics --spec "$url/analytics.yaml" \
    --out "$work/e" >"$work/e.out" 2>&1; then
  fail "a closed port was accepted"
fi
grep -qi "cannot download the spec $url/analytics.yaml: .*connect" "$work/e.out" \
  || fail "connection error: $(cat "$work/e.out")"
echo "init_https: trusted by SSL_CERT_FILE and CURL_CA_BUNDLE; bad certificate, 404 and closed port refused with the URL"
