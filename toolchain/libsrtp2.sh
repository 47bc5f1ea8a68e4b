# Sourced by toolchain/build (it uses that script's OUT, SWIFT_BIN, die, log, apt_update_once and
# APT_UPDATED): builds libsrtp2 (SRTP, RFC 3711 / RFC 7714) as a static archive for one device
# target, from Debian's own source package, on mbedTLS. Debian's binary libsrtp2 uses NSS, which
# cannot be linked statically; upstream also supports mbedTLS, whose libmbedcrypto.a the device
# binaries link anyway. See toolchain/README.md.

# The library's sources for the mbedTLS backend: upstream CMakeLists.txt with ENABLE_MBEDTLS
# (aes_icm_mbedtls and aes_gcm_mbedtls instead of the built-in aes/aes_icm, hmac_mbedtls instead
# of the built-in hmac/sha1).
LIBSRTP2_SOURCES=(
  srtp/srtp.c
  crypto/cipher/cipher.c crypto/cipher/cipher_test_cases.c crypto/cipher/null_cipher.c
  crypto/cipher/aes_icm_mbedtls.c crypto/cipher/aes_gcm_mbedtls.c
  crypto/hash/auth.c crypto/hash/auth_test_cases.c crypto/hash/null_auth.c crypto/hash/hmac_mbedtls.c
  crypto/kernel/alloc.c crypto/kernel/crypto_kernel.c crypto/kernel/err.c crypto/kernel/key.c
  crypto/math/datatypes.c
  crypto/replay/rdb.c crypto/replay/rdbx.c
)
# Installed as <srtp2/...>, as upstream's `make install` does.
LIBSRTP2_HEADERS=(include/srtp.h crypto/include/auth.h crypto/include/cipher.h crypto/include/crypto_types.h)
LIBSRTP2_TOOLCHAIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Written only when apt has no source index: the same mirrors and suites as the binary entries.
LIBSRTP2_DEB_SRC=/etc/apt/sources.list.d/ice-toolchain-deb-src.sources

# Adds deb-src entries mirroring the machine's deb entries (deb822 or one-line format).
libsrtp2_add_deb_src() {
  local f
  log "adding deb-src entries ($LIBSRTP2_DEB_SRC)"
  {
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -f $f && $f != "$LIBSRTP2_DEB_SRC" ]] || continue
      sed -E 's/^Types:.*$/Types: deb-src/' "$f"; echo
    done
  } > "$LIBSRTP2_DEB_SRC.tmp"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    # One-line entries become a deb822 stanza each: URIs, suite, components.
    sed -nE 's/^deb[[:space:]]+(\[([^]]*)\][[:space:]]+)?([^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]+(.*)$/Types: deb-src\nURIs: \3\nSuites: \4\nComponents: \5\n/p' "$f"
  done >> "$LIBSRTP2_DEB_SRC.tmp"
  grep -q '^URIs:' "$LIBSRTP2_DEB_SRC.tmp" || { rm -f "$LIBSRTP2_DEB_SRC.tmp"; die "no Debian apt source to mirror as deb-src"; }
  mv "$LIBSRTP2_DEB_SRC.tmp" "$LIBSRTP2_DEB_SRC"
}

# deb_source <source package> [version]: sets DEB_SOURCE_TREE (the unpacked, Debian-patched
# tree) and DEB_SOURCE_VERSION (its Debian version). The source package is fetched once into
# $OUT/<package>-src/ and kept; delete that folder to fetch again. Without a version, apt gives
# the suite's current one; with one that the mirror no longer has, the suite's current one
# (with a warning). Also used by toolchain/mbedtls.sh.
deb_source() {
  local pkg=$1 want=${2:-} dir=$OUT/$1-src dsc
  mkdir -p "$dir"
  dsc=$(compgen -G "$dir/${pkg}_*.dsc" | LC_ALL=C sort -V | tail -n1) || true
  if [[ -z $dsc ]]; then
    if ! apt-get source --print-uris -qq "$pkg" >/dev/null 2>&1; then
      [[ -f $LIBSRTP2_DEB_SRC ]] || libsrtp2_add_deb_src
      APT_UPDATED=0   # the new source index is not there yet
      apt_update_once
    fi
    local spec=$pkg${want:+=$want}
    log "apt-get source --download-only $spec"
    # apt-get writes into the current directory (and, as root, warns about its sandbox).
    if ! (cd "$dir" && apt-get source --download-only -q "$spec" >download.log 2>&1); then
      if [[ -n $want ]] && (cd "$dir" && apt-get source --download-only -q "$pkg" >download.log 2>&1); then
        echo "toolchain: warning: $pkg $want is not on the mirror; using the suite's current source" >&2
      else
        cat "$dir/download.log" >&2; die "apt-get source $spec failed"
      fi
    fi
    dsc=$(compgen -G "$dir/${pkg}_*.dsc" | LC_ALL=C sort -V | tail -n1) || die "apt-get source gave no $pkg .dsc"
  fi
  DEB_SOURCE_VERSION=$(sed -n 's/^Version: //p' "$dsc")
  [[ -n $DEB_SOURCE_VERSION ]] || die "no Version in $dsc"
  local tree=$dir/$pkg-$DEB_SOURCE_VERSION
  if [[ ! -f $tree/.unpacked ]]; then
    command -v dpkg-source >/dev/null || { apt_update_once; apt-get install -y -qq dpkg-dev >/dev/null || die "installing dpkg-dev failed"; }
    log "dpkg-source -x $(basename "$dsc")"
    rm -rf "$tree"
    # Applies Debian's patches; apt-get source already checked the files against the signed index.
    dpkg-source -q -x "$dsc" "$tree" >/dev/null 2>"$dir/unpack.log" || { cat "$dir/unpack.log" >&2; die "dpkg-source -x $dsc failed"; }
    touch "$tree/.unpacked"
  fi
  DEB_SOURCE_TREE=$tree
}

# deb_source_patched <source package> <version or ""> <patch>: deb_source, then sets
# DEB_SOURCE_TREE to a copy of Debian's tree with <patch> applied (-p1), named by the patch's
# hash, made once and renamed into place when whole, so the unpacked source stays as Debian
# ships it and a changed patch gets a tree of its own. A patch that does not apply stops the
# build. Used by toolchain/mbedtls.sh and toolchain/musl-start.sh.
deb_source_patched() {
  local pkg=$1 want=$2 patch=$3 hash tree
  deb_source "$pkg" "$want"
  hash=$(sha256sum "$patch" | cut -c1-12)
  tree=$DEB_SOURCE_TREE-$(basename "${patch%.patch}")-$hash
  if [[ ! -f $tree/.patched ]]; then
    command -v patch >/dev/null || die "patch(1) not found (apt-get install patch)"
    log "patching $pkg $DEB_SOURCE_VERSION with $(basename "$patch")"
    rm -rf "$tree" "$tree.tmp.$$"
    cp -a "$DEB_SOURCE_TREE" "$tree.tmp.$$"
    (cd "$tree.tmp.$$" && patch -p1 --forward --batch --fuzz=0 --silent <"$patch") \
      || { rm -rf "$tree.tmp.$$"; die "$(basename "$patch") does not apply to $pkg $DEB_SOURCE_VERSION"; }
    touch "$tree.tmp.$$/.patched"
    mv -T "$tree.tmp.$$" "$tree" 2>/dev/null || rm -rf "$tree.tmp.$$"
  fi
  DEB_SOURCE_TREE=$tree
}

# Sets LIBSRTP2_SRC and LIBSRTP2_VERSION (see deb_source).
libsrtp2_source() {
  [[ -n ${LIBSRTP2_SRC:-} ]] && return 0
  deb_source libsrtp2
  LIBSRTP2_SRC=$DEB_SOURCE_TREE LIBSRTP2_VERSION=$DEB_SOURCE_VERSION
}

# ensure_libsrtp2 <tag> <clang target> <sysroot> <prefix> [clang flag...]: leaves
# <prefix>/lib/libsrtp2.a and <prefix>/include/srtp2/*.h. With LIBSRTP2_MBEDTLS set to the
# prefix of an mbedTLS that toolchain/mbedtls.sh built, it compiles against that one's headers
# (its config decides the layout of the AES, GCM and MD contexts libsrtp2 embeds); otherwise
# against the sysroot's. The stamp holds the source version, the target, the flags, the
# sysroot's package list, that mbedTLS's stamp and this file's and the config's hashes, so any
# of those changing rebuilds; otherwise nothing is done.
ensure_libsrtp2() {
  local tag=$1 target=$2 sysroot=$3 prefix=$4; shift 4
  local flags=(--target="$target" --sysroot="$sysroot" -Os -ffunction-sections -fdata-sections -DHAVE_CONFIG_H "$@")
  [[ -z ${LIBSRTP2_MBEDTLS:-} ]] || flags+=(-I "$LIBSRTP2_MBEDTLS/include")
  libsrtp2_source
  local upstream=${LIBSRTP2_VERSION%-*}; upstream=${upstream#*:}
  local stamp
  stamp=$(printf '%s\n' "libsrtp2 $LIBSRTP2_VERSION $target ${flags[*]}" \
    "$(cat "$sysroot/.stamp" 2>/dev/null)" \
    "$( [[ -z ${LIBSRTP2_MBEDTLS:-} ]] || cat "$LIBSRTP2_MBEDTLS/.stamp")" \
    "$(cd "$LIBSRTP2_TOOLCHAIN_DIR" && sha256sum libsrtp2.sh libsrtp2-config.h)")
  if [[ -f $prefix/.stamp && $(cat "$prefix/.stamp") == "$stamp" ]]; then return 0; fi

  log "[$tag] libsrtp2 $LIBSRTP2_VERSION (mbedTLS) -> $prefix"
  rm -rf "$prefix"; mkdir -p "$prefix/obj" "$prefix/lib" "$prefix/include/srtp2"
  cp "$LIBSRTP2_TOOLCHAIN_DIR/libsrtp2-config.h" "$prefix/obj/config.h"
  local src objs=() pids=() o i=0 jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  for src in "${LIBSRTP2_SOURCES[@]}"; do
    o=$prefix/obj/$(basename "${src%.c}").o
    objs+=("$o")
    # The mbedTLS headers: LIBSRTP2_MBEDTLS's (device), else the sysroot's (host).
    "$SWIFT_BIN/clang" "${flags[@]}" -DPACKAGE_VERSION="\"$upstream\"" \
      -DPACKAGE_STRING="\"libsrtp2 $upstream\"" -I "$prefix/obj" \
      -I "$LIBSRTP2_SRC/crypto/include" -I "$LIBSRTP2_SRC/include" \
      -c -o "$o" "$LIBSRTP2_SRC/$src" 2>"$o.log" &
    pids+=($!)
    if (( ++i % jobs == 0 )); then libsrtp2_wait "$tag" "$prefix" "${pids[@]}"; pids=(); fi
  done
  libsrtp2_wait "$tag" "$prefix" "${pids[@]}"
  "$SWIFT_BIN/llvm-ar" rcs "$prefix/lib/libsrtp2.a" "${objs[@]}" || die "[$tag] llvm-ar libsrtp2.a failed"
  for src in "${LIBSRTP2_HEADERS[@]}"; do cp "$LIBSRTP2_SRC/$src" "$prefix/include/srtp2/"; done
  echo "$stamp" > "$prefix/.stamp"
}

libsrtp2_wait() {
  local tag=$1 prefix=$2 pid failed=0; shift 2
  for pid in "$@"; do wait "$pid" || failed=1; done
  if (( failed )); then cat "$prefix"/obj/*.log >&2; die "[$tag] compiling libsrtp2 failed"; fi
}
