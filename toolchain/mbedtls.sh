# Sourced by toolchain/build after libsrtp2.sh (it uses OUT, SWIFT_BIN, die, log and
# deb_source): builds libmbedcrypto.a, libmbedx509.a and libmbedtls.a for one device target from
# Debian's mbedtls source package with the project's configuration (toolchain/mbedtls-config.h:
# only what the agent calls). Debian's libmbedtls-dev archives enable nearly everything and were
# compiled with -O2 and _FORTIFY_SOURCE for glibc. See toolchain/README.md.

MBEDTLS_TOOLCHAIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Sets MBEDTLS_SRC and MBEDTLS_VERSION. The version is the host's libmbedtls-dev when one is
# installed (the host build's Swift code then sees the same API), else the suite's.
mbedtls_source() {
  [[ -n ${MBEDTLS_SRC:-} ]] && return 0
  deb_source mbedtls "$(dpkg-query -W -f='${Version}' libmbedtls-dev 2>/dev/null || true)"
  MBEDTLS_SRC=$DEB_SOURCE_TREE MBEDTLS_VERSION=$DEB_SOURCE_VERSION
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
# the project's configuration installed as <prefix>/include/mbedtls/config.h so that every user
# of these headers (the library, libsrtp2, the Swift importer) sees the same one without a
# -DMBEDTLS_CONFIG_FILE of its own. The stamp holds the source version, the target, the flags,
# the sysroot's package list and the hashes of this file and the config; any of those changing
# rebuilds, otherwise nothing is done.
ensure_mbedtls() {
  local tag=$1 target=$2 sysroot=$3 prefix=$4; shift 4
  # -ffunction-sections/-fdata-sections: the link's --gc-sections then drops what the agent
  # never calls, function by function.
  local flags=(--target="$target" --sysroot="$sysroot" -Os -ffunction-sections -fdata-sections "$@")
  mbedtls_source
  local stamp
  stamp=$(printf '%s\n' "mbedtls $MBEDTLS_VERSION $target ${flags[*]}" \
    "$(cat "$sysroot/.stamp" 2>/dev/null)" \
    "$(cd "$MBEDTLS_TOOLCHAIN_DIR" && sha256sum mbedtls.sh mbedtls-config.h mbedtls-gmtime.c)")
  if [[ -f $prefix/.stamp && $(cat "$prefix/.stamp") == "$stamp" ]]; then return 0; fi

  log "[$tag] mbedTLS $MBEDTLS_VERSION (toolchain/mbedtls-config.h) -> $prefix"
  rm -rf "$prefix"; mkdir -p "$prefix/obj" "$prefix/lib" "$prefix/include"
  cp -R "$MBEDTLS_SRC/include/mbedtls" "$MBEDTLS_SRC/include/psa" "$prefix/include/"
  cp "$MBEDTLS_TOOLCHAIN_DIR/mbedtls-config.h" "$prefix/include/mbedtls/config.h"
  local src o pids=() i=0 jobs mbedcrypto=() mbedx509=() mbedtls=()
  jobs=$(nproc 2>/dev/null || echo 2)
  # The configuration's MBEDTLS_PLATFORM_GMTIME_R_ALT: ours goes into libmbedcrypto.a.
  for src in "$MBEDTLS_SRC"/library/*.c "$MBEDTLS_TOOLCHAIN_DIR/mbedtls-gmtime.c"; do
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
