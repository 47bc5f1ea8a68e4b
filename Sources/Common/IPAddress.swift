/// An IPv4 or IPv6 address held inline (no heap), in network byte order semantics:
/// `v4(0xC0000201)` is 192.0.2.1.
public enum IPAddress: Hashable, Sendable {
    case v4(UInt32)
    /// High and low 64 bits of the 128-bit address.
    case v6(UInt64, UInt64)

    public static let v4Any = IPAddress.v4(0)
    public static let v4Loopback = IPAddress.v4(0x7F00_0001)
    public static let v6Loopback = IPAddress.v6(0, 1)

    public var isIPv4: Bool { if case .v4 = self { return true } else { return false } }
    public var isIPv6: Bool { !isIPv4 }

    public var isLoopback: Bool {
        switch self {
        case .v4(let a): return a >> 24 == 127
        case .v6(let hi, let lo): return hi == 0 && lo == 1
        }
    }

    /// IPv6 link-local fe80::/10 or IPv4 169.254/16 (RFC 3927).
    public var isLinkLocal: Bool {
        switch self {
        case .v4(let a): return a >> 16 == 0xA9FE
        case .v6(let hi, _): return hi >> 54 == 0x3FA
        }
    }

    /// Number of bytes of the address on the wire (4 or 16).
    public var byteCount: Int { isIPv4 ? 4 : 16 }

    /// Reads an address from `count` (4 or 16) network-order bytes.
    public init?(bytes: UnsafeRawBufferPointer) {
        switch bytes.count {
        case 4: self = .v4(bytes.loadBigEndianUInt32(at: 0))
        case 16: self = .v6(bytes.loadBigEndianUInt64(at: 0), bytes.loadBigEndianUInt64(at: 8))
        default: return nil
        }
    }

    /// Writes the address in network byte order; `out` must hold `byteCount` bytes.
    public func write(to out: UnsafeMutableRawBufferPointer) {
        switch self {
        case .v4(let a): out.storeBigEndian(a, at: 0)
        case .v6(let hi, let lo):
            out.storeBigEndian(hi, at: 0)
            out.storeBigEndian(lo, at: 8)
        }
    }
}
