# Sourced by toolchain/build after libsrtp2.sh (it uses OUT, SWIFT_BIN, die, log and
# deb_source_patched): builds musl's static-pie start file, rcrt1.o, from Debian's musl source
# package with toolchain/musl-dlstart-relr.patch applied, so that a static-pie binary can carry
# its relative relocations packed (DT_RELR, lld's -z pack-relative-relocs), as glibc 2.36's
# start-up reads them. musl 1.2.3 (bookworm) relocates from DT_REL/DT_RELA only; the packed
# form is about 50 KB smaller on aarch64 and keeps the binary position-independent (ASLR).
# The rest of musl comes from Debian's musl-dev as before. See toolchain/README.md.

MUSL_START_PATCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/musl-dlstart-relr.patch

# ensure_musl_start <tag> <clang target> <sysroot> <musl arch> <prefix> [clang flag...]: leaves
# <prefix>/rcrt1.o, built from the source of the musl-dev the sysroot holds, for clang's -B
# <prefix>/ to take before the sysroot's. Compiled as musl's Makefile compiles it (-DCRT -fPIC,
# freestanding, no stack protector: it runs before anything is relocated), against musl's
# internal headers and the sysroot's generated ones. The stamp holds the version, the target,
# the flags and the hashes of this file and the patch.
ensure_musl_start() {
  local tag=$1 target=$2 sysroot=$3 arch=$4 prefix=$5; shift 5
  local version
  # The sysroot's stamp lists its .deb files (toolchain/build, ensure_sysroot).
  version=$(sed -n 's/^musl-dev_\([^_]*\)_.*\.deb$/\1/p' "$sysroot/.stamp" 2>/dev/null | sed 's/%3a/:/')
  [[ -n $version ]] || die "[$tag] the sysroot names no musl-dev version"
  local flags=(--target="$target" --sysroot="$sysroot" -std=c99 -nostdinc -ffreestanding -fno-builtin
    -fno-stack-protector -fPIC -DCRT -D_XOPEN_SOURCE=700 -Os "$@")
  local stamp
  stamp=$(printf '%s\n' "musl $version $target ${flags[*]}" \
    "$(sha256sum "${BASH_SOURCE[0]}" "$MUSL_START_PATCH" | cut -c1-64)")
  if [[ -f $prefix/.stamp && $(cat "$prefix/.stamp") == "$stamp" ]]; then return 0; fi
  deb_source_patched musl "$version" "$MUSL_START_PATCH"
  local src=$DEB_SOURCE_TREE
  log "[$tag] musl $DEB_SOURCE_VERSION rcrt1.o (packed relocations) -> $prefix"
  rm -rf "$prefix"; mkdir -p "$prefix"
  "$SWIFT_BIN/clang" "${flags[@]}" -I "$src/arch/$arch" -I "$src/arch/generic" -I "$src/src/include" \
    -I "$src/src/internal" -isystem "$sysroot/usr/include" -c -o "$prefix/rcrt1.o" "$src/crt/rcrt1.c" \
    2>"$prefix/rcrt1.log" || { cat "$prefix/rcrt1.log" >&2; die "[$tag] compiling musl's rcrt1.c failed"; }
  echo "$stamp" > "$prefix/.stamp"
}
