# Sourced by toolchain/build and scripts/install-deps after libsrtp2.sh (it uses OUT, SWIFT_BIN,
# die, log and deb_source): builds libmbedcrypto.a, libmbedx509.a and libmbedtls.a from Debian's
# mbedtls source package with toolchain/mbedtls-srtp-gcm.patch applied (use_srtp's
# SRTP_AEAD_AES_128_GCM, RFC 7714 §14.2, which 2.28 lacks). The device build uses the project's
# configuration (toolchain/mbedtls-config.h: only what the agent calls); the host build
# (install-deps) Debian's own. Debian's libmbedtls-dev archives enable nearly everything, were
# compiled with -O2 and _FORTIFY_SOURCE for glibc, and lack the patch. See toolchain/README.md.

MBEDTLS_TOOLCHAIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

MBEDTLS_PATCH=$MBEDTLS_TOOLCHAIN_DIR/mbedtls-srtp-gcm.patch

# Sets MBEDTLS_SRC (the patched tree, deb_source_patched) and MBEDTLS_VERSION. The version is
# the host's libmbedtls-dev when one is installed, else the suite's.
mbedtls_source() {
  [[ -n ${MBEDTLS_SRC:-} ]] && return 0
  deb_source_patched mbedtls "$(dpkg-query -W -f='${Version}' libmbedtls-dev 2>/dev/null || true)" "$MBEDTLS_PATCH"
  MBEDTLS_SRC=$DEB_SOURCE_TREE MBEDTLS_VERSION=$DEB_SOURCE_VERSION
}

# mbedtls_debian_config <file>: writes Debian's config.h for this source (upstream's default plus
# the `scripts/config.py set` lines of debian/rules, as Debian's build of libmbedtls-dev runs them).
mbedtls_debian_config() {
  local out=$1 names
  names=$(sed -nE 's/^[[:space:]]*scripts\/config\.py set ([A-Z0-9_]+)[[:space:]]*$/\1/p' "$MBEDTLS_SRC/debian/rules")
  grep -qx MBEDTLS_SSL_DTLS_SRTP <<<"$names" || die "debian/rules of mbedtls $MBEDTLS_VERSION does not enable MBEDTLS_SSL_DTLS_SRTP"
  cp "$MBEDTLS_SRC/include/mbedtls/config.h" "$out"
  local n
  for n in $names; do
    python3 "$MBEDTLS_SRC/scripts/config.py" -f "$out" set "$n" || die "config.py set $n failed"
  done
}

# Which archive a library/*.c file belongs to, as upstream's library/CMakeLists.txt splits them.
mbedtls_archive_of() {
  case $1 in
    certs.c|pkcs11.c|x509*.c) echo mbedx509 ;;
    debug.c|net_sockets.c|ssl_*.c) echo mbedtls ;;
    *) echo mbedcrypto ;;
  esac
}

# ensure_mbedtls <tag> <clang target> <sysroot> <prefix> [clang flag...]: leaves
# <prefix>/lib/lib{mbedcrypto,mbedx509,mbedtls}.a and <prefix>/include/{mbedtls,psa}/*.h, with
# the configuration installed as <prefix>/include/mbedtls/config.h so that every user of these
# headers (the library, libsrtp2, the Swift importer) sees the same one without a
# -DMBEDTLS_CONFIG_FILE of its own. MBEDTLS_CONFIG=debian (the host's build) takes Debian's
# configuration and drops the device's -Os and section flags (the caller gives its own -O);
# otherwise toolchain/mbedtls-config.h. The stamp holds the source version, the target, the
# flags, the configuration, the sysroot's package list and the hashes of this file, the patch
# and the config; any of those changing rebuilds, otherwise nothing is done.
ensure_mbedtls() {
  local tag=$1 target=$2 sysroot=$3 prefix=$4; shift 4
  local config=${MBEDTLS_CONFIG:-project} flags
  if [[ $config == debian ]]; then
    flags=(--target="$target" --sysroot="$sysroot" "$@")
  else
    # -ffunction-sections/-fdata-sections: the link's --gc-sections then drops what the agent
    # never calls, function by function.
    flags=(--target="$target" --sysroot="$sysroot" -Os -ffunction-sections -fdata-sections "$@")
  fi
  mbedtls_source
  local stamp
  stamp=$(printf '%s\n' "mbedtls $MBEDTLS_VERSION $target $config ${flags[*]}" \
    "$(cat "$sysroot/.stamp" 2>/dev/null)" \
    "$(cd "$MBEDTLS_TOOLCHAIN_DIR" && sha256sum mbedtls.sh mbedtls-srtp-gcm.patch mbedtls-config.h mbedtls-gmtime.c)")
  if [[ -f $prefix/.stamp && $(cat "$prefix/.stamp") == "$stamp" ]]; then return 0; fi

  log "[$tag] mbedTLS $MBEDTLS_VERSION (patched, $config configuration) -> $prefix"
  rm -rf "$prefix"; mkdir -p "$prefix/obj" "$prefix/lib" "$prefix/include"
  cp -R "$MBEDTLS_SRC/include/mbedtls" "$MBEDTLS_SRC/include/psa" "$prefix/include/"
  local sources=("$MBEDTLS_SRC"/library/*.c)
  if [[ $config == debian ]]; then
    mbedtls_debian_config "$prefix/include/mbedtls/config.h"
  else
    cp "$MBEDTLS_TOOLCHAIN_DIR/mbedtls-config.h" "$prefix/include/mbedtls/config.h"
    # The configuration's MBEDTLS_PLATFORM_GMTIME_R_ALT: ours goes into libmbedcrypto.a.
    sources+=("$MBEDTLS_TOOLCHAIN_DIR/mbedtls-gmtime.c")
  fi
  local src o pids=() i=0 jobs mbedcrypto=() mbedx509=() mbedtls=()
  jobs=$(nproc 2>/dev/null || echo 2)
  for src in "${sources[@]}"; do
    o=$prefix/obj/$(basename "${src%.c}").o
    local -n members=$(mbedtls_archive_of "$(basename "$src")")
    members+=("$o")
    "$SWIFT_BIN/clang" "${flags[@]}" -I "$prefix/include" -I "$MBEDTLS_SRC/library" \
      -c -o "$o" "$src" 2>"$o.log" &
    pids+=($!)
    if (( ++i % jobs == 0 )); then mbedtls_wait "$tag" "$prefix" "${pids[@]}"; pids=(); fi
  done
  mbedtls_wait "$tag" "$prefix" "${pids[@]}"
  "$SWIFT_BIN/llvm-ar" rcs "$prefix/lib/libmbedcrypto.a" "${mbedcrypto[@]}" || die "[$tag] llvm-ar libmbedcrypto.a failed"
  "$SWIFT_BIN/llvm-ar" rcs "$prefix/lib/libmbedx509.a" "${mbedx509[@]}" || die "[$tag] llvm-ar libmbedx509.a failed"
  "$SWIFT_BIN/llvm-ar" rcs "$prefix/lib/libmbedtls.a" "${mbedtls[@]}" || die "[$tag] llvm-ar libmbedtls.a failed"
  echo "$stamp" > "$prefix/.stamp"
}

mbedtls_wait() {
  local tag=$1 prefix=$2 pid failed=0; shift 2
  for pid in "$@"; do wait "$pid" || failed=1; done
  if (( failed )); then cat "$prefix"/obj/*.log >&2; die "[$tag] compiling mbedTLS failed"; fi
}
