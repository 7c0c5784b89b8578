#!/usr/bin/env bash
# `make install PREFIX=X` (cmake --install --prefix X): the CLI, libsluice,
# the headers and sluice.pc land under X; sluice.pc names X; the installed
# CLI and a program built from sluice.pc alone find libduckdb through their
# rpath, with no LD_LIBRARY_PATH and the build tree out of reach.
set -u
SLUICE=${SLUICE:?path of the sluice binary}
B=${SL_BINARY_DIR:?build folder}
S=${SL_SOURCE_DIR:?source folder}
WORK=$(mktemp -d /tmp/sl_install_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
pass=0
fail=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}
X=$WORK/prefix
cmake --install "$B" --prefix "$X" > "$WORK/install.log" 2>&1
check "cmake --install exits 0" test $? -eq 0
pc=$(find "$X" -name sluice.pc | head -n 1)
check "sluice.pc installed" test -n "$pc"
check "bin/sluice installed" test -x "$X/bin/sluice"
check "header installed" test -f "$X/include/sluice/pipeline.h"
check "libsluice installed" test -n "$(find "$X" -name 'libsluice.so*' | head -n 1)"
check "libduckdb installed beside it" test -n "$(find "$X" -name 'libduckdb.so' | head -n 1)"
check "sluice.pc names the install prefix" grep -qx "prefix=$X" "$pc"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
check "pkg-config knows sluice" pkg-config --exists sluice
out=$(env -u LD_LIBRARY_PATH "$X/bin/sluice" --version 2>&1)
check "installed sluice runs ($out)" grep -q "^sluice .*duckdb v1.4.4" <<< "$out"
check "installed sluice resolves libduckdb under the prefix" \
  grep -q "libduckdb.so => $X/" <<< "$(env -u LD_LIBRARY_PATH ldd "$X/bin/sluice")"
# A program built from sluice.pc alone.
# A sanitizer build's libsluice needs its runtime first in the program too.
san=()
lib=$(find "$X" -name 'libsluice.so' | head -n 1)
ldd "$lib" | grep -q libasan && san=(-fsanitize=address,undefined)
cc "${san[@]}" -o "$WORK/custom" "$S/examples/custom_resource.c" $(pkg-config --cflags --libs sluice) 2> "$WORK/cc.err"
check "example builds from sluice.pc ($(head -c 300 "$WORK/cc.err"))" test -x "$WORK/custom"
if [ -x "$WORK/custom" ]; then
  check "example resolves libsluice under the prefix" \
    grep -q "$X/lib.*libsluice.so" <<< "$(env -u LD_LIBRARY_PATH ldd "$WORK/custom")"
  (cd "$WORK" && env -u LD_LIBRARY_PATH "$WORK/custom" "$WORK/run" > "$WORK/custom.out" 2>&1); rc=$?
  check "example built against the install runs ($(tail -n 2 "$WORK/custom.out"))" test $rc -eq 0
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
