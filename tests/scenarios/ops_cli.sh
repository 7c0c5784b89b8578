#!/usr/bin/env bash
# Operating a pipeline from the command line: progress log lines, the trace,
# `sluice pipeline NAME info|trace|schema|load-package|failed-jobs|drop|query`
# with their --help, --json and exit codes, on a loaded pipeline and on a
# failed one; the failure alert webhook (a local HTTP server); NO_COLOR.
set -u
SLUICE=${SLUICE:?path of the sluice binary}
WORK=$(mktemp -d /tmp/sl_ops_XXXXXX)
HOOK_PID=
trap '[ -n "$HOOK_PID" ] && kill "$HOOK_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
pass=0
fail=0
check() { # description, then a command that must succeed
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
contains() { grep -q -- "$2" <<< "$1"; }
lacks() { ! grep -q -- "$2" <<< "$1"; }
json_get() { # JSON text, python expression on `d`
  python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$2" <<< "$1"
}

P=$WORK/proj
mkdir -p "$P/data" "$P/.sluice"
cat > "$P/sluice.toml" <<'TOML'
[pipeline]
name = "opspipe"
source = "shop.source.yaml"
pipelines_dir = "wd"
progress = "log"
log_period = 1
TOML
printf '[load]\ndelete_completed_jobs = false\n' > "$P/.sluice/config.toml"
cat > "$P/shop.source.yaml" <<'YAML'
name: shop
resources:
  - name: pins
    primary_key: id
    write_disposition: merge
    file: {path: 'data/pins*.jsonl'}
  - name: boards
    write_disposition: append
    file: {path: 'data/boards*.jsonl'}
YAML
python3 - "$P/data" <<'PY'
import json, sys
with open(sys.argv[1] + "/pins.jsonl", "w") as f:
    for i in range(1, 46):
        f.write(json.dumps({"id": i, "title": "pin <b>%d</b>" % i, "tags": ["a", "b"][: i % 3]}) + "\n")
with open(sys.argv[1] + "/boards.jsonl", "w") as f:
    for i in range(1, 4):
        f.write(json.dumps({"id": i, "name": "board %d" % i}) + "\n")
PY
PD=(--pipelines-dir "$P/wd")

# ---- version, help ------------------------------------------------------------
out=$("$SLUICE" --version); rc=$?
check "--version exits 0" test $rc -eq 0
check "--version names sluice and duckdb" contains "$out" "^sluice .*duckdb"
out=$("$SLUICE" --help); rc=$?
check "--help exits 0" test $rc -eq 0
check "--help lists deploy" contains "$out" "deploy github-action|cron"
check "--help documents exit codes" contains "$out" "Exit status: 0 ok, 2 usage"
for c in info trace schema load-package failed-jobs drop sync query drop-pending show; do
  out=$("$SLUICE" pipeline opspipe "$c" --help); rc=$?
  check "pipeline $c --help exits 0" test $rc -eq 0
  check "pipeline $c --help text" contains "$out" "usage: sluice pipeline NAME $c"
done
"$SLUICE" pipeline opspipe frobnicate 2> "$WORK/err"; rc=$?
check "unknown command exits 2" test $rc -eq 2
check "unknown command message" grep -q "unknown command 'frobnicate'" "$WORK/err"
"$SLUICE" pipeline nosuchpipe info "${PD[@]}" 2> "$WORK/err"; rc=$?
check "unknown pipeline exits 1" test $rc -eq 1
check "unknown pipeline message" grep -q "no pipeline 'nosuchpipe'" "$WORK/err"
"$SLUICE" pipeline opspipe trace "${PD[@]}" 2> "$WORK/err"; rc=$?
check "trace before any run: not found ($rc)" test $rc -eq 1

# ---- a run with log progress ----------------------------------------------------
out=$("$SLUICE" run "$P" 2> "$WORK/err"); rc=$?
check "run exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
check "progress: extract header" contains "$out" "-- Extract opspipe ("
check "progress: resources done" contains "$out" "Resources: 2/2 (100.0%)"
check "progress: items per resource" contains "$out" "^pins: 45 items"
check "progress: normalize rows per table" contains "$out" "^pins__tags: 45 rows"
check "progress: memory" contains "$out" "Memory usage: [0-9.]* MB"
check "progress: load header" contains "$out" "-- Load opspipe ("
n=$(grep -c -- "-- Extract opspipe" <<< "$out")
check "progress: a fast extract prints once, at its end ($n)" test "$n" -eq 1
check "progress lines stay off stderr" test ! -s "$WORK/err"

# ---- trace -------------------------------------------------------------------
check "trace.json saved" test -f "$P/wd/opspipe/trace.json"
check "trace copy in traces/" test "$(ls "$P/wd/opspipe/traces" | wc -l)" -eq 1
tj=$("$SLUICE" pipeline opspipe trace --json "${PD[@]}"); rc=$?
check "trace --json exits 0" test $rc -eq 0
check "trace status ok" test "$(json_get "$tj" 'd["status"]')" = ok
check "trace has 3 steps" test "$(json_get "$tj" '",".join(s["step"] for s in d["steps"])')" = "extract,normalize,load"
check "trace step durations" test "$(json_get "$tj" 'all(s["duration_s"] >= 0 and s["finished_at"] for s in d["steps"])')" = True
check "trace items per resource" test "$(json_get "$tj" '{r["name"]: r["items"] for r in d["resources"]}["pins"]')" = 45
check "trace rows per table" test "$(json_get "$tj" '{t["name"]: t["rows_loaded"] for t in d["tables"]}["pins__tags"]')" = 45
check "trace load id" test "$(json_get "$tj" 'len(d["load_ids"])')" = 1
check "trace http figures" test "$(json_get "$tj" 'd["http"]["requests"]')" = 0
check "trace error null" test "$(json_get "$tj" 'd["error"]')" = None
LOAD_ID=$(json_get "$tj" 'd["load_ids"][0]')
out=$("$SLUICE" pipeline opspipe trace "${PD[@]}"); rc=$?
check "trace exits 0" test $rc -eq 0
check "trace human: status" contains "$out" "Run of pipeline opspipe: ok"
check "trace human: steps" contains "$out" "load  *$LOAD_ID  *ok"
check "trace human: tables" contains "$out" "pins  *45 rows loaded"

# ---- info, schema, load-package, query ---------------------------------------------
out=$("$SLUICE" pipeline opspipe info "${PD[@]}"); rc=$?
check "info exits 0" test $rc -eq 0
check "info rows" contains "$out" "pins .* 45 rows"
ij=$("$SLUICE" pipeline opspipe info --json "${PD[@]}"); rc=$?
check "info --json exits 0" test $rc -eq 0
check "info --json rows" test "$(json_get "$ij" '{t["name"]: t["rows"] for t in d["tables"]}["boards"]')" = 3
check "info --json child parent" test "$(json_get "$ij" '{t["name"]: t["parent"] for t in d["tables"]}["pins__tags"]')" = pins
check "info --json last load" test "$(json_get "$ij" 'd["last_loads"][0]["load_id"]')" = "$LOAD_ID"
check "info --json column types" test "$(json_get "$ij" '[c["data_type"] for t in d["tables"] if t["name"]=="pins" for c in t["columns"] if c["name"]=="id"][0]')" = bigint
out=$("$SLUICE" pipeline opspipe schema "${PD[@]}"); rc=$?
check "schema exits 0" test $rc -eq 0
check "schema yaml" contains "$out" "^name: shop"
out=$("$SLUICE" pipeline opspipe schema --format json "${PD[@]}"); rc=$?
check "schema json" test "$(json_get "$out" 'd["name"]')" = shop
"$SLUICE" pipeline opspipe schema --format xml "${PD[@]}" 2> /dev/null; rc=$?
check "schema --format xml exits 2" test $rc -eq 2
out=$("$SLUICE" pipeline opspipe load-package "${PD[@]}"); rc=$?
check "load-package exits 0" test $rc -eq 0
check "load-package state" contains "$out" "load package $LOAD_ID: loaded"
check "load-package lists jobs" contains "$out" "completed .*pins__tags .* 45 rows"
lj=$("$SLUICE" pipeline opspipe load-package "$LOAD_ID" --json "${PD[@]}"); rc=$?
check "load-package --json" test "$(json_get "$lj" 'sum(j["rows"] for j in d["jobs"] if j["table"]=="pins")')" = 45
"$SLUICE" pipeline opspipe load-package 123.456 "${PD[@]}" 2> "$WORK/err"; rc=$?
check "load-package unknown exits 1" test $rc -eq 1
out=$("$SLUICE" pipeline opspipe failed-jobs "${PD[@]}"); rc=$?
check "failed-jobs none" contains "$out" "No failed jobs found"
out=$("$SLUICE" pipeline opspipe query "select count(*) as n from pins" "${PD[@]}"); rc=$?
check "query table exits 0" test $rc -eq 0
check "query table" contains "$out" "(1 row)"
out=$("$SLUICE" pipeline opspipe query --json "select id, title from pins where id = 3" "${PD[@]}")
check "query --json" test "$(json_get "$out" 'd["title"]')" = "pin <b>3</b>"
out=$("$SLUICE" pipeline opspipe query --csv "select id from boards order by id" "${PD[@]}")
check "query --csv" test "$(tr '\n' ' ' <<< "$out")" = "id 1 2 3 "
"$SLUICE" pipeline opspipe query "drop table pins" "${PD[@]}" 2> "$WORK/err"; rc=$?
check "query refuses writes (exit $rc)" test $rc -ne 0
check "query refusal says why" grep -q "only SELECT" "$WORK/err"
"$SLUICE" pipeline opspipe query "EXPLAIN ANALYZE COPY (select 42) TO '$WORK/pwned.csv'" "${PD[@]}" 2> "$WORK/err"; rc=$?
check "query: EXPLAIN ANALYZE COPY refused (exit $rc)" test $rc -ne 0 -a ! -e "$WORK/pwned.csv"
check "query: file access refusal says why" grep -q "file system operations are disabled" "$WORK/err"
"$SLUICE" pipeline opspipe query "select * from read_text('/etc/hostname')" "${PD[@]}" 2> "$WORK/err"; rc=$?
check "query: read_text refused (exit $rc)" test $rc -ne 0

# ---- drop ----------------------------------------------------------------------------
out=$("$SLUICE" pipeline opspipe drop boards --state-only "${PD[@]}"); rc=$?
check "drop --state-only exits 0" test $rc -eq 0
out=$("$SLUICE" pipeline opspipe query --csv "select count(*) from boards" "${PD[@]}")
check "drop --state-only keeps the table" test "$(tail -n 1 <<< "$out")" = 3
out=$("$SLUICE" pipeline opspipe drop pins "${PD[@]}"); rc=$?
check "drop exits 0" test $rc -eq 0
check "drop names the child table" contains "$out" "pins__tags"
"$SLUICE" pipeline opspipe query "select * from pins__tags" "${PD[@]}" > /dev/null 2>&1; rc=$?
check "dropped table is gone" test $rc -ne 0
ij=$("$SLUICE" pipeline opspipe info --json "${PD[@]}")
check "dropped table left the schema" test "$(json_get "$ij" '[t["name"] for t in d["tables"]]')" = "['boards']"
"$SLUICE" pipeline opspipe drop nosuch "${PD[@]}" 2> "$WORK/err"; rc=$?
check "drop unknown resource exits 1" test $rc -eq 1
check "drop unknown names it" grep -q "no resource 'nosuch'" "$WORK/err"
# sync restores the dropped schema from the destination, not the old one
rm -rf "$P/wd/opspipe/schema.json" "$P/wd/opspipe/state.json"
"$SLUICE" pipeline opspipe sync "${PD[@]}" > /dev/null; rc=$?
check "sync after drop exits 0" test $rc -eq 0
ij=$("$SLUICE" pipeline opspipe info --json "${PD[@]}")
check "synced schema has no dropped table" test "$(json_get "$ij" '[t["name"] for t in d["tables"]]')" = "['boards']"
"$SLUICE" run "$P" > /dev/null 2>&1
out=$("$SLUICE" pipeline opspipe query --csv "select count(*) from pins" "${PD[@]}")
check "next run loads the dropped resource again" test "$(tail -n 1 <<< "$out")" = 45

# ---- a failed run: trace with the error, alert, failed jobs ---------------------------
python3 - "$WORK/port" "$WORK/hook.log" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "ab") as f:
            f.write(self.path.encode() + b" " + self.headers.get("Content-Type", "").encode() + b" " + body + b"\n")
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f: f.write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
HOOK_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
printf '[runtime]\nalert_webhook_url = "http://127.0.0.1:%s/services/T0SECRETHOOK"\n' "$(cat "$WORK/port")" > "$P/.sluice/secrets.toml"
printf '{"id": 100}\n{"id": 101,, "x": 1}\n' > "$P/data/pins_bad.jsonl"
"$SLUICE" run "$P" > /dev/null 2> "$WORK/err"; rc=$?
check "failed run exits 3" test $rc -eq 3
tj=$("$SLUICE" pipeline opspipe trace --json "${PD[@]}")
check "failed trace status" test "$(json_get "$tj" 'd["status"]')" = failed
check "failed trace step" test "$(json_get "$tj" 'd["error"]["step"]')" = extract
check "failed trace message has the position" contains "$(json_get "$tj" 'd["error"]["message"]')" "pins_bad.jsonl:2:"
out=$("$SLUICE" pipeline opspipe trace "${PD[@]}"); rc=$?
check "trace of a failed run exits 0" test $rc -eq 0
check "trace shows the error" contains "$out" "error in step extract: .*pins_bad.jsonl:2:"
for _ in $(seq 50); do [ -s "$WORK/hook.log" ] && break; sleep 0.1; done
hook=$(cat "$WORK/hook.log" 2> /dev/null)
check "alert posted" contains "$hook" "^/services/T0SECRETHOOK application/json "
body=${hook#* application/json }
check "alert is Slack text" contains "$(json_get "$body" 'd["text"]')" "sluice pipeline opspipe failed in step extract"
check "alert names the step" test "$(json_get "$body" 'd["step"]')" = extract
check "alert error" contains "$(json_get "$body" 'd["error"]')" "pins_bad.jsonl:2:"
check "webhook secret not in the trace" lacks "$(cat "$P"/wd/opspipe/traces/*.json)" "T0SECRETHOOK"
rm "$P/data/pins_bad.jsonl"

# A job that fails to load: stop a run before its load, spoil a job file.
printf '{"id": 200}\n' > "$P/data/pins_more.jsonl"
(SLUICE_TEST_CRASH=load_begin:1 "$SLUICE" run "$P" > /dev/null 2>&1; true) 2> /dev/null
PKG=$(ls "$P/wd/opspipe/packages" | sort | tail -n 1)
job=$(ls "$P/wd/opspipe/packages/$PKG/new_jobs/" | grep '^pins\.' | head -n 1)
check "a job waits in new_jobs" test -n "$job"
printf 'garbage' > "$P/wd/opspipe/packages/$PKG/new_jobs/$job"
: > "$WORK/hook.log"
"$SLUICE" run "$P" > /dev/null 2> "$WORK/err"; rc=$?
# (a corrupt job file is an I/O error: exit 1)
check "failed load exits non-zero ($rc)" test $rc -ne 0
check "failed load names the job file" grep -q "$job" "$WORK/err"
out=$("$SLUICE" pipeline opspipe failed-jobs "${PD[@]}"); rc=$?
check "failed-jobs exits 0" test $rc -eq 0
check "failed-jobs lists the job" contains "$out" "$PKG $job"
fj=$("$SLUICE" pipeline opspipe failed-jobs --json "${PD[@]}")
check "failed-jobs --json message" test -n "$(json_get "$fj" 'd[0]["failed_message"]')"
out=$("$SLUICE" pipeline opspipe load-package "$PKG" "${PD[@]}")
check "load-package shows the failed job" contains "$out" "failed .*$job"
tj=$("$SLUICE" pipeline opspipe trace --json "${PD[@]}")
check "trace of a failed load: step load" test "$(json_get "$tj" 'd["error"]["step"]')" = load
for _ in $(seq 50); do [ -s "$WORK/hook.log" ] && break; sleep 0.1; done
check "alert for the failed load" contains "$(cat "$WORK/hook.log")" '"step":"load"'
out=$("$SLUICE" pipeline opspipe info "${PD[@]}"); rc=$?
check "info on a failed pipeline exits 0" test $rc -eq 0
check "info lists the waiting package" contains "$out" "$PKG  normalized"
ij=$("$SLUICE" pipeline opspipe info --json "${PD[@]}")
check "info --json pending" test "$(json_get "$ij" 'd["pending"][0]["load_id"]')" = "$PKG"
out=$("$SLUICE" pipeline opspipe drop-pending "${PD[@]}"); rc=$?
check "drop-pending exits 0" test $rc -eq 0
rm "$P/data/pins_more.jsonl" "$P/.sluice/secrets.toml"

# ---- progress none, NO_COLOR ---------------------------------------------------------
sed -i 's/^progress = "log"/progress = "none"/' "$P/sluice.toml"
printf '{"id": 300}\n' > "$P/data/pins_3.jsonl"
out=$("$SLUICE" run "$P" 2>&1); rc=$?
check "progress none: exit 0" test $rc -eq 0
check "progress none: no log lines" lacks "$out" "Memory usage"
# the bar, on a terminal (script(1) gives the run a pseudo-terminal)
if command -v script > /dev/null 2>&1; then
  sed -i 's/^progress = "none"/progress = "bar"/' "$P/sluice.toml"
  printf '{"id": 301}\n' > "$P/data/pins_4.jsonl"
  out=$(SLUICE="$SLUICE" P="$P" script -qec '"$SLUICE" run "$P"' /dev/null); rc=$?
  check "progress bar: exit 0" test $rc -eq 0
  check "progress bar: extract line" contains "$out" "opspipe extract: resources 2/2 | 0 pages | [0-9]* items"
  check "progress bar: load line with memory" contains "$out" "opspipe load: [0-9]* rows | .* | mem [0-9.]* MB"
  check "progress bar: redrawn in place" contains "$out" $'\r\033\[K'
  check "progress bar: no log blocks" lacks "$out" "Memory usage"
  sed -i 's/^progress = "bar"/progress = "none"/' "$P/sluice.toml"
fi
sed -i 's/^progress = "none"/progress = "sideways"/' "$P/sluice.toml"
"$SLUICE" run "$P" > /dev/null 2> "$WORK/err"; rc=$?
check "bad progress value exits 2" test $rc -eq 2
check "bad progress value: position" grep -q "sluice.toml:5:.*progress must be" "$WORK/err"
sed -i 's/^progress = "sideways"/progress = "log"/' "$P/sluice.toml"
# colors only on a terminal, and never with NO_COLOR (script(1) gives a pseudo-terminal)
if command -v script > /dev/null 2>&1; then
  out=$(SLUICE="$SLUICE" W="$WORK" script -qec '"$SLUICE" pipeline nosuchpipe info --pipelines-dir "$W/wd"' /dev/null)
  check "error on a terminal is red" contains "$out" $'\033\[1;31msluice:'
  out=$(SLUICE="$SLUICE" W="$WORK" NO_COLOR=1 script -qec '"$SLUICE" pipeline nosuchpipe info --pipelines-dir "$W/wd"' /dev/null)
  check "NO_COLOR on a terminal: the error" contains "$out" "sluice: .*nosuchpipe"
  check "NO_COLOR on a terminal: no escape codes" test "$(grep -c $'\033' <<< "$out")" -eq 0
fi
NO_COLOR=1 "$SLUICE" pipeline nosuchpipe info "${PD[@]}" 2> "$WORK/err"
check "NO_COLOR: no escape codes" test "$(grep -c $'\033' "$WORK/err")" -eq 0

# ---- a load error exits 4: a frozen schema meets a new column ----------------------------
F=$WORK/frozen
mkdir -p "$F/data"
printf '[pipeline]\nname = "frozen"\nsource = "f.source.yaml"\npipelines_dir = "wd"\nprogress = "none"\n' > "$F/sluice.toml"
printf 'name: f\nresources:\n  - name: pins\n    file: {path: data/pins*.jsonl}\n' > "$F/f.source.yaml"
printf '{"id": 1, "title": "a"}\n' > "$F/data/pins_1.jsonl"
"$SLUICE" run "$F" > /dev/null 2> "$WORK/err"; rc=$?
check "frozen: first run exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
printf 'name: f\nschema_contract: freeze\nresources:\n  - name: pins\n    file: {path: data/pins*.jsonl}\n' > "$F/f.source.yaml"
printf '{"id": 2, "title": "b", "color": "red"}\n' > "$F/data/pins_2.jsonl"
"$SLUICE" run "$F" > /dev/null 2> "$WORK/err"; rc=$?
check "frozen: a new column exits 4 (exit $rc)" test $rc -eq 4
check "frozen: the error names the table and the column ($(cat "$WORK/err"))" grep -q "pins.*color\|color.*pins" "$WORK/err"
out=$("$SLUICE" pipeline frozen query --csv "select count(*) from pins" --pipelines-dir "$F/wd")
check "frozen: nothing of the refused package loaded" test "$(tail -n 1 <<< "$out")" = 1

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
