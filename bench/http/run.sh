#!/usr/bin/env bash
# Runs the HTTP engine benchmark (bench/run.sh passes the build dir).
set -euo pipefail
exec "$1/bench/bench_http" "${@:2}"
