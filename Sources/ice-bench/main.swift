import AllocationCounter
import Runtime

// ice-bench: printed figures, not tests. `swift run -c release ice-bench stun`.
// Output lines: "<name>: <ns> ns/op, <allocs> allocs/op".

func usage() -> Never {
    printError("usage: ice-bench stun|ice|srtp|dtls|alloc-check|rtp|idle|connect|turn|network|browser|all [--iterations N] [--packets N] [--seconds S] [--runs N] [--fault-close-peer N]")
    exit(2)
}

var args = Array(CommandLine.arguments.dropFirst())
guard let suite = args.first else { usage() }
args.removeFirst()
var iterations = 200_000
var packets = 20_000
var seconds: Int64 = 10
var runs = 10
var closePeerAfter: Int? = nil
/// The options given, for the suites whose default differs from the shared one.
var given: [String] = []
while !args.isEmpty {
    guard args.count >= 2, let n = Int(args[1]), n > 0 else { usage() }
    given.append(args[0])
    switch args[0] {
    case "--iterations": iterations = n  // stun, ice, srtp, dtls (crypto runs)
    case "--packets": packets = n  // rtp
    case "--seconds": seconds = Int64(n)  // idle
    case "--runs": runs = n  // turn, network, browser, dtls (loopback calls), rtp (rounds); all passes it to turn, network, browser and dtls
    // alloc-check: close one agent after N consent periods, to show the check fails when the
    // session drops.
    case "--fault-close-peer": closePeerAfter = n
    default: usage()
    }
    args.removeFirst(2)
}

switch suite {
case "all": exit(runAllBenchmarks(runs: given.contains("--runs") ? runs : nil))
case "connect": exit(runConnectBenchmark())
case "turn": exit(runTurnBenchmark(runs: runs))
case "network": exit(runNetworkBenchmark(runs: given.contains("--runs") ? runs : 5))
case "browser": exit(runBrowserBenchmark(runs: given.contains("--runs") ? runs : 5))
case "stun": runSTUNBenchmarks(iterations: iterations)
case "ice": runICEBenchmarks(iterations: iterations)
case "srtp": runSRTPBenchmark(iterations: iterations)
case "dtls": exit(runDTLSBenchmark(cryptoRuns: given.contains("--iterations") ? iterations : 50, loopbackRuns: runs))
case "alloc-check":
    let agents = runAllocationCheck(closePeerAfter: closePeerAfter)
    let srtp = runSRTPAllocationCheck()
    let path = runSRTPPathAllocationCheck()
    exit(srtp && path && agents == 0 ? 0 : 1)
case "rtp": exit(runRTPBenchmark(packets: packets, rounds: given.contains("--runs") ? runs : 3))
case "idle": exit(runIdleBenchmark(seconds: seconds))
default: usage()
}
