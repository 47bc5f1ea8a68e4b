#!/usr/bin/env bash
# Builds interop/pion_peer.go into .build-interop/pion-peer, offline: Go in GOPATH mode
# (GO111MODULE=off) against the sources Debian installs under /usr/share/gocode/src
# (golang-github-pion-ice.v2-dev and its dependencies); no module proxy, no network.
# Rebuilds only when the binary is missing or older than the source (or this script).
# Prints the binary's path on stdout. Exit 2: Go or the pion sources are missing.
#
#     interop/build_pion.sh [--force]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
SRC="$HERE/pion_peer.go"
OUT_DIR="$REPO/.build-interop"
OUT="$OUT_DIR/pion-peer"
GOPATH_DEBIAN=/usr/share/gocode
INSTALL="apt-get install golang-go golang-github-pion-ice.v2-dev"

GO=$(command -v go || true)
[[ -n "$GO" ]] || { [[ -x /usr/lib/go/bin/go ]] && GO=/usr/lib/go/bin/go; }
if [[ -z "$GO" ]]; then
  echo "build_pion: Go is not installed: run \`$INSTALL\` (or scripts/install-deps)" >&2
  exit 2
fi
if [[ ! -f "$GOPATH_DEBIAN/src/github.com/pion/ice/v2/agent.go" ]]; then
  echo "build_pion: pion/ice v2 sources are missing under $GOPATH_DEBIAN/src: run \`$INSTALL\` (or scripts/install-deps)" >&2
  exit 2
fi

if [[ "${1:-}" != "--force" && -x "$OUT" && "$OUT" -nt "$SRC" && "$OUT" -nt "${BASH_SOURCE[0]}" ]]; then
  echo "$OUT"
  exit 0
fi

mkdir -p "$OUT_DIR"
VERSION=$(dpkg-query -W -f='${Version}' golang-github-pion-ice.v2-dev 2>/dev/null || echo 2)
VERSION=${VERSION%%-*}  # 2.3.1-1 -> 2.3.1
TMP="$OUT.tmp.$$"
trap 'rm -f "$TMP"' EXIT
# GOPATH mode resolves github.com/pion/ice/v2 to $GOPATH/src/github.com/pion/ice/v2 (Debian's
# layout). GOCACHE in the git-ignored build directory: HOME may be unset (swift test), and the
# compiled pion packages are reused across builds. GOPROXY/GOFLAGS/GOTOOLCHAIN: nothing fetched.
env GO111MODULE=off GOPATH="$GOPATH_DEBIAN" GOCACHE="$OUT_DIR/gocache" GOPROXY=off GOFLAGS= \
    GOTOOLCHAIN=local CGO_ENABLED=0 \
    "$GO" build -trimpath -ldflags "-X main.pionVersion=$VERSION" -o "$TMP" "$SRC"
mv -f "$TMP" "$OUT"
echo "$OUT"
