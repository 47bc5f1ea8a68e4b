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

    /// 0.0.0.0 or :: (RFC 1122 §3.2.1.3, RFC 4291 §2.5.2): never a destination.
    public var isUnspecified: Bool {
        switch self {
        case .v4(let a): return a == 0
        case .v6(let hi, let lo): return hi == 0 && lo == 0
        }
    }

    /// 224.0.0.0/4 or ff00::/8 (RFC 5771, RFC 4291 §2.7).
    public var isMulticast: Bool {
        switch self {
        case .v4(let a): return a >> 28 == 0xE
        case .v6(let hi, _): return hi >> 56 == 0xFF
        }
    }

    /// 255.255.255.255 (RFC 919); IPv6 has no broadcast. Directed broadcasts depend on a
    /// netmask the agent does not know.
    public var isLimitedBroadcast: Bool {
        if case .v4(let a) = self { return a == 0xFFFF_FFFF }
        return false
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
