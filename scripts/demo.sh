#!/usr/bin/env bash
# The README's main job, against the local Pinterest API simulator:
#   sluice init pinterest --spec <simulator>/openapi.json   (writes demo/pinterest_pipeline/)
#   base_url, token URL and OAuth client in the generated .sluice/ files
#   sluice run; sluice pipeline pinterest_pipeline info; a few rows by query
# The simulator is stopped on exit, whatever happens. Against the real API
# the steps are the same with the real spec URL and your app's credentials
# in .sluice/secrets.toml (see docs/init.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sluice="${SLUICE:-$root/build/release/sluice}"
demo="${DEMO_DIR:-$root/demo}"
size="${DEMO_SIZE:-40}"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

[ -x "$sluice" ] || { echo "demo: $sluice is missing; run 'make release' first" >&2; exit 1; }
command -v python3 >/dev/null || { echo "demo: python3 is needed for the API simulator" >&2; exit 1; }

rm -rf "$demo"
mkdir -p "$demo"
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

say "starting the Pinterest API simulator (world size $size)"
python3 "$root/tests/servers/pinterest_sim.py" --port 0 --port-file "$demo/sim.port" \
  --size "$size" >"$demo/simulator.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 200); do
  [ -s "$demo/sim.port" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$demo/simulator.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$demo/sim.port" ] || { echo "demo: the simulator did not start" >&2; exit 1; }
port="$(cat "$demo/sim.port")"
base="http://127.0.0.1:$port"
echo "simulator at $base (spec at $base/openapi.json)"

say "sluice init pinterest --spec $base/openapi.json"
cd "$demo"
"$sluice" init pinterest --spec "$base/openapi.json"
cd pinterest_pipeline

say "credentials: the simulator's OAuth client and refresh token into .sluice/secrets.toml"
# The generated config already points at the simulator (its spec's servers and
# token URL); the secrets get the simulator's defaults (see tests/servers/README.md).
sed -i -e 's/<your client id>/sluice-client/' \
       -e 's/<your client secret>/sluice-secret/' \
       -e 's/<your refresh token>/sluice-refresh-token/' .sluice/secrets.toml
grep -v '^#' .sluice/config.toml
# Keep the pipeline's working folder inside demo/.
export SLUICE_PIPELINES_DIR="$demo/pipelines"

say "sluice run"
start=$(date +%s)
"$sluice" run
echo "(run took $(( $(date +%s) - start )) s)"

say "sluice pipeline pinterest_pipeline info"
"$sluice" pipeline pinterest_pipeline info

say "a few rows"
"$sluice" pipeline pinterest_pipeline query \
  "select id, name, privacy from pinterest_data.boards order by id limit 5" || true
"$sluice" pipeline pinterest_pipeline query \
  "select count(*) as pins, count(distinct board_id) as boards from pinterest_data.pins" || true

say "compared with what the simulator served"
# A table with fewer rows than the simulator served fails the demo.
python3 - "$sluice" "$base/__admin/expected?page_size=250" <<'PY'
import json, re, subprocess, sys, urllib.request
sluice, expected = sys.argv[1], sys.argv[2]
exp = json.load(urllib.request.urlopen(expected, timeout=30))["endpoints"]
res, path = {}, None
for line in open("pinterest.source.yaml"):
    m = re.match(r"  # GET (\S+)", line)
    if m:
        path = m.group(1)
        continue
    m = re.match(r"  - name: (\S+)", line)
    if m and path:
        res[path], path = m.group(1), None
have = set(subprocess.run([sluice, "pipeline", "pinterest_pipeline", "query", "--csv",
                           "select table_name from information_schema.tables"],
                          capture_output=True, text=True).stdout.split())
pairs = [(p, res[p], e["items"]) for p, e in sorted(exp.items()) if p in res and res[p] in have]
sql = " union all ".join(f"select '{t}' as t, count(*) as n from \"{t}\"" for _, t, _ in pairs)
out = subprocess.run([sluice, "pipeline", "pinterest_pipeline", "query", "--csv", sql],
                     capture_output=True, text=True).stdout.strip().split("\n")[1:]
got = {l.rpartition(",")[0]: int(l.rpartition(",")[2]) for l in out if l.rpartition(",")[2].isdigit()}
same = sum(1 for _, t, n in pairs if got.get(t) == n)
for p, t, n in pairs[:6]:
    print(f"  {t:40} {got.get(t)} rows (simulator served {n})")
print(f"  ... {same} of {len(pairs)} list tables have exactly the simulator's item count")
short = [(t, got.get(t), n) for _, t, n in pairs if (got.get(t) or 0) < n]
for t, g, n in short:
    print(f"  MISSING ROWS: {t} has {g} rows, the simulator served {n}", file=sys.stderr)
if not pairs or short:
    sys.exit(1)
PY
echo
echo "demo done: the pipeline is in $demo/pinterest_pipeline"
