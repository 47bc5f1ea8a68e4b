import Common

/// What one LED shows, as a pure function of time: the level at any instant and the next
/// instant the level changes, so the event loop arms its timer for the next edge instead of
/// polling. A pattern starts "on" at `since` (the moment it was set) and repeats.
///
/// | pattern | cycle | on during |
/// |---|---|---|
/// | `off`, `on` | - | never, always |
/// | `slowBlink` (1 Hz) | 1000 ms | 0-500 ms |
/// | `fastBlink` (4 Hz) | 250 ms | 0-125 ms |
/// | `doubleBlink` | 2000 ms | 0-150, 300-450 ms (two short flashes, then a pause) |
/// | `heartbeat` | 1000 ms | 0-70, 250-320 ms (lub-dub, like Linux's heartbeat trigger) |
public enum LEDPattern: Equatable, Hashable, Sendable {
    case off, on, slowBlink, fastBlink, doubleBlink, heartbeat

    /// The names used in board files.
    public init?(name: Substring) {
        switch name {
        case "off": self = .off
        case "on": self = .on
        case "slow-blink": self = .slowBlink
        case "fast-blink": self = .fastBlink
        case "double-blink": self = .doubleBlink
        case "heartbeat": self = .heartbeat
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .off: return "off"
        case .on: return "on"
        case .slowBlink: return "slow-blink"
        case .fastBlink: return "fast-blink"
        case .doubleBlink: return "double-blink"
        case .heartbeat: return "heartbeat"
        }
    }

    public var description: String { name }

    /// One cycle in milliseconds: on during [0, firstOff) and [secondOn, secondOff), off for
    /// the rest of `period`. A pattern with one flash has secondOn == secondOff == period.
    /// nil for the constant patterns.
    var cycle: (period: Int64, firstOff: Int64, secondOn: Int64, secondOff: Int64)? {
        switch self {
        case .off, .on: return nil
        case .slowBlink: return (1000, 500, 1000, 1000)
        case .fastBlink: return (250, 125, 250, 250)
        case .doubleBlink: return (2000, 150, 300, 450)
        case .heartbeat: return (1000, 70, 250, 320)
        }
    }

    /// The cycle length, nil for `off` and `on`.
    public var period: Interval? {
        guard let c = cycle else { return nil }
        return .milliseconds(c.period)
    }

    /// The level at `instant` of this pattern started at `since`. Before `since` it is the
    /// level at `since` (the pattern has not begun). An edge belongs to the time after it.
    public func level(at instant: Instant, since: Instant) -> Bool {
        guard let c = cycle else { return self == .on }
        let ms: Int64 = 1_000_000
        let elapsed = max(0, (instant - since).nanoseconds)
        let phase = elapsed % (c.period * ms)
        return phase < c.firstOff * ms || (c.secondOn * ms <= phase && phase < c.secondOff * ms)
    }

    /// The first instant strictly after `instant` at which the level changes, nil if it never
    /// does. Before `since`, the first edge after `since`.
    public func nextChange(after instant: Instant, since: Instant) -> Instant? {
        guard let c = cycle else { return nil }
        let ms: Int64 = 1_000_000
        let period = c.period * ms
        let elapsed = max(0, (instant - since).nanoseconds)
        let cycleStart = elapsed - elapsed % period
        let phase = elapsed - cycleStart
        // The level changes at these offsets in a cycle; `period` is the next cycle's "on".
        // Offsets are increasing (firstOff < secondOn <= secondOff <= period), so the first
        // one past the phase is the next edge; no array, so no allocation on the timer path.
        let next: Int64
        if c.firstOff * ms > phase {
            next = c.firstOff * ms
        } else if c.secondOn < c.period && c.secondOn * ms > phase {
            next = c.secondOn * ms
        } else if c.secondOff < c.period && c.secondOff * ms > phase {
            next = c.secondOff * ms
        } else {
            next = period
        }
        return since + Interval(nanoseconds: cycleStart + next)
    }
}
