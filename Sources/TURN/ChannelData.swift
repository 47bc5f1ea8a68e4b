import Common

/// Why bytes are not a usable ChannelData message, or one could not be written.
public enum ChannelDataError: Error, Equatable, Sendable {
    /// Fewer than the 4 header bytes.
    case truncatedHeader
    /// The channel number is outside 0x4000-0x4FFF (RFC 8656 §12: 0x5000-0x7FFF reserved,
    /// lower values are STUN or other protocols).
    case invalidChannelNumber
    /// The length field promises more bytes than there are (RFC 8656 §12.5: discard).
    case lengthBeyondData
    /// The payload exceeds the 16-bit length field.
    case payloadTooLong
    /// The output buffer cannot hold the frame.
    case bufferTooSmall

    public var name: StaticString {
        switch self {
        case .truncatedHeader: return "truncated-header"
        case .invalidChannelNumber: return "invalid-channel-number"
        case .lengthBeyondData: return "length-beyond-data"
        case .payloadTooLong: return "payload-too-long"
        case .bufferTooSmall: return "buffer-too-small"
        }
    }
}

/// A ChannelData message (RFC 8656 §12.4): channel number, length, application data. A view
/// over the caller's bytes, nothing copied.
///
///     0                   1                   2                   3
///     |         Channel Number        |            Length             |
///     |                     Application Data ...                      |
///
/// Framing rule (RFC 8656 §12.5): over TCP and TLS the message is padded to a multiple of 4
/// bytes (the padding is not counted in Length); over UDP padding is optional, and receivers
/// ignore bytes after Length. The framing functions take the transport, so the client core
/// never hard-codes either rule.
public struct ChannelData {
    public static let headerSize = 4

    public let channel: UInt16
    /// The application data: exactly Length bytes, without padding.
    public let payload: UnsafeRawBufferPointer

    /// RFC 8656 §12: valid channel numbers for ChannelBind and ChannelData.
    public static func isValidChannel(_ n: UInt16) -> Bool {
        n >= TURNTiming.firstChannel && n <= TURNTiming.lastChannel
    }

    /// Cheap demultiplexing test (RFC 7983 §7: first byte 64-79 is TURN ChannelData).
    public static func looksLikeChannelData(_ data: UnsafeRawBufferPointer) -> Bool {
        guard let b = data.first else { return false }
        return FirstByteClass(b) == .turnChannel
    }

    /// Parses one message; bytes after Length (padding, or the rest of a datagram) are ignored.
    public init(parsing data: UnsafeRawBufferPointer) throws(ChannelDataError) {
        guard data.count >= ChannelData.headerSize else { throw .truncatedHeader }
        let n = data.loadBigEndianUInt16(at: 0)
        guard ChannelData.isValidChannel(n) else { throw .invalidChannelNumber }
        let length = Int(data.loadBigEndianUInt16(at: 2))
        guard ChannelData.headerSize + length <= data.count else { throw .lengthBeyondData }
        channel = n
        payload = UnsafeRawBufferPointer(rebasing: data[ChannelData.headerSize..<(ChannelData.headerSize + length)])
    }

    /// Bytes a frame with `payloadLength` bytes of data occupies on `transport` (with padding
    /// on streams).
    public static func frameSize(payloadLength: Int, transport: TURNTransport) -> Int {
        let unpadded = headerSize + payloadLength
        return transport.isStream ? (unpadded + 3) & ~3 : unpadded
    }

    /// Bytes a frame whose Length field says `length` occupies in a stream (RFC 8656 §12.5).
    public static func streamFrameSize(length: Int) -> Int { (headerSize + length + 3) & ~3 }

    /// Writes a ChannelData message (padded with zeros on stream transports) into `buffer`;
    /// returns the number of bytes written.
    public static func write(channel: UInt16, payload: UnsafeRawBufferPointer, transport: TURNTransport,
                             into buffer: UnsafeMutableRawBufferPointer) throws(ChannelDataError) -> Int {
        guard isValidChannel(channel) else { throw .invalidChannelNumber }
        guard payload.count <= 0xFFFF else { throw .payloadTooLong }
        let size = frameSize(payloadLength: payload.count, transport: transport)
        guard size <= buffer.count else { throw .bufferTooSmall }
        buffer.storeBigEndian(channel, at: 0)
        buffer.storeBigEndian(UInt16(payload.count), at: 2)
        if !payload.isEmpty {
            UnsafeMutableRawBufferPointer(rebasing: buffer[headerSize..<(headerSize + payload.count)]).copyMemory(from: payload)
        }
        var i = headerSize + payload.count
        while i < size {
            buffer[i] = 0
            i += 1
        }
        return size
    }
}
