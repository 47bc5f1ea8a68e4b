/// What a datagram on a port shared by STUN, TURN ChannelData, DTLS and RTP is, by its first
/// byte (RFC 7983 §7, with the TURN channel range of RFC 8656 §12). One table for every
/// demultiplexer in the agent.
public enum FirstByteClass: Equatable, Sendable {
    case stun         // 0-3
    case zrtp         // 16-19
    case dtls         // 20-63
    case turnChannel  // 64-79
    case rtpOrRTCP    // 128-191 (RFC 5761 §4 tells RTP from RTCP by the second byte)
    case unknown

    @inlinable
    public init(_ first: UInt8) {
        switch first {
        case 0...3: self = .stun
        case 16...19: self = .zrtp
        case 20...63: self = .dtls
        case 64...79: self = .turnChannel
        case 128...191: self = .rtpOrRTCP
        default: self = .unknown
        }
    }
}

extension FirstByteClass {
    /// RFC 5761 §4: RTCP packet types 192-223 collide with no RTP payload type in use, so the
    /// second byte of an `rtpOrRTCP` datagram tells RTCP from RTP.
    @inlinable
    public static func isRTCP(secondByte: UInt8) -> Bool { (192...223).contains(secondByte) }
}
