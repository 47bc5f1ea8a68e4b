/* config.h for libsrtp2 as toolchain/libsrtp2.sh cross-compiles it: one file for every device
 * target. What autoconf or CMake would probe on the build machine is asked of the compiler
 * itself (the target's predefined macros, __has_include against the target sysroot), so it
 * cannot describe the build machine instead of the board. */
#ifndef ICE_LIBSRTP2_CONFIG_H
#define ICE_LIBSRTP2_CONFIG_H

/* The crypto backend is mbedTLS, the same libmbedcrypto.a the device binaries link anyway;
 * GCM enables SRTP_AEAD_AES_128_GCM / _256_GCM (RFC 7714). */
#define MBEDTLS 1
#define GCM 1

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define WORDS_BIGENDIAN 1
#endif
#if defined(__x86_64__) || defined(__i386__)
#define CPU_CISC 1
#else
#define CPU_RISC 1
#endif

#define SIZEOF_UNSIGNED_LONG __SIZEOF_LONG__
#define SIZEOF_UNSIGNED_LONG_LONG __SIZEOF_LONG_LONG__
#define HAVE_UINT8_T 1
#define HAVE_UINT16_T 1
#define HAVE_UINT32_T 1
#define HAVE_UINT64_T 1
#define HAVE_INT8_T 1
#define HAVE_INT16_T 1
#define HAVE_INT32_T 1

#if __has_include(<arpa/inet.h>)
#define HAVE_ARPA_INET_H 1
#endif
#if __has_include(<byteswap.h>)
#define HAVE_BYTESWAP_H 1
#endif
#if __has_include(<inttypes.h>)
#define HAVE_INTTYPES_H 1
#endif
#if __has_include(<netinet/in.h>)
#define HAVE_NETINET_IN_H 1
#endif
#if __has_include(<stdint.h>)
#define HAVE_STDINT_H 1
#endif
#if __has_include(<stdlib.h>)
#define HAVE_STDLIB_H 1
#endif
#if __has_include(<sys/socket.h>)
#define HAVE_SYS_SOCKET_H 1
#endif
#if __has_include(<sys/types.h>)
#define HAVE_SYS_TYPES_H 1
#endif
#if __has_include(<sys/uio.h>)
#define HAVE_SYS_UIO_H 1
#endif
#if __has_include(<unistd.h>)
#define HAVE_UNISTD_H 1
#endif

/* No ERR_REPORTING_STDOUT / ERR_REPORTING_FILE: libsrtp2 reports only through the handler
 * its user installs, never to a file of its own. */

#endif
