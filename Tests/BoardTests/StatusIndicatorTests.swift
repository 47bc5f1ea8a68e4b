import Board
import Common
import Testing

@Suite struct StatusIndicatorTests {
    let board: BoardDefinition = {
        try! BoardDefinition(parsing: """
            led.green = GPIO17
            led.red = GPIO27
            state.gathering = green:fast-blink
            state.checking = green:slow-blink
            state.connected = green:on
            state.failed = red:double-blink, green:off
            """)
    }()

    func drain(_ i: inout StatusIndicator) -> [LEDChange] {
        var out: [LEDChange] = []
        while let c = i.pollChange() { out.append(c) }
        return out
    }

    @Test func startsDarkWithNothingToDo() {
        var i = StatusIndicator(board: board)
        #expect(i.status == nil && i.nextDeadline == nil && drain(&i).isEmpty)
        i.set(.idle, now: ms(0))  // idle is unmapped: all off, nothing to write, no timer
        #expect(drain(&i).isEmpty && i.nextDeadline == nil)
    }

    @Test func blinksOnItsEdgesOnly() {
        var i = StatusIndicator(board: board)
        i.set(.gathering, now: ms(1000))
        #expect(drain(&i) == [LEDChange(led: 0, level: true)])
        #expect(i.nextDeadline == ms(1125))
        // Early: nothing happens.
        i.handleTimeout(now: ms(1124))
        #expect(drain(&i).isEmpty && i.nextDeadline == ms(1125))
        i.handleTimeout(now: ms(1125))
        #expect(drain(&i) == [LEDChange(led: 0, level: false)])
        #expect(i.nextDeadline == ms(1250))
        i.handleTimeout(now: ms(1250))
        #expect(drain(&i) == [LEDChange(led: 0, level: true)])
    }

    @Test func sameStateAgainIsANoOp() {
        var i = StatusIndicator(board: board)
        i.set(.checking, now: ms(0))
        _ = drain(&i)
        i.handleTimeout(now: ms(500))
        #expect(drain(&i) == [LEDChange(led: 0, level: false)])
        i.set(.checking, now: ms(700))  // does not restart the blink
        #expect(drain(&i).isEmpty && i.nextDeadline == ms(1000) && !i.level(led: 0))
    }

    @Test func aPatternKeptAcrossStatesKeepsItsPhase() throws {
        let b = try BoardDefinition(parsing: """
            led.green = 1
            state.gathering = green:slow-blink
            state.checking = green:slow-blink
            """)
        var i = StatusIndicator(board: b)
        i.set(.gathering, now: ms(0))
        _ = drain(&i)
        i.set(.checking, now: ms(300))
        #expect(drain(&i).isEmpty && i.nextDeadline == ms(500))
    }

    @Test func transitionsSwitchLEDsAndStopTheTimerWhenSteady() {
        var i = StatusIndicator(board: board)
        i.set(.gathering, now: ms(0))
        _ = drain(&i)
        i.handleTimeout(now: ms(125))
        #expect(drain(&i) == [LEDChange(led: 0, level: false)])
        i.set(.checking, now: ms(200))  // a new pattern starts now, lit
        #expect(drain(&i) == [LEDChange(led: 0, level: true)] && i.nextDeadline == ms(700))
        i.set(.connected, now: ms(300))  // steady on: already lit, nothing to write, no timer
        #expect(drain(&i).isEmpty && i.nextDeadline == nil)
        i.set(.failed, now: ms(400))
        #expect(drain(&i) == [LEDChange(led: 0, level: false), LEDChange(led: 1, level: true)])
        #expect(i.nextDeadline == ms(550) && i.pattern(led: 1) == .doubleBlink)
        i.set(.idle, now: ms(450))
        #expect(drain(&i) == [LEDChange(led: 1, level: false)] && i.nextDeadline == nil)
    }

    @Test func aLateTimeoutLandsOnTheRightLevel() {
        var i = StatusIndicator(board: board)
        i.set(.checking, now: ms(0))
        _ = drain(&i)
        i.handleTimeout(now: ms(1700))  // three edges missed: 1700 ms is in an "off" half
        #expect(drain(&i) == [LEDChange(led: 0, level: false)] && i.nextDeadline == ms(2000))
        i.handleTimeout(now: ms(2600))  // two edges missed, back to off: nothing to write
        #expect(drain(&i).isEmpty && i.nextDeadline == ms(3000))
    }

    @Test func slowBlinkWakesTwiceASecond() {
        var i = StatusIndicator(board: board)
        i.set(.checking, now: ms(0))
        _ = drain(&i)
        var wakeups = 0
        var writes = 0
        while let d = i.nextDeadline, d < ms(10_000) {
            i.handleTimeout(now: d)
            wakeups += 1
            writes += drain(&i).count
        }
        #expect(wakeups == 19 && writes == 19)
    }
}
