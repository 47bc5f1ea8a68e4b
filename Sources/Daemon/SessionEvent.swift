import Common
import ICE

/// What a session tells its owner. Nothing calls back into the owner: the owner, a
/// `TimerClient` on the same loop, includes `Session.eventDeadline` in its own deadline and
/// drains `Session.pollEvent()` when it comes, so no part holds a reference to what holds it.
public enum SessionEvent: Equatable, Sendable {
    /// The ICE state changed (RFC 8445 §6.1.3, RFC 7675 §5.1 for a lost consent).
    case stateChanged(AgentState)
    /// The peer's description was refused (the reason is logged): a call that waits for
    /// its answer cannot go on.
    case descriptionRejected
    /// The signaling transport ended before the peer's description arrived: no peer can
    /// come any more.
    case signalingClosedWithoutPeer
    /// DTLS-SRTP failed (the peer's certificate is not the one its description named, the
    /// handshake timed out, the peer closed it): no media can flow, the call is over.
    case mediaSecurityFailed
    /// Our ICE restart got no answer over signaling in time: the call cannot recover.
    case restartUnanswered
}

/// The events waiting for an owner that polls on the event loop (a session's owner, or the
/// session polling its signaling transport): `deadline` is when the oldest was queued, nil
/// when none waits.
public struct OwnerEvents<Event> {
    var queue = PollQueue<Event>()
    public private(set) var deadline: Instant? = nil

    public init() {}

    mutating func push(_ e: Event, now: Instant) {
        queue.push(e)
        if deadline == nil { deadline = now }
    }

    public mutating func pop() -> Event? {
        let e = queue.pop()
        if queue.isEmpty { deadline = nil }
        return e
    }
}
