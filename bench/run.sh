#!/usr/bin/env bash
# Runs each benchmark: bench/<name>/run.sh if the folder has one (it gets the
# build dir), else the program bench_<name> with no arguments.
set -euo pipefail
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for dir in "$here"/*/; do
  name=$(basename "$dir")
  echo "=== bench $name"
  if [ -f "$dir/run.sh" ]; then
    bash "$dir/run.sh" "$build"
  elif [ -x "$build/bench/bench_$name" ]; then
    "$build/bench/bench_$name"
  fi
done
