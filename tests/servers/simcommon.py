"""simcommon: pieces shared by sluice's test servers (pinterest_sim.py and
generic_api.py): stable hashing, deterministic fault injection, request
statistics, a keep-alive JSON request handler and the server runner (free
port, --port-file, LISTENING line, SIGTERM/SIGINT and admin shutdown).

Python 3 standard library only.
"""

import argparse
import gzip
import hashlib
import json
import os
import signal
import socket
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


# ------------------------------------------------------------------ hashing
def h64(*parts):
    """A stable 64-bit hash of the parts (str() of each), independent of
    PYTHONHASHSEED and of the platform."""
    data = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def unit(*parts):
    """A stable float in [0, 1) from the parts."""
    return (h64(*parts) >> 11) / float(1 << 53)


# ------------------------------------------------------------------ flags
def add_common_args(ap):
    """Flags that both servers take."""
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    ap.add_argument("--port-file", help="write the chosen port to this file")
    ap.add_argument("--fail-5xx", type=float, default=0.0, metavar="P",
                    help="fraction of API requests answered 500/502/503")
    ap.add_argument("--fail-429", type=float, default=0.0, metavar="P",
                    help="fraction of API requests answered 429 with Retry-After")
    ap.add_argument("--retry-after", type=float, default=1, metavar="S",
                    help="Retry-After seconds sent with injected 429s (default 1; 0 allowed)")
    ap.add_argument("--truncate", type=float, default=0.0, metavar="P",
                    help="fraction of API responses cut short")
    ap.add_argument("--truncate-mode", choices=("short", "cut", "mixed"), default="short",
                    help="short: Content-Length says more than is sent, then the connection "
                         "closes (default); cut: a consistent Content-Length but the JSON "
                         "stops mid-way; mixed: either")
    ap.add_argument("--latency-ms", type=float, default=0.0, metavar="MS",
                    help="sleep this long before answering each API request")
    ap.add_argument("--latency-jitter-ms", type=float, default=0.0, metavar="MS",
                    help="plus a deterministic 0..MS extra per request")
    ap.add_argument("--fault-seed", type=int, default=1, help="seed of the fault decisions")
    ap.add_argument("--max-inflight", type=int, default=0, metavar="N",
                    help="answer 429 when more than N API requests are in flight (0: no limit)")
    ap.add_argument("--no-gzip", action="store_true",
                    help="never gzip bodies (default: gzip when the client accepts it)")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return ap


# ------------------------------------------------------------------ faults
class Faults:
    """Deterministic fault injection.

    The decision for a request depends only on (fault seed, request key,
    how many times that key was seen before): the same request sequence gives
    the same faults whatever the thread interleaving.  A request whose
    previous attempt was faulted is never faulted: a retrying client always
    gets through on the next attempt.
    """

    def __init__(self, args):
        self.seed = args.fault_seed
        self.p5xx = max(0.0, args.fail_5xx)
        self.p429 = max(0.0, args.fail_429)
        self.ptrunc = max(0.0, args.truncate)
        self.retry_after = args.retry_after
        self.latency = max(0.0, args.latency_ms) / 1000.0
        self.jitter = max(0.0, args.latency_jitter_ms) / 1000.0
        self.truncate_mode = args.truncate_mode
        self.max_inflight = args.max_inflight
        self.lock = threading.Lock()
        self.attempts = Counter()
        self.last_faulted = set()
        self.inflight = 0
        self.max_seen_inflight = 0

    def decide(self, key):
        """Return None or one of ('5xx', code), ('429',), ('truncate', mode)."""
        with self.lock:
            n = self.attempts[key]
            self.attempts[key] = n + 1
            if key in self.last_faulted:
                self.last_faulted.discard(key)
                return None
            u = unit("fault", self.seed, key, n)
            fault = None
            if u < self.p5xx:
                code = (500, 502, 503)[h64("code", self.seed, key, n) % 3]
                fault = ("5xx", code)
            elif u < self.p5xx + self.p429:
                fault = ("429",)
            elif u < self.p5xx + self.p429 + self.ptrunc:
                mode = self.truncate_mode
                if mode == "mixed":
                    mode = ("short", "cut")[h64("mode", self.seed, key, n) % 2]
                fault = ("truncate", mode)
            if fault:
                self.last_faulted.add(key)
            return fault

    def delay(self, key):
        d = self.latency
        if self.jitter:
            d += self.jitter * unit("jitter", self.seed, key, self.attempts[key])
        if d > 0:
            time.sleep(d)

    def enter(self):
        """Count an API request in flight; False if over --max-inflight."""
        with self.lock:
            self.inflight += 1
            self.max_seen_inflight = max(self.max_seen_inflight, self.inflight)
            return not (self.max_inflight and self.inflight > self.max_inflight)

    def leave(self):
        with self.lock:
            self.inflight -= 1


# ------------------------------------------------------------------ stats
class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.total = 0
            self.by_endpoint = Counter()
            self.by_status = Counter()
            self.by_endpoint_status = Counter()
            self.faults = Counter()
            self.other = Counter()
            self.started = time.time()

    def count(self, endpoint, status, fault=None):
        with self.lock:
            self.total += 1
            self.by_endpoint[endpoint] += 1
            self.by_status[str(status)] += 1
            self.by_endpoint_status["%s %s" % (status, endpoint)] += 1
            if fault:
                self.faults[fault] += 1

    def bump(self, what, n=1):
        with self.lock:
            self.other[what] += n

    def snapshot(self, faults=None):
        with self.lock:
            out = {
                "requests": self.total,
                "by_endpoint": dict(sorted(self.by_endpoint.items())),
                "by_status": dict(sorted(self.by_status.items())),
                "by_endpoint_status": dict(sorted(self.by_endpoint_status.items())),
                "faults": dict(sorted(self.faults.items())),
                "faults_total": sum(self.faults.values()),
                "counters": dict(sorted(self.other.items())),
                "uptime_s": round(time.time() - self.started, 3),
            }
        if faults is not None:
            out["max_inflight_seen"] = faults.max_seen_inflight
        return out


# ------------------------------------------------------------------ handler
class JsonHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 handler with JSON helpers.  Subclasses set
    `state` (an object with .faults, .stats, .args) on the class."""

    protocol_version = "HTTP/1.1"
    server_version = "sluice-testserver/1"
    sys_version = ""
    state = None

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        try:   # small responses go out at once (no Nagle / delayed-ACK stalls)
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if self.state is not None and getattr(self.state.args, "verbose", False):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    # request parsing -------------------------------------------------
    def parse(self):
        parts = urlsplit(self.path)
        self.req_path = parts.path
        self.req_query_string = parts.query
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.body = b""
        n = self.headers.get("Content-Length")
        if n:
            try:
                self.body = self.rfile.read(int(n))
            except (ValueError, OSError):
                self.body = b""

    def qget(self, name, default=None):
        v = self.query.get(name)
        return v[-1] if v else default

    def form(self):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        text = self.body.decode("utf-8", "replace")
        if ctype == "application/json":
            try:
                obj = json.loads(text or "{}")
                return {k: str(v) for k, v in obj.items()} if isinstance(obj, dict) else {}
            except ValueError:
                return {}
        return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def base_url(self):
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        return "http://%s" % host

    # responses ---------------------------------------------------------
    def send_body(self, status, body, ctype="application/json; charset=utf-8",
                  headers=None, truncate=None):
        """Send a complete response (or a truncated one, see Faults)."""
        headers = dict(headers or {})
        if (body and not getattr(self.state.args, "no_gzip", False) and len(body) > 512
                and "gzip" in (self.headers.get("Accept-Encoding") or "").lower()
                and truncate is None):
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        try:
            self.send_response(status)
            if body is not None and status != 204:
                self.send_header("Content-Type", ctype)
            if truncate == "short":
                # promise the whole body, send half, close
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body[:max(1, len(body) // 2)])
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if truncate == "cut":
                body = body[:max(1, len(body) // 2)]
            if status == 204 or status == 304:
                body = b""
            else:
                self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            if body:
                # headers and body in one write
                self._headers_buffer.append(b"\r\n" + body)
                self.flush_headers()
            else:
                self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_json(self, status, obj, headers=None, truncate=None):
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.send_body(status, body, headers=headers, truncate=truncate)


# ------------------------------------------------------------------ runner
class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    allow_reuse_address = True


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def run_server(handler_cls, args, state, name="server"):
    """Bind, announce the port, serve until SIGTERM/SIGINT/admin shutdown."""
    httpd = Server((args.host, args.port), handler_cls)
    state.httpd = httpd
    port = httpd.server_address[1]
    state.port = port
    if args.port_file:
        write_port_file(args.port_file, port)
    sys.stdout.write("LISTENING %d\n" % port)
    sys.stdout.flush()

    def stop(signum=None, frame=None):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    state.stop = stop
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
        if args.port_file:
            try:
                os.unlink(args.port_file)
            except OSError:
                pass
    if args.verbose:
        sys.stderr.write("%s: stopped\n" % name)
    sys.stdout.flush()
    sys.stderr.flush()
    # skip the interpreter's teardown: freeing a big world takes seconds
    os._exit(0)


def new_parser(description):
    return argparse.ArgumentParser(description=description,
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
