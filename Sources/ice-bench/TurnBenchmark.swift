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
    var agent = ".build/release/ice-agent"
    // access(2), not readFile: readFile gives nil for anything longer than its limit.
    if let dir = executableDirectory(), access(dir + "/ice-agent", X_OK) == 0 { agent = dir + "/ice-agent" }
    guard access(agent, X_OK) == 0 else {
        printError("ice-bench turn: build ice-agent first: swift build -c release --product ice-agent")
        return 2
    }
    guard access("interop/turn_bench.py", R_OK) == 0 else {
        printError("ice-bench turn: run from the package root (interop/turn_bench.py not found)")
        return 2
    }
    guard access("/usr/bin/python3", X_OK) == 0 else {
        printError("ice-bench turn: /usr/bin/python3 is missing: run scripts/install-deps")
        return 2
    }
    let status = system("/usr/bin/python3 interop/turn_bench.py --runs \(runs) --ice-agent '\(agent)'")
    // system(3) returns a wait status: the exit code is in bits 8-15.
    guard status != -1, status & 0x7F == 0 else { return 1 }
    let code = (status >> 8) & 0xFF
    if code == 2 { printError("ice-bench turn: a stack or coturn is missing: run scripts/install-deps (as root)") }
    return code == 0 ? 0 : (code == 2 ? 2 : 1)
}

/// The directory of this executable (/proc/self/exe), for the ice-agent next to it.
private func executableDirectory() -> String? {
    guard let path = executablePath(), let slash = path.lastIndex(of: "/") else { return nil }
    return String(path[..<slash])
}
