import Common

/// What a datagram on the shared ICE socket is, by its first byte (RFC 7983 §7) and, for
/// RTP/RTCP, its second byte (RFC 5761 §4).
public enum PacketKind: Equatable, Sendable {
    case stun, zrtp, dtls, turnChannel, rtp, rtcp, unknown

    public static func classify(_ p: UnsafeRawBufferPointer) -> PacketKind {
        guard let b = p.first else { return .unknown }
        switch FirstByteClass(b) {
        case .stun: return .stun
        case .zrtp: return .zrtp
        case .dtls: return .dtls
        case .turnChannel: return .turnChannel
        case .rtpOrRTCP:
            guard p.count >= 2 else { return .unknown }
            return FirstByteClass.isRTCP(secondByte: p[1]) ? .rtcp : .rtp
        case .unknown: return .unknown
        }
    }
}
