import Common
import STUN
import Testing

@Suite struct RetransmissionTests {
    /// RFC 8489 §6.2.1's own example: RTO 500 ms, Rc 7, Rm 16 sends at 0, 500, 1500, 3500,
    /// 7500, 15500 and 31500 ms and gives up at 39500 ms.
    @Test func rfcExampleSchedule() {
        var timer = Retransmission(now: .zero)
        var sendTimes: [Int64] = []
        var now = Instant.zero
        while true {
            let step = timer.poll(now: now)
            if step == .timedOut { break }
            #expect(step == .send)
            sendTimes.append((now - .zero).milliseconds)
            now = timer.deadline
        }
        #expect(sendTimes == [0, 500, 1500, 3500, 7500, 15500, 31500])
        #expect((now - .zero).milliseconds == 39500)
    }

    @Test func earlyPollWaits() {
        var timer = Retransmission(now: .zero, rto: .milliseconds(100), maxSends: 2, lastWaitFactor: 4)
        #expect(timer.poll(now: .zero) == .send)
        #expect(timer.poll(now: .zero + .milliseconds(99)) == .wait)
        #expect(timer.poll(now: .zero + .milliseconds(100)) == .send)
        #expect(timer.deadline == .zero + .milliseconds(500))
        #expect(timer.poll(now: .zero + .milliseconds(499)) == .wait)
        #expect(timer.poll(now: .zero + .milliseconds(500)) == .timedOut)
    }
}
