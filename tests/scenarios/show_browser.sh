#!/usr/bin/env bash
# The show page in a real browser: headless Chromium (Debian's chromium and
# chromium-driver, installed here when missing) loads the page, opens a table,
# pages through its rows, runs a query, and checks what the page shows
# (show_browser.py speaks WebDriver to chromedriver).
set -u
SLUICE=${SLUICE:?path of the sluice binary}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${SL_SOURCE_DIR:-$HERE/../..}
if ! command -v chromium > /dev/null 2>&1 || ! command -v chromedriver > /dev/null 2>&1; then
  bash "$ROOT/scripts/deps.sh" --browser || { echo "FAIL: cannot install chromium" >&2; exit 1; }
fi
WORK=$(mktemp -d /tmp/sl_showb_XXXXXX)
SHOW_PID=
trap '[ -n "$SHOW_PID" ] && kill "$SHOW_PID" 2> /dev/null; wait 2> /dev/null; rm -rf "$WORK"' EXIT

P=$WORK/proj
mkdir -p "$P/data"
cat > "$P/sluice.toml" <<'TOML'
[pipeline]
name = "showpipe"
source = "shop.source.yaml"
pipelines_dir = "wd"
progress = "none"
TOML
cat > "$P/shop.source.yaml" <<'YAML'
name: shop
resources:
  - name: pins
    primary_key: id
    write_disposition: merge
    file: {path: 'data/*.jsonl'}
YAML
python3 - "$P/data/pins.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 46):
        title = "pin %d" % i
        if i in (1, 2, 3):
            title = '<img src=x onerror="window.__pwned=1">' + "</td><script>window.__pwned=2</script>"
        f.write(json.dumps({"id": i, "title": title, "tags": ["t%d" % i]}) + "\n")
PY
"$SLUICE" run "$P" > /dev/null || { echo "FAIL: run" >&2; exit 1; }

"$SLUICE" pipeline showpipe show --port 0 --pipelines-dir "$P/wd" > "$WORK/show.out" 2>&1 &
SHOW_PID=$!
for _ in $(seq 100); do grep -q "http://127.0.0.1:" "$WORK/show.out" && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*/' "$WORK/show.out")
[ -n "$URL" ] || { echo "FAIL: show did not start: $(cat "$WORK/show.out")" >&2; exit 1; }
python3 "$HERE/show_browser.py" "$URL"
rc=$?
kill -INT "$SHOW_PID"
wait "$SHOW_PID"
src=$?
SHOW_PID=
[ $src -eq 0 ] || { echo "FAIL: show exited $src on SIGINT" >&2; rc=1; }
exit $rc
