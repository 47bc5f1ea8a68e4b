import Common

/// Why a datagram is not a valid RTP packet (RFC 3550 §5.1, appendix A.1 checks).
public enum RTPError: Error, Equatable, Sendable {
    case tooShort, badVersion, csrcOverrun, extensionOverrun, badPadding
}

/// An RTP header read in place (RFC 3550 §5.1); the payload stays in the caller's buffer.
public struct RTPHeader: Sendable {
    public let marker: Bool
    public let payloadType: UInt8
    public let sequenceNumber: UInt16
    public let timestamp: UInt32
    public let ssrc: UInt32
    public let csrcCount: Int
    public let hasExtension: Bool
    /// Where the payload starts and how long it is (padding excluded).
    public let payloadOffset: Int
    public let payloadLength: Int

    public init(parsing p: UnsafeRawBufferPointer) throws(RTPError) {
        guard p.count >= 12 else { throw .tooShort }
        guard p[0] >> 6 == 2 else { throw .badVersion }
        let padding = p[0] & 0x20 != 0
        hasExtension = p[0] & 0x10 != 0
        csrcCount = Int(p[0] & 0x0F)
        marker = p[1] & 0x80 != 0
        payloadType = p[1] & 0x7F
        sequenceNumber = p.loadBigEndianUInt16(at: 2)
        timestamp = p.loadBigEndianUInt32(at: 4)
        ssrc = p.loadBigEndianUInt32(at: 8)
        var offset = 12 + 4 * csrcCount
        guard offset <= p.count else { throw .csrcOverrun }
        if hasExtension {
            // RFC 3550 §5.3.1: 16-bit profile field, 16-bit length in 32-bit words.
            guard offset + 4 <= p.count else { throw .extensionOverrun }
            let words = Int(p.loadBigEndianUInt16(at: offset + 2))
            offset += 4 + 4 * words
            guard offset <= p.count else { throw .extensionOverrun }
        }
        var end = p.count
        if padding {
            // The last byte counts the padding, itself included.
            let n = Int(p[p.count - 1])
            guard n >= 1, offset + n <= p.count else { throw .badPadding }
            end -= n
        }
        payloadOffset = offset
        payloadLength = end - offset
    }
}
