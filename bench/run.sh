#!/usr/bin/env bash
# Runs every benchmark (or the ones named): bench/<name>/run.sh if the folder
# has one (it gets the build dir), else the program bench_<name> with no
# arguments; then one summary line of which met their targets and which
# missed, so that one miss does not hide the rest.
#   bench/run.sh BUILD_DIR [NAME...]
# A bench exits 0 when its targets are met (or it has none: then it prints a
# line "no target"), 1 when one is missed, 2 or more when it could not run.
# This exits 1 if any bench missed a target or could not run.
set -euo pipefail
build="$(cd "$1" && pwd)"
shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for dir in "$here"/*/; do names+=("$(basename "$dir")"); done
fi
log=$(mktemp /tmp/sl_bench_log_XXXXXX)
trap 'rm -f "$log"' EXIT
met=() missed=() none=() failed=()
for name in "${names[@]}"; do
  dir=$here/$name
  echo "=== bench $name"
  rc=0
  if [ -f "$dir/run.sh" ]; then
    bash "$dir/run.sh" "$build" | tee "$log" || rc=$?
  elif [ -x "$build/bench/bench_$name" ]; then
    "$build/bench/bench_$name" | tee "$log" || rc=$?
  else
    echo "bench $name: no $dir/run.sh and no $build/bench/bench_$name" >&2
    : > "$log"
    rc=127
  fi
  if [ $rc -eq 0 ] && grep -qx "no target" "$log"; then none+=("$name")
  elif [ $rc -eq 0 ]; then met+=("$name")
  elif [ $rc -eq 1 ]; then missed+=("$name")
  else failed+=("$name (exit $rc)")
  fi
done
list() { if [ $# -eq 0 ]; then echo "none"; else echo "$*"; fi; }
echo "=== bench summary: target met: $(list "${met[@]}"); MISSED: $(list "${missed[@]}");" \
  "no target: $(list "${none[@]}"); could not run: $(list "${failed[@]}")"
[ ${#missed[@]} -eq 0 ] && [ ${#failed[@]} -eq 0 ]
