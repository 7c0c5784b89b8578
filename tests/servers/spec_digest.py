#!/usr/bin/env python3
"""spec_digest.py: read an OpenAPI 3.0 spec (YAML or JSON) and write the compact
JSON digest of its GET operations that the Pinterest simulator runs from.

    python3 tests/servers/spec_digest.py ../shared/specs/pinterest-5.23.yaml \
        -o tests/servers/pinterest_digest.json

The digest keeps only what the simulator needs (and what its generated
/openapi.json publishes):
  * per GET operation: path, operationId, summary, tags, x-ratelimit-category,
    security scopes, parameters (name, in, required, a short description and a
    schema with type/format/enum/default/minimum/maximum/items...), the 200
    response schema and the pagination shape;
  * "schemas": the component schemas those responses use.  Every schema is
    normalised: allOf/oneOf/anyOf are merged into one object schema
    (properties united, enums united), an "items" child without "type: array"
    becomes an array, descriptions/examples are dropped.  References between
    component schemas are kept as {"$ref": "#/components/schemas/Name"} so
    the digest stays small; load_digest() in pinterest_sim.py resolves them.

Only the Python standard library is used (YAML via yaml_lite.py).
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yaml_lite  # noqa: E402

SCHEMA_KEEP = (
    "type", "format", "enum", "nullable", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
    "minLength", "maxLength", "pattern", "default", "uniqueItems",
)
REF_PREFIX = "#/components/schemas/"


def load_spec(path):
    with open(path, "r", encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json") or text.lstrip().startswith("{"):
        return json.loads(text)
    return yaml_lite.load(text)


class Digester:
    def __init__(self, spec):
        self.spec = spec
        self.components = (spec.get("components") or {}).get("schemas") or {}
        self.norm_cache = {}     # component name -> normalised schema
        self.in_progress = set()

    # -------------------------------------------------------------- refs
    def deref(self, node, seen=None):
        """Follow $ref chains to a component (or other JSON pointer)."""
        seen = seen or set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                return {}
            seen.add(ref)
            node = self.pointer(ref)
        return node

    def pointer(self, ref):
        if not ref.startswith("#/"):
            raise ValueError("external $ref not supported: %s" % ref)
        cur = self.spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            cur = cur[part]
        return cur

    # --------------------------------------------------------- normalise
    def component(self, name):
        """Normalised schema of a component (cached; cycles stay refs)."""
        if name in self.norm_cache:
            return self.norm_cache[name]
        if name in self.in_progress:
            return None
        self.in_progress.add(name)
        norm = self.normalise(self.components[name])
        self.in_progress.discard(name)
        self.norm_cache[name] = norm
        return norm

    def normalise(self, s, keep_refs=True):
        """Return a normalised copy of schema s.  A $ref to a component
        schema stays a $ref (keep_refs) after the component is normalised."""
        if not isinstance(s, dict):
            return {}
        if "$ref" in s:
            ref = s["$ref"]
            if ref.startswith(REF_PREFIX):
                name = ref[len(REF_PREFIX):]
                comp = self.component(name)
                if keep_refs or comp is None:
                    out = {"$ref": REF_PREFIX + name}
                    if s.get("nullable"):
                        out["nullable"] = True
                    return out
                return comp
            return self.normalise(self.deref(s), keep_refs)
        out = {}
        for k in SCHEMA_KEEP:
            if k in s:
                out[k] = s[k]
        if "properties" in s and isinstance(s["properties"], dict):
            out["properties"] = {k: self.normalise(v) for k, v in s["properties"].items()}
        if "required" in s and isinstance(s["required"], list):
            out["required"] = list(s["required"])
        if "items" in s:
            out["items"] = self.normalise(s["items"])
            if "type" not in out:
                out["type"] = "array"     # Pinterest: items without type
        if "additionalProperties" in s:
            ap = s["additionalProperties"]
            out["additionalProperties"] = ap if isinstance(ap, bool) else self.normalise(ap)
        for comb in ("allOf", "oneOf", "anyOf"):
            if comb in s and isinstance(s[comb], list):
                parts = [self.flat(x) for x in s[comb]]
                parts = [p for p in parts if p]
                if not parts:
                    continue
                if comb == "allOf":
                    for p in parts:
                        out = merge(out, p, union_required=True)
                else:
                    objs = [p for p in parts if p.get("type") == "object" or "properties" in p]
                    if objs:
                        acc = {}
                        for p in objs:
                            acc = merge(acc, p, union_required=False)
                        # required: only what every alternative requires
                        req = None
                        for p in objs:
                            r = set(p.get("required") or [])
                            req = r if req is None else req & r
                        acc.pop("required", None)
                        if req:
                            acc["required"] = sorted(req)
                        out = merge(out, acc, union_required=True)
                    else:
                        out = merge(out, parts[0], union_required=True)
                    if len(objs) != len(parts) and len(objs) == 0:
                        # scalars of several types: keep the first
                        pass
        if "type" not in out:
            if "properties" in out or "additionalProperties" in out:
                out["type"] = "object"
            elif "enum" in out and out["enum"]:
                v = out["enum"][0]
                out["type"] = ("boolean" if isinstance(v, bool) else "integer"
                               if isinstance(v, int) else "number"
                               if isinstance(v, float) else "string")
        return out

    def flat(self, s):
        """Normalised schema with a top-level $ref inlined (for merging)."""
        n = self.normalise(s, keep_refs=False)
        if "$ref" in n:   # a cycle: cannot inline
            return {"type": "object"}
        return n

    def full(self, s, depth=0):
        """Fully inline a (small) schema: used for parameters."""
        n = self.normalise(s, keep_refs=False)
        if depth > 5:
            return n
        if "items" in n and "$ref" in n["items"]:
            n["items"] = self.full(n["items"], depth + 1)
        if "properties" in n:
            n["properties"] = {k: (self.full(v, depth + 1) if "$ref" in v else v)
                               for k, v in n["properties"].items()}
        return n

    # --------------------------------------------------------- operations
    def parameter(self, p):
        p = self.deref(p)
        out = {"name": p["name"], "in": p["in"]}
        if p.get("required"):
            out["required"] = True
        desc = first_sentence(p.get("description"))
        limits = limit_sentences(p.get("description"))
        if desc and limits and limits not in desc:
            desc = desc + " " + limits
        if desc:
            out["description"] = desc
        out["schema"] = self.full(p.get("schema") or {})
        if "style" in p:
            out["style"] = p["style"]
        if "explode" in p:
            out["explode"] = p["explode"]
        return out

    def operations(self):
        ops = []
        for path, item in (self.spec.get("paths") or {}).items():
            if not isinstance(item, dict) or "get" not in item:
                continue
            op = item["get"]
            params = [self.parameter(p) for p in (item.get("parameters") or [])]
            names = {(p["name"], p["in"]) for p in params}
            for p in op.get("parameters") or []:
                q = self.parameter(p)
                if (q["name"], q["in"]) in names:
                    params = [x for x in params if (x["name"], x["in"]) != (q["name"], q["in"])]
                params.append(q)
            resp = (op.get("responses") or {})
            ok = resp.get("200") or resp.get(200) or {}
            ok = self.deref(ok)
            content = ok.get("content") or {}
            media = content.get("application/json") or (next(iter(content.values())) if content else {})
            schema = self.normalise(media.get("schema")) if media and media.get("schema") else None
            security = []
            for req in op.get("security") or self.spec.get("security") or []:
                for scheme, scopes in req.items():
                    security.append({"scheme": scheme, "scopes": scopes or []})
            entry = {
                "path": path,
                "operationId": op.get("operationId"),
                "summary": first_sentence(op.get("summary")) or "",
                "tags": op.get("tags") or [],
                "ratelimit": op.get("x-ratelimit-category"),
                "parameters": params,
                "response": schema,
                "statuses": sorted(str(k) for k in resp.keys()),
                "security": security,
            }
            entry["pagination"] = self.pagination(entry)
            ops.append(entry)
        return ops

    def resolve_top(self, s):
        while isinstance(s, dict) and "$ref" in s:
            s = self.component(s["$ref"][len(REF_PREFIX):]) or {}
        return s or {}

    def pagination(self, entry):
        """Describe how the list is paged: bookmark cursor, single page..."""
        s = self.resolve_top(entry["response"])
        pnames = {p["name"]: p for p in entry["parameters"] if p["in"] == "query"}
        props = s.get("properties") or {}
        if s.get("type") == "array":
            return {"type": "array"}
        if "items" in props and self.resolve_top(props["items"]).get("type") == "array":
            out = {"type": "single_page", "items_field": "items"}
            if "bookmark" in pnames and "bookmark" in props:
                out["type"] = "bookmark"
                out["cursor_param"] = "bookmark"
                out["cursor_field"] = "bookmark"
            for size_name in ("page_size", "limit"):
                if size_name in pnames:
                    ps = pnames[size_name]["schema"]
                    out["size_param"] = size_name
                    out["size_default"] = ps.get("default", 25)
                    out["size_max"] = ps.get("maximum", 250)
                    out["size_min"] = ps.get("minimum", 1)
                    break
            return out
        return {"type": "object"}

    def reachable(self, ops):
        names = set()
        todo = []

        def walk(node):
            if isinstance(node, dict):
                r = node.get("$ref")
                if isinstance(r, str) and r.startswith(REF_PREFIX):
                    n = r[len(REF_PREFIX):]
                    if n not in names:
                        names.add(n)
                        todo.append(n)
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        for op in ops:
            walk(op["response"])
        while todo:
            walk(self.component(todo.pop()))
        return sorted(names)

    def digest(self, source_name):
        ops = self.operations()
        names = self.reachable(ops)
        err = None
        for cand in ("Pinterest.Lib.Error", "Error"):
            if cand in self.components:
                err = self.full({"$ref": REF_PREFIX + cand})
                break
        schemes = {}
        for name, sch in ((self.spec.get("components") or {}).get("securitySchemes") or {}).items():
            sch = self.deref(sch)
            keep = {k: v for k, v in sch.items() if k in ("type", "scheme", "in", "name", "bearerFormat")}
            if "flows" in sch:
                keep["flows"] = {}
                for fname, flow in sch["flows"].items():
                    f2 = {k: v for k, v in flow.items() if k in ("authorizationUrl", "tokenUrl", "refreshUrl")}
                    f2["scopes"] = {k: first_sentence(v) or "" for k, v in (flow.get("scopes") or {}).items()}
                    keep["flows"][fname] = f2
            schemes[name] = keep
        info = self.spec.get("info") or {}
        return {
            "digest_of": {
                "file": source_name,
                "title": info.get("title"),
                "version": info.get("version"),
                "openapi": self.spec.get("openapi"),
                "license": (info.get("license") or {}).get("name"),
                "note": "derived by tests/servers/spec_digest.py: GET operations only, "
                        "schemas normalised; regenerate, do not edit by hand",
            },
            "servers": [s.get("url") for s in self.spec.get("servers") or []],
            "security_schemes": schemes,
            "error_schema": err,
            "operations": ops,
            "schemas": {n: self.component(n) for n in names},
        }


def first_sentence(text, limit=200):
    if not text or not isinstance(text, str):
        return None
    t = re.sub(r"<[^>]+>", " ", text)
    t = re.sub(r"\s+", " ", t).strip()
    m = re.match(r"^(.+?[.!?])(\s|$)", t)
    if m and len(m.group(1)) <= limit:
        t = m.group(1)
    if len(t) > limit:
        t = t[:limit - 1].rstrip() + "\u2026"
    return t


def limit_sentences(text):
    """The sentences of a description that state a limit in days or years
    ("Cannot be more than 90 days back from today."): the simulator enforces
    them, and sluice init reads them."""
    if not text or not isinstance(text, str):
        return ""
    t = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()
    keep = [x for x in re.split(r"(?<=[.!?])\s+", t)
            if re.search(r"\b\d+(\.\d+)?\s+(days?|weeks?|months?|years?)\b", x)]
    return " ".join(keep)


def is_generic(s):
    """A schema that says no more than its type (e.g. {"type": "object"})."""
    return not any(k in s for k in ("properties", "items", "enum", "additionalProperties", "$ref"))


def merge_sub(a, b):
    """Merge two sub-schemas that may be $refs: a $ref wins over a generic
    schema; two concrete schemas are merged; of two $refs the first stays."""
    if "$ref" in a or "$ref" in b:
        if "$ref" in a and "$ref" in b:
            return a
        if "$ref" in b:
            return b if is_generic(a) else a
        return a
    return merge(a, b)


def merge(a, b, union_required=True):
    """Merge schema b into a (both normalised, no top-level $ref)."""
    if not a:
        return dict(b)
    out = dict(a)
    for k, v in b.items():
        if k == "properties":
            props = dict(out.get("properties") or {})
            for pk, pv in v.items():
                props[pk] = merge_sub(props[pk], pv) if pk in props else pv
            out["properties"] = props
        elif k == "required":
            if union_required:
                req = list(out.get("required") or [])
                for r in v:
                    if r not in req:
                        req.append(r)
                out["required"] = req
        elif k == "enum":
            if "enum" in out:
                e = list(out["enum"])
                for x in v:
                    if x not in e:
                        e.append(x)
                out["enum"] = e
            elif "type" not in out or out.get("type") == b.get("type"):
                out["enum"] = list(v)
        elif k == "nullable":
            out["nullable"] = bool(out.get("nullable")) or bool(v)
        elif k == "items":
            out["items"] = merge_sub(out["items"], v) if "items" in out else v
        elif k not in out:
            out[k] = v
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("spec", help="OpenAPI spec (YAML or JSON)")
    ap.add_argument("-o", "--output", default="-", help="digest JSON (default stdout)")
    args = ap.parse_args(argv)
    spec = load_spec(args.spec)
    dg = Digester(spec).digest(os.path.basename(args.spec))
    text = json.dumps(dg, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    # one operation / schema per line keeps diffs of the committed file readable
    text = pretty_lines(dg)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
        print("%s: %d GET operations, %d schemas, %d bytes" % (
            args.output, len(dg["operations"]), len(dg["schemas"]), len(text.encode("utf-8"))),
            file=sys.stderr)
    return 0


def pretty_lines(dg):
    """JSON with one operation and one schema per line."""
    def c(x):
        return json.dumps(x, ensure_ascii=False, separators=(",", ":"))
    out = ["{"]
    keys = list(dg.keys())
    for i, k in enumerate(keys):
        sep = "," if i < len(keys) - 1 else ""
        v = dg[k]
        if k == "operations":
            out.append(' "operations": [')
            out.append(",\n".join("  " + c(op) for op in v))
            out.append(" ]" + sep)
        elif k == "schemas":
            out.append(' "schemas": {')
            out.append(",\n".join("  %s: %s" % (c(n), c(s)) for n, s in v.items()))
            out.append(" }" + sep)
        else:
            out.append(" %s: %s%s" % (c(k), c(v), sep))
    out.append("}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
