import Common

/// A validated STUN message: a view over the caller's bytes plus an index of its attributes.
///
/// It does not copy or own the bytes: it is valid only while they are, which is why callers
/// parse inside the scope that owns the datagram (`withUnsafeBytes`, the receive buffer).
public struct Message {
    public static let headerSize = 20

    /// The message itself: header plus attributes (trailing bytes of the datagram excluded).
    public let bytes: UnsafeRawBufferPointer
    /// Attributes usable by the application: those before MESSAGE-INTEGRITY plus the
    /// integrity and fingerprint attributes themselves (RFC 8489 §14.5).
    public private(set) var attributes: AttributeIndex
    /// Comprehension-required types this codec does not know (for a 420 response).
    public private(set) var unknownComprehensionRequired: UnknownAttributes
    // Offsets / 4 of the integrity/fingerprint attribute headers, 0 for none (a header is never
    // at 0): a message is at most 20 + 65535 bytes. The header fields below are read from the
    // bytes too: every parse copies the message out, so it is kept small.
    private let integrityQuarter: UInt16
    private let integritySHA256Quarter: UInt16
    private let fingerprintQuarter: UInt16

    public var type: MessageType { MessageType(rawValue: bytes.loadBigEndianUInt16(at: 0)) }
    public var transactionID: TransactionID {
        TransactionID(high: bytes.loadBigEndianUInt32(at: 8), low: bytes.loadBigEndianUInt64(at: 12))
    }
    /// Bytes 4-7: the magic cookie, or for classic messages the first 32 bits of their id.
    public var cookieField: UInt32 { bytes.loadBigEndianUInt32(at: 4) }

    /// Offsets of the attribute headers (not values) of the integrity/fingerprint attributes.
    public var integrityOffset: Int? { integrityQuarter == 0 ? nil : Int(integrityQuarter) << 2 }
    public var integritySHA256Offset: Int? { integritySHA256Quarter == 0 ? nil : Int(integritySHA256Quarter) << 2 }
    public var fingerprintOffset: Int? { fingerprintQuarter == 0 ? nil : Int(fingerprintQuarter) << 2 }

    /// An RFC 3489 message: no magic cookie, 128-bit transaction id, no FINGERPRINT.
    public var isClassic: Bool { cookieField != magicCookie }
    public var messageClass: MessageClass { type.messageClass }
    public var method: Method { type.method }
    /// The value of the header's length field.
    public var length: Int { bytes.count - Message.headerSize }

    /// Validates `data` in one pass and indexes its attributes. Trailing bytes beyond the
    /// header's length are not part of the message (stream transports frame by that length).
    ///
    /// On the packet path (every check, response and consent request), so the walk works on
    /// locals the compiler keeps in registers, loads through the base pointer once the bounds
    /// are proven by the guards, and sets the stored properties once at the end.
    public init(parsing data: UnsafeRawBufferPointer) throws(ParseError) {
        guard data.count >= Message.headerSize, let p = data.baseAddress else { throw .truncatedHeader }
        let rawType = UInt16(bigEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt16.self))
        guard rawType & 0xC000 == 0 else { throw .notSTUN }
        let declared = Int(UInt16(bigEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        let end = Message.headerSize &+ declared
        guard end <= data.count else { throw .lengthBeyondData }

        var index = AttributeIndex(base: p)
        var unknown = UnknownAttributes()
        var integrity = 0, integritySHA256 = 0, fingerprint = 0
        // RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY(-SHA256) are ignored.
        var sealed = false
        var offset = Message.headerSize
        while offset < end {
            guard end &- offset >= 4 else {
                // Only an unaligned length leaves a fragment too short for a header.
                throw declared % 4 != 0 ? .lengthNotMultipleOf4 : .attributeOverrun
            }
            let header = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let attrType = UInt16(truncatingIfNeeded: header >> 16)
            let valueLength = Int(header & 0xFFFF)
            let valueStart = offset &+ 4
            guard valueStart &+ valueLength <= end else { throw .attributeOverrun }
            let next = valueStart &+ ((valueLength &+ 3) & ~3)
            guard next <= end else { throw .badPadding }
            if fingerprint != 0 { throw .fingerprintNotLast }

            switch attrType {
            case AttributeType.messageIntegrity.rawValue:
                guard valueLength == 20 else { throw .integrityWrongSize }
                // RFC 8489 §14.5: only the first MESSAGE-INTEGRITY counts; with SHA-256 already
                // seen, a later SHA-1 one is ignored too (§14.6).
                if !sealed {
                    integrity = offset
                    sealed = true
                    guard index.append(valueOffset: valueStart) else { throw .tooManyAttributes }
                }
            case AttributeType.messageIntegritySHA256.rawValue:
                guard valueLength >= 16 && valueLength <= 32 && valueLength % 4 == 0 else {
                    throw .integritySHA256WrongSize
                }
                if integritySHA256 == 0 {
                    integritySHA256 = offset
                    sealed = true
                    guard index.append(valueOffset: valueStart) else { throw .tooManyAttributes }
                }
            case AttributeType.fingerprint.rawValue:
                guard valueLength == 4 else { throw .fingerprintWrongSize }
                fingerprint = offset
                guard index.append(valueOffset: valueStart) else { throw .tooManyAttributes }
            default:
                if !sealed {
                    guard index.append(valueOffset: valueStart) else { throw .tooManyAttributes }
                    let t = AttributeType(attrType)
                    if t.isUnknownComprehensionRequired { unknown.append(t) }
                }
            }
            offset = next
        }
        if declared % 4 != 0 { throw .lengthNotMultipleOf4 }

        bytes = UnsafeRawBufferPointer(start: p, count: end)
        attributes = index
        unknownComprehensionRequired = unknown
        integrityQuarter = UInt16(truncatingIfNeeded: integrity >> 2)
        integritySHA256Quarter = UInt16(truncatingIfNeeded: integritySHA256 >> 2)
        fingerprintQuarter = UInt16(truncatingIfNeeded: fingerprint >> 2)
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
