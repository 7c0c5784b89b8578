#!/usr/bin/env bash
# sluice init end to end against the Pinterest simulator: generate from the
# simulator's own /openapi.json and from the shared 5.23 and 5.13 specs, set
# only the generated .sluice/ files (base_url, token URL, OAuth client), run,
# and measure the share of GET operations that loaded every page with exactly
# the simulator's rows (at least 90 % of 5.23's 125; see measure below).
set -euo pipefail
: "${SLUICE:?}" "${SL_SOURCE_DIR:?}"
shared="${SL_SHARED_DIR:-$SL_SOURCE_DIR/../shared}"
work="$(mktemp -d "${TMPDIR:-/tmp}/sl_init_pinterest.XXXXXX")"
sim_pid=""
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# start_sim [--digest SPEC]: a simulator on a free port; sets base
start_sim() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null || true; fi
  rm -f "$work/port"
  python3 "$SL_SOURCE_DIR/tests/servers/pinterest_sim.py" --port 0 --port-file "$work/port" \
    --size 20 "$@" >"$work/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 1 300); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || fail "simulator did not start: $(cat "$work/sim.log")"
  base="http://127.0.0.1:$(cat "$work/port")"
  curl -sf "$base/__admin/expected?page_size=250" >"$work/expected.json"
}
start_sim

export SOURCES__PINTEREST__CLIENT_ID=sluice-client
export SOURCES__PINTEREST__CLIENT_SECRET=sluice-secret
export SOURCES__PINTEREST__REFRESH_TOKEN=sluice-refresh-token

# measure DIR MIN_PCT: how many GET operations of the spec loaded completely.
# An operation counts when its resource is selected, every request the run
# made to it was answered 200, and its table holds exactly the rows the
# simulator says it should:
#   - a list: /__admin/expected's items of a complete load over all parents,
#     in exactly its pages (a missed page or a parent left out fails);
#   - a detail /x/{id}: one row per id of its list (ids that are null in the
#     list, like integrations without an external_business_id, make none);
#   - any other (analytics, reports, single objects): one request per parent
#     record (per record whose skip_null field is set), or one for a
#     top-level resource, and exactly the records the simulator served
#     (/__admin/stats "records", by the resource's data_selector).
# Prints "loaded K of N GET operations (P%)"; fails when a selected resource
# did not load exactly or the share is below MIN_PCT.
measure() {
  local dir="$1" min_pct="$2"
  curl -sf "$base/__admin/stats" >"$dir.stats.json" || fail "no stats from the simulator"
  (cd "$dir" && python3 - "$SLUICE" "$work/expected.json" "$dir.stats.json" "$min_pct" \
      "$SL_SOURCE_DIR/tests/servers" <<'PY'
import json, re, subprocess, sys
sluice, expected, stats, min_pct, servers = sys.argv[1:6]
sys.path.insert(0, servers)
import yaml_lite
exp = json.load(open(expected))
st = json.load(open(stats))
text = open("pinterest.source.yaml").read()
src = yaml_lite.load(text)
ops, by_name, path = [], {}, None          # every GET operation, selected or not
for line in text.split("\n"):
    m = re.match(r"  # GET (\S+)", line)
    if m:
        path = m.group(1)
        ops.append(path)
        continue
    m = re.match(r"  - name: (\S+)", line)
    if m and path:
        by_name[m.group(1)] = path
        path = None
res = {by_name[r["name"]]: r for r in src["resources"]}

def query(sql):
    out = subprocess.run([sluice, "pipeline", "pinterest_pipeline", "query", "--csv", sql],
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit("query failed: %s: %s" % (sql[:200], out.stderr.strip()[:300]))
    return [line.rsplit(",", 1) for line in out.stdout.strip().split("\n")[1:]]
have = {r[-1].strip('"') for r in query("select table_name from information_schema.tables")}
names = sorted(r["name"] for r in src["resources"] if r["name"] in have)
counts = {t.strip('"'): int(n) for t, n in query(" union all ".join(
    "select '%s' as t, count(*) as n from \"%s\"" % (t, t) for t in names))} if names else {}

def rows(name):
    # a resource whose every answer was empty has no table: 0 rows
    # (/resources/lead_form_questions answers [], its spec gives no schema)
    return counts.get(name, 0)

def parent_sql(r):
    """How many requests a child makes: one per parent record whose skip_null
    fields are set (SQL), or one for a top-level resource (None)."""
    params = (r.get("endpoint") or {}).get("params") or {}
    res_ = [v for v in params.values() if isinstance(v, dict) and v.get("type") == "resolve"]
    if not res_:
        return None
    if res_[0]["resource"] not in have:
        return "select 0"
    cond = " and ".join('"%s" is not null' % v["field"].replace(".", "__")
                        for v in res_ if v.get("skip_null")) or "true"
    return 'select count(*) from "%s" where %s' % (res_[0]["resource"], cond)
others = {r["name"]: parent_sql(r) for p, r in res.items()
          if p not in exp["endpoints"] and p not in exp["details"]}
sqls = ["select '%s' as t, (%s) as n" % (k, q) for k, q in sorted(others.items()) if q]
parent_requests = {k: 1 for k, q in others.items() if not q}
parent_requests.update({t.strip('"'): int(n) for t, n in query(" union all ".join(sqls))}
                       if sqls else {})

loaded, bad = 0, []
for p in ops:
    r = res.get(p)
    if r is None:
        continue                        # disabled: the report says why
    name = r["name"]
    n = rows(name)
    reqs = st["by_endpoint"].get(p, 0)
    ok200 = st["by_endpoint_status"].get("200 " + p, 0)
    sel = (r.get("endpoint") or {}).get("data_selector") or "$"
    served = (st.get("records", {}).get(p) or {}).get(sel, 0)
    why = []
    if reqs != ok200:
        why.append("%d of %d requests not 200" % (reqs - ok200, reqs))
    if p in exp["endpoints"]:
        e = exp["endpoints"][p]
        if n != e["items"]:
            why.append("%d rows, expected %d" % (n, e["items"]))
        if not e["free_vars"] and reqs != e["pages"]:
            why.append("%d requests, expected %d pages" % (reqs, e["pages"]))
    elif p in exp["details"]:
        e = exp["details"][p]
        if n != e["items"] or reqs != e["items"]:
            why.append("%d rows in %d requests, expected %d" % (n, reqs, e["items"]))
    else:
        want = parent_requests[name]
        if reqs != want:
            why.append("%d requests, expected %d (one per parent record)" % (reqs, want))
        if n != served:
            why.append("%d rows, the simulator served %d" % (n, served))
    if reqs == 0 and not why:
        why.append("no request")
    if why:
        bad.append("  NOT LOADED %s (%s): %s" % (p, name, "; ".join(why)))
    else:
        loaded += 1
for line in bad:
    print(line)
pct = 100.0 * loaded / len(ops)
print("  loaded %d of %d GET operations (%.1f%%); %d selected did not load" % (
    loaded, len(ops), pct, len(bad)))
sys.exit(1 if bad or pct < float(min_pct) else 0)
PY
  )
}

# 1. the simulator's own description: base_url and token URL come from it
"$SLUICE" init pinterest --spec "$base/openapi.json" --out "$work/sim" >"$work/init_sim.txt" \
  || fail "init from $base/openapi.json: $(cat "$work/init_sim.txt")"
grep -q "^GET operations: 125$" "$work/init_sim.txt" || fail "report: $(head -3 "$work/init_sim.txt")"
grep -q "base_url = \"$base/v5\"" "$work/sim/.sluice/config.toml" || fail "base_url not from servers"
grep -q "token_url = \"$base/v5/oauth/token\"" "$work/sim/.sluice/config.toml" || fail "token_url"
# refuses to overwrite
if "$SLUICE" init pinterest --spec "$base/openapi.json" --out "$work/sim" 2>"$work/err.txt"; then
  fail "a second init overwrote the folder"
fi
grep -q "use --force" "$work/err.txt" || fail "overwrite error: $(cat "$work/err.txt")"

# 2. the 5.23 spec file, pointed at the simulator through config.toml only
run_spec() {
  local spec="$1" dir="$2" min_pct="$3"
  "$SLUICE" init pinterest --spec "$spec" --out "$dir" >"$dir.report" || fail "init $spec"
  sed -i -e "s|https://api.pinterest.com/v5/oauth/token|$base/v5/oauth/token|" \
         -e "s|\"https://api.pinterest.com/v5\"|\"$base/v5\"|" "$dir/.sluice/config.toml"
  export SLUICE_PIPELINES_DIR="$dir/.pipelines"
  curl -sf -XPOST "$base/__admin/reset" >/dev/null || fail "cannot reset the simulator's stats"
  local t0=$SECONDS
  # info: the skip_null lines below
  (cd "$dir" && SLUICE_LOG_LEVEL=info "$SLUICE" run >"$dir.run" 2>&1) || fail "run $spec: $(tail -5 "$dir.run")"
  echo "$(basename "$spec"): $(sed -n 2p "$dir.report"); run took $((SECONDS - t0)) s"
  measure "$dir" "$min_pct" || fail "$spec: not every selected resource loaded, or below $min_pct %"
}
# 3. the date windows of the analytics resources, on ad account analytics:
# the simulator refuses what Pinterest refuses (a start_date more than 90 days
# back, an end_date more than 90 days past start_date: the spec's words);
# the first run asks from {today-30d} to {today}, the next one goes on from
# the day after the last end, and a range longer than range_span_days is
# asked window by window, every window accepted, every day loaded once.
day() { date -u -d "$1 days" +%F; }
# wins DIR LOG: the start_date..end_date of each analytics request, in order
wins() {
  grep -o "resource 'analytics': GET [^ ]*" "$1" |
    sed -n 's/.*start_date=\([0-9-]*\).*end_date=\([0-9-]*\).*/\1..\2/p' | tr '\n' ' '
}
check_windows() {
  local d="$work/win" n want
  "$SLUICE" init pinterest --spec "$shared/specs/pinterest-5.23.yaml" --out "$d" \
    --endpoints /ad_accounts '/ad_accounts/{ad_account_id}/analytics' >"$d.report" || fail "init windows"
  grep -q "^date windows: 1 incremental (90 days per request, 90 days back;" "$d.report" \
    || fail "windows report: $(grep date "$d.report")"
  sed -i -e "s|https://api.pinterest.com/v5/oauth/token|$base/v5/oauth/token|" \
         -e "s|\"https://api.pinterest.com/v5\"|\"$base/v5\"|" "$d/.sluice/config.toml"
  export SLUICE_PIPELINES_DIR="$d/.pipelines"
  local accounts
  accounts=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["endpoints"]["/ad_accounts"]["items"])' \
    "$work/expected.json")
  runw() { (cd "$d" && SLUICE_LOG_LEVEL=debug "$SLUICE" run "$@" >"$d.run" 2>&1); }
  rows() { (cd "$d" && "$SLUICE" pipeline pinterest_pipeline query --csv \
    "select count(*) || ',' || count(distinct \"date\" || ad_account_id) from analytics" | tail -1 | tr -d "\""); }
  # a start more than 90 days back, an end 110 days past the start: both refused
  # (400) when the YAML does not keep to the limits
  cp "$d/pinterest.source.yaml" "$d/orig.yaml"
  sed -i -e '/range_lookback_days/d' "$d/pinterest.source.yaml"
  SOURCES__PINTEREST__START_DATE="{today-120d}" runw && fail "a start 120 days back was accepted"
  grep -q "400.*cannot be more than 90 days back from today" "$d.run" || fail "no 400 for the look-back: $(tail -3 "$d.run")"
  sed -i -e 's/range_span_days: 90/range_span_days: 400/' "$d/pinterest.source.yaml"
  SOURCES__PINTEREST__START_DATE="{today-80d}" SOURCES__PINTEREST__END_DATE="{today+30d}" runw \
    && fail "a 110-day range was accepted"
  grep -q "400.*cannot be more than 90 days past start_date" "$d.run" || fail "no 400 for the span: $(tail -3 "$d.run")"
  cp "$d/orig.yaml" "$d/pinterest.source.yaml"
  rm -rf "$d/.pipelines" "$d"/*.duckdb
  # as generated: the same two are moved up to 90 days back / split into windows
  SOURCES__PINTEREST__START_DATE="{today-120d}" SOURCES__PINTEREST__END_DATE="{today+30d}" runw \
    || fail "windows run: $(tail -3 "$d.run")"
  want="$(day -90)..$(day -1) $(day 0)..$(day 30)"
  [ "$(wins "$d.run" | tr ' ' '\n' | sort -u | xargs)" = "$want" ] || fail "windows: $(wins "$d.run"), want $want"
  [ "$(wins "$d.run" | wc -w)" = $((2 * accounts)) ] || fail "two windows per account: $(wins "$d.run")"
  grep -q "more than 90 days back (range_lookback_days): it starts at $(day -90)" "$d.run" \
    || fail "no look-back warning"
  [ "$(rows)" = "$((121 * accounts)),$((121 * accounts))" ] || fail "121 days per account: $(rows)"
  rm -rf "$d/.pipelines" "$d"/*.duckdb
  # the first run: {today-30d} to an end 10 days back; the next: the day after it to today
  SOURCES__PINTEREST__END_DATE="{today-10d}" runw || fail "first run: $(tail -3 "$d.run")"
  want="$(day -30)..$(day -10)"
  [ "$(wins "$d.run" | tr ' ' '\n' | sort -u | xargs)" = "$want" ] || fail "first window: $(wins "$d.run")"
  [ "$(rows)" = "$((21 * accounts)),$((21 * accounts))" ] || fail "21 days per account: $(rows)"
  runw || fail "second run: $(tail -3 "$d.run")"
  want="$(day -9)..$(day 0)"
  [ "$(wins "$d.run" | tr ' ' '\n' | sort -u | xargs)" = "$want" ] || fail "second window: $(wins "$d.run")"
  [ "$(rows)" = "$((31 * accounts)),$((31 * accounts))" ] || fail "31 days per account, each once: $(rows)"
  # and a third the same day: up to date, no request
  runw || fail "third run: $(tail -3 "$d.run")"
  [ -z "$(wins "$d.run")" ] || fail "up to date, yet asked: $(wins "$d.run")"
  grep -q "up to date (the next range starts $(day 1), after its end $(day 0))" "$d.run" || fail "no up-to-date line"
  [ "$(rows)" = "$((31 * accounts)),$((31 * accounts))" ] || fail "rows after the third run: $(rows)"
  echo "date windows: refused past the limits, split in 2 windows, continued from $(day -9), up to date"
}

if [ -f "$shared/specs/pinterest-5.23.yaml" ]; then
  run_spec "$shared/specs/pinterest-5.23.yaml" "$work/p523" 90
  # integrations whose external_business_id is null made no commerce request
  grep -q "resource 'commerce_detail': [1-9][0-9]* of [0-9]* 'integrations' records have no 'external_business_id'" \
    "$work/p523.run" || fail "no skip_null log line for commerce_detail: $(grep -c . "$work/p523.run") lines"
  check_windows
  start_sim --digest "$shared/specs/pinterest-5.13.yaml"
  run_spec "$shared/specs/pinterest-5.13.yaml" "$work/p513" 89  # 98 of 109 today
else
  echo "skip: no $shared/specs (the shared specs are not part of the repository)"
fi
echo "init_pinterest: ok"
