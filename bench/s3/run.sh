#!/usr/bin/env bash
# S3 upload throughput: starts s3rver the way the scenario tests do
# (tests/servers/athena_standin_env.sh; scripts/deps.sh --s3 installs it when
# missing), runs bench_s3 against it (one PUT vs a parallel multipart upload),
# then `sluice run` end to end (extract, normalize, load) of ROWS generated
# JSON lines into DuckDB (for reference), the filesystem destination on
# s3rver, and Athena (the stand-in on the same s3rver: a Hive append and an
# Iceberg merge), printing rows/s for each. s3rver writes every byte to disk
# in Node, so the MB/s is mostly the server's; the Athena figures include the
# stand-in reading the Parquet back and running each statement on DuckDB.
# Usage: bench/s3/run.sh BUILD_DIR [MB] [PARALLEL]     ROWS=200000 in the environment
set -euo pipefail
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export SL_SOURCE_DIR="$(cd "$here/../.." && pwd)"
export SL_BINARY_DIR=$build
. "$SL_SOURCE_DIR/tests/servers/athena_standin_env.sh"
if [ ! -x "$SL_S3RVER" ]; then
  bash "$SL_SOURCE_DIR/scripts/deps.sh" --s3 || { echo "bench_s3: cannot install s3rver" >&2; exit 2; }
fi
work=$(mktemp -d /tmp/sl_bench_s3_XXXXXX)
S3_PID=
ATHENA_PID=
# The script's own status is kept: under set -e, wait's 143 for the killed server would replace it.
trap 'rc=$?; set +e; sl_stop $ATHENA_PID $S3_PID; rm -rf "$work"; exit $rc' EXIT
sl_start_s3rver "$work/s3" lake || exit 2
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER "$build/bench/bench_s3" "$S3_ENDPOINT" "${@:2}"

# ---- rows/s end to end -----------------------------------------------------------------
sluice=$build/sluice
[ -x "$sluice" ] || { echo "bench_s3: no $sluice" >&2; exit 2; }
sl_start_athena "$work/s3" || exit 2
rows=${ROWS:-100000}
mkdir -p "$work/data"
python3 - "$rows" > "$work/data/pins.jsonl" <<'PY'
import json, random, sys
r = random.Random(5)
words = ["kitchen", "garden", "wedding", "recipe", "outfit", "travel", "café", "minimal"]
for i in range(int(sys.argv[1])):
    print(json.dumps({"id": i, "title": " ".join(r.choice(words) for _ in range(3)),
                      "description": " ".join(r.choice(words) for _ in range(12)),
                      "created_at": "2024-%02d-%02dT%02d:%02d:00Z" % (1 + i % 12, 1 + i % 28, i % 24, i % 60),
                      "saves": r.randrange(100000), "score": round(r.random() * 100, 3),
                      "is_video": i % 7 == 0, "board_id": "b%d" % (i % 500)}, ensure_ascii=False))
PY
mb=$(du -m "$work/data/pins.jsonl" | cut -f1)
project() { # dir disposition destination-toml
  mkdir -p "$1"
  ln -s "$work/data" "$1/data"
  cat > "$1/sluice.toml" <<TOML
[pipeline]
name = "bench"
source = "bench.source.yaml"
pipelines_dir = "wd"
dataset_name = "bench_$(basename "$1")"
$3
TOML
  cat > "$1/bench.source.yaml" <<YAML
name: bench
resources:
  - name: pins
    primary_key: id
    write_disposition: $2
    file: {path: data/pins.jsonl}
YAML
}
s3toml() { # prefix
  cat <<TOML
[destination.filesystem]
bucket_url = "s3://lake/$1"
[destination.filesystem.credentials]
aws_access_key_id = "S3RVER"
aws_secret_access_key = "S3RVER"
endpoint_url = "$S3_ENDPOINT"
region_name = "us-east-1"
TOML
}
e2e() { # label dir
  local t0 t1 n
  t0=$(date +%s%N)
  "$sluice" -q run "$2" > /dev/null 2> "$2.err" || { echo "bench_s3: $1 failed: $(tail -3 "$2.err")" >&2; exit 2; }
  t1=$(date +%s%N)
  n=$(cd "$2" && "$sluice" -q pipeline bench query --pipelines-dir wd --format csv "SELECT count(*) AS n FROM pins" | tail -n 1)
  [ "$n" = "$rows" ] || { echo "bench_s3: $1 loaded $n rows, not $rows" >&2; exit 2; }
  awk -v l="$1" -v r="$rows" -v mb="$mb" -v ns=$((t1 - t0)) \
    'BEGIN { s = ns / 1e9; printf "e2e %-20s %7d rows %4d MB  %9.0f rows/s wall  (%.2f s, sluice run)\n", l, r, mb, r / s, s }'
}
project "$work/duck" append 'destination = "duckdb"'
project "$work/fs" append "destination = \"filesystem\"
$(s3toml fs)"
athena="[destination.athena]
endpoint_url = \"$ATHENA_ENDPOINT\"
query_result_bucket = \"s3://lake/results/\""
project "$work/hive" append "destination = \"athena\"
$(s3toml athena)
$athena"
project "$work/merge" merge "destination = \"athena\"
$(s3toml athena)
$athena"
e2e "duckdb" "$work/duck"
e2e "filesystem-s3" "$work/fs"
e2e "athena-hive-append" "$work/hive"
e2e "athena-iceberg-merge" "$work/merge"
