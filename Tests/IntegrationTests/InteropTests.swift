import Foundation
import TestSupport
import Testing

/// ice-agent against three independent ICE implementations, aioice (Python, PyPI), libnice
/// (C, Debian, through PyGObject) and pion/ice (Go, Debian's sources, built offline by
/// `interop/build_pion.sh` into .build-interop/pion-peer), in both roles. Each pairing runs in a fresh network namespace
/// with only loopback (`interop/run_pair.py`), signals over cross-wired stdio, and streams RTP
/// both ways: camera RTP into our --rtp-in reaches the peer, the peer's RTP leaves our --rtp-out.
/// Needs root (ip netns), iproute2, and what `scripts/install-deps` installs: python3-gi,
/// gir1.2-nice-0.1, libnice10, golang-go, golang-github-pion-ice.v2-dev and aioice for
/// /usr/bin/python3. A missing piece fails the test with
/// the command that installs it.
@Suite(.serialized) struct InteropTests {
    @Test func aioiceAnswersOurCall() throws { try pairing("aioice", "call") }
    @Test func aioiceCallsOurAnswer() throws { try pairing("aioice", "answer") }
    @Test func libniceAnswersOurCall() throws { try pairing("libnice", "call") }
    @Test func libniceCallsOurAnswer() throws { try pairing("libnice", "answer") }
    @Test func pionAnswersOurCall() throws { try pairing("pion", "call") }
    @Test func pionCallsOurAnswer() throws { try pairing("pion", "answer") }

    /// The repository root, from this file's path (Tests/IntegrationTests/InteropTests.swift).
    func pairing(_ impl: String, _ role: String) throws {
        // Debian's python3: it has gi (PyGObject); a pyenv python3 earlier on PATH would not.
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestFailure("\(python) is not installed: run `apt-get install python3` (or scripts/install-deps)")
        }
        _ = try requireTool("ip", install: "apt-get install iproute2")
        let script = repoRoot.appendingPathComponent("interop/run_pair.py").path
        let r = try run(python, [script, impl, role, "--json", "--duration", "5", "--ice-agent", try iceAgentPath()],
                        timeout: impl == "pion" ? 90 : 45)  // pion: a first build takes ~20 s
        let line = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard let data = line.data(using: .utf8),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            Issue.record("no JSON result (exit \(r.status))\n\(r.stdout)\n\(r.stderr)")
            return
        }
        if r.status == 2, let error = json["error"] as? String {
            // A missing dependency or no permission: fail with run_pair's message (install command).
            Issue.record("interop dependency missing: \(error)")
            return
        }
        let context = "\(line)\n\(r.stderr)"
        #expect(r.status == 0, "\(context)")
        #expect(json["ok"] as? Bool == true, "\(context)")
        let ours = json["ours"] as? [String: Any] ?? [:]
        let peer = json["peer"] as? [String: Any] ?? [:]
        #expect(ours["impl"] as? String == "ice-agent")
        #expect(peer["impl"] as? String == impl)
        #expect(ours["role"] as? String == (role == "call" ? "controlling" : "controlled"), "\(context)")
        #expect(ours["connected"] as? Bool == true, "\(context)")
        #expect(ours["completed"] as? Bool == true, "ice-agent never logged `ICE completed`\n\(context)")
        #expect(ours["exit"] as? Int == 0, "\(context)")
        #expect(peer["connected"] as? Bool == true, "\(context)")
        #expect(peer["exit"] as? Int == 0, "\(context)")
        // Connect times exist and stay well under the run (both processes start at once).
        let ourMs = ours["connect_ms"] as? Double ?? -1, peerMs = peer["connect_ms"] as? Double ?? -1
        #expect(ourMs > 0 && ourMs < 3000, "ice-agent connect_ms \(ourMs)\n\(context)")
        #expect(peerMs > 0 && peerMs < 3000, "\(impl) connect_ms \(peerMs)\n\(context)")
        // Media both ways over the selected pair.
        let delivered = ours["rtp_out_received"] as? Int ?? 0, peerSent = peer["sent"] as? Int ?? 0
        let peerReceived = peer["received"] as? Int ?? 0, fed = ours["rtp_fed"] as? Int ?? 0
        #expect(peerReceived > 0, "the peer got no RTP from our --rtp-in\n\(context)")
        #expect(delivered > 0, "our --rtp-out got no RTP from the peer\n\(context)")
        #expect(peerReceived > fed / 2, "fed \(fed), the peer received \(peerReceived)\n\(context)")
        // An RFC 5245 peer nominating aggressively (aioice as controlling) may keep sending on a
        // pair other than the one we selected; RFC 8445 §12.2: accept media on any proven pair.
        #expect(delivered > peerSent / 2, "the peer sent \(peerSent), our --rtp-out got \(delivered)\n\(context)")
    }
}
