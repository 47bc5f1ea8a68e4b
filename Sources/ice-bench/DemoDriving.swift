import Common
import Daemon
import ICE
import Runtime
import SDP

// Driving several demo arrangements in one process: each has its own event loop, and a loop
// that was stopped cannot run again, so they run in slices (`run(until:)`) instead.

/// The demo's arrangement with `security`, logging warnings only; nil (said on stderr) when it
/// cannot be set up.
func benchTopology(_ name: String, security: MediaSecurity) -> DemoTopology? {
    Log.level = .warning
    Log.prefix = "ice-bench"
    do throws(DemoTopology.Failure) { return try DemoTopology(security: security) } catch {
        printError(name + ": setup failed: " + error.description)
        return nil
    }
}

/// Runs `loops` in turn, `slice` each, until `done` or `timeout`; false on timeout or a
/// failed loop. The loops are never stopped, so they can be driven again.
func drive(_ loops: [EventLoop], timeout: Interval, slice: Interval = .milliseconds(5), until done: () -> Bool) -> Bool {
    let deadline = monotonicNow() + timeout
    while !done() {
        if monotonicNow() >= deadline { return false }
        for loop in loops {
            do throws(EventLoop.Failure) { try loop.run(until: monotonicNow() + slice) } catch { return false }
            if done() { return true }
        }
    }
    return true
}

/// Whether both sessions of `call` are completed and, with DTLS-SRTP, keyed.
func connectedAndKeyed(_ call: DemoTopology) -> Bool {
    call.completed && call.doorbell.connection.mediaKeyed != false && call.home.connection.mediaKeyed != false
}

/// Milliseconds with two decimals.
func milliseconds(_ ns: Int64) -> String {
    let hundredths = Int((ns + 5000) / 10_000)
    let frac = hundredths % 100
    return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
}

/// The value below which `fraction` of the sorted `values` lie (nearest rank).
func percentile(_ values: [Int64], _ fraction: Double) -> Int64 {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let exact = fraction * Double(sorted.count)
    let rank = (Double(Int(exact)) < exact ? Int(exact) + 1 : Int(exact)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}
