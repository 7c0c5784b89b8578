#!/usr/bin/env bash
# Installs what sluice needs to build and test, idempotently and quietly when
# everything is present: Debian packages, and DuckDB 1.4.4 from npm (pinned by
# version and sha256) unless the system has libduckdb 1.4.4.
#
#   scripts/deps.sh            build + test dependencies
#   scripts/deps.sh --bench    also what bench/ needs: the libraries bench/json compares
#                              with (json-c, jansson, cJSON) and the tools the bench
#                              scripts run (bc, GNU time, curl)
#   scripts/deps.sh --s3       also the npm test servers (s3rver)
#   scripts/deps.sh --browser  also headless Chromium and chromedriver (the show page's
#                              browser test; tests/scenarios/show_browser.sh asks for it)
#
# The DuckDB packages are cached in $SLUICE_CACHE (default ~/.cache/sluice), so
# a second run with no network succeeds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${SLUICE_CACHE:-$HOME/.cache/sluice}"
want_bench=0
want_s3=0
want_browser=0
for a in "$@"; do
  case "$a" in
    --bench) want_bench=1 ;;
    --s3) want_s3=1 ;;
    --browser) want_browser=1 ;;
    *) echo "deps.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

say() { echo "deps: $*" >&2; }

# ---- Debian packages -----------------------------------------------------------
pkgs=(build-essential cmake pkg-config libcurl4-openssl-dev libyaml-dev libssl-dev
      zlib1g-dev libmicrohttpd-dev clang libclang-rt-dev python3 nodejs npm valgrind)
[ "$want_bench" = 1 ] && pkgs+=(libjson-c-dev libjansson-dev libcjson-dev bc time curl)
[ "$want_browser" = 1 ] && pkgs+=(chromium chromium-driver)

missing=()
for p in "${pkgs[@]}"; do
  # node/npm may come from elsewhere than Debian (as on our dev machines): accept the commands.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    python3) command -v python3 >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/sluice-apt.log 2>&1; then
    $SUDO apt-get update -q >>/tmp/sluice-apt.log 2>&1 || true
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/sluice-apt.log 2>&1 || {
      cat /tmp/sluice-apt.log >&2; say "apt-get install failed"; exit 1; }
  fi
fi

# ---- DuckDB 1.4.4 --------------------------------------------------------------
DUCKDB_VERSION=1.4.4
HDR_PKG="duckdb@1.4.4"
HDR_TGZ="duckdb-1.4.4.tgz"
HDR_SHA256=5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed
LIB_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
LIB_TGZ="duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz"
LIB_SHA256=732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b

dest="$root/.deps/duckdb"
stamp="$dest/.version"

system_duckdb_ok() {
  # A system libduckdb counts only if it is exactly our version.
  local so hdr
  so=$(ldconfig -p 2>/dev/null | awk '/libduckdb\.so /{print $NF; exit}')
  hdr=$(ls /usr/include/duckdb.h /usr/local/include/duckdb.h 2>/dev/null | head -n1 || true)
  [ -n "$so" ] && [ -n "$hdr" ] || return 1
  strings "$so" 2>/dev/null | grep -qx "v$DUCKDB_VERSION"
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$DUCKDB_VERSION $HDR_SHA256 $LIB_SHA256" ] \
   && [ -f "$dest/include/duckdb.h" ] && [ -f "$dest/lib/libduckdb.so" ]; then
  :
elif system_duckdb_ok; then
  say "using the system libduckdb $DUCKDB_VERSION"
else
  mkdir -p "$cache"
  fetch() { # pkg tgz sha
    local f="$cache/$2"
    if [ -f "$f" ] && echo "$3  $f" | sha256sum -c --status; then return 0; fi
    say "fetching $1 from npm"
    rm -f "$f"
    (cd "$cache" && npm pack --silent "$1" >/dev/null) || { say "npm pack $1 failed"; exit 1; }
    echo "$3  $f" | sha256sum -c --status || { say "sha256 mismatch for $2"; rm -f "$f"; exit 1; }
  }
  fetch "$HDR_PKG" "$HDR_TGZ" "$HDR_SHA256"
  fetch "$LIB_PKG" "$LIB_TGZ" "$LIB_SHA256"
  tmp=$(mktemp -d)
  tar xzf "$cache/$HDR_TGZ" -C "$tmp" package/src/duckdb/src/include/duckdb.h
  mkdir -p "$tmp/lib"
  tar xzf "$cache/$LIB_TGZ" -C "$tmp/lib" package/libduckdb.so
  rm -rf "$dest"
  mkdir -p "$dest/include" "$dest/lib"
  mv "$tmp/package/src/duckdb/src/include/duckdb.h" "$dest/include/duckdb.h"
  mv "$tmp/lib/package/libduckdb.so" "$dest/lib/libduckdb.so"
  rm -rf "$tmp"
  echo "$DUCKDB_VERSION $HDR_SHA256 $LIB_SHA256" >"$stamp"
  say "DuckDB $DUCKDB_VERSION ready in .deps/duckdb"
fi

# ---- npm test servers ------------------------------------------------------------
if [ "$want_s3" = 1 ]; then
  if [ ! -x "$root/.deps/node/node_modules/.bin/s3rver" ]; then
    say "installing s3rver from npm"
    mkdir -p "$root/.deps/node"
    (cd "$root/.deps/node" && npm install --silent --no-audit --no-fund s3rver@3.7.1 >/dev/null)
  fi
  # The AWS CLI, an independent client the S3/Athena tests check sluice's output with.
  if ! command -v aws >/dev/null 2>&1; then
    say "installing awscli from Debian"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -q --no-install-recommends awscli >/tmp/sluice-apt.log 2>&1 || {
      $SUDO apt-get update -q >>/tmp/sluice-apt.log 2>&1 || true
      $SUDO apt-get install -y -q --no-install-recommends awscli >>/tmp/sluice-apt.log 2>&1 ||
        say "awscli not installed (the tests skip its checks)"; }
  fi
fi
exit 0
