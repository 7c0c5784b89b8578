#!/usr/bin/env bash
# `sluice init --destination filesystem|athena`: the generated sluice.toml,
# .sluice/config.toml and .sluice/secrets.toml carry dlt's keys
# ([destination.filesystem] bucket_url, [destination.athena]
# query_result_bucket, athena_work_group, aws_data_catalog, credentials as
# commented placeholders), and each project runs as generated against the
# Pinterest simulator: into a local folder, and into Athena (the stand-in on
# s3rver, its places given by DESTINATION__* variables, as a user would).
set -euo pipefail
: "${SLUICE:?}" "${SL_SOURCE_DIR:?}" "${SL_BINARY_DIR:?}"
shared="${SL_SHARED_DIR:-$SL_SOURCE_DIR/../shared}"
spec="$shared/specs/pinterest-5.23.yaml"
. "$SL_SOURCE_DIR/tests/servers/athena_standin_env.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/sl_init_dest.XXXXXX")"
sim_pid="" S3_PID="" ATHENA_PID=""
cleanup() {
  sl_stop "$ATHENA_PID" "$S3_PID" "$sim_pid" || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$spec" ] || fail "no $spec"
has() { grep -qF -- "$2" "$1" || fail "$1 lacks: $2"; }

python3 "$SL_SOURCE_DIR/tests/servers/pinterest_sim.py" --port 0 --port-file "$work/port" \
  --size 10 >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 300); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "simulator did not start: $(cat "$work/sim.log")"
base="http://127.0.0.1:$(cat "$work/port")"
curl -sf "$base/__admin/expected?page_size=250" >"$work/expected.json"
expect() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["endpoints"][sys.argv[2]]["items"])' \
  "$work/expected.json" "$1"; }
export SOURCES__PINTEREST__CLIENT_ID=sluice-client SOURCES__PINTEREST__CLIENT_SECRET=sluice-secret
export SOURCES__PINTEREST__REFRESH_TOKEN=sluice-refresh-token

gen() { # DEST DIR
  "$SLUICE" init pinterest --spec "$spec" --destination "$1" --out "$2" --endpoints /ad_accounts /boards \
    >"$2.report" || fail "init --destination $1: $(cat "$2.report")"
  sed -i -e "s|https://api.pinterest.com/v5/oauth/token|$base/v5/oauth/token|" \
         -e "s|\"https://api.pinterest.com/v5\"|\"$base/v5\"|" "$2/.sluice/config.toml"
}
count() { # DIR TABLE: rows through `sluice pipeline query`
  (cd "$1" && "$SLUICE" pipeline pinterest_pipeline query --csv "select count(*) from $2" | tail -1 | tr -d '"')
}

# 1. filesystem: a local folder beside the project, nothing else to set
d="$work/fs"
gen filesystem "$d"
has "$d/sluice.toml" 'destination = "filesystem"'
has "$d/.sluice/config.toml" '[destination.filesystem]'
has "$d/.sluice/config.toml" 'bucket_url = "data"'
has "$d/.sluice/config.toml" 'loader_file_format = "parquet"'
has "$d/.sluice/secrets.toml" '[destination.filesystem.credentials]'
has "$d/.sluice/secrets.toml" '# aws_access_key_id = "<your access key id>"'
has "$d/.sluice/secrets.toml" '# aws_secret_access_key = "<your secret access key>"'
has "$d/.sluice/secrets.toml" '# region_name = '
has "$d/.sluice/secrets.toml" 'for the AWS chain'
has "$d/.gitignore" '/data/'
if grep -q '^aws_' "$d/.sluice/secrets.toml"; then fail "a live credential placeholder in secrets.toml"; fi
(cd "$d" && SLUICE_PIPELINES_DIR="$d/.pipelines" "$SLUICE" run >"$d.run" 2>&1) || fail "filesystem run: $(tail -5 "$d.run")"
ls "$d"/data/pinterest_data/ad_accounts/*.parquet >/dev/null 2>&1 || fail "no Parquet files in $d/data/pinterest_data/ad_accounts"
[ -d "$d/data/pinterest_data/_dlt_loads" ] || fail "no _dlt_loads in the filesystem dataset"
export SLUICE_PIPELINES_DIR="$d/.pipelines"
[ "$(count "$d" ad_accounts)" = "$(expect /ad_accounts)" ] || fail "filesystem ad_accounts: $(count "$d" ad_accounts)"
[ "$(count "$d" boards)" = "$(expect /boards)" ] || fail "filesystem boards: $(count "$d" boards)"

# 2. athena: two S3 places to fill in, credentials as comments
d="$work/ath"
gen athena "$d"
has "$d/sluice.toml" 'destination = "athena"'
has "$d/.sluice/config.toml" '[destination.filesystem]'
has "$d/.sluice/config.toml" 'bucket_url = "s3://<your-bucket>/pinterest"'
has "$d/.sluice/config.toml" '[destination.athena]'
has "$d/.sluice/config.toml" 'query_result_bucket = "s3://<your-bucket>/athena-results/"'
has "$d/.sluice/config.toml" 'athena_work_group = "primary"'
has "$d/.sluice/config.toml" 'aws_data_catalog = "awsdatacatalog"'
has "$d/.sluice/secrets.toml" '[destination.athena.credentials]'
has "$d/.sluice/secrets.toml" '# aws_access_key_id = "<your access key id>"'
has "$d/.sluice/secrets.toml" '# endpoint_url = '
if grep -q '^aws_' "$d/.sluice/secrets.toml"; then fail "a live credential placeholder in secrets.toml"; fi
[ -x "$SL_S3RVER" ] || bash "$SL_SOURCE_DIR/scripts/deps.sh" --s3 || fail "no s3rver"
command -v aws >/dev/null || fail "the AWS CLI is needed (scripts/deps.sh --s3)"
sl_start_s3rver "$work/s3" lake || fail "s3rver"
sl_start_athena "$work/s3" || fail "the Athena stand-in"
export SLUICE_PIPELINES_DIR="$d/.pipelines"
(cd "$d" && DESTINATION__FILESYSTEM__BUCKET_URL="s3://lake/pinterest" \
  DESTINATION__ATHENA__QUERY_RESULT_BUCKET="s3://lake/results/" \
  DESTINATION__ATHENA__ENDPOINT_URL="$ATHENA_ENDPOINT" \
  DESTINATION__ATHENA__CREDENTIALS__AWS_ACCESS_KEY_ID=S3RVER \
  DESTINATION__ATHENA__CREDENTIALS__AWS_SECRET_ACCESS_KEY=S3RVER \
  DESTINATION__ATHENA__CREDENTIALS__REGION_NAME=us-east-1 \
  DESTINATION__ATHENA__CREDENTIALS__ENDPOINT_URL="$S3_ENDPOINT" \
  "$SLUICE" run >"$d.run" 2>&1) || fail "athena run: $(tail -5 "$d.run")"
got=$(sl_athena_sql pinterest_data "SELECT count(*) FROM ad_accounts" | tr -d '"') || fail "athena query"
[ "$got" = "$(expect /ad_accounts)" ] || fail "athena ad_accounts: $got, expected $(expect /ad_accounts)"
got=$(sl_athena_sql pinterest_data "SELECT count(*) FROM boards" | tr -d '"') || fail "athena query"
[ "$got" = "$(expect /boards)" ] || fail "athena boards: $got, expected $(expect /boards)"
echo "init_destinations: filesystem and athena projects generated with dlt's keys and loaded as generated"
