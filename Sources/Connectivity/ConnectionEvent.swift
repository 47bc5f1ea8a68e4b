import Common
import ICE
import TURN

/// What a `Connection` tells its owner, polled after each call. Plain values: polling
/// allocates nothing.
public enum ConnectionEvent {
    /// A local candidate to signal to the peer (trickle, RFC 8838 §4).
    case localCandidate(Candidate)
    /// A candidate that appeared after end-of-candidates went out (a relay re-allocated):
    /// RFC 8838 §13 allows no new one without a restart; its checks still reach the peer,
    /// which learns it as peer-reflexive (RFC 8445 §7.3.1.3).
    case unsignaledCandidate(Candidate)
    /// Every kind of gathering ended, the relays' included: signal end-of-candidates.
    case endOfCandidates
    case stateChanged(AgentState)
    case selectedPair(component: UInt8, local: Candidate, remote: Candidate, nominated: Bool)
    case roleChanged(Role)
    /// The NAT in front of the selected pair rebound it (see `ICE.Event.mappingChanged`).
    case mappingChanged(component: UInt8, was: TransportAddress, now: TransportAddress)
    /// An ICE table was full; what did not fit was dropped (and counted).
    case tableFull(Table)

    // DTLS-SRTP (RFC 5764), when the owner asked for it.
    /// The handshake completed with the signaled peer: media is protected with this profile.
    case mediaSecured(SRTPProfile)
    /// The handshake failed (a certificate that does not match the signaled fingerprint, the
    /// retransmissions exhausted, a fatal alert): no media can flow.
    case mediaSecurityFailed(MediaSecurityFailure)
    /// The peer closed the association (close_notify): its media ended.
    case mediaSecurityClosed

    // Relays (the index is the position in `Connection.relays`).
    case relayAllocated(relay: Int, relayed: TransportAddress, lifetime: Interval)
    /// An attempt failed or the allocation was lost; `retryIn` is nil when no retry follows.
    case relayFailed(relay: Int, TURNFailure, retryIn: Interval?)
    case relayRedirected(relay: Int, to: TransportAddress)
    /// The relayed candidate left the agent: its allocation is gone.
    case relayCandidateWithdrawn(relay: Int, TransportAddress)
    case relayTableFull(relay: Int, TURNTable)
    /// The UDP relay's local address went away: it allocates again from `to`, or (nil) waits
    /// without a candidate for an address of the server's family to come.
    case relayRebased(relay: Int, from: TransportAddress?, to: TransportAddress?)
    /// What else the relay's client reported (refreshes, permissions, channels, the end of a
    /// deallocation), for logs and tools.
    case relay(relay: Int, TURNEvent)

    // What the owner must do for a relay: I/O the connection cannot do itself.
    /// Open a TCP or TLS connection to `server` (certificate name `serverName`) and report it
    /// with `streamOpened` or `streamFailed`; close the relay's previous one first.
    case openStream(relay: Int, server: TransportAddress, serverName: String)
    /// Close the relay's stream connection (its allocation is over).
    case closeStream(relay: Int)
    /// The server still holds an allocation for this 5-tuple (437 Allocation Mismatch,
    /// RFC 8656 §7.2): bind a fresh UDP socket of the server's family and report its address
    /// with `relaySocketBound` before the retry.
    case bindRelaySocket(relay: Int)
}

/// A datagram or stream frame a `Connection` wants sent.
public struct ConnectionTransmit {
    public enum Route: Equatable {
        /// On the UDP socket bound to this local address.
        case socket(TransportAddress)
        /// On the stream connection of this relay.
        case stream(relay: Int)
    }

    public var route: Route
    public var destination: TransportAddress
    /// Valid until the next call on the connection.
    public var bytes: UnsafeRawBufferPointer
}

/// What a datagram turned out to be.
public enum Inbound: Equatable {
    /// STUN or TURN for the agent or a relay, or dropped by them: nothing more to do.
    case consumed
    /// Media (RFC 7983: not STUN) from a proven peer: `bytes[range]` of the input, received on
    /// the local base `local` (the relayed address for data that came through a relay).
    case media(source: TransportAddress, local: TransportAddress, range: Range<Int>)
    /// Not STUN, from an address no valid pair or received check vouches for: not media of
    /// this call (drop it), but data a relay delivered all the same (`ice-agent turn allocate`
    /// echoes through it).
    case unknownSource(source: TransportAddress, local: TransportAddress, range: Range<Int>)
}

/// Where media for the peer went.
public enum MediaRoute: Equatable {
    /// Send the bytes on the socket of `source` to `destination` (no copy was made).
    case direct(source: TransportAddress, destination: TransportAddress)
    /// Wrapped for the relay of the selected pair: poll the transmits.
    case relayed
    /// No selected pair (yet, or consent lost).
    case noPair
    /// The relay refused it (no allocation, table full).
    case refused
}
