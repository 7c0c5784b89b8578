#!/usr/bin/env bash
# docs/cli.md's examples run: every "$ " line of its ```console blocks, in
# order, in one shell from an empty folder; each must exit 0, or the code its
# "# exits N" comment names.
set -u
SLUICE=${SLUICE:?path of the sluice binary}
ROOT=${SL_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
WORK=$(mktemp -d /tmp/sl_docs_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 - "$ROOT/docs/cli.md" > "$WORK/run.sh" <<'PY'
import re, shlex, sys
text = open(sys.argv[1]).read()
print('sluice() { "$SLUICE" "$@"; }')
print('pass=0; fail=0')
n = 0
for block in re.findall(r"```console\n(.*?)```", text, re.S):
    for line in block.splitlines():
        if not line.startswith("$ "):
            continue
        cmd = line[2:]
        m = re.search(r"#\s*exits\s+(\d+)\s*$", cmd)
        want = int(m.group(1)) if m else 0
        n += 1
        print("{ %s\n} > \"$OUT\" 2>&1; rc=$?" % cmd)
        print("if [ $rc -eq %d ]; then pass=$((pass+1)); else fail=$((fail+1)); "
              "echo \"FAIL: docs/cli.md: %s (exit $rc, want %d)\" >&2; tail -n 5 \"$OUT\" >&2; fi"
              % (want, cmd.replace('"', '\\"').replace("$", "\\$").replace("`", "\\`"), want))
print('echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]')
if n < 15:
    sys.exit("too few examples found in docs/cli.md: %d" % n)
PY
[ -s "$WORK/run.sh" ] || { echo "FAIL: cannot read the examples" >&2; exit 1; }
cd "$WORK" && SLUICE="$SLUICE" OUT="$WORK/out" HOME="$WORK" bash "$WORK/run.sh"
