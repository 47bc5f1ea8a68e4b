import AllocationCounter
import Common
import Runtime

/// Runs `body` `iterations` times after a warm-up, three rounds, and prints time per op (the
/// best round, which filters out scheduler noise on a shared box) and the allocations of all
/// three rounds as a total: a per-op average rounded to tenths would hide up to
/// 0.05 x 3 x `iterations` of them. The line ends in ", 0 allocs/op" only when that total is 0.
@discardableResult
func measure(_ name: String, iterations: Int, _ body: () -> Void) -> (nsPerOp: Double, allocations: Int) {
    for _ in 0..<min(1000, iterations) { body() }
    var best = Double.infinity
    var allocations = 0
    let rounds = 3
    for _ in 0..<rounds {
        let a0 = allocationCount
        let t0 = monotonicNow()
        for _ in 0..<iterations { body() }
        let elapsed = monotonicNow() - t0
        allocations += allocationCount - a0
        best = min(best, Double(elapsed.nanoseconds) / Double(iterations))
    }
    let ops = rounds * iterations
    print("\(name): \(format(best)) ns/op, \(allocations) allocations in \(ops) ops, \(formatPerOp(allocations, ops)) allocs/op")
    return (best, allocations)
}

/// Allocations per op: "0" only for none at all; a rare allocation shows as its fraction
/// (3 in 60,000 ops: "0.00005"), never rounded away.
func formatPerOp(_ total: Int, _ ops: Int) -> String {
    if total == 0 { return "0" }
    let v = Double(total) / Double(ops)
    if v >= 0.05 { return format(v) }
    var digits = 2
    var scale = 100.0
    while Int(v * scale + 0.5) == 0 && digits < 12 {
        digits += 1
        scale *= 10
    }
    let n = max(1, Int(v * scale + 0.5))
    var text = String(n)
    while text.count < digits { text = "0" + text }
    return "0." + text
}

func format(_ v: Double) -> String {
    let tenths = Int(v * 10 + 0.5)
    return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)"
}
