#!/usr/bin/env bash
# The kill test: the Pinterest simulator pipeline (examples/pinterest, with
# append, replace and merge resources) is killed with SIGKILL at random
# instants, picked uniformly over the measured time of an uninterrupted run
# (extract, normalize, load), and at the stage boundaries (SLUICE_TEST_CRASH);
# for DuckDB, every other trial loads with rows_per_transaction = 1 (a
# package split into a transaction per job, with kills between them too);
# each killed run is re-run until it completes (killed again on the way, at
# random), then every table must equal an uninterrupted run's: the row count
# and a hash of the rows without _dlt_load_id/_dlt_id/_dlt_parent_id/_dlt_root_id.
#
#   bash tests/scenarios/kill.sh                    # DuckDB, >= 10 timed kills
#   KILLS=50 bash tests/scenarios/kill.sh           # the long form
#   SEED=123 bash tests/scenarios/kill.sh           # the same delays again
# tests/scenarios/kill_athena.sh runs this driver with KILL_DEST=athena.
# KILLS counts the timed kills that landed while the run was still working;
# the test fails with fewer. Needs SLUICE (and SL_BINARY_DIR for Athena).
set -u
SLUICE=${SLUICE:?path of the sluice binary}
SRC=${SL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export SL_SOURCE_DIR=$SRC
DEST=${KILL_DEST:-duckdb}
KILLS=${KILLS:-10}
SEED=${SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED
WORK=$(mktemp -d /tmp/sl_kill_XXXXXX)
SIM_PID=
S3_PID=
ATHENA_PID=
cleanup() {
  for p in $SIM_PID $ATHENA_PID $S3_PID; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
now_ms() { date +%s%3N; }
echo "destination $DEST, seed $SEED (SEED=$SEED KILLS=$KILLS to repeat)"

# ---- servers ------------------------------------------------------------------------
# Slow answers (15 ms) give the extract its share of the instants.
python3 "$SRC/tests/servers/pinterest_sim.py" --port 0 --port-file "$WORK/port" --size 60 --latency-ms "${SIM_LATENCY_MS:-15}" \
  > "$WORK/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || { echo "the simulator did not start: $(cat "$WORK/sim.log")" >&2; exit 1; }
export SOURCES__PINTEREST__BASE_URL=http://127.0.0.1:$(cat "$WORK/port")/v5
if [ "$DEST" = athena ]; then
  : "${SL_BINARY_DIR:?build folder (for the Athena stand-in)}"
  . "$SRC/tests/servers/athena_standin_env.sh"
  [ -x "$SL_S3RVER" ] || bash "$SRC/scripts/deps.sh" --s3 || exit 1
  sl_start_s3rver "$WORK/s3" lake || exit 1
  # Every statement stays RUNNING a while: timed kills land with queries in flight.
  ATHENA_STANDIN_LATENCY_MS=${ATHENA_LATENCY_MS:-40} sl_start_athena "$WORK/s3" || exit 1
  # s3rver keeps an unfinished multipart upload as a folder with a `key` file.
  uploads_open() { find "$WORK/s3/lake" -path '*uploads*' -name key 2>/dev/null | wc -l; }
fi

# ---- the project: examples/pinterest with a disposition per resource ---------------------
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
[ "$(grep -c '^    write_disposition:' "$y")" -eq 9 ] || { echo "dispositions not set in $y" >&2; exit 1; }
if [ "$DEST" = athena ]; then
  # Athena sends several statements per table: one level of child tables
  # keeps a run short. A file resource of incompressible text makes a
  # Parquet file above 5 MB, so that it goes up in 5 MB parts (the
  # simulator's tables are a few hundred KB at this size).
  sed -i 's/^max_table_nesting: .*/max_table_nesting: 1/' "$y"
  # A file resource takes no endpoint: resource_defaults' endpoint moves into each resource.
  python3 - "$y" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
ep = "data_selector: items, params: {page_size: '${sources.pinterest.page_size}'}"
t = t.replace("  endpoint:\n    data_selector: items\n    params:\n      page_size: ${sources.pinterest.page_size}\n", "")
t = re.sub(r"endpoint: \{path: (.*)\}\n", lambda m: "endpoint: {path: %s, %s}\n" % (m.group(1), ep), t)
t = t.replace("    endpoint:\n      path:", "    endpoint:\n      data_selector: items\n      params: {page_size: '${sources.pinterest.page_size}'}\n      path:")
t += "\n  - name: blobs\n    primary_key: []\n    write_disposition: append\n    file: {path: data/blobs.jsonl}\n"
open(sys.argv[1], "w").write(t)
PY
  mkdir -p "$tmpl/data"
  python3 -c '
import base64, random
r = random.Random(7)
for i in range(8000):
    print("{\"id\": %d, \"blob\": \"%s\"}" % (i, base64.b64encode(r.randbytes(750)).decode()))' \
    > "$tmpl/data/blobs.jsonl"
  sed -i 's/^\[pipeline\]$/&\ndestination = "athena"/' "$tmpl/sluice.toml"
  cat >> "$tmpl/.sluice/config.toml" <<TOML
[destination.filesystem]
bucket_url = "s3://lake/DATASET"
multipart_threshold_mb = 5
multipart_part_mb = 5
[destination.filesystem.credentials]
aws_access_key_id = "S3RVER"
aws_secret_access_key = "S3RVER"
endpoint_url = "$S3_ENDPOINT"
region_name = "us-east-1"
[destination.athena]
endpoint_url = "$ATHENA_ENDPOINT"
query_result_bucket = "s3://lake/results/"
TOML
fi
# A fresh project per trial; for Athena also a fresh dataset and S3 prefix.
# "split": DuckDB commits each job of a package in its own transaction.
new_project() { # dir [split]
  cp -r "$tmpl" "$1"
  [ "${2:-}" = split ] && printf '[destination.duckdb]\nrows_per_transaction = 1\n' >> "$1/.sluice/config.toml"
  local ds=kill_$(basename "$1")
  sed -i "s/^\[pipeline\]\$/&\ndataset_name = \"$ds\"/" "$1/sluice.toml"
  sed -i "s|s3://lake/DATASET|s3://lake/$ds|" "$1/.sluice/config.toml"
}
sq() { # dir sql: one query through `sluice pipeline NAME query`, CSV rows without the header
  (cd "$1" && "$SLUICE" -q pipeline pinterest query --pipelines-dir .sluice/pipelines --format csv "$2" 2>&1) |
    tail -n +2 | tr -d '"'
}
loads() { sq "$1" "SELECT count(*) FROM _dlt_loads" | tail -n 1; }
run_bg() { # dir [--pending-only]: sluice run in the background, debug log in dir.log
  (cd "$1" && exec env SLUICE_LOG_LEVEL=debug "$SLUICE" run . ${2:-} > /dev/null 2> "$1.log") &
  PID=$!
}

# ---- the uninterrupted run, twice (the same content both times; T is the faster) -----------
T=
for r in ref ref2; do
  new_project "$WORK/$r"
  t0=$(now_ms)
  run_bg "$WORK/$r"
  wait $PID || { echo "uninterrupted run failed: $(tail -5 "$WORK/$r.log")" >&2; exit 1; }
  t=$(($(now_ms) - t0))
  if [ -z "$T" ] || [ "$t" -lt "$T" ]; then T=$t; fi
done
TABLES=$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(" ".join(t for t in s["tables"] if not t.startswith("_dlt")))' "$WORK/ref/.sluice/pipelines/pinterest/schema.json")
# Per table: the row count and an md5 of the sorted rows as JSON, without the
# columns that hold random ids or the load id; one query for all tables.
HASH_SQL=
for t in $TABLES; do
  [ -n "$HASH_SQL" ] && HASH_SQL="$HASH_SQL UNION ALL "
  HASH_SQL="$HASH_SQL(SELECT '$t' AS t, count(*) || ' ' || coalesce(md5(string_agg(j, '|' ORDER BY j)), '-') AS h FROM (SELECT to_json(s)::VARCHAR AS j FROM (SELECT COLUMNS(c -> c NOT IN ('_dlt_id', '_dlt_parent_id', '_dlt_root_id', '_dlt_load_id')) FROM \"$t\") s))"
done
hashes() { sq "$1" "SELECT t || ' ' || h FROM ($HASH_SQL) ORDER BY t"; }
REF=$(hashes "$WORK/ref")
echo "uninterrupted run: ${T} ms, $(wc -w <<< "$TABLES") tables, $(awk '{ n += $2 } END { print n }' <<< "$REF") rows"
if [ "$(hashes "$WORK/ref2")" = "$REF" ] && [ "$(wc -l <<< "$REF")" -eq "$(wc -w <<< "$TABLES")" ] &&
   ! grep -q ' 0 -$' <<< "$REF"; then
  ok
else
  bad "two uninterrupted runs differ, or a table is empty"; echo "$REF" >&2
fi
rm -rf "$WORK/ref2"*

# Where a killed run stopped: the state of the package it left.
stage_of() { # dir
  local s
  s=$(cat "$1"/.sluice/pipelines/pinterest/packages/*/package_state 2>/dev/null | head -n 1)
  case "$s" in
    new|"") if [ -z "$s" ] && [ "$(loads "$1")" -ge 1 ] 2>/dev/null; then echo done; else echo extract; fi ;;
    extracted) echo normalize ;;
    normalized) echo load ;;
    *) echo "$s" ;;
  esac
}
# What the next attempt runs: the package left (normalize/load it) or a new extract.
next_mode() { # stage
  case "$1" in normalize|load) echo --pending-only ;; done) echo done ;; *) echo "" ;; esac
}
# The driver's own claim to check: the debug log's last line names an Athena
# statement started less than a poll ago (the stand-in keeps each RUNNING).
athena_in_flight() { # log kill-time-ms
  local last ts
  last=$(grep -a ' debug ' "$1" | tail -n 1)
  case "$last" in *" athena: "*) ;; *) return 1 ;; esac
  ts=$(date -d "${last%% *}" +%s%3N 2>/dev/null) || return 1
  [ $(($2 - ts)) -lt $((50 + ${ATHENA_LATENCY_MS:-40})) ]
}

declare -A STAGES
landed=0
finished=0
inflight=0
multipart=0
trials=0
splits=0
compare() { # dir label
  local got
  got=$(hashes "$1")
  # A split load removes its progress table when it ends.
  local progress=0
  [ "$DEST" = duckdb ] &&
    progress=$(sq "$1" "SELECT count(*) FROM information_schema.tables WHERE table_name = '_sluice_load_progress'" | tail -n 1)
  if [ "$got" = "$REF" ] && [ "$(loads "$1")" = 1 ] && [ "$progress" = 0 ]; then
    ok
  else
    bad "$2: tables differ from the uninterrupted run (loads: $(loads "$1"), progress tables left: $progress)"
    diff <(echo "$REF") <(echo "$got") >&2
  fi
}
finish() { # dir mode label: re-run until it completes
  local n=0
  [ "$2" = done ] && return 0
  until (cd "$1" && "$SLUICE" -q run . $2 > /dev/null 2> "$1.err"); do
    n=$((n + 1))
    if [ $n -ge 3 ]; then bad "$3: the re-run keeps failing: $(tail -3 "$1.err")"; return 1; fi
  done
}
# One kill at a random instant of a run; sets MODE for the next attempt.
kill_once() { # dir mode label-var
  local delay=$((RANDOM * 32768 + RANDOM))
  delay=$((delay % T))
  local before=0 rc st
  [ "$DEST" = athena ] && before=$(uploads_open)
  run_bg "$1" "$2"
  sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
  kill -9 $PID 2>/dev/null
  local tk=$(now_ms)
  wait $PID 2>/dev/null
  rc=$?
  TRAIL="$TRAIL ${delay}ms${2:+(pending)}"
  if [ $rc -ne 137 ]; then
    finished=$((finished + 1))
    [ $rc -eq 0 ] || bad "run ended with $rc before the kill: $(tail -3 "$1.log")"
    MODE=done
    return
  fi
  st=$(stage_of "$1")
  TRAIL="$TRAIL:$st"
  if [ "$st" = done ]; then
    finished=$((finished + 1))
  else
    landed=$((landed + 1))
    STAGES[$st]=$((${STAGES[$st]:-0} + 1))
  fi
  if [ "$DEST" = athena ]; then
    if athena_in_flight "$1.log" "$tk"; then inflight=$((inflight + 1)); TRAIL="$TRAIL(query)"; fi
    if [ "$(uploads_open)" -gt "$before" ]; then multipart=$((multipart + 1)); TRAIL="$TRAIL(multipart)"; fi
  fi
  MODE=$(next_mode "$st")
}

# ---- timed kills: each trial is killed 1-3 times (Athena 2-4), then runs to the end -----------
PER_TRIAL=1
[ "$DEST" = athena ] && PER_TRIAL=2 # an Athena run is slow: fewer runs to the end
while [ $landed -lt "$KILLS" ] && [ $trials -lt $((KILLS * 3)) ]; do
  trials=$((trials + 1))
  d=$WORK/t$trials
  split=
  [ "$DEST" = duckdb ] && [ $((trials % 2)) -eq 0 ] && split=split && splits=$((splits + 1))
  new_project "$d" $split
  TRAIL=
  MODE=
  for _ in $(seq 1 $((RANDOM % 3 + PER_TRIAL))); do
    kill_once "$d" "$MODE"
    [ "$MODE" = done ] && break
  done
  finish "$d" "$MODE" "trial $trials" && compare "$d" "trial $trials${split:+ (split)} (kills at$TRAIL; SEED=$SEED)"
  rm -rf "$d" "$d".*
done

# ---- Athena: a kill during the multipart upload of the big file -----------------------------
if [ "$DEST" = athena ]; then
  d=$WORK/mp
  new_project "$d"
  before=$(uploads_open)
  run_bg "$d"
  for _ in $(seq 1 3000); do
    [ "$(uploads_open)" -gt "$before" ] && break
    kill -0 $PID 2>/dev/null || break
    sleep 0.01
  done
  kill -9 $PID 2>/dev/null
  wait $PID 2>/dev/null
  if [ $? -eq 137 ] && [ "$(uploads_open)" -gt "$before" ]; then
    multipart=$((multipart + 1))
    st=$(stage_of "$d")
    STAGES[$st]=$((${STAGES[$st]:-0} + 1))
    landed=$((landed + 1))
    finish "$d" "$(next_mode "$st")" "multipart kill" && compare "$d" "killed during a multipart upload"
  else
    bad "no kill during a multipart upload"
  fi
fi

# ---- kills at the stage boundaries ---------------------------------------------------------
POINTS="extract_record:100 extract_commit:1 normalize_file:3 normalize_commit:1 load_begin:1 load_commit:1 load_local:1
        load_part:1 load_part:6 load_commit:1/split"
[ "$DEST" = athena ] && POINTS="athena_stmt:30 load_local:1"
points=0
for point in $POINTS; do
  split=
  case "$point" in load_part:*) split=split ;; */split) split=split point=${point%/split} ;; esac
  d=$WORK/p_${point/:/_}$split
  new_project "$d" $split
  (cd "$d" && SLUICE_TEST_CRASH=$point exec "$SLUICE" -q run . > /dev/null 2>&1) &
  wait $! 2> /dev/null
  rc=$?
  st=$(stage_of "$d")
  if [ $rc -eq 137 ]; then points=$((points + 1)); else bad "$point: not killed (exit $rc)"; fi
  if [ "${point%%:*}" = load_part ]; then # killed between two parts: the first jobs are in, recorded
    in=$(sq "$d" "SELECT count(*) FROM _sluice_load_progress" | tail -n 1)
    if [ "${in:-0}" -ge 1 ] 2>/dev/null; then ok; else bad "$point: no committed part recorded ($in)"; fi
  fi
  finish "$d" "$(next_mode "$st")" "$point" && compare "$d" "crash at $point${split:+ (split)} (stage $st)"
  rm -rf "$d" "$d".*
done

echo "kills: $landed (extract ${STAGES[extract]:-0}, normalize ${STAGES[normalize]:-0}, load ${STAGES[load]:-0})"
echo "  in $trials trials ($splits with a transaction per job); $finished more came after the run's work was done; $points crash points"
[ "$DEST" = athena ] && echo "  with an Athena query in flight: $inflight; during a multipart upload: $multipart"
if [ $landed -ge "$KILLS" ]; then ok; else bad "only $landed kills landed while the run worked (want $KILLS)"; fi
if [ "$DEST" = athena ] && [ $inflight -lt 1 ]; then bad "no kill with an Athena query in flight"; fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
