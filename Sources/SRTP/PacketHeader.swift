/// The header checks SRTP needs before libsrtp reads a packet: libsrtp trusts the CSRC count
/// and extension length it finds, so they are bounded here first.
enum PacketHeader {
    /// RFC 3550 §5.1: fixed header 12 bytes, version 2.
    static let rtpFixedLength = 12
    /// RFC 3550 §6.4.1: the RTCP header up to and including the sender's SSRC.
    static let rtcpFixedLength = 8

    /// The length of the RTP header (fixed part, CSRCs, extension) in the first `length`
    /// bytes, or nil if it is not RTP version 2 or does not fit (RFC 3550 §5.1, §5.3.1).
    static func rtpHeaderLength(_ p: UnsafeRawBufferPointer, length: Int) -> Int? {
        guard length >= rtpFixedLength, p[0] >> 6 == 2 else { return nil }
        var header = rtpFixedLength + 4 * Int(p[0] & 0x0F)
        if p[0] & 0x10 != 0 {
            guard length >= header + 4 else { return nil }
            header += 4 + 4 * (Int(p[header + 2]) << 8 | Int(p[header + 3]))
        }
        return header <= length ? header : nil
    }

    /// Whether the first `length` bytes start an RTCP packet (RFC 3550 §6.4.1, version 2).
    static func isRTCP(_ p: UnsafeRawBufferPointer, length: Int) -> Bool {
        length >= rtcpFixedLength && p[0] >> 6 == 2
    }

    /// The SSRC as it is on the wire: RTP's at offset 8 (RFC 3550 §5.1), RTCP's sender SSRC
    /// at offset 4 (§6.4.1). libsrtp keys its streams by it.
    static func ssrc(_ p: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(p[offset]) << 24 | UInt32(p[offset + 1]) << 16 | UInt32(p[offset + 2]) << 8 | UInt32(p[offset + 3])
    }
}
