#!/usr/bin/env bash
# The filesystem destination on S3 (s3rver), end to end through `sluice run`:
# credentials from sluice.toml, Parquet objects under s3://bucket/prefix/<dataset>/,
# listed and downloaded by the AWS CLI (an independent client), read back by
# DuckDB and compared with the DuckDB destination; replace leaves one object;
# `sync` restores state from the bucket; a load killed mid-upload re-runs to
# exactly the right objects; bad credentials give S3's error without the secret;
# `pipeline query` on the bucket answers as the DuckDB destination does.
set -u
SLUICE=${SLUICE:?path of the sluice binary}
SL_SOURCE_DIR=${SL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SL_SOURCE_DIR/tests/servers/athena_standin_env.sh"
WORK=$(mktemp -d /tmp/sl_fs3_XXXXXX)
S3_PID=
trap 'sl_stop $S3_PID; rm -rf "$WORK"' EXIT
pass=0
fail=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
eq() { [ "$1" = "$2" ] || { echo "  expected: $2" >&2; echo "  got:      $1" >&2; return 1; }; }

if [ ! -x "$SL_S3RVER" ]; then
  bash "$SL_SOURCE_DIR/scripts/deps.sh" --s3 || { echo "cannot install s3rver" >&2; exit 1; }
fi
sl_start_s3rver "$WORK/s3" lake || exit 1

make_project() { # dir name destination-toml
  mkdir -p "$1/data"
  cat > "$1/sluice.toml" <<TOML
[pipeline]
name = "$2"
source = "shop.source.yaml"
pipelines_dir = "wd"
dataset_name = "shop_data"
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
YAML
}
s3toml() { # prefix [secret]
  cat <<TOML
destination = "filesystem"
[destination.filesystem]
bucket_url = "s3://lake/$1"
[destination.filesystem.credentials]
aws_access_key_id = "${3:-S3RVER}"
aws_secret_access_key = "${2:-S3RVER}"
endpoint_url = "$S3_ENDPOINT"
region_name = "us-east-1"
TOML
}
write_run1() {
  printf '{"id": 1, "title": "a", "tags": ["x", "y"]}\n{"id": 2, "title": "b", "tags": []}\n' > "$1/data/pins1.jsonl"
  printf '{"id": 10, "name": "first"}\n{"id": 11, "name": "second"}\n' > "$1/data/boards1.jsonl"
}
write_run2() {
  rm -f "$1"/data/*.jsonl
  printf '{"id": 3, "title": "c", "tags": ["z"], "color": "red"}\n' > "$1/data/pins2.jsonl"
  printf '{"id": 12, "name": "third"}\n' > "$1/data/boards2.jsonl"
}

REF=$WORK/ref
S=$WORK/s3proj
make_project "$REF" ref 'destination = "duckdb"'
make_project "$S" fss3 "$(s3toml runs)"
q() { (cd "$REF" && "$SLUICE" pipeline ref query --pipelines-dir wd --format csv "$1" 2>&1) | tail -n +2; }

for P in "$REF" "$S"; do write_run1 "$P"; done
for P in "$REF" "$S"; do
  "$SLUICE" run "$P" > "$WORK/out" 2> "$WORK/err"; rc=$?
  check "run 1 in $(basename "$P") exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
done
for P in "$REF" "$S"; do write_run2 "$P"; done
for P in "$REF" "$S"; do
  "$SLUICE" run "$P" > "$WORK/out" 2> "$WORK/err"; rc=$?
  check "run 2 in $(basename "$P") exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
done

if command -v aws > /dev/null; then
  ls_out=$(sl_aws --endpoint-url "$S3_ENDPOINT" s3 ls --recursive s3://lake/runs/shop_data/ 2>&1)
  check "aws s3 ls: two pins objects" test "$(grep -c 'shop_data/pins/.*\.parquet$' <<< "$ls_out")" -eq 2
  check "aws s3 ls: one boards object (replaced)" test "$(grep -c 'shop_data/boards/.*\.parquet$' <<< "$ls_out")" -eq 1
  check "aws s3 ls: two _dlt_loads" test "$(grep -c '_dlt_loads/shop__.*\.jsonl$' <<< "$ls_out")" -eq 2
  check "aws s3 ls: init" grep -q 'shop_data/init$' <<< "$ls_out"
  # What the AWS CLI downloads is a local copy of the dataset: a pipeline of
  # the same name over that folder restores itself from it (`sync`) and reads
  # it back through its own query.
  M=$WORK/mirror
  make_project "$M" fss3 'destination = "filesystem"
[destination.filesystem]
bucket_url = "out"'
  sl_aws --endpoint-url "$S3_ENDPOINT" s3 cp --recursive --quiet s3://lake/runs/shop_data "$M/out/shop_data" 2> "$WORK/err"
  check "aws s3 cp ($(cat "$WORK/err"))" test -d "$M/out/shop_data/pins"
  D=$M/out/shop_data
  (cd "$M" && "$SLUICE" pipeline fss3 sync --pipelines-dir wd > "$WORK/out" 2>&1); rc=$?
  check "sync from the downloaded copy ($(tail -n 2 "$WORK/out"))" test $rc -eq 0
  mq() { (cd "$M" && "$SLUICE" pipeline fss3 query --pipelines-dir wd --format csv "$1" 2>&1) | tail -n +2; }
  check "pins from S3 = duckdb" eq "$(mq "SELECT id, title, color FROM pins ORDER BY id")" \
    "$(q "SELECT id, title, color FROM pins ORDER BY id")"
  check "child rows from S3 = duckdb" eq \
    "$(mq "SELECT p.id, t.value FROM pins p JOIN pins__tags t ON t._dlt_parent_id = p._dlt_id ORDER BY 1, 2")" \
    "$(q "SELECT p.id, t.value FROM pins p JOIN pins__tags t ON t._dlt_parent_id = p._dlt_id ORDER BY 1, 2")"
  check "boards from S3 replaced" eq "$(mq "SELECT id, name FROM boards ORDER BY id")" "12,third"
  check "state file in S3" test "$(ls "$D"/_dlt_pipeline_state/fss3__*.jsonl | wc -l)" -eq 2
else
  echo "SKIP: the AWS CLI is not installed (scripts/deps.sh --s3 installs awscli)" >&2
fi

# `pipeline query` on the bucket: the tables' objects are copied into a
# private folder (mkdtemp under $TMPDIR), read through the same views as a
# local folder, and the folder is removed afterwards, on errors too.
QT=$WORK/qtmp
mkdir -p "$QT"
ntmp() { find "$QT" -mindepth 1 -maxdepth 1 -name 'sluice_query_*' | wc -l; }
sq() { (cd "$S" && TMPDIR=$QT "$SLUICE" pipeline fss3 query --pipelines-dir wd "$@"); }
rq() { (cd "$REF" && "$SLUICE" pipeline ref query --pipelines-dir wd "$@"); }
check "no query folder before" test "$(ntmp)" -eq 0
sql='SELECT id, title, color FROM pins ORDER BY id'
sq --format csv "$sql" > "$WORK/qout" 2> "$WORK/qerr"; rc=$?
check "query on S3 exits 0 ($(cat "$WORK/qerr"))" test $rc -eq 0
check "query on S3: pins (csv) = duckdb" eq "$(cat "$WORK/qout")" "$(rq --format csv "$sql" 2>&1)"
check "query on S3: stdout is only the CSV" eq "$(head -n 1 "$WORK/qout")" "id,title,color"
sql='SELECT p.id, t.value FROM pins p JOIN pins__tags t ON t._dlt_parent_id = p._dlt_id ORDER BY 1, 2'
check "query on S3: child rows (json) = duckdb" eq "$(sq --json "$sql" 2>&1)" "$(rq --json "$sql" 2>&1)"
check "query on S3: child rows (csv) = duckdb" eq "$(sq --csv "$sql" 2>&1)" "$(rq --csv "$sql" 2>&1)"
sql='SELECT id, name FROM boards ORDER BY id'
check "query on S3: boards replaced (json) = duckdb" eq "$(sq --json "$sql" 2>&1)" "$(rq --json "$sql" 2>&1)"
check "query on S3: boards replaced" eq "$(sq --csv "$sql" 2>&1 | tail -n +2)" "12,third"
check "query on S3: _dlt_loads" eq "$(sq --csv "SELECT count(*) AS n FROM _dlt_loads WHERE status = 0" 2>&1)" "n
2"
check "query on S3: table format" grep -q '^(3 rows)$' <<< "$(sq 'SELECT id FROM pins' 2>&1)"
SLUICE_LOG_LEVEL=info sq --csv "SELECT 1 AS x" > "$WORK/qout" 2> "$WORK/qerr"
check "query on S3: info line counts the objects ($(cat "$WORK/qerr"))" \
  grep -q "query: [0-9]* object(s), [0-9]* bytes copied from s3://lake/runs/shop_data" "$WORK/qerr"
check "query on S3: the info line is not on stdout" eq "$(cat "$WORK/qout")" "x
1"
for bad in "DELETE FROM pins" "INSERT INTO pins (id) VALUES (9)" "COPY pins TO '$WORK/leak.csv'"; do
  sq "$bad" > "$WORK/qout" 2> "$WORK/qerr"; rc=$?
  check "query on S3 refused (exit 2, got $rc): $bad" test $rc -eq 2
  check "query on S3 refusal message: $(cat "$WORK/qerr")" grep -q "read-only query: .* is not allowed .*only SELECT" "$WORK/qerr"
done
check "query on S3: no file written by COPY" test ! -e "$WORK/leak.csv"
sq "SELECT * FROM read_text('/etc/hostname')" > "$WORK/qout" 2> "$WORK/qerr"; rc=$?
check "query on S3: read_text outside the copy refused (rc $rc): $(cat "$WORK/qerr")" \
  bash -c "[ $rc -ne 0 ] && grep -q 'Permission Error' '$WORK/qerr' && [ ! -s '$WORK/qout' ]"
sq "SELECT * FROM no_such_table" > "$WORK/qout" 2> "$WORK/qerr"; rc=$?
check "query on S3: a failing statement fails (rc $rc)" test $rc -ne 0
check "no query folder left behind in \$TMPDIR ($(ls "$QT"))" test "$(ntmp)" -eq 0
# The secret key, set to a distinctive value, shows in no output of a query
# (s3rver does not check signatures, so the query answers).
SEC=$WORK/sec
make_project "$SEC" fss3 "$(s3toml runs 'Zq9-SECRET-sluice-query-4711')"
(cd "$SEC" && TMPDIR=$QT "$SLUICE" -v -v pipeline fss3 query --pipelines-dir "$S/wd" --json "SELECT id FROM pins ORDER BY id") \
  > "$WORK/qout" 2> "$WORK/qerr"; rc=$?
check "query with a distinctive secret (rc $rc): $(head -c 300 "$WORK/qerr")" \
  eq "$(cat "$WORK/qout")" "$(rq --json "SELECT id FROM pins ORDER BY id" 2>&1)"
check "the secret key is in no query output" bash -c "! grep -q 'Zq9-SECRET' '$WORK/qout' '$WORK/qerr'"
where=$(sq --csv "SELECT current_setting('allowed_directories')::VARCHAR AS d" 2>&1 | tail -n +2)
check "the copy is a private folder under \$TMPDIR: $where" grep -q "$QT/sluice_query_......" <<< "$where"
check "no query folder left behind ($(ls "$QT"))" test "$(ntmp)" -eq 0

out=$("$SLUICE" pipeline fss3 info --pipelines-dir "$S/wd" 2>&1)
check "info counts rows in S3: $out" grep -q "pins .* 3 rows" <<< "$out"

rm -rf "$S/wd"
(cd "$S" && "$SLUICE" pipeline fss3 sync > "$WORK/out" 2> "$WORK/err"); rc=$?
check "sync from the bucket exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
check "sync restored the schema" grep -q '"color"' "$S/wd/fss3/schema.json"
check "sync restored the state" test -f "$S/wd/fss3/state.json"

# Killed during the upload, re-run: exactly the right objects.
K=$WORK/kill
make_project "$K" fskill "$(s3toml killed)"
write_run1 "$K"
"$SLUICE" run "$K" > /dev/null 2>&1
write_run2 "$K"
SLUICE_TEST_CRASH=fs_file:2 "$SLUICE" run "$K" > /dev/null 2>&1; rc=$?
check "killed mid-upload (rc $rc)" test $rc -ne 0
SLUICE_LOG_LEVEL=debug "$SLUICE" run "$K" --pending-only > "$WORK/out" 2> "$WORK/err"; rc=$?
check "rerun exits 0 ($(grep -v ' debug ' "$WORK/err"))" test $rc -eq 0
# The load first clears multipart uploads a killed run left (ListMultipartUploads
# under the dataset's prefix; tests/unit/test_aws.c on a fake S3): s3rver
# answers NotImplemented, which the load notes and goes on.
check "rerun looked for left-over multipart uploads" grep -q "s3://lake/killed/shop_data/: the server has no ListMultipartUploads" "$WORK/err"
out=$("$SLUICE" pipeline fskill info --pipelines-dir "$K/wd" 2>&1)
check "rerun: pins 3 rows" grep -q "pins .* 3 rows" <<< "$out"
check "rerun: boards 1 row" grep -q "boards .* 1 rows\|boards .* 1 row" <<< "$out"

# Unknown key: S3's error, and the secret never printed.
B=$WORK/bad
make_project "$B" fsbad "$(s3toml bad SUPERSECRETVALUE NOSUCHKEY)"
write_run1 "$B"
"$SLUICE" run "$B" > "$WORK/out" 2> "$WORK/err"; rc=$?
check "bad key fails" test $rc -ne 0
check "bad key error names S3's code: $(cat "$WORK/err")" grep -q "InvalidAccessKeyId" "$WORK/err"
check "secret not printed" bash -c "! grep -rq SUPERSECRETVALUE '$WORK/err' '$WORK/out' '$B/wd'"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
