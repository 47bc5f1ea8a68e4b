import Crypto

// CRC-32 (FINGERPRINT, RFC 8489 §14.7) on the device: the implementation picked at run time,
// the ARMv8 CRC32 instructions when the kernel reports them (qemu-aarch64's and qemu-arm's
// default CPUs do), must give the known answers and the table code's results. It says which
// one ran, so a log shows whether the hardware path was taken.

/// The definition, a bit at a time: nothing shared with either implementation.
private func crc32Bitwise(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
    }
    return c ^ 0xFFFF_FFFF
}

func crc32SelfTest() {
    let selected = CRC32.selected
    print("device-selftest: CRC-32 via " + selected.name.description)
    let check9: [UInt8] = [0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]  // "123456789"
    check(check9.withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926, "CRC-32 check value")
    let data: [UInt8] = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ ($0 >> 3) &+ 7) }
    var same = true
    // Lengths 0...64 from an odd start: byte, word and block paths and unaligned loads.
    for n in 0...64 {
        let expected = crc32Bitwise(data[1..<(1 + n)])
        data.withUnsafeBytes { raw in
            let slice = UnsafeRawBufferPointer(rebasing: raw[1..<(1 + n)])
            same = same && CRC32.checksum(slice) == expected
            same = same && CRC32.checksum(slice, using: .table) == expected
            if CRC32.Implementation.armv8.isAvailable { same = same && CRC32.checksum(slice, using: .armv8) == expected }
        }
    }
    check(same, "CRC-32 lengths 0...64, selected and table implementations")
}
