import Board
import Common
import Testing

@Suite struct DebouncerTests {
    func drain(_ d: inout Debouncer) -> [ButtonEvent] {
        var out: [ButtonEvent] = []
        while let e = d.pollEvent() { out.append(e) }
        return out
    }

    /// An active-low button: pressing pulls the line low.
    @Test func bouncesAreIgnoredAndAPressCountsAfterTheDebounceTime() {
        var d = Debouncer(debounce: .milliseconds(30), active: .low, initialHigh: true)
        #expect(!d.isPressed && d.nextDeadline == nil)
        // Contact bounce on the way down: 1 ms, 2 ms, 1 ms pulses.
        d.edge(high: false, at: ms(1000))
        d.edge(high: true, at: ms(1001))
        d.edge(high: false, at: ms(1003))
        d.edge(high: true, at: ms(1005))
        d.edge(high: false, at: ms(1006))
        #expect(drain(&d).isEmpty && d.nextDeadline == ms(1036))
        d.handleTimeout(now: ms(1035))
        #expect(drain(&d).isEmpty && !d.isPressed)
        d.handleTimeout(now: ms(1036))
        #expect(drain(&d) == [.pressed(at: ms(1006))] && d.isPressed && d.nextDeadline == nil)
        // Bounce on the way up, then stable high.
        d.edge(high: true, at: ms(1500))
        d.edge(high: false, at: ms(1502))
        d.edge(high: true, at: ms(1504))
        d.handleTimeout(now: ms(1533))
        #expect(drain(&d).isEmpty && d.isPressed)
        d.handleTimeout(now: ms(1534))
        #expect(drain(&d) == [.released(at: ms(1504), held: .milliseconds(498))] && !d.isPressed)
    }

    @Test func aGlitchShorterThanTheDebounceTimeIsNoPress() {
        var d = Debouncer(debounce: .milliseconds(30), active: .low, initialHigh: true)
        d.edge(high: false, at: ms(0))
        d.edge(high: true, at: ms(29))
        d.handleTimeout(now: ms(100))
        #expect(drain(&d).isEmpty && !d.isPressed && d.nextDeadline == nil)
    }

    @Test func aLaterEdgeConfirmsWithoutATimer() {
        // An active-high line (QEMU's gpio-key: a 100 ms pulse), fed only edges.
        var d = Debouncer(debounce: .milliseconds(30), active: .high)
        d.edge(high: true, at: ms(5000))
        d.edge(high: false, at: ms(5100))
        #expect(drain(&d) == [.pressed(at: ms(5000))])
        d.edge(high: true, at: ms(5130))  // stable low for exactly the debounce time: released
        #expect(drain(&d) == [.released(at: ms(5100), held: .milliseconds(100))])
    }

    @Test func longPressFiresOnceWhileHeld() {
        var d = Debouncer(debounce: .milliseconds(30), longPress: .milliseconds(2000), active: .low, initialHigh: true)
        d.edge(high: false, at: ms(0))
        #expect(d.nextDeadline == ms(30))
        d.handleTimeout(now: ms(30))
        #expect(drain(&d) == [.pressed(at: ms(0))] && d.nextDeadline == ms(2000))
        // A bounce while held does not lose the long press.
        d.edge(high: true, at: ms(1000))
        d.edge(high: false, at: ms(1010))
        d.handleTimeout(now: ms(2000))
        #expect(drain(&d) == [.longPress(at: ms(2000))] && d.nextDeadline == nil)
        d.handleTimeout(now: ms(5000))
        #expect(drain(&d).isEmpty)
        d.edge(high: true, at: ms(6000))
        d.handleTimeout(now: ms(6030))
        #expect(drain(&d) == [.released(at: ms(6000), held: .milliseconds(6000))])
    }

    @Test func aShortPressIsNoLongPress() {
        var d = Debouncer(debounce: .milliseconds(30), longPress: .milliseconds(2000), active: .low, initialHigh: true)
        d.edge(high: false, at: ms(0))
        d.edge(high: true, at: ms(1990))
        d.handleTimeout(now: ms(3000))  // release at 1990 confirmed at 2020; the 2000 deadline is void
        #expect(drain(&d) == [.pressed(at: ms(0)), .released(at: ms(1990), held: .milliseconds(1990))])
    }

    @Test func aButtonHeldAtStartIsNotAPress() {
        var d = Debouncer(debounce: .milliseconds(30), longPress: .milliseconds(100), active: .low, initialHigh: false,
                          now: ms(0))
        #expect(d.isPressed && d.nextDeadline == nil)
        d.edge(high: true, at: ms(500))
        d.handleTimeout(now: ms(530))
        #expect(drain(&d) == [.released(at: ms(500), held: .milliseconds(500))])
    }

    @Test func repeatedLevelsAndOutOfOrderStampsAreHarmless() {
        var d = Debouncer(debounce: .milliseconds(30), active: .high)
        d.edge(high: true, at: ms(100))
        d.edge(high: true, at: ms(110))  // a missed falling edge in between: same level
        d.edge(high: false, at: ms(90))  // earlier than the last edge: taken as at 100
        d.handleTimeout(now: ms(1000))
        #expect(drain(&d).isEmpty && !d.isPressed)
    }
}
