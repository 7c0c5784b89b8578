#!/usr/bin/env bash
# Runs the JSON parser benchmark (bench/run.sh passes the build dir).
set -euo pipefail
exec "$1/bench/bench_json" "${@:2}"
