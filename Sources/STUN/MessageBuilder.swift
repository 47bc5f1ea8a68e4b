import Common
import Crypto

/// Writes a STUN message into a buffer the caller owns. The header's length field is kept
/// current after every attribute, which integrity and fingerprint computation rely on.
public struct MessageBuilder {
    let buffer: UnsafeMutableRawBufferPointer
    public private(set) var count: Int
    private var afterIntegrity = false
    private var afterFingerprint = false
    public let transactionID: TransactionID
    /// The byte padding is filled with. RFC 8489 §14 says receivers ignore it; zero is usual,
    /// but RFC 5769's vectors use 0x20, and a bit-exact check needs to say so.
    public var paddingByte: UInt8 = 0

    /// Starts a message of `type`. `cookieField` is the magic cookie except when answering a
    /// classic RFC 3489 request, whose 128-bit id must be echoed whole.
    public init(into buffer: UnsafeMutableRawBufferPointer, type: MessageType,
                transactionID: TransactionID, cookieField: UInt32 = magicCookie) throws(BuildError) {
        guard buffer.count >= Message.headerSize else { throw .bufferTooSmall }
        self.buffer = buffer
        self.transactionID = transactionID
        buffer.storeBigEndian(type.rawValue, at: 0)
        buffer.storeBigEndian(UInt16(0), at: 2)
        buffer.storeBigEndian(cookieField, at: 4)
        transactionID.write(to: UnsafeMutableRawBufferPointer(rebasing: buffer[8..<20]))
        count = Message.headerSize
    }

    /// The message built so far.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[0..<count]) }

    /// Reserves an attribute of `length` bytes, zero-fills its padding, updates the header
    /// length and returns the value's slot for the caller to fill.
    public mutating func reserve(_ type: AttributeType, length: Int) throws(BuildError) -> UnsafeMutableRawBufferPointer {
        if afterFingerprint { throw .attributeAfterIntegrity }
        if afterIntegrity && type != .messageIntegritySHA256 && type != .fingerprint {
            throw .attributeAfterIntegrity
        }
        guard length <= 0xFFFF else { throw .valueTooLong }
        let padded = (length + 3) & ~3
        guard count + 4 + padded <= buffer.count, count + 4 + padded - Message.headerSize <= 0xFFFF else {
            throw .bufferTooSmall
        }
        buffer.storeBigEndian(type.rawValue, at: count)
        buffer.storeBigEndian(UInt16(length), at: count + 2)
        let start = count + 4
        for i in (start + length)..<(start + padded) { buffer[i] = paddingByte }
        count = start + padded
        buffer.storeBigEndian(UInt16(count - Message.headerSize), at: 2)
        return UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + length)])
    }

    public mutating func append(_ type: AttributeType, bytes value: UnsafeRawBufferPointer) throws(BuildError) {
        let slot = try reserve(type, length: value.count)
        if !value.isEmpty { slot.copyMemory(from: value) }
    }

    public mutating func append(_ type: AttributeType, text: String) throws(BuildError) {
        var t = text
        let result: Result<Void, BuildError> = t.withUTF8 { utf8 in
            do throws(BuildError) {
                try append(type, bytes: UnsafeRawBufferPointer(utf8))
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Text from a static string: no String, no heap.
    public mutating func append(_ type: AttributeType, text: StaticString) throws(BuildError) {
        try append(type, bytes: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A zero-length attribute (USE-CANDIDATE, DONT-FRAGMENT).
    public mutating func appendFlag(_ type: AttributeType) throws(BuildError) {
        _ = try reserve(type, length: 0)
    }

    public mutating func append(_ type: AttributeType, uint32 value: UInt32) throws(BuildError) {
        try reserve(type, length: 4).storeBigEndian(value, at: 0)
    }

    public mutating func append(_ type: AttributeType, uint64 value: UInt64) throws(BuildError) {
        try reserve(type, length: 8).storeBigEndian(value, at: 0)
    }

    /// A 16-bit value followed by 16 reserved zero bits (CHANNEL-NUMBER, RESPONSE-PORT).
    public mutating func append(_ type: AttributeType, uint16 value: UInt16) throws(BuildError) {
        let slot = try reserve(type, length: 4)
        slot.storeBigEndian(value, at: 0)
        slot.storeBigEndian(UInt16(0), at: 2)
    }

    /// An 8-bit value followed by 24 reserved zero bits (REQUESTED-TRANSPORT, families).
    public mutating func append(_ type: AttributeType, uint8 value: UInt8) throws(BuildError) {
        try reserve(type, length: 4).storeBigEndian(UInt32(value) << 24, at: 0)
    }

    public mutating func append(_ type: AttributeType, address: TransportAddress) throws(BuildError) {
        writeAddress(address, xor: nil, into: try reserve(type, length: addressValueLength(address)))
    }

    public mutating func append(_ type: AttributeType, xorAddress address: TransportAddress) throws(BuildError) {
        writeAddress(address, xor: transactionID, into: try reserve(type, length: addressValueLength(address)))
    }

    /// ERROR-CODE (RFC 8489 §14.8) with the RFC's recommended reason phrase.
    public mutating func appendErrorCode(_ code: Int) throws(BuildError) {
        try appendErrorCodeLayout(.errorCode, firstByte: 0, code: code)
    }

    /// ADDRESS-ERROR-CODE (RFC 8656 §18.13) for `family` (0x01 IPv4, 0x02 IPv6).
    public mutating func appendAddressErrorCode(family: UInt8, _ code: Int) throws(BuildError) {
        try appendErrorCodeLayout(.addressErrorCode, firstByte: family, code: code)
    }

    private mutating func appendErrorCodeLayout(_ type: AttributeType, firstByte: UInt8, code: Int) throws(BuildError) {
        guard code >= 300 && code <= 699 else { throw .valueTooLong }
        let reason = ErrorCode.defaultReason(code)
        let slot = try reserve(type, length: 4 + reason.utf8CodeUnitCount)
        slot[0] = firstByte
        slot[1] = 0
        slot[2] = UInt8(code / 100)
        slot[3] = UInt8(code % 100)
        UnsafeMutableRawBufferPointer(rebasing: slot[4...])
            .copyMemory(from: UnsafeRawBufferPointer(start: reason.utf8Start, count: reason.utf8CodeUnitCount))
    }

    /// UNKNOWN-ATTRIBUTES (RFC 8489 §14.9) for a 420 response.
    public mutating func appendUnknownAttributes(_ list: UnknownAttributes) throws(BuildError) {
        let slot = try reserve(.unknownAttributes, length: 2 * list.count)
        for i in 0..<list.count { slot.storeBigEndian(list[i].rawValue, at: 2 * i) }
    }

    /// PASSWORD-ALGORITHM (RFC 8489 §14.12): algorithm, no parameters.
    public mutating func appendPasswordAlgorithm(_ algorithm: PasswordAlgorithm) throws(BuildError) {
        let slot = try reserve(.passwordAlgorithm, length: 4)
        slot.storeBigEndian(algorithm.rawValue, at: 0)
        slot.storeBigEndian(UInt16(0), at: 2)
    }

    /// PASSWORD-ALGORITHMS (RFC 8489 §14.11): the list a server offers, no parameters.
    public mutating func appendPasswordAlgorithms(_ algorithms: [PasswordAlgorithm]) throws(BuildError) {
        let slot = try reserve(.passwordAlgorithms, length: 4 * algorithms.count)
        for (i, a) in algorithms.enumerated() {
            slot.storeBigEndian(a.rawValue, at: 4 * i)
            slot.storeBigEndian(UInt16(0), at: 4 * i + 2)
        }
    }

    /// MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message so far, with the header
    /// length already covering this attribute.
    public mutating func appendMessageIntegrity(_ key: IntegrityKey) throws(BuildError) {
        let start = count
        let slot = try reserve(.messageIntegrity, length: 20)
        key.sha1.authenticate(UnsafeRawBufferPointer(rebasing: buffer[0..<start]), into: slot)
        afterIntegrity = true
    }

    /// MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), optionally truncated to `length` (16-32, x4).
    public mutating func appendMessageIntegritySHA256(_ key: IntegrityKey, length: Int = 32) throws(BuildError) {
        guard length >= 16 && length <= 32 && length % 4 == 0 else { throw .valueTooLong }
        let start = count
        let slot = try reserve(.messageIntegritySHA256, length: length)
        var full = InlineArray<32, UInt8>(repeating: 0)
        var span = full.mutableSpan
        span.withUnsafeMutableBytes { key.sha256.authenticate(UnsafeRawBufferPointer(rebasing: buffer[0..<start]), into: $0) }
        full.span.withUnsafeBytes { slot.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
        afterIntegrity = true
    }

    /// FINGERPRINT (RFC 8489 §14.7), which must be last.
    public mutating func appendFingerprint() throws(BuildError) {
        let start = count
        let slot = try reserve(.fingerprint, length: 4)
        let crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<start])) ^ fingerprintXOR
        slot.storeBigEndian(crc, at: 0)
        afterFingerprint = true
    }
}
