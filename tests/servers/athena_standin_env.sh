# Sourced by the filesystem/Athena scenario tests: start and stop s3rver (and
# the Athena stand-in) on free local ports. s3rver 3.7 signs its list
# continuation tokens with DES, which Node 20's OpenSSL 3 only has in its
# legacy provider: hence NODE_OPTIONS below.
SL_S3RVER=${SL_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/.deps/node/node_modules/.bin/s3rver

sl_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

sl_wait_port() { # port [tries]
  local i
  for i in $(seq 1 "${2:-200}"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# sl_start_s3rver DIR BUCKET...: sets S3_PORT, S3_PID, S3_ENDPOINT
sl_start_s3rver() {
  local dir=$1
  shift
  [ -x "$SL_S3RVER" ] || { echo "s3rver is not installed: run scripts/deps.sh --s3" >&2; return 1; }
  mkdir -p "$dir"
  S3_PORT=$(sl_free_port)
  local args=()
  for b in "$@"; do args+=(--configure-bucket "$b"); done
  NODE_OPTIONS=--openssl-legacy-provider "$SL_S3RVER" -d "$dir" -a 127.0.0.1 -p "$S3_PORT" -s "${args[@]}" \
    > "$dir.log" 2>&1 &
  S3_PID=$!
  S3_ENDPOINT=http://127.0.0.1:$S3_PORT
  sl_wait_port "$S3_PORT" 300 || { echo "s3rver did not start:" >&2; cat "$dir.log" >&2; return 1; }
}

sl_stop() { # pid...
  local p
  for p in "$@"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  return 0
}

# The AWS CLI against s3rver (an independent client).
sl_aws() {
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true aws "$@"
}

# sl_start_athena DIR: the stand-in on a free port, reading objects from
# $S3_ENDPOINT; sets ATHENA_PORT, ATHENA_PID, ATHENA_ENDPOINT.
sl_start_athena() {
  local bin=${SL_BINARY_DIR:?}/tests/athena_standin
  [ -x "$bin" ] || { echo "no $bin: build the tests" >&2; return 1; }
  ATHENA_PORT=$(sl_free_port)
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER "$bin" --port "$ATHENA_PORT" \
    --s3-endpoint "$S3_ENDPOINT" > "$1.athena.log" 2>&1 &
  ATHENA_PID=$!
  ATHENA_ENDPOINT=http://127.0.0.1:$ATHENA_PORT
  sl_wait_port "$ATHENA_PORT" 100 || { echo "the Athena stand-in did not start:" >&2; cat "$1.athena.log" >&2; return 1; }
}

# The Python that has botocore (the AWS CLI's SDK), for athena_sql.py: one
# process per statement instead of three or more CLI starts. Found once, when
# this file is sourced (the callers run in subshells); empty when there is
# none, and then the CLI does it all.
SL_SERVERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${SL_BOTO_PY+set}" ]; then
  SL_BOTO_PY=
  for _py in python3 /usr/bin/python3; do
    # sys.executable: the interpreter itself, not a version manager's shim.
    SL_BOTO_PY=$("$_py" -c 'import sys, botocore.session; print(sys.executable)' 2>/dev/null) && break
  done
  unset _py
  export SL_BOTO_PY
fi

# sl_athena_sql DATABASE SQL: start, poll, results; print rows as CSV without
# the header; exit 1 with the reason on FAILED. Through botocore
# (athena_sql.py) when a Python has it, else through the AWS CLI.
sl_athena_sql() {
  if [ -n "$SL_BOTO_PY" ]; then
    AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER ATHENA_ENDPOINT=$ATHENA_ENDPOINT \
      "$SL_BOTO_PY" "$SL_SERVERS_DIR/athena_sql.py" "$1" "$2"
    return
  fi
  local id state
  id=$(sl_aws athena start-query-execution --endpoint-url "$ATHENA_ENDPOINT" \
        --query-execution-context "Database=$1" --query-string "$2" \
        --query QueryExecutionId --output text) || return 1
  for _ in $(seq 1 100); do
    state=$(sl_aws athena get-query-execution --endpoint-url "$ATHENA_ENDPOINT" \
              --query-execution-id "$id" --query QueryExecution.Status.State --output text) || return 1
    case "$state" in
      SUCCEEDED) break ;;
      FAILED|CANCELLED)
        sl_aws athena get-query-execution --endpoint-url "$ATHENA_ENDPOINT" --query-execution-id "$id" \
          --query QueryExecution.Status.StateChangeReason --output text >&2
        return 1 ;;
    esac
    sleep 0.1
  done
  sl_aws athena get-query-results --endpoint-url "$ATHENA_ENDPOINT" --query-execution-id "$id" --output json |
    python3 -c '
import json, sys, csv
rows = json.load(sys.stdin)["ResultSet"]["Rows"][1:]
w = csv.writer(sys.stdout, lineterminator="\n")
for r in rows:
    w.writerow([d.get("VarCharValue", "") for d in r["Data"]])'
}
