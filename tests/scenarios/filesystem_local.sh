#!/usr/bin/env bash
# The filesystem destination on a local folder, end to end through `sluice run`:
# Parquet (zstd) and gzip'ed JSON lines, append / replace / merge (loaded as
# append, as dlt's filesystem does), a second run with updated and new rows and
# a new column, dlt's system files, `sync` from the folder, and a load killed
# at each step then re-run to exactly the right files. Everything written is
# read back through the filesystem pipeline's own `query` (views over its
# files in an in-memory DuckDB) and compared with what the DuckDB destination
# holds for the same input; that query reads no file outside the dataset and
# refuses writes.
set -u
SLUICE=${SLUICE:?path of the sluice binary}
WORK=$(mktemp -d /tmp/sl_fs_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
pass=0
fail=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
eq() { [ "$1" = "$2" ] || { echo "  expected: $2" >&2; echo "  got:      $1" >&2; return 1; }; }

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
  - name: users
    primary_key: id
    write_disposition: merge
    file: {path: 'data/users*.jsonl'}
YAML
}

REF=$WORK/ref
PQ=$WORK/pq
JS=$WORK/js
make_project "$REF" ref 'destination = "duckdb"'
make_project "$PQ" fspq 'destination = "filesystem"
[destination.filesystem]
bucket_url = "out"'
make_project "$JS" fsjs 'destination = "filesystem"
[destination.filesystem]
bucket_url = "file://'"$JS"'/out"
loader_file_format = "jsonl"
compression = "gzip"'

write_run1() {
  printf '{"id": 1, "title": "a", "tags": ["x", "y"], "created_at": "2024-01-02T03:04:05Z"}\n{"id": 2, "title": "b", "tags": [], "created_at": "2024-01-03T00:00:00Z"}\n' > "$1/data/pins1.jsonl"
  printf '{"id": 10, "name": "first"}\n{"id": 11, "name": "second"}\n' > "$1/data/boards1.jsonl"
  printf '{"id": 100, "name": "ann", "score": 1.5}\n{"id": 101, "name": "bob", "score": 2}\n' > "$1/data/users1.jsonl"
}
write_run2() {
  rm -f "$1"/data/*.jsonl
  printf '{"id": 3, "title": "c", "tags": ["z"], "created_at": "2024-02-01T00:00:00Z", "color": "red"}\n' > "$1/data/pins2.jsonl"
  printf '{"id": 12, "name": "third"}\n' > "$1/data/boards2.jsonl"
  printf '{"id": 101, "name": "bobby", "score": 3}\n{"id": 102, "name": "cy", "score": 4}\n' > "$1/data/users2.jsonl"
}

q() { # SQL through the reference DuckDB pipeline, CSV without header
  (cd "$REF" && "$SLUICE" pipeline ref query --pipelines-dir wd --format csv "$1" 2>&1) | tail -n +2
}

fq() { # dir pipeline SQL [options]: the filesystem pipeline's own query
  (cd "$1" && "$SLUICE" pipeline "$2" query --pipelines-dir wd "${@:4}" "$3" 2>&1)
}
fqc() { fq "$1" "$2" "$3" --format csv | tail -n +2; } # CSV without header
pqq() { fqc "$PQ" fspq "$1"; }
jsq() { fqc "$JS" fsjs "$1"; }

for P in "$REF" "$PQ" "$JS"; do write_run1 "$P"; done
for P in "$REF" "$PQ" "$JS"; do
  "$SLUICE" run "$P" > "$WORK/out" 2> "$WORK/err"; rc=$?
  check "run 1 in $(basename "$P") exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
done
D=$PQ/out/shop_data
check "init file" test -f "$D/init"
check "pins parquet written" test "$(ls "$D"/pins/*.parquet 2>/dev/null | wc -l)" -eq 1
check "child table folder" test "$(ls "$D"/pins__tags/*.parquet 2>/dev/null | wc -l)" -eq 1
check "a _dlt_loads file" test "$(ls "$D"/_dlt_loads/shop__*.jsonl 2>/dev/null | wc -l)" -eq 1
check "a _dlt_version file" test "$(ls "$D"/_dlt_version/shop__*.jsonl 2>/dev/null | wc -l)" -eq 1
check "a state file" test "$(ls "$D"/_dlt_pipeline_state/fspq__*.jsonl 2>/dev/null | wc -l)" -eq 1
check "jsonl.gz written" test "$(ls "$JS"/out/shop_data/pins/*.jsonl.gz 2>/dev/null | wc -l)" -eq 1
check "parquet is zstd" eq "$(pqq "SELECT DISTINCT compression FROM parquet_metadata('$D/pins/*.parquet')")" "ZSTD"

for P in "$REF" "$PQ" "$JS"; do write_run2 "$P"; done
for P in "$REF" "$PQ" "$JS"; do
  "$SLUICE" run "$P" > "$WORK/out" 2> "$WORK/err"; rc=$?
  check "run 2 in $(basename "$P") exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
done


# append: every row, same values as DuckDB, the new column too
want=$(q "SELECT id, title, created_at, color FROM pins ORDER BY id")
check "pins (parquet) = duckdb" eq "$(pqq "SELECT id, title, created_at, color FROM pins ORDER BY id")" "$want"
check "pins (jsonl) = duckdb" eq "$(jsq "SELECT id, title, created_at, color FROM pins ORDER BY id")" "$want"
check "pins count 3" eq "$(pqq "SELECT count(*) FROM pins")" "3"
want=$(q "SELECT p.id, t.value FROM pins p JOIN pins__tags t ON t._dlt_parent_id = p._dlt_id ORDER BY 1, 2")
check "child rows join their parents (parquet)" eq \
  "$(pqq "SELECT p.id, t.value FROM pins p JOIN pins__tags t ON t._dlt_parent_id = p._dlt_id ORDER BY 1, 2")" "$want"
check "child rows join their parents (jsonl)" eq \
  "$(jsq "SELECT p.id, t.value FROM pins p JOIN pins__tags t ON t._dlt_parent_id = p._dlt_id ORDER BY 1, 2")" "$want"
check "created_at is a timestamp in parquet" eq "$(pqq "SELECT DISTINCT typeof(created_at) FROM pins")" "TIMESTAMP WITH TIME ZONE"
check "created_at typed from the schema in jsonl" eq "$(jsq "SELECT DISTINCT typeof(created_at) FROM pins")" "TIMESTAMP WITH TIME ZONE"
# replace: only the last run's rows
check "boards replaced (parquet)" eq "$(pqq "SELECT id, name FROM boards ORDER BY id")" "$(q "SELECT id, name FROM boards ORDER BY id")"
check "boards has one file" test "$(ls "$D"/boards/*.parquet | wc -l)" -eq 1
check "boards replaced (jsonl)" eq "$(jsq "SELECT id, name FROM boards ORDER BY id")" "12,third"
# merge on a filesystem: appended (dlt's filesystem without a table format)
check "users appended" eq "$(pqq "SELECT count(*) FROM users")" "4"
check "users latest = duckdb merge" eq \
  "$(pqq "SELECT id, name, score FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY _dlt_load_id DESC) rn FROM users) WHERE rn = 1 ORDER BY id")" \
  "$(q "SELECT id, name, score FROM users ORDER BY id")"
check "two loads" test "$(ls "$D"/_dlt_loads/*.jsonl | wc -l)" -eq 2
check "_dlt_loads row" eq "$(pqq "SELECT count(*) FROM _dlt_loads WHERE status = 0 AND schema_name = 'shop'")" "2"
check "_dlt_loads (jsonl destination)" eq "$(jsq "SELECT count(*) FROM _dlt_loads WHERE status = 0")" "2"

# `sluice pipeline NAME query`: CSV and JSON as the DuckDB destination prints them
for P in PQ JS; do
  dir=${!P}; name=$([ $P = PQ ] && echo fspq || echo fsjs)
  sql='SELECT id, title, created_at, color FROM pins ORDER BY id'
  check "query --csv ($name) = duckdb" eq "$(fq "$dir" $name "$sql" --csv)" "$(fq "$REF" ref "$sql" --csv)"
  sql='SELECT p.id, t.value, p.created_at FROM pins p JOIN pins__tags t ON t._dlt_parent_id = p._dlt_id ORDER BY 1, 2'
  check "query --json ($name) = duckdb" eq "$(fq "$dir" $name "$sql" --json)" "$(fq "$REF" ref "$sql" --json)"
  check "query table ($name)" grep -q '^(3 rows)$' <<< "$(fq "$dir" $name 'SELECT id FROM pins')"
  # read-only: writes refused with exit 2, files outside the dataset unreachable
  for bad in "DELETE FROM pins" "INSERT INTO pins (id) VALUES (9)" "COPY pins TO '$WORK/leak.csv'" \
             "CREATE TABLE x AS SELECT 1" "SELECT 1; DROP VIEW pins"; do
    (cd "$dir" && "$SLUICE" pipeline $name query --pipelines-dir wd "$bad" > "$WORK/out" 2> "$WORK/err"); rc=$?
    check "refused in $name (exit 2, got $rc): $bad" test $rc -eq 2
    check "refusal message in $name: $(cat "$WORK/err")" grep -q "read-only query: .* is not allowed .*only SELECT" "$WORK/err"
  done
  check "no file written by COPY" test ! -e "$WORK/leak.csv"
  (cd "$dir" && "$SLUICE" pipeline $name query --pipelines-dir wd "SELECT * FROM read_text('/etc/hostname')" > "$WORK/out" 2> "$WORK/err"); rc=$?
  check "read_text outside the dataset refused in $name (rc $rc): $(cat "$WORK/err")" \
    bash -c "[ $rc -ne 0 ] && grep -q 'Permission Error' '$WORK/err' && [ ! -s '$WORK/out' ]"
  check "read_csv of sluice.toml refused in $name" bash -c "! grep -q pipeline <<< \"\$(cd '$dir' && '$SLUICE' pipeline $name query --pipelines-dir wd \"SELECT * FROM read_csv('$dir/sluice.toml', header = false, sep = '|')\" 2>/dev/null)\""
done
check "a filesystem query counts the rows as info does" eq "$(pqq "SELECT count(*) FROM pins__tags")" "$(q "SELECT count(*) FROM pins__tags")"

out=$("$SLUICE" pipeline fspq info --pipelines-dir "$PQ/wd" 2>&1)
check "info shows parquet rows" grep -q "pins .* 3 rows" <<< "$out"

# sync: the working folder is restored from the files
rm -rf "$PQ/wd"
(cd "$PQ" && "$SLUICE" pipeline fspq sync > "$WORK/out" 2> "$WORK/err"); rc=$?
check "sync exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
check "sync restored the state" test -f "$PQ/wd/fspq/state.json"
check "sync restored the schema" grep -q '"color"' "$PQ/wd/fspq/schema.json"

# Killed during the load at each point, then re-run: exactly the right rows.
for point in fs_file:1 fs_file:3 fs_replaced:1 fs_commit:1; do
  K=$WORK/kill_${point%%:*}_${point##*:}
  make_project "$K" fskill 'destination = "filesystem"
[destination.filesystem]
bucket_url = "out"'
  write_run1 "$K"
  "$SLUICE" run "$K" > /dev/null 2>&1
  write_run2 "$K"
  SLUICE_TEST_CRASH=$point "$SLUICE" run "$K" > /dev/null 2>&1; rc=$?
  check "killed at $point (rc $rc)" test $rc -ne 0
  "$SLUICE" run "$K" --pending-only > "$WORK/out" 2> "$WORK/err"; rc=$?
  check "rerun after $point exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
  KD=$K/out/shop_data
  kq() { fqc "$K" fskill "$1"; }
  check "after $point: pins exact" eq "$(kq "SELECT id, title FROM pins ORDER BY id")" "$(q "SELECT id, title FROM pins ORDER BY id")"
  check "after $point: boards exact" eq "$(kq "SELECT id FROM boards ORDER BY id")" "12"
  check "after $point: users 4" eq "$(kq "SELECT count(*) FROM users")" "4"
  check "after $point: two loads" test "$(ls "$KD"/_dlt_loads/*.jsonl | wc -l)" -eq 2
done

# A custom layout with dlt's placeholders: the schema name before the table,
# a date folder from the load id (UTC), no {ext} (dlt appends it). Replace
# still removes the earlier files of the table and its children (under
# shop/boards/, across date folders), query finds every file, sync restores.
L=$WORK/layout
make_project "$L" fslay 'destination = "filesystem"
[destination.filesystem]
bucket_url = "out"
layout = "{schema_name}/{table_name}/{YYYY}-{MM}-{DD}/{load_id}.{file_id}"'
write_run1 "$L"
"$SLUICE" run "$L" > /dev/null 2> "$WORK/err"; rc=$?
check "layout run 1 exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
LD=$L/out/shop_data
lid1=$(ls "$LD"/_dlt_loads/ | sed 's/^shop__//; s/\.jsonl$//')
day1=$(date -u -d "@${lid1%%.*}" +%Y-%m-%d)
check "layout: files under shop/<table>/<date of the load id>/ ($lid1 -> $day1)" \
  test "$(ls "$LD/shop/pins/$day1/$lid1".*.parquet 2>/dev/null | wc -l)" -eq 1
check "layout: child tables too" test "$(ls "$LD/shop/pins__tags/$day1/$lid1".*.parquet 2>/dev/null | wc -l)" -eq 1
# The second load runs as of another day: its date folder differs from run 1's.
mv "$LD/shop/boards/$day1" "$LD/shop/boards/2001-02-03"
write_run2 "$L"
"$SLUICE" run "$L" > /dev/null 2> "$WORK/err"; rc=$?
check "layout run 2 exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
check "layout: replace removed the earlier boards files, other date folders too" \
  eq "$(cd "$LD/shop/boards" && find . -name '*.parquet' | wc -l) $(find "$LD/shop/boards/2001-02-03" -type f 2>/dev/null | wc -l)" "1 0"
check "layout: appended pins kept both files" test "$(find "$LD/shop/pins" -name '*.parquet' | wc -l)" -eq 2
lq() { fqc "$L" fslay "$1"; }
check "layout: query reads every file" eq "$(lq "SELECT id, title, color FROM pins ORDER BY id")" \
  "$(q "SELECT id, title, color FROM pins ORDER BY id")"
check "layout: query boards replaced" eq "$(lq "SELECT id FROM boards")" "12"
check "layout: child rows" eq "$(lq "SELECT count(*) FROM pins__tags")" "$(q "SELECT count(*) FROM pins__tags")"
rm -rf "$L/wd"
(cd "$L" && "$SLUICE" pipeline fslay sync > "$WORK/out" 2> "$WORK/err"); rc=$?
check "layout: sync exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
check "layout: sync restored the schema" grep -q '"color"' "$L/wd/fslay/schema.json"
check "layout: query after sync" eq "$(lq "SELECT count(*) FROM pins")" "3"
# drop under a {schema_name} layout removes the resource's files (they were left before)
(cd "$L" && "$SLUICE" pipeline fslay drop pins > "$WORK/out" 2> "$WORK/err"); rc=$?
check "layout: drop pins exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
check "layout: drop removed pins and pins__tags files" \
  eq "$(find "$LD/shop/pins" "$LD/shop/pins__tags" -type f 2>/dev/null | wc -l)" 0
check "layout: drop kept boards" test "$(find "$LD/shop/boards" -name '*.parquet' | wc -l)" -eq 1
# Layouts dlt refuses are refused before anything is written.
for bad in '{YYYY}/{table_name}/{load_id}.{file_id}.{ext}' '{table_name}{load_id}.{file_id}.{ext}' \
           '{table_name}/{nope}/{load_id}.{file_id}.{ext}' '{table_name}/{load_id}.{ext}'; do
  B=$WORK/badlayout
  rm -rf "$B"
  make_project "$B" fsbadl "destination = \"filesystem\"
[destination.filesystem]
bucket_url = \"out\"
layout = \"$bad\""
  write_run1 "$B"
  "$SLUICE" run "$B" > /dev/null 2> "$WORK/err"; rc=$?
  check "layout $bad refused (rc $rc): $(cat "$WORK/err")" bash -c "[ $rc -ne 0 ] && grep -q 'layout' '$WORK/err' && [ ! -d '$B/out/shop_data/pins' ]"
  case $bad in
    '{YYYY}'*) why='only {schema_name} may come before {table_name}, not {YYYY}' ;;
    *'{nope}'*) why='unknown placeholder {nope}' ;;
    '{table_name}{'*) why='{table_name} needs a separator after it' ;;
    *) why='must be relative and hold {table_name}, {load_id} and {file_id}' ;;
  esac
  check "layout $bad: the reason ($why)" grep -qF "$why" "$WORK/err"
done

# Bad configuration: a clear error.
B=$WORK/bad
make_project "$B" fsbad 'destination = "filesystem"'
write_run1 "$B"
"$SLUICE" run "$B" > /dev/null 2> "$WORK/err"; rc=$?
check "missing bucket_url fails" test $rc -ne 0
check "missing bucket_url message: $(cat "$WORK/err")" grep -q "bucket_url" "$WORK/err"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
