// CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320) with the CPU's own instructions, for
// FINGERPRINT (RFC 8489 §14.7). Header-only: static inline functions the Swift module Crypto
// imports, compiled for whichever target builds it. Each function takes and returns the running
// (pre-inverted) CRC register, as Crypto's table code does, so the two can be mixed.
//
// ARMv8 (AArch64, and AArch32 on an ARMv8 core): the CRC32B/W/X instructions, optional in
// ARMv8.0, so the code is compiled for them (target("crc")) and called only when the kernel
// reports them (ice_crc32_arm_available): HWCAP_CRC32 in AT_HWCAP on AArch64, HWCAP2_CRC32 in
// AT_HWCAP2 on AArch32 (Linux arch/arm64/include/uapi/asm/hwcap.h, arch/arm/.../hwcap.h).
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

#endif
