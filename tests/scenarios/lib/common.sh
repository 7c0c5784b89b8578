# Sourced by scenario tests (not a scenario itself: tests/scenarios/*.sh is
# globbed, this folder is not). check/eq count passes and failures; the
# Pinterest simulator and a copy of examples/pinterest pointed at it.
#   . "$SRC/tests/scenarios/lib/common.sh"   (needs SRC and WORK set)
pass=0
fail=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
eq() { [ "$1" = "$2" ] || { echo "  expected '$2', got '$1'" >&2; return 1; }; }
fails() { ! "$@" > /dev/null 2>&1; }
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}

# sl_start_sim NAME ARGS...: the simulator on a free port; sets SIM_PID_<NAME>
# (via SIM_PIDS) and SIM_BASE (http://127.0.0.1:PORT). Stopped by sl_stop_sims.
SIM_PIDS=
sl_start_sim() {
  local name=$1
  shift
  rm -f "$WORK/$name.port"
  python3 "$SRC/tests/servers/pinterest_sim.py" --port 0 --port-file "$WORK/$name.port" "$@" \
    > "$WORK/$name.log" 2>&1 &
  SIM_PIDS="$SIM_PIDS $!"
  local _
  for _ in $(seq 100); do [ -s "$WORK/$name.port" ] && break; sleep 0.1; done
  [ -s "$WORK/$name.port" ] || { echo "the simulator did not start: $(cat "$WORK/$name.log")" >&2; return 1; }
  SIM_BASE=http://127.0.0.1:$(cat "$WORK/$name.port")
}
sl_stop_sims() {
  local p
  for p in $SIM_PIDS; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  SIM_PIDS=
  return 0
}

# sl_pinterest_project DIR: examples/pinterest with the simulator's default
# secrets, its pipelines under DIR/.sluice/pipelines.
sl_pinterest_project() {
  cp -r "$SRC/examples/pinterest" "$1"
  rm -rf "$1/.sluice/pipelines" "$1"/*.duckdb
  cp "$1/.sluice/secrets.toml.example" "$1/.sluice/secrets.toml"
}

# sl_expected_items BASE PATH: the simulator's item count for an endpoint.
sl_expected_items() {
  curl -s "$1/__admin/expected?page_size=100" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"][sys.argv[1]]["items"])' "$2"
}

# sl_count DIR PIPELINE TABLE: rows in a table of a DuckDB pipeline.
sl_count() {
  (cd "$1" && "$SLUICE" pipeline "$2" query --pipelines-dir .sluice/pipelines --format csv \
    "SELECT count(*) FROM $3" 2>&1) | tail -1
}
