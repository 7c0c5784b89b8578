#!/usr/bin/env bash
# The pipeline commands from the command line: `sluice run`, `sluice pipeline
# NAME info|sync|query`, their --help, exit codes and one-line errors.
set -u
SLUICE=${SLUICE:?path of the sluice binary}
WORK=$(mktemp -d /tmp/sl_cli_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
pass=0
fail=0
check() { # description, then a command that must succeed
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
contains() { grep -q -- "$2" <<< "$1"; }

P=$WORK/proj
mkdir -p "$P/data"
cat > "$P/sluice.toml" <<'TOML'
[pipeline]
name = "clipipe"
source = "shop.source.yaml"
pipelines_dir = "wd"
export_schema_path = "schemas"
TOML
cat > "$P/shop.source.yaml" <<'YAML'
name: shop
resources:
  - name: pins
    primary_key: id
    write_disposition: merge
    file: {path: 'data/*.jsonl'}
YAML
printf '{"id": 1, "tags": ["a"]}\n{"id": 2, "tags": []}\n' > "$P/data/a.jsonl"

out=$("$SLUICE" run --help); rc=$?
check "run --help" test $rc -eq 0
check "run --help text" contains "$out" "usage: sluice run"
out=$("$SLUICE" pipeline --help); rc=$?
check "pipeline --help" test $rc -eq 0
check "pipeline --help text" contains "$out" "sync"
"$SLUICE" run --bogus 2> "$WORK/err"; rc=$?
check "unknown option exits 2" test $rc -eq 2

out=$("$SLUICE" run "$P" 2> "$WORK/err"); rc=$?
check "run exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
check "run prints rows" contains "$out" "pins .* 2 rows"
check "schema exported" test -f "$P/schemas/shop.schema.yaml"
check "duckdb file in the folder" test -f "$P/clipipe.duckdb"

out=$("$SLUICE" pipeline clipipe info --pipelines-dir "$P/wd" 2>&1); rc=$?
check "info exits 0" test $rc -eq 0
check "info lists the table with its rows" contains "$out" "pins .* 2 rows"
check "info lists pending" contains "$out" "pending packages: none"
check "info shows state" contains "$out" '"pipeline_name": "clipipe"'
out=$(cd "$P" && "$SLUICE" pipeline clipipe query --pipelines-dir wd --format csv "SELECT count(*) AS n FROM pins__tags" 2>&1)
check "query" contains "$out" "1"
# Every type prints its value, not a blank: inserted_at of _dlt_loads is a TIMESTAMPTZ.
out=$("$SLUICE" pipeline clipipe query --pipelines-dir "$P/wd" "SELECT inserted_at FROM _dlt_loads" 2>&1)
check "timestamptz shown in the table: $out" grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:.]+\+00 *$' <<< "$out"
out=$("$SLUICE" pipeline clipipe query --pipelines-dir "$P/wd" --format csv "SELECT TIMESTAMPTZ '2024-01-02 03:04:05+02' AS ts, DATE '2024-01-02' AS d, TIME '10:11:12' AS t, 1.50::DECIMAL(6,2) AS dec, [1, 2] AS l, {'a': 1} AS s" 2>&1)
check "csv of timestamptz, date, time, decimal, list, struct: $out" test "$(tail -n 1 <<< "$out")" = "2024-01-02 01:04:05+00,2024-01-02,10:11:12,1.50,\"[1, 2]\",{'a': 1}"
out=$("$SLUICE" pipeline clipipe query --pipelines-dir "$P/wd" --format json "SELECT TIMESTAMPTZ '2024-01-02 03:04:05+00' AS ts, [1, 2] AS l" 2>&1)
check "json of timestamptz and list: $out" test "$out" = '{"ts":"2024-01-02 03:04:05+00","l":"[1, 2]"}'

# A bad file: exit 3, one line with file:line:col, nothing loaded.
printf '{"id": 3}\n{"id": 4,, "x": 1}\n' > "$P/data/b.jsonl"
"$SLUICE" run "$P" > /dev/null 2> "$WORK/err"; rc=$?
check "bad JSON exits 3" test $rc -eq 3
check "bad JSON error has file:line:col: $(cat "$WORK/err")" grep -q "data/b.jsonl:2:10: " "$WORK/err"
check "error is one line" test "$(wc -l < "$WORK/err")" -eq 1
out=$("$SLUICE" pipeline clipipe query --pipelines-dir "$P/wd" --format csv "SELECT count(*) FROM pins" 2>&1)
check "nothing loaded from the bad run" contains "$(tail -n 1 <<< "$out")" "2"
# -q: errors only. A failing run prints its error and nothing else; a good one nothing.
out=$("$SLUICE" -q run "$P" 2> "$WORK/err"); rc=$?
check "-q: a failed run exits 3" test $rc -eq 3
check "-q: stdout empty ($out)" test -z "$out"
check "-q: the error alone on stderr: $(cat "$WORK/err")" test "$(wc -l < "$WORK/err")" -eq 1
rm "$P/data/b.jsonl"
out=$("$SLUICE" -q run "$P" 2> "$WORK/err"); rc=$?
check "-q: a good run exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
check "-q: no progress, no summary ($out$(cat "$WORK/err"))" test -z "$out$(cat "$WORK/err")"
out=$("$SLUICE" pipeline clipipe query --pipelines-dir "$P/wd" --format csv "SELECT count(*) FROM pins" 2>&1)
check "-q: the run loaded (merge: still 2 rows)" contains "$(tail -n 1 <<< "$out")" "2"

# Locked: another process holds the lock.
flock "$P/wd/clipipe/lock" sleep 3 &
lockpid=$!
sleep 0.3
"$SLUICE" run "$P" > /dev/null 2> "$WORK/err"; rc=$?
check "locked exits 5" test $rc -eq 5
check "locked message" grep -q "already running" "$WORK/err"
kill "$lockpid" 2> /dev/null
wait "$lockpid" 2> /dev/null

# Validation: exit 2 with a suggestion and the position.
cp "$P/shop.source.yaml" "$WORK/saved.yaml"
sed -i 's/primary_key: id/primery_key: id/' "$P/shop.source.yaml"
"$SLUICE" run "$P" > /dev/null 2> "$WORK/err"; rc=$?
check "bad key exits 2" test $rc -eq 2
check "bad key message: $(cat "$WORK/err")" grep -q "shop.source.yaml:4:18: unknown key 'primery_key' in a resource (did you mean 'primary_key'?)" "$WORK/err"
cp "$WORK/saved.yaml" "$P/shop.source.yaml"

# sync: the working dir is deleted, then restored from the destination.
rm -rf "$P/wd"
(cd "$P" && "$SLUICE" pipeline clipipe sync > "$WORK/out" 2> "$WORK/err"); rc=$?
check "sync exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
check "sync restored the state" test -f "$P/wd/clipipe/state.json"
check "sync restored the schema" test -f "$P/wd/clipipe/schema.json"
out=$("$SLUICE" pipeline clipipe info --pipelines-dir "$P/wd" 2>&1)
check "info after sync" contains "$out" "pins__tags"
"$SLUICE" pipeline nosuch info --pipelines-dir "$P/wd" 2> "$WORK/err"; rc=$?
check "unknown pipeline fails" test $rc -ne 0
check "unknown pipeline message" grep -q "no pipeline 'nosuch'" "$WORK/err"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
