import CLinux
import Runtime

/// `ice-bench network`: how long a running call's media takes to come back after the
/// doorbell's network changes (a new address, a link flap, its NAT's mappings flushed), median
/// and max of `runs` per scenario. The call runs between real kernel NATs in network namespaces,
/// which interop/network_bench.py builds and drives (see interop/README.md); this runs it
/// against the ice-agent built next to this ice-bench (the same build directory), or
/// .build/release/ice-agent. Run from the package root, as root. Exit 2 when a tool is missing
/// (the message names scripts/install-deps), 1 when a run did not recover.
func runNetworkBenchmark(runs: Int) -> Int32 {
    guard let agent = driverAgent("network") else { return 2 }
    return runDriver("network", script: "interop/network_bench.py", arguments: "--runs \(runs) --ice-agent '\(agent)'",
                     missing: "a tool is missing or not root")
}
