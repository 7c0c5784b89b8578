#!/usr/bin/env bash
# `sluice init` on the small specs in tests/data/init/ (NAME.yaml): the
# generated NAME.source.yaml and .sluice/config.toml equal the golden files
# NAME.source.yaml and NAME.config.toml beside the spec, byte for byte.
# SL_UPDATE_GOLDEN=1 rewrites the golden files instead (review the diff).
set -euo pipefail
: "${SLUICE:?}" "${SL_SOURCE_DIR:?}"
work="$(mktemp -d "${TMPDIR:-/tmp}/sl_init_golden.XXXXXX")"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$SL_SOURCE_DIR"
n=0
for spec in tests/data/init/*.yaml; do
  case "$spec" in *.source.yaml) continue ;; esac
  name="$(basename "$spec" .yaml)"
  # the spec's path is written into the YAML's first comment: relative, as here
  "$SLUICE" init "$name" --spec "$spec" --out "$work/$name" >"$work/$name.report" \
    || fail "init $spec: $(cat "$work/$name.report")"
  for pair in "$name.source.yaml:$name.source.yaml" ".sluice/config.toml:$name.config.toml"; do
    got="$work/$name/${pair%%:*}" want="tests/data/init/${pair#*:}"
    if [ "${SL_UPDATE_GOLDEN:-}" = 1 ]; then
      cp "$got" "$want"
    elif ! diff -u "$want" "$got" >&2; then
      fail "$spec: ${pair%%:*} differs from $want (SL_UPDATE_GOLDEN=1 rewrites it)"
    fi
  done
  # the same spec gives the same bytes
  "$SLUICE" init "$name" --spec "$spec" --out "$work/$name.again" >/dev/null
  cmp -s "$work/$name/$name.source.yaml" "$work/$name.again/$name.source.yaml" || fail "$spec: not deterministic"
  n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "no spec in tests/data/init"
echo "init_golden: $n spec(s) match their golden files"
