#!/usr/bin/env python3
"""pinterest_sim.py: a Pinterest API v5 simulator for sluice's tests, demo and
benchmarks.  Python 3 standard library only.

It serves every GET operation of pinterest_digest.json (derived from the
Pinterest 5.23 OpenAPI spec by spec_digest.py) under /v5 with deterministic
data shaped by each operation's 200 response schema, bookmark pagination, ids
that link parents to children, OAuth2 tokens that expire, fault injection,
introspection (/__admin/stats, /__admin/expected) and an OpenAPI description
of itself (/openapi.json, /openapi.yaml).  See README.md beside this file.

    python3 tests/servers/pinterest_sim.py --port 0 --static-token T --size 100
"""

import base64
import binascii
import datetime as dt
import json
import math
import os
import random
import re
import sys
import threading
import time
from collections import OrderedDict
from urllib.parse import unquote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import simcommon  # noqa: E402
from simcommon import h64, unit  # noqa: E402

DEFAULT_DIGEST = os.path.join(HERE, "pinterest_digest.json")
REF_PREFIX = "#/components/schemas/"
BASE = "/v5"

ERROR_CODES = {400: 1, 401: 2, 403: 3, 404: 4, 405: 5, 409: 6, 429: 8,
               500: 9, 502: 10, 503: 11}

# ---------------------------------------------------------------- the world
# Parents of ids that the path layout does not show (var -> list path, field).
VAR_BINDINGS = {
    "billing_invoice_id": ("/ad_accounts/{ad_account_id}/billing_invoices", "id"),
    "pin_order_id": ("/ad_accounts/{ad_account_id}/ssio/insertion_orders/status", "pin_order_id"),
    "processing_result_id": ("/catalogs/feeds/{feed_id}/processing_results", "id"),
    "business_id": ("/businesses/employers", "id"),
    "asset_id": ("/businesses/{business_id}/assets", "asset_id"),
    "member_id": ("/businesses/{business_id}/members", "id"),
    "partner_id": ("/businesses/{business_id}/partners", "id"),
    "external_business_id": ("/integrations", "external_business_id"),
    "section_id": ("/boards/{board_id}/sections", "id"),
    "pin_id": ("/boards/{board_id}/pins", "id"),
    "media_id": ("/media", "media_id"),
    "username": ("/user_account", "username"),
}
# Lists whose items hang below another list's items (flattened per path parent).
LOGICAL_PARENTS = {
    "/ad_accounts/{ad_account_id}/ad_groups": "campaign_id",
    "/ad_accounts/{ad_account_id}/ads": "ad_group_id",
    "/ad_accounts/{ad_account_id}/product_group_promotions": "ad_group_id",
}
# Lists that show another list's items (view path -> (canonical path, filter)).
VIEWS = {
    "/pins": ("/boards/{board_id}/pins", "all"),
    "/search/pins": ("/boards/{board_id}/pins", "all"),
    "/boards/{board_id}/sections/{section_id}/pins": ("/boards/{board_id}/pins", "section"),
    "/search/boards": ("/boards", "all"),
}
# Item fields that also carry a context id.
FIELD_ALIASES = {"section_id": ("board_section_id",)}
# Lists that answer for one record of another list named by a required query
# parameter (path -> (param, list path)): the accounts an audience is shared
# with are per audience; an audience of another account or business is 404.
QUERY_PARENTS = {
    "/ad_accounts/{ad_account_id}/audiences/shared/accounts":
        ("audience_id", "/ad_accounts/{ad_account_id}/audiences"),
    "/businesses/{business_id}/audiences/shared/accounts":
        ("audience_id", "/businesses/{business_id}/audiences"),
}
# Item fields the spec marks nullable that link to another list: which
# entries have them null (a deterministic share) and where real values come
# from.  Integrations without an external business id have no commerce
# integration; a product group promotion without a catalog product group
# has no product group analytics.
NULL_LINKS = {
    ("/integrations", "external_business_id"): None,
    ("/ad_accounts/{ad_account_id}/product_group_promotions", "catalog_product_group_id"):
        "/catalogs/product_groups",
}


def null_link(index):
    """Whether the entry at this position of its list has its nullable link
    field null: every third one, never the first."""
    return index % 3 == 1


def size_scheme(path, n, depth):
    """Items per parent for a list path: (base, varies).  See README.md,
    "The size scheme".  depth is the number of path variables.  A base of
    None means "N/5 in all, shared by the parents" (computed later)."""
    fixed = {
        "/ad_accounts": (max(2, n // 50), False),
        "/ad_accounts/{ad_account_id}/campaigns": (max(1, n // 20), True),
        "/ad_accounts/{ad_account_id}/ad_groups": (2, True),                # per campaign
        "/ad_accounts/{ad_account_id}/ads": (2, True),                      # per ad group
        "/ad_accounts/{ad_account_id}/product_group_promotions": (1, False),  # per ad group
        "/boards": (max(2, n // 10), False),
        "/boards/{board_id}/sections": (1 + min(4, n // 100), True),
        "/boards/{board_id}/pins": (10, True),                               # ~N pins in all
        "/user_account": (1, False),
    }
    if path in fixed:
        return fixed[path]
    if depth == 0:
        return max(3, n // 10), False
    return None, True


class Entry:
    __slots__ = ("id", "key", "ctx", "fields", "index")

    def __init__(self, id_, key, ctx, fields, index):
        self.id = id_
        self.key = key
        self.ctx = ctx          # var -> id for this entry and its parents
        self.fields = fields    # item field -> value forced into the item
        self.index = index


class Entity:
    """The items of one list endpoint (its canonical path)."""

    def __init__(self, world, path, item_schema):
        self.world = world
        self.path = path
        self.item_schema = item_schema
        self.parent_vars = re.findall(r"{([^}]+)}", path)
        self.query_parent = QUERY_PARENTS.get(path)
        if self.query_parent:
            self.parent_vars.append(self.query_parent[0])
        self.var = None          # the path variable these ids bind
        self.id_field = None
        self.extra_keys = []     # other fields that identify an item
        self.logical_var = LOGICAL_PARENTS.get(path)
        props = world.spec.props(item_schema)
        self.props = props
        if "id" in props:
            self.id_field = "id"
        self.base, self.varies = size_scheme(path, world.size, len(self.parent_vars))
        self.logical_parent = None

    def per_parent(self):
        """The base count per parent; generic child lists share N/5 items
        among their parents (at least 1 each)."""
        if self.base is None:
            if any(v not in self.world.bindings for v in self.parent_vars):
                self.base = max(1, self.world.size // 25)
            else:
                parents = len(self.world.all_entries(self.world.parent_entity(self)))
                self.base = max(1, int(round((self.world.size // 5) / max(1, parents))))
        return self.base

    def count(self, parent_key, first_parent=False):
        # A later generation (--generation, POST /__admin/generation) has one
        # more item per parent and per generation: the earlier items keep
        # their indexes, hence their ids.
        return self.count_gen1(parent_key, first_parent) + self.world.generation - 1

    def count_gen1(self, parent_key, first_parent=False):
        base = self.per_parent()
        if not self.varies or any(v not in self.world.bindings for v in self.parent_vars):
            return base
        self.base = base
        u = unit("count", self.world.seed, self.path, parent_key)
        if first_parent:        # the first parent always has children
            return max(1, int(self.base * (0.5 + u)))
        if self.path in LOGICAL_PARENTS or self.path in (
                "/ad_accounts/{ad_account_id}/campaigns", "/boards/{board_id}/sections",
                "/boards/{board_id}/pins"):
            spread = 0.5 if self.base >= 4 else 1.0     # small bases: 1..3 for 2
            return max(1, int(round(self.base * (1 - spread / 2 + spread * u))))
        # generic child lists: 50%..150% of the base, may be empty
        return int(self.base * (0.5 + u))

    def make_id(self, parent_key, i, salt=""):
        return str(10 ** 15 + h64("id", self.world.seed, self.path, parent_key, i, salt) % (9 * 10 ** 15))

    def entries(self, ctx):
        """The items for the parent ids in ctx (cached)."""
        pk = tuple(ctx.get(v) for v in self.parent_vars)
        ck = (self.path, pk)
        cache = self.world.entry_cache
        got = cache.get(ck)
        if got is not None:
            return got
        out = []
        if self.path == "/user_account":
            uname = "sluice_user_%d" % (h64("user", self.world.seed) % 100000)
            fields = {"username": uname,
                      "id": str(10 ** 15 + h64("uid", self.world.seed) % (9 * 10 ** 15))}
            out.append(Entry(uname, "user_account", {"username": uname}, fields, 0))
        elif self.logical_var:
            parent = self.world.binding_entity(self.logical_var)
            for pe in parent.entries(ctx):
                n = self.count(pe.key)
                for j in range(n):
                    out.append(self._entry(pe.ctx, pe.key, j, len(out)))
        else:
            base_ctx = {v: ctx.get(v) for v in self.parent_vars}
            first_parent = False
            if self.parent_vars and self.parent_vars[-1] in self.world.bindings:
                pe = self.world.find(self.parent_vars[-1], ctx.get(self.parent_vars[-1]), ctx)
                first_parent = pe is not None and pe.index == 0
            n = self.count(pk, first_parent)
            for j in range(n):
                out.append(self._entry(base_ctx, pk, j, j))
        with self.world.lock:
            cache[ck] = out
        return out

    def _entry(self, parent_ctx, parent_key, j, index):
        own = self.make_id(parent_key, j)
        key = "%s|%s|%d" % (self.path, parent_key, j)
        ctx = dict(parent_ctx)
        if self.var:
            ctx[self.var] = own
        fields = {}
        if self.id_field:
            fields[self.id_field] = own
        for f in self.extra_keys:
            fields[f] = self.make_id(parent_key, j, f)
        if self.path == "/boards/{board_id}/pins":
            secs = self.world.entity("/boards/{board_id}/sections").entries({"board_id": ctx["board_id"]})
            sec = None
            if secs and unit("sec", self.world.seed, key) < 0.6:
                sec = secs[h64("secpick", key) % len(secs)].id
            ctx["section_id"] = sec
        if self.path == "/ad_accounts/{ad_account_id}/ads":
            pins = self.world.all_entries(self.world.entity("/boards/{board_id}/pins"))
            if pins:
                fields["pin_id"] = pins[h64("adpin", key) % len(pins)].id
        for (path, field), src in NULL_LINKS.items():
            if path != self.path:
                continue
            if null_link(index):
                fields[field] = None
            elif src:
                real = self.world.all_entries(self.world.entity(src))
                fields[field] = real[h64("link", key, field) % len(real)].id if real else None
        for var, val in ctx.items():
            if var == self.var:
                continue
            for f in (var,) + FIELD_ALIASES.get(var, ()):
                if f in self.props:
                    fields[f] = val
        return Entry(own, key, ctx, fields, index)


class World:
    def __init__(self, spec, seed, size, generation=1):
        self.spec = spec
        self.seed = seed
        self.size = max(1, size)
        self.generation = max(1, generation)
        self.lock = threading.Lock()
        self.entry_cache = {}
        self.all_cache = {}
        self.index_cache = {}
        self.entities = {}
        self.bindings = {}       # var -> (entity path, field)
        for op in spec.ops:
            if op["pagination"]["type"] in ("bookmark", "single_page") and op["path"] not in VIEWS:
                self.entities[op["path"]] = Entity(self, op["path"], spec.list_item_schema(op))
        user_op = spec.by_path.get("/user_account")
        if user_op:
            self.entities["/user_account"] = Entity(self, "/user_account", user_op["response"])
        # bindings from the path layout: /x/{v} where /x is a list
        for op in spec.ops:
            segs = op["path"].split("/")
            for k, seg in enumerate(segs):
                m = re.match(r"^{(.+)}$", seg)
                if not m:
                    continue
                prefix = "/".join(segs[:k])
                var = m.group(1)
                if prefix in self.entities and var not in self.bindings:
                    ent = self.entities[prefix]
                    field = "id" if "id" in ent.props else var if var in ent.props else "id"
                    self.bindings[var] = (prefix, field)
        for var, (path, field) in VAR_BINDINGS.items():
            if path in self.entities:
                self.bindings[var] = (path, field)
        for var, (path, field) in sorted(self.bindings.items()):
            ent = self.entities[path]
            if ent.id_field is None:
                ent.id_field = field
            if field == ent.id_field:
                if ent.var is None:
                    ent.var = var
            elif field not in ent.extra_keys:
                ent.extra_keys.append(field)

    def entity(self, path):
        return self.entities[path]

    def binding_entity(self, var):
        return self.entities[self.bindings[var][0]]

    def parent_entity(self, ent):
        """The entity whose entries give ent's path parents (None: top or
        a free path variable, see free_vars)."""
        if ent.query_parent:
            return self.entities[ent.query_parent[1]]
        if not ent.parent_vars or ent.parent_vars[-1] not in self.bindings:
            return None
        return self.binding_entity(ent.parent_vars[-1])

    def free_vars(self, ent):
        """Path variables of ent's list that no list provides (any value is
        accepted, e.g. {batch_id})."""
        return [v for v in ent.parent_vars if v not in self.bindings]

    def all_entries(self, ent):
        """Entries of ent over every parent (cached)."""
        got = self.all_cache.get(ent.path)
        if got is not None:
            return got
        parent = self.parent_entity(ent)
        if parent is None:
            out = list(ent.entries({}))
        else:
            out = []
            for c in self.parent_contexts(ent):
                out.extend(ent.entries(c))
        with self.lock:
            self.all_cache[ent.path] = out
        return out

    def parent_contexts(self, ent):
        parent = self.parent_entity(ent)
        if parent is None:
            return [{}]
        if ent.query_parent:
            return [dict(pe.ctx, **{ent.query_parent[0]: pe.id}) for pe in self.all_entries(parent)]
        return [pe.ctx for pe in self.all_entries(parent)]

    def find(self, var, value, ctx):
        """The entry bound to var=value within ctx, or None."""
        path, field = self.bindings[var]
        ent = self.entities[path]
        if all(ctx.get(v) is not None for v in ent.parent_vars):
            cands = ent.entries(ctx)
        else:
            cands = self.all_entries(ent)
        ik = (path, field, tuple(ctx.get(v) for v in ent.parent_vars))
        idx = self.index_cache.get(ik)
        if idx is None:
            idx = {}
            for e in cands:
                v = e.id if field == ent.id_field else e.fields.get(field)
                if v is not None:
                    idx.setdefault(v, e)
            with self.lock:
                self.index_cache[ik] = idx
        return idx.get(value)

    def list_entries(self, path, ctx):
        """Entries of the list endpoint path for ctx (views included)."""
        if path in VIEWS:
            canon, how = VIEWS[path]
            ent = self.entities[canon]
            if how == "all":
                return ent, self.all_entries(ent)
            if how == "section":
                return ent, [e for e in ent.entries({"board_id": ctx["board_id"]})
                             if e.ctx.get("section_id") == ctx["section_id"]]
        ent = self.entities[path]
        return ent, ent.entries(ctx)

    def expected(self, page_size):
        """Exact item counts of a complete load of each list endpoint."""
        out = OrderedDict()
        for op in self.spec.ops:
            pg = op["pagination"]
            if pg["type"] not in ("bookmark", "single_page"):
                continue
            path = op["path"]
            if path in VIEWS and VIEWS[path][1] == "all":
                canon = self.entities[VIEWS[path][0]]
                groups = [self.all_entries(canon)]
                parents = 1
            elif path in VIEWS:
                # section pins: one request series per (board, section)
                canon = self.entities[VIEWS[path][0]]
                secs = self.all_entries(self.entities["/boards/{board_id}/sections"])
                groups = []
                for s in secs:
                    groups.append([e for e in canon.entries({"board_id": s.ctx["board_id"]})
                                   if e.ctx.get("section_id") == s.id])
                parents = len(secs)
            else:
                ent = self.entities[path]
                ctxs = self.parent_contexts(ent)
                groups = [ent.entries(c) for c in ctxs]
                parents = len(ctxs)
                if self.free_vars(ent):
                    parents = None     # per request, for any value of the free variable
            ps = page_size
            if pg["type"] == "bookmark" and pg.get("size_param"):
                ps = max(pg.get("size_min", 1), min(page_size or pg["size_default"], pg["size_max"]))
            elif pg["type"] == "bookmark":
                ps = 25
            items = sum(len(g) for g in groups)
            if pg["type"] == "single_page":
                pages = len(groups)
            else:
                pages = sum(max(1, math.ceil(len(g) / ps)) for g in groups)
            req = [p["name"] for p in op["parameters"] if p.get("required") and p["in"] == "query"]
            pvars = re.findall(r"{([^}]+)}", path)
            out[path] = {"items": items, "parents": parents, "pages": pages,
                         "free_vars": self.free_vars(self.entities[path]) if path in self.entities else [],
                         "page_size": ps if pg["type"] == "bookmark" else None,
                         "parent_vars": pvars, "required_query": req,
                         "pagination": pg["type"]}
        return out

    def expected_details(self):
        """Detail endpoints /x/{id}: one object per id of their list."""
        out = OrderedDict()
        for op in self.spec.ops:
            if op["pagination"]["type"] != "object":
                continue
            vars_ = re.findall(r"{([^}]+)}", op["path"])
            if not vars_ or not op["path"].endswith("{%s}" % vars_[-1]):
                continue
            if vars_[-1] not in self.bindings or any(v not in self.bindings for v in vars_):
                continue
            ent = self.binding_entity(vars_[-1])
            lst = next((v for v, (c, how) in VIEWS.items()
                        if c == ent.path and how == "all" and not v.startswith("/search")), ent.path)
            field = self.bindings[vars_[-1]][1]
            ids = [e for e in self.all_entries(ent)
                   if (e.id if field == ent.id_field else e.fields.get(field)) is not None]
            out[op["path"]] = {"items": len(ids), "list": lst, "id_field": field}
        return out


# ---------------------------------------------------------------- spec
class Spec:
    def __init__(self, digest):
        self.digest = digest
        self.ops = digest["operations"]
        self.schemas = digest["schemas"]
        self.by_path = {op["path"]: op for op in self.ops}
        self.routes = []
        for op in self.ops:
            segs = op["path"].strip("/").split("/")
            pattern = "^" + "/".join(
                "(?P<%s>[^/]+)" % re.sub(r"\W", "_", s[1:-1]) if s.startswith("{") else re.escape(s)
                for s in segs) + "$"
            spec_key = tuple(1 if s.startswith("{") else 0 for s in segs)
            names = [s[1:-1] for s in segs if s.startswith("{")]
            self.routes.append((re.compile(pattern), spec_key, names, op))

    def route(self, path):
        best = None
        for rx, key, names, op in self.routes:
            m = rx.match(path.strip("/"))
            if m:
                if best is None or key < best[0]:
                    vals = [unquote(v) for v in m.groups()]
                    best = (key, op, dict(zip(names, vals)))
        return (best[1], best[2]) if best else (None, None)

    def resolve(self, s):
        nullable = False
        seen = 0
        while isinstance(s, dict) and "$ref" in s:
            nullable = nullable or bool(s.get("nullable"))
            s = self.schemas.get(s["$ref"][len(REF_PREFIX):], {})
            seen += 1
            if seen > 50:
                return {}
        if nullable and isinstance(s, dict) and not s.get("nullable"):
            s = dict(s, nullable=True)
        return s or {}

    def props(self, s):
        return self.resolve(s).get("properties") or {}

    def list_item_schema(self, op):
        r = self.resolve(op["response"])
        items = self.resolve((r.get("properties") or {}).get("items") or {})
        return items.get("items") or {}


def load_digest(path):
    if path.endswith((".yaml", ".yml")):
        import spec_digest
        return spec_digest.Digester(spec_digest.load_spec(path)).digest(os.path.basename(path))
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)


# ---------------------------------------------------------------- values
WORDS = ("autumn recipes garden travel minimal decor wedding ideas summer outfit "
         "vintage poster kitchen design cozy living room handmade gifts yoga morning "
         "street food photography coastal bedroom watercolor tattoo sourdough bread").split()
SPECIALS = ("Café crème é", "日本の庭", "emoji 📌✨🎉", 'say "hello"', "back\\slash C:\\path",
            "tab\tand\nnewline", "it's 100% <b>bold</b> & more", "Ünïcödé ß straße",
            "中文 测试", "🇫🇷 Paris", "Ω≈ç√∫ math", "null", "")
BASE_TIME = 1700000000          # 2023-11-14T22:13:20Z


def iso_time(ts):
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(ts):
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d")


class Req:
    """What of the request shapes a body: dates, metric names, ids."""

    def __init__(self, query, ctx, op):
        self.query = query
        self.ctx = ctx
        self.op = op
        self.start = parse_date(first(query, "start_date"))
        self.end = parse_date(first(query, "end_date"))
        self.granularity = (first(query, "granularity") or "DAY").upper()
        self.metrics = (multi(query, "columns") or multi(query, "metric_types"))[:300]

    def days(self):
        if not self.start or not self.end:
            return None
        n = (self.end - self.start).days + 1
        return [self.start + dt.timedelta(days=i) for i in range(max(0, min(n, 3700)))]

    def buckets(self):
        days = self.days()
        if days is None:
            return None
        g = self.granularity
        if g == "TOTAL":
            return [days[0]] if days else []
        if g == "WEEK":
            return days[::7]
        if g == "MONTH":
            seen, out = set(), []
            for d in days:
                if (d.year, d.month) not in seen:
                    seen.add((d.year, d.month))
                    out.append(d)
            return out
        return days


def date_limits(op):
    """What the start_date/end_date descriptions say, like the real API
    enforces: (days back from today, days past start_date), None when unsaid."""
    back = span = None
    for p in op["parameters"]:
        d = p.get("description") or ""
        m = re.search(r"(\d+(?:\.\d+)?) (days|years) back", d)
        if p["name"] == "start_date" and m:
            back = int(float(m.group(1)) * (365 if m.group(2) == "years" else 1))
        m = re.search(r"(\d+(?:\.\d+)?) (days|years) past start", d)
        if p["name"] == "end_date" and m:
            span = int(float(m.group(1)) * (365 if m.group(2) == "years" else 1))
    return back, span


def first(query, name):
    v = query.get(name)
    return v[-1] if v else None


def multi(query, name):
    out = []
    for v in query.get(name) or []:
        out.extend(x for x in v.split(",") if x != "")
    for k, vals in query.items():          # name[]=a&name[]=b
        if k == name + "[]":
            out.extend(vals)
    return out


def parse_date(s):
    if not s:
        return None
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        return None


class Gen:
    """Schema-driven deterministic value generator."""

    def __init__(self, spec, seed):
        self.spec = spec
        self.seed = seed

    def rng(self, *key):
        return random.Random(h64("gen", self.seed, *key))

    def value(self, schema, rng, name="", depth=0, req=None, top=False):
        s = self.spec.resolve(schema)
        if depth > 10:
            return None if s.get("nullable") else self.empty(s)
        t = s.get("type")
        enum = [e for e in (s.get("enum") or []) if e is not None]
        if enum:
            return enum[rng.randrange(len(enum))]
        if t == "object" or (t is None and ("properties" in s or "additionalProperties" in s)):
            return self.obj(s, rng, depth, req)
        if t == "array":
            return self.arr(s, rng, name, depth, req)
        if t == "string":
            return self.string(s, rng, name)
        if t == "integer":
            return self.integer(s, rng, name)
        if t == "number":
            return self.number(s, rng, name)
        if t == "boolean":
            return rng.random() < 0.5
        # no type at all: a short string
        return self.string({}, rng, name)

    @staticmethod
    def empty(s):
        t = s.get("type")
        return {"object": {}, "array": [], "string": "", "integer": 0,
                "number": 0.0, "boolean": False}.get(t, None)

    def obj(self, s, rng, depth, req):
        props = s.get("properties") or {}
        out = {}
        for k, ps in props.items():
            sub = self.spec.resolve(ps)
            if sub.get("nullable") and rng.random() < 0.12:
                out[k] = None
                continue
            out[k] = self.value(ps, rng, k, depth + 1, req)
        ap = s.get("additionalProperties")
        if ap is True and req is not None and req.metrics and ("DATE" in props or depth <= 2) \
                and any(n.endswith("_ID") for n in props):
            for m in req.metrics:                 # analytics row: requested columns
                out[m] = self.metric(rng, m)
        elif isinstance(ap, dict) and not props:
            for k in self.map_keys(ap, rng, req, depth):
                out[k] = self.value(ap, rng, k, depth + 1, req)
        elif not props and (ap is None or ap is True):
            if req is not None and req.metrics:
                tt = multi(req.query, "targeting_types")
                if tt:
                    out["targeting_type"] = tt[rng.randrange(len(tt))]
                    out["targeting_value"] = self.string({}, rng, "value")
                for m in req.metrics:
                    out[m] = self.metric(rng, m)
            else:
                out["note"] = self.string({}, rng, "note")
                out["count"] = rng.randrange(100)
        return out

    def map_keys(self, ap, rng, req, depth):
        sub = self.spec.resolve(ap)
        struct = sub.get("type") == "object" or "properties" in sub or "additionalProperties" in sub
        if req is not None:
            if struct:
                pins = multi(req.query, "pin_ids")
                if pins and depth == 0:
                    return pins[:100]
                app = first(req.query, "app_types")
                return [app.lower() if app else "all"]
            if req.metrics and sub.get("type") in ("number", "integer"):
                return list(req.metrics)
        pool = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
        n = 1 + rng.randrange(3)
        start = rng.randrange(len(pool))
        return [pool[(start + i) % len(pool)] for i in range(n)]

    @staticmethod
    def metric(rng, name):
        if any(w in name for w in ("IMPRESSION", "CLICK", "SAVE", "ENGAGEMENT", "CONVERSION",
                                   "_COUNT", "CHECKOUT", "LEAD", "VIEW", "PIN_")):
            return rng.randrange(0, 50000)
        return round(rng.random() * 1000, 4)

    def arr(self, s, rng, name, depth, req):
        item = s.get("items") or {}
        isch = self.spec.resolve(item)
        iprops = isch.get("properties") or {}
        if req is not None and req.days() is not None and ("date" in iprops or "DATE" in iprops):
            out = []
            for d in req.days():
                row = self.value(item, rng, name, depth + 1, req)
                if isinstance(row, dict):
                    row["date" if "date" in iprops else "DATE"] = d.isoformat()
                out.append(row)
            return out
        lo = s.get("minItems") or 0
        hi = s.get("maxItems")
        n = rng.choice((0, 1, 1, 2, 2, 3)) if depth > 1 else 1 + rng.randrange(3)
        n = max(lo, n)
        if hi is not None:
            n = min(n, hi)
        enum = [e for e in (isch.get("enum") or []) if e is not None]
        if enum and s.get("uniqueItems", True):
            n = min(n, len(enum))
            start = rng.randrange(len(enum))
            step = 1 + rng.randrange(max(1, len(enum) - 1)) if len(enum) > 1 else 1
            picked = []
            for i in range(len(enum)):
                v = enum[(start + i * step) % len(enum)]
                if v not in picked:
                    picked.append(v)
                if len(picked) >= n:
                    break
            return picked
        return [self.value(item, rng, name, depth + 1, req) for _ in range(n)]

    def string(self, s, rng, name):
        fmt = s.get("format")
        lname = name.lower()
        ts = BASE_TIME - rng.randrange(0, 3 * 365 * 86400)
        if fmt == "date-time":
            return iso_time(ts)
        if fmt == "date" or lname in ("date",) or lname.endswith("_date"):
            return iso_date(ts)
        pat = s.get("pattern") or ""
        if (lname == "id" or lname.endswith("_id") or lname.endswith("_ids")
                or pat in ("^\\d+$", "\\d+", "^[0-9]+$")):
            return str(10 ** 11 + rng.randrange(9 * 10 ** 11))
        if fmt in ("uri", "url") or any(w in lname for w in ("url", "link", "href", "website",
                                                               "image", "thumbnail")):
            return "https://example.com/%s/%d?q=%s" % (rng.choice(WORDS), rng.randrange(10000),
                                                       rng.choice(("a", "caf%C3%A9", "x+y")))
        if "email" in lname:
            return "user%d@example.com" % rng.randrange(10000)
        if lname.endswith("_at") or lname.endswith("_time") or "timestamp" in lname:
            return iso_time(ts)
        if "color" in lname:
            return "#%06X" % rng.randrange(1 << 24)
        if lname in ("currency",):
            return rng.choice(("USD", "EUR", "GBP", "JPY"))
        if lname in ("country", "country_code", "region"):
            return rng.choice(("US", "FR", "JP", "DE", "BR"))
        words = [rng.choice(WORDS) for _ in range(1 + rng.randrange(4))]
        text = " ".join(words).capitalize()
        if rng.random() < 0.15:
            text = text + " " + rng.choice(SPECIALS)
        ml = s.get("maxLength")
        if ml is not None and len(text) > ml:
            text = text[:ml]
        mn = s.get("minLength") or 0
        if len(text) < mn:
            text = text + "x" * (mn - len(text))
        return text

    def integer(self, s, rng, name):
        lname = name.lower()
        lo, hi = s.get("minimum"), s.get("maximum")
        if lo is None and hi is None:
            if lname.endswith("_time") or lname.endswith("_at") or "timestamp" in lname \
                    or lname.endswith("_ms"):
                v = BASE_TIME - rng.randrange(0, 3 * 365 * 86400)
                return v * 1000 if lname.endswith("_ms") else v
            if "micro" in lname:
                return rng.randrange(0, 10 ** 5) * 10 ** 4
            if lname in ("width", "height"):
                return rng.randrange(100, 2400)
            return rng.randrange(0, 100000)
        lo = int(math.ceil(lo)) if lo is not None else 0
        if s.get("exclusiveMinimum") is True:
            lo += 1
        hi = int(hi) if hi is not None else max(lo, 0) + 100000
        if s.get("exclusiveMaximum") is True:
            hi -= 1
        if hi < lo:
            hi = lo
        return rng.randint(lo, min(hi, lo + 10 ** 9))

    def number(self, s, rng, name):
        lname = name.lower()
        lo, hi = s.get("minimum"), s.get("maximum")
        if lo is None and hi is None and ("timestamp" in lname or "expiry" in lname
                                          or lname.endswith("_time")):
            return float(BASE_TIME - rng.randrange(0, 3 * 365 * 86400))
        lo = float(lo) if lo is not None else 0.0
        hi = float(hi) if hi is not None else lo + 10000.0
        return round(lo + rng.random() * (hi - lo), 4)


# ---------------------------------------------------------------- openapi
def build_openapi(spec, base_url):
    d = spec.digest
    paths = OrderedDict()
    err_ref = {"$ref": REF_PREFIX + "Error"}

    def err(desc):
        return {"description": desc, "content": {"application/json": {"schema": err_ref}}}
    for op in spec.ops:
        resp = op["response"] or {"type": "array", "items": {"type": "object"}}
        o = OrderedDict()
        o["operationId"] = op["operationId"]
        o["summary"] = op["summary"]
        if op["tags"]:
            o["tags"] = op["tags"]
        params = []
        for p in op["parameters"]:
            q = OrderedDict((k, p[k]) for k in ("name", "in", "description", "required",
                                                 "style", "explode", "schema") if k in p)
            params.append(q)
        if params:
            o["parameters"] = params
        o["responses"] = OrderedDict([
            ("200", {"description": "Success",
                     "content": {"application/json": {"schema": resp}}}),
            ("400", err("Invalid or missing parameters")),
            ("401", err("Missing, invalid or expired access token")),
            ("404", err("Unknown id")),
            ("429", err("Rate limited; see Retry-After")),
            ("default", err("Unexpected error")),
        ])
        sec = []
        for s in op["security"]:
            if s["scheme"] in ("pinterest_oauth2", "client_credentials"):
                sec.append({s["scheme"]: s["scopes"]})
        if sec:
            o["security"] = sec
        if op.get("ratelimit"):
            o["x-ratelimit-category"] = op["ratelimit"]
        pg = op["pagination"]
        if pg["type"] == "bookmark":
            o["x-pagination"] = {"type": "cursor", "cursor_param": "bookmark",
                                 "cursor_path": "bookmark", "data_selector": "items",
                                 "page_size_param": pg.get("size_param"),
                                 "page_size_max": pg.get("size_max")}
        paths[op["path"]] = {"get": o}
    schemes = OrderedDict()
    token_url = base_url + BASE + "/oauth/token"
    src = d.get("security_schemes") or {}
    scopes = {}
    for sch in src.values():
        for flow in (sch.get("flows") or {}).values():
            scopes.update(flow.get("scopes") or {})
    schemes["pinterest_oauth2"] = {
        "type": "oauth2",
        "description": "OAuth2 of the simulator: refresh with grant_type=refresh_token "
                       "(client id and secret by HTTP Basic) at the token URL.",
        "flows": {"authorizationCode": {"authorizationUrl": base_url + "/oauth/",
                                        "tokenUrl": token_url,
                                        "refreshUrl": token_url,
                                        "scopes": scopes}}}
    schemes["client_credentials"] = {
        "type": "oauth2",
        "flows": {"clientCredentials": {"tokenUrl": token_url, "scopes": scopes}}}
    comps = OrderedDict((k, v) for k, v in spec.schemas.items())
    comps["Error"] = d.get("error_schema") or {
        "type": "object", "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
        "required": ["code", "message"]}
    info = d.get("digest_of") or {}
    return OrderedDict([
        ("openapi", "3.0.3"),
        ("info", OrderedDict([
            ("title", "Pinterest REST API (sluice simulator)"),
            ("version", info.get("version") or "0"),
            ("description", "What sluice's Pinterest simulator serves: the GET operations of "
                            "the Pinterest REST API %s (spec: MIT, Copyright (c) 2021 "
                            "Pinterest, Inc.), digested by sluice's tests/servers/spec_digest.py. "
                            "Lists answer {items, bookmark}; pass bookmark back to get the next "
                            "page; the list ends when bookmark is null." % (info.get("version") or "")),
            ("license", {"name": "MIT", "url": "https://spdx.org/licenses/MIT"}),
        ])),
        ("servers", [{"url": base_url + BASE}]),
        ("security", [{"pinterest_oauth2": []}]),
        ("paths", paths),
        ("components", OrderedDict([("schemas", comps), ("securitySchemes", schemes)])),
    ])


_YAML_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_YAML_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def to_yaml(obj, indent=0):
    """A small block-style YAML emitter (strings double-quoted JSON-style,
    which is valid YAML)."""
    pad = "  " * indent
    lines = []

    def scalar(v):
        if isinstance(v, str):
            if _YAML_PLAIN.match(v) and v.lower() not in _YAML_RESERVED:
                return v
            return json.dumps(v, ensure_ascii=False)
        return json.dumps(v)

    if isinstance(obj, dict):
        if not obj:
            return pad + "{}\n"
        for k, v in obj.items():
            key = scalar(str(k))
            if isinstance(v, (dict, list)) and v:
                lines.append("%s%s:\n%s" % (pad, key, to_yaml(v, indent + 1)))
            else:
                lines.append("%s%s: %s\n" % (pad, key, "{}" if v == {} else "[]" if v == []
                                             else scalar(v)))
        return "".join(lines)
    if isinstance(obj, list):
        if not obj:
            return pad + "[]\n"
        for v in obj:
            if isinstance(v, (dict, list)) and v:
                sub = to_yaml(v, indent + 1)
                lines.append("%s- %s" % (pad, sub.lstrip(" ")))
            else:
                lines.append("%s- %s\n" % (pad, "{}" if v == {} else "[]" if v == [] else scalar(v)))
        return "".join(lines)
    return pad + scalar(obj) + "\n"


# ---------------------------------------------------------------- server state
class ApiError(Exception):
    def __init__(self, status, message, headers=None):
        Exception.__init__(self, message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class State:
    def __init__(self, args):
        self.args = args
        self.spec = Spec(load_digest(args.digest))
        self.world = World(self.spec, args.seed, args.size, args.generation)
        self.gen = Gen(self.spec, args.seed)
        self.faults = simcommon.Faults(args)
        self.stats = simcommon.Stats()
        self.tok_lock = threading.Lock()
        self.access_tokens = {}            # token -> expiry (epoch seconds)
        self.refresh_tokens = {args.refresh_token}
        self.token_serial = 0
        self.page_cache = OrderedDict()   # (path, query, ctx) -> (body, records)
        self.rec_lock = threading.Lock()
        self.records = {}                  # endpoint -> selector -> records served
        self.cache_bytes = 0
        self.page_lock = threading.Lock()
        self.httpd = None
        self.port = None
        self.stop = None

    def set_generation(self, n):
        """Serve generation n from now on: a new world (counts and bases are
        computed afresh, as when started with --generation n), no cached body."""
        world = World(self.spec, self.args.seed, self.args.size, n)
        with self.page_lock:
            self.world = world
            self.args.generation = world.generation
            self.page_cache.clear()
            self.cache_bytes = 0

    def count_records(self, endpoint, recs):
        with self.rec_lock:
            got = self.records.setdefault(endpoint, {})
            for k, n in recs.items():
                got[k] = got.get(k, 0) + n

    # tokens ----------------------------------------------------------
    def new_token(self, kind):
        with self.tok_lock:
            self.token_serial += 1
            n = self.token_serial
        return "pin%s_%016x" % (kind, h64("token", self.args.fault_seed, kind, n, time.time()))

    def issue(self, with_refresh):
        access = self.new_token("a")
        with self.tok_lock:
            self.access_tokens[access] = time.time() + self.args.token_ttl
        out = {"access_token": access, "token_type": "bearer",
               "expires_in": int(self.args.token_ttl), "scope": self.scopes()}
        if with_refresh:
            refresh = self.new_token("r")
            with self.tok_lock:
                self.refresh_tokens.add(refresh)
            out["refresh_token"] = refresh
            out["refresh_token_expires_in"] = 60 * 24 * 3600
        self.stats.bump("tokens_issued")
        return out

    def scopes(self):
        s = set()
        for sch in (self.spec.digest.get("security_schemes") or {}).values():
            for f in (sch.get("flows") or {}).values():
                s.update(f.get("scopes") or {})
        return ",".join(sorted(x for x in s if x.endswith(":read")))

    def token_ok(self, token):
        if self.args.static_token and token == self.args.static_token:
            return True
        with self.tok_lock:
            exp = self.access_tokens.get(token)
        return exp is not None and exp > time.time()


# ---------------------------------------------------------------- handler
class Handler(simcommon.JsonHandler):
    server_version = "sluice-pinterest-sim/1"

    def error(self, status, message, headers=None, endpoint="-", fault=None, truncate=None):
        self.state.stats.count(endpoint, status, fault)
        self.send_json(status, {"code": ERROR_CODES.get(status, status), "message": message},
                       headers=headers, truncate=truncate)

    def do_GET(self):
        self.parse()
        p = self.req_path
        try:
            if p.startswith("/__admin/"):
                return self.admin_get(p)
            if p in ("/openapi.json", BASE + "/openapi.json"):
                return self.send_json(200, build_openapi(self.state.spec, self.base_url()))
            if p in ("/openapi.yaml", BASE + "/openapi.yaml"):
                text = to_yaml(build_openapi(self.state.spec, self.base_url()))
                return self.send_body(200, text.encode("utf-8"), ctype="application/yaml; charset=utf-8")
            if p == "/" or p == "/__health":
                return self.send_json(200, {"ok": True, "service": "pinterest-sim",
                                            "base": self.base_url() + BASE})
            if p.startswith(BASE + "/") or p == BASE:
                return self.api(p[len(BASE):] or "/")
            return self.error(404, "Not found: %s" % p)
        except ApiError as e:
            self.error(e.status, e.message, e.headers)
        except Exception as e:  # a bug: answer 500 rather than drop the connection
            import traceback
            traceback.print_exc()
            self.error(500, "Internal simulator error: %s" % e)

    def do_POST(self):
        self.parse()
        p = self.req_path
        if p == BASE + "/oauth/token":
            return self.oauth()
        if p == "/__admin/shutdown":
            self.send_json(200, {"ok": True, "stopping": True})
            self.close_connection = True
            if self.state.stop:
                self.state.stop()
            return
        if p == "/__admin/reset":
            self.state.stats.reset()
            with self.state.rec_lock:
                self.state.records.clear()
            with self.state.faults.lock:
                self.state.faults.attempts.clear()
                self.state.faults.last_faulted.clear()
            return self.send_json(200, {"ok": True})
        if p == "/__admin/generation":
            try:
                n = int(self.qget("n") or "")
            except ValueError:
                return self.error(400, "generation: n must be an integer >= 1")
            if n < 1:
                return self.error(400, "generation: n must be an integer >= 1")
            self.state.set_generation(n)
            return self.send_json(200, {"ok": True, "generation": n})
        if p == "/__admin/expire_tokens":
            with self.state.tok_lock:
                n = len(self.state.access_tokens)
                for t in self.state.access_tokens:
                    self.state.access_tokens[t] = 0
            return self.send_json(200, {"ok": True, "expired": n})
        op, _ = self.state.spec.route(p[len(BASE):]) if p.startswith(BASE) else (None, None)
        if op:
            return self.error(405, "Method not allowed: only GET is simulated for %s" % op["path"],
                              endpoint=op["path"])
        return self.error(404, "Not found: %s" % p)

    do_PUT = do_POST
    do_PATCH = do_POST
    do_DELETE = do_POST

    # admin -----------------------------------------------------------
    def admin_get(self, p):
        st = self.state
        if p == "/__admin/stats":
            snap = st.stats.snapshot(st.faults)
            with st.rec_lock:
                snap["records"] = {k: dict(v) for k, v in sorted(st.records.items())}
            snap["config"] = self.config()
            return self.send_json(200, snap)
        if p == "/__admin/expected":
            ps = self.qget("page_size")
            try:
                ps = int(ps) if ps else 25
            except ValueError:
                raise ApiError(400, "page_size must be an integer")
            exp = st.world.expected(ps)
            return self.send_json(200, {
                "page_size": ps, "seed": st.args.seed, "size": st.world.size,
                "total_items": sum(v["items"] for v in exp.values()),
                "total_pages": sum(v["pages"] for v in exp.values()),
                "endpoints": exp,
                "details": st.world.expected_details()})
        if p == "/__admin/config":
            return self.send_json(200, self.config())
        if p == "/__admin/ids":
            # the ids of one list endpoint over all parents (for tests)
            path = self.qget("path") or "/ad_accounts"
            if path not in st.world.entities and path not in VIEWS:
                raise ApiError(404, "no list %s" % path)
            if path in VIEWS:
                ent = st.world.entities[VIEWS[path][0]]
            else:
                ent = st.world.entities[path]
            rows = [dict(e.ctx, _id=e.id) for e in st.world.all_entries(ent)]
            return self.send_json(200, {"path": path, "var": ent.var, "id_field": ent.id_field,
                                        "entries": rows})
        raise ApiError(404, "unknown admin endpoint %s" % p)

    def config(self):
        a = self.state.args
        return {k: getattr(a, k) for k in (
            "seed", "size", "generation", "page_max", "fail_5xx", "fail_429", "retry_after", "truncate",
            "truncate_mode", "latency_ms", "token_ttl", "fault_seed", "max_inflight",
            "no_auth", "strict_refresh", "client_id")}

    # oauth -----------------------------------------------------------
    def oauth(self):
        st = self.state
        form = self.form()
        cid, secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                raw = base64.b64decode(auth[6:].strip()).decode("utf-8")
                cid, _, secret = raw.partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return self.error(401, "Malformed Basic authorization", endpoint="/oauth/token")
        if cid != st.args.client_id or secret != st.args.client_secret:
            return self.error(401, "Invalid client credentials", endpoint="/oauth/token")
        grant = form.get("grant_type")
        if grant == "refresh_token":
            rt = form.get("refresh_token")
            if not rt:
                return self.error(400, "Missing parameter: refresh_token", endpoint="/oauth/token")
            with st.tok_lock:
                ok = rt in st.refresh_tokens
                if ok and st.args.strict_refresh:
                    st.refresh_tokens.discard(rt)
            if not ok:
                return self.error(400, "Invalid refresh token", endpoint="/oauth/token")
            st.stats.count("/oauth/token", 200)
            return self.send_json(200, st.issue(with_refresh=True))
        if grant == "client_credentials":
            st.stats.count("/oauth/token", 200)
            return self.send_json(200, st.issue(with_refresh=False))
        if grant == "authorization_code":
            if not form.get("code"):
                return self.error(400, "Missing parameter: code", endpoint="/oauth/token")
            st.stats.count("/oauth/token", 200)
            return self.send_json(200, st.issue(with_refresh=True))
        return self.error(400, "Unsupported grant_type: %s" % grant, endpoint="/oauth/token")

    # api -------------------------------------------------------------
    def api(self, path):
        st = self.state
        op, ctx = st.spec.route(path)
        endpoint = op["path"] if op else "(unknown)"
        fkey = "GET " + self.path
        allowed = st.faults.enter()
        try:
            st.faults.delay(fkey)
            if not allowed:
                return self.error(429, "Too many concurrent requests",
                                  {"Retry-After": fmt_num(st.args.retry_after)},
                                  endpoint=endpoint, fault="429_inflight")
            fault = st.faults.decide(fkey)
            if fault and fault[0] == "5xx":
                return self.error(fault[1], "Injected server error", endpoint=endpoint,
                                  fault="5xx")
            if fault and fault[0] == "429":
                return self.error(429, "You have exceeded your rate limit. Try again later.",
                                  {"Retry-After": fmt_num(st.args.retry_after)},
                                  endpoint=endpoint, fault="429")
            truncate = fault[1] if fault and fault[0] == "truncate" else None
            if not st.args.no_auth:
                auth = self.headers.get("Authorization") or ""
                if not auth.lower().startswith("bearer "):
                    return self.error(401, "Authentication failed: missing bearer token",
                                      endpoint=endpoint)
                if not st.token_ok(auth[7:].strip()):
                    return self.error(401, "Authentication failed: invalid or expired token",
                                      endpoint=endpoint)
            if op is None:
                return self.error(404, "Not found: %s%s" % (BASE, path), endpoint=endpoint)
            status, body, recs = self.answer(op, ctx)
            st.stats.count(endpoint, status, "truncate" if truncate else None)
            self.send_body(status, body, truncate=truncate)
            if not truncate:
                st.count_records(endpoint, recs)
        except ApiError as e:
            self.error(e.status, e.message, e.headers, endpoint=endpoint)
        except Exception as e:
            import traceback
            traceback.print_exc()
            self.error(500, "Internal simulator error: %s" % e, endpoint=endpoint)
        finally:
            st.faults.leave()

    def answer(self, op, ctx):
        """200, the body, and its records (see records_of)."""
        st = self.state
        self.validate(op, ctx)
        ck = (op["path"], self.req_query_string, tuple(sorted(ctx.items())))
        with st.page_lock:
            got = st.page_cache.get(ck)
            if got is not None:
                st.page_cache.move_to_end(ck)
                return 200, got[0], got[1]
        obj = self.build(op, ctx)
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        recs = records_of(obj)
        with st.page_lock:
            if ck not in st.page_cache:
                st.page_cache[ck] = (body, recs)
                st.cache_bytes += len(body)
            while st.cache_bytes > st.args.cache_mb * 1048576 and st.page_cache:
                _, old = st.page_cache.popitem(last=False)
                st.cache_bytes -= len(old[0])
        return 200, body, recs

    def validate(self, op, ctx):
        st = self.state
        q = self.query
        for p in op["parameters"]:
            name, where, sch = p["name"], p["in"], p["schema"]
            if where == "path":
                val = ctx.get(name)
                if sch.get("enum") and val not in [str(e) for e in sch["enum"]]:
                    raise ApiError(400, "Invalid value for path parameter %s: %r (one of %s)" % (
                        name, val, ", ".join(map(str, sch["enum"][:20]))))
                continue
            if where != "query":
                continue
            if sch.get("type") == "object" or p.get("style") == "deepObject":
                present = any(k == name or k.startswith(name + "[") for k in q)
            else:
                present = name in q or (name + "[]") in q
            if not present:
                if p.get("required"):
                    raise ApiError(400, "Missing required query parameter: %s" % name)
                continue
            if sch.get("type") == "object":
                continue
            if sch.get("type") == "array":
                vals = multi(q, name)
                isch = sch.get("items") or {}
                if p.get("required") and not vals:
                    raise ApiError(400, "Query parameter %s must not be empty" % name)
                if sch.get("maxItems") and len(vals) > sch["maxItems"]:
                    raise ApiError(400, "Query parameter %s takes at most %d values" % (
                        name, sch["maxItems"]))
                for v in vals:
                    self.check_scalar(name, v, isch)
            else:
                v = first(q, name)
                if p.get("required") and v == "":
                    raise ApiError(400, "Query parameter %s must not be empty" % name)
                self.check_scalar(name, v, sch)
        # dates
        sd, ed = first(q, "start_date"), first(q, "end_date")
        if sd is not None and ed is not None:
            a, b = parse_date(sd), parse_date(ed)
            if a and b and b < a:
                raise ApiError(400, "end_date must not be before start_date")
            if a and b and (b - a).days > 3660:
                raise ApiError(400, "date range too long (at most 3660 days)")
            back, span = date_limits(op)
            today = dt.datetime.now(dt.timezone.utc).date()
            if a and back is not None and a < today - dt.timedelta(days=back):
                raise ApiError(400, "start_date %s cannot be more than %d days back from today "
                                    "(%s)" % (sd, back, today.isoformat()))
            if a and b and span is not None and (b - a).days > span:
                raise ApiError(400, "end_date %s cannot be more than %d days past start_date %s"
                               % (ed, span, sd))
        # the ids in the path must exist
        for var, val in ctx.items():
            if var in st.world.bindings:
                if st.world.find(var, val, ctx) is None:
                    raise ApiError(404, "%s %s not found" % (var, val))
        # so must the ids of id parameters (campaign_ids, product_group_ids,
        # audience_id of a shared-accounts list: one of that account's)
        qp = QUERY_PARENTS.get(op["path"])
        if qp:
            val = first(q, qp[0])
            if not any(e.id == val for e in st.world.entities[qp[1]].entries(ctx)):
                raise ApiError(404, "%s %s not found" % (qp[0], val))
        for p in op["parameters"]:
            name = p["name"]
            if p["in"] != "query" or name not in q or (qp and name == qp[0]):
                continue
            var = name[:-1] if name.endswith("_ids") else name if name.endswith("_id") else None
            if var not in st.world.bindings:
                continue
            for val in multi(q, name):
                if st.world.find(var, val, ctx) is None:
                    raise ApiError(404, "%s %s not found" % (var, val))

    def check_scalar(self, name, v, sch):
        t = sch.get("type")
        enum = sch.get("enum")
        if enum and v not in [str(e).lower() if isinstance(e, bool) else str(e) for e in enum]:
            raise ApiError(400, "Invalid value for %s: %r (expected one of %s%s)" % (
                name, v, ", ".join(map(str, enum[:12])), ", ..." if len(enum) > 12 else ""))
        if t == "integer":
            try:
                n = int(v)
            except (TypeError, ValueError):
                raise ApiError(400, "Query parameter %s must be an integer, got %r" % (name, v))
            mx = sch.get("maximum")
            if name == "page_size":
                mx = min(mx or self.state.args.page_max, self.state.args.page_max)
            if sch.get("minimum") is not None and n < sch["minimum"]:
                raise ApiError(400, "Query parameter %s must be >= %s" % (name, sch["minimum"]))
            if mx is not None and n > mx:
                raise ApiError(400, "Query parameter %s must be <= %s" % (name, mx))
        elif t == "number":
            try:
                float(v)
            except (TypeError, ValueError):
                raise ApiError(400, "Query parameter %s must be a number, got %r" % (name, v))
        elif t == "boolean":
            if str(v).lower() not in ("true", "false", "1", "0"):
                raise ApiError(400, "Query parameter %s must be true or false, got %r" % (name, v))
        elif t == "string" and sch.get("format") == "date" or name in ("start_date", "end_date"):
            if parse_date(v) is None:
                raise ApiError(400, "Query parameter %s must be a date YYYY-MM-DD, got %r" % (name, v))

    # bodies ----------------------------------------------------------
    def build(self, op, ctx):
        st = self.state
        pg = op["pagination"]
        req = Req(self.query, ctx, op)
        if pg["type"] in ("bookmark", "single_page"):
            return self.build_list(op, ctx, req)
        schema = op["response"]
        if schema is None:
            return []
        r = st.spec.resolve(schema)
        if pg["type"] == "array":
            return self.build_array(op, ctx, req, r)
        # an object: a detail of a known entry, or a per-context object
        entry = None
        vars_ = re.findall(r"{([^}]+)}", op["path"])
        if vars_ and op["path"].endswith("{%s}" % vars_[-1]) and vars_[-1] in st.world.bindings:
            entry = st.world.find(vars_[-1], ctx[vars_[-1]], ctx)
        if op["path"] == "/user_account":
            entry = st.world.entities["/user_account"].entries({})[0]
        if entry is not None:
            rng = st.gen.rng("item", entry.key)
        else:
            rng = st.gen.rng("obj", op["path"], sorted(ctx.items()), self.analytics_key(req))
        obj = st.gen.value(schema, rng, "", 0, req if req.start or req.metrics else None, top=True)
        if isinstance(obj, dict):
            for var, val in ctx.items():
                if var in (r.get("properties") or {}):
                    obj[var] = val
            if entry is not None:
                self.apply_fields(obj, entry, r.get("properties") or {})
        return obj

    @staticmethod
    def analytics_key(req):
        return (first(req.query, "start_date"), first(req.query, "end_date"),
                first(req.query, "granularity"), ",".join(req.metrics),
                ",".join(multi(req.query, "pin_ids")))

    def apply_fields(self, obj, entry, props):
        for f, v in entry.fields.items():
            if f in props:
                obj[f] = v
        self.revise(obj, entry)

    def revise(self, obj, entry):
        """From generation 2 on, every third item (by its key) is updated: its
        name (or title, description, else its first plain string field: not an
        id, a link or a time) gets " (rev N)" appended, and it gains a field the spec does not have, sim_revision
        (a new column)."""
        gen = self.state.world.generation
        if gen < 2 or not isinstance(obj, dict) or h64("revise", entry.key) % 3:
            return
        plain = [k for k, v in obj.items()
                 if isinstance(v, str) and k not in entry.fields and k != "id"
                 and not k.endswith("_id") and not k.endswith("_time")]
        named = [k for k in ("name", "title", "description") if k in plain]
        if named or plain:
            k = (named or plain)[0]
            obj[k] += " (rev %d)" % gen
        obj["sim_revision"] = gen

    def build_item(self, ent, entry, schema):
        st = self.state
        rng = st.gen.rng("item", entry.key)
        obj = st.gen.value(schema, rng, "", 0, None)
        if isinstance(obj, dict):
            self.apply_fields(obj, entry, st.spec.props(schema))
        return obj

    def build_list(self, op, ctx, req):
        st = self.state
        pg = op["pagination"]
        qp = QUERY_PARENTS.get(op["path"])
        if qp:
            ctx = dict(ctx, **{qp[0]: first(self.query, qp[0])})
        ent, entries = st.world.list_entries(op["path"], ctx)
        entries = self.filter(op, ent, entries)
        schema = st.spec.list_item_schema(op)
        # the envelope: items (+ bookmark) and whatever else the schema has
        env = st.spec.resolve(op["response"])
        extra = {k: v for k, v in (env.get("properties") or {}).items()
                 if k not in ("items", "bookmark")}
        out = {}
        if extra:
            rng = st.gen.rng("env", op["path"], sorted(ctx.items()))
            out = st.gen.value(dict(env, properties=extra), rng, "", 0, None)
            for var, val in ctx.items():
                if var in extra:
                    out[var] = val
        if pg["type"] == "single_page":
            out["items"] = [self.build_item(ent, e, schema) for e in entries]
            return out
        size_param = pg.get("size_param")
        ps = pg.get("size_default", 25) if size_param else 25
        if size_param and first(self.query, size_param):
            ps = int(first(self.query, size_param))
        ps = max(1, min(ps, st.args.page_max))
        ident = h64("bm", st.args.seed, op["path"], sorted(ctx.items()),
                    sorted((k, tuple(v)) for k, v in self.query.items()
                           if k not in ("bookmark", size_param)))
        offset = 0
        bm = first(self.query, "bookmark")
        if bm:
            offset = decode_bookmark(bm, ident)
            if offset is None:
                raise ApiError(400, "Invalid bookmark")
        page = entries[offset:offset + ps]
        nxt = offset + len(page)
        out["items"] = [self.build_item(ent, e, schema) for e in page]
        out["bookmark"] = encode_bookmark(nxt, ident) if nxt < len(entries) else None
        return out

    def filter(self, op, ent, entries):
        """Honor <x>_ids / <x>_id query filters on linked fields."""
        names = {p["name"] for p in op["parameters"] if p["in"] == "query"}
        for name in names:
            if name not in self.query:
                continue
            if name.endswith("_ids"):
                var = name[:-1]
            elif name.endswith("_id") and name not in ("ad_account_id",):
                var = name
            else:
                continue
            wanted = set(multi(self.query, name))
            if not wanted:
                continue
            if var == ent.var:
                entries = [e for e in entries if e.id in wanted]
            elif entries and var in entries[0].ctx:
                entries = [e for e in entries if e.ctx.get(var) in wanted]
        return entries

    def build_array(self, op, ctx, req, r):
        st = self.state
        item = r.get("items") or {}
        isch = st.spec.resolve(item)
        props = isch.get("properties") or {}
        id_props = [k for k in props if k.isupper() and k.endswith("_ID")]
        if id_props:
            # analytics rows: one per id (x per date bucket)
            idp = id_props[0]
            var = idp.lower()
            ids = multi(self.query, var + "s") or ([ctx[var]] if var in ctx else None)
            if not ids and var in st.world.bindings:
                # no ids asked for: every such id under the path's parents
                ent = st.world.binding_entity(var)
                if all(v in ctx for v in ent.parent_vars):
                    ids = [e.id for e in ent.entries(ctx)][:50]
            if not ids:
                ids = [str(10 ** 11 + h64("aid", st.args.seed, op["path"], sorted(ctx.items()))
                           % (9 * 10 ** 11))]
            buckets = req.buckets() if "DATE" in props else None
            rows = []
            for one in ids:
                for b in (buckets if buckets is not None else [None]):
                    rng = st.gen.rng("row", op["path"], sorted(ctx.items()), one,
                                     b.isoformat() if b else "", ",".join(req.metrics))
                    row = st.gen.value(item, rng, "", 1, req)
                    row[idp] = one
                    if "DATE" in props:
                        row["DATE"] = (b or req.start or dt.date(2024, 1, 1)).isoformat()
                    rows.append(row)
            return rows
        n = 1 + h64("arrn", st.args.seed, op["path"], sorted(ctx.items())) % 5
        rng = st.gen.rng("arr", op["path"], sorted(ctx.items()), self.analytics_key(req))
        if req.days() is not None and ("date" in props or "DATE" in props):
            return st.gen.arr(r, rng, "", 0, req)
        out = []
        for i in range(n):
            v = st.gen.value(item, rng, "", 1, req if req.metrics else None)
            if isinstance(v, dict):
                for var, val in ctx.items():
                    if var in props:
                        v[var] = val
            out.append(v)
        return out


def records_of(obj):
    """The records a body holds for each data selector a client may use:
    "$" (a top-level array's elements, or the object itself) and each
    top-level member (a list's elements, an object as one, null as none)."""
    if isinstance(obj, list):
        return {"$": len(obj)}
    out = {"$": 1}
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, list):
                out[k] = len(v)
            elif isinstance(v, dict):
                out[k] = 1
            elif v is None:
                out[k] = 0
    return out


def fmt_num(x):
    return str(int(x)) if float(x) == int(x) else str(x)


def encode_bookmark(offset, ident):
    raw = "%d:%x" % (offset, ident & 0xFFFFFFFF)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_bookmark(bm, ident):
    try:
        pad = "=" * (-len(bm) % 4)
        raw = base64.urlsafe_b64decode(bm + pad).decode()
        off, sig = raw.split(":")
        if int(sig, 16) != ident & 0xFFFFFFFF:
            return None
        off = int(off)
        return off if off >= 0 else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


# ---------------------------------------------------------------- main
def parse_args(argv=None):
    ap = simcommon.new_parser(__doc__.split("\n")[0])
    simcommon.add_common_args(ap)
    ap.add_argument("--seed", type=int, default=42, help="data seed")
    ap.add_argument("--size", type=int, default=100, help="world size N (see README)")
    ap.add_argument("--generation", type=int, default=1,
                    help="data generation: 2 and later add items and update some (see README)")
    ap.add_argument("--page-max", type=int, default=250, help="largest page_size accepted")
    ap.add_argument("--digest", default=DEFAULT_DIGEST,
                    help="digest JSON, or an OpenAPI YAML spec to digest at startup")
    ap.add_argument("--token-ttl", type=float, default=3600, help="access token lifetime, seconds")
    ap.add_argument("--static-token", default=None, help="a bearer token that is always valid")
    ap.add_argument("--client-id", default="sluice-client", help="OAuth client id")
    ap.add_argument("--client-secret", default="sluice-secret", help="OAuth client secret")
    ap.add_argument("--refresh-token", default="sluice-refresh-token",
                    help="the initial valid refresh token")
    ap.add_argument("--strict-refresh", action="store_true",
                    help="a refresh token works once (rotation is enforced)")
    ap.add_argument("--no-auth", action="store_true", help="accept requests without a token")
    ap.add_argument("--cache-mb", type=float, default=256,
                    help="memory for rendered response bodies (LRU), MiB")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    state = State(args)
    Handler.state = state
    return simcommon.run_server(Handler, args, state, "pinterest-sim")


if __name__ == "__main__":
    sys.exit(main())
