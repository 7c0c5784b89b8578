#!/usr/bin/env bash
# The show server over HTTP (curl): bound to 127.0.0.1 only, read-only, the
# JSON endpoints the page uses, escaping of hostile data, paging, refused
# writes, wrong Host and methods, cross-site requests, a taken port.
set -u
SLUICE=${SLUICE:?path of the sluice binary}
WORK=$(mktemp -d /tmp/sl_show_XXXXXX)
SHOW_PID=
trap '[ -n "$SHOW_PID" ] && kill "$SHOW_PID" 2> /dev/null; wait 2> /dev/null; rm -rf "$WORK"' EXIT
pass=0
fail=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
contains() { grep -q -- "$2" <<< "$1"; }
json_get() {
  python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$2" <<< "$1"
}

P=$WORK/proj
mkdir -p "$P/data"
cat > "$P/sluice.toml" <<'TOML'
[pipeline]
name = "showpipe"
source = "shop.source.yaml"
pipelines_dir = "wd"
progress = "none"
TOML
cat > "$P/shop.source.yaml" <<'YAML'
name: shop
resources:
  - name: pins
    primary_key: id
    write_disposition: merge
    file: {path: 'data/*.jsonl'}
YAML
python3 - "$P/data/pins.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 46):
        f.write(json.dumps({"id": i, "title": "</script><b>x</b>\"'&" if i == 1 else "pin %d" % i,
                            "tags": ["t"]}) + "\n")
PY
"$SLUICE" run "$P" > /dev/null || { echo "FAIL: run" >&2; exit 1; }

"$SLUICE" pipeline showpipe show --port 0 --pipelines-dir "$P/wd" > "$WORK/show.out" 2>&1 &
SHOW_PID=$!
for _ in $(seq 100); do grep -q "http://127.0.0.1:" "$WORK/show.out" && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*/' "$WORK/show.out")
PORT=$(grep -o '127.0.0.1:[0-9]*' "$WORK/show.out" | cut -d: -f2)
check "show started" test -n "$URL"

# bound to loopback only
check "listens on 127.0.0.1 only" test "$(ss -ltnH "sport = :$PORT" 2> /dev/null | awk '{print $4}' | sort -u)" = "127.0.0.1:$PORT"

page=$(curl -s -D "$WORK/h" "$URL")
check "page served" contains "$page" "<title>sluice show</title>"
check "page has no external assets" test "$(grep -Eco '(src|href)="(https?:)?//' <<< "$page")" -eq 0
check "page has a CSP" grep -qi "^content-security-policy: default-src 'none'" "$WORK/h"
ov=$(curl -s "${URL}api/overview")
check "overview dataset" test "$(json_get "$ov" 'd["dataset_name"]')" = showpipe_dataset
check "overview rows" test "$(json_get "$ov" '{t["name"]: t["rows"] for t in d["tables"]}["pins"]')" = 45
t=$(curl -s "${URL}api/table?name=pins&offset=40&limit=20")
check "table page total" test "$(json_get "$t" 'd["total"]')" = 45
check "table last page" test "$(json_get "$t" 'len(d["rows"])')" = 5
check "table columns" contains "$(json_get "$t" 'd["columns"]')" "'id', 'title'"
t=$(curl -s "${URL}api/table?name=pins&offset=0&limit=100")
check "hostile value round-trips" test "$(json_get "$t" '[r["title"] for r in d["rows"] if r["id"] == 1][0]')" = "</script><b>x</b>\"'&"
code=$(curl -s -o "$WORK/b" -w '%{http_code}' "${URL}api/table?name=no%22such")
check "unknown table 404" test "$code" = 404
check "unknown table named" contains "$(json_get "$(cat "$WORK/b")" 'd["error"]')" 'no table .no"such.'
q=$(curl -s "${URL}api/query?sql=select%20count(*)%20as%20n%20from%20pins")
check "query" test "$(json_get "$q" 'd["rows"][0]["n"]')" = 45
code=$(curl -s -o "$WORK/b" -w '%{http_code}' "${URL}api/query?sql=drop%20table%20pins")
check "write refused 400" test "$code" = 400
check "write refusal says why" contains "$(cat "$WORK/b")" "only SELECT"
code=$(curl -s -o /dev/null -w '%{http_code}' "${URL}api/query?sql=insert%20into%20pins%20(id)%20values%20(1000)")
check "insert refused" test "$code" = 400
q=$(curl -s "${URL}api/query?sql=select%20count(*)%20as%20n%20from%20pins")
check "nothing written" test "$(json_get "$q" 'd["rows"][0]["n"]')" = 45
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 "${URL}api/query")
check "POST refused" test "$code" = 405
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: attacker.example:$PORT" "${URL}api/overview")
check "foreign Host refused (DNS rebinding)" test "$code" = 403
# Cross-site requests a browser marks (a page elsewhere firing at the API) are
# refused; the page's own requests, and clients that are not browsers, pass.
QS="${URL}api/query?sql=select%201%20as%20one"
code=$(curl -s -o "$WORK/b" -w '%{http_code}' -H "Origin: http://evil.example" "$QS")
check "cross-site Origin refused 403" test "$code" = 403
check "cross-site refusal says why" contains "$(json_get "$(cat "$WORK/b")" 'd["error"]')" "cross-origin request refused (Origin: http://evil.example)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: http://127.0.0.1:1" "$QS")
check "Origin of another local port refused" test "$code" = 403
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: null" "$QS")
check "opaque Origin refused" test "$code" = 403
code=$(curl -s -o "$WORK/b" -w '%{http_code}' -H "Sec-Fetch-Site: cross-site" -H "Sec-Fetch-Mode: no-cors" -H "Sec-Fetch-Dest: image" "$QS")
check "Sec-Fetch-Site cross-site refused 403 (<img src>)" test "$code" = 403
check "Sec-Fetch-Site refusal says why" contains "$(json_get "$(cat "$WORK/b")" 'd["error"]')" "cross-site request refused (Sec-Fetch-Site: cross-site)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Sec-Fetch-Site: same-site" "${URL}api/overview")
check "Sec-Fetch-Site same-site refused" test "$code" = 403
code=$(curl -s -o "$WORK/b" -w '%{http_code}' -H "Sec-Fetch-Site: same-origin" -H "Origin: http://127.0.0.1:$PORT" "$QS")
check "same-origin accepted" test "$code" = 200
check "same-origin answered" test "$(json_get "$(cat "$WORK/b")" 'd["rows"][0]["one"]')" = 1
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: http://localhost:$PORT" "$QS")
check "Origin localhost accepted" test "$code" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Sec-Fetch-Site: none" "${URL}api/overview")
check "Sec-Fetch-Site none (typed URL) accepted" test "$code" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Sec-Fetch-Site: cross-site" -H "Sec-Fetch-Mode: navigate" "$URL")
check "the page opens from a link elsewhere" test "$code" = 200
code=$(python3 -c 'import sys, urllib.request as u
r = u.Request(sys.argv[1], headers={"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"})
try: print(u.urlopen(r).status)
except u.HTTPError as e: print(e.code)' "${URL}api/table?name=pins")
check "cross-site table read refused (urllib)" test "$code" = 403

code=$(curl -s -o /dev/null -w '%{http_code}' "${URL}nope")
check "unknown path 404" test "$code" = 404
tr=$(curl -s "${URL}api/traces")
check "traces" test "$(json_get "$tr" 'd[0]["status"]')" = ok

# A run while the page is up: the destination is not held between requests.
printf '{"id": 46, "title": "late"}\n' > "$P/data/more.jsonl"
"$SLUICE" run "$P" > /dev/null 2> "$WORK/err"; rc=$?
check "a run while show serves ($(cat "$WORK/err"))" test $rc -eq 0
ov=$(curl -s "${URL}api/overview")
check "overview sees the new rows" test "$(json_get "$ov" '{t["name"]: t["rows"] for t in d["tables"]}["pins"]')" = 46

# The port is taken: a clear error.
"$SLUICE" pipeline showpipe show --port "$PORT" --pipelines-dir "$P/wd" > /dev/null 2> "$WORK/err"; rc=$?
check "taken port exits non-zero" test $rc -ne 0
check "taken port message" grep -q "cannot serve on 127.0.0.1:$PORT" "$WORK/err"

kill -TERM "$SHOW_PID"
wait "$SHOW_PID"
rc=$?
SHOW_PID=
check "show stops cleanly on SIGTERM ($rc)" test $rc -eq 0

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
