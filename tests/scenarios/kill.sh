#!/usr/bin/env bash
# The kill test: `sluice run` over a few MB of generated JSON Lines is killed
# with SIGKILL at many instants — at random times spread over the measured run
# time, and at every stage boundary through SLUICE_TEST_CRASH — then re-run
# until it completes; every table must then equal an uninterrupted run's (row
# count and a content hash per table, without the random _dlt_* ids).
set -u
SLUICE=${SLUICE:?path of the sluice binary}
# Sanitized builds run slower: fewer timed kills there.
if grep -qs "SLUICE_SANITIZE:BOOL=ON" "${SL_BINARY_DIR:-/nonexistent}/CMakeCache.txt"; then
  KILLS=${KILLS:-10}
else
  KILLS=${KILLS:-10}
fi
WORK=$(mktemp -d /tmp/sl_kill_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# ---- data: ~3 MB, deterministic -------------------------------------------------
tmpl=$WORK/template
mkdir -p "$tmpl/in" "$tmpl/.sluice"
for f in 1 2 3; do
  awk -v f="$f" 'BEGIN {
    for (i = 0; i < 4000; i++) {
      id = f * 100000 + i
      printf "{\"id\": %d, \"user\": {\"name\": \"user %d\", \"score\": %d.%d, \"vip\": %s},", id, i % 977, i % 100, i % 7, (i % 3 ? "true" : "false")
      printf " \"created_at\": \"2024-0%d-1%dT0%d:15:00Z\", \"tags\": [", i % 9 + 1, i % 10, i % 10
      for (t = 0; t < i % 4; t++) printf "%s\"t%d\"", (t ? ", " : ""), (i + t) % 50
      printf "], \"items\": ["
      for (t = 0; t < i % 3; t++) printf "%s{\"sku\": \"s%d\", \"qty\": %d}", (t ? ", " : ""), (i * 7 + t) % 1000, t + 1
      printf "], \"note\": \"%s\"}\n", substr("lorem ipsum dolor sit amet consectetur adipiscing elit", 1, 10 + i % 40)
    }
  }' > "$tmpl/in/events_$f.jsonl"
done
# users: ids repeat across lines (merge keeps the last)
awk 'BEGIN { for (i = 0; i < 6000; i++) printf "{\"id\": %d, \"name\": \"u%d\", \"rev\": %d, \"roles\": [\"r%d\"]}\n", i % 4000, i, i, i % 5 }' \
  > "$tmpl/in/users.jsonl"
cat > "$tmpl/sluice.toml" <<'EOF'
[pipeline]
name = "killpipe"
source = "source.yaml"
pipelines_dir = "pipelines"
EOF
cat > "$tmpl/source.yaml" <<'EOF'
name: killsrc
resources:
  - name: events
    file: {path: 'in/events_*.jsonl', skip_loaded_files: true}
  - name: users
    primary_key: id
    write_disposition: merge
    file: {path: in/users.jsonl, skip_loaded_files: true}
EOF
# Small files so that every stage rotates its files many times.
cat > "$tmpl/.sluice/config.toml" <<'EOF'
[extract.data_writer]
file_max_bytes = 400000
[normalize.data_writer]
file_max_bytes = 300000
EOF
echo "data: $(du -sh "$tmpl/in" | cut -f1) in $(ls "$tmpl/in" | wc -l) files"

TABLES="events events__tags events__items users users__roles"
# One query: per table, the row count and an md5 of the sorted rows as JSON,
# without the columns that hold random ids or the load id.
HASH_SQL=""
for t in $TABLES; do
  [ -n "$HASH_SQL" ] && HASH_SQL="$HASH_SQL UNION ALL "
  HASH_SQL="$HASH_SQL(SELECT '$t' AS t, count(*) || ' ' || coalesce(md5(string_agg(j, '|' ORDER BY j)), '-') AS h FROM (SELECT to_json(s)::VARCHAR AS j FROM (SELECT COLUMNS(c -> c NOT IN ('_dlt_id', '_dlt_parent_id', '_dlt_root_id', '_dlt_load_id')) FROM \"$t\") s))"
done
hashes() {
  "$SLUICE" -q pipeline killpipe query --pipelines-dir "$1/pipelines" --format csv \
    "SELECT t || ' ' || h FROM ($HASH_SQL) ORDER BY t" 2>&1 | tail -n +2 | tr -d '"'
}
loads() {
  "$SLUICE" -q pipeline killpipe query --pipelines-dir "$1/pipelines" --format csv \
    "SELECT count(*) FROM _dlt_loads" 2>&1 | tail -n 1 | tr -d '"'
}
now_ms() { date +%s%3N; }

# ---- the uninterrupted run ---------------------------------------------------------
# Timed twice (the first pays for cold caches); T is the faster.
T=
for r in ref ref2; do
  cp -r "$tmpl" "$WORK/$r"
  t0=$(now_ms)
  "$SLUICE" -q run "$WORK/$r" > /dev/null || { echo "reference run failed" >&2; exit 1; }
  t=$(( $(now_ms) - t0 ))
  if [ -z "$T" ] || [ "$t" -lt "$T" ]; then T=$t; fi
done
REF=$(hashes "$WORK/ref")
echo "uninterrupted run: ${T} ms"
echo "$REF"
if echo "$REF" | grep -q "^events 12000 " && echo "$REF" | grep -q "^users 4000 "; then ok; else bad "reference rows"; fi

# Where a killed run stopped: the state of the package it left.
stage_of() {
  local s
  s=$(cat "$1"/pipelines/killpipe/packages/*/package_state 2>/dev/null | head -n 1)
  case "$s" in
    new) echo extract ;;
    extracted) echo normalize ;;
    normalized) echo load ;;
    "") if [ "$(loads "$1")" = "1" ]; then echo after-load; else echo before-extract; fi ;;
    *) echo "$s" ;;
  esac
}

declare -A STAGES
kills=0
reruns=0
check_trial() { # dir label
  local n=0
  until "$SLUICE" -q run "$1" > /dev/null 2> "$WORK/err"; do
    n=$((n + 1))
    reruns=$((reruns + 1))
    if [ $n -ge 5 ]; then bad "$2: rerun keeps failing: $(cat "$WORK/err")"; return; fi
  done
  reruns=$((reruns + 1))
  "$SLUICE" -q run "$1" > /dev/null 2>&1 # once more: nothing new
  reruns=$((reruns + 1))
  local got
  got=$(hashes "$1")
  if [ "$got" = "$REF" ] && [ "$(loads "$1")" -ge 1 ]; then
    ok
  else
    bad "$2: tables differ from the uninterrupted run"
    diff <(echo "$REF") <(echo "$got") >&2
  fi
}

# ---- kills at times spread over the run ----------------------------------------------
for k in $(seq 1 "$KILLS"); do
  d=$WORK/t$k
  cp -r "$tmpl" "$d"
  # spread over [3%, 95%] of T, jittered
  delay=$(( (T * (3 + (92 * (k - 1)) / (KILLS - 1)) ) / 100 + (RANDOM % 20) ))
  "$SLUICE" -q run "$d" > /dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
    st=$(stage_of "$d")
  else
    wait "$pid" 2>/dev/null
    st=finished
  fi
  STAGES[$st]=$(( ${STAGES[$st]:-0} + 1 ))
  # every other trial: kill the rerun too, early
  if [ $((k % 2)) -eq 0 ] && [ "$st" != finished ]; then
    "$SLUICE" -q run "$d" > /dev/null 2>&1 &
    pid=$!
    sleep "0.0$((RANDOM % 9 + 1))"
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); reruns=$((reruns + 1)); fi
    wait "$pid" 2>/dev/null
  fi
  check_trial "$d" "kill after ${delay} ms (stage $st)"
  rm -rf "$d"
done

# ---- kills at every stage boundary -------------------------------------------------------
for point in extract_record:1500 extract_commit:1 normalize_file:3 normalize_commit:1 \
             load_begin:1 load_commit:1 load_local:1; do
  d=$WORK/p_${point%%:*}
  cp -r "$tmpl" "$d"
  SLUICE_TEST_CRASH=$point "$SLUICE" -q run "$d" > /dev/null 2>&1 &
  wait $! 2> /dev/null
  rc=$?
  if [ $rc -eq 137 ]; then
    kills=$((kills + 1))
    st=$(stage_of "$d")
    STAGES["$st@$point"]=1
  else
    bad "$point: not killed (exit $rc)"
  fi
  check_trial "$d" "crash at $point"
  rm -rf "$d"
done

echo "kills: $kills, reruns: $reruns"
for s in "${!STAGES[@]}"; do echo "  killed in $s: ${STAGES[$s]}"; done | sort
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
