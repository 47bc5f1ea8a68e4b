import Common

/// A validated STUN message: a view over the caller's bytes plus an index of its attributes.
///
/// It does not copy or own the bytes: it is valid only while they are, which is why callers
/// parse inside the scope that owns the datagram (`withUnsafeBytes`, the receive buffer).
public struct Message {
    public static let headerSize = 20

    /// The message itself: header plus attributes (trailing bytes of the datagram excluded).
    public let bytes: UnsafeRawBufferPointer
    public let type: MessageType
    public let transactionID: TransactionID
    /// Bytes 4-7: the magic cookie, or for classic messages the first 32 bits of their id.
    public let cookieField: UInt32
    /// Attributes usable by the application: those before MESSAGE-INTEGRITY plus the
    /// integrity and fingerprint attributes themselves (RFC 8489 §14.5).
    public private(set) var attributes = AttributeIndex()
    /// Comprehension-required types this codec does not know (for a 420 response).
    public private(set) var unknownComprehensionRequired = UnknownAttributes()
    /// Offsets of the attribute headers (not values) of the integrity/fingerprint attributes.
    public private(set) var integrityOffset: Int? = nil
    public private(set) var integritySHA256Offset: Int? = nil
    public private(set) var fingerprintOffset: Int? = nil

    /// An RFC 3489 message: no magic cookie, 128-bit transaction id, no FINGERPRINT.
    public var isClassic: Bool { cookieField != magicCookie }
    public var messageClass: MessageClass { type.messageClass }
    public var method: Method { type.method }
    /// The value of the header's length field.
    public var length: Int { bytes.count - Message.headerSize }

    /// Validates `data` in one pass and indexes its attributes. Trailing bytes beyond the
    /// header's length are not part of the message (stream transports frame by that length).
    public init(parsing data: UnsafeRawBufferPointer) throws(ParseError) {
        guard data.count >= Message.headerSize else { throw .truncatedHeader }
        let rawType = data.loadBigEndianUInt16(at: 0)
        guard rawType & 0xC000 == 0 else { throw .notSTUN }
        let declared = Int(data.loadBigEndianUInt16(at: 2))
        guard Message.headerSize + declared <= data.count else { throw .lengthBeyondData }
        let end = Message.headerSize + declared
        bytes = UnsafeRawBufferPointer(rebasing: data[0..<end])
        type = MessageType(rawValue: rawType)
        cookieField = data.loadBigEndianUInt32(at: 4)
        transactionID = TransactionID(bytes: UnsafeRawBufferPointer(rebasing: data[8..<20]))

        var offset = Message.headerSize
        while offset < end {
            guard end - offset >= 4 else {
                // Only an unaligned length leaves a fragment too short for a header.
                throw declared % 4 != 0 ? .lengthNotMultipleOf4 : .attributeOverrun
            }
            let attrType = AttributeType(data.loadBigEndianUInt16(at: offset))
            let valueLength = Int(data.loadBigEndianUInt16(at: offset + 2))
            let valueStart = offset + 4
            guard valueStart + valueLength <= end else { throw .attributeOverrun }
            let next = valueStart + ((valueLength + 3) & ~3)
            guard next <= end else { throw .badPadding }

            if fingerprintOffset != nil { throw .fingerprintNotLast }
            switch attrType {
            case .messageIntegrity:
                guard valueLength == 20 else { throw .integrityWrongSize }
                // RFC 8489 §14.5: only the first MESSAGE-INTEGRITY counts; with SHA-256 already
                // seen, a later SHA-1 one is ignored too (§14.6).
                if integrityOffset == nil && integritySHA256Offset == nil {
                    integrityOffset = offset
                    try index(attrType, valueLength, valueStart)
                }
            case .messageIntegritySHA256:
                guard valueLength >= 16 && valueLength <= 32 && valueLength % 4 == 0 else {
                    throw .integritySHA256WrongSize
                }
                if integritySHA256Offset == nil {
                    integritySHA256Offset = offset
                    try index(attrType, valueLength, valueStart)
                }
            case .fingerprint:
                guard valueLength == 4 else { throw .fingerprintWrongSize }
                fingerprintOffset = offset
                try index(attrType, valueLength, valueStart)
            default:
                // RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY(-SHA256) are ignored.
                if integrityOffset == nil && integritySHA256Offset == nil {
                    try index(attrType, valueLength, valueStart)
                    if attrType.isComprehensionRequired && !attrType.isKnown {
                        unknownComprehensionRequired.append(attrType)
                    }
                }
            }
            offset = next
        }
        if declared % 4 != 0 { throw .lengthNotMultipleOf4 }
    }

    @inline(__always)
    private mutating func index(_ type: AttributeType, _ length: Int, _ start: Int) throws(ParseError) {
        guard attributes.append(AttributeEntry(type: type, length: UInt16(length), offset: UInt32(start))) else {
            throw .tooManyAttributes
        }
    }

    /// The value of the first attribute of `type`, or nil.
    public func value(_ type: AttributeType) -> UnsafeRawBufferPointer? {
        guard let e = attributes.first(type) else { return nil }
        return value(of: e)
    }

    public func value(of e: AttributeEntry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[Int(e.offset)..<(Int(e.offset) + Int(e.length))])
    }

    public func contains(_ type: AttributeType) -> Bool { attributes.first(type) != nil }
}
