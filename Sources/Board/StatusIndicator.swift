import Common

/// One LED's new level, for the caller to write to its line (logical: true = lit; the line's
/// active level is applied by whoever drives the GPIO).
public struct LEDChange: Equatable, Sendable {
    public var led: Int
    public var level: Bool
    public init(led: Int, level: Bool) {
        self.led = led
        self.level = level
    }
}

/// The status LEDs as a sans-IO state machine: told the agent's state and the time, it says
/// which LED levels to change and when to be called again.
///
///     indicator.set(.checking, now: now)
///     while let c = indicator.pollChange() { lines.set(c.led, c.level) }
///     // arm the timer for indicator.nextDeadline; when it fires:
///     indicator.handleTimeout(now: now)
///     while let c = indicator.pollChange() { ... }
///
/// Every LED starts off. An LED whose pattern is the same in the new state keeps its phase (a
/// blink that carries on from gathering to checking does not restart). Setting the current
/// state again, or a timeout before the deadline, does nothing. After start-up nothing here
/// allocates.
public struct StatusIndicator {
    public let board: BoardDefinition
    public private(set) var status: AgentStatus? = nil
    var patterns: [LEDPattern]
    var since: [Instant]
    var next: [Instant?]
    /// What each LED should show now, and what the caller has been told.
    var level: [Bool]
    var applied: [Bool]
    public private(set) var nextDeadline: Instant? = nil

    public init(board: BoardDefinition) {
        self.board = board
        let n = board.leds.count
        patterns = [LEDPattern](repeating: .off, count: n)
        since = [Instant](repeating: .zero, count: n)
        next = [Instant?](repeating: nil, count: n)
        level = [Bool](repeating: false, count: n)
        applied = [Bool](repeating: false, count: n)
    }

    public func pattern(led: Int) -> LEDPattern { patterns[led] }

    /// The level the LED shows (as last computed), whether or not it has been polled.
    public func level(led: Int) -> Bool { level[led] }

    /// Shows `status`. The same status again is a no-op.
    public mutating func set(_ status: AgentStatus, now: Instant) {
        if self.status == status { return }
        self.status = status
        for i in 0..<patterns.count {
            let p = board.pattern(led: i, in: status)
            if p == patterns[i] { continue }
            patterns[i] = p
            since[i] = now
            level[i] = p.level(at: now, since: now)
            next[i] = p.nextChange(after: now, since: now)
        }
        recomputeDeadline()
    }

    /// Advances every LED whose edge is due. Late calls land on the right level (the pattern
    /// is a function of time), skipping edges missed in between.
    public mutating func handleTimeout(now: Instant) {
        guard let d = nextDeadline, d <= now else { return }
        for i in 0..<patterns.count {
            guard let e = next[i], e <= now else { continue }
            level[i] = patterns[i].level(at: now, since: since[i])
            next[i] = patterns[i].nextChange(after: now, since: since[i])
        }
        recomputeDeadline()
    }

    /// The next LED whose level differs from what the caller was last told.
    public mutating func pollChange() -> LEDChange? {
        for i in 0..<level.count where level[i] != applied[i] {
            applied[i] = level[i]
            return LEDChange(led: i, level: level[i])
        }
        return nil
    }

    mutating func recomputeDeadline() {
        var d: Instant? = nil
        for e in next {
            if let e, d == nil || e < d! { d = e }
        }
        nextDeadline = d
    }
}
