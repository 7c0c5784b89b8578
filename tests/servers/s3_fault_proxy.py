#!/usr/bin/env python3
"""s3_fault_proxy.py: a small HTTP proxy in front of s3rver for sluice's tests.

It forwards every request unchanged (method, path, headers, body) and can:
  - answer 500 InternalError instead of forwarding, for requests picked by
    /__proxy/fail (after N more good ones, for M, or for every one);
  - slow down answers (--latency-ms, or /__proxy/latency?ms=N);
  - rewrite the access key id in a SigV4 Authorization header to the one
    s3rver knows (--access-key S3RVER), so a test can configure distinctive
    AWS keys; s3rver then runs with --allow-mismatched-signatures.

Admin (never forwarded; no bucket name starts with '_'):
  POST /__proxy/fail?after=N&count=M&methods=PUT,POST   M=-1: until /__proxy/ok
  POST /__proxy/ok            stop failing
  POST /__proxy/latency?ms=N&match=S   S: only paths containing S are slowed
  GET  /__proxy/stats         {"forwarded": n, "failed": n, "by_method": {...}}

    python3 s3_fault_proxy.py --upstream http://127.0.0.1:4568 --port 0 --port-file F
"""
import argparse
import http.client
import http.server
import json
import re
import socketserver
import sys
import threading
import time
import urllib.parse

CRED = re.compile(r"Credential=[^/]*/")


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.latency_ms = args.latency_ms
        self.latency_match = ""
        self.fail_after = -1   # good requests left before failing; -1: not failing
        self.fail_count = 0    # failures left; -1: until /__proxy/ok
        self.fail_methods = None
        self.forwarded = 0
        self.failed = 0
        self.by_method = {}

    def should_fail(self, method):
        with self.lock:
            self.by_method[method] = self.by_method.get(method, 0) + 1
            if self.fail_after < 0 or (self.fail_methods and method not in self.fail_methods):
                return False
            if self.fail_after > 0:
                self.fail_after -= 1
                return False
            if self.fail_count == 0:
                self.fail_after = -1
                return False
            if self.fail_count > 0:
                self.fail_count -= 1
            self.failed += 1
            return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        if self.server.state.args.verbose:
            sys.stderr.write("proxy: " + (fmt % a) + "\n")

    def reply(self, code, body, ctype="application/xml"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def admin(self, path, q):
        st = self.server.state
        if path == "/__proxy/fail":
            with st.lock:
                st.fail_after = int(q.get("after", ["0"])[0])
                st.fail_count = int(q.get("count", ["-1"])[0])
                m = q.get("methods", [""])[0]
                st.fail_methods = set(m.split(",")) if m else None
        elif path == "/__proxy/ok":
            with st.lock:
                st.fail_after = -1
        elif path == "/__proxy/latency":
            st.latency_ms = float(q.get("ms", ["0"])[0])
            st.latency_match = q.get("match", [""])[0]
        elif path != "/__proxy/stats":
            return self.reply(404, "{}", "application/json")
        with st.lock:
            out = {"forwarded": st.forwarded, "failed": st.failed, "by_method": st.by_method}
        self.reply(200, json.dumps(out), "application/json")

    def handle_any(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if u.path.startswith("/__proxy/"):
            return self.admin(u.path, urllib.parse.parse_qs(u.query))
        if st.latency_ms and st.latency_match in u.path:
            time.sleep(st.latency_ms / 1000.0)
        if st.should_fail(self.command):
            return self.reply(500, '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
                                   '<Message>We encountered an internal error. Please try again.</Message>'
                                   '</Error>')
        headers = {}
        for k, v in self.headers.items():
            if k.lower() in ("connection", "keep-alive", "proxy-connection", "transfer-encoding"):
                continue
            if k.lower() == "authorization" and st.args.access_key:
                v = CRED.sub("Credential=%s/" % st.args.access_key, v, count=1)
            headers[k] = v
        up = self.server.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        try:
            conn.request(self.command, self.path, body=body if (n or self.command in ("PUT", "POST")) else None,
                         headers=headers)
            r = conn.getresponse()
            data = r.read()
        except OSError as e:
            return self.reply(502, "<Error><Code>BadGateway</Code><Message>%s</Message></Error>" % e)
        finally:
            conn.close()
        with st.lock:
            st.forwarded += 1
        self.send_response(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                continue
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True, help="s3rver's URL")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--access-key", default=None, help="access key id to put into Authorization")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    srv = Server((args.host, args.port), Handler)
    srv.state = State(args)
    srv.upstream = urllib.parse.urlsplit(args.upstream)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        import os
        os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
