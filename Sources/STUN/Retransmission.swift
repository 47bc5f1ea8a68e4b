import Common

/// RFC 8489 §6.2.1 retransmission of a request over UDP, as a sans-IO timer: the caller sends
/// when told, and asks again at `deadline`. Later layers (ICE checks, TURN) reuse it.
public struct Retransmission: Sendable {
    /// RFC 8489 §6.2.1 defaults.
    public static let defaultRTO = Interval.milliseconds(500)
    public static let defaultRc = 7
    public static let defaultRm: Int64 = 16

    public enum Step: Equatable, Sendable {
        /// Send (again) now.
        case send
        /// Nothing to do before `deadline`.
        case wait
        /// No response: the transaction failed (RFC 8489 §6.2.1: after Rc sends and Rm*RTO).
        case timedOut
    }

    public let rto: Interval
    public let maxSends: Int
    public let lastWait: Interval
    public private(set) var sends = 0
    public private(set) var deadline: Instant
    private var interval: Interval

    /// `rto`: initial retransmission timeout; `maxSends`: Rc; `lastWaitFactor`: Rm.
    /// The first send is due at `now`.
    public init(now: Instant, rto: Interval = Retransmission.defaultRTO,
                maxSends: Int = Retransmission.defaultRc, lastWaitFactor: Int64 = Retransmission.defaultRm) {
        self.rto = rto
        self.maxSends = maxSends
        self.lastWait = rto * lastWaitFactor
        self.interval = rto
        self.deadline = now
    }

    /// Advances the timer; call when `now >= deadline` (earlier calls just return `.wait`).
    public mutating func poll(now: Instant) -> Step {
        guard now >= deadline else { return .wait }
        if sends >= maxSends { return .timedOut }
        sends += 1
        if sends == maxSends {
            deadline = now + lastWait
        } else {
            deadline = now + interval
            interval = interval * 2  // RFC 8489 §6.2.1: the RTO doubles after each retransmission
        }
        return .send
    }
}
