#!/usr/bin/env python3
"""generic_api.py: a tiny generic REST API for sluice's REST-source end-to-end
tests: one endpoint per paginator, per auth type and per response action,
a parent -> child -> grandchild tree, an incremental event stream (also one
per parent: /streams/{k}/events), a Pinterest-style bookmark list and a
benchmark list.  /__admin/requests lists every GET it saw (path and query),
so a test can check the exact parameters a run sent.  Python 3 standard library only.  See README.md.

    python3 tests/servers/generic_api.py --port 0 --items 53
"""

import base64
import binascii
import datetime as dt
import json
import math
import os
import sys
import threading
import time
from urllib.parse import unquote, urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import simcommon  # noqa: E402
from simcommon import h64, unit  # noqa: E402

BASE_TIME = 1704067200      # 2024-01-01T00:00:00Z
NAMES = ["Ada", "Grace", "Linus", "Café é", "日本", "emoji 🎉", 'quote "q"', "back\\slash", "Zoë"]


def iso(ts):
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s):
    try:
        s = s.replace("Z", "+00:00")
        d = dt.datetime.fromisoformat(s)
        if d.tzinfo is None:
            d = d.replace(tzinfo=dt.timezone.utc)
        return d.timestamp()
    except (ValueError, AttributeError):
        return None


class State:
    def __init__(self, args):
        self.args = args
        self.faults = simcommon.Faults(args)
        self.stats = simcommon.Stats()
        self.lock = threading.Lock()
        self.tokens = {}                  # oauth access token -> expiry
        self.token_uses = {}              # oauth access token -> requests made with it
        self.refresh_tokens = {args.refresh_token}
        self.serial = 0
        self.events = args.events
        self.flaky = {}
        self.bench_cache = {}
        self.request_log = []             # "GET /path?query" of every request, in order
        self.httpd = None
        self.stop = None

    def item(self, i, kind="item"):
        """Item i of a list (deterministic)."""
        u = unit(kind, self.args.seed, i)
        return {
            "id": i,
            "name": "%s %d" % (NAMES[h64(kind, "n", i) % len(NAMES)], i),
            "updated_at": iso(BASE_TIME + i * 3600),
            "value": round(u * 1000, 3),
            "active": (i % 3) != 0,
            "note": None if i % 4 == 0 else "note %d" % i,
            "tags": ["t%d" % (i % 5), "t%d" % ((i + 1) % 5)][: 1 + i % 2],
            "nested": {"level": i % 7, "deeper": {"flag": i % 2 == 0}},
        }

    def token(self, kind):
        with self.lock:
            self.serial += 1
            return "g%s_%x" % (kind, h64("tok", self.args.seed, kind, self.serial, time.time()))


class Handler(simcommon.JsonHandler):
    server_version = "sluice-generic-api/1"

    def err(self, status, message, headers=None, endpoint="-", fault=None):
        self.state.stats.count(endpoint, status, fault)
        self.send_json(status, {"error": {"status": status, "message": message}}, headers=headers)

    def ok(self, endpoint, obj, headers=None, truncate=None, status=200):
        self.state.stats.count(endpoint, status, "truncate" if truncate else None)
        if status == 204:
            return self.send_body(204, b"", headers=headers)
        self.send_json(status, obj, headers=headers, truncate=truncate)

    def int_param(self, name, default, lo=None, hi=None):
        v = self.qget(name)
        if v is None or v == "":
            return default
        try:
            n = int(v)
        except ValueError:
            raise BadRequest("%s must be an integer" % name)
        if lo is not None and n < lo:
            raise BadRequest("%s must be >= %d" % (name, lo))
        if hi is not None and n > hi:
            raise BadRequest("%s must be <= %d" % (name, hi))
        return n

    def url(self, path, **params):
        return "%s%s?%s" % (self.base_url(), path, urlencode(params))

    # -------------------------------------------------------------- GET
    def do_GET(self):
        self.parse()
        p = self.req_path
        st = self.state
        if p.startswith("/__admin/"):
            return self.admin(p)
        if p == "/":
            return self.send_json(200, {"ok": True, "service": "generic-api"})
        endpoint = self.endpoint_name(p)
        key = "GET " + self.path
        with st.lock:
            if len(st.request_log) < 100000:
                st.request_log.append(self.path)
        allowed = st.faults.enter()
        try:
            st.faults.delay(key)
            if not allowed:
                return self.err(429, "too many concurrent requests",
                                {"Retry-After": fmt(st.args.retry_after)}, endpoint, "429_inflight")
            fault = st.faults.decide(key)
            if fault and fault[0] == "5xx":
                return self.err(fault[1], "injected server error", None, endpoint, "5xx")
            if fault and fault[0] == "429":
                return self.err(429, "rate limited", {"Retry-After": fmt(st.args.retry_after)},
                                endpoint, "429")
            trunc = fault[1] if fault and fault[0] == "truncate" else None
            self.route(p, endpoint, trunc)
        except BadRequest as e:
            self.err(400, str(e), None, endpoint)
        except Exception as e:  # noqa: BLE001 - a bug: answer 500, keep serving
            import traceback
            traceback.print_exc()
            self.err(500, "internal error: %s" % e, None, endpoint)
        finally:
            st.faults.leave()

    @staticmethod
    def endpoint_name(p):
        parts = p.strip("/").split("/")
        return "/" + "/".join("{id}" if x.isdigit() else x for x in parts)

    def route(self, p, ep, trunc):
        st = self.state
        n_items = st.args.items
        parts = p.strip("/").split("/")
        # ---- paginators
        if p == "/json_link/items":
            size = self.int_param("page_size", 10, 1, 100)
            page = self.int_param("page", 1, 1)
            lo = (page - 1) * size
            data = [st.item(i) for i in range(lo, min(lo + size, n_items))]
            nxt = self.url(p, page=page + 1, page_size=size) if lo + size < n_items else None
            return self.ok(ep, {"data": data, "next": nxt, "count": n_items}, truncate=trunc)
        if p == "/header_link/items":
            size = self.int_param("per_page", 10, 1, 100)
            page = self.int_param("page", 1, 1)
            lo = (page - 1) * size
            last = max(1, math.ceil(n_items / size))
            links = ['<%s>; rel="first"' % self.url(p, page=1, per_page=size),
                     '<%s>; rel="last"' % self.url(p, page=last, per_page=size)]
            if page < last:
                links.insert(0, '<%s>; rel="next"' % self.url(p, page=page + 1, per_page=size))
            if page > 1:
                links.append('<%s>; rel="prev"' % self.url(p, page=page - 1, per_page=size))
            data = [st.item(i) for i in range(lo, min(lo + size, n_items))]
            return self.ok(ep, data, {"Link": ", ".join(links)}, trunc)
        if p == "/bookmark/items":   # Pinterest: {items, bookmark}, ?bookmark= for the next page
            size = self.int_param("page_size", 10, 1, 250)
            lo = self.decode_cursor(self.qget("bookmark"))
            data = [st.item(i) for i in range(lo, min(lo + size, n_items))]
            nxt = self.encode_cursor(lo + size) if lo + size < n_items else None
            return self.ok(ep, {"items": data, "bookmark": nxt}, truncate=trunc)
        if p in ("/cursor/items", "/cursor_nested/items"):
            size = self.int_param("limit", 10, 1, 100)
            lo = self.decode_cursor(self.qget("cursor"))
            data = [st.item(i) for i in range(lo, min(lo + size, n_items))]
            nxt = self.encode_cursor(lo + size) if lo + size < n_items else None
            if p == "/cursor/items":
                return self.ok(ep, {"items": data, "next_cursor": nxt}, truncate=trunc)
            return self.ok(ep, {"items": data, "meta": {"next_cursor": nxt}}, truncate=trunc)
        if p == "/offset/items":
            limit = self.int_param("limit", 10, 1, 100)
            off = self.int_param("offset", 0, 0)
            data = [st.item(i) for i in range(off, min(off + limit, n_items))]
            return self.ok(ep, {"items": data, "total": n_items, "offset": off, "limit": limit},
                           truncate=trunc)
        if p == "/page_number/items":
            size = self.int_param("per_page", 10, 1, 100)
            page = self.int_param("page", 1, 1)
            lo = (page - 1) * size
            data = [st.item(i) for i in range(lo, min(lo + size, n_items))]
            return self.ok(ep, {"results": data, "page": page,
                                "total_pages": max(1, math.ceil(n_items / size))}, truncate=trunc)
        if p == "/single/items":
            return self.ok(ep, {"items": [st.item(i) for i in range(n_items)]}, truncate=trunc)
        if p == "/single/array":
            return self.ok(ep, [st.item(i) for i in range(n_items)], truncate=trunc)
        if p == "/single/object":
            return self.ok(ep, st.item(0), truncate=trunc)
        # ---- auth
        if len(parts) == 3 and parts[0] == "auth" and parts[2] == "items":
            why = self.check_auth(parts[1])
            if why:
                return self.err(401, why, {"WWW-Authenticate": 'Bearer realm="generic"'}, ep)
            size = self.int_param("limit", 10, 1, 100)
            lo = self.decode_cursor(self.qget("cursor"))
            data = [st.item(i) for i in range(lo, min(lo + size, n_items))]
            nxt = self.encode_cursor(lo + size) if lo + size < n_items else None
            return self.ok(ep, {"items": data, "next_cursor": nxt}, truncate=trunc)
        # ---- parent -> child -> grandchild
        if parts[0] == "orgs":
            return self.orgs(parts, ep, trunc)
        # ---- response actions
        if p == "/actions/no_content":
            return self.ok(ep, None, status=204)
        if p == "/actions/parents":   # ?n=0: a parent list without rows
            n = self.int_param("n", st.args.parents, 0, 1000)
            return self.ok(ep, {"items": [{"id": i, "name": "parent %d" % i}
                                          for i in range(1, n + 1)]}, truncate=trunc)
        if len(parts) == 4 and parts[:2] == ["actions", "parents"] and parts[3] == "children":
            pid = parts[2]
            if not pid.isdigit() or not 1 <= int(pid) <= st.args.parents or int(pid) % 3 == 0:
                return self.err(404, "parent %s has no children" % pid, None, ep)
            pid = int(pid)
            return self.ok(ep, {"items": [{"id": pid * 100 + j, "parent_id": pid}
                                          for j in range(1 + pid % 4)]}, truncate=trunc)
        if p == "/actions/error_body":
            return self.ok(ep, {"status": "error", "message": "Item temporarily unavailable",
                                "items": []})
        if p == "/actions/flaky":
            k = self.qget("key", "default")
            fails = self.int_param("fails", 2, 0, 100)
            with st.lock:
                n = st.flaky.get(k, 0)
                st.flaky[k] = n + 1
            if n < fails:
                return self.ok(ep, {"status": "error", "message": "try again later",
                                    "attempt": n + 1})
            return self.ok(ep, {"status": "ok", "items": [st.item(i) for i in range(3)],
                                "attempt": n + 1})
        if p == "/actions/status":   # ?code=N&msg=TEXT: that status, that message, 3 items
            code = self.int_param("code", 200, 200, 599)
            body = {"message": self.qget("msg", ""), "items": [st.item(i) for i in range(3)]}
            self.state.stats.count(ep, code)
            return self.send_json(code, body)
        if p == "/actions/server_error":
            return self.err(500, "the server says no", None, ep)
        if p == "/actions/not_found":
            return self.err(404, "nothing here", None, ep)
        if p == "/actions/redirect":   # 302 (with a body) to ?to=, default /single/object
            return self.err(302, "moved", {"Location": self.qget("to") or "/single/object"}, ep)
        # ---- incremental
        if p == "/events":
            return self.events(ep, trunc)
        if len(parts) == 3 and parts[:2] == ["events", "after"]:   # the start in the path
            return self.events(ep, trunc, since=unquote(parts[2]))
        if p == "/streams":
            return self.ok(ep, {"items": [{"id": k, "name": "stream %d" % k}
                                          for k in range(1, st.args.streams + 1)]}, truncate=trunc)
        if len(parts) == 3 and parts[0] == "streams" and parts[2] == "events":
            return self.stream_events(parts[1], ep, trunc)
        # ---- benchmark
        if p == "/bench/items":
            return self.bench(ep, trunc)
        if p == "/bench/shards":
            n = st.args.bench_shards
            return self.ok(ep, {"items": [{"id": k} for k in range(n)]})
        if len(parts) == 4 and parts[:2] == ["bench", "shards"] and parts[3] == "items":
            return self.bench_shard(parts[2], ep, trunc)
        return self.err(404, "no such endpoint %s" % p, None, ep)

    def encode_cursor(self, n):
        return base64.urlsafe_b64encode(("c:%d" % n).encode()).decode().rstrip("=")

    def decode_cursor(self, c):
        if not c:
            return 0
        try:
            raw = base64.urlsafe_b64decode(c + "=" * (-len(c) % 4)).decode()
            kind, n = raw.split(":")
            if kind != "c" or int(n) < 0:
                raise ValueError
            return int(n)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise BadRequest("invalid cursor")

    def check_auth(self, kind):
        a = self.state.args
        h = self.headers.get("Authorization") or ""
        if kind == "bearer":
            return None if h == "Bearer " + a.token else "bad or missing bearer token"
        if kind == "api_key_header":
            return None if self.headers.get("X-API-Key") == a.api_key else "bad or missing X-API-Key"
        if kind == "api_key_query":
            return None if self.qget("api_key") == a.api_key else "bad or missing api_key"
        if kind == "basic":
            want = "Basic " + base64.b64encode(("%s:%s" % (a.basic_user, a.basic_password))
                                               .encode()).decode()
            return None if h == want else "bad or missing basic credentials"
        if kind in ("oauth2", "refresh"):
            if not h.startswith("Bearer "):
                return "missing bearer token"
            with self.state.lock:
                exp = self.state.tokens.get(h[7:])
                uses = self.state.token_uses.get(h[7:], 0) + 1
                self.state.token_uses[h[7:]] = uses
            if exp is None:
                return "unknown token"
            if exp < time.time():
                return "token expired"
            if self.state.args.token_max_uses and uses > self.state.args.token_max_uses:
                return "token expired"
            return None
        return "unknown auth kind %s" % kind

    def orgs(self, parts, ep, trunc):
        st = self.state
        n_orgs = st.args.orgs
        if len(parts) == 1:
            return self.ok(ep, {"items": [{"id": "org-%d" % i, "name": "Org %d" % i}
                                          for i in range(1, n_orgs + 1)]}, truncate=trunc)
        oid = parts[1]
        ok_org = oid.startswith("org-") and oid[4:].isdigit() and 1 <= int(oid[4:]) <= n_orgs
        if not ok_org:
            return self.err(404, "org %s not found" % oid, None, ep)
        o = int(oid[4:])
        n_proj = 1 + o % 3
        if len(parts) == 2:
            return self.ok(ep, {"id": oid, "name": "Org %d" % o, "projects": n_proj}, truncate=trunc)
        if parts[2] != "projects":
            return self.err(404, "no such endpoint", None, ep)
        if len(parts) == 3:
            return self.ok(ep, {"items": [{"id": "p%d" % j, "org_id": oid, "title": "Project %d" % j}
                                          for j in range(1, n_proj + 1)]}, truncate=trunc)
        pid = parts[3]
        if not (pid.startswith("p") and pid[1:].isdigit() and 1 <= int(pid[1:]) <= n_proj):
            return self.err(404, "project %s not found in %s" % (pid, oid), None, ep)
        if len(parts) == 5 and parts[4] == "tasks":
            n_tasks = 2 + (o * 7 + int(pid[1:]) * 3) % 11
            size = self.int_param("limit", 5, 1, 100)
            lo = self.decode_cursor(self.qget("cursor"))
            data = [{"id": "%s-%s-t%d" % (oid, pid, t), "org_id": oid, "project_id": pid,
                     "done": t % 2 == 0} for t in range(lo, min(lo + size, n_tasks))]
            nxt = self.encode_cursor(lo + size) if lo + size < n_tasks else None
            return self.ok(ep, {"items": data, "next_cursor": nxt}, truncate=trunc)
        return self.err(404, "no such endpoint", None, ep)

    def tasks_total(self):
        tot = 0
        for o in range(1, self.state.args.orgs + 1):
            for j in range(1, 1 + o % 3 + 1):
                tot += 2 + (o * 7 + j * 3) % 11
        return tot

    def stream_events(self, k, ep, trunc):
        # Stream k: 3 + 2k events (plus what /__admin/advance added), k hours
        # apart, so that every stream has its own last value.
        st = self.state
        if not k.isdigit() or not 1 <= int(k) <= st.args.streams:
            return self.err(404, "no stream %s" % k, None, ep)
        k = int(k)
        since = self.qget("since")
        lo_ts = parse_iso(since) if since else None
        if since and lo_ts is None:
            raise BadRequest("since must be an ISO 8601 date-time")
        with st.lock:
            n = 3 + 2 * k + st.events - st.args.events
        rows = [{"id": "s%d-%d" % (k, j), "stream": k, "updated_at": iso(BASE_TIME + j * 3600 * k)}
                for j in range(n) if lo_ts is None or BASE_TIME + j * 3600 * k >= lo_ts]
        limit = self.int_param("limit", 4, 1, 100)
        lo = self.decode_cursor(self.qget("cursor"))
        nxt = self.encode_cursor(lo + limit) if lo + limit < len(rows) else None
        return self.ok(ep, {"items": rows[lo:lo + limit], "next_cursor": nxt}, truncate=trunc)

    def events(self, ep, trunc, since=None):
        st = self.state
        since = since or self.qget("since")
        until = self.qget("until")
        lo_ts = parse_iso(since) if since else None
        hi_ts = parse_iso(until) if until else None
        if (since and lo_ts is None) or (until and hi_ts is None):
            raise BadRequest("since/until must be ISO 8601 date-times")
        limit = self.int_param("limit", 20, 1, 100)
        with st.lock:
            total = st.events
        rows = []
        for i in range(total):
            ts = BASE_TIME + i * 3600
            if lo_ts is not None and ts < lo_ts:
                continue
            if hi_ts is not None and ts >= hi_ts:
                continue
            rows.append({"id": i, "type": ("click", "view", "save")[i % 3],
                         "updated_at": iso(ts), "payload": {"n": i, "text": NAMES[i % len(NAMES)]}})
        lo = self.decode_cursor(self.qget("cursor"))
        page = rows[lo:lo + limit]
        nxt = self.encode_cursor(lo + limit) if lo + limit < len(rows) else None
        return self.ok(ep, {"items": page, "next_cursor": nxt}, truncate=trunc)

    def bench(self, ep, trunc):
        st = self.state
        pages, size = st.args.bench_pages, st.args.bench_page_size
        lo = self.decode_cursor(self.qget("cursor"))
        page = lo // size
        body = st.bench_cache.get(page)
        if body is None:
            items = [{"id": i, "name": "row %d" % i, "value": i * 0.5, "flag": i % 2 == 0,
                      "ts": iso(BASE_TIME + i)} for i in range(page * size, min((page + 1) * size, pages * size))]
            nxt = self.encode_cursor((page + 1) * size) if page + 1 < pages else None
            body = json.dumps({"items": items, "next_cursor": nxt},
                              separators=(",", ":")).encode()
            with st.lock:
                st.bench_cache[page] = body
        st.stats.count(ep, 200, "truncate" if trunc else None)
        self.send_body(200, body, truncate=trunc)

    def bench_shard(self, k, ep, trunc):
        # The benchmark list cut into --bench-shards independent cursor lists
        # (shard k has pages [k*P/S, (k+1)*P/S)): a parent -> child load.
        st = self.state
        pages, size, shards = st.args.bench_pages, st.args.bench_page_size, st.args.bench_shards
        if not k.isdigit() or int(k) >= shards:
            return self.err(404, "no shard %s" % k, None, ep)
        k = int(k)
        first, end = k * pages // shards, (k + 1) * pages // shards
        lo = self.decode_cursor(self.qget("cursor")) if self.qget("cursor") else first * size
        page = lo // size
        if not first <= page < end:
            raise BadRequest("cursor outside shard %d" % k)
        key = ("shard", page, end)
        body = st.bench_cache.get(key)
        if body is None:
            items = [{"id": i, "name": "row %d" % i, "value": i * 0.5, "flag": i % 2 == 0,
                      "ts": iso(BASE_TIME + i)} for i in range(page * size, (page + 1) * size)]
            nxt = self.encode_cursor((page + 1) * size) if page + 1 < end else None
            body = json.dumps({"items": items, "next_cursor": nxt},
                              separators=(",", ":")).encode()
            with st.lock:
                st.bench_cache[key] = body
        st.stats.count(ep, 200, "truncate" if trunc else None)
        self.send_body(200, body, truncate=trunc)

    # -------------------------------------------------------------- POST
    def do_POST(self):
        self.parse()
        p = self.req_path
        st = self.state
        if p == "/oauth/token":
            return self.oauth()
        if p == "/__admin/shutdown":
            self.send_json(200, {"ok": True, "stopping": True})
            self.close_connection = True
            if st.stop:
                st.stop()
            return
        if p == "/__admin/reset":
            st.stats.reset()
            with st.faults.lock:
                st.faults.attempts.clear()
                st.faults.last_faulted.clear()
            with st.lock:
                st.flaky.clear()
                st.request_log.clear()
                st.events = st.args.events
            return self.send_json(200, {"ok": True})
        if p == "/__admin/advance":
            n = self.int_param("n", 10, 0)
            with st.lock:
                st.events += n
                total = st.events
            return self.send_json(200, {"ok": True, "events": total})
        if p == "/__admin/expire_tokens":
            with st.lock:
                for t in st.tokens:
                    st.tokens[t] = 0
            return self.send_json(200, {"ok": True})
        return self.send_json(404, {"error": {"status": 404, "message": "no such endpoint"}})

    def oauth(self):
        st = self.state
        a = st.args
        form = self.form()
        cid, secret = form.get("client_id"), form.get("client_secret")
        h = self.headers.get("Authorization") or ""
        if h.lower().startswith("basic "):
            try:
                cid, _, secret = base64.b64decode(h[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                cid = None
        if cid != a.client_id or secret != a.client_secret:
            st.stats.count("/oauth/token", 401)
            return self.send_json(401, {"error": "invalid_client"})
        grant = form.get("grant_type")
        out = {"token_type": "bearer", "expires_in": int(a.token_ttl)}
        if grant == "client_credentials":
            pass
        elif grant == "refresh_token":
            rt = form.get("refresh_token")
            with st.lock:
                ok = rt in st.refresh_tokens
                if ok and a.strict_refresh:
                    st.refresh_tokens.discard(rt)
            if not ok:
                st.stats.count("/oauth/token", 400)
                return self.send_json(400, {"error": "invalid_grant"})
            new_rt = st.token("r")
            with st.lock:
                st.refresh_tokens.add(new_rt)
            out["refresh_token"] = new_rt
        else:
            st.stats.count("/oauth/token", 400)
            return self.send_json(400, {"error": "unsupported_grant_type"})
        tok = st.token("a")
        with st.lock:
            st.tokens[tok] = time.time() + a.token_ttl
        out["access_token"] = tok
        if form.get("scope"):
            out["scope"] = form["scope"]
        st.stats.count("/oauth/token", 200)
        st.stats.bump("tokens_issued")
        return self.send_json(200, out)

    # -------------------------------------------------------------- admin
    def admin(self, p):
        st = self.state
        if p == "/__admin/stats":
            return self.send_json(200, st.stats.snapshot(st.faults))
        if p == "/__admin/requests":
            with st.lock:
                return self.send_json(200, {"requests": list(st.request_log)})
        if p == "/__admin/expected":
            n = st.args.items
            with st.lock:
                ev = st.events
            return self.send_json(200, {"items": n, "events": ev, "orgs": st.args.orgs,
                                        "projects": sum(1 + o % 3 for o in range(1, st.args.orgs + 1)),
                                        "tasks": self.tasks_total(),
                                        "parents": st.args.parents,
                                        "children": sum(1 + i % 4 for i in range(1, st.args.parents + 1)
                                                        if i % 3 != 0),
                                        "bench_items": st.args.bench_pages * st.args.bench_page_size,
                                        "bench_pages": st.args.bench_pages})
        return self.send_json(404, {"error": {"status": 404, "message": "unknown admin endpoint"}})


class BadRequest(Exception):
    pass


def fmt(x):
    return str(int(x)) if float(x) == int(x) else str(x)


def parse_args(argv=None):
    ap = simcommon.new_parser(__doc__.split("\n")[0])
    simcommon.add_common_args(ap)
    ap.add_argument("--seed", type=int, default=7, help="data seed")
    ap.add_argument("--items", type=int, default=53, help="items in each paginated list")
    ap.add_argument("--orgs", type=int, default=4, help="orgs in the /orgs tree")
    ap.add_argument("--bench-shards", type=int, default=20,
                    help="/bench/shards: the benchmark list cut into this many child lists")
    ap.add_argument("--parents", type=int, default=7, help="parents in /actions/parents")
    ap.add_argument("--streams", type=int, default=3, help="parents in /streams")
    ap.add_argument("--events", type=int, default=30, help="initial events in /events")
    ap.add_argument("--bench-pages", type=int, default=2000, help="pages of /bench/items")
    ap.add_argument("--bench-page-size", type=int, default=100, help="items per /bench/items page")
    ap.add_argument("--token", default="generic-token", help="the bearer token of /auth/bearer")
    ap.add_argument("--api-key", default="generic-key", help="the key of /auth/api_key_*")
    ap.add_argument("--basic-user", default="user", help="user of /auth/basic")
    ap.add_argument("--basic-password", default="pass", help="password of /auth/basic")
    ap.add_argument("--client-id", default="generic-client", help="OAuth client id")
    ap.add_argument("--client-secret", default="generic-secret", help="OAuth client secret")
    ap.add_argument("--refresh-token", default="generic-refresh", help="initial refresh token")
    ap.add_argument("--strict-refresh", action="store_true", help="refresh tokens work once")
    ap.add_argument("--token-ttl", type=float, default=3600, help="OAuth access token lifetime, s")
    ap.add_argument("--token-max-uses", type=int, default=0,
                    help="an OAuth access token dies after this many requests (0: no limit)")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    state = State(args)
    Handler.state = state
    return simcommon.run_server(Handler, args, state, "generic-api")


if __name__ == "__main__":
    sys.exit(main())
