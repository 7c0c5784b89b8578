#!/usr/bin/env bash
# `sluice deploy github-action|cron`: the workflow file (valid YAML with the
# schedule, the build, the run, secrets from the secret store by their
# environment names, never their values) and the crontab line (flock, and it
# really runs the pipeline).
set -u
SLUICE=${SLUICE:?path of the sluice binary}
WORK=$(mktemp -d /tmp/sl_deploy_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
pass=0
fail=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
contains() { grep -q -- "$2" <<< "$1"; }
lacks() { ! grep -q -- "$2" <<< "$1"; }

R=$WORK/repo
P=$R/pipelines/pins
mkdir -p "$R/.git" "$P/data" "$P/.sluice"
cat > "$P/sluice.toml" <<'TOML'
[pipeline]
name = "pinterest_pins"
source = "shop.source.yaml"
pipelines_dir = "wd"
progress = "none"
TOML
cat > "$P/shop.source.yaml" <<'YAML'
name: shop
resources:
  - name: pins
    file: {path: 'data/*.jsonl'}
YAML
printf '{"id": 1}\n' > "$P/data/a.jsonl"
cat > "$P/.sluice/secrets.toml" <<'TOML'
[sources.pinterest]
access_token = "pina_SUPERSECRETVALUE"

[destination.athena.credentials]
aws_secret_access_key = "AWSSECRETVALUE123"
TOML

out=$("$SLUICE" deploy --help); rc=$?
check "deploy --help" test $rc -eq 0
check "deploy --help text" contains "$out" "github-action"
"$SLUICE" deploy github-action "$P" 2> "$WORK/err"; rc=$?
check "github-action without --schedule exits 2" test $rc -eq 2
"$SLUICE" deploy github-action --schedule "every day" "$P" 2> "$WORK/err"; rc=$?
check "bad schedule exits 2" test $rc -eq 2
check "bad schedule message" grep -q "5 fields" "$WORK/err"
"$SLUICE" deploy github-action --schedule "0 3 * * *" "$P" 2> "$WORK/err"; rc=$?
check "outside sluice's tree needs --sluice-repo (exit 2)" test $rc -eq 2
check "it says so" grep -q -- "--sluice-repo" "$WORK/err"

out=$("$SLUICE" deploy github-action --schedule "0 3 * * *" --sluice-repo https://example.com/sluice.git "$P" 2> "$WORK/err"); rc=$?
check "github-action exits 0 ($(cat "$WORK/err"))" test $rc -eq 0
WF=$R/.github/workflows/pinterest_pins.yml
check "workflow written at the repository root" test -f "$WF"
check "output names the secrets" contains "$out" "SOURCES__PINTEREST__ACCESS_TOKEN"
wf=$(cat "$WF" 2> /dev/null)
check "schedule" contains "$wf" 'cron: "0 3 \* \* \*"'
check "secret from the store" contains "$wf" 'SOURCES__PINTEREST__ACCESS_TOKEN: ${{ secrets.SOURCES__PINTEREST__ACCESS_TOKEN }}'
check "nested secret name" contains "$wf" 'DESTINATION__ATHENA__CREDENTIALS__AWS_SECRET_ACCESS_KEY: ${{ secrets.DESTINATION__ATHENA__CREDENTIALS__AWS_SECRET_ACCESS_KEY }}'
check "no secret value in the workflow" lacks "$wf" "SUPERSECRETVALUE"
check "no secret value in the output" lacks "$out" "SUPERSECRETVALUE"
check "builds sluice" contains "$wf" 'make -C "$RUNNER_TEMP/sluice" release'
check "runs the project folder" contains "$wf" 'sluice" run "pipelines/pins"'
check "no overlapping runs" contains "$wf" "cancel-in-progress: false"
# valid YAML with the expected shape (libyaml through our own loader is not
# at hand in a shell: check the structure with a strict indentation parse)
python3 - "$WF" <<'PY' || { echo "FAIL: workflow structure" >&2; fail=$((fail + 1)); }
import sys, re
lines = open(sys.argv[1]).read().splitlines()
keys = [l for l in lines if l and not l.lstrip().startswith("#")]
assert keys[0].startswith("name: "), keys[0]
assert "on:" in keys and "jobs:" in keys
for l in keys:
    assert "\t" not in l
    assert (len(l) - len(l.lstrip())) % 2 == 0, l
PY
"$SLUICE" deploy github-action --schedule "0 3 * * *" --sluice-repo https://example.com/sluice.git "$P" 2> "$WORK/err"; rc=$?
check "existing workflow kept without --force (exit 2)" test $rc -eq 2
"$SLUICE" deploy github-action --schedule "30 4 * * 1" --sluice-repo https://example.com/sluice.git --force "$P" > /dev/null; rc=$?
check "--force replaces" test $rc -eq 0
check "new schedule" grep -q 'cron: "30 4 \* \* 1"' "$WF"

# cron: a crontab line with flock, which really runs the pipeline
line=$("$SLUICE" deploy cron "$P" --schedule "*/15 * * * *" | grep -v '^#'); rc=$?
check "cron exits 0" test $rc -eq 0
check "cron schedule" contains "$line" '^\*/15 \* \* \* \* flock -n '
check "cron lock file" contains "$line" "wd/pinterest_pins/cron.lock"
cmd=${line#\*/15 \* \* \* \* }
bash -c "$cmd"; rc=$?
check "the crontab command runs ($rc)" test $rc -eq 0
check "it loaded" contains "$(cat "$P/wd/pinterest_pins/cron.log")" "1 load package(s) loaded"
# while a run holds the cron lock, the next one is skipped, not stacked
flock "$P/wd/pinterest_pins/cron.lock" sleep 2 &
lp=$!
sleep 0.3
bash -c "$cmd"; rc=$?
check "overlapping run skipped (flock -n exits $rc)" test $rc -ne 0
wait $lp

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
