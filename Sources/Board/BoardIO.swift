import Common
import Runtime

/// The status LEDs on the event loop: a `StatusIndicator` driving `GPIOOutputs`. Register it
/// with `EventLoop.addTimerClient`; it asks for a wakeup only at the next edge of a blinking
/// pattern, and none while every LED is steady.
///
///     do {
///         let chip = try GPIOChip(board.chip)
///         let leds = try StatusLEDs(board: board, chip: chip)
///         loop.addTimerClient(leds)
///         leds.set(.gathering, now: monotonicNow())
///     } catch {
///         Log.warning(error.description + ": running without status LEDs")
///     }
public final class StatusLEDs: TimerClient {
    public private(set) var indicator: StatusIndicator
    let outputs: GPIOOutputs
    var writeErrorLogged = false

    public init(board: BoardDefinition, chip: GPIOChip, consumer: String = "ice-agent") throws(GPIOError) {
        indicator = StatusIndicator(board: board)
        outputs = try chip.requestOutputs(board.leds, consumer: consumer)
    }

    public func set(_ status: AgentStatus, now: Instant) {
        indicator.set(status, now: now)
        apply()
    }

    public var nextDeadline: Instant? { indicator.nextDeadline }

    public func handleTimeout(now: Instant) {
        indicator.handleTimeout(now: now)
        apply()
    }

    func apply() {
        while let c = indicator.pollChange() {
            do throws(GPIOError) {
                try outputs.set(c.led, c.level)
            } catch {
                if !writeErrorLogged { Log.warning("\(error.description)") }
                writeErrorLogged = true
            }
        }
    }
}

/// The doorbell button on the event loop: its line's edge descriptor (register with
/// `EventLoop.register(fd: button.fd, button)`) and its debounce deadlines (`addTimerClient`).
/// `onEvent` gets presses, long presses and releases.
public final class DoorbellButton: ReadableHandler, TimerClient {
    let input: GPIOEdgeInput
    public private(set) var debouncer: Debouncer
    let onEvent: (ButtonEvent) -> Void
    var readErrorLogged = false

    public init(button: ButtonDefinition, chip: GPIOChip, consumer: String = "ice-agent", now: Instant,
                onEvent: @escaping (ButtonEvent) -> Void) throws(GPIOError) {
        input = try chip.requestButton(button, consumer: consumer)
        debouncer = Debouncer(button, initialHigh: input.initialHigh, now: now)
        self.onEvent = onEvent
    }

    public var fd: Int32 { input.fd }

    public func readable(now: Instant) {
        do throws(GPIOError) {
            try input.readEdges(now: now) { edge in debouncer.edge(high: edge.high, at: edge.at) }
        } catch {
            if !readErrorLogged { Log.warning("\(error.description)") }
            readErrorLogged = true
        }
        deliver()
    }

    public var nextDeadline: Instant? { debouncer.nextDeadline }

    public func handleTimeout(now: Instant) {
        debouncer.handleTimeout(now: now)
        deliver()
    }

    func deliver() {
        while let e = debouncer.pollEvent() { onEvent(e) }
    }
}
