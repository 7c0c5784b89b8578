#!/usr/bin/env bash
# Hostile input through the sluice CLI: field and table names that fight SQL
# and paths, numbers past int64 and double, invalid UTF-8, duplicate keys, an
# HTML page sent as 200, bodies that never end, a 10 MB OpenAPI spec and
# broken $refs, and a full disk. Each case must end in a clear error or a
# correct load: no crash, no hang, no file outside the pipeline's folders.
set -u
SLUICE=${SLUICE:?path of the sluice binary}
WORK=$(mktemp -d /tmp/sl_hostile_XXXXXX)
SRV_PID=
MNT=
cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
  [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
pass=0
fail=0
check() { # description, then a command that must succeed
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
contains() { grep -q -- "$2" <<< "$1"; }
lacks() { ! grep -q -- "$2" <<< "$1"; }
eq() { [ "$1" = "$2" ] || { echo "  expected '$2', got '$1'" >&2; return 1; }; }
lt() { [ "$1" -lt "$2" ] || { echo "  $1 is not below $2" >&2; return 1; }; }
# Peak memory (KB) and seconds of a command, when GNU time is there.
TIME=$(command -v /usr/bin/time || true)
measure() { # outfile, command... ; sets rc, secs, kb
  local t0=$(date +%s%N) o=$1
  shift
  if [ -n "$TIME" ]; then
    "$TIME" -f "%M" -o "$WORK/mem" "$@" > "$o.out" 2> "$o"; rc=$?
    kb=$(tail -n 1 "$WORK/mem")
  else
    "$@" > "$o.out" 2> "$o"; rc=$?
    kb=0
  fi
  secs=$(( ($(date +%s%N) - t0) / 1000000000 ))
}

P=$WORK/proj
new_project() { # name, source yaml on stdin
  rm -rf "$P"
  mkdir -p "$P/data" "$P/.sluice"
  printf '[pipeline]\nname = "%s"\nsource = "h.source.yaml"\npipelines_dir = "wd"\n' "$1" > "$P/sluice.toml"
  cat > "$P/h.source.yaml"
}
run() { (cd "$P" && "$SLUICE" run . "$@" > "$WORK/out" 2> "$WORK/err"); }
q() { # pipeline, sql -> CSV without the header
  (cd "$P" && "$SLUICE" pipeline "$1" query --pipelines-dir wd --format csv "$2" 2>&1) | tail -n +2
}
# Every path under $WORK except the pipeline's own folders (the working
# folder and the DuckDB file), to show nothing was written elsewhere.
outside() { (cd "$WORK" && find . | grep -v -e '^./proj/wd' -e '^./proj/[a-z_]*\.duckdb' -e '^./err$' -e '^./out$' | sort); }

# ---- 1. names -----------------------------------------------------------------------
new_project names <<'YAML'
name: h
resources:
  - name: names
    file: {path: 'data/names.jsonl'}
  - name: tabled
    table_name: '../../etc/t; DROP TABLE names; --'
    file: {path: 'data/kids.jsonl'}
YAML
python3 - "$P/data" <<'PY'
import json, sys
d = sys.argv[1]
long = "L" * 10000
rec = {"id": 1, 'quo"te': "v_quote", "back`tick": "v_back", "semi;colon; DROP TABLE names;--": "v_semi",
       "select": "v_select", "table": "v_table", "order": "v_order", "../up": "v_dotdot", "a/b": "v_slash",
       "/etc/passwd": "v_abs", "ünï©ødé 名前": "v_uni", "": "v_empty", long: "v_long", "it's": "v_apos",
       "Foo Bar": "c1", "foo_bar": "c2", "FOO-BAR": "c3", "值": "v_cjk", "x\u0000y": "v_nul"}
open(d + "/names.jsonl", "w").write(json.dumps(rec, ensure_ascii=False) + "\n")
open(d + "/kids.jsonl", "w").write(json.dumps({"id": 2, "../kids": [{"a": 1}], 'sel"ect`; x': [1, 2]}) + "\n")
PY
before=$(outside)
run; rc=$?
check "hostile names load ($(cat "$WORK/err"))" eq $rc 0
check "nothing written outside the pipeline folders" diff <(echo "$before") <(outside)
check "no file named from a key anywhere under /tmp" test -z "$(find /tmp -maxdepth 2 -newer "$P/sluice.toml" \( -name 'passwd' -o -name 'up' -o -name '*DROP*' \) 2>/dev/null)"
cols=$(q names "SELECT column_name FROM information_schema.columns WHERE table_name = 'names' ORDER BY ordinal_position" | tr '\n' ' ')
want="id quo_te back_tick semi_colon_drop_table_namesxxx select table order _up a_b _etc_passwd _n_dx _empty $(printf 'l%.0s' $(seq 10000)) it_s foo_bar x x_y _dlt_load_id _dlt_id "
check "columns are normalized identifiers: ${cols:0:150}" eq "$cols" "$want"
check "the 10,000-character name is one column of that length" eq "$(q names "SELECT max(length(column_name)) FROM information_schema.columns WHERE table_name = 'names'")" 10000
check "colliding names are one column" eq "$(q names "SELECT count(*) FROM information_schema.columns WHERE table_name = 'names' AND column_name = 'foo_bar'")" 1
row=$(q names 'SELECT quo_te, back_tick, semi_colon_drop_table_namesxxx, "select", "table", "order", _up, a_b, _etc_passwd, _n_dx, _empty, it_s, foo_bar, x_y FROM names')
check "values intact under SQL keywords and odd names: $row" eq "$row" "v_quote,v_back,v_semi,v_select,v_table,v_order,v_dotdot,v_slash,v_abs,v_uni,v_empty,v_apos,c3,v_nul"
check "the CJK-only key kept its value" contains "$(q names "SELECT * FROM names")" "v_cjk"
check "the long name's value" eq "$(q names "SELECT \"$(printf 'l%.0s' $(seq 10000))\" FROM names")" v_long
tabs=$(q names "SELECT table_name FROM information_schema.tables WHERE table_schema = 'names_dataset' AND table_name NOT LIKE '_dlt%' ORDER BY 1" | tr '\n' ' ')
check "table_name with ../ and SQL is a plain table, children too: $tabs" eq "$tabs" "_etc_t_drop_table_namesxxx _etc_t_drop_table_namesxxx___kids _etc_t_drop_table_namesxxx__sel_ect_x names "
check "the names table is still there" eq "$(q names "SELECT count(*) FROM names")" 1
for bad in '../x' '/abs/x' 'a/../../b' ''; do
  new_project badname <<YAML
name: h
resources:
  - name: '$bad'
    file: {path: 'data/a.jsonl'}
YAML
  echo '{"id": 1}' > "$P/data/a.jsonl"
  run; rc=$?
  check "resource name '$bad' refused" test $rc -ne 0
  check "resource name '$bad': error with file:line:col: $(cat "$WORK/err")" grep -q "h.source.yaml:3:11: resource name '.*' is not usable" "$WORK/err"
  check "resource name '$bad': nothing created" test ! -e "$P/badname.duckdb" -a ! -e "$WORK/x" -a ! -e /abs
done

# ---- 2. numbers, UTF-8, duplicate keys ----------------------------------------------
new_project nums <<'YAML'
name: h
resources:
  - name: nums
    file: {path: 'data/n.jsonl'}
YAML
cat > "$P/data/n.jsonl" <<'J'
{"id": 1, "i64max": 9223372036854775807, "i64over": 9223372036854775808, "neg20": -99999999999999999999, "int30": 123456789012345678901234567890, "int50": -12345678901234567890123456789012345678901234567890, "huge": 1e400, "tiny": 1e-400}
{"id": 2, "i64max": 1, "i64over": 1, "neg20": -1, "int30": 1, "int50": 1, "huge": 1.5, "tiny": 2.5}
J
run; rc=$?
check "big numbers load ($(cat "$WORK/err"))" eq $rc 0
types=$(q nums "SELECT column_name || ':' || data_type FROM information_schema.columns WHERE table_name = 'nums' AND column_name NOT LIKE '_dlt%' ORDER BY ordinal_position" | tr '\n' ' ')
# normalize.c: an integer beyond int64 is a decimal while decimal(38,9) keeps
# every digit (29 integer digits), else text.
check "types by the normalizer's rule: $types" eq "$types" 'id:BIGINT i64max:BIGINT "i64over:DECIMAL(38,9)" "neg20:DECIMAL(38,9)" int30:VARCHAR int50:VARCHAR huge:VARCHAR tiny:DOUBLE '
check "int64 max exact" eq "$(q nums "SELECT i64max FROM nums WHERE id = 1")" 9223372036854775807
check "int64 max + 1 exact as decimal" eq "$(q nums "SELECT i64over::HUGEINT FROM nums WHERE id = 1")" 9223372036854775808
check "20-digit negative exact" eq "$(q nums "SELECT neg20::HUGEINT FROM nums WHERE id = 1")" -99999999999999999999
check "30 digits exact as text" eq "$(q nums "SELECT int30 FROM nums WHERE id = 1")" 123456789012345678901234567890
check "50 digits exact as text" eq "$(q nums "SELECT int50 FROM nums WHERE id = 1")" -12345678901234567890123456789012345678901234567890
check "1e-400 is the nearest double" eq "$(q nums "SELECT tiny FROM nums WHERE id = 1")" 0.0
# 1e400 is beyond every double: like an integer too long for decimal it is
# kept as the number's exact text (never inf).
check "1e400 exact as text" eq "$(q nums "SELECT huge FROM nums WHERE id = 1")" 1e400
check "1.5 beside it as text" eq "$(q nums "SELECT huge FROM nums WHERE id = 2")" 1.5
check "the 1e400 row loaded" eq "$(q nums "SELECT count(*) FROM nums")" 2

printf '{"id": 3, "i64max": 3}\n{"id": 4, "s": "bad \xff\xfe here"}\n' > "$P/data/n.jsonl"
run; rc=$?
check "invalid UTF-8 exits 3" eq $rc 3
check "invalid UTF-8: file:line:col and why: $(cat "$WORK/err")" grep -q 'data/n.jsonl:2:21: invalid UTF-8: byte 0xFF never appears in UTF-8' "$WORK/err"
check "invalid UTF-8: nothing of the file loaded" eq "$(q nums "SELECT count(*) FROM nums")" 2
printf '{"id": 5, "k": "first", "k": "second", "K": "third", "l": [1, 2], "l": [9]}\n' > "$P/data/n.jsonl"
run; rc=$?
check "duplicate keys load ($(cat "$WORK/err"))" eq $rc 0
# normalize.c: colliding keys (duplicates or after normalization) keep the
# last value; of two lists only the last one's rows.
check "duplicate key: the last value wins" eq "$(q nums "SELECT k FROM nums WHERE id = 5")" third
check "duplicate list: only the last list's rows" eq "$(q nums "SELECT string_agg(value::VARCHAR, ',') FROM nums__l l JOIN nums n ON l._dlt_parent_id = n._dlt_id WHERE n.id = 5")" 9

# ---- 3. hostile REST servers -------------------------------------------------------
cat > "$WORK/srv.py" <<'PY'
# /ok: two records; /html: an HTML error page with 200; /endless: a JSON
# string that never ends, fast; /trickle: the same at 5 bytes a second.
import sys, time, http.server, socketserver
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, ctype, body):
        self.send_response(200); self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        p = self.path.split("?")[0]
        if p == "/ok": return self.send("application/json", b'[{"id": 1}, {"id": 2}]')
        if p == "/html":
            return self.send("text/html; charset=utf-8",
                             b"<!DOCTYPE html><html><head><title>502</title></head><body>Bad gateway</body></html>")
        if p not in ("/endless", "/trickle"):
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
        chunk = lambda b: self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
        try:
            chunk(b'[{"id": 1, "s": "')
            blk = b"A" * 65536
            while True:
                if p == "/endless": chunk(blk)
                else: chunk(b"A"); self.wfile.flush(); time.sleep(0.2)
        except OSError:
            pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$WORK/srv.py" "$WORK/port" > "$WORK/server.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
BASE=http://127.0.0.1:$(cat "$WORK/port")
rest_project() { # pipeline name, endpoint of the second resource, extra client lines
  new_project "$1" <<YAML
name: r
client:
  base_url: $BASE/
  auth: {type: bearer, token: '\${sources.r.token}'}
$3
resources:
  - name: good
    endpoint: ok
  - name: bad
    endpoint: {path: '$2', params: {api_key: '\${sources.r.api_key}', plain_key: 'inl1ne-k3y-777'}}
YAML
  printf '[sources.r]\ntoken = "t0ken-s3cret-42"\napi_key = "ap1-s3cret-43"\n' > "$P/.sluice/secrets.toml"
}
no_secret() { ! grep -rq -e t0ken-s3cret-42 -e ap1-s3cret-43 -e inl1ne-k3y-777 "$WORK/err" "$WORK/out" "$P/wd"; }

rest_project html html ""
run; rc=$?
err=$(cat "$WORK/err")
check "HTML page with 200 fails the run" test $rc -ne 0
check "HTML page: the error names the URL: $err" contains "$err" "$BASE/html?api_key=\*\*\*"
check "HTML page: the error says what came: $err" contains "$err" "expected a JSON value, found '<'.*Content-Type: text/html"
check "HTML page: no secret in output, logs, trace" no_secret
check "HTML page: nothing of the package loaded" test ! -e "$P/html.duckdb"

rest_project trickle trickle "  request_timeout: 2
  max_attempts: 1"
measure "$WORK/err" bash -c "cd '$P' && timeout 60 '$SLUICE' run ."
err=$(cat "$WORK/err")
check "a trickling body ends at request_timeout ($secs s): $err" test $rc -ne 0 -a $rc -ne 124 -a "$secs" -lt 15
check "trickle: the error names the URL and the timeout" contains "$err" "GET $BASE/trickle?api_key=\*\*\*.*timed out"
check "trickle: no secret" no_secret
check "trickle: nothing loaded" test ! -e "$P/trickle.duckdb"

rest_project endless endless ""
measure "$WORK/err" bash -c "cd '$P' && timeout 60 '$SLUICE' run ."
err=$(cat "$WORK/err")
# The JSON parser's max_string (256 MiB) ends a string that never ends; the
# run holds it in at most a few buffers of that size.
check "an endless string ends with an error ($secs s, $kb KB): $err" test $rc -ne 0 -a $rc -ne 124 -a "$secs" -lt 40
check "endless: the error names the URL, the limit and the position" contains "$err" "$BASE/endless?api_key=\*\*\*&plain_key=\*\*\*:1:17: .*string longer than the limit of 268435456 bytes (max_string)"
check "endless: memory bounded ($kb KB)" lt "$kb" 2500000
check "endless: no secret" no_secret
check "endless: nothing loaded" test ! -e "$P/endless.duckdb"
# With client.max_response_mb the same body stops at that size, small and fast.
rest_project endless_capped endless "  max_response_mb: 8"
measure "$WORK/err" bash -c "cd '$P' && timeout 60 '$SLUICE' run ."
err=$(cat "$WORK/err")
check "max_response_mb ends an endless body ($secs s, $kb KB): $err" test $rc -ne 0 -a $rc -ne 124 -a "$secs" -lt 20
check "max_response_mb: the error names the URL and the cap" contains "$err" "$BASE/endless?api_key=\*\*\*.*longer than 8388608 bytes"
check "max_response_mb: memory well under the 256 MiB string limit ($kb KB)" lt "$kb" 300000
check "max_response_mb: no secret" no_secret
kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
SRV_PID=

# ---- 4. OpenAPI: 10 MB, a $ref cycle, a $ref to nowhere -----------------------------
python3 - "$WORK/big.json" <<'PY'
import json, sys
paths, schemas = {}, {}
spec = {"openapi": "3.0.3", "info": {"title": "big", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9/"}], "paths": paths, "components": {"schemas": schemas}}
i = 0
while True:
    schemas["Item%d" % i] = {"type": "object", "description": "d" * 2000, "properties": {
        "id": {"type": "integer"}, "name": {"type": "string", "description": "n" * 1000},
        "tags": {"type": "array", "items": {"type": "string"}}}}
    ok = {"200": {"description": "ok", "content": {"application/json": {"schema": {
        "type": "array", "items": {"$ref": "#/components/schemas/Item%d" % i}}}}}}
    paths["/things%d" % i] = {"get": {"operationId": "list%d" % i, "description": "p" * 500, "responses": ok}}
    i += 1
    if i % 200 == 0 and len(json.dumps(spec)) > 10_000_000:
        break
json.dump(spec, open(sys.argv[1], "w"))
PY
check "the spec is over 10 MB" test "$(stat -c %s "$WORK/big.json")" -gt 10000000
measure "$WORK/err" bash -c "cd '$WORK' && timeout 60 '$SLUICE' init big --spec big.json --out big_pipeline"
check "a 10 MB spec: init completes ($secs s, $kb KB): $(tail -n 2 "$WORK/err")" eq $rc 0
check "a 10 MB spec: in bounded time ($secs s)" lt "$secs" 30
check "a 10 MB spec: in bounded memory ($kb KB)" lt "$kb" 1000000
check "a 10 MB spec: every list is a resource" eq "$(grep -c "path: /things" "$WORK/big_pipeline/big.source.yaml")" "$(grep -o '"/things[0-9]*"' "$WORK/big.json" | wc -l)"

cat > "$WORK/cycle.yaml" <<'YAML'
openapi: 3.0.3
info: {title: c, version: '1'}
paths:
  /a:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/A'}
components:
  schemas:
    A: {$ref: '#/components/schemas/B'}
    B: {$ref: '#/components/schemas/A'}
YAML
(cd "$WORK" && "$SLUICE" init cyc --spec cycle.yaml --out cyc_pipeline > /dev/null 2> "$WORK/err"); rc=$?
check "a \$ref cycle fails" test $rc -ne 0
check "a \$ref cycle: where and why: $(cat "$WORK/err")" grep -q "cycle.yaml:[0-9]*:[0-9]*: .*cycle" "$WORK/err"
check "a \$ref cycle: nothing written" test ! -e "$WORK/cyc_pipeline"
sed -e "s|#/components/schemas/A'}|#/components/schemas/Nowhere'}|" -e '/    [AB]: /d' "$WORK/cycle.yaml" > "$WORK/nowhere.yaml"
printf '    Other: {type: object}\n' >> "$WORK/nowhere.yaml"
(cd "$WORK" && "$SLUICE" init nw --spec nowhere.yaml --out nw_pipeline > /dev/null 2> "$WORK/err"); rc=$?
check "a \$ref to nowhere fails" test $rc -ne 0
check "a \$ref to nowhere: where and why: $(cat "$WORK/err")" grep -q "nowhere.yaml:11:[0-9]*: .*\$ref '#/components/schemas/Nowhere' does not resolve" "$WORK/err"

# ---- 5. a full disk -----------------------------------------------------------------
new_project full <<'YAML'
name: f
resources:
  - name: rows
    primary_key: id
    write_disposition: merge
    file: {path: 'data/*.jsonl'}
YAML
python3 -c "
import json, sys
with open(sys.argv[1], 'w') as f:
    for i in range(20000): f.write(json.dumps({'id': i, 'pad': 'x' * 100, 'kids': [i, i + 1]}) + '\n')" "$P/data/a.jsonl"
mkdir -p "$P/wd"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m sluice_hostile "$P/wd" 2> /dev/null; then
  MNT=$P/wd
  run; rc=$?
  check "disk full during extract: a clear error: $(tail -n 1 "$WORK/err")" grep -q "cannot write an extract file of 'rows': No space left on device" "$WORK/err"
  check "disk full during extract: exit not 0" test $rc -ne 0
  mount -o remount,size=4m "$MNT"
  run; rc=$?
  check "disk full during normalize: a clear error: $(tail -n 1 "$WORK/err")" grep -q "cannot write the job file .*: No space left on device" "$WORK/err"
  check "nothing loaded while the disk was full" test ! -e "$P/full.duckdb"
  mount -o remount,size=64m "$MNT"
  run; rc=$?
  check "with space the next run completes ($(tail -n 1 "$WORK/err"))" eq $rc 0
  check "exactly the right rows" eq "$(q full "SELECT count(*), count(DISTINCT id), sum(id) FROM rows")" "20000,20000,199990000"
  check "exactly the right child rows" eq "$(q full "SELECT count(*) FROM rows__kids")" 40000
  check "no package left behind" eq "$(ls "$P/wd/full/packages" | wc -l)" 0
  umount "$MNT" && MNT=
else
  echo "NOTE: cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN): the disk-full case is not run" >&2
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
