import Common

extension BoardDefinition {
    /// Parses a board file's text. Every mistake is a `BoardFileError` naming its line.
    public init(parsing text: String) throws(BoardFileError) {
        var file = BoardFileLines()
        var n = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            n += 1
            var content = raw[...]
            if let hash = content.firstIndex(of: "#") { content = content[..<hash] }
            let line = trimmed(content)
            if line.isEmpty { continue }
            guard let eq = line.firstIndex(of: "=") else { throw BoardFileError(line: n, .expectedKeyValue) }
            let key = trimmed(line[..<eq])
            let value = trimmed(line[line.index(after: eq)...])
            if key.isEmpty { throw BoardFileError(line: n, .expectedKeyValue) }
            if value.isEmpty { throw BoardFileError(line: n, .missingValue(String(key))) }
            if file.seen.contains(key) { throw BoardFileError(line: n, .duplicateKey(String(key))) }
            try file.take(key: key, value: value, line: n)
            file.seen.append(key)
        }
        self.init(chip: file.chip ?? "gpiochip0", leds: file.leds)
        for a in file.ledActive {
            guard let i = ledIndex(named: a.name) else { throw BoardFileError(line: a.line, .unknownLED(String(a.name))) }
            self.leds[i].active = a.level
        }
        for s in file.stateLines { try setPatterns(s.value, in: s.status, line: s.line) }
        try setButton(file)
    }

    /// `state.NAME = LED:PATTERN, ...` (or `off`): each LED once.
    mutating func setPatterns(_ value: Substring, in status: AgentStatus, line: Int) throws(BoardFileError) {
        if value == "off" || value == "none" { return }
        var assigned: [Int] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = trimmed(item)
            guard let colon = pair.firstIndex(of: ":") else { throw BoardFileError(line: line, .badPattern(String(pair))) }
            let ledName = trimmed(pair[..<colon])
            let patternName = trimmed(pair[pair.index(after: colon)...])
            guard let led = ledIndex(named: ledName) else { throw BoardFileError(line: line, .unknownLED(String(ledName))) }
            guard let pattern = LEDPattern(name: patternName) else {
                throw BoardFileError(line: line, .badPattern(String(patternName)))
            }
            if assigned.contains(led) { throw BoardFileError(line: line, .duplicateKey(String(ledName))) }
            assigned.append(led)
            setPattern(pattern, led: led, in: status)
        }
    }

    /// The button on a line no LED uses; its options only with a `button` line.
    mutating func setButton(_ file: BoardFileLines) throws(BoardFileError) {
        guard let spec = file.buttonLine else {
            if file.firstButtonOption != 0 { throw BoardFileError(line: file.firstButtonOption, .noButton) }
            return
        }
        for l in leds where l.line == spec { throw BoardFileError(line: file.buttonLineNumber, .lineInUse(spec.description)) }
        var b = ButtonDefinition(line: spec)
        if let a = file.buttonActive { b.active = a }
        if let bias = file.buttonBias { b.bias = bias }
        if let d = file.debounce { b.debounce = d }
        b.longPress = file.longPress
        button = b
    }
}

/// What the lines of a board file said, before the cross-references (LED names in
/// `led.NAME.active` and `state.*`, the button's line) are checked against each other.
struct BoardFileLines {
    var chip: String? = nil
    var leds: [LEDDefinition] = []
    var ledActive: [(name: Substring, level: ActiveLevel, line: Int)] = []
    var stateLines: [(status: AgentStatus, value: Substring, line: Int)] = []
    var buttonLine: LineSpec? = nil
    var buttonLineNumber = 0
    var buttonActive: ActiveLevel? = nil
    var buttonBias: Bias? = nil
    var debounce: Interval? = nil
    var longPress: Interval? = nil
    var firstButtonOption = 0
    var seen: [Substring] = []

    mutating func take(key: Substring, value: Substring, line n: Int) throws(BoardFileError) {
        let parts = key.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        switch parts[0] {
        case "chip" where parts.count == 1:
            chip = String(value)
        case "led" where parts.count == 2:
            let name = parts[1]
            guard isLEDName(name) else { throw BoardFileError(line: n, .badLED(String(name))) }
            guard leds.count < BoardDefinition.maxLEDs else { throw BoardFileError(line: n, .tooManyLEDs) }
            let spec = try lineSpec(value, line: n)
            for l in leds where l.line == spec { throw BoardFileError(line: n, .lineInUse(String(value))) }
            leds.append(LEDDefinition(name: String(name), line: spec))
        case "led" where parts.count == 3 && parts[2] == "active":
            ledActive.append((parts[1], try activeLevel(value, line: n), n))
        case "state" where parts.count == 2:
            guard let status = AgentStatus(name: parts[1]) else {
                throw BoardFileError(line: n, .unknownState(String(parts[1])))
            }
            // `streaming` and `connected` name one state: giving both is a duplicate.
            for s in stateLines where s.status == status { throw BoardFileError(line: n, .duplicateKey(String(key))) }
            stateLines.append((status, value, n))
        case "button" where parts.count == 1:
            buttonLine = try lineSpec(value, line: n)
            buttonLineNumber = n
        case "button" where parts.count == 2:
            if firstButtonOption == 0 { firstButtonOption = n }
            try takeButtonOption(parts[1], key: key, value: value, line: n)
        default:
            throw BoardFileError(line: n, .unknownKey(String(key)))
        }
    }

    mutating func takeButtonOption(_ option: Substring, key: Substring, value: Substring, line n: Int) throws(BoardFileError) {
        switch option {
        case "active": buttonActive = try activeLevel(value, line: n)
        case "bias":
            switch value {
            case "as-is": buttonBias = .asIs
            case "disable", "none": buttonBias = .disable
            case "pull-up": buttonBias = .pullUp
            case "pull-down": buttonBias = .pullDown
            default: throw BoardFileError(line: n, .badBias(String(value)))
            }
        case "debounce-ms": debounce = try milliseconds(value, line: n)
        case "long-press-ms": longPress = try milliseconds(value, line: n)
        default: throw BoardFileError(line: n, .unknownKey(String(key)))
        }
    }
}
