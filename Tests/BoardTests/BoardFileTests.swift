import Board
import Common
import TestSupport
import Testing

@Suite struct BoardFileTests {
    @Test func raspberryPiBoardParses() throws {
        let b = try parse(try repoFile("board/raspberry-pi.board"))
        #expect(b.chip == "gpiochip0")
        #expect(b.leds == [LEDDefinition(name: "green", line: .name("GPIO17")),
                           LEDDefinition(name: "red", line: .name("GPIO27"))])
        #expect(b.pattern(led: 0, in: .connected) == .on && b.pattern(led: 1, in: .connected) == .off)
        #expect(b.pattern(led: 0, in: .checking) == .slowBlink)
        #expect(b.pattern(led: 0, in: .gathering) == .fastBlink)
        #expect(b.pattern(led: 1, in: .failed) == .doubleBlink)
        #expect(b.pattern(led: 0, in: .idle) == .off && b.pattern(led: 1, in: .idle) == .off)
        #expect(b.button == ButtonDefinition(line: .name("GPIO22"), active: .low, bias: .pullUp,
                                             debounce: .milliseconds(30), longPress: .milliseconds(3000)))
        #expect(LineSpec.name("GPIO22").fallbackOffset == 22)
    }

    @Test func qemuVirtBoardParses() throws {
        let b = try parse(try repoFile("board/qemu-virt.board"))
        #expect(b.chip == "9030000.pl061")
        #expect(b.leds.map(\.line) == [.offset(0), .offset(1)])
        #expect(b.pattern(led: 0, in: .idle) == .heartbeat)
        #expect(b.button?.line == .offset(3) && b.button?.active == .high && b.button?.bias == .asIs)
        #expect(b.button?.debounce == .milliseconds(30) && b.button?.longPress == nil)
    }

    @Test func defaultsCommentsAliasesAndSeveralLEDsPerState() throws {
        let b = try parse("""
            # a comment line

              led.a = 5   # trailing comment
            led.b = LED_B
            led.b.active = low
            state.streaming = a:on , b:heartbeat
            state.retrying = none
            """)
        #expect(b.chip == "gpiochip0" && b.button == nil)
        #expect(b.leds[1] == LEDDefinition(name: "b", line: .name("LED_B"), active: .low))
        #expect(b.pattern(led: 0, in: .connected) == .on && b.pattern(led: 1, in: .connected) == .heartbeat)
        #expect(b.pattern(led: 0, in: .failed) == .off)
        // led.X.active may come before led.X; states may name LEDs defined later.
        let c = try parse("state.idle = x:on\nled.x.active = low\nled.x = 2\n")
        #expect(c.leds[0].active == .low && c.pattern(led: 0, in: .idle) == .on)
    }

    @Test func everyErrorNamesItsLine() {
        let cases: [(String, BoardFileError)] = [
            ("chip = gpiochip0\njust words\n", BoardFileError(line: 2, .expectedKeyValue)),
            ("\n\nled.green = 1\nleds.red = 2\n", BoardFileError(line: 4, .unknownKey("leds.red"))),
            ("button.colour = red\n", BoardFileError(line: 1, .unknownKey("button.colour"))),
            ("led.a.blink = 1\nled.a = 1", BoardFileError(line: 1, .unknownKey("led.a.blink"))),
            ("chip =\n", BoardFileError(line: 1, .missingValue("chip"))),
            ("chip = a\nchip = b\n", BoardFileError(line: 2, .duplicateKey("chip"))),
            ("led.g = 1\nstate.connected = g:on\nstate.streaming = g:on\n",
             BoardFileError(line: 3, .duplicateKey("state.streaming"))),
            ("led.a = 1\nstate.idle = a:on, a:off\n", BoardFileError(line: 2, .duplicateKey("a"))),
            ("led.gr een = 1\n", BoardFileError(line: 1, .badLED("gr een"))),
            ("led.g = 17x\n", BoardFileError(line: 1, .badLine("17x"))),
            ("led.g = 99999999\n", BoardFileError(line: 1, .badLine("99999999"))),
            ("led.g = GPIO 17\n", BoardFileError(line: 1, .badLine("GPIO 17"))),
            ("led.g = 1\nled.r = 1\n", BoardFileError(line: 2, .lineInUse("1"))),
            ("led.g = GPIO22\nbutton = GPIO22\n", BoardFileError(line: 2, .lineInUse("GPIO22"))),
            ("led.g = 1\n# x\nstate.checking = g:blinky\n", BoardFileError(line: 3, .badPattern("blinky"))),
            ("led.g = 1\nstate.checking = g\n", BoardFileError(line: 2, .badPattern("g"))),
            ("led.g = 1\nstate.failed = red:on\n", BoardFileError(line: 2, .unknownLED("red"))),
            ("led.r.active = low\n", BoardFileError(line: 1, .unknownLED("r"))),
            ("state.sleeping = off\n", BoardFileError(line: 1, .unknownState("sleeping"))),
            ("button = 3\nbutton.active = up\n", BoardFileError(line: 2, .badActiveLevel("up"))),
            ("button = 3\nbutton.bias = strong\n", BoardFileError(line: 2, .badBias("strong"))),
            ("button = 3\nbutton.debounce-ms = -5\n", BoardFileError(line: 2, .badDuration("-5"))),
            ("button = 3\nbutton.long-press-ms = 60000\n", BoardFileError(line: 2, .badDuration("60000"))),
            ("button = 3\nbutton.debounce-ms = 99999999999999999999999\n",
             BoardFileError(line: 2, .badDuration("99999999999999999999999"))),
            ((0...8).map { "led.l\($0) = \($0)" }.joined(separator: "\n"), BoardFileError(line: 9, .tooManyLEDs)),
            ("chip = x\nbutton.active = low\n", BoardFileError(line: 2, .noButton)),
        ]
        for (text, expected) in cases {
            let e = parseError(text)
            #expect(e == expected, "\(text)")
            #expect(e?.description.hasPrefix("line \(expected.line): ") == true)
        }
        #expect(BoardFileError(line: 3, .badPattern("x")).description
            == "line 3: bad pattern \"x\" (LED:off|on|slow-blink|fast-blink|double-blink|heartbeat)")
    }

    @Test func garbageNeverCrashes() {
        var rng = SplitMix(seed: 7)
        let alphabet = Array("led.state.button=:,# \t\r\n0123456789abcGPIO-_=on:slow-blink\u{0}\u{FF}é")
        for _ in 0..<2000 {
            let n = Int(rng.next() % 120)
            let text = String((0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            _ = parseError(text)
        }
    }

    @Test func missingFileIsATypedError() {
        do throws(BoardFileError) {
            _ = try BoardDefinition.load(path: "/nonexistent/x.board")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error == BoardFileError(line: 0, .unreadable("/nonexistent/x.board")))
        }
    }

    /// board/doorbell.conf and the firmware image's doorbell.conf use only keys the daemon's config file knows: the
    /// options marked `config: true` and the `configKey`s in Sources/ice-agent/CallOptions.swift, read as text (the
    /// executable is not importable here).
    @Test func doorbellConfUsesKnownDaemonKeys() throws {
        let source = try repoFile("Sources/ice-agent/CallOptions.swift")
        var known: Set<String> = []
        // Each `Option("--name", ...` up to the next one; a key when its declaration says `config: true`.
        let declarations = source.components(separatedBy: "Option(\"--").dropFirst()
        for d in declarations {
            guard let quote = d.firstIndex(of: "\"") else { continue }
            if d.contains("config: true") { known.insert(String(d[..<quote])) }
        }
        for part in source.components(separatedBy: "configKey: \"").dropFirst() {
            if let quote = part.firstIndex(of: "\"") { known.insert(String(part[..<quote])) }
        }
        #expect(known.contains("url") && known.contains("status-socket"))
        func keys(_ path: String) throws -> [String] {
            var keys: [String] = []
            for line in try repoFile(path).split(separator: "\n") {
                let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                guard let eq = content.firstIndex(of: "=") else {
                    #expect(content.allSatisfy { $0 == " " }, "\(line)")
                    continue
                }
                keys.append(content[..<eq].trimmingCharacters(in: .whitespaces))
            }
            return keys
        }
        let board = try keys("board/doorbell.conf")
        #expect(board == ["url", "stun", "rtp-in", "log-level", "status-socket", "board", "on-button", "call-seconds"])
        let image = try keys("firmware-image/doorbell.conf")
        #expect(image.contains("on-button") && image.contains("board"))
        for k in board + image { #expect(known.contains(k), "unknown daemon key \(k)") }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
