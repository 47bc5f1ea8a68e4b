import Common
import Daemon
import ICE
import Runtime

// `ice-bench idle`: what a connected, silent session costs: wakeups, STUN packets, memory.

/// Ends the idle measurement: one deadline, so it adds one wakeup.
final class IdleTimer: TimerClient {
    var at: Instant?
    let action: (Instant) -> Void
    init(at: Instant, _ action: @escaping (Instant) -> Void) {
        self.at = at
        self.action = action
    }
    var nextDeadline: Instant? { at }
    func handleTimeout(now: Instant) {
        at = nil
        action(now)
    }
}

/// The counters the idle figures come from.
struct IdleSample {
    var at = Instant.zero
    /// Voluntary context switches (the kernel's count of the process sleeping and waking).
    var wakeups = 0
    /// The event loop's returns from epoll_wait.
    var loopReturns = 0
    /// Both sessions' STUN responses.
    var responses = 0
    /// Both sessions' connectivity checks (consent requests are not among them).
    var checks = 0

    init() {}

    init(_ call: DemoTopology, at now: Instant) {
        let d = call.doorbell.agent.counters, h = call.home.agent.counters
        at = now
        wakeups = voluntaryContextSwitches()
        loopReturns = call.loop.wakeups
        responses = d.responsesSent + h.responsesSent
        checks = d.checksSent + h.checksSent
    }
}

/// Samples the counters `settle` after the sessions completed and again `length` later, then
/// stops the loop.
final class IdleWindow {
    let call: DemoTopology
    let settle: Interval
    let length: Interval
    var timers: [IdleTimer] = []
    var first = IdleSample()
    var last = IdleSample()

    init(call: DemoTopology, settle: Interval, length: Interval) {
        self.call = call
        self.settle = settle
        self.length = length
    }

    func begin(completedAt now: Instant) {
        after(now + settle) { now in
            self.first = IdleSample(self.call, at: now)
            self.after(now + self.length) { now in
                self.last = IdleSample(self.call, at: now)
                self.call.loop.stop()
            }
        }
    }

    func after(_ at: Instant, _ action: @escaping (Instant) -> Void) {
        let timer = IdleTimer(at: at, action)
        timers.append(timer)
        call.loop.addTimerClient(timer)
    }

    /// Wakeups and STUN packets per second over the window, and the process's RSS now.
    func printFigures() {
        let elapsed = Double((last.at - first.at).nanoseconds) / 1e9
        // Less the one wakeup of the timer that ends the measurement.
        print("idle-wakeups: \(format(Double(last.wakeups - first.wakeups - 1) / elapsed))/s (voluntary context switches)")
        print("idle-loop-returns: \(format(Double(last.loopReturns - first.loopReturns - 1) / elapsed))/s")
        // Consent requests are not counted in checksSent (that counts connectivity checks
        // only); on a lossless link the requests one side sent are the responses its peer
        // sent, so the STUN packets of both sessions are twice the responses.
        print("idle-stun-packets: \(format(Double(2 * (last.responses - first.responses)) / elapsed))/s")
        print("idle-rss: \(residentKilobytes().map(String.init) ?? "?") kB")
        if last.checks != first.checks { print("note: \(last.checks - first.checks) connectivity checks sent while idle") }
    }
}

/// `ice-bench idle`: two connected sessions on loopback, no media, for `seconds` of real time
/// (from 1 s after both completed). Prints the process's wakeups per second as the kernel counts
/// them (voluntary context switches) and the event loop's returns, the STUN packets the
/// two sessions sent per second (consent requests and their responses) and the process's RSS.
func runIdleBenchmark(seconds: Int64) -> Int32 {
    guard let call = benchTopology("idle") else { return 1 }
    let window = IdleWindow(call: call, settle: .seconds(1), length: .seconds(seconds))
    guard runConnected(call, "idle", connected: { now in window.begin(completedAt: now) }) else { return 1 }
    let stillUp = call.completed
    window.printFigures()
    if !stillUp { printError("idle: a session left completed: \(call.states)") }
    call.close()
    return stillUp ? 0 : 1
}
