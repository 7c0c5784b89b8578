#!/usr/bin/env bash
# The hand-written Pinterest source (examples/pinterest/) against the Pinterest
# v5 simulator: OAuth refresh-token flow, bookmark pagination, parent -> child
# (ad accounts -> campaigns/ad groups/ads, boards -> sections -> pins). Row
# counts per table must equal the simulator's /__admin/expected, also with
# 10 % 5xx, 5 % 429 and 2 % truncated bodies, and in a storm of 20 % 5xx,
# 10 % 429, 5 % truncated bodies and slow answers (same content as clean).
set -u
SLUICE=${SLUICE:?path of the sluice binary}
SRC=${SL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=$(mktemp -d /tmp/sl_rest_pin_XXXXXX)
SRV_PID=
cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
pass=0
fail=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
eq() { [ "$1" = "$2" ] || { echo "  expected '$2', got '$1'" >&2; return 1; }; }

start_sim() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
  rm -f "$WORK/port"
  python3 "$SRC/tests/servers/pinterest_sim.py" --port 0 --port-file "$WORK/port" --size 60 \
    --token-ttl 4 "$@" > "$WORK/sim.log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  BASE=http://127.0.0.1:$(cat "$WORK/port")
}

declare -A TABLE=(
  [/ad_accounts]=ad_accounts
  [/ad_accounts/{ad_account_id}/campaigns]=campaigns
  [/ad_accounts/{ad_account_id}/ad_groups]=ad_groups
  [/ad_accounts/{ad_account_id}/ads]=ads
  [/boards]=boards
  [/boards/{board_id}/sections]=board_sections
  [/boards/{board_id}/sections/{section_id}/pins]=board_section_pins
  [/boards/{board_id}/pins]=board_pins
  [/pins]=pins
)

load_and_compare() { # label
  local label=$1 P=$WORK/$1
  cp -r "$SRC/examples/pinterest" "$P"
  rm -rf "$P/.sluice/pipelines" "$P"/*.duckdb
  cp "$P/.sluice/secrets.toml.example" "$P/.sluice/secrets.toml"
  (cd "$P" && SOURCES__PINTEREST__BASE_URL=$BASE/v5 "$SLUICE" run . > "$WORK/out" 2> "$WORK/err")
  local rc=$?
  check "$label: run exits 0 ($(grep -v warning "$WORK/err" | tail -3))" test $rc -eq 0
  local expected
  expected=$(curl -s "$BASE/__admin/expected?page_size=100")
  for path in "${!TABLE[@]}"; do
    local t=${TABLE[$path]} want got
    want=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["endpoints"][sys.argv[2]]["items"])' "$expected" "$path")
    got=$( (cd "$P" && "$SLUICE" pipeline pinterest query --pipelines-dir .sluice/pipelines --format csv \
             "SELECT count(*) FROM $t" 2>&1) | tail -1)
    check "$label: $t has the simulator's $want rows" eq "$got" "$want"
  done
  check "$label: no secret in the output" bash -c \
    "! grep -q -e sluice-secret -e sluice-refresh-token '$WORK/err' '$WORK/out'"
  check "$label: nested lists became child tables" bash -c "grep -q 'pins__' '$WORK/out'"
  check "$label: the rotated refresh token is kept" test -s "$P/.sluice/pinterest.refresh_token"
}

start_sim --strict-refresh
load_and_compare clean
start_sim --fail-5xx 0.1 --fail-429 0.05 --truncate 0.02 --truncate-mode mixed --retry-after 0.2
load_and_compare faults
faults=$(curl -s "$BASE/__admin/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["faults_total"])')
check "faults were injected ($faults)" test "$faults" -gt 0
# The storm: 20 % 5xx, 10 % 429 with Retry-After, 5 % truncated bodies, slow
# answers (20-50 ms). A third of the attempts fail, so a request gets 12 tries
# ([runtime] request_max_attempts, dlt's name); every table must match, also
# in content: the same rows as the clean run, whatever the order.
start_sim --fail-5xx 0.2 --fail-429 0.1 --truncate 0.05 --truncate-mode mixed --retry-after 0.1 \
  --latency-ms 20 --latency-jitter-ms 30 --fault-seed 7
export RUNTIME__REQUEST_MAX_ATTEMPTS=12
load_and_compare storm
unset RUNTIME__REQUEST_MAX_ATTEMPTS
stats=$(curl -s "$BASE/__admin/stats")
read -r faults reqs < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["faults_total"], d["requests"])' "$stats")
check "storm: a fifth or more of $reqs requests faulted ($faults)" test $((faults * 5)) -ge "$reqs" -a "$faults" -gt 0
content() { # label table: a hash of the rows without load ids and _dlt ids
  (cd "$WORK/$1" && "$SLUICE" pipeline pinterest query --pipelines-dir .sluice/pipelines --format csv \
    "SELECT md5(string_agg(h, ',' ORDER BY h)) FROM (SELECT md5(CAST(COLUMNS(c -> c NOT LIKE '_dlt_%') AS VARCHAR)) AS h FROM $2)" 2>&1) | tail -1
}
for t in ad_accounts campaigns ads board_section_pins pins; do
  a=$(content clean $t)
  b=$(content storm $t)
  check "storm: $t holds the same rows as the clean run ($a vs $b)" test -n "$a" -a "$a" = "$b"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
