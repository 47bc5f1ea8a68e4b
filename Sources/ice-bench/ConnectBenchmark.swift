import CLinux
import Runtime

/// `ice-bench connect`: connect time on loopback, median of 10, for ice-agent against itself,
/// aioice and libnice in the same run, as ratios. The pairings need real peer processes in
/// network namespaces, which interop/connect_bench.py drives (see interop/README.md); this
/// runs it against the release build of ice-agent. Run from the package root, as root.
func runConnectBenchmark() -> Int32 {
    let agent = ".build/release/ice-agent"
    // access(2): readFile(limit:) gives nil for any file longer than its limit.
    guard access(agent, X_OK) == 0 else {
        printError("ice-bench connect: build ice-agent first: swift build -c release --product ice-agent")
        return 2
    }
    let status = system("/usr/bin/python3 interop/connect_bench.py --ice-agent " + agent)
    return status == 0 ? 0 : 1
}
