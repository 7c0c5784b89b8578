#!/usr/bin/env bash
# S3 upload throughput: starts s3rver the way the scenario tests do
# (tests/servers/athena_standin_env.sh; scripts/deps.sh --s3 installs it when
# missing), runs bench_s3 against it (one PUT vs a parallel multipart upload),
# stops it. s3rver writes every byte to disk in Node, so the MB/s is mostly the
# server's. Usage: bench/s3/run.sh BUILD_DIR [MB] [PARALLEL]
set -euo pipefail
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export SL_SOURCE_DIR="$(cd "$here/../.." && pwd)"
. "$SL_SOURCE_DIR/tests/servers/athena_standin_env.sh"
if [ ! -x "$SL_S3RVER" ]; then
  bash "$SL_SOURCE_DIR/scripts/deps.sh" --s3 || { echo "bench_s3: cannot install s3rver" >&2; exit 2; }
fi
work=$(mktemp -d /tmp/sl_bench_s3_XXXXXX)
S3_PID=
# The script's own status is kept: under set -e, wait's 143 for the killed server would replace it.
trap 'rc=$?; set +e; sl_stop $S3_PID; rm -rf "$work"; exit $rc' EXIT
sl_start_s3rver "$work/s3" || exit 2
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER "$build/bench/bench_s3" "$S3_ENDPOINT" "${@:2}"
