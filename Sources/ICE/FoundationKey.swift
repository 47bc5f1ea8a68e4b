import Common

/// RFC 8445 §5.1.1.3: two candidates share a foundation when they have the same type,
/// base IP, STUN/TURN server IP and transport protocol used to reach that server; for a
/// relayed candidate that last one is how the TURN server was reached (RFC 8656 §3.1:
/// UDP, TCP or TLS), although the relayed candidate itself is always UDP.
struct FoundationKey: Equatable {
    var type: CandidateType
    var baseIP: IPAddress
    var serverIP: IPAddress?
    var serverTransport: ServerTransport
    /// The candidate's own transport (always UDP: RFC 6544 TCP candidates are not supported).
    var transport: TransportProtocol
}
