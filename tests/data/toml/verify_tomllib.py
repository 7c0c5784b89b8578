#!/usr/bin/env python3
"""Cross-checks this corpus against Python's tomllib (an independent TOML 1.0
reader): every valid/X.toml must load to the same values as valid/X.json
(the typed rendering test_toml compares against), and tomllib must reject
every invalid/X.toml. Run by hand after adding cases: python3 verify_tomllib.py"""
import json
import math
import pathlib
import sys
import tomllib

HERE = pathlib.Path(__file__).resolve().parent
# Integers beyond int64: TOML lets a reader reject them, we do; tomllib has
# big integers. (Leap second :60, which tomllib cannot represent, is tested in
# test_toml.c rather than here.)
REJECTED_ONLY_BY_US = {"hex_overflow", "int_overflow", "int_underflow"}


def typed_to_python(node):
    if isinstance(node, list):
        return [typed_to_python(x) for x in node]
    if set(node) == {"type", "value"} and isinstance(node["type"], str) and isinstance(node["value"], str):
        t, v = node["type"], node["value"]
        if t == "string":
            return v
        if t == "integer":
            return int(v)
        if t == "float":
            return float(v)
        if t == "bool":
            return v == "true"
        # date/time text as we normalized it: let tomllib read it too
        return tomllib.loads("x = " + v)["x"]
    return {k: typed_to_python(v) for k, v in node.items()}


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def main():
    bad = 0
    for toml_path in sorted((HERE / "valid").glob("*.toml")):
        want = tomllib.loads(toml_path.read_bytes().decode("utf-8-sig"))  # we skip a BOM; tomllib does not
        got = typed_to_python(json.loads((toml_path.with_suffix(".json")).read_text("utf-8")))
        if not same(want, got):
            print(f"MISMATCH {toml_path.name}\n  tomllib: {want!r}\n  ours:    {got!r}")
            bad += 1
    for toml_path in sorted((HERE / "invalid").glob("*.toml")):
        if toml_path.stem in REJECTED_ONLY_BY_US:
            continue
        try:
            tomllib.loads(toml_path.read_bytes().decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        print(f"ACCEPTED by tomllib: invalid/{toml_path.name}")
        bad += 1
    print("ok" if not bad else f"{bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
