import Common
import Runtime

/// The agent states the LEDs show. `connected` covers streaming (a selected pair, media
/// flowing) and `failed` covers retrying (the daemon starts over after a failure); board files
/// accept `streaming` and `retrying` as other names for them.
public enum AgentStatus: Int, Equatable, Hashable, Sendable {
    case idle = 0, gathering, checking, connected, failed

    public static let count = 5
    public static let all: [AgentStatus] = [.idle, .gathering, .checking, .connected, .failed]

    public init?(name: Substring) {
        switch name {
        case "idle": self = .idle
        case "gathering": self = .gathering
        case "checking": self = .checking
        case "connected", "streaming": self = .connected
        case "failed", "retrying": self = .failed
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .idle: return "idle"
        case .gathering: return "gathering"
        case .checking: return "checking"
        case .connected: return "connected"
        case .failed: return "failed"
        }
    }

    public var description: String { name }
}

/// A GPIO line: by the name the chip gives it (`GPIO17`), or by offset on the chip (`27`).
public enum LineSpec: Equatable, Hashable, Sendable {
    case name(String)
    case offset(UInt32)

    public var description: String {
        switch self {
        case .name(let n): return n
        case .offset(let o): return "offset \(o)"
        }
    }

    /// For a name `GPIO<N>` (the Raspberry Pi's naming), the offset N: used when the chip does
    /// not name its lines.
    public var fallbackOffset: UInt32? {
        guard case .name(let n) = self, n.hasPrefix("GPIO") else { return nil }
        guard let v = parseDecimal(n.dropFirst(4), max: 65535) else { return nil }
        return UInt32(v)
    }
}

/// Which physical level means "on" (an LED) or "pressed" (a button).
public enum ActiveLevel: Equatable, Hashable, Sendable {
    case high, low

    /// The physical level for a logical one.
    public func physical(_ logical: Bool) -> Bool { self == .high ? logical : !logical }
    /// The logical level for a physical one (the same mapping: it is its own inverse).
    public func logical(_ physical: Bool) -> Bool { self == .high ? physical : !physical }

    public var name: String { self == .high ? "high" : "low" }
}

/// The pull resistor asked of the kernel for the button line (kernel 5.5+; drivers that cannot
/// set it ignore the request).
public enum Bias: Equatable, Hashable, Sendable {
    case asIs, disable, pullUp, pullDown

    public var name: String {
        switch self {
        case .asIs: return "as-is"
        case .disable: return "disable"
        case .pullUp: return "pull-up"
        case .pullDown: return "pull-down"
        }
    }
}

public struct LEDDefinition: Equatable, Sendable {
    public var name: String
    public var line: LineSpec
    public var active: ActiveLevel
    public init(name: String, line: LineSpec, active: ActiveLevel = .high) {
        self.name = name
        self.line = line
        self.active = active
    }
}

public struct ButtonDefinition: Equatable, Sendable {
    public var line: LineSpec
    public var active: ActiveLevel
    public var bias: Bias
    public var debounce: Interval
    /// Held this long, the press is also reported as a long press; nil: no long presses.
    public var longPress: Interval?
    public init(line: LineSpec, active: ActiveLevel = .low, bias: Bias = .asIs,
                debounce: Interval = .milliseconds(30), longPress: Interval? = nil) {
        self.line = line
        self.active = active
        self.bias = bias
        self.debounce = debounce
        self.longPress = longPress
    }
}

/// A board file's mistake: the line it is on (1-based; 0 for the whole file) and what is wrong.
public struct BoardFileError: Error, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case unreadable(String)          // the file (path) cannot be read
        case expectedKeyValue            // a line without `=`
        case unknownKey(String)
        case missingValue(String)        // `key =` with nothing after it
        case duplicateKey(String)
        case badLED(String)              // an LED name that is not [a-z0-9_-]+
        case badLine(String)             // not a line name or an offset
        case lineInUse(String)           // a line given to two LEDs, or to an LED and the button
        case badPattern(String)          // not LED:pattern, or an unknown pattern
        case unknownLED(String)          // a state or led.X.active naming an LED never defined
        case unknownState(String)
        case badActiveLevel(String)      // not low or high
        case badBias(String)
        case badDuration(String)         // not a whole number of milliseconds in range
        case tooManyLEDs                 // more than BoardDefinition.maxLEDs
        case noButton                    // a button.* option without `button = ...`
    }

    public var line: Int
    public var kind: Kind

    public init(line: Int, _ kind: Kind) {
        self.line = line
        self.kind = kind
    }

    public var description: String {
        let what: String
        switch kind {
        case .unreadable(let p): return "cannot read board file " + p
        case .expectedKeyValue: what = "expected key = value"
        case .unknownKey(let k): what = "unknown key \"" + k + "\""
        case .missingValue(let k): what = k + " needs a value"
        case .duplicateKey(let k): what = k + " given twice"
        case .badLED(let n): what = "bad LED name \"" + n + "\" (letters, digits, - and _)"
        case .badLine(let v): what = "bad GPIO line \"" + v + "\" (a line name such as GPIO17, or an offset)"
        case .lineInUse(let v): what = "GPIO line " + v + " used twice"
        case .badPattern(let v):
            what = "bad pattern \"" + v + "\" (LED:off|on|slow-blink|fast-blink|double-blink|heartbeat)"
        case .unknownLED(let n): what = "unknown LED \"" + n + "\""
        case .unknownState(let s):
            what = "unknown state \"" + s + "\" (idle, gathering, checking, connected, failed)"
        case .badActiveLevel(let v): what = "bad active level \"" + v + "\" (low or high)"
        case .badBias(let v): what = "bad bias \"" + v + "\" (as-is, disable, pull-up or pull-down)"
        case .badDuration(let v): what = "bad duration \"" + v + "\" (milliseconds, 0 to 10000)"
        case .tooManyLEDs: what = "more than \(BoardDefinition.maxLEDs) LEDs"
        case .noButton: what = "button option without button = LINE"
        }
        return "line \(line): " + what
    }
}

/// A board: the GPIO chip, its status LEDs, which pattern each LED shows in each agent state,
/// and the doorbell button. Read from a board file (see board/README.md):
///
///     chip = gpiochip0
///     led.green = GPIO17
///     led.red = 27
///     state.checking = green:slow-blink
///     state.connected = green:on
///     state.failed = red:double-blink
///     button = GPIO22
///     button.active = low
///     button.debounce-ms = 30
public struct BoardDefinition: Equatable, Sendable {
    public static let maxLEDs = 8

    /// A path (/dev/gpiochip0), a name (gpiochip0), a label (9030000.pl061) or a number.
    public var chip: String
    public var leds: [LEDDefinition]
    public var button: ButtonDefinition?
    /// patterns[status.rawValue * leds.count + led]; LEDs a state does not mention are off.
    var patterns: [LEDPattern]

    public init(chip: String = "gpiochip0", leds: [LEDDefinition] = [], button: ButtonDefinition? = nil) {
        self.chip = chip
        self.leds = leds
        self.button = button
        self.patterns = [LEDPattern](repeating: .off, count: AgentStatus.count * leds.count)
    }

    public func pattern(led: Int, in status: AgentStatus) -> LEDPattern {
        patterns[status.rawValue * leds.count + led]
    }

    public mutating func setPattern(_ p: LEDPattern, led: Int, in status: AgentStatus) {
        patterns[status.rawValue * leds.count + led] = p
    }

    public func ledIndex(named name: Substring) -> Int? {
        for i in 0..<leds.count where leds[i].name == name { return i }
        return nil
    }

    /// Reads and parses a board file (at most 64 KiB).
    public static func load(path: String) throws(BoardFileError) -> BoardDefinition {
        guard let bytes = readFile(path, limit: 64 * 1024) else { throw BoardFileError(line: 0, .unreadable(path)) }
        return try BoardDefinition(parsing: String(decoding: bytes, as: UTF8.self))
    }
}

// MARK: - Parsing helpers (no Foundation)

func trimmed(_ s: Substring) -> Substring {
    var start = s.startIndex
    var end = s.endIndex
    while start < end, isSpace(s[start]) { start = s.index(after: start) }
    while end > start, isSpace(s[s.index(before: end)]) { end = s.index(before: end) }
    return s[start..<end]
}

func isSpace(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\r" }

/// A non-negative decimal number no larger than `max`, or nil. Stops as soon as the value
/// passes `max`, so no input overflows (Int is 32 bits on armv7).
func parseDecimal(_ s: Substring, max: Int) -> Int? {
    if s.isEmpty { return nil }
    var v = 0
    for b in s.utf8 {
        guard b >= 0x30 && b <= 0x39 else { return nil }
        v = v * 10 + Int(b - 0x30)
        if v > max { return nil }
    }
    return v
}

func isLEDName(_ s: Substring) -> Bool {
    if s.isEmpty || s.utf8.count > 32 { return false }
    for b in s.utf8 {
        let ok = (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F
        if !ok { return false }
    }
    return true
}

func lineSpec(_ value: Substring, line n: Int) throws(BoardFileError) -> LineSpec {
    if let first = value.utf8.first, first >= 0x30 && first <= 0x39 {
        guard let o = parseDecimal(value, max: 65535) else { throw BoardFileError(line: n, .badLine(String(value))) }
        return .offset(UInt32(o))
    }
    // Kernel line names are at most 31 bytes; no spaces, and none of the file's separators.
    guard value.utf8.count <= 31 else { throw BoardFileError(line: n, .badLine(String(value))) }
    for b in value.utf8 where b <= 0x20 || b == 0x2C || b == 0x3A || b == 0x3D || b >= 0x7F {
        throw BoardFileError(line: n, .badLine(String(value)))
    }
    return .name(String(value))
}

func activeLevel(_ value: Substring, line n: Int) throws(BoardFileError) -> ActiveLevel {
    switch value {
    case "low": return .low
    case "high": return .high
    default: throw BoardFileError(line: n, .badActiveLevel(String(value)))
    }
}

func milliseconds(_ value: Substring, line n: Int) throws(BoardFileError) -> Interval {
    guard let ms = parseDecimal(value, max: 10_000) else { throw BoardFileError(line: n, .badDuration(String(value))) }
    return .milliseconds(Int64(ms))
}
