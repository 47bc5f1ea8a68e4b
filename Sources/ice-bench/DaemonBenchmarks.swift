import CLinux
import Common
import Daemon
import ICE
import Runtime

// The daemon's own code on real loopback sockets, in one process and one event loop:
// `ice-bench rtp` (RTP forwarding cost against a plain UDP forwarder) and `ice-bench idle`
// (what a connected, silent session costs: wakeups, STUN packets, memory).

/// User + system CPU time of the whole process.
func cpuTime() -> Interval {
    var u = rusage()
    _ = getrusage(__rusage_who_t(ice_RUSAGE_SELF), &u)
    let us = (Int64(u.ru_utime.tv_sec) + Int64(u.ru_stime.tv_sec)) * 1_000_000 + Int64(u.ru_utime.tv_usec) + Int64(u.ru_stime.tv_usec)
    return Interval(nanoseconds: us * 1000)
}

/// Voluntary context switches of the whole process (getrusage `ru_nvcsw`): each time a thread
/// blocked and the kernel woke it again, which is what an idle device pays for.
func voluntaryContextSwitches() -> Int {
    var u = rusage()
    _ = getrusage(__rusage_who_t(ice_RUSAGE_SELF), &u)
    return Int(u.ru_nvcsw)
}

/// Resident set size in kB (VmRSS of /proc/self/status).
func residentKilobytes() -> Int? {
    guard let bytes = readFile("/proc/self/status", limit: 64 * 1024) else { return nil }
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
    return nil
}

/// Calls `then` with the time both sessions completed, woken by their state changes (every
/// 10 ms otherwise), or stops the loop after 10 s with `failed` set.
final class WaitForCompletion: TimerClient {
    let call: DemoTopology
    let deadline: Instant
    var then: ((Instant) -> Void)?
    var next = Instant.zero
    var failed = false

    init(_ call: DemoTopology, then: @escaping (Instant) -> Void) {
        self.call = call
        self.then = then
        deadline = monotonicNow() + .seconds(10)
    }

    var nextDeadline: Instant? {
        guard then != nil else { return nil }
        if let e = call.eventDeadline, e < next { return e }
        return next
    }

    func handleTimeout(now: Instant) {
        guard let t = then else { return }
        call.drainEvents()
        if call.completed {
            then = nil
            call.loop.removeTimerClient(self)
            t(call.completedAt ?? now)
        } else if now >= deadline {
            then = nil
            failed = true
            call.loop.stop()
        } else {
            next = now + .milliseconds(10)
        }
    }
}

/// The demo's arrangement for one benchmark, logging warnings only; nil (said on stderr) when
/// it cannot be set up.
func benchTopology(_ name: String) -> DemoTopology? {
    Log.level = .warning
    Log.prefix = "ice-bench"
    do throws(DemoTopology.Failure) { return try DemoTopology() } catch {
        printError(name + ": setup failed: " + error.description)
        return nil
    }
}

/// Starts both sessions and runs the loop until something stops it; `connected` runs once
/// both are completed. False (said on stderr) when the loop fails or they never complete.
func runConnected(_ call: DemoTopology, _ name: String, connected: @escaping (Instant) -> Void) -> Bool {
    let wait = WaitForCompletion(call, then: connected)
    call.loop.addTimerClient(wait)
    call.start(now: monotonicNow())
    do throws(EventLoop.Failure) { try call.loop.run() } catch {
        printError(name + ": event loop failed")
        return false
    }
    if wait.failed {
        printError(name + ": the sessions did not complete (\(call.states))")
        return false
    }
    return true
}
