#!/usr/bin/env bash
# The kill test (tests/scenarios/kill.sh) for the Athena destination, against
# s3rver and the Athena stand-in: the Pinterest simulator pipeline (append,
# replace and merge; merge tables are Iceberg) plus a file resource whose
# Parquet file exceeds 5 MB, uploaded in 5 MB parts. Timed kills land with
# Athena queries in flight (the stand-in keeps each statement RUNNING for
# ATHENA_LATENCY_MS, default 40; the client polls after 50 ms); one kill lands during the multipart upload.
#
#   bash tests/scenarios/kill_athena.sh             # >= 10 timed kills
#   KILLS=50 bash tests/scenarios/kill_athena.sh    # the long form
#   SEED=123 bash tests/scenarios/kill_athena.sh    # the same delays again
# Needs SLUICE and SL_BINARY_DIR (the stand-in), and s3rver (scripts/deps.sh --s3).
KILL_DEST=athena exec bash "$(dirname "$0")/kill.sh"
