#!/usr/bin/env bash
# The Athena destination end to end through `sluice run`, against s3rver and
# the Athena stand-in: append (Hive), replace (Hive), merge with child tables
# (Iceberg), a second run with updated and new rows and a
# new column. SELECTs through the stand-in — driven by the AWS CLI, so the
# stand-in speaks Athena's wire protocol — return what the DuckDB destination
# holds for the same input. Then `sync` from Athena, a FAILED statement's
# reason, throttling, and a load (force_iceberg) killed at several statements then re-run to
# exactly the right rows (no re-insert of old staging data). `sluice pipeline
# NAME query` through Athena (CSV and JSON equal to DuckDB's; writes refused
# before they are sent) and `drop RESOURCE` then a reload. The stand-in's
# refusals (unsigned, wrong target), result paging past 1000 rows, and a
# statement stuck in RUNNING stopped after query_timeout_s. dlt's Athena type
# for each dlt type (DESCRIBE through the stand-in), Hive and Iceberg
# (table_format: iceberg per resource).
set -u
SLUICE=${SLUICE:?path of the sluice binary}
SL_SOURCE_DIR=${SL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SL_BINARY_DIR=${SL_BINARY_DIR:?build folder}
. "$SL_SOURCE_DIR/tests/servers/athena_standin_env.sh"
WORK=$(mktemp -d /tmp/sl_ath_XXXXXX)
S3_PID=
ATHENA_PID=
trap 'sl_stop $ATHENA_PID $S3_PID; rm -rf "$WORK"' EXIT
pass=0
fail=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
fails() { ! "$@" > /dev/null 2>&1; }
eq() { [ "$1" = "$2" ] || { echo "  expected: $2" >&2; echo "  got:      $1" >&2; return 1; }; }

[ -x "$SL_S3RVER" ] || bash "$SL_SOURCE_DIR/scripts/deps.sh" --s3 || exit 1
command -v aws > /dev/null || { echo "the AWS CLI is needed (scripts/deps.sh --s3)" >&2; exit 1; }
sl_start_s3rver "$WORK/s3" lake || exit 1
sl_start_athena "$WORK/s3" || exit 1

make_project() { # dir name destination-toml
  mkdir -p "$1/data"
  cat > "$1/sluice.toml" <<TOML
[pipeline]
name = "$2"
source = "shop.source.yaml"
pipelines_dir = "wd"
dataset_name = "${4:-shop_data}"
$3
TOML
  cat > "$1/shop.source.yaml" <<'YAML'
name: shop
resources:
  - name: pins
    write_disposition: append
    file: {path: 'data/pins*.jsonl'}
  - name: boards
    write_disposition: replace
    file: {path: 'data/boards*.jsonl'}
  - name: users
    primary_key: id
    write_disposition: merge
    file: {path: 'data/users*.jsonl'}
  - name: events
    write_disposition: append
    file: {path: 'data/events*.jsonl'}
YAML
}
athena_toml() { # prefix [force_iceberg]
  cat <<TOML
destination = "athena"
[destination.filesystem]
bucket_url = "s3://lake/$1"
[destination.filesystem.credentials]
aws_access_key_id = "S3RVER"
aws_secret_access_key = "S3RVER"
endpoint_url = "$S3_ENDPOINT"
region_name = "us-east-1"
[destination.athena]
endpoint_url = "$ATHENA_ENDPOINT"
query_result_bucket = "s3://lake/results/"
force_iceberg = ${2:-false}
TOML
}
write_run1() {
  printf '{"id": 1, "title": "a", "tags": ["x", "y"]}\n{"id": 2, "title": "b", "tags": []}\n' > "$1/data/pins1.jsonl"
  printf '{"id": 10, "name": "first"}\n{"id": 11, "name": "second"}\n' > "$1/data/boards1.jsonl"
  printf '{"id": 100, "name": "ann", "score": 1.5, "roles": ["admin", "dev"]}\n{"id": 101, "name": "bob", "score": 2, "roles": ["dev"]}\n' > "$1/data/users1.jsonl"
  printf '{"kind": "click", "n": 1}\n{"kind": "view", "n": 2}\n' > "$1/data/events1.jsonl"
}
write_run2() {
  rm -f "$1"/data/*.jsonl
  printf '{"id": 3, "title": "c", "tags": ["z"], "color": "red"}\n' > "$1/data/pins2.jsonl"
  printf '{"id": 12, "name": "third"}\n' > "$1/data/boards2.jsonl"
  printf '{"id": 101, "name": "bobby", "score": 3, "roles": ["ops"], "email": "b@x"}\n{"id": 102, "name": "cy", "score": 4, "roles": []}\n' > "$1/data/users2.jsonl"
  printf '{"kind": "buy", "n": 3}\n' > "$1/data/events2.jsonl"
}

REF=$WORK/ref
A=$WORK/ath
make_project "$REF" ref 'destination = "duckdb"'
make_project "$A" athpipe "$(athena_toml runs)"
q() { (cd "$REF" && "$SLUICE" pipeline ref query --pipelines-dir wd --format csv "$1" 2>&1) | tail -n +2; }
aq() { sl_athena_sql shop_data "$1" 2>&1; }

compare_all() { # label [extra pins column] [extra users column]
  local pc=${2:-title} uc=${3:-name}
  check "$1: pins" eq "$(aq "SELECT id, title, $pc FROM pins ORDER BY id")" "$(q "SELECT id, title, $pc FROM pins ORDER BY id")"
  check "$1: pins__tags" eq "$(aq 'SELECT p.id, t.value FROM pins p JOIN pins__tags t ON t._dlt_parent_id = p._dlt_id ORDER BY 1, 2')" \
    "$(q 'SELECT p.id, t.value FROM pins p JOIN pins__tags t ON t._dlt_parent_id = p._dlt_id ORDER BY 1, 2')"
  check "$1: boards" eq "$(aq 'SELECT id, name FROM boards ORDER BY id')" "$(q 'SELECT id, name FROM boards ORDER BY id')"
  check "$1: users" eq "$(aq "SELECT id, name, score, $uc FROM users ORDER BY id")" "$(q "SELECT id, name, score, $uc FROM users ORDER BY id")"
  check "$1: users__roles" eq "$(aq 'SELECT u.id, r.value FROM users u JOIN users__roles r ON r._dlt_root_id = u._dlt_id ORDER BY 1, 2')" \
    "$(q 'SELECT u.id, r.value FROM users u JOIN users__roles r ON r._dlt_root_id = u._dlt_id ORDER BY 1, 2')"
  check "$1: no orphan roles" eq "$(aq 'SELECT count(*) FROM users__roles WHERE _dlt_root_id NOT IN (SELECT _dlt_id FROM users)')" "0"
  check "$1: events" eq "$(aq 'SELECT kind, n FROM events ORDER BY n')" "$(q 'SELECT kind, n FROM events ORDER BY n')"
}

for P in "$REF" "$A"; do write_run1 "$P"; done
for P in "$REF" "$A"; do
  "$SLUICE" run "$P" > "$WORK/out" 2> "$WORK/err"; rc=$?
  check "run 1 in $(basename "$P") exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
done
compare_all "run 1"
for P in "$REF" "$A"; do write_run2 "$P"; done
for P in "$REF" "$A"; do
  "$SLUICE" run "$P" > "$WORK/out" 2> "$WORK/err"; rc=$?
  check "run 2 in $(basename "$P") exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
done
compare_all "run 2" color email
check "two loads in _dlt_loads" eq "$(aq 'SELECT count(*) FROM _dlt_loads WHERE status = 0')" "2"
check "schema versions stored" test "$(aq 'SELECT count(*) FROM _dlt_version')" -ge 2
ls_out=$(sl_aws --endpoint-url "$S3_ENDPOINT" s3 ls --recursive s3://lake/runs/shop_data/ 2>&1)
check "hive table files in place" test "$(grep -c 'shop_data/pins/.*\.parquet$' <<< "$ls_out")" -eq 2
check "boards replaced: one file" test "$(grep -c 'shop_data/boards/.*\.parquet$' <<< "$ls_out")" -eq 1
check "staging cleaned" test "$(grep -c '_staging/' <<< "$ls_out")" -eq 0

# dlt's Athena types, in the DDL the stand-in received (DESCRIBE answers from
# its catalog): one column per dlt type, by column hints, in a Hive table and
# in an Iceberg one (table_format: iceberg).
T=$WORK/typed
mkdir -p "$T/data"
cat > "$T/sluice.toml" <<TOML
[pipeline]
name = "typed"
source = "typed.source.yaml"
pipelines_dir = "wd"
dataset_name = "typed_data"
$(athena_toml typed)
TOML
cat > "$T/typed.source.yaml" <<'YAML'
name: typed
resource_defaults:
  columns:
    t_text: {data_type: text}
    t_json: {data_type: json}
    t_time: {data_type: time}
    t_bigint: {data_type: bigint}
    t_double: {data_type: double}
    t_bool: {data_type: bool}
    t_date: {data_type: date}
    t_ts: {data_type: timestamp}
    t_dec: {data_type: decimal}
    t_dec52: {data_type: decimal, precision: 5, scale: 2}
    t_bin: {data_type: binary}
    t_wei: {data_type: wei}
resources:
  - name: typed_hive
    file: {path: data/typed.jsonl}
  - name: typed_ice
    table_format: iceberg
    file: {path: data/typed.jsonl}
YAML
printf '%s\n' '{"id": 1, "t_text": "a", "t_json": {"k": [1]}, "t_time": "12:34:56", "t_bigint": 5, "t_double": 1.5, "t_bool": true, "t_date": "2024-01-02", "t_ts": "2024-01-02T03:04:05.678Z", "t_dec": "1.25", "t_dec52": "3.14", "t_bin": null, "t_wei": "12345678901234567890"}' > "$T/data/typed.jsonl"
"$SLUICE" run "$T" > "$WORK/out" 2> "$WORK/err"; rc=$?
check "typed run exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
want='id,bigint
t_text,string
t_json,string
t_time,string
t_bigint,bigint
t_double,double
t_bool,boolean
t_date,date
t_ts,timestamp
t_dec,"decimal(38,9)"
t_dec52,"decimal(5,2)"
t_bin,binary
t_wei,"decimal(38,0)"
_dlt_load_id,string
_dlt_id,string'
for tb in typed_hive typed_ice; do
  got=$(sl_athena_sql typed_data "DESCRIBE $tb" 2>&1)
  check "Athena types of $tb (DESCRIBE)" eq "$(sort <<< "$got")" "$(sort <<< "$want")"
done
check "typed_hive is a Hive table" eq "$(sl_athena_sql typed_data 'SHOW TBLPROPERTIES typed_hive' 2>&1)" "EXTERNAL,TRUE"
check "typed_ice is Iceberg (table_format: iceberg)" grep -q '^table_type,ICEBERG$' <<< "$(sl_athena_sql typed_data 'SHOW TBLPROPERTIES typed_ice' 2>&1)"
check "typed values read back alike from both" eq "$(sl_athena_sql typed_data 'SELECT t_text, t_bigint, t_double, t_bool, t_date, t_dec52 FROM typed_ice' 2>&1)" \
  "$(sl_athena_sql typed_data 'SELECT t_text, t_bigint, t_double, t_bool, t_date, t_dec52 FROM typed_hive' 2>&1)"
check "DESCRIBE of an unknown table fails" fails sl_athena_sql typed_data 'DESCRIBE nope'

out=$("$SLUICE" pipeline athpipe info --pipelines-dir "$A/wd" 2>&1)
check "info counts rows through Athena: $out" grep -q "users .* 3 rows" <<< "$out"

# `sluice pipeline NAME query` through Athena: the rows that were loaded,
# as CSV and JSON, the same as the DuckDB destination prints them.
aquery() { (cd "$A" && "$SLUICE" pipeline athpipe query --pipelines-dir wd "$@"); }
rquery() { (cd "$REF" && "$SLUICE" pipeline ref query --pipelines-dir wd "$@"); }
sql='SELECT id, title, color FROM pins ORDER BY id'
check "query --csv = duckdb" eq "$(aquery --csv "$sql" 2>&1)" "$(rquery --csv "$sql" 2>&1)"
sql='SELECT id, name, score FROM users ORDER BY id'
check "query --json = duckdb" eq "$(aquery --json "$sql" 2>&1)" "$(rquery --json "$sql" 2>&1)"
check "query json rows" eq "$(aquery --json 'SELECT id, name FROM users WHERE id = 101' 2>&1)" '{"id":101,"name":"bobby"}'
check "query after comments, with a trailing ;" eq \
  "$(aquery --csv $'-- count\n/* the pins */ (SELECT count(*) AS n FROM pins);' 2>&1)" $'n\n3'
out=$(aquery 'SELECT id, title FROM pins ORDER BY id' 2>&1)
check "query table format: $out" grep -q '^(3 rows)$' <<< "$out"
check "query WITH" eq "$(aquery --csv 'WITH x AS (SELECT id FROM boards) SELECT count(*) AS n FROM x' 2>&1)" $'n\n1'
# Writes are refused before anything is sent (exit 2), whatever their form.
for bad in "INSERT INTO pins (id) VALUES (99)" \
           "UNLOAD (SELECT * FROM pins) TO 's3://lake/unload/' WITH (format = 'PARQUET')" \
           "/* hidden */ delete FROM pins" "DROP TABLE pins" "CREATE TABLE x AS SELECT 1 AS a" \
           "MERGE INTO users u USING users s ON u.id = s.id WHEN MATCHED THEN DELETE" \
           "MSCK REPAIR TABLE pins" "ALTER TABLE pins ADD COLUMNS (z string)" \
           "SELECT 1; DROP TABLE pins" "EXPLAIN ANALYZE INSERT INTO pins (id) VALUES (99)"; do
  aquery "$bad" > "$WORK/out" 2> "$WORK/err"; rc=$?
  check "refused (exit 2, got $rc): $bad" test $rc -eq 2
  check "refusal message for $bad: $(cat "$WORK/err")" grep -q "read-only query: .* not allowed.*only SELECT" "$WORK/err"
done
check "INSERT named in its refusal" grep -q "read-only query: INSERT is not allowed" <(aquery "insert into pins (id) values (99)" 2>&1)
check "UNLOAD named in its refusal" grep -q "read-only query: UNLOAD is not allowed" <(aquery "UNLOAD (SELECT 1) TO 's3://lake/u/'" 2>&1)
check "nothing was written by the refused statements" eq "$(aq 'SELECT count(*) FROM pins')" "3"
check "the MERGE … DELETE was not run" eq "$(aq 'SELECT count(*) FROM users')" "3"
check "EXPLAIN of a SELECT runs" test "$(aquery --csv 'EXPLAIN SELECT * FROM pins' > /dev/null 2>&1; echo $?)" -eq 0
aquery 'SELECT nope FROM pins' > /dev/null 2> "$WORK/err"; rc=$?
check "a failing SELECT: Athena's reason, exit 4 (rc $rc): $(cat "$WORK/err")" bash -c "[ $rc -eq 4 ] && grep -q FAILED '$WORK/err'"

rm -rf "$A/wd"
(cd "$A" && "$SLUICE" pipeline athpipe sync > "$WORK/out" 2> "$WORK/err"); rc=$?
check "sync from Athena exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
check "sync restored the schema" grep -q '"email"' "$A/wd/athpipe/schema.json"
check "sync restored the state" test -f "$A/wd/athpipe/state.json"

# drop RESOURCE: the tables go from Athena and their files from S3; the next
# run loads the resource again from the start.
(cd "$A" && "$SLUICE" pipeline athpipe drop events > "$WORK/out" 2> "$WORK/err"); rc=$?
check "drop events exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
check "events table dropped" fails aq 'SELECT count(*) FROM events'
ls_out=$(sl_aws --endpoint-url "$S3_ENDPOINT" s3 ls --recursive s3://lake/runs/shop_data/events/ 2>&1)
check "events files deleted" test "$(grep -c '\.parquet$' <<< "$ls_out")" -eq 0
check "other tables kept" eq "$(aq 'SELECT count(*) FROM pins')" "3"
check "drop removed events from the schema" bash -c "! grep -q '\"events\"' '$A/wd/athpipe/schema.json'"
"$SLUICE" run "$A" > "$WORK/out" 2> "$WORK/err"; rc=$?
check "run after drop exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
check "events reloaded" eq "$(aquery --csv 'SELECT kind, n FROM events ORDER BY n' 2>&1)" $'kind,n\nbuy,3'

# Killed at the n-th Athena statement of the second load, re-run: exact rows.
for n in 6 17; do
  K=$WORK/kill$n
  # Every table Iceberg here: the DELETE/INSERT steps are what a kill interrupts.
  make_project "$K" "kill$n" "$(athena_toml kill$n true)" "kill_data$n"
  write_run1 "$K"
  "$SLUICE" run "$K" > /dev/null 2> "$WORK/err" || echo "  first run: $(cat "$WORK/err")" >&2
  write_run2 "$K"
  SLUICE_TEST_CRASH=athena_stmt:$n "$SLUICE" run "$K" > /dev/null 2>&1; rc=$?
  check "killed at statement $n (rc $rc)" test $rc -ne 0
  "$SLUICE" run "$K" --pending-only > "$WORK/out" 2> "$WORK/err"; rc=$?
  check "rerun after statement $n exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
  kq() { sl_athena_sql "kill_data$n" "$1" 2>&1; }
  check "after $n: pins" eq "$(kq 'SELECT id FROM pins ORDER BY id')" "$(q 'SELECT id FROM pins ORDER BY id')"
  check "after $n: users" eq "$(kq 'SELECT id, name FROM users ORDER BY id')" "$(q 'SELECT id, name FROM users ORDER BY id')"
  check "after $n: roles" eq "$(kq 'SELECT count(*) FROM users__roles')" "$(q 'SELECT count(*) FROM users__roles')"
  check "after $n: events" eq "$(kq 'SELECT count(*) FROM events')" "3"
  check "after $n: loads" eq "$(kq 'SELECT count(*) FROM _dlt_loads')" "2"
done

# A FAILED statement: Athena's reason and the statement in the error.
sl_stop "$ATHENA_PID"
export ATHENA_STANDIN_FAIL='INSERT INTO "fail_data"."_dlt_loads"' ATHENA_STANDIN_THROTTLE=5
sl_start_athena "$WORK/s3" || exit 1
unset ATHENA_STANDIN_FAIL ATHENA_STANDIN_THROTTLE
F=$WORK/failing
make_project "$F" failing "$(athena_toml failing)" fail_data
write_run1 "$F"
"$SLUICE" run "$F" > "$WORK/out" 2> "$WORK/err"; rc=$?
check "failed statement fails the run" test $rc -ne 0
check "reason shown: $(cat "$WORK/err")" grep -q "FAILED: injected failure" "$WORK/err"
check "statement shown" grep -q 'statement: INSERT INTO "fail_data"."_dlt_loads"' "$WORK/err"
check "secret not shown" bash -c "! grep -q S3RVER '$WORK/err'"
check "throttled requests were retried (the merge went in before the failure)" \
  eq "$(sl_athena_sql fail_data 'SELECT count(*) FROM users' 2>&1)" "2"

# A stand-in without throttling, where statements naming stuck_marker stay
# RUNNING (for the timeout below); the pipeline is pointed at it.
sl_stop "$ATHENA_PID"
export ATHENA_STANDIN_STUCK=stuck_marker
sl_start_athena "$WORK/s3" || exit 1
unset ATHENA_STANDIN_STUCK
sed -i "/^\[destination.athena\]/,/^\[/ s|^endpoint_url = .*|endpoint_url = \"$ATHENA_ENDPOINT\"|" "$A/sluice.toml"

# The stand-in refuses what Athena refuses: no SigV4 Authorization header
# (403 MissingAuthenticationTokenException), a signature for another service,
# and a wrong X-Amz-Target (400 UnknownOperationException); the same request
# signed and targeted properly goes through, so the refusals are specific.
apost() { # expected-code target [curl signing args...]
  local want=$1 target=$2
  shift 2
  curl -s -o "$WORK/resp" -w '%{http_code}' -X POST "$ATHENA_ENDPOINT/" \
    -H 'Content-Type: application/x-amz-json-1.1' -H "X-Amz-Target: $target" \
    --data '{"QueryString": "SELECT 1", "QueryExecutionContext": {"Database": "shop_data"}}' "$@" > "$WORK/code"
  eq "$(cat "$WORK/code")" "$want"
}
sig=(--aws-sigv4 aws:amz:us-east-1:athena --user S3RVER:S3RVER)
check "unsigned request: 403" apost 403 AmazonAthena.StartQueryExecution
check "unsigned request: MissingAuthenticationTokenException" grep -q MissingAuthenticationTokenException "$WORK/resp"
check "signed for s3, not athena: 403" apost 403 AmazonAthena.StartQueryExecution --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER
check "bare Authorization header: 403" apost 403 AmazonAthena.StartQueryExecution -H 'Authorization: Bearer x'
check "wrong target prefix: 400" apost 400 AmazonS3.StartQueryExecution "${sig[@]}"
check "wrong target prefix: UnknownOperationException" grep -q UnknownOperationException "$WORK/resp"
check "unknown operation: 400" apost 400 AmazonAthena.StartQueryExecutionNope "${sig[@]}"
check "unknown operation: UnknownOperationException" grep -q UnknownOperationException "$WORK/resp"
check "missing target: 400" apost 400 "" "${sig[@]}"
check "signed and targeted: 200" apost 200 AmazonAthena.StartQueryExecution "${sig[@]}"
check "signed and targeted: a query id" grep -q QueryExecutionId "$WORK/resp"

# Result paging: 2500 rows come in three GetQueryResults pages (NextToken);
# the stand-in pages at 1000 rows, header row included, as Athena does.
out=$(aquery --csv 'SELECT range AS n FROM range(2500) ORDER BY n' 2>&1)
check "2500 rows through NextToken pages" eq "$(tail -n +2 <<< "$out" | wc -l)" 2500
check "every row once, in order" eq "$(tail -n +2 <<< "$out" | sort -n | uniq | wc -l) $(sed -n 2p <<< "$out") $(tail -n 1 <<< "$out")" "2500 0 2499"
check "header only once" eq "$(grep -c '^n$' <<< "$out")" 1
id=$(sl_aws athena start-query-execution --endpoint-url "$ATHENA_ENDPOINT" --query-string 'SELECT range AS n FROM range(2500)' \
      --query QueryExecutionId --output text 2>&1)
for _ in $(seq 1 50); do
  [ "$(sl_aws athena get-query-execution --endpoint-url "$ATHENA_ENDPOINT" --query-execution-id "$id" \
        --query QueryExecution.Status.State --output text 2>&1)" = SUCCEEDED ] && break
  sleep 0.1
done
page=$(sl_aws athena get-query-results --endpoint-url "$ATHENA_ENDPOINT" --query-execution-id "$id" --no-paginate \
         --output json 2>&1 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["ResultSet"]["Rows"]), "NextToken" in d)')
check "stand-in pages at 1000 rows (got: $page)" eq "$page" "1000 True"

# A statement stuck in RUNNING: stopped (StopQueryExecution) after
# [destination.athena] query_timeout_s, failing with the query id and the statement.
printf 'query_timeout_s = 2\n' >> "$A/sluice.toml"
t0=$(date +%s)
aquery --csv "SELECT 'stuck_marker' AS x" > "$WORK/out" 2> "$WORK/err"; rc=$?
t1=$(date +%s)
check "a stuck query fails (exit 4, got $rc)" test $rc -eq 4
check "after the timeout, not forever ($((t1 - t0))s)" test $((t1 - t0)) -ge 2 -a $((t1 - t0)) -le 15
check "error names the state and the timeout: $(cat "$WORK/err")" grep -q "still RUNNING after 2s (\[destination.athena\] query_timeout_s)" "$WORK/err"
check "error names the statement" grep -q "statement: SELECT 'stuck_marker' AS x" "$WORK/err"
id=$(grep -o 'Athena query [^ ]*' "$WORK/err" | head -n 1 | cut -d' ' -f3)
check "error names the query id ($id)" test -n "$id"
check "the query was stopped: CANCELLED in the stand-in" eq "$(sl_aws athena get-query-execution --endpoint-url "$ATHENA_ENDPOINT" \
  --query-execution-id "$id" --query QueryExecution.Status.State --output text 2>&1)" CANCELLED
check "other statements still run" eq "$(aquery --csv 'SELECT 7 AS x' 2>&1)" $'x\n7'
sed -i 's/^query_timeout_s = 2$/query_timeout_s = 0/' "$A/sluice.toml"
aquery --csv 'SELECT 7 AS x' > "$WORK/out" 2> "$WORK/err"; rc=$?
check "query_timeout_s = 0 is refused: $(cat "$WORK/err")" grep -q "destination.athena.query_timeout_s must be a whole number of at least 1" "$WORK/err"
sed -i '/^query_timeout_s = 0$/d' "$A/sluice.toml"
DESTINATION__FILESYSTEM__MULTIPART_PART_MB=4 aquery --csv 'SELECT 7 AS x' > "$WORK/out" 2> "$WORK/err"
check "multipart_part_mb below S3's 5 MB is refused: $(cat "$WORK/err")" grep -q "multipart_part_mb must be a whole number of at least 5" "$WORK/err"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
