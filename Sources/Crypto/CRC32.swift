#if arch(arm64) || arch(arm) || arch(x86_64)
import CCRC32
#endif

/// CRC-32 (ISO-HDLC, the one zlib and Ethernet use), as RFC 8489 §14.7 FINGERPRINT requires.
/// Every STUN message on the packet path is fingerprinted, so it runs at the CPU's pace, with
/// what the CPU has (checked at run time): on ARM the ARMv8 CRC32 instructions, on x86-64
/// carry-less multiplication (PCLMULQDQ) for 64 bytes and more, elsewhere and for the rest
/// slicing-by-16 through sixteen 256-entry tables (`crc32Tables`, 16 KiB: static data on the
/// host, computed once on the device).
public struct CRC32 {
    public private(set) var value: UInt32 = 0xFFFF_FFFF

    public init() {}

    public mutating func update(_ data: UnsafeRawBufferPointer) {
        guard let p = data.baseAddress else { return }
        value = CRC32.advance(value, p, data.count)
    }

    public var checksum: UInt32 { value ^ 0xFFFF_FFFF }

    public static func checksum(_ data: UnsafeRawBufferPointer) -> UInt32 {
        guard let p = data.baseAddress else { return 0 }
        return advance(0xFFFF_FFFF, p, data.count) ^ 0xFFFF_FFFF
    }

    /// How the CRC is computed.
    public enum Implementation: Sendable {
        /// Slicing-by-16 tables: every CPU.
        case table
        /// The ARMv8 CRC32B/W/X instructions (an optional ARMv8.0 feature).
        case armv8
        /// x86-64 PCLMULQDQ folding of the 16-byte blocks of inputs of 64 bytes or more; the
        /// tables for shorter inputs and the last 0-15 bytes.
        case pclmul

        public var name: StaticString {
            switch self {
            case .table: return "slicing-by-16 tables"
            case .armv8: return "ARMv8 CRC32 instructions"
            case .pclmul: return "x86-64 PCLMULQDQ folding"
            }
        }

        public var isAvailable: Bool {
            switch self {
            case .table: return true
            case .armv8:
                #if arch(arm64) || arch(arm)
                return ice_crc32_arm_available() != 0
                #else
                return false
                #endif
            case .pclmul:
                #if arch(x86_64)
                return ice_crc32_clmul_available() != 0
                #else
                return false
                #endif
            }
        }
    }

    /// Makes the tables ready when this CPU needs them, so the first STUN message does not
    /// pay for it (on the device they are computed on first use, 16 KiB of heap; on the host
    /// they are static data and this does nothing).
    public static func prepare() {
        if selected != .armv8 { _ = crc32Tables.count }
    }

    /// The sixteen slicing tables, from the polynomial: table 0 advances the register over one
    /// byte, table k over a byte followed by k zero bytes (table k-1's entry advanced one more
    /// byte of zeros).
    public static func computedTables() -> [UInt32] {
        var t = [UInt32](repeating: 0, count: 16 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
            t[n] = c
        }
        for k in 1..<16 {
            for n in 0..<256 {
                let previous = t[(k - 1) * 256 + n]
                t[k * 256 + n] = t[Int(previous & 0xFF)] ^ (previous >> 8)
            }
        }
        return t
    }

    /// What `update` and `checksum` use on this CPU.
    public static var selected: Implementation {
        if Implementation.armv8.isAvailable { return .armv8 }
        if Implementation.pclmul.isAvailable { return .pclmul }
        return .table
    }

    /// The checksum with one implementation, for known-answer tests of each; nil when this CPU
    /// does not have it.
    public static func checksum(_ data: UnsafeRawBufferPointer, using implementation: Implementation) -> UInt32? {
        guard implementation.isAvailable else { return nil }
        guard let p = data.baseAddress else { return 0 }
        switch implementation {
        case .table: return advanceTable(0xFFFF_FFFF, p, data.count) ^ 0xFFFF_FFFF
        case .armv8:
            #if arch(arm64) || arch(arm)
            return ice_crc32_arm(0xFFFF_FFFF, p, data.count) ^ 0xFFFF_FFFF
            #else
            return nil
            #endif
        case .pclmul:
            #if arch(x86_64)
            return advancePCLMUL(0xFFFF_FFFF, p, data.count) ^ 0xFFFF_FFFF
            #else
            return nil
            #endif
        }
    }

    /// The register after `n` bytes at `p`.
    @inline(__always)
    static func advance(_ crc: UInt32, _ p: UnsafeRawPointer, _ n: Int) -> UInt32 {
        #if arch(arm64) || arch(arm)
        if ice_crc32_arm_available() != 0 { return ice_crc32_arm(crc, p, n) }
        #elseif arch(x86_64)
        if n >= 64 && ice_crc32_clmul_available() != 0 { return advancePCLMUL(crc, p, n) }
        #endif
        return advanceTable(crc, p, n)
    }

    #if arch(x86_64)
    /// The folding needs 64 bytes and whole 16-byte blocks; the tables do the rest. (84 bytes,
    /// an ICE check up to its FINGERPRINT: 35 ns with the tables alone, 16 ns so.)
    @inline(__always)
    static func advancePCLMUL(_ crc: UInt32, _ p: UnsafeRawPointer, _ n: Int) -> UInt32 {
        guard n >= 64 else { return advanceTable(crc, p, n) }
        let blocks = n & ~15
        return advanceTable(ice_crc32_clmul(crc, p, blocks), p + blocks, n &- blocks)
    }
    #endif

    static func advanceTable(_ crc: UInt32, _ p: UnsafeRawPointer, _ n: Int) -> UInt32 {
        crc32Tables.withUnsafeBufferPointer { tables in
            sliceBy16(crc, p, n, tables.baseAddress!)
        }
    }

    /// Sixteen bytes per step: the register's four bytes and the next twelve each through their
    /// own table. The twelve lookups that do not depend on the register are done one step
    /// ahead, so a step waits on four dependent lookups only (written as one expression, the
    /// compiler chained all sixteen behind the register: 35 instead of 47 ns for 84 bytes).
    /// The register and all indices stay in registers; the bounds are the loop conditions.
    @inline(__always)
    static func sliceBy16(_ crc: UInt32, _ p: UnsafeRawPointer, _ n: Int, _ t: UnsafePointer<UInt32>) -> UInt32 {
        var c = crc
        var i = 0
        if n >= 16 {
            var ahead = independentTwelve(p, 0, t)
            while true {
                let dependent = lookup4(c ^ load32(p, i), t, 12)
                i &+= 16
                guard n &- i >= 16 else {
                    c = dependent ^ ahead
                    break
                }
                let next = independentTwelve(p, i, t)
                c = dependent ^ ahead
                ahead = next
            }
        }
        // STUN messages are multiples of four bytes: one 4-byte step finishes most of them.
        while n &- i >= 4 {
            c = lookup4(c ^ load32(p, i), t, 0)
            i &+= 4
        }
        while i < n {
            c = t[Int((c ^ UInt32(p.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (c >> 8)
            i &+= 1
        }
        return c
    }

    @inline(__always)
    static func load32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// The four bytes of `v` (first byte lowest) through tables `first + 3` down to `first`.
    @inline(__always)
    static func lookup4(_ v: UInt32, _ t: UnsafePointer<UInt32>, _ first: Int) -> UInt32 {
        t[(first &+ 3) &* 256 &+ Int(v & 0xFF)] ^ t[(first &+ 2) &* 256 &+ Int((v >> 8) & 0xFF)]
            ^ t[(first &+ 1) &* 256 &+ Int((v >> 16) & 0xFF)] ^ t[first &* 256 &+ Int(v >> 24)]
    }

    /// Bytes 4..<16 of the block at `offset` through tables 11 down to 0.
    @inline(__always)
    static func independentTwelve(_ p: UnsafeRawPointer, _ offset: Int, _ t: UnsafePointer<UInt32>) -> UInt32 {
        lookup4(load32(p, offset &+ 4), t, 8) ^ lookup4(load32(p, offset &+ 8), t, 4)
            ^ lookup4(load32(p, offset &+ 12), t, 0)
    }
}
