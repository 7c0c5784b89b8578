#!/usr/bin/env bash
# Runs every fuzzer in BUILD_DIR for SECONDS each, seeded from tests/fuzz/corpus/<name>/.
# New inputs go to a scratch corpus; a crash leaves its input in tests/fuzz/crashes/
# and fails the run (turn it into a named regression case under tests/fuzz/regressions/).
set -euo pipefail
build="$1"; secs="${2:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$here/crashes"
status=0
for bin in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); short=${name#fuzz_}
  scratch="$build/fuzz-corpus/$short"; mkdir -p "$scratch"
  seeds="$here/corpus/$short"; [ -d "$seeds" ] || seeds=""
  echo "== $name for ${secs}s"
  if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$here/crashes/$short-" "$scratch" $seeds 2>"$build/$name.log"; then
    echo "!! $name found a crash: see $build/$name.log and $here/crashes/"; status=1
  fi
  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$build/$name.log" | sed 's/^/   /' || true
done
exit $status
