import Common
import STUN

/// Why a TURN byte stream (TCP/TLS to the server) cannot be framed any further. Each is
/// fatal for the connection: a stream has no resynchronisation point.
public enum StreamFramingError: Error, Equatable, Sendable {
    /// The first byte of a frame is neither STUN (0b00) nor ChannelData (0x40-0x4F).
    case invalidFrame
    /// A frame announces more bytes than the reassembly buffer holds.
    case frameTooLarge
    /// More bytes were offered than there is room for: take frames out first.
    case bufferFull

    public var name: StaticString {
        switch self {
        case .invalidFrame: return "invalid-frame"
        case .frameTooLarge: return "frame-too-large"
        case .bufferFull: return "buffer-full"
        }
    }
}

/// One complete frame out of the stream: a view into the reassembler's buffer, valid until
/// the next `append`/`writableSpace` call (taking more frames does not move bytes).
public enum StreamFrame {
    /// A STUN message: header plus Length bytes.
    case stun(UnsafeRawBufferPointer)
    /// A ChannelData message: 4 + Length bytes (the stream's padding is skipped, not included).
    case channelData(UnsafeRawBufferPointer)

    public var bytes: UnsafeRawBufferPointer {
        switch self {
        case .stun(let b), .channelData(let b): return b
        }
    }
}

/// Splits the byte stream from a TURN server over TCP or TLS (RFC 8656 §12.5, RFC 8489 §6.2.2)
/// into STUN messages (framed by their header's length) and ChannelData messages (framed by
/// their length rounded up to 4). The buffer is allocated once with a fixed capacity.
///
///     try r.append(received)                  // or: read into r.writableSpace(), commit(n)
///     while let frame = try r.nextFrame() { client.handle(packet: frame.bytes, ...) }
public final class StreamReassembler {
    private let queue: ByteQueue

    /// `capacity` bounds the largest frame: at least 20 + the largest STUN message expected
    /// (coturn and RFC 8489 stay well under 1500 for control traffic) or 4 + the largest
    /// relayed datagram.
    public init(capacity: Int = 4 + 0xFFFF + 3) {
        queue = ByteQueue(capacity: max(capacity, Message.headerSize))
    }

    public var capacity: Int { queue.capacity }
    /// Bytes received but not yet returned as frames.
    public var buffered: Int { queue.count }

    /// Copies stream bytes in. Throws `.bufferFull` (taking nothing) if they do not fit.
    public func append(_ bytes: UnsafeRawBufferPointer) throws(StreamFramingError) {
        guard queue.append(bytes) else { throw .bufferFull }
    }

    /// Free space to receive into directly (no copy); follow with `commit`. Moves pending
    /// bytes to the front, which invalidates earlier frames.
    public func writableSpace() -> UnsafeMutableRawBufferPointer { queue.writableSpace() }

    /// Declares `count` bytes written into `writableSpace()`.
    public func commit(_ count: Int) { queue.commit(count) }

    /// The next complete frame, or nil if more bytes are needed.
    public func nextFrame() throws(StreamFramingError) -> StreamFrame? {
        let pending = queue.pending
        guard let first = pending.first else { return nil }
        if first < 0x40 {
            // STUN: the two top bits are zero (RFC 8489 §5); total = 20 + Length.
            guard pending.count >= 4 else { return nil }
            let total = Message.headerSize + Int(pending.loadBigEndianUInt16(at: 2))
            guard total <= queue.capacity else { throw .frameTooLarge }
            guard pending.count >= Message.headerSize, pending.count >= total else { return nil }
            queue.consume(total)
            return .stun(UnsafeRawBufferPointer(rebasing: pending[0..<total]))
        }
        if FirstByteClass(first) == .turnChannel {
            guard pending.count >= ChannelData.headerSize else { return nil }
            let length = Int(pending.loadBigEndianUInt16(at: 2))
            let total = ChannelData.streamFrameSize(length: length)
            guard total <= queue.capacity else { throw .frameTooLarge }
            guard pending.count >= total else { return nil }
            queue.consume(total)
            return .channelData(UnsafeRawBufferPointer(rebasing: pending[0..<(ChannelData.headerSize + length)]))
        }
        throw .invalidFrame
    }
}
