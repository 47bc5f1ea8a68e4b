/// How a client reaches a STUN or TURN server (RFC 8656 §3.1: UDP, TCP, or TLS over TCP).
/// Shared by TURN (`TURNTransport` is this type), which needs it for retransmission and
/// framing, and ICE, whose relayed candidate foundations differ per server transport
/// (RFC 8445 §5.1.1.3).
public enum ServerTransport: UInt8, Sendable {
    case udp, tcp, tls

    /// TCP and TLS carry a byte stream: frames need reassembly and padding (RFC 8656 §12.5).
    public var isStream: Bool { self != .udp }

    public var name: StaticString {
        switch self {
        case .udp: return "udp"
        case .tcp: return "tcp"
        case .tls: return "tls"
        }
    }
}
