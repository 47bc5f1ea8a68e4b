#!/usr/bin/env bash
# Builds interop/pion_stun_bench.go into .build-interop/pion-stun-bench, offline, like
# build_pion.sh: Go in GOPATH mode (GO111MODULE=off) against the pion/stun sources Debian installs
# under /usr/share/gocode/src (golang-github-pion-stun-dev); no module proxy, no network.
# Rebuilds only when the binary is missing or older than the source (or this script).
# Prints the binary's path on stdout. Exit 2: Go or the pion/stun sources are missing.
# `ice-bench stun` runs the binary when it exists, beside its own figures.
#
#     interop/build_pion_stun_bench.sh [--force]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
SRC="$HERE/pion_stun_bench.go"
OUT_DIR="$REPO/.build-interop"
OUT="$OUT_DIR/pion-stun-bench"
GOPATH_DEBIAN=/usr/share/gocode
INSTALL="apt-get install golang-go golang-github-pion-stun-dev"

GO=$(command -v go || true)
[[ -n "$GO" ]] || { [[ -x /usr/lib/go/bin/go ]] && GO=/usr/lib/go/bin/go; }
if [[ -z "$GO" ]]; then
  echo "build_pion_stun_bench: Go is not installed: run \`$INSTALL\` (or scripts/install-deps)" >&2
  exit 2
fi
if [[ ! -f "$GOPATH_DEBIAN/src/github.com/pion/stun/message.go" ]]; then
  echo "build_pion_stun_bench: pion/stun sources are missing under $GOPATH_DEBIAN/src: run \`$INSTALL\` (or scripts/install-deps)" >&2
  exit 2
fi

if [[ "${1:-}" != "--force" && -x "$OUT" && "$OUT" -nt "$SRC" && "$OUT" -nt "${BASH_SOURCE[0]}" ]]; then
  echo "$OUT"
  exit 0
fi

mkdir -p "$OUT_DIR"
VERSION=$(dpkg-query -W -f='${Version}' golang-github-pion-stun-dev 2>/dev/null || echo 0)
VERSION=${VERSION%%-*}  # 0.4.0-1 -> 0.4.0
TMP="$OUT.tmp.$$"
trap 'rm -f "$TMP"' EXIT
# Same environment as build_pion.sh: GOCACHE in the git-ignored build directory, nothing fetched.
# Default optimizations (no -gcflags), as a pion user's build.
env GO111MODULE=off GOPATH="$GOPATH_DEBIAN" GOCACHE="$OUT_DIR/gocache" GOPROXY=off GOFLAGS= \
    GOTOOLCHAIN=local CGO_ENABLED=0 \
    "$GO" build -trimpath -ldflags "-X main.pionStunVersion=$VERSION" -o "$TMP" "$SRC"
mv -f "$TMP" "$OUT"
echo "$OUT"
