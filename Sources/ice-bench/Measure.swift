import AllocationCounter
import Common
import Runtime

/// Runs `body` `iterations` times after a warm-up, and prints time and allocations per op.
/// The result is the best of three rounds, which filters out scheduler noise on a shared box.
@discardableResult
func measure(_ name: String, iterations: Int, _ body: () -> Void) -> (nsPerOp: Double, allocsPerOp: Double) {
    for _ in 0..<min(1000, iterations) { body() }
    var best = Double.infinity
    var allocs = 0
    for _ in 0..<3 {
        let a0 = allocationCount
        let t0 = monotonicNow()
        for _ in 0..<iterations { body() }
        let elapsed = monotonicNow() - t0
        allocs = max(allocs, allocationCount - a0)
        best = min(best, Double(elapsed.nanoseconds) / Double(iterations))
    }
    let allocsPerOp = Double(allocs) / Double(iterations)
    print("\(name): \(format(best)) ns/op, \(format(allocsPerOp)) allocs/op")
    return (best, allocsPerOp)
}

func format(_ v: Double) -> String {
    let tenths = Int(v * 10 + 0.5)
    return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)"
}

func printError(_ s: String) {
    var line = s + "\n"
    line.withUTF8 { _ = writeStderr($0) }
}
