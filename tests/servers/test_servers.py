#!/usr/bin/env python3
"""Self-test of sluice's test servers (stdlib unittest).

Starts pinterest_sim.py and generic_api.py on free ports and checks: every GET
operation of the digest answers 200 with a body of the right shape (real ids
substituted from the parent lists), bookmark pagination walks to the end with
the counts of /__admin/expected, the 400/401/404 cases, OAuth refresh and
expiry, fault injection rates and a retrying client, the published OpenAPI
description, every paginator/auth/response action of the generic API, and the
yaml_lite loader.  Prints "N passed, N failed" and exits non-zero on failure.

    python3 tests/servers/test_servers.py [-v] [TestClass[.test_name] ...]
"""

import base64
import datetime
import http.client
import json
import os
import re
import subprocess
import sys
import time
import unittest
from urllib.parse import urlencode, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import yaml_lite  # noqa: E402


def day(n):
    """Today (UTC) plus n days, as the simulator's date limits count."""
    return (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=n)).isoformat()


DIGEST = os.path.join(HERE, "pinterest_digest.json")
SPEC_CANDIDATES = [os.path.join(d, "specs", "pinterest-5.23.yaml") for d in
                   (os.environ.get("SL_SHARED_DIR") or "", os.path.join(HERE, "..", "..", "..", "shared"))
                   if d]
TOKEN = "test-static-token"


# ------------------------------------------------------------------ helpers
class Server:
    """A server process on a free port."""

    def __init__(self, script, *args):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, script), "--port", "0"] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"LISTENING (\d+)", line or "")
        if not m:
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.proc.kill()
            raise RuntimeError("%s did not start: %r %s" % (script, line, err))
        self.port = int(m.group(1))
        self.conn = None

    def request(self, method, path, params=None, headers=None, body=None, conn=None):
        if params:
            path = path + ("&" if "?" in path else "?") + urlencode(params, doseq=True)
        for attempt in range(2):
            c = conn or self.conn
            if c is None:
                c = self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                c.request(method, path, body=body, headers=headers or {})
                r = c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    c.close()
                    if c is self.conn:
                        self.conn = None
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data
            except (http.client.HTTPException, OSError):
                c.close()
                if c is self.conn:
                    self.conn = None
                if attempt or conn is not None:
                    raise
        raise AssertionError("unreachable")

    def get(self, path, params=None, token=TOKEN, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        status, hdrs, data = self.request("GET", path, params, h)
        try:
            body = json.loads(data.decode("utf-8")) if data else None
        except ValueError:
            body = data
        return status, hdrs, body

    def admin(self, path, method="GET"):
        status, _, data = self.request(method, path)
        return json.loads(data.decode("utf-8"))

    def stop(self):
        try:
            self.request("POST", "/__admin/shutdown")
        except (OSError, http.client.HTTPException):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=5)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()
        if self.conn:
            self.conn.close()


def load_digest():
    with open(DIGEST, encoding="utf-8") as f:
        return json.load(f)


class Schemas:
    def __init__(self, digest):
        self.schemas = digest["schemas"]

    def resolve(self, s):
        nullable = False
        while isinstance(s, dict) and "$ref" in s:
            nullable = nullable or s.get("nullable", False)
            s = self.schemas[s["$ref"].split("/")[-1]]
        if nullable:
            s = dict(s, nullable=True)
        return s

    def check(self, schema, value, where="$", errors=None, depth=0):
        """Type-check value against schema; every declared property present."""
        errors = [] if errors is None else errors
        if len(errors) > 10 or depth > 12:
            return errors
        s = self.resolve(schema)
        if value is None:
            if not s.get("nullable") and s:
                errors.append("%s: null but not nullable" % where)
            return errors
        t = s.get("type")
        if s.get("enum") and value not in s["enum"]:
            errors.append("%s: %r not in enum" % (where, value))
        if t == "object" or "properties" in s:
            if not isinstance(value, dict):
                errors.append("%s: expected object, got %s" % (where, type(value).__name__))
                return errors
            for k, ps in (s.get("properties") or {}).items():
                if k not in value:
                    errors.append("%s: property %s missing" % (where, k))
                else:
                    self.check(ps, value[k], where + "." + k, errors, depth + 1)
            ap = s.get("additionalProperties")
            if isinstance(ap, dict):
                for k, v in value.items():
                    if k not in (s.get("properties") or {}):
                        self.check(ap, v, where + "." + k, errors, depth + 1)
        elif t == "array":
            if not isinstance(value, list):
                errors.append("%s: expected array, got %s" % (where, type(value).__name__))
                return errors
            for i, v in enumerate(value[:5]):
                self.check(s.get("items") or {}, v, "%s[%d]" % (where, i), errors, depth + 1)
        elif t == "string":
            if not isinstance(value, str):
                errors.append("%s: expected string, got %r" % (where, value))
            elif s.get("format") == "date-time" and not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", value):
                errors.append("%s: not a date-time: %r" % (where, value))
            elif s.get("format") == "date" and not re.match(r"^\d{4}-\d\d-\d\d$", value):
                errors.append("%s: not a date: %r" % (where, value))
        elif t == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                errors.append("%s: expected integer, got %r" % (where, value))
        elif t == "number":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                errors.append("%s: expected number, got %r" % (where, value))
        elif t == "boolean":
            if not isinstance(value, bool):
                errors.append("%s: expected boolean, got %r" % (where, value))
        return errors


# Where the ids of a path variable come from: (list path, field).
VAR_SOURCES = {
    "ad_account_id": ("/ad_accounts", "id"),
    "campaign_id": ("/ad_accounts/{ad_account_id}/campaigns", "id"),
    "ad_group_id": ("/ad_accounts/{ad_account_id}/ad_groups", "id"),
    "ad_id": ("/ad_accounts/{ad_account_id}/ads", "id"),
    "audience_id": ("/ad_accounts/{ad_account_id}/audiences", "id"),
    "billing_invoice_id": ("/ad_accounts/{ad_account_id}/billing_invoices", "id"),
    "conversion_tag_id": ("/ad_accounts/{ad_account_id}/conversion_tags", "id"),
    "customer_list_id": ("/ad_accounts/{ad_account_id}/customer_lists", "id"),
    "lead_form_id": ("/ad_accounts/{ad_account_id}/lead_forms", "id"),
    "subscription_id": ("/ad_accounts/{ad_account_id}/leads/subscriptions", "id"),
    "order_line_id": ("/ad_accounts/{ad_account_id}/order_lines", "id"),
    "product_group_promotion_id": ("/ad_accounts/{ad_account_id}/product_group_promotions", "id"),
    "promotion_id": ("/ad_accounts/{ad_account_id}/promotions", "id"),
    "pin_order_id": ("/ad_accounts/{ad_account_id}/ssio/insertion_orders/status", "pin_order_id"),
    "board_id": ("/boards", "id"),
    "section_id": ("/boards/{board_id}/sections", "id"),
    "pin_id": ("/pins", "id"),
    "business_id": ("/businesses/employers", "id"),
    "asset_id": ("/businesses/{business_id}/assets", "asset_id"),
    "member_id": ("/businesses/{business_id}/members", "id"),
    "partner_id": ("/businesses/{business_id}/partners", "id"),
    "feed_id": ("/catalogs/feeds", "id"),
    "processing_result_id": ("/catalogs/feeds/{feed_id}/processing_results", "id"),
    "product_group_id": ("/catalogs/product_groups", "id"),
    "id": ("/integrations", "id"),
    "external_business_id": ("/integrations", "external_business_id"),
    "media_id": ("/media", "media_id"),
}
ID_LIST_PARAMS = {"campaign_ids": "campaign_id", "ad_group_ids": "ad_group_id", "ad_ids": "ad_id",
                  "pin_ids": "pin_id", "campaign_id": "campaign_id", "ad_group_id": "ad_group_id",
                  "audience_id": "audience_id", "catalog_id": None,
                  "product_group_ids": "product_group_id"}
# Required id parameters that name a record of a list below the path's
# parent (the simulator's QUERY_PARENTS): (path, param) -> list.
QUERY_ID_SOURCES = {
    ("/ad_accounts/{ad_account_id}/audiences/shared/accounts", "audience_id"):
        "/ad_accounts/{ad_account_id}/audiences",
    ("/businesses/{business_id}/audiences/shared/accounts", "audience_id"):
        "/businesses/{business_id}/audiences",
}


class IdResolver:
    """Finds real ids by walking the simulator's lists like a client."""

    def __init__(self, srv):
        self.srv = srv
        self.cache = {}

    def items(self, path):
        if path not in self.cache:
            st, _, body = self.srv.get("/v5" + path, {"page_size": 250})
            assert st == 200, (path, st, body)
            self.cache[path] = body["items"]
        return self.cache[path]

    def resolve(self, path_tmpl, ctx=None):
        """A ctx {var: id} for the variables of path_tmpl that lists provide,
        choosing parents that have children: (ctx, None), or (None, var)
        when the list of var is empty under every parent."""
        ctx = dict(ctx or {})
        pvars = re.findall(r"{([^}]+)}", path_tmpl)
        if "username" in pvars and "username" not in ctx:
            st, _, me = self.srv.get("/v5/user_account")
            ctx["username"] = me["username"]
        bound = [v for v in pvars if v in VAR_SOURCES and v not in ctx]
        if not bound:
            return ctx, None
        src, field = VAR_SOURCES[bound[-1]]
        found = self._all(src, field, ctx)
        if not found:
            return None, bound[-1]
        ctx.update(found[0])
        return ctx, None

    def _all(self, src, field, ctx):
        pvars = re.findall(r"{([^}]+)}", src)
        var = VAR_NAME[(src, field)]
        if not pvars:
            # a null link (an integration without an external business id) is no id
            return [dict(ctx, **{var: it[field]}) for it in self.items(src)
                    if it[field] is not None]
        parent_var = pvars[-1]
        psrc, pfield = VAR_SOURCES[parent_var]
        parents = [ctx] if parent_var in ctx else self._all(psrc, pfield, ctx)
        out = []
        for p in parents:
            out.extend(dict(p, **{var: it[field]}) for it in self.items(fill(src, p))
                       if it[field] is not None)
        return out


VAR_NAME = {v: k for k, v in VAR_SOURCES.items()}
VAR_NAME[("/pins", "id")] = "pin_id"


def fill(tmpl, ctx):
    return re.sub(r"{([^}]+)}", lambda m: str(ctx[m.group(1)]), tmpl)


def sample_params(op, ctx, resolver):
    """Valid values for an operation's required query parameters."""
    q = {}
    for p in op["parameters"]:
        if p["in"] != "query" or not p.get("required"):
            continue
        name, s = p["name"], p["schema"]
        qsrc = QUERY_ID_SOURCES.get((op["path"], name))
        if qsrc:
            q[name] = ctx[name] if name in ctx else resolver.items(fill(qsrc, ctx))[0]["id"]
            continue
        if name == "start_date":
            q[name] = day(-10)
        elif name == "end_date":
            q[name] = day(-8)
        elif name == "date":
            q[name] = day(-9)
        elif s.get("type") == "object" or p.get("style") == "deepObject":
            q[name + "[catalog_type]"] = "RETAIL"
        elif s.get("type") == "array":
            isch = s.get("items") or {}
            if isch.get("enum"):
                q[name] = ",".join(str(x) for x in isch["enum"][:3])
            elif name in ID_LIST_PARAMS and ID_LIST_PARAMS[name]:
                var = ID_LIST_PARAMS[name]
                c2, _ = resolver.resolve("{%s}" % var, ctx)
                q[name] = c2[var] if c2 else "1234"
            else:
                q[name] = "shoes,hats"
        elif s.get("enum"):
            q[name] = str(s["enum"][0]).lower() if isinstance(s["enum"][0], bool) else str(s["enum"][0])
        elif s.get("type") == "boolean":
            q[name] = "true"
        elif s.get("type") in ("integer", "number"):
            q[name] = str(s.get("default", s.get("minimum", 1)))
        elif name in ID_LIST_PARAMS and ID_LIST_PARAMS[name]:
            var = ID_LIST_PARAMS[name]
            c2, _ = resolver.resolve("{%s}" % var, ctx)
            q[name] = c2[var] if c2 else "1234"
        elif name == "country_code":
            q[name] = "US"
        else:
            q[name] = "shoes"
    return q


def free_value(op, var):
    for p in op["parameters"]:
        if p["in"] == "path" and p["name"] == var and p["schema"].get("enum"):
            return str(p["schema"]["enum"][0])
    return "12345"


# ------------------------------------------------------------------ tests
class TestYamlLite(unittest.TestCase):
    def test_cases(self):
        cases = [
            ("a: 1\nb:\n- x\n- y: 2\n  z: 3\nc: {p: [1, 2, {q: r}], 's t': \"u\\u00e9\"}\n",
             {"a": 1, "b": ["x", {"y": 2, "z": 3}], "c": {"p": [1, 2, {"q": "r"}], "s t": "u\u00e9"}}),
            ("d: |\n  line1\n   indented\n\n  line3\ne: >-\n  fold\n  me\n\n  para\n",
             {"d": "line1\n indented\n\nline3\n", "e": "fold me\npara"}),
            ("h: plain\n  continued # c\ni: 'it''s\n  multi'\nj: \"dq \\\n  joined\"\n",
             {"h": "plain continued", "i": "it's multi", "j": "dq joined"}),
            ("k: &a\n  x: 1\nl: *a\nm: ~\nn: 0x1F\no: 'NO'\np: http://x/y#f\nq: -1.5\nr: []\n",
             {"k": {"x": 1}, "l": {"x": 1}, "m": None, "n": 31, "o": "NO", "p": "http://x/y#f",
              "q": -1.5, "r": []}),
            ("- a\n- b: c\n  d:\n    - e\n-\n  f: g\n- [x,\n   y]\n", ["a", {"b": "c", "d": ["e"]},
                                                         {"f": "g"}, ["x", "y"]]),
            ("'200':\n  description: OK\nx: \"tab\\there\"\n", {"200": {"description": "OK"},
                                                              "x": "tab\there"}),
        ]
        for text, want in cases:
            self.assertEqual(yaml_lite.load(text), want, text)

    def test_errors(self):
        with self.assertRaises(yaml_lite.YamlError):
            yaml_lite.load("a: 'unterminated\nb: 2\n")


class TestDigest(unittest.TestCase):
    def test_digest(self):
        d = load_digest()
        self.assertEqual(len(d["operations"]), 125)
        self.assertEqual(len({o["path"] for o in d["operations"]}), 125)
        kinds = {}
        for o in d["operations"]:
            kinds[o["pagination"]["type"]] = kinds.get(o["pagination"]["type"], 0) + 1
        self.assertGreaterEqual(kinds.get("bookmark", 0), 50)
        ads = [o for o in d["operations"] if o["path"] == "/ad_accounts"][0]
        self.assertEqual(ads["pagination"]["size_max"], 250)
        self.assertEqual(ads["ratelimit"], "ads_read")

    def test_digest_is_current(self):
        spec = next((p for p in SPEC_CANDIDATES if os.path.exists(p)), None)
        if not spec:
            self.skipTest("no ../shared/specs/pinterest-5.23.yaml")
        import spec_digest
        dg = spec_digest.Digester(spec_digest.load_spec(spec)).digest(os.path.basename(spec))
        fresh = json.loads(spec_digest.pretty_lines(dg))
        self.assertEqual(fresh, load_digest(), "regenerate pinterest_digest.json with spec_digest.py")


class PinterestBase(unittest.TestCase):
    srv = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server("pinterest_sim.py", "--static-token", TOKEN, "--size", "40", "--seed", "42")
        cls.digest = load_digest()
        cls.schemas = Schemas(cls.digest)
        cls.resolver = IdResolver(cls.srv)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()


class TestPinterestOperations(PinterestBase):
    def test_every_get_operation(self):
        failures = []
        served = 0
        for op in self.digest["operations"]:
            ctx, missing = self.resolver.resolve(op["path"])
            if ctx is None:
                failures.append("%s: no parent id for {%s}" % (op["path"], missing))
                continue
            for var in re.findall(r"{([^}]+)}", op["path"]):
                if var not in ctx:
                    ctx[var] = free_value(op, var)
            params = sample_params(op, ctx, self.resolver)
            path = "/v5" + fill(op["path"], ctx)
            st, _, body = self.srv.get(path, params)
            if st != 200:
                failures.append("%s -> %s %s" % (path, st, body))
                continue
            if op["response"] is not None:
                errs = self.schemas.check(op["response"], body)
                if errs:
                    failures.append("%s: %s" % (op["path"], "; ".join(errs[:3])))
                    continue
            if op["pagination"]["type"] in ("bookmark", "single_page"):
                self.assertIsInstance(body.get("items"), list, op["path"])
                if op["pagination"]["type"] == "bookmark":
                    self.assertIn("bookmark", body)
                # items carry their parent ids
                for it in body["items"][:5]:
                    for var, val in ctx.items():
                        if var in it and var != "id" and op["path"] not in ("/search/pins",):
                            self.assertEqual(it[var], val, "%s item %s" % (op["path"], var))
            served += 1
        self.assertEqual(failures, [])
        self.assertEqual(served, 125)

    def test_details_match_lists(self):
        r = self.resolver
        acct = r.items("/ad_accounts")[0]
        st, _, body = self.srv.get("/v5/ad_accounts/%s" % acct["id"])
        self.assertEqual((st, body), (200, acct))
        camps = r.items("/ad_accounts/%s/campaigns" % acct["id"])
        self.assertTrue(camps)
        for c in camps:
            self.assertEqual(c["ad_account_id"], acct["id"])
        groups = r.items("/ad_accounts/%s/ad_groups" % acct["id"])
        cids = {c["id"] for c in camps}
        self.assertTrue(groups)
        for g in groups:
            self.assertIn(g["campaign_id"], cids)
            self.assertEqual(g["ad_account_id"], acct["id"])
        ads = r.items("/ad_accounts/%s/ads" % acct["id"])
        gids = {g["id"] for g in groups}
        for a in ads:
            self.assertIn(a["ad_group_id"], gids)
        st, _, one = self.srv.get("/v5/ad_accounts/%s/campaigns/%s" % (acct["id"], camps[0]["id"]))
        self.assertEqual((st, one), (200, camps[0]))
        # filter by campaign_ids
        st, _, body = self.srv.get("/v5/ad_accounts/%s/ad_groups" % acct["id"],
                                   {"campaign_ids": camps[0]["id"]})
        self.assertEqual(st, 200)
        self.assertEqual({g["campaign_id"] for g in body["items"]}, {camps[0]["id"]})
        # boards -> sections -> pins
        boards = r.items("/boards")
        pins = r.items("/pins")
        total = 0
        for b in boards:
            bp = r.items("/boards/%s/pins" % b["id"])
            total += len(bp)
            secs = {s["id"] for s in r.items("/boards/%s/sections" % b["id"])}
            for p in bp:
                self.assertEqual(p["board_id"], b["id"])
                self.assertTrue(p["board_section_id"] is None or p["board_section_id"] in secs)
        self.assertEqual(total, len(pins))
        sec_pin = next(p for p in pins if p["board_section_id"])
        sp = r.items("/boards/%s/sections/%s/pins" % (sec_pin["board_id"], sec_pin["board_section_id"]))
        self.assertIn(sec_pin["id"], [p["id"] for p in sp])
        st, _, one = self.srv.get("/v5/pins/%s" % pins[3]["id"])
        self.assertEqual((st, one), (200, pins[3]))

    def test_analytics_per_day(self):
        acct = self.resolver.items("/ad_accounts")[0]["id"]
        camps = [c["id"] for c in self.resolver.items("/ad_accounts/%s/campaigns" % acct)][:2]
        q = {"start_date": day(-20), "end_date": day(-14), "campaign_ids": ",".join(camps),
             "columns": "SPEND_IN_DOLLAR,TOTAL_CLICKTHROUGH", "granularity": "DAY"}
        st, _, rows = self.srv.get("/v5/ad_accounts/%s/campaigns/analytics" % acct, q)
        self.assertEqual(st, 200, rows)
        self.assertEqual(len(rows), 7 * len(camps))
        self.assertEqual(sorted({r["DATE"] for r in rows})[0], day(-20))
        self.assertEqual({r["CAMPAIGN_ID"] for r in rows}, set(camps))
        self.assertIn("SPEND_IN_DOLLAR", rows[0])
        q["granularity"] = "TOTAL"
        st, _, rows = self.srv.get("/v5/ad_accounts/%s/campaigns/analytics" % acct, q)
        self.assertEqual(len(rows), len(camps))
        pin = self.resolver.items("/pins")[0]["id"]
        st, _, body = self.srv.get("/v5/pins/%s/analytics" % pin, {
            "start_date": day(-20), "end_date": day(-11), "metric_types": "IMPRESSION,SAVE"})
        self.assertEqual(st, 200, body)
        daily = body["all"]["daily_metrics"]
        self.assertEqual(len(daily), 10)
        self.assertEqual(daily[-1]["date"], day(-11))

    def test_analytics_date_limits(self):
        # as the spec says and Pinterest enforces: start_date at most 90 days
        # back from today, end_date at most 90 days past start_date
        acct = self.resolver.items("/ad_accounts")[0]["id"]
        path = "/v5/ad_accounts/%s/analytics" % acct
        q = {"columns": "SPEND_IN_DOLLAR", "granularity": "DAY"}
        st, _, body = self.srv.get(path, dict(q, start_date=day(-90), end_date=day(0)))
        self.assertEqual(st, 200, body)
        st, _, body = self.srv.get(path, dict(q, start_date=day(-91), end_date=day(-80)))
        self.assertEqual(st, 400)
        self.assertIn("cannot be more than 90 days back from today", body["message"])
        st, _, body = self.srv.get(path, dict(q, start_date=day(-80), end_date=day(11)))
        self.assertEqual(st, 400)
        self.assertIn("cannot be more than 90 days past start_date", body["message"])

    def test_errors(self):
        acct = self.resolver.items("/ad_accounts")[0]["id"]
        st, _, body = self.srv.get("/v5/ad_accounts", token=None)
        self.assertEqual(st, 401)
        self.assertEqual(set(body), {"code", "message"})
        st, _, body = self.srv.get("/v5/ad_accounts", token="wrong")
        self.assertEqual(st, 401)
        st, _, body = self.srv.get("/v5/ad_accounts/%s/analytics" % acct,
                                   {"end_date": day(-1), "columns": "SPEND_IN_DOLLAR",
                                    "granularity": "DAY"})
        self.assertEqual(st, 400)
        self.assertIn("start_date", body["message"])
        st, _, body = self.srv.get("/v5/ad_accounts/%s/analytics" % acct,
                                   {"start_date": day(-2), "end_date": day(-1),
                                    "columns": "SPEND_IN_DOLLAR", "granularity": "DAILY"})
        self.assertEqual(st, 400)
        self.assertIn("granularity", body["message"])
        st, _, body = self.srv.get("/v5/ad_accounts", {"page_size": 251})
        self.assertEqual(st, 400)
        self.assertIn("page_size", body["message"])
        st, _, body = self.srv.get("/v5/ad_accounts", {"bookmark": "garbage"})
        self.assertEqual(st, 400)
        st, _, body = self.srv.get("/v5/ad_accounts/999")
        self.assertEqual(st, 404)
        self.assertEqual(set(body), {"code", "message"})
        st, _, body = self.srv.get("/v5/ad_accounts/%s/campaigns/999" % acct)
        self.assertEqual(st, 404)
        st, _, body = self.srv.get("/v5/boards/999/pins")
        self.assertEqual(st, 404)
        st, _, body = self.srv.get("/v5/no/such/path")
        self.assertEqual(st, 404)
        st, _, _ = self.srv.request("POST", "/v5/ad_accounts", headers={"Content-Length": "0"})
        self.assertEqual(st, 405)

    def test_deterministic(self):
        a = self.srv.request("GET", "/v5/pins?page_size=10", headers={"Authorization": "Bearer " + TOKEN})
        b = self.srv.request("GET", "/v5/pins?page_size=10", headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(a[2], b[2])
        other = Server("pinterest_sim.py", "--static-token", TOKEN, "--size", "40", "--seed", "42",
                       "--cache-mb", "0")
        try:
            c = other.request("GET", "/v5/pins?page_size=10", headers={"Authorization": "Bearer " + TOKEN})
            self.assertEqual(a[2], c[2])
        finally:
            other.stop()
        body = a[2].decode("utf-8")
        self.assertIn("null", body)

    def test_unicode_and_nulls(self):
        text = json.dumps([self.resolver.items(p) for p in ("/pins", "/boards", "/media",
                                                            "/ad_accounts")], ensure_ascii=False)
        self.assertTrue(any(ch in text for ch in ("é", "日", "📌", "ü", "中")), "no unicode")
        self.assertIn('\\"', text)
        self.assertIn("null", text)

    def test_pagination_walk_matches_expected(self):
        ps = 7
        exp = self.srv.admin("/__admin/expected?page_size=%d" % ps)["endpoints"]
        r = self.resolver
        for op in self.digest["operations"]:
            path = op["path"]
            if op["pagination"]["type"] != "bookmark" or path not in exp:
                continue
            e = exp[path]
            if e["free_vars"]:
                continue
            pvars = re.findall(r"{([^}]+)}", path)
            if not pvars:
                ctxs = [{}]
            elif path == "/boards/{board_id}/sections/{section_id}/pins":
                ctxs = r._all("/boards/{board_id}/sections", "id", {})
            elif path == "/users/{username}/interests/follow":
                st, _, me = self.srv.get("/v5/user_account")
                ctxs = [{"username": me["username"]}]
            elif (path, "audience_id") in QUERY_ID_SOURCES:
                # one series per audience of each account / business
                qsrc = QUERY_ID_SOURCES[(path, "audience_id")]
                src, field = VAR_SOURCES[pvars[-1]]
                ctxs = [dict(c, audience_id=it["id"]) for c in r._all(src, field, {})
                        for it in r.items(fill(qsrc, c))]
            else:
                src, field = VAR_SOURCES[pvars[-1]]
                ctxs = r._all(src, field, {})
            self.assertEqual(len(ctxs), e["parents"], path)
            items = pages = 0
            for ctx in ctxs:
                params = sample_params(op, ctx, r)
                size_param = op["pagination"].get("size_param")
                if size_param:
                    params[size_param] = ps
                bookmark = None
                seen = set()
                while True:
                    q = dict(params)
                    if bookmark:
                        q["bookmark"] = bookmark
                    st, _, body = self.srv.get("/v5" + fill(path, ctx), q)
                    self.assertEqual(st, 200, (path, body))
                    pages += 1
                    items += len(body["items"])
                    for it in body["items"]:
                        key = json.dumps(it, sort_keys=True)
                        self.assertNotIn(key, seen, "duplicate item in %s" % path)
                        seen.add(key)
                    bookmark = body["bookmark"]
                    if bookmark is None:
                        break
                    self.assertLess(pages, 10000)
            self.assertEqual((items, pages), (e["items"], e["pages"]), path)

    def test_openapi(self):
        st, _, doc = self.srv.get("/openapi.json", token=None)
        self.assertEqual(st, 200)
        self.assertEqual(doc["openapi"], "3.0.3")
        self.assertEqual(len(doc["paths"]), 125)
        base = "http://127.0.0.1:%d" % self.srv.port
        self.assertEqual(doc["servers"][0]["url"], base + "/v5")
        flows = doc["components"]["securitySchemes"]["pinterest_oauth2"]["flows"]
        self.assertEqual(flows["authorizationCode"]["tokenUrl"], base + "/v5/oauth/token")
        ads = doc["paths"]["/ad_accounts"]["get"]
        self.assertIn("bookmark", [p["name"] for p in ads["parameters"]])
        refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(doc)))
        self.assertEqual(refs - set(doc["components"]["schemas"]), set())
        st, hdrs, raw = self.srv.request("GET", "/openapi.yaml")
        self.assertEqual(st, 200)
        self.assertEqual(yaml_lite.load(raw.decode("utf-8")), doc)


class TestPinterestOAuth(unittest.TestCase):
    def test_refresh_and_expiry(self):
        srv = Server("pinterest_sim.py", "--size", "10", "--token-ttl", "1", "--strict-refresh",
                     "--client-id", "cid", "--client-secret", "csec", "--refresh-token", "rt0")
        try:
            def token(form, user="cid", pw="csec"):
                basic = base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
                st, _, data = srv.request("POST", "/v5/oauth/token", body=urlencode(form),
                                          headers={"Authorization": "Basic " + basic,
                                                   "Content-Type": "application/x-www-form-urlencoded"})
                return st, json.loads(data)
            st, body = token({"grant_type": "refresh_token", "refresh_token": "rt0"}, pw="bad")
            self.assertEqual(st, 401)
            st, body = token({"grant_type": "refresh_token", "refresh_token": "nope"})
            self.assertEqual(st, 400)
            st, tok = token({"grant_type": "refresh_token", "refresh_token": "rt0"})
            self.assertEqual(st, 200, tok)
            for k in ("access_token", "refresh_token", "token_type", "expires_in", "scope"):
                self.assertIn(k, tok)
            self.assertEqual(tok["token_type"], "bearer")
            self.assertNotEqual(tok["refresh_token"], "rt0")
            st, _, _ = srv.get("/v5/ad_accounts", token=tok["access_token"])
            self.assertEqual(st, 200)
            # strict rotation: the used refresh token is spent
            st, body = token({"grant_type": "refresh_token", "refresh_token": "rt0"})
            self.assertEqual(st, 400)
            time.sleep(1.3)
            st, _, body = srv.get("/v5/ad_accounts", token=tok["access_token"])
            self.assertEqual(st, 401)
            self.assertIn("expired", body["message"])
            st, tok2 = token({"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
            self.assertEqual(st, 200)
            st, _, _ = srv.get("/v5/ad_accounts", token=tok2["access_token"])
            self.assertEqual(st, 200)
            st, cc = token({"grant_type": "client_credentials"})
            self.assertEqual(st, 200)
            self.assertNotIn("refresh_token", cc)
            srv.request("POST", "/__admin/expire_tokens")
            st, _, _ = srv.get("/v5/ad_accounts", token=cc["access_token"])
            self.assertEqual(st, 401)
        finally:
            srv.stop()


def retrying_get(srv, path, params, stats, max_attempts=6):
    """A client that retries 429/5xx/broken responses (as sluice does)."""
    for attempt in range(1, max_attempts + 1):
        try:
            st, hdrs, body = srv.get(path, params)
        except (http.client.HTTPException, OSError):
            st, hdrs, body = -1, {}, None
        if st == 200 and isinstance(body, (dict, list)):
            stats["max_attempts"] = max(stats.get("max_attempts", 0), attempt)
            return body
        if st == 429:
            stats["retry_after"] = hdrs.get("retry-after")
        stats["retries"] = stats.get("retries", 0) + 1
    raise AssertionError("%s failed %d times" % (path, max_attempts))


class TestFaults(unittest.TestCase):
    def test_fault_rates_and_retrying_client(self):
        srv = Server("pinterest_sim.py", "--static-token", TOKEN, "--size", "400",
                     "--fail-5xx", "0.1", "--fail-429", "0.05", "--truncate", "0.02",
                     "--truncate-mode", "mixed", "--retry-after", "0", "--fault-seed", "3")
        try:
            exp = srv.admin("/__admin/expected?page_size=2")["endpoints"]
            stats = {}
            want_items = exp["/pins"]["items"] + exp["/boards"]["items"]
            got = 0
            for path in ("/pins", "/boards"):
                bm = None
                while True:
                    q = {"page_size": 2}
                    if bm:
                        q["bookmark"] = bm
                    body = retrying_get(srv, "/v5" + path, q, stats)
                    got += len(body["items"])
                    bm = body["bookmark"]
                    if not bm:
                        break
            self.assertEqual(got, want_items)
            self.assertEqual(stats["max_attempts"], 2)     # never faulted twice in a row
            self.assertEqual(stats.get("retry_after"), "0")
            s = srv.admin("/__admin/stats")
            total = s["requests"]
            self.assertGreater(total, 150)
            f = s["faults"]
            # rates of first attempts, roughly as configured
            first = total - f.get("5xx", 0) - f.get("429", 0) - f.get("truncate", 0)
            self.assertLess(abs(f.get("5xx", 0) / first - 0.1), 0.06, s)
            self.assertLess(abs(f.get("429", 0) / first - 0.05), 0.04, s)
            self.assertGreater(f.get("5xx", 0), 0)
            self.assertGreater(f.get("429", 0), 0)
            self.assertEqual(sum(v for k, v in s["by_status"].items() if k.startswith("5")),
                             f.get("5xx", 0))
        finally:
            srv.stop()

    def test_fault_determinism_and_latency(self):
        def run():
            srv = Server("pinterest_sim.py", "--static-token", TOKEN, "--size", "10",
                         "--fail-5xx", "0.3", "--fault-seed", "9", "--latency-ms", "20")
            try:
                t0 = time.time()
                out = [srv.get("/v5/boards", {"page_size": 1 + i % 3})[0] for i in range(12)]
                return out, time.time() - t0
            finally:
                srv.stop()
        a, ta = run()
        b, _ = run()
        self.assertEqual(a, b)
        self.assertIn(200, a)
        self.assertGreaterEqual(ta, 12 * 0.02)

    def test_truncation_short(self):
        srv = Server("pinterest_sim.py", "--static-token", TOKEN, "--size", "10",
                     "--truncate", "1.0", "--truncate-mode", "short")
        try:
            with self.assertRaises((http.client.IncompleteRead, http.client.HTTPException, OSError)):
                conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
                conn.request("GET", "/v5/pins", headers={"Authorization": "Bearer " + TOKEN})
                r = conn.getresponse()
                r.read()
            # the retry of the same request is not faulted
            st, _, body = srv.get("/v5/pins")
            self.assertEqual(st, 200)
            self.assertIsInstance(body, dict)
        finally:
            srv.stop()


class TestGenericApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server("generic_api.py", "--items", "53", "--token-ttl", "1")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def get(self, url, headers=None):
        parts = urlsplit(url)
        path = parts.path + ("?" + parts.query if parts.query else "")
        return self.srv.get(path, token=None, headers=headers)

    def test_paginators(self):
        n = self.srv.admin("/__admin/expected")["items"]
        self.assertEqual(n, 53)
        # json_link
        ids, url = [], "/json_link/items?page_size=10"
        while url:
            st, _, body = self.get(url)
            self.assertEqual(st, 200)
            ids += [x["id"] for x in body["data"]]
            url = body["next"]
        self.assertEqual(ids, list(range(n)))
        # header_link
        ids, url = [], "/header_link/items?per_page=20"
        while url:
            st, h, body = self.get(url)
            ids += [x["id"] for x in body]
            m = re.search(r'<([^>]+)>;\s*rel="next"', h.get("link", ""))
            url = m.group(1) if m else None
        self.assertEqual(ids, list(range(n)))
        # cursor (top level and nested)
        for path, getc in (("/cursor/items", lambda b: b["next_cursor"]),
                           ("/cursor_nested/items", lambda b: b["meta"]["next_cursor"])):
            ids, cur = [], None
            while True:
                st, _, body = self.srv.get(path, {"limit": 7, **({"cursor": cur} if cur else {})},
                                           token=None)
                ids += [x["id"] for x in body["items"]]
                cur = getc(body)
                if not cur:
                    break
            self.assertEqual(ids, list(range(n)))
        # offset
        ids, off = [], 0
        while True:
            st, _, body = self.srv.get("/offset/items", {"offset": off, "limit": 10}, token=None)
            ids += [x["id"] for x in body["items"]]
            off += 10
            if off >= body["total"]:
                break
        self.assertEqual(ids, list(range(n)))
        # page number
        ids, page = [], 1
        while True:
            st, _, body = self.srv.get("/page_number/items", {"page": page, "per_page": 10}, token=None)
            ids += [x["id"] for x in body["results"]]
            if page >= body["total_pages"]:
                break
            page += 1
        self.assertEqual(ids, list(range(n)))
        # single page variants
        st, _, body = self.srv.get("/single/items", token=None)
        self.assertEqual(len(body["items"]), n)
        st, _, body = self.srv.get("/single/array", token=None)
        self.assertEqual(len(body), n)
        st, _, body = self.srv.get("/single/object", token=None)
        self.assertEqual(body["id"], 0)

    def test_auth(self):
        s = self.srv
        self.assertEqual(s.get("/auth/bearer/items", token="generic-token")[0], 200)
        self.assertEqual(s.get("/auth/bearer/items", token="x")[0], 401)
        self.assertEqual(s.get("/auth/api_key_header/items", token=None,
                               headers={"X-API-Key": "generic-key"})[0], 200)
        self.assertEqual(s.get("/auth/api_key_header/items", token=None)[0], 401)
        self.assertEqual(s.get("/auth/api_key_query/items", {"api_key": "generic-key"}, token=None)[0], 200)
        basic = base64.b64encode(b"user:pass").decode()
        self.assertEqual(s.get("/auth/basic/items", token=None,
                               headers={"Authorization": "Basic " + basic})[0], 200)
        self.assertEqual(s.get("/auth/basic/items", token=None)[0], 401)
        st, _, data = s.request("POST", "/oauth/token", body="grant_type=client_credentials",
                                headers={"Authorization": "Basic " + base64.b64encode(
                                    b"generic-client:generic-secret").decode(),
                                         "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 200)
        tok = json.loads(data)["access_token"]
        self.assertEqual(s.get("/auth/oauth2/items", token=tok)[0], 200)
        st, _, data = s.request("POST", "/oauth/token", body=urlencode({
            "grant_type": "refresh_token", "refresh_token": "generic-refresh",
            "client_id": "generic-client", "client_secret": "generic-secret"}),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 200)
        rt = json.loads(data)
        self.assertIn("refresh_token", rt)
        time.sleep(1.2)
        self.assertEqual(s.get("/auth/oauth2/items", token=tok)[0], 401)

    def test_parent_child_and_actions(self):
        s = self.srv
        exp = s.admin("/__admin/expected")
        tasks = 0
        st, _, orgs = s.get("/orgs", token=None)
        for o in orgs["items"]:
            st, _, projects = s.get("/orgs/%s/projects" % o["id"], token=None)
            for p in projects["items"]:
                cur = None
                while True:
                    st, _, body = s.get("/orgs/%s/projects/%s/tasks" % (o["id"], p["id"]),
                                        {"cursor": cur} if cur else None, token=None)
                    self.assertEqual(st, 200)
                    tasks += len(body["items"])
                    cur = body["next_cursor"]
                    if not cur:
                        break
        self.assertEqual(tasks, exp["tasks"])
        self.assertEqual(s.get("/orgs/org-99/projects", token=None)[0], 404)
        st, h, body = s.get("/actions/no_content", token=None)
        self.assertEqual((st, body), (204, None))
        st, _, parents = s.get("/actions/parents", token=None)
        codes = [s.get("/actions/parents/%d/children" % p["id"], token=None)[0] for p in parents["items"]]
        self.assertIn(404, codes)
        self.assertIn(200, codes)
        st, _, body = s.get("/actions/error_body", token=None)
        self.assertEqual(body["status"], "error")
        bodies = [s.get("/actions/flaky", {"key": "k1"}, token=None)[2]["status"] for _ in range(3)]
        self.assertEqual(bodies, ["error", "error", "ok"])

    def test_incremental_events(self):
        s = self.srv
        st, _, body = s.get("/events", {"limit": 100}, token=None)
        first = body["items"]
        last = first[-1]["updated_at"]
        s.request("POST", "/__admin/advance?n=5")
        st, _, body = s.get("/events", {"since": last, "limit": 100}, token=None)
        self.assertEqual(len(body["items"]), 6)       # the last one again + 5 new
        st, _, body = s.get("/events", {"since": "2024-01-01T05:00:00Z",
                                        "until": "2024-01-01T08:00:00Z"}, token=None)
        self.assertEqual([e["id"] for e in body["items"]], [5, 6, 7])
        s.request("POST", "/__admin/reset")

    def test_bench_endpoint(self):
        st, _, body = self.srv.get("/bench/items", token=None)
        self.assertEqual(len(body["items"]), 100)
        self.assertTrue(body["next_cursor"])


# ------------------------------------------------------------------ main
class CountingResult(unittest.TextTestResult):
    pass


def main():
    argv = [a for a in sys.argv[1:]]
    verbosity = 2 if "-v" in argv else 1
    names = [a for a in argv if not a.startswith("-")]
    loader = unittest.TestLoader()
    if names:
        suite = loader.loadTestsFromNames(names, sys.modules[__name__])
    else:
        suite = loader.loadTestsFromModule(sys.modules[__name__])
    t0 = time.time()
    runner = unittest.TextTestRunner(verbosity=verbosity, resultclass=CountingResult)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print("servers self-test took %.1f s" % (time.time() - t0))
    print("servers: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
