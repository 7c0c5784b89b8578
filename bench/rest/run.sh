#!/usr/bin/env bash
# REST source throughput: 2,000 pages x 100 items, 20 ms latency per request,
# from tests/servers/generic_api.py through the whole REST source (20 shard
# lists loaded as child request series) into DuckDB. Prints the wall time at
# concurrency 1 (max_per_host: 1) and at the default (8 per host), the ratio,
# and CPU time per page.
# Target (the issue's): the default at least 8x faster than concurrency 1, in
# wall time of the whole run. With 8 requests in flight per host that is the
# ceiling itself (the latency-bound floors are PAGES x LATENCY at concurrency 1
# and a 1/8 of it at 8), and the fixed cost of a run (start, the shards list,
# DuckDB's load) is paid at both, so the whole-run ratio stays under 8x; the
# extract stage's ratio is printed beside it.
# Exit: 0 target met, 1 missed, 2 the bench could not run.
# Usage: bench/rest/run.sh BUILD_DIR [PAGES] [LATENCY_MS]
set -euo pipefail
build="$(cd "$1" && pwd)"
pages=${2:-2000}
latency=${3:-20}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
work=$(mktemp -d /tmp/sl_bench_rest_XXXXXX)
srv=
cleanup() { # keeps the script's status: under set -e, wait's 143 for the killed server would replace it
  local rc=$?
  set +e
  [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
python3 "$src/tests/servers/generic_api.py" --port 0 --port-file "$work/port" \
  --latency-ms "$latency" --bench-pages "$pages" --bench-page-size 100 --bench-shards 20 \
  > "$work/server.log" 2>&1 &
srv=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "bench_rest: the server did not start:" >&2; cat "$work/server.log" >&2; exit 2; }
base=http://127.0.0.1:$(cat "$work/port")

run_at() { # max_per_host ("" = default) -> "wall user sys extract" in $work/result
  local p=$work/p$1
  mkdir -p "$p"
  printf '[pipeline]\nname = "bench"\nsource = "bench.source.yaml"\npipelines_dir = "wd"\n' > "$p/sluice.toml"
  {
    echo "name: bench"
    echo "client:"
    echo "  base_url: $base/"
    [ -n "$1" ] && echo "  max_per_host: $1"
    cat <<'YAML'
resources:
  - name: shards
    selected: false
    endpoint: {path: bench/shards, paginator: single_page}
  - name: items
    endpoint:
      path: "bench/shards/{resources.shards.id}/items"
      data_selector: items
      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor}
YAML
  } > "$p/bench.source.yaml"
  local t0 t1
  t0=$(date +%s.%N)
  ( cd "$p" && command time -f "%U %S" -o "$work/time" "$build/sluice" run . > "$work/out" 2> "$work/err" ) ||
    { echo "bench_rest: run failed:" >&2; tail -5 "$work/err" >&2; exit 2; }
  t1=$(date +%s.%N)
  grep -q "items .* $((pages * 100)) rows" "$work/out" ||
    { echo "bench_rest: wrong row count:" >&2; cat "$work/out" >&2; exit 2; }
  local ex
  ex=$(grep -A1 -- '- Extract ' "$work/out" | grep -o 'Time: [0-9.]*' | tail -1 | cut -d' ' -f2)
  echo "$(echo "$t1 - $t0" | bc -l) $(cat "$work/time") ${ex:-0}" > "$work/result"
}

run_at 1
read -r w1 u1 s1 e1 < "$work/result"
run_at ""
read -r wd ud sd ed < "$work/result"
printf 'rest: %d pages x 100 items, %d ms latency per request\n' "$pages" "$latency"
printf '  concurrency 1:        %6.2f s wall\n' "$w1"
printf '  default concurrency:  %6.2f s wall\n' "$wd"
ratio=$(echo "$w1 / $wd" | bc -l)
printf '  speed-up:             %6.2fx (extract stage alone: %.2f s -> %.2f s, %.2fx)\n' \
  "$ratio" "$e1" "$ed" "$(echo "if ($ed > 0) $e1 / $ed else 0" | bc -l)"
printf '  latency-bound floor:  %6.2f s at concurrency 1, %.2f s at 8 per host: 8x is the ceiling\n' \
  "$(echo "$pages * $latency / 1000" | bc -l)" "$(echo "$pages * $latency / 8000" | bc -l)"
printf '  CPU per page:         %6.3f ms (user+sys of the whole run / pages, default concurrency; %.3f ms at 1)\n' \
  "$(echo "($ud + $sd) * 1000 / $pages" | bc -l)" "$(echo "($u1 + $s1) * 1000 / $pages" | bc -l)"
if [ "$(echo "$ratio >= 8" | bc -l)" = 1 ]; then verdict=met; else verdict=MISSED; fi
printf '  target: default >= 8x faster than concurrency 1 (whole-run wall): %.2fx, %s\n' "$ratio" "$verdict"
[ "$verdict" = met ]
