import CLinux
import DTLS
import Runtime

/// `ice-bench browser`: what the DTLS-SRTP handshake (RFC 5764 §4.1) adds after ICE when
/// headless Chromium is the viewer, for ice-agent and for aiortc as the answerer, interleaved
/// over `runs` calls each, against the round trip between the two namespaces. Chromium,
/// GStreamer and aiortc need real processes in network namespaces, which
/// interop/browser/bench_browser.py drives (see interop/browser/README.md); this first takes
/// the crypto the goal allows (the CPU of one whole handshake in memory, as `ice-bench dtls`
/// does) and passes it on. Runs the ice-agent built next to this ice-bench, or
/// .build/release/ice-agent. Run from the package root, as root. Exit 2 when something is
/// missing (the message names the install command), 1 when a stack had no measured run.
func runBrowserBenchmark(runs: Int) -> Int32 {
    var agent = ".build/release/ice-agent"
    // access(2), not readFile: readFile gives nil for anything longer than its limit.
    if let path = executablePath(), let slash = path.lastIndex(of: "/") {
        let next = String(path[..<slash]) + "/ice-agent"
        if access(next, X_OK) == 0 { agent = next }
    }
    guard access(agent, X_OK) == 0 else {
        printError("ice-bench browser: build ice-agent first: swift build -c release --product ice-agent")
        return 2
    }
    guard access("interop/browser/bench_browser.py", R_OK) == 0 else {
        printError("ice-bench browser: run from the package root (interop/browser/bench_browser.py not found)")
        return 2
    }
    guard access("/usr/bin/python3", X_OK) == 0 else {
        printError("ice-bench browser: /usr/bin/python3 is missing: run scripts/install-deps")
        return 2
    }
    guard let crypto = handshakeCryptoNanoseconds(runs: 20) else {
        printError("ice-bench browser: the in-memory DTLS handshake did not complete")
        return 1
    }
    // bench_browser.py prints it: this process's own output is buffered and would come out after
    // the driver's.
    let status = system("/usr/bin/python3 interop/browser/bench_browser.py --runs \(runs) --ice-agent '\(agent)' --crypto-ms \(milliseconds(crypto))")
    // system(3) returns a wait status: the exit code is in bits 8-15.
    guard status != -1, status & 0x7F == 0 else { return 1 }
    let code = (status >> 8) & 0xFF
    if code == 2 { printError("ice-bench browser: Chromium, GStreamer or aiortc is missing: run scripts/install-deps (as root)") }
    return code == 0 ? 0 : (code == 2 ? 2 : 1)
}

/// The median CPU of a whole handshake, both ends in memory: the "crypto" of the goal.
private func handshakeCryptoNanoseconds(runs: Int) -> Int64? {
    var random = SystemRandom()
    let client: DTLSIdentity, server: DTLSIdentity
    do throws(DTLSError) {
        client = try DTLSIdentity.generate(random: &random)
        server = try DTLSIdentity.generate(random: &random)
    } catch {
        return nil
    }
    _ = memoryHandshake(client: client, server: server, random: &random)
    var cpu: [Int64] = []
    for _ in 0..<runs {
        guard let r = memoryHandshake(client: client, server: server, random: &random) else { return nil }
        cpu.append(r.cpu)
    }
    return percentile(cpu, 0.5)
}
