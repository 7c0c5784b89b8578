#!/usr/bin/env bash
# REST source throughput: 2,000 pages x 100 items, 20 ms latency per request,
# from tests/servers/generic_api.py through the whole REST source (20 shard
# lists loaded as child request series) into DuckDB. Prints the wall time at
# concurrency 1 (max_per_host: 1) and at the default (8 per host), the ratio,
# and CPU time per page. Usage: bench/rest/run.sh BUILD_DIR [PAGES] [LATENCY_MS]
set -euo pipefail
build="$(cd "$1" && pwd)"
pages=${2:-2000}
latency=${3:-20}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
work=$(mktemp -d /tmp/sl_bench_rest_XXXXXX)
srv=
cleanup() {
  [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
python3 "$src/tests/servers/generic_api.py" --port 0 --port-file "$work/port" \
  --latency-ms "$latency" --bench-pages "$pages" --bench-page-size 100 --bench-shards 20 \
  > "$work/server.log" 2>&1 &
srv=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
base=http://127.0.0.1:$(cat "$work/port")

run_at() { # max_per_host ("" = default) -> "wall user sys"
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
    { echo "run failed:"; tail -5 "$work/err"; exit 1; }
  t1=$(date +%s.%N)
  grep -q "items .* $((pages * 100)) rows" "$work/out" || { echo "wrong row count:"; cat "$work/out"; exit 1; }
  local ex
  ex=$(grep -A1 -- '- Extract ' "$work/out" | grep -o 'Time: [0-9.]*' | tail -1 | cut -d' ' -f2)
  echo "$(echo "$t1 - $t0" | bc -l) $(cat "$work/time") ${ex:-0}"
}

read -r w1 u1 s1 e1 <<< "$(run_at 1)"
read -r wd ud sd ed <<< "$(run_at "")"
printf 'rest: %d pages x 100 items, %d ms latency per request\n' "$pages" "$latency"
printf '  concurrency 1:        %6.2f s wall\n' "$w1"
printf '  default concurrency:  %6.2f s wall\n' "$wd"
printf '  speed-up:             %6.1fx (extract stage alone: %.2f s -> %.2f s, %.1fx)\n' \
  "$(echo "$w1 / $wd" | bc -l)" "$e1" "$ed" "$(echo "$e1 / $ed" | bc -l)"
printf '  CPU per page:         %6.3f ms (user+sys of the whole run / pages, default concurrency)\n' \
  "$(echo "($ud + $sd) * 1000 / $pages" | bc -l)"
