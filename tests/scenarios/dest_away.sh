#!/usr/bin/env bash
# A destination that goes away mid-load, with the Pinterest simulator
# pipeline: (a) another process opens the DuckDB file (libduckdb through
# ctypes, which takes DuckDB's file lock) while `sluice run` extracts: the
# load fails with a clear error naming the file, the normalized package is
# kept, and the next run (lock released) loads it with exactly the
# simulator's rows. (b) The S3 of a filesystem destination answers 500 to
# every PUT after the first few (s3rver behind tests/servers/s3_fault_proxy.py):
# the run fails naming S3, the status and the object; the next run completes
# with the right rows. A few transient 500s are retried within one run.
set -u
SLUICE=${SLUICE:?path of the sluice binary}
SRC=${SL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export SL_SOURCE_DIR=$SRC
WORK=$(mktemp -d /tmp/sl_away_XXXXXX)
. "$SRC/tests/scenarios/lib/common.sh"
. "$SRC/tests/servers/athena_standin_env.sh"
HOLD_PID=
S3_PID=
PROXY_PID=
trap 'sl_stop $HOLD_PID $PROXY_PID $S3_PID; sl_stop_sims; rm -rf "$WORK"' EXIT

sl_start_sim sim --size 20 --latency-ms 30 || exit 1
export SOURCES__PINTEREST__BASE_URL=$SIM_BASE/v5
TABLES="ad_accounts:/ad_accounts campaigns:/ad_accounts/{ad_account_id}/campaigns ads:/ad_accounts/{ad_account_id}/ads pins:/pins board_pins:/boards/{board_id}/pins board_section_pins:/boards/{board_id}/sections/{section_id}/pins"
rows_match() { # label dir: every table's count in one query (an S3 query copies the files once)
  local tp t path sel="" want="" got
  for tp in $TABLES; do
    t=${tp%%:*} path=${tp#*:}
    sel="$sel${sel:+, }(SELECT count(*) FROM $t)"
    want="$want${want:+,}$(sl_expected_items "$SIM_BASE" "$path")"
  done
  sel="$sel, (SELECT count(DISTINCT id) FROM pins), (SELECT count(*) FROM pins)"
  got=$( (cd "$2" && "$SLUICE" pipeline pinterest query --pipelines-dir .sluice/pipelines --format csv \
    "SELECT $sel" 2>&1) | tail -1)
  check "$1: tables hold the simulator's rows ($TABLES)" eq "${got%,*,*}" "$want"
  local u=${got#"${got%,*,*}",}
  check "$1: pins ids unique ($u)" eq "${u%,*}" "${u#*,}"
}

# ---- (a) the DuckDB file locked by another process mid-run -------------------------------
LIBDUCKDB=$(ldd "$SLUICE" | awk '/libduckdb/ {print $3; exit}')
check "libduckdb found ($LIBDUCKDB)" test -f "$LIBDUCKDB"
P=$WORK/ddb
sl_pinterest_project "$P"
PL=$P/.sluice/pipelines/pinterest
(cd "$P" && "$SLUICE" run . > "$WORK/r1.out" 2> "$WORK/r1.err")
check "run 1 completes ($(tail -1 "$WORK/r1.err"))" eq $? 0
# Run 2 loads the same rows again (merge). It stops itself (SIGSTOP) once its
# package is normalized, before the load opens the database; the DuckDB file is
# taken then, and the run continued.
(cd "$P" && SLUICE_TEST_PAUSE=normalize_commit:1 exec "$SLUICE" run . > "$WORK/r2.out" 2> "$WORK/r2.err") &
run=$!
stopped=no
for _ in $(seq 1500); do
  grep -q '^State:.*T' /proc/$run/status 2>/dev/null && { stopped=yes; break; }
  kill -0 $run 2>/dev/null || break
  sleep 0.02
done
check "run 2 waits after normalize" eq $stopped yes
python3 "$SRC/tests/scenarios/lib/duckdb_hold.py" "$LIBDUCKDB" "$P/pinterest.duckdb" "$WORK/held" 120 \
  2> "$WORK/hold.err" &
HOLD_PID=$!
for _ in $(seq 1500); do [ -e "$WORK/held" ] && break; kill -0 $HOLD_PID 2>/dev/null || break; sleep 0.02; done
check "another process holds the DuckDB file ($(cat "$WORK/hold.err"))" test -e "$WORK/held"
kill -CONT $run
wait $run
rc=$?
check "the run fails with exit 5 (locked), got $rc" eq $rc 5
err=$(grep -v '^\s*$' "$WORK/r2.err" | tail -3)
check "the error names the database file and the other process: $err" \
  grep -q "pinterest.duckdb.*another process\|another process.*pinterest.duckdb" "$WORK/r2.err"
pk=$(ls "$PL/packages")
check "the package is kept ($pk)" test -n "$pk"
check "it is normalized, waiting to load" grep -qx normalized "$PL/packages/$pk/package_state"
sl_stop $HOLD_PID
HOLD_PID=
(cd "$P" && "$SLUICE" run . > "$WORK/r3.out" 2> "$WORK/r3.err")
check "lock released, the next run completes ($(tail -1 "$WORK/r3.err"))" eq $? 0
check "it loaded the kept package" grep -q "$pk" "$WORK/r3.out" "$WORK/r3.err"
check "no package left" eq "$(ls "$PL/packages" | wc -l)" 0
rows_match "DuckDB after the lock" "$P"
check "three loads, each once" eq "$(sl_count "$P" pinterest "(SELECT DISTINCT load_id FROM _dlt_loads WHERE status = 0)")" 3

# ---- (b) S3 answering 500 mid-load ----------------------------------------------------------
[ -x "$SL_S3RVER" ] || bash "$SRC/scripts/deps.sh" --s3 || exit 1
sl_start_s3rver "$WORK/s3" lake || exit 1
python3 "$SRC/tests/servers/s3_fault_proxy.py" --upstream "$S3_ENDPOINT" --port 0 --port-file "$WORK/proxy.port" \
  > "$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 100); do [ -s "$WORK/proxy.port" ] && break; sleep 0.1; done
PROXY=http://127.0.0.1:$(cat "$WORK/proxy.port")
proxy() { curl -s -X POST "$PROXY/__proxy/$1"; }
Q=$WORK/fs
sl_pinterest_project "$Q"
cat >> "$Q/sluice.toml" <<TOML
destination = "filesystem"
[destination.filesystem]
bucket_url = "s3://lake/away"
[destination.filesystem.credentials]
aws_access_key_id = "S3RVER"
aws_secret_access_key = "S3RVER"
endpoint_url = "$PROXY"
region_name = "us-east-1"
TOML
QL=$Q/.sluice/pipelines/pinterest
# Transient: three 500s among the PUTs are retried.
proxy "fail?after=2&count=3&methods=PUT" > /dev/null
(cd "$Q" && "$SLUICE" run . > "$WORK/s1.out" 2> "$WORK/s1.err")
check "three transient 500s are retried ($(tail -1 "$WORK/s1.err"))" eq $? 0
failed=$(curl -s "$PROXY/__proxy/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["failed"])')
check "the proxy failed 3 requests ($failed)" eq "$failed" 3
rows_match "S3 after transient 500s" "$Q"
pins1=$(sl_count "$Q" pinterest pins)
# Gone: every PUT after the first five fails, whatever the retries.
sl_stop_sims
sl_start_sim sim2 --size 20 --seed 7 || exit 1
rm -f "$Q/.sluice/pinterest.refresh_token" # rotated by the first simulator
export SOURCES__PINTEREST__BASE_URL=$SIM_BASE/v5
proxy "fail?after=5&count=-1&methods=PUT" > /dev/null
(cd "$Q" && "$SLUICE" run . > "$WORK/s2.out" 2> "$WORK/s2.err")
rc=$?
check "S3 gone mid-load: the run fails with exit 4, got $rc" eq $rc 4
err=$(grep -v '^\s*$' "$WORK/s2.err" | tail -2)
check "the error names S3's 500 and the object: $err" grep -q "HTTP 500.*lake/away/\|lake/away/.*HTTP 500" "$WORK/s2.err"
check "the error says what S3 said" grep -q "InternalError\|internal error" "$WORK/s2.err"
pk=$(ls "$QL/packages")
check "the package is kept ($pk)" test -n "$pk"
proxy ok > /dev/null
# The package only (merge is append on a filesystem destination, so a new
# extract would add the same rows again, as in dlt).
(cd "$Q" && "$SLUICE" run . --pending-only > "$WORK/s3.out" 2> "$WORK/s3.err")
check "S3 back: the next run completes ($(tail -1 "$WORK/s3.err"))" eq $? 0
check "it loaded the kept package" grep -q "$pk" "$WORK/s3.out" "$WORK/s3.err"
check "no package left" eq "$(ls "$QL/packages" | wc -l)" 0
# Direct to s3rver from here on: a query copies every file.
export DESTINATION__FILESYSTEM__CREDENTIALS__ENDPOINT_URL=$S3_ENDPOINT
sel=""
for t in pins ad_accounts campaigns ads; do
  sel="$sel${sel:+, }(SELECT count(*) FROM $t), (SELECT count(*) FROM (SELECT DISTINCT * EXCLUDE (_dlt_load_id, _dlt_id) FROM $t))"
done
got=$( (cd "$Q" && "$SLUICE" pipeline pinterest query --pipelines-dir .sluice/pipelines --format csv "SELECT $sel" 2>&1) | tail -1)
IFS=, read -r pa pb aa ab ca cb da db <<< "$got"
check "S3 after the outage: no row twice (pins $pa/$pb, ad_accounts $aa/$ab, campaigns $ca/$cb, ads $da/$db)" \
  test -n "$db" -a "$pa" = "$pb" -a "$aa" = "$ab" -a "$ca" = "$cb" -a "$da" = "$db"
check "S3 after the outage: the first run's pins and the second's, once each" eq "$pa" \
  "$((pins1 + $(sl_expected_items "$SIM_BASE" /pins)))"
unset DESTINATION__FILESYSTEM__CREDENTIALS__ENDPOINT_URL

# A query on S3 copies the files into a private folder under TMPDIR; Ctrl-C
# (SIGINT) or SIGTERM in the middle of the copy removes it too.
curl -s -X POST "$PROXY/__proxy/latency?ms=300&match=/pins/" > /dev/null
for sig in INT TERM; do
  T=$WORK/tmp_$sig
  mkdir -p "$T"
  (cd "$Q" && TMPDIR=$T exec "$SLUICE" pipeline pinterest query --pipelines-dir .sluice/pipelines \
    "SELECT count(*) FROM pins" > "$WORK/q.out" 2> "$WORK/q.err") &
  qp=$!
  for _ in $(seq 500); do [ -n "$(ls "$T")" ] && break; sleep 0.02; done
  staged=$(ls "$T")
  sleep 0.3
  kill -$sig $qp
  wait $qp
  rc=$?
  check "SIG$sig during an S3 query: the copy was under way ($staged; $(head -c 300 "$WORK/q.err"))" test -n "$staged"
  check "SIG$sig ends the query by the signal (rc $rc)" test $rc -gt 128
  check "SIG$sig: the temporary copy is removed ($(ls "$T"))" test -z "$(ls "$T")"
done
curl -s -X POST "$PROXY/__proxy/latency?ms=0" > /dev/null
uploads=$(find "$WORK/s3/lake" -path '*uploads*' -name key 2>/dev/null | wc -l)
check "no unfinished multipart upload left in s3rver ($uploads)" eq "$uploads" 0

finish
