import CLinux
import Common

/// CLOCK_MONOTONIC: unaffected by wall-clock steps (NTP, a board with no RTC at boot).
public func monotonicNow() -> Instant {
    var ts = timespec()
    clock_gettime(clockid_t(ice_CLOCK_MONOTONIC), &ts)
    return Instant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
}

/// CLOCK_REALTIME in microseconds since the Unix epoch: the wall clock, for log lines and
/// captures that are read beside other programs' records (it can step; never used for timers).
public func wallClockMicroseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(clockid_t(ice_CLOCK_REALTIME), &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

/// getrandom(2): the kernel CSPRNG, for credentials, tie-breakers and transaction ids.
public struct SystemRandom: RandomSource {
    public init() {}
    public func split() -> SystemRandom { SystemRandom() }
    public mutating func next() -> UInt64 {
        var v: UInt64 = 0
        while true {
            let n = withUnsafeMutableBytes(of: &v) { getrandom($0.baseAddress, 8, 0) }
            if n == 8 { return v }
        }
    }
}
