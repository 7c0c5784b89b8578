#!/usr/bin/env bash
# Secrets never leave secrets.toml. Three pipelines with every kind of secret
# configured at once, each value distinctive:
#   oauth   the Pinterest simulator pipeline: OAuth2 client secret and refresh
#           token (the simulator rotates it and issues access tokens), loaded
#           into Athena (the stand-in) on S3 with AWS keys (s3rver behind
#           tests/servers/s3_fault_proxy.py, which swaps in the access key id
#           s3rver knows);
#   bearer  the simulator with a static bearer token, into DuckDB;
#   apikey  a small server taking an API key as a query parameter, into a
#           filesystem destination on S3.
# Every command runs, at trace log level: run, pipeline NAME info, trace,
# schema, load-package, failed-jobs, query, show (its HTTP API by curl), sync,
# drop-pending, deploy github-action and cron; and failed runs: a wrong client
# secret, a dead refresh token, a wrong bearer token (401), a wrong API key,
# a truncated body behind a URL with the key in it, unknown AWS keys, an S3
# outage. Then every stdout/stderr, log, trace, every file of the projects
# and their pipelines_dir, the generated workflow, the destination (each
# DuckDB table dumped, the raw .duckdb files, every object in s3rver's
# folder) and the temporary folder are grepped for every secret value (and
# its Basic-auth and JSON forms, and the simulator's token shapes): none
# appears, except in .sluice/secrets.toml and the rotated refresh token file
# (.sluice/pinterest.refresh_token, mode 0600).
set -u
SLUICE=${SLUICE:?path of the sluice binary}
SRC=${SL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export SL_SOURCE_DIR=$SRC
SL_BINARY_DIR=${SL_BINARY_DIR:?build folder (for the Athena stand-in)}
WORK=$(mktemp -d /tmp/sl_secrets_XXXXXX)
. "$SRC/tests/scenarios/lib/common.sh"
. "$SRC/tests/servers/athena_standin_env.sh"
S3_PID=
ATHENA_PID=
PROXY_PID=
KEY_PID=
SHOW_PID=
trap 'sl_stop $SHOW_PID $KEY_PID $ATHENA_PID $PROXY_PID $S3_PID; sl_stop_sims; rm -rf "$WORK"' EXIT
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR" "$WORK/out"
export SLUICE_LOG_LEVEL=trace

CLIENT_SECRET=sl-csecret-7Q2pX9vK4mWz
REFRESH_TOKEN=sl-rtoken-3Hh8Zc1Wq5Ny
BEARER=sl-bearer-5Tn2Rr8Lp0Js
API_KEY=sl-apikey-9Fd4Gh6Jk2Mb
AWS_KEY_ID=AKIASLUICE7TESTKEY9Q
AWS_SECRET=sl-awssecret-Jd83kLm29Qp0xYzT
WRONG_SECRET=sl-wrongsecret-Vb61Ne4Ty8
WRONG_BEARER=sl-wrongbearer-Qs27Lk5Xc3
WRONG_KEY=sl-wrongapikey-Ur84Wp1Zd6
WRONG_AWS_SECRET=sl-wrongaws-Hm35Rt7Yb2Kq
SECRETS=("$CLIENT_SECRET" "$REFRESH_TOKEN" "$BEARER" "$API_KEY" "$AWS_KEY_ID" "$AWS_SECRET"
         "$WRONG_SECRET" "$WRONG_BEARER" "$WRONG_KEY" "$WRONG_AWS_SECRET")
# The forms a value could take on its way out: HTTP Basic of the client
# credentials, and the simulator's access and rotated refresh tokens.
BASIC=$(printf 'sluice-client:%s' "$CLIENT_SECRET" | base64 -w0)
PATTERNS=("${SECRETS[@]}" "$BASIC" 'pin[ar]_[0-9a-f]{16}')

# ---- servers -------------------------------------------------------------------------------
[ -x "$SL_S3RVER" ] || bash "$SRC/scripts/deps.sh" --s3 || exit 1
sl_start_sim sim --size 12 --client-secret "$CLIENT_SECRET" --refresh-token "$REFRESH_TOKEN" \
  --static-token "$BEARER" --strict-refresh --token-ttl 3 || exit 1
SIM=$SIM_BASE
# s3rver checks only the access key id (S3RVER) when told to accept any
# signature; the proxy puts that id into each request signed with ours.
S3_PORT=$(sl_free_port)
mkdir -p "$WORK/s3"
NODE_OPTIONS=--openssl-legacy-provider "$SL_S3RVER" -d "$WORK/s3" -a 127.0.0.1 -p "$S3_PORT" -s \
  --allow-mismatched-signatures --configure-bucket lake > "$WORK/s3.log" 2>&1 &
S3_PID=$!
S3_ENDPOINT=http://127.0.0.1:$S3_PORT
sl_wait_port "$S3_PORT" 300 || { echo "s3rver did not start: $(cat "$WORK/s3.log")" >&2; exit 1; }
python3 "$SRC/tests/servers/s3_fault_proxy.py" --upstream "$S3_ENDPOINT" --access-key S3RVER --port 0 \
  --port-file "$WORK/proxy.port" > "$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 100); do [ -s "$WORK/proxy.port" ] && break; sleep 0.1; done
PROXY=http://127.0.0.1:$(cat "$WORK/proxy.port")
sl_start_athena "$WORK/s3" || exit 1

# The API-key server: /items?api_key=K&page=N, 3 pages of 4 then an empty one; 401 for another
# key; /broken answers 200 with a body cut mid-record.
cat > "$WORK/keysrv.py" <<'PY'
import http.server, json, socketserver, sys, urllib.parse
KEY = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, code, body):
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if q.get("api_key", [""])[0] != KEY:
            return self.send(401, json.dumps({"error": "invalid api key"}))
        if u.path == "/broken":
            return self.send(200, '{"items": [{"id": 1, "name": "a"}, {"id": 2, "na')
        page = int(q.get("page", ["1"])[0])
        items = [{"id": (page - 1) * 4 + i, "name": "n%d" % i} for i in range(4)] if page <= 3 else []
        self.send(200, json.dumps({"items": items}))
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$WORK/keysrv.py" "$WORK/key.port" "$API_KEY" > "$WORK/keysrv.log" 2>&1 &
KEY_PID=$!
for _ in $(seq 100); do [ -s "$WORK/key.port" ] && break; sleep 0.1; done
KEYSRV=http://127.0.0.1:$(cat "$WORK/key.port")

# ---- projects ----------------------------------------------------------------------------------
aws_secrets() { # id secret
  printf '[destination.filesystem.credentials]\naws_access_key_id = "%s"\naws_secret_access_key = "%s"\n' "$1" "$2"
}
O=$WORK/oauth
sl_pinterest_project "$O"
cat >> "$O/sluice.toml" <<TOML
destination = "athena"
dataset_name = "pin_data"
[destination.filesystem]
bucket_url = "s3://lake/oauth"
[destination.filesystem.credentials]
endpoint_url = "$PROXY"
region_name = "us-east-1"
[destination.athena]
endpoint_url = "$ATHENA_ENDPOINT"
query_result_bucket = "s3://lake/results/"
TOML
oauth_secrets() { # client_secret refresh_token aws_secret
  { printf '[sources.pinterest]\nclient_secret = "%s"\nrefresh_token = "%s"\n' "$1" "$2"
    aws_secrets "$AWS_KEY_ID" "$3"; } > "$O/.sluice/secrets.toml"
}
oauth_secrets "$CLIENT_SECRET" "$REFRESH_TOKEN" "$AWS_SECRET"
sed -i "s|^base_url = .*|base_url = \"$SIM/v5\"|" "$O/.sluice/config.toml"

B=$WORK/bearer
mkdir -p "$B/.sluice"
cat > "$B/sluice.toml" <<'TOML'
[pipeline]
name = "bearer"
source = "pins.source.yaml"
pipelines_dir = ".sluice/pipelines"
TOML
cat > "$B/pins.source.yaml" <<'YAML'
name: pins
client:
  base_url: ${sources.pins.base_url}
  auth: {type: bearer, token: "${sources.pins.token}"}
  paginator: {type: cursor, cursor_path: bookmark, cursor_param: bookmark}
resource_defaults:
  primary_key: id
  write_disposition: merge
  endpoint: {data_selector: items, params: {page_size: 50}}
resources:
  - name: ad_accounts
    endpoint: {path: ad_accounts}
  - name: campaigns
    endpoint: {path: "ad_accounts/{resources.ad_accounts.id}/campaigns"}
  - name: pins
    endpoint: {path: pins}
YAML
printf '[sources.pins]\nbase_url = "%s/v5"\n' "$SIM" > "$B/.sluice/config.toml"
printf '[sources.pins]\ntoken = "%s"\n' "$BEARER" > "$B/.sluice/secrets.toml"

K=$WORK/apikey
mkdir -p "$K/.sluice"
cat > "$K/sluice.toml" <<TOML
[pipeline]
name = "apikey"
source = "keyed.source.yaml"
pipelines_dir = ".sluice/pipelines"
destination = "filesystem"
[destination.filesystem]
bucket_url = "s3://lake/keyed"
[destination.filesystem.credentials]
endpoint_url = "$PROXY"
region_name = "us-east-1"
TOML
cat > "$K/keyed.source.yaml" <<'YAML'
name: keyed
client:
  base_url: ${sources.keyed.base_url}
  auth: {type: api_key, name: api_key, location: query, api_key: "${sources.keyed.api_key}"}
  paginator: {type: page_number, page_param: page, base_page: 1, total_path: null}
resources:
  - name: items
    primary_key: id
    endpoint: {path: items, data_selector: items}
YAML
printf '[sources.keyed]\nbase_url = "%s"\n' "$KEYSRV" > "$K/.sluice/config.toml"
key_secrets() { # api_key [aws_secret]
  { printf '[sources.keyed]\napi_key = "%s"\n' "$1"; aws_secrets "$AWS_KEY_ID" "${2:-$AWS_SECRET}"; } > "$K/.sluice/secrets.toml"
}
key_secrets "$API_KEY"

# ---- commands ----------------------------------------------------------------------------------
n=0
sl() { # label dir args...: run sluice in dir, output to out/label.{out,err}; sets rc
  local label=$1 dir=$2
  shift 2
  n=$((n + 1))
  (cd "$dir" && "$SLUICE" "$@" < /dev/null > "$WORK/out/$n.$label.out" 2> "$WORK/out/$n.$label.err")
  rc=$?
  LAST=$WORK/out/$n.$label
}
pl() { # label dir name command args...: sluice pipeline NAME ... in dir
  local label=$1 dir=$2 name=$3
  shift 3
  sl "$label" "$dir" -v -v pipeline "$name" "$@" --pipelines-dir .sluice/pipelines
}
inspect() { # dir name table
  local d=$1 nm=$2 t=$3 c
  pl info "$d" "$nm" info; check "$nm: info exits 0" eq $rc 0
  pl info_json "$d" "$nm" info --json; check "$nm: info --json exits 0" eq $rc 0
  pl trace "$d" "$nm" trace; check "$nm: trace exits 0" eq $rc 0
  pl trace_json "$d" "$nm" trace --json; check "$nm: trace --json exits 0" eq $rc 0
  pl schema "$d" "$nm" schema; check "$nm: schema exits 0" eq $rc 0
  pl schema_json "$d" "$nm" schema --format json; check "$nm: schema json exits 0" eq $rc 0
  pl load_package "$d" "$nm" load-package; check "$nm: load-package exits 0 or 1 (none left)" test $rc -le 1
  pl failed_jobs "$d" "$nm" failed-jobs --json; check "$nm: failed-jobs exits 0" eq $rc 0
  pl query "$d" "$nm" query "SELECT * FROM $t ORDER BY 1 LIMIT 5" --format json
  check "$nm: query exits 0 ($(tail -1 "$LAST.err"))" eq $rc 0
  pl query_loads "$d" "$nm" query "SELECT * FROM _dlt_loads" --csv; check "$nm: query _dlt_loads exits 0" eq $rc 0
  pl query_state "$d" "$nm" query "SELECT * FROM _dlt_pipeline_state" --csv
  check "$nm: query _dlt_pipeline_state exits 0" eq $rc 0
  # show: the HTTP API, every endpoint
  (cd "$d" && exec "$SLUICE" -v -v pipeline "$nm" show --port 0 --pipelines-dir .sluice/pipelines \
     > "$WORK/out/show.$nm.out" 2> "$WORK/out/show.$nm.err") &
  SHOW_PID=$!
  for _ in $(seq 100); do grep -q "http://127.0.0.1:" "$WORK/out/show.$nm.out" && break; sleep 0.1; done
  local url
  url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$WORK/out/show.$nm.out")
  check "$nm: show serves ($url)" test -n "$url"
  for c in "" "api/overview" "api/traces" "api/table?name=$t&offset=0&limit=50" \
           "api/table?name=_dlt_loads" "api/query?sql=select%20*%20from%20$t%20limit%2010" \
           "api/query?sql=select%20*%20from%20_dlt_pipeline_state"; do
    curl -s "$url$c" > "$WORK/out/show.$nm.$(echo "$c" | tr -c 'a-z0-9' _).json"
  done
  check "$nm: show's overview answered" test -s "$WORK/out/show.$nm.api_overview_.json"
  sl_stop $SHOW_PID
  SHOW_PID=
  pl sync "$d" "$nm" sync; check "$nm: sync exits 0 ($(tail -1 "$LAST.err"))" eq $rc 0
  pl drop_pending "$d" "$nm" drop-pending; check "$nm: drop-pending exits 0" eq $rc 0
}

# oauth: run (the token expires in 3 s, so it is refreshed and rotated on
# the way), twice, then every command; Athena answers the queries.
sl run "$O" -v -v run .
check "oauth: run exits 0 ($(tail -1 "$LAST.err"))" eq $rc 0
check "oauth: the refresh token was rotated (a new one kept)" test -s "$O/.sluice/pinterest.refresh_token"
check "oauth: the rotated refresh token file is private (0600)" eq "$(stat -c %a "$O/.sluice/pinterest.refresh_token")" 600
sleep 3.2 # the access token dies: the next run refreshes with the rotated token
sl run2 "$O" -v -v run .
check "oauth: second run exits 0 ($(tail -1 "$LAST.err"))" eq $rc 0
got=$(sl_athena_sql pin_data "SELECT count(*) FROM pins" 2>&1)
check "oauth: Athena holds the simulator's pins" eq "$got" "$(sl_expected_items "$SIM" /pins)"
inspect "$O" pinterest pins
(cd "$O" && git init -q . && "$SLUICE" deploy github-action --schedule "*/30 * * * *" --sluice-repo https://example.invalid/sluice.git . \
   > "$WORK/out/deploy.out" 2> "$WORK/out/deploy.err")
check "oauth: deploy github-action exits 0 ($(tail -1 "$WORK/out/deploy.err"))" eq $? 0
wf=$(ls "$O"/.github/workflows/*.yml 2> /dev/null | head -1)
check "oauth: the workflow names the secrets by environment variable" \
  grep -q "SOURCES__PINTEREST__CLIENT_SECRET" "$wf"
sl cron "$O" deploy cron .
check "oauth: deploy cron exits 0" eq $rc 0

# bearer, apikey: run, every command
sl run "$B" -v -v run .
check "bearer: run exits 0 ($(tail -1 "$LAST.err"))" eq $rc 0
check "bearer: pins loaded" eq "$(sl_count "$B" bearer pins)" "$(sl_expected_items "$SIM" /pins)"
inspect "$B" bearer pins
sl run "$K" -v -v run .
check "apikey: run exits 0 ($(tail -1 "$LAST.err"))" eq $rc 0
check "apikey: 12 items over 3 pages" eq "$(sl_count "$K" apikey items)" 12
inspect "$K" apikey items

# ---- failed runs -----------------------------------------------------------------------------------
fails_with() { # label dir want-rc grep-pattern
  sl "$1" "$2" -v -v run .
  check "$1: exits $3, got $rc" eq $rc "$3"
  check "$1: says why: $(grep -v '^\s*$' "$LAST.err" | tail -1 | cut -c1-300)" grep -q -e "$4" "$LAST.err"
}
mv "$O/.sluice/pinterest.refresh_token" "$WORK/rotated"
oauth_secrets "$WRONG_SECRET" "$REFRESH_TOKEN" "$AWS_SECRET"
fails_with "oauth_wrong_client_secret" "$O" 3 "HTTP 401"
check "the failed extract left no package" test -z "$(ls "$O/.sluice/pipelines/pinterest/packages" 2> /dev/null)"
oauth_secrets "$CLIENT_SECRET" "$REFRESH_TOKEN" "$AWS_SECRET" # used once already: dead (strict rotation)
fails_with "oauth_dead_refresh_token" "$O" 3 "HTTP 400"
mv "$WORK/rotated" "$O/.sluice/pinterest.refresh_token"
oauth_secrets "$CLIENT_SECRET" "$REFRESH_TOKEN" "$AWS_SECRET"
curl -s -X POST "$PROXY/__proxy/fail?after=3&count=-1&methods=PUT" > /dev/null
fails_with "oauth_s3_outage" "$O" 4 "HTTP 500"
curl -s -X POST "$PROXY/__proxy/ok" > /dev/null
pl failed_jobs_after "$O" pinterest failed-jobs
pl load_package_after "$O" pinterest load-package
pl info_after "$O" pinterest info
sl run_after "$O" -v -v run .
check "oauth: after the failures, a run completes ($(tail -1 "$LAST.err"))" eq $rc 0
unset SOURCES__PINTEREST__BASE_URL
printf '[sources.pins]\nbase_url = "%s/v5"\n' "$SIM" > "$B/.sluice/config.toml"
printf '[sources.pins]\ntoken = "%s"\n' "$WRONG_BEARER" > "$B/.sluice/secrets.toml"
fails_with "bearer_wrong_token" "$B" 3 "HTTP 401"
key_secrets "$WRONG_KEY"
fails_with "apikey_wrong_key" "$K" 3 "HTTP 401"
# Unknown AWS keys: straight to s3rver, which knows only its own key id
# (the proxy swaps it in) and answers 403 InvalidAccessKeyId naming ours.
key_secrets "$API_KEY" "$WRONG_AWS_SECRET"
export DESTINATION__FILESYSTEM__CREDENTIALS__ENDPOINT_URL=$S3_ENDPOINT
fails_with "apikey_unknown_aws_keys" "$K" 4 "HTTP 403"
unset DESTINATION__FILESYSTEM__CREDENTIALS__ENDPOINT_URL
key_secrets "$API_KEY"
sed -i 's/path: items/path: broken/' "$K/keyed.source.yaml"
fails_with "apikey_truncated_body" "$K" 3 "broken"
check "apikey: the truncated body's error names the URL with the key redacted" \
  grep -q "broken?api_key=\*\*\*\|api_key=\*\*\*" "$LAST.err"
pl trace_failed "$K" apikey trace
pl trace_failed_json "$K" apikey trace --json
pl info_failed "$K" apikey info

# ---- the grep ------------------------------------------------------------------------------------------
# Dump every table of the DuckDB destination as CSV (the values as stored).
for t in $( (cd "$B" && "$SLUICE" pipeline bearer query --pipelines-dir .sluice/pipelines --csv \
             "SELECT table_schema || '.' || table_name FROM information_schema.tables" 2> /dev/null) | tail -n +2); do
  (cd "$B" && "$SLUICE" pipeline bearer query --pipelines-dir .sluice/pipelines --csv "SELECT * FROM $t") \
    > "$WORK/out/dump.$t.csv" 2>&1
done
ndump=$(ls "$WORK"/out/dump.*.csv | wc -l)
check "the DuckDB destination dumped ($ndump tables)" test "$ndump" -ge 5
# Athena's tables through the stand-in as well.
for t in pins ad_accounts _dlt_loads _dlt_pipeline_state _dlt_version; do
  sl_athena_sql pin_data "SELECT * FROM $t" > "$WORK/out/athena.$t.csv" 2>&1
done
check "Athena dump has the state" test -s "$WORK/out/athena._dlt_pipeline_state.csv"

files=()
while IFS= read -r -d '' f; do
  case "$f" in
    */.sluice/secrets.toml | */.sluice/pinterest.refresh_token) continue ;;
    "$WORK"/s3.log | "$WORK"/proxy.log | "$WORK"/sim*.log | "$WORK"/keysrv.* | "$WORK"/*.port | "$WORK"/s3.athena.log) continue ;;
    */.git/*) continue ;;
  esac
  files+=("$f")
done < <(find "$WORK" -type f -print0)
nfiles=${#files[@]}
bytes=$(cat "${files[@]}" | wc -c)
s3objs=$(find "$WORK/s3" -type f | wc -l)
scan() { # quiet|loud files...: sets found = how many patterns occur in the files
  local loud=$1 pat hits
  shift
  found=0
  for pat in "${PATTERNS[@]}"; do
    hits=$(grep -a -l -E -e "$pat" "$@" 2> /dev/null)
    [ -n "$hits" ] || continue
    found=$((found + 1))
    [ "$loud" = loud ] || continue
    echo "leak of '$pat' in:" >&2
    echo "$hits" | head -5 >&2
    grep -a -o -h -E ".{0,60}$pat.{0,20}" $hits 2> /dev/null | head -3 >&2
  done
}
scan loud "${files[@]}"
leaks=$found
check "no secret in $nfiles files ($bytes bytes, $s3objs S3 files, $n commands) for ${#PATTERNS[@]} patterns" eq $leaks 0
# The same scan sees them where they are meant to be: the live values in
# the secrets files, a rotated token in its file.
scan quiet "$O/.sluice/secrets.toml" "$B/.sluice/secrets.toml" "$K/.sluice/secrets.toml" \
  "$O/.sluice/pinterest.refresh_token"
check "the scan finds 6 live secrets and a token where they belong ($found patterns)" test "$found" -ge 7
check "the simulator issued access tokens" test "$(curl -s "$SIM/__admin/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"].get("tokens_issued", 0))')" -gt 0
check "*** marks where a secret was" grep -rqF '***' "$WORK/out"
echo "secrets: ${#SECRETS[@]} values, ${#PATTERNS[@]} patterns, $nfiles files, $bytes bytes, $n commands"

finish
