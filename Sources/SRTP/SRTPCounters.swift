/// What one `SRTPSession` did with the packets it was given, for the status report.
public struct SRTPCounters: Equatable, Sendable {
    /// RTP and RTCP packets protected.
    public internal(set) var protected = 0
    /// RTP and RTCP packets that authenticated and were decrypted.
    public internal(set) var unprotected = 0
    /// Packets dropped because their tag did not verify (RFC 3711 §3.3 step 5).
    public internal(set) var authenticationFailures = 0
    /// Packets dropped as replays or as behind the replay window (RFC 3711 §3.3.2).
    public internal(set) var replays = 0
    /// Packets refused for any other reason (malformed, no room, too many streams, library).
    public internal(set) var otherDrops = 0

    public init() {}
}
