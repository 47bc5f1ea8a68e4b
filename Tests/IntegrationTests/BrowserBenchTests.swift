import Foundation
import TestSupport
import Testing

/// `interop/browser/bench_browser.py --runs 1` (what `ice-bench browser` runs) against the
/// built ice-agent: one call from headless Chromium to ice-agent and one to aiortc, each with
/// the DTLS handshake after ICE measured on Chromium's side, and for ice-agent on its own side
/// from its --pcap flight by flight (RFC 6347 §4.2.4). The figures the comparison line and the
/// goal are read from must all be there and in the handshake's order. Needs root, Chromium,
/// GStreamer and aiortc (scripts/install-deps).
@Suite struct BrowserBenchTests {
    @Test func handshakeAfterICEIsMeasuredForIceAgentAndAiortc() throws {
        guard geteuid() == 0 else { throw TestFailure("network namespaces need root: run the system lane as root") }
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("\(python) is not installed: run `apt-get install python3` (or scripts/install-deps)")
        }
        let script = repoRoot.appendingPathComponent("interop/browser/bench_browser.py").path
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("bench-browser-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: json) }
        // A bound of 1 s of crypto: the goal line must say met unless a figure is absurd.
        let r = try run(python, [script, "--runs", "1", "--ice-agent", try iceAgentPath(), "--crypto-ms", "1000",
                                 "--json", json.path], timeout: 180)
        if r.status == 2 { throw TestFailure("bench_browser.py: a dependency is missing: \(r.stdout)\n\(r.stderr)") }
        #expect(r.status == 0, "bench_browser.py exited \(r.status)\n\(r.stdout)\n\(r.stderr)")
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: [[String: Any]]],
                                "\(r.stdout)")
        let agent = try #require(runs["ice-agent"]?.first, "\(r.stdout)")
        let aiortc = try #require(runs["aiortc"]?.first, "\(r.stdout)")
        for (name, run) in [("ice-agent", agent), ("aiortc", aiortc)] {
            #expect(run["ok"] as? Bool == true, "\(name): \(run["error"] ?? "no media")\n\(r.stdout)")
            let chromium = run["chromium_ms"] as? Double ?? -1
            #expect(chromium > 0 && chromium < 5000, "\(name): Chromium's ICE connected -> connected \(chromium) ms\n\(r.stdout)")
            let rtts = run["rtt_ms"] as? [Double] ?? []
            #expect(rtts.count >= 40 && rtts.allSatisfy { $0 > 0 && $0 < 1000 }, "\(name): round trips \(rtts)")
        }
        // ice-agent's capture: each flight after the one it answers, all within ICE up -> Finished.
        let flights = try #require(agent["flights"] as? [String: Double], "no flights from ice-agent's --pcap\n\(r.stdout)")
        for key in ["hello_to_server_flight", "server_flight_to_ours", "ours_to_finished"] {
            let v = flights[key] ?? -1
            #expect(v > 0 && v < 5000, "\(key) = \(v) ms: \(flights)")
        }
        #expect((flights["check_to_hello"] ?? -1) >= 0, "\(flights)")
        #expect((flights["up_to_finished"] ?? 0) >= (flights["hello_to_finished"] ?? .infinity), "\(flights)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("dtls-vs-chromium: ice-agent ") && $0.contains(" ms, aiortc ") }, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("browser-rtt: median ") }, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("goal: <= 2 RTTs + crypto = ") && $0.hasSuffix(": met") }, "\(r.stdout)")
    }
}
