#!/usr/bin/env bash
# Two real `sluice run` on one pipeline at once (the Pinterest simulator
# pipeline, slowed down): the second refuses at once with a message naming
# the lock and its holder, writes nothing, and the first completes with
# exactly the simulator's rows. A run killed with SIGKILL while it holds the
# lock leaves the lock file behind; it does not block the next run, which
# completes. `pipeline NAME drop`/`sync` refuse while a run holds the lock.
set -u
SLUICE=${SLUICE:?path of the sluice binary}
SRC=${SL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=$(mktemp -d /tmp/sl_lock_XXXXXX)
. "$SRC/tests/scenarios/lib/common.sh"
RUN_PID=
trap '[ -n "$RUN_PID" ] && kill -9 $RUN_PID 2>/dev/null; sl_stop_sims; rm -rf "$WORK"' EXIT

# Slow answers: a run takes a few seconds, long enough to overlap.
sl_start_sim sim --size 20 --latency-ms 40 || exit 1
export SOURCES__PINTEREST__BASE_URL=$SIM_BASE/v5
P=$WORK/p
sl_pinterest_project "$P"
PL=$P/.sluice/pipelines/pinterest
LOCK=$PL/lock
TABLES="ad_accounts:/ad_accounts campaigns:/ad_accounts/{ad_account_id}/campaigns pins:/pins board_pins:/boards/{board_id}/pins"

wait_locked() { # pid: until the lock file names it (the run holds the lock)
  local _
  for _ in $(seq 200); do
    [ "$(cat "$LOCK" 2>/dev/null)" = "$1" ] && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
rows_match() { # label
  local tp t path
  for tp in $TABLES; do
    t=${tp%%:*} path=${tp#*:}
    check "$1: $t has the simulator's rows" eq "$(sl_count "$P" pinterest "$t")" "$(sl_expected_items "$SIM_BASE" "$path")"
  done
  check "$1: ids are unique in pins" eq "$(sl_count "$P" pinterest "(SELECT DISTINCT id FROM pins)")" \
    "$(sl_count "$P" pinterest pins)"
}

# ---- 1. two runs at once --------------------------------------------------------------
t0=$(date +%s%N)
(cd "$P" && exec "$SLUICE" run . > "$WORK/a.out" 2> "$WORK/a.err") &
RUN_PID=$!
check "the first run takes the lock" wait_locked $RUN_PID
(cd "$P" && "$SLUICE" run . > "$WORK/b.out" 2> "$WORK/b.err")
rc=$?
check "the second run exits 5 (locked), got $rc" eq $rc 5
check "the second run names the lock and its holder: $(cat "$WORK/b.err")" \
  grep -q "pipeline 'pinterest' is already running (pid $RUN_PID holds $LOCK)" "$WORK/b.err"
check "the second run refused at once (no extract)" fails grep -q "Extract" "$WORK/b.out" "$WORK/b.err"
kill -0 $RUN_PID 2>/dev/null && still=yes || still=no
check "the first run was still running when the second was refused" eq $still yes
# What the first run has not yet touched, the second did not create either
# (it may only have read): no second package, no second trace.
pk=$(ls "$PL/packages" 2>/dev/null | wc -l)
check "one package in flight at most ($pk)" test "$pk" -le 1
for cmd in "drop pins" "sync"; do
  (cd "$P" && "$SLUICE" pipeline pinterest $cmd --pipelines-dir .sluice/pipelines < /dev/null > "$WORK/c.out" 2> "$WORK/c.err")
  rc=$?
  if kill -0 $RUN_PID 2>/dev/null; then
    check "pipeline $cmd during the run exits 5, got $rc ($(cat "$WORK/c.err"))" eq $rc 5
    check "pipeline $cmd names the lock" grep -q "already running" "$WORK/c.err"
  fi
done
wait $RUN_PID
rc=$?
RUN_PID=
check "the first run completes ($(tail -2 "$WORK/a.err"))" eq $rc 0
echo "first run: $((($(date +%s%N) - t0) / 1000000)) ms"
rows_match "after the overlapping runs"
loads=$(sl_count "$P" pinterest "_dlt_loads WHERE status = 0")
check "one load ($loads)" eq "$loads" 1
check "the lock file is emptied after the run" test ! -s "$LOCK"

# ---- 2. a stale lock from a killed run -----------------------------------------------------
(cd "$P" && exec "$SLUICE" run . > "$WORK/k.out" 2> "$WORK/k.err") &
RUN_PID=$!
check "the run to kill takes the lock" wait_locked $RUN_PID
sleep 0.3
kill -9 $RUN_PID
wait $RUN_PID 2>/dev/null
dead=$RUN_PID
RUN_PID=
check "the killed run's pid stays in the lock file" eq "$(cat "$LOCK")" "$dead"
(cd "$P" && "$SLUICE" -v run . > "$WORK/n.out" 2> "$WORK/n.err")
rc=$?
check "the next run is not blocked by the stale lock ($(tail -2 "$WORK/n.err"))" eq $rc 0
check "it says it took the lock over from the dead process" \
  grep -q "taking over the lock of pipeline pinterest left by dead process $dead" "$WORK/n.err" "$WORK/n.out"
rows_match "after the killed run and the next"
check "no package left behind" eq "$(ls "$PL/packages" | wc -l)" 0

# ---- 3. a lock held by a live process that is not sluice ------------------------------------
flock "$LOCK" sleep 2 &
holder=$!
sleep 0.2
snapshot() { find "$P" -type f -exec md5sum {} + | sort; }
before=$(snapshot)
(cd "$P" && "$SLUICE" run . > "$WORK/f.out" 2> "$WORK/f.err")
rc=$?
check "the refused run wrote nothing (no file added or changed)" eq "$(snapshot)" "$before"
check "a lock held by another process refuses (exit 5, got $rc)" eq $rc 5
check "and says so: $(cat "$WORK/f.err")" grep -q "already running (another process holds $LOCK)" "$WORK/f.err"
wait $holder
(cd "$P" && "$SLUICE" run . > "$WORK/g.out" 2> "$WORK/g.err")
check "released, the next run completes" eq $? 0
rows_match "at the end"

finish
