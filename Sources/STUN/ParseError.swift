/// Why a datagram is not a well-formed STUN message. Each malformation has its own case so
/// that counters and logs say what a misbehaving peer did (RFC 8489 §6.3: such messages are
/// silently discarded by the agent, but never without a reason we can report).
public enum ParseError: Error, Equatable, Sendable {
    /// Fewer than the 20 header bytes.
    case truncatedHeader
    /// The two most significant bits are not zero (RFC 8489 §5): RTP, DTLS, ChannelData...
    case notSTUN
    /// The header's length field is not a multiple of 4 (RFC 8489 §5).
    case lengthNotMultipleOf4
    /// The header's length field promises more bytes than arrived.
    case lengthBeyondData
    /// An attribute's value runs past the end of the message.
    case attributeOverrun
    /// An attribute's value fits but its padding to a 4-byte boundary does not (RFC 8489 §14):
    /// what unpadded encodings produce.
    case badPadding
    /// MESSAGE-INTEGRITY value is not 20 bytes (RFC 8489 §14.5).
    case integrityWrongSize
    /// MESSAGE-INTEGRITY-SHA256 value is not 16..32 bytes in steps of 4 (RFC 8489 §14.6).
    case integritySHA256WrongSize
    /// FINGERPRINT value is not 4 bytes (RFC 8489 §14.7).
    case fingerprintWrongSize
    /// An attribute follows FINGERPRINT, which must be last (RFC 8489 §14.7).
    case fingerprintNotLast
    /// More attributes than the fixed index holds (`AttributeIndex.capacity`).
    case tooManyAttributes

    /// Stable kebab-case name, used by the CLI's JSON and in logs.
    public var name: StaticString {
        switch self {
        case .truncatedHeader: return "truncated-header"
        case .notSTUN: return "not-stun"
        case .lengthNotMultipleOf4: return "length-not-multiple-of-4"
        case .lengthBeyondData: return "length-beyond-data"
        case .attributeOverrun: return "attribute-overrun"
        case .badPadding: return "bad-padding"
        case .integrityWrongSize: return "integrity-wrong-size"
        case .integritySHA256WrongSize: return "integrity-sha256-wrong-size"
        case .fingerprintWrongSize: return "fingerprint-wrong-size"
        case .fingerprintNotLast: return "fingerprint-not-last"
        case .tooManyAttributes: return "too-many-attributes"
        }
    }
}

/// Why an attribute's value cannot be read as the type asked for.
public enum AttributeError: Error, Equatable, Sendable {
    case wrongLength
    case unknownAddressFamily
    case invalidErrorClass
    case notUTF8
    case tooLong

    public var name: StaticString {
        switch self {
        case .wrongLength: return "wrong-length"
        case .unknownAddressFamily: return "unknown-address-family"
        case .invalidErrorClass: return "invalid-error-class"
        case .notUTF8: return "not-utf8"
        case .tooLong: return "too-long"
        }
    }
}

/// Why a message could not be built into the caller's buffer.
public enum BuildError: Error, Equatable, Sendable {
    /// The buffer is too small for the next attribute.
    case bufferTooSmall
    /// The value exceeds what the attribute or the 16-bit length field can carry.
    case valueTooLong
    /// Nothing may follow FINGERPRINT, and only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT
    /// may follow MESSAGE-INTEGRITY (RFC 8489 §14.5-14.7).
    case attributeAfterIntegrity
}
