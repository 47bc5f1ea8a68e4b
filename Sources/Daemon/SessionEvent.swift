import Common
import ICE

/// What a session tells its owner. Nothing calls back into the owner: the owner, a
/// `TimerClient` on the same loop, includes `Session.eventDeadline` in its own deadline and
/// drains `Session.pollEvent()` when it comes, so no part holds a reference to what holds it.
public enum SessionEvent: Equatable, Sendable {
    /// The ICE state changed (RFC 8445 §6.1.3, RFC 7675 §5.1 for a lost consent).
    case stateChanged(AgentState)
}

/// A small first-in first-out queue of events for an owner that polls on the event loop:
/// `deadline` is when the oldest waiting event was queued, nil when none waits.
public struct OwnerEvents<Event> {
    var items: [Event] = []
    var head = 0
    public private(set) var deadline: Instant? = nil

    public init() { items.reserveCapacity(4) }

    mutating func push(_ e: Event, now: Instant) {
        items.append(e)
        if deadline == nil { deadline = now }
    }

    public mutating func pop() -> Event? {
        guard head < items.count else { return nil }
        let e = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
            deadline = nil
        }
        return e
    }
}
