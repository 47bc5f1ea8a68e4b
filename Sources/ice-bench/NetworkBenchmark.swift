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
    var agent = ".build/release/ice-agent"
    // access(2), not readFile: readFile gives nil for anything longer than its limit.
    if let path = executablePath(), let slash = path.lastIndex(of: "/") {
        let sibling = String(path[..<slash]) + "/ice-agent"
        if access(sibling, X_OK) == 0 { agent = sibling }
    }
    guard access(agent, X_OK) == 0 else {
        printError("ice-bench network: build ice-agent first: swift build -c release --product ice-agent")
        return 2
    }
    guard access("interop/network_bench.py", R_OK) == 0 else {
        printError("ice-bench network: run from the package root (interop/network_bench.py not found)")
        return 2
    }
    guard access("/usr/bin/python3", X_OK) == 0 else {
        printError("ice-bench network: /usr/bin/python3 is missing: run scripts/install-deps")
        return 2
    }
    let status = system("/usr/bin/python3 interop/network_bench.py --runs \(runs) --ice-agent '\(agent)'")
    // system(3) returns a wait status: the exit code is in bits 8-15.
    guard status != -1, status & 0x7F == 0 else { return 1 }
    let code = (status >> 8) & 0xFF
    if code == 2 { printError("ice-bench network: a tool is missing or not root: run scripts/install-deps (as root)") }
    return code == 0 ? 0 : (code == 2 ? 2 : 1)
}
