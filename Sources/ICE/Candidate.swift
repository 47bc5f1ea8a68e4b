import Common

/// RFC 8445 §5.1.1 candidate types with their §5.1.2.2 recommended type preferences.
public enum CandidateType: UInt8, Sendable {
    case host, serverReflexive, peerReflexive, relayed

    public var typePreference: UInt32 {
        switch self {
        case .host: return 126
        case .peerReflexive: return 110
        case .serverReflexive: return 100
        case .relayed: return 0
        }
    }

    /// The name in SDP (RFC 8839 §5.1).
    public var sdpName: StaticString {
        switch self {
        case .host: return "host"
        case .serverReflexive: return "srflx"
        case .peerReflexive: return "prflx"
        case .relayed: return "relay"
        }
    }
}

public enum TransportProtocol: UInt8, Sendable {
    case udp, tcp
}

/// A candidate foundation (RFC 8445 §5.1.1.3): 1 to 32 ice-chars, held inline.
public struct Foundation: Hashable, Sendable, CustomStringConvertible {
    var bytes = InlineArray<32, UInt8>(repeating: 0)
    var length: UInt8 = 0

    public init(number: Int) {
        var n = number
        var digits = InlineArray<10, UInt8>(repeating: 0)
        var k = 0
        repeat {
            digits[k] = UInt8(0x30 + n % 10)
            n /= 10
            k += 1
        } while n > 0 && k < 10
        for i in 0..<k { bytes[i] = digits[k - 1 - i] }
        length = UInt8(k)
    }

    /// From SDP text; longer than 32 bytes is truncated (it only has to compare equal).
    public init(utf8 text: UnsafeRawBufferPointer) {
        let n = min(32, text.count)
        for i in 0..<n { bytes[i] = text[i] }
        length = UInt8(n)
    }

    public init(_ text: String) {
        var t = text
        self = t.withUTF8 { Foundation(utf8: UnsafeRawBufferPointer($0)) }
    }

    public static func == (a: Foundation, b: Foundation) -> Bool {
        guard a.length == b.length else { return false }
        for i in 0..<Int(a.length) where a.bytes[i] != b.bytes[i] { return false }
        return true
    }

    public func hash(into h: inout Hasher) {
        for i in 0..<Int(length) { h.combine(bytes[i]) }
    }

    public var description: String {
        var s = ""
        for i in 0..<Int(length) { s.unicodeScalars.append(Unicode.Scalar(bytes[i])) }
        return s
    }
}

/// A local or remote candidate (RFC 8445 §5.1). Inline value: no heap.
public struct Candidate: Sendable {
    /// Assigned by the agent when it stores the candidate (`.unassigned` before).
    public internal(set) var id: CandidateID = .unassigned
    public var type: CandidateType
    public var component: UInt8
    public var transport: TransportProtocol
    public var priority: UInt32
    public var foundation: Foundation
    public var address: TransportAddress
    /// RFC 8445 §5.1.1: where the agent sends from. For host and relayed candidates, the
    /// candidate itself; for reflexive ones, the host candidate they were learned through.
    public var base: TransportAddress
    /// raddr/rport in SDP (RFC 8839 §5.1).
    public var relatedAddress: TransportAddress?

    public init(type: CandidateType, component: UInt8, transport: TransportProtocol = .udp, priority: UInt32,
                foundation: Foundation, address: TransportAddress, base: TransportAddress? = nil,
                relatedAddress: TransportAddress? = nil) {
        self.type = type
        self.component = component
        self.transport = transport
        self.priority = priority
        self.foundation = foundation
        self.address = address
        self.base = base ?? address
        self.relatedAddress = relatedAddress
    }

    /// RFC 8445 §5.1.2.1: (2^24)*type preference + (2^8)*local preference + (256 - component).
    public static func priority(type: CandidateType, localPreference: UInt16, component: UInt8) -> UInt32 {
        type.typePreference << 24 | UInt32(localPreference) << 8 | (256 - UInt32(component))
    }

    public var localPreference: UInt16 { UInt16(truncatingIfNeeded: priority >> 8) }
}
