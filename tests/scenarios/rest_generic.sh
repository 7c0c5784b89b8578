#!/usr/bin/env bash
# The REST source end to end against tests/servers/generic_api.py: every
# paginator (and auto), every auth type (a token that expires mid-run),
# parent -> child with two resolved path variables, include_from_parent,
# incremental across runs, response actions, --limit in pages, and faults
# (5xx, 429, truncated bodies) with row counts checked in DuckDB.
set -u
SLUICE=${SLUICE:?path of the sluice binary}
SRC=${SL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=$(mktemp -d /tmp/sl_rest_XXXXXX)
SRV_PID=
cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
pass=0
fail=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
# A run's status goes into rc before a check whose message has a $(...): that
# substitution sets $? again, and "test $? -eq 0" would then always pass.
eq() { [ "$1" = "$2" ] || { echo "  expected '$2', got '$1'" >&2; return 1; }; }

start_server() { # flags...
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
  rm -f "$WORK/port"
  python3 "$SRC/tests/servers/generic_api.py" --port 0 --port-file "$WORK/port" "$@" \
    > "$WORK/server.log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  PORT=$(cat "$WORK/port")
  BASE=http://127.0.0.1:$PORT
}

P=$WORK/proj
new_project() { # name
  rm -rf "$P"
  mkdir -p "$P/.sluice"
  cat > "$P/sluice.toml" <<TOML
[pipeline]
name = "$1"
source = "gen.source.yaml"
pipelines_dir = "wd"
TOML
  cat > "$P/.sluice/secrets.toml" <<'TOML'
[sources.gen]
token = "generic-token"
api_key = "generic-key"
password = "pass"
client_secret = "generic-secret"
refresh_token = "generic-refresh"
TOML
}
q() { # pipeline, sql -> the single value
  (cd "$P" && "$SLUICE" pipeline "$1" query --pipelines-dir wd --format csv "$2" 2>&1) | tail -1
}
run() { (cd "$P" && "$SLUICE" run . "$@" > "$WORK/out" 2> "$WORK/err"); }
# The requests the server saw (GET /__admin/requests), path and query:
#   sent PATH PARAM [NAME=VALUE]  values of PARAM in requests to PATH (with NAME=VALUE), in order
#   paths PREFIX                  the (decoded) paths that start with PREFIX
SENT_PY='
import json, sys
from urllib.parse import urlsplit, parse_qs, unquote
mode, a, b, f = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
out = []
for r in json.load(sys.stdin)["requests"]:
    u = urlsplit(r)
    p, q = unquote(u.path), parse_qs(u.query, keep_blank_values=True)
    if mode == "paths":
        if p.startswith(a): out.append(p)
        continue
    k, _, v = f.partition("=")
    if p == a and (not f or q.get(k, [None])[-1] == v): out.append(q.get(b, ["-"])[-1])
print(" ".join(out))'
sent() { curl -s "$BASE/__admin/requests" | python3 -c "$SENT_PY" sent "$1" "$2" "${3:-}"; }
paths() { curl -s "$BASE/__admin/requests" | python3 -c "$SENT_PY" paths "$1" - ""; }
requests() { curl -s "$BASE/__admin/stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["requests"] if len(sys.argv) < 2 else d["by_endpoint"].get(sys.argv[1], 0))' "$@"; }

# ---- paginators ---------------------------------------------------------------------
start_server
new_project pag
cat > "$P/gen.source.yaml" <<EOF
name: gen
client:
  base_url: $BASE/
resources:
  - name: json_link
    endpoint: {path: json_link/items, data_selector: data, paginator: json_link}
  - name: auto_json_link
    endpoint: json_link/items
  - name: header_link
    endpoint: {path: header_link/items, paginator: header_link}
  - name: auto_header_link
    endpoint: header_link/items
  - name: cursor
    endpoint:
      path: cursor/items
      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor}
  - name: cursor_nested
    endpoint:
      path: cursor_nested/items
      data_selector: items
      paginator: {type: cursor, cursor_path: meta.next_cursor}
  - name: auto_cursor_nested
    endpoint: cursor_nested/items
  - name: offset_items
    endpoint:
      path: offset/items
      paginator: {type: offset, limit: 7}
  - name: offset_no_total
    endpoint:
      path: offset/items
      paginator: {type: offset, limit: 20, total_path: null}
  - name: page_number
    endpoint:
      path: page_number/items
      params: {per_page: 6}
      paginator: {type: page_number, base_page: 1, total_path: total_pages}
  - name: auto_page_number
    endpoint: {path: page_number/items, params: {per_page: 6}}
  - name: single
    endpoint: {path: single/items, paginator: single_page}
  - name: single_array
    endpoint: single/array
  - name: single_object
    endpoint: single/object
  - name: bookmark
    endpoint:
      path: bookmark/items
      paginator: {type: cursor, cursor_path: bookmark, cursor_param: bookmark}
  - name: auto_bookmark
    endpoint: bookmark/items
EOF
run
rc=$?
check "paginators: run exits 0 ($(tail -3 "$WORK/err"))" test $rc -eq 0
for t in json_link auto_json_link header_link auto_header_link cursor cursor_nested \
         auto_cursor_nested offset_items offset_no_total page_number auto_page_number single single_array \
         bookmark auto_bookmark; do
  check "paginator $t loads 53 rows" eq "$(q pag "SELECT count(*) FROM $t")" 53
  check "paginator $t: 53 distinct ids" eq "$(q pag "SELECT count(DISTINCT id) FROM $t")" 53
done
check "single object: one row" eq "$(q pag "SELECT count(*) FROM single_object")" 1
check "nested list normalized" eq "$(q pag "SELECT count(*) FROM cursor__tags")" \
  "$(q pag "SELECT count(*) FROM single__tags")"
stats=$(curl -s "$BASE/__admin/stats")
req() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["by_endpoint"].get(sys.argv[2], 0))' "$stats" "$1"; }
# auto never fetches page 1 twice: exactly as many requests as the explicit paginator
check "json_link requests (2 x 6)" eq "$(req /json_link/items)" 12
check "header_link requests (2 x 6)" eq "$(req /header_link/items)" 12
check "page_number requests (2 x 9)" eq "$(req /page_number/items)" 18
check "cursor_nested requests (2 x 6)" eq "$(req /cursor_nested/items)" 12
check "offset requests (8 + 3 + the empty page)" eq "$(req /offset/items)" 12
# Pinterest's bookmark: auto takes it as a cursor sent back as ?bookmark=, and
# asks for page 1 once (a repeated first page would also come back as 10 duplicates)
check "bookmark requests (2 x 6: page 1 once each)" eq "$(req /bookmark/items)" 12
check "bookmark: 2 first pages without a bookmark, 10 with one" eq \
  "$(sent /bookmark/items bookmark | tr ' ' '\n' | sort | uniq -c | awk '$2 == "-" {print $1} $2 != "-" {n++} END {print n}' | xargs)" "2 5"

# --limit counts pages for REST resources
rm -rf "$P/wd" "$P"/*.duckdb
run --limit 2
check "--limit run exits 0" test $? -eq 0
check "--limit 2: two pages of cursor (10 each)" eq "$(q pag "SELECT count(*) FROM cursor")" 20
check "--limit 2: two pages of offset (7 each)" eq "$(q pag "SELECT count(*) FROM offset_items")" 14

# endpoint.limit: the same page limit in the YAML (resource_defaults or one
# endpoint; null lifts it); with --limit as well, the smaller wins
new_project lim
cat > "$P/gen.source.yaml" <<EOF
name: gen
client:
  base_url: $BASE/
resource_defaults:
  endpoint: {limit: 3}
resources:
  - name: two_pages
    endpoint: {path: cursor/items, limit: 2}
  - name: default_limit
    endpoint: {path: bookmark/items}
  - name: unlimited
    endpoint: {path: json_link/items, limit: null}
EOF
curl -s -XPOST "$BASE/__admin/reset" > /dev/null
run
rc=$?
check "endpoint limit: run exits 0 ($(tail -2 "$WORK/err"))" test $rc -eq 0
check "limit 2: exactly two pages of rows" eq "$(q lim "SELECT count(*) FROM two_pages")" 20
check "limit 2: exactly two requests" eq "$(requests /cursor/items)" 2
check "resource_defaults limit 3: three pages" eq "$(q lim "SELECT count(*) FROM default_limit")" 30
check "resource_defaults limit 3: three requests" eq "$(requests /bookmark/items)" 3
check "limit null: every page" eq "$(q lim "SELECT count(*) FROM unlimited")" 53
rm -rf "$P/wd" "$P"/*.duckdb
curl -s -XPOST "$BASE/__admin/reset" > /dev/null
run --limit 1
check "--limit 1 under limit 2: one page" eq "$(q lim "SELECT count(*) FROM two_pages")" 10
check "--limit 1 under limit 2: one request" eq "$(requests /cursor/items)" 1
sed -i 's/limit: 2}/limit: 0}/' "$P/gen.source.yaml"
run
check "limit 0 is refused before any request" test $? -ne 0
check "limit 0: file, line and why" grep -q "gen.source.yaml:8:.*'limit' must be at least 1" "$WORK/err"

# ---- auth (a token lives 2 s or 10 requests; the server also expires every token mid-run) ----
start_server --token-ttl 2 --token-max-uses 10 --latency-ms 60 --strict-refresh
new_project auth
auth_yaml() {
cat > "$P/gen.source.yaml" <<EOF
name: gen
client:
  base_url: $BASE/
resources:
  - name: bearer
    endpoint:
      path: auth/bearer/items
      auth: {type: bearer, token: "\${sources.gen.token}"}
  - name: api_key_header
    endpoint:
      path: auth/api_key_header/items
      auth: {type: api_key, name: X-API-Key, api_key: "\${sources.gen.api_key}"}
  - name: api_key_query
    endpoint:
      path: auth/api_key_query/items
      auth: {type: api_key, name: api_key, api_key: "\${sources.gen.api_key}", location: query}
  - name: basic
    endpoint:
      path: auth/basic/items
      auth: {type: http_basic, username: user, password: "\${sources.gen.password}"}
  - name: oauth2
    endpoint:
      path: auth/oauth2/items
      params: {limit: 3}
      auth:
        type: oauth2_client_credentials
        access_token_url: $BASE/oauth/token
        client_id: generic-client
        client_secret: \${sources.gen.client_secret}
  - name: refresh
    endpoint:
      path: auth/refresh/items
      params: {limit: 1}
      auth:
        type: oauth2_refresh_token
        access_token_url: $BASE/oauth/token
        client_id: generic-client
        client_secret: \${sources.gen.client_secret}
        refresh_token: \${sources.gen.refresh_token}
EOF
}
auth_yaml
# the server also expires every token every 2 s: 401 -> refresh -> retry at once. (Every
# second was too often for a slow machine: a token fetched for the retry could die
# before its request reached the server, twice in a row.)
(for _ in $(seq 6); do sleep 2; curl -s -XPOST "$BASE/__admin/expire_tokens" > /dev/null; done) &
EXPIRER=$!
run
rc=$?
kill $EXPIRER 2>/dev/null; wait $EXPIRER 2>/dev/null
check "auth: run exits 0 ($(grep -v warning "$WORK/err" | tail -3))" test $rc -eq 0
for t in bearer api_key_header api_key_query basic oauth2 refresh; do
  check "auth $t loads 53 rows" eq "$(q auth "SELECT count(*) FROM $t")" 53
done
tokens=$(curl -s "$BASE/__admin/stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["counters"].get("tokens_issued", 0))')
# 53 pages of refresh and 18 of oauth2 at 10 requests a token: 6 + 2 tokens at least,
# whatever the speed of the machine (the 2 s lifetime and the expirer add more)
check "tokens were refreshed mid-run (issued: $tokens)" test "$tokens" -ge 8
check "the rotated refresh token is kept" test -s "$P/.sluice/gen.refresh.refresh_token"
check "no secret in the logs" bash -c "! grep -q -e generic-token -e generic-key -e generic-secret -e generic-refresh '$WORK/err' '$WORK/out'"
check "no token in the destination" bash -c "! strings '$P'/*.duckdb | grep -q -e generic-token -e generic-secret"
# strict rotation: the first refresh token is dead now; the kept one works
rm -rf "$P/wd" "$P"/*.duckdb
run
rc=$?
check "second run with the rotated refresh token ($(tail -2 "$WORK/err"))" test $rc -eq 0
check "refresh loads again" eq "$(q auth "SELECT count(*) FROM refresh")" 53
# a wrong key: a clear error naming the URL, the key redacted
sed -i 's/api_key = "generic-key"/api_key = "wrong-key-123"/' "$P/.sluice/secrets.toml"
run
rc=$?
check "wrong api key fails" test $rc -ne 0
check "error names the status" grep -q "401" "$WORK/err"
check "wrong key redacted" bash -c "! grep -q wrong-key-123 '$WORK/err'"

# ---- parent -> child, two path variables, response actions ------------------------------
start_server
new_project tree
cat > "$P/gen.source.yaml" <<EOF
name: gen
client:
  base_url: $BASE/
resources:
  - name: orgs
    endpoint: {path: orgs, paginator: single_page}
  - name: projects
    endpoint:
      path: orgs/{org_id}/projects
      params:
        org_id: {type: resolve, resource: orgs, field: id}
  - name: tasks
    include_from_parent: [id, title]
    endpoint:
      path: orgs/{resources.projects.org_id}/projects/{resources.projects.id}/tasks
      params: {limit: 3}
  - name: parents
    selected: false
    endpoint: actions/parents
  - name: children
    endpoint:
      path: actions/parents/{resources.parents.id}/children
      response_actions:
        - {status_code: 404, action: ignore}
  - name: no_content
    endpoint:
      path: actions/no_content
      response_actions: [{status_code: 204, action: ignore}]
  - name: error_body
    endpoint:
      path: actions/error_body
      response_actions: [{content: "temporarily unavailable", action: ignore}]
  - name: flaky
    endpoint:
      path: actions/flaky
      params: {key: k1, fails: 2}
      response_actions: [{content: "try again later", action: retry}]
EOF
run
rc=$?
check "tree: run exits 0 ($(tail -3 "$WORK/err"))" test $rc -eq 0
check "orgs" eq "$(q tree "SELECT count(*) FROM orgs")" 4
check "projects" eq "$(q tree "SELECT count(*) FROM projects")" 8
check "tasks: every task of every project (two path variables)" eq "$(q tree "SELECT count(*) FROM tasks")" 56
check "tasks carry their parent's fields" eq "$(q tree "SELECT count(*) FROM tasks WHERE _projects_id = project_id AND _projects_title LIKE 'Project %'")" 56
check "unselected parent is not loaded" bash -c "! grep -q '^  parents ' '$WORK/out'"
check "404 children ignored, others loaded" eq "$(q tree "SELECT count(*) FROM children")" 12
check "flaky retried until data" eq "$(q tree "SELECT count(*) FROM flaky")" 3
check "error body ignored: no rows" bash -c "! grep -q '^  error_body ' '$WORK/out'"
# a parent with no rows makes no child requests: the run asks for the parent
# list and for nothing else
new_project empty
cat > "$P/gen.source.yaml" <<EOF
name: gen
client:
  base_url: $BASE/
resources:
  - name: no_parents
    endpoint: {path: actions/parents, params: {n: 0}, paginator: single_page}
  - name: orphans
    endpoint: actions/parents/{resources.no_parents.id}/children
  - name: orphans_by_param
    endpoint:
      path: actions/parents/{pid}/children
      params:
        pid: {type: resolve, resource: no_parents, field: id}
EOF
before=$(requests)
children_before=$(requests "/actions/parents/{id}/children")
run
rc=$?
check "empty parent: run exits 0 ($(tail -2 "$WORK/err"))" test $rc -eq 0
check "empty parent: one request, the parent's" eq "$(( $(requests) - before ))" 1
check "empty parent: no child request" eq "$(requests "/actions/parents/{id}/children")" "$children_before"
check "empty parent: no child rows" bash -c "! grep -q -e '^  orphans' '$WORK/out'"

# status AND content in one rule: both must match; a status-only rule after
# content rules decides when none of them matches the body
new_project both
cat > "$P/gen.source.yaml" <<EOF
name: gen
client:
  base_url: $BASE/
resources:
  - name: both_match
    endpoint:
      path: actions/status
      params: {code: 409, msg: "quota exceeded for today"}
      response_actions: [{status_code: 409, content: "quota exceeded", action: ignore}]
  - name: content_only_matches
    endpoint:
      path: actions/status
      params: {code: 200, msg: "quota exceeded for today"}
      response_actions: [{status_code: 409, content: "quota exceeded", action: ignore}]
  - name: falls_back
    endpoint:
      path: actions/status
      params: {code: 409, msg: "version conflict"}
      response_actions:
        - {status_code: 409, content: "quota exceeded", action: fail, message: "the quota is used up"}
        - {status_code: 409, action: ignore}
  - name: retry_on_both
    endpoint:
      path: actions/flaky
      params: {key: both, fails: 2}
      response_actions: [{status_code: 200, content: "try again later", action: retry}]
EOF
run
rc=$?
check "status and content: run exits 0 ($(tail -2 "$WORK/err"))" test $rc -eq 0
check "status and content match: ignored" bash -c "! grep -q '^  both_match ' '$WORK/out'"
check "content matches, status not: the rows load" eq "$(q both "SELECT count(*) FROM content_only_matches")" 3
check "status matches, content not: the next rule ignores" bash -c "! grep -q '^  falls_back ' '$WORK/out'"
check "200 + content: retried until data" eq "$(q both "SELECT count(*) FROM retry_on_both")" 3
check "200 + content: three attempts" eq "$(sent /actions/flaky key | tr ' ' '\n' | grep -c '^both$')" 3
cat > "$P/gen.source.yaml" <<EOF
name: gen
client:
  base_url: $BASE/
resources:
  - name: status_only_matches
    endpoint:
      path: actions/status
      params: {code: 409, msg: "version conflict"}
      response_actions: [{status_code: 409, content: "quota exceeded", action: ignore}]
EOF
run
check "status matches, content not, no other rule: the run fails" test $? -ne 0
check "...with the status and the server's words" grep -q "409.*version conflict\|version conflict.*409" "$WORK/err"
sed -i 's/msg: "version conflict"/msg: "quota exceeded"/; s/action: ignore}/action: fail, message: "the quota is used up"}/' "$P/gen.source.yaml"
run
check "status and content match a fail rule: the run fails" test $? -ne 0
check "...with the rule's message" grep -q "the quota is used up" "$WORK/err"

# a fail action with its own message; a 404 without an action fails with the server's words
new_project fails
cat > "$P/gen.source.yaml" <<EOF
name: gen
client:
  base_url: $BASE/
resources:
  - name: broken
    endpoint:
      path: actions/server_error
      response_actions: [{status_code: 500, action: fail, message: "the broken endpoint is down"}]
EOF
run
check "fail action: run fails" test $? -ne 0
check "fail action: its message" grep -q "the broken endpoint is down" "$WORK/err"
check "fail action: the URL" grep -q "actions/server_error" "$WORK/err"
sed -i 's#actions/server_error#actions/not_found#; /response_actions/d' "$P/gen.source.yaml"
run
check "404 without an action fails" test $? -ne 0
check "404: the status" grep -q "404" "$WORK/err"
check "404: the server's message" grep -q "nothing here" "$WORK/err"

# ---- incremental across runs ----------------------------------------------------------
new_project inc
cat > "$P/gen.source.yaml" <<EOF
name: gen
client:
  base_url: $BASE/
resources:
  - name: events
    primary_key: id
    endpoint:
      path: events
      params: {limit: 7}
      incremental: {cursor_path: updated_at, start_param: since, initial_value: "2000-01-01T00:00:00Z"}
EOF
run
check "incremental run 1" eq "$(q inc "SELECT count(*) FROM events")" 30
curl -s -XPOST "$BASE/__admin/reset" > /dev/null
run
check "incremental run 2: nothing new" eq "$(q inc "SELECT count(*) FROM events")" 30
check "run 2 asked from the last value (one page)" eq "$(curl -s "$BASE/__admin/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["by_endpoint"].get("/events"))')" 1
curl -s -XPOST "$BASE/__admin/advance?n=12" > /dev/null
run
check "incremental run 3: only the 12 new" eq "$(q inc "SELECT count(*) FROM events")" 42
check "no duplicates" eq "$(q inc "SELECT count(DISTINCT id) FROM events")" 42

# the rest of incremental, checked by what the server was asked: a range
# (end_value, end_param), min, lag, {incremental.start_value} in a param and
# in the path, and one cursor per parent. Event i is at 2024-01-01 + i hours.
curl -s -XPOST "$BASE/__admin/reset" > /dev/null
new_project inc2
cat > "$P/gen.source.yaml" <<EOF
name: gen
client:
  base_url: $BASE/
resources:
  - name: ranged
    endpoint:
      path: events
      params: {limit: 7, tag: ranged}
      incremental: {cursor_path: updated_at, start_param: since, end_param: until,
                    initial_value: "2024-01-01T05:00:00Z", end_value: "2024-01-01T15:00:00Z"}
  - name: ranged_here
    endpoint:
      path: events
      params: {limit: 7, tag: here}
      incremental: {cursor_path: updated_at, start_param: since,
                    initial_value: "2024-01-01T05:00:00Z", end_value: "2024-01-01T15:00:00Z"}
  - name: backwards
    endpoint:
      path: events
      params: {limit: 7, tag: min, until: "{incremental.start_value}"}
      incremental: {cursor_path: updated_at, initial_value: "2024-01-02T00:00:00Z", last_value_func: min}
  - name: in_path
    endpoint:
      path: events/after/{incremental.start_value}
      params: {limit: 7}
      incremental: {cursor_path: updated_at, initial_value: "2024-01-01T20:00:00Z"}
  - name: lagged
    primary_key: id
    write_disposition: merge
    endpoint:
      path: events
      params: {limit: 7, tag: lag}
      incremental: {cursor_path: updated_at, start_param: since, initial_value: "2000-01-01T00:00:00Z", lag: 7200}
  - name: streams
    endpoint: {path: streams, paginator: single_page}
  - name: stream_events
    endpoint:
      path: streams/{resources.streams.id}/events
      incremental: {cursor_path: updated_at, start_param: since, initial_value: "2000-01-01T00:00:00Z"}
EOF
run
rc=$?
check "inc2 run 1 exits 0 ($(tail -2 "$WORK/err"))" test $rc -eq 0
check "end_param: the server was asked until the end_value" eq "$(sent /events until tag=ranged | xargs -n1 | sort -u)" "2024-01-01T15:00:00Z"
check "end_value with end_param: hours 5..14" eq "$(q inc2 "SELECT min(id) || '-' || max(id) || '/' || count(*) FROM ranged")" "5-14/10"
check "end_value alone: nothing sent, rows from the end on dropped" eq "$(sent /events until tag=here | xargs -n1 | sort -u)" "-"
check "end_value alone: hours 5..14" eq "$(q inc2 "SELECT min(id) || '-' || max(id) || '/' || count(*) FROM ranged_here")" "5-14/10"
check "min + placeholder in a param: until the initial value" eq "$(sent /events until tag=min | xargs -n1 | sort -u)" "2024-01-02T00:00:00Z"
check "min: every event before it" eq "$(q inc2 "SELECT count(*) FROM backwards")" 24
check "placeholder in the path" eq "$(paths /events/after/ | xargs -n1 | sort -u)" "/events/after/2024-01-01T20:00:00Z"
check "placeholder in the path: hours 20..29" eq "$(q inc2 "SELECT count(*) FROM in_path")" 10
check "lag: run 1 loads all" eq "$(q inc2 "SELECT count(*) FROM lagged")" 30
check "per parent: every stream's events" eq "$(q inc2 "SELECT count(*) FROM stream_events")" 21
curl -s -XPOST "$BASE/__admin/reset" > /dev/null
run
rc=$?
check "inc2 run 2 exits 0 ($(tail -2 "$WORK/err"))" test $rc -eq 0
check "min: run 2 asks until the smallest value seen" eq "$(sent /events until tag=min | xargs -n1 | sort -u)" "2024-01-01T00:00:00Z"
check "min: nothing new" eq "$(q inc2 "SELECT count(*) FROM backwards")" 24
check "path: run 2 asks from the last value" eq "$(paths /events/after/ | xargs -n1 | sort -u)" "/events/after/2024-01-02T05:00:00Z"
check "path: the boundary record is not loaded twice" eq "$(q inc2 "SELECT count(*) FROM in_path")" 10
check "lag: run 2 asks from the last value less 2 h" eq "$(sent /events since tag=lag | xargs -n1 | sort -u)" "2024-01-02T03:00:00Z"
check "lag: the overlap is merged, not duplicated" eq "$(q inc2 "SELECT count(*) || '/' || count(DISTINCT id) FROM lagged")" "30/30"
# stream k has 3 + 2k events k hours apart: its last value is hour (2 + 2k) * k
check "per parent: stream 1 asked from its own last value" eq "$(sent /streams/1/events since | xargs -n1 | sort -u)" "2024-01-01T04:00:00Z"
check "per parent: stream 2 asked from its own last value" eq "$(sent /streams/2/events since | xargs -n1 | sort -u)" "2024-01-01T12:00:00Z"
check "per parent: stream 3 asked from its own last value" eq "$(sent /streams/3/events since | xargs -n1 | sort -u)" "2024-01-02T00:00:00Z"
check "per parent: nothing new" eq "$(q inc2 "SELECT count(*) FROM stream_events")" 21
state=$(cat "$P"/wd/*/state.json 2>/dev/null)
check "per parent: state under by_parent/<key>" python3 -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        if "by_parent" in o: return o["by_parent"]
        for v in o.values():
            r = find(v)
            if r is not None: return r
bp = find(json.loads(sys.argv[1]))
want = {"1": "2024-01-01T04:00:00Z", "2": "2024-01-01T12:00:00Z", "3": "2024-01-02T00:00:00Z"}
got = {k: v.get("last_value") for k, v in (bp or {}).items()}
sys.exit(0 if got == want else print("  by_parent:", got, file=sys.stderr) or 1)' "$state"
curl -s -XPOST "$BASE/__admin/advance?n=2" > /dev/null
run
check "per parent: run 3 loads the 2 new events of each stream" eq "$(q inc2 "SELECT count(*) || '/' || count(DISTINCT id) FROM stream_events")" "27/27"

# ---- faults: 5xx, 429, truncated bodies ---------------------------------------------------
start_server --fail-5xx 0.1 --fail-429 0.05 --truncate 0.05 --truncate-mode mixed --retry-after 0
new_project faults
cat > "$P/gen.source.yaml" <<EOF
name: gen
client:
  base_url: $BASE/
resources:
  - name: cursor
    endpoint: {path: cursor/items, params: {limit: 3}}
  - name: offset_items
    endpoint:
      path: offset/items
      paginator: {type: offset, limit: 4}
  - name: orgs
    endpoint: {path: orgs, paginator: single_page}
  - name: projects
    endpoint: orgs/{resources.orgs.id}/projects
  - name: tasks
    endpoint: orgs/{resources.projects.org_id}/projects/{resources.projects.id}/tasks
EOF
run
rc=$?
check "faults: run exits 0 ($(grep -v warning "$WORK/err" | tail -3))" test $rc -eq 0
check "faults: cursor complete" eq "$(q faults "SELECT count(DISTINCT id) || '/' || count(*) FROM cursor")" 53/53
check "faults: offset complete" eq "$(q faults "SELECT count(DISTINCT id) || '/' || count(*) FROM offset_items")" 53/53
check "faults: tasks complete" eq "$(q faults "SELECT count(DISTINCT id) || '/' || count(*) FROM tasks")" 56/56
faults=$(curl -s "$BASE/__admin/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["faults_total"])')
check "faults were injected ($faults)" test "$faults" -gt 0

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
