#!/usr/bin/env bash
# The Pinterest simulator pipeline (examples/pinterest: append, replace and
# merge resources with child tables) loaded into four destinations from the
# same simulator: DuckDB, Athena (s3rver + the stand-in; merge tables Iceberg,
# pins and boards Iceberg by `table_format: iceberg`), and the filesystem
# destination on s3rver and on a local folder. Then the simulator serves its
# second generation (POST /__admin/generation?n=2: new rows under every
# parent, every third row updated, a new field sim_revision) and each
# destination loads again. After each run every table must hold exactly what
# DuckDB holds: the row count and an md5 of the sorted rows (all columns but
# the random _dlt_id/_dlt_parent_id/_dlt_root_id and _dlt_load_id, each child
# row with its parent row). Athena is read through the stand-in by the AWS
# CLI; the filesystem pipelines by their own `query` (DuckDB over the files).
# On the filesystem a merge is an append (as dlt's filesystem without a table
# format): its newest row per primary key (greatest _dlt_load_id) with those
# rows' children must equal DuckDB's merged table, on S3 and locally alike.
# Needs SLUICE, SL_BINARY_DIR (the stand-in) and s3rver (scripts/deps.sh --s3).
set -u
SLUICE=${SLUICE:?path of the sluice binary}
SRC=${SL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export SL_SOURCE_DIR=$SRC
: "${SL_BINARY_DIR:?build folder (for the Athena stand-in)}"
. "$SRC/tests/servers/athena_standin_env.sh"
WORK=$(mktemp -d /tmp/sl_pdest_XXXXXX)
SIM_PID=
S3_PID=
ATHENA_PID=
trap 'sl_stop $SIM_PID $ATHENA_PID $S3_PID; rm -rf "$WORK"' EXIT
pass=0
fail=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
eq() { [ "$1" = "$2" ] || { diff <(echo "$2") <(echo "$1") | head -20 >&2; return 1; }; }
now_ms() { date +%s%3N; }

[ -x "$SL_S3RVER" ] || bash "$SRC/scripts/deps.sh" --s3 || exit 1
command -v aws > /dev/null || { echo "the AWS CLI is needed (scripts/deps.sh --s3)" >&2; exit 1; }

# ---- servers ------------------------------------------------------------------------
python3 "$SRC/tests/servers/pinterest_sim.py" --port 0 --port-file "$WORK/port" --size "${SIM_SIZE:-30}" \
  > "$WORK/sim.log" 2>&1 &
SIM_PID=$!
sl_start_s3rver "$WORK/s3" lake || exit 1
sl_start_athena "$WORK/s3" || exit 1
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || { echo "the simulator did not start: $(cat "$WORK/sim.log")" >&2; exit 1; }
SIM=http://127.0.0.1:$(cat "$WORK/port")
export SOURCES__PINTEREST__BASE_URL=$SIM/v5

# ---- the projects: examples/pinterest with a disposition per resource -----------------
tmpl=$WORK/template
cp -r "$SRC/examples/pinterest" "$tmpl"
rm -rf "$tmpl/.sluice/pipelines" "$tmpl"/*.duckdb
cp "$tmpl/.sluice/secrets.toml.example" "$tmpl/.sluice/secrets.toml"
declare -A DISP=([ad_accounts]=replace [campaigns]=merge [ad_groups]=append [ads]=merge
                 [boards]=replace [board_sections]=replace [board_section_pins]=merge
                 [board_pins]=append [pins]=append)
y=$tmpl/pinterest.source.yaml
for r in "${!DISP[@]}"; do
  sed -i "s/^  - name: $r\$/&\n    write_disposition: ${DISP[$r]}/" "$y"
done
# Per resource: pins (append) and boards (replace) are Iceberg tables on
# Athena; the other destinations take the key and ignore it.
for r in pins boards; do sed -i "s/^  - name: $r\$/&\n    table_format: iceberg/" "$y"; done
# One level of child tables keeps the Athena run short (several statements a table).
sed -i 's/^max_table_nesting: .*/max_table_nesting: 1/' "$y"
check "dispositions set" test "$(grep -c '^    write_disposition:' "$y")" -eq 9
check "table formats set" test "$(grep -c '^    table_format: iceberg' "$y")" -eq 2

s3creds() {
  cat <<TOML
[destination.filesystem.credentials]
aws_access_key_id = "S3RVER"
aws_secret_access_key = "S3RVER"
endpoint_url = "$S3_ENDPOINT"
region_name = "us-east-1"
TOML
}
new_project() { # dir destination config-toml
  cp -r "$tmpl" "$1"
  sed -i "s/^\[pipeline\]\$/&\ndestination = \"$2\"\ndataset_name = \"pins_data\"/" "$1/sluice.toml"
  printf '%s\n' "$3" >> "$1/.sluice/config.toml"
}
DUCK=$WORK/duck
ATH=$WORK/ath
FS3=$WORK/fs3
FSL=$WORK/fsl
new_project "$DUCK" duckdb ""
new_project "$ATH" athena "[destination.filesystem]
bucket_url = \"s3://lake/ath\"
$(s3creds)
[destination.athena]
endpoint_url = \"$ATHENA_ENDPOINT\"
query_result_bucket = \"s3://lake/results/\""
new_project "$FS3" filesystem "[destination.filesystem]
bucket_url = \"s3://lake/fs\"
$(s3creds)"
new_project "$FSL" filesystem "[destination.filesystem]
bucket_url = \"out\""

sq() { # dir sql: one query through `sluice pipeline pinterest query`, CSV rows without the header
  (cd "$1" && "$SLUICE" -q pipeline pinterest query --pipelines-dir .sluice/pipelines --format csv "$2" 2>&1) |
    tail -n +2 | tr -d '"'
}
aq() { sl_athena_sql pins_data "$1" 2>&1 | tr -d '"'; }

# Per table: "table rows md5". A child row carries its parent row (one level
# of nesting), so rows attached to the wrong parent change the hash; values
# are compared as text (timestamps as epoch milliseconds: Athena's precision,
# and the stand-in's Iceberg timestamps have no zone). With dedup, merge roots
# keep their newest row per primary key (the filesystem's merge is an append).
hash_sql() { # schema.json dedup(0|1)
  python3 - "$1" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
dedup = sys.argv[2] == "1"
tables = s["tables"]
IDS = {"_dlt_id", "_dlt_parent_id", "_dlt_root_id", "_dlt_load_id"}
def q(n): return '"%s"' % n.replace('"', '""')
def root_of(t):
    while tables[t].get("parent"): t = tables[t]["parent"]
    return t
def source(t):
    """The rows of t as this destination should have them after a merge."""
    r = tables[t]
    if dedup and not r.get("parent") and r.get("write_disposition") == "merge":
        pk = [c for c, v in r["columns"].items() if v.get("primary_key")]
        return "(SELECT * FROM %s QUALIFY row_number() OVER (PARTITION BY %s ORDER BY _dlt_load_id DESC) = 1)" % (
            q(t), ", ".join(q(c) for c in pk))
    return q(t)
def row(t, alias):
    parts = []
    for c, v in tables[t]["columns"].items():
        if c in IDS: continue
        e = "%s.%s" % (alias, q(c))
        e = "CAST(epoch_ms(%s) AS VARCHAR)" % e if v.get("data_type") == "timestamp" else "CAST(%s AS VARCHAR)" % e
        parts.append("coalesce(%s, '\\N')" % e)
    return "concat_ws('|', %s)" % ", ".join(parts)
out = []
for t in sorted(tables):
    if t.startswith("_dlt"): continue
    p = tables[t].get("parent")
    if p:
        frm = "%s c JOIN %s p ON c._dlt_parent_id = p._dlt_id" % (q(t), source(p))
        j = "%s || ' <- ' || %s" % (row(t, "c"), row(p, "p"))
    else:
        frm = "%s c" % source(t)
        j = row(t, "c")
    out.append("(SELECT '%s' || ' ' || count(*) || ' ' || coalesce(md5(string_agg(j, chr(10) ORDER BY j)), '-') AS h "
               "FROM (SELECT %s AS j FROM %s))" % (t, j, frm))
print("SELECT h FROM (%s) ORDER BY h" % " UNION ALL ".join(out))
PY
}

run_all() { # label: the four pipelines, one after the other, each timed
  local d t0 rc
  for d in "$DUCK" "$ATH" "$FS3" "$FSL"; do
    t0=$(now_ms)
    (cd "$d" && exec env SLUICE_LOG_LEVEL=debug "$SLUICE" run . > "$d.out" 2> "$d.log"); rc=$?
    TIMES="$TIMES $(basename "$d") $(($(now_ms) - t0)) ms;"
    check "$1: run in $(basename "$d") exits 0 ($(grep -v ' debug ' "$d.log" | tail -n 3))" test $rc -eq 0
  done
}

compare_all() { # label
  local schema=$DUCK/.sluice/pipelines/pinterest/schema.json ref got
  ref=$(sq "$DUCK" "$(hash_sql "$schema" 0)")
  check "$1: duckdb holds every table, none empty" bash -c \
    "[ \$(wc -l <<< '$ref') -ge 12 ] && ! grep -q ' 0 -$' <<< '$ref'"
  got=$(aq "$(hash_sql "$schema" 0)")
  check "$1: athena (through the stand-in, by the AWS CLI) = duckdb" eq "$got" "$ref"
  got=$(sq "$FS3" "$(hash_sql "$schema" 1)")
  check "$1: filesystem on s3rver (newest row per key) = duckdb" eq "$got" "$ref"
  got=$(sq "$FSL" "$(hash_sql "$schema" 1)")
  check "$1: local filesystem (newest row per key) = duckdb" eq "$got" "$ref"
  # Without the dedup the filesystem holds every version: S3 and local alike.
  check "$1: filesystem on S3 = local, every version" eq "$(sq "$FS3" "$(hash_sql "$schema" 0)")" \
    "$(sq "$FSL" "$(hash_sql "$schema" 0)")"
  REF=$ref
}

TIMES=
run_all "run 1"
compare_all "run 1"
REF1=$REF
echo "run 1: $(wc -l <<< "$REF1") tables, $(awk '{ n += $2 } END { print n }' <<< "$REF1") rows;$TIMES"

# ---- the second generation: new and updated rows, a new field -----------------------------
curl -s -XPOST "$SIM/__admin/generation?n=2" > "$WORK/gen" 2>&1
check "simulator switched to generation 2 ($(cat "$WORK/gen"))" grep -q '"generation": *2' "$WORK/gen"
TIMES=
run_all "run 2"
compare_all "run 2"
echo "run 2: $(wc -l <<< "$REF") tables, $(awk '{ n += $2 } END { print n }' <<< "$REF") rows;$TIMES"
check "run 2 changed the tables" bash -c "[ '$(sed 's/ [^ ]*$//' <<< "$REF1")' != '$(sed 's/ [^ ]*$//' <<< "$REF")' ]"

# The new column is everywhere, NULL in the rows of run 1.
rev_sql=
for t in pins boards campaigns; do
  rev_sql="$rev_sql${rev_sql:+ UNION ALL }SELECT '$t ' || count(*) || ' ' || count(sim_revision) AS r FROM $t"
done
rev_sql="SELECT r FROM ($rev_sql) ORDER BY r"
want=$(sq "$DUCK" "$rev_sql")
while read -r t n r; do
  check "new column sim_revision in $t: in some rows, NULL in run 1's ($n rows, $r with it)" test "$r" -gt 0 -a "$r" -lt "$n"
done <<< "$want"
check "the new column in athena (AWS CLI)" eq "$(aq "$rev_sql")" "$want"
# Merge replaced the updated rows (one row per key); append kept both versions.
check "campaigns merged: one row per id" eq "$(sq "$DUCK" 'SELECT count(*) - count(DISTINCT id) FROM campaigns')" 0
check "campaigns updated in athena" eq "$(aq "SELECT count(*) FROM campaigns WHERE name LIKE '% (rev 2)'")" \
  "$(sq "$DUCK" "SELECT count(*) FROM campaigns WHERE name LIKE '% (rev 2)'")"
check "pins appended: both versions" test "$(sq "$DUCK" 'SELECT count(*) - count(DISTINCT id) FROM pins')" -gt 0
check "filesystem merge is an append: campaigns has old versions" test \
  "$(sq "$FSL" 'SELECT count(*) - count(DISTINCT id) FROM campaigns')" -gt 0
check "filesystem merge on S3 is an append too" eq "$(sq "$FS3" 'SELECT count(*) FROM campaigns')" \
  "$(sq "$FSL" 'SELECT count(*) FROM campaigns')"
check "two loads everywhere" eq "$(sq "$DUCK" 'SELECT count(*) FROM _dlt_loads') $(aq 'SELECT count(*) FROM _dlt_loads') $(sq "$FS3" 'SELECT count(*) FROM _dlt_loads') $(sq "$FSL" 'SELECT count(*) FROM _dlt_loads')" "2 2 2 2"

# ---- Athena: table kinds and the types of the DDL (dlt's mapping) ----------------------------
# Through sluice's own Athena client (SHOW is read-only), faster than the AWS CLI.
kind() { sq "$ATH" "SHOW TBLPROPERTIES $1" | grep -q '^table_type,ICEBERG$' && echo iceberg || echo hive; }
check "pins (append, table_format: iceberg) is Iceberg" eq "$(kind pins)" iceberg
check "boards (replace, table_format: iceberg) is Iceberg" eq "$(kind boards)" iceberg
check "campaigns (merge) is Iceberg" eq "$(kind campaigns)" iceberg
children=$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["tables"]
print(" ".join(sorted(t for t, v in s.items() if v.get("parent") in ("ads", "ad_groups", "ad_accounts"))))' \
  "$DUCK/.sluice/pipelines/pinterest/schema.json")
for c in $children; do
  case $c in ads__*) want=iceberg ;; *) want=hive ;; esac
  check "child table $c is $want as its root" eq "$(kind "$c")" $want
done
check "child tables of ads, ad_groups, ad_accounts checked ($children)" test "$(wc -w <<< "$children")" -ge 3
check "board_pins (append) is Hive" eq "$(kind board_pins)" hive
check "ad_accounts (replace) is Hive" eq "$(kind ad_accounts)" hive
ls_out=$(sl_aws --endpoint-url "$S3_ENDPOINT" s3 ls --recursive s3://lake/ath/pins_data/ 2>&1)
check "staging objects removed after the loads" test "$(grep -c '_staging/' <<< "$ls_out")" -eq 0
check "hive table board_pins: two loads of files" test "$(grep -c 'pins_data/board_pins/.*\.parquet$' <<< "$ls_out")" -ge 2

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
