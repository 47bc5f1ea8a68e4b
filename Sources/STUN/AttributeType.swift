/// A STUN attribute type (RFC 8489 §14, §18.3; RFC 8656; RFC 8445; RFC 5780).
public struct AttributeType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// RFC 8489 §14: types 0x0000-0x7FFF must be understood or the request rejected with 420.
    public var isComprehensionRequired: Bool { rawValue < 0x8000 }

    // RFC 8489
    public static let mappedAddress = AttributeType(0x0001)
    public static let username = AttributeType(0x0006)
    public static let messageIntegrity = AttributeType(0x0008)
    public static let errorCode = AttributeType(0x0009)
    public static let unknownAttributes = AttributeType(0x000A)
    public static let realm = AttributeType(0x0014)
    public static let nonce = AttributeType(0x0015)
    public static let messageIntegritySHA256 = AttributeType(0x001C)
    public static let passwordAlgorithm = AttributeType(0x001D)
    public static let userhash = AttributeType(0x001E)
    public static let xorMappedAddress = AttributeType(0x0020)
    public static let passwordAlgorithms = AttributeType(0x8002)
    public static let alternateDomain = AttributeType(0x8003)
    public static let software = AttributeType(0x8022)
    public static let alternateServer = AttributeType(0x8023)
    public static let fingerprint = AttributeType(0x8028)
    // RFC 8445 (ICE)
    public static let priority = AttributeType(0x0024)
    public static let useCandidate = AttributeType(0x0025)
    public static let iceControlled = AttributeType(0x8029)
    public static let iceControlling = AttributeType(0x802A)
    // RFC 8656 (TURN)
    public static let channelNumber = AttributeType(0x000C)
    public static let lifetime = AttributeType(0x000D)
    public static let xorPeerAddress = AttributeType(0x0012)
    public static let data = AttributeType(0x0013)
    public static let xorRelayedAddress = AttributeType(0x0016)
    public static let requestedAddressFamily = AttributeType(0x0017)
    public static let evenPort = AttributeType(0x0018)
    public static let requestedTransport = AttributeType(0x0019)
    public static let dontFragment = AttributeType(0x001A)
    public static let reservationToken = AttributeType(0x0022)
    public static let additionalAddressFamily = AttributeType(0x8000)
    public static let addressErrorCode = AttributeType(0x8001)
    public static let icmp = AttributeType(0x8004)
    // RFC 5780 (NAT behaviour discovery)
    public static let changeRequest = AttributeType(0x0003)
    public static let padding = AttributeType(0x0026)
    public static let responsePort = AttributeType(0x0027)
    public static let responseOrigin = AttributeType(0x802B)
    public static let otherAddress = AttributeType(0x802C)

    /// How an attribute's value is shown (by `ice-agent stun decode` and logs).
    public enum ValueKind: Sendable {
        case address, xorAddress, text, uint32, uint16, uint64, protocolNumber, family
        case errorCode, addressErrorCode, flag, opaque
    }

    /// RFC name and value kind; nil for a type this codec does not know.
    public var info: (name: StaticString, kind: ValueKind)? {
        switch rawValue {
        case 0x0001: return ("MAPPED-ADDRESS", .address)
        case 0x0002: return ("RESPONSE-ADDRESS", .address)
        case 0x0003: return ("CHANGE-REQUEST", .uint32)
        case 0x0004: return ("SOURCE-ADDRESS", .address)
        case 0x0005: return ("CHANGED-ADDRESS", .address)
        case 0x0006: return ("USERNAME", .text)
        case 0x0008: return ("MESSAGE-INTEGRITY", .opaque)
        case 0x0009: return ("ERROR-CODE", .errorCode)
        case 0x000A: return ("UNKNOWN-ATTRIBUTES", .opaque)
        case 0x000B: return ("REFLECTED-FROM", .address)
        case 0x000C: return ("CHANNEL-NUMBER", .uint16)
        case 0x000D: return ("LIFETIME", .uint32)
        case 0x0012: return ("XOR-PEER-ADDRESS", .xorAddress)
        case 0x0013: return ("DATA", .opaque)
        case 0x0014: return ("REALM", .text)
        case 0x0015: return ("NONCE", .text)
        case 0x0016: return ("XOR-RELAYED-ADDRESS", .xorAddress)
        case 0x0017: return ("REQUESTED-ADDRESS-FAMILY", .family)
        case 0x0018: return ("EVEN-PORT", .opaque)
        case 0x0019: return ("REQUESTED-TRANSPORT", .protocolNumber)
        case 0x001A: return ("DONT-FRAGMENT", .flag)
        case 0x001C: return ("MESSAGE-INTEGRITY-SHA256", .opaque)
        case 0x001D: return ("PASSWORD-ALGORITHM", .opaque)
        case 0x001E: return ("USERHASH", .opaque)
        case 0x0020: return ("XOR-MAPPED-ADDRESS", .xorAddress)
        case 0x0022: return ("RESERVATION-TOKEN", .opaque)
        case 0x0024: return ("PRIORITY", .uint32)
        case 0x0025: return ("USE-CANDIDATE", .flag)
        case 0x0026: return ("PADDING", .opaque)
        case 0x0027: return ("RESPONSE-PORT", .uint16)
        case 0x8000: return ("ADDITIONAL-ADDRESS-FAMILY", .family)
        case 0x8001: return ("ADDRESS-ERROR-CODE", .addressErrorCode)
        case 0x8002: return ("PASSWORD-ALGORITHMS", .opaque)
        case 0x8003: return ("ALTERNATE-DOMAIN", .text)
        case 0x8004: return ("ICMP", .opaque)
        case 0x8022: return ("SOFTWARE", .text)
        case 0x8023: return ("ALTERNATE-SERVER", .address)
        case 0x8028: return ("FINGERPRINT", .opaque)
        case 0x8029: return ("ICE-CONTROLLED", .uint64)
        case 0x802A: return ("ICE-CONTROLLING", .uint64)
        case 0x802B: return ("RESPONSE-ORIGIN", .address)
        case 0x802C: return ("OTHER-ADDRESS", .address)
        default: return nil
        }
    }

    public var isKnown: Bool { info != nil }

    /// A comprehension-required type this codec does not know: what a 420 response lists in
    /// UNKNOWN-ATTRIBUTES (RFC 8489 §14). The ones it knows are all below 0x40, one bit each in
    /// `knownComprehensionRequired`, so the parser tests a bit instead of running `info`'s switch
    /// per attribute; a test checks the two agree for every type.
    @inline(__always)
    public var isUnknownComprehensionRequired: Bool {
        rawValue < 0x8000 && (rawValue >= 64 || (AttributeType.knownComprehensionRequired >> UInt64(rawValue)) & 1 == 0)
    }

    /// Bit n set: type n has an entry in `info`.
    static let knownComprehensionRequired: UInt64 = 0xF5_77FC_3F7E
}
