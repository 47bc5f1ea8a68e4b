import CLinux
import Runtime

/// `ice-bench turn`: time to the relayed candidate and relay-only connect time (median and
/// p90 of `runs` connects per stack) for ice-agent, libnice and aioice against one coturn on
/// loopback, in one run. The stacks need real peer processes and coturn in a network
/// namespace, which interop/turn_bench.py drives (see interop/README.md); this runs it against
/// the ice-agent built next to this ice-bench (the same build directory), or
/// .build/release/ice-agent. Run from the package root, as root. Exit 2 when a stack or coturn
/// is missing (the message names scripts/install-deps), 1 when a run did not connect.
func runTurnBenchmark(runs: Int) -> Int32 {
    guard let agent = driverAgent("turn") else { return 2 }
    return runDriver("turn", script: "interop/turn_bench.py", arguments: "--runs \(runs) --ice-agent '\(agent)'",
                     missing: "a stack or coturn is missing")
}
