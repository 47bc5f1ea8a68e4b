import Board
import Common
import Testing

@Suite struct LEDPatternTests {
    @Test func constantPatternsNeverChange() {
        for t in [ms(-5), ms(0), ms(1), ms(123_456)] {
            #expect(LEDPattern.on.level(at: t, since: ms(0)))
            #expect(!LEDPattern.off.level(at: t, since: ms(0)))
            #expect(LEDPattern.on.nextChange(after: t, since: ms(0)) == nil)
            #expect(LEDPattern.off.nextChange(after: t, since: ms(0)) == nil)
        }
    }

    @Test func slowBlinkIsOneHertz() {
        let p = LEDPattern.slowBlink
        let s = ms(0)
        #expect(p.level(at: ms(0), since: s))
        #expect(p.level(at: Instant(nanoseconds: 499_999_999), since: s))
        #expect(!p.level(at: ms(500), since: s))
        #expect(!p.level(at: Instant(nanoseconds: 999_999_999), since: s))
        #expect(p.level(at: ms(1000), since: s))
        #expect(p.nextChange(after: ms(0), since: s) == ms(500))
        #expect(p.nextChange(after: ms(499), since: s) == ms(500))
        #expect(p.nextChange(after: ms(500), since: s) == ms(1000))
        #expect(p.nextChange(after: ms(1000), since: s) == ms(1500))
        #expect(p.period == .milliseconds(1000))
    }

    @Test func fastBlinkIsFourHertz() {
        let p = LEDPattern.fastBlink
        let s = ms(10_000)
        #expect(p.nextChange(after: s, since: s) == ms(10_125))
        #expect(p.nextChange(after: ms(10_125), since: s) == ms(10_250))
        #expect(p.nextChange(after: ms(10_250), since: s) == ms(10_375))
        #expect(!p.level(at: ms(10_125), since: s))
        #expect(p.level(at: ms(10_250), since: s))
        #expect(p.period == .milliseconds(250))
    }

    @Test func doubleBlinkIsTwoFlashesThenAPause() {
        let p = LEDPattern.doubleBlink
        let s = ms(0)
        var edges: [Instant] = []
        var t = s
        while let n = p.nextChange(after: t, since: s), n <= ms(4000) {
            edges.append(n)
            t = n
        }
        #expect(edges == [150, 300, 450, 2000, 2150, 2300, 2450, 4000].map(ms))
        #expect(p.level(at: ms(100), since: s) && !p.level(at: ms(200), since: s))
        #expect(p.level(at: ms(350), since: s) && !p.level(at: ms(1999), since: s))
    }

    @Test func heartbeatIsLubDub() {
        let p = LEDPattern.heartbeat
        let s = ms(3)
        var edges: [Int64] = []
        var t = s
        while let n = p.nextChange(after: t, since: s), n <= ms(2003) {
            edges.append((n - s).milliseconds)
            t = n
        }
        #expect(edges == [70, 250, 320, 1000, 1070, 1250, 1320, 2000])
    }

    @Test func beforeItsStartAPatternShowsItsFirstLevel() {
        let s = ms(5000)
        #expect(LEDPattern.slowBlink.level(at: ms(4000), since: s))
        #expect(LEDPattern.slowBlink.nextChange(after: ms(4000), since: s) == ms(5500))
    }

    /// Between two consecutive edges the level is constant, and it flips at each edge, for
    /// every pattern over hours of uptime with an odd start.
    @Test(arguments: [LEDPattern.slowBlink, .fastBlink, .doubleBlink, .heartbeat])
    func edgesAreExactlyWhereTheLevelFlips(_ p: LEDPattern) {
        let s = Instant(nanoseconds: 3 * 3_600_000_000_000 + 123_456_789)
        var t = s
        var level = p.level(at: t, since: s)
        #expect(level)
        for _ in 0..<40 {
            guard let n = p.nextChange(after: t, since: s) else { Issue.record("no edge"); return }
            #expect(n > t)
            #expect(p.level(at: Instant(nanoseconds: n.nanoseconds - 1), since: s) == level)
            #expect(p.level(at: n, since: s) == !level)
            // Any instant inside the interval gives the same next edge.
            let mid = Instant(nanoseconds: (t.nanoseconds + n.nanoseconds) / 2)
            #expect(p.nextChange(after: mid, since: s) == n)
            level.toggle()
            t = n
        }
    }

    @Test func namesRoundTrip() {
        for p in [LEDPattern.off, .on, .slowBlink, .fastBlink, .doubleBlink, .heartbeat] {
            #expect(LEDPattern(name: Substring(p.name)) == p)
        }
        #expect(LEDPattern(name: "blink") == nil)
    }
}
