import CGPIOD
import Common

/// Why the LEDs or the button are unavailable. The daemon logs it and runs without them.
public enum GPIOError: Error, Equatable, Sendable {
    /// No chip matches the path, name, label or number (or it cannot be opened: permissions).
    case chipNotFound(chip: String, errno: Int32)
    /// The chip has no line of that name, and no such offset.
    case lineNotFound(line: String, chip: String)
    /// Another consumer (a kernel driver such as gpio-keys or gpio-leds, or another process)
    /// holds the line.
    case lineBusy(line: String, chip: String)
    case requestFailed(line: String, errno: Int32)
    case readFailed(errno: Int32)
    case writeFailed(line: String, errno: Int32)

    public var description: String {
        switch self {
        case .chipNotFound(let c, let e): return "GPIO chip \"" + c + "\" not found or not accessible (errno \(e))"
        case .lineNotFound(let l, let c): return "GPIO line " + l + " not found on " + c
        case .lineBusy(let l, let c): return "GPIO line " + l + " on " + c + " is busy (used by another consumer)"
        case .requestFailed(let l, let e): return "GPIO line " + l + " request failed (errno \(e))"
        case .readFailed(let e): return "GPIO event read failed (errno \(e))"
        case .writeFailed(let l, let e): return "GPIO line " + l + " write failed (errno \(e))"
        }
    }
}

/// A GPIO chip through libgpiod v1. Lines requested from it stay valid while it lives; closing
/// it (deinit) releases them.
public final class GPIOChip {
    let handle: OpaquePointer
    /// As given: a path, name, label or number.
    public let descriptor: String

    /// Opens `descriptor` with gpiod_chip_open_lookup: /dev/gpiochip0, gpiochip0, a label such
    /// as 9030000.pl061 or pinctrl-bcm2711, or a number.
    public init(_ descriptor: String) throws(GPIOError) {
        ice_gpiod_clear_errno()
        guard let h = gpiod_chip_open_lookup(descriptor) else {
            throw .chipNotFound(chip: descriptor, errno: ice_gpiod_errno())
        }
        handle = h
        self.descriptor = descriptor
    }

    deinit { gpiod_chip_close(handle) }

    public var name: String { String(cString: gpiod_chip_name(handle)) }
    public var label: String { String(cString: gpiod_chip_label(handle)) }
    public var lineCount: Int { Int(gpiod_chip_num_lines(handle)) }

    /// The line by name where the chip names its lines; a name `GPIO<N>` the chip does not
    /// know falls back to offset N; an offset is taken as is.
    func line(_ spec: LineSpec) throws(GPIOError) -> OpaquePointer {
        switch spec {
        case .name(let n):
            if let l = gpiod_chip_find_line(handle, n) { return l }
            if let o = spec.fallbackOffset, o < UInt32(lineCount), let l = gpiod_chip_get_line(handle, o) { return l }
        case .offset(let o):
            if o < UInt32(lineCount), let l = gpiod_chip_get_line(handle, o) { return l }
        }
        throw .lineNotFound(line: spec.description, chip: descriptor)
    }

    func requestFailure(_ spec: LineSpec, errno e: Int32) -> GPIOError {
        e == ice_EBUSY ? .lineBusy(line: spec.description, chip: descriptor) : .requestFailed(line: spec.description, errno: e)
    }

    /// Requests the LEDs' lines as outputs, all off. Either every line is requested or none.
    public func requestOutputs(_ leds: [LEDDefinition], consumer: String = "ice-agent") throws(GPIOError) -> GPIOOutputs {
        var lines: [OpaquePointer] = []
        for led in leds {
            let l: OpaquePointer
            do throws(GPIOError) {
                l = try line(led.line)
            } catch {
                for r in lines { gpiod_line_release(r) }
                throw error
            }
            ice_gpiod_clear_errno()
            if gpiod_line_request_output(l, consumer, led.active.physical(false) ? 1 : 0) != 0 {
                let e = ice_gpiod_errno()
                for r in lines { gpiod_line_release(r) }
                throw requestFailure(led.line, errno: e)
            }
            lines.append(l)
        }
        return GPIOOutputs(chip: self, lines: lines, leds: leds)
    }

    /// Requests the button's line for both-edge events, with its bias where the kernel can set
    /// one (retried without it on kernels older than 5.5, which reject bias flags).
    public func requestButton(_ button: ButtonDefinition, consumer: String = "ice-agent") throws(GPIOError) -> GPIOEdgeInput {
        let l = try line(button.line)
        var flags: Int32 = 0
        switch button.bias {
        case .asIs: flags = 0
        case .disable: flags = Int32(ice_GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        case .pullUp: flags = Int32(ice_GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: flags = Int32(ice_GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        }
        ice_gpiod_clear_errno()
        var rc = gpiod_line_request_both_edges_events_flags(l, consumer, flags)
        var biasApplied = flags != 0
        if rc != 0 && flags != 0 && ice_gpiod_errno() == ice_EINVAL {
            ice_gpiod_clear_errno()
            rc = gpiod_line_request_both_edges_events(l, consumer)
            biasApplied = false
        }
        if rc != 0 { throw requestFailure(button.line, errno: ice_gpiod_errno()) }
        let fd = gpiod_line_event_get_fd(l)
        guard fd >= 0 else {
            let e = ice_gpiod_errno()
            gpiod_line_release(l)
            throw .requestFailed(line: button.line.description, errno: e)
        }
        let v = gpiod_line_get_value(l)
        return GPIOEdgeInput(chip: self, line: l, fd: fd, spec: button.line,
                             initialHigh: v < 0 ? nil : v == 1, biasApplied: biasApplied)
    }
}

/// Output lines (the LEDs), in the order of the board's LEDs. Levels are logical (true = lit):
/// each LED's active level is applied here. Released, after switching the LEDs off, on deinit.
public final class GPIOOutputs {
    let chip: GPIOChip
    let lines: [OpaquePointer]
    let leds: [LEDDefinition]

    init(chip: GPIOChip, lines: [OpaquePointer], leds: [LEDDefinition]) {
        self.chip = chip
        self.lines = lines
        self.leds = leds
    }

    deinit {
        for i in 0..<lines.count {
            _ = gpiod_line_set_value(lines[i], leds[i].active.physical(false) ? 1 : 0)
            gpiod_line_release(lines[i])
        }
    }

    public var count: Int { lines.count }

    public func set(_ led: Int, _ level: Bool) throws(GPIOError) {
        ice_gpiod_clear_errno()
        if gpiod_line_set_value(lines[led], leds[led].active.physical(level) ? 1 : 0) != 0 {
            throw .writeFailed(line: leds[led].line.description, errno: ice_gpiod_errno())
        }
    }
}

/// One raw edge from the kernel: the physical level after it and when it happened.
public struct RawEdge: Equatable, Sendable {
    public var high: Bool
    public var at: Instant
    public init(high: Bool, at: Instant) {
        self.high = high
        self.at = at
    }
}

/// An input line requested for both-edge events: `fd` goes into the event loop, `readEdges`
/// drains it when readable.
public final class GPIOEdgeInput {
    let chip: GPIOChip
    let line: OpaquePointer
    public let fd: Int32
    public let spec: LineSpec
    /// The physical level when requested, nil if it could not be read.
    public let initialHigh: Bool?
    /// Whether the requested bias was accepted (false also when none was asked).
    public let biasApplied: Bool

    init(chip: GPIOChip, line: OpaquePointer, fd: Int32, spec: LineSpec, initialHigh: Bool?, biasApplied: Bool) {
        self.chip = chip
        self.line = line
        self.fd = fd
        self.spec = spec
        self.initialHigh = initialHigh
        self.biasApplied = biasApplied
    }

    deinit { gpiod_line_release(line) }

    /// Reads the pending edges (up to 16 per read; call when `fd` is readable, or it blocks)
    /// and hands each to `body`. Kernel timestamps are CLOCK_MONOTONIC since Linux 5.7; one
    /// further than 10 s from `now` (an older kernel's CLOCK_REALTIME) is replaced by `now`.
    public func readEdges(now: Instant, _ body: (RawEdge) -> Void) throws(GPIOError) {
        var buffer = (gpiod_line_event(), gpiod_line_event(), gpiod_line_event(), gpiod_line_event(),
                      gpiod_line_event(), gpiod_line_event(), gpiod_line_event(), gpiod_line_event(),
                      gpiod_line_event(), gpiod_line_event(), gpiod_line_event(), gpiod_line_event(),
                      gpiod_line_event(), gpiod_line_event(), gpiod_line_event(), gpiod_line_event())
        let n = withUnsafeMutableBytes(of: &buffer) { raw -> Int32 in
            let events = raw.baseAddress!.assumingMemoryBound(to: gpiod_line_event.self)
            return gpiod_line_event_read_multiple(line, events, 16)
        }
        if n < 0 { throw .readFailed(errno: ice_gpiod_errno()) }
        withUnsafeBytes(of: &buffer) { raw in
            for i in 0..<Int(n) {
                let e = raw.load(fromByteOffset: i * MemoryLayout<gpiod_line_event>.stride, as: gpiod_line_event.self)
                var at = Instant(nanoseconds: Int64(e.ts.tv_sec) * 1_000_000_000 + Int64(e.ts.tv_nsec))
                let skew = (at - now).nanoseconds
                if skew > 10_000_000_000 || skew < -10_000_000_000 { at = now }
                body(RawEdge(high: e.event_type == Int32(ice_GPIOD_LINE_EVENT_RISING_EDGE), at: at))
            }
        }
    }
}
