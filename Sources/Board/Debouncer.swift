import Common

/// What the doorbell button did, after debouncing.
public enum ButtonEvent: Equatable, Sendable {
    /// The button went down at `at` (the edge that began the stable press); reported once it
    /// has stayed down for the debounce time.
    case pressed(at: Instant)
    /// Still held at `at`, the long-press time after the press began.
    case longPress(at: Instant)
    /// The button came up at `at` after being held for `held`; reported once it has stayed up
    /// for the debounce time.
    case released(at: Instant, held: Interval)

    public var description: String {
        switch self {
        case .pressed(let t): return "pressed at \(t.nanoseconds / 1_000_000) ms"
        case .longPress(let t): return "long press at \(t.nanoseconds / 1_000_000) ms"
        case .released(let t, let held):
            return "released at \(t.nanoseconds / 1_000_000) ms after \(held.milliseconds) ms"
        }
    }
}

/// Turns a button line's raw edges (physical level and timestamp, as the kernel reports them)
/// into presses and releases: a level counts once it has held for `debounce`, so contact
/// bounce shorter than that is ignored. Pure: no clock, no I/O. A change is confirmed either
/// by the next edge arriving late enough or by `handleTimeout` at `nextDeadline`.
public struct Debouncer {
    public let debounce: Interval
    public let longPress: Interval?
    public let active: ActiveLevel
    /// The debounced state.
    public private(set) var isPressed = false
    /// The latest raw logical level (true = active) and since when.
    var raw = false
    var rawSince: Instant
    var pressStart: Instant = .zero
    var longReported = false
    var events: [ButtonEvent] = []

    /// `initialHigh`: the line's physical level at start (read it when requesting the line);
    /// a button already held then counts as pressed without a `pressed` event.
    public init(debounce: Interval, longPress: Interval? = nil, active: ActiveLevel = .low,
                initialHigh: Bool? = nil, now: Instant = .zero) {
        self.debounce = debounce
        self.longPress = longPress
        self.active = active
        let initial = initialHigh.map { active.logical($0) } ?? false
        raw = initial
        isPressed = initial
        rawSince = now
        pressStart = now
        longReported = initial  // a hold already in progress at start is not a long press
        events.reserveCapacity(8)
    }

    public init(_ button: ButtonDefinition, initialHigh: Bool? = nil, now: Instant = .zero) {
        self.init(debounce: button.debounce, longPress: button.longPress, active: button.active,
                  initialHigh: initialHigh, now: now)
    }

    /// A raw edge: the line is now `high` (physical level), since `at`.
    public mutating func edge(high: Bool, at: Instant) {
        let at = max(at, rawSince)
        settle(upTo: at)
        let level = active.logical(high)
        if level == raw { return }  // a repeated level (a missed edge in between): nothing new
        raw = level
        rawSince = at
    }

    /// When `handleTimeout` has something to confirm, nil when nothing is pending.
    public var nextDeadline: Instant? {
        if raw != isPressed { return rawSince + debounce }
        if isPressed, !longReported, let lp = longPress { return max(pressStart + lp, rawSince) }
        return nil
    }

    public mutating func handleTimeout(now: Instant) {
        settle(upTo: now)
    }

    public mutating func pollEvent() -> ButtonEvent? {
        events.isEmpty ? nil : events.removeFirst()
    }

    /// Confirms every change whose time has come by `t`, in time order.
    mutating func settle(upTo t: Instant) {
        while let d = nextDeadline, d <= t {
            if raw != isPressed {
                isPressed = raw
                if raw {
                    pressStart = rawSince
                    longReported = false
                    events.append(.pressed(at: rawSince))
                } else {
                    events.append(.released(at: rawSince, held: rawSince - pressStart))
                }
            } else {
                longReported = true
                events.append(.longPress(at: d))
            }
        }
    }
}
