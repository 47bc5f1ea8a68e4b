// CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320) with the CPU's own instructions, for
// FINGERPRINT (RFC 8489 §14.7). Header-only: static inline functions the Swift module Crypto
// imports, compiled for whichever target builds it. Each function takes and returns the running
// (pre-inverted) CRC register, as Crypto's table code does, so the two can be mixed.
//
// ARMv8 (AArch64, and AArch32 on an ARMv8 core): the CRC32B/W/X instructions, optional in
// ARMv8.0, so the code is compiled for them (target("crc")) and called only when the kernel
// reports them (ice_crc32_arm_available): HWCAP_CRC32 in AT_HWCAP on AArch64, HWCAP2_CRC32 in
// AT_HWCAP2 on AArch32 (Linux arch/arm64/include/uapi/asm/hwcap.h, arch/arm/.../hwcap.h).
//
// x86-64: carry-less multiplication (PCLMULQDQ, checked with CPUID) folds 16-byte blocks, as in
// Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ Instruction" (2009),
// with the bit-reflected constants for 0xEDB88320 that zlib's and Go's versions use.
#ifndef ICE_CCRC32_H
#define ICE_CCRC32_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__aarch64__) || defined(__arm__)
#define ICE_CRC32_ARM 1
#include <arm_acle.h>
#include <sys/auxv.h>

#if defined(__aarch64__)
#define ICE_CRC32_AUXV_TYPE 16UL      /* AT_HWCAP */
#define ICE_CRC32_AUXV_BIT (1UL << 7) /* HWCAP_CRC32 */
#else
#define ICE_CRC32_AUXV_TYPE 26UL      /* AT_HWCAP2 */
#define ICE_CRC32_AUXV_BIT (1UL << 4) /* HWCAP2_CRC32 */
#endif

/* 1 when the CPU has the CRC32 instructions. Read once: relaxed atomics make the cache free of
   data races when threads ask at the same time (they all store the same value). */
static inline int ice_crc32_arm_available(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        v = (getauxval(ICE_CRC32_AUXV_TYPE) & ICE_CRC32_AUXV_BIT) != 0;
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

/* The running CRC register over n bytes at p. Only call when ice_crc32_arm_available(). */
__attribute__((target("crc")))
static inline uint32_t ice_crc32_arm(uint32_t crc, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);  /* unaligned, little-endian: what the instruction expects */
        crc = __crc32d(crc, v);
        p += 8;
        n -= 8;
    }
    if (n >= 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        crc = __crc32w(crc, v);
        p += 4;
        n -= 4;
    }
    while (n > 0) {
        crc = __crc32b(crc, *p);
        p++;
        n--;
    }
    return crc;
}
#endif

#if defined(__x86_64__)
#define ICE_CRC32_CLMUL 1
#include <cpuid.h>
#include <emmintrin.h>
#include <wmmintrin.h>

/* 1 when the CPU has PCLMULQDQ (CPUID.1:ECX bit 1); cached like ice_crc32_arm_available. */
static inline int ice_crc32_clmul_available(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        unsigned a, b, c, d;
        v = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_PCLMUL) != 0;
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

/* The running CRC register over n bytes at p, n >= 64 and a multiple of 16. Only call when
   ice_crc32_clmul_available(). Four lanes fold 64 bytes at a time, are folded into one, which
   folds the remaining 16-byte blocks; then 128 -> 64 -> 32 bits and a Barrett reduction. */
__attribute__((target("pclmul")))
static inline uint32_t ice_crc32_clmul(uint32_t crc, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);  /* fold by 512 bits */
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);  /* fold by 128 bits */
    const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124);             /* 64 -> 32 bits */
    const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641);  /* Barrett: mu, P */
    const __m128i low32 = _mm_setr_epi32(~0, 0, ~0, 0);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 0x00));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 0x10));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 0x20));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(p + 0x30));
    __m128i t;
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    p += 64;
    n -= 64;
    while (n >= 64) {
        __m128i l1 = _mm_clmulepi64_si128(x1, k1k2, 0x00), l2 = _mm_clmulepi64_si128(x2, k1k2, 0x00);
        __m128i l3 = _mm_clmulepi64_si128(x3, k1k2, 0x00), l4 = _mm_clmulepi64_si128(x4, k1k2, 0x00);
        x1 = _mm_clmulepi64_si128(x1, k1k2, 0x11);
        x2 = _mm_clmulepi64_si128(x2, k1k2, 0x11);
        x3 = _mm_clmulepi64_si128(x3, k1k2, 0x11);
        x4 = _mm_clmulepi64_si128(x4, k1k2, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, l1), _mm_loadu_si128((const __m128i *)(p + 0x00)));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, l2), _mm_loadu_si128((const __m128i *)(p + 0x10)));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, l3), _mm_loadu_si128((const __m128i *)(p + 0x20)));
        x4 = _mm_xor_si128(_mm_xor_si128(x4, l4), _mm_loadu_si128((const __m128i *)(p + 0x30)));
        p += 64;
        n -= 64;
    }
    t = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x2), t);
    t = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x3), t);
    t = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x4), t);
    while (n >= 16) {
        t = _mm_clmulepi64_si128(x1, k3k4, 0x00);
        x1 = _mm_clmulepi64_si128(x1, k3k4, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, _mm_loadu_si128((const __m128i *)p)), t);
        p += 16;
        n -= 16;
    }
    /* 128 -> 64 bits, 64 -> 32 bits, then Barrett: the register is bits 32..63. */
    t = _mm_clmulepi64_si128(x1, k3k4, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
    t = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5k0, 0x00), t);
    t = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), poly, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), poly, 0x00);
    x1 = _mm_xor_si128(x1, t);
    return (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(x1, 4));
}
#endif

#endif
