#!/usr/bin/env bash
# A read-only pipeline folder. chmod does not stop root, so the Pinterest
# simulator pipeline's pipelines_dir is a tmpfs mount remounted read-only
# (mount -o remount,ro): a run then fails with a clear error naming the path
# and "Read-only file system", loads nothing and leaves the destination as it
# was; remounted writable, the next run completes with exactly the
# simulator's rows. The same for a folder read-only from the first run.
# Needs root with CAP_SYS_ADMIN (mount); skipped with a message otherwise.
set -u
SLUICE=${SLUICE:?path of the sluice binary}
SRC=${SL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=$(mktemp -d /tmp/sl_ro_XXXXXX)
. "$SRC/tests/scenarios/lib/common.sh"
MNTS=()
cleanup() {
  local m
  for m in "${MNTS[@]}"; do umount "$m" 2> /dev/null; done
  sl_stop_sims
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ] || ! mkdir -p "$WORK/probe" || ! mount -t tmpfs -o size=1m tmpfs "$WORK/probe" 2> /dev/null; then
  echo "SKIP: mounting a tmpfs needs root with CAP_SYS_ADMIN (uid $(id -u)); a read-only folder cannot be made otherwise for root"
  finish
  exit
fi
umount "$WORK/probe"

sl_start_sim sim --size 12 || exit 1
export SOURCES__PINTEREST__BASE_URL=$SIM_BASE/v5
TABLES="ad_accounts:/ad_accounts campaigns:/ad_accounts/{ad_account_id}/campaigns pins:/pins board_section_pins:/boards/{board_id}/sections/{section_id}/pins"
rows_match() { # label dir
  local tp t path
  for tp in $TABLES; do
    t=${tp%%:*} path=${tp#*:}
    check "$1: $t has the simulator's rows" eq "$(sl_count "$2" pinterest "$t")" "$(sl_expected_items "$SIM_BASE" "$path")"
  done
}
mount_tmpfs() { # dir
  mkdir -p "$1"
  mount -t tmpfs -o size=64m tmpfs "$1" && MNTS+=("$1")
}
loads() { sl_count "$1" pinterest "_dlt_loads WHERE status = 0"; }

# ---- 1. read-only after a run ----------------------------------------------------------------
P=$WORK/p
sl_pinterest_project "$P"
PL=$P/.sluice/pipelines
check "tmpfs mounted as the pipelines_dir" mount_tmpfs "$PL"
(cd "$P" && "$SLUICE" run . > "$WORK/r1.out" 2> "$WORK/r1.err")
check "run 1 on the writable folder exits 0 ($(tail -1 "$WORK/r1.err"))" eq $? 0
rows_match "run 1" "$P"
before=$(find "$PL" -type f -exec md5sum {} + | sort)
mount -o remount,ro "$PL"
check "the folder is read-only now" fails touch "$PL/x"
(cd "$P" && "$SLUICE" run . > "$WORK/r2.out" 2> "$WORK/r2.err")
rc=$?
check "run 2 on the read-only folder fails (exit $rc)" test $rc -ne 0
msg=$(grep -v '^\s*$' "$WORK/r2.err" | tail -1)
check "it says read-only and where: $msg" grep -q "$PL.*Read-only file system" "$WORK/r2.err"
check "it is one clear line, not a crash" test $rc -lt 128
check "nothing loaded: one load" eq "$(loads "$P")" 1
check "the folder is unchanged" eq "$(find "$PL" -type f -exec md5sum {} + | sort)" "$before"
(cd "$P" && "$SLUICE" pipeline pinterest info --pipelines-dir .sluice/pipelines > "$WORK/i.out" 2> "$WORK/i.err")
check "info still reads the read-only folder ($(tail -1 "$WORK/i.err"))" eq $? 0
mount -o remount,rw "$PL"
(cd "$P" && "$SLUICE" run . > "$WORK/r3.out" 2> "$WORK/r3.err")
check "writable again: run 3 exits 0 ($(tail -1 "$WORK/r3.err"))" eq $? 0
rows_match "run 3" "$P"
check "two loads" eq "$(loads "$P")" 2
check "no package left" eq "$(ls "$PL/pinterest/packages" | wc -l)" 0

# ---- 2. read-only from the first run ----------------------------------------------------------
Q=$WORK/q
sl_pinterest_project "$Q"
QL=$Q/.sluice/pipelines
check "a second tmpfs" mount_tmpfs "$QL"
mount -o remount,ro "$QL"
(cd "$Q" && "$SLUICE" run . > "$WORK/q1.out" 2> "$WORK/q1.err")
rc=$?
check "a first run on a read-only folder fails (exit $rc)" test $rc -ne 0 -a $rc -lt 128
check "and says read-only and where: $(grep -v '^\s*$' "$WORK/q1.err" | tail -1)" \
  grep -q "$QL.*Read-only file system" "$WORK/q1.err"
check "no destination table was created" test "$(sl_count "$Q" pinterest pins | grep -c '^[0-9]')" -eq 0
mount -o remount,rw "$QL"
(cd "$Q" && "$SLUICE" run . > "$WORK/q2.out" 2> "$WORK/q2.err")
check "writable: the next run exits 0 ($(tail -1 "$WORK/q2.err"))" eq $? 0
rows_match "after the read-only start" "$Q"

grep -h "Read-only" "$WORK/r2.err" "$WORK/q1.err" | head -2
finish
