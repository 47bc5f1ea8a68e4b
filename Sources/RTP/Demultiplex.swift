/// What a datagram on the shared ICE socket is, by its first byte (RFC 7983 §7) and, for
/// RTP/RTCP, its second byte (RFC 5761 §4).
public enum PacketKind: Equatable, Sendable {
    case stun, zrtp, dtls, turnChannel, rtp, rtcp, unknown

    public static func classify(_ p: UnsafeRawBufferPointer) -> PacketKind {
        guard let b = p.first else { return .unknown }
        switch b {
        case 0...3: return .stun
        case 16...19: return .zrtp
        case 20...63: return .dtls
        case 64...79: return .turnChannel
        case 128...191:
            guard p.count >= 2 else { return .unknown }
            // RFC 5761 §4: RTCP packet types 192-223 collide with no RTP payload type in use.
            return (192...223).contains(p[1]) ? .rtcp : .rtp
        default: return .unknown
        }
    }
}
