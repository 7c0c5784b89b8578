#!/usr/bin/env bash
# valgrind on the end-to-end run: the Pinterest simulator pipeline (OAuth
# refresh, parent -> child resources, DuckDB load) under
# `valgrind --leak-check=full`, then a run that fails (a wrong client
# secret: 401 on the token), a query and info. Each must end with no
# definitely or indirectly lost block and no memory error outside
# libduckdb's block writes (tests/valgrind.supp). Short form (make test):
# a small world, --limit 2 pages. Long form: VG_LONG=1 (the whole world, no
# limit; several minutes). Skipped, with a message, under a sanitizer build
# (valgrind and ASan cannot share a process).
set -u
SLUICE=${SLUICE:?path of the sluice binary}
SRC=${SL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=$(mktemp -d /tmp/sl_vg_XXXXXX)
. "$SRC/tests/scenarios/lib/common.sh"
trap 'sl_stop_sims; rm -rf "$WORK"' EXIT

if nm -D "$SLUICE" 2> /dev/null | grep -q __asan_init || ldd "$SLUICE" | grep -q libasan; then
  echo "SKIP: $SLUICE is built with AddressSanitizer; valgrind runs on the release build"
  finish
  exit
fi
command -v valgrind > /dev/null || bash "$SRC/scripts/deps.sh" || exit 1
command -v valgrind > /dev/null || { echo "valgrind is not installed (scripts/deps.sh)" >&2; exit 1; }

if [ "${VG_LONG:-0}" = 1 ]; then
  size=60 limit=()
else
  size=6 limit=(--limit 2)
fi
sl_start_sim sim --size "$size" || exit 1
export SOURCES__PINTEREST__BASE_URL=$SIM_BASE/v5
P=$WORK/p
sl_pinterest_project "$P"

vg() { # label args...: sluice under valgrind in the project; sets rc, LOG
  local label=$1
  shift
  LOG=$WORK/$label.vg
  (cd "$P" && valgrind --leak-check=full --show-leak-kinds=definite,indirect \
     --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=40 \
     --suppressions="$SRC/tests/valgrind.supp" --log-file="$LOG" \
     "$SLUICE" "$@" > "$WORK/$label.out" 2> "$WORK/$label.err")
  rc=$?
}
clean() { # label: the log's verdict
  local lost errs
  lost=$(grep -E "(definitely|indirectly) lost: [1-9]" "$LOG")
  errs=$(grep -o "ERROR SUMMARY: [0-9]* errors" "$LOG")
  check "$1: no block lost ${lost:+($lost)}" test -z "$lost"
  check "$1: $errs" eq "$errs" "ERROR SUMMARY: 0 errors"
  [ -z "$lost" ] && [ "$errs" = "ERROR SUMMARY: 0 errors" ] || grep -A25 -m3 "definitely lost in\|indirectly lost in\|Invalid\|uninitialised" "$LOG" >&2
}

t0=$SECONDS
vg run run . "${limit[@]}"
check "run under valgrind exits 0 ($(tail -1 "$WORK/run.err"))" eq $rc 0
check "it loaded pins" test "$(grep -c ' rows' "$WORK/run.out")" -gt 0
clean run
echo "run: $((SECONDS - t0)) s"

vg query pipeline pinterest query --pipelines-dir .sluice/pipelines --csv "SELECT count(*) FROM pins"
check "query under valgrind exits 0" eq $rc 0
clean query
vg info pipeline pinterest info --pipelines-dir .sluice/pipelines
check "info under valgrind exits 0" eq $rc 0
clean info

printf '[sources.pinterest]\nclient_secret = "wrong"\nrefresh_token = "sluice-refresh-token"\n' > "$P/.sluice/secrets.toml"
rm -f "$P/.sluice/pinterest.refresh_token"
vg failed run .
check "the failed run exits 3 ($(tail -1 "$WORK/failed.err"))" eq $rc 3
clean "failed run (401)"

finish
