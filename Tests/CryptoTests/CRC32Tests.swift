@testable import Crypto
import Testing

/// CRC-32 against the definition, for every implementation this CPU has: slicing-by-16, and
/// PCLMULQDQ folding on x86-64 or the CRC32 instructions on ARM (which the device self-test
/// covers under QEMU).
@Suite struct CRC32Tests {
    /// The definition, one bit at a time (reflected polynomial 0xEDB88320, RFC 8489 §14.7 via
    /// ISO-HDLC): nothing shared with the table code.
    static func bitwise(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }

    /// Bytes that differ at every position, so a table or lane mixed up changes the result.
    static let data: [UInt8] = (0..<600).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ ($0 >> 3) &+ 7) }

    @Test func everyLengthUpTo64MatchesTheBitwiseDefinition() {
        // Lengths 0...64 cover every path: bytes only, 4-byte steps, 16-byte blocks with each tail.
        for n in 0...64 {
            let expected = Self.bitwise(Self.data[0..<n])
            let got = Self.data.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            #expect(got == expected, "length \(n)")
        }
    }

    @Test func unalignedStartsAndLongerInputs() {
        for start in 0..<8 {
            for n in [65, 79, 80, 84, 92, 127, 128, 255, 548] {
                let expected = Self.bitwise(Self.data[start..<(start + n)])
                let got = Self.data.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + n)])) }
                #expect(got == expected, "start \(start) length \(n)")
            }
        }
    }

    /// The implementation picked at run time gives the same results as each one this CPU has;
    /// the table one is always there.
    @Test func runTimeSelectionDoesNotChangeResults() {
        #expect(CRC32.selected.isAvailable)
        #expect(CRC32.Implementation.table.isAvailable)
        var compared = 0
        for implementation in [CRC32.Implementation.table, .armv8, .pclmul] {
            guard implementation.isAvailable else {
                #expect([UInt8]().withUnsafeBytes { CRC32.checksum($0, using: implementation) } == nil)
                continue
            }
            for n in 0...200 {
                let viaSelection = Self.data.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[3..<(3 + n)])) }
                let viaImplementation = Self.data.withUnsafeBytes {
                    CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[3..<(3 + n)]), using: implementation)
                }
                #expect(viaImplementation == viaSelection, "\(implementation.name) length \(n)")
                #expect(viaImplementation == Self.bitwise(Self.data[3..<(3 + n)]), "\(implementation.name) length \(n)")
                compared += 1
            }
        }
        #expect(compared >= 201)
    }

    /// Incremental updates carry the register across calls at every split point.
    @Test func splitUpdatesEqualOnePass() {
        let whole = Self.bitwise(Self.data[0..<100])
        for split in 0...100 {
            var crc = CRC32()
            Self.data.withUnsafeBytes { raw in
                crc.update(UnsafeRawBufferPointer(rebasing: raw[0..<split]))
                crc.update(UnsafeRawBufferPointer(rebasing: raw[split..<100]))
            }
            #expect(crc.checksum == whole, "split at \(split)")
        }
    }

    /// The tables the device computes are the ones the host carries as a literal, and both
    /// agree with the definition: table k is one byte then k zero bytes, bit by bit.
    @Test func computedTablesEqualTheLiteralAndTheDefinition() {
        let computed = CRC32.computedTables()
        #expect(computed == crc32Tables)
        #expect(computed.count == 16 * 256)
        for k in [0, 1, 7, 15] {
            for n in [0, 1, 0x80, 0xFF] {
                var c = UInt32(n)
                for _ in 0..<(8 * (k + 1)) { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
                #expect(computed[k * 256 + n] == c, "table \(k) entry \(n)")
            }
        }
    }
}
