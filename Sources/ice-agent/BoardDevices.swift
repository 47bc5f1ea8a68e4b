import Board
import Common
import ICE
import Runtime

// The devices a `--board` file names. A board file that does not parse is refused at start-up
// (exit 2, `CallCommand.init`); a chip or line that cannot be had later is logged and the
// daemon runs without that device rather than not at all.

/// The device `open` makes of the board file at `path`, or nil (logged; `failed` says what
/// went wrong and what the daemon does instead) when the file does not load or a GPIO fails.
func boardDevice<Device>(path: String, failed: (GPIOError) -> String,
                         _ open: (BoardDefinition) throws(GPIOError) -> Device?) -> Device? {
    let board: BoardDefinition
    do throws(BoardFileError) { board = try BoardDefinition.load(path: path) } catch {
        Log.warning("board file \(path): \(error.description)")
        return nil
    }
    do throws(GPIOError) { return try open(board) } catch {
        Log.warning("\(failed(error))")
        return nil
    }
}

/// The board's status LEDs on the loop, or nil (logged).
func statusLEDs(path: String, loop: EventLoop) -> StatusLEDs? {
    boardDevice(path: path, failed: { "board: \($0.description); running without status LEDs" }) { board throws(GPIOError) in
        let leds = try StatusLEDs(board: board, chip: try GPIOChip(board.chip))
        loop.addTimerClient(leds)
        return leds
    }
}

/// The board's doorbell button on the loop, or nil (logged) when the board has none or its
/// chip or line cannot be had: the daemon still answers SIGUSR1.
func doorbellButton(path: String, loop: EventLoop, onPress: @escaping (Instant) -> Void) -> DoorbellButton? {
    boardDevice(path: path, failed: { "board: button: \($0.description); SIGUSR1 still places a call" }) { board throws(GPIOError) in
        guard let definition = board.button else {
            Log.warning("board file \(path) has no button line")
            return nil
        }
        let button = try DoorbellButton(button: definition, chip: try GPIOChip(board.chip), now: monotonicNow()) { event in
            if case .pressed(let at) = event { onPress(at) }
        }
        try? loop.register(fd: button.fd, button)
        loop.addTimerClient(button)
        Log.info("doorbell: button on \(board.chip) line \(definition.line.description)")
        return button
    }
}

/// What the LEDs show for an ICE state.
func boardStatus(_ s: AgentState) -> AgentStatus {
    switch s {
    case .new: return .gathering
    case .checking: return .checking
    case .connected, .completed: return .connected
    case .failed, .disconnected, .closed: return .failed
    }
}
